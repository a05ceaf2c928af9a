# Path values and relative "subpath" strings (./a/b style).
{ lib }:
let
  b = builtins;
  inherit (lib.asserts) assertMsg;

  # Why a value is not a subpath, or null if it is one.
  subpathProblem =
    v:
    if !b.isString v then
      "The given value is of type ${b.typeOf v}, but a string was expected"
    else if v == "" then
      "The given string is empty"
    else if b.substring 0 1 v == "/" then
      "The given string \"${v}\" starts with a `/`, representing an absolute path"
    else if b.match "(.*/)?\\.\\.(/.*)?" v != null then
      "The given string \"${v}\" contains a `..` component, which is not allowed in subpaths"
    else
      null;
  isSubpath = v: subpathProblem v == null;

  # The components of a valid subpath: no empty or "." components.
  componentsOf = sp: b.filter (c: b.isString c && c != "" && c != ".") (b.split "/" sp);
  fromComponents = cs: "./" + (if cs == [ ] then "." else b.concatStringsSep "/" cs);

  # { root; components; }: the file system root of a path and the names below it.
  deconstruct =
    p:
    let
      up = names: here: if dirOf here == here then { root = here; components = names; } else up ([ (baseNameOf here) ] ++ names) (dirOf here);
    in
    up [ ] p;

  storeComponents = componentsOf ("./" + b.storeDir);

  # A store path is <storeDir>/<32 hash chars>-<name>; the second case is a
  # path relative to the store directory itself.
  componentsInStore =
    cs:
    let
      n = b.length storeComponents;
    in
    (lib.lists.hasPrefix storeComponents cs && storeComponents != cs && b.match ".{32}-.+" (b.elemAt cs n) != null)
    || (cs != [ ] && b.match "[0-9a-z]{52}" (b.head cs) != null);

  sameRoots =
    fn: x: y: dx: dy:
    assertMsg (dx.root == dy.root) ''
      lib.path.${fn}: Filesystem roots must be the same for both paths, but paths with different roots were given:
          first argument: "${toString x}" with root "${toString dx.root}"
          second argument: "${toString y}" with root "${toString dy.root}"'';
in
{
  append =
    p: sp:
    assert assertMsg (b.isPath p) "lib.path.append: The first argument is of type ${b.typeOf p}, but a path was expected";
    assert assertMsg (isSubpath sp) ''
      lib.path.append: Second argument is not a valid subpath string:
          ${subpathProblem sp}'';
    p + ("/" + sp);

  hasPrefix =
    x:
    assert assertMsg (b.isPath x) "lib.path.hasPrefix: First argument is of type ${b.typeOf x}, but a path was expected";
    let
      dx = deconstruct x;
    in
    y:
    assert assertMsg (b.isPath y) "lib.path.hasPrefix: Second argument is of type ${b.typeOf y}, but a path was expected";
    let
      dy = deconstruct y;
    in
    assert sameRoots "hasPrefix" x y dx dy;
    lib.lists.hasPrefix dx.components dy.components;

  removePrefix =
    x:
    assert assertMsg (b.isPath x) "lib.path.removePrefix: First argument is of type ${b.typeOf x}, but a path was expected.";
    let
      dx = deconstruct x;
    in
    y:
    assert assertMsg (b.isPath y) "lib.path.removePrefix: Second argument is of type ${b.typeOf y}, but a path was expected.";
    let
      dy = deconstruct y;
      rest =
        if lib.lists.hasPrefix dx.components dy.components then
          lib.lists.drop (b.length dx.components) dy.components
        else
          throw ''lib.path.removePrefix: The first path argument "${toString x}" is not a component-wise prefix of the second path argument "${toString y}".'';
    in
    assert sameRoots "removePrefix" x y dx dy;
    fromComponents rest;

  splitRoot =
    p:
    assert assertMsg (b.isPath p) "lib.path.splitRoot: Argument is of type ${b.typeOf p}, but a path was expected";
    let
      d = deconstruct p;
    in
    {
      inherit (d) root;
      subpath = fromComponents d.components;
    };

  hasStorePathPrefix =
    p:
    let
      d = deconstruct p;
    in
    assert assertMsg (b.isPath p) "lib.path.hasStorePathPrefix: Argument is of type ${b.typeOf p}, but a path was expected";
    assert assertMsg (d.root == /. && toString d.root == "/")
      "lib.path.hasStorePathPrefix: Argument has a filesystem root (${toString d.root}) that's not /, which is currently not supported.";
    componentsInStore d.components;

  subpath = {
    isValid = isSubpath;

    join =
      sps:
      let
        # Report the first invalid element with its index.
        check =
          i: sp:
          if isSubpath sp then
            i + 1
          else
            throw ''
              lib.path.subpath.join: Element at index ${toString i} is not a valid subpath string:
                  ${subpathProblem sp}'';
      in
      if b.all isSubpath sps then fromComponents (b.concatMap componentsOf sps) else b.foldl' check 0 sps;

    components =
      sp:
      assert assertMsg (isSubpath sp) ''
        lib.path.subpath.components: Argument is not a valid subpath string:
            ${subpathProblem sp}'';
      componentsOf sp;

    normalise =
      sp:
      assert assertMsg (isSubpath sp) ''
        lib.path.subpath.normalise: Argument is not a valid subpath string:
            ${subpathProblem sp}'';
      fromComponents (componentsOf sp);
  };
}

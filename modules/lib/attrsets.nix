# Functions on attribute sets.
{ lib }:
let
  b = builtins;
  inherit (b) attrNames isAttrs length elemAt listToAttrs mapAttrs;
  a = lib.attrsets;
in
{
  inherit (b)
    attrNames
    attrValues
    catAttrs
    getAttr
    hasAttr
    intersectAttrs
    isAttrs
    listToAttrs
    mapAttrs
    removeAttrs
    ;

  # Paths of attribute names.

  attrByPath =
    path: default: set:
    let
      n = length path;
      walk =
        i: v:
        if i == n then
          v
        else
          let
            name = elemAt path i;
          in
          if v ? ${name} then walk (i + 1) v.${name} else default;
    in
    walk 0 set;

  hasAttrByPath =
    path: set:
    let
      n = length path;
      walk = i: v: i == n || (v ? ${elemAt path i} && walk (i + 1) v.${elemAt path i});
    in
    walk 0 set;

  longestValidPathPrefix =
    path: set:
    let
      n = length path;
      walk =
        i: v:
        if i == n then
          path
        else if v ? ${elemAt path i} then
          walk (i + 1) v.${elemAt path i}
        else
          lib.lists.take i path;
    in
    walk 0 set;

  setAttrByPath =
    path: value:
    let
      n = length path;
      build = i: if i == n then value else { ${elemAt path i} = build (i + 1); };
    in
    build 0;

  getAttrFromPath =
    path: set:
    a.attrByPath path (abort ("cannot find attribute '" + b.concatStringsSep "." path + "'")) set;

  # Applies a list of `{ path; update; }` in order; updates sharing a prefix
  # are grouped so that every nested set is rebuilt once.
  updateManyAttrsByPath =
    let
      apply =
        depth: exists: value: updates:
        let
          split = b.partition (u: length u.path == depth) updates;
          here = split.right;
          below = lib.lists.groupBy (u: elemAt u.path depth) split.wrong;
          base =
            if split.wrong == [ ] then
              (
                if exists then
                  value
                else
                  throw (
                    "updateManyAttrsByPath: Path '${a.showAttrPath (b.head here).path}' does "
                    + "not exist in the given value, but the first update to this "
                    + "path tries to access the existing value."
                  )
              )
            else if !exists then
              mapAttrs (_: apply (depth + 1) false null) below
            else if isAttrs value then
              value // mapAttrs (name: apply (depth + 1) (value ? ${name}) value.${name}) below
            else
              let
                p = (b.head split.wrong).path;
              in
              throw (
                "updateManyAttrsByPath: Path '${a.showAttrPath p}' needs to "
                + "be updated, but path '${a.showAttrPath (lib.lists.take depth p)}' "
                + "of the given value is not an attribute set, so we can't "
                + "update an attribute inside of it."
              );
        in
        lib.lists.foldl (v: u: u.update v) base here;
    in
    updates: value: apply 0 true value updates;

  attrVals = names: set: map (n: set.${n}) names;
  getAttrs = names: set: a.genAttrs names (n: set.${n});

  # Filtering, folding and mapping.

  filterAttrs = pred: set: b.removeAttrs set (b.filter (n: !pred n set.${n}) (attrNames set));

  filterAttrsRecursive =
    pred: set:
    listToAttrs (
      b.concatMap (
        n:
        let
          v = set.${n};
        in
        if pred n v then [ (a.nameValuePair n (if isAttrs v then a.filterAttrsRecursive pred v else v)) ] else [ ]
      ) (attrNames set)
    );

  foldlAttrs = f: init: set: lib.lists.foldl' (acc: n: f acc n set.${n}) init (attrNames set);

  foldAttrs =
    op: nul: sets:
    lib.lists.foldr (
      set: acc: lib.lists.foldr (n: acc': acc' // { ${n} = op set.${n} (acc.${n} or nul); }) acc (attrNames set)
    ) { } sets;

  collect =
    pred: v:
    if pred v then
      [ v ]
    else if isAttrs v then
      b.concatMap (a.collect pred) (b.attrValues v)
    else
      [ ];

  cartesianProduct =
    lists:
    lib.lists.foldl' (
      partials: name: b.concatMap (p: map (x: p // { ${name} = x; }) lists.${name}) partials
    ) [ { } ] (attrNames lists);
  mapCartesianProduct = f: lists: map f (a.cartesianProduct lists);

  nameValuePair = name: value: { inherit name value; };

  mapAttrs' = f: set: listToAttrs (a.mapAttrsToList f set);
  mapAttrsToList = f: set: b.attrValues (mapAttrs f set);
  attrsToList = a.mapAttrsToList a.nameValuePair;
  concatMapAttrs = f: set: lib.lists.foldl' (x: y: x // y) { } (b.attrValues (mapAttrs f set));

  mapAttrsRecursive = a.mapAttrsRecursiveCond (_: true);
  mapAttrsRecursiveCond =
    cond: f: set:
    let
      go =
        prefix:
        mapAttrs (
          n: v:
          let
            path = prefix ++ [ n ];
          in
          if isAttrs v && cond v then go path v else f path v
        );
    in
    go [ ] set;

  mapAttrsToListRecursive = a.mapAttrsToListRecursiveCond (_: _: true);
  mapAttrsToListRecursiveCond =
    cond: f: set:
    let
      entry = path: v: if isAttrs v && cond path v then ofSet path v else [ (f path v) ];
      ofSet = prefix: s: b.concatMap (n: entry (prefix ++ [ n ]) s.${n}) (attrNames s);
    in
    ofSet [ ] set;

  genAttrs = names: f: a.genAttrs' names (n: a.nameValuePair n (f n));
  genAttrs' = xs: f: listToAttrs (map f xs);

  optionalAttrs = cond: set: if cond then set else { };

  zipAttrsWithNames =
    names: f: sets:
    listToAttrs (map (n: a.nameValuePair n (f n (b.catAttrs n sets))) names);
  zipAttrsWith = b.zipAttrsWith or (f: sets: a.zipAttrsWithNames (b.concatMap attrNames sets) f sets);
  zipAttrs = a.zipAttrsWith (_: vs: vs);

  # Merges in halves so that long lists do not build long `//` chains.
  mergeAttrsList =
    sets:
    let
      merge =
        lo: hi:
        if hi - lo == 1 then
          elemAt sets lo
        else
          let
            mid = (lo + hi) / 2;
          in
          merge lo mid // merge mid hi;
    in
    if sets == [ ] then { } else merge 0 (length sets);

  # `pred path lhsValue rhsValue` says where to stop descending.
  recursiveUpdateUntil =
    pred: lhs: rhs:
    let
      merge =
        prefix:
        b.zipAttrsWith (
          n: vs:
          let
            path = prefix ++ [ n ];
          in
          # vs is [ rhsValue lhsValue ] when both sides have n.
          if length vs == 1 || pred path (elemAt vs 1) (b.head vs) then b.head vs else merge path vs
        );
    in
    merge [ ] [
      rhs
      lhs
    ];
  recursiveUpdate = lhs: rhs: a.recursiveUpdateUntil (_: l: r: !(isAttrs l && isAttrs r)) lhs rhs;

  matchAttrs =
    pattern: set:
    assert isAttrs pattern;
    b.all (
      n:
      set ? ${n}
      && (
        let
          want = pattern.${n};
          have = set.${n};
        in
        if isAttrs want then isAttrs have && a.matchAttrs want have else want == have
      )
    ) (attrNames pattern);

  overrideExisting = old: new: mapAttrs (n: v: new.${n} or v) old;

  showAttrPath =
    path:
    if path == [ ] then "<root attribute path>" else b.concatStringsSep "." (map lib.strings.escapeNixIdentifier path);

  unionOfDisjoint =
    x: y:
    let
      common = b.intersectAttrs x y;
      names = b.concatStringsSep " " (attrNames common);
    in
    x // y // mapAttrs (n: _: throw "unionOfDisjoint: collision on ${n}; complete list: ${names}") common;

  # Derivations and their outputs.

  isDerivation = v: v.type or null == "derivation";

  toDerivation =
    path:
    let
      storePath = b.storePath path;
      drv = {
        type = "derivation";
        name = lib.strings.sanitizeDerivationName (b.substring 33 (-1) (baseNameOf storePath));
        outPath = storePath;
        outputs = [ "out" ];
        out = drv;
        outputName = "out";
      };
    in
    drv;

  getOutput =
    output: pkg:
    if pkg.outputSpecified or false then pkg else pkg.${output} or pkg.out or pkg;
  getFirstOutput =
    candidates: pkg:
    let
      present = b.filter (n: b.hasAttr n pkg) candidates;
    in
    if pkg.outputSpecified or false || present == [ ] then pkg else pkg.${b.head present};
  getBin = a.getOutput "bin";
  getLib = a.getOutput "lib";
  getDev = a.getOutput "dev";
  getMan = a.getOutput "man";
  getStatic = a.getFirstOutput [ "static" "lib" "out" ];
  getInclude = a.getFirstOutput [ "include" "dev" "out" ];
  chooseDevOutputs = map a.getDev;

  recurseIntoAttrs = set: set // { recurseForDerivations = true; };
  dontRecurseIntoAttrs = set: set // { recurseForDerivations = false; };
}

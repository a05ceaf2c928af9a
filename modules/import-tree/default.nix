# dendrite's model of import-tree (github:vic/import-tree).
#
# This is the value `dendrite check` gives a flake's `import-tree` input when
# that input is not on disk: upstream's flake outputs are the library itself,
# a callable attribute set. The dendritic pattern routes every top-level
# module through it (`mkFlake { ... } (inputs.import-tree ./modules)`), so
# it must select exactly the files upstream selects, in the same order, and
# hand them to the module system as paths (so that positions name real
# files).
#
# Written from import-tree's documented behaviour and tests; the whole public
# API is here: calling with paths (nested lists, path-like attribute sets,
# other import-tree objects, inline modules), `withLib`, `filter`,
# `filterNot`, `match`, `matchNot`, `map`, `addPath`, `addAPI`, `initFilter`,
# `pipeTo`, `leafs`, `files`, `result`, `new`.
#
# Selection rules (as upstream):
# - directories are walked recursively, in `readDir` order;
# - by default a file is kept when its path ends in `.nix` and contains no
#   `/_` (a component starting with `_`); `initFilter` replaces that rule;
# - filters see a path as a string relative to the directory it was found
#   under (with a leading `/`) when it lies under one of the directories
#   given (a string-prefix test, like upstream), otherwise its full string;
# - values that are not path-like (inline modules) pass through, tested only
#   by the user's filters and by `initFilter`, never by the default rule;
# - `map` functions see the original value (a path stays a path).
let
  # Nix 2.8 has no builtins.readFileType; a directory listing of the parent
  # tells the same thing for the paths we ask about.
  fileType =
    builtins.readFileType or (
      p:
      let
        s = toString p;
      in
      if s == "/" then "directory" else (builtins.readDir (dirOf s)).${baseNameOf s}
    );

  hasOutPath = x: builtins.isAttrs x && x ? outPath;

  isPathLike = x: builtins.isPath x || builtins.isString x || hasOutPath x;

  # Upstream recognises its objects by their callable configuration; ours
  # have the same shape, so either kind is accepted in a list of roots.
  isImportTree = x: builtins.isAttrs x && x ? __config.__functor;

  isDirectory =
    x: isPathLike x && fileType (if builtins.isAttrs x then toString x else x) == "directory";

  # A module-system call passes the module arguments, which always include
  # `options`; used as a module, a configured tree imports its own paths.
  isModuleArgs = x: builtins.isAttrs x && x ? options;

  hasSuffix =
    suffix: s:
    let
      ls = builtins.stringLength s;
      lx = builtins.stringLength suffix;
    in
    ls >= lx && builtins.substring (ls - lx) lx s == suffix;

  hasPrefix = prefix: s: builtins.substring 0 (builtins.stringLength prefix) s == prefix;

  removePrefix =
    prefix: s:
    builtins.substring (builtins.stringLength prefix) (builtins.stringLength s) s;

  hasInfix = infix: s: builtins.match ".*${escapeRegex infix}.*" s != null;

  escapeRegex =
    builtins.replaceStrings
      [ "\\" "[" "]" "{" "}" "(" ")" "." "*" "+" "?" "^" "$" "|" ]
      [ "\\\\" "\\[" "\\]" "\\{" "\\}" "\\(" "\\)" "\\." "\\*" "\\+" "\\?" "\\^" "\\$" "\\|" ];

  flatten = x: if builtins.isList x then builtins.concatMap flatten x else [ x ];

  # Files under a directory, depth first in name order; a path stays a path
  # and a string stays a string, as the entries are appended to it.
  walk =
    dir:
    builtins.concatLists (
      builtins.attrValues (
        builtins.mapAttrs (
          name: type: if type == "directory" then walk (dir + "/${name}") else [ (dir + "/${name}") ]
        ) (builtins.readDir dir)
      )
    );

  defaultRule = s: hasSuffix ".nix" s && !(hasInfix "/_" s);

  # The files (and pass-through values) of a configuration, before `map`.
  select =
    state: lib: roots:
    let
      candidates =
        x:
        if isImportTree x then
          (x.withLib lib).files
        else if hasOutPath x then
          candidates x.outPath
        else if isDirectory x then
          walk x
        else
          [ x ];

      rootDirs = map toString (builtins.filter isDirectory roots);

      # The string a path filter sees: relative to the first directory root
      # that is a string prefix of it, else the whole path.
      relative =
        x:
        let
          s = toString x;
          under = builtins.filter (r: hasPrefix r s) rootDirs;
        in
        if under == [ ] then s else removePrefix (builtins.head under) s;

      keep =
        x:
        if isPathLike x then
          let
            s = relative x;
          in
          (if state.initf != null then state.initf s else defaultRule s) && state.filterf s
        else
          (if state.initf != null then state.initf x else true) && state.filterf x;
    in
    builtins.filter keep (builtins.concatMap candidates roots);

  # Runs a configuration on the extra roots given when calling it.
  run =
    state: arg:
    let
      roots = flatten [
        state.paths
        arg
      ];
      leafs = lib: map state.mapf (select state lib roots);
    in
    if state.pipef == null then
      # Deferring the walk until the module system supplies `lib` lets a
      # tree be used before `withLib`.
      { imports = [ ({ lib, ... }: { imports = leafs lib; }) ]; }
    else if state.lib == null then
      throw "You need to call withLib before trying to read the tree."
    else
      state.pipef (leafs state.lib);

  initial = {
    lib = null;
    pipef = null;
    initf = null;
    filterf = _: true;
    mapf = x: x;
    paths = [ ];
    api = { };
  };

  # An import-tree object for a configuration. Every method returns a new
  # object; `addAPI` functions are bound to the final object, so an
  # extension can use methods added after it.
  make =
    state:
    let
      self =
        builtins.mapAttrs (_: f: f self) state.api
        // {
          # Same shape as upstream's: a callable configuration, here taking
          # an update function to a new object.
          __config = state // {
            __functor = cfg: update: make (update (removeAttrs cfg [ "__functor" ]));
          };
          __functor = this: arg: run state (if isModuleArgs arg then [ ] else arg);

          filter = f: with' { filterf = x: state.filterf x && f x; };
          filterNot = f: with' { filterf = x: state.filterf x && !(f x); };
          match = re: with' { filterf = x: state.filterf x && builtins.match re x != null; };
          matchNot = re: with' { filterf = x: state.filterf x && builtins.match re x == null; };
          map = f: with' { mapf = x: f (state.mapf x); };
          addPath = p: with' { paths = state.paths ++ [ p ]; };
          addAPI = api: with' { api = state.api // api; };

          withLib = lib: with' { inherit lib; };
          initFilter = initf: with' { inherit initf; };
          pipeTo = pipef: with' { inherit pipef; };
          leafs = with' { pipef = x: x; };

          result = self [ ];
          files = self.leafs.result;
          new = make initial;
        };
      with' = changes: make (state // changes);
    in
    self;
in
make initial

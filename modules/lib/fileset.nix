# File sets: selections of files below a directory, combined with set
# operations and imported into the store with `toSource`.
#
# A file set is a base directory and a tree describing what is selected
# below it. A tree is
#   null          nothing,
#   "directory"   everything below,
#   a file type   ("regular", "symlink", "unknown") for a single file,
#   an attrset    for a directory where only the named entries (each a tree)
#                 may be selected.
# The base matters beyond the selected files: `toSource` requires it to be
# under its `root`.
{ lib }:
let
  b = builtins;
  inherit (b) isAttrs isPath isString readDir typeOf length;
  inherit (lib.lists) take drop;
  inherit (lib.strings) isStringLike;

  noEvalMessage = ''
    lib.fileset: Directly evaluating a file set is not supported.
      To turn it into a usable source, use `lib.fileset.toSource`.
      To pretty-print the contents, use `lib.fileset.trace` or `lib.fileset.traceVal`.'';

  # The file set with nothing in it and no base.
  empty = {
    _type = "fileset";
    _dendriteEmpty = true;
    _noEval = throw noEvalMessage;
  };

  make =
    base: tree:
    let
      split = lib.path.splitRoot base;
    in
    {
      _type = "fileset";
      _dendriteEmpty = false;
      _dendriteBase = base;
      _dendriteRoot = split.root;
      _dendriteParts = lib.path.subpath.components split.subpath;
      _dendriteTree = tree;
      _noEval = throw noEvalMessage;
    };

  pathFromParts = root: parts: lib.path.append root (lib.path.subpath.join parts);

  # A path that exists, as a file set.
  ofPath =
    p:
    let
      type = lib.filesystem.pathType p;
    in
    if type == "directory" then make p type else make (dirOf p) { ${baseNameOf p} = type; };

  # { ok; value; } or { ok = false; message; }.
  tryCoerce =
    what: v:
    if v._type or "" == "fileset" then
      {
        ok = true;
        value = v;
      }
    else if !isPath v then
      {
        ok = false;
        message =
          if v ? _isLibCleanSourceWith then
            ''
              ${what} is a `lib.sources`-based value, but it should be a file set or a path instead.
                  To convert a `lib.sources`-based value to a file set you can use `lib.fileset.fromSource`.
                  Note that this only works for sources created from paths.''
          else if isStringLike v then
            ''
              ${what} ("${toString v}") is a string-like value, but it should be a file set or a path instead.
                  Paths represented as strings are not supported by `lib.fileset`, use `lib.sources` or derivations instead.''
          else
            "${what} is of type ${typeOf v}, but it should be a file set or a path instead.";
      }
    else if !b.pathExists v then
      {
        ok = false;
        message = ''
          ${what} (${toString v}) is a path that does not exist.
              To create a file set from a path that may not exist, use `lib.fileset.maybeMissing`.'';
      }
    else
      {
        ok = true;
        value = ofPath v;
      };

  coerce =
    what: v:
    let
      r = tryCoerce what v;
    in
    if r.ok then r.value else throw r.message;

  # Coerces { context; value; } items, which must share a filesystem root.
  coerceAll =
    fn: items:
    let
      sets = map (i: coerce "${fn}: ${i.context}" i.value) items;
      based = b.filter (s: !s._dendriteEmpty) sets;
      root = (b.head based)._dendriteRoot;
      clash = lib.lists.findFirstIndex (s: !s._dendriteEmpty && s._dendriteRoot != root) null sets;
    in
    if based != [ ] && clash != null then
      throw ''
        ${fn}: Filesystem roots are not the same:
            ${(b.head items).context}: Filesystem root is "${toString root}"
            ${(b.elemAt items clash).context}: Filesystem root is "${toString (b.elemAt sets clash)._dendriteRoot}"
            Different filesystem roots are not supported.''
    else
      sets;

  # The tree of `set` seen from the higher base `parts` (a prefix of its own).
  raise =
    parts: set:
    lib.lists.foldr (name: tree: { ${name} = tree; }) set._dendriteTree (drop (length parts) set._dendriteParts);

  # The tree of `set` seen from the lower base `parts` (its own base is a prefix).
  lower =
    parts: set:
    b.foldl' (tree: name: if isAttrs tree then tree.${name} or null else tree) set._dendriteTree (
      drop (length set._dendriteParts) parts
    );

  # The entries of a directory tree, unselected ones as null.
  entries =
    dir: tree: if tree == "directory" then readDir dir else b.mapAttrs (_: _: null) (readDir dir) // tree;

  unionTrees =
    trees:
    let
      whole = lib.lists.findFirst isString null trees;
      some = b.filter (t: t != null) trees;
    in
    if whole != null then
      whole
    else if some == [ ] then
      null
    else
      b.zipAttrsWith (_: unionTrees) some;

  unionAll =
    sets:
    let
      based = b.filter (s: !s._dendriteEmpty) sets;
      first = b.head based;
      parts = b.foldl' (p: s: lib.lists.commonPrefix p s._dendriteParts) first._dendriteParts (b.tail based);
    in
    if based == [ ] then empty else make (pathFromParts first._dendriteRoot parts) (unionTrees (map (raise parts) based));

  intersectTrees =
    x: y:
    if isAttrs x && isAttrs y then
      b.mapAttrs (n: _: intersectTrees x.${n} y.${n}) (b.intersectAttrs x y)
    else if x == null || isString y then
      x
    else
      y;

  differenceTree =
    dir: keep: drop':
    if keep == null || isString drop' then
      null
    else if drop' == null then
      keep
    else
      b.mapAttrs (n: t: differenceTree (dir + "/${n}") t (drop'.${n} or null)) (entries dir keep);

  # Selected directories without any selected file drop out; directories
  # selected completely become "directory".
  pruneTree =
    dir: tree:
    if tree == "directory" || isAttrs tree then
      let
        children = b.mapAttrs (n: pruneTree (dir + "/${n}")) (entries dir tree);
        values = b.attrValues children;
      in
      if b.all (v: v == null) values then
        null
      else if b.all isString values then
        "directory"
      else
        children
    else
      tree;

  # The `builtins.path` filter selecting the files of `set`.
  sourceFilter =
    set:
    let
      tree = pruneTree set._dendriteBase set._dendriteTree;
      baseString = "/" + lib.strings.concatMapStrings (p: p + "/") set._dendriteParts;
      baseLength = b.stringLength baseString;
      selected =
        names: t:
        if names == [ ] || !isAttrs t then
          (isAttrs t || t != null)
        else
          selected (b.tail names) t.${b.head names};
      filter =
        p: type:
        let
          below = b.substring 0 baseLength (p + "/") == baseString;
          above = lib.strings.hasPrefix (p + "/") baseString;
        in
        (above || (below && selected (lib.strings.splitString "/" (b.substring baseLength (-1) p)) tree))
        && (
          type != "unknown"
          || throw ''
            lib.fileset.toSource: `fileset` contains a file that cannot be added to the store: ${p}
                This file is neither a regular file nor a symlink, the only file types supported by the Nix store.
                Therefore the file set cannot be added to the Nix store as is. Make sure to not include that file to avoid this error.''
        );
    in
    if set._dendriteEmpty || tree == null then (_: _: false) else filter;

  filesOf =
    p: tree:
    if isAttrs tree then
      b.concatLists (lib.attrsets.mapAttrsToList (n: filesOf (p + "/${n}")) tree)
    else if tree == "directory" then
      filesOf p (readDir p)
    else if tree == null then
      [ ]
    else
      [ p ];

  # Lines describing a set for `trace`.
  describe =
    set:
    let
      tree = if set._dendriteEmpty then null else pruneTree set._dendriteBase set._dendriteTree;
      suffix =
        t:
        if isAttrs t then
          ""
        else if t == "directory" then
          " (all files in directory)"
        else
          " (${t})";
      lines =
        indent: t:
        b.concatLists (
          lib.attrsets.mapAttrsToList (
            n: sub: if sub == null then [ ] else [ "${indent}- ${n}${suffix sub}" ] ++ (if isAttrs sub then lines "${indent}  " sub else [ ])
          ) t
        );
    in
    if tree == null then [ "(empty)" ] else [ "${toString set._dendriteBase}${suffix tree}" ] ++ (if isAttrs tree then lines "" tree else [ ]);
  printed = set: b.foldl' (acc: line: b.trace line acc) null (describe set);

  fromGit =
    fn: what: p: extra:
    if !isPath p then
      throw "lib.fileset.${fn}: Expected the ${what} to be a path, but it's a ${typeOf p} instead."
    else if lib.filesystem.pathType p != "directory" then
      throw "lib.fileset.${fn}: Expected the ${what} (${toString p}) to be a directory, but it's a file instead."
    else if lib.path.hasStorePathPrefix p then
      (
        if b.pathExists (p + "/.git") then
          throw ''
            lib.fileset.${fn}: The ${what} (${toString p}) is a store path within a working tree of a Git repository.
                This indicates that a source directory was imported into the store using a method such as `import "''${./.}"` or `path:.`.
                This function currently does not support such a use case, since it currently relies on `builtins.fetchGit`.
                You could make this work by using a fetcher such as `fetchGit` instead of copying the whole repository.
                If you can't avoid copying the repo to the store, see https://github.com/NixOS/nix/issues/9292.''
        else
          ofPath p
      )
    else if !b.pathExists (p + "/.git") then
      throw "lib.fileset.${fn}: Expected the ${what} (${toString p}) to point to a local working tree of a Git repository, but it's not."
    else
      let
        fetched = (b.fetchGit ({ url = p; shallow = true; } // extra)).outPath;
        # The tracked files, laid over the working tree.
        mirror = dir: b.mapAttrs (n: type: if type == "directory" then mirror (dir + "/${n}") else type) (readDir dir);
      in
      make p (mirror fetched);
in
{
  inherit empty;

  isFileset = v: (tryCoerce "" v).ok;

  maybeMissing =
    p:
    if !isPath p then
      (
        if isStringLike p then
          throw ''lib.fileset.maybeMissing: Argument ("${toString p}") is a string-like value, but it should be a path instead.''
        else
          throw "lib.fileset.maybeMissing: Argument is of type ${typeOf p}, but it should be a path instead."
      )
    else if b.pathExists p then
      ofPath p
    else
      empty;

  union =
    x: y:
    unionAll (
      coerceAll "lib.fileset.union" [
        {
          context = "First argument";
          value = x;
        }
        {
          context = "Second argument";
          value = y;
        }
      ]
    );

  unions =
    sets:
    if !b.isList sets then
      throw "lib.fileset.unions: Argument is of type ${typeOf sets}, but it should be a list instead."
    else
      unionAll (
        coerceAll "lib.fileset.unions" (
          lib.lists.imap0 (i: v: {
            context = "Element ${toString i}";
            value = v;
          }) sets
        )
      );

  intersection =
    x: y:
    let
      sets = coerceAll "lib.fileset.intersection" [
        {
          context = "First argument";
          value = x;
        }
        {
          context = "Second argument";
          value = y;
        }
      ];
      l = b.elemAt sets 0;
      r = b.elemAt sets 1;
      shared = length (lib.lists.commonPrefix l._dendriteParts r._dendriteParts);
      # The set whose base is below (or equal to) the other's.
      deeper =
        if shared == length l._dendriteParts then
          r
        else if shared == length r._dendriteParts then
          l
        else
          null;
    in
    if l._dendriteEmpty || r._dendriteEmpty || deeper == null then
      empty
    else
      make deeper._dendriteBase (intersectTrees (lower deeper._dendriteParts l) (lower deeper._dendriteParts r));

  difference =
    positive: negative:
    let
      sets = coerceAll "lib.fileset.difference" [
        {
          context = "First argument (positive set)";
          value = positive;
        }
        {
          context = "Second argument (negative set)";
          value = negative;
        }
      ];
      pos = b.elemAt sets 0;
      neg = b.elemAt sets 1;
      shared = length (lib.lists.commonPrefix pos._dendriteParts neg._dendriteParts);
      negTree =
        if shared == length pos._dendriteParts then
          raise pos._dendriteParts neg
        else if shared == length neg._dendriteParts then
          lower pos._dendriteParts neg
        else
          null;
    in
    if pos._dendriteEmpty then
      empty
    else if neg._dendriteEmpty then
      pos
    else
      make pos._dendriteBase (differenceTree pos._dendriteBase pos._dendriteTree negTree);

  fileFilter =
    pred: p:
    let
      keep =
        name: type:
        if
          pred {
            inherit name type;
            hasExt = ext: lib.strings.hasSuffix ".${ext}" name;
            # Makes predicates written as `{ name, type, hasExt }:` fail now,
            # before new attributes are added.
            "lib.fileset.fileFilter: The predicate function passed as the first argument must be able to handle extra attributes for future compatibility. If you're using `{ name, file, hasExt }:`, use `{ name, file, hasExt, ... }:` instead." =
              null;
          }
        then
          type
        else
          null;
      walk = dir: b.mapAttrs (n: type: if type == "directory" then walk (dir + "/${n}") else keep n type) (readDir dir);
      type = lib.filesystem.pathType p;
    in
    if !lib.trivial.isFunction pred then
      throw "lib.fileset.fileFilter: First argument is of type ${typeOf pred}, but it should be a function instead."
    else if !isPath p then
      (
        if p._type or "" == "fileset" then
          throw ''
            lib.fileset.fileFilter: Second argument is a file set, but it should be a path instead.
                If you need to filter files in a file set, use `intersection fileset (fileFilter pred ./.)` instead.''
        else
          throw "lib.fileset.fileFilter: Second argument is of type ${typeOf p}, but it should be a path instead."
      )
    else if !b.pathExists p then
      throw "lib.fileset.fileFilter: Second argument (${toString p}) is a path that does not exist."
    else if type == "directory" then
      make p (walk p)
    else
      make (dirOf p) { ${baseNameOf p} = keep (baseNameOf p) type; };

  fromSource =
    source:
    let
      filtered = source ? _isLibCleanSourceWith;
      p = if filtered then source.origSrc else source;
      type = lib.filesystem.pathType p;
      # The filter sees paths as strings.
      walk =
        dir: str:
        b.mapAttrs (
          n: t:
          let
            sub = "${str}/${n}";
          in
          if !source.filter sub t then
            null
          else if t == "directory" then
            walk (dir + "/${n}") sub
          else
            t
        ) (readDir dir);
    in
    if !isPath p then
      (
        if isStringLike p then
          throw ''
            lib.fileset.fromSource: The source origin of the argument is a string-like value ("${toString p}"), but it should be a path instead.
                Sources created from paths in strings cannot be turned into file sets, use `lib.sources` or derivations instead.''
        else
          throw "lib.fileset.fromSource: The source origin of the argument is of type ${typeOf p}, but it should be a path instead."
      )
    else if !b.pathExists p then
      throw "lib.fileset.fromSource: The source origin (${toString p}) of the argument is a path that does not exist."
    else if !filtered then
      ofPath p
    else if type == "directory" then
      make p (walk p ("/" + b.concatStringsSep "/" (lib.path.subpath.components (lib.path.splitRoot p).subpath)))
    else
      make (dirOf p) { ${baseNameOf p} = type; };

  toSource =
    { root, fileset }:
    let
      set = coerce "lib.fileset.toSource: `fileset`" fileset;
      filter = sourceFilter set;
      rootRoot = (lib.path.splitRoot root).root;
    in
    if !isPath root then
      (
        if root ? _isLibCleanSourceWith then
          throw ''
            lib.fileset.toSource: `root` is a `lib.sources`-based value, but it should be a path instead.
                To use a `lib.sources`-based value, convert it to a file set using `lib.fileset.fromSource` and pass it as `fileset`.
                Note that this only works for sources created from paths.''
        else if isStringLike root then
          throw ''
            lib.fileset.toSource: `root` (${toString root}) is a string-like value, but it should be a path instead.
                Paths in strings are not supported by `lib.fileset`, use `lib.sources` or derivations instead.''
        else
          throw "lib.fileset.toSource: `root` is of type ${typeOf root}, but it should be a path instead."
      )
    else if !set._dendriteEmpty && rootRoot != set._dendriteRoot then
      throw ''
        lib.fileset.toSource: Filesystem roots are not the same for `fileset` and `root` (${toString root}):
            `root`: Filesystem root is "${toString rootRoot}"
            `fileset`: Filesystem root is "${toString set._dendriteRoot}"
            Different filesystem roots are not supported.''
    else if !b.pathExists root then
      throw "lib.fileset.toSource: `root` (${toString root}) is a path that does not exist."
    else if lib.filesystem.pathType root != "directory" then
      throw ''
        lib.fileset.toSource: `root` (${toString root}) is a file, but it should be a directory instead. Potential solutions:
            - If you want to import the file into the store _without_ a containing directory, use string interpolation or `builtins.path` instead of this function.
            - If you want to import the file into the store _with_ a containing directory, set `root` to the containing directory, such as ${toString (dirOf root)}, and set `fileset` to the file path.''
    else if !set._dendriteEmpty && !lib.path.hasPrefix root set._dendriteBase then
      throw ''
        lib.fileset.toSource: `fileset` could contain files in ${toString set._dendriteBase}, which is not under the `root` (${toString root}). Potential solutions:
            - Set `root` to ${toString set._dendriteBase} or any directory higher up. This changes the layout of the resulting store path.
            - Set `fileset` to a file set that cannot contain files outside the `root` (${toString root}). This could change the files included in the result.''
    else
      b.seq filter (
        lib.sources.cleanSourceWith {
          name = "source";
          src = root;
          inherit filter;
        }
      );

  toList =
    fileset:
    let
      set = coerce "lib.fileset.toList: Argument" fileset;
    in
    if set._dendriteEmpty then [ ] else filesOf set._dendriteBase set._dendriteTree;

  trace = fileset: b.seq (printed (coerce "lib.fileset.trace: Argument" fileset)) (x: x);
  traceVal =
    fileset:
    let
      set = coerce "lib.fileset.traceVal: Argument" fileset;
    in
    b.seq (printed set) set;

  gitTracked = p: fromGit "gitTracked" "argument" p { };
  gitTrackedWith =
    {
      recurseSubmodules ? false,
    }:
    p:
    if !b.isBool recurseSubmodules then
      throw "lib.fileset.gitTrackedWith: Expected the attribute `recurseSubmodules` of the first argument to be a boolean, but it's a ${typeOf recurseSubmodules} instead."
    else
      fromGit "gitTrackedWith" "second argument" p { submodules = recurseSubmodules; };
}

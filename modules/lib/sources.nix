# Filtered copies of source trees (`builtins.path` with a filter), as values
# that remember their origin so filters can be stacked.
{ lib }:
let
  b = builtins;
  src = lib.sources;
  inherit (lib.strings) hasPrefix hasSuffix;

  # { origSrc; filter; name; } of a path or of an earlier cleanSourceWith.
  describe =
    s:
    if s ? _isLibCleanSourceWith then
      { inherit (s) origSrc filter name; }
    else
      {
        origSrc = s;
        filter = _: _: true;
        name = "source";
      };

  build =
    { origSrc, filter, name }:
    {
      _isLibCleanSourceWith = true;
      inherit origSrc filter name;
      outPath = b.path {
        inherit filter name;
        path = origSrc;
      };
    };

  versionControlDirs = [ ".svn" "CVS" ".hg" ".jj" ".pijul" "_darcs" ];

  # The commit of `file` (a ref such as HEAD) in the git directory `gitDir`,
  # as { value; } or { error; }.
  readRef =
    file: gitDir:
    let
      inGitDir = gitDir + "/${file}";
      packed = gitDir + "/packed-refs";
      absolute =
        base: p:
        if hasPrefix "/" p then
          p
        else if hasPrefix "/" base then
          "${base}/${p}"
        else
          "/${base}/${p}";
    in
    # A worktree or submodule: `.git` is a file pointing at the real directory.
    if lib.filesystem.pathIsRegularFile gitDir then
      let
        target = b.match "^gitdir: (.*)$" (lib.strings.fileContents gitDir);
      in
      if target == null then
        { error = "File contains no gitdir reference: " + gitDir; }
      else
        let
          realDir = absolute (dirOf gitDir) (b.head target);
          common' =
            if lib.filesystem.pathIsRegularFile "${realDir}/commondir" then
              lib.strings.fileContents "${realDir}/commondir"
            else
              realDir;
          common = absolute realDir (lib.strings.removeSuffix "/" common');
        in
        readRef (lib.strings.removePrefix "${common}/" "${realDir}/${file}") common
    else if lib.filesystem.pathIsRegularFile inGitDir then
      let
        content = lib.strings.fileContents inGitDir;
        symbolic = b.match "^ref: (.*)$" content;
      in
      if symbolic == null then { value = content; } else readRef (b.head symbolic) gitDir
    else if lib.filesystem.pathIsRegularFile packed then
      let
        refLine = b.match "([a-z0-9]+) ${file}";
        hits = b.filter (l: b.isString l && refLine l != null) (b.split "\n" (b.readFile packed));
      in
      if hits == [ ] then
        { error = "Could not find " + file + " in " + packed; }
      else
        { value = b.head (refLine (b.head hits)); }
    else
      { error = "Not a .git directory: " + toString gitDir; };
in
{
  inherit (b) filterSource;

  # Drops version control directories, editor backups, object files,
  # `result*` symlinks and special files.
  cleanSourceFilter =
    name: type:
    let
      base = baseNameOf name;
    in
    !(
      base == ".git"
      || (type == "directory" && b.elem base versionControlDirs)
      || hasSuffix "~" base
      || b.match "^\\.sw[a-z]$" base != null
      || b.match "^\\..*\\.sw[a-z]$" base != null
      || hasSuffix ".o" base
      || hasSuffix ".so" base
      || (type == "symlink" && hasPrefix "result" base)
      || type == "unknown"
    );

  cleanSource =
    s:
    src.cleanSourceWith {
      filter = src.cleanSourceFilter;
      src = s;
    };

  cleanSourceWith =
    {
      src,
      filter ? _: _: true,
      name ? null,
    }:
    let
      before = describe src;
    in
    build {
      inherit (before) origSrc;
      filter = p: t: filter p t && before.filter p t;
      name = if name == null then before.name else name;
    };

  trace =
    s:
    let
      d = describe s;
    in
    build (
      d
      // {
        filter =
          p: t:
          let
            keep = d.filter p t;
          in
          b.trace "${d.name}.filter ${p} = ${lib.trivial.boolToString keep}" keep;
      }
    )
    // {
      satisfiesSubpathInvariant = s ? satisfiesSubpathInvariant && s.satisfiesSubpathInvariant;
    };

  sourceByRegex =
    s: regexes:
    let
      origin = if s ? _isLibCleanSourceWith then s.origSrc else s;
    in
    src.cleanSourceWith {
      src = s;
      filter =
        p: _:
        let
          rel = lib.strings.removePrefix (toString origin + "/") (toString p);
        in
        b.any (re: b.match re rel != null) regexes;
    };

  sourceFilesBySuffices =
    s: suffixes:
    src.cleanSourceWith {
      src = s;
      filter = p: t: t == "directory" || b.any (sfx: hasSuffix sfx (baseNameOf p)) suffixes;
    };

  pathIsGitRepo = p: readRef "HEAD" p ? value;
  commitIdFromGitRepo =
    p:
    let
      r = readRef "HEAD" p;
    in
    r.value or (throw r.error);

  pathHasContext = b.hasContext or (hasPrefix b.storeDir);
  canCleanSource = s: s ? _isLibCleanSourceWith || !(src.pathHasContext (toString s));

  # Names for fetched sources.

  urlToName =
    url:
    let
      base = baseNameOf (lib.strings.removeSuffix "/" (lib.lists.last (lib.strings.splitString ":" (toString url))));
      dropExtension =
        name:
        let
          m = b.match "(.*)\\.(git|tar|zip|gz|tgz|bz|tbz|bz2|tbz2|lzma|txz|xz|zstd)$" name;
        in
        if m == null then name else b.head m;
      # Strip extensions until none is left ("x.tar.gz" -> "x").
      repeat =
        name:
        let
          shorter = dropExtension name;
        in
        if b.stringLength shorter < b.stringLength name then repeat shorter else name;
    in
    repeat base;
  shortRev =
    rev:
    let
      base = baseNameOf (toString rev);
      version = b.match "([A-Za-z]+[-_. ]?)*(v)?([0-9.]+.*)" base;
    in
    if b.match "[a-f0-9]+" base != null then
      b.substring 0 7 base
    else if version != null then
      lib.lists.last version
    else
      base;
  revOrTag =
    rev: tag:
    if tag != null then
      tag
    else if rev != null then
      rev
    else
      "HEAD";
  repoRevToName =
    kind:
    let
      full =
        repo: rev: suffix:
        "${src.urlToName repo}${if rev == null then "" else "-${src.shortRev rev}"}${
          if suffix == null then "" else "-${suffix}"
        }-source";
    in
    if kind == "source" then
      (_: _: _: "source")
    else if kind == "versioned" then
      (repo: rev: _: full repo rev null)
    else if kind == "full" then
      full
    else
      throw "repoRevToName: invalid kind";
}

# Functions on strings.
{ lib }:
let
  b = builtins;
  inherit (b) stringLength substring concatStringsSep isString isPath match elemAt length;
  s = lib.strings;

  # The characters `charToInt` knows: tab, newline, carriage return and the
  # printable ASCII range starting at space (32).
  printable = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
  asciiCodes =
    b.listToAttrs (b.genList (i: { name = substring i 1 printable; value = i + 32; }) (stringLength printable))
    // {
      "\t" = 9;
      "\n" = 10;
      "\r" = 13;
    };

  # The argument-is-a-path deprecation warning shared by the prefix/suffix functions.
  pathWarning =
    fn: arg: consequence:
    lib.trivial.warnIf (isPath arg) (
      ''
        lib.strings.${fn}: The first argument (${toString arg}) is a path value, but only strings are supported.
            There is almost certainly a bug in the calling code, since this function ${consequence} in such a case.
            This function also copies the path to the Nix store, which may not be what you want.
            This behavior is deprecated and will throw an error in the future.''
      + lib.strings.optionalString (fn == "hasPrefix") "\n    You might want to use `lib.path.hasPrefix` instead, which correctly supports paths."
    );

  whitespace = [ " " "\t" "\r" "\n" ];

  # Index of the first position from `i` on (moving by `step`) whose
  # character is not whitespace; stops at `stop`.
  skipWhitespace =
    str: step: stop: i:
    if i == stop || !(b.elem (substring i 1 str) whitespace) then i else skipWhitespace str step stop (i + step);

  # The row-by-row edit distance table; only the last row is kept.
  editDistance =
    x: y:
    let
      ly = stringLength y;
      firstRow = b.genList (j: j) (ly + 1);
      nextRow =
        row: i:
        let
          cx = substring (i - 1) 1 x;
          cell =
            j:
            if j == 0 then
              i
            else
              lib.trivial.min (lib.trivial.min (elemAt row j + 1) (elemAt next (j - 1) + 1)) (
                elemAt row (j - 1) + (if cx == substring (j - 1) 1 y then 0 else 1)
              );
          next = b.genList cell (ly + 1);
        in
        b.deepSeq next next;
    in
    elemAt (b.foldl' nextRow firstRow (b.genList (i: i + 1) (stringLength x))) ly;
in
{
  inherit (b)
    appendContext
    compareVersions
    elem
    elemAt
    filter
    fromJSON
    genList
    head
    isAttrs
    isInt
    isList
    isPath
    isString
    match
    parseDrvName
    readFile
    replaceStrings
    split
    storeDir
    stringLength
    substring
    tail
    toJSON
    typeOf
    unsafeDiscardStringContext
    ;

  # Concatenation.

  join = concatStringsSep;
  concatStringsSep = concatStringsSep;
  concatStrings = concatStringsSep "";
  concatMapStrings = f: list: concatStringsSep "" (map f list);
  concatImapStrings = f: list: concatStringsSep "" (lib.lists.imap1 f list);
  concatMapStringsSep =
    sep: f: list:
    concatStringsSep sep (map f list);
  concatImapStringsSep =
    sep: f: list:
    concatStringsSep sep (lib.lists.imap1 f list);
  concatMapAttrsStringSep =
    sep: f: set:
    concatStringsSep sep (b.attrValues (b.mapAttrs f set));
  concatLines = lines: if lines == [ ] then "" else concatStringsSep "\n" lines + "\n";

  intersperse =
    sep: list:
    let
      n = length list;
    in
    if n < 2 then list else b.genList (i: if i / 2 * 2 == i then elemAt list (i / 2) else sep) (2 * n - 1);

  replaceString = from: to: b.replaceStrings [ from ] [ to ];
  replicate = n: str: concatStringsSep "" (lib.lists.replicate n str);

  optionalString = cond: str: if cond then str else "";

  # Whitespace.

  trim = s.trimWith {
    start = true;
    end = true;
  };
  trimWith =
    {
      start ? false,
      end ? false,
    }:
    str:
    let
      n = stringLength str;
      from = if start then skipWhitespace str 1 n 0 else 0;
      # One past the last kept character.
      to = if end then 1 + skipWhitespace str (-1) (from - 1) (n - 1) else n;
    in
    substring from (to - from) str;

  normalizePath =
    str:
    lib.trivial.warnIf (isPath str) ''
      lib.strings.normalizePath: The argument (${toString str}) is a path value, but only strings are supported.
          Path values are always normalised in Nix, so there's no need to call this function on them.
          This function also copies the path to the Nix store and returns the store path, the same as "''${path}" will, which may not be what you want.
          This behavior is deprecated and will throw an error in the future.''
      (concatStringsSep "/" (b.filter isString (b.split "/+" "${str}")));

  # Search paths.

  makeSearchPath =
    subDir: paths: concatStringsSep ":" (map (p: p + "/" + subDir) (b.filter (p: p != null) paths));
  makeSearchPathOutput =
    output: subDir: pkgs:
    s.makeSearchPath subDir (map (lib.attrsets.getOutput output) pkgs);
  makeLibraryPath = s.makeSearchPathOutput "lib" "lib";
  makeIncludePath = s.makeSearchPathOutput "dev" "include";
  makeBinPath = s.makeSearchPathOutput "bin" "bin";

  # Prefixes, suffixes, infixes.

  hasPrefix =
    prefix: str:
    pathWarning "hasPrefix" prefix "always returns `false`" (substring 0 (stringLength prefix) str == prefix);
  hasSuffix =
    suffix: str:
    let
      n = stringLength str;
      m = stringLength suffix;
    in
    pathWarning "hasSuffix" suffix "always returns `false`" (n >= m && substring (n - m) n str == suffix);
  hasInfix =
    infix: str:
    pathWarning "hasInfix" infix "always returns `false`" (match ".*${s.escapeRegex infix}.*" "${str}" != null);
  removePrefix =
    prefix: str:
    let
      m = stringLength prefix;
    in
    pathWarning "removePrefix" prefix "never removes any prefix" (
      if substring 0 m str == prefix then substring m (-1) str else str
    );
  removeSuffix =
    suffix: str:
    let
      m = stringLength suffix;
      n = stringLength str;
    in
    pathWarning "removeSuffix" suffix "never removes any suffix" (
      if m <= n && substring (n - m) m str == suffix then substring 0 (n - m) str else str
    );

  # Characters.

  stringToCharacters = str: b.genList (i: substring i 1 str) (stringLength str);
  stringAsChars = f: str: concatStringsSep "" (map f (s.stringToCharacters str));
  charToInt = c: b.getAttr c asciiCodes;
  lowerChars = s.stringToCharacters "abcdefghijklmnopqrstuvwxyz";
  upperChars = s.stringToCharacters "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  toLower = b.replaceStrings s.upperChars s.lowerChars;
  toUpper = b.replaceStrings s.lowerChars s.upperChars;

  toSentenceCase =
    str:
    lib.trivial.throwIfNot (isString str) "toSentenceCase does only accepts string values, but got ${b.typeOf str}" (
      s.addContextFrom str (s.toUpper (substring 0 1 str) + s.toLower (substring 1 (stringLength str) str))
    );

  toCamelCase =
    str:
    lib.trivial.throwIfNot (isString str) "toCamelCase does only accepts string values, but got ${b.typeOf str}" (
      let
        words = s.splitStringBy (_: c: b.elem c [ "-" "_" " " ]) false str;
        # Also split "fooBar" before the capital.
        parts = lib.lists.concatMap (s.splitStringBy (p: c: match "[a-z]" p != null && match "[A-Z]" c != null) true) words;
        first = if parts == [ ] then "" else s.toLower (b.head parts);
        rest = if length parts > 1 then map s.toSentenceCase (b.tail parts) else [ ];
      in
      concatStringsSep "" (map (s.addContextFrom str) ([ first ] ++ rest))
    );

  # Escaping.

  escape = chars: b.replaceStrings chars (map (c: "\\${c}") chars);
  escapeC =
    chars:
    b.replaceStrings chars (
      map (c: "\\x${s.fixedWidthString 2 "0" (s.toLower (lib.trivial.toHexString (s.charToInt c)))}") chars
    );
  escapeURL =
    let
      keep = s.stringToCharacters "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
      encoded = b.removeAttrs asciiCodes keep;
    in
    b.replaceStrings (b.attrNames encoded) (
      map (code: "%${s.fixedWidthString 2 "0" (lib.trivial.toHexString code)}") (b.attrValues encoded)
    );
  escapeShellArg =
    arg:
    let
      str = toString arg;
    in
    if match "[[:alnum:],._+:@%/-]+" str != null then str else "'${b.replaceStrings [ "'" ] [ "'\\''" ] str}'";
  escapeShellArgs = list: concatStringsSep " " (map s.escapeShellArg list);
  isValidPosixName = name: match "[a-zA-Z_][a-zA-Z0-9_]*" name != null;
  toShellVar =
    name: value:
    lib.trivial.throwIfNot (s.isValidPosixName name) "toShellVar: ${name} is not a valid shell variable name" (
      if b.isAttrs value && !s.isStringLike value then
        "declare -A ${name}=(${
          concatStringsSep " " (lib.attrsets.mapAttrsToList (k: v: "[${s.escapeShellArg k}]=${s.escapeShellArg v}") value)
        })"
      else if b.isList value then
        "declare -a ${name}=(${s.escapeShellArgs value})"
      else
        "${name}=${s.escapeShellArg value}"
    );
  toShellVars = vars: concatStringsSep "\n" (lib.attrsets.mapAttrsToList s.toShellVar vars);
  escapeNixString = str: b.replaceStrings [ "$" ] [ "\\$" ] (b.toJSON str);
  escapeRegex = s.escape (s.stringToCharacters "\\[{()^$?*+|.");
  escapeNixIdentifier =
    let
      keywords = [ "assert" "else" "if" "in" "inherit" "let" "or" "rec" "then" "with" ];
    in
    str:
    if match "[a-zA-Z_][a-zA-Z0-9_'-]*" str != null && !(b.elem str keywords) then str else s.escapeNixString str;
  escapeXML = b.replaceStrings [ "\"" "'" "<" ">" "&" ] [ "&quot;" "&apos;" "&lt;" "&gt;" "&amp;" ];

  # Context.

  # An empty slice of `src` carries its context.
  addContextFrom = src: target: substring 0 0 src + target;

  # Splitting.

  splitString =
    sep: str:
    map (s.addContextFrom str) (b.filter isString (b.split (s.escapeRegex (toString sep)) (toString str)));

  # Splits before every character `c` (with `p` the one before it) for
  # which `pred p c` holds; `keepSplit` keeps that character.
  splitStringBy =
    pred: keepSplit: str:
    let
      n = stringLength str;
      step =
        acc: i:
        let
          c = substring i 1 str;
          p = if i > 0 then substring (i - 1) 1 str else "";
        in
        if pred p c then
          {
            done = acc.done ++ [ acc.current ];
            current = if keepSplit then c else "";
          }
        else
          acc // { current = acc.current + c; };
      final = b.foldl' step { done = [ ]; current = ""; } (b.genList (i: i) n);
    in
    if n == 0 then [ (s.addContextFrom str "") ] else map (s.addContextFrom str) (final.done ++ [ final.current ]);

  # Versions and derivation names.

  versionOlder = v1: v2: b.compareVersions v2 v1 == 1;
  versionAtLeast = v1: v2: !(s.versionOlder v1 v2);
  getName = x: if isString x then (b.parseDrvName x).name else x.pname or (b.parseDrvName x.name).name;
  getVersion = x: if isString x then (b.parseDrvName x).version else x.version or (b.parseDrvName x.name).version;
  nameFromURL =
    url: sep:
    let
      file = lib.lists.last (s.splitString "/" url);
      name = b.head (s.splitString sep file);
    in
    assert name != file;
    name;

  # Build-system flags.

  cmakeOptionType =
    type: feature: value:
    assert b.elem (s.toUpper type) [ "BOOL" "FILEPATH" "PATH" "STRING" "INTERNAL" "LIST" ];
    assert isString feature;
    assert isString value;
    "-D${feature}:${s.toUpper type}=${value}";
  cmakeBool =
    condition: flag:
    assert isString condition;
    assert b.isBool flag;
    s.cmakeOptionType "bool" condition (s.toUpper (lib.trivial.boolToString flag));
  cmakeFeature =
    feature: value:
    assert isString feature;
    assert isString value;
    s.cmakeOptionType "string" feature value;
  mesonOption =
    feature: value:
    assert isString feature;
    assert isString value;
    "-D${feature}=${value}";
  mesonBool =
    condition: flag:
    assert isString condition;
    assert b.isBool flag;
    s.mesonOption condition (lib.trivial.boolToString flag);
  mesonEnable =
    feature: flag:
    assert isString feature;
    assert b.isBool flag;
    s.mesonOption feature (if flag then "enabled" else "disabled");
  enableFeature =
    flag: feature:
    assert b.isBool flag;
    assert isString feature;
    "--${if flag then "enable" else "disable"}-${feature}";
  enableFeatureAs =
    flag: feature: value:
    s.enableFeature flag feature + (if flag then "=${value}" else "");
  withFeature =
    flag: feature:
    assert isString feature;
    "--${if flag then "with" else "without"}-${feature}";
  withFeatureAs =
    flag: feature: value:
    s.withFeature flag feature + (if flag then "=${value}" else "");

  # Padding and numbers.

  fixedWidthString =
    width: filler: str:
    let
      n = stringLength str;
    in
    assert lib.asserts.assertMsg (n <= width)
      "fixedWidthString: requested string length (${toString width}) must not be shorter than actual length (${toString n})";
    if n == width then str else filler + s.fixedWidthString (width - stringLength filler) filler str;
  fixedWidthNumber = width: n: s.fixedWidthString width "0" (toString n);

  floatToString =
    x:
    let
      str = toString x;
    in
    lib.trivial.warnIf (x != b.fromJSON str) "Imprecise conversion from float to string ${str}" str;

  toInt =
    str:
    let
      digits = match "[[:space:]]*(-?[[:digit:]]+)[[:space:]]*" str;
      fail = throw "toInt: Could not convert ${s.escapeNixString str} to int.";
      # "010" could mean octal 8 or decimal 10: refuse to guess.
      zeroPadded = match "0[[:digit:]]+" (b.head digits) != null;
      value = b.fromJSON (b.head digits);
    in
    if digits == null then
      fail
    else if zeroPadded then
      throw "toInt: Ambiguity in interpretation of ${s.escapeNixString str} between octal and zero padded integer."
    else if !b.isInt value then
      fail
    else
      value;
  toIntBase10 =
    str:
    let
      digits = match "[[:space:]]*0*(-?[[:digit:]]+)[[:space:]]*" str;
      value = b.fromJSON (b.head digits);
    in
    if digits == null then
      throw "toIntBase10: Could not convert ${s.escapeNixString str} to int."
    else if match "0+" (b.head digits) != null then
      0
    else if !b.isInt value then
      throw "toIntBase10: Could not convert ${s.escapeNixString str} to int."
    else
      value;

  # Type tests.

  isConvertibleWithToString =
    x:
    s.isStringLike x
    || b.elem (b.typeOf x) [ "null" "int" "float" "bool" ]
    || (b.isList x && b.all s.isConvertibleWithToString x);
  isStringLike = x: isString x || isPath x || x ? outPath || x ? __toString;
  isStorePath =
    x:
    s.isStringLike x
    && (
      let
        str = toString x;
      in
      substring 0 1 str == "/" && (dirOf str == b.storeDir || match "/[0-9a-z]{52}" str != null)
    );

  # Files.

  fileContents = file: s.removeSuffix "\n" (b.readFile file);

  # Store path names: at most 207 characters from a restricted alphabet,
  # not starting with a dot.
  sanitizeDerivationName =
    str:
    let
      plain = b.unsafeDiscardStringContext str;
      undotted = elemAt (match "\\.*(.*)" plain) 0;
      dashed = concatStringsSep "" (map (p: if b.isList p then "-" else p) (b.split "[^[:alnum:]+._?=-]+" undotted));
      clipped = substring (lib.trivial.max (stringLength dashed - 207) 0) (-1) dashed;
    in
    if stringLength str <= 207 && match "[[:alnum:]+_?=-][[:alnum:]+._?=-]*" str != null then
      plain
    else if clipped == "" then
      "unknown"
    else
      clipped;

  # Edit distances.

  levenshtein = editDistance;
  levenshteinAtMost =
    k: if k <= 0 then x: y: x == y else x: y: lib.trivial.max (stringLength x - stringLength y) (stringLength y - stringLength x) <= k && editDistance x y <= k;
  commonPrefixLength =
    x: y:
    let
      m = lib.trivial.min (stringLength x) (stringLength y);
      go = i: if i < m && substring i 1 x == substring i 1 y then go (i + 1) else i;
    in
    go 0;
  commonSuffixLength =
    x: y:
    let
      lx = stringLength x;
      ly = stringLength y;
      m = lib.trivial.min lx ly;
      go = i: if i < m && substring (lx - i - 1) 1 x == substring (ly - i - 1) 1 y then go (i + 1) else i;
    in
    go 0;
}

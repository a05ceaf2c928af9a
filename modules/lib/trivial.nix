# Small general-purpose functions: combinators, booleans, numbers,
# function introspection, warnings and the library's version.
{ lib }:
let
  b = builtins;

  hexDigitChars = [ "0" "1" "2" "3" "4" "5" "6" "7" "8" "9" "A" "B" "C" "D" "E" "F" ];
in
{
  # Builtins re-exported unchanged.
  inherit (b)
    add
    bitAnd
    bitOr
    bitXor
    ceil
    deepSeq
    div
    floor
    genericClosure
    isBool
    isFloat
    isInt
    lessThan
    mul
    pathExists
    readFile
    seq
    sub
    ;

  # Combinators.
  id = x: x;
  const = x: _: x;
  flip = f: x: y: f y x;
  pipe = start: fns: b.foldl' (acc: fn: fn acc) start fns;
  concat = xs: ys: xs ++ ys;

  # Booleans and bits.
  "or" = x: y: x || y;
  and = x: y: x && y;
  # Compare the negations so that any two booleans work without coercion.
  xor = x: y: (!x) != (!y);
  bitNot = n: -1 - n;
  boolToString = v: if v then "true" else "false";
  boolToYesNo = v: if v then "yes" else "no";

  # Attribute sets and null handling.
  mergeAttrs = x: y: x // y;
  defaultTo = fallback: v: if v == null then fallback else v;
  mapNullable = f: v: if v == null then null else f v;

  # Numbers.
  # On ties the second argument wins (visible with `1` and `1.0`).
  min = x: y: if x < y then x else y;
  max = x: y: if x > y then x else y;
  # Remainder with the sign of the dividend, like C's `%`.
  mod = n: d: n - d * (b.div n d);
  compare =
    x: y:
    if x < y then
      -1
    else if y < x then
      1
    else
      0;
  splitByAndCompare =
    p: onBoth: onNeither: x: y:
    let
      px = p x;
      py = p y;
    in
    if px && py then
      onBoth x y
    else if px then
      -1
    else if py then
      1
    else
      onNeither x y;

  toBaseDigits =
    base: n:
    let
      digits = k: if k < base then [ k ] else digits (k / base) ++ [ (k - (k / base) * base) ];
    in
    assert b.isInt base;
    assert b.isInt n;
    assert base >= 2;
    assert n >= 0;
    digits n;
  toHexString = n: b.concatStringsSep "" (map (d: b.elemAt hexDigitChars d) (lib.trivial.toBaseDigits 16 n));
  fromHexString =
    s:
    let
      # At most 16 digits, the first one small enough to stay a positive 64-bit integer.
      valid = b.match "(0x)?([0-7]?[0-9A-Fa-f]{1,15})" s;
      digitsOf = if valid != null then b.elemAt valid 1 else lib.strings.removePrefix "0x" (lib.strings.toLower s);
    in
    if valid == null then
      lib.trivial.warn "fromHexString: ${lib.generators.toPretty { } s} is not a valid input and will be rejected in 26.05" (
        b.fromTOML "v=0x${digitsOf}"
      ).v
    else
      (b.fromTOML "v=0x${digitsOf}").v;

  # Files.
  importJSON = file: b.fromJSON (b.readFile file);
  importTOML = file: b.fromTOML (b.readFile file);

  # The nixpkgs release this library corresponds to (that of the nixpkgs
  # lib in dendrite's test corpus).
  release = "26.11";
  versionSuffix = "pre-git";
  version = lib.trivial.release + lib.trivial.versionSuffix;
  codeName = "Zokor";
  oldestSupportedRelease = 2511;
  oldestSupportedReleaseIsAtLeast = release: release <= lib.trivial.oldestSupportedRelease;
  isInOldestRelease = lib.trivial.warnIf (lib.trivial.oldestSupportedReleaseIsAtLeast 2411)
    "lib.isInOldestRelease is deprecated. Use lib.oldestSupportedReleaseIsAtLeast instead."
    lib.trivial.oldestSupportedReleaseIsAtLeast;
  nixpkgsVersion = lib.trivial.warn "lib.nixpkgsVersion is a deprecated alias of lib.version." lib.trivial.version;
  revisionWithDefault = default: default;

  # The evaluation environment.
  inNixShell = b.getEnv "IN_NIX_SHELL" != "";
  inPureEvalMode = !(b ? currentSystem);

  # Warnings and conditional errors.
  warn =
    b.warn or (
      msg: v:
      assert b.isString msg;
      if b.elem (b.getEnv "NIX_ABORT_ON_WARN") [ "1" "true" "yes" ] then
        b.trace "[1;31mevaluation warning:[0m ${msg}" (
          abort "NIX_ABORT_ON_WARN=true; warnings are treated as unrecoverable errors."
        )
      else
        b.trace "[1;35mevaluation warning:[0m ${msg}" v
    );
  warnIf = cond: msg: if cond then lib.trivial.warn msg else x: x;
  warnIfNot = cond: msg: if cond then x: x else lib.trivial.warn msg;
  throwIf = cond: msg: if cond then throw msg else x: x;
  throwIfNot = cond: msg: if cond then x: x else throw msg;
  info = msg: b.trace "INFO: ${msg}";
  showWarnings = warnings: v: lib.lists.foldr lib.trivial.warn v warnings;
  checkListOfEnum =
    what: allowed: given:
    let
      bad = lib.lists.subtractLists allowed given;
      show = xs: b.concatStringsSep ", " (map toString xs);
    in
    lib.trivial.throwIfNot (bad == [ ]) "${what}: ${show bad} unexpected; valid ones: ${show allowed}";

  # Functions and functors.
  functionArgs =
    f: if f ? __functor then f.__functionArgs or (b.functionArgs (f.__functor f)) else b.functionArgs f;
  isFunction = f: b.isFunction f || (f ? __functor && b.isFunction (f.__functor f));
  setFunctionArgs = f: args: {
    __functor = _: f;
    __functionArgs = args;
  };
  mirrorFunctionArgs =
    f:
    let
      args = lib.trivial.functionArgs f;
    in
    g: {
      __functor = _: g;
      __functionArgs = args;
    };
  toFunction = v: if lib.trivial.isFunction v then v else _: v;
}

# Turning attribute sets into command-line arguments.
{ lib }:
let
  b = builtins;
  showValue = lib.generators.mkValueStringDefault { };
  deprecated =
    name:
    lib.trivial.warnIf (lib.trivial.oldestSupportedReleaseIsAtLeast 2511)
      "lib.cli.${name} is deprecated, please use lib.cli.toCommandLine or lib.cli.toCommandLineShellGNU instead.";
in
{
  # `{ optionName = { option; sep; explicitBool; formatArg?; }; }` per option
  # name decides how each option is written; lists repeat the option.
  toCommandLine =
    format: options:
    let
      render =
        {
          option,
          sep,
          explicitBool,
          formatArg ? showValue,
        }:
        v:
        if v == null || (!explicitBool && v == false) then
          [ ]
        else if !explicitBool && v == true then
          [ option ]
        else if sep == null then
          [ option (formatArg v) ]
        else
          [ "${option}${sep}${formatArg v}" ];
      one =
        name: v:
        if name == "" then
          throw "lib.cli.toCommandLine only accepts non-empty option names."
        else
          b.concatMap (render (format name)) (if b.isList v then v else [ v ]);
    in
    b.concatLists (lib.attrsets.mapAttrsToList one options);

  toCommandLineShell = format: options: lib.strings.escapeShellArgs (lib.cli.toCommandLine format options);

  # GNU style: `-k value` for one-letter names, `--key=value` otherwise.
  toCommandLineGNU =
    {
      isLong ? name: b.stringLength name > 1,
      explicitBool ? false,
      formatArg ? showValue,
    }:
    lib.cli.toCommandLine (name: {
      option = if isLong name then "--${name}" else "-${name}";
      sep = if isLong name then "=" else "";
      inherit explicitBool formatArg;
    });
  toCommandLineShellGNU = settings: options: lib.strings.escapeShellArgs (lib.cli.toCommandLineGNU settings options);

  toGNUCommandLine = deprecated "toGNUCommandLine" (
    {
      mkOptionName ? k: if b.stringLength k == 1 then "-${k}" else "--${k}",
      mkBool ? k: v: lib.lists.optional v (mkOptionName k),
      mkList ? k: v: b.concatMap (mkOption k) v,
      mkOption ?
        k: v:
        if v == null then
          [ ]
        else if optionValueSeparator == null then
          [ (mkOptionName k) (showValue v) ]
        else
          [ "${mkOptionName k}${optionValueSeparator}${showValue v}" ],
      optionValueSeparator ? null,
    }:
    options:
    b.concatLists (
      lib.attrsets.mapAttrsToList (
        k: v:
        if b.isBool v then
          mkBool k v
        else if b.isList v then
          mkList k v
        else
          mkOption k v
      ) options
    )
  );
  toGNUCommandLineShell = lib.trivial.warnIf (lib.trivial.oldestSupportedReleaseIsAtLeast 2511)
    "lib.cli.toGNUCommandLineShell is deprecated, please use lib.cli.toCommandLineShell or lib.cli.toCommandLineShellGNU instead."
    (settings: options: lib.strings.escapeShellArgs (lib.cli.toGNUCommandLine settings options));
}

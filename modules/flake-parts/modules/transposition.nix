# Model of flake-parts' `transposition` option.
#
# `transposition.<attr> = { }` publishes `perSystem.<attr>` as the flake
# output `<attr>.<system>` (for every system of `systems`), and makes
# `perInput` read `<input>.<attr>.<system>` back, which is how `inputs'` and
# `self'` see other flakes. `adHoc = true` also declares a bare
# `perSystem.<attr>` option for attributes no module declares.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  inherit (lib.strings) escapeNixIdentifier;

  missing =
    {
      flake,
      attr,
      system,
    }:
    let
      where = "${escapeNixIdentifier attr}.${escapeNixIdentifier system}";
      flakeName =
        if flake._type or null != "flake" then
          throw "An attempt was made to access attribute ${where} on a value that's supposed to be a flake, but may not be a proper flake."
        else
          toString flake.outPath;
      hint = if attr == "packages" && flake ? legacyPackages then "\nIt does define legacyPackages; try that instead?" else "";
    in
    if flake ? ${attr} then
      "Attempt to access ${where} of flake ${flakeName}, but it does not have it.\nIt does have attribute ${escapeNixIdentifier attr}, so it appears that it does not support system type ${escapeNixIdentifier system}."
    else
      "Attempt to access ${where} of flake ${flakeName}, but it does not have attribute ${escapeNixIdentifier attr}.${hint}";
in
{
  options.transposition = mkOption {
    type = types.lazyAttrsOf (
      types.submoduleWith {
        modules = [
          {
            options.adHoc = mkOption {
              type = types.bool;
              default = false;
              description = "Whether to declare a stub `perSystem.<name>` option (no merging, no documentation).";
            };
          }
        ];
      }
    );
    description = "Per-system attributes published as flake outputs `<name>.<system>`.";
  };

  config = {
    flake = builtins.mapAttrs (
      attr: _:
      builtins.mapAttrs (
        _system: systemConfig:
        systemConfig.${attr} or (abort ''
          Could not find option ${attr} in the perSystem module. It is required to declare such an option whenever transposition.<name> is defined (and in this instance <name> is ${attr}).
        '')
      ) config.allSystems
    ) config.transposition;

    perInput =
      system: flake:
      builtins.mapAttrs (
        attr: _: flake.${attr}.${system} or (throw (missing { inherit flake attr system; }))
      ) config.transposition;

    perSystem.options = builtins.mapAttrs (_: _: mkOption { }) (
      lib.filterAttrs (_: t: t.adHoc) config.transposition
    );
  };
}

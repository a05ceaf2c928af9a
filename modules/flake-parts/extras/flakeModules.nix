# Model of flake-parts' `flakeModules.flakeModules`: the
# `flake.flakeModules` option (flake-parts modules published for other
# flakes) and its alias `flake.flakeModule` for `flakeModules.default`.
# Published modules carry class "flake" and a key naming the flake and the
# attribute, so importing one twice imports it once.
{
  lib,
  flake-parts-lib,
  moduleLocation,
  ...
}:
let
  published = name: "${toString moduleLocation}#flakeModules.${name}";
in
{
  options.flake = lib.mkOption {
    type = lib.types.submoduleWith {
      modules = [
        (flake-parts-lib.mkAliasOptionModule [ "flakeModule" ] [ "flakeModules" "default" ])
        {
          options.flakeModules = lib.mkOption {
            type = lib.types.lazyAttrsOf lib.types.deferredModule;
            default = { };
            apply = builtins.mapAttrs (
              name: module: {
                _file = published name;
                key = published name;
                imports = [ module ];
                _class = "flake";
              }
            );
            description = "flake-parts modules published for other flakes (`default` if only one).";
          };
        }
      ];
    };
  };
}

# Model of flake-parts' per-system machinery: `systems`, `perSystem`,
# `perInput`, `allSystems`, and the `getSystem` module arguments.
#
# `perSystem` collects modules (see `perSystemModulesType` in ../default.nix)
# and becomes a function from a system to that system's configuration, a
# separate evaluation of class "perSystem" with `system` as a special
# argument. Inside it `inputs'` and `self'` are the inputs (and the flake
# itself) seen through `perInput` for that system; `self`, `inputs`,
# `withSystem`, ... are deliberately absent there and fail with a hint, as
# upstream.
{
  config,
  lib,
  flake-parts-lib,
  self,
  ...
}:
let
  inherit (lib) mkOption types;
  top = config;

  wrongScope =
    name: primed:
    throw ''
      `${name}` is not a `perSystem` module argument but a top-level one.
      Bind it in the enclosing top-level module, e.g.

        top@{ config, lib, ${name}, ... }: {
          perSystem = { config, ${if primed then "${name}', " else ""}... }: {
            # ${name}${if primed then ", ${name}'" else ""}, config (of perSystem) and top.config are in scope here
          };
        }
    '';

  systemConfig = system: config.perSystem system;
in
{
  options = {
    systems = mkOption {
      type = types.listOf types.str;
      description = "The systems to enumerate in the per-system flake outputs.";
    };

    perInput = mkOption {
      type = types.functionTo (types.functionTo (types.lazyAttrsOf types.unspecified));
      description = "How to view an input (a flake) for one system; gives `inputs'` and `self'`.";
    };

    perSystem = mkOption {
      type = flake-parts-lib.mkPerSystemType (
        { system, ... }:
        {
          _file = ./perSystem.nix;
          config._module.args = {
            inputs' = builtins.mapAttrs (
              name: input:
              builtins.addErrorContext "while retrieving system-dependent attributes for input ${lib.strings.escapeNixIdentifier name}" (
                if input._type or null == "flake" then
                  top.perInput system input
                else
                  throw "Trying to retrieve system-dependent attributes for input ${lib.strings.escapeNixIdentifier name}, but this input is not a flake (flake = false?). Use plain `inputs` for it."
              )
            ) self.inputs;
            self' = builtins.addErrorContext "while retrieving system-dependent attributes for a flake's own outputs" (
              top.perInput system self
            );
            self = wrongScope "self" true;
            inputs = wrongScope "inputs" true;
            getSystem = wrongScope "getSystem" false;
            withSystem = wrongScope "withSystem" false;
            moduleWithSystem = wrongScope "moduleWithSystem" false;
          };
        }
      );
      apply =
        modules: system:
        (lib.evalModules {
          inherit modules;
          prefix = [
            "perSystem"
            system
          ];
          specialArgs = { inherit system; };
          class = "perSystem";
        }).config;
      description = "Per-system configuration: a module evaluated once for each system.";
    };

    allSystems = mkOption {
      type = types.lazyAttrsOf types.unspecified;
      internal = true;
      description = "The per-system configuration of each of `systems`.";
    };
  };

  config = {
    allSystems = lib.genAttrs config.systems systemConfig;
    _module.args.getSystem = system: config.allSystems.${system} or (systemConfig system);
    _module.args.getSystemIgnoreWarning = system: config.allSystems.${system} or (systemConfig system);
  };
}

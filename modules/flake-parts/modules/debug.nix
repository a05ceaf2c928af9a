# Model of flake-parts' `debug` option: with `debug = true` the flake output
# gains `debug` (the top-level config plus `config`, `options`, `_module`,
# `extendModules`), `allSystems.<system>` (the same for each perSystem) and,
# when impure, `currentSystem`.
{
  config,
  lib,
  options,
  flake-parts-lib,
  getSystem,
  extendModules,
  ...
}:
let
  inspect =
    {
      config,
      options,
      extendModules,
    }:
    config
    // {
      inherit config options extendModules;
      inherit (config) _module;
    };
in
{
  options = {
    debug = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Whether to add `debug`, `allSystems` and `currentSystem` to the flake outputs, for `nix repl`.";
    };
    perSystem = flake-parts-lib.mkPerSystemOption (
      {
        config,
        options,
        extendModules,
        ...
      }:
      {
        _file = ./debug.nix;
        options.debug = lib.mkOption {
          type = lib.types.lazyAttrsOf lib.types.raw;
          description = "What `allSystems.<system>` shows when `debug = true`.";
        };
        config.debug = inspect { inherit config options extendModules; };
      }
    );
  };

  config = lib.mkIf config.debug {
    flake = {
      debug = inspect { inherit config options extendModules; };
      allSystems = builtins.mapAttrs (_: c: c.debug) config.allSystems;
    }
    // lib.optionalAttrs (builtins ? currentSystem) {
      currentSystem = (getSystem builtins.currentSystem).debug;
    };
  };
}

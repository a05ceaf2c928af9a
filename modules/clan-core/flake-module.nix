# `flakeModules.default` / `flakeModules.clan` (upstream:
# flakeModules/clan.nix): declares `flake.clan` as a submodule of class
# "clan" built from the clan module, renames the older top-level `clan`
# option to it (so `clan = { ... }` in a flake-parts module works), and
# copies the machine configurations and modules to the flake outputs.
{
  clan-core,
  flake-parts-lib,
  unknown,
}:
{
  self,
  inputs,
  config,
  lib,
  ...
}:
let
  inherit (lib) mkOption types;
in
{
  _file = "dendrite clan-core model: flakeModules.clan";
  imports = [ (lib.mkRenamedOptionModule [ "clan" ] [ "flake" "clan" ]) ];

  options =
    lib.optionalAttrs (flake-parts-lib != null) {
      perSystem = flake-parts-lib.mkPerSystemOption {
        options.clan.pkgs = mkOption {
          type = types.raw;
          default = null;
        };
      };
    }
    // {
      flake = {
        clanInternals = mkOption {
          type = types.raw;
          default = config.flake.clan.clanInternals;
        };
        clan = mkOption {
          default = { };
          type = types.submoduleWith {
            class = "clan";
            specialArgs = {
              inherit self;
              nixpkgs = inputs.nixpkgs or unknown;
              nix-darwin = inputs.nix-darwin or unknown;
            };
            modules = [
              clan-core.modules.clan.default
              { _dependencies.flake-config = config; }
            ];
          };
        };
        darwinConfigurations = mkOption {
          type = types.lazyAttrsOf types.raw;
        };
        darwinModules = mkOption {
          type = types.lazyAttrsOf types.deferredModule;
          apply = lib.mapAttrs (
            k: v: {
              _file = "#darwinModules.${k}";
              imports = [ v ];
            }
          );
        };
      };
    };

  config.flake = {
    inherit (config.flake.clan)
      nixosConfigurations
      nixosModules
      darwinConfigurations
      darwinModules
      ;
  };
}

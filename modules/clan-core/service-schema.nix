# The schema every `clan.service` module is evaluated against (upstream:
# lib/inventory/distributed-service/service-module.nix), reduced to what
# checking needs: the manifest, the roles with their description and
# interface, and perInstance / perMachine kept as deferred modules that the
# model evaluates per machine. Options the model does not describe (exports,
# internal result attributes) are accepted untyped so that real local
# services never fail on the model's account.
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  freeformType = types.lazyAttrsOf types.raw;

  options.manifest = mkOption {
    type = types.submodule {
      options = {
        name = mkOption { type = types.str; };
        description = mkOption {
          type = types.str;
          default = "No description";
        };
        readme = mkOption {
          type = types.str;
          default = "";
        };
        categories = mkOption {
          type = types.listOf (
            types.enum [
              "Audio"
              "AudioVideo"
              "Desktop"
              "Development"
              "Education"
              "Game"
              "Graphics"
              "Network"
              "Office"
              "Science"
              "Settings"
              "Social"
              "System"
              "Uncategorized"
              "Utility"
              "Video"
            ]
          );
          default = [ "Uncategorized" ];
        };
        exports.out = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        exports.inputs = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        constraints.maxInstances = mkOption {
          type = types.nullOr types.ints.positive;
          default = null;
        };
        constraints.roles = mkOption {
          type = types.attrsOf (
            types.submodule {
              options.minMachines = mkOption {
                type = types.nullOr types.ints.unsigned;
                default = null;
              };
              options.maxMachines = mkOption {
                type = types.nullOr types.ints.positive;
                default = null;
              };
            }
          );
          default = { };
        };
      };
    };
  };

  options.roles = mkOption {
    type = types.attrsOf (
      types.submodule {
        options = {
          description = mkOption {
            type = types.nullOr types.str;
            default = null;
          };
          interface = mkOption {
            type = types.deferredModule;
            default = { };
          };
          perInstance = mkOption {
            type = types.deferredModule;
            default = { };
          };
        };
      }
    );
    default = { };
  };

  options.perMachine = mkOption {
    type = types.deferredModule;
    default = { };
  };
}

# `clan.inventory` (upstream: modules/inventoryClass/inventory.nix and
# role.nix): machines with tags and class, tags, multi-host service
# instances with roles, and meta. Typed as upstream so that a wrong value is
# a module-system error at its definition.
{ lib, config, ... }:
let
  inherit (lib) mkOption types;
  clanLib = import ./lib.nix { inherit lib; };

  settingsOption = mkOption {
    type = clanLib.settingsType;
    default = { };
  };

  role = {
    options = {
      machines = mkOption {
        type = types.attrsOf (types.submodule { options.settings = settingsOption; });
        default = { };
      };
      # Upstream accepts a list of tag names as well as an attribute set.
      tags = mkOption {
        type = types.coercedTo (types.listOf types.str) (t: lib.genAttrs t (_: { })) (
          types.attrsOf (types.submodule { options.settings = settingsOption; })
        );
        default = { };
      };
      settings = settingsOption;
      extraModules = mkOption {
        type = types.listOf types.raw;
        default = [ ];
      };
    };
  };

  machine =
    { name, ... }:
    {
      options = {
        name = mkOption {
          type = types.str;
          default = name;
        };
        description = mkOption {
          type = types.nullOr types.str;
          default = null;
        };
        icon = mkOption {
          type = types.nullOr types.str;
          default = null;
        };
        machineClass = mkOption {
          type = types.enum [
            "nixos"
            "darwin"
          ];
          default = "nixos";
        };
        installedAt = mkOption {
          type = types.nullOr types.int;
          default = null;
        };
        tags = mkOption {
          type = types.listOf types.str;
          default = [ ];
          apply = lib.unique;
        };
        deploy.targetHost = mkOption {
          type = types.nullOr types.str;
          default = null;
        };
        deploy.buildHost = mkOption {
          type = types.nullOr types.str;
          default = null;
        };
        deploy.forwardAgent = mkOption {
          type = types.nullOr types.bool;
          default = null;
        };
      };
      # A machine also carries every tag whose member list names it.
      config.tags = lib.attrNames (lib.filterAttrs (_: members: builtins.elem name members) config.tags);
    };
in
{
  imports = [
    (lib.mkRemovedOptionModule [ "services" ] ''
      The `inventory.services` option has been removed. Use `inventory.instances` instead.
    '')
  ];

  options = {
    _inventoryFile = mkOption {
      type = types.path;
      internal = true;
    };
    # Accepted and ignored upstream (kept for the JSON schema).
    modules = mkOption {
      type = types.attrsOf types.raw;
      default = { };
    };
    assertions = mkOption {
      type = types.listOf types.unspecified;
      internal = true;
      default = [ ];
    };
    meta = mkOption {
      type = types.submoduleWith { modules = [ ./meta.nix ]; };
    };
    tags = mkOption {
      default = { };
      type = types.submoduleWith {
        specialArgs = { inherit (config) machines; };
        modules = [
          {
            freeformType = types.lazyAttrsOf (types.listOf types.str);
            options = {
              all = mkOption { type = types.listOf types.str; };
              nixos = mkOption { type = types.listOf types.str; };
              darwin = mkOption { type = types.listOf types.str; };
            };
          }
          # The computed tags (upstream: modules/clan/computed-tags.nix).
          (
            { machines, ... }:
            {
              all = lib.mkDefault (lib.attrNames machines);
              nixos = lib.mkDefault (lib.attrNames (lib.filterAttrs (_: m: m.machineClass == "nixos") machines));
              darwin = lib.mkDefault (
                lib.attrNames (lib.filterAttrs (_: m: m.machineClass == "darwin") machines)
              );
            }
          )
        ];
      };
    };
    machines = mkOption {
      type = types.lazyAttrsOf (types.submodule machine);
      default = { };
    };
    instances = mkOption {
      type = types.attrsOf (
        types.submodule (
          { name, ... }:
          {
            options = {
              module = mkOption {
                type = types.submodule {
                  options.name = mkOption {
                    type = types.str;
                    default = name;
                  };
                  options.input = mkOption {
                    type = types.nullOr types.str;
                    default = null;
                  };
                };
                default = { };
              };
              roles = mkOption {
                type = types.attrsOf (types.submodule role);
                default = { };
              };
            };
          }
        )
      );
      default = { };
    };
  };
}

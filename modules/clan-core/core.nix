# `nixosModules.clanCore` / `darwinModules.clanCore` (upstream:
# nixosModules/clanCore): the machine-level `clan.core.*` options that real
# machine configurations set, typed as upstream: vars generators, networking,
# settings, state. Other `clan.core.*` options are accepted untyped (the
# lower-level evaluation is lenient about what the model does not know).
{ lib, config, ... }:
let
  inherit (lib) mkOption types;

  file =
    generator:
    { name, config, ... }:
    {
      freeformType = types.lazyAttrsOf types.raw;
      options = {
        name = mkOption {
          type = types.str;
          default = name;
          readOnly = true;
        };
        # Where the file is deployed. Upstream the secret backend decides
        # (sops: /run/secrets/vars/<generator>/<file>); the model gives that
        # shape so that configurations reading it evaluate.
        path = mkOption {
          type = types.str;
          readOnly = true;
          default =
            if config.secret then
              "/run/secrets/vars/${generator}/${name}"
            else
              "/nix/store/dendrite-vars-${generator}-${name}";
        };
        secret = mkOption {
          type = types.bool;
          default = true;
        };
        share = mkOption {
          type = types.bool;
          default = false;
        };
        deploy = mkOption {
          type = types.bool;
          default = true;
        };
        owner = mkOption {
          type = types.str;
          default = "root";
        };
        group = mkOption {
          type = types.str;
          default = "root";
        };
        mode = mkOption {
          type = types.strMatching "^[0-7]{4}$";
          default = "0400";
        };
        neededFor = mkOption {
          type = types.enum [
            "partitioning"
            "activation"
            "users"
            "services"
          ];
          default = "services";
        };
        restartUnits = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        flakePath = mkOption {
          type = types.nullOr types.path;
          default = null;
        };
      };
    };

  prompt =
    { name, ... }:
    {
      options = {
        name = mkOption {
          type = types.str;
          default = name;
        };
        description = mkOption {
          type = types.str;
          default = name;
        };
        persist = mkOption {
          type = types.bool;
          default = false;
        };
        type = mkOption {
          type = types.enum [
            "hidden"
            "line"
            "multiline"
            "multiline-hidden"
          ];
          default = "line";
        };
      };
    };

  scalar = types.oneOf [
    types.bool
    types.int
    types.str
  ];

  generator =
    { name, config, ... }:
    {
      freeformType = types.lazyAttrsOf types.raw;
      options = {
        name = mkOption {
          type = types.str;
          default = name;
        };
        dependencies = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        files = mkOption {
          type = types.attrsOf (types.submodule (file name));
          default = { };
        };
        prompts = mkOption {
          type = types.attrsOf (types.submodule prompt);
          default = { };
        };
        # Packages: opaque to the model, a list is all that can be checked.
        runtimeInputs = mkOption {
          type = types.listOf types.raw;
          default = [ ];
        };
        script = mkOption {
          type = types.either types.str types.path;
          default = "";
        };
        share = mkOption {
          type = types.bool;
          default = false;
        };
        validation = mkOption {
          type = types.nullOr (
            types.oneOf [
              scalar
              (types.attrsOf (types.oneOf [ scalar (types.attrsOf scalar) ]))
            ]
          );
          default = null;
        };
      };
    };

  stateFolder =
    { name, ... }:
    {
      options = {
        name = mkOption {
          type = types.strMatching "^[a-zA-Z0-9_-]+$";
          default = name;
        };
        folders = mkOption { type = types.listOf types.str; };
      }
      // lib.genAttrs [
        "preBackupScript"
        "postBackupScript"
        "preRestoreScript"
        "postRestoreScript"
      ] (_: mkOption {
        type = types.nullOr types.lines;
        default = null;
      })
      // lib.genAttrs [
        "preBackupCommand"
        "postBackupCommand"
        "preRestoreCommand"
        "postRestoreCommand"
      ] (_: mkOption {
        type = types.nullOr types.str;
        default = null;
      });
    };
in
{
  _file = "dendrite clan-core model: clanCore";

  options.clanConfig = mkOption {
    type = types.raw;
    internal = true;
    default = null;
  };

  options.clan.core = mkOption {
    default = { };
    type = types.submodule {
      freeformType = types.lazyAttrsOf types.raw;
      options = {
        vars.generators = mkOption {
          type = types.attrsOf (types.submodule generator);
          default = { };
        };
        vars.settings = mkOption {
          type = types.lazyAttrsOf types.raw;
          default = { };
        };
        networking = mkOption {
          default = { };
          type = types.submodule {
            freeformType = types.lazyAttrsOf types.raw;
            options = {
              targetHost = mkOption {
                type = types.nullOr types.str;
                default = null;
              };
              buildHost = mkOption {
                type = types.nullOr types.str;
                default = null;
              };
              forwardAgent = mkOption {
                type = types.bool;
                default = false;
              };
              internalListenAddresses = mkOption {
                type = types.listOf types.str;
                default = [ ];
              };
              requireExplicitUpdate = mkOption {
                type = types.bool;
                default = false;
              };
            };
          };
        };
        settings = mkOption {
          default = { };
          type = types.submodule {
            freeformType = types.lazyAttrsOf types.raw;
            options = {
              directory = mkOption { type = types.path; };
              name = mkOption { type = types.str; };
              icon = mkOption {
                type = types.nullOr types.str;
                default = null;
              };
              domain = mkOption {
                type = (import ./lib.nix { inherit lib; }).domainName;
                default = "clan";
              };
              machine = mkOption {
                default = { };
                type = types.submodule {
                  freeformType = types.lazyAttrsOf types.raw;
                  options.name = mkOption { type = types.str; };
                  options.description = mkOption {
                    type = types.nullOr types.str;
                    default = null;
                  };
                };
              };
            };
          };
        };
        state = mkOption {
          type = types.attrsOf (types.submodule stateFolder);
          default = { };
        };
      };
    };
  };
}

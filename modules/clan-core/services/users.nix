# clan service `users` (upstream: clanServices/users): one user account per
# instance, password generated or prompted through vars.
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  _class = "clan.service";
  manifest.name = "clan-core/user";
  manifest.description = "An instance of this module will create a user account on the added machines, along with a generated password that is constant across machines and user settings.";
  manifest.categories = [ "System" ];

  roles.default = {
    description = "Placeholder role to apply the user service";
    interface = {
      options = {
        # No default in the interface: upstream fills it in per instance.
        user = mkOption { type = types.str; };
        systemUser = mkOption {
          type = types.bool;
          default = true;
        };
        prompt = mkOption {
          type = types.bool;
          default = true;
        };
        groups = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        share = mkOption {
          type = types.bool;
          default = false;
        };
        identity = mkOption {
          type = types.attrsOf (
            types.submodule {
              options = {
                email = mkOption {
                  type = types.str;
                  default = "";
                };
                groups = mkOption {
                  type = types.listOf types.str;
                  default = [ ];
                };
                displayname = mkOption {
                  type = types.nullOr types.str;
                  default = null;
                };
              };
            }
          );
          default = { };
        };
        openssh.authorizedKeys.keys = mkOption {
          type = types.listOf types.singleLineStr;
          default = [ ];
        };
        openssh.authorizedKeys.keyFiles = mkOption {
          type = types.listOf types.path;
          default = [ ];
        };
      };
    };
    perInstance =
      { settings, instanceName, ... }:
      let
        user = settings.user or instanceName;
      in
      {
        nixosModule.clan.core.vars.generators."user-password-${user}".share = settings.share;
      };
  };
}

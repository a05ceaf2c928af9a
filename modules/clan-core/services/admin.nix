# clan service `admin` (upstream: clanServices/admin, deprecated in favour of
# sshd + users): root ssh access and a root password.
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  _class = "clan.service";
  manifest.name = "clan-core/admin";
  manifest.description = "Adds a root user with ssh access";
  manifest.categories = [ "System" ];

  roles.default = {
    description = "Placeholder role to apply the admin service";
    interface.options = {
      allowedKeys = mkOption {
        type = types.attrsOf types.str;
        default = { };
      };
      certificateSearchDomains = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
      deprecationWarning = mkOption {
        type = types.bool;
        default = true;
      };
      rsaHostKey.enable = mkOption {
        type = types.bool;
        default = false;
      };
    };
    perInstance =
      { settings, ... }:
      {
        nixosModule.clan.core.vars.generators = {
          root-password = { };
          openssh = { };
        }
        // lib.optionalAttrs settings.rsaHostKey.enable { openssh-rsa = { }; }
        // lib.optionalAttrs (settings.certificateSearchDomains != [ ]) {
          openssh-ca.share = true;
          openssh-cert = { };
        };
      };
  };
}

# clan service `borgbackup` (upstream: clanServices/borgbackup): clients back
# up to every server of the instance and to extra destinations.
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  _class = "clan.service";
  manifest.name = "borgbackup";
  manifest.description = "Efficient, deduplicating backup program with optional compression and secure encryption.";
  manifest.categories = [ "System" ];

  roles.server = {
    description = "A borgbackup server that stores the backups of clients.";
    interface.options = {
      address = mkOption {
        type = types.nullOr types.str;
        default = null;
      };
      directory = mkOption {
        type = types.str;
        default = "/var/lib/borgbackup";
      };
    };
  };

  roles.client = {
    description = "A borgbackup client that backs up to all borgbackup server roles.";
    interface.options = {
      startAt = mkOption {
        type = types.str;
        default = "*-*-* 01:00:00";
      };
      destinations = mkOption {
        type = types.attrsOf (
          types.submodule (
            { name, ... }:
            {
              options = {
                name = mkOption {
                  type = types.strMatching "^[a-zA-Z0-9._-]+$";
                  default = name;
                };
                repo = mkOption { type = types.str; };
                # Defaulted upstream from the machine's generated ssh key.
                rsh = mkOption { type = types.str; };
              };
            }
          )
        );
        default = { };
      };
      exclude = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
    };
    perInstance =
      { ... }:
      {
        nixosModule.clan.core.vars.generators.borgbackup = { };
      };
  };
}

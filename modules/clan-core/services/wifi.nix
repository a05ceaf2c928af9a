# clan service `wifi` (upstream: clanServices/wifi): Wi-Fi networks whose
# SSID and password are prompted as vars (one generator per network).
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  _class = "clan.service";
  manifest.name = "wifi";
  manifest.description = "Pre-configure Wi-Fi networks to connect to";
  manifest.categories = [ "Network" ];

  roles.default = {
    description = "Placeholder role to apply the Wi-Fi service";
    interface.options.networks = mkOption {
      type = types.attrsOf (
        types.submodule {
          options = {
            enable = mkOption {
              type = types.bool;
              default = true;
            };
            autoConnect = mkOption {
              type = types.bool;
              default = true;
            };
            keyMgmt = mkOption {
              type = types.str;
              default = "wpa-psk";
            };
          };
        }
      );
      default = { };
    };
    perInstance =
      { settings, ... }:
      {
        nixosModule.clan.core.vars.generators = lib.mapAttrs' (
          name: _: lib.nameValuePair "wifi.${name}" { }
        ) settings.networks;
      };
  };
}

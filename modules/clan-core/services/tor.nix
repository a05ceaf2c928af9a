# clan service `tor` (upstream: clanServices/tor): reach machines through
# onion services; clients run a Tor proxy.
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  _class = "clan.service";
  manifest.name = "clan-core/tor";
  manifest.description = "Part of the clan networking abstraction to define how to reach machines through the Tor network, if used has the lowest priority";
  manifest.categories = [ "Network" ];

  roles.client.description = "Enables a continuously running Tor proxy on the machine, allowing access to other machines via the Tor network.";

  roles.server = {
    description = "Sets up a Tor onion service for the machine, thus making it reachable over Tor.";
    interface.options = {
      portMapping = mkOption {
        type = types.listOf types.raw;
        default = [
          {
            port = 22;
            target.port = 22;
          }
        ];
      };
      secretHostname = mkOption {
        type = types.bool;
        default = true;
      };
    };
    perInstance =
      { instanceName, ... }:
      {
        nixosModule.clan.core.vars.generators."tor_${instanceName}" = { };
      };
  };
}

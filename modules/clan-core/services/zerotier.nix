# clan service `zerotier` (upstream: clanServices/zerotier): a ZeroTier
# mesh with one controller, optional moons, and peers.
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  _class = "clan.service";
  manifest.name = "clan-core/zerotier";
  manifest.description = "ZeroTier Mesh VPN Service for secure P2P networking between machines";
  manifest.categories = [ "Network" ];

  roles.controller = {
    description = "Manages network membership and is responsible for admitting new peers to your Zerotier network.";
    interface.options = {
      allowedIds = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
      allowedIps = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
      public = mkOption {
        type = types.bool;
        default = false;
      };
    };
    perInstance =
      { instanceName, ... }:
      {
        nixosModule.clan.core.vars.generators."zerotier-network-${instanceName}".share = true;
      };
  };

  roles.moon = {
    description = "A moon acts as a relay node to connect other nodes in the zerotier network that are not publicly reachable.";
    interface.options.stableEndpoints = mkOption { type = types.listOf types.str; };
  };

  roles.peer = {
    description = "A peer that connects to your private ZeroTier network.";
    interface.options.orbitMoons = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
  };

  # Every member machine gets its identity generator.
  perMachine =
    { machine, ... }:
    {
      nixosModule.clan.core.vars.generators."zerotier-identity-${machine.name}" = { };
    };
}

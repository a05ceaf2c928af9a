{ config, ... }:
{
  flake.modules.darwin."machines/darwin/beta" = {
    imports = [
      config.flake.modules.darwin.base
      config.flake.modules.darwin.development
    ];
    networking.hostName = "beta";
    users.users.crs58 = { };
  };
}

{ config, ... }:
{
  flake.modules.nixos."machines/nixos/alpha" = {
    imports = with config.flake.modules.nixos; [
      base
      development
    ] ++ [ config.flake.modules.generic.meta ];
    networking.hostName = "alpha";
  };
}

{ config, ... }:
{
  flake.modules.homeManager."users/crs58" = {
    imports = with config.flake.modules.homeManager; [
      base
      development
    ];
    home.packages = [ "htop" ];
  };
  flake.meta.users.crs58.email = "crs58@example.org";
}

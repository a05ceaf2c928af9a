{ config, ... }:
{
  flake.modules.nixos.development =
    { pkgs, ... }:
    {
      environment.systemPackages = [
        "git"
        pkgs.hello.name
      ];
    };
  flake.modules.darwin.development = {
    environment.systemPackages = [ "git" ];
  };
  flake.modules.homeManager.development = {
    imports = [ config.flake.modules.homeManager.shell ];
    home.packages = [ "ripgrep" ];
  };
  flake.modules.generic.meta =
    { lib, ... }:
    {
      options.meta.owner = lib.mkOption {
        type = lib.types.str;
        default = "crs58";
      };
    };
}

# One feature, several classes.
{
  flake.modules.nixos.base.environment.systemPackages = [ "zsh" ];
  flake.modules.darwin.base =
    { lib, ... }:
    {
      environment.systemPackages = lib.mkAfter [ "zsh" ];
    };
  flake.modules.homeManager.shell = {
    programs.zsh.enable = true;
    home.packages = [ "starship" ];
  };
}

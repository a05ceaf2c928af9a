# Stand-ins for the NixOS / nix-darwin / home-manager options the features
# set (the test evaluates machines without nixpkgs).
let
  system =
    { lib, ... }:
    {
      options = {
        networking.hostName = lib.mkOption { type = lib.types.str; };
        environment.systemPackages = lib.mkOption {
          type = lib.types.listOf lib.types.str;
          default = [ ];
        };
        users.users = lib.mkOption {
          type = lib.types.attrsOf (
            lib.types.submodule {
              options.shell = lib.mkOption {
                type = lib.types.str;
                default = "bash";
              };
            }
          );
          default = { };
        };
      };
    };
in
{
  flake.modules.nixos.base = system;
  flake.modules.darwin.base = system;
  flake.modules.homeManager.base =
    { lib, ... }:
    {
      options.home.packages = lib.mkOption {
        type = lib.types.listOf lib.types.str;
        default = [ ];
      };
      options.programs.zsh.enable = lib.mkEnableOption "zsh";
    };
}

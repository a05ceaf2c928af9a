# A second definition of the same aggregate: merges with dev.nix.
{
  flake.modules.nixos.development =
    { lib, ... }:
    {
      environment.systemPackages = lib.mkBefore [ "jq" ];
      users.users.root.shell = "zsh";
    };
}

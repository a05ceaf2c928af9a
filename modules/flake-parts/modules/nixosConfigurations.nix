# Model of flake-parts' `flake.nixosConfigurations` option: evaluated NixOS
# systems, kept as they are (raw: they are results, not mergeable config).
{ lib, ... }:
{
  options.flake.nixosConfigurations = lib.mkOption {
    type = lib.types.lazyAttrsOf lib.types.raw;
    default = { };
    description = "Instantiated NixOS configurations (for `nixos-rebuild`).";
  };
}

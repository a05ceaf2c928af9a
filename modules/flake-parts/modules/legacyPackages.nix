# Model of flake-parts' `legacyPackages` module: `perSystem.legacyPackages`, transposed to
# the flake output `legacyPackages.<system>`.
{ lib, flake-parts-lib, ... }:
flake-parts-lib.mkTransposedPerSystemModule {
  name = "legacyPackages";
  option = lib.mkOption {
    type = lib.types.lazyAttrsOf lib.types.raw;
    default = { };
    description = "Unmergeable values (nested package sets) for `nix build`.";
  };
  file = ./legacyPackages.nix;
}

# Model of flake-parts' `packages` module: `perSystem.packages`, transposed to
# the flake output `packages.<system>`.
{ lib, flake-parts-lib, ... }:
flake-parts-lib.mkTransposedPerSystemModule {
  name = "packages";
  option = lib.mkOption {
    type = lib.types.lazyAttrsOf lib.types.package;
    default = { };
    description = "Packages built by `nix build .#<name>`.";
  };
  file = ./packages.nix;
}

# Model of flake-parts' `devShells` module: `perSystem.devShells`, transposed to
# the flake output `devShells.<system>`.
{ lib, flake-parts-lib, ... }:
flake-parts-lib.mkTransposedPerSystemModule {
  name = "devShells";
  option = lib.mkOption {
    type = lib.types.lazyAttrsOf lib.types.package;
    default = { };
    description = "Shells entered by `nix develop .#<name>`.";
  };
  file = ./devShells.nix;
}

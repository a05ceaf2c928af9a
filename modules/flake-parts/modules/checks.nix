# Model of flake-parts' `checks` module: `perSystem.checks`, transposed to
# the flake output `checks.<system>`.
{ lib, flake-parts-lib, ... }:
flake-parts-lib.mkTransposedPerSystemModule {
  name = "checks";
  option = lib.mkOption {
    type = lib.types.lazyAttrsOf lib.types.package;
    default = { };
    description = "Derivations built by `nix flake check`.";
  };
  file = ./checks.nix;
}

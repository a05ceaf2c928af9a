# Model of flake-parts' `flakeModules.bundlers`: `perSystem.bundlers`
# (functions from a derivation to a derivation, for `nix bundle`),
# transposed to the flake output `bundlers.<system>`.
{ lib, flake-parts-lib, ... }:
flake-parts-lib.mkTransposedPerSystemModule {
  name = "bundlers";
  option = lib.mkOption {
    type = lib.types.lazyAttrsOf (lib.types.functionTo lib.types.package);
    default = { };
    description = "Bundlers for `nix bundle --bundler .#<name>`.";
  };
  file = ./bundlers.nix;
}

# Model of flake-parts' `apps` module: `perSystem.apps.<name>` (a program
# for `nix run`, given as a path string or a derivation with a main
# program), transposed to the flake output `apps.<system>`.
{ lib, flake-parts-lib, ... }:
let
  inherit (lib) mkOption types;
  derivation = types.package // {
    check = lib.isDerivation;
  };
  app = types.submodule {
    options = {
      type = mkOption {
        type = types.enum [ "app" ];
        default = "app";
        description = "A type tag for `apps` consumers.";
      };
      program = mkOption {
        type = types.coercedTo derivation lib.getExe types.str;
        description = "A path to an executable or a derivation with `meta.mainProgram`.";
      };
      meta = mkOption {
        type = types.lazyAttrsOf types.raw;
        default = { };
        description = "Metadata of the app (`nix flake check` knows `description`).";
      };
    };
  };
in
flake-parts-lib.mkTransposedPerSystemModule {
  name = "apps";
  option = mkOption {
    type = types.lazyAttrsOf app;
    default = { };
    description = "Programs runnable with `nix run .#<name>`.";
  };
  file = ./apps.nix;
}

# nix-darwin as a flake input when it is not on disk: `lib.darwinSystem`
# evaluates a darwin machine leniently.
{
  lib,
  unknown,
  evalSystem,
}:
let
  system = evalSystem;
in
{
  lib.darwinSystem =
    args:
    system {
      class = "darwin";
      modules = args.modules or [ ];
      specialArgs = args.specialArgs or { };
    };
  darwinModules = unknown "nix-darwin.darwinModules";
  packages = unknown "nix-darwin.packages";
}

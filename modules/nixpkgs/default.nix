# nixpkgs as a flake input when it is not on disk: dendrite's own `lib`
# (the module system is native) with `lib.nixosSystem` evaluating a NixOS
# machine leniently; packages are unknown.
{
  lib,
  unknown,
  evalSystem,
}:
let
  system = evalSystem;
  nixosSystem =
    args:
    system {
      class = "nixos";
      modules = (args.modules or [ ]) ++ (args.extraModules or [ ]);
      specialArgs = args.specialArgs or { };
    };
in
{
  lib = lib // {
    inherit nixosSystem;
  };
  legacyPackages = unknown "nixpkgs.legacyPackages";
  nixosModules = unknown "nixpkgs.nixosModules";
  outPath = unknown "the nixpkgs source tree";
}

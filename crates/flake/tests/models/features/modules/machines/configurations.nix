# A nixosConfiguration built from the namespace, with withSystem reaching
# into perSystem.
{
  config,
  lib,
  withSystem,
  ...
}:
{
  flake.nixosConfigurations.alpha = withSystem "x86_64-linux" (
    { pkgs, self', ... }:
    lib.evalModules {
      class = "nixos";
      specialArgs = { inherit pkgs; };
      modules = [
        config.flake.modules.nixos."machines/nixos/alpha"
        { environment.systemPackages = [ self'.packages.default.name ]; }
      ];
    }
  );
  flake.overlays.default = final: prev: { greeting = "hello from ${prev.name or "prev"}"; };
}

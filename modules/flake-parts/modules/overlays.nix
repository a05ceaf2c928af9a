# Model of flake-parts' `flake.overlays` option: nixpkgs overlays, which do
# not merge (composition order would be arbitrary), so each name may be
# defined once. Each is eta-expanded, as upstream, so `nix flake check` sees
# a two-argument function.
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  options.flake.overlays = mkOption {
    type = types.lazyAttrsOf (
      types.uniq (types.functionTo (types.functionTo (types.lazyAttrsOf types.unspecified)))
    );
    apply = builtins.mapAttrs (_: f: final: prev: f final prev);
    default = { };
    description = "Nixpkgs overlays (`final: prev: { ... }`).";
  };
}

# Model of flake-parts' `flakeModules.easyOverlay`: `perSystem.overlayAttrs`
# becomes `flake.overlays.default`. The overlay re-evaluates the system's
# perSystem with `pkgs` = prev and the `final` argument = final; outside an
# overlay `final` is `pkgs` extended with that overlay.
toplevel@{
  lib,
  flake-parts-lib,
  getSystemIgnoreWarning,
  ...
}:
{
  options.perSystem = flake-parts-lib.mkPerSystemOption (
    {
      config,
      extendModules,
      pkgs,
      ...
    }:
    {
      _file = ./easyOverlay.nix;
      options = {
        extendModules = lib.mkOption {
          type = lib.types.raw;
          default = extendModules;
          internal = true;
        };
        overlayAttrs = lib.mkOption {
          type = lib.types.lazyAttrsOf lib.types.raw;
          default = { };
          description = "Attributes `overlays.default` adds to nixpkgs.";
        };
      };
      config._module.args.final = lib.mkDefault (pkgs.extend toplevel.config.flake.overlays.default);
    }
  );

  config.flake.overlays.default =
    final: prev:
    let
      system =
        prev.stdenv.hostPlatform.system or prev.system
          or (throw "Could not determine the `hostPlatform` of Nixpkgs. Was this overlay loaded as a Nixpkgs overlay, or was it loaded into something else?");
      overridden = (getSystemIgnoreWarning system).extendModules {
        modules = [
          {
            _file = "flake-parts#flakeModules.easyOverlay/overlay-overrides";
            _module.args.pkgs = lib.mkForce prev;
            _module.args.final = lib.mkForce final;
          }
        ];
      };
    in
    overridden.config.overlayAttrs;
}

# Model of flake-parts' `flake.nixosModules` option: published NixOS modules.
# Definitions of one name merge (deferred modules); the published value is
# wrapped to carry class "nixos" and a file name pointing at the flake, so a
# class mismatch is reported where the module is used.
{ lib, moduleLocation, ... }:
{
  options.flake.nixosModules = lib.mkOption {
    type = lib.types.lazyAttrsOf lib.types.deferredModule;
    default = { };
    apply = builtins.mapAttrs (
      name: module: {
        _class = "nixos";
        _file = "${toString moduleLocation}#nixosModules.${name}";
        imports = [ module ];
      }
    );
    description = "NixOS modules published by the flake.";
  };
}

# Module arguments of a home-manager configuration (home-manager
# modules/default.nix and modules/modules.nix), beyond those of every
# evalModules:
#   modulesPath   special argument: home-manager's modules directory
#   lib           special argument: lib extended with `lib.hm`
#   pkgs, pkgsPath, baseModules   set by home-manager's module list
# Inside a system (the NixOS or nix-darwin module of home-manager, `os`
# given as { class = "nixos" | "darwin"; config = <the system config>; }):
#   osConfig, osClass   special arguments: the system's config and class
#   nixosConfig / darwinConfig   the older name of osConfig, per system
#   name          the user name (home-manager.users is attrsOf submodule)
# Standalone (`os` null) none of these exist: a module asking for
# `osConfig` breaks standalone use.
{
  lib,
  unknown,
  os ? null,
  ...
}:
let
  inSystem = os != null;
  osName = if inSystem && os.class == "darwin" then "darwinConfig" else "nixosConfig";
in
import ./common.nix {
  class = "homeManager";
  table =
    import ./evalModules.nix
    // {
      lib = {
        via = "specialArgs";
        value = lib // {
          hm = unknown "home-manager's lib.hm";
        };
        doc = "lib extended with lib.hm";
      };
      modulesPath = {
        via = "specialArgs";
        value = unknown "home-manager modules directory (modulesPath)";
        doc = "home-manager's modules directory";
      };
      pkgs = {
        via = "moduleArgs";
        value = unknown "pkgs of a home-manager configuration";
        doc = "nixpkgs";
      };
      pkgsPath = {
        via = "moduleArgs";
        value = unknown "home-manager pkgsPath";
        doc = "the path of the nixpkgs in use";
      };
      baseModules = {
        via = "moduleArgs";
        value = unknown "home-manager baseModules";
        doc = "home-manager's module list";
      };
    }
    // lib.optionalAttrs inSystem {
      osConfig = {
        via = "specialArgs";
        value = os.config;
        doc = "the configuration of the system home-manager runs in";
      };
      osClass = {
        via = "specialArgs";
        value = os.class;
        doc = "the class of that system";
      };
      ${osName} = {
        via = "specialArgs";
        value = os.config;
        doc = "older name of osConfig";
      };
      name = {
        via = "evalModules";
        value = null;
        doc = "the user name (the attribute of home-manager.users)";
      };
    };
}

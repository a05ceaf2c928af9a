# Module arguments of a nix-darwin system (nix-darwin eval-config.nix and
# its nixpkgs module), beyond those of every evalModules:
#   modulesPath   special argument: nix-darwin's modules directory
#   pkgs          nixpkgs for the system
#   baseModules, modules   eval-config's module lists
# nix-darwin has no `utils` and no `noUserModules`; a module asking for them
# works on NixOS machines only.
{ lib, unknown, ... }:
import ./common.nix {
  class = "darwin";
  table = import ./evalModules.nix // {
    modulesPath = {
      via = "specialArgs";
      value = unknown "nix-darwin modules directory (modulesPath)";
      doc = "nix-darwin's modules directory";
    };
    pkgs = {
      via = "moduleArgs";
      value = unknown "pkgs of a nix-darwin system";
      doc = "nixpkgs for the system";
    };
    baseModules = {
      via = "moduleArgs";
      value = unknown "nix-darwin baseModules";
      doc = "nix-darwin's module list";
    };
    modules = {
      via = "moduleArgs";
      value = unknown "nix-darwin modules (the user's module list)";
      doc = "the user's modules given to eval-config";
    };
  };
}

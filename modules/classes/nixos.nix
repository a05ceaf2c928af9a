# Module arguments of a NixOS system (nixpkgs nixos/lib/eval-config.nix and
# the modules it always loads), beyond those of every evalModules:
#   modulesPath   special argument: nixpkgs' nixos/modules directory
#   pkgs          nixpkgs for the system (modules/misc/nixpkgs.nix)
#   utils         nixos/lib/utils.nix (modules/misc/extra-arguments.nix)
#   baseModules, extraModules, modules, noUserModules   eval-config's
#                 own arguments (the module list, and the evaluation
#                 without the user's modules)
# All of these come from nixpkgs, which dendrite does not evaluate, so they
# are unknown values: a check forcing one is skipped, but a module asking
# for an argument outside this list is a real error.
{ lib, unknown, ... }:
import ./common.nix {
  class = "nixos";
  table = import ./evalModules.nix // {
    modulesPath = {
      via = "specialArgs";
      value = unknown "nixpkgs nixos/modules directory (modulesPath)";
      doc = "nixpkgs' nixos/modules directory";
    };
    pkgs = {
      via = "moduleArgs";
      value = unknown "pkgs of a NixOS system";
      doc = "nixpkgs for the system";
    };
    utils = {
      via = "moduleArgs";
      value = unknown "NixOS utils";
      doc = "nixos/lib/utils.nix";
    };
    baseModules = {
      via = "moduleArgs";
      value = unknown "NixOS baseModules";
      doc = "nixpkgs' NixOS module list";
    };
    extraModules = {
      via = "moduleArgs";
      value = unknown "NixOS extraModules";
      doc = "modules added by NIXOS_EXTRA_MODULE_PATH / eval-config";
    };
    modules = {
      via = "moduleArgs";
      value = unknown "NixOS modules (the user's module list)";
      doc = "the user's modules given to eval-config";
    };
    noUserModules = {
      via = "moduleArgs";
      value = unknown "NixOS noUserModules";
      doc = "the evaluation without the user's modules";
    };
  };
}

# home-manager as a flake input when it is not on disk: the system modules
# that declare `home-manager.users.<name>` (each user a homeManager-class
# submodule evaluated leniently, with `osConfig`), and
# `lib.homeManagerConfiguration` for standalone users.
{
  lib,
  unknown,
  lenient,
  evalSystem,
}:
let
  system = evalSystem;
  systemModule =
    osClass:
    { config, ... }:
    let
      cfg = config.home-manager;
      hm = import ../classes/home-manager.nix {
        inherit lib unknown;
        os = {
          class = osClass;
          inherit config;
        };
      };
      userType = lib.types.submoduleWith {
        class = "homeManager";
        specialArgs = hm.specialArgs // cfg.extraSpecialArgs;
        modules = [
          lenient
          hm.module
        ]
        ++ cfg.sharedModules;
      };
    in
    {
      _file = "<dendrite model of home-manager's ${osClass} module>";
      options.home-manager = {
        users = lib.mkOption {
          type = lib.types.attrsOf userType;
          default = { };
          description = "Per-user home-manager configuration.";
        };
        extraSpecialArgs = lib.mkOption {
          type = lib.types.attrs;
          default = { };
          description = "Extra special arguments of every user's evaluation.";
        };
        sharedModules = lib.mkOption {
          type = lib.types.listOf lib.types.deferredModule;
          default = [ ];
          description = "Modules added to every user's evaluation.";
        };
        useGlobalPkgs = lib.mkOption {
          type = lib.types.bool;
          default = false;
        };
        useUserPackages = lib.mkOption {
          type = lib.types.bool;
          default = false;
        };
        backupFileExtension = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
        };
        verbose = lib.mkOption {
          type = lib.types.bool;
          default = false;
        };
      };
    };
in
{
  nixosModules = rec {
    home-manager = systemModule "nixos";
    default = home-manager;
  };
  darwinModules = rec {
    home-manager = systemModule "darwin";
    default = home-manager;
  };
  lib.homeManagerConfiguration =
    args:
    system {
      class = "homeManager";
      modules = args.modules or [ ];
      specialArgs = args.extraSpecialArgs or { };
    };
  packages = unknown "home-manager.packages";
}

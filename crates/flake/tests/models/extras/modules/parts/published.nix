{ flake-parts-lib, config, ... }:
{
  flake.flakeModules.default = flake-parts-lib.importApply ../../static.nix { who = "world"; };
  flake.flakeModules.other = { perSystem.packages = { }; };
  flake.modules.flake.local = { systems = [ ]; };
  flake.nixosModules.server = { services.x = true; };
  flake.nixosModules.second = config.flake.nixosModules.server;
}

{ inputs, lib, ... }:
{
  imports = [
    inputs.flake-parts.flakeModules.flakeModules
    inputs.flake-parts.flakeModules.easyOverlay
    inputs.flake-parts.flakeModules.partitions
    inputs.flake-parts.flakeModules.touchup
    inputs.flake-parts.flakeModules.bundlers
    # imported twice: deduplicated by its file
    inputs.flake-parts.flakeModules.modules
  ];
  systems = [ "x86_64-linux" ];
  debug = true;
  greeting = lib.mkForce "hi";
  touchup.attr.legacyPackages.enable = false;
  touchup.attr.packages.any.attr.hidden.enable = false;
}

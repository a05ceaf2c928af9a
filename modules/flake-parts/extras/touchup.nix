# Model of flake-parts' `flakeModules.touchup`: defines `processedFlake`
# (what `mkFlake` returns) as `flake` filtered and transformed by the
# `touchup` tree (`touchup.attr.<name>.enable`, `touchup.any`, `finish`,
# nested to any depth), leaving `flake` itself untouched for other modules.
{ config, lib, ... }:
{
  options.touchup = lib.mkOption {
    type = lib.types.submoduleWith { modules = [ ./touchup/attrs.nix ]; };
    description = "Which flake output attributes `processedFlake` keeps, and how they are transformed.";
  };
  config.processedFlake = config.touchup.touchupApply config.flake;
}

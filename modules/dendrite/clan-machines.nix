# Every machine of a clan, evaluated leniently in its inventory class with
# the modules and special arguments clan gives it (the model's `dendrite`
# data, see ../clan-core/README.md).
{
  lib,
  unknown,
  lenient,
  models,
  ...
}:
data:
let
  system = import ./system.nix {
    inherit
      lib
      unknown
      lenient
      models
      ;
  };
in
builtins.mapAttrs (
  name: m:
  system {
    inherit (m) class;
    inherit name;
    modules = [ m.module ];
    specialArgs = m.specialArgs;
  }
) data.machines

# A lower-level configuration (a NixOS, nix-darwin or home-manager
# machine) evaluated leniently: the module arguments of its class (see
# ../classes), the flake's own modules type-checked, options of the
# framework dendrite does not carry accepted as they are defined.
#
# The result is `lib.evalModules`'s, plus `_dendrite`: what the checker
# needs to know of the evaluation (its class, the special arguments the
# user passed).
{
  lib,
  unknown,
  lenient,
  models,
  ...
}:
let
  classFiles = {
    nixos = ../classes/nixos.nix;
    darwin = ../classes/darwin.nix;
    homeManager = ../classes/home-manager.nix;
    generic = ../classes/generic.nix;
  };
  classModel =
    class: extra:
    let
      file = classFiles.${class} or classFiles.generic;
    in
    import file ({ inherit lib unknown; } // extra);
  # One model per class for every machine: its unknown values are then the
  # same objects in each evaluation, so machines share module templates
  # and option levels instead of each evaluating every module again.
  byClass = builtins.mapAttrs (class: _: classModel class { }) classFiles;
in
{
  class,
  modules,
  specialArgs ? { },
  # home-manager inside a system: { class; config; }
  os ? null,
  name ? null,
}:
let
  m = if class == "homeManager" then classModel class { inherit os; } else byClass.${class} or byClass.generic;
  result = lib.evalModules {
    inherit class;
    specialArgs = m.specialArgs // specialArgs;
    modules = [
      lenient
      m.module
    ]
    ++ modules;
  };
in
result
// {
  _dendrite = {
    inherit class name;
    userSpecialArgs = builtins.attrNames specialArgs;
    classArgs = m.argNames;
  };
}

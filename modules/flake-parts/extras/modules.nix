# Model of flake-parts' `flakeModules.modules`: the `flake.modules` option,
# the namespace of the dendritic pattern.
#
# `flake.modules.<class>.<name>` holds modules of a lower-level (or the
# flake) class; all definitions of one name, from any number of files,
# merge into one deferred module (the "aggregate"). The published value of
# every class but `generic` is wrapped, as upstream, in a function module
# (so a submodule option taking it accepts it as a full module) that
# declares `_class = <class>` - importing it into an evaluation of another
# class is an error - and a `_file` naming the flake and the attribute.
# There is no `key`, as upstream: importing the same value twice imports it
# twice.
{ lib, moduleLocation, ... }:
let
  inherit (lib.strings) escapeNixIdentifier;

  publish =
    class: name: module:
    if class == "generic" then
      module
    else
      { ... }:
      {
        _class = class;
        _file = "${toString moduleLocation}#modules.${escapeNixIdentifier class}.${escapeNixIdentifier name}";
        imports = [ module ];
      };
in
{
  options.flake.modules = lib.mkOption {
    type = lib.types.lazyAttrsOf (lib.types.lazyAttrsOf lib.types.deferredModule);
    apply = builtins.mapAttrs (class: builtins.mapAttrs (publish class));
    description = ''
      Groups of modules published by the flake, by class (`nixos`, `darwin`,
      `homeManager`, `flake`, ...); `generic` modules have no class.
    '';
  };
}

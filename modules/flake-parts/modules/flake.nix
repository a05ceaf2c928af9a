# Model of flake-parts' `flake` and `processedFlake` options.
#
# `flake` holds the raw outputs. Undeclared attributes are allowed
# (freeform) but, having no declared way to merge, may be defined only once:
# two files defining `flake.foo` is an error in real flake-parts, and must be
# here too. `processedFlake` is what `mkFlake` returns: `flake` itself unless
# a module (touchup) defines it.
{
  config,
  lib,
  options,
  ...
}:
let
  inherit (lib) mkOption types;
in
{
  options = {
    flake = mkOption {
      type = types.submoduleWith {
        modules = [
          {
            freeformType = types.lazyAttrsOf (
              types.unique {
                message = ''
                  No option has been declared for this flake output attribute, so its definitions can't be merged automatically.
                  Possible solutions:
                    - Load a module that defines this flake output attribute
                    - Declare an option for this flake output attribute
                    - Make sure the output attribute is spelled correctly
                    - Define the value only once, with a single definition in a single module
                '';
              } types.raw
            );
          }
        ];
      };
      description = "Raw flake output attributes.";
    };
    processedFlake = mkOption {
      type = types.raw;
      readOnly = true;
      apply = if options.processedFlake.isDefined then x: x else _: config.flake;
      description = "The final flake output, as returned by `mkFlake`.";
    };
  };
}

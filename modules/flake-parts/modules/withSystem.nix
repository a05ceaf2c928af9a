# Model of flake-parts' `withSystem`: `withSystem system (args: ...)` calls
# the function with the module arguments of that system's `perSystem`
# (`config`, `pkgs`, `inputs'`, `self'`, `system`, ...), to reach per-system
# values from top-level code such as `flake.nixosConfigurations`.
{
  lib,
  flake-parts-lib,
  getSystem,
  ...
}:
{
  options.perSystem = flake-parts-lib.mkPerSystemOption (
    {
      config,
      options,
      specialArgs,
      ...
    }:
    {
      _file = ./withSystem.nix;
      options.allModuleArgs = lib.mkOption {
        type = lib.types.lazyAttrsOf (lib.types.raw or lib.types.unspecified);
        internal = true;
        readOnly = true;
        description = "The module arguments of this perSystem evaluation, for `withSystem`.";
      };
      config.allModuleArgs = config._module.args // specialArgs // { inherit config options; };
    }
  );

  config._module.args.withSystem = system: f: f (getSystem system).allModuleArgs;
}

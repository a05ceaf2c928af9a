# Model of flake-parts' `moduleWithSystem`: turns a function of per-system
# arguments (`{ config, pkgs, inputs', ... }:` with `config` the perSystem
# config) into a module for a lower-level configuration (NixOS, ...). The
# system is read from that configuration's `system` or `pkgs` argument; each
# declared argument is looked up lazily, and an argument perSystem does not
# have fails only when used.
{ withSystem, ... }:
{
  _module.args.moduleWithSystem =
    module:
    { config, ... }:
    let
      args = config._module.args;
      system =
        args.system or args.pkgs.stdenv.hostPlatform.system
          or (throw "moduleWithSystem: Could not determine the configuration's system parameter for this module system application.");
      perSystemArgs = withSystem system (a: a);
      wanted = builtins.mapAttrs (
        name: _: perSystemArgs.${name} or (throw "moduleWithSystem: module argument `${name}` does not exist.")
      ) (builtins.functionArgs module);
    in
    {
      imports = [ (module wanted) ];
    };
}

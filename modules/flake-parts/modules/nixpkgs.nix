# Model of flake-parts' nixpkgs module: the `pkgs` argument of `perSystem`.
#
# Upstream it is the `nixpkgs` input's `legacyPackages.<system>`. dendrite
# does not evaluate nixpkgs, so it is an unknown value (the checks that
# force it are skipped), named after its system; without a `nixpkgs` input
# it fails as upstream does. Users may still set `_module.args.pkgs`.
unknown:
{ inputs, ... }:
{
  perSystem =
    { lib, system, ... }:
    {
      _module.args.pkgs = lib.mkOptionDefault (
        if inputs ? nixpkgs then
          unknown "pkgs for ${system}"
        else
          throw "flake-parts: The flake does not have a `nixpkgs` input. Please add it, or set `perSystem._module.args.pkgs` yourself."
      );
    };
}

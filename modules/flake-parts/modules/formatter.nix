# Model of flake-parts' `formatter` module: `perSystem.formatter` (a package
# or null) published as `formatter.<system>`.
#
# Flakes may not have null outputs, so the attribute is published only when
# it may be non-null somewhere. Like upstream, that is decided by evaluating
# `perSystem` once without a usable `system`: a failure or a non-null value
# means "maybe", and a system whose formatter is then null throws on access.
{
  config,
  lib,
  flake-parts-lib,
  ...
}:
let
  inherit (lib) mkOption types;
  probe = config.perSystem (
    throw "flake-parts probes perSystem without a system to find out whether `formatter` is always null; this message should have been caught."
  );
  attempt = builtins.tryEval probe.formatter;
  maybeDefined = !attempt.success || attempt.value != null;
in
{
  options = {
    flake.formatter = mkOption {
      type = types.lazyAttrsOf (types.nullOr types.package);
      default = { };
      description = "The package `nix fmt` runs, per system.";
    };
    perSystem = flake-parts-lib.mkPerSystemOption {
      _file = ./formatter.nix;
      options.formatter = mkOption {
        type = types.nullOr types.package;
        default = null;
        description = "The package `nix fmt` runs.";
      };
    };
  };
  config = {
    flake.formatter = lib.optionalAttrs maybeDefined (
      builtins.mapAttrs (
        system: c:
        if c.formatter != null then
          c.formatter
        else
          throw ''
            flake-parts could not determine statically that no formatter is defined for all systems, so it published `formatter.${system}`, which is null.
            Use the `touchup` module to remove the attribute or keep it for some systems only.
          ''
      ) config.allSystems
    );
    perInput = system: flake: { formatter = flake.formatter.${system}; };
  };
}

# Imported through import-tree's addPath.
{ moduleWithSystem, ... }:
{
  flake.modules.nixos.withSys = moduleWithSystem (
    { config, system }:
    { lib, ... }:
    {
      options.motdLine = lib.mkOption { type = lib.types.str; };
      config.motdLine = "${system}: ${config.motd}";
    }
  );
}

{ flake-parts-lib, lib, config, ... }:
{
  options.perSystem = flake-parts-lib.mkPerSystemOption (
    { config, ... }:
    {
      options.motd = lib.mkOption {
        type = lib.types.lines;
        default = "";
      };
    }
  );
  config = {
    transposition.motd = { };
    transposition.extraOut.adHoc = true;
    perSystem =
      {
        config,
        pkgs,
        final,
        system,
        inputs',
        ...
      }:
      {
        motd = "welcome to ${system}";
        extraOut = inputs'.nixpkgs.legacyPackages.name;
        packages.hello = pkgs.hello;
        packages.hidden = pkgs.hello;
        legacyPackages.x = pkgs.hello;
        overlayAttrs.myHello = config.packages.hello;
        bundlers.toTar = drv: drv;
      };
  };
}

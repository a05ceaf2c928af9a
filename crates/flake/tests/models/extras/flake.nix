# A flake using flake-parts' optional modules (flakeModules, partitions,
# easyOverlay, touchup, debug, bundlers), lib helpers (importApply,
# mkPerSystemOption, mkTransposedPerSystemModule, importAndPublish) and
# import-tree's configuration API (filterNot, addPath, map).
{
  outputs =
    inputs:
    let
      tree = (inputs.import-tree.filterNot (p: builtins.match ".*/ignored-.*" p != null)).addPath ./extra;
    in
    inputs.flake-parts.lib.mkFlake { inherit inputs; } {
      imports = [
        (tree ./modules)
        (inputs.flake-parts.lib.importAndPublish "greeter" ./greeter.nix)
      ];
    };
}

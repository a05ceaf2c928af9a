# The bundled models, as the values of flake inputs. `dendrite check` uses
# one when an input is neither given with `--input` nor on disk at the
# store path its flake.lock entry implies.
{
  lib,
  unknown,
  isUnknown,
  open,
  lenient,
  models,
}:
let
  args = {
    inherit
      lib
      unknown
      isUnknown
      open
      lenient
      models
      ;
    # A lower-level configuration evaluated leniently (./system.nix).
    evalSystem = import ./system.nix {
      inherit
        lib
        unknown
        lenient
        models
        ;
    };
  };
  # Models take the subset of the arguments they name.
  call =
    path:
    let
      f = import path;
      formals = builtins.functionArgs f;
    in
    if !builtins.isFunction f then
      f
    else
      f (if formals == { } then args else builtins.intersectAttrs formals args);
  # What every flake value has besides its outputs.
  asFlake =
    name: outputs:
    outputs
    // {
      _type = "flake";
      outPath = outputs.outPath or (unknown "the source of input `${name}'");
      inputs = outputs.inputs or { };
      outputs = outputs;
      sourceInfo = outputs.sourceInfo or { outPath = unknown "the source of input `${name}'"; };
    };
in
builtins.mapAttrs asFlake {
  flake-parts = call ../flake-parts;
  import-tree = call ../import-tree;
  clan-core = call ../clan-core;
  nixpkgs = call ../nixpkgs;
  home-manager = call ../home-manager;
  nix-darwin = call ../nix-darwin;
}

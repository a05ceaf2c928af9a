# Calls a flake on disk the way Nix does: `outputs` gets its inputs plus
# `self`, the outputs with `outPath`, `inputs`, `outputs` and `sourceInfo`.
{
  dir,
  inputs,
  unknown ? null,
}:
let
  flake = import (dir + "/flake.nix");
  outPath = toString dir;
  self =
    outputs
    // {
      _type = "flake";
      inherit outPath inputs outputs;
      sourceInfo = {
        inherit outPath;
      };
    };
  outputs = flake.outputs (inputs // { inherit self; });
in
self

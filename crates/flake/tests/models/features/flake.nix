# A dendritic flake (the outputs function only; the test supplies inputs):
# features merging into aggregates of several classes, machines importing
# them through the namespace, perSystem outputs, withSystem.
{
  outputs =
    inputs:
    inputs.flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}

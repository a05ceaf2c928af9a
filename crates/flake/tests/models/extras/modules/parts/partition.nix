{
  partitionedAttrs.checks = "dev";
  partitions.dev.extraInputs.devInput = {
    name = "dev-input";
  };
  partitions.dev.module =
    { inputs, partitionStack, ... }:
    {
      perSystem.checks.fromDev = {
        type = "derivation";
        name = inputs.devInput.name;
        outPath = "/nix/store/00000000000000000000000000000000-${builtins.concatStringsSep "-" partitionStack}";
      };
    };
}

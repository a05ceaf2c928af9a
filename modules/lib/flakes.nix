# Flake references.
{ lib }:
{
  inherit (builtins) parseFlakeRef flakeRefToString;
}

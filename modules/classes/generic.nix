# Module arguments of the `generic` class: modules with no class, usable in
# any evaluation, may rely only on what every lib.evalModules gives.
{ lib, unknown, ... }:
import ./common.nix {
  class = "generic";
  table = import ./evalModules.nix;
}

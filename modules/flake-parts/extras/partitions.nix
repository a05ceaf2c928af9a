# Model of flake-parts' `flakeModules.partitions`.
#
# A partition is a second evaluation of the top-level modules (through
# `extendModules`) with extra inputs, typically development inputs kept out
# of the main flake's lock file; `partitionedAttrs.<output> = "<partition>"`
# takes that flake output from the partition. Upstream loads the extra
# inputs by evaluating the partition's flake (`extraInputsFlake`, e.g.
# `./dev`) with flake-compat, which needs its lock and fetched inputs. Here
# each input that partition flake declares is an unknown value (checks that
# force it are skipped); a flake reference string makes the whole set
# unknown.
unknown:
{
  lib,
  config,
  inputs,
  extendModules,
  partitionStack,
  self,
  ...
}:
let
  inherit (lib) mkOption types;

  partitionInputs =
    location:
    if builtins.isPath location || (builtins.isString location && builtins.substring 0 1 location == "/") then
      builtins.mapAttrs (name: _: unknown "input ${name} of the partition flake ${toString location}") (
        (import (location + "/flake.nix")).inputs or { }
      )
    else
      unknown "inputs of the partition flake ${toString location}";

  partition =
    {
      config,
      options,
      name,
      ...
    }:
    {
      options = {
        extraInputsFlake = mkOption {
          type = types.raw;
          description = "A flake whose inputs are added to the `inputs` module argument in the partition.";
        };
        extraInputs = mkOption {
          type = types.lazyAttrsOf types.raw;
          default = { };
          description = "Extra inputs for the `inputs` module argument in the partition.";
        };
        module = mkOption {
          type =
            (extendModules {
              specialArgs =
                let
                  inputs' = inputs // config.extraInputs // { self = self'; };
                  self' = self // { inputs = inputs'; };
                in
                {
                  inputs = inputs';
                  self = self';
                  partitionStack = partitionStack ++ [ name ];
                };
            }).type;
          default = { };
          visible = "shallow";
          description = "The partition's top-level modules (a re-evaluation of the flake's).";
        };
      };
      config.extraInputs = lib.mkIf options.extraInputsFlake.isDefined (
        partitionInputs options.extraInputsFlake.value
      );
    };
in
{
  options = {
    partitionedAttrs = mkOption {
      type = types.attrsOf types.str;
      default = { };
      description = "Flake outputs taken from a partition (output name -> partition name).";
    };
    partitions = mkOption {
      type = types.attrsOf (types.submodule partition);
      default = { };
      description = "Separate evaluations of the flake's modules, with their own extra inputs.";
    };
  };

  config = {
    _module.args.partitionStack = [ ];
    flake = lib.optionalAttrs (partitionStack == [ ]) (
      builtins.mapAttrs (
        attr: partitionName: lib.mkForce config.partitions.${partitionName}.module.flake.${attr}
      ) config.partitionedAttrs
    );
  };
}

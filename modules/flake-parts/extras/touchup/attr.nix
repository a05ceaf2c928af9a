# One node of the touchup tree: whether the attribute is kept, plus the
# options of its own attributes (attrs.nix). `attrName` is a module argument.
{ lib, ... }:
{
  imports = [ ./attrs.nix ];
  options.enable = lib.mkOption {
    type = lib.types.bool;
    default = true;
    description = "Whether to include the attribute in the output.";
  };
  config._module.args.docsVisible = "shallow";
}

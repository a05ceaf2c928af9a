# The touchup options of one attribute set: `attr.<name>` (a node per
# attribute), `any` (merged into every node of this level), `finish` (a
# function applied to the result, its definitions merged with `type`), and
# the generated `touchupApply`. Each attribute's node is its own evaluation,
# with `attrName` as a special argument.
{
  config,
  lib,
  options,
  docsVisible,
  ...
}:
let
  inherit (lib) mkOption types;
  node = types.deferredModuleWith { staticModules = [ ./attr.nix ]; };

  touchupEach =
    set:
    lib.concatMapAttrs (
      name: value:
      let
        eval = lib.evalModules {
          prefix = lib.lists.init options.attr.loc;
          specialArgs.attrName = name;
          modules = [
            (config.attr.${name} or ./attr.nix)
            (if config.any == null then { } else config.any)
          ];
        };
      in
      if builtins.addErrorContext "while figuring out whether to enable '${name}'" eval.config.enable then
        {
          ${name} = builtins.addErrorContext "while touching up attribute '${name}'" (eval.config.touchupApply value);
        }
      else
        { }
    ) set;
in
{
  options = {
    attr = mkOption {
      type = types.lazyAttrsOf node;
      default = { };
      visible = docsVisible;
      description = "Touchup configuration of each attribute, by name.";
    };
    any = mkOption {
      type = types.nullOr node;
      default = null;
      visible = docsVisible;
      description = "Touchup configuration merged into every attribute of this level.";
    };
    type = mkOption {
      type = types.raw;
      default = types.raw;
      description = "The type merging the definitions of `finish`.";
    };
    finish = mkOption {
      type = types.functionTo config.type;
      default = v: v;
      description = "A function applied to the attribute set after this level's touchups.";
    };
    touchupApply = mkOption {
      type = types.functionTo types.raw;
      internal = true;
      readOnly = true;
      description = "The function applying this level's touchups.";
    };
  };
  config = {
    _module.args.docsVisible = lib.mkDefault true;
    touchupApply =
      v: config.finish (if config.attr != { } || config.any != null then touchupEach v else v);
  };
}

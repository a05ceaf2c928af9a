# The module arguments every lib.evalModules evaluation gives, whatever its
# class (nixpkgs lib/modules.nix). `name` is added by attrsOf-submodule
# options only, so it is not here.
{
  config = {
    via = "evalModules";
    value = null;
    doc = "the evaluation's configuration";
  };
  options = {
    via = "evalModules";
    value = null;
    doc = "the evaluation's option declarations";
  };
  lib = {
    via = "evalModules";
    value = null;
    doc = "the library evalModules was called from";
  };
  specialArgs = {
    via = "evalModules";
    value = null;
    doc = "the special arguments of the evaluation";
  };
  extendModules = {
    via = "evalModules";
    value = null;
    doc = "re-evaluate with more modules";
  };
  moduleType = {
    via = "evalModules";
    value = null;
    doc = "the evaluation as a submodule type";
  };
  _class = {
    via = "evalModules";
    value = null;
    doc = "the class of the evaluation";
  };
  _prefix = {
    via = "evalModules";
    value = null;
    doc = "the option path prefix of the evaluation";
  };
}

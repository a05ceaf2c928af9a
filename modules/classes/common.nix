# Shared by the class models: turns a table of module arguments into what
# an evaluation needs (see README.md).
#
# Each entry of `table` is `{ via; value; doc; }`:
#   via = "evalModules"  provided by lib.evalModules itself (value unused)
#   via = "specialArgs"  passed as a special argument (usable in `imports`)
#   via = "moduleArgs"   set through `_module.args` (not usable in `imports`)
{ class, table }:
let
  pick = via: builtins.mapAttrs (_: e: e.value) (
    builtins.removeAttrs table (builtins.filter (n: table.${n}.via != via) (builtins.attrNames table))
  );
in
{
  inherit class;
  argNames = builtins.attrNames table;
  args = table;
  specialArgs = pick "specialArgs";
  module = {
    _file = "dendrite/modules/classes#${class}";
    key = "dendrite/modules/classes#${class}";
    _module.args = pick "moduleArgs";
  };
}

# Assertions with readable messages.
{ lib }:
let
  pretty = lib.generators.toPretty { };
in
{
  # Use as `assert assertMsg cond "message";`: throws the message when false.
  assertMsg = cond: msg: cond || throw msg;

  assertOneOf =
    name: value: allowed:
    lib.asserts.assertMsg (builtins.elem value allowed) "${name} must be one of ${pretty allowed}, but is: ${pretty value}";

  assertEachOneOf =
    name: values: allowed:
    lib.asserts.assertMsg (builtins.all (v: builtins.elem v allowed) values)
      "each element in ${name} must be one of ${pretty allowed}, but is: ${pretty values}";

  checkAssertWarn =
    assertions: warnings: value:
    let
      failed = map (a: a.message) (builtins.filter (a: !a.assertion) assertions);
    in
    if failed == [ ] then
      lib.trivial.showWarnings warnings value
    else
      throw "\nFailed assertions:\n${builtins.concatStringsSep "\n" (map (m: "- ${m}") failed)}";
}

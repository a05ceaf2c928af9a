# dendrite's `lib.types`: every option type comes from dendrite's native
# module system (crates/modules/src/types.rs). dendrite recognises this file
# by its name and its siblings (see `classify` in crates/modules/src/lib.rs)
# and lays the native types over the set below, which therefore only names
# them.
#
# With the native module system off (DENDRITE_NATIVE_MODULES=0) nothing
# replaces these names, and using any of them throws a message saying why,
# rather than failing later with a missing attribute. (Passing nixpkgs'
# module files as `moduleSystem` to default.nix is the way to evaluate
# modules without the native layer.)
{ lib }:
let
  missing =
    name:
    throw "dendrite lib: lib.types.${name} comes from dendrite's native module system, which is off (DENDRITE_NATIVE_MODULES=0); turn it on, or pass nixpkgs' module files as `moduleSystem` to modules/lib/default.nix";

  # The names of nixpkgs' lib/types.nix, all provided natively.
  names = [
    "addCheck"
    "anything"
    "attrListOf"
    "attrListWith"
    "attrTag"
    "attrs"
    "attrsOf"
    "attrsWith"
    "bool"
    "boolByOr"
    "coercedTo"
    "commas"
    "defaultFunctor"
    "defaultTypeMerge"
    "deferredModule"
    "deferredModuleWith"
    "either"
    "enum"
    "envVar"
    "externalPath"
    "fileset"
    "float"
    "functionTo"
    "int"
    "ints"
    "isOptionType"
    "isType"
    "json"
    "lazyAttrsOf"
    "lines"
    "listOf"
    "loaOf"
    "luaInline"
    "mergeTypes"
    "mkOptionType"
    "noCheckForDocsModule"
    "nonEmptyListOf"
    "nonEmptyStr"
    "nullOr"
    "number"
    "numbers"
    "oneOf"
    "optionDeclaration"
    "optionDescriptionPhrase"
    "optionType"
    "package"
    "passwdEntry"
    "path"
    "pathInStore"
    "pathWith"
    "pkgs"
    "port"
    "raw"
    "separatedString"
    "serializableValueWith"
    "setType"
    "shellPackage"
    "singleLineStr"
    "str"
    "strMatching"
    "submodule"
    "submoduleWith"
    "toml"
    "types"
    "uniq"
    "unique"
    "unspecified"
  ];
in
builtins.listToAttrs (
  map (name: {
    inherit name;
    value = missing name;
  }) names
)

# dendrite's `lib.options`: option declarations (`mkOption`,
# `mkEnableOption`, `mkPackageOption`, ...), the merge functions of simple
# option types, the helpers that render option paths, files and
# definitions in messages, and option documentation values.
#
# These are plain functions: the native module system (crates/modules)
# replaces nothing in this file, and its `evalModules` calls back into
# `mkOption`, `showOption` and `showDefs` from here. Messages follow nixpkgs
# word for word because users and tests match on them.
{ lib }:
let
  b = builtins;

  prioritySuggestion = ''
    Use `lib.mkForce value` or `lib.mkDefault value` to change the priority on any of these definitions.
  '';

  isOption = lib.isType "option";

  # Only the listed attributes are allowed (the pattern checks the names);
  # all of them go into the declaration as given.
  mkOption =
    {
      default ? null,
      defaultText ? null,
      example ? null,
      description ? null,
      relatedPackages ? null,
      type ? null,
      apply ? null,
      internal ? null,
      visible ? null,
      readOnly ? null,
    }@attrs:
    attrs // { _type = "option"; };

  mkEnableOption =
    name:
    mkOption {
      default = false;
      example = true;
      description = "Whether to enable ${name}.";
      type = lib.types.bool;
    };

  # An option for a package of `pkgs`, found by attribute path (`name` or
  # `default` may be lists). The package is only looked up when the default
  # is used, so `pkgs` may be a set that cannot be fully evaluated.
  mkPackageOption =
    pkgs: name:
    {
      nullable ? false,
      default ? name,
      example ? null,
      extraDescription ? "",
      pkgsText ? "pkgs",
    }:
    let
      shortName = if b.isList name then lib.last name else name;
      defaultPath = lib.toList default;
      defaultText = lib.attrsets.showAttrPath defaultPath;
      defaults =
        if default != null then
          {
            default = lib.attrByPath defaultPath (throw "${defaultText} cannot be found in ${pkgsText}") pkgs;
            defaultText = literalExpression "${pkgsText}.${defaultText}";
          }
        else
          lib.optionalAttrs nullable { default = null; };
    in
    mkOption (
      defaults
      // {
        description =
          "The ${shortName} package to use." + (if extraDescription == "" then "" else " ") + extraDescription;
        type = if nullable then lib.types.nullOr lib.types.package else lib.types.package;
      }
      // lib.optionalAttrs (example != null) {
        example = literalExpression (
          if b.isList example then "${pkgsText}.${lib.attrsets.showAttrPath example}" else example
        );
      }
    );

  # A hidden option that accepts any definitions and cannot be read.
  mkSinkUndeclaredOptions =
    attrs:
    mkOption (
      {
        internal = true;
        visible = false;
        default = false;
        description = "Sink for option definitions.";
        type = lib.types.mkOptionType {
          name = "sink";
          check = _: true;
          merge = _: _: false;
        };
        apply = _: throw "Option value is not readable because the option is not declared.";
      }
      // attrs
    );

  # The merge of `types.unspecified`: one value as is; otherwise functions
  # merge pointwise, lists concatenate, sets update, booleans or, strings
  # concatenate and equal integers agree.
  mergeDefaultOption =
    loc: defs:
    let
      values = getValues defs;
      every = p: b.all p values;
    in
    if b.length values == 1 then
      b.head values
    else if every b.isFunction then
      x: mergeDefaultOption loc (map (f: f x) values)
    else if every b.isList then
      b.concatLists values
    else if every b.isAttrs then
      b.foldl' (acc: v: acc // v) { } values
    else if every b.isBool then
      b.foldl' (acc: v: acc || v) false values
    else if every b.isString then
      lib.concatStrings values
    else if every b.isInt && every (x: x == b.head values) then
      b.head values
    else
      throw "Cannot merge definitions of `${showOption loc}'. Definition values:${showDefs defs}";

  mergeUniqueOption =
    {
      message,
      merge ? _: defs: (b.head defs).value,
    }:
    loc: defs:
    if b.length defs == 1 then
      merge loc defs
    else
      assert b.length defs > 1;
      throw "The option `${showOption loc}' is defined multiple times while it's expected to be unique.\n${message}\nDefinition values:${showDefs defs}\n${prioritySuggestion}";

  mergeOneOption = mergeUniqueOption { message = ""; };

  # Several definitions are fine as long as their values are equal.
  mergeEqualOption =
    loc: defs:
    if defs == [ ] then
      abort "This case should never happen."
    else
      let
        first = b.head defs;
        conflict = b.filter (def: def.value != first.value) (b.tail defs);
      in
      if conflict == [ ] then
        first.value
      else
        throw "The option `${showOption loc}' has conflicting definition values:${
          showDefs [
            first
            (b.head conflict)
          ]
        }\n${prioritySuggestion}";

  getValues = map (x: x.value);
  getFiles = map (x: x.file);

  # An option path as users write it: components quoted when they are not
  # identifiers, except the `*` and `<name>` placeholders of documentation.
  showOption =
    parts:
    let
      placeholder = part: part == "*" || b.match "<(.*)>" part != null;
    in
    b.concatStringsSep "." (
      map (part: if placeholder part then part else lib.strings.escapeNixIdentifier part) parts
    );

  showFiles = files: b.concatStringsSep " and " (map (f: "`${f}'") files);

  # Each definition as "\n- In `file'" plus its value pretty-printed (at
  # most five lines; nothing when printing it fails).
  showDefs =
    defs:
    lib.concatMapStrings (
      def:
      let
        printed = b.tryEval (
          lib.generators.toPretty { } (
            lib.generators.withRecursion {
              depthLimit = 10;
              throwOnDepthLimit = false;
            } def.value
          )
        );
        lines = b.filter (l: !b.isList l) (b.split "\n" printed.value);
        shown = b.concatStringsSep "\n    " (lib.take 5 lines ++ lib.optional (b.length lines > 5) "...");
        suffix =
          if !printed.success then
            ""
          else if b.length lines > 1 then
            ":\n    " + shown
          else
            ": " + shown;
      in
      "\n- In `${def.file}'${suffix}"
    ) defs;

  showOptionWithDefLocs = opt: ''
    ${showOption opt.loc}, with values defined in:
    ${lib.concatMapStringsSep "\n" (file: "  - ${file}") opt.files}
  '';

  unknownModule = "<unknown-file>";

  literalExpression =
    text:
    if !b.isString text then
      throw "literalExpression expects a string."
    else
      {
        _type = "literalExpression";
        inherit text;
      };

  literalMD =
    text:
    if !b.isString text then
      throw "literalMD expects a string."
    else
      {
        _type = "literalMD";
        inherit text;
      };

  literalCode =
    languageTag: text:
    lib.literalMD ''
      ```${languageTag}
      ${text}
      ```
    '';

  # A value for documentation: literal values as they are, anything else
  # pretty-printed into a literal expression.
  renderOptionValue =
    v:
    if v ? _type && v ? text then
      v
    else
      literalExpression (
        lib.generators.toPretty {
          multiline = true;
          allowPrettyValues = true;
        } v
      );

  # A value with its derivations replaced by placeholders, for printing
  # option values without building anything.
  scrubOptionValue =
    x:
    if lib.isDerivation x then
      {
        type = "derivation";
        drvPath = x.name;
        outPath = x.name;
        name = x.name;
      }
    else if b.isList x then
      map scrubOptionValue x
    else if b.isAttrs x then
      b.mapAttrs (_: scrubOptionValue) (b.removeAttrs x [ "_args" ])
    else
      x;

  # The documentation entries of a tree of options (as in
  # `(evalModules ...).options`), sub-options of submodules included.
  optionAttrSetToDocList' =
    _: options:
    b.concatMap (
      opt:
      let
        name = showOption opt.loc;
        visible = opt.visible or true;
        type = opt.type or { };
        hasDefault =
          opt ? defaultText || opt ? default || (type.emptyValue or { }) ? value && type.getSubModules or null == null;
        entry = {
          inherit (opt) loc;
          inherit name;
          description = opt.description or null;
          declarations = b.filter (d: d != unknownModule) opt.declarations;
          internal = opt.internal or false;
          visible = if b.isBool visible then visible else visible == "shallow";
          readOnly = opt.readOnly or false;
          type = opt.type.description or "unspecified";
        }
        // lib.optionalAttrs (opt ? example) {
          example = b.addErrorContext "while evaluating the example of option `${name}`" (
            renderOptionValue opt.example
          );
        }
        // lib.optionalAttrs hasDefault {
          default =
            b.addErrorContext
              "while evaluating the ${if opt ? defaultText then "defaultText" else "default value"} of option `${name}`"
              (renderOptionValue (opt.defaultText or opt.default or opt.type.emptyValue.value));
        }
        // lib.optionalAttrs (opt ? relatedPackages && opt.relatedPackages != null) {
          inherit (opt) relatedPackages;
        };
        subOptions =
          let
            sub = opt.type.getSubOptions opt.loc;
          in
          if sub != { } then optionAttrSetToDocList' opt.loc sub else [ ];
        showSub = if b.isBool visible then visible else visible == "transparent";
      in
      [ entry ] ++ lib.optionals showSub subOptions
    ) (lib.collect isOption options);
in
{
  inherit
    isOption
    mkOption
    mkEnableOption
    mkPackageOption
    mkSinkUndeclaredOptions
    mergeDefaultOption
    mergeOneOption
    mergeUniqueOption
    mergeEqualOption
    getValues
    getFiles
    optionAttrSetToDocList'
    scrubOptionValue
    renderOptionValue
    literalExpression
    literalCode
    literalMD
    showOption
    showFiles
    showDefs
    showOptionWithDefLocs
    unknownModule
    ;
  optionAttrSetToDocList = optionAttrSetToDocList' [ ];
}

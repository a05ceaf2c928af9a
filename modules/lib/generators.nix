# Rendering Nix values as text: Nix-like pretty printing and a few
# configuration formats.
{ lib }:
let
  b = builtins;
  inherit (b) isAttrs isList isString isInt isFloat isBool concatStringsSep;
  inherit (lib.attrsets) mapAttrsToList isDerivation;
  inherit (lib.strings) escapeNixIdentifier;
  g = lib.generators;

  # Attributes left as they are by `withRecursion`.
  functionLikeAttrs = [ "__functor" "__functionArgs" "__toString" "__pretty" ];
in
{
  # Nix-like rendering of any value, for messages.
  toPretty =
    {
      allowPrettyValues ? false,
      multiline ? true,
      indent ? "",
    }:
    let
      render =
        ind: v:
        let
          open = if multiline then "\n${ind}  " else " ";
          close = if multiline then "\n${ind}" else " ";
          inner = render "${ind}  ";
        in
        if isInt v then
          toString v
        else if isFloat v then
          b.toJSON v
        else if isString v then
          renderString open close v
        else if v == true then
          "true"
        else if v == false then
          "false"
        else if v == null then
          "null"
        else if b.isPath v then
          toString v
        else if isList v then
          (if v == [ ] then "[ ]" else "[" + open + concatStringsSep open (map inner v) + close + "]")
        else if lib.trivial.isFunction v then
          renderFunction v
        else if isAttrs v then
          (
            if allowPrettyValues && v ? __pretty && v ? val then
              v.__pretty v.val
            else if v == { } then
              "{ }"
            else if v.type or null == "derivation" then
              "<derivation ${v.name or "???"}>"
            else
              "{"
              + open
              + concatStringsSep open (
                mapAttrsToList (
                  n: x: "${escapeNixIdentifier n} = ${b.addErrorContext "while evaluating an attribute `${n}`" (inner x)};"
                ) v
              )
              + close
              + "}"
          )
        else
          abort "generators.toPretty: should never happen (v = ${v})";

      # Several lines become an indented '' string unless the output is one line.
      renderString =
        open: close: str:
        let
          lines = b.filter isString (b.split "\n" str);
          quoted = l: b.replaceStrings [ "\\" "\"" "\${" ] [ "\\\\" "\\\"" "\\\${" ] l;
          indented = l: b.replaceStrings [ "\${" "''" ] [ "''\${" "'''" ] l;
          all = map indented lines;
          last = lib.lists.last all;
        in
        if multiline && b.length lines > 1 then
          "''" + open + concatStringsSep open (lib.lists.init all) + (if last == "" then close else open + last) + "''"
        else
          "\"" + concatStringsSep "\\n" (map quoted lines) + "\"";

      renderFunction =
        f:
        let
          args = lib.trivial.functionArgs f;
          shown = mapAttrsToList (n: hasDefault: if hasDefault then "${n}?" else n) args;
        in
        if args == { } then "<function>" else "<function, args: {${concatStringsSep ", " shown}}>";
    in
    render indent;

  # Makes evaluating the result stop (or throw) below `depthLimit` levels.
  withRecursion =
    {
      depthLimit,
      throwOnDepthLimit ? true,
    }:
    assert isInt depthLimit;
    let
      tooDeep = depth: depthLimit != null && depth > depthLimit;
      cutOff =
        if throwOnDepthLimit then
          throw "Exceeded maximum eval-depth limit of ${toString depthLimit} while trying to evaluate with `generators.withRecursion'!"
        else
          "<unevaluated>";
      # The value at `depth`, after checking the limit.
      at = depth: v: if tooDeep depth then cutOff else v;
      walk =
        depth: v:
        let
          child = x: walk (depth + 1) (at (depth + 1) x);
        in
        if isAttrs v then
          b.mapAttrs (n: x: if b.elem n functionLikeAttrs then x else child x) v
        else if isList v then
          map child v
        else
          at (depth + 1) v;
    in
    walk 0;

  # key=value lines and INI files.

  mkValueStringDefault =
    { }:
    v:
    let
      unsupported = what: x: abort ("generators.mkValueStringDefault: " + "${what} not supported: ${g.toPretty { } x}");
    in
    if isInt v then
      toString v
    else if isDerivation v then
      toString v
    else if isString v then
      v
    else if v == true then
      "true"
    else if v == false then
      "false"
    else if v == null then
      "null"
    else if isList v then
      unsupported "lists" v
    else if isAttrs v then
      unsupported "attrsets" v
    else if lib.trivial.isFunction v then
      unsupported "functions" v
    else if isFloat v then
      lib.strings.floatToString v
    else
      unsupported "this value is" (toString v);

  mkKeyValueDefault =
    {
      mkValueString ? g.mkValueStringDefault { },
    }:
    sep: k: v:
    "${lib.strings.escape [ sep ] k}${sep}${mkValueString v}";

  toKeyValue =
    {
      mkKeyValue ? g.mkKeyValueDefault { } "=",
      listsAsDuplicateKeys ? false,
      indent ? "",
    }:
    set:
    let
      line = k: v: indent + mkKeyValue k v + "\n";
      linesOf = k: v: if listsAsDuplicateKeys then map (line k) (lib.lists.toList v) else [ (line k v) ];
    in
    concatStringsSep "" (b.concatLists (mapAttrsToList linesOf set));

  toINI =
    {
      mkSectionName ? (name: lib.strings.escape [ "[" "]" ] name),
      mkKeyValue ? g.mkKeyValueDefault { } "=",
      listsAsDuplicateKeys ? false,
    }:
    sections:
    concatStringsSep "\n" (
      mapAttrsToList (
        name: values: "[${mkSectionName name}]\n" + g.toKeyValue { inherit mkKeyValue listsAsDuplicateKeys; } values
      ) sections
    );

  toINIWithGlobalSection =
    {
      mkSectionName ? (name: lib.strings.escape [ "[" "]" ] name),
      mkKeyValue ? g.mkKeyValueDefault { } "=",
      listsAsDuplicateKeys ? false,
    }:
    {
      globalSection,
      sections ? { },
    }:
    (if globalSection == { } then "" else g.toKeyValue { inherit mkKeyValue listsAsDuplicateKeys; } globalSection + "\n")
    + g.toINI { inherit mkSectionName mkKeyValue listsAsDuplicateKeys; } sections;

  # git-config(1) syntax: nested sets become `[section "sub.section"]`.
  toGitINI =
    let
      sectionName =
        name:
        let
          parts = lib.strings.splitString "." name;
        in
        if lib.strings.hasInfix "\"" name || b.length parts == 1 then
          name
        else
          "${b.head parts} \"${concatStringsSep "." (b.tail parts)}\"";
      valueString =
        v:
        g.mkValueStringDefault { } (
          if isString v then "\"${b.replaceStrings [ "\n" "\t" "\"" "\\" ] [ "\\n" "\\t" "\\\"" "\\\\" ] v}\"" else v
        );
      keyValue = g.mkKeyValueDefault { mkValueString = valueString; } " = ";
      entry = k: v: if isList v then concatStringsSep "\n" (map (x: "\t" + keyValue k x) v) else "\t" + keyValue k v;
      isPlainSet = v: isAttrs v && !isDerivation v;
      # Sets below the second level are named by their dotted path.
      flatten =
        set:
        let
          nested = b.filter (n: isAttrs set.${n} && b.any isPlainSet (b.attrValues set.${n})) (b.attrNames set);
          leaves =
            revPath: v:
            if isPlainSet v then
              b.concatMap (n: leaves ([ n ] ++ revPath) v.${n}) (b.attrNames v)
            else if b.length revPath > 1 then
              [ { ${concatStringsSep "." (lib.lists.reverseList (b.tail revPath))}.${b.head revPath} = v; } ]
            else
              [ { ${b.head revPath} = v; } ];
        in
        b.removeAttrs set nested
        // lib.lists.foldl lib.attrsets.recursiveUpdate { } (leaves [ ] (lib.attrsets.genAttrs nested (n: set.${n})));
    in
    set:
    g.toINI {
      mkKeyValue = entry;
      mkSectionName = sectionName;
    } (flatten set);

  # Formats that are JSON or simple enough to write directly.

  toJSON = { }: b.toJSON;
  # JSON is valid YAML.
  toYAML = { }: b.toJSON;

  toDhall =
    { }@args:
    v:
    if isAttrs v then
      "{ ${concatStringsSep ", " (mapAttrsToList (k: x: "${k} = ${g.toDhall args x}") v)} }"
    else if isList v then
      "[ ${concatStringsSep ", " (map (g.toDhall args) v)} ]"
    else if isInt v then
      (if v < 0 then "" else "+") + toString v
    else if isBool v then
      (if v then "True" else "False")
    else if lib.trivial.isFunction v then
      abort "generators.toDhall: cannot convert a function to Dhall"
    else if v == null then
      abort "generators.toDhall: cannot convert a null to Dhall"
    else
      b.toJSON v;

  toLua =
    {
      multiline ? true,
      indent ? "",
      asBindings ? false,
    }@args:
    v:
    let
      deeper = "${indent}  ";
      open = if multiline then "\n${deeper}" else " ";
      close = if multiline then "\n${indent}" else " ";
      innerArgs = args // {
        indent = if asBindings then indent else deeper;
        asBindings = false;
      };
      inner = g.toLua innerArgs;
      items = concatStringsSep ",${open}";
      badNames = b.filter (n: b.match "[[:alpha:]_][[:alnum:]_]*(\\.[[:alpha:]_][[:alnum:]_]*)*" n == null) (
        b.attrNames v
      );
    in
    if asBindings then
      assert lib.asserts.assertMsg (badNames == [ ]) "Bad Lua var names: ${g.toPretty { } badNames}";
      concatStringsSep "" (mapAttrsToList (k: x: "${indent}${k} = ${inner x}\n") v)
    else if v == null then
      "nil"
    else if isInt v || isFloat v || isString v || isBool v then
      b.toJSON v
    else if b.isPath v || isDerivation v then
      b.toJSON "${v}"
    else if isList v then
      (if v == [ ] then "{}" else "{${open}${items (map inner v)}${close}}")
    else if isAttrs v then
      (
        if v._type or null == "lua-inline" then
          "(${v.expr})"
        else if v == { } then
          "{}"
        else
          "{${open}${items (mapAttrsToList (k: x: "[${b.toJSON k}] = ${inner x}") v)}${close}}"
      )
    else
      abort "generators.toLua: type ${b.typeOf v} is unsupported";

  mkLuaInline = expr: {
    _type = "lua-inline";
    inherit expr;
  };
}

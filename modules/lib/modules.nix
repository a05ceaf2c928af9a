# dendrite's `lib.modules`: the parts of nixpkgs' module-system namespace
# that sit around `evalModules` (option renames and removals, aliases,
# definition merging helpers, module location helpers).
#
# `evalModules` itself and the property constructors (`mkIf`, `mkMerge`,
# `mkOverride` and its shorthands, `mkOrder`, `mkBefore`, `mkAfter`, the two
# default priorities) are native: dendrite recognises this file by its name
# and its siblings (see `classify` in crates/modules/src/lib.rs) and lays its
# Rust implementations over what this file returns. The Nix constructors
# below build the very same attribute sets (`{ _type = "if"; ... }`), so they
# only matter with the native layer off (DENDRITE_NATIVE_MODULES=0), where
# `evalModules` throws instead.
#
# Everything here reaches the other module-system names through the final
# `lib` (`lib.modules.mkIf`, `lib.types.submodule`, ...) so that the native
# versions are the ones used.
#
# Not provided: the internals of nixpkgs' interpreted `evalModules`
# (`collectModules`, `mergeModules`, `mergeModules'`, `mergeOptionDecls`):
# nothing in the corpus calls them and the native evaluator does that work.
{ lib }:
let
  inherit (lib.options)
    mkOption
    showOption
    showFiles
    showDefs
    ;
  m = lib.modules;
  b = builtins;

  # nixpkgs marks its low-level helpers as deprecated for outside use: the
  # first use through `lib.modules` prints the same warning there.
  deprecatedExport =
    name:
    lib.warn "External use of `lib.modules.${name}` is deprecated. If your use case isn't covered by non-deprecated functions, we'd like to know more and perhaps support your use case well, instead of providing access to these low level functions. In this case please open an issue in https://github.com/nixos/nixpkgs/issues/.";

  typeOf = v: v._type or "";

  # The constructors (replaced by the native layer when it is on).
  mkIf = condition: content: {
    _type = "if";
    inherit condition content;
  };
  mkMerge = contents: {
    _type = "merge";
    inherit contents;
  };
  mkOverride = priority: content: {
    _type = "override";
    inherit priority content;
  };
  mkOrder = priority: content: {
    _type = "order";
    inherit priority content;
  };

  # A module given as a bare set, a function or a file, with `file` as its
  # location when it has none of its own.
  setDefaultModuleLocation = file: module: {
    _file = file;
    imports = [ module ];
  };

  # The canonical `{ _file; _class; key; disabledModules; imports; options;
  # config; }` form of a module that is already a set.
  unifyModuleSyntax =
    file: key: module:
    let
      # `meta` and `freeformType` at the top are sugar for config values.
      addMeta = config: if module ? meta then m.mkMerge [ config { meta = module.meta; } ] else config;
      addFreeformType =
        config:
        if module ? freeformType then
          m.mkMerge [
            config
            { _module.freeformType = module.freeformType; }
          ]
        else
          config;
      common = {
        _file = toString module._file or file;
        _class = module._class or null;
        key = toString module.key or key;
        disabledModules = module.disabledModules or [ ];
      };
      explicitKeys = [
        "_class"
        "_file"
        "key"
        "disabledModules"
        "imports"
        "options"
        "config"
        "meta"
        "freeformType"
      ];
    in
    if module ? config || module ? options then
      let
        stray = b.attrNames (b.removeAttrs module explicitKeys);
      in
      if stray != [ ] then
        throw "Module `${key}' has an unsupported attribute `${b.head stray}'. This is caused by introducing a top-level `config' or `options' attribute. Add configuration attributes immediately on the top level instead, or move all of them (namely: ${toString stray}) into the explicit `config' attribute."
      else
        common
        // {
          imports = module.imports or [ ];
          options = module.options or { };
          config = addFreeformType (addMeta (module.config or { }));
        }
    else if !(b.isAttrs module) then
      throw "module ${file} (${key}) does not look like a module."
    else
      common
      // {
        imports = module.require or [ ] ++ module.imports or [ ];
        options = { };
        # In shorthand form, everything that is not module metadata is config.
        config = addFreeformType (
          b.removeAttrs module [
            "_class"
            "_file"
            "key"
            "disabledModules"
            "require"
            "imports"
            "freeformType"
          ]
        );
      };

  # Calls a module function with the arguments it names, each looked up
  # lazily in `args` and then in `config._module.args`: taking them from
  # `args` directly would force `_module.args` while it is being defined.
  applyModuleArgsIfFunction =
    key: f:
    args@{ config, ... }:
    if !lib.isFunction f then
      f
    else
      let
        lookup =
          name: _:
          lib.addErrorContext "while evaluating the module argument `${name}' in \"${key}\":" (
            args.${name} or (lib.addErrorContext
              "noting that argument `${name}` is not externally provided, so querying `_module.args` instead, requiring `config`"
              config._module.args.${name}
            )
          );
      in
      f (args // b.mapAttrs lookup (lib.functionArgs f));

  # mkMerge flattened and mkIf evaluated: the plain values a definition stands for.
  dischargeProperties =
    def:
    let
      t = typeOf def;
    in
    if t == "merge" then
      b.concatMap dischargeProperties def.contents
    else if t == "if" then
      if !b.isBool def.condition then
        throw "‘mkIf’ called with a non-Boolean condition"
      else if def.condition then
        dischargeProperties def.content
      else
        [ ]
    else
      [ def ];

  # mkMerge flattened and mkIf/mkOverride moved onto each attribute, so that
  # the attribute names of a config are known without its conditions.
  pushDownProperties =
    cfg:
    let
      t = typeOf cfg;
      # A property around a non-set is left alone; the type check reports it.
      wrapEach = wrap: v: if b.isAttrs v then b.mapAttrs (_: wrap) v else v;
    in
    if t == "merge" then
      b.concatMap pushDownProperties cfg.contents
    else if t == "if" then
      map (wrapEach (m.mkIf cfg.condition)) (pushDownProperties cfg.content)
    else if t == "override" then
      map (wrapEach (m.mkOverride cfg.priority)) (pushDownProperties cfg.content)
    else
      [ cfg ];

  priorityOf = def: if typeOf def.value == "override" then def.value.priority else m.defaultOverridePriority;
  unwrapOverride = def: if typeOf def.value == "override" then def // { value = def.value.content; } else def;

  # The definitions of the best (numerically lowest) priority, unwrapped,
  # with that priority.
  filterOverrides' =
    defs:
    if b.length defs == 1 then
      {
        values = map unwrapOverride defs;
        highestPrio = priorityOf (b.head defs);
      }
    else
      let
        best = b.foldl' (acc: def: lib.min (priorityOf def) acc) 9999 defs;
      in
      {
        values = b.concatMap (def: if priorityOf def == best then [ (unwrapOverride def) ] else [ ]) defs;
        highestPrio = best;
      };

  filterOverrides = defs: (filterOverrides' defs).values;

  # Definitions in mkOrder order (stable for equal priorities); each
  # unwrapped one carries its `priority`.
  sortProperties =
    defs:
    let
      unwrap =
        def:
        if typeOf def.value == "order" then
          def
          // {
            value = def.value.content;
            priority = def.value.priority;
          }
        else
          def;
      prio = def: def.priority or m.defaultOrderPriority;
    in
    b.sort (x: y: prio x < prio y) (map unwrap defs);

  # Types with `merge.v2` must keep the check that goes with it.
  checkV2MergeCoherence =
    loc: type: result:
    if type.check.isV2MergeCoherent or false then
      result
    else
      throw ''
        The option `${showOption loc}' has a type `${type.description}' that uses
        an ad-hoc `type // { check = ...; }' override, which is incompatible with
        the v2 merge mechanism.

        Please use `lib.types.addCheck` instead of `type // { check }' to add
        custom validation. For example:

          lib.types.addCheck baseType (value: /* your check */)

        instead of:

          baseType // { check = value: /* your check */; }

        Alternatively, this message may also occur as false positive when mixing Nixpkgs
        versions, if one Nixpkgs is between 83fed2e6..58696117 (Aug 28 - Oct 28 2025)
      '';

  # The merge of one option's definitions (`[ { file; value; } ]`) by `type`:
  # the same record as nixpkgs (`defsFinal'`, `defsFinal`, `mergedValue`,
  # `checkedAndMerged`, `isDefined`, `optionalValue`).
  mergeDefinitions =
    loc: type: defs:
    let
      single = b.length defs == 1;
      first = b.head defs;
      # One definition without any property needs no processing.
      plainSingle =
        single
        && lib.addErrorContext "while evaluating definitions from `${first.file}':" (
          !(b.isAttrs first.value && first.value ? _type)
        );
      expanded = b.concatMap (
        def:
        map (v: if typeOf v == "definition" then v else { inherit (def) file; value = v; }) (
          lib.addErrorContext "while evaluating definitions from `${def.file}':" (dischargeProperties def.value)
        )
      ) defs;
      best = filterOverrides' expanded;
      ordered =
        if b.any (def: typeOf def.value == "order") best.values then sortProperties best.values else best.values;

      defsFinal' =
        if plainSingle then
          {
            values = defs;
            highestPrio = m.defaultOverridePriority;
          }
        else
          {
            values = ordered;
            inherit (best) highestPrio;
          };
      defsFinal = defsFinal'.values;
      isDefined = defsFinal != [ ];

      notOfType = "A definition for option `${showOption loc}' is not of type `${type.description}'.";
      mergedValue =
        if isDefined then
          if type.merge ? v2 then
            if checkedAndMerged.headError or null != null then
              throw "${notOfType} TypeError: ${checkedAndMerged.headError.message}"
            else
              checkedAndMerged.value
          else if b.all (def: type.check def.value) defsFinal then
            type.merge loc defsFinal
          else
            throw "${notOfType} Definition values:${showDefs (b.filter (def: !type.check def.value) defsFinal)}"
        else if type.emptyValue ? value then
          type.emptyValue.value
        else
          throw "The option `${showOption loc}' was accessed but has no value defined. Try setting the option.";

      # Destructured so that a v2 merge returning anything else fails here.
      shape = { headError, value, valueMeta }@r: r;
      checkedAndMerged = shape (
        if type.merge ? v2 then
          let
            r = checkV2MergeCoherence loc type (
              type.merge.v2 {
                inherit loc;
                defs = defsFinal;
              }
            );
          in
          r // { valueMeta = r.valueMeta // { _internal = { inherit type; }; }; }
        else
          {
            headError = null;
            value = mergedValue;
            valueMeta = { };
          }
      );
    in
    {
      inherit
        defsFinal'
        defsFinal
        mergedValue
        checkedAndMerged
        isDefined
        ;
      optionalValue = if isDefined then { value = mergedValue; } else { };
    };

  # An option declaration (as `evalModules` has merged it) evaluated against
  # its definitions: the option record `options.<path>` holds.
  evalOptionValue =
    loc: opt: defs:
    let
      withDefault =
        if opt ? default then
          [
            {
              file = b.head opt.declarations;
              value = m.mkOptionDefault opt.default;
            }
          ]
          ++ defs
        else
          defs;
      res =
        if opt.readOnly or false && b.length withDefault > 1 then
          throw "The option `${showOption loc}' is read-only, but it's set multiple times. Definition values:${
            showDefs (map (def: def // { value = (mergeDefinitions loc opt.type [ def ]).mergedValue; }) withDefault)
          }"
        else
          mergeDefinitions loc opt.type withDefault;
      value = if opt ? apply then opt.apply res.mergedValue else res.mergedValue;
      deprecation =
        if opt.type.deprecationMessage != null then
          lib.warn "The type `types.${opt.type.name}' of option `${showOption loc}' defined in ${showFiles opt.declarations} is deprecated. ${opt.type.deprecationMessage}"
        else
          x: x;
    in
    deprecation opt
    // {
      value = lib.addErrorContext "while evaluating the option `${showOption loc}':" value;
      inherit (res.defsFinal') highestPrio;
      definitions = map (def: def.value) res.defsFinal;
      files = map (def: def.file) res.defsFinal;
      definitionsWithLocations = res.defsFinal;
      inherit (res) isDefined;
      inherit (res.checkedAndMerged) valueMeta;
      __toString = _: showOption loc;
    };

  # A declaration whose type has submodules gets them with the positions of
  # the option's own declarations.
  fixupOptionType =
    loc: opt:
    if opt.type.getSubModules or null == null then
      opt // { type = opt.type or lib.types.unspecified; }
    else
      opt
      // {
        type = opt.type.substSubModules opt.options;
        options = [ ];
      };

  # For an attrsOf/lazyAttrsOf option: each attribute's merged value with the
  # priority that won for it.
  mergeAttrDefinitionsWithPrio =
    opt:
    let
      perAttr = lib.zipAttrs (
        b.concatMap (
          def:
          b.concatMap (cfg: lib.mapAttrsToList (k: v: { ${k} = def // { value = v; }; }) cfg) (
            pushDownProperties def.value
          )
        ) opt.definitionsWithLocations
      );
    in
    assert opt.type.name == "attrsOf" || opt.type.name == "lazyAttrsOf";
    b.mapAttrs (
      k: defs:
      let
        r = mergeDefinitions (opt.loc ++ [ k ]) opt.type.nestedTypes.elemType defs;
      in
      {
        value = r.mergedValue;
        inherit (r.defsFinal') highestPrio;
      }
    ) perAttr;

  mkAssert =
    assertion: message: content:
    m.mkIf (if assertion then true else throw "\nFailed assertion: ${message}") content;

  mkDefinition = args@{ file, value, ... }: args // { _type = "definition"; };

  # `f` applied under every property of a definition.
  mapDefinitionValue =
    f: def:
    let
      t = def._type or null;
    in
    if t == "merge" then
      def // { contents = map (mapDefinitionValue f) def.contents; }
    else if t == "if" || t == "override" || t == "order" then
      def // { content = mapDefinitionValue f def.content; }
    else if t == "definition" then
      def // { value = mapDefinitionValue f def.value; }
    else
      f def;

  # Another option's definitions, properties included, as a definition.
  mkAliasAndWrapDefinitions = wrap: option: m.mkIf option.isDefined (wrap (m.mkMerge option.definitions));
  mkAliasDefinitions = mkAliasAndWrapDefinitions (x: x);
  # The same, keeping the priority that won for the other option.
  mkAliasAndWrapDefsWithPriority =
    wrap: option:
    m.mkIf option.isDefined (
      wrap (m.mkMerge (map (m.mkOverride (option.highestPrio or m.defaultOverridePriority)) option.definitions))
    );

  # The module that declares `from` as an alias of `to`: definitions of
  # `from` become definitions of `to` (with their priority unless
  # `withPriority` is false), `use` wraps reads of `from`, and `warn` adds a
  # warning when `from` is defined.
  doRename =
    {
      from,
      to,
      visible,
      warn,
      use,
      withPriority ? true,
      condition ? true,
    }:
    { config, options, ... }:
    let
      fromOpt = lib.getAttrFromPath from options;
      target = lib.attrByPath to (abort "Renaming error: option `${showOption to}' does not exist.");
      # `from` takes the type of `to` so that its definitions are checked and
      # shown like those of `to`; an attribute set of options is a submodule.
      toType = (lib.attrByPath to { } options).type or (lib.types.submodule { });
      alias = if withPriority then mkAliasAndWrapDefsWithPriority else mkAliasAndWrapDefinitions;
    in
    {
      options = lib.setAttrByPath from (
        mkOption {
          inherit visible;
          description = "Alias of {option}`${showOption to}`.";
          apply = _: use (target config);
        }
        // lib.optionalAttrs (toType != null) { type = toType; }
      );
      config = m.mkIf condition (
        m.mkMerge [
          (lib.optionalAttrs (options ? warnings) {
            warnings = lib.optional (
              warn && fromOpt.isDefined
            ) "The option `${showOption from}' defined in ${showFiles fromOpt.files} has been renamed to `${showOption to}'.";
          })
          (alias (lib.setAttrByPath to) fromOpt)
        ]
      );
    };

  renamedMessage = from: to: "Obsolete option `${showOption from}' is used. It was renamed to `${showOption to}'.";

  mkRenamedOptionModule =
    from: to:
    doRename {
      inherit from to;
      visible = false;
      warn = true;
      use = b.trace (renamedMessage from to);
    };

  mkRenamedOptionModuleWith =
    {
      from,
      to,
      sinceRelease,
    }:
    let
      old = lib.oldestSupportedReleaseIsAtLeast sinceRelease;
    in
    doRename {
      inherit from to;
      visible = false;
      warn = old;
      use = lib.warnIf old (renamedMessage from to);
    };

  mkAliasOptionModule =
    from: to:
    doRename {
      inherit from to;
      visible = true;
      warn = false;
      use = x: x;
    };

  # The module for an option that was removed: reading it throws, defining
  # it fails an assertion that explains what to do instead.
  mkRemovedOptionModule =
    optionName: replacementInstructions:
    { options, ... }:
    {
      options = lib.setAttrByPath optionName (mkOption {
        visible = false;
        apply =
          _:
          throw "The option `${showOption optionName}' can no longer be used since it's been removed. ${replacementInstructions}";
      });
      config.assertions =
        let
          opt = lib.getAttrFromPath optionName options;
        in
        [
          {
            assertion = !opt.isDefined;
            message = ''
              The option definition `${showOption optionName}' in ${showFiles opt.files} no longer has any effect; please remove it.
              ${replacementInstructions}
            '';
          }
        ];
    };

  # Several old options folded into `to` by `mergeFn config`; each old one
  # is a placeholder whose default marks it as unset.
  mkMergedOptionModule =
    from: to: mergeFn:
    { config, options, ... }:
    let
      unset = "_mkMergedOptionModule";
      isSet = path: lib.getAttrFromPath path config != unset;
    in
    {
      options = b.foldl' lib.recursiveUpdate { } (
        map (
          path:
          lib.setAttrByPath path (mkOption {
            visible = false;
            default = unset;
          })
        ) from
      );
      config = {
        warnings = b.filter (w: w != "") (
          map (
            path:
            lib.optionalString (isSet path)
              "The option `${showOption path}' defined in ${showFiles (lib.getAttrFromPath path options).files} has been changed to `${showOption to}' that has a different type. Please read `${showOption to}' documentation and update your configuration accordingly."
          ) from
        );
      }
      // lib.setAttrByPath to (m.mkMerge (lib.optional (b.any isSet from) (mergeFn config)));
    };

  mkChangedOptionModule =
    from: to: changeFn:
    mkMergedOptionModule [ from ] to changeFn;

  # A definition at the priority another option's value won with.
  mkDerivedConfig = opt: f: m.mkOverride (opt.highestPrio or m.defaultOverridePriority) (f opt.value);

  # `import file arg` as a module located at `file`.
  importApply = file: arg: lib.setDefaultModuleLocation file (import file arg);
  importJSON = file: {
    _file = file;
    config = lib.importJSON file;
  };
  importTOML = file: {
    _file = file;
    config = lib.importTOML file;
  };
in
{
  inherit
    setDefaultModuleLocation
    mergeDefinitions
    filterOverrides
    filterOverrides'
    sortProperties
    fixupOptionType
    evalOptionValue
    mergeAttrDefinitionsWithPrio
    mapDefinitionValue
    mkAssert
    mkDefinition
    mkAliasDefinitions
    mkAliasAndWrapDefinitions
    mkAliasAndWrapDefsWithPriority
    doRename
    mkRenamedOptionModule
    mkRenamedOptionModuleWith
    mkAliasOptionModule
    mkRemovedOptionModule
    mkMergedOptionModule
    mkChangedOptionModule
    mkDerivedConfig
    importApply
    importJSON
    importTOML
    ;

  mkAliasIfDef = lib.warn "Usage of 'mkAliasIfDef' has been deprecated. Use 'mkIf option.isDefined' instead." (
    option: m.mkIf option.isDefined
  );
  mkAliasOptionModuleMD = lib.warn "mkAliasOptionModuleMD is deprecated and will be removed in 26.05; please use mkAliasOptionModule." mkAliasOptionModule;
  mkFixStrictness = lib.warn "lib.mkFixStrictness has no effect and will be removed. It returns its argument unmodified, so you can just remove any calls." (
    x: x
  );
  fixMergeModules =
    modules: args:
    m.evalModules {
      inherit modules args;
      check = false;
    };

  applyModuleArgsIfFunction = deprecatedExport "applyModuleArgsIfFunction" applyModuleArgsIfFunction;
  dischargeProperties = deprecatedExport "dischargeProperties" dischargeProperties;
  pushDownProperties = deprecatedExport "pushDownProperties" pushDownProperties;
  unifyModuleSyntax = deprecatedExport "unifyModuleSyntax" unifyModuleSyntax;

  # Replaced by the native layer; see the header.
  inherit
    mkIf
    mkMerge
    mkOverride
    mkOrder
    ;
  mkOptionDefault = mkOverride 1500;
  mkDefault = mkOverride 1000;
  mkImageMediaOverride = mkOverride 60;
  mkForce = mkOverride 50;
  mkVMOverride = mkOverride 10;
  mkBefore = mkOrder 500;
  mkAfter = mkOrder 1500;
  defaultOverridePriority = 100;
  defaultOrderPriority = 1000;
  evalModules =
    _:
    throw "dendrite lib: lib.evalModules is dendrite's native module system, which is off (DENDRITE_NATIVE_MODULES=0); turn it on, or pass nixpkgs' module files as `moduleSystem` to modules/lib/default.nix";
}

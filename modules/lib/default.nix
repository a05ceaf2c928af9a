# dendrite's `lib`: the nixpkgs library layout (namespaces such as
# `lib.strings`, plus top-level aliases such as `lib.mapAttrs`) for flakes
# whose nixpkgs input is not on disk.
#
# Everything is written here in Nix except the core of the module system:
# `./modules.nix`, `./options.nix` and `./types.nix` are this library's own
# `lib.modules`, `lib.options` and `lib.types`, and dendrite lays its native
# `evalModules`, property constructors (`mkIf`, `mkMerge`, ...) and option
# types over them when it imports them (it recognises this directory; see
# `classify` in crates/modules/src/lib.rs). So `import ./. { }` is a complete
# library.
#
# `moduleSystem` replaces those three files: a function from the final
# `lib` to either
#   { modules = ...; options = ...; types = ...; }   (one set per namespace), or
#   { evalModules = ...; mkOption = ...; types = ...; ... }   (one flat set).
# Tests pass nixpkgs' own files this way, e.g.
#   moduleSystem = lib: {
#     modules = import <nixpkgs/lib/modules.nix> { inherit lib; };
#     options = import <nixpkgs/lib/options.nix> { inherit lib; };
#     types = import <nixpkgs/lib/types.nix> { inherit lib; };
#   };
# (`types` is the whole file: its own `types` attribute points back at `lib.types`).
{
  moduleSystem ? null,
}:
let
  b = builtins;

  # Names each namespace also exports at the top level, as in nixpkgs.
  topLevel = {
    builtins = [
      "getContext"
      "hasContext"
      "convertHash"
      "hashString"
      "parseDrvName"
      "placeholder"
      "fromJSON"
      "fromTOML"
      "toFile"
      "toJSON"
      "toString"
      "toXML"
      "tryEval"
    ];
    trivial = [
      "id"
      "const"
      "pipe"
      "concat"
      "or"
      "and"
      "mul"
      "div"
      "xor"
      "bitAnd"
      "bitOr"
      "bitXor"
      "bitNot"
      "boolToString"
      "boolToYesNo"
      "mergeAttrs"
      "flip"
      "defaultTo"
      "mapNullable"
      "inNixShell"
      "isFloat"
      "min"
      "max"
      "importJSON"
      "importTOML"
      "warn"
      "warnIf"
      "warnIfNot"
      "throwIf"
      "throwIfNot"
      "checkListOfEnum"
      "info"
      "showWarnings"
      "nixpkgsVersion"
      "version"
      "isInOldestRelease"
      "oldestSupportedReleaseIsAtLeast"
      "mod"
      "compare"
      "splitByAndCompare"
      "seq"
      "deepSeq"
      "lessThan"
      "add"
      "sub"
      "functionArgs"
      "setFunctionArgs"
      "isFunction"
      "toFunction"
      "mirrorFunctionArgs"
      "fromHexString"
      "toHexString"
      "toBaseDigits"
      "inPureEvalMode"
      "isBool"
      "isInt"
      "pathExists"
      "genericClosure"
      "readFile"
      "ceil"
      "floor"
    ];
    fixedPoints = [
      "fix"
      "fix'"
      "converge"
      "extends"
      "composeExtensions"
      "composeManyExtensions"
      "makeExtensible"
      "makeExtensibleWithCustomName"
      "toExtension"
    ];
    attrsets = [
      "attrByPath"
      "hasAttrByPath"
      "setAttrByPath"
      "getAttrFromPath"
      "attrVals"
      "attrNames"
      "attrValues"
      "getAttrs"
      "catAttrs"
      "filterAttrs"
      "filterAttrsRecursive"
      "foldlAttrs"
      "foldAttrs"
      "collect"
      "nameValuePair"
      "mapAttrs"
      "mapAttrs'"
      "mapAttrsToList"
      "attrsToList"
      "concatMapAttrs"
      "mapAttrsRecursive"
      "mapAttrsRecursiveCond"
      "mapAttrsToListRecursive"
      "mapAttrsToListRecursiveCond"
      "genAttrs"
      "genAttrs'"
      "isDerivation"
      "toDerivation"
      "optionalAttrs"
      "zipAttrsWithNames"
      "zipAttrsWith"
      "zipAttrs"
      "recursiveUpdateUntil"
      "recursiveUpdate"
      "matchAttrs"
      "mergeAttrsList"
      "overrideExisting"
      "showAttrPath"
      "getOutput"
      "getFirstOutput"
      "getBin"
      "getLib"
      "getStatic"
      "getDev"
      "getInclude"
      "getMan"
      "chooseDevOutputs"
      "recurseIntoAttrs"
      "dontRecurseIntoAttrs"
      "cartesianProduct"
      "mapCartesianProduct"
      "updateManyAttrsByPath"
      "listToAttrs"
      "hasAttr"
      "getAttr"
      "isAttrs"
      "intersectAttrs"
      "removeAttrs"
    ];
    lists = [
      "singleton"
      "forEach"
      "map"
      "foldr"
      "fold"
      "foldl"
      "foldl'"
      "imap0"
      "imap1"
      "filter"
      "ifilter0"
      "concatMap"
      "flatten"
      "remove"
      "findSingle"
      "findFirst"
      "any"
      "all"
      "count"
      "optional"
      "optionals"
      "toList"
      "range"
      "replicate"
      "partition"
      "zipListsWith"
      "zipLists"
      "reverseList"
      "listDfs"
      "toposort"
      "sort"
      "sortOn"
      "naturalSort"
      "compareLists"
      "take"
      "takeEnd"
      "drop"
      "dropEnd"
      "sublist"
      "last"
      "init"
      "crossLists"
      "unique"
      "uniqueStrings"
      "allUnique"
      "intersectLists"
      "subtractLists"
      "mutuallyExclusive"
      "groupBy"
      "groupBy'"
      "concatLists"
      "genList"
      "length"
      "head"
      "tail"
      "elem"
      "elemAt"
      "isList"
      "concatAttrValues"
      "replaceElemAt"
    ];
    strings = [
      "concatStrings"
      "concatMapStrings"
      "concatImapStrings"
      "stringLength"
      "substring"
      "isString"
      "replaceString"
      "replaceStrings"
      "intersperse"
      "concatStringsSep"
      "concatMapStringsSep"
      "concatMapAttrsStringSep"
      "concatImapStringsSep"
      "concatLines"
      "makeSearchPath"
      "makeSearchPathOutput"
      "makeLibraryPath"
      "makeIncludePath"
      "makeBinPath"
      "optionalString"
      "hasInfix"
      "hasPrefix"
      "hasSuffix"
      "join"
      "stringToCharacters"
      "stringAsChars"
      "escape"
      "escapeShellArg"
      "escapeShellArgs"
      "isStorePath"
      "isStringLike"
      "isValidPosixName"
      "toShellVar"
      "toShellVars"
      "trim"
      "trimWith"
      "escapeRegex"
      "escapeURL"
      "escapeXML"
      "lowerChars"
      "upperChars"
      "toLower"
      "toUpper"
      "toCamelCase"
      "toSentenceCase"
      "typeOf"
      "addContextFrom"
      "splitString"
      "splitStringBy"
      "removePrefix"
      "removeSuffix"
      "versionOlder"
      "versionAtLeast"
      "getName"
      "getVersion"
      "match"
      "split"
      "cmakeOptionType"
      "cmakeBool"
      "cmakeFeature"
      "mesonOption"
      "mesonBool"
      "mesonEnable"
      "nameFromURL"
      "enableFeature"
      "enableFeatureAs"
      "withFeature"
      "withFeatureAs"
      "fixedWidthString"
      "fixedWidthNumber"
      "toInt"
      "toIntBase10"
      "fileContents"
      "appendContext"
      "unsafeDiscardStringContext"
    ];
    stringsWithDeps = [
      "textClosureList"
      "textClosureMap"
      "noDepEntry"
      "fullDepEntry"
      "packEntry"
      "stringAfter"
    ];
    generators = [ "mkLuaInline" ];
    meta = [
      "addMetaAttrs"
      "dontDistribute"
      "setName"
      "updateName"
      "appendToName"
      "mapDerivationAttrset"
      "setPrio"
      "lowPrio"
      "lowPrioSet"
      "hiPrio"
      "hiPrioSet"
      "licensesSpdx"
      "getLicenseFromSpdxId"
      "getLicenseFromSpdxIdOr"
      "getExe"
      "getExe'"
    ];
    filesystem = [
      "pathType"
      "pathIsDirectory"
      "pathIsRegularFile"
      "baseNameOf"
      "dirOf"
      "isPath"
      "hashFile"
      "readDir"
      "readFileType"
    ];
    sources = [
      "cleanSourceFilter"
      "cleanSource"
      "commitIdFromGitRepo"
      "cleanSourceWith"
      "pathHasContext"
      "canCleanSource"
      "pathIsGitRepo"
      "revOrTag"
      "repoRevToName"
      "sourceByRegex"
      "sourceFilesBySuffices"
      "filterSource"
    ];
    asserts = [
      "assertMsg"
      "assertOneOf"
    ];
    debug = [
      "trace"
      "traceIf"
      "traceVal"
      "traceValFn"
      "traceSeq"
      "traceSeqN"
      "traceValSeq"
      "traceValSeqFn"
      "traceValSeqN"
      "traceValSeqNFn"
      "traceFnSeqN"
      "addErrorContext"
      "unsafeGetAttrPos"
      "runTests"
      "testAllTrue"
    ];
    versions = [
      "compareVersions"
      "splitVersion"
    ];
    derivations = [
      "lazyDerivation"
      "optionalDrvAttr"
      "warnOnInstantiate"
      "addDrvOutputDependencies"
      "unsafeDiscardOutputDependency"
    ];
    flakes = [
      "parseFlakeRef"
      "flakeRefToString"
    ];
  };

  # Top-level names of the module system, by namespace.
  moduleSystemTopLevel = {
    modules = [
      "evalModules"
      "setDefaultModuleLocation"
      "unifyModuleSyntax"
      "applyModuleArgsIfFunction"
      "mergeModules"
      "mergeModules'"
      "mergeOptionDecls"
      "mergeDefinitions"
      "pushDownProperties"
      "dischargeProperties"
      "filterOverrides"
      "sortProperties"
      "fixupOptionType"
      "mkIf"
      "mkAssert"
      "mkDefinition"
      "mkMerge"
      "mkOverride"
      "mkOptionDefault"
      "mkDefault"
      "mkImageMediaOverride"
      "mkForce"
      "mkVMOverride"
      "mkFixStrictness"
      "mkOrder"
      "mkBefore"
      "mkAfter"
      "mkAliasDefinitions"
      "mkAliasAndWrapDefinitions"
      "fixMergeModules"
      "mkRemovedOptionModule"
      "mkRenamedOptionModule"
      "mkRenamedOptionModuleWith"
      "mkMergedOptionModule"
      "mkChangedOptionModule"
      "mkAliasOptionModule"
      "mkDerivedConfig"
      "doRename"
      "mkAliasOptionModuleMD"
    ];
    options = [
      "isOption"
      "mkEnableOption"
      "mkSinkUndeclaredOptions"
      "mergeDefaultOption"
      "mergeOneOption"
      "mergeEqualOption"
      "mergeUniqueOption"
      "getValues"
      "getFiles"
      "optionAttrSetToDocList"
      "optionAttrSetToDocList'"
      "scrubOptionValue"
      "literalExpression"
      "showOption"
      "showOptionWithDefLocs"
      "showFiles"
      "unknownModule"
      "mkOption"
      "mkPackageOption"
      "literalMD"
    ];
    types = [
      "isType"
      "setType"
      "defaultTypeMerge"
      "defaultFunctor"
      "isOptionType"
      "mkOptionType"
    ];
  };

  # { name = from.${name}; } for each name, without forcing `from`.
  pick = from: names: b.listToAttrs (map (n: { name = n; value = from.${n}; }) names);

  # The library body, given the final library (so that `extend` can re-tie it).
  body =
    self:
    let
      load = file: import file { lib = self; };

      supplied =
        if moduleSystem == null then
          {
            modules = load ./modules.nix;
            options = load ./options.nix;
            types = load ./types.nix;
          }
        else
          moduleSystem self;
      # A namespace of the module system, from a per-namespace or a flat set.
      msNamespace = ns: supplied.${ns} or supplied;
      fromModuleSystem =
        ns: names:
        b.listToAttrs (
          map (n: {
            name = n;
            # Some internals of nixpkgs' interpreted evalModules have no
            # counterpart here (see README.md): say so when they are used.
            value =
              supplied.${n} or (msNamespace ns).${n}
                or (throw "dendrite lib: lib.${n} (an internal of nixpkgs' interpreted module system) is not provided by dendrite's lib");
          }) names
        );

      namespaces = {
        trivial = load ./trivial.nix;
        fixedPoints = load ./fixed-points.nix;
        attrsets = load ./attrsets.nix;
        lists = load ./lists.nix;
        strings = load ./strings.nix;
        stringsWithDeps = load ./strings-with-deps.nix;
        meta = load ./meta.nix;
        versions = load ./versions.nix;
        licenses = load ./licenses.nix;
        systems = load ./systems.nix;
        generators = load ./generators.nix;
        asserts = load ./asserts.nix;
        debug = load ./debug.nix;
        path = load ./path.nix;
        filesystem = load ./filesystem.nix;
        fileset = load ./fileset.nix;
        sources = load ./sources.nix;
        derivations = load ./derivations.nix;
        sourceTypes = load ./source-types.nix;
        cli = load ./cli.nix;
        flakes = load ./flakes.nix;

        platforms = self.systems.doubles;
        # The maintainer list is nixpkgs data that dendrite does not carry.
        maintainers = throw "dendrite lib: lib.maintainers (the nixpkgs maintainer list) is not available";

        modules = msNamespace "modules";
        options = msNamespace "options";
        types = supplied.types;
      };

      aliases = b.foldl' (acc: ns: acc // pick (if ns == "builtins" then b else namespaces.${ns}) topLevel.${ns}) { } (
        b.attrNames topLevel
      );

      # Internals of nixpkgs' interpreted evalModules that ./modules.nix does
      # not have (see README.md): no top-level alias either.
      notOwn = [
        "mergeModules"
        "mergeModules'"
        "mergeOptionDecls"
      ];
      ownNames = names: if moduleSystem == null then b.filter (n: !(b.elem n notOwn)) names else names;

      moduleAliases =
        b.foldl' (acc: ns: acc // fromModuleSystem ns (ownNames moduleSystemTopLevel.${ns})) { } (
          b.attrNames moduleSystemTopLevel
        )
        // {
          evalOptionValue = self.trivial.warn "External use of `lib.evalOptionValue` is deprecated. If your use case isn't covered by non-deprecated functions, we'd like to know more and perhaps support your use case well, instead of providing access to these low level functions. In this case please open an issue in https://github.com/nixos/nixpkgs/issues/." (
            supplied.evalOptionValue or (msNamespace "modules").evalOptionValue
          );
        };
    in
    namespaces // aliases // moduleAliases;

  # Like `lib.makeExtensible`, with `extend` returning an extensible library.
  lib = body lib // {
    extend = overlay: lib.fixedPoints.makeExtensible (lib.fixedPoints.extends overlay body);
  };
in
lib

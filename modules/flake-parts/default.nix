# dendrite's model of flake-parts (github:hercules-ci/flake-parts).
#
# `dendrite check` uses this as the outputs of a flake's `flake-parts` input
# when that input is not on disk (the usual case): `lib.mkFlake` and the
# rest of the public library, and `flakeModules` (the built-in modules and
# the optional extras). Dendritic flakes are one `mkFlake` call over every
# file of `modules/`, so everything the checker knows about a flake comes out
# of this evaluation: it has to declare the same options, with the same types
# and merge behaviour, the same module arguments, and wrap published modules
# the same way (`flake.modules.<class>.<name>` carrying `_class`).
#
# Written from flake-parts' documentation and behaviour, not from its code.
#
# Arguments:
#   lib      the nixpkgs library the flake's modules see (nixpkgs' own, or
#            dendrite's `modules/lib`).
#   unknown  a function from a description to a value standing for something
#            dendrite cannot know without nixpkgs or another input (forcing
#            it aborts only the checks that need it). Used for `pkgs` in
#            `perSystem` and for the inputs of partition flakes.
#
# Every module is a file of this directory (so that positions and the
# module system's deduplication keys are stable paths); the two that need
# `unknown` are functions of it, wrapped here with their file as key.
{ lib, unknown }:
let
  inherit (lib) mkOption types;

  withUnknown =
    file:
    let
      name = toString file;
    in
    {
      _file = name;
      key = name;
      imports = [ (import file unknown) ];
    };

  builtinModules = {
    apps = ./modules/apps.nix;
    checks = ./modules/checks.nix;
    debug = ./modules/debug.nix;
    devShells = ./modules/devShells.nix;
    flake = ./modules/flake.nix;
    formatter = ./modules/formatter.nix;
    legacyPackages = ./modules/legacyPackages.nix;
    moduleWithSystem = ./modules/moduleWithSystem.nix;
    nixosConfigurations = ./modules/nixosConfigurations.nix;
    nixosModules = ./modules/nixosModules.nix;
    nixpkgs = withUnknown ./modules/nixpkgs.nix;
    overlays = ./modules/overlays.nix;
    packages = ./modules/packages.nix;
    perSystem = ./modules/perSystem.nix;
    transposition = ./modules/transposition.nix;
    withSystem = ./modules/withSystem.nix;
  };

  extraModules = {
    bundlers = ./extras/bundlers.nix;
    easyOverlay = ./extras/easyOverlay.nix;
    flakeModules = ./extras/flakeModules.nix;
    modules = ./extras/modules.nix;
    partitions = withUnknown ./extras/partitions.nix;
    touchup = ./extras/touchup.nix;
  };

  # The `perSystem` option's type: a deferred module whose merge returns the
  # list of modules (not one module, as nixpkgs' deferredModule does), each
  # definition tagged with where it came from. Several declarations of
  # `perSystem` (one per built-in module) merge by concatenating their
  # static modules, which is how modules add options to `perSystem`.
  perSystemModulesType =
    staticModules:
    lib.mkOptionType {
      name = "deferredModule";
      description = "module";
      check = x: builtins.isAttrs x || builtins.isFunction x || types.path.check x;
      merge =
        loc: defs:
        staticModules
        ++ map (def: {
          _file = "${def.file}, via option ${lib.showOption loc}";
          imports = [ def.value ];
        }) defs;
      inherit (types.submoduleWith { modules = staticModules; }) getSubOptions getSubModules;
      substSubModules = perSystemModulesType;
      functor = lib.defaultFunctor "deferredModuleWith" // {
        type = payload: perSystemModulesType payload.staticModules;
        payload = { inherit staticModules; };
        binOp = a: b: { staticModules = a.staticModules ++ b.staticModules; };
      };
    };

  isFlake =
    x: if x ? _type then x._type == "flake" else x ? inputs && x ? outputs && x ? sourceInfo;

  usage = ''
    Call it with the flake's output function arguments, e.g.

        outputs = inputs@{ flake-parts, ... }:
          flake-parts.lib.mkFlake { inherit inputs; } { /* module */ };

    Passing `self.inputs` (or `inherit (self) inputs`) instead recurses
    infinitely.
  '';

  flake-parts-lib = {
    evalFlakeModule =
      args@{
        inputs ? self.inputs,
        specialArgs ? { },
        self ? inputs.self or (throw "flake-parts: mkFlake needs all the flake output arguments, not just `self.inputs`.\n${usage}"),
        moduleLocation ? "${self.outPath}/flake.nix",
      }:
      let
        # Where the top-level module is said to come from in messages: the
        # caller's `inputs` attribute when Nix tells us, else flake.nix.
        inputsPos = builtins.unsafeGetAttrPos "inputs" args;
        location =
          args.moduleLocation or (
            if inputsPos != null then
              inputsPos.file
            else if args ? inputs.self.outPath then
              args.inputs.self.outPath + "/flake.nix"
            else
              "<mkFlake argument>"
          );
      in
      if !(args ? self) && !(args ? inputs) then
        throw "flake-parts: mkFlake needs the flake output arguments.\n${usage}"
      else
        lib.warnIf (!(args ? inputs))
          "flake-parts: pass all the flake output arguments as `inputs`; with only `self`, modules cannot use `inputs` in `imports`.\n${usage}"
          (
            module:
            lib.evalModules {
              specialArgs = {
                inherit self flake-parts-lib moduleLocation;
                inputs = args.inputs or self.inputs;
              }
              // specialArgs;
              modules = builtins.attrValues builtinModules ++ [ (lib.setDefaultModuleLocation location module) ];
              class = "flake";
            }
          );

    mkFlake = args: module: (flake-parts-lib.evalFlakeModule args module).config.processedFlake;

    defaultModule = x: if isFlake x then x.flakeModules.default or x else x;

    mkSubmoduleOptions =
      options:
      mkOption {
        type = types.submoduleWith { modules = [ { inherit options; } ]; };
      };

    mkPerSystemType = module: perSystemModulesType [ module ];
    mkDeferredModuleType = module: perSystemModulesType [ module ];
    mkDeferredModuleOption = module: mkOption { type = perSystemModulesType [ module ]; };
    mkPerSystemOption = module: mkOption { type = perSystemModulesType [ module ]; };

    attrsWith =
      types.attrsWith or (
        {
          elemType,
          lazy ? false,
          placeholder ? "name",
        }:
        if lazy then types.attrsOf elemType else types.lazyAttrsOf elemType
      );

    # A per-system option `perSystem.<name>` published, transposed, as the
    # flake output `<name>.<system>`.
    mkTransposedPerSystemModule =
      {
        name,
        option,
        file,
      }:
      {
        _file = file;
        options = {
          flake.${name} = mkOption {
            type = flake-parts-lib.attrsWith {
              elemType = option.type;
              lazy = true;
              placeholder = "system";
            };
            default = { };
            description = "See {option}`perSystem.${name}` for description and examples.";
          };
          perSystem = flake-parts-lib.mkPerSystemOption {
            _file = file;
            options.${name} = option;
          };
        };
        config.transposition.${name} = { };
      };

    mkAliasOptionModule =
      from: to:
      { config, options, ... }:
      let
        fromOpt = lib.getAttrFromPath from options;
        target = lib.attrByPath to (abort "Renaming error: option `${lib.showOption to}' does not exist.");
        targetType = (lib.attrByPath to { } options).type or (types.submodule { });
      in
      {
        options = lib.setAttrByPath from (
          mkOption (
            {
              visible = true;
              description = "Alias of {option}`${lib.showOption to}`.";
              apply = _: target config;
            }
            // lib.optionalAttrs (targetType != null) { type = targetType; }
          )
        );
        config = lib.modules.mkAliasAndWrapDefsWithPriority (lib.setAttrByPath to) fromOpt;
      };

    importApply = path: staticArgs: lib.setDefaultModuleLocation path (import path staticArgs);

    # Upstream memoizes per string through a trie; the result is the same
    # value, which is all a checker observes.
    memoizeStr = f: s: f s;

    importAndPublish =
      name: module:
      { lib, ... }:
      {
        _class = "flake";
        imports = [
          module
          extraModules.modules
        ];
        flake.modules.flake.${name} = module;
      };
  };
in
{
  lib = flake-parts-lib;
  flakeModules = builtinModules // extraModules;
  # Templates are for `nix flake init`; a checker only needs them to exist.
  templates = lib.genAttrs [ "default" "multi-module" "unfree" "package" ] (name: {
    path = unknown "flake-parts template ${name}";
    description = "A flake-parts template (${name}).";
  });
}

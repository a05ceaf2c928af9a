# The `clan` class module (upstream: modules/clan/top-level-interface.nix,
# module.nix, distributed-services.nix): every option a user's `clan = { }`
# block can set, typed as upstream, the automatic machine registration
# upstream performs, and `dendrite`, the data the checker reads.
#
# Upstream adds machines to the inventory from three places besides
# `inventory.machines` itself: `<directory>/inventory.json`, every directory
# under `<directory>/machines/`, and every name in `clan.machines`. The same
# happens here, so a machine defined only in `clan.machines` is a real
# inventory machine (class nixos by default), exactly as upstream.
{
  lib,
  config,
  options,
  clan-core,
  clanLib,
  unknown,
  self ? null,
  ...
}:
let
  inherit (lib) mkOption types;

  # Files of the modules below that feed the inventory on the user's behalf;
  # they are told apart from the user's own inventory definitions by these.
  # Constant on purpose: a module's `_file` is read while modules are
  # collected, before `config.directory` may be used.
  autoFile = "dendrite clan-core model: automatic inventory registration";
  jsonMarker = "dendrite clan-core model: inventory.json";
  jsonFile = "${toString config.directory}/inventory.json";
  machinesDir = "${toString config.directory}/machines";

  inventoryJson =
    if builtins.pathExists jsonFile then builtins.fromJSON (builtins.readFile jsonFile) else { };
  dirMachines =
    if builtins.pathExists machinesDir then
      lib.attrNames (lib.filterAttrs (_: kind: kind == "directory") (builtins.readDir machinesDir))
    else
      [ ];

  lenient = types.submodule { freeformType = types.lazyAttrsOf types.raw; };

  data = import ./dendrite.nix {
    inherit
      lib
      config
      options
      clan-core
      clanLib
      unknown
      autoFile
      jsonMarker
      inventoryJson
      dirMachines
      ;
  };
in
{
  imports = [
    {
      _file = jsonMarker;
      # A function, so that the file name (from config.directory) is only
      # computed when the inventory is evaluated; the definitions inside
      # still carry the JSON file as their location.
      inventory = _: lib.setDefaultModuleLocation jsonFile inventoryJson;
    }
    {
      _file = autoFile;
      inventory.machines = lib.genAttrs dirMachines (_: { }) // lib.mapAttrs (_: _: { }) config.machines;
    }
  ];

  options = {
    _prefix = mkOption {
      type = types.listOf types.str;
      internal = true;
      default = [ ];
    };
    _dependencies.flake-config = mkOption {
      type = types.raw;
      internal = true;
      default = null;
    };
    checks = mkOption {
      type = types.attrsOf (
        types.submodule {
          options.ignore = mkOption {
            type = types.bool;
            default = false;
          };
          options.assertion = mkOption {
            type = types.bool;
            readOnly = true;
          };
          options.message = mkOption { type = types.str; };
        }
      );
      default = { };
    };
    self = mkOption {
      type = types.raw;
      default = self;
      # As upstream: `self.inputs.self.clan` is this configuration, which is
      # how `module.input = "self"` finds the flake's own services.
      apply =
        s:
        if lib.isAttrs s then
          s // { inputs = (s.inputs or { }) // { self.clan = config; }; }
        else
          s;
    };
    varsDirectory = mkOption {
      type = types.nullOr types.path;
      default = null;
    };
    directory = mkOption {
      type = types.coercedTo types.raw (
        v:
        if lib.isAttrs v && !(v ? outPath) then
          lib.warn "It appears you set 'clan.directory = self'. Instead set 'clan.self = self'." v
        else if v == null then
          throw "Please set either clan.self or clan.directory"
        else
          v
      ) types.path;
      default = if config.self == null then null else toString config.self;
    };
    exports = mkOption {
      type = types.lazyAttrsOf types.raw;
      default = { };
    };
    exportInterfaces = mkOption {
      type = types.attrsOf types.deferredModule;
      internal = true;
      default = { };
    };
    specialArgs = mkOption {
      type = types.attrsOf types.raw;
      default = { };
    };
    machines = mkOption {
      type = types.attrsOf types.deferredModule;
      default = { };
    };
    modules = mkOption {
      type = types.attrsOf types.raw;
      default = { };
    };
    deprecatedModules = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
    # Templates, vars and secrets settings are not modelled in detail;
    # accepted as data so that real flakes setting them stay clean.
    templates = mkOption {
      type = lenient;
      default = { };
    };
    vars = mkOption {
      type = lenient;
      default = { };
    };
    secrets = mkOption {
      type = lenient;
      default = { };
    };
    inventory = mkOption {
      type = types.submoduleWith { modules = [ ./inventory.nix ]; };
      default = { };
    };
    meta = mkOption {
      type = types.deferredModuleWith { staticModules = [ ./meta.nix ]; };
      default = { };
    };
    pkgsForSystem = mkOption {
      type = types.functionTo (types.nullOr types.attrs);
      default = _system: null;
    };
    nixosConfigurations = mkOption {
      type = types.lazyAttrsOf types.raw;
      default = { };
    };
    darwinConfigurations = mkOption {
      type = types.lazyAttrsOf types.raw;
      default = { };
    };
    nixosModules = mkOption {
      type = types.lazyAttrsOf types.raw;
      default = { };
    };
    darwinModules = mkOption {
      type = types.lazyAttrsOf types.raw;
      default = { };
    };
    clanInternals = mkOption {
      type = lenient;
      default = { };
    };
    dendrite = mkOption {
      type = types.raw;
      readOnly = true;
      internal = true;
      description = "Data for `dendrite check`; see modules/clan-core/README.md.";
    };
  };

  config = {
    inventory.meta = config.meta;
    specialArgs.self = lib.mkDefault config.self;
    dendrite = data;

    # Exposed like upstream; a system can not be built without nixpkgs, so
    # the configurations themselves are unknown.
    nixosModules = lib.mapAttrs' (name: m: lib.nameValuePair "clan-machine-${name}" m.module) (
      lib.filterAttrs (_: m: m.class == "nixos") data.machines
    );
    darwinModules = lib.mapAttrs' (name: m: lib.nameValuePair "clan-machine-${name}" m.module) (
      lib.filterAttrs (_: m: m.class == "darwin") data.machines
    );
    nixosConfigurations = lib.mapAttrs (n: _: unknown) (
      lib.filterAttrs (_: m: m.class == "nixos") data.machines
    );
    darwinConfigurations = lib.mapAttrs (n: _: unknown) (
      lib.filterAttrs (_: m: m.class == "darwin") data.machines
    );
    clanInternals = {
      inventoryClass.inventory = config.inventory;
      inherit (config) secrets templates;
    };
  };
}

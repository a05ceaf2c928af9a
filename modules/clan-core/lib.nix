# The helper functions of the clan-core model (what upstream calls clanLib,
# reduced to what the model itself needs): the settings type, tag
# resolution, evaluation of `clan.service` modules and of role settings,
# and the two entry points (`lib.clan` and the `clan` class module).
{ lib }:
let
  inherit (lib) types;
in
rec {
  # Settings in the inventory are plain data: one definition only, an
  # attribute set that serializes to JSON, no `imports`. Upstream merges the
  # single definition into a module that keeps the definition's file, which
  # is what lets a settings error point back at the user's file.
  settingsType = lib.mkOptionType {
    name = "deferredModule";
    description = "deferred custom module. Must be JSON serializable.";
    descriptionClass = "noun";
    check = value: builtins.seq (builtins.toJSON value) (builtins.isAttrs value);
    merge =
      loc: defs:
      if builtins.length defs > 1 then
        throw "The option `${lib.showOption loc}' is defined multiple times (settings must be defined once), in: ${
          lib.concatMapStringsSep ", " (d: d.file) defs
        }"
      else
        {
          imports = map (
            def:
            if def.value ? imports then
              throw "The option `${lib.showOption loc}' (in ${def.file}) uses `imports'; settings must be plain data"
            else
              lib.setDefaultModuleLocation "${def.file}, via option ${lib.showOption loc}" def.value
          ) defs;
        };
  };

  domainName = types.strMatching "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$";

  # Machines named by a role: the explicit ones, then every machine carrying
  # one of the role's tags. Unknown tags contribute nothing (upstream only
  # warns); the checker reads them from the data instead.
  membersOf =
    machines: role:
    lib.unique (
      lib.attrNames role.machines
      ++ lib.concatMap (
        tag: lib.attrNames (lib.filterAttrs (_: m: builtins.elem tag m.tags) machines)
      ) (lib.attrNames role.tags)
    );

  # Evaluate a clan.service module against the service schema. Returns the
  # evalModules result; `config.roles.<role>.interface` etc.
  evalService =
    { modules, prefix ? [ ] }:
    lib.evalModules {
      class = "clan.service";
      inherit prefix;
      modules = [ ./service-schema.nix ] ++ modules;
    };

  # One role's settings for one machine (or for the role when machine is
  # null), checked against the role interface the way upstream does it:
  # interface, role settings, machine settings (+ settings via tags).
  evalSettings =
    {
      service,
      serviceName,
      instanceName,
      roleName,
      machineName ? null,
      roleSettings,
      machineSettings ? { },
      meta,
    }:
    lib.evalModules {
      prefix =
        [
          "clan"
          "inventory"
          "instances"
          instanceName
          "roles"
          roleName
        ]
        ++ lib.optionals (machineName != null) [
          "machines"
          machineName
        ]
        ++ [ "settings" ];
      class = "${serviceName}.${roleName}.settings";
      specialArgs = { inherit meta; };
      modules = [
        (lib.setDefaultModuleLocation "clan service ${serviceName}: roles.${roleName}.interface"
          service.config.roles.${roleName}.interface
        )
        roleSettings
        machineSettings
      ];
    };

  # Force what a settings evaluation defines, one top-level option at a time
  # so that one bad value does not hide the next. Options without a
  # definition are left alone: services often fill them in perInstance.
  settingsChecks =
    eval:
    let
      walk =
        path: opts:
        lib.concatMap (
          name:
          let
            o = opts.${name};
          in
          if lib.isOption o then
            lib.optional o.isDefined {
              path = path ++ [ name ];
              check = builtins.deepSeq o.value true;
            }
          else if lib.isAttrs o then
            walk (path ++ [ name ]) o
          else
            [ ]
        ) (lib.attrNames (builtins.removeAttrs opts [ "_module" ]));
    in
    [
      {
        # Forcing `config` runs the unknown-option check.
        path = [ ];
        check = builtins.seq (builtins.attrNames eval.config) true;
      }
    ]
    ++ walk [ ] eval.options;

  clanModule =
    { clan-core, unknown }:
    {
      _file = "dendrite clan-core model: modules.clan.default";
      _class = "clan";
      _module.args = {
        inherit clan-core unknown;
        clanLib = clan-core.clanLib;
      };
      imports = [ ./clan.nix ];
    };

  # `clan-core.lib.clan { self; ... }`: the clan module evaluated on its own,
  # without flake-parts.
  mkClan =
    { clan-core, unknown }:
    {
      self ? null,
      ...
    }@args:
    lib.evalModules {
      class = "clan";
      specialArgs = {
        inherit self;
        nixpkgs = (if self == null then { } else self.inputs or { }).nixpkgs or unknown;
        nix-darwin = (if self == null then { } else self.inputs or { }).nix-darwin or unknown;
      };
      modules = [
        (clanModule { inherit clan-core unknown; })
        {
          _file = "lib.clan arguments";
          imports = [ (builtins.removeAttrs args [ "self" ]) ];
        }
      ];
    };
}

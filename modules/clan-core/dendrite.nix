# The data `dendrite check` reads from a clan configuration (schema in
# README.md). It mirrors what upstream computes for each machine and each
# service instance, but keeps every intermediate step visible (declared
# names next to resolved ones, settings evaluations that have not been
# forced yet) so that the checker can attach a diagnostic to the place that
# caused it. Nothing here throws on a user mistake: mistakes are data.
{
  lib,
  config,
  options,
  clan-core,
  clanLib,
  unknown,
  autoFile,
  jsonMarker,
  inventoryJson,
  dirMachines,
}:
let
  inventory = config.inventory;
  invMachines = inventory.machines;
  meta = inventory.meta;
  directory = toString config.directory;

  isUnknown = clan-core.dendriteIsUnknown or (_: false);

  # Machines the user names in the inventory, apart from the automatic
  # registration: the inventory definitions are re-evaluated without the
  # model's own, only for their machine names.
  userInventoryDefs = lib.filter (d: d.file != autoFile && d.file != jsonMarker) (
    options.inventory.definitionsWithLocations or [ ]
  );
  declaredInInventory =
    lib.attrNames
      (lib.evalModules {
        modules = [
          ./inventory.nix
          { _module.check = false; }
        ]
        ++ map (d: {
          _file = d.file;
          imports = [ d.value ];
        }) userInventoryDefs;
      }).config.machines;
  inJson = lib.attrNames (inventoryJson.machines or { });

  registryFiles =
    name:
    lib.concatMap (d: lib.optional (lib.isAttrs d.value && d.value ? ${name}) d.file) (
      options.machines.definitionsWithLocations or [ ]
    );

  # --- services ---------------------------------------------------------
  flakeInputs = if lib.isAttrs config.self then config.self.inputs or { } else { };

  resolve =
    spec:
    if spec.input == null then
      {
        status = if clan-core.clan.modules ? ${spec.name} then "ok" else "unknown-module";
        source = "clan-core";
        module = clan-core.clan.modules.${spec.name} or null;
        available = lib.attrNames clan-core.clan.modules;
      }
    else if !(flakeInputs ? ${spec.input}) then
      {
        status = "unknown-input";
        source = "input";
        module = null;
        available = lib.attrNames flakeInputs;
      }
    else
      let
        input = flakeInputs.${spec.input};
        mods = input.clan.modules or null;
      in
      if isUnknown input || isUnknown mods then
        {
          status = "opaque";
          source = "input";
          module = null;
          available = [ ];
        }
      else if !(lib.isAttrs mods) then
        {
          status = "no-modules";
          source = "input";
          module = null;
          available = [ ];
        }
      else
        {
          status = if mods ? ${spec.name} then "ok" else "unknown-module";
          source = if spec.input == "self" then "self" else "input";
          module = mods.${spec.name} or null;
          available = lib.attrNames mods;
        };

  settingsOf =
    sv: args:
    let
      eval = clanLib.evalSettings ({ service = sv.eval; serviceName = sv.name; inherit meta; } // args);
    in
    {
      inherit eval;
      checks = clanLib.settingsChecks eval;
    };

  instances = lib.mapAttrs (
    instanceName: instance:
    let
      resolved = resolve instance.module;
      known = resolved.status == "ok";
      sv = {
        eval = clanLib.evalService {
          modules = [ resolved.module ];
          prefix = [
            "clan"
            "modules"
            instance.module.name
          ];
        };
        name = sv.eval.config.manifest.name;
      };
      serviceRoles = if known then lib.attrNames sv.eval.config.roles else [ ];
      allTags = lib.unique (lib.concatMap (m: m.tags) (lib.attrValues invMachines));
    in
    {
      module = { inherit (instance.module) name input; };
      service = {
        inherit known;
        inherit (resolved) status source available;
        manifestName = if known then sv.name else null;
        roles = serviceRoles;
        eval = if known then sv.eval else null;
      };
      roles = lib.mapAttrs (
        roleName: role:
        let
          roleKnown = known && builtins.elem roleName serviceRoles;
          declaredMachines = lib.attrNames role.machines;
          declaredTags = lib.attrNames role.tags;
          members = lib.filter (m: invMachines ? ${m}) (clanLib.membersOf invMachines role);
          machineSettings =
            m:
            {
              imports = [
                (role.machines.${m}.settings or { })
              ]
              ++ lib.mapAttrsToList (_: t: t.settings) (
                lib.filterAttrs (tag: _: builtins.elem tag invMachines.${m}.tags) role.tags
              );
            };
        in
        {
          known = if known then roleKnown else null;
          machines = declaredMachines;
          tags = declaredTags;
          unknownMachines = lib.filter (m: !(invMachines ? ${m})) declaredMachines;
          unknownTags = lib.filter (t: !(builtins.elem t allTags)) declaredTags;
          inherit members;
          extraModules = role.extraModules;
          settings =
            if roleKnown then
              settingsOf sv {
                inherit instanceName roleName;
                roleSettings = role.settings;
              }
            else
              null;
          perMachine = lib.optionalAttrs roleKnown (
            lib.genAttrs members (
              m:
              settingsOf sv {
                inherit instanceName roleName;
                machineName = m;
                roleSettings = role.settings;
                machineSettings = machineSettings m;
              }
            )
          );
        }
      ) instance.roles;
    }
  ) inventory.instances;

  # --- per-machine modules contributed by services -------------------------
  knownInstances = lib.filterAttrs (_: i: i.service.known) instances;

  # The `roles` argument of perInstance: evaluated settings per role/machine.
  rolesArg =
    inst:
    lib.mapAttrs (_: r: {
      settings = if r.settings == null then { } else r.settings.eval.config;
      machines = lib.mapAttrs (_: s: { settings = s.eval.config; }) r.perMachine;
    }) (lib.filterAttrs (_: r: r.known == true) inst.roles);

  machineRolesIn = inst: m: lib.attrNames (lib.filterAttrs (_: r: builtins.elem m (r.members or [ ])) (lib.filterAttrs (_: r: r.known == true) inst.roles));

  resultOptions = {
    freeformType = lib.types.lazyAttrsOf lib.types.raw;
    options.nixosModule = lib.mkOption {
      type = lib.types.deferredModule;
      default = { };
    };
    options.darwinModule = lib.mkOption {
      type = lib.types.deferredModule;
      default = { };
    };
  };

  classModule = class: result: if class == "darwin" then result.darwinModule else result.nixosModule;

  serviceModulesFor =
    name: class:
    lib.concatLists (
      lib.mapAttrsToList (
        instanceName: inst:
        lib.concatLists (
          lib.mapAttrsToList (
            roleName: role:
            let
              def = inst.service.eval.config.roles.${roleName};
              result =
                (lib.evalModules {
                  specialArgs = {
                    inherit instanceName meta;
                    roles = rolesArg inst;
                    machine = {
                      inherit name;
                      roles = machineRolesIn inst name;
                    };
                    settings = role.perMachine.${name}.eval.config;
                    extendSettings = m: (role.perMachine.${name}.eval.extendModules { modules = lib.toList m; }).config;
                    exports = config.exports;
                    mkExports = _: { };
                  };
                  modules = [
                    resultOptions
                    def.perInstance
                  ];
                }).config;
            in
            lib.optionals (role.known == true && builtins.elem name role.members) (
              [
                {
                  kind = "service";
                  instance = instanceName;
                  role = roleName;
                  service = inst.service.manifestName;
                  module = lib.setDefaultModuleLocation "clan service ${inst.service.manifestName}: instances.${instanceName}.roles.${roleName}.machines.${name}" (
                    classModule class result
                  );
                }
              ]
              ++ map (e: {
                kind = "extraModules";
                instance = instanceName;
                role = roleName;
                module = if builtins.isString e then "${directory}/${e}" else e;
              }) role.extraModules
            )
          ) inst.roles
        )
      ) knownInstances
    );

  # perMachine runs once per service (per resolved module) a machine takes part in.
  perMachineModulesFor =
    name: class:
    let
      byService = lib.groupBy (i: i.service.manifestName) (
        lib.filter (i: lib.any (r: r.known == true && builtins.elem name r.members) (lib.attrValues i.roles)) (
          lib.attrValues knownInstances
        )
      );
    in
    lib.mapAttrsToList (
      serviceName: insts:
      let
        sv = (builtins.head insts).service.eval;
        result =
          (lib.evalModules {
            specialArgs = {
              machine = {
                inherit name;
                roles = lib.unique (lib.concatMap (i: machineRolesIn i name) insts);
              };
              instances = lib.listToAttrs (
                map (i: lib.nameValuePair i.instanceName { roles = rolesArg i; }) (
                  lib.mapAttrsToList (instanceName: i: i // { inherit instanceName; }) (
                    lib.filterAttrs (_: i: builtins.elem i insts) knownInstances
                  )
                )
              );
              exports = config.exports;
              mkExports = _: { };
            };
            modules = [
              resultOptions
              sv.config.perMachine
            ];
          }).config;
      in
      {
        kind = "service-perMachine";
        service = serviceName;
        module = lib.setDefaultModuleLocation "clan service ${serviceName}: perMachine ${name}" (
          classModule class result
        );
      }
    ) byService;

  machineDir = name: "${directory}/machines/${name}";

  machines = lib.mapAttrs (
    name: m:
    let
      class = m.machineClass;
      configFiles = lib.filter builtins.pathExists (
        [ "${machineDir name}/configuration.nix" ]
        ++ lib.optionals (class == "nixos") [
          "${machineDir name}/hardware-configuration.nix"
          "${machineDir name}/disko.nix"
        ]
      );
      modules = [
        {
          kind = "clanCore";
          module = clan-core."${class}Modules".clanCore;
        }
        {
          kind = "forName";
          module = {
            _file = "clan machine ${name} (automatic imports)";
            imports = configFiles;
            clanConfig = config;
            clan.core.settings = {
              inherit (meta) name icon domain;
              inherit directory;
              machine.name = name;
            };
          };
        }
      ]
      ++ serviceModulesFor name class
      ++ perMachineModulesFor name class
      ++ lib.optional (config.machines ? ${name}) {
        kind = "clan.machines";
        module = config.machines.${name};
      };
      specialArgs = { clan-core = clan-core; } // config.specialArgs;
    in
    {
      inherit name class modules specialArgs configFiles;
      inherit (m) tags deploy;
      specialArgNames = lib.attrNames specialArgs;
      origins = {
        clanMachines = config.machines ? ${name};
        machinesDir = builtins.elem name dirMachines;
        inventoryJson = builtins.elem name inJson;
        inventory = builtins.elem name declaredInInventory;
      };
      registryFiles = registryFiles name;
      # The whole module the machine's evaluation gets, as upstream's
      # nixosModules.clan-machine-<name>.
      module = {
        _file = "clan machine ${name}";
        imports = map (x: x.module) modules;
      };
    }
  ) invMachines;
in
{
  version = 1;
  inherit machines instances directory;
  meta = inventory.meta;
  tags = inventory.tags;
  localServices = lib.attrNames config.modules;
  builtinServices = lib.attrNames clan-core.clan.modules;
}

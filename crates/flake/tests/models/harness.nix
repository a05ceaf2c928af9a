# Evaluates a test flake (a directory with flake.nix) with either the real
# flake-parts and import-tree from the corpus (mode = "real") or dendrite's
# models of them (mode = "model"), with nixpkgs lib from the corpus, and
# projects the outputs onto JSON-able data: the namespace (classes, names,
# each published module's _class and _file), every machine module evaluated
# with lib.evalModules in its class, perSystem outputs, overlays.
#
# nixpkgs itself is a stub: a flake whose legacyPackages.<system> has a few
# fake derivations. The models' `pkgs` is `unknown "pkgs for <system>"`;
# here `unknown` answers that with the same stub (so both modes see the same
# packages) and throws for anything else.
{
  corpus,
  mode,
  fixture,
  models,
}:
let
  lib = import (corpus + "/nixpkgs-lib/lib");

  fakeDrv = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };
  stubPkgs = system: {
    name = "nixpkgs-${system}";
    hello = fakeDrv "hello-${system}";
    mkShell = { name }: fakeDrv name;
    stdenv.hostPlatform.system = system;
  };
  nixpkgs = {
    _type = "flake";
    outPath = "/nix/store/00000000000000000000000000000000-nixpkgs";
    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-darwin" ] stubPkgs;
  };

  unknown =
    what:
    let
      m = builtins.match "pkgs for (.*)" what;
    in
    if m != null then stubPkgs (builtins.head m) else throw "unknown value forced: ${what}";

  # flake-parts' outputs as its flake.nix builds them, from the corpus files.
  nixFiles =
    dir:
    lib.mapAttrs' (name: _: lib.nameValuePair (lib.removeSuffix ".nix" name) (dir + "/${name}")) (
      lib.filterAttrs (name: type: type == "regular" && lib.hasSuffix ".nix" name) (builtins.readDir dir)
    );
  realFlakeParts =
    let
      builtinModules = nixFiles (corpus + "/flake-parts/modules");
      extraModules = nixFiles (corpus + "/flake-parts/extras");
    in
    {
      lib = import (corpus + "/flake-parts/lib.nix") { inherit lib builtinModules extraModules; };
      flakeModules = builtinModules // extraModules;
    };

  flake-parts =
    if mode == "real" then realFlakeParts else import (models + "/flake-parts") { inherit lib unknown; };
  import-tree =
    if mode == "real" then import (corpus + "/import-tree") else import (models + "/import-tree");

  inputs = {
    inherit self flake-parts import-tree nixpkgs;
  };
  outputs = (import (fixture + "/flake.nix")).outputs inputs;
  self = outputs // {
    _type = "flake";
    outPath = toString fixture;
    inherit inputs;
  };

  attempt =
    x:
    let
      r = builtins.tryEval (builtins.deepSeq x x);
    in
    if r.success then { value = r.value; } else { failed = true; };

  published = m: if builtins.isFunction m then m { } else m;

  classOf = {
    nixos = "nixos";
    darwin = "darwin";
    homeManager = "homeManager";
  };

  evalIn =
    class: system: modules:
    removeAttrs
      (lib.evalModules {
        inherit class;
        modules = modules ++ [ { _module.args.pkgs = stubPkgs system; } ];
      }).config
      [ "_module" ];

  systemOf = class: if class == "darwin" then "aarch64-darwin" else "x86_64-linux";

  perSystemOutputs = lib.genAttrs [
    "packages"
    "checks"
    "devShells"
    "legacyPackages"
    "apps"
    "formatter"
    "bundlers"
    "motd"
    "extraOut"
  ] (
    name:
    if outputs ? ${name} then
      lib.mapAttrs (
        _: v:
        # bundlers are functions: apply them
        attempt (if name == "bundlers" then lib.mapAttrs (_: b: b (fakeDrv "bundled")) v else v)
      ) outputs.${name}
    else
      null
  );
in
{
  outputNames = builtins.attrNames outputs;

  namespace = lib.mapAttrs (
    class: lib.mapAttrs (
      _: m:
      if class == "generic" then
        { generic = true; }
      else
        {
          class = (published m)._class or null;
          file = (published m)._file or null;
          isFunction = builtins.isFunction m;
        }
    )
  ) (outputs.modules or { });

  # Every module of a lower-level class, evaluated alone in that class
  # (aggregates as well as machines); a failure is recorded as such.
  evaluated = lib.mapAttrs (
    class: mods: lib.mapAttrs (_: m: attempt (evalIn class (systemOf class) [ m ])) mods
  ) (lib.filterAttrs (class: _: classOf ? ${class}) (outputs.modules or { }));

  # Class checks: a module imported into an evaluation of another class.
  crossClass = lib.mapAttrs (
    class: mods:
    lib.mapAttrs (
      _: m:
      attempt (evalIn (if class == "nixos" then "darwin" else "nixos") "x86_64-linux" [ m ]).networking or null
    ) mods
  ) (lib.filterAttrs (class: _: class == "nixos" || class == "darwin") (outputs.modules or { }));

  nixosConfigurations = lib.mapAttrs (_: c: attempt (removeAttrs c.config [ "_module" ])) (
    outputs.nixosConfigurations or { }
  );

  inherit perSystemOutputs;

  overlays = lib.mapAttrs (_: o: attempt (o { } (stubPkgs "x86_64-linux"))) (outputs.overlays or { });

  flakeModules = lib.mapAttrs (_: m: {
    inherit (m) _class _file;
    key = m.key or null;
  }) (outputs.flakeModules or { });

  nixosModules = lib.mapAttrs (_: m: {
    inherit (m) _class _file;
    evaluated = attempt (evalIn "nixos" "x86_64-linux" [
      m
      { options.services.x = lib.mkOption { }; }
    ]);
  }) (outputs.nixosModules or { });

  meta = outputs.meta or null;

  debug =
    if outputs ? debug then
      {
        inherit (outputs.debug) systems;
        greeting = outputs.debug.greeting or null;
        optionNames = builtins.attrNames outputs.debug.options;
        allSystems = lib.mapAttrs (_: s: {
          motd = s.motd or null;
          argNames = builtins.attrNames s._module.args;
        }) outputs.allSystems;
      }
    else
      null;
}

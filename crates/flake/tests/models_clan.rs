//! dendrite's clan-core model (modules/clan-core) evaluated on clan-core's
//! own templates and on small fixtures. Expected values come from reading
//! upstream: the templates' clan.nix, clanServices/*/default.nix (roles,
//! manifest names, interfaces) and modules/clan/module.nix (automatic
//! machine registration).

use std::path::{Path, PathBuf};

use dendrite_eval::{EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase};

struct Corpus {
    lib: PathBuf,
    flake_parts: PathBuf,
    clan_core: PathBuf,
}

fn corpus() -> Option<Corpus> {
    Some(Corpus {
        lib: dendrite_corpus::dir_or_skip("nixpkgs-lib/lib")?,
        flake_parts: dendrite_corpus::dir_or_skip("flake-parts")?,
        clan_core: dendrite_corpus::dir_or_skip("clan-core")?,
    })
}

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../modules/clan-core")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clan").join(name)
}

/// Bindings every expression starts from: nixpkgs lib, flake-parts' lib
/// built like its flake.nix does, and the model.
fn prelude(c: &Corpus) -> String {
    format!(
        r#"let
  lib = import {lib};
  fp = {fp};
  fpl = import (fp + "/lib.nix") {{
    inherit lib;
    extraModules = {{ }};
    builtinModules = lib.genAttrs [ "apps" "checks" "debug" "devShells" "flake" "formatter" "legacyPackages"
      "moduleWithSystem" "nixosConfigurations" "nixosModules" "nixpkgs" "overlays" "packages" "perSystem"
      "transposition" "withSystem" ] (n: fp + "/modules/${{n}}.nix");
  }};
  clan-core = import {model} {{ inherit lib; unknown = {{ __dendriteUnknown = true; }}; flake-parts-lib = fpl; }};
  # A flake-parts flake: `self` is the outputs plus outPath and inputs.
  mkFlake = dir: module:
    let
      self = {{ outPath = dir; inherit inputs; }} // outputs;
      inputs = {{ inherit self clan-core; }};
      outputs = fpl.mkFlake {{ inherit inputs self; }} module;
    in outputs;
  libClan = dir: args: clan-core.lib.clan ({{ self = {{ outPath = dir; inputs = {{ inherit clan-core; }}; }}; }} // args);
  forceChecks = checks: builtins.all (c: c.check) checks;
  instanceSummary = d: lib.mapAttrs (_: i: {{
    module = i.module;
    status = i.service.status;
    service = i.service.manifestName;
    roles = lib.mapAttrs (_: r: {{ inherit (r) known machines tags; settingsOk = forceChecks r.settings.checks; }}) i.roles;
  }}) d.instances;
in
"#,
        lib = c.lib.display(),
        fp = c.flake_parts.display(),
        model = model_dir().display(),
    )
}

/// Evaluates `expr` to JSON, or returns the error message and position.
fn eval_json(expr: String, base: PathBuf) -> Result<String, (String, Option<String>)> {
    dendrite_eval::run_with_stack(move || {
        let settings = EvalSettings { native_modules: true, print_traces: false, ..EvalSettings::default() };
        let mut ev = Evaluator::new(RootDatabase::default(), settings);
        dendrite_modules::install(&mut ev);
        let result = ev.eval_string(&expr, Origin::String(base)).and_then(|v| {
            let mut out = Vec::new();
            let mut ctx = dendrite_eval::value::Context::new();
            let span = ev.builtin_span();
            dendrite_eval::json::value_to_json(&mut ev, &v, &mut out, &mut ctx, span).map(|_| out)
        });
        match result {
            Ok(bytes) => Ok(String::from_utf8(bytes).expect("utf-8 json")),
            Err(e) => Err((e.message().to_string(), e.span().map(|s| s.position().to_string()))),
        }
    })
}

/// Copies a template as `clan init` would, filling in its placeholders.
fn instantiate_template(src: &Path, dst: &Path) {
    for entry in std::fs::read_dir(src).expect("template dir") {
        let entry = entry.expect("entry");
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&to).expect("mkdir");
            instantiate_template(&entry.path(), &to);
        } else {
            let text = std::fs::read_to_string(entry.path()).expect("read");
            std::fs::write(&to, text.replace("{{name}}", "my-clan").replace("{{domain}}", "clan.lol")).expect("write");
        }
    }
}

fn template(c: &Corpus, name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    instantiate_template(&c.clan_core.join("templates/clan").join(name), dir.path());
    dir
}

// Both full templates declare the same two instances: `sshd` (module name
// defaults to the instance name, input null = clan-core, role server on tag
// all, authorizedKeys set at role level) and `user-root` (module `users`,
// role default on tag all, user = "root", prompt = true). No machines.
const TEMPLATE_INSTANCES: &str = r#"{"sshd":{"module":{"input":null,"name":"sshd"},"roles":{"server":{"known":true,"machines":[],"settingsOk":true,"tags":["all"]}},"service":"clan-core/sshd","status":"ok"},"user-root":{"module":{"input":null,"name":"users"},"roles":{"default":{"known":true,"machines":[],"settingsOk":true,"tags":["all"]}},"service":"clan-core/user","status":"ok"}}"#;

#[test]
fn default_template_through_lib_clan() {
    let Some(c) = corpus() else { return };
    let t = template(&c, "default");
    let expr = format!(
        "{}let clan = libClan {dir} {{ imports = [ {dir}/clan.nix ]; specialArgs = {{ inputs = {{ }}; }}; }}; d = clan.config.dendrite; in {{ inst = instanceSummary d; machines = builtins.attrNames d.machines; meta = {{ inherit (d.meta) name domain; }}; nixos = clan.config.nixosConfigurations; }}",
        prelude(&c),
        dir = t.path().display()
    );
    let json = eval_json(expr, t.path().to_path_buf()).expect("the default template evaluates");
    assert_eq!(
        json,
        format!(
            r#"{{"inst":{TEMPLATE_INSTANCES},"machines":[],"meta":{{"domain":"clan.lol","name":"my-clan"}},"nixos":{{}}}}"#
        )
    );
}

#[test]
fn flake_parts_template_through_the_flake_module() {
    let Some(c) = corpus() else { return };
    let t = template(&c, "flake-parts");
    // The template's flake.nix: `imports = [ inputs.clan-core.flakeModules.default ]; clan.imports = [ ./clan.nix ];`
    let expr = format!(
        "{}let out = mkFlake {dir} ({{ inputs, ... }}: {{ systems = [ \"x86_64-linux\" ]; imports = [ inputs.clan-core.flakeModules.default ]; clan = {{ imports = [ {dir}/clan.nix ]; }}; }}); in {{ inst = instanceSummary out.clan.dendrite; nixos = out.nixosConfigurations; }}",
        prelude(&c),
        dir = t.path().display()
    );
    let json = eval_json(expr, t.path().to_path_buf()).expect("the flake-parts template evaluates");
    assert_eq!(json, format!(r#"{{"inst":{TEMPLATE_INSTANCES},"nixos":{{}}}}"#));
}

#[test]
fn minimal_templates() {
    let Some(c) = corpus() else { return };
    // flake-parts-minimal: clan.nix is a flake-parts module that imports the flake module itself.
    let t = template(&c, "flake-parts-minimal");
    let expr = format!(
        "{}let out = mkFlake {dir} {{ systems = [ \"x86_64-linux\" ]; imports = [ {dir}/clan.nix ]; }}; d = out.clan.dendrite; in [ d.meta.name d.meta.domain (builtins.attrNames d.instances) (builtins.attrNames d.machines) ]",
        prelude(&c),
        dir = t.path().display()
    );
    assert_eq!(eval_json(expr, t.path().to_path_buf()).expect("evaluates"), r#"["my-clan","clan.lol",[],[]]"#);

    // minimal: lib.clan with meta set through mkDefault in the call itself.
    let t = template(&c, "minimal");
    let expr = format!(
        "{}let clan = libClan {dir} {{ meta.name = lib.mkDefault \"my-clan\"; meta.domain = lib.mkDefault \"clan.lol\"; }}; in [ clan.config.dendrite.meta.name clan.config.dendrite.meta.domain ]",
        prelude(&c),
        dir = t.path().display()
    );
    assert_eq!(eval_json(expr, t.path().to_path_buf()).expect("evaluates"), r#"["my-clan","clan.lol"]"#);
}

#[test]
fn uninstantiated_template_name_is_rejected_by_the_meta_type() {
    let Some(c) = corpus() else { return };
    // Upstream types meta.name as strMatching "[a-zA-Z0-9_-]*": the raw
    // placeholder "{{name}}" must not pass.
    let raw = c.clan_core.join("templates/clan/default");
    let expr = format!(
        "{}(libClan {dir} {{ imports = [ {dir}/clan.nix ]; }}).config.dendrite.meta.name",
        prelude(&c),
        dir = raw.display()
    );
    let (message, _) = eval_json(expr, raw.clone()).expect_err("a type error");
    assert!(message.contains("meta.name") && message.contains("is not of type"), "{message}");
}

#[test]
fn machines_from_every_registration_path() {
    let Some(c) = corpus() else { return };
    let dir = fixture("basic");
    let expr = format!(
        "{}let d = (libClan {dir} {{ imports = [ {dir}/clan.nix ]; }}).config.dendrite; in lib.mapAttrs (_: m: {{ inherit (m) class tags origins; kinds = map (x: x.kind) m.modules; files = map baseNameOf m.configFiles; }}) d.machines",
        prelude(&c),
        dir = dir.display()
    );
    let json = eval_json(expr, dir.clone()).expect("the fixture evaluates");
    // alpha: inventory + clan.machines; beta: machines/beta directory only;
    // gamma: clan.machines only (nixos by default); mac: inventory, darwin.
    let expect = concat!(
        r#"{"alpha":{"class":"nixos","files":[],"kinds":["clanCore","forName","service","service","service","service-perMachine","service-perMachine","clan.machines"],"origins":{"clanMachines":true,"inventory":true,"inventoryJson":false,"machinesDir":false},"tags":["all","nixos","servers"]},"#,
        r#""beta":{"class":"nixos","files":["configuration.nix"],"kinds":["clanCore","forName","service","service-perMachine"],"origins":{"clanMachines":false,"inventory":false,"inventoryJson":false,"machinesDir":true},"tags":["all","nixos"]},"#,
        r#""gamma":{"class":"nixos","files":[],"kinds":["clanCore","forName","service","service-perMachine","clan.machines"],"origins":{"clanMachines":true,"inventory":false,"inventoryJson":false,"machinesDir":false},"tags":["all","nixos"]},"#,
        r#""mac":{"class":"darwin","files":[],"kinds":["clanCore","forName","service","service","service","service-perMachine","service-perMachine","service-perMachine"],"origins":{"clanMachines":false,"inventory":true,"inventoryJson":false,"machinesDir":false},"tags":["all","darwin","laptops"]}}"#
    );
    assert_eq!(json, expect);
}

#[test]
fn service_modules_declare_their_generators() {
    let Some(c) = corpus() else { return };
    let dir = fixture("basic");
    // The machine's lower-level modules, evaluated with just the clanCore
    // options: zerotier's controller creates the network generator, sshd's
    // server the host key ones. None of these services has a darwinModule
    // upstream, so the darwin machine gets no generators from them.
    let expr = format!(
        "{}let d = (libClan {dir} {{ imports = [ {dir}/clan.nix ]; }}).config.dendrite; gens = m: builtins.attrNames (lib.evalModules {{ modules = map (x: x.module) (lib.filter (x: x.kind != \"forName\" && x.kind != \"clan.machines\") d.machines.${{m}}.modules) ++ [ {{ _module.args.pkgs = {{ }}; }} ]; }}).config.clan.core.vars.generators; in [ (gens \"alpha\") (gens \"mac\") ]",
        prelude(&c),
        dir = dir.display()
    );
    let json = eval_json(expr, dir.clone()).expect("evaluates");
    assert_eq!(
        json,
        r#"[["openssh","openssh-ca","openssh-cert","zerotier-identity-alpha","zerotier-network-zerotier"],[]]"#
    );
}

#[test]
fn inventory_mistakes_are_data() {
    let Some(c) = corpus() else { return };
    let dir = fixture("bad");
    let expr = format!(
        "{}let d = (libClan {dir} {{ imports = [ {dir}/clan.nix ]; }}).config.dendrite; in lib.mapAttrs (_: i: {{ status = i.service.status; roles = lib.mapAttrs (_: r: {{ inherit (r) known unknownMachines unknownTags; }}) i.roles; }}) d.instances",
        prelude(&c),
        dir = dir.display()
    );
    let json = eval_json(expr, dir.clone()).expect("mistakes do not stop the evaluation");
    let expect = concat!(
        r#"{"mesh":{"roles":{"peer":{"known":true,"unknownMachines":["ghost"],"unknownTags":["nope"]}},"status":"ok"},"#,
        r#""sshd":{"roles":{"client":{"known":true,"unknownMachines":[],"unknownTags":[]},"gateway":{"known":false,"unknownMachines":[],"unknownTags":[]},"server":{"known":true,"unknownMachines":[],"unknownTags":[]}},"status":"ok"},"#,
        r#""vpn":{"roles":{"peer":{"known":null,"unknownMachines":[],"unknownTags":[]}},"status":"unknown-module"}}"#
    );
    assert_eq!(json, expect);
}

#[test]
fn wrong_settings_fail_in_the_module_system_naming_the_file() {
    let Some(c) = corpus() else { return };
    let dir = fixture("bad");
    let check = |role: &str, selector: &str| {
        let expr = format!(
            "{}let d = (libClan {dir} {{ imports = [ {dir}/clan.nix ]; }}).config.dendrite; in map (c: c.check) d.instances.sshd.roles.{role}.{selector}.checks",
            prelude(&c),
            dir = dir.display()
        );
        eval_json(expr, dir.clone()).expect_err("a settings error")
    };
    // certificate.enable = "yes" where the sshd server interface says bool.
    let (message, position) = check("server", "perMachine.alpha");
    assert!(message.contains("settings.certificate.enable' is not of type `boolean'"), "{message}");
    assert!(message.contains("tests/clan/bad/clan.nix"), "{message}");
    let position = position.expect("the error has a position");
    assert!(position.contains("clan.nix:8:"), "{position}");
    // The server's role-level settings are fine on their own.
    let expr = format!(
        "{}let d = (libClan {dir} {{ imports = [ {dir}/clan.nix ]; }}).config.dendrite; in forceChecks d.instances.sshd.roles.server.settings.checks",
        prelude(&c),
        dir = dir.display()
    );
    assert_eq!(eval_json(expr, dir.clone()).expect("role settings are valid"), "true");
    // An option the client interface does not declare, at role level and as
    // inherited by the machine.
    for selector in ["settings", "perMachine.alpha"] {
        let (message, _) = check("client", selector);
        assert!(message.contains("settings.authorizedKeyz' does not exist"), "{selector}: {message}");
        assert!(message.contains("tests/clan/bad/clan.nix"), "{selector}: {message}");
    }
}

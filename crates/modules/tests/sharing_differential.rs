//! Sharing module evaluations between configurations changes how much work
//! is done, never a result: generated fleets (feature modules merged into
//! aggregates that several configurations import, conditions on `config`,
//! priorities, orders, submodules, per-configuration arguments, mistakes)
//! print the same with sharing off, on, and on with aggregates used whole
//! as bundles, error messages included.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dendrite_eval::{EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase};

fn lib_dir() -> Option<PathBuf> {
    dendrite_corpus::dir_or_skip("nixpkgs-lib/lib")
}

/// xorshift64*: the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const BASE: &str = r#"{ lib, ... }:
let t = lib.types; in
{
  options.services = {
    enabled = lib.mkOption { type = t.listOf t.str; default = [ ]; };
    disabled = lib.mkOption { type = t.listOf t.str; default = [ ]; };
    ordered = lib.mkOption { type = t.listOf t.str; default = [ ]; };
    ports = lib.mkOption { type = t.attrsOf t.int; default = { }; };
    lazy = lib.mkOption { type = t.lazyAttrsOf t.str; default = { }; };
    count = lib.mkOption { type = t.int; default = 0; };
    label = lib.mkOption { type = t.nullOr t.str; default = null; };
    locked = lib.mkOption { type = t.int; readOnly = true; default = 1; };
    users = lib.mkOption {
      default = { };
      type = t.attrsOf (t.submodule ({ name, config, ... }: {
        options.uid = lib.mkOption { type = t.int; };
        options.shell = lib.mkOption { type = t.str; default = "sh-${name}"; };
        options.home = lib.mkOption { type = t.str; default = "/home/${name}/${toString config.uid}"; };
      }));
    };
  };
  options.environment.variables = lib.mkOption { type = t.attrsOf t.str; default = { }; };
}
"#;

/// A feature module: options under `features.NAME`, definitions that
/// depend on them (and sometimes on another feature of its aggregate).
fn feature(rng: &mut Rng, name: &str, other: Option<&str>) -> String {
    let port = 1000 + rng.below(9000);
    let mut args = "config, lib, ...".to_string();
    if rng.chance(15) {
        args = "config, lib, greeting, ...".to_string();
    }
    let cond = match (other, rng.below(5)) {
        (Some(o), 0) => format!("(cfg.enable && config.features.{o}.enable)"),
        (Some(o), 1) => format!("(cfg.enable || config.features.{o}.port > {port})"),
        (_, 2) => "(cfg.enable && cfg.port != 0)".to_string(),
        _ => "cfg.enable".to_string(),
    };
    let mut defs = vec![format!("services.enabled = [ \"{name}\" ];"), format!("services.ports.{name} = cfg.port;")];
    for _ in 0..rng.below(4) {
        defs.push(match rng.below(9) {
            0 => format!("environment.variables.{} = \"port-${{toString cfg.port}}\";", name.to_uppercase()),
            1 => format!("services.count = lib.mkDefault {};", rng.below(50)),
            2 => format!("services.ordered = lib.mkOrder {} [ \"{name}\" ];", 400 + rng.below(1200)),
            3 => format!("services.ordered = lib.mkBefore [ \"{name}-first\" ];"),
            4 => format!("services.users.{name}.uid = cfg.port + {};", rng.below(10)),
            5 => format!("services.lazy.{name} = \"{name}:${{toString (builtins.length cfg.tags)}}\";"),
            6 => format!("services.label = lib.mkOverride {} \"{name}\";", 90 + rng.below(20)),
            7 if args.contains("greeting") => "services.enabled = [ greeting ];".to_string(),
            // Read-only: set twice (with the default) even when the
            // condition is false.
            7 if rng.chance(10) => "services.locked = 2;".to_string(),
            _ => format!("services.ports.\"{name}-extra\" = cfg.port + 1;"),
        });
    }
    // Each definition in a set of its own: two of one option are merged.
    let defs = format!("lib.mkMerge [ {} ]", defs.iter().map(|d| format!("{{ {d} }}")).collect::<Vec<_>>().join(" "));
    let body = match rng.below(4) {
        0 => format!("lib.mkIf {cond} ({defs})"),
        1 => format!(
            "lib.mkMerge [\n    (lib.mkIf {cond} ({defs}))\n    (lib.mkIf (!cfg.enable) {{ services.disabled = [ \"{name}\" ]; }})\n  ]"
        ),
        2 => format!(
            "{{\n    services.enabled = lib.mkIf {cond} [ \"{name}\" ];\n    services.ports = lib.mkIf cfg.enable {{ {name} = cfg.port; }};\n  }}"
        ),
        _ => format!("lib.mkIf {cond} (lib.mkMerge [ ({defs}) {{ services.count = lib.mkForce {}; }} ])", rng.below(9)),
    };
    // A mistake in the aggregate itself: a definition nothing declares.
    let body = if rng.chance(4) { format!("lib.mkMerge [ ({body}) {{ features.{name}.extar = 1; }} ]") } else { body };
    let tags = if rng.chance(30) { "lib.types.listOf lib.types.str" } else { "lib.types.listOf lib.types.nonEmptyStr" };
    // On unless a configuration turns it off: conditions that hold where
    // nothing of a configuration's own is involved.
    let enable = if rng.chance(30) {
        "lib.mkOption { type = lib.types.bool; default = true; }".to_string()
    } else {
        format!("lib.mkEnableOption \"{name}\"")
    };
    format!(
        "{{ {args} }}:\nlet cfg = config.features.{name}; in\n{{\n  options.features.{name} = {{\n    enable = {enable};\n    port = lib.mkOption {{ type = lib.types.int; default = {port}; }};\n    tags = lib.mkOption {{ type = {tags}; default = [ ]; }};\n  }};\n  config = {body};\n}}\n"
    )
}

/// How a configuration sets up a feature of its own.
fn own_setting(rng: &mut Rng, f: &str) -> String {
    match rng.below(10) {
        0 => format!("features.{f}.port = {};", rng.below(3000)),
        1 => format!("features.{f}.tags = [ \"t{}\" ];", rng.below(9)),
        2 => format!("features.{f}.enable = lib.mkForce {};", rng.chance(50)),
        3 => format!("features.{f}.enable = lib.mkDefault true;"),
        // Mistakes: a wrong type, an option that does not exist, an empty string.
        4 if rng.chance(20) => format!("features.{f}.port = \"eighty\";"),
        5 if rng.chance(20) => format!("features.{f}.prot = 1;"),
        6 if rng.chance(20) => format!("features.{f}.tags = [ \"\" ];"),
        _ => format!("features.{f}.enable = true;"),
    }
}

/// Writes one generated fleet into `dir` and returns the number of
/// configurations (`(import ./fleet.nix).m<i>` each).
fn fleet(rng: &mut Rng, dir: &Path, lib: &Path) -> usize {
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).expect("write");
    write("base.nix", BASE);
    let n_features = 4 + rng.below(10);
    let n_aggs = 2 + rng.below(3);
    let mut aggs: Vec<Vec<usize>> = vec![Vec::new(); n_aggs];
    for i in 0..n_features {
        aggs[i % n_aggs].push(i);
    }
    for members in &aggs {
        for (k, i) in members.iter().enumerate() {
            let other = (k > 0).then(|| format!("f{}", members[k - 1]));
            write(&format!("f{i}.nix"), &feature(rng, &format!("f{i}"), other.as_deref()));
        }
    }
    // Aggregates written the way flake-parts merges deferred modules, as
    // paths, or with a module file of their own.
    let mut text = format!("let\n  lib = import {};\n", lib.display());
    for (a, members) in aggs.iter().enumerate() {
        let items: Vec<String> = members
            .iter()
            .map(|i| match rng.below(4) {
                0 => format!("./f{i}.nix"),
                1 => format!("{{ _file = \"agg{a}/f{i}\"; imports = [ ./f{i}.nix ]; }}"),
                _ => format!("{{ _file = \"{}/f{i}.nix\"; imports = [ (import ./f{i}.nix) ]; }}", dir.display()),
            })
            .collect();
        let extra = if rng.chance(25) { format!(" _file = \"aggregate-{a}\";") } else { String::new() };
        let _ = writeln!(text, "  agg{a} = {{{extra} imports = [ {} ]; }};", items.join(" "));
    }
    let n_configs = 3 + rng.below(6);
    text.push_str("in {\n");
    for m in 0..n_configs {
        let mut imported: Vec<usize> = (0..n_aggs).filter(|_| rng.chance(70)).collect();
        if imported.is_empty() {
            imported.push(rng.below(n_aggs));
        }
        let mut own = Vec::new();
        for _ in 0..rng.below(4) {
            let a = imported[rng.below(imported.len())];
            let f = aggs[a][rng.below(aggs[a].len())];
            own.push(own_setting(rng, &format!("f{f}")));
        }
        if rng.chance(30) {
            own.push(format!("services.count = {};", rng.below(5)));
        }
        own.push(format!("_module.args.greeting = \"hello-{m}\";"));
        let mut modules: Vec<String> = imported.iter().map(|a| format!("agg{a}")).collect();
        if rng.chance(8) {
            // An aggregate twice: its modules are deduplicated by key.
            modules.push(modules[0].clone());
        }
        let own = format!(
            "{{ lib, ... }}: {{ config = lib.mkMerge [ {} ]; }}",
            own.iter().map(|d| format!("{{ {d} }}")).collect::<Vec<_>>().join(" ")
        );
        let at = rng.below(modules.len() + 1);
        modules.insert(at, format!("({own})"));
        modules.insert(rng.below(modules.len() + 1), "./base.nix".to_string());
        let _ = writeln!(text, "  m{m} = lib.evalModules {{ modules = [ {} ]; }};", modules.join(" "));
    }
    text.push_str("}\n");
    write("fleet.nix", &text);
    n_configs
}

/// What one configuration shows: its services and variables, the files
/// and priorities of some options, and its module graph's keys and files.
const SHOW: &str = r#"let
  m = (import ./fleet.nix).mI;
  o = m.options.services;
  graph = g: map (x: { inherit (x) key file; imports = graph x.imports; }) g;
in builtins.toJSON {
  inherit (m.config) services environment;
  enabledFiles = o.enabled.files;
  portDefs = map (d: d.file) o.ports.definitionsWithLocations;
  countPrio = o.count.highestPrio;
  orderedDefs = o.ordered.definitionsWithLocations;
  graph = graph m.graph;
}"#;

/// How configurations are evaluated.
#[derive(Clone, Copy)]
struct Mode {
    share: bool,
    bundles: bool,
    /// As `dendrite check` evaluates machines: recorded, and lenient
    /// (undeclared definitions are freeform, `config` has open views).
    lenient: bool,
}

/// `fleet.nix` as a function of dendrite's lenient module, which every
/// configuration imports first.
fn write_lenient_fleet(dir: &Path) {
    let text = std::fs::read_to_string(dir.join("fleet.nix")).expect("read fleet");
    let text = text.replace("lib.evalModules { modules = [ ", "lib.evalModules { modules = [ lenient ");
    std::fs::write(
        dir.join("fleet-lenient.nix"),
        format!(
            "lenient:
{text}"
        ),
    )
    .expect("write");
}

/// Each configuration's output (or error message), in one evaluator so
/// that later configurations can share the earlier ones' work; and how
/// many aggregates were used whole.
fn evaluate(mode: Mode, dir: PathBuf, lib: PathBuf, n: usize) -> (Vec<String>, u64) {
    dendrite_eval::run_with_stack(move || {
        let settings = EvalSettings {
            native_modules: true,
            share_modules: mode.share,
            bundle_modules: mode.bundles,
            print_traces: false,
            ..EvalSettings::default()
        };
        let mut ev = Evaluator::new(RootDatabase::default(), settings);
        dendrite_modules::install(&mut ev);
        // The lenient fleet, made once: its configurations share modules.
        let lenient = mode.lenient.then(|| {
            ev.set_extension(dendrite_modules::record::Recorder::default());
            let lib = ev.eval_string(&format!("import {}", lib.display()), Origin::String(dir.clone()));
            let span = ev.builtin_span();
            let module = lib.and_then(|lib| dendrite_modules::lenient::lenient_module(&mut ev, &lib, span));
            let fleet = ev.eval_string("import ./fleet-lenient.nix", Origin::String(dir.clone()));
            fleet.and_then(|f| ev.call(f, module?, span)).expect("lenient fleet")
        });
        let out = (0..n)
            .map(|i| {
                let expr = SHOW.replace("mI", &format!("m{i}"));
                let value = match &lenient {
                    Some(fleet) => {
                        let expr = format!("fleet: {}", expr.replace("(import ./fleet.nix)", "fleet"));
                        let span = ev.builtin_span();
                        ev.eval_string(&expr, Origin::String(dir.clone())).and_then(|f| ev.call(f, fleet.clone(), span))
                    }
                    None => ev.eval_string(&expr, Origin::String(dir.clone())),
                };
                match value.and_then(|v| ev.force(&v)) {
                    Ok(dendrite_eval::value::Value::String(s)) => s.to_str_lossy().into_owned(),
                    Ok(other) => format!("not a string: {other:?}"),
                    // The message, without the place evaluation was at when
                    // it failed: a shared template's value fails inside
                    // the configuration's copy, whose place is the caller's.
                    Err(e) => format!("error: {}", e.message()),
                }
            })
            .collect();
        (out, dendrite_modules::eval_modules::bundle_uses())
    })
}

#[test]
fn generated_fleets_print_the_same_with_sharing_on_and_off() {
    let Some(lib) = lib_dir() else { return };
    let mut errors = 0;
    let mut outputs = 0;
    let mut bundled = 0;
    let mut lenient_bundled = 0;
    let mut lenient_errors = 0;
    for case in 0..60u64 {
        let mut rng = Rng(0x5eed_0000 + case * 7919);
        let dir = tempfile::tempdir().expect("temp dir");
        let n = fleet(&mut rng, dir.path(), &lib);
        write_lenient_fleet(dir.path());
        let run = |share, bundles, lenient| {
            evaluate(Mode { share, bundles, lenient }, dir.path().to_path_buf(), lib.clone(), n)
        };
        let (plain, _) = run(false, false, false);
        let (shared, _) = run(true, false, false);
        let (bundles, uses) = run(true, true, false);
        let (lenient_plain, _) = run(false, false, true);
        let (lenient_bundles, lenient_uses) = run(true, true, true);
        bundled += uses;
        lenient_bundled += lenient_uses;
        let fleet = || std::fs::read_to_string(dir.path().join("fleet.nix")).unwrap_or_default();
        for (i, ((s, b), p)) in shared.iter().zip(&bundles).zip(&plain).enumerate() {
            assert_eq!(s, p, "case {case}, m{i} differs with sharing on (left) and off (right); fleet:\n{}", fleet());
            assert_eq!(b, p, "case {case}, m{i} differs with bundles (left) and unshared (right); fleet:\n{}", fleet());
            if s.starts_with("error:") {
                errors += 1;
            } else {
                outputs += 1;
            }
        }
        for (i, (b, p)) in lenient_bundles.iter().zip(&lenient_plain).enumerate() {
            assert_eq!(
                b,
                p,
                "case {case}, lenient m{i} differs with bundles (left) and unshared (right); fleet:\n{}",
                fleet()
            );
            if b.starts_with("error:") {
                lenient_errors += 1;
            }
        }
    }
    // The generator makes both kinds, so both paths are compared, and
    // bundles are used.
    assert!(outputs > 100, "{outputs} configurations evaluated");
    assert!(errors > 5, "{errors} configurations failed");
    assert!(bundled > 100, "aggregates used whole {bundled} times");
    assert!(lenient_bundled > 100, "aggregates used whole {lenient_bundled} times in lenient evaluations");
    assert!(lenient_errors > 5, "{lenient_errors} lenient configurations failed");
}

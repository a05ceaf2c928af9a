//! Module evaluations shared between configurations give the results of
//! unshared ones, and a level of the option tree that no configuration
//! defines anything in is made once for all of them.

use std::path::PathBuf;

use dendrite_eval::value::Value;
use dendrite_eval::{EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase};

fn lib_dir() -> Option<PathBuf> {
    dendrite_corpus::dir_or_skip("nixpkgs-lib/lib")
}

const FEATURE: &str = r#"{ config, lib, ... }:
let cfg = config.features.NAME; in
{
  options.features.NAME = {
    enable = lib.mkEnableOption "NAME";
    port = lib.mkOption { type = lib.types.port; default = PORT; };
  };
  config = lib.mkIf cfg.enable {
    services.enabled = [ "NAME" ];
    services.ports.NAME = cfg.port;
  };
}
"#;

const BASE: &str = r#"{ lib, ... }: {
  options.services.enabled = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; };
  options.services.ports = lib.mkOption { type = lib.types.attrsOf lib.types.port; default = { }; };
}
"#;

/// Evaluates `expr` (in a directory holding the modules) with sharing on
/// or off; returns the printed result, and whether it is a list of two
/// elements that are the same object.
fn eval(share: bool, expr: String, base: PathBuf) -> (String, bool) {
    dendrite_eval::run_with_stack(move || {
        let settings =
            EvalSettings { native_modules: true, share_modules: share, print_traces: false, ..EvalSettings::default() };
        let mut ev = Evaluator::new(RootDatabase::default(), settings);
        dendrite_modules::install(&mut ev);
        let v = ev.eval_string(&expr, Origin::String(base)).expect("evaluates");
        let v = ev.deep_force(&v).expect("forces");
        let items: Vec<Value> = match ev.force(&v).expect("forces") {
            Value::List(l) => l.iter().map(|x| ev.force(x).expect("forces")).collect(),
            _ => Vec::new(),
        };
        let same = items.len() == 2 && items[0].identity().is_some() && items[0].identity() == items[1].identity();
        let printed = match &v {
            Value::String(s) => s.to_str_lossy().into_owned(),
            other => format!("{other:?}"),
        };
        (printed, same)
    })
}

#[test]
fn shared_and_unshared_evaluations_agree_and_unconfigured_levels_are_made_once() {
    let Some(lib) = lib_dir() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
    write("base.nix", BASE);
    for (name, port) in [("a", 1001), ("b", 1002), ("c", 1003)] {
        write(&format!("{name}.nix"), &FEATURE.replace("NAME", name).replace("PORT", &port.to_string()));
    }
    let machine = |enabled: &str| {
        format!(
            "(lib.evalModules {{ modules = [ ./base.nix ./a.nix ./b.nix ./c.nix {{ features.{enabled}.enable = true; }} ]; }})"
        )
    };
    let results = format!(
        "let lib = import {}; m1 = {}; m2 = {}; in builtins.toJSON [ m1.config.services m2.config.services ]",
        lib.display(),
        machine("a"),
        machine("c")
    );
    let base = dir.path().to_path_buf();
    let (shared, _) = eval(true, results.clone(), base.clone());
    let (plain, _) = eval(false, results, base.clone());
    assert_eq!(shared, plain);
    assert!(shared.contains("\"a\"") && shared.contains("\"c\""), "{shared}");
    assert!(shared.contains("1001") && shared.contains("1003") && !shared.contains("1002"), "{shared}");

    // `features.b` is configured by neither machine: with sharing, both
    // see the same option set; without, each has its own.
    let levels = format!(
        "let lib = import {}; m1 = {}; m2 = {}; in [ m1.options.features.b m2.options.features.b ]",
        lib.display(),
        machine("a"),
        machine("c")
    );
    let (_, same) = eval(true, levels.clone(), base.clone());
    assert!(same, "shared: one `features.b` level for both machines");
    let (_, same) = eval(false, levels, base);
    assert!(!same, "unshared: a `features.b` level per machine");
}

/// A module tree that every configuration imports (an aggregate) is
/// collected once and replayed: anonymous keys and inherited files follow
/// each configuration's own import position and file, a template's own
/// arguments are each configuration's, and results match unshared ones.
#[test]
fn a_shared_aggregate_tree_is_replayed_with_each_configurations_keys_files_and_arguments() {
    let Some(lib) = lib_dir() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
    write("base.nix", BASE);
    for (name, port) in [("a", 1001), ("b", 1002)] {
        write(&format!("{name}.nix"), &FEATURE.replace("NAME", name).replace("PORT", &port.to_string()));
    }
    // `greeting` is not a module argument the evaluation provides: each
    // configuration gives its own through `_module.args`.
    let aggregate = r#"{ imports = [
      { _file = "via-agg"; imports = [ ./a.nix ]; }
      { imports = [ ({ greeting, ... }: { services.enabled = [ greeting ]; }) ]; }
      ./b.nix
    ]; }"#;
    // The aggregate at a different place in each configuration; the third
    // and fourth replay what the second kept.
    let machine = |n: usize, enabled: &str| {
        let mut modules = vec!["./base.nix".to_string(); n];
        modules.push("agg".to_string());
        format!(
            "(lib.evalModules {{ modules = [ {} {{ _module.args.greeting = \"hi-{n}\"; features.{enabled}.enable = true; }} ]; }})",
            modules.join(" ")
        )
    };
    let show = "m: { inherit (m.config) services; graph = map (g: { inherit (g) key file; imports = map (i: { inherit (i) key file; imports = map (j: j.key) i.imports; }) g.imports; }) m.graph; }";
    let expr = format!(
        "let lib = import {}; agg = {aggregate}; show = {show}; in builtins.toJSON (map show [ {} {} {} {} ])",
        lib.display(),
        machine(1, "a"),
        machine(2, "b"),
        machine(3, "a"),
        machine(4, "b"),
    );
    let base = dir.path().to_path_buf();
    let (shared, _) = eval(true, expr.clone(), base.clone());
    let (plain, _) = eval(false, expr, base);
    assert_eq!(shared, plain);
    for n in 1..=4 {
        assert!(shared.contains(&format!("\"hi-{n}\"")), "configuration {n}'s own argument: {shared}");
        // The aggregate's anonymous key follows its place in the list.
        assert!(shared.contains(&format!(":anon-{}:anon-2", n + 1)), "configuration {n}'s keys: {shared}");
    }
    assert!(shared.contains("\"via-agg\""), "{shared}");
}

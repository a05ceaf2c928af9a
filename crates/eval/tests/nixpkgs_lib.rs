//! nixpkgs `lib` from the shared corpus evaluates: every top-level attribute
//! and every `lib.types` entry can be forced, and the only errors are the
//! ones explained below.

use std::path::PathBuf;

use dendrite_eval::value::Value;
use dendrite_eval::{EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase};

fn lib_dir() -> Option<PathBuf> {
    dendrite_corpus::dir_or_skip("nixpkgs-lib/lib")
}

/// Forces each attribute of the set `expr` evaluates to; returns the names
/// whose value fails, with the error message.
fn failing_attrs(ev: &mut Evaluator, expr: &str) -> Vec<(String, String)> {
    let set = ev.eval_string(expr, Origin::String(std::env::temp_dir())).expect("the set evaluates");
    let Value::Attrs(attrs) = set else { panic!("not a set") };
    let mut failing = Vec::new();
    for a in attrs.iter() {
        if let Err(e) = ev.force(&a.value) {
            failing.push((a.name.to_string(), e.message().to_string()));
        }
    }
    failing
}

#[test]
fn every_lib_attribute_and_type_forces() {
    let Some(lib) = lib_dir() else { return };
    let result = dendrite_eval::run_with_stack(move || {
        let settings = EvalSettings { print_traces: false, ..EvalSettings::default() };
        let mut ev = Evaluator::new(RootDatabase::default(), settings);
        let top = failing_attrs(&mut ev, &format!("import {}", lib.display()));
        let types = failing_attrs(&mut ev, &format!("(import {}).types", lib.display()));
        let type_count = match ev.eval_string(
            &format!("builtins.length (builtins.attrNames (import {}).types)", lib.display()),
            Origin::String(std::env::temp_dir()),
        ) {
            Ok(Value::Int(n)) => n,
            _ => 0,
        };
        (top, types, type_count)
    });
    let (top, types, type_count) = result;
    // `lib.maintainers` and `lib.teams` import ../maintainers/*.nix, which the
    // corpus does not include (nixpkgs.lib ships only lib/).
    let expected_missing = ["maintainers", "teams"];
    let unexpected: Vec<&(String, String)> = top
        .iter()
        .filter(|(n, m)| !(expected_missing.contains(&n.as_str()) && m.contains("No such file or directory")))
        .collect();
    assert!(unexpected.is_empty(), "lib attributes failing unexpectedly: {unexpected:?}");
    assert!(types.is_empty(), "lib.types entries failing: {types:?}");
    assert!(type_count > 50, "lib.types has {type_count} entries");
}

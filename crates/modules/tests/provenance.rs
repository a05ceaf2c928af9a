//! Type errors name the place of every bad definition (file:line:column),
//! not just its file as nixpkgs does.

use std::path::PathBuf;

use dendrite_eval::{EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase};

fn lib_dir() -> Option<PathBuf> {
    dendrite_corpus::dir_or_skip("nixpkgs-lib/lib")
}

#[test]
fn type_errors_point_at_each_bad_definition() {
    let Some(lib) = lib_dir() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
    write("a.nix", "{ lib, ... }:\n{\n  options.services.port = lib.mkOption { type = lib.types.port; };\n}\n");
    write("b.nix", "{\n  services.port = \"eighty\";\n}\n");
    write("c.nix", "{\n  services.port = true;\n}\n");
    let expr = format!(
        "(let lib = import {}; in lib.evalModules {{ modules = [ ./a.nix ./b.nix ./c.nix ]; }}).config.services.port",
        lib.display()
    );
    let base = dir.path().to_path_buf();
    let (message, primary, related) = dendrite_eval::run_with_stack(move || {
        let settings = EvalSettings { native_modules: true, print_traces: false, ..EvalSettings::default() };
        let mut ev = Evaluator::new(RootDatabase::default(), settings);
        dendrite_modules::install(&mut ev);
        let err =
            ev.eval_string(&expr, Origin::String(base)).and_then(|v| ev.deep_force(&v)).expect_err("a type error");
        let primary = err.span().map(|s| s.position().to_string());
        let related: Vec<String> = err.related().iter().map(|(_, s)| s.position().to_string()).collect();
        (err.message().to_string(), primary, related)
    });
    assert!(message.starts_with("A definition for option `services.port' is not of type"), "{message}");
    let primary = primary.expect("the error has a position");
    assert!(primary.ends_with("c.nix:2:12"), "{primary}");
    assert_eq!(related.len(), 1, "{related:?}");
    assert!(related[0].ends_with("b.nix:2:12"), "{related:?}");
}

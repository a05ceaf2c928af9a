//! Sizes no machine can hold are evaluation errors, never a panic or an
//! abort (found by `cargo xtask fuzz`).

use dendrite_eval::{EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase};

fn eval_err(src: &str) -> String {
    let mut ev = Evaluator::new(RootDatabase::default(), EvalSettings::default());
    let r = ev.eval_string(src, Origin::String(std::env::temp_dir())).and_then(|v| ev.force(&v));
    r.expect_err("fails").message().to_string()
}

#[test]
fn a_list_too_large_for_memory_is_an_error() {
    let msg = eval_err("builtins.length (builtins.genList (x: x) 923372036854775807)");
    assert!(msg.contains("cannot create list of size 923372036854775807"), "{msg}");
}

#[test]
fn a_large_but_possible_list_still_evaluates() {
    let mut ev = Evaluator::new(RootDatabase::default(), EvalSettings::default());
    let v = ev.eval_string("builtins.length (builtins.genList (x: x) 100000)", Origin::String(std::env::temp_dir()));
    let v = v.and_then(|v| ev.force(&v)).expect("evaluates");
    assert!(matches!(v, dendrite_eval::value::Value::Int(100000)));
}

//! Sizes no machine can hold are evaluation errors, never a panic or an
//! abort (found by `cargo xtask fuzz`).

use dendrite_eval::value::Value;
use dendrite_eval::{EvalResult, EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase};

fn evaluate(src: &str) -> EvalResult<Value> {
    let mut ev = Evaluator::new(RootDatabase::default(), EvalSettings::default());
    ev.eval_string(src, Origin::String(std::env::temp_dir())).and_then(|v| ev.force(&v))
}

#[test]
fn a_list_too_large_for_memory_is_an_error() {
    let e = evaluate("builtins.length (builtins.genList (x: x) 923372036854775807)").expect_err("fails");
    let msg = e.message();
    assert!(msg.contains("cannot create list of size 923372036854775807"), "{msg}");
}

#[test]
fn a_large_but_possible_list_still_evaluates() {
    let v = evaluate("builtins.length (builtins.genList (x: x) 100000)").expect("evaluates");
    assert!(matches!(v, Value::Int(100000)));
}

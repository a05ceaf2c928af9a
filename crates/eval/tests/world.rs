//! Shared evaluation with holes: a function called once in shared mode with
//! a hole for one argument gives values that every configuration can use,
//! either as they are (they reach no hole) or through a copy with the hole
//! filled, and the copies evaluate as a direct call would.

use std::rc::Rc;

use dendrite_eval::taint::{Taint, taint};
use dendrite_eval::value::{Attr, Attrs, Thunk, ThunkState, Value};
use dendrite_eval::world::World;
use dendrite_eval::{ErrorKind, EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase, Symbol};

fn eval(ev: &mut Evaluator, src: &str) -> Value {
    ev.eval_string(src, Origin::String(std::env::temp_dir())).expect("evaluates")
}

fn set(pairs: Vec<(&str, Value)>) -> Value {
    Value::Attrs(Rc::new(Attrs::from_unsorted(pairs.into_iter().map(|(n, v)| Attr::new(Symbol::new(n), v)).collect())))
}

fn field(ev: &mut Evaluator, v: &Value, name: &str) -> Value {
    ev.attr_of(v, name).expect("a set").unwrap_or_else(|| panic!("no {name}"))
}

fn show(ev: &mut Evaluator, v: &Value) -> String {
    dendrite_eval::print::print_strict(ev, v).expect("prints")
}

const MODULE: &str = r#"
{ config, lib, ... }:
let
  cfg = config.a;
  helper = x: x + cfg.b;
in
{
  plain = lib.id 5;
  list = [ "k" (lib.id 2) ];
  reads = cfg.b + 1;
  nested = { deeper = [ cfg.c ]; same = lib.id "s"; };
  fn = helper;
  rec_ = rec { a = cfg.b; b = a * 2; };
}
"#;

#[test]
fn one_shared_call_serves_every_configuration() {
    dendrite_eval::run_with_stack(|| {
        let mut ev = Evaluator::new(RootDatabase::default(), EvalSettings::default());
        let f = eval(&mut ev, MODULE);
        let lib = eval(&mut ev, "{ id = x: x; }");
        let hole = Value::Thunk(Thunk::new(ThunkState::Hole));
        let args = set(vec![("config", hole.clone()), ("lib", lib)]);
        let span = ev.builtin_span();
        let result = ev.in_shared_mode(100_000, |ev| ev.call(f.clone(), args, span)).expect("the shared call");

        // What reads no hole is clean; forcing it in shared mode works and
        // the value stays clean.
        let plain = field(&mut ev, &result, "plain");
        assert_eq!(taint(&plain), Taint::Clean);
        assert!(matches!(ev.in_shared_mode(1000, |ev| ev.force(&plain)), Ok(Value::Int(5))));
        let list = field(&mut ev, &result, "list");
        assert_eq!(taint(&list), Taint::Clean);
        // What reads the hole is tainted, and forcing it in shared mode says
        // it needs a configuration, leaving it as it was.
        let reads = field(&mut ev, &result, "reads");
        assert_eq!(taint(&reads), Taint::Tainted);
        let e = ev.in_shared_mode(1000, |ev| ev.force(&reads)).expect_err("needs the configuration");
        assert_eq!(e.kind(), ErrorKind::NeedsWorld);
        assert_eq!(taint(&reads), Taint::Tainted);
        let nested = field(&mut ev, &result, "nested");
        assert_eq!(taint(&nested), Taint::Tainted);
        let nested_v = ev.in_shared_mode(1000, |ev| ev.force(&nested)).expect("the set itself reads no hole");
        assert_eq!(taint(&field(&mut ev, &nested_v, "same")), Taint::Clean);
        assert_eq!(taint(&field(&mut ev, &nested_v, "deeper")), Taint::Tainted);

        // Two configurations, each with its own `config`.
        let configs =
            [eval(&mut ev, r#"{ a = { b = 1; c = "one"; }; }"#), eval(&mut ev, r#"{ a = { b = 10; c = "ten"; }; }"#)];
        let mut shown = Vec::new();
        for config in &configs {
            let world = World::new();
            world.bind(&hole, config.clone());
            let copy = world.inst(&result).expect("copies");
            shown.push(show(&mut ev, &copy));
            let call = eval(&mut ev, "f: f 100");
            let applied = {
                let fnv = field(&mut ev, &copy, "fn");
                ev.call(call, fnv, span).expect("calls")
            };
            shown.push(show(&mut ev, &applied));
            // The clean parts are the template's own values.
            let plain_copy = field(&mut ev, &copy, "plain");
            assert_eq!(plain_copy.identity(), plain.identity());
        }
        assert_eq!(
            shown,
            vec![
                r#"{ fn = <LAMBDA>; list = [ "k" 2 ]; nested = { deeper = [ "one" ]; same = "s"; }; plain = 5; reads = 2; rec_ = { a = 1; b = 2; }; }"#,
                "101",
                r#"{ fn = <LAMBDA>; list = [ "k" 2 ]; nested = { deeper = [ "ten" ]; same = "s"; }; plain = 5; reads = 11; rec_ = { a = 10; b = 20; }; }"#,
                "110",
            ]
        );
        // The template itself was never given a configuration.
        let e = ev.force(&reads).expect_err("the template still has its hole");
        assert_eq!(e.kind(), ErrorKind::NeedsWorld);
    });
}

#[test]
fn select_chains_from_a_hole_resolve_against_the_configuration() {
    dendrite_eval::run_with_stack(|| {
        let mut ev = Evaluator::new(RootDatabase::default(), EvalSettings::default());
        let f = eval(
            &mut ev,
            r#"{ config, ... }: let cfg = config.features.x; in { cond = cfg.enable; other = cfg.enable || false; missing = cfg.nope; }"#,
        );
        let hole = Value::Thunk(Thunk::new(ThunkState::Hole));
        let span = ev.builtin_span();
        let result =
            ev.in_shared_mode(100_000, |ev| ev.call(f.clone(), set(vec![("config", hole.clone())]), span)).unwrap();
        let cond = field(&mut ev, &result, "cond");
        let missing = field(&mut ev, &result, "missing");
        let other = field(&mut ev, &result, "other");
        let mut seen = Vec::new();
        for enable in ["true", "false"] {
            let world = World::new();
            world.bind(&hole, eval(&mut ev, &format!("{{ features.x.enable = {enable}; }}")));
            let v = world.select_chain(&mut ev, &cond).expect("a chain of selections from the hole");
            seen.push(show(&mut ev, &v));
            // Asking again answers from what this configuration found.
            assert!(world.copied(&cond).is_some());
            // Not a chain: left to the copy.
            assert!(world.select_chain(&mut ev, &other).is_none());
            // A chain that fails is left to the copy, which reports the error.
            assert!(world.select_chain(&mut ev, &missing).is_none());
            let copy = world.inst(&missing).unwrap();
            let e = ev.force(&copy).expect_err("no such attribute");
            assert!(e.to_string().contains("nope"), "{e}");
        }
        assert_eq!(seen, ["true", "false"]);
        // The template's own condition still has its hole.
        assert_eq!(ev.force(&cond).expect_err("a hole").kind(), ErrorKind::NeedsWorld);
    });
}

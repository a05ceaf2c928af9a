//! The builtins: the base environment and the `builtins` attribute set.
//!
//! Each family lives in its own module and exports a table of [`PrimOp`]s;
//! [`base_env`] assembles the globals in the slot order lowering expects
//! ([`dendrite_syntax::GLOBALS`]).

use std::rc::Rc;

use dendrite_syntax::{GLOBALS, Origin, Span, Symbol, globals::builtins_name};

use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::*;

mod attrs;
mod control;
mod lists;
mod numbers;
mod strings;

/// The Nix version dendrite reports (`builtins.nixVersion`).
pub const NIX_VERSION: &str = "2.31.0";
/// The language version (`builtins.langVersion`).
pub const LANG_VERSION: i64 = 6;

fn all_primops() -> impl Iterator<Item = &'static PrimOp> {
    attrs::OPS
        .iter()
        .chain(control::OPS)
        .chain(lists::OPS)
        .chain(numbers::OPS)
        .chain(strings::OPS)
        .chain(crate::json::OPS)
        .chain(crate::fs::OPS)
        .chain(crate::context::OPS)
        .chain(crate::hash::OPS)
        .chain(crate::regex::OPS)
        .chain(crate::derivation::OPS)
        .chain(crate::toml::OPS)
        .chain(crate::xml::OPS)
        .chain(crate::flakeref::OPS)
}

/// Looks up a primop by its `builtins` name.
pub fn primop(name: &str) -> Option<&'static PrimOp> {
    all_primops().find(|p| p.name == name)
}

/// The `derivation` function, written in Nix on top of `derivationStrict`
/// (as Nix itself does): one attribute set per output, sharing the inputs.
const DERIVATION_NIX: &str = r#"
drvAttrs@{ outputs ? [ "out" ], ... }:
let
  strict = derivationStrict drvAttrs;
  common = drvAttrs // (builtins.listToAttrs perOutput) // {
    all = map (o: o.value) perOutput;
    inherit drvAttrs;
  };
  forOutput = outputName: {
    name = outputName;
    value = common // {
      outPath = builtins.getAttr outputName strict;
      drvPath = strict.drvPath;
      type = "derivation";
      inherit outputName;
    };
  };
  perOutput = map forOutput outputs;
in (builtins.head perOutput).value
"#;

/// Builds the base environment, in [`GLOBALS`] order.
pub fn base_env(ev: &mut Evaluator) -> Vec<Value> {
    let builtins_thunk = Thunk::new(ThunkState::Blank);
    let mut globals = Vec::with_capacity(GLOBALS.len());
    let mut entries = Vec::with_capacity(GLOBALS.len());
    for &g in GLOBALS {
        let name = builtins_name(g);
        let value = match name {
            "builtins" => Value::Thunk(builtins_thunk.clone()),
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            "currentSystem" => Value::string(ev.settings.current_system.clone()),
            "currentTime" => Value::Int(ev.settings.current_time),
            "nixVersion" => Value::string(NIX_VERSION),
            "langVersion" => Value::Int(LANG_VERSION),
            "storeDir" => Value::string(ev.settings.store_dir.clone()),
            "nixPath" => {
                let items = ev
                    .settings
                    .search_path
                    .iter()
                    .map(|e| {
                        Value::attrs(vec![
                            Attr::new(Symbol::new("path"), Value::string(e.path.clone())),
                            Attr::new(Symbol::new("prefix"), Value::string(e.prefix.clone())),
                        ])
                    })
                    .collect();
                Value::list(items)
            }
            "derivation" => Value::Thunk(Thunk::new(ThunkState::Blank)),
            _ => match primop(name) {
                Some(op) => Value::PrimOp(op),
                None => Value::PrimOp(missing_primop(g)),
            },
        };
        entries.push(Attr::new(Symbol::new(name), value.clone()));
        globals.push(value);
    }
    builtins_thunk.set(ThunkState::Done(Value::attrs(entries)));
    ev.globals = globals;
    // `derivation` is Nix code evaluated against the base environment.
    let idx = GLOBALS.iter().position(|g| *g == "derivation").expect("derivation is a global");
    if let Value::Thunk(t) = &ev.globals[idx] {
        let t = t.clone();
        let origin = Origin::Builtin("<nix/derivation-internal.nix>".into());
        let result = ev.eval_string(DERIVATION_NIX, origin);
        match result {
            Ok(v) => t.set(ThunkState::Done(v)),
            Err(e) => panic!("the built-in derivation function does not evaluate: {}", e.message()),
        }
    }
    std::mem::take(&mut ev.globals)
}

fn missing_primop(name: &'static str) -> &'static PrimOp {
    fn unsupported(_: &mut Evaluator, _: &[Value], span: Span) -> EvalResult<Value> {
        Err(EvalError::at(ErrorKind::Unsupported, "this builtin is not supported by dendrite", span))
    }
    Box::leak(Box::new(PrimOp { name: builtins_name(name), arity: 1, func: unsupported }))
}

/// Helper for builtins: forces an argument, adding Nix's "while evaluating
/// the ... argument passed to builtins.X" context on failure.
pub(crate) fn arg_ctx(which: &str, name: &str) -> String {
    format!("while evaluating the {which} argument passed to builtins.{name}")
}

/// Makes an attribute set value from name/value pairs.
pub(crate) fn mk_attrs(pairs: Vec<(&str, Value)>) -> Value {
    Value::attrs(pairs.into_iter().map(|(n, v)| Attr::new(Symbol::new(n), v)).collect())
}

/// A list value from an iterator.
pub(crate) fn mk_list(items: impl IntoIterator<Item = Value>) -> Value {
    Value::List(Rc::new(items.into_iter().collect()))
}

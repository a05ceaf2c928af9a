//! Lenient module evaluation, for configurations whose framework dendrite
//! does not carry (NixOS, nix-darwin and home-manager option trees).
//!
//! A module `{ _module.freeformType = lenientType; }` makes an evaluation
//! accept definitions of options nobody declared: they merge by shape
//! (attribute sets by name, lists by concatenation, one definition as it
//! is) and the configuration's sets are *open*, so reading an option that
//! the real framework would declare with a default gives an "unknown"
//! value instead of a missing-attribute error. Options the flake declares
//! itself keep their types and their checks.

use std::rc::Rc;

use dendrite_eval::native::{native, string};
use dendrite_eval::value::{Attr, Attrs, Value};
use dendrite_eval::{ErrorKind, EvalError, EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};

use crate::eval_modules::{defs_now, merge_definitions};
use crate::props::Def;

/// The `name` of the lenient type, by which the module system knows it.
pub const LENIENT_TYPE_NAME: &str = "dendriteLenient";

/// What an unknown value's error says after what the value is.
const UNKNOWN: &str = " is not known to dendrite";

/// The error of a value dendrite cannot know.
pub fn unknown_error(what: &str) -> EvalError {
    EvalError::new(ErrorKind::Unknown, format!("{what}{UNKNOWN}"))
}

/// What the value is, in the message of [`unknown_error`] (the message
/// itself when it is not one).
pub fn unknown_what(message: &str) -> &str {
    message.strip_suffix(UNKNOWN).unwrap_or(message)
}

/// A value that is unknown: forcing it fails with an `Unknown` error,
/// which checks treat as "skip", never as a finding.
pub fn unknown_value(what: impl Into<String>) -> Value {
    let what: Rc<str> = Rc::from(what.into());
    Value::lazy(move |_: &mut Evaluator| Err(unknown_error(&what)))
}

/// `unknown`: the function models call to stand for what they cannot know.
pub fn unknown_fn() -> Value {
    native("unknown", 1, |ev: &mut Evaluator, args: &[Value], _| {
        let what = match ev.force(&args[0])? {
            Value::String(s) => s.to_str_lossy().into_owned(),
            other => other.type_of().to_string(),
        };
        Err(unknown_error(&what))
    })
}

/// `isUnknown`: whether forcing a value fails only because it is unknown
/// (other errors propagate).
pub fn is_unknown_fn() -> Value {
    native("isUnknown", 1, |ev: &mut Evaluator, args: &[Value], _| match ev.force(&args[0]) {
        Ok(_) => Ok(Value::Bool(false)),
        Err(e) if e.kind() == ErrorKind::Unknown => Ok(Value::Bool(true)),
        Err(e) => Err(e),
    })
}

/// `open`: the same attribute set, open (missing names are unknown).
pub fn open_fn() -> Value {
    native("open", 1, |ev: &mut Evaluator, args: &[Value], _| {
        let a = ev.expect_attrs(&args[0])?;
        Ok(Value::Attrs(Rc::new((*a).clone().into_open())))
    })
}

/// The lenient option type, built with the final `lib`'s `mkOptionType`.
pub fn lenient_type(ev: &mut Evaluator, lib: &Value, span: Span) -> EvalResult<Value> {
    let types = ev.select_str(lib, "types", span)?;
    let mk = ev.select_str(&types, "mkOptionType", span)?;
    let lib2 = lib.clone();
    let merge = native("dendriteLenient.merge", 2, move |ev: &mut Evaluator, args: &[Value], span: Span| {
        merge(ev, &lib2, &args[0], &args[1], span)
    });
    let arg = Value::attrs(vec![
        Attr::new(Symbol::new("name"), string(LENIENT_TYPE_NAME)),
        Attr::new(Symbol::new("description"), string("anything (an option dendrite does not model)")),
        Attr::new(Symbol::new("check"), native("dendriteLenient.check", 1, |_, _, _| Ok(Value::Bool(true)))),
        Attr::new(Symbol::new("merge"), merge),
    ]);
    ev.call(mk, arg, span)
}

/// `{ _module.freeformType = lenientType; }`.
pub fn lenient_module(ev: &mut Evaluator, lib: &Value, span: Span) -> EvalResult<Value> {
    let ty = lenient_type(ev, lib, span)?;
    Ok(Value::attrs(vec![
        Attr::new(Symbol::new("_file"), string("<dendrite lenient evaluation>")),
        Attr::new(Symbol::new("_module"), Value::attrs(vec![Attr::new(Symbol::new("freeformType"), ty)])),
    ]))
}

/// Whether an option type value is the lenient type.
pub fn is_lenient_type(ev: &mut Evaluator, ty: &Value) -> EvalResult<bool> {
    let Some(name) = ev.attr_of(ty, "name")? else { return Ok(false) };
    Ok(matches!(ev.force(&name)?, Value::String(s) if s.as_bytes() == LENIENT_TYPE_NAME.as_bytes()))
}

fn merge(ev: &mut Evaluator, lib: &Value, loc: &Value, defs: &Value, span: Span) -> EvalResult<Value> {
    let loc: Vec<String> = {
        let l = ev.expect_list(loc)?;
        let mut out = Vec::with_capacity(l.len());
        for x in l.iter() {
            out.push(ev.expect_string(x)?.to_str_lossy().into_owned());
        }
        out
    };
    let defs = ev.expect_list(defs)?;
    let mut items: Vec<(Value, Value)> = Vec::with_capacity(defs.len());
    for d in defs.iter() {
        let file = ev.select_str(d, "file", span)?;
        let value = ev.select_str(d, "value", span)?;
        items.push((file, value));
    }
    if items.len() == 1 {
        return Ok(items.pop().expect("one").1);
    }
    let mut all_attrs = true;
    let mut all_lists = true;
    for (_, v) in &items {
        match v {
            Value::Attrs(a) if !is_derivation(ev, a)? => all_lists = false,
            Value::List(_) => all_attrs = false,
            _ => {
                all_attrs = false;
                all_lists = false;
            }
        }
    }
    if all_lists {
        let mut out = Vec::new();
        for (_, v) in &items {
            out.extend(ev.expect_list(v)?.iter().cloned());
        }
        return Ok(Value::list(out));
    }
    if all_attrs {
        return Ok(merge_sets(lib, &loc, &items, span));
    }
    // Equal definitions of a scalar are fine in any type; different ones
    // depend on a type dendrite does not know (`lines`, `bool` ...).
    let first = items[0].1.clone();
    for (_, v) in &items[1..] {
        if !ev.equal(&first, v, span)? {
            return Err(unknown_error(&format!("the merged value of `{}'", loc.join("."))));
        }
    }
    Ok(first)
}

fn is_derivation(ev: &mut Evaluator, a: &Attrs) -> EvalResult<bool> {
    match a.get(Symbol::new("type")).cloned() {
        Some(t) => Ok(matches!(ev.force(&t)?, Value::String(s) if s.as_bytes() == b"derivation")),
        None => Ok(false),
    }
}

/// Sets merge by name; each name's definitions merge leniently again,
/// properties (`mkIf`, `mkDefault` ...) discharged as for any option.
fn merge_sets(lib: &Value, loc: &[String], items: &[(Value, Value)], span: Span) -> Value {
    let mut by_name: Vec<(Symbol, Vec<Def>)> = Vec::new();
    let mut index: rustc_hash::FxHashMap<Symbol, usize> = rustc_hash::FxHashMap::default();
    for (file, v) in items {
        let Value::Attrs(a) = v else { continue };
        for x in a.iter() {
            let i = *index.entry(x.name).or_insert_with(|| {
                by_name.push((x.name, Vec::new()));
                by_name.len() - 1
            });
            by_name[i].1.push(Def { file: file.clone(), value: x.value.clone(), full: None, pos: x.pos, world: None });
        }
    }
    let lib = lib.clone();
    let mut entries = Vec::with_capacity(by_name.len());
    for (name, defs) in by_name {
        let mut sub = loc.to_vec();
        sub.push(name.to_string());
        let lib = lib.clone();
        let value = Value::lazy(move |ev: &mut Evaluator| {
            let ty = lenient_type(ev, &lib, span)?;
            let r = merge_definitions(&lib, &sub, &ty, defs_now(defs.clone()), span);
            ev.force(&r.merged_value)
        });
        entries.push(Attr::new(name, value));
    }
    Value::Attrs(Rc::new(Attrs::from_unsorted(entries).into_open()))
}

/// `recursiveUpdate freeform declared` keeping every set open, so that
/// the declared parts of a lenient configuration are open too.
pub fn open_update(freeform: Value, declared: Value) -> Value {
    Value::lazy(move |ev: &mut Evaluator| {
        let f = ev.force(&freeform)?;
        let d = ev.force(&declared)?;
        match (&f, &d) {
            (Value::Attrs(fa), Value::Attrs(da)) => {
                let mut entries: Vec<Attr> = Vec::with_capacity(fa.len() + da.len());
                for x in fa.iter() {
                    match da.get(x.name) {
                        Some(dv) => entries.push(Attr {
                            name: x.name,
                            value: open_update(x.value.clone(), dv.clone()),
                            pos: x.pos,
                        }),
                        None => entries.push(x.clone()),
                    }
                }
                for x in da.iter() {
                    if fa.get(x.name).is_none() {
                        entries.push(x.clone());
                    }
                }
                Ok(Value::Attrs(Rc::new(Attrs::from_unsorted(entries).into_open())))
            }
            _ => Ok(d),
        }
    })
}

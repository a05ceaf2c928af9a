//! Attribute set builtins.

use std::rc::Rc;

use dendrite_syntax::{Span, Symbol};
use rustc_hash::FxHashMap;

use super::arg_ctx;
use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::{Evaluator, SYMS, missing_attr};
use crate::value::*;

pub(crate) const OPS: &[PrimOp] = &[
    PrimOp { name: "attrNames", arity: 1, func: attr_names },
    PrimOp { name: "attrValues", arity: 1, func: attr_values },
    PrimOp { name: "getAttr", arity: 2, func: get_attr },
    PrimOp { name: "hasAttr", arity: 2, func: has_attr },
    PrimOp { name: "removeAttrs", arity: 2, func: remove_attrs },
    PrimOp { name: "listToAttrs", arity: 1, func: list_to_attrs },
    PrimOp { name: "mapAttrs", arity: 2, func: map_attrs },
    PrimOp { name: "intersectAttrs", arity: 2, func: intersect_attrs },
    PrimOp { name: "catAttrs", arity: 2, func: cat_attrs },
    PrimOp { name: "zipAttrsWith", arity: 2, func: zip_attrs_with },
    PrimOp { name: "functionArgs", arity: 1, func: function_args },
    PrimOp { name: "unsafeGetAttrPos", arity: 2, func: unsafe_get_attr_pos },
];

fn attrs_arg(ev: &mut Evaluator, v: &Value, which: &str, name: &str) -> EvalResult<Rc<Attrs>> {
    ev.expect_attrs(v).map_err(|e| e.context(arg_ctx(which, name), None))
}

fn string_arg(ev: &mut Evaluator, v: &Value, which: &str, name: &str) -> EvalResult<NixString> {
    ev.expect_string(v).map_err(|e| e.context(arg_ctx(which, name), None))
}

fn list_arg(ev: &mut Evaluator, v: &Value, which: &str, name: &str) -> EvalResult<List> {
    ev.expect_list(v).map_err(|e| e.context(arg_ctx(which, name), None))
}

fn attr_names(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let a = attrs_arg(ev, &args[0], "argument", "attrNames")?;
    Ok(Value::list(a.iter().map(|x| Value::String(NixString::from_bytes(x.name.as_bytes()))).collect()))
}

fn attr_values(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let a = attrs_arg(ev, &args[0], "argument", "attrValues")?;
    Ok(Value::list(a.iter().map(|x| x.value.clone()).collect()))
}

fn get_attr(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let name = string_arg(ev, &args[0], "first", "getAttr")?;
    let a = attrs_arg(ev, &args[1], "second", "getAttr")?;
    let sym = Symbol::from_bytes(name.as_bytes());
    match a.get(sym) {
        Some(v) => {
            let v = v.clone();
            ev.force(&v)
        }
        None => Err(missing_attr(sym, &a)),
    }
}

fn has_attr(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let name = string_arg(ev, &args[0], "first", "hasAttr")?;
    let a = attrs_arg(ev, &args[1], "second", "hasAttr")?;
    Ok(Value::Bool(a.get(Symbol::from_bytes(name.as_bytes())).is_some()))
}

fn remove_attrs(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let a = attrs_arg(ev, &args[0], "first", "removeAttrs")?;
    let names = list_arg(ev, &args[1], "second", "removeAttrs")?;
    let mut remove = Vec::with_capacity(names.len());
    for n in names.iter() {
        let s = ev.expect_string(n).map_err(|e| {
            e.context("while evaluating the values of the second argument passed to builtins.removeAttrs", None)
        })?;
        remove.push(Symbol::from_bytes(s.as_bytes()));
    }
    if remove.iter().all(|r| a.get(*r).is_none()) {
        return Ok(Value::Attrs(a));
    }
    let kept: Vec<Attr> = a.iter().filter(|x| !remove.contains(&x.name)).cloned().collect();
    Ok(Value::Attrs(Rc::new(Attrs::from_sorted(kept))))
}

fn list_to_attrs(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let list = list_arg(ev, &args[0], "argument", "listToAttrs")?;
    let s = &*SYMS;
    // (name, the pair's `value` attribute, the pair for error messages)
    let mut found: Vec<(Symbol, Option<Attr>, Rc<Attrs>)> = Vec::with_capacity(list.len());
    for item in list.iter() {
        let a = ev
            .expect_attrs(item)
            .map_err(|e| e.context("while evaluating an element of the list passed to builtins.listToAttrs", None))?;
        let name_v = a
            .get(s.name)
            .cloned()
            .ok_or_else(|| missing_attr(s.name, &a).context("in a {name=...; value=...;} pair", None))?;
        let name = ev.expect_string(&name_v).map_err(|e| {
            e.context(
                "while evaluating the `name` attribute of an element of the list passed to builtins.listToAttrs",
                None,
            )
        })?;
        let sym = Symbol::from_bytes(name.as_bytes());
        found.push((sym, a.get_attr(s.value).cloned(), a));
    }
    // The first occurrence of a name wins: a stable sort keeps it first.
    found.sort_by_key(|x| x.0);
    found.dedup_by_key(|x| x.0);
    let mut entries: Vec<Attr> = Vec::with_capacity(found.len());
    for (name, value, pair) in found {
        let Some(v) = value else {
            return Err(missing_attr(s.value, &pair).context("in a {name=...; value=...;} pair", None));
        };
        entries.push(Attr { name, value: v.value, pos: v.pos });
    }
    Ok(Value::Attrs(Rc::new(Attrs::from_sorted(entries))))
}

fn map_attrs(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let a = attrs_arg(ev, &args[1], "second", "mapAttrs")?;
    let f = args[0].clone();
    let entries: Vec<Attr> = a
        .iter()
        .map(|x| Attr {
            name: x.name,
            value: Value::Thunk(Thunk::new(ThunkState::MapAttr(f.clone(), x.name, x.value.clone()))),
            pos: None,
        })
        .collect();
    let _ = ev;
    Ok(Value::Attrs(Rc::new(Attrs::from_sorted(entries))))
}

fn intersect_attrs(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let a = attrs_arg(ev, &args[0], "first", "intersectAttrs")?;
    let b = attrs_arg(ev, &args[1], "second", "intersectAttrs")?;
    let kept: Vec<Attr> = b.iter().filter(|x| a.get(x.name).is_some()).cloned().collect();
    Ok(Value::Attrs(Rc::new(Attrs::from_sorted(kept))))
}

fn cat_attrs(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let name = string_arg(ev, &args[0], "first", "catAttrs")?;
    let sym = Symbol::from_bytes(name.as_bytes());
    let list = list_arg(ev, &args[1], "second", "catAttrs")?;
    let mut out = Vec::new();
    for item in list.iter() {
        let a = ev.expect_attrs(item).map_err(|e| {
            e.context("while evaluating an element in the list passed as second argument to builtins.catAttrs", None)
        })?;
        if let Some(v) = a.get(sym) {
            out.push(v.clone());
        }
    }
    Ok(Value::list(out))
}

fn zip_attrs_with(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let f = args[0].clone();
    let list = list_arg(ev, &args[1], "second", "zipAttrsWith")?;
    let mut order: Vec<Symbol> = Vec::new();
    let mut groups: FxHashMap<Symbol, Vec<Value>> = FxHashMap::default();
    for item in list.iter() {
        let a = ev.expect_attrs(item).map_err(|e| {
            e.context("while evaluating a value of the list passed as second argument to builtins.zipAttrsWith", None)
        })?;
        for x in a.iter() {
            groups
                .entry(x.name)
                .or_insert_with(|| {
                    order.push(x.name);
                    Vec::new()
                })
                .push(x.value.clone());
        }
    }
    let mut entries: Vec<Attr> = Vec::with_capacity(order.len());
    for name in order {
        let values = groups.remove(&name).unwrap_or_default();
        let partial = Value::lazy_apply(f.clone(), Value::String(NixString::from_bytes(name.as_bytes())), span);
        entries.push(Attr::new(name, Value::lazy_apply(partial, Value::list(values), span)));
    }
    entries.sort_unstable_by_key(|x| x.name);
    Ok(Value::Attrs(Rc::new(Attrs::from_sorted(entries))))
}

fn function_args(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let f = ev.force(&args[0])?;
    match &f {
        Value::Lambda(c) => match &c.lambda.param {
            dendrite_syntax::ir::Param::Ident(_) => Ok(Value::Attrs(Rc::new(Attrs::empty()))),
            dendrite_syntax::ir::Param::Formals { formals, .. } => {
                let entries = formals
                    .iter()
                    .map(|fm| Attr { name: fm.name, value: Value::Bool(fm.default.is_some()), pos: Some(fm.span) })
                    .collect();
                Ok(Value::attrs(entries))
            }
        },
        Value::PrimOp(_) | Value::PrimOpApp(_) | Value::Native(_) => Ok(Value::Attrs(Rc::new(Attrs::empty()))),
        other => Err(ev
            .type_error("a function", other)
            .context("while evaluating the argument passed to builtins.functionArgs", None)),
    }
}

fn unsafe_get_attr_pos(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let name = string_arg(ev, &args[0], "first", "unsafeGetAttrPos")?;
    let a = attrs_arg(ev, &args[1], "second", "unsafeGetAttrPos")?;
    match a.get_attr(Symbol::from_bytes(name.as_bytes())) {
        Some(Attr { pos: Some(p), .. }) => Ok(ev.pos_attrs(*p)),
        _ => Ok(Value::Null),
    }
}

#[allow(dead_code)]
fn unused(_: ErrorKind, _: EvalError) {}

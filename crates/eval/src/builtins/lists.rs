//! List builtins.

use std::rc::Rc;

use dendrite_syntax::{Span, Symbol};
use rustc_hash::FxHashMap;

use super::arg_ctx;
use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::{Evaluator, SYMS};
use crate::value::*;

pub(crate) const OPS: &[PrimOp] = &[
    PrimOp { name: "length", arity: 1, func: length },
    PrimOp { name: "head", arity: 1, func: head },
    PrimOp { name: "tail", arity: 1, func: tail },
    PrimOp { name: "elemAt", arity: 2, func: elem_at },
    PrimOp { name: "map", arity: 2, func: map },
    PrimOp { name: "filter", arity: 2, func: filter },
    PrimOp { name: "foldl'", arity: 3, func: foldl_strict },
    PrimOp { name: "genList", arity: 2, func: gen_list },
    PrimOp { name: "concatLists", arity: 1, func: concat_lists },
    PrimOp { name: "concatMap", arity: 2, func: concat_map },
    PrimOp { name: "elem", arity: 2, func: elem },
    PrimOp { name: "any", arity: 2, func: any },
    PrimOp { name: "all", arity: 2, func: all },
    PrimOp { name: "sort", arity: 2, func: sort },
    PrimOp { name: "partition", arity: 2, func: partition },
    PrimOp { name: "groupBy", arity: 2, func: group_by },
    PrimOp { name: "genericClosure", arity: 1, func: generic_closure },
];

fn list_arg(ev: &mut Evaluator, v: &Value, which: &str, name: &str) -> EvalResult<List> {
    ev.expect_list(v).map_err(|e| e.context(arg_ctx(which, name), None))
}

fn fn_arg(ev: &mut Evaluator, v: &Value, which: &str, name: &str) -> EvalResult<Value> {
    ev.expect_function(v).map_err(|e| e.context(arg_ctx(which, name), None))
}

fn length(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    Ok(Value::Int(list_arg(ev, &args[0], "first", "length")?.len() as i64))
}

fn head(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[0], "first", "head")?;
    match l.first() {
        Some(v) => {
            let v = v.clone();
            ev.force(&v)
        }
        None => Err(EvalError::new(ErrorKind::Eval, "'builtins.head' called on an empty list")),
    }
}

fn tail(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[0], "first", "tail")?;
    if l.is_empty() {
        return Err(EvalError::new(ErrorKind::Eval, "'builtins.tail' called on an empty list"));
    }
    Ok(Value::list(l[1..].to_vec()))
}

fn elem_at(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[0], "first", "elemAt")?;
    let i = ev.expect_int(&args[1]).map_err(|e| e.context(arg_ctx("second", "elemAt"), None))?;
    if i < 0 || i as usize >= l.len() {
        return Err(EvalError::new(
            ErrorKind::Eval,
            format!("'builtins.elemAt' called with index {i} on a list of size {}", l.len()),
        ));
    }
    let v = l[i as usize].clone();
    ev.force(&v)
}

fn map(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[1], "second", "map")?;
    if l.is_empty() {
        return Ok(Value::List(l));
    }
    let f = fn_arg(ev, &args[0], "first", "map")?;
    Ok(Value::list(l.iter().map(|x| Value::lazy_apply(f.clone(), x.clone(), span)).collect()))
}

fn call_bool(ev: &mut Evaluator, f: &Value, x: &Value, span: Span, ctx: &str) -> EvalResult<bool> {
    let r = ev.call(f.clone(), x.clone(), span)?;
    ev.expect_bool(&r).map_err(|e| e.context(ctx.to_string(), None))
}

fn filter(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[1], "second", "filter")?;
    let f = fn_arg(ev, &args[0], "first", "filter")?;
    let mut out = Vec::with_capacity(l.len());
    for x in l.iter() {
        if call_bool(
            ev,
            &f,
            x,
            span,
            "while evaluating the return value of the filtering function passed to builtins.filter",
        )? {
            out.push(x.clone());
        }
    }
    if out.len() == l.len() {
        return Ok(Value::List(l));
    }
    Ok(Value::list(out))
}

fn foldl_strict(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[2], "third", "foldlStrict")?;
    if l.is_empty() {
        return ev.force(&args[1]);
    }
    let f = fn_arg(ev, &args[0], "first", "foldlStrict")?;
    let mut acc = args[1].clone();
    for x in l.iter() {
        let partial = ev.call(f.clone(), acc, span)?;
        let partial = ev.force(&partial)?;
        acc = ev.call(partial, x.clone(), span)?;
    }
    ev.force(&acc)
}

fn gen_list(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let n = ev.expect_int(&args[1]).map_err(|e| e.context(arg_ctx("second", "genList"), None))?;
    if n < 0 {
        return Err(EvalError::new(ErrorKind::Eval, format!("cannot create list of size {n}")));
    }
    let f = fn_arg(ev, &args[0], "first", "genList")?;
    // A size no memory can hold is an error, as Nix's failed allocation is,
    // not a capacity overflow that aborts the process.
    let mut out = Vec::new();
    if out.try_reserve_exact(n as usize).is_err() {
        return Err(EvalError::new(ErrorKind::Eval, format!("cannot create list of size {n}: out of memory")));
    }
    out.extend((0..n).map(|i| Value::lazy_apply(f.clone(), Value::Int(i), span)));
    Ok(Value::list(out))
}

fn concat_lists(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[0], "first", "concatLists")?;
    let mut out = Vec::new();
    for x in l.iter() {
        let inner = ev
            .expect_list(x)
            .map_err(|e| e.context("while evaluating a value of the list passed to builtins.concatLists", None))?;
        out.extend(inner.iter().cloned());
    }
    Ok(Value::list(out))
}

fn concat_map(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let f = fn_arg(ev, &args[0], "first", "concatMap")?;
    let l = list_arg(ev, &args[1], "second", "concatMap")?;
    let mut out = Vec::new();
    for x in l.iter() {
        let r = ev.call(f.clone(), x.clone(), span)?;
        let inner = ev.expect_list(&r).map_err(|e| {
            e.context("while evaluating the return value of the function passed to builtins.concatMap", None)
        })?;
        out.extend(inner.iter().cloned());
    }
    Ok(Value::list(out))
}

fn elem(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[1], "second", "elem")?;
    let x = ev.force(&args[0])?;
    for y in l.iter() {
        let y = ev.force(y)?;
        if ev.equal(&x, &y, span)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn any(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[1], "second", "any")?;
    let f = fn_arg(ev, &args[0], "first", "any")?;
    for x in l.iter() {
        if call_bool(ev, &f, x, span, "while evaluating the return value of the function passed to builtins.any")? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn all(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[1], "second", "all")?;
    let f = fn_arg(ev, &args[0], "first", "all")?;
    for x in l.iter() {
        if !call_bool(ev, &f, x, span, "while evaluating the return value of the function passed to builtins.all")? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn sort(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[1], "second", "sort")?;
    if l.is_empty() {
        return Ok(Value::List(l));
    }
    let f = fn_arg(ev, &args[0], "first", "sort")?;
    let mut items: Vec<Value> = l.iter().cloned().collect();
    for x in items.iter_mut() {
        *x = ev.force(x)?;
    }
    // A stable merge sort driven by the Nix comparator; errors abort it.
    let mut err: Option<EvalError> = None;
    let mut less = |ev: &mut Evaluator, a: &Value, b: &Value| -> bool {
        if err.is_some() {
            return false;
        }
        let r = ev.call(f.clone(), a.clone(), span).and_then(|p| {
            let p = ev.force(&p)?;
            ev.call(p, b.clone(), span)
        });
        match r.and_then(|v| {
            ev.expect_bool(&v).map_err(|e| {
                e.context("while evaluating the return value of the sorting function passed to builtins.sort", None)
            })
        }) {
            Ok(b) => b,
            Err(e) => {
                err = Some(e);
                false
            }
        }
    };
    let sorted = merge_sort(ev, items, &mut less);
    if let Some(e) = err {
        return Err(e);
    }
    Ok(Value::list(sorted))
}

fn merge_sort(
    ev: &mut Evaluator,
    v: Vec<Value>,
    less: &mut dyn FnMut(&mut Evaluator, &Value, &Value) -> bool,
) -> Vec<Value> {
    if v.len() <= 1 {
        return v;
    }
    if v.len() <= 8 {
        // insertion sort, stable
        let mut out: Vec<Value> = Vec::with_capacity(v.len());
        for x in v {
            let mut i = out.len();
            while i > 0 && less(ev, &x, &out[i - 1]) {
                i -= 1;
            }
            out.insert(i, x);
        }
        return out;
    }
    let mut v = v;
    let right = v.split_off(v.len() / 2);
    let left = merge_sort(ev, v, less);
    let right = merge_sort(ev, right, less);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => {
                if less(ev, b, a) {
                    out.push(r.next().expect("peeked"));
                } else {
                    out.push(l.next().expect("peeked"));
                }
            }
            (Some(_), None) => out.extend(l.by_ref()),
            (None, Some(_)) => out.extend(r.by_ref()),
            (None, None) => break,
        }
    }
    out
}

fn partition(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[1], "second", "partition")?;
    let f = fn_arg(ev, &args[0], "first", "partition")?;
    let (mut right, mut wrong) = (Vec::new(), Vec::new());
    for x in l.iter() {
        if call_bool(
            ev,
            &f,
            x,
            span,
            "while evaluating the return value of the partition function passed to builtins.partition",
        )? {
            right.push(x.clone());
        } else {
            wrong.push(x.clone());
        }
    }
    let s = &*SYMS;
    Ok(Value::attrs(vec![Attr::new(s.right, Value::list(right)), Attr::new(s.wrong, Value::list(wrong))]))
}

fn group_by(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let l = list_arg(ev, &args[1], "second", "groupBy")?;
    let f = fn_arg(ev, &args[0], "first", "groupBy")?;
    let mut groups: FxHashMap<Symbol, Vec<Value>> = FxHashMap::default();
    for x in l.iter() {
        let k = ev.call(f.clone(), x.clone(), span)?;
        let k = ev.expect_string(&k).map_err(|e| {
            e.context("while evaluating the return value of the grouping function passed to builtins.groupBy", None)
        })?;
        groups.entry(Symbol::from_bytes(k.as_bytes())).or_default().push(x.clone());
    }
    Ok(Value::attrs(groups.into_iter().map(|(k, v)| Attr::new(k, Value::list(v))).collect()))
}

fn generic_closure(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let s = &*SYMS;
    let a = ev
        .expect_attrs(&args[0])
        .map_err(|e| e.context("while evaluating the first argument passed to builtins.genericClosure", None))?;
    let start = a.get(s.start_set).cloned().ok_or_else(|| {
        EvalError::new(ErrorKind::MissingAttribute, "attribute 'startSet' missing")
            .context("in the attrset passed as argument to builtins.genericClosure", None)
    })?;
    let start = ev.expect_list(&start).map_err(|e| {
        e.context("while evaluating the 'startSet' attribute passed as argument to builtins.genericClosure", None)
    })?;
    let op = a.get(s.operator).cloned().ok_or_else(|| {
        EvalError::new(ErrorKind::MissingAttribute, "attribute 'operator' missing")
            .context("in the attrset passed as argument to builtins.genericClosure", None)
    })?;
    let op = ev.expect_function(&op).map_err(|e| {
        e.context("while evaluating the 'operator' attribute passed as argument to builtins.genericClosure", None)
    })?;
    let mut queue: std::collections::VecDeque<Value> = start.iter().cloned().collect();
    let mut keys: Vec<Value> = Vec::new();
    let mut scalar_keys: rustc_hash::FxHashSet<ScalarKey> = rustc_hash::FxHashSet::default();
    let mut out = Vec::new();
    while let Some(item) = queue.pop_front() {
        let e = ev.expect_attrs(&item).map_err(|e| {
            e.context(
                "while evaluating one of the elements generated by (or initially passed to) builtins.genericClosure",
                None,
            )
        })?;
        let key = e.get(s.key).cloned().ok_or_else(|| {
            EvalError::new(ErrorKind::MissingAttribute, "attribute 'key' missing")
                .context("in one of the attrsets generated by (or initially passed to) builtins.genericClosure", None)
        })?;
        let key = ev.force(&key)?;
        // Scalar keys are deduplicated through a hash set; keys are only
        // ever compared with keys of the same kind, so a kind change is the
        // "cannot compare" error Nix's ordered set would raise.
        if let Some(k) = ScalarKey::of(&key) {
            if let Some(first) = keys.first()
                && kind_of(first) != kind_of(&key)
            {
                key_less(ev, first, &key, span)?;
            }
            if !scalar_keys.insert(k) {
                continue;
            }
            if keys.is_empty() {
                keys.push(key);
            }
        } else {
            let mut dup = false;
            for k in &keys {
                if key_less(ev, k, &key, span)? == std::cmp::Ordering::Equal {
                    dup = true;
                    break;
                }
            }
            if dup {
                continue;
            }
            keys.push(key);
        }
        out.push(item.clone());
        let next = ev.call(op.clone(), item, span)?;
        let next = ev.expect_list(&next).map_err(|e| {
            e.context("while evaluating the return value of the `operator` passed to builtins.genericClosure", None)
        })?;
        queue.extend(next.iter().cloned());
    }
    Ok(Value::list(out))
}

/// A `genericClosure` key that can be hashed: equal keys (by Nix's
/// `lessThan`) hash equally.
#[derive(PartialEq, Eq, Hash)]
enum ScalarKey {
    Int(i64),
    Float(u64),
    Str(Vec<u8>),
    Path(String),
}

impl ScalarKey {
    fn of(v: &Value) -> Option<ScalarKey> {
        match v {
            Value::Int(i) => Some(ScalarKey::Int(*i)),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(ScalarKey::Int(*f as i64)),
            Value::Float(f) if !f.is_nan() => Some(ScalarKey::Float(if *f == 0.0 { 0 } else { f.to_bits() })),
            Value::String(s) => Some(ScalarKey::Str(s.as_bytes().to_vec())),
            Value::Path(p) => Some(ScalarKey::Path(p.to_string())),
            _ => None,
        }
    }
}

/// The comparable kind of a key (numbers compare with each other).
fn kind_of(v: &Value) -> Option<u8> {
    match v {
        Value::Int(_) | Value::Float(_) => Some(0),
        Value::String(_) => Some(1),
        Value::Path(_) => Some(2),
        Value::List(_) => Some(3),
        _ => None,
    }
}

fn key_less(ev: &mut Evaluator, a: &Value, b: &Value, span: Span) -> EvalResult<std::cmp::Ordering> {
    use std::cmp::Ordering;
    let comparable = matches!(
        (a, b),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_))
            | (Value::String(_), Value::String(_))
            | (Value::Path(_), Value::Path(_))
            | (Value::List(_), Value::List(_))
    );
    if !comparable {
        return Err(EvalError::at(
            ErrorKind::Type,
            format!("cannot compare {} with {}", a.describe(), b.describe()),
            span,
        )
        .context("while comparing the `key` attributes of two genericClosure elements", None));
    }
    if ev.less_than(a, b, span)? {
        Ok(Ordering::Less)
    } else if ev.less_than(b, a, span)? {
        Ok(Ordering::Greater)
    } else {
        Ok(Ordering::Equal)
    }
}

#[allow(dead_code)]
fn rc_unused(_: Rc<()>) {}

//! `attrListWith` (`attrListOf`): an ordered list of single-attribute sets
//! (or one attribute set), each value merged as the element type, with
//! `mkOrder`/`mkOverride` honoured per key.

use std::rc::Rc;

use dendrite_eval::native::native;
use dendrite_eval::value::{Attr, Value};
use dendrite_eval::{EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};
use rustc_hash::FxHashMap;

use super::core::*;
use crate::props::{DEFAULT_ORDER_PRIORITY, DEFAULT_OVERRIDE_PRIORITY};

/// The arguments of `attrListWith`.
#[derive(Clone)]
struct ListArgs {
    elem: Value,
    as_attrs: Value,
    merge_attr_values: Value,
}

/// The `attrListWith` function.
pub(crate) fn attr_list_with_fn(cx: &Ctx) -> Value {
    let cx = cx.clone();
    native("attrListWith", 1, move |ev: &mut Evaluator, args: &[Value], _| {
        let a = formals(ev, &args[0], "attrListWith", &["elemType"], &["asAttrs", "mergeAttrValues"])?;
        let args = ListArgs {
            elem: a.get(sym!("elemType")).cloned().unwrap_or(Value::Null),
            as_attrs: a.get(sym!("asAttrs")).cloned().unwrap_or(Value::Bool(false)),
            merge_attr_values: a.get(sym!("mergeAttrValues")).cloned().unwrap_or_else(keep_values),
        };
        Ok(attr_list_with(&cx, args))
    })
}

/// `attrListOf elemType`.
pub(crate) fn attr_list_of(cx: &Ctx, elem: Value) -> Value {
    attr_list_with(cx, ListArgs { elem, as_attrs: Value::Bool(false), merge_attr_values: keep_values() })
}

/// `_name: values: values`
fn keep_values() -> Value {
    native("mergeAttrValues", 2, |ev: &mut Evaluator, a: &[Value], _| ev.force(&a[1]))
}

fn attr_list_with(cx: &Ctx, args: ListArgs) -> Value {
    let elem = args.elem.clone();
    let description = {
        let elem = elem.clone();
        lazy_text(move |ev, span| Ok(format!("attribute list of {}", phrase(ev, &elem, &["noun", "composite"], span)?)))
    };
    let mut t = TypeDef::new(s("attrListOf"));
    t.description = description.clone();
    t.description_class = s("composite");
    let check = v2_check(|ev, x, _| Ok(matches!(ev.force(x)?, Value::List(_) | Value::Attrs(_))));
    t.check = Some(check.clone());
    t.merge = Some({
        let (cx, args) = (cx.clone(), args.clone());
        v2_merge(
            cx.shared.v2_functor.clone(),
            Rc::new(move |ev: &mut Evaluator, loc: &Value, defs: &Value, span| {
                attr_list_merge(&cx, ev, &args, &check, &description, loc, defs, span)
            }),
        )
    });
    t.empty_value = Some({
        let as_attrs = args.as_attrs.clone();
        lazy(move |ev, _| {
            let v = if ev.expect_bool(&as_attrs)? { set(vec![]) } else { Value::list(vec![]) };
            Ok(set(vec![(sym!("value"), v)]))
        })
    });
    t.get_sub_options = Some({
        let elem = elem.clone();
        native("getSubOptions", 1, move |ev: &mut Evaluator, a: &[Value], span| {
            let f = get(ev, &elem, sym!("getSubOptions"), span)?;
            let prefix = loc_push(ev, &a[0], s("*"))?;
            apply(ev, &f, prefix, span)
        })
    });
    t.get_sub_modules = select_thunk(elem.clone(), sym!("getSubModules"), cx.span());
    t.subst_sub_modules = Some({
        let (cx, args) = (cx.clone(), args.clone());
        native("substSubModules", 1, move |_: &mut Evaluator, m: &[Value], span| {
            let f = select_thunk(args.elem.clone(), sym!("substSubModules"), span);
            let inner = Value::lazy_apply(f, m[0].clone(), span);
            Ok(attr_list_with(&cx, ListArgs { elem: inner, ..args.clone() }))
        })
    });
    t.type_merge = Some(cx.shared.null_type_merge.clone());
    t.functor = Some(default_functor(cx, s("attrListOf")));
    t.nested_types = Some(set(vec![(sym!("elemType"), elem)]));
    t.build(cx)
}

/// One keyed item of an attribute list.
#[derive(Clone)]
struct Item {
    key: Symbol,
    file: Value,
    value: Value,
    prio: Value,
    override_prio: Value,
}

/// A value with its `mkOrder`/`mkOverride` wrappers taken off (in any
/// nesting), as `{ value; prio; overridePrio; }`; `mkOverride` is put back
/// around the inner value for the merge to see. Only the outer wrapper is
/// looked at now: what is inside stays unevaluated until needed.
fn peel_set(ev: &mut Evaluator, v: &Value, span: Span) -> EvalResult<Value> {
    let ty = match get_opt(ev, v, sym!("_type"))? {
        Some(t) => ev.force(&t)?,
        None => Value::Null,
    };
    let tag = match &ty {
        Value::String(s) => s.as_bytes().to_vec(),
        _ => Vec::new(),
    };
    let inner = || {
        let content = select_thunk(v.clone(), sym!("content"), span);
        lazy(move |ev, span| peel_set(ev, &content, span))
    };
    let priority = select_thunk(v.clone(), sym!("priority"), span);
    Ok(match tag.as_slice() {
        b"order" => {
            let inner = inner();
            set(vec![
                (sym!("overridePrio"), select_thunk(inner.clone(), sym!("overridePrio"), span)),
                (sym!("prio"), priority),
                (sym!("value"), select_thunk(inner, sym!("value"), span)),
            ])
        }
        b"override" => {
            let inner = inner();
            let rewrapped = set(vec![
                (sym!("_type"), s("override")),
                (sym!("content"), select_thunk(inner.clone(), sym!("value"), span)),
                (sym!("priority"), priority.clone()),
            ]);
            set(vec![
                (sym!("overridePrio"), priority),
                (sym!("prio"), select_thunk(inner, sym!("prio"), span)),
                (sym!("value"), rewrapped),
            ])
        }
        _ => set(vec![
            (sym!("overridePrio"), Value::Int(DEFAULT_OVERRIDE_PRIORITY)),
            (sym!("prio"), Value::Int(DEFAULT_ORDER_PRIORITY)),
            (sym!("value"), v.clone()),
        ]),
    })
}

/// `peel_set` as the parts of an item.
fn peel(ev: &mut Evaluator, v: &Value, span: Span) -> EvalResult<(Value, Value, Value)> {
    let p = peel_set(ev, v, span)?;
    Ok((
        select_thunk(p.clone(), sym!("value"), span),
        select_thunk(p.clone(), sym!("prio"), span),
        select_thunk(p, sym!("overridePrio"), span),
    ))
}

#[allow(clippy::too_many_arguments)]
fn extract_item(
    cx: &Ctx,
    ev: &mut Evaluator,
    description: &Value,
    loc: &Value,
    file: &Value,
    raw: &Value,
    span: Span,
) -> EvalResult<Item> {
    let has_order = match get_opt(ev, raw, sym!("_type"))? {
        Some(t) => is_str(ev, &t, "order")?,
        None => false,
    };
    let item = if has_order { get(ev, raw, sym!("content"), span)? } else { ev.force(raw)? };
    match &item {
        Value::Attrs(a) if a.len() == 1 => {
            let attr = a.iter().next().cloned().unwrap_or_else(|| Attr::new(sym!("_"), Value::Null));
            let (value, prio, override_prio) = peel(ev, &attr.value, span)?;
            let prio = if has_order { get_lazy(ev, raw, sym!("priority"), span)? } else { prio };
            Ok(Item { key: attr.name, file: file.clone(), value, prio, override_prio })
        }
        other => {
            let option = cx.show_option(ev, loc, span)?;
            let desc = text(ev, description, span)?;
            let why = match other {
                Value::Attrs(a) => {
                    format!("Each list element must be a single-key attribute set, but got {} keys", a.len())
                }
                v => format!("Each list element must be an attribute set, but got {}", v.type_of()),
            };
            let shown = cx.show_defs(ev, &Value::list(vec![def(file.clone(), raw.clone())]), span)?;
            Err(throw(format!("A definition for option `{option}' is not of type `{desc}'. {why}.{shown}")))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn attr_list_merge(
    cx: &Ctx,
    _ev: &mut Evaluator,
    args: &ListArgs,
    check: &Value,
    description: &Value,
    loc: &Value,
    defs: &Value,
    _span: Span,
) -> EvalResult<Value> {
    let head_error = lazy_head_error(cx, check, defs);
    // The merged items, in order: (key, file, prio, mergeDefinitions record).
    type Evals = Rc<Vec<(Symbol, Value, Value, Value)>>;
    let evals_cell: Rc<std::cell::OnceCell<Evals>> = Rc::new(std::cell::OnceCell::new());
    let evals = {
        let (cx, args, description, loc, defs, cell) =
            (cx.clone(), args.clone(), description.clone(), loc.clone(), defs.clone(), evals_cell.clone());
        Rc::new(move |ev: &mut Evaluator, span: Span| -> EvalResult<Evals> {
            if let Some(e) = cell.get() {
                return Ok(e.clone());
            }
            let list = ev.expect_list(&defs)?;
            let mut items = Vec::new();
            for d in list.iter() {
                let file = get_lazy(ev, d, sym!("file"), span)?;
                let value = get(ev, d, sym!("value"), span)?;
                match &value {
                    Value::List(l) => {
                        for raw in l.iter() {
                            items.push(extract_item(&cx, ev, &description, &loc, &file, raw, span)?);
                        }
                    }
                    _ => {
                        let a = ev.expect_attrs(&value)?;
                        for attr in a.iter() {
                            let (v, prio, override_prio) = peel(ev, &attr.value, span)?;
                            items.push(Item { key: attr.name, file: file.clone(), value: v, prio, override_prio });
                        }
                    }
                }
            }
            let mut winning: FxHashMap<Symbol, Value> = FxHashMap::default();
            for it in &items {
                let prev = winning.get(&it.key).cloned().unwrap_or(Value::Int(DEFAULT_OVERRIDE_PRIORITY));
                let op = ev.force(&it.override_prio)?;
                if ev.less_than(&op, &prev, span)? {
                    winning.insert(it.key, op);
                }
            }
            let mut kept = Vec::new();
            for it in items {
                let w = winning.get(&it.key).cloned().unwrap_or(Value::Int(DEFAULT_OVERRIDE_PRIORITY));
                let op = ev.force(&it.override_prio)?;
                if ev.equal(&op, &w, span)? {
                    kept.push(it);
                }
            }
            // A stable insertion sort by `prio` (builtins.sort is stable).
            let mut sorted: Vec<Item> = Vec::with_capacity(kept.len());
            for it in kept {
                let p = ev.force(&it.prio)?;
                let mut pos = sorted.len();
                while pos > 0 {
                    let q = ev.force(&sorted[pos - 1].prio)?;
                    if ev.less_than(&p, &q, span)? {
                        pos -= 1;
                    } else {
                        break;
                    }
                }
                sorted.insert(pos, it);
            }
            let mut out = Vec::new();
            for it in sorted {
                let loc2 = loc_push(ev, &loc, s(it.key.as_str()))?;
                let one = Value::list(vec![def(it.file.clone(), it.value.clone())]);
                let r = cx.merge_definitions(ev, loc2, args.elem.clone(), one, span)?;
                let opt = get(ev, &r, sym!("optionalValue"), span)?;
                if has(ev, &opt, sym!("value"))? {
                    out.push((it.key, it.file, it.prio, r));
                }
            }
            let e: Evals = Rc::new(out);
            let _ = cell.set(e.clone());
            Ok(e)
        })
    };
    let value_of = |record: &Value| {
        let record = record.clone();
        lazy(move |ev, span| {
            let opt = get(ev, &record, sym!("optionalValue"), span)?;
            match get_opt(ev, &opt, sym!("value"))? {
                Some(v) => ev.force(&v),
                None => get(ev, &record, sym!("mergedValue"), span),
            }
        })
    };
    let attr_list_value = {
        let evals = evals.clone();
        lazy(move |ev, span| {
            let e = evals(ev, span)?;
            Ok(Value::list(e.iter().map(|(k, _, _, r)| Value::attrs(vec![Attr::new(*k, value_of(r))])).collect()))
        })
    };
    let value = {
        let (cx, args, alv) = (cx.clone(), args.clone(), attr_list_value.clone());
        lazy(move |ev, span| {
            if !ev.expect_bool(&args.as_attrs)? {
                return ev.force(&alv);
            }
            let zip = cx.builtin(ev, "zipAttrsWith")?;
            apply2(ev, &zip, args.merge_attr_values.clone(), alv.clone(), span)
        })
    };
    let meta_list = {
        let evals = evals.clone();
        lazy(move |ev, span| {
            let e = evals(ev, span)?;
            Ok(Value::list(
                e.iter()
                    .map(|(_, _, _, r)| {
                        let cm = select_thunk(r.clone(), sym!("checkedAndMerged"), span);
                        select_thunk(cm, sym!("valueMeta"), span)
                    })
                    .collect(),
            ))
        })
    };
    let definitions = lazy(move |ev, span| {
        let e = evals(ev, span)?;
        Ok(Value::list(
            e.iter()
                .map(|(k, file, prio, r)| {
                    let ordered = set(vec![
                        (sym!("_type"), s("order")),
                        (sym!("content"), Value::attrs(vec![Attr::new(*k, value_of(r))])),
                        (sym!("priority"), prio.clone()),
                    ]);
                    set(vec![(sym!("_type"), s("definition")), (sym!("file"), file.clone()), (sym!("value"), ordered)])
                })
                .collect(),
        ))
    });
    let meta = set(vec![
        (sym!("attrList"), meta_list),
        (sym!("attrListValue"), attr_list_value),
        (sym!("definitions"), definitions),
    ]);
    Ok(v2_result(head_error, value, meta))
}

//! The types built from other types: `listOf`, `attrsWith` (`attrsOf`,
//! `lazyAttrsOf`), `nullOr`, `functionTo`, `unique`, `either`, `oneOf`,
//! `coercedTo`, `addCheck`, `nonEmptyListOf`, `mergeTypes` ...

use std::rc::Rc;

use dendrite_eval::native::native;
use dendrite_eval::value::{Attr, Thunk, ThunkState, Value};
use dendrite_eval::{EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};
use rustc_hash::FxHashMap;

use super::core::*;

/// `getSubOptions = prefix: elemType.getSubOptions (prefix ++ [ suffix ])`.
fn sub_options_with(elem: Value, suffix: Value) -> Value {
    native("getSubOptions", 1, move |ev: &mut Evaluator, args: &[Value], span| {
        let f = get(ev, &elem, sym!("getSubOptions"), span)?;
        let suffix = ev.force(&suffix)?;
        let prefix = loc_push(ev, &args[0], suffix)?;
        apply(ev, &f, prefix, span)
    })
}

/// `substSubModules = m: <ctor> (elemType.substSubModules m)`.
fn subst_with(elem: Value, ctor: impl Fn(&mut Evaluator, Value, Span) -> EvalResult<Value> + 'static) -> Value {
    native("substSubModules", 1, move |ev: &mut Evaluator, args: &[Value], span| {
        let f = select_thunk(elem.clone(), sym!("substSubModules"), span);
        let inner = Value::lazy_apply(f, args[0].clone(), span);
        let r = ctor(ev, inner, span)?;
        ev.force(&r)
    })
}

/// The `getSubModules`, `substSubModules`, `functor` and `nestedTypes` of a
/// type that wraps one `elemType` and is rebuilt by `lib.types.<name>`;
/// `rebuild` makes the type again around a new element type.
fn elem_type_wrapper(
    t: &mut TypeDef,
    cx: &Ctx,
    name: Symbol,
    elem: &Value,
    rebuild: impl Fn(&Ctx, &mut Evaluator, Value) -> EvalResult<Value> + 'static,
) {
    t.get_sub_modules = select_thunk(elem.clone(), sym!("getSubModules"), cx.span());
    t.subst_sub_modules = Some({
        let cx = cx.clone();
        subst_with(elem.clone(), move |ev, inner, _| rebuild(&cx, ev, inner))
    });
    t.functor =
        Some(elem_type_functor(&name.as_str(), set(vec![(sym!("elemType"), elem.clone())]), elem_type_ctor(cx, name)));
    t.nested_types = Some(set(vec![(sym!("elemType"), elem.clone())]));
}

/// `{ value = v; }`.
fn with_value(v: Value) -> Value {
    set(vec![(sym!("value"), v)])
}

// ------------------------------------------------------------------ listOf

/// `listOf elemType`
pub(crate) fn list_of(cx: &Ctx, elem: Value) -> Value {
    let mut t = TypeDef::new(s("listOf"));
    t.description = {
        let elem = elem.clone();
        lazy_text(move |ev, span| Ok(format!("list of {}", phrase(ev, &elem, &["noun", "composite"], span)?)))
    };
    t.description_class = s("composite");
    let check = v2_check(|ev, x, _| Ok(matches!(ev.force(x)?, Value::List(_))));
    t.check = Some(check.clone());
    t.merge = Some({
        let (cx, elem) = (cx.clone(), elem.clone());
        v2_merge(
            cx.shared.v2_functor.clone(),
            Rc::new(move |ev: &mut Evaluator, loc: &Value, defs: &Value, _| {
                Ok(list_merge(&cx, ev, &elem, &check, loc, defs))
            }),
        )
    });
    t.empty_value = Some(with_value(Value::list(vec![])));
    t.get_sub_options = Some(sub_options_with(elem.clone(), s("*")));
    elem_type_wrapper(&mut t, cx, sym!("listOf"), &elem, |cx, _, inner| Ok(list_of(cx, inner)));
    t.build(cx)
}

/// The `v2` record of `listOf`: each element of each definition merged
/// on its own, undefined (`mkIf false`) elements dropped.
fn list_merge(cx: &Ctx, _ev: &mut Evaluator, elem: &Value, check: &Value, loc: &Value, defs: &Value) -> Value {
    let head_error = lazy_head_error(cx, check, defs);
    let evals = {
        let (cx, elem, loc, defs) = (cx.clone(), elem.clone(), loc.clone(), defs.clone());
        lazy(move |ev, span| {
            let list = ev.expect_list(&defs)?;
            let mut out = Vec::new();
            for (n, d) in list.iter().enumerate() {
                let file = get_lazy(ev, d, sym!("file"), span)?;
                let value = get(ev, d, sym!("value"), span)?;
                let items = ev.expect_list(&value)?;
                for (m, item) in items.iter().enumerate() {
                    let loc2 = loc_push(ev, &loc, s(format!("[definition {}-entry {}]", n + 1, m + 1)))?;
                    let one = Value::list(vec![def(file.clone(), item.clone())]);
                    let r = cx.merge_definitions(ev, loc2, elem.clone(), one, span)?;
                    let opt = get(ev, &r, sym!("optionalValue"), span)?;
                    if has(ev, &opt, sym!("value"))? {
                        out.push(r);
                    }
                }
            }
            Ok(Value::list(out))
        })
    };
    let value = {
        let evals = evals.clone();
        lazy(move |ev, _| {
            let l = ev.expect_list(&evals)?;
            let items = l
                .iter()
                .map(|r| {
                    let r = r.clone();
                    lazy(move |ev, span| {
                        let opt = get(ev, &r, sym!("optionalValue"), span)?;
                        match get_opt(ev, &opt, sym!("value"))? {
                            Some(v) => ev.force(&v),
                            None => get(ev, &r, sym!("mergedValue"), span),
                        }
                    })
                })
                .collect();
            Ok(Value::list(items))
        })
    };
    let meta_list = lazy(move |ev, span| {
        let l = ev.expect_list(&evals)?;
        let items = l
            .iter()
            .map(|r| {
                let cm = select_thunk(r.clone(), sym!("checkedAndMerged"), span);
                select_thunk(cm, sym!("valueMeta"), span)
            })
            .collect();
        Ok(Value::list(items))
    });
    v2_result(head_error, value, set(vec![(sym!("list"), meta_list)]))
}

/// `nonEmptyListOf elemType`
pub(crate) fn non_empty_list_of(cx: &Ctx, ev: &mut Evaluator, elem: Value, span: Span) -> EvalResult<Value> {
    let ctor = cx.lib_type(ev, sym!("listOf"), span)?;
    let list = apply(ev, &ctor, elem.clone(), span)?;
    let non_empty = native("check", 1, |ev: &mut Evaluator, args: &[Value], _| {
        Ok(Value::Bool(!matches!(ev.force(&args[0])?, Value::List(l) if l.is_empty())))
    });
    let list = add_check(cx, ev, &list, non_empty, span)?;
    let description = {
        let list = list.clone();
        lazy_text(move |ev, span| Ok(format!("non-empty {}", phrase(ev, &list, &["noun"], span)?)))
    };
    let subst = {
        let cx = cx.clone();
        subst_with(elem, move |ev, inner, span| non_empty_list_of(&cx, ev, inner, span))
    };
    update(
        ev,
        &list,
        vec![(sym!("description"), description), (sym!("emptyValue"), set(vec![])), (sym!("substSubModules"), subst)],
    )
}

// ------------------------------------------------------------- attrsWith

/// `attrsWith { elemType; lazy; placeholder; }` (`lazy` and `placeholder`
/// may be unevaluated).
pub(crate) fn attrs_with(cx: &Ctx, elem: Value, is_lazy: Value, placeholder: Value) -> Value {
    let name = {
        let is_lazy = is_lazy.clone();
        lazy(move |ev, _| Ok(s(if ev.expect_bool(&is_lazy)? { "lazyAttrsOf" } else { "attrsOf" })))
    };
    let mut t = TypeDef::new(name);
    t.description = {
        let (elem, is_lazy) = (elem.clone(), is_lazy.clone());
        lazy_text(move |ev, span| {
            let kind = if ev.expect_bool(&is_lazy)? { "lazy attribute set" } else { "attribute set" };
            Ok(format!("{kind} of {}", phrase(ev, &elem, &["noun", "composite"], span)?))
        })
    };
    t.description_class = s("composite");
    let check = v2_check(|ev, x, _| Ok(matches!(ev.force(x)?, Value::Attrs(_))));
    t.check = Some(check.clone());
    t.merge = Some({
        let (cx, elem, is_lazy) = (cx.clone(), elem.clone(), is_lazy.clone());
        v2_merge(
            cx.shared.v2_functor.clone(),
            Rc::new(move |ev: &mut Evaluator, loc: &Value, defs: &Value, span| {
                let l = ev.expect_bool(&is_lazy)?;
                attrs_merge_with_check(&cx, ev, &elem, l, &check, loc, defs, span)
            }),
        )
    });
    t.empty_value = Some(with_value(set(vec![])));
    t.get_sub_options = Some({
        let placeholder = placeholder.clone();
        let suffix = lazy_text(move |ev, span| Ok(format!("<{}>", text(ev, &placeholder, span)?)));
        sub_options_with(elem.clone(), suffix)
    });
    t.get_sub_modules = select_thunk(elem.clone(), sym!("getSubModules"), cx.span());
    t.subst_sub_modules = Some({
        let (cx, is_lazy, placeholder) = (cx.clone(), is_lazy.clone(), placeholder.clone());
        subst_with(elem.clone(), move |_, inner, _| Ok(attrs_with(&cx, inner, is_lazy.clone(), placeholder.clone())))
    });
    let payload =
        set(vec![(sym!("elemType"), elem.clone()), (sym!("lazy"), is_lazy), (sym!("placeholder"), placeholder)]);
    t.functor = Some(set(vec![
        (sym!("binOp"), native("binOp", 2, attrs_with_bin_op)),
        (sym!("name"), s("attrsWith")),
        (sym!("payload"), payload),
        (sym!("type"), cx.lib_lazy(&["types", "attrsWith"])),
    ]));
    t.nested_types = Some(set(vec![(sym!("elemType"), elem)]));
    t.build(cx)
}

/// The `binOp` of `attrsWith`'s functor: element types merged, `lazy`
/// equal, placeholders equal (or one the default `"name"`).
fn attrs_with_bin_op(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let (lhs, rhs) = (&args[0], &args[1]);
    let le = get(ev, lhs, sym!("elemType"), span)?;
    let re = get(ev, rhs, sym!("elemType"), span)?;
    let tm = get(ev, &le, sym!("typeMerge"), span)?;
    let rf = get_lazy(ev, &re, sym!("functor"), span)?;
    let elem = apply(ev, &tm, rf, span)?;
    if matches!(elem, Value::Null) {
        return Ok(Value::Null);
    }
    let ll = get(ev, lhs, sym!("lazy"), span)?;
    let rl = get(ev, rhs, sym!("lazy"), span)?;
    if !ev.equal(&ll, &rl, span)? {
        return Ok(Value::Null);
    }
    let lp = get(ev, lhs, sym!("placeholder"), span)?;
    let rp = get(ev, rhs, sym!("placeholder"), span)?;
    let placeholder = if ev.equal(&lp, &rp, span)? {
        lp
    } else if is_str(ev, &lp, "name")? {
        rp
    } else if is_str(ev, &rp, "name")? {
        lp
    } else {
        return Ok(Value::Null);
    };
    if matches!(ll, Value::Null) || matches!(placeholder, Value::Null) {
        return Ok(Value::Null);
    }
    Ok(set(vec![(sym!("elemType"), elem), (sym!("lazy"), ll), (sym!("placeholder"), placeholder)]))
}

/// The `v2` record of `attrsWith` for `defs` (with `isAttrs` as the head check).
pub(crate) fn attrs_merge(
    cx: &Ctx,
    ev: &mut Evaluator,
    elem: &Value,
    is_lazy: bool,
    loc: &Value,
    defs: &Value,
    span: Span,
) -> EvalResult<Value> {
    let is_attrs = cx.builtin(ev, "isAttrs")?;
    attrs_merge_with_check(cx, ev, elem, is_lazy, &is_attrs, loc, defs, span)
}

#[allow(clippy::too_many_arguments)]
fn attrs_merge_with_check(
    cx: &Ctx,
    _ev: &mut Evaluator,
    elem: &Value,
    is_lazy: bool,
    check: &Value,
    loc: &Value,
    defs: &Value,
    _span: Span,
) -> EvalResult<Value> {
    let head_error = lazy_head_error(cx, check, defs);
    // name -> the `mergeDefinitions` record of that attribute
    let evals = {
        let (cx, elem, loc, defs) = (cx.clone(), elem.clone(), loc.clone(), defs.clone());
        lazy(move |ev, span| {
            let list = ev.expect_list(&defs)?;
            let mut order: Vec<Symbol> = Vec::new();
            let mut by_name: FxHashMap<Symbol, Vec<Value>> = FxHashMap::default();
            for d in list.iter() {
                let file = get_lazy(ev, d, sym!("file"), span)?;
                let value = get(ev, d, sym!("value"), span)?;
                let a = ev.expect_attrs(&value)?;
                for attr in a.iter() {
                    let entry = by_name.entry(attr.name).or_insert_with(|| {
                        order.push(attr.name);
                        Vec::new()
                    });
                    entry.push(def(file.clone(), attr.value.clone()));
                }
            }
            let mut out = Vec::with_capacity(order.len());
            for name in order {
                let defs_n = Value::list(by_name.remove(&name).unwrap_or_default());
                let record = {
                    let (cx, elem, loc) = (cx.clone(), elem.clone(), loc.clone());
                    lazy(move |ev, span| {
                        let loc2 = loc_push(ev, &loc, s(name.as_str()))?;
                        cx.merge_definitions(ev, loc2, elem.clone(), defs_n.clone(), span)
                    })
                };
                if !is_lazy {
                    let opt = get(ev, &record, sym!("optionalValue"), span)?;
                    if !has(ev, &opt, sym!("value"))? {
                        continue;
                    }
                }
                out.push(Attr::new(name, record));
            }
            Ok(Value::attrs(out))
        })
    };
    let value = {
        let (evals, elem) = (evals.clone(), elem.clone());
        lazy(move |ev, _| {
            let a = ev.expect_attrs(&evals)?;
            let out = a
                .iter()
                .map(|attr| {
                    let (record, elem) = (attr.value.clone(), elem.clone());
                    Attr::new(attr.name, lazy(move |ev, span| attr_value(ev, &record, &elem, is_lazy, span)))
                })
                .collect();
            Ok(Value::attrs(out))
        })
    };
    let meta = lazy(move |ev, span| {
        let a = ev.expect_attrs(&evals)?;
        let out = a
            .iter()
            .map(|attr| {
                let cm = select_thunk(attr.value.clone(), sym!("checkedAndMerged"), span);
                Attr::new(attr.name, select_thunk(cm, sym!("valueMeta"), span))
            })
            .collect();
        Ok(Value::attrs(out))
    });
    Ok(v2_result(head_error, value, set(vec![(sym!("attrs"), meta)])))
}

/// One attribute of an `attrsWith` value: `v.optionalValue.value` (lazy
/// sets: `or elemType.emptyValue.value or v.mergedValue`).
fn attr_value(ev: &mut Evaluator, record: &Value, elem: &Value, is_lazy: bool, span: Span) -> EvalResult<Value> {
    let opt = get(ev, record, sym!("optionalValue"), span)?;
    if !is_lazy {
        return get(ev, &opt, sym!("value"), span);
    }
    if let Some(v) = get_opt(ev, &opt, sym!("value"))? {
        return ev.force(&v);
    }
    if let Some(empty) = get_opt(ev, elem, sym!("emptyValue"))?
        && let Some(v) = get_opt(ev, &empty, sym!("value"))?
    {
        return ev.force(&v);
    }
    get(ev, record, sym!("mergedValue"), span)
}

/// `loaOf elemType` (deprecated).
pub(crate) fn loa_of(cx: &Ctx, ev: &mut Evaluator, elem: Value, span: Span) -> EvalResult<Value> {
    let ctor = cx.lib_type(ev, sym!("attrsOf"), span)?;
    let base = apply(ev, &ctor, elem.clone(), span)?;
    update(
        ev,
        &base,
        vec![
            (sym!("name"), s("loaOf")),
            (
                sym!("deprecationMessage"),
                s(
                    "Mixing lists with attribute values is no longer possible; please use `types.attrsOf` instead. See https://github.com/NixOS/nixpkgs/issues/1800 for the motivation.",
                ),
            ),
            (sym!("nestedTypes"), set(vec![(sym!("elemType"), elem)])),
        ],
    )
}

// ------------------------------------------------------ nullOr, unique ...

/// `nullOr elemType`
pub(crate) fn null_or(cx: &Ctx, elem: Value) -> Value {
    let mut t = TypeDef::new(s("nullOr"));
    t.description = {
        let elem = elem.clone();
        lazy_text(move |ev, span| Ok(format!("null or {}", phrase(ev, &elem, &["noun", "conjunction"], span)?)))
    };
    t.description_class = s("conjunction");
    t.check = Some({
        let elem = elem.clone();
        native("check", 1, move |ev: &mut Evaluator, args: &[Value], span| {
            if is_null(ev, &args[0])? {
                return Ok(Value::Bool(true));
            }
            let c = get(ev, &elem, sym!("check"), span)?;
            Ok(Value::Bool(test(ev, &c, args[0].clone(), span)?))
        })
    });
    t.merge = Some({
        let (cx, elem) = (cx.clone(), elem.clone());
        native("merge", 2, move |ev: &mut Evaluator, args: &[Value], span| {
            let (loc, defs) = (&args[0], &args[1]);
            let list = ev.expect_list(defs)?;
            let mut nulls = 0;
            for d in list.iter() {
                let v = get(ev, d, sym!("value"), span)?;
                if matches!(v, Value::Null) {
                    nulls += 1;
                }
            }
            if nulls == 0 {
                call_merge(ev, &elem, loc.clone(), defs.clone(), span)
            } else if nulls == list.len() {
                Ok(Value::Null)
            } else {
                let option = cx.show_option(ev, loc, span)?;
                let files = cx.show_files_of(ev, defs, span)?;
                Err(throw(format!("The option `{option}` is defined both null and not null, in {files}.")))
            }
        })
    });
    t.empty_value = Some(with_value(Value::Null));
    t.get_sub_options = Some(select_thunk(elem.clone(), sym!("getSubOptions"), cx.span()));
    elem_type_wrapper(&mut t, cx, sym!("nullOr"), &elem, |cx, _, inner| Ok(null_or(cx, inner)));
    t.build(cx)
}

/// `functionTo elemType`: definitions are functions whose results are
/// merged as `elemType`.
pub(crate) fn function_to(cx: &Ctx, ev: &mut Evaluator, elem: Value) -> EvalResult<Value> {
    let mut t = TypeDef::new(s("functionTo"));
    t.description = {
        let elem = elem.clone();
        lazy_text(move |ev, span| {
            Ok(format!("function that evaluates to a(n) {}", phrase(ev, &elem, &["noun", "composite"], span)?))
        })
    };
    t.description_class = s("composite");
    t.check = Some(cx.builtin(ev, "isFunction")?);
    t.merge = Some({
        let (cx, elem) = (cx.clone(), elem.clone());
        native("merge", 2, move |_: &mut Evaluator, args: &[Value], _| {
            let (loc, defs) = (args[0].clone(), args[1].clone());
            let function_args = {
                let (cx, defs) = (cx.clone(), defs.clone());
                lazy(move |ev, span| {
                    let list = ev.expect_list(&defs)?;
                    let fa = cx.builtin(ev, "functionArgs")?;
                    let each: Vec<Value> = list
                        .iter()
                        .map(|d| Value::lazy_apply(fa.clone(), select_thunk(d.clone(), sym!("value"), span), span))
                        .collect();
                    let zip = cx.builtin(ev, "zipAttrsWith")?;
                    let all_true = native("all", 2, |ev: &mut Evaluator, args: &[Value], _| {
                        let l = ev.expect_list(&args[1])?;
                        for x in l.iter() {
                            if !ev.expect_bool(x)? {
                                return Ok(Value::Bool(false));
                            }
                        }
                        Ok(Value::Bool(true))
                    });
                    apply2(ev, &zip, all_true, Value::list(each), span)
                })
            };
            let functor = {
                let (cx, elem) = (cx.clone(), elem.clone());
                native("__functor", 2, move |ev: &mut Evaluator, fargs: &[Value], span| {
                    let caller = fargs[1].clone();
                    let loc2 = loc_push(ev, &loc, s("<function body>"))?;
                    let list = ev.expect_list(&defs)?;
                    let applied: Vec<Value> = list
                        .iter()
                        .map(|d| {
                            let f = select_thunk(d.clone(), sym!("value"), span);
                            def(select_thunk(d.clone(), sym!("file"), span), Value::lazy_apply(f, caller.clone(), span))
                        })
                        .collect();
                    let r = cx.merge_definitions(ev, loc2, elem.clone(), Value::list(applied), span)?;
                    get(ev, &r, sym!("mergedValue"), span)
                })
            };
            Ok(set(vec![(sym!("__functionArgs"), function_args), (sym!("__functor"), functor)]))
        })
    });
    t.get_sub_options = Some(sub_options_with(elem.clone(), s("<function body>")));
    elem_type_wrapper(&mut t, cx, sym!("functionTo"), &elem, function_to);
    Ok(t.build(cx))
}

/// `unique { message; } type`: `type` with a single definition required.
pub(crate) fn unique(cx: &Ctx, message: Value, ty: Value) -> Value {
    let mut t = TypeDef::new(s("unique"));
    let span = cx.span();
    t.description = select_thunk(ty.clone(), sym!("description"), span);
    t.description_class = select_thunk(ty.clone(), sym!("descriptionClass"), span);
    t.check = Some(select_thunk(ty.clone(), sym!("check"), span));
    t.merge = Some({
        let (cx, message, ty) = (cx.clone(), message.clone(), ty.clone());
        lazy(move |ev, span| {
            let arg = set(vec![
                (sym!("merge"), select_thunk(ty.clone(), sym!("merge"), span)),
                (sym!("message"), message.clone()),
            ]);
            cx.call_lib(ev, &[sym!("options"), sym!("mergeUniqueOption")], &[arg], span)
        })
    });
    t.empty_value = Some(select_thunk(ty.clone(), sym!("emptyValue"), span));
    t.get_sub_options = Some(select_thunk(ty.clone(), sym!("getSubOptions"), span));
    t.get_sub_modules = select_thunk(ty.clone(), sym!("getSubModules"), span);
    t.subst_sub_modules = Some({
        let cx = cx.clone();
        subst_with(ty.clone(), move |_, inner, _| Ok(unique(&cx, s(""), inner)))
    });
    let ctor = {
        let (cx, message) = (cx.clone(), message.clone());
        native("type", 1, move |ev: &mut Evaluator, args: &[Value], span| {
            let f = cx.lib_type(ev, sym!("unique"), span)?;
            let elem = select_thunk(args[0].clone(), sym!("elemType"), span);
            apply2(ev, &f, set(vec![(sym!("message"), message.clone())]), elem, span)
        })
    };
    t.functor = Some(elem_type_functor("unique", set(vec![(sym!("elemType"), ty.clone())]), ctor));
    t.nested_types = Some(set(vec![(sym!("elemType"), ty)]));
    t.build(cx)
}

// ------------------------------------------------------------- either ...

/// `either t1 t2`
pub(crate) fn either(cx: &Ctx, t1: Value, t2: Value) -> Value {
    let mut t = TypeDef::new(s("either"));
    t.description = {
        let (t1, t2) = (t1.clone(), t2.clone());
        lazy_text(move |ev, span| {
            let class = get_opt(ev, &t1, sym!("descriptionClass"))?;
            let nrc = match class {
                Some(c) => is_str(ev, &c, "nonRestrictiveClause")?,
                None => false,
            };
            if nrc {
                let d1 = get(ev, &t1, sym!("description"), span)?;
                let d1 = text(ev, &d1, span)?;
                Ok(format!("{d1}, or {}", phrase(ev, &t2, &["noun", "conjunction"], span)?))
            } else {
                let p1 = phrase(ev, &t1, &["noun", "conjunction"], span)?;
                let p2 = phrase(ev, &t2, &["noun", "conjunction", "composite"], span)?;
                Ok(format!("{p1} or {p2}"))
            }
        })
    };
    t.description_class = s("conjunction");
    t.check = Some({
        let (t1, t2) = (t1.clone(), t2.clone());
        v2_check(move |ev, x, span| {
            let c1 = get(ev, &t1, sym!("check"), span)?;
            if test(ev, &c1, x.clone(), span)? {
                return Ok(true);
            }
            let c2 = get(ev, &t2, sym!("check"), span)?;
            test(ev, &c2, x.clone(), span)
        })
    });
    t.merge = Some({
        let (cx, t1, t2) = (cx.clone(), t1.clone(), t2.clone());
        v2_merge(
            cx.shared.v2_functor.clone(),
            Rc::new(move |ev: &mut Evaluator, loc: &Value, defs: &Value, span| {
                either_merge(&cx, ev, &t1, &t2, loc, defs, span)
            }),
        )
    });
    t.type_merge = Some({
        let (t1, t2) = (t1.clone(), t2.clone());
        let cx = cx.clone();
        native("typeMerge", 1, move |ev: &mut Evaluator, args: &[Value], span| {
            let f2 = &args[0];
            let n2 = get(ev, f2, sym!("name"), span)?;
            if !is_str(ev, &n2, "either")? {
                return Ok(Value::Null);
            }
            let payload = get(ev, f2, sym!("payload"), span)?;
            let elems = get(ev, &payload, sym!("elemType"), span)?;
            let elems = ev.expect_list(&elems)?;
            let (Some(e1), Some(e2)) = (elems.first().cloned(), elems.get(1).cloned()) else {
                return Err(dendrite_eval::EvalError::eval("list index 1 is out of bounds").with_span(span));
            };
            let tm1 = get(ev, &t1, sym!("typeMerge"), span)?;
            let f1 = get_lazy(ev, &e1, sym!("functor"), span)?;
            let mt1 = apply(ev, &tm1, f1, span)?;
            if matches!(mt1, Value::Null) {
                return Ok(Value::Null);
            }
            let tm2 = get(ev, &t2, sym!("typeMerge"), span)?;
            let f2b = get_lazy(ev, &e2, sym!("functor"), span)?;
            let mt2 = apply(ev, &tm2, f2b, span)?;
            if matches!(mt2, Value::Null) {
                return Ok(Value::Null);
            }
            let ctor = cx.lib_type(ev, sym!("either"), span)?;
            apply2(ev, &ctor, mt1, mt2, span)
        })
    });
    t.functor = Some(elem_type_functor(
        "either",
        set(vec![(sym!("elemType"), Value::list(vec![t1.clone(), t2.clone()]))]),
        cx.lib_lazy(&["types", "either"]),
    ));
    t.nested_types = Some(set(vec![(sym!("left"), t1), (sym!("right"), t2)]));
    t.build(cx)
}

fn head_error_is_null(ev: &mut Evaluator, record: &Value, span: Span) -> EvalResult<bool> {
    let h = get(ev, record, sym!("headError"), span)?;
    Ok(matches!(h, Value::Null))
}

/// The `v2` record of `either`: the first alternative whose check passes
/// every definition, else a warning and `mergeOneOption`.
fn either_merge(
    cx: &Ctx,
    ev: &mut Evaluator,
    t1: &Value,
    t2: &Value,
    loc: &Value,
    defs: &Value,
    span: Span,
) -> EvalResult<Value> {
    let r1 = checked_and_merged(cx, ev, t1, loc, defs, span)?;
    if head_error_is_null(ev, &r1, span)? {
        return Ok(r1);
    }
    let r2 = checked_and_merged(cx, ev, t2, loc, defs, span)?;
    if head_error_is_null(ev, &r2, span)? {
        return Ok(r2);
    }
    let message = {
        let (cx, t1, t2, loc, defs) = (cx.clone(), t1.clone(), t2.clone(), loc.clone(), defs.clone());
        lazy_text(move |ev, span| {
            let option = cx.show_option(ev, &loc, span)?;
            let d1 = get(ev, &t1, sym!("description"), span)?;
            let d1 = text(ev, &d1, span)?;
            let d2 = get(ev, &t2, sym!("description"), span)?;
            let d2 = text(ev, &d2, span)?;
            let shown = cx.show_defs(ev, &defs, span)?;
            Ok(format!(
                "The option `{option}` is neither a value of type `{d1}` nor `{d2}`, Definition values: {shown}"
            ))
        })
    };
    let head_error = set(vec![(sym!("message"), message.clone())]);
    let value = {
        let (cx, loc, defs) = (cx.clone(), loc.clone(), defs.clone());
        lazy(move |ev, span| {
            let option = cx.show_option(ev, &loc, span)?;
            let msg = text(ev, &message, span)?;
            let warning = format!(
                "One or more definitions did not pass the type-check of the 'either' type.\n\
                 {msg}\n\
                 If `either`, `oneOf` or similar is used in freeformType, ensure that it is preceded by an 'attrsOf' such as: `freeformType = types.attrsOf (types.either t1 t2)`.\n\
                 Otherwise consider using the correct type for the option `{option}`.  This will be an error in Nixpkgs 26.05.\n"
            );
            let merged = {
                let (cx, loc, defs) = (cx.clone(), loc.clone(), defs.clone());
                lazy(move |ev, span| {
                    cx.call_lib(ev, &[sym!("options"), sym!("mergeOneOption")], &[loc.clone(), defs.clone()], span)
                })
            };
            cx.call_lib(ev, &[sym!("warn")], &[s(warning), merged], span)
        })
    };
    Ok(v2_result(head_error.clone(), value, set(vec![(sym!("headError"), head_error)])))
}

/// `oneOf ts`: `either` folded over the list.
pub(crate) fn one_of(cx: &Ctx, ev: &mut Evaluator, ts: &Value) -> EvalResult<Value> {
    let l = ev.expect_list(ts)?;
    let Some(first) = l.first() else {
        return Err(throw("types.oneOf needs to get at least one type in its argument"));
    };
    let mut acc = ev.force(first)?;
    for t in l.iter().skip(1) {
        acc = either(cx, acc, t.clone());
    }
    Ok(acc)
}

/// `coercedTo coercedType coerceFunc finalType`
pub(crate) fn coerced_to(
    cx: &Ctx,
    ev: &mut Evaluator,
    coerced: Value,
    coerce: Value,
    fin: Value,
    span: Span,
) -> EvalResult<Value> {
    let sub = get(ev, &coerced, sym!("getSubModules"), span)?;
    if !matches!(sub, Value::Null) {
        let d = get(ev, &coerced, sym!("description"), span)?;
        let d = text(ev, &d, span)?;
        return Err(throw(format!("coercedTo: coercedType must not have submodules (it\u{2019}s a {d})")));
    }
    let mut t = TypeDef::new(s("coercedTo"));
    t.description = {
        let (coerced, fin) = (coerced.clone(), fin.clone());
        lazy_text(move |ev, span| {
            let f = phrase(ev, &fin, &["noun"], span)?;
            let c = phrase(ev, &coerced, &["noun"], span)?;
            Ok(format!("{f} or {c} convertible to it"))
        })
    };
    let check = {
        let (coerced, coerce, fin) = (coerced.clone(), coerce.clone(), fin.clone());
        v2_check(move |ev, x, span| {
            let cc = get(ev, &coerced, sym!("check"), span)?;
            let fc = get(ev, &fin, sym!("check"), span)?;
            if test(ev, &cc, x.clone(), span)? {
                let converted = Value::lazy_apply(coerce.clone(), x.clone(), span);
                if test(ev, &fc, converted, span)? {
                    return Ok(true);
                }
            }
            test(ev, &fc, x.clone(), span)
        })
    };
    t.check = Some(check.clone());
    t.merge = Some({
        let (cx, coerced, coerce, fin) = (cx.clone(), coerced.clone(), coerce.clone(), fin.clone());
        v2_merge(
            cx.shared.v2_functor.clone(),
            Rc::new(move |ev: &mut Evaluator, loc: &Value, defs: &Value, span| {
                coerced_merge(&cx, ev, &coerced, &coerce, &fin, &check, loc, defs, span)
            }),
        )
    });
    t.empty_value = Some(select_thunk(fin.clone(), sym!("emptyValue"), span));
    t.get_sub_options = Some(select_thunk(fin.clone(), sym!("getSubOptions"), span));
    t.get_sub_modules = select_thunk(fin.clone(), sym!("getSubModules"), span);
    t.subst_sub_modules = Some({
        let (cx, coerced, coerce) = (cx.clone(), coerced.clone(), coerce.clone());
        subst_with(fin.clone(), move |ev, inner, span| {
            coerced_to(&cx, ev, coerced.clone(), coerce.clone(), inner, span)
        })
    });
    t.type_merge = Some(cx.shared.null_type_merge.clone());
    t.nested_types = Some(set(vec![(sym!("coercedType"), coerced), (sym!("finalType"), fin)]));
    Ok(t.build(cx))
}

#[allow(clippy::too_many_arguments)]
fn coerced_merge(
    cx: &Ctx,
    ev: &mut Evaluator,
    coerced: &Value,
    coerce: &Value,
    fin: &Value,
    check: &Value,
    loc: &Value,
    defs: &Value,
    span: Span,
) -> EvalResult<Value> {
    let list = ev.expect_list(defs)?;
    let final_defs: Vec<Value> = list
        .iter()
        .map(|d| {
            let (cx, coerced, coerce, loc, d0) = (cx.clone(), coerced.clone(), coerce.clone(), loc.clone(), d.clone());
            let value = lazy(move |ev, span| {
                let v = get_lazy(ev, &d0, sym!("value"), span)?;
                let convert = if merge_has_v2(ev, &coerced, span)? {
                    check_v2_coherence(&cx, ev, &loc, &coerced, span)?;
                    let r = call_v2(ev, &coerced, loc.clone(), Value::list(vec![d0.clone()]), span)?;
                    head_error_is_null(ev, &r, span)?
                } else {
                    let c = get(ev, &coerced, sym!("check"), span)?;
                    test(ev, &c, v.clone(), span)?
                };
                if convert { apply(ev, &coerce, v, span) } else { ev.force(&v) }
            });
            let d = d.clone();
            lazy(move |ev, _| update(ev, &d, vec![(sym!("value"), value.clone())]))
        })
        .collect();
    let final_defs = Value::list(final_defs);
    if merge_has_v2(ev, fin, span)? {
        check_v2_coherence(cx, ev, loc, fin, span)?;
        return call_v2(ev, fin, loc.clone(), final_defs, span);
    }
    let value = {
        let (fin, loc) = (fin.clone(), loc.clone());
        lazy(move |ev, span| call_merge(ev, &fin, loc.clone(), final_defs.clone(), span))
    };
    let head_error = lazy_head_error(cx, check, defs);
    Ok(v2_result(head_error, value, set(vec![])))
}

/// `addCheck elemType check`: `elemType` whose check also requires `check`.
pub(crate) fn add_check(cx: &Ctx, ev: &mut Evaluator, elem: &Value, check: Value, span: Span) -> EvalResult<Value> {
    if merge_has_v2(ev, elem, span)? {
        let new_check = {
            let (elem, check) = (elem.clone(), check.clone());
            v2_check(move |ev, x, span| {
                let c = get(ev, &elem, sym!("check"), span)?;
                Ok(test(ev, &c, x.clone(), span)? && test(ev, &check, x.clone(), span)?)
            })
        };
        let merge = {
            let (cx, elem) = (cx.clone(), elem.clone());
            v2_merge(
                cx.shared.v2_functor.clone(),
                Rc::new(move |ev: &mut Evaluator, loc: &Value, defs: &Value, span| {
                    check_v2_coherence(&cx, ev, loc, &elem, span)?;
                    let orig = call_v2(ev, &elem, loc.clone(), defs.clone(), span)?;
                    let head_error = {
                        let (cx, orig, check, defs) = (cx.clone(), orig.clone(), check.clone(), defs.clone());
                        lazy(move |ev, span| {
                            let h = get(ev, &orig, sym!("headError"), span)?;
                            if !matches!(h, Value::Null) {
                                return Ok(h);
                            }
                            check_defs_for_error(&cx, ev, &check, &defs, span)
                        })
                    };
                    update(ev, &orig, vec![(sym!("headError"), head_error)])
                }),
            )
        };
        update(ev, elem, vec![(sym!("check"), new_check), (sym!("merge"), merge)])
    } else {
        let new_check = {
            let elem = elem.clone();
            native("check", 1, move |ev: &mut Evaluator, args: &[Value], span| {
                let c = get(ev, &elem, sym!("check"), span)?;
                Ok(Value::Bool(test(ev, &c, args[0].clone(), span)? && test(ev, &check, args[0].clone(), span)?))
            })
        };
        update(ev, elem, vec![(sym!("check"), new_check)])
    }
}

/// `mergeTypes a b`: `a.typeMerge b.functor`, or a `merge-error` value.
pub(crate) fn merge_types(ev: &mut Evaluator, a: &Value, b: &Value, span: Span) -> EvalResult<Value> {
    for t in [a, b] {
        let ok = match get_opt(ev, t, sym!("_type"))? {
            Some(x) => is_str(ev, &x, "option-type")?,
            None => false,
        };
        if !ok {
            return Err(assertion_failed("isOptionType a && isOptionType b"));
        }
    }
    let tm = get(ev, a, sym!("typeMerge"), span)?;
    let f = get_lazy(ev, b, sym!("functor"), span)?;
    let merged = apply(ev, &tm, f, span)?;
    if matches!(merged, Value::Null) {
        return Ok(set(vec![(sym!("_type"), s("merge-error")), (sym!("error"), s("Cannot merge types"))]));
    }
    Ok(merged)
}

/// `serializableValueWith { typeName; nullable ? true; }`: the recursive
/// type of JSON-like values.
pub(crate) fn serializable_value_with(
    cx: &Ctx,
    ev: &mut Evaluator,
    type_name: Value,
    nullable: Value,
    leaves: [Value; 5],
) -> EvalResult<Value> {
    let cell = Thunk::new(ThunkState::Blank);
    let value_type = Value::Thunk(cell.clone());
    let mut members: Vec<Value> = leaves.to_vec();
    members.push(attrs_with(cx, value_type.clone(), Value::Bool(false), s("name")));
    members.push(list_of(cx, value_type));
    let base = one_of(cx, ev, &Value::list(members))?;
    let t = if ev.expect_bool(&nullable)? { null_or(cx, base) } else { base };
    let description = lazy_text(move |ev, span| Ok(format!("{} value", text(ev, &type_name, span)?)));
    let t = update(ev, &t, vec![(sym!("description"), description)])?;
    cell.set(ThunkState::Done(t.clone()));
    Ok(t)
}

//! The leaf types: `raw`, `anything`, `unspecified`, Booleans, numbers,
//! strings, paths, packages, `enum`, `attrs`, `optionType` ...

use std::rc::Rc;

use dendrite_eval::eval::Coerce;
use dendrite_eval::native::native;
use dendrite_eval::value::Value;
use dendrite_eval::{ErrorKind, EvalError, EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};

use super::compound;
use super::core::*;

/// A type whose `check` is `builtins.<check>` and whose `merge` is
/// `lib.options.<merge>`.
fn builtin_checked(cx: &Ctx, ev: &mut Evaluator, def: TypeDef, check: &str, merge: Value) -> EvalResult<Value> {
    let mut def = def;
    def.check = Some(cx.builtin(ev, check)?);
    def.merge = Some(merge);
    Ok(def.build(cx))
}

/// `raw`
pub(crate) fn raw(cx: &Ctx) -> Value {
    let mut t = TypeDef::simple("raw", "raw value", Some("noun"));
    t.merge = Some(cx.shared.merge_one.clone());
    t.build(cx)
}

/// `unspecified`
pub(crate) fn unspecified(cx: &Ctx) -> Value {
    TypeDef::simple("unspecified", "unspecified value", Some("noun")).build(cx)
}

/// `bool`
pub(crate) fn bool_(cx: &Ctx, ev: &mut Evaluator) -> EvalResult<Value> {
    builtin_checked(cx, ev, TypeDef::simple("bool", "boolean", Some("noun")), "isBool", cx.shared.merge_equal.clone())
}

/// `boolByOr`: the definitions or-ed together.
pub(crate) fn bool_by_or(cx: &Ctx, ev: &mut Evaluator) -> EvalResult<Value> {
    let mut t = TypeDef::simple("boolByOr", "boolean (merged using or)", Some("noun"));
    t.check = Some(cx.builtin(ev, "isBool")?);
    t.merge = Some(native("merge", 2, |ev: &mut Evaluator, args: &[Value], span| {
        let defs = ev.expect_list(&args[1])?;
        for d in defs.iter() {
            let v = get(ev, d, sym!("value"), span)?;
            if ev.expect_bool(&v)? {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    }));
    Ok(t.build(cx))
}

/// `int`
pub(crate) fn int(cx: &Ctx, ev: &mut Evaluator) -> EvalResult<Value> {
    builtin_checked(
        cx,
        ev,
        TypeDef::simple("int", "signed integer", Some("noun")),
        "isInt",
        cx.shared.merge_equal.clone(),
    )
}

/// `float`
pub(crate) fn float(cx: &Ctx, ev: &mut Evaluator) -> EvalResult<Value> {
    builtin_checked(
        cx,
        ev,
        TypeDef::simple("float", "floating point number", Some("noun")),
        "isFloat",
        cx.shared.merge_equal.clone(),
    )
}

/// `str`
pub(crate) fn str_(cx: &Ctx, ev: &mut Evaluator) -> EvalResult<Value> {
    builtin_checked(cx, ev, TypeDef::simple("str", "string", Some("noun")), "isString", cx.shared.merge_equal.clone())
}

/// `x >= lo && x <= hi` with Nix's comparison (`a >= b` is `!(a < b)`).
fn in_range(ev: &mut Evaluator, x: &Value, lo: Option<&Value>, hi: Option<&Value>, span: Span) -> EvalResult<bool> {
    if let Some(lo) = lo
        && ev.less_than(x, lo, span)?
    {
        return Ok(false);
    }
    if let Some(hi) = hi
        && ev.less_than(hi, x, span)?
    {
        return Ok(false);
    }
    Ok(true)
}

/// `int // { check = x: isInt x && <range>; } // extra`: the integer types
/// of `ints` (`addCheck int ...` on a type without `merge.v2`).
fn int_range(
    ev: &mut Evaluator,
    int: &Value,
    lo: Option<Value>,
    hi: Option<Value>,
    strict_lo: bool,
    extra: Vec<(Symbol, Value)>,
) -> EvalResult<Value> {
    let check = native("check", 1, move |ev: &mut Evaluator, args: &[Value], span| {
        let x = ev.force(&args[0])?;
        if !matches!(x, Value::Int(_)) {
            return Ok(Value::Bool(false));
        }
        if strict_lo && let Some(lo) = &lo {
            // `x > lo`
            return Ok(Value::Bool(ev.less_than(lo, &x, span)?));
        }
        Ok(Value::Bool(in_range(ev, &x, lo.as_ref(), hi.as_ref(), span)?))
    });
    let t = update(ev, int, vec![(sym!("check"), check)])?;
    update(ev, &t, extra)
}

/// `lib.assertMsg (lowest <= highest) msg`.
fn assert_ordered(ev: &mut Evaluator, lo: &Value, hi: &Value, msg: &str, span: Span) -> EvalResult<()> {
    if ev.less_than(hi, lo, span)? {
        return Err(throw(msg));
    }
    Ok(())
}

fn to_string(ev: &mut Evaluator, v: &Value, span: Span) -> EvalResult<String> {
    Ok(ev.coerce_to_string(v, Coerce::TO_STRING, span)?.to_str_lossy().into_owned())
}

/// `ints.between lowest highest`.
fn ints_between(ev: &mut Evaluator, int: &Value, lo: Value, hi: Value, span: Span) -> EvalResult<Value> {
    let lo = ev.force(&lo)?;
    let hi = ev.force(&hi)?;
    assert_ordered(ev, &lo, &hi, "ints.between: lowest must be smaller than highest", span)?;
    let desc =
        format!("integer between {} and {} (both inclusive)", to_string(ev, &lo, span)?, to_string(ev, &hi, span)?);
    int_range(ev, int, Some(lo), Some(hi), false, vec![(sym!("name"), s("intBetween")), (sym!("description"), s(desc))])
}

/// The sized integer types (`ints.u8` ...).
fn ints_sized(ev: &mut Evaluator, int: &Value, lo: i64, hi: i64, name: String, doc: String) -> EvalResult<Value> {
    let desc = format!("{doc}; between {lo} and {hi} (both inclusive)");
    int_range(
        ev,
        int,
        Some(Value::Int(lo)),
        Some(Value::Int(hi)),
        false,
        vec![(sym!("name"), s(name)), (sym!("description"), s(desc))],
    )
}

/// `ints`
pub(crate) fn ints(ev: &mut Evaluator, int: &Value) -> EvalResult<Value> {
    let between = {
        let int = int.clone();
        native("between", 2, move |ev: &mut Evaluator, args: &[Value], span| {
            ints_between(ev, &int, args[0].clone(), args[1].clone(), span)
        })
    };
    let nrc = || s("nonRestrictiveClause");
    let unsigned = int_range(
        ev,
        int,
        Some(Value::Int(0)),
        None,
        false,
        vec![
            (sym!("name"), s("unsignedInt")),
            (sym!("description"), s("unsigned integer, meaning >=0")),
            (sym!("descriptionClass"), nrc()),
        ],
    )?;
    let positive = int_range(
        ev,
        int,
        Some(Value::Int(0)),
        None,
        true,
        vec![
            (sym!("name"), s("positiveInt")),
            (sym!("description"), s("positive integer, meaning >0")),
            (sym!("descriptionClass"), nrc()),
        ],
    )?;
    let mut pairs = vec![(sym!("between"), between), (sym!("unsigned"), unsigned), (sym!("positive"), positive)];
    for (bits, key_u, key_s) in
        [(8u32, sym!("u8"), sym!("s8")), (16, sym!("u16"), sym!("s16")), (32, sym!("u32"), sym!("s32"))]
    {
        let range: i64 = 1i64 << bits;
        let u =
            ints_sized(ev, int, 0, range - 1, format!("unsignedInt{bits}"), format!("{bits} bit unsigned integer"))?;
        let sg = ints_sized(
            ev,
            int,
            -(range / 2),
            range / 2 - 1,
            format!("signedInt{bits}"),
            format!("{bits} bit signed integer"),
        )?;
        pairs.push((key_u, u));
        pairs.push((key_s, sg));
    }
    Ok(set(pairs))
}

/// A native check of `x >= lo && x <= hi` (or `x > lo` when `strict_lo`),
/// for `addCheck number ...`.
fn range_check(lo: Option<Value>, hi: Option<Value>, strict_lo: bool) -> Value {
    native("check", 1, move |ev: &mut Evaluator, args: &[Value], span| {
        let x = ev.force(&args[0])?;
        if strict_lo && let Some(lo) = &lo {
            return Ok(Value::Bool(ev.less_than(lo, &x, span)?));
        }
        Ok(Value::Bool(in_range(ev, &x, lo.as_ref(), hi.as_ref(), span)?))
    })
}

/// `numbers`
pub(crate) fn numbers(cx: &Ctx, ev: &mut Evaluator, number: &Value) -> EvalResult<Value> {
    let between = {
        let (cx, number) = (cx.clone(), number.clone());
        native("between", 2, move |ev: &mut Evaluator, args: &[Value], span| {
            let lo = ev.force(&args[0])?;
            let hi = ev.force(&args[1])?;
            assert_ordered(ev, &lo, &hi, "numbers.between: lowest must be smaller than highest", span)?;
            let to_json = cx.builtin(ev, "toJSON")?;
            let l = apply(ev, &to_json, lo.clone(), span)?;
            let h = apply(ev, &to_json, hi.clone(), span)?;
            let desc = format!(
                "integer or floating point number between {} and {} (both inclusive)",
                text(ev, &l, span)?,
                text(ev, &h, span)?
            );
            let t = compound::add_check(&cx, ev, &number, range_check(Some(lo), Some(hi), false), span)?;
            update(ev, &t, vec![(sym!("name"), s("numberBetween")), (sym!("description"), s(desc))])
        })
    };
    let span = ev.builtin_span();
    let nonneg = compound::add_check(cx, ev, number, range_check(Some(Value::Int(0)), None, false), span)?;
    let nonneg = update(
        ev,
        &nonneg,
        vec![
            (sym!("name"), s("numberNonnegative")),
            (sym!("description"), s("nonnegative integer or floating point number, meaning >=0")),
            (sym!("descriptionClass"), s("nonRestrictiveClause")),
        ],
    )?;
    let positive = compound::add_check(cx, ev, number, range_check(Some(Value::Int(0)), None, true), span)?;
    let positive = update(
        ev,
        &positive,
        vec![
            (sym!("name"), s("numberPositive")),
            (sym!("description"), s("positive integer or floating point number, meaning >0")),
            (sym!("descriptionClass"), s("nonRestrictiveClause")),
        ],
    )?;
    Ok(set(vec![(sym!("between"), between), (sym!("nonnegative"), nonneg), (sym!("positive"), positive)]))
}

/// `nonEmptyStr`: a string that is not only blanks.
pub(crate) fn non_empty_str(cx: &Ctx) -> Value {
    let mut t = TypeDef::simple("nonEmptyStr", "non-empty string", Some("noun"));
    t.check = Some(native("check", 1, |ev: &mut Evaluator, args: &[Value], _| {
        Ok(Value::Bool(match ev.force(&args[0])? {
            Value::String(s) => s.as_bytes().iter().any(|b| !matches!(b, b' ' | b'\t' | b'\n')),
            _ => false,
        }))
    }));
    t.merge = Some(cx.shared.merge_equal.clone());
    t.build(cx)
}

/// Whether `bytes` matches `[^\n\r]*\n?` entirely.
fn single_line(bytes: &[u8]) -> bool {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    !body.iter().any(|b| matches!(b, b'\n' | b'\r'))
}

/// `singleLineStr`
pub(crate) fn single_line_str(cx: &Ctx) -> Value {
    let mut t = TypeDef::simple("singleLineStr", "(optionally newline-terminated) single-line string", Some("noun"));
    t.check = Some(native("check", 1, |ev: &mut Evaluator, args: &[Value], _| {
        Ok(Value::Bool(matches!(ev.force(&args[0])?, Value::String(s) if single_line(s.as_bytes()))))
    }));
    let c = cx.clone();
    t.merge = Some(native("merge", 2, move |ev: &mut Evaluator, args: &[Value], span| {
        let merged = c.call_lib(ev, &[sym!("options"), sym!("mergeEqualOption")], args, span)?;
        c.call_lib(ev, &[sym!("strings"), sym!("removeSuffix")], &[s("\n"), merged], span)
    }));
    t.build(cx)
}

/// `strMatching pattern`
pub(crate) fn str_matching(cx: &Ctx, pattern: Value) -> Value {
    let name = {
        let (cx, pattern) = (cx.clone(), pattern.clone());
        lazy_text(move |ev, span| {
            let e =
                cx.call_lib(ev, &[sym!("strings"), sym!("escapeNixString")], std::slice::from_ref(&pattern), span)?;
            Ok(format!("strMatching {}", text(ev, &e, span)?))
        })
    };
    let mut t = TypeDef::new(name);
    t.description = {
        let pattern = pattern.clone();
        lazy_text(move |ev, span| Ok(format!("string matching the pattern {}", text(ev, &pattern, span)?)))
    };
    t.description_class = s("noun");
    t.check = Some({
        let (cx, pattern) = (cx.clone(), pattern.clone());
        native("check", 1, move |ev: &mut Evaluator, args: &[Value], span| {
            let x = ev.force(&args[0])?;
            if !matches!(x, Value::String(_)) {
                return Ok(Value::Bool(false));
            }
            let m = cx.builtin(ev, "match")?;
            let r = apply2(ev, &m, pattern.clone(), x, span)?;
            Ok(Value::Bool(!matches!(r, Value::Null)))
        })
    });
    t.merge = Some(cx.shared.merge_equal.clone());
    let mut functor = default_functor(cx, s("strMatching"));
    functor = {
        let c = cx.clone();
        let ty = native("type", 1, move |ev: &mut Evaluator, args: &[Value], span| {
            let p = get_lazy(ev, &args[0], sym!("pattern"), span)?;
            Ok(str_matching(&c, p))
        });
        let bin_op = native("binOp", 2, |ev: &mut Evaluator, args: &[Value], span| {
            let l = ev.force(&args[0])?;
            let r = ev.force(&args[1])?;
            Ok(if ev.equal(&l, &r, span)? { l } else { Value::Null })
        });
        let payload = set(vec![(sym!("pattern"), pattern)]);
        match functor {
            Value::Attrs(a) => Value::Attrs(Rc::new(a.update(&dendrite_eval::value::Attrs::from_unsorted(vec![
                dendrite_eval::value::Attr::new(sym!("type"), ty),
                dendrite_eval::value::Attr::new(sym!("payload"), payload),
                dendrite_eval::value::Attr::new(sym!("binOp"), bin_op),
            ])))),
            other => other,
        }
    };
    t.functor = Some(functor);
    t.build(cx)
}

/// `separatedString sep`: definitions concatenated with `sep`.
pub(crate) fn separated_string(cx: &Ctx, ev: &mut Evaluator, sep: Value) -> EvalResult<Value> {
    let mut t = TypeDef::new(s("separatedString"));
    t.description = {
        let (cx, sep) = (cx.clone(), sep.clone());
        lazy_text(move |ev, span| {
            let to_json = cx.builtin(ev, "toJSON")?;
            let j = apply(ev, &to_json, sep.clone(), span)?;
            Ok(format!("strings concatenated with {}", text(ev, &j, span)?))
        })
    };
    t.description_class = s("noun");
    t.check = Some(cx.builtin(ev, "isString")?);
    t.merge = Some({
        let (cx, sep) = (cx.clone(), sep.clone());
        native("merge", 2, move |ev: &mut Evaluator, args: &[Value], span| {
            let defs = ev.expect_list(&args[1])?;
            let values: Vec<Value> = defs.iter().map(|d| select_thunk(d.clone(), sym!("value"), span)).collect();
            let concat = cx.builtin(ev, "concatStringsSep")?;
            apply2(ev, &concat, sep.clone(), Value::list(values), span)
        })
    });
    let ty = {
        let cx = cx.clone();
        native("type", 1, move |ev: &mut Evaluator, args: &[Value], span| {
            let ctor = cx.lib_type(ev, sym!("separatedString"), span)?;
            let sep = select_thunk(args[0].clone(), sym!("sep"), span);
            apply(ev, &ctor, sep, span)
        })
    };
    let bin_op = native("binOp", 2, |ev: &mut Evaluator, args: &[Value], span| {
        let l = get(ev, &args[0], sym!("sep"), span)?;
        let r = get(ev, &args[1], sym!("sep"), span)?;
        Ok(if ev.equal(&l, &r, span)? { set(vec![(sym!("sep"), l)]) } else { Value::Null })
    });
    let base = default_functor(cx, s("separatedString"));
    t.functor = Some(update(
        ev,
        &base,
        vec![(sym!("payload"), set(vec![(sym!("sep"), sep)])), (sym!("type"), ty), (sym!("binOp"), bin_op)],
    )?);
    Ok(t.build(cx))
}

/// `attrs`: attribute sets merged with `//`.
pub(crate) fn attrs(cx: &Ctx, ev: &mut Evaluator) -> EvalResult<Value> {
    let mut t = TypeDef::new(s("attrs"));
    t.description = s("attribute set");
    t.check = Some(cx.builtin(ev, "isAttrs")?);
    t.merge = Some(native("merge", 2, |ev: &mut Evaluator, args: &[Value], span| {
        let defs = ev.expect_list(&args[1])?;
        let mut acc = Rc::new(dendrite_eval::value::Attrs::empty());
        for d in defs.iter() {
            let v = get(ev, d, sym!("value"), span)?;
            let a = ev.expect_attrs(&v).map_err(|e| e.with_span(span))?;
            acc = Rc::new(acc.update(&a));
        }
        Ok(Value::Attrs(acc))
    }));
    t.empty_value = Some(set(vec![(sym!("value"), set(vec![]))]));
    Ok(t.build(cx))
}

/// `isStringLike x`.
pub(crate) fn is_string_like(ev: &mut Evaluator, x: &Value) -> EvalResult<bool> {
    Ok(match ev.force(x)? {
        Value::String(_) | Value::Path(_) => true,
        Value::Attrs(a) => a.get(sym!("outPath")).is_some() || a.get(sym!("__toString")).is_some(),
        _ => false,
    })
}

/// `isDerivation x`: `x.type or null == "derivation"`.
fn is_derivation(ev: &mut Evaluator, x: &Value) -> EvalResult<bool> {
    match get_opt(ev, x, sym!("type"))? {
        Some(t) => is_str(ev, &t, "derivation"),
        None => Ok(false),
    }
}

/// `package`
pub(crate) fn package(cx: &Ctx) -> Value {
    let mut t = TypeDef::new(s("package"));
    t.description_class = s("noun");
    t.check = Some({
        let cx = cx.clone();
        native("check", 1, move |ev: &mut Evaluator, args: &[Value], span| {
            if is_derivation(ev, &args[0])? {
                return Ok(Value::Bool(true));
            }
            let r = cx.call_lib(ev, &[sym!("strings"), sym!("isStorePath")], &args[..1], span)?;
            Ok(Value::Bool(ev.expect_bool(&r)?))
        })
    });
    t.merge = Some({
        let cx = cx.clone();
        native("merge", 2, move |ev: &mut Evaluator, args: &[Value], span| {
            let res = cx.call_lib(ev, &[sym!("options"), sym!("mergeOneOption")], args, span)?;
            let plain = match &res {
                Value::Path(_) => true,
                Value::String(s) => !s.has_context(),
                _ => false,
            };
            if plain { cx.call_lib(ev, &[sym!("attrsets"), sym!("toDerivation")], &[res], span) } else { Ok(res) }
        })
    });
    t.build(cx)
}

/// `shellPackage`: `package // { check = x: isDerivation x && x ? shellPath; }`.
pub(crate) fn shell_package(ev: &mut Evaluator, package: &Value) -> EvalResult<Value> {
    let check = native("check", 1, |ev: &mut Evaluator, args: &[Value], _| {
        if !is_derivation(ev, &args[0])? {
            return Ok(Value::Bool(false));
        }
        Ok(Value::Bool(has(ev, &args[0], sym!("shellPath"))?))
    });
    update(ev, package, vec![(sym!("check"), check)])
}

/// The check of `pathWith { inStore; absolute; }`.
fn path_check(
    cx: &Ctx,
    ev: &mut Evaluator,
    in_store: Option<bool>,
    absolute: Option<bool>,
    x: &Value,
    span: Span,
) -> EvalResult<bool> {
    let x = ev.force(x)?;
    let expected_type = match in_store {
        None | Some(true) => is_string_like(ev, &x)?,
        Some(false) => matches!(x, Value::String(_)),
    };
    if !expected_type {
        return Ok(false);
    }
    if let Some(want) = in_store {
        let p = match &x {
            Value::Path(_) => x.clone(),
            _ => {
                let discard = cx.builtin(ev, "unsafeDiscardStringContext")?;
                let plain = apply(ev, &discard, x.clone(), span)?;
                ev.add(&Value::Path(dendrite_eval::value::PathStr::from("/")), &plain, span)?
            }
        };
        let r = cx.call_lib(ev, &[sym!("path"), sym!("hasStorePathPrefix")], &[p], span)?;
        if !matches!(r, Value::Bool(b) if b == want) {
            return Ok(false);
        }
    }
    if let Some(want) = absolute {
        let str = ev.coerce_to_string(&x, Coerce::TO_STRING, span)?;
        let is_absolute = str.as_bytes().first() == Some(&b'/');
        if is_absolute != want {
            return Ok(false);
        }
    }
    Ok(true)
}

fn opt_bool(ev: &mut Evaluator, v: &Value) -> EvalResult<Option<bool>> {
    match ev.force(v)? {
        Value::Null => Ok(None),
        other => Ok(Some(ev.expect_bool(&other)?)),
    }
}

/// `pathWith { inStore ? null; absolute ? null; }`.
pub(crate) fn path_with(cx: &Ctx, ev: &mut Evaluator, in_store: Value, absolute: Value) -> EvalResult<Value> {
    let in_store_v = ev.force(&in_store)?;
    let absolute_v = ev.force(&absolute)?;
    if !matches!(in_store_v, Value::Null)
        && !matches!(absolute_v, Value::Null)
        && ev.expect_bool(&in_store_v)?
        && !ev.expect_bool(&absolute_v)?
    {
        return Err(throw("In pathWith, inStore means the path must be absolute"));
    }
    let in_store_o = opt_bool(ev, &in_store_v)?;
    let absolute_o = opt_bool(ev, &absolute_v)?;
    let desc = format!(
        "{}path{}",
        match absolute_o {
            None => "",
            Some(true) => "absolute ",
            Some(false) => "relative ",
        },
        match in_store_o {
            None => "",
            Some(true) => " in the Nix store",
            Some(false) => " not in the Nix store",
        }
    );
    let mut t = TypeDef::new(s("path"));
    t.description = s(desc);
    t.description_class = s("noun");
    t.merge = Some(cx.shared.merge_equal.clone());
    t.check = Some({
        let cx = cx.clone();
        native("check", 1, move |ev: &mut Evaluator, args: &[Value], span| {
            Ok(Value::Bool(path_check(&cx, ev, in_store_o, absolute_o, &args[0], span)?))
        })
    });
    let ty = path_with_fn(cx);
    let bin_op = native("binOp", 2, |ev: &mut Evaluator, args: &[Value], span| {
        let l = ev.force(&args[0])?;
        let r = ev.force(&args[1])?;
        Ok(if ev.equal(&l, &r, span)? { l } else { Value::Null })
    });
    let base = default_functor(cx, s("path"));
    t.functor = Some(update(
        ev,
        &base,
        vec![
            (sym!("type"), ty),
            (sym!("payload"), set(vec![(sym!("absolute"), absolute_v), (sym!("inStore"), in_store_v)])),
            (sym!("binOp"), bin_op),
        ],
    )?);
    Ok(t.build(cx))
}

/// The `pathWith` function.
pub(crate) fn path_with_fn(cx: &Ctx) -> Value {
    let cx = cx.clone();
    native("pathWith", 1, move |ev: &mut Evaluator, args: &[Value], _| {
        let a = formals(ev, &args[0], "pathWith", &[], &["inStore", "absolute"])?;
        let in_store = a.get(sym!("inStore")).cloned().unwrap_or(Value::Null);
        let absolute = a.get(sym!("absolute")).cloned().unwrap_or(Value::Null);
        path_with(&cx, ev, in_store, absolute)
    })
}

/// How `enum` shows one of its values.
fn show_enum_value(ev: &mut Evaluator, v: &Value) -> EvalResult<String> {
    Ok(match ev.force(v)? {
        Value::String(s) => format!("\"{}\"", s.to_str_lossy()),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        other => format!("<{}>", other.type_of()),
    })
}

/// `lib.lists.unique`: the first occurrence of each element.
fn unique_values(ev: &mut Evaluator, items: &[Value], span: Span) -> EvalResult<Vec<Value>> {
    let mut out: Vec<Value> = Vec::new();
    for it in items {
        let x = ev.force(it)?;
        let mut seen = false;
        for o in &out {
            if ev.equal(&x, o, span)? {
                seen = true;
                break;
            }
        }
        if !seen {
            out.push(x);
        }
    }
    Ok(out)
}

/// `enum values`
pub(crate) fn enum_(cx: &Ctx, values: Value) -> Value {
    let mut t = TypeDef::new(s("enum"));
    t.description = {
        let values = values.clone();
        lazy_text(move |ev, _| {
            let l = ev.expect_list(&values)?;
            Ok(match l.len() {
                0 => "impossible (empty enum)".to_string(),
                1 => format!("value {} (singular enum)", show_enum_value(ev, &l[0])?),
                _ => {
                    let mut parts = Vec::with_capacity(l.len());
                    for v in l.iter() {
                        parts.push(show_enum_value(ev, v)?);
                    }
                    format!("one of {}", parts.join(", "))
                }
            })
        })
    };
    t.description_class = {
        let values = values.clone();
        lazy(move |ev, _| {
            let l = ev.expect_list(&values)?;
            Ok(s(if l.len() < 2 { "noun" } else { "conjunction" }))
        })
    };
    t.check = Some({
        let values = values.clone();
        native("check", 1, move |ev: &mut Evaluator, args: &[Value], span| {
            let x = ev.force(&args[0])?;
            let l = ev.expect_list(&values)?;
            for v in l.iter() {
                let v = ev.force(v)?;
                if ev.equal(&x, &v, span)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        })
    });
    t.merge = Some(cx.shared.merge_equal.clone());
    let ty = {
        let cx = cx.clone();
        native("type", 1, move |ev: &mut Evaluator, args: &[Value], span| {
            let ctor = cx.lib_type(ev, sym!("enum"), span)?;
            apply(ev, &ctor, select_thunk(args[0].clone(), sym!("values"), span), span)
        })
    };
    let bin_op = native("binOp", 2, |ev: &mut Evaluator, args: &[Value], span| {
        let a = get(ev, &args[0], sym!("values"), span)?;
        let b = get(ev, &args[1], sym!("values"), span)?;
        let a = ev.expect_list(&a)?;
        let b = ev.expect_list(&b)?;
        let all: Vec<Value> = a.iter().chain(b.iter()).cloned().collect();
        let u = unique_values(ev, &all, span)?;
        Ok(set(vec![(sym!("values"), Value::list(u))]))
    });
    t.functor = Some(set(vec![
        (sym!("binOp"), bin_op),
        (sym!("name"), s("enum")),
        (sym!("payload"), set(vec![(sym!("values"), values)])),
        (sym!("type"), ty),
    ]));
    t.build(cx)
}

/// `anything`: sets merged recursively, functions merged by their
/// results, everything else must be equal.
pub(crate) fn anything(cx: &Ctx) -> Value {
    let mut t = TypeDef::simple("anything", "anything", Some("noun"));
    let c = cx.clone();
    t.merge = Some(native("merge", 2, move |ev: &mut Evaluator, args: &[Value], span| {
        anything_merge(&c, ev, &args[0], &args[1], span)
    }));
    t.build(cx)
}

/// The kind `anything` merges by.
fn anything_kind(ev: &mut Evaluator, v: &Value) -> EvalResult<&'static str> {
    let v = ev.force(v)?;
    Ok(match &v {
        Value::Attrs(a) if a.get(sym!("outPath")).is_some() || a.get(sym!("__toString")).is_some() => {
            "stringCoercibleSet"
        }
        other => other.type_of(),
    })
}

fn anything_merge(cx: &Ctx, ev: &mut Evaluator, loc: &Value, defs: &Value, span: Span) -> EvalResult<Value> {
    let list = ev.expect_list(defs)?;
    let Some(first) = list.first() else {
        return Err(EvalError::new(ErrorKind::Eval, "'builtins.head' called on an empty list").with_span(span));
    };
    let fv = get_lazy(ev, first, sym!("value"), span)?;
    let kind = anything_kind(ev, &fv)?;
    for d in list.iter() {
        let v = get_lazy(ev, d, sym!("value"), span)?;
        if anything_kind(ev, &v)? != kind {
            let option = cx.show_option(ev, loc, span)?;
            let files = cx.show_files_of(ev, defs, span)?;
            return Err(throw(format!("The option `{option}' has conflicting option types in {files}")));
        }
    }
    match kind {
        "set" => {
            let any = cx.constant("anything", |cx| Ok(anything(cx)))?;
            let record = compound::attrs_merge(cx, ev, &any, false, loc, defs, span)?;
            get(ev, &record, sym!("value"), span)
        }
        "stringCoercibleSet" => {
            cx.call_lib(ev, &[sym!("options"), sym!("mergeOneOption")], &[loc.clone(), defs.clone()], span)
        }
        "lambda" => {
            let (cx, loc, defs) = (cx.clone(), loc.clone(), defs.clone());
            Ok(native("anything-function", 1, move |ev: &mut Evaluator, args: &[Value], span| {
                let loc2 = loc_push(ev, &loc, s("<function body>"))?;
                let list = ev.expect_list(&defs)?;
                let applied: Vec<Value> = list
                    .iter()
                    .map(|d| {
                        let f = select_thunk(d.clone(), sym!("value"), span);
                        def(select_thunk(d.clone(), sym!("file"), span), Value::lazy_apply(f, args[0].clone(), span))
                    })
                    .collect();
                anything_merge(&cx, ev, &loc2, &Value::list(applied), span)
            }))
        }
        _ => cx.call_lib(ev, &[sym!("options"), sym!("mergeEqualOption")], &[loc.clone(), defs.clone()], span),
    }
}

/// `optionDeclaration`
pub(crate) fn option_declaration(cx: &Ctx) -> Value {
    let mut t = TypeDef::simple("optionDeclaration", "option declaration", Some("noun"));
    t.check = Some(native("check", 1, |ev: &mut Evaluator, args: &[Value], _| {
        let is_option = match get_opt(ev, &args[0], sym!("_type"))? {
            Some(t) => is_str(ev, &t, "option")?,
            None => false,
        };
        Ok(Value::Bool(is_option && !has(ev, &args[0], sym!("value"))?))
    }));
    t.build(cx)
}

/// `isType "option-type"` as a check.
fn is_option_type_check() -> Value {
    native("check", 1, |ev: &mut Evaluator, args: &[Value], _| {
        Ok(Value::Bool(match get_opt(ev, &args[0], sym!("_type"))? {
            Some(t) => is_str(ev, &t, "option-type")?,
            None => false,
        }))
    })
}

/// `optionType`: the type of types; several definitions are merged like
/// option declarations.
pub(crate) fn option_type(cx: &Ctx) -> Value {
    let mut t = TypeDef::simple("optionType", "optionType", Some("noun"));
    t.check = Some(is_option_type_check());
    let c = cx.clone();
    t.merge = Some(native("merge", 2, move |ev: &mut Evaluator, args: &[Value], span| {
        let (loc, defs) = (&args[0], &args[1]);
        let list = ev.expect_list(defs)?;
        if list.len() == 1 {
            return get(ev, &list[0], sym!("value"), span);
        }
        let mut modules = Vec::with_capacity(list.len());
        for d in list.iter() {
            let file = get_lazy(ev, d, sym!("file"), span)?;
            let value = get_lazy(ev, d, sym!("value"), span)?;
            let option = {
                let c = c.clone();
                lazy(move |ev, span| {
                    let mk = c.lib(ev, &[sym!("mkOption")], span)?;
                    apply(ev, &mk, set(vec![(sym!("type"), value.clone())]), span)
                })
            };
            modules.push(set(vec![(sym!("_file"), file), (sym!("options"), option)]));
        }
        let decl =
            c.call_lib(ev, &[sym!("modules"), sym!("mergeOptionDecls")], &[loc.clone(), Value::list(modules)], span)?;
        let fixed = c.call_lib(ev, &[sym!("modules"), sym!("fixupOptionType")], &[loc.clone(), decl], span)?;
        get(ev, &fixed, sym!("type"), span)
    }));
    t.build(cx)
}

/// `luaInline`
pub(crate) fn lua_inline(cx: &Ctx) -> Value {
    let mut t = TypeDef::simple("luaInline", "inline lua", Some("noun"));
    t.check = Some(native("check", 1, |ev: &mut Evaluator, args: &[Value], _| {
        Ok(Value::Bool(match get_opt(ev, &args[0], sym!("_type"))? {
            Some(t) => is_str(ev, &t, "lua-inline")?,
            None => false,
        }))
    }));
    t.merge = Some(cx.shared.merge_equal.clone());
    t.build(cx)
}

/// `fileset`
pub(crate) fn fileset(cx: &Ctx) -> Value {
    let mut t = TypeDef::simple("fileset", "fileset", Some("noun"));
    t.check = Some(cx.lib_lazy(&["fileset", "isFileset"]));
    let c = cx.clone();
    t.merge = Some(native("merge", 2, move |ev: &mut Evaluator, args: &[Value], span| {
        let defs = ev.expect_list(&args[1])?;
        let values: Vec<Value> = defs.iter().map(|d| select_thunk(d.clone(), sym!("value"), span)).collect();
        c.call_lib(ev, &[sym!("fileset"), sym!("unions")], &[Value::list(values)], span)
    }));
    t.empty_value = Some(set(vec![(sym!("value"), cx.lib_lazy(&["fileset", "empty"]))]));
    t.build(cx)
}

/// `noCheckForDocsModule`
pub(crate) fn no_check_for_docs_module(cx: &Ctx) -> Value {
    let c = cx.clone();
    let force_false = lazy(move |ev, span| {
        let mk = c.lib(ev, &[sym!("mkForce")], span)?;
        apply(ev, &mk, Value::Bool(false), span)
    });
    set(vec![
        (sym!("_file"), s("<built-in module that disables checks for the purpose of documentation generation>")),
        (sym!("config"), set(vec![(sym!("_module"), set(vec![(sym!("check"), force_false)]))])),
    ])
}

/// `passwdEntry entryType`
pub(crate) fn passwd_entry(cx: &Ctx, ev: &mut Evaluator, entry: Value, span: Span) -> EvalResult<Value> {
    let c = cx.clone();
    let check = native("check", 1, move |ev: &mut Evaluator, args: &[Value], span| {
        for infix in [":", "\n"] {
            let r = c.call_lib(ev, &[sym!("strings"), sym!("hasInfix")], &[s(infix), args[0].clone()], span)?;
            if ev.expect_bool(&r)? {
                return Ok(Value::Bool(false));
            }
        }
        Ok(Value::Bool(true))
    });
    let t = compound::add_check(cx, ev, &entry, check, span)?;
    let name = {
        let entry = entry.clone();
        lazy_text(move |ev, span| {
            let n = get(ev, &entry, sym!("name"), span)?;
            Ok(format!("passwdEntry {}", text(ev, &n, span)?))
        })
    };
    let description = lazy_text(move |ev, span| {
        Ok(format!("{}, not containing newlines or colons", phrase(ev, &entry, &["noun"], span)?))
    });
    update(
        ev,
        &t,
        vec![
            (sym!("name"), name),
            (sym!("description"), description),
            (sym!("descriptionClass"), s("nonRestrictiveClause")),
        ],
    )
}

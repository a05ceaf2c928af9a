//! String builtins.

use dendrite_syntax::Span;

use super::{arg_ctx, mk_attrs};
use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::{Coerce, Evaluator, concat_strings};
use crate::value::*;

pub(crate) const OPS: &[PrimOp] = &[
    PrimOp { name: "stringLength", arity: 1, func: string_length },
    PrimOp { name: "substring", arity: 3, func: substring },
    PrimOp { name: "concatStringsSep", arity: 2, func: concat_strings_sep },
    PrimOp { name: "replaceStrings", arity: 3, func: replace_strings },
    PrimOp { name: "toString", arity: 1, func: to_string },
    PrimOp { name: "splitVersion", arity: 1, func: split_version },
    PrimOp { name: "compareVersions", arity: 2, func: compare_versions_op },
    PrimOp { name: "parseDrvName", arity: 1, func: parse_drv_name },
    PrimOp { name: "baseNameOf", arity: 1, func: base_name_of },
    PrimOp { name: "dirOf", arity: 1, func: dir_of },
];

fn string_length(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let s = ev
        .coerce_to_string(&args[0], Coerce::INTERPOLATE, span)
        .map_err(|e| e.context("while evaluating the argument passed to builtins.stringLength", None))?;
    Ok(Value::Int(s.as_bytes().len() as i64))
}

fn substring(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let start = ev.expect_int(&args[0]).map_err(|e| {
        e.context("while evaluating the first argument (the start offset) passed to builtins.substring", None)
    })?;
    if start < 0 {
        return Err(EvalError::new(ErrorKind::Eval, "negative start position in 'substring'"));
    }
    let len = ev.expect_int(&args[1]).map_err(|e| {
        e.context("while evaluating the second argument (the substring length) passed to builtins.substring", None)
    })?;
    let s = ev.coerce_to_string(&args[2], Coerce::INTERPOLATE, span).map_err(|e| {
        e.context("while evaluating the third argument (the string) passed to builtins.substring", None)
    })?;
    let bytes = s.as_bytes();
    let start = (start as usize).min(bytes.len());
    let end = if len < 0 { bytes.len() } else { start.saturating_add(len as usize).min(bytes.len()) };
    if start == 0 && end == bytes.len() {
        return Ok(Value::String(s));
    }
    let ctx = s.context().cloned().unwrap_or_default();
    Ok(Value::String(NixString::with_context(bytes[start..end].to_vec(), ctx)))
}

fn concat_strings_sep(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let sep = ev.expect_string(&args[0]).map_err(|e| {
        e.context(
            "while evaluating the first argument (the separator string) passed to builtins.concatStringsSep",
            None,
        )
    })?;
    let list = ev.expect_list(&args[1]).map_err(|e| {
        e.context(
            "while evaluating the second argument (the list of strings to concat) passed to builtins.concatStringsSep",
            None,
        )
    })?;
    let mut parts: Vec<NixString> = Vec::with_capacity(list.len() * 2);
    for (i, item) in list.iter().enumerate() {
        if i > 0 {
            parts.push(sep.clone());
        }
        let s = ev.coerce_to_string(item, Coerce::INTERPOLATE, span).map_err(|e| {
            e.context(
                "while evaluating one element of the list of strings to concat passed to builtins.concatStringsSep",
                None,
            )
        })?;
        parts.push(s);
    }
    Ok(Value::String(concat_strings(&parts)))
}

fn replace_strings(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let from = ev.expect_list(&args[0]).map_err(|e| e.context(arg_ctx("first", "replaceStrings"), None))?;
    let to = ev.expect_list(&args[1]).map_err(|e| e.context(arg_ctx("second", "replaceStrings"), None))?;
    if from.len() != to.len() {
        return Err(EvalError::new(
            ErrorKind::Eval,
            "'from' and 'to' arguments passed to builtins.replaceStrings have different lengths",
        ));
    }
    let s = ev
        .coerce_to_string(&args[2], Coerce::INTERPOLATE, span)
        .map_err(|e| e.context("while evaluating the third argument passed to builtins.replaceStrings", None))?;
    let mut froms: Vec<NixString> = Vec::with_capacity(from.len());
    for f in from.iter() {
        froms.push(ev.expect_string(f).map_err(|e| {
            e.context("while evaluating one of the strings to replace passed to builtins.replaceStrings", None)
        })?);
    }
    let mut tos: Vec<Option<NixString>> = vec![None; to.len()];
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut ctx: Context = s.context().cloned().unwrap_or_default();
    let mut p = 0;
    while p <= bytes.len() {
        let mut matched = false;
        for (i, f) in froms.iter().enumerate() {
            let fb = f.as_bytes();
            if bytes[p..].starts_with(fb) {
                if tos[i].is_none() {
                    let t = ev.coerce_to_string(&to[i], Coerce::INTERPOLATE, span).map_err(|e| {
                        e.context(
                            "while evaluating one of the replacement strings passed to builtins.replaceStrings",
                            None,
                        )
                    })?;
                    tos[i] = Some(t);
                }
                let t = tos[i].as_ref().expect("just set");
                out.extend_from_slice(t.as_bytes());
                if let Some(c) = t.context() {
                    ctx.extend(c.iter().cloned());
                }
                if fb.is_empty() {
                    if p < bytes.len() {
                        out.push(bytes[p]);
                    }
                    p += 1;
                } else {
                    p += fb.len();
                }
                matched = true;
                break;
            }
        }
        if !matched {
            if p < bytes.len() {
                out.push(bytes[p]);
            }
            p += 1;
        }
    }
    Ok(Value::String(NixString::with_context(out, ctx)))
}

fn to_string(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let s = ev
        .coerce_to_string(&args[0], Coerce::TO_STRING, span)
        .map_err(|e| e.context("while evaluating the first argument passed to builtins.toString", None))?;
    Ok(Value::String(s))
}

/// The next version component (Nix's `nextComponent`).
fn next_component<'a>(s: &'a [u8], p: &mut usize) -> &'a [u8] {
    while *p < s.len() && (s[*p] == b'.' || s[*p] == b'-') {
        *p += 1;
    }
    if *p >= s.len() {
        return b"";
    }
    let start = *p;
    if s[*p].is_ascii_digit() {
        while *p < s.len() && s[*p].is_ascii_digit() {
            *p += 1;
        }
    } else {
        while *p < s.len() && !s[*p].is_ascii_digit() && s[*p] != b'.' && s[*p] != b'-' {
            *p += 1;
        }
    }
    &s[start..*p]
}

fn as_int(c: &[u8]) -> Option<i32> {
    if c.is_empty() || !c.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(c).ok()?.parse::<i32>().ok()
}

fn component_lt(c1: &[u8], c2: &[u8]) -> bool {
    let (n1, n2) = (as_int(c1), as_int(c2));
    match (n1, n2) {
        (Some(a), Some(b)) => a < b,
        _ if c1.is_empty() && n2.is_some() => true,
        _ if c1 == b"pre" && c2 != b"pre" => true,
        _ if c2 == b"pre" => false,
        (_, Some(_)) => true,
        (Some(_), _) => false,
        _ => c1 < c2,
    }
}

/// Nix's version comparison: -1, 0 or 1.
pub fn compare_versions(v1: &[u8], v2: &[u8]) -> i64 {
    let (mut p1, mut p2) = (0, 0);
    while p1 < v1.len() || p2 < v2.len() {
        let c1 = next_component(v1, &mut p1);
        let c2 = next_component(v2, &mut p2);
        if component_lt(c1, c2) {
            return -1;
        }
        if component_lt(c2, c1) {
            return 1;
        }
    }
    0
}

fn split_version(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let s = ev
        .coerce_to_string(&args[0], Coerce::INTERPOLATE, span)
        .map_err(|e| e.context("while evaluating the first argument passed to builtins.splitVersion", None))?;
    let b = s.as_bytes();
    let mut p = 0;
    let mut out = Vec::new();
    while p < b.len() {
        let c = next_component(b, &mut p);
        if c.is_empty() {
            break;
        }
        out.push(Value::String(NixString::from_bytes(c)));
    }
    Ok(Value::list(out))
}

fn compare_versions_op(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let a = ev.expect_string(&args[0]).map_err(|e| e.context(arg_ctx("first", "compareVersions"), None))?;
    let b = ev.expect_string(&args[1]).map_err(|e| e.context(arg_ctx("second", "compareVersions"), None))?;
    Ok(Value::Int(compare_versions(a.as_bytes(), b.as_bytes())))
}

fn parse_drv_name(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let s = ev
        .coerce_to_string(&args[0], Coerce::INTERPOLATE, span)
        .map_err(|e| e.context("while evaluating the first argument passed to builtins.parseDrvName", None))?;
    let b = s.as_bytes();
    let mut name = b;
    let mut version: &[u8] = b"";
    for i in 0..b.len() {
        if b[i] == b'-' && i + 1 < b.len() && !b[i + 1].is_ascii_alphabetic() {
            name = &b[..i];
            version = &b[i + 1..];
            break;
        }
    }
    Ok(mk_attrs(vec![
        ("name", Value::String(NixString::from_bytes(name))),
        ("version", Value::String(NixString::from_bytes(version))),
    ]))
}

fn base_name_of(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let v = ev.force(&args[0])?;
    let s = ev
        .coerce_to_string(&v, Coerce::PLAIN, span)
        .map_err(|e| e.context("while evaluating the first argument passed to builtins.baseNameOf", None))?;
    let b = s.as_bytes();
    let trimmed = if b.ends_with(b"/") { &b[..b.len() - 1] } else { b };
    let base = match trimmed.iter().rposition(|&c| c == b'/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    };
    let ctx = s.context().cloned().unwrap_or_default();
    Ok(Value::String(NixString::with_context(base.to_vec(), ctx)))
}

fn dir_of(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let v = ev.force(&args[0])?;
    if let Value::Path(p) = &v {
        let parent = match p.rfind('/') {
            Some(0) | None => "/".to_string(),
            Some(i) => p[..i].to_string(),
        };
        return Ok(Value::Path(PathStr::from(parent.as_str())));
    }
    let s = ev
        .coerce_to_string(&v, Coerce::PLAIN, span)
        .map_err(|e| e.context("while evaluating the first argument passed to builtins.dirOf", None))?;
    let b = s.as_bytes();
    let dir: &[u8] = match b.iter().rposition(|&c| c == b'/') {
        Some(0) => b"/",
        Some(i) => &b[..i],
        None => b".",
    };
    let ctx = s.context().cloned().unwrap_or_default();
    Ok(Value::String(NixString::with_context(dir.to_vec(), ctx)))
}

#[cfg(test)]
mod tests {
    use super::compare_versions;

    #[test]
    fn versions() {
        assert_eq!(compare_versions(b"1.0", b"2.3"), -1);
        assert_eq!(compare_versions(b"2.1", b"2.3"), -1);
        assert_eq!(compare_versions(b"2.3", b"2.3"), 0);
        assert_eq!(compare_versions(b"2.5", b"2.3"), 1);
        assert_eq!(compare_versions(b"3.1", b"2.3"), 1);
        assert_eq!(compare_versions(b"2.3.1", b"2.3"), 1);
        assert_eq!(compare_versions(b"2.3.1", b"2.3a"), 1);
        assert_eq!(compare_versions(b"2.3pre1", b"2.3"), -1);
        assert_eq!(compare_versions(b"2.3", b"2.3pre1"), 1);
    }
}

//! String context builtins: `getContext`, `hasContext`, `appendContext`,
//! `unsafeDiscardStringContext`, `unsafeDiscardOutputDependency` and
//! `addDrvOutputDependencies`, plus helpers to decode context elements.

use std::collections::BTreeMap;
use std::rc::Rc;

use dendrite_syntax::{Span, Symbol};

use crate::builtins::{mk_attrs, mk_list};
use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::{Coerce, Evaluator, SYMS};
use crate::value::*;

pub(crate) const OPS: &[PrimOp] = &[
    PrimOp { name: "getContext", arity: 1, func: get_context },
    PrimOp { name: "hasContext", arity: 1, func: has_context },
    PrimOp { name: "appendContext", arity: 2, func: append_context },
    PrimOp { name: "unsafeDiscardStringContext", arity: 1, func: unsafe_discard_string_context },
    PrimOp { name: "unsafeDiscardOutputDependency", arity: 1, func: unsafe_discard_output_dependency },
    PrimOp { name: "addDrvOutputDependencies", arity: 1, func: add_drv_output_dependencies },
];

/// A decoded string context element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtxElem<'a> {
    /// A plain store path (source, `toFile` result, or a `.drv` itself).
    Opaque(&'a str),
    /// `=<drv>`: the derivation with its whole closure and all outputs.
    DrvDeep(&'a str),
    /// `!<output>!<drv>`: one output of a derivation.
    Built {
        /// The output name.
        output: &'a str,
        /// The derivation path.
        drv: &'a str,
    },
}

impl<'a> CtxElem<'a> {
    /// Decodes Nix's encoded form.
    pub fn parse(s: &'a str) -> CtxElem<'a> {
        if let Some(drv) = s.strip_prefix('=') {
            CtxElem::DrvDeep(drv)
        } else if let Some(rest) = s.strip_prefix('!')
            && let Some((output, drv)) = rest.split_once('!')
        {
            CtxElem::Built { output, drv }
        } else {
            CtxElem::Opaque(s)
        }
    }

    /// Encodes in Nix's form.
    pub fn encode(&self) -> Rc<str> {
        match self {
            CtxElem::Opaque(p) => Rc::from(*p),
            CtxElem::DrvDeep(d) => Rc::from(format!("={d}")),
            CtxElem::Built { output, drv } => Rc::from(format!("!{output}!{drv}")),
        }
    }
}

/// A context holding one element.
pub fn single(elem: CtxElem<'_>) -> Context {
    let mut c = Context::new();
    c.insert(elem.encode());
    c
}

/// Nix's `forceStringNoCtx`: a string that must not carry context.
pub fn force_string_no_ctx(ev: &mut Evaluator, v: &Value, ctx: &str) -> EvalResult<NixString> {
    let s = ev.expect_string(v).map_err(|e| e.context(ctx, None))?;
    check_no_ctx(&s).map_err(|e| e.context(ctx, None))?;
    Ok(s)
}

/// Fails if a string has context, with Nix's message.
pub fn check_no_ctx(s: &NixString) -> EvalResult<()> {
    if let Some(first) = s.context().and_then(|c| c.iter().next()) {
        return Err(EvalError::new(
            ErrorKind::Eval,
            format!("the string '{}' is not allowed to refer to a store path (such as '{first}')", s.to_str_lossy()),
        ));
    }
    Ok(())
}

/// Drops the position `span` (a builtin's call site) from an error raised
/// while the builtin ran: Nix runs builtins without a position, so errors
/// they raise directly have none.
pub fn without_span(mut e: EvalError, span: Span) -> EvalError {
    if e.0.span == Some(span) {
        e.0.span = None;
    }
    e
}

/// Whether `s` is a store path directly under `store_dir`
/// (`<store>/<32 base-32 chars>-<valid name>`).
pub fn is_store_path(store_dir: &str, s: &str) -> bool {
    let Some(rest) = s.strip_prefix(store_dir).and_then(|r| r.strip_prefix('/')) else {
        return false;
    };
    let Some((hash, name)) = rest.split_at_checked(32) else {
        return false;
    };
    hash.bytes().all(|c| c.is_ascii_digit() || (c.is_ascii_lowercase() && !b"eotu".contains(&c)))
        && name.strip_prefix('-').is_some_and(|n| crate::derivation::check_name(n).is_ok())
}

fn get_context(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let s = ev
        .expect_string(&args[0])
        .map_err(|e| e.context("while evaluating the argument passed to builtins.getContext", None))?;
    #[derive(Default)]
    struct Info {
        path: bool,
        all_outputs: bool,
        outputs: Vec<String>,
    }
    let mut infos: BTreeMap<String, Info> = BTreeMap::new();
    for c in s.context().into_iter().flatten() {
        match CtxElem::parse(c) {
            CtxElem::Opaque(p) => infos.entry(p.to_string()).or_default().path = true,
            CtxElem::DrvDeep(d) => infos.entry(d.to_string()).or_default().all_outputs = true,
            CtxElem::Built { output, drv } => {
                infos.entry(drv.to_string()).or_default().outputs.push(output.to_string())
            }
        }
    }
    let entries = infos
        .into_iter()
        .map(|(path, mut info)| {
            let mut fields = Vec::new();
            if info.path {
                fields.push(("path", Value::Bool(true)));
            }
            if info.all_outputs {
                fields.push(("allOutputs", Value::Bool(true)));
            }
            if !info.outputs.is_empty() {
                info.outputs.sort();
                fields.push(("outputs", mk_list(info.outputs.into_iter().map(Value::string))));
            }
            Attr::new(Symbol::new(&path), mk_attrs(fields))
        })
        .collect();
    Ok(Value::attrs(entries))
}

fn has_context(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let s = ev
        .expect_string(&args[0])
        .map_err(|e| e.context("while evaluating the argument passed to builtins.hasContext", None))?;
    Ok(Value::Bool(s.has_context()))
}

fn append_context(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let s = ev
        .expect_string(&args[0])
        .map_err(|e| e.context("while evaluating the first argument passed to builtins.appendContext", None))?;
    let attrs = ev
        .expect_attrs(&args[1])
        .map_err(|e| e.context("while evaluating the second argument passed to builtins.appendContext", None))?;
    let store_dir = ev.settings.store_dir.clone();
    let mut ctx = s.context().cloned().unwrap_or_default();
    let with_pos = |e: EvalError, pos: Option<Span>| match pos {
        Some(p) => e.with_span(p),
        None => e,
    };
    for attr in attrs.iter() {
        let name = attr.name.as_str();
        if !is_store_path(&store_dir, &name) {
            return Err(with_pos(
                EvalError::new(ErrorKind::Eval, format!("context key '{name}' is not a store path")),
                attr.pos,
            ));
        }
        let is_drv = name.ends_with(".drv");
        let info = ev
            .expect_attrs(&attr.value)
            .map_err(|e| with_pos(e, attr.pos).context("while evaluating the value of a string context", None))?;
        if let Some(a) = info.get_attr(SYMS.path) {
            let (v, p) = (a.value.clone(), a.pos);
            let b = ev.expect_bool(&v).map_err(|e| {
                with_pos(e, p).context("while evaluating the `path` attribute of a string context", None)
            })?;
            if b {
                ctx.insert(CtxElem::Opaque(&name).encode());
            }
        }
        if let Some(a) = info.get_attr(Symbol::new("allOutputs")) {
            let (v, p) = (a.value.clone(), a.pos);
            let b = ev.expect_bool(&v).map_err(|e| {
                with_pos(e, p).context("while evaluating the `allOutputs` attribute of a string context", None)
            })?;
            if b {
                if !is_drv {
                    return Err(with_pos(
                        EvalError::new(
                            ErrorKind::Eval,
                            format!(
                                "tried to add all-outputs context of {name}, which is not a derivation, to a string"
                            ),
                        ),
                        attr.pos,
                    ));
                }
                ctx.insert(CtxElem::DrvDeep(&name).encode());
            }
        }
        if let Some(a) = info.get_attr(SYMS.outputs) {
            let (v, p) = (a.value.clone(), a.pos);
            let list = ev.expect_list(&v).map_err(|e| {
                with_pos(e, p).context("while evaluating the `outputs` attribute of a string context", None)
            })?;
            if !list.is_empty() && !is_drv {
                return Err(with_pos(
                    EvalError::new(
                        ErrorKind::Eval,
                        format!(
                            "tried to add derivation output context of {name}, which is not a derivation, to a string"
                        ),
                    ),
                    attr.pos,
                ));
            }
            for item in list.iter() {
                let out = force_string_no_ctx(ev, item, "while evaluating an output name within a string context")?;
                let out = out.to_str_lossy();
                ctx.insert(CtxElem::Built { output: &out, drv: &name }.encode());
            }
        }
    }
    Ok(Value::String(NixString::with_context(s.as_bytes().to_vec(), ctx)))
}

fn coerce_arg(ev: &mut Evaluator, v: &Value, span: Span, name: &str) -> EvalResult<NixString> {
    ev.coerce_to_string(v, Coerce::INTERPOLATE, span).map_err(|e| {
        without_span(e, span).context(format!("while evaluating the argument passed to builtins.{name}"), None)
    })
}

fn unsafe_discard_string_context(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let s = coerce_arg(ev, &args[0], span, "unsafeDiscardStringContext")?;
    if !s.has_context() {
        return Ok(Value::String(s));
    }
    Ok(Value::String(NixString::from_bytes(s.as_bytes())))
}

fn unsafe_discard_output_dependency(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let s = coerce_arg(ev, &args[0], span, "unsafeDiscardOutputDependency")?;
    let ctx: Context = s
        .context()
        .into_iter()
        .flatten()
        .map(|c| match CtxElem::parse(c) {
            CtxElem::DrvDeep(d) => CtxElem::Opaque(d).encode(),
            _ => c.clone(),
        })
        .collect();
    Ok(Value::String(NixString::with_context(s.as_bytes().to_vec(), ctx)))
}

fn add_drv_output_dependencies(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let s = coerce_arg(ev, &args[0], span, "addDrvOutputDependencies")?;
    let n = s.context().map_or(0, |c| c.len());
    if n != 1 {
        return Err(EvalError::new(
            ErrorKind::Eval,
            format!("context of string '{}' must have exactly one element, but has {n}", s.to_str_lossy()),
        ));
    }
    let elem = s.context().and_then(|c| c.iter().next()).expect("one element").clone();
    let new = match CtxElem::parse(&elem) {
        CtxElem::Opaque(p) => {
            if !p.ends_with(".drv") {
                return Err(EvalError::new(ErrorKind::Eval, format!("path '{p}' is not a derivation")));
            }
            CtxElem::DrvDeep(p).encode()
        }
        CtxElem::Built { output, .. } => {
            return Err(EvalError::new(
                ErrorKind::Eval,
                format!(
                    "`addDrvOutputDependencies` can only act on derivations, not on a derivation output such as '{output}'"
                ),
            ));
        }
        CtxElem::DrvDeep(_) => elem,
    };
    let mut ctx = Context::new();
    ctx.insert(new);
    Ok(Value::String(NixString::with_context(s.as_bytes().to_vec(), ctx)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements() {
        let drv = "/nix/store/pg9yqs4yd85yhdm3f4i5dyaqp5jahrsz-fail.drv";
        assert_eq!(CtxElem::parse(drv), CtxElem::Opaque(drv));
        let deep = format!("={drv}");
        assert_eq!(CtxElem::parse(&deep), CtxElem::DrvDeep(drv));
        let built = format!("!dev!{drv}");
        assert_eq!(CtxElem::parse(&built), CtxElem::Built { output: "dev", drv });
        assert_eq!(&*CtxElem::parse(&built).encode(), built.as_str());
        assert!(is_store_path("/nix/store", drv));
        assert!(!is_store_path("/nix/store", "/nix/store/foo"));
        assert!(!is_store_path("/nix/store", &format!("{drv}/sub")));
    }
}

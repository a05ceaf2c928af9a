//! Control, type and environment builtins: `throw`, `tryEval`, `seq`,
//! `trace`, `import`, `typeOf`, `getEnv`, `findFile` ...

use std::path::{Path, PathBuf};

use dendrite_syntax::Span;

use super::{arg_ctx, mk_attrs};
use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::{Coerce, Evaluator, SYMS};
use crate::value::*;

pub(crate) const OPS: &[PrimOp] = &[
    PrimOp { name: "throw", arity: 1, func: throw },
    PrimOp { name: "abort", arity: 1, func: abort },
    PrimOp { name: "seq", arity: 2, func: seq },
    PrimOp { name: "deepSeq", arity: 2, func: deep_seq },
    PrimOp { name: "tryEval", arity: 1, func: try_eval },
    PrimOp { name: "trace", arity: 2, func: trace },
    PrimOp { name: "traceVerbose", arity: 2, func: trace_verbose },
    PrimOp { name: "warn", arity: 2, func: warn },
    PrimOp { name: "addErrorContext", arity: 2, func: add_error_context },
    PrimOp { name: "break", arity: 1, func: break_ },
    PrimOp { name: "import", arity: 1, func: import },
    PrimOp { name: "scopedImport", arity: 2, func: scoped_import },
    PrimOp { name: "getEnv", arity: 1, func: get_env },
    PrimOp { name: "findFile", arity: 2, func: find_file },
    PrimOp { name: "typeOf", arity: 1, func: type_of },
    PrimOp { name: "isAttrs", arity: 1, func: is_attrs },
    PrimOp { name: "isBool", arity: 1, func: is_bool },
    PrimOp { name: "isFloat", arity: 1, func: is_float },
    PrimOp { name: "isFunction", arity: 1, func: is_function },
    PrimOp { name: "isInt", arity: 1, func: is_int },
    PrimOp { name: "isList", arity: 1, func: is_list },
    PrimOp { name: "isNull", arity: 1, func: is_null },
    PrimOp { name: "isPath", arity: 1, func: is_path },
    PrimOp { name: "isString", arity: 1, func: is_string },
];

fn message_arg(ev: &mut Evaluator, v: &Value, span: Span, name: &str) -> EvalResult<String> {
    let s = ev
        .coerce_to_string(v, Coerce::TO_STRING, span)
        .map_err(|e| e.context(format!("while evaluating the error message passed to builtins.{name}"), None))?;
    Ok(s.to_str_lossy().into_owned())
}

fn throw(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let msg = message_arg(ev, &args[0], span, "throw")?;
    Err(EvalError::at(ErrorKind::Throw, msg, span))
}

fn abort(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let msg = message_arg(ev, &args[0], span, "abort")?;
    Err(EvalError::at(ErrorKind::Abort, format!("evaluation aborted with the following error message: '{msg}'"), span))
}

fn seq(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    ev.force(&args[0])?;
    ev.force(&args[1])
}

fn deep_seq(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    ev.deep_force(&args[0])?;
    ev.force(&args[1])
}

fn try_eval(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let s = &*SYMS;
    match ev.force(&args[0]) {
        Ok(v) => Ok(Value::attrs(vec![Attr::new(s.success, Value::Bool(true)), Attr::new(s.value, v)])),
        Err(e) if e.is_catchable() => {
            Ok(Value::attrs(vec![Attr::new(s.success, Value::Bool(false)), Attr::new(s.value, Value::Bool(false))]))
        }
        Err(e) => Err(e),
    }
}

fn trace(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let v = ev.force(&args[0])?;
    let msg = match &v {
        Value::String(s) => format!("trace: {}", s.to_str_lossy()),
        other => format!("trace: {}", crate::print::show_for_trace(ev, other)),
    };
    ev.emit(msg);
    ev.force(&args[1])
}

fn trace_verbose(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    if ev.settings.trace_verbose { trace(ev, args, span) } else { ev.force(&args[1]) }
}

fn warn(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let msg = ev
        .expect_string(&args[0])
        .map_err(|e| e.context("while evaluating the first argument; the message passed to builtins.warn", None))?;
    let msg = msg.to_str_lossy().into_owned();
    ev.emit(format!("evaluation warning: {msg}"));
    if ev.settings.abort_on_warn {
        return Err(EvalError::at(
            ErrorKind::Eval,
            format!("{msg}\n(aborting because of --abort-on-warn / abort-on-warn = true)"),
            span,
        ));
    }
    ev.force(&args[1])
}

fn add_error_context(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    match ev.force(&args[1]) {
        Ok(v) => Ok(v),
        Err(e) => {
            let msg = ev
                .coerce_to_string(&args[0], Coerce::TO_STRING, span)
                .map(|s| s.to_str_lossy().into_owned())
                .unwrap_or_else(|_| "«error while evaluating the error context»".to_string());
            Err(e.context(msg, None))
        }
    }
}

fn break_(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    ev.force(&args[0])
}

fn import_path(ev: &mut Evaluator, v: &Value, span: Span, name: &str) -> EvalResult<PathBuf> {
    let v = ev.force(v)?;
    match &v {
        Value::Path(p) => Ok(PathBuf::from(&**p)),
        Value::String(_) | Value::Attrs(_) => {
            let s = ev.coerce_to_string(&v, Coerce::PLAIN, span).map_err(|e| {
                e.context(format!("while evaluating the first argument passed to builtins.{name}"), None)
            })?;
            let s = s.to_str_lossy().into_owned();
            if !s.starts_with('/') {
                return Err(EvalError::at(
                    ErrorKind::Eval,
                    format!("string '{s}' doesn't represent an absolute path"),
                    span,
                ));
            }
            Ok(PathBuf::from(s))
        }
        other => Err(ev
            .type_error("a path", other)
            .with_span(span)
            .context(format!("while evaluating the first argument passed to builtins.{name}"), None)),
    }
}

fn import(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let path = import_path(ev, &args[0], span, "import")?;
    ev.import(&path, span)
}

fn scoped_import(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let scope = ev.expect_attrs(&args[0]).map_err(|e| e.context(arg_ctx("first", "scopedImport"), None))?;
    let path = import_path(ev, &args[1], span, "scopedImport")?;
    ev.scoped_import(&scope, &path, span)
}

fn get_env(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let name = ev.expect_string(&args[0]).map_err(|e| e.context(arg_ctx("first", "getEnv"), None))?;
    if ev.settings.pure_eval {
        return Ok(Value::string(""));
    }
    let value = std::env::var_os(&*name.to_str_lossy()).map(|v| v.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Value::string(value))
}

fn find_file(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let search = ev.expect_list(&args[0]).map_err(|e| e.context(arg_ctx("first", "findFile"), None))?;
    let name = ev.expect_string(&args[1]).map_err(|e| e.context(arg_ctx("second", "findFile"), None))?;
    let name = name.to_str_lossy().into_owned();
    let s = &*SYMS;
    for entry in search.iter() {
        let e = ev
            .expect_attrs(entry)
            .map_err(|e| e.context("while evaluating an element of the list passed to builtins.findFile", None))?;
        let prefix = match e.get(s.prefix) {
            Some(p) => ev.expect_string(&p.clone())?.to_str_lossy().into_owned(),
            None => String::new(),
        };
        let Some(path_v) = e.get(s.path).cloned() else {
            return Err(EvalError::at(ErrorKind::MissingAttribute, "attribute 'path' missing", span));
        };
        let path = ev.coerce_to_string(&path_v, Coerce::PLAIN, span)?.to_str_lossy().into_owned();
        let rest = if prefix.is_empty() {
            Some(name.as_str())
        } else if name == prefix {
            Some("")
        } else {
            name.strip_prefix(&format!("{prefix}/"))
        };
        let Some(rest) = rest else { continue };
        if path.contains("://") {
            continue;
        }
        let base = if Path::new(&path).is_absolute() {
            PathBuf::from(&path)
        } else {
            std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")).join(&path)
        };
        let candidate = if rest.is_empty() { base } else { base.join(rest) };
        if candidate.exists() {
            let c = dendrite_syntax::lower::canon_path(&candidate.to_string_lossy());
            return Ok(Value::Path(PathStr::from(c.as_str())));
        }
    }
    if let Some(rest) = name.strip_prefix("nix/")
        && let Some(p) = crate::fs::corepkg(rest)
    {
        return Ok(Value::Path(PathStr::from(p.as_str())));
    }
    Err(EvalError::at(
        ErrorKind::Throw,
        format!("file '{name}' was not found in the Nix search path (add it using $NIX_PATH or -I)"),
        span,
    ))
}

fn type_of(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let v = ev.force(&args[0])?;
    Ok(Value::string(v.type_of()))
}

macro_rules! is_type {
    ($name:ident, $pat:pat) => {
        fn $name(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
            let v = ev.force(&args[0])?;
            Ok(Value::Bool(matches!(v, $pat)))
        }
    };
}

is_type!(is_attrs, Value::Attrs(_));
is_type!(is_bool, Value::Bool(_));
is_type!(is_float, Value::Float(_));
is_type!(is_int, Value::Int(_));
is_type!(is_list, Value::List(_));
is_type!(is_null, Value::Null);
is_type!(is_path, Value::Path(_));
is_type!(is_string, Value::String(_));

fn is_function(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let v = ev.force(&args[0])?;
    Ok(Value::Bool(v.is_function()))
}

#[allow(dead_code)]
fn unused() -> Value {
    mk_attrs(vec![])
}

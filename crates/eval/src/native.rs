//! Helpers for writing Nix functions and values in Rust (the native module
//! system and dendrite's models use them).

use std::rc::Rc;

use dendrite_syntax::{Span, Symbol};

use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::*;

/// The body of a native function of several arguments.
pub type NativeBody = Rc<dyn Fn(&mut Evaluator, &[Value], Span) -> EvalResult<Value>>;

/// A curried native function of `arity` arguments (at least 1). Arguments
/// arrive unforced, as for builtins.
pub fn native(
    name: &str,
    arity: usize,
    body: impl Fn(&mut Evaluator, &[Value], Span) -> EvalResult<Value> + 'static,
) -> Value {
    assert!(arity >= 1, "native functions take at least one argument");
    partial(Rc::from(name), arity, Rc::new(body), Vec::new())
}

fn partial(name: Rc<str>, arity: usize, body: NativeBody, args: Vec<Value>) -> Value {
    Value::Native(Rc::new(NativeFn::new(
        name.clone(),
        Box::new(move |ev, arg, span| {
            let mut all = Vec::with_capacity(args.len() + 1);
            all.extend(args.iter().cloned());
            all.push(arg);
            if all.len() == arity { body(ev, &all, span) } else { Ok(partial(name.clone(), arity, body.clone(), all)) }
        }),
    )))
}

/// An attribute set from `(name, value)` pairs (any order; no duplicates).
pub fn attrs(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::attrs(pairs.into_iter().map(|(n, v)| Attr::new(Symbol::new(n), v)).collect())
}

/// An attribute set from symbol-keyed pairs.
pub fn attrs_sym(pairs: impl IntoIterator<Item = (Symbol, Value)>) -> Value {
    Value::attrs(pairs.into_iter().map(|(n, v)| Attr::new(n, v)).collect())
}

/// A string value.
pub fn string(s: impl AsRef<str>) -> Value {
    Value::String(NixString::from(s.as_ref()))
}

/// A list of strings.
pub fn string_list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::list(items.into_iter().map(|s| string(s.as_ref())).collect())
}

impl Evaluator {
    /// Forces `v` and returns attribute `name` of it (unforced), if `v` is a
    /// set that has it.
    pub fn attr_of(&mut self, v: &Value, name: &str) -> EvalResult<Option<Value>> {
        match self.force(v)? {
            Value::Attrs(a) => Ok(a.get(Symbol::new(name)).cloned()),
            _ => Ok(None),
        }
    }

    /// Forces `v`, selects `name` (with Nix's error if missing) and forces it.
    pub fn select_str(&mut self, v: &Value, name: &str, span: Span) -> EvalResult<Value> {
        self.select_one(v, Symbol::new(name), span)
    }

    /// Forces `v` to a string without context, or fails like
    /// `forceStringNoCtx`.
    pub fn expect_plain_string(&mut self, v: &Value) -> EvalResult<String> {
        let s = self.expect_string(v)?;
        if s.has_context() {
            return Err(EvalError::new(
                ErrorKind::Eval,
                format!("the string '{}' is not allowed to refer to a store path", s.to_str_lossy()),
            ));
        }
        Ok(s.to_str_lossy().into_owned())
    }
}

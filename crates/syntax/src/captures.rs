//! What an expression reads from the environment it is evaluated in.
//!
//! The evaluator shares module evaluations between configurations: a module
//! function is called once with placeholders ("holes") for `config` and
//! `options`, and a delayed expression of the result can be shared only if
//! it cannot reach a hole. Walking the environment chain would say "maybe"
//! for every expression of a module body; the frame slots an expression
//! actually reads answer precisely, so they are computed here, once per
//! expression.

use std::cell::RefCell;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::ir::{AttrKey, BindingValue, Expr, ExprKind, LambdaExpr, Param, StrPart, Var};

/// One thing an expression reads from its environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capture {
    /// Slot `index` of the frame `depth` levels up.
    Slot {
        /// Frames up from the expression's environment.
        depth: u32,
        /// The slot.
        index: u32,
    },
    /// A dynamic `with` lookup: every `with` frame from `depth` levels up
    /// to the top of the chain may be read.
    With {
        /// Frames up from the expression's environment where the lookup starts.
        depth: u32,
    },
}

thread_local! {
    static CACHE: RefCell<FxHashMap<usize, Rc<[Capture]>>> = RefCell::new(FxHashMap::default());
}

/// The captures of `expr` relative to the environment it is evaluated in,
/// sorted and without duplicates (computed once per expression and thread;
/// expressions of retained files keep their addresses).
pub fn captures(expr: &Expr) -> Rc<[Capture]> {
    let key = expr as *const Expr as usize;
    if let Some(c) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return c;
    }
    let mut out = Vec::new();
    walk(expr, 0, &mut out);
    out.sort_unstable();
    out.dedup();
    let c: Rc<[Capture]> = out.into();
    CACHE.with(|cache| cache.borrow_mut().insert(key, c.clone()));
    c
}

/// The captures of a function literal relative to the environment it
/// closes over.
pub fn lambda_captures(l: &LambdaExpr) -> Rc<[Capture]> {
    let key = l as *const LambdaExpr as usize | 1;
    if let Some(c) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return c;
    }
    let mut out = Vec::new();
    lambda(l, 0, &mut out);
    out.sort_unstable();
    out.dedup();
    let c: Rc<[Capture]> = out.into();
    CACHE.with(|cache| cache.borrow_mut().insert(key, c.clone()));
    c
}

fn lambda(l: &LambdaExpr, k: u32, out: &mut Vec<Capture>) {
    if let Param::Formals { formals, .. } = &l.param {
        for f in formals.iter() {
            if let Some(d) = &f.default {
                walk(d, k + 1, out);
            }
        }
    }
    walk(&l.body, k + 1, out);
}

fn walk(e: &Expr, k: u32, out: &mut Vec<Capture>) {
    match &e.kind {
        ExprKind::Null
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Path(_)
        | ExprKind::CurPos => {}
        ExprKind::Interpolated { parts, .. } => {
            for p in parts.iter() {
                if let StrPart::Expr(x) = p {
                    walk(x, k, out);
                }
            }
        }
        ExprKind::Var(v) => var(v, k, out),
        ExprKind::Select { expr, path, default } => {
            walk(expr, k, out);
            keys(path, k, out);
            if let Some(d) = default {
                walk(d, k, out);
            }
        }
        ExprKind::HasAttr { expr, path } => {
            walk(expr, k, out);
            keys(path, k, out);
        }
        ExprKind::Attrs(a) => {
            // A `rec` set's values, `inherit (src)` sources and dynamic
            // attributes are evaluated in its own frame; `inherit x;` outside.
            let inner = if a.rec { k + 1 } else { k };
            for s in a.inherit_from.iter() {
                walk(s, inner, out);
            }
            for b in a.statics.iter() {
                match &b.value {
                    BindingValue::Expr(x) => walk(x, inner, out),
                    BindingValue::Inherit(x) => walk(x, k, out),
                    BindingValue::InheritFrom { .. } => {}
                }
            }
            for d in a.dynamics.iter() {
                walk(&d.name, inner, out);
                walk(&d.value, inner, out);
            }
        }
        ExprKind::List(items) => {
            for i in items.iter() {
                walk(i, k, out);
            }
        }
        ExprKind::Lambda(l) => lambda(l, k, out),
        ExprKind::Call { func, args } => {
            walk(func, k, out);
            for a in args.iter() {
                walk(a, k, out);
            }
        }
        ExprKind::Let(l) => {
            for s in l.inherit_from.iter() {
                walk(s, k + 1, out);
            }
            for b in l.bindings.iter() {
                match &b.value {
                    BindingValue::Expr(x) => walk(x, k + 1, out),
                    BindingValue::Inherit(x) => walk(x, k, out),
                    BindingValue::InheritFrom { .. } => {}
                }
            }
            walk(&l.body, k + 1, out);
        }
        ExprKind::With { namespace, body } => {
            walk(namespace, k, out);
            walk(body, k + 1, out);
        }
        ExprKind::If { cond, then, else_ } => {
            walk(cond, k, out);
            walk(then, k, out);
            walk(else_, k, out);
        }
        ExprKind::Assert { cond, body } => {
            walk(cond, k, out);
            walk(body, k, out);
        }
        ExprKind::Not(x) => walk(x, k, out),
        ExprKind::BinOp { lhs, rhs, .. } => {
            walk(lhs, k, out);
            walk(rhs, k, out);
        }
    }
}

fn keys(path: &[AttrKey], k: u32, out: &mut Vec<Capture>) {
    for key in path {
        if let AttrKey::Dynamic(x) = key {
            walk(x, k, out);
        }
    }
}

fn var(v: &Var, k: u32, out: &mut Vec<Capture>) {
    match v {
        Var::Local { depth, index, .. } => {
            if *depth >= k {
                out.push(Capture::Slot { depth: depth - k, index: *index });
            }
        }
        // The lookup may fall through every `with` frame up the chain, so
        // all of them outside the expression are read.
        Var::With { depth, .. } => out.push(Capture::With { depth: depth.saturating_sub(k) }),
        Var::Global(_) | Var::Unbound(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RootDatabase;

    fn lowered(src: &str) -> std::sync::Arc<crate::Lowered> {
        let mut db = RootDatabase::default();
        let file = db.set_file_text(std::path::Path::new("/virtual/t.nix"), std::sync::Arc::from(src));
        crate::lower_file(&db, file).lowered.clone()
    }

    /// The captures of the body of the outermost lambda of `src`.
    fn body_captures(src: &str) -> Vec<Capture> {
        let l = lowered(src);
        let ExprKind::Lambda(lam) = &l.root.kind else { panic!("not a lambda") };
        let c = captures(&lam.body).to_vec();
        // The cache is keyed by address, which holds only while the tree
        // lives (as retained files do): a freed tree's addresses could be
        // reused by the next test's.
        std::mem::forget(l);
        c
    }

    #[test]
    fn reads_of_the_call_frame_and_outside() {
        // `{ config, lib, ... }` is one frame: config is slot 0, lib slot 1.
        assert_eq!(body_captures("{ config, lib, ... }: lib.x"), vec![Capture::Slot { depth: 0, index: 1 }]);
        assert_eq!(body_captures("{ config, lib, ... }: 1"), vec![]);
        // A let frame inside the body: `cfg` is its own, `config` one up.
        assert_eq!(
            body_captures("{ config, lib, ... }: let cfg = config.a; in lib.mkIf cfg.enable { }"),
            vec![Capture::Slot { depth: 0, index: 0 }, Capture::Slot { depth: 0, index: 1 }]
        );
        // A nested lambda's own parameter is not a capture.
        assert_eq!(body_captures("a: x: x"), vec![]);
        assert_eq!(body_captures("a: x: a"), vec![Capture::Slot { depth: 0, index: 0 }]);
    }

    #[test]
    fn inherit_reads_outside_the_frame_and_with_reads_all() {
        assert_eq!(body_captures("a: let inherit a; in a"), vec![Capture::Slot { depth: 0, index: 0 }]);
        assert_eq!(body_captures("a: rec { b = a; c = b; }"), vec![Capture::Slot { depth: 0, index: 0 }]);
        assert_eq!(
            body_captures("a: with a; x"),
            vec![Capture::Slot { depth: 0, index: 0 }, Capture::With { depth: 0 }]
        );
    }
}

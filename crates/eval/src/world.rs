//! One configuration's view of shared module templates: copies of what a
//! template made, with its holes filled by this configuration's arguments.
//!
//! A template's values are shared by every configuration as long as they
//! reach no hole ([`crate::taint`]). Where one does, the configuration uses
//! a copy made here: a delayed expression is re-closed over a copy of its
//! environment in which each hole is replaced by the configuration's value
//! (`config`, `options`, ...), and sets, lists and closures on the way are
//! copied likewise. Nothing is evaluated to make a copy, and copies are
//! made once per configuration (so what the template shared, the copies
//! share too). Evaluating a copy is ordinary evaluation.

use std::cell::RefCell;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::taint::{Taint, taint_skipping};
use dendrite_syntax::Symbol;
use dendrite_syntax::ir::{AttrKey, Expr, ExprKind, Var};

use crate::Evaluator;
use crate::value::{Attr, Attrs, Closure, Env, EnvData, IrPtr, PrimOpApp, Slots, Thunk, ThunkState, Value};

/// The copies one configuration made of template values.
#[derive(Default)]
pub struct World {
    /// Each hole's value in this configuration, by the hole's address.
    subst: RefCell<FxHashMap<usize, (Value, Value)>>,
    /// Copies of thunks (the original kept alive beside its copy, so that
    /// its address is not reused).
    thunks: RefCell<FxHashMap<usize, (Value, Value)>>,
    /// Copies of environments.
    envs: RefCell<FxHashMap<usize, (Env, Env)>>,
}

thread_local! {
    /// How many times a configuration's own values stood in for a
    /// template's (copies made or reused, selection chains resolved).
    static USES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many times, so far on this thread, a configuration's own values
/// were used for a template's: what was made between two readings that
/// agree depends on no configuration.
pub fn configuration_uses() -> u64 {
    USES.with(|u| u.get())
}

/// Records a use of a configuration's own values made outside a world
/// (a module function called with one configuration's arguments).
pub fn note_configuration_use() {
    USES.with(|u| u.set(u.get() + 1));
}

/// How many thunks and expressions a selection chain may pass through.
const CHAIN_DEPTH: u32 = 16;

/// A template's value that is a chain of attribute selections from a
/// hole (`cfg.enable`, where `cfg = config.features.x`), as the hole and
/// the names selected: the same for every configuration, which only
/// gives the hole its value.
pub struct Plan {
    hole: usize,
    path: Vec<Symbol>,
}

impl Plan {
    /// The hole's address and the names selected.
    pub fn parts(&self) -> (usize, &[Symbol]) {
        (self.hole, &self.path)
    }
}

/// The chain of selections template value `v` is, if it is one. Template
/// thunks that reach a hole are never evaluated (shared mode cannot, and
/// configurations evaluate copies), so what is found stays true.
pub fn plan(v: &Value) -> Option<Plan> {
    fn walk(v: &Value, fuel: u32, path: &mut Vec<Symbol>) -> Option<usize> {
        let fuel = fuel.checked_sub(1)?;
        let Value::Thunk(t) = v else { return None };
        enum S {
            Hole,
            Pending(IrPtr<Expr>, Env),
            Select(Value, Symbol),
            Other,
        }
        let s = t.peek(|s| match s {
            ThunkState::Hole => S::Hole,
            ThunkState::Pending(e, env) => S::Pending(*e, env.clone()),
            ThunkState::Select(x, n, _) => S::Select(x.clone(), *n),
            _ => S::Other,
        });
        match s {
            S::Hole => Some(t.as_ptr()),
            S::Select(x, n) => {
                let hole = walk(&x, fuel, path)?;
                path.push(n);
                Some(hole)
            }
            S::Pending(e, env) => expr(&e, &env, fuel, path),
            S::Other => None,
        }
    }
    fn expr(e: &Expr, env: &Env, fuel: u32, path: &mut Vec<Symbol>) -> Option<usize> {
        match &e.kind {
            ExprKind::Var(Var::Local { depth, index, .. }) => {
                let mut frame = env;
                for _ in 0..*depth {
                    frame = frame.parent.as_ref()?;
                }
                if frame.is_with {
                    return None;
                }
                let slot = frame.slots.get(*index as usize)?.clone();
                walk(&slot, fuel, path)
            }
            ExprKind::Select { expr: base, path: names, default: None } => {
                let hole = expr(base, env, fuel.checked_sub(1)?, path)?;
                for key in names.iter() {
                    let AttrKey::Static(name) = key else { return None };
                    path.push(*name);
                }
                Some(hole)
            }
            _ => None,
        }
    }
    let mut path = Vec::new();
    let hole = walk(v, CHAIN_DEPTH, &mut path)?;
    Some(Plan { hole, path })
}

/// Attribute `name` of the configuration's value `base` (forced), unforced.
fn pick(ev: &mut Evaluator, base: &Value, name: Symbol) -> Option<Value> {
    match ev.force(base).ok()? {
        Value::Attrs(a) => a.get(name).cloned(),
        _ => None,
    }
}

fn uncopyable(what: &str) -> EvalError {
    EvalError::new(
        ErrorKind::NeedsWorld,
        format!("internal error: a shared module's value cannot be copied for a configuration ({what})"),
    )
}

impl World {
    /// A configuration with no holes bound yet.
    pub fn new() -> Rc<World> {
        Rc::new(World::default())
    }

    /// Fills `hole` (a value made as a hole) with `value` in this configuration.
    pub fn bind(&self, hole: &Value, value: Value) {
        if let Value::Thunk(t) = hole {
            self.subst.borrow_mut().insert(t.as_ptr(), (hole.clone(), value));
        }
    }

    /// Whether `hole` is bound here.
    pub fn binds(&self, hole: &Value) -> bool {
        matches!(hole, Value::Thunk(t) if self.subst.borrow().contains_key(&t.as_ptr()))
    }

    /// How far `v` reaches the holes of this configuration (holes of
    /// templates it did not use are not its to fill, and what reaches only
    /// those needs no copy: its code does not read them).
    fn taint(&self, v: &Value) -> Taint {
        self.taint_skipping(v).0
    }

    /// [`World::taint`], and whether `v` reaches other configurations' holes.
    fn taint_skipping(&self, v: &Value) -> (Taint, bool) {
        let subst = self.subst.borrow();
        let relevant = |h: usize| subst.contains_key(&h);
        taint_skipping(v, Some(&relevant))
    }

    /// This configuration's copy of `v` (`v` itself when it reaches no hole).
    pub fn inst(&self, v: &Value) -> EvalResult<Value> {
        match v {
            Value::Null
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::String(_)
            | Value::Path(_)
            | Value::PrimOp(_) => return Ok(v.clone()),
            _ => {}
        }
        match self.taint(v) {
            Taint::Clean => return Ok(v.clone()),
            Taint::Tainted | Taint::Opaque => {}
        }
        self.copy(v)
    }

    /// The copy of thunk `v` this configuration already made, if any.
    pub fn copied(&self, v: &Value) -> Option<Value> {
        let Value::Thunk(t) = v else { return None };
        let c = self.thunks.borrow().get(&t.as_ptr()).map(|(_, c)| c.clone());
        if c.is_some() {
            note_configuration_use();
        }
        c
    }

    /// This configuration's value of `v` when `v` is a chain of attribute
    /// selections that starts at a hole (`cfg.enable`, where
    /// `cfg = config.features.x`): found by selecting from this
    /// configuration's values, the way evaluating a copy would, without
    /// copying the environments on the way. `None` for any other value,
    /// and when a step fails (evaluating the copy then reports the error
    /// as usual). Only for values about to be forced: the chain's bases
    /// are forced.
    pub fn select_chain(&self, ev: &mut Evaluator, v: &Value) -> Option<Value> {
        let r = self.chain(ev, v, CHAIN_DEPTH);
        if r.is_some() {
            note_configuration_use();
        }
        r
    }

    /// This configuration's value of a template's chain of selections
    /// `plan` (see [`plan`]): the hole's value here, and the names picked
    /// from it one after the other. `None` when a step fails.
    pub fn resolve(&self, ev: &mut Evaluator, plan: &Plan) -> Option<Value> {
        let mut v = self.subst.borrow().get(&plan.hole).map(|(_, v)| v.clone())?;
        for name in plan.path.iter() {
            v = pick(ev, &v, *name)?;
        }
        note_configuration_use();
        Some(v)
    }

    /// Records `copy` as this configuration's value of template thunk `v`.
    pub fn remember(&self, v: &Value, copy: &Value) {
        if let Value::Thunk(t) = v {
            self.thunks.borrow_mut().insert(t.as_ptr(), (v.clone(), copy.clone()));
        }
    }

    fn chain(&self, ev: &mut Evaluator, v: &Value, fuel: u32) -> Option<Value> {
        let fuel = fuel.checked_sub(1)?;
        let Value::Thunk(t) = v else {
            return (self.taint(v) == Taint::Clean).then(|| v.clone());
        };
        let key = t.as_ptr();
        if let Some((_, c)) = self.thunks.borrow().get(&key) {
            return Some(c.clone());
        }
        enum S {
            Hole,
            Done(Value),
            Pending(IrPtr<Expr>, Env),
            Select(Value, Symbol),
            Other,
        }
        let s = t.peek(|s| match s {
            ThunkState::Hole => S::Hole,
            ThunkState::Done(d) => S::Done(d.clone()),
            ThunkState::Pending(e, env) => S::Pending(*e, env.clone()),
            ThunkState::Select(x, n, _) => S::Select(x.clone(), *n),
            _ => S::Other,
        });
        let found = match s {
            S::Hole => return self.subst.borrow().get(&key).map(|(_, v)| v.clone()),
            S::Done(d) => (self.taint(&d) == Taint::Clean).then_some(d)?,
            S::Pending(e, env) => self.expr_chain(ev, &e, &env, fuel)?,
            S::Select(x, n) => {
                let base = self.chain(ev, &x, fuel)?;
                pick(ev, &base, n)?
            }
            S::Other => return None,
        };
        self.thunks.borrow_mut().insert(key, (v.clone(), found.clone()));
        Some(found)
    }

    fn expr_chain(&self, ev: &mut Evaluator, e: &Expr, env: &Env, fuel: u32) -> Option<Value> {
        match &e.kind {
            ExprKind::Var(Var::Local { depth, index, .. }) => {
                let mut frame = env;
                for _ in 0..*depth {
                    frame = frame.parent.as_ref()?;
                }
                let slot = frame.slots.get(*index as usize)?.clone();
                self.chain(ev, &slot, fuel)
            }
            ExprKind::Select { expr, path, default: None } => {
                let mut v = self.expr_chain(ev, expr, env, fuel.checked_sub(1)?)?;
                for key in path.iter() {
                    let AttrKey::Static(name) = key else { return None };
                    v = pick(ev, &v, *name)?;
                }
                Some(v)
            }
            _ => None,
        }
    }

    fn copy(&self, v: &Value) -> EvalResult<Value> {
        note_configuration_use();
        Ok(match v {
            Value::Attrs(a) => {
                let mut entries = Vec::with_capacity(a.len());
                for x in a.iter() {
                    entries.push(Attr { name: x.name, value: self.inst(&x.value)?, pos: x.pos });
                }
                let set = Attrs::from_sorted(entries);
                Value::Attrs(Rc::new(if a.is_open() { set.into_open() } else { set }))
            }
            Value::List(l) => {
                let mut out = Vec::with_capacity(l.len());
                for x in l.iter() {
                    out.push(self.inst(x)?);
                }
                Value::list(out)
            }
            Value::Lambda(c) => Value::Lambda(Rc::new(Closure { lambda: c.lambda, env: self.env(&c.env)? })),
            Value::PrimOpApp(app) => {
                let mut args = Vec::with_capacity(app.args.len());
                for x in &app.args {
                    args.push(self.inst(x)?);
                }
                Value::PrimOpApp(Rc::new(PrimOpApp { op: app.op, args }))
            }
            Value::Native(n) => return Err(uncopyable(&format!("a native function `{}`", n.name))),
            Value::Thunk(t) => self.thunk(t, v)?,
            _ => v.clone(),
        })
    }

    fn thunk(&self, t: &Thunk, v: &Value) -> EvalResult<Value> {
        let key = t.as_ptr();
        if let Some((_, c)) = self.thunks.borrow().get(&key) {
            return Ok(c.clone());
        }
        if t.peek(|s| matches!(s, ThunkState::Hole)) {
            return match self.subst.borrow().get(&key) {
                Some((_, value)) => Ok(value.clone()),
                // Another configuration's hole: code that reads it would
                // fail loudly, and none of this configuration's does.
                None => Ok(v.clone()),
            };
        }
        if let Some(done) = t.value() {
            let c = self.inst(&done)?;
            self.thunks.borrow_mut().insert(key, (v.clone(), c.clone()));
            return Ok(c);
        }
        // The copy exists before its state is made, so that a state that
        // leads back to this thunk finds the copy.
        let copy = Thunk::new(ThunkState::Blank);
        self.thunks.borrow_mut().insert(key, (v.clone(), Value::Thunk(copy.clone())));
        let state = self.state(t);
        match state {
            Ok(s) => {
                copy.set(s);
                Ok(Value::Thunk(copy))
            }
            Err(e) => {
                self.thunks.borrow_mut().remove(&key);
                Err(e)
            }
        }
    }

    fn state(&self, t: &Thunk) -> EvalResult<ThunkState> {
        enum S {
            Pending(crate::value::IrPtr<dendrite_syntax::ir::Expr>, Env),
            Apply(Value, Value, dendrite_syntax::Span),
            Select(Value, dendrite_syntax::Symbol, dendrite_syntax::Span),
            MapAttr(Value, dendrite_syntax::Symbol, Value),
            Done(Value),
            Native(crate::value::LazyFn),
            Fail(&'static str),
        }
        let s = t.peek(|s| match s {
            ThunkState::Pending(e, env) => S::Pending(*e, env.clone()),
            ThunkState::Apply(f, x, span) => S::Apply(f.clone(), x.clone(), *span),
            ThunkState::Select(x, n, span) => S::Select(x.clone(), *n, *span),
            ThunkState::MapAttr(f, n, x) => S::MapAttr(f.clone(), *n, x.clone()),
            ThunkState::Done(v) => S::Done(v.clone()),
            ThunkState::Native(f) => S::Native(f.clone()),
            ThunkState::NativeShared(_) => S::Fail("a Rust computation made while sharing"),
            ThunkState::Hole => S::Fail("a hole"),
            ThunkState::Blank | ThunkState::Blackhole => S::Fail("a thunk being evaluated"),
        });
        Ok(match s {
            S::Pending(e, env) => ThunkState::Pending(e, self.env(&env)?),
            S::Apply(f, x, span) => ThunkState::Apply(self.inst(&f)?, self.inst(&x)?, span),
            S::Select(x, n, span) => ThunkState::Select(self.inst(&x)?, n, span),
            S::MapAttr(f, n, x) => ThunkState::MapAttr(self.inst(&f)?, n, self.inst(&x)?),
            S::Done(v) => ThunkState::Done(self.inst(&v)?),
            S::Native(f) => ThunkState::Native(f),
            S::Fail(what) => return Err(uncopyable(what)),
        })
    }

    /// The copy of an environment (the environment itself when it reaches
    /// no hole).
    pub fn env(&self, env: &Env) -> EvalResult<Env> {
        if !env.tainted {
            return Ok(env.clone());
        }
        note_configuration_use();
        let key = Rc::as_ptr(env) as usize;
        if let Some((_, c)) = self.envs.borrow().get(&key) {
            return Ok(c.clone());
        }
        let parent = match &env.parent {
            Some(p) => Some(self.env(p)?),
            None => None,
        };
        let same_parent = match (&parent, &env.parent) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        let scans: Vec<(Taint, bool)> = env.slots.iter().map(|s| self.taint_skipping(s)).collect();
        let copied: Vec<bool> = scans.iter().map(|(t, _)| *t != Taint::Clean).collect();
        // The copy still reaches other configurations' holes where the
        // original did; it is tainted for shared mode's purposes then.
        let tainted = parent.as_ref().is_some_and(|p| p.tainted) || scans.iter().any(|(_, skipped)| *skipped);
        if same_parent && !copied.iter().any(|c| *c) {
            // Tainted only by holes that are not this configuration's.
            self.envs.borrow_mut().insert(key, (env.clone(), env.clone()));
            return Ok(env.clone());
        }
        // Thunk slots get their copies (made blank) before the frame, so
        // that the frame's own bindings, which refer to it, are copied
        // against the new frame.
        let mut slots = Slots::with_capacity(env.slots.len());
        let mut fill: Vec<(Thunk, Thunk)> = Vec::new();
        for (s, copy) in env.slots.iter().zip(copied) {
            if !copy {
                slots.push(s.clone());
                continue;
            }
            match s {
                Value::Thunk(t) if !self.thunks.borrow().contains_key(&t.as_ptr()) => {
                    if t.peek(|st| matches!(st, ThunkState::Hole)) {
                        slots.push(self.inst(s)?);
                        continue;
                    }
                    let copy = Thunk::new(ThunkState::Blank);
                    self.thunks.borrow_mut().insert(t.as_ptr(), (s.clone(), Value::Thunk(copy.clone())));
                    fill.push((t.clone(), copy.clone()));
                    slots.push(Value::Thunk(copy));
                }
                Value::Thunk(_) => slots.push(self.inst(s)?),
                other => slots.push(self.inst(other)?),
            }
        }
        let new = Rc::new(EnvData { parent, slots, is_with: env.is_with, tainted });
        self.envs.borrow_mut().insert(key, (env.clone(), new.clone()));
        for (orig, copy) in fill {
            match self.state(&orig) {
                Ok(s) => copy.set(s),
                Err(e) => {
                    self.envs.borrow_mut().remove(&key);
                    return Err(e);
                }
            }
        }
        Ok(new)
    }
}

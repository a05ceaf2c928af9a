//! Whether a value may reach a hole.
//!
//! A shared module template is a module function called once with holes for
//! the arguments that belong to one configuration (`config`, `options`,
//! ...). What the call made can be used by every configuration as it is if
//! it cannot reach a hole ([`Taint::Clean`]); otherwise each configuration
//! uses a copy in which the holes are filled ([`crate::world::World`]).
//!
//! Only objects made in shared mode can reach a hole ([`Birth`]), and of
//! those, delayed expressions and closures are judged by the frame slots
//! their code reads ([`dendrite_syntax::captures`]), not by everything in
//! their environment. Functions and computations written in Rust that were
//! made in shared mode hide what they captured: they are [`Taint::Opaque`]
//! unless the call that made them had clean inputs ([`stamp_clean`]).

use dendrite_syntax::captures::{Capture, captures, lambda_captures};
use rustc_hash::FxHashSet;

use crate::value::{Birth, Env, ThunkState, Value};

/// How far a value may reach.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Taint {
    /// It reaches no hole: every configuration can share it.
    Clean,
    /// It may reach a hole through objects that can be copied with the
    /// holes filled.
    Tainted,
    /// It may reach a hole through something that cannot be copied (a Rust
    /// closure made in shared mode, a thunk being evaluated), or the scan
    /// gave up.
    Opaque,
}

/// How many objects one scan visits before it answers [`Taint::Opaque`].
const BUDGET: usize = 20_000;

/// Whether `v` may reach a hole.
pub fn taint(v: &Value) -> Taint {
    taint_with(v, None)
}

/// Whether `v` may reach one of the holes `relevant` accepts (by address);
/// with `None`, any hole.
pub fn taint_with(v: &Value, relevant: Option<&dyn Fn(usize) -> bool>) -> Taint {
    taint_skipping(v, relevant).0
}

/// [`taint_with`], and whether a hole `relevant` rejected was reached.
pub fn taint_skipping(v: &Value, relevant: Option<&dyn Fn(usize) -> bool>) -> (Taint, bool) {
    match v {
        Value::Null
        | Value::Bool(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::String(_)
        | Value::Path(_)
        | Value::PrimOp(_) => return (Taint::Clean, false),
        Value::Attrs(a) if a.birth() != Birth::Shared => return (Taint::Clean, false),
        Value::Lambda(c) if !c.env.tainted => return (Taint::Clean, false),
        Value::Native(n) if n.birth.get() != Birth::Shared => return (Taint::Clean, false),
        _ => {}
    }
    let mut scan =
        Scan { budget: BUDGET, seen: FxHashSet::default(), found_clean: Vec::new(), relevant, skipped: false };
    let t = scan.value(v);
    if t == Taint::Clean && !scan.skipped {
        // Everything visited is clean: remember it for the sets.
        for a in scan.found_clean {
            if let Value::Attrs(a) = a {
                a.mark_clean();
            }
        }
    }
    (t, scan.skipped)
}

struct Scan<'a> {
    budget: usize,
    seen: FxHashSet<usize>,
    found_clean: Vec<Value>,
    relevant: Option<&'a dyn Fn(usize) -> bool>,
    /// Whether a hole was not counted (then what was visited is not known
    /// to be clean for everyone).
    skipped: bool,
}

impl Scan<'_> {
    fn step(&mut self) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        true
    }

    fn value(&mut self, v: &Value) -> Taint {
        if !self.step() {
            return Taint::Opaque;
        }
        match v {
            Value::Null
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::String(_)
            | Value::Path(_)
            | Value::PrimOp(_) => Taint::Clean,
            Value::Attrs(a) => {
                if a.birth() != Birth::Shared || !self.seen.insert(std::rc::Rc::as_ptr(a) as usize) {
                    return Taint::Clean;
                }
                let mut t = Taint::Clean;
                for x in a.iter() {
                    t = t.max(self.value(&x.value));
                    if t == Taint::Opaque {
                        return t;
                    }
                }
                if t == Taint::Clean {
                    self.found_clean.push(v.clone());
                }
                t
            }
            Value::List(l) => {
                if !self.seen.insert(std::rc::Rc::as_ptr(l) as usize) {
                    return Taint::Clean;
                }
                self.all(l.iter())
            }
            Value::Lambda(c) => {
                if !c.env.tainted {
                    return Taint::Clean;
                }
                self.reads(&c.env, &lambda_captures(&c.lambda))
            }
            Value::PrimOpApp(app) => self.all(app.args.iter()),
            Value::Native(n) => {
                if n.birth.get() == Birth::Shared {
                    Taint::Opaque
                } else {
                    Taint::Clean
                }
            }
            Value::Thunk(t) => {
                if !self.seen.insert(t.as_ptr()) {
                    return Taint::Clean;
                }
                // What the state holds is cloned out, so that the scan never
                // holds a reference into the cell while it visits others.
                enum S {
                    Value(Value),
                    Pair(Value, Value),
                    Reads(Env, std::rc::Rc<[Capture]>),
                    Is(Taint),
                }
                let s = t.peek(|s| match s {
                    ThunkState::Done(v) => S::Value(v.clone()),
                    ThunkState::Pending(e, env) if env.tainted => S::Reads(env.clone(), captures(e)),
                    ThunkState::Pending(..) | ThunkState::Native(_) => S::Is(Taint::Clean),
                    ThunkState::Apply(f, x, _) | ThunkState::MapAttr(f, _, x) => S::Pair(f.clone(), x.clone()),
                    ThunkState::Select(x, _, _) => S::Value(x.clone()),
                    ThunkState::Hole => match self.relevant {
                        Some(r) if !r(t.as_ptr()) => {
                            self.skipped = true;
                            S::Is(Taint::Clean)
                        }
                        _ => S::Is(Taint::Tainted),
                    },
                    ThunkState::NativeShared(_) | ThunkState::Blank | ThunkState::Blackhole => S::Is(Taint::Opaque),
                });
                match s {
                    S::Value(v) => self.value(&v),
                    S::Pair(a, b) => self.value(&a).max(self.value(&b)),
                    S::Reads(env, caps) => self.reads(&env, &caps),
                    S::Is(t) => t,
                }
            }
        }
    }

    fn all<'a>(&mut self, items: impl Iterator<Item = &'a Value>) -> Taint {
        let mut t = Taint::Clean;
        for x in items {
            t = t.max(self.value(x));
            if t == Taint::Opaque {
                break;
            }
        }
        t
    }

    /// What code with captures `caps` reads from `env`.
    fn reads(&mut self, env: &Env, caps: &[Capture]) -> Taint {
        let mut t = Taint::Clean;
        for c in caps {
            let r = match *c {
                Capture::Slot { depth, index } => match up(env, depth) {
                    Some(frame) if !frame.tainted => Taint::Clean,
                    Some(frame) => match frame.slots.get(index as usize) {
                        Some(v) => {
                            let v = v.clone();
                            self.value(&v)
                        }
                        None => Taint::Opaque,
                    },
                    None => Taint::Opaque,
                },
                Capture::With { depth } => {
                    let mut r = Taint::Clean;
                    let mut cur = up(env, depth);
                    while let Some(frame) = cur {
                        if !frame.tainted {
                            break;
                        }
                        if frame.is_with {
                            let ns = frame.slots[0].clone();
                            r = r.max(self.value(&ns));
                        }
                        cur = frame.parent.clone();
                    }
                    r
                }
            };
            t = t.max(r);
            if t == Taint::Opaque {
                break;
            }
        }
        t
    }
}

fn up(env: &Env, depth: u32) -> Option<Env> {
    let mut e = env.clone();
    for _ in 0..depth {
        e = e.parent.clone()?;
    }
    Some(e)
}

/// Records that `v`, the result of a computation whose inputs were clean,
/// is clean with everything it reaches that was made in shared mode
/// (a bounded walk: what it does not reach stays as it was, which only
/// costs sharing).
pub fn stamp_clean(v: &Value) {
    let mut budget = 512usize;
    stamp(v, &mut budget);
}

fn stamp(v: &Value, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    match v {
        Value::Attrs(a) if a.birth() == Birth::Shared => {
            a.mark_clean();
            for x in a.iter() {
                stamp(&x.value, budget);
            }
        }
        Value::Native(n) if n.birth.get() == Birth::Shared => n.birth.set(Birth::SharedClean),
        Value::List(l) => {
            for x in l.iter().take(64) {
                stamp(x, budget);
            }
        }
        Value::Thunk(t) => {
            let done = t.peek(|s| match s {
                ThunkState::Done(v) => Some(v.clone()),
                _ => None,
            });
            match done {
                Some(v) => stamp(&v, budget),
                None => {
                    if t.peek(|s| matches!(s, ThunkState::NativeShared(_))) {
                        let ThunkState::NativeShared(f) = t.replace(ThunkState::Blank) else { unreachable!() };
                        t.set(ThunkState::Native(f));
                    }
                }
            }
        }
        _ => {}
    }
}

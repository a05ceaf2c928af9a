//! Sharing module evaluations between configurations.
//!
//! A fleet evaluates one configuration per machine, and every machine
//! imports mostly the same modules: the same module functions, called with
//! the same `lib` and `specialArgs` and only their own `config` and
//! `options`. Such a call is made once, in shared mode, with holes for
//! those arguments (a *template*); what it makes is used by every
//! configuration: as it is where it reaches no hole (the option
//! declarations, the shape of the definitions, `mkIf` pushed down), and
//! through a configuration's copy where it does (a condition reading
//! `config`, a value computed from it), see [`dendrite_eval::world`].
//!
//! Anything shared mode cannot do without a configuration (a module whose
//! `imports` or `config` shape depends on `config`) is done by each
//! configuration on its own copy, which is ordinary evaluation: sharing
//! changes how much work is done, never a result.

use std::cell::RefCell;
use std::rc::Rc;

use dendrite_eval::taint::{Taint, taint};
use dendrite_eval::value::{Attrs, Thunk, ThunkState, Value, set_shared_mode};
use dendrite_eval::world::{Plan, World, plan};
use dendrite_eval::{EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};
use rustc_hash::FxHashMap;

/// Thunks one shared attempt may force before it gives up (the module is
/// then evaluated per configuration).
pub const FUEL: usize = 1_000_000;

/// A value of a module as one evaluation sees it: its own (`w` is `None`),
/// or a template's, whose holes the configuration `w` fills.
#[derive(Clone)]
pub struct Src {
    /// The value.
    pub v: Value,
    /// The configuration, for a template's value.
    pub w: Option<Rc<World>>,
}

/// A module function kept alive beside its template (`None`: not shared).
type Made = (Value, Option<Rc<Template>>);

/// Interned signatures, and the values whose identities they hold.
#[derive(Default)]
struct Sigs {
    ids: FxHashMap<Vec<ArgKey>, u32>,
    keep: Vec<Value>,
}

/// A template value kept alive beside what was derived from it.
type Kept<T> = RefCell<FxHashMap<usize, (Value, T)>>;

thread_local! {
    /// Template values that could not be forced in shared mode.
    static UNSHARED: RefCell<FxHashMap<usize, Value>> = RefCell::new(FxHashMap::default());
    /// `pushDownProperties` of template values (`None`: needs a configuration).
    static PUSHED: Kept<Option<Rc<[Value]>>> = RefCell::new(FxHashMap::default());
    /// Module templates by function and arguments.
    static TEMPLATES: RefCell<FxHashMap<(usize, u32), Made>> = RefCell::new(FxHashMap::default());
    /// Interned argument signatures.
    static SIGS: RefCell<Sigs> = RefCell::new(Sigs::default());
    /// Values derived from template values once (a shorthand module's
    /// `config`), so that every configuration sees the same object.
    static DERIVED: RefCell<FxHashMap<(usize, u8), (Value, Value)>> = RefCell::new(FxHashMap::default());
}

impl Src {
    /// A value of the evaluation itself.
    pub fn own(v: Value) -> Src {
        Src { v, w: None }
    }

    /// A value of a template, used by configuration `w`.
    pub fn shared(v: Value, w: &Option<Rc<World>>) -> Src {
        Src { v, w: w.clone() }
    }

    /// A value found inside this one (an attribute, a list element).
    pub fn child(&self, v: Value) -> Src {
        Src { v, w: self.w.clone() }
    }

    /// Whether this is a template's value.
    pub fn is_shared(&self) -> bool {
        self.w.is_some()
    }

    /// The value in weak head normal form: shared when it can be forced
    /// without a configuration, the configuration's copy otherwise.
    pub fn force(&self, ev: &mut Evaluator) -> EvalResult<Src> {
        let Some(w) = &self.w else { return Ok(Src::own(ev.force(&self.v)?)) };
        let Value::Thunk(t) = &self.v else { return Ok(self.clone()) };
        if let Some(done) = t.value() {
            return Ok(self.child(done));
        }
        if let Some(copy) = w.copied(&self.v) {
            return Ok(Src::own(ev.force(&copy)?));
        }
        let key = t.as_ptr();
        // A chain of selections from a hole (a condition such as
        // `cfg.enable`): picked from this configuration's values.
        if let Some(plan) = plan_of(&self.v, key) {
            if let Some(v) = w.resolve(ev, &plan) {
                // On an error the copy is evaluated instead, for its message.
                if let Ok(forced) = ev.force(&v) {
                    w.remember(&self.v, &v);
                    return Ok(Src::own(forced));
                }
            }
            let copy = w.inst(&self.v)?;
            return Ok(Src::own(ev.force(&copy)?));
        }
        if taint(&self.v) == Taint::Clean {
            // Still a template's value: what is inside it may be shared too.
            return Ok(self.child(ev.force(&self.v)?));
        }
        if !UNSHARED.with(|u| u.borrow().contains_key(&key)) {
            match ev.in_shared_mode(FUEL, |ev| ev.force(&self.v)) {
                Ok(v) => return Ok(self.child(v)),
                // Whatever went wrong (a hole, an error), the
                // configuration's own evaluation decides.
                Err(_) => UNSHARED.with(|u| u.borrow_mut().insert(key, self.v.clone())),
            };
        }
        if let Some(v) = w.select_chain(ev, &self.v) {
            // On an error the copy is evaluated instead, for its message.
            if let Ok(v) = ev.force(&v) {
                return Ok(Src::own(v));
            }
        }
        let copy = w.inst(&self.v)?;
        Ok(Src::own(ev.force(&copy)?))
    }

    /// The value as the configuration sees it (its copy, for a template's
    /// value that reaches a hole).
    pub fn value(&self) -> EvalResult<Value> {
        match &self.w {
            None => Ok(self.v.clone()),
            Some(w) => w.inst(&self.v),
        }
    }

    /// Forces the value and returns attribute `name` of it, if it is a set
    /// that has one.
    pub fn attr(&self, ev: &mut Evaluator, name: Symbol) -> EvalResult<Option<Src>> {
        let f = self.force(ev)?;
        Ok(match &f.v {
            Value::Attrs(a) => a.get(name).map(|v| f.child(v.clone())),
            _ => None,
        })
    }
}

/// What a template thunk is known to be, kept alive beside it: a chain of
/// selections from a hole, or not (`None`).
type KnownPlan = (Value, Option<Rc<Plan>>);

thread_local! {
    static PLANS: RefCell<FxHashMap<usize, KnownPlan>> = RefCell::new(FxHashMap::default());
}

/// The chain of selections template thunk `v` (at address `key`) is, if
/// it is one; found once.
fn plan_of(v: &Value, key: usize) -> Option<Rc<Plan>> {
    if let Some((_, p)) = PLANS.with(|p| p.borrow().get(&key).cloned()) {
        return p;
    }
    let p = plan(v).map(Rc::new);
    PLANS.with(|m| m.borrow_mut().insert(key, (v.clone(), p.clone())));
    p
}

/// Runs `f`, which makes values from template values without evaluating
/// anything, in shared mode when `w` is a configuration (so that what it
/// makes is known to be a template's too).
pub fn making<T>(w: &Option<Rc<World>>, f: impl FnOnce() -> T) -> T {
    if w.is_none() {
        return f();
    }
    set_shared_mode(true);
    let r = f();
    set_shared_mode(false);
    r
}

/// A value derived from the template value `from` once (`kind` tells
/// derivations apart), so that configurations share it; for a value of
/// the evaluation itself (`w` is `None`), just `make()`.
pub fn derived(w: &Option<Rc<World>>, from: &Value, kind: u8, make: impl FnOnce() -> Value) -> Value {
    if w.is_none() {
        return make();
    }
    let Some(id) = from.identity() else { return make() };
    if let Some((_, v)) = DERIVED.with(|d| d.borrow().get(&(id, kind)).cloned()) {
        return v;
    }
    let v = make();
    DERIVED.with(|d| d.borrow_mut().insert((id, kind), (from.clone(), v.clone())));
    v
}

/// `pushDownProperties` of a template's value when it can be done without
/// a configuration; remembered per value when `keep` (for values that
/// other configurations push down too).
pub fn push_down_shared(ev: &mut Evaluator, src: &Src, span: Span, keep: bool) -> Option<Vec<Src>> {
    let key = src.v.identity();
    let cached = key.and_then(|k| PUSHED.with(|p| p.borrow().get(&k).map(|(_, r)| r.clone())));
    let shared = match cached {
        Some(r) => r,
        None => {
            let r = ev.in_shared_mode(FUEL, |ev| crate::props::push_down(ev, &src.v, span)).ok().map(Rc::from);
            if let Some(k) = key
                && keep
            {
                PUSHED.with(|p| p.borrow_mut().insert(k, (src.v.clone(), r.clone())));
            }
            r
        }
    };
    shared.map(|list| list.iter().map(|v| src.child(v.clone())).collect())
}

/// `pushDownProperties` of a module value: shared when it can be done
/// without a configuration.
pub fn push_down(ev: &mut Evaluator, src: &Src, span: Span) -> EvalResult<Vec<Src>> {
    let Some(w) = &src.w else {
        return Ok(crate::props::push_down(ev, &src.v, span)?.into_iter().map(Src::own).collect());
    };
    match push_down_shared(ev, src, span, true) {
        Some(list) => Ok(list),
        None => {
            let copy = w.inst(&src.v)?;
            Ok(crate::props::push_down(ev, &copy, span)?.into_iter().map(Src::own).collect())
        }
    }
}

/// One module argument as a configuration provides it.
pub struct Hole {
    /// The argument's name.
    pub name: Symbol,
    /// The hole standing for it in the template.
    pub hole: Value,
}

/// A module function called once with holes for the arguments that belong
/// to one configuration.
pub struct Template {
    /// The holes, by argument: first those of the signature's arguments
    /// (shared by every template of it), then the template's own.
    pub holes: Vec<Hole>,
    /// How many of `holes` are the signature's.
    pub shared_holes: usize,
    /// What the call returned, in weak head normal form.
    pub result: Value,
}

/// How an argument is compared between evaluations: by identity, or by
/// content for values that have none.
#[derive(Clone, PartialEq, Eq, Hash)]
enum ArgKey {
    Id(usize),
    Scalar(Vec<u8>),
    Set(Vec<(Symbol, ArgKey)>),
    List(Vec<ArgKey>),
}

fn arg_key(v: &Value, depth: u32) -> ArgKey {
    match v {
        Value::Null => ArgKey::Scalar(b"n".to_vec()),
        Value::Bool(b) => ArgKey::Scalar(vec![b'b', *b as u8]),
        Value::Int(i) => ArgKey::Scalar(format!("i{i}").into_bytes()),
        Value::Float(f) => ArgKey::Scalar(format!("f{}", f.to_bits()).into_bytes()),
        Value::String(s) if !s.has_context() => {
            let mut b = vec![b's'];
            b.extend_from_slice(s.as_bytes());
            ArgKey::Scalar(b)
        }
        Value::Path(p) => ArgKey::Scalar(format!("p{p}").into_bytes()),
        Value::Attrs(a) if depth > 0 => ArgKey::Set(a.iter().map(|x| (x.name, arg_key(&x.value, depth - 1))).collect()),
        Value::List(l) if depth > 0 && l.len() <= 16 => ArgKey::List(l.iter().map(|x| arg_key(x, depth - 1)).collect()),
        // By identity whether forced or not: a key must not change when
        // something forces the value between two evaluations.
        Value::Thunk(t) => ArgKey::Id(t.as_ptr()),
        other => ArgKey::Id(other.identity().unwrap_or(0)),
    }
}

/// The signature of the arguments every module of an evaluation gets
/// (all but those that belong to the configuration), interned: modules of
/// evaluations with the same signature can share templates.
pub fn signature(args: &Attrs, per_configuration: &[Symbol]) -> u32 {
    let mut key = Vec::with_capacity(args.len());
    let mut keep = Vec::new();
    for x in args.iter() {
        if per_configuration.contains(&x.name) {
            continue;
        }
        key.push(ArgKey::Set(vec![(x.name, arg_key(&x.value, 2))]));
        keep.push(x.value.clone());
    }
    SIGS.with(|s| {
        let mut s = s.borrow_mut();
        let next = s.ids.len() as u32;
        let id = *s.ids.entry(key).or_insert(next);
        if id == next {
            // Identities in the key stay valid while their values live.
            s.keep.extend(keep);
        }
        id
    })
}

/// The template of module function `f` for evaluations with argument
/// signature `sig`, made with `make` on first use (`None`: the module is
/// evaluated per configuration).
pub fn template(f: &Value, sig: u32, make: impl FnOnce() -> Option<Rc<Template>>) -> Option<Rc<Template>> {
    let id = f.identity()?;
    if let Some((_, t)) = TEMPLATES.with(|t| t.borrow().get(&(id, sig)).cloned()) {
        return t;
    }
    let t = make();
    TEMPLATES.with(|m| m.borrow_mut().insert((id, sig), (f.clone(), t.clone())));
    t
}

/// A new hole.
pub fn hole() -> Value {
    Value::Thunk(Thunk::new(ThunkState::Hole))
}

thread_local! {
    /// The holes of the arguments of a signature that belong to one
    /// configuration (`config`, `options`).
    static ARG_HOLES: RefCell<FxHashMap<(u32, Symbol), Value>> = RefCell::new(FxHashMap::default());
}

/// The hole standing for argument `name` in every template of signature
/// `sig`: a configuration fills it once for all of its modules.
pub fn arg_hole(sig: u32, name: Symbol) -> Value {
    ARG_HOLES.with(|h| h.borrow_mut().entry((sig, name)).or_insert_with(hole).clone())
}

/// The address of [`arg_hole`]'s hole.
pub fn arg_hole_id(sig: u32, name: Symbol) -> usize {
    match arg_hole(sig, name) {
        Value::Thunk(t) => t.as_ptr(),
        _ => 0,
    }
}

/// What identifies one level of the option tree independently of the
/// configuration: its location, `lib`, and its declarations and
/// definition sources by identity.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LevelKey {
    lib: usize,
    loc: u32,
    parts: Vec<(ArgKey, ArgKey, Option<Span>)>,
    sources: usize,
}

/// The key of a level made of these parts; `None` when a part is not a
/// template's value that reaches no hole. Looking a level up keeps
/// nothing alive: [`level_keep`] gives what to keep when it is stored.
pub fn level_key<'a>(
    lib: &Value,
    loc: &[String],
    decls: impl ExactSizeIterator<Item = (&'a Src, &'a Value, Option<Span>)>,
    sources: impl ExactSizeIterator<Item = (&'a Src, &'a Value)>,
) -> Option<LevelKey> {
    let clean_id = |s: &Src| -> Option<usize> {
        if !s.is_shared() || taint(&s.v) != Taint::Clean {
            return None;
        }
        s.v.identity()
    };
    // A module's file is one string object in every configuration (its
    // `_file`, or the interned fallback): told by its address (and kept
    // alive by the stored level), where its bytes would be copied and
    // hashed.
    let file_key = |file: &Value| match file {
        Value::String(s) => ArgKey::Id(s.identity()),
        other => arg_key(other, 1),
    };
    let n = sources.len();
    let mut parts = Vec::with_capacity(decls.len() + n);
    for (options, file, at) in decls {
        parts.push((ArgKey::Id(clean_id(options)?), file_key(file), at));
    }
    for (config, file) in sources {
        parts.push((ArgKey::Id(clean_id(config)?), file_key(file), None));
    }
    Some(LevelKey { lib: lib.identity()?, loc: loc_id(loc), parts, sources: n })
}

/// The values a stored level's key names by identity (its parts and
/// their files), which must stay alive so that no address is reused.
pub fn level_keep<'a>(
    decls: impl Iterator<Item = (&'a Src, &'a Value)>,
    sources: impl Iterator<Item = (&'a Src, &'a Value)>,
) -> Vec<Value> {
    decls.chain(sources).flat_map(|(part, file)| [part.v.clone(), file.clone()]).collect()
}

/// The number standing for an option location in level keys.
fn loc_id(loc: &[String]) -> u32 {
    thread_local! {
        static LOCS: RefCell<FxHashMap<Vec<String>, u32>> = RefCell::new(FxHashMap::default());
    }
    LOCS.with(|l| {
        if let Some(id) = l.borrow().get(loc) {
            return *id;
        }
        let mut l = l.borrow_mut();
        let id = l.len() as u32;
        l.insert(loc.to_vec(), id);
        id
    })
}

/// A level's result, kept with the values whose identities its key holds.
type Level = (Vec<Value>, Value, Value);

thread_local! {
    /// Levels of the option tree whose declarations and definitions are
    /// all templates' values that reach no hole: the same for every
    /// configuration that has them.
    static LEVELS: RefCell<FxHashMap<LevelKey, Level>> = RefCell::new(FxHashMap::default());
}

/// The shared result (`matched`, `unmatched`) of the level `key`, if one
/// was made.
pub fn cached_level(key: &LevelKey) -> Option<(Value, Value)> {
    LEVELS.with(|l| l.borrow().get(key).map(|(_, m, u)| (m.clone(), u.clone())))
}

/// Records the shared result of level `key`; `keep` holds the values
/// whose identities the key uses (from [`level_key`]).
pub fn store_level(key: LevelKey, keep: Vec<Value>, matched: Value, unmatched: Value) {
    if let Some(id) = matched.identity() {
        CONFIGS.with(|c| c.borrow_mut().insert(id, [None, None]));
    }
    LEVELS.with(|l| l.borrow_mut().insert(key, (keep, matched, unmatched)));
}

thread_local! {
    /// The `config` views (closed, open) of shared levels' options, by the
    /// options' identity (`None`: not made yet). Only shared levels have
    /// entries; `LEVELS` keeps their options alive.
    static CONFIGS: RefCell<FxHashMap<usize, [Option<Value>; 2]>> = RefCell::new(FxHashMap::default());
}

/// Makes the `config` views of the options `matched` (a level merged once
/// for every configuration that has it) be made once too.
pub fn register_level(matched: &Value) {
    if !matches!(matched, Value::Attrs(_)) {
        return;
    }
    if let Some(id) = matched.identity() {
        // Kept alive, so that no other set gets its address.
        KEEP.with(|k| k.borrow_mut().push(matched.clone()));
        CONFIGS.with(|c| c.borrow_mut().insert(id, [None, None]));
    }
}

thread_local! {
    /// Levels registered by [`register_level`].
    static KEEP: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// The `config` view of `matched` when it is a level merged once for every
/// configuration (made with `make` the first time), `None` otherwise.
pub fn shared_level_config(matched: &Value, open: bool, make: impl FnOnce() -> Value) -> Option<Value> {
    let id = matched.identity()?;
    let found = CONFIGS.with(|c| c.borrow().get(&id).map(|views| views[open as usize].clone()))?;
    Some(match found {
        Some(v) => v,
        None => {
            let v = make();
            CONFIGS.with(|c| {
                if let Some(views) = c.borrow_mut().get_mut(&id) {
                    views[open as usize] = Some(v.clone());
                }
            });
            v
        }
    })
}

/// The `config` view of the options `matched`, made with `make` once when
/// `matched` is a shared level's (so every configuration reads the same
/// values), every time otherwise.
pub fn level_config(matched: &Value, open: bool, make: impl FnOnce() -> Value) -> Value {
    let Some(id) = matched.identity() else { return make() };
    let found = CONFIGS.with(|c| c.borrow().get(&id).map(|views| views[open as usize].clone()));
    match found {
        None => make(),
        Some(Some(v)) => v,
        Some(None) => {
            let v = make();
            CONFIGS.with(|c| {
                if let Some(views) = c.borrow_mut().get_mut(&id) {
                    views[open as usize] = Some(v.clone());
                }
            });
            v
        }
    }
}

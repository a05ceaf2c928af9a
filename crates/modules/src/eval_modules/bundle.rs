//! Bundles: module trees that many configurations import whole (a
//! fleet's aggregates), used as they are instead of a copy per
//! configuration.
//!
//! A tree kept by the collection memo was collected without anything of
//! the configuration that collected it, so every configuration that
//! imports it gets the same modules. A [`Bundle`] is such a tree flattened
//! once (breadth first, first key wins, as `collectModules` does) and
//! grouped by level of the option tree once ([`BLevel`]): the names each
//! level declares and defines, and the children those names lead to.
//! A configuration's merge takes a bundle's level as one *part* beside
//! its own modules' declarations and definitions, so a fleet of M
//! machines importing aggregates of N features does the grouping N times,
//! not N×M; a name only one bundle has anything for, and whose parts reach
//! no hole, is merged once for every configuration.
//!
//! Order is what makes this exact. `collectModules` lists modules breadth
//! first; a bundle's modules of one depth come one after the other in that
//! list (its depth-d modules are the children of its depth-(d-1) ones, in
//! order). Each configuration numbers the *runs* of its list (one per own
//! module, one per bundle and depth, see [`flatten`]); an entry's place is
//! its run and its index in the bundle, and entries from several parts
//! are merged by place, so definitions come in the order a flat list
//! gives them.
//!
//! Keys are what makes it safe: a configuration uses its bundles only when
//! no key can occur twice across them and its own modules (explicit keys
//! disjoint, anonymous keys unique by their place) and nothing is
//! disabled; otherwise its bundles are copied as before (`replay`).

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use dendrite_eval::taint::{Taint, taint};
use dendrite_eval::value::{Attr, Attrs, NixString, Value};
use dendrite_eval::world::World;
use dendrite_eval::{EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};
use rustc_hash::{FxHashMap, FxHashSet};

use super::{
    ConfigDef, Decl, MergeNode, Module, NameResult, Structured, anon_key_bytes, defs_now, merge_one, pos_value,
};
use crate::props::Def;
use crate::share::{self, Src};

/// A module's key as a bundle knows it: fixed, or its instance's root key
/// followed by these bytes (anonymous modules under an anonymous root).
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) enum RelKey {
    Abs(Vec<u8>),
    Rel(Vec<u8>),
}

impl RelKey {
    fn child(&self, index: usize) -> RelKey {
        match self {
            RelKey::Abs(k) => RelKey::Abs(anon_key_bytes(k, index)),
            RelKey::Rel(k) => RelKey::Rel(anon_key_bytes(k, index)),
        }
    }

    /// The key in an instance whose root key is `root`.
    pub(super) fn in_instance(&self, root: &[u8]) -> Vec<u8> {
        match self {
            RelKey::Abs(k) => k.clone(),
            RelKey::Rel(suffix) => {
                let mut k = Vec::with_capacity(root.len() + suffix.len());
                k.extend_from_slice(root);
                k.extend_from_slice(suffix);
                k
            }
        }
    }
}

/// A remembered module tree, flattened and ready to be merged as a part.
pub(super) struct Bundle {
    /// The tree (its parts' configuration is a stand-in).
    pub(super) tree: Rc<Structured>,
    /// How many depths its flat list has.
    depths: usize,
    /// Keys given explicitly (not made from the importer's), but the
    /// root's: no other module of a configuration may have one.
    explicit: Vec<Vec<u8>>,
    /// Templates whose holes a configuration binds when it uses the
    /// bundle: the first one (for the signature's holes) and each with
    /// arguments of its own, with the key of the module that loads it.
    pub(super) holes: Vec<(Rc<share::Template>, RelKey)>,
    root: Rc<BLevel>,
}

/// Whether a part of a module is an empty set that is already evaluated.
fn is_empty_set(s: &Src) -> bool {
    matches!(&s.v, Value::Attrs(a) if a.is_empty())
}

impl Bundle {
    /// The bundle of memoized tree `tree`; `None` when it cannot be one: a
    /// key given explicitly that looks like an anonymous one, or a module
    /// with options or definitions whose file is its importer's (which
    /// differs between configurations).
    pub(super) fn build(tree: &Rc<Structured>) -> Option<Rc<Bundle>> {
        let root_key =
            if tree.module.key_inherited { RelKey::Rel(Vec::new()) } else { RelKey::Abs(tree.key.as_bytes().to_vec()) };
        let mut explicit = Vec::new();
        let mut holes: Vec<(Rc<share::Template>, RelKey)> = Vec::new();
        // Depth first, the order collection binds holes in.
        fn walk(
            s: &Structured,
            key: &RelKey,
            top: bool,
            explicit: &mut Vec<Vec<u8>>,
            holes: &mut Vec<(Rc<share::Template>, RelKey)>,
        ) -> Option<()> {
            if !s.module.key_inherited {
                let k = s.key.as_bytes();
                if k.windows(6).any(|w| w == b":anon-") {
                    return None;
                }
                if !top {
                    explicit.push(k.to_vec());
                }
            }
            if let Some(t) = &s.module.template
                && (holes.is_empty() || t.holes.len() > t.shared_holes)
                && !holes.iter().any(|(h, _)| Rc::ptr_eq(h, t))
            {
                holes.push((t.clone(), key.clone()));
            }
            for c in &s.children {
                let ck =
                    if c.module.key_inherited { key.child(c.index) } else { RelKey::Abs(c.key.as_bytes().to_vec()) };
                walk(c, &ck, false, explicit, holes)?;
            }
            Some(())
        }
        walk(tree, &root_key, true, &mut explicit, &mut holes)?;
        // Breadth first, first key wins.
        let mut seen: FxHashSet<RelKey> = FxHashSet::default();
        let mut decls = Vec::new();
        let mut sources = Vec::new();
        let mut flat: Vec<(Rc<Module>, u16)> = Vec::new();
        let mut queue = std::collections::VecDeque::new();
        queue.push_back((&**tree, root_key, 0u16, tree.module.file_inherited));
        while let Some((s, key, depth, file_outside)) = queue.pop_front() {
            if !seen.insert(key.clone()) {
                continue;
            }
            if file_outside && !(is_empty_set(&s.module.options) && is_empty_set(&s.module.config)) {
                return None;
            }
            flat.push((s.module.clone(), depth));
            for c in &s.children {
                let ck =
                    if c.module.key_inherited { key.child(c.index) } else { RelKey::Abs(c.key.as_bytes().to_vec()) };
                queue.push_back((&**c, ck, depth + 1, file_outside && c.module.file_inherited));
            }
        }
        let depths = flat.last().map_or(0, |(_, d)| *d as usize + 1);
        // Merging lists modules last first (`reverseList`).
        for (i, (m, depth)) in flat.iter().enumerate().rev() {
            let place = Place { index: i as u32, depth: *depth };
            let entry = |v: &Src| Entry {
                file: m.file.clone(),
                pos: Value::Null,
                at: None,
                v: v.clone(),
                place,
                cond: None,
                anchor: None,
            };
            decls.push(entry(&m.options));
            sources.push(entry(&m.config));
        }
        let root = BLevel::new(Vec::new(), decls, sources);
        Some(Rc::new(Bundle { tree: tree.clone(), depths, explicit, holes, root }))
    }

    /// The level of the option tree at the top.
    pub(super) fn root(&self) -> Rc<BLevel> {
        self.root.clone()
    }
}

/// Where an entry of a bundle comes from: its module's index in the
/// bundle's flat list and depth in the bundle.
#[derive(Clone, Copy)]
pub(super) struct Place {
    index: u32,
    depth: u16,
}

/// A declaration or definition source of a bundle's level.
#[derive(Clone)]
pub(super) struct Entry {
    file: Value,
    /// The declaring attribute's position as Nix gets it (declarations).
    pos: Value,
    /// The declaring or defining attribute.
    at: Option<Span>,
    v: Src,
    place: Place,
    /// For a definition that is `mkIf condition ...`: the condition.
    cond: Option<Value>,
    /// For a condition that selects `config.<at>.<name>...`: what is
    /// known of it where that level is merged once for every
    /// configuration.
    anchor: Option<Rc<Anchor>>,
}

/// A condition that is a chain of selections from `config`, through the
/// level `at` and its name `name`. Where `name` is merged once for every
/// configuration (by the one part that has it, in a combination of parts),
/// what the chain selects is the same in every configuration with that
/// combination: its value is remembered per combination, and per kind of
/// views (open in lenient configurations).
pub(super) struct Anchor {
    hole: usize,
    at: Symbol,
    name: Symbol,
    known: RefCell<smallvec::SmallVec<[(AnchorKey, bool); 1]>>,
}

/// Where an anchored condition's value holds: the shared level's result
/// (its address) and whether the configuration's views are open.
type AnchorKey = (usize, bool);

/// The anchor of condition `cond` of a template's definition.
fn anchor_of(cond: &Value) -> Option<Rc<Anchor>> {
    let plan = dendrite_eval::world::plan(cond)?;
    let (hole, path) = plan.parts();
    let [at, name, ..] = path[..] else { return None };
    Some(Rc::new(Anchor { hole, at, name, known: RefCell::new(smallvec::SmallVec::new()) }))
}

/// One configuration's use of a bundle: where its runs are in the
/// configuration's module list, and the configuration's copies.
pub(super) struct Inst {
    /// The run of each depth.
    runs: Vec<u32>,
    world: Rc<World>,
    /// The hole standing for the configuration's `config` in templates.
    config_hole: Option<usize>,
}

impl Inst {
    /// An entry's place in the configuration's module list.
    fn ord(&self, p: Place) -> u64 {
        ((self.runs[p.depth as usize] as u64) << 32) | p.index as u64
    }

    /// A part of a bundle's value as this configuration sees it.
    fn src(&self, s: &Src) -> Src {
        Src { v: s.v.clone(), w: s.w.as_ref().map(|_| self.world.clone()) }
    }

    fn decl(&self, e: &Entry) -> Decl {
        Decl { file: e.file.clone(), pos: e.pos.clone(), at: e.at, options: self.src(&e.v), ord: self.ord(e.place) }
    }

    fn source(&self, e: &Entry) -> ConfigDef {
        ConfigDef { file: e.file.clone(), config: self.src(&e.v), ord: self.ord(e.place) }
    }

    fn def(&self, e: &Entry) -> (u64, Def) {
        let d = Def { file: e.file.clone(), value: e.v.v.clone(), full: None, pos: e.at, world: self.src(&e.v).w };
        (self.ord(e.place), d)
    }
}

/// A bundle's level as one part of a configuration's level.
#[derive(Clone)]
pub(super) struct Part {
    pub(super) level: Rc<BLevel>,
    pub(super) inst: Rc<Inst>,
}

/// What a level's declarations and definitions are, grouped by name.
pub(super) struct Prep {
    /// Declared names, in order.
    names: Vec<Symbol>,
    decls: FxHashMap<Symbol, Vec<Entry>>,
    /// For each declared name: how many of its declarations are options,
    /// `None` when that cannot be told without a configuration (or one is
    /// neither an option nor a set of them).
    options: FxHashMap<Symbol, Option<usize>>,
    defs: FxHashMap<Symbol, Vec<Entry>>,
    /// Whether the level had any definition at all.
    any: bool,
    /// [`Filter`]s of `defs`, by name, anchor level's combination and
    /// kind of views.
    filters: RefCell<FxHashMap<(Symbol, usize, bool), Rc<Filter>>>,
    /// Where the conditions of `defs` are anchored, by name.
    anchored: RefCell<FxHashMap<Symbol, Anchored>>,
}

/// Where the conditional definitions of a name are anchored.
#[derive(Clone)]
enum Anchored {
    /// None is conditional.
    Nowhere,
    /// All at one level, through one hole; with the definitions by their
    /// anchor's name (sorted by name).
    At(Symbol, usize, Rc<[(Symbol, u32)]>),
    /// Some are not anchored, or not all alike.
    Mixed,
}

/// Which of a part's definitions of one name hold, for every
/// configuration whose anchor level has one combination of parts and one
/// kind of views: most definitions of a bundle are `mkIf`s of conditions
/// remembered for that combination, and a configuration need only look
/// at those anchored at its own names (see [`defs_of`]).
struct Filter {
    /// Definitions that hold wherever their anchor's name is not the
    /// configuration's own (or that have no condition), in order.
    fixed: Vec<u32>,
    /// Definitions each configuration decides on its own.
    volatile: Vec<u32>,
}

/// One level of the option tree as a bundle's modules make it.
pub(super) struct BLevel {
    prefix: Vec<String>,
    /// Declaration sources (sets of options), last module first.
    decls: Vec<Entry>,
    /// Definition sources, last module first.
    sources: Vec<Entry>,
    /// `None`: grouping needs a configuration, each does it on its own.
    prep: OnceCell<Option<Rc<Prep>>>,
    children: RefCell<FxHashMap<Symbol, Rc<BLevel>>>,
    /// Names merged once for every configuration (`None`: per configuration).
    shared: RefCell<FxHashMap<Symbol, Option<Rc<NameResult>>>>,
}

/// `v` in weak head normal form when no configuration is needed for it
/// and forcing it cannot fail: a template's value that reaches no hole or
/// can be evaluated in shared mode, or a value that is evaluated already.
pub(super) fn force_alone(ev: &mut Evaluator, s: &Src) -> Option<Src> {
    let Value::Thunk(t) = &s.v else { return Some(s.clone()) };
    if let Some(done) = t.value() {
        return Some(s.child(done));
    }
    // A memoized tree's own values need no configuration either, but
    // forcing them early could report an error nixpkgs never meets.
    s.w.as_ref()?;
    let v = s.v.clone();
    ev.in_shared_mode(share::FUEL, |ev| ev.force(&v)).ok().map(|v| s.child(v))
}

impl BLevel {
    fn new(prefix: Vec<String>, decls: Vec<Entry>, sources: Vec<Entry>) -> Rc<BLevel> {
        Rc::new(BLevel {
            prefix,
            decls,
            sources,
            prep: OnceCell::new(),
            children: RefCell::new(FxHashMap::default()),
            shared: RefCell::new(FxHashMap::default()),
        })
    }

    fn prep(&self, ev: &mut Evaluator, span: Span) -> Option<Rc<Prep>> {
        if let Some(p) = self.prep.get() {
            return p.clone();
        }
        let p = self.group(ev, span).map(Rc::new);
        let _ = self.prep.set(p.clone());
        p
    }

    /// `declsByName` and `rawDefinitionsByName` of the bundle's modules
    /// alone, when neither needs a configuration.
    fn group(&self, ev: &mut Evaluator, span: Span) -> Option<Prep> {
        let mut decls: FxHashMap<Symbol, Vec<Entry>> = FxHashMap::default();
        for d in &self.decls {
            let subtree = force_alone(ev, &d.v)?;
            let Value::Attrs(a) = &subtree.v else { return None };
            for x in a.iter() {
                let pos = pos_value(x.pos);
                let v = subtree.child(x.value.clone());
                let e = Entry { file: d.file.clone(), pos, at: x.pos, v, place: d.place, cond: None, anchor: None };
                decls.entry(x.name).or_default().push(e);
            }
        }
        let mut names: Vec<Symbol> = decls.keys().copied().collect();
        names.sort();
        let mut options = FxHashMap::default();
        for (name, entries) in &decls {
            options.insert(*name, count_options(ev, entries));
        }
        let mut defs: FxHashMap<Symbol, Vec<Entry>> = FxHashMap::default();
        let mut any = false;
        for src in &self.sources {
            for cfg in push_down_alone(ev, &src.v, span)? {
                any = true;
                let cfg = force_alone(ev, &cfg)?;
                let Value::Attrs(a) = &cfg.v else { return None };
                for x in a.iter() {
                    let cond = if_condition(&x.value);
                    let anchor = match &cond {
                        Some(c) if cfg.is_shared() => anchor_of(c),
                        _ => None,
                    };
                    let e = Entry {
                        file: src.file.clone(),
                        pos: Value::Null,
                        at: x.pos,
                        v: cfg.child(x.value.clone()),
                        place: src.place,
                        cond,
                        anchor,
                    };
                    defs.entry(x.name).or_default().push(e);
                }
            }
        }
        Some(Prep { names, decls, options, defs, any, filters: RefCell::default(), anchored: RefCell::default() })
    }

    /// The level below, at `name`.
    fn child(&self, prep: &Prep, name: Symbol) -> Rc<BLevel> {
        if let Some(c) = self.children.borrow().get(&name) {
            return c.clone();
        }
        let mut prefix = self.prefix.clone();
        prefix.push(name.to_string());
        let decls = prep.decls.get(&name).cloned().unwrap_or_default();
        let sources = prep.defs.get(&name).cloned().unwrap_or_default();
        let c = BLevel::new(prefix, decls, sources);
        self.children.borrow_mut().insert(name, c.clone());
        c
    }

    /// `name` merged once for every configuration, when its declarations
    /// and definitions (all this bundle's) reach no hole.
    fn shared_name(
        &self,
        ev: &mut Evaluator,
        lib: &Value,
        prep: &Prep,
        name: Symbol,
        span: Span,
    ) -> Option<Rc<NameResult>> {
        if let Some(r) = self.shared.borrow().get(&name) {
            return r.clone();
        }
        let clean = |e: &Entry| e.v.w.is_none() || taint(&e.v.v) == Taint::Clean;
        let decls = prep.decls.get(&name).map_or(&[][..], |d| &d[..]);
        let defs = prep.defs.get(&name).map_or(&[][..], |d| &d[..]);
        let r = if decls.iter().all(clean) && defs.iter().all(clean) {
            // Made with a stand-in configuration, which values that reach
            // no hole never consult.
            let depths = self.decls.iter().chain(&self.sources).map(|e| e.place.depth as usize + 1).max().unwrap_or(1);
            let inst = Inst { runs: vec![0; depths], world: World::new(), config_hole: None };
            let own: Vec<Decl> = decls.iter().map(|e| inst.decl(e)).collect();
            let sources: Vec<ConfigDef> = defs.iter().map(|e| inst.source(e)).collect();
            let provider = defs_now(defs.iter().map(|e| inst.def(e).1).collect());
            let nested = |_: &mut Evaluator| Ok((sources.clone(), Vec::new()));
            match merge_one(ev, lib, &self.prefix, name, &own, 0, provider, &nested, None, span) {
                Ok(r) => {
                    share::register_level(&r.matched);
                    Some(Rc::new(r))
                }
                Err(_) => None,
            }
        } else {
            None
        };
        self.shared.borrow_mut().insert(name, r.clone());
        r
    }
}

/// The condition of `v` when it is a pushed-down `mkIf` (a set whose
/// `_type` is the string `if`, evaluated already).
fn if_condition(v: &Value) -> Option<Value> {
    let Value::Attrs(a) = v else { return None };
    let (t, c) = crate::props::names(|n| (n.type_, n.condition));
    match a.get(t) {
        Some(Value::String(s)) if s.as_bytes() == b"if" => a.get(c).cloned(),
        _ => None,
    }
}

/// How many of a name's declarations are options, if each is known to be
/// an option or a set without `_type` without a configuration.
fn count_options(ev: &mut Evaluator, entries: &[Entry]) -> Option<usize> {
    let mut n = 0;
    for e in entries {
        let v = force_alone(ev, &e.v)?;
        let Value::Attrs(a) = &v.v else { return None };
        if let Some(t) = a.get(Symbol::new("_type")) {
            let t = force_alone(ev, &v.child(t.clone()))?;
            match &t.v {
                Value::String(s) if s.as_bytes() == b"option" => n += 1,
                _ => return None,
            }
        }
    }
    Some(n)
}

/// `pushDownProperties` of a bundle's or a configuration's value, when it
/// needs no configuration (each is pushed down once: nothing is kept).
pub(super) fn push_down_alone(ev: &mut Evaluator, s: &Src, span: Span) -> Option<Vec<Src>> {
    if s.w.is_none() {
        // A memoized tree's own value: only a set that is evaluated and
        // has no properties is pushed down without evaluating anything.
        let v = force_alone(ev, s)?;
        return match &v.v {
            Value::Attrs(a) if a.get(Symbol::new("_type")).is_none() => Some(vec![v]),
            _ => None,
        };
    }
    share::push_down_shared(ev, s, span, false)
}

/// A configuration's use of its bundles, from its collected tree.
pub(super) struct Flat {
    /// Own modules, in list order, with their places.
    pub(super) own: Vec<(Rc<Module>, u64)>,
    /// Bundles used, with their runs.
    pub(super) parts: Vec<(Rc<Bundle>, Rc<Inst>)>,
}

/// `collectModules`' flattening of a tree with bundles in it (breadth
/// first, first key wins), or `None` when a key could occur in two places
/// across bundles and own modules (the bundles are then copied instead).
pub(super) fn flatten(structured: &[Rc<Structured>], world: &Rc<World>, config_hole: Option<usize>) -> Option<Flat> {
    enum Item<'a> {
        Node(&'a Structured),
        Bundle(usize, usize),
    }
    let mut seen: FxHashSet<&[u8]> = FxHashSet::default();
    let mut own = Vec::new();
    let mut insts: Vec<(Rc<Bundle>, Vec<u32>)> = Vec::new();
    let mut run: u32 = 0;
    let mut level: Vec<Item> = structured.iter().map(|s| Item::Node(s)).collect();
    while !level.is_empty() {
        let mut next = Vec::new();
        for item in level {
            match item {
                Item::Node(s) => {
                    if !s.module.key_inherited && s.key.as_bytes().windows(6).any(|w| w == b":anon-") {
                        return None;
                    }
                    if !seen.insert(s.key.as_bytes()) {
                        continue;
                    }
                    match &s.bundle {
                        Some(b) => {
                            insts.push((b.bundle.clone(), vec![run]));
                            if b.bundle.depths > 1 {
                                next.push(Item::Bundle(insts.len() - 1, 1));
                            }
                        }
                        None => {
                            own.push((s.module.clone(), (run as u64) << 32));
                            next.extend(s.children.iter().map(|c| Item::Node(c)));
                        }
                    }
                    run += 1;
                }
                Item::Bundle(i, depth) => {
                    insts[i].1.push(run);
                    run += 1;
                    if depth + 1 < insts[i].0.depths {
                        next.push(Item::Bundle(i, depth + 1));
                    }
                }
            }
        }
        level = next;
    }
    // Explicit keys inside bundles must be nobody else's.
    let mut explicit: FxHashSet<&[u8]> = FxHashSet::default();
    for (b, _) in &insts {
        for k in &b.explicit {
            if seen.contains(&k[..]) || !explicit.insert(&k[..]) {
                return None;
            }
        }
    }
    let parts =
        insts.into_iter().map(|(b, runs)| (b, Rc::new(Inst { runs, world: world.clone(), config_hole }))).collect();
    Some(Flat { own, parts })
}

/// A bundle where its tree was imported: what a configuration needs to
/// copy it (for `graph`, or when it cannot use it as a part).
pub(super) struct Use {
    pub(super) bundle: Rc<Bundle>,
    pub(super) parent_file: Value,
    pub(super) parent_key: NixString,
}

/// A part's entries for one name, as this configuration's.
impl Part {
    pub(super) fn prep(&self, ev: &mut Evaluator, span: Span) -> Option<Rc<Prep>> {
        self.level.prep(ev, span)
    }

    /// Every declaration and definition source of the level, as the
    /// configuration's own (when the bundle cannot be grouped alone).
    pub(super) fn expand(&self) -> (Vec<Decl>, Vec<ConfigDef>) {
        (
            self.level.decls.iter().map(|e| self.inst.decl(e)).collect(),
            self.level.sources.iter().map(|e| self.inst.source(e)).collect(),
        )
    }
}

/// What the parts of a level have for one name.
pub(super) struct PartsOfName {
    /// The parts (by index) with declarations or definitions of the name.
    pub(super) parts: Vec<usize>,
    /// How many of their declarations there are, and how many are options
    /// (`None`: not known without a configuration).
    pub(super) decls: usize,
    pub(super) options: Option<usize>,
}

/// What a combination of parts declares: every name, in order, with the
/// one part that alone declares or defines it (`None`: several do).
pub(super) struct Combo {
    pub(super) names: Vec<(Symbol, Option<usize>)>,
    /// The parts' levels, kept alive for the key.
    _levels: Vec<Rc<BLevel>>,
    /// [`Combo::shared`]'s answers (`0`: not shared).
    shared: RefCell<FxHashMap<Symbol, usize>>,
    /// [`Combo::unmatched`], once known.
    unmatched: OnceCell<Rc<Vec<(Symbol, Value)>>>,
    /// [`Combo::layer`], once known.
    layer: OnceCell<Rc<Layer>>,
}

/// A combination's names split by whether they are merged once for every
/// configuration.
pub(super) struct Layer {
    /// The shared names' merged options: the lower layer of every level
    /// with this combination (a configuration's own names go above).
    pub(super) base: Option<Rc<Attrs>>,
    /// The other names, in order, with the one part that alone has
    /// anything for each.
    pub(super) rest: Vec<(Symbol, Option<usize>)>,
}

impl Combo {
    /// The names merged once for every configuration with this
    /// combination whose unmatched definitions are not none, with those
    /// (a list): what a configuration that has nothing of its own for
    /// them adds to its level's unmatched definitions. `node` is a level
    /// with this combination.
    pub(super) fn unmatched(&self, ev: &mut Evaluator, node: &MergeNode) -> EvalResult<Rc<Vec<(Symbol, Value)>>> {
        if let Some(u) = self.unmatched.get() {
            return Ok(u.clone());
        }
        let mut out = Vec::new();
        for &(name, single) in &self.names {
            let Some(i) = single else { continue };
            let Some(r) = shared_name(ev, &node.lib, &node.parts[i], &node.preps[i], name, node.span) else { continue };
            let list = ev.force(&r.unmatched)?;
            if !matches!(&list, Value::List(l) if l.is_empty()) {
                out.push((name, list));
            }
        }
        let out = Rc::new(out);
        let _ = self.unmatched.set(out.clone());
        Ok(out)
    }

    /// The names of this combination merged once for every configuration
    /// that has nothing of its own for them, and the others. `node` is a
    /// level with this combination.
    pub(super) fn layer(&self, ev: &mut Evaluator, node: &MergeNode) -> Rc<Layer> {
        if let Some(l) = self.layer.get() {
            return l.clone();
        }
        let mut base = Vec::new();
        let mut rest = Vec::new();
        for &(name, single) in &self.names {
            match single.and_then(|i| shared_name(ev, &node.lib, &node.parts[i], &node.preps[i], name, node.span)) {
                Some(r) => base.push(Attr::new(name, r.matched.clone())),
                None => rest.push((name, single)),
            }
        }
        let base = (!base.is_empty()).then(|| Rc::new(Attrs::from_sorted(base)));
        if let Some(b) = &base {
            // Its `config` view is made once too.
            share::register_level(&Value::Attrs(b.clone()));
        }
        let l = Rc::new(Layer { base, rest });
        let _ = self.layer.set(l.clone());
        l
    }

    /// The address of `name` merged once for every configuration with
    /// this combination (`parts` are one's, in this combination's order)
    /// that has nothing of its own for it, if it is (kept alive by its
    /// bundle's level, so the address stays its own).
    fn shared(&self, parts: &[Part], name: Symbol) -> Option<usize> {
        if let Some(&p) = self.shared.borrow().get(&name) {
            return (p != 0).then_some(p);
        }
        let found = (|| {
            let i = self.names.binary_search_by(|(n, _)| n.cmp(&name)).ok()?;
            let part = self.names[i].1?;
            let r = parts[part].level.shared.borrow().get(&name).cloned().flatten()?;
            Some(Rc::as_ptr(&r) as usize)
        })();
        // Only a settled answer is kept: a name not merged yet may be later.
        if let Some(p) = found {
            self.shared.borrow_mut().insert(name, p);
        }
        found
    }
}

thread_local! {
    /// Combinations by their parts' levels: every configuration that
    /// imports the same bundles has the same ones.
    static COMBOS: RefCell<FxHashMap<Vec<usize>, Rc<Combo>>> = RefCell::new(FxHashMap::default());
}

/// The combination of the prepared `parts`.
pub(super) fn combo(parts: &[Part], preps: &[Rc<Prep>]) -> Rc<Combo> {
    let key: Vec<usize> = parts.iter().map(|p| Rc::as_ptr(&p.level) as usize).collect();
    if let Some(c) = COMBOS.with(|c| c.borrow().get(&key).cloned()) {
        return c;
    }
    let mut all: Vec<Symbol> = preps.iter().flat_map(|p| p.names.iter().copied()).collect();
    if preps.len() > 1 {
        all.sort();
        all.dedup();
    }
    let names = all
        .into_iter()
        .map(|name| {
            let of = of_name(preps, name);
            (name, if let [i] = of.parts[..] { Some(i) } else { None })
        })
        .collect();
    let c = Rc::new(Combo {
        names,
        _levels: parts.iter().map(|p| p.level.clone()).collect(),
        shared: RefCell::new(FxHashMap::default()),
        unmatched: OnceCell::new(),
        layer: OnceCell::new(),
    });
    COMBOS.with(|m| m.borrow_mut().insert(key, c.clone()));
    c
}

/// Names the prepared parts define, in no order.
pub(super) fn defined_names(preps: &[Rc<Prep>]) -> FxHashSet<Symbol> {
    preps.iter().flat_map(|p| p.defs.keys().copied()).collect()
}

/// Whether any prepared part had a definition.
pub(super) fn any_defs(preps: &[Rc<Prep>]) -> bool {
    preps.iter().any(|p| p.any)
}

/// What the prepared parts have for `name`.
pub(super) fn of_name(preps: &[Rc<Prep>], name: Symbol) -> PartsOfName {
    let mut parts = Vec::new();
    let mut decls = 0;
    let mut options = Some(0);
    for (i, p) in preps.iter().enumerate() {
        let d = p.decls.get(&name).map_or(0, Vec::len);
        if d > 0 || p.defs.contains_key(&name) {
            parts.push(i);
        }
        if d > 0 {
            decls += d;
            options = match (options, p.options.get(&name).copied().flatten()) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
    }
    PartsOfName { parts, decls, options }
}

/// The declarations of `name` in the parts `which`, as the configuration's.
pub(super) fn decls_of(parts: &[Part], preps: &[Rc<Prep>], which: &[usize], name: Symbol) -> Vec<Decl> {
    let mut out = Vec::new();
    for &i in which {
        if let Some(es) = preps[i].decls.get(&name) {
            out.extend(es.iter().map(|e| parts[i].inst.decl(e)));
        }
    }
    out
}

/// An anchor's level in a configuration, and whether its views are open.
type AnchorLevel = (Rc<MergeNode>, bool);

/// The definitions of `name` in the parts of `node`, as the
/// configuration's, with their places. `live`: without those that are
/// `mkIf` of a condition that is false here (which discharging would
/// drop; one whose condition fails to evaluate is kept, for the error to
/// come where it does).
pub(super) fn defs_of(ev: &mut Evaluator, node: &MergeNode, name: Symbol, live: bool) -> Vec<Vec<(u64, Def)>> {
    let mut out = Vec::new();
    // The last anchor level looked up, as definitions mostly share it.
    let mut last: Option<(Symbol, Option<AnchorLevel>)> = None;
    for (p, prep) in node.parts.iter().zip(&node.preps) {
        let Some(es) = prep.defs.get(&name) else { continue };
        if live && let Some(defs) = filtered(ev, node, p, prep, name, es) {
            out.push(defs);
            continue;
        }
        let mut defs = Vec::with_capacity(if live { 0 } else { es.len() });
        for e in es.iter() {
            if live && let Some(c) = &e.cond {
                let anchored = match &e.anchor {
                    Some(a) if Some(a.hole) == p.inst.config_hole => {
                        if last.as_ref().is_none_or(|(at, _)| *at != a.at) {
                            last = Some((a.at, node.anchor(a.at)));
                        }
                        last.as_ref().and_then(|(_, n)| n.clone()).map(|n| (a, n))
                    }
                    _ => None,
                };
                let holds = match anchored {
                    Some((a, (n, open))) => anchored_condition(ev, p, e, c, a, &n, open),
                    None => condition(ev, p, e, c),
                };
                if holds == Some(false) {
                    continue;
                }
            }
            defs.push(p.inst.def(e));
        }
        out.push(defs);
    }
    out
}

/// [`defs_of`]'s live definitions of part `p` through its [`Filter`], when
/// every conditional definition is anchored at one level, this one's
/// `config`, and that level's names are known.
fn filtered(
    ev: &mut Evaluator,
    node: &MergeNode,
    p: &Part,
    prep: &Prep,
    name: Symbol,
    es: &[Entry],
) -> Option<Vec<(u64, Def)>> {
    let known = prep.anchored.borrow().get(&name).cloned();
    let anchored = known.unwrap_or_else(|| {
        let mut level: Option<(Symbol, usize)> = None;
        let mut by_anchor = Vec::new();
        let mut mixed = false;
        for (i, e) in es.iter().enumerate().filter(|(_, e)| e.cond.is_some()) {
            match (&e.anchor, level) {
                (Some(a), None) => level = Some((a.at, a.hole)),
                (Some(a), Some((at, hole))) if a.at == at && a.hole == hole => {}
                _ => {
                    mixed = true;
                    break;
                }
            }
            by_anchor.extend(e.anchor.as_ref().map(|a| (a.name, i as u32)));
        }
        by_anchor.sort_unstable();
        let at = match level {
            _ if mixed => Anchored::Mixed,
            None => Anchored::Nowhere,
            Some((at, hole)) => Anchored::At(at, hole, by_anchor.into()),
        };
        prep.anchored.borrow_mut().insert(name, at.clone());
        at
    });
    let (n, open, by_anchor) = match anchored {
        Anchored::At(at, hole, by_anchor) if Some(hole) == p.inst.config_hole => {
            let (n, open) = node.anchor(at)?;
            (n, open, by_anchor)
        }
        // Nothing conditional: every definition holds.
        Anchored::Nowhere => return Some(es.iter().map(|e| p.inst.def(e)).collect()),
        _ => return None,
    };
    let (combo, own) = (n.combo.get()?, n.own_names.get()?);
    let key = (name, Rc::as_ptr(combo) as usize, open);
    let known = prep.filters.borrow().get(&key).cloned();
    let f = match known {
        Some(f) => f,
        None => {
            let mut f = Filter { fixed: Vec::new(), volatile: Vec::new() };
            for (i, e) in es.iter().enumerate() {
                let i = i as u32;
                let (Some(c), Some(a)) = (&e.cond, &e.anchor) else {
                    f.fixed.push(i);
                    continue;
                };
                // Here an own name's value is this configuration's, not
                // the one every other configuration has.
                if own.contains(&a.name) || combo.shared(&n.parts, a.name).is_none() {
                    f.volatile.push(i);
                } else if anchored_condition(ev, p, e, c, a, &n, open) != Some(false) {
                    f.fixed.push(i);
                }
            }
            let f = Rc::new(f);
            prep.filters.borrow_mut().insert(key, f.clone());
            f
        }
    };
    // The definitions anchored at this configuration's own names, and the
    // volatile ones, are decided here; the fixed ones hold.
    let mut decide: Vec<u32> = f.volatile.clone();
    for o in own {
        let from = by_anchor.partition_point(|(n, _)| n < o);
        decide.extend(by_anchor[from..].iter().take_while(|(n, _)| n == o).map(|(_, i)| *i));
    }
    decide.sort_unstable();
    decide.dedup();
    let mut holding: Vec<u32> = f.fixed.iter().copied().filter(|i| decide.binary_search(i).is_err()).collect();
    for &i in &decide {
        let e = &es[i as usize];
        let holds = match (&e.cond, &e.anchor) {
            (Some(c), Some(a)) => anchored_condition(ev, p, e, c, a, &n, open),
            _ => Some(true),
        };
        if holds != Some(false) {
            holding.push(i);
        }
    }
    holding.sort_unstable();
    Some(holding.into_iter().map(|i| p.inst.def(&es[i as usize])).collect())
}

/// The value of definition `e`'s condition `c` here, if it evaluates to a
/// Boolean.
fn condition(ev: &mut Evaluator, p: &Part, e: &Entry, c: &Value) -> Option<bool> {
    match p.inst.src(&e.v.child(c.clone())).force(ev) {
        Ok(Src { v: Value::Bool(b), .. }) => Some(b),
        _ => None,
    }
}

/// [`condition`] of a condition with anchor `a`, whose level `at` is `n`
/// here: remembered for the level its name is where that is merged once
/// for every configuration (and nothing of this one's has it), and for
/// the kind of views of it the configuration has (`open`, lenient).
fn anchored_condition(
    ev: &mut Evaluator,
    p: &Part,
    e: &Entry,
    c: &Value,
    a: &Anchor,
    n: &MergeNode,
    open: bool,
) -> Option<bool> {
    let shared = match (n.combo.get(), n.own_names.get()) {
        (Some(combo), Some(own)) if !own.contains(&a.name) => combo.shared(&n.parts, a.name),
        _ => None,
    };
    let Some(key) = shared.map(|k| (k, open)) else { return condition(ev, p, e, c) };
    if let Some((_, b)) = a.known.borrow().iter().find(|(k, _)| *k == key) {
        return Some(*b);
    }
    let b = condition(ev, p, e, c)?;
    a.known.borrow_mut().push((key, b));
    Some(b)
}

/// The parts of the level below, at `name`.
pub(super) fn children(parts: &[Part], preps: &[Rc<Prep>], which: &[usize], name: Symbol) -> Vec<Part> {
    which.iter().map(|&i| Part { level: parts[i].level.child(&preps[i], name), inst: parts[i].inst.clone() }).collect()
}

/// `name` merged once for every configuration, when one part alone has
/// anything for it and that reaches no hole.
pub(super) fn shared_name(
    ev: &mut Evaluator,
    lib: &Value,
    part: &Part,
    prep: &Prep,
    name: Symbol,
    span: Span,
) -> Option<Rc<NameResult>> {
    part.level.shared_name(ev, lib, prep, name, span)
}

/// Lists sorted last place first, merged into one such list.
pub(super) fn merge_by_place<T>(lists: Vec<Vec<(u64, T)>>) -> Vec<(u64, T)> {
    let mut lists: Vec<std::iter::Peekable<std::vec::IntoIter<(u64, T)>>> =
        lists.into_iter().filter(|l| !l.is_empty()).map(|l| l.into_iter().peekable()).collect();
    if lists.len() == 1 {
        return lists.pop().map(|l| l.collect()).unwrap_or_default();
    }
    let total = lists.iter().map(|l| l.len()).sum();
    let mut out = Vec::with_capacity(total);
    loop {
        let mut best: Option<(usize, u64)> = None;
        for (i, l) in lists.iter_mut().enumerate() {
            if let Some((o, _)) = l.peek()
                && best.is_none_or(|(_, b)| *o > b)
            {
                best = Some((i, *o));
            }
        }
        let Some((i, _)) = best else { break };
        out.extend(lists[i].next());
    }
    out
}

//! Runtime values.
//!
//! Values are cheap to clone (one word of payload behind an `Rc` at most).
//! Laziness lives in [`Thunk`]: a shared cell that is overwritten with its
//! result the first time it is forced, and black-holed while it is being
//! evaluated so that a cycle is reported instead of looping.

use std::collections::BTreeSet;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use dendrite_syntax::ir::{Expr, LambdaExpr};
use dendrite_syntax::lower::Lowered;
use dendrite_syntax::{Span, Symbol};

use crate::error::EvalResult;
use crate::eval::Evaluator;

/// A Nix value, possibly not yet evaluated ([`Value::Thunk`]).
#[derive(Clone)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// A string with its context.
    String(NixString),
    /// An absolute, canonical path.
    Path(PathStr),
    /// An attribute set.
    Attrs(Rc<Attrs>),
    /// A list.
    List(List),
    /// A closure.
    Lambda(Rc<Closure>),
    /// A builtin.
    PrimOp(&'static PrimOp),
    /// A partially applied builtin.
    PrimOpApp(Rc<PrimOpApp>),
    /// A function implemented in Rust that captures state.
    Native(Rc<NativeFn>),
    /// A delayed computation.
    Thunk(Thunk),
}

/// A list value.
pub type List = Rc<Vec<Value>>;

/// The text of a path value: one pointer wide (an `Rc<str>` would be two
/// and make every `Value` 24 bytes instead of 16).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct PathStr(Rc<Box<str>>);

impl std::ops::Deref for PathStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for PathStr {
    fn from(s: &str) -> Self {
        PathStr(Rc::new(Box::from(s)))
    }
}

impl fmt::Display for PathStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

/// The type names Nix reports (`builtins.typeOf` and error messages).
impl Value {
    /// `builtins.typeOf` of a forced value.
    pub fn type_of(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Path(_) => "path",
            Value::Attrs(_) => "set",
            Value::List(_) => "list",
            Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_) | Value::Native(_) => "lambda",
            Value::Thunk(_) => "thunk",
        }
    }

    /// The article-prefixed description used in "expected a set but found ..." messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a Boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::String(_) => "a string",
            Value::Path(_) => "a path",
            Value::Attrs(_) => "a set",
            Value::List(_) => "a list",
            Value::Lambda(_) | Value::Native(_) => "a function",
            Value::PrimOp(_) => "a built-in function",
            Value::PrimOpApp(_) => "a partially applied built-in function",
            Value::Thunk(_) => "a thunk",
        }
    }

    /// Whether this is any kind of function.
    pub fn is_function(&self) -> bool {
        matches!(self, Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_) | Value::Native(_))
    }

    /// A string value without context.
    pub fn string(s: impl Into<Vec<u8>>) -> Value {
        Value::String(NixString::new(s.into()))
    }

    /// An attribute set from unsorted entries (later duplicates win).
    pub fn attrs(entries: Vec<Attr>) -> Value {
        Value::Attrs(Rc::new(Attrs::from_unsorted(entries)))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    /// Identity of the heap object behind this value, if any (for
    /// `«repeated»` detection and the value-identity shortcut of `==`).
    pub fn identity(&self) -> Option<usize> {
        match self {
            Value::Thunk(t) => Some(t.as_ptr()),
            Value::Attrs(a) => Some(Rc::as_ptr(a) as *const u8 as usize),
            Value::List(l) => Some(Rc::as_ptr(l) as *const u8 as usize),
            Value::Lambda(l) => Some(Rc::as_ptr(l) as *const u8 as usize),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::String(s) => write!(f, "{:?}", s.to_str_lossy()),
            Value::Path(p) => write!(f, "{p}"),
            Value::Attrs(a) => write!(f, "{{ {} attrs }}", a.len()),
            Value::List(l) => write!(f, "[ {} items ]", l.len()),
            Value::Lambda(_) => write!(f, "<LAMBDA>"),
            Value::PrimOp(p) => write!(f, "<PRIMOP {}>", p.name),
            Value::PrimOpApp(_) => write!(f, "<PRIMOP-APP>"),
            Value::Native(n) => write!(f, "<NATIVE {}>", n.name),
            Value::Thunk(_) => write!(f, "<THUNK>"),
        }
    }
}

// ------------------------------------------------------------------ strings

/// One element of a string's context, in Nix's encoded form: a plain store
/// path, `=<drv>` (the derivation and all its outputs), or `!<out>!<drv>`.
pub type ContextElem = Rc<str>;

/// A string's context: the store paths it refers to.
pub type Context = BTreeSet<ContextElem>;

/// A Nix string: bytes plus context.
#[derive(Clone)]
pub struct NixString(Rc<StrInner>);

/// String bytes; short strings (most attribute names and values) are stored
/// inline, so a string is a single allocation.
type StrBytes = smallvec::SmallVec<[u8; 24]>;

struct StrInner {
    bytes: StrBytes,
    context: Option<Box<Context>>,
}

impl NixString {
    /// A string without context.
    pub fn new(bytes: Vec<u8>) -> NixString {
        NixString(Rc::new(StrInner { bytes: StrBytes::from_vec(bytes), context: None }))
    }

    /// A string without context, copied from a slice.
    pub fn from_bytes(bytes: &[u8]) -> NixString {
        NixString(Rc::new(StrInner { bytes: StrBytes::from_slice(bytes), context: None }))
    }

    /// A string with context (an empty context is dropped).
    pub fn with_context(bytes: Vec<u8>, context: Context) -> NixString {
        let context = if context.is_empty() { None } else { Some(Box::new(context)) };
        NixString(Rc::new(StrInner { bytes: StrBytes::from_vec(bytes), context }))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0.bytes
    }

    /// The text, replacing invalid UTF-8.
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        // The common valid case is checked by the faster validator first.
        match std::str::from_utf8(&self.0.bytes) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(&self.0.bytes),
        }
    }

    /// The context, if any.
    pub fn context(&self) -> Option<&Context> {
        self.0.context.as_deref()
    }

    /// Whether the string carries context.
    pub fn has_context(&self) -> bool {
        self.0.context.is_some()
    }

    /// The address of this string object (equal for clones of one string).
    pub fn identity(&self) -> usize {
        Rc::as_ptr(&self.0) as usize
    }
}

impl From<&str> for NixString {
    fn from(s: &str) -> Self {
        NixString::from_bytes(s.as_bytes())
    }
}

impl From<String> for NixString {
    fn from(s: String) -> Self {
        NixString::new(s.into_bytes())
    }
}

// ------------------------------------------------------------ attribute sets

/// One attribute.
#[derive(Clone)]
pub struct Attr {
    /// Its name.
    pub name: Symbol,
    /// Its value.
    pub value: Value,
    /// Where it was defined, if known.
    pub pos: Option<Span>,
}

impl Attr {
    /// An attribute without a known position.
    pub fn new(name: Symbol, value: Value) -> Attr {
        Attr { name, value, pos: None }
    }
}

/// Attribute storage; sets of one or two attributes (`{ name, value }`
/// pairs, options' small records) need no second allocation.
pub type AttrVec = smallvec::SmallVec<[Attr; 2]>;

/// An attribute set: entries sorted by name bytes, names unique.
#[derive(Clone, Default)]
pub struct Attrs {
    entries: AttrVec,
    /// An open set stands for a value dendrite knows only in part (a
    /// configuration whose options come from a framework it does not
    /// model): selecting a missing name is "unknown", not an error.
    open: bool,
    /// Where the set was made (see [`Birth`]).
    birth: std::cell::Cell<Birth>,
    /// A layered set's shared lower layer: its entries count unless
    /// `entries` has one of the same name. Many configurations' levels
    /// differ from one shared set in a few names only; this keeps them
    /// from copying the rest. Never itself layered.
    base: Option<Rc<Attrs>>,
}

/// Whether a heap object was made while a module evaluation was being
/// shared (see [`shared_mode`]), and so may reach a hole.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum Birth {
    /// Made outside shared mode: it cannot reach a hole.
    #[default]
    Plain,
    /// Made in shared mode; what it reaches is not known yet.
    Shared,
    /// Made in shared mode and found (or known by construction) not to
    /// reach a hole.
    SharedClean,
}

impl Birth {
    /// The birth of an object made now.
    #[inline]
    pub fn now() -> Birth {
        if shared_mode() { Birth::Shared } else { Birth::Plain }
    }
}

thread_local! {
    static SHARED_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Whether the evaluation thread is evaluating a shared module template:
/// module arguments that belong to one configuration are holes then, and
/// what is made may be shared by several configurations.
#[inline]
pub fn shared_mode() -> bool {
    SHARED_DEPTH.with(|d| d.get() > 0)
}

/// Enters (`true`) or leaves (`false`) shared mode; nests.
pub fn set_shared_mode(enter: bool) {
    SHARED_DEPTH.with(|d| d.set(if enter { d.get() + 1 } else { d.get() - 1 }));
}

/// Leaves shared mode completely for the duration of `f` (for work that
/// belongs to one configuration even though a template is being built).
pub fn outside_shared_mode<T>(f: impl FnOnce() -> T) -> T {
    let saved = SHARED_DEPTH.with(|d| d.replace(0));
    let r = f();
    SHARED_DEPTH.with(|d| d.set(saved));
    r
}

impl Attrs {
    /// Whether the set is open (see the field).
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The same set, open.
    pub fn into_open(mut self) -> Attrs {
        self.open = true;
        self
    }

    /// Where the set was made.
    #[inline]
    pub fn birth(&self) -> Birth {
        self.birth.get()
    }

    /// Records that a set made in shared mode reaches no hole.
    pub fn mark_clean(&self) {
        if self.birth.get() == Birth::Shared {
            self.birth.set(Birth::SharedClean);
        }
    }

    /// The empty set.
    pub fn empty() -> Attrs {
        Attrs { entries: AttrVec::new(), open: false, birth: std::cell::Cell::new(Birth::now()), base: None }
    }

    /// Builds from entries already sorted by name with no duplicates.
    pub fn from_sorted(entries: impl Into<AttrVec>) -> Attrs {
        let entries = entries.into();
        debug_assert!(entries.windows(2).all(|w| w[0].name < w[1].name));
        Attrs { entries, open: false, birth: std::cell::Cell::new(Birth::now()), base: None }
    }

    /// Builds from arbitrary entries; for duplicate names the last one wins.
    pub fn from_unsorted(mut entries: Vec<Attr>) -> Attrs {
        // Native code mostly builds records in name order already.
        if entries.windows(2).all(|w| w[0].name < w[1].name) {
            return Attrs {
                entries: AttrVec::from_vec(entries),
                open: false,
                birth: std::cell::Cell::new(Birth::now()),
                base: None,
            };
        }
        entries.reverse();
        entries.sort_by_key(|a| a.name);
        entries.dedup_by(|later, earlier| later.name == earlier.name);
        Attrs {
            entries: AttrVec::from_vec(entries),
            open: false,
            birth: std::cell::Cell::new(Birth::now()),
            base: None,
        }
    }

    /// A layered set: `own` (sorted by name, unique) over the entries of
    /// `base` it does not name.
    pub fn layered(base: Rc<Attrs>, own: impl Into<AttrVec>) -> Attrs {
        let own = own.into();
        debug_assert!(own.windows(2).all(|w| w[0].name < w[1].name));
        if base.base.is_some() {
            // Layers do not stack: the lower one is flattened first.
            let flat = Rc::new(Attrs::from_sorted(base.iter().cloned().collect::<Vec<_>>()));
            return Attrs::layered(flat, own);
        }
        Attrs { entries: own, open: false, birth: std::cell::Cell::new(Birth::now()), base: Some(base) }
    }

    /// A layered set's shared lower layer.
    pub fn layer_base(&self) -> Option<&Rc<Attrs>> {
        self.base.as_ref()
    }

    /// The entries above a layered set's shared lower layer (all of a
    /// flat set's), in name order.
    pub fn upper(&self) -> AttrsIter<'_> {
        AttrsIter::Flat(self.entries.iter())
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        match &self.base {
            None => self.entries.len(),
            Some(b) => b.len() + self.entries.iter().filter(|a| b.get_attr(a.name).is_none()).count(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.base.as_ref().is_none_or(|b| b.is_empty())
    }

    /// Looks up an attribute.
    pub fn get_attr(&self, name: Symbol) -> Option<&Attr> {
        let own = if self.entries.len() <= 8 {
            self.entries.iter().find(|a| a.name == name)
        } else {
            self.entries.binary_search_by(|a| a.name.cmp(&name)).ok().map(|i| &self.entries[i])
        };
        match (own, &self.base) {
            (None, Some(b)) => b.get_attr(name),
            _ => own,
        }
    }

    /// Looks up a value.
    pub fn get(&self, name: Symbol) -> Option<&Value> {
        self.get_attr(name).map(|a| &a.value)
    }

    /// Looks up a value by name.
    pub fn get_str(&self, name: &str) -> Option<&Value> {
        self.get(Symbol::new(name))
    }

    /// Entries in name order.
    pub fn iter(&self) -> AttrsIter<'_> {
        match &self.base {
            None => AttrsIter::Flat(self.entries.iter()),
            Some(b) => AttrsIter::Layered(MergeRight::new(b.entries.iter(), self.entries.iter())),
        }
    }

    /// Entries in name order, owned.
    pub fn into_entries(self) -> Vec<Attr> {
        match self.base {
            None => self.entries.into_vec(),
            Some(_) => self.iter().cloned().collect(),
        }
    }

    /// `self // other`.
    pub fn update(&self, other: &Attrs) -> Attrs {
        let open = self.open || other.open;
        let birth = std::cell::Cell::new(Birth::now());
        if other.is_empty() {
            return Attrs { open, birth, ..self.clone() };
        }
        if self.is_empty() {
            return Attrs { open, birth, ..other.clone() };
        }
        let mut out = AttrVec::with_capacity(self.len() + other.len());
        out.extend(MergeRight::new(self.iter(), other.iter()).cloned());
        Attrs { entries: out, open, birth, base: None }
    }
}

/// The entries of an attribute set in name order.
#[derive(Clone)]
pub enum AttrsIter<'a> {
    /// A flat set's entries.
    Flat(std::slice::Iter<'a, Attr>),
    /// A layered set's: the lower layer's under its own.
    Layered(MergeRight<std::slice::Iter<'a, Attr>, std::slice::Iter<'a, Attr>>),
}

impl<'a> Iterator for AttrsIter<'a> {
    type Item = &'a Attr;

    #[inline]
    fn next(&mut self) -> Option<&'a Attr> {
        match self {
            AttrsIter::Flat(it) => it.next(),
            AttrsIter::Layered(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            AttrsIter::Flat(it) => it.size_hint(),
            AttrsIter::Layered(it) => it.size_hint(),
        }
    }
}

/// Two runs of entries in name order, merged in name order; of two
/// entries of one name, the right run's (as `left // right`).
pub struct MergeRight<L: Iterator, R: Iterator> {
    left: std::iter::Peekable<L>,
    right: std::iter::Peekable<R>,
}

impl<L: Iterator + Clone, R: Iterator + Clone> Clone for MergeRight<L, R>
where
    L::Item: Clone,
    R::Item: Clone,
{
    fn clone(&self) -> Self {
        MergeRight { left: self.left.clone(), right: self.right.clone() }
    }
}

impl<'a, L: Iterator<Item = &'a Attr>, R: Iterator<Item = &'a Attr>> MergeRight<L, R> {
    /// `left` under `right`.
    pub fn new(left: L, right: R) -> Self {
        MergeRight { left: left.peekable(), right: right.peekable() }
    }
}

impl<'a, L: Iterator<Item = &'a Attr>, R: Iterator<Item = &'a Attr>> Iterator for MergeRight<L, R> {
    type Item = &'a Attr;

    #[inline]
    fn next(&mut self) -> Option<&'a Attr> {
        match (self.left.peek(), self.right.peek()) {
            (Some(l), Some(r)) => match l.name.cmp(&r.name) {
                std::cmp::Ordering::Less => self.left.next(),
                std::cmp::Ordering::Greater => self.right.next(),
                std::cmp::Ordering::Equal => {
                    self.left.next();
                    self.right.next()
                }
            },
            (Some(_), None) => self.left.next(),
            (None, _) => self.right.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (l, lmax) = self.left.size_hint();
        let (r, rmax) = self.right.size_hint();
        (l.max(r), lmax.zip(rmax).map(|(a, b)| a + b))
    }
}

// ---------------------------------------------------------------- functions

/// A lambda closed over its environment.
pub struct Closure {
    /// The function literal.
    pub lambda: IrPtr<LambdaExpr>,
    /// The environment it was created in.
    pub env: Env,
}

/// A builtin's implementation: receives exactly `arity` arguments, unforced.
pub type PrimFn = fn(&mut Evaluator, &[Value], Span) -> EvalResult<Value>;

/// A builtin function.
pub struct PrimOp {
    /// Its name in `builtins`.
    pub name: &'static str,
    /// How many arguments it takes.
    pub arity: usize,
    /// The implementation.
    pub func: PrimFn,
}

/// A builtin applied to fewer arguments than it takes.
pub struct PrimOpApp {
    /// The builtin.
    pub op: &'static PrimOp,
    /// Arguments so far.
    pub args: Vec<Value>,
}

/// The signature of a Rust closure callable from Nix.
pub type NativeImpl = dyn Fn(&mut Evaluator, Value, Span) -> EvalResult<Value>;

/// A one-argument function implemented in Rust, with captured state.
pub struct NativeFn {
    /// A name for messages (shared by the partial applications).
    pub name: Rc<str>,
    /// The implementation.
    pub func: Box<NativeImpl>,
    /// Where it was made: what a function made in shared mode captured is
    /// not visible, so it counts as reaching a hole unless known otherwise.
    pub birth: std::cell::Cell<Birth>,
}

impl NativeFn {
    /// A native function made now.
    pub fn new(name: Rc<str>, func: Box<NativeImpl>) -> NativeFn {
        NativeFn { name, func, birth: std::cell::Cell::new(Birth::now()) }
    }
}

// ------------------------------------------------------------ IR pointers

/// A pointer into a lowered file's expression tree.
///
/// Thunks and closures are created by the million; holding `Arc`s into the
/// tree would cost two atomic operations each. Instead every lowered file
/// an evaluation thread touches is retained for the life of that thread
/// ([`retain_lowered`]), and values (which cannot leave their thread) point
/// into it directly.
pub struct IrPtr<T>(std::ptr::NonNull<T>);

impl<T> Clone for IrPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for IrPtr<T> {}

impl<T> IrPtr<T> {
    /// A pointer to a node of a retained lowered file.
    pub fn new(node: &T) -> IrPtr<T> {
        IrPtr(std::ptr::NonNull::from(node))
    }
}

impl<T> std::ops::Deref for IrPtr<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: nodes belong to lowered files retained by this thread
        // (`retain_lowered`) until it exits, the trees are immutable, and
        // `IrPtr` is neither `Send` nor `Sync`.
        unsafe { self.0.as_ref() }
    }
}

thread_local! {
    static RETAINED: std::cell::RefCell<(Vec<Arc<Lowered>>, rustc_hash::FxHashSet<usize>)> =
        std::cell::RefCell::new((Vec::new(), rustc_hash::FxHashSet::default()));
}

/// Keeps a lowered file alive for the rest of this thread, so that
/// [`IrPtr`]s into it stay valid.
pub fn retain_lowered(l: &Arc<Lowered>) {
    RETAINED.with(|r| {
        let mut r = r.borrow_mut();
        if r.1.insert(Arc::as_ptr(l) as usize) {
            r.0.push(l.clone());
        }
    });
}

// ------------------------------------------------------------- environments

/// A runtime environment frame.
pub type Env = Rc<EnvData>;

/// The slots of a frame.
pub type Slots = smallvec::SmallVec<[Value; 2]>;

/// One frame: slots in the order lowering assigned them.
pub struct EnvData {
    /// The enclosing frame.
    pub parent: Option<Env>,
    /// The slots (for a `with` frame: one slot holding the namespace).
    /// Small frames (most calls) keep their slots inline: one allocation.
    pub slots: Slots,
    /// Whether this is a `with` frame.
    pub is_with: bool,
    /// Whether some slot of this frame or of a frame up the chain may
    /// reach a hole (only frames made in shared mode can).
    pub tainted: bool,
}

impl EnvData {
    /// A frame whose slots are its own bindings (`let`, `rec`): it reaches
    /// what its parent reaches.
    pub fn new(parent: Option<Env>, slots: Slots) -> Env {
        let tainted = parent.as_ref().is_some_and(|p| p.tainted);
        Rc::new(EnvData { parent, slots, is_with: false, tainted })
    }

    /// A `with` frame (its namespace is a delayed expression of the parent).
    pub fn with_frame(parent: Env, namespace: Value) -> Env {
        let tainted = parent.tainted;
        Rc::new(EnvData { parent: Some(parent), slots: smallvec::smallvec![namespace], is_with: true, tainted })
    }

    /// A call frame: its slots are the arguments, which in shared mode may
    /// reach holes themselves.
    pub fn call_frame(parent: Option<Env>, slots: Slots) -> Env {
        let mut tainted = parent.as_ref().is_some_and(|p| p.tainted);
        if !tainted && shared_mode() {
            // Blank slots are defaults, evaluated in this very frame.
            tainted = slots.iter().any(|s| {
                !matches!(s, Value::Thunk(t) if t.peek(|st| matches!(st, ThunkState::Blank)))
                    && crate::taint::taint(s) != crate::taint::Taint::Clean
            });
        }
        Rc::new(EnvData { parent, slots, is_with: false, tainted })
    }
}

// ------------------------------------------------------------------- thunks

/// A delayed Rust computation.
pub type LazyFn = Rc<dyn Fn(&mut Evaluator) -> EvalResult<Value>>;

/// What a thunk holds.
pub enum ThunkState {
    /// Not yet set up (a frame slot whose expression is filled in after the
    /// frame exists).
    Blank,
    /// An expression to evaluate in an environment.
    Pending(IrPtr<Expr>, Env),
    /// `f x`, applied lazily.
    Apply(Value, Value, Span),
    /// Attribute `name` of a value (for `inherit (e) name`).
    Select(Value, Symbol, Span),
    /// `f name value` for one attribute of `builtins.mapAttrs f` (the name
    /// string is only made if the result is needed).
    MapAttr(Value, Symbol, Value),
    /// A Rust computation.
    Native(LazyFn),
    /// A Rust computation made in shared mode: what it captured is not
    /// visible, so it counts as reaching a hole.
    NativeShared(LazyFn),
    /// A module argument of a shared module template (`config`, `options`,
    /// ...): it has no value until the template is used by one
    /// configuration, and forcing it is an error ([`crate::ErrorKind::NeedsWorld`]).
    Hole,
    /// Being evaluated.
    Blackhole,
    /// Evaluated.
    Done(Value),
}

/// A shared, memoising delayed value.
#[derive(Clone)]
pub struct Thunk(Rc<ThunkCell>);

/// The shared cell of a thunk.
///
/// A plain `UnsafeCell` rather than a `RefCell`: thunks are the most
/// numerous objects of an evaluation, and the borrow flag would push each
/// one from 64 to 80 bytes. Soundness rests on the accessors below: every
/// access is a short, non-reentrant read or write on the evaluation thread
/// (values are `!Send`), never held across evaluation.
pub struct ThunkCell(std::cell::UnsafeCell<ThunkState>);

impl Thunk {
    /// A new thunk in the given state.
    pub fn new(state: ThunkState) -> Thunk {
        Thunk(Rc::new(ThunkCell(std::cell::UnsafeCell::new(state))))
    }

    /// Replaces the state.
    pub fn set(&self, state: ThunkState) {
        drop(self.replace(state));
    }

    /// Replaces the state, returning the old one.
    pub fn replace(&self, state: ThunkState) -> ThunkState {
        // SAFETY: no reference into the cell outlives the accessors, and
        // the old state is moved out before anything else runs.
        unsafe { std::mem::replace(&mut *self.0.0.get(), state) }
    }

    /// Runs `f` on the current state (which must not touch this thunk).
    #[inline]
    pub fn peek<T>(&self, f: impl FnOnce(&ThunkState) -> T) -> T {
        // SAFETY: see `replace`; `f` only reads the state it is given.
        f(unsafe { &*self.0.0.get() })
    }

    /// The value, if already evaluated.
    pub fn value(&self) -> Option<Value> {
        self.peek(|s| match s {
            ThunkState::Done(v) => Some(v.clone()),
            _ => None,
        })
    }

    /// Whether it is being evaluated right now.
    pub fn is_blackhole(&self) -> bool {
        self.peek(|s| matches!(s, ThunkState::Blackhole))
    }

    /// Identity of the shared cell.
    pub fn as_ptr(&self) -> usize {
        Rc::as_ptr(&self.0) as *const u8 as usize
    }
}

impl ThunkState {
    /// A Rust computation, made now.
    pub fn native(f: LazyFn) -> ThunkState {
        if shared_mode() { ThunkState::NativeShared(f) } else { ThunkState::Native(f) }
    }
}

impl Value {
    /// A lazy application `f x`.
    pub fn lazy_apply(f: Value, x: Value, span: Span) -> Value {
        Value::Thunk(Thunk::new(ThunkState::Apply(f, x, span)))
    }

    /// A lazy Rust computation.
    pub fn lazy(f: impl Fn(&mut Evaluator) -> EvalResult<Value> + 'static) -> Value {
        Value::Thunk(Thunk::new(ThunkState::native(Rc::new(f))))
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn hot_objects_stay_small() {
        // A thunk allocation (refcounts + state) fits a 64-byte size class.
        assert!(std::mem::size_of::<ThunkCell>() + 16 <= 64, "{}", std::mem::size_of::<ThunkCell>());
        assert_eq!(std::mem::size_of::<Value>(), 16);
    }
}

#[cfg(test)]
mod layer_tests {
    use super::*;

    fn set(entries: &[(&str, i64)]) -> Attrs {
        Attrs::from_unsorted(entries.iter().map(|(n, v)| Attr::new(Symbol::new(n), Value::Int(*v))).collect())
    }

    fn listing(a: &Attrs) -> Vec<(String, i64)> {
        a.iter()
            .map(|x| match x.value {
                Value::Int(i) => (x.name.to_string(), i),
                _ => unreachable!("only integers here"),
            })
            .collect()
    }

    #[test]
    fn a_layered_set_reads_as_its_layers_merged() {
        let base = Rc::new(set(&[("b", 1), ("d", 2), ("f", 3)]));
        let own = set(&[("a", 10), ("d", 20), ("g", 30)]).into_entries();
        let l = Attrs::layered(base.clone(), own);
        let expected: Vec<(String, i64)> =
            [("a", 10), ("b", 1), ("d", 20), ("f", 3), ("g", 30)].iter().map(|(n, v)| (n.to_string(), *v)).collect();
        assert_eq!(listing(&l), expected);
        assert_eq!(l.len(), 5);
        assert!(!l.is_empty());
        assert!(matches!(l.get_str("d"), Some(Value::Int(20))));
        assert!(matches!(l.get_str("f"), Some(Value::Int(3))));
        assert!(l.get_str("c").is_none());
        assert_eq!(l.upper().count(), 3);
        assert_eq!(base.upper().count(), 3);
        // Operations that build new sets see the merged entries.
        let flat = Attrs::from_sorted(l.clone().into_entries());
        assert_eq!(listing(&flat), expected);
        let updated = l.update(&set(&[("b", 100), ("z", 5)]));
        assert_eq!(updated.len(), 6);
        assert!(matches!(updated.get_str("b"), Some(Value::Int(100))));
        assert!(matches!(updated.get_str("d"), Some(Value::Int(20))));
        let under = set(&[("a", 0), ("h", 7)]).update(&l);
        assert_eq!(under.len(), 6);
        assert!(matches!(under.get_str("a"), Some(Value::Int(10))));
        // A layer over a layered set is over its merged entries.
        let twice = Attrs::layered(Rc::new(l), set(&[("b", 9)]).into_entries());
        assert!(matches!(twice.get_str("b"), Some(Value::Int(9))));
        assert!(matches!(twice.get_str("d"), Some(Value::Int(20))));
        assert_eq!(twice.len(), 5);
        assert!(twice.layer_base().is_some_and(|b| b.layer_base().is_none()));
    }
}

//! The evaluator: walks lowered expressions lazily, with Nix's semantics.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::LazyLock;

use dendrite_syntax::ir::{
    AttrKey, AttrsExpr, BinOp, BindingValue, Expr, ExprKind, ExprRef, LetExpr, Param, PathLit, StrPart, Var,
};
use dendrite_syntax::{GLOBALS, Origin, RootDatabase, Span, Symbol};
use rustc_hash::FxHashMap;

use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::settings::EvalSettings;
use crate::value::*;

/// Frequently used attribute names, interned once.
pub struct Syms {
    /// `outPath`
    pub out_path: Symbol,
    /// `__functor`
    pub functor: Symbol,
    /// `__toString`
    pub to_string: Symbol,
    /// `type`
    pub type_: Symbol,
    /// `drvPath`
    pub drv_path: Symbol,
    /// `__overrides`
    pub overrides: Symbol,
    /// `name`
    pub name: Symbol,
    /// `value`
    pub value: Symbol,
    /// `file`
    pub file: Symbol,
    /// `line`
    pub line: Symbol,
    /// `column`
    pub column: Symbol,
    /// `success`
    pub success: Symbol,
    /// `outputs`
    pub outputs: Symbol,
    /// `outputName`
    pub output_name: Symbol,
    /// `key`
    pub key: Symbol,
    /// `startSet`
    pub start_set: Symbol,
    /// `operator`
    pub operator: Symbol,
    /// `right`
    pub right: Symbol,
    /// `wrong`
    pub wrong: Symbol,
    /// `path`
    pub path: Symbol,
    /// `prefix`
    pub prefix: Symbol,
    /// `body`
    pub body: Symbol,
}

/// The interned common names.
pub static SYMS: LazyLock<Syms> = LazyLock::new(|| Syms {
    out_path: Symbol::new("outPath"),
    functor: Symbol::new("__functor"),
    to_string: Symbol::new("__toString"),
    type_: Symbol::new("type"),
    drv_path: Symbol::new("drvPath"),
    overrides: Symbol::new("__overrides"),
    name: Symbol::new("name"),
    value: Symbol::new("value"),
    file: Symbol::new("file"),
    line: Symbol::new("line"),
    column: Symbol::new("column"),
    success: Symbol::new("success"),
    outputs: Symbol::new("outputs"),
    output_name: Symbol::new("outputName"),
    key: Symbol::new("key"),
    start_set: Symbol::new("startSet"),
    operator: Symbol::new("operator"),
    right: Symbol::new("right"),
    wrong: Symbol::new("wrong"),
    path: Symbol::new("path"),
    prefix: Symbol::new("prefix"),
    body: Symbol::new("body"),
});

/// How much of the thread's stack evaluation may use before reporting a
/// stack overflow; the remainder is headroom for builtins and printing.
const STACK_HEADROOM: usize = 2 * 1024 * 1024;

/// Size of the stack evaluation threads are created with.
pub const EVAL_STACK_SIZE: usize = 1024 * 1024 * 1024;

/// Options for coercing a value to a string.
#[derive(Clone, Copy, Debug)]
pub struct Coerce {
    /// Also coerce null, booleans, numbers and lists (`toString`).
    pub more: bool,
    /// Copy paths to the store (string interpolation) instead of using them as-is.
    pub copy_to_store: bool,
}

impl Coerce {
    /// Interpolation: strings, paths (copied), sets with `__toString`/`outPath`.
    pub const INTERPOLATE: Coerce = Coerce { more: false, copy_to_store: true };
    /// `toString`.
    pub const TO_STRING: Coerce = Coerce { more: true, copy_to_store: false };
    /// Paths as strings, no copying (path concatenation).
    pub const PLAIN: Coerce = Coerce { more: false, copy_to_store: false };
}

/// The evaluator state for one evaluation thread.
pub struct Evaluator {
    /// The front-end database (files, parse and lowering caches).
    pub db: RootDatabase,
    /// Settings.
    pub settings: EvalSettings,
    pub(crate) globals: Vec<Value>,
    import_cache: FxHashMap<PathBuf, Value>,
    /// Each file's name as positions print it (`unsafeGetAttrPos`,
    /// `__curPos`, option declarations), made once per file.
    file_names: FxHashMap<dendrite_syntax::FileId, Value>,
    pub(crate) store_cache: FxHashMap<PathBuf, String>,
    pub(crate) drv_hash_cache: FxHashMap<String, String>,
    stack_limit: usize,
    /// Messages printed by `trace`/`warn` (kept when `print_traces` is off).
    pub messages: Vec<String>,
    /// Nesting of Nix function calls (for `max-call-depth`).
    pub(crate) call_depth: usize,
    builtin_span: Span,
    /// Calls per lambda, when profiling (`DENDRITE_PROFILE=1`).
    pub profile: Option<FxHashMap<Span, u64>>,
    /// Files whose code ran (a function called, a delayed expression
    /// evaluated) while tracing: what a cached result depends on.
    pub trace: Option<Trace>,
    import_hook: Option<ImportHook>,
    /// Values to use instead of evaluating these files (the checker puts
    /// an unknown value for each file that does not parse).
    pub import_overrides: FxHashMap<PathBuf, Value>,
    /// State of embedders (the checker's recorders), by type.
    extensions: FxHashMap<std::any::TypeId, Box<dyn std::any::Any>>,
    /// Thunks shared mode may still force before it gives up.
    shared_fuel: usize,
}

/// What a traced evaluation depended on (see [`Evaluator::trace`]).
#[derive(Default, Debug)]
pub struct Trace {
    /// Files some code of which ran.
    pub files: rustc_hash::FxHashSet<dendrite_syntax::FileId>,
    /// The file added last (most code runs in runs of one file).
    last: Option<dendrite_syntax::FileId>,
    /// Files imported.
    pub imports: rustc_hash::FxHashSet<PathBuf>,
}

impl Trace {
    /// Notes that code of `file` ran.
    #[inline]
    pub fn ran(&mut self, file: dendrite_syntax::FileId) {
        if self.last != Some(file) {
            self.last = Some(file);
            self.files.insert(file);
        }
    }
}

/// Receives each imported file's path and value and returns the value to use.
pub type ImportHook = Rc<dyn Fn(&mut Evaluator, &Path, Value) -> EvalResult<Value>>;

/// The error a hole gives when forced.
#[cold]
pub fn needs_world() -> EvalError {
    EvalError::new(
        ErrorKind::NeedsWorld,
        "internal error: a shared module used an argument of one configuration outside it",
    )
}

/// The current stack pointer (approximately, on targets without inline asm).
#[inline(always)]
fn approximate_stack_pointer() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let sp: usize;
        // SAFETY: reads the stack pointer register; no memory access.
        unsafe { std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
        sp
    }
    #[cfg(target_arch = "aarch64")]
    {
        let sp: usize;
        // SAFETY: reads the stack pointer register; no memory access.
        unsafe { std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
        sp
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let marker = 0u8;
        std::hint::black_box(&marker) as *const u8 as usize
    }
}

impl Evaluator {
    /// A new evaluator. Call it on a thread with a large stack
    /// ([`run_with_stack`]); the stack limit is measured from here.
    pub fn new(db: RootDatabase, settings: EvalSettings) -> Evaluator {
        let stack_size = current_thread_stack_size();
        let here = approximate_stack_pointer();
        let stack_limit = here.saturating_sub(stack_size.saturating_sub(STACK_HEADROOM));
        let mut ev = Evaluator {
            db,
            settings,
            globals: Vec::new(),
            import_cache: FxHashMap::default(),
            file_names: FxHashMap::default(),
            store_cache: FxHashMap::default(),
            drv_hash_cache: FxHashMap::default(),
            stack_limit,
            messages: Vec::new(),
            call_depth: 0,
            profile: std::env::var_os("DENDRITE_PROFILE").map(|_| FxHashMap::default()),
            trace: None,
            import_hook: None,
            import_overrides: FxHashMap::default(),
            extensions: FxHashMap::default(),
            shared_fuel: 0,
            builtin_span: {
                let file = dendrite_syntax::FileId::register(Origin::Builtin("«builtin»".into()), Arc::from(""));
                Span { file, start: 0, end: 0 }
            },
        };
        ev.globals = crate::builtins::base_env(&mut ev);
        debug_assert_eq!(ev.globals.len(), GLOBALS.len());
        ev
    }

    /// The most called lambdas, when profiling: `(calls, position)`.
    pub fn profile_report(&self) -> Vec<(u64, String)> {
        let mut v: Vec<(u64, String)> = match &self.profile {
            Some(p) => p.iter().map(|(s, n)| (*n, s.position().to_string())).collect(),
            None => Vec::new(),
        };
        if self.profile.is_some() {
            let c = COUNTS.with(|c| *c.borrow());
            v.push((c[0], "(expressions evaluated)".into()));
            v.push((c[1], "(list literal elements)".into()));
            v.push((c[2], "(elements copied by ++)".into()));
            v.push((c[3], "(attributes copied by //)".into()));
            v.push((p_total(&self.profile), "(lambda calls)".into()));
        }
        v.sort_by_key(|b| std::cmp::Reverse(b.0));
        v.truncate(40);
        v
    }

    /// The span used for calls made by builtins on their own (no source position).
    pub fn builtin_span(&self) -> Span {
        self.builtin_span
    }

    /// The `builtins` attribute set.
    pub fn builtins(&self) -> Value {
        self.globals[0].clone()
    }

    #[inline]
    fn check_stack(&self) -> EvalResult<()> {
        if approximate_stack_pointer() < self.stack_limit {
            return Err(EvalError::new(ErrorKind::StackOverflow, "stack overflow; max-call-depth exceeded"));
        }
        Ok(())
    }

    // ------------------------------------------------------------- forcing

    /// Evaluates a value to weak head normal form.
    #[inline]
    pub fn force(&mut self, v: &Value) -> EvalResult<Value> {
        match v {
            Value::Thunk(t) => self.force_thunk(t),
            _ => Ok(v.clone()),
        }
    }

    /// Forces a thunk, memoising the result in place.
    pub fn force_thunk(&mut self, t: &Thunk) -> EvalResult<Value> {
        // Evaluated thunks are the common case: answer without moving the state.
        if let Some(r) = t.peek(|s| match s {
            ThunkState::Done(v) => Some(Ok(v.clone())),
            ThunkState::Blackhole | ThunkState::Blank => {
                Some(Err(EvalError::new(ErrorKind::InfiniteRecursion, "infinite recursion encountered")))
            }
            ThunkState::Hole => Some(Err(needs_world())),
            _ => None,
        }) {
            return r;
        }
        if shared_mode() {
            return self.force_thunk_shared(t);
        }
        let state = t.replace(ThunkState::Blackhole);
        let result = self.run_state(&state);
        match result {
            Ok(v) => {
                t.set(ThunkState::Done(v.clone()));
                Ok(v)
            }
            Err(e) => {
                t.set(state);
                Err(e)
            }
        }
    }

    /// Evaluates what a thunk holds.
    #[inline]
    fn run_state(&mut self, state: &ThunkState) -> EvalResult<Value> {
        self.check_stack()?;
        match state {
            ThunkState::Pending(e, env) => {
                if let Some(t) = self.trace.as_mut() {
                    t.ran(e.span.file);
                }
                self.eval(e, env).map_err(|err| if err.span().is_none() { err.with_span(e.span) } else { err })
            }
            ThunkState::Apply(f, x, span) => {
                let f = self.force(f);
                match f {
                    Ok(f) => self.call(f, x.clone(), *span),
                    Err(e) => Err(e),
                }
            }
            ThunkState::Select(from, name, span) => self.select_one(from, *name, *span),
            ThunkState::MapAttr(f, name, value) => {
                let name = Value::String(NixString::from_bytes(name.as_bytes()));
                let span = self.builtin_span();
                self.call_n(f.clone(), &[name, value.clone()], span)
            }
            // Native computations may hand back another lazy value.
            ThunkState::Native(f) | ThunkState::NativeShared(f) => f(self).and_then(|v| self.force(&v)),
            _ => unreachable!("thunk state checked above"),
        }
    }

    /// Forcing in shared mode: a thunk that cannot reach a hole is
    /// evaluated as usual and what it gives is clean too; one that can
    /// keeps its expression when the result could not be copied for a
    /// configuration (so that it can be copied instead).
    #[inline(never)]
    fn force_thunk_shared(&mut self, t: &Thunk) -> EvalResult<Value> {
        if self.shared_fuel == 0 {
            return Err(needs_world());
        }
        self.shared_fuel -= 1;
        let clean = crate::taint::taint(&Value::Thunk(t.clone())) == crate::taint::Taint::Clean;
        let state = t.replace(ThunkState::Blackhole);
        let result = self.run_state(&state);
        match result {
            Ok(v) => {
                if clean {
                    crate::taint::stamp_clean(&v);
                    t.set(ThunkState::Done(v.clone()));
                } else if crate::taint::taint(&v) == crate::taint::Taint::Opaque {
                    t.set(state);
                } else {
                    t.set(ThunkState::Done(v.clone()));
                }
                Ok(v)
            }
            Err(e) => {
                t.set(state);
                Err(e)
            }
        }
    }

    /// Runs `f` in shared mode (see [`crate::value::shared_mode`]) with at
    /// most `fuel` thunks forced; running out is [`ErrorKind::NeedsWorld`].
    pub fn in_shared_mode<T>(&mut self, fuel: usize, f: impl FnOnce(&mut Self) -> EvalResult<T>) -> EvalResult<T> {
        let saved = self.shared_fuel;
        self.shared_fuel = if shared_mode() { saved.min(fuel) } else { fuel };
        set_shared_mode(true);
        let r = f(self);
        set_shared_mode(false);
        let used = fuel.saturating_sub(self.shared_fuel);
        self.shared_fuel = saved.saturating_sub(used);
        r
    }

    /// A lazy value for `expr` in `env`: constants and variables directly,
    /// anything else as a thunk.
    #[inline]
    pub fn thunk(&mut self, expr: &Expr, env: &Env) -> Value {
        match &expr.kind {
            ExprKind::Null => Value::Null,
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Str(s) => Value::String(NixString::from_bytes(s)),
            ExprKind::Var(Var::Local { depth, index, .. }) => lookup_slot(env, *depth, *index).clone(),
            ExprKind::Var(Var::Global(g)) => self.globals[*g as usize].clone(),
            _ => Value::Thunk(Thunk::new(ThunkState::Pending(IrPtr::new(expr), env.clone()))),
        }
    }

    // ---------------------------------------------------------- evaluation

    /// Evaluates an expression to weak head normal form.
    pub fn eval(&mut self, expr: &Expr, env: &Env) -> EvalResult<Value> {
        self.check_stack()?;
        // Bodies in tail position (`let`, `with`, `if`, `assert`) are
        // evaluated by looping instead of recursing: shallower stacks for
        // the deep recursions nixpkgs' `lib` performs.
        let mut expr = expr;
        let mut owned_env: Option<Env> = None;
        loop {
            let env: &Env = owned_env.as_ref().unwrap_or(env);
            if self.profile.is_some() {
                COUNTS.with(|c| c.borrow_mut()[0] += 1);
            }
            let span = expr.span;
            return match &expr.kind {
                ExprKind::Null => Ok(Value::Null),
                ExprKind::Bool(b) => Ok(Value::Bool(*b)),
                ExprKind::Int(i) => Ok(Value::Int(*i)),
                ExprKind::Float(f) => Ok(Value::Float(*f)),
                ExprKind::Str(s) => Ok(Value::String(NixString::from_bytes(s))),
                ExprKind::Path(p) => self.path_literal(p, span),
                ExprKind::Interpolated { is_path, parts } => self.eval_interpolated(*is_path, parts, env, span),
                ExprKind::Var(v) => self.lookup(v, env, span),
                ExprKind::Select { expr: e, path, default } => self.eval_select(e, path, default.as_ref(), env, span),
                ExprKind::HasAttr { expr: e, path } => self.eval_has_attr(e, path, env),
                ExprKind::Attrs(a) => self.eval_attrs(a, env, span),
                ExprKind::List(items) => Ok(self.eval_list(items, env)),
                ExprKind::Lambda(l) => {
                    Ok(Value::Lambda(Rc::new(Closure { lambda: IrPtr::new(&**l), env: env.clone() })))
                }
                ExprKind::Call { func, args } => self.eval_call(func, args, env, span),
                ExprKind::Let(l) => {
                    let env2 = self.let_env(l, env);
                    expr = &l.body;
                    owned_env = Some(env2);
                    continue;
                }
                ExprKind::With { namespace, body } => {
                    let ns = self.thunk(namespace, env);
                    let env2 = EnvData::with_frame(env.clone(), ns);
                    expr = body;
                    owned_env = Some(env2);
                    continue;
                }
                ExprKind::If { cond, then, else_ } => match self.eval(cond, env)? {
                    Value::Bool(true) => {
                        expr = then;
                        continue;
                    }
                    Value::Bool(false) => {
                        expr = else_;
                        continue;
                    }
                    other => Err(self.condition_error(&other, cond.span, span)),
                },
                ExprKind::Assert { cond, body } => match self.eval(cond, env)? {
                    Value::Bool(true) => {
                        expr = body;
                        continue;
                    }
                    other => Err(self.assertion_error(&other, cond.span, span)),
                },
                ExprKind::Not(e) => match self.eval(e, env)? {
                    Value::Bool(b) => Ok(Value::Bool(!b)),
                    other => Err(self.type_error("a Boolean", &other).with_span(e.span)),
                },
                ExprKind::BinOp { op, lhs, rhs } => self.eval_binop(*op, lhs, rhs, env, span),
                ExprKind::CurPos => Ok(self.pos_attrs(span)),
            };
        }
    }

    #[inline(never)]
    fn eval_list(&mut self, items: &[ExprRef], env: &Env) -> Value {
        if self.profile.is_some() {
            COUNTS.with(|c| c.borrow_mut()[1] += items.len() as u64);
        }
        let vals: Vec<Value> = items.iter().map(|i| self.thunk(i, env)).collect();
        Value::List(Rc::new(vals))
    }

    #[inline(never)]
    fn eval_call(&mut self, func: &Expr, args: &[ExprRef], env: &Env, span: Span) -> EvalResult<Value> {
        let mut f = self.eval(func, env)?;
        for a in args.iter() {
            let av = self.thunk(a, env);
            f = self.call(f, av, span)?;
        }
        Ok(f)
    }

    #[cold]
    #[inline(never)]
    fn condition_error(&self, found: &Value, cond: Span, span: Span) -> EvalError {
        self.type_error("a Boolean", found).with_span(cond).context("while evaluating a branch condition", Some(span))
    }

    #[cold]
    #[inline(never)]
    fn assertion_error(&self, found: &Value, cond: Span, span: Span) -> EvalError {
        match found {
            Value::Bool(false) => {
                let text = span_text(cond);
                EvalError::at(ErrorKind::Assertion, format!("assertion '{text}' failed"), span)
            }
            other => self.type_error("a Boolean", other).with_span(cond),
        }
    }

    /// `{ file, line, column }` for a span.
    pub fn pos_attrs(&mut self, span: Span) -> Value {
        let pos = span.position();
        let s = &*SYMS;
        let file = self.file_names.entry(span.file).or_insert_with(|| Value::string(pos.origin.display())).clone();
        Value::attrs(vec![
            Attr::new(s.file, file),
            Attr::new(s.line, Value::Int(pos.line as i64)),
            Attr::new(s.column, Value::Int(pos.column as i64)),
        ])
    }

    fn path_literal(&mut self, p: &PathLit, span: Span) -> EvalResult<Value> {
        match p {
            PathLit::Abs(s) => Ok(Value::Path(PathStr::from(&**s))),
            PathLit::Home(rest) => match &self.settings.home {
                Some(home) => {
                    let mut full = dendrite_syntax::lower::canon_path(&format!("{home}/{rest}"));
                    // An interpolated `~/${x}` keeps its separator.
                    if rest.ends_with('/') && !full.ends_with('/') {
                        full.push('/');
                    }
                    Ok(Value::Path(PathStr::from(full.as_str())))
                }
                None => Err(EvalError::at(ErrorKind::Eval, "cannot resolve '~' path: $HOME is not set", span)),
            },
        }
    }

    fn lookup(&mut self, var: &Var, env: &Env, span: Span) -> EvalResult<Value> {
        match var {
            Var::Local { depth, index, .. } => {
                let v = lookup_slot(env, *depth, *index).clone();
                self.force(&v)
            }
            Var::Global(g) => {
                let v = self.globals[*g as usize].clone();
                self.force(&v)
            }
            Var::With { depth, name } => {
                let mut e = env;
                for _ in 0..*depth {
                    e = e.parent.as_ref().expect("with depth within env chain");
                }
                let mut cur = Some(e.clone());
                while let Some(frame) = cur {
                    if frame.is_with {
                        let ns = self.force(&frame.slots[0])?;
                        match &ns {
                            Value::Attrs(a) => {
                                if let Some(v) = a.get(*name) {
                                    let v = v.clone();
                                    return self.force(&v);
                                }
                            }
                            other => {
                                return Err(self.type_error("a set", other).with_span(span));
                            }
                        }
                    }
                    cur = frame.parent.clone();
                }
                Err(EvalError::at(ErrorKind::Eval, format!("undefined variable '{name}'"), span))
            }
            Var::Unbound(name) => Err(EvalError::at(ErrorKind::Eval, format!("undefined variable '{name}'"), span)),
        }
    }

    fn attr_key(&mut self, key: &AttrKey, env: &Env) -> EvalResult<Option<Symbol>> {
        match key {
            AttrKey::Static(s) => Ok(Some(*s)),
            AttrKey::Dynamic(e) => {
                let v = self.eval(e, env)?;
                match v {
                    Value::String(s) => Ok(Some(Symbol::from_bytes(s.as_bytes()))),
                    Value::Null => Ok(None),
                    other => Err(self.type_error("a string", &other).with_span(e.span)),
                }
            }
        }
    }

    #[inline(never)]
    fn eval_select(
        &mut self,
        e: &ExprRef,
        path: &[AttrKey],
        default: Option<&ExprRef>,
        env: &Env,
        span: Span,
    ) -> EvalResult<Value> {
        let mut v = self.eval(e, env)?;
        for (i, key) in path.iter().enumerate() {
            let name = match self.attr_key(key, env)? {
                Some(n) => n,
                None => {
                    if let Some(d) = default {
                        return self.eval(d, env);
                    }
                    return Err(EvalError::at(ErrorKind::Type, "expected a string but found null: null", span));
                }
            };
            let found = match &v {
                Value::Attrs(a) => a.get(name).cloned(),
                _ => None,
            };
            match found {
                Some(x) => {
                    v = self.force(&x).map_err(|err| {
                        err.context(
                            format!("while evaluating the attribute '{}'", show_path(path, i, name)),
                            Some(span),
                        )
                    })?;
                }
                None => {
                    if let Some(d) = default {
                        return self.eval(d, env);
                    }
                    return Err(match &v {
                        Value::Attrs(a) => missing_attr(name, a).with_span(span),
                        other => self
                            .type_error("a set", other)
                            .with_span(span)
                            .context(format!("while selecting an attribute '{}'", show_path(path, i, name)), None),
                    });
                }
            }
        }
        Ok(v)
    }

    #[inline(never)]
    fn eval_has_attr(&mut self, e: &ExprRef, path: &[AttrKey], env: &Env) -> EvalResult<Value> {
        let mut v = self.eval(e, env)?;
        for (i, key) in path.iter().enumerate() {
            let Some(name) = self.attr_key(key, env)? else {
                return Ok(Value::Bool(false));
            };
            let found = match &v {
                Value::Attrs(a) => a.get(name).cloned(),
                _ => None,
            };
            match found {
                Some(x) => {
                    if i + 1 < path.len() {
                        v = self.force(&x)?;
                    }
                }
                None => return Ok(Value::Bool(false)),
            }
        }
        Ok(Value::Bool(true))
    }

    /// Selects one attribute of a value (forcing it), with Nix's errors.
    pub fn select_one(&mut self, from: &Value, name: Symbol, span: Span) -> EvalResult<Value> {
        let v = self.force(from)?;
        match &v {
            Value::Attrs(a) => match a.get(name) {
                Some(x) => {
                    let x = x.clone();
                    self.force(&x)
                }
                None => Err(missing_attr(name, a).with_span(span)),
            },
            other => Err(self.type_error("a set", other).with_span(span)),
        }
    }

    fn binding_state(
        &mut self,
        value: &BindingValue,
        bind_env: &Env,
        outer: &Env,
        from: &[Value],
        name: Symbol,
        span: Span,
    ) -> ThunkState {
        match value {
            BindingValue::Expr(e) => match &e.kind {
                ExprKind::Int(i) => ThunkState::Done(Value::Int(*i)),
                _ => ThunkState::Pending(IrPtr::new(&**e), bind_env.clone()),
            },
            BindingValue::Inherit(e) => match self.thunk(e, outer) {
                Value::Thunk(_) | Value::Null => ThunkState::Pending(IrPtr::new(&**e), outer.clone()),
                direct => ThunkState::Done(direct),
            },
            BindingValue::InheritFrom { source } => ThunkState::Select(from[*source as usize].clone(), name, span),
        }
    }

    #[inline(never)]
    fn let_env(&mut self, l: &LetExpr, env: &Env) -> Env {
        let slots: Slots = l.bindings.iter().map(|_| Value::Thunk(Thunk::new(ThunkState::Blank))).collect();
        let env2 = EnvData::new(Some(env.clone()), slots);
        let from: Vec<Value> = l.inherit_from.iter().map(|e| self.thunk(e, &env2)).collect();
        for (i, b) in l.bindings.iter().enumerate() {
            let state = self.binding_state(&b.value, &env2, env, &from, b.name, b.span);
            if let Value::Thunk(t) = &env2.slots[i] {
                t.set(state);
            }
        }
        env2
    }

    #[inline(never)]
    fn eval_attrs(&mut self, a: &AttrsExpr, env: &Env, span: Span) -> EvalResult<Value> {
        let mut entries: AttrVec = AttrVec::with_capacity(a.statics.len() + a.dynamics.len());
        let bind_env = if a.rec {
            let slots: Slots = a.statics.iter().map(|_| Value::Thunk(Thunk::new(ThunkState::Blank))).collect();
            let env2 = EnvData::new(Some(env.clone()), slots);
            let from: Vec<Value> = a.inherit_from.iter().map(|e| self.thunk(e, &env2)).collect();
            for (i, b) in a.statics.iter().enumerate() {
                let state = self.binding_state(&b.value, &env2, env, &from, b.name, b.span);
                let slot = env2.slots[i].clone();
                if let Value::Thunk(t) = &slot {
                    t.set(state);
                }
                entries.push(Attr { name: b.name, value: slot, pos: Some(b.span) });
            }
            env2
        } else {
            let from: Vec<Value> = a.inherit_from.iter().map(|e| self.thunk(e, env)).collect();
            for b in a.statics.iter() {
                let value = match &b.value {
                    BindingValue::Expr(e) | BindingValue::Inherit(e) => self.thunk(e, env),
                    BindingValue::InheritFrom { source } => {
                        Value::Thunk(Thunk::new(ThunkState::Select(from[*source as usize].clone(), b.name, b.span)))
                    }
                };
                entries.push(Attr { name: b.name, value, pos: Some(b.span) });
            }
            env.clone()
        };
        debug_assert!(entries.windows(2).all(|w| w[0].name < w[1].name), "lowering sorts static attributes");
        for d in a.dynamics.iter() {
            let name_v = self.eval(&d.name, &bind_env)?;
            let name = match name_v {
                Value::Null => continue,
                Value::String(s) => Symbol::from_bytes(s.as_bytes()),
                other => {
                    return Err(self
                        .type_error("a string", &other)
                        .with_span(d.name.span)
                        .context("while evaluating the name of a dynamic attribute", Some(d.span)));
                }
            };
            match entries.binary_search_by(|x| x.name.cmp(&name)) {
                Ok(i) => {
                    let prev = entries[i].pos.map(|p| p.position().to_string()).unwrap_or_default();
                    return Err(EvalError::at(
                        ErrorKind::Eval,
                        format!("dynamic attribute '{name}' already defined at {prev}"),
                        d.span,
                    ));
                }
                Err(i) => {
                    let value = self.thunk(&d.value, &bind_env);
                    entries.insert(i, Attr { name, value, pos: Some(d.span) });
                }
            }
        }
        let mut attrs = Attrs::from_sorted(entries);
        if a.rec
            && let Some(ov) = attrs.get(SYMS.overrides).cloned()
        {
            let ov = self.force(&ov)?;
            let Value::Attrs(ov) = ov else {
                return Err(self.type_error("a set", &ov).with_span(span));
            };
            for o in ov.iter() {
                if let Some(i) = a.statics.iter().position(|b| b.name == o.name)
                    && let Value::Thunk(t) = &bind_env.slots[i]
                {
                    let v = o.value.clone();
                    t.set(ThunkState::native(Rc::new(move |ev: &mut Evaluator| ev.force(&v))));
                }
            }
            attrs = attrs.update(&ov);
        }
        let _ = span;
        Ok(Value::Attrs(Rc::new(attrs)))
    }

    // --------------------------------------------------------------- calls

    /// Applies a function value to one argument.
    pub fn call(&mut self, f: Value, arg: Value, span: Span) -> EvalResult<Value> {
        self.check_stack()?;
        match f {
            Value::Lambda(c) => {
                if self.call_depth >= self.settings.max_call_depth {
                    return Err(call_depth_error(span));
                }
                if let Some(p) = self.profile.as_mut() {
                    *p.entry(c.lambda.span).or_default() += 1;
                }
                if let Some(t) = self.trace.as_mut() {
                    t.ran(c.lambda.span.file);
                }
                let env2 = match &c.lambda.param {
                    Param::Ident(_) => EnvData::call_frame(Some(c.env.clone()), smallvec::smallvec![arg]),
                    Param::Formals { .. } => self.formals_env(&c, arg, span)?,
                };
                self.call_depth += 1;
                let r = self.eval(&c.lambda.body, &env2);
                self.call_depth -= 1;
                r
            }
            other => self.call_other(other, arg, span),
        }
    }

    #[inline(never)]
    fn call_other(&mut self, f: Value, arg: Value, span: Span) -> EvalResult<Value> {
        if shared_mode() && matches!(f, Value::PrimOp(_) | Value::PrimOpApp(_) | Value::Native(_)) {
            // A Rust function called with clean inputs makes clean values,
            // though what its closures captured cannot be seen.
            let clean = crate::taint::taint(&f) == crate::taint::Taint::Clean
                && crate::taint::taint(&arg) == crate::taint::Taint::Clean;
            let r = self.call_native(f, arg, span)?;
            if clean {
                crate::taint::stamp_clean(&r);
            }
            return Ok(r);
        }
        self.call_native(f, arg, span)
    }

    #[inline]
    fn call_native(&mut self, f: Value, arg: Value, span: Span) -> EvalResult<Value> {
        match f {
            Value::PrimOp(op) => {
                if op.arity == 1 {
                    (op.func)(self, &[arg], span).map_err(|e| e.with_span(span))
                } else {
                    Ok(Value::PrimOpApp(Rc::new(PrimOpApp { op, args: vec![arg] })))
                }
            }
            Value::PrimOpApp(app) => {
                let mut args = Vec::with_capacity(app.args.len() + 1);
                args.extend(app.args.iter().cloned());
                args.push(arg);
                if args.len() == app.op.arity {
                    (app.op.func)(self, &args, span).map_err(|e| e.with_span(span))
                } else {
                    Ok(Value::PrimOpApp(Rc::new(PrimOpApp { op: app.op, args })))
                }
            }
            Value::Native(n) => (n.func)(self, arg, span),
            Value::Attrs(ref a) => match a.get(SYMS.functor) {
                Some(functor) => {
                    let functor = functor.clone();
                    let functor = self.force(&functor)?;
                    let partial = self.call(functor, f.clone(), span)?;
                    self.call(partial, arg, span)
                }
                None => Err(self.not_a_function(&f, span)),
            },
            Value::Thunk(t) => {
                let f = self.force_thunk(&t)?;
                self.call(f, arg, span)
            }
            other => Err(self.not_a_function(&other, span)),
        }
    }

    #[cold]
    #[inline(never)]
    fn not_a_function(&self, f: &Value, span: Span) -> EvalError {
        EvalError::at(
            ErrorKind::Type,
            format!(
                "attempt to call something which is not a function but {}: {}",
                f.describe(),
                self.show_value_short(f)
            ),
            span,
        )
    }

    /// Applies a function to several arguments in turn.
    pub fn call_n(&mut self, f: Value, args: &[Value], span: Span) -> EvalResult<Value> {
        let mut f = f;
        for a in args {
            f = self.force(&f)?;
            f = self.call(f, a.clone(), span)?;
        }
        Ok(f)
    }

    /// The call frame of a function with formals (`{ a, b ? 1, ... }@x:`).
    #[inline(never)]
    fn formals_env(&mut self, c: &Rc<Closure>, arg: Value, span: Span) -> EvalResult<Env> {
        let lam = &c.lambda;
        let env2 = match &lam.param {
            Param::Ident(_) => unreachable!("only called for formals"),
            Param::Formals { formals, ellipsis, at } => {
                let argv = self.force(&arg)?;
                let Value::Attrs(args) = &argv else {
                    return Err(self
                        .type_error("a set", &argv)
                        .with_span(span)
                        .context(format!("while calling {}", lambda_name(lam)), Some(lam.span)));
                };
                let mut slots: Slots = Slots::with_capacity(formals.len() + at.is_some() as usize);
                let mut pending_defaults: Vec<(usize, ExprRef)> = Vec::new();
                for (i, f) in formals.iter().enumerate() {
                    match args.get(f.name) {
                        Some(v) => slots.push(v.clone()),
                        None => match &f.default {
                            Some(d) => {
                                slots.push(Value::Thunk(Thunk::new(ThunkState::Blank)));
                                pending_defaults.push((i, d.clone()));
                            }
                            None => {
                                return Err(EvalError::at(
                                    ErrorKind::Type,
                                    format!(
                                        "function '{}' called without required argument '{}'",
                                        lambda_display_name(lam),
                                        f.name
                                    ),
                                    lam.span,
                                )
                                .context("from call site", Some(span)));
                            }
                        },
                    }
                }
                if !*ellipsis && args.len() > formals.len() - pending_defaults.len() {
                    for a in args.iter() {
                        if !formals.iter().any(|f| f.name == a.name) {
                            let names: Vec<String> = formals.iter().map(|f| f.name.to_string()).collect();
                            let mut err = EvalError::at(
                                ErrorKind::Type,
                                format!(
                                    "function '{}' called with unexpected argument '{}'",
                                    lambda_display_name(lam),
                                    a.name
                                ),
                                lam.span,
                            );
                            if let Some(hint) = did_you_mean(&a.name.to_string(), names.iter().map(|s| s.as_str())) {
                                err = err.with_hint(hint);
                            }
                            return Err(err.context("from call site", Some(span)));
                        }
                    }
                }
                if at.is_some() {
                    slots.push(argv.clone());
                }
                let env2 = EnvData::call_frame(Some(c.env.clone()), slots);
                for (i, d) in pending_defaults {
                    if let Value::Thunk(t) = &env2.slots[i] {
                        t.set(ThunkState::Pending(IrPtr::new(&*d), env2.clone()));
                    }
                }
                env2
            }
        };
        Ok(env2)
    }

    // ------------------------------------------------------------ operators

    #[inline(never)]
    fn eval_binop(&mut self, op: BinOp, lhs: &ExprRef, rhs: &ExprRef, env: &Env, span: Span) -> EvalResult<Value> {
        match op {
            BinOp::And => {
                let l = self.eval_bool(lhs, env, "in the left operand of the AND (&&) operator")?;
                if !l {
                    return Ok(Value::Bool(false));
                }
                Ok(Value::Bool(self.eval_bool(rhs, env, "in the right operand of the AND (&&) operator")?))
            }
            BinOp::Or => {
                let l = self.eval_bool(lhs, env, "in the left operand of the OR (||) operator")?;
                if l {
                    return Ok(Value::Bool(true));
                }
                Ok(Value::Bool(self.eval_bool(rhs, env, "in the right operand of the OR (||) operator")?))
            }
            BinOp::Impl => {
                let l = self.eval_bool(lhs, env, "in the left operand of the IMPL (->) operator")?;
                if !l {
                    return Ok(Value::Bool(true));
                }
                Ok(Value::Bool(self.eval_bool(rhs, env, "in the right operand of the IMPL (->) operator")?))
            }
            BinOp::Eq | BinOp::Neq => {
                let l = self.eval(lhs, env)?;
                let r = self.eval(rhs, env)?;
                let eq = self.equal(&l, &r, span)?;
                Ok(Value::Bool(if op == BinOp::Eq { eq } else { !eq }))
            }
            BinOp::Update => {
                let l = self.eval(lhs, env)?;
                let r = self.eval(rhs, env)?;
                if self.profile.is_some() {
                    let n = match (&l, &r) {
                        (Value::Attrs(a), Value::Attrs(b)) => (a.len() + b.len()) as u64,
                        _ => 0,
                    };
                    COUNTS.with(|c| c.borrow_mut()[3] += n);
                }
                let la = self.expect_attrs(&l).map_err(|e| {
                    e.with_span(lhs.span)
                        .context("while evaluating the first operand of the update (//) operator", Some(span))
                })?;
                let ra = self.expect_attrs(&r).map_err(|e| {
                    e.with_span(rhs.span)
                        .context("while evaluating the second operand of the update (//) operator", Some(span))
                })?;
                Ok(Value::Attrs(Rc::new(la.update(&ra))))
            }
            BinOp::Concat => {
                let l = self.eval(lhs, env)?;
                let r = self.eval(rhs, env)?;
                if self.profile.is_some() {
                    let n = match (&l, &r) {
                        (Value::List(a), Value::List(b)) => (a.len() + b.len()) as u64,
                        _ => 0,
                    };
                    COUNTS.with(|c| c.borrow_mut()[2] += n);
                }
                let ll = self.expect_list(&l).map_err(|e| e.with_span(lhs.span))?;
                let rl = self.expect_list(&r).map_err(|e| e.with_span(rhs.span))?;
                if ll.is_empty() {
                    return Ok(Value::List(rl));
                }
                if rl.is_empty() {
                    return Ok(Value::List(ll));
                }
                let mut out = Vec::with_capacity(ll.len() + rl.len());
                out.extend(ll.iter().cloned());
                out.extend(rl.iter().cloned());
                Ok(Value::List(Rc::new(out)))
            }
            BinOp::Add => {
                let l = self.eval(lhs, env)?;
                let r = self.eval(rhs, env)?;
                self.add(&l, &r, span)
            }
            BinOp::Sub | BinOp::Mul | BinOp::Div => {
                let l = self.eval(lhs, env)?;
                let r = self.eval(rhs, env)?;
                self.arith_values(op, &l, &r, span)
            }
            BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                let l = self.eval(lhs, env)?;
                let r = self.eval(rhs, env)?;
                let b = match op {
                    BinOp::Lt => self.less_than(&l, &r, span)?,
                    BinOp::Gt => self.less_than(&r, &l, span)?,
                    BinOp::Le => !self.less_than(&r, &l, span)?,
                    _ => !self.less_than(&l, &r, span)?,
                };
                Ok(Value::Bool(b))
            }
            BinOp::PipeLeft | BinOp::PipeRight => unreachable!("pipes are lowered to calls"),
        }
    }

    fn eval_bool(&mut self, e: &ExprRef, env: &Env, ctx: &str) -> EvalResult<bool> {
        match self.eval(e, env)? {
            Value::Bool(b) => Ok(b),
            other => Err(self.type_error("a Boolean", &other).with_span(e.span).context(ctx.to_string(), None)),
        }
    }

    /// `a + b` with Nix's rules for numbers, strings and paths.
    pub fn add(&mut self, l: &Value, r: &Value, span: Span) -> EvalResult<Value> {
        match (l, r) {
            (Value::Int(a), Value::Int(b)) => a
                .checked_add(*b)
                .map(Value::Int)
                .ok_or_else(|| EvalError::at(ErrorKind::Eval, format!("integer overflow in adding {a} + {b}"), span)),
            (Value::Int(a), Value::Float(b)) => Ok(Value::Float(*a as f64 + b)),
            (Value::Float(a), Value::Int(b)) => Ok(Value::Float(a + *b as f64)),
            (Value::Float(a), Value::Float(b)) => Ok(Value::Float(a + b)),
            (Value::Int(_) | Value::Float(_), other) => Err(EvalError::at(
                ErrorKind::Type,
                format!("cannot add {} to {}", other.describe(), l.describe()),
                span,
            )),
            (Value::Path(p), _) => {
                let s = self.coerce_to_string(r, Coerce::PLAIN, span)?;
                if s.has_context() {
                    return Err(EvalError::at(
                        ErrorKind::Eval,
                        "a string that refers to a store path cannot be appended to a path".to_string(),
                        span,
                    ));
                }
                let mut joined = p.to_string();
                joined.push_str(&s.to_str_lossy());
                Ok(Value::Path(PathStr::from(dendrite_syntax::lower::canon_path(&joined).as_str())))
            }
            _ => {
                let a = self.coerce_to_string(l, Coerce::INTERPOLATE, span)?;
                let b = self.coerce_to_string(r, Coerce::INTERPOLATE, span)?;
                Ok(Value::String(concat_strings(&[a, b])))
            }
        }
    }

    /// `-`, `*` and `/` on forced values.
    pub fn arith_values(&mut self, op: BinOp, l: &Value, r: &Value, span: Span) -> EvalResult<Value> {
        let (name, verb) = match op {
            BinOp::Sub => ("subtraction", "subtracting"),
            BinOp::Mul => ("multiplication", "multiplying"),
            _ => ("division", "dividing"),
        };
        let check = |ev: &Self, v: &Value, which: &str| -> EvalResult<()> {
            match v {
                Value::Int(_) | Value::Float(_) => Ok(()),
                other => Err(ev
                    .type_error("an integer", other)
                    .with_span(span)
                    .context(format!("while evaluating the {which} argument of the {name}"), None)),
            }
        };
        check(self, l, "first")?;
        check(self, r, "second")?;
        if op == BinOp::Div {
            let zero = match r {
                Value::Int(0) => true,
                Value::Float(f) => *f == 0.0,
                _ => false,
            };
            if zero {
                return Err(EvalError::at(ErrorKind::Eval, "division by zero", span));
            }
        }
        match (l, r) {
            (Value::Int(a), Value::Int(b)) => {
                let res = match op {
                    BinOp::Sub => a.checked_sub(*b),
                    BinOp::Mul => a.checked_mul(*b),
                    _ => a.checked_div(*b),
                };
                let sym = match op {
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    _ => "/",
                };
                res.map(Value::Int).ok_or_else(|| {
                    EvalError::at(ErrorKind::Eval, format!("integer overflow in {verb} {a} {sym} {b}"), span)
                })
            }
            _ => {
                let a = as_float(l);
                let b = as_float(r);
                Ok(Value::Float(match op {
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    _ => a / b,
                }))
            }
        }
    }

    /// `builtins.lessThan` semantics.
    pub fn less_than(&mut self, l: &Value, r: &Value, span: Span) -> EvalResult<bool> {
        match (l, r) {
            (Value::Int(a), Value::Int(b)) => Ok(a < b),
            (Value::Int(a), Value::Float(b)) => Ok((*a as f64) < *b),
            (Value::Float(a), Value::Int(b)) => Ok(*a < *b as f64),
            (Value::Float(a), Value::Float(b)) => Ok(a < b),
            (Value::String(a), Value::String(b)) => Ok(a.as_bytes() < b.as_bytes()),
            (Value::Path(a), Value::Path(b)) => Ok(a < b),
            (Value::List(a), Value::List(b)) => {
                let (a, b) = (a.clone(), b.clone());
                for (x, y) in a.iter().zip(b.iter()) {
                    let x = self.force(x)?;
                    let y = self.force(y)?;
                    if !self.equal(&x, &y, span)? {
                        return self.less_than(&x, &y, span);
                    }
                }
                Ok(a.len() < b.len())
            }
            _ => Err(EvalError::at(
                ErrorKind::Type,
                format!("cannot compare {} with {}", l.describe(), r.describe()),
                span,
            )),
        }
    }

    /// Deep equality (`==`) on forced values.
    pub fn equal(&mut self, l: &Value, r: &Value, span: Span) -> EvalResult<bool> {
        self.check_stack()?;
        match (l, r) {
            (Value::Null, Value::Null) => Ok(true),
            (Value::Bool(a), Value::Bool(b)) => Ok(a == b),
            (Value::Int(a), Value::Int(b)) => Ok(a == b),
            (Value::Int(a), Value::Float(b)) => Ok(*a as f64 == *b),
            (Value::Float(a), Value::Int(b)) => Ok(*a == *b as f64),
            (Value::Float(a), Value::Float(b)) => Ok(a == b),
            (Value::String(a), Value::String(b)) => Ok(a.as_bytes() == b.as_bytes()),
            (Value::Path(a), Value::Path(b)) => Ok(a == b),
            (Value::List(a), Value::List(b)) => {
                if Rc::ptr_eq(a, b) {
                    return Ok(true);
                }
                if a.len() != b.len() {
                    return Ok(false);
                }
                let (a, b) = (a.clone(), b.clone());
                for (x, y) in a.iter().zip(b.iter()) {
                    if !self.equal_nested(x, y, span)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (Value::Attrs(a), Value::Attrs(b)) => {
                if Rc::ptr_eq(a, b) {
                    return Ok(true);
                }
                let (a, b) = (a.clone(), b.clone());
                if self.is_derivation(&a)?
                    && self.is_derivation(&b)?
                    && let (Some(x), Some(y)) = (a.get(SYMS.out_path), b.get(SYMS.out_path))
                {
                    let (x, y) = (x.clone(), y.clone());
                    return self.equal_nested(&x, &y, span);
                }
                if a.len() != b.len() {
                    return Ok(false);
                }
                for (x, y) in a.iter().zip(b.iter()) {
                    if x.name != y.name {
                        return Ok(false);
                    }
                }
                for (x, y) in a.iter().zip(b.iter()) {
                    if !self.equal_nested(&x.value, &y.value, span)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (l, r) if l.is_function() && r.is_function() => Ok(false),
            _ => Ok(false),
        }
    }

    fn equal_nested(&mut self, x: &Value, y: &Value, span: Span) -> EvalResult<bool> {
        if let (Some(a), Some(b)) = (x.identity(), y.identity())
            && a == b
        {
            return Ok(true);
        }
        let x = self.force(x)?;
        let y = self.force(y)?;
        self.equal(&x, &y, span)
    }

    /// Whether an attribute set is a derivation (`type == "derivation"`).
    pub fn is_derivation(&mut self, a: &Attrs) -> EvalResult<bool> {
        match a.get(SYMS.type_) {
            Some(t) => {
                let t = t.clone();
                match self.force(&t)? {
                    Value::String(s) => Ok(s.as_bytes() == b"derivation"),
                    _ => Ok(false),
                }
            }
            None => Ok(false),
        }
    }

    // --------------------------------------------------------- interpolation

    #[inline(never)]
    fn eval_interpolated(&mut self, is_path: bool, parts: &[StrPart], env: &Env, span: Span) -> EvalResult<Value> {
        if is_path {
            let mut out = String::new();
            for (i, p) in parts.iter().enumerate() {
                match p {
                    StrPart::Lit(l) => out.push_str(&String::from_utf8_lossy(l)),
                    StrPart::Expr(e) => {
                        let v = self.eval(e, env)?;
                        if i == 0
                            && let Value::Path(p) = &v
                        {
                            out.push_str(p);
                            continue;
                        }
                        let s = self.coerce_to_string(&v, Coerce::PLAIN, e.span)?;
                        if s.has_context() {
                            return Err(EvalError::at(
                                ErrorKind::Eval,
                                "a string that refers to a store path cannot be appended to a path",
                                span,
                            ));
                        }
                        out.push_str(&s.to_str_lossy());
                    }
                }
            }
            return Ok(Value::Path(PathStr::from(dendrite_syntax::lower::canon_path(&out).as_str())));
        }
        let mut bytes = Vec::new();
        let mut ctx = Context::new();
        for p in parts {
            match p {
                StrPart::Lit(l) => bytes.extend_from_slice(l),
                StrPart::Expr(e) => {
                    let v = self.eval(e, env)?;
                    let s = self
                        .coerce_to_string(&v, Coerce::INTERPOLATE, e.span)
                        .map_err(|err| err.with_span(e.span).context("while evaluating a path segment", None))?;
                    bytes.extend_from_slice(s.as_bytes());
                    if let Some(c) = s.context() {
                        ctx.extend(c.iter().cloned());
                    }
                }
            }
        }
        Ok(Value::String(NixString::with_context(bytes, ctx)))
    }

    /// Coerces a value to a string (`"${v}"`, `toString v`, ...).
    pub fn coerce_to_string(&mut self, v: &Value, how: Coerce, span: Span) -> EvalResult<NixString> {
        let v = self.force(v)?;
        match &v {
            Value::String(s) => Ok(s.clone()),
            Value::Path(p) => {
                if how.copy_to_store {
                    let sp = self.copy_path_to_store(Path::new(&**p), span)?;
                    let mut ctx = Context::new();
                    ctx.insert(Rc::from(sp.as_str()));
                    Ok(NixString::with_context(sp.into_bytes(), ctx))
                } else {
                    Ok(NixString::from(p.to_string()))
                }
            }
            Value::Attrs(a) => {
                if let Some(f) = a.get(SYMS.to_string) {
                    let f = f.clone();
                    let f = self.force(&f)?;
                    let r = self.call(f, v.clone(), span)?;
                    let r = self.force(&r)?;
                    return self
                        .coerce_to_string(&r, how, span)
                        .map_err(|e| e.context("while evaluating the result of the `__toString` attribute", None));
                }
                if let Some(o) = a.get(SYMS.out_path) {
                    let o = o.clone();
                    return self.coerce_to_string(&o, how, span);
                }
                Err(EvalError::at(
                    ErrorKind::Type,
                    format!("cannot coerce a set to a string: {}", self.show_value_short(&v)),
                    span,
                ))
            }
            Value::Null if how.more => Ok(NixString::from("")),
            Value::Bool(b) if how.more => Ok(NixString::from(if *b { "1" } else { "" })),
            Value::Int(i) if how.more => {
                let mut buf = [0u8; 20];
                Ok(NixString::from_bytes(format_int(*i, &mut buf)))
            }
            Value::Float(f) if how.more => Ok(NixString::from(format!("{f:.6}"))),
            Value::List(l) if how.more => {
                let l = l.clone();
                let mut parts: Vec<NixString> = Vec::with_capacity(l.len() * 2);
                for (i, item) in l.iter().enumerate() {
                    let item = self.force(item)?;
                    let s = self.coerce_to_string(&item, how, span)?;
                    parts.push(s);
                    let is_empty_list = matches!(&item, Value::List(x) if x.is_empty());
                    if i + 1 < l.len() && !is_empty_list {
                        parts.push(NixString::from(" "));
                    }
                }
                Ok(concat_strings(&parts))
            }
            other => Err(EvalError::at(
                ErrorKind::Type,
                format!("cannot coerce {} to a string: {}", other.describe(), self.show_value_short(other)),
                span,
            )),
        }
    }

    /// Coerces to a path: a path value, or a string that is an absolute path.
    pub fn coerce_to_path(&mut self, v: &Value, span: Span) -> EvalResult<PathBuf> {
        let v = self.force(v)?;
        if let Value::Path(p) = &v {
            return Ok(PathBuf::from(&**p));
        }
        let s = self.coerce_to_string(&v, Coerce::PLAIN, span)?;
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

    // ------------------------------------------------------------- imports

    /// `import path`: evaluates a file once per path.
    pub fn import(&mut self, path: &Path, span: Span) -> EvalResult<Value> {
        let mut path = path.to_path_buf();
        if path.is_dir() && crate::fs::virtual_source(&path.to_string_lossy()).is_none() {
            path.push("default.nix");
        }
        if let Some(t) = self.trace.as_mut() {
            // The set's shape comes from the file even when no code of it runs.
            t.imports.insert(path.clone());
        }
        if let Some(v) = self.import_cache.get(&path) {
            return Ok(v.clone());
        }
        if let Some(v) = self.import_overrides.get(&path) {
            return Ok(v.clone());
        }
        let mut value = self.eval_file(&path, span)?;
        if let Some(hook) = self.import_hook.clone() {
            value = hook(self, &path, value)?;
        }
        self.import_cache.insert(path, value.clone());
        Ok(value)
    }

    /// The embedder state of type `T`, if installed.
    pub fn extension_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.extensions.get_mut(&std::any::TypeId::of::<T>()).and_then(|b| b.downcast_mut::<T>())
    }

    /// Installs (or replaces) embedder state of type `T`.
    pub fn set_extension<T: 'static>(&mut self, value: T) {
        self.extensions.insert(std::any::TypeId::of::<T>(), Box::new(value));
    }

    /// Removes and returns embedder state of type `T`.
    pub fn take_extension<T: 'static>(&mut self) -> Option<T> {
        self.extensions.remove(&std::any::TypeId::of::<T>()).and_then(|b| b.downcast::<T>().ok()).map(|b| *b)
    }

    /// Installs a function that may replace the value of imported files
    /// (the native module system replaces nixpkgs' `lib/modules.nix` ...).
    pub fn set_import_hook(&mut self, hook: ImportHook) {
        self.import_hook = Some(hook);
    }

    /// Parses, lowers and evaluates a file (uncached).
    pub fn eval_file(&mut self, path: &Path, span: Span) -> EvalResult<Value> {
        if let Some(text) = crate::fs::virtual_source(&path.to_string_lossy()) {
            let origin = Origin::Builtin(path.to_string_lossy().into_owned());
            return self.eval_string(&String::from_utf8_lossy(&text), origin);
        }
        let file = self.db.file(path).map_err(|e| {
            EvalError::at(ErrorKind::Io, format!("getting status of '{}': {}", path.display(), io_message(&e)), span)
        })?;
        let lowered = dendrite_syntax::lower_file(&self.db, file).clone();
        self.db.prefetch(&lowered.lowered.nix_paths);
        self.eval_lowered(&lowered)
    }

    /// Evaluates a lowered file, failing on its static errors.
    pub fn eval_lowered(&mut self, lowered: &dendrite_syntax::LoweredFile) -> EvalResult<Value> {
        self.check_static(lowered)?;
        retain_lowered(&lowered.lowered);
        let env = EnvData::new(None, Slots::new());
        self.eval(&lowered.lowered.root, &env)
    }

    /// Reports a file's lints as the settings ask and turns the first
    /// static error into an evaluation error.
    pub fn check_static(&mut self, lowered: &dendrite_syntax::LoweredFile) -> EvalResult<()> {
        use crate::settings::LintLevel;
        use dendrite_syntax::DiagnosticKind as K;
        for d in &lowered.lowered.diagnostics {
            let span = Span { file: lowered.file_id, start: d.range.start().into(), end: d.range.end().into() };
            if d.kind.is_error() {
                return Err(EvalError::at(ErrorKind::Parse, d.message.clone(), span));
            }
            let lit = &d.message;
            let (level, message) = match d.kind {
                K::AbsolutePathLiteral => (
                    self.settings.lint_absolute_path_literals,
                    format!(
                        "absolute path literals are not portable. Consider replacing path literal '{lit}' by a string, relative path, or parameter (lint-absolute-path-literals)"
                    ),
                ),
                K::HomePathLiteral => (
                    self.settings.lint_absolute_path_literals,
                    format!(
                        "home path literals are not portable. Consider replacing path literal '{lit}' by a string, relative path, or parameter (lint-absolute-path-literals)"
                    ),
                ),
                K::ShortPathLiteral => (
                    self.settings.lint_short_path_literals,
                    format!(
                        "relative path literal '{lit}' should be prefixed with '.' for clarity: './{lit}' (lint-short-path-literals)"
                    ),
                ),
                K::UrlLiteral => {
                    let level = self.settings.lint_url_literals;
                    let verb = if level == LintLevel::Fatal { "disallowed" } else { "discouraged" };
                    (
                        level,
                        format!(
                            "URL literals are {verb}. Consider using a string literal \"{lit}\" instead (lint-url-literals)"
                        ),
                    )
                }
                _ => continue,
            };
            match level {
                LintLevel::Ignore => {}
                LintLevel::Warn => {
                    let block = crate::error::position_block(span, "         ", "              ");
                    self.emit(format!("warning: {message}\n{block}"));
                }
                LintLevel::Fatal => return Err(EvalError::at(ErrorKind::Parse, message, span)),
            }
        }
        Ok(())
    }

    /// Evaluates source text (`-E`), with relative paths resolved in `base_dir`.
    pub fn eval_string(&mut self, text: &str, origin: Origin) -> EvalResult<Value> {
        let file = self.db.virtual_file(origin, Arc::from(text));
        let lowered = dendrite_syntax::lower_file(&self.db, file).clone();
        self.eval_lowered(&lowered)
    }

    /// `scopedImport scope path`.
    pub fn scoped_import(&mut self, scope: &Attrs, path: &Path, span: Span) -> EvalResult<Value> {
        let mut path = path.to_path_buf();
        if path.is_dir() {
            path.push("default.nix");
        }
        let file = self.db.file(&path).map_err(|e| {
            EvalError::at(ErrorKind::Io, format!("getting status of '{}': {}", path.display(), io_message(&e)), span)
        })?;
        let names: Vec<Symbol> = scope.iter().map(|a| a.name).collect();
        let lowered = dendrite_syntax::db::lower_with_scope(&self.db, file, &names);
        self.check_static(&lowered)?;
        retain_lowered(&lowered.lowered);
        let env = EnvData::call_frame(None, scope.iter().map(|a| a.value.clone()).collect());
        self.eval(&lowered.lowered.root, &env)
    }

    // ------------------------------------------------------------- helpers

    /// A "expected X but found Y: <value>" error.
    pub fn type_error(&self, expected: &str, found: &Value) -> EvalError {
        EvalError::type_error(format!(
            "expected {expected} but found {}: {}",
            found.describe(),
            self.show_value_short(found)
        ))
    }

    /// Forces and checks for an attribute set.
    pub fn expect_attrs(&mut self, v: &Value) -> EvalResult<Rc<Attrs>> {
        match self.force(v)? {
            Value::Attrs(a) => Ok(a),
            other => Err(self.type_error("a set", &other)),
        }
    }

    /// Forces and checks for a list.
    pub fn expect_list(&mut self, v: &Value) -> EvalResult<List> {
        match self.force(v)? {
            Value::List(l) => Ok(l),
            other => Err(self.type_error("a list", &other)),
        }
    }

    /// Forces and checks for an integer.
    pub fn expect_int(&mut self, v: &Value) -> EvalResult<i64> {
        match self.force(v)? {
            Value::Int(i) => Ok(i),
            other => Err(self.type_error("an integer", &other)),
        }
    }

    /// Forces and checks for a Boolean.
    pub fn expect_bool(&mut self, v: &Value) -> EvalResult<bool> {
        match self.force(v)? {
            Value::Bool(b) => Ok(b),
            other => Err(self.type_error("a Boolean", &other)),
        }
    }

    /// Forces and checks for a string (no coercion).
    pub fn expect_string(&mut self, v: &Value) -> EvalResult<NixString> {
        match self.force(v)? {
            Value::String(s) => Ok(s),
            other => Err(self.type_error("a string", &other)),
        }
    }

    /// Forces and checks for a function (or functor set).
    pub fn expect_function(&mut self, v: &Value) -> EvalResult<Value> {
        let f = self.force(v)?;
        match &f {
            _ if f.is_function() => Ok(f),
            Value::Attrs(a) if a.get(SYMS.functor).is_some() => Ok(f),
            other => Err(self.type_error("a function", other)),
        }
    }

    /// Forces a value deeply (`--strict`, `deepSeq`).
    pub fn deep_force(&mut self, v: &Value) -> EvalResult<Value> {
        let mut seen = rustc_hash::FxHashSet::default();
        self.deep_force_inner(v, &mut seen, 0)
    }

    fn deep_force_inner(
        &mut self,
        v: &Value,
        seen: &mut rustc_hash::FxHashSet<usize>,
        depth: usize,
    ) -> EvalResult<Value> {
        self.check_stack()?;
        if depth > self.settings.max_call_depth {
            return Err(EvalError::new(ErrorKind::StackOverflow, "stack overflow; max-call-depth exceeded"));
        }
        let f = self.force(v)?;
        match &f {
            Value::Attrs(a) => {
                if !seen.insert(Rc::as_ptr(a) as *const u8 as usize) {
                    return Ok(f);
                }
                for attr in a.iter() {
                    self.deep_force_inner(&attr.value, seen, depth + 1)
                        .map_err(|e| e.context(format!("while evaluating the attribute '{}'", attr.name), attr.pos))?;
                }
            }
            Value::List(l) => {
                if !seen.insert(Rc::as_ptr(l) as *const u8 as usize) {
                    return Ok(f);
                }
                for item in l.iter() {
                    self.deep_force_inner(item, seen, depth + 1)?;
                }
            }
            _ => {}
        }
        Ok(f)
    }

    /// A short printed form of a value for error messages.
    pub fn show_value_short(&self, v: &Value) -> String {
        crate::print::show_short(v)
    }

    /// Records a trace/warning message.
    pub fn emit(&mut self, msg: String) {
        if self.settings.print_traces {
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                eprintln!("{msg}");
            } else {
                eprintln!("{}", crate::error::strip_ansi(&msg));
            }
        }
        self.messages.push(msg);
    }
}

use std::sync::Arc;

#[cold]
#[inline(never)]
fn call_depth_error(span: Span) -> EvalError {
    EvalError::at(ErrorKind::StackOverflow, "stack overflow; max-call-depth exceeded", span)
}

/// Decimal digits of `i` in `buf` (no allocation).
fn format_int(i: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = i.unsigned_abs();
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    &buf[pos..]
}

thread_local! {
    static COUNTS: std::cell::RefCell<[u64; 4]> = const { std::cell::RefCell::new([0; 4]) };
}

fn p_total(p: &Option<FxHashMap<Span, u64>>) -> u64 {
    p.as_ref().map(|m| m.values().sum()).unwrap_or(0)
}

#[inline]
fn lookup_slot(env: &Env, depth: u32, index: u32) -> &Value {
    let mut e = env;
    for _ in 0..depth {
        e = e.parent.as_ref().expect("variable depth within env chain");
    }
    &e.slots[index as usize]
}

fn as_float(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

/// Concatenates strings, merging their contexts.
pub fn concat_strings(parts: &[NixString]) -> NixString {
    let len = parts.iter().map(|p| p.as_bytes().len()).sum();
    let mut bytes = Vec::with_capacity(len);
    let mut ctx: Option<Context> = None;
    for p in parts {
        bytes.extend_from_slice(p.as_bytes());
        if let Some(c) = p.context() {
            ctx.get_or_insert_with(Context::new).extend(c.iter().cloned());
        }
    }
    match ctx {
        Some(c) => NixString::with_context(bytes, c),
        None => NixString::new(bytes),
    }
}

fn show_path(path: &[AttrKey], upto: usize, last: Symbol) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (i, k) in path.iter().enumerate().take(upto) {
        let _ = i;
        parts.push(match k {
            AttrKey::Static(s) => s.to_string(),
            AttrKey::Dynamic(_) => "\"${...}\"".to_string(),
        });
    }
    parts.push(last.to_string());
    parts.join(".")
}

/// "attribute 'x' missing" with Nix's "Did you mean" hint.
pub fn missing_attr(name: Symbol, attrs: &Attrs) -> EvalError {
    if attrs.is_open() {
        return EvalError::new(ErrorKind::Unknown, format!("attribute '{name}' is not known to dendrite"));
    }
    let mut err = EvalError::new(ErrorKind::MissingAttribute, format!("attribute '{name}' missing"));
    let names: Vec<String> = attrs.iter().map(|a| a.name.to_string()).collect();
    if let Some(hint) = did_you_mean(&name.to_string(), names.iter().map(|s| s.as_str())) {
        err = err.with_hint(hint);
    }
    err
}

/// Nix's suggestion line: "Did you mean one of a, b or c?".
pub fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut scored: Vec<(usize, &str)> = candidates
        .filter_map(|c| {
            let d = levenshtein(name, c);
            (d <= 2).then_some((d, c))
        })
        .collect();
    scored.sort();
    scored.truncate(10);
    match scored.len() {
        0 => None,
        1 => Some(format!("Did you mean {}?", scored[0].1)),
        _ => {
            let names: Vec<&str> = scored.iter().map(|(_, c)| *c).collect();
            let (last, rest) = names.split_last().expect("non-empty");
            Some(format!("Did you mean one of {} or {last}?", rest.join(", ")))
        }
    }
}

/// Edit distance between two strings.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn lambda_name(lam: &dendrite_syntax::ir::LambdaExpr) -> String {
    match lam.name {
        Some(n) => format!("'{n}'"),
        None => "anonymous lambda".to_string(),
    }
}

fn lambda_display_name(lam: &dendrite_syntax::ir::LambdaExpr) -> String {
    match lam.name {
        Some(n) => n.to_string(),
        None => "anonymous lambda".to_string(),
    }
}

/// The source text of a span (for assertion messages).
pub fn span_text(span: Span) -> String {
    let info = span.file.info();
    let text = info.text.get(span.start as usize..span.end as usize).unwrap_or("");
    text.to_string()
}

/// The OS error text without Rust's " (os error N)" suffix.
pub fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn current_thread_stack_size() -> usize {
    STACK_SIZE.with(|s| s.get())
}

thread_local! {
    static STACK_SIZE: std::cell::Cell<usize> = const { std::cell::Cell::new(8 * 1024 * 1024) };
}

/// Runs `f` on a new thread with a stack large enough for deep Nix
/// recursion, and returns its result.
pub fn run_with_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let handle = std::thread::Builder::new()
        .name("dendrite-eval".into())
        .stack_size(EVAL_STACK_SIZE)
        .spawn(move || {
            STACK_SIZE.with(|s| s.set(EVAL_STACK_SIZE));
            f()
        })
        .expect("spawning the evaluation thread");
    match handle.join() {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

#[allow(dead_code)]
fn _assert_expr_size() {
    let _ = std::mem::size_of::<Expr>();
}

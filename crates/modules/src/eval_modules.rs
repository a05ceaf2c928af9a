//! `evalModules`: collecting modules through `imports`, passing module
//! arguments, merging option declarations and definitions, and building the
//! configuration, with the laziness and the messages of nixpkgs'
//! `lib/modules.nix`.
//!
//! Values are built as ordinary Nix values, lazily: every part nixpkgs
//! computes on demand (`config`, `options`, each option's value, the module
//! graph) is a thunk here too, so configurations that refer to themselves
//! evaluate exactly when they do in Nix.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use dendrite_eval::eval::missing_attr;
use dendrite_eval::native::{native, string};
use dendrite_eval::value::{Attr, Attrs, NixString, Value};
use dendrite_eval::{ErrorKind, EvalError, EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::props::{self, DEFAULT_OVERRIDE_PRIORITY, Def};
use crate::share::{self, Src};
use dendrite_eval::world::World;

mod bundle;

/// `<unknown-file>`, the file of definitions whose origin is unknown.
pub const UNKNOWN_MODULE: &str = "<unknown-file>";

fn sym(s: &str) -> Symbol {
    Symbol::new(s)
}

use dendrite_syntax::sym;

fn str_value(s: impl AsRef<str>) -> Value {
    string(s)
}

fn throw(msg: impl Into<String>) -> EvalError {
    EvalError::new(ErrorKind::Throw, msg)
}

/// Gets a (lazy) attribute of a set value, forcing only the set.
fn get(ev: &mut Evaluator, v: &Value, name: &str) -> EvalResult<Option<Value>> {
    ev.attr_of(v, name)
}

/// Selects a lib function lazily by path (`lib.types.submoduleWith`).
fn lib_fn(ev: &mut Evaluator, lib: &Value, path: &[&str], span: Span) -> EvalResult<Value> {
    let mut v = lib.clone();
    for p in path {
        v = ev.select_str(&v, p, span)?;
    }
    Ok(v)
}

fn to_string(ev: &mut Evaluator, v: &Value, span: Span) -> EvalResult<String> {
    Ok(ev.coerce_to_string(v, dendrite_eval::eval::Coerce::TO_STRING, span)?.to_str_lossy().into_owned())
}

/// An option's location, made once and shared by everything made for the
/// option (its record, its merge, its messages).
struct Loc {
    parts: Vec<String>,
    value: OnceCell<Value>,
}

impl Loc {
    fn new(parts: Vec<String>) -> Rc<Loc> {
        Rc::new(Loc { parts, value: OnceCell::new() })
    }

    /// The location as a Nix list of strings (the same list each time).
    fn value(&self) -> Value {
        self.value.get_or_init(|| list_of_strings(&self.parts)).clone()
    }
}

impl std::ops::Deref for Loc {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.parts
    }
}

fn list_of_strings(items: &[String]) -> Value {
    Value::list(items.iter().map(str_value).collect())
}

/// `lib.isFunction`: a function, or a set whose `__functor` yields one.
pub fn is_function(ev: &mut Evaluator, v: &Value, span: Span) -> EvalResult<bool> {
    let v = ev.force(v)?;
    if v.is_function() {
        return Ok(true);
    }
    if let Value::Attrs(a) = &v
        && let Some(f) = a.get(sym!("__functor")).cloned()
    {
        let applied = ev.call_n(f, std::slice::from_ref(&v), span)?;
        return Ok(ev.force(&applied)?.is_function());
    }
    Ok(false)
}

/// `lib.functionArgs`: the formals of a function (`__functionArgs` of functors).
pub fn function_args(ev: &mut Evaluator, f: &Value, span: Span) -> EvalResult<Rc<Attrs>> {
    let f = ev.force(f)?;
    if let Value::Attrs(a) = &f
        && let Some(functor) = a.get(sym!("__functor")).cloned()
    {
        if let Some(args) = a.get(sym!("__functionArgs")).cloned() {
            return ev.expect_attrs(&args);
        }
        let applied = ev.call_n(functor, std::slice::from_ref(&f), span)?;
        return function_args(ev, &applied, span);
    }
    let fa = dendrite_eval::builtins::primop("functionArgs").expect("functionArgs builtin");
    let r = (fa.func)(ev, &[f], span)?;
    ev.expect_attrs(&r)
}

/// `showOption`, through `lib` (it is only used for messages).
fn show_option(ev: &mut Evaluator, lib: &Value, loc: &[String], span: Span) -> EvalResult<String> {
    let f = lib_fn(ev, lib, &["showOption"], span)?;
    let r = ev.call(f, list_of_strings(loc), span)?;
    Ok(ev.expect_string(&r)?.to_str_lossy().into_owned())
}

fn show_defs(ev: &mut Evaluator, lib: &Value, defs: &[Def], span: Span) -> EvalResult<String> {
    let f = lib_fn(ev, lib, &["options", "showDefs"], span)?;
    let list = Value::list(defs.iter().map(Def::to_value).collect());
    let r = ev.call(f, list, span)?;
    Ok(ev.expect_string(&r)?.to_str_lossy().into_owned())
}

fn show_files(ev: &mut Evaluator, files: &Value, span: Span) -> EvalResult<String> {
    let files = ev.expect_list(files)?;
    let mut parts = Vec::new();
    for f in files.iter() {
        parts.push(format!("`{}'", to_string(ev, f, span)?));
    }
    Ok(parts.join(" and "))
}

// ------------------------------------------------------------------ modules

/// A module in the canonical form `unifyModuleSyntax` produces. `file`
/// and `key` are strings; the other parts may be a shared template's.
#[derive(Clone)]
struct Module {
    file: Value,
    class: Src,
    key: Value,
    disabled_modules: Src,
    imports: Src,
    options: Src,
    config: Src,
    /// The template it was made from, whose holes a configuration binds.
    template: Option<Rc<share::Template>>,
    /// Whether `file` is the importing module's (no `_file` of its own).
    file_inherited: bool,
    /// Whether `key` is derived from the importing module's (no `key`).
    key_inherited: bool,
}

impl Module {
    /// The module with its template parts used by configuration `w`.
    fn in_world(&self, w: &Option<Rc<World>>) -> Module {
        let re = |x: &Src| Src { v: x.v.clone(), w: if x.w.is_some() { w.clone() } else { None } };
        Module {
            file: self.file.clone(),
            class: re(&self.class),
            key: self.key.clone(),
            disabled_modules: re(&self.disabled_modules),
            imports: re(&self.imports),
            options: re(&self.options),
            config: re(&self.config),
            template: self.template.clone(),
            file_inherited: self.file_inherited,
            key_inherited: self.key_inherited,
        }
    }
}

/// The arguments every module receives (built once per evaluation).
struct ModuleArgs {
    args: Rc<Attrs>,
    config: Value,
    /// The checker's record of this evaluation, if it keeps one.
    record: Option<usize>,
    /// This evaluation's copies of shared templates' values.
    world: Rc<World>,
    /// The signature of `args` without `config` and `options`, when
    /// modules may be shared with other evaluations that have it too.
    sig: Option<u32>,
}

const MODULE_ATTRS: &[&str] =
    &["_class", "_file", "key", "disabledModules", "imports", "options", "config", "meta", "freeformType"];

fn to_string_or(ev: &mut Evaluator, m: &Src, a: &Attrs, name: &str, default: &str, span: Span) -> EvalResult<Value> {
    match a.get(sym(name)) {
        Some(v) => match m.child(v.clone()).force(ev)?.value()? {
            // Already a plain string: the same value, not a copy.
            Value::String(s) if !s.has_context() && std::str::from_utf8(s.as_bytes()).is_ok() => Ok(Value::String(s)),
            v => Ok(str_value(to_string(ev, &v, span)?)),
        },
        None => Ok(name_value(default)),
    }
}

/// `unifyModuleSyntax file key m`.
fn unify(ev: &mut Evaluator, file: &str, key: &str, m: &Src, span: Span) -> EvalResult<Module> {
    let mv = m.force(ev)?;
    let Value::Attrs(a) = &mv.v else {
        return Err(throw(format!("module {file} ({key}) does not look like a module.")));
    };
    let w = &mv.w;
    let meta = a.get(sym!("meta")).cloned();
    let freeform = a.get(sym!("freeformType")).cloned();
    // What is made from a template's values is made once for every
    // configuration (`share::derived`), in shared mode.
    let wrap = |config: Value| -> Value {
        if meta.is_none() && freeform.is_none() {
            return config;
        }
        share::derived(w, &mv.v, 1, || {
            share::making(w, || {
                let mut config = config;
                if let Some(meta) = &meta {
                    config = merge_of(vec![config, Value::attrs(vec![Attr::new(sym!("meta"), meta.clone())])]);
                }
                if let Some(ft) = &freeform {
                    let inner = Value::attrs(vec![Attr::new(sym!("freeformType"), ft.clone())]);
                    config = merge_of(vec![config, Value::attrs(vec![Attr::new(sym!("_module"), inner)])]);
                }
                config
            })
        })
    };
    let part = |v: Option<Value>, default: fn() -> Value| -> Src { mv.child(v.unwrap_or_else(default)) };
    let class = part(a.get(sym!("_class")).cloned(), || Value::Null);
    let disabled = part(a.get(sym!("disabledModules")).cloned(), empty_list);
    if a.get(sym!("config")).is_some() || a.get(sym!("options")).is_some() {
        let bad: Vec<String> =
            a.iter().map(|x| x.name.to_string()).filter(|n| !MODULE_ATTRS.contains(&n.as_str())).collect();
        if let Some(first) = bad.first() {
            return Err(throw(format!(
                "Module `{key}' has an unsupported attribute `{first}'. This is caused by introducing a top-level `config' or `options' attribute. Add configuration attributes immediately on the top level instead, or move all of them (namely: {}) into the explicit `config' attribute.",
                bad.join(" ")
            )));
        }
        let config = wrap(a.get(sym!("config")).cloned().unwrap_or_else(empty_attrs));
        return Ok(Module {
            template: None,
            file_inherited: a.get(sym!("_file")).is_none(),
            key_inherited: a.get(sym!("key")).is_none(),
            file: to_string_or(ev, &mv, a, "_file", file, span)?,
            class,
            key: to_string_or(ev, &mv, a, "key", key, span)?,
            disabled_modules: disabled,
            imports: part(a.get(sym!("imports")).cloned(), || Value::list(vec![])),
            options: part(a.get(sym!("options")).cloned(), empty_attrs),
            config: mv.child(config),
        });
    }
    // Shorthand: everything else is config.
    let removed = ["_class", "_file", "key", "disabledModules", "require", "imports", "freeformType"];
    let config = share::derived(w, &mv.v, 2, || {
        share::making(w, || {
            let config: Vec<Attr> = a.iter().filter(|x| !removed.contains(&&*x.name.as_str())).cloned().collect();
            // Shorthand modules keep `meta` in their config; only a freeform type is added.
            let mut config = Value::Attrs(Rc::new(Attrs::from_sorted(config)));
            if let Some(ft) = &freeform {
                let inner = Value::attrs(vec![Attr::new(sym!("freeformType"), ft.clone())]);
                config = merge_of(vec![config, Value::attrs(vec![Attr::new(sym!("_module"), inner)])]);
            }
            config
        })
    });
    let require = a.get(sym!("require")).cloned();
    let imports = a.get(sym!("imports")).cloned();
    let imports = match (require, imports) {
        (None, None) => Value::list(vec![]),
        (None, Some(i)) => i,
        (r, i) => share::derived(w, &mv.v, 3, || {
            share::making(w, || {
                let r = r.unwrap_or_else(|| Value::list(vec![]));
                let i = i.unwrap_or_else(|| Value::list(vec![]));
                Value::lazy(move |ev: &mut Evaluator| {
                    let mut out: Vec<Value> = ev.expect_list(&r)?.iter().cloned().collect();
                    out.extend(ev.expect_list(&i)?.iter().cloned());
                    Ok(Value::list(out))
                })
            })
        }),
    };
    Ok(Module {
        template: None,
        file_inherited: a.get(sym!("_file")).is_none(),
        key_inherited: a.get(sym!("key")).is_none(),
        file: to_string_or(ev, &mv, a, "_file", file, span)?,
        class,
        key: to_string_or(ev, &mv, a, "key", key, span)?,
        disabled_modules: disabled,
        imports: mv.child(imports),
        options: mv.child(empty_attrs()),
        config: mv.child(config),
    })
}

/// `[ ]`: one value for every module that has no `disabledModules`.
fn empty_list() -> Value {
    thread_local! {
        static EMPTY: Value = Value::list(vec![]);
    }
    EMPTY.with(|e| e.clone())
}

/// `{ }`: one value for every module that leaves out `options` or `config`
/// (an empty set has nothing to tell apart).
fn empty_attrs() -> Value {
    thread_local! {
        static EMPTY: Value = Value::Attrs(Rc::new(Attrs::empty()));
    }
    EMPTY.with(|e| e.clone())
}

/// A module's file or key as a string value, one value per text: every
/// configuration loads the same modules with the same names.
fn name_value(s: &str) -> Value {
    thread_local! {
        static NAMES: RefCell<FxHashMap<Box<str>, Value>> = RefCell::new(FxHashMap::default());
    }
    NAMES.with(|n| {
        if let Some(v) = n.borrow().get(s) {
            return v.clone();
        }
        let v = str_value(s);
        n.borrow_mut().insert(s.into(), v.clone());
        v
    })
}

fn merge_of(contents: Vec<Value>) -> Value {
    Value::attrs(vec![
        Attr::new(sym!("_type"), Value::String(NixString::from("merge"))),
        Attr::new(sym!("contents"), Value::list(contents)),
    ])
}

/// Whether forcing `v` is free and cannot fail.
fn is_evaluated(v: &Value) -> bool {
    match v {
        Value::Thunk(t) => t.peek(|s| matches!(s, dendrite_eval::value::ThunkState::Done(_))),
        _ => true,
    }
}

/// The value of module argument `name` for a module (`key`) of this
/// evaluation: `specialArgs` and the built-in arguments first, then
/// `config._module.args`.
fn module_arg(margs: &ModuleArgs, key: &Rc<str>, name: Symbol, span: Span) -> Value {
    let context = {
        let key = key.clone();
        move || format!("while evaluating the module argument `{name}' in \"{key}\":")
    };
    match margs.args.get(name) {
        // A value that is already evaluated cannot fail, so it needs no
        // error context and is passed as it is.
        Some(v) if is_evaluated(v) => v.clone(),
        Some(v) => {
            let v = v.clone();
            Value::lazy(move |ev: &mut Evaluator| ev.force(&v).map_err(|e| e.context(context(), None)))
        }
        None => {
            let config = margs.config.clone();
            let record = margs.record;
            Value::lazy(move |ev: &mut Evaluator| {
                let r = (|| -> EvalResult<Value> {
                    let m = ev.select_str(&config, "_module", span)?;
                    let a = ev.select_str(&m, "args", span)?;
                    ev.select_one(&a, name, span)
                })();
                // A module left out as unknown may be what provides it.
                let r = match r {
                    Err(e) if e.kind() == ErrorKind::MissingAttribute && crate::record::is_incomplete(ev, record) => {
                        Err(crate::lenient::unknown_error(&format!("module argument `{name}`")))
                    }
                    r => r,
                };
                r.map_err(|e| {
                    e.context(
                        format!(
                            "noting that argument `{name}` is not externally provided, so querying `_module.args` instead, requiring `config`"
                        ),
                        None,
                    )
                    .context(context(), None)
                })
            })
        }
    }
}

/// The arguments only one configuration can provide: a module that reads
/// them cannot be shared as it is.
fn per_configuration(margs: &ModuleArgs, name: Symbol) -> bool {
    name == sym!("config") || name == sym!("options") || margs.args.get(name).is_none()
}

/// `applyModuleArgs key f args`: calls a module function with the
/// arguments it asks for, `specialArgs` first, then `_module.args`.
fn apply_module_args(ev: &mut Evaluator, key: &str, f: &Value, margs: &ModuleArgs, span: Span) -> EvalResult<Value> {
    let formals = function_args(ev, f, span)?;
    if margs.record.is_some() {
        let forced = ev.force(f)?;
        crate::record::requests(ev, margs.record, key, &forced, &formals);
    }
    let mut extra = Vec::with_capacity(formals.len());
    // One copy of the key per module; the message is only made on error.
    let key: Rc<str> = Rc::from(key);
    for formal in formals.iter() {
        extra.push(Attr::new(formal.name, module_arg(margs, &key, formal.name, span)));
    }
    let all = margs.args.update(&Attrs::from_sorted(extra));
    ev.call(f.clone(), Value::Attrs(Rc::new(all)), span)
}

/// The shared template of module function `f` for this evaluation's
/// arguments, made on first use: `f` called in shared mode with a hole for
/// each argument that belongs to one configuration. `None` when `f` cannot
/// be shared (not a plain function, or it needs a configuration to give
/// its module's shape).
fn module_template(ev: &mut Evaluator, f: &Value, margs: &ModuleArgs, span: Span) -> Option<Rc<share::Template>> {
    let sig = margs.sig?;
    if !matches!(f, Value::Lambda(_)) {
        return None;
    }
    share::template(f, sig, || {
        let formals = function_args(ev, f, span).ok()?;
        let mut holes = Vec::new();
        let mut args: Vec<Attr> = Vec::with_capacity(margs.args.len() + formals.len());
        for a in margs.args.iter() {
            if per_configuration(margs, a.name) {
                // The same value for every module of a configuration: one
                // hole for every template of the signature.
                let hole = share::arg_hole(sig, a.name);
                holes.push(share::Hole { name: a.name, hole: hole.clone() });
                args.push(Attr::new(a.name, hole));
            } else {
                args.push(a.clone());
            }
        }
        let shared_holes = holes.len();
        for formal in formals.iter() {
            if margs.args.get(formal.name).is_none() {
                let hole = share::hole();
                holes.push(share::Hole { name: formal.name, hole: hole.clone() });
                args.push(Attr::new(formal.name, hole));
            }
        }
        let args = share::making(&Some(margs.world.clone()), || Value::Attrs(Rc::new(Attrs::from_unsorted(args))));
        let result = ev
            .in_shared_mode(share::FUEL, |ev| {
                let r = ev.call(f.clone(), args, span)?;
                ev.force(&r)
            })
            .ok()?;
        Some(Rc::new(share::Template { holes, shared_holes, result }))
    })
}

struct Collector<'a> {
    lib: &'a Value,
    class: Option<String>,
    /// `class` as a number, for the collection memo.
    class_id: u32,
    prefix: Vec<String>,
    margs: ModuleArgs,
    span: Span,
    /// Trees this collection made the memo keep (at their second
    /// sighting), by address: used whole already, see [`Collector::kept`].
    fresh: RefCell<FxHashMap<usize, collect_memo::Key>>,
}

/// One collected module and what it imports (`collectStructuredModules`).
struct Structured {
    key: NixString,
    module: Rc<Module>,
    children: Vec<Rc<Structured>>,
    /// Its place in the importing list (1-based), which an anonymous
    /// module's key is made from.
    index: usize,
    /// A remembered tree used whole (`module` is its root, `children`
    /// are left empty): see [`bundle`].
    bundle: Option<Rc<bundle::Use>>,
}

struct Disabled {
    file: Value,
    disabled: Value,
}

impl Collector<'_> {
    fn load(&self, ev: &mut Evaluator, fallback_file: &str, fallback_key: &str, m: &Src) -> EvalResult<Module> {
        let span = self.span;
        let mut mv = m.force(ev)?;
        // A functor of a template is called by the configuration's copy.
        if mv.is_shared() && matches!(&mv.v, Value::Attrs(a) if a.get(sym!("__functor")).is_some()) {
            mv = Src::own(mv.value()?);
        }
        if is_function(ev, &mv.v, span)? {
            if let Some(t) = module_template(ev, &mv.v, &self.margs, span) {
                return self.load_template(ev, &t, &mv.v, fallback_file, fallback_key);
            }
            let f = mv.value()?;
            // Called with this configuration's arguments: what it makes is
            // this configuration's alone.
            dendrite_eval::world::note_configuration_use();
            let applied = apply_module_args(ev, fallback_key, &f, &self.margs, span)?;
            return unify(ev, fallback_file, fallback_key, &Src::own(applied), span);
        }
        match &mv.v {
            Value::Attrs(a) => {
                let t = match a.get(sym!("_type")).cloned() {
                    Some(t) => Some(mv.child(t).force(ev)?.value()?),
                    None => None,
                };
                let t_str = match &t {
                    None => Some("module".to_string()),
                    Some(Value::String(s)) => Some(s.to_str_lossy().into_owned()),
                    Some(_) => None,
                };
                match t_str.as_deref() {
                    Some("module") => unify(ev, fallback_file, fallback_key, &mv, span),
                    Some("if") | Some("override") => {
                        let wrapped = Value::attrs(vec![Attr::new(sym!("config"), mv.value()?)]);
                        self.load(ev, fallback_file, fallback_key, &Src::own(wrapped))
                    }
                    _ => Err(self.not_a_module(ev, fallback_file, t.unwrap_or(Value::Null))?),
                }
            }
            Value::List(_) => {
                let def =
                    Def { file: str_value(fallback_file), value: mv.value()?, full: None, pos: None, world: None };
                let shown = show_defs(ev, self.lib, &[def], span)?;
                Err(throw(format!(
                    "Module imports can't be nested lists. Perhaps you meant to remove one level of lists? Definitions: {shown}"
                )))
            }
            _ => {
                let mv = mv.value()?;
                let path = to_string(ev, &mv, span)?;
                let imported = {
                    let import = dendrite_eval::builtins::primop("import").expect("import builtin");
                    (import.func)(ev, std::slice::from_ref(&mv), span)?
                };
                let module = if is_function(ev, &imported, span)? {
                    match module_template(ev, &imported, &self.margs, span) {
                        Some(t) => self.load_template(ev, &t, &imported, &path, &path)?,
                        None => {
                            dendrite_eval::world::note_configuration_use();
                            let applied = apply_module_args(ev, &path, &imported, &self.margs, span)?;
                            unify(ev, &path, &path, &Src::own(applied), span)?
                        }
                    }
                } else {
                    unify(ev, &path, &path, &Src::own(imported), span)?
                };
                // The fallbacks are the path's own, not the importer's.
                Ok(Module { file_inherited: false, key_inherited: false, ..module })
            }
        }
    }

    /// A module from a shared template: this evaluation's arguments fill
    /// the template's holes, and its parts are the template's.
    fn load_template(
        &self,
        ev: &mut Evaluator,
        t: &Rc<share::Template>,
        f: &Value,
        file: &str,
        key: &str,
    ) -> EvalResult<Module> {
        let span = self.span;
        let margs = &self.margs;
        let world = &margs.world;
        if margs.record.is_some() {
            let formals = function_args(ev, f, span)?;
            crate::record::requests(ev, margs.record, key, f, &formals);
        }
        self.bind_holes(t, key.as_bytes());
        let module = unify(ev, file, key, &Src::shared(t.result.clone(), &Some(world.clone())), span)?;
        Ok(Module { template: Some(t.clone()), ..module })
    }

    /// Binds template `t`'s holes in this configuration: the signature's
    /// by the first template a configuration loads, a template's own ones
    /// by that template (module `key` names it in errors).
    fn bind_holes(&self, t: &share::Template, key: &[u8]) {
        let margs = &self.margs;
        let world = &margs.world;
        let (shared, own) = t.holes.split_at(t.shared_holes);
        for holes in [shared, own] {
            if let Some(first) = holes.first()
                && !world.binds(&first.hole)
            {
                let key: Rc<str> = Rc::from(&*String::from_utf8_lossy(key));
                for h in holes {
                    let value = match margs.args.get(h.name) {
                        Some(v) => v.clone(),
                        None => module_arg(margs, &key, h.name, self.span),
                    };
                    world.bind(&h.hole, value);
                }
            }
        }
    }

    fn not_a_module(&self, ev: &mut Evaluator, fallback_file: &str, t: Value) -> EvalResult<EvalError> {
        let span = self.span;
        let esc = "\u{1b}";
        let warn = |s: &str| format!("{esc}[1;35m{s}{esc}[0m");
        let good = |s: &str| format!("{esc}[1;32m{s}{esc}[0m");
        let code = |s: &str| format!("{esc}[1m{s}{esc}[0m");
        let escape = lib_fn(ev, self.lib, &["strings", "escapeNixString"], span)?;
        let shown_type = ev.call(escape, t.clone(), span)?;
        let shown_type = ev.expect_string(&shown_type)?.to_str_lossy().into_owned();
        let into_file = if fallback_file != UNKNOWN_MODULE {
            format!(", while trying to load a module into {fallback_file}")
        } else {
            String::new()
        };
        let into_prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!(", while trying to load a module into {}", code(&show_option(ev, self.lib, &self.prefix, span)?))
        };
        let mut paragraphs = vec![format!(
            "Expected a module, but found a value of type {}{into_file}{into_prefix}.\nA module is typically loaded by adding it to the {} attribute of an existing module, or in the {} argument of various functions.\nPlease make sure that each of the list items is a module, and not a different kind of value.",
            warn(&shown_type),
            code("imports = [ ... ];"),
            code("modules = [ ... ];")
        )];
        let t_str = match &t {
            Value::String(s) => Some(s.to_str_lossy().into_owned()),
            _ => None,
        };
        match t_str.as_deref() {
            Some("configuration") => paragraphs.push(
                "If you really mean to import this configuration, instead please only import the modules that make up the configuration.\nYou may have to create a `let` binding, file or attribute to give yourself access to the relevant modules.\nWhile loading a configuration into the module system is a very sensible idea, it can not be done cleanly in practice.".to_string(),
            ),
            Some("flake") => {
                let suffix = match &self.class {
                    None => good(".modules.someApp.default"),
                    Some(c) => good(&format!(".modules.{c}.default")),
                };
                let mut lines = vec![format!(
                    "Perhaps you forgot to select an attribute name?\nInstead of, for example,\n    {}\nyou need to write something like\n    {}{suffix}",
                    warn("inputs.someflake"),
                    warn("inputs.someflake")
                )];
                match self.class.as_deref() {
                    Some("nixos") => lines.push(format!("or\n    {}{}", warn("inputs.someflake"), good(".nixosModules.default"))),
                    Some("darwin") => {
                        lines.push(format!("or\n    {}{}", warn("inputs.someflake"), good(".darwinModules.default")))
                    }
                    _ => {}
                }
                paragraphs.push(lines.join("\n"));
            }
            _ => {}
        }
        Ok(throw(paragraphs.join("\n\n")))
    }

    fn check_class(&self, ev: &mut Evaluator, m: &Module) -> EvalResult<()> {
        let Some(class) = &self.class else { return Ok(()) };
        let mc = m.class.force(ev)?.value()?;
        let ok = match &mc {
            Value::Null => true,
            Value::String(s) => s.as_bytes() == class.as_bytes(),
            _ => false,
        };
        if ok {
            return Ok(());
        }
        let span = self.span;
        let escape = lib_fn(ev, self.lib, &["strings", "escapeNixString"], span)?;
        let shown_mc = ev.call(escape.clone(), mc.clone(), span)?;
        let shown_mc = ev.expect_string(&shown_mc)?.to_str_lossy().into_owned();
        let shown_c = ev.call(escape, str_value(class), span)?;
        let shown_c = ev.expect_string(&shown_c)?.to_str_lossy().into_owned();
        let file = to_string(ev, &m.file, span)?;
        Err(throw(format!(
            "The module `{file}` (class: {shown_mc}) cannot be imported into a module evaluation that expects class {shown_c}.\n\nHelp:\n- Ensure that you are importing the correct module.\n- Verify that the module's `_class`, {shown_mc} matches the expected `class` {shown_c}.\n- If you are using a custom class, make sure it is correctly defined and used consistently across your modules.\n"
        )))
    }

    fn collect(
        &self,
        ev: &mut Evaluator,
        parent_file: &str,
        parent_key: &str,
        initial: &Src,
        disabled: &mut Vec<Disabled>,
        top: bool,
    ) -> EvalResult<Vec<Rc<Structured>>> {
        // Under the checker (a recorder is installed), a module that is an
        // unknown value (an input dendrite cannot see, a file that does not
        // parse) is left out and the evaluation marked incomplete.
        let tolerant = self.margs.record.is_some();
        let forced = initial.force(ev).and_then(|l| match &l.v {
            Value::List(items) => Ok((items.clone(), l.clone())),
            other => Err(ev.type_error("a list", other)),
        });
        let (list, list_src) = match forced {
            Err(e) if tolerant && e.kind() == ErrorKind::Unknown => {
                crate::record::incomplete(ev, self.margs.record, &e);
                return Ok(Vec::new());
            }
            r => r?,
        };
        let mut out = Vec::with_capacity(list.len());
        for (i, x) in list.iter().enumerate() {
            let src = list_src.child(x.clone());
            let memo = self.memo_key(ev, &src, top && i + 1 == list.len());
            if let Some((k, _)) = &memo
                && let Some((done, requests, bundle)) = collect_memo::get(k, ev.settings.bundle_modules)
            {
                // What collecting the tree recorded, this evaluation records too.
                crate::record::add_requests(ev, self.margs.record, &requests);
                let parent_file = name_value(parent_file);
                out.push(match bundle {
                    Some(b) => self.use_bundle(b, parent_file, parent_key.as_bytes(), i + 1),
                    None => self.replay(&done, &parent_file, parent_key.as_bytes(), i + 1),
                });
                continue;
            }
            let uses = dendrite_eval::world::configuration_uses();
            let recorded = crate::record::mark(ev, self.margs.record);
            let disabled_before = disabled.len();
            let anon = anon_key(parent_key, i + 1);
            let module = match self.load(ev, parent_file, &anon, &src) {
                Err(e) if tolerant && e.kind() == ErrorKind::Unknown => {
                    crate::record::incomplete(ev, self.margs.record, &e);
                    continue;
                }
                // A missing or unreadable file: reported, and the rest of
                // the evaluation goes on without it.
                Err(e) if tolerant && matches!(e.kind(), ErrorKind::Io | ErrorKind::Parse) => {
                    crate::record::incomplete(ev, self.margs.record, &e);
                    crate::record::error(ev, self.margs.record, e);
                    continue;
                }
                r => r?,
            };
            self.check_class(ev, &module)?;
            let file = ev.expect_string(&module.file)?.to_str_lossy().into_owned();
            // The key's own string: no copy per module and configuration.
            let key = ev.expect_string(&module.key)?;
            let dm = module.disabled_modules.force(ev)?.value()?;
            if !ev.expect_list(&dm)?.is_empty() {
                disabled.push(Disabled { file: module.file.clone(), disabled: dm });
            }
            let children = self.collect(ev, &file, &key.to_str_lossy(), &module.imports, disabled, false)?;
            let s = Rc::new(Structured { key, module: Rc::new(module), children, index: i + 1, bundle: None });
            // Made from nothing of this configuration's: every other
            // configuration with the same arguments and class gets the same.
            if let Some((k, keep)) = memo
                && uses == dendrite_eval::world::configuration_uses()
                && disabled.len() == disabled_before
                && let Some(requests) = crate::record::requests_since(ev, self.margs.record, recorded)
                && collect_memo::offer(k, keep, &s, requests)
            {
                self.fresh.borrow_mut().insert(Rc::as_ptr(&s) as usize, k);
            }
            out.push(s);
        }
        Ok(out)
    }

    /// The memo key of module `m` (forced): its identity, the arguments'
    /// signature, the class and whether the evaluation is recorded. `None`
    /// when collections are not shared (sharing off, a module of this
    /// evaluation alone such as its internal one).
    fn memo_key(&self, ev: &mut Evaluator, m: &Src, internal: bool) -> Option<(collect_memo::Key, Value)> {
        let sig = self.margs.sig?;
        if internal {
            return None;
        }
        let uses = dendrite_eval::world::configuration_uses();
        let forced = m.force(ev).ok()?;
        // A configuration's own copy is nobody else's to reuse.
        if uses != dendrite_eval::world::configuration_uses() {
            return None;
        }
        let id = forced.v.identity()?;
        Some(((id, sig, self.class_id, self.margs.record.is_some()), forced.v))
    }

    /// A memoized module tree as this configuration collects it: its
    /// template holes bound here, anonymous keys and inherited files made
    /// from the importing module's.
    fn replay(&self, s: &Structured, parent_file: &Value, parent_key: &[u8], index: usize) -> Rc<Structured> {
        let world = Some(self.margs.world.clone());
        replay_tree(s, parent_file, parent_key, index, &|m: &Module, key: &[u8]| {
            if let Some(t) = &m.template {
                self.bind_holes(t, key);
            }
            m.in_world(&world)
        })
    }

    /// A memoized tree used whole, as a bundle: the holes of its templates
    /// bound here, and what a copy would need kept beside it.
    fn use_bundle(&self, b: Rc<bundle::Bundle>, parent_file: Value, parent_key: &[u8], index: usize) -> Rc<Structured> {
        let root = &b.tree;
        let key =
            if root.module.key_inherited { anon_key_bytes(parent_key, index) } else { root.key.as_bytes().to_vec() };
        for (t, k) in &b.holes {
            self.bind_holes(t, &k.in_instance(&key));
        }
        Rc::new(Structured {
            key: NixString::new(key),
            module: root.module.clone(),
            children: Vec::new(),
            index,
            bundle: Some(Rc::new(bundle::Use {
                bundle: b.clone(),
                parent_file,
                parent_key: NixString::from_bytes(parent_key),
            })),
        })
    }

    /// `trees` (imported by a module with file `parent_file` and key
    /// `parent_key`) with each outermost tree this collection made the
    /// memo keep used whole, as later configurations will: the second
    /// configuration that imports a tree is the first to use its bundle
    /// (trees inside it are not: they are part of it).
    fn kept(
        &self,
        ev: &mut Evaluator,
        trees: &[Rc<Structured>],
        parent_file: &Value,
        parent_key: &[u8],
    ) -> Vec<Rc<Structured>> {
        if self.fresh.borrow().is_empty() {
            return trees.to_vec();
        }
        trees
            .iter()
            .map(|s| {
                let key = self.fresh.borrow().get(&(Rc::as_ptr(s) as usize)).copied();
                if let Some(k) = key
                    && let Some((_, _, Some(b))) = collect_memo::get(&k, ev.settings.bundle_modules)
                {
                    return self.use_bundle(b, parent_file.clone(), parent_key, s.index);
                }
                if s.children.is_empty() || s.bundle.is_some() {
                    return s.clone();
                }
                let file = match &s.module.file {
                    f @ Value::String(_) => f.clone(),
                    _ => name_value(""),
                };
                let children = self.kept(ev, &s.children, &file, s.key.as_bytes());
                if children.iter().zip(&s.children).all(|(a, b)| Rc::ptr_eq(a, b)) {
                    return s.clone();
                }
                Rc::new(Structured {
                    key: s.key.clone(),
                    module: s.module.clone(),
                    children,
                    index: s.index,
                    bundle: None,
                })
            })
            .collect()
    }

    /// The tree with its bundles copied as this configuration's modules.
    fn unbundle(&self, s: &Rc<Structured>) -> Rc<Structured> {
        if let Some(u) = &s.bundle {
            return self.replay(&u.bundle.tree, &u.parent_file, u.parent_key.as_bytes(), s.index);
        }
        if !has_bundle(s) {
            return s.clone();
        }
        Rc::new(Structured {
            key: s.key.clone(),
            module: s.module.clone(),
            children: s.children.iter().map(|c| self.unbundle(c)).collect(),
            index: s.index,
            bundle: None,
        })
    }

    /// The keys `disabledModules` entries name.
    fn disabled_keys(
        &self,
        ev: &mut Evaluator,
        modules_path: &str,
        disabled: &[Disabled],
    ) -> EvalResult<FxHashSet<String>> {
        let span = self.span;
        let mut keys = FxHashSet::default();
        for d in disabled {
            let file = to_string(ev, &d.file, span)?;
            let items = ev.expect_list(&d.disabled)?;
            for m in items.iter() {
                let m = ev.force(m)?;
                let key = match &m {
                    Value::String(s) => {
                        let s = s.to_str_lossy().into_owned();
                        if s.starts_with('/') { s } else { format!("{modules_path}/{s}") }
                    }
                    _ if is_convertible_with_to_string(ev, &m)? => {
                        let as_str = to_string(ev, &m, span)?;
                        if let Some(k) = get(ev, &m, "key")? {
                            let k = to_string(ev, &k, span)?;
                            if k != as_str {
                                return Err(throw(format!(
                                    "Module `{file}` contains a disabledModules item that is an attribute set that can be converted to a string ({as_str}) but also has a `.key` attribute ({k}) with a different value. This makes it ambiguous which module should be disabled."
                                )));
                            }
                        }
                        as_str
                    }
                    Value::Attrs(a) => match a.get(sym!("key")).cloned() {
                        Some(k) => to_string(ev, &k, span)?,
                        None => {
                            return Err(throw(format!(
                                "Module `{file}` contains a disabledModules item that is an attribute set, presumably a module, that does not have a `key` attribute. This means that the module system doesn't have any means to identify the module that should be disabled. Make sure that you've put the correct value in disabledModules: a string path relative to modulesPath, a path value, or an attribute set with a `key` attribute."
                            )));
                        }
                    },
                    other => {
                        return Err(throw(format!(
                            "Each disabledModules item must be a path, string, or a attribute set with a key attribute, or a value supported by toString. However, one of the disabledModules items in `{file}` is none of that, but is of type {}.",
                            other.type_of()
                        )));
                    }
                };
                keys.insert(key);
            }
        }
        Ok(keys)
    }
}

/// Whether a bundle is used anywhere in tree `s`.
fn has_bundle(s: &Structured) -> bool {
    s.bundle.is_some() || s.children.iter().any(|c| has_bundle(c))
}

/// Memoized tree `s` where it is imported as the `index`th module by a
/// module with file `parent_file` and key `parent_key`: anonymous keys and
/// inherited files made from those, each module placed by `place` (which
/// gets its key).
fn replay_tree(
    s: &Structured,
    parent_file: &Value,
    parent_key: &[u8],
    index: usize,
    place: &dyn Fn(&Module, &[u8]) -> Module,
) -> Rc<Structured> {
    let m = &s.module;
    // Keys are built and passed on as bytes: an anonymous key is its
    // importer's, which can be long, and a replay makes one per module.
    let key = if m.key_inherited { NixString::new(anon_key_bytes(parent_key, index)) } else { s.key.clone() };
    let module = Module {
        file: if m.file_inherited { parent_file.clone() } else { m.file.clone() },
        key: if m.key_inherited { Value::String(key.clone()) } else { m.key.clone() },
        ..place(m, key.as_bytes())
    };
    let children = if s.children.is_empty() {
        Vec::new()
    } else {
        let file = match &module.file {
            f @ Value::String(_) => f.clone(),
            _ => name_value(""),
        };
        s.children.iter().map(|c| replay_tree(c, &file, key.as_bytes(), c.index, place)).collect()
    };
    Rc::new(Structured { key, module: Rc::new(module), children, index, bundle: None })
}

/// The tree as `graph` shows it: bundles copied (keys and files only).
fn expand_bundles(s: &Rc<Structured>) -> Rc<Structured> {
    if let Some(u) = &s.bundle {
        return replay_tree(&u.bundle.tree, &u.parent_file, u.parent_key.as_bytes(), s.index, &|m, _| m.clone());
    }
    if !has_bundle(s) {
        return s.clone();
    }
    Rc::new(Structured {
        key: s.key.clone(),
        module: s.module.clone(),
        children: s.children.iter().map(expand_bundles).collect(),
        index: s.index,
        bundle: None,
    })
}

/// The key of the `index`th (1-based) module of an import list that has
/// no `key` of its own (`collectStructuredModules`' fallback).
fn anon_key(parent_key: &str, index: usize) -> String {
    String::from_utf8(anon_key_bytes(parent_key.as_bytes(), index)).unwrap_or_default()
}

/// [`anon_key`] of a key's bytes, made in one allocation.
fn anon_key_bytes(parent_key: &[u8], index: usize) -> Vec<u8> {
    const SEP: &[u8] = b":anon-";
    let mut digits = [0u8; 20];
    let mut n = index;
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut k = Vec::with_capacity(parent_key.len() + SEP.len() + digits.len() - at);
    k.extend_from_slice(parent_key);
    k.extend_from_slice(SEP);
    k.extend_from_slice(&digits[at..]);
    k
}

pub use collect_memo::bundle_uses;

/// Module trees collected once for every configuration that imports them
/// with the same arguments and class (a fleet's aggregates: the same
/// deferred module in every machine), when what was collected used
/// nothing of the configuration that collected it.
mod collect_memo {
    use super::*;

    /// A module's identity, the arguments' signature, the class, and
    /// whether the evaluation is recorded (then its tree's argument
    /// requests are kept with it).
    pub(super) type Key = (usize, u32, u32, bool);

    /// A module seen once is only remembered as seen: most are one
    /// configuration's own (a machine's module, whose tree is that whole
    /// configuration), and keeping their trees would keep the
    /// configurations.
    enum Entry {
        Seen,
        /// The tree, the argument requests collecting it recorded (for a
        /// recorded evaluation), and its bundle once asked for (`None`: it
        /// cannot be one).
        Done(Rc<Structured>, crate::record::Requests, OnceCell<Option<Rc<bundle::Bundle>>>),
    }

    thread_local! {
        /// Each entry beside its module, kept alive so that its address
        /// is not reused.
        static MEMO: RefCell<FxHashMap<Key, (Value, Entry)>> = RefCell::new(FxHashMap::default());
        static CLASSES: RefCell<FxHashMap<Option<String>, u32>> = RefCell::new(FxHashMap::default());
        /// Stands for the configuration in a remembered tree's parts, so
        /// that the tree keeps none alive.
        static ANY: Rc<World> = World::new();
    }

    /// The number of class `class`.
    pub(super) fn class_id(class: Option<&str>) -> u32 {
        CLASSES.with(|c| {
            let mut c = c.borrow_mut();
            let n = c.len() as u32;
            *c.entry(class.map(str::to_owned)).or_insert(n)
        })
    }

    /// A remembered tree.
    pub(super) type Found = (Rc<Structured>, crate::record::Requests, Option<Rc<bundle::Bundle>>);

    /// The remembered tree of `key`, what collecting it recorded, and its
    /// bundle if `bundles` are used and it can be one.
    pub(super) fn get(key: &Key, bundles: bool) -> Option<Found> {
        MEMO.with(|m| match m.borrow().get(key) {
            Some((_, Entry::Done(s, r, b))) => {
                let b = if bundles { b.get_or_init(|| bundle::Bundle::build(s)).clone() } else { None };
                Some((s.clone(), r.clone(), b))
            }
            _ => None,
        })
    }

    thread_local! {
        static BUNDLE_USES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// How many evaluations, so far on this thread, merged bundles as parts.
    pub fn bundle_uses() -> u64 {
        BUNDLE_USES.with(|u| u.get())
    }

    pub(super) fn note_bundle_use() {
        BUNDLE_USES.with(|u| u.set(u.get() + 1));
    }

    /// Offers tree `s` of module `keep` for `key`, with the requests
    /// collecting it recorded: kept the second time (`true` then).
    pub(super) fn offer(key: Key, keep: Value, s: &Structured, requests: crate::record::Requests) -> bool {
        MEMO.with(|m| {
            let mut m = m.borrow_mut();
            match m.get_mut(&key) {
                None => {
                    m.insert(key, (keep, Entry::Seen));
                    false
                }
                Some((_, e @ Entry::Seen)) => {
                    *e = Entry::Done(ANY.with(|w| strip(s, &Some(w.clone()))), requests, OnceCell::new());
                    true
                }
                Some(_) => false,
            }
        })
    }

    /// `s` with every template part's configuration replaced by `w`, and
    /// the bundles in it copied (a bundle is made from a plain tree).
    fn strip(s: &Structured, w: &Option<Rc<World>>) -> Rc<Structured> {
        if let Some(u) = &s.bundle {
            return replay_tree(&u.bundle.tree, &u.parent_file, u.parent_key.as_bytes(), s.index, &|m, _| {
                m.in_world(w)
            });
        }
        Rc::new(Structured {
            key: s.key.clone(),
            module: Rc::new(s.module.in_world(w)),
            children: s.children.iter().map(|c| strip(c, w)).collect(),
            index: s.index,
            bundle: None,
        })
    }
}

/// `lib.strings.isConvertibleWithToString`.
fn is_convertible_with_to_string(ev: &mut Evaluator, v: &Value) -> EvalResult<bool> {
    let v = ev.force(v)?;
    Ok(match &v {
        Value::String(_) | Value::Path(_) | Value::Null | Value::Int(_) | Value::Float(_) | Value::Bool(_) => true,
        Value::Attrs(a) => a.get(sym!("outPath")).is_some() || a.get(sym!("__toString")).is_some(),
        Value::List(l) => {
            let l = l.clone();
            for x in l.iter() {
                if !is_convertible_with_to_string(ev, x)? {
                    return Ok(false);
                }
            }
            true
        }
        _ => false,
    })
}

/// Breadth-first, first-key-wins flattening (`genericClosure` over keys),
/// skipping disabled modules.
fn flatten(structured: &[Rc<Structured>], disabled: &FxHashSet<String>) -> Vec<Rc<Module>> {
    let mut seen: FxHashSet<&[u8]> = FxHashSet::default();
    let mut out = Vec::new();
    let mut queue: std::collections::VecDeque<&Structured> = structured.iter().map(|s| &**s).collect();
    while let Some(s) = queue.pop_front() {
        if (!disabled.is_empty() && disabled.contains(&*s.key.to_str_lossy())) || !seen.insert(s.key.as_bytes()) {
            continue;
        }
        out.push(s.module.clone());
        queue.extend(s.children.iter().map(|c| &**c));
    }
    out
}

fn graph(structured: &[Rc<Structured>], disabled: &FxHashSet<String>, top: bool) -> Value {
    let items = structured
        .iter()
        .filter(|s| !(top && s.key.as_bytes() == b"lib/modules.nix"))
        .map(|s| {
            Value::attrs(vec![
                Attr::new(sym!("disabled"), Value::Bool(disabled.contains(&*s.key.to_str_lossy()))),
                Attr::new(sym!("key"), str_value(s.key.to_str_lossy())),
                Attr::new(sym!("file"), s.module.file.clone()),
                Attr::new(sym!("imports"), graph(&s.children, disabled, false)),
            ])
        })
        .collect();
    Value::list(items)
}

// -------------------------------------------------------------- evalModules

/// The parsed arguments of one `evalModules` call.
#[derive(Clone)]
struct EvalArgs {
    original: Rc<Attrs>,
    modules: Value,
    prefix: Vec<String>,
    special_args: Rc<Attrs>,
    class: Value,
}

fn parse_args(ev: &mut Evaluator, arg: &Value, span: Span) -> EvalResult<EvalArgs> {
    let a = ev.expect_attrs(arg)?;
    const ALLOWED: &[&str] = &["modules", "prefix", "specialArgs", "class", "args", "check"];
    for x in a.iter() {
        if !ALLOWED.contains(&&*x.name.as_str()) {
            return Err(EvalError::at(
                ErrorKind::Type,
                format!("function 'evalModules' called with unexpected argument '{}'", x.name),
                span,
            ));
        }
    }
    let modules = a.get(sym!("modules")).cloned().ok_or_else(|| {
        EvalError::at(ErrorKind::Type, "function 'evalModules' called without required argument 'modules'", span)
    })?;
    let prefix = match a.get(sym!("prefix")).cloned() {
        Some(p) => {
            let l = ev.expect_list(&p)?;
            let mut out = Vec::with_capacity(l.len());
            for x in l.iter() {
                out.push(to_string(ev, x, span)?);
            }
            out
        }
        None => Vec::new(),
    };
    let special_args = match a.get(sym!("specialArgs")).cloned() {
        Some(s) => ev.expect_attrs(&s)?,
        None => Rc::new(Attrs::empty()),
    };
    let class = a.get(sym!("class")).cloned().unwrap_or(Value::Null);
    Ok(EvalArgs { original: a, modules, prefix, special_args, class })
}

/// Shared, lazily computed state of one evaluation.
struct State {
    lib: Value,
    args: EvalArgs,
    regular_modules: Value,
    span: Span,
    collected: OnceCell<Rc<Collected>>,
    merged: OnceCell<Merged>,
    /// The top level of the option tree, once merged.
    root: OnceCell<Rc<MergeNode>>,
    config: Value,
    options: Value,
    config_full: OnceCell<Value>,
    record: Option<usize>,
    /// This evaluation's copies of shared module templates' values.
    world: Rc<World>,
}

struct Collected {
    /// The modules of the list, but for those of the bundles in `parts`.
    modules: Vec<Rc<Module>>,
    /// With bundles: the place of each of `modules` in the list.
    ords: Vec<u64>,
    /// The bundles used whole, with their places.
    parts: Vec<(Rc<bundle::Bundle>, Rc<bundle::Inst>)>,
    /// What `graph` is made from, when it is asked for (rarely).
    structured: Vec<Rc<Structured>>,
    disabled_keys: FxHashSet<String>,
}

struct Merged {
    matched: Value,
    unmatched: Value,
}

fn eval_modules(ev: &mut Evaluator, lib: &Value, arg: &Value, span: Span) -> EvalResult<Value> {
    let args = parse_args(ev, arg, span)?;
    let original = args.original.clone();
    let mut warnings = Vec::new();
    let mut legacy = Vec::new();
    if let Some(a) = original.get(sym!("args")).cloned() {
        warnings.push("The args argument to evalModules is deprecated. Please set config._module.args instead.");
        legacy.push(Value::attrs(vec![Attr::new(
            sym!("config"),
            Value::attrs(vec![Attr::new(sym!("_module"), Value::attrs(vec![Attr::new(sym!("args"), a)]))]),
        )]));
    }
    if let Some(c) = original.get(sym!("check")).cloned() {
        warnings.push("The check argument to evalModules is deprecated. Please set config._module.check instead.");
        let mk_default = lib_fn(ev, lib, &["mkDefault"], span)?;
        legacy.push(Value::attrs(vec![Attr::new(
            sym!("config"),
            Value::attrs(vec![Attr::new(
                sym!("_module"),
                Value::attrs(vec![Attr::new(sym!("check"), Value::lazy_apply(mk_default, c, span))]),
            )]),
        )]));
    }
    let regular_modules = if legacy.is_empty() {
        args.modules.clone()
    } else {
        let m = args.modules.clone();
        Value::lazy(move |ev: &mut Evaluator| {
            let mut out: Vec<Value> = ev.expect_list(&m)?.iter().cloned().collect();
            out.extend(legacy.iter().cloned());
            Ok(Value::list(out))
        })
    };
    let config = Value::Thunk(dendrite_eval::value::Thunk::new(dendrite_eval::value::ThunkState::Blank));
    let options = Value::Thunk(dendrite_eval::value::Thunk::new(dendrite_eval::value::ThunkState::Blank));
    let record = crate::record::begin(ev, args.class.clone(), args.special_args.clone(), span);
    let state = Rc::new(State {
        record,
        lib: lib.clone(),
        args,
        regular_modules,
        span,
        collected: OnceCell::new(),
        merged: OnceCell::new(),
        root: OnceCell::new(),
        config: config.clone(),
        options: options.clone(),
        config_full: OnceCell::new(),
        world: World::new(),
    });
    // Tie the knots: `config` and `options` module arguments are the results.
    if let Value::Thunk(t) = &options {
        let st = state.clone();
        t.set(dendrite_eval::value::ThunkState::native(Rc::new(move |ev: &mut Evaluator| {
            Ok(st.merged(ev)?.matched.clone())
        })));
    }
    if let Value::Thunk(t) = &config {
        let st = state.clone();
        t.set(dendrite_eval::value::ThunkState::native(Rc::new(move |ev: &mut Evaluator| st.full_config(ev))));
    }

    let result = build_result(ev, &state)?;
    crate::record::finish(ev, record, &result);
    let mut result = result;
    for w in warnings.into_iter().rev() {
        let warn = lib_fn(ev, lib, &["warn"], span)?;
        result = ev.call_n(warn, &[str_value(w), result], span)?;
    }
    Ok(result)
}

impl State {
    fn collected(&self, ev: &mut Evaluator) -> EvalResult<Rc<Collected>> {
        if let Some(c) = self.collected.get() {
            return Ok(c.clone());
        }
        let span = self.span;
        let class = match ev.force(&self.args.class)? {
            Value::Null => None,
            v => Some(ev.expect_string(&v)?.to_str_lossy().into_owned()),
        };
        let internal = internal_module(ev, self, span)?;
        let config_arg = {
            let config = self.config.clone();
            Value::lazy(move |ev: &mut Evaluator| {
                ev.force(&config).map_err(|e| {
                    e.context(
                        "if you get an infinite recursion here, you probably reference `config` in `imports`. If you are trying to achieve a conditional import behavior dependent on `config`, consider importing unconditionally, and using `mkEnableOption` and `mkIf` to control its effect.",
                        None,
                    )
                })
            })
        };
        let config_arg_for_lookup = config_arg.clone();
        let base = vec![
            Attr::new(sym!("lib"), self.lib.clone()),
            Attr::new(sym!("options"), self.options.clone()),
            Attr::new(sym!("specialArgs"), Value::Attrs(self.args.special_args.clone())),
            Attr::new(sym!("_class"), self.args.class.clone()),
            Attr::new(sym!("_prefix"), list_of_strings(&self.args.prefix)),
            Attr::new(sym!("config"), config_arg),
        ];
        let margs = Attrs::from_unsorted(base).update(&self.args.special_args);
        let sig = (ev.settings.share_modules && self.args.prefix.is_empty())
            .then(|| share::signature(&margs, &[sym!("config"), sym!("options")]));
        let collector = Collector {
            lib: &self.lib,
            class_id: collect_memo::class_id(class.as_deref()),
            class,
            prefix: self.args.prefix.clone(),
            // `_module.args` lookups go through the same `config` argument,
            // so their errors carry the `imports` hint too.
            margs: ModuleArgs {
                args: Rc::new(margs),
                config: config_arg_for_lookup,
                record: self.record,
                world: self.world.clone(),
                sig,
            },
            span,
            fresh: RefCell::new(FxHashMap::default()),
        };
        let mut initial: Vec<Value> = ev.expect_list(&self.regular_modules)?.iter().cloned().collect();
        initial.push(internal);
        let mut disabled = Vec::new();
        let structured =
            collector.collect(ev, UNKNOWN_MODULE, "", &Src::own(Value::list(initial)), &mut disabled, true)?;
        let structured = collector.kept(ev, &structured, &name_value(UNKNOWN_MODULE), b"");
        // `modulesPath` is only needed to resolve relative `disabledModules`.
        let modules_path = match self.args.special_args.get(sym!("modulesPath")) {
            Some(p) if !disabled.is_empty() => to_string(ev, &p.clone(), span)?,
            _ => String::new(),
        };
        let disabled_keys = collector.disabled_keys(ev, &modules_path, &disabled)?;
        let bundled = if structured.iter().any(|s| has_bundle(s)) && disabled_keys.is_empty() {
            let hole = collector.margs.sig.map(|sig| share::arg_hole_id(sig, sym!("config")));
            bundle::flatten(&structured, &self.world, hole)
        } else {
            None
        };
        let c = match bundled {
            Some(flat) => {
                collect_memo::note_bundle_use();
                let (modules, ords) = flat.own.into_iter().unzip();
                Rc::new(Collected { modules, ords, parts: flat.parts, structured, disabled_keys })
            }
            None => {
                // Keys could repeat across bundles (or something is
                // disabled): every bundle is copied, as for a plain tree.
                let structured: Vec<Rc<Structured>> = structured.iter().map(|s| collector.unbundle(s)).collect();
                let modules = flatten(&structured, &disabled_keys);
                Rc::new(Collected { modules, ords: Vec::new(), parts: Vec::new(), structured, disabled_keys })
            }
        };
        let _ = self.collected.set(c.clone());
        Ok(c)
    }

    fn merged(&self, ev: &mut Evaluator) -> EvalResult<&Merged> {
        if self.merged.get().is_none() {
            let collected = self.collected(ev)?;
            let (merged, root) = merge_modules(ev, &self.lib, &self.args.prefix, &collected, self.span)?;
            let _ = self.root.set(root);
            let _ = self.merged.set(merged);
        }
        Ok(self.merged.get().expect("just set"))
    }

    /// The whole `config` (including `_module`).
    fn full_config(&self, ev: &mut Evaluator) -> EvalResult<Value> {
        if let Some(c) = self.config_full.get() {
            return Ok(c.clone());
        }
        let span = self.span;
        let options = self.merged(ev)?.matched.clone();
        let declared = declared_config(&options, false);
        let module = ev.select_str(&declared, "_module", span)?;
        let freeform = ev.select_str(&module, "freeformType", span)?;
        // An evaluation that left unknown modules out is lenient too: what
        // those modules declare is not known.
        self.collected(ev)?;
        let incomplete = crate::record::is_incomplete(ev, self.record);
        let lenient =
            incomplete || (!matches!(freeform, Value::Null) && crate::lenient::is_lenient_type(ev, &freeform)?);
        let declared = if lenient { declared_config(&options, true) } else { declared };
        let freeform = if incomplete && matches!(freeform, Value::Null) {
            crate::lenient::lenient_type(ev, &self.lib, span)?
        } else {
            freeform
        };
        // Whether `config` is the declared options' values alone.
        let mut alone = true;
        let value = if matches!(freeform, Value::Null) {
            declared
        } else {
            let unmatched = self.merged(ev)?.unmatched.clone();
            let defs = ev.expect_list(&unmatched)?;
            if defs.is_empty() {
                declared
            } else {
                alone = false;
                let set_attr_by_path = lib_fn(ev, &self.lib, &["setAttrByPath"], span)?;
                let mut new_defs = Vec::with_capacity(defs.len());
                for d in defs.iter() {
                    let file = ev.select_str(d, "file", span)?;
                    let prefix = ev.select_str(d, "prefix", span)?;
                    let value = ev.select_str(d, "value", span)?;
                    let nested =
                        Value::lazy_apply(Value::lazy_apply(set_attr_by_path.clone(), prefix, span), value, span);
                    new_defs.push(Value::attrs(vec![Attr::new(sym!("file"), file), Attr::new(sym!("value"), nested)]));
                }
                let merge = ev.select_str(&freeform, "merge", span)?;
                let freeform_config =
                    ev.call_n(merge, &[list_of_strings(&self.args.prefix), Value::list(new_defs)], span)?;
                if lenient {
                    ev.force(&crate::lenient::open_update(freeform_config, declared))?
                } else {
                    let recursive_update = lib_fn(ev, &self.lib, &["recursiveUpdate"], span)?;
                    ev.call_n(recursive_update, &[freeform_config, declared], span)?
                }
            }
        };
        if alone && let Some(root) = self.root.get() {
            root.plain_config.set(Some(lenient));
        }
        let _ = self.config_full.set(value.clone());
        Ok(value)
    }

    /// `checkUnmatched`: null, or the "option does not exist" error.
    fn check_unmatched(&self, ev: &mut Evaluator) -> EvalResult<()> {
        let span = self.span;
        let config = self.full_config(ev)?;
        let module = ev.select_str(&config, "_module", span)?;
        let check = ev.select_str(&module, "check", span)?;
        if !ev.expect_bool(&check)? {
            return Ok(());
        }
        let freeform = ev.select_str(&module, "freeformType", span)?;
        if !matches!(freeform, Value::Null) || crate::record::is_incomplete(ev, self.record) {
            return Ok(());
        }
        let unmatched = self.merged(ev)?.unmatched.clone();
        let defs = ev.expect_list(&unmatched)?;
        let Some(first) = defs.first().cloned() else { return Ok(()) };
        let options = self.merged(ev)?.matched.clone();
        if self.record.is_some() {
            // The checker reports every such definition and goes on with
            // the rest of the configuration, as with `_module.check = false`.
            for d in defs.iter() {
                let e = unmatched_error(ev, &self.lib, &self.args.prefix, d, &options, span)?;
                crate::record::error(ev, self.record, e);
            }
            return Ok(());
        }
        Err(unmatched_error(ev, &self.lib, &self.args.prefix, &first, &options, span)?)
    }
}

fn unmatched_error(
    ev: &mut Evaluator,
    lib: &Value,
    prefix: &[String],
    first: &Value,
    options: &Value,
    span: Span,
) -> EvalResult<EvalError> {
    let def_prefix_v = ev.select_str(first, "prefix", span)?;
    let def_prefix: Vec<String> = {
        let l = ev.expect_list(&def_prefix_v)?;
        let mut v = Vec::new();
        for x in l.iter() {
            v.push(to_string(ev, x, span)?);
        }
        v
    };
    let full: Vec<String> = prefix.iter().chain(def_prefix.iter()).cloned().collect();
    let opt_text = show_option(ev, lib, &full, span)?;
    let file = ev.select_str(first, "file", span)?;
    let file_s = to_string(ev, &file, span)?;
    let def = Def::from_value(ev, first, span)?;
    let def_text = show_defs(ev, lib, &[def], span).map_err(|e| {
        e.context(format!("while evaluating a definition from `{file_s}'"), None).context(
            format!("while evaluating the error message for definitions for `{opt_text}', which is an option that does not exist"),
            None,
        )
    })?;
    let abs_parent: Vec<String> = full[..full.len().saturating_sub(1)].to_vec();
    let parent: Vec<String> = def_prefix[..def_prefix.len().saturating_sub(1)].to_vec();
    let mut node = options.clone();
    let mut ok = true;
    for p in &parent {
        match get(ev, &node, p)? {
            Some(n) => node = n,
            None => {
                ok = false;
                break;
            }
        }
    }
    let siblings: Vec<String> = if ok {
        match ev.force(&node)? {
            Value::Attrs(a) => a.iter().map(|x| x.name.to_string()).collect(),
            _ => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let candidates: Vec<String> =
        if parent.is_empty() { siblings.into_iter().filter(|s| s != "_module").collect() } else { siblings };
    let invalid = def_prefix.last().cloned().unwrap_or_default();
    let mut scored: Vec<(usize, String)> = candidates
        .into_iter()
        .map(|c| (dendrite_eval::eval::levenshtein(&invalid, &c), c))
        .filter(|(d, _)| true_if_small_or(*d))
        .collect();
    if scored.len() >= 100 {
        scored.retain(|(d, _)| *d <= 2);
    }
    scored.sort_by_key(|(d, _)| *d);
    scored.truncate(3);
    let show = |ev: &mut Evaluator, s: &str| -> EvalResult<String> {
        let mut loc = abs_parent.clone();
        loc.push(s.to_string());
        Ok(format!("`{}'", show_option(ev, lib, &loc, span)?))
    };
    let suggestion = match scored.len() {
        0 => String::new(),
        1 => format!("\n\nDid you mean {}?", show(ev, &scored[0].1)?),
        _ => {
            let mut shown = Vec::new();
            for (_, s) in &scored {
                shown.push(show(ev, s)?);
            }
            let last = shown.pop().unwrap_or_default();
            format!("\n\nDid you mean {} or {last}?", shown.join(", "))
        }
    };
    let base = format!("The option `{opt_text}' does not exist. Definition values:{def_text}{suggestion}");
    let names: Vec<String> = match ev.force(options)? {
        Value::Attrs(a) => a.iter().map(|x| x.name.to_string()).collect(),
        _ => Vec::new(),
    };
    if names == ["_module"] {
        let option_name = show_option(ev, lib, prefix, span)?;
        if option_name.is_empty() {
            return Ok(throw(format!(
                "{base}\n\nIt seems as if you're trying to declare an option by placing it into `config' rather than `options'!\n"
            )));
        }
        return Ok(throw(format!(
            "{base}\n\nHowever there are no options defined in `{option_name}'. Are you sure you've\ndeclared your options properly? This can happen if you e.g. declared your options in `types.submodule'\nunder `config' rather than `options'.\n"
        )));
    }
    Ok(throw(base))
}

fn true_if_small_or(_d: usize) -> bool {
    true
}

/// `mapAttrsRecursiveCond (v: !isOption v) (_: v: v.value) options`, lazily.
fn declared_config(options: &Value, open: bool) -> Value {
    let options = options.clone();
    Value::lazy(move |ev: &mut Evaluator| {
        let a = ev.expect_attrs(&options)?;
        // A layered level's view is layered too: the shared lower layer's
        // view is made once.
        let base = match a.layer_base() {
            Some(b) => {
                let b = Value::Attrs(b.clone());
                let view = share::level_config(&b, open, || declared_config(&b, open));
                Some(ev.expect_attrs(&view)?)
            }
            None => None,
        };
        let entries = a
            .upper()
            .map(|x| {
                // A level merged once for every configuration has its view
                // made once too.
                if let Value::Attrs(inner) = &x.value
                    && inner.get(sym!("_type")).is_none()
                    && let Some(view) = share::shared_level_config(&x.value, open, || declared_config(&x.value, open))
                {
                    return Attr { name: x.name, value: view, pos: x.pos };
                }
                let v = x.value.clone();
                Attr {
                    name: x.name,
                    value: Value::lazy(move |ev: &mut Evaluator| {
                        let forced = ev.force(&v)?;
                        match &forced {
                            Value::Attrs(inner) => {
                                if is_option_set(ev, inner)? {
                                    let value = inner
                                        .get(sym!("value"))
                                        .cloned()
                                        .ok_or_else(|| missing_attr(sym!("value"), inner))?;
                                    ev.force(&value)
                                } else {
                                    let config = share::level_config(&forced, open, || declared_config(&forced, open));
                                    ev.force(&config)
                                }
                            }
                            _ => Ok(forced),
                        }
                    }),
                    pos: x.pos,
                }
            })
            .collect::<Vec<_>>();
        let set = match base {
            Some(b) => Attrs::layered(b, entries),
            None => Attrs::from_sorted(entries),
        };
        Ok(Value::Attrs(Rc::new(if open { set.into_open() } else { set })))
    })
}

fn is_option_set(ev: &mut Evaluator, a: &Attrs) -> EvalResult<bool> {
    match a.get(sym!("_type")).cloned() {
        Some(t) => Ok(matches!(ev.force(&t)?, Value::String(s) if s.as_bytes() == b"option")),
        None => Ok(false),
    }
}

fn is_option(ev: &mut Evaluator, v: &Value) -> EvalResult<bool> {
    match ev.force(v)? {
        Value::Attrs(a) => is_option_set(ev, &a),
        _ => Ok(false),
    }
}

fn internal_module(ev: &mut Evaluator, st: &State, span: Span) -> EvalResult<Value> {
    let lib = &st.lib;
    let mk_option = lib_fn(ev, lib, &["mkOption"], span)?;
    let types = lib_fn(ev, lib, &["types"], span)?;
    let lazy_attrs_of = ev.select_str(&types, "lazyAttrsOf", span)?;
    let raw = ev.select_str(&types, "raw", span)?;
    let args_type = Value::lazy_apply(lazy_attrs_of, raw, span);
    let bool_t = ev.select_str(&types, "bool", span)?;
    let null_or = ev.select_str(&types, "nullOr", span)?;
    let option_type = ev.select_str(&types, "optionType", span)?;
    let freeform_type = Value::lazy_apply(null_or, option_type, span);
    let mut args_decl =
        vec![Attr::new(sym!("type"), args_type), Attr::new(sym!("description"), str_value(ARGS_DESCRIPTION))];
    if !st.args.prefix.is_empty() {
        args_decl.push(Attr::new(sym!("internal"), Value::Bool(true)));
    }
    let opt = |decl: Vec<Attr>| Value::lazy_apply(mk_option.clone(), Value::attrs(decl), span);
    let options = Value::attrs(vec![Attr::new(
        sym!("_module"),
        Value::attrs(vec![
            Attr::new(sym!("args"), opt(args_decl)),
            Attr::new(
                sym!("check"),
                opt(vec![
                    Attr::new(sym!("type"), bool_t),
                    Attr::new(sym!("internal"), Value::Bool(true)),
                    Attr::new(sym!("default"), Value::Bool(true)),
                    Attr::new(
                        sym!("description"),
                        str_value("Whether to check whether all option definitions have matching declarations."),
                    ),
                ]),
            ),
            Attr::new(
                sym!("freeformType"),
                opt(vec![
                    Attr::new(sym!("type"), freeform_type),
                    Attr::new(sym!("internal"), Value::Bool(true)),
                    Attr::new(sym!("default"), Value::Null),
                    Attr::new(sym!("description"), str_value(FREEFORM_DESCRIPTION)),
                ]),
            ),
            Attr::new(
                sym!("specialArgs"),
                opt(vec![
                    Attr::new(sym!("readOnly"), Value::Bool(true)),
                    Attr::new(sym!("internal"), Value::Bool(true)),
                    Attr::new(
                        sym!("description"),
                        str_value(
                            "Externally provided module arguments that can't be modified from\nwithin a configuration, but can be used in module imports.\n",
                        ),
                    ),
                ]),
            ),
        ]),
    )]);
    let extend = extend_modules_fn(st);
    let module_type = module_type_value(st);
    let config = Value::attrs(vec![Attr::new(
        sym!("_module"),
        Value::attrs(vec![
            Attr::new(
                sym!("args"),
                Value::attrs(vec![
                    Attr::new(sym!("extendModules"), extend),
                    Attr::new(sym!("moduleType"), module_type),
                ]),
            ),
            Attr::new(sym!("specialArgs"), Value::Attrs(st.args.special_args.clone())),
        ]),
    )]);
    Ok(Value::attrs(vec![
        Attr::new(sym!("_file"), str_value("lib/modules.nix")),
        Attr::new(sym!("key"), str_value("lib/modules.nix")),
        Attr::new(sym!("options"), options),
        Attr::new(sym!("config"), config),
    ]))
}

const ARGS_DESCRIPTION: &str = "Additional arguments passed to each module in addition to ones\nlike `lib`, `config`,\nand `pkgs`, `modulesPath`.\n";
const FREEFORM_DESCRIPTION: &str = "If set, merge all definitions that don't have an associated option\ntogether using this type. The result then gets combined with the\nvalues of all declared options to produce the final `\nconfig` value.\n\nIf this is `null`, definitions without an option\nwill throw an error unless {option}`_module.check` is\nturned off.\n";

fn module_type_value(st: &State) -> Value {
    let lib = st.lib.clone();
    let modules = st.args.modules.clone();
    let special = st.args.special_args.clone();
    let class = st.args.class.clone();
    let span = st.span;
    Value::lazy(move |ev: &mut Evaluator| {
        let f = lib_fn(ev, &lib, &["types", "submoduleWith"], span)?;
        let arg = Value::attrs(vec![
            Attr::new(sym!("modules"), modules.clone()),
            Attr::new(sym!("specialArgs"), Value::Attrs(special.clone())),
            Attr::new(sym!("class"), class.clone()),
        ]);
        ev.call(f, arg, span)
    })
}

fn extend_modules_fn(st: &State) -> Value {
    let lib = st.lib.clone();
    let original = st.args.original.clone();
    let regular = st.regular_modules.clone();
    native("extendModules", 1, move |ev: &mut Evaluator, args: &[Value], span: Span| {
        let ext = ev.expect_attrs(&args[0])?;
        for x in ext.iter() {
            if !["modules", "specialArgs", "prefix"].contains(&&*x.name.as_str()) {
                return Err(EvalError::at(
                    ErrorKind::Type,
                    format!("function 'extendModules' called with unexpected argument '{}'", x.name),
                    span,
                ));
            }
        }
        let more = ext.get(sym!("modules")).cloned().unwrap_or_else(|| Value::list(vec![]));
        let mut modules: Vec<Value> = ev.expect_list(&regular)?.iter().cloned().collect();
        modules.extend(ev.expect_list(&more)?.iter().cloned());
        let old_special = match original.get(sym!("specialArgs")) {
            Some(s) => ev.expect_attrs(&s.clone())?,
            None => Rc::new(Attrs::empty()),
        };
        let special = match ext.get(sym!("specialArgs")) {
            Some(s) => old_special.update(&*ev.expect_attrs(&s.clone())?),
            None => (*old_special).clone(),
        };
        let prefix = ext
            .get(sym!("prefix"))
            .cloned()
            .or_else(|| original.get(sym!("prefix")).cloned())
            .unwrap_or_else(|| Value::list(vec![]));
        let new_args = original.update(&Attrs::from_unsorted(vec![
            Attr::new(sym!("modules"), Value::list(modules)),
            Attr::new(sym!("specialArgs"), Value::Attrs(Rc::new(special))),
            Attr::new(sym!("prefix"), prefix),
        ]));
        eval_modules(ev, &lib, &Value::Attrs(Rc::new(new_args)), span)
    })
}

fn build_result(ev: &mut Evaluator, st: &Rc<State>) -> EvalResult<Value> {
    let span = st.span;
    let checked = |f: fn(&mut Evaluator, &State) -> EvalResult<Value>| -> Value {
        let st = st.clone();
        Value::lazy(move |ev: &mut Evaluator| {
            st.check_unmatched(ev)?;
            f(ev, &st)
        })
    };
    let options = checked(|ev, st| Ok(st.merged(ev)?.matched.clone()));
    let config = checked(|ev, st| {
        let c = st.full_config(ev)?;
        let a = ev.expect_attrs(&c)?;
        let kept: Vec<Attr> = a.iter().filter(|x| x.name != sym!("_module")).cloned().collect();
        Ok(Value::Attrs(Rc::new(Attrs::from_sorted(kept))))
    });
    let module = checked(|ev, st| {
        let c = st.full_config(ev)?;
        ev.select_str(&c, "_module", st.span)
    });
    let graph = {
        let st = st.clone();
        Value::lazy(move |ev: &mut Evaluator| {
            let c = st.collected(ev)?;
            let structured: Vec<Rc<Structured>> = c.structured.iter().map(expand_bundles).collect();
            Ok(graph(&structured, &c.disabled_keys, true))
        })
    };
    let _ = ev;
    let _ = span;
    Ok(Value::attrs(vec![
        Attr::new(sym!("_type"), str_value("configuration")),
        Attr::new(sym!("options"), options),
        Attr::new(sym!("config"), config),
        Attr::new(sym!("_module"), module),
        Attr::new(sym!("graph"), graph),
        Attr::new(sym!("extendModules"), extend_modules_fn(st)),
        Attr::new(sym!("type"), module_type_value(st)),
        Attr::new(sym!("class"), st.args.class.clone()),
    ]))
}

// ----------------------------------------------------------- mergeModules

/// A declaring attribute's position as Nix code gets it (`pos` of a
/// declaration), made when asked for.
fn pos_value(at: Option<Span>) -> Value {
    match at {
        Some(p) => Value::lazy(move |ev: &mut Evaluator| Ok(ev.pos_attrs(p))),
        None => Value::Null,
    }
}

/// A declaration source: `{ _file; pos; options; }` in nixpkgs.
#[derive(Clone)]
struct Decl {
    file: Value,
    pos: Value,
    /// Where `pos` points, for telling declarations apart.
    at: Option<Span>,
    options: Src,
    /// Its module's place in the module list, where bundles are merged
    /// as parts (see [`bundle`]); otherwise unused.
    ord: u64,
}

impl Decl {
    /// The declaration with the evaluation's own value.
    fn own(&self, ev: &mut Evaluator) -> EvalResult<Decl> {
        if !self.options.is_shared() {
            return Ok(self.clone());
        }
        let v = self.options.force(ev)?.value()?;
        Ok(Decl { file: self.file.clone(), pos: self.pos.clone(), at: self.at, options: Src::own(v), ord: self.ord })
    }
}

/// A definition source: `{ file; config; }`.
#[derive(Clone)]
struct ConfigDef {
    file: Value,
    config: Src,
    /// Its module's place (see [`Decl::ord`]).
    ord: u64,
}

/// An unmatched definition: `{ file; value; prefix; }`.
#[derive(Clone)]
struct Unmatched {
    file: Value,
    value: Value,
    prefix: Vec<String>,
}

fn merge_modules(
    ev: &mut Evaluator,
    lib: &Value,
    prefix: &[String],
    collected: &Collected,
    span: Span,
) -> EvalResult<(Merged, Rc<MergeNode>)> {
    // `mergeModules prefix (reverseList modules)`.
    let ord = |i: usize| collected.ords.get(i).copied().unwrap_or(0);
    let decls: Vec<Decl> = (0..collected.modules.len())
        .rev()
        .map(|i| {
            let m = &collected.modules[i];
            Decl { file: m.file.clone(), pos: Value::Null, at: None, options: m.options.clone(), ord: ord(i) }
        })
        .collect();
    let sources: Vec<ConfigDef> = (0..collected.modules.len())
        .rev()
        .map(|i| {
            let m = &collected.modules[i];
            ConfigDef { file: m.file.clone(), config: m.config.clone(), ord: ord(i) }
        })
        .collect();
    let parts = collected.parts.iter().map(|(b, inst)| bundle::Part { level: b.root(), inst: inst.clone() }).collect();
    let node = MergeNode::with_parts(ev, lib.clone(), prefix.to_vec(), decls, sources, parts, None, span);
    Ok((node.clone().result(ev)?, node))
}

/// One level of `mergeModules'`. `sources` are the definitions of this
/// level before their properties are pushed down; that (and everything
/// derived from definitions) happens only when a definition is needed.
struct MergeNode {
    lib: Value,
    prefix: Vec<String>,
    /// Declaration sources, last module first.
    decls: Vec<Decl>,
    /// Definition sources, last module first.
    sources: Vec<ConfigDef>,
    /// Bundles' parts of the level, grouped once for every configuration
    /// (see [`bundle`]), each with its grouping.
    parts: Vec<bundle::Part>,
    preps: Vec<Rc<bundle::Prep>>,
    span: Span,
    raw: OnceCell<Rc<RawDefs>>,
    this: std::rc::Weak<MergeNode>,
    /// The top level of the evaluation's option tree.
    root: std::rc::Weak<MergeNode>,
    /// Levels below made with bundles' parts, by name (see
    /// [`bundle::defs_of`]).
    children: RefCell<FxHashMap<Symbol, Rc<MergeNode>>>,
    /// With parts: the combination they make, and the names merged by
    /// this evaluation (every other declared name is merged once for all).
    combo: OnceCell<Rc<bundle::Combo>>,
    own_names: OnceCell<Vec<Symbol>>,
    /// At the top, once known: `config` is the options' values alone (no
    /// freeform definitions), in open views (lenient) or not.
    plain_config: std::cell::Cell<Option<bool>>,
}

/// `rawDefinitionsByName` of one level's own sources (each definition
/// with its module's place), and whether the level had any definition at
/// all (`configs == [ ]`).
struct RawDefs {
    by_name: FxHashMap<Symbol, Vec<(u64, Def)>>,
    any: bool,
}

/// One declared name of a level and its result, computed once.
struct NameSlot {
    node: Rc<MergeNode>,
    name: Symbol,
    decls: Vec<Decl>,
    cell: OnceCell<NameResult>,
}

impl NameSlot {
    fn get(&self, ev: &mut Evaluator) -> EvalResult<&NameResult> {
        if self.cell.get().is_none() {
            let r = self.node.merge_name(ev, self.name, &self.decls)?;
            let _ = self.cell.set(r);
        }
        Ok(self.cell.get().expect("just set"))
    }
}

/// The per-name result of `mergeModules'`: an option, or a nested level.
/// Both parts are lazy: asking for one must not force the other.
#[derive(Clone)]
struct NameResult {
    matched: Value,
    /// A list of `{ file; value; prefix; }` relative to the name.
    unmatched: Value,
}

/// What a nested level is made from, besides its own declarations: its
/// definition sources and bundles' parts.
type Nested<'a> = &'a dyn Fn(&mut Evaluator) -> EvalResult<(Vec<ConfigDef>, Vec<bundle::Part>)>;

impl MergeNode {
    fn new(lib: Value, prefix: Vec<String>, decls: Vec<Decl>, sources: Vec<ConfigDef>, span: Span) -> Rc<MergeNode> {
        Self::make(lib, prefix, decls, sources, Vec::new(), Vec::new(), None, span)
    }

    #[allow(clippy::too_many_arguments)]
    fn make(
        lib: Value,
        prefix: Vec<String>,
        decls: Vec<Decl>,
        sources: Vec<ConfigDef>,
        parts: Vec<bundle::Part>,
        preps: Vec<Rc<bundle::Prep>>,
        root: Option<std::rc::Weak<MergeNode>>,
        span: Span,
    ) -> Rc<MergeNode> {
        Rc::new_cyclic(|this| MergeNode {
            lib,
            prefix,
            decls,
            sources,
            parts,
            preps,
            span,
            raw: OnceCell::new(),
            this: this.clone(),
            root: root.unwrap_or_else(|| this.clone()),
            children: RefCell::new(FxHashMap::default()),
            combo: OnceCell::new(),
            own_names: OnceCell::new(),
            plain_config: std::cell::Cell::new(None),
        })
    }

    /// The level `name` below the top of the evaluation, if it was made
    /// with bundles' parts already, when the top's `config` is its
    /// options' values alone: where a condition's chain of selections can
    /// be seen to reach a level merged once for every configuration.
    fn anchor(&self, name: Symbol) -> Option<(Rc<MergeNode>, bool)> {
        let root = self.root.upgrade()?;
        let open = root.plain_config.get()?;
        Some((root.children.borrow().get(&name).cloned()?, open))
    }

    /// A level with bundles' parts. A part whose grouping needs a
    /// configuration is taken apart into this level's own sources.
    #[allow(clippy::too_many_arguments)]
    fn with_parts(
        ev: &mut Evaluator,
        lib: Value,
        prefix: Vec<String>,
        mut decls: Vec<Decl>,
        mut sources: Vec<ConfigDef>,
        parts: Vec<bundle::Part>,
        root: Option<std::rc::Weak<MergeNode>>,
        span: Span,
    ) -> Rc<MergeNode> {
        let mut kept = Vec::with_capacity(parts.len());
        let mut preps = Vec::with_capacity(parts.len());
        let mut expanded = false;
        for p in parts {
            match p.prep(ev, span) {
                Some(prep) => {
                    kept.push(p);
                    preps.push(prep);
                }
                None => {
                    let (d, s) = p.expand();
                    decls.extend(d);
                    sources.extend(s);
                    expanded = true;
                }
            }
        }
        if expanded {
            decls.sort_by_key(|d| std::cmp::Reverse(d.ord));
            sources.sort_by_key(|d| std::cmp::Reverse(d.ord));
        }
        Self::make(lib, prefix, decls, sources, kept, preps, root, span)
    }

    fn self_rc(&self) -> Rc<MergeNode> {
        self.this.upgrade().expect("a merge node is alive while it is used")
    }

    fn prefix_text(&self) -> String {
        self.prefix.join(".")
    }

    /// `declsByName` of the own declarations: for each name, the
    /// declarations in module order.
    fn decls_by_name(&self, ev: &mut Evaluator) -> EvalResult<Vec<(Symbol, Vec<Decl>)>> {
        let mut by_name: FxHashMap<Symbol, Vec<Decl>> = FxHashMap::default();
        let mut order: Vec<Symbol> = Vec::new();
        for d in &self.decls {
            let subtree = d.options.force(ev)?;
            let Value::Attrs(a) = &subtree.v else {
                return Err(throw(format!(
                    "An option declaration for `{}' has type\n`{}' rather than an attribute set.\nDid you mean to define this outside of `options'?\n",
                    self.prefix_text(),
                    subtree.v.type_of()
                )));
            };
            for x in a.iter() {
                let decl = Decl {
                    file: d.file.clone(),
                    pos: pos_value(x.pos),
                    at: x.pos,
                    options: subtree.child(x.value.clone()),
                    ord: d.ord,
                };
                by_name
                    .entry(x.name)
                    .or_insert_with(|| {
                        order.push(x.name);
                        Vec::new()
                    })
                    .push(decl);
            }
        }
        order.sort();
        Ok(order.into_iter().map(|n| (n, by_name.remove(&n).unwrap_or_default())).collect())
    }

    /// `rawDefinitionsByName` of the own sources (after pushing the
    /// properties of this level's definitions down), computed on first use.
    fn raw_defs(&self, ev: &mut Evaluator) -> EvalResult<Rc<RawDefs>> {
        if let Some(r) = self.raw.get() {
            return Ok(r.clone());
        }
        let r = Rc::new(self.group_defs(ev, false)?.expect("grouped"));
        let _ = self.raw.set(r.clone());
        Ok(r)
    }

    /// Whether the own definitions are known without evaluating anything
    /// that could fail or needs a configuration: grouped now if so.
    fn raw_known(&self, ev: &mut Evaluator) -> bool {
        if self.raw.get().is_some() {
            return true;
        }
        match self.group_defs(ev, true) {
            Ok(Some(r)) => {
                let _ = self.raw.set(Rc::new(r));
                true
            }
            _ => false,
        }
    }

    /// Groups the own definitions by name; `alone`: only what needs no
    /// configuration and cannot fail is forced (`None` otherwise).
    fn group_defs(&self, ev: &mut Evaluator, alone: bool) -> EvalResult<Option<RawDefs>> {
        let mut by_name: FxHashMap<Symbol, Vec<(u64, Def)>> = FxHashMap::default();
        let mut any = false;
        for src in &self.sources {
            let pushed = if alone {
                match bundle::push_down_alone(ev, &src.config, self.span) {
                    Some(p) => p,
                    None => return Ok(None),
                }
            } else {
                share::push_down(ev, &src.config, self.span)?
            };
            for cfg in pushed {
                any = true;
                let cfg = if alone {
                    match bundle::force_alone(ev, &cfg) {
                        Some(c) => c,
                        None => return Ok(None),
                    }
                } else {
                    cfg.force(ev)?
                };
                let Value::Attrs(a) = &cfg.v else {
                    if alone {
                        return Ok(None);
                    }
                    let p = self.prefix_text();
                    let file = to_string(ev, &src.file, self.span)?;
                    return Err(throw(format!(
                        "In module `{file}', you're trying to define a value of type `{}'\nrather than an attribute set for the option\n`{p}'!\n\nThis usually happens if `{p}' has option\ndefinitions inside that are not matched. Please check how to properly define\nthis option by e.g. referring to `man 5 configuration.nix'!\n",
                        cfg.v.type_of()
                    )));
                };
                for x in a.iter() {
                    by_name.entry(x.name).or_default().push((
                        src.ord,
                        Def {
                            file: src.file.clone(),
                            value: x.value.clone(),
                            full: None,
                            pos: x.pos,
                            world: cfg.w.clone(),
                        },
                    ));
                }
            }
        }
        Ok(Some(RawDefs { by_name, any }))
    }

    /// The definitions of `name` at this level, own and the parts', in
    /// module order (last first), with their places. `live`: the parts'
    /// `mkIf`s whose condition is false here left out (for merging an
    /// option, which would discharge them to nothing).
    fn defs_with_places(&self, ev: &mut Evaluator, name: Symbol, live: bool) -> EvalResult<Vec<(u64, Def)>> {
        let raw = self.raw_defs(ev)?;
        let own = raw.by_name.get(&name).cloned().unwrap_or_default();
        if self.parts.is_empty() {
            return Ok(own);
        }
        let mut lists = bundle::defs_of(ev, self, name, live);
        lists.push(own);
        Ok(bundle::merge_by_place(lists))
    }

    fn result(self: Rc<Self>, ev: &mut Evaluator) -> EvalResult<Merged> {
        let own = self.decls_by_name(ev)?;
        // A name that only one bundle has anything for is merged once for
        // every configuration, if the own definitions can be known to
        // have none.
        let own_raw = if self.parts.is_empty() || !self.raw_known(ev) { None } else { self.raw.get().cloned() };
        // With parts: every name they declare too, in order, with the one
        // part that alone has anything for it. Names merged once for every
        // configuration are the lower layer of the result, unless this
        // configuration defines them itself.
        let mut decls: Vec<(Symbol, Vec<Decl>, Option<usize>)> = Vec::with_capacity(own.len());
        let mut base = None;
        if self.parts.is_empty() {
            decls.extend(own.into_iter().map(|(n, d)| (n, d, None)));
        } else {
            let combo = bundle::combo(&self.parts, &self.preps);
            let _ = self.combo.set(combo.clone());
            let layered: Option<Vec<(Symbol, Option<usize>)>> = own_raw.as_ref().and_then(|raw| {
                let l = combo.layer(ev, &self);
                let b = l.base.clone()?;
                let mut names = l.rest.clone();
                names.extend(raw.by_name.keys().filter(|n| b.get_attr(**n).is_some()).map(|&n| (n, None)));
                names.sort_by_key(|(n, _)| *n);
                base = Some(b);
                Some(names)
            });
            let names = layered.as_deref().unwrap_or(&combo.names);
            let mut own = own.into_iter().peekable();
            for &(name, single) in names {
                while let Some((n, _)) = own.peek()
                    && *n < name
                {
                    decls.extend(own.next().map(|(n, d)| (n, d, None)));
                }
                match own.peek() {
                    Some((n, _)) if *n == name => decls.extend(own.next().map(|(n, d)| (n, d, None))),
                    _ => decls.push((name, Vec::new(), single)),
                }
            }
            decls.extend(own.map(|(n, d)| (n, d, None)));
        }
        let mut matched_entries = Vec::with_capacity(decls.len());
        // The names this evaluation merges (the others are the combination
        // of parts' own, see `bundle::Combo::unmatched`).
        let mut results: Vec<Rc<NameSlot>> = Vec::new();
        for (name, decls, single) in decls {
            if let (Some(i), Some(raw)) = (single, &own_raw)
                && !raw.by_name.contains_key(&name)
                && let Some(r) = bundle::shared_name(ev, &self.lib, &self.parts[i], &self.preps[i], name, self.span)
            {
                matched_entries.push(Attr::new(name, r.matched.clone()));
                continue;
            }
            let slot = Rc::new(NameSlot { node: self.clone(), name, decls, cell: OnceCell::new() });
            let matched = {
                let slot = slot.clone();
                Value::lazy(move |ev: &mut Evaluator| {
                    let m = slot.get(ev)?.matched.clone();
                    ev.force(&m)
                })
            };
            matched_entries.push(Attr::new(name, matched));
            results.push(slot);
        }
        let combo = self.combo.get().cloned();
        if combo.is_some() {
            let _ = self.own_names.set(results.iter().map(|s| s.name).collect());
        }
        let own_names: FxHashSet<Symbol> = results.iter().map(|s| s.name).collect();
        let declared = {
            let combo = combo.clone();
            move |name: Symbol| {
                own_names.contains(&name)
                    || combo.as_ref().is_some_and(|c| c.names.binary_search_by(|(n, _)| n.cmp(&name)).is_ok())
            }
        };
        let matched = Value::Attrs(Rc::new(match base {
            Some(base) => Attrs::layered(base, matched_entries),
            None => Attrs::from_sorted(matched_entries),
        }));
        let node = self.clone();
        let span = self.span;
        let unmatched = Value::lazy(move |ev: &mut Evaluator| {
            let raw = node.raw_defs(ev)?;
            if !raw.any && !bundle::any_defs(&node.preps) {
                return Ok(Value::list(vec![]));
            }
            // Per name, in name order: nested unmatched definitions, plus the
            // definitions of names that no option declares.
            let mut by_name: Vec<(Symbol, Vec<Unmatched>)> = Vec::new();
            let own =
                results.iter().map(|s| -> EvalResult<(Symbol, Value)> { Ok((s.name, s.get(ev)?.unmatched.clone())) });
            let own: Vec<(Symbol, Value)> = own.collect::<EvalResult<_>>()?;
            let shared = match &combo {
                Some(c) => c.unmatched(ev, &node)?,
                None => Rc::new(Vec::new()),
            };
            let shared = shared.iter().filter(|(n, _)| !results.iter().any(|s| s.name == *n)).cloned();
            for (name, list) in own.into_iter().chain(shared) {
                let list = ev.expect_list(&list)?;
                let mut nested = Vec::with_capacity(list.len());
                for u in list.iter() {
                    let file = ev.select_str(u, "file", span)?;
                    let value = ev.select_str(u, "value", span)?;
                    let prefix_v = ev.select_str(u, "prefix", span)?;
                    let mut prefix = Vec::new();
                    for p in ev.expect_list(&prefix_v)?.iter() {
                        prefix.push(to_string(ev, p, span)?);
                    }
                    nested.push(Unmatched { file, value, prefix });
                }
                by_name.push((name, nested));
            }
            let mut undeclared: FxHashSet<Symbol> = raw.by_name.keys().copied().collect();
            undeclared.extend(bundle::defined_names(&node.preps));
            for name in undeclared {
                if declared(name) {
                    continue;
                }
                let defs = node.defs_with_places(ev, name, false)?;
                by_name.push((
                    name,
                    defs.iter()
                        .map(|(_, d)| {
                            let value = Src::shared(d.value.clone(), &d.world).value()?;
                            Ok(Unmatched { file: d.file.clone(), value, prefix: Vec::new() })
                        })
                        .collect::<EvalResult<Vec<_>>>()?,
                ));
            }
            by_name.sort_by_key(|(n, _)| *n);
            let mut out = Vec::new();
            for (name, defs) in by_name {
                for d in defs {
                    let mut prefix = vec![name.to_string()];
                    prefix.extend(d.prefix);
                    out.push(Value::attrs(vec![
                        Attr::new(sym!("file"), d.file),
                        Attr::new(sym!("value"), d.value),
                        Attr::new(sym!("prefix"), list_of_strings(&prefix)),
                    ]));
                }
            }
            Ok(Value::list(out))
        });
        Ok(Merged { matched, unmatched })
    }

    fn merge_name(&self, ev: &mut Evaluator, name: Symbol, decls: &[Decl]) -> EvalResult<NameResult> {
        let node = self.self_rc();
        let defs: DefsProvider = Rc::new(move |ev: &mut Evaluator, live: bool| {
            Ok(node.defs_with_places(ev, name, live)?.into_iter().map(|(_, d)| d).collect::<Vec<_>>().into())
        });
        // The own definitions of `name` as sources of the level below.
        let own_nested = |ev: &mut Evaluator| -> EvalResult<Vec<ConfigDef>> {
            let raw = self.raw_defs(ev)?;
            Ok(raw
                .by_name
                .get(&name)
                .map(|defs| {
                    defs.iter()
                        .map(|(ord, d)| ConfigDef {
                            file: d.file.clone(),
                            config: Src::shared(d.value.clone(), &d.world),
                            ord: *ord,
                        })
                        .collect()
                })
                .unwrap_or_default())
        };
        if self.parts.is_empty() {
            let nested = |ev: &mut Evaluator| Ok((own_nested(ev)?, Vec::new()));
            return merge_one(ev, &self.lib, &self.prefix, name, decls, 0, defs, &nested, Some(self), self.span);
        }
        let of = bundle::of_name(&self.preps, name);
        let parts_nested = of.options == Some(0) && {
            // Whether the own declarations are all sets of options too.
            let mut none = true;
            for d in decls {
                let v = d.options.force(ev)?;
                let t = match &v.v {
                    Value::Attrs(a) => a.get(sym!("_type")).cloned(),
                    _ => None,
                };
                if let Some(t) = t
                    && matches!(v.child(t).force(ev)?.v, Value::String(s) if s.as_bytes() == b"option")
                {
                    none = false;
                    break;
                }
            }
            none
        };
        if parts_nested {
            let nested =
                |ev: &mut Evaluator| Ok((own_nested(ev)?, bundle::children(&self.parts, &self.preps, &of.parts, name)));
            return merge_one(ev, &self.lib, &self.prefix, name, decls, of.decls, defs, &nested, Some(self), self.span);
        }
        // Options among the declarations (or declarations a configuration
        // is needed to tell apart): every declaration and definition as
        // this configuration's own.
        let mut all: Vec<(u64, Decl)> = decls.iter().map(|d| (d.ord, d.clone())).collect();
        all.extend(bundle::decls_of(&self.parts, &self.preps, &of.parts, name).into_iter().map(|d| (d.ord, d)));
        all.sort_by_key(|d| std::cmp::Reverse(d.0));
        let all: Vec<Decl> = all.into_iter().map(|(_, d)| d).collect();
        let nested = |ev: &mut Evaluator| {
            let defs = self.defs_with_places(ev, name, false)?;
            let sources = defs
                .into_iter()
                .map(|(ord, d)| ConfigDef { file: d.file.clone(), config: Src::shared(d.value, &d.world), ord })
                .collect();
            Ok((sources, Vec::new()))
        };
        merge_one(ev, &self.lib, &self.prefix, name, &all, 0, defs, &nested, Some(self), self.span)
    }
}

/// `mergeModules'` for one name of a level at `prefix`: an option, or a
/// nested level. `decls` are its declarations but `extra` more that a
/// bundle's parts have (known to be sets of options, not options);
/// `defs` gives its definitions, `nested` the sources and parts of the
/// level below; `parent` is the level of this evaluation the name is in,
/// if any (a level below made with parts is recorded there).
#[allow(clippy::too_many_arguments)]
fn merge_one(
    ev: &mut Evaluator,
    lib: &Value,
    prefix: &[String],
    name: Symbol,
    decls: &[Decl],
    extra: usize,
    defs: DefsProvider,
    nested: Nested<'_>,
    parent: Option<&MergeNode>,
    span: Span,
) -> EvalResult<NameResult> {
    let mut loc = prefix.to_vec();
    loc.push(name.to_string());
    let mut option_count = 0;
    let mut option_decls = Vec::new();
    for d in decls {
        let v = d.options.force(ev)?;
        let t = match &v.v {
            Value::Attrs(a) => a.get(sym!("_type")).cloned(),
            _ => None,
        };
        if let Some(t) = t {
            let t = v.child(t).force(ev)?.value()?;
            let is_opt = matches!(&t, Value::String(s) if s.as_bytes() == b"option");
            if !is_opt {
                let tag = match &t {
                    Value::String(s) => s.to_str_lossy().into_owned(),
                    other => crate::eval_modules::show_plain(other),
                };
                return Err(declaration_type_error(ev, lib, &loc, &tag, &d.file, span)?);
            }
            option_count += 1;
            option_decls.push(d.own(ev)?);
        }
    }
    if option_count == decls.len() + extra {
        let matched = lazy_option(lib, span, loc, option_decls, defs);
        return Ok(NameResult { matched, unmatched: Value::list(vec![]) });
    }
    // With options among them, the declarations are this evaluation's own.
    let owned: Vec<Decl>;
    let decls = if option_count > 0 {
        owned = decls.iter().map(|d| d.own(ev)).collect::<EvalResult<_>>()?;
        &owned[..]
    } else {
        decls
    };
    if option_count > 0 {
        let mut all_submodule = true;
        for d in &option_decls {
            let ty = get(ev, &d.options.v, "type")?;
            let name = match ty {
                Some(t) => get(ev, &t, "name")?,
                None => None,
            };
            let is_sub = match name {
                Some(n) => matches!(ev.force(&n)?, Value::String(s) if s.as_bytes() == b"submodule"),
                None => false,
            };
            if !is_sub {
                all_submodule = false;
                break;
            }
        }
        if all_submodule {
            let mut converted = Vec::with_capacity(decls.len());
            for d in decls {
                converted.push(option_tree_to_option(ev, lib, d, span)?);
            }
            let matched = lazy_option(lib, span, loc, converted, defs);
            return Ok(NameResult { matched, unmatched: Value::list(vec![]) });
        }
        let first = &option_decls[0];
        let file = to_string(ev, &first.file, span)?;
        let desc = match get(ev, &first.options.v, "type")? {
            Some(t) => match get(ev, &t, "description")? {
                Some(d) => to_string(ev, &d, span)?,
                None => "<no description>".to_string(),
            },
            None => "<no description>".to_string(),
        };
        let non_options: Vec<Decl> = {
            let mut v = Vec::new();
            for d in decls {
                if !is_option(ev, &d.options.v)? {
                    v.push(d.clone());
                }
            }
            v
        };
        let raw_decls = show_raw_decls(ev, lib, &loc, &non_options, span)?;
        let shown = show_option(ev, lib, &loc, span)?;
        return Err(throw(format!(
            "The option `{shown}' in module `{file}' would be a parent of the following options, but its type `{desc}' does not support nested options.\n{raw_decls}"
        )));
    }
    // A level of nested options: recurse; its definitions are this
    // level's definitions of `name`.
    let (nested, parts) = nested(ev)?;
    if !parts.is_empty() {
        let root = parent.map(|p| p.root.clone());
        let node = MergeNode::with_parts(ev, lib.clone(), loc, decls.to_vec(), nested, parts, root, span);
        if let Some(p) = parent {
            p.children.borrow_mut().insert(name, node.clone());
        }
        let merged = node.result(ev)?;
        return Ok(NameResult { matched: merged.matched, unmatched: merged.unmatched });
    }
    // A level made only of templates' values that reach no hole is the
    // same in every configuration: made once, without a configuration.
    let key = if ev.settings.share_modules {
        share::level_key(
            lib,
            &loc,
            decls.iter().map(|d| (&d.options, &d.file, d.at)),
            nested.iter().map(|c| (&c.config, &c.file)),
        )
    } else {
        None
    };
    if let Some((matched, unmatched)) = key.as_ref().and_then(share::cached_level) {
        return Ok(NameResult { matched, unmatched });
    }
    let keep = key.as_ref().map(|_| {
        share::level_keep(decls.iter().map(|d| (&d.options, &d.file)), nested.iter().map(|c| (&c.config, &c.file)))
    });
    // The parts keep their configuration, which values that reach no
    // hole never consult.
    let node = MergeNode::new(lib.clone(), loc, decls.to_vec(), nested, span);
    let merged = node.result(ev)?;
    if let Some((key, keep)) = key.zip(keep) {
        share::store_level(key, keep, merged.matched.clone(), merged.unmatched.clone());
    }
    Ok(NameResult { matched: merged.matched, unmatched: merged.unmatched })
}

/// The merged option at `loc`, built when first needed.
fn lazy_option(lib: &Value, span: Span, loc: Vec<String>, decls: Vec<Decl>, defs: DefsProvider) -> Value {
    let loc = Loc::new(loc);
    let lib = lib.clone();
    Value::lazy(move |ev: &mut Evaluator| {
        let opt = merge_option_decls(ev, &lib, &loc, &decls, span)?;
        let opt = fixup_option_type(ev, &lib, &opt, span)?;
        eval_option_value(ev, &lib, &loc, &opt, defs.clone(), span)
    })
}

fn option_tree_to_option(ev: &mut Evaluator, lib: &Value, d: &Decl, span: Span) -> EvalResult<Decl> {
    if is_option(ev, &d.options.v)? {
        return Ok(d.clone());
    }
    let submodule_with = lib_fn(ev, lib, &["types", "submoduleWith"], span)?;
    let mk_option = lib_fn(ev, lib, &["mkOption"], span)?;
    let module = Value::attrs(vec![Attr::new(sym!("options"), d.options.v.clone())]);
    let ty = ev.call(
        submodule_with,
        Value::attrs(vec![
            Attr::new(sym!("modules"), Value::list(vec![module])),
            Attr::new(sym!("shorthandOnlyDefinesConfig"), Value::Null),
        ]),
        span,
    )?;
    let opt = ev.call(mk_option, Value::attrs(vec![Attr::new(sym!("type"), ty)]), span)?;
    Ok(Decl { file: d.file.clone(), pos: d.pos.clone(), at: d.at, options: Src::own(opt), ord: d.ord })
}

/// `showRawDecls`: each nested option path under `loc`, with its files.
fn show_raw_decls(ev: &mut Evaluator, lib: &Value, loc: &[String], decls: &[Decl], span: Span) -> EvalResult<String> {
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    fn walk(
        ev: &mut Evaluator,
        lib: &Value,
        path: &mut Vec<String>,
        v: &Value,
        file: &str,
        out: &mut Vec<(String, Vec<String>)>,
        span: Span,
    ) -> EvalResult<()> {
        let f = ev.force(v)?;
        if is_option(ev, &f)? {
            let shown = show_option(ev, lib, path, span)?;
            match out.iter_mut().find(|(p, _)| *p == shown) {
                Some((_, files)) => files.push(file.to_string()),
                None => out.push((shown, vec![file.to_string()])),
            }
            return Ok(());
        }
        if let Value::Attrs(a) = &f {
            for x in a.iter() {
                path.push(x.name.to_string());
                walk(ev, lib, path, &x.value, file, out, span)?;
                path.pop();
            }
        }
        Ok(())
    }
    for d in decls {
        let file = to_string(ev, &d.file, span)?;
        let mut path = loc.to_vec();
        walk(ev, lib, &mut path, &d.options.v, &file, &mut lines, span)?;
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(lines
        .into_iter()
        .map(|(p, files)| format!("  - option(s) with prefix `{p}' in module `{}'", files.join("' and `")))
        .collect::<Vec<_>>()
        .join("\n"))
}

fn declaration_type_error(
    ev: &mut Evaluator,
    lib: &Value,
    loc: &[String],
    tag: &str,
    file: &Value,
    span: Span,
) -> EvalResult<EvalError> {
    let escape = lib_fn(ev, lib, &["strings", "escapeNixIdentifier"], span)?;
    let last = loc.last().cloned().unwrap_or_default();
    let name = ev.call(escape, str_value(&last), span)?;
    let name = ev.expect_string(&name)?.to_str_lossy().into_owned();
    let path = show_option(ev, lib, loc, span)?;
    let file = to_string(ev, file, span)?;
    let mut paragraphs = vec![format!(
        "In module {file}: expected an option declaration at option path `{path}` but got an attribute set with type {tag}"
    )];
    if tag == "option-type" {
        let comment = if loc.len() > 1 { format!("\n    # {path}") } else { String::new() };
        paragraphs.push(format!(
            "When declaring an option, you must wrap the type in a `mkOption` call. It should look somewhat like:\n    {comment}\n    {name} = lib.mkOption {{\n      description = ...;\n      type = <the type you wrote for {name}>;\n      ...\n    }};\n"
        ));
    }
    Ok(throw(paragraphs.join("\n\n")))
}

/// A short rendering of a non-string value (for messages only).
pub fn show_plain(v: &Value) -> String {
    dendrite_eval::print::show_short(v)
}

// ---------------------------------------------------------- option merging

/// `mergeOptionDecls loc opts`.
fn merge_option_decls(ev: &mut Evaluator, lib: &Value, loc: &Loc, opts: &[Decl], span: Span) -> EvalResult<Value> {
    let mut res: Rc<Attrs> = Rc::new(Attrs::from_unsorted(vec![
        Attr::new(sym!("loc"), loc.value()),
        Attr::new(sym!("declarations"), Value::list(vec![])),
        Attr::new(sym!("declarationPositions"), Value::list(vec![])),
        Attr::new(sym!("options"), Value::list(vec![])),
    ]));
    for opt in opts {
        let o = ev.expect_attrs(&opt.options.v)?;
        let already = |ev: &mut Evaluator, res: &Attrs| -> EvalResult<EvalError> {
            let shown = show_option(ev, lib, loc, span)?;
            let file = to_string(ev, &opt.file, span)?;
            let decls = res.get(sym!("declarations")).cloned().unwrap_or_else(|| Value::list(vec![]));
            let files = show_files(ev, &decls, span)?;
            Ok(throw(format!("The option `{shown}' in `{file}' is already declared in {files}.")))
        };
        let mut type_set: Option<Value> = None;
        if let (Some(t_new), Some(t_old)) = (o.get(sym!("type")).cloned(), res.get(sym!("type")).cloned()) {
            let type_merge = ev.select_str(&t_old, "typeMerge", span)?;
            let functor = ev.select_str(&t_new, "functor", span)?;
            let merged = ev.call(type_merge, functor, span)?;
            if matches!(merged, Value::Null) {
                return Err(already(ev, &res)?);
            }
            type_set = Some(merged);
        }
        for k in [sym!("default"), sym!("example"), sym!("description"), sym!("apply")] {
            if o.get(k).is_some() && res.get(k).is_some() {
                return Err(already(ev, &res)?);
            }
        }
        let sub_modules = match o.get(sym!("type")).cloned() {
            Some(t) => get(ev, &t, "getSubModules")?,
            None => None,
        };
        let res_options = res.get(sym!("options")).cloned().unwrap_or_else(|| Value::list(vec![]));
        let submodules = match sub_modules {
            Some(gsm) if !matches!(ev.force(&gsm)?, Value::Null) => {
                let list = ev.expect_list(&gsm)?;
                let file = opt.file.clone();
                let mut out: Vec<Value> = list
                    .iter()
                    .map(|m| {
                        Value::attrs(vec![
                            Attr::new(sym!("_file"), file.clone()),
                            Attr::new(sym!("imports"), Value::list(vec![m.clone()])),
                        ])
                    })
                    .collect();
                out.extend(ev.expect_list(&res_options)?.iter().cloned());
                Value::list(out)
            }
            _ => res_options,
        };
        let declarations = {
            let mut v: Vec<Value> = ev
                .expect_list(&res.get(sym!("declarations")).cloned().unwrap_or_else(|| Value::list(vec![])))?
                .iter()
                .cloned()
                .collect();
            v.push(opt.file.clone());
            Value::list(v)
        };
        let positions = {
            let mut v: Vec<Value> = ev
                .expect_list(&res.get(sym!("declarationPositions")).cloned().unwrap_or_else(|| Value::list(vec![])))?
                .iter()
                .cloned()
                .collect();
            match ev.force(&opt.pos)? {
                Value::Null => v.push(Value::attrs(vec![
                    Attr::new(sym!("file"), opt.file.clone()),
                    Attr::new(sym!("line"), Value::Null),
                    Attr::new(sym!("column"), Value::Null),
                ])),
                p => v.push(p),
            }
            Value::list(v)
        };
        let mut extra = vec![
            Attr::new(sym!("declarations"), declarations),
            Attr::new(sym!("declarationPositions"), positions),
            Attr::new(sym!("options"), submodules),
        ];
        if let Some(t) = type_set {
            extra.push(Attr::new(sym!("type"), t));
        }
        // `(o // res) // extra` as `o // (res // extra)`: the large set is
        // copied once.
        res = Rc::new(o.update(&res.update(&Attrs::from_unsorted(extra))));
    }
    Ok(Value::Attrs(res))
}

/// `fixupOptionType loc opt`.
fn fixup_option_type(ev: &mut Evaluator, lib: &Value, opt: &Value, span: Span) -> EvalResult<Value> {
    let o = ev.expect_attrs(opt)?;
    let ty = o.get(sym!("type")).cloned();
    let get_sub = match &ty {
        Some(t) => get(ev, t, "getSubModules")?,
        None => None,
    };
    let get_sub_null = match &get_sub {
        Some(g) => matches!(ev.force(g)?, Value::Null),
        None => true,
    };
    if get_sub_null {
        if ty.is_some() {
            // `opt // { type = opt.type; }` is `opt`.
            return Ok(opt.clone());
        }
        let t = lib_fn(ev, lib, &["types", "unspecified"], span)?;
        return Ok(Value::Attrs(Rc::new(o.update(&Attrs::from_unsorted(vec![Attr::new(sym!("type"), t)])))));
    }
    let t = ty.expect("checked above");
    let subst = ev.select_str(&t, "substSubModules", span)?;
    let options = o.get(sym!("options")).cloned().unwrap_or_else(|| Value::list(vec![]));
    let new_type = Value::lazy_apply(subst, options, span);
    Ok(Value::Attrs(Rc::new(o.update(&Attrs::from_unsorted(vec![
        Attr::new(sym!("type"), new_type),
        Attr::new(sym!("options"), Value::list(vec![])),
    ])))))
}

/// The result of `mergeDefinitions loc type defs`, computed once.
struct Merging {
    defs_final: Vec<Def>,
    highest_prio: i64,
}

fn normalize_defs(ev: &mut Evaluator, first: Option<&Def>, rest: &[Def], span: Span) -> EvalResult<Merging> {
    // Fast path: one definition without properties.
    if first.is_some() as usize + rest.len() == 1 {
        let d = match first {
            Some(d) => d,
            None => &rest[0],
        };
        let file = to_string(ev, &d.file, span).unwrap_or_default();
        let plain = (|| -> EvalResult<Option<Value>> {
            let v = Src::shared(d.value.clone(), &d.world).force(ev)?;
            Ok(match &v.v {
                Value::Attrs(a) if a.get(sym!("_type")).is_some() => None,
                _ => Some(v.value()?),
            })
        })()
        .map_err(|e| e.context(format!("while evaluating definitions from `{file}':"), None))?;
        if let Some(value) = plain {
            let own = Def { value, world: None, ..d.clone() };
            return Ok(Merging { defs_final: vec![own], highest_prio: DEFAULT_OVERRIDE_PRIORITY });
        }
    }
    let mut normalized = Vec::new();
    for m in first.into_iter().chain(rest) {
        let mut values = Vec::new();
        let file = m.file.clone();
        props::discharge_src(ev, &Src::shared(m.value.clone(), &m.world), span, &mut values).map_err(|e| {
            let f = to_string(ev, &file, span).unwrap_or_default();
            e.context(format!("while evaluating definitions from `{f}':"), None)
        })?;
        for v in values {
            if props::has_tag(ev, &v, b"definition")? {
                normalized.push(Def::from_value(ev, &v, span)?);
            } else {
                normalized.push(Def { file: m.file.clone(), value: v, full: None, pos: m.pos, world: None });
            }
        }
    }
    let (filtered, highest) = props::filter_overrides(ev, &normalized, span)?;
    let mut any_order = false;
    for d in &filtered {
        if props::has_tag(ev, &d.value, b"order")? {
            any_order = true;
            break;
        }
    }
    let sorted = if any_order { props::sort_properties(ev, filtered, span)? } else { filtered };
    Ok(Merging { defs_final: sorted, highest_prio: highest })
}

fn defs_list(defs: &[Def]) -> Value {
    Value::list(defs.iter().map(Def::to_value).collect())
}

/// `mergeDefinitions loc type defs`, as a record of lazy values.
pub struct MergeResult {
    /// `defsFinal'` (values and highest priority)
    pub defs_final: Value,
    /// `defsFinal`
    pub defs_final_list: Value,
    /// `highestPrio`
    pub highest_prio: Value,
    /// `mergedValue`
    pub merged_value: Value,
    /// `isDefined`
    pub is_defined: Value,
    /// `checkedAndMerged.valueMeta`
    pub value_meta: Value,
    /// `optionalValue`
    pub optional_value: Value,
}

/// Produces the definitions of an option when they are first needed. With
/// `live`, definitions that discharging would drop (an `mkIf` whose
/// condition is false) may be left out: for merging, when nothing counts
/// the definitions before they are discharged (`readOnly` does).
pub type DefsProvider = Rc<dyn Fn(&mut Evaluator, bool) -> EvalResult<Rc<[Def]>>>;

/// A provider of definitions already at hand.
pub fn defs_now(defs: Vec<Def>) -> DefsProvider {
    let defs: Rc<[Def]> = defs.into();
    Rc::new(move |_: &mut Evaluator, _| Ok(defs.clone()))
}

/// `mergeDefinitions`, lazily: nothing is forced until a field is.
pub fn merge_definitions(lib: &Value, loc: &[String], ty: &Value, defs: DefsProvider, span: Span) -> MergeResult {
    merge_definitions_at(lib, Loc::new(loc.to_vec()), ty, None, defs, span)
}

/// `mergeDefinitions` at a location made already, of `first` (an
/// option's default) and `defs`.
fn merge_definitions_at(
    lib: &Value,
    loc: Rc<Loc>,
    ty: &Value,
    first: Option<Def>,
    defs: DefsProvider,
    span: Span,
) -> MergeResult {
    type Shared = Rc<OnceCell<Rc<Merging>>>;
    let cell: Shared = Rc::new(OnceCell::new());
    let merging = {
        let cell = cell.clone();
        move |ev: &mut Evaluator| -> EvalResult<Rc<Merging>> {
            if let Some(m) = cell.get() {
                return Ok(m.clone());
            }
            let defs = defs(ev, true)?;
            let m = Rc::new(normalize_defs(ev, first.as_ref(), &defs, span)?);
            let _ = cell.set(m.clone());
            Ok(m)
        }
    };
    let merging = Rc::new(merging);
    let lib = lib.clone();
    let ty = ty.clone();

    let defs_final_list = {
        let m = merging.clone();
        Value::lazy(move |ev: &mut Evaluator| Ok(defs_list(&m(ev)?.defs_final)))
    };
    let highest_prio = {
        let m = merging.clone();
        Value::lazy(move |ev: &mut Evaluator| Ok(Value::Int(m(ev)?.highest_prio)))
    };
    let defs_final = Value::attrs(vec![
        Attr::new(sym!("values"), defs_final_list.clone()),
        Attr::new(sym!("highestPrio"), highest_prio.clone()),
    ]);
    let is_defined = {
        let m = merging.clone();
        Value::lazy(move |ev: &mut Evaluator| Ok(Value::Bool(!m(ev)?.defs_final.is_empty())))
    };
    // checkedAndMerged: { headError; value; valueMeta; }
    let checked_cell: Rc<OnceCell<(Value, Value, Value)>> = Rc::new(OnceCell::new());
    let checked = {
        let m = merging.clone();
        let ty = ty.clone();
        let loc = loc.clone();
        let cell = checked_cell.clone();
        let lib = lib.clone();
        Rc::new(move |ev: &mut Evaluator| -> EvalResult<(Value, Value, Value)> {
            if let Some(c) = cell.get() {
                return Ok(c.clone());
            }
            let merging = m(ev)?;
            let merge = ev.select_str(&ty, "merge", span)?;
            let v2 = get(ev, &merge, "v2")?;
            let result = match v2 {
                Some(v2) => {
                    let coherent = {
                        let check = ev.select_str(&ty, "check", span)?;
                        match get(ev, &check, "isV2MergeCoherent")? {
                            Some(c) => ev.expect_bool(&c)?,
                            None => false,
                        }
                    };
                    if !coherent {
                        let shown = show_option(ev, &lib, &loc, span)?;
                        let desc = ev.select_str(&ty, "description", span)?;
                        let desc = to_string(ev, &desc, span)?;
                        return Err(throw(format!(
                            "The option `{shown}' has a type `{desc}' that uses\nan ad-hoc `type // {{ check = ...; }}' override, which is incompatible with\nthe v2 merge mechanism.\n\nPlease use `lib.types.addCheck` instead of `type // {{ check }}' to add\ncustom validation. For example:\n\n  lib.types.addCheck baseType (value: /* your check */)\n\ninstead of:\n\n  baseType // {{ check = value: /* your check */; }}\n\nAlternatively, this message may also occur as false positive when mixing Nixpkgs\nversions, if one Nixpkgs is between 83fed2e6..58696117 (Aug 28 - Oct 28 2025)\n"
                        )));
                    }
                    let arg = Value::attrs(vec![
                        Attr::new(sym!("loc"), loc.value()),
                        Attr::new(sym!("defs"), defs_list(&merging.defs_final)),
                    ]);
                    let r = ev.call(v2, arg, span)?;
                    let ra = ev.expect_attrs(&r)?;
                    for k in ["headError", "value", "valueMeta"] {
                        if ra.get(sym(k)).is_none() {
                            return Err(EvalError::new(
                                ErrorKind::Type,
                                format!("function 'anonymous lambda' called without required argument '{k}'"),
                            ));
                        }
                    }
                    let head = ra.get(sym!("headError")).cloned().unwrap_or(Value::Null);
                    let value = ra.get(sym!("value")).cloned().unwrap_or(Value::Null);
                    let meta = ra.get(sym!("valueMeta")).cloned().unwrap_or(Value::Null);
                    let internal = Value::attrs(vec![Attr::new(
                        sym!("_internal"),
                        Value::attrs(vec![Attr::new(sym!("type"), ty.clone())]),
                    )]);
                    let meta = {
                        let meta = meta.clone();
                        Value::lazy(move |ev: &mut Evaluator| {
                            let a = ev.expect_attrs(&meta)?;
                            let i = ev.expect_attrs(&internal)?;
                            Ok(Value::Attrs(Rc::new(a.update(&i))))
                        })
                    };
                    (head, value, meta)
                }
                None => (Value::Null, Value::Null, Value::attrs(vec![])),
            };
            let _ = cell.set(result.clone());
            Ok(result)
        })
    };
    let merged_value = {
        let m = merging.clone();
        let ty = ty.clone();
        let loc = loc.clone();
        let lib = lib.clone();
        let checked = checked.clone();
        Value::lazy(move |ev: &mut Evaluator| {
            let merging = m(ev)?;
            if !merging.defs_final.is_empty() {
                let merge = ev.select_str(&ty, "merge", span)?;
                if get(ev, &merge, "v2")?.is_some() {
                    let (head, value, _) = checked(ev)?;
                    let head = ev.force(&head)?;
                    if !matches!(head, Value::Null) {
                        let shown = show_option(ev, &lib, &loc, span)?;
                        let desc = ev.select_str(&ty, "description", span)?;
                        let desc = to_string(ev, &desc, span)?;
                        let msg = ev.select_str(&head, "message", span)?;
                        let msg = to_string(ev, &msg, span)?;
                        return Err(throw(format!(
                            "A definition for option `{shown}' is not of type `{desc}'. TypeError: {msg}"
                        )));
                    }
                    return ev.force(&value);
                }
                let check = ev.select_str(&ty, "check", span)?;
                let mut invalid = Vec::new();
                for d in &merging.defs_final {
                    let ok = ev.call(check.clone(), d.value.clone(), span)?;
                    if !ev.expect_bool(&ok)? {
                        invalid.push(d.clone());
                    }
                }
                if invalid.is_empty() {
                    let r = ev.call_n(merge, &[loc.value(), defs_list(&merging.defs_final)], span)?;
                    return ev.force(&r);
                }
                let shown = show_option(ev, &lib, &loc, span)?;
                let desc = ev.select_str(&ty, "description", span)?;
                let desc = to_string(ev, &desc, span)?;
                let defs_text = show_defs(ev, &lib, &invalid, span)?;
                let mut err = throw(format!(
                    "A definition for option `{shown}' is not of type `{desc}'. Definition values:{defs_text}"
                ));
                // Beyond nixpkgs' file names: where each bad definition is
                // written (the first is the error's own position).
                let mut positions = invalid.iter().filter_map(|d| d.pos);
                if let Some(first) = positions.next() {
                    err = err.with_span(first);
                }
                for p in positions {
                    err = err.with_related(format!("another definition of `{shown}' that is not of type `{desc}'"), p);
                }
                return Err(err);
            }
            let empty = ev.select_str(&ty, "emptyValue", span)?;
            if let Some(v) = get(ev, &empty, "value")? {
                return ev.force(&v);
            }
            let shown = show_option(ev, &lib, &loc, span)?;
            Err(throw(format!("The option `{shown}' was accessed but has no value defined. Try setting the option.")))
        })
    };
    let value_meta = {
        let checked = checked.clone();
        Value::lazy(move |ev: &mut Evaluator| {
            let (_, _, meta) = checked(ev)?;
            ev.force(&meta)
        })
    };
    let optional_value = {
        let m = merging.clone();
        let mv = merged_value.clone();
        Value::lazy(move |ev: &mut Evaluator| {
            if m(ev)?.defs_final.is_empty() {
                Ok(Value::attrs(vec![]))
            } else {
                Ok(Value::attrs(vec![Attr::new(sym!("value"), mv.clone())]))
            }
        })
    };
    MergeResult { defs_final, defs_final_list, highest_prio, merged_value, is_defined, value_meta, optional_value }
}

/// `evalOptionValue loc opt defs`: the option with its merged value and
/// definitions, all computed on demand.
fn eval_option_value(
    ev: &mut Evaluator,
    lib: &Value,
    loc: &Rc<Loc>,
    opt: &Value,
    defs: DefsProvider,
    span: Span,
) -> EvalResult<Value> {
    let o = ev.expect_attrs(opt)?;
    let ty = o.get(sym!("type")).cloned().unwrap_or(Value::Null);
    let loc_v = loc.clone();
    // `res`, shared by every field that needs it.
    let res_cell: Rc<OnceCell<Rc<MergeResult>>> = Rc::new(OnceCell::new());
    let res = {
        let o = o.clone();
        let lib = lib.clone();
        let ty = ty.clone();
        let loc = loc_v.clone();
        let cell = res_cell.clone();
        Rc::new(move |ev: &mut Evaluator| -> EvalResult<Rc<MergeResult>> {
            if let Some(r) = cell.get() {
                return Ok(r.clone());
            }
            let mut default_def = None;
            if let Some(default) = o.get(sym!("default")).cloned() {
                let decls = o.get(sym!("declarations")).cloned().unwrap_or_else(|| Value::list(vec![]));
                let first = Value::lazy(move |ev: &mut Evaluator| {
                    let l = ev.expect_list(&decls)?;
                    match l.first() {
                        Some(f) => ev.force(&f.clone()),
                        None => Err(EvalError::new(ErrorKind::Eval, "'builtins.head' called on an empty list")),
                    }
                });
                let value = Value::attrs(vec![
                    Attr::new(sym!("_type"), str_value("override")),
                    Attr::new(sym!("priority"), Value::Int(1500)),
                    Attr::new(sym!("content"), default),
                ]);
                default_def = Some(Def { file: first, value, full: None, pos: None, world: None });
            }
            let read_only = match o.get(sym!("readOnly")).cloned() {
                Some(r) => ev.expect_bool(&r)?,
                None => false,
            };
            let defs = defs(ev, !read_only)?;
            if read_only && default_def.is_some() as usize + defs.len() > 1 {
                let shown = show_option(ev, &lib, &loc, span)?;
                let mut separate = Vec::new();
                for d in default_def.iter().chain(defs.iter()) {
                    let single = merge_definitions_at(&lib, loc.clone(), &ty, None, defs_now(vec![d.clone()]), span);
                    separate.push(Def {
                        file: d.file.clone(),
                        value: single.merged_value,
                        full: d.full.clone(),
                        pos: d.pos,
                        world: None,
                    });
                }
                let text = show_defs(ev, &lib, &separate, span)?;
                return Err(throw(format!(
                    "The option `{shown}' is read-only, but it's set multiple times. Definition values:{text}"
                )));
            }
            let provided: DefsProvider = Rc::new(move |_: &mut Evaluator, _| Ok(defs.clone()));
            let r = Rc::new(merge_definitions_at(&lib, loc.clone(), &ty, default_def, provided, span));
            let _ = cell.set(r.clone());
            Ok(r)
        })
    };
    let field = |f: fn(&MergeResult) -> Value| -> Value {
        let res = res.clone();
        Value::lazy(move |ev: &mut Evaluator| {
            let r = res(ev)?;
            ev.force(&f(&r))
        })
    };
    let value = {
        let res = res.clone();
        let apply = o.get(sym!("apply")).cloned();
        let lib = lib.clone();
        let loc = loc_v.clone();
        Value::lazy(move |ev: &mut Evaluator| {
            let r = res(ev).and_then(|r| match &apply {
                Some(f) => ev.call(f.clone(), r.merged_value.clone(), span).and_then(|v| ev.force(&v)),
                None => ev.force(&r.merged_value),
            });
            r.map_err(|e| {
                let shown = show_option(ev, &lib, &loc, span).unwrap_or_default();
                e.context(format!("while evaluating the option `{shown}':"), None)
            })
        })
    };
    let to_string_fn = {
        let lib = lib.clone();
        let loc = loc_v.clone();
        native("__toString", 1, move |ev: &mut Evaluator, _: &[Value], span: Span| {
            Ok(str_value(show_option(ev, &lib, &loc, span)?))
        })
    };
    let defs_final = field(|r| r.defs_final_list.clone());
    let files = map_selecting(&defs_final, "file", span);
    let definitions = map_selecting(&defs_final, "value", span);
    let base = deprecation_warning(ev, lib, loc, &o, &ty, span)?;
    // In name order, so that no sorting is needed.
    let extra = vec![
        Attr::new(sym!("__toString"), to_string_fn),
        Attr::new(sym!("definitions"), definitions),
        Attr::new(sym!("definitionsWithLocations"), defs_final),
        Attr::new(sym!("files"), files),
        Attr::new(sym!("highestPrio"), field(|r| r.highest_prio.clone())),
        Attr::new(sym!("isDefined"), field(|r| r.is_defined.clone())),
        Attr::new(sym!("value"), value),
        Attr::new(sym!("valueMeta"), field(|r| r.value_meta.clone())),
    ];
    Ok(Value::Attrs(Rc::new(base.update(&Attrs::from_unsorted(extra)))))
}

/// `map (x: x.${name}) list`, lazy in the list and in each element.
fn map_selecting(list: &Value, name: &'static str, span: Span) -> Value {
    let list = list.clone();
    Value::lazy(move |ev: &mut Evaluator| {
        let l = ev.expect_list(&list)?;
        let out = l
            .iter()
            .map(|d| {
                let d = d.clone();
                Value::lazy(move |ev: &mut Evaluator| ev.select_str(&d, name, span))
            })
            .collect();
        Ok(Value::list(out))
    })
}

/// The option itself, behind a warning if its type is deprecated.
fn deprecation_warning(
    ev: &mut Evaluator,
    lib: &Value,
    loc: &[String],
    o: &Rc<Attrs>,
    ty: &Value,
    span: Span,
) -> EvalResult<Rc<Attrs>> {
    // `warnDeprecation opt // {...}` forces the type's deprecationMessage.
    let msg = get(ev, ty, "deprecationMessage")?;
    let msg = match msg {
        Some(m) => ev.force(&m)?,
        None => return Err(missing_attr(sym!("deprecationMessage"), &*ev.expect_attrs(ty)?).with_span(span)),
    };
    if matches!(msg, Value::Null) {
        return Ok(o.clone());
    }
    let shown = show_option(ev, lib, loc, span)?;
    let name = ev.select_str(ty, "name", span)?;
    let name = to_string(ev, &name, span)?;
    let decls = o.get(sym!("declarations")).cloned().unwrap_or_else(|| Value::list(vec![]));
    let files = show_files(ev, &decls, span)?;
    let msg = to_string(ev, &msg, span)?;
    let warn = lib_fn(ev, lib, &["warn"], span)?;
    let text = format!("The type `types.{name}' of option `{shown}' defined in {files} is deprecated. {msg}");
    let r = ev.call_n(warn, &[str_value(text), Value::Attrs(o.clone())], span)?;
    ev.expect_attrs(&r)
}

/// The native exports of `lib/modules.nix` handled here.
pub fn exports(_ev: &mut Evaluator, lib: &Value) -> Vec<Attr> {
    let lib = lib.clone();
    vec![Attr::new(
        sym!("evalModules"),
        native("evalModules", 1, move |ev: &mut Evaluator, args: &[Value], span: Span| {
            eval_modules(ev, &lib, &args[0], span)
        }),
    )]
}

//! Shared machinery of the native option types: reaching into the final
//! `lib`, building type values with nixpkgs' attributes, functors and
//! `typeMerge`, and the `merge.v2` protocol (`{ headError; value; valueMeta; }`).

use std::cell::RefCell;
use std::rc::Rc;

use dendrite_eval::eval::Coerce;
use dendrite_eval::native::native;
use dendrite_eval::value::{Attr, AttrVec, Attrs, NixString, Thunk, ThunkState, Value};
use dendrite_eval::{ErrorKind, EvalError, EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};
use rustc_hash::FxHashMap;

pub(crate) use dendrite_syntax::sym;

/// The body of a native merge in the `v2` protocol: `loc`, `defs` to the
/// `{ headError; value; valueMeta; }` record.
pub(crate) type MergeV2 = Rc<dyn Fn(&mut Evaluator, &Value, &Value, Span) -> EvalResult<Value>>;

/// What every native type closes over: the final `lib` and the constant
/// types made once per `lib`.
pub(crate) struct Cx {
    /// The final `lib` fixpoint (our own exports included).
    pub lib: Value,
    builtins: Value,
    span: Span,
    consts: RefCell<FxHashMap<&'static str, Value>>,
    /// `showOption` of locations already shown, by their names joined
    /// (a submodule shows its location for every definition it merges).
    shown: RefCell<FxHashMap<Vec<u8>, String>>,
    /// Values every type shares (the defaults of `mkOptionType`, ...).
    pub shared: Shared,
}

/// Values shared by all the types of one `lib`.
pub(crate) struct Shared {
    /// `{ }`
    pub empty_set: Value,
    /// `x: true`
    pub accept_all: Value,
    /// `prefix: { }`
    pub no_sub_options: Value,
    /// `m: null`
    pub no_subst: Value,
    /// `a: b: null`
    pub null_bin_op: Value,
    /// `t: null`
    pub null_type_merge: Value,
    /// `self: loc: defs: (self.v2 { inherit loc defs; }).value`
    pub v2_functor: Value,
    /// `lib.options.mergeDefaultOption`, with the one-definition case native
    pub merge_default: Value,
    /// `lib.options.mergeEqualOption`, with the one-definition case native
    pub merge_equal: Value,
    /// `lib.options.mergeOneOption`, with the one-definition case native
    pub merge_one: Value,
}

/// A merge function of `lib.options` whose result for a single definition
/// is that definition's value (true of `mergeDefaultOption`,
/// `mergeEqualOption` and `mergeOneOption`): answered natively, anything
/// else handed to the `lib` function.
fn single_def_merge(lib: &Value, name: &'static str) -> Value {
    let lib = lib.clone();
    native(name, 2, move |ev: &mut Evaluator, args: &[Value], span| {
        let defs = ev.expect_list(&args[1])?;
        if defs.len() == 1 {
            return get(ev, &defs[0], sym!("value"), span);
        }
        let options = ev.select_one(&lib, sym!("options"), span)?;
        let f = ev.select_one(&options, Symbol::new(name), span)?;
        apply2(ev, &f, args[0].clone(), args[1].clone(), span)
    })
}

impl Shared {
    fn new(lib: &Value) -> Shared {
        Shared {
            empty_set: set(vec![]),
            accept_all: constant_fn("check", Value::Bool(true)),
            no_sub_options: constant_fn("getSubOptions", set(vec![])),
            no_subst: constant_fn("substSubModules", Value::Null),
            null_bin_op: native("binOp", 2, |_: &mut Evaluator, _: &[Value], _| Ok(Value::Null)),
            null_type_merge: constant_fn("typeMerge", Value::Null),
            v2_functor: native("merge", 3, |ev: &mut Evaluator, args: &[Value], span| {
                let v2 = get(ev, &args[0], sym!("v2"), span)?;
                let arg = set(vec![(sym!("defs"), args[2].clone()), (sym!("loc"), args[1].clone())]);
                let r = apply(ev, &v2, arg, span)?;
                get(ev, &r, sym!("value"), span)
            }),
            merge_default: single_def_merge(lib, "mergeDefaultOption"),
            merge_equal: single_def_merge(lib, "mergeEqualOption"),
            merge_one: single_def_merge(lib, "mergeOneOption"),
        }
    }
}

/// The names of a location joined, when it is a list of strings without
/// context (then `showOption` depends on nothing else).
fn plain_names_key(ev: &mut Evaluator, loc: &Value) -> Option<Vec<u8>> {
    let list = ev.expect_list(loc).ok()?;
    let mut key = Vec::new();
    for x in list.iter() {
        match ev.force(x).ok()? {
            Value::String(s) if !s.has_context() => {
                key.extend_from_slice(s.as_bytes());
                key.push(0);
            }
            _ => return None,
        }
    }
    Some(key)
}

/// Shared handle on [`Cx`].
pub(crate) type Ctx = Rc<Cx>;

impl Cx {
    /// A context for `lib`.
    pub fn new(ev: &mut Evaluator, lib: &Value) -> Ctx {
        Rc::new(Cx {
            lib: lib.clone(),
            builtins: ev.builtins(),
            span: ev.builtin_span(),
            consts: RefCell::new(FxHashMap::default()),
            shown: RefCell::new(FxHashMap::default()),
            shared: Shared::new(lib),
        })
    }

    /// The span of calls made by the types on their own.
    pub fn span(&self) -> Span {
        self.span
    }

    /// `lib.<path>`, forced.
    pub fn lib(&self, ev: &mut Evaluator, path: &[Symbol], span: Span) -> EvalResult<Value> {
        let mut v = self.lib.clone();
        for s in path {
            v = ev.select_one(&v, *s, span)?;
        }
        Ok(v)
    }

    /// `lib.<path>`, selected when first forced.
    pub fn lib_lazy(self: &Rc<Self>, path: &'static [&'static str]) -> Value {
        let cx = self.clone();
        Value::lazy(move |ev: &mut Evaluator| {
            let syms: Vec<Symbol> = path.iter().map(|s| Symbol::new(s)).collect();
            let span = ev.builtin_span();
            cx.lib(ev, &syms, span)
        })
    }

    /// Calls `lib.<path>` with `args`.
    pub fn call_lib(&self, ev: &mut Evaluator, path: &[Symbol], args: &[Value], span: Span) -> EvalResult<Value> {
        let f = self.lib(ev, path, span)?;
        let r = ev.call_n(f, args, span)?;
        ev.force(&r)
    }

    /// `lib.types.<name>`, forced.
    pub fn lib_type(&self, ev: &mut Evaluator, name: Symbol, span: Span) -> EvalResult<Value> {
        self.lib(ev, &[sym!("types"), name], span)
    }

    /// `builtins.<name>`.
    pub fn builtin(&self, ev: &mut Evaluator, name: &str) -> EvalResult<Value> {
        let span = ev.builtin_span();
        ev.select_one(&self.builtins, Symbol::new(name), span)
    }

    /// A native constant made once per `lib` (the types that refer to each
    /// other, such as `anything` and `attrsOf anything`).
    pub fn constant(
        self: &Rc<Self>,
        key: &'static str,
        make: impl FnOnce(&Ctx) -> EvalResult<Value>,
    ) -> EvalResult<Value> {
        if let Some(v) = self.consts.borrow().get(key) {
            return Ok(v.clone());
        }
        let v = make(self)?;
        self.consts.borrow_mut().insert(key, v.clone());
        Ok(v)
    }

    /// `lib.options.showOption loc`.
    pub fn show_option(&self, ev: &mut Evaluator, loc: &Value, span: Span) -> EvalResult<String> {
        let key = plain_names_key(ev, loc);
        if let Some(shown) = key.as_ref().and_then(|k| self.shown.borrow().get(k).cloned()) {
            return Ok(shown);
        }
        let s = self.call_lib(ev, &[sym!("options"), sym!("showOption")], std::slice::from_ref(loc), span)?;
        let shown = text(ev, &s, span)?;
        if let Some(k) = key {
            self.shown.borrow_mut().insert(k, shown.clone());
        }
        Ok(shown)
    }

    /// `lib.options.showDefs defs`.
    pub fn show_defs(&self, ev: &mut Evaluator, defs: &Value, span: Span) -> EvalResult<String> {
        let s = self.call_lib(ev, &[sym!("options"), sym!("showDefs")], std::slice::from_ref(defs), span)?;
        text(ev, &s, span)
    }

    /// `lib.options.showFiles (lib.options.getFiles defs)`.
    pub fn show_files_of(&self, ev: &mut Evaluator, defs: &Value, span: Span) -> EvalResult<String> {
        let files = self.call_lib(ev, &[sym!("options"), sym!("getFiles")], std::slice::from_ref(defs), span)?;
        let s = self.call_lib(ev, &[sym!("options"), sym!("showFiles")], &[files], span)?;
        text(ev, &s, span)
    }

    /// `lib.modules.mergeDefinitions loc type defs` (the result record).
    pub fn merge_definitions(
        &self,
        ev: &mut Evaluator,
        loc: Value,
        ty: Value,
        defs: Value,
        span: Span,
    ) -> EvalResult<Value> {
        self.call_lib(ev, &[sym!("modules"), sym!("mergeDefinitions")], &[loc, ty, defs], span)
    }
}

// ------------------------------------------------------------ value helpers

/// A `throw` with this message.
pub(crate) fn throw(msg: impl Into<String>) -> EvalError {
    EvalError::new(ErrorKind::Throw, msg)
}

/// A string value.
pub(crate) fn s(text: impl AsRef<str>) -> Value {
    Value::String(NixString::from(text.as_ref()))
}

/// An attribute set from symbol/value pairs.
pub(crate) fn set(pairs: Vec<(Symbol, Value)>) -> Value {
    if pairs.windows(2).all(|w| w[0].0 < w[1].0) {
        return set_sorted(pairs);
    }
    Value::attrs(pairs.into_iter().map(|(n, v)| Attr::new(n, v)).collect())
}

/// An attribute set from pairs already in attribute-name order.
pub(crate) fn set_sorted(pairs: Vec<(Symbol, Value)>) -> Value {
    let mut entries = AttrVec::with_capacity(pairs.len());
    entries.extend(pairs.into_iter().map(|(n, v)| Attr::new(n, v)));
    Value::Attrs(Rc::new(Attrs::from_sorted(entries)))
}

/// `base // { pairs }` (forces `base`).
pub(crate) fn update(ev: &mut Evaluator, base: &Value, pairs: Vec<(Symbol, Value)>) -> EvalResult<Value> {
    let a = ev.expect_attrs(base)?;
    let extra = Attrs::from_unsorted(pairs.into_iter().map(|(n, v)| Attr::new(n, v)).collect());
    Ok(Value::Attrs(Rc::new(a.update(&extra))))
}

/// `v.name`, forced, with Nix's errors.
pub(crate) fn get(ev: &mut Evaluator, v: &Value, name: Symbol, span: Span) -> EvalResult<Value> {
    ev.select_one(v, name, span)
}

/// `v.name`, unforced (forces `v`), with Nix's errors.
pub(crate) fn get_lazy(ev: &mut Evaluator, v: &Value, name: Symbol, span: Span) -> EvalResult<Value> {
    let a = ev.force(v)?;
    match &a {
        Value::Attrs(attrs) => match attrs.get(name) {
            Some(x) => Ok(x.clone()),
            None => Err(dendrite_eval::eval::missing_attr(name, attrs).with_span(span)),
        },
        other => Err(ev.type_error("a set", other).with_span(span)),
    }
}

/// `v.name` if `v` is a set that has it (unforced), as `v.name or ...` sees it.
pub(crate) fn get_opt(ev: &mut Evaluator, v: &Value, name: Symbol) -> EvalResult<Option<Value>> {
    match ev.force(v)? {
        Value::Attrs(a) => Ok(a.get(name).cloned()),
        _ => Ok(None),
    }
}

/// `v ? name`.
pub(crate) fn has(ev: &mut Evaluator, v: &Value, name: Symbol) -> EvalResult<bool> {
    Ok(get_opt(ev, v, name)?.is_some())
}

/// A thunk for `v.name`.
pub(crate) fn select_thunk(v: Value, name: Symbol, span: Span) -> Value {
    Value::Thunk(Thunk::new(ThunkState::Select(v, name, span)))
}

/// `v == null`.
pub(crate) fn is_null(ev: &mut Evaluator, v: &Value) -> EvalResult<bool> {
    Ok(matches!(ev.force(v)?, Value::Null))
}

/// The text of `"${v}"`.
pub(crate) fn text(ev: &mut Evaluator, v: &Value, span: Span) -> EvalResult<String> {
    Ok(ev.coerce_to_string(v, Coerce::INTERPOLATE, span)?.to_str_lossy().into_owned())
}

/// Whether `v` is a string with exactly these bytes (forces `v`).
pub(crate) fn is_str(ev: &mut Evaluator, v: &Value, expected: &str) -> EvalResult<bool> {
    Ok(matches!(ev.force(v)?, Value::String(s) if s.as_bytes() == expected.as_bytes()))
}

/// `f x`, forced; `f` may be a functor set.
pub(crate) fn apply(ev: &mut Evaluator, f: &Value, x: Value, span: Span) -> EvalResult<Value> {
    let f = ev.force(f)?;
    let r = ev.call(f, x, span)?;
    ev.force(&r)
}

/// `f a b`, forced.
pub(crate) fn apply2(ev: &mut Evaluator, f: &Value, a: Value, b: Value, span: Span) -> EvalResult<Value> {
    let r = ev.call_n(f.clone(), &[a, b], span)?;
    ev.force(&r)
}

/// `check x` as a Boolean (Nix's `if`/`&&` error when it is not one).
pub(crate) fn test(ev: &mut Evaluator, check: &Value, x: Value, span: Span) -> EvalResult<bool> {
    let r = apply(ev, check, x, span)?;
    ev.expect_bool(&r)
}

/// `loc ++ [ name ]`.
pub(crate) fn loc_push(ev: &mut Evaluator, loc: &Value, name: Value) -> EvalResult<Value> {
    let l = ev.expect_list(loc)?;
    let mut items = Vec::with_capacity(l.len() + 1);
    items.extend(l.iter().cloned());
    items.push(name);
    Ok(Value::list(items))
}

/// `{ file; value; }`.
pub(crate) fn def(file: Value, value: Value) -> Value {
    set(vec![(sym!("file"), file), (sym!("value"), value)])
}

/// A native function of one argument that always returns `result`.
pub(crate) fn constant_fn(name: &str, result: Value) -> Value {
    native(name, 1, move |ev: &mut Evaluator, _: &[Value], _| ev.force(&result))
}

/// The error of a failed `assert`.
pub(crate) fn assertion_failed(expr: &str) -> EvalError {
    EvalError::new(ErrorKind::Assertion, format!("assertion '{expr}' failed"))
}

/// Checks the argument set of a function with formals `names` and no
/// ellipsis, as the evaluator does; returns the set.
pub(crate) fn formals(
    ev: &mut Evaluator,
    arg: &Value,
    function: &str,
    required: &[&str],
    optional: &[&str],
) -> EvalResult<Rc<Attrs>> {
    let v = ev.force(arg)?;
    let Value::Attrs(a) = &v else {
        return Err(ev.type_error("a set", &v));
    };
    for r in required {
        if a.get(Symbol::new(r)).is_none() {
            return Err(EvalError::new(
                ErrorKind::Type,
                format!("function '{function}' called without required argument '{r}'"),
            ));
        }
    }
    for attr in a.iter() {
        let n = attr.name.as_str();
        if !required.contains(&n.as_ref()) && !optional.contains(&n.as_ref()) {
            return Err(EvalError::new(
                ErrorKind::Type,
                format!("function '{function}' called with unexpected argument '{n}'"),
            ));
        }
    }
    Ok(a.clone())
}

// ---------------------------------------------------------------- types

/// The arguments of `mkOptionType`; `None` means nixpkgs' default.
pub(crate) struct TypeDef {
    /// `name`
    pub name: Value,
    /// `description` (`null`: the name)
    pub description: Value,
    /// `descriptionClass`
    pub description_class: Value,
    /// `check` (default: accepts everything)
    pub check: Option<Value>,
    /// `merge` (default: `mergeDefaultOption`)
    pub merge: Option<Value>,
    /// `emptyValue` (default: `{ }`)
    pub empty_value: Option<Value>,
    /// `getSubOptions` (default: `prefix: { }`)
    pub get_sub_options: Option<Value>,
    /// `getSubModules`
    pub get_sub_modules: Value,
    /// `substSubModules` (default: `m: null`)
    pub subst_sub_modules: Option<Value>,
    /// `typeMerge` (default: `defaultTypeMerge functor`)
    pub type_merge: Option<Value>,
    /// `functor` (default: `defaultFunctor name`)
    pub functor: Option<Value>,
    /// `deprecationMessage`
    pub deprecation_message: Value,
    /// `nestedTypes` (default: `{ }`)
    pub nested_types: Option<Value>,
}

impl TypeDef {
    /// A definition with nixpkgs' defaults for everything but the name.
    pub fn new(name: Value) -> TypeDef {
        TypeDef {
            name,
            description: Value::Null,
            description_class: Value::Null,
            check: None,
            merge: None,
            empty_value: None,
            get_sub_options: None,
            get_sub_modules: Value::Null,
            subst_sub_modules: None,
            type_merge: None,
            functor: None,
            deprecation_message: Value::Null,
            nested_types: None,
        }
    }

    /// The common shape of the simple types: name, description, class.
    pub fn simple(name: &str, description: &str, class: Option<&str>) -> TypeDef {
        let mut t = TypeDef::new(s(name));
        t.description = s(description);
        t.description_class = class.map(s).unwrap_or(Value::Null);
        t
    }

    /// The option type value (`mkOptionType`'s result).
    pub fn build(self, cx: &Ctx) -> Value {
        let name = self.name;
        let description = match self.description {
            Value::Null => name.clone(),
            d @ Value::Thunk(_) => {
                let name = name.clone();
                Value::lazy(move |ev: &mut Evaluator| {
                    let d = ev.force(&d)?;
                    if matches!(d, Value::Null) { ev.force(&name) } else { Ok(d) }
                })
            }
            d => d,
        };
        let functor = self.functor.unwrap_or_else(|| default_functor(cx, name.clone()));
        let type_merge = self.type_merge.unwrap_or_else(|| default_type_merge_for(functor.clone()));
        let sh = &cx.shared;
        set_sorted(vec![
            (sym!("_type"), s("option-type")),
            (sym!("check"), self.check.unwrap_or_else(|| sh.accept_all.clone())),
            (sym!("deprecationMessage"), self.deprecation_message),
            (sym!("description"), description),
            (sym!("descriptionClass"), self.description_class),
            (sym!("emptyValue"), self.empty_value.unwrap_or_else(|| sh.empty_set.clone())),
            (sym!("functor"), functor),
            (sym!("getSubModules"), self.get_sub_modules),
            (sym!("getSubOptions"), self.get_sub_options.unwrap_or_else(|| sh.no_sub_options.clone())),
            (sym!("merge"), self.merge.unwrap_or_else(|| sh.merge_default.clone())),
            (sym!("name"), name),
            (sym!("nestedTypes"), self.nested_types.unwrap_or_else(|| sh.empty_set.clone())),
            (sym!("substSubModules"), self.subst_sub_modules.unwrap_or_else(|| sh.no_subst.clone())),
            (sym!("typeMerge"), type_merge),
        ])
    }
}

/// `defaultFunctor name`: `{ name; type = lib.types.${name} or null;
/// payload = null; binOp = a: b: null; }`.
pub(crate) fn default_functor(cx: &Ctx, name: Value) -> Value {
    let ty = {
        let cx = cx.clone();
        let name = name.clone();
        Value::lazy(move |ev: &mut Evaluator| {
            let span = ev.builtin_span();
            let n = ev.expect_string(&name)?;
            let types = cx.lib(ev, &[sym!("types")], span)?;
            match get_opt(ev, &types, Symbol::from_bytes(n.as_bytes()))? {
                Some(t) => ev.force(&t),
                None => Ok(Value::Null),
            }
        })
    };
    set(vec![
        (sym!("binOp"), cx.shared.null_bin_op.clone()),
        (sym!("name"), name),
        (sym!("payload"), Value::Null),
        (sym!("type"), ty),
    ])
}

/// `defaultTypeMerge f`, as a function of the other functor.
pub(crate) fn default_type_merge_for(functor: Value) -> Value {
    native("typeMerge", 1, move |ev: &mut Evaluator, args: &[Value], span| {
        default_type_merge(ev, &functor, &args[0], span)
    })
}

/// `defaultTypeMerge f f'`: merges two functors of the same name through
/// their payloads, or gives `null`.
pub(crate) fn default_type_merge(ev: &mut Evaluator, f: &Value, f2: &Value, span: Span) -> EvalResult<Value> {
    let n1 = get(ev, f, sym!("name"), span)?;
    let n2 = get(ev, f2, sym!("name"), span)?;
    if !ev.equal(&n1, &n2, span)? {
        return Ok(Value::Null);
    }
    let p1 = get_lazy(ev, f, sym!("payload"), span)?;
    let p2 = get_lazy(ev, f2, sym!("payload"), span)?;
    let has1 = !is_null(ev, &p1)?;
    let has2 = !is_null(ev, &p2)?;
    if has1 != has2 {
        return Err(assertion_failed("(f'.payload != null) == (f.payload != null)"));
    }
    if has1 {
        let bin_op = get(ev, f, sym!("binOp"), span)?;
        let merged = apply2(ev, &bin_op, p1, p2, span)?;
        if matches!(merged, Value::Null) {
            return Ok(Value::Null);
        }
        let ty = get(ev, f, sym!("type"), span)?;
        apply(ev, &ty, merged, span)
    } else {
        get(ev, f, sym!("type"), span)
    }
}

/// `elemTypeFunctor name payload`: a functor whose payload holds
/// `elemType` and whose `binOp` merges the element types. `ty` is the
/// functor's `type` (nixpkgs overrides it in most types).
pub(crate) fn elem_type_functor(name: &str, payload: Value, ty: Value) -> Value {
    set(vec![
        (
            sym!("binOp"),
            native("binOp", 2, |ev: &mut Evaluator, args: &[Value], span| {
                let a = get(ev, &args[0], sym!("elemType"), span)?;
                let b = get(ev, &args[1], sym!("elemType"), span)?;
                let tm = get(ev, &a, sym!("typeMerge"), span)?;
                let bf = get_lazy(ev, &b, sym!("functor"), span)?;
                let merged = apply(ev, &tm, bf, span)?;
                if matches!(merged, Value::Null) { Ok(Value::Null) } else { Ok(set(vec![(sym!("elemType"), merged)])) }
            }),
        ),
        (sym!("name"), s(name)),
        (sym!("payload"), payload),
        (sym!("type"), ty),
    ])
}

/// A functor `type` of the form `payload: lib.types.<name> payload.elemType`.
pub(crate) fn elem_type_ctor(cx: &Ctx, name: Symbol) -> Value {
    let cx = cx.clone();
    native("type", 1, move |ev: &mut Evaluator, args: &[Value], span| {
        let ctor = cx.lib_type(ev, name, span)?;
        let elem = get_lazy(ev, &args[0], sym!("elemType"), span)?;
        apply(ev, &ctor, elem, span)
    })
}

/// `optionDescriptionPhrase (class: elem class classes) t`: the
/// description of `t`, parenthesised unless its class is one of `classes`.
pub(crate) fn phrase(ev: &mut Evaluator, t: &Value, classes: &[&str], span: Span) -> EvalResult<String> {
    let class = match get_opt(ev, t, sym!("descriptionClass"))? {
        Some(c) => ev.force(&c)?,
        None => Value::Null,
    };
    let plain = match &class {
        Value::String(c) => classes.iter().any(|k| k.as_bytes() == c.as_bytes()),
        _ => false,
    };
    let d = get(ev, t, sym!("description"), span)?;
    let d = text(ev, &d, span)?;
    Ok(if plain { d } else { format!("({d})") })
}

/// A lazily computed string.
pub(crate) fn lazy_text(f: impl Fn(&mut Evaluator, Span) -> EvalResult<String> + 'static) -> Value {
    Value::lazy(move |ev: &mut Evaluator| {
        let span = ev.builtin_span();
        Ok(s(f(ev, span)?))
    })
}

// ------------------------------------------------------------ merge v2

/// A `check` that declares itself coherent with its type's `merge.v2`:
/// `{ __functor = _: x: ...; isV2MergeCoherent = true; }`.
pub(crate) fn v2_check(body: impl Fn(&mut Evaluator, &Value, Span) -> EvalResult<bool> + 'static) -> Value {
    set(vec![
        (
            sym!("__functor"),
            native("check", 2, move |ev: &mut Evaluator, args: &[Value], span| {
                Ok(Value::Bool(body(ev, &args[1], span)?))
            }),
        ),
        (sym!("isV2MergeCoherent"), Value::Bool(true)),
    ])
}

/// A `merge` in the `v2` protocol: `{ __functor = self: loc: defs:
/// (self.v2 { inherit loc defs; }).value; v2 = { loc, defs }: ...; }`.
pub(crate) fn v2_merge(functor: Value, body: MergeV2) -> Value {
    let v2 = native("v2", 1, move |ev: &mut Evaluator, args: &[Value], span| {
        let a = formals(ev, &args[0], "v2", &["loc", "defs"], &[])?;
        let loc = a.get(sym!("loc")).cloned().unwrap_or(Value::Null);
        let defs = a.get(sym!("defs")).cloned().unwrap_or(Value::Null);
        let r = body(ev, &loc, &defs, span)?;
        ev.force(&r)
    });
    set(vec![(sym!("__functor"), functor), (sym!("v2"), v2)])
}

/// The `{ headError; value; valueMeta; }` record of a `v2` merge.
pub(crate) fn v2_result(head_error: Value, value: Value, value_meta: Value) -> Value {
    set(vec![(sym!("headError"), head_error), (sym!("value"), value), (sym!("valueMeta"), value_meta)])
}

/// `type.merge ? v2`.
pub(crate) fn merge_has_v2(ev: &mut Evaluator, ty: &Value, span: Span) -> EvalResult<bool> {
    let m = get(ev, ty, sym!("merge"), span)?;
    has(ev, &m, sym!("v2"))
}

/// `type.merge.v2 { loc; defs; }`.
pub(crate) fn call_v2(ev: &mut Evaluator, ty: &Value, loc: Value, defs: Value, span: Span) -> EvalResult<Value> {
    let m = get(ev, ty, sym!("merge"), span)?;
    let v2 = get(ev, &m, sym!("v2"), span)?;
    apply(ev, &v2, set(vec![(sym!("defs"), defs), (sym!("loc"), loc)]), span)
}

/// `type.merge loc defs`.
pub(crate) fn call_merge(ev: &mut Evaluator, ty: &Value, loc: Value, defs: Value, span: Span) -> EvalResult<Value> {
    let m = get(ev, ty, sym!("merge"), span)?;
    apply2(ev, &m, loc, defs, span)
}

/// `checkDefsForError check loc defs`: `null` when every definition passes
/// `check`, else `{ message = "Definition values: ..."; }`.
pub(crate) fn check_defs_for_error(
    cx: &Ctx,
    ev: &mut Evaluator,
    check: &Value,
    defs: &Value,
    span: Span,
) -> EvalResult<Value> {
    let list = ev.expect_list(defs)?;
    let mut invalid = Vec::new();
    for d in list.iter() {
        let v = get_lazy(ev, d, sym!("value"), span)?;
        if !test(ev, check, v, span)? {
            invalid.push(d.clone());
        }
    }
    if invalid.is_empty() {
        return Ok(Value::Null);
    }
    let cx = cx.clone();
    let invalid = Value::list(invalid);
    let message = lazy_text(move |ev, span| Ok(format!("Definition values: {}", cx.show_defs(ev, &invalid, span)?)));
    Ok(set(vec![(sym!("message"), message)]))
}

/// The `headError` of a v2 merge whose definitions must pass `check`,
/// computed only when read.
pub(crate) fn lazy_head_error(cx: &Ctx, check: &Value, defs: &Value) -> Value {
    let (cx, check, defs) = (cx.clone(), check.clone(), defs.clone());
    lazy(move |ev, span| check_defs_for_error(&cx, ev, &check, &defs, span))
}

/// `checkV2MergeCoherence loc type result`: `result`, unless `type.check`
/// is a plain function (an ad-hoc `type // { check }` override).
pub(crate) fn check_v2_coherence(cx: &Ctx, ev: &mut Evaluator, loc: &Value, ty: &Value, span: Span) -> EvalResult<()> {
    let check = get(ev, ty, sym!("check"), span)?;
    let coherent = match get_opt(ev, &check, sym!("isV2MergeCoherent"))? {
        Some(c) => ev.expect_bool(&c)?,
        None => false,
    };
    if coherent {
        return Ok(());
    }
    let option = cx.show_option(ev, loc, span)?;
    let desc = get(ev, ty, sym!("description"), span)?;
    let desc = text(ev, &desc, span)?;
    Err(throw(format!(
        "The option `{option}' has a type `{desc}' that uses\n\
         an ad-hoc `type // {{ check = ...; }}' override, which is incompatible with\n\
         the v2 merge mechanism.\n\
         \n\
         Please use `lib.types.addCheck` instead of `type // {{ check }}' to add\n\
         custom validation. For example:\n\
         \n\
         \x20 lib.types.addCheck baseType (value: /* your check */)\n\
         \n\
         instead of:\n\
         \n\
         \x20 baseType // {{ check = value: /* your check */; }}\n"
    )))
}

/// The checked and merged record of `ty` for `defs`: its own `v2` record
/// (after the coherence check), or one made from `merge` and `check`.
pub(crate) fn checked_and_merged(
    cx: &Ctx,
    ev: &mut Evaluator,
    ty: &Value,
    loc: &Value,
    defs: &Value,
    span: Span,
) -> EvalResult<Value> {
    if merge_has_v2(ev, ty, span)? {
        check_v2_coherence(cx, ev, loc, ty, span)?;
        return call_v2(ev, ty, loc.clone(), defs.clone(), span);
    }
    let value = {
        let (ty, loc, defs) = (ty.clone(), loc.clone(), defs.clone());
        Value::lazy(move |ev: &mut Evaluator| {
            let span = ev.builtin_span();
            call_merge(ev, &ty, loc.clone(), defs.clone(), span)
        })
    };
    let head_error = {
        let (cx, ty, defs) = (cx.clone(), ty.clone(), defs.clone());
        Value::lazy(move |ev: &mut Evaluator| {
            let span = ev.builtin_span();
            let check = get(ev, &ty, sym!("check"), span)?;
            check_defs_for_error(&cx, ev, &check, &defs, span)
        })
    };
    Ok(v2_result(head_error, value, set(vec![])))
}

/// A lazy value computed by `f` (forced on first use).
pub(crate) fn lazy(f: impl Fn(&mut Evaluator, Span) -> EvalResult<Value> + 'static) -> Value {
    Value::lazy(move |ev: &mut Evaluator| {
        let span = ev.builtin_span();
        let v = f(ev, span)?;
        ev.force(&v)
    })
}

//! Properties: `mkIf`, `mkMerge`, `mkOverride` (and its aliases), `mkOrder`
//! (and its aliases), `mkDefinition`, and how the module system processes
//! them: pushing them down into attribute sets, discharging conditions,
//! keeping the definitions of highest priority and sorting by order.

use std::rc::Rc;

use dendrite_eval::native::native;
use dendrite_eval::value::{Attr, Attrs, NixString, Value};
use dendrite_eval::{ErrorKind, EvalError, EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};

/// `mkOverride` priority of plain definitions.
pub const DEFAULT_OVERRIDE_PRIORITY: i64 = 100;
/// `mkOrder` priority of plain definitions.
pub const DEFAULT_ORDER_PRIORITY: i64 = 1000;

/// Interned names used by properties.
pub struct Names {
    /// `_type`
    pub type_: Symbol,
    /// `condition`
    pub condition: Symbol,
    /// `content`
    pub content: Symbol,
    /// `contents`
    pub contents: Symbol,
    /// `priority`
    pub priority: Symbol,
    /// `file`
    pub file: Symbol,
    /// `value`
    pub value: Symbol,
}

thread_local! {
    static NAMES: Names = Names {
        type_: Symbol::new("_type"),
        condition: Symbol::new("condition"),
        content: Symbol::new("content"),
        contents: Symbol::new("contents"),
        priority: Symbol::new("priority"),
        file: Symbol::new("file"),
        value: Symbol::new("value"),
    };
}

/// Runs `f` with the interned names.
pub fn names<T>(f: impl FnOnce(&Names) -> T) -> T {
    NAMES.with(f)
}

/// A value's `_type`: its string, or `None` when it is not a string.
pub struct Tag(Option<NixString>);

impl Tag {
    /// The tag's bytes (empty for a non-string `_type`, which matches nothing).
    pub fn bytes(&self) -> &[u8] {
        self.0.as_ref().map_or(&[], |s| s.as_bytes())
    }
}

/// The property tag of a value: `v._type or ""` compared as bytes (a
/// non-string `_type` matches nothing).
pub fn tag(ev: &mut Evaluator, v: &Value) -> EvalResult<Option<Tag>> {
    let v = ev.force(v)?;
    let Value::Attrs(a) = &v else { return Ok(None) };
    let Some(t) = names(|n| a.get(n.type_).cloned()) else { return Ok(None) };
    match ev.force(&t)? {
        Value::String(s) => Ok(Some(Tag(Some(s)))),
        _ => Ok(Some(Tag(None))),
    }
}

/// Whether `v._type` is the string `name`.
pub fn has_tag(ev: &mut Evaluator, v: &Value, name: &[u8]) -> EvalResult<bool> {
    Ok(tag(ev, v)?.is_some_and(|t| t.bytes() == name))
}

fn field(ev: &mut Evaluator, v: &Value, name: Symbol, span: Span) -> EvalResult<Value> {
    ev.select_one(v, name, span)
}

/// `pushDownProperties`: `mkMerge` is expanded and `mkIf`/`mkOverride` are
/// pushed into the attributes of the set they wrap.
pub fn push_down(ev: &mut Evaluator, cfg: &Value, span: Span) -> EvalResult<Vec<Value>> {
    let t = tag(ev, cfg)?;
    match t.as_ref().map(Tag::bytes) {
        Some(b"merge") => {
            let contents = names(|n| n.contents);
            let list = field(ev, cfg, contents, span)?;
            let list = ev.expect_list(&list)?;
            let mut out = Vec::new();
            for item in list.iter() {
                out.extend(push_down(ev, item, span)?);
            }
            Ok(out)
        }
        Some(kind @ (b"if" | b"override")) => {
            let (content_sym, cond_sym, prio_sym) = names(|n| (n.content, n.condition, n.priority));
            let content = field(ev, cfg, content_sym, span)?;
            let inner = push_down(ev, &content, span)?;
            let is_if = kind == b"if";
            let Value::Attrs(cfg) = ev.force(cfg)? else { unreachable!("a tagged value is a set") };
            let key = if is_if { cond_sym } else { prio_sym };
            let tag_value = Value::String(NixString::from(if is_if { "if" } else { "override" }));
            let mut out = Vec::with_capacity(inner.len());
            for v in inner {
                let forced = ev.force(&v)?;
                let Value::Attrs(a) = &forced else {
                    // Not a set: left alone so that a better error comes later.
                    out.push(forced);
                    continue;
                };
                let entries: Vec<Attr> = a
                    .iter()
                    .map(|attr| {
                        let wrapped = wrap_property(&cfg, &tag_value, key, attr.value.clone(), span);
                        Attr { name: attr.name, value: wrapped, pos: attr.pos }
                    })
                    .collect();
                out.push(Value::Attrs(Rc::new(Attrs::from_sorted(entries))));
            }
            Ok(out)
        }
        _ => Ok(vec![cfg.clone()]),
    }
}

/// `mkIf cfg.condition v` or `mkOverride cfg.priority v`. `cfg` is the
/// evaluated property; making the set evaluates nothing, so it is made now.
fn wrap_property(cfg: &Rc<Attrs>, tag_value: &Value, key: Symbol, v: Value, span: Span) -> Value {
    let (t, c) = names(|n| (n.type_, n.content));
    let extra = match cfg.get(key) {
        Some(x) => x.clone(),
        // Missing: the error comes when (and if) the field is needed.
        None => {
            let cfg = Value::Attrs(cfg.clone());
            Value::lazy(move |ev: &mut Evaluator| ev.select_one(&cfg, key, span))
        }
    };
    Value::attrs(vec![Attr::new(t, tag_value.clone()), Attr::new(key, extra), Attr::new(c, v)])
}

/// `dischargeProperties`: expands `mkMerge`, evaluates `mkIf` conditions.
pub fn discharge(ev: &mut Evaluator, def: &Value, span: Span, out: &mut Vec<Value>) -> EvalResult<()> {
    let t = tag(ev, def)?;
    match t.as_ref().map(Tag::bytes) {
        Some(b"merge") => {
            let contents = names(|n| n.contents);
            let list = field(ev, def, contents, span)?;
            let list = ev.expect_list(&list)?;
            for item in list.iter() {
                discharge(ev, item, span, out)?;
            }
            Ok(())
        }
        Some(b"if") => {
            let (cond_sym, content_sym) = names(|n| (n.condition, n.content));
            let cond = field(ev, def, cond_sym, span)?;
            match cond {
                Value::Bool(true) => {
                    let content = field(ev, def, content_sym, span)?;
                    discharge(ev, &content, span, out)
                }
                Value::Bool(false) => Ok(()),
                _ => Err(EvalError::new(ErrorKind::Throw, "‘mkIf’ called with a non-Boolean condition")),
            }
        }
        _ => {
            out.push(def.clone());
            Ok(())
        }
    }
}

/// `dischargeProperties` of a shared module's value: the properties are
/// read from the template where that needs no configuration, and what
/// comes out is the configuration's own values.
pub fn discharge_src(ev: &mut Evaluator, def: &crate::share::Src, span: Span, out: &mut Vec<Value>) -> EvalResult<()> {
    if !def.is_shared() {
        return discharge(ev, &def.v, span, out);
    }
    let d = def.force(ev)?;
    if !d.is_shared() {
        return discharge(ev, &d.v, span, out);
    }
    let Value::Attrs(a) = &d.v else {
        out.push(d.value()?);
        return Ok(());
    };
    let (type_sym, cond_sym, content_sym, contents_sym) = names(|n| (n.type_, n.condition, n.content, n.contents));
    let tag = match a.get(type_sym) {
        Some(t) => match d.child(t.clone()).force(ev)?.v {
            Value::String(s) => Some(s),
            _ => None,
        },
        None => None,
    };
    let missing = |name: Symbol| dendrite_eval::eval::missing_attr(name, a).with_span(span);
    match tag.as_ref().map(|t| t.as_bytes()) {
        Some(b"merge") => {
            let list = d.child(a.get(contents_sym).cloned().ok_or_else(|| missing(contents_sym))?).force(ev)?;
            let Value::List(items) = &list.v else {
                return Err(ev.type_error("a list", &list.v));
            };
            for item in items.iter() {
                discharge_src(ev, &list.child(item.clone()), span, out)?;
            }
            Ok(())
        }
        Some(b"if") => {
            let cond = d.child(a.get(cond_sym).cloned().ok_or_else(|| missing(cond_sym))?).force(ev)?;
            match cond.v {
                Value::Bool(true) => {
                    let content = d.child(a.get(content_sym).cloned().ok_or_else(|| missing(content_sym))?);
                    discharge_src(ev, &content, span, out)
                }
                Value::Bool(false) => Ok(()),
                _ => Err(EvalError::new(ErrorKind::Throw, "‘mkIf’ called with a non-Boolean condition")),
            }
        }
        _ => {
            out.push(d.value()?);
            Ok(())
        }
    }
}

/// A definition being merged: where it comes from and its value. `full` is
/// the original attribute set when the definition carries more than
/// `file` and `value` (`mkDefinition`, `priority` after sorting).
#[derive(Clone)]
pub struct Def {
    /// The file (a string value).
    pub file: Value,
    /// The value.
    pub value: Value,
    /// The whole definition set, when it has extra attributes.
    pub full: Option<Rc<Attrs>>,
    /// Where the definition is written (the defining attribute), if known.
    pub pos: Option<Span>,
    /// The configuration whose copy of a shared module's value `value` is
    /// (see [`crate::share`]); `None` for a value of the evaluation itself.
    pub world: Option<Rc<dendrite_eval::world::World>>,
}

impl Def {
    /// The definition as the `{ file; value; ... }` set Nix code expects.
    pub fn to_value(&self) -> Value {
        let (f, v) = names(|n| (n.file, n.value));
        match &self.full {
            Some(a) => Value::Attrs(Rc::new(a.update(&Attrs::from_unsorted(vec![
                Attr::new(f, self.file.clone()),
                Attr::new(v, self.value.clone()),
            ])))),
            None => Value::attrs(vec![Attr::new(f, self.file.clone()), Attr::new(v, self.value.clone())]),
        }
    }

    /// Reads a `{ file; value; ... }` set.
    pub fn from_value(ev: &mut Evaluator, v: &Value, span: Span) -> EvalResult<Def> {
        let a = ev.expect_attrs(v)?;
        let (f, val) = names(|n| (n.file, n.value));
        let file = a.get(f).cloned().ok_or_else(|| dendrite_eval::eval::missing_attr(f, &a).with_span(span))?;
        let value = a.get(val).cloned().ok_or_else(|| dendrite_eval::eval::missing_attr(val, &a).with_span(span))?;
        let full = (a.len() > 2).then(|| a.clone());
        Ok(Def { file, value, full, pos: None, world: None })
    }
}

fn priority_of(ev: &mut Evaluator, def: &Def, span: Span) -> EvalResult<i64> {
    if has_tag(ev, &def.value, b"override")? {
        let p = names(|n| n.priority);
        let v = field(ev, &def.value, p, span)?;
        ev.expect_int(&v)
    } else {
        Ok(DEFAULT_OVERRIDE_PRIORITY)
    }
}

fn strip_override(ev: &mut Evaluator, def: &Def, span: Span) -> EvalResult<Def> {
    if has_tag(ev, &def.value, b"override")? {
        let c = names(|n| n.content);
        let content = ev.attr_of(&def.value, "content")?.ok_or_else(|| {
            EvalError::new(ErrorKind::MissingAttribute, "attribute 'content' missing").with_span(span)
        })?;
        let _ = c;
        Ok(Def { file: def.file.clone(), value: content, full: def.full.clone(), pos: def.pos, world: None })
    } else {
        Ok(def.clone())
    }
}

/// `filterOverrides'`: the definitions of highest priority (lowest number),
/// with their `mkOverride` stripped, and that priority.
pub fn filter_overrides(ev: &mut Evaluator, defs: &[Def], span: Span) -> EvalResult<(Vec<Def>, i64)> {
    if defs.len() == 1 {
        let p = priority_of(ev, &defs[0], span)?;
        return Ok((vec![strip_override(ev, &defs[0], span)?], p));
    }
    let mut prios = Vec::with_capacity(defs.len());
    let mut highest = 9999;
    for d in defs {
        let p = priority_of(ev, d, span)?;
        highest = highest.min(p);
        prios.push(p);
    }
    let mut out = Vec::new();
    for (d, p) in defs.iter().zip(prios) {
        if p == highest {
            out.push(strip_override(ev, d, span)?);
        }
    }
    Ok((out, highest))
}

/// `sortProperties`: stable sort by `mkOrder` priority, stripping `mkOrder`
/// (a sorted definition remembers its `priority`).
pub fn sort_properties(ev: &mut Evaluator, defs: Vec<Def>, span: Span) -> EvalResult<Vec<Def>> {
    let (p_sym, c_sym) = names(|n| (n.priority, n.content));
    let mut keyed = Vec::with_capacity(defs.len());
    for d in defs {
        if has_tag(ev, &d.value, b"order")? {
            let prio = field(ev, &d.value, p_sym, span)?;
            let content = ev.attr_of(&d.value, "content")?.unwrap_or(Value::Null);
            let _ = c_sym;
            let p = ev.expect_int(&prio)?;
            let base = match &d.full {
                Some(a) => (**a).clone(),
                None => Attrs::empty(),
            };
            let full = base.update(&Attrs::from_unsorted(vec![Attr::new(p_sym, prio)]));
            keyed.push((p, Def { file: d.file, value: content, full: Some(Rc::new(full)), pos: d.pos, world: None }));
        } else {
            let p = match &d.full {
                Some(a) => match a.get(p_sym) {
                    Some(v) => ev.expect_int(&v.clone())?,
                    None => DEFAULT_ORDER_PRIORITY,
                },
                None => DEFAULT_ORDER_PRIORITY,
            };
            keyed.push((p, d));
        }
    }
    keyed.sort_by_key(|(p, _)| *p);
    Ok(keyed.into_iter().map(|(_, d)| d).collect())
}

fn tagged(kind: &'static str, fields: Vec<(&'static str, Value)>) -> Value {
    let mut entries = vec![Attr::new(Symbol::new("_type"), Value::String(NixString::from(kind)))];
    entries.extend(fields.into_iter().map(|(n, v)| Attr::new(Symbol::new(n), v)));
    Value::attrs(entries)
}

fn mk_override(priority: i64) -> Value {
    native("mkOverride", 1, move |_, args, _| {
        Ok(tagged("override", vec![("priority", Value::Int(priority)), ("content", args[0].clone())]))
    })
}

fn mk_order(priority: i64) -> Value {
    native("mkOrder", 1, move |_, args, _| {
        Ok(tagged("order", vec![("priority", Value::Int(priority)), ("content", args[0].clone())]))
    })
}

/// The native property constructors, as `lib/modules.nix` exports them.
pub fn exports(_ev: &mut Evaluator, _lib: &Value) -> Vec<Attr> {
    let a = |n: &str, v: Value| Attr::new(Symbol::new(n), v);
    vec![
        a(
            "mkIf",
            native("mkIf", 2, |_, args, _| {
                Ok(tagged("if", vec![("condition", args[0].clone()), ("content", args[1].clone())]))
            }),
        ),
        a("mkMerge", native("mkMerge", 1, |_, args, _| Ok(tagged("merge", vec![("contents", args[0].clone())])))),
        a(
            "mkOverride",
            native("mkOverride", 2, |_, args, _| {
                Ok(tagged("override", vec![("priority", args[0].clone()), ("content", args[1].clone())]))
            }),
        ),
        a("mkOptionDefault", mk_override(1500)),
        a("mkDefault", mk_override(1000)),
        a("mkImageMediaOverride", mk_override(60)),
        a("mkForce", mk_override(50)),
        a("mkVMOverride", mk_override(10)),
        a(
            "mkOrder",
            native("mkOrder", 2, |_, args, _| {
                Ok(tagged("order", vec![("priority", args[0].clone()), ("content", args[1].clone())]))
            }),
        ),
        a("mkBefore", mk_order(500)),
        a("mkAfter", mk_order(1500)),
        a("defaultOverridePriority", Value::Int(DEFAULT_OVERRIDE_PRIORITY)),
        a("defaultOrderPriority", Value::Int(DEFAULT_ORDER_PRIORITY)),
    ]
}

//! Native option types: the exports of nixpkgs' `lib/types.nix`.
//!
//! Every type is an ordinary attribute set with nixpkgs' attributes
//! (`_type = "option-type"`, `name`, `description`, `check`, `merge`,
//! `functor`, `typeMerge`, ...) whose functions are native. Types reach the
//! rest of the module system (`mergeDefinitions`, `evalModules`, the
//! `merge*Option` helpers) through the final `lib`, at call time, so they
//! work with both the native and the interpreted `modules.nix`/`options.nix`.

use std::rc::Rc;

use dendrite_eval::native::native;
use dendrite_eval::value::{Attr, Attrs, Value};
use dendrite_eval::{EvalResult, Evaluator};
use dendrite_syntax::Symbol;

mod attr_list;
mod basic;
mod compound;
mod core;
mod submodule;

use self::core::*;

/// The exports the import hook lays over `lib/types.nix`: none yet. The
/// hook in `lib.rs` merges them into the file's `types` attribute, which is
/// `lib.types` itself (forcing it there is an infinite recursion); once it
/// lays them over the file's result like the other files, it should call
/// [`native_exports`] instead.
pub fn exports(_ev: &mut Evaluator, _lib: &Value) -> Vec<Attr> {
    Vec::new()
}

/// The native exports of `lib/types.nix` (every type, `mkOptionType`,
/// `isType`, `setType`, `defaultTypeMerge`, `defaultFunctor`, ...), given
/// the final `lib`; they go at the top level of the file's result.
pub fn native_exports(ev: &mut Evaluator, lib: &Value) -> Vec<Attr> {
    let cx = Cx::new(ev, lib);
    match build(&cx, ev) {
        Ok(v) => v.into_iter().map(|(n, v)| Attr::new(Symbol::new(n), v)).collect(),
        // Building the exports only fails if `builtins` lacks a function;
        // the interpreted types then stay in place.
        Err(_) => Vec::new(),
    }
}

/// A native function of one argument.
fn fn1(cx: &Ctx, name: &str, f: impl Fn(&Ctx, &mut Evaluator, &Value) -> EvalResult<Value> + 'static) -> Value {
    let cx = cx.clone();
    native(name, 1, move |ev: &mut Evaluator, args: &[Value], _| {
        let r = f(&cx, ev, &args[0])?;
        ev.force(&r)
    })
}

/// A value built on first use.
fn deferred(cx: &Ctx, f: impl Fn(&Ctx, &mut Evaluator) -> EvalResult<Value> + 'static) -> Value {
    let cx = cx.clone();
    Value::lazy(move |ev: &mut Evaluator| {
        let r = f(&cx, ev)?;
        ev.force(&r)
    })
}

/// `mkOptionType { name; description ? null; ... }`.
fn mk_option_type(cx: &Ctx, ev: &mut Evaluator, arg: &Value) -> EvalResult<Value> {
    let a = formals(
        ev,
        arg,
        "mkOptionType",
        &["name"],
        &[
            "description",
            "descriptionClass",
            "check",
            "merge",
            "emptyValue",
            "getSubOptions",
            "getSubModules",
            "substSubModules",
            "typeMerge",
            "functor",
            "deprecationMessage",
            "nestedTypes",
        ],
    )?;
    let get = |n: &str| a.get(Symbol::new(n)).cloned();
    let mut t = TypeDef::new(get("name").unwrap_or(Value::Null));
    t.description = match get("description") {
        Some(d @ Value::Thunk(_)) => d,
        Some(d) => d,
        None => Value::Null,
    };
    t.description_class = get("descriptionClass").unwrap_or(Value::Null);
    t.check = get("check");
    t.merge = get("merge");
    t.empty_value = get("emptyValue");
    t.get_sub_options = get("getSubOptions");
    t.get_sub_modules = get("getSubModules").unwrap_or(Value::Null);
    t.subst_sub_modules = get("substSubModules");
    t.type_merge = get("typeMerge");
    t.functor = get("functor");
    t.deprecation_message = get("deprecationMessage").unwrap_or(Value::Null);
    t.nested_types = get("nestedTypes");
    Ok(t.build(cx))
}

/// `x._type or "" == ty`.
fn is_type(ev: &mut Evaluator, ty: &Value, x: &Value) -> EvalResult<bool> {
    let t = match get_opt(ev, x, sym!("_type"))? {
        Some(t) => ev.force(&t)?,
        None => s(""),
    };
    let ty = ev.force(ty)?;
    let span = ev.builtin_span();
    ev.equal(&t, &ty, span)
}

fn build(cx: &Ctx, ev: &mut Evaluator) -> EvalResult<Vec<(&'static str, Value)>> {
    let span = cx.span();
    let mut out: Vec<(&'static str, Value)> = Vec::new();

    // Helpers exported at the top of `types.nix`.
    out.push((
        "isType",
        native("isType", 2, |ev: &mut Evaluator, a: &[Value], _| Ok(Value::Bool(is_type(ev, &a[0], &a[1])?))),
    ));
    out.push((
        "setType",
        native("setType", 2, |ev: &mut Evaluator, a: &[Value], _| {
            update(ev, &a[1], vec![(sym!("_type"), a[0].clone())])
        }),
    ));
    out.push((
        "isOptionType",
        native("isOptionType", 1, |ev: &mut Evaluator, a: &[Value], _| {
            Ok(Value::Bool(is_type(ev, &s("option-type"), &a[0])?))
        }),
    ));
    out.push((
        "defaultTypeMerge",
        native("defaultTypeMerge", 2, |ev: &mut Evaluator, a: &[Value], span| {
            default_type_merge(ev, &a[0], &a[1], span)
        }),
    ));
    out.push(("defaultFunctor", fn1(cx, "defaultFunctor", |cx, _, name| Ok(default_functor(cx, name.clone())))));
    out.push(("mkOptionType", fn1(cx, "mkOptionType", mk_option_type)));
    out.push((
        "optionDescriptionPhrase",
        native("optionDescriptionPhrase", 2, |ev: &mut Evaluator, a: &[Value], span| {
            let class = match get_opt(ev, &a[1], sym!("descriptionClass"))? {
                Some(c) => c,
                None => Value::Null,
            };
            let plain = test(ev, &a[0], class, span)?;
            let d = get(ev, &a[1], sym!("description"), span)?;
            if plain { Ok(d) } else { Ok(s(format!("({})", text(ev, &d, span)?))) }
        }),
    ));
    // `types.types` is `lib.types` itself.
    out.push(("types", cx.lib_lazy(&["types"])));
    out.push((
        "noCheckForDocsModule",
        cx.constant("noCheckForDocsModule", |cx| Ok(basic::no_check_for_docs_module(cx)))?,
    ));

    // Leaf types.
    out.push(("raw", basic::raw(cx)));
    out.push(("anything", cx.constant("anything", |cx| Ok(basic::anything(cx)))?));
    out.push(("unspecified", basic::unspecified(cx)));
    out.push(("bool", basic::bool_(cx, ev)?));
    out.push(("boolByOr", basic::bool_by_or(cx, ev)?));
    let int = basic::int(cx, ev)?;
    out.push(("int", int.clone()));
    let ints = basic::ints(ev, &int)?;
    out.push(("port", get(ev, &ints, sym!("u16"), span)?));
    out.push(("ints", ints));
    let float = basic::float(cx, ev)?;
    out.push(("float", float.clone()));
    let number = compound::either(cx, int.clone(), float.clone());
    out.push(("number", number.clone()));
    out.push(("numbers", deferred(cx, move |cx, ev| basic::numbers(cx, ev, &number))));
    let str_ = basic::str_(cx, ev)?;
    out.push(("str", str_.clone()));
    out.push(("nonEmptyStr", basic::non_empty_str(cx)));
    out.push(("singleLineStr", basic::single_line_str(cx)));
    out.push(("strMatching", fn1(cx, "strMatching", |cx, _, p| Ok(basic::str_matching(cx, p.clone())))));
    out.push((
        "separatedString",
        fn1(cx, "separatedString", |cx, ev, sep| basic::separated_string(cx, ev, sep.clone())),
    ));
    out.push(("lines", basic::separated_string(cx, ev, s("\n"))?));
    out.push(("commas", basic::separated_string(cx, ev, s(","))?));
    out.push(("envVar", basic::separated_string(cx, ev, s(":"))?));
    out.push((
        "passwdEntry",
        fn1(cx, "passwdEntry", |cx, ev, t| {
            let span = cx.span();
            basic::passwd_entry(cx, ev, t.clone(), span)
        }),
    ));
    let attrs = basic::attrs(cx, ev)?;
    out.push(("attrs", attrs.clone()));
    out.push(("fileset", basic::fileset(cx)));
    let package = basic::package(cx);
    out.push(("package", package.clone()));
    out.push(("shellPackage", basic::shell_package(ev, &package)?));
    out.push((
        "pkgs",
        deferred(cx, move |cx, ev| {
            let span = cx.span();
            let u =
                compound::unique(cx, s("A Nixpkgs pkgs set can not be merged with another pkgs set."), attrs.clone());
            let u = update(
                ev,
                &u,
                vec![
                    (sym!("name"), s("pkgs")),
                    (sym!("descriptionClass"), s("noun")),
                    (sym!("description"), s("Nixpkgs package set")),
                ],
            )?;
            let check = native("check", 1, |ev: &mut Evaluator, a: &[Value], _| {
                Ok(Value::Bool(match get_opt(ev, &a[0], sym!("_type"))? {
                    Some(t) => is_str(ev, &t, "pkgs")?,
                    None => false,
                }))
            });
            compound::add_check(cx, ev, &u, check, span)
        }),
    ));
    out.push(("pathWith", basic::path_with_fn(cx)));
    out.push(("path", basic::path_with(cx, ev, Value::Null, Value::Bool(true))?));
    out.push(("pathInStore", basic::path_with(cx, ev, Value::Bool(true), Value::Null)?));
    out.push(("externalPath", basic::path_with(cx, ev, Value::Bool(false), Value::Bool(true))?));
    out.push(("luaInline", basic::lua_inline(cx)));
    out.push(("optionDeclaration", basic::option_declaration(cx)));
    out.push(("optionType", basic::option_type(cx)));
    out.push(("enum", fn1(cx, "enum", |cx, _, v| Ok(basic::enum_(cx, v.clone())))));

    // Types of other types.
    out.push(("listOf", fn1(cx, "listOf", |cx, _, t| Ok(compound::list_of(cx, t.clone())))));
    out.push((
        "nonEmptyListOf",
        fn1(cx, "nonEmptyListOf", |cx, ev, t| {
            let span = cx.span();
            compound::non_empty_list_of(cx, ev, t.clone(), span)
        }),
    ));
    out.push((
        "attrsOf",
        fn1(cx, "attrsOf", |cx, _, t| Ok(compound::attrs_with(cx, t.clone(), Value::Bool(false), s("name")))),
    ));
    out.push((
        "lazyAttrsOf",
        fn1(cx, "lazyAttrsOf", |cx, _, t| Ok(compound::attrs_with(cx, t.clone(), Value::Bool(true), s("name")))),
    ));
    out.push((
        "attrsWith",
        fn1(cx, "attrsWith", |cx, ev, arg| {
            let a = formals(ev, arg, "attrsWith", &["elemType"], &["lazy", "placeholder"])?;
            let elem = a.get(sym!("elemType")).cloned().unwrap_or(Value::Null);
            let is_lazy = a.get(sym!("lazy")).cloned().unwrap_or(Value::Bool(false));
            let placeholder = a.get(sym!("placeholder")).cloned().unwrap_or_else(|| s("name"));
            Ok(compound::attrs_with(cx, elem, is_lazy, placeholder))
        }),
    ));
    out.push(("attrListOf", fn1(cx, "attrListOf", |cx, _, t| Ok(attr_list::attr_list_of(cx, t.clone())))));
    out.push(("attrListWith", attr_list::attr_list_with_fn(cx)));
    out.push((
        "loaOf",
        fn1(cx, "loaOf", |cx, ev, t| {
            let span = cx.span();
            compound::loa_of(cx, ev, t.clone(), span)
        }),
    ));
    out.push(("uniq", fn1(cx, "uniq", |cx, _, t| Ok(compound::unique(cx, s(""), t.clone())))));
    out.push((
        "unique",
        fn1(cx, "unique", |cx, ev, arg| {
            let a = formals(ev, arg, "unique", &["message"], &[])?;
            let message = a.get(sym!("message")).cloned().unwrap_or(Value::Null);
            Ok(fn1(cx, "unique", move |cx, _, t| Ok(compound::unique(cx, message.clone(), t.clone()))))
        }),
    ));
    out.push(("nullOr", fn1(cx, "nullOr", |cx, _, t| Ok(compound::null_or(cx, t.clone())))));
    out.push(("functionTo", fn1(cx, "functionTo", |cx, ev, t| compound::function_to(cx, ev, t.clone()))));
    out.push(("either", {
        let cx = cx.clone();
        native("either", 2, move |_: &mut Evaluator, a: &[Value], _| {
            Ok(compound::either(&cx, a[0].clone(), a[1].clone()))
        })
    }));
    out.push(("oneOf", fn1(cx, "oneOf", compound::one_of)));
    out.push(("coercedTo", {
        let cx = cx.clone();
        native("coercedTo", 3, move |ev: &mut Evaluator, a: &[Value], span| {
            compound::coerced_to(&cx, ev, a[0].clone(), a[1].clone(), a[2].clone(), span)
        })
    }));
    out.push(("addCheck", {
        let cx = cx.clone();
        native("addCheck", 2, move |ev: &mut Evaluator, a: &[Value], span| {
            compound::add_check(&cx, ev, &a[0], a[1].clone(), span)
        })
    }));
    out.push((
        "mergeTypes",
        native("mergeTypes", 2, |ev: &mut Evaluator, a: &[Value], span| compound::merge_types(ev, &a[0], &a[1], span)),
    ));
    let leaves = [
        basic::bool_(cx, ev)?,
        int.clone(),
        float.clone(),
        str_.clone(),
        basic::path_with(cx, ev, Value::Null, Value::Bool(true))?,
    ];
    let serializable = {
        let leaves = leaves.clone();
        fn1(cx, "serializableValueWith", move |cx, ev, arg| {
            let a = formals(ev, arg, "serializableValueWith", &["typeName"], &["nullable"])?;
            let name = a.get(sym!("typeName")).cloned().unwrap_or(Value::Null);
            let nullable = a.get(sym!("nullable")).cloned().unwrap_or(Value::Bool(true));
            compound::serializable_value_with(cx, ev, name, nullable, leaves.clone())
        })
    };
    out.push(("serializableValueWith", serializable));
    {
        let leaves = leaves.clone();
        out.push((
            "json",
            deferred(cx, move |cx, ev| {
                compound::serializable_value_with(cx, ev, s("JSON"), Value::Bool(true), leaves.clone())
            }),
        ));
    }
    out.push((
        "toml",
        deferred(cx, move |cx, ev| {
            compound::serializable_value_with(cx, ev, s("TOML"), Value::Bool(false), leaves.clone())
        }),
    ));

    // Types that evaluate modules.
    out.push(("submoduleWith", submodule::submodule_with_fn(cx)));
    out.push(("submodule", fn1(cx, "submodule", |cx, _, m| Ok(submodule::submodule(cx, m.clone())))));
    out.push(("deferredModuleWith", submodule::deferred_module_with_fn(cx)));
    out.push(("deferredModule", submodule::deferred_module_with(cx, Rc::new(Attrs::empty()))));
    out.push(("attrTag", fn1(cx, "attrTag", |cx, ev, tags| submodule::attr_tag(cx, ev, tags.clone()))));
    Ok(out)
}

//! The types that evaluate modules: `submoduleWith` (`submodule`),
//! `deferredModuleWith` (`deferredModule`) and `attrTag`.

use std::rc::Rc;

use dendrite_eval::native::native;
use dendrite_eval::value::{Attr, Attrs, Value};
use dendrite_eval::{EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};

use super::basic;
use super::core::*;

/// `isAttrs x || isFunction x || path.check x`: what a module may be
/// (`path` is `pathWith { absolute = true; }`: string-like and absolute).
fn module_like(ev: &mut Evaluator, x: &Value, _: Span) -> EvalResult<bool> {
    Ok(match ev.force(x)? {
        Value::Attrs(_) | Value::Path(_) => true,
        Value::String(s) => s.as_bytes().first() == Some(&b'/'),
        v => v.is_function(),
    })
}

/// `lib.modules.evalModules` with the `‹name›` default module in front.
fn eval_base(cx: &Ctx, class: Value, special_args: Value, modules: Value) -> Value {
    let cx = cx.clone();
    lazy(move |ev, span| {
        let default_name = {
            let cx = cx.clone();
            lazy(move |ev, span| {
                let f = cx.lib(ev, &[sym!("mkOptionDefault")], span)?;
                apply(ev, &f, s("\u{2039}name\u{203a}"), span)
            })
        };
        let name_module =
            set(vec![(sym!("_module"), set(vec![(sym!("args"), set(vec![(sym!("name"), default_name)]))]))]);
        let all = {
            let modules = modules.clone();
            lazy(move |ev, _| {
                let l = ev.expect_list(&modules)?;
                let mut v = Vec::with_capacity(l.len() + 1);
                v.push(name_module.clone());
                v.extend(l.iter().cloned());
                Ok(Value::list(v))
            })
        };
        let arg = set(vec![
            (sym!("class"), class.clone()),
            (sym!("modules"), all),
            (sym!("specialArgs"), special_args.clone()),
        ]);
        cx.call_lib(ev, &[sym!("modules"), sym!("evalModules")], &[arg], span)
    })
}

/// `base.extendModules { modules; prefix?; }`.
fn extend(ev: &mut Evaluator, base: &Value, modules: Value, prefix: Option<Value>, span: Span) -> EvalResult<Value> {
    let f = get(ev, base, sym!("extendModules"), span)?;
    let mut pairs = vec![(sym!("modules"), modules)];
    if let Some(p) = prefix {
        pairs.push((sym!("prefix"), p));
    }
    apply(ev, &f, set(pairs), span)
}

/// `x._module.freeformType`.
fn freeform_of(ev: &mut Evaluator, configuration: &Value, span: Span) -> EvalResult<Value> {
    let m = get(ev, configuration, sym!("_module"), span)?;
    get(ev, &m, sym!("freeformType"), span)
}

/// The arguments of `submoduleWith`, defaults applied.
#[derive(Clone)]
struct SubArgs {
    attrs: Rc<Attrs>,
    modules: Value,
    special_args: Value,
    shorthand: Value,
    description: Value,
    class: Value,
}

/// `submoduleWith { modules; specialArgs ? { }; shorthandOnlyDefinesConfig
/// ? false; description ? null; class ? null; }`.
pub(crate) fn submodule_with_fn(cx: &Ctx) -> Value {
    let cx = cx.clone();
    native("submoduleWith", 1, move |ev: &mut Evaluator, args: &[Value], _| {
        let a = formals(
            ev,
            &args[0],
            "submoduleWith",
            &["modules"],
            &["specialArgs", "shorthandOnlyDefinesConfig", "description", "class"],
        )?;
        Ok(submodule_with(&cx, a))
    })
}

/// `submoduleWith` on a checked argument set.
pub(crate) fn submodule_with(cx: &Ctx, a: Rc<Attrs>) -> Value {
    let or = |n: Symbol, d: Value| a.get(n).cloned().unwrap_or(d);
    let args = SubArgs {
        modules: or(sym!("modules"), Value::Null),
        special_args: or(sym!("specialArgs"), set(vec![])),
        shorthand: or(sym!("shorthandOnlyDefinesConfig"), Value::Bool(false)),
        description: or(sym!("description"), Value::Null),
        class: or(sym!("class"), Value::Null),
        attrs: a.clone(),
    };
    let base = eval_base(cx, args.class.clone(), args.special_args.clone(), args.modules.clone());
    let freeform = {
        let base = base.clone();
        lazy(move |ev, span| freeform_of(ev, &base, span))
    };
    let check = { v2_check(module_like) };
    let mut t = TypeDef::new(s("submodule"));
    t.description = {
        let (cx, base, d) = (cx.clone(), base.clone(), args.description.clone());
        lazy(move |ev, span| {
            let d = ev.force(&d)?;
            if !matches!(d, Value::Null) {
                return Ok(d);
            }
            let docs = extend(ev, &base, Value::list(vec![no_check_module(&cx)?]), None, span)?;
            let ff = freeform_of(ev, &docs, span)?;
            if has(ev, &ff, sym!("description"))? {
                Ok(s(format!("open submodule of {}", phrase(ev, &ff, &["noun", "composite"], span)?)))
            } else {
                Ok(s("submodule"))
            }
        })
    };
    t.check = Some(check.clone());
    t.merge = Some({
        let (cx, base, shorthand) = (cx.clone(), base.clone(), args.shorthand.clone());
        v2_merge(
            cx.shared.v2_functor.clone(),
            Rc::new(move |_: &mut Evaluator, loc: &Value, defs: &Value, _| {
                let configuration = {
                    let (base, shorthand, loc, defs) = (base.clone(), shorthand.clone(), loc.clone(), defs.clone());
                    lazy(move |ev, span| {
                        let name = {
                            let loc = loc.clone();
                            lazy(move |ev, _| {
                                let l = ev.expect_list(&loc)?;
                                match l.last() {
                                    Some(x) => ev.force(x),
                                    None => Err(throw("lists.last: list must not be empty!")),
                                }
                            })
                        };
                        let name_module =
                            set(vec![(sym!("_module"), set(vec![(sym!("args"), set(vec![(sym!("name"), name)]))]))]);
                        let list = ev.expect_list(&defs)?;
                        let mut modules = Vec::with_capacity(list.len() + 1);
                        modules.push(name_module);
                        for d in list.iter() {
                            let (d, shorthand) = (d.clone(), shorthand.clone());
                            modules.push(lazy(move |ev, span| {
                                let file = get_lazy(ev, &d, sym!("file"), span)?;
                                let value = get_lazy(ev, &d, sym!("value"), span)?;
                                let v = ev.force(&value)?;
                                if matches!(v, Value::Attrs(_)) && ev.expect_bool(&shorthand)? {
                                    Ok(set(vec![(sym!("_file"), file), (sym!("config"), v)]))
                                } else {
                                    Ok(set(vec![(sym!("_file"), file), (sym!("imports"), Value::list(vec![v]))]))
                                }
                            }));
                        }
                        extend(ev, &base, Value::list(modules), Some(loc.clone()), span)
                    })
                };
                let head_error = lazy_head_error(&cx, &check, defs);
                let value = select_thunk(configuration.clone(), sym!("config"), cx.span());
                Ok(v2_result(head_error, value, set(vec![(sym!("configuration"), configuration)])))
            }),
        )
    });
    t.empty_value = Some(set(vec![(sym!("value"), select_thunk(base.clone(), sym!("config"), cx.span()))]));
    t.get_sub_options = Some({
        let (cx, base) = (cx.clone(), base.clone());
        native("getSubOptions", 1, move |ev: &mut Evaluator, a: &[Value], span| {
            let prefix = a[0].clone();
            let docs = extend(ev, &base, Value::list(vec![no_check_module(&cx)?]), Some(prefix.clone()), span)?;
            let ff = freeform_of(ev, &docs, span)?;
            let options = get(ev, &docs, sym!("options"), span)?;
            if matches!(ff, Value::Null) {
                return Ok(options);
            }
            let sub = get(ev, &ff, sym!("getSubOptions"), span)?;
            let free = Value::lazy_apply(sub, prefix, span);
            update(ev, &options, vec![(sym!("_freeformOptions"), free)])
        })
    });
    t.get_sub_modules = args.modules.clone();
    t.subst_sub_modules = Some({
        let (cx, attrs) = (cx.clone(), args.attrs.clone());
        native("substSubModules", 1, move |_: &mut Evaluator, m: &[Value], _| {
            let updated = attrs.update(&Attrs::from_unsorted(vec![Attr::new(sym!("modules"), m[0].clone())]));
            Ok(submodule_with(&cx, Rc::new(updated)))
        })
    });
    t.nested_types = Some(lazy(move |ev, _| {
        let ff = ev.force(&freeform)?;
        if matches!(ff, Value::Null) { Ok(set(vec![])) } else { Ok(set(vec![(sym!("freeformType"), ff)])) }
    }));
    t.functor = Some(set(vec![
        (sym!("binOp"), native("binOp", 2, submodule_bin_op)),
        (sym!("name"), s("submodule")),
        (
            sym!("payload"),
            set(vec![
                (sym!("modules"), args.modules.clone()),
                (sym!("class"), args.class.clone()),
                (sym!("specialArgs"), args.special_args.clone()),
                (sym!("shorthandOnlyDefinesConfig"), args.shorthand.clone()),
                (sym!("description"), args.description.clone()),
            ]),
        ),
        (sym!("type"), cx.lib_lazy(&["types", "submoduleWith"])),
    ]));
    t.build(cx)
}

/// `noCheckForDocsModule`, as exported by the types.
fn no_check_module(cx: &Ctx) -> EvalResult<Value> {
    cx.constant("noCheckForDocsModule", |cx| Ok(basic::no_check_for_docs_module(cx)))
}

/// The payload merge of two `submoduleWith` declarations; each field
/// throws (when used) if the declarations conflict.
fn submodule_bin_op(_: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let (lhs, rhs) = (args[0].clone(), args[1].clone());
    let class = {
        let (lhs, rhs) = (lhs.clone(), rhs.clone());
        lazy(move |ev, span| {
            let l = match get_opt(ev, &lhs, sym!("class"))? {
                Some(v) => ev.force(&v)?,
                None => Value::Null,
            };
            let r = match get_opt(ev, &rhs, sym!("class"))? {
                Some(v) => ev.force(&v)?,
                None => Value::Null,
            };
            if matches!(l, Value::Null) {
                return Ok(r);
            }
            if matches!(r, Value::Null) || ev.equal(&l, &r, span)? {
                return Ok(l);
            }
            let ls = ev.coerce_to_string(&l, dendrite_eval::eval::Coerce::TO_STRING, span)?;
            let rs = ev.coerce_to_string(&r, dendrite_eval::eval::Coerce::TO_STRING, span)?;
            Err(throw(format!(
                "A submoduleWith option is declared multiple times with conflicting class values \"{}\" and \"{}\".",
                ls.to_str_lossy(),
                rs.to_str_lossy()
            )))
        })
    };
    let modules = {
        let (lhs, rhs) = (lhs.clone(), rhs.clone());
        lazy(move |ev, span| {
            let l = get(ev, &lhs, sym!("modules"), span)?;
            let r = get(ev, &rhs, sym!("modules"), span)?;
            let l = ev.expect_list(&l)?;
            let r = ev.expect_list(&r)?;
            Ok(Value::list(l.iter().chain(r.iter()).cloned().collect()))
        })
    };
    let special_args = {
        let (lhs, rhs) = (lhs.clone(), rhs.clone());
        lazy(move |ev, span| {
            let l = get(ev, &lhs, sym!("specialArgs"), span)?;
            let r = get(ev, &rhs, sym!("specialArgs"), span)?;
            let la = ev.expect_attrs(&l)?;
            let ra = ev.expect_attrs(&r)?;
            let common: Vec<String> =
                la.iter().filter(|a| ra.get(a.name).is_some()).map(|a| a.name.as_str().into_owned()).collect();
            if common.is_empty() {
                Ok(Value::Attrs(Rc::new(la.update(&ra))))
            } else {
                Err(throw(format!(
                    "A submoduleWith option is declared multiple times with the same specialArgs \"{}\"",
                    common.join(" ")
                )))
            }
        })
    };
    let pick = |field: Symbol, what: &'static str| {
        let (lhs, rhs) = (lhs.clone(), rhs.clone());
        lazy(move |ev, span| {
            let l = get(ev, &lhs, field, span)?;
            let r = get(ev, &rhs, field, span)?;
            if matches!(l, Value::Null) {
                return Ok(r);
            }
            if matches!(r, Value::Null) || ev.equal(&l, &r, span)? {
                return Ok(l);
            }
            Err(throw(format!("A submoduleWith option is declared multiple times with conflicting {what}")))
        })
    };
    Ok(set(vec![
        (sym!("class"), class),
        (sym!("description"), pick(sym!("description"), "descriptions")),
        (sym!("modules"), modules),
        (
            sym!("shorthandOnlyDefinesConfig"),
            pick(sym!("shorthandOnlyDefinesConfig"), "shorthandOnlyDefinesConfig values"),
        ),
        (sym!("specialArgs"), special_args),
    ]))
}

/// `submodule modules`: `submoduleWith { shorthandOnlyDefinesConfig = true;
/// modules = toList modules; }`.
pub(crate) fn submodule(cx: &Ctx, modules: Value) -> Value {
    let list = lazy(move |ev, _| {
        let m = ev.force(&modules)?;
        Ok(if matches!(m, Value::List(_)) { m } else { Value::list(vec![m]) })
    });
    let a = Attrs::from_unsorted(vec![
        Attr::new(sym!("shorthandOnlyDefinesConfig"), Value::Bool(true)),
        Attr::new(sym!("modules"), list),
    ]);
    submodule_with(cx, Rc::new(a))
}

/// `deferredModuleWith { staticModules ? [ ]; }`
pub(crate) fn deferred_module_with(cx: &Ctx, attrs: Rc<Attrs>) -> Value {
    let static_modules = attrs.get(sym!("staticModules")).cloned().unwrap_or_else(|| Value::list(vec![]));
    let mut t = TypeDef::simple("deferredModule", "module", Some("noun"));
    t.check = Some({
        native("check", 1, |ev: &mut Evaluator, a: &[Value], span| Ok(Value::Bool(module_like(ev, &a[0], span)?)))
    });
    t.merge = Some({
        let (cx, static_modules) = (cx.clone(), static_modules.clone());
        native("merge", 2, move |_: &mut Evaluator, a: &[Value], _| {
            let (loc, defs) = (a[0].clone(), a[1].clone());
            let (cx, static_modules) = (cx.clone(), static_modules.clone());
            let imports = lazy(move |ev, _| {
                let st = ev.expect_list(&static_modules)?;
                let list = ev.expect_list(&defs)?;
                let mut out: Vec<Value> = st.iter().cloned().collect();
                for d in list.iter() {
                    let (cx, d, loc) = (cx.clone(), d.clone(), loc.clone());
                    out.push(lazy(move |ev, span| {
                        let file = get(ev, &d, sym!("file"), span)?;
                        let file = text(ev, &file, span)?;
                        let option = cx.show_option(ev, &loc, span)?;
                        let value = get_lazy(ev, &d, sym!("value"), span)?;
                        cx.call_lib(
                            ev,
                            &[sym!("modules"), sym!("setDefaultModuleLocation")],
                            &[s(format!("{file}, via option {option}")), value],
                            span,
                        )
                    }));
                }
                Ok(Value::list(out))
            });
            Ok(set(vec![(sym!("imports"), imports)]))
        })
    });
    let sub = {
        let a = Attrs::from_unsorted(vec![Attr::new(sym!("modules"), static_modules.clone())]);
        submodule_with(cx, Rc::new(a))
    };
    t.get_sub_options = Some(select_thunk(sub.clone(), sym!("getSubOptions"), cx.span()));
    t.get_sub_modules = select_thunk(sub, sym!("getSubModules"), cx.span());
    t.subst_sub_modules = Some({
        let (cx, attrs) = (cx.clone(), attrs.clone());
        native("substSubModules", 1, move |_: &mut Evaluator, m: &[Value], _| {
            let updated = attrs.update(&Attrs::from_unsorted(vec![Attr::new(sym!("staticModules"), m[0].clone())]));
            Ok(deferred_module_with(&cx, Rc::new(updated)))
        })
    });
    let bin_op = native("binOp", 2, |_: &mut Evaluator, a: &[Value], _| {
        let (l, r) = (a[0].clone(), a[1].clone());
        let merged = lazy(move |ev, span| {
            let l = get(ev, &l, sym!("staticModules"), span)?;
            let r = get(ev, &r, sym!("staticModules"), span)?;
            let l = ev.expect_list(&l)?;
            let r = ev.expect_list(&r)?;
            Ok(Value::list(l.iter().chain(r.iter()).cloned().collect()))
        });
        Ok(set(vec![(sym!("staticModules"), merged)]))
    });
    t.functor = Some(set(vec![
        (sym!("binOp"), bin_op),
        (sym!("name"), s("deferredModuleWith")),
        (sym!("payload"), set(vec![(sym!("staticModules"), static_modules)])),
        (sym!("type"), cx.lib_lazy(&["types", "deferredModuleWith"])),
    ]));
    t.build(cx)
}

/// The `deferredModuleWith` function.
pub(crate) fn deferred_module_with_fn(cx: &Ctx) -> Value {
    let cx = cx.clone();
    native("deferredModuleWith", 1, move |ev: &mut Evaluator, args: &[Value], _| {
        let a = formals(ev, &args[0], "deferredModuleWith", &[], &["staticModules"])?;
        Ok(deferred_module_with(&cx, a))
    })
}

// ----------------------------------------------------------------- attrTag

/// `" at file:line:column"` for attribute `name` of `v`, or `""`.
fn attr_pos_suffix(cx: &Ctx, ev: &mut Evaluator, v: &Value, name: Symbol, span: Span) -> EvalResult<String> {
    let f = cx.builtin(ev, "unsafeGetAttrPos")?;
    let pos = apply2(ev, &f, s(name.as_str()), v.clone(), span)?;
    if matches!(pos, Value::Null) {
        return Ok(String::new());
    }
    let file = get(ev, &pos, sym!("file"), span)?;
    let line = get(ev, &pos, sym!("line"), span)?;
    let column = get(ev, &pos, sym!("column"), span)?;
    let ts = dendrite_eval::eval::Coerce::TO_STRING;
    Ok(format!(
        " at {}:{}:{}",
        text(ev, &file, span)?,
        ev.coerce_to_string(&line, ts, span)?.to_str_lossy(),
        ev.coerce_to_string(&column, ts, span)?.to_str_lossy()
    ))
}

fn escape_ident(cx: &Ctx, ev: &mut Evaluator, name: Symbol, span: Span) -> EvalResult<String> {
    let r = cx.call_lib(ev, &[sym!("strings"), sym!("escapeNixIdentifier")], &[s(name.as_str())], span)?;
    text(ev, &r, span)
}

/// A lazy list holding `entry` of the position where tag `name` is written
/// in `tags` (`unsafeGetAttrPos`), or empty when it has none.
fn tag_position_list(cx: &Ctx, tags: &Value, name: Symbol, entry: fn(Value, Span) -> Value) -> Value {
    let (cx, tags) = (cx.clone(), tags.clone());
    lazy(move |ev, span| {
        let f = cx.builtin(ev, "unsafeGetAttrPos")?;
        let pos = apply2(ev, &f, s(name.as_str()), tags.clone(), span)?;
        if matches!(pos, Value::Null) {
            return Ok(Value::list(vec![]));
        }
        Ok(Value::list(vec![entry(pos, span)]))
    })
}

/// One tag of `attrTag`, checked to be an option and given declarations.
fn attr_tag_option(
    cx: &Ctx,
    ev: &mut Evaluator,
    tags: &Value,
    name: Symbol,
    opt: &Value,
    span: Span,
) -> EvalResult<Value> {
    let inner = (|| -> EvalResult<Value> {
        let ty = match get_opt(ev, opt, sym!("_type"))? {
            Some(t) => Some(ev.force(&t)?),
            None => None,
        };
        let is_option = matches!(&ty, Some(Value::String(s)) if s.as_bytes() == b"option");
        if !is_option {
            let ident = escape_ident(cx, ev, name, span)?;
            let what = match &ty {
                None => "was not.".to_string(),
                Some(Value::String(s)) if s.as_bytes() == b"option-type" => {
                    "was a bare type, not wrapped in mkOption.".to_string()
                }
                Some(t) => {
                    let e =
                        cx.call_lib(ev, &[sym!("strings"), sym!("escapeNixString")], std::slice::from_ref(t), span)?;
                    format!("was of type {}.", text(ev, &e, span)?)
                }
            };
            return Err(throw(format!("In attrTag, each tag value must be an option, but tag {ident} {what}")));
        }
        let declarations = match get_opt(ev, opt, sym!("declarations"))? {
            Some(d) => d,
            None => tag_position_list(cx, tags, name, |pos, span| select_thunk(pos, sym!("file"), span)),
        };
        let positions = match get_opt(ev, opt, sym!("declarationPositions"))? {
            Some(d) => d,
            None => tag_position_list(cx, tags, name, |pos, _| pos),
        };
        update(ev, opt, vec![(sym!("declarations"), declarations), (sym!("declarationPositions"), positions)])
    })();
    match inner {
        Ok(v) => Ok(v),
        Err(e) => {
            let ident = escape_ident(cx, ev, name, span).unwrap_or_else(|_| name.as_str().into_owned());
            let suffix = attr_pos_suffix(cx, ev, tags, name, span).unwrap_or_default();
            Err(e.context(format!("while checking that attrTag tag {ident} is an option with a type{suffix}"), None))
        }
    }
}

/// `attrTag tags`: an attribute set with exactly one of the tags, whose
/// value is merged as that tag's option.
pub(crate) fn attr_tag(cx: &Ctx, ev: &mut Evaluator, tags_in: Value) -> EvalResult<Value> {
    let raw = ev.expect_attrs(&tags_in)?;
    let names: Vec<Symbol> = raw.iter().map(|a| a.name).collect();
    let tags = Value::attrs(
        raw.iter()
            .map(|a| {
                let (cx, tags_in, name, opt) = (cx.clone(), tags_in.clone(), a.name, a.value.clone());
                let mut attr =
                    Attr::new(a.name, lazy(move |ev, span| attr_tag_option(&cx, ev, &tags_in, name, &opt, span)));
                attr.pos = a.pos;
                attr
            })
            .collect(),
    );
    let choices = {
        let (cx, names) = (cx.clone(), names.clone());
        lazy_text(move |ev, span| {
            let mut parts = Vec::with_capacity(names.len());
            for n in &names {
                parts.push(escape_ident(&cx, ev, *n, span)?);
            }
            Ok(parts.join(", "))
        })
    };
    let mut t = TypeDef::new(s("attrTag"));
    t.description = {
        let choices = choices.clone();
        lazy_text(move |ev, span| Ok(format!("attribute-tagged union with choices: {}", text(ev, &choices, span)?)))
    };
    t.description_class = s("noun");
    t.get_sub_options = Some({
        let tags = tags.clone();
        native("getSubOptions", 1, move |ev: &mut Evaluator, a: &[Value], _| {
            let all = ev.expect_attrs(&tags)?;
            let prefix = a[0].clone();
            let out = all
                .iter()
                .map(|attr| {
                    let (opt, prefix, name) = (attr.value.clone(), prefix.clone(), attr.name);
                    Attr::new(
                        attr.name,
                        lazy(move |ev, _| {
                            let loc = loc_push(ev, &prefix, s(name.as_str()))?;
                            update(ev, &opt, vec![(sym!("loc"), loc)])
                        }),
                    )
                })
                .collect();
            Ok(Value::attrs(out))
        })
    });
    t.check = Some({
        let tags = tags.clone();
        native("check", 1, move |ev: &mut Evaluator, a: &[Value], _| {
            let v = ev.force(&a[0])?;
            let Value::Attrs(va) = &v else { return Ok(Value::Bool(false)) };
            if va.len() != 1 {
                return Ok(Value::Bool(false));
            }
            let name = va.iter().next().map(|x| x.name);
            let all = ev.expect_attrs(&tags)?;
            Ok(Value::Bool(name.is_some_and(|n| all.get(n).is_some())))
        })
    });
    t.merge = Some({
        let (cx, tags, choices) = (cx.clone(), tags.clone(), choices.clone());
        native("merge", 2, move |ev: &mut Evaluator, a: &[Value], span| {
            attr_tag_merge(&cx, ev, &tags, &choices, &a[0], &a[1], span)
        })
    });
    t.nested_types = Some(tags.clone());
    let ty = {
        let cx = cx.clone();
        native("type", 1, move |ev: &mut Evaluator, a: &[Value], span| {
            let f = cx.lib_type(ev, sym!("attrTag"), span)?;
            let tags = get_lazy(ev, &a[0], sym!("tags"), span)?;
            apply(ev, &f, tags, span)
        })
    };
    t.functor = Some(set(vec![
        (sym!("binOp"), {
            let cx = cx.clone();
            native("binOp", 2, move |_: &mut Evaluator, a: &[Value], _| Ok(attr_tag_bin_op(&cx, &a[0], &a[1])))
        }),
        (sym!("name"), s("attrTag")),
        (sym!("payload"), set(vec![(sym!("tags"), tags)])),
        (sym!("type"), ty),
    ]));
    Ok(t.build(cx))
}

/// The single attribute name of a definition of an `attrTag`.
fn only_name(ev: &mut Evaluator, v: &Value) -> EvalResult<Option<Symbol>> {
    let a = ev.expect_attrs(v)?;
    Ok(a.iter().next().map(|x| x.name))
}

fn attr_tag_merge(
    cx: &Ctx,
    ev: &mut Evaluator,
    tags: &Value,
    choices: &Value,
    loc: &Value,
    defs: &Value,
    span: Span,
) -> EvalResult<Value> {
    let list = ev.expect_list(defs)?;
    let Some(first) = list.first() else {
        return Err(dendrite_eval::EvalError::eval("'builtins.head' called on an empty list"));
    };
    let fv = get(ev, first, sym!("value"), span)?;
    let Some(choice) = only_name(ev, &fv)? else {
        return Err(dendrite_eval::EvalError::eval("'builtins.head' called on an empty list"));
    };
    let all = ev.expect_attrs(tags)?;
    let Some(opt) = all.get(choice).cloned() else {
        let option = cx.show_option(ev, loc, span)?;
        let ident = escape_ident(cx, ev, choice, span)?;
        let choices = text(ev, choices, span)?;
        let files = cx.show_files_of(ev, defs, span)?;
        return Err(throw(format!(
            "The option `{option}` is defined as {ident}, but {ident} is not among the valid choices ({choices}). Value {choice} was defined in {files}."
        )));
    };
    let checked: Vec<Value> = list
        .iter()
        .map(|d| {
            let (cx, d, loc, defs) = (cx.clone(), d.clone(), loc.clone(), defs.clone());
            lazy(move |ev, span| {
                let v = get(ev, &d, sym!("value"), span)?;
                let a = ev.expect_attrs(&v)?;
                if a.len() != 1 {
                    return Err(assertion_failed("(length (attrNames def.value)) == 1"));
                }
                let n = a.iter().next().map(|x| x.name).unwrap_or(choice);
                if n != choice {
                    let option = cx.show_option(ev, &loc, span)?;
                    let files = cx.show_files_of(ev, &defs, span)?;
                    return Err(throw(format!(
                        "The option `{option}` is defined both as `{choice}` and `{n}`, in {files}."
                    )));
                }
                let file = get_lazy(ev, &d, sym!("file"), span)?;
                let value = a.get(choice).cloned().unwrap_or(Value::Null);
                Ok(def(file, value))
            })
        })
        .collect();
    let value = {
        let (cx, loc) = (cx.clone(), loc.clone());
        lazy(move |ev, span| {
            let loc2 = loc_push(ev, &loc, s(choice.as_str()))?;
            let r = cx.call_lib(
                ev,
                &[sym!("modules"), sym!("evalOptionValue")],
                &[loc2, opt.clone(), Value::list(checked.clone())],
                span,
            )?;
            get(ev, &r, sym!("value"), span)
        })
    };
    Ok(Value::attrs(vec![Attr::new(choice, value)]))
}

/// `attrTag`'s payload merge: tags of both, common tags merged as option
/// declarations.
fn attr_tag_bin_op(cx: &Ctx, a: &Value, b: &Value) -> Value {
    let (cx, a, b) = (cx.clone(), a.clone(), b.clone());
    let tags = lazy(move |ev, span| {
        let at = get(ev, &a, sym!("tags"), span)?;
        let bt = get(ev, &b, sym!("tags"), span)?;
        let aa = ev.expect_attrs(&at)?;
        let ba = ev.expect_attrs(&bt)?;
        let mut merged = Vec::new();
        for battr in ba.iter() {
            let Some(aopt) = aa.get(battr.name).cloned() else { continue };
            let (cx, bopt, name) = (cx.clone(), battr.value.clone(), battr.name);
            merged.push(Attr::new(
                name,
                lazy(move |ev, span| {
                    let wrap = |o: &Value| {
                        set(vec![
                            (sym!("_file"), s("<attrTag {...}>")),
                            (sym!("options"), o.clone()),
                            (sym!("pos"), Value::Null),
                        ])
                    };
                    let decls = Value::list(vec![wrap(&aopt), wrap(&bopt)]);
                    let m = cx.call_lib(
                        ev,
                        &[sym!("mergeOptionDecls")],
                        &[Value::list(vec![s(name.as_str())]), decls],
                        span,
                    )?;
                    let cat = |ev: &mut Evaluator, field: Symbol| -> EvalResult<Value> {
                        let x = get(ev, &aopt, field, span)?;
                        let y = get(ev, &bopt, field, span)?;
                        let x = ev.expect_list(&x)?;
                        let y = ev.expect_list(&y)?;
                        Ok(Value::list(x.iter().chain(y.iter()).cloned().collect()))
                    };
                    let d = cat(ev, sym!("declarations"))?;
                    let p = cat(ev, sym!("declarationPositions"))?;
                    update(ev, &m, vec![(sym!("declarations"), d), (sym!("declarationPositions"), p)])
                }),
            ));
        }
        let combined = aa.update(&ba).update(&Attrs::from_unsorted(merged));
        Ok(Value::Attrs(Rc::new(combined)))
    });
    set(vec![(sym!("tags"), tags)])
}

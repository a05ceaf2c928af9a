//! `--parse` output: the lowered expression in Nix's `show` syntax.

use dendrite_syntax::ir::*;

/// Prints an expression roughly as `nix-instantiate --parse` does.
pub fn show_expr(e: &Expr) -> String {
    let mut out = String::new();
    show(e, &mut out);
    out
}

fn show(e: &Expr, out: &mut String) {
    match &e.kind {
        ExprKind::Null => out.push_str("null"),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Int(i) => out.push_str(&i.to_string()),
        ExprKind::Float(f) => out.push_str(&dendrite_eval::print::format_float(*f)),
        ExprKind::Str(s) => dendrite_eval::print::escape_string(out, s),
        ExprKind::Path(PathLit::Abs(p)) => out.push_str(p),
        ExprKind::Path(PathLit::Home(p)) => {
            out.push('~');
            out.push_str(p)
        }
        ExprKind::Interpolated { parts, .. } => {
            out.push('(');
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.push_str(" + ");
                }
                match p {
                    StrPart::Lit(l) => dendrite_eval::print::escape_string(out, l),
                    StrPart::Expr(e) => show(e, out),
                }
            }
            out.push(')');
        }
        ExprKind::Var(v) => out.push_str(&match v {
            Var::Local { name, .. } | Var::With { name, .. } | Var::Unbound(name) => name.to_string(),
            Var::Global(g) => dendrite_syntax::GLOBALS[*g as usize].to_string(),
        }),
        ExprKind::Select { expr, path, default } => {
            show(expr, out);
            for k in path.iter() {
                out.push('.');
                key(k, out);
            }
            if let Some(d) = default {
                out.push_str(" or ");
                show(d, out);
            }
        }
        ExprKind::HasAttr { expr, path } => {
            out.push('(');
            show(expr, out);
            out.push_str(") ? ");
            for (i, k) in path.iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                key(k, out);
            }
        }
        ExprKind::Attrs(a) => {
            if a.rec {
                out.push_str("rec ");
            }
            out.push_str("{ ");
            let mut statics: Vec<&Binding> = a.statics.iter().collect();
            statics.sort_by_key(|x| x.name);
            for b in statics {
                binding(b, out);
            }
            for d in a.dynamics.iter() {
                out.push_str("\"${");
                show(&d.name, out);
                out.push_str("}\" = ");
                show(&d.value, out);
                out.push_str("; ");
            }
            out.push('}');
        }
        ExprKind::List(items) => {
            out.push_str("[ ");
            for i in items.iter() {
                show(i, out);
                out.push(' ');
            }
            out.push(']');
        }
        ExprKind::Lambda(l) => {
            out.push('(');
            match &l.param {
                Param::Ident(n) => out.push_str(&n.to_string()),
                Param::Formals { formals, ellipsis, at } => {
                    out.push_str("{ ");
                    let mut fs: Vec<&Formal> = formals.iter().collect();
                    fs.sort_by_key(|a| a.name);
                    for (i, f) in fs.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        out.push_str(&f.name.to_string());
                        if let Some(d) = &f.default {
                            out.push_str(" ? ");
                            show(d, out);
                        }
                    }
                    if *ellipsis {
                        out.push_str(if fs.is_empty() { "..." } else { ", ..." });
                    }
                    out.push_str(" }");
                    if let Some(a) = at {
                        out.push_str(" @ ");
                        out.push_str(&a.to_string());
                    }
                }
            }
            out.push_str(": ");
            show(&l.body, out);
            out.push(')');
        }
        ExprKind::Call { func, args } => {
            out.push('(');
            show(func, out);
            for a in args.iter() {
                out.push(' ');
                show(a, out);
            }
            out.push(')');
        }
        ExprKind::Let(l) => {
            out.push_str("(let ");
            for b in l.bindings.iter() {
                binding(b, out);
            }
            out.push_str("in ");
            show(&l.body, out);
            out.push(')');
        }
        ExprKind::With { namespace, body } => {
            out.push_str("(with ");
            show(namespace, out);
            out.push_str("; ");
            show(body, out);
            out.push(')');
        }
        ExprKind::If { cond, then, else_ } => {
            out.push_str("(if ");
            show(cond, out);
            out.push_str(" then ");
            show(then, out);
            out.push_str(" else ");
            show(else_, out);
            out.push(')');
        }
        ExprKind::Assert { cond, body } => {
            out.push_str("(assert ");
            show(cond, out);
            out.push_str("; ");
            show(body, out);
            out.push(')');
        }
        ExprKind::Not(e) => {
            out.push_str("(! ");
            show(e, out);
            out.push(')');
        }
        ExprKind::BinOp { op, lhs, rhs } => {
            let sym = match op {
                BinOp::Add => "+",
                BinOp::Sub => "-",
                BinOp::Mul => "*",
                BinOp::Div => "/",
                BinOp::Concat => "++",
                BinOp::Update => "//",
                BinOp::Eq => "==",
                BinOp::Neq => "!=",
                BinOp::Lt => "<",
                BinOp::Le => "<=",
                BinOp::Gt => ">",
                BinOp::Ge => ">=",
                BinOp::And => "&&",
                BinOp::Or => "||",
                BinOp::Impl => "->",
                BinOp::PipeRight => "|>",
                BinOp::PipeLeft => "<|",
            };
            out.push('(');
            show(lhs, out);
            out.push_str(&format!(" {sym} "));
            show(rhs, out);
            out.push(')');
        }
        ExprKind::CurPos => out.push_str("__curPos"),
    }
}

fn key(k: &AttrKey, out: &mut String) {
    match k {
        AttrKey::Static(s) => out.push_str(&s.to_string()),
        AttrKey::Dynamic(e) => {
            out.push_str("\"${");
            show(e, out);
            out.push_str("}\"");
        }
    }
}

fn binding(b: &Binding, out: &mut String) {
    match &b.value {
        BindingValue::Expr(e) => {
            out.push_str(&b.name.to_string());
            out.push_str(" = ");
            show(e, out);
            out.push_str("; ");
        }
        BindingValue::Inherit(_) => out.push_str(&format!("inherit {}; ", b.name)),
        BindingValue::InheritFrom { source } => out.push_str(&format!("inherit (#{source}) {}; ", b.name)),
    }
}

//! Lowering from rnix syntax to [`crate::ir`], with scope resolution.
//!
//! This mirrors what Nix's parser and `bindVars` do together: attribute
//! paths are merged (recursively, keeping the first set's `rec`), `inherit`
//! is desugared, operators become calls of `__sub`, `__lessThan` ... unless
//! those globals are unshadowed, and every identifier is resolved.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rnix::ast::{self, AstToken, HasEntry};
use rnix::{NodeOrToken, SyntaxKind, SyntaxNode, TextRange};
use rowan::ast::AstNode;
use rustc_hash::FxHashMap;

use crate::globals::global_index;
use crate::ir::*;
use crate::span::{FileId, Span};
use crate::symbol::Symbol;

/// What a static check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where.
    pub range: TextRange,
    /// Nix-style message (without the `error: ` prefix).
    pub message: String,
    /// Which kind of problem.
    pub kind: DiagnosticKind,
}

/// Kinds of static problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiagnosticKind {
    /// The text does not parse.
    Syntax,
    /// A variable that is bound nowhere (and no `with` is in scope).
    UndefinedVariable,
    /// An attribute defined twice.
    DuplicateAttribute,
    /// A formal argument named twice.
    DuplicateFormal,
    /// `${...}` names where Nix forbids them (`let`, `inherit`).
    DynamicNotAllowed,
    /// An integer literal that does not fit 64 bits.
    InvalidInteger,
    /// A URL written without quotes (`lint-url-literals`).
    UrlLiteral,
    /// An absolute path literal (`lint-absolute-path-literals`).
    AbsolutePathLiteral,
    /// A `~/` path literal (`lint-absolute-path-literals`).
    HomePathLiteral,
    /// A relative path literal not starting with `./` or `../` (`lint-short-path-literals`).
    ShortPathLiteral,
}

impl DiagnosticKind {
    /// Whether this makes the file unusable (Nix refuses to evaluate it).
    pub fn is_error(self) -> bool {
        !self.is_lint()
    }

    /// Whether this is an opt-in lint (Nix's `lint-*` settings) rather than an error.
    pub fn is_lint(self) -> bool {
        matches!(
            self,
            DiagnosticKind::UrlLiteral
                | DiagnosticKind::AbsolutePathLiteral
                | DiagnosticKind::HomePathLiteral
                | DiagnosticKind::ShortPathLiteral
        )
    }
}

/// The lowered form of one file.
#[derive(Debug)]
pub struct Lowered {
    /// The root expression.
    pub root: ExprRef,
    /// Static problems, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Path literals naming `.nix` files: what the file is likely to import.
    pub nix_paths: Vec<PathBuf>,
}

enum Scope {
    Frame(FxHashMap<Symbol, u32>),
    With,
}

struct Lowerer {
    file: FileId,
    base_dir: PathBuf,
    scopes: Vec<Scope>,
    diagnostics: Vec<Diagnostic>,
    nix_paths: Vec<PathBuf>,
}

/// Lowers a parsed file. `outer_names` are bound in a frame around the whole
/// file (the attributes given to `scopedImport`).
pub fn lower(file: FileId, base_dir: &Path, root: &ast::Root, outer_names: &[Symbol]) -> Lowered {
    let mut l = Lowerer {
        file,
        base_dir: base_dir.to_path_buf(),
        scopes: Vec::new(),
        diagnostics: Vec::new(),
        nix_paths: Vec::new(),
    };
    if !outer_names.is_empty() {
        let names = outer_names.iter().enumerate().map(|(i, s)| (*s, i as u32)).collect();
        l.scopes.push(Scope::Frame(names));
    }
    let root_expr = match root.expr() {
        Some(e) => l.expr(e),
        None => l.error_expr(root.syntax().text_range()),
    };
    l.diagnostics.sort_by_key(|d| d.range.start());
    Lowered { root: root_expr, diagnostics: l.diagnostics, nix_paths: l.nix_paths }
}

/// A name in an attribute path, before lowering.
enum PathName {
    Static(Symbol, TextRange),
    Dynamic(ast::Expr, TextRange),
}

/// An attribute set being assembled from (possibly several) definitions.
struct PendingSet {
    rec: bool,
    statics: Vec<(Symbol, PendingAttr)>,
    index: FxHashMap<Symbol, usize>,
    dynamics: Vec<(ast::Expr, PendingValue, TextRange)>,
    inherit_from: Vec<ast::Expr>,
}

struct PendingAttr {
    range: TextRange,
    value: PendingValue,
}

enum PendingValue {
    Syntax(ast::Expr),
    Set(PendingSet),
    Inherit(Symbol, TextRange),
    InheritFrom(u32, Symbol, TextRange),
}

impl PendingSet {
    fn new(rec: bool) -> Self {
        PendingSet {
            rec,
            statics: Vec::new(),
            index: FxHashMap::default(),
            dynamics: Vec::new(),
            inherit_from: Vec::new(),
        }
    }
}

fn strip_parens(mut e: ast::Expr) -> ast::Expr {
    while let ast::Expr::Paren(p) = &e {
        match p.expr() {
            Some(inner) => e = inner,
            None => break,
        }
    }
    e
}

fn show_path(path: &[Symbol]) -> String {
    path.iter().map(|s| s.as_str().into_owned()).collect::<Vec<_>>().join(".")
}

impl Lowerer {
    fn span(&self, range: TextRange) -> Span {
        Span::new(self.file, range)
    }

    fn mk(&self, range: TextRange, kind: ExprKind) -> ExprRef {
        Arc::new(Expr { span: self.span(range), kind })
    }

    fn diag(&mut self, range: TextRange, kind: DiagnosticKind, message: String) {
        self.diagnostics.push(Diagnostic { range, message, kind });
    }

    fn error_expr(&mut self, range: TextRange) -> ExprRef {
        self.mk(range, ExprKind::Var(Var::Unbound(Symbol::new("«syntax error»"))))
    }

    fn position_string(&self, range: TextRange) -> String {
        self.span(range).position().to_string()
    }

    // ---------------------------------------------------------------- scopes

    fn resolve(&self, name: Symbol, skip_innermost: usize) -> Var {
        let mut with_depth = None;
        let usable = self.scopes.len() - skip_innermost;
        for (depth, scope) in self.scopes[..usable].iter().rev().enumerate() {
            match scope {
                Scope::Frame(names) => {
                    if let Some(&index) = names.get(&name) {
                        return Var::Local { depth: depth as u32, index, name };
                    }
                }
                Scope::With => {
                    if with_depth.is_none() {
                        with_depth = Some(depth as u32);
                    }
                }
            }
        }
        if let Some(g) = global_index(name.as_bytes()) {
            return Var::Global(g);
        }
        match with_depth {
            Some(depth) => Var::With { depth, name },
            None => Var::Unbound(name),
        }
    }

    fn var_expr(&mut self, name: Symbol, range: TextRange, skip_innermost: usize) -> ExprRef {
        let var = self.resolve(name, skip_innermost);
        match var {
            Var::Global(g) => match crate::globals::GLOBALS[g as usize] {
                "true" => self.mk(range, ExprKind::Bool(true)),
                "false" => self.mk(range, ExprKind::Bool(false)),
                "null" => self.mk(range, ExprKind::Null),
                _ => self.mk(range, ExprKind::Var(var)),
            },
            Var::Unbound(name) => {
                self.diag(range, DiagnosticKind::UndefinedVariable, format!("undefined variable '{name}'"));
                self.mk(range, ExprKind::Var(var))
            }
            _ => self.mk(range, ExprKind::Var(var)),
        }
    }

    /// Whether `name` refers to the unshadowed builtin (so an operator may be
    /// evaluated natively instead of calling the variable).
    fn is_builtin(&self, name: &str) -> bool {
        matches!(self.resolve(Symbol::new(name), 0), Var::Global(_))
    }

    fn call_var(&mut self, range: TextRange, name: &str, args: Vec<ExprRef>) -> ExprRef {
        let func = self.var_expr(Symbol::new(name), range, 0);
        self.mk(range, ExprKind::Call { func, args: args.into() })
    }

    // ----------------------------------------------------------- expressions

    fn opt_expr(&mut self, e: Option<ast::Expr>, parent: TextRange) -> ExprRef {
        match e {
            Some(e) => self.expr(e),
            None => self.error_expr(parent),
        }
    }

    fn expr(&mut self, e: ast::Expr) -> ExprRef {
        self.expr_named(e, None)
    }

    fn expr_named(&mut self, e: ast::Expr, name: Option<Symbol>) -> ExprRef {
        let range = e.syntax().text_range();
        match e {
            ast::Expr::Paren(p) => {
                let inner = p.expr();
                match inner {
                    Some(inner) => self.expr_named(inner, name),
                    None => self.error_expr(range),
                }
            }
            ast::Expr::Root(r) => self.opt_expr(r.expr(), range),
            ast::Expr::Error(_) => self.error_expr(range),
            ast::Expr::Literal(lit) => self.literal(lit, range),
            ast::Expr::Ident(id) => {
                let name = ident_symbol(&id);
                self.var_expr(name, range, 0)
            }
            ast::Expr::Str(s) => self.string(&s),
            ast::Expr::PathAbs(_) | ast::Expr::PathRel(_) | ast::Expr::PathHome(_) => self.path(e.syntax()),
            ast::Expr::PathSearch(p) => {
                let text = p.syntax().text().to_string();
                let inner = text.trim_start_matches('<').trim_end_matches('>');
                let path_arg = self.mk(range, ExprKind::Str(Arc::from(inner.as_bytes())));
                let nix_path = self.var_expr(Symbol::new("__nixPath"), range, 0);
                self.call_var(range, "__findFile", vec![nix_path, path_arg])
            }
            ast::Expr::List(list) => {
                let items: Vec<ExprRef> = list.items().map(|i| self.expr(i)).collect();
                self.mk(range, ExprKind::List(items.into()))
            }
            ast::Expr::Lambda(lam) => self.lambda(&lam, name),
            ast::Expr::Apply(_) => {
                // Flatten `f a b c` into one call node.
                let mut args_rev = Vec::new();
                let mut cur = e.clone();
                while let ast::Expr::Apply(app) = &cur {
                    args_rev.push(app.argument());
                    match app.lambda() {
                        Some(f) => cur = f,
                        None => return self.error_expr(range),
                    }
                }
                let func = self.expr(cur);
                let args: Vec<ExprRef> = args_rev.into_iter().rev().map(|a| self.opt_expr(a, range)).collect();
                self.mk(range, ExprKind::Call { func, args: args.into() })
            }
            ast::Expr::Select(sel) => {
                let expr = self.opt_expr(sel.expr(), range);
                let path = match sel.attrpath() {
                    Some(p) => self.attr_keys(&p),
                    None => Vec::new(),
                };
                let default = sel.default_expr().map(|d| self.expr(d));
                self.mk(range, ExprKind::Select { expr, path: path.into(), default })
            }
            ast::Expr::HasAttr(h) => {
                let expr = self.opt_expr(h.expr(), range);
                let path = match h.attrpath() {
                    Some(p) => self.attr_keys(&p),
                    None => Vec::new(),
                };
                self.mk(range, ExprKind::HasAttr { expr, path: path.into() })
            }
            ast::Expr::IfElse(i) => {
                let cond = self.opt_expr(i.condition(), range);
                let then = self.opt_expr(i.body(), range);
                let else_ = self.opt_expr(i.else_body(), range);
                self.mk(range, ExprKind::If { cond, then, else_ })
            }
            ast::Expr::Assert(a) => {
                let cond = self.opt_expr(a.condition(), range);
                let body = self.opt_expr(a.body(), range);
                self.mk(range, ExprKind::Assert { cond, body })
            }
            ast::Expr::With(w) => {
                let namespace = self.opt_expr(w.namespace(), range);
                self.scopes.push(Scope::With);
                let body = self.opt_expr(w.body(), range);
                self.scopes.pop();
                self.mk(range, ExprKind::With { namespace, body })
            }
            ast::Expr::UnaryOp(u) => {
                let operand = u.expr();
                match u.operator() {
                    Some(ast::UnaryOpKind::Invert) => {
                        let inner = self.opt_expr(operand, range);
                        self.mk(range, ExprKind::Not(inner))
                    }
                    Some(ast::UnaryOpKind::Negate) => {
                        let inner = self.opt_expr(operand, range);
                        if self.is_builtin("__sub") {
                            match &inner.kind {
                                ExprKind::Int(i) => {
                                    return self.mk(range, ExprKind::Int(0i64.wrapping_sub(*i)));
                                }
                                ExprKind::Float(f) => return self.mk(range, ExprKind::Float(0.0 - f)),
                                _ => {}
                            }
                            let zero = self.mk(range, ExprKind::Int(0));
                            self.mk(range, ExprKind::BinOp { op: BinOp::Sub, lhs: zero, rhs: inner })
                        } else {
                            let zero = self.mk(range, ExprKind::Int(0));
                            self.call_var(range, "__sub", vec![zero, inner])
                        }
                    }
                    None => self.error_expr(range),
                }
            }
            ast::Expr::BinOp(b) => self.binop(&b, range),
            ast::Expr::AttrSet(set) => {
                let pending = self.pending_set(&set);
                self.lower_pending(pending, range)
            }
            ast::Expr::LetIn(l) => {
                let mut pending = PendingSet::new(true);
                self.add_entries(&mut pending, l.entries(), range);
                self.lower_let(pending, |this| this.opt_expr(l.body(), range), range)
            }
            ast::Expr::LegacyLet(l) => {
                // `let { a = 1; body = a; }` is `(rec { a = 1; body = a; }).body`.
                let mut pending = PendingSet::new(true);
                self.add_entries(&mut pending, l.entries(), range);
                let set = self.lower_pending(pending, range);
                let path: Box<[AttrKey]> = Box::new([AttrKey::Static(Symbol::new("body"))]);
                self.mk(range, ExprKind::Select { expr: set, path, default: None })
            }
            ast::Expr::CurPos(_) => self.mk(range, ExprKind::CurPos),
        }
    }

    fn literal(&mut self, lit: ast::Literal, range: TextRange) -> ExprRef {
        match lit.kind() {
            ast::LiteralKind::Integer(i) => match i.value() {
                Ok(v) => self.mk(range, ExprKind::Int(v)),
                Err(_) => {
                    let text = i.syntax().text().to_string();
                    self.diag(range, DiagnosticKind::InvalidInteger, format!("invalid integer '{text}'"));
                    self.error_expr(range)
                }
            },
            ast::LiteralKind::Float(f) => {
                let text = f.syntax().text();
                match text.parse::<f64>() {
                    Ok(v) => self.mk(range, ExprKind::Float(v)),
                    Err(_) => {
                        self.diag(range, DiagnosticKind::Syntax, format!("invalid float '{text}'"));
                        self.error_expr(range)
                    }
                }
            }
            ast::LiteralKind::Uri(u) => {
                let text = u.syntax().text().to_string();
                self.diag(range, DiagnosticKind::UrlLiteral, text.clone());
                self.mk(range, ExprKind::Str(Arc::from(text.as_bytes())))
            }
        }
    }

    fn binop(&mut self, b: &ast::BinOp, range: TextRange) -> ExprRef {
        let lhs = self.opt_expr(b.lhs(), range);
        let rhs = self.opt_expr(b.rhs(), range);
        let Some(op) = b.operator() else {
            return self.error_expr(range);
        };
        use ast::BinOpKind as K;
        let native = |op| ExprKind::BinOp { op, lhs: lhs.clone(), rhs: rhs.clone() };
        match op {
            K::Concat => self.mk(range, native(BinOp::Concat)),
            K::Update => self.mk(range, native(BinOp::Update)),
            K::Add => self.mk(range, native(BinOp::Add)),
            K::Equal => self.mk(range, native(BinOp::Eq)),
            K::NotEqual => self.mk(range, native(BinOp::Neq)),
            K::And => self.mk(range, native(BinOp::And)),
            K::Or => self.mk(range, native(BinOp::Or)),
            K::Implication => self.mk(range, native(BinOp::Impl)),
            K::PipeRight => self.mk(range, ExprKind::Call { func: rhs, args: Box::new([lhs]) }),
            K::PipeLeft => self.mk(range, ExprKind::Call { func: lhs, args: Box::new([rhs]) }),
            K::Sub | K::Mul | K::Div => {
                let (name, bop) = match op {
                    K::Sub => ("__sub", BinOp::Sub),
                    K::Mul => ("__mul", BinOp::Mul),
                    _ => ("__div", BinOp::Div),
                };
                if self.is_builtin(name) {
                    self.mk(range, native(bop))
                } else {
                    self.call_var(range, name, vec![lhs, rhs])
                }
            }
            K::Less | K::More | K::LessOrEq | K::MoreOrEq => {
                if self.is_builtin("__lessThan") {
                    let bop = match op {
                        K::Less => BinOp::Lt,
                        K::More => BinOp::Gt,
                        K::LessOrEq => BinOp::Le,
                        _ => BinOp::Ge,
                    };
                    self.mk(range, native(bop))
                } else {
                    // a < b = lt a b; a > b = lt b a; a <= b = !(lt b a); a >= b = !(lt a b)
                    let (x, y, negate) = match op {
                        K::Less => (lhs, rhs, false),
                        K::More => (rhs, lhs, false),
                        K::LessOrEq => (rhs, lhs, true),
                        _ => (lhs, rhs, true),
                    };
                    let call = self.call_var(range, "__lessThan", vec![x, y]);
                    if negate { self.mk(range, ExprKind::Not(call)) } else { call }
                }
            }
        }
    }

    // -------------------------------------------------------------- strings

    fn string(&mut self, s: &ast::Str) -> ExprRef {
        let range = s.syntax().text_range();
        let multiline = s.syntax().first_token().is_some_and(|t| t.text() == "''");
        let parts = if multiline { self.indented_parts(s) } else { self.plain_parts(s) };
        self.parts_expr(range, parts, false)
    }

    fn parts_expr(&mut self, range: TextRange, parts: Vec<StrPart>, is_path: bool) -> ExprRef {
        if !is_path {
            match parts.as_slice() {
                [] => return self.mk(range, ExprKind::Str(Arc::from(&b""[..]))),
                [StrPart::Lit(l)] => return self.mk(range, ExprKind::Str(l.clone())),
                _ => {}
            }
        }
        self.mk(range, ExprKind::Interpolated { is_path, parts: parts.into() })
    }

    fn check_nul(&mut self, s: &ast::Str) {
        // Every string literal passes here: look before copying.
        if s.syntax().text().contains_char('\0') {
            let text = s.syntax().text().to_string();
            let shown = text.trim_matches(|c| c == '"' || c == '\'').replace('\0', "␀");
            let range = s.syntax().text_range();
            let start = range.start() + rowan::TextSize::from(1);
            self.diag(
                TextRange::new(start.min(range.end()), range.end()),
                DiagnosticKind::Syntax,
                format!("input string '{shown}' cannot be represented as Nix string because it contains null bytes"),
            );
        }
    }

    fn plain_parts(&mut self, s: &ast::Str) -> Vec<StrPart> {
        self.check_nul(s);
        let mut parts = Vec::new();
        for child in s.syntax().children_with_tokens() {
            match child {
                NodeOrToken::Token(t) if t.kind() == SyntaxKind::TOKEN_STRING_CONTENT => {
                    let bytes = unescape_plain(t.text());
                    push_lit(&mut parts, bytes);
                }
                NodeOrToken::Node(n) => {
                    if let Some(i) = ast::Interpol::cast(n.clone()) {
                        let e = self.opt_expr(i.expr(), n.text_range());
                        parts.push(StrPart::Expr(e));
                    }
                }
                _ => {}
            }
        }
        parts
    }

    fn indented_parts(&mut self, s: &ast::Str) -> Vec<StrPart> {
        self.check_nul(s);
        // Re-tokenise the literal text the way Nix's lexer does, because
        // indentation stripping depends on token boundaries and on which
        // tokens are escapes.
        enum Tok {
            Text(Vec<u8>, bool),
            Expr(ExprRef),
        }
        let mut toks: Vec<Tok> = Vec::new();
        let mut first = true;
        for child in s.syntax().children_with_tokens() {
            match child {
                NodeOrToken::Token(t) if t.kind() == SyntaxKind::TOKEN_STRING_CONTENT => {
                    let mut text = t.text();
                    if first {
                        // The opening `''` swallows spaces and a newline that follow it.
                        let trimmed = text.trim_start_matches(' ');
                        if let Some(rest) = trimmed.strip_prefix('\n') {
                            text = rest;
                        }
                    }
                    for (bytes, has_indentation) in ind_tokens(text) {
                        toks.push(Tok::Text(bytes, has_indentation));
                    }
                    first = false;
                }
                NodeOrToken::Node(n) => {
                    if let Some(i) = ast::Interpol::cast(n.clone()) {
                        let e = self.opt_expr(i.expr(), n.text_range());
                        toks.push(Tok::Expr(e));
                    }
                    first = false;
                }
                _ => {}
            }
        }

        let mut at_start = true;
        let mut min_indent = usize::MAX;
        let mut cur_indent = 0;
        for t in &toks {
            match t {
                Tok::Text(bytes, true) => {
                    for &c in bytes {
                        if at_start {
                            if c == b' ' {
                                cur_indent += 1;
                            } else if c == b'\n' {
                                cur_indent = 0;
                            } else {
                                at_start = false;
                                min_indent = min_indent.min(cur_indent);
                            }
                        } else if c == b'\n' {
                            at_start = true;
                            cur_indent = 0;
                        }
                    }
                }
                _ => {
                    if at_start {
                        at_start = false;
                        min_indent = min_indent.min(cur_indent);
                    }
                }
            }
        }

        let mut parts = Vec::new();
        at_start = true;
        let mut cur_dropped = 0;
        let n = toks.len();
        for (i, t) in toks.into_iter().enumerate() {
            match t {
                Tok::Expr(e) => {
                    at_start = false;
                    cur_dropped = 0;
                    parts.push(StrPart::Expr(e));
                }
                Tok::Text(bytes, _) => {
                    let mut out = Vec::with_capacity(bytes.len());
                    for c in bytes {
                        if at_start {
                            if c == b' ' {
                                if cur_dropped >= min_indent {
                                    out.push(c);
                                }
                                cur_dropped += 1;
                            } else if c == b'\n' {
                                cur_dropped = 0;
                                out.push(c);
                            } else {
                                at_start = false;
                                cur_dropped = 0;
                                out.push(c);
                            }
                        } else {
                            out.push(c);
                            if c == b'\n' {
                                at_start = true;
                            }
                        }
                    }
                    if i == n - 1
                        && let Some(p) = out.iter().rposition(|&c| c == b'\n')
                        && out[p + 1..].iter().all(|&c| c == b' ')
                    {
                        out.truncate(p + 1);
                    }
                    push_lit(&mut parts, out);
                }
            }
        }
        parts
    }

    // ---------------------------------------------------------------- paths

    fn path(&mut self, node: &SyntaxNode) -> ExprRef {
        let range = node.text_range();
        let mut pieces: Vec<StrPart> = Vec::new();
        let mut first_literal: Option<String> = None;
        for child in node.children_with_tokens() {
            match child {
                NodeOrToken::Token(t) => {
                    let text = t.text();
                    if pieces.is_empty() && first_literal.is_none() {
                        first_literal = Some(text.to_string());
                    } else {
                        push_lit(&mut pieces, text.as_bytes().to_vec());
                    }
                }
                NodeOrToken::Node(n) => {
                    if first_literal.is_none() && pieces.is_empty() {
                        first_literal = Some(String::new());
                    }
                    if let Some(i) = ast::Interpol::cast(n.clone()) {
                        let e = self.opt_expr(i.expr(), n.text_range());
                        pieces.push(StrPart::Expr(e));
                    }
                }
            }
        }
        let first = first_literal.unwrap_or_default();
        let is_home = node.kind() == SyntaxKind::NODE_PATH_HOME;
        // Lints carry the literal as written; the evaluator words the message.
        let literal = node.text().to_string();
        if is_home {
            self.diag(range, DiagnosticKind::HomePathLiteral, literal);
        } else if first.starts_with('/') {
            self.diag(range, DiagnosticKind::AbsolutePathLiteral, literal);
        } else if !first.starts_with("./") && !first.starts_with("../") {
            self.diag(range, DiagnosticKind::ShortPathLiteral, literal);
        }
        if pieces.is_empty() {
            if is_home {
                let rest = first.strip_prefix('~').unwrap_or(&first);
                return self.mk(range, ExprKind::Path(PathLit::Home(Arc::from(rest))));
            }
            let abs = self.absolute(&first);
            if abs.ends_with(".nix") {
                self.nix_paths.push(PathBuf::from(&abs));
            }
            return self.mk(range, ExprKind::Path(PathLit::Abs(Arc::from(abs.as_str()))));
        }
        // Interpolated path: the first literal is made absolute (keeping a
        // trailing slash), the rest is concatenated as strings.
        let head = if is_home {
            let rest = first.strip_prefix('~').unwrap_or(&first);
            self.mk(range, ExprKind::Path(PathLit::Home(Arc::from(rest))))
        } else {
            let mut abs = self.absolute(&first);
            if first.ends_with('/') && first.len() > 1 && !abs.ends_with('/') {
                abs.push('/');
            }
            self.mk(range, ExprKind::Path(PathLit::Abs(Arc::from(abs.as_str()))))
        };
        let mut parts = vec![StrPart::Expr(head)];
        parts.extend(pieces);
        self.parts_expr(range, parts, true)
    }

    fn absolute(&self, p: &str) -> String {
        if p.starts_with('/') { canon_path(p) } else { canon_path(&format!("{}/{}", self.base_dir.display(), p)) }
    }

    // -------------------------------------------------------------- lambdas

    fn lambda(&mut self, lam: &ast::Lambda, name: Option<Symbol>) -> ExprRef {
        let range = lam.syntax().text_range();
        let span = self.span(range);
        match lam.param() {
            Some(ast::Param::IdentParam(ip)) => {
                let pname = ip.ident().map(|i| ident_symbol(&i)).unwrap_or_else(|| Symbol::new("_"));
                let mut names = FxHashMap::default();
                names.insert(pname, 0);
                self.scopes.push(Scope::Frame(names));
                let body = self.opt_expr(lam.body(), range);
                self.scopes.pop();
                let lambda = LambdaExpr { name, param: Param::Ident(pname), body, span };
                self.mk(range, ExprKind::Lambda(Arc::new(lambda)))
            }
            Some(ast::Param::Pattern(pat)) => {
                let mut names: FxHashMap<Symbol, u32> = FxHashMap::default();
                let mut entries = Vec::new();
                let mut dup: Option<(Symbol, TextRange)> = None;
                for entry in pat.pat_entries() {
                    let Some(id) = entry.ident() else { continue };
                    let sym = ident_symbol(&id);
                    let r = id.syntax().text_range();
                    if names.contains_key(&sym) {
                        // Nix reports the alphabetically first duplicate.
                        if dup.is_none_or(|(d, _)| sym < d) {
                            dup = Some((sym, r));
                        }
                        continue;
                    }
                    names.insert(sym, entries.len() as u32);
                    entries.push((sym, r, entry.default()));
                }
                if let Some((sym, r)) = dup {
                    self.diag(
                        r,
                        DiagnosticKind::DuplicateFormal,
                        format!("duplicate formal function argument '{sym}'"),
                    );
                }
                let at = pat.pat_bind().and_then(|b| b.ident()).map(|i| (ident_symbol(&i), i.syntax().text_range()));
                if let Some((sym, r)) = at {
                    let slot = entries.len() as u32;
                    if let std::collections::hash_map::Entry::Vacant(v) = names.entry(sym) {
                        v.insert(slot);
                    } else {
                        self.diag(
                            r,
                            DiagnosticKind::DuplicateFormal,
                            format!("duplicate formal function argument '{sym}'"),
                        );
                    }
                }
                self.scopes.push(Scope::Frame(names));
                let formals: Vec<Formal> = entries
                    .into_iter()
                    .map(|(sym, r, default)| Formal {
                        name: sym,
                        default: default.map(|d| self.expr(d)),
                        span: self.span(r),
                    })
                    .collect();
                let body = self.opt_expr(lam.body(), range);
                self.scopes.pop();
                let param = Param::Formals {
                    formals: formals.into(),
                    ellipsis: pat.ellipsis_token().is_some(),
                    at: at.map(|(s, _)| s),
                };
                let lambda = LambdaExpr { name, param, body, span };
                self.mk(range, ExprKind::Lambda(Arc::new(lambda)))
            }
            None => self.error_expr(range),
        }
    }

    // ----------------------------------------------------------- attributes

    /// The name of an attribute in a path, if static.
    fn attr_name(&mut self, attr: &ast::Attr) -> PathName {
        let range = attr.syntax().text_range();
        match attr {
            ast::Attr::Ident(id) => PathName::Static(ident_symbol(id), range),
            ast::Attr::Str(s) => match self.static_string(s) {
                Some(bytes) => PathName::Static(Symbol::from_bytes(&bytes), range),
                None => PathName::Dynamic(ast::Expr::Str(s.clone()), range),
            },
            ast::Attr::Dynamic(d) => match d.expr() {
                // `${"foo"}` counts as the static name `foo`.
                Some(ast::Expr::Str(s)) if self.static_string(&s).is_some() => {
                    let bytes = self.static_string(&s).unwrap_or_default();
                    PathName::Static(Symbol::from_bytes(&bytes), range)
                }
                Some(e) => PathName::Dynamic(e, range),
                None => PathName::Static(Symbol::new("«error»"), range),
            },
        }
    }

    /// The value of a string literal without interpolation.
    fn static_string(&mut self, s: &ast::Str) -> Option<Vec<u8>> {
        if s.syntax().children().any(|n| n.kind() == SyntaxKind::NODE_INTERPOL) {
            return None;
        }
        let multiline = s.syntax().first_token().is_some_and(|t| t.text() == "''");
        let parts = if multiline { self.indented_parts(s) } else { self.plain_parts(s) };
        match parts.as_slice() {
            [] => Some(Vec::new()),
            [StrPart::Lit(l)] => Some(l.to_vec()),
            _ => None,
        }
    }

    fn attr_keys(&mut self, path: &ast::Attrpath) -> Vec<AttrKey> {
        path.attrs()
            .map(|a| match self.attr_name(&a) {
                PathName::Static(s, _) => AttrKey::Static(s),
                PathName::Dynamic(e, _) => AttrKey::Dynamic(self.expr(e)),
            })
            .collect()
    }

    fn pending_set(&mut self, set: &ast::AttrSet) -> PendingSet {
        let mut pending = PendingSet::new(set.rec_token().is_some());
        self.add_entries(&mut pending, set.entries(), set.syntax().text_range());
        pending
    }

    fn pending_value(&mut self, e: ast::Expr) -> PendingValue {
        match strip_parens(e.clone()) {
            ast::Expr::AttrSet(s) => PendingValue::Set(self.pending_set(&s)),
            _ => PendingValue::Syntax(e),
        }
    }

    fn add_entries(&mut self, set: &mut PendingSet, entries: impl Iterator<Item = ast::Entry>, _range: TextRange) {
        for entry in entries {
            match entry {
                ast::Entry::AttrpathValue(apv) => {
                    let Some(path) = apv.attrpath() else { continue };
                    let names: Vec<PathName> = path.attrs().map(|a| self.attr_name(&a)).collect();
                    if names.is_empty() {
                        continue;
                    }
                    let value = match apv.value() {
                        Some(v) => self.pending_value(v),
                        None => PendingValue::Syntax(ast::Expr::Error(
                            ast::Error::cast(SyntaxNode::new_root(error_green())).expect("error node"),
                        )),
                    };
                    self.add_path(set, names, value);
                }
                ast::Entry::Inherit(inh) => {
                    let source = inh.from().map(|f| {
                        let idx = set.inherit_from.len() as u32;
                        match f.expr() {
                            Some(e) => set.inherit_from.push(e),
                            None => set.inherit_from.push(ast::Expr::Error(
                                ast::Error::cast(SyntaxNode::new_root(error_green())).expect("error node"),
                            )),
                        }
                        idx
                    });
                    for attr in inh.attrs() {
                        let (sym, range) = match self.attr_name(&attr) {
                            PathName::Static(s, r) => (s, r),
                            PathName::Dynamic(_, r) => {
                                self.diag(
                                    r,
                                    DiagnosticKind::DynamicNotAllowed,
                                    "dynamic attributes not allowed in inherit".into(),
                                );
                                continue;
                            }
                        };
                        let value = match source {
                            Some(idx) => PendingValue::InheritFrom(idx, sym, range),
                            None => PendingValue::Inherit(sym, range),
                        };
                        let mut path = vec![sym];
                        self.insert_static(set, sym, range, value, &mut path);
                    }
                }
            }
        }
    }

    fn add_path(&mut self, set: &mut PendingSet, names: Vec<PathName>, value: PendingValue) {
        let mut shown: Vec<Symbol> = Vec::new();
        let mut cur = set;
        let last = names.len() - 1;
        let mut names = names.into_iter();
        for _ in 0..last {
            match names.next() {
                Some(PathName::Static(sym, range)) => {
                    shown.push(sym);
                    let idx = match cur.index.get(&sym) {
                        Some(&i) => {
                            if !matches!(cur.statics[i].1.value, PendingValue::Set(_)) {
                                let prev = self.position_string(cur.statics[i].1.range);
                                self.diag(
                                    range,
                                    DiagnosticKind::DuplicateAttribute,
                                    format!("attribute '{}' already defined at {prev}", show_path(&shown)),
                                );
                                return;
                            }
                            i
                        }
                        None => {
                            cur.index.insert(sym, cur.statics.len());
                            cur.statics
                                .push((sym, PendingAttr { range, value: PendingValue::Set(PendingSet::new(false)) }));
                            cur.statics.len() - 1
                        }
                    };
                    let PendingValue::Set(next) = &mut cur.statics[idx].1.value else {
                        return;
                    };
                    cur = next;
                }
                Some(PathName::Dynamic(e, range)) => {
                    cur.dynamics.push((e, PendingValue::Set(PendingSet::new(false)), range));
                    let Some((_, PendingValue::Set(next), _)) = cur.dynamics.last_mut() else {
                        return;
                    };
                    cur = next;
                    // Names below a dynamic component are not shown by Nix either.
                    shown.clear();
                }
                None => return,
            }
        }
        match names.next() {
            Some(PathName::Static(sym, range)) => {
                shown.push(sym);
                self.insert_static(cur, sym, range, value, &mut shown);
            }
            Some(PathName::Dynamic(e, range)) => cur.dynamics.push((e, value, range)),
            None => {}
        }
    }

    fn insert_static(
        &mut self,
        set: &mut PendingSet,
        sym: Symbol,
        range: TextRange,
        value: PendingValue,
        path: &mut Vec<Symbol>,
    ) {
        let Some(&i) = set.index.get(&sym) else {
            set.index.insert(sym, set.statics.len());
            set.statics.push((sym, PendingAttr { range, value }));
            return;
        };
        let existing_is_set = matches!(set.statics[i].1.value, PendingValue::Set(_));
        match value {
            PendingValue::Set(new) if existing_is_set => {
                let PendingValue::Set(target) = &mut set.statics[i].1.value else {
                    return;
                };
                let offset = target.inherit_from.len() as u32;
                target.inherit_from.extend(new.inherit_from);
                for (name, attr) in new.statics {
                    let v = match attr.value {
                        PendingValue::InheritFrom(idx, s, r) => PendingValue::InheritFrom(idx + offset, s, r),
                        other => other,
                    };
                    path.push(name);
                    self.insert_static(target, name, attr.range, v, path);
                    path.pop();
                }
                target.dynamics.extend(new.dynamics);
            }
            _ => {
                let prev = self.position_string(set.statics[i].1.range);
                self.diag(
                    range,
                    DiagnosticKind::DuplicateAttribute,
                    format!("attribute '{}' already defined at {prev}", show_path(path)),
                );
            }
        }
    }

    /// Lowers the value of a binding (in whatever scope is current).
    fn lower_value(
        &mut self,
        name: Symbol,
        value: PendingValue,
        skip_for_inherit: usize,
    ) -> (BindingValue, Option<TextRange>) {
        match value {
            PendingValue::Syntax(e) => (BindingValue::Expr(self.expr_named(e, Some(name))), None),
            PendingValue::Set(s) => {
                // The whole literal's range is not kept for merged sets; the
                // binding's name range is used for positions instead.
                (BindingValue::Expr(self.lower_pending_at(s, None)), None)
            }
            PendingValue::Inherit(sym, range) => {
                (BindingValue::Inherit(self.var_expr(sym, range, skip_for_inherit)), Some(range))
            }
            PendingValue::InheritFrom(idx, _, range) => (BindingValue::InheritFrom { source: idx }, Some(range)),
        }
    }

    fn lower_pending(&mut self, set: PendingSet, range: TextRange) -> ExprRef {
        self.lower_pending_at(set, Some(range))
    }

    fn lower_pending_at(&mut self, mut set: PendingSet, range: Option<TextRange>) -> ExprRef {
        let range = range.or_else(|| set.statics.first().map(|(_, a)| a.range)).unwrap_or_default();
        // Sorted by name, so the evaluator builds the attribute set without sorting.
        set.statics.sort_by_key(|a| a.0);
        let rec = set.rec;
        if rec {
            let names = set.statics.iter().enumerate().map(|(i, (s, _))| (*s, i as u32)).collect();
            self.scopes.push(Scope::Frame(names));
        }
        let inherit_from: Vec<ExprRef> = set.inherit_from.into_iter().map(|e| self.expr(e)).collect();
        let skip = rec as usize;
        let mut statics = Vec::with_capacity(set.statics.len());
        for (name, attr) in set.statics {
            let (value, _) = self.lower_value(name, attr.value, skip);
            statics.push(Binding { name, span: self.span(attr.range), value });
        }
        let mut dynamics = Vec::with_capacity(set.dynamics.len());
        for (name_expr, value, r) in set.dynamics {
            let name = self.expr(name_expr);
            let value = match value {
                PendingValue::Syntax(e) => self.expr(e),
                PendingValue::Set(s) => self.lower_pending_at(s, Some(r)),
                _ => self.error_expr(r),
            };
            dynamics.push(DynamicAttr { name, value, span: self.span(r) });
        }
        if rec {
            self.scopes.pop();
        }
        let attrs =
            AttrsExpr { rec, inherit_from: inherit_from.into(), statics: statics.into(), dynamics: dynamics.into() };
        self.mk(range, ExprKind::Attrs(Arc::new(attrs)))
    }

    fn lower_let(&mut self, set: PendingSet, body: impl FnOnce(&mut Self) -> ExprRef, range: TextRange) -> ExprRef {
        for (_, _, r) in &set.dynamics {
            self.diag(*r, DiagnosticKind::DynamicNotAllowed, "dynamic attributes not allowed in let".into());
        }
        let names = set.statics.iter().enumerate().map(|(i, (s, _))| (*s, i as u32)).collect();
        self.scopes.push(Scope::Frame(names));
        let inherit_from: Vec<ExprRef> = set.inherit_from.into_iter().map(|e| self.expr(e)).collect();
        let mut bindings = Vec::with_capacity(set.statics.len());
        for (name, attr) in set.statics {
            let (value, _) = self.lower_value(name, attr.value, 1);
            bindings.push(Binding { name, span: self.span(attr.range), value });
        }
        let body = body(self);
        self.scopes.pop();
        let let_expr = LetExpr { inherit_from: inherit_from.into(), bindings: bindings.into(), body };
        self.mk(range, ExprKind::Let(Arc::new(let_expr)))
    }
}

fn error_green() -> rowan::GreenNode {
    let mut b = rowan::GreenNodeBuilder::new();
    b.start_node(rowan::SyntaxKind(SyntaxKind::NODE_ERROR as u16));
    b.finish_node();
    b.finish()
}

fn ident_symbol(id: &ast::Ident) -> Symbol {
    // The identifier's one token, read in place (formatting the node's
    // text allocated a string for every name in every file).
    match id.ident_token() {
        Some(t) => Symbol::new(t.text().trim()),
        None => Symbol::new(id.syntax().text().to_string().trim()),
    }
}

fn push_lit(parts: &mut Vec<StrPart>, bytes: Vec<u8>) {
    if bytes.is_empty() {
        return;
    }
    let bytes = crate::source::restore_raw_bytes(bytes);
    if let Some(StrPart::Lit(prev)) = parts.last_mut() {
        let mut joined = prev.to_vec();
        joined.extend_from_slice(&bytes);
        *prev = Arc::from(joined);
    } else {
        parts.push(StrPart::Lit(Arc::from(bytes)));
    }
}

/// Unescapes the content of a `"..."` string: `\n \r \t`, `\x` = `x`, and
/// CR / CRLF normalised to LF as Nix does.
pub fn unescape_plain(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            let n = b[i + 1];
            match n {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                _ => out.push(n),
            }
            i += 2;
        } else if c == b'\r' {
            out.push(b'\n');
            i += if b.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Splits the literal text of an indented string into Nix lexer tokens:
/// `(bytes, has_indentation)`; escapes and lone `$`/`'` have no indentation.
fn ind_tokens(text: &str) -> Vec<(Vec<u8>, bool)> {
    let b = text.as_bytes();
    let mut toks = Vec::new();
    let mut run: Vec<u8> = Vec::new();
    let mut i = 0;
    let flush = |run: &mut Vec<u8>, toks: &mut Vec<(Vec<u8>, bool)>| {
        if !run.is_empty() {
            toks.push((std::mem::take(run), true));
        }
    };
    while i < b.len() {
        if b[i..].starts_with(b"''$") {
            flush(&mut run, &mut toks);
            toks.push((b"$".to_vec(), false));
            i += 3;
        } else if b[i..].starts_with(b"'''") {
            flush(&mut run, &mut toks);
            toks.push((b"''".to_vec(), false));
            i += 3;
        } else if b[i..].starts_with(b"''\\") && i + 3 < b.len() {
            flush(&mut run, &mut toks);
            let c = b[i + 3];
            let (s, len): (Vec<u8>, usize) = match c {
                b'n' => (b"\n".to_vec(), 1),
                b'r' => (b"\r".to_vec(), 1),
                b't' => (b"\t".to_vec(), 1),
                b'\r' if b.get(i + 4) == Some(&b'\n') => (b"\n".to_vec(), 2),
                b'\r' => (b"\n".to_vec(), 1),
                _ => (vec![c], 1),
            };
            toks.push((s, false));
            i += 3 + len;
        } else if b[i] == b'$' {
            match b.get(i + 1) {
                Some(b'{') | Some(b'\'') | None => {
                    flush(&mut run, &mut toks);
                    toks.push((b"$".to_vec(), false));
                    i += 1;
                }
                Some(&n) => {
                    run.push(b'$');
                    run.push(n);
                    i += 2;
                }
            }
        } else if b[i] == b'\'' {
            match b.get(i + 1) {
                Some(b'\'') | Some(b'$') | None => {
                    flush(&mut run, &mut toks);
                    toks.push((b"'".to_vec(), false));
                    i += 1;
                }
                Some(&n) => {
                    run.push(b'\'');
                    run.push(n);
                    i += 2;
                }
            }
        } else {
            run.push(b[i]);
            i += 1;
        }
    }
    flush(&mut run, &mut toks);
    toks
}

/// Nix's `canonPath`: removes `.`, `..` and repeated slashes lexically.
pub fn canon_path(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(s) => out.push(s.to_str().unwrap_or("")),
        }
    }
    if out.is_empty() { "/".to_string() } else { format!("/{}", out.join("/")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canon() {
        assert_eq!(canon_path("/a/b/../c/./d//e"), "/a/c/d/e");
        assert_eq!(canon_path("/.."), "/");
        assert_eq!(canon_path("/"), "/");
    }

    #[test]
    fn unescape() {
        assert_eq!(unescape_plain(r#"a\nb\"c\\d\$"#), b"a\nb\"c\\d$");
        assert_eq!(unescape_plain("a\r\nb\rc"), b"a\nb\nc");
    }
}

//! dendrite's lowered expression tree.
//!
//! The rnix syntax tree is lowered into this form once per file: attribute
//! paths are merged the way Nix's parser merges them, operators are
//! desugared as Nix desugars them, and every variable is resolved to a
//! frame slot, a global, or a dynamic `with` lookup. The evaluator walks
//! this tree; it never looks at syntax.

use std::sync::Arc;

use crate::span::Span;
use crate::symbol::Symbol;

/// A shared reference to an expression; thunks and closures hold these.
pub type ExprRef = Arc<Expr>;

/// One expression with its source span.
#[derive(Debug, PartialEq)]
pub struct Expr {
    /// Where it is written.
    pub span: Span,
    /// What it is.
    pub kind: ExprKind,
}

/// The expression forms.
#[derive(Debug, PartialEq)]
pub enum ExprKind {
    /// `null`, `true`, `false` when not shadowed.
    Null,
    /// A boolean constant.
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A string without interpolation (also URI literals).
    Str(Arc<[u8]>),
    /// A path literal without interpolation.
    Path(PathLit),
    /// A string or path with `${...}` parts.
    Interpolated {
        /// Whether the result is a path (first part is then a path literal).
        is_path: bool,
        /// Literal and interpolated parts in order.
        parts: Box<[StrPart]>,
    },
    /// A variable reference.
    Var(Var),
    /// `e.a.b` or `e.a.b or d`.
    Select {
        /// The attribute set.
        expr: ExprRef,
        /// The attribute path.
        path: Box<[AttrKey]>,
        /// The `or` default.
        default: Option<ExprRef>,
    },
    /// `e ? a.b`.
    HasAttr {
        /// The tested value.
        expr: ExprRef,
        /// The attribute path.
        path: Box<[AttrKey]>,
    },
    /// An attribute set literal.
    Attrs(Arc<AttrsExpr>),
    /// A list literal.
    List(Box<[ExprRef]>),
    /// A function.
    Lambda(Arc<LambdaExpr>),
    /// Function application `f a b ...`.
    Call {
        /// The function.
        func: ExprRef,
        /// The arguments, applied left to right.
        args: Box<[ExprRef]>,
    },
    /// `let ... in body` (and the legacy `let { ... }`).
    Let(Arc<LetExpr>),
    /// `with ns; body`.
    With {
        /// The namespace expression.
        namespace: ExprRef,
        /// The body, evaluated in a `with` frame.
        body: ExprRef,
    },
    /// `if c then a else b`.
    If {
        /// Condition.
        cond: ExprRef,
        /// Then branch.
        then: ExprRef,
        /// Else branch.
        else_: ExprRef,
    },
    /// `assert c; body`.
    Assert {
        /// Condition.
        cond: ExprRef,
        /// Body.
        body: ExprRef,
    },
    /// `!e`.
    Not(ExprRef),
    /// A binary operator with native semantics.
    BinOp {
        /// Which operator.
        op: BinOp,
        /// Left operand.
        lhs: ExprRef,
        /// Right operand.
        rhs: ExprRef,
    },
    /// `__curPos`.
    CurPos,
}

/// Binary operators evaluated natively (the ones Nix does not desugar into
/// calls of a rebindable `__sub`, `__lessThan` ... or whose builtin was not
/// rebound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `++`
    Concat,
    /// `//`
    Update,
    /// `==`
    Eq,
    /// `!=`
    Neq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `->`
    Impl,
    /// `|>` (argument on the left)
    PipeRight,
    /// `<|` (argument on the right)
    PipeLeft,
}

/// A path literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathLit {
    /// Already absolute (relative paths are resolved at lowering).
    Abs(Arc<str>),
    /// `~/rest`, resolved against `$HOME` when evaluated.
    Home(Arc<str>),
}

/// A part of an interpolated string or path.
#[derive(Debug, PartialEq)]
pub enum StrPart {
    /// Literal bytes.
    Lit(Arc<[u8]>),
    /// `${expr}`.
    Expr(ExprRef),
}

/// Where a variable is found.
#[derive(Debug, Clone, PartialEq)]
pub enum Var {
    /// Slot `index` of the frame `depth` levels up.
    Local {
        /// Frames to walk up (0 = innermost).
        depth: u32,
        /// Slot in that frame.
        index: u32,
        /// The name (for messages).
        name: Symbol,
    },
    /// A global (builtins base environment) by index into [`crate::GLOBALS`].
    Global(u32),
    /// Looked up dynamically in the `with` frame `depth` levels up, then in
    /// enclosing `with` frames.
    With {
        /// Frames to walk up to the innermost enclosing `with`.
        depth: u32,
        /// The name.
        name: Symbol,
    },
    /// Not bound anywhere (a static error has been reported).
    Unbound(Symbol),
}

/// An attribute name in a path: static or `${...}`.
#[derive(Debug, PartialEq)]
pub enum AttrKey {
    /// Known at parse time.
    Static(Symbol),
    /// Computed; must evaluate to a string.
    Dynamic(ExprRef),
}

/// An attribute set literal after Nix's path merging.
#[derive(Debug, PartialEq)]
pub struct AttrsExpr {
    /// `rec { ... }`: the static attributes form a frame.
    pub rec: bool,
    /// Sources of `inherit (src) ...`, evaluated once in the binding env.
    pub inherit_from: Box<[ExprRef]>,
    /// Static attributes sorted by name (also the frame slot order if `rec`).
    pub statics: Box<[Binding]>,
    /// `${name} = value;` attributes.
    pub dynamics: Box<[DynamicAttr]>,
}

/// A static binding in a `let` or attribute set.
#[derive(Debug, PartialEq)]
pub struct Binding {
    /// The name.
    pub name: Symbol,
    /// Where the name is written (for `unsafeGetAttrPos` and errors).
    pub span: Span,
    /// What it is bound to.
    pub value: BindingValue,
}

/// The value of a static binding.
#[derive(Debug, PartialEq)]
pub enum BindingValue {
    /// An expression in the binding env (the rec/let frame, or the outer env).
    Expr(ExprRef),
    /// `inherit name;`: an expression resolved in the enclosing scope.
    Inherit(ExprRef),
    /// `inherit (src) name;`: attribute `name` of `inherit_from[source]`.
    InheritFrom {
        /// Index into the owner's `inherit_from`.
        source: u32,
    },
}

/// `${name} = value;`
#[derive(Debug, PartialEq)]
pub struct DynamicAttr {
    /// Name expression.
    pub name: ExprRef,
    /// Value expression.
    pub value: ExprRef,
    /// Span of the name.
    pub span: Span,
}

/// A `let` expression: one frame of bindings and a body.
#[derive(Debug, PartialEq)]
pub struct LetExpr {
    /// Sources of `inherit (src) ...`, evaluated in the let frame.
    pub inherit_from: Box<[ExprRef]>,
    /// Bindings in frame slot order.
    pub bindings: Box<[Binding]>,
    /// The body.
    pub body: ExprRef,
}

/// A function literal.
#[derive(Debug, PartialEq)]
pub struct LambdaExpr {
    /// The name it was bound to, if any (for messages and traces).
    pub name: Option<Symbol>,
    /// The parameter.
    pub param: Param,
    /// The body, evaluated in the call frame.
    pub body: ExprRef,
    /// The whole lambda.
    pub span: Span,
}

/// A function parameter.
#[derive(Debug, PartialEq)]
pub enum Param {
    /// `x: ...`: the frame has one slot.
    Ident(Symbol),
    /// `{ a, b ? d, ... } @ x: ...`: one slot per formal in order, then `at`.
    Formals {
        /// The formals, in slot order.
        formals: Box<[Formal]>,
        /// Whether `...` is present.
        ellipsis: bool,
        /// The `@` binding.
        at: Option<Symbol>,
    },
}

/// One formal argument.
#[derive(Debug, PartialEq)]
pub struct Formal {
    /// The name.
    pub name: Symbol,
    /// The default, evaluated in the call frame.
    pub default: Option<ExprRef>,
    /// Where it is written.
    pub span: Span,
}

impl Param {
    /// Number of frame slots a call needs.
    pub fn frame_size(&self) -> usize {
        match self {
            Param::Ident(_) => 1,
            Param::Formals { formals, at, .. } => formals.len() + at.is_some() as usize,
        }
    }
}

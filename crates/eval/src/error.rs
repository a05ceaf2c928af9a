//! Evaluation errors with Nix-compatible messages and traces.

use std::fmt::Write as _;

use dendrite_syntax::Span;

/// Result of an evaluation step.
pub type EvalResult<T> = Result<T, EvalError>;

/// What kind of failure (decides what `tryEval` catches and how it prints).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `throw` (catchable).
    Throw,
    /// A failed `assert` (catchable).
    Assertion,
    /// `abort`.
    Abort,
    /// A value of the wrong type.
    Type,
    /// A cycle between thunks.
    InfiniteRecursion,
    /// The evaluation recursed too deeply.
    StackOverflow,
    /// A missing attribute.
    MissingAttribute,
    /// File system access failed.
    Io,
    /// A file that does not parse.
    Parse,
    /// Something dendrite does not support (network fetches, store access).
    Unsupported,
    /// Depends on an input dendrite could not resolve (never a user error).
    Unknown,
    /// A shared module template used a module argument that only one
    /// configuration can supply (never a user error: the module is then
    /// evaluated for each configuration instead).
    NeedsWorld,
    /// Any other evaluation error.
    Eval,
}

/// One "… while ..." line of a trace.
#[derive(Clone, Debug)]
pub struct TraceFrame {
    /// The text after `… `.
    pub message: String,
    /// Where, if known.
    pub span: Option<Span>,
}

/// An evaluation error.
#[derive(Clone, Debug)]
pub struct EvalError(pub Box<ErrorData>);

/// The parts of an evaluation error.
#[derive(Clone, Debug)]
pub struct ErrorData {
    /// The kind.
    pub kind: ErrorKind,
    /// The message (without `error: `).
    pub message: String,
    /// Where it happened.
    pub span: Option<Span>,
    /// Trace frames, innermost first.
    pub trace: Vec<TraceFrame>,
    /// An extra line after the position ("Did you mean ...?").
    pub hint: Option<String>,
    /// Other places that explain the error (each definition involved ...).
    pub related: Vec<(String, Span)>,
}

impl EvalError {
    /// A new error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> EvalError {
        EvalError(Box::new(ErrorData {
            kind,
            message: message.into(),
            span: None,
            trace: Vec::new(),
            hint: None,
            related: Vec::new(),
        }))
    }

    /// A new error at a span.
    pub fn at(kind: ErrorKind, message: impl Into<String>, span: Span) -> EvalError {
        EvalError::new(kind, message).with_span(span)
    }

    /// A type error ("expected a set but found ...").
    pub fn type_error(message: impl Into<String>) -> EvalError {
        EvalError::new(ErrorKind::Type, message)
    }

    /// A generic evaluation error.
    pub fn eval(message: impl Into<String>) -> EvalError {
        EvalError::new(ErrorKind::Eval, message)
    }

    /// Sets the position if none is set yet.
    pub fn with_span(mut self, span: Span) -> EvalError {
        if self.0.span.is_none() {
            self.0.span = Some(span);
        }
        self
    }

    /// Adds a hint line.
    pub fn with_hint(mut self, hint: impl Into<String>) -> EvalError {
        self.0.hint = Some(hint.into());
        self
    }

    /// Adds a related place, shown after the error's own position.
    pub fn with_related(mut self, label: impl Into<String>, span: Span) -> EvalError {
        self.0.related.push((label.into(), span));
        self
    }

    /// The related places.
    pub fn related(&self) -> &[(String, Span)] {
        &self.0.related
    }

    /// Adds a trace frame (called while unwinding, so innermost first).
    pub fn context(mut self, message: impl Into<String>, span: Option<Span>) -> EvalError {
        if self.0.trace.len() < 1024 {
            self.0.trace.push(TraceFrame { message: message.into(), span });
        }
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The position.
    pub fn span(&self) -> Option<Span> {
        self.0.span
    }

    /// Whether `builtins.tryEval` catches it.
    pub fn is_catchable(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Throw | ErrorKind::Assertion)
    }

    /// Renders the error the way Nix prints it on stderr.
    pub fn render(&self, show_trace: bool) -> String {
        let mut out = String::new();
        let d = &self.0;
        let frames: Vec<&TraceFrame> = if show_trace {
            d.trace.iter().rev().collect()
        } else {
            d.trace.iter().rev().filter(|f| f.span.is_none() && f.message.starts_with("while ")).take(0).collect()
        };
        if frames.is_empty() {
            let _ = write!(out, "error: {}", indent_message(&d.message));
        } else {
            out.push_str("error:");
            let mut previous: Option<(&str, Option<Span>)> = None;
            let mut repeats = 0usize;
            for f in &frames {
                if previous == Some((f.message.as_str(), f.span)) {
                    repeats += 1;
                    continue;
                }
                if repeats > 0 {
                    let _ = write!(out, "\n\n       ({repeats} duplicate frames omitted)");
                    repeats = 0;
                }
                let _ = write!(out, "\n       … {}", f.message);
                if let Some(span) = f.span {
                    out.push('\n');
                    out.push_str(&position_block(span, "         ", "            "));
                }
                out.push('\n');
                previous = Some((f.message.as_str(), f.span));
            }
            if repeats > 0 {
                let _ = write!(out, "\n       ({repeats} duplicate frames omitted)\n");
            }
            let _ = write!(out, "\n       error: {}", indent_message(&d.message));
        }
        if let Some(span) = d.span {
            out.push('\n');
            out.push_str(&position_block(span, "       ", "            "));
        }
        if let Some(hint) = &d.hint {
            let _ = write!(out, "\n       {hint}");
        }
        for (label, span) in &d.related {
            let _ = write!(out, "\n\n       … {label}\n{}", position_block(*span, "         ", "            "));
        }
        out
    }
}

fn indent_message(m: &str) -> String {
    m.replace('\n', "\n       ")
}

/// `at file:line:col:` followed by a source snippet, as Nix prints positions.
pub fn position_block(span: Span, indent: &str, pad: &str) -> String {
    let info = span.file.info();
    let (line, col) = info.line_col(span.start);
    let mut out = format!("{indent}at {}:{line}:{col}:", info.origin.display());
    let total_lines = info.text.matches('\n').count() as u32 + 1;
    let width = (line + 1).min(total_lines).to_string().len();
    let show = |out: &mut String, n: u32| {
        let text = info.line_text(n);
        let sep = if text.is_empty() { "" } else { " " };
        let _ = write!(out, "\n{pad}{n:>width$}|{sep}{text}");
    };
    if line > 1 {
        show(&mut out, line - 1);
    }
    show(&mut out, line);
    let _ = write!(out, "\n{pad}{}| {}^", " ".repeat(width), " ".repeat(col.saturating_sub(1) as usize));
    if line < total_lines {
        show(&mut out, line + 1);
    }
    out
}

/// Removes ANSI escape sequences (as Nix does when stderr is not a terminal).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // CSI: parameters and intermediates, then one final byte in @..~
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
            continue;
        }
        out.push(c);
    }
    out
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for EvalError {}

//! What the checker learns from each `evalModules` call: which evaluation
//! (class, special arguments, result) and which arguments each module
//! function asks for, so that an argument nothing provides is found even
//! when no option that uses it is ever evaluated.

use dendrite_eval::Evaluator;
use dendrite_eval::value::{Attrs, Value};
use dendrite_syntax::{Span, Symbol};
use std::rc::Rc;

/// Installed with [`Evaluator::set_extension`] to record evaluations.
#[derive(Default)]
pub struct Recorder {
    /// Every `evalModules` call, in call order.
    pub evals: Vec<EvalRecord>,
}

/// One `evalModules` call.
pub struct EvalRecord {
    /// The `class` argument (unforced).
    pub class: Value,
    /// `specialArgs`.
    pub special_args: Rc<Attrs>,
    /// The result (`{ config; options; ... }`).
    pub result: Value,
    /// Where `evalModules` was called.
    pub span: Span,
    /// Module functions' arguments, as modules are collected.
    pub requests: Vec<ArgRequest>,
    /// More of them: what collecting a module tree recorded, shared by
    /// every evaluation that collects the same tree.
    pub shared_requests: Vec<Rc<[ArgRequest]>>,
    /// Why modules were left out (unknown, or not readable): the distinct
    /// messages, a few at most. See [`EvalRecord::incomplete`].
    pub left_out: Vec<String>,
    /// Errors the evaluation went on after (definitions of options that
    /// do not exist), for the checker to report.
    pub errors: Vec<dendrite_eval::EvalError>,
}

impl EvalRecord {
    /// Whether some module was left out (then what the evaluation provides
    /// is not fully known).
    pub fn incomplete(&self) -> bool {
        !self.left_out.is_empty()
    }
}

/// An argument a module function asks for.
#[derive(Clone)]
pub struct ArgRequest {
    /// The module's key (its file, or `file:anon-N`).
    pub key: String,
    /// The argument.
    pub name: Symbol,
    /// Where the formal is written, when the function is a Nix lambda.
    pub span: Option<Span>,
    /// Whether the formal has a default (then it need not be provided).
    pub has_default: bool,
}

/// Starts a record if a recorder is installed; returns its index.
pub(crate) fn begin(ev: &mut Evaluator, class: Value, special_args: Rc<Attrs>, span: Span) -> Option<usize> {
    let r = ev.extension_mut::<Recorder>()?;
    r.evals.push(EvalRecord {
        class,
        special_args,
        result: Value::Null,
        span,
        requests: Vec::new(),
        shared_requests: Vec::new(),
        left_out: Vec::new(),
        errors: Vec::new(),
    });
    Some(r.evals.len() - 1)
}

/// Stores the result of a recorded evaluation.
pub(crate) fn finish(ev: &mut Evaluator, id: Option<usize>, result: &Value) {
    if let (Some(id), Some(r)) = (id, ev.extension_mut::<Recorder>()) {
        r.evals[id].result = result.clone();
    }
}

/// Records the formals of a module function.
pub(crate) fn requests(ev: &mut Evaluator, id: Option<usize>, key: &str, f: &Value, formals: &Attrs) {
    let Some(id) = id else { return };
    let spans: Vec<(Symbol, Span, bool)> = match f {
        Value::Lambda(c) => match &c.lambda.param {
            dendrite_syntax::ir::Param::Formals { formals, .. } => {
                formals.iter().map(|f| (f.name, f.span, f.default.is_some())).collect()
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let mut out = Vec::with_capacity(formals.len());
    for x in formals.iter() {
        let has_default = matches!(x.value, Value::Bool(true));
        let span = spans.iter().find(|(n, _, _)| *n == x.name).map(|(_, s, _)| *s);
        out.push(ArgRequest { key: key.to_string(), name: x.name, span, has_default });
    }
    if let Some(r) = ev.extension_mut::<Recorder>() {
        r.evals[id].requests.extend(out);
    }
}

/// Marks a recorded evaluation incomplete: a module was left out for `why`.
pub(crate) fn incomplete(ev: &mut Evaluator, id: Option<usize>, why: &dendrite_eval::EvalError) {
    if let (Some(id), Some(r)) = (id, ev.extension_mut::<Recorder>()) {
        let e = &mut r.evals[id];
        let message = why.message();
        if e.left_out.len() < 8 && !e.left_out.iter().any(|m| m == message) {
            e.left_out.push(message.to_string());
        }
    }
}

/// Records an error the evaluation went on after.
pub(crate) fn error(ev: &mut Evaluator, id: Option<usize>, e: dendrite_eval::EvalError) {
    if let (Some(id), Some(r)) = (id, ev.extension_mut::<Recorder>()) {
        r.evals[id].errors.push(e);
    }
}

/// Whether a recorded evaluation left unknown modules out.
pub(crate) fn is_incomplete(ev: &mut Evaluator, id: Option<usize>) -> bool {
    match (id, ev.extension_mut::<Recorder>()) {
        (Some(id), Some(r)) => r.evals[id].incomplete(),
        _ => false,
    }
}

/// Where a recorded evaluation is (`None` without a record): see
/// [`requests_since`].
#[derive(Clone, Copy)]
pub(crate) struct Mark {
    requests: usize,
    shared: usize,
    errors: usize,
    incomplete: bool,
}

/// Where a recorded evaluation is now.
pub(crate) fn mark(ev: &mut Evaluator, id: Option<usize>) -> Option<Mark> {
    let id = id?;
    let r = ev.extension_mut::<Recorder>()?;
    let e = &r.evals[id];
    Some(Mark {
        requests: e.requests.len(),
        shared: e.shared_requests.len(),
        errors: e.errors.len(),
        incomplete: e.incomplete(),
    })
}

/// Argument requests recorded by collecting a module tree, as the chunks
/// they were recorded in: a tree's chunks are its own requests and the
/// chunks of the trees it reused, shared rather than copied (a machine
/// importing three bundles of a thousand modules refers to their three
/// chunks).
pub type Requests = Rc<[Rc<[ArgRequest]>]>;

/// The requests recorded since `mark`, if nothing else was (no error, not
/// made incomplete): what collecting something recorded, for another
/// evaluation that collects the same to record too.
pub(crate) fn requests_since(ev: &mut Evaluator, id: Option<usize>, mark: Option<Mark>) -> Option<Requests> {
    let (Some(id), Some(m)) = (id, mark) else { return Some(Rc::from(Vec::new())) };
    let r = ev.extension_mut::<Recorder>()?;
    let e = &r.evals[id];
    if e.errors.len() != m.errors || e.incomplete() != m.incomplete {
        return None;
    }
    let own = &e.requests[m.requests..];
    let shared = &e.shared_requests[m.shared..];
    let mut chunks = Vec::with_capacity(shared.len() + 1);
    if !own.is_empty() {
        chunks.push(Rc::from(own.to_vec()));
    }
    chunks.extend(shared.iter().cloned());
    Some(chunks.into())
}

/// Records requests another collection of the same modules recorded.
pub(crate) fn add_requests(ev: &mut Evaluator, id: Option<usize>, requests: &Requests) {
    if requests.is_empty() {
        return;
    }
    if let (Some(id), Some(r)) = (id, ev.extension_mut::<Recorder>()) {
        r.evals[id].shared_requests.extend(requests.iter().cloned());
    }
}

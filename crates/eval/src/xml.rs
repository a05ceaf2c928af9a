//! `builtins.toXML` and `--xml` output (to be implemented).

use dendrite_syntax::Span;

use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::value::{PrimOp, Value};

pub(crate) const OPS: &[PrimOp] = &[];

/// Renders a value as Nix's XML format.
pub fn to_xml(_ev: &mut Evaluator, _v: &Value, _locations: bool) -> EvalResult<String> {
    let _ = Span::new;
    Err(EvalError::new(
        ErrorKind::Unsupported,
        "XML output is not implemented yet",
    ))
}

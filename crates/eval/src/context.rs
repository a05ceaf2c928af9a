//! Builtins of the `context` family (to be implemented).

use crate::value::PrimOp;

pub(crate) const OPS: &[PrimOp] = &[];

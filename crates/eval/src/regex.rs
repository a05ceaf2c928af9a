//! Builtins of the `regex` family (to be implemented).

use crate::value::PrimOp;

pub(crate) const OPS: &[PrimOp] = &[];

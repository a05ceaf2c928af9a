//! Builtins of the `derivation` family (to be implemented).

use crate::value::PrimOp;

pub(crate) const OPS: &[PrimOp] = &[];

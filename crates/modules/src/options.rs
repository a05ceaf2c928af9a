//! Native replacement of part of nixpkgs' lib (see the crate documentation).

use dendrite_eval::Evaluator;
use dendrite_eval::value::{Attr, Value};

/// The native exports of this part, given the final `lib`.
pub fn exports(_ev: &mut Evaluator, _lib: &Value) -> Vec<Attr> {
    Vec::new()
}

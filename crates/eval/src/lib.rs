//! dendrite's lazy Nix evaluator.
//!
//! Lowered expressions from `dendrite-syntax` are evaluated by a tree-walking
//! interpreter with Nix's semantics: memoised thunks with black-holing,
//! string context, store paths computed without a store, and the builtins
//! that the language test suite and nixpkgs `lib` use.

pub mod builtins;
pub mod context;
pub mod derivation;
pub mod error;
pub mod eval;
pub mod flakeref;
pub mod fs;
pub mod hash;
pub mod json;
pub mod native;
pub mod print;
pub mod regex;
pub mod settings;
pub mod store;
pub mod taint;
pub mod toml;
pub mod value;
pub mod world;
pub mod xml;

pub use error::{ErrorKind, EvalError, EvalResult};
pub use eval::{Evaluator, run_with_stack};
pub use settings::{EvalSettings, SearchPathEntry};
pub use value::Value;

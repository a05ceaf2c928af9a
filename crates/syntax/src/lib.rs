//! dendrite's Nix front end: parsing with rnix, lowering to an evaluable IR
//! with resolved scopes, and static diagnostics, all behind salsa queries.

pub mod captures;
pub mod db;
pub mod globals;
pub mod ir;
pub mod lower;
pub mod source;
pub mod span;
pub mod symbol;

pub use db::{Db, LoweredFile, Parsed, RootDatabase, SourceFile, file_diagnostics, lower_file, parse};
pub use globals::{GLOBALS, global_index};
pub use lower::{Diagnostic, DiagnosticKind, Lowered};
pub use span::{FileId, Origin, Position, SourceInfo, Span};
pub use symbol::Symbol;

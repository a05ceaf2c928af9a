//! Where the shared test corpus is: `$DENDRITE_CORPUS` when set, else the
//! first `shared/corpus` above the checkout (it sits beside the clone, at
//! `../shared/corpus`, but a clone placed deeper still finds it).
//!
//! Tests, conformance runners and benchmarks all read the corpus from
//! there and must say clearly when it is missing, so they share this one
//! lookup (and a helper to copy fixtures into temporary directories).

use std::path::{Path, PathBuf};

/// The corpus directory, or the path where it was expected when missing.
pub fn locate() -> Result<PathBuf, PathBuf> {
    let dir = match std::env::var_os("DENDRITE_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => {
            let here = Path::new(env!("CARGO_MANIFEST_DIR"));
            match here.ancestors().map(|a| a.join("shared/corpus")).find(|c| c.is_dir()) {
                Some(found) => found,
                // crates/corpus -> the workspace root -> ../shared/corpus
                None => here.join("../../../shared/corpus"),
            }
        }
    };
    if dir.is_dir() { Ok(dir) } else { Err(dir) }
}

/// `sub` inside the corpus, or `None` after printing a line that says the
/// test is skipped and why; for tests that need one part of the corpus.
pub fn dir_or_skip(sub: &str) -> Option<PathBuf> {
    let wanted = match locate() {
        Ok(corpus) => corpus.join(sub),
        Err(missing) => missing.join(sub),
    };
    if wanted.is_dir() {
        Some(wanted)
    } else {
        eprintln!("SKIPPED: the shared corpus is missing ({} not found; set DENDRITE_CORPUS)", wanted.display());
        None
    }
}

/// Copies a directory tree (a fixture into a temporary directory that a
/// test then edits).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    let entries = std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    for e in entries {
        let e = e.unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        let target = to.join(e.file_name());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
        }
    }
}

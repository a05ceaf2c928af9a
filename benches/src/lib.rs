//! Shared inputs for dendrite's benchmarks.

use std::path::PathBuf;

/// The shared corpus directory (`$DENDRITE_CORPUS` or `../shared/corpus`).
pub fn corpus() -> Option<PathBuf> {
    dendrite_corpus::locate().ok()
}

/// The issue-2 benchmark expression over nixpkgs `lib` at `lib_dir`.
pub fn lib_expression(lib_dir: &std::path::Path) -> String {
    format!(
        "let lib = import {}; in builtins.length (lib.concatMap (i: lib.mapAttrsToList (n: v: n + toString v) (lib.genAttrs (map toString (lib.range 1 500)) (x: i))) (lib.range 1 500))",
        lib_dir.display()
    )
}

//! Shared inputs for dendrite's benchmarks.

use std::path::PathBuf;

/// The shared corpus directory (`$DENDRITE_CORPUS` or `../shared/corpus`).
pub fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("DENDRITE_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    };
    dir.is_dir().then_some(dir)
}

/// The issue-2 benchmark expression over nixpkgs `lib` at `lib_dir`.
pub fn lib_expression(lib_dir: &std::path::Path) -> String {
    format!(
        "let lib = import {}; in builtins.length (lib.concatMap (i: lib.mapAttrsToList (n: v: n + toString v) (lib.genAttrs (map toString (lib.range 1 500)) (x: i))) (lib.range 1 500))",
        lib_dir.display()
    )
}

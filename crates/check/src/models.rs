//! Where the bundled Nix models live at run time.
//!
//! `DENDRITE_MODELS=DIR` wins; a build run from the source tree uses the
//! repository's `modules/` (so edits apply without rebuilding); an installed
//! binary writes its embedded copy once to the cache directory.

use std::path::PathBuf;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/models.rs"));
}

/// The directory holding the models (`lib/`, `flake-parts/`, `dendrite/` ...).
pub fn dir() -> Result<PathBuf, String> {
    if let Ok(d) = std::env::var("DENDRITE_MODELS") {
        return Ok(PathBuf::from(d));
    }
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../modules");
    if source.join("dendrite/inputs.nix").is_file() {
        return source.canonicalize().map_err(|e| format!("{}: {e}", source.display()));
    }
    extract()
}

fn extract() -> Result<PathBuf, String> {
    let mut hash: u64 = 0xcbf29ce484222325;
    for (name, text) in embedded::FILES {
        for b in name.bytes().chain(text.bytes()) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join("dendrite").join(format!("models-{}-{hash:016x}", env!("CARGO_PKG_VERSION")));
    if dir.join("dendrite/inputs.nix").is_file() {
        return Ok(dir);
    }
    let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
    for (name, text) in embedded::FILES {
        let p = tmp.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    // Another process may have won the race; either copy is the same.
    if std::fs::rename(&tmp, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(dir)
}

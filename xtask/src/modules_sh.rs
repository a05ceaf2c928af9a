//! `cargo xtask modules-sh`: nixpkgs' own module-system test suite
//! (`lib/tests/modules.sh`, 407 checks) with dendrite as `nix-instantiate`.
//!
//! The corpus copy of nixpkgs `lib` is copied to a scratch directory (the
//! script writes nothing, but it must not run inside the read-only corpus),
//! a `nix-instantiate` link to dendrite is put first on `PATH`, and the
//! script runs once per module-system mode (`DENDRITE_NATIVE_MODULES=0`:
//! nixpkgs' `lib/modules.nix` interpreted as Nix code; `=1`: native).
//! Pass counts are compared with the recorded baseline; every failure must
//! be listed, with its reason, in the known-failures file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util;

fn copy_dir(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let to = dst.join(e.file_name());
        let ft = e.file_type()?;
        if ft.is_dir() {
            copy_dir(&e.path(), &to)?;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(e.path())?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(target, &to)?;
        } else {
            std::fs::copy(e.path(), &to)?;
            let mut perm = std::fs::metadata(&to)?.permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&to, perm)?;
        }
    }
    Ok(())
}

/// Result of one run of modules.sh.
pub struct Run {
    /// Checks passed.
    pub pass: usize,
    /// Checks failed.
    pub fail: usize,
    /// Lines of modules.sh whose check failed.
    pub failed_lines: Vec<usize>,
    /// Wall time.
    pub wall: Duration,
}

/// Runs modules.sh with the `nix-instantiate` found in `bin_dir` (or the
/// system's, when `None`).
pub fn run_script(bin_dir: Option<&Path>, native: &str) -> Result<Run, String> {
    let corpus = util::corpus()?;
    let work = util::target_dir().join(format!("modules-sh-{native}"));
    let _ = std::fs::remove_dir_all(&work);
    copy_dir(&corpus.join("nixpkgs-lib/lib"), &work.join("lib")).map_err(|e| format!("copying lib: {e}"))?;
    let mut path_env = std::env::var("PATH").unwrap_or_default();
    if let Some(d) = bin_dir {
        path_env = format!("{}:{path_env}", d.display());
    }
    let mut cmd = Command::new("bash");
    cmd.arg(work.join("lib/tests/modules.sh"))
        .env("PATH", path_env)
        .env("DENDRITE_NATIVE_MODULES", native)
        .env("NIX_STATE_DIR", work.join("nix-state"))
        .env_remove("NIX_PATH");
    let started = Instant::now();
    let o = util::run_limited(cmd, None, Duration::from_secs(25 * 60));
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let count = |label: &str| -> Option<usize> {
        stdout.lines().rev().find_map(|l| l.strip_suffix(label).and_then(|n| n.trim().parse().ok()))
    };
    let (Some(pass), Some(fail)) = (count(" Pass"), count(" Fail")) else {
        let tail: Vec<&str> = stdout.lines().rev().take(20).collect();
        return Err(format!(
            "modules.sh did not report its counts ({}); last output:\n{}\nstderr:\n{}",
            if o.timed_out { "timed out" } else { "exited early" },
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            String::from_utf8_lossy(&o.stderr).lines().rev().take(10).collect::<Vec<_>>().join("\n")
        ));
    };
    let failed_lines = stdout
        .lines()
        .filter_map(|l| l.split("TEST FAILED\u{1b}[0m at ").nth(1))
        .filter_map(|rest| rest.rsplit(':').next().and_then(|n| n.trim().parse().ok()))
        .collect();
    Ok(Run { pass, fail, failed_lines, wall })
}

fn baseline_path() -> PathBuf {
    util::root().join("tests/conformance/modules-sh.baseline")
}

fn known_failures_path(native: &str) -> PathBuf {
    util::root().join(format!("tests/conformance/modules-sh-native{native}.known-failures"))
}

/// Runs modules.sh in the given modes and checks the results.
pub fn run(modes: &[&str], update: bool, compare_nix: bool, verbose: bool) -> Result<(), String> {
    let bin = util::dendrite_binary()?;
    let bin_dir = util::nix_instantiate_dir(&bin)?;
    let script = util::corpus()?.join("nixpkgs-lib/lib/tests/modules.sh");
    let script_text = std::fs::read_to_string(&script).unwrap_or_default();
    let script_lines: Vec<&str> = script_text.lines().collect();
    let mut baseline: BTreeMap<String, usize> =
        util::read_pairs(&baseline_path()).into_iter().filter_map(|(k, v)| v.parse().ok().map(|v| (k, v))).collect();
    let mut problems = Vec::new();
    for &mode in modes {
        let r = run_script(Some(&bin_dir), mode)?;
        println!(
            "modules.sh with dendrite (DENDRITE_NATIVE_MODULES={mode}): {} pass, {} fail, {:.1} s wall",
            r.pass,
            r.fail,
            r.wall.as_secs_f64()
        );
        let known: BTreeMap<usize, String> = util::read_pairs(&known_failures_path(mode))
            .into_iter()
            .filter_map(|(k, v)| k.parse().ok().map(|k| (k, v)))
            .collect();
        for line in &r.failed_lines {
            let text = script_lines.get(line.saturating_sub(1)).copied().unwrap_or("").trim();
            let listed = known.contains_key(line);
            if verbose || !listed {
                println!("  {}modules.sh:{line}: {text}", if listed { "" } else { "unlisted failure " });
            }
            if !listed {
                problems.push(format!("mode {mode}: unlisted failure at modules.sh:{line}"));
            }
        }
        for line in known.keys() {
            if !r.failed_lines.contains(line) {
                println!("  listed as a known failure but passing: modules.sh:{line}");
                problems.push(format!("mode {mode}: stale known failure modules.sh:{line}"));
            }
        }
        let key = format!("native-{mode}");
        if update {
            baseline.insert(key, r.pass);
        } else if let Some(&b) = baseline.get(&key)
            && r.pass < b
        {
            problems.push(format!("mode {mode}: {} passes < baseline {b}", r.pass));
        }
    }
    if compare_nix {
        match run_script(None, "0") {
            Ok(r) => println!(
                "modules.sh with the system nix-instantiate: {} pass, {} fail, {:.1} s wall",
                r.pass,
                r.fail,
                r.wall.as_secs_f64()
            ),
            Err(e) => println!("modules.sh with the system nix-instantiate could not run: {e}"),
        }
    }
    if update {
        let mut text = String::from("# Passing counts of `cargo xtask modules-sh`; CI fails if a count drops.\n");
        for (k, v) in &baseline {
            text.push_str(&format!("{k} {v}\n"));
        }
        std::fs::write(baseline_path(), text).map_err(|e| e.to_string())?;
        println!("baseline updated: {}", baseline_path().display());
        return Ok(());
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

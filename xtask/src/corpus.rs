//! `cargo xtask corpus-smoke`: every `.nix` file of the shared corpus is
//! parsed, and evaluated (to weak head normal form, and the language suite's
//! tests deeply) with a 10 s limit. Any panic, crash (signal) or hang fails
//! the run; ordinary evaluation errors (exit 1) are expected for files that
//! are functions of missing inputs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util;

fn nix_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            nix_files(&p, out);
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "nix") {
            out.push(p);
        }
    }
}

/// Runs the smoke test.
pub fn run(verbose: bool) -> Result<(), String> {
    let corpus = util::corpus()?;
    let bin = util::dendrite_binary()?;
    let mut files = Vec::new();
    nix_files(&corpus, &mut files);
    let limit = Duration::from_secs(10);
    let started = Instant::now();
    let mut problems = Vec::new();
    let mut evaluated_ok = 0;
    let mut eval_errors = 0;
    for f in &files {
        let strict = f.components().any(|c| c.as_os_str() == "nix-lang");
        let mut runs: Vec<Vec<String>> = vec![vec!["eval".into(), "--parse".into(), f.display().to_string()]];
        let mut ev = vec!["eval".into(), f.display().to_string()];
        if strict {
            ev.insert(1, "--strict".into());
        }
        runs.push(ev);
        for (i, args) in runs.iter().enumerate() {
            let mut cmd = Command::new(&bin);
            cmd.args(args).current_dir(f.parent().unwrap_or(Path::new("/")));
            cmd.env("TEST_VAR", "foo").env("HOME", "/fake-home");
            let o = util::run_limited(cmd, None, limit);
            let bad = if o.timed_out {
                Some("hung (killed after 10 s)".to_string())
            } else if let Some(sig) = o.signal {
                Some(format!("crashed with signal {sig}"))
            } else if o.code == Some(101) {
                let msg = String::from_utf8_lossy(&o.stderr);
                Some(format!("panicked: {}", msg.lines().find(|l| l.contains("panicked")).unwrap_or("")))
            } else if !matches!(o.code, Some(0) | Some(1)) {
                Some(format!("unexpected exit code {:?}", o.code))
            } else {
                None
            };
            if i == 1 {
                if o.code == Some(0) {
                    evaluated_ok += 1;
                } else {
                    eval_errors += 1;
                }
            }
            if let Some(why) = bad {
                problems.push(format!("{} ({}): {why}", f.display(), args.join(" ")));
            }
        }
        if verbose {
            println!("{}", f.display());
        }
    }
    println!(
        "corpus smoke test: {} files, {} evaluated, {} ended in an evaluation error, {} problems ({:.1} s)",
        files.len(),
        evaluated_ok,
        eval_errors,
        problems.len(),
        started.elapsed().as_secs_f64()
    );
    if problems.is_empty() {
        Ok(())
    } else {
        for p in &problems {
            println!("  {p}");
        }
        Err(format!("{} files made dendrite panic, crash or hang", problems.len()))
    }
}

//! The Nix language test suite runner (`cargo xtask lang-suite`).
//!
//! Mirrors upstream `tests/functional/lang.sh`: the suite directory is
//! reachable as `lang/` from the working directory, `.flags` files give
//! extra flags, `NIX_PATH=lang/dir3:lang/dir4`, `HOME=/fake-home`,
//! `TEST_VAR=foo`, and the working directory is replaced by `/pwd` in
//! outputs before comparing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::util::{self, Outcome};

const CATEGORIES: &[&str] = &["parse-fail", "parse-okay", "eval-fail", "eval-okay"];

struct Results {
    /// category -> (passed, total)
    counts: BTreeMap<&'static str, (usize, usize)>,
    /// Tests that failed, with what went wrong.
    failures: Vec<(String, String)>,
    /// eval-fail tests whose message matched `.err.exp` exactly.
    messages_matched: usize,
}

fn baseline_path() -> std::path::PathBuf {
    util::root().join("tests/conformance/lang-suite.baseline")
}

fn known_failures_path() -> std::path::PathBuf {
    util::root().join("tests/conformance/lang-suite.known-failures")
}

fn test_names(dir: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix) && n.ends_with(".nix"))
                .map(|n| n.trim_end_matches(".nix").to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn read_flags(path: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut flags = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        flags.extend(line.split_whitespace().map(str::to_string));
    }
    Some(flags)
}

fn describe(o: &Outcome) -> String {
    if o.timed_out {
        "timed out".to_string()
    } else if let Some(sig) = o.signal {
        format!("killed by signal {sig}")
    } else {
        match o.code {
            Some(101) => "panicked".to_string(),
            Some(c) => format!("exit {c}"),
            None => "did not run".to_string(),
        }
    }
}

fn run_suite(verbose: bool, only: Option<&str>) -> Result<Results, String> {
    let corpus = util::corpus()?;
    let lang_src = corpus.join("nix-lang");
    let bin = util::dendrite_binary()?;
    let bin_dir = util::nix_instantiate_dir(&bin)?;
    let work = util::target_dir().join("lang-suite");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(&lang_src, work.join("lang")).map_err(|e| e.to_string())?;
    let lang = work.join("lang");
    let pwd = work.to_string_lossy().into_owned();
    let nix_instantiate = bin_dir.join("nix-instantiate");
    let path_env = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let limit = Duration::from_secs(10);

    let command = |args: &[String], extra_env: &[(&str, &str)]| {
        let mut c = Command::new(&nix_instantiate);
        c.args(args).current_dir(&work);
        c.env("PATH", &path_env)
            .env("TEST_VAR", "foo")
            .env("NIX_REMOTE", "dummy://")
            .env("NIX_STORE_DIR", "/nix/store")
            .env_remove("NIX_PATH");
        for (k, v) in extra_env {
            c.env(k, v);
        }
        c
    };
    let clean = |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&pwd, "/pwd");

    let mut res = Results { counts: BTreeMap::new(), failures: Vec::new(), messages_matched: 0 };
    for &cat in CATEGORIES {
        let names = test_names(&lang, &format!("{cat}-"));
        let mut passed = 0;
        let mut total = 0;
        for name in names {
            if only.is_some_and(|o| !name.contains(o)) {
                continue;
            }
            let nix = lang.join(format!("{name}.nix"));
            let (ok, why) = match cat {
                "parse-fail" | "parse-okay" => {
                    total += 1;
                    let o = util::run_limited(command(&["--parse".into(), "-".into()], &[]), Some(&nix), limit);
                    let want = if cat == "parse-fail" { 1 } else { 0 };
                    if o.code == Some(want) && o.signal.is_none() {
                        (true, String::new())
                    } else {
                        (false, describe(&o))
                    }
                }
                "eval-fail" => {
                    total += 1;
                    let flags = read_flags(&lang.join(format!("{name}.flags")))
                        .unwrap_or_else(|| vec!["--eval".into(), "--strict".into(), "--show-trace".into()]);
                    let mut args = flags;
                    args.push(format!("lang/{name}.nix"));
                    let o = util::run_limited(command(&args, &[]), None, limit);
                    if o.code == Some(1) && o.signal.is_none() {
                        let expected =
                            std::fs::read_to_string(lang.join(format!("{name}.err.exp"))).unwrap_or_default();
                        if clean(&o.stderr).trim_end() == expected.trim_end() {
                            res.messages_matched += 1;
                        }
                        (true, String::new())
                    } else {
                        (false, describe(&o))
                    }
                }
                _ => {
                    if lang.join(format!("{name}.exp-disabled")).exists() {
                        continue;
                    }
                    let xml = lang.join(format!("{name}.exp.xml"));
                    let exp = lang.join(format!("{name}.exp"));
                    if !xml.exists() && !exp.exists() {
                        continue;
                    }
                    total += 1;
                    let (args, expected_file) = if xml.exists() {
                        (
                            vec![
                                "--eval".into(),
                                "--xml".into(),
                                "--no-location".into(),
                                "--strict".into(),
                                format!("lang/{name}.nix"),
                            ],
                            xml,
                        )
                    } else {
                        let mut a = read_flags(&lang.join(format!("{name}.flags"))).unwrap_or_default();
                        a.extend(["--eval".into(), "--strict".into(), format!("lang/{name}.nix")]);
                        (a, exp)
                    };
                    let o = util::run_limited(
                        command(&args, &[("NIX_PATH", "lang/dir3:lang/dir4"), ("HOME", "/fake-home")]),
                        None,
                        limit,
                    );
                    let expected = std::fs::read_to_string(&expected_file).unwrap_or_default();
                    if o.code != Some(0) || o.signal.is_some() {
                        let first = clean(&o.stderr).lines().next().unwrap_or("").to_string();
                        (false, format!("{}: {first}", describe(&o)))
                    } else if clean(&o.stdout) == expected {
                        (true, String::new())
                    } else {
                        (false, "output differs from .exp".to_string())
                    }
                }
            };
            if ok {
                passed += 1;
            } else {
                res.failures.push((name.clone(), why.clone()));
            }
            if verbose {
                println!(
                    "{} {name}{}",
                    if ok { "PASS" } else { "FAIL" },
                    if ok { String::new() } else { format!(" ({why})") }
                );
            }
        }
        res.counts.insert(cat, (passed, total));
    }
    Ok(res)
}

/// Runs the suite, prints the counts, and checks them against the baseline.
pub fn run(verbose: bool, update: bool, only: Option<&str>) -> Result<(), String> {
    let res = run_suite(verbose || only.is_some(), only)?;
    if only.is_some() {
        for (cat, (p, t)) in &res.counts {
            println!("  {cat:<11} {p:>4} / {t:<4}");
        }
        return Ok(());
    }
    println!("Nix language test suite (../shared/corpus/nix-lang):");
    for (cat, (p, t)) in &res.counts {
        println!("  {cat:<11} {p:>4} / {t:<4}");
    }
    println!("  eval-fail tests whose message matches .err.exp exactly: {}", res.messages_matched);

    let known: BTreeMap<String, String> = util::read_pairs(&known_failures_path()).into_iter().collect();
    let unlisted: Vec<&(String, String)> = res.failures.iter().filter(|(n, _)| !known.contains_key(n)).collect();
    let fixed: Vec<&String> = known.keys().filter(|k| !res.failures.iter().any(|(n, _)| n == *k)).collect();
    if !unlisted.is_empty() {
        println!("failures not listed in {}:", known_failures_path().display());
        for (n, why) in &unlisted {
            println!("  {n}: {why}");
        }
    }
    if !fixed.is_empty() {
        println!("listed as known failures but now passing (remove them from the list):");
        for n in &fixed {
            println!("  {n}");
        }
    }

    let baseline: BTreeMap<String, usize> =
        util::read_pairs(&baseline_path()).into_iter().filter_map(|(k, v)| v.parse().ok().map(|v| (k, v))).collect();
    if update {
        let mut text = String::from("# Passing counts of `cargo xtask lang-suite`; CI fails if a count drops.\n");
        for (cat, (p, _)) in &res.counts {
            text.push_str(&format!("{cat} {p}\n"));
        }
        std::fs::create_dir_all(baseline_path().parent().expect("has parent")).map_err(|e| e.to_string())?;
        std::fs::write(baseline_path(), text).map_err(|e| e.to_string())?;
        println!("baseline updated: {}", baseline_path().display());
        return Ok(());
    }
    let mut dropped = Vec::new();
    for (cat, (p, _)) in &res.counts {
        if let Some(&b) = baseline.get(*cat)
            && *p < b
        {
            dropped.push(format!("{cat}: {p} < baseline {b}"));
        }
    }
    if !dropped.is_empty() {
        return Err(format!("conformance dropped below the recorded baseline: {}", dropped.join(", ")));
    }
    if !unlisted.is_empty() || !fixed.is_empty() {
        return Err("the known-failures list does not match the measured failures".to_string());
    }
    Ok(())
}

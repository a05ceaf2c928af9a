//! Bad input never stops the check: a file that does not parse, an import
//! of a missing file, an infinite recursion and a `throw` in a machine are
//! each reported at their place, and a mistake elsewhere in the same flake
//! is still found.

use std::path::{Path, PathBuf};

use dendrite_check::{CheckOptions, Report, check};

fn fleet() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/fleet")
}

use dendrite_corpus::copy_tree as copy_dir;

/// The fleet with `files` added and a typo (`caks` for `casks`) in stibnite.
fn mutated(files: &[(&str, &str)]) -> (tempfile::TempDir, Report) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fleet(), dir.path());
    let stibnite = dir.path().join("modules/machines/darwin/stibnite.nix");
    let text = std::fs::read_to_string(&stibnite).unwrap();
    assert!(text.contains("      casks\n"), "the fixture changed: stibnite no longer imports `casks`");
    std::fs::write(&stibnite, text.replacen("      casks\n", "      caks\n", 1)).unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let report = check(CheckOptions { dir: dir.path().to_path_buf(), ..Default::default() }).expect("the check runs");
    (dir, report)
}

fn has(report: &Report, code: &str, file: &str, line: u32) -> bool {
    report.diagnostics.iter().any(|d| {
        d.code == code
            && d.location.as_ref().is_some_and(|l| {
                l.path.strip_prefix(&report.root).is_ok_and(|p| p == Path::new(file)) && l.line == line
            })
    })
}

fn assert_found(report: &Report, code: &str, file: &str, line: u32) {
    let all: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| {
            let at = d.location.as_ref().map(|l| format!("{}:{}", l.path.display(), l.line)).unwrap_or_default();
            format!("{} {} {}", d.code, at, d.message)
        })
        .collect();
    assert!(has(report, code, file, line), "expected {code} at {file}:{line}; got:\n{}", all.join("\n"));
}

/// The typo in stibnite is still reported.
fn assert_rest_ran(report: &Report) {
    assert_found(report, "D101", "modules/machines/darwin/stibnite.nix", 10);
    assert_eq!(report.exit_code(), 1);
}

#[test]
fn syntax_error_in_one_file() {
    let (_d, r) = mutated(&[("modules/broken.nix", "{ ... }: {\n  flake.modules.nixos.server = { a = 1;\n}\n")]);
    assert_found(&r, "D001", "modules/broken.nix", 4);
    assert_rest_ran(&r);
}

#[test]
fn missing_file() {
    let (_d, r) = mutated(&[("modules/missing.nix", "{ ... }: {\n  imports = [ ./does-not-exist.nix ];\n}\n")]);
    assert_found(&r, "D002", "modules/missing.nix", 2);
    assert_rest_ran(&r);
}

#[test]
fn infinite_recursion() {
    let (_d, r) = mutated(&[(
        "modules/loop.nix",
        "{ ... }: {\n  flake.modules.nixos.server = { config, ... }: {\n    networking.domain = config.networking.domain;\n  };\n}\n",
    )]);
    assert_found(&r, "D002", "modules/loop.nix", 3);
    assert_rest_ran(&r);
}

#[test]
fn throw_in_a_machine() {
    let (_d, r) = mutated(&[(
        "modules/boom.nix",
        "{ ... }: {\n  flake.modules.nixos.server = {\n    services.thing.value = throw \"boom\";\n  };\n}\n",
    )]);
    assert_found(&r, "D002", "modules/boom.nix", 3);
    assert_rest_ran(&r);
}

#[test]
fn not_a_flake_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let e = check(CheckOptions { dir: dir.path().to_path_buf(), ..Default::default() });
    assert!(e.is_err_and(|m| m.contains("no flake.nix")));
}

#[test]
fn inline_suppression_silences_one_finding() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fleet(), dir.path());
    let stibnite = dir.path().join("modules/machines/darwin/stibnite.nix");
    let text = std::fs::read_to_string(&stibnite).unwrap();
    let text = text.replacen("      casks\n", "      # dendrite: allow(unknown-namespace-key)\n      caks\n", 1);
    std::fs::write(&stibnite, text).unwrap();
    let r = check(CheckOptions { dir: dir.path().to_path_buf(), ..Default::default() }).unwrap();
    assert!(!r.diagnostics.iter().any(|d| d.code == "D101"), "suppressed by the comment above");
    // The same comment naming another rule does not silence it.
    let text = std::fs::read_to_string(&stibnite).unwrap().replace("allow(unknown-namespace-key)", "allow(D701)");
    std::fs::write(&stibnite, text).unwrap();
    let r = check(CheckOptions { dir: dir.path().to_path_buf(), ..Default::default() }).unwrap();
    assert!(has(&r, "D101", "modules/machines/darwin/stibnite.nix", 11));
}

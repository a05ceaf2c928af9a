//! A warm [`Session`] gives the same findings as a cold check after every
//! edit, while re-evaluating only the machines an edit can affect.
//!
//! One test function: the session forks workers, which is only safe while
//! no other test thread of this process allocates.

use std::path::{Path, PathBuf};

use dendrite_check::{CheckOptions, Report, Session, check};

fn fleet() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/fleet")
}

/// Each finding as one comparable line.
fn lines(r: &Report) -> Vec<String> {
    r.diagnostics
        .iter()
        .map(|d| {
            let at = d
                .location
                .as_ref()
                .map(|l| {
                    format!("{}:{}:{}", l.path.strip_prefix(&r.root).unwrap_or(&l.path).display(), l.line, l.column)
                })
                .unwrap_or_default();
            format!("{} {} {} [{}]", d.code, at, d.message, d.contexts.join(", "))
        })
        .collect()
}

/// The text of `file` with `from` replaced by `to` (which must be there).
fn edit(root: &Path, file: &str, from: &str, to: &str) -> (PathBuf, String) {
    edits(root, file, &[(from, to)])
}

/// The text of `file` with each replacement made once.
fn edits(root: &Path, file: &str, replace: &[(&str, &str)]) -> (PathBuf, String) {
    let path = root.join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in replace {
        assert!(text.contains(from), "the fixture changed: {file} no longer contains {from:?}");
        text = text.replacen(from, to, 1);
    }
    (path, text)
}

/// What an edit does, the editor buffers, whether some machine must be reused.
type Step = (&'static str, Vec<(PathBuf, String)>, bool);

#[test]
fn warm_checks_match_cold_checks() {
    let dir = tempfile::tempdir().unwrap();
    dendrite_corpus::copy_tree(&fleet(), dir.path());
    let root = dir.path().canonicalize().unwrap();
    // A module imported by path from one machine only (import-tree skips it).
    let hardware = "modules/machines/darwin/_hardware.nix";
    std::fs::write(root.join(hardware), "{ system.primaryUser = \"crs58\"; }\n").unwrap();
    let (path, text) =
        edit(&root, "modules/machines/darwin/stibnite.nix", "      casks\n", "      casks\n      ./_hardware.nix\n");
    std::fs::write(path, text).unwrap();
    let opts = CheckOptions { dir: root.clone(), jobs: Some(2), ..Default::default() };
    let terminals = "modules/casks/terminals.nix";
    let stibnite = "modules/machines/darwin/stibnite.nix";
    let steps: Vec<Step> = vec![
        ("nothing", vec![], false),
        ("a namespace typo in a machine", vec![edit(&root, stibnite, "      casks\n", "      caks\n")], false),
        ("back", vec![], true),
        (
            // Comments change no evaluation; stibnite's own lines move.
            "a comment in a file of stibnite's with inventory entries",
            vec![edit(&root, stibnite, "{ config, ... }:\n", "{ config, ... }:\n# a comment\n\n")],
            true,
        ),
        ("a cask that is not a string", vec![edit(&root, terminals, "\"wezterm\"", "\"wezterm\" 42")], true),
        ("a syntax error in a feature", vec![edit(&root, terminals, "];", "]")], true),
        (
            // Found in the darwin machines that import `casks` only.
            "an argument nothing provides, in a feature",
            vec![edits(
                &root,
                terminals,
                &[
                    ("casks.homebrew.casks = [", "casks = { nosuch, ... }: { homebrew.casks = ["),
                    ("  ];\n}", "  ]; };\n}"),
                ],
            )],
            true,
        ),
        ("the feature fixed", vec![], true),
        (
            // Read by stibnite from the top level's configuration: no code
            // of this file runs in stibnite's evaluation.
            "a value of the top level that a machine reads",
            vec![edit(&root, "modules/users/tomas.nix", "fullName = \"", "fullName = 42; x = \"")],
            false,
        ),
        (
            // Found in stibnite only: the file is nobody else's.
            "an argument nothing provides, imported by path",
            vec![edit(&root, hardware, "{ system", "{ nosuch, ... }: { system")],
            true,
        ),
        (
            "two files at once",
            vec![edit(&root, terminals, "\"wezterm\"", "42"), edit(&root, stibnite, "\"laptop\"", "\"lapto\"")],
            false,
        ),
        ("back again", vec![], true),
    ];
    let results = dendrite_eval::run_with_stack(move || {
        let mut session = Session::new(opts.clone());
        let mut out = Vec::new();
        for (what, overlays, must_reuse) in steps {
            let warm = session.check(&overlays).expect("the warm check runs");
            let cold = check(CheckOptions { overlays: overlays.clone(), ..opts.clone() }).expect("the cold check runs");
            out.push((what, lines(&warm), lines(&cold), warm.summary.machines, session.last_reuse, must_reuse));
        }
        out
    });
    let mut found_any = false;
    for (what, warm, cold, machines, (reused, evaluated), must_reuse) in results {
        assert_eq!(warm, cold, "after {what}: the warm session and a cold check disagree");
        assert_eq!(reused + evaluated, machines, "after {what}: every machine is either reused or evaluated");
        if must_reuse {
            assert!(reused > 0, "after {what}: no machine's findings were reused ({evaluated} evaluated)");
        }
        found_any |= !warm.is_empty();
    }
    assert!(found_any, "the edits produced no findings at all: the comparison proves nothing");
}

//! `dendrite check` as a command: exit codes, formats, and the same
//! findings whether machines are checked in worker processes or not.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dendrite(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dendrite")).args(args).output().expect("runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

use dendrite_corpus::copy_tree as copy_dir;

/// The JSON output without its timing.
fn stable(json: &str) -> String {
    let i = json.find("\"duration_ms\":").expect("has a duration");
    json[..i].to_string()
}

#[test]
fn the_fleet_is_clean() {
    let fleet = repo().join("fixtures/fleet");
    let (code, out) = dendrite(&["check", fleet.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("check passed: 0 errors"), "{out}");
}

#[test]
fn workers_find_what_one_process_finds() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("fixtures/fleet"), dir.path());
    // A mistake in every machine's closure and one in a single machine.
    std::fs::write(
        dir.path().join("modules/boom.nix"),
        "{ ... }: {\n  flake.modules.nixos.server.services.thing.value = throw \"boom\";\n}\n",
    )
    .unwrap();
    let stibnite = dir.path().join("modules/machines/darwin/stibnite.nix");
    let text = std::fs::read_to_string(&stibnite).unwrap().replacen("      casks\n", "      caks\n", 1);
    std::fs::write(&stibnite, text).unwrap();
    let d = dir.path().to_str().unwrap();
    let (c1, one) = dendrite(&["check", d, "-j", "0", "--format", "json"]);
    let (c2, two) = dendrite(&["check", d, "-j", "2", "--format", "json"]);
    assert_eq!((c1, c2), (1, 1));
    assert!(one.contains("\"code\":\"D101\"") && one.contains("\"code\":\"D002\""), "{one}");
    assert_eq!(stable(&one), stable(&two));
}

#[test]
fn not_a_flake_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _) = dendrite(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
}

#[test]
fn sarif_and_graph() {
    let fleet = repo().join("fixtures/fleet");
    let (code, sarif) = dendrite(&["check", fleet.to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(code, 0);
    assert!(sarif.contains("\"version\":\"2.1.0\"") && sarif.contains("\"results\":[]"), "{sarif}");
    let (code, dot) = dendrite(&["graph", fleet.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(dot.starts_with("digraph modules {"));
    // stibnite's machine module imports the darwin `casks` aggregate.
    assert!(dot.contains("\"darwin.machines/darwin/stibnite\" -> \"darwin.casks\""), "{dot}");
    let (_, json) = dendrite(&["graph", fleet.to_str().unwrap(), "--format", "json"]);
    assert!(json.starts_with("{\"nodes\":[") && json.contains("\"kind\":\"imports\""));
}

#[test]
fn changed_reports_only_staged_files() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("fixtures/fleet"), dir.path());
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["-c", "user.email=t@example.org", "-c", "user.name=t"])
            .args(args)
            .output()
            .expect("git runs")
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "fleet"]);
    // Two mistakes; only the first file is staged.
    let stibnite = dir.path().join("modules/machines/darwin/stibnite.nix");
    let text = std::fs::read_to_string(&stibnite).unwrap().replacen("      casks\n", "      caks\n", 1);
    std::fs::write(&stibnite, text).unwrap();
    let crs58 = dir.path().join("modules/users/crs58.nix");
    let text = std::fs::read_to_string(&crs58).unwrap().replacen("admin = true;", "admin = \"yes\";", 1);
    std::fs::write(&crs58, text).unwrap();
    git(&["add", "modules/machines/darwin/stibnite.nix"]);
    let d = dir.path().to_str().unwrap();
    let (code, out) = dendrite(&["check", d, "--changed", "--format", "json"]);
    assert_eq!(code, 1);
    assert!(out.contains("\"code\":\"D101\""), "{out}");
    assert!(!out.contains("\"code\":\"D601\""), "crs58.nix is not staged: {out}");
    let (_, all) = dendrite(&["check", d, "--format", "json"]);
    assert!(all.contains("\"code\":\"D601\""), "without --changed both are reported: {all}");
}

#[test]
fn help_shows_each_example_on_its_own_line() {
    for (cmd, example) in [("check", "  dendrite check ~/fleet --format json"), ("eval", "  dendrite eval -E '1 + 2'")]
    {
        let (code, out) = dendrite(&[cmd, "--help"]);
        assert_eq!(code, 0, "{out}");
        assert!(out.lines().any(|l| l == example), "`dendrite {cmd} --help` lacks the line {example:?}:\n{out}");
    }
}

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
    let (c2, two) = dendrite(&["check", d, "-j", "2", "--fork-after", "0", "--format", "json"]);
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

/// A small dendritic fleet with mistakes of several kinds: features in
/// aggregates, machines importing some of them and setting some up.
fn mistaken_fleet(dir: &std::path::Path) {
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "flake.nix",
        "{\n  inputs.flake-parts.url = \"github:hercules-ci/flake-parts\";\n  inputs.import-tree.url = \"github:vic/import-tree\";\n  outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; } {\n    imports = [ inputs.flake-parts.flakeModules.modules (inputs.import-tree ./modules) ];\n  };\n}\n",
    );
    write(
        "modules/core.nix",
        "{ ... }: {\n  systems = [ \"x86_64-linux\" ];\n  flake.modules.nixos.base = { lib, ... }: {\n    options.services.enabled = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; };\n    options.services.ports = lib.mkOption { type = lib.types.attrsOf lib.types.port; default = { }; };\n  };\n}\n",
    );
    let aggregates = ["web", "db", "ops"];
    for i in 0..12 {
        let agg = aggregates[i % 3];
        // Some on by default; one whose default has the wrong type (every
        // machine importing it has the error); one that asks for an
        // argument nothing provides; one on by default whose definition
        // has the wrong type.
        let enable = if i % 4 == 1 {
            "lib.mkOption { type = lib.types.bool; default = true; }".to_string()
        } else {
            format!("lib.mkEnableOption \"f{i}\"")
        };
        let port_default = if i == 5 { "\"none\"".to_string() } else { format!("{}", 1000 + i) };
        let args = if i == 7 { "config, lib, greeting, ..." } else { "config, lib, ..." };
        let port_def = if i == 9 { "\"eighty\"".to_string() } else { "cfg.port".to_string() };
        write(
            &format!("modules/features/{agg}/f{i}.nix"),
            &format!(
                "{{ ... }}: {{\n  flake.modules.nixos.{agg} = {{ {args} }}:\n    let cfg = config.features.f{i}; in {{\n      options.features.f{i} = {{\n        enable = {enable};\n        port = lib.mkOption {{ type = lib.types.int; default = {port_default}; }};\n      }};\n      config = lib.mkIf cfg.enable {{\n        services.enabled = [ \"f{i}\" ];\n        services.ports.f{i} = {port_def};\n      }};\n    }};\n}}\n"
            ),
        );
    }
    for m in 0..10 {
        let imports = [aggregates[m % 3], aggregates[(m + 1) % 3]];
        let own = match m % 5 {
            0 => format!("features.f{}.enable = true;", m % 12),
            1 => format!("features.f{}.port = \"eighty\";", (m + 3) % 12),
            2 => format!("features.f{}.enable = false;", (m * 5 + 1) % 12),
            3 => format!("features.f{}.prot = 1;", m % 12),
            _ => String::new(),
        };
        write(
            &format!("modules/machines/m{m}.nix"),
            &format!(
                "{{ config, ... }}: {{\n  flake.modules.nixos.\"machines/m{m}\" = {{ lib, ... }}: {{\n    imports = with config.flake.modules.nixos; [ base {} {} ];\n    {own}\n  }};\n}}\n",
                imports[0], imports[1]
            ),
        );
    }
}

/// Code and place of each finding in a JSON report, sorted.
fn places(json: &str) -> Vec<(String, String, u64, u64)> {
    let v: serde_json::Value = serde_json::from_str(json).expect("json output");
    let mut out: Vec<(String, String, u64, u64)> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["file"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn sharing_modules_between_machines_finds_the_same() {
    let dir = tempfile::tempdir().unwrap();
    mistaken_fleet(dir.path());
    let d = dir.path().to_str().unwrap();
    let run = |share: &str, jobs: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_dendrite"))
            .args(["check", d, "-j", jobs, "--fork-after", "0", "--format", "json"])
            .env("DENDRITE_SHARE_MODULES", share)
            .output()
            .expect("runs");
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (c0, unshared) = run("0", "0");
    let (c1, shared) = run("1", "0");
    let (c2, workers) = run("1", "2");
    assert_eq!((c0, c1, c2), (1, 1, 1), "{unshared}");
    let expected = places(&unshared);
    // Every planted mistake is found where it is written: the argument
    // nothing provides, the default and the definition of the wrong type
    // (shared by the machines importing them), each machine's own.
    for (code, file) in [
        ("D201", "modules/features/db/f7.nix"),
        ("D601", "modules/features/ops/f5.nix"),
        ("D601", "modules/features/web/f9.nix"),
        ("D601", "modules/machines/m1.nix"),
        ("D601", "modules/machines/m6.nix"),
    ] {
        assert!(expected.iter().any(|p| p.0 == code && p.1 == file), "no {code} in {file}: {unshared}");
    }
    assert_eq!(places(&shared), expected, "shared:\n{shared}\nunshared:\n{unshared}");
    assert_eq!(places(&workers), expected, "workers:\n{workers}\nunshared:\n{unshared}");
}

/// What `-v` says about where the machines were checked.
fn where_checked(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dendrite")).args(args).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    err.lines()
        .find(|l| l.starts_with("machines checked in"))
        .unwrap_or_else(|| panic!("no such line:\n{err}"))
        .to_string()
}

#[test]
fn cheap_machines_are_not_worth_a_fork() {
    let fleet = repo().join("fixtures/fleet");
    let d = fleet.to_str().unwrap();
    // Eight small machines take far less than forking a worker would.
    assert_eq!(where_checked(&["check", d, "-v", "-j", "2"]), "machines checked in this process");
    // Without the budget, workers take the machines after the warm-up.
    assert_eq!(
        where_checked(&["check", d, "-v", "-j", "2", "--fork-after", "0"]),
        "machines checked in 2 worker processes"
    );
    assert_eq!(where_checked(&["check", d, "-v", "-j", "0", "--fork-after", "0"]), "machines checked in this process");
}

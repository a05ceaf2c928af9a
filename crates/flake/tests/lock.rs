//! `flake.lock` parsing, `follows` resolution, locked store paths and the
//! order in which inputs are resolved (override, store copy, local path,
//! bundled model, opaque).
//!
//! Expected follows targets were read off the corpus lock files by hand;
//! expected store paths come from Nix 2.8 (see `ORACLE`).

use std::fs;
use std::path::{Path, PathBuf};

use dendrite_flake::inputs::{DeclaredInput, DeclaredSpec, InputResolver, Model, Resolution, parse_flake_url};
use dendrite_flake::lock::{FlakeLock, InputRef, RefType, ResolveError, locked_store_path};

fn read_lock(dir: &Path) -> FlakeLock {
    let path = dir.join("flake.lock");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    FlakeLock::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn drupol() -> Option<FlakeLock> {
    dendrite_corpus::dir_or_skip("real-world/drupol-infra").map(|d| read_lock(&d))
}

/// Every `flake.lock` under `dir`, recursively.
fn lock_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            lock_files(&p, out);
        } else if p.file_name().is_some_and(|n| n == "flake.lock") {
            out.push(p);
        }
    }
}

#[test]
fn every_corpus_lock_file_parses() {
    let Some(corpus) = dendrite_corpus::dir_or_skip("") else { return };
    let mut files = Vec::new();
    for sub in ["real-world", "clan-core", "flake-parts", "import-tree"] {
        lock_files(&corpus.join(sub), &mut files);
    }
    // drupol-infra, flake-parts and its dev flake and two examples at least.
    assert!(files.len() >= 5, "expected at least 5 lock files, found {files:?}");
    for f in &files {
        let lock = FlakeLock::parse(&fs::read_to_string(f).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(lock.version, 7, "{}", f.display());
        // Every input of every node resolves (no dangling follows, no cycle).
        for id in lock.nodes().keys() {
            for (name, target) in lock.inputs_of(id) {
                let t = target.unwrap_or_else(|e| panic!("{}: {id}.{name}: {e}", f.display()));
                assert!(lock.node(&t).is_some());
            }
        }
        // Every non-root node is locked with a narHash, hence has a store path.
        for (id, node) in lock.nodes() {
            if *id == lock.root {
                continue;
            }
            let locked = node.locked.as_ref().unwrap_or_else(|| panic!("{}: {id} not locked", f.display()));
            assert!(locked_store_path("/nix/store", locked).is_some(), "{}: {id}", f.display());
        }
    }
}

#[test]
fn drupol_follows() {
    let Some(lock) = drupol() else { return };
    assert_eq!(lock.root, "root");
    let roots: Vec<String> = lock.root_inputs().into_iter().map(|(n, _)| n).collect();
    assert_eq!(roots.len(), 23);
    assert_eq!(lock.resolve("root", "nixpkgs").as_deref(), Some("nixpkgs_4"));
    // `inputs.nixpkgs.follows = "nixpkgs"` in deploy-rs, disko, home-manager.
    assert_eq!(lock.node("deploy-rs").unwrap().inputs["nixpkgs"], InputRef::Follows(vec!["nixpkgs".into()]));
    for n in ["deploy-rs", "disko", "home-manager"] {
        assert_eq!(lock.resolve(n, "nixpkgs").as_deref(), Some("nixpkgs_4"), "{n}");
    }
    assert_eq!(lock.resolve("flake-parts", "nixpkgs-lib").as_deref(), Some("nixpkgs_4"));
    // Two steps through a direct input: infra-private's nixpkgs is the node
    // "nixpkgs" (not the root's nixpkgs_4).
    assert_eq!(lock.resolve("flake-parts_2", "nixpkgs-lib").as_deref(), Some("nixpkgs"));
    assert_eq!(lock.resolve("flake-parts_4", "nixpkgs-lib").as_deref(), Some("nixpkgs_5"));
    // Transitive: gitignore -> git-hooks/nixpkgs, itself a follows of the root's nixpkgs.
    assert_eq!(lock.resolve("gitignore", "nixpkgs").as_deref(), Some("nixpkgs_4"));
    assert_eq!(lock.resolve("home-manager_3", "nixpkgs").as_deref(), Some("nixpkgs_4"));
    // Direct references.
    assert_eq!(lock.resolve("nix-webapps", "flake-parts").as_deref(), Some("flake-parts_3"));
    assert_eq!(lock.resolve("root", "flake-compat").as_deref(), Some("flake-compat_2"));
    assert_eq!(lock.resolve_path(&["git-hooks", "gitignore", "nixpkgs"]).unwrap(), "nixpkgs_4");
    // Missing things.
    assert_eq!(lock.resolve("den", "nixpkgs"), None);
    assert_eq!(lock.resolve("no-such-node", "nixpkgs"), None);
    assert_eq!(lock.resolve_input("den", "x"), Err(ResolveError::NoSuchInput("den".into(), "x".into())));

    let fc = lock.node("flake-compat").unwrap();
    assert!(!fc.flake);
    assert!(lock.node("den").unwrap().flake);
    let np = lock.node("nixpkgs_4").unwrap().locked.clone().unwrap();
    assert_eq!(np.kind, RefType::Github);
    assert_eq!(np.owner.as_deref(), Some("nixos"));
    assert_eq!(np.repo.as_deref(), Some("nixpkgs"));
    assert_eq!(np.rev.as_deref(), Some("e73de5be04e0eff4190a1432b946d469c794e7b4"));
    assert_eq!(np.last_modified, Some(1782467914));
    assert_eq!(np.nar_hash.as_deref(), Some("sha256-pGvFkM8N0xEkIIXDe5YYfbEAvHrk4IxBrjB/x8OomhE="));
    let orig = lock.node("nixpkgs_4").unwrap().original.clone().unwrap();
    assert_eq!(orig.git_ref.as_deref(), Some("nixos-unstable"));
    let tb = lock.node("nixpkgs_3").unwrap().locked.clone().unwrap();
    assert_eq!(tb.kind, RefType::Tarball);
    assert!(tb.url.as_deref().unwrap().ends_with("nixexprs.tar.xz"));
}

#[test]
fn flake_parts_dev_follows() {
    let Some(dir) = dendrite_corpus::dir_or_skip("flake-parts/dev") else { return };
    let lock = read_lock(&dir);
    // flake-parts.inputs.nixpkgs-lib.follows = "hercules-ci-effects/nixpkgs"
    assert_eq!(lock.resolve("flake-parts", "nixpkgs-lib").as_deref(), Some("nixpkgs"));
    // treefmt-nix -> nix-unit/nixpkgs -> the root's nixpkgs = nixpkgs_2
    assert_eq!(lock.resolve("treefmt-nix", "nixpkgs").as_deref(), Some("nixpkgs_2"));
    assert_eq!(lock.resolve("nix-github-actions", "nixpkgs").as_deref(), Some("nixpkgs_2"));
    let fp = lock.node("flake-parts").unwrap();
    assert_eq!(fp.original.as_ref().unwrap().kind, RefType::Indirect);
    assert_eq!(fp.original.as_ref().unwrap().id.as_deref(), Some("flake-parts"));
}

/// Obtained with Nix 2.8 (`NIX_STATE_DIR=$(mktemp -d)`):
/// `nix-store --print-fixed-path --recursive sha256 <narHash> source`, with
/// narHashes from real-world/drupol-infra/flake.lock; the last two with
/// `NIX_STORE_DIR=/tmp/xstore`, and with the name `mysrc`.
const ORACLE: &[(&str, &str, &str, &str)] = &[
    // (store dir, narHash, name, store path)
    (
        "/nix/store",
        "sha256-m1Yf0wZ8j1OHjTc2UwHwyQRSnNeSgLJOd7q5Y45hzi4=",
        "source",
        "/nix/store/ch5n4xdddid5859dy6c4i6lghqyx8016-source",
    ),
    (
        "/nix/store",
        "sha256-Jjuz5CmSkur8KvLDoGa+vylEp+RkQtv4mt/qcMznpH0=",
        "source",
        "/nix/store/kpxr4kxlhg3iwvvz1xn2rgwwvdnbgjmz-source",
    ),
    (
        "/nix/store",
        "sha256-pGvFkM8N0xEkIIXDe5YYfbEAvHrk4IxBrjB/x8OomhE=",
        "source",
        "/nix/store/kfs4nfy1705ksbn0gv15ls921cc90h2z-source",
    ),
    (
        "/nix/store",
        "sha256-1qRH7uAUsyQI7R1Uwl4T+XvdNv778H0Nb5njNrqvylY=",
        "source",
        "/nix/store/cbijv55rjxlhm7nsvpzjhq4lrki6gqdb-source",
    ),
    (
        "/nix/store",
        "sha256-8bW3q88CEg2u4hSP66Vf4lpbLonHz7hqDNBMcCY7E9U=",
        "source",
        "/nix/store/bgp6cqzszs95fdsrjsl6gpy540rjrac9-source",
    ),
    (
        "/nix/store",
        "sha256-PHTCpYZCMzJYS3phhywqRAZphKVr2zjvlGYa+H20ZZ4=",
        "source",
        "/nix/store/imxwrhs798zzzg05dyac5p44hp96yh15-source",
    ),
    (
        "/nix/store",
        "sha256-//POpKuFv7bBN3axztodTLG+N0P70jKuBuvrJZS1LX8=",
        "source",
        "/nix/store/4dgdkw3c6zdx4c14ac5bfd3202ggqriv-source",
    ),
    (
        "/tmp/xstore",
        "sha256-m1Yf0wZ8j1OHjTc2UwHwyQRSnNeSgLJOd7q5Y45hzi4=",
        "source",
        "/tmp/xstore/6662zizr8iwwsq8w2vcrv2qhlfvlxni2-source",
    ),
    (
        "/nix/store",
        "sha256-m1Yf0wZ8j1OHjTc2UwHwyQRSnNeSgLJOd7q5Y45hzi4=",
        "mysrc",
        "/nix/store/lbrc58zm9izxyxh1kny2nax3lc0fcfz4-mysrc",
    ),
];

fn github_ref(nar_hash: &str, name: Option<&str>) -> dendrite_flake::lock::LockedRef {
    let name = name.map(|n| format!(r#", "name": "{n}""#)).unwrap_or_default();
    let text = format!(
        r#"{{"version": 7, "root": "root", "nodes": {{"root": {{"inputs": {{"x": "x"}}}},
           "x": {{"locked": {{"type": "github", "owner": "o", "repo": "r", "narHash": "{nar_hash}"{name}}}}}}}}}"#
    );
    FlakeLock::parse(&text).unwrap().node("x").unwrap().locked.clone().unwrap()
}

#[test]
fn store_paths_match_nix() {
    for (store, hash, name, expected) in ORACLE {
        let r = github_ref(hash, (*name != "source").then_some(*name));
        assert_eq!(locked_store_path(store, &r).as_deref(), Some(*expected), "{hash} {name} in {store}");
    }
    // Also straight from the corpus lock file, node by node.
    let Some(lock) = drupol() else { return };
    for (node, expected) in [
        ("flake-parts", "/nix/store/ch5n4xdddid5859dy6c4i6lghqyx8016-source"),
        ("import-tree", "/nix/store/kpxr4kxlhg3iwvvz1xn2rgwwvdnbgjmz-source"),
        ("nixpkgs_4", "/nix/store/kfs4nfy1705ksbn0gv15ls921cc90h2z-source"),
        ("nixpkgs-lib", "/nix/store/cbijv55rjxlhm7nsvpzjhq4lrki6gqdb-source"),
        ("nixpkgs_3", "/nix/store/bgp6cqzszs95fdsrjsl6gpy540rjrac9-source"),
        ("home-manager", "/nix/store/imxwrhs798zzzg05dyac5p44hp96yh15-source"),
        ("infra-private", "/nix/store/4dgdkw3c6zdx4c14ac5bfd3202ggqriv-source"),
    ] {
        let locked = lock.node(node).unwrap().locked.as_ref().unwrap();
        assert_eq!(locked_store_path("/nix/store", locked).as_deref(), Some(expected), "{node}");
        // A trailing slash on the store directory changes nothing.
        assert_eq!(locked_store_path("/nix/store/", locked).as_deref(), Some(expected), "{node}");
    }
}

#[test]
fn store_path_needs_a_valid_sha256() {
    let r = github_ref("sha512-abc", None);
    assert_eq!(locked_store_path("/nix/store", &r), None);
    let r = github_ref("not a hash", None);
    assert_eq!(locked_store_path("/nix/store", &r), None);
    let mut r = github_ref("sha256-m1Yf0wZ8j1OHjTc2UwHwyQRSnNeSgLJOd7q5Y45hzi4=", None);
    r.nar_hash = None;
    assert_eq!(locked_store_path("/nix/store", &r), None);
}

// ------------------------------------------------------------------ errors

fn parse_err(text: &str) -> dendrite_flake::lock::LockError {
    FlakeLock::parse(text).expect_err("should not parse")
}

#[test]
fn bad_json_has_line_and_column() {
    let text = "{\n  \"version\": 7,\n  \"root\": \"root\"\n  \"nodes\": {}\n}";
    let e = parse_err(text);
    assert!(e.message.contains("invalid JSON"), "{e}");
    // The missing comma is noticed at the start of `"nodes"`.
    assert_eq!((e.line, e.column), (Some(4), Some(3)), "{e}");
    assert!(e.to_string().starts_with("flake.lock:4:3: "), "{e}");

    let e = parse_err("{\"version\": 7,");
    assert!(e.message.contains("invalid JSON"), "{e}");
    let e = parse_err("");
    assert!(e.message.contains("unexpected end of input"), "{e}");
    let e = parse_err("[1, 2]");
    assert!(e.message.contains("must be an object"), "{e}");
    let e = parse_err("{\"version\": 7, \"version\": 7}");
    assert!(e.message.contains("duplicate key 'version'"), "{e}");
    assert_eq!((e.line, e.column), (Some(1), Some(16)), "{e}");
    // Columns count characters: a two-byte character before the error.
    let e = parse_err("{\"é\": 1, x}");
    assert_eq!((e.line, e.column), (Some(1), Some(10)), "{e}");
}

#[test]
fn unsupported_versions() {
    for v in ["4", "8", "1"] {
        let e = parse_err(&format!(r#"{{"version": {v}, "root": "root", "nodes": {{"root": {{}}}}}}"#));
        assert!(e.message.contains(&format!("unsupported version {v}")), "{e}");
        assert_eq!(e.line, Some(1));
    }
    for v in ["5", "6", "7"] {
        let lock = FlakeLock::parse(&format!(r#"{{"version": {v}, "root": "root", "nodes": {{"root": {{}}}}}}"#))
            .unwrap_or_else(|e| panic!("version {v}: {e}"));
        assert!(lock.root_inputs().is_empty());
    }
    let e = parse_err(r#"{"version": "7", "root": "root", "nodes": {}}"#);
    assert!(e.message.contains("'version' must be an integer"), "{e}");
    let e = parse_err(r#"{"root": "root", "nodes": {}}"#);
    assert!(e.message.contains("no 'version'"), "{e}");
}

#[test]
fn dangling_nodes_and_follows() {
    let text =
        "{\n  \"version\": 7,\n  \"root\": \"root\",\n  \"nodes\": {\"root\": {\"inputs\": {\"a\": \"missing\"}}}\n}";
    let e = parse_err(text);
    assert!(e.message.contains("input 'a' of node 'root' refers to node 'missing', which does not exist"), "{e}");
    let col = text.lines().nth(3).unwrap().find("\"missing\"").unwrap() + 1;
    assert_eq!((e.line, e.column), (Some(4), Some(col)), "{e}");

    let e = parse_err(r#"{"version": 7, "root": "top", "nodes": {"root": {}}}"#);
    assert!(e.message.contains("root node 'top' does not exist"), "{e}");

    let e = parse_err(r#"{"version": 7, "root": "root", "nodes": {"root": {"inputs": {"a": 3}}}}"#);
    assert!(e.message.contains("must be a node id or a follows path"), "{e}");

    let e = parse_err(r#"{"version": 7, "root": "root", "nodes": {"root": {}, "x": {"locked": {"owner": "o"}}}}"#);
    assert!(e.message.contains("'locked' of node 'x' has no string 'type'"), "{e}");

    // A follows path that leads nowhere parses (Nix checks lazily too) but
    // does not resolve.
    let lock = FlakeLock::parse(
        r#"{"version": 7, "root": "root", "nodes": {"root": {"inputs": {"a": "a", "b": ["a", "nope"]}}, "a": {}}}"#,
    )
    .unwrap();
    assert_eq!(lock.resolve("root", "b"), None);
    assert_eq!(lock.resolve_input("root", "b"), Err(ResolveError::NoSuchInput("a".into(), "nope".into())));
}

#[test]
fn follows_cycles_are_detected() {
    let lock = FlakeLock::parse(
        r#"{"version": 7, "root": "root", "nodes": {"root": {"inputs": {"a": ["b"], "b": ["c", "x"], "c": "c"}},
            "c": {"inputs": {"x": ["a"]}}}}"#,
    )
    .unwrap();
    assert_eq!(lock.resolve("root", "a"), None);
    match lock.resolve_input("root", "a") {
        Err(ResolveError::Cycle(chain)) => {
            assert_eq!(chain, ["root.a", "root.b", "c.x", "root.a"]);
        }
        other => panic!("expected a cycle, got {other:?}"),
    }
    // A self-follow.
    let lock =
        FlakeLock::parse(r#"{"version": 7, "root": "root", "nodes": {"root": {"inputs": {"a": ["a"]}}}}"#).unwrap();
    assert!(matches!(lock.resolve_input("root", "a"), Err(ResolveError::Cycle(_))));
}

// ------------------------------------------------------------- resolution

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

const FP_HASH: &str = "sha256-m1Yf0wZ8j1OHjTc2UwHwyQRSnNeSgLJOd7q5Y45hzi4=";
const CLAN_HASH: &str = "sha256-Jjuz5CmSkur8KvLDoGa+vylEp+RkQtv4mt/qcMznpH0=";
const NIXPKGS_HASH: &str = "sha256-pGvFkM8N0xEkIIXDe5YYfbEAvHrk4IxBrjB/x8OomhE=";
const DEN_HASH: &str = "sha256-uLIfN5z+7q/hhZpNRwRINbLkdI2EPfk1XgxeJuRfkwo=";

fn test_lock() -> FlakeLock {
    let text = format!(
        r#"{{
  "version": 7, "root": "root",
  "nodes": {{
    "root": {{"inputs": {{"flake-parts": "fp", "clan-core": "clan", "nixpkgs": "np", "den": "den",
                         "local": "local", "sub": "sub"}}}},
    "fp": {{"inputs": {{"nixpkgs-lib": ["nixpkgs"]}},
           "locked": {{"type": "github", "owner": "Hercules-CI", "repo": "flake-parts", "narHash": "{FP_HASH}"}},
           "original": {{"type": "indirect", "id": "flake-parts"}}}},
    "clan": {{"inputs": {{"nixpkgs": ["nixpkgs"], "flake-parts": ["flake-parts"], "data-mesher": "dm"}},
             "locked": {{"type": "tarball", "url": "https://git.clan.lol/api/v1/repos/clan/clan-core/archive/abc.tar.gz",
                         "narHash": "{CLAN_HASH}"}},
             "original": {{"type": "tarball", "url": "https://git.clan.lol/clan/clan-core/archive/main.tar.gz"}}}},
    "dm": {{"inputs": {{"nixpkgs": ["clan-core", "nixpkgs"]}},
           "locked": {{"type": "tarball", "url": "https://git.clan.lol/clan/data-mesher/archive/x.tar.gz",
                       "narHash": "{DEN_HASH}"}}}},
    "np": {{"locked": {{"type": "github", "owner": "NixOS", "repo": "nixpkgs", "narHash": "{NIXPKGS_HASH}"}}}},
    "den": {{"locked": {{"type": "github", "owner": "denful", "repo": "den", "narHash": "{DEN_HASH}"}}}},
    "local": {{"locked": {{"type": "path", "path": "./parts"}}, "original": {{"type": "path", "path": "./parts"}},
              "parent": []}},
    "sub": {{"flake": false,
            "locked": {{"type": "github", "owner": "nixos", "repo": "nixpkgs", "dir": "lib", "narHash": "{DEN_HASH}",
                        "name": "lib-src"}}}}
  }}
}}"#
    );
    FlakeLock::parse(&text).unwrap()
}

fn resolution_of(res: &[dendrite_flake::inputs::ResolvedInput], name: &str) -> Resolution {
    res.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no input {name}")).resolution.clone()
}

#[test]
fn resolution_order_with_a_tempdir_store() {
    let lock = test_lock();
    let store = tempdir();
    let flake = tempdir();
    let store_dir = store.path().to_str().unwrap().to_string();
    let resolver = || InputResolver::new(flake.path()).with_lock(&lock).with_store_dir(store_dir.clone());

    // Nothing on disk: models, else opaque.
    let res = resolver().root_inputs();
    let names: Vec<&str> = res.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["clan-core", "den", "flake-parts", "local", "nixpkgs", "sub"]);
    assert_eq!(resolution_of(&res, "flake-parts"), Resolution::Model(Model::FlakeParts));
    assert_eq!(resolution_of(&res, "clan-core"), Resolution::Model(Model::ClanCore));
    assert_eq!(resolution_of(&res, "nixpkgs"), Resolution::Model(Model::Nixpkgs));
    assert_eq!(resolution_of(&res, "sub"), Resolution::Model(Model::NixpkgsLib));
    assert!(!res.iter().find(|r| r.name == "sub").unwrap().flake);
    let den_path = locked_store_path(&store_dir, lock.node("den").unwrap().locked.as_ref().unwrap()).unwrap();
    match resolution_of(&res, "den") {
        Resolution::Opaque { reason } => {
            assert!(reason.contains("github:denful/den"), "{reason}");
            assert!(reason.contains(&den_path), "{reason}");
        }
        other => panic!("den: {other:?}"),
    }
    match resolution_of(&res, "local") {
        Resolution::Opaque { reason } => assert!(reason.contains("parts"), "{reason}"),
        other => panic!("local: {other:?}"),
    }

    // Store copies appear: they win over models.
    let fp_path = locked_store_path(&store_dir, lock.node("fp").unwrap().locked.as_ref().unwrap()).unwrap();
    assert!(fp_path.starts_with(&store_dir) && fp_path.ends_with("-source"), "{fp_path}");
    fs::create_dir_all(&fp_path).unwrap();
    fs::create_dir_all(&den_path).unwrap();
    let sub_path = locked_store_path(&store_dir, lock.node("sub").unwrap().locked.as_ref().unwrap()).unwrap();
    assert!(sub_path.ends_with("-lib-src"), "{sub_path}");
    fs::create_dir_all(&sub_path).unwrap();
    fs::create_dir_all(flake.path().join("parts")).unwrap();
    let res = resolver().root_inputs();
    assert_eq!(resolution_of(&res, "flake-parts"), Resolution::StoreCopy(PathBuf::from(&fp_path)));
    assert_eq!(resolution_of(&res, "den"), Resolution::StoreCopy(PathBuf::from(&den_path)));
    // `dir` is joined to the store path.
    assert_eq!(resolution_of(&res, "sub"), Resolution::StoreCopy(Path::new(&sub_path).join("lib")));
    assert_eq!(resolution_of(&res, "local"), Resolution::LocalPath(flake.path().join("parts")));
    // A store copy in another store directory is not seen.
    let other = InputResolver::new(flake.path()).with_lock(&lock).with_store_dir("/nonexistent/store").root_inputs();
    assert_eq!(resolution_of(&other, "flake-parts"), Resolution::Model(Model::FlakeParts));

    // Overrides win over everything.
    let mine = tempdir();
    let res = resolver().with_override("flake-parts", mine.path()).root_inputs();
    assert_eq!(resolution_of(&res, "flake-parts"), Resolution::Override(mine.path().to_path_buf()));
    assert_eq!(resolution_of(&res, "den"), Resolution::StoreCopy(PathBuf::from(&den_path)));
}

#[test]
fn inputs_of_inputs_follow_the_root_lock() {
    let lock = test_lock();
    let store = tempdir();
    let flake = tempdir();
    let store_dir = store.path().to_str().unwrap().to_string();
    let np = tempdir();
    let r =
        InputResolver::new(flake.path()).with_lock(&lock).with_store_dir(store_dir).with_override("nixpkgs", np.path());
    let clan = r.inputs_of("clan", &["clan-core".to_string()]);
    let names: Vec<&str> = clan.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["data-mesher", "flake-parts", "nixpkgs"]);
    // clan-core's nixpkgs follows the root's, which is overridden.
    let cn = clan.iter().find(|i| i.name == "nixpkgs").unwrap();
    assert_eq!(cn.node.as_deref(), Some("np"));
    assert_eq!(cn.path, ["clan-core", "nixpkgs"]);
    assert_eq!(cn.resolution, Resolution::Override(np.path().to_path_buf()));
    assert_eq!(resolution_of(&clan, "flake-parts"), Resolution::Model(Model::FlakeParts));
    // data-mesher is no model: opaque.
    assert!(matches!(resolution_of(&clan, "data-mesher"), Resolution::Opaque { .. }));
    // Two levels down, through a follows of a follows.
    let dm = r.resolve_path(&["clan-core", "data-mesher", "nixpkgs"]).unwrap();
    assert_eq!(dm.node.as_deref(), Some("np"));
    assert_eq!(dm.resolution, Resolution::Override(np.path().to_path_buf()));
    // An override by input path.
    let other = tempdir();
    let r2 = InputResolver::new(flake.path()).with_lock(&lock).with_override("clan-core/data-mesher", other.path());
    assert_eq!(
        r2.resolve_path(&["clan-core", "data-mesher"]).unwrap().resolution,
        Resolution::Override(other.path().to_path_buf())
    );
    let fp = r.inputs_of("fp", &["flake-parts".to_string()]);
    assert_eq!(fp[0].name, "nixpkgs-lib");
    assert_eq!(fp[0].node.as_deref(), Some("np"));
}

#[test]
fn drupol_models() {
    let Some(lock) = drupol() else { return };
    let flake = tempdir();
    let store = tempdir();
    let res =
        InputResolver::new(flake.path()).with_lock(&lock).with_store_dir(store.path().to_str().unwrap()).root_inputs();
    assert_eq!(res.len(), 23);
    for (name, model) in [
        ("flake-parts", Some(Model::FlakeParts)),
        ("import-tree", Some(Model::ImportTree)),
        ("home-manager", Some(Model::HomeManager)),
        ("nixpkgs", Some(Model::Nixpkgs)),
        ("nixpkgs-master", Some(Model::Nixpkgs)),
        ("nixpkgs-unstable", Some(Model::Nixpkgs)),
        // drupol/nixpkgs: a fork of nixpkgs.
        ("nixpkgs-pr-530406", Some(Model::Nixpkgs)),
        ("den", None),
        ("disko", None),
        ("infra-private", None),
        ("treefmt-nix", None),
    ] {
        let got = resolution_of(&res, name);
        match model {
            Some(m) => assert_eq!(got, Resolution::Model(m), "{name}"),
            None => assert!(matches!(got, Resolution::Opaque { .. }), "{name}: {got:?}"),
        }
    }
    // flake-parts_3's nixpkgs-lib is a GitHub archive tarball of NixOS/nixpkgs.
    let r = InputResolver::new(flake.path()).with_lock(&lock).with_store_dir(store.path().to_str().unwrap());
    let np = r.resolve_path(&["nix-webapps", "flake-parts", "nixpkgs-lib"]).unwrap();
    assert_eq!(np.node.as_deref(), Some("nixpkgs-lib"));
    assert_eq!(np.resolution, Resolution::Model(Model::Nixpkgs));
    // nixos-hardware's nixpkgs is a channel tarball.
    let hw = r.resolve_path(&["nixos-hardware", "nixpkgs"]).unwrap();
    assert_eq!(hw.resolution, Resolution::Model(Model::Nixpkgs));
}

#[test]
fn models_from_references() {
    let m = |url: &str| Model::identify(&parse_flake_url(url).unwrap());
    assert_eq!(m("github:hercules-ci/flake-parts"), Some(Model::FlakeParts));
    assert_eq!(m("github:Hercules-CI/Flake-Parts/main"), Some(Model::FlakeParts));
    assert_eq!(m("github:vic/import-tree"), Some(Model::ImportTree));
    assert_eq!(m("github:NixOS/nixpkgs/nixos-unstable"), Some(Model::Nixpkgs));
    assert_eq!(m("github:NixOS/nixpkgs/nixos-unstable?dir=lib"), Some(Model::NixpkgsLib));
    assert_eq!(m("github:nix-community/nixpkgs.lib"), Some(Model::NixpkgsLib));
    assert_eq!(m("github:nix-community/home-manager/release-25.05"), Some(Model::HomeManager));
    assert_eq!(m("github:nix-darwin/nix-darwin"), Some(Model::NixDarwin));
    assert_eq!(m("github:LnL7/nix-darwin"), Some(Model::NixDarwin));
    assert_eq!(m("github:clan-lol/clan-core"), Some(Model::ClanCore));
    assert_eq!(m("https://git.clan.lol/clan/clan-core/archive/main.tar.gz"), Some(Model::ClanCore));
    assert_eq!(m("git+https://git.clan.lol/clan/clan-core?ref=main"), Some(Model::ClanCore));
    assert_eq!(m("git+https://git.clan.lol/clan/clan-core.git"), Some(Model::ClanCore));
    assert_eq!(m("git+ssh://git@github.com/hercules-ci/flake-parts"), Some(Model::FlakeParts));
    assert_eq!(
        m("https://github.com/NixOS/nixpkgs/archive/5487e69da40cbd611ab2cadee0b4637225f7cfae.tar.gz"),
        Some(Model::Nixpkgs)
    );
    assert_eq!(m("https://nixos.org/channels/nixpkgs-unstable/nixexprs.tar.xz"), Some(Model::Nixpkgs));
    assert_eq!(m("nixpkgs"), Some(Model::Nixpkgs));
    assert_eq!(m("flake-parts"), Some(Model::FlakeParts));
    assert_eq!(m("https://git.clan.lol/clan/data-mesher/archive/main.tar.gz"), None);
    assert_eq!(m("github:numtide/treefmt-nix"), None);
    assert_eq!(m("gitlab:nixos/nixpkgs"), None);
    assert_eq!(m("path:./x"), None);
    let r = parse_flake_url("github:nixos/nixpkgs/nixos-unstable?dir=lib").unwrap();
    assert_eq!((r.kind, r.git_ref.as_deref(), r.dir.as_str()), (RefType::Github, Some("nixos-unstable"), "lib"));
    let r = parse_flake_url("./modules").unwrap();
    assert_eq!((r.kind, r.path.as_deref()), (RefType::Path, Some("./modules")));
    assert!(parse_flake_url("github:x/y#frag").is_err());
}

#[test]
fn declared_inputs_without_a_lock_file() {
    // As in clan-core's templates/clan/flake-parts/flake.nix.
    let flake = tempdir();
    fs::create_dir_all(flake.path().join("parts")).unwrap();
    let declared = vec![
        DeclaredInput::url("clan-core", "https://git.clan.lol/clan/clan-core/archive/main.tar.gz"),
        DeclaredInput { name: "nixpkgs".into(), spec: DeclaredSpec::Follows("clan-core/nixpkgs".into()), flake: true },
        DeclaredInput::url("flake-parts", "github:hercules-ci/flake-parts"),
        DeclaredInput::url("den", "github:denful/den"),
        DeclaredInput::url("local", "path:./parts"),
        DeclaredInput::url("missing-local", "./nowhere"),
        // Unrecognised reference: only then does the name count.
        DeclaredInput::url("import-tree", "github:someone/mirror"),
        DeclaredInput { name: "home-manager".into(), spec: DeclaredSpec::Registry, flake: true },
        DeclaredInput::url("broken", "github:x/y#frag"),
    ];
    let store = tempdir();
    let over = tempdir();
    let res = InputResolver::new(flake.path())
        .with_declared(declared)
        .with_store_dir(store.path().to_str().unwrap())
        .with_override("extra", over.path())
        .root_inputs();
    assert_eq!(resolution_of(&res, "clan-core"), Resolution::Model(Model::ClanCore));
    assert_eq!(resolution_of(&res, "nixpkgs"), Resolution::Model(Model::Nixpkgs));
    assert_eq!(resolution_of(&res, "flake-parts"), Resolution::Model(Model::FlakeParts));
    assert!(matches!(resolution_of(&res, "den"), Resolution::Opaque { .. }));
    assert_eq!(resolution_of(&res, "local"), Resolution::LocalPath(flake.path().join("parts")));
    assert!(matches!(resolution_of(&res, "missing-local"), Resolution::Opaque { .. }));
    assert_eq!(resolution_of(&res, "import-tree"), Resolution::Model(Model::ImportTree));
    assert_eq!(resolution_of(&res, "home-manager"), Resolution::Model(Model::HomeManager));
    match resolution_of(&res, "broken") {
        Resolution::Opaque { reason } => assert!(reason.contains("fragment"), "{reason}"),
        other => panic!("broken: {other:?}"),
    }
    assert_eq!(resolution_of(&res, "extra"), Resolution::Override(over.path().to_path_buf()));
    assert!(res.iter().all(|r| r.node.is_none()));
}

#[test]
fn stale_lock_falls_back_on_declarations() {
    let lock = test_lock();
    let flake = tempdir();
    let res = InputResolver::new(flake.path())
        .with_lock(&lock)
        .with_store_dir("/nonexistent")
        .with_declared(vec![
            // In the lock: the lock wins (no name fallback for "den").
            DeclaredInput::url("den", "github:hercules-ci/flake-parts"),
            DeclaredInput::url("import-tree", "github:vic/import-tree"),
        ])
        .root_inputs();
    assert!(matches!(resolution_of(&res, "den"), Resolution::Opaque { .. }));
    assert_eq!(resolution_of(&res, "import-tree"), Resolution::Model(Model::ImportTree));
    assert_eq!(res.len(), 7);
}

#[test]
fn override_argument() {
    assert_eq!(InputResolver::parse_override("nixpkgs=/src/np"), Ok(("nixpkgs".into(), PathBuf::from("/src/np"))));
    assert_eq!(
        InputResolver::parse_override("clan-core/nixpkgs=../np"),
        Ok(("clan-core/nixpkgs".into(), PathBuf::from("../np")))
    );
    assert!(InputResolver::parse_override("nixpkgs").is_err());
    assert!(InputResolver::parse_override("=x").is_err());
}

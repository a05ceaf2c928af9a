//! dendrite's models of flake-parts and import-tree (`modules/flake-parts`,
//! `modules/import-tree`) against the real ones from the corpus.
//!
//! The same dendritic flakes (`tests/models/<name>/`) are evaluated twice
//! by `tests/models/harness.nix`, once with the corpus' flake-parts and
//! import-tree and once with the models, with nixpkgs lib from the corpus
//! and a stub nixpkgs; the JSON projections (flake.modules keys, each
//! published module's `_class` and `_file`, machines evaluated in their
//! class, perSystem outputs, overlays, partitions, debug output, ...) must
//! be identical. import-tree's API is compared call by call on a tree built
//! in a temporary directory. The class argument tables
//! (`modules/classes`) are checked for shape and usability.

use std::path::{Path, PathBuf};

use dendrite_eval::value::Value;
use dendrite_eval::{EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

fn corpus() -> Option<PathBuf> {
    let fp = dendrite_corpus::dir_or_skip("flake-parts")?;
    dendrite_corpus::dir_or_skip("import-tree")?;
    dendrite_corpus::dir_or_skip("nixpkgs-lib/lib")?;
    Some(fp.parent().expect("corpus root").to_path_buf())
}

/// Evaluates `builtins.toJSON (<expr>)` with the native module system and
/// returns the JSON text, or the error message.
fn eval_json(expr: String, native_modules: bool) -> Result<String, String> {
    dendrite_eval::run_with_stack(move || {
        let settings = EvalSettings { native_modules, print_traces: false, ..EvalSettings::default() };
        let mut ev = Evaluator::new(RootDatabase::default(), settings);
        dendrite_modules::install(&mut ev);
        let text = format!("builtins.toJSON ({expr})");
        let v = ev
            .eval_string(&text, Origin::String(std::env::temp_dir()))
            .and_then(|v| ev.deep_force(&v))
            .map_err(|e| e.message().to_string())?;
        match v {
            Value::String(s) => Ok(s.to_str_lossy().into_owned()),
            _ => Err("toJSON did not return a string".into()),
        }
    })
}

fn harness(corpus: &Path, mode: &str, fixture: &str, native_modules: bool) -> String {
    let models = repo().join("modules");
    let fixture = repo().join("crates/flake/tests/models").join(fixture);
    let expr = format!(
        "import {}/crates/flake/tests/models/harness.nix {{ corpus = {}; mode = \"{mode}\"; fixture = {}; models = {}; }}",
        repo().display(),
        corpus.display(),
        fixture.display(),
        models.display()
    );
    eval_json(expr, native_modules).unwrap_or_else(|e| panic!("{mode} evaluation of {}: {e}", fixture.display()))
}

fn same_outputs(fixture: &str) -> serde_like::Json {
    let Some(corpus) = corpus() else { return serde_like::Json(String::new()) };
    let mut last = None;
    for native in [true, false] {
        let real = harness(&corpus, "real", fixture, native);
        let model = harness(&corpus, "model", fixture, native);
        if real != model {
            let (r, m) = first_difference(&real, &model);
            panic!("{fixture} (native modules: {native}): model differs from flake-parts\n real: …{r}…\nmodel: …{m}…");
        }
        last = Some(real);
    }
    serde_like::Json(last.unwrap())
}

fn first_difference<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    let i = a.bytes().zip(b.bytes()).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let start = i.saturating_sub(200);
    (&a[start..(i + 200).min(a.len())], &b[start..(i + 200).min(b.len())])
}

/// Substring checks on the JSON text (no JSON dependency needed).
mod serde_like {
    pub struct Json(pub String);
    impl Json {
        pub fn has(&self, needle: &str) -> bool {
            self.0.is_empty() || self.0.contains(needle)
        }
    }
}

#[test]
fn dendritic_flake_matches_flake_parts() {
    let out = same_outputs("features");
    // Independent facts about the fixture, so that a harness projecting
    // nothing cannot pass: aggregates merged from two files (mkBefore from
    // more-dev.nix first), the wrapper's class and file, the user module
    // that imports another namespace entry, perSystem via self'.
    for needle in [
        r#""systemPackages":["jq","git","hello-x86_64-linux","zsh"]"#,
        r#""machines/darwin/beta":{"class":"darwin","file":"#,
        r#"flake.nix#modules.darwin.\"machines/darwin/beta\"""#,
        r#""users/crs58":{"value":{"home":{"packages":["starship","ripgrep","htop"]},"programs":{"zsh":{"enable":true}}}}"#,
        r#""default":"/nix/store/00000000000000000000000000000000-hello-aarch64-darwin""#,
        r#""formatter":{"aarch64-darwin":{"failed":true}"#,
        r#""meta":{"generic":true}"#,
    ] {
        assert!(out.has(needle), "missing {needle} in {}", out.0);
    }
}

#[test]
fn optional_modules_and_lib_match_flake_parts() {
    let out = same_outputs("extras");
    for needle in [
        // partitionedAttrs: checks come from the `dev` partition
        r#""fromDev":"/nix/store/00000000000000000000000000000000-dev""#,
        // touchup removed legacyPackages and packages.*.hidden
        r#""legacyPackages":null"#,
        r#""packages":{"x86_64-linux":{"value":{"hello":"#,
        // moduleWithSystem reached perSystem's config
        r#""motdLine":"x86_64-linux: have fun\nwelcome to x86_64-linux""#,
        // easyOverlay
        r#""myHello":"/nix/store/00000000000000000000000000000000-hello-x86_64-linux""#,
        // importAndPublish, flakeModules keys
        r#""greeter":{"class":"flake""#,
        r##"flake.nix#flakeModules.default","key":"##,
    ] {
        assert!(out.has(needle), "missing {needle} in {}", out.0);
    }
    assert!(!out.0.contains("ignored-by-filter"), "filterNot let a file through");
}

/// Builds a tree exercising import-tree's rules and compares every API
/// call on it, model against real.
#[test]
fn import_tree_api_matches_import_tree() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical temp dir");
    let files = [
        ("a/one.nix", "{ one = 1; }"),
        ("a/two_x.nix", "{ two = 2; }"),
        ("a/notes.txt", "not nix"),
        ("a/_hidden.nix", "throw \"hidden\""),
        ("a/b/three.nix", "{ three = 3; }"),
        ("a/_private/four.nix", "throw \"private\""),
        ("a/_private/five/six.nix", "{ six = 6; }"),
        ("a/_private/five/_seven.nix", "throw \"seven\""),
        ("ab/eight.nix", "{ eight = 8; }"),
        ("m/opt/mod.nix", "{ lib, ... }: { options.hello = lib.mkOption { default = \"world\"; }; }"),
        ("m/set/mod.nix", "{ hello = lib: \"ignored\"; }"),
        ("single.nix", "\"single\""),
        ("empty/README", ""),
    ];
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let calls = [
        ("leafs", "lit.leafs (t + \"/a\")"),
        ("leafs of a string root", "lit.leafs \"${toString t}/a\""),
        ("leafs of a hidden root", "lit.leafs (t + \"/a/_private\")"),
        ("leafs of a file", "lit.leafs (t + \"/single.nix\")"),
        ("leafs of an empty directory", "lit.leafs (t + \"/empty\")"),
        ("leafs of nested lists", "lit.leafs [ [ (t + \"/ab\") ] [ [ (t + \"/a/b\") ] ] ]"),
        ("leafs of outPath sets", "lit.leafs [ { outPath = t + \"/ab\"; } ]"),
        ("prefix quirk", "lit.leafs [ (t + \"/a\") (t + \"/ab\") ]"),
        ("filter", "(lit.filter (lib.hasInfix \"two\")).leafs t"),
        ("filter sees relative paths", "(lit.filter (p: lib.hasPrefix \"/a/\" p)).leafs t"),
        ("filterNot", "(lit.filterNot (lib.hasInfix \"/b/\")).leafs t"),
        ("filters compose", "((lit.filter (lib.hasInfix \"a\")).filterNot (lib.hasInfix \"two\")).leafs t"),
        ("match", "(lit.match \".*/[^/]+_[^/]+\\\\.nix\").leafs t"),
        ("matchNot", "(lit.matchNot \".*/[a-z]+\\\\.nix\").leafs t"),
        ("map", "(lit.map import).leafs (t + \"/a\")"),
        ("maps compose", "((lit.map baseNameOf).map builtins.stringLength).leafs t"),
        ("addPath", "((lit.addPath (t + \"/ab\")).addPath (t + \"/a/b\")).files"),
        ("addPath then call", "(lit.addPath (t + \"/ab\")).leafs (t + \"/a/b\")"),
        ("initFilter", "(lit.initFilter (lib.hasSuffix \".txt\")).leafs t"),
        ("initFilter on hidden", "(lit.initFilter (lib.hasSuffix \".nix\")).leafs (t + \"/a\")"),
        ("pipeTo", "(lit.pipeTo builtins.length) t"),
        ("result", "(lit.addPath (t + \"/a/b\")).leafs.result"),
        ("new", "(((lit.addPath (t + \"/a\")).new.addPath (t + \"/ab\")).withLib lib).files"),
        (
            "addAPI late binding",
            "((lit.addAPI { r = s: s.late; }).addAPI { late = s: (s.addPath (t + \"/ab\")).files; }).r",
        ),
        (
            "trees as roots",
            "(lit.filter (lib.hasInfix \"mod\")).leafs [ (it.addPath (t + \"/m/opt\")) (t + \"/m/set\") ]",
        ),
        (
            "module shape",
            "let m = it (t + \"/ab\"); in { n = builtins.length m.imports; inner = ((builtins.head m.imports) { inherit lib; }).imports; }",
        ),
        ("as a module", "(lib.evalModules { modules = [ (it.addPath (t + \"/m/opt\")) ]; }).config.hello"),
        ("called as a module", "(lib.evalModules { modules = [ (it (t + \"/m/opt\")) ]; }).config.hello"),
        (
            "inline modules",
            "(lib.evalModules { modules = [ (it [ { options.x = lib.mkOption { default = 1; }; } (t + \"/m/opt\") ]) ]; }).config",
        ),
        (
            "initFilter on inline modules",
            "(lib.evalModules { modules = [ ((it.initFilter (x: !(x ? config.boom))) [ { options.x = lib.mkOption { default = 1; }; } { config.boom = 1; } ]) ]; }).config.x",
        ),
        ("no lib", "builtins.tryEval (it.leafs t)"),
        (
            "is a tree",
            "{ config = it ? __config.__functor; api = builtins.attrNames (removeAttrs lit [ \"__config\" \"__functor\" ]); }",
        ),
    ];
    for (what, call) in calls {
        let run = |tree: &Path| {
            let expr = format!(
                "let lib = import {lib}; it = import {tree}; lit = it.withLib lib; t = {root}; in {call}",
                lib = corpus.join("nixpkgs-lib/lib").display(),
                tree = tree.display(),
                root = root.display(),
            );
            eval_json(expr, true)
        };
        let real = run(&corpus.join("import-tree"));
        let model = run(&repo().join("modules/import-tree"));
        assert_eq!(model, real, "import-tree `{what}`: {call}");
        assert!(real.is_ok(), "import-tree `{what}` failed in both: {real:?}");
    }
    // The default rule, checked independently of upstream: `.nix` files
    // without a `_`-prefixed component below the root, in name order.
    let expr = format!(
        "let lib = import {}; in map (p: lib.removePrefix \"{}\" (toString p)) (((import {}).withLib lib).leafs {})",
        corpus.join("nixpkgs-lib/lib").display(),
        root.display(),
        repo().join("modules/import-tree").display(),
        root.display()
    );
    let got = eval_json(expr, true).expect("leafs");
    assert_eq!(
        got,
        r#"["/a/b/three.nix","/a/one.nix","/a/two_x.nix","/ab/eight.nix","/m/opt/mod.nix","/m/set/mod.nix","/single.nix"]"#
    );
}

/// The class tables: names, and a module asking for each argument evaluates
/// in its class.
#[test]
fn class_argument_tables() {
    let Some(corpus) = corpus() else { return };
    let classes = repo().join("modules/classes");
    let expr = format!(
        r#"let
          lib = import {lib};
          unknown = what: throw "unknown: ${{what}}";
          load = f: extra: import ({classes} + "/${{f}}") ({{ inherit lib unknown; }} // extra);
          check = c:
            let
              # a module whose arguments are exactly the class's names; only
              # asking for them (not forcing them) must work
              asker = lib.setFunctionArgs (args: {{ }}) (lib.genAttrs c.argNames (_: false));
              ev = lib.evalModules {{ class = c.class; specialArgs = c.specialArgs; modules = [ c.module asker ]; }};
            in {{ inherit (c) class argNames; ok = builtins.seq ev.config true; }};
        in {{
          nixos = check (load "nixos.nix" {{ }});
          darwin = check (load "darwin.nix" {{ }});
          generic = check (load "generic.nix" {{ }});
          hm = check (load "home-manager.nix" {{ }});
          hmInNixos = check (load "home-manager.nix" {{ os = {{ class = "nixos"; config = {{ }}; }}; }});
          hmInDarwin = (load "home-manager.nix" {{ os = {{ class = "darwin"; config = {{ }}; }}; }}).argNames;
        }}"#,
        lib = corpus.join("nixpkgs-lib/lib").display(),
        classes = classes.display(),
    );
    // Interpreted nixpkgs module system: the native one currently forces
    // `specialArgs.modulesPath` in every evaluation (nixpkgs only reads it
    // for `disabledModules`), which an unknown `modulesPath` makes fatal.
    let out = eval_json(expr, false).expect("class tables");
    for needle in [
        r#""nixos":{"argNames":["_class","_prefix","baseModules","config","extendModules","extraModules","lib","moduleType","modules","modulesPath","noUserModules","options","pkgs","specialArgs","utils"],"class":"nixos","ok":true}"#,
        r#""generic":{"argNames":["_class","_prefix","config","extendModules","lib","moduleType","options","specialArgs"],"class":"generic","ok":true}"#,
        r#""class":"darwin","ok":true"#,
        r#""class":"homeManager","ok":true"#,
    ] {
        assert!(out.contains(needle), "missing {needle} in {out}");
    }
    assert!(out.contains(r#""darwinConfig""#) && out.contains(r#""osConfig""#), "{out}");
    // darwin has no utils; standalone home-manager has no osConfig
    let darwin = &out[out.find(r#""darwin":"#).unwrap()..];
    assert!(!darwin[..darwin.find('}').unwrap()].contains("utils"), "{out}");
    let hm = &out[out.find(r#""hm":"#).unwrap()..];
    assert!(!hm[..hm.find('}').unwrap()].contains("osConfig"), "{out}");
}

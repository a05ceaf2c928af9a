//! The native twins of hot nixpkgs `lib` functions (`hot.rs`) against the
//! interpreted ones: the same calls, with nixpkgs `lib` loaded with the
//! native overlays and without, must print the same, warnings and errors
//! included (each call is wrapped in `tryEval`, and its message printed).

use std::path::PathBuf;

use dendrite_eval::{EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase};

fn lib_dir() -> Option<PathBuf> {
    dendrite_corpus::dir_or_skip("nixpkgs-lib/lib")
}

/// A function of `lib` and a small directory giving the calls, by name.
const CASES: &str = r#"
lib: dir:
let
  strs = [ "" "a" "ab" "abc" "b" "bc" "/_" "/x/_y.nix" "x.nix" ".nix" "a\nb" "é" "café" "$" ".*" "[" ];
  drv = derivation { name = "d"; system = "x"; builder = "b"; };
  pairs = f: lib.concatMap (a: map (b: f a b) strs) strs;
  flat = [ [ ] [ 1 ] [ 1 [ 2 [ 3 ] ] [ ] ] [ [ [ [ ] ] ] ] [ "a" [ { } ] [ null ] ] 4 "s" ];
in
{
  hasPrefix = pairs lib.hasPrefix;
  hasSuffix = pairs lib.hasSuffix;
  hasInfix = pairs lib.hasInfix;
  removePrefix = pairs lib.removePrefix;
  flatten = map lib.flatten flat;
  partial = map (f: f "ab") [ (lib.hasPrefix "a") (lib.hasSuffix "b") (lib.hasInfix "x") (lib.removePrefix "a") ];
  pathFirst = [ (lib.hasPrefix dir "/tmp/x") (lib.hasSuffix dir "x") (lib.hasInfix dir "x") (lib.removePrefix dir "/tmp/x") ];
  pathSecond = [ (lib.hasPrefix "/" dir) (lib.hasSuffix "x" dir) (lib.removePrefix "/" dir) ];
  context = [ (builtins.getContext (lib.removePrefix "/" "${drv}")) (lib.hasPrefix "/nix" "${drv}") (lib.hasInfix "${drv.name}" "${drv}") ];
  wrongTypes = [ (lib.hasPrefix 1 "a") (lib.hasPrefix "a" 1) (lib.hasSuffix "a" [ ]) (lib.hasInfix { } "a") (lib.removePrefix "a" null) (lib.flatten (throw "boom")) ];
  throws = [ (lib.hasPrefix (throw "first") (throw "second")) (lib.hasInfix "a" (throw "second")) (lib.flatten [ 1 (throw "inner") ]) ];
}
"#;

/// Every case forced and printed on its own (a failure prints its message).
/// Paths given as strings are copied to the store: `dir` is a small one.
fn run(native: bool, lib_path: PathBuf, dir: PathBuf) -> Vec<(String, String)> {
    dendrite_eval::run_with_stack(move || {
        let settings = EvalSettings { native_modules: native, print_traces: false, ..EvalSettings::default() };
        let mut ev = Evaluator::new(RootDatabase::default(), settings);
        dendrite_modules::install(&mut ev);
        let origin = Origin::String(std::env::temp_dir());
        let lib = ev.eval_string(&format!("import {}", lib_path.display()), origin.clone()).expect("lib evaluates");
        let cases = ev.eval_string(CASES, origin).expect("the cases parse");
        let span = ev.builtin_span();
        let dir = ev.eval_string(&dir.display().to_string(), Origin::String(std::env::temp_dir())).expect("a path");
        let cases = ev.call_n(cases, &[lib, dir], span).expect("the cases apply");
        let cases = ev.expect_attrs(&cases).expect("a set");
        let mut out = Vec::new();
        for case in cases.iter() {
            let list = ev.force(&case.value).and_then(|v| ev.expect_list(&v)).expect("a list of calls");
            for (i, call) in list.iter().enumerate() {
                let shown = match ev.deep_force(call).and_then(|v| dendrite_eval::print::print_strict(&mut ev, &v)) {
                    Ok(s) => s,
                    Err(e) => format!("error: {}", e.message()),
                };
                out.push((format!("{}[{i}]", case.name), shown));
            }
        }
        out
    })
}

#[test]
fn hot_natives_match_nixpkgs_code() {
    let Some(lib_path) = lib_dir() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("x");
    std::fs::create_dir(&dir).expect("dir");
    std::fs::write(dir.join("a.nix"), "{ }\n").expect("file");
    let native = run(true, lib_path.clone(), dir.clone());
    let interpreted = run(false, lib_path, dir);
    assert!(native.len() > 1000, "only {} calls", native.len());
    assert_eq!(native.len(), interpreted.len());
    let diffs: Vec<String> = native
        .iter()
        .zip(&interpreted)
        .filter(|(a, b)| a != b)
        .map(|((name, a), (_, b))| format!("{name}:\n  native:      {a}\n  interpreted: {b}"))
        .collect();
    assert!(diffs.is_empty(), "{} of {} calls differ:\n{}", diffs.len(), native.len(), diffs.join("\n"));
}

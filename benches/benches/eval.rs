//! Parser and evaluator micro-benchmarks (`cargo bench -p dendrite-benches`).

use std::sync::Arc;

use dendrite_eval::{EvalSettings, Evaluator};
use dendrite_syntax::{Origin, RootDatabase};

fn main() {
    divan::main();
}

fn eval_str(src: &str) -> String {
    let src = src.to_string();
    dendrite_eval::run_with_stack(move || {
        let settings = EvalSettings { print_traces: false, ..EvalSettings::default() };
        let mut ev = Evaluator::new(RootDatabase::default(), settings);
        let v = ev.eval_string(&src, Origin::String(std::env::temp_dir())).expect("evaluates");
        dendrite_eval::print::print_strict(&mut ev, &v).expect("prints")
    })
}

/// Parsing and lowering every file of nixpkgs `lib`.
#[divan::bench]
fn parse_nixpkgs_lib(bencher: divan::Bencher) {
    let Some(corpus) = dendrite_benches::corpus() else {
        eprintln!("corpus missing: skipping parse_nixpkgs_lib");
        return;
    };
    let mut files = Vec::new();
    for e in std::fs::read_dir(corpus.join("nixpkgs-lib/lib")).expect("lib dir").flatten() {
        if e.path().extension().is_some_and(|x| x == "nix") {
            files.push((e.path(), std::fs::read_to_string(e.path()).expect("readable")));
        }
    }
    bencher.bench(|| {
        let db = RootDatabase::default();
        for (path, text) in &files {
            let f = db.virtual_file(Origin::Path(path.clone()), Arc::from(text.as_str()));
            divan::black_box(dendrite_syntax::lower_file(&db, f));
        }
    });
}

/// The issue-2 benchmark: nixpkgs lib, 250 000 list elements.
#[divan::bench(sample_count = 5)]
fn lib_concat_map_250k(bencher: divan::Bencher) {
    let Some(corpus) = dendrite_benches::corpus() else {
        eprintln!("corpus missing: skipping lib_concat_map_250k");
        return;
    };
    let expr = dendrite_benches::lib_expression(&corpus.join("nixpkgs-lib/lib"));
    bencher.bench(|| divan::black_box(eval_str(&expr)));
}

/// Function calls and arithmetic in a tight recursion.
#[divan::bench]
fn fib_20() -> String {
    eval_str("let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib 20")
}

/// Attribute set construction and `//`.
#[divan::bench]
fn attrs_fold_2000() -> String {
    eval_str(
        "builtins.length (builtins.attrNames (builtins.foldl' (acc: i: acc // { \"k${toString i}\" = i; }) {} (builtins.genList (x: x) 2000)))",
    )
}

//! Project automation.
//!
//! `cargo xtask lang-suite` runs the Nix language test suite against
//! dendrite the way upstream's `lang.sh` runs it against Nix;
//! `cargo xtask corpus-smoke` parses and evaluates every `.nix` file of the
//! shared corpus looking for panics, crashes and hangs; `cargo xtask test`
//! is what CI runs; `cargo xtask fuzz` mutates Nix files and runs
//! `dendrite eval` and `check` on them looking for the same.

mod corpus;
mod fuzz;
mod lang;
mod lib_diff;
mod modules_sh;
mod own_lib;
mod util;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test           build, run the unit tests and every conformance runner (what CI runs)
  lang-suite     run ../shared/corpus/nix-lang like upstream lang.sh; compare with the baseline
  corpus-smoke   parse and evaluate every .nix file in ../shared/corpus; fail on panic/crash/hang
  fuzz           mutate Nix files and run `dendrite eval`/`check` on them; fail on panic/crash/hang
  modules-sh     run nixpkgs lib/tests/modules.sh with dendrite as nix-instantiate
  lib-diff       compare nixpkgs lib functions on generated inputs with the oracle (Nix 2.8)
  lib-usage      regenerate modules/lib/FUNCTIONS.md (the lib functions the corpus uses)
  own-lib-diff   compare dendrite's Nix lib (modules/lib) with nixpkgs lib on generated inputs

options:
  --update-baseline   record the measured counts as the new baseline (lang-suite, modules-sh)
  --verbose           print every test's outcome
  --only SUBSTRING    run only the language tests (own-lib-diff: functions) whose name contains SUBSTRING
  --mode 0|1          modules-sh: DENDRITE_NATIVE_MODULES value (default 0)
  --compare-nix       modules-sh: also run it with the system nix-instantiate and report its time
  --cases N           fuzz: run N cases per target (reproducible; default: until --seconds)
  --seconds S         fuzz: stop after S seconds (default 60 when --cases is not given)
  --seed X            fuzz: base of the cases' random streams (default 0x5eed)
  --target T          fuzz: eval, check or both (default both)
  --differential      fuzz: also compare eval results with nix-instantiate (reported, not failed)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "--verbose");
    let update = args.iter().any(|a| a == "--update-baseline");
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).map(String::as_str);
    let result = match args.first().map(String::as_str) {
        Some("lang-suite") => lang::run(verbose, update, only),
        Some("corpus-smoke") => corpus::run(verbose),
        Some("modules-sh") => {
            let modes: Vec<&str> = match args.iter().position(|a| a == "--mode").and_then(|i| args.get(i + 1)) {
                Some(m) => vec![m.as_str()],
                None => vec!["0"],
            };
            modules_sh::run(&modes, update, args.iter().any(|a| a == "--compare-nix"), verbose)
        }
        Some("lib-diff") => lib_diff::run(8, 0x5eed),
        Some("lib-usage") => own_lib::usage(),
        Some("own-lib-diff") => own_lib::diff(8, 0x5eed, verbose, only),
        Some("lib-diff-functions") => {
            for f in lib_diff::function_list() {
                println!("{f}");
            }
            Ok(())
        }
        Some("fuzz") => {
            let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
            let number = |flag: &str| -> Result<Option<u64>, String> {
                value(flag)
                    .map(|v| {
                        let (digits, radix) = match v.strip_prefix("0x") {
                            Some(h) => (h, 16),
                            None => (v.as_str(), 10),
                        };
                        u64::from_str_radix(digits, radix).map_err(|_| format!("{flag}: not a number: {v}"))
                    })
                    .transpose()
            };
            let target = value("--target").map(String::as_str).unwrap_or("both");
            match (number("--cases"), number("--seconds"), number("--seed")) {
                (Ok(cases), Ok(seconds), Ok(seed)) if ["eval", "check", "both"].contains(&target) => {
                    fuzz::run(&fuzz::Options {
                        seconds: seconds.or(if cases.is_none() { Some(60) } else { None }),
                        cases,
                        seed: seed.unwrap_or(0x5eed),
                        eval: target != "check",
                        check: target != "eval",
                        verbose,
                        differential: args.iter().any(|a| a == "--differential"),
                    })
                }
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
                _ => Err(format!("--target: expected eval, check or both, not {target}")),
            }
        }
        Some("test") => test_all(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn test_all() -> Result<(), String> {
    util::run_cargo(&["test", "--workspace", "--release", "--quiet"])?;
    if let Err(e) = util::corpus() {
        println!("SKIPPED: the conformance runners need the shared corpus: {e}");
        return Ok(());
    }
    lang::run(false, false, None)?;
    corpus::run(false)?;
    modules_sh::run(&["0", "1"], false, false, false)?;
    lib_diff::run(8, 0x5eed)?;
    own_lib::diff(8, 0x5eed, false, None)?;
    // A fixed number of cases from a fixed seed: the same inputs every run,
    // so a failure here is reproducible with the printed case number.
    for (eval, cases) in [(true, 3000), (false, 1000)] {
        fuzz::run(&fuzz::Options {
            cases: Some(cases),
            seconds: None,
            seed: 0x5eed,
            eval,
            check: !eval,
            verbose: false,
            differential: false,
        })?;
    }
    Ok(())
}

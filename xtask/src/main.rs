//! Project automation.
//!
//! `cargo xtask lang-suite` runs the Nix language test suite against
//! dendrite the way upstream's `lang.sh` runs it against Nix;
//! `cargo xtask corpus-smoke` parses and evaluates every `.nix` file of the
//! shared corpus looking for panics, crashes and hangs; `cargo xtask test`
//! is what CI runs.

mod corpus;
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
  modules-sh     run nixpkgs lib/tests/modules.sh with dendrite as nix-instantiate
  lib-diff       compare nixpkgs lib functions on generated inputs with the oracle (Nix 2.8)
  lib-usage      regenerate modules/lib/FUNCTIONS.md (the lib functions the corpus uses)
  own-lib-diff   compare dendrite's Nix lib (modules/lib) with nixpkgs lib on generated inputs

options:
  --update-baseline   record the measured counts as the new baseline (lang-suite, modules-sh)
  --verbose           print every test's outcome
  --only SUBSTRING    run only the language tests (own-lib-diff: functions) whose name contains SUBSTRING
  --mode 0|1          modules-sh: DENDRITE_NATIVE_MODULES value (default 0)
  --compare-nix       modules-sh: also run it with the system nix-instantiate and report its time";

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
    Ok(())
}

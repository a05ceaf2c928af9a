//! `cargo xtask fuzz`: mutation fuzzing of `dendrite eval` and
//! `dendrite check` in child processes.
//!
//! Inputs are the Nix language suite's files and the project's own Nix
//! (fixtures, models), mutated the way editing goes wrong: bytes and token
//! ranges deleted, duplicated or swapped, keywords and operators inserted,
//! slices of other files spliced in, identifiers replaced by builtins. Each
//! case runs in its own process with a time limit and a 4 GiB address-space
//! limit, so a panic, a crash (stack overflow included) or a hang is seen
//! from outside like a user would see it.
//!
//! What counts as a failure: exit 101 (panic), death by a signal other
//! than an allocation failure under the memory limit, an exit code other
//! than 0/1 (eval) or 0/1/2 (check), an error exit with nothing on stderr,
//! `check` output that is not the promised JSON, or a diagnostic without a
//! line, or a `check` that passes a flake one of whose files does not parse;
//! and a time-out when `nix-instantiate` finishes the same input in time
//! (when both time out, the program is simply long-running). Failures are
//! shrunk (ddmin over lines, then bytes) and written to `target/fuzz/`.
//!
//! Cases are numbered and case `i` is generated from `seed` and `i` alone,
//! so `--cases N` runs are reproducible whatever the thread count.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::util::{self, Rng};

/// What `cargo xtask fuzz` was asked to do.
pub struct Options {
    /// Stop after this many cases (per target) ...
    pub cases: Option<u64>,
    /// ... or after this long (whichever comes first).
    pub seconds: Option<u64>,
    /// Base of every case's random stream.
    pub seed: u64,
    /// Fuzz `dendrite eval`.
    pub eval: bool,
    /// Fuzz `dendrite check` on the fleet fixture.
    pub check: bool,
    /// Print every failing case as it is found.
    pub verbose: bool,
    /// Also compare `eval` results with `nix-instantiate` (reported, not
    /// failed: Nix 2.8 predates parts of the language suite).
    pub differential: bool,
}

/// Tokens that make (or break) Nix programs in interesting ways.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    "=",
    ":",
    ",",
    ".",
    "...",
    "?",
    "@",
    "//",
    "++",
    "+",
    "-",
    "*",
    "/",
    "->",
    "==",
    "!=",
    "<",
    "<=",
    "!",
    "&&",
    "||",
    "|>",
    "<|",
    "rec ",
    "let ",
    " in ",
    "with ",
    "inherit ",
    "if ",
    " then ",
    " else ",
    "assert ",
    " or ",
    "\"",
    "''",
    "${",
    "\\",
    "#",
    "/*",
    "*/",
    "./.",
    "../",
    "<nixpkgs>",
    "~/x",
    "x",
    "x:",
    "{ x, ... }: ",
    "_: ",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1.5e308",
    "9223372036854775807",
    "-9223372036854775808",
    "0.0",
    "__curPos",
    "__sub",
    "__lessThan",
    "builtins.",
    "import ./.",
    "import ",
    "throw \"t\"",
    "abort \"a\"",
    "(x: x x) (x: x x)",
    "let x = x; in x",
    "rec { a = a; }.a",
    "\"${\"",
    "''${",
    "'''",
    "\\\n",
    "\u{0}",
    "\u{e9}",
    "\u{1F600}",
];

/// Builtins worth calling with whatever arguments follow.
const BUILTINS: &[&str] = &[
    "builtins.genericClosure",
    "builtins.fromJSON",
    "builtins.toJSON",
    "builtins.toXML",
    "builtins.match",
    "builtins.split",
    "builtins.substring",
    "builtins.seq",
    "builtins.deepSeq",
    "builtins.genList",
    "builtins.foldl'",
    "builtins.sort",
    "builtins.listToAttrs",
    "builtins.mapAttrs",
    "builtins.replaceStrings",
    "builtins.concatMap",
    "builtins.tryEval",
    "builtins.addErrorContext",
    "builtins.unsafeGetAttrPos",
    "builtins.functionArgs",
    "builtins.toString",
    "builtins.hashString \"sha256\"",
    "builtins.fromTOML",
    "builtins.readFile",
    "builtins.readDir",
    "builtins.path",
    "builtins.derivation",
    "builtins.storePath",
    "builtins.getContext",
    "builtins.appendContext",
    "builtins.scopedImport",
    "builtins.zipAttrsWith",
    "builtins.groupBy",
    "builtins.partition",
    "builtins.splitVersion",
    "builtins.compareVersions",
    "builtins.parseDrvName",
    "builtins.bitAnd",
    "builtins.div",
    "builtins.ceil",
    "builtins.floor",
    "builtins.intersectAttrs",
    "builtins.catAttrs",
    "builtins.elemAt",
    "builtins.head",
    "builtins.tail",
    "builtins.getAttr",
    "builtins.hasAttr",
    "builtins.removeAttrs",
    "builtins.filterSource",
    "builtins.fetchTarball",
    "builtins.trace",
    "builtins.warn",
    "builtins.break",
    "builtins.getEnv",
    "builtins.placeholder",
    "builtins.toFile \"f\"",
    "builtins.dirOf",
    "builtins.baseNameOf",
    "builtins.convertHash",
    "builtins.flakeRefToString",
    "builtins.parseFlakeRef",
];

fn mutate(rng: &mut Rng, base: &[u8], donors: &[Vec<u8>]) -> Vec<u8> {
    let mut s = base.to_vec();
    let ops = 1 + rng.index(4);
    for _ in 0..ops {
        let len = s.len();
        let at = rng.index(len + 1);
        let span = 1 + rng.index(16);
        match rng.index(11) {
            8..=10 => replace_token(rng, &mut s),
            0 => {
                let end = (at + span).min(len);
                s.drain(at..end);
            }
            1 => {
                let end = (at + span).min(len);
                let piece = s[at..end].to_vec();
                s.splice(at..at, piece);
            }
            2 | 3 => {
                let t = TOKENS[rng.index(TOKENS.len())].as_bytes().to_vec();
                s.splice(at..at, t);
            }
            4 => {
                if let Some(d) = donors.get(rng.index(donors.len())) {
                    let from = rng.index(d.len());
                    let end = (from + 1 + rng.index(200)).min(d.len());
                    s.splice(at..at, d[from..end].to_vec());
                }
            }
            5 => {
                // An identifier becomes a builtin (called on what follows it).
                let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
                let mut i = at.min(len);
                while i < len && !ident(s[i]) {
                    i += 1;
                }
                let mut j = i;
                while j < len && ident(s[j]) {
                    j += 1;
                }
                let b = BUILTINS[rng.index(BUILTINS.len())].as_bytes().to_vec();
                s.splice(i..j, b);
            }
            6 => {
                let special = b"{}[]();:=.\"'$\\@?,/*+-<>!&|#~";
                if at < len {
                    s[at] = special[rng.index(special.len())];
                }
            }
            _ => {
                // Swap two ranges.
                let other = rng.index(len + 1);
                let (a, b) = if at <= other { (at, other) } else { (other, at) };
                let a_end = (a + span).min(b);
                let b_end = (b + span).min(len);
                if a_end > a && b_end > b {
                    let first = s[a..a_end].to_vec();
                    let second = s[b..b_end].to_vec();
                    s.splice(b..b_end, first);
                    s.splice(a..a_end, second);
                }
            }
        }
    }
    s
}

/// Replaces one token by another of its kind, keeping the program
/// syntactically valid more often than byte edits do: numbers by edge
/// values, identifiers by other identifiers of the file or builtins,
/// operators by operators.
fn replace_token(rng: &mut Rng, s: &mut Vec<u8>) {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'\'' || b == b'-';
    // Token boundaries: runs of identifier characters or of operator characters.
    let mut tokens: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if ident(b) {
            while i < s.len() && ident(s[i]) {
                i += 1;
            }
        } else {
            while i < s.len() && !ident(s[i]) && !s[i].is_ascii_whitespace() {
                i += 1;
            }
        }
        tokens.push((start, i));
    }
    if tokens.is_empty() {
        return;
    }
    let (a, b) = tokens[rng.index(tokens.len())];
    let tok = s[a..b].to_vec();
    const NUMBERS: &[&str] = &[
        "0",
        "1",
        "-1",
        "2",
        "1000000000",
        "9223372036854775807",
        "(-9223372036854775807 - 1)",
        "0.5",
        "1e308",
        "-0.0",
        "3.0e-324",
    ];
    const OPERATORS: &[&str] =
        &["+", "-", "*", "/", "++", "//", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "->", "?", "."];
    let new: Vec<u8> = if tok[0].is_ascii_digit() {
        NUMBERS[rng.index(NUMBERS.len())].as_bytes().to_vec()
    } else if ident(tok[0]) {
        if rng.index(3) == 0 {
            BUILTINS[rng.index(BUILTINS.len())].as_bytes().to_vec()
        } else {
            let (c, d) = tokens[rng.index(tokens.len())];
            if ident(s[c]) { s[c..d].to_vec() } else { tok.clone() }
        }
    } else if OPERATORS.contains(&std::str::from_utf8(&tok).unwrap_or("")) {
        OPERATORS[rng.index(OPERATORS.len())].as_bytes().to_vec()
    } else {
        return;
    };
    s.splice(a..b, new);
}

/// How one run of dendrite ended, judged.
#[derive(Clone, Debug, PartialEq)]
enum Verdict {
    Ok,
    /// An evaluation or parse error reported as such (exit 1).
    Error,
    /// A syntax error reported as such (exit 1).
    SyntaxError,
    /// Hit the memory limit or was slow in Nix too: not dendrite's fault.
    Resource(String),
    /// A bug; the string says which kind (used to keep shrinking on it).
    Bug(String),
    /// Both succeeded with different results (differential mode).
    Mismatch(String),
}

const EVAL_LIMIT: Duration = Duration::from_secs(5);
const CHECK_LIMIT: Duration = Duration::from_secs(20);
const NIX_LIMIT: Duration = Duration::from_secs(15);

fn limited(bin: &Path, args: &[&str], dir: &Path) -> Command {
    // 4 GiB of address space: a runaway allocation aborts instead of taking
    // the machine down.
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("ulimit -v 4194304 2>/dev/null; exec \"$0\" \"$@\"").arg(bin).args(args);
    cmd.current_dir(dir).env("TEST_VAR", "foo").env("HOME", "/fake-home").env("NIX_PATH", "");
    cmd
}

fn judge_exit(o: &util::Outcome, ok_codes: &[i32]) -> Option<Verdict> {
    let stderr = String::from_utf8_lossy(&o.stderr);
    if stderr.contains("memory allocation of") || stderr.contains("failed to allocate") {
        return Some(Verdict::Resource("memory limit".into()));
    }
    if o.code == Some(101) || stderr.contains("panicked at") {
        let line = stderr.lines().find(|l| l.contains("panicked at")).unwrap_or("").to_string();
        let at = stderr.lines().skip_while(|l| !l.contains("panicked at")).nth(1).unwrap_or("");
        return Some(Verdict::Bug(format!("panic: {line} {at}")));
    }
    if let Some(sig) = o.signal {
        return Some(Verdict::Bug(format!("killed by signal {sig}")));
    }
    match o.code {
        Some(c) if ok_codes.contains(&c) => None,
        other => Some(Verdict::Bug(format!("unexpected exit status {other:?}"))),
    }
}

fn nix_finishes(file: &Path) -> Option<Duration> {
    let started = Instant::now();
    let dir = file.parent().unwrap_or(Path::new("/"));
    let mut cmd = limited(Path::new("nix-instantiate"), &["--eval", "--strict", "case.nix"], dir);
    cmd.env("NIX_STATE_DIR", std::env::temp_dir().join("dendrite-fuzz-nix-state"));
    let o = util::run_limited(cmd, None, NIX_LIMIT);
    if o.timed_out || o.code.is_none() { None } else { Some(started.elapsed()) }
}

fn run_eval(bin: &Path, dir: &Path, text: &[u8], have_nix: bool, differential: bool) -> Verdict {
    let file = dir.join("case.nix");
    if std::fs::write(&file, text).is_err() {
        return Verdict::Resource("could not write the case".into());
    }
    let o = util::run_limited(limited(bin, &["eval", "--strict", "case.nix"], dir), None, EVAL_LIMIT);
    if o.timed_out {
        if !have_nix {
            return Verdict::Resource("timed out (no nix-instantiate to compare with)".into());
        }
        return match nix_finishes(&file) {
            Some(t) => Verdict::Bug(format!("hang: timed out after {EVAL_LIMIT:?}; nix-instantiate took {t:.2?}")),
            None => Verdict::Resource("slow in Nix too".into()),
        };
    }
    if let Some(v) = judge_exit(&o, &[0, 1]) {
        return v;
    }
    if o.code == Some(1) {
        let stderr = String::from_utf8_lossy(&o.stderr);
        if !stderr.contains("error") {
            return Verdict::Bug("exit 1 without an error message".into());
        }
        if stderr.contains("syntax error") || stderr.contains("error: parse") {
            return Verdict::SyntaxError;
        }
        return Verdict::Error;
    }
    if differential && have_nix {
        let mut cmd = limited(Path::new("nix-instantiate"), &["--eval", "--strict", "case.nix"], dir);
        cmd.env("NIX_STATE_DIR", std::env::temp_dir().join("dendrite-fuzz-nix-state"));
        let nix = util::run_limited(cmd, None, NIX_LIMIT);
        if nix.code == Some(0) && nix.stdout != o.stdout {
            let ours = String::from_utf8_lossy(&o.stdout);
            let theirs = String::from_utf8_lossy(&nix.stdout);
            let at = ours.chars().zip(theirs.chars()).take_while(|(a, b)| a == b).count();
            let show = |t: &str| t.chars().skip(at.saturating_sub(20)).take(60).collect::<String>();
            return Verdict::Mismatch(format!("dendrite `{}` vs nix `{}`", show(&ours), show(&theirs)));
        }
    }
    Verdict::Ok
}

/// The `"line":` values of a `dendrite check --format json` report.
fn json_lines(out: &str) -> Vec<Option<i64>> {
    let mut v = Vec::new();
    let mut rest = out;
    while let Some(i) = rest.find("\"line\":") {
        rest = &rest[i + 7..];
        let num: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
        v.push(num.parse().ok());
    }
    v
}

fn run_check(bin: &Path, flake: &Path, rel: &Path, text: &[u8]) -> Verdict {
    let target = flake.join(rel);
    let original = match std::fs::read(&target) {
        Ok(t) => t,
        Err(_) => return Verdict::Resource("could not read the fixture".into()),
    };
    if std::fs::write(&target, text).is_err() {
        return Verdict::Resource("could not write the case".into());
    }
    let o = util::run_limited(limited(bin, &["check", "--format", "json", "-j", "0", "."], flake), None, CHECK_LIMIT);
    let verdict = (|| {
        if o.timed_out {
            return Verdict::Bug(format!("hang: check timed out after {CHECK_LIMIT:?}"));
        }
        if let Some(v) = judge_exit(&o, &[0, 1, 2]) {
            return v;
        }
        let out = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        if o.code == Some(2) {
            return if stderr.trim().is_empty() && !out.contains("\"diagnostics\"") {
                Verdict::Bug("exit 2 without a reason".into())
            } else {
                Verdict::Error
            };
        }
        if !out.trim_start().starts_with("{\"diagnostics\":[") || !out.contains("\"summary\":") {
            return Verdict::Bug("output is not the JSON report".into());
        }
        let lines = json_lines(&out);
        if lines.iter().any(|l| matches!(l, Some(n) if *n < 1)) {
            return Verdict::Bug("a diagnostic with line < 1".into());
        }
        if o.code == Some(1) {
            if !out.contains("\"code\":") {
                return Verdict::Bug("exit 1 without a diagnostic".into());
            }
            return Verdict::Error;
        }
        // A clean check of a flake with a file that does not parse.
        let parse =
            util::run_limited(limited(bin, &["eval", "--parse", &rel.display().to_string()], flake), None, EVAL_LIMIT);
        if parse.code == Some(1) {
            return Verdict::Bug(format!("check passed although {} does not parse", rel.display()));
        }
        Verdict::Ok
    })();
    let _ = std::fs::write(&target, original);
    verdict
}

fn nix_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => nix_files(&p, out),
            Ok(t) if t.is_file() && p.extension().is_some_and(|x| x == "nix") => out.push(p),
            _ => {}
        }
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), &dest)?;
        }
    }
    Ok(())
}

/// ddmin-style shrinking: drop chunks of lines, then of bytes, while `still`
/// holds.
fn shrink(mut text: Vec<u8>, mut still: impl FnMut(&[u8]) -> bool, budget: Duration) -> Vec<u8> {
    let started = Instant::now();
    for by_lines in [true, false] {
        let units = |t: &[u8]| -> Vec<(usize, usize)> {
            if by_lines {
                let mut v = Vec::new();
                let mut start = 0;
                for (i, b) in t.iter().enumerate() {
                    if *b == b'\n' {
                        v.push((start, i + 1));
                        start = i + 1;
                    }
                }
                if start < t.len() {
                    v.push((start, t.len()));
                }
                v
            } else {
                (0..t.len()).map(|i| (i, i + 1)).collect()
            }
        };
        let mut chunk = units(&text).len().div_ceil(2).max(1);
        while chunk >= 1 {
            let mut i = 0;
            let mut changed = false;
            loop {
                let u = units(&text);
                if i >= u.len() || started.elapsed() > budget {
                    break;
                }
                let end = (i + chunk).min(u.len());
                let mut candidate = text[..u[i].0].to_vec();
                candidate.extend_from_slice(&text[u[end - 1].1..]);
                if still(&candidate) {
                    text = candidate;
                    changed = true;
                } else {
                    i += chunk;
                }
            }
            if started.elapsed() > budget {
                return text;
            }
            if chunk == 1 && !changed {
                break;
            }
            chunk = if chunk == 1 { 1 } else { chunk / 2 };
        }
    }
    text
}

fn kind(v: &Verdict) -> Option<&str> {
    match v {
        // Shrink on the kind of bug (first word and, for panics, the place).
        Verdict::Bug(s) => Some(s.as_str()),
        _ => None,
    }
}

fn same_bug(a: &str, b: &str) -> bool {
    let key = |s: &str| -> String {
        if s.starts_with("panic") {
            s.split("panicked at").nth(1).unwrap_or(s).split(':').next().unwrap_or(s).to_string()
        } else {
            s.split(':').next().unwrap_or(s).to_string()
        }
    };
    key(a) == key(b)
}

#[derive(Default)]
struct Tally {
    ok: u64,
    errors: u64,
    syntax: u64,
    resource: u64,
    bugs: Vec<String>,
    mismatches: Vec<String>,
}

/// Runs the fuzzer.
pub fn run(opts: &Options) -> Result<(), String> {
    let corpus = util::corpus()?;
    let bin = util::dendrite_binary()?;
    let root = util::root();
    let mut seeds: Vec<PathBuf> = Vec::new();
    nix_files(&corpus.join("nix-lang"), &mut seeds);
    nix_files(&root.join("fixtures"), &mut seeds);
    nix_files(&root.join("modules"), &mut seeds);
    let seeds: Vec<Vec<u8>> =
        seeds.iter().filter_map(|p| std::fs::read(p).ok()).filter(|t| !t.is_empty() && t.len() <= 16 * 1024).collect();
    if seeds.is_empty() {
        return Err("no seed files found".into());
    }
    let have_nix = Command::new("nix-instantiate").arg("--version").output().is_ok_and(|o| o.status.success());
    if !have_nix {
        println!("note: nix-instantiate is missing; time-outs are reported as resource limits, not hangs");
    }
    let out_dir = util::target_dir().join("fuzz");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("creating {}: {e}", out_dir.display()))?;
    let lang_dir = corpus.join("nix-lang");
    let fleet = root.join("fixtures/fleet");
    let mut fleet_files = Vec::new();
    nix_files(&fleet, &mut fleet_files);
    let fleet_files: Vec<PathBuf> =
        fleet_files.iter().filter_map(|p| p.strip_prefix(&fleet).ok().map(Path::to_path_buf)).collect();

    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let deadline = opts.seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let mut failed = 0usize;
    for (target, enabled) in [("eval", opts.eval), ("check", opts.check)] {
        if !enabled {
            continue;
        }
        let started = Instant::now();
        let next = AtomicU64::new(0);
        let tally = Mutex::new(Tally::default());
        let target_deadline = deadline.map(|d| {
            // Time is split evenly between the targets still to run.
            let both = opts.eval && opts.check && target == "eval";
            if both { started + (d - started) / 2 } else { d }
        });
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (bin, seeds, tally, next, fleet_files, out_dir) =
                    (&bin, &seeds, &tally, &next, &fleet_files, &out_dir);
                let fleet = &fleet;
                let lang_dir = &lang_dir;
                scope.spawn(move || {
                    let work = std::env::temp_dir().join(format!("dendrite-fuzz-{}-{target}-{t}", std::process::id()));
                    let _ = std::fs::remove_dir_all(&work);
                    let flake = work.join("fleet");
                    // Eval cases sit in a copy of the language suite, so
                    // that the files they import exist.
                    let lang = work.join("lang");
                    let ready = std::fs::create_dir_all(&work).is_ok()
                        && match target {
                            "check" => copy_dir(fleet, &flake).is_ok(),
                            _ => copy_dir(lang_dir, &lang).is_ok(),
                        };
                    if !ready {
                        return;
                    }
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if opts.cases.is_some_and(|n| i >= n) || target_deadline.is_some_and(|d| Instant::now() >= d) {
                            break;
                        }
                        let mut rng = Rng::for_case(opts.seed, i);
                        let (text, rel) = if target == "eval" {
                            let pick = rng.index(seeds.len());
                            (mutate(&mut rng, &seeds[pick], seeds), None)
                        } else {
                            let rel = &fleet_files[rng.index(fleet_files.len())];
                            let base = std::fs::read(fleet.join(rel)).unwrap_or_default();
                            (mutate(&mut rng, &base, seeds), Some(rel.clone()))
                        };
                        let run = |t: &[u8]| match &rel {
                            None => run_eval(bin, &lang, t, have_nix, opts.differential),
                            Some(r) => run_check(bin, &flake, r, t),
                        };
                        let verdict = run(&text);
                        let mut tl = tally.lock().unwrap_or_else(|e| e.into_inner());
                        match &verdict {
                            Verdict::Ok => tl.ok += 1,
                            Verdict::Error => tl.errors += 1,
                            Verdict::SyntaxError => tl.syntax += 1,
                            Verdict::Resource(_) => tl.resource += 1,
                            Verdict::Mismatch(why) => {
                                let name = format!("{target}-mismatch{i}.nix");
                                let _ = std::fs::write(out_dir.join(&name), &text);
                                tl.mismatches.push(format!("case {i}: {why}; target/fuzz/{name}"));
                            }
                            Verdict::Bug(why) => {
                                drop(tl);
                                let why = why.clone();
                                let small = shrink(
                                    text.clone(),
                                    |c| kind(&run(c)).is_some_and(|k| same_bug(k, &why)),
                                    Duration::from_secs(60),
                                );
                                let name = format!("{target}-case{i}.nix");
                                let _ = std::fs::write(out_dir.join(&name), &small);
                                let _ = std::fs::write(out_dir.join(format!("{target}-case{i}.orig.nix")), &text);
                                let place = rel
                                    .as_ref()
                                    .map(|r| format!(" (as fixtures/fleet/{})", r.display()))
                                    .unwrap_or_default();
                                let line = format!("case {i}: {why}; shrunk to target/fuzz/{name}{place}");
                                if opts.verbose {
                                    println!("  {target} {line}");
                                }
                                tally.lock().unwrap_or_else(|e| e.into_inner()).bugs.push(line);
                            }
                        }
                    }
                    let _ = std::fs::remove_dir_all(&work);
                });
            }
        });
        let tl = tally.into_inner().unwrap_or_else(|e| e.into_inner());
        let n = tl.ok + tl.errors + tl.syntax + tl.resource + (tl.bugs.len() + tl.mismatches.len()) as u64;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "fuzz {target}: {n} cases in {secs:.1} s ({:.0}/s, seed {:#x}): {} ok, {} syntax errors and {} other errors reported, {} over a resource limit, {} failures",
            n as f64 / secs.max(1e-9),
            opts.seed,
            tl.ok,
            tl.syntax,
            tl.errors,
            tl.resource,
            tl.bugs.len()
        );
        for b in &tl.bugs {
            println!("  {b}");
        }
        if opts.differential {
            println!("  {} results differ from nix-instantiate's:", tl.mismatches.len());
            for m in &tl.mismatches {
                println!("    {m}");
            }
        }
        failed += tl.bugs.len();
    }
    if failed == 0 { Ok(()) } else { Err(format!("{failed} fuzz cases made dendrite fail (see target/fuzz/)")) }
}

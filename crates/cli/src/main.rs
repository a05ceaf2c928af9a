//! The `dendrite` command.
//!
//! Invoked as `dendrite`, it offers subcommands (`eval`, ...). Invoked
//! through a link named `nix-instantiate`, it accepts `nix-instantiate`'s
//! flags so that upstream test scripts run against it unchanged.

#[cfg(not(feature = "system-alloc"))]
mod alloc;
mod instantiate;
mod report;
mod show;

use clap::{Parser, Subcommand};

use instantiate::{AutoArg, InstantiateOpts};

/// Check dendritic flake-parts + clan-core flakes in milliseconds, without Nix.
#[derive(Parser, Debug)]
#[command(name = "dendrite", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Evaluate a Nix file or expression and print the result, like
    /// `nix-instantiate --eval`.
    #[command(
        after_help = "Examples:\n  dendrite eval -E '1 + 2'\n  dendrite eval --strict --json ./default.nix -A packages\n  dendrite eval file.nix --arg pkgs '{}' --argstr name foo"
    )]
    Eval(EvalArgs),
    /// Check a dendritic flake: evaluate its top-level configuration and
    /// every machine's module closure without Nix, and report namespace
    /// typos, specialArgs leaks, class mismatches, inventory errors and
    /// the module system's own errors at the definition that causes them.
    ///
    /// Inputs are resolved without downloading: `--input NAME=PATH`, then
    /// a local copy at the store path flake.lock implies, then a model
    /// bundled with dendrite (flake-parts, import-tree, clan-core, nixpkgs'
    /// lib, home-manager, nix-darwin), else an opaque value whose checks
    /// are skipped. Rules and severities: docs/rules/, dendrite.toml.
    ///
    /// Exit status: 0 no errors, 1 errors found, 2 could not run.
    #[command(
        after_help = "Examples:\n  dendrite check                     # the flake in the current directory\n  dendrite check ~/fleet --format json\n  dendrite check . --input clan-core=../clan-core"
    )]
    Check(CheckArgs),
    /// Print the module import graph of a dendritic flake: which file
    /// defines which `flake.modules.<class>.<name>` entry (dashed edges) and
    /// which entry or file imports which (solid edges), from the syntax
    /// alone. Render DOT with Graphviz: `dendrite graph | dot -Tsvg > g.svg`.
    Graph(GraphArgs),
    /// Run the language server on stdin/stdout: `dendrite check`'s findings
    /// as you type (for every file of the flake), go to definition and hover
    /// for `flake.modules` keys, completion of keys and classes.
    #[command(
        after_help = "Neovim:\n  vim.lsp.start({ name = \"dendrite\", cmd = { \"dendrite\", \"lsp\" },\n    root_dir = vim.fs.root(0, \"flake.nix\") })"
    )]
    Lsp,
}

#[derive(clap::Args, Debug)]
struct GraphArgs {
    /// The flake's directory.
    #[arg(default_value = ".")]
    flake: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// `{"nodes":[...],"edges":[...]}`.
    Json,
}

fn run_graph(args: GraphArgs) -> i32 {
    match dendrite_check::graph::build(&args.flake) {
        Ok(g) => {
            print!(
                "{}",
                match args.format {
                    GraphFormat::Dot => g.dot(),
                    GraphFormat::Json => g.json(),
                }
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// The flake's directory.
    #[arg(default_value = ".")]
    flake: std::path::PathBuf,
    /// Use a local directory for an input (repeatable): NAME=PATH.
    #[arg(long = "input", value_name = "NAME=PATH")]
    input: Vec<String>,
    /// Where locked inputs may already be on disk.
    #[arg(long, value_name = "DIR", default_value = "/nix/store")]
    store_dir: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Print how each input was resolved.
    #[arg(long, short)]
    verbose: bool,
    /// Read editor buffers to check instead of the files on disk from
    /// standard input, as JSON `[{"path": ..., "text": ...}]` (used by
    /// `dendrite lsp`, which checks in a fresh process each time).
    #[arg(long, hide = true)]
    overlays_stdin: bool,
    /// Keep checking: read one JSON array of editor buffers per line from
    /// standard input and answer each with one line of `--format json`
    /// (used by `dendrite lsp`; unchanged files and machines are not
    /// evaluated again).
    #[arg(long, hide = true)]
    serve: bool,
    /// Report only findings in files staged in git (`git diff --cached`),
    /// and those with no file: for pre-commit hooks. The whole flake is
    /// still evaluated, so a staged edit that breaks a machine defined
    /// elsewhere is reported at the staged line that causes it.
    #[arg(long)]
    changed: bool,
    /// Worker processes checking machines at a time (default: the number of
    /// CPUs; 0 checks them in the main process).
    #[arg(long, short, value_name = "N")]
    jobs: Option<usize>,
    /// Milliseconds spent checking machines in the main process before
    /// workers take the rest (default: about what forking would cost,
    /// estimated from the memory in use; a fork copies what it touches).
    #[arg(long, value_name = "MS")]
    fork_after: Option<u64>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    /// Snippets grouped by file, and a summary line.
    Human,
    /// One JSON object with `diagnostics` and `summary`.
    Json,
    /// SARIF 2.1.0, for code-scanning uploads.
    Sarif,
}

/// `[{"path": ..., "text": ...}]` from standard input.
fn read_overlays() -> Result<Vec<(std::path::PathBuf, String)>, String> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| e.to_string())?;
    parse_overlays(&text)
}

/// `[{"path": ..., "text": ...}]`.
fn parse_overlays(text: &str) -> Result<Vec<(std::path::PathBuf, String)>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let items = v.as_array().ok_or("expected a JSON array")?;
    items
        .iter()
        .map(|i| match (i["path"].as_str(), i["text"].as_str()) {
            (Some(p), Some(t)) => Ok((std::path::PathBuf::from(p), t.to_string())),
            _ => Err("each entry needs string `path` and `text`".to_string()),
        })
        .collect()
}

/// Absolute paths of the files staged in the git repository holding `dir`.
fn staged_files(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, String> {
    let git = |args: &[&str]| -> Result<String, String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .map_err(|e| format!("running git: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let top = std::path::PathBuf::from(git(&["rev-parse", "--show-toplevel"])?.trim());
    let top = top.canonicalize().unwrap_or(top);
    Ok(git(&["diff", "--cached", "--name-only", "--diff-filter=ACMR"])?
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| top.join(l))
        .collect())
}

fn run_check(args: CheckArgs) -> i32 {
    enable_prefetch();
    let mut inputs = Vec::new();
    for i in &args.input {
        match i.split_once('=') {
            Some((n, p)) if !n.is_empty() && !p.is_empty() => inputs.push((n.to_string(), std::path::PathBuf::from(p))),
            _ => {
                eprintln!("error: --input expects NAME=PATH, got `{i}`");
                return 2;
            }
        }
    }
    let opts = dendrite_check::CheckOptions {
        dir: args.flake.clone(),
        inputs,
        store_dir: Some(args.store_dir.clone()),
        jobs: Some(args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))),
        fork_after: args.fork_after.map(std::time::Duration::from_millis),
        overlays: if args.overlays_stdin {
            match read_overlays() {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: --overlays-stdin: {e}");
                    return 2;
                }
            }
        } else {
            Vec::new()
        },
    };
    if args.serve {
        return serve(opts);
    }
    let staged = if args.changed {
        match staged_files(&args.flake) {
            Ok(files) => Some(files),
            Err(e) => {
                eprintln!("error: --changed: {e}");
                return 2;
            }
        }
    } else {
        None
    };
    if staged
        .as_ref()
        .is_some_and(|f| !f.iter().any(|p| p.extension().is_some_and(|x| x == "nix") || p.ends_with("flake.lock")))
    {
        // Nothing a check could say anything new about.
        return 0;
    }
    let mut report = match dendrite_check::check(opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if let Some(files) = &staged {
        report.retain(|d| d.location.as_ref().is_none_or(|l| files.contains(&l.path)));
    }
    if args.verbose {
        for i in &report.inputs {
            eprintln!("input {}: {}", i.name, i.how);
        }
        for (name, d) in &report.summary.phases {
            eprintln!("phase {name}: {:.1} ms", d.as_secs_f64() * 1000.0);
        }
        match report.summary.workers {
            0 => eprintln!("machines checked in this process"),
            n => eprintln!("machines checked in {n} worker processes"),
        }
    }
    let format = match args.format {
        Format::Human => dendrite_check::output::Format::Human,
        Format::Json => dendrite_check::output::Format::Json,
        Format::Sarif => dendrite_check::output::Format::Sarif,
    };
    let color = std::io::IsTerminal::is_terminal(&std::io::stdout());
    print!("{}", dendrite_check::output::render(&report, format, color));
    report.exit_code()
}

/// The options the flake declares and the roles of its inventory instances.
fn symbols_json(report: &dendrite_check::Report) -> serde_json::Value {
    let rel = |p: &std::path::Path| p.strip_prefix(&report.root).unwrap_or(p).display().to_string();
    let options: Vec<serde_json::Value> = report
        .symbols
        .options
        .iter()
        .map(|o| {
            let declared: Vec<serde_json::Value> =
                o.declared.iter().map(|(f, l)| serde_json::json!({ "file": rel(f), "line": l })).collect();
            serde_json::json!({
                "class": o.class, "path": o.path, "type": o.ty, "description": o.description, "declared": declared,
            })
        })
        .collect();
    serde_json::json!({ "options": options, "roles": report.symbols.roles })
}

/// `check --serve`: one check per line of standard input, in a warm session.
fn serve(opts: dendrite_check::CheckOptions) -> i32 {
    dendrite_eval::run_with_stack(move || {
        use std::io::{BufRead, Write};
        let mut session = dendrite_check::Session::new(opts);
        let mut sent_symbols: Option<dendrite_check::Symbols> = None;
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let answer = parse_overlays(&line).and_then(|o| session.check(&o)).map(|report| {
                let json = dendrite_check::output::render(&report, dendrite_check::output::Format::Json, false);
                let mut v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
                let (reused, evaluated) = session.last_reuse;
                let phases: serde_json::Map<String, serde_json::Value> = report
                    .summary
                    .phases
                    .iter()
                    .map(|(n, d)| (n.to_string(), serde_json::json!(d.as_secs_f64() * 1000.0)))
                    .collect();
                v["session"] = serde_json::json!({
                    "machines_reused": reused,
                    "machines_evaluated": evaluated,
                    "phases_ms": phases,
                });
                // Options and roles only when they changed: they can be large.
                if sent_symbols.as_ref() != Some(&report.symbols) {
                    v["symbols"] = symbols_json(&report);
                    sent_symbols = Some(report.symbols.clone());
                }
                v
            });
            let v = answer.unwrap_or_else(|e| serde_json::json!({ "error": e }));
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{v}").and_then(|()| out.flush()).is_err() {
                break;
            }
        }
        0
    })
}

#[derive(clap::Args, Debug)]
struct EvalArgs {
    /// Files to evaluate (`-` reads standard input); with -E, expressions.
    inputs: Vec<String>,
    /// Treat the arguments as Nix expressions instead of file names.
    #[arg(short = 'E', long = "expr")]
    expr: bool,
    /// Evaluate nested values too (like `nix-instantiate --strict`).
    #[arg(long)]
    strict: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Print the result as XML.
    #[arg(long)]
    xml: bool,
    /// Omit source positions from XML output.
    #[arg(long)]
    no_location: bool,
    /// Select an attribute path from the result (repeatable).
    #[arg(short = 'A', long = "attr", value_name = "ATTRPATH")]
    attr: Vec<String>,
    /// Pass NAME=EXPR to the top-level function.
    #[arg(long = "arg", num_args = 2, value_names = ["NAME", "EXPR"], action = clap::ArgAction::Append)]
    arg: Vec<String>,
    /// Pass NAME="STRING" to the top-level function.
    #[arg(long = "argstr", num_args = 2, value_names = ["NAME", "STRING"], action = clap::ArgAction::Append)]
    argstr: Vec<String>,
    /// Show the full evaluation trace on errors.
    #[arg(long)]
    show_trace: bool,
    /// Only parse the input; fail if it does not parse.
    #[arg(long)]
    parse: bool,
    /// Add a search path entry (`prefix=path` or `path`) for `<...>` lookups.
    #[arg(short = 'I', long = "include", value_name = "PATH")]
    include: Vec<String>,
    /// Set a Nix option (e.g. `abort-on-warn true`).
    #[arg(long = "option", num_args = 2, value_names = ["NAME", "VALUE"], action = clap::ArgAction::Append)]
    option: Vec<String>,
    /// Fail if evaluation takes longer than this many seconds.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Make `builtins.warn` fatal.
    #[arg(long)]
    abort_on_warn: bool,
    /// Print `builtins.traceVerbose` messages.
    #[arg(long)]
    trace_verbose: bool,
    /// Restrict evaluation to pure operations.
    #[arg(long)]
    pure_eval: bool,
}

fn pairs(v: &[String]) -> Vec<(String, String)> {
    v.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0].clone(), c[1].clone())).collect()
}

impl From<EvalArgs> for InstantiateOpts {
    fn from(a: EvalArgs) -> Self {
        let mut auto_args: Vec<(String, AutoArg)> =
            pairs(&a.arg).into_iter().map(|(n, v)| (n, AutoArg::Expr(v))).collect();
        auto_args.extend(pairs(&a.argstr).into_iter().map(|(n, v)| (n, AutoArg::Str(v))));
        InstantiateOpts {
            inputs: a.inputs,
            expr_mode: a.expr,
            eval: true,
            parse: a.parse,
            strict: a.strict,
            json: a.json,
            xml: a.xml,
            no_location: a.no_location,
            attr_paths: a.attr,
            auto_args,
            show_trace: a.show_trace,
            include: a.include,
            options: pairs(&a.option),
            timeout: a.timeout,
            trace_verbose: a.trace_verbose,
            abort_on_warn: a.abort_on_warn,
            pure_eval: a.pure_eval,
            features: Vec::new(),
            nix_style_errors: false,
        }
    }
}

/// Parses `nix-instantiate`'s command line (its flags take several values,
/// and unknown flags that do not matter for evaluation are accepted).
fn parse_nix_instantiate(args: &[String]) -> Result<InstantiateOpts, String> {
    let mut o = InstantiateOpts { nix_style_errors: true, ..Default::default() };
    let mut i = 0;
    let next = |i: &mut usize, flag: &str| -> Result<String, String> {
        *i += 1;
        args.get(*i).cloned().ok_or_else(|| format!("flag '{flag}' requires an argument"))
    };
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "--eval" | "--eval-only" => o.eval = true,
            "--parse" | "--parse-only" => o.parse = true,
            "--strict" => o.strict = true,
            "--json" => o.json = true,
            "--xml" => o.xml = true,
            "--no-location" => o.no_location = true,
            "--show-trace" => o.show_trace = true,
            "--trace-verbose" => o.trace_verbose = true,
            "--abort-on-warn" => o.abort_on_warn = true,
            "--pure-eval" => o.pure_eval = true,
            "--impure" | "--read-write-mode" | "--readonly-mode" | "--add-root" | "--indirect" | "--quiet" | "-v"
            | "--verbose" | "--no-build-output" | "-Q" | "--keep-going" | "-k" | "--dry-run" => {}
            "-E" | "--expr" => o.expr_mode = true,
            "-A" | "--attr" => o.attr_paths.push(next(&mut i, a)?),
            "-I" | "--include" => o.include.push(next(&mut i, a)?),
            "--arg" => {
                let n = next(&mut i, a)?;
                let v = next(&mut i, a)?;
                o.auto_args.push((n, AutoArg::Expr(v)));
            }
            "--argstr" => {
                let n = next(&mut i, a)?;
                let v = next(&mut i, a)?;
                o.auto_args.push((n, AutoArg::Str(v)));
            }
            "--option" => {
                let n = next(&mut i, a)?;
                let v = next(&mut i, a)?;
                o.options.push((n, v));
            }
            "--timeout" => {
                let v = next(&mut i, a)?;
                o.timeout = Some(v.parse().map_err(|_| format!("invalid timeout '{v}'"))?);
            }
            "--extra-experimental-features" | "--experimental-features" => {
                let v = next(&mut i, a)?;
                o.features.push(v);
            }
            "--max-jobs" | "-j" | "--cores" | "--store" | "--eval-store" | "-o" | "--out-link" | "--arg-from-file"
            | "--arg-from-stdin" => {
                let v = next(&mut i, a)?;
                if a == "--store" {
                    o.options.push(("store".into(), v));
                }
            }
            "--version" => {
                println!("nix-instantiate (dendrite) {}", dendrite_eval::builtins::NIX_VERSION);
                std::process::exit(0);
            }
            "--help" => {
                println!("nix-instantiate personality of dendrite; see `dendrite eval --help`");
                std::process::exit(0);
            }
            _ if a.starts_with("--") && instantiate::VALUED_SETTINGS.contains(&a.trim_start_matches("--")) => {
                let v = next(&mut i, a)?;
                o.options.push((a.trim_start_matches("--").to_string(), v));
            }
            _ if a.starts_with("--") && a.len() > 2 => {
                // Boolean settings given as flags: --<setting> / --no-<setting>.
                let name = a.trim_start_matches("--");
                match name.strip_prefix("no-") {
                    Some(n) => o.options.push((n.to_string(), "false".into())),
                    None => o.options.push((name.to_string(), "true".into())),
                }
            }
            _ => o.inputs.push(a.to_string()),
        }
        i += 1;
    }
    Ok(o)
}

fn main() {
    #[cfg(not(feature = "system-alloc"))]
    alloc::configure();
    let argv: Vec<String> = std::env::args().collect();
    let invoked_as = argv
        .first()
        .and_then(|a| std::path::Path::new(a).file_name().map(|f| f.to_string_lossy().into_owned()))
        .unwrap_or_default();
    if invoked_as == "nix-instantiate" {
        match parse_nix_instantiate(&argv[1..]) {
            Ok(opts) => std::process::exit(instantiate::run(opts)),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Eval(args) => instantiate::run(args.into()),
        Command::Check(args) => run_check(args),
        Command::Graph(args) => run_graph(args),
        Command::Lsp => dendrite_lsp::run(),
    };
    exit_now(code);
}

/// Turns on background parsing for `eval` and `check`;
/// DENDRITE_PREFETCH=0 parses every file on the evaluating thread only.
pub(crate) fn enable_prefetch() {
    dendrite_syntax::db::prefetch::enable(dendrite_eval::settings::env_flag("DENDRITE_PREFETCH") != Some(false));
}

/// Ends the process without destructors or the allocator's exit-time
/// collection: a large evaluation's value graph is not worth freeing when
/// the process ends anyway (at N=5000 the collection alone took 5%).
pub(crate) fn exit_now(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process; output was flushed above, and
    // nothing else relies on exit-time handlers.
    unsafe { libc::_exit(code) }
}

#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: alloc::Allocator = alloc::Allocator;

//! `dendrite check`: evaluates a flake's top-level configuration and every
//! machine's module closure and reports what the rules find.
//!
//! The flow: parse every `.nix` file (D001); resolve the inputs (overrides,
//! local copies, bundled models, opaque values) and call `outputs`; walk
//! the top-level flake-parts configuration and each machine's lenient
//! evaluation, turning evaluation errors into findings at the definition
//! that caused them; then the rules that need the whole picture (module
//! arguments, special arguments, namespace references, clan's registry
//! and inventory). Values that depend on something dendrite cannot know
//! are skipped, never reported.

use std::path::{Path, PathBuf};
use std::time::Instant;

use dendrite_eval::value::Value;
use dendrite_eval::{ErrorKind, EvalError, EvalSettings, Evaluator};
use dendrite_syntax::{RootDatabase, Span};

pub mod config;
pub mod diag;
pub mod graph;
mod load;
mod models;
pub mod output;
mod parallel;
mod rules;
mod session;
pub use session::Session;

pub use rules::UPSTREAM_SERVICES;
pub mod scan;
mod walk;

pub use config::Config;
pub use diag::{Diagnostic, Location, RULES, Severity};
pub use load::InputInfo;

/// The most machines one worker process checks when how much memory a
/// machine takes is not known (sharing off, or too few machines to tell).
const MACHINES_PER_WORKER: usize = 16;

/// The most machines checked before workers are forked, with sharing: the
/// module trees, bundles and option walks they make are then every
/// worker's, and once what one more machine adds has settled, it sizes
/// the shards.
const WARM_MACHINES: usize = 16;

/// The memory one worker's machines may add, for sizing shards.
const WORKER_MEMORY: u64 = 512 << 20;

/// How many machines after the settling point the warm-up averages over:
/// resident memory grows in steps of a huge page (2 MiB), far more than
/// one machine of a large fleet adds, so one sample says little.
const SETTLED_SAMPLES: usize = 4;

/// What forking costs, per byte of the parent's resident memory: a worker
/// copies every page it writes (the reference counts of each shared value
/// it touches), splits huge pages, and makes again whatever a sibling made
/// after the fork. Measured on a 2-CPU VM with the N=5000 synthetic fleet
/// (480 MB resident): one worker doing every machine took 0.45 s longer
/// than this process, and two workers were no faster than one, so a round
/// of forks is counted as about 0.9 s per 480 MB.
const FORK_BYTES_PER_SEC: f64 = (512u64 << 20) as f64;

/// This process's resident memory, in bytes (Linux; `None` elsewhere).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// What to check and how.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The flake's directory.
    pub dir: PathBuf,
    /// `--input NAME=PATH` overrides.
    pub inputs: Vec<(String, PathBuf)>,
    /// The Nix store directory where locked inputs may be found.
    pub store_dir: Option<String>,
    /// Editor buffers that differ from the files on disk.
    pub overlays: Vec<(PathBuf, String)>,
    /// Worker processes checking machines at a time (`None` or 0: none,
    /// the machines are checked in this process). Workers are forked, which
    /// is only safe while no other thread of the process allocates: the
    /// command line sets it, a multi-threaded embedder should not.
    pub jobs: Option<usize>,
    /// How long machines are checked in this process before workers take
    /// the rest (`None`: as long as forking is estimated to cost, from the
    /// resident memory; zero forks right after the warm-up).
    pub fork_after: Option<std::time::Duration>,
}

/// Counts for the summary line.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Error-level findings.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Informational findings.
    pub infos: usize,
    /// `.nix` files parsed.
    pub files: usize,
    /// Machine configurations evaluated.
    pub machines: usize,
    /// Machines whose evaluation needed an unknown input.
    pub machines_skipped: usize,
    /// What the check could not see, said after the summary line.
    pub notes: Vec<String>,
    /// Wall time.
    pub millis: u128,
    /// Wall time of each phase, in order (shown by `-v`).
    pub phases: Vec<(&'static str, std::time::Duration)>,
    /// Worker processes the machines were checked in (0: this process).
    pub workers: usize,
}

/// An option the flake declares, as an evaluation saw it (for hover).
#[derive(Clone, Debug, PartialEq)]
pub struct OptionInfo {
    /// The evaluation's class (`flake` for the top level, `nixos` ...).
    pub class: String,
    /// Its path, as the walk met it (`features.ssh.enable`).
    pub path: Vec<String>,
    /// Its type's description.
    pub ty: String,
    /// Its description, if it has one.
    pub description: String,
    /// Where the flake declares it: file and line.
    pub declared: Vec<(PathBuf, u32)>,
}

/// What an editor can show about the flake beyond findings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Symbols {
    /// Options the flake declares, one per class and path.
    pub options: Vec<OptionInfo>,
    /// The roles of each clan inventory instance's service.
    pub roles: std::collections::BTreeMap<String, Vec<String>>,
}

impl Symbols {
    /// Keeps one option per class and path, sorted.
    pub fn dedup(&mut self) {
        dedup_options(&mut self.options);
    }
}

/// Keeps one option per class and path, sorted.
pub(crate) fn dedup_options(options: &mut Vec<OptionInfo>) {
    options.sort_by(|a, b| (&a.class, &a.path).cmp(&(&b.class, &b.path)));
    options.dedup_by(|a, b| a.class == b.class && a.path == b.path);
}

/// The result of a check.
#[derive(Clone, Debug)]
pub struct Report {
    /// The flake's directory (paths in output are relative to it).
    pub root: PathBuf,
    /// Findings, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Counts.
    pub summary: Summary,
    /// How each input was resolved.
    pub inputs: Vec<InputInfo>,
    /// Options and roles, for editors (collected by a [`Session`] only).
    pub symbols: Symbols,
}

impl Report {
    /// Keeps the findings `keep` accepts (the summary counts follow).
    pub fn retain(&mut self, keep: impl Fn(&Diagnostic) -> bool) {
        self.diagnostics.retain(|d| keep(d));
        let count = |s: Severity| self.diagnostics.iter().filter(|d| d.severity == s).count();
        self.summary.errors = count(Severity::Error);
        self.summary.warnings = count(Severity::Warning);
        self.summary.infos = count(Severity::Info);
    }

    /// The process exit code: 1 when an error-level finding remains.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.summary.errors > 0)
    }
}

/// Runs the check on an evaluation thread with a large stack. `Err` means
/// the check could not run at all (exit code 2).
pub fn check(opts: CheckOptions) -> Result<Report, String> {
    dendrite_eval::run_with_stack(move || check_here(&opts))
}

/// The findings collected while checking.
pub(crate) struct Ctx {
    pub root: PathBuf,
    /// When the current phase started (see [`Ctx::phase`]).
    pub phase_started: Instant,
    pub diags: Vec<Diagnostic>,
    pub config: Config,
    pub summary: Summary,
    pub span: Span,
    /// The static scan of the flake's files.
    pub scan: std::rc::Rc<scan::Scan>,
    /// How each input was resolved.
    pub inputs: Vec<InputInfo>,
    /// Whether to collect `options` and `roles` (only editors use them).
    pub collect_symbols: bool,
    /// Options the evaluations met that the flake declares.
    pub options: Vec<OptionInfo>,
    /// The roles of each inventory instance's service.
    pub roles: std::collections::BTreeMap<String, Vec<String>>,
    /// Option trees already walked, shared by the machines' walks.
    pub walked: walk::Walked,
}

impl Ctx {
    /// An empty context for the flake at `root`.
    pub fn new(root: PathBuf, config: Config, span: Span) -> Ctx {
        Ctx {
            root,
            phase_started: Instant::now(),
            diags: Vec::new(),
            config,
            summary: Summary::default(),
            span,
            scan: Default::default(),
            inputs: Vec::new(),
            collect_symbols: false,
            options: Vec::new(),
            roles: Default::default(),
            walked: Default::default(),
        }
    }

    /// Ends the current phase: records its wall time under `name`.
    pub fn phase(&mut self, name: &'static str) {
        let now = Instant::now();
        self.summary.phases.push((name, now - self.phase_started));
        self.phase_started = now;
    }

    /// Whether a path is part of the flake being checked.
    pub fn in_flake(&self, p: &Path) -> bool {
        p.starts_with(&self.root)
    }

    /// Adds a finding for an evaluation error, unless it is about an
    /// unknown value. `context` says what was being evaluated.
    pub fn eval_error(&mut self, e: &EvalError, context: &str) {
        if let Some(d) = rules::from_error(self, e, context) {
            self.diags.push(d);
        }
    }
}

/// The names of the phases, in order (see [`Summary::phases`]).
pub(crate) const PHASES: &[&str] =
    &["read", "parse", "scan", "models and inputs", "top level", "machine discovery", "machines", "rules", "worker"];

/// The flake directory `dir` names, canonical.
pub(crate) fn flake_root(dir: &Path) -> Result<PathBuf, String> {
    let root = dir.canonicalize().map_err(|e| format!("{}: {e}", dir.display()))?;
    if !root.join("flake.nix").is_file() {
        return Err(format!("{}: no flake.nix here (dendrite check expects a flake directory)", root.display()));
    }
    Ok(root)
}

/// An evaluator set up for checking.
pub(crate) fn new_evaluator(opts: &CheckOptions) -> Evaluator {
    let settings = EvalSettings {
        print_traces: false,
        native_modules: true,
        store_dir: opts.store_dir.clone().unwrap_or_else(|| "/nix/store".into()),
        // Machines share module templates and option levels
        // (docs/design/native-modules.md); `DENDRITE_SHARE_MODULES=0`
        // evaluates each machine on its own.
        share_modules: dendrite_eval::settings::env_flag("DENDRITE_SHARE_MODULES") != Some(false),
        ..EvalSettings::from_env()
    };
    let mut ev = Evaluator::new(RootDatabase::default(), settings);
    dendrite_modules::install(&mut ev);
    ev
}

/// The syntax phases: parses `files` (D001) and scans them, reusing and
/// filling a session's `cache` if there is one.
pub(crate) fn prepare(
    ev: &mut Evaluator,
    cx: &mut Ctx,
    files: Vec<PathBuf>,
    cache: Option<&mut scan::ScanCache>,
) -> Vec<scan::FileInfo> {
    cx.summary.files = files.len();
    let parsed = scan::parse_all(ev, cx, &files);
    cx.phase("parse");
    cx.scan = match cache {
        Some(cache) => scan::scan_cached(ev, &parsed, cache),
        None => std::rc::Rc::new(scan::scan(ev, &parsed)),
    };
    cx.phase("scan");
    parsed
}

/// How machines are checked.
pub(crate) enum Machines<'a> {
    /// In this process, or in `jobs` forked workers taking shards.
    Shards(Option<usize>),
    /// Reusing a session's cached findings; the others each in a worker.
    Cached {
        cache: &'a std::collections::HashMap<String, Vec<session::CachedMachine>>,
        jobs: usize,
        fresh: session::Fresh,
        /// Files the top level ran or imported.
        top: Vec<PathBuf>,
    },
}

/// The evaluation phases: inputs, the top level, the machines and the
/// rules. `Err` when the check cannot run (dendrite's models do not load).
pub(crate) fn evaluate(
    ev: &mut Evaluator,
    cx: &mut Ctx,
    opts: &CheckOptions,
    parsed: &[scan::FileInfo],
    mode: &mut Machines<'_>,
) -> Result<(), String> {
    ev.set_extension(dendrite_modules::record::Recorder::default());
    let root = cx.root.clone();
    let span = cx.span;
    if matches!(mode, Machines::Cached { .. }) {
        ev.trace = Some(Default::default());
        cx.collect_symbols = true;
    }
    // `lib` comes from nixpkgs when it is given (or `DENDRITE_LIB` names a
    // nixpkgs `lib/` directory), else it is dendrite's own.
    let lib_override = opts
        .inputs
        .iter()
        .find(|(n, _)| n == "nixpkgs" || n == "nixpkgs-lib")
        .map(
            |(_, p)| {
                if p.join("lib/default.nix").is_file() { p.join("lib/default.nix") } else { p.join("default.nix") }
            },
        )
        .or_else(|| std::env::var_os("DENDRITE_LIB").map(|d| PathBuf::from(d).join("default.nix")));
    let loader = load::Loader::new(ev, lib_override.as_deref(), span).map_err(|e| {
        format!("could not load dendrite's models: {}", dendrite_eval::error::strip_ansi(&e.render(false)))
    })?;
    let (inputs_value, infos) = rules::resolve_inputs(&loader, &root, opts);
    cx.inputs = infos;
    let flake = loader.flake_on_disk(&root, inputs_value);
    cx.phase("models and inputs");

    let outputs = walk::top_level(ev, cx, &flake);
    cx.phase("top level");
    let machines = walk::machines(ev, cx, &outputs, &loader);
    if outputs.top_incomplete() {
        cx.summary.notes.push(left_out_note(&outputs.top_left_out, &cx.root));
    }
    if cx.collect_symbols {
        cx.roles = walk::instance_roles(ev, &outputs);
    }
    cx.phase("machine discovery");
    match mode {
        Machines::Shards(jobs) => shards(ev, cx, &machines, *jobs, opts.fork_after),
        Machines::Cached { cache, jobs, fresh, top } => {
            *top = session::traced_paths(ev);
            let keys = session::KeyContext::new(cx, parsed, top.clone());
            session::check_machines(ev, cx, &keys, &machines, cache, *jobs, fresh);
        }
    }
    cx.phase("machines");
    rules::namespace(ev, cx, &outputs);
    rules::clan(ev, cx, &outputs, &machines);
    // What this process's evaluations recorded: the top level, clan's
    // settings, and the machines when no worker checked them.
    rules::recorded(ev, cx, 0);
    cx.phase("rules");
    Ok(())
}

/// What the summary says of a top-level evaluation that left modules out,
/// from the reasons it recorded: inputs by name, other reasons as they are
/// (with the flake's files relative to `root`).
fn left_out_note(reasons: &[String], root: &Path) -> String {
    let prefix = format!("{}/", root.display());
    let mut inputs = Vec::new();
    let mut other = Vec::new();
    for r in reasons {
        match load::opaque_input(r) {
            Some(n) => inputs.push(format!("`{n}`")),
            None => other.push(dendrite_modules::lenient::unknown_what(r).replace(&prefix, "")),
        }
    }
    if !inputs.is_empty() {
        other.insert(
            0,
            format!(
                "input{} {} (not on disk and no model; `--input NAME=PATH` gives one)",
                if inputs.len() == 1 { "" } else { "s" },
                inputs.join(", ")
            ),
        );
    }
    if other.is_empty() {
        other.push("unknown modules".into());
    }
    format!(
        "the top-level configuration imports modules dendrite cannot see, so the machines and options they define are not checked: {}",
        other.join("; ")
    )
}

/// Checks `machines` here, or in forked workers taking shards of them.
fn shards(
    ev: &mut Evaluator,
    cx: &mut Ctx,
    machines: &[walk::Machine],
    jobs: Option<usize>,
    fork_after: Option<std::time::Duration>,
) {
    // Machines are independent: worker processes check shares of them
    // (the evaluator's values are not shareable between threads; a forked
    // copy of the evaluated top level is, and its memory goes with it).
    let jobs = jobs.filter(|j| *j > 0 && !machines.is_empty());
    // With sharing and workers, the first machines are checked here: the
    // module templates, bundles and option levels they make are then every
    // worker's, inherited with the fork, instead of each worker making its
    // own.
    let (warm, marginal) = if jobs.is_some() && ev.settings.share_modules {
        warm_up(ev, cx, &machines[..WARM_MACHINES.min(machines.len() / 4)])
    } else {
        (0, None)
    };
    let mut here = warm;
    if let Some(jobs) = jobs {
        // Forking has a price that grows with this process's memory, and
        // whether the machines left are worth it is not known until they
        // are checked: keep checking here for as long as a round of forks
        // would cost, then fork for what is left (the ski-rental rule: at
        // most twice the better choice's time, whichever it was).
        let budget = fork_after
            .or_else(|| resident_bytes().map(|r| std::time::Duration::from_secs_f64(r as f64 / FORK_BYTES_PER_SEC)));
        if let Some(budget) = budget.filter(|_| marginal.is_some()) {
            let started = Instant::now();
            while here < machines.len() && started.elapsed() < budget {
                walk::check_machine(ev, cx, &machines[here]);
                here += 1;
            }
        }
        let (first, rest) = machines.split_at(here);
        if !rest.is_empty() {
            let from = ev.extension_mut::<dendrite_modules::record::Recorder>().map(|r| r.evals.len()).unwrap_or(0);
            // As few shards as jobs when machines are cheap; smaller ones
            // when a worker's memory would grow too much.
            let even = rest.len().div_ceil(jobs).max(1);
            let per = match marginal {
                Some(bytes) => usize::try_from(WORKER_MEMORY / bytes.max(1)).unwrap_or(usize::MAX).clamp(1, even),
                None => even.min(MACHINES_PER_WORKER),
            };
            let shards = rest.len().div_ceil(per);
            let results = parallel::fork_map(shards, jobs, |k| {
                let before = cx.diags.len();
                let machines_before = cx.summary.machines;
                let skipped_before = cx.summary.machines_skipped;
                let mine: Vec<&walk::Machine> = rest.iter().skip(k * per).take(per).collect();
                for m in &mine {
                    walk::check_machine(ev, cx, m);
                }
                rules::vars(ev, cx, &mine);
                rules::recorded(ev, cx, from);
                parallel::encode(
                    &cx.diags[before..],
                    cx.summary.machines - machines_before,
                    cx.summary.machines_skipped - skipped_before,
                )
            });
            if let Some(results) = results {
                cx.summary.workers = jobs.min(shards);
                for bytes in results {
                    if let Some((diags, machines, skipped)) = parallel::decode(&bytes) {
                        cx.diags.extend(diags);
                        cx.summary.machines += machines;
                        cx.summary.machines_skipped += skipped;
                    }
                }
                rules::vars(ev, cx, &first.iter().collect::<Vec<_>>());
                return;
            }
        }
    }
    // No workers (asked for none, not worth forking, or the fork failed):
    // the rest here.
    for m in &machines[here..] {
        walk::check_machine(ev, cx, m);
    }
    let all: Vec<&walk::Machine> = machines.iter().collect();
    rules::vars(ev, cx, &all);
}

/// Checks machines of `candidates` here until what one more adds to the
/// resident memory has settled (the first ones make the trees and bundles
/// the others share), and a few more to measure it. Returns how many were
/// checked, and the memory one more machine adds once settled, if known.
fn warm_up(ev: &mut Evaluator, cx: &mut Ctx, candidates: &[walk::Machine]) -> (usize, Option<u64>) {
    let mut last = resident_bytes();
    let mut added: Vec<u64> = Vec::new();
    let mut settled = None;
    for (i, m) in candidates.iter().enumerate() {
        walk::check_machine(ev, cx, m);
        let now = resident_bytes();
        let (Some(before), Some(after)) = (last, now) else { return (i + 1, None) };
        last = now;
        added.push(after.saturating_sub(before));
        let most = added.iter().copied().max().unwrap_or(0);
        if settled.is_none() && added.len() >= 3 && added[added.len() - 1].saturating_mul(8) <= most {
            // The first small one may still finish shared work.
            settled = Some(added.len());
        }
        if let Some(s) = settled
            && added.len() - s >= SETTLED_SAMPLES
        {
            return (i + 1, mean(&added[s..]));
        }
    }
    // Not settled: the last ones' cost is what the others will cost.
    let tail = settled.filter(|s| *s < added.len()).unwrap_or(added.len().saturating_sub(2));
    (candidates.len(), mean(&added[tail..]))
}

/// The mean of some byte counts (`None` for none).
fn mean(samples: &[u64]) -> Option<u64> {
    (!samples.is_empty()).then(|| samples.iter().sum::<u64>() / samples.len() as u64)
}

/// The report of a finished check: findings filtered, configured and counted.
pub(crate) fn report(mut cx: Ctx, root: PathBuf, inputs: Vec<InputInfo>, started: Instant) -> Report {
    let mut diags = std::mem::take(&mut cx.diags);
    // An evaluation error at a place a specific rule explains is noise.
    let specific: std::collections::HashSet<Location> =
        diags.iter().filter(|d| d.code != "D002").filter_map(|d| d.location.clone()).collect();
    diags.retain(|d| d.code != "D002" || d.location.as_ref().is_none_or(|l| !specific.contains(l)));
    diags = finish(&cx, diags);
    let mut summary = std::mem::take(&mut cx.summary);
    for d in &diags {
        match d.severity {
            Severity::Error => summary.errors += 1,
            Severity::Warning => summary.warnings += 1,
            Severity::Info => summary.infos += 1,
        }
    }
    summary.millis = started.elapsed().as_millis();
    let inputs = if inputs.is_empty() { std::mem::take(&mut cx.inputs) } else { inputs };
    let mut symbols = Symbols { options: std::mem::take(&mut cx.options), roles: std::mem::take(&mut cx.roles) };
    symbols.dedup();
    Report { root, diagnostics: diags, summary, inputs, symbols }
}

fn check_here(opts: &CheckOptions) -> Result<Report, String> {
    let started = Instant::now();
    let root = flake_root(&opts.dir)?;
    let config = Config::load(&root)?;
    let mut ev = new_evaluator(opts);
    let mut cx = Ctx::new(root.clone(), config, ev.builtin_span());
    for (path, text) in &opts.overlays {
        ev.db.set_file_text(path, std::sync::Arc::from(text.as_str()));
    }
    let parsed = prepare(&mut ev, &mut cx, scan::nix_files(&root), None);
    evaluate(&mut ev, &mut cx, opts, &parsed, &mut Machines::Shards(opts.jobs))?;
    let report = report(cx, root, Vec::new(), started);
    // Values form cycles the evaluator does not collect; the process is
    // about to print and exit, so the heap is left as it is.
    std::mem::forget(ev);
    Ok(report)
}

/// Configuration, suppression comments, de-duplication and ordering.
fn finish(cx: &Ctx, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut texts: std::collections::HashMap<PathBuf, String> = std::collections::HashMap::new();
    let mut out: Vec<Diagnostic> = Vec::new();
    let mut seen: std::collections::HashMap<(&'static str, Option<Location>, String), usize> =
        std::collections::HashMap::new();
    for d in diags {
        let Some(d) = cx.config.apply(d) else { continue };
        if let Some(loc) = &d.location {
            let text =
                texts.entry(loc.path.clone()).or_insert_with(|| std::fs::read_to_string(&loc.path).unwrap_or_default());
            if config::suppressed(text, loc.line, d.code) {
                continue;
            }
        }
        let key = (d.code, d.location.clone(), d.message.clone());
        if let Some(&i) = seen.get(&key) {
            // The same finding from another machine or option: one entry.
            let first: &mut Diagnostic = &mut out[i];
            for c in d.contexts {
                if !first.contexts.contains(&c) {
                    first.contexts.push(c);
                }
            }
        } else {
            seen.insert(key, out.len());
            out.push(d);
        }
    }
    // "attribute 'x' missing" with no place in the flake, where a missing
    // module argument `x` is reported: the same mistake, seen from inside.
    let missing_args: Vec<String> = out
        .iter()
        .filter(|d| d.code == "D201")
        .filter_map(|d| d.message.split('`').nth(1).map(str::to_string))
        .collect();
    out.retain(|d| {
        !(d.code == "D002"
            && d.location.is_none()
            && missing_args.iter().any(|a| d.message == format!("attribute '{a}' missing")))
    });
    for d in &mut out {
        d.contexts.sort();
    }
    out.sort_by(|a, b| {
        let ka = a.location.as_ref().map(|l| (l.path.clone(), l.line, l.column));
        let kb = b.location.as_ref().map(|l| (l.path.clone(), l.line, l.column));
        ka.cmp(&kb).then(a.code.cmp(b.code))
    });
    out
}

/// Whether an error only says that something is unknown.
pub(crate) fn is_unknown(e: &EvalError) -> bool {
    e.kind() == ErrorKind::Unknown
}

/// Forces a value; unknown values are `None` silently, errors are reported.
pub(crate) fn force_or_report(ev: &mut Evaluator, cx: &mut Ctx, v: &Value, context: &str) -> Option<Value> {
    match ev.force(v) {
        Ok(v) => Some(v),
        Err(e) => {
            cx.eval_error(&e, context);
            None
        }
    }
}

/// Where `flake.modules` entries are defined and referenced, from the
/// syntax alone (fast: for the language server).
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// The flake's directory.
    pub root: PathBuf,
    /// References (`config.flake.modules.<class>.<key>`, `with` lists).
    pub refs: Vec<scan::NsRef>,
    /// Definitions (`flake.modules.<class>.<key> = ...`).
    pub defs: Vec<scan::NsDef>,
    /// Machines of clan's inventory (`inventory.machines.<name>`).
    pub inventory_machines: Vec<String>,
    /// Tags given to inventory machines (`inventory.machines.<name>.tags`).
    pub tags: Vec<String>,
}

/// Parses and scans every file of the flake at `root` (no evaluation).
pub(crate) fn parse_and_scan(ev: &mut Evaluator, root: &Path) -> (Vec<scan::FileInfo>, scan::Scan) {
    let mut cx = Ctx::new(root.to_path_buf(), Config::default(), ev.builtin_span());
    let files = scan::nix_files(root);
    let parsed = scan::parse_all(ev, &mut cx, &files);
    let s = scan::scan(ev, &parsed);
    (parsed, s)
}

/// Parses and scans the flake in `dir` (with editor buffers laid over).
pub fn index(dir: &Path, overlays: &[(PathBuf, String)]) -> Result<Index, String> {
    let root = dir.canonicalize().map_err(|e| format!("{}: {e}", dir.display()))?;
    let overlays = overlays.to_vec();
    dendrite_eval::run_with_stack(move || {
        let mut ev = Evaluator::new(RootDatabase::default(), EvalSettings::default());
        for (path, text) in &overlays {
            ev.db.set_file_text(path, std::sync::Arc::from(text.as_str()));
        }
        let (parsed, s) = parse_and_scan(&mut ev, &root);
        let mut machines = std::collections::BTreeSet::new();
        let mut tags = std::collections::BTreeSet::new();
        for b in &s.bindings {
            let names: Vec<&str> = b.path.iter().map(|p| p.as_deref().unwrap_or("")).collect();
            let Some(i) = names.windows(2).position(|w| w == ["inventory", "machines"]) else { continue };
            if let Some(m) = names.get(i + 2).filter(|m| !m.is_empty()) {
                machines.insert(m.to_string());
            }
            if names.len() == i + 4 && names[i + 3] == "tags" {
                let text = parsed.iter().find(|f| f.path == b.location.path).map(|f| f.text.clone());
                if let Some(text) = text
                    && let Some(v) = text.get(b.value.0 as usize..b.value.1 as usize)
                {
                    tags.extend(v.split('"').skip(1).step_by(2).map(str::to_string));
                }
            }
        }
        std::mem::forget(ev);
        Ok(Index {
            root,
            refs: s.refs,
            defs: s.defs,
            inventory_machines: machines.into_iter().collect(),
            tags: tags.into_iter().collect(),
        })
    })
}

#[cfg(test)]
mod note_tests {
    use super::left_out_note;

    #[test]
    fn inputs_left_out_are_named_once_with_the_advice() {
        // The reasons as the evaluation records them: the messages of the
        // unknown values' errors.
        let unknown = |what: String| dendrite_modules::lenient::unknown_error(&what).to_string();
        let reasons = [
            unknown(crate::load::opaque_reason("den")),
            unknown(crate::load::opaque_reason("disko")),
            unknown("/flake/modules/broken.nix (it does not parse)".to_string()),
        ];
        let note = left_out_note(&reasons, std::path::Path::new("/flake"));
        assert!(note.ends_with(
            "inputs `den`, `disko` (not on disk and no model; `--input NAME=PATH` gives one); modules/broken.nix (it does not parse)"
        ), "{note}");
        assert!(left_out_note(&[], std::path::Path::new("/flake")).ends_with(": unknown modules"));
    }
}

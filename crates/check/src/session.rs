//! A check kept warm between runs, for the language server.
//!
//! A [`Session`] owns an evaluator whose database holds every file's text
//! and syntax tree; a run re-parses only the files whose text changed. The
//! evaluation itself happens in a forked child (the evaluator does not
//! collect reference cycles, so a long-lived process must not evaluate),
//! and each machine that needs checking is evaluated in a child of its own,
//! forked after the top level, with the evaluator tracing which files' code
//! runs ([`Evaluator::trace`]).
//!
//! What a machine's findings depend on is then known, and they are reused
//! while every file they depend on is unchanged. A machine depends on:
//! - every file whose code ran while it was evaluated;
//! - every file whose code ran for the top level, without the values of its
//!   `flake.modules.<class>.<key>` definitions (when nothing lists the
//!   class's keys in a way the scan cannot follow): a lower-level module
//!   reaches a machine only by being imported;
//! - every definition of a `flake.modules` entry the machine uses: its own
//!   (by name), and those defined or named in the files above (when a file
//!   does not parse, its entry is missing a part, and no code of it ran);
//! - the flake's `flake.lock` and `dendrite.toml`.
//!
//! Files whose code never ran for the machine or the top level cannot have
//! changed its findings. The one dependency this does not see: a value
//! inside a lower-level module that the top level itself forced (nothing
//! in dendrite's models or flake-parts does) and a machine then read
//! without running that module's code.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use dendrite_eval::Evaluator;

use crate::diag::Diagnostic;
use crate::scan::FileInfo;
use crate::{CheckOptions, Ctx, Report, parallel, walk};

/// Findings of one machine, kept for reuse.
#[derive(Clone, Debug)]
pub(crate) struct CachedMachine {
    /// The dependency key they were computed under.
    pub key: u64,
    /// Files whose code ran for the machine.
    pub traced: Vec<PathBuf>,
    /// Its findings.
    pub diags: Vec<Diagnostic>,
    /// Machines evaluated (1) and skipped for unknown inputs (0 or 1).
    pub counts: (usize, usize),
}

/// A warm checker of one flake (see the module documentation).
pub struct Session {
    opts: CheckOptions,
    ev: Option<Evaluator>,
    /// The text each file of the flake has in the database.
    texts: HashMap<PathBuf, Arc<str>>,
    /// Each machine's findings under the last few keys it was checked
    /// with, most recent first (an edit undone finds the earlier ones).
    machines: HashMap<String, Vec<CachedMachine>>,
    scans: crate::scan::ScanCache,
    /// Modification time and size of files last read from disk.
    stamps: HashMap<PathBuf, (std::time::SystemTime, u64)>,
    /// The options table, by class, as the last runs that evaluated each
    /// class saw it.
    options: Vec<crate::OptionInfo>,
    /// Files outside the flake lowered in this process's database.
    warm: HashSet<PathBuf>,
    /// Machines whose findings the last run reused and evaluated.
    pub last_reuse: (usize, usize),
}

impl Session {
    /// A session for the flake in `opts.dir` (`opts.overlays` are ignored:
    /// each run gives its own). Create and use it on one evaluation thread
    /// ([`dendrite_eval::run_with_stack`]).
    pub fn new(opts: CheckOptions) -> Session {
        Session {
            opts,
            ev: None,
            texts: HashMap::new(),
            machines: HashMap::new(),
            scans: Default::default(),
            stamps: HashMap::new(),
            options: Vec::new(),
            warm: HashSet::new(),
            last_reuse: (0, 0),
        }
    }

    /// Checks the flake with the editor's buffers laid over its files.
    pub fn check(&mut self, overlays: &[(PathBuf, String)]) -> Result<Report, String> {
        let started = Instant::now();
        let root = crate::flake_root(&self.opts.dir)?;
        let config = crate::Config::load(&root)?;
        let files = crate::scan::nix_files(&root);
        // Paths as the flake's file list has them (absolute, canonical).
        let overlay: HashMap<PathBuf, &str> =
            overlays.iter().map(|(p, t)| (p.canonicalize().unwrap_or_else(|_| p.clone()), t.as_str())).collect();
        let mut wanted: Vec<(PathBuf, Arc<str>)> = Vec::with_capacity(files.len());
        for p in &files {
            let text: Arc<str> = match overlay.get(p.as_path()) {
                Some(t) => {
                    self.stamps.remove(p);
                    Arc::from(*t)
                }
                None => {
                    // A file with the size and time it had when it was read
                    // last is not read again.
                    let stamp = std::fs::metadata(p).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
                    match (stamp, self.stamps.get(p), self.texts.get(p)) {
                        (Some(now), Some(then), Some(text)) if now == *then => text.clone(),
                        _ => match std::fs::read(p) {
                            Ok(b) => {
                                if let Some(now) = stamp {
                                    self.stamps.insert(p.clone(), now);
                                }
                                Arc::from(dendrite_syntax::source::decode(&b))
                            }
                            Err(_) => continue,
                        },
                    }
                }
            };
            wanted.push((p.clone(), text));
        }
        // A file that went away may still be cached as an import: start over.
        let now: HashSet<&PathBuf> = wanted.iter().map(|(p, _)| p).collect();
        if self.texts.keys().any(|p| !now.contains(p)) {
            self.ev = None;
            self.texts.clear();
            self.scans = Default::default();
            self.stamps.clear();
            self.warm.clear();
        }
        let ev = self.ev.get_or_insert_with(|| crate::new_evaluator(&self.opts));
        for (p, text) in wanted {
            if self.texts.get(&p).is_none_or(|old| **old != *text) {
                ev.db.set_file_text(&p, text.clone());
                self.texts.insert(p, text);
            }
        }
        ev.import_overrides.clear();
        let mut cx = Ctx::new(root.clone(), config, ev.builtin_span());
        cx.phase_started = started;
        cx.phase("read");
        let parsed = crate::prepare(ev, &mut cx, files, Some(&mut self.scans));

        let cache = &self.machines;
        let opts = &self.opts;
        let outcome = parallel::fork_map(1, 1, |_| {
            let jobs = opts.jobs.unwrap_or(2).max(1);
            let mut mode = crate::Machines::Cached { cache, jobs, fresh: Vec::new(), top: Vec::new() };
            if let Err(e) = crate::evaluate(ev, &mut cx, opts, &parsed, &mut mode) {
                cx.diags.push(crate::Diagnostic::new("D002", e, None));
            }
            let crate::Machines::Cached { fresh, top, .. } = mode else { unreachable!("the mode stays") };
            encode_run(&cx, &fresh, &top)
        });
        cx.phase("worker");
        let bytes = outcome.and_then(|mut v| v.pop()).ok_or("the check's worker process failed")?;
        let (diags, summary, fresh, top, symbols) =
            decode_run(&bytes).ok_or("the check's worker sent a malformed result")?;
        // Options of classes this run evaluated replace those kept; other
        // classes keep what an earlier run saw (their machines were reused).
        let classes: HashSet<&String> = symbols.options.iter().map(|o| &o.class).collect();
        self.options.retain(|o| !classes.contains(&o.class));
        self.options.extend(symbols.options.iter().cloned());
        cx.options = self.options.clone();
        cx.roles = symbols.roles;
        // The next run's worker starts from this process's database: lower
        // here what this run's workers had to lower (the models, `lib`).
        let ev = self.ev.as_mut().ok_or("no evaluator")?;
        let checked = fresh.iter().filter_map(|(_, m)| match m {
            Outcome::Checked(m) => Some(&m.traced),
            Outcome::Reused(_) => None,
        });
        for p in top.iter().chain(checked.flatten()) {
            if !p.starts_with(&root)
                && self.warm.insert(p.clone())
                && p.is_file()
                && let Ok(f) = ev.db.file(p)
            {
                let _ = dendrite_syntax::lower_file(&ev.db, f);
            }
        }
        cx.diags = diags;
        cx.summary.machines = summary.0;
        cx.summary.machines_skipped = summary.1;
        let worker = cx.summary.phases.pop();
        cx.summary.phases.extend(summary.2);
        cx.summary.phases.extend(worker);
        let reused = fresh.iter().filter(|(_, m)| matches!(m, Outcome::Reused(_))).count();
        self.last_reuse = (reused, fresh.len() - reused);
        let mut kept = HashMap::new();
        for (id, m) in fresh {
            let mut entries = self.machines.remove(&id).unwrap_or_default();
            match m {
                Outcome::Checked(m) => entries.insert(0, m),
                Outcome::Reused(key) => {
                    if let Some(i) = entries.iter().position(|e| e.key == key) {
                        let e = entries.remove(i);
                        entries.insert(0, e);
                    }
                }
            }
            entries.truncate(GENERATIONS);
            kept.insert(id, entries);
        }
        self.machines = kept;
        Ok(crate::report(cx, root, Vec::new(), started))
    }
}

/// The stable identity of a machine across runs.
pub(crate) fn machine_id(m: &walk::Machine) -> String {
    format!("{}\u{0}{}\u{0}{}", m.source, m.class, m.name)
}

/// What the dependency keys of one run are computed from.
pub(crate) struct KeyContext {
    /// Each file of the flake by path: its index in the vectors below.
    files: rustc_hash::FxHashMap<std::ffi::OsString, usize>,
    /// Per file: a hash of its path and text.
    hashes: Vec<u64>,
    /// Per file: the `flake.modules` entries it defines or names.
    uses: Vec<Vec<usize>>,
    /// Per entry: hashes of the text of its definitions in the files the
    /// top level ran (the values of `flake.modules.<class>.<key>...`).
    bodies: Vec<Vec<u64>>,
    /// Entries by the machine names their keys may stand for (the key, and
    /// its last `/` part): a machine uses its own module.
    owned: HashMap<String, Vec<usize>>,
    /// The part every machine's key has: `flake.lock`, `dendrite.toml`, and
    /// the files the top level ran, without the entries' values.
    common: u64,
}

impl KeyContext {
    /// From the scanned files and the files the top level ran.
    pub fn new(cx: &Ctx, parsed: &[FileInfo], top: Vec<PathBuf>) -> KeyContext {
        let s = &cx.scan;
        let mut entries: HashMap<(String, String), usize> = HashMap::new();
        let mut entry = |class: &str, key: &str| -> usize {
            let n = entries.len();
            *entries.entry((class.to_string(), key.to_string())).or_insert(n)
        };
        // The values of `flake.modules` entries in module bodies: what they
        // contribute reaches a machine only if it uses the entry (imports
        // it). Unless something lists a class's keys in a way the scan
        // cannot follow: then every machine may use every entry.
        let dynamic: HashSet<Option<&str>> = s.refs.iter().filter(|r| r.dynamic).map(|r| r.class.as_deref()).collect();
        let parts: HashMap<&Path, &crate::scan::KeyParts> = s.key_parts.iter().map(|(p, k)| (p.as_path(), k)).collect();
        let mut files = rustc_hash::FxHashMap::default();
        let mut hashes = Vec::with_capacity(parsed.len());
        // Per file: what the top level running it adds to every key, and
        // the values of the entries it defines.
        let mut skeletons: Vec<u64> = Vec::with_capacity(parsed.len());
        let mut entry_parts: Vec<Vec<(usize, u64)>> = Vec::with_capacity(parsed.len());
        for f in parsed {
            let mut h = rustc_hash::FxHasher::default();
            f.path.hash(&mut h);
            f.text.hash(&mut h);
            files.insert(f.path.as_os_str().to_os_string(), hashes.len());
            hashes.push(mix(h.finish()));
            let Some(kp) = parts.get(f.path.as_path()) else {
                skeletons.push(hashes[hashes.len() - 1]);
                entry_parts.push(Vec::new());
                continue;
            };
            let mut skeleton = if kp.only_entries { 0 } else { mix(kp.skeleton) };
            let mut own = Vec::new();
            for ((class, key), value) in &kp.entries {
                let mut v = rustc_hash::FxHasher::default();
                f.path.hash(&mut v);
                value.hash(&mut v);
                let value = mix(v.finish());
                if dynamic.contains(&None) || dynamic.contains(&Some(class.as_str())) {
                    skeleton = skeleton.wrapping_add(value);
                } else {
                    own.push((entry(class, key), value));
                }
            }
            skeletons.push(skeleton);
            entry_parts.push(own);
        }
        let mut uses: Vec<Vec<usize>> = vec![Vec::new(); hashes.len()];
        for d in s.defs.iter().chain(&s.broken_defs) {
            if let Some(&i) = files.get(d.location.path.as_os_str()) {
                uses[i].push(entry(&d.class, &d.key));
            }
        }
        for (i, parts) in entry_parts.iter().enumerate() {
            uses[i].extend(parts.iter().map(|(id, _)| *id));
        }
        let named: Vec<(usize, Option<String>, Option<String>)> = s
            .refs
            .iter()
            .filter_map(|r| Some((*files.get(r.location.path.as_os_str())?, r.class.clone(), r.key.clone())))
            .collect();
        for (i, class, key) in &named {
            if let (Some(c), Some(k)) = (class, key) {
                uses[*i].push(entry(c, k));
            }
        }
        let all: Vec<((String, String), usize)> = entries.iter().map(|(k, v)| (k.clone(), *v)).collect();
        // A reference whose key is computed may name any entry of its class.
        for (i, class, key) in named {
            if key.is_none() {
                uses[i]
                    .extend(all.iter().filter(|((c, _), _)| class.as_ref().is_none_or(|x| x == c)).map(|(_, id)| *id));
            }
        }
        let mut owned: HashMap<String, Vec<usize>> = HashMap::new();
        for ((_, key), id) in &all {
            owned.entry(key.clone()).or_default().push(*id);
            if let Some((_, last)) = key.rsplit_once('/') {
                owned.entry(last.to_string()).or_default().push(*id);
            }
        }
        let mut h = rustc_hash::FxHasher::default();
        for name in ["flake.lock", "dendrite.toml"] {
            std::fs::read(cx.root.join(name)).unwrap_or_default().hash(&mut h);
        }
        let mut common = h.finish();
        let mut bodies: Vec<Vec<u64>> = vec![Vec::new(); all.len()];
        for p in top {
            let Some(&i) = files.get(p.as_os_str()) else { continue };
            common = common.wrapping_add(skeletons[i]);
            for (id, hash) in &entry_parts[i] {
                bodies[*id].push(*hash);
            }
        }
        for u in &mut uses {
            u.sort_unstable();
            u.dedup();
        }
        KeyContext { files, hashes, uses, bodies, owned, common }
    }

    /// The key of machine `name` that evaluated the code of `traced`.
    pub fn key(&self, name: &str, traced: &[PathBuf]) -> u64 {
        let mut key = self.common;
        let mut used: rustc_hash::FxHashSet<usize> = Default::default();
        for p in traced {
            if let Some(&i) = self.files.get(p.as_os_str()) {
                key = key.wrapping_add(self.hashes[i]);
                used.extend(&self.uses[i]);
            }
        }
        let last = name.rsplit_once('/').map(|(_, l)| l);
        for n in std::iter::once(name).chain(last) {
            used.extend(self.owned.get(n).into_iter().flatten());
        }
        // Every definition of an entry the machine uses: in a file that does
        // not parse, or was added, it changes what the entry is.
        for id in used {
            for &hash in &self.bodies[id] {
                key = key.wrapping_add(hash.rotate_left(1));
            }
        }
        key
    }
}

/// Spreads a file's hash before it is summed into a key.
fn mix(h: u64) -> u64 {
    let mut x = h ^ (h >> 33);
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^ (x >> 33)
}

/// What a run did with one machine.
pub(crate) enum Outcome {
    /// Reused the findings cached under this key.
    Reused(u64),
    /// Checked it.
    Checked(CachedMachine),
}

/// Each machine of a run, by identity.
pub(crate) type Fresh = Vec<(String, Outcome)>;

/// How many keys' findings are kept per machine.
const GENERATIONS: usize = 4;

fn put_paths(out: &mut Vec<u8>, paths: &[PathBuf]) {
    parallel::put_u64(out, paths.len() as u64);
    for p in paths {
        parallel::put_str(out, &p.to_string_lossy());
    }
}

fn paths(r: &mut parallel::Reader) -> Option<Vec<PathBuf>> {
    (0..r.u64()?).map(|_| r.str().map(PathBuf::from)).collect()
}

fn put_options(out: &mut Vec<u8>, options: &[crate::OptionInfo]) {
    parallel::put_u64(out, options.len() as u64);
    for o in options {
        parallel::put_str(out, &o.class);
        parallel::put_u64(out, o.path.len() as u64);
        for p in &o.path {
            parallel::put_str(out, p);
        }
        parallel::put_str(out, &o.ty);
        parallel::put_str(out, &o.description);
        parallel::put_u64(out, o.declared.len() as u64);
        for (f, line) in &o.declared {
            parallel::put_str(out, &f.to_string_lossy());
            parallel::put_u64(out, u64::from(*line));
        }
    }
}

fn options(r: &mut parallel::Reader) -> Option<Vec<crate::OptionInfo>> {
    (0..r.u64()?)
        .map(|_| {
            let class = r.str()?;
            let path = (0..r.u64()?).map(|_| r.str()).collect::<Option<Vec<_>>>()?;
            let ty = r.str()?;
            let description = r.str()?;
            let declared =
                (0..r.u64()?).map(|_| Some((PathBuf::from(r.str()?), r.u32()?))).collect::<Option<Vec<_>>>()?;
            Some(crate::OptionInfo { class, path, ty, description, declared })
        })
        .collect()
}

/// Options of this run, one per class and path.
fn unique_options(cx: &Ctx) -> Vec<crate::OptionInfo> {
    let mut options = cx.options.clone();
    crate::dedup_options(&mut options);
    options
}

fn encode_run(cx: &Ctx, fresh: &Fresh, top: &[PathBuf]) -> Vec<u8> {
    let mut out = Vec::new();
    put_paths(&mut out, top);
    put_options(&mut out, &unique_options(cx));
    parallel::put_u64(&mut out, cx.roles.len() as u64);
    for (instance, roles) in &cx.roles {
        parallel::put_str(&mut out, instance);
        parallel::put_u64(&mut out, roles.len() as u64);
        for r in roles {
            parallel::put_str(&mut out, r);
        }
    }
    parallel::put_blob(&mut out, &parallel::encode(&cx.diags, cx.summary.machines, cx.summary.machines_skipped));
    parallel::put_u64(&mut out, cx.summary.phases.len() as u64);
    for (name, d) in &cx.summary.phases {
        parallel::put_str(&mut out, name);
        parallel::put_u64(&mut out, d.as_micros() as u64);
    }
    parallel::put_u64(&mut out, fresh.len() as u64);
    for (id, m) in fresh {
        parallel::put_str(&mut out, id);
        match m {
            Outcome::Reused(key) => {
                out.push(0);
                parallel::put_u64(&mut out, *key);
            }
            Outcome::Checked(m) => {
                out.push(1);
                parallel::put_u64(&mut out, m.key);
                put_paths(&mut out, &m.traced);
                parallel::put_blob(&mut out, &parallel::encode(&m.diags, m.counts.0, m.counts.1));
            }
        }
    }
    out
}

type Phases = Vec<(&'static str, std::time::Duration)>;

/// What a run's worker sends back: findings, counts and timings, what it
/// did with each machine, the files the top level ran, and the symbols.
type Run = (Vec<Diagnostic>, (usize, usize, Phases), Fresh, Vec<PathBuf>, crate::Symbols);

fn decode_run(bytes: &[u8]) -> Option<Run> {
    let mut r = parallel::Reader(bytes);
    let top = paths(&mut r)?;
    let mut symbols = crate::Symbols { options: options(&mut r)?, roles: Default::default() };
    for _ in 0..r.u64()? {
        let instance = r.str()?;
        let roles = (0..r.u64()?).map(|_| r.str()).collect::<Option<Vec<_>>>()?;
        symbols.roles.insert(instance, roles);
    }
    let (diags, machines, skipped) = parallel::decode(r.blob()?)?;
    let mut phases = Vec::new();
    for _ in 0..r.u64()? {
        let name = r.str()?;
        let micros = r.u64()?;
        // Phase names are the driver's own literals.
        let name = crate::PHASES.iter().find(|p| **p == name)?;
        phases.push((*name, std::time::Duration::from_micros(micros)));
    }
    let mut fresh = Vec::new();
    for _ in 0..r.u64()? {
        let id = r.str()?;
        let m = match r.byte()? {
            0 => Outcome::Reused(r.u64()?),
            _ => {
                let key = r.u64()?;
                let traced = paths(&mut r)?;
                let (diags, m, s) = parallel::decode(r.blob()?)?;
                Outcome::Checked(CachedMachine { key, traced, diags, counts: (m, s) })
            }
        };
        fresh.push((id, m));
    }
    Some((diags, (machines, skipped, phases), fresh, top, symbols))
}

/// Checks the machines a run needs: reuses cached findings whose key still
/// holds, evaluates the others each in a forked child with tracing on.
pub(crate) fn check_machines(
    ev: &mut Evaluator,
    cx: &mut Ctx,
    keys: &KeyContext,
    machines: &[walk::Machine],
    cache: &HashMap<String, Vec<CachedMachine>>,
    jobs: usize,
    fresh: &mut Fresh,
) {
    let mut todo = Vec::new();
    for m in machines {
        let id = machine_id(m);
        let cached = cache.get(&id).into_iter().flatten().find(|c| c.key == keys.key(&m.name, &c.traced));
        match cached {
            Some(c) => {
                cx.diags.extend(c.diags.iter().cloned());
                cx.summary.machines += c.counts.0;
                cx.summary.machines_skipped += c.counts.1;
                fresh.push((id, Outcome::Reused(c.key)));
            }
            None => todo.push(m),
        }
    }
    if let [m] = todo.as_slice() {
        // One machine: this worker is as fresh as a forked one would be.
        let (traced, diags, n, s) = check_traced(ev, cx, m, true);
        let traced = with_findings(traced, &diags);
        let key = keys.key(&m.name, &traced);
        fresh.push((machine_id(m), Outcome::Checked(CachedMachine { key, traced, diags, counts: (n, s) })));
        return;
    }
    let results = parallel::fork_map(todo.len(), jobs, |k| {
        let options_before = cx.options.len();
        let (traced, diags, n, s) = check_traced(ev, cx, todo[k], false);
        let mut out = Vec::new();
        put_options(&mut out, &cx.options[options_before..]);
        put_paths(&mut out, &traced);
        parallel::put_blob(&mut out, &parallel::encode(&diags, n, s));
        out
    });
    let decoded: Option<Vec<Checked>> = results.and_then(|rs| {
        rs.iter()
            .map(|bytes| {
                let mut r = parallel::Reader(bytes);
                cx.options.extend(options(&mut r)?);
                let traced = paths(&mut r)?;
                let (d, m, s) = parallel::decode(r.blob()?)?;
                Some((traced, d, m, s))
            })
            .collect()
    });
    match decoded {
        Some(rs) => {
            for (m, (traced, diags, n, s)) in todo.iter().zip(rs) {
                let traced = with_findings(traced, &diags);
                cx.diags.extend(diags.iter().cloned());
                cx.summary.machines += n;
                cx.summary.machines_skipped += s;
                let key = keys.key(&m.name, &traced);
                fresh.push((machine_id(m), Outcome::Checked(CachedMachine { key, traced, diags, counts: (n, s) })));
            }
        }
        None => {
            // No workers: check here, and cache nothing (no clean trace).
            for m in todo {
                check_traced(ev, cx, m, true);
            }
        }
    }
}

/// A machine's traced files and the files its findings point into: when
/// such a file changes, the findings' lines may have moved.
fn with_findings(mut traced: Vec<PathBuf>, diags: &[Diagnostic]) -> Vec<PathBuf> {
    for d in diags {
        traced.extend(d.location.iter().chain(d.related.iter().map(|(_, l)| l)).map(|l| l.path.clone()));
    }
    traced.sort();
    traced.dedup();
    traced
}

/// What checking one machine gave: the files it ran, its findings, and
/// the machines evaluated and skipped.
type Checked = (Vec<PathBuf>, Vec<Diagnostic>, usize, usize);

/// Checks one machine with tracing on: the files its evaluation ran, its
/// findings and counts. `keep`: also add them to `cx` (else they are only
/// returned).
fn check_traced(ev: &mut Evaluator, cx: &mut Ctx, m: &walk::Machine, keep: bool) -> Checked {
    let from = ev.extension_mut::<dendrite_modules::record::Recorder>().map(|r| r.evals.len()).unwrap_or(0);
    let before = cx.diags.len();
    let (machines0, skipped0) = (cx.summary.machines, cx.summary.machines_skipped);
    ev.trace = Some(Default::default());
    walk::check_machine(ev, cx, m);
    crate::rules::vars(ev, cx, &[m]);
    crate::rules::recorded(ev, cx, from);
    // Reported: the caller's own `recorded` pass must not see them again.
    if let Some(r) = ev.extension_mut::<dendrite_modules::record::Recorder>() {
        r.evals.truncate(from);
    }
    let traced = traced_paths(ev);
    let diags = cx.diags[before..].to_vec();
    let counts = (cx.summary.machines - machines0, cx.summary.machines_skipped - skipped0);
    if !keep {
        cx.diags.truncate(before);
        cx.summary.machines = machines0;
        cx.summary.machines_skipped = skipped0;
    }
    (traced, diags, counts.0, counts.1)
}

/// The files on disk the evaluator's trace names, and stops tracing.
pub(crate) fn traced_paths(ev: &mut Evaluator) -> Vec<PathBuf> {
    let trace = ev.trace.take().unwrap_or_default();
    let mut out: Vec<PathBuf> =
        trace.files.into_iter().filter_map(|f| f.info().origin.path().map(Path::to_path_buf)).collect();
    out.extend(trace.imports);
    out.sort();
    out.dedup();
    out
}

//! The salsa database: file texts are inputs; parsing, lowering and static
//! diagnostics are tracked queries, so an edit re-does only what it touched.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rnix::ast;
use rowan::ast::AstNode;
use rustc_hash::FxHashMap;

use crate::lower::{self, Diagnostic, DiagnosticKind, Lowered};
use crate::span::{FileId, Origin};
use crate::symbol::Symbol;

/// One source text known to the database.
#[salsa::input]
pub struct SourceFile {
    /// Where it comes from.
    #[returns(ref)]
    pub origin: Origin,
    /// Its current text.
    #[returns(ref)]
    pub text: Arc<str>,
}

/// The result of parsing a file: the lossless tree and syntax errors.
#[derive(Clone)]
pub struct Parsed {
    /// The rowan green tree.
    pub green: rowan::GreenNode,
    /// Syntax errors, as diagnostics.
    pub errors: Arc<[Diagnostic]>,
}

impl PartialEq for Parsed {
    fn eq(&self, other: &Self) -> bool {
        self.green == other.green && self.errors == other.errors
    }
}
impl Eq for Parsed {}

impl Parsed {
    /// The typed root node.
    pub fn root(&self) -> ast::Root {
        ast::Root::cast(rnix::SyntaxNode::new_root(self.green.clone())).expect("parser always returns a root")
    }
}

/// A lowered file, shared with the evaluator.
#[derive(Clone)]
pub struct LoweredFile {
    /// The registered source id its spans refer to.
    pub file_id: FileId,
    /// The lowered tree and its static diagnostics (syntax errors included).
    pub lowered: Arc<Lowered>,
}

impl PartialEq for LoweredFile {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.lowered, &other.lowered)
    }
}
impl Eq for LoweredFile {}

impl LoweredFile {
    /// Whether any diagnostic is an error (Nix would refuse the file).
    pub fn has_errors(&self) -> bool {
        self.lowered.diagnostics.iter().any(|d| d.kind.is_error())
    }
}

/// The database trait the front end's queries run against.
#[salsa::db]
pub trait Db: salsa::Database {
    /// Whether syntax trees are kept once a file is lowered (for queries
    /// on them: the checker's scan, the language server). Lowering gives
    /// the same either way; without them a large evaluation holds only
    /// its lowered files.
    fn keeps_syntax(&self) -> bool {
        true
    }
}

/// Parses a file (tracked).
#[salsa::tracked(returns(ref))]
pub fn parse(db: &dyn Db, file: SourceFile) -> Parsed {
    parse_text(file.text(db))
}

/// Parses a text.
fn parse_text(text: &str) -> Parsed {
    let normalized;
    let text: &str = if text.contains('\r') {
        normalized = crate::source::normalize_lone_cr(text.to_string());
        &normalized
    } else {
        text
    };
    let parse = rnix::Root::parse(text);
    let errors: Vec<Diagnostic> = parse.errors().iter().map(|e| syntax_diagnostic(e, text)).collect();
    Parsed { green: parse.syntax().green().to_owned(), errors: errors.into() }
}

/// Lowers a file to IR with scopes resolved (tracked).
#[salsa::tracked(returns(ref))]
pub fn lower_file(db: &dyn Db, file: SourceFile) -> LoweredFile {
    lower_with_scope(db, file, &[])
}

/// Lowers a file with extra names bound around it (for `scopedImport`).
/// Not memoised by salsa: the scope is a runtime value.
pub fn lower_with_scope(db: &dyn Db, file: SourceFile, outer: &[Symbol]) -> LoweredFile {
    let untracked;
    let parsed = if db.keeps_syntax() {
        parse(db, file)
    } else {
        untracked = parse_text(file.text(db));
        &untracked
    };
    let origin = file.origin(db);
    let file_id = FileId::register(origin.clone(), file.text(db).clone());
    let mut lowered = lower::lower(file_id, &origin.base_dir(), &parsed.root(), outer);
    if !parsed.errors.is_empty() {
        let mut all: Vec<Diagnostic> = parsed.errors.to_vec();
        all.extend(lowered.diagnostics);
        all.sort_by_key(|d| d.range.start());
        lowered.diagnostics = all;
    }
    LoweredFile { file_id, lowered: Arc::new(lowered) }
}

/// All static diagnostics of a file (tracked).
#[salsa::tracked(returns(ref))]
pub fn file_diagnostics(db: &dyn Db, file: SourceFile) -> Arc<[Diagnostic]> {
    lower_file(db, file).lowered.diagnostics.clone().into()
}

fn syntax_diagnostic(e: &rnix::ParseError, text: &str) -> Diagnostic {
    use rnix::ParseError as P;
    let eof = rnix::TextRange::empty(rnix::TextSize::from(text.len() as u32));
    let (range, message) = match e {
        P::Unexpected(r) => (*r, format!("syntax error, unexpected {}", describe_text(&text[*r]))),
        P::UnexpectedExtra(r) => {
            (*r, format!("syntax error, unexpected {}, expecting end of file", describe_text(&text[*r])))
        }
        P::UnexpectedWanted(got, r, _) => (*r, format!("syntax error, unexpected {}", describe_kind(*got, &text[*r]))),
        P::UnexpectedDoubleBind(r) => (*r, "syntax error, unexpected '@'".to_string()),
        P::UnexpectedEOF | P::UnexpectedEOFWanted(_) => (eof, "syntax error, unexpected end of file".to_string()),
        P::DuplicatedArgs(r, name) => (*r, format!("duplicate formal function argument '{name}'")),
        P::RecursionLimitExceeded => (eof, "expression nested too deeply".to_string()),
        _ => (eof, "syntax error".to_string()),
    };
    let kind = match e {
        P::DuplicatedArgs(..) => DiagnosticKind::DuplicateFormal,
        _ => DiagnosticKind::Syntax,
    };
    Diagnostic { range, message, kind }
}

fn describe_text(t: &str) -> String {
    let t = t.trim();
    if t.is_empty() { "end of file".to_string() } else { format!("'{}'", t.chars().take(20).collect::<String>()) }
}

fn describe_kind(kind: rnix::SyntaxKind, text: &str) -> String {
    use rnix::SyntaxKind::*;
    match kind {
        TOKEN_ERROR => "invalid token".to_string(),
        TOKEN_PATH_HOME => "'~/…' path".to_string(),
        TOKEN_PATH_ABS | TOKEN_PATH_REL => "path".to_string(),
        TOKEN_PATH_SEARCH => "'<…>' path".to_string(),
        TOKEN_INTEGER => "integer".to_string(),
        TOKEN_FLOAT => "floating-point literal".to_string(),
        TOKEN_URI => "URI".to_string(),
        TOKEN_IDENT => "identifier".to_string(),
        TOKEN_STRING_START if text.starts_with("''") => "start of an indented string".to_string(),
        _ => describe_text(text),
    }
}

/// Background parsing of files an evaluation is about to import.
///
/// Off unless a command turns it on: the language server mutates inputs,
/// which waits for every other database handle, and a process that forks
/// must not do so while background threads hold locks ([`quiesce`]).
pub mod prefetch {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Condvar, Mutex, OnceLock};

    /// Files per background task.
    pub(super) const CHUNK: usize = 16;

    static ON: AtomicBool = AtomicBool::new(false);
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    static PENDING: Mutex<usize> = Mutex::new(0);
    static IDLE: Condvar = Condvar::new();

    /// Turns background parsing on or off for this process.
    pub fn enable(on: bool) {
        ON.store(on, Ordering::SeqCst);
    }

    /// The worker pool: one thread fewer than the machine has cores (the
    /// evaluation keeps one), none on a single core.
    pub(super) fn pool() -> Option<&'static rayon::ThreadPool> {
        if !ON.load(Ordering::SeqCst) {
            return None;
        }
        POOL.get_or_init(|| {
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
            if cores < 2 {
                return None;
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(cores - 1)
                .thread_name(|i| format!("dendrite-parse-{i}"))
                .build()
                .ok()
        })
        .as_ref()
    }

    pub(super) fn started() {
        *PENDING.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    pub(super) fn finished() {
        let mut n = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        *n -= 1;
        if *n == 0 {
            IDLE.notify_all();
        }
    }

    /// Turns background parsing off and waits until no background task is
    /// running (before `fork`, and before inputs are changed).
    pub fn quiesce() {
        enable(false);
        let mut n = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        while *n > 0 {
            n = IDLE.wait(n).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// The concrete database used by the CLI, the checker and the language server.
#[salsa::db]
#[derive(Clone, Default)]
pub struct RootDatabase {
    storage: salsa::Storage<Self>,
    files: Arc<Mutex<FxHashMap<PathBuf, SourceFile>>>,
    /// Set when syntax trees need not be kept ([`Db::keeps_syntax`]).
    drop_syntax: bool,
}

#[salsa::db]
impl salsa::Database for RootDatabase {}

#[salsa::db]
impl Db for RootDatabase {
    fn keeps_syntax(&self) -> bool {
        !self.drop_syntax
    }
}

impl RootDatabase {
    /// A database that reports salsa events to `log` (for tests of incrementality).
    pub fn with_event_log(log: Arc<Mutex<Vec<String>>>) -> Self {
        RootDatabase {
            storage: salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
                if let salsa::EventKind::WillExecute { database_key } = event.kind {
                    log.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{database_key:?}"));
                }
            }))),
            files: Default::default(),
            drop_syntax: Default::default(),
        }
    }

    /// A database for one evaluation, which keeps no syntax trees once
    /// files are lowered.
    pub fn for_evaluation() -> Self {
        RootDatabase { drop_syntax: true, ..RootDatabase::default() }
    }

    /// The input for a file on disk, reading it on first use.
    pub fn file(&self, path: &Path) -> std::io::Result<SourceFile> {
        // Held while reading, so that a file read by a background parse and
        // by the evaluation at once becomes one input.
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = files.get(path) {
            return Ok(*f);
        }
        let bytes = std::fs::read(path)?;
        let text: Arc<str> = Arc::from(crate::source::decode(&bytes));
        let file = SourceFile::new(self, Origin::Path(path.to_path_buf()), text);
        files.insert(path.to_path_buf(), file);
        Ok(file)
    }

    /// Parses and lowers `paths` in the background (when enabled with
    /// [`prefetch::enable`]), so that the evaluation finds them done when it
    /// imports them: a directory listing of modules is a strong hint that
    /// they will all be imported. Files that fail to read are left to the
    /// evaluation, which reports them.
    pub fn prefetch(&self, paths: &[PathBuf]) {
        let Some(pool) = prefetch::pool() else { return };
        let new: Vec<PathBuf> = paths.iter().filter(|p| self.known_file(p).is_none()).cloned().collect();
        for chunk in new.chunks(prefetch::CHUNK) {
            let db = self.clone();
            let chunk = chunk.to_vec();
            prefetch::started();
            pool.spawn(move || {
                // A cancelled query unwinds; the evaluation redoes the work.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    for p in &chunk {
                        // A file loaded meanwhile is an input already, and
                        // its lowering a memo.
                        if let Ok(f) = db.file(p) {
                            let _ = lower_file(&db, f);
                        }
                    }
                }));
                drop(db);
                prefetch::finished();
            });
        }
    }

    /// The input for a file, if it has been loaded.
    pub fn known_file(&self, path: &Path) -> Option<SourceFile> {
        self.files.lock().unwrap_or_else(|e| e.into_inner()).get(path).copied()
    }

    /// Sets (or creates) the text of a file, e.g. from an editor buffer.
    pub fn set_file_text(&mut self, path: &Path, text: Arc<str>) -> SourceFile {
        use salsa::Setter;
        let existing = self.known_file(path);
        match existing {
            Some(f) => {
                f.set_text(self).to(text);
                f
            }
            None => {
                let file = SourceFile::new(self, Origin::Path(path.to_path_buf()), text);
                self.files.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_path_buf(), file);
                file
            }
        }
    }

    /// An input that is not a file on disk (`-E`, stdin, embedded models).
    pub fn virtual_file(&self, origin: Origin, text: Arc<str>) -> SourceFile {
        SourceFile::new(self, origin, text)
    }
}

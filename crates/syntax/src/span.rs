//! Source files known to the process, and spans into them.
//!
//! Every lowered expression carries a [`Span`]; errors, `__curPos` and
//! `unsafeGetAttrPos` turn it back into `file:line:column` through the
//! registry here. Registration is idempotent for the same name and text, so
//! a salsa query may call it without breaking determinism.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, RwLock};

use rustc_hash::FxHashMap;

/// Identifies one version of one source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// Where a source text came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A file on disk.
    Path(PathBuf),
    /// An expression given on the command line (`-E`), with its base directory.
    String(PathBuf),
    /// Standard input, with its base directory.
    Stdin(PathBuf),
    /// A file embedded in the binary (dendrite's own models), by logical path.
    Builtin(String),
}

impl Origin {
    /// How Nix prints this origin in positions: the path, `«string»` or `«stdin»`.
    pub fn display(&self) -> String {
        match self {
            Origin::Path(p) => p.display().to_string(),
            Origin::String(_) => "«string»".into(),
            Origin::Stdin(_) => "«stdin»".into(),
            Origin::Builtin(p) => p.clone(),
        }
    }

    /// The directory relative paths in this source resolve against.
    pub fn base_dir(&self) -> PathBuf {
        match self {
            Origin::Path(p) => p.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("/")),
            Origin::String(d) | Origin::Stdin(d) => d.clone(),
            Origin::Builtin(p) => Path::new(p).parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    }

    /// The file's path, when it is a file on disk.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Origin::Path(p) => Some(p),
            _ => None,
        }
    }
}

/// A registered source text.
#[derive(Debug)]
pub struct SourceInfo {
    /// Where it came from.
    pub origin: Origin,
    /// Its full text.
    pub text: Arc<str>,
    line_starts: Vec<u32>,
}

impl SourceInfo {
    /// 1-based line and column (in bytes, as Nix counts) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        (line as u32 + 1, offset - self.line_starts[line] + 1)
    }

    /// The text of 1-based line `line`, without its newline.
    pub fn line_text(&self, line: u32) -> &str {
        let i = (line as usize).saturating_sub(1);
        let Some(&start) = self.line_starts.get(i) else {
            return "";
        };
        let end = self.line_starts.get(i + 1).map(|&e| e as usize).unwrap_or(self.text.len());
        self.text[start as usize..end].trim_end_matches(['\n', '\r'])
    }
}

struct Registry {
    files: Vec<Arc<SourceInfo>>,
    by_key: FxHashMap<(Origin, Arc<str>), FileId>,
}

static REGISTRY: LazyLock<RwLock<Registry>> =
    LazyLock::new(|| RwLock::new(Registry { files: Vec::new(), by_key: FxHashMap::default() }));

impl FileId {
    /// Registers a source text (or finds the existing registration).
    pub fn register(origin: Origin, text: Arc<str>) -> FileId {
        // Each file is lowered once, so a registration is almost always
        // new: one look-up under the write lock, the line table made
        // before taking it (hashing a text and its path is most of the cost).
        let mut line_starts = vec![0u32];
        line_starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i as u32 + 1));
        let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        let next = FileId(reg.files.len() as u32);
        match reg.by_key.entry((origin, text)) {
            std::collections::hash_map::Entry::Occupied(o) => *o.get(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let info = Arc::new(SourceInfo { origin: v.key().0.clone(), text: v.key().1.clone(), line_starts });
                v.insert(next);
                reg.files.push(info);
                next
            }
        }
    }

    /// The registered source.
    pub fn info(self) -> Arc<SourceInfo> {
        REGISTRY.read().unwrap_or_else(|e| e.into_inner()).files[self.0 as usize].clone()
    }
}

/// A byte range in a registered source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// The source.
    pub file: FileId,
    /// Start byte offset.
    pub start: u32,
    /// End byte offset (exclusive).
    pub end: u32,
}

impl Span {
    /// A span covering `range` in `file`.
    pub fn new(file: FileId, range: rowan::TextRange) -> Span {
        Span { file, start: range.start().into(), end: range.end().into() }
    }

    /// `(file, line, column)` of the start, 1-based.
    pub fn position(self) -> Position {
        let info = self.file.info();
        let (line, column) = info.line_col(self.start);
        Position { origin: info.origin.clone(), line, column }
    }
}

/// A resolved position, as Nix prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The source it is in.
    pub origin: Origin,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.origin.display(), self.line, self.column)
    }
}

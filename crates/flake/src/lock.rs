//! `flake.lock`: nodes, `follows` paths, locked references and the store
//! paths Nix would give the locked sources.
//!
//! A lock file (versions 5, 6 and 7 share one layout) is a JSON object
//!
//! ```json
//! { "version": 7, "root": "root",
//!   "nodes": { "root": { "inputs": { "nixpkgs": "nixpkgs_2", "parts": "flake-parts" } },
//!              "flake-parts": { "inputs": { "nixpkgs-lib": ["nixpkgs"] },
//!                               "locked": { "type": "github", ... }, "original": { ... } },
//!              ... } }
//! ```
//!
//! Each node maps its input names either to another node's id, or to a
//! *follows path*: a list of input names walked from the **root** node
//! (`["nixpkgs"]` is the root's `nixpkgs`, `["infra", "nixpkgs"]` is the
//! `nixpkgs` input of the root's `infra` input). A follows path may itself
//! go through inputs that are follows paths; [`FlakeLock::resolve`] walks
//! them all and reports a cycle instead of looping.
//!
//! JSON is read by a small parser of our own that keeps line and column of
//! every value, so that errors point into the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use dendrite_eval::flakeref::{InputAttr, InputAttrs};
use dendrite_eval::hash::{Hash, HashAlgo};
use dendrite_eval::store::make_fixed_output_path;

/// The id of a node (its key under `nodes`).
pub type NodeId = String;

/// The lock file versions this module reads. Nix itself accepts 5 to 7 with
/// the same parser: the node graph layout appeared in version 5.
pub const SUPPORTED_VERSIONS: std::ops::RangeInclusive<u64> = 5..=7;

// ------------------------------------------------------------------ errors

/// A problem with a lock file: a message and, when it can be tied to a
/// place in the text, its 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockError {
    /// What is wrong, in a sentence.
    pub message: String,
    /// 1-based line of the offending value, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters) of the offending value, when known.
    pub column: Option<usize>,
}

impl LockError {
    fn at(message: impl Into<String>, pos: Pos) -> LockError {
        LockError { message: message.into(), line: Some(pos.line), column: Some(pos.column) }
    }

    fn nowhere(message: impl Into<String>) -> LockError {
        LockError { message: message.into(), line: None, column: None }
    }
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "flake.lock:{l}:{c}: {}", self.message),
            _ => write!(f, "flake.lock: {}", self.message),
        }
    }
}

impl std::error::Error for LockError {}

// -------------------------------------------------------------------- JSON

/// A place in the text (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pos {
    line: usize,
    column: usize,
}

#[derive(Debug)]
enum Json {
    Null,
    Bool(bool),
    /// Kept as text: lock files only hold non-negative integers, and the
    /// text lets us reject fractions with a precise message.
    Num(String),
    Str(String),
    Arr(Vec<(Json, Pos)>),
    Obj(Vec<(String, Json, Pos)>),
}

impl Json {
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a Boolean",
            Json::Num(_) => "a number",
            Json::Str(_) => "a string",
            Json::Arr(_) => "a list",
            Json::Obj(_) => "an object",
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Parser<'a> {
    fn pos(&self) -> Pos {
        // Columns count characters, not bytes.
        let column = std::str::from_utf8(&self.s[self.line_start..self.i])
            .map_or(self.i - self.line_start, |t| t.chars().count())
            + 1;
        Pos { line: self.line, column }
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, LockError> {
        Err(LockError::at(format!("invalid JSON: {}", msg.into()), self.pos()))
    }

    fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            match c {
                b'\n' => {
                    self.i += 1;
                    self.line += 1;
                    self.line_start = self.i;
                }
                b' ' | b'\t' | b'\r' => self.i += 1,
                _ => break,
            }
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<(Json, Pos), LockError> {
        self.ws();
        let pos = self.pos();
        if depth > 512 {
            return self.err("nesting too deep");
        }
        let v = match self.s.get(self.i) {
            None => return self.err("unexpected end of input"),
            Some(b'{') => {
                self.i += 1;
                let mut entries = Vec::new();
                self.ws();
                if !self.eat(b'}') {
                    loop {
                        self.ws();
                        let kpos = self.pos();
                        if self.s.get(self.i) != Some(&b'"') {
                            return self.err("expected a string as object key");
                        }
                        let key = self.string()?;
                        if entries.iter().any(|(k, _, _): &(String, Json, Pos)| *k == key) {
                            return Err(LockError::at(format!("invalid JSON: duplicate key '{key}'"), kpos));
                        }
                        self.ws();
                        if !self.eat(b':') {
                            return self.err("expected ':'");
                        }
                        let (v, vpos) = self.value(depth + 1)?;
                        entries.push((key, v, vpos));
                        self.ws();
                        if self.eat(b',') {
                            continue;
                        }
                        if self.eat(b'}') {
                            break;
                        }
                        return self.err("expected ',' or '}'");
                    }
                }
                Json::Obj(entries)
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        if self.eat(b',') {
                            continue;
                        }
                        if self.eat(b']') {
                            break;
                        }
                        return self.err("expected ',' or ']'");
                    }
                }
                Json::Arr(items)
            }
            Some(b'"') => Json::Str(self.string()?),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                while matches!(self.s.get(self.i), Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("").to_string();
                if text.parse::<f64>().is_err() {
                    self.i = start;
                    return self.err(format!("malformed number '{text}'"));
                }
                Json::Num(text)
            }
            Some(_) => {
                for (word, v) in [("true", Json::Bool(true)), ("false", Json::Bool(false)), ("null", Json::Null)] {
                    if self.s[self.i..].starts_with(word.as_bytes()) {
                        self.i += word.len();
                        return Ok((v, pos));
                    }
                }
                return self.err("unexpected character");
            }
        };
        Ok((v, pos))
    }

    fn hex4(&mut self) -> Result<u32, LockError> {
        let Some(digits) = self.s.get(self.i..self.i + 4) else {
            return self.err("truncated \\u escape");
        };
        let Some(v) = std::str::from_utf8(digits).ok().and_then(|d| u32::from_str_radix(d, 16).ok()) else {
            return self.err("bad \\u escape");
        };
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, LockError> {
        self.i += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            match self.s.get(self.i) {
                None | Some(b'\n') => return self.err("unterminated string"),
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => {
                    self.i += 1;
                    let Some(&c) = self.s.get(self.i) else {
                        return self.err("unterminated string");
                    };
                    self.i += 1;
                    let simple = match c {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        _ => {
                            self.i -= 1;
                            return self.err(format!("bad escape '\\{}'", c as char));
                        }
                    };
                    if let Some(b) = simple {
                        out.push(b);
                        continue;
                    }
                    let mut cp = self.hex4()?;
                    if (0xD800..0xDC00).contains(&cp) && self.s[self.i..].starts_with(b"\\u") {
                        self.i += 2;
                        let lo = self.hex4()?;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
                    }
                    let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                Some(&c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        match String::from_utf8(out) {
            Ok(s) => Ok(s),
            Err(_) => self.err("string is not valid UTF-8"),
        }
    }
}

fn parse_json(text: &str) -> Result<(Json, Pos), LockError> {
    let mut p = Parser { s: text.as_bytes(), i: 0, line: 1, line_start: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return p.err("unexpected text after the document");
    }
    Ok(v)
}

// ------------------------------------------------------------- references

/// The fetcher type of a reference (`"type"` in `locked` / `original`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefType {
    /// `github`: `owner`, `repo`, `rev` / `ref`, optional `host`.
    Github,
    /// `gitlab`: like `github`.
    Gitlab,
    /// `sourcehut`: like `github` (`owner` starts with `~`).
    Sourcehut,
    /// `git`: `url`, `rev`, `ref`, `submodules`, ...
    Git,
    /// `hg` (Mercurial): `url`, `rev`, `ref`.
    Mercurial,
    /// `path`: `path` (absolute, or relative to the parent flake).
    Path,
    /// `tarball`: `url` of an archive, unpacked.
    Tarball,
    /// `file`: `url` of a single file.
    File,
    /// `indirect`: a registry `id` (only in `original`, never locked).
    Indirect,
    /// Any other type string, kept verbatim.
    Other(String),
}

impl RefType {
    /// Reads the `type` string of a reference.
    pub fn parse(s: &str) -> RefType {
        match s {
            "github" => RefType::Github,
            "gitlab" => RefType::Gitlab,
            "sourcehut" => RefType::Sourcehut,
            "git" => RefType::Git,
            "hg" | "mercurial" => RefType::Mercurial,
            "path" => RefType::Path,
            "tarball" => RefType::Tarball,
            "file" => RefType::File,
            "indirect" => RefType::Indirect,
            other => RefType::Other(other.to_string()),
        }
    }

    /// The `type` string Nix writes for this type.
    pub fn as_str(&self) -> &str {
        match self {
            RefType::Github => "github",
            RefType::Gitlab => "gitlab",
            RefType::Sourcehut => "sourcehut",
            RefType::Git => "git",
            RefType::Mercurial => "hg",
            RefType::Path => "path",
            RefType::Tarball => "tarball",
            RefType::File => "file",
            RefType::Indirect => "indirect",
            RefType::Other(s) => s,
        }
    }
}

/// A `locked` or `original` reference: the fetcher attributes, with the
/// common ones pulled out. `attrs` keeps every attribute as written
/// (including `type` and `dir`), so nothing is lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockedRef {
    /// `type`.
    pub kind: RefType,
    /// `owner` (github, gitlab, sourcehut).
    pub owner: Option<String>,
    /// `repo` (github, gitlab, sourcehut).
    pub repo: Option<String>,
    /// `url` (git, hg, tarball, file).
    pub url: Option<String>,
    /// `path` (path).
    pub path: Option<String>,
    /// `id` (indirect).
    pub id: Option<String>,
    /// `rev`: a commit hash.
    pub rev: Option<String>,
    /// `ref`: a branch or tag name.
    pub git_ref: Option<String>,
    /// `dir`: the flake's subdirectory inside the source ("" when absent).
    pub dir: String,
    /// `narHash` as written (normally SRI, `sha256-...`).
    pub nar_hash: Option<String>,
    /// `lastModified` (seconds since the epoch).
    pub last_modified: Option<u64>,
    /// `name`: the store path name; Nix uses `source` when absent.
    pub name: Option<String>,
    /// All attributes, verbatim.
    pub attrs: InputAttrs,
}

impl LockedRef {
    /// Builds a reference from fetcher attributes (such as those of
    /// `dendrite_eval::flakeref::parse_flake_ref`) and a subdirectory;
    /// `None` without a string `type`.
    pub fn from_attrs(mut attrs: InputAttrs, dir: &str) -> Option<LockedRef> {
        if !dir.is_empty() {
            attrs.insert("dir".into(), InputAttr::Str(dir.to_string()));
        }
        let s = |k: &str| match attrs.get(k) {
            Some(InputAttr::Str(s)) => Some(s.clone()),
            _ => None,
        };
        let kind = RefType::parse(&s("type")?);
        Some(LockedRef {
            kind,
            owner: s("owner"),
            repo: s("repo"),
            url: s("url"),
            path: s("path"),
            id: s("id"),
            rev: s("rev"),
            git_ref: s("ref"),
            dir: s("dir").unwrap_or_default(),
            nar_hash: s("narHash"),
            last_modified: match attrs.get("lastModified") {
                Some(InputAttr::Int(n)) => Some(*n),
                _ => None,
            },
            name: s("name"),
            attrs,
        })
    }

    /// The store path name Nix uses for this source: `name`, else `source`
    /// (Nix's `Input::getName`), for every fetcher type, `path` included.
    pub fn store_name(&self) -> &str {
        self.name.as_deref().unwrap_or("source")
    }

    /// A short human form: `github:owner/repo`, the URL, the path, ...
    pub fn describe(&self) -> String {
        match self.kind {
            RefType::Github | RefType::Gitlab | RefType::Sourcehut => format!(
                "{}:{}/{}",
                self.kind.as_str(),
                self.owner.as_deref().unwrap_or("?"),
                self.repo.as_deref().unwrap_or("?")
            ),
            RefType::Indirect => format!("flake:{}", self.id.as_deref().unwrap_or("?")),
            RefType::Path => format!("path:{}", self.path.as_deref().unwrap_or("?")),
            _ => match &self.url {
                Some(u) => format!("{}:{u}", self.kind.as_str()),
                None => self.kind.as_str().to_string(),
            },
        }
    }
}

/// The store path Nix gives the locked source of `r` in `store_dir`
/// (`/nix/store` normally): the fixed-output path of a recursive (NAR)
/// SHA-256 content address, hash = `narHash`, name = [`LockedRef::store_name`]
/// (Nix's `Input::computeStorePath`). This is the whole source tree; a flake
/// with a `dir` lives in that subdirectory of it.
///
/// `None` when there is no `narHash` (an unlocked or relative `path` input)
/// or it is not a valid SHA-256 hash. An empty `narHash` is the all-zero
/// hash, as in Nix.
pub fn locked_store_path(store_dir: &str, r: &LockedRef) -> Option<String> {
    let text = r.nar_hash.as_deref()?;
    let bytes = if text.is_empty() {
        vec![0; 32]
    } else {
        let h: Hash = Hash::parse_any(text, Some(HashAlgo::Sha256)).ok()?;
        if h.algo != HashAlgo::Sha256 {
            return None;
        }
        h.bytes
    };
    let store_dir = store_dir.trim_end_matches('/');
    Some(make_fixed_output_path(store_dir, true, "sha256", &bytes, r.store_name(), &[]))
}

// ------------------------------------------------------------------- nodes

/// Where a node's input points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputRef {
    /// Directly at a node.
    Node(NodeId),
    /// At whatever the input path from the root resolves to
    /// (`inputs.x.follows = "a/b"` is `["a", "b"]`; `[]` is the root itself).
    Follows(Vec<String>),
}

/// One node of the lock graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockNode {
    /// The node's inputs by name.
    pub inputs: BTreeMap<String, InputRef>,
    /// The exact source (absent for the root node).
    pub locked: Option<LockedRef>,
    /// The reference as written in `flake.nix` (absent for the root node).
    pub original: Option<LockedRef>,
    /// `false` for `flake = false` inputs (plain sources); default `true`.
    pub flake: bool,
    /// `parent` (newer Nix, relative `path:` inputs): the input path of the
    /// flake this path is relative to.
    pub parent: Option<Vec<String>>,
}

/// A parsed `flake.lock`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlakeLock {
    /// The `version` field (5, 6 or 7).
    pub version: u64,
    /// The root node's id (normally `root`).
    pub root: NodeId,
    nodes: BTreeMap<NodeId, LockNode>,
}

fn expect_obj<'j>(v: &'j Json, pos: Pos, what: &str) -> Result<&'j [(String, Json, Pos)], LockError> {
    match v {
        Json::Obj(e) => Ok(e),
        other => Err(LockError::at(format!("{what} must be an object, not {}", other.kind()), pos)),
    }
}

fn get<'j>(entries: &'j [(String, Json, Pos)], key: &str) -> Option<(&'j Json, Pos)> {
    entries.iter().find(|(k, _, _)| k == key).map(|(_, v, p)| (v, *p))
}

fn parse_ref(v: &Json, pos: Pos, what: &str) -> Result<LockedRef, LockError> {
    let entries = expect_obj(v, pos, what)?;
    let mut attrs = InputAttrs::new();
    for (k, v, p) in entries {
        let a = match v {
            Json::Str(s) => InputAttr::Str(s.clone()),
            Json::Bool(b) => InputAttr::Bool(*b),
            Json::Num(n) => match n.parse::<u64>() {
                Ok(n) => InputAttr::Int(n),
                Err(_) => {
                    return Err(LockError::at(format!("{what}: attribute '{k}' must be a non-negative integer"), *p));
                }
            },
            other => {
                return Err(LockError::at(
                    format!("{what}: attribute '{k}' must be a string, integer or Boolean, not {}", other.kind()),
                    *p,
                ));
            }
        };
        attrs.insert(k.clone(), a);
    }
    match attrs.get("type") {
        Some(InputAttr::Str(_)) => {}
        _ => return Err(LockError::at(format!("{what} has no string 'type' attribute"), pos)),
    }
    Ok(LockedRef::from_attrs(attrs, "").expect("type checked above"))
}

fn string_list(v: &Json, pos: Pos, what: &str) -> Result<Vec<String>, LockError> {
    let Json::Arr(items) = v else {
        return Err(LockError::at(format!("{what} must be a list of input names, not {}", v.kind()), pos));
    };
    items
        .iter()
        .map(|(item, p)| match item {
            Json::Str(s) => Ok(s.clone()),
            other => Err(LockError::at(format!("{what} must hold input names (strings), not {}", other.kind()), *p)),
        })
        .collect()
}

/// Why an input could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveError {
    /// No node with this id.
    NoSuchNode(NodeId),
    /// The node has no input of this name (node, input).
    NoSuchInput(NodeId, String),
    /// Following `follows` paths came back to an input already being
    /// resolved; the chain of `node.input` steps is given.
    Cycle(Vec<String>),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NoSuchNode(n) => write!(f, "lock file has no node '{n}'"),
            ResolveError::NoSuchInput(n, i) => write!(f, "node '{n}' has no input '{i}'"),
            ResolveError::Cycle(chain) => write!(f, "cycle in 'follows': {}", chain.join(" -> ")),
        }
    }
}

impl std::error::Error for ResolveError {}

impl FlakeLock {
    /// Parses the text of a `flake.lock`.
    ///
    /// Checks: valid JSON; `version` an integer in 5..=7; `root` a string
    /// naming a node; each node an object whose `inputs` map names to node
    /// ids (which must exist) or follows paths (lists of strings), whose
    /// `locked` / `original` are objects with a string `type`, and whose
    /// `flake` is a Boolean. Follows paths are checked lazily (a dangling
    /// one is a [`ResolveError`] from [`FlakeLock::resolve_input`]), as
    /// Nix does.
    pub fn parse(text: &str) -> Result<FlakeLock, LockError> {
        let (doc, doc_pos) = parse_json(text)?;
        let top = expect_obj(&doc, doc_pos, "the lock file")?;
        let version = match get(top, "version") {
            None => return Err(LockError::at("lock file has no 'version'", doc_pos)),
            Some((Json::Num(n), p)) => match n.parse::<u64>() {
                Ok(v) if SUPPORTED_VERSIONS.contains(&v) => v,
                _ => {
                    return Err(LockError::at(
                        format!(
                            "lock file has unsupported version {n} (supported: {} to {})",
                            SUPPORTED_VERSIONS.start(),
                            SUPPORTED_VERSIONS.end()
                        ),
                        p,
                    ));
                }
            },
            Some((other, p)) => {
                return Err(LockError::at(format!("'version' must be an integer, not {}", other.kind()), p));
            }
        };
        let (root, root_pos) = match get(top, "root") {
            None => return Err(LockError::at("lock file has no 'root'", doc_pos)),
            Some((Json::Str(s), p)) => (s.clone(), p),
            Some((other, p)) => return Err(LockError::at(format!("'root' must be a string, not {}", other.kind()), p)),
        };
        let Some((nodes_json, nodes_pos)) = get(top, "nodes") else {
            return Err(LockError::at("lock file has no 'nodes'", doc_pos));
        };
        let node_entries = expect_obj(nodes_json, nodes_pos, "'nodes'")?;
        let ids: BTreeSet<&str> = node_entries.iter().map(|(k, _, _)| k.as_str()).collect();
        let mut nodes = BTreeMap::new();
        for (id, v, p) in node_entries {
            let fields = expect_obj(v, *p, &format!("node '{id}'"))?;
            let mut node =
                LockNode { inputs: BTreeMap::new(), locked: None, original: None, flake: true, parent: None };
            if let Some((inputs, ip)) = get(fields, "inputs") {
                for (name, target, tp) in expect_obj(inputs, ip, &format!("inputs of node '{id}'"))? {
                    let r = match target {
                        Json::Str(t) => {
                            if !ids.contains(t.as_str()) {
                                return Err(LockError::at(
                                    format!("input '{name}' of node '{id}' refers to node '{t}', which does not exist"),
                                    *tp,
                                ));
                            }
                            InputRef::Node(t.clone())
                        }
                        Json::Arr(_) => {
                            InputRef::Follows(string_list(target, *tp, &format!("input '{name}' of node '{id}'"))?)
                        }
                        other => {
                            return Err(LockError::at(
                                format!(
                                    "input '{name}' of node '{id}' must be a node id or a follows path, not {}",
                                    other.kind()
                                ),
                                *tp,
                            ));
                        }
                    };
                    node.inputs.insert(name.clone(), r);
                }
            }
            if let Some((l, lp)) = get(fields, "locked") {
                node.locked = Some(parse_ref(l, lp, &format!("'locked' of node '{id}'"))?);
            }
            if let Some((o, op)) = get(fields, "original") {
                node.original = Some(parse_ref(o, op, &format!("'original' of node '{id}'"))?);
            }
            match get(fields, "flake") {
                None => {}
                Some((Json::Bool(b), _)) => node.flake = *b,
                Some((other, fp)) => {
                    return Err(LockError::at(
                        format!("'flake' of node '{id}' must be a Boolean, not {}", other.kind()),
                        fp,
                    ));
                }
            }
            if let Some((par, pp)) = get(fields, "parent") {
                node.parent = Some(string_list(par, pp, &format!("'parent' of node '{id}'"))?);
            }
            nodes.insert(id.clone(), node);
        }
        if !nodes.contains_key(&root) {
            return Err(LockError::at(format!("root node '{root}' does not exist"), root_pos));
        }
        Ok(FlakeLock { version, root, nodes })
    }

    /// Reads and parses a `flake.lock` file.
    pub fn read(path: &std::path::Path) -> Result<FlakeLock, LockError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LockError::nowhere(format!("cannot read '{}': {e}", path.display())))?;
        FlakeLock::parse(&text)
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&LockNode> {
        self.nodes.get(id)
    }

    /// All nodes by id.
    pub fn nodes(&self) -> &BTreeMap<NodeId, LockNode> {
        &self.nodes
    }

    /// The root node.
    pub fn root_node(&self) -> &LockNode {
        &self.nodes[&self.root]
    }

    /// The root's inputs: each name with the node it resolves to (follows
    /// paths walked), or the error that stopped the walk. Sorted by name.
    pub fn root_inputs(&self) -> Vec<(String, Result<NodeId, ResolveError>)> {
        self.inputs_of(&self.root)
    }

    /// A node's inputs, resolved as in [`FlakeLock::root_inputs`]; empty
    /// for an unknown node.
    pub fn inputs_of(&self, node: &str) -> Vec<(String, Result<NodeId, ResolveError>)> {
        match self.nodes.get(node) {
            None => Vec::new(),
            Some(n) => n.inputs.keys().map(|name| (name.clone(), self.resolve_input(node, name))).collect(),
        }
    }

    /// The node that input `input_name` of `node` stands for, following
    /// `follows` paths transitively; `None` when the node or input does not
    /// exist, a follows path dangles, or follows paths form a cycle.
    pub fn resolve(&self, node: &str, input_name: &str) -> Option<NodeId> {
        self.resolve_input(node, input_name).ok()
    }

    /// Like [`FlakeLock::resolve`], saying why it failed.
    pub fn resolve_input(&self, node: &str, input_name: &str) -> Result<NodeId, ResolveError> {
        let mut visiting = Vec::new();
        self.resolve_in(node, input_name, &mut visiting)
    }

    /// The node an input path from the root (`["clan-core", "nixpkgs"]`)
    /// resolves to; `[]` is the root.
    pub fn resolve_path<S: AsRef<str>>(&self, path: &[S]) -> Result<NodeId, ResolveError> {
        let mut visiting = Vec::new();
        self.resolve_path_in(path, &mut visiting)
    }

    fn resolve_path_in<S: AsRef<str>>(&self, path: &[S], visiting: &mut Vec<String>) -> Result<NodeId, ResolveError> {
        let mut cur = self.root.clone();
        for name in path {
            cur = self.resolve_in(&cur, name.as_ref(), visiting)?;
        }
        Ok(cur)
    }

    fn resolve_in(&self, node: &str, input: &str, visiting: &mut Vec<String>) -> Result<NodeId, ResolveError> {
        let n = self.nodes.get(node).ok_or_else(|| ResolveError::NoSuchNode(node.to_string()))?;
        let r = n.inputs.get(input).ok_or_else(|| ResolveError::NoSuchInput(node.to_string(), input.to_string()))?;
        match r {
            InputRef::Node(id) => Ok(id.clone()),
            InputRef::Follows(path) => {
                let step = format!("{node}.{input}");
                if visiting.contains(&step) {
                    let mut chain = visiting.clone();
                    chain.push(step);
                    return Err(ResolveError::Cycle(chain));
                }
                visiting.push(step);
                let out = self.resolve_path_in(path, visiting);
                visiting.pop();
                out
            }
        }
    }
}

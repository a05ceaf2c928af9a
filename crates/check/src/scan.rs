//! The static side of the check: every `.nix` file of the flake is parsed
//! (D001), and the syntax tells where `flake.modules` keys are defined
//! and referenced (`config.flake.modules.darwin.base`, `with
//! config.flake.modules.nixos; [ base ]`), which lists import the same
//! module twice, and which path literals name which files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dendrite_eval::Evaluator;
use dendrite_syntax::{SourceFile, file_diagnostics, parse};
use rnix::ast::{self, HasEntry};
use rnix::{SyntaxKind, SyntaxNode};
use rowan::ast::AstNode;

use crate::Ctx;
use crate::diag::{Diagnostic, LineIndex, Location};

/// A parsed file of the flake.
pub struct FileInfo {
    /// Absolute path.
    pub path: PathBuf,
    /// Its text.
    pub text: Arc<str>,
    /// The salsa input.
    pub file: SourceFile,
    /// Whether it parsed without errors.
    pub ok: bool,
}

/// Every `.nix` file under `root`, skipping hidden directories and `result` links.
pub fn nix_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() && name.ends_with(".nix") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Parses every file through the evaluator's database (so evaluation
/// reuses the trees) and reports those that do not parse or lower.
pub(crate) fn parse_all(ev: &mut Evaluator, cx: &mut Ctx, files: &[PathBuf]) -> Vec<FileInfo> {
    let mut out = Vec::with_capacity(files.len());
    for path in files {
        let file = match ev.db.file(path) {
            Ok(f) => f,
            Err(e) => {
                cx.diags.push(Diagnostic::new("D001", format!("cannot read {}: {e}", path.display()), None));
                continue;
            }
        };
        let text = file.text(&ev.db).clone();
        let diags = file_diagnostics(&ev.db, file);
        let mut ok = true;
        // Nix stops at the first syntax error; later ones are mostly echoes.
        let first_syntax = diags.iter().position(|d| d.kind == dendrite_syntax::DiagnosticKind::Syntax);
        for (i, d) in diags.iter().enumerate().filter(|(_, d)| d.kind.is_error()) {
            if first_syntax.is_some_and(|f| i > f) {
                continue;
            }
            ok = false;
            let start: usize = d.range.start().into();
            let len: usize = d.range.len().into();
            let loc = Location::line_of(path, &text, start, len);
            cx.diags.push(
                Diagnostic::new("D001", d.message.clone(), Some(loc))
                    .help("Nix refuses the whole file; everything it defines is missing from the check"),
            );
        }
        if !ok {
            // Evaluation goes on without it, as if its content were unknown.
            ev.import_overrides.insert(
                path.clone(),
                dendrite_modules::lenient::unknown_value(format!("{} (it does not parse)", path.display())),
            );
        }
        out.push(FileInfo { path: path.clone(), text, file, ok });
    }
    out
}

/// A reference to a `flake.modules` namespace.
#[derive(Debug, Clone)]
pub struct NsRef {
    /// The class (`nixos`), or `None` when computed.
    pub class: Option<String>,
    /// The key (`base`), or `None` when the reference is to the whole class
    /// set and the key is not static.
    pub key: Option<String>,
    /// Whether the whole class set is used in a way the scan cannot follow.
    pub dynamic: bool,
    /// Where the key (or the class) is written.
    pub location: Location,
    /// Where the class is written.
    pub class_location: Location,
}

/// A definition of `flake.modules.<class>.<key>`.
#[derive(Debug, Clone)]
pub struct NsDef {
    /// The class.
    pub class: String,
    /// The key.
    pub key: String,
    /// Where the key is written.
    pub location: Location,
    /// Where the class is written.
    pub class_location: Location,
}

/// An element imported twice in one list.
#[derive(Debug, Clone)]
pub struct Duplicate {
    /// The element's text.
    pub text: String,
    /// The second occurrence.
    pub location: Location,
    /// The first.
    pub first: Location,
}

/// A binding `a.b.c = value;` with its full path through enclosing sets.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The full path (`None` for dynamic names).
    pub path: Vec<Option<String>>,
    /// Where the last name of the path is written.
    pub location: Location,
    /// The value's byte range in the file.
    pub value: (u32, u32),
    /// Where each name of `path` is written (`None` for dynamic names).
    /// Lets a finding about `roles.sever` point at `sever` in
    /// `roles.sever.tags.server = { };`, not at the enclosing instance.
    pub names: Vec<Option<Location>>,
    /// Whether it is in the file's own module body (`{ ... }: { <here> }`),
    /// not inside a lower-level module value.
    pub top: bool,
}

/// What the scan found in all files.
#[derive(Debug, Default, Clone)]
pub struct Scan {
    /// Every binding of every file.
    pub bindings: Vec<Binding>,
    /// Definitions found in files that do not parse.
    pub broken_defs: Vec<NsDef>,
    /// Bindings of the module bodies of files that do not parse, as far
    /// as the parser recovered them.
    pub broken_bindings: Vec<Binding>,
    /// References.
    pub refs: Vec<NsRef>,
    /// Definitions.
    pub defs: Vec<NsDef>,
    /// Duplicated list elements.
    pub duplicates: Vec<Duplicate>,
    /// Files named by path literals (resolved, canonical when possible).
    pub path_literals: Vec<PathBuf>,
    /// Where each of `path_literals` is written.
    pub path_literal_locations: Vec<Location>,
    /// Names passed through `specialArgs`, `extraSpecialArgs` or
    /// `_module.args`: (the binding's path, the name, where it is written).
    pub special_args: Vec<(String, String, Location)>,
    /// Per file, what the language server's dependency keys hash.
    pub key_parts: Vec<(PathBuf, KeyParts)>,
}

/// A file's tokens (without whitespace and comments, which change nothing
/// an evaluation sees) split into the values of its module body's
/// `flake.modules.<class>.<key>` definitions and the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyParts {
    /// The tokens outside those values.
    pub skeleton: u64,
    /// Each value's tokens, by class and key.
    pub entries: Vec<((String, String), u64)>,
    /// Whether the module body binds nothing but such definitions.
    pub only_entries: bool,
}

impl Scan {
    /// Appends what another scan found.
    fn extend(&mut self, other: Scan) {
        self.bindings.extend(other.bindings);
        self.broken_defs.extend(other.broken_defs);
        self.broken_bindings.extend(other.broken_bindings);
        self.refs.extend(other.refs);
        self.defs.extend(other.defs);
        self.duplicates.extend(other.duplicates);
        self.path_literals.extend(other.path_literals);
        self.path_literal_locations.extend(other.path_literal_locations);
        self.special_args.extend(other.special_args);
        self.key_parts.extend(other.key_parts);
    }
}

/// Per-file scans kept between runs of a session (with the text each was
/// made from), and the last merged scan.
#[derive(Default)]
pub(crate) struct ScanCache {
    files: std::collections::HashMap<PathBuf, (Arc<str>, Scan)>,
    merged: Option<(Vec<PathBuf>, std::rc::Rc<Scan>)>,
}

/// Scans the parsed files.
pub fn scan(ev: &Evaluator, files: &[FileInfo]) -> Scan {
    scan_parallel(&ev.db, files)
}

/// [`scan`] of files the database has parsed.
fn scan_parallel(db: &dendrite_syntax::RootDatabase, files: &[FileInfo]) -> Scan {
    // Files are scanned independently, from the syntax trees the parse
    // phase left: a share of them on each core, on scoped threads (none
    // outlives the scan, so the workers forked later inherit none).
    // Nothing is kept for another run: each file's scan goes straight
    // into the merged one, in path order.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(files.len() / SCAN_SHARE).max(1);
    if threads == 1 {
        return scan_in_order(db, files);
    }
    let share = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let others: Vec<_> = files[share..]
            .chunks(share)
            .map(|chunk| {
                let db = db.clone();
                scope.spawn(move || scan_in_order(&db, chunk))
            })
            .collect();
        let mut s = scan_in_order(db, &files[..share]);
        for t in others {
            match t.join() {
                Ok(part) => s.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        s
    })
}

/// Scans `files` one after the other on this thread.
fn scan_in_order(db: &dendrite_syntax::RootDatabase, files: &[FileInfo]) -> Scan {
    let mut s = Scan::default();
    for f in files {
        s.extend(scan_file(db, f));
    }
    s
}

/// Files a scanning thread takes at least.
const SCAN_SHARE: usize = 256;

/// [`scan`], reusing what the cache holds: only files whose text changed
/// are scanned again, and their entries replace theirs in the merged scan.
pub(crate) fn scan_cached(ev: &Evaluator, files: &[FileInfo], cache: &mut ScanCache) -> std::rc::Rc<Scan> {
    let mut changed: Vec<&Path> = Vec::new();
    for f in files {
        let same = cache.files.get(&f.path).is_some_and(|(t, _)| Arc::ptr_eq(t, &f.text) || **t == *f.text);
        if !same {
            cache.files.insert(f.path.clone(), (f.text.clone(), scan_file(&ev.db, f)));
            changed.push(&f.path);
        }
    }
    let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    if let Some((old_paths, merged)) = cache.merged.take()
        && old_paths == paths
    {
        if changed.is_empty() {
            cache.merged = Some((old_paths, merged.clone()));
            return merged;
        }
        // Entries are grouped by file in path order: splice each changed
        // file's new entries in place of its old ones.
        let mut s = std::rc::Rc::try_unwrap(merged).unwrap_or_else(|rc| (*rc).clone());
        for p in changed {
            let new = cache.files.get(p).map(|(_, one)| one.clone()).unwrap_or_default();
            s.splice_file(p, new);
        }
        let merged = std::rc::Rc::new(s);
        cache.merged = Some((old_paths, merged.clone()));
        return merged;
    }
    cache.files.retain(|p, _| paths.binary_search(p).is_ok());
    let mut s = Scan::default();
    for f in files {
        if let Some((_, one)) = cache.files.get(&f.path) {
            s.extend(one.clone());
        }
    }
    let merged = std::rc::Rc::new(s);
    cache.merged = Some((paths, merged.clone()));
    merged
}

/// Replaces the entries located in `file` of a vector grouped by file in
/// path order; the range they took.
fn splice<T>(v: &mut Vec<T>, file: &Path, new: Vec<T>, at: impl Fn(&T) -> &Path) -> std::ops::Range<usize> {
    let start = v.partition_point(|x| at(x) < file);
    let end = start + v[start..].partition_point(|x| at(x) == file);
    let n = new.len();
    v.splice(start..end, new);
    start..start + n
}

impl Scan {
    /// Puts `new` (the scan of `file` alone) in place of `file`'s entries.
    fn splice_file(&mut self, file: &Path, new: Scan) {
        splice(&mut self.bindings, file, new.bindings, |b| &b.location.path);
        splice(&mut self.broken_defs, file, new.broken_defs, |d| &d.location.path);
        splice(&mut self.broken_bindings, file, new.broken_bindings, |b| &b.location.path);
        splice(&mut self.refs, file, new.refs, |r| &r.location.path);
        splice(&mut self.defs, file, new.defs, |d| &d.location.path);
        splice(&mut self.duplicates, file, new.duplicates, |d| &d.location.path);
        splice(&mut self.special_args, file, new.special_args, |(_, _, l)| &l.path);
        splice(&mut self.key_parts, file, new.key_parts, |(p, _)| p);
        let start = self.path_literal_locations.partition_point(|l| l.path.as_path() < file);
        let end = start + self.path_literal_locations[start..].partition_point(|l| l.path == file);
        self.path_literals.splice(start..end, new.path_literals);
        self.path_literal_locations.splice(start..end, new.path_literal_locations);
    }
}

/// Scans one file.
fn scan_file(db: &dendrite_syntax::RootDatabase, f: &FileInfo) -> Scan {
    let root = parse(db, f.file).root();
    let body = module_body(&root);
    let lines = LineIndex::new(&f.text);
    let mut one = Scan::default();
    if f.ok {
        let special = crate::rules::special_args_in(&root, &lines, f);
        let mut w = Walker { file: f, out: &mut one, body, lines };
        w.node(root.syntax(), &[]);
        one.special_args = special;
    } else {
        // What the parser recovered of a broken file still tells which
        // keys it means to define (evaluation cannot).
        let mut partial = Scan::default();
        let mut w = Walker { file: f, out: &mut partial, body, lines };
        w.node(root.syntax(), &[]);
        one.broken_defs = partial.defs;
        one.broken_bindings = partial.bindings.into_iter().filter(|b| b.top).collect();
    }
    let parts = key_parts(&root, &one);
    one.key_parts = vec![(f.path.clone(), parts)];
    one
}

/// See [`KeyParts`].
fn key_parts(root: &ast::Root, one: &Scan) -> KeyParts {
    use std::hash::{Hash, Hasher};
    let mut only_entries = true;
    let mut ranges: Vec<(u32, u32, (String, String))> = Vec::new();
    for b in one.bindings.iter().chain(&one.broken_bindings).filter(|b| b.top) {
        match b.path.as_slice() {
            [Some(f), Some(m), Some(class), Some(key), ..] if f == "flake" && m == "modules" => {
                ranges.push((b.value.0, b.value.1, (class.clone(), key.clone())));
            }
            _ => only_entries = false,
        }
    }
    ranges.sort();
    // A definition inside another's value is part of that value.
    let mut outer: Vec<(u32, u32, (String, String))> = Vec::new();
    for r in ranges {
        if outer.last().is_none_or(|o| r.0 >= o.1) {
            outer.push(r);
        }
    }
    let mut skeleton = rustc_hash::FxHasher::default();
    let mut values: Vec<rustc_hash::FxHasher> = outer.iter().map(|_| rustc_hash::FxHasher::default()).collect();
    let mut i = 0;
    for token in root.syntax().descendants_with_tokens().filter_map(|e| e.into_token()) {
        if matches!(token.kind(), SyntaxKind::TOKEN_WHITESPACE | SyntaxKind::TOKEN_COMMENT) {
            continue;
        }
        let at: u32 = token.text_range().start().into();
        while i < outer.len() && at >= outer[i].1 {
            i += 1;
        }
        let h = match outer.get(i) {
            Some(r) if at >= r.0 => &mut values[i],
            _ => &mut skeleton,
        };
        (token.kind() as u16).hash(h);
        token.text().hash(h);
    }
    KeyParts {
        skeleton: skeleton.finish(),
        only_entries: only_entries && !outer.is_empty(),
        entries: outer.into_iter().zip(values).map(|((_, _, e), h)| (e, h.finish())).collect(),
    }
}

struct Walker<'a> {
    file: &'a FileInfo,
    out: &'a mut Scan,
    /// The attribute set a module file evaluates to, under its arguments
    /// and `let`s.
    body: Option<SyntaxNode>,
    lines: LineIndex,
}

/// The module body of a file: its root expression, under `args:` and `let`s.
fn module_body(root: &ast::Root) -> Option<SyntaxNode> {
    let mut e = root.expr()?;
    loop {
        e = match e {
            ast::Expr::Lambda(l) => l.body()?,
            ast::Expr::LetIn(l) => l.body()?,
            ast::Expr::Paren(p) => p.expr()?,
            ast::Expr::AttrSet(s) => return Some(s.syntax().clone()),
            _ => return None,
        };
    }
}

/// The static name of an attribute (`x`, `"x"`), if it has one.
fn attr_name(a: &ast::Attr) -> Option<String> {
    match a {
        ast::Attr::Ident(id) => Some(id.syntax().text().to_string()),
        ast::Attr::Str(s) => static_str(s),
        ast::Attr::Dynamic(d) => match d.expr()? {
            ast::Expr::Str(s) => static_str(&s),
            _ => None,
        },
    }
}

fn static_str(s: &ast::Str) -> Option<String> {
    if s.syntax().children().any(|n| n.kind() == SyntaxKind::NODE_INTERPOL) {
        return None;
    }
    let t = s.syntax().text().to_string();
    let inner = t.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        return None;
    }
    Some(inner.to_string())
}

impl Walker<'_> {
    fn loc(&self, node: &SyntaxNode) -> Location {
        let r = node.text_range();
        self.lines.location(&self.file.path, &self.file.text, r.start().into(), r.len().into())
    }

    /// Walks `node`; `prefix` is the binding path of enclosing attribute
    /// sets (to see `flake = { modules.nixos.x = ...; }` as a definition).
    fn node(&mut self, node: &SyntaxNode, prefix: &[Option<(String, SyntaxNode)>]) {
        self.node_in(node, prefix, false);
    }

    /// `top`: the node is the value of a binding of the module body.
    fn node_in(&mut self, node: &SyntaxNode, prefix: &[Option<(String, SyntaxNode)>], top: bool) {
        if let Some(sel) = ast::Select::cast(node.clone()) {
            self.select(&sel);
        }
        if let Some(w) = ast::With::cast(node.clone()) {
            self.with(&w);
        }
        if let Some(list) = ast::List::cast(node.clone()) {
            self.list(&list);
        }
        if matches!(node.kind(), SyntaxKind::NODE_PATH_REL) {
            self.path_literal(node);
        }
        if let Some(set) = ast::AttrSet::cast(node.clone()) {
            let top = top || self.body.as_ref() == Some(node);
            for entry in set.entries() {
                match entry {
                    ast::Entry::AttrpathValue(apv) => {
                        let mut path: Vec<Option<(String, SyntaxNode)>> = prefix.to_vec();
                        if let Some(ap) = apv.attrpath() {
                            for a in ap.attrs() {
                                path.push(attr_name(&a).map(|n| (n, a.syntax().clone())));
                            }
                            self.definition(&path);
                            if let (Some(last), Some(v)) = (ap.attrs().last(), apv.value()) {
                                let r = v.syntax().text_range();
                                self.out.bindings.push(Binding {
                                    path: path.iter().map(|p| p.as_ref().map(|(n, _)| n.clone())).collect(),
                                    location: self.loc(last.syntax()),
                                    value: (r.start().into(), r.end().into()),
                                    names: path.iter().map(|p| p.as_ref().map(|(_, n)| self.loc(n))).collect(),
                                    top,
                                });
                            }
                            for a in ap.attrs() {
                                self.node(a.syntax(), &[]);
                            }
                        }
                        if let Some(v) = apv.value() {
                            self.node_in(v.syntax(), &path, top);
                        }
                    }
                    ast::Entry::Inherit(i) => self.node(i.syntax(), &[]),
                }
            }
            return;
        }
        for child in node.children() {
            self.node(&child, &[]);
        }
    }

    /// A binding path ending at or below `flake.modules.<class>.<key>`.
    fn definition(&mut self, path: &[Option<(String, SyntaxNode)>]) {
        let names: Vec<Option<&str>> = path.iter().map(|p| p.as_ref().map(|(n, _)| n.as_str())).collect();
        // The binding must be exactly `... flake.modules.<class>.<key>` (a
        // definition of one key), at the top of a module.
        let Some(i) = names.windows(2).position(|w| w == [Some("flake"), Some("modules")]) else { return };
        if i != 0 || path.len() < 4 {
            return;
        }
        // `flake.modules.nixos.base.services.x = ...` defines (part of) `base`;
        // record each key once per binding.
        if path.len() > 4
            && self
                .out
                .defs
                .last()
                // Same class too: `flake.modules.darwin.base.x` and `flake.modules.nixos.base.x`
                // on consecutive lines are two definitions (a misspelled class on the second).
                .is_some_and(|d| {
                    Some(&d.key) == path[3].as_ref().map(|(k, _)| k)
                        && Some(&d.class) == path[2].as_ref().map(|(c, _)| c)
                        && d.location.path == self.file.path
                })
        {
            return;
        }
        let (Some((class, cnode)), Some((key, knode))) = (&path[2], &path[3]) else { return };
        // A file import-tree skips defines nothing (unless imported by path).
        if self.file.path.components().any(|c| c.as_os_str().to_string_lossy().starts_with('_')) {
            return;
        }
        let location = self.loc(knode);
        let class_location = self.loc(cnode);
        self.out.defs.push(NsDef { class: class.clone(), key: key.clone(), location, class_location });
    }

    fn select(&mut self, sel: &ast::Select) {
        let Some(base) = sel.expr() else { return };
        let base_name = match &base {
            ast::Expr::Ident(id) => id.syntax().text().to_string(),
            _ => return,
        };
        let Some(ap) = sel.attrpath() else { return };
        let attrs: Vec<ast::Attr> = ap.attrs().collect();
        let mut comps: Vec<(Option<String>, Option<SyntaxNode>)> = vec![(Some(base_name), None)];
        comps.extend(attrs.iter().map(|a| (attr_name(a), Some(a.syntax().clone()))));
        let Some(i) = ns_index(&comps) else { return };
        // `x.flake.modules` alone: the whole namespace, used dynamically.
        let Some((class, cnode)) = comps.get(i + 1) else { return };
        let Some(cnode) = cnode.clone() else { return };
        let class_location = self.loc(&cnode);
        match comps.get(i + 2) {
            Some((key, Some(knode))) => {
                let location = self.loc(knode);
                self.out.refs.push(NsRef {
                    class: class.clone(),
                    dynamic: key.is_none(),
                    key: key.clone(),
                    location,
                    class_location,
                });
            }
            _ => {
                // The class set itself: `with` lists are handled by `with`;
                // anything else (attrValues, mapAttrs ...) is dynamic use.
                let in_with_namespace = sel.syntax().parent().and_then(ast::With::cast).is_some_and(|w| {
                    w.namespace().is_some_and(|n| n.syntax().text_range() == sel.syntax().text_range())
                });
                if !in_with_namespace || sel.default_expr().is_some() {
                    self.out.refs.push(NsRef {
                        class: class.clone(),
                        key: None,
                        dynamic: true,
                        location: class_location.clone(),
                        class_location,
                    });
                }
            }
        }
    }

    /// `with config.flake.modules.<class>; [ a b ]`: the identifiers of the
    /// list are keys of that class.
    fn with(&mut self, w: &ast::With) {
        let Some(ast::Expr::Select(sel)) = w.namespace() else { return };
        let Some(ast::Expr::Ident(base)) = sel.expr() else { return };
        let Some(ap) = sel.attrpath() else { return };
        let attrs: Vec<ast::Attr> = ap.attrs().collect();
        let mut comps: Vec<(Option<String>, Option<SyntaxNode>)> = vec![(Some(base.syntax().text().to_string()), None)];
        comps.extend(attrs.iter().map(|a| (attr_name(a), Some(a.syntax().clone()))));
        let Some(i) = ns_index(&comps) else { return };
        if comps.len() != i + 2 {
            return;
        }
        let (class, Some(cnode)) = &comps[i + 1] else { return };
        let class_location = self.loc(cnode);
        let Some(body) = w.body() else { return };
        let mut body = body;
        while let ast::Expr::Paren(p) = &body {
            match p.expr() {
                Some(e) => body = e,
                None => return,
            }
        }
        let ast::Expr::List(list) = body else {
            // Anything but a plain list: the names used cannot be listed.
            self.out.refs.push(NsRef {
                class: class.clone(),
                key: None,
                dynamic: true,
                location: class_location.clone(),
                class_location,
            });
            return;
        };
        for item in list.items() {
            if let ast::Expr::Ident(id) = item {
                let name = id.syntax().text().to_string();
                // Names the `with` cannot shadow: lexically bound ones win in
                // Nix, but in these lists they are keys in practice.
                self.out.refs.push(NsRef {
                    class: class.clone(),
                    key: Some(name),
                    dynamic: false,
                    location: self.loc(id.syntax()),
                    class_location: class_location.clone(),
                });
            }
        }
    }

    fn list(&mut self, list: &ast::List) {
        let mut seen: Vec<(String, Location)> = Vec::new();
        for item in list.items() {
            let interesting = matches!(item, ast::Expr::Select(_) | ast::Expr::Ident(_) | ast::Expr::PathRel(_));
            if !interesting {
                continue;
            }
            let text: String = item.syntax().text().to_string().split_whitespace().collect::<Vec<_>>().join(" ");
            let loc = self.loc(item.syntax());
            if let Some((_, first)) = seen.iter().find(|(t, _)| *t == text) {
                self.out.duplicates.push(Duplicate { text, location: loc, first: first.clone() });
            } else {
                seen.push((text, loc));
            }
        }
    }

    fn path_literal(&mut self, node: &SyntaxNode) {
        let text = node.text().to_string();
        if text.contains("${") {
            return;
        }
        let dir = self.file.path.parent().unwrap_or(Path::new("/"));
        let joined = dir.join(&text);
        let p = joined.canonicalize().unwrap_or_else(|_| normalize(&joined));
        self.out.path_literals.push(p);
        let loc = self.loc(node);
        self.out.path_literal_locations.push(loc);
    }
}

/// Index of `modules` in `<base>.flake.modules` / `self.modules` /
/// `inputs.self.modules` paths.
fn ns_index(comps: &[(Option<String>, Option<SyntaxNode>)]) -> Option<usize> {
    let names: Vec<Option<&str>> = comps.iter().map(|(n, _)| n.as_deref()).collect();
    (1..names.len()).find(|&i| names[i] == Some("modules") && matches!(names[i - 1], Some("flake") | Some("self")))
}

impl Scan {
    /// Bindings whose path ends with `suffix` (`None` in the suffix matches any name).
    pub fn ending_with<'a>(&'a self, suffix: &'a [Option<&'a str>]) -> impl Iterator<Item = &'a Binding> + 'a {
        self.bindings.iter().filter(move |b| {
            b.path.len() >= suffix.len()
                && b.path[b.path.len() - suffix.len()..]
                    .iter()
                    .zip(suffix)
                    .all(|(p, s)| s.is_none() || p.as_deref() == *s)
        })
    }

    /// The binding of an option path (`flake.clan.inventory.x`), written
    /// with any prefix (`clan.inventory.x`, `inventory.x` in a clan module).
    pub fn locate_option(&self, path: &[&str]) -> Option<Location> {
        for start in 0..path.len().saturating_sub(1) {
            let s: Vec<Option<&str>> = path[start..].iter().map(|x| Some(*x)).collect();
            if let Some(b) = self.ending_with(&s).next() {
                return Some(b.location.clone());
            }
        }
        None
    }

    /// The first binding ending with `suffix`, else the longest proper
    /// prefix of it that has one (a list or set written in one piece).
    pub fn locate(&self, suffix: &[&str]) -> Option<Location> {
        for n in (1..=suffix.len()).rev() {
            let s: Vec<Option<&str>> = suffix[..n].iter().map(|x| Some(*x)).collect();
            if let Some(b) = self.ending_with(&s).next() {
                return Some(b.location.clone());
            }
            // Written inside a longer path (`roles.server.machines.cinnabar.settings = ...`
            // for `[.., "machines", "cinnabar"]`): the name itself.
            if let Some(loc) = self.within(&suffix[..n]) {
                return Some(loc);
            }
        }
        None
    }

    /// Where the last name of `seq` is written, in the first binding whose
    /// path contains `seq` (contiguous).
    pub fn within(&self, seq: &[&str]) -> Option<Location> {
        if seq.is_empty() {
            return None;
        }
        self.bindings.iter().find_map(|b| {
            let end = (seq.len()..=b.path.len())
                .find(|&e| b.path[e - seq.len()..e].iter().zip(seq).all(|(p, s)| p.as_deref() == Some(*s)))?;
            b.names.get(end - 1).cloned().flatten()
        })
    }
}

/// `a/./b/../c` -> `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// What is under the cursor, as far as the syntax tells.
#[derive(Debug, Clone, PartialEq)]
pub enum SymbolAt {
    /// A module argument (a formal of a module function).
    Argument {
        /// Its name.
        name: String,
        /// The class of the module (`None`: the file's own flake-parts
        /// module, or unknown).
        class: Option<String>,
        /// Whether the function is the file's own (top-level) module.
        top_level: bool,
    },
    /// A name in a binding's path: the path up to it, inside the module.
    Binding {
        /// The class of the module the binding is in (`flake` for the
        /// file's own flake-parts module, `None` when unknown).
        class: Option<String>,
        /// The option path (without a leading `config.` or `options.`).
        path: Vec<String>,
    },
}

/// The argument or binding name at byte `offset` of `text`.
pub fn symbol_at(text: &str, offset: usize) -> Option<SymbolAt> {
    let root = rnix::Root::parse(text).tree();
    let token = root.syntax().token_at_offset(rowan::TextSize::from(offset as u32)).right_biased()?;
    if token.kind() != SyntaxKind::TOKEN_IDENT && token.kind() != SyntaxKind::TOKEN_STRING_CONTENT {
        return None;
    }
    let node = token.parent()?;
    // `{ pkgs, ... }:`
    if let Some(entry) = node.ancestors().find_map(ast::PatEntry::cast) {
        let lambda = entry.syntax().ancestors().find_map(ast::Lambda::cast)?;
        let (class, top_level) = module_class(lambda.syntax(), &root);
        return Some(SymbolAt::Argument { name: token.text().to_string(), class, top_level });
    }
    // A name of `a.b.c = ...;`: the path through the enclosing sets.
    let attr = node.ancestors().find_map(ast::Attr::cast)?;
    let ap = attr.syntax().parent().and_then(ast::Attrpath::cast)?;
    let apv = ap.syntax().parent().and_then(ast::AttrpathValue::cast)?;
    let mut path: Vec<String> = Vec::new();
    for a in ap.attrs() {
        path.push(attr_name(&a)?);
        if a.syntax() == attr.syntax() {
            break;
        }
    }
    let mut boundary = None;
    for anc in apv.syntax().ancestors().skip(1) {
        if anc.kind() == SyntaxKind::NODE_LAMBDA {
            boundary = Some(anc);
            break;
        }
        if let Some(o) = ast::AttrpathValue::cast(anc.clone()) {
            let mut p: Vec<String> = o.attrpath()?.attrs().map(|a| attr_name(&a)).collect::<Option<_>>()?;
            p.extend(path);
            path = p;
        }
    }
    // `flake.modules.<class>.<key>.<path>` written out in a flake-parts module.
    let (class, path) = match path.as_slice() {
        [f, m, class, _key, rest @ ..] if f == "flake" && m == "modules" && !rest.is_empty() => {
            (Some(class.clone()), rest.to_vec())
        }
        _ => {
            let class = match &boundary {
                Some(l) => module_class(l, &root).0,
                None => Some("flake".to_string()),
            };
            (class, path)
        }
    };
    let path = match path.first().map(String::as_str) {
        Some("config" | "options") if path.len() > 1 => path[1..].to_vec(),
        _ => path,
    };
    Some(SymbolAt::Binding { class, path })
}

/// The class of the module function `lambda` (`flake` for the file's own
/// flake-parts module), and whether it is the file's own module.
fn module_class(lambda: &SyntaxNode, root: &ast::Root) -> (Option<String>, bool) {
    let is_root = module_function(root).is_some_and(|l| &l == lambda);
    if is_root {
        return (Some("flake".to_string()), true);
    }
    // The value of `flake.modules.<class>.<key> = <lambda>` (through sets).
    let mut path: Vec<String> = Vec::new();
    for anc in lambda.ancestors().skip(1) {
        if anc.kind() == SyntaxKind::NODE_LAMBDA && module_function(root).is_none_or(|l| l != anc) {
            break;
        }
        if let Some(o) = ast::AttrpathValue::cast(anc.clone()) {
            let p: Option<Vec<String>> = o.attrpath().map(|ap| ap.attrs().filter_map(|a| attr_name(&a)).collect());
            let mut p = p.unwrap_or_default();
            p.extend(path);
            path = p;
        }
    }
    match path.as_slice() {
        [f, m, class, _key] if f == "flake" && m == "modules" => (Some(class.clone()), false),
        _ => (None, false),
    }
}

/// The file's own module function, if its root is one (under parentheses).
fn module_function(root: &ast::Root) -> Option<SyntaxNode> {
    let mut e = root.expr()?;
    loop {
        e = match e {
            ast::Expr::Paren(p) => p.expr()?,
            ast::Expr::Lambda(l) => return Some(l.syntax().clone()),
            _ => return None,
        };
    }
}

#[cfg(test)]
mod symbol_tests {
    use super::*;

    fn at(text: &str, marker: &str) -> Option<SymbolAt> {
        symbol_at(&text.replace(marker, ""), text.find(marker).unwrap())
    }

    #[test]
    fn arguments_and_bindings() {
        let file = "{ config, lib, ... }:\n{\n  flake.modules.nixos.base = { pk|gs, ... }: {\n    services.openssh.en@able = true;\n    config.networking.host#Name = \"x\";\n  };\n  flake.modules.darwin.dock.system.def$aults = { };\n  perSys%tem = { };\n}\n";
        let strip = |t: &str| t.replace(['|', '@', '#', '$', '%'], "");
        let pos = |m: char| file.replace(|c: char| "|@#$%".contains(c) && c != m, "").find(m).unwrap();
        let clean = strip(file);
        assert_eq!(
            symbol_at(&clean, pos('|')),
            Some(SymbolAt::Argument { name: "pkgs".into(), class: Some("nixos".into()), top_level: false })
        );
        assert_eq!(
            symbol_at(&clean, pos('@')),
            Some(SymbolAt::Binding {
                class: Some("nixos".into()),
                path: vec!["services".into(), "openssh".into(), "enable".into()]
            })
        );
        assert_eq!(
            symbol_at(&clean, pos('#')),
            Some(SymbolAt::Binding { class: Some("nixos".into()), path: vec!["networking".into(), "hostName".into()] })
        );
        assert_eq!(
            symbol_at(&clean, pos('$')),
            Some(SymbolAt::Binding { class: Some("darwin".into()), path: vec!["system".into(), "defaults".into()] })
        );
        assert_eq!(
            symbol_at(&clean, pos('%')),
            Some(SymbolAt::Binding { class: Some("flake".into()), path: vec!["perSystem".into()] })
        );
        let top = at("{ con^fig, ... }: { }", "^");
        assert_eq!(
            top,
            Some(SymbolAt::Argument { name: "config".into(), class: Some("flake".into()), top_level: true })
        );
    }
}

#[cfg(test)]
mod parallel_tests {
    use super::*;

    #[test]
    fn scanning_on_several_threads_finds_what_one_thread_finds() {
        // Enough files for every core to take a share, with references,
        // definitions, a typo and a file that does not parse among them.
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut paths = Vec::new();
        for i in 0..(SCAN_SHARE * 3) {
            let text = match i % 4 {
                0 => {
                    format!("{{ config, ... }}: {{ flake.modules.nixos.f{i} = {{ lib, ... }}: {{ x.y{i} = 1; }}; }}\n")
                }
                1 => format!(
                    "{{ config, ... }}: {{ flake.modules.nixos.m{i}.imports = with config.flake.modules.nixos; [ f{} ]; }}\n",
                    i - 1
                ),
                2 => format!(
                    "{{ config, ... }}: {{ flake.modules.darwin.d{i} = {{ imports = [ config.flake.modules.nixos.typo{i} ]; }}; }}\n"
                ),
                _ if i == 7 => "{ config, ... }: { flake.modules.nixos.broken = ".to_string(),
                _ => format!("{{ ... }}: {{ systems = [ \"x86_64-linux\" ]; perSystem.v{i} = {{ }}; }}\n"),
            };
            let path = dir.path().join(format!("m{i:04}.nix"));
            std::fs::write(&path, text).expect("a file written");
            paths.push(path);
        }
        let db = dendrite_syntax::RootDatabase::default();
        let files: Vec<FileInfo> = paths
            .iter()
            .map(|p| {
                let file = db.file(p).expect("a file read");
                let ok = !file_diagnostics(&db, file).iter().any(|d| d.kind.is_error());
                FileInfo { path: p.clone(), text: file.text(&db).clone(), file, ok }
            })
            .collect();
        let one = scan_in_order(&db, &files);
        assert!(!one.refs.is_empty() && !one.defs.is_empty() && !one.broken_defs.is_empty());
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if threads < 2 {
            eprintln!("one core here: the parallel scan is the sequential one");
        }
        assert_eq!(format!("{:?}", scan_parallel(&db, &files)), format!("{one:?}"));
    }
}

//! Which nixpkgs `lib` functions does the corpus call?
//!
//! This walks every `.nix` file of the dendritic corpus projects
//! (`flake-parts`, `import-tree`, `clan-core`, `real-world/*`) with rnix and a
//! small scope analysis, and records every access that reaches nixpkgs `lib`:
//! `lib.f`, `lib.ns.f`, `inherit (lib) f`, `inherit (lib.ns) f`, names used
//! under `with lib;` / `with lib.ns;`, and `lib` reached through other names
//! (`nixpkgs.lib`, `nixpkgs-lib.lib`, `inputs.nixpkgs.lib`, `pkgs.lib`, a
//! `let` binding of any of these). The names are checked against the layout
//! of nixpkgs lib, read (with rnix as well) from the corpus copy of
//! `nixpkgs-lib/lib`.
//!
//! The result is `modules/lib/FUNCTIONS.md`. This test fails when that file
//! is stale; `DENDRITE_UPDATE_LIB_USAGE=1` (what `cargo xtask lib-usage`
//! sets) rewrites it. Without the corpus the test says so and passes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rnix::ast::{self, HasEntry};
use rowan::ast::AstNode;

/// What the native module system provides (crates/modules lays it over
/// `modules/lib/modules.nix` and `types.nix`): all of `types`, and these
/// names of `modules`. The rest of `modules` and `options` is Nix code of
/// `modules/lib/`.
const NATIVE_NAMESPACES: &[&str] = &["types"];
const NATIVE_MODULES: &[&str] = &[
    "evalModules",
    "mkIf",
    "mkMerge",
    "mkOverride",
    "mkOptionDefault",
    "mkDefault",
    "mkImageMediaOverride",
    "mkForce",
    "mkVMOverride",
    "mkOrder",
    "mkBefore",
    "mkAfter",
    "defaultOverridePriority",
    "defaultOrderPriority",
];

/// Listed names dendrite's lib deliberately lacks, with the reason.
const NOT_PROVIDED: &[(&str, &str)] = &[
    ("maintainers.", "nixpkgs' maintainer list is data dendrite does not carry; `lib.maintainers` throws"),
    (
        "modules.mergeOptionDecls",
        "an internal of nixpkgs' interpreted `evalModules` (the native one merges declarations itself); only nixpkgs' own module files use it",
    ),
];

/// The module files of nixpkgs that a test may pass in place of the native
/// module system; what they need from `lib` is listed too, in its own column.
const STAND_IN_FILES: &[&str] = &["modules.nix", "options.nix", "types.nix"];
const STAND_IN: &str = "module-system stand-in";

/// Names Nix binds in the base environment: they win over any `with`.
const GLOBALS: &[&str] = &[
    "builtins",
    "true",
    "false",
    "null",
    "import",
    "map",
    "toString",
    "throw",
    "abort",
    "baseNameOf",
    "dirOf",
    "isNull",
    "removeAttrs",
    "derivation",
    "derivationStrict",
    "fetchGit",
    "fetchMercurial",
    "fetchTarball",
    "fetchTree",
    "fetchurl",
    "fromTOML",
    "placeholder",
    "scopedImport",
];

// ---------------------------------------------------------------------------
// The layout of nixpkgs lib

/// What the corpus copy of nixpkgs `lib/default.nix` defines.
#[derive(Default)]
struct Layout {
    /// Namespace name -> the names it exports (None when they cannot be read).
    namespaces: BTreeMap<String, Option<BTreeSet<String>>>,
    /// Top-level alias -> (namespace or "builtins", name inside it).
    aliases: BTreeMap<String, (String, String)>,
    /// Other top-level names bound directly (`extend`, `evalOptionValue`).
    direct: BTreeSet<String>,
}

impl Layout {
    fn read(lib_dir: &Path) -> Layout {
        let default = lib_dir.join("default.nix");
        let text = std::fs::read_to_string(&default).expect("nixpkgs lib/default.nix");
        let root = rnix::Root::parse(&text).tree();
        let mut layout = Layout::default();
        layout.direct.insert("extend".into());
        // The fixpoint body, the largest attribute set of the file, holds the layout.
        let Some(set) = root.syntax().descendants().filter_map(ast::AttrSet::cast).max_by_key(|s| s.entries().count())
        else {
            return layout;
        };
        {
            for entry in set.entries() {
                match entry {
                    ast::Entry::Inherit(inh) => {
                        let from = inh.from().and_then(|f| f.expr()).map(|e| dotted(&e)).unwrap_or_default();
                        let ns = match from.as_slice() {
                            [s, ns @ ..] if s == "self" && !ns.is_empty() => ns.join("."),
                            [b] if b == "builtins" => "builtins".to_string(),
                            _ => continue,
                        };
                        for a in inh.attrs() {
                            if let Some(n) = attr_name(&a) {
                                layout.aliases.insert(n.clone(), (ns.clone(), n));
                            }
                        }
                    }
                    ast::Entry::AttrpathValue(kv) => {
                        let Some(name) = single_name(&kv) else { continue };
                        let Some(value) = kv.value() else { continue };
                        match callee_path(&value) {
                            Some(file) => {
                                let names = exported_names(&resolve_lib_file(&default, &file));
                                layout.namespaces.insert(name, names);
                            }
                            None if name == "platforms" => {
                                layout.namespaces.insert(name, None);
                            }
                            None if name == "maintainers" || name == "teams" => {
                                layout.namespaces.insert(name, None);
                            }
                            None => {
                                layout.direct.insert(name);
                            }
                        }
                    }
                }
            }
        }
        layout
    }

    /// Names exported at `path` (None: unknown, accept any).
    fn names_at(&self, path: &[String]) -> Option<BTreeSet<String>> {
        match path {
            [] => {
                let mut all: BTreeSet<String> = self.namespaces.keys().cloned().collect();
                all.extend(self.aliases.keys().cloned());
                all.extend(self.direct.iter().cloned());
                Some(all)
            }
            [ns] => self.namespaces.get(ns).cloned().flatten(),
            _ => None,
        }
    }

    /// Classifies an access path below `lib`.
    fn classify(&self, path: &[String]) -> Use {
        let Some(first) = path.first() else { return Use::Unknown(String::new()) };
        if self.namespaces.contains_key(first) {
            return match path.get(1) {
                None => Use::Namespace(first.clone()),
                Some(name) => {
                    Use::Function { canonical: format!("{first}.{name}"), spelled: format!("lib.{first}.{name}") }
                }
            };
        }
        if let Some((ns, name)) = self.aliases.get(first) {
            return Use::Function { canonical: format!("{ns}.{name}"), spelled: format!("lib.{first}") };
        }
        if self.direct.contains(first) {
            return Use::Function { canonical: first.clone(), spelled: format!("lib.{first}") };
        }
        Use::Unknown(first.clone())
    }
}

enum Use {
    Function { canonical: String, spelled: String },
    Namespace(String),
    Unknown(String),
}

fn resolve_lib_file(from: &Path, rel: &str) -> PathBuf {
    let p = from.parent().unwrap_or(Path::new(".")).join(rel);
    if p.is_dir() { p.join("default.nix") } else { p }
}

/// `callLibs ./x.nix`, `import ./x.nix { .. }`: the relative file named.
fn callee_path(e: &ast::Expr) -> Option<String> {
    match e {
        ast::Expr::Apply(app) => {
            let arg = app.argument()?;
            if let ast::Expr::PathRel(p) = &arg {
                return Some(p.syntax().text().to_string());
            }
            callee_path(&app.lambda()?)
        }
        ast::Expr::Paren(p) => callee_path(&p.expr()?),
        _ => None,
    }
}

/// The names of the attribute set a lib file evaluates to.
fn exported_names(file: &Path) -> Option<BTreeSet<String>> {
    let text = std::fs::read_to_string(file).ok()?;
    let root = rnix::Root::parse(&text).tree();
    result_names(&root.expr()?, &HashMap::new(), file, 0)
}

fn result_names(
    e: &ast::Expr,
    env: &HashMap<String, ast::Expr>,
    file: &Path,
    depth: usize,
) -> Option<BTreeSet<String>> {
    if depth > 20 {
        return None;
    }
    match e {
        ast::Expr::Lambda(l) => result_names(&l.body()?, env, file, depth + 1),
        ast::Expr::Paren(p) => result_names(&p.expr()?, env, file, depth + 1),
        ast::Expr::With(w) => result_names(&w.body()?, env, file, depth + 1),
        ast::Expr::Assert(a) => result_names(&a.body()?, env, file, depth + 1),
        ast::Expr::LetIn(l) => {
            let mut env = env.clone();
            for entry in l.entries() {
                if let ast::Entry::AttrpathValue(kv) = entry
                    && let (Some(n), Some(v)) = (single_name(&kv), kv.value())
                {
                    env.insert(n, v);
                }
            }
            result_names(&l.body()?, &env, file, depth + 1)
        }
        ast::Expr::AttrSet(set) => {
            let mut names = BTreeSet::new();
            for entry in set.entries() {
                match entry {
                    ast::Entry::Inherit(inh) => names.extend(inh.attrs().filter_map(|a| attr_name(&a))),
                    ast::Entry::AttrpathValue(kv) => {
                        if let Some(first) = kv.attrpath().and_then(|p| p.attrs().next()) {
                            names.extend(attr_name(&first));
                        }
                    }
                }
            }
            Some(names)
        }
        ast::Expr::BinOp(b) if b.operator() == Some(ast::BinOpKind::Update) => {
            let mut l = result_names(&b.lhs()?, env, file, depth + 1)?;
            l.extend(result_names(&b.rhs()?, env, file, depth + 1)?);
            Some(l)
        }
        ast::Expr::Ident(i) => {
            let v = env.get(&i.ident_token()?.text().to_string())?;
            result_names(v, env, file, depth + 1)
        }
        ast::Expr::Apply(app) => {
            if let Some(rel) = callee_path(e) {
                return exported_names(&resolve_lib_file(file, &rel));
            }
            // `makeExtensible' (self: ...)`, `fix (self: ...)`: the argument.
            result_names(&app.argument()?, env, file, depth + 1)
        }
        _ => None,
    }
}

fn attr_name(a: &ast::Attr) -> Option<String> {
    match a {
        ast::Attr::Ident(i) => Some(i.syntax().text().to_string()),
        ast::Attr::Str(s) => {
            let parts = s.normalized_parts();
            match parts.as_slice() {
                [ast::InterpolPart::Literal(l)] => Some(l.clone()),
                [] => Some(String::new()),
                _ => None,
            }
        }
        ast::Attr::Dynamic(_) => None,
    }
}

fn single_name(kv: &ast::AttrpathValue) -> Option<String> {
    let mut attrs = kv.attrpath()?.attrs();
    let first = attr_name(&attrs.next()?)?;
    if attrs.next().is_some() { None } else { Some(first) }
}

/// `a.b.c` as `["a", "b", "c"]` (empty if not a static path).
fn dotted(e: &ast::Expr) -> Vec<String> {
    match e {
        ast::Expr::Ident(i) => vec![i.syntax().text().to_string()],
        ast::Expr::Paren(p) => p.expr().map(|e| dotted(&e)).unwrap_or_default(),
        ast::Expr::Select(s) => {
            let (Some(base), Some(path)) = (s.expr(), s.attrpath()) else { return Vec::new() };
            let mut v = dotted(&base);
            if v.is_empty() {
                return v;
            }
            for a in path.attrs() {
                match attr_name(&a) {
                    Some(n) => v.push(n),
                    None => return Vec::new(),
                }
            }
            v
        }
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------
// The scope walk

/// What a name or expression is known to be.
#[derive(Clone, Debug)]
enum Val {
    /// nixpkgs lib, at this path below it.
    Lib(Vec<String>),
    Other,
}

struct Walker<'a> {
    layout: &'a Layout,
    scopes: Vec<HashMap<String, Val>>,
    withs: Vec<Val>,
    /// Access paths below `lib`.
    found: Vec<Vec<String>>,
}

/// Names that hold a flake or package set whose `.lib` is nixpkgs lib.
fn holds_lib(name: &str) -> bool {
    matches!(name, "nixpkgs" | "nixpkgs-lib" | "pkgs")
}

impl<'a> Walker<'a> {
    fn lookup(&self, name: &str) -> Option<Val> {
        for s in self.scopes.iter().rev() {
            if let Some(v) = s.get(name) {
                return Some(v.clone());
            }
        }
        if GLOBALS.contains(&name) || name.starts_with("__") {
            return Some(Val::Other);
        }
        // Lexically free: the innermost `with` that can hold it.
        for w in self.withs.iter().rev() {
            if let Val::Lib(p) = w {
                let known = self.layout.names_at(p);
                if known.is_none_or(|k| k.contains(name)) {
                    let mut p = p.clone();
                    p.push(name.to_string());
                    return Some(Val::Lib(p));
                }
            }
        }
        if name == "lib" { Some(Val::Lib(Vec::new())) } else { None }
    }

    /// Whether the name is found through a `with` (and not lexically).
    fn via_with(&self, name: &str) -> bool {
        !self.scopes.iter().any(|s| s.contains_key(name)) && !GLOBALS.contains(&name) && !name.starts_with("__")
    }

    fn resolve(&self, e: &ast::Expr) -> Option<Vec<String>> {
        match e {
            ast::Expr::Paren(p) => self.resolve(&p.expr()?),
            ast::Expr::Ident(i) => match self.lookup(&i.syntax().text().to_string())? {
                Val::Lib(p) => Some(p),
                Val::Other => None,
            },
            ast::Expr::Select(s) => {
                let base = s.expr()?;
                let mut names = Vec::new();
                for a in s.attrpath()?.attrs() {
                    names.push(attr_name(&a)?);
                }
                if let Some(mut p) = self.resolve(&base) {
                    p.extend(names);
                    return Some(p);
                }
                // `nixpkgs.lib.x`, `inputs.nixpkgs.lib.x`, `pkgs.lib.x`.
                let mut chain = dotted(&base);
                if chain.is_empty() {
                    return None;
                }
                chain.extend(names);
                let at = chain.windows(2).position(|w| holds_lib(&w[0]) && w[1] == "lib")?;
                Some(chain[at + 2..].to_vec())
            }
            ast::Expr::BinOp(b) if b.operator() == Some(ast::BinOpKind::Update) => {
                // `lib // { .. }` still answers lib's names.
                self.resolve(&b.lhs()?).or_else(|| self.resolve(&b.rhs()?))
            }
            ast::Expr::Apply(app) => {
                // `import <nixpkgs/lib>`, `import (nixpkgs + "/lib")`, `lib.extend f`.
                let f = app.lambda()?;
                let arg = app.argument()?;
                if dotted(&f) == ["import"] {
                    let t = arg.syntax().text().to_string();
                    let t = t.trim_end_matches([')', '>', '"', '/']);
                    return if t.ends_with("/lib") { Some(Vec::new()) } else { None };
                }
                match self.resolve(&f)? {
                    p if p == ["extend"] => Some(Vec::new()),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn val(&self, e: &ast::Expr) -> Val {
        match self.resolve(e) {
            Some(p) => Val::Lib(p),
            None => Val::Other,
        }
    }

    fn record(&mut self, p: Vec<String>) {
        if !p.is_empty() {
            self.found.push(p);
        }
    }

    /// Binds the names of a `let` or `rec { }` in a new scope.
    fn bind_entries(&mut self, entries: &[ast::Entry]) {
        let mut scope = HashMap::new();
        for entry in entries {
            match entry {
                ast::Entry::Inherit(inh) => {
                    for a in inh.attrs() {
                        if let Some(n) = attr_name(&a) {
                            scope.insert(n, Val::Other);
                        }
                    }
                }
                ast::Entry::AttrpathValue(kv) => {
                    if let Some(first) = kv.attrpath().and_then(|p| p.attrs().next()).and_then(|a| attr_name(&a)) {
                        scope.insert(first, Val::Other);
                    }
                }
            }
        }
        self.scopes.push(scope);
        // Bindings may refer to each other: settle in a few rounds.
        for _ in 0..3 {
            for entry in entries {
                match entry {
                    ast::Entry::Inherit(inh) => {
                        let from = inh.from().and_then(|f| f.expr());
                        for a in inh.attrs() {
                            let Some(n) = attr_name(&a) else { continue };
                            let v = match &from {
                                Some(f) => match self.resolve(f) {
                                    Some(mut p) => {
                                        p.push(n.clone());
                                        Val::Lib(p)
                                    }
                                    None => Val::Other,
                                },
                                // `inherit x;` takes x from the enclosing scope.
                                None => {
                                    let top = self.scopes.pop().unwrap();
                                    let v = self.lookup(&n).unwrap_or(Val::Other);
                                    self.scopes.push(top);
                                    v
                                }
                            };
                            self.scopes.last_mut().unwrap().insert(n, v);
                        }
                    }
                    ast::Entry::AttrpathValue(kv) => {
                        if let (Some(n), Some(v)) = (single_name(kv), kv.value()) {
                            let v = self.val(&v);
                            self.scopes.last_mut().unwrap().insert(n, v);
                        }
                    }
                }
            }
        }
    }

    fn walk_entries(&mut self, entries: &[ast::Entry]) {
        for entry in entries {
            match entry {
                ast::Entry::Inherit(inh) => {
                    let from = inh.from().and_then(|f| f.expr());
                    match from.as_ref().and_then(|f| self.resolve(f)) {
                        Some(p) => {
                            for a in inh.attrs() {
                                if let Some(n) = attr_name(&a) {
                                    let mut q = p.clone();
                                    q.push(n);
                                    self.record(q);
                                }
                            }
                        }
                        None => {
                            if let Some(f) = from {
                                self.walk(f.syntax());
                            }
                            if from_is_none(inh) {
                                // `inherit x;` in a set reads x: maybe through `with lib`.
                                for a in inh.attrs() {
                                    if let Some(n) = attr_name(&a)
                                        && self.via_with(&n)
                                        && let Some(Val::Lib(p)) = self.lookup(&n)
                                    {
                                        self.record(p);
                                    }
                                }
                            }
                        }
                    }
                }
                ast::Entry::AttrpathValue(kv) => {
                    if let Some(path) = kv.attrpath() {
                        for a in path.attrs() {
                            if let ast::Attr::Dynamic(d) = a {
                                self.walk(d.syntax());
                            }
                        }
                    }
                    if let Some(v) = kv.value() {
                        self.walk(v.syntax());
                    }
                }
            }
        }
    }

    fn walk(&mut self, node: &rnix::SyntaxNode) {
        let Some(e) = ast::Expr::cast(node.clone()) else {
            for c in node.children() {
                self.walk(&c);
            }
            return;
        };
        match &e {
            ast::Expr::Lambda(l) => {
                let mut scope = HashMap::new();
                let mut bind = |n: String| {
                    let v = if n == "lib" { Val::Lib(Vec::new()) } else { Val::Other };
                    scope.insert(n, v);
                };
                let mut defaults = Vec::new();
                match l.param() {
                    Some(ast::Param::IdentParam(p)) => {
                        if let Some(i) = p.ident() {
                            bind(i.syntax().text().to_string());
                        }
                    }
                    Some(ast::Param::Pattern(p)) => {
                        if let Some(b) = p.pat_bind().and_then(|b| b.ident()) {
                            bind(b.syntax().text().to_string());
                        }
                        for entry in p.pat_entries() {
                            if let Some(i) = entry.ident() {
                                bind(i.syntax().text().to_string());
                            }
                            defaults.extend(entry.default());
                        }
                    }
                    None => {}
                }
                self.scopes.push(scope);
                for d in defaults {
                    self.walk(d.syntax());
                }
                if let Some(b) = l.body() {
                    self.walk(b.syntax());
                }
                self.scopes.pop();
            }
            ast::Expr::LetIn(l) => {
                let entries: Vec<ast::Entry> = l.entries().collect();
                self.bind_entries(&entries);
                self.walk_entries(&entries);
                if let Some(b) = l.body() {
                    self.walk(b.syntax());
                }
                self.scopes.pop();
            }
            ast::Expr::AttrSet(set) => {
                let entries: Vec<ast::Entry> = set.entries().collect();
                let rec = set.rec_token().is_some();
                if rec {
                    self.bind_entries(&entries);
                }
                self.walk_entries(&entries);
                if rec {
                    self.scopes.pop();
                }
            }
            ast::Expr::LegacyLet(l) => {
                let entries: Vec<ast::Entry> = l.entries().collect();
                self.bind_entries(&entries);
                self.walk_entries(&entries);
                self.scopes.pop();
            }
            ast::Expr::With(w) => {
                let ns = w.namespace();
                let v = match &ns {
                    Some(ns) => {
                        if self.resolve(ns).is_none() {
                            self.walk(ns.syntax());
                        }
                        self.val(ns)
                    }
                    None => Val::Other,
                };
                self.withs.push(v);
                if let Some(b) = w.body() {
                    self.walk(b.syntax());
                }
                self.withs.pop();
            }
            ast::Expr::Select(s) => match self.resolve(&e) {
                Some(p) => {
                    self.record(p);
                    if let Some(d) = s.default_expr() {
                        self.walk(d.syntax());
                    }
                }
                None => {
                    for c in node.children() {
                        self.walk(&c);
                    }
                }
            },
            ast::Expr::Ident(i) => {
                let n = i.syntax().text().to_string();
                if self.via_with(&n)
                    && let Some(Val::Lib(p)) = self.lookup(&n)
                {
                    self.record(p);
                }
            }
            _ => {
                for c in node.children() {
                    self.walk(&c);
                }
            }
        }
    }
}

fn from_is_none(inh: &ast::Inherit) -> bool {
    inh.from().is_none()
}

/// Access paths below nixpkgs `lib` in one file.
fn lib_accesses(layout: &Layout, text: &str) -> Vec<Vec<String>> {
    let parse = rnix::Root::parse(text);
    let mut w = Walker { layout, scopes: Vec::new(), withs: Vec::new(), found: Vec::new() };
    w.walk(parse.tree().syntax());
    w.found
}

// ---------------------------------------------------------------------------
// The census

fn nix_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            nix_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "nix") {
            out.push(p);
        }
    }
}

/// The corpus projects: name and directory.
fn projects(corpus: &Path) -> Vec<(String, PathBuf)> {
    let mut v: Vec<(String, PathBuf)> =
        ["flake-parts", "import-tree", "clan-core"].iter().map(|p| (p.to_string(), corpus.join(p))).collect();
    if let Ok(rd) = std::fs::read_dir(corpus.join("real-world")) {
        let mut rw: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
        rw.sort();
        for p in rw {
            v.push((p.file_name().unwrap().to_string_lossy().into_owned(), p));
        }
    }
    v
}

#[derive(Default)]
struct Row {
    spelled: BTreeSet<String>,
    projects: BTreeSet<String>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_path_buf()
}

/// The file of dendrite's own lib that holds a nixpkgs namespace.
fn our_file(ns: &str) -> String {
    match ns {
        "fixedPoints" => "fixed-points.nix".into(),
        "stringsWithDeps" => "strings-with-deps.nix".into(),
        "builtins" => "default.nix".into(),
        "platforms" => "systems.nix".into(),
        n if n.contains('.') => our_file(n.split('.').next().unwrap()),
        n => format!("{n}.nix"),
    }
}

fn render(
    rows: &BTreeMap<String, Row>,
    namespaces: &BTreeMap<String, BTreeSet<String>>,
    unknown: &BTreeMap<String, BTreeSet<String>>,
    projects: &[String],
    files: usize,
) -> String {
    let mut ours = 0;
    let mut native = 0;
    let mut missing = 0;
    let mut table = String::new();
    for (canonical, row) in rows {
        let ns = canonical.rsplit_once('.').map(|(ns, _)| ns).unwrap_or("");
        let name = canonical.rsplit_once('.').map_or(canonical.as_str(), |(_, n)| n);
        let is_native = NATIVE_NAMESPACES.contains(&ns) || (ns == "modules" && NATIVE_MODULES.contains(&name));
        let absent = NOT_PROVIDED.iter().find(|(prefix, _)| canonical.starts_with(prefix));
        let provider = if let Some((_, why)) = absent {
            missing += 1;
            format!("not provided: {why}")
        } else if is_native {
            native += 1;
            "native module system".to_string()
        } else {
            ours += 1;
            // `lib.evalOptionValue` is the top-level alias of `lib.modules.evalOptionValue`.
            let ns = if canonical == "evalOptionValue" { "modules" } else { ns };
            format!("Nix: `modules/lib/{}`", our_file(if ns.is_empty() { "default" } else { ns }))
        };
        let spelled: Vec<String> = row.spelled.iter().map(|s| format!("`{s}`")).collect();
        let used: Vec<&str> = row.projects.iter().map(String::as_str).collect();
        table.push_str(&format!("| `{canonical}` | {} | {} | {provider} |\n", spelled.join(", "), used.join(", ")));
    }
    let mut out = String::new();
    out.push_str("# nixpkgs `lib` functions used by the dendritic corpus\n\n");
    out.push_str(
        "Generated by `cargo xtask lib-usage` (the test `crates/syntax/tests/lib_usage.rs`,\n\
         run with `DENDRITE_UPDATE_LIB_USAGE=1`); do not edit by hand. The test parses\n\
         every `.nix` file of the corpus projects with rnix and follows `lib` through\n\
         `lib.f`, `lib.ns.f`, `inherit (lib) ..`, `inherit (lib.ns) ..`, `with lib;`,\n\
         `let` aliases and `nixpkgs.lib` / `nixpkgs-lib.lib` / `inputs.nixpkgs.lib` / `pkgs.lib`.\n\n",
    );
    let corpus_only = rows.values().filter(|r| r.projects.iter().any(|p| p != STAND_IN)).count();
    out.push_str(&format!(
        "Projects: {} ({files} files).\n\
         The pseudo-project `{STAND_IN}` is what nixpkgs' own `modules.nix`, `options.nix` and\n\
         `types.nix` take from `lib` when a test passes them as the `moduleSystem` argument of\n\
         `modules/lib/default.nix`: {corpus_only} of the functions below are used by the corpus projects, {} only by the stand-in.\n\n",
        projects.join(", "),
        rows.len() - corpus_only
    ));
    out.push_str(&format!(
        "{} functions: {ours} provided by dendrite's Nix lib (`modules/lib/`), {native} by the\n\
         native module system (`crates/modules`: `types`, `evalModules` and the property constructors),\n\
         {missing} not provided. `cargo xtask own-lib-diff` compares every Nix-provided one with\n\
         nixpkgs lib.\n\n",
        rows.len()
    ));
    out.push_str("| function (nixpkgs location) | used as | used by | provided by |\n|---|---|---|---|\n");
    out.push_str(&table);
    out.push_str("\n## Namespaces used as a whole\n\n");
    for (ns, ps) in namespaces {
        let ps: Vec<&str> = ps.iter().map(String::as_str).collect();
        out.push_str(&format!("- `lib.{ns}`: {}\n", ps.join(", ")));
    }
    out.push_str(
        "\n## Names reached through `lib` that nixpkgs lib does not define\n\n\
         They come from the nixpkgs flake's `lib` (such as `nixosSystem`) or from other\n\
         libraries bound to a `lib` name, not from nixpkgs `lib/`.\n\n",
    );
    for (n, ps) in unknown {
        let ps: Vec<&str> = ps.iter().map(String::as_str).collect();
        out.push_str(&format!("- `{n}`: {}\n", ps.join(", ")));
    }
    out
}

#[test]
fn lib_usage_list_is_up_to_date() {
    let Ok(corpus) = dendrite_corpus::locate() else {
        println!("SKIPPED: the shared corpus is missing (expected ../shared/corpus or $DENDRITE_CORPUS)");
        return;
    };
    let lib_dir = corpus.join("nixpkgs-lib/lib");
    let layout = Layout::read(&lib_dir);
    assert!(layout.aliases.contains_key("mapAttrs") && layout.namespaces.contains_key("strings"));

    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut namespaces: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unknown: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut project_names = Vec::new();
    let mut files = 0;
    let mut sources: Vec<(String, PathBuf)> = Vec::new();
    for (name, dir) in projects(&corpus) {
        let mut fs = Vec::new();
        nix_files(&dir, &mut fs);
        files += fs.len();
        project_names.push(name.clone());
        sources.extend(fs.into_iter().map(|f| (name.clone(), f)));
    }
    sources.extend(STAND_IN_FILES.iter().map(|f| (STAND_IN.to_string(), lib_dir.join(f))));
    for (project, file) in &sources {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        for path in lib_accesses(&layout, &text) {
            match layout.classify(&path) {
                Use::Function { canonical, spelled } => {
                    let row = rows.entry(canonical).or_default();
                    row.spelled.insert(spelled);
                    row.projects.insert(project.clone());
                }
                Use::Namespace(ns) => {
                    namespaces.entry(ns).or_default().insert(project.clone());
                }
                Use::Unknown(n) => {
                    if project != STAND_IN {
                        unknown.entry(n).or_default().insert(project.clone());
                    }
                }
            }
        }
    }
    let text = render(&rows, &namespaces, &unknown, &project_names, files);
    let target = workspace_root().join("modules/lib/FUNCTIONS.md");
    if std::env::var_os("DENDRITE_UPDATE_LIB_USAGE").is_some() {
        std::fs::write(&target, &text).expect("writing FUNCTIONS.md");
        println!("lib-usage: wrote {} functions to {}", rows.len(), target.display());
        return;
    }
    let current = std::fs::read_to_string(&target).unwrap_or_default();
    assert!(
        current == text,
        "{} is stale: run `cargo xtask lib-usage` (DENDRITE_UPDATE_LIB_USAGE=1) to regenerate it",
        target.display()
    );
}

#[test]
fn the_scope_walk_sees_every_spelling() {
    let mut layout = Layout::default();
    for ns in ["strings", "lists", "attrsets", "types"] {
        layout.namespaces.insert(ns.into(), None);
    }
    layout.aliases.insert("mapAttrs".into(), ("attrsets".into(), "mapAttrs".into()));
    layout.aliases.insert("optional".into(), ("lists".into(), "optional".into()));
    let src = r#"
      { lib, nixpkgs, ... }:
      let
        inherit (lib) mapAttrs;
        inherit (lib.strings) hasPrefix;
        l = nixpkgs.lib;
        t = lib.types;
      in
      with lib; {
        a = optional true 1;
        b = l.lists.head;
        c = t.str;
        d = let optional = 1; in optional;
        e = x: x.lib.foo;
      }
    "#;
    let mut got: Vec<String> = lib_accesses(&layout, src).iter().map(|p| p.join(".")).collect();
    got.sort();
    got.dedup();
    assert_eq!(got, ["lists.head", "mapAttrs", "optional", "strings.hasPrefix", "types", "types.str"]);
}

//! The mutation test of `dendrite check`: mistakes of every rule's kind are
//! generated from the text of `fixtures/fleet` (a clean fleet), applied one
//! at a time to a copy of it, and each must be caught with the rule's code
//! at the file and line of the mistake.
//!
//! Every mutation is derived from the fixture itself (its namespace keys,
//! imports lists, inventory, settings, vars generators ...) by a
//! deterministic edit, and the expected place is computed from that edit,
//! never from a run of the checker. A rule with fewer than 30 generated
//! mutations, a mutation not caught, or one caught at another line fails
//! the test.
//!
//!     cargo test --release -p dendrite-check --test mutations -- --nocapture
//!
//! prints the per-rule table. Every generated mutation runs (about 900,
//! some 75 s on two cores); `DENDRITE_MUTATIONS_QUICK=1` runs `PER_RULE` of
//! each rule (evenly spread over what was generated, so every kind of edit
//! stays in), `DENDRITE_MUTATIONS_RULE=D101,D102` only those rules,
//! `DENDRITE_MUTATIONS_THREADS=n` the number of worker processes at a time,
//! `DENDRITE_MUTATIONS_VERBOSE=1` names each mutation as it starts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use dendrite_check::{CheckOptions, check};

/// Mutations run per rule with `DENDRITE_MUTATIONS_QUICK` (the issue asks for at least 30).
const PER_RULE: usize = 30;
const MIN_PER_RULE: usize = 30;

const RULES: &[&str] = &[
    "D001", "D002", "D101", "D102", "D201", "D202", "D301", "D401", "D501", "D502", "D503", "D601", "D602", "D701",
    "D702", "D703",
];

/// Relative path -> text.
type Files = BTreeMap<String, String>;

/// One mistake: the files it changes and where it must be reported.
struct Mutation {
    code: &'static str,
    what: String,
    /// Relative path -> new text (`None`: the file is deleted).
    edits: Vec<(String, Option<String>)>,
    /// Acceptable (file, 1-based line) places; usually exactly one.
    expect: Vec<(String, u32)>,
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/fleet")
}

fn read_tree(root: &Path) -> Files {
    let mut out = Files::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("fixture directory").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read_to_string(&p).expect("fixture file"));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Text helpers (the fixture is nixfmt-formatted: one binding per line, blocks
// closed by `};` at the indentation of the line that opened them).

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

fn join(ls: &[String]) -> String {
    let mut s = ls.join("\n");
    s.push('\n');
    s
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

/// The line closing the block opened at `open` (a `{` or `[` at the end of it).
fn block_end(ls: &[String], open: usize) -> usize {
    let ind = indent_of(&ls[open]);
    (open + 1..ls.len())
        .find(|&j| indent_of(&ls[j]) == ind && matches!(ls[j].trim(), "};" | "];" | "}" | "]"))
        .unwrap_or_else(|| panic!("no end for block at line {}: {}", open + 1, ls[open]))
}

/// Inserts `new` after line `after` (0-based) and returns the text and the
/// 1-based line of the inserted text's first line.
fn insert_after(text: &str, after: usize, new: &[String]) -> (String, u32) {
    let mut ls = lines(text);
    for (k, l) in new.iter().enumerate() {
        ls.insert(after + 1 + k, l.clone());
    }
    (join(&ls), after as u32 + 2)
}

fn replace_line(text: &str, at: usize, new: &str) -> String {
    let mut ls = lines(text);
    ls[at] = new.to_string();
    join(&ls)
}

/// Lines (0-based) inside `''` strings, where nothing is Nix syntax.
fn in_indented_string(ls: &[String]) -> Vec<bool> {
    let mut inside = false;
    ls.iter()
        .map(|l| {
            let was = inside;
            if l.matches("''").count() % 2 == 1 {
                inside = !inside;
            }
            was || inside
        })
        .collect()
}

fn is_keyword(s: &str) -> bool {
    matches!(s, "if" | "then" | "else" | "let" | "in" | "with" | "rec" | "inherit" | "assert" | "or")
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''))
        && !is_keyword(s)
}

/// Typos of a word: a letter dropped, two neighbours swapped, a letter
/// doubled (the mistakes people make), in a fixed order.
fn typo_variants(word: &str) -> Vec<String> {
    let c: Vec<char> = word.chars().collect();
    let mut out: Vec<String> = Vec::new();
    for i in 0..c.len() {
        let mut drop = c.clone();
        drop.remove(i);
        out.push(drop.into_iter().collect());
        if i + 1 < c.len() && c[i] != c[i + 1] {
            let mut swap = c.clone();
            swap.swap(i, i + 1);
            out.push(swap.into_iter().collect());
        }
        let mut dup = c.clone();
        dup.insert(i, c[i]);
        out.push(dup.into_iter().collect());
    }
    let mut seen = BTreeSet::new();
    out.retain(|v| v != word && !v.is_empty() && seen.insert(v.clone()));
    out
}

/// The `seed`-th typo of `word` that is a valid name and not `taken`.
fn typo(word: &str, seed: usize, taken: &dyn Fn(&str) -> bool) -> String {
    let vs: Vec<String> = typo_variants(word)
        .into_iter()
        .filter(|v| !taken(v) && v.chars().any(|c| c.is_ascii_alphabetic()))
        .filter(|v| is_ident(v) || !is_ident(word))
        .filter(|v| !v.starts_with(['-', '/', '.']) && !v.ends_with(['-', '/', '.']) && !v.contains("//"))
        .collect();
    assert!(!vs.is_empty(), "no typo of {word}");
    // Spread the picks over the word (not always its first letter).
    vs[(seed * 7 + word.len()) % vs.len()].clone()
}

/// A typo of the last `/` segment of a key (`machines/darwin/stibnite`).
fn typo_key(key: &str, seed: usize, taken: &dyn Fn(&str) -> bool) -> String {
    match key.rsplit_once('/') {
        Some((head, last)) => {
            let t = typo(last, seed, &|v| taken(&format!("{head}/{v}")));
            format!("{head}/{t}")
        }
        None => typo(key, seed, taken),
    }
}

/// `n` items spread evenly over `v`.
fn spread<T>(v: Vec<T>, n: usize) -> Vec<T> {
    if v.len() <= n {
        return v;
    }
    let len = v.len();
    let picks: BTreeSet<usize> = (0..n).map(|i| i * len / n).collect();
    v.into_iter().enumerate().filter(|(i, _)| picks.contains(i)).map(|(_, x)| x).collect()
}

// ---------------------------------------------------------------------------
// What the fixture contains, read from its text.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Body {
    /// `flake.modules.c.k = {`
    Attrs,
    /// `flake.modules.c.k =` / `{ pkgs, ... }:` / `{`
    Function,
    /// anything else (`= [`, `= true;`, a nested path)
    Other,
}

/// A definition `flake.modules.<class>.<key>...` at the start of a line.
#[derive(Clone, Debug)]
struct Def {
    file: String,
    /// 0-based line of the definition.
    line: usize,
    class: String,
    key: String,
    /// Attribute path after the key (`programs.direnv`), empty for the module itself.
    rest: String,
    body: Body,
}

impl Def {
    /// The line after which a binding can be added to the module's body,
    /// and the indentation of the body (modules themselves only).
    fn body_insert(&self, fx: &Fixture) -> Option<(usize, usize)> {
        if !self.rest.is_empty() {
            return None;
        }
        let ls = lines(&fx.files[&self.file]);
        match self.body {
            Body::Attrs => Some((self.line, indent_of(&ls[self.line]) + 2)),
            Body::Function => Some((self.line + 2, indent_of(&ls[self.line + 2]) + 2)),
            Body::Other => None,
        }
    }
}

/// A reference to a key: an item of a `with config.flake.modules.<c>; [` list
/// or a `config.flake.modules.<c>.<key>` select.
#[derive(Clone, Debug)]
struct Ref {
    file: String,
    line: usize,
    class: String,
    key: String,
    /// Byte range of the key's text on its line (with quotes for quoted keys).
    range: (usize, usize),
    /// Byte range of the class on its line (for `with` items: on the `with` line).
    class_line: usize,
    class_range: (usize, usize),
}

/// A `with config.flake.modules.<c>; [` list: the header line and `];`.
#[derive(Clone, Debug)]
struct WithList {
    file: String,
    header: usize,
    close: usize,
    class: String,
    /// The key of the module this list is in (`machines/darwin/stibnite`, `users/crs58`).
    owner: String,
}

struct Fixture {
    files: Files,
    defs: Vec<Def>,
    refs: Vec<Ref>,
    withs: Vec<WithList>,
    keys: BTreeMap<String, BTreeSet<String>>,
}

const NS: &str = "config.flake.modules.";

/// Parses `<class>.<key>` (key bare or quoted) at the start of `s`;
/// returns class, key, the key's byte range in `s` (quotes included), the rest.
fn class_key(s: &str) -> Option<(String, String, (usize, usize), &str)> {
    let dot = s.find('.')?;
    let class = &s[..dot];
    if !is_ident(class) {
        return None;
    }
    let after = &s[dot + 1..];
    let (key, len) = if let Some(q) = after.strip_prefix('"') {
        let end = q.find('"')?;
        (q[..end].to_string(), end + 2)
    } else {
        let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(after.len());
        (after[..end].to_string(), end)
    };
    if key.is_empty() {
        return None;
    }
    Some((class.to_string(), key, (dot + 1, dot + 1 + len), &after[len..]))
}

impl Fixture {
    fn load() -> Fixture {
        let files = read_tree(&fixture_dir());
        let mut defs = Vec::new();
        let mut refs = Vec::new();
        let mut withs = Vec::new();
        for (file, text) in files.iter().filter(|(f, _)| f.starts_with("modules/")) {
            let ls = lines(text);
            for (i, l) in ls.iter().enumerate() {
                let t = l.trim_start();
                if let Some(s) = t.strip_prefix("flake.modules.")
                    && let Some((class, key, _, rest)) = class_key(s)
                {
                    let (path, value) = rest.split_once(" =").unwrap_or((rest, ""));
                    let rest = path.trim_start_matches('.').to_string();
                    let value = value.trim();
                    let body = if !rest.is_empty() {
                        Body::Other
                    } else if value == "{" {
                        Body::Attrs
                    } else if value.is_empty() && ls[i + 1].trim().ends_with("}:") && ls[i + 2].trim() == "{" {
                        Body::Function
                    } else {
                        Body::Other
                    };
                    defs.push(Def { file: file.clone(), line: i, class, key, rest, body });
                }
                // References.
                let mut from = 0;
                while let Some(p) = l[from..].find(NS) {
                    let start = from + p + NS.len();
                    from = start;
                    let s = &l[start..];
                    if let Some(end) = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                        let class = &s[..end];
                        if s[end..].starts_with("; [") {
                            // `with config.flake.modules.<c>; [`
                            let close = block_end(&ls, i);
                            let owner = (0..i)
                                .rev()
                                .find_map(|j| {
                                    let t = ls[j].trim_start().strip_prefix("flake.modules.")?;
                                    class_key(t).map(|(_, k, _, _)| k)
                                })
                                .unwrap_or_default();
                            withs.push(WithList { file: file.clone(), header: i, close, class: class.into(), owner });
                            for (j, item_line) in ls.iter().enumerate().take(close).skip(i + 1) {
                                let item = item_line.trim();
                                let off = indent_of(item_line);
                                refs.push(Ref {
                                    file: file.clone(),
                                    line: j,
                                    class: class.into(),
                                    key: item.into(),
                                    range: (off, off + item.len()),
                                    class_line: i,
                                    class_range: (start, start + end),
                                });
                            }
                            continue;
                        }
                    }
                    if let Some((class, key, (ks, ke), _)) = class_key(s) {
                        refs.push(Ref {
                            file: file.clone(),
                            line: i,
                            class: class.clone(),
                            key,
                            range: (start + ks, start + ke),
                            class_line: i,
                            class_range: (start, start + class.len()),
                        });
                    }
                }
            }
        }
        let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for d in &defs {
            keys.entry(d.class.clone()).or_default().insert(d.key.clone());
        }
        Fixture { files, defs, refs, withs, keys }
    }

    fn text(&self, f: &str) -> &str {
        &self.files[f]
    }

    fn lines(&self, f: &str) -> Vec<String> {
        lines(&self.files[f])
    }

    fn module_files(&self) -> impl Iterator<Item = (&String, &String)> {
        self.files.iter().filter(|(f, _)| f.starts_with("modules/") && f.ends_with(".nix"))
    }

    /// The 0-based line of the last `}` of a module file (where top-level
    /// bindings can be added), if the file ends with a top-level set.
    fn top_close(&self, f: &str) -> Option<usize> {
        let ls = self.lines(f);
        let last = ls.len() - 1;
        // A module declaring `options` must put its definitions under
        // `config`: bindings added at its top would make it invalid.
        let declares = ls.iter().any(|l| {
            indent_of(l) == 2 && (l.trim_start().starts_with("options") || l.trim_start().starts_with("config"))
        });
        (ls[last] == "}" && !declares).then_some(last)
    }

    /// Module defs of a lower-level class whose body can take a binding.
    fn module_bodies(&self) -> Vec<(&Def, usize, usize)> {
        self.defs.iter().filter_map(|d| d.body_insert(self).map(|(at, ind)| (d, at, ind))).collect()
    }

    fn all_keys(&self, class: &str) -> BTreeSet<String> {
        self.keys.get(class).cloned().unwrap_or_default()
    }

    fn classes(&self) -> BTreeSet<String> {
        self.keys.keys().cloned().collect()
    }

    /// Machine name -> (class, file of its main definition, the file with its registry).
    fn machines(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for (f, text) in self.module_files() {
            for l in lines(text) {
                if let Some(rest) = l.trim_start().strip_prefix("clan.inventory.machines.") {
                    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
                    let class = if f.contains("/darwin/") { "darwin" } else { "nixos" };
                    out.push((name, class.to_string(), f.clone()));
                }
            }
        }
        out
    }
}

/// Splits `line` at a byte range and puts `new` there.
fn splice(line: &str, range: (usize, usize), new: &str) -> String {
    format!("{}{}{}", &line[..range.0], new, &line[range.1..])
}

fn m(code: &'static str, what: String, edits: Vec<(String, Option<String>)>, expect: Vec<(String, u32)>) -> Mutation {
    Mutation { code, what, edits, expect }
}

fn one(code: &'static str, what: String, file: &str, text: String, line: u32) -> Mutation {
    m(code, what, vec![(file.to_string(), Some(text))], vec![(file.to_string(), line)])
}

// ---------------------------------------------------------------------------
// Generators, one per rule.

/// D001: a syntax error on a binding line of every file (a doubled `=`, a
/// stray `)`, a missing `=`), each reported by Nix on that same line.
fn d001(fx: &Fixture) -> Vec<Mutation> {
    let mut out = Vec::new();
    let files: Vec<&String> = fx.files.keys().filter(|f| f.ends_with(".nix")).collect();
    for (n, f) in files.into_iter().enumerate() {
        let ls = fx.lines(f);
        let strs = in_indented_string(&ls);
        let cands: Vec<usize> = (0..ls.len())
            .filter(|&i| {
                let t = ls[i].trim();
                !strs[i]
                    && !t.starts_with('#')
                    && t.ends_with(';')
                    && t.matches(" = ").count() == 1
                    && !t.contains("''")
            })
            .collect();
        if cands.is_empty() {
            continue;
        }
        let i = cands[(n * 5) % cands.len()];
        let (new, how) = match n % 3 {
            0 => (ls[i].replacen(" = ", " = = ", 1), "doubled `=`"),
            1 => {
                let k = ls[i].rfind(';').unwrap();
                (format!("{});", &ls[i][..k]), "stray `)`")
            }
            _ => (ls[i].replacen(" = ", " ", 1), "missing `=`"),
        };
        out.push(one("D001", format!("{how} in {f}:{}", i + 1), f, replace_line(fx.text(f), i, &new), i as u32 + 1));
    }
    out
}

/// D002: `throw` and a missing attribute inside machine, aggregate and
/// home-manager modules; throws and missing attributes in top-level values.
fn d002(fx: &Fixture) -> Vec<Mutation> {
    let mut out = Vec::new();
    for (n, (d, at, ind)) in fx.module_bodies().into_iter().enumerate() {
        let opt = if d.class == "homeManager" { "home.sessionVariables" } else { "environment.variables" };
        let value = if n % 2 == 0 { format!("throw \"mutation {n}\"") } else { "{ a = \"1\"; }.b".to_string() };
        let line = format!("{}{opt}.MUTATION = {value};", spaces(ind));
        let (text, l) = insert_after(fx.text(&d.file), at, &[line]);
        out.push(one("D002", format!("{value} in {}.{} ({})", d.class, d.key, d.file), &d.file, text, l));
    }
    // Top-level values: every string of `flake.meta.users` and `fleet`.
    for (f, text) in fx.module_files() {
        if !(f.starts_with("modules/users/") || f == "modules/fleet/settings.nix") {
            continue;
        }
        for (i, l) in lines(text).iter().enumerate() {
            let t = l.trim();
            let Some((name, v)) = t.split_once(" = ") else { continue };
            if !v.starts_with('"') || !v.ends_with("\";") || name.contains('.') {
                continue;
            }
            let new = format!("{}{name} = throw \"mutation\";", spaces(indent_of(l)));
            out.push(one("D002", format!("throw for `{name}` in {f}"), f, replace_line(text, i, &new), i as u32 + 1));
        }
    }
    // Missing attributes read at the top level.
    for (f, from, to) in [
        ("modules/base/nix.nix", "cache.url", "cache.uri"),
        ("modules/base/nix.nix", "cache.publicKey", "cache.publickey"),
        ("modules/clan/instances/sshd.nix", "user.admin", "user.admn"),
        ("modules/clan/instances/sshd.nix", "user.sshKeys", "user.sshkeys"),
        ("modules/users/crs58.nix", "name = user.fullName", "name = user.fullname"),
        ("modules/monitoring/prometheus.nix", "machine.tags", "machine.tag"),
    ] {
        let ls = fx.lines(f);
        let i = ls.iter().position(|l| l.contains(from)).unwrap_or_else(|| panic!("{from} not in {f}"));
        let new = ls[i].replacen(from, to, 1);
        out.push(one("D002", format!("`{to}` in {f}"), f, replace_line(fx.text(f), i, &new), i as u32 + 1));
    }
    out
}

/// D101: every reference to a key, misspelled into a key that does not exist.
fn d101(fx: &Fixture) -> Vec<Mutation> {
    let mut out = Vec::new();
    for (n, r) in fx.refs.iter().enumerate() {
        let keys = fx.all_keys(&r.class);
        let t = typo_key(&r.key, n, &|v| keys.contains(v));
        let ls = fx.lines(&r.file);
        let new_key = if ls[r.line][r.range.0..].starts_with('"') { format!("\"{t}\"") } else { t.clone() };
        let new = splice(&ls[r.line], r.range, &new_key);
        out.push(one(
            "D101",
            format!("`{}` -> `{t}` ({}:{})", r.key, r.file, r.line + 1),
            &r.file,
            replace_line(fx.text(&r.file), r.line, &new),
            r.line as u32 + 1,
        ));
    }
    out
}

/// D102: a misspelled class, in a definition and in a reference.
fn d102(fx: &Fixture) -> Vec<Mutation> {
    let classes = fx.classes();
    let mut out = Vec::new();
    let mut n = 0;
    for d in &fx.defs {
        n += 1;
        let t = typo(&d.class, n, &|v| classes.contains(v));
        let ls = fx.lines(&d.file);
        let new = ls[d.line].replacen(&format!("flake.modules.{}.", d.class), &format!("flake.modules.{t}."), 1);
        out.push(one(
            "D102",
            format!("defined in class `{t}` ({}:{})", d.file, d.line + 1),
            &d.file,
            replace_line(fx.text(&d.file), d.line, &new),
            d.line as u32 + 1,
        ));
    }
    let mut seen = BTreeSet::new();
    for r in &fx.refs {
        if !seen.insert((r.file.clone(), r.class_line, r.class_range)) {
            continue;
        }
        n += 1;
        let t = typo(&r.class, n, &|v| classes.contains(v));
        let ls = fx.lines(&r.file);
        let new = splice(&ls[r.class_line], r.class_range, &t);
        out.push(one(
            "D102",
            format!("referenced class `{t}` ({}:{})", r.file, r.class_line + 1),
            &r.file,
            replace_line(fx.text(&r.file), r.class_line, &new),
            r.class_line as u32 + 1,
        ));
    }
    out
}

/// D201: module functions asking for an argument their evaluation does not
/// provide (made-up names; `inputs` in home-manager modules).
fn d201(fx: &Fixture) -> Vec<Mutation> {
    let system = ["hostMeta", "osConfig", "fleetUsers", "secrets"];
    let home = ["inputs", "hostMeta", "fleetUsers", "secrets"];
    let mut out = Vec::new();
    for (n, d) in fx.defs.iter().enumerate() {
        let name = if d.class == "homeManager" { home[n % 4] } else { system[n % 4] };
        let ls = fx.lines(&d.file);
        let (i, new) = match d.body {
            Body::Function if d.rest.is_empty() => {
                (d.line + 1, ls[d.line + 1].replacen(", ... }:", &format!(", {name}, ... }}:"), 1))
            }
            Body::Attrs => {
                let l = &ls[d.line];
                (d.line, format!("{}{{ {name}, ... }}: {{", &l[..l.len() - 1]))
            }
            _ => continue,
        };
        out.push(one(
            "D201",
            format!("`{name}` asked by {}.{} ({})", d.class, d.key, d.file),
            &d.file,
            replace_line(fx.text(&d.file), i, &new),
            i as u32 + 1,
        ));
    }
    // A helper module inside a let (`pinRegistry`), imported by both system classes.
    let f = "modules/base/nix.nix";
    let ls = fx.lines(f);
    let i = ls.iter().position(|l| l.trim() == "{ inputs, ... }:").expect("pinRegistry formals");
    for name in system {
        let new = ls[i].replacen(", ... }:", &format!(", {name}, ... }}:"), 1);
        out.push(one(
            "D201",
            format!("`{name}` asked by pinRegistry"),
            f,
            replace_line(fx.text(f), i, &new),
            i as u32 + 1,
        ));
    }
    out
}

/// D202: application values in `clan.specialArgs`, home-manager's
/// `extraSpecialArgs` and `_module.args` of lower-level modules.
fn d202(fx: &Fixture) -> Vec<Mutation> {
    let names = ["users", "hosts", "secrets", "fleetMeta", "pkgs-unstable", "domain"];
    let mut out = Vec::new();
    let f = "modules/clan/core.nix";
    let ls = fx.lines(f);
    let i = ls.iter().position(|l| l.trim() == "specialArgs = { inherit inputs; };").expect("clan.specialArgs");
    let ind = spaces(indent_of(&ls[i]));
    for (n, name) in names.iter().enumerate() {
        if n % 2 == 0 {
            let new = format!("{ind}specialArgs = {{ inherit inputs; {name} = {{ }}; }};");
            out.push(one(
                "D202",
                format!("`{name}` in clan.specialArgs"),
                f,
                replace_line(fx.text(f), i, &new),
                i as u32 + 1,
            ));
        } else {
            let mut nl = ls.clone();
            nl.splice(
                i..=i,
                [
                    format!("{ind}specialArgs = {{"),
                    format!("{ind}  inherit inputs;"),
                    format!("{ind}  {name} = {{ }};"),
                    format!("{ind}}};"),
                ],
            );
            out.push(one("D202", format!("`{name}` in clan.specialArgs (block)"), f, join(&nl), i as u32 + 3));
        }
    }
    let f = "modules/base/home-manager.nix";
    let ls = fx.lines(f);
    let i = ls.iter().position(|l| l.trim().starts_with("backupFileExtension")).expect("home-manager settings");
    let ind = spaces(indent_of(&ls[i]));
    for name in names {
        let line = format!("{ind}extraSpecialArgs = {{ inherit inputs; {name} = {{ }}; }};");
        let (text, l) = insert_after(fx.text(f), i, &[line]);
        out.push(one("D202", format!("`{name}` in extraSpecialArgs"), f, text, l));
    }
    for (n, (d, at, ind)) in fx.module_bodies().into_iter().enumerate() {
        let name = names[n % names.len()];
        let line = format!("{}_module.args.{name} = {{ }};", spaces(ind));
        let (text, l) = insert_after(fx.text(&d.file), at, &[line]);
        out.push(one("D202", format!("`_module.args.{name}` in {}.{} ({})", d.class, d.key, d.file), &d.file, text, l));
    }
    out
}

/// D301: modules of another class in machines' and users' imports; a flipped
/// `machineClass` in the inventory.
fn d301(fx: &Fixture) -> Vec<Mutation> {
    let plain = |c: &str| -> Vec<String> {
        fx.all_keys(c).into_iter().filter(|k| !k.starts_with("machines/") && !k.starts_with("users/")).collect()
    };
    let mut out = Vec::new();
    let mut n = 0;
    for w in &fx.withs {
        let others: Vec<(&str, String)> = match w.class.as_str() {
            "darwin" => plain("nixos")
                .into_iter()
                .map(|k| ("nixos", k))
                .chain(plain("homeManager").into_iter().map(|k| ("homeManager", k)))
                .collect(),
            "nixos" => plain("darwin")
                .into_iter()
                .map(|k| ("darwin", k))
                .chain(plain("homeManager").into_iter().map(|k| ("homeManager", k)))
                .collect(),
            _ => plain("nixos")
                .into_iter()
                .map(|k| ("nixos", k))
                .chain(plain("darwin").into_iter().map(|k| ("darwin", k)))
                .collect(),
        };
        let ls = fx.lines(&w.file);
        let ind = spaces(indent_of(&ls[w.header + 1]));
        for k in 0..3 {
            n += 1;
            let (c, key) = &others[(n * 5 + k) % others.len()];
            let line = format!("{ind}config.flake.modules.{c}.{key}");
            let (text, l) = insert_after(fx.text(&w.file), w.close - 1, &[line]);
            out.push(one("D301", format!("{c}.{key} imported by {}", w.owner), &w.file, text, l));
        }
    }
    for (name, class, f) in fx.machines() {
        let ls = fx.lines(&f);
        let i = ls.iter().position(|l| l.trim() == format!("machineClass = \"{class}\";")).expect("machineClass");
        let other = if class == "darwin" { "nixos" } else { "darwin" };
        let new = ls[i].replacen(&class, other, 1);
        out.push(one(
            "D301",
            format!("machineClass of {name} set to {other}"),
            &f,
            replace_line(fx.text(&f), i, &new),
            i as u32 + 1,
        ));
    }
    out
}

/// D401: inventory machines without configuration, registrations deleted
/// from either half, machine modules nobody registers.
fn d401(fx: &Fixture) -> Vec<Mutation> {
    let newnames = ["pyrite", "quartz", "cobalt", "bismuth", "zircon", "beryl", "jasper", "opal", "topaz", "garnet"];
    let mut out = Vec::new();
    let mut n = 0;
    for (f, _) in fx.module_files() {
        if n >= newnames.len() {
            break;
        }
        let Some(close) = fx.top_close(f) else { continue };
        let name = newnames[n];
        let new: Vec<String> = if n % 2 == 0 {
            vec![format!("  clan.inventory.machines.{name}.machineClass = \"nixos\";")]
        } else {
            vec![
                format!("  clan.inventory.machines.{name} = {{"),
                "    machineClass = \"darwin\";".into(),
                "    tags = [ \"workstation\" ];".into(),
                "  };".into(),
            ]
        };
        let (text, l) = insert_after(fx.text(f), close - 1, &new);
        out.push(one("D401", format!("inventory machine `{name}` without configuration ({f})"), f, text, l));
        n += 1;
    }
    let machines = fx.machines();
    for (name, class, f) in &machines {
        let ls = fx.lines(f);
        // The registry: `clan.machines.<m>.imports = [ ... ];` or a block.
        let reg =
            ls.iter().position(|l| l.trim_start().starts_with(&format!("clan.machines.{name}"))).expect("registry");
        let reg_end = if ls[reg].trim_end().ends_with('{') { block_end(&ls, reg) } else { reg };
        let inv =
            ls.iter().position(|l| l.trim_start().starts_with(&format!("clan.inventory.machines.{name}"))).unwrap();
        let inv_end = block_end(&ls, inv);
        // Delete the registration: the inventory entry is left without configuration.
        let mut nl = ls.clone();
        nl.drain(reg..=reg_end);
        let at =
            nl.iter().position(|l| l.trim_start().starts_with(&format!("clan.inventory.machines.{name}"))).unwrap();
        out.push(one("D401", format!("`clan.machines.{name}` deleted"), f, join(&nl), at as u32 + 1));
        // Delete the inventory entry: the registration is not in the inventory.
        let mut nl = ls.clone();
        nl.drain(inv..=inv_end);
        out.push(one("D401", format!("`clan.inventory.machines.{name}` deleted"), f, join(&nl), reg as u32 + 1));
        // The registration imports another machine's module (copy-paste):
        // this machine's own module is then exported and never registered.
        let other = machines.iter().find(|(o, c, _)| c == class && o != name).map(|(o, _, _)| o.clone()).unwrap();
        let own_key = format!("machines/{class}/{name}");
        let regl = ls
            .iter()
            .position(|l| l.contains(&format!("\"{own_key}\"]")) || l.contains(&format!("\"{own_key}\" ]")))
            .expect("registry import");
        let new = ls[regl].replacen(&own_key, &format!("machines/{class}/{other}"), 1);
        let expect: Vec<(String, u32)> =
            fx.defs.iter().filter(|d| d.key == own_key).map(|d| (d.file.clone(), d.line as u32 + 1)).collect();
        out.push(m(
            "D401",
            format!("`clan.machines.{name}` imports {other}'s module"),
            vec![(f.clone(), Some(replace_line(fx.text(f), regl, &new)))],
            expect,
        ));
    }
    // New machine modules, exported and never registered.
    for (k, name) in newnames.iter().enumerate().take(8) {
        let (class, path) = if k % 2 == 0 {
            ("nixos", format!("modules/machines/nixos/{name}/default.nix"))
        } else {
            ("darwin", format!("modules/machines/darwin/{name}.nix"))
        };
        let text = format!(
            "# {name}: a new machine, exported but never registered.\n{{\n  flake.modules.{class}.\"machines/{class}/{name}\" = {{\n    networking.hostName = \"{name}\";\n  }};\n}}\n"
        );
        out.push(m(
            "D401",
            format!("unregistered module machines/{class}/{name}"),
            vec![(path.clone(), Some(text))],
            vec![(path, 3)],
        ));
    }
    out
}

/// clan-core's services (names a typo must not hit).
const SERVICES: &[&str] = dendrite_check::UPSTREAM_SERVICES;

/// D501: unknown tags, machines, roles, service modules and inputs in the
/// clan instances.
fn d501(fx: &Fixture) -> Vec<Mutation> {
    let machines: BTreeSet<String> = fx.machines().into_iter().map(|(n, _, _)| n).collect();
    let mut tags: BTreeSet<String> = BTreeSet::new();
    for (_, t) in fx.module_files() {
        for l in lines(t) {
            let t = l.trim();
            if t.starts_with('"') && !t.contains(' ') {
                tags.insert(t.trim_matches(['"', ','].as_ref()).to_string());
            }
        }
    }
    tags.extend(
        ["server", "workstation", "laptop", "builder", "gateway", "storage", "all", "nixos", "darwin"]
            .map(String::from),
    );
    let roles = ["server", "client", "default", "controller", "peer", "moon"];
    let mut out = Vec::new();
    let mut n = 0;
    for (f, text) in fx.module_files().filter(|(f, _)| f.starts_with("modules/clan/instances/")) {
        let ls = lines(text);
        for (i, l) in ls.iter().enumerate() {
            let t = l.trim_start();
            let off = indent_of(l);
            // `roles.<role>.(tags|machines).<name>`
            if let Some(rest) = t.strip_prefix("roles.") {
                let role_end = rest.find('.').unwrap();
                let role = &rest[..role_end];
                let role_at = off + 6;
                n += 1;
                let r = typo(role, n, &|v| roles.contains(&v));
                let new = splice(l, (role_at, role_at + role.len()), &r);
                out.push(one(
                    "D501",
                    format!("role `{r}` ({f}:{})", i + 1),
                    f,
                    replace_line(text, i, &new),
                    i as u32 + 1,
                ));
                let after = &rest[role_end + 1..];
                for (kind, known) in [("tags.", &tags), ("machines.", &machines)] {
                    if let Some(x) = after.strip_prefix(kind) {
                        let name_end = x.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(x.len());
                        let name = &x[..name_end];
                        let at = role_at + role.len() + 1 + kind.len();
                        for _ in 0..2 {
                            n += 1;
                            let tn = typo(name, n, &|v| known.contains(v));
                            let new = splice(l, (at, at + name.len()), &tn);
                            out.push(one(
                                "D501",
                                format!("{kind} `{tn}` ({f}:{})", i + 1),
                                f,
                                replace_line(text, i, &new),
                                i as u32 + 1,
                            ));
                        }
                    }
                }
            }
            // `module.name = "x";` / `name = "x";` in a `module = {` block, `input = "x";`
            for (prefix, avoid) in [("module.name = \"", true), ("name = \"", true), ("input = \"", false)] {
                let Some(rest) = t.strip_prefix(prefix) else { continue };
                if prefix == "name = \"" && !ls[i - 1].trim().starts_with("module = {") {
                    continue;
                }
                let v = &rest[..rest.find('"').unwrap()];
                let at = off + prefix.len();
                for _ in 0..2 {
                    n += 1;
                    let tv = typo(v, n, &|x| (avoid && SERVICES.contains(&x)) || x == "self");
                    let new = splice(l, (at, at + v.len()), &tv);
                    out.push(one(
                        "D501",
                        format!("{prefix}{tv}\" ({f}:{})", i + 1),
                        f,
                        replace_line(text, i, &new),
                        i as u32 + 1,
                    ));
                }
            }
        }
    }
    out
}

/// D502: settings the role's interface does not declare, and values of the
/// wrong type, at role and machine level.
fn d502(fx: &Fixture) -> Vec<Mutation> {
    let unknown = ["shell = \"zsh\";", "promt = true;", "homeDir = \"/home/x\";", "enabled = true;", "keys = [ ];"];
    let mut out = Vec::new();
    let mut n = 0;
    for (f, text) in fx.module_files().filter(|(f, _)| f.starts_with("modules/clan/instances/")) {
        let ls = lines(text);
        let mut i = 0;
        while i < ls.len() {
            let t = ls[i].trim_start();
            let is_block = t.ends_with("settings = {");
            let one_line = t.contains(".settings.") && t.ends_with(';');
            if is_block {
                let end = block_end(&ls, i);
                let ind = indent_of(&ls[i]) + 2;
                for _ in 0..2 {
                    let line = format!("{}{}", spaces(ind), unknown[n % unknown.len()]);
                    n += 1;
                    let (new, l) = insert_after(text, i, std::slice::from_ref(&line));
                    out.push(one("D502", format!("unknown setting `{}` ({f}:{})", line.trim(), i + 1), f, new, l));
                }
                for (j, lj) in ls.iter().enumerate().take(end).skip(i + 1) {
                    let lt = lj.trim();
                    if indent_of(lj) != ind || lt.starts_with('#') {
                        continue;
                    }
                    if let Some((name, v)) = lt.split_once(" = ") {
                        let bad = wrong_type(v);
                        let new = format!("{}{name} = {bad};", spaces(ind));
                        out.push(one(
                            "D502",
                            format!("`{name} = {bad}` ({f}:{})", j + 1),
                            f,
                            replace_line(text, j, &new),
                            j as u32 + 1,
                        ));
                        if !name.contains('.') {
                            n += 1;
                            let tn = typo(name, n, &|_| false);
                            let new = format!("{}{tn} = {v}", spaces(ind));
                            out.push(one(
                                "D502",
                                format!("setting `{tn}` ({f}:{})", j + 1),
                                f,
                                replace_line(text, j, &new),
                                j as u32 + 1,
                            ));
                        }
                    }
                }
                i = end;
            } else if one_line {
                let (path, v) = t.split_once(" = ").unwrap();
                let (head, last) = path.rsplit_once('.').unwrap();
                let ind = spaces(indent_of(&ls[i]));
                if v.ends_with(" {") {
                    i += 1;
                    continue;
                }
                n += 1;
                let tn = typo(last, n, &|_| false);
                let new = format!("{ind}{head}.{tn} = {v}");
                out.push(one(
                    "D502",
                    format!("setting `{tn}` ({f}:{})", i + 1),
                    f,
                    replace_line(text, i, &new),
                    i as u32 + 1,
                ));
                let bad = wrong_type(v);
                let new = format!("{ind}{path} = {bad};");
                out.push(one(
                    "D502",
                    format!("`{last} = {bad}` ({f}:{})", i + 1),
                    f,
                    replace_line(text, i, &new),
                    i as u32 + 1,
                ));
            }
            i += 1;
        }
    }
    out
}

/// A value of another type than `v` (the text of a definition, with its `;`).
fn wrong_type(v: &str) -> &'static str {
    let v = v.trim_end_matches(';');
    if v.starts_with('[') {
        "\"not-a-list\""
    } else if v == "true" || v == "false" {
        "\"yes\""
    } else if v.starts_with('"') {
        "42"
    } else {
        // An expression (a list or set computed from `config.flake.meta`).
        "42"
    }
}

/// D503: vars generators depending on generators that do not exist on the
/// machine (misspelled, or defined on another machine only).
fn d503(fx: &Fixture) -> Vec<Mutation> {
    // Generator -> (file, 0-based line, machine or aggregate).
    let mut gens: Vec<(String, String, usize)> = Vec::new();
    for (f, text) in fx.module_files() {
        for (i, l) in lines(text).iter().enumerate() {
            if let Some(rest) = l.trim_start().strip_prefix("clan.core.vars.generators.")
                && let Some(name) = rest.strip_suffix(" = {")
            {
                gens.push((name.to_string(), f.clone(), i));
            }
        }
    }
    let names: BTreeSet<String> = gens.iter().map(|g| g.0.clone()).collect();
    let owner = |f: &str| -> String { f.split('/').nth(3).unwrap_or("aggregate").trim_end_matches(".nix").to_string() };
    let mut out = Vec::new();
    let mut n = 0;
    // The existing dependency, misspelled.
    for (f, text) in fx.module_files() {
        for (i, l) in lines(text).iter().enumerate() {
            if let Some(rest) = l.trim_start().strip_prefix("dependencies = [ \"") {
                let dep = &rest[..rest.find('"').unwrap()];
                for _ in 0..6 {
                    n += 1;
                    let t = typo(dep, n, &|v| names.contains(v));
                    let new = l.replacen(dep, &t, 1);
                    out.push(one(
                        "D503",
                        format!("dependency `{t}` ({f}:{})", i + 1),
                        f,
                        replace_line(text, i, &new),
                        i as u32 + 1,
                    ));
                }
            }
        }
    }
    for (g, f, i) in &gens {
        let ls = fx.lines(f);
        if ls[i + 1].trim_start().starts_with("dependencies") {
            continue;
        }
        let ind = spaces(indent_of(&ls[*i]) + 2);
        for (target, tf, _) in &gens {
            n += 1;
            // Misspelled, or (for machine-specific generators) the name of one
            // that only another machine has.
            let dep = if owner(tf) != owner(f) && owner(tf) != "aggregate" && owner(f) != "aggregate" && n % 2 == 0 {
                target.clone()
            } else {
                typo(target, n, &|v| names.contains(v))
            };
            if &dep == g {
                continue;
            }
            let (text, l) = insert_after(fx.text(f), *i, &[format!("{ind}dependencies = [ \"{dep}\" ];")]);
            out.push(one("D503", format!("`{g}` depends on `{dep}`"), f, text, l));
        }
    }
    out
}

/// D601: wrong types and unknown options in the flake's own top-level
/// options, and conflicting definitions.
fn d601(fx: &Fixture) -> Vec<Mutation> {
    let mut out = Vec::new();
    let mut n = 0;
    let mut users = Vec::new();
    for (f, text) in fx.module_files() {
        let ls = lines(text);
        if f.starts_with("modules/users/") {
            let u = f.trim_start_matches("modules/users/").trim_end_matches(".nix").to_string();
            let open = ls.iter().position(|l| l.trim() == format!("flake.meta.users.{u} = {{")).unwrap();
            let end = block_end(&ls, open);
            for j in open + 1..end {
                let l = &ls[j];
                if indent_of(l) != 4 {
                    continue;
                }
                let Some((name, v)) = l.trim().split_once(" = ") else { continue };
                // A value of the wrong type; an unknown option (the name misspelled).
                let bad = if name == "sshKeys" { "\"ssh-ed25519 AAAA\"" } else { wrong_type(v) };
                let new = if v.ends_with('[') {
                    // The list spans lines: replace it whole, keep the line numbers before it.
                    let close = block_end(&ls, j);
                    let mut nl = ls.clone();
                    nl.splice(j..=close, [format!("    {name} = {bad};")]);
                    join(&nl)
                } else {
                    replace_line(text, j, &format!("    {name} = {bad};"))
                };
                out.push(one("D601", format!("`{name} = {bad}` for {u}"), f, new, j as u32 + 1));
                n += 1;
                let tn = typo(name, n, &|v| ["fullName", "email", "sshKeys", "admin"].contains(&v));
                let new = l.replacen(name, &tn, 1);
                out.push(one(
                    "D601",
                    format!("unknown option `{tn}` for {u}"),
                    f,
                    replace_line(text, j, &new),
                    j as u32 + 1,
                ));
            }
            users.push((u, f.clone(), ls.iter().position(|l| l.trim().starts_with("email = ")).unwrap()));
        }
    }
    // fleet settings.
    let f = "modules/fleet/settings.nix";
    let text = fx.text(f);
    for (j, l) in lines(text).iter().enumerate() {
        let t = l.trim();
        let ind = spaces(indent_of(l));
        if let Some(v) = t.strip_prefix("url = \"https://") {
            let new = format!("{ind}url = \"{v}");
            out.push(one(
                "D601",
                format!("url without scheme ({f}:{})", j + 1),
                f,
                replace_line(text, j, &new),
                j as u32 + 1,
            ));
        } else if t.starts_with("publicKey = ") {
            out.push(one(
                "D601",
                format!("publicKey = 5 ({f}:{})", j + 1),
                f,
                replace_line(text, j, &format!("{ind}publicKey = 5;")),
                j as u32 + 1,
            ));
            n += 1;
            let new = l.replacen("publicKey", &typo("publicKey", n, &|_| false), 1);
            out.push(one(
                "D601",
                format!("unknown cache option ({f}:{})", j + 1),
                f,
                replace_line(text, j, &new),
                j as u32 + 1,
            ));
        } else if t.starts_with("timeZone = ") {
            out.push(one(
                "D601",
                "timeZone = 1".into(),
                f,
                replace_line(text, j, &format!("{ind}timeZone = 1;")),
                j as u32 + 1,
            ));
            for _ in 0..2 {
                n += 1;
                let new = l.replacen("timeZone", &typo("timeZone", n, &|_| false), 1);
                out.push(one("D601", "fleet.timeZone misspelled".into(), f, replace_line(text, j, &new), j as u32 + 1));
            }
        }
    }
    // flake-parts' own options.
    let f = "modules/flake-parts.nix";
    let ls = fx.lines(f);
    let j = ls.iter().position(|l| l.trim() == "systems = [").unwrap();
    for _ in 0..2 {
        n += 1;
        let new = ls[j].replacen("systems", &typo("systems", n, &|_| false), 1);
        out.push(one("D601", "systems misspelled".into(), f, replace_line(fx.text(f), j, &new), j as u32 + 1));
    }
    let mut nl = ls.clone();
    nl.splice(j..=block_end(&ls, j), ["  systems = \"x86_64-linux\";".to_string()]);
    out.push(one("D601", "systems = a string".into(), f, join(&nl), j as u32 + 1));
    // Conflicting definitions of single-valued options, from another file:
    // either definition is the place.
    let hosts: Vec<String> = fx.module_files().filter_map(|(f, _)| fx.top_close(f).map(|_| f.clone())).collect();
    let settings_tz =
        lines(fx.text("modules/fleet/settings.nix")).iter().position(|l| l.trim().starts_with("timeZone")).unwrap();
    for k in 0..4 {
        let host = &hosts[(k * 11 + 3) % hosts.len()];
        if host == "modules/fleet/settings.nix" {
            continue;
        }
        let (text, l) =
            insert_after(fx.text(host), fx.top_close(host).unwrap() - 1, &["  fleet.timeZone = \"UTC\";".to_string()]);
        out.push(m(
            "D601",
            format!("second fleet.timeZone in {host}"),
            vec![(host.clone(), Some(text))],
            vec![(host.clone(), l), ("modules/fleet/settings.nix".into(), settings_tz as u32 + 1)],
        ));
    }
    for (k, (u, uf, email_line)) in users.iter().enumerate() {
        let host = &hosts[(k * 7 + 5) % hosts.len()];
        if host == uf {
            continue;
        }
        let (text, l) = insert_after(
            fx.text(host),
            fx.top_close(host).unwrap() - 1,
            &[format!("  flake.meta.users.{u}.email = \"someone@else.example\";")],
        );
        out.push(m(
            "D601",
            format!("second email for {u} in {host}"),
            vec![(host.clone(), Some(text))],
            vec![(host.clone(), l), (uf.clone(), *email_line as u32 + 1)],
        ));
    }
    out
}

/// Option roots a NixOS, nix-darwin or home-manager module sets (how the
/// test recognises a dropped lower-level module's first binding).
const LOWER_ROOTS: &[&str] = &[
    "boot",
    "documentation",
    "environment",
    "fileSystems",
    "fonts",
    "hardware",
    "home",
    "homebrew",
    "i18n",
    "launchd",
    "networking",
    "nix",
    "nixpkgs",
    "power",
    "programs",
    "security",
    "services",
    "system",
    "systemd",
    "time",
    "users",
    "virtualisation",
    "xdg",
    "home-manager",
];

/// D602: the lower-level modules of the fixture, dropped as files of their
/// own under modules/ (as they would be written for NixOS or home-manager).
fn d602(fx: &Fixture) -> Vec<Mutation> {
    let mut out = Vec::new();
    for (n, d) in fx.defs.iter().enumerate() {
        let ls = fx.lines(&d.file);
        let (head, body): (Vec<String>, Vec<String>) = match d.body {
            Body::Attrs => {
                let end = block_end(&ls, d.line);
                (vec![], ls[d.line + 1..end].to_vec())
            }
            Body::Function => {
                let end = block_end(&ls, d.line + 2);
                (vec![ls[d.line + 1].trim().to_string()], ls[d.line + 3..end].to_vec())
            }
            Body::Other if !d.rest.is_empty() && ls[d.line].trim_end().ends_with('{') => {
                let end = block_end(&ls, d.line);
                let mut b = vec![format!("{}{} = {{", spaces(indent_of(&ls[d.line]) + 2), d.rest)];
                b.extend(ls[d.line + 1..end].iter().map(|l| format!("  {l}")));
                b.push(format!("{}}};", spaces(indent_of(&ls[d.line]) + 2)));
                (vec![], b)
            }
            _ => continue,
        };
        if d.body != Body::Function && body.iter().any(|l| l.contains("config.")) {
            // Reads the top-level `config` it closes over (the machines' own
            // modules): as a file of its own it would not even bind `config`.
            continue;
        }
        // Names the file binds around the module (`let` bindings, the
        // flake-parts module's arguments) mean nothing in a file of its own:
        // such a body is not a module someone could drop there unchanged.
        let outer: Vec<String> = ls[..d.line]
            .iter()
            .filter(|l| indent_of(l) == 2 && l.trim_end().ends_with(" =") || l.contains(" = "))
            .filter(|l| {
                indent_of(l) == 2 && !l.trim_start().starts_with("flake.") && !l.trim_start().starts_with("clan.")
            })
            .filter_map(|l| l.trim().split([' ', '.']).next().map(str::to_string))
            .collect();
        if body.iter().any(|l| {
            outer
                .iter()
                .any(|o| l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).any(|w| w == o))
        }) {
            continue;
        }
        let mut head = head;
        if head.is_empty() && body.iter().any(|l| l.contains("lib.")) {
            head.push("{ lib, ... }:".into());
        }
        let base = indent_of(body.iter().find(|l| !l.trim().is_empty()).unwrap());
        let mut text = vec![format!("# {} {} module, dropped here as a file of its own", d.class, d.key)];
        text.extend(head);
        text.push("{".into());
        text.extend(
            body.iter().map(|l| {
                if l.trim().is_empty() { String::new() } else { format!("  {}", &l[base.min(indent_of(l))..]) }
            }),
        );
        text.push("}".into());
        // The file as a whole is the mistake: each of its top-level bindings
        // of a lower-level option shows it (Nix names the first, dendrite may
        // name each), and so does a formal only lower levels provide (line 2).
        let lower: Vec<usize> = (0..text.len())
            .filter(|&i| {
                let l = text[i].trim_start();
                indent_of(&text[i]) == 2
                    // `clan.core.*` is clan's NixOS/darwin side (`clan` alone is a top-level option here).
                    && (l.starts_with("clan.core.")
                        || LOWER_ROOTS.iter().any(|r| l.starts_with(&format!("{r}.")) || l.starts_with(&format!("{r} ="))))
            })
            .collect();
        assert!(!lower.is_empty(), "no lower-level option in {}: {text:?}", d.file);
        let dir = Path::new(&d.file).parent().unwrap().to_string_lossy().into_owned();
        let path = format!("{dir}/dropped-{n}.nix");
        let mut expect: Vec<(String, u32)> = lower.iter().map(|&i| (path.clone(), i as u32 + 1)).collect();
        if text[1].ends_with("}:") {
            expect.push((path.clone(), 2));
        }
        out.push(m(
            "D602",
            format!("{}.{} ({}) as {path}", d.class, d.key, d.file),
            vec![(path, Some(join(&text)))],
            expect,
        ));
    }
    out
}

/// D701: keys nothing imports: new ones, and existing definitions renamed.
fn d701(fx: &Fixture) -> Vec<Mutation> {
    let newkeys = ["printing", "gaming", "vpn", "media", "scanner", "bluetooth", "office", "sandbox"];
    let classes = ["nixos", "darwin", "homeManager", "generic"];
    let mut out = Vec::new();
    let hosts: Vec<String> = fx.module_files().filter_map(|(f, _)| fx.top_close(f).map(|_| f.clone())).collect();
    for k in 0..16 {
        let host = &hosts[(k * 13 + 1) % hosts.len()];
        let class = classes[k % 4];
        let key = newkeys[k % newkeys.len()];
        let line = if k % 3 == 0 {
            format!("  flake.modules.{class}.{key} = {{ }};")
        } else {
            format!("  flake.modules.{class}.\"{key}/extra\".imports = [ ];")
        };
        let (text, l) = insert_after(fx.text(host), fx.top_close(host).unwrap() - 1, &[line]);
        out.push(one("D701", format!("new key {class}.{key} in {host}"), host, text, l));
    }
    for (n, d) in fx.defs.iter().enumerate() {
        if d.key.starts_with("machines/") {
            continue;
        }
        let keys = fx.all_keys(&d.class);
        let t = typo_key(&d.key, n, &|v| keys.contains(v));
        let ls = fx.lines(&d.file);
        let old = if d.key.contains('/') { format!("\"{}\"", d.key) } else { d.key.clone() };
        let new_key = if d.key.contains('/') { format!("\"{t}\"") } else { t.clone() };
        let new = ls[d.line].replacen(&format!("{}.{old}", d.class), &format!("{}.{new_key}", d.class), 1);
        out.push(one(
            "D701",
            format!("{}.{} renamed to {t} in {}", d.class, d.key, d.file),
            &d.file,
            replace_line(fx.text(&d.file), d.line, &new),
            d.line as u32 + 1,
        ));
    }
    out
}

/// D702: files moved (or copied) under a `_`-prefixed name, which
/// import-tree skips; reported at what the file would have defined.
fn d702(fx: &Fixture) -> Vec<Mutation> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (n, d) in fx.defs.iter().enumerate() {
        if !seen.insert(d.file.clone()) {
            continue;
        }
        let p = Path::new(&d.file);
        let dir = p.parent().unwrap().to_string_lossy().into_owned();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let to = match n % 3 {
            0 => format!("{dir}/_{name}"),
            1 => format!("{dir}/_drafts/{name}"),
            _ => format!("modules/_archive/{}", d.file.trim_start_matches("modules/")),
        };
        let text = fx.text(&d.file).to_string();
        // Moved (the usual "disable it for now"), or a copy left behind.
        let mut edits = vec![(to.clone(), Some(text))];
        if n % 2 == 0 {
            edits.push((d.file.clone(), None));
        }
        out.push(m("D702", format!("{} -> {to}", d.file), edits, vec![(to, d.line as u32 + 1)]));
    }
    out
}

/// D703: an element of an imports list repeated.
fn d703(fx: &Fixture) -> Vec<Mutation> {
    let mut out = Vec::new();
    for w in &fx.withs {
        let ls = fx.lines(&w.file);
        for lj in ls.iter().take(w.close).skip(w.header + 1) {
            let (text, l) = insert_after(fx.text(&w.file), w.close - 1, std::slice::from_ref(lj));
            out.push(one("D703", format!("`{}` twice in {}", lj.trim(), w.owner), &w.file, text, l));
        }
    }
    for (f, text) in fx.module_files() {
        for (i, l) in lines(text).iter().enumerate() {
            let t = l.trim();
            if !(t.contains("imports = [ ") && t.ends_with(" ];")) {
                continue;
            }
            let open = l.find("[ ").unwrap() + 2;
            let close = l.rfind(" ]").unwrap();
            let item = &l[open..close];
            let new = format!("{}{item} {item}{}", &l[..open], &l[close..]);
            out.push(one(
                "D703",
                format!("`{item}` twice ({f}:{})", i + 1),
                f,
                replace_line(text, i, &new),
                i as u32 + 1,
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Running them.

struct Outcome {
    code: &'static str,
    caught: bool,
    report: String,
}

fn write_tree(root: &Path, files: &Files, edits: &[(String, Option<String>)]) {
    let edited: BTreeMap<&str, &Option<String>> = edits.iter().map(|(f, t)| (f.as_str(), t)).collect();
    let mut all: BTreeMap<&str, &str> = files.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    for (f, t) in &edited {
        match t {
            Some(t) => {
                all.insert(f, t);
            }
            None => {
                all.remove(f);
            }
        }
    }
    for (f, t) in all {
        let p = root.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    }
}

fn run_one(files: &Files, mu: &Mutation) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), files, &mu.edits);
    let expected: Vec<String> = mu.expect.iter().map(|(f, l)| format!("{f}:{l}")).collect();
    let result = check(CheckOptions { dir: dir.path().to_path_buf(), ..Default::default() });
    let report = match result {
        Err(e) => {
            return Outcome {
                code: mu.code,
                caught: false,
                report: format!(
                    "{} {}: expected at {}; check could not run: {e}",
                    mu.code,
                    mu.what,
                    expected.join(" or ")
                ),
            };
        }
        Ok(r) => r,
    };
    let found: Vec<(String, &'static str, String, u32, String)> = report
        .diagnostics
        .iter()
        .map(|d| {
            let (file, line) = match &d.location {
                Some(l) => {
                    (l.path.strip_prefix(&report.root).unwrap_or(&l.path).to_string_lossy().into_owned(), l.line)
                }
                None => ("-".into(), 0),
            };
            (format!("{} {file}:{line} {}", d.code, d.message), d.code, file, line, d.message.clone())
        })
        .collect();
    let caught = found
        .iter()
        .any(|(_, code, file, line, _)| *code == mu.code && mu.expect.iter().any(|(ef, el)| ef == file && el == line));
    let mut text = format!("{} {}: expected at {}; got:", mu.code, mu.what, expected.join(" or "));
    if found.is_empty() {
        text.push_str(" nothing");
    }
    for (s, ..) in found.iter().take(6) {
        text.push_str("\n      ");
        text.push_str(s);
    }
    Outcome { code: mu.code, caught, report: text }
}

/// Mutations run per worker process: `check` leaves each evaluator's heap
/// behind (values form cycles; the CLI exits right after), so a long run in
/// one process grows by tens of MB per check. Workers are this test binary
/// again (`mutation_worker`), each running one chunk and exiting.
const CHUNK: usize = 24;

/// Makes the mutations of one rule from the fixture.
type Generator = fn(&Fixture) -> Vec<Mutation>;

/// The generated mutations (per-rule counts, and those to run), the same in
/// the parent and in every worker (generation is deterministic).
fn plan(fx: &Fixture) -> (BTreeMap<&'static str, usize>, Vec<Mutation>) {
    let generators: [(&'static str, Generator); 16] = [
        ("D001", d001),
        ("D002", d002),
        ("D101", d101),
        ("D102", d102),
        ("D201", d201),
        ("D202", d202),
        ("D301", d301),
        ("D401", d401),
        ("D501", d501),
        ("D502", d502),
        ("D503", d503),
        ("D601", d601),
        ("D602", d602),
        ("D701", d701),
        ("D702", d702),
        ("D703", d703),
    ];
    assert_eq!(generators.iter().map(|g| g.0).collect::<Vec<_>>(), RULES);
    let all = std::env::var_os("DENDRITE_MUTATIONS_QUICK").is_none();
    let only = std::env::var("DENDRITE_MUTATIONS_RULE").ok();
    let mut generated: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut todo: Vec<Mutation> = Vec::new();
    for (code, g) in generators {
        if only.as_deref().is_some_and(|o| !o.split(',').any(|c| c == code)) {
            continue;
        }
        let ms = g(fx);
        // Distinct edits only.
        let mut seen = BTreeSet::new();
        let ms: Vec<Mutation> = ms.into_iter().filter(|mu| seen.insert(format!("{:?}", mu.edits))).collect();
        assert!(ms.iter().all(|mu| mu.code == code));
        generated.insert(code, ms.len());
        todo.extend(if all { ms } else { spread(ms, PER_RULE) });
    }
    (generated, todo)
}

const WORKER_ENV: &str = "DENDRITE_MUTATIONS_WORKER";
const RESULT_TAG: &str = "MUTATION-RESULT";

/// Runs the mutations whose indices `DENDRITE_MUTATIONS_WORKER` lists and
/// prints one result line each; does nothing in an ordinary test run.
#[test]
fn mutation_worker() {
    let Ok(list) = std::env::var(WORKER_ENV) else { return };
    let fx = Fixture::load();
    let (_, todo) = plan(&fx);
    for i in list.split(',').filter_map(|x| x.parse::<usize>().ok()) {
        let mu = &todo[i];
        if std::env::var_os("DENDRITE_MUTATIONS_VERBOSE").is_some() {
            eprintln!("[{i}] {} {}", mu.code, mu.what);
        }
        let o = run_one(&fx.files, mu);
        println!("{RESULT_TAG}\t{i}\t{}\t{}", u8::from(o.caught), o.report.replace('\n', "\u{1f}"));
    }
}

/// Runs one chunk in a worker process.
fn run_chunk(todo: &[Mutation], chunk: &[usize]) -> Vec<(usize, Outcome)> {
    let list: Vec<String> = chunk.iter().map(usize::to_string).collect();
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "mutation_worker", "--nocapture", "--test-threads=1"])
        .env(WORKER_ENV, list.join(","))
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("worker runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut got: BTreeMap<usize, Outcome> = BTreeMap::new();
    for l in stdout.lines() {
        // libtest may have written `test mutation_worker ... ` before it on the line.
        let Some(at) = l.find(RESULT_TAG) else { continue };
        let mut f = l[at..].splitn(4, '\t');
        if f.next() != Some(RESULT_TAG) {
            continue;
        }
        let (Some(i), Some(c), Some(r)) = (f.next().and_then(|x| x.parse().ok()), f.next(), f.next()) else { continue };
        got.insert(i, Outcome { code: todo[i].code, caught: c == "1", report: r.replace('\u{1f}', "\n") });
    }
    // A worker that died (a crash, a stack overflow) takes its chunk's
    // unreported mutations with it: each is a miss.
    chunk
        .iter()
        .map(|&i| {
            let o = got.remove(&i).unwrap_or_else(|| Outcome {
                code: todo[i].code,
                caught: false,
                report: format!(
                    "{} {}: the worker running it died ({}); stderr above",
                    todo[i].code, todo[i].what, out.status
                ),
            });
            (i, o)
        })
        .collect()
}

#[test]
fn every_rule_catches_its_generated_mistakes() {
    if std::env::var_os(WORKER_ENV).is_some() {
        return;
    }
    let fx = Fixture::load();
    assert!(fx.defs.len() > 40 && fx.refs.len() > 40, "the fixture's namespace was not read");

    // The unmutated fixture is clean.
    let clean = check(CheckOptions { dir: fixture_dir(), ..Default::default() }).expect("check runs");
    let noise: Vec<String> = clean
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "{} {:?} {}",
                d.code,
                d.location.as_ref().map(|l| (l.path.display().to_string(), l.line)),
                d.message
            )
        })
        .collect();
    assert!(noise.is_empty(), "fixtures/fleet is not clean:\n{}", noise.join("\n"));

    let (generated, todo) = plan(&fx);
    let threads: usize = std::env::var("DENDRITE_MUTATIONS_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 4));
    let started = std::time::Instant::now();
    // Chunks interleave the rules, so every worker sees a mix.
    let chunks: Vec<Vec<usize>> = {
        let n = todo.len().div_ceil(CHUNK);
        (0..n).map(|c| (c..todo.len()).step_by(n).collect()).collect()
    };
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(c) else { break };
                    let got = run_chunk(&todo, chunk);
                    outcomes.lock().unwrap().extend(got);
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by_key(|(i, _)| *i);
    assert_eq!(outcomes.len(), todo.len());

    let mut table = String::from("\nrule  generated  run  caught\n");
    let mut failures = Vec::new();
    let mut short = Vec::new();
    for code in RULES {
        let Some(&gen_n) = generated.get(code) else { continue };
        let run: Vec<&Outcome> = outcomes.iter().map(|(_, o)| o).filter(|o| o.code == *code).collect();
        let caught = run.iter().filter(|o| o.caught).count();
        table.push_str(&format!("{code}  {gen_n:>9}  {:>3}  {caught:>6}\n", run.len()));
        if run.len() < MIN_PER_RULE {
            short.push(format!("{code}: only {} mutations", run.len()));
        }
        failures.extend(run.iter().filter(|o| !o.caught).map(|o| o.report.clone()));
    }
    table.push_str(&format!(
        "total {} mutations in {:.1} s, {threads} worker processes at a time\n",
        outcomes.len(),
        started.elapsed().as_secs_f64()
    ));
    println!("{table}");
    for f in &failures {
        println!("MISSED {f}");
    }
    assert!(short.is_empty(), "too few mutations: {short:?}");
    assert!(
        failures.is_empty(),
        "{} mutations not caught at the right place (see MISSED lines above){table}",
        failures.len()
    );
}

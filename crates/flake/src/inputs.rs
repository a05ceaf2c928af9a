//! Resolving a flake's inputs without Nix and without downloading anything.
//!
//! Each input is resolved, in this order, to:
//!
//! 1. [`Resolution::Override`]: a path the user gave (`--input NAME=PATH`;
//!    `NAME` may be an input path such as `clan-core/nixpkgs`). With a lock
//!    file the override applies to the lock *node* the name resolves to, so
//!    every input that follows it (`inputs.nixpkgs.follows = "nixpkgs"` in
//!    another input) gets the same path.
//! 2. [`Resolution::StoreCopy`]: the store path Nix would use for the locked
//!    source ([`crate::lock::locked_store_path`]: fixed-output, NAR SHA-256
//!    = `narHash`, name `source` or the input's `name`), under the store
//!    directory (default `/nix/store`), when it exists on disk. The path
//!    returned is the flake's directory: the store path joined with the
//!    reference's `dir` when it has one.
//! 3. [`Resolution::LocalPath`]: a `path` input found on disk without the
//!    store: a relative path (`path:./sub`) joined to the directory of the
//!    flake it is relative to (the root flake's directory for the root's
//!    inputs; for a nested node, its `parent` input path in the lock file when
//!    written, else the directory of the node whose inputs are listed), or an
//!    absolute path that exists.
//! 4. [`Resolution::Model`]: a model bundled with dendrite, recognised from the
//!    reference ([`Model::identify`]): `locked` first, then `original`; for an
//!    input without a lock entry, the reference declared in `flake.nix`, then
//!    the input's name ([`Model::from_input_name`]). An input that has a lock
//!    entry whose reference is not recognised is *not* guessed from its name.
//! 5. [`Resolution::Opaque`]: nothing is known; checks depending on it are
//!    skipped.
//!
//! Inputs of inputs: a store copy of an input is itself a flake whose inputs
//! come from the same (root) lock file: [`InputResolver::inputs_of`] lists a
//! lock node's inputs, `follows` walked, each resolved the same way. An
//! overridden input's own inputs also come from the root lock file.
//!
//! Without `flake.lock`, the caller extracts the `inputs` declared in
//! `flake.nix` ([`DeclaredInput`]: a name with a URL string, fetcher
//! attributes or a `follows`) and passes them with
//! [`InputResolver::with_declared`]. With both, the lock file wins for the
//! inputs it has, and declared inputs it lacks (a stale lock) are resolved
//! from their declaration.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dendrite_eval::flakeref::{InputAttr, InputAttrs, parse_flake_ref};

use crate::lock::{FlakeLock, LockedRef, NodeId, RefType, locked_store_path};

/// The default store directory.
pub const DEFAULT_STORE_DIR: &str = "/nix/store";

/// A model bundled with dendrite for a well-known flake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    /// hercules-ci/flake-parts.
    FlakeParts,
    /// vic/import-tree.
    ImportTree,
    /// clan-core (git.clan.lol/clan/clan-core, github clan-lol/clan-core).
    ClanCore,
    /// NixOS/nixpkgs (also channel tarballs and forks named `nixpkgs`).
    Nixpkgs,
    /// nix-community/nixpkgs.lib, or nixpkgs with `dir=lib`.
    NixpkgsLib,
    /// nix-community/home-manager.
    HomeManager,
    /// nix-darwin/nix-darwin (formerly LnL7/nix-darwin).
    NixDarwin,
}

impl Model {
    /// Every model.
    pub const ALL: [Model; 7] = [
        Model::FlakeParts,
        Model::ImportTree,
        Model::ClanCore,
        Model::Nixpkgs,
        Model::NixpkgsLib,
        Model::HomeManager,
        Model::NixDarwin,
    ];

    /// A stable name (the usual input name): `flake-parts`, `import-tree`,
    /// `clan-core`, `nixpkgs`, `nixpkgs-lib`, `home-manager`, `nix-darwin`.
    pub fn name(self) -> &'static str {
        match self {
            Model::FlakeParts => "flake-parts",
            Model::ImportTree => "import-tree",
            Model::ClanCore => "clan-core",
            Model::Nixpkgs => "nixpkgs",
            Model::NixpkgsLib => "nixpkgs-lib",
            Model::HomeManager => "home-manager",
            Model::NixDarwin => "nix-darwin",
        }
    }

    /// Recognises a reference:
    ///
    /// - `github` (and `tarball`/`git`/`file` URLs on `github.com`, such as
    ///   `https://github.com/NixOS/nixpkgs/archive/<rev>.tar.gz`), owner and
    ///   repository compared case-insensitively: `hercules-ci/flake-parts`,
    ///   `vic/import-tree`, `nixos/nixpkgs` (`nixpkgs-lib` when `dir` is
    ///   `lib`), any other `<owner>/nixpkgs` (a fork of nixpkgs),
    ///   `nix-community/nixpkgs.lib`, `nix-community/home-manager`,
    ///   `nix-darwin/nix-darwin`, `lnl7/nix-darwin`, `clan-lol/clan-core`;
    /// - `tarball`/`git` URLs on `git.clan.lol` for `clan/clan-core`;
    /// - nixpkgs channel tarballs (`nixexprs.tar.*` on `nixos.org`,
    ///   `channels.nixos.org`, `releases.nixos.org`);
    /// - `indirect` registry ids of the default registry: `flake-parts`,
    ///   `nixpkgs`, `home-manager`, `nix-darwin`.
    ///
    /// Anything else (gitlab, sourcehut, paths, unknown hosts) is `None`.
    pub fn identify(r: &LockedRef) -> Option<Model> {
        match r.kind {
            RefType::Github => from_owner_repo(r.owner.as_deref()?, r.repo.as_deref()?, &r.dir),
            RefType::Tarball | RefType::Git | RefType::File | RefType::Mercurial => from_url(r.url.as_deref()?, &r.dir),
            RefType::Indirect => match r.id.as_deref()? {
                "flake-parts" => Some(Model::FlakeParts),
                "nixpkgs" if r.dir == "lib" => Some(Model::NixpkgsLib),
                "nixpkgs" => Some(Model::Nixpkgs),
                "home-manager" => Some(Model::HomeManager),
                "nix-darwin" => Some(Model::NixDarwin),
                _ => None,
            },
            _ => None,
        }
    }

    /// Recognises an input by its name alone (only used for inputs with no
    /// lock entry and no recognisable declared reference): `flake-parts`,
    /// `import-tree`, `clan-core` / `clan`, `nixpkgs`, `nixpkgs-lib`,
    /// `home-manager`, `nix-darwin` / `darwin`.
    pub fn from_input_name(name: &str) -> Option<Model> {
        Some(match name {
            "flake-parts" => Model::FlakeParts,
            "import-tree" => Model::ImportTree,
            "clan-core" | "clan" => Model::ClanCore,
            "nixpkgs" => Model::Nixpkgs,
            "nixpkgs-lib" => Model::NixpkgsLib,
            "home-manager" => Model::HomeManager,
            "nix-darwin" | "darwin" => Model::NixDarwin,
            _ => return None,
        })
    }
}

fn from_owner_repo(owner: &str, repo: &str, dir: &str) -> Option<Model> {
    let owner = owner.to_ascii_lowercase();
    let repo = repo.to_ascii_lowercase();
    let repo = repo.strip_suffix(".git").unwrap_or(&repo);
    Some(match (owner.as_str(), repo) {
        ("hercules-ci", "flake-parts") => Model::FlakeParts,
        ("vic", "import-tree") => Model::ImportTree,
        (_, "nixpkgs") if dir.trim_matches('/') == "lib" => Model::NixpkgsLib,
        (_, "nixpkgs") => Model::Nixpkgs,
        ("nix-community", "nixpkgs.lib") => Model::NixpkgsLib,
        ("nix-community", "home-manager") => Model::HomeManager,
        ("nix-darwin" | "lnl7", "nix-darwin") => Model::NixDarwin,
        ("clan-lol", "clan-core") => Model::ClanCore,
        _ => return None,
    })
}

/// Host and path segments of `scheme://[user@]host[:port]/a/b?q`.
fn url_host_segments(url: &str) -> Option<(String, Vec<String>)> {
    let rest = url.split_once("://")?.1;
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    Some((host, path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()))
}

fn from_url(url: &str, dir: &str) -> Option<Model> {
    let (host, segs) = url_host_segments(url)?;
    match host.as_str() {
        "github.com" | "www.github.com" => from_owner_repo(segs.first()?, segs.get(1)?, dir),
        "git.clan.lol" => {
            let repo = segs.get(1)?.to_ascii_lowercase();
            let repo = repo.strip_suffix(".git").unwrap_or(&repo);
            (segs.first()?.eq_ignore_ascii_case("clan") && repo == "clan-core").then_some(Model::ClanCore)
        }
        "nixos.org" | "channels.nixos.org" | "releases.nixos.org" => {
            segs.last().is_some_and(|l| l.starts_with("nixexprs.tar")).then_some(Model::Nixpkgs)
        }
        _ => None,
    }
}

/// Parses a flake reference as written in `flake.nix` (`github:owner/repo/ref`,
/// `git+https://...?ref=main`, `https://.../archive/main.tar.gz`,
/// `path:./x`, `./x`, `nixpkgs`, ...) with Nix's flake reference syntax
/// (`dendrite_eval::flakeref::parse_flake_ref`). A bare relative path
/// (`./x`, `../x`, `.`) becomes a `path` reference to that relative path.
pub fn parse_flake_url(url: &str) -> Result<LockedRef, String> {
    let (attrs, dir) = if url == "." || url.starts_with("./") || url.starts_with("../") {
        let (p, q) = url.split_once('?').unwrap_or((url, ""));
        let dir = q.split('&').find_map(|kv| kv.strip_prefix("dir=")).unwrap_or("").to_string();
        let mut a = InputAttrs::new();
        a.insert("type".into(), InputAttr::Str("path".into()));
        a.insert("path".into(), InputAttr::Str(p.to_string()));
        (a, dir)
    } else {
        parse_flake_ref(url)?
    };
    LockedRef::from_attrs(attrs, &dir).ok_or_else(|| format!("flake reference '{url}' has no type"))
}

/// How an input is given in `flake.nix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeclaredSpec {
    /// `inputs.x.url = "github:owner/repo";` (or `inputs.x = "…"` shorthand
    /// the caller normalised).
    Url(String),
    /// `inputs.x = { type = "github"; owner = …; repo = …; };`; an attribute
    /// set with `url` and no `type` is read as [`DeclaredSpec::Url`].
    Attrs(InputAttrs),
    /// `inputs.x.follows = "a/b";`: the input path it follows.
    Follows(String),
    /// Declared without a reference (`inputs.x = { };`, or only `inputs.x.flake`):
    /// Nix looks the name up in the registry.
    Registry,
}

/// An input declared in `flake.nix`, as extracted by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredInput {
    /// The input's name.
    pub name: String,
    /// Its reference.
    pub spec: DeclaredSpec,
    /// `inputs.x.flake` (default `true`).
    pub flake: bool,
}

impl DeclaredInput {
    /// An input with a URL.
    pub fn url(name: impl Into<String>, url: impl Into<String>) -> DeclaredInput {
        DeclaredInput { name: name.into(), spec: DeclaredSpec::Url(url.into()), flake: true }
    }

    /// The reference this declaration names, when it names one.
    pub fn reference(&self) -> Option<Result<LockedRef, String>> {
        match &self.spec {
            DeclaredSpec::Url(u) => Some(parse_flake_url(u)),
            DeclaredSpec::Attrs(a) => Some(match (a.get("type"), a.get("url")) {
                (None, Some(InputAttr::Str(u))) => parse_flake_url(u),
                _ => {
                    let dir = match a.get("dir") {
                        Some(InputAttr::Str(d)) => d.clone(),
                        _ => String::new(),
                    };
                    LockedRef::from_attrs(a.clone(), &dir)
                        .ok_or_else(|| format!("input '{}' has neither a 'type' nor a 'url'", self.name))
                }
            }),
            DeclaredSpec::Registry => {
                let mut a = InputAttrs::new();
                a.insert("type".into(), InputAttr::Str("indirect".into()));
                a.insert("id".into(), InputAttr::Str(self.name.clone()));
                Some(Ok(LockedRef::from_attrs(a, "").expect("has a type")))
            }
            DeclaredSpec::Follows(_) => None,
        }
    }
}

/// What an input resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// A path given by the user (`--input NAME=PATH`).
    Override(PathBuf),
    /// The locked source's store path, present on disk (joined with `dir`).
    StoreCopy(PathBuf),
    /// A `path` input found on disk (relative to its parent flake, or an
    /// absolute path that exists), joined with `dir`.
    LocalPath(PathBuf),
    /// A bundled model.
    Model(Model),
    /// Nothing known; `reason` says why, for diagnostics.
    Opaque {
        /// Why the input could not be resolved.
        reason: String,
    },
}

impl Resolution {
    /// The flake directory on disk, for the variants that have one.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Resolution::Override(p) | Resolution::StoreCopy(p) | Resolution::LocalPath(p) => Some(p),
            _ => None,
        }
    }
}

/// One resolved input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedInput {
    /// The input's name (as its parent flake sees it).
    pub name: String,
    /// The input path from the root through which it was reached
    /// (`["clan-core", "nixpkgs"]`); `[name]` for the root's inputs.
    pub path: Vec<String>,
    /// The lock node, when the lock file has one.
    pub node: Option<NodeId>,
    /// `false` for `flake = false` inputs.
    pub flake: bool,
    /// The `locked` reference of the node, when there is one.
    pub locked: Option<LockedRef>,
    /// The `original` reference of the node, or the declared reference.
    pub original: Option<LockedRef>,
    /// What it resolved to.
    pub resolution: Resolution,
}

/// Resolves inputs; see the module documentation for the order.
#[derive(Clone, Debug)]
pub struct InputResolver<'a> {
    flake_dir: PathBuf,
    lock: Option<&'a FlakeLock>,
    declared: Vec<DeclaredInput>,
    store_dir: String,
    overrides: BTreeMap<String, PathBuf>,
}

/// How deep nested `parent` directories are looked up before giving up.
const MAX_DEPTH: usize = 64;

impl<'a> InputResolver<'a> {
    /// A resolver for the flake in `flake_dir`, with no lock file, no declared
    /// inputs, no overrides and the store at [`DEFAULT_STORE_DIR`].
    pub fn new(flake_dir: impl Into<PathBuf>) -> Self {
        InputResolver {
            flake_dir: flake_dir.into(),
            lock: None,
            declared: Vec::new(),
            store_dir: DEFAULT_STORE_DIR.to_string(),
            overrides: BTreeMap::new(),
        }
    }

    /// Uses this lock file.
    pub fn with_lock(mut self, lock: &'a FlakeLock) -> Self {
        self.lock = Some(lock);
        self
    }

    /// Uses the inputs declared in `flake.nix`.
    pub fn with_declared(mut self, declared: Vec<DeclaredInput>) -> Self {
        self.declared = declared;
        self
    }

    /// Looks for store copies under `store_dir` instead of `/nix/store`. The
    /// directory is part of every store path's hash, so a copy made in
    /// another store directory has another name.
    pub fn with_store_dir(mut self, store_dir: impl Into<String>) -> Self {
        self.store_dir = store_dir.into().trim_end_matches('/').to_string();
        self
    }

    /// `--input NAME=PATH`: `name` is an input name of the root flake, or an
    /// input path (`clan-core/nixpkgs`).
    pub fn with_override(mut self, name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.overrides.insert(name.into(), path.into());
        self
    }

    /// Parses `NAME=PATH` (the argument of `--input`).
    pub fn parse_override(arg: &str) -> Result<(String, PathBuf), String> {
        match arg.split_once('=') {
            Some((n, p)) if !n.is_empty() && !p.is_empty() => Ok((n.to_string(), PathBuf::from(p))),
            _ => Err(format!("expected NAME=PATH, got '{arg}'")),
        }
    }

    /// The store directory in use.
    pub fn store_dir(&self) -> &str {
        &self.store_dir
    }

    /// The override for lock node `node`: one whose input path resolves to it.
    fn override_for_node(&self, node: &str) -> Option<&PathBuf> {
        let lock = self.lock?;
        self.overrides.iter().find_map(|(k, p)| {
            let path: Vec<&str> = k.split('/').collect();
            (lock.resolve_path(&path).ok().as_deref() == Some(node)).then_some(p)
        })
    }

    /// The root flake's inputs, sorted by name: those of the lock file's root
    /// node, then declared inputs the lock file lacks, then overridden names
    /// neither has.
    pub fn root_inputs(&self) -> Vec<ResolvedInput> {
        let mut out: BTreeMap<String, ResolvedInput> = BTreeMap::new();
        if let Some(lock) = self.lock {
            for (name, target) in lock.root_inputs() {
                let path = vec![name.clone()];
                let r = match target {
                    Ok(node) => self.resolve_node(&name, path, &node, Some(&self.flake_dir), 0),
                    Err(e) => self.dangling(&name, path, e.to_string()),
                };
                out.insert(name, r);
            }
        }
        for d in &self.declared {
            if !out.contains_key(&d.name) {
                out.insert(d.name.clone(), self.resolve_declared(d));
            }
        }
        for (k, p) in &self.overrides {
            if !k.contains('/') && !out.contains_key(k) {
                out.insert(
                    k.clone(),
                    ResolvedInput {
                        name: k.clone(),
                        path: vec![k.clone()],
                        node: None,
                        flake: true,
                        locked: None,
                        original: None,
                        resolution: Resolution::Override(p.clone()),
                    },
                );
            }
        }
        out.into_values().collect()
    }

    /// The inputs of lock node `node` (the inputs a store copy or other copy
    /// of that flake receives), sorted by name, `follows` walked. `via` is the
    /// input path through which `node` was reached (it prefixes each result's
    /// `path`). Empty without a lock file or for an unknown node.
    pub fn inputs_of(&self, node: &str, via: &[String]) -> Vec<ResolvedInput> {
        let Some(lock) = self.lock else {
            return Vec::new();
        };
        let parent_dir = self.node_dir(node, 0);
        lock.inputs_of(node)
            .into_iter()
            .map(|(name, target)| {
                let mut path = via.to_vec();
                path.push(name.clone());
                match target {
                    Ok(n) => self.resolve_node(&name, path, &n, parent_dir.as_deref(), 0),
                    Err(e) => self.dangling(&name, path, e.to_string()),
                }
            })
            .collect()
    }

    /// Resolves an input path from the root (`["clan-core", "nixpkgs"]`).
    pub fn resolve_path(&self, path: &[&str]) -> Option<ResolvedInput> {
        let (last, parents) = path.split_last()?;
        if parents.is_empty() {
            return self.root_inputs().into_iter().find(|r| r.name == *last);
        }
        let lock = self.lock?;
        let parent = lock.resolve_path(parents).ok()?;
        let via: Vec<String> = parents.iter().map(|s| s.to_string()).collect();
        self.inputs_of(&parent, &via).into_iter().find(|r| r.name == *last)
    }

    fn dangling(&self, name: &str, path: Vec<String>, why: String) -> ResolvedInput {
        let resolution = match self.overrides.get(&path.join("/")) {
            Some(p) => Resolution::Override(p.clone()),
            None => Resolution::Opaque {
                reason: format!("input '{}' cannot be resolved in flake.lock: {why}", path.join("/")),
            },
        };
        ResolvedInput {
            name: name.to_string(),
            path,
            node: None,
            flake: true,
            locked: None,
            original: None,
            resolution,
        }
    }

    /// The directory on disk of a lock node's flake, when it has one: the
    /// root flake's directory for the root, else the directory its
    /// resolution gives.
    fn node_dir(&self, node: &str, depth: usize) -> Option<PathBuf> {
        let lock = self.lock?;
        if node == lock.root {
            return Some(self.flake_dir.clone());
        }
        if depth > MAX_DEPTH {
            return None;
        }
        // A relative path input is relative to its `parent`; without one we
        // cannot tell (the caller passes the parent directory it knows).
        let parent_dir = lock
            .node(node)?
            .parent
            .as_ref()
            .and_then(|p| lock.resolve_path(p).ok())
            .and_then(|p| self.node_dir(&p, depth + 1));
        let r = self.resolve_node(node, Vec::new(), node, parent_dir.as_deref(), depth + 1);
        r.resolution.dir().map(Path::to_path_buf)
    }

    fn resolve_node(
        &self,
        name: &str,
        path: Vec<String>,
        node: &str,
        parent_dir: Option<&Path>,
        depth: usize,
    ) -> ResolvedInput {
        let lock = self.lock.expect("resolve_node needs a lock file");
        let n = lock.node(node);
        let locked = n.and_then(|n| n.locked.clone());
        let original = n.and_then(|n| n.original.clone());
        let flake = n.is_none_or(|n| n.flake);
        // A node's `parent` overrides the directory the caller knows.
        let parent_dir = match n.and_then(|n| n.parent.as_ref()) {
            Some(p) if depth <= MAX_DEPTH => lock
                .resolve_path(p)
                .ok()
                .and_then(|p| self.node_dir(&p, depth + 1))
                .or(parent_dir.map(Path::to_path_buf)),
            _ => parent_dir.map(Path::to_path_buf),
        };
        let resolution = if let Some(p) = self.override_for_node(node) {
            Resolution::Override(p.clone())
        } else {
            self.resolve_ref(
                name,
                locked.as_ref().or(original.as_ref()),
                original.as_ref(),
                parent_dir.as_deref(),
                false,
            )
        };
        ResolvedInput {
            name: name.to_string(),
            path,
            node: Some(node.to_string()),
            flake,
            locked,
            original,
            resolution,
        }
    }

    fn resolve_declared(&self, d: &DeclaredInput) -> ResolvedInput {
        let path = vec![d.name.clone()];
        let base = |resolution, original| ResolvedInput {
            name: d.name.clone(),
            path: path.clone(),
            node: None,
            flake: d.flake,
            locked: None,
            original,
            resolution,
        };
        if let Some(p) = self.overrides.get(&d.name) {
            let original = d.reference().and_then(Result::ok);
            return base(Resolution::Override(p.clone()), original);
        }
        match d.reference() {
            None => {
                // `follows`: the followed input is not on disk without a lock
                // file (unless overridden above), so only its name can tell.
                let followed = match &d.spec {
                    DeclaredSpec::Follows(f) => f.clone(),
                    _ => String::new(),
                };
                let target = followed.rsplit('/').next().unwrap_or("");
                let model = Model::from_input_name(&d.name).or_else(|| Model::from_input_name(target));
                let resolution = match model {
                    Some(m) => Resolution::Model(m),
                    None => Resolution::Opaque {
                        reason: format!("input '{}' follows '{followed}', which is not locked (no flake.lock)", d.name),
                    },
                };
                base(resolution, None)
            }
            Some(Err(e)) => {
                let resolution = match Model::from_input_name(&d.name) {
                    Some(m) => Resolution::Model(m),
                    None => Resolution::Opaque { reason: format!("input '{}': {e}", d.name) },
                };
                base(resolution, None)
            }
            Some(Ok(r)) => {
                let resolution = self.resolve_ref(&d.name, Some(&r), None, Some(&self.flake_dir), true);
                base(resolution, Some(r))
            }
        }
    }

    /// Steps 2 to 5 for a reference. `primary` is the locked reference (or
    /// the declared one), `original` a second chance for model recognition,
    /// `by_name` allows falling back on the input name.
    fn resolve_ref(
        &self,
        name: &str,
        primary: Option<&LockedRef>,
        original: Option<&LockedRef>,
        parent_dir: Option<&Path>,
        by_name: bool,
    ) -> Resolution {
        let mut looked = Vec::new();
        if let Some(r) = primary {
            if let Some(sp) = locked_store_path(&self.store_dir, r) {
                if Path::new(&sp).exists() {
                    return Resolution::StoreCopy(join_dir(PathBuf::from(sp), &r.dir));
                }
                looked.push(format!("no store copy at {sp}"));
            }
            if r.kind == RefType::Path
                && let Some(p) = r.path.as_deref()
            {
                let candidate = if p.starts_with('/') {
                    Some(PathBuf::from(p))
                } else {
                    parent_dir.map(|d| d.join(p.strip_prefix("./").unwrap_or(p)))
                };
                match candidate {
                    Some(c) if c.exists() => return Resolution::LocalPath(join_dir(c, &r.dir)),
                    Some(c) => looked.push(format!("{} does not exist", c.display())),
                    None => looked.push(format!("relative path '{p}' has no known parent directory")),
                }
            }
        }
        let model = primary.and_then(Model::identify).or_else(|| original.and_then(Model::identify));
        let model = model.or_else(|| if by_name { Model::from_input_name(name) } else { None });
        if let Some(m) = model {
            return Resolution::Model(m);
        }
        let what = primary.map_or_else(|| "no reference".to_string(), LockedRef::describe);
        looked.push("dendrite bundles no model of it".to_string());
        Resolution::Opaque { reason: format!("input '{name}' ({what}): {}", looked.join("; ")) }
    }
}

fn join_dir(base: PathBuf, dir: &str) -> PathBuf {
    let dir = dir.trim_matches('/');
    if dir.is_empty() { base } else { base.join(dir) }
}

/// The distinct lock nodes reachable from the root (through inputs and
/// `follows`), the root excluded: what a full check may need on disk.
pub fn reachable_nodes(lock: &FlakeLock) -> BTreeSet<NodeId> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![lock.root.clone()];
    while let Some(n) = todo.pop() {
        for (_, target) in lock.inputs_of(&n) {
            if let Ok(t) = target
                && t != lock.root
                && seen.insert(t.clone())
            {
                todo.push(t);
            }
        }
    }
    seen
}

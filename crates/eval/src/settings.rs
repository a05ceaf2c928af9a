//! Evaluation settings: what `nix-instantiate` takes from flags, options
//! and the environment.

/// One entry of the search path (`-I prefix=path`, `NIX_PATH`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPathEntry {
    /// The prefix (`nixpkgs` in `nixpkgs=/path`), empty for a plain path.
    pub prefix: String,
    /// The path (or URL, which dendrite cannot fetch).
    pub path: String,
}

impl SearchPathEntry {
    /// Parses `prefix=path` or `path`.
    pub fn parse(s: &str) -> SearchPathEntry {
        match s.split_once('=') {
            Some((p, path)) => SearchPathEntry { prefix: p.to_string(), path: path.to_string() },
            None => SearchPathEntry { prefix: String::new(), path: s.to_string() },
        }
    }
}

/// What to do about a lint (`lint-*` settings).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LintLevel {
    /// Say nothing.
    #[default]
    Ignore,
    /// Print a warning.
    Warn,
    /// Fail evaluation.
    Fatal,
}

impl LintLevel {
    /// Parses `ignore`, `warn` or `fatal`.
    pub fn parse(s: &str) -> Option<LintLevel> {
        match s {
            "ignore" | "off" | "false" => Some(LintLevel::Ignore),
            "warn" => Some(LintLevel::Warn),
            "fatal" => Some(LintLevel::Fatal),
            _ => None,
        }
    }
}

/// How the evaluator behaves.
#[derive(Clone, Debug)]
pub struct EvalSettings {
    /// `-I` entries first, then `NIX_PATH`.
    pub search_path: Vec<SearchPathEntry>,
    /// The store directory (`NIX_STORE_DIR`, default `/nix/store`).
    pub store_dir: String,
    /// `builtins.currentSystem`.
    pub current_system: String,
    /// Pure evaluation mode (no `getEnv`, `currentTime`, absolute imports ...).
    pub pure_eval: bool,
    /// Print full traces.
    pub show_trace: bool,
    /// Make `builtins.warn` fatal.
    pub abort_on_warn: bool,
    /// Print `traceVerbose` messages.
    pub trace_verbose: bool,
    /// `lint-url-literals` (also set to fatal by the `no-url-literals` feature).
    pub lint_url_literals: LintLevel,
    /// `lint-absolute-path-literals`.
    pub lint_absolute_path_literals: LintLevel,
    /// `lint-short-path-literals`.
    pub lint_short_path_literals: LintLevel,
    /// `max-call-depth`: nested function calls allowed before "stack overflow".
    pub max_call_depth: usize,
    /// Enabled experimental features.
    pub experimental_features: Vec<String>,
    /// Use dendrite's native module system for `lib.evalModules` and
    /// `lib.types` (on unless `DENDRITE_NATIVE_MODULES=0`); when off, nixpkgs' own
    /// `lib/modules.nix` and `lib/types.nix` are evaluated as the Nix code
    /// they are. The interpreted mode stays available as the reference the
    /// native one is compared with.
    pub native_modules: bool,
    /// Share module evaluations between configurations that call the same
    /// module function with the same arguments but their own `config`
    /// (on unless `DENDRITE_SHARE_MODULES=0`; native modules only).
    pub share_modules: bool,
    /// Use a module tree that many configurations import (and that was
    /// collected without any configuration's values) whole, as a bundle
    /// grouped once, instead of a copy per configuration (on unless
    /// `DENDRITE_BUNDLES=0`; with shared modules only).
    pub bundle_modules: bool,
    /// `$HOME`, for `~/` paths.
    pub home: Option<String>,
    /// `builtins.currentTime`.
    pub current_time: i64,
    /// Write traces and warnings to stderr (off when embedded in the checker).
    pub print_traces: bool,
}

impl Default for EvalSettings {
    fn default() -> Self {
        EvalSettings {
            search_path: Vec::new(),
            store_dir: "/nix/store".to_string(),
            current_system: default_system(),
            pure_eval: false,
            show_trace: false,
            abort_on_warn: false,
            trace_verbose: false,
            lint_url_literals: LintLevel::Ignore,
            lint_absolute_path_literals: LintLevel::Ignore,
            lint_short_path_literals: LintLevel::Ignore,
            max_call_depth: 10_000,
            experimental_features: Vec::new(),
            native_modules: true,
            share_modules: true,
            bundle_modules: true,
            home: std::env::var("HOME").ok(),
            current_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
            print_traces: true,
        }
    }
}

/// A boolean environment variable: `Some(true)` for `1` or `true`,
/// `Some(false)` for any other value, `None` when it is not set.
pub fn env_flag(name: &str) -> Option<bool> {
    std::env::var(name).ok().map(|v| v == "1" || v == "true")
}

impl EvalSettings {
    /// Settings from the process environment (`NIX_PATH`, `NIX_STORE_DIR`,
    /// `NIX_ABORT_ON_WARN`), as `nix-instantiate` reads them.
    pub fn from_env() -> Self {
        let mut s = EvalSettings::default();
        if let Ok(p) = std::env::var("NIX_PATH") {
            s.search_path = p.split(':').filter(|e| !e.is_empty()).map(SearchPathEntry::parse).collect();
        }
        if let Ok(d) = std::env::var("NIX_STORE_DIR")
            && !d.is_empty()
        {
            s.store_dir = d;
        }
        if let Some(on) = env_flag("DENDRITE_NATIVE_MODULES") {
            s.native_modules = on;
        }
        if let Some(on) = env_flag("DENDRITE_SHARE_MODULES") {
            s.share_modules = on;
        }
        if let Some(on) = env_flag("DENDRITE_BUNDLES") {
            s.bundle_modules = on;
        }
        if env_flag("NIX_ABORT_ON_WARN") == Some(true) {
            s.abort_on_warn = true;
        }
        s
    }
}

fn default_system() -> String {
    let arch = std::env::consts::ARCH;
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    format!("{arch}-{os}")
}

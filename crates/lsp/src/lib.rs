//! `dendrite lsp`: a language server on stdio for the Nix files of a
//! dendritic flake.
//!
//! On open, change and save it runs `dendrite check` with the editor's
//! buffers laid over the files on disk and publishes the findings of every
//! file (an edit in one file can break a machine defined in another), and
//! clears files whose findings went away. Go to definition and hover work on
//! `flake.modules` keys (`config.flake.modules.<class>."<key>"` and names in
//! `with config.flake.modules.<class>; [ ... ]`); completion offers the keys
//! of a class after `flake.modules.<class>.`, and inventory machines and
//! tags after `roles.<role>.machines.` / `roles.<role>.tags`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dendrite_check::Index;
use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionResponse, Diagnostic, DiagnosticSeverity, GotoDefinitionResponse,
    Hover, HoverContents, InitializeParams, Location, MarkupContent, MarkupKind, NumberOrString, Position,
    PublishDiagnosticsParams, Range, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind, Url,
};

/// The server's state.
struct Server {
    /// The flake being checked (the nearest directory with a flake.nix).
    root: Option<PathBuf>,
    /// Open buffers.
    docs: BTreeMap<PathBuf, String>,
    /// Files that have findings published.
    published: BTreeSet<PathBuf>,
    /// Whether the first full check has run (it reports progress).
    checked_once: bool,
    /// The warm checking process, once a flake is known.
    checker: Option<Checker>,
    /// Buffer changes so far (opens, edits, closes).
    edits: u64,
    /// The static index and the value of `edits` it was made at.
    index_cache: std::cell::RefCell<Option<(u64, Index)>>,
}

/// Runs the server on stdin/stdout until the client exits; returns the exit code.
pub fn run() -> i32 {
    let (connection, io_threads) = Connection::stdio();
    let caps = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        definition_provider: Some(lsp_types::OneOf::Left(true)),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        completion_provider: Some(lsp_types::CompletionOptions {
            trigger_characters: Some(vec![".".into()]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let init = match connection.initialize(serde_json::to_value(caps).unwrap_or_default()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("dendrite lsp: initialize failed: {e}");
            return 1;
        }
    };
    let params: InitializeParams = serde_json::from_value(init).unwrap_or_default();
    #[allow(deprecated)]
    let root = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .and_then(|f| f.uri.to_file_path().ok())
        .or_else(|| params.root_uri.as_ref().and_then(|u| u.to_file_path().ok()))
        .and_then(|p| flake_root(&p));
    let mut server = Server {
        root,
        docs: BTreeMap::new(),
        published: BTreeSet::new(),
        checked_once: false,
        checker: None,
        edits: 0,
        index_cache: std::cell::RefCell::new(None),
    };
    let code = server.main_loop(&connection);
    drop(connection);
    let _ = io_threads.join();
    code
}

/// The nearest ancestor (or itself) holding a flake.nix.
fn flake_root(p: &Path) -> Option<PathBuf> {
    let start = if p.is_dir() { p.to_path_buf() } else { p.parent()?.to_path_buf() };
    start.ancestors().find(|d| d.join("flake.nix").is_file()).map(Path::to_path_buf)
}

/// Work-done progress for the first full check (which evaluates every
/// machine), so that editors show that something is happening.
fn progress(c: &Connection, begin: bool, title: &str) {
    use lsp_types::{
        ProgressParams, ProgressParamsValue, WorkDoneProgress, WorkDoneProgressBegin, WorkDoneProgressEnd,
    };
    let token = NumberOrString::String("dendrite-check".into());
    if begin {
        let create = Request::new(
            "dendrite-progress".to_string().into(),
            lsp_types::request::WorkDoneProgressCreate::METHOD.into(),
            lsp_types::WorkDoneProgressCreateParams { token: token.clone() },
        );
        let _ = c.sender.send(Message::Request(create));
    }
    let value = if begin {
        WorkDoneProgress::Begin(WorkDoneProgressBegin { title: title.to_string(), ..Default::default() })
    } else {
        WorkDoneProgress::End(WorkDoneProgressEnd { message: Some("done".into()) })
    };
    let n = Notification::new(
        lsp_types::notification::Progress::METHOD.into(),
        ProgressParams { token, value: ProgressParamsValue::WorkDone(value) },
    );
    let _ = c.sender.send(Message::Notification(n));
}

fn to_range(l: &dendrite_check::Location) -> Range {
    Range::new(
        Position::new(l.line.saturating_sub(1), l.column.saturating_sub(1)),
        Position::new(l.end_line.saturating_sub(1), l.end_column.saturating_sub(1)),
    )
}

/// A `dendrite check --serve` process for the flake: it keeps every file's
/// syntax and every machine's findings between checks and re-evaluates
/// only what an edit can change (see `dendrite_check::Session`). It runs in
/// its own process because it forks workers (this process has reader and
/// writer threads, so it must not) and because the evaluator does not
/// collect cycles.
struct Checker {
    root: PathBuf,
    child: Option<ChildPipes>,
    /// The options and roles the checking process last sent.
    symbols: serde_json::Value,
}

/// The checking process and its pipes.
type ChildPipes = (std::process::Child, std::process::ChildStdin, std::io::BufReader<std::process::ChildStdout>);

impl Checker {
    fn new(root: PathBuf) -> Checker {
        Checker { root, child: None, symbols: serde_json::Value::Null }
    }

    fn start(&self) -> Result<ChildPipes, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find the dendrite binary: {e}"))?;
        let mut child = std::process::Command::new(exe)
            .arg("check")
            .arg(&self.root)
            .arg("--serve")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run dendrite check: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok((child, stdin, stdout))
    }

    /// The findings with `overlays` laid over the files; restarts the
    /// checking process once if it died.
    fn check(&mut self, overlays: &[(PathBuf, String)]) -> Result<Vec<(Option<PathBuf>, Diagnostic)>, String> {
        use std::io::{BufRead, Write};
        let input: Vec<serde_json::Value> =
            overlays.iter().map(|(p, t)| serde_json::json!({ "path": p, "text": t })).collect();
        let line = serde_json::Value::Array(input).to_string();
        let mut last = String::new();
        for _ in 0..2 {
            if self.child.is_none() {
                self.child = Some(self.start()?);
            }
            let Some((_, stdin, stdout)) = self.child.as_mut() else { continue };
            let mut answer = String::new();
            let ok = writeln!(stdin, "{line}").and_then(|()| stdin.flush()).is_ok()
                && stdout.read_line(&mut answer).is_ok_and(|n| n > 0);
            if ok {
                let report: serde_json::Value = serde_json::from_str(&answer).map_err(|e| e.to_string())?;
                if let Some(e) = report["error"].as_str() {
                    return Err(e.to_string());
                }
                if !report["symbols"].is_null() {
                    // An instance whose file does not parse while it is
                    // being typed keeps the roles it had.
                    let old = self.symbols["roles"].as_object().cloned().unwrap_or_default();
                    self.symbols = report["symbols"].clone();
                    if let Some(roles) = self.symbols["roles"].as_object_mut() {
                        for (k, v) in old {
                            roles.entry(k).or_insert(v);
                        }
                    }
                }
                let diags = report["diagnostics"].as_array().cloned().unwrap_or_default();
                return Ok(diags.iter().map(|d| from_json(&self.root, d)).collect());
            }
            last = "the checking process stopped".into();
            // A new process sends its symbols again.
            self.symbols = serde_json::Value::Null;
            if let Some((mut child, ..)) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        Err(last)
    }
}

impl Drop for Checker {
    fn drop(&mut self) {
        if let Some((mut child, stdin, _)) = self.child.take() {
            // End of input ends it.
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// What a module argument is, for hover.
fn argument_doc(name: &str, class: Option<&str>, top_level: bool) -> String {
    let whose = if top_level {
        "the flake's top-level (flake-parts) evaluation".to_string()
    } else {
        match class {
            Some(c) => format!("the `{c}` evaluation that imports this module"),
            None => "the evaluation that imports this module".to_string(),
        }
    };
    let what = match (name, top_level) {
        ("config", _) => "the configuration of this evaluation: every module's definitions, merged",
        ("options", _) => "the option declarations of this evaluation",
        ("lib", _) => "the nixpkgs library (dendrite uses its own `lib` when nixpkgs is not an input)",
        ("inputs", true) => "the flake's inputs (flake-parts)",
        ("self", true) => "the flake itself: its outputs, `outPath`, `inputs` (flake-parts)",
        ("withSystem" | "getSystem" | "moduleWithSystem", true) => {
            "a flake-parts helper to reach `perSystem` values of a system"
        }
        ("flake-parts-lib", true) => "flake-parts' library (`mkPerSystemOption`, `importApply`, ...)",
        ("pkgs", false) => "the machine's nixpkgs package set (opaque to dendrite: checks that need it are skipped)",
        ("modulesPath", false) => "the path of the class's own modules directory (`nixos/modules` ...)",
        ("osConfig", false) => "home-manager inside a system: that system's configuration",
        ("name", false) => "the attribute name this module's evaluation is under (submodules, users)",
        ("pkgs", true) => "not provided at the top level: `pkgs` is a `perSystem` argument (D201)",
        _ => {
            "not one of the arguments the module system or flake-parts gives: only `_module.args` or `specialArgs` can provide it (see D201, D202)"
        }
    };
    format!("module argument `{name}`: {what}\n\nthe module is evaluated by {whose}")
}

/// One finding of `--format json` as an LSP diagnostic (and its file).
fn from_json(root: &Path, d: &serde_json::Value) -> (Option<PathBuf>, Diagnostic) {
    let n = |k: &str| d[k].as_u64().unwrap_or(1).saturating_sub(1) as u32;
    let range = Range::new(Position::new(n("line"), n("column")), Position::new(n("end_line"), n("end_column")));
    let mut message = d["message"].as_str().unwrap_or("").to_string();
    if let Some(h) = d["help"].as_str() {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let severity = match d["severity"].as_str() {
        Some("error") => DiagnosticSeverity::ERROR,
        Some("warning") => DiagnosticSeverity::WARNING,
        _ => DiagnosticSeverity::INFORMATION,
    };
    let file = d["file"].as_str().map(|f| root.join(f));
    let diag = Diagnostic {
        range,
        severity: Some(severity),
        code: d["code"].as_str().map(|c| NumberOrString::String(c.to_string())),
        source: Some("dendrite".into()),
        message,
        ..Default::default()
    };
    (file, diag)
}

impl Server {
    fn main_loop(&mut self, c: &Connection) -> i32 {
        let mut dirty = false;
        loop {
            // Changes that arrived while a check ran are taken together:
            // one check for a burst of keystrokes.
            let msg = match c.receiver.try_recv() {
                Ok(m) => m,
                Err(crossbeam_channel::TryRecvError::Empty) => {
                    if dirty {
                        dirty = false;
                        self.recheck(c);
                        continue;
                    }
                    match c.receiver.recv() {
                        Ok(m) => m,
                        Err(_) => return 0,
                    }
                }
                Err(crossbeam_channel::TryRecvError::Disconnected) => return 0,
            };
            match msg {
                Message::Request(req) => {
                    match c.handle_shutdown(&req) {
                        Ok(true) => return 0,
                        Ok(false) => {}
                        Err(_) => return 1,
                    }
                    let resp = self.request(&req);
                    if c.sender.send(Message::Response(resp)).is_err() {
                        return 1;
                    }
                }
                Message::Notification(n) => dirty |= self.notification(&n),
                Message::Response(_) => {}
            }
        }
    }

    /// Applies a notification; whether the findings may have changed.
    fn notification(&mut self, n: &Notification) -> bool {
        self.edits += 1;
        use lsp_types::notification::{
            DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
        };
        let path = |uri: &Url| uri.to_file_path().ok();
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params.clone()) else {
                    return false;
                };
                if let Some(file) = path(&p.text_document.uri) {
                    if self.root.is_none() {
                        self.root = flake_root(&file);
                    }
                    self.docs.insert(file, p.text_document.text);
                }
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params.clone()) else {
                    return false;
                };
                if let (Some(file), Some(change)) = (path(&p.text_document.uri), p.content_changes.into_iter().last()) {
                    self.docs.insert(file, change.text);
                }
            }
            DidSaveTextDocument::METHOD => {}
            DidCloseTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params.clone()) else {
                    return false;
                };
                if let Some(file) = path(&p.text_document.uri) {
                    self.docs.remove(&file);
                }
            }
            _ => return false,
        }
        true
    }

    fn overlays(&self) -> Vec<(PathBuf, String)> {
        self.docs.iter().map(|(p, t)| (p.clone(), t.clone())).collect()
    }

    /// Runs the check and publishes every file's findings.
    fn recheck(&mut self, c: &Connection) {
        let Some(root) = self.root.clone() else { return };
        let first = !self.checked_once;
        self.checked_once = true;
        if first {
            progress(c, true, &format!("checking {}", root.display()));
        }
        if self.checker.as_ref().is_none_or(|c| c.root != root) {
            self.checker = Some(Checker::new(root.clone()));
        }
        let overlays = self.overlays();
        let found = match self.checker.as_mut() {
            Some(checker) => checker.check(&overlays),
            None => Err("no checker".into()),
        };
        if first {
            progress(c, false, "");
        }
        let found = match found {
            Ok(f) => f,
            Err(e) => {
                let n = Notification::new(
                    lsp_types::notification::ShowMessage::METHOD.into(),
                    lsp_types::ShowMessageParams {
                        typ: lsp_types::MessageType::ERROR,
                        message: format!("dendrite: {e}"),
                    },
                );
                let _ = c.sender.send(Message::Notification(n));
                return;
            }
        };
        let mut by_file: BTreeMap<PathBuf, Vec<Diagnostic>> = BTreeMap::new();
        for (file, d) in found {
            by_file.entry(file.unwrap_or_else(|| root.join("flake.nix"))).or_default().push(d);
        }
        let now: BTreeSet<PathBuf> = by_file.keys().cloned().collect();
        for gone in self.published.difference(&now) {
            by_file.entry(gone.clone()).or_default();
        }
        for (file, diagnostics) in by_file {
            let Ok(uri) = Url::from_file_path(&file) else { continue };
            let params = PublishDiagnosticsParams { uri, diagnostics, version: None };
            let n = Notification::new(lsp_types::notification::PublishDiagnostics::METHOD.into(), params);
            let _ = c.sender.send(Message::Notification(n));
        }
        self.published = now;
    }

    /// The flake's static index, made once per state of the buffers (a
    /// file changed on disk behind the editor's back shows after the next
    /// edit).
    fn index(&self) -> Option<Index> {
        let mut cached = self.index_cache.borrow_mut();
        if let Some((at, index)) = cached.as_ref()
            && *at == self.edits
        {
            return Some(index.clone());
        }
        let index = dendrite_check::index(self.root.as_ref()?, &self.overlays()).ok()?;
        *cached = Some((self.edits, index.clone()));
        Some(index)
    }

    /// The text of a file (buffer or disk) and the byte offset of a position.
    fn offset(&self, file: &Path, pos: Position) -> Option<(String, usize)> {
        let text = match self.docs.get(file) {
            Some(t) => t.clone(),
            None => std::fs::read_to_string(file).ok()?,
        };
        let mut offset = 0;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            if i as u32 == pos.line {
                let col: usize = line.chars().take(pos.character as usize).map(char::len_utf8).sum();
                return Some((text.clone(), offset + col));
            }
            offset += line.len();
        }
        Some((text.clone(), text.len()))
    }

    fn request(&mut self, req: &Request) -> Response {
        use lsp_types::request::{Completion, GotoDefinition, HoverRequest};
        let result = match req.method.as_str() {
            GotoDefinition::METHOD => serde_json::from_value::<lsp_types::GotoDefinitionParams>(req.params.clone())
                .ok()
                .and_then(|p| {
                    let tp = p.text_document_position_params;
                    self.definition(&tp.text_document.uri, tp.position)
                })
                .map(|r| serde_json::to_value(r).unwrap_or_default()),
            HoverRequest::METHOD => serde_json::from_value::<lsp_types::HoverParams>(req.params.clone())
                .ok()
                .and_then(|p| {
                    let tp = p.text_document_position_params;
                    self.hover(&tp.text_document.uri, tp.position)
                })
                .map(|r| serde_json::to_value(r).unwrap_or_default()),
            Completion::METHOD => serde_json::from_value::<lsp_types::CompletionParams>(req.params.clone())
                .ok()
                .and_then(|p| {
                    let tp = p.text_document_position;
                    self.completion(&tp.text_document.uri, tp.position)
                })
                .map(|r| serde_json::to_value(r).unwrap_or_default()),
            _ => {
                return Response::new_err(
                    req.id.clone(),
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("dendrite lsp does not handle {}", req.method),
                );
            }
        };
        Response::new_ok(req.id.clone(), result.unwrap_or(serde_json::Value::Null))
    }

    /// The reference under the cursor.
    fn reference_at(&self, uri: &Url, pos: Position) -> Option<(Index, dendrite_check::scan::NsRef)> {
        let file = uri.to_file_path().ok()?;
        let (_, offset) = self.offset(&file, pos)?;
        let index = self.index()?;
        let canon = file.canonicalize().unwrap_or(file);
        let r = index
            .refs
            .iter()
            .find(|r| {
                r.location.path == canon && (r.location.start as usize) <= offset && offset <= r.location.end as usize
            })?
            .clone();
        Some((index, r))
    }

    fn definition(&self, uri: &Url, pos: Position) -> Option<GotoDefinitionResponse> {
        let (index, r) = self.reference_at(uri, pos)?;
        let locs: Vec<Location> = index
            .defs
            .iter()
            .filter(|d| Some(&d.class) == r.class.as_ref() && Some(&d.key) == r.key.as_ref())
            .filter_map(|d| Some(Location::new(Url::from_file_path(&d.location.path).ok()?, to_range(&d.location))))
            .collect();
        (!locs.is_empty()).then_some(GotoDefinitionResponse::Array(locs))
    }

    fn hover(&self, uri: &Url, pos: Position) -> Option<Hover> {
        let markdown = |value: String| Hover {
            contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value }),
            range: None,
        };
        if let Some(h) = self.hover_key(uri, pos) {
            return Some(h);
        }
        let file = uri.to_file_path().ok()?;
        let (text, offset) = self.offset(&file, pos)?;
        match dendrite_check::scan::symbol_at(&text, offset)? {
            dendrite_check::scan::SymbolAt::Argument { name, class, top_level } => {
                Some(markdown(argument_doc(&name, class.as_deref(), top_level)))
            }
            dendrite_check::scan::SymbolAt::Binding { class, path } => {
                self.option_doc(class.as_deref(), &path).map(markdown)
            }
        }
    }

    /// What the options table says about `path` in an evaluation of `class`.
    fn option_doc(&self, class: Option<&str>, path: &[String]) -> Option<String> {
        let options = self.checker.as_ref()?.symbols["options"].as_array()?;
        let matches = |o: &&serde_json::Value, exact: bool| -> bool {
            let p: Vec<&str> =
                o["path"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect()).unwrap_or_default();
            let same_class = class.is_none_or(|c| o["class"].as_str() == Some(c));
            let len_ok = if exact { p.len() == path.len() } else { p.len() > path.len() };
            same_class && len_ok && p.iter().zip(path).all(|(a, b)| *a == b)
        };
        let shown = path.join(".");
        if let Some(o) = options.iter().find(|o| matches(o, true)) {
            let decl: Vec<String> = o["declared"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .map(|x| {
                            format!("- `{}:{}`", x["file"].as_str().unwrap_or(""), x["line"].as_u64().unwrap_or(0))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut out = format!(
                "option `{shown}` ({} evaluation)\n\n**type:** {}\n",
                o["class"].as_str().unwrap_or(""),
                o["type"].as_str().unwrap_or("")
            );
            if let Some(d) = o["description"].as_str().filter(|d| !d.is_empty()) {
                out.push_str(&format!("\n{d}\n"));
            }
            out.push_str(&format!("\ndeclared in:\n{}", decl.join("\n")));
            return Some(out);
        }
        let below: Vec<String> = options
            .iter()
            .filter(|o| matches(o, false))
            .filter_map(|o| o["path"].as_array()?.get(path.len())?.as_str().map(str::to_string))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        (!below.is_empty()).then(|| {
            format!(
                "`{shown}`: options the flake declares below it: {}",
                below.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// The roles of the instance an inventory edit is in: named on the
    /// line (`instances.<i>.roles.`) or by the nearest `<i> = {` above.
    fn instance_roles(&self, before: &str, head: &str) -> Vec<String> {
        let Some(roles) = self.checker.as_ref().and_then(|c| c.symbols["roles"].as_object().cloned()) else {
            return Vec::new();
        };
        let list = |i: &str| -> Vec<String> {
            roles
                .get(i)
                .and_then(|r| r.as_array())
                .map(|r| r.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let named = head.trim_end_matches('.').rsplit(['.', ' ']).next().unwrap_or("").trim_matches('"');
        if roles.contains_key(named) {
            return list(named);
        }
        for l in before.lines().rev() {
            if let Some((name, _)) = l.trim().split_once('=') {
                // `instances.<i> = {` or `<i> = {`.
                let name = name.trim().rsplit('.').next().unwrap_or("").trim_matches('"');
                if roles.contains_key(name) {
                    return list(name);
                }
            }
        }
        Vec::new()
    }

    fn hover_key(&self, uri: &Url, pos: Position) -> Option<Hover> {
        let (index, r) = self.reference_at(uri, pos)?;
        let (class, key) = (r.class.clone()?, r.key.clone()?);
        let defs: Vec<String> = index
            .defs
            .iter()
            .filter(|d| d.class == class && d.key == key)
            .map(|d| {
                let rel = d.location.path.strip_prefix(&index.root).unwrap_or(&d.location.path);
                format!("- `{}:{}`", rel.display(), d.location.line)
            })
            .collect();
        let text = if defs.is_empty() {
            format!("`flake.modules.{class}.{key}`: **no module defines this key**")
        } else {
            format!(
                "`flake.modules.{class}.{key}`: a `{class}` module (deferredModule), defined in {} file{}:\n{}",
                defs.len(),
                if defs.len() == 1 { "" } else { "s" },
                defs.join("\n")
            )
        };
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: text }),
            range: None,
        })
    }

    fn completion(&self, uri: &Url, pos: Position) -> Option<CompletionResponse> {
        let file = uri.to_file_path().ok()?;
        let (text, offset) = self.offset(&file, pos)?;
        let before = &text[..offset.min(text.len())];
        let line = before.rsplit('\n').next().unwrap_or("");
        let index = self.index()?;
        // Inventory roles: `roles.<role>.machines.` and `roles.<role>.tags.`
        // (or inside their sets / lists).
        let simple = |names: &[String], detail: &str| -> Option<CompletionResponse> {
            Some(CompletionResponse::Array(
                names
                    .iter()
                    .map(|n| CompletionItem {
                        label: n.clone(),
                        kind: Some(CompletionItemKind::VALUE),
                        detail: Some(detail.to_string()),
                        ..Default::default()
                    })
                    .collect(),
            ))
        };
        if let Some((head, rest)) = line.rsplit_once("roles.") {
            if !rest.contains('.') {
                // `instances.<i>.roles.` (or `roles.` inside `instances.<i> = {`).
                let roles = self.instance_roles(&text[..offset.min(text.len())], head);
                if !roles.is_empty() {
                    return simple(&roles, "role of the instance's service");
                }
            }
            if rest.contains(".machines.") || rest.trim_end().ends_with(".machines") {
                return simple(&index.inventory_machines, "clan inventory machine");
            }
            if rest.contains(".tags") {
                return simple(&index.tags, "inventory tag");
            }
        }
        // `...flake.modules.<class>.` then a partial key.
        let class = line.rsplit_once("flake.modules.").map(|(_, rest)| rest)?;
        let (class, _partial) = class.split_once('.').unwrap_or((class, ""));
        let mut keys: BTreeSet<String> = BTreeSet::new();
        let mut classes: BTreeSet<String> = BTreeSet::new();
        for d in &index.defs {
            classes.insert(d.class.clone());
            if d.class == class {
                keys.insert(d.key.clone());
            }
        }
        let items: Vec<CompletionItem> =
            if line.ends_with(&format!("flake.modules.{class}")) || !classes.contains(class) {
                classes
                    .into_iter()
                    .map(|c| CompletionItem { label: c, kind: Some(CompletionItemKind::MODULE), ..Default::default() })
                    .collect()
            } else {
                keys.into_iter()
                    .map(|k| {
                        let insert = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                            k.clone()
                        } else {
                            format!("\"{k}\"")
                        };
                        CompletionItem {
                            label: k,
                            insert_text: Some(insert),
                            kind: Some(CompletionItemKind::MODULE),
                            detail: Some(format!("flake.modules.{class}")),
                            ..Default::default()
                        }
                    })
                    .collect()
            };
        Some(CompletionResponse::Array(items))
    }
}

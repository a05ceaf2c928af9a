//! The rules that need evaluation results: errors turned into findings,
//! module arguments, special arguments, namespace references, clan.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::rc::Rc;

use dendrite_eval::value::Value;
use dendrite_eval::{EvalError, Evaluator};
use dendrite_modules::record::ArgRequest;
use dendrite_syntax::{Span, Symbol};

use crate::diag::{Diagnostic, Location, did_you_mean};
use crate::load::{InputInfo, Loader, inputs_value, model_for_name};
use crate::scan::{self, FileInfo};
use crate::walk::{Machine, Outputs};
use crate::{CheckOptions, Ctx, is_unknown};

/// Lower-level option roots: a definition of one of these at the top level
/// means a NixOS/darwin/home-manager module was dropped under `modules/`.
const LOWER_LEVEL_ROOTS: &[&str] = &[
    "boot",
    "environment",
    "fileSystems",
    "hardware",
    "home",
    "homebrew",
    "launchd",
    "networking",
    "nix",
    "nixpkgs",
    "programs",
    "security",
    "services",
    "system",
    "systemd",
    "users",
    "virtualisation",
    "xdg",
    // Also only ever set by NixOS / nix-darwin / home-manager modules (no
    // flake-parts module has them): without them a dropped NixOS module
    // whose first option is `i18n` or `documentation` read as plain D601.
    "console",
    "documentation",
    "fonts",
    "home-manager",
    "i18n",
    "power",
    "powerManagement",
    "swapDevices",
    "time",
    "zramSwap",
];

/// Module arguments only lower-level module systems provide: a module under
/// modules/ asking for one of them is a NixOS / home-manager module (D602).
const LOWER_LEVEL_ARGS: &[&str] =
    &["pkgs", "modulesPath", "osConfig", "nixosConfig", "darwinConfig", "utils", "baseModules"];

/// Where the function of the file at `path` names the formal `name`.
fn formal_location(path: &Path, name: &str) -> Option<Location> {
    use rnix::ast;
    use rowan::ast::AstNode;
    let text = std::fs::read_to_string(path).ok()?;
    let root = rnix::Root::parse(&text).tree();
    let ast::Expr::Lambda(l) = root.expr()? else { return None };
    let ast::Param::Pattern(p) = l.param()? else { return None };
    p.pat_entries().filter_map(|e| e.ident()).find(|id| id.syntax().text() == name).map(|id| {
        let r = id.syntax().text_range();
        Location::line_of(path, &text, r.start().into(), r.len().into())
    })
}

/// A top-level module (a file import-tree loads) asking for an argument the
/// flake-parts evaluation does not have: Nix fails with "attribute 'pkgs'
/// missing" inside lib/modules.nix, with no place in the flake. The trace
/// names the argument and the module's file; report at the formal.
fn top_level_missing_argument(cx: &Ctx, e: &EvalError, first_line: &str, context: &str) -> Option<Diagnostic> {
    if !(context.starts_with("the flake's outputs") || context.starts_with("the top-level")) {
        return None;
    }
    let name = first_line.strip_prefix("attribute '")?.strip_suffix("' missing")?;
    let file = e.0.trace.iter().find_map(|f| {
        let rest = f.message.strip_prefix(&format!("while evaluating the module argument `{name}' in \""))?;
        Some(std::path::PathBuf::from(rest.strip_suffix("\":")?))
    })?;
    if !file.starts_with(cx.root.join("modules")) {
        return None;
    }
    let loc = formal_location(&file, name)?;
    let d = if LOWER_LEVEL_ARGS.contains(&name) {
        Diagnostic::new(
            "D602",
            format!("this module asks for `{name}`, which only NixOS, nix-darwin and home-manager provide: it is not a flake-parts module"),
            Some(loc),
        )
        .help("wrap it: `flake.modules.<class>.<name> = { pkgs, ... }: { ... };` (every file under modules/ is a flake-parts module)")
    } else {
        Diagnostic::new("D201", format!("module argument `{name}` is not provided by the top-level (flake-parts) evaluation"), Some(loc))
            .help("flake-parts modules get `config`, `lib`, `options`, `inputs`, `self`, `withSystem` ...; give the argument a default or take the value from `config`")
    };
    Some(d)
}

fn loc_in_flake(cx: &Ctx, span: Span) -> Option<Location> {
    Location::of(span).filter(|l| cx.in_flake(&l.path))
}

/// The first `` `x' `` or `` `x` `` quoted text of a message.
fn quoted(msg: &str) -> Option<&str> {
    let start = msg.find('`')? + 1;
    let rest = &msg[start..];
    let end = rest.find(['\'', '`'])?;
    Some(&rest[..end])
}

/// A finding for an evaluation error (None when the value is unknown).
pub fn from_error(cx: &Ctx, e: &EvalError, context: &str) -> Option<Diagnostic> {
    if std::env::var_os("DENDRITE_DEBUG").is_some() {
        eprintln!("[{context}] {}", dendrite_eval::error::strip_ansi(&e.render(true)));
    }
    if is_unknown(e) {
        return None;
    }
    let msg = dendrite_eval::error::strip_ansi(e.message());
    let first_line = msg.lines().next().unwrap_or("").trim().to_string();
    // Where: a definition inside the flake that the error names, else the
    // error's own place, else the innermost trace frame inside the flake.
    let related: Vec<(String, Location)> =
        e.related().iter().filter_map(|(l, s)| loc_in_flake(cx, *s).map(|loc| (l.clone(), loc))).collect();
    let own = e.span().and_then(|s| loc_in_flake(cx, s));
    let traced = e.0.trace.iter().filter_map(|f| f.span).find_map(|s| loc_in_flake(cx, s));
    let primary = related.first().map(|(_, l)| l.clone()).or(own.clone()).or(traced);
    if let Some(mut d) = top_level_missing_argument(cx, e, &first_line, context) {
        d.contexts.push(context.to_string());
        return Some(d);
    }
    // A missing file: where a path literal names it.
    let primary = primary.or_else(|| {
        let missing = msg.split("getting status of '").nth(1)?.split('\'').next()?;
        let i = cx.scan.path_literals.iter().position(|p| p.as_path() == Path::new(missing))?;
        cx.scan.path_literal_locations.get(i).cloned()
    });

    let (code, message, help): (&'static str, String, Option<String>) = if msg
        .contains("cannot be imported into a module evaluation that expects class")
    {
        let help = "import only modules of the machine's class (flake.modules.<class>); share code between classes through a `generic` module";
        let (text, at) = class_mismatch(cx, &msg, context);
        if let Some(at) = at {
            return Some(Diagnostic::new("D301", text, Some(at)).help(help));
        }
        ("D301", text, Some(help.into()))
    } else if msg.starts_with("The option `") && msg.contains("does not exist") {
        let option = quoted(&msg).unwrap_or("").to_string();
        let root = option.split('.').next().unwrap_or("");
        // `clan.core.*` is the NixOS/darwin side of clan: at the top level
        // (where `clan` is clan-core's flake module) it means a machine
        // module was dropped under modules/.
        let clan_core = option == "flake.clan.core" || option.starts_with("flake.clan.core.");
        let top = context.starts_with("the top-level") || context.starts_with("the flake's outputs");
        if (top && LOWER_LEVEL_ROOTS.contains(&root)) || (clan_core && (top || context == "a `clan` configuration")) {
            ("D602", format!("`{option}` is not a flake-parts option: this looks like a NixOS, nix-darwin or home-manager module under modules/"),
                 Some("wrap it: `flake.modules.<class>.<name> = { ... }: { ... };` (every file under modules/ is a flake-parts module)".into()))
        } else {
            (
                "D601",
                first_line.clone(),
                e.0.hint.clone().or(Some("declare the option, or fix the name of the definition".into())),
            )
        }
    } else if msg.contains("is not of type")
        || msg.contains("conflicting definition values")
        || msg.contains("has conflicting option types")
        || msg.contains("is used but not defined")
        || msg.contains("would be a parent of the following options")
    {
        ("D601", first_line.clone(), e.0.hint.clone())
    } else {
        let mut m = first_line.clone();
        if m.is_empty() {
            m = "evaluation failed".into();
        }
        ("D002", m, e.0.hint.clone())
    };
    let message = message.trim_end_matches(" Definition values:").trim_end_matches(" TypeError:").to_string();
    // Module-system errors name the option: find its definition statically
    // when the error carries no position inside the flake.
    let primary = primary.or_else(|| {
        if !matches!(code, "D601" | "D602") {
            return None;
        }
        let option = quoted(&msg)?;
        let parts: Vec<&str> = option.split('.').collect();
        // "Definition values: - In `<file>'": the definition's own file.
        let file = msg.split("- In `").nth(1).and_then(|r| r.split('\'').next()).map(std::path::PathBuf::from);
        if let Some(file) = file.clone()
            && let Some(b) = cx.scan.bindings.iter().find(|b| {
                b.location.path == file
                    && parts.iter().enumerate().all(|(i, p)| b.path.get(i).and_then(|x| x.as_deref()) == Some(*p))
            })
        {
            return Some(b.location.clone());
        }
        // Written through an alias of a `flake.*` option (`clan.core.x` for
        // `flake.clan.core`): the path without `flake.` at the start of a binding.
        if parts.len() > 1
            && parts[0] == "flake"
            && let Some(file) = &file
            && let Some(loc) = cx.scan.bindings.iter().find_map(|b| {
                let same = b.location.path == *file
                    && parts[1..].iter().enumerate().all(|(i, p)| b.path.get(i).and_then(|x| x.as_deref()) == Some(*p));
                if same { b.names.get(parts.len() - 2).cloned().flatten() } else { None }
            })
        {
            return Some(loc);
        }
        // An element of a list of submodules (`fleet.caches."[definition 1-entry 2]".url`):
        // its bindings start a fresh path, so match the option's last name in that file.
        if parts.iter().any(|p| p.starts_with("\"[definition"))
            && let (Some(file), Some(last)) = (&file, parts.last())
            && let Some(b) = cx
                .scan
                .bindings
                .iter()
                .find(|b| b.location.path == *file && b.path.last().and_then(|x| x.as_deref()) == Some(*last))
        {
            return Some(b.location.clone());
        }
        // A lower-level option defined at the top of a file under modules/
        // (reached through an alias such as `clan` -> `flake.clan`).
        if code == "D602" {
            let trimmed: Vec<&str> = parts.iter().copied().skip_while(|p| *p == "flake").collect();
            if let Some(b) = cx.scan.bindings.iter().find(|b| {
                b.top && trimmed.iter().enumerate().all(|(i, p)| b.path.get(i).and_then(|x| x.as_deref()) == Some(*p))
            }) {
                return Some(b.location.clone());
            }
        }
        cx.scan.locate_option(&parts)
    });
    let mut d = Diagnostic::new(code, message, primary.clone());
    d.contexts.push(context.to_string());
    // A template's `"{{name}}"` placeholder is substituted when the template
    // is instantiated (`clan flakes create`): not the user's mistake yet.
    if code == "D601" && msg.contains("is not of type") && primary.as_ref().is_some_and(placeholder_at) {
        d.severity = crate::diag::Severity::Info;
        d.message = format!("template placeholder: {}", d.message);
        d = d.help("replace the `{{...}}` placeholder with a real value when you instantiate the template");
        return Some(d);
    }
    if let Some(h) = help {
        d = d.help(h);
    }
    for (label, loc) in related.into_iter().skip(1) {
        d = d.related(label, loc);
    }
    if let (Some(own), Some(p)) = (own, primary)
        && own != p
    {
        d = d.related("evaluated here", own);
    }
    Some(d)
}

/// The message and import site of a class-mismatch error: the reference
/// to `flake.modules.<class>.<key>` written inside a module of the other class.
fn class_mismatch(cx: &Ctx, msg: &str, context: &str) -> (String, Option<Location>) {
    let module = quoted(msg).unwrap_or("");
    let expected = msg.rsplit("expects class \"").next().and_then(|r| r.split('"').next()).unwrap_or("");
    let found = msg.split("(class: \"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
    let key = module.split_once("#modules.").map(|(_, k)| k);
    let (mclass, mkey) = match key.and_then(|k| k.split_once('.')) {
        Some((c, k)) => (c.to_string(), k.trim_matches('"').to_string()),
        None => (found.to_string(), String::new()),
    };
    let machine = context.split(':').next().unwrap_or(context).split(" (").next().unwrap_or(context);
    let text = if mkey.is_empty() {
        format!("a `{found}` module is imported into a `{expected}` evaluation ({machine})")
    } else {
        format!(
            "`flake.modules.{mclass}.{mkey}` is a `{found}` module, imported into a `{expected}` evaluation ({machine})"
        )
    };
    let at = cx.scan.refs.iter().find(|r| {
        r.class.as_deref() == Some(mclass.as_str())
            && r.key.as_deref() == Some(mkey.as_str())
            && cx.scan.bindings.iter().any(|b| {
                b.location.path == r.location.path
                    && b.path.len() == 4
                    && b.path[0].as_deref() == Some("flake")
                    && b.path[1].as_deref() == Some("modules")
                    && b.path[2].as_deref() == Some(expected)
                    && b.value.0 <= r.location.start
                    && r.location.end <= b.value.1
            })
    });
    if let Some(r) = at {
        return (text, Some(r.location.clone()));
    }
    // A clan machine whose inventory class disagrees with its module's.
    if let Some(name) = machine.strip_prefix("clan.machines.")
        && let Some(loc) = cx.scan.locate(&["inventory", "machines", name, "machineClass"])
    {
        let module = if mkey.is_empty() {
            "registered in clan.machines".to_string()
        } else {
            format!("flake.modules.{mclass}.{mkey}")
        };
        let text = format!(
            "clan machine `{name}` has `machineClass = \"{expected}\"` in the inventory, but its module `{module}` is a `{found}` module"
        );
        return (text, Some(loc));
    }
    (text, None)
}

/// Whether the definition at `loc` is a string holding a `{{...}}` placeholder.
fn placeholder_at(loc: &Location) -> bool {
    let Ok(text) = std::fs::read_to_string(&loc.path) else { return false };
    let Some(line) = text.lines().nth(loc.line.saturating_sub(1) as usize) else { return false };
    line.split('"').skip(1).step_by(2).any(|lit| lit.find("{{").is_some_and(|i| lit[i..].contains("}}")))
}

/// Resolves the root flake's inputs: `--input`, a local copy at the
/// store path `flake.lock` implies, a bundled model, else an opaque value
/// (dendrite-flake's resolver decides; this builds the values).
pub fn resolve_inputs(loader: &Loader, root: &Path, opts: &CheckOptions) -> (Value, Vec<InputInfo>) {
    let lock = match std::fs::read_to_string(root.join("flake.lock")) {
        Ok(text) => match dendrite_flake::lock::FlakeLock::parse(&text) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("warning: flake.lock: {e}; resolving inputs from flake.nix only");
                None
            }
        },
        Err(_) => None,
    };
    let mut resolver = dendrite_flake::inputs::InputResolver::new(root)
        .with_declared(declared_inputs(&root.join("flake.nix")))
        .with_store_dir(opts.store_dir.clone().unwrap_or_else(|| "/nix/store".into()));
    if let Some(l) = &lock {
        resolver = resolver.with_lock(l);
    }
    for (n, p) in &opts.inputs {
        resolver = resolver.with_override(n.clone(), p.clone());
    }
    let mut entries = Vec::new();
    let mut infos = Vec::new();
    for r in resolver.root_inputs() {
        let (value, how) = input_value(loader, &resolver, &r, 0);
        infos.push(InputInfo { name: r.name.clone(), how });
        entries.push((r.name.clone(), value));
    }
    (inputs_value(entries), infos)
}

/// The value of one resolved input.
fn input_value(
    loader: &Loader,
    resolver: &dendrite_flake::inputs::InputResolver,
    r: &dendrite_flake::inputs::ResolvedInput,
    depth: usize,
) -> (Value, String) {
    use dendrite_flake::inputs::Resolution;
    match &r.resolution {
        Resolution::Override(p) | Resolution::StoreCopy(p) | Resolution::LocalPath(p) => {
            let kind = match &r.resolution {
                Resolution::Override(_) => "override",
                Resolution::StoreCopy(_) => "store copy",
                _ => "local path",
            };
            if !r.flake || !p.join("flake.nix").is_file() || depth > 4 {
                let v = dendrite_eval::value::Value::attrs(vec![dendrite_eval::value::Attr::new(
                    dendrite_syntax::Symbol::new("outPath"),
                    crate::load::s(&p.to_string_lossy()),
                )]);
                return (v, format!("{kind} {} (source only)", p.display()));
            }
            // Its own inputs: from the lock when it has a node, else by name.
            let own: Vec<dendrite_flake::inputs::ResolvedInput> = match &r.node {
                Some(node) => resolver.inputs_of(node, &r.path),
                None => Vec::new(),
            };
            let mut entries: Vec<(String, Value)> =
                own.iter().map(|i| (i.name.clone(), input_value(loader, resolver, i, depth + 1).0)).collect();
            if r.node.is_none() {
                for n in flake_input_names(&p.join("flake.nix")) {
                    let v = match model_for_name(&n) {
                        Some(m) => loader.model_input(m),
                        None => loader.opaque(&n),
                    };
                    entries.push((n, v));
                }
            }
            (loader.flake_on_disk(p, inputs_value(entries)), format!("{kind} {}", p.display()))
        }
        Resolution::Model(m) => {
            let name = crate::load::model_key(*m);
            (loader.model_input(name), format!("model {name}"))
        }
        Resolution::Opaque { reason } => (loader.opaque(&r.name), format!("opaque ({reason})")),
    }
}

/// The inputs a flake.nix declares, read from its syntax: `inputs.x.url`,
/// `inputs.x.follows`, `inputs.x.flake = false`, in either nesting.
fn declared_inputs(path: &Path) -> Vec<dendrite_flake::inputs::DeclaredInput> {
    use dendrite_flake::inputs::{DeclaredInput, DeclaredSpec};
    use rnix::ast::{self, HasEntry};
    use rowan::ast::AstNode;
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let parsed = rnix::Root::parse(&text);
    let Some(ast::Expr::AttrSet(top)) = parsed.tree().expr() else { return Vec::new() };
    let mut found: BTreeMap<String, (Option<DeclaredSpec>, bool)> = BTreeMap::new();
    let string_of = |e: Option<ast::Expr>| -> Option<String> {
        match e? {
            ast::Expr::Str(s) => {
                let t = s.syntax().text().to_string();
                Some(t.trim_matches('"').to_string())
            }
            _ => None,
        }
    };
    let mut add = |path: &[String], value: Option<ast::Expr>| {
        let (name, rest) = match path {
            [name, rest @ ..] => (name.clone(), rest),
            _ => return,
        };
        let entry = found.entry(name).or_insert((None, true));
        match rest {
            [k] if k == "url" => {
                if let Some(u) = string_of(value) {
                    entry.0 = Some(DeclaredSpec::Url(u));
                }
            }
            [k] if k == "follows" => {
                if let Some(u) = string_of(value) {
                    entry.0 = Some(DeclaredSpec::Follows(u));
                }
            }
            [k] if k == "flake" => {
                if let Some(ast::Expr::Ident(i)) = value
                    && i.syntax().text() == "false"
                {
                    entry.1 = false;
                }
            }
            [] => {
                if let Some(u) = string_of(value) {
                    entry.0 = Some(DeclaredSpec::Url(u));
                }
            }
            _ => {}
        }
    };
    fn walk(set: &ast::AttrSet, prefix: Vec<String>, add: &mut dyn FnMut(&[String], Option<ast::Expr>)) {
        for entry in set.entries() {
            let ast::Entry::AttrpathValue(apv) = entry else { continue };
            let Some(ap) = apv.attrpath() else { continue };
            let mut path = prefix.clone();
            path.extend(ap.attrs().map(|a| a.syntax().text().to_string().trim_matches('"').to_string()));
            match apv.value() {
                Some(ast::Expr::AttrSet(inner)) if path.len() < 3 => walk(&inner, path, add),
                v => add(&path, v),
            }
        }
    }
    for entry in top.entries() {
        let ast::Entry::AttrpathValue(apv) = entry else { continue };
        let Some(ap) = apv.attrpath() else { continue };
        let parts: Vec<String> =
            ap.attrs().map(|a| a.syntax().text().to_string().trim_matches('"').to_string()).collect();
        if parts.first().map(String::as_str) != Some("inputs") {
            continue;
        }
        let rest = parts[1..].to_vec();
        match apv.value() {
            Some(ast::Expr::AttrSet(set)) if rest.len() < 2 => walk(&set, rest, &mut add),
            v => add(&rest, v),
        }
    }
    found
        .into_iter()
        .filter(|(n, _)| n != "self")
        .map(|(name, (spec, flake))| DeclaredInput { name, spec: spec.unwrap_or(DeclaredSpec::Registry), flake })
        .collect()
}

/// The input names a flake.nix declares (statically, from its text).
fn flake_input_names(path: &Path) -> Vec<String> {
    declared_inputs(path).into_iter().map(|d| d.name).collect()
}

/// A recorded evaluation: class, result, argument requests (own, and
/// shared with other evaluations), special argument names.
type RecordedEval = (Value, Value, Rc<[ArgRequest]>, Vec<Rc<[ArgRequest]>>, Vec<Symbol>);

/// D201, and the errors evaluations went on after, from the recorded
/// `evalModules` calls.
/// Only the evaluations recorded from index `from` on are looked at (a
/// worker process reports those it made itself).
pub fn recorded(ev: &mut Evaluator, cx: &mut Ctx, from: usize) {
    let Some(rec) = ev.extension_mut::<dendrite_modules::record::Recorder>() else { return };
    let errors: Vec<(Value, Vec<EvalError>)> = rec.evals[from.min(rec.evals.len())..]
        .iter()
        .filter(|r| !r.errors.is_empty())
        .map(|r| (r.class.clone(), r.errors.clone()))
        .collect();
    for (class, errs) in errors {
        let class = match ev.force(&class) {
            Ok(Value::String(s)) => s.to_str_lossy().into_owned(),
            _ => String::new(),
        };
        let context = if class == "flake" {
            "the top-level configuration".to_string()
        } else {
            format!("a `{class}` configuration")
        };
        for e in errs {
            let Some(mut d) = from_error(cx, &e, &context) else { continue };
            // clan evaluates role settings against the role's interface in
            // evaluations of class `<service>.<role>.settings`.
            if class.ends_with(".settings") && matches!(d.code, "D601" | "D002") {
                d.code = "D502";
                d.severity = crate::diag::rule("D502").map(|r| r.default).unwrap_or(d.severity);
                d.help = Some(
                    "these settings are checked against the role's interface; see the service's documentation".into(),
                );
            }
            cx.diags.push(d);
        }
    }
    let Some(rec) = ev.extension_mut::<dendrite_modules::record::Recorder>() else { return };
    let evals: Vec<RecordedEval> = rec.evals[from.min(rec.evals.len())..]
        .iter()
        .filter(|r| !r.incomplete())
        .map(|r| {
            (
                r.class.clone(),
                r.result.clone(),
                r.requests.clone().into(),
                r.shared_requests.clone(),
                r.special_args.iter().map(|a| a.name).collect(),
            )
        })
        .collect();
    let span = cx.span;
    let mut reported = BTreeSet::new();
    // Requests shared by evaluations (one module tree collected by many)
    // checked already, per class and set of provided arguments: checking
    // them again would find the same.
    let mut checked: HashSet<(String, Vec<Symbol>, *const ArgRequest)> = HashSet::new();
    for (class, result, own, shared, special) in evals {
        let class = match ev.force(&class) {
            Ok(Value::String(s)) => s.to_str_lossy().into_owned(),
            _ => String::new(),
        };
        // Provided: special arguments and `_module.args` names.
        let provided: Option<Vec<Symbol>> = (|| {
            let module = ev.select_str(&result, "_module", span).ok()?;
            let args = ev.select_str(&module, "args", span).ok()?;
            let a = ev.expect_attrs(&args).ok()?;
            let mut set: BTreeSet<Symbol> = a.iter().map(|x| x.name).collect();
            set.extend(special.iter().copied());
            for builtin in ["config", "options", "lib", "specialArgs", "_class", "_prefix", "name"] {
                set.insert(Symbol::new(builtin));
            }
            Some(set.into_iter().collect())
        })();
        let Some(provided) = provided else { continue };
        let mut chunks = vec![own];
        for chunk in shared {
            if checked.insert((class.clone(), provided.clone(), chunk.as_ptr())) {
                chunks.push(chunk);
            }
        }
        for q in chunks.iter().flat_map(|c| c.iter()) {
            if q.has_default || provided.binary_search(&q.name).is_ok() {
                continue;
            }
            let name = q.name.to_string();
            let Some(loc) = q.span.and_then(|s| loc_in_flake(cx, s)) else { continue };
            if !reported.insert((loc.clone(), name.clone(), class.clone())) {
                continue;
            }
            let mut available: Vec<String> = provided.iter().map(|s| s.to_string()).collect();
            available.sort();
            let hint = did_you_mean(&name, available.iter().map(String::as_str));
            let class_text = if class.is_empty() { "this".to_string() } else { format!("the `{class}`") };
            let mut d = Diagnostic::new(
                "D201",
                format!("module argument `{name}` is not provided by {class_text} evaluation that imports this module"),
                Some(loc),
            );
            d = d.help(match hint {
                Some(h) => format!("{h} (read shared values from the top-level `config` instead of passing them as arguments)"),
                None => "read shared values through the top-level `config` captured by the enclosing flake-parts module, or give the argument a default".into(),
            });
            cx.diags.push(d);
        }
    }
}

/// D101, D102, D701, D702, D703.
pub fn namespace(ev: &mut Evaluator, cx: &mut Ctx, outputs: &Outputs) {
    let s = cx.scan.clone();
    namespace_rules(ev, cx, outputs, &s);
}

fn namespace_rules(ev: &mut Evaluator, cx: &mut Ctx, outputs: &Outputs, s: &scan::Scan) {
    for d in &s.duplicates {
        cx.diags.push(
            Diagnostic::new("D703", format!("`{}` is imported twice in this list", d.text), Some(d.location.clone()))
                .related("first imported here", d.first.clone())
                .help("remove the second occurrence"),
        );
    }
    special_args_static(cx, s);
    skipped_files(cx, s);
    // The defined keys, from evaluation.
    let Some(mut known) = module_keys(ev, cx, outputs) else { return };
    // A file that does not parse is left out of the evaluation; the keys it
    // means to define are known from what the parser recovered of it.
    for d in &s.broken_defs {
        known.entry(d.class.clone()).or_default().insert(d.key.clone());
    }
    let standard = ["nixos", "darwin", "homeManager", "generic"];
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut dynamic: BTreeSet<String> = BTreeSet::new();
    let mut any_dynamic_class = false;
    for r in &s.refs {
        let Some(class) = &r.class else {
            any_dynamic_class = true;
            continue;
        };
        if r.dynamic {
            dynamic.insert(class.clone());
        }
        let Some(keys) = known.get(class) else {
            let mut candidates: Vec<&str> = known.keys().map(String::as_str).collect();
            candidates.extend(standard);
            let hint = did_you_mean(class, candidates.into_iter());
            let mut d = Diagnostic::new(
                "D102",
                format!("no module defines anything in class `{class}` of flake.modules"),
                Some(r.class_location.clone()),
            );
            d = d.help(hint.unwrap_or_else(|| {
                format!("defined classes: {}", known.keys().cloned().collect::<Vec<_>>().join(", "))
            }));
            cx.diags.push(d);
            continue;
        };
        let Some(key) = &r.key else { continue };
        used.entry(class.clone()).or_default().insert(key.clone());
        if !keys.contains(key) {
            let hint = did_you_mean(key, keys.iter().map(String::as_str));
            let mut d = Diagnostic::new(
                "D101",
                format!("`flake.modules.{class}` has no key `{key}`"),
                Some(r.location.clone()),
            );
            d = d.help(hint.unwrap_or_else(|| {
                let mut all: Vec<&str> = keys.iter().map(String::as_str).collect();
                all.truncate(12);
                format!("keys of `{class}`: {}", all.join(", "))
            }));
            cx.diags.push(d);
        }
    }
    // Classes defined but never used, that look like a typo of another.
    let mut classes_used: BTreeSet<&str> = s.refs.iter().filter_map(|r| r.class.as_deref()).collect();
    classes_used.extend(standard);
    for def in &s.defs {
        if classes_used.contains(def.class.as_str()) || standard.contains(&def.class.as_str()) {
            continue;
        }
        let candidates: Vec<&str> = classes_used.iter().copied().filter(|c| *c != def.class).collect();
        if let Some(h) = did_you_mean(&def.class, candidates.into_iter()) {
            cx.diags.push(
                Diagnostic::new(
                    "D102",
                    format!("class `{}` of flake.modules is used by nothing; {h}", def.class),
                    Some(def.class_location.clone()),
                )
                .help(
                    "machines import modules of their own class only; a misspelled class makes the module unreachable",
                ),
            );
        }
    }
    // Unused keys (a misspelled class is reported once, as D102). When a
    // module dendrite cannot see is part of the flake, it may use any key.
    if any_dynamic_class || outputs.top_incomplete() {
        return;
    }
    let typo_classes: BTreeSet<String> =
        cx.diags.iter().filter(|d| d.code == "D102").filter_map(|d| quoted(&d.message).map(str::to_string)).collect();
    let mut reported = BTreeSet::new();
    for def in &s.defs {
        if dynamic.contains(&def.class) || typo_classes.contains(&def.class) || def.key.starts_with("machines/") {
            continue;
        }
        if used.get(&def.class).is_some_and(|k| k.contains(&def.key)) {
            continue;
        }
        if !reported.insert((def.class.clone(), def.key.clone())) {
            continue;
        }
        cx.diags.push(
            Diagnostic::new(
                "D701",
                format!(
                    "`flake.modules.{}.{}` is defined but nothing in this flake imports it",
                    def.class,
                    nix_attr(&def.key)
                ),
                Some(def.location.clone()),
            )
            .help("import it where it is meant to apply, or remove it (set D701 to \"off\" in dendrite.toml if other flakes consume it)"),
        );
    }
}

/// An attribute name as Nix source: quoted unless it is an identifier.
fn nix_attr(name: &str) -> String {
    let ident = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''));
    if ident { name.to_string() } else { format!("\"{name}\"") }
}

/// `flake.modules` class -> keys, from the top-level configuration.
fn module_keys(ev: &mut Evaluator, cx: &mut Ctx, outputs: &Outputs) -> Option<BTreeMap<String, BTreeSet<String>>> {
    let span = cx.span;
    let top = outputs.top.as_ref()?;
    let config = ev.select_str(top, "config", span).ok()?;
    let flake = ev.select_str(&config, "flake", span).ok()?;
    let modules = ev.attr_of(&flake, "modules").ok()??;
    let classes = ev.expect_attrs(&modules).ok()?;
    let mut out = BTreeMap::new();
    for c in classes.iter() {
        let keys = ev.expect_attrs(&c.value).ok()?;
        out.insert(c.name.to_string(), keys.iter().map(|k| k.name.to_string()).collect());
    }
    Some(out)
}

/// D702: files import-tree skips (a `_` path component) that no path
/// literal names.
fn skipped_files(cx: &mut Ctx, s: &scan::Scan) {
    let modules = cx.root.join("modules");
    for f in crate::scan::nix_files(&modules) {
        let rel = f.strip_prefix(&modules).unwrap_or(&f);
        let skipped = rel.components().any(|c| c.as_os_str().to_string_lossy().starts_with('_'));
        if !skipped {
            continue;
        }
        let canon = f.canonicalize().unwrap_or(f.clone());
        let named = s.path_literals.iter().any(|p| {
            *p == canon
                || (canon.starts_with(p)
                    && p.strip_prefix(&modules)
                        .is_ok_and(|r| r.components().any(|c| c.as_os_str().to_string_lossy().starts_with('_'))))
        });
        if !named {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let len = text.lines().next().map(str::len).unwrap_or(0);
            // At what the file would have contributed: its first
            // `flake.modules.<class>.<key>` definition (files start with a
            // comment header, so line 1 rarely shows anything), else line 1.
            let def = s
                .bindings
                .iter()
                .filter(|b| b.location.path == f && b.path.len() >= 4)
                .filter(|b| b.path[0].as_deref() == Some("flake") && b.path[1].as_deref() == Some("modules"))
                .filter_map(|b| b.names.first().cloned().flatten())
                .min_by_key(|l| l.start);
            cx.diags.push(
                Diagnostic::new(
                    "D702",
                    format!(
                        "import-tree skips `{}` (a path component starts with `_`) and nothing imports it",
                        rel.display()
                    ),
                    Some(def.unwrap_or_else(|| Location::line_of(&f, &text, 0, len))),
                )
                .help("rename it so that no component starts with `_`, import it explicitly, or delete it"),
            );
        }
    }
}

/// D202 found statically: `specialArgs = { ... }`, `extraSpecialArgs = { ... }`
/// and `_module.args = { ... }` / `_module.args.<name> = ...` bindings in
/// the flake's files naming values beyond the allowlist.
fn special_args_static(cx: &mut Ctx, s: &scan::Scan) {
    let allow: BTreeSet<&str> = cx.config.special_args_allow.iter().map(String::as_str).collect();
    let found: Vec<(String, String, Location)> =
        s.special_args.iter().filter(|(_, name, _)| !allow.contains(name.as_str())).cloned().collect();
    let allowed = cx.config.special_args_allow.join(", ");
    for (kind, name, loc) in found {
        cx.diags.push(
            Diagnostic::new(
                "D202",
                format!("`{name}` is passed through `{kind}`: only framework values ({allowed}) should travel this way"),
                Some(loc),
            )
            .help("define an option (or use the top-level `config`, e.g. `config.flake.meta`) and read it where needed; or add the name to [special-args] allow in dendrite.toml"),
        );
    }
}

/// `specialArgs = { ... }`, `extraSpecialArgs = { ... }` and
/// `_module.args = { ... }` / `_module.args.<name> = ...` bindings of one
/// parsed file: (the binding's path, the name passed, where it is written).
pub(crate) fn special_args_in(
    root: &rnix::ast::Root,
    lines: &crate::diag::LineIndex,
    f: &FileInfo,
) -> Vec<(String, String, Location)> {
    use rnix::ast;
    use rowan::ast::AstNode;
    let mut found = Vec::new();
    for node in root.syntax().descendants() {
        let Some(apv) = ast::AttrpathValue::cast(node) else { continue };
        let Some(ap) = apv.attrpath() else { continue };
        let parts: Vec<String> =
            ap.attrs().map(|a| a.syntax().text().to_string().trim_matches('"').to_string()).collect();
        let n = parts.len();
        let (kind, names): (String, Vec<(String, rnix::TextRange)>) =
            if n >= 1 && matches!(parts[n - 1].as_str(), "specialArgs" | "extraSpecialArgs") {
                let Some(ast::Expr::AttrSet(set)) = apv.value() else { continue };
                (enclosing_path(&apv), set_names(&set))
            } else if n >= 2 && parts[n - 2] == "_module" && parts[n - 1] == "args" {
                let Some(ast::Expr::AttrSet(set)) = apv.value() else { continue };
                ("_module.args".into(), set_names(&set))
            } else if n >= 3 && parts[n - 3] == "_module" && parts[n - 2] == "args" {
                let r = ap.attrs().last().map(|a| a.syntax().text_range()).unwrap_or(ap.syntax().text_range());
                ("_module.args".into(), vec![(parts[n - 1].clone(), r)])
            } else {
                continue;
            };
        // perSystem's `_module.args.pkgs` is how flake-parts configures nixpkgs.
        if kind == "_module.args" && in_per_system(apv.syntax()) {
            continue;
        }
        for (name, range) in names {
            let loc = lines.location(&f.path, &f.text, range.start().into(), range.len().into());
            found.push((kind.clone(), name, loc));
        }
    }
    found
}

/// `clan.specialArgs` for `clan = { specialArgs = ...; }`: the binding's
/// path through the attribute sets around it, up to the enclosing function.
fn enclosing_path(apv: &rnix::ast::AttrpathValue) -> String {
    use rnix::ast;
    use rowan::ast::AstNode;
    let text = |p: Option<ast::Attrpath>| -> Vec<String> {
        p.map(|p| p.attrs().map(|a| a.syntax().text().to_string().trim_matches('"').to_string()).collect())
            .unwrap_or_default()
    };
    let mut parts = text(apv.attrpath());
    for node in apv.syntax().ancestors().skip(1) {
        if node.kind() == rnix::SyntaxKind::NODE_LAMBDA {
            break;
        }
        if let Some(outer) = ast::AttrpathValue::cast(node) {
            let mut p = text(outer.attrpath());
            p.extend(parts);
            parts = p;
        }
    }
    parts.join(".")
}

fn set_names(set: &rnix::ast::AttrSet) -> Vec<(String, rnix::TextRange)> {
    use rnix::ast::{self, HasEntry};
    use rowan::ast::AstNode;
    let mut out = Vec::new();
    for e in set.entries() {
        match e {
            ast::Entry::AttrpathValue(apv) => {
                if let Some(a) = apv.attrpath().and_then(|p| p.attrs().next()) {
                    out.push((a.syntax().text().to_string().trim_matches('"').to_string(), a.syntax().text_range()));
                }
            }
            ast::Entry::Inherit(i) => {
                for a in i.attrs() {
                    out.push((a.syntax().text().to_string().trim_matches('"').to_string(), a.syntax().text_range()));
                }
            }
        }
    }
    out
}

fn in_per_system(node: &rnix::SyntaxNode) -> bool {
    use rnix::ast;
    use rowan::ast::AstNode;
    node.ancestors()
        .filter_map(ast::AttrpathValue::cast)
        .any(|apv| apv.attrpath().is_some_and(|p| p.attrs().any(|a| a.syntax().text() == "perSystem")))
}

/// clan-core's service modules (the directory names of `clanServices/`).
/// The model carries the interfaces of some; an instance of one it does
/// not carry is unknown to dendrite, not a mistake.
pub const UPSTREAM_SERVICES: &[&str] = &[
    "admin",
    "borgbackup",
    "certificates",
    "coredns",
    "data-mesher",
    "dm-dns",
    "dyndns",
    "emergency-access",
    "garage",
    "hello-world",
    "importer",
    "installer",
    "internet",
    "kde",
    "localbackup",
    "matrix-synapse",
    "monitoring",
    "mycelium",
    "ncps",
    "p2p-ssh-iroh",
    "packages",
    "pki",
    "sshd",
    "syncthing",
    "tor",
    "trusted-nix-caches",
    "users",
    "wifi",
    "wireguard",
    "yggdrasil",
    "zerotier",
];

/// Reads a value, `None` when it is unknown or fails (failures of the
/// model's own data are not the user's).
fn get(ev: &mut Evaluator, v: &Value, path: &[&str]) -> Option<Value> {
    let mut cur = v.clone();
    for p in path {
        cur = ev.attr_of(&cur, p).ok()??;
    }
    ev.force(&cur).ok()
}

fn strings(ev: &mut Evaluator, v: &Value) -> Vec<String> {
    let Ok(l) = ev.expect_list(v) else { return Vec::new() };
    l.iter()
        .filter_map(|x| match ev.force(x) {
            Ok(Value::String(s)) => Some(s.to_str_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

fn names(ev: &mut Evaluator, v: &Value) -> Vec<String> {
    match ev.force(v) {
        Ok(Value::Attrs(a)) => a.iter().map(|x| x.name.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn as_bool(ev: &mut Evaluator, v: Option<Value>) -> Option<bool> {
    match v.map(|v| ev.force(&v)) {
        Some(Ok(Value::Bool(b))) => Some(b),
        _ => None,
    }
}

fn as_str(ev: &mut Evaluator, v: Option<Value>) -> Option<String> {
    match v.map(|v| ev.force(&v)) {
        Some(Ok(Value::String(s))) => Some(s.to_str_lossy().into_owned()),
        _ => None,
    }
}

/// The clan rules: D401, D501, D502 from the model's data.
pub fn clan(ev: &mut Evaluator, cx: &mut Ctx, outputs: &Outputs, _machines: &[Machine]) {
    let Some(data) = crate::walk::clan_data(ev, outputs) else { return };
    let Ok(data) = ev.force(&data) else { return };
    let inventory_machines = get(ev, &data, &["machines"]).map(|m| names(ev, &m)).unwrap_or_default();
    let mut tags: BTreeSet<String> =
        get(ev, &data, &["tags"]).map(|t| names(ev, &t)).unwrap_or_default().into_iter().collect();
    for m in &inventory_machines {
        if let Some(t) = get(ev, &data, &["machines", m, "tags"]) {
            tags.extend(strings(ev, &t));
        }
    }
    // D401: in the inventory, but nothing configures it.
    for m in &inventory_machines {
        let Some(md) = get(ev, &data, &["machines", m]) else { continue };
        let origins = get(ev, &md, &["origins"]);
        let registered = origins.as_ref().and_then(|o| {
            let a = ev.attr_of(o, "clanMachines").ok().flatten();
            as_bool(ev, a)
        });
        let from_dir = origins.as_ref().and_then(|o| {
            let a = ev.attr_of(o, "machinesDir").ok().flatten();
            as_bool(ev, a)
        });
        if registered == Some(false) && from_dir == Some(false) {
            let loc = cx.scan.locate(&["inventory", "machines", m]);
            cx.diags.push(
                Diagnostic::new(
                    "D401",
                    format!("machine `{m}` is in the clan inventory but has no configuration (`clan.machines.{m}` or machines/{m}/)"),
                    loc,
                )
                .help(format!("register its module: `clan.machines.{m}.imports = [ config.flake.modules.<class>.\"machines/.../{m}\" ];`")),
            );
        }
        // The reverse: registered in `clan.machines` only. clan adds such a
        // machine to the inventory itself (class nixos, no tags), so it gets
        // no services and a darwin machine the wrong builder; the usual cause
        // is a rename or a deletion done in one half of the registry only.
        let flag = |ev: &mut Evaluator, name: &str| {
            let a = origins.as_ref().and_then(|o| ev.attr_of(o, name).ok().flatten());
            as_bool(ev, a)
        };
        let (in_inventory, in_json) = (flag(ev, "inventory"), flag(ev, "inventoryJson"));
        if registered == Some(true) && in_inventory == Some(false) && in_json != Some(true) {
            let loc = cx.scan.within(&["clan", "machines", m]).or_else(|| cx.scan.locate(&["machines", m]));
            cx.diags.push(
                Diagnostic::new(
                    "D401",
                    format!("machine `{m}` is registered in `clan.machines` but not in the clan inventory"),
                    loc,
                )
                .help(format!("add `clan.inventory.machines.{m} = {{ machineClass = \"...\"; tags = [ ... ]; }};`, or remove the registration")),
            );
        }
    }
    // D401: machine modules exported but registered nowhere.
    let registered_refs: BTreeSet<String> =
        cx.scan.refs.iter().filter_map(|r| r.key.clone()).filter(|k| k.starts_with("machines/")).collect();
    let mut seen = BTreeSet::new();
    let defs: Vec<scan::NsDef> = cx.scan.defs.clone();
    for def in defs {
        if def.key.starts_with("machines/") && !registered_refs.contains(&def.key) && seen.insert(def.key.clone()) {
            let name = def.key.rsplit('/').next().unwrap_or(&def.key).to_string();
            cx.diags.push(
                Diagnostic::new(
                    "D401",
                    format!("machine module `{}` is exported but no clan machine imports it", def.key),
                    Some(def.location.clone()),
                )
                .help(format!(
                    "register it: `clan.machines.{name}.imports = [ config.flake.modules.{}.\"{}\" ];`",
                    def.class, def.key
                )),
            );
        }
    }
    // Instances.
    let Some(instances) = get(ev, &data, &["instances"]) else { return };
    for inst in names(ev, &instances) {
        let Some(idata) = get(ev, &instances, &[&inst]) else { continue };
        let status = get(ev, &idata, &["service", "status"]).and_then(|v| as_str(ev, Some(v))).unwrap_or_default();
        let module_name = get(ev, &idata, &["module", "name"]).and_then(|v| as_str(ev, Some(v))).unwrap_or_default();
        let source = get(ev, &idata, &["service", "source"]).and_then(|v| as_str(ev, Some(v))).unwrap_or_default();
        match status.as_str() {
            "ok" => {}
            "unknown-module" => {
                if source == "clan-core" && UPSTREAM_SERVICES.contains(&module_name.as_str()) {
                    continue;
                }
                let available = get(ev, &idata, &["service", "available"]).map(|v| strings(ev, &v)).unwrap_or_default();
                let mut candidates: Vec<&str> = available.iter().map(String::as_str).collect();
                if source == "clan-core" {
                    candidates.extend(UPSTREAM_SERVICES);
                }
                let loc = cx.scan.locate(&["instances", &inst, "module", "name"]);
                let mut d = Diagnostic::new(
                    "D501",
                    format!("instance `{inst}` uses service module `{module_name}`, which {source} does not provide"),
                    loc,
                );
                if let Some(h) = did_you_mean(&module_name, candidates.into_iter()) {
                    d = d.help(h);
                }
                cx.diags.push(d);
                continue;
            }
            "unknown-input" => {
                let input = get(ev, &idata, &["module", "input"]).and_then(|v| as_str(ev, Some(v))).unwrap_or_default();
                let loc = cx.scan.locate(&["instances", &inst, "module", "input"]);
                cx.diags.push(
                    Diagnostic::new(
                        "D501",
                        format!(
                            "instance `{inst}` takes its module from `{input}`, which is not an input of this flake"
                        ),
                        loc,
                    )
                    .help("add the input to flake.nix, or fix `module.input`"),
                );
                continue;
            }
            _ => continue,
        }
        let roles_avail = get(ev, &idata, &["service", "roles"]).map(|v| strings(ev, &v)).unwrap_or_default();
        let Some(roles) = get(ev, &idata, &["roles"]) else { continue };
        for role in names(ev, &roles) {
            let Some(rdata) = get(ev, &roles, &[&role]) else { continue };
            let known = get(ev, &rdata, &["known"]);
            if as_bool(ev, known) == Some(false) {
                let loc = cx.scan.locate(&["instances", &inst, "roles", &role]);
                let mut d = Diagnostic::new(
                    "D501",
                    format!("service `{module_name}` has no role `{role}` (instance `{inst}`)"),
                    loc,
                );
                d = d.help(
                    did_you_mean(&role, roles_avail.iter().map(String::as_str))
                        .unwrap_or_else(|| format!("roles of `{module_name}`: {}", roles_avail.join(", "))),
                );
                cx.diags.push(d);
                continue;
            }
            for m in get(ev, &rdata, &["unknownMachines"]).map(|v| strings(ev, &v)).unwrap_or_default() {
                let loc = cx.scan.locate(&["instances", &inst, "roles", &role, "machines", &m]);
                let mut d = Diagnostic::new(
                    "D501",
                    format!("role `{role}` of instance `{inst}` names machine `{m}`, which is not in the inventory"),
                    loc,
                );
                d = d.help(
                    did_you_mean(&m, inventory_machines.iter().map(String::as_str))
                        .unwrap_or_else(|| "add it to `clan.inventory.machines` or fix the name".into()),
                );
                cx.diags.push(d);
            }
            for t in get(ev, &rdata, &["unknownTags"]).map(|v| strings(ev, &v)).unwrap_or_default() {
                // clan computes these for every clan, even one without machines.
                if matches!(t.as_str(), "all" | "nixos" | "darwin") {
                    continue;
                }
                let loc = cx.scan.locate(&["instances", &inst, "roles", &role, "tags", &t]);
                let mut d = Diagnostic::new(
                    "D501",
                    format!("role `{role}` of instance `{inst}` names tag `{t}`, which no machine has"),
                    loc,
                );
                d = d.help(
                    did_you_mean(&t, tags.iter().map(String::as_str))
                        .unwrap_or_else(|| "tag a machine with it in `clan.inventory.machines.<name>.tags`".into()),
                );
                cx.diags.push(d);
            }
            // D502: settings against the role's interface.
            let mut evals = Vec::new();
            if let Some(st) = get(ev, &rdata, &["settings"])
                && !matches!(st, Value::Null)
            {
                evals.push(st);
            }
            if let Some(pm) = get(ev, &rdata, &["perMachine"]) {
                for m in names(ev, &pm) {
                    if let Some(x) = get(ev, &pm, &[&m]) {
                        evals.push(x);
                    }
                }
            }
            for st in evals {
                let Some(checks) = get(ev, &st, &["checks"]) else { continue };
                let Ok(list) = ev.expect_list(&checks) else { continue };
                for c in list.iter() {
                    let Some(check) = ev.attr_of(c, "check").ok().flatten() else { continue };
                    if let Err(e) = ev.force(&check) {
                        let context = format!("the settings of role `{role}` of instance `{inst}`");
                        if let Some(mut d) = from_error(cx, &e, &context) {
                            if d.code == "D601" || d.code == "D002" {
                                d.code = "D502";
                                d.severity = crate::diag::rule("D502").map(|r| r.default).unwrap_or(d.severity);
                                d.help = Some(format!(
                                    "the settings of role `{role}` of `{module_name}` are checked against its interface; see the service's documentation"
                                ));
                            }
                            cx.diags.push(d);
                        }
                    }
                }
            }
        }
    }
}

/// The misspelled string inside a generator's `dependencies` list.
fn dependency_location(cx: &Ctx, generator: &str, dep: &str) -> Option<Location> {
    let suffix = [Some("generators"), Some(generator), Some("dependencies")];
    for b in cx.scan.ending_with(&suffix) {
        let Ok(text) = std::fs::read_to_string(&b.location.path) else { continue };
        let (a, z) = (b.value.0 as usize, (b.value.1 as usize).min(text.len()));
        if let Some(i) = text.get(a..z).and_then(|v| v.find(&format!("\"{dep}\""))) {
            return Some(Location::line_of(&b.location.path, &text, a + i, dep.len() + 2));
        }
    }
    cx.scan.locate(&["generators", generator, "dependencies"])
}

/// D503: vars generators depending on generators the machine does not have.
pub fn vars(ev: &mut Evaluator, cx: &mut Ctx, machines: &[&Machine]) {
    let span = cx.span;
    let mut reported = BTreeSet::new();
    for m in machines {
        let gens = (|| {
            let r = ev.force(&m.eval).ok()?;
            let c = ev.select_str(&r, "config", span).ok()?;
            get(ev, &c, &["clan", "core", "vars", "generators"])
        })();
        let Some(gens) = gens else { continue };
        let all = names(ev, &gens);
        for g in &all {
            let Some(deps) = get(ev, &gens, &[g, "dependencies"]) else { continue };
            for dep in strings(ev, &deps) {
                if all.contains(&dep) || !reported.insert((g.clone(), dep.clone())) {
                    continue;
                }
                let loc = dependency_location(cx, g, &dep);
                let mut d = Diagnostic::new(
                    "D503",
                    format!("vars generator `{g}` depends on `{dep}`, which machine `{}` does not have", m.name),
                    loc,
                );
                d = d.help(
                    did_you_mean(&dep, all.iter().map(String::as_str))
                        .unwrap_or_else(|| "define that generator on the machine, or drop the dependency".into()),
                );
                cx.diags.push(d);
            }
        }
    }
}

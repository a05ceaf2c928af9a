//! `dendrite eval` and the `nix-instantiate` personality.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use dendrite_eval::error::ErrorKind;
use dendrite_eval::eval::SYMS;
use dendrite_eval::value::{Attr, Attrs, Value};
use dendrite_eval::{EvalError, EvalSettings, Evaluator, SearchPathEntry};
use dendrite_syntax::{Origin, RootDatabase, Span, Symbol};

/// A `--arg` / `--argstr` value.
#[derive(Clone, Debug)]
pub enum AutoArg {
    /// `--arg name expr`
    Expr(String),
    /// `--argstr name value`
    Str(String),
}

/// Everything `nix-instantiate` / `dendrite eval` can be asked.
#[derive(Clone, Debug, Default)]
pub struct InstantiateOpts {
    /// Files (or expressions with `-E`); `-` is standard input.
    pub inputs: Vec<String>,
    /// Inputs are expressions.
    pub expr_mode: bool,
    /// `--eval`: print values instead of instantiating derivations.
    pub eval: bool,
    /// `--parse`: only parse.
    pub parse: bool,
    /// `--strict`.
    pub strict: bool,
    /// `--json`.
    pub json: bool,
    /// `--xml`.
    pub xml: bool,
    /// `--no-location` (XML output without positions).
    pub no_location: bool,
    /// `-A` attribute paths.
    pub attr_paths: Vec<String>,
    /// `--arg`/`--argstr`.
    pub auto_args: Vec<(String, AutoArg)>,
    /// `--show-trace`.
    pub show_trace: bool,
    /// `-I` entries.
    pub include: Vec<String>,
    /// `--option NAME VALUE`.
    pub options: Vec<(String, String)>,
    /// `--timeout SECONDS`.
    pub timeout: Option<u64>,
    /// `--trace-verbose`.
    pub trace_verbose: bool,
    /// `--abort-on-warn`.
    pub abort_on_warn: bool,
    /// `--pure-eval`.
    pub pure_eval: bool,
    /// `--extra-experimental-features` / `--experimental-features` values.
    pub features: Vec<String>,
    /// Print errors exactly as Nix does (no miette snippet).
    pub nix_style_errors: bool,
}

/// Runs the request; returns the process exit code.
pub fn run(opts: InstantiateOpts) -> i32 {
    if let Some(secs) = opts.timeout.filter(|s| *s > 0) {
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(secs));
            eprintln!("error: evaluation timed out after {secs} seconds");
            std::process::exit(1);
        });
    }
    crate::enable_prefetch();
    dendrite_eval::run_with_stack(move || {
        let code = run_inner(&opts);
        crate::exit_now(code)
    })
}

fn settings(opts: &InstantiateOpts) -> EvalSettings {
    let mut s = EvalSettings::from_env();
    let mut include: Vec<SearchPathEntry> = opts.include.iter().map(|i| SearchPathEntry::parse(i)).collect();
    include.append(&mut s.search_path);
    s.search_path = include;
    s.show_trace = opts.show_trace;
    s.trace_verbose = opts.trace_verbose;
    s.abort_on_warn |= opts.abort_on_warn;
    s.pure_eval = opts.pure_eval;
    for (name, value) in &opts.options {
        apply_setting(&mut s, name, value);
    }
    for f in &opts.features {
        apply_setting(&mut s, "extra-experimental-features", f);
    }
    s
}

/// Applies one Nix setting (`--option NAME VALUE` or `--NAME VALUE`).
pub fn apply_setting(s: &mut EvalSettings, name: &str, value: &str) {
    let on = value == "true" || value == "1";
    let lint = |v: &str| dendrite_eval::settings::LintLevel::parse(v);
    match name {
        "abort-on-warn" => s.abort_on_warn = on,
        "pure-eval" => s.pure_eval = on,
        "impure" => s.pure_eval = !on,
        "show-trace" => s.show_trace = on,
        "trace-verbose" => s.trace_verbose = on,
        "store" | "store-dir" => s.store_dir = value.to_string(),
        "max-call-depth" => {
            if let Ok(n) = value.parse() {
                s.max_call_depth = n;
            }
        }
        "lint-url-literals" => s.lint_url_literals = lint(value).unwrap_or(s.lint_url_literals),
        "lint-absolute-path-literals" => {
            s.lint_absolute_path_literals = lint(value).unwrap_or(s.lint_absolute_path_literals)
        }
        "lint-short-path-literals" => s.lint_short_path_literals = lint(value).unwrap_or(s.lint_short_path_literals),
        "extra-experimental-features" | "experimental-features" => {
            for f in value.split_whitespace() {
                if f == "no-url-literals" {
                    s.lint_url_literals = dendrite_eval::settings::LintLevel::Fatal;
                }
                if !s.experimental_features.iter().any(|x| x == f) {
                    s.experimental_features.push(f.to_string());
                }
            }
        }
        _ => {}
    }
}

/// Settings that take a value when given as `--NAME VALUE`.
pub const VALUED_SETTINGS: &[&str] = &[
    "lint-url-literals",
    "lint-absolute-path-literals",
    "lint-short-path-literals",
    "max-call-depth",
    "store",
    "eval-system",
    "system",
    "nix-path",
    "allowed-uris",
    "restrict-eval",
];

fn report(ev: &Evaluator, opts: &InstantiateOpts, e: &EvalError) {
    let show_trace = opts.show_trace || ev.settings.show_trace;
    let mut text = e.render(show_trace);
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        text = dendrite_eval::error::strip_ansi(&text);
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
    if !opts.nix_style_errors
        && let Some(span) = e.span()
    {
        let _ = writeln!(stderr, "{}", crate::report::miette_snippet(span, e.message()));
    }
}

fn run_inner(opts: &InstantiateOpts) -> i32 {
    let db = RootDatabase::for_evaluation();
    let mut ev = Evaluator::new(db, settings(opts));
    dendrite_modules::install(&mut ev);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));

    let mut inputs = opts.inputs.clone();
    if inputs.is_empty() {
        inputs.push(if opts.expr_mode { String::new() } else { "./default.nix".to_string() });
    }
    if opts.expr_mode && opts.inputs.is_empty() {
        eprintln!("error: no expression given with -E");
        return 1;
    }

    for input in &inputs {
        let loaded = if opts.expr_mode {
            Ok((ev.db.virtual_file(Origin::String(cwd.clone()), Arc::from(input.as_str())), None))
        } else if input == "-" {
            let mut bytes = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut bytes);
            let text = dendrite_syntax::source::decode(&bytes);
            Ok((ev.db.virtual_file(Origin::Stdin(cwd.clone()), Arc::from(text.as_str())), None))
        } else {
            let mut path = if Path::new(input).is_absolute() { PathBuf::from(input) } else { cwd.join(input) };
            path = PathBuf::from(dendrite_syntax::lower::canon_path(&path.to_string_lossy()));
            if path.is_dir() {
                path.push("default.nix");
            }
            match ev.db.file(&path) {
                Ok(f) => Ok((f, Some(path))),
                Err(e) => {
                    Err(format!("getting status of '{}': {}", path.display(), dendrite_eval::eval::io_message(&e)))
                }
            }
        };
        let (file, path) = match loaded {
            Ok(x) => x,
            Err(msg) => {
                eprintln!("error: {msg}");
                return 1;
            }
        };
        let lowered = dendrite_syntax::lower_file(&ev.db, file).clone();
        if opts.parse {
            if let Err(e) = ev.check_static(&lowered) {
                report(&ev, opts, &e);
                return 1;
            }
            println!("{}", crate::show::show_expr(&lowered.lowered.root));
            continue;
        }
        let result = ev.eval_lowered(&lowered).and_then(|root| {
            if let Some(p) = &path {
                let _ = p;
            }
            process_root(&mut ev, opts, root)
        });
        for (n, pos) in ev.profile_report() {
            eprintln!("profile: {n:>10} calls  {pos}");
        }
        if let Err(e) = result {
            report(&ev, opts, &e);
            return 1;
        }
    }
    0
}

fn auto_args(ev: &mut Evaluator, opts: &InstantiateOpts) -> Result<Rc<Attrs>, EvalError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let mut entries = Vec::new();
    for (name, arg) in &opts.auto_args {
        let v = match arg {
            AutoArg::Str(s) => Value::string(s.clone()),
            AutoArg::Expr(e) => ev.eval_string(e, Origin::String(cwd.clone()))?,
        };
        entries.push(Attr::new(Symbol::new(name), v));
    }
    Ok(Rc::new(Attrs::from_unsorted(entries)))
}

/// Nix's `autoCallFunction`: calls a function with formals using `--arg`s.
fn auto_call(ev: &mut Evaluator, v: Value, args: &Rc<Attrs>, span: Span) -> Result<Value, EvalError> {
    let v = ev.force(&v)?;
    match &v {
        Value::Attrs(a) if a.get(SYMS.functor).is_some() => {
            let f = ev.force(&a.get(SYMS.functor).cloned().unwrap_or(Value::Null))?;
            let partial = ev.call(f, v.clone(), span)?;
            auto_call(ev, partial, args, span)
        }
        Value::Lambda(c) => match &c.lambda.param {
            dendrite_syntax::ir::Param::Formals { formals, ellipsis, .. } => {
                let mut entries = Vec::new();
                if *ellipsis {
                    entries.extend(args.iter().cloned());
                } else {
                    for f in formals.iter() {
                        if let Some(a) = args.get_attr(f.name) {
                            entries.push(a.clone());
                        } else if f.default.is_none() {
                            return Err(EvalError::new(
                                ErrorKind::Eval,
                                format!(
                                    "cannot evaluate a function that has an argument without a value ('{}')",
                                    f.name
                                ),
                            )
                            .with_hint(
                                "Nix attempted to evaluate a function as a top level expression; in this case it must have its arguments supplied either by default values, or passed explicitly with '--arg' or '--argstr'. See https://nix.dev/manual/nix/stable/language/syntax.html#functions.",
                            ));
                        }
                    }
                }
                let arg = Value::Attrs(Rc::new(Attrs::from_unsorted(entries)));
                ev.call(v.clone(), arg, span)
            }
            _ => Ok(v),
        },
        _ => Ok(v),
    }
}

fn select_path(ev: &mut Evaluator, mut v: Value, path: &str, args: &Rc<Attrs>, span: Span) -> Result<Value, EvalError> {
    let components = split_attr_path(path);
    for c in components {
        v = auto_call(ev, v, args, span)?;
        v = ev.force(&v)?;
        if let Ok(i) = c.parse::<usize>()
            && let Value::List(l) = &v
        {
            let item = l.get(i).cloned().ok_or_else(|| {
                EvalError::new(ErrorKind::Eval, format!("list index {i} in selection path '{path}' is out of range"))
            })?;
            v = item;
            continue;
        }
        match &v {
            Value::Attrs(a) => match a.get(Symbol::new(&c)) {
                Some(x) => v = x.clone(),
                None => {
                    return Err(EvalError::new(
                        ErrorKind::MissingAttribute,
                        format!("attribute '{c}' in selection path '{path}' not found"),
                    ));
                }
            },
            other => {
                return Err(EvalError::new(
                    ErrorKind::Type,
                    format!(
                        "the expression selected by the selection path '{path}' should be a set but is {}",
                        other.type_of()
                    ),
                ));
            }
        }
    }
    Ok(v)
}

fn split_attr_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in path.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if !cur.is_empty() || !out.is_empty() {
        out.push(cur);
    }
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

fn process_root(ev: &mut Evaluator, opts: &InstantiateOpts, root: Value) -> Result<(), EvalError> {
    let args = auto_args(ev, opts)?;
    let span = root_span();
    let paths: Vec<String> = if opts.attr_paths.is_empty() { vec![String::new()] } else { opts.attr_paths.clone() };
    for p in paths {
        let v = select_path(ev, root.clone(), &p, &args, span)?;
        // `nix-instantiate --eval` calls the result only when given
        // arguments: `{ a ? 1 }: a` prints `<LAMBDA>`, with `--arg x 0` `1`.
        let v = if opts.eval && args.is_empty() { v } else { auto_call(ev, v, &args, span)? };
        if opts.eval {
            print_value(ev, opts, &v)?;
        } else {
            instantiate(ev, &v)?;
        }
    }
    Ok(())
}

fn root_span() -> Span {
    let file = dendrite_syntax::FileId::register(Origin::Builtin("«command line»".into()), Arc::from(""));
    Span { file, start: 0, end: 0 }
}

fn print_value(ev: &mut Evaluator, opts: &InstantiateOpts, v: &Value) -> Result<(), EvalError> {
    let out = if opts.json {
        let v = if opts.strict { ev.deep_force(v)? } else { ev.force(v)? };
        let mut bytes = Vec::new();
        let mut ctx = Default::default();
        dendrite_eval::json::value_to_json(ev, &v, &mut bytes, &mut ctx, root_span())?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else if opts.xml {
        let v = if opts.strict { ev.deep_force(v)? } else { ev.force(v)? };
        dendrite_eval::xml::to_xml(ev, &v, !opts.no_location)?
    } else if opts.strict {
        dendrite_eval::print::print_strict(ev, v)?
    } else {
        let v = ev.force(v)?;
        dendrite_eval::print::print_ambiguous(&v)
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{out}");
    Ok(())
}

/// Without `--eval`: print the `.drv` paths of the derivations found.
fn instantiate(ev: &mut Evaluator, v: &Value) -> Result<(), EvalError> {
    let v = ev.force(v)?;
    let mut drvs = Vec::new();
    collect_derivations(ev, &v, &mut drvs, 0)?;
    let mut stdout = std::io::stdout().lock();
    for d in drvs {
        let _ = writeln!(stdout, "{d}");
    }
    Ok(())
}

fn collect_derivations(ev: &mut Evaluator, v: &Value, out: &mut Vec<String>, depth: usize) -> Result<(), EvalError> {
    let v = ev.force(v)?;
    match &v {
        Value::Attrs(a) => {
            if ev.is_derivation(a)? {
                let drv = a
                    .get(SYMS.drv_path)
                    .cloned()
                    .ok_or_else(|| EvalError::new(ErrorKind::MissingAttribute, "attribute 'drvPath' missing"))?;
                let s = ev.coerce_to_string(&drv, dendrite_eval::eval::Coerce::PLAIN, root_span())?;
                let s = s.to_str_lossy().into_owned();
                let store = ev.settings.store_dir.clone();
                let base = s.strip_prefix(&format!("{store}/")).unwrap_or(&s).to_string();
                if !base.ends_with(".drv") {
                    return Err(EvalError::new(
                        ErrorKind::Eval,
                        format!("store path '{base}' is not a valid derivation path"),
                    ));
                }
                out.push(s);
                return Ok(());
            }
            if depth == 0 {
                for attr in a.iter() {
                    collect_derivations(ev, &attr.value, out, depth + 1)?;
                }
            }
        }
        Value::List(l) => {
            for item in l.iter() {
                collect_derivations(ev, item, out, depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

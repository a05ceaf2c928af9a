//! File system builtins: `readFile`, `readDir`, `pathExists`, `readFileType`, `toPath`.

use std::path::Path;
use std::rc::Rc;

use dendrite_syntax::{Span, Symbol};

use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::{Coerce, Evaluator, io_message};
use crate::store::file_type_name;
use crate::value::*;

pub(crate) const OPS: &[PrimOp] = &[
    PrimOp { name: "readFile", arity: 1, func: read_file },
    PrimOp { name: "readDir", arity: 1, func: read_dir },
    PrimOp { name: "pathExists", arity: 1, func: path_exists },
    PrimOp { name: "readFileType", arity: 1, func: read_file_type },
    PrimOp { name: "toPath", arity: 1, func: to_path },
];

/// Where the files Nix provides under `<nix/...>` (its "corepkgs") live:
/// a virtual directory served from the binary.
pub const COREPKGS_DIR: &str = "/__corepkgs__";

/// `<nix/fetchurl.nix>`: a fixed-output derivation using Nix's builtin
/// fetcher (dendrite never builds it; evaluating it yields its paths).
const FETCHURL_NIX: &str = r#"
{ system ? "", url, hash ? "", sha256 ? "", sha1 ? "", sha512 ? "", outputHash ? "",
  outputHashAlgo ? "", executable ? false, unpack ? false,
  name ? baseNameOf (toString url), impure ? false }:
let
  chosen =
    if hash != "" then { outputHash = hash; outputHashAlgo = null; }
    else if sha512 != "" then { outputHash = sha512; outputHashAlgo = "sha512"; }
    else if sha256 != "" then { outputHash = sha256; outputHashAlgo = "sha256"; }
    else if sha1 != "" then { outputHash = sha1; outputHashAlgo = "sha1"; }
    else { inherit outputHash outputHashAlgo; };
in
derivation ({
  builder = "builtin:fetchurl";
  system = "builtin";
  outputHashMode = if unpack || executable then "recursive" else "flat";
  inherit name url executable unpack;
  urls = [ url ];
  preferLocalBuild = true;
  impureEnvVars = [ "http_proxy" "https_proxy" "ftp_proxy" "all_proxy" "no_proxy" ];
} // (if impure then { __impure = true; } else chosen))
"#;

thread_local! {
    /// Files `builtins.toFile` added to the (virtual) store: dendrite writes
    /// nothing to disk, so importing or reading them is served from here.
    static WRITTEN: std::cell::RefCell<rustc_hash::FxHashMap<String, Rc<[u8]>>> = Default::default();
}

/// Remembers the contents of a store path made by `toFile`.
pub(crate) fn remember_written(path: &str, contents: &[u8]) {
    WRITTEN.with(|w| {
        w.borrow_mut().entry(path.to_string()).or_insert_with(|| Rc::from(contents));
    });
}

/// The contents of a file that exists only in dendrite: a corepkg or a
/// `toFile` result.
pub fn virtual_source(path: &str) -> Option<Rc<[u8]>> {
    if let Some(text) = corepkg_source(path) {
        return Some(Rc::from(text.as_bytes()));
    }
    WRITTEN.with(|w| w.borrow().get(path).cloned())
}

/// The path of a corepkg (`fetchurl.nix`), if dendrite provides it.
pub fn corepkg(name: &str) -> Option<String> {
    corepkg_source(&format!("{COREPKGS_DIR}/{name}")).map(|_| format!("{COREPKGS_DIR}/{name}"))
}

/// The source text of a corepkg path.
pub fn corepkg_source(path: &str) -> Option<&'static str> {
    match path.strip_prefix(COREPKGS_DIR)? {
        "/fetchurl.nix" => Some(FETCHURL_NIX),
        _ => None,
    }
}

fn path_arg(ev: &mut Evaluator, v: &Value, span: Span, name: &str) -> EvalResult<std::path::PathBuf> {
    ev.coerce_to_path(v, span)
        .map_err(|e| e.context(format!("while evaluating the first argument passed to builtins.{name}"), None))
}

fn read_file(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let path = path_arg(ev, &args[0], span, "readFile")?;
    let data = match virtual_source(&path.to_string_lossy()) {
        Some(v) => v.to_vec(),
        None => std::fs::read(&path).map_err(|e| {
            EvalError::at(ErrorKind::Io, format!("opening file '{}': {}", path.display(), io_message(&e)), span)
        })?,
    };
    if data.contains(&0) {
        return Err(EvalError::at(
            ErrorKind::Eval,
            format!("the contents of the file '{}' cannot be represented as a Nix string", path.display()),
            span,
        ));
    }
    Ok(Value::String(NixString::new(data)))
}

fn read_dir(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let path = path_arg(ev, &args[0], span, "readDir")?;
    let rd = std::fs::read_dir(&path).map_err(|e| {
        EvalError::at(ErrorKind::Io, format!("reading directory '{}': {}", path.display(), io_message(&e)), span)
    })?;
    let mut entries = Vec::new();
    let mut modules = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name();
        let path = e.path();
        // The listing already knows the type on most file systems.
        let kind = match e.file_type() {
            Ok(t) => crate::store::file_kind(t),
            Err(_) => file_type_name(&path),
        };
        if kind == "regular" && name.as_encoded_bytes().ends_with(b".nix") {
            modules.push(path);
        }
        entries.push(Attr::new(Symbol::from_bytes(name.as_encoded_bytes()), Value::string(kind)));
    }
    ev.db.prefetch(&modules);
    Ok(Value::attrs(entries))
}

fn path_exists(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let v = ev.force(&args[0])?;
    let s = match &v {
        Value::Path(p) => p.to_string(),
        _ => {
            let s = ev
                .coerce_to_string(&v, Coerce::PLAIN, span)
                .map_err(|e| e.context("while evaluating the first argument passed to builtins.pathExists", None))?;
            let s = s.to_str_lossy().into_owned();
            if !s.starts_with('/') {
                return Err(EvalError::at(
                    ErrorKind::Eval,
                    format!("string '{s}' doesn't represent an absolute path"),
                    span,
                ));
            }
            s
        }
    };
    // A trailing slash requires a directory, as with stat(2).
    let must_be_dir = s.ends_with('/') && s.len() > 1;
    let p = Path::new(&s);
    let exists =
        if must_be_dir { p.is_dir() } else { virtual_source(&s).is_some() || std::fs::symlink_metadata(p).is_ok() };
    Ok(Value::Bool(exists))
}

fn read_file_type(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let path = path_arg(ev, &args[0], span, "readFileType")?;
    if virtual_source(&path.to_string_lossy()).is_some() {
        return Ok(Value::string("regular"));
    }
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(EvalError::at(
            ErrorKind::Io,
            format!("getting status of '{}': No such file or directory", path.display()),
            span,
        ));
    }
    Ok(Value::string(file_type_name(&path)))
}

fn to_path(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let p = path_arg(ev, &args[0], span, "toPath")?;
    let canon = dendrite_syntax::lower::canon_path(&p.to_string_lossy());
    Ok(Value::String(NixString::from(canon)))
}

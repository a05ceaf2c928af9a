//! Derivations and the builtins that produce store paths:
//! `derivationStrict` (ATerm serialisation, `hashDerivationModulo`,
//! input-addressed, fixed-output and floating content-addressed outputs),
//! `placeholder`, `outputOf`, `storePath`, `toFile`, `path`, `filterSource`,
//! and the fetchers, which validate their arguments as Nix does and then
//! report that dendrite does not fetch.
//!
//! Nothing is written to disk: the derivations instantiated during an
//! evaluation are remembered in a per-thread table (drv path → derivation,
//! `toFile` path → references) that stands in for the store when a later
//! derivation depends on them; `toFile` contents are kept too, so that
//! importing or reading the file works. `.drv` files that exist on disk are
//! read as a fallback.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use dendrite_syntax::{Span, Symbol};
use rustc_hash::FxHashMap;

use crate::builtins::arg_ctx;
use crate::context::{CtxElem, check_no_ctx, force_string_no_ctx, is_store_path, single, without_span};
use crate::error::{ErrorKind, EvalError, EvalResult};
use crate::eval::{Coerce, Evaluator, SYMS, io_message};
use crate::hash::{Hash, HashAlgo};
use crate::json::value_to_json;
use crate::store::{base32_encode, hex, make_fixed_output_path, make_store_path, make_text_path, nar_hash, sha256};
use crate::value::*;

pub(crate) const OPS: &[PrimOp] = &[
    PrimOp { name: "derivationStrict", arity: 1, func: derivation_strict },
    PrimOp { name: "placeholder", arity: 1, func: placeholder },
    PrimOp { name: "outputOf", arity: 2, func: output_of },
    PrimOp { name: "storePath", arity: 1, func: store_path },
    PrimOp { name: "toFile", arity: 2, func: to_file },
    PrimOp { name: "path", arity: 1, func: path_builtin },
    PrimOp { name: "filterSource", arity: 2, func: filter_source },
    PrimOp { name: "fetchurl", arity: 1, func: fetchurl },
    PrimOp { name: "fetchTarball", arity: 1, func: fetch_tarball },
    PrimOp { name: "fetchGit", arity: 1, func: fetch_git },
    PrimOp { name: "fetchMercurial", arity: 1, func: fetch_mercurial },
    PrimOp { name: "fetchTree", arity: 1, func: fetch_tree },
    PrimOp { name: "getFlake", arity: 1, func: get_flake },
];

// ------------------------------------------------------------ derivations

/// One output of a derivation, as the ATerm stores it: the path (empty
/// when masked or not known statically), the method and algorithm
/// (`r:sha256`, `sha256`, `text:sha256`, or empty), and the hash (hex,
/// `impure`, or empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DrvOutput {
    /// The output path, if known.
    pub path: String,
    /// `<method prefix><algo>` for content-addressed outputs.
    pub hash_algo: String,
    /// Base-16 hash of a fixed output, or `impure`.
    pub hash: String,
}

impl DrvOutput {
    fn is_fixed(&self) -> bool {
        !self.hash.is_empty() && self.hash != "impure"
    }
    fn is_impure(&self) -> bool {
        self.hash == "impure"
    }
    fn is_floating(&self) -> bool {
        !self.hash_algo.is_empty() && self.hash.is_empty()
    }
}

/// A store derivation (the contents of a `.drv` file).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Derivation {
    /// The derivation name (without `.drv`).
    pub name: String,
    /// Outputs by name.
    pub outputs: BTreeMap<String, DrvOutput>,
    /// Input derivations and the outputs used from each.
    pub input_drvs: BTreeMap<String, BTreeSet<String>>,
    /// Input sources (plain store paths).
    pub input_srcs: BTreeSet<String>,
    /// The `system`.
    pub platform: Vec<u8>,
    /// The builder.
    pub builder: Vec<u8>,
    /// Builder arguments.
    pub args: Vec<Vec<u8>>,
    /// The environment.
    pub env: BTreeMap<Vec<u8>, Vec<u8>>,
}

fn aterm_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c => out.push(c),
        }
    }
    out.push(b'"');
}

fn aterm_strings<'a>(out: &mut Vec<u8>, items: impl IntoIterator<Item = &'a [u8]>) {
    out.push(b'[');
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        aterm_string(out, s);
    }
    out.push(b']');
}

impl Derivation {
    /// The ATerm serialisation. `mask_outputs` blanks the output paths;
    /// `input_drvs` replaces the input derivations (by their hashes modulo,
    /// for `hashDerivationModulo`).
    pub fn unparse(&self, mask_outputs: bool, input_drvs: Option<&BTreeMap<String, BTreeSet<String>>>) -> Vec<u8> {
        let mut s = Vec::with_capacity(1024);
        s.extend_from_slice(b"Derive([");
        for (i, (name, o)) in self.outputs.iter().enumerate() {
            if i > 0 {
                s.push(b',');
            }
            s.push(b'(');
            aterm_string(&mut s, name.as_bytes());
            s.push(b',');
            let path = if mask_outputs { "" } else { o.path.as_str() };
            aterm_string(&mut s, path.as_bytes());
            s.push(b',');
            aterm_string(&mut s, o.hash_algo.as_bytes());
            s.push(b',');
            aterm_string(&mut s, o.hash.as_bytes());
            s.push(b')');
        }
        s.extend_from_slice(b"],[");
        for (i, (drv, outs)) in input_drvs.unwrap_or(&self.input_drvs).iter().enumerate() {
            if i > 0 {
                s.push(b',');
            }
            s.push(b'(');
            aterm_string(&mut s, drv.as_bytes());
            s.push(b',');
            aterm_strings(&mut s, outs.iter().map(|o| o.as_bytes()));
            s.push(b')');
        }
        s.extend_from_slice(b"],");
        aterm_strings(&mut s, self.input_srcs.iter().map(|p| p.as_bytes()));
        s.push(b',');
        aterm_string(&mut s, &self.platform);
        s.push(b',');
        aterm_string(&mut s, &self.builder);
        s.push(b',');
        aterm_strings(&mut s, self.args.iter().map(|a| a.as_slice()));
        s.extend_from_slice(b",[");
        for (i, (k, v)) in self.env.iter().enumerate() {
            if i > 0 {
                s.push(b',');
            }
            s.push(b'(');
            aterm_string(&mut s, k);
            s.push(b',');
            aterm_string(&mut s, v);
            s.push(b')');
        }
        s.extend_from_slice(b"])");
        s
    }

    /// Parses the ATerm of a `.drv` file.
    pub fn parse(text: &[u8], name: &str) -> Result<Derivation, String> {
        let mut p = ATermParser { s: text, i: 0 };
        let mut drv = Derivation { name: name.to_string(), ..Derivation::default() };
        p.expect(b"Derive(")?;
        p.list(|p| {
            p.expect(b"(")?;
            let name = p.utf8()?;
            p.expect(b",")?;
            let path = p.utf8()?;
            p.expect(b",")?;
            let hash_algo = p.utf8()?;
            p.expect(b",")?;
            let hash = p.utf8()?;
            p.expect(b")")?;
            drv.outputs.insert(name, DrvOutput { path, hash_algo, hash });
            Ok(())
        })?;
        p.expect(b",")?;
        p.list(|p| {
            p.expect(b"(")?;
            let path = p.utf8()?;
            p.expect(b",")?;
            let mut outs = BTreeSet::new();
            p.list(|p| {
                outs.insert(p.utf8()?);
                Ok(())
            })?;
            p.expect(b")")?;
            drv.input_drvs.insert(path, outs);
            Ok(())
        })?;
        p.expect(b",")?;
        p.list(|p| {
            drv.input_srcs.insert(p.utf8()?);
            Ok(())
        })?;
        p.expect(b",")?;
        drv.platform = p.string()?;
        p.expect(b",")?;
        drv.builder = p.string()?;
        p.expect(b",")?;
        p.list(|p| {
            drv.args.push(p.string()?);
            Ok(())
        })?;
        p.expect(b",")?;
        p.list(|p| {
            p.expect(b"(")?;
            let k = p.string()?;
            p.expect(b",")?;
            let v = p.string()?;
            p.expect(b")")?;
            drv.env.insert(k, v);
            Ok(())
        })?;
        p.expect(b")")?;
        Ok(drv)
    }

    /// The store paths a `.drv` file refers to (sources and input drvs),
    /// sorted and without duplicates.
    pub fn references(&self) -> Vec<String> {
        let all: BTreeSet<&String> = self.input_srcs.iter().chain(self.input_drvs.keys()).collect();
        all.into_iter().cloned().collect()
    }
}

struct ATermParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl ATermParser<'_> {
    fn expect(&mut self, lit: &[u8]) -> Result<(), String> {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            Ok(())
        } else {
            Err(format!("expected string '{}' at offset {}", String::from_utf8_lossy(lit), self.i))
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, String> {
        self.expect(b"\"")?;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err("unterminated string".into());
            };
            self.i += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return Err("unterminated string".into());
                    };
                    self.i += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        e => e,
                    });
                }
                c => out.push(c),
            }
        }
    }

    fn utf8(&mut self) -> Result<String, String> {
        String::from_utf8(self.string()?).map_err(|_| "invalid UTF-8 in derivation".to_string())
    }

    fn list(&mut self, mut item: impl FnMut(&mut Self) -> Result<(), String>) -> Result<(), String> {
        self.expect(b"[")?;
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(format!("expected ',' or ']' at offset {}", self.i)),
            }
        }
    }
}

/// What the per-thread table keeps of a derivation: enough to stand in
/// for the store when later derivations depend on it.
struct DrvInfo {
    /// Output names and their static paths (empty when not known).
    outputs: BTreeMap<String, String>,
    /// Input sources and input derivations.
    refs: Vec<String>,
    /// Its `hashDerivationModulo` (unmasked).
    hash: DrvHash,
}

/// What the per-thread table knows about a store path.
#[derive(Clone)]
enum Known {
    /// A derivation instantiated (or read) during evaluation.
    Drv(Rc<DrvInfo>),
    /// A text file (`toFile`) and its references.
    Refs(Rc<[String]>),
}

thread_local! {
    static KNOWN: RefCell<FxHashMap<String, Known>> = RefCell::new(FxHashMap::default());
}

fn known(path: &str) -> Option<Known> {
    KNOWN.with(|k| k.borrow().get(path).cloned())
}

fn remember(path: String, what: Known) {
    KNOWN.with(|k| k.borrow_mut().insert(path, what));
}

fn remember_drv(ev: &mut Evaluator, drv_path: &str, drv: &Derivation) -> EvalResult<Rc<DrvInfo>> {
    let hash = hash_derivation_modulo(ev, drv, false)?;
    cache_hash(ev, drv_path, hash);
    let info = Rc::new(DrvInfo {
        outputs: drv.outputs.iter().map(|(n, o)| (n.clone(), o.path.clone())).collect(),
        refs: drv.references(),
        hash,
    });
    remember(drv_path.to_string(), Known::Drv(info.clone()));
    Ok(info)
}

/// Reads and parses a `.drv` file from disk.
pub fn read_derivation_file(drv_path: &str) -> EvalResult<Derivation> {
    let invalid = || EvalError::new(ErrorKind::Eval, format!("path '{drv_path}' is not valid"));
    let base = drv_path.rsplit('/').next().unwrap_or(drv_path);
    let name = base.get(33..).and_then(|n| n.strip_suffix(".drv")).ok_or_else(invalid)?;
    let text = std::fs::read(drv_path).map_err(|_| invalid())?;
    Derivation::parse(&text, name)
        .map_err(|m| EvalError::new(ErrorKind::Eval, format!("error parsing derivation '{drv_path}': {m}")))
}

/// What is known of the derivation at `drv_path`: one instantiated in this
/// thread, or a `.drv` file on disk.
fn drv_info(ev: &mut Evaluator, drv_path: &str) -> EvalResult<Rc<DrvInfo>> {
    if let Some(Known::Drv(d)) = known(drv_path) {
        return Ok(d);
    }
    let drv = read_derivation_file(drv_path)?;
    remember_drv(ev, drv_path, &drv)
}

fn references_of(ev: &mut Evaluator, path: &str) -> EvalResult<Vec<String>> {
    if path.ends_with(".drv") {
        return Ok(drv_info(ev, path)?.refs.clone());
    }
    Ok(match known(path) {
        Some(Known::Refs(r)) => r.to_vec(),
        _ => Vec::new(),
    })
}

/// The closure of a store path under the references the table knows.
fn closure(ev: &mut Evaluator, start: &str) -> EvalResult<BTreeSet<String>> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![start.to_string()];
    while let Some(p) = stack.pop() {
        if seen.contains(&p) {
            continue;
        }
        stack.extend(references_of(ev, &p)?);
        seen.insert(p);
    }
    Ok(seen)
}

/// The result of `hashDerivationModulo`: one hash shared by all outputs
/// (fixed-output derivations have only `out`), and whether output paths
/// are deferred (floating content-addressed or impure inputs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DrvHash {
    hash: [u8; 32],
    deferred: bool,
}

fn hash_derivation_modulo(ev: &mut Evaluator, drv: &Derivation, mask_outputs: bool) -> EvalResult<DrvHash> {
    if !drv.outputs.is_empty() && drv.outputs.values().all(DrvOutput::is_fixed) {
        let (_, o) = drv.outputs.iter().next().expect("non-empty");
        let s = format!("fixed:out:{}:{}:{}", o.hash_algo, o.hash, o.path);
        return Ok(DrvHash { hash: sha256(s.as_bytes()), deferred: false });
    }
    if drv.outputs.values().any(DrvOutput::is_impure) {
        return Ok(DrvHash { hash: sha256(b"impure"), deferred: true });
    }
    let mut deferred = drv.outputs.values().any(DrvOutput::is_floating);
    let mut inputs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, outs) in &drv.input_drvs {
        let h = path_hash_modulo(ev, path)?;
        deferred |= h.deferred;
        if let Some(missing) = outs.iter().find(|o| !drv_info(ev, path).is_ok_and(|d| d.outputs.contains_key(*o))) {
            return Err(EvalError::new(
                ErrorKind::Eval,
                format!("no hash for output '{missing}' of derivation '{}'", drv.name),
            ));
        }
        inputs.entry(hex(&h.hash)).or_default().extend(outs.iter().cloned());
    }
    Ok(DrvHash { hash: sha256(&drv.unparse(mask_outputs, Some(&inputs))), deferred })
}

/// `hashDerivationModulo` of an existing derivation, cached per drv path
/// in the evaluator (`d:` marks deferred hashes).
fn path_hash_modulo(ev: &mut Evaluator, drv_path: &str) -> EvalResult<DrvHash> {
    if let Some(s) = ev.drv_hash_cache.get(drv_path)
        && let Some(h) = decode_cached_hash(s)
    {
        return Ok(h);
    }
    let h = drv_info(ev, drv_path)?.hash;
    cache_hash(ev, drv_path, h);
    Ok(h)
}

fn cache_hash(ev: &mut Evaluator, drv_path: &str, h: DrvHash) {
    let s = format!("{}{}", if h.deferred { "d:" } else { "" }, hex(&h.hash));
    ev.drv_hash_cache.insert(drv_path.to_string(), s);
}

fn decode_cached_hash(s: &str) -> Option<DrvHash> {
    let (deferred, h) = match s.strip_prefix("d:") {
        Some(h) => (true, h),
        None => (false, s),
    };
    let bytes = Hash::parse_body(h, HashAlgo::Sha256, false).ok()?.bytes;
    Some(DrvHash { hash: bytes.try_into().ok()?, deferred })
}

/// Nix's store path name rules (`checkName`), with its messages.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("name must not be empty".into());
    }
    if name.len() > 211 {
        return Err(format!("name '{name}' must be no longer than 211 characters"));
    }
    let b = name.as_bytes();
    if b[0] == b'.' {
        if b.len() == 1 || (b.len() == 2 && b[1] == b'.') {
            return Err(format!("name '{name}' is not valid"));
        }
        if b[1] == b'-' {
            return Err(format!("name '{name}' is not valid: first dash-separated component must not be '.'"));
        }
        if b[1] == b'.' && b[2] == b'-' {
            return Err(format!("name '{name}' is not valid: first dash-separated component must not be '..'"));
        }
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "+-._?=".contains(*c))) {
        return Err(format!("name '{name}' contains illegal character '{c}'"));
    }
    Ok(())
}

/// Fails if the name part of a computed store path is invalid, with the
/// message Nix gives when constructing such a path.
fn checked_path(store_dir: &str, path: String) -> EvalResult<String> {
    let base = path.strip_prefix(store_dir).and_then(|b| b.strip_prefix('/')).unwrap_or(&path);
    if let Err(m) = check_name(base.get(33..).unwrap_or("")) {
        return Err(EvalError::new(ErrorKind::Eval, format!("path '{base}' is not a valid store path: {m}")));
    }
    Ok(path)
}

/// The name of an output path: the derivation name, suffixed with the
/// output name unless it is `out`.
pub fn output_path_name(drv_name: &str, output: &str) -> String {
    if output == "out" { drv_name.to_string() } else { format!("{drv_name}-{output}") }
}

/// `builtins.placeholder`: `/<nix32(sha256("nix-output:<name>"))>`.
pub fn hash_placeholder(output: &str) -> String {
    format!("/{}", base32_encode(&sha256(format!("nix-output:{output}").as_bytes())))
}

/// The placeholder for an output of a derivation whose output paths are
/// not known statically.
fn unknown_ca_output(drv_path: &str, output: &str) -> String {
    let base = drv_path.rsplit('/').next().unwrap_or(drv_path);
    let hash_part = base.get(..32).unwrap_or("");
    let drv_name = base.get(33..).unwrap_or("");
    let drv_name = drv_name.strip_suffix(".drv").unwrap_or(drv_name);
    let clear = format!("nix-upstream-output:{hash_part}:{}", output_path_name(drv_name, output));
    format!("/{}", base32_encode(&sha256(clear.as_bytes())))
}

fn require_feature(ev: &Evaluator, feature: &str) -> EvalResult<()> {
    if ev.settings.experimental_features.iter().any(|f| f == feature) {
        return Ok(());
    }
    Err(EvalError::new(
        ErrorKind::Eval,
        format!(
            "experimental Nix feature '{feature}' is disabled; add '--extra-experimental-features {feature}' to enable it"
        ),
    ))
}

fn eval_err(msg: impl Into<String>) -> EvalError {
    EvalError::new(ErrorKind::Eval, msg)
}

/// How a content-addressed output is ingested (`outputHashMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Flat,
    Nar,
    Text,
    Git,
}

impl Method {
    fn prefix(self) -> &'static str {
        match self {
            Method::Flat => "",
            Method::Nar => "r:",
            Method::Text => "text:",
            Method::Git => "git:",
        }
    }
}

/// The path of a fixed output with the given method and hash.
fn fixed_output_path(store_dir: &str, method: Method, h: &Hash, name: &str) -> EvalResult<String> {
    let path = match method {
        Method::Flat | Method::Nar => {
            make_fixed_output_path(store_dir, method == Method::Nar, h.algo.name(), &h.bytes, name, &[])
        }
        Method::Text => {
            let Ok(bytes) = <[u8; 32]>::try_from(h.bytes.as_slice()) else {
                return Err(eval_err(format!(
                    "text-hashed derivation '{name}' must use a sha256 hash, not '{}'",
                    h.algo.name()
                )));
            };
            make_store_path(store_dir, "text", &bytes, name)
        }
        Method::Git => {
            return Err(EvalError::new(
                ErrorKind::Unsupported,
                "dendrite does not support git-hashed outputs (outputHashMode = \"git\")",
            ));
        }
    };
    checked_path(store_dir, path)
}

/// State while `derivationStrict` walks the attributes.
struct DrvBuilder {
    name: String,
    json: Option<Vec<u8>>,
    ignore_nulls: bool,
    drv: Derivation,
    context: Context,
    content_addressed: bool,
    impure: bool,
    output_hash: Option<String>,
    output_hash_algo: Option<HashAlgo>,
    method: Option<Method>,
    outputs: BTreeSet<String>,
}

/// Coercion of derivation attributes: like `toString`, copying paths.
const DRV_COERCE: Coerce = Coerce { more: true, copy_to_store: true };

impl DrvBuilder {
    fn hash_mode(&mut self, ev: &Evaluator, s: &str) -> EvalResult<()> {
        let m = match s {
            "recursive" | "nar" => Method::Nar,
            "flat" => Method::Flat,
            "text" => Method::Text,
            "git" => Method::Git,
            _ => {
                return Err(eval_err(format!("invalid value '{s}' for 'outputHashMode' attribute")));
            }
        };
        if m == Method::Text {
            require_feature(ev, "dynamic-derivations")?;
        }
        if m == Method::Git {
            require_feature(ev, "git-hashing")?;
        }
        self.method = Some(m);
        Ok(())
    }

    fn set_outputs(&mut self, names: Vec<String>) -> EvalResult<()> {
        self.outputs.clear();
        for n in names {
            if self.outputs.contains(&n) {
                return Err(eval_err(format!("duplicate derivation output '{n}'")));
            }
            if n == "drvPath" {
                return Err(eval_err("invalid derivation output name 'drvPath'"));
            }
            self.outputs.insert(n);
        }
        if self.outputs.is_empty() {
            return Err(eval_err("derivation cannot have an empty set of outputs"));
        }
        Ok(())
    }

    fn no_ctx_string(ev: &mut Evaluator, v: &Value) -> EvalResult<String> {
        let s = ev.expect_string(v)?;
        check_no_ctx(&s)?;
        Ok(s.to_str_lossy().into_owned())
    }

    fn attr(&mut self, ev: &mut Evaluator, attr: &Attr, span: Span) -> EvalResult<()> {
        let key = attr.name.as_str();
        let v = ev.force(&attr.value)?;
        if self.ignore_nulls && matches!(v, Value::Null) {
            return Ok(());
        }
        if key == "__contentAddressed" && ev.expect_bool(&v)? {
            require_feature(ev, "ca-derivations")?;
            self.content_addressed = true;
            return Ok(());
        }
        if key == "__impure" && ev.expect_bool(&v)? {
            require_feature(ev, "impure-derivations")?;
            self.impure = true;
            return Ok(());
        }
        if key == "args" {
            let list = ev.expect_list(&v)?;
            for item in list.iter() {
                let s = ev.coerce_to_string(item, DRV_COERCE, span).map_err(|e| {
                    without_span(e, span).context("while evaluating an element of the argument list", None)
                })?;
                if let Some(c) = s.context() {
                    self.context.extend(c.iter().cloned());
                }
                self.drv.args.push(s.as_bytes().to_vec());
            }
            return Ok(());
        }
        if self.json.is_some() {
            if key == "__structuredAttrs" {
                return Ok(());
            }
            let mut buf = Vec::new();
            value_to_json(ev, &v, &mut buf, &mut self.context, span).map_err(|e| without_span(e, span))?;
            let json = self.json.as_mut().expect("structured");
            if json.len() > 1 {
                json.push(b',');
            }
            crate::json::json_string(json, attr.name.as_bytes())?;
            json.push(b':');
            json.extend_from_slice(&buf);
            match &*key {
                "builder" => {
                    let s = ev.expect_string(&v)?;
                    if let Some(c) = s.context() {
                        self.context.extend(c.iter().cloned());
                    }
                    self.drv.builder = s.as_bytes().to_vec();
                }
                "system" => self.drv.platform = Self::no_ctx_string(ev, &v)?.into_bytes(),
                "outputHash" => self.output_hash = Some(Self::no_ctx_string(ev, &v)?),
                "outputHashAlgo" => self.output_hash_algo = HashAlgo::parse(&Self::no_ctx_string(ev, &v)?),
                "outputHashMode" => {
                    let s = Self::no_ctx_string(ev, &v)?;
                    self.hash_mode(ev, &s)?;
                }
                "outputs" => {
                    let list = ev.expect_list(&v)?;
                    let mut names = Vec::with_capacity(list.len());
                    for item in list.iter() {
                        names.push(Self::no_ctx_string(ev, item)?);
                    }
                    self.set_outputs(names)?;
                }
                "allowedReferences"
                | "allowedRequisites"
                | "disallowedReferences"
                | "disallowedRequisites"
                | "maxSize"
                | "maxClosureSize" => {
                    ev.emit(format!(
                        "warning: In a derivation named '{}', 'structuredAttrs' disables the effect of the derivation attribute '{key}'; use 'outputChecks.<output>.{key}' instead",
                        self.name
                    ));
                }
                _ => {}
            }
            return Ok(());
        }
        let s = ev.coerce_to_string(&v, DRV_COERCE, span).map_err(|e| without_span(e, span))?;
        if let Some(c) = s.context() {
            self.context.extend(c.iter().cloned());
        }
        let bytes = s.as_bytes().to_vec();
        self.drv.env.insert(attr.name.as_bytes().to_vec(), bytes.clone());
        match &*key {
            "builder" => self.drv.builder = bytes,
            "system" => self.drv.platform = bytes,
            "outputHash" => self.output_hash = Some(s.to_str_lossy().into_owned()),
            "outputHashAlgo" => self.output_hash_algo = HashAlgo::parse(&s.to_str_lossy()),
            "outputHashMode" => self.hash_mode(ev, &s.to_str_lossy())?,
            "outputs" => {
                let text = s.to_str_lossy();
                let names = text.split([' ', '\t', '\n', '\r']).filter(|t| !t.is_empty()).map(str::to_string).collect();
                self.set_outputs(names)?;
            }
            _ => {}
        }
        Ok(())
    }
}

fn derivation_strict(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let attrs = ev
        .expect_attrs(&args[0])
        .map_err(|e| e.context("while evaluating the argument passed to builtins.derivationStrict", None))?;
    let Some(name_attr) = attrs.get_attr(SYMS.name).cloned() else {
        return Err(EvalError::new(ErrorKind::MissingAttribute, "attribute 'name' missing")
            .context("in the attrset passed as argument to builtins.derivationStrict", None));
    };
    let name = force_string_no_ctx(
        ev,
        &name_attr.value,
        "while evaluating the `name` attribute passed to builtins.derivationStrict",
    )
    .map_err(|e| e.context("while evaluating the derivation attribute 'name'", name_attr.pos))?;
    let name = name.to_str_lossy().into_owned();
    derivation_strict_internal(ev, &name, &attrs, span).map_err(|e| {
        let pos = name_attr.pos.map(|p| p.position().to_string()).unwrap_or_else(|| "«none»".to_string());
        // The continuation line is indented as Nix prints it under "… ".
        e.context(
            format!("while evaluating derivation '{name}'\n         whose name attribute is located at {pos}"),
            None,
        )
    })
}

fn derivation_strict_internal(ev: &mut Evaluator, name: &str, attrs: &Attrs, span: Span) -> EvalResult<Value> {
    if let Err(m) = check_name(name) {
        return Err(eval_err(format!("invalid derivation name: {m}. Please pass a different 'name'.")));
    }
    let flag = |ev: &mut Evaluator, attr: &str| -> EvalResult<bool> {
        match attrs.get_str(attr) {
            Some(v) => ev.expect_bool(v).map_err(|e| {
                e.context(format!("while evaluating the `{attr}` attribute passed to builtins.derivationStrict"), None)
            }),
            None => Ok(false),
        }
    };
    let structured = flag(ev, "__structuredAttrs")?;
    let ignore_nulls = flag(ev, "__ignoreNulls")?;
    let mut b = DrvBuilder {
        name: name.to_string(),
        json: structured.then(|| b"{".to_vec()),
        ignore_nulls,
        drv: Derivation { name: name.to_string(), ..Derivation::default() },
        context: Context::new(),
        content_addressed: false,
        impure: false,
        output_hash: None,
        output_hash_algo: None,
        method: None,
        outputs: BTreeSet::from(["out".to_string()]),
    };
    for attr in attrs.iter() {
        if attr.name.as_bytes() == b"__ignoreNulls" {
            continue;
        }
        b.attr(ev, attr, span).map_err(|e| {
            e.context(format!("while evaluating attribute '{}' of derivation '{name}'", attr.name), attr.pos)
        })?;
    }
    let mut drv = std::mem::take(&mut b.drv);
    if let Some(mut json) = b.json.take() {
        json.push(b'}');
        drv.env.insert(b"__json".to_vec(), json);
    }

    // Everything the strings refer to becomes an input.
    for c in &b.context {
        match CtxElem::parse(c) {
            CtxElem::DrvDeep(d) => {
                for p in closure(ev, d)? {
                    if p.ends_with(".drv") {
                        let outs = drv_info(ev, &p)?.outputs.keys().cloned().collect();
                        drv.input_drvs.insert(p.clone(), outs);
                    }
                    drv.input_srcs.insert(p);
                }
            }
            CtxElem::Built { output, drv: d } => {
                drv.input_drvs.entry(d.to_string()).or_default().insert(output.to_string());
            }
            CtxElem::Opaque(p) => {
                drv.input_srcs.insert(p.to_string());
            }
        }
    }

    if drv.builder.is_empty() {
        return Err(eval_err("required attribute 'builder' missing"));
    }
    if drv.platform.is_empty() {
        return Err(eval_err("required attribute 'system' missing"));
    }
    if name.ends_with(".drv") && !(b.method == Some(Method::Text) && b.outputs.len() == 1 && b.outputs.contains("out"))
    {
        return Err(eval_err(
            "derivation names are allowed to end in '.drv' only if they produce a single derivation file",
        ));
    }

    let store_dir = ev.settings.store_dir.clone();
    if let Some(oh) = &b.output_hash {
        if b.outputs.len() != 1 || !b.outputs.contains("out") {
            return Err(eval_err("multiple outputs are not supported in fixed-output derivations"));
        }
        let h = Hash::parse_allow_empty(ev, oh, b.output_hash_algo)?;
        let method = b.method.unwrap_or(Method::Flat);
        let path = fixed_output_path(&store_dir, method, &h, name)?;
        drv.env.insert(b"out".to_vec(), path.clone().into_bytes());
        drv.outputs.insert(
            "out".into(),
            DrvOutput { path, hash_algo: format!("{}{}", method.prefix(), h.algo.name()), hash: h.to_hex() },
        );
    } else if b.content_addressed || b.impure {
        if b.content_addressed && b.impure {
            return Err(eval_err("derivation cannot be both content-addressed and impure"));
        }
        let algo = b.output_hash_algo.unwrap_or(HashAlgo::Sha256);
        let method = b.method.unwrap_or(Method::Nar);
        for o in &b.outputs {
            drv.env.insert(o.as_bytes().to_vec(), hash_placeholder(o).into_bytes());
            drv.outputs.insert(
                o.clone(),
                DrvOutput {
                    path: String::new(),
                    hash_algo: format!("{}{}", method.prefix(), algo.name()),
                    hash: if b.impure { "impure".into() } else { String::new() },
                },
            );
        }
    } else {
        for o in &b.outputs {
            drv.env.insert(o.as_bytes().to_vec(), Vec::new());
            drv.outputs.insert(o.clone(), DrvOutput::default());
        }
        let h = hash_derivation_modulo(ev, &drv, true)?;
        if !h.deferred {
            for o in &b.outputs {
                let path = make_store_path(&store_dir, &format!("output:{o}"), &h.hash, &output_path_name(name, o));
                let path = checked_path(&store_dir, path)?;
                drv.env.insert(o.as_bytes().to_vec(), path.clone().into_bytes());
                if let Some(out) = drv.outputs.get_mut(o) {
                    out.path = path;
                }
            }
        }
    }

    let drv_path = make_text_path(&store_dir, &format!("{name}.drv"), &drv.unparse(false, None), &drv.references());
    remember_drv(ev, &drv_path, &drv)?;

    let mut entries = Vec::with_capacity(drv.outputs.len() + 1);
    entries.push(Attr::new(
        SYMS.drv_path,
        Value::String(NixString::with_context(drv_path.clone().into_bytes(), single(CtxElem::DrvDeep(&drv_path)))),
    ));
    for (o, out) in &drv.outputs {
        let s = if out.path.is_empty() { unknown_ca_output(&drv_path, o) } else { out.path.clone() };
        entries.push(Attr::new(
            Symbol::new(o),
            Value::String(NixString::with_context(
                s.into_bytes(),
                single(CtxElem::Built { output: o, drv: &drv_path }),
            )),
        ));
    }
    Ok(Value::attrs(entries))
}

// ------------------------------------------------------ other store paths

fn placeholder(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let name = force_string_no_ctx(ev, &args[0], &arg_ctx("first", "placeholder"))?;
    Ok(Value::string(hash_placeholder(&name.to_str_lossy())))
}

fn output_of(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    require_feature(ev, "dynamic-derivations")?;
    let first_ctx = "while evaluating the first argument to builtins.outputOf";
    let s = ev.expect_string(&args[0]).map_err(|e| e.context(first_ctx, None))?;
    let text = s.to_str_lossy().into_owned();
    let ctx: Vec<&ContextElem> = s.context().into_iter().flatten().collect();
    if ctx.len() != 1 {
        return Err(eval_err(format!(
            "string '{text}' has {} entries in its context. It should only have exactly one entry",
            ctx.len()
        ))
        .context(first_ctx, None));
    }
    let drv_path = match CtxElem::parse(ctx[0]) {
        CtxElem::Opaque(p) => {
            if text != p {
                return Err(eval_err(format!("path string '{text}' has context with the different path '{p}'"))
                    .context(first_ctx, None));
            }
            p.to_string()
        }
        CtxElem::DrvDeep(_) => {
            return Err(eval_err(format!(
                "string '{text}' has a context which refers to a complete source and binary closure. This is not supported at this time"
            ))
            .context(first_ctx, None));
        }
        CtxElem::Built { .. } => {
            return Err(EvalError::new(
                ErrorKind::Unsupported,
                "dendrite does not support builtins.outputOf on the output of a derivation",
            ));
        }
    };
    let output = force_string_no_ctx(ev, &args[1], "while evaluating the second argument to builtins.outputOf")?;
    let output = output.to_str_lossy().into_owned();
    let info = drv_info(ev, &drv_path)?;
    let Some(out_path) = info.outputs.get(&output) else {
        return Err(eval_err(format!("derivation '{drv_path}' does not have output '{output}'")));
    };
    let s = if out_path.is_empty() { unknown_ca_output(&drv_path, &output) } else { out_path.clone() };
    Ok(Value::String(NixString::with_context(
        s.into_bytes(),
        single(CtxElem::Built { output: &output, drv: &drv_path }),
    )))
}

fn store_path(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    if ev.settings.pure_eval {
        return Err(eval_err("'builtins.storePath' is not allowed in pure evaluation mode"));
    }
    let arg_ctx = "while evaluating the first argument passed to 'builtins.storePath'";
    let v = ev.force(&args[0]).map_err(|e| e.context(arg_ctx, None))?;
    let mut ctx = match &v {
        Value::String(s) => s.context().cloned().unwrap_or_default(),
        _ => Context::new(),
    };
    let path = ev.coerce_to_path(&v, span).map_err(|e| without_span(e, span).context(arg_ctx, None))?;
    let store_dir = ev.settings.store_dir.clone();
    let mut path = path.to_string_lossy().into_owned();
    if !is_store_path(&store_dir, &path)
        && let Ok(p) = std::fs::canonicalize(&path)
    {
        path = p.to_string_lossy().into_owned();
    }
    let not_in_store = || eval_err(format!("path '{path}' is not in the Nix store"));
    let rest = path
        .strip_prefix(&store_dir)
        .and_then(|r| r.strip_prefix('/'))
        .filter(|r| !r.is_empty())
        .ok_or_else(not_in_store)?;
    let sp = format!("{store_dir}/{}", rest.split('/').next().unwrap_or(rest));
    if !is_store_path(&store_dir, &sp) {
        return Err(eval_err(format!("path '{sp}' is not a valid store path")));
    }
    ctx.insert(CtxElem::Opaque(&sp).encode());
    Ok(Value::String(NixString::with_context(path.into_bytes(), ctx)))
}

fn to_file(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let name = force_string_no_ctx(ev, &args[0], &arg_ctx("first", "toFile"))?;
    let name = name.to_str_lossy().into_owned();
    let contents = ev.expect_string(&args[1]).map_err(|e| e.context(arg_ctx("second", "toFile"), None))?;
    let mut refs = Vec::new();
    for c in contents.context().into_iter().flatten() {
        match CtxElem::parse(c) {
            CtxElem::Opaque(p) => refs.push(p.to_string()),
            _ => {
                return Err(eval_err(format!(
                    "files created by builtins.toFile may not reference derivations, but {name} references {c}"
                )));
            }
        }
    }
    let store_dir = ev.settings.store_dir.clone();
    let path = make_text_path(&store_dir, &name, contents.as_bytes(), &refs);
    let path = checked_path(&store_dir, path)?;
    crate::fs::remember_written(&path, contents.as_bytes());
    if !refs.is_empty() {
        remember(path.clone(), Known::Refs(refs.into()));
    }
    Ok(store_path_string(path))
}

/// A store path as a string whose context is the path itself.
fn store_path_string(path: String) -> Value {
    let ctx = single(CtxElem::Opaque(&path));
    Value::String(NixString::with_context(path.into_bytes(), ctx))
}

fn base_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Adds a path to the (virtual) store as `builtins.path` does: NAR
/// (`recursive`) or flat hashing, an optional filter called with the path
/// and its type, and an optional expected hash.
fn add_path(
    ev: &mut Evaluator,
    name: &str,
    path: &Path,
    filter: Option<Value>,
    recursive: bool,
    expected: Option<Hash>,
    span: Span,
) -> EvalResult<Value> {
    let store_dir = ev.settings.store_dir.clone();
    let result = (|| -> EvalResult<String> {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let path_s = if recursive {
            let mut call_filter = |p: &Path, kind: &str| -> EvalResult<bool> {
                let Some(f) = &filter else {
                    return Ok(true);
                };
                let arg = Value::string(p.as_os_str().as_encoded_bytes().to_vec());
                let r = ev.call_n(f.clone(), &[arg, Value::string(kind)], span).map_err(|e| without_span(e, span))?;
                ev.expect_bool(&r)
                    .map_err(|e| e.context("while evaluating the return value of the path filter function", None))
            };
            let h = nar_hash(&real, &mut call_filter)?;
            make_fixed_output_path(&store_dir, true, "sha256", &h, name, &[])
        } else {
            let data = std::fs::read(&real).map_err(|e| {
                EvalError::new(ErrorKind::Io, format!("reading file '{}': {}", path.display(), io_message(&e)))
            })?;
            make_fixed_output_path(&store_dir, false, "sha256", &sha256(&data), name, &[])
        };
        let path_s = checked_path(&store_dir, path_s)?;
        if let Some(h) = &expected {
            let method = if recursive { Method::Nar } else { Method::Flat };
            let want = fixed_output_path(&store_dir, method, h, name)?;
            if want != path_s {
                return Err(eval_err(format!(
                    "store path mismatch in (possibly filtered) path added from '{}'",
                    path.display()
                )));
            }
        }
        Ok(path_s)
    })()
    .map_err(|e| e.context(format!("while adding path '{}'", path.display()), None))?;
    Ok(store_path_string(result))
}

fn path_builtin(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let attrs = ev
        .expect_attrs(&args[0])
        .map_err(|e| e.context("while evaluating the argument passed to 'builtins.path'", None))?;
    let mut path: Option<PathBuf> = None;
    let mut name = String::new();
    let mut filter = None;
    let mut recursive = true;
    let mut expected = None;
    for attr in attrs.iter() {
        let at = |e: EvalError| match attr.pos {
            Some(p) => e.with_span(p),
            None => e,
        };
        match &*attr.name.as_str() {
            "path" => {
                path = Some(ev.coerce_to_path(&attr.value, span).map_err(|e| {
                    without_span(e, span)
                        .context("while evaluating the 'path' attribute passed to 'builtins.path'", None)
                })?)
            }
            "name" => {
                name = force_string_no_ctx(
                    ev,
                    &attr.value,
                    "while evaluating the `name` attribute passed to builtins.path",
                )?
                .to_str_lossy()
                .into_owned()
            }
            "filter" => {
                filter =
                    Some(ev.expect_function(&attr.value).map_err(|e| {
                        e.context("while evaluating the `filter` parameter passed to builtins.path", None)
                    })?)
            }
            "recursive" => {
                recursive = ev.expect_bool(&attr.value).map_err(|e| {
                    e.context("while evaluating the `recursive` attribute passed to builtins.path", None)
                })?
            }
            "sha256" => {
                let s = force_string_no_ctx(
                    ev,
                    &attr.value,
                    "while evaluating the `sha256` attribute passed to builtins.path",
                )?;
                expected = Some(Hash::parse_allow_empty(ev, &s.to_str_lossy(), Some(HashAlgo::Sha256))?);
            }
            other => {
                return Err(at(eval_err(format!("unsupported argument '{other}' to 'addPath'"))));
            }
        }
    }
    let Some(path) = path else {
        return Err(eval_err("missing required 'path' attribute in the first argument to 'builtins.path'"));
    };
    if name.is_empty() {
        name = base_name(&path);
    }
    add_path(ev, &name, &path, filter, recursive, expected, span)
}

fn filter_source(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let path = ev.coerce_to_path(&args[1], span).map_err(|e| {
        without_span(e, span).context(
            "while evaluating the second argument (the path to filter) passed to 'builtins.filterSource'",
            None,
        )
    })?;
    let filter = ev.expect_function(&args[0]).map_err(|e| e.context(arg_ctx("first", "filterSource"), None))?;
    let name = base_name(&path);
    add_path(ev, &name, &path, Some(filter), true, None, span)
}

// --------------------------------------------------------------- fetchers

fn no_fetch(who: &str, what: &str) -> EvalError {
    EvalError::new(
        ErrorKind::Unsupported,
        format!(
            "dendrite does not fetch: builtins.{who} \"{what}\" needs network access; pass the input with --input or make it available locally"
        ),
    )
}

/// Nix's `baseNameOf` on a URL or path string.
fn base_name_of(s: &str) -> &str {
    let s = s.strip_suffix('/').unwrap_or(s);
    s.rsplit('/').next().unwrap_or(s)
}

/// `fetchurl` and `fetchTarball`: argument validation, then either a local
/// `file://` download (flat, `fetchurl` only) or an unsupported error.
fn fetch(ev: &mut Evaluator, arg: &Value, who: &str, unpack: bool, default_name: &str) -> EvalResult<Value> {
    let v = ev.force(arg)?;
    let mut url = None;
    let mut expected = None;
    let mut name = default_name.to_string();
    let mut name_passed = false;
    let is_attrs = matches!(v, Value::Attrs(_));
    if let Value::Attrs(attrs) = &v {
        for attr in attrs.iter() {
            match &*attr.name.as_str() {
                "url" => {
                    url = Some(
                        force_string_no_ctx(ev, &attr.value, "while evaluating the url we should fetch")?
                            .to_str_lossy()
                            .into_owned(),
                    )
                }
                "sha256" => {
                    let s = force_string_no_ctx(
                        ev,
                        &attr.value,
                        "while evaluating the sha256 of the content we should fetch",
                    )?;
                    expected = Some(Hash::parse_allow_empty(ev, &s.to_str_lossy(), Some(HashAlgo::Sha256))?);
                }
                "name" => {
                    name_passed = true;
                    name = force_string_no_ctx(
                        ev,
                        &attr.value,
                        "while evaluating the name of the content we should fetch",
                    )?
                    .to_str_lossy()
                    .into_owned();
                }
                n => {
                    return Err(eval_err(format!("unsupported argument '{n}' to '{who}'")));
                }
            }
        }
        if url.is_none() {
            return Err(eval_err("'url' argument required"));
        }
    } else {
        url =
            Some(force_string_no_ctx(ev, &v, "while evaluating the url we should fetch")?.to_str_lossy().into_owned());
    }
    let mut url = url.unwrap_or_default();
    if who == "fetchTarball"
        && let Some(channel) = url.strip_prefix("channel:")
    {
        url = format!("https://channels.nixos.org/{channel}/nixexprs.tar.xz");
    }
    if name.is_empty() {
        name = base_name_of(&url).to_string();
    }
    if let Err(m) = check_name(&name) {
        let resolution = if name_passed {
            format!(
                "Please change the value for the 'name' attribute passed to '{who}', so that it can create a valid store path."
            )
        } else if is_attrs {
            format!(
                "Please add a valid 'name' attribute to the argument for '{who}', so that it can create a valid store path."
            )
        } else {
            format!(
                "Please pass an attribute set with 'url' and 'name' attributes to '{who}',  so that it can create a valid store path."
            )
        };
        return Err(eval_err(format!("invalid store path name when fetching URL '{url}': {m}. {resolution}")));
    }
    if ev.settings.pure_eval && expected.is_none() {
        return Err(eval_err(format!("in pure evaluation mode, '{who}' requires a 'sha256' argument")));
    }
    if !unpack && let Some(file) = url.strip_prefix("file://") {
        // A local file: what Nix would download is known.
        let data =
            std::fs::read(file).map_err(|e| eval_err(format!("unable to download '{url}': {}", io_message(&e))))?;
        let got = HashAlgo::Sha256.digest(&data);
        if let Some(h) = &expected
            && h.algo == HashAlgo::Sha256
            && h.bytes != got.bytes
        {
            return Err(eval_err(format!(
                "hash mismatch in file downloaded from '{url}':\n  specified: {}\n  got:       {}",
                h.to_string(crate::hash::HashFormat::Sri, true),
                got.to_string(crate::hash::HashFormat::Sri, true)
            )));
        }
        let store_dir = ev.settings.store_dir.clone();
        let path = fixed_output_path(&store_dir, Method::Flat, &got, &name)?;
        return Ok(store_path_string(path));
    }
    Err(no_fetch(who, &url))
}

fn fetchurl(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    fetch(ev, &args[0], "fetchurl", false, "")
}

fn fetch_tarball(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    fetch(ev, &args[0], "fetchTarball", true, "source")
}

/// A readable description of a fetcher input given as attributes.
fn describe_input(attrs: &BTreeMap<String, String>) -> String {
    if let Some(url) = attrs.get("url") {
        return url.clone();
    }
    let ty = attrs.get("type").map(String::as_str).unwrap_or("");
    match (attrs.get("owner"), attrs.get("repo")) {
        (Some(o), Some(r)) => {
            let mut s = format!("{ty}:{o}/{r}");
            if let Some(x) = attrs.get("rev").or_else(|| attrs.get("ref")) {
                s.push('/');
                s.push_str(x);
            }
            s
        }
        _ => match attrs.get("path") {
            Some(p) => format!("{ty}:{p}"),
            None => ty.to_string(),
        },
    }
}

/// Archive extensions that make a `file:` URL a tarball input.
fn is_archive(url: &str) -> bool {
    [".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst"].iter().any(|e| url.ends_with(e))
}

/// `fetchTree`/`fetchGit`/`fetchMercurial`: Nix's argument checks, then an
/// unsupported error.
fn fetch_tree_like(ev: &mut Evaluator, arg: &Value, who: &str, span: Span) -> EvalResult<Value> {
    let is_git = who == "fetchGit";
    let v = ev.force(arg)?;
    if let Value::Attrs(attrs) = &v {
        let mut inputs: BTreeMap<String, String> = BTreeMap::new();
        match (attrs.get(SYMS.type_), is_git) {
            (Some(_), true) => {
                return Err(eval_err("unexpected argument 'type'"));
            }
            (Some(t), false) => {
                let t = force_string_no_ctx(ev, t, &format!("while evaluating the `type` argument passed to '{who}'"))?;
                inputs.insert("type".into(), t.to_str_lossy().into_owned());
            }
            (None, true) => {
                inputs.insert("type".into(), "git".into());
            }
            (None, false) => {
                return Err(eval_err(format!("argument 'type' is missing in call to '{who}'")));
            }
        }
        for attr in attrs.iter() {
            if attr.name == SYMS.type_ {
                continue;
            }
            let key = attr.name.as_str().into_owned();
            let val = ev.force(&attr.value)?;
            match &val {
                Value::String(_) | Value::Path(_) => {
                    let s = ev.coerce_to_string(&val, Coerce::PLAIN, span)?;
                    inputs.insert(key, s.to_str_lossy().into_owned());
                }
                Value::Bool(b) => {
                    inputs.insert(key, b.to_string());
                }
                Value::Int(i) => {
                    if *i < 0 {
                        return Err(eval_err(format!("negative value given for '{who}' argument '{key}': {i}")));
                    }
                    inputs.insert(key, i.to_string());
                }
                _ if key == "publicKeys" => {}
                other => {
                    return Err(EvalError::new(
                        ErrorKind::Type,
                        format!(
                            "argument '{key}' to '{who}' is {} while a string, Boolean or integer is expected",
                            other.describe()
                        ),
                    ));
                }
            }
        }
        if who == "fetchTree" && inputs.contains_key("name") {
            return Err(eval_err(format!("argument 'name' isn’t supported in call to '{who}'")));
        }
        return Err(no_fetch(who, &describe_input(&inputs)));
    }
    let url = ev
        .coerce_to_string(&v, Coerce::PLAIN, span)
        .map_err(|e| {
            without_span(e, span).context(format!("while evaluating the first argument passed to '{who}'"), None)
        })?
        .to_str_lossy()
        .into_owned();
    if who == "fetchTree"
        && let Some(rest) = url.strip_prefix("file:")
        && !rest.starts_with('/')
    {
        let kind = if is_archive(&url) { "tarball" } else { "file" };
        return Err(eval_err(format!(
            "{kind} '{url}' must use an absolute path. The 'file' scheme does not support relative paths."
        ))
        .context(format!("while fetching the input '{url}'"), None));
    }
    Err(no_fetch(who, &url))
}

fn fetch_tree(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    fetch_tree_like(ev, &args[0], "fetchTree", span)
}

fn fetch_git(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    fetch_tree_like(ev, &args[0], "fetchGit", span)
}

fn fetch_mercurial(ev: &mut Evaluator, args: &[Value], span: Span) -> EvalResult<Value> {
    let v = ev.force(&args[0])?;
    let url = if let Value::Attrs(attrs) = &v {
        let mut url = None;
        for attr in attrs.iter() {
            match &*attr.name.as_str() {
                "url" => {
                    let s = ev.coerce_to_string(&attr.value, Coerce::INTERPOLATE, span).map_err(|e| {
                        without_span(e, span)
                            .context("while evaluating the `url` attribute passed to builtins.fetchMercurial", None)
                    })?;
                    url = Some(s.to_str_lossy().into_owned());
                }
                "rev" | "name" => {
                    force_string_no_ctx(
                        ev,
                        &attr.value,
                        &format!("while evaluating the `{}` attribute passed to builtins.fetchMercurial", attr.name),
                    )?;
                }
                n => {
                    return Err(eval_err(format!("unsupported argument '{n}' to 'fetchMercurial'")));
                }
            }
        }
        url.ok_or_else(|| eval_err("'url' argument required"))?
    } else {
        ev.coerce_to_string(&v, Coerce::INTERPOLATE, span)
            .map_err(|e| {
                without_span(e, span).context("while evaluating the argument passed to builtins.fetchMercurial", None)
            })?
            .to_str_lossy()
            .into_owned()
    };
    Err(no_fetch("fetchMercurial", &url))
}

fn get_flake(ev: &mut Evaluator, args: &[Value], _: Span) -> EvalResult<Value> {
    let r = force_string_no_ctx(ev, &args[0], "while evaluating the argument passed to builtins.getFlake")?;
    Err(no_fetch("getFlake", &r.to_str_lossy()))
}

#[cfg(test)]
mod tests {
    use dendrite_syntax::{Origin, RootDatabase};

    use super::*;
    use crate::eval::run_with_stack;
    use crate::settings::EvalSettings;

    /// Evaluates an expression to a string (deeply forced, printed).
    fn eval(src: &'static str) -> String {
        run_with_stack(move || {
            let mut ev = Evaluator::new(RootDatabase::default(), EvalSettings::default());
            let v = ev.eval_string(src, Origin::String("/".into()));
            match v.and_then(|v| ev.deep_force(&v)) {
                Ok(v) => crate::print::print_strict(&mut ev, &v).unwrap_or_default(),
                Err(e) => format!("error: {}", e.message()),
            }
        })
    }

    // Expected values below come from Nix 2.8 (`nix-instantiate --eval
    // --readonly-mode`) and from the .drv files it writes.

    #[test]
    fn aterm_roundtrip() {
        let text = br#"Derive([("dev","/nix/store/vj53p0n2csl1x20dif1q690y4kwwjx1z-a-dev","",""),("out","/nix/store/0c581gkvarahajbrz7bq76fwkc8idz4l-a","","")],[],[],"x","/b",["a\"b","c\nd"],[("builder","/b"),("dev","/nix/store/vj53p0n2csl1x20dif1q690y4kwwjx1z-a-dev"),("name","a"),("out","/nix/store/0c581gkvarahajbrz7bq76fwkc8idz4l-a"),("outputs","out dev"),("system","x")])"#;
        let text = String::from_utf8_lossy(text);
        let drv = Derivation::parse(text.as_bytes(), "a").unwrap();
        assert_eq!(drv.args[1], b"c\nd");
        assert_eq!(drv.unparse(false, None), text.as_bytes());
        assert_eq!(
            make_text_path("/nix/store", "a.drv", text.as_bytes(), &[]),
            "/nix/store/dzcd7938pxnlr8h0lh9vn82v4wngzvav-a.drv"
        );
    }

    #[test]
    fn to_file_results_can_be_imported_and_read() {
        // modules.sh: "imports can depend on derivations" imports a toFile.
        assert_eq!(
            eval(
                r#"let f = builtins.toFile "m.nix" "{ x = 1; }"; in
                [ (import f).x (builtins.readFile f) (builtins.pathExists f) (builtins.readFileType f) ]"#
            ),
            r#"[ 1 "{ x = 1; }" true "regular" ]"#
        );
    }

    #[test]
    fn input_addressed() {
        assert_eq!(
            eval(r#"(derivation { name = "a"; builder = "/b"; system = "x"; }).drvPath"#),
            r#""/nix/store/zls09i4hh0vfzm882j1ry186i11233w6-a.drv""#
        );
        assert_eq!(
            eval(
                r#"let d = derivation { name = "a"; builder = "/b"; system = "x"; outputs = ["out" "dev"]; }; in [d.drvPath d.outPath d.dev.outPath]"#
            ),
            r#"[ "/nix/store/54ix7p5dfqv8wiz8k3kh02mksakhr78n-a.drv" "/nix/store/wk8wm66lg1i58j8vffjpz2nzzs0ncflb-a" "/nix/store/08xypbz9f8w6w7lbmzf7857j4rdv7ddp-a-dev" ]"#
        );
    }

    #[test]
    fn dependent_derivation() {
        // `b` depends on an output of `a` (inputDrvs through hashDerivationModulo).
        assert_eq!(
            eval(
                r#"let d = derivation { name = "a"; builder = "/b"; system = "x"; outputs = ["out" "dev"]; args = ["a\"b" "c\nd"]; }; in (derivation { name = "b"; builder = "/b"; system = "x"; dep = d; devdep = "${d.dev}"; x = [1 2.5 null true false]; }).drvPath"#
            ),
            r#""/nix/store/kshwry95av3rl6czg7jay05jc9h335wm-b.drv""#
        );
    }

    #[test]
    fn drv_files_on_disk_stand_in_for_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        std::fs::create_dir(&store).unwrap();
        let store = store.to_string_lossy().into_owned();
        let eval_in = |store: String, src: String| {
            run_with_stack(move || {
                let settings = EvalSettings { store_dir: store, ..EvalSettings::default() };
                let mut ev = Evaluator::new(RootDatabase::default(), settings);
                let v = ev.eval_string(&src, Origin::String("/".into())).unwrap();
                let v = ev.deep_force(&v).unwrap();
                crate::print::print_strict(&mut ev, &v).unwrap()
            })
        };
        let a = r#"derivation { name = "a"; builder = "/b"; system = "x"; }"#;
        let paths = eval_in(store.clone(), format!("let a = {a}; in [ a.drvPath a.outPath ]"));
        let paths: Vec<&str> = paths.split('"').filter(|s| s.starts_with('/')).collect();
        let (drv_path, out_path) = (paths[0], paths[1]);
        // Write a.drv as Nix would have.
        let mut drv =
            Derivation { name: "a".into(), platform: b"x".to_vec(), builder: b"/b".to_vec(), ..Derivation::default() };
        drv.outputs.insert("out".into(), DrvOutput { path: out_path.into(), ..DrvOutput::default() });
        for (k, v) in [("builder", "/b"), ("name", "a"), ("out", out_path), ("system", "x")] {
            drv.env.insert(k.into(), v.into());
        }
        let text = drv.unparse(false, None);
        assert_eq!(make_text_path(&store, "a.drv", &text, &[]), drv_path);
        std::fs::write(drv_path, &text).unwrap();
        let b = |dep: String| {
            format!(
                r#"(derivation {{ name = "b"; builder = "/b"; system = "x"; dep = ({dep}); deep = "${{({dep}).drvPath}}"; }}).drvPath"#
            )
        };
        let direct = eval_in(store.clone(), b(a.to_string()));
        let from_disk = eval_in(
            store.clone(),
            b(format!(
                r#"{{ outPath = builtins.appendContext "{out_path}" {{ "{drv_path}" = {{ outputs = [ "out" ]; }}; }}; drvPath = builtins.appendContext "{drv_path}" {{ "{drv_path}" = {{ allOutputs = true; }}; }}; }}"#
            )),
        );
        assert_eq!(direct, from_disk);
    }

    #[test]
    fn placeholders() {
        assert_eq!(hash_placeholder("out"), "/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9");
    }

    #[test]
    fn names() {
        assert!(check_name("foo-1.0").is_ok());
        assert_eq!(check_name("~jiggle~").unwrap_err(), "name '~jiggle~' contains illegal character '~'");
        assert!(check_name(".").is_err());
        assert!(check_name(".-a").is_err());
        assert!(check_name(".a").is_ok());
    }
}

//! Loading a flake without Nix: each input becomes an override, a local
//! copy, a bundled model (dendrite's own Nix under `modules/`) or an
//! opaque value, and `outputs` is called with them.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use dendrite_eval::native::string;
use dendrite_eval::value::{Attr, Attrs, Value};
use dendrite_eval::{EvalResult, Evaluator};
use dendrite_syntax::{Span, Symbol};

use crate::models;
use dendrite_flake::inputs::Model;

/// How one input was resolved (for the report and `--verbose`).
#[derive(Clone, Debug)]
pub struct InputInfo {
    /// The input's name.
    pub name: String,
    /// `override`, `store copy`, `model <name>` or `opaque`.
    pub how: String,
}

/// The key of `modules/dendrite/inputs.nix` for a bundled model
/// (nixpkgs' `lib` comes with the nixpkgs model).
pub fn model_key(m: Model) -> &'static str {
    match m {
        Model::NixpkgsLib => Model::Nixpkgs.name(),
        other => other.name(),
    }
}

/// Which bundled model stands for an input of this name, if any (the
/// resolver's names, plus `nixpkgs-*` inputs such as `nixpkgs-unstable`).
pub fn model_for_name(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    Model::from_input_name(&n).or_else(|| n.starts_with("nixpkgs-").then_some(Model::Nixpkgs)).map(model_key)
}

/// The evaluation context shared by all inputs.
pub struct Loader {
    /// The models directory (extracted or the repo's `modules/`).
    pub models: PathBuf,
    /// `lib` for models and flakes (dendrite's own unless nixpkgs is on disk).
    pub lib: Value,
    /// `unknown`.
    pub unknown: Value,
    /// `open`.
    pub open: Value,
    /// The lenient module.
    pub lenient: Value,
    /// The span of values made up by the checker.
    pub span: Span,
}

fn attr(name: &str, v: Value) -> Attr {
    Attr::new(Symbol::new(name), v)
}

/// Imports a file and returns its value.
pub fn import(ev: &mut Evaluator, path: &Path, span: Span) -> EvalResult<Value> {
    let f = ev.import(path, span)?;
    ev.force(&f)
}

impl Loader {
    /// Sets up `lib` and the helpers models receive.
    pub fn new(ev: &mut Evaluator, lib_override: Option<&Path>, span: Span) -> EvalResult<Loader> {
        let models = models::dir().map_err(dendrite_eval::EvalError::eval)?;
        let lib = match lib_override {
            Some(p) => import(ev, p, span)?,
            None => {
                let f = import(ev, &models.join("lib/default.nix"), span)?;
                ev.call(f, Value::attrs(vec![]), span)?
            }
        };
        let lenient = dendrite_modules::lenient::lenient_module(ev, &lib, span)?;
        Ok(Loader {
            models,
            lib,
            unknown: dendrite_modules::lenient::unknown_fn(),
            open: dendrite_modules::lenient::open_fn(),
            lenient,
            span,
        })
    }

    /// The arguments every model receives.
    pub fn model_args(&self) -> Value {
        Value::attrs(vec![
            attr("lib", self.lib.clone()),
            attr("unknown", self.unknown.clone()),
            attr("open", self.open.clone()),
            attr("isUnknown", dendrite_modules::lenient::is_unknown_fn()),
            attr("lenient", self.lenient.clone()),
            attr("models", Value::Path(dendrite_eval::value::PathStr::from(self.models.to_string_lossy().as_ref()))),
        ])
    }

    /// The value of an input from a bundled model (lazily built).
    pub fn model_input(&self, name: &'static str) -> Value {
        let glue = self.models.join("dendrite/inputs.nix");
        let args = self.model_args();
        let span = self.span;
        Value::lazy(move |ev: &mut Evaluator| {
            let f = import(ev, &glue, span)?;
            let all = ev.call(f, args.clone(), span)?;
            ev.select_str(&all, name, span)
        })
    }

    /// An input that is a flake on disk (override or store copy): its
    /// `outputs` called with its own inputs resolved by name.
    pub fn flake_on_disk(&self, dir: &Path, own_inputs: Value) -> Value {
        let glue = self.models.join("dendrite/call-flake.nix");
        let dir = dir.to_path_buf();
        let unknown = self.unknown.clone();
        let span = self.span;
        Value::lazy(move |ev: &mut Evaluator| {
            let f = import(ev, &glue, span)?;
            let args = Value::attrs(vec![
                attr("dir", Value::Path(dendrite_eval::value::PathStr::from(dir.to_string_lossy().as_ref()))),
                attr("inputs", own_inputs.clone()),
                attr("unknown", unknown.clone()),
            ]);
            ev.call(f, args, span)
        })
    }

    /// An input nothing is known of.
    pub fn opaque(&self, name: &str) -> Value {
        dendrite_modules::lenient::unknown_value(opaque_reason(name))
    }
}

/// Why an opaque input's values are unknown.
pub(crate) fn opaque_reason(name: &str) -> String {
    format!("input `{name}`{OPAQUE}{name}=PATH)")
}

/// What follows an opaque input's name in its values' reason.
const OPAQUE: &str = " (not on disk and no model; pass --input ";

/// The input named by `reason` (an unknown value's, or a message quoting
/// one) when it is one of [`Loader::opaque`]'s.
pub(crate) fn opaque_input(reason: &str) -> Option<&str> {
    let (name, rest) = reason.strip_prefix("input `")?.split_once('`')?;
    rest.starts_with(OPAQUE).then_some(name)
}

/// The attribute set of inputs.
pub fn inputs_value(entries: Vec<(String, Value)>) -> Value {
    let attrs: Vec<Attr> = entries.into_iter().map(|(n, v)| attr(&n, v)).collect();
    Value::Attrs(Rc::new(Attrs::from_unsorted(attrs)))
}

/// `string` re-exported for the driver.
pub fn s(x: &str) -> Value {
    string(x)
}

//! Forcing configurations the way a build would, but tolerantly: every
//! attribute is evaluated on its own, an error is reported where it
//! happened and its siblings still run, and unknown values are skipped.

use std::collections::HashSet;

use dendrite_eval::value::{Attrs, Value};
use dendrite_eval::{EvalError, Evaluator};
use dendrite_syntax::{Symbol, sym};

use crate::{Ctx, force_or_report, is_unknown};

/// Limits that keep a walk finite on huge or self-referential values.
const MAX_DEPTH: usize = 48;
const MAX_NODES: usize = 2_000_000;

struct Walk<'a> {
    seen: HashSet<*const Attrs>,
    nodes: usize,
    skip: &'a dyn Fn(&[String]) -> bool,
    context: String,
}

/// Forces `v` deeply, reporting each error once at its place.
fn walk(ev: &mut Evaluator, cx: &mut Ctx, w: &mut Walk, v: &Value, path: &mut Vec<String>) {
    if path.len() > MAX_DEPTH || w.nodes > MAX_NODES {
        return;
    }
    w.nodes += 1;
    let forced = match ev.force(v) {
        Ok(x) => x,
        Err(e) => {
            let ctx = format!("{} `{}`", w.context, path.join("."));
            cx.eval_error(&e, &ctx);
            return;
        }
    };
    match &forced {
        Value::Attrs(a) => {
            if !w.seen.insert(std::rc::Rc::as_ptr(a)) {
                return;
            }
            // Derivations, option machinery (`_type`) and modules (values of
            // deferredModule options) are not configuration to force.
            if is_derivation(ev, a) || a.get(sym!("_type")).is_some() || is_module(a) {
                return;
            }
            for x in a.iter() {
                path.push(x.name.to_string());
                if x.name.as_str() != "_module" && !(w.skip)(path) {
                    walk(ev, cx, w, &x.value, path);
                }
                path.pop();
            }
        }
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                walk(ev, cx, w, item, path);
                path.pop();
            }
        }
        _ => {}
    }
}

fn is_module(a: &Attrs) -> bool {
    ["imports", "_file", "_class"].iter().any(|k| a.get(Symbol::new(k)).is_some())
}

fn is_derivation(ev: &mut Evaluator, a: &Attrs) -> bool {
    match a.get(sym!("type")).cloned() {
        Some(t) => matches!(ev.force(&t), Ok(Value::String(s)) if s.as_bytes() == b"derivation"),
        None => false,
    }
}

/// The flake's outputs and its top-level (flake-parts) evaluation.
pub struct Outputs {
    /// `self` (outputs plus `outPath` ...), when it evaluated.
    pub flake: Option<Value>,
    /// The result of the top-level `evalModules` (class `flake`), if any.
    pub top: Option<Value>,
    /// Why the top-level evaluation left modules out (distinct messages).
    pub top_left_out: Vec<String>,
}

impl Outputs {
    /// Whether the top-level evaluation left unknown modules out (an input
    /// dendrite cannot see may then define or consume anything).
    pub fn top_incomplete(&self) -> bool {
        !self.top_left_out.is_empty()
    }
}

/// Outputs that are whole systems or package sets: checked per machine, or
/// not at all (they need nixpkgs).
fn heavy_output(name: &str) -> bool {
    name.ends_with("Configurations")
        || matches!(
            name,
            "packages"
                | "legacyPackages"
                | "checks"
                | "devShells"
                | "apps"
                | "formatter"
                | "overlays"
                | "hydraJobs"
                | "allSystems"
                | "clanInternals"
                | "debug"
        )
}

/// Option records and option sets walked already, and configuration sets
/// whose freeform part was. Machines importing the same modules share
/// these values (docs/design/native-modules.md, "Bundles"): walking one
/// again would force nothing new and find the same errors, so each is
/// walked once per check. The values are kept so that their addresses
/// stay theirs.
#[derive(Default)]
pub struct Walked {
    options: rustc_hash::FxHashMap<*const Attrs, Value>,
    freeform: rustc_hash::FxHashMap<*const Attrs, Value>,
}

/// Walks evaluations through their option trees: each option's value is
/// forced (running its type's checks), containers of typed elements are
/// entered element by element, and submodule values are walked through
/// their own evaluation's options. Internal options, modules and untyped
/// values are left alone, as a build would mostly leave them.
pub struct OptionWalk {
    /// Config sets of recorded evaluations -> their results.
    by_config: std::collections::HashMap<*const Attrs, Value>,
    /// Records already mapped.
    scanned: usize,
    visited: HashSet<*const Attrs>,
    nodes: usize,
    /// Whether freeform (undeclared) parts of configurations are forced too.
    pub freeform: bool,
    context: String,
    /// Option paths not to walk.
    pub skip: fn(&[String]) -> bool,
    /// The evaluation's class, for the options table ([`crate::OptionInfo`]).
    pub class: String,
}

fn type_name(ev: &mut Evaluator, ty: &Value) -> String {
    match ev.attr_of(ty, "name").ok().flatten().map(|n| ev.force(&n)) {
        Some(Ok(Value::String(s))) => s.to_str_lossy().into_owned(),
        _ => String::new(),
    }
}

fn elem_type(ev: &mut Evaluator, ty: &Value) -> Option<Value> {
    let nested = ev.attr_of(ty, "nestedTypes").ok()??;
    ev.attr_of(&nested, "elemType").ok()?
}

fn is_true(ev: &mut Evaluator, a: &Attrs, name: Symbol) -> bool {
    match a.get(name).cloned() {
        Some(v) => matches!(ev.force(&v), Ok(Value::Bool(true))),
        None => false,
    }
}

impl OptionWalk {
    /// A walker for the evaluations recorded from now on (and those
    /// recorded while it walks).
    pub fn new(ev: &mut Evaluator, context: &str) -> OptionWalk {
        let scanned = ev.extension_mut::<dendrite_modules::record::Recorder>().map(|r| r.evals.len()).unwrap_or(0);
        OptionWalk {
            by_config: std::collections::HashMap::new(),
            scanned,
            visited: HashSet::new(),
            nodes: 0,
            freeform: false,
            context: context.to_string(),
            skip: |_| false,
            class: String::new(),
        }
    }

    /// A walker that also knows every evaluation recorded so far.
    pub fn all(ev: &mut Evaluator, context: &str) -> OptionWalk {
        let mut w = OptionWalk::new(ev, context);
        w.scanned = 0;
        w
    }

    /// Maps the configurations of evaluations recorded since the last scan
    /// (only those already computed: forcing others would evaluate what
    /// nothing asked for).
    fn scan_records(&mut self, ev: &mut Evaluator) {
        let results: Vec<Value> = ev
            .extension_mut::<dendrite_modules::record::Recorder>()
            .map(|r| r.evals[self.scanned.min(r.evals.len())..].iter().map(|e| e.result.clone()).collect())
            .unwrap_or_default();
        self.scanned += results.len();
        for r in results {
            let Ok(Value::Attrs(ra)) = ev.force(&r) else { continue };
            let Some(c) = ra.get(sym!("config")).cloned() else { continue };
            if let Value::Thunk(t) = &c
                && t.value().is_none()
            {
                continue;
            }
            if let Ok(Value::Attrs(ca)) = ev.force(&c) {
                self.by_config.insert(std::rc::Rc::as_ptr(&ca), r.clone());
            }
        }
    }

    /// The evaluation a submodule value is the configuration of.
    fn evaluation_of(&mut self, ev: &mut Evaluator, a: &std::rc::Rc<Attrs>) -> Option<Value> {
        let key = std::rc::Rc::as_ptr(a);
        if let Some(r) = self.by_config.get(&key) {
            return Some(r.clone());
        }
        self.scan_records(ev);
        self.by_config.get(&key).cloned()
    }

    /// Walks one evaluation result (`{ config; options; }`).
    pub fn eval(&mut self, ev: &mut Evaluator, cx: &mut Ctx, result: &Value, prefix: &mut Vec<String>) {
        let span = cx.span;
        let (options, config) = match (ev.select_str(result, "options", span), ev.select_str(result, "config", span)) {
            (Ok(o), Ok(c)) => (o, c),
            (Err(e), _) | (_, Err(e)) => {
                cx.eval_error(&e, &format!("{} `{}`", self.context, prefix.join(".")));
                return;
            }
        };
        if let Value::Attrs(ca) = &config
            && !self.visited.insert(std::rc::Rc::as_ptr(ca))
        {
            return;
        }
        self.options(ev, cx, &options, prefix);
        if self.freeform {
            self.freeform_part(ev, cx, &config, &options, prefix);
        }
    }

    fn report(&self, cx: &mut Ctx, e: &EvalError, prefix: &[String]) {
        cx.eval_error(e, &format!("{} `{}`", self.context, prefix.join(".")));
    }

    fn options(&mut self, ev: &mut Evaluator, cx: &mut Ctx, tree: &Value, prefix: &mut Vec<String>) {
        if prefix.len() > MAX_DEPTH || self.nodes > MAX_NODES {
            return;
        }
        let tree = match ev.force(tree) {
            Ok(Value::Attrs(a)) => a,
            Ok(_) => return,
            Err(e) => return self.report(cx, &e, prefix),
        };
        // A layered level's shared lower layer is walked once: after that,
        // only the configuration's own names.
        let base = tree.layer_base().map(std::rc::Rc::as_ptr);
        let base_walked = base.is_some_and(|b| cx.walked.options.contains_key(&b));
        let entries = if base_walked { tree.upper() } else { tree.iter() };
        for x in entries {
            let name = x.name.to_string();
            if name == "_module" {
                continue;
            }
            prefix.push(name);
            if (self.skip)(prefix) {
                prefix.pop();
                continue;
            }
            self.nodes += 1;
            match ev.force(&x.value) {
                Ok(Value::Attrs(o)) => {
                    let key = std::rc::Rc::as_ptr(&o);
                    if !cx.walked.options.contains_key(&key) {
                        let is_option = matches!(o.get(sym!("_type")).cloned().map(|t| ev.force(&t)), Some(Ok(Value::String(s))) if s.as_bytes() == b"option");
                        if is_option {
                            self.option(ev, cx, &o, prefix);
                        } else {
                            self.options(ev, cx, &Value::Attrs(o.clone()), prefix);
                        }
                        // A walk cut short is not a walk done.
                        if self.nodes <= MAX_NODES {
                            cx.walked.options.insert(key, Value::Attrs(o));
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => self.report(cx, &e, prefix),
            }
            prefix.pop();
        }
        if let (Some(b), false) = (tree.layer_base(), base_walked)
            && self.nodes <= MAX_NODES
        {
            cx.walked.options.insert(std::rc::Rc::as_ptr(b), Value::Attrs(b.clone()));
        }
    }

    fn option(&mut self, ev: &mut Evaluator, cx: &mut Ctx, o: &Attrs, prefix: &mut Vec<String>) {
        if is_true(ev, o, sym!("internal")) {
            return;
        }
        self.record(ev, cx, o, prefix);
        let Some(ty) = o.get(sym!("type")).cloned() else { return };
        // Options never defined and without default are not an error
        // until something reads them.
        if let Some(d) = o.get(sym!("isDefined")).cloned()
            && matches!(ev.force(&d), Ok(Value::Bool(false)))
        {
            return;
        }
        let Some(value) = o.get(sym!("value")).cloned() else { return };
        self.typed(ev, cx, &value, &ty, prefix, 0);
    }

    /// Adds an option the flake declares to the options table.
    fn record(&self, ev: &mut Evaluator, cx: &mut Ctx, o: &Attrs, prefix: &[String]) {
        if !cx.collect_symbols {
            return;
        }
        let span = cx.span;
        let Some(positions) = o.get(sym!("declarationPositions")).cloned() else { return };
        let Ok(positions) = ev.expect_list(&positions) else { return };
        let mut declared = Vec::new();
        for p in positions.iter() {
            let file = ev.select_str(p, "file", span).and_then(|f| ev.force(&f));
            let line = ev.select_str(p, "line", span).and_then(|f| ev.force(&f));
            let (Ok(Value::String(file)), Ok(Value::Int(line))) = (file, line) else { continue };
            let file = std::path::PathBuf::from(&*file.to_str_lossy());
            if cx.in_flake(&file) {
                declared.push((file, line as u32));
            }
        }
        if declared.is_empty() {
            return;
        }
        let text = |ev: &mut Evaluator, v: Option<Value>| -> String {
            match v.map(|v| ev.force(&v)) {
                Some(Ok(Value::String(s))) => s.to_str_lossy().into_owned(),
                _ => String::new(),
            }
        };
        let ty = o.get(sym!("type")).cloned();
        let ty = ty.and_then(|t| ev.attr_of(&t, "description").ok().flatten());
        let ty = text(ev, ty);
        let description = text(ev, o.get(sym!("description")).cloned());
        cx.options.push(crate::OptionInfo {
            class: self.class.clone(),
            path: prefix.to_vec(),
            ty,
            description,
            declared,
        });
    }

    fn typed(
        &mut self,
        ev: &mut Evaluator,
        cx: &mut Ctx,
        v: &Value,
        ty: &Value,
        prefix: &mut Vec<String>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH || self.nodes > MAX_NODES {
            return;
        }
        self.nodes += 1;
        let forced = match ev.force(v) {
            Ok(f) => f,
            Err(e) => return self.report(cx, &e, prefix),
        };
        let name = type_name(ev, ty);
        match name.as_str() {
            "attrsOf" | "lazyAttrsOf" | "attrsWith" => {
                let (Value::Attrs(a), Some(elem)) = (&forced, elem_type(ev, ty)) else { return };
                for x in a.iter() {
                    prefix.push(x.name.to_string());
                    self.typed(ev, cx, &x.value, &elem, prefix, depth + 1);
                    prefix.pop();
                }
            }
            "listOf" | "nonEmptyListOf" => {
                let (Value::List(items), Some(elem)) = (&forced, elem_type(ev, ty)) else { return };
                for (i, item) in items.iter().enumerate() {
                    prefix.push(i.to_string());
                    self.typed(ev, cx, item, &elem, prefix, depth + 1);
                    prefix.pop();
                }
            }
            "nullOr" => {
                if let (false, Some(elem)) = (matches!(forced, Value::Null), elem_type(ev, ty)) {
                    self.typed(ev, cx, &forced, &elem, prefix, depth + 1);
                }
            }
            "submodule" => {
                if let Value::Attrs(a) = &forced
                    && let Some(result) = self.evaluation_of(ev, a)
                {
                    self.eval(ev, cx, &result, prefix);
                }
            }
            _ => {}
        }
    }

    /// Freeform (undeclared) parts of a lenient configuration: forced
    /// blindly, except where options are declared (walked already).
    fn freeform_part(
        &mut self,
        ev: &mut Evaluator,
        cx: &mut Ctx,
        config: &Value,
        options: &Value,
        prefix: &mut Vec<String>,
    ) {
        let (Ok(Value::Attrs(c)), Ok(Value::Attrs(o))) = (ev.force(config), ev.force(options)) else { return };
        let key = std::rc::Rc::as_ptr(&c);
        if cx.walked.freeform.contains_key(&key) {
            return;
        }
        self.freeform_entries(ev, cx, &c, &o, prefix);
        cx.walked.freeform.insert(key, Value::Attrs(c));
    }

    fn freeform_entries(&mut self, ev: &mut Evaluator, cx: &mut Ctx, c: &Attrs, o: &Attrs, prefix: &mut Vec<String>) {
        // As in `options`: a layered view's shared lower layer once.
        let base = c.layer_base().map(std::rc::Rc::as_ptr);
        let base_walked = base.is_some_and(|b| cx.walked.freeform.contains_key(&b));
        let entries = if base_walked { c.upper() } else { c.iter() };
        for x in entries {
            if x.name.as_str() == "_module" {
                continue;
            }
            prefix.push(x.name.to_string());
            match o.get(x.name).cloned() {
                Some(sub) => {
                    let sub = ev.force(&sub);
                    let is_option = matches!(&sub, Ok(Value::Attrs(s)) if s.get(sym!("_type")).is_some());
                    if !is_option && let Ok(sub) = sub {
                        self.freeform_part(ev, cx, &x.value, &sub, prefix);
                    }
                }
                None => {
                    let skip = |_: &[String]| false;
                    let mut w = Walk { seen: HashSet::new(), nodes: 0, skip: &skip, context: self.context.clone() };
                    walk(ev, cx, &mut w, &x.value, prefix);
                }
            }
            prefix.pop();
        }
        if let (Some(b), false) = (c.layer_base(), base_walked) {
            cx.walked.freeform.insert(std::rc::Rc::as_ptr(b), Value::Attrs(b.clone()));
        }
    }
}

/// Evaluates the outputs and walks the top-level configuration.
pub fn top_level(ev: &mut Evaluator, cx: &mut Ctx, flake: &Value) -> Outputs {
    let Some(forced) = force_or_report(ev, cx, flake, "the flake's outputs") else {
        return Outputs { flake: None, top: None, top_left_out: Vec::new() };
    };
    if let Value::Attrs(a) = &forced
        && let Some(o) = a.get(sym!("outputs")).cloned()
    {
        let _ = force_or_report(ev, cx, &o, "the flake's outputs");
    }
    let top = top_evaluation(ev);
    match &top {
        Some(top) => {
            // Forcing the output names computes the configuration, so the
            // walker can map submodule values to their evaluations.
            if let Value::Attrs(a) = &forced {
                for x in a.iter() {
                    let _ = ev.force(&x.value);
                }
            }
            let mut w = OptionWalk::all(ev, "the top-level option");
            w.class = "flake".into();
            w.skip = |p| match p {
                [first] => first == "perSystem" || first == "allSystems",
                [first, second] => first == "flake" && heavy_output(second),
                [first, second, third] => first == "flake" && second == "clan" && third == "dendrite",
                _ => false,
            };
            w.eval(ev, cx, top, &mut Vec::new());
        }
        None => {
            // Not a flake-parts flake: the outputs themselves.
            let skip = |p: &[String]| -> bool {
                p.len() == 1 && (heavy_output(&p[0]) || p[0] == "inputs" || p[0] == "outputs" || p[0] == "clan")
            };
            let mut w = Walk { seen: HashSet::new(), nodes: 0, skip: &skip, context: "the output".into() };
            walk(ev, cx, &mut w, &forced, &mut Vec::new());
        }
    }
    let top_left_out = top_record(ev)
        .and_then(|i| Some(ev.extension_mut::<dendrite_modules::record::Recorder>()?.evals[i].left_out.clone()))
        .unwrap_or_default();
    Outputs { flake: Some(forced), top, top_left_out }
}

/// The index of the first recorded evaluation of class `flake`
/// (flake-parts' `mkFlake`).
fn top_record(ev: &mut Evaluator) -> Option<usize> {
    let n = ev.extension_mut::<dendrite_modules::record::Recorder>()?.evals.len();
    for i in 0..n {
        let class = ev.extension_mut::<dendrite_modules::record::Recorder>()?.evals[i].class.clone();
        if let Ok(Value::String(s)) = ev.force(&class)
            && s.as_bytes() == b"flake"
        {
            return Some(i);
        }
    }
    None
}

/// The result of the top-level evaluation.
fn top_evaluation(ev: &mut Evaluator) -> Option<Value> {
    let i = top_record(ev)?;
    Some(ev.extension_mut::<dendrite_modules::record::Recorder>()?.evals[i].result.clone())
}

/// One evaluated machine.
pub struct Machine {
    /// Its name.
    pub name: String,
    /// Its class (`nixos`, `darwin`, `homeManager`).
    pub class: String,
    /// Where it came from (`nixosConfigurations`, `clan.machines`).
    pub source: String,
    /// The evaluation result.
    pub eval: Value,
}

/// Every machine configuration among the outputs (not yet evaluated).
pub fn machines(ev: &mut Evaluator, cx: &mut Ctx, outputs: &Outputs, loader: &crate::load::Loader) -> Vec<Machine> {
    let mut found = Vec::new();
    let Some(Value::Attrs(flake)) = &outputs.flake else { return found };
    if let Some(data) = clan_data(ev, outputs) {
        match clan_machines(ev, loader, &data) {
            Ok(ms) => found.extend(ms),
            Err(e) => cx.eval_error(&e, "the clan machines"),
        }
    }
    let clan_names: HashSet<String> = found.iter().map(|m| m.name.clone()).collect();
    for (attr, class) in
        [("nixosConfigurations", "nixos"), ("darwinConfigurations", "darwin"), ("homeConfigurations", "homeManager")]
    {
        let Some(set) = flake.get(Symbol::new(attr)).cloned() else { continue };
        let set = match ev.force(&set) {
            Ok(Value::Attrs(a)) => a,
            Ok(_) => continue,
            Err(e) => {
                cx.eval_error(&e, attr);
                continue;
            }
        };
        for x in set.iter() {
            if clan_names.contains(&*x.name.as_str()) {
                continue;
            }
            found.push(Machine {
                name: x.name.to_string(),
                class: class.to_string(),
                source: attr.to_string(),
                eval: x.value.clone(),
            });
        }
    }
    if found.is_empty() {
        match namespace_machines(ev, loader, outputs) {
            Ok(ms) => found.extend(ms),
            Err(e) => cx.eval_error(&e, "the machine modules"),
        }
    }
    found
}

/// Without clan or `*Configurations` outputs, every exported machine
/// module (`flake.modules.<nixos|darwin>."machines/..."`) is a machine.
fn namespace_machines(
    ev: &mut Evaluator,
    loader: &crate::load::Loader,
    outputs: &Outputs,
) -> Result<Vec<Machine>, EvalError> {
    let span = loader.span;
    let Some(top) = &outputs.top else { return Ok(Vec::new()) };
    let config = ev.select_str(top, "config", span)?;
    let Some(flake) = ev.attr_of(&config, "flake")? else { return Ok(Vec::new()) };
    let Some(modules) = ev.attr_of(&flake, "modules")? else { return Ok(Vec::new()) };
    let system = crate::load::import(ev, &loader.models.join("dendrite/system.nix"), span)?;
    let system = ev.call(system, loader.model_args(), span)?;
    let mut out = Vec::new();
    for class in ["nixos", "darwin"] {
        let Some(set) = ev.attr_of(&modules, class)? else { continue };
        let set = ev.expect_attrs(&set)?;
        for x in set.iter() {
            let key = x.name.to_string();
            if !key.starts_with("machines/") {
                continue;
            }
            let arg = Value::attrs(vec![
                dendrite_eval::value::Attr::new(sym!("class"), dendrite_eval::native::string(class)),
                dendrite_eval::value::Attr::new(sym!("modules"), Value::list(vec![x.value.clone()])),
                dendrite_eval::value::Attr::new(sym!("name"), dendrite_eval::native::string(&key)),
            ]);
            let eval = Value::lazy_apply(system.clone(), arg, span);
            out.push(Machine { name: key, class: class.to_string(), source: format!("flake.modules.{class}"), eval });
        }
    }
    Ok(out)
}

/// The roles of each inventory instance's service, as clan's data knows them.
pub fn instance_roles(ev: &mut Evaluator, outputs: &Outputs) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    let span = ev.builtin_span();
    let Some(data) = clan_data(ev, outputs) else { return out };
    let Ok(Some(instances)) = ev.attr_of(&data, "instances") else { return out };
    let Ok(instances) = ev.expect_attrs(&instances) else { return out };
    for x in instances.iter() {
        let roles = ev
            .select_str(&x.value, "service", span)
            .and_then(|s| ev.select_str(&s, "roles", span))
            .and_then(|r| ev.expect_list(&r).map(|l| l.to_vec()));
        let Ok(roles) = roles else { continue };
        let names: Vec<String> = roles
            .iter()
            .filter_map(|r| match ev.force(r) {
                Ok(Value::String(s)) => Some(s.to_str_lossy().into_owned()),
                _ => None,
            })
            .collect();
        out.insert(x.name.to_string(), names);
    }
    out
}

/// clan's `dendrite` data (the model's; see modules/clan-core/README.md).
pub fn clan_data(ev: &mut Evaluator, outputs: &Outputs) -> Option<Value> {
    let span = ev.builtin_span();
    let from_top = |ev: &mut Evaluator| -> Option<Value> {
        let top = outputs.top.as_ref()?;
        let config = ev.select_str(top, "config", span).ok()?;
        let flake = ev.attr_of(&config, "flake").ok()??;
        let clan = ev.attr_of(&flake, "clan").ok()??;
        ev.attr_of(&clan, "dendrite").ok()?
    };
    if let Some(d) = from_top(ev) {
        return Some(d);
    }
    let flake = outputs.flake.as_ref()?;
    let clan = ev.attr_of(flake, "clan").ok()??;
    ev.attr_of(&clan, "dendrite").ok()?
}

fn clan_machines(ev: &mut Evaluator, loader: &crate::load::Loader, data: &Value) -> Result<Vec<Machine>, EvalError> {
    let span = loader.span;
    let f = crate::load::import(ev, &loader.models.join("dendrite/clan-machines.nix"), span)?;
    let f = ev.call(f, loader.model_args(), span)?;
    let ms = ev.call(f, data.clone(), span)?;
    let ms = ev.expect_attrs(&ms)?;
    let mut out = Vec::new();
    for x in ms.iter() {
        let class = match ev
            .select_str(data, "machines", span)
            .and_then(|m| ev.select_str(&m, &x.name.as_str(), span))
            .and_then(|m| ev.select_str(&m, "class", span))
        {
            Ok(Value::String(s)) => s.to_str_lossy().into_owned(),
            _ => String::new(),
        };
        out.push(Machine { name: x.name.to_string(), class, source: "clan.machines".into(), eval: x.value.clone() });
    }
    Ok(out)
}

/// Evaluates one machine and walks its configuration.
pub fn check_machine(ev: &mut Evaluator, cx: &mut Ctx, m: &Machine) {
    cx.summary.machines += 1;
    let context = format!("{}.{} ({})", m.source, m.name, m.class);
    let mut w = OptionWalk::new(ev, &format!("{context}: the option"));
    w.class = m.class.clone();
    let result = match ev.force(&m.eval) {
        Ok(r) => r,
        Err(e) => return skip_or_report(cx, &e, &context),
    };
    // The configuration itself first: an error there is the machine's.
    if let Err(e) = ev.select_str(&result, "config", cx.span).and_then(|c| ev.force(&c)) {
        return skip_or_report(cx, &e, &context);
    }
    w.freeform = true;
    w.eval(ev, cx, &result, &mut Vec::new());
}

fn skip_or_report(cx: &mut Ctx, e: &EvalError, context: &str) {
    if is_unknown(e) {
        cx.summary.machines_skipped += 1;
    } else {
        cx.eval_error(e, context);
    }
}

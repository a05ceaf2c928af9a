//! `dendrite.toml` and inline suppression comments.
//!
//! ```toml
//! [rules]
//! D701 = "off"              # or "error", "warning", "info"
//! unused-module = "warning" # rule names work too
//!
//! [special-args]
//! allow = ["inputs", "self", "inputs'", "self'", "flake"]
//! ```
//!
//! A comment `# dendrite: allow(D101)` (codes or names, comma separated)
//! on the line of a finding or on the line above silences it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diag::{Diagnostic, Severity, rule};

/// The framework values that may travel as special arguments by default.
pub const DEFAULT_SPECIAL_ARGS: &[&str] = &["inputs", "self", "inputs'", "self'", "flake"];

/// The checker's configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Per-rule severity overrides (`None` = off), by code.
    pub rules: BTreeMap<&'static str, Option<Severity>>,
    /// Names allowed in specialArgs and `_module.args`.
    pub special_args_allow: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rules: BTreeMap::new(),
            special_args_allow: DEFAULT_SPECIAL_ARGS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Config {
    /// Reads `dendrite.toml` in `dir` if it exists.
    pub fn load(dir: &Path) -> Result<Config, String> {
        let path = dir.join("dendrite.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Parses the text of a `dendrite.toml`.
    pub fn parse(text: &str) -> Result<Config, String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        let mut cfg = Config::default();
        for (key, value) in &table {
            match key.as_str() {
                "rules" => {
                    let Some(rules) = value.as_table() else { return Err("`rules` must be a table".into()) };
                    for (name, level) in rules {
                        let r = rule(name).ok_or_else(|| {
                            let known = crate::diag::RULES.iter().map(|r| r.code).collect::<Vec<_>>().join(", ");
                            format!("unknown rule `{name}` in [rules] (known: {known})")
                        })?;
                        let level = level.as_str().ok_or_else(|| format!("rules.{name}: expected a string"))?;
                        let sev = match level {
                            "off" | "allow" => None,
                            other => Some(Severity::parse(other).ok_or_else(|| {
                                format!(
                                    "rules.{name}: `{other}` is not one of \"error\", \"warning\", \"info\", \"off\""
                                )
                            })?),
                        };
                        cfg.rules.insert(r.code, sev);
                    }
                }
                "special-args" => {
                    let t = value.as_table().ok_or("`special-args` must be a table")?;
                    if let Some(allow) = t.get("allow") {
                        let list = allow.as_array().ok_or("special-args.allow must be a list of strings")?;
                        cfg.special_args_allow = list
                            .iter()
                            .map(|v| {
                                v.as_str().map(str::to_string).ok_or("special-args.allow must be a list of strings")
                            })
                            .collect::<Result<_, _>>()?;
                    }
                }
                other => return Err(format!("unknown section `{other}` (known: rules, special-args)")),
            }
        }
        Ok(cfg)
    }

    /// Applies severity overrides; `None` drops the finding.
    pub fn apply(&self, mut d: Diagnostic) -> Option<Diagnostic> {
        match self.rules.get(d.code) {
            Some(None) => None,
            Some(Some(s)) => {
                d.severity = *s;
                Some(d)
            }
            None => Some(d),
        }
    }
}

/// Whether a `# dendrite: allow(...)` comment on `line` (1-based) or the
/// line above names `code`.
pub fn suppressed(text: &str, line: u32, code: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    let check = |l: u32| -> bool {
        let Some(t) = l.checked_sub(1).and_then(|i| lines.get(i as usize)) else { return false };
        let Some(i) = t.find("dendrite: allow(") else { return false };
        if !t[..i].contains('#') && !t[..i].contains("/*") {
            return false;
        }
        let rest = &t[i + "dendrite: allow(".len()..];
        let Some(end) = rest.find(')') else { return false };
        rest[..end]
            .split(',')
            .map(str::trim)
            .any(|c| c.eq_ignore_ascii_case(code) || rule(c).is_some_and(|r| r.code == code))
    };
    check(line) || check(line.saturating_sub(1))
}

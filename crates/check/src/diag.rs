//! Diagnostics: the rules' codes, severities and the findings themselves.

use std::path::{Path, PathBuf};

use dendrite_syntax::Span;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// For information; never fails a check.
    Info,
    /// Worth fixing; does not fail a check.
    Warning,
    /// Fails the check (exit code 1).
    Error,
}

impl Severity {
    /// The name used in output and in `dendrite.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses `error`, `warning`, `info`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" | "deny" => Some(Severity::Error),
            "warning" | "warn" => Some(Severity::Warning),
            "info" | "note" => Some(Severity::Info),
            _ => None,
        }
    }
}

/// A rule: stable code, name, default severity and a one-line summary.
#[derive(Debug)]
pub struct Rule {
    /// `D101`.
    pub code: &'static str,
    /// `unknown-namespace-key`.
    pub name: &'static str,
    /// Severity unless configured otherwise.
    pub default: Severity,
    /// What it finds.
    pub summary: &'static str,
}

/// Every rule, in code order (each has a page `docs/rules/<code>.md`).
pub const RULES: &[Rule] = &[
    Rule { code: "D001", name: "parse-error", default: Severity::Error, summary: "a .nix file that does not parse" },
    Rule {
        code: "D002",
        name: "eval-error",
        default: Severity::Error,
        summary: "evaluation failed (throw, infinite recursion, missing file, type error)",
    },
    Rule {
        code: "D101",
        name: "unknown-namespace-key",
        default: Severity::Error,
        summary: "a reference to a flake.modules key no module defines",
    },
    Rule {
        code: "D102",
        name: "unknown-class",
        default: Severity::Error,
        summary: "a flake.modules class that is a typo of a known class",
    },
    Rule {
        code: "D201",
        name: "missing-module-argument",
        default: Severity::Error,
        summary: "a module asks for an argument its evaluation does not provide",
    },
    Rule {
        code: "D202",
        name: "special-args-leak",
        default: Severity::Error,
        summary: "specialArgs or _module.args carry values beyond the framework allowlist",
    },
    Rule {
        code: "D301",
        name: "class-mismatch",
        default: Severity::Error,
        summary: "a module's class disagrees with the machine or inventory class",
    },
    Rule {
        code: "D401",
        name: "registry-drift",
        default: Severity::Warning,
        summary: "clan.machines, the inventory and exported machine modules disagree",
    },
    Rule {
        code: "D501",
        name: "inventory-unknown-reference",
        default: Severity::Error,
        summary: "an inventory role names an unknown machine, tag, role or service",
    },
    Rule {
        code: "D502",
        name: "inventory-settings",
        default: Severity::Error,
        summary: "settings that do not fit the role's interface",
    },
    Rule {
        code: "D503",
        name: "vars-unknown-dependency",
        default: Severity::Error,
        summary: "a vars generator depends on a generator that does not exist",
    },
    Rule {
        code: "D601",
        name: "module-system-error",
        default: Severity::Error,
        summary: "unknown option, wrong type or conflicting definitions",
    },
    Rule {
        code: "D602",
        name: "not-a-module",
        default: Severity::Error,
        summary: "a file under modules/ that is not a flake-parts module",
    },
    Rule {
        code: "D701",
        name: "unused-module",
        default: Severity::Warning,
        summary: "a flake.modules entry nothing imports",
    },
    Rule {
        code: "D702",
        name: "skipped-file",
        default: Severity::Warning,
        summary: "a file import-tree skips that nothing imports explicitly",
    },
    Rule {
        code: "D703",
        name: "duplicate-import",
        default: Severity::Warning,
        summary: "the same module imported twice in one list",
    },
];

/// The rule with this code or name.
pub fn rule(code_or_name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// A place in a file, 1-based.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Start line.
    pub line: u32,
    /// Start column.
    pub column: u32,
    /// End line.
    pub end_line: u32,
    /// End column.
    pub end_column: u32,
    /// Byte range, for snippets.
    pub start: u32,
    /// End of the byte range.
    pub end: u32,
}

impl Location {
    /// The location of a span, if it is in a file on disk.
    pub fn of(span: Span) -> Option<Location> {
        let info = span.file.info();
        let path = info.origin.path()?.to_path_buf();
        let (line, column) = info.line_col(span.start);
        let (end_line, end_column) = info.line_col(span.end);
        Some(Location { path, line, column, end_line, end_column, start: span.start, end: span.end })
    }

    /// A location covering a whole line of a file read from disk.
    pub fn line_of(path: &Path, text: &str, offset: usize, len: usize) -> Location {
        LineIndex::new(text).location(path, text, offset, len)
    }
}

/// Where a text's lines start: line and column of many offsets in one
/// file without rescanning it from the top each time.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line and column (in characters) of a byte offset of `text`
    /// (the text this index was made from).
    pub fn line_col(&self, text: &str, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.starts[line];
        (line as u32 + 1, text[start..offset].chars().count() as u32 + 1)
    }

    /// The location of a byte range of `text` in the file at `path`.
    pub fn location(&self, path: &Path, text: &str, offset: usize, len: usize) -> Location {
        let (line, column) = self.line_col(text, offset);
        let (end_line, end_column) = self.line_col(text, offset + len);
        Location {
            path: path.to_path_buf(),
            line,
            column,
            end_line,
            end_column,
            start: offset as u32,
            end: (offset + len) as u32,
        }
    }
}

/// One finding.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// The rule.
    pub code: &'static str,
    /// Severity after configuration.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Where, when known.
    pub location: Option<Location>,
    /// What to do.
    pub help: Option<String>,
    /// Other places that explain it (each definition, the declaration ...).
    pub related: Vec<(String, Location)>,
    /// What was being evaluated when it was found (machines, options).
    pub contexts: Vec<String>,
}

impl Diagnostic {
    /// A finding of `code` at its default severity.
    pub fn new(code: &'static str, message: impl Into<String>, location: Option<Location>) -> Diagnostic {
        let severity = rule(code).map(|r| r.default).unwrap_or(Severity::Error);
        Diagnostic {
            code,
            severity,
            message: message.into(),
            location,
            help: None,
            related: Vec::new(),
            contexts: Vec::new(),
        }
    }

    /// Adds a help line.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a related place.
    pub fn related(mut self, label: impl Into<String>, loc: Location) -> Diagnostic {
        self.related.push((label.into(), loc));
        self
    }
}

/// The nearest candidates to `name` ("did you mean `a` or `b`?").
pub fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let mut scored: Vec<(usize, &str)> =
        candidates.map(|c| (dendrite_eval::eval::levenshtein(name, c), c)).filter(|(d, _)| *d <= limit).collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.truncate(3);
    match scored.len() {
        0 => None,
        1 => Some(format!("did you mean `{}`?", scored[0].1)),
        _ => {
            let names: Vec<String> = scored.iter().map(|(_, c)| format!("`{c}`")).collect();
            let (last, rest) = names.split_last().expect("non-empty");
            Some(format!("did you mean {} or {last}?", rest.join(", ")))
        }
    }
}

//! Printing a report: human (miette snippets grouped by file), JSON, SARIF.

use std::fmt::Write as _;
use std::path::Path;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use crate::Report;
use crate::diag::{Diagnostic, RULES, Severity, rule};

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// miette snippets, grouped by file, with a summary line.
    Human,
    /// One JSON object.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).to_string_lossy().into_owned()
}

/// Renders the report.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Human => human(report, color),
        Format::Json => json(report),
        Format::Sarif => sarif(report),
    }
}

fn human(report: &Report, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    let mut out = String::new();
    let mut last_file: Option<&Path> = None;
    for d in &report.diagnostics {
        let file = d.location.as_ref().map(|l| l.path.as_path());
        if file != last_file {
            if let Some(f) = file {
                let _ = writeln!(out, "── {} ──", rel(&report.root, f));
            }
            last_file = file;
        }
        let head = format!("{}[{}]: {}", d.severity.as_str(), d.code, d.message);
        match &d.location {
            Some(loc) => {
                let text = std::fs::read_to_string(&loc.path).unwrap_or_default();
                let start = (loc.start as usize).min(text.len());
                let len = ((loc.end.saturating_sub(loc.start)) as usize).max(1).min(text.len().saturating_sub(start));
                let mut labels = vec![LabeledSpan::new_primary_with_span(Some("here".to_string()), (start, len))];
                // Related places in the same file get their own labels.
                for (label, r) in &d.related {
                    if r.path == loc.path {
                        let s = (r.start as usize).min(text.len());
                        let l = ((r.end.saturating_sub(r.start)) as usize).max(1).min(text.len().saturating_sub(s));
                        labels.push(LabeledSpan::new_with_span(Some(label.clone()), (s, l)));
                    }
                }
                let mut diag = MietteDiagnostic::new(head).with_labels(labels);
                diag = diag.with_severity(match d.severity {
                    Severity::Error => miette::Severity::Error,
                    Severity::Warning => miette::Severity::Warning,
                    Severity::Info => miette::Severity::Advice,
                });
                if let Some(h) = &d.help {
                    diag = diag.with_help(h.clone());
                }
                let name = rel(&report.root, &loc.path);
                let r = miette::Report::new(diag).with_source_code(NamedSource::new(name, text));
                let _ = handler.render_report(&mut out, r.as_ref());
            }
            None => {
                let _ = writeln!(out, "{head}");
                if let Some(h) = &d.help {
                    let _ = writeln!(out, "  help: {h}");
                }
            }
        }
        if !d.contexts.is_empty() {
            let shown: Vec<&str> = d.contexts.iter().take(4).map(String::as_str).collect();
            let more = d.contexts.len().saturating_sub(4);
            let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
            let _ = writeln!(out, "  = while evaluating {}{tail}", shown.join("; "));
        }
        for (label, r) in &d.related {
            if d.location.as_ref().is_some_and(|l| l.path == r.path) {
                continue;
            }
            let _ = writeln!(out, "  note: {label}: {}:{}:{}", rel(&report.root, &r.path), r.line, r.column);
        }
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{}: {} error{}, {} warning{}, {} info; {} files, {} machines checked ({} skipped: unknown inputs) in {} ms",
        if s.errors > 0 { "check failed" } else { "check passed" },
        s.errors,
        if s.errors == 1 { "" } else { "s" },
        s.warnings,
        if s.warnings == 1 { "" } else { "s" },
        s.infos,
        s.files,
        s.machines,
        s.machines_skipped,
        s.millis
    );
    for note in &s.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// A JSON string literal.
pub fn js(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn opt_js(s: &Option<String>) -> String {
    s.as_deref().map(js).unwrap_or_else(|| "null".into())
}

fn diag_json(root: &Path, d: &Diagnostic) -> String {
    let (file, l, c, el, ec) = match &d.location {
        Some(loc) => (
            js(&rel(root, &loc.path)),
            loc.line.to_string(),
            loc.column.to_string(),
            loc.end_line.to_string(),
            loc.end_column.to_string(),
        ),
        None => ("null".into(), "null".into(), "null".into(), "null".into(), "null".into()),
    };
    let related: Vec<String> = d
        .related
        .iter()
        .map(|(label, r)| {
            format!(
                "{{\"message\":{},\"file\":{},\"line\":{},\"column\":{}}}",
                js(label),
                js(&rel(root, &r.path)),
                r.line,
                r.column
            )
        })
        .collect();
    format!(
        "{{\"code\":{},\"name\":{},\"severity\":{},\"message\":{},\"file\":{file},\"line\":{l},\"column\":{c},\"end_line\":{el},\"end_column\":{ec},\"help\":{},\"related\":[{}],\"contexts\":[{}]}}",
        js(d.code),
        js(rule(d.code).map(|r| r.name).unwrap_or("")),
        js(d.severity.as_str()),
        js(&d.message),
        opt_js(&d.help),
        related.join(","),
        d.contexts.iter().map(|c| js(c)).collect::<Vec<_>>().join(",")
    )
}

fn json(report: &Report) -> String {
    let diags: Vec<String> = report.diagnostics.iter().map(|d| diag_json(&report.root, d)).collect();
    let s = &report.summary;
    format!(
        "{{\"diagnostics\":[{}],\"summary\":{{\"errors\":{},\"warnings\":{},\"infos\":{},\"files\":{},\"machines\":{},\"machines_skipped\":{},\"duration_ms\":{}}}}}\n",
        diags.join(","),
        s.errors,
        s.warnings,
        s.infos,
        s.files,
        s.machines,
        s.machines_skipped,
        s.millis
    )
}

fn sarif(report: &Report) -> String {
    let rules: Vec<String> = RULES
        .iter()
        .map(|r| {
            format!(
                "{{\"id\":{},\"name\":{},\"shortDescription\":{{\"text\":{}}},\"helpUri\":{},\"defaultConfiguration\":{{\"level\":{}}}}}",
                js(r.code),
                js(r.name),
                js(r.summary),
                js(&format!("https://github.com/dendrite-nix/dendrite/blob/main/docs/rules/{}.md", r.code)),
                js(sarif_level(r.default))
            )
        })
        .collect();
    let results: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let loc = match &d.location {
                Some(l) => format!(
                    "[{{\"physicalLocation\":{{\"artifactLocation\":{{\"uri\":{},\"uriBaseId\":\"SRCROOT\"}},\"region\":{{\"startLine\":{},\"startColumn\":{},\"endLine\":{},\"endColumn\":{}}}}}}}]",
                    js(&rel(&report.root, &l.path)),
                    l.line,
                    l.column,
                    l.end_line,
                    l.end_column
                ),
                None => "[]".into(),
            };
            let rule_index = RULES.iter().position(|r| r.code == d.code).unwrap_or(0);
            format!(
                "{{\"ruleId\":{},\"ruleIndex\":{rule_index},\"level\":{},\"message\":{{\"text\":{}}},\"locations\":{loc}}}",
                js(d.code),
                js(sarif_level(d.severity)),
                js(&text)
            )
        })
        .collect();
    format!(
        "{{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{{\"tool\":{{\"driver\":{{\"name\":\"dendrite\",\"version\":{},\"informationUri\":\"https://github.com/dendrite-nix/dendrite\",\"rules\":[{}]}}}},\"originalUriBaseIds\":{{\"SRCROOT\":{{\"uri\":{}}}}},\"results\":[{}]}}]}}\n",
        js(env!("CARGO_PKG_VERSION")),
        rules.join(","),
        js(&format!("file://{}/", report.root.display())),
        results.join(",")
    )
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

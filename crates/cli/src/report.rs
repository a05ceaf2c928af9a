//! Rendering diagnostics with miette.

use std::sync::Arc;

use dendrite_syntax::Span;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

/// A miette-rendered source snippet for `span`, labelled with `label`.
pub fn miette_snippet(span: Span, label: &str) -> String {
    let info = span.file.info();
    let text: Arc<str> = info.text.clone();
    let len = (span.end.saturating_sub(span.start)) as usize;
    let label = label.lines().next().unwrap_or("").to_string();
    let diag = MietteDiagnostic::new(label.clone()).with_labels(vec![LabeledSpan::new(
        Some("here".to_string()),
        span.start as usize,
        len.max(1).min(text.len().saturating_sub(span.start as usize)),
    )]);
    let report = miette::Report::new(diag).with_source_code(NamedSource::new(info.origin.display(), text.to_string()));
    let theme = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    let _ = GraphicalReportHandler::new_themed(theme).render_report(&mut out, report.as_ref());
    out
}

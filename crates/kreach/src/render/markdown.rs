use super::{columns, status_word};
use crate::report::Report;

/// A matrix and the findings, to paste into a support ticket.
pub fn markdown(report: &Report) -> String {
    let stages = columns(report);
    let mut out = String::new();
    let verdict = report.status.as_word();
    out.push_str(&format!(
        "## kreach {} — {verdict}\n\nRun at {} in {} ms (deadline {} ms); bootstrap `{}`, security.protocol `{}`, TLS verification {}.\n\n",
        report.kreach_version,
        report.started_at,
        report.elapsed_ms,
        report.timeout_ms,
        code(&report.settings.bootstrap.join(",")),
        report.settings.security_protocol,
        match report.settings.tls_verification {
            crate::report::TlsVerification::Enabled => "on",
            crate::report::TlsVerification::Disabled => "**off (--insecure)**",
        }
    ));
    if let Some(diagram) = super::diagram::mermaid(report) {
        out.push_str(&diagram);
        out.push('\n');
    }
    out.push_str("| target |");
    for s in &stages {
        out.push_str(&format!(" {} |", s.as_str().to_uppercase()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(stages.len()));
    out.push('\n');
    for t in &report.targets {
        match &t.endpoint {
            Some(e) if e.name != t.target => out.push_str(&format!("| {} `{}` |", code(&e.name), code(&t.target))),
            _ => out.push_str(&format!("| `{}` |", code(&t.target))),
        }
        for s in &stages {
            match t.stage(*s) {
                Some(r) => out.push_str(&format!(" {} {} |", status_word(r.status), escape(&r.summary))),
                None => out.push_str(" — |"),
            }
        }
        out.push('\n');
    }
    if !report.zones.is_empty() {
        out.push_str("\n**Zones:** ");
        let zones: Vec<String> = report
            .zones
            .iter()
            .map(|z| {
                format!(
                    "`{}` {} ({}/{})",
                    code(&z.az_id),
                    crate::render::status_word(z.status),
                    z.passed,
                    z.brokers.len()
                )
            })
            .collect();
        out.push_str(&zones.join(", "));
        out.push('\n');
    }
    out.push_str("\n### Findings\n\n");
    if report.findings.is_empty() {
        out.push_str("None.\n");
    }
    for f in &report.findings {
        out.push_str(&format!(
            "- **{}** `{}` on `{}` ({}): {}\n  - Fix: {}\n",
            f.severity.as_str(),
            f.code,
            code(&f.target),
            f.stage.as_str(),
            escape(&f.summary),
            escape(&f.fix)
        ));
        for line in crate::report::change_lines(f, report.changes.as_ref()) {
            out.push_str(&format!("  - Changed: {}\n", escape(&line)));
        }
    }
    if let Some(changes) = report.changes.as_ref().filter(|c| !c.resources.is_empty()) {
        out.push_str(&format!("\nChanges: CloudTrail, last {} h; {}.\n", changes.since_hours, escape(&changes.lag)));
    }
    out
}

/// Text made inert in a table cell or list item (it carries peer text: broker names, error
/// messages, certificate subjects): line breaks become spaces, control characters visible escapes;
/// every character Markdown or HTML could act on is backslash-escaped (no link, image, emphasis,
/// HTML tag or entity can form), and a word that a renderer would turn into a link by itself (a
/// URL, `www.`, an e-mail address) goes into a code span, where nothing is live.
pub(crate) fn escape(s: &str) -> String {
    let text = super::clean(&s.replace(['\n', '\r'], " ")).into_owned();
    let mut out = String::with_capacity(text.len() + 16);
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lower = word.to_ascii_lowercase();
        if lower.contains("://") || lower.contains("www.") || word.contains('@') {
            out.push_str(&format!("`{}`", code(word)));
            continue;
        }
        for c in word.chars() {
            if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '|' | '~' | '&') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// Peer text inside inline code: a backtick would end it.
fn code(s: &str) -> String {
    super::clean(s).replace('`', "'").replace('|', "\\|")
}

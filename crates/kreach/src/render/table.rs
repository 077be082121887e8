use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};

use super::{cell, clean, columns};
use crate::findings::Severity;
use crate::report::{Report, StageStatus, Status};

/// The pass/fail matrix (rows = targets, columns = stages), then the findings with their fixes.
/// `color` adds ANSI colours (the CLI turns it on for a TTY without `NO_COLOR`).
pub fn table(report: &Report, color: bool) -> String {
    let stages = columns(report);
    let mut matrix = Table::new();
    matrix.load_preset(UTF8_FULL_CONDENSED);
    if color {
        // On a terminal: fit its width, wrapping cells.
        matrix.set_content_arrangement(ContentArrangement::Dynamic).enforce_styling();
    } else {
        // In a pipe or a log: one line per row, never wrapped mid-name.
        matrix.set_content_arrangement(ContentArrangement::Disabled).force_no_tty();
    }
    let mut header = vec![Cell::new("target").add_attribute(Attribute::Bold)];
    header.extend(stages.iter().map(|s| Cell::new(s.as_str().to_uppercase()).add_attribute(Attribute::Bold)));
    matrix.set_header(header);
    for t in &report.targets {
        let label = match &t.endpoint {
            Some(e) if e.name != t.target => format!("{}\n{}", clean(&e.name), clean(&t.target)),
            _ => clean(&t.target).into_owned(),
        };
        let mut row = vec![Cell::new(label)];
        for stage in &stages {
            row.push(match cell(t, *stage) {
                Some((result, text)) => {
                    let c = Cell::new(text);
                    if color { c.fg(stage_color(result.status)) } else { c }
                }
                None => Cell::new("—"),
            });
        }
        matrix.add_row(row);
    }

    let mut out = String::new();
    out.push_str(&matrix.to_string());
    out.push('\n');
    let verdict = match report.status {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
    };
    let counts = |sev| report.findings.iter().filter(|f| f.severity == sev).count();
    out.push_str(&format!(
        "\n{}: {} error(s), {} warning(s), {} info in {} ms (deadline {} ms){}\n",
        paint(verdict, status_color(report.status), color),
        counts(Severity::Error),
        counts(Severity::Warning),
        counts(Severity::Info),
        report.elapsed_ms,
        report.timeout_ms,
        if report.settings.tls_verification == crate::report::TlsVerification::Disabled {
            "; TLS verification DISABLED (--insecure)"
        } else {
            ""
        }
    ));
    if let Some(v) = &report.vantage {
        let facts: Vec<String> = v.facts.iter().map(|(k, val)| format!("{k}={}", clean(val))).collect();
        let vpc = match (v.kind, v.vpc_attached) {
            (crate::report::VantageKind::Lambda, Some(true)) => "; attached to a VPC",
            (crate::report::VantageKind::Lambda, Some(false)) => "; NOT attached to a VPC",
            _ => "",
        };
        out.push_str(&format!(
            "Vantage: {}{}{vpc}{}\n",
            clean(&v.label),
            if facts.is_empty() { String::new() } else { format!(" ({})", facts.join(", ")) },
            v.note.as_ref().map(|n| format!(" — {}", clean(n))).unwrap_or_default()
        ));
    }
    if let Some(s) = &report.secret {
        let how = match s.outcome {
            crate::report::SecretOutcome::Read => format!("read ({})", s.keys.join("/")),
            _ => format!("NOT read: {}", clean(s.detail.as_deref().unwrap_or(""))),
        };
        out.push_str(&format!("Credentials: secret {} {how}\n", clean(&s.secret_id)));
    }
    if !report.zones.is_empty() {
        let zones: Vec<String> = report
            .zones
            .iter()
            .map(|z| {
                let word = if z.status == StageStatus::Pass { "PASS" } else { "FAIL" };
                let color_of = if z.status == StageStatus::Pass { Color::Green } else { Color::Red };
                format!(
                    "{} {} ({}/{} brokers)",
                    clean(&z.az_id),
                    paint(word, color_of, color),
                    z.passed,
                    z.brokers.len()
                )
            })
            .collect();
        out.push_str(&format!("Zones: {}\n", zones.join(", ")));
    }
    for f in &report.findings {
        let sev = match f.severity {
            Severity::Error => paint("ERROR", Color::Red, color),
            Severity::Warning => paint("WARN ", Color::Yellow, color),
            Severity::Info => paint("INFO ", Color::Blue, color),
        };
        out.push_str(&format!(
            "\n{sev} {} [{} {}]\n  {}\n",
            f.code,
            clean(&f.target),
            f.stage.as_str(),
            clean(&f.summary)
        ));
        if f.severity != Severity::Info {
            out.push_str(&format!("  fix: {}\n", clean(&f.fix)));
        }
    }
    out
}

fn stage_color(status: StageStatus) -> Color {
    match status {
        StageStatus::Pass => Color::Green,
        StageStatus::Warn => Color::Yellow,
        StageStatus::Fail => Color::Red,
        StageStatus::Skipped | StageStatus::NotApplicable => Color::DarkGrey,
    }
}

fn status_color(status: Status) -> Color {
    match status {
        Status::Pass => Color::Green,
        Status::Warn => Color::Yellow,
        Status::Fail => Color::Red,
    }
}

fn paint(text: &str, color: Color, enabled: bool) -> String {
    if !enabled {
        return text.to_string();
    }
    let code = match color {
        Color::Red => 31,
        Color::Green => 32,
        Color::Yellow => 33,
        Color::Blue => 34,
        _ => 39,
    };
    format!("\x1b[1;{code}m{text}\x1b[0m")
}

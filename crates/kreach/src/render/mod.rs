//! Renderers: pure functions of `&Report`.

mod diagram;
mod html;
mod markdown;
mod merge;
mod metrics;
mod table;

pub use html::{escape as html_escape, html, merged_html};
pub use markdown::markdown;
pub use merge::{merged_markdown, merged_table};
pub use metrics::{ANY_ZONE, EMF_NAMESPACE, OTHER_ZONE, emf, emf_as, prometheus, prometheus_many, unique_labels};

/// Text made inert for Markdown (what the Markdown report does to peer text).
pub fn md_escape(text: &str) -> String {
    markdown::escape(text)
}
pub use crate::text::{clean, truncate};
pub use table::wrap_to;
pub(crate) use table::{TARGET_WIDTH, shared_domain_of, short_target};
pub use table::{table, table_width};

use crate::report::{Report, Stage, StageStatus};

/// The report as pretty JSON (the form `docs/report.schema.json` describes).
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Matrix columns: every stage some target has, in stage order.
pub(crate) fn columns(report: &Report) -> Vec<Stage> {
    let mut stages: Vec<Stage> = report.targets.iter().flat_map(|t| t.stages.iter().map(|s| s.stage)).collect();
    stages.sort();
    stages.dedup();
    stages
}

/// The overall status as every output spells it: `PASS`, `WARN`, `FAIL` ([`Status::as_word`](crate::report::Status::as_word)).
pub fn status_label(status: crate::report::Status) -> &'static str {
    status.as_word()
}

pub(crate) fn status_word(status: StageStatus) -> &'static str {
    status.as_word()
}

/// What changed from `before` to `after` (two runs of the same check, e.g. `--watch`): stage
/// verdicts that moved, findings that appeared or went away, the overall status. Empty: no change.
pub fn changes(before: &Report, after: &Report) -> Vec<String> {
    changes_mended(before, after, None)
}

/// [`changes`], with what mended each finding that went away where `mended` (CloudTrail's write
/// events on its resources since the run before, [`crate::report::mended_resources`]) says.
pub fn changes_mended(before: &Report, after: &Report, mended: Option<&crate::report::ChangeAudit>) -> Vec<String> {
    use std::collections::BTreeSet;
    let mut out = Vec::new();
    if before.status != after.status {
        out.push(format!("status {} → {}", before.status.as_word(), after.status.as_word()));
    }
    for t in &after.targets {
        let Some(old) = before.targets.iter().find(|o| o.target == t.target && o.role == t.role) else {
            out.push(format!("+ row {}", clean(&t.target)));
            continue;
        };
        for s in &t.stages {
            if let Some(o) = old.stage(s.stage) {
                if o.status != s.status {
                    out.push(format!(
                        "{} {}: {} → {} ({})",
                        clean(&t.target),
                        s.stage.as_str(),
                        status_word(o.status),
                        status_word(s.status),
                        clean(&s.summary)
                    ));
                }
            }
        }
    }
    for t in before.targets.iter().filter(|o| !after.targets.iter().any(|t| t.target == o.target && t.role == o.role)) {
        out.push(format!("- row {}", clean(&t.target)));
    }
    let key = |r: &Report| -> BTreeSet<(String, String)> {
        r.findings.iter().map(|f| (f.code.as_str().to_string(), f.target.clone())).collect()
    };
    for (code, target) in key(after).difference(&key(before)) {
        out.push(format!("+ {code} [{}]", clean(target)));
    }
    // What went, once per code and target in their order, with why where the evidence says.
    let mut gone = crate::report::mended_findings(before, after);
    gone.sort_by(|a, b| (a.code.as_str(), &a.target).cmp(&(b.code.as_str(), &b.target)));
    gone.dedup_by(|a, b| a.code == b.code && a.target == b.target);
    for f in gone {
        // A cached NXDOMAIN expires on its own; otherwise the change that mended it, if looked up.
        let why = if f.cause == crate::report::Cause::CachedNegative {
            "fixed: the resolver's cached NXDOMAIN expired and the record answers; nothing else had to change"
                .to_string()
        } else {
            crate::report::mended_by(f, mended).unwrap_or_else(|| "fixed".to_string())
        };
        out.push(format!("- {} [{}] ({})", f.code.as_str(), clean(&f.target), clean(&why)));
    }
    out
}

//! Renderers: pure functions of `&Report`.

mod markdown;
mod table;

pub use markdown::markdown;
pub use table::table;

use crate::report::{Report, Stage, StageResult, StageStatus, TargetReport};

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

pub(crate) fn status_word(status: StageStatus) -> &'static str {
    match status {
        StageStatus::Pass => "PASS",
        StageStatus::Warn => "WARN",
        StageStatus::Fail => "FAIL",
        StageStatus::Skipped => "skip",
        StageStatus::NotApplicable => "n/a",
    }
}

/// The text of one matrix cell: verdict, time, and the summary.
pub(crate) fn cell(target: &TargetReport, stage: Stage) -> Option<(&StageResult, String)> {
    let result = target.stage(stage)?;
    let time = result.elapsed_ms.map(|ms| format!(" {ms} ms")).unwrap_or_default();
    Some((result, format!("{}{time}\n{}", status_word(result.status), result.summary)))
}

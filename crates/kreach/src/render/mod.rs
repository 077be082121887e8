//! Renderers: pure functions of `&Report`.

mod diagram;
mod markdown;
mod table;

pub use markdown::markdown;
pub use table::table;

use std::borrow::Cow;

use crate::report::{Report, Stage, StageResult, StageStatus, TargetReport};

/// Text that came from a peer or a file (host names, certificate subjects, error messages) made
/// safe for a terminal or a Markdown page: control characters (escape sequences, carriage
/// returns, line breaks) and bidirectional overrides become visible `\u{..}` escapes.
pub fn clean(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

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
    Some((result, format!("{}{time}\n{}", status_word(result.status), clean(&result.summary))))
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn peer_text_cannot_drive_the_terminal() {
        assert_eq!(clean("b1.usw2-az1.example.com"), "b1.usw2-az1.example.com");
        assert_eq!(clean("evil\x1b[2J\rhost\n"), "evil\\u{1b}[2J\\u{d}host\\u{a}");
        assert_eq!(clean("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(clean("\u{9b}"), "\\u{9b}", "C1 CSI");
    }
}

//! `kreach merge`: reports from several vantage points as one view.

use std::path::PathBuf;
use std::process::ExitCode;

use kreach::{Report, render};

use crate::cli::Output;
use crate::output::{CliError, Outcome, emit, render_merged};

/// Reads the reports (capped, regular files only), names each column by its file (unique), and
/// renders the merged view; exit 1 when any report failed.
pub(crate) fn merge(paths: &[PathBuf], output: Output) -> Outcome {
    let mut reports = Vec::new();
    for path in paths {
        // A report is a few MB at most: the read is capped, and only a regular file is read.
        let bytes = kreach::input::read_input_file(path, kreach::limits::MAX_REPORT_FILE, "REPORT.json")
            .map_err(|e| CliError::usage(e.to_string()))?;
        let report: Report = serde_json::from_slice(&bytes)
            .map_err(|e| CliError::usage(format!("{} is not a kreach JSON report: {e}", path.display())))?;
        let label = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        reports.push((label, report));
    }
    // Each column is named by its file, made unique (two `report.json` from two folders).
    let labels = render::unique_labels(reports.iter().map(|(l, _)| l.as_str()));
    for ((label, _), unique) in reports.iter_mut().zip(labels) {
        *label = unique;
    }
    let merged = kreach::merge(&reports);
    emit(&render_merged(&reports, &merged, output));
    let failed = merged.statuses.contains(&kreach::Status::Fail);
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

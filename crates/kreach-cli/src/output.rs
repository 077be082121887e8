//! One output dispatch for every command: a report (or several, merged) rendered in the format
//! asked, written to stdout; an error as one line on stderr with its exit code.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use kreach::{Report, render};

use crate::cli::Output;

/// Exit code when the input is bad (clap uses the same for usage errors).
pub(crate) const EXIT_USAGE: u8 = 2;

/// Why a command could not give its answer: the message (one line) and the exit code.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) message: String,
    pub(crate) code: u8,
}

impl CliError {
    /// Bad usage or input (exit 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        CliError { message: message.into(), code: EXIT_USAGE }
    }

    /// The command ran and could not give its answer (exit 1).
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        CliError { message: message.into(), code: 1 }
    }
}

impl From<String> for CliError {
    fn from(message: String) -> Self {
        CliError::usage(message)
    }
}

/// What a command returns.
pub(crate) type Outcome = Result<ExitCode, CliError>;

/// A merged view (a merge's files, a fleet's functions) in the format asked: the grid, or each
/// report's metrics under its column's name.
pub(crate) fn render_merged(reports: &[(String, Report)], merged: &kreach::Merged, output: Output) -> String {
    match output {
        Output::Json => serde_json::to_string_pretty(merged).unwrap_or_default() + "\n",
        Output::Table => kreach::render::merged_table(merged),
        Output::Markdown => kreach::render::merged_markdown(merged),
        Output::Html => render::merged_html(merged),
        Output::Emf => reports.iter().map(|(l, r)| render::emf_as(r, Some(l), now_ms())).collect(),
        Output::Prometheus => {
            render::prometheus_many(&reports.iter().map(|(l, r)| (l.as_str(), r)).collect::<Vec<_>>())
        }
    }
}

pub(crate) fn output_name(output: Output) -> &'static str {
    match output {
        Output::Table => "table",
        Output::Json => "json",
        Output::Markdown => "markdown",
        Output::Emf => "emf",
        Output::Prometheus => "prometheus",
        Output::Html => "html",
    }
}

pub(crate) fn render_report(report: &Report, output: Output) -> String {
    match output {
        Output::Table => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            // The terminal's width when the shell says it (COLUMNS), else the 100 columns kreach fits.
            let width = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).unwrap_or(100);
            render::table_width(report, color, width)
        }
        Output::Json => format!("{}\n", render::json(report)),
        Output::Markdown => render::markdown(report),
        Output::Emf => render::emf(report, now_ms()),
        Output::Prometheus => render::prometheus(report),
        Output::Html => render::html(report),
    }
}

/// Milliseconds since the epoch (an EMF line's timestamp).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

pub(crate) fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// One line on stderr. Whatever the message quotes (an input, a peer's words) reaches the terminal
/// escaped and capped: no control sequence, no multi-megabyte echo.
pub(crate) fn fail(message: &str, code: u8) -> ExitCode {
    const MAX: usize = 2000;
    let mut text: String = kreach::render::clean(message).into_owned();
    if text.chars().count() > MAX {
        text = text.chars().take(MAX).collect::<String>() + "…";
    }
    let _ = writeln!(std::io::stderr(), "kreach: error: {text}");
    ExitCode::from(code)
}

//! Per-step events through `tracing` (`-v`, `RUST_LOG`), and the live progress line fed by the
//! same typed steps.

use std::io::{IsTerminal, Write};

use crate::cli::{Cli, Output, command_output};
use crate::progress;

/// The live progress line, when drawn (see [`progress::wanted`]).
pub(crate) static PROGRESS: std::sync::OnceLock<progress::Progress> = std::sync::OnceLock::new();

/// Per-step events through `tracing`, on stderr, when -v or RUST_LOG asks for them; the same
/// events feed the live progress line when it is drawn.
pub(crate) fn init_tracing(cli: &Cli) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = match (cli.verbose, std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty())) {
        (0, None) => None,
        (0, Some(env)) => Some(env),
        (1, _) => Some("kreach=info".to_string()),
        _ => Some("kreach=debug".to_string()),
    };
    // Only a command that runs a diagnosis has progress to show.
    let draw = command_output(&cli.command).is_some_and(|output| {
        let json_to_pipe = output == Output::Json && !std::io::stdout().is_terminal();
        progress::wanted(std::io::stderr().is_terminal(), filter.is_some(), json_to_pipe, cli.no_progress)
    });
    let events = filter.map(|f| {
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(false).with_filter(log_filter(&f))
    });
    if draw {
        PROGRESS.get_or_init(progress::Progress::default);
    }
    if let Some(events) = events {
        let _ = tracing_subscriber::registry().with(events).try_init();
    }
}

/// `RUST_LOG`-style directives (`kreach=debug,hickory_proto=info`, or a bare level) as a target
/// filter. A directive it cannot read is left out with a warning rather than silencing the rest.
fn log_filter(directives: &str) -> tracing_subscriber::filter::Targets {
    use std::str::FromStr as _;
    let parse = tracing_subscriber::filter::Targets::from_str;
    let mut kept = Vec::new();
    for directive in directives.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        match parse(directive) {
            Ok(_) => kept.push(directive),
            Err(_) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "kreach: warning: RUST_LOG directive {} is not `target=level` or a level; ignored",
                    kreach::quote(directive)
                );
            }
        }
    }
    parse(&kept.join(",")).unwrap_or_default()
}

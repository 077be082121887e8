//! The `kreach` command line: parses flags, runs the library, renders the report. `cli.rs` is the
//! flags, `cmd/` one room per command, `output.rs` the one dispatch every command renders through.

use std::process::ExitCode;

mod aws;
mod cli;
mod cmd;
mod events;
mod output;
mod progress;

use cli::{Cli, Command, FleetCommand};
use output::{CliError, emit, fail};

/// Runs the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let cli = parse();
    events::init_tracing(&cli);
    match run(cli) {
        Ok(code) => code,
        Err(e) => fail(&e.message, e.code),
    }
}

/// The command line, with `--version` saying what the build is: the version, the commit, the
/// target and the librdkafka linked in.
fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let long = format!(
        "{} (commit {}, target {}, librdkafka {})",
        env!("CARGO_PKG_VERSION"),
        env!("KREACH_COMMIT"),
        env!("KREACH_TARGET"),
        kreach_parity::librdkafka_version()
    );
    // Once per process: clap keeps a version as a static string.
    let long: &'static str = Box::leak(long.into_boxed_str());
    let matches = Cli::command().version(long).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn run(cli: Cli) -> output::Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    match cli.command {
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "kreach", &mut out);
            emit(&String::from_utf8_lossy(&out));
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut out)
                .map_err(|e| CliError::failed(format!("cannot render the man page: {e}")))?;
            emit(&String::from_utf8_lossy(&out));
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&kreach::report_schema()).unwrap_or_default();
            emit(&format!("{schema}\n"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(args) => runtime.block_on(cmd::check::check(args)),
        Command::Records(args) => runtime.block_on(cmd::records::records(args)),
        Command::Twin(args) => runtime.block_on(cmd::twin::twin(args)),
        Command::Merge { reports, output } => cmd::merge::merge(&reports, output),
        Command::Lab(args) => runtime.block_on(cmd::lab::lab(args)),
        Command::Serve(args) => runtime.block_on(cmd::serve::serve_cmd(*args)),
        Command::Fleet(args) => match args.template {
            Some(FleetCommand::Template(t)) => cmd::fleet::fleet_template(t),
            None => runtime.block_on(cmd::fleet::fleet_cmd(*args)),
        },
    }
}

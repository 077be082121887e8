//! The `kreach` command line: parses flags, runs the library, renders the report. `cli.rs` is the
//! flags, `cmd/` one room per command, `output.rs` the one dispatch every command renders through.

use std::process::ExitCode;

use clap::Parser;

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
    let cli = Cli::parse();
    events::init_tracing(&cli);
    match run(cli) {
        Ok(code) => code,
        Err(e) => fail(&e.message, e.code),
    }
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

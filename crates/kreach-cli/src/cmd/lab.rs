//! `kreach lab`: the in-process lab, diagnosed as a user would, or served for other tools.

use std::process::ExitCode;

use kreach_lab::{Fault, LAB_PRIVATE_CIDR, Lab};

use crate::cli::{Cli, Command, LabArgs, Output};
use crate::cmd::{Run, options, watch};
use crate::output::{CliError, Outcome, emit, output_name};

/// One listing row at most 100 columns wide: `cells` padded to `widths`, then `text` wrapped at
/// spaces under its own column.
pub(crate) fn columns(cells: &[&str], widths: &[usize], text: &str) -> String {
    let head: String = cells.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$} ")).collect();
    let indent = " ".repeat(head.chars().count());
    kreach::render::wrap_to(text, &head, &indent, 100)
}

/// The faults and layouts, in columns that fit 100.
fn list() -> String {
    // Name, lab and description in columns that fit 100: the description wraps under itself.
    let mut text = String::new();
    for f in Fault::ALL {
        let mut what = f.description().to_string();
        if f.min_brokers() > 1 {
            what.push_str(&format!(" (--brokers {} or more)", f.min_brokers()));
        }
        // The hop it breaks, as the findings' `hop` field names it (what the fault-space walk checks).
        let hop = if f.hop().is_empty() { "-" } else { f.hop() };
        text.push_str(&columns(&[f.name(), f.labs().label(), hop], &[24, 15, 11], &what));
    }
    text.push_str(
        "\n`kreach lab` runs the in-process lab (no root); the network-namespace lab (BIND, haproxy,\n\
         iptables) runs in the tests (tests/netns_lab.rs).\n\nLayouts (--layout):\n",
    );
    for l in kreach_lab::LabLayout::ALL {
        text.push_str(&columns(&[l.name()], &[25], l.description()));
    }
    text
}

/// `kreach lab`: the faults listed, the lab served, or diagnosed exactly as `kreach check` would
/// with the lab's arguments.
pub(crate) async fn lab(args: LabArgs) -> Outcome {
    if args.list_faults {
        emit(&list());
        return Ok(ExitCode::SUCCESS);
    }
    let fault: Fault = args
        .fault
        .parse()
        .map_err(|e| CliError::usage(format!("invalid --fault: {e} (kreach lab --list-faults lists them)")))?;
    let layout = match args.layout.as_deref().map(str::parse::<kreach_lab::LabLayout>) {
        None => fault.layout().unwrap_or_default(),
        Some(Ok(l)) => l,
        Some(Err(e)) => return Err(CliError::usage(format!("invalid --layout: {e}"))),
    };
    let lab = Lab::start_layout(layout, fault, args.brokers)
        .await
        .map_err(|e| CliError::usage(format!("cannot start the lab: {e}")))?;
    if args.serve {
        return serve(&lab, args.output).await;
    }
    // Diagnose the lab exactly as a user would with `kreach check` and the lab's arguments.
    let mut argv = vec!["kreach".to_string(), "check".to_string()];
    argv.extend(lab.check_args());
    if args.endpoints || fault.needs_endpoints() {
        argv.extend(lab.endpoint_args());
    }
    argv.extend(["--timeout".into(), args.timeout.to_string(), "--output".into(), output_name(args.output).into()]);
    let check_args = match <Cli as clap::Parser>::try_parse_from(&argv) {
        Ok(Cli { command: Command::Check(check_args), .. }) => check_args,
        Ok(_) => return Err(CliError::usage("internal: the lab's arguments are not a check")),
        Err(e) => return Err(CliError::usage(format!("the lab's arguments do not parse: {e}"))),
    };
    let client_check = !check_args.no_client_check;
    let options = options(*check_args)?;
    let config = options.validate(&|k| std::env::var(k).ok()).map_err(|e| CliError::usage(e.to_string()))?;
    if args.output == Output::Table {
        let azs: Vec<String> = lab.azs.iter().map(|a| format!("{}={}", a.az_id, a.eni)).collect();
        emit(&format!(
            "kreach lab: {}, layout {}\n  {}\n  VPC resolver {}, public DNS {}\n  endpoint addresses {} ({})\n  \
             ports {} (Kafka) and {} (HTTPS)\n  this lab ends with this run: `kreach lab --serve` keeps it up and\n  \
             prints the kreach check command to run against it\n\n",
            fault.name(),
            layout,
            fault.description(),
            lab.resolver,
            lab.public_resolver,
            azs.join(" "),
            LAB_PRIVATE_CIDR,
            lab.kafka_port,
            lab.https_port,
        ));
    }
    // The lab is on loopback: there is no AWS account to audit.
    let run = Run {
        config: &config,
        properties: options.properties.filter(|_| client_check),
        client_check,
        aws: None,
        changes_since: None,
        secret: None,
        mapping: None,
        started: None,
        refused: Vec::new(),
    };
    watch(run, args.output, (std::time::Duration::ZERO, Some(1))).await
}

/// `PROGRAM check ARGS` as a command to paste while the lab is up: one flag and its value a line,
/// each line ending in a backslash, every word quoted for the shell where it needs it.
pub(crate) fn shell_lines(program: &str, args: &[String]) -> String {
    let quote = |a: &str| shlex::try_quote(a).map(|q| q.into_owned()).unwrap_or_else(|_| "''".into());
    let mut lines = vec![format!("  {} check", quote(program))];
    let mut i = 0;
    while i < args.len() {
        let takes_value = args[i].starts_with("--") && args.get(i + 1).is_some_and(|v| !v.starts_with("--"));
        let line = if takes_value {
            let line = format!("    {} {}", quote(&args[i]), quote(&args[i + 1]));
            i += 2;
            line
        } else {
            let line = format!("    {}", quote(&args[i]));
            i += 1;
            line
        };
        lines.push(line);
    }
    lines.join(" \\\n")
}

/// Keeps the lab up until SIGINT or SIGTERM, after saying how to reach it: the `kreach check`
/// command (this very binary, so it runs as printed while the lab is up), or with `--output json`
/// one JSON line with the arguments and a Lambda event.
pub(crate) async fn serve(lab: &Lab, output: Output) -> Outcome {
    if output == Output::Json {
        let info = serde_json::json!({
            "fault": lab.fault.name(),
            "bootstrap": lab.bootstrap,
            "resolver": lab.resolver.to_string(),
            "public_resolver": lab.public_resolver.to_string(),
            "ca_file": lab.ca_file().display().to_string(),
            "kafka_port": lab.kafka_port,
            "https_port": lab.https_port,
            "check_args": lab.check_args(),
            "lambda_event": lab.lambda_event(),
        });
        emit(&format!("{info}\n"));
    } else {
        let program = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "kreach".into());
        emit(&format!(
            "kreach lab: {} ({}), serving until interrupted; while it is up, in another terminal:\n{}\n",
            lab.fault.name(),
            lab.fault.description(),
            shell_lines(&program, &lab.check_args())
        ));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::usage(format!("cannot wait for signals: {e}")))?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    Ok(ExitCode::SUCCESS)
}

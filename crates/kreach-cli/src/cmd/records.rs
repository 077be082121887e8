//! `kreach records`: the private zone's records, read from the endpoint.

#[cfg(feature = "aws")]
use std::process::ExitCode;

use crate::cli::RecordsArgs;
#[cfg(feature = "aws")]
use crate::cli::RecordsOutput;
#[cfg(feature = "aws")]
use crate::cmd::audit_input;
#[cfg(feature = "aws")]
use crate::output::emit;
use crate::output::{CliError, Outcome};

#[cfg(not(feature = "aws"))]
pub(crate) async fn records(_: RecordsArgs) -> Outcome {
    Err(CliError::usage(crate::aws::NO_AWS))
}

#[cfg(feature = "aws")]
pub(crate) async fn records(args: RecordsArgs) -> Outcome {
    let host = args
        .bootstrap
        .as_deref()
        .map(|b| kreach::HostPort::parse(b, kreach::DEFAULT_KAFKA_PORT))
        .transpose()
        .map_err(|e| CliError::usage(format!("invalid --bootstrap: {e}")))?
        .map(|hp| hp.host);
    if args.aws.vpc_endpoint.is_none() && args.aws.vpc_id.is_none() {
        return Err(CliError::usage("invalid --vpc-endpoint: give --vpc-endpoint vpce-… (or --vpc-id)"));
    }
    let input = audit_input(&args.aws, None, host.as_deref());
    if input.domain.is_none() {
        return Err(CliError::usage("invalid --dns-domain: give --dns-domain DOMAIN or --bootstrap HOST"));
    }
    let audit = kreach_aws::audit(&input, std::time::Duration::from_secs(30)).await;
    if let Some(why) = &audit.unavailable {
        return Err(CliError::failed(format!("the AWS API could not be read: {why}")));
    }
    if audit.expected_records.is_empty() {
        let why = audit.errors.first().cloned().unwrap_or_else(|| "the endpoint has no DNS names".into());
        return Err(CliError::failed(format!("no records: {why}")));
    }
    let text = match args.output {
        RecordsOutput::Json => serde_json::to_string_pretty(&audit.expected_records).unwrap_or_default() + "\n",
        RecordsOutput::ChangeBatch => {
            serde_json::to_string_pretty(&kreach_aws::change_batch(&audit.expected_records, args.ttl))
                .unwrap_or_default()
                + "\n"
        }
        RecordsOutput::Table => {
            let width = audit.expected_records.iter().map(|r| r.name.len()).max().unwrap_or(0);
            audit
                .expected_records
                .iter()
                .map(|r| format!("{:<width$}  {}  {}\n", r.name, r.record_type, r.value))
                .collect()
        }
    };
    emit(&text);
    Ok(ExitCode::SUCCESS)
}

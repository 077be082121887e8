//! `kreach check`: one diagnosis (or `--watch`), here or in a deployed kreach function.

use kreach::CheckOptions;

use crate::cli::*;
use crate::cmd::*;
use crate::output::*;

/// `kreach check`: the input step (mapping, secret, policy), then one run or a `--watch` loop.
pub(crate) async fn check(args: Box<CheckArgs>) -> Outcome {
    let started = std::time::Instant::now();
    let output = args.output;
    let client_check = !args.no_client_check;
    let watch_count = args.watch_count;
    let watch_every = match args.watch {
        None => None,
        Some(secs) if secs.is_finite() && (0.1..=86_400.0).contains(&secs) => {
            Some(std::time::Duration::from_secs_f64(secs))
        }
        Some(secs) => {
            return Err(CliError::usage(format!("invalid --watch: {secs} is not between 0.1 and 86400 seconds")));
        }
    };
    if let Some(function) = args.via_function.clone() {
        return via_function(&function, &args, output).await;
    }
    let aws = args.aws.clone();
    let changes_since = args.changes_since;
    let lambda = args.lambda.clone();
    let mapping = mapping_input(&lambda)?;
    let secret = args.sasl_secret.clone();
    let options = options(*args)?;
    let mut input = kreach::input::RunInput::new(options);
    input.mapping = mapping;
    input.secret = secret;
    input.region = aws.aws_region.clone();
    input.started = started;
    let ready = crate::aws::prepare(input).await.map_err(|e| match e {
        kreach::input::InputError::Mapping(e) => {
            let id = lambda.event_source_mapping.as_deref().unwrap_or_default();
            CliError::failed(format!("cannot read --event-source-mapping {id}: {e}"))
        }
        e => CliError::usage(e.to_string()),
    })?;
    let run = Run {
        config: &ready.config,
        properties: ready.properties.clone().filter(|_| client_check),
        client_check,
        aws: Some((&aws, &lambda)),
        changes_since,
        secret: ready.secret.clone(),
        mapping: ready.mapping.clone(),
        started: Some(ready.started),
        refused: ready.refused.clone(),
    };
    let plan = match watch_every {
        Some(every) => (every, watch_count),
        None => (std::time::Duration::ZERO, Some(1)),
    };
    watch(run, output, plan).await
}

/// The check's flags as the kreach function's event: the one options type as JSON (its local-only
/// parts are no field of it). The properties file, -X, the CA file and a mapping file stay on this
/// machine on purpose: refused here by name. Credentials are the function's own.
pub(crate) fn function_event(args: &CheckArgs) -> Result<serde_json::Value, String> {
    if args.lambda.event_source_mapping_file.is_some() {
        return Err(
            "invalid --via-function: give the mapping as --event-source-mapping UUID|ARN (the function reads it)"
                .into(),
        );
    }
    if args.config.is_some() || !args.property.is_empty() || args.ca_file.is_some() {
        return Err(
            "invalid --via-function: --config, -X and --ca-file stay on this machine; the function uses its own \
                    configuration (KREACH_CA_PEM, a --sasl-secret it allows)"
                .into(),
        );
    }
    if args.allow_insecure_credentials {
        return Err("invalid --via-function: --allow-insecure-credentials is the function's to decide \
             (KREACH_ALLOW_INSECURE_CREDENTIALS in its environment)"
            .into());
    }
    if args.changes_since.is_some() {
        return Err("invalid --via-function: --changes-since is looked up by this machine's AWS session after a \
             local check; the function does not look up changes"
            .into());
    }
    serde_json::to_value(CheckOptions::from(args)).map_err(|e| format!("the check does not serialize: {e}"))
}

#[cfg(not(feature = "aws"))]
pub(crate) async fn via_function(_: &str, args: &CheckArgs, _: Output) -> Outcome {
    // The same refusals as the full build, then why nothing can be invoked.
    function_event(args)?;
    Err(CliError::usage(crate::aws::NO_AWS))
}

/// `check --via-function`: the check as the function's event, its report rendered here.
#[cfg(feature = "aws")]
pub(crate) async fn via_function(function: &str, args: &CheckArgs, output: Output) -> Outcome {
    let event = function_event(args)?;
    let region = args.aws.aws_region.clone().or_else(|| function.split(':').nth(3).map(str::to_string));
    let sdk = kreach_aws::sdk_config(region.as_deref(), None, None).await;
    // The function's own deadline plus a cold start and the way back.
    let budget = std::time::Duration::from_secs_f64(args.timeout) + std::time::Duration::from_secs(20);
    let report = kreach_aws::invoke_function(&sdk, function, &event, budget)
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
    emit(&render_report(&report, output));
    Ok(ExitCode::from(report.exit_code() as u8))
}

#[cfg(test)]
mod options_tests {

    use super::*;
    use clap::CommandFactory;

    /// Flags of `check` that stay on this machine on purpose, with why (reviewed: a new flag must
    /// be carried in the event or added here with its reason).
    const LOCAL_ONLY: &[(&str, &str)] = &[
        ("config", "a properties file on this machine: the function has its own configuration"),
        ("property", "-X properties are this machine's properties file's"),
        ("ca_file", "a file on this machine: the function trusts its own KREACH_CA_PEM"),
        ("allow_insecure_credentials", "the function's environment decides (KREACH_ALLOW_INSECURE_CREDENTIALS)"),
        ("via_function", "which function runs the check, not part of the check"),
        ("event_source_mapping_file", "a file on this machine: the function reads the mapping by its id"),
        ("no_client_check", "the function runs no librdkafka stage"),
        ("watch", "the caller's loop around checks"),
        ("watch_count", "the caller's loop around checks"),
        ("output", "how the caller renders the report"),
        ("verbose", "this process's own log"),
        ("no_progress", "this process's own progress line"),
        ("help", "clap's"),
        ("changes_since", "the CloudTrail lookup runs in this machine's AWS session after a local check"),
    ];

    /// A value for each carried flag (a new flag without one fails the test below).
    fn sample(id: &str) -> Option<Vec<&'static str>> {
        Some(match id {
            "bootstrap" => vec!["--bootstrap", "lkc-1.abc123.us-west-2.aws.confluent.cloud:9092"],
            "resolver" => vec!["--resolver", "10.0.0.2"],
            "public_resolver" => vec!["--public-resolver", "192.0.2.53"],
            "private_cidr" => vec!["--private-cidr", "10.0.0.0/16"],
            "insecure" => vec!["--insecure"],
            "timeout" => vec!["--timeout", "7"],
            "connect_timeout" => vec!["--connect-timeout", "2"],
            "https_port" => vec!["--https-port", "8443"],
            "no_https" => vec!["--no-https"],
            "security_protocol" => vec!["--security-protocol", "SSL"],
            "sasl_secret" => vec!["--sasl-secret", "kreach/prod"],
            "aws" => vec!["--aws"],
            "vpc_endpoint" => vec!["--vpc-endpoint", "vpce-0123456789abcdef0"],
            "vpc_id" => vec!["--vpc-id", "vpc-0123456789abcdef0"],
            "endpoint_service" => vec!["--endpoint-service", "com.amazonaws.vpce.us-west-2.vpce-svc-0123"],
            "dns_domain" => vec!["--dns-domain", "abc123.us-west-2.aws.confluent.cloud"],
            "aws_region" => vec!["--aws-region", "us-west-2"],
            "event_source_mapping" => vec!["--event-source-mapping", "a1b2c3d4-0000-0000-0000-000000000000"],
            "sink_connector_principal" => vec!["--sink-connector-principal", "arn:aws:iam::123456789012:role/c"],
            "lambda_function" => vec!["--lambda-function", "orders"],
            "zone_address" => vec!["--zone-address", "usw2-az1=10.0.1.10"],
            "target" => vec!["--target", "sr=https://sr.example:443"],
            "schema_registry" => vec!["--schema-registry", "https://psrc-1.us-west-2.aws.confluent.cloud"],
            "aws_apis" => vec!["--aws-apis"],
            "confluent_apis" => vec!["--confluent-apis"],
            "api_port" => vec!["--api-port", "8443"],
            "topic" => vec!["--topic", "orders"],
            "consumer_group" => vec!["--consumer-group", "orders-consumer"],
            _ => return None,
        })
    }

    fn check_args(extra: &[&str]) -> CheckArgs {
        let mut argv = vec!["kreach", "check"];
        if !extra.contains(&"--bootstrap") {
            argv.extend(["--bootstrap", "b.example:9092"]);
        }
        argv.extend_from_slice(extra);
        match <Cli as clap::Parser>::try_parse_from(&argv) {
            Ok(Cli { command: Command::Check(args), .. }) => *args,
            other => panic!("{argv:?}: {other:?}"),
        }
    }

    /// Every flag of `check` goes through the Lambda event and back unchanged, or is on the
    /// reviewed local-only list: `--via-function` and `fleet` can no longer drop one silently.
    #[test]
    fn every_check_flag_is_carried_by_the_event_or_listed_as_local() {
        let base = function_event(&check_args(&[])).expect("event");
        let mut command = Cli::command();
        command.build();
        let check = command.find_subcommand("check").expect("check");
        let mut missing = Vec::new();
        for arg in check.get_arguments() {
            let id = arg.get_id().as_str();
            if LOCAL_ONLY.iter().any(|(l, _)| *l == id) {
                continue;
            }
            let Some(extra) = sample(id) else {
                missing.push(id.to_string());
                continue;
            };
            let args = check_args(&extra);
            let event = function_event(&args).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_ne!(event, base, "--{id} is taken but not carried in the event");
            // The function reads exactly what was sent.
            let read: kreach_lambda::CheckEvent =
                serde_json::from_value(event.clone()).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(serde_json::to_value(&read).expect("json"), event, "{id}: changed on the way");
            assert_eq!(
                serde_json::to_value(CheckOptions::from(&args)).expect("json"),
                event,
                "{id}: the CLI's options are the event"
            );
        }
        assert!(missing.is_empty(), "flags neither carried (no sample) nor local-only: {missing:?}");
        // Local-only flags are refused with --via-function, never silently dropped.
        for extra in [
            vec!["--ca-file", "/x"],
            vec!["--config", "/x"],
            vec!["-X", "a=b"],
            vec!["--allow-insecure-credentials"],
            vec!["--changes-since", "48"],
        ] {
            assert!(function_event(&check_args(&extra)).is_err(), "{extra:?}");
        }
    }

    /// The event refuses what stays on the caller's machine: an unknown field.
    #[test]
    fn an_event_cannot_name_a_local_file() {
        for field in ["config_file", "ca_file", "properties", "allow_insecure_credentials"] {
            let event = serde_json::json!({ "bootstrap": "b:9092", field: "x" });
            assert!(serde_json::from_value::<kreach_lambda::CheckEvent>(event).is_err(), "{field}");
        }
    }
}

//! What the commands share: the flags as the one options type, the properties merged in memory,
//! and one diagnosis (or a `--watch` loop of them) with its extras.

use std::process::ExitCode;

use kreach::CheckOptions;

use crate::cli::{AwsArgs, CheckArgs, LambdaArgs, Output};
use crate::events::PROGRESS;
use crate::output::{CliError, Outcome, emit, render_report};

pub(crate) mod check;
pub(crate) mod fleet;
pub(crate) mod lab;
pub(crate) mod merge;
pub(crate) mod records;
pub(crate) mod serve;
pub(crate) mod twin;

/// The mapping named by --event-source-mapping[-file]: a file is read here (capped, a regular
/// file only), an id is read from Lambda by the input step.
pub(crate) fn mapping_input(aws: &LambdaArgs) -> Result<kreach::input::MappingInput, String> {
    if let Some(path) = &aws.event_source_mapping_file {
        let field = "--event-source-mapping-file";
        let bytes = kreach::input::read_input_file(path, kreach::input::MAX_MAPPING_BYTES as u64, field).map_err(
            |e| match e {
                kreach::Error::InvalidInput { .. } => e.to_string(),
                other => format!("invalid {field}: {other}"),
            },
        )?;
        let mapping = kreach::EventSourceMapping::parse(&bytes)
            .map_err(|e| format!("invalid {field}: {}: {e}", path.display()))?;
        return Ok(kreach::input::MappingInput::Given(Box::new(mapping)));
    }
    Ok(match aws.event_source_mapping.as_deref().filter(|id| !id.trim().is_empty()) {
        Some(id) => kreach::input::MappingInput::Read(id.to_string()),
        None => kreach::input::MappingInput::None,
    })
}

/// Whether AWS credentials are visible in the environment (the audit then runs without --aws;
/// the instance-role path needs --aws, so no metadata service is ever asked unbidden).
pub(crate) fn aws_credentials_in_env() -> bool {
    [
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ]
    .iter()
    .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
}

#[cfg(feature = "aws")]
pub(crate) fn audit_input(
    aws: &AwsArgs,
    lambda: Option<&LambdaArgs>,
    bootstrap_host: Option<&str>,
) -> kreach_aws::AuditInput {
    let mut options = CheckOptions::default();
    aws_options(&mut options, aws, lambda);
    let mut input = kreach_aws::AuditInput::from_options(&options);
    input.domain = input.domain.or_else(|| bootstrap_host.and_then(kreach_aws::AuditInput::default_domain));
    // The layout from the bootstrap's name, else from the domain's own shape (an access point's or
    // a PrivateLink Attachment's domain needs one wildcard record, a dedicated network's zonal ones too).
    let from_domain = || {
        let domain = input.domain.as_deref()?.trim_end_matches('.');
        kreach::layout::recognise_name(&format!("kreach.{domain}"), 0)
    };
    input.layout =
        bootstrap_host.and_then(|h| kreach::layout::recognise_name(h, 0)).or_else(from_domain).map(|h| h.layout);
    input
}

/// `--changes-since`'s default: a day of CloudTrail.
#[cfg(feature = "aws")]
const DEFAULT_CHANGES_HOURS: u32 = 24;

/// The AWS and Lambda flags as options (what the audit reads, what the function is told).
fn aws_options(options: &mut CheckOptions, aws: &AwsArgs, lambda: Option<&LambdaArgs>) {
    options.dns_domain = aws.dns_domain.clone();
    options.aws_region = aws.aws_region.clone();
    options.aws = aws.aws;
    options.vpc_endpoint = aws.vpc_endpoint.clone();
    options.vpc_id = aws.vpc_id.clone();
    options.endpoint_service = aws.endpoint_service.clone();
    if let Some(lambda) = lambda {
        options.event_source_mapping = lambda.event_source_mapping.clone();
        options.sink_connector_principal = lambda.sink_connector_principal.clone();
        options.lambda_function = lambda.lambda_function.clone();
    }
}

/// The --config file with the -X properties applied after it (later keys win), in memory: nothing
/// is written to disk. `None` when there is neither.
pub(crate) fn merged_properties(
    config: Option<&std::path::Path>,
    extra: &[String],
) -> Result<Option<kreach::Properties>, String> {
    if extra.len() > kreach::limits::MAX_LIST {
        return Err(format!("invalid -X: more than {} properties", kreach::limits::MAX_LIST));
    }
    let mut properties = match config {
        Some(path) => kreach::Properties::from_file(path).map_err(|e| e.to_string())?,
        None if extra.is_empty() => return Ok(None),
        None => kreach::Properties::default(),
    };
    for entry in extra {
        // The key ends where Java's properties syntax ends it ('=', ':' or white space): a
        // `-X sasl.password:VALUE` is still the password's key, and is refused without an echo.
        let split = entry.find(['=', ':', ' ', '\t']);
        let key = split.map_or(entry.as_str(), |i| &entry[..i]).trim();
        if kreach::input::is_secret_key(key) {
            return Err(format!(
                "invalid -X {}: secrets are not taken from the command line; put it in the --config file or the \
                 environment ({} / {})",
                kreach::quote(key),
                kreach::input::ENV_SASL_USERNAME,
                kreach::input::ENV_SASL_PASSWORD
            ));
        }
        let Some(value) = split.filter(|&i| entry[i..].starts_with('=')).map(|i| &entry[i + 1..]) else {
            return Err(format!("invalid -X {}: give KEY=VALUE", kreach::quote(key)));
        };
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(format!(
                "invalid -X {}: a property name is letters, digits, '.', '_' and '-'",
                kreach::quote(key)
            ));
        }
        if value.contains(['\n', '\r']) {
            return Err(format!("invalid -X {}: the value is one line", kreach::quote(key)));
        }
        properties.set(key, value);
    }
    Ok(Some(properties))
}

/// The flags as the one options type: everything the flags say, the properties file named but
/// not yet read ([`options`] merges it with -X in memory).
impl From<&CheckArgs> for CheckOptions {
    fn from(args: &CheckArgs) -> CheckOptions {
        let mut options = CheckOptions::default();
        options.bootstrap = args.bootstrap.clone();
        options.config_file = args.config.clone();
        options.resolvers = args.resolver.clone();
        options.public_resolvers = args.public_resolver.clone();
        options.private_cidrs = args.private_cidr.clone();
        options.ca_file = args.ca_file.clone();
        options.insecure = args.insecure;
        options.allow_insecure_credentials = args.allow_insecure_credentials;
        options.timeout_secs = Some(args.timeout);
        options.connect_timeout_secs = args.connect_timeout;
        options.https_port = Some(args.https_port);
        options.no_https = args.no_https;
        options.security_protocol = args.security_protocol.clone();
        options.zone_addresses = args.zone_address.clone();
        options.targets = args.target.clone();
        options.schema_registry = args.schema_registry.clone();
        options.aws_apis = args.aws_apis;
        options.aws_apis_secrets_manager = args.sasl_secret.is_some();
        options.confluent_apis = args.confluent_apis;
        options.api_port = args.api_port;
        options.topics = args.topic.clone();
        options.consumer_group = args.consumer_group.clone();
        options.credentials_secret = args.sasl_secret.clone();
        aws_options(&mut options, &args.aws, Some(&args.lambda));
        options
    }
}

/// Flags → options, the properties file and -X merged in memory; a bad value is the message.
pub(crate) fn options(args: CheckArgs) -> Result<CheckOptions, String> {
    let mut options = CheckOptions::from(&args);
    options.properties = merged_properties(args.config.as_deref(), &args.property)?;
    Ok(options)
}

/// One diagnosis's inputs, as the input step left them.
pub(crate) struct Run<'a> {
    config: &'a kreach::CheckConfig,
    /// The client's properties, for the librdkafka stage (when it runs).
    properties: Option<kreach::Properties>,
    client_check: bool,
    /// The AWS flags, when the vantage point and the audit are wanted (not for the lab).
    aws: Option<(&'a AwsArgs, &'a LambdaArgs)>,
    /// `--changes-since`, when given (read by the AWS build only).
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    changes_since: Option<u32>,
    secret: Option<kreach::report::SecretLookup>,
    mapping: Option<kreach::EventSourceMapping>,
    /// When the first run began (its inputs were read before the checks).
    started: Option<std::time::Instant>,
    refused: Vec<kreach::report::RefusedInput>,
}

/// `--watch SECS`: the report once, then every SECS what changed since the run before (stage
/// verdicts, findings, the status), until interrupted or `--watch-count` runs. Without --watch:
/// one run, its report and its exit code.
pub(crate) async fn watch(
    mut run: Run<'_>,
    output: Output,
    (every, count): (std::time::Duration, Option<u32>),
) -> Outcome {
    let mut last: Option<kreach::Report> = None;
    let mut runs = 0u32;
    loop {
        let drawing = PROGRESS.get().map(|p| (p, p.start()));
        let result = run_once(&run).await;
        // Only the first run's deadline counts from before its inputs were read.
        run.started = None;
        if let Some((p, drawer)) = drawing {
            p.finish(drawer);
        }
        let report = result.map_err(|e| CliError::usage(e.to_string()))?;
        runs += 1;
        match &last {
            None => emit(&render_report(&report, output)),
            Some(before) => {
                let mended = mended(&run, before, &report).await;
                let changes = kreach::render::changes_mended(before, &report, mended.as_ref());
                let stamp = &report.started_at;
                if changes.is_empty() {
                    emit(&format!("[{stamp}] no change ({})\n", report.status.as_word()));
                } else {
                    emit(&format!("[{stamp}] {} change(s):\n  {}\n", changes.len(), changes.join("\n  ")));
                }
            }
        }
        let code = ExitCode::from(report.exit_code() as u8);
        last = Some(report);
        if count.is_some_and(|c| runs >= c) {
            return Ok(code);
        }
        tokio::time::sleep(every).await;
    }
}

/// `--watch`: CloudTrail's write events since the run before on the resources blamed by the
/// findings that went away (what mended them), when the audit and its change lookup run.
#[cfg(feature = "aws")]
async fn mended(run: &Run<'_>, before: &kreach::Report, after: &kreach::Report) -> Option<kreach::report::ChangeAudit> {
    let (aws, lambda) = run.aws?;
    let hours = run.changes_since.unwrap_or(DEFAULT_CHANGES_HOURS);
    if !(aws.aws || aws_credentials_in_env()) || hours == 0 {
        return None;
    }
    kreach_aws::mended_changes(&audit_input(aws, Some(lambda), None), before, after, run.config.timeout).await
}

/// Without the AWS build nothing is looked up.
#[cfg(not(feature = "aws"))]
async fn mended(_: &Run<'_>, _: &kreach::Report, _: &kreach::Report) -> Option<kreach::report::ChangeAudit> {
    None
}

pub(crate) async fn run_once(run: &Run<'_>) -> Result<kreach::Report, kreach::Error> {
    // The librdkafka stage runs beside kreach's own checks; where it runs first (IMDS answers in
    // milliseconds on EC2, gives up quickly elsewhere), then the AWS audit of that VPC's endpoint.
    // Only a real check asks where it runs: the lab is on loopback.
    let config = run.config;
    let started = run.started.unwrap_or_else(std::time::Instant::now);
    let mut diagnosis = kreach::Diagnosis::new(config)
        .started_at(started)
        .secret(run.secret.clone())
        .event_source_mapping(run.mapping.clone())
        .refused_inputs(run.refused.clone());
    if let Some(progress) = PROGRESS.get() {
        let progress = progress.clone();
        diagnosis = diagnosis.on_step(move |step| progress.record(step));
    }
    if run.client_check {
        // It ends early when kreach's own checks explain a failure and librdkafka has said its first word.
        let properties = run.properties.as_ref();
        diagnosis = diagnosis.parity_with(move |signal| {
            let budget = config.timeout.saturating_sub(started.elapsed());
            kreach_parity::check_with(config, properties, budget, signal)
        });
    }
    if let Some((aws, lambda)) = run.aws {
        let env = |k: &str| std::env::var(k).ok();
        diagnosis = diagnosis.vantage(async move { kreach::input::detect_vantage(&env).await });
        let audit_now = aws.aws || aws_credentials_in_env();
        // The domain comes with the scope: --dns-domain, else the names and the CNAME chain.
        #[cfg(feature = "aws")]
        let mut input = audit_input(aws, Some(lambda), None);
        #[cfg(feature = "aws")]
        {
            input.event_source_mapping = run.mapping.clone();
        }
        #[cfg(not(feature = "aws"))]
        let _ = lambda;
        // What changed on the blamed resources: looked up after the findings, with the audit's input.
        #[cfg(feature = "aws")]
        {
            let hours = run.changes_since.unwrap_or(DEFAULT_CHANGES_HOURS);
            if audit_now && hours > 0 {
                let changes_input = input.clone();
                diagnosis = diagnosis.changes(move |resources, budget| async move {
                    kreach_aws::lookup_changes(&changes_input, &resources, hours, budget).await
                });
            }
        }
        diagnosis = diagnosis.aws(move |scope, budget| async move {
            if !audit_now {
                return kreach::report::AwsAudit::unavailable(
                    "no AWS credentials in the environment (--aws uses the default chain: instance role, SSO)",
                );
            }
            #[cfg(feature = "aws")]
            return kreach_aws::audit(&input.narrowed_by(&scope), budget).await;
            #[cfg(not(feature = "aws"))]
            {
                let _ = (scope, budget);
                kreach::report::AwsAudit::unavailable(crate::aws::NO_AWS)
            }
        });
    }
    diagnosis.run().await
}

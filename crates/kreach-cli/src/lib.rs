//! The `kreach` command line: parses flags, runs the library, renders the report.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kreach::{CheckOptions, Report, render};
use kreach_lab::{Fault, LAB_PRIVATE_CIDR, Lab};

mod aws;
mod fleet;
mod progress;
mod serve;
mod twin;

/// Exit code when the input is bad (clap uses the same for usage errors).
const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "kreach",
    version,
    about = "Can this machine reach that Kafka cluster over AWS PrivateLink? Which hop is broken, and what must change?",
    after_help = "Exit codes: 0 pass (warnings allowed), 1 at least one error finding, 2 bad usage or input."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Structured per-step events on stderr (`-v` steps, `-vv` more); `RUST_LOG` works too. Never a
    /// secret: outcomes and timings only.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// No live progress line on stderr (drawn only on a terminal, and never while `--output
    /// json` goes into a pipe).
    #[arg(long, global = true)]
    no_progress: bool,
}

/// The live progress line, when drawn (see [`progress::wanted`]).
static PROGRESS: std::sync::OnceLock<progress::Progress> = std::sync::OnceLock::new();

/// Per-step events through `tracing`, on stderr, when -v or RUST_LOG asks for them; the same
/// events feed the live progress line when it is drawn.
fn init_tracing(cli: &Cli) {
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

/// One listing row at most 100 columns wide: `cells` padded to `widths`, then `text` wrapped at
/// spaces under its own column.
fn columns(cells: &[&str], widths: &[usize], text: &str) -> String {
    let head: String = cells.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$} ")).collect();
    let indent = " ".repeat(head.chars().count());
    kreach::render::wrap_to(text, &head, &indent, 100)
}

/// The report format of a command that runs a diagnosis.
fn command_output(command: &Command) -> Option<Output> {
    match command {
        Command::Check(args) => Some(args.output),
        Command::Lab(args) if !args.serve && !args.list_faults => Some(args.output),
        _ => None,
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Diagnose the path to a Kafka cluster: DNS → TCP (Kafka port and 443) → TLS → HTTPS.
    Check(Box<CheckArgs>),
    /// Start a PrivateLink-shaped lab on loopback (in-process) and diagnose it.
    Lab(LabArgs),
    /// Print the DNS records the private hosted zone needs for an interface endpoint (read from AWS).
    ///
    /// Reads the endpoint (--vpc-endpoint, or the VPC's) and its DNS names, and prints the
    /// records the zone named --dns-domain (or the bootstrap's domain) must hold: the regional
    /// wildcard and one per zone, by AZ ID. Read-only: nothing is created; `--output
    /// change-batch` is the JSON to apply with `aws route53 change-resource-record-sets`.
    Records(RecordsArgs),
    /// Print what it takes to run the kreach Lambda function where an event source mapping's
    /// pollers run (its subnets and security groups): a CloudFormation template on stdout, the
    /// deploy and `aws lambda invoke` lines on stderr. Read-only: nothing is created.
    Twin(TwinArgs),
    /// Combine JSON reports from several vantage points into one matrix and say what differs.
    Merge {
        /// Reports written by `kreach check --output json`.
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Ask the whole fleet: invoke every kreach function (one per subnet or zone) with the same
    /// check, concurrently, and merge their reports: vantage × target, and what differs. Every
    /// function gets a column, its report or why there is none. `fleet template` prints the
    /// CloudFormation that deploys such a fleet with its canary and alarms.
    Fleet(Box<FleetArgs>),
    /// Answer Prometheus scrapes like the blackbox exporter: `GET /probe?bootstrap=HOST:PORT` runs
    /// a check of that cluster with this server's own configuration (the check flags below:
    /// properties file, CA, resolvers) and answers the exposition (docs/metrics.md). Credentials
    /// never come from the URL and go only to the configured bootstrap (and the brokers its own
    /// Metadata advertises under its domain); an --allow-target is probed without them.
    Serve(Box<ServeArgs>),
    /// Print the JSON Schema of the JSON report.
    Schema,
    /// Print a shell completion script: `kreach completions bash > /etc/bash_completion.d/kreach`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `kreach man > kreach.1 && man ./kreach.1`.
    Man,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Bootstrap server HOST:PORT (comma-separated for several); default: bootstrap.servers from --config.
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap: Option<String>,
    /// A client property, KEY=VALUE (repeatable; kcat's and librdkafka's -X): beside --config,
    /// and winning over it. Secrets (sasl.password, sasl.jaas.config, …) are refused here: they
    /// belong in the properties file or the environment, not on the command line.
    #[arg(short = 'X', value_name = "KEY=VALUE")]
    property: Vec<String>,
    /// Client properties file (bootstrap.servers, security.protocol, sasl.*, ssl.ca.location).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// DNS resolver ADDR[:PORT] instead of the system's (repeatable).
    #[arg(long, value_name = "ADDR[:PORT]")]
    resolver: Vec<String>,
    /// Also resolve through this public resolver and compare (repeatable). Never contacted unless named.
    #[arg(long, value_name = "ADDR[:PORT]")]
    public_resolver: Vec<String>,
    /// CIDR counted as private (repeatable; replaces RFC 1918 + RFC 6598), e.g. the VPC's CIDR.
    #[arg(long, value_name = "CIDR")]
    private_cidr: Vec<String>,
    /// Extra CA certificates (PEM) to trust besides the system store.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Skip TLS certificate verification (the report says so). SASL credentials are then withheld
    /// unless --allow-insecure-credentials is given too.
    #[arg(long)]
    insecure: bool,
    /// Send SASL credentials even over SASL_PLAINTEXT or TLS that was not verified (--insecure):
    /// anyone on the path can read them. Without it they are withheld and the report says so.
    #[arg(long)]
    allow_insecure_credentials: bool,
    /// Global deadline for the whole run, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, allow_negative_numbers = true)]
    timeout: f64,
    /// How long one TCP connect waits, in seconds (default 3.3: past the kernel's third SYN, so a
    /// blackholed port is reported then; within --timeout).
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    connect_timeout: Option<f64>,
    /// HTTPS (REST) port probed beside the Kafka port.
    #[arg(long, value_name = "PORT", default_value_t = kreach::DEFAULT_HTTPS_PORT)]
    https_port: u16,
    /// Do not probe the HTTPS port.
    #[arg(long)]
    no_https: bool,
    /// Kafka security.protocol, overriding the properties file.
    #[arg(long, value_name = "PROTOCOL")]
    security_protocol: Option<String>,
    /// Skip the client-parity stage (Metadata through librdkafka with your configuration).
    #[arg(long)]
    no_client_check: bool,
    /// Read the SASL credentials from this AWS Secrets Manager secret (name or ARN; JSON with
    /// username/password or api_key/api_secret), with the default AWS credential chain.
    #[arg(long, value_name = "NAME|ARN", env = kreach::input::ENV_SASL_SECRET)]
    sasl_secret: Option<String>,
    /// Run this check in a deployed kreach Lambda function instead (lambda:InvokeFunction, the one
    /// action kreach takes, and only with this flag): the report is the function's, from its
    /// subnet. The flags become its event; credentials are the function's own (a --sasl-secret it
    /// allows), never this machine's properties file.
    #[arg(long, value_name = "NAME|ARN")]
    via_function: Option<String>,
    #[command(flatten, next_help_heading = "AWS audit")]
    aws: AwsArgs,
    #[command(flatten, next_help_heading = "Lambda")]
    lambda: LambdaArgs,
    /// A zone's endpoint address, AZID=IP (repeatable): brokers of that zone must resolve to it.
    #[arg(long, value_name = "AZID=IP")]
    zone_address: Vec<String>,
    /// Another endpoint to check, [NAME=][https://|tls://|tcp://]HOST:PORT[/PATH] (repeatable):
    /// DNS, TCP, then TLS and an HTTP request (https://, the default), TLS only (tls://) or
    /// nothing more (tcp://).
    #[arg(long, value_name = "[NAME=]HOST:PORT")]
    target: Vec<String>,
    /// Schema Registry URL to check (default: schema.registry.url from --config).
    #[arg(long, value_name = "URL")]
    schema_registry: Option<String>,
    /// Check the AWS APIs a Lambda path needs from here: Lambda, STS and, with a secret,
    /// Secrets Manager of the region (--aws-region or AWS_REGION): interface endpoint or public?
    #[arg(long)]
    aws_apis: bool,
    /// Check the Confluent Cloud public endpoints the Confluent CLI and Cloud API need.
    #[arg(long)]
    confluent_apis: bool,
    /// Port of the AWS and Confluent API endpoints (443; another for a proxy or the lab).
    #[arg(long, value_name = "PORT")]
    api_port: Option<u16>,
    /// A topic the consumer reads (repeatable; default: the event source mapping's Topics):
    /// asked read-only with Metadata — does it exist, may the credentials describe it, are its
    /// partition leaders reachable?
    #[arg(long, value_name = "NAME")]
    topic: Vec<String>,
    /// The consumer group (default: the mapping's ConsumerGroupId, else its UUID): FindCoordinator
    /// and OffsetFetch on its coordinator, read-only (never joins, never commits).
    #[arg(long, value_name = "ID")]
    consumer_group: Option<String>,
    /// Run again every SECS and print what changed since the run before (stage verdicts,
    /// findings), for watching a fix take effect; until interrupted.
    #[arg(long, value_name = "SECS")]
    watch: Option<f64>,
    /// With --watch: stop after N runs (the exit code is the last run's).
    #[arg(long, value_name = "N", requires = "watch")]
    watch_count: Option<u32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    output: Output,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
struct FleetArgs {
    #[command(subcommand)]
    template: Option<FleetCommand>,
    /// A kreach function to invoke, NAME|ARN (repeatable).
    #[arg(long = "function", value_name = "NAME|ARN")]
    functions: Vec<String>,
    /// Functions to invoke, one per line: `NAME|ARN [REGION [ROLE-ARN]]` (a role to assume for
    /// another account's); `#` starts a comment.
    #[arg(long, value_name = "FILE")]
    functions_file: Option<PathBuf>,
    /// Invocations in flight at most (each holds one of the account's Lambda concurrency, 1,000
    /// by default per region). Default: the whole fleet at once, halved whenever Lambda throttles
    /// and grown back as invocations succeed.
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    /// The check every function runs (--timeout is the whole fleet's deadline).
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Subcommand, Debug)]
enum FleetCommand {
    /// Print a CloudFormation template (JSON) for one kreach function per subnet (or per zone):
    /// least-privilege role, the environment that bounds its credentials, an EventBridge
    /// Scheduler canary emitting CloudWatch metrics (docs/metrics.md), and alarms on the cluster,
    /// each vantage and each zone. The deploy and StackSet lines go to stderr. Nothing is created.
    Template(FleetTemplateArgs),
}

#[derive(Args, Debug)]
struct FleetTemplateArgs {
    /// The VPC the functions run in.
    #[arg(long, value_name = "VPC-ID")]
    vpc_id: String,
    /// The subnets, comma-separated: one function each.
    #[arg(long, value_name = "SUBNET,…", value_delimiter = ',', required = true)]
    subnets: Vec<String>,
    /// Each subnet's AZ ID, comma-separated in the same order (for the per-zone alarms and --per zone).
    #[arg(long, value_name = "AZ-ID,…", value_delimiter = ',')]
    zones: Vec<String>,
    /// The functions' security groups, comma-separated.
    #[arg(long, value_name = "SG,…", value_delimiter = ',', required = true)]
    security_groups: Vec<String>,
    /// The cluster the canary checks, HOST:PORT (also the only host its credentials may go to, and
    /// the Cluster dimension of every alarm).
    #[arg(long, value_name = "HOST:PORT", required = true)]
    bootstrap: String,
    /// A Secrets Manager secret with the SASL credentials, its ARN or name (the only one the role
    /// may read; a name becomes its ARN pattern in the stack's account and region).
    #[arg(long, value_name = "ARN|NAME")]
    sasl_secret: Option<String>,
    /// How often each canary runs.
    #[arg(long, value_name = "EXPRESSION", default_value = "rate(5 minutes)")]
    schedule: String,
    /// One function per subnet (default) or per zone (the first subnet of each; needs --zones).
    #[arg(long, value_name = "subnet|zone", default_value = "subnet")]
    per: String,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Where to listen, ADDR:PORT.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9577")]
    listen: String,
    /// Probes that may run at once (1-1024); a scrape waits for a slot within its deadline, then
    /// gets a 503.
    #[arg(long, value_name = "N", default_value_t = 4)]
    max_concurrent: usize,
    /// Another target a probe may name, probed WITHOUT the credentials (repeatable): `HOST[:PORT]`,
    /// or `*.DOMAIN[:PORT]` for every name below DOMAIN (not DOMAIN itself), where DOMAIN is the
    /// configured cluster's own DNS domain or below it, e.g. `*.usw2-az1.abc123.us-west-2.aws.confluent.cloud`.
    /// Public suffixes and providers' shared domains (`*.us-west-2.aws.confluent.cloud`) are refused.
    #[arg(long, value_name = "PATTERN")]
    allow_target: Vec<String>,
    /// The check each probe runs (its --bootstrap is the default target).
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Args, Debug, Clone, Default)]
struct AwsArgs {
    /// Run the AWS audit with the default credential chain (instance role, SSO, profile) even when
    /// no AWS credentials are in the environment.
    #[arg(long)]
    aws: bool,
    /// The interface VPC endpoint to audit (default: the VPC's interface endpoint).
    #[arg(long, value_name = "VPCE-ID")]
    vpc_endpoint: Option<String>,
    /// The VPC whose endpoint to audit, when --vpc-endpoint is not given.
    #[arg(long, value_name = "VPC-ID")]
    vpc_id: Option<String>,
    /// The endpoint service name, to pick the VPC's endpoint when --vpc-endpoint is not given.
    #[arg(long, value_name = "SERVICE-NAME")]
    endpoint_service: Option<String>,
    /// The cluster's DNS domain (the private hosted zone's name); default: from the bootstrap's
    /// naming scheme and CNAME chain (the report's `network.domain` says which).
    #[arg(long, value_name = "DOMAIN")]
    dns_domain: Option<String>,
    /// AWS region (default: AWS_REGION or the profile's).
    #[arg(long, value_name = "REGION")]
    aws_region: Option<String>,
}

/// The Lambda side of a diagnosis: an event source mapping polling the cluster, or the Lambda
/// Sink Connector invoking a function (`check` only).
#[derive(Args, Debug, Clone, Default)]
struct LambdaArgs {
    /// A Lambda event source mapping to diagnose (lambda:GetEventSourceMapping): its bootstrap
    /// servers (when --bootstrap is absent), SASL secret, PROBLEM strings, subnets, security
    /// groups and the function's role.
    #[arg(long, value_name = "UUID|ARN", conflicts_with = "event_source_mapping_file")]
    event_source_mapping: Option<String>,
    /// The same, from the JSON `aws lambda get-event-source-mapping` prints (offline).
    #[arg(long, value_name = "FILE")]
    event_source_mapping_file: Option<PathBuf>,
    /// The principal (role or user ARN) whose keys Confluent's Lambda Sink Connector holds: may it
    /// lambda:InvokeFunction and lambda:GetFunction on --lambda-function?
    #[arg(long, value_name = "ARN")]
    sink_connector_principal: Option<String>,
    /// The function the Lambda Sink Connector invokes: does it exist in the region?
    #[arg(long, value_name = "NAME|ARN")]
    lambda_function: Option<String>,
}

#[derive(Args, Debug)]
struct TwinArgs {
    /// The event source mapping (lambda:GetEventSourceMapping).
    #[arg(
        long,
        value_name = "UUID|ARN",
        conflicts_with = "event_source_mapping_file",
        required_unless_present = "event_source_mapping_file"
    )]
    event_source_mapping: Option<String>,
    /// The same, from the JSON `aws lambda get-event-source-mapping` prints (offline).
    #[arg(long, value_name = "FILE")]
    event_source_mapping_file: Option<PathBuf>,
    /// The region to read the mapping in (default: the ARN's, else AWS_REGION).
    #[arg(long, value_name = "REGION")]
    aws_region: Option<String>,
}

#[derive(Args, Debug)]
struct RecordsArgs {
    #[command(flatten, next_help_heading = "AWS (where the endpoint and zone are read)")]
    aws: AwsArgs,
    /// A bootstrap HOST[:PORT]; its parent domain is the zone, unless --dns-domain is given.
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap: Option<String>,
    /// table, json, or change-batch (what `aws route53 change-resource-record-sets --change-batch` takes).
    #[arg(long, value_enum, default_value_t = RecordsOutput::Table)]
    output: RecordsOutput,
    /// TTL of the records in the change batch.
    #[arg(long, default_value_t = 60)]
    ttl: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RecordsOutput {
    /// Name, type, value.
    Table,
    /// The records as JSON.
    Json,
    /// A Route 53 change batch (UPSERT).
    ChangeBatch,
}

#[derive(Args, Debug)]
struct LabArgs {
    /// Break one thing on purpose (see --list-faults).
    #[arg(long, value_name = "NAME", default_value = "none")]
    fault: String,
    /// List the faults (and the layouts) and exit.
    #[arg(long)]
    list_faults: bool,
    /// The private-connectivity layout to play (see --list-faults); default: the fault's own, else
    /// `dedicated`.
    #[arg(long, value_name = "NAME")]
    layout: Option<String>,
    /// Check the endpoints around Kafka too: the Schema Registry, the AWS APIs and Confluent's
    /// public APIs (on by default for the faults that only show there).
    #[arg(long)]
    endpoints: bool,
    /// Brokers in the lab cluster, spread over three zones.
    #[arg(long, value_name = "N", default_value_t = kreach_lab::LAB_BROKERS)]
    brokers: usize,
    /// Global deadline for the diagnosis, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    timeout: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    output: Output,
    /// Keep the lab running instead of diagnosing it, until interrupted: point `kreach check`, your
    /// own client, kcat or the Lambda handler at it. Prints its addresses (`--output json`: one
    /// JSON line with the `kreach check` arguments and a Lambda event).
    #[arg(long)]
    serve: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Output {
    /// The pass/fail matrix and the findings.
    Table,
    /// The report as JSON (docs/report.schema.json).
    Json,
    /// A matrix and findings to paste into a ticket.
    Markdown,
    /// CloudWatch embedded metric format: one JSON log line per figure (docs/metrics.md).
    Emf,
    /// The Prometheus text exposition format, for the node exporter's textfile collector (docs/metrics.md).
    Prometheus,
    /// One self-contained HTML page (no script, nothing fetched): the path drawn with its broken
    /// hops marked, the matrix, the findings and the evidence; `> report.html` to attach to a ticket.
    Html,
}

/// Runs the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}"), EXIT_USAGE),
    };
    match cli.command {
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "kreach", &mut out);
            emit(&String::from_utf8_lossy(&out));
            ExitCode::SUCCESS
        }
        Command::Man => {
            let mut out = Vec::new();
            match clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out) {
                Ok(()) => {
                    emit(&String::from_utf8_lossy(&out));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&format!("cannot render the man page: {e}"), 1),
            }
        }
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&kreach::report_schema()).unwrap_or_default();
            emit(&format!("{schema}\n"));
            ExitCode::SUCCESS
        }
        Command::Check(args) => runtime.block_on(check(args)),
        Command::Records(args) => runtime.block_on(records(args)),
        Command::Twin(args) => runtime.block_on(twin(args)),
        Command::Merge { reports, output } => merge(&reports, output),
        Command::Lab(args) => runtime.block_on(lab(args)),
        Command::Serve(args) => runtime.block_on(serve_cmd(*args)),
        Command::Fleet(args) => match args.template {
            Some(FleetCommand::Template(t)) => fleet_template(t),
            None => runtime.block_on(fleet_cmd(*args)),
        },
    }
}

/// The mapping named by --event-source-mapping[-file]: a file is read here (capped, a regular
/// file only), an id is read from Lambda by the input step.
fn mapping_input(aws: &LambdaArgs) -> Result<kreach::input::MappingInput, String> {
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

async fn check(args: Box<CheckArgs>) -> ExitCode {
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
            return fail(&format!("invalid --watch: {secs} is not between 0.1 and 86400 seconds"), EXIT_USAGE);
        }
    };
    if let Some(function) = args.via_function.clone() {
        return via_function(&function, &args, output).await;
    }
    let aws = args.aws.clone();
    let lambda = args.lambda.clone();
    let mapping = match mapping_input(&lambda) {
        Ok(m) => m,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    let secret = args.sasl_secret.clone();
    let options = match options(*args) {
        Ok(o) => o,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    let mut input = kreach::input::RunInput::new(options);
    input.mapping = mapping;
    input.secret = secret;
    input.region = aws.aws_region.clone();
    input.started = started;
    let ready = match aws::prepare(input).await {
        Ok(ready) => ready,
        Err(kreach::input::InputError::Mapping(e)) => {
            let id = lambda.event_source_mapping.as_deref().unwrap_or_default();
            return fail(&format!("cannot read --event-source-mapping {id}: {e}"), 1);
        }
        Err(e) => return fail(&e.to_string(), EXIT_USAGE),
    };
    let run = Run {
        config: &ready.config,
        properties: ready.properties.clone().filter(|_| client_check),
        client_check,
        aws: Some((&aws, &lambda)),
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

/// `kreach fleet template`: the template on stdout, how to deploy it on stderr.
fn fleet_template(t: FleetTemplateArgs) -> ExitCode {
    let id_ok = |id: &str, prefix: &str| {
        // AWS's shapes: 8 or 17 hex digits.
        id.strip_prefix(prefix).is_some_and(|h| matches!(h.len(), 8 | 17) && h.chars().all(|c| c.is_ascii_hexdigit()))
    };
    if !id_ok(&t.vpc_id, "vpc-") {
        return fail(&format!("invalid --vpc-id `{}`: vpc- and 8 or 17 hex digits", t.vpc_id), EXIT_USAGE);
    }
    if let Some(bad) = t.subnets.iter().find(|s| !id_ok(s, "subnet-")) {
        return fail(&format!("invalid --subnets: `{bad}` is not subnet- and 8 or 17 hex digits"), EXIT_USAGE);
    }
    if let Some(bad) = t.security_groups.iter().find(|s| !id_ok(s, "sg-")) {
        return fail(&format!("invalid --security-groups: `{bad}` is not sg- and 8 or 17 hex digits"), EXIT_USAGE);
    }
    if !t.zones.is_empty() && t.zones.len() != t.subnets.len() {
        return fail("invalid --zones: one AZ ID per subnet, in the same order", EXIT_USAGE);
    }
    if let Some(bad) =
        t.zones.iter().find(|z| !z.contains("-az") || !z.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return fail(&format!("invalid --zones: `{bad}` is not an AZ ID (use1-az1)"), EXIT_USAGE);
    }
    let per_zone = match t.per.as_str() {
        "subnet" => false,
        "zone" if !t.zones.is_empty() => true,
        "zone" => return fail("invalid --per zone: give --zones (each subnet's AZ ID)", EXIT_USAGE),
        other => return fail(&format!("invalid --per `{other}`: subnet or zone"), EXIT_USAGE),
    };
    let bootstrap = match kreach::HostPort::parse(&t.bootstrap, kreach::DEFAULT_KAFKA_PORT) {
        Ok(hp) => hp,
        Err(e) => return fail(&format!("invalid --bootstrap: {e}"), EXIT_USAGE),
    };
    let sasl_secret = match t.sasl_secret.as_deref().map(fleet::SecretRef::parse).transpose() {
        Ok(s) => s,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    if t.schedule.len() > 256 || !(t.schedule.starts_with("rate(") || t.schedule.starts_with("cron(")) {
        return fail("invalid --schedule: rate(…) or cron(…)", EXIT_USAGE);
    }
    let spec = fleet::TemplateSpec {
        vpc_id: t.vpc_id,
        subnets: t.subnets.iter().enumerate().map(|(i, s)| (s.clone(), t.zones.get(i).cloned())).collect(),
        security_groups: t.security_groups,
        bootstrap,
        sasl_secret,
        schedule: t.schedule,
        per_zone,
    };
    emit(&format!("{}\n", serde_json::to_string_pretty(&fleet::template(&spec)).unwrap_or_default()));
    let _ = write!(std::io::stderr(), "{}", fleet::instructions(&spec));
    ExitCode::SUCCESS
}

#[cfg(not(feature = "aws"))]
async fn fleet_cmd(args: FleetArgs) -> ExitCode {
    if let Err(e) = function_event(&args.check) {
        return fail(&e, EXIT_USAGE);
    }
    fail(aws::NO_AWS, EXIT_USAGE)
}

/// `kreach fleet`: every function invoked with the check, the reports merged; a function without
/// a report is a column of its own.
#[cfg(feature = "aws")]
async fn fleet_cmd(args: FleetArgs) -> ExitCode {
    let event = match function_event(&args.check) {
        Ok(e) => e,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    let mut targets: Vec<kreach_aws::FleetTarget> = Vec::new();
    for f in &args.functions {
        match kreach_aws::FleetTarget::parse_line(f) {
            Ok(Some(t)) if !f.contains(char::is_whitespace) => targets.push(t),
            _ => {
                return fail(
                    &format!("invalid --function `{}`: a function name or ARN", kreach::render::clean(f)),
                    EXIT_USAGE,
                );
            }
        }
    }
    if let Some(path) = &args.functions_file {
        let text = match kreach::input::read_input_file(path, 1 << 20, "--functions-file") {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => return fail(&e.to_string(), EXIT_USAGE),
        };
        for (n, line) in text.lines().enumerate() {
            match kreach_aws::FleetTarget::parse_line(line) {
                Ok(Some(t)) => targets.push(t),
                Ok(None) => {}
                Err(e) => return fail(&format!("--functions-file {} line {}: {e}", path.display(), n + 1), EXIT_USAGE),
            }
        }
    }
    // The same function named twice is invoked once.
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert((t.function.clone(), t.region.clone(), t.role.clone())));
    if targets.is_empty() {
        return fail("kreach fleet: give --function (repeatable) or --functions-file", EXIT_USAGE);
    }
    if targets.len() > kreach_aws::MAX_FLEET {
        return fail(
            &format!("kreach fleet: {} functions, more than {}", targets.len(), kreach_aws::MAX_FLEET),
            EXIT_USAGE,
        );
    }
    let timeout = args.check.timeout;
    if !timeout.is_finite() || !(1.0..=900.0).contains(&timeout) {
        return fail(&format!("invalid --timeout {timeout}: between 1 and 900 seconds for a fleet"), EXIT_USAGE);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(timeout);
    let plan = kreach_aws::FleetPlan {
        targets: &targets,
        event: &event,
        deadline,
        concurrency: args.concurrency,
        region: args.check.aws.aws_region.as_deref(),
        endpoint_url: None,
        credentials: None,
    };
    let draw = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if draw {
            let _ = write!(std::io::stderr(), "\rkreach fleet: {done}/{total} answered");
        }
    };
    let rows = kreach_aws::invoke_fleet(&plan, &progress).await;
    if draw {
        let _ = writeln!(std::io::stderr());
    }
    emit(&fleet_output(&rows, args.check.output));
    let failed = rows.iter().any(|r| r.report.as_ref().is_none_or(|rep| rep.status == kreach::Status::Fail));
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// A fleet's rows as the merged view: every function a vantage column (named by the function and
/// where it ran), those without a report as empty columns marked failed, said in what differs.
#[cfg(feature = "aws")]
fn fleet_output(rows: &[kreach_aws::Invocation], output: Output) -> String {
    // Each column is named by what the fleet knows: the function (and the region it was invoked
    // in), never the report's own claim, made unique.
    let names: Vec<String> = rows
        .iter()
        .map(|r| match &r.target.region {
            Some(region) => format!("{} ({region})", r.target.function),
            None => r.target.function.clone(),
        })
        .collect();
    let labels = render::unique_labels(names.iter().map(String::as_str));
    let label = |i: usize| labels[i].clone();
    let reports: Vec<(String, Report)> =
        rows.iter().enumerate().filter_map(|(i, r)| r.report.clone().map(|rep| (label(i), rep))).collect();
    let mut merged = kreach::merge(&reports);
    for (i, r) in rows.iter().enumerate().filter(|(_, r)| r.report.is_none()) {
        merged.vantages.push(label(i));
        merged.statuses.push(kreach::Status::Fail);
        for row in &mut merged.rows {
            row.cells.push(None);
        }
        merged.differences.push(format!(
            "{}: no report ({}): {}",
            r.target.function,
            r.outcome.as_label(),
            r.error.as_deref().unwrap_or("")
        ));
    }
    match output {
        Output::Json => {
            let invocations: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or_default();
                    v["status"] = serde_json::json!(r.report.as_ref().map(|rep| rep.status.as_label()));
                    v
                })
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({"invocations": invocations, "merged": merged}))
                .unwrap_or_default()
                + "\n"
        }
        Output::Table => kreach::render::merged_table(&merged),
        Output::Markdown => kreach::render::merged_markdown(&merged),
        Output::Html => render::merged_html(&merged),
        Output::Emf => reports.iter().map(|(l, r)| render::emf_as(r, Some(l), now_ms())).collect(),
        Output::Prometheus => {
            render::prometheus_many(&reports.iter().map(|(l, r)| (l.as_str(), r)).collect::<Vec<_>>())
        }
    }
}

/// `kreach serve`: validates the configuration once, then serves probes.
async fn serve_cmd(args: ServeArgs) -> ExitCode {
    // Flags a scrape would never use are refused, not silently taken.
    let c = &args.check;
    let unused = [
        (c.via_function.is_some(), "--via-function"),
        (c.watch.is_some(), "--watch"),
        (c.sasl_secret.is_some(), "--sasl-secret (or KREACH_SASL_SECRET)"),
        (c.lambda.event_source_mapping.is_some(), "--event-source-mapping"),
        (c.lambda.event_source_mapping_file.is_some(), "--event-source-mapping-file"),
        (c.lambda.sink_connector_principal.is_some(), "--sink-connector-principal"),
        (c.lambda.lambda_function.is_some(), "--lambda-function"),
        (c.aws.aws, "--aws"),
        (c.aws.vpc_endpoint.is_some(), "--vpc-endpoint"),
        (c.aws.vpc_id.is_some(), "--vpc-id"),
        (c.aws.endpoint_service.is_some(), "--endpoint-service"),
    ];
    if let Some((_, flag)) = unused.iter().find(|(given, _)| *given) {
        return fail(
            &format!(
                "invalid kreach serve: {flag} does not apply (each scrape is one check with the server's own \
                 configuration: credentials from the --config file or KREACH_SASL_USERNAME/KREACH_SASL_PASSWORD; no AWS \
                 audit, no event source mapping)"
            ),
            EXIT_USAGE,
        );
    }
    if !(1..=serve::MAX_PROBES).contains(&args.max_concurrent) {
        return fail(
            &format!("invalid --max-concurrent {}: between 1 and {}", args.max_concurrent, serve::MAX_PROBES),
            EXIT_USAGE,
        );
    }
    let addr = match serve::listen_addr(&args.listen) {
        Ok(a) => a,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    let dns_domain = args.check.aws.dns_domain.clone();
    let options = match options(args.check) {
        Ok(o) => o,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    // Bad input is refused at start, not on the first scrape; the files are read once, here. A
    // bootstrap is optional (each probe may name one): without one the rest is validated with a
    // stand-in that is never probed.
    let env = |k: &str| std::env::var(k).ok();
    let (base, configured) = match options.validate(&env) {
        Ok(c) => {
            let configured = c.bootstrap.clone();
            (c, configured)
        }
        Err(_) if options.bootstrap.is_none() => {
            let mut stand_in = options.clone();
            stand_in.bootstrap = Some("bootstrap.invalid:9092".into());
            match stand_in.validate(&env) {
                Ok(c) => (c, Vec::new()),
                Err(e) => return fail(&e.to_string(), EXIT_USAGE),
            }
        }
        Err(e) => return fail(&e.to_string(), EXIT_USAGE),
    };
    let allow = match serve::Server::allow_list(&args.allow_target, &configured, dns_domain.as_deref()) {
        Ok(a) => a,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => return fail(&format!("cannot listen on {addr}: {e}"), 1),
    };
    let bound = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| addr.to_string());
    let _ = writeln!(std::io::stderr(), "kreach serve: listening on http://{bound}/probe?bootstrap=HOST:PORT");
    let server =
        serve::Server { base, max_concurrent: args.max_concurrent, allow, configured, waiting: Default::default() };
    let local = tokio::task::LocalSet::new();
    let served = local.run_until(serve::serve(listener, server));
    tokio::select! {
        result = served => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("kreach serve stopped: {e}"), 1),
        },
        _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
    }
}

/// The check's flags as the kreach function's event: the one options type as JSON (its local-only
/// parts are no field of it). The properties file, -X, the CA file and a mapping file stay on this
/// machine on purpose: refused here by name. Credentials are the function's own.
fn function_event(args: &CheckArgs) -> Result<serde_json::Value, String> {
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
    serde_json::to_value(CheckOptions::from(args)).map_err(|e| format!("the check does not serialize: {e}"))
}

#[cfg(not(feature = "aws"))]
async fn via_function(_: &str, args: &CheckArgs, _: Output) -> ExitCode {
    // The same refusals as the full build, then why nothing can be invoked.
    if let Err(e) = function_event(args) {
        return fail(&e, EXIT_USAGE);
    }
    fail(aws::NO_AWS, EXIT_USAGE)
}

/// `check --via-function`: the check as the function's event, its report rendered here.
#[cfg(feature = "aws")]
async fn via_function(function: &str, args: &CheckArgs, output: Output) -> ExitCode {
    let event = match function_event(args) {
        Ok(e) => e,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    let region = args.aws.aws_region.clone().or_else(|| function.split(':').nth(3).map(str::to_string));
    let sdk = kreach_aws::sdk_config(region.as_deref(), None, None).await;
    // The function's own deadline plus a cold start and the way back.
    let budget = std::time::Duration::from_secs_f64(args.timeout) + std::time::Duration::from_secs(20);
    match kreach_aws::invoke_function(&sdk, function, &event, budget).await {
        Ok(report) => {
            emit(&render_report(&report, output));
            ExitCode::from(report.exit_code() as u8)
        }
        Err(e) => fail(&e.to_string(), 1),
    }
}

/// Whether AWS credentials are visible in the environment (the audit then runs without --aws;
/// the instance-role path needs --aws, so no metadata service is ever asked unbidden).
fn aws_credentials_in_env() -> bool {
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
fn audit_input(aws: &AwsArgs, lambda: Option<&LambdaArgs>, bootstrap_host: Option<&str>) -> kreach_aws::AuditInput {
    let mut input = kreach_aws::AuditInput::default();
    input.vpc_endpoint_id = aws.vpc_endpoint.clone();
    input.vpc_id = aws.vpc_id.clone();
    input.service_name = aws.endpoint_service.clone();
    input.region = aws.aws_region.clone();
    input.domain = aws.dns_domain.clone().or_else(|| bootstrap_host.and_then(kreach_aws::AuditInput::default_domain));
    input.layout = bootstrap_host.and_then(|h| kreach::layout::recognise_name(h, 0)).map(|h| h.layout);
    if let Some(lambda) = lambda {
        input.sink_connector_principal = lambda.sink_connector_principal.clone();
        input.lambda_function = lambda.lambda_function.clone();
    }
    input
}

/// `kreach twin`: the mapping (a file, or read from Lambda), then the template and the lines.
async fn twin(args: TwinArgs) -> ExitCode {
    let lambda = LambdaArgs {
        event_source_mapping: args.event_source_mapping.clone(),
        event_source_mapping_file: args.event_source_mapping_file.clone(),
        sink_connector_principal: None,
        lambda_function: None,
    };
    let mapping = match mapping_input(&lambda) {
        Err(e) => return fail(&e, EXIT_USAGE),
        Ok(kreach::input::MappingInput::Given(m)) => *m,
        Ok(kreach::input::MappingInput::Read(id)) => match read_mapping(&id, args.aws_region.as_deref()).await {
            Ok(m) => m,
            Err(e) => return fail(&format!("the event source mapping could not be read: {e}"), 1),
        },
        Ok(_) => return fail("invalid --event-source-mapping: give a UUID or an ARN", EXIT_USAGE),
    };
    // The mapping's ids reach shell lines: checked here, quoted there.
    if let Err(e) = twin::validate(&mapping) {
        return fail(&e, EXIT_USAGE);
    }
    let template = serde_json::to_string_pretty(&twin::template(&mapping)).unwrap_or_default();
    emit(&format!("{template}\n"));
    let _ = std::io::stderr().write_all(twin::instructions(&mapping).as_bytes());
    ExitCode::SUCCESS
}

#[cfg(not(feature = "aws"))]
async fn read_mapping(_: &str, _: Option<&str>) -> Result<kreach::EventSourceMapping, String> {
    Err(aws::NO_AWS.to_string())
}

#[cfg(feature = "aws")]
async fn read_mapping(id: &str, region: Option<&str>) -> Result<kreach::EventSourceMapping, String> {
    let region = region.map(str::to_string).or_else(|| id.split(':').nth(3).map(str::to_string));
    let read = async {
        let sdk = kreach_aws::sdk_config(region.as_deref(), None, None).await;
        kreach_aws::fetch_mapping(&sdk, id).await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(kreach::input::MAPPING_CAP, read).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} ms", kreach::input::MAPPING_CAP.as_millis())),
    }
}

#[cfg(not(feature = "aws"))]
async fn records(_: RecordsArgs) -> ExitCode {
    fail(aws::NO_AWS, EXIT_USAGE)
}

#[cfg(feature = "aws")]
async fn records(args: RecordsArgs) -> ExitCode {
    let host = match args.bootstrap.as_deref().map(|b| kreach::HostPort::parse(b, kreach::DEFAULT_KAFKA_PORT)) {
        Some(Ok(hp)) => Some(hp.host),
        Some(Err(e)) => return fail(&format!("invalid --bootstrap: {e}"), EXIT_USAGE),
        None => None,
    };
    if args.aws.vpc_endpoint.is_none() && args.aws.vpc_id.is_none() {
        return fail("invalid --vpc-endpoint: give --vpc-endpoint vpce-… (or --vpc-id)", EXIT_USAGE);
    }
    let input = audit_input(&args.aws, None, host.as_deref());
    if input.domain.is_none() {
        return fail("invalid --dns-domain: give --dns-domain DOMAIN or --bootstrap HOST", EXIT_USAGE);
    }
    let audit = kreach_aws::audit(&input, std::time::Duration::from_secs(30)).await;
    if let Some(why) = &audit.unavailable {
        return fail(&format!("the AWS API could not be read: {why}"), 1);
    }
    if audit.expected_records.is_empty() {
        let why = audit.errors.first().cloned().unwrap_or_else(|| "the endpoint has no DNS names".into());
        return fail(&format!("no records: {why}"), 1);
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
    ExitCode::SUCCESS
}

/// The --config file with the -X properties applied after it (later keys win), in memory: nothing
/// is written to disk. `None` when there is neither.
fn merged_properties(config: Option<&std::path::Path>, extra: &[String]) -> Result<Option<kreach::Properties>, String> {
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
        options.dns_domain = args.aws.dns_domain.clone();
        options.targets = args.target.clone();
        options.schema_registry = args.schema_registry.clone();
        options.aws_apis = args.aws_apis;
        options.aws_apis_secrets_manager = args.sasl_secret.is_some();
        options.aws_region = args.aws.aws_region.clone();
        options.confluent_apis = args.confluent_apis;
        options.api_port = args.api_port;
        options.topics = args.topic.clone();
        options.consumer_group = args.consumer_group.clone();
        options.credentials_secret = args.sasl_secret.clone();
        options.event_source_mapping = args.lambda.event_source_mapping.clone();
        options.aws = args.aws.aws;
        options.vpc_endpoint = args.aws.vpc_endpoint.clone();
        options.vpc_id = args.aws.vpc_id.clone();
        options.endpoint_service = args.aws.endpoint_service.clone();
        options.sink_connector_principal = args.lambda.sink_connector_principal.clone();
        options.lambda_function = args.lambda.lambda_function.clone();
        options
    }
}

/// Flags → options, the properties file and -X merged in memory; a bad value is the message.
fn options(args: CheckArgs) -> Result<CheckOptions, String> {
    let mut options = CheckOptions::from(&args);
    options.properties = merged_properties(args.config.as_deref(), &args.property)?;
    Ok(options)
}

/// One diagnosis's inputs, as the input step left them.
struct Run<'a> {
    config: &'a kreach::CheckConfig,
    /// The client's properties, for the librdkafka stage (when it runs).
    properties: Option<kreach::Properties>,
    client_check: bool,
    /// The AWS flags, when the vantage point and the audit are wanted (not for the lab).
    aws: Option<(&'a AwsArgs, &'a LambdaArgs)>,
    secret: Option<kreach::report::SecretLookup>,
    mapping: Option<kreach::EventSourceMapping>,
    /// When the first run began (its inputs were read before the checks).
    started: Option<std::time::Instant>,
    refused: Vec<kreach::report::RefusedInput>,
}

/// `--watch SECS`: the report once, then every SECS what changed since the run before (stage
/// verdicts, findings, the status), until interrupted or `--watch-count` runs. Without --watch:
/// one run, its report and its exit code.
async fn watch(mut run: Run<'_>, output: Output, (every, count): (std::time::Duration, Option<u32>)) -> ExitCode {
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
        let report = match result {
            Ok(r) => r,
            Err(e) => return fail(&e.to_string(), EXIT_USAGE),
        };
        runs += 1;
        match &last {
            None => emit(&render_report(&report, output)),
            Some(before) => {
                let changes = kreach::render::changes(before, &report);
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
            return code;
        }
        tokio::time::sleep(every).await;
    }
}

async fn run_once(run: &Run<'_>) -> Result<kreach::Report, kreach::Error> {
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
                kreach::report::AwsAudit::unavailable(aws::NO_AWS)
            }
        });
    }
    diagnosis.run().await
}

async fn lab(args: LabArgs) -> ExitCode {
    if args.list_faults {
        // Name, lab and description in columns that fit 100: the description wraps under itself.
        let mut text = String::new();
        for f in Fault::ALL {
            let mut what = f.description().to_string();
            if f.min_brokers() > 1 {
                what.push_str(&format!(" (--brokers {} or more)", f.min_brokers()));
            }
            text.push_str(&columns(&[f.name(), f.labs().label()], &[25, 16], &what));
        }
        text.push_str(
            "\n`kreach lab` runs the in-process lab (no root); the network-namespace lab (BIND, haproxy,\n\
             iptables) runs in the tests (tests/netns_lab.rs).\n\nLayouts (--layout):\n",
        );
        for l in kreach_lab::LabLayout::ALL {
            text.push_str(&columns(&[l.name()], &[25], l.description()));
        }
        emit(&text);
        return ExitCode::SUCCESS;
    }
    let fault: Fault = match args.fault.parse() {
        Ok(f) => f,
        Err(e) => return fail(&format!("invalid --fault: {e}"), EXIT_USAGE),
    };
    let layout = match args.layout.as_deref().map(str::parse::<kreach_lab::LabLayout>) {
        None => fault.layout().unwrap_or_default(),
        Some(Ok(l)) => l,
        Some(Err(e)) => return fail(&format!("invalid --layout: {e}"), EXIT_USAGE),
    };
    let lab = match Lab::start_layout(layout, fault, args.brokers).await {
        Ok(lab) => lab,
        Err(e) => return fail(&format!("cannot start the lab: {e}"), EXIT_USAGE),
    };
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
    let check_args = match Cli::try_parse_from(&argv) {
        Ok(Cli { command: Command::Check(check_args), .. }) => check_args,
        Ok(_) => return fail("internal: the lab's arguments are not a check", EXIT_USAGE),
        Err(e) => {
            return fail(&format!("the lab's arguments do not parse: {e}"), EXIT_USAGE);
        }
    };
    let client_check = !check_args.no_client_check;
    let options = match options(*check_args) {
        Ok(o) => o,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    let config = match options.validate(&|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), EXIT_USAGE),
    };
    if args.output == Output::Table {
        let azs: Vec<String> = lab.azs.iter().map(|a| format!("{}={}", a.az_id, a.eni)).collect();
        emit(&format!(
            "kreach lab: {}, layout {}\n  {}\n  VPC resolver {}, public DNS {}\n  endpoint addresses {} ({})\n  \
             ports {} (Kafka) and {} (HTTPS)\n  equivalent:\n{}\n\n",
            fault.name(),
            layout,
            fault.description(),
            lab.resolver,
            lab.public_resolver,
            azs.join(" "),
            LAB_PRIVATE_CIDR,
            lab.kafka_port,
            lab.https_port,
            shell_lines(&lab.check_args())
        ));
    }
    // The lab is on loopback: there is no AWS account to audit.
    let run = Run {
        config: &config,
        properties: options.properties.filter(|_| client_check),
        client_check,
        aws: None,
        secret: None,
        mapping: None,
        started: None,
        refused: Vec::new(),
    };
    watch(run, args.output, (std::time::Duration::ZERO, Some(1))).await
}

/// `kreach check ARGS` as a copyable shell command: one flag and its value a line, each line ending
/// in a backslash, every value quoted where the shell would split it.
fn shell_lines(args: &[String]) -> String {
    let quote = |a: &str| {
        if a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c)) {
            a.to_string()
        } else {
            format!("'{}'", a.replace('\'', "'\\''"))
        }
    };
    let mut lines = vec!["    kreach check".to_string()];
    let mut i = 0;
    while i < args.len() {
        let takes_value = args[i].starts_with("--") && args.get(i + 1).is_some_and(|v| !v.starts_with("--"));
        let line = if takes_value {
            let line = format!("      {} {}", quote(&args[i]), quote(&args[i + 1]));
            i += 2;
            line
        } else {
            let line = format!("      {}", quote(&args[i]));
            i += 1;
            line
        };
        lines.push(line);
    }
    lines.join(" \\\n")
}

fn merge(paths: &[PathBuf], output: Output) -> ExitCode {
    let mut reports = Vec::new();
    for path in paths {
        // A report is a few MB at most: the read is capped, and only a regular file is read.
        let bytes = match kreach::input::read_input_file(path, kreach::limits::MAX_REPORT_FILE, "REPORT.json") {
            Ok(b) => b,
            Err(e) => return fail(&e.to_string(), EXIT_USAGE),
        };
        let report: Report = match serde_json::from_slice(&bytes) {
            Ok(r) => r,
            Err(e) => return fail(&format!("{} is not a kreach JSON report: {e}", path.display()), EXIT_USAGE),
        };
        let label = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        reports.push((label, report));
    }
    // Each column is named by its file, made unique (two `report.json` from two folders).
    let labels = render::unique_labels(reports.iter().map(|(l, _)| l.as_str()));
    for ((label, _), unique) in reports.iter_mut().zip(labels) {
        *label = unique;
    }
    let merged = kreach::merge(&reports);
    let text = match output {
        Output::Json => serde_json::to_string_pretty(&merged).unwrap_or_default() + "\n",
        Output::Table => kreach::render::merged_table(&merged),
        Output::Markdown => kreach::render::merged_markdown(&merged),
        Output::Emf => reports.iter().map(|(l, r)| render::emf_as(r, Some(l), now_ms())).collect(),
        Output::Prometheus => {
            render::prometheus_many(&reports.iter().map(|(l, r)| (l.as_str(), r)).collect::<Vec<_>>())
        }
        Output::Html => render::merged_html(&merged),
    };
    emit(&text);
    let failed = merged.statuses.contains(&kreach::Status::Fail);
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

fn output_name(output: Output) -> &'static str {
    match output {
        Output::Table => "table",
        Output::Json => "json",
        Output::Markdown => "markdown",
        Output::Emf => "emf",
        Output::Prometheus => "prometheus",
        Output::Html => "html",
    }
}

fn render_report(report: &Report, output: Output) -> String {
    match output {
        Output::Table => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            render::table(report, color)
        }
        Output::Json => format!("{}\n", render::json(report)),
        Output::Markdown => render::markdown(report),
        Output::Emf => render::emf(report, now_ms()),
        Output::Prometheus => render::prometheus(report),
        Output::Html => render::html(report),
    }
}

/// Milliseconds since the epoch (an EMF line's timestamp).
fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Writes to stdout; a closed pipe (`kreach … | head`) is not an error worth a panic.
/// Keeps the lab up until SIGINT or SIGTERM, after saying how to reach it.
async fn serve(lab: &Lab, output: Output) -> ExitCode {
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
        emit(&format!(
            "kreach lab: {} ({}), serving until interrupted\n  kreach check {}\n",
            lab.fault.name(),
            lab.fault.description(),
            lab.check_args().join(" ")
        ));
    }
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => return fail(&format!("cannot wait for signals: {e}"), EXIT_USAGE),
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    ExitCode::SUCCESS
}

fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// One line on stderr. Whatever the message quotes (an input, a peer's words) reaches the terminal
/// escaped and capped: no control sequence, no multi-megabyte echo.
fn fail(message: &str, code: u8) -> ExitCode {
    const MAX: usize = 2000;
    let mut text: String = kreach::render::clean(message).into_owned();
    if text.chars().count() > MAX {
        text = text.chars().take(MAX).collect::<String>() + "…";
    }
    let _ = writeln!(std::io::stderr(), "kreach: error: {text}");
    ExitCode::from(code)
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
        match Cli::try_parse_from(&argv) {
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
        for extra in
            [vec!["--ca-file", "/x"], vec!["--config", "/x"], vec!["-X", "a=b"], vec!["--allow-insecure-credentials"]]
        {
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

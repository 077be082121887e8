//! The command line's shape (clap only): every subcommand, flag and output format, defined once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "kreach",
    version,
    about = "Can this machine reach that Kafka cluster over AWS PrivateLink? Which hop is broken, and what must change?",
    after_help = "Exit codes: 0 pass (warnings allowed), 1 at least one error finding, 2 bad usage or input."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Structured per-step events on stderr (`-v` steps, `-vv` more); `RUST_LOG` works too. Never a
    /// secret: outcomes and timings only.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// No live progress line on stderr (drawn only on a terminal, and never while `--output
    /// json` goes into a pipe).
    #[arg(long, global = true)]
    pub(crate) no_progress: bool,
}

/// The report format of a command that runs a diagnosis.
pub(crate) fn command_output(command: &Command) -> Option<Output> {
    match command {
        Command::Check(args) => Some(args.output),
        Command::Lab(args) if !args.serve && !args.list_faults => Some(args.output),
        _ => None,
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Diagnose the path to a Kafka cluster: DNS → TCP (Kafka port and 443) → TLS → Kafka (ApiVersions,
    /// SASL, Metadata, every advertised broker) and HTTPS, then what a real client (librdkafka) makes of it.
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
pub(crate) struct CheckArgs {
    /// Bootstrap server HOST:PORT (comma-separated for several); default: bootstrap.servers from --config.
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) bootstrap: Option<String>,
    /// A client property, KEY=VALUE (repeatable; kcat's and librdkafka's -X): beside --config,
    /// and winning over it. Secrets (sasl.password, sasl.jaas.config, …) are refused here: they
    /// belong in the properties file or the environment, not on the command line.
    #[arg(short = 'X', value_name = "KEY=VALUE")]
    pub(crate) property: Vec<String>,
    /// Client properties file (bootstrap.servers, security.protocol, sasl.*, ssl.ca.location).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// DNS resolver ADDR[:PORT] instead of the system's (repeatable).
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub(crate) resolver: Vec<String>,
    /// Also resolve through this public resolver and compare (repeatable). Never contacted unless named.
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub(crate) public_resolver: Vec<String>,
    /// CIDR counted as private (repeatable; replaces RFC 1918 + RFC 6598), e.g. the VPC's CIDR.
    #[arg(long, value_name = "CIDR")]
    pub(crate) private_cidr: Vec<String>,
    /// Extra CA certificates (PEM) to trust besides the system store.
    #[arg(long, value_name = "PEM")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Skip TLS certificate verification (the report says so). SASL credentials are then withheld
    /// unless --allow-insecure-credentials is given too.
    #[arg(long)]
    pub(crate) insecure: bool,
    /// Send SASL credentials even over SASL_PLAINTEXT or TLS that was not verified (--insecure):
    /// anyone on the path can read them. Without it they are withheld and the report says so.
    #[arg(long)]
    pub(crate) allow_insecure_credentials: bool,
    /// Global deadline for the whole run, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, allow_negative_numbers = true)]
    pub(crate) timeout: f64,
    /// How long one TCP connect waits, in seconds (default 3.3: past the kernel's third SYN, so a
    /// blackholed port is reported then; within --timeout).
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub(crate) connect_timeout: Option<f64>,
    /// HTTPS (REST) port probed beside the Kafka port.
    #[arg(long, value_name = "PORT", default_value_t = kreach::DEFAULT_HTTPS_PORT)]
    pub(crate) https_port: u16,
    /// Do not probe the HTTPS port.
    #[arg(long)]
    pub(crate) no_https: bool,
    /// Kafka security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (default: the properties
    /// file's, else SASL_SSL, Confluent Cloud's).
    #[arg(long, value_name = "PROTOCOL")]
    pub(crate) security_protocol: Option<String>,
    /// Skip the client-parity stage (Metadata through librdkafka with your configuration).
    #[arg(long)]
    pub(crate) no_client_check: bool,
    /// Read the SASL credentials from this AWS Secrets Manager secret (name or ARN; JSON with
    /// username/password or api_key/api_secret), with the default AWS credential chain.
    #[arg(long, value_name = "NAME|ARN", env = kreach::input::ENV_SASL_SECRET)]
    pub(crate) sasl_secret: Option<String>,
    /// Run this check in a deployed kreach Lambda function instead (lambda:InvokeFunction, the one
    /// action kreach takes, and only with this flag): the report is the function's, from its
    /// subnet. The flags become its event; credentials are the function's own (a --sasl-secret it
    /// allows), never this machine's properties file.
    #[arg(long, value_name = "NAME|ARN")]
    pub(crate) via_function: Option<String>,
    /// A zone's endpoint address, AZID=IP (repeatable): brokers of that zone must resolve to it.
    #[arg(long, value_name = "AZID=IP")]
    pub(crate) zone_address: Vec<String>,
    /// Another endpoint to check, [NAME=][https://|tls://|tcp://]HOST:PORT[/PATH] (repeatable):
    /// DNS, TCP, then TLS and an HTTP request (https://, the default), TLS only (tls://) or
    /// nothing more (tcp://).
    #[arg(long, value_name = "[NAME=]HOST:PORT")]
    pub(crate) target: Vec<String>,
    /// Schema Registry URL to check (default: schema.registry.url from --config).
    #[arg(long, value_name = "URL")]
    pub(crate) schema_registry: Option<String>,
    /// Check the AWS APIs a Lambda path needs from here: Lambda, STS and, with a secret,
    /// Secrets Manager of the region (--aws-region or AWS_REGION): interface endpoint or public?
    #[arg(long)]
    pub(crate) aws_apis: bool,
    /// Check the Confluent Cloud public endpoints the Confluent CLI and Cloud API need.
    #[arg(long)]
    pub(crate) confluent_apis: bool,
    /// Port of the AWS and Confluent API endpoints (443; another for a proxy or the lab).
    #[arg(long, value_name = "PORT")]
    pub(crate) api_port: Option<u16>,
    /// A topic the consumer reads (repeatable; default: the event source mapping's Topics):
    /// asked read-only with Metadata — does it exist, may the credentials describe it, are its
    /// partition leaders reachable?
    #[arg(long, value_name = "NAME")]
    pub(crate) topic: Vec<String>,
    /// The consumer group (default: the mapping's ConsumerGroupId, else its UUID): FindCoordinator
    /// and OffsetFetch on its coordinator, read-only (never joins, never commits).
    #[arg(long, value_name = "ID")]
    pub(crate) consumer_group: Option<String>,
    /// Run again every SECS and print what changed since the run before (stage verdicts,
    /// findings), for watching a fix take effect; until interrupted.
    #[arg(long, value_name = "SECS")]
    pub(crate) watch: Option<f64>,
    /// With --watch: stop after N runs (the exit code is the last run's).
    #[arg(long, value_name = "N", requires = "watch")]
    pub(crate) watch_count: Option<u32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub(crate) output: Output,
    #[command(flatten, next_help_heading = "AWS audit")]
    pub(crate) aws: AwsArgs,
    /// With the audit, the recent changes (CloudTrail) of the AWS resources the failing findings
    /// blame, over the last HOURS (default 24; 0: not looked up; CloudTrail keeps 90 days).
    #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(0..=2160), help_heading = "AWS audit")]
    pub(crate) changes_since: Option<u32>,
    #[command(flatten, next_help_heading = "Lambda")]
    pub(crate) lambda: LambdaArgs,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct FleetArgs {
    #[command(subcommand)]
    pub(crate) template: Option<FleetCommand>,
    /// A kreach function to invoke, NAME|ARN (repeatable).
    #[arg(long = "function", value_name = "NAME|ARN")]
    pub(crate) functions: Vec<String>,
    /// Functions to invoke, one per line: `NAME|ARN [REGION [ROLE-ARN]]` (a role to assume for
    /// another account's); `#` starts a comment.
    #[arg(long, value_name = "FILE")]
    pub(crate) functions_file: Option<PathBuf>,
    /// Invocations in flight at most (each holds one of the account's Lambda concurrency, 1,000
    /// by default per region). Default: the whole fleet at once, halved whenever Lambda throttles
    /// and grown back as invocations succeed.
    #[arg(long, value_name = "N")]
    pub(crate) concurrency: Option<usize>,
    /// The check every function runs (--timeout is the whole fleet's deadline).
    #[command(flatten)]
    pub(crate) check: CheckArgs,
}

#[derive(Subcommand, Debug)]
pub(crate) enum FleetCommand {
    /// Print a CloudFormation template (JSON) for one kreach function per subnet (or per zone):
    /// least-privilege role, the environment that bounds its credentials, an EventBridge
    /// Scheduler canary emitting CloudWatch metrics (docs/metrics.md), and alarms on the cluster,
    /// each vantage and each zone. The deploy and StackSet lines go to stderr. Nothing is created.
    Template(FleetTemplateArgs),
}

#[derive(Args, Debug)]
pub(crate) struct FleetTemplateArgs {
    /// The VPC the functions run in.
    #[arg(long, value_name = "VPC-ID")]
    pub(crate) vpc_id: String,
    /// The subnets, comma-separated: one function each.
    #[arg(long, value_name = "SUBNET,…", value_delimiter = ',', required = true)]
    pub(crate) subnets: Vec<String>,
    /// Each subnet's AZ ID, comma-separated in the same order (for the per-zone alarms and --per zone).
    #[arg(long, value_name = "AZ-ID,…", value_delimiter = ',')]
    pub(crate) zones: Vec<String>,
    /// The functions' security groups, comma-separated.
    #[arg(long, value_name = "SG,…", value_delimiter = ',', required = true)]
    pub(crate) security_groups: Vec<String>,
    /// The cluster the canary checks, HOST:PORT (also the only host its credentials may go to, and
    /// the Cluster dimension of every alarm).
    #[arg(long, value_name = "HOST:PORT", required = true)]
    pub(crate) bootstrap: String,
    /// A Secrets Manager secret with the SASL credentials, its ARN or name (the only one the role
    /// may read; a name becomes its ARN pattern in the stack's account and region).
    #[arg(long, value_name = "ARN|NAME")]
    pub(crate) sasl_secret: Option<String>,
    /// How often each canary runs.
    #[arg(long, value_name = "EXPRESSION", default_value = "rate(5 minutes)")]
    pub(crate) schedule: String,
    /// One function per subnet (default) or per zone (the first subnet of each; needs --zones).
    #[arg(long, value_name = "subnet|zone", default_value = "subnet")]
    pub(crate) per: String,
}

#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// Where to listen, ADDR:PORT.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9577")]
    pub(crate) listen: String,
    /// Probes that may run at once (1-1024); a scrape waits for a slot within its deadline, then
    /// gets a 503.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub(crate) max_concurrent: usize,
    /// Another target a probe may name, probed WITHOUT the credentials (repeatable): `HOST[:PORT]`,
    /// or `*.DOMAIN[:PORT]` for every name below DOMAIN (not DOMAIN itself), where DOMAIN is the
    /// configured cluster's own DNS domain or below it, e.g. `*.usw2-az1.abc123.us-west-2.aws.confluent.cloud`.
    /// Public suffixes and providers' shared domains (`*.us-west-2.aws.confluent.cloud`) are refused.
    #[arg(long, value_name = "PATTERN")]
    pub(crate) allow_target: Vec<String>,
    /// The check each probe runs (its --bootstrap is the default target).
    #[command(flatten)]
    pub(crate) check: CheckArgs,
}

#[derive(Args, Debug, Clone, Default)]
pub(crate) struct AwsArgs {
    /// Run the AWS audit with the default credential chain (instance role, SSO, profile) even when
    /// no AWS credentials are in the environment.
    #[arg(long)]
    pub(crate) aws: bool,
    /// The interface VPC endpoint to audit (default: the VPC's interface endpoint).
    #[arg(long, value_name = "VPCE-ID")]
    pub(crate) vpc_endpoint: Option<String>,
    /// The VPC whose endpoint to audit, when --vpc-endpoint is not given.
    #[arg(long, value_name = "VPC-ID")]
    pub(crate) vpc_id: Option<String>,
    /// The endpoint service name, to pick the VPC's endpoint when --vpc-endpoint is not given.
    #[arg(long, value_name = "SERVICE-NAME")]
    pub(crate) endpoint_service: Option<String>,
    /// The cluster's DNS domain (the private hosted zone's name); default: from the bootstrap's
    /// naming scheme and CNAME chain (the report's `network.domain` says which).
    #[arg(long, value_name = "DOMAIN")]
    pub(crate) dns_domain: Option<String>,
    /// AWS region (default: AWS_REGION or the profile's).
    #[arg(long, value_name = "REGION")]
    pub(crate) aws_region: Option<String>,
}

/// The Lambda side of a diagnosis: an event source mapping polling the cluster, or the Lambda
/// Sink Connector invoking a function (`check` only).
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct LambdaArgs {
    /// A Lambda event source mapping to diagnose (lambda:GetEventSourceMapping): its bootstrap
    /// servers (when --bootstrap is absent), SASL secret, PROBLEM strings, subnets, security
    /// groups and the function's role.
    #[arg(long, value_name = "UUID|ARN", conflicts_with = "event_source_mapping_file")]
    pub(crate) event_source_mapping: Option<String>,
    /// The same, from the JSON `aws lambda get-event-source-mapping` prints (offline).
    #[arg(long, value_name = "FILE")]
    pub(crate) event_source_mapping_file: Option<PathBuf>,
    /// The principal (role or user ARN) whose keys Confluent's Lambda Sink Connector holds: may it
    /// lambda:InvokeFunction and lambda:GetFunction on --lambda-function?
    #[arg(long, value_name = "ARN")]
    pub(crate) sink_connector_principal: Option<String>,
    /// The function the Lambda Sink Connector invokes: does it exist in the region?
    #[arg(long, value_name = "NAME|ARN")]
    pub(crate) lambda_function: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct TwinArgs {
    /// The event source mapping (lambda:GetEventSourceMapping).
    #[arg(
        long,
        value_name = "UUID|ARN",
        conflicts_with = "event_source_mapping_file",
        required_unless_present = "event_source_mapping_file"
    )]
    pub(crate) event_source_mapping: Option<String>,
    /// The same, from the JSON `aws lambda get-event-source-mapping` prints (offline).
    #[arg(long, value_name = "FILE")]
    pub(crate) event_source_mapping_file: Option<PathBuf>,
    /// The region to read the mapping in (default: the ARN's, else AWS_REGION).
    #[arg(long, value_name = "REGION")]
    pub(crate) aws_region: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct RecordsArgs {
    #[command(flatten, next_help_heading = "AWS (where the endpoint and zone are read)")]
    pub(crate) aws: AwsArgs,
    /// A bootstrap HOST[:PORT]; its parent domain is the zone, unless --dns-domain is given.
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) bootstrap: Option<String>,
    /// table, json, or change-batch (what `aws route53 change-resource-record-sets --change-batch` takes).
    #[arg(long, value_enum, default_value_t = RecordsOutput::Table)]
    pub(crate) output: RecordsOutput,
    /// TTL of the records in the change batch.
    #[arg(long, default_value_t = 60)]
    pub(crate) ttl: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum RecordsOutput {
    /// Name, type, value.
    Table,
    /// The records as JSON.
    Json,
    /// A Route 53 change batch (UPSERT).
    ChangeBatch,
}

#[derive(Args, Debug)]
pub(crate) struct LabArgs {
    /// Break one thing on purpose (see --list-faults).
    #[arg(long, value_name = "NAME", default_value = "none")]
    pub(crate) fault: String,
    /// List the faults (and the layouts) and exit.
    #[arg(long)]
    pub(crate) list_faults: bool,
    /// The private-connectivity layout to play (see --list-faults); default: the fault's own, else
    /// `dedicated`.
    #[arg(long, value_name = "NAME")]
    pub(crate) layout: Option<String>,
    /// Check the endpoints around Kafka too: the Schema Registry, the AWS APIs and Confluent's
    /// public APIs (on by default for the faults that only show there).
    #[arg(long)]
    pub(crate) endpoints: bool,
    /// Brokers in the lab cluster, spread over three zones.
    #[arg(long, value_name = "N", default_value_t = kreach_lab::LAB_BROKERS)]
    pub(crate) brokers: usize,
    /// Global deadline for the diagnosis, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub(crate) timeout: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub(crate) output: Output,
    /// Keep the lab running instead of diagnosing it, until interrupted: point `kreach check`, your
    /// own client, kcat or the Lambda handler at it. Prints its addresses (`--output json`: one
    /// JSON line with the `kreach check` arguments and a Lambda event).
    #[arg(long)]
    pub(crate) serve: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
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

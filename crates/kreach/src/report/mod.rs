//! The one report type: everything a run measured, plus the findings drawn from it.
//!
//! Renderers are pure functions of `&Report`; the JSON form is this type serialized and is
//! described by `docs/report.schema.json` (generated from these types, see `report_schema`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub mod access;
pub mod auth;
pub mod aws;
pub mod blame;
pub mod changes;
pub mod esm;
pub mod evidence;
pub mod findings;
pub mod layout;
pub mod parity;
pub mod pni;
pub mod settings;
pub mod tcp;
pub mod tls;
pub mod vantage;

pub use access::*;
pub use auth::*;
pub use aws::*;
pub use blame::{Cause, CertificateRef, FixAction, FixClass, Hop, RecordTarget};
pub use changes::*;
pub use esm::*;
pub use evidence::*;
pub use findings::{Finding, FindingCode, NameCheck, Severity};
pub use layout::*;
pub use parity::*;
pub use pni::*;
pub use settings::*;
pub use tcp::*;
pub use tls::*;
pub use vantage::*;

/// Version of the JSON layout; bumped only on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Overall verdict of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Status {
    /// No error or warning finding.
    Pass,
    /// Warnings only.
    Warn,
    /// At least one error finding.
    Fail,
}

impl Status {
    /// A stable word for the status: its JSON spelling.
    pub fn as_label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    /// The word every output shows for it: `PASS`, `WARN`, `FAIL`.
    pub fn as_word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// The hops a diagnosis goes through, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Stage {
    /// Name resolution.
    Dns,
    /// TCP connect to every resolved address.
    Tcp,
    /// TLS handshake and certificate checks.
    Tls,
    /// One HTTP/1.1 request over TLS on the HTTPS port.
    Https,
    /// Kafka protocol: ApiVersions without credentials, then SASL and Metadata.
    Kafka,
    /// The same Metadata request through librdkafka with the user's own configuration.
    Client,
    /// The AWS side: endpoint, zones, security groups, VPC DNS, private hosted zone.
    Aws,
}

impl Stage {
    /// Lower-case name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Dns => "dns",
            Stage::Tcp => "tcp",
            Stage::Tls => "tls",
            Stage::Https => "https",
            Stage::Kafka => "kafka",
            Stage::Client => "client",
            Stage::Aws => "aws",
        }
    }
}

/// The verdict of one stage for one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StageStatus {
    /// Worked on every address.
    Pass,
    /// Worked, with a warning.
    Warn,
    /// Failed on at least one address.
    Fail,
    /// Not run because an earlier stage failed.
    Skipped,
    /// Does not apply to this target (e.g. TLS with `security.protocol=PLAINTEXT`).
    NotApplicable,
}

impl StageStatus {
    /// A stable word for the status: its JSON spelling.
    pub fn as_label(self) -> &'static str {
        match self {
            StageStatus::Pass => "pass",
            StageStatus::Warn => "warn",
            StageStatus::Fail => "fail",
            StageStatus::Skipped => "skipped",
            StageStatus::NotApplicable => "not_applicable",
        }
    }

    /// The word a matrix cell shows: `PASS`, `WARN`, `FAIL`, `skip`, `n/a`.
    pub fn as_word(self) -> &'static str {
        match self {
            StageStatus::Pass => "PASS",
            StageStatus::Warn => "WARN",
            StageStatus::Fail => "FAIL",
            StageStatus::Skipped => "skip",
            StageStatus::NotApplicable => "n/a",
        }
    }
}

/// What a target is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// A Kafka bootstrap server.
    Bootstrap,
    /// The HTTPS (REST) port of a bootstrap host.
    Https,
    /// A broker advertised in the cluster's metadata.
    Broker,
    /// An endpoint around Kafka: `--target`, Schema Registry, an AWS or Confluent API.
    Endpoint,
}

/// The whole result of one run.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Report {
    /// Layout version of this JSON document.
    pub schema_version: u32,
    /// Version of kreach that made the report.
    pub kreach_version: String,
    /// When the run started, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time of the run in milliseconds.
    pub elapsed_ms: u64,
    /// The global deadline in milliseconds.
    pub timeout_ms: u64,
    /// `fail` if any error finding, `warn` if only warnings, else `pass`.
    pub status: Status,
    /// The settings the run used (never secrets).
    pub settings: Settings,
    /// One entry per `host:port` probed.
    pub targets: Vec<TargetReport>,
    /// The cluster as its metadata describes it, when Metadata succeeded.
    pub cluster: Option<ClusterMetadata>,
    /// Per availability zone (from broker names): which zones pass.
    pub zones: Vec<ZoneSummary>,
    /// librdkafka with the user's configuration, when that stage ran.
    pub parity: Option<ParityReport>,
    /// What the AWS APIs say, when the audit ran (or why it did not).
    pub aws: Option<AwsAudit>,
    /// What changed on the blamed AWS resources before the run (CloudTrail), when looked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<ChangeAudit>,
    /// Where the probe ran, when detected.
    pub vantage: Option<Vantage>,
    /// The secret the SASL credentials were read from (AWS Secrets Manager), when one was named.
    #[serde(default)]
    pub secret: Option<SecretLookup>,
    /// The private-connectivity layout recognised, and what it needs.
    #[serde(default)]
    pub network: Option<NetworkSection>,
    /// The Lambda event source mapping diagnosed (`--event-source-mapping[-file]`), as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source_mapping: Option<esm::EventSourceMapping>,
    /// A consumer's permissions on its topics, group and the cluster (`--topic`, `--consumer-group`,
    /// or the mapping's), asked read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessReport>,
    /// The OAuth token fetch (OAUTHBEARER with OIDC client credentials), when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<TokenFetch>,
    /// Names a fix would point a record at, resolved before the fix advised them (only when a
    /// fix names one: nothing extra on a healthy path).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checked_names: Vec<NameCheck>,
    /// What is wrong and how to fix it, most severe first.
    pub findings: Vec<Finding>,
    /// The chain of steps that ended last, in order: usually the bootstrap's DNS and the steps of
    /// the address that answered Metadata, then the slowest broker's; another target's own steps or
    /// the client stage when they ended later. Where the wall time went, one round trip at a time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub critical_path: Vec<PathStep>,
    /// Set when this is a compact report (see [`Report::compact`]): what was left out, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compacted: Option<String>,
}

/// One step of the critical path.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[non_exhaustive]
pub struct PathStep {
    /// `host:port` of the target.
    pub target: String,
    /// The stage.
    pub stage: Stage,
    /// Its time in milliseconds, on the address the path runs through.
    pub elapsed_ms: u64,
}

/// One availability zone's verdict, from the brokers whose names carry its AZ ID.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ZoneSummary {
    /// AZ ID, e.g. `usw2-az1`.
    pub az_id: String,
    /// Broker ids in this zone.
    pub brokers: Vec<i32>,
    /// How many of them passed every stage.
    pub passed: usize,
    /// `pass` when every broker of the zone passed, else `fail`.
    pub status: StageStatus,
    /// The addresses the zone's broker names resolved to.
    pub addresses: Vec<String>,
}

/// One `host:port` and what every stage found for it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TargetReport {
    /// `host:port`.
    pub target: String,
    /// Host name or address literal.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// What the target is for.
    pub role: Role,
    /// The matrix row: one entry per stage, in order.
    pub stages: Vec<StageResult>,
    /// The name resolution behind this target (shared by targets of the same host).
    pub dns: Option<DnsDetail>,
    /// Per resolved address: TCP, TLS, HTTPS and Kafka results.
    pub addresses: Vec<AddressReport>,
    /// For a broker target: which broker, and the AZ ID its name carries.
    pub broker: Option<BrokerTarget>,
    /// For an endpoint around Kafka: what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointTarget>,
}

/// An endpoint around Kafka, probed through DNS, TCP, TLS and HTTPS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct EndpointTarget {
    /// Its name in the matrix: the `NAME=` of `--target`, `schema-registry`, `aws:lambda`, …
    pub name: String,
    /// What it is.
    pub kind: EndpointKind,
    /// Whether its name must resolve to private addresses (`None`: either is fine).
    pub expect_private: Option<bool>,
    /// The HTTP path asked over TLS, when the HTTPS stage runs.
    pub path: Option<String>,
}

/// What an endpoint around Kafka is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EndpointKind {
    /// `--target`: any host and port.
    Target,
    /// Confluent Schema Registry (private or public name).
    SchemaRegistry,
    /// An AWS API a Lambda path needs (Lambda, STS, Secrets Manager).
    AwsApi,
    /// A Confluent Cloud public endpoint the client tools need (Cloud API, CLI login).
    ConfluentApi,
    /// The OAuth token endpoint OAUTHBEARER's client credentials go to (an identity provider).
    TokenEndpoint,
}

/// The broker behind a broker target.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct BrokerTarget {
    /// Broker (node) id.
    pub node_id: i32,
    /// Rack, when advertised.
    pub rack: Option<String>,
    /// AZ ID found in the advertised name, e.g. `usw2-az1`.
    pub az_id: Option<String>,
}

impl TargetReport {
    /// The result of one stage, if the target has that stage.
    pub fn stage(&self, stage: Stage) -> Option<&StageResult> {
        self.stages.iter().find(|s| s.stage == stage)
    }
}

/// One cell of the matrix.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct StageResult {
    /// Which stage.
    pub stage: Stage,
    /// Its verdict.
    pub status: StageStatus,
    /// Longest time the stage took on any address, in milliseconds.
    pub elapsed_ms: Option<u64>,
    /// One line saying what happened.
    pub summary: String,
}

impl Report {
    /// The report without its bulky evidence: each address's attempts, DNS chains, the AWS
    /// audit's rule and record lists, librdkafka's log and the critical path. The matrix, the
    /// zones, the findings and every verdict stay (what merged views and metrics read).
    #[must_use]
    pub fn strip_evidence(mut self) -> Report {
        for t in &mut self.targets {
            t.addresses.clear();
            if let Some(d) = &mut t.dns {
                d.lookup.cname_chain.clear();
                d.lookup.addresses.truncate(16);
                d.public = None;
            }
        }
        if let Some(a) = &mut self.aws {
            a.network_acls.clear();
            a.ingress_rules.clear();
            a.probe_egress_rules.clear();
            a.resolver_rules.clear();
            a.dns_firewall.clear();
            a.transit = None;
            if let Some(z) = &mut a.hosted_zone {
                z.records.clear();
            }
        }
        if let Some(p) = &mut self.parity {
            p.log.clear();
        }
        self.critical_path.clear();
        self
    }

    /// The report made to fit `limit` bytes of JSON (a Lambda response's 6 MB): first the bulky
    /// evidence goes — each address's attempts and each DNS chain (the matrix and the stages
    /// stay), the AWS audit's rule lists, librdkafka's log, the critical path — then, if that is
    /// not enough, findings beyond what fits (errors kept first). `compacted` says what was left
    /// out. A report that fits is returned as it is.
    pub fn compact(mut self, limit: usize) -> Report {
        let size = |r: &Report| serde_json::to_vec(r).map_or(usize::MAX, |v| v.len());
        let full = size(&self);
        if full <= limit {
            return self;
        }
        self = self.strip_evidence();
        let mut note = format!(
            "the full report was {full} bytes, more than the {limit} that fit: each address's attempts, DNS chains, \
             the AWS audit's rule and record lists, librdkafka's log and the critical path were left out"
        );
        self.compacted = Some(note.clone());
        if size(&self) > limit {
            self.findings.sort_by_key(|f| f.severity);
            let total = self.findings.len();
            while size(&self) > limit && !self.findings.is_empty() {
                let keep = self.findings.len() / 2;
                self.findings.truncate(keep);
            }
            note.push_str(&format!(
                "; and {} of {total} findings (the most severe are kept)",
                total - self.findings.len()
            ));
            self.compacted = Some(note);
        }
        self
    }

    /// The steps that ended last (see [`Report::critical_path`]): of every chain that ran, the
    /// one that took longest. A target's chain is its DNS step, then one address's steps
    /// (addresses run side by side); the brokers' chains follow the bootstrap address that
    /// answered Metadata first; the client stage is a chain of its own.
    pub(crate) fn compute_critical_path(&self) -> Vec<PathStep> {
        let chain = |t: &TargetReport, address: Vec<(Stage, u64)>| -> Vec<PathStep> {
            let dns = t.stage(Stage::Dns).and_then(|s| s.elapsed_ms).map(|ms| (Stage::Dns, ms));
            dns.into_iter()
                .chain(address)
                .map(|(stage, elapsed_ms)| PathStep { target: t.target.clone(), stage, elapsed_ms })
                .collect()
        };
        let slowest = |t: &TargetReport| {
            chain(t, t.addresses.iter().map(address_steps).max_by_key(|s| total_of(s)).unwrap_or_default())
        };
        let total = |steps: &Vec<PathStep>| steps.iter().map(|s| s.elapsed_ms).sum::<u64>();
        let mut candidates: Vec<Vec<PathStep>> =
            self.targets.iter().filter(|t| t.role != Role::Broker).map(slowest).collect();
        if let Some(bootstrap) = self.targets.iter().find(|t| t.role == Role::Bootstrap) {
            let first_metadata = bootstrap
                .addresses
                .iter()
                .filter(|a| a.kafka.as_ref().is_some_and(|k| k.outcome == KafkaOutcome::Ok))
                .map(address_steps)
                .min_by_key(|s| total_of(s));
            let broker = self.targets.iter().filter(|t| t.role == Role::Broker).map(slowest).max_by_key(total);
            if let (Some(first), Some(broker)) = (first_metadata, broker) {
                let mut path = chain(bootstrap, first);
                path.extend(broker);
                candidates.push(path);
            }
            if let Some(ms) = bootstrap.stage(Stage::Client).and_then(|s| s.elapsed_ms) {
                candidates.push(vec![PathStep {
                    target: bootstrap.target.clone(),
                    stage: Stage::Client,
                    elapsed_ms: ms,
                }]);
            }
        }
        candidates.into_iter().max_by_key(total).unwrap_or_default()
    }

    /// Findings of one code.
    pub fn findings_with(&self, code: FindingCode) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.code == code)
    }

    /// The distinct codes of findings at or above `severity`, sorted.
    pub fn codes_at_least(&self, severity: Severity) -> Vec<FindingCode> {
        let mut codes: Vec<FindingCode> =
            self.findings.iter().filter(|f| f.severity <= severity).map(|f| f.code).collect();
        codes.sort();
        codes.dedup();
        codes
    }

    /// Process exit code for this report: 0 pass or warn, 1 fail.
    pub fn exit_code(&self) -> i32 {
        match self.status {
            Status::Pass | Status::Warn => 0,
            Status::Fail => 1,
        }
    }
}

/// One address's own steps and their times, in order.
fn address_steps(a: &AddressReport) -> Vec<(Stage, u64)> {
    [
        a.tcp.as_ref().map(|x| (Stage::Tcp, x.elapsed_ms)),
        a.tls.as_ref().map(|x| (Stage::Tls, x.elapsed_ms)),
        a.https.as_ref().map(|x| (Stage::Https, x.elapsed_ms)),
        a.kafka.as_ref().map(|x| (Stage::Kafka, x.elapsed_ms)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn total_of(steps: &[(Stage, u64)]) -> u64 {
    steps.iter().map(|(_, ms)| ms).sum()
}

/// The JSON Schema of [`Report`], as published in `docs/report.schema.json`.
pub fn report_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Report);
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}

//! The one report type: everything a run measured, plus the findings drawn from it.
//!
//! Renderers are pure functions of `&Report`; the JSON form is this type serialized and is
//! described by `docs/report.schema.json` (generated from these types, see `report_schema`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::findings::{FindingCode, Severity};

/// Version of the JSON layout; bumped only on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Overall verdict of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// No error or warning finding.
    Pass,
    /// Warnings only.
    Warn,
    /// At least one error finding.
    Fail,
}

/// The hops a diagnosis goes through, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
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

/// What a target is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A Kafka bootstrap server.
    Bootstrap,
    /// The HTTPS (REST) port of a bootstrap host.
    Https,
    /// A broker advertised in the cluster's metadata.
    Broker,
}

/// The whole result of one run.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
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
    /// Where the probe ran, when detected.
    pub vantage: Option<Vantage>,
    /// The secret the SASL credentials were read from (AWS Secrets Manager), when one was named.
    #[serde(default)]
    pub secret: Option<SecretLookup>,
    /// What is wrong and how to fix it, most severe first.
    pub findings: Vec<Finding>,
}

/// Where the probe ran.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Vantage {
    /// EC2 instance, Lambda function, or anything else.
    pub kind: VantageKind,
    /// A short name for matrices: `usw2-az1 (i-0abc…)`, `lambda:NAME`, a host name.
    pub label: String,
    /// What was learnt: instance id, AZ name and ID, region, VPC, subnet, security groups,
    /// function name, memory, …
    pub facts: BTreeMap<String, String>,
    /// Why nothing more is known, when that is the case.
    pub note: Option<String>,
    /// Whether the probe sits in a VPC: always for EC2; for Lambda as
    /// `lambda:GetFunctionConfiguration` says (absent when it could not be read).
    #[serde(default)]
    pub vpc_attached: Option<bool>,
}

/// Reading the SASL credentials from a secret (never its value).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct SecretLookup {
    /// The secret's name or ARN, as given.
    pub secret_id: String,
    /// How the read went.
    pub outcome: SecretOutcome,
    /// What went wrong, in words (never the secret's value).
    pub detail: Option<String>,
    /// The JSON keys the credentials were taken from, e.g. `username`/`password`.
    pub keys: Vec<String>,
    /// Wall time of the read in milliseconds.
    pub elapsed_ms: u64,
}

/// The outcome of reading a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretOutcome {
    /// Read, and it holds a user name and a password.
    Read,
    /// `secretsmanager:GetSecretValue` (or the KMS key's decrypt) was denied.
    Denied,
    /// No secret by that name or ARN.
    NotFound,
    /// The Secrets Manager API did not answer in time or could not be reached.
    Unreachable,
    /// Read, but not a JSON object with a user name and a password.
    Malformed,
    /// Any other API error.
    Error,
}

impl SecretOutcome {
    /// The outcome in words.
    pub fn as_words(self) -> &'static str {
        match self {
            SecretOutcome::Read => "read",
            SecretOutcome::Denied => "denied",
            SecretOutcome::NotFound => "not found",
            SecretOutcome::Unreachable => "unreachable",
            SecretOutcome::Malformed => "malformed",
            SecretOutcome::Error => "error",
        }
    }
}

/// Kind of vantage point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VantageKind {
    /// An EC2 instance (IMDSv2 answered).
    Ec2,
    /// A Lambda function.
    Lambda,
    /// A laptop, a container, anything else.
    Other,
}

/// The AWS side, read with Describe/List/Get calls only.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct AwsAudit {
    /// Region audited.
    pub region: Option<String>,
    /// Why the audit did not run (no credentials, no reachable API), when it did not.
    pub unavailable: Option<String>,
    /// The interface endpoint.
    pub endpoint: Option<AwsEndpoint>,
    /// AZ name ↔ AZ ID for the region.
    pub availability_zones: Vec<AwsZone>,
    /// The endpoint's security groups' inbound rules, per port checked.
    pub ingress: Vec<AwsIngress>,
    /// The endpoint VPC's DNS attributes.
    pub vpc: Option<AwsVpc>,
    /// The private hosted zone named after the cluster's domain.
    pub hosted_zone: Option<AwsHostedZone>,
    /// The records the private zone needs for this endpoint.
    pub expected_records: Vec<DnsRecord>,
    /// API calls refused (AccessDenied), with the permission they need.
    pub denied: Vec<AwsDenied>,
    /// Other API errors.
    pub errors: Vec<String>,
    /// Every API action called, in order (all read-only).
    pub calls: Vec<String>,
    /// Wall time of the audit in milliseconds.
    pub elapsed_ms: u64,
}

/// An interface VPC endpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct AwsEndpoint {
    /// `vpce-…`.
    pub id: String,
    /// `Interface`, `Gateway`, …
    pub endpoint_type: String,
    /// `available`, `pendingAcceptance`, `rejected`, …
    pub state: String,
    /// The service it connects to.
    pub service_name: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Whether the endpoint's own private DNS is on.
    pub private_dns_enabled: bool,
    /// Its security groups.
    pub security_groups: Vec<String>,
    /// Its subnets.
    pub subnets: Vec<String>,
    /// Its DNS names (the regional one first).
    pub dns_names: Vec<String>,
    /// One network interface per zone.
    pub interfaces: Vec<AwsInterface>,
}

/// One endpoint network interface.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct AwsInterface {
    /// `eni-…`.
    pub id: String,
    /// Its subnet.
    pub subnet_id: String,
    /// AZ name, e.g. `us-west-2a`.
    pub az_name: String,
    /// AZ ID, e.g. `usw2-az1`.
    pub az_id: String,
    /// Its private address.
    pub ip: String,
}

/// AZ name ↔ AZ ID.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct AwsZone {
    /// e.g. `us-west-2a`.
    pub name: String,
    /// e.g. `usw2-az1`.
    pub id: String,
}

/// Whether the endpoint's security groups admit a port.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct AwsIngress {
    /// TCP port.
    pub port: u16,
    /// Whether an inbound rule admits it.
    pub allowed: bool,
    /// The rules that admit it, as text.
    pub rules: Vec<String>,
    /// The same rules, structured: which group admits the port from which source.
    #[serde(default)]
    pub sources: Vec<AwsIngressSource>,
}

/// One inbound rule's source for a port.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AwsIngressSource {
    /// The endpoint's security group holding the rule.
    pub group_id: String,
    /// What the rule admits: a CIDR, a security group id (`sg-…`) or a prefix list id (`pl-…`).
    pub source: String,
}

/// A VPC's DNS attributes.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct AwsVpc {
    /// `vpc-…`.
    pub id: String,
    /// enableDnsSupport.
    pub dns_support: bool,
    /// enableDnsHostnames.
    pub dns_hostnames: bool,
}

/// The private hosted zone for the cluster's domain.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct AwsHostedZone {
    /// Zone id.
    pub id: String,
    /// Zone name.
    pub name: String,
    /// Whether it is associated with the endpoint's VPC.
    pub associated: bool,
    /// The VPCs it is associated with.
    pub vpcs: Vec<String>,
    /// Its CNAME records (wildcards included).
    pub records: Vec<DnsRecord>,
}

/// One DNS record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DnsRecord {
    /// Owner name, e.g. `*.usw2-az1.abc123.us-west-2.aws.confluent.cloud`.
    pub name: String,
    /// `CNAME`.
    pub record_type: String,
    /// Target.
    pub value: String,
}

/// An API call the credentials may not make.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct AwsDenied {
    /// The IAM action, e.g. `route53:ListResourceRecordSets`.
    pub action: String,
    /// The error message.
    pub message: String,
}

/// What a real client (librdkafka) made of the same configuration.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ParityReport {
    /// How it ended.
    pub outcome: ParityOutcome,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
    /// librdkafka's version.
    pub librdkafka_version: String,
    /// Where the client configuration came from: `properties file` or `flags`.
    pub config_source: String,
    /// Brokers librdkafka's Metadata listed, as `host:port`.
    pub brokers: Vec<String>,
    /// librdkafka's error, when it failed.
    pub error: Option<String>,
    /// librdkafka's own warnings and errors during the attempt (at most 10).
    pub log: Vec<String>,
    /// Properties librdkafka does not know (Java-client settings), left out.
    pub ignored_properties: Vec<String>,
    /// Where the client's configuration differs from what kreach's own checks used.
    pub differences: Vec<String>,
    /// Why it did not run, when it did not.
    pub skipped: Option<String>,
}

/// How the librdkafka stage ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParityOutcome {
    /// librdkafka fetched Metadata.
    Ok,
    /// It did not.
    Failed,
    /// Not run (see `skipped`).
    Skipped,
}

/// One availability zone's verdict, from the brokers whose names carry its AZ ID.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
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

/// The cluster's metadata as one broker returned it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ClusterMetadata {
    /// Cluster id.
    pub cluster_id: Option<String>,
    /// Controller broker id.
    pub controller_id: i32,
    /// Every advertised broker, by id.
    pub brokers: Vec<BrokerInfo>,
    /// Time the Metadata request took, in milliseconds.
    pub elapsed_ms: u64,
}

/// One advertised broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BrokerInfo {
    /// Broker (node) id.
    pub node_id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: i32,
    /// Rack, when the broker has one.
    pub rack: Option<String>,
}

/// The effective settings of a run. Secrets never appear here.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Settings {
    /// Bootstrap servers as `host:port`.
    pub bootstrap: Vec<String>,
    /// `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.
    pub security_protocol: String,
    /// SASL mechanism, when SASL is configured.
    pub sasl_mechanism: Option<String>,
    /// Whether SASL credentials were supplied (their values never are).
    pub sasl_credentials: bool,
    /// Whether SASL credentials may go over plaintext or unverified TLS (`--allow-insecure-credentials`).
    #[serde(default)]
    pub allow_insecure_credentials: bool,
    /// Resolvers used, as `ip:port`; empty means the system resolver.
    pub resolvers: Vec<String>,
    /// Resolvers used for the public comparison.
    pub public_resolvers: Vec<String>,
    /// The CIDRs counted as private addresses.
    pub private_cidrs: Vec<String>,
    /// The HTTPS port probed, if any.
    pub https_port: Option<u16>,
    /// Whether TLS certificates were verified.
    pub tls_verification: TlsVerification,
    /// Extra CA file trusted besides the system store.
    pub ca_file: Option<String>,
    /// Each zone's endpoint address as given with `--zone-address` (AZ ID → address).
    pub zone_addresses: std::collections::BTreeMap<String, String>,
}

/// Whether certificate verification was on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TlsVerification {
    /// Chain and name verified.
    Enabled,
    /// `--insecure`: nothing verified.
    Disabled,
}

/// One `host:port` and what every stage found for it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
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
}

/// The broker behind a broker target.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
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

/// Name resolution of one host.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DnsDetail {
    /// The name looked up.
    pub name: String,
    /// Private/public verdict on the answer, when there was one.
    pub answer_class: Option<AnswerClass>,
    /// The lookup through the configured (or system) resolver.
    pub lookup: DnsLookup,
    /// The same lookup through `--public-resolver`, when given.
    pub public: Option<DnsLookup>,
}

/// Whether an answer's addresses are private.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnswerClass {
    /// Every address is in a private CIDR.
    Private,
    /// No address is in a private CIDR.
    Public,
    /// Some are, some are not.
    Mixed,
}

/// One DNS lookup (A and AAAA) through one set of resolvers.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DnsLookup {
    /// `system` or the resolver addresses used.
    pub resolver: String,
    /// What came back.
    pub outcome: DnsOutcome,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
    /// The CNAME chain followed, in order.
    pub cname_chain: Vec<CnameHop>,
    /// Every address returned.
    pub addresses: Vec<DnsAddress>,
    /// The zone whose SOA came with a negative answer (which zone said "no").
    pub negative_zone: Option<String>,
    /// Error text when the lookup failed.
    pub error: Option<String>,
    /// The CNAME chain leads back to a name already in it (`cname_chain` holds the loop).
    #[serde(default)]
    pub cname_loop: bool,
}

/// Kind of DNS answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DnsOutcome {
    /// Addresses came back.
    Answer,
    /// The name does not exist.
    Nxdomain,
    /// The name exists without addresses.
    NoData,
    /// The resolver did not answer in time or could not be reached.
    Unreachable,
    /// The resolver answered with an error (SERVFAIL, REFUSED, …).
    Error,
    /// The host is an address literal: no lookup.
    AddressLiteral,
}

/// One CNAME record in a chain.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct CnameHop {
    /// Owner name.
    pub name: String,
    /// Canonical name it points to.
    pub target: String,
    /// TTL in seconds.
    pub ttl: u32,
}

/// One resolved address.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DnsAddress {
    /// The address.
    pub ip: String,
    /// TTL in seconds.
    pub ttl: u32,
    /// Whether it lies in a private CIDR.
    pub private: bool,
}

/// Everything measured against one address of a target.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct AddressReport {
    /// The address.
    pub ip: String,
    /// Whether it lies in a private CIDR.
    pub private: bool,
    /// TCP connect.
    pub tcp: Option<TcpAttempt>,
    /// TLS handshake.
    pub tls: Option<TlsAttempt>,
    /// HTTP request over TLS.
    pub https: Option<HttpsAttempt>,
    /// Kafka requests over the connection.
    pub kafka: Option<KafkaAttempt>,
}

/// Kafka requests on one connection.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct KafkaAttempt {
    /// How it ended.
    pub outcome: KafkaOutcome,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
    /// Time until the ApiVersions answer.
    pub api_versions_ms: Option<u64>,
    /// Number of APIs the broker advertised.
    pub api_keys: Option<usize>,
    /// Metadata version used.
    pub metadata_version: Option<i16>,
    /// SASL mechanism used, when SASL ran.
    pub sasl_mechanism: Option<String>,
    /// Mechanisms the broker offered in its SaslHandshake answer.
    pub broker_mechanisms: Vec<String>,
    /// Time SaslHandshake + SaslAuthenticate took.
    pub sasl_ms: Option<u64>,
    /// Why SASL and Metadata were not attempted, when they were not.
    pub skipped: Option<String>,
    /// Kafka error code returned, if any.
    pub error_code: Option<i16>,
    /// Error text, when it failed.
    pub error: Option<String>,
    /// What Metadata returned.
    pub metadata: Option<ClusterMetadata>,
    /// Why the SASL credentials were not sent on this connection, when they were withheld
    /// (plaintext, or TLS without verification, and no explicit permission).
    #[serde(default)]
    pub credentials_withheld: Option<String>,
    /// The request that was under way when it failed or timed out (none on success).
    #[serde(default)]
    pub step: Option<KafkaStep>,
}

/// One request of the Kafka stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KafkaStep {
    /// ApiVersions (no credentials needed).
    ApiVersions,
    /// SaslHandshake and SaslAuthenticate.
    Sasl,
    /// Metadata.
    Metadata,
}

impl KafkaStep {
    /// The request's name as Kafka spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            KafkaStep::ApiVersions => "ApiVersions",
            KafkaStep::Sasl => "SASL",
            KafkaStep::Metadata => "Metadata",
        }
    }
}

/// How the Kafka requests ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KafkaOutcome {
    /// ApiVersions (and Metadata, when asked) answered.
    Ok,
    /// Something answered that is not Kafka.
    NotKafka,
    /// The peer closed without answering.
    Closed,
    /// No answer before the step's timeout.
    Timeout,
    /// ApiVersions worked, Metadata did not.
    MetadataFailed,
    /// The broker does not enable the configured SASL mechanism.
    MechanismUnsupported,
    /// SASL authentication was rejected.
    AuthFailed,
    /// Sent in plaintext, answered with TLS: the listener wants TLS.
    TlsListener,
    /// The TLS handshake failed, but the same port answered ApiVersions in plaintext.
    PlaintextListener,
    /// Any other failure.
    Failed,
}

/// A TCP connect attempt.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct TcpAttempt {
    /// How it ended.
    pub outcome: TcpOutcome,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
    /// OS error text, when it failed.
    pub error: Option<String>,
}

/// How a TCP connect ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TcpOutcome {
    /// Three-way handshake completed.
    Connected,
    /// RST in answer to SYN.
    Refused,
    /// No answer before the step's timeout: packets dropped.
    Timeout,
    /// ICMP network/host unreachable, or no route.
    Unreachable,
    /// Another OS error.
    Error,
}

/// A TLS handshake attempt.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct TlsAttempt {
    /// How it ended.
    pub outcome: TlsOutcome,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
    /// The SNI sent.
    pub sni: String,
    /// Negotiated protocol version, e.g. `TLSv1_3`.
    pub protocol_version: Option<String>,
    /// Negotiated cipher suite.
    pub cipher_suite: Option<String>,
    /// Negotiated ALPN protocol.
    pub alpn: Option<String>,
    /// The certificate the peer presented, when it presented one.
    pub peer_certificate: Option<PeerCertificate>,
    /// Error text, when it failed.
    pub error: Option<String>,
}

/// How a TLS handshake ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TlsOutcome {
    /// Handshake done and (unless disabled) certificate verified.
    Ok,
    /// Certificate does not cover the name.
    NameMismatch,
    /// Chain does not lead to a trusted CA.
    UnknownIssuer,
    /// Certificate expired.
    Expired,
    /// Certificate not valid yet.
    NotYetValid,
    /// The peer does not speak TLS.
    NotTls,
    /// Peer closed the connection without answering.
    Closed,
    /// No handshake before the step's timeout.
    Timeout,
    /// Any other failure (alert, bad certificate, protocol error).
    Failed,
}

/// What the peer's leaf certificate says.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PeerCertificate {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// DNS and IP subject alternative names.
    pub sans: Vec<String>,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whole days until expiry (negative once expired).
    pub days_to_expiry: i64,
    /// Whether a SAN covers the dialled host name.
    pub name_covered: bool,
    /// Number of certificates the peer sent.
    pub chain_length: usize,
}

/// An HTTP request over TLS.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct HttpsAttempt {
    /// How it ended.
    pub outcome: HttpsOutcome,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
    /// The request line's path.
    pub path: String,
    /// Status code of the response.
    pub status_code: Option<u16>,
    /// The `Server` header.
    pub server: Option<String>,
    /// Error text, when it failed.
    pub error: Option<String>,
}

/// How an HTTP request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HttpsOutcome {
    /// A well-formed HTTP response (any status).
    Response,
    /// Bytes came back, but not an HTTP response.
    Malformed,
    /// The peer closed without a response.
    Closed,
    /// No response before the step's timeout.
    Timeout,
}

/// Something wrong (or worth knowing), with its evidence and the fix.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Stable kebab-case code, see `docs/findings.md`.
    pub code: FindingCode,
    /// `error`, `warning` or `info`.
    pub severity: Severity,
    /// The `host:port` it concerns.
    pub target: String,
    /// The stage where it shows.
    pub stage: Stage,
    /// One line with the evidence.
    pub summary: String,
    /// What to change, concretely.
    pub fix: String,
    /// The addresses concerned, when it is about some of them.
    pub addresses: Vec<String>,
}

impl Report {
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

/// The JSON Schema of [`Report`], as published in `docs/report.schema.json`.
pub fn report_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Report);
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}

impl TcpOutcome {
    /// The outcome in a word or two, as the matrix and findings say it.
    pub fn word(self) -> &'static str {
        match self {
            TcpOutcome::Connected => "connected",
            TcpOutcome::Refused => "refused",
            TcpOutcome::Timeout => "timeout",
            TcpOutcome::Unreachable => "unreachable",
            TcpOutcome::Error => "error",
        }
    }
}

impl KafkaOutcome {
    /// The outcome in a word or two, as the matrix and findings say it.
    pub fn word(self) -> &'static str {
        match self {
            KafkaOutcome::Ok => "ok",
            KafkaOutcome::NotKafka => "not Kafka",
            KafkaOutcome::Closed => "closed",
            KafkaOutcome::Timeout => "timeout",
            KafkaOutcome::MetadataFailed => "metadata failed",
            KafkaOutcome::MechanismUnsupported => "SASL mechanism unsupported",
            KafkaOutcome::AuthFailed => "authentication failed",
            KafkaOutcome::TlsListener => "TLS listener",
            KafkaOutcome::PlaintextListener => "plaintext listener",
            KafkaOutcome::Failed => "failed",
        }
    }
}

impl TlsOutcome {
    /// The outcome in a word or two, as the matrix and findings say it.
    pub fn word(self) -> &'static str {
        match self {
            TlsOutcome::Ok => "ok",
            TlsOutcome::NameMismatch => "name mismatch",
            TlsOutcome::UnknownIssuer => "unknown issuer",
            TlsOutcome::Expired => "expired",
            TlsOutcome::NotYetValid => "not yet valid",
            TlsOutcome::NotTls => "not TLS",
            TlsOutcome::Closed => "closed",
            TlsOutcome::Timeout => "timeout",
            TlsOutcome::Failed => "failed",
        }
    }
}

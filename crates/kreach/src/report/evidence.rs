//! What the network showed: DNS lookups, and the TCP, TLS, HTTPS and Kafka attempts per address.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::tcp::TcpAttempt;
use super::tls::{TlsAlert, TlsAttempt};

/// The cluster's metadata as one broker returned it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ClusterMetadata {
    /// Cluster id.
    pub cluster_id: Option<String>,
    /// Controller broker id.
    pub controller_id: i32,
    /// The advertised brokers, by id: every one, up to the probe cap (`brokers_total` counts them all).
    pub brokers: Vec<BrokerInfo>,
    /// How many brokers the answer listed; more than `brokers` when the cap cut the list.
    #[serde(default)]
    pub brokers_total: usize,
    /// Time the Metadata request took, in milliseconds.
    pub elapsed_ms: u64,
}

/// One advertised broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
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

/// Name resolution of one host.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct DnsDetail {
    /// The name looked up.
    pub name: String,
    /// Private/public verdict on the answer, when there was one.
    pub answer_class: Option<AnswerClass>,
    /// The lookup through the configured (or system) resolver.
    pub lookup: DnsLookup,
    /// The same lookup through `--public-resolver`, when given.
    pub public: Option<DnsLookup>,
    /// When the name (or the last name of its chain) got NXDOMAIN: a label never asked before
    /// under the same parent (`kreach-<random>.<parent>`), through the same resolver. An answer
    /// means a record (a wildcard) covers the name now, so its NXDOMAIN came from a cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh_sibling: Option<SiblingLookup>,
    /// For the bootstrap, when the cluster's DNS domain is known (`--dns-domain`, the naming
    /// scheme): the zone that answers for the domain through the same resolver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_zone: Option<DomainZone>,
}

/// Which zone answers for the cluster's DNS domain: the owner of the SOA given for it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct DomainZone {
    /// The cluster's DNS domain asked.
    pub domain: String,
    /// The zone whose SOA came back (the domain itself when a zone is named after it), if any.
    pub zone: Option<String>,
}

/// A name never asked before, asked beside a name that got NXDOMAIN.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct SiblingLookup {
    /// The name asked (`kreach-<random>.<parent>`).
    pub name: String,
    /// Its lookup, through the same resolver.
    pub lookup: DnsLookup,
}

/// Whether an answer's addresses are private.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// How long that negative answer may be cached, in seconds: the SOA's TTL, at most its
    /// minimum field (RFC 2308); from a resolver's cache, what is left of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_ttl: Option<u32>,
    /// The name the negative answer was for (the name asked, or the last name of its chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_name: Option<String>,
    /// Error text when the lookup failed.
    pub error: Option<String>,
    /// The CNAME chain leads back to a name already in it (`cname_chain` holds the loop).
    #[serde(default)]
    pub cname_loop: bool,
    /// The CNAME chain is longer than kreach (and resolvers) follow, whether it came hop by hop or
    /// in one answer: `cname_chain` holds its first hops.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cname_too_long: bool,
    /// The name itself cannot be sent to DNS (too long, bad characters): nothing was asked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub name_invalid: bool,
}

/// Kind of DNS answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// When this address's steps got only the short confirmation budget because an earlier
    /// stage had already fixed the target's verdict, and a step ran out of it: what was not
    /// waited for, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_waited_for: Option<String>,
}

/// Kafka requests on one connection.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
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
    /// The listener does not do SASL at all: it advertises no SaslHandshake v1, answers it with
    /// ILLEGAL_SASL_STATE, or enables no mechanism (a plaintext or SSL listener, or the wrong port).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_sasl: bool,
    /// A consumer's read-only questions asked on this connection (`--topic`, `--consumer-group`):
    /// kept here until the run gathers them in the report's `access` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<crate::report::AccessReport>,
    /// The SASL mechanism the broker enables and kreach does not speak (OAUTHBEARER, GSSAPI,
    /// AWS_MSK_IAM): what was not verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unverified_mechanism: Option<String>,
    /// A TLS alert that came instead of the first answer, after the handshake completed (TLS 1.3
    /// sends a refused client certificate's alert there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_alert: Option<TlsAlert>,
    /// AWS_MSK_IAM: how signing the authentication payload went (never the payload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_signing: Option<IamSigning>,
}

/// Signing an AWS_MSK_IAM authentication payload (a SigV4-presigned `kafka-cluster:Connect` for
/// the broker's host) with the default credential chain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct IamSigning {
    /// How it went.
    pub outcome: IamSigningOutcome,
    /// The host signed for.
    pub host: String,
    /// The region signed for (from the broker's name, else the SDK's).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Where the credentials came from (the SDK's provider name: `Environment`, `Profile`,
    /// `IMDSv2`, `WebIdentityToken`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_source: Option<String>,
    /// When the credentials expire, RFC 3339 (temporary credentials only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_expire: Option<String>,
    /// What went wrong, in words (never a key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The role assumed before signing (aws-msk-iam-auth's `awsRoleArn`), when the client names one
    /// and its credentials signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Where the role was assumed: the STS region (`awsStsRegion`), or `aws-global` — the global
    /// endpoint `sts.amazonaws.com`, aws-msk-iam-auth's default when the JAAS line sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_sts_region: Option<String>,
    /// The shared-config profile whose credentials signed (aws-msk-iam-auth's `awsProfileName`,
    /// tried before the role and the default chain, as the library does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// How signing an AWS_MSK_IAM payload went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum IamSigningOutcome {
    /// Signed.
    Signed,
    /// The credential chain found no credentials (no environment, profile, role).
    #[default]
    NoCredentials,
    /// The credentials found had expired.
    CredentialsExpired,
    /// Their source did not answer in time (STS for an assumed role or web identity, the
    /// instance metadata service).
    CredentialsUnreachable,
    /// No region to sign for (the broker's name carries none and none is configured).
    NoRegion,
    /// Signing failed otherwise (the credential provider's error).
    Failed,
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
    /// A consumer's read-only questions (FindCoordinator, DescribeConfigs, OffsetFetch).
    Access,
}

impl KafkaStep {
    /// The request's name as Kafka spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            KafkaStep::ApiVersions => "ApiVersions",
            KafkaStep::Sasl => "SASL",
            KafkaStep::Metadata => "Metadata",
            KafkaStep::Access => "FindCoordinator/DescribeConfigs",
        }
    }
}

/// How the Kafka requests ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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

/// An HTTP request over TLS.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
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
    /// A TLS alert that came instead of the response, after the handshake completed (TLS 1.3
    /// sends a refused or missing client certificate's alert there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_alert: Option<TlsAlert>,
}

/// How an HTTP request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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

impl DnsOutcome {
    /// A stable word for the outcome: its JSON spelling.
    pub fn as_label(self) -> &'static str {
        match self {
            DnsOutcome::Answer => "answer",
            DnsOutcome::Nxdomain => "nxdomain",
            DnsOutcome::NoData => "no_data",
            DnsOutcome::Unreachable => "unreachable",
            DnsOutcome::Error => "error",
            DnsOutcome::AddressLiteral => "address_literal",
        }
    }
}

impl HttpsOutcome {
    /// A stable word for the outcome: its JSON spelling.
    pub fn as_label(self) -> &'static str {
        match self {
            HttpsOutcome::Response => "response",
            HttpsOutcome::Malformed => "malformed",
            HttpsOutcome::Closed => "closed",
            HttpsOutcome::Timeout => "timeout",
        }
    }
}

impl KafkaOutcome {
    /// A stable word for the outcome: its JSON spelling.
    pub fn as_label(self) -> &'static str {
        match self {
            KafkaOutcome::Ok => "ok",
            KafkaOutcome::NotKafka => "not_kafka",
            KafkaOutcome::Closed => "closed",
            KafkaOutcome::Timeout => "timeout",
            KafkaOutcome::MetadataFailed => "metadata_failed",
            KafkaOutcome::MechanismUnsupported => "mechanism_unsupported",
            KafkaOutcome::AuthFailed => "auth_failed",
            KafkaOutcome::TlsListener => "tls_listener",
            KafkaOutcome::PlaintextListener => "plaintext_listener",
            KafkaOutcome::Failed => "failed",
        }
    }
}

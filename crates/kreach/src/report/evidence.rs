//! What the network showed: DNS lookups, and the TCP, TLS, HTTPS and Kafka attempts per address.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

/// A TCP connect attempt.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// The path-MTU retry, when the handshake stalled after the connect: the same address tried
    /// with a small TCP maximum segment size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_mtu: Option<PathMtuProbe>,
    /// Every certificate the server sent, leaf first (up to a cap), each read on its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<ChainCertificate>,
    /// Whether the last certificate sent is, or was issued by, a CA this machine trusts (the
    /// trust store plus `--ca-file`); `None` when nothing was verified or nothing was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchored: Option<bool>,
}

/// One certificate of the chain a server sent, as read on its own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ChainCertificate {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Where now falls in its validity window.
    pub validity: CertValidity,
    /// Whether its basic constraints make it a CA (`None`: no basic constraints extension).
    pub ca: Option<bool>,
    /// Whether its key usage allows signing certificates (`None`: no key usage extension).
    pub cert_sign: Option<bool>,
    /// Whether it names itself as its issuer (a root).
    pub self_issued: bool,
    /// Where its issuer's certificate is published (Authority Information Access, caIssuers):
    /// public CAs' certificates name their intermediate there; a private CA's leaf rarely does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_issuers: Vec<String>,
    /// The bytes could not be read as a certificate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
}

/// Where now falls in a certificate's validity window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CertValidity {
    /// Current.
    #[default]
    Current,
    /// Past its end.
    Expired,
    /// Before its start.
    NotYetValid,
}

/// A stalled handshake retried with the TCP maximum segment size clamped (`TCP_MAXSEG` before the
/// connect, so the SYN advertises it and the peer sends no larger segment). A handshake that
/// completes clamped and stalls unclamped has met a path that drops large packets without
/// sending ICMP "fragmentation needed": a path-MTU black hole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct PathMtuProbe {
    /// The segment size the stalled connection used (the kernel's, from the route's MTU).
    pub default_mss: Option<u32>,
    /// Each clamped attempt, largest first; the retry stops at the first that gets past the
    /// server's certificate flight.
    pub tried: Vec<MssAttempt>,
    /// A second unclamped connection tried beside them: the black hole is only the finding when
    /// it stalls too (a peer that stalls one connection and answers the next is something else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<MssAttempt>,
    /// The largest clamped size whose handshake got the server's certificate flight while the
    /// unclamped control did not.
    pub passed_mss: Option<u32>,
}

/// One clamped attempt of the path-MTU retry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct MssAttempt {
    /// The maximum segment size asked for.
    pub mss: u32,
    /// How its connect ended.
    pub tcp: TcpOutcome,
    /// How its handshake ended, when it connected.
    pub tls: Option<TlsOutcome>,
    /// Whether the server's certificate flight (the handshake's large packets) arrived.
    pub got_certificate: bool,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
}

/// How a TLS handshake ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
#[non_exhaustive]
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

impl TcpOutcome {
    /// A stable word for the outcome: its JSON spelling (for TCP the matrix's own words).
    pub fn as_label(self) -> &'static str {
        self.word()
    }
}

impl TlsOutcome {
    /// A stable word for the outcome: its JSON spelling.
    pub fn as_label(self) -> &'static str {
        match self {
            TlsOutcome::Ok => "ok",
            TlsOutcome::NameMismatch => "name_mismatch",
            TlsOutcome::UnknownIssuer => "unknown_issuer",
            TlsOutcome::Expired => "expired",
            TlsOutcome::NotYetValid => "not_yet_valid",
            TlsOutcome::NotTls => "not_tls",
            TlsOutcome::Closed => "closed",
            TlsOutcome::Timeout => "timeout",
            TlsOutcome::Failed => "failed",
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

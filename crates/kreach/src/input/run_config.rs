//! The validated configuration a run uses, and its parts: the security protocol, the SASL
//! settings with their secret, the extra CA certificates, a consumer's questions.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use rustls_pki_types::CertificateDer;

use crate::error::{Error, ParseError};
use crate::input::address::HostPort;
use crate::input::endpoints::EndpointSpec;
use crate::input::files::read_ca_file;
use crate::limits::MAX_LIST;

/// Global deadline when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest deadline accepted.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// Kafka port when a bootstrap entry has none.
pub const DEFAULT_KAFKA_PORT: u16 = 9092;
/// HTTPS (REST) port probed beside the Kafka port.
pub const DEFAULT_HTTPS_PORT: u16 = 443;
/// RFC 1918 and RFC 6598 (carrier-grade NAT) ranges, plus IPv6 unique-local.
pub const DEFAULT_PRIVATE_CIDRS: &[&str] =
    &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fd00::/8"];

/// Kafka's `security.protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityProtocol {
    /// No TLS, no SASL.
    Plaintext,
    /// TLS.
    Ssl,
    /// SASL without TLS.
    SaslPlaintext,
    /// SASL over TLS (Confluent Cloud).
    SaslSsl,
}

impl SecurityProtocol {
    /// The name as Kafka spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    /// Whether the Kafka listener speaks TLS.
    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    /// Whether SASL authentication is expected.
    pub fn uses_sasl(self) -> bool {
        matches!(self, SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl)
    }
}

impl FromStr for SecurityProtocol {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Ok(SecurityProtocol::Plaintext),
            "SSL" => Ok(SecurityProtocol::Ssl),
            "SASL_PLAINTEXT" => Ok(SecurityProtocol::SaslPlaintext),
            "SASL_SSL" => Ok(SecurityProtocol::SaslSsl),
            other => Err(ParseError(format!(
                "{} is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
                crate::error::quote(other)
            ))),
        }
    }
}

pub use crate::input::secret::Secret;

/// SASL settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Sasl {
    /// `PLAIN`, `SCRAM-SHA-256`, …
    pub mechanism: String,
    /// Username (API key).
    pub username: Option<String>,
    /// Password (API secret).
    pub password: Option<Secret>,
    /// The OIDC client (OAUTHBEARER with a token endpoint), when configured.
    pub oauth: Option<crate::input::oauth::OAuthClient>,
    /// The token fetched from `oauth`'s endpoint in this run, or the AWS_MSK_IAM payload signed
    /// for the bootstrap's host (set by the run, never by input).
    pub bearer: Option<Secret>,
    /// AWS_MSK_IAM: what signs the authentication payload (a front end with AWS credentials sets
    /// it; the core has none).
    pub iam: Option<IamSigner>,
    /// OAUTHBEARER with Amazon MSK's IAM token (Java's `sasl.login.callback.handler.class` set to
    /// aws-msk-iam-auth's `IAMOAuthBearerLoginCallbackHandler`; librdkafka clients get the same
    /// token from AWS's MSK IAM SASL signer libraries in their token callback): `iam` signs it.
    pub msk_iam_token: bool,
    /// The role aws-msk-iam-auth's JAAS options make the client sign as (`awsRoleArn`,
    /// `awsRoleSessionName`, `awsStsRegion`, `awsRoleExternalId`, `awsRoleAccessKeyId`…): the
    /// signer assumes it first.
    pub msk_role: Option<MskRole>,
    /// The shared-config profile aws-msk-iam-auth's `awsProfileName` names: its credentials come
    /// first, before the role and the default chain (the library's order).
    pub msk_profile: Option<String>,
}

/// A role to assume before signing for MSK IAM, as aws-msk-iam-auth's JAAS options name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MskRole {
    /// `awsRoleArn`.
    pub arn: String,
    /// `awsRoleSessionName` (the library's default otherwise).
    pub session_name: Option<String>,
    /// `awsStsRegion`: the STS endpoint's region (the SDK's otherwise).
    pub sts_region: Option<String>,
    /// `awsRoleExternalId`: the external id the role's trust policy may require.
    pub external_id: Option<String>,
    /// `awsRoleAccessKeyId`, `awsRoleSecretAccessKey` and `awsRoleSessionToken`: the keys that
    /// call `sts:AssumeRole` instead of the default chain's (secrets: never printed).
    pub keys: Option<MskRoleKeys>,
}

/// aws-msk-iam-auth's STS region when the JAAS line names none: the global endpoint,
/// sts.amazonaws.com (its `ProviderBuilder.getStsRegion` default).
pub const GLOBAL_STS_REGION: &str = "aws-global";

impl MskRole {
    /// The STS region the client assumes the role in: `awsStsRegion`, else [`GLOBAL_STS_REGION`] —
    /// a different network path from a regional STS interface endpoint's.
    pub fn assumed_in(&self) -> String {
        self.sts_region.clone().unwrap_or_else(|| GLOBAL_STS_REGION.to_string())
    }
}

/// The keys aws-msk-iam-auth's JAAS line gives for assuming the role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MskRoleKeys {
    /// `awsRoleAccessKeyId`.
    pub access_key_id: Secret,
    /// `awsRoleSecretAccessKey`.
    pub secret_access_key: Secret,
    /// `awsRoleSessionToken`.
    pub session_token: Option<Secret>,
}

/// The Java callback handler of AWS's aws-msk-iam-auth that makes OAUTHBEARER carry MSK's IAM
/// token.
pub const MSK_IAM_OAUTH_HANDLER: &str = "software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler";

impl Sasl {
    /// Whether the run signs this mechanism's credential with AWS credentials (AWS_MSK_IAM, or
    /// OAUTHBEARER carrying MSK's IAM token).
    pub fn signs_for_msk(&self) -> bool {
        self.mechanism == "AWS_MSK_IAM" || (self.mechanism == "OAUTHBEARER" && self.msk_iam_token)
    }
}

/// Signs for AWS with the client's own credentials: AWS_MSK_IAM authentication payloads (a
/// SigV4-presigned `kafka-cluster:Connect` for a broker's host, as AWS's MSK IAM client library
/// builds it) and requests to AWS APIs (STS `GetWebIdentityToken` for Confluent's AWS IAM OAuth).
/// Implemented where AWS credentials are (kreach-aws, with the default credential chain).
pub trait MskIamSign: Send + Sync {
    /// The payload for `host` (a secret: valid for 15 minutes), with how signing went; the
    /// evidence alone when it could not sign.
    fn sign<'a>(
        &'a self,
        host: &'a str,
    ) -> crate::input::Reading<'a, Result<(Secret, crate::report::IamSigning), crate::report::IamSigning>>;

    /// SigV4 headers (`Authorization`, `X-Amz-Date`, `X-Amz-Security-Token`: secrets) for a
    /// request to `service` in `region` with these `headers` (`host` among them) and `body`.
    /// An OAUTHBEARER token as AWS's MSK IAM SASL signer libraries build it (the unpadded
    /// base64url of a presigned `https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect`
    /// with a `User-Agent` parameter; a secret, valid for 15 minutes), for the cluster whose broker
    /// is `host` (its region), with how signing went; the evidence alone when it could not sign.
    fn sign_token<'a>(
        &'a self,
        host: &'a str,
    ) -> crate::input::Reading<'a, Result<(Secret, crate::report::IamSigning), crate::report::IamSigning>>;

    #[allow(clippy::too_many_arguments)]
    fn sign_request<'a>(
        &'a self,
        service: &'a str,
        region: &'a str,
        method: &'a str,
        path: &'a str,
        headers: &'a [(&'a str, &'a str)],
        body: &'a str,
    ) -> crate::input::Reading<'a, SignedHeaders>;
}

/// Signed headers and how signing went, or the evidence alone.
pub type SignedHeaders = Result<(Vec<(String, Secret)>, crate::report::IamSigning), crate::report::IamSigning>;

/// A shared [`MskIamSign`].
#[derive(Clone)]
pub struct IamSigner(pub Arc<dyn MskIamSign>);

impl std::fmt::Debug for IamSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IamSigner(..)")
    }
}

impl Sasl {
    /// A mechanism with a user name and password (PLAIN, SCRAM).
    pub fn new(mechanism: impl Into<String>, username: Option<String>, password: Option<Secret>) -> Self {
        Sasl {
            mechanism: mechanism.into(),
            username,
            password,
            oauth: None,
            bearer: None,
            iam: None,
            msk_iam_token: false,
            msk_role: None,
            msk_profile: None,
        }
    }
}

/// Extra CA certificates the TLS stage trusts besides the platform's: from a file (`--ca-file`,
/// `ssl.ca.location`) or held in memory (a Lambda event's or function's CA, an event source
/// mapping's root-CA secret), never written to disk.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CaBundle {
    /// Where they came from, for the report: the path, or what held them.
    pub source: String,
    /// The file or directory, when they came from one (librdkafka's `ssl.ca.location`).
    pub path: Option<PathBuf>,
    /// The PEM text, when held in memory (librdkafka's `ssl.ca.pem`).
    pub pem: Option<Arc<String>>,
    /// The certificates.
    pub certs: Arc<Vec<CertificateDer<'static>>>,
}

impl CaBundle {
    /// The certificates of a file or directory; a bad one is an error naming `field`.
    pub fn from_file(path: &Path, field: &str) -> Result<Self, Error> {
        Ok(CaBundle {
            source: path.display().to_string(),
            path: Some(path.to_path_buf()),
            pem: None,
            certs: Arc::new(read_ca_file(path, field)?),
        })
    }

    /// The certificates of PEM text held in memory; `source` says what held it.
    pub fn from_pem(pem: &str, source: &str) -> Result<Self, Error> {
        Ok(CaBundle {
            source: source.to_string(),
            path: None,
            pem: Some(Arc::new(pem.to_string())),
            certs: Arc::new(crate::input::files::certificates_from_pem(pem.as_bytes(), source)?),
        })
    }
}

/// A validated configuration, ready to run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CheckConfig {
    /// Bootstrap servers.
    pub bootstrap: Vec<HostPort>,
    /// Resolvers to use; empty means the system resolver.
    pub resolvers: Vec<SocketAddr>,
    /// Resolvers for the public comparison; empty means none.
    pub public_resolvers: Vec<SocketAddr>,
    /// Ranges counted as private.
    pub private_cidrs: Vec<IpNet>,
    /// Extra trusted CA certificates and where they came from.
    pub ca_file: Option<CaBundle>,
    /// Skip certificate verification.
    pub insecure: bool,
    /// Global deadline.
    pub timeout: Duration,
    /// How long one TCP connect waits (within the deadline).
    pub connect_timeout: Duration,
    /// HTTPS port to probe, if any.
    pub https_port: Option<u16>,
    /// Kafka security protocol.
    pub security_protocol: SecurityProtocol,
    /// The client's own settings that matter behind PrivateLink, when a properties file gave them.
    pub client_settings: Option<crate::report::ClientSettings>,
    /// The client's own certificate for mutual TLS (`ssl.certificate.location` and
    /// `ssl.key.location`), when configured.
    pub client_cert: Option<crate::input::client_cert::ClientCert>,
    /// SASL settings, when the protocol uses SASL.
    pub sasl: Option<Sasl>,
    /// Each zone's endpoint address (AZ ID → address), when known.
    pub zone_addresses: Vec<(String, IpAddr)>,
    /// Send SASL credentials even over plaintext or TLS whose certificate was not verified.
    /// Off by default: the credentials are then withheld and the report says so.
    pub allow_insecure_credentials: bool,
    /// Never send SASL credentials in this run, for this reason (an embedding layer's policy,
    /// e.g. a Lambda function whose configuration names no bootstrap it may send them to).
    pub withhold_credentials: Option<String>,
    /// The cluster's DNS domain as the user gave it (else derived: see the report's `network`).
    pub dns_domain: Option<String>,
    /// Endpoints around Kafka, each a row of the matrix.
    pub endpoints: Vec<EndpointSpec>,
    /// A consumer's read-only questions: its topics and group (`--topic`, `--consumer-group`).
    pub consumer: Option<ConsumerQuestions>,
}

/// What a consumer would ask the cluster, asked read-only: Metadata for its topics,
/// FindCoordinator and OffsetFetch for its group, DescribeConfigs on the cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumerQuestions {
    /// Topics it reads.
    pub topics: Vec<String>,
    /// The consumer group it uses.
    pub group: Option<String>,
}

impl ConsumerQuestions {
    /// These topics, in this group (validated like `--topic` and `--consumer-group`).
    pub fn new(topics: Vec<String>, group: Option<String>) -> Result<Self, Error> {
        if topics.len() > MAX_LIST {
            return Err(Error::invalid("--topic", format!("more than {MAX_LIST} topics")));
        }
        for t in &topics {
            crate::input::mapping::valid_topic_name(t)
                .map_err(|why| Error::invalid("--topic", format!("topic {} {why}", crate::error::quote(t))))?;
        }
        if let Some(g) = &group {
            if g.is_empty() || g.len() > 255 || g.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "--consumer-group",
                    format!("{} is not a consumer group id (1–255 printable characters)", crate::error::quote(g)),
                ));
            }
        }
        let mut unique: Vec<String> = Vec::new();
        for t in topics {
            if !unique.contains(&t) {
                unique.push(t);
            }
        }
        Ok(ConsumerQuestions { topics: unique, group })
    }
}

impl CheckConfig {
    /// A configuration for one bootstrap server with every other setting at its default.
    pub fn for_bootstrap(bootstrap: HostPort) -> Self {
        CheckConfig {
            bootstrap: vec![bootstrap],
            resolvers: Vec::new(),
            public_resolvers: Vec::new(),
            private_cidrs: default_private_cidrs(),
            ca_file: None,
            insecure: false,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: crate::limits::DEFAULT_CONNECT_TIMEOUT,
            https_port: Some(DEFAULT_HTTPS_PORT),
            security_protocol: SecurityProtocol::SaslSsl,
            client_settings: None,
            client_cert: None,
            sasl: None,
            zone_addresses: Vec::new(),
            allow_insecure_credentials: false,
            withhold_credentials: None,
            dns_domain: None,
            endpoints: Vec::new(),
            consumer: None,
        }
    }

    /// Asks the cluster a consumer's read-only questions for these topics and group.
    #[must_use]
    pub fn with_consumer(mut self, consumer: Option<ConsumerQuestions>) -> Self {
        self.consumer = consumer;
        self
    }

    /// Probes these endpoints around Kafka too.
    #[must_use]
    pub fn with_endpoints(mut self, endpoints: Vec<EndpointSpec>) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Sends SASL credentials even over plaintext or unverified TLS (off by default).
    #[must_use]
    pub fn with_allow_insecure_credentials(mut self, allow: bool) -> Self {
        self.allow_insecure_credentials = allow;
        self
    }

    /// Declares each zone's endpoint address: brokers of zone X must resolve to exactly it.
    #[must_use]
    pub fn with_zone_addresses(mut self, zones: Vec<(String, IpAddr)>) -> Self {
        self.zone_addresses = zones;
        self
    }

    /// Uses these resolvers instead of the system's.
    #[must_use]
    pub fn with_resolvers(mut self, resolvers: Vec<SocketAddr>) -> Self {
        self.resolvers = resolvers;
        self
    }

    /// Compares answers with these public resolvers.
    #[must_use]
    pub fn with_public_resolvers(mut self, resolvers: Vec<SocketAddr>) -> Self {
        self.public_resolvers = resolvers;
        self
    }

    /// Counts these ranges as private instead of the defaults.
    #[must_use]
    pub fn with_private_cidrs(mut self, cidrs: Vec<IpNet>) -> Self {
        self.private_cidrs = cidrs;
        self
    }

    /// Trusts the certificates of this PEM file too.
    pub fn with_ca_file(mut self, path: &Path) -> Result<Self, Error> {
        self.ca_file = Some(CaBundle::from_file(path, "--ca-file")?);
        Ok(self)
    }

    /// Trusts the certificates of this PEM text too (held in memory; `source` names it in the
    /// report and in errors).
    pub fn with_ca_pem(mut self, pem: &str, source: &str) -> Result<Self, Error> {
        self.ca_file = Some(CaBundle::from_pem(pem, source)?);
        Ok(self)
    }

    /// Why SASL credentials must not be sent at all in this run, whatever a connection shows:
    /// the one rule every stage that could send them obeys (kreach's own Kafka stage adds the
    /// per-connection test of a verified certificate; the librdkafka stage is skipped).
    pub fn credentials_withheld(&self) -> Option<String> {
        if let Some(why) = &self.withhold_credentials {
            Some(why.clone())
        } else if self.allow_insecure_credentials {
            None
        } else if self.security_protocol.uses_sasl() && !self.security_protocol.uses_tls() {
            Some("the connection is plaintext (SASL_PLAINTEXT): the password would travel in clear".into())
        } else if self.insecure {
            Some("certificate verification is off (--insecure): the peer could be anyone".into())
        } else {
            None
        }
    }

    /// Whether SASL credentials (username and password) are configured.
    pub fn has_credentials(&self) -> bool {
        self.sasl
            .as_ref()
            .is_some_and(|s| (s.username.is_some() && s.password.is_some()) || s.oauth.is_some() || s.iam.is_some())
    }

    /// Sets how long one TCP connect waits (default [`DEFAULT_CONNECT_TIMEOUT`](crate::limits::DEFAULT_CONNECT_TIMEOUT)).
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the global deadline.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Probes this HTTPS port (or none).
    #[must_use]
    pub fn with_https_port(mut self, port: Option<u16>) -> Self {
        self.https_port = port;
        self
    }

    /// Skips certificate verification.
    #[must_use]
    pub fn with_insecure(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Sets the Kafka security protocol.
    #[must_use]
    pub fn with_security_protocol(mut self, protocol: SecurityProtocol) -> Self {
        self.security_protocol = protocol;
        self
    }
}

/// The default private ranges, parsed.
pub fn default_private_cidrs() -> Vec<IpNet> {
    DEFAULT_PRIVATE_CIDRS.iter().filter_map(|c| c.parse().ok()).collect()
}

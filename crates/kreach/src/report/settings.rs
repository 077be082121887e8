//! The effective settings of a run, as the report shows them: never a secret.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The client's settings that matter behind PrivateLink, as its properties file says them (no
/// secret among them), and which client's defaults apply to the ones it leaves out.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ClientSettings {
    /// Whose defaults apply: `java` (a JAAS line, keystores) or `librdkafka`.
    pub kind: ClientKind,
    /// The properties read, as set (key, value).
    pub properties: Vec<(String, String)>,
}

/// Which client library a properties file is written for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientKind {
    /// librdkafka (confluent-kafka-python/go/dotnet, kcat).
    #[default]
    Librdkafka,
    /// The Java client (and Kafka's CLI tools).
    Java,
}

/// The client certificate of mutual TLS, as configured.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ClientCertificate {
    /// Its subject.
    pub subject: String,
    /// Its issuer.
    pub issuer: String,
    /// The end of its validity, RFC 3339.
    pub not_after: String,
    /// Whole days until it expires (negative once expired).
    pub days_to_expiry: i64,
}

/// The effective settings of a run. Secrets never appear here.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Settings {
    /// Bootstrap servers as `host:port`.
    pub bootstrap: Vec<String>,
    /// `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.
    pub security_protocol: String,
    /// SASL mechanism, when SASL is configured.
    pub sasl_mechanism: Option<String>,
    /// Whether SASL credentials were supplied (their values never are).
    pub sasl_credentials: bool,
    /// The client's own settings that matter behind PrivateLink, as its properties file says
    /// them (present only when a properties file was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientSettings>,
    /// The client certificate presented for mutual TLS, when configured (never its key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<ClientCertificate>,
    /// The SASL extensions sent with an OAuth token, by name (never their values' secrets: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oauth_extensions: Vec<String>,
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
    /// Inputs the front end refused and did not use (e.g. a Lambda event's own resolvers while the
    /// function may send credentials): which field, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused_inputs: Vec<RefusedInput>,
}

/// An input that was given but not used, and why (never its value when that could be a secret or
/// the function's configuration).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RefusedInput {
    /// The field, as the input names it (`resolvers`, `ca_pem`, …).
    pub field: String,
    /// Why it was not used, and what was used instead.
    pub reason: String,
}

impl RefusedInput {
    /// A refused field and the reason.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        RefusedInput { field: field.into(), reason: reason.into() }
    }
}

/// Whether certificate verification was on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TlsVerification {
    /// Chain and name verified.
    Enabled,
    /// `--insecure`: nothing verified.
    Disabled,
}

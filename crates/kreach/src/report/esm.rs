//! An event source mapping as the report shows it: the parts of a Lambda event source mapping
//! kreach uses, how it polls, and what its `PROBLEM: …` strings mean. Read by `input/mapping.rs`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ParseError;

/// The parts of an event source mapping kreach uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct EventSourceMapping {
    /// `UUID`.
    pub uuid: String,
    /// `EventSourceMappingArn`, when given.
    pub arn: Option<String>,
    /// `FunctionArn`: the function it invokes.
    pub function_arn: Option<String>,
    /// The region, from an ARN.
    pub region: Option<String>,
    /// `State`: `Enabled`, `Creating`, `Disabled`, …
    pub state: Option<String>,
    /// `StateTransitionReason`.
    pub state_transition_reason: Option<String>,
    /// `LastProcessingResult`: `OK`, `No records processed`, `PROBLEM: …`.
    pub last_processing_result: Option<String>,
    /// `SelfManagedEventSource.Endpoints.KAFKA_BOOTSTRAP_SERVERS`.
    pub bootstrap_servers: Vec<String>,
    /// `Topics`.
    pub topics: Vec<String>,
    /// The authentication: `BASIC_AUTH`, `SASL_SCRAM_256_AUTH`, `SASL_SCRAM_512_AUTH`,
    /// `CLIENT_CERTIFICATE_TLS_AUTH`, with the secret it names.
    pub authentication: Option<(String, String)>,
    /// `SERVER_ROOT_CA_CERTIFICATE`: the secret holding the cluster's root CA (PEM).
    pub root_ca_secret: Option<String>,
    /// `VPC_SUBNET` entries (`subnet-…`).
    pub subnets: Vec<String>,
    /// `VPC_SECURITY_GROUP` entries (`sg-…`).
    pub security_groups: Vec<String>,
    /// `EventSourceArn`: for an Amazon MSK mapping, the cluster's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source_arn: Option<String>,
    /// How Lambda polls: on demand (the default) or with provisioned pollers.
    #[serde(default)]
    pub poller_mode: PollerMode,
    /// `ProvisionedPollerConfig`, in provisioned mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_pollers: Option<ProvisionedPollers>,
    /// `SelfManagedKafkaEventSourceConfig.ConsumerGroupId` (or the MSK one), when set; the
    /// mapping's UUID is the group otherwise ([`EventSourceMapping::consumer_group`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_group_id: Option<String>,
    /// `DestinationConfig.OnFailure.Destination`, when set (an SQS/SNS/S3 ARN or `kafka://topic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure_destination: Option<String>,
    /// `MetricsConfig.Metrics`: the extra metrics the mapping publishes (`EventCount`, `ErrorCount`, `KafkaMetrics`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
    /// `LoggingConfig.SystemLogLevel` (provisioned mode): the pollers' own log lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_log_level: Option<String>,
    /// Settings kreach does not know (yet): reported, never a reason to refuse the mapping.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_settings: Vec<String>,
    /// What the `PROBLEM` string (state or last result) means, when there is one.
    pub problem: Option<EsmProblem>,
    /// Why the root CA secret could not be used, when it could not (it then did not reach the TLS stage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_ca_error: Option<String>,
    /// The `CLIENT_CERTIFICATE_TLS_AUTH` secret checked as Lambda reads it: what is wrong with it,
    /// when something is (kreach then ran without that certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_problem: Option<ClientCertSecretCheck>,
    /// `…KafkaEventSourceConfig.SchemaRegistryConfig`: the schema registry the pollers validate
    /// and decode records with (Avro, Protobuf, JSON Schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_registry: Option<EsmSchemaRegistry>,
}

/// A mapping's schema registry (`SchemaRegistryConfig`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct EsmSchemaRegistry {
    /// `SchemaRegistryURI`: a Glue registry's ARN, or a Confluent Schema Registry's URL.
    pub uri: String,
    /// Whether it is an AWS Glue registry (an `arn:…:glue:` URI).
    pub glue: bool,
    /// `EventRecordFormat`: `JSON` or `SOURCE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_record_format: Option<String>,
    /// `AccessConfigs`: how the pollers authenticate to it (`BASIC_AUTH`,
    /// `CLIENT_CERTIFICATE_TLS_AUTH`, `SERVER_ROOT_CA_CERTIFICATE`) and the secret each names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<(String, String)>,
    /// `SchemaValidationConfigs[].Attribute`: `KEY`, `VALUE`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validate: Vec<String>,
    /// Each access secret read as the pollers read it and checked for its type's shape (key
    /// names only; nothing in it is sent or shown). Empty when not read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_checks: Vec<RegistrySecretCheck>,
}

/// One of the schema registry's access secrets, checked for the shape Lambda reads:
/// `BASIC_AUTH` `{"username", "password"}`, `CLIENT_CERTIFICATE_TLS_AUTH` as the mapping's client
/// certificate, `SERVER_ROOT_CA_CERTIFICATE` `{"certificate": "<PEM>"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RegistrySecretCheck {
    /// The access configuration's `Type`.
    pub access_type: String,
    /// The secret (`URI`).
    pub secret_id: String,
    /// What is wrong with it (key names, never a value); `None`: its shape is right, or it was
    /// not checked (see `verified`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Its shape was checked entirely (`false`: unreadable, an encrypted key kreach cannot
    /// decrypt, an access type it does not know).
    pub verified: bool,
    /// Why it was not checked entirely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl EsmSchemaRegistry {
    /// The Glue registry's name (`arn:aws:glue:<region>:<account>:registry/<name>`).
    pub fn glue_registry_name(&self) -> Option<&str> {
        self.uri.split(':').nth(5)?.strip_prefix("registry/").filter(|n| !n.is_empty() && self.glue)
    }
}

/// What is wrong with the mapping's `CLIENT_CERTIFICATE_TLS_AUTH` secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ClientCertSecretCheck {
    /// The secret.
    pub secret_id: String,
    /// What kind of problem.
    pub problem: ClientCertSecretProblem,
    /// Its details in words (key names and certificate subjects; never a key).
    pub detail: String,
}

/// Why a `CLIENT_CERTIFICATE_TLS_AUTH` secret cannot be used as Lambda uses it:
/// `{"certificate": "<PEM chain, client certificate first>", "privateKey": "<PKCS #8 PEM>",
/// "privateKeyPassword": "<when the key is encrypted>"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ClientCertSecretProblem {
    /// `secretsmanager:GetSecretValue` failed (denied, missing, unreachable).
    Unreadable,
    /// Not a JSON object, or `certificate` / `privateKey` missing or empty.
    WrongShape,
    /// `certificate` holds no PEM certificate.
    BadCertificate,
    /// `privateKey` is not a PKCS #8 PEM key (`BEGIN PRIVATE KEY` or `BEGIN ENCRYPTED PRIVATE
    /// KEY`): Lambda reads no other format.
    NotPkcs8,
    /// An encrypted key without `privateKeyPassword`.
    PasswordMissing,
    /// The key is not the key of the first certificate.
    KeyMismatch,
    /// An encrypted key kreach cannot decrypt: the pair is not verified (not a pass).
    EncryptedNotVerified,
}

/// How a Kafka event source mapping polls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PollerMode {
    /// The default: Lambda scales its pollers, which call Lambda, STS and (with a secret) Secrets
    /// Manager from the mapping's subnets, so those APIs must be reachable there (NAT or interface
    /// endpoints).
    #[default]
    OnDemand,
    /// `ProvisionedPollerConfig`: dedicated pollers; the mapping's subnets need no route to the
    /// Lambda, STS or Secrets Manager APIs.
    Provisioned,
}

impl PollerMode {
    /// The mode as written in the report and accepted by `--poller-mode`.
    pub fn as_label(self) -> &'static str {
        match self {
            PollerMode::OnDemand => "on-demand",
            PollerMode::Provisioned => "provisioned",
        }
    }

    /// Reads `on-demand` or `provisioned`.
    pub fn parse(text: &str) -> Result<PollerMode, ParseError> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "on-demand" | "ondemand" => Ok(PollerMode::OnDemand),
            "provisioned" => Ok(PollerMode::Provisioned),
            other => Err(ParseError(format!("`{other}` is not a poller mode (on-demand or provisioned)"))),
        }
    }

    /// Whether the pollers need the Lambda, STS and Secrets Manager APIs from the mapping's subnets.
    pub fn needs_aws_api_routes(self) -> bool {
        self == PollerMode::OnDemand
    }
}

/// `ProvisionedPollerConfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ProvisionedPollers {
    /// `MinimumPollers` (1–200).
    pub minimum_pollers: Option<u32>,
    /// `MaximumPollers` (1–2000).
    pub maximum_pollers: Option<u32>,
    /// `PollerGroupName`: mappings sharing pollers.
    pub poller_group_name: Option<String>,
}

/// The documented `PROBLEM: …` strings of a Kafka event source mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EsmProblem {
    /// "Connection error. Your VPC must be able to connect to Lambda and STS, as well as Secrets
    /// Manager if authentication is required."
    ApisUnreachable,
    /// "Connection error. Please check your event source connection configuration."
    Connection,
    /// "SASL authentication failed."
    SaslAuthenticationFailed,
    /// "Server failed to authenticate Lambda" (mTLS: the client certificate).
    ServerRejectedLambda,
    /// "Lambda failed to authenticate server" (the cluster's certificate).
    LambdaRejectedServer,
    /// "The provided certificate or private key is invalid" / not PEM.
    CertificateInvalid,
    /// "Cluster failed to authorize Lambda" (Kafka ACLs).
    ClusterAuthorization,
    /// "Connection error. Your event source VPC must be able to connect to OnFailure Destination."
    DestinationUnreachable,
    /// "Lambda failed to assume your function execution role."
    RoleNotAssumable,
    /// Any other `PROBLEM:` string.
    Other,
}

impl EsmProblem {
    /// What the string means, and where to look.
    pub fn explanation(self) -> &'static str {
        match self {
            EsmProblem::ApisUnreachable => {
                "the mapping's subnets cannot reach the Lambda and STS APIs (and Secrets Manager when a secret is \
                 used): it needs a NAT gateway route or interface endpoints with private DNS in its VPC"
            }
            EsmProblem::Connection => {
                "the mapping's pollers cannot connect to the bootstrap servers from its subnets and security groups \
                 (DNS, security groups, the endpoint, or the cluster itself)"
            }
            EsmProblem::SaslAuthenticationFailed => {
                "the user name and password in the mapping's secret were rejected by the cluster (SASL/PLAIN or SCRAM)"
            }
            EsmProblem::ServerRejectedLambda => {
                "the brokers did not accept the mapping's client certificate (mTLS): none given, not trusted, or mTLS not enabled"
            }
            EsmProblem::LambdaRejectedServer => {
                "the mapping did not trust the brokers' certificate: a private CA without SERVER_ROOT_CA_CERTIFICATE, \
                 the wrong root CA, or a name missing from the certificate"
            }
            EsmProblem::CertificateInvalid => "the client certificate or key in the mapping's secret is not valid PEM",
            EsmProblem::ClusterAuthorization => {
                "the cluster's ACLs do not let the mapping's user DescribeConfigs on the cluster, Describe/Read the \
                 group (named after the mapping's UUID) and Describe/Read the topics"
            }
            EsmProblem::DestinationUnreachable => {
                "the mapping's subnets cannot reach its on-failure destination's service (SQS, SNS or S3): it needs a \
                 VPC endpoint for that service or a NAT gateway, in either poller mode"
            }
            EsmProblem::RoleNotAssumable => {
                "Lambda could not assume the function's execution role: its trust policy does not admit \
                 lambda.amazonaws.com, or the role was deleted"
            }
            EsmProblem::Other => "a problem kreach has no explanation for; the text is quoted as is",
        }
    }

    /// Recognises a `PROBLEM: …` string (case-insensitive; the rest of the text may vary). Service
    /// names are matched as words: `sts` is not the one in `hosts` or `exists`.
    pub fn classify(text: &str) -> Option<EsmProblem> {
        let t = text.to_ascii_lowercase();
        let words: Vec<&str> =
            t.split(|c: char| !c.is_ascii_alphanumeric() && c != '-').filter(|w| !w.is_empty()).collect();
        let word = |w: &str| words.contains(&w);
        if !word("problem") {
            return None;
        }
        let connection = t.contains("connection error");
        Some(if connection && (word("onfailure") || word("on-failure") || t.contains("failure destination")) {
            EsmProblem::DestinationUnreachable
        } else if connection && (word("sts") || t.contains("nat gateway") || t.contains("secrets manager")) {
            EsmProblem::ApisUnreachable
        } else if connection {
            EsmProblem::Connection
        } else if t.contains("failed to assume") && word("role") {
            EsmProblem::RoleNotAssumable
        } else if t.contains("sasl authentication failed") {
            EsmProblem::SaslAuthenticationFailed
        } else if t.contains("server failed to authenticate lambda") {
            EsmProblem::ServerRejectedLambda
        } else if t.contains("lambda failed to authenticate") {
            EsmProblem::LambdaRejectedServer
        } else if word("certificate") && (word("invalid") || word("pem")) {
            EsmProblem::CertificateInvalid
        } else if t.contains("failed to authorize") {
            EsmProblem::ClusterAuthorization
        } else {
            EsmProblem::Other
        })
    }
}

//! A Lambda event source mapping that polls a self-managed Kafka cluster: read from the JSON
//! `aws lambda get-event-source-mapping` prints (or the API returns), and what its `PROBLEM: …`
//! strings mean.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ParseError;

/// Largest mapping document read.
pub const MAX_MAPPING_BYTES: usize = 256 * 1024;

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
    /// What the `PROBLEM` string (state or last result) means, when there is one.
    pub problem: Option<EsmProblem>,
    /// Why the root CA secret could not be used, when it could not (it then did not reach the TLS stage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_ca_error: Option<String>,
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
            EsmProblem::Other => "a problem kreach has no explanation for; the text is quoted as is",
        }
    }

    /// Recognises a `PROBLEM: …` string (case-insensitive; the rest of the text may vary).
    pub fn classify(text: &str) -> Option<EsmProblem> {
        let t = text.to_ascii_lowercase();
        if !t.contains("problem") {
            return None;
        }
        Some(if t.contains("connection error") && (t.contains("sts") || t.contains("nat gateway")) {
            EsmProblem::ApisUnreachable
        } else if t.contains("connection error") {
            EsmProblem::Connection
        } else if t.contains("sasl authentication failed") {
            EsmProblem::SaslAuthenticationFailed
        } else if t.contains("server failed to authenticate lambda") {
            EsmProblem::ServerRejectedLambda
        } else if t.contains("lambda failed to authenticate") {
            EsmProblem::LambdaRejectedServer
        } else if t.contains("certificate") && (t.contains("invalid") || t.contains("pem")) {
            EsmProblem::CertificateInvalid
        } else if t.contains("failed to authorize") {
            EsmProblem::ClusterAuthorization
        } else {
            EsmProblem::Other
        })
    }
}

impl EventSourceMapping {
    /// Parses the JSON of `aws lambda get-event-source-mapping` (at most [`MAX_MAPPING_BYTES`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        if bytes.len() > MAX_MAPPING_BYTES {
            return Err(ParseError(format!("larger than {} KiB", MAX_MAPPING_BYTES / 1024)));
        }
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ParseError(format!("not JSON: {e}")))?;
        let obj = v.as_object().ok_or_else(|| ParseError("not a JSON object".into()))?;
        let text = |k: &str| obj.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let list = |x: Option<&serde_json::Value>| -> Vec<String> {
            x.and_then(|x| x.as_array())
                .map(|a| {
                    a.iter().take(crate::limits::MAX_LIST).filter_map(|s| s.as_str().map(str::to_string)).collect()
                })
                .unwrap_or_default()
        };
        let uuid = text("UUID").ok_or_else(|| ParseError("no UUID: not an event source mapping".into()))?;
        let mut m = EventSourceMapping {
            uuid,
            arn: text("EventSourceMappingArn"),
            function_arn: text("FunctionArn"),
            state: text("State"),
            state_transition_reason: text("StateTransitionReason"),
            last_processing_result: text("LastProcessingResult"),
            topics: list(obj.get("Topics")),
            ..Default::default()
        };
        m.region =
            [&m.arn, &m.function_arn].into_iter().flatten().find_map(|arn| arn.split(':').nth(3).map(str::to_string));
        let endpoints = obj.get("SelfManagedEventSource").and_then(|s| s.get("Endpoints"));
        m.bootstrap_servers = list(endpoints.and_then(|e| e.get("KAFKA_BOOTSTRAP_SERVERS")));
        let configs = obj.get("SourceAccessConfigurations").and_then(|c| c.as_array()).cloned().unwrap_or_default();
        for c in configs.iter().take(crate::limits::MAX_LIST) {
            let (Some(kind), Some(uri)) =
                (c.get("Type").and_then(|t| t.as_str()), c.get("URI").and_then(|u| u.as_str()))
            else {
                continue;
            };
            match kind {
                "VPC_SUBNET" => m.subnets.push(uri.trim_start_matches("subnet:").to_string()),
                "VPC_SECURITY_GROUP" => m.security_groups.push(uri.trim_start_matches("security_group:").to_string()),
                "SERVER_ROOT_CA_CERTIFICATE" => m.root_ca_secret = Some(uri.to_string()),
                "BASIC_AUTH" | "SASL_SCRAM_256_AUTH" | "SASL_SCRAM_512_AUTH" | "CLIENT_CERTIFICATE_TLS_AUTH" => {
                    m.authentication = Some((kind.to_string(), uri.to_string()))
                }
                _ => {}
            }
        }
        m.problem = [&m.last_processing_result, &m.state_transition_reason]
            .into_iter()
            .flatten()
            .find_map(|t| EsmProblem::classify(t));
        Ok(m)
    }

    /// The SASL mechanism its authentication uses, when it uses SASL.
    pub fn sasl_mechanism(&self) -> Option<&'static str> {
        match self.authentication.as_ref().map(|(k, _)| k.as_str()) {
            Some("BASIC_AUTH") => Some("PLAIN"),
            Some("SASL_SCRAM_256_AUTH") => Some("SCRAM-SHA-256"),
            Some("SASL_SCRAM_512_AUTH") => Some("SCRAM-SHA-512"),
            _ => None,
        }
    }

    /// The secret holding the SASL credentials, when it uses SASL.
    pub fn sasl_secret(&self) -> Option<&str> {
        self.sasl_mechanism().and(self.authentication.as_ref().map(|(_, s)| s.as_str()))
    }

    /// The Kafka ports of its bootstrap servers (9092 when none is written).
    pub fn kafka_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .bootstrap_servers
            .iter()
            .filter_map(|b| crate::address::HostPort::parse(b, crate::DEFAULT_KAFKA_PORT).ok())
            .map(|hp| hp.port)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented response shape of `GetEventSourceMapping` for a self-managed Kafka source.
    pub(crate) const SAMPLE: &str = r#"{
        "UUID": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
        "EventSourceMappingArn": "arn:aws:lambda:us-west-2:123456789012:event-source-mapping:a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
        "FunctionArn": "arn:aws:lambda:us-west-2:123456789012:function:orders-consumer",
        "State": "Enabled",
        "StateTransitionReason": "USER_INITIATED",
        "LastProcessingResult": "PROBLEM: Connection error. Your VPC must be able to connect to Lambda and STS, as well as Secrets Manager if authentication is required. You can provide access by configuring PrivateLink or a NAT Gateway.",
        "Topics": ["orders"],
        "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["lkc-1-n9.us-west-2.aws.glb.confluent.cloud:9092"]}},
        "SourceAccessConfigurations": [
            {"Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:us-west-2:123456789012:secret:kafka-AbCdEf"},
            {"Type": "VPC_SUBNET", "URI": "subnet:subnet-0a1"},
            {"Type": "VPC_SUBNET", "URI": "subnet:subnet-0b2"},
            {"Type": "VPC_SECURITY_GROUP", "URI": "security_group:sg-0c3"}
        ]
    }"#;

    #[test]
    fn the_documented_shape_is_read() {
        let m = EventSourceMapping::parse(SAMPLE.as_bytes()).expect("mapping");
        assert_eq!(m.bootstrap_servers, ["lkc-1-n9.us-west-2.aws.glb.confluent.cloud:9092"]);
        assert_eq!((m.subnets.len(), m.security_groups.as_slice()), (2, ["sg-0c3".to_string()].as_slice()));
        assert_eq!((m.sasl_mechanism(), m.region.as_deref()), (Some("PLAIN"), Some("us-west-2")));
        assert!(m.sasl_secret().is_some_and(|s| s.ends_with("kafka-AbCdEf")));
        assert_eq!(m.problem, Some(EsmProblem::ApisUnreachable));
        assert_eq!(m.kafka_ports(), [9092]);
        for bad in ["[]", "{}", "not json", "{\"UUID\": 1}"] {
            assert!(EventSourceMapping::parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(EventSourceMapping::parse(&vec![b' '; MAX_MAPPING_BYTES + 1]).is_err());
    }

    #[test]
    fn each_documented_problem_string_is_recognised() {
        let cases = [
            (
                "PROBLEM: Connection error. Please check your event source connection configuration.",
                EsmProblem::Connection,
            ),
            ("PROBLEM: SASL authentication failed.", EsmProblem::SaslAuthenticationFailed),
            ("PROBLEM: Server failed to authenticate Lambda.", EsmProblem::ServerRejectedLambda),
            ("PROBLEM: Lambda failed to authenticate server.", EsmProblem::LambdaRejectedServer),
            ("PROBLEM: The provided certificate or private key is invalid.", EsmProblem::CertificateInvalid),
            ("PROBLEM: Cluster failed to authorize Lambda.", EsmProblem::ClusterAuthorization),
            ("PROBLEM: Something new.", EsmProblem::Other),
        ];
        for (text, problem) in cases {
            assert_eq!(EsmProblem::classify(text), Some(problem), "{text}");
        }
        assert_eq!(EsmProblem::classify("OK"), None);
        assert_eq!(EsmProblem::classify("No records processed"), None);
    }
}

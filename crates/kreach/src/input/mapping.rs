//! A Lambda event source mapping that polls a self-managed Kafka cluster: read from the JSON
//! `aws lambda get-event-source-mapping` prints (or the API returns), and what its `PROBLEM: …`
//! strings mean.

use crate::error::ParseError;
pub use crate::report::esm::{EsmProblem, EventSourceMapping, PollerMode, ProvisionedPollers};

/// Largest mapping document read.
pub const MAX_MAPPING_BYTES: usize = 256 * 1024;

/// Whether Kafka would accept `name` as a topic name: 1–249 characters of `[A-Za-z0-9._-]`, not
/// `.` or `..`.
pub fn valid_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.len() > 249 {
        return Err(format!("is {} characters long; Kafka allows at most 249", name.len()));
    }
    if name == "." || name == ".." {
        return Err(format!("`{name}` is not allowed"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(format!("contains {c:?}; Kafka allows only ASCII letters, digits, `.`, `_` and `-`"));
    }
    Ok(())
}

/// The top-level fields of `GetEventSourceMapping`'s answer kreach knows of (it reads some and
/// ignores the rest); any other is listed in `unknown_settings`.
const KNOWN_FIELDS: &[&str] = &[
    "UUID",
    "EventSourceMappingArn",
    "FunctionArn",
    "EventSourceArn",
    "State",
    "StateTransitionReason",
    "LastProcessingResult",
    "LastModified",
    "Topics",
    "Queues",
    "SelfManagedEventSource",
    "SourceAccessConfigurations",
    "SelfManagedKafkaEventSourceConfig",
    "AmazonManagedKafkaEventSourceConfig",
    "ProvisionedPollerConfig",
    "MetricsConfig",
    "LoggingConfig",
    "DestinationConfig",
    "StartingPosition",
    "StartingPositionTimestamp",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "FilterCriteria",
    "FilterCriteriaError",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "FunctionResponseTypes",
    "ScalingConfig",
    "DocumentDBEventSourceConfig",
    "KMSKeyArn",
    "Tags",
    "ResponseMetadata",
];
const KNOWN_LOG_LEVELS: &[&str] = &["DEBUG", "INFO", "WARN"];
const KNOWN_METRICS: &[&str] = &["EventCount", "ErrorCount", "KafkaMetrics"];

impl EventSourceMapping {
    /// Parses the JSON of `aws lambda get-event-source-mapping` (at most [`MAX_MAPPING_BYTES`]).
    /// A field kreach reads with the wrong type, or a topic name Kafka would refuse, is an error
    /// naming the field; fields kreach does not know are listed in `unknown_settings`.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        if bytes.len() > MAX_MAPPING_BYTES {
            return Err(ParseError(format!("larger than {} KiB", MAX_MAPPING_BYTES / 1024)));
        }
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ParseError(format!("not JSON: {e}")))?;
        let obj = v.as_object().ok_or_else(|| ParseError("not a JSON object".into()))?;
        let uuid = match obj.get("UUID") {
            None => return Err(ParseError("no UUID: not an event source mapping".into())),
            Some(_) => text(obj, "UUID", "UUID")?.unwrap_or_default(),
        };
        let mut m = EventSourceMapping {
            uuid,
            arn: text(obj, "EventSourceMappingArn", "EventSourceMappingArn")?,
            function_arn: text(obj, "FunctionArn", "FunctionArn")?,
            event_source_arn: text(obj, "EventSourceArn", "EventSourceArn")?,
            state: text(obj, "State", "State")?,
            state_transition_reason: text(obj, "StateTransitionReason", "StateTransitionReason")?,
            last_processing_result: text(obj, "LastProcessingResult", "LastProcessingResult")?,
            topics: list(obj.get("Topics"), "Topics")?,
            ..Default::default()
        };
        for topic in &m.topics {
            valid_topic_name(topic).map_err(|why| ParseError(format!("Topics: topic `{}` {why}", truncated(topic))))?;
        }
        m.region =
            [&m.arn, &m.function_arn].into_iter().flatten().find_map(|arn| arn.split(':').nth(3).map(str::to_string));
        let source = object(obj, "SelfManagedEventSource", "SelfManagedEventSource")?;
        let endpoints = match source {
            Some(s) => object(s, "Endpoints", "SelfManagedEventSource.Endpoints")?,
            None => None,
        };
        if let Some(e) = endpoints {
            m.bootstrap_servers =
                list(e.get("KAFKA_BOOTSTRAP_SERVERS"), "SelfManagedEventSource.Endpoints.KAFKA_BOOTSTRAP_SERVERS")?;
        }
        let configs = match obj.get("SourceAccessConfigurations") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::Array(a)) => a.clone(),
            Some(_) => return Err(ParseError("SourceAccessConfigurations: must be a list".into())),
        };
        for (i, c) in configs.iter().take(crate::limits::MAX_LIST).enumerate() {
            let field = format!("SourceAccessConfigurations[{i}]");
            let c = c.as_object().ok_or_else(|| ParseError(format!("{field}: must be an object")))?;
            let (Some(kind), Some(uri)) =
                (text(c, "Type", &format!("{field}.Type"))?, text(c, "URI", &format!("{field}.URI"))?)
            else {
                continue;
            };
            match kind.as_str() {
                "VPC_SUBNET" => m.subnets.push(uri.trim_start_matches("subnet:").to_string()),
                "VPC_SECURITY_GROUP" => m.security_groups.push(uri.trim_start_matches("security_group:").to_string()),
                "SERVER_ROOT_CA_CERTIFICATE" => m.root_ca_secret = Some(uri),
                "BASIC_AUTH" | "SASL_SCRAM_256_AUTH" | "SASL_SCRAM_512_AUTH" | "CLIENT_CERTIFICATE_TLS_AUTH" => {
                    m.authentication = Some((kind, uri))
                }
                _ => m.unknown_settings.push(format!("{field}.Type = {}", truncated(&kind))),
            }
        }
        for key in ["SelfManagedKafkaEventSourceConfig", "AmazonManagedKafkaEventSourceConfig"] {
            if let Some(c) = object(obj, key, key)? {
                if let Some(group) = text(c, "ConsumerGroupId", &format!("{key}.ConsumerGroupId"))? {
                    m.consumer_group_id.get_or_insert(group);
                }
                let field = format!("{key}.SchemaRegistryConfig");
                if let Some(r) = object(c, "SchemaRegistryConfig", &field)? {
                    m.schema_registry = Some(schema_registry(r, &field)?);
                }
            }
        }
        if let Some(p) = object(obj, "ProvisionedPollerConfig", "ProvisionedPollerConfig")? {
            let count = |k: &str, max: u32| -> Result<Option<u32>, ParseError> {
                let field = format!("ProvisionedPollerConfig.{k}");
                match p.get(k) {
                    None | Some(serde_json::Value::Null) => Ok(None),
                    Some(x) => match x.as_u64() {
                        Some(n) if (1..=u64::from(max)).contains(&n) => Ok(Some(n as u32)),
                        Some(n) => Err(ParseError(format!("{field}: {n} is not between 1 and {max}"))),
                        None => Err(ParseError(format!("{field}: must be a whole number"))),
                    },
                }
            };
            m.provisioned_pollers = Some(ProvisionedPollers {
                minimum_pollers: count("MinimumPollers", 200)?,
                maximum_pollers: count("MaximumPollers", 2000)?,
                poller_group_name: text(p, "PollerGroupName", "ProvisionedPollerConfig.PollerGroupName")?,
            });
            m.poller_mode = PollerMode::Provisioned;
        }
        if let Some(c) = object(obj, "MetricsConfig", "MetricsConfig")? {
            m.metrics = list(c.get("Metrics"), "MetricsConfig.Metrics")?;
            for metric in m.metrics.iter().filter(|x| !KNOWN_METRICS.contains(&x.as_str())) {
                m.unknown_settings.push(format!("MetricsConfig.Metrics = {}", truncated(metric)));
            }
        }
        if let Some(c) = object(obj, "LoggingConfig", "LoggingConfig")? {
            m.system_log_level = text(c, "SystemLogLevel", "LoggingConfig.SystemLogLevel")?;
            if let Some(level) = m.system_log_level.as_deref().filter(|l| !KNOWN_LOG_LEVELS.contains(l)) {
                m.unknown_settings.push(format!("LoggingConfig.SystemLogLevel = {}", truncated(level)));
            }
        }
        if let Some(d) = object(obj, "DestinationConfig", "DestinationConfig")? {
            if let Some(f) = object(d, "OnFailure", "DestinationConfig.OnFailure")? {
                m.on_failure_destination = text(f, "Destination", "DestinationConfig.OnFailure.Destination")?;
            }
        }
        for key in obj.keys().filter(|k| !KNOWN_FIELDS.contains(&k.as_str())).take(crate::limits::MAX_LIST) {
            m.unknown_settings.push(truncated(key));
        }
        m.problem = [&m.last_processing_result, &m.state_transition_reason]
            .into_iter()
            .flatten()
            .find_map(|t| EsmProblem::classify(t));
        Ok(m)
    }

    /// The consumer group the pollers use: `ConsumerGroupId` when set, the mapping's UUID otherwise.
    pub fn consumer_group(&self) -> &str {
        self.consumer_group_id.as_deref().unwrap_or(&self.uuid)
    }

    /// Whether this is an Amazon MSK mapping (its pollers use the cluster's subnets and security
    /// groups, not `SourceAccessConfigurations`).
    pub fn amazon_msk(&self) -> bool {
        self.event_source_arn.as_deref().is_some_and(|a| a.starts_with("arn:") && a.split(':').nth(2) == Some("kafka"))
    }

    /// The Kafka topic of a `kafka://topic` on-failure destination.
    pub fn failure_topic(&self) -> Option<&str> {
        self.on_failure_destination.as_deref().and_then(|d| d.strip_prefix("kafka://")).filter(|t| !t.is_empty())
    }

    /// The function's name, from its ARN.
    pub fn function_name(&self) -> Option<&str> {
        self.function_arn.as_deref().and_then(|a| a.split(':').nth(6))
    }

    /// Where the pollers' own log lines go (provisioned mode with a log level): the function's
    /// log group, a stream named after the date and the mapping's UUID.
    pub fn system_log_location(&self) -> Option<String> {
        self.system_log_level.as_ref()?;
        let function = self.function_name().unwrap_or("<function>");
        Some(format!(
            "log group /aws/lambda/{function} (or the function's LoggingConfig.LogGroup), streams YYYY/MM/DD/{}",
            self.uuid
        ))
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

    /// The secret its authentication names, whatever the method (SASL credentials or a client
    /// certificate): the role must be allowed to read it.
    pub fn auth_secret(&self) -> Option<&str> {
        self.authentication.as_ref().map(|(_, s)| s.as_str()).filter(|s| !s.is_empty())
    }

    /// The secret holding its client certificate and key (`CLIENT_CERTIFICATE_TLS_AUTH`).
    pub fn client_certificate_secret(&self) -> Option<&str> {
        match &self.authentication {
            Some((kind, secret)) if kind == "CLIENT_CERTIFICATE_TLS_AUTH" && !secret.is_empty() => Some(secret),
            _ => None,
        }
    }

    /// The Kafka ports of its bootstrap servers (9092 when none is written).
    pub fn kafka_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .bootstrap_servers
            .iter()
            .filter_map(|b| crate::input::address::HostPort::parse(b, crate::DEFAULT_KAFKA_PORT).ok())
            .map(|hp| hp.port)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

/// Most access configurations a schema registry takes (the API's limit).
const MAX_REGISTRY_ACCESS: usize = 2;

/// A `SchemaRegistryConfig` object; `field` names it in errors.
fn schema_registry(r: &Object, field: &str) -> Result<crate::report::EsmSchemaRegistry, ParseError> {
    let uri = text(r, "SchemaRegistryURI", &format!("{field}.SchemaRegistryURI"))?
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| ParseError(format!("{field}.SchemaRegistryURI: missing")))?;
    let glue = uri.starts_with("arn:") && uri.split(':').nth(2) == Some("glue");
    let mut out = crate::report::EsmSchemaRegistry {
        uri: truncated_long(&uri),
        glue,
        event_record_format: text(r, "EventRecordFormat", &format!("{field}.EventRecordFormat"))?,
        ..Default::default()
    };
    let list = |k: &str| -> Result<Vec<serde_json::Value>, ParseError> {
        match r.get(k) {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(serde_json::Value::Array(a)) => Ok(a.iter().take(crate::limits::MAX_LIST).cloned().collect()),
            Some(_) => Err(ParseError(format!("{field}.{k}: must be a list"))),
        }
    };
    let access = list("AccessConfigs")?;
    if access.len() > MAX_REGISTRY_ACCESS {
        return Err(ParseError(format!("{field}.AccessConfigs: at most {MAX_REGISTRY_ACCESS} entries")));
    }
    for (i, a) in access.iter().enumerate() {
        let f = format!("{field}.AccessConfigs[{i}]");
        let a = a.as_object().ok_or_else(|| ParseError(format!("{f}: must be an object")))?;
        if let (Some(kind), Some(secret)) =
            (text(a, "Type", &format!("{f}.Type"))?, text(a, "URI", &format!("{f}.URI"))?)
        {
            out.access.push((truncated(&kind), truncated_long(&secret)));
        }
    }
    for (i, v) in list("SchemaValidationConfigs")?.iter().enumerate() {
        let f = format!("{field}.SchemaValidationConfigs[{i}]");
        let v = v.as_object().ok_or_else(|| ParseError(format!("{f}: must be an object")))?;
        out.validate.extend(text(v, "Attribute", &format!("{f}.Attribute"))?.map(|a| truncated(&a)));
    }
    Ok(out)
}

/// A URI or ARN kept whole up to a length no real one exceeds.
fn truncated_long(text: &str) -> String {
    crate::text::truncate(&crate::text::clean(text), 2048)
}

/// Peer-written text cut to a length a message can quote.
fn truncated(text: &str) -> String {
    crate::text::truncate(&crate::text::clean(text), 80)
}

type Object = serde_json::Map<String, serde_json::Value>;

/// A string field: absent or null is `None`, another type an error naming `field`.
fn text(obj: &Object, key: &str, field: &str) -> Result<Option<String>, ParseError> {
    match obj.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ParseError(format!("{field}: must be a string"))),
    }
}

/// An object field: absent or null is `None`, another type an error naming `field`.
fn object<'a>(obj: &'a Object, key: &str, field: &str) -> Result<Option<&'a Object>, ParseError> {
    match obj.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(ParseError(format!("{field}: must be an object"))),
    }
}

/// A list of strings (the first [`MAX_LIST`](crate::limits::MAX_LIST)): another type, or an element that
/// is not a string, is an error naming `field`.
fn list(value: Option<&serde_json::Value>, field: &str) -> Result<Vec<String>, ParseError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .take(crate::limits::MAX_LIST)
            .enumerate()
            .map(|(i, x)| {
                x.as_str().map(str::to_string).ok_or_else(|| ParseError(format!("{field}[{i}]: must be a string")))
            })
            .collect(),
        Some(_) => Err(ParseError(format!("{field}: must be a list"))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
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
    fn the_poller_mode_group_logging_and_destination_are_read() {
        let provisioned = r#"{"UUID": "u-1", "FunctionArn": "arn:aws:lambda:us-west-2:1:function:orders",
            "Topics": ["orders", "payments.v2"],
            "ProvisionedPollerConfig": {"MinimumPollers": 2, "MaximumPollers": 10, "PollerGroupName": "shared"},
            "SelfManagedKafkaEventSourceConfig": {"ConsumerGroupId": "orders-consumers"},
            "DestinationConfig": {"OnFailure": {"Destination": "kafka://orders-dlq"}},
            "MetricsConfig": {"Metrics": ["EventCount", "KafkaMetrics", "Shiny"]},
            "LoggingConfig": {"SystemLogLevel": "DEBUG"}, "NewThing": {"x": 1}}"#;
        let m = EventSourceMapping::parse(provisioned.as_bytes()).expect("mapping");
        assert_eq!(m.poller_mode, PollerMode::Provisioned);
        assert!(!m.poller_mode.needs_aws_api_routes());
        let p = m.provisioned_pollers.as_ref().expect("pollers");
        assert_eq!(
            (p.minimum_pollers, p.maximum_pollers, p.poller_group_name.as_deref()),
            (Some(2), Some(10), Some("shared"))
        );
        assert_eq!((m.consumer_group(), m.failure_topic()), ("orders-consumers", Some("orders-dlq")));
        assert_eq!(m.unknown_settings, ["MetricsConfig.Metrics = Shiny", "NewThing"]);
        assert!(m.system_log_location().is_some_and(|l| l.contains("/aws/lambda/orders") && l.contains("/u-1")));
        // The documented default: on demand, the UUID as the group, the routes needed.
        let m = EventSourceMapping::parse(SAMPLE.as_bytes()).expect("mapping");
        assert_eq!((m.poller_mode, m.consumer_group()), (PollerMode::OnDemand, "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"));
        assert!(m.poller_mode.needs_aws_api_routes() && m.unknown_settings.is_empty() && !m.amazon_msk());
        let msk = r#"{"UUID": "u-2", "EventSourceArn": "arn:aws:kafka:us-east-1:1:cluster/c/abc",
            "AmazonManagedKafkaEventSourceConfig": {"ConsumerGroupId": "g"}}"#;
        let m = EventSourceMapping::parse(msk.as_bytes()).expect("mapping");
        assert!(m.amazon_msk());
        assert_eq!(m.consumer_group(), "g");
        assert_eq!(PollerMode::parse("PROVISIONED").map(PollerMode::as_label), Ok("provisioned"));
        assert!(PollerMode::parse("turbo").is_err_and(|e| e.0.contains("turbo")));
    }

    #[test]
    fn a_field_of_the_wrong_type_or_a_bad_topic_is_named() {
        let cases = [
            (r#"{"UUID": "u", "Topics": "orders"}"#, "Topics: must be a list"),
            (r#"{"UUID": "u", "Topics": [1]}"#, "Topics[0]: must be a string"),
            (r#"{"UUID": "u", "Topics": ["bad topic"]}"#, "Topics: topic `bad topic`"),
            (r#"{"UUID": "u", "Topics": [".."]}"#, "Topics: topic `..`"),
            (r#"{"UUID": "u", "State": 3}"#, "State: must be a string"),
            (
                r#"{"UUID": "u", "ProvisionedPollerConfig": {"MinimumPollers": "two"}}"#,
                "ProvisionedPollerConfig.MinimumPollers",
            ),
            (
                r#"{"UUID": "u", "ProvisionedPollerConfig": {"MaximumPollers": 5000}}"#,
                "ProvisionedPollerConfig.MaximumPollers: 5000",
            ),
            (r#"{"UUID": "u", "ProvisionedPollerConfig": []}"#, "ProvisionedPollerConfig: must be an object"),
            (
                r#"{"UUID": "u", "SourceAccessConfigurations": [{"Type": 1, "URI": "x"}]}"#,
                "SourceAccessConfigurations[0].Type",
            ),
            (
                r#"{"UUID": "u", "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": "b:9092"}}}"#,
                "KAFKA_BOOTSTRAP_SERVERS: must be a list",
            ),
            (
                r#"{"UUID": "u", "SelfManagedKafkaEventSourceConfig": {"ConsumerGroupId": 7}}"#,
                "SelfManagedKafkaEventSourceConfig.ConsumerGroupId",
            ),
        ];
        for (json, field) in cases {
            let e = EventSourceMapping::parse(json.as_bytes()).expect_err(json);
            assert!(e.0.contains(field), "{json}: {e:?}");
        }
        let long = format!(r#"{{"UUID": "u", "Topics": ["{}"]}}"#, "t".repeat(250));
        assert!(EventSourceMapping::parse(long.as_bytes()).is_err_and(|e| e.0.contains("249")));
        assert!(valid_topic_name("orders_v1.x-y").is_ok());
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
            (
                "PROBLEM: Connection error. Your VPC must be able to connect to Lambda and STS, as well as Secrets \
                 Manager if authentication is required. You can provide access by configuring PrivateLink or a NAT Gateway.",
                EsmProblem::ApisUnreachable,
            ),
            ("PROBLEM: Connection error. Your VPC must be able to connect to STS.", EsmProblem::ApisUnreachable),
            (
                "PROBLEM: Connection error. Your event source VPC must be able to connect to OnFailure Destination.",
                EsmProblem::DestinationUnreachable,
            ),
            ("PROBLEM: Lambda failed to assume your function execution role.", EsmProblem::RoleNotAssumable),
        ];
        for (text, problem) in cases {
            assert_eq!(EsmProblem::classify(text), Some(problem), "{text}");
        }
        assert_eq!(EsmProblem::classify("OK"), None);
        assert_eq!(EsmProblem::classify("No records processed"), None);
        // Near misses: `sts` inside other words is not STS; `problem` inside another word is no PROBLEM.
        for (text, problem) in [
            ("PROBLEM: Connection error. The hosts in the list must exist.", EsmProblem::Connection),
            ("PROBLEM: Connection error. The topic exists but no brokers are reachable.", EsmProblem::Connection),
            ("PROBLEM: Connection error. Check the lists of bootstrap servers.", EsmProblem::Connection),
            ("PROBLEM: Connection error. The certificate is invalid.", EsmProblem::Connection),
        ] {
            assert_eq!(EsmProblem::classify(text), Some(problem), "{text}");
        }
        assert_eq!(EsmProblem::classify("noproblems here"), None);
    }

    #[test]
    fn a_schema_registry_is_read_with_its_kind_and_a_bad_one_names_its_field() {
        let with = |registry: serde_json::Value| {
            let mut v: serde_json::Value = serde_json::from_str(SAMPLE).expect("sample");
            v["SelfManagedKafkaEventSourceConfig"] = serde_json::json!({"SchemaRegistryConfig": registry});
            EventSourceMapping::parse(v.to_string().as_bytes())
        };
        let glue = with(serde_json::json!({
            "SchemaRegistryURI": "arn:aws:glue:us-west-2:123456789012:registry/orders",
            "EventRecordFormat": "JSON",
            "SchemaValidationConfigs": [{"Attribute": "VALUE"}]
        }))
        .expect("glue");
        let r = glue.schema_registry.as_ref().expect("registry");
        assert!(r.glue);
        assert_eq!(r.glue_registry_name(), Some("orders"));
        assert_eq!(
            (r.event_record_format.as_deref(), r.validate.as_slice()),
            (Some("JSON"), ["VALUE".to_string()].as_slice())
        );
        let confluent = with(serde_json::json!({
            "SchemaRegistryURI": "https://psrc-abc12.us-west-2.aws.confluent.cloud",
            "AccessConfigs": [{"Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:us-west-2:1:secret:sr-AbC"}]
        }))
        .expect("confluent");
        let r = confluent.schema_registry.as_ref().expect("registry");
        assert!(!r.glue && r.glue_registry_name().is_none());
        assert_eq!(r.access[0].0, "BASIC_AUTH");
        for (registry, field) in [
            (serde_json::json!({"EventRecordFormat": "JSON"}), "SchemaRegistryConfig.SchemaRegistryURI"),
            (serde_json::json!({"SchemaRegistryURI": "https://x", "AccessConfigs": [{}, {}, {}]}), "AccessConfigs"),
            (serde_json::json!({"SchemaRegistryURI": "https://x", "AccessConfigs": {"Type": 1}}), "AccessConfigs"),
            (serde_json::json!({"SchemaRegistryURI": 5}), "SchemaRegistryURI"),
        ] {
            let e = with(registry).expect_err(field);
            assert!(e.0.contains(field), "{field}: {e}");
        }
    }
}

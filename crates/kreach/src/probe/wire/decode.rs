//! Responses decoded: every count and length checked against the bytes left in the frame before
//! anything is allocated (see the module above).

use super::{ApiKey, DecodeError, Reader, err};

/// Reads a response header; returns the correlation id.
pub fn response_header(r: &mut Reader<'_>, key: ApiKey, version: i16) -> Result<i32, DecodeError> {
    let correlation = r.i32("correlation id")?;
    // ApiVersions answers with header v0 whatever its version, so an old broker can still be read.
    if key.flexible(version) && key != ApiKey::ApiVersions {
        r.tagged_fields("response header")?;
    }
    Ok(correlation)
}

/// Error code UNSUPPORTED_VERSION.
pub const UNSUPPORTED_VERSION: i16 = 35;

/// One API's version range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiRange {
    /// The API key.
    pub key: i16,
    /// Lowest version.
    pub min: i16,
    /// Highest version.
    pub max: i16,
}

/// An ApiVersions answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiVersions {
    /// Error code (0: none).
    pub error_code: i16,
    /// The APIs and their version ranges.
    pub api_keys: Vec<ApiRange>,
}

impl ApiVersions {
    /// The version range of `key`, when the broker offers it.
    pub fn range(&self, key: ApiKey) -> Option<ApiRange> {
        self.api_keys.iter().copied().find(|k| k.key == key as i16)
    }
}

/// Decodes an ApiVersions body. A broker that does not know `version` answers in the v0 layout
/// with UNSUPPORTED_VERSION (KIP-511), which is read as such.
pub fn api_versions(r: &mut Reader<'_>, version: i16) -> Result<ApiVersions, DecodeError> {
    let error_code = r.i16("ApiVersions error code")?;
    let flexible = ApiKey::ApiVersions.flexible(version);
    if error_code == UNSUPPORTED_VERSION && flexible {
        // Kafka answers in the v0 layout here; other implementations (librdkafka's mock cluster)
        // keep the request's. Either is read; when neither is, the caller falls back to v0.
        let mut v0 = r.clone();
        let api_keys = api_ranges(&mut v0, false).or_else(|_| api_ranges(r, true)).unwrap_or_default();
        return Ok(ApiVersions { error_code, api_keys });
    }
    Ok(ApiVersions { error_code, api_keys: api_ranges(r, flexible)? })
}

fn api_ranges(r: &mut Reader<'_>, flexible: bool) -> Result<Vec<ApiRange>, DecodeError> {
    let n = r.array_len(flexible, if flexible { 7 } else { 6 }, "ApiVersions api_keys")?;
    let mut api_keys = Vec::with_capacity(n);
    for _ in 0..n {
        let key = r.i16("api key")?;
        let min = r.i16("min version")?;
        let max = r.i16("max version")?;
        if flexible {
            r.tagged_fields("api key tags")?;
        }
        api_keys.push(ApiRange { key, min, max });
    }
    Ok(api_keys)
}

/// A SaslHandshake answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaslHandshake {
    /// Error code (0: none).
    pub error_code: i16,
    /// The mechanisms the broker enables.
    pub mechanisms: Vec<String>,
}

/// Decodes a SaslHandshake body (v0 and v1 share it).
pub fn sasl_handshake(r: &mut Reader<'_>) -> Result<SaslHandshake, DecodeError> {
    let error_code = r.i16("SaslHandshake error code")?;
    let n = r.array_len(false, 2, "SaslHandshake mechanisms")?;
    let mut mechanisms = Vec::with_capacity(n);
    for _ in 0..n {
        mechanisms.push(r.string(false, "mechanism")?);
    }
    Ok(SaslHandshake { error_code, mechanisms })
}

/// A SaslAuthenticate answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaslAuthenticate {
    /// Error code (0: none).
    pub error_code: i16,
    /// The broker's error message.
    pub error_message: Option<String>,
    /// The mechanism's bytes.
    pub auth_bytes: Vec<u8>,
}

/// Decodes a SaslAuthenticate body.
pub fn sasl_authenticate(r: &mut Reader<'_>, version: i16) -> Result<SaslAuthenticate, DecodeError> {
    let flexible = ApiKey::SaslAuthenticate.flexible(version);
    let error_code = r.i16("SaslAuthenticate error code")?;
    let error_message = r.nullable_string(flexible, "SaslAuthenticate error message")?;
    let auth_bytes = r.bytes(flexible, "SaslAuthenticate auth bytes")?;
    Ok(SaslAuthenticate { error_code, error_message, auth_bytes })
}

/// One advertised broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broker {
    /// Node id.
    pub node_id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: i32,
    /// Rack, when set.
    pub rack: Option<String>,
}

/// A Metadata answer: the brokers, and the topics asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// The advertised brokers.
    pub brokers: Vec<Broker>,
    /// Cluster id (v2+).
    pub cluster_id: Option<String>,
    /// Controller id.
    pub controller_id: i32,
    /// The topics asked for (the first [`MAX_TOPICS`]).
    pub topics: Vec<Topic>,
}

/// Most topics read from one Metadata answer.
pub const MAX_TOPICS: usize = 64;
/// Most partitions, leaders and errors kept per topic (the counts stay whole).
pub const MAX_KEPT_PER_TOPIC: usize = 32;

/// One topic of a Metadata answer, summarised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topic {
    /// The topic's error code (0, UNKNOWN_TOPIC_OR_PARTITION 3, TOPIC_AUTHORIZATION_FAILED 29, …).
    pub error_code: i16,
    /// Its name.
    pub name: String,
    /// How many partitions it has.
    pub partitions: usize,
    /// Partitions without a leader (leader −1 or a partition error), the first few.
    pub leaderless: Vec<i32>,
    /// The brokers leading its partitions (distinct, the first [`MAX_KEPT_PER_TOPIC`]).
    pub leaders: Vec<i32>,
    /// (partition, leader) for the first partitions, to name which a dead leader stops.
    pub leader_of: Vec<(i32, i32)>,
}

/// Decodes a Metadata body (v1+): the brokers, the controller and the topics asked for.
pub fn metadata(r: &mut Reader<'_>, version: i16) -> Result<Metadata, DecodeError> {
    let flexible = ApiKey::Metadata.flexible(version);
    if version >= 3 {
        r.i32("throttle time")?;
    }
    // node id + host + port + rack (+ tags): 12 bytes at least, 11 compact.
    let n = r.array_len(flexible, if flexible { 11 } else { 12 }, "Metadata brokers")?;
    let mut brokers = Vec::with_capacity(n);
    for _ in 0..n {
        let node_id = r.i32("broker node id")?;
        let host = r.string(flexible, "broker host")?;
        let port = r.i32("broker port")?;
        let rack = if version >= 1 { r.nullable_string(flexible, "broker rack")? } else { None };
        if flexible {
            r.tagged_fields("broker tags")?;
        }
        brokers.push(Broker { node_id, host, port, rack });
    }
    let cluster_id = if version >= 2 { r.nullable_string(flexible, "cluster id")? } else { None };
    let controller_id = if version >= 1 { r.i32("controller id")? } else { -1 };
    // Brokers that end here (no topic array) asked for none: an answer all the same.
    let topics = if r.remaining() == 0 { Vec::new() } else { metadata_topics(r, version, flexible)? };
    Ok(Metadata { brokers, cluster_id, controller_id, topics })
}

fn metadata_topics(r: &mut Reader<'_>, version: i16, flexible: bool) -> Result<Vec<Topic>, DecodeError> {
    // error + name + partitions (+ is_internal, id, operations, tags): 8 bytes at least.
    let n = r.array_len(flexible, 8, "Metadata topics")?;
    let mut topics = Vec::with_capacity(n.min(MAX_TOPICS));
    for _ in 0..n.min(MAX_TOPICS) {
        let error_code = r.i16("topic error")?;
        let name = r.nullable_string(flexible, "topic name")?.unwrap_or_default();
        if version >= 10 {
            r.skip(16, "topic id")?;
        }
        if version >= 1 {
            r.i8("topic is_internal")?;
        }
        let mut topic = Topic { error_code, name, ..Topic::default() };
        // error + index + leader + replicas + isr: 18 bytes at least, 12 compact.
        let partitions = r.array_len(flexible, if flexible { 12 } else { 18 }, "topic partitions")?;
        topic.partitions = partitions;
        for _ in 0..partitions {
            let error = r.i16("partition error")?;
            let index = r.i32("partition index")?;
            let leader = r.i32("partition leader")?;
            if version >= 7 {
                r.i32("leader epoch")?;
            }
            let lists = if version >= 5 { 3 } else { 2 };
            for _ in 0..lists {
                let ids = r.array_len(flexible, 4, "partition replicas")?;
                r.skip(ids * 4, "partition replicas")?;
            }
            if flexible {
                r.tagged_fields("partition tags")?;
            }
            if (leader < 0 || error != 0) && topic.leaderless.len() < MAX_KEPT_PER_TOPIC {
                topic.leaderless.push(index);
            }
            if leader >= 0 && !topic.leaders.contains(&leader) && topic.leaders.len() < MAX_KEPT_PER_TOPIC {
                topic.leaders.push(leader);
            }
            if topic.leader_of.len() < MAX_KEPT_PER_TOPIC * 8 {
                topic.leader_of.push((index, leader));
            }
        }
        if version >= 8 {
            r.i32("topic authorized operations")?;
        }
        if flexible {
            r.tagged_fields("topic tags")?;
        }
        topics.push(topic);
    }
    Ok(topics)
}

/// A FindCoordinator answer for one group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coordinator {
    /// 0, or GROUP_AUTHORIZATION_FAILED (30), COORDINATOR_NOT_AVAILABLE (15), …
    pub error_code: i16,
    /// The broker's message, when it sent one.
    pub error_message: Option<String>,
    /// The coordinator's node id.
    pub node_id: i32,
    /// Its advertised host.
    pub host: String,
    /// Its advertised port.
    pub port: i32,
}

/// Decodes a FindCoordinator body (v1–v4; v4 answers a list, of which kreach asked one key).
pub fn find_coordinator(r: &mut Reader<'_>, version: i16) -> Result<Coordinator, DecodeError> {
    let flexible = ApiKey::FindCoordinator.flexible(version);
    r.i32("throttle time")?;
    if version >= 4 {
        let n = r.array_len(true, 14, "FindCoordinator coordinators")?;
        if n == 0 {
            return err("FindCoordinator answered no coordinator");
        }
        r.string(true, "coordinator key")?;
        let node_id = r.i32("coordinator node id")?;
        // An error answer may carry a null host (librdkafka's mock cluster does).
        let host = r.nullable_string(true, "coordinator host")?.unwrap_or_default();
        let port = r.i32("coordinator port")?;
        let error_code = r.i16("coordinator error")?;
        let error_message = r.nullable_string(true, "coordinator error message")?;
        return Ok(Coordinator { error_code, error_message, node_id, host, port });
    }
    let error_code = r.i16("coordinator error")?;
    let error_message = if version >= 1 { r.nullable_string(flexible, "coordinator error message")? } else { None };
    let node_id = r.i32("coordinator node id")?;
    let host = r.nullable_string(flexible, "coordinator host")?.unwrap_or_default();
    let port = r.i32("coordinator port")?;
    if error_code == 0 && host.is_empty() {
        return err("FindCoordinator answered no error and no coordinator host");
    }
    Ok(Coordinator { error_code, error_message, node_id, host, port })
}

/// An OffsetFetch answer, summarised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offsets {
    /// The group-level error (v2+; 0 before).
    pub error_code: i16,
    /// Partitions answered.
    pub partitions: usize,
    /// Partitions with a committed offset.
    pub committed: usize,
    /// (topic, partition, error) of the first partitions answered with an error.
    pub errors: Vec<(String, i32, i16)>,
}

/// Decodes an OffsetFetch body (v1–v7).
pub fn offset_fetch(r: &mut Reader<'_>, version: i16) -> Result<Offsets, DecodeError> {
    let flexible = ApiKey::OffsetFetch.flexible(version);
    if version >= 3 {
        r.i32("throttle time")?;
    }
    let mut out = Offsets::default();
    // name + partitions: 5 bytes at least, 2 compact; a null array (nothing committed) is empty.
    let topics = r.array_len(flexible, if flexible { 2 } else { 6 }, "OffsetFetch topics")?;
    for _ in 0..topics {
        let topic = r.string(flexible, "OffsetFetch topic")?;
        let partitions = r.array_len(flexible, if flexible { 15 } else { 16 }, "OffsetFetch partitions")?;
        for _ in 0..partitions {
            let index = r.i32("partition index")?;
            let offset = r.i64("committed offset")?;
            if version >= 5 {
                r.i32("committed leader epoch")?;
            }
            r.nullable_string(flexible, "offset metadata")?;
            let error = r.i16("partition error")?;
            if flexible {
                r.tagged_fields("partition tags")?;
            }
            out.partitions += 1;
            if offset >= 0 {
                out.committed += 1;
            }
            if error != 0 && out.errors.len() < MAX_KEPT_PER_TOPIC {
                out.errors.push((topic.chars().take(255).collect(), index, error));
            }
        }
        if flexible {
            r.tagged_fields("topic tags")?;
        }
    }
    if version >= 2 {
        out.error_code = r.i16("OffsetFetch error")?;
    }
    Ok(out)
}

/// Decodes a DescribeConfigs body (v0–v4) up to the first result's error: (code, message).
pub fn describe_configs(r: &mut Reader<'_>, version: i16) -> Result<(i16, Option<String>), DecodeError> {
    let flexible = ApiKey::DescribeConfigs.flexible(version);
    r.i32("throttle time")?;
    let n = r.array_len(flexible, 8, "DescribeConfigs results")?;
    if n == 0 {
        return err("DescribeConfigs answered no result");
    }
    let code = r.i16("DescribeConfigs error")?;
    let message = r.nullable_string(flexible, "DescribeConfigs error message")?;
    Ok((code, message.map(|m| m.chars().take(512).collect())))
}

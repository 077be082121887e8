//! The Kafka wire format for the exchanges kreach makes: ApiVersions, SaslHandshake,
//! SaslAuthenticate and Metadata, and a consumer's read-only questions (FindCoordinator,
//! OffsetFetch, DescribeConfigs) — requests encoded, responses decoded.
//!
//! Written here rather than taken from a general protocol crate because responses come from peers
//! kreach does not trust: every count and length is checked against the bytes actually left in
//! the frame before anything is allocated (an array of N elements needs at least N times its
//! smallest element), so a 16-byte answer claiming four billion entries is a decode error, not a
//! 128 GiB allocation. Only the fields kreach reads are decoded; the rest of a frame is ignored.

use std::fmt;

/// API keys kreach sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiKey {
    /// Metadata (3).
    Metadata = 3,
    /// SaslHandshake (17).
    SaslHandshake = 17,
    /// ApiVersions (18).
    ApiVersions = 18,
    /// SaslAuthenticate (36).
    SaslAuthenticate = 36,
    /// OffsetFetch (9): read-only, a group's committed offsets.
    OffsetFetch = 9,
    /// FindCoordinator (10).
    FindCoordinator = 10,
    /// DescribeConfigs (32).
    DescribeConfigs = 32,
}

impl ApiKey {
    /// First version whose request and response use the compact ("flexible") encoding.
    fn flexible_from(self) -> i16 {
        match self {
            ApiKey::Metadata => 9,
            ApiKey::SaslHandshake => i16::MAX,
            ApiKey::ApiVersions => 3,
            ApiKey::SaslAuthenticate => 2,
            ApiKey::OffsetFetch => 6,
            ApiKey::FindCoordinator => 3,
            ApiKey::DescribeConfigs => 4,
        }
    }

    /// Whether `version` of this API is flexible.
    pub fn flexible(self, version: i16) -> bool {
        version >= self.flexible_from()
    }
}

/// Why a response did not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(message: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(message.into()))
}

/// A bounded cursor over one response frame.
#[derive(Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Reads from the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return err(format!("{what}: needs {n} bytes, {} left in the frame", self.remaining()));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// A big-endian `int16`.
    pub fn i16(&mut self, what: &str) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }

    /// A big-endian `int32`.
    pub fn i32(&mut self, what: &str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    /// A big-endian `int64`.
    pub fn i64(&mut self, what: &str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    /// An `int8` (or a `bool`).
    pub fn i8(&mut self, what: &str) -> Result<i8, DecodeError> {
        Ok(i8::from_be_bytes(self.array(what)?))
    }

    /// Skips `n` bytes that must be there (a field kreach does not read).
    pub fn skip(&mut self, n: usize, what: &str) -> Result<(), DecodeError> {
        self.take(n, what).map(|_| ())
    }

    /// An unsigned varint of at most 32 bits.
    pub fn uvarint(&mut self, what: &str) -> Result<u32, DecodeError> {
        let mut value: u32 = 0;
        for i in 0..5 {
            let byte = self.take(1, what)?[0];
            if i == 4 && byte > 0x0f {
                return err(format!("{what}: varint longer than 32 bits"));
            }
            value |= u32::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        err(format!("{what}: varint longer than 32 bits"))
    }

    /// A length that must fit in what is left: `None` for null (−1, or compact 0).
    fn length(&mut self, flexible: bool, wide: bool, what: &str) -> Result<Option<usize>, DecodeError> {
        let len: i64 = if flexible {
            i64::from(self.uvarint(what)?) - 1
        } else if wide {
            i64::from(self.i32(what)?)
        } else {
            i64::from(self.i16(what)?)
        };
        match len {
            -1 => Ok(None),
            n if n < 0 => err(format!("{what}: negative length {n}")),
            n => Ok(Some(n as usize)),
        }
    }

    /// A nullable string (`STRING`/`NULLABLE_STRING`, or their compact forms when `flexible`).
    pub fn nullable_string(&mut self, flexible: bool, what: &str) -> Result<Option<String>, DecodeError> {
        match self.length(flexible, false, what)? {
            None => Ok(None),
            Some(n) => Ok(Some(String::from_utf8_lossy(self.take(n, what)?).into_owned())),
        }
    }

    /// A string that must not be null.
    pub fn string(&mut self, flexible: bool, what: &str) -> Result<String, DecodeError> {
        self.nullable_string(flexible, what)?
            .map_or_else(|| err(format!("{what}: null where a string is required")), Ok)
    }

    /// `BYTES` (or `COMPACT_BYTES`); null reads as empty.
    pub fn bytes(&mut self, flexible: bool, what: &str) -> Result<Vec<u8>, DecodeError> {
        match self.length(flexible, true, what)? {
            None => Ok(Vec::new()),
            Some(n) => Ok(self.take(n, what)?.to_vec()),
        }
    }

    /// An array's element count, refused when even the smallest elements could not fit.
    pub fn array_len(&mut self, flexible: bool, min_element: usize, what: &str) -> Result<usize, DecodeError> {
        let n = self.length(flexible, true, what)?.unwrap_or(0);
        if n.saturating_mul(min_element.max(1)) > self.remaining() {
            return err(format!(
                "{what}: {n} entries announced, but only {} bytes left in the frame",
                self.remaining()
            ));
        }
        Ok(n)
    }

    /// Skips a tagged-field section (flexible versions).
    pub fn tagged_fields(&mut self, what: &str) -> Result<(), DecodeError> {
        let count = self.uvarint(what)?;
        if count as usize > self.remaining() {
            return err(format!("{what}: {count} tagged fields announced, {} bytes left", self.remaining()));
        }
        for _ in 0..count {
            self.uvarint(what)?;
            let size = self.uvarint(what)? as usize;
            self.take(size, what)?;
        }
        Ok(())
    }
}

/// Appends Kafka's primitive types.
struct Writer(Vec<u8>);

impl Writer {
    fn i16(&mut self, v: i16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn uvarint(&mut self, mut v: u32) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn len(&mut self, flexible: bool, wide: bool, n: usize) {
        if flexible {
            self.uvarint(n as u32 + 1);
        } else if wide {
            self.i32(n as i32);
        } else {
            self.i16(n as i16);
        }
    }
    fn string(&mut self, flexible: bool, s: &str) {
        self.len(flexible, false, s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn bytes(&mut self, flexible: bool, b: &[u8]) {
        self.len(flexible, true, b.len());
        self.0.extend_from_slice(b);
    }
    fn bool(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }
    fn null_array(&mut self, flexible: bool) {
        if flexible {
            self.uvarint(0);
        } else {
            self.i32(-1);
        }
    }

    fn no_tags(&mut self) {
        self.uvarint(0);
    }
}

/// What a request says after its header.
#[derive(Clone, Debug)]
pub enum Body<'a> {
    /// ApiVersions, naming the client software (v3+).
    ApiVersions,
    /// SaslHandshake with this mechanism.
    SaslHandshake(&'a str),
    /// SaslAuthenticate carrying these bytes.
    SaslAuthenticate(&'a [u8]),
    /// Metadata for these topics (none: the brokers only), never creating one.
    Metadata(&'a [String]),
    /// FindCoordinator for this consumer group.
    FindCoordinator(&'a str),
    /// OffsetFetch for this group: these topics and their partitions (none: every committed offset, v2+).
    OffsetFetch(&'a str, &'a [(String, Vec<i32>)]),
    /// DescribeConfigs of the cluster-wide broker configuration (resource BROKER, empty name: what
    /// the broker authorizes as DescribeConfigs on the cluster), one key only.
    DescribeClusterConfigs,
}

impl Body<'_> {
    /// The API this body belongs to.
    pub fn key(&self) -> ApiKey {
        match self {
            Body::ApiVersions => ApiKey::ApiVersions,
            Body::SaslHandshake(_) => ApiKey::SaslHandshake,
            Body::SaslAuthenticate(_) => ApiKey::SaslAuthenticate,
            Body::Metadata(_) => ApiKey::Metadata,
            Body::FindCoordinator(_) => ApiKey::FindCoordinator,
            Body::OffsetFetch(..) => ApiKey::OffsetFetch,
            Body::DescribeClusterConfigs => ApiKey::DescribeConfigs,
        }
    }
}

/// Client id sent in every request header.
pub const CLIENT_ID: &str = "kreach";

/// One request frame (length prefix included).
pub fn request(body: &Body<'_>, version: i16, correlation_id: i32) -> Vec<u8> {
    let key = body.key();
    let flexible = key.flexible(version);
    let mut w = Writer(vec![0; 4]);
    // Request header v1 (v2 adds tagged fields); the client id is always a classic string.
    w.i16(key as i16);
    w.i16(version);
    w.i32(correlation_id);
    w.string(false, CLIENT_ID);
    if flexible {
        w.no_tags();
    }
    match body {
        Body::ApiVersions => {
            if version >= 3 {
                w.string(true, "kreach");
                w.string(true, env!("CARGO_PKG_VERSION"));
                w.no_tags();
            }
        }
        Body::SaslHandshake(mechanism) => w.string(false, mechanism),
        Body::SaslAuthenticate(bytes) => {
            w.bytes(flexible, bytes);
            if flexible {
                w.no_tags();
            }
        }
        Body::Metadata(topics) => {
            // An empty (not null) topic list: brokers only. v0 would read empty as "all topics".
            w.len(flexible, true, topics.len());
            for topic in *topics {
                if version >= 10 {
                    w.0.extend_from_slice(&[0; 16]); // topic id: none, by name
                }
                // v12 makes the name nullable; as written it is the same bytes.
                w.string(flexible, topic);
                if flexible {
                    w.no_tags();
                }
            }
            if version >= 4 {
                w.bool(false); // allow_auto_topic_creation
            }
            if (8..=10).contains(&version) {
                w.bool(false); // include_cluster_authorized_operations
            }
            if version >= 8 {
                w.bool(false); // include_topic_authorized_operations
            }
            if flexible {
                w.no_tags();
            }
        }
        Body::FindCoordinator(group) => {
            if version >= 4 {
                w.0.push(0); // key type: group
                w.len(true, true, 1);
                w.string(true, group);
            } else {
                w.string(flexible, group);
                if version >= 1 {
                    w.0.push(0); // key type: group
                }
            }
            if flexible {
                w.no_tags();
            }
        }
        Body::OffsetFetch(group, topics) => {
            w.string(flexible, group);
            if topics.is_empty() && version >= 2 {
                w.null_array(flexible); // every committed offset of the group
            } else {
                w.len(flexible, true, topics.len());
                for (topic, partitions) in *topics {
                    w.string(flexible, topic);
                    w.len(flexible, true, partitions.len());
                    for p in partitions {
                        w.i32(*p);
                    }
                    if flexible {
                        w.no_tags();
                    }
                }
            }
            if version >= 7 {
                w.bool(false); // require_stable
            }
            if flexible {
                w.no_tags();
            }
        }
        Body::DescribeClusterConfigs => {
            w.len(flexible, true, 1);
            w.0.push(BROKER_RESOURCE as u8);
            w.string(flexible, "");
            w.len(flexible, true, 1);
            w.string(flexible, "message.max.bytes");
            if flexible {
                w.no_tags();
            }
            if version >= 1 {
                w.bool(false); // include_synonyms
            }
            if version >= 3 {
                w.bool(false); // include_documentation
            }
            if flexible {
                w.no_tags();
            }
        }
    }
    let len = (w.0.len() - 4) as i32;
    w.0[..4].copy_from_slice(&len.to_be_bytes());
    w.0
}

/// DescribeConfigs resource type BROKER.
pub const BROKER_RESOURCE: i8 = 4;

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

#[cfg(test)]
mod tests;

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

mod decode;
pub use decode::*;

#[cfg(test)]
mod tests;

//! The Kafka wire format for the four exchanges kreach makes: ApiVersions, SaslHandshake,
//! SaslAuthenticate and Metadata — requests encoded, responses decoded.
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
}

impl ApiKey {
    /// First version whose request and response use the compact ("flexible") encoding.
    fn flexible_from(self) -> i16 {
        match self {
            ApiKey::Metadata => 9,
            ApiKey::SaslHandshake => i16::MAX,
            ApiKey::ApiVersions => 3,
            ApiKey::SaslAuthenticate => 2,
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
    /// Metadata for no topic: the brokers only.
    Metadata,
}

impl Body<'_> {
    /// The API this body belongs to.
    pub fn key(&self) -> ApiKey {
        match self {
            Body::ApiVersions => ApiKey::ApiVersions,
            Body::SaslHandshake(_) => ApiKey::SaslHandshake,
            Body::SaslAuthenticate(_) => ApiKey::SaslAuthenticate,
            Body::Metadata => ApiKey::Metadata,
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
        Body::Metadata => {
            // An empty (not null) topic list: brokers only. v0 would read empty as "all topics".
            w.len(flexible, true, 0);
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
    }
    let len = (w.0.len() - 4) as i32;
    w.0[..4].copy_from_slice(&len.to_be_bytes());
    w.0
}

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

/// A Metadata answer, brokers only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// The advertised brokers.
    pub brokers: Vec<Broker>,
    /// Cluster id (v2+).
    pub cluster_id: Option<String>,
    /// Controller id.
    pub controller_id: i32,
}

/// Decodes a Metadata body (v1+), up to the controller id: kreach asks for no topic.
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
    Ok(Metadata { brokers, cluster_id, controller_id })
}

#[cfg(test)]
mod tests;

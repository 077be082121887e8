//! Kafka stage: speak Kafka on the connection the earlier stages opened, one timed step at a time.
//!
//! ApiVersions needs no credentials (brokers answer it before authentication), so it proves a
//! Kafka listener is there; Metadata then lists the brokers every later check fans out to.

use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse, RequestHeader, ResponseHeader,
    SaslAuthenticateRequest, SaslHandshakeRequest,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::config::Sasl;
use crate::report::{BrokerInfo, ClusterMetadata, KafkaAttempt, KafkaOutcome};
use crate::sasl::{Scram, ScramHash, plain};

/// Largest response frame accepted: a Metadata answer without topics is a few KiB even for
/// hundreds of brokers; anything bigger is not a Kafka answer to our requests.
pub const MAX_FRAME: usize = 8 * 1024 * 1024;
/// Error code for UNSUPPORTED_VERSION.
const UNSUPPORTED_VERSION: i16 = 35;
/// Highest ApiVersions / Metadata versions this client speaks.
const API_VERSIONS_MAX: i16 = 3;
const METADATA_MAX: i16 = 12;

/// Why a request got no decodable answer.
#[derive(Debug)]
enum CallError {
    /// The peer closed; `received` bytes came before.
    Closed { received: usize },
    /// An I/O error.
    Io(std::io::Error),
    /// A length prefix beyond [`MAX_FRAME`] (or negative): not a Kafka answer.
    Oversized { len: i64, first: [u8; 4] },
    /// The frame did not decode as the expected response.
    Decode(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Closed { received: 0 } => f.write_str("the peer closed the connection without answering"),
            CallError::Closed { received } => write!(f, "the peer closed the connection after {received} bytes"),
            CallError::Io(e) => write!(f, "{e}"),
            CallError::Oversized { len, first } => write!(
                f,
                "answer announces a {len}-byte frame (first bytes {:?}): not a Kafka response",
                String::from_utf8_lossy(first)
            ),
            CallError::Decode(e) => write!(f, "undecodable Kafka response: {e}"),
        }
    }
}

struct Client<'a, S> {
    stream: &'a mut S,
    correlation: i32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<'_, S> {
    async fn call<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response, CallError> {
        self.correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(StrBytes::from_static_str("kreach")));
        let mut body = BytesMut::new();
        header.encode(&mut body, R::header_version(version)).map_err(|e| CallError::Decode(e.to_string()))?;
        request.encode(&mut body, version).map_err(|e| CallError::Decode(e.to_string()))?;
        let mut frame = BytesMut::with_capacity(body.len() + 4);
        frame.put_i32(body.len() as i32);
        frame.extend_from_slice(&body);
        self.stream.write_all(&frame).await.map_err(CallError::Io)?;
        self.stream.flush().await.map_err(CallError::Io)?;

        let mut len_buf = [0u8; 4];
        read_exact(self.stream, &mut len_buf, 0).await?;
        let len = i32::from_be_bytes(len_buf) as i64;
        if len < 4 || len as usize > MAX_FRAME {
            return Err(CallError::Oversized { len, first: len_buf });
        }
        let mut payload = vec![0u8; len as usize];
        read_exact(self.stream, &mut payload, 4).await?;
        let mut bytes = Bytes::from(payload);
        let response_header = ResponseHeader::decode(&mut bytes, R::Response::header_version(version))
            .map_err(|e| CallError::Decode(e.to_string()))?;
        if response_header.correlation_id != self.correlation {
            return Err(CallError::Decode(format!(
                "correlation id {} instead of {}",
                response_header.correlation_id, self.correlation
            )));
        }
        R::Response::decode(&mut bytes, version).map_err(|e| CallError::Decode(e.to_string()))
    }
}

async fn read_exact<S: AsyncRead + Unpin>(s: &mut S, buf: &mut [u8], already: usize) -> Result<(), CallError> {
    let mut filled = 0;
    while filled < buf.len() {
        match s.read(&mut buf[filled..]).await {
            Ok(0) => return Err(CallError::Closed { received: already + filled }),
            Ok(n) => filled += n,
            Err(e) => return Err(CallError::Io(e)),
        }
    }
    Ok(())
}

/// Error codes the SASL steps return.
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
const ILLEGAL_SASL_STATE: i16 = 34;
const SASL_AUTHENTICATION_FAILED: i16 = 58;

/// What to do after ApiVersions.
#[derive(Clone, Copy, Debug)]
pub enum Then<'a> {
    /// Nothing more (a broker's listener check).
    Stop,
    /// Authenticate when SASL is given, then Metadata.
    Metadata(Option<&'a Sasl>),
}

fn api_range(versions: &ApiVersionsResponse, key: ApiKey) -> Option<(i16, i16)> {
    versions.api_keys.iter().find(|k| k.api_key == key as i16).map(|k| (k.min_version, k.max_version))
}

/// SaslHandshake + SaslAuthenticate. `Err` carries the outcome and the evidence.
async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut Client<'_, S>,
    versions: &ApiVersionsResponse,
    sasl: &Sasl,
    username: &str,
    password: &str,
    attempt: &mut KafkaAttempt,
) -> Result<(), (KafkaOutcome, String)> {
    let failed = |e: CallError| (KafkaOutcome::Failed, e.to_string());
    let handshake_version = match api_range(versions, ApiKey::SaslHandshake) {
        Some((_, max)) if max >= 1 => 1,
        _ => return Err((KafkaOutcome::MechanismUnsupported, "the broker offers no SASL (SaslHandshake v1)".into())),
    };
    let request = SaslHandshakeRequest::default().with_mechanism(StrBytes::from_string(sasl.mechanism.clone()));
    let handshake = client.call(&request, handshake_version).await.map_err(|e| match e {
        // Some brokers drop the connection on a mechanism they do not know.
        CallError::Closed { received: 0 } => (
            KafkaOutcome::MechanismUnsupported,
            format!("the broker closed the connection on SaslHandshake for {}", sasl.mechanism),
        ),
        other => failed(other),
    })?;
    attempt.broker_mechanisms = handshake.mechanisms.iter().map(|m| m.to_string()).collect();
    if handshake.error_code == UNSUPPORTED_SASL_MECHANISM {
        return Err((
            KafkaOutcome::MechanismUnsupported,
            format!("{} is not enabled; the broker offers {}", sasl.mechanism, attempt.broker_mechanisms.join(", ")),
        ));
    }
    if handshake.error_code != 0 {
        return Err((KafkaOutcome::Failed, format!("SaslHandshake answered error code {}", handshake.error_code)));
    }
    let auth_version = api_range(versions, ApiKey::SaslAuthenticate).map_or(0, |(_, max)| max.min(2));
    let exchange = |bytes: Vec<u8>| SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(bytes));
    let rejected = |code: i16, message: Option<StrBytes>| {
        let outcome = if matches!(code, SASL_AUTHENTICATION_FAILED | ILLEGAL_SASL_STATE) {
            KafkaOutcome::AuthFailed
        } else {
            KafkaOutcome::Failed
        };
        let message = message.map(|m| m.to_string()).unwrap_or_default();
        (outcome, format!("SaslAuthenticate error code {code}: {message}"))
    };
    // A broker that closes instead of answering the credentials has refused them.
    let refused = |e: CallError| match e {
        CallError::Closed { .. } => {
            (KafkaOutcome::AuthFailed, "the broker closed the connection on authentication".into())
        }
        other => failed(other),
    };
    match sasl.mechanism.as_str() {
        "PLAIN" => {
            let response = client.call(&exchange(plain(username, password)), auth_version).await.map_err(refused)?;
            if response.error_code != 0 {
                return Err(rejected(response.error_code, response.error_message));
            }
            Ok(())
        }
        "SCRAM-SHA-256" | "SCRAM-SHA-512" => {
            let hash = if sasl.mechanism == "SCRAM-SHA-256" { ScramHash::Sha256 } else { ScramHash::Sha512 };
            let (mut scram, first) = Scram::start(hash, username, password).map_err(|e| (KafkaOutcome::Failed, e))?;
            let response = client.call(&exchange(first), auth_version).await.map_err(refused)?;
            if response.error_code != 0 {
                return Err(rejected(response.error_code, response.error_message));
            }
            let last = scram.respond(&response.auth_bytes).map_err(|e| (KafkaOutcome::AuthFailed, e))?;
            let response = client.call(&exchange(last), auth_version).await.map_err(refused)?;
            if response.error_code != 0 {
                return Err(rejected(response.error_code, response.error_message));
            }
            scram.verify(&response.auth_bytes).map_err(|e| (KafkaOutcome::AuthFailed, e))
        }
        other => Err((KafkaOutcome::MechanismUnsupported, format!("kreach cannot authenticate with {other} yet"))),
    }
}

/// Runs ApiVersions, then what `then` asks, over `stream` within `budget`.
pub async fn probe<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    then: Then<'_>,
    budget: Duration,
) -> KafkaAttempt {
    let started = Instant::now();
    let mut attempt = KafkaAttempt {
        outcome: KafkaOutcome::Failed,
        elapsed_ms: 0,
        api_versions_ms: None,
        api_keys: None,
        metadata_version: None,
        sasl_mechanism: None,
        broker_mechanisms: Vec::new(),
        sasl_ms: None,
        skipped: None,
        error_code: None,
        error: None,
        metadata: None,
    };
    let run = async {
        let mut client = Client { stream, correlation: 0 };
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("kreach"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let mut versions = client.call(&request, API_VERSIONS_MAX).await;
        if matches!(&versions, Ok(v) if v.error_code == UNSUPPORTED_VERSION) {
            versions = client.call(&ApiVersionsRequest::default(), 0).await;
        }
        let versions = match versions {
            Ok(v) => v,
            Err(e) => {
                attempt.outcome = match &e {
                    CallError::Closed { received: 0 } => KafkaOutcome::Closed,
                    CallError::Io(_) => KafkaOutcome::Failed,
                    // A TLS record (alert 0x15 or handshake 0x16, version 3.x) in answer to plaintext.
                    CallError::Oversized { first: [0x15 | 0x16, 0x03, ..], .. } => KafkaOutcome::TlsListener,
                    _ => KafkaOutcome::NotKafka,
                };
                attempt.error = Some(format!("ApiVersions: {e}"));
                return;
            }
        };
        attempt.api_versions_ms = Some(started.elapsed().as_millis() as u64);
        attempt.api_keys = Some(versions.api_keys.len());
        if versions.error_code != 0 {
            attempt.outcome = KafkaOutcome::NotKafka;
            attempt.error_code = Some(versions.error_code);
            attempt.error = Some(format!("ApiVersions answered error code {}", versions.error_code));
            return;
        }
        let sasl = match then {
            Then::Stop => {
                attempt.outcome = KafkaOutcome::Ok;
                return;
            }
            Then::Metadata(sasl) => sasl,
        };
        if let Some(sasl) = sasl {
            let (Some(username), Some(password)) = (sasl.username.as_deref(), sasl.password.as_ref()) else {
                // ApiVersions proved the listener; without credentials nothing further can be asked.
                attempt.outcome = KafkaOutcome::Ok;
                attempt.skipped = Some("no SASL credentials: authentication and Metadata not attempted".into());
                return;
            };
            attempt.sasl_mechanism = Some(sasl.mechanism.clone());
            let sasl_started = Instant::now();
            let result = authenticate(&mut client, &versions, sasl, username, password.expose(), &mut attempt).await;
            attempt.sasl_ms = Some(sasl_started.elapsed().as_millis() as u64);
            if let Err((outcome, error)) = result {
                attempt.outcome = outcome;
                attempt.error = Some(error);
                return;
            }
        }
        let Some(range) = versions.api_keys.iter().find(|k| k.api_key == ApiKey::Metadata as i16) else {
            attempt.outcome = KafkaOutcome::MetadataFailed;
            attempt.error = Some("the broker does not offer the Metadata API".into());
            return;
        };
        let version = range.max_version.min(METADATA_MAX);
        if version < range.min_version || version < 1 {
            attempt.outcome = KafkaOutcome::MetadataFailed;
            attempt.error =
                Some(format!("no common Metadata version (broker {}..={})", range.min_version, range.max_version));
            return;
        }
        attempt.metadata_version = Some(version);
        let request = MetadataRequest::default().with_topics(Some(Vec::new())).with_allow_auto_topic_creation(false);
        let metadata_started = Instant::now();
        match client.call(&request, version).await {
            Ok(response) => {
                attempt.metadata = Some(cluster(&response, metadata_started.elapsed().as_millis() as u64));
                attempt.outcome =
                    if response.brokers.is_empty() { KafkaOutcome::MetadataFailed } else { KafkaOutcome::Ok };
                if response.brokers.is_empty() {
                    attempt.error = Some("Metadata listed no broker".into());
                }
            }
            Err(e) => {
                attempt.outcome = KafkaOutcome::MetadataFailed;
                attempt.error = Some(format!("Metadata: {e}"));
            }
        }
    };
    if tokio::time::timeout(budget, run).await.is_err() {
        attempt.outcome = KafkaOutcome::Timeout;
        attempt.error = Some(format!("no Kafka answer within {} ms", budget.as_millis()));
    }
    attempt.elapsed_ms = started.elapsed().as_millis() as u64;
    attempt
}

fn cluster(response: &MetadataResponse, elapsed_ms: u64) -> ClusterMetadata {
    let mut brokers: Vec<BrokerInfo> = response
        .brokers
        .iter()
        .map(|b| BrokerInfo {
            node_id: b.node_id.0,
            host: b.host.to_string(),
            port: b.port,
            rack: b.rack.as_ref().map(|r| r.to_string()),
        })
        .collect();
    brokers.sort_by_key(|b| b.node_id);
    ClusterMetadata {
        cluster_id: response.cluster_id.as_ref().map(|c| c.to_string()),
        controller_id: response.controller_id.0,
        brokers,
        elapsed_ms,
    }
}

/// The AZ ID a broker name carries, e.g. `usw2-az1` in `e-0cb9-usw2-az1-abc.dom.us-west-2.aws...`.
pub fn az_id_of(host: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    for label in host.split('.') {
        let parts: Vec<&str> = label.split('-').collect();
        for pair in parts.windows(2) {
            let (region, az) = (pair[0], pair[1]);
            let region_ok = region.len() >= 3
                && region.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && region.chars().last().is_some_and(|c| c.is_ascii_digit())
                && region.chars().all(|c| c.is_ascii_alphanumeric());
            let az_ok = az.len() > 2 && az.starts_with("az") && az[2..].chars().all(|c| c.is_ascii_digit());
            if region_ok && az_ok {
                return Some(format!("{region}-{az}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::az_id_of;

    #[test]
    fn az_ids_are_found_in_broker_names() {
        assert_eq!(az_id_of("e-0cb9-usw2-az1-abc123.dom.us-west-2.aws.confluent.cloud").as_deref(), Some("usw2-az1"));
        assert_eq!(az_id_of("b3.usw2-az3.abc123.us-west-2.aws.confluent.cloud").as_deref(), Some("usw2-az3"));
        assert_eq!(az_id_of("b0-use1-az6.example.com").as_deref(), Some("use1-az6"));
        assert_eq!(az_id_of("lkc-abc.us-west-2.aws.confluent.cloud"), None, "a region name is not an AZ ID");
        assert_eq!(az_id_of("broker-1.example.com"), None);
    }
}

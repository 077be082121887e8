//! A Kafka listener that records every byte it receives, for tests that assert where a secret
//! must never arrive (a canary password): it answers as far as a client goes before it sends
//! SASL/PLAIN credentials (ApiVersions, SaslHandshake offering PLAIN, SaslAuthenticate accepted,
//! an empty Metadata), over TLS or in clear.
//!
//! Written here because no broker that runs on these machines accepts SASL/PLAIN (tansu offers
//! SCRAM only, and SCRAM never puts the password on the wire). Its answers are encoded by the
//! kafka-protocol crate, generated from Kafka's own message schemas: only the dispatch is ours.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, BrokerId, MetadataResponse, ResponseHeader, SaslAuthenticateResponse,
    SaslHandshakeResponse,
};
use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// Largest request frame read (a client's requests are small).
const MAX_FRAME: usize = 1 << 20;
/// Most bytes recorded in all.
const MAX_RECORDED: usize = 16 << 20;

/// A running recording listener; stops when its runtime does.
pub struct RecordingBroker {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<u8>>>,
    connections: Arc<Mutex<usize>>,
}

impl RecordingBroker {
    /// Listens on `bind` (port 0 for any); `tls` wraps every connection when given. It advertises
    /// itself as broker 1 at `advertised_host` (default: its address) and its own port.
    pub async fn start(
        bind: SocketAddr,
        tls: Option<Arc<rustls::ServerConfig>>,
        advertised_host: Option<String>,
    ) -> std::io::Result<RecordingBroker> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let received: Arc<Mutex<Vec<u8>>> = Arc::default();
        let connections: Arc<Mutex<usize>> = Arc::default();
        let advertised = (advertised_host.unwrap_or_else(|| addr.ip().to_string()), addr.port());
        let (rec, conns) = (received.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                if let Ok(mut n) = conns.lock() {
                    *n += 1;
                }
                let (rec, advertised, tls) = (rec.clone(), advertised.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(config) => {
                            let acceptor = tokio_rustls::TlsAcceptor::from(config);
                            if let Ok(stream) = acceptor.accept(stream).await {
                                serve(stream, rec, advertised).await;
                            }
                        }
                        None => serve(stream, rec, advertised).await,
                    }
                });
            }
        });
        Ok(RecordingBroker { addr, received, connections })
    }

    /// Whether `needle` appears anywhere in what was received.
    pub fn received_contains(&self, needle: &[u8]) -> bool {
        let bytes = self.received.lock().map(|b| b.clone()).unwrap_or_default();
        !needle.is_empty() && bytes.windows(needle.len()).any(|w| w == needle)
    }

    /// How many bytes were received.
    pub fn received_len(&self) -> usize {
        self.received.lock().map(|b| b.len()).unwrap_or(0)
    }

    /// How many connections were accepted (TCP, before any TLS).
    pub fn connections(&self) -> usize {
        self.connections.lock().map(|n| *n).unwrap_or(0)
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, received: Arc<Mutex<Vec<u8>>>, advertised: (String, u16)) {
    loop {
        let mut len = [0u8; 4];
        if s.read_exact(&mut len).await.is_err() {
            return;
        }
        let n = i32::from_be_bytes(len).clamp(0, MAX_FRAME as i32) as usize;
        let mut body = vec![0u8; n];
        if n < 8 || s.read_exact(&mut body).await.is_err() {
            return;
        }
        if let Ok(mut r) = received.lock() {
            if r.len() + body.len() <= MAX_RECORDED {
                r.extend_from_slice(&body);
            }
        }
        let key = i16::from_be_bytes([body[0], body[1]]);
        let version = i16::from_be_bytes([body[2], body[3]]);
        let correlation = i32::from_be_bytes([body[4], body[5], body[6], body[7]]);
        let reply = match ApiKey::try_from(key) {
            Ok(ApiKey::ApiVersions) => {
                // Answer v0 to anything newer than the crate encodes; a client then retries at v0.
                let version = version.clamp(0, 3);
                let keys = [
                    (ApiKey::ApiVersions, 0, 3),
                    (ApiKey::SaslHandshake, 0, 1),
                    (ApiKey::SaslAuthenticate, 0, 2),
                    (ApiKey::Metadata, 0, 12),
                ];
                let response = ApiVersionsResponse::default().with_api_keys(
                    keys.iter()
                        .map(|(k, min, max)| {
                            ApiVersion::default().with_api_key(*k as i16).with_min_version(*min).with_max_version(*max)
                        })
                        .collect(),
                );
                frame(correlation, version, &response)
            }
            Ok(ApiKey::SaslHandshake) => {
                let response =
                    SaslHandshakeResponse::default().with_mechanisms(vec![StrBytes::from_static_str("PLAIN")]);
                frame(correlation, version.clamp(0, 1), &response)
            }
            Ok(ApiKey::SaslAuthenticate) => {
                frame(correlation, version.clamp(0, 2), &SaslAuthenticateResponse::default())
            }
            Ok(ApiKey::Metadata) => {
                let broker = MetadataResponseBroker::default()
                    .with_node_id(BrokerId(1))
                    .with_host(StrBytes::from_string(advertised.0.clone()))
                    .with_port(i32::from(advertised.1));
                let response = MetadataResponse::default().with_brokers(vec![broker]).with_controller_id(BrokerId(1));
                frame(correlation, version.clamp(0, 12), &response)
            }
            _ => return,
        };
        let Some(reply) = reply else { return };
        if s.write_all(&reply).await.is_err() || s.flush().await.is_err() {
            return;
        }
    }
}

/// A response frame encoded by the reference implementation; `None` when it cannot encode it.
fn frame<T: Encodable + HeaderVersion>(correlation: i32, version: i16, message: &T) -> Option<Vec<u8>> {
    let mut buf = BytesMut::new();
    ResponseHeader::default().with_correlation_id(correlation).encode(&mut buf, T::header_version(version)).ok()?;
    message.encode(&mut buf, version).ok()?;
    let mut out = (buf.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&buf);
    Some(out)
}

//! A SASL OAUTHBEARER front for a real Kafka-protocol broker, for tests: it validates the client's
//! token the way a broker configured for an OIDC issuer does (an RS256 JWT whose signature checks
//! against the issuer's JWKS, issued by that issuer, not expired, with the SASL extensions the
//! cluster requires), then forwards everything else to the broker behind it (librdkafka's mock
//! cluster, which has no SASL of its own).
//!
//! Written here because no broker that runs on these machines validates OAUTHBEARER tokens against
//! an issuer (tansu refuses every token; Apache Kafka needs a JVM). Its messages are decoded and
//! encoded by the kafka-protocol crate (generated from Kafka's own schemas); the JWT check uses
//! ring. Only the dispatch is ours.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, RequestHeader, ResponseHeader, SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MAX_FRAME: usize = 1 << 20;

/// Judges a client's SaslAuthenticate bytes: the server's answer bytes, or why it refuses.
pub type Check = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync>;

/// What the front accepts.
#[derive(Clone, Debug)]
pub struct Trust {
    /// The issuer (`iss`) tokens must carry.
    pub issuer: String,
    /// The issuer's RSA keys (JWKS entries: `kid`, base64url `n` and `e`).
    pub keys: Vec<(String, Vec<u8>, Vec<u8>)>,
    /// The issuer's P-384 keys (JWKS entries with `kty` EC: `kid`, the point `04 ‖ x ‖ y`).
    pub ec_keys: Vec<(String, Vec<u8>)>,
    /// SASL extensions every client must send with these values.
    pub extensions: Vec<(String, String)>,
}

impl Trust {
    /// The OAUTHBEARER check of this trust (for [`OAuthFront::serve_mechanisms`]).
    pub fn check(self) -> Check {
        Arc::new(move |auth: &[u8]| {
            check(auth, &self).map(|()| Vec::new()).map_err(|why| format!("invalid token: {why}"))
        })
    }

    /// From the issuer's JWKS as JSON (an array of JWKs).
    pub fn from_jwks(issuer: &str, jwks: &serde_json::Value, extensions: &[(&str, &str)]) -> Trust {
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v.as_str().unwrap_or_default()).unwrap_or_default()
        };
        let keys = jwks
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|k| (k["kid"].as_str().unwrap_or_default().to_string(), b64(&k["n"]), b64(&k["e"])))
                    .collect()
            })
            .unwrap_or_default();
        let ec_keys = jwks
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|k| k["kty"] == "EC")
                    .map(|k| {
                        let mut point = vec![4u8];
                        point.extend(b64(&k["x"]));
                        point.extend(b64(&k["y"]));
                        (k["kid"].as_str().unwrap_or_default().to_string(), point)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Trust {
            issuer: issuer.to_string(),
            keys,
            ec_keys,
            extensions: extensions.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }
}

/// A running front; stops when its runtime does.
pub struct OAuthFront {
    /// Where it listens.
    pub addr: SocketAddr,
    verdicts: Arc<Mutex<Vec<Result<(), String>>>>,
}

impl OAuthFront {
    /// Binds a listener (its address is what the broker behind must advertise).
    pub async fn bind() -> std::io::Result<(TcpListener, SocketAddr)> {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let addr = l.local_addr()?;
        Ok((l, addr))
    }

    /// Serves `listener`, forwarding to `backend` after a token `trust` accepts.
    pub fn serve(listener: TcpListener, backend: SocketAddr, trust: Trust) -> OAuthFront {
        OAuthFront::serve_mechanism(listener, backend, "OAUTHBEARER", trust.check())
    }

    /// Serves `listener` for the SASL `mechanism`, forwarding to `backend` after `check` accepts
    /// the client's SaslAuthenticate bytes (its `Ok` is the server's answer bytes).
    pub fn serve_mechanism(
        listener: TcpListener,
        backend: SocketAddr,
        mechanism: &'static str,
        check: Check,
    ) -> OAuthFront {
        OAuthFront::serve_mechanisms(listener, backend, vec![(mechanism, check)])
    }

    /// Serves `listener` offering every one of `mechanisms`, each judged by its own check (a
    /// broker with several SASL mechanisms enabled).
    pub fn serve_mechanisms(
        listener: TcpListener,
        backend: SocketAddr,
        mechanisms: Vec<(&'static str, Check)>,
    ) -> OAuthFront {
        let mechanisms: Arc<Vec<(&'static str, Check)>> = Arc::new(mechanisms);
        let addr = listener.local_addr().expect("addr");
        let verdicts: Arc<Mutex<Vec<Result<(), String>>>> = Arc::default();
        let seen = verdicts.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (mechanisms, seen) = (mechanisms.clone(), seen.clone());
                tokio::spawn(async move {
                    if let Ok(broker) = TcpStream::connect(backend).await {
                        let _ = (client.set_nodelay(true), broker.set_nodelay(true));
                        connection(client, broker, &mechanisms, &seen).await;
                    }
                });
            }
        });
        OAuthFront { addr, verdicts }
    }

    /// Every token verdict so far: `Ok` accepted, `Err` why refused.
    pub fn verdicts(&self) -> Vec<Result<(), String>> {
        self.verdicts.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

async fn read_frame<S: AsyncRead + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).await.ok()?;
    let n = i32::from_be_bytes(len);
    if !(0..=MAX_FRAME as i32).contains(&n) {
        return None;
    }
    let mut body = vec![0u8; n as usize];
    s.read_exact(&mut body).await.ok()?;
    Some(body)
}

async fn write_frame<S: AsyncWrite + Unpin>(s: &mut S, body: &[u8]) -> Option<()> {
    // One write per frame: a length written alone would wait for the peer's delayed ACK.
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&(body.len() as i32).to_be_bytes());
    frame.extend_from_slice(body);
    s.write_all(&frame).await.ok()?;
    s.flush().await.ok()
}

fn response<T: Encodable + HeaderVersion>(correlation: i32, version: i16, message: &T) -> Option<Vec<u8>> {
    let mut buf = BytesMut::new();
    ResponseHeader::default().with_correlation_id(correlation).encode(&mut buf, T::header_version(version)).ok()?;
    message.encode(&mut buf, version).ok()?;
    Some(buf.to_vec())
}

async fn connection(
    mut client: TcpStream,
    mut broker: TcpStream,
    mechanisms: &[(&'static str, Check)],
    seen: &Mutex<Vec<Result<(), String>>>,
) {
    // The mechanism the handshake chose (the first offered until one is).
    let mut chosen = 0usize;
    loop {
        let Some(frame) = read_frame(&mut client).await else { return };
        if frame.len() < 4 {
            return;
        }
        let key = i16::from_be_bytes([frame[0], frame[1]]);
        let version = i16::from_be_bytes([frame[2], frame[3]]);
        let Ok(api) = ApiKey::try_from(key) else { return };
        let mut bytes = Bytes::from(frame.clone());
        let Ok(header) = RequestHeader::decode(&mut bytes, api.request_header_version(version)) else { return };
        let correlation = header.correlation_id;
        let reply = match api {
            ApiKey::ApiVersions => {
                // The broker's own versions, with SASL added.
                if write_frame(&mut broker, &frame).await.is_none() {
                    return;
                }
                let Some(answer) = read_frame(&mut broker).await else { return };
                let mut answer = Bytes::from(answer);
                let Ok(_) = ResponseHeader::decode(&mut answer, 0) else { return };
                let Ok(mut versions) = ApiVersionsResponse::decode(&mut answer, version) else { return };
                for (k, max) in [(ApiKey::SaslHandshake, 1), (ApiKey::SaslAuthenticate, 2)] {
                    versions.api_keys.retain(|v| v.api_key != k as i16);
                    versions
                        .api_keys
                        .push(ApiVersion::default().with_api_key(k as i16).with_min_version(0).with_max_version(max));
                }
                response(correlation, version, &versions)
            }
            ApiKey::SaslHandshake => {
                let request = SaslHandshakeRequest::decode(&mut bytes, version).ok();
                let wanted = request.map(|r| r.mechanism.to_string()).unwrap_or_default();
                let offered = mechanisms.iter().position(|(m, _)| *m == wanted);
                chosen = offered.unwrap_or(chosen);
                let answer = SaslHandshakeResponse::default()
                    .with_error_code(if offered.is_some() { 0 } else { 33 })
                    .with_mechanisms(mechanisms.iter().map(|(m, _)| StrBytes::from_static_str(m)).collect());
                response(correlation, version, &answer)
            }
            ApiKey::SaslAuthenticate => {
                let Ok(request) = SaslAuthenticateRequest::decode(&mut bytes, version) else { return };
                let Some((_, check)) = mechanisms.get(chosen) else { return };
                let verdict = check(&request.auth_bytes);
                if let Ok(mut s) = seen.lock() {
                    s.push(verdict.clone().map(|_| ()));
                }
                let answer = match &verdict {
                    Ok(bytes) => SaslAuthenticateResponse::default().with_auth_bytes(Bytes::from(bytes.clone())),
                    Err(why) => SaslAuthenticateResponse::default()
                        .with_error_code(58)
                        .with_error_message(Some(StrBytes::from_string(why.clone()))),
                };
                let out = response(correlation, version, &answer);
                if verdict.is_err() {
                    if let Some(out) = out {
                        let _ = write_frame(&mut client, &out).await;
                    }
                    return;
                }
                let Some(out) = out else { return };
                if write_frame(&mut client, &out).await.is_none() {
                    return;
                }
                // Authenticated: the rest of the connection is the broker's.
                let _ = tokio::io::copy_bidirectional(&mut client, &mut broker).await;
                return;
            }
            // A SASL listener closes on anything else before authentication.
            _ => return,
        };
        let Some(reply) = reply else { return };
        if write_frame(&mut client, &reply).await.is_none() {
            return;
        }
    }
}

/// RFC 7628's initial response, checked: the bearer token (an RS256 JWT the trust's keys signed,
/// from its issuer, not expired) and the required extensions.
fn check(auth: &[u8], trust: &Trust) -> Result<(), String> {
    let text = std::str::from_utf8(auth).map_err(|_| "not UTF-8".to_string())?;
    let rest = text.strip_prefix("n,").ok_or("no GS2 header")?;
    let (_, kvs) = rest.split_once(',').ok_or("no GS2 header")?;
    let pairs: Vec<(&str, &str)> =
        kvs.split('\u{1}').filter(|p| !p.is_empty()).filter_map(|p| p.split_once('=')).collect();
    let token =
        pairs.iter().find(|(k, _)| *k == "auth").and_then(|(_, v)| v.strip_prefix("Bearer ")).ok_or("no bearer")?;
    for (k, v) in &trust.extensions {
        if !pairs.iter().any(|(name, value)| name == k && value == v) {
            return Err(format!("extension {k} missing or wrong"));
        }
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [head, body, sig] = parts.as_slice() else { return Err("not a JWT".into()) };
    let decode =
        |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).map_err(|_| "bad base64".to_string());
    let header: serde_json::Value = serde_json::from_slice(&decode(head)?).map_err(|_| "bad header")?;
    let kid = header["kid"].as_str().unwrap_or_default();
    let signed = format!("{head}.{body}");
    match header["alg"].as_str() {
        Some("RS256") => {
            let (_, n, e) = trust.keys.iter().find(|(k, _, _)| k == kid).ok_or("unknown key")?;
            let key = ring::signature::RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() };
            key.verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &decode(sig)?)
                .map_err(|_| "bad signature".to_string())?;
        }
        Some("ES384") => {
            let (_, point) = trust.ec_keys.iter().find(|(k, _)| k == kid).ok_or("unknown key")?;
            ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P384_SHA384_FIXED, point)
                .verify(signed.as_bytes(), &decode(sig)?)
                .map_err(|_| "bad signature".to_string())?;
        }
        _ => return Err("neither RS256 nor ES384".into()),
    }
    let claims: serde_json::Value = serde_json::from_slice(&decode(body)?).map_err(|_| "bad claims")?;
    if claims["iss"].as_str() != Some(trust.issuer.as_str()) {
        return Err("another issuer".into());
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    if claims["exp"].as_u64().is_none_or(|exp| exp <= now) {
        return Err("expired".into());
    }
    Ok(())
}

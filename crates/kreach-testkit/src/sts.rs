//! AWS STS `GetWebIdentityToken` for tests (Confluent's AWS IAM OAuth): an HTTPS peer on loopback
//! (rustls, a certificate from the test's CA) that checks the request's SigV4 signature with this
//! crate's own implementation of AWS's signing steps, and answers in the documented shapes — the
//! Query protocol's XML with a JWT it signs with ES384 (ring, a fresh P-384 key whose JWKS
//! [`StsPeer::jwks`] gives), or an `ErrorResponse` (`AccessDenied`,
//! `OutboundWebIdentityFederationDisabled`, `InvalidClientTokenId`, `SignatureDoesNotMatch`).
//!
//! Written here because moto lacks `GetWebIdentityToken` (an API from 2025) and no other STS runs
//! on these machines.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::msk_iam::{Principal, hex, now, parse_date, signature};

/// The issuer the tokens carry (AWS's outbound identity federation issuers have this shape).
pub const ISSUER: &str = "https://0a1b2c3d-test.tokens.sts.global.api.aws";
/// The key id of the signing key in the JWKS.
const KID: &str = "sts-test-1";

/// A running STS peer; stops when its runtime does.
pub struct StsPeer {
    /// Where it listens (HTTPS).
    pub addr: SocketAddr,
    /// Its signing key's JWKS (one P-384 key).
    pub jwks: serde_json::Value,
    /// Each request's verdict: `Ok` a token minted, `Err` the error code answered.
    verdicts: Arc<Mutex<Vec<Result<(), String>>>>,
}

impl StsPeer {
    /// Every verdict so far.
    pub fn verdicts(&self) -> Vec<Result<(), String>> {
        self.verdicts.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// Starts STS on 127.0.0.1 with `leaf`'s certificate (for 127.0.0.1) in `region`: `principals`
/// may mint tokens when `may_connect`; `federation` says whether the account turned outbound
/// identity federation on.
pub async fn start_sts(leaf: &kreach_lab::Leaf, region: &str, principals: Vec<Principal>, federation: bool) -> StsPeer {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).expect("p-384 key");
    let key = Arc::new(EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("key"));
    let point = key.public_key().as_ref();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwks = serde_json::json!([{"kty": "EC", "crv": "P-384", "kid": KID, "alg": "ES384",
        "x": b64(&point[1..49]), "y": b64(&point[49..97])}]);
    let certs: Vec<rustls::pki_types::CertificateDer<'static>> =
        rustls::pki_types::pem::PemObject::pem_slice_iter(leaf.chain_pem.as_bytes())
            .collect::<Result<_, _>>()
            .expect("chain");
    let private = rustls::pki_types::pem::PemObject::from_pem_slice(leaf.key_pem.as_bytes()).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let verdicts: Arc<Mutex<Vec<Result<(), String>>>> = Arc::default();
    let seen = verdicts.clone();
    let region = region.to_string();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, key, principals, region, seen) =
                (acceptor.clone(), key.clone(), principals.clone(), region.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Some((head, body)) = read_request(&mut tls).await else { return };
                let (status, answer, verdict) = answer(&head, &body, &principals, &region, federation, &key);
                if let Ok(mut s) = seen.lock() {
                    s.push(verdict);
                }
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    StsPeer { addr, jwks, verdicts }
}

/// The request's head (lower-cased header names) and body, at most 64 KiB.
async fn read_request<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<(Vec<(String, String)>, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(at)) = request.parse(&buf) {
            let head: Vec<(String, String)> = request
                .headers
                .iter()
                .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).trim().to_string()))
                .collect();
            let length: usize =
                head.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
            if buf.len() >= at + length {
                return Some((head, String::from_utf8_lossy(&buf[at..at + length]).to_string()));
            }
        }
    }
}

fn error(code: &str, message: &str) -> (&'static str, String, Result<(), String>) {
    let xml = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>{message}</Message></Error><RequestId>00000000-0000-0000-0000-000000000001</RequestId></ErrorResponse>"
    );
    (if code == "InvalidParameterValue" { "400 Bad Request" } else { "403 Forbidden" }, xml, Err(code.to_string()))
}

/// The verdict on a `GetWebIdentityToken` request: status line, XML, and what was decided.
fn answer(
    head: &[(String, String)],
    body: &str,
    principals: &[Principal],
    region: &str,
    federation: bool,
    key: &EcdsaKeyPair,
) -> (&'static str, String, Result<(), String>) {
    let header = |k: &str| head.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(authorization) = header("authorization") else { return error("MissingAuthenticationToken", "unsigned") };
    let fields: Vec<(&str, &str)> = authorization
        .trim_start_matches("AWS4-HMAC-SHA256")
        .split(',')
        .filter_map(|p| p.trim().split_once('='))
        .collect();
    let field = |k: &str| fields.iter().find(|(n, _)| *n == k).map(|(_, v)| *v).unwrap_or_default();
    let scope: Vec<&str> = field("Credential").split('/').collect();
    let [access_key, day, scope_region, "sts", "aws4_request"] = scope.as_slice() else {
        return error("IncompleteSignature", "malformed credential scope");
    };
    let Some(principal) = principals.iter().find(|p| p.access_key == *access_key) else {
        return error("InvalidClientTokenId", "The security token included in the request is invalid.");
    };
    let date = header("x-amz-date").unwrap_or_default();
    let fresh = parse_date(date).is_some_and(|t| (t - now()).abs() <= 300);
    if *scope_region != region || !date.starts_with(day) || !fresh {
        return error("SignatureDoesNotMatch", "scope or date");
    }
    if header("x-amz-security-token") != principal.session_token.as_deref() {
        return error("InvalidClientTokenId", "The security token included in the request is invalid.");
    }
    let signed = field("SignedHeaders");
    let names: Vec<&str> = signed.split(';').collect();
    if !names.contains(&"host") {
        return error("SignatureDoesNotMatch", "host not signed");
    }
    let canonical_headers: String = names.iter().map(|n| format!("{n}:{}\n", header(n).unwrap_or_default())).collect();
    let body_hash = hex(ring::digest::digest(&ring::digest::SHA256, body.as_bytes()).as_ref());
    let canonical = format!("POST\n/\n\n{canonical_headers}\n{signed}\n{body_hash}");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{day}/{region}/sts/aws4_request\n{}",
        hex(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    );
    if field("Signature") != signature(&principal.secret_key, day, region, "sts", &to_sign) {
        return error("SignatureDoesNotMatch", "The request signature we calculated does not match.");
    }
    let params: Vec<(String, String)> =
        form_urlencoded::parse(body.as_bytes()).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if param("Action") != Some("GetWebIdentityToken") || param("Version") != Some("2011-06-15") {
        return error("InvalidAction", "not GetWebIdentityToken");
    }
    let (Some(audience), Some("ES384")) = (param("Audience.member.1"), param("SigningAlgorithm")) else {
        return error("InvalidParameterValue", "Audience and SigningAlgorithm ES384 are required here");
    };
    if !federation {
        return error("OutboundWebIdentityFederationDisabled", "Outbound web identity federation is disabled.");
    }
    if !principal.may_connect {
        return error("AccessDenied", "not authorized to perform: sts:GetWebIdentityToken");
    }
    let lifetime: i64 = param("DurationSeconds").and_then(|d| d.parse().ok()).unwrap_or(300);
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwt_head = b64(serde_json::json!({"alg": "ES384", "kid": KID, "typ": "JWT"}).to_string().as_bytes());
    let claims = serde_json::json!({"iss": ISSUER, "aud": audience, "iat": now(), "exp": now() + lifetime,
        "sub": format!("arn:aws:iam::123456789012:role/{}", principal.access_key)});
    let jwt_body = b64(claims.to_string().as_bytes());
    let signing_input = format!("{jwt_head}.{jwt_body}");
    let Ok(sig) = key.sign(&SystemRandom::new(), signing_input.as_bytes()) else {
        return error("InternalFailure", "signing");
    };
    let token = format!("{signing_input}.{}", b64(sig.as_ref()));
    let xml = format!(
        "<GetWebIdentityTokenResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetWebIdentityTokenResult>\
         <WebIdentityToken>{token}</WebIdentityToken><Expiration>{}</Expiration></GetWebIdentityTokenResult>\
         <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000002</RequestId></ResponseMetadata>\
         </GetWebIdentityTokenResponse>",
        iso8601(now() + lifetime)
    );
    ("200 OK", xml, Ok(()))
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's civil-from-days).
fn iso8601(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_iso_8601() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}

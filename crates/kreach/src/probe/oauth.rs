//! The OAuth token for SASL OAUTHBEARER: one client-credentials request to the token endpoint
//! (RFC 6749 §4.4, the client authenticated with HTTP Basic as librdkafka does), over TLS verified
//! with the run's trust, bounded in size and time; and the SASL initial response carrying it
//! (RFC 7628, with Kafka's extensions, KIP-342).
//!
//! The client secret goes only to the token endpoint the properties name, only over verified TLS
//! unless insecure credentials were allowed; the token only to the brokers the run's credential
//! scope allows. Neither is ever in the report.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::input::oauth::OAuthClient;
use crate::input::secret::Secret;
use crate::probe::dns::{self, Dns};
use crate::probe::tls::TlsContext;
use crate::report::{DnsOutcome, TlsOutcome, TokenClaims, TokenFetch, TokenOutcome, TokenRefusal, TokenStep};

/// Most bytes read of the provider's answer (a token answer is a few KiB).
const MAX_ANSWER: usize = 64 * 1024;
/// Addresses tried, in the resolver's order.
const MAX_ADDRESSES: usize = 3;

/// How the token is asked for: the client's own credentials, and (AWS IAM OAuth) what signs the
/// STS request with the client's AWS credentials.
pub struct Asking<'a> {
    /// Whether the request may go over plaintext or unverified TLS.
    pub allow_insecure: bool,
    /// AWS IAM OAuth's signer (none: the STS request cannot be signed).
    pub signer: Option<&'a crate::input::IamSigner>,
}

/// Fetches a token within `budget`: the fetch's record for the report, and the token.
pub async fn fetch(
    client: &OAuthClient,
    resolver: &Dns,
    tls: &TlsContext,
    asking: Asking<'_>,
    connect_timeout: Duration,
    budget: Duration,
) -> (TokenFetch, Option<Secret>) {
    let started = Instant::now();
    let client_id = match &client.aws_iam {
        Some(w) => format!("AWS IAM via STS GetWebIdentityToken (audience {})", w.audience),
        None => client.client_id.clone(),
    };
    let mut record = TokenFetch {
        endpoint: client.endpoint.url(),
        client_id: crate::text::truncate(&crate::text::clean(&client_id), 200),
        outcome: TokenOutcome::TimedOut,
        step: TokenStep::Dns,
        address: None,
        private: None,
        tls: None,
        tls_issuer: None,
        http_status: None,
        refusal: None,
        provider_says: None,
        detail: None,
        elapsed_ms: 0,
        claims: None,
        expires_in: None,
        aws_signing: None,
        source: if client.aws_iam.is_some() {
            crate::report::TokenSource::AwsSts
        } else {
            crate::report::TokenSource::ClientCredentials
        },
    };
    let token = match tokio::time::timeout(
        budget,
        exchange(client, resolver, tls, &asking, connect_timeout, budget, &mut record),
    )
    .await
    {
        Ok(token) => token,
        Err(_) => {
            record.outcome = TokenOutcome::TimedOut;
            record.detail = Some(format!("no token within {} ms", budget.as_millis()));
            None
        }
    };
    record.elapsed_ms = started.elapsed().as_millis() as u64;
    (record, token)
}

async fn exchange(
    client: &OAuthClient,
    resolver: &Dns,
    tls: &TlsContext,
    asking: &Asking<'_>,
    connect_timeout: Duration,
    budget: Duration,
    record: &mut TokenFetch,
) -> Option<Secret> {
    let endpoint = &client.endpoint;
    if (!endpoint.tls || !tls.verifies()) && !asking.allow_insecure {
        record.step = if endpoint.tls { TokenStep::Tls } else { TokenStep::Http };
        record.outcome = TokenOutcome::Withheld;
        record.detail = Some(if endpoint.tls {
            "the token endpoint's certificate would not be verified (--insecure): the client secret was not sent".into()
        } else {
            "the token endpoint is http://: the client secret was not sent".into()
        });
        return None;
    }
    // DNS through the run's resolver: where the client itself would resolve it.
    let addresses: Vec<IpAddr> = match endpoint.hp.host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let (lookup, ips) = dns::lookup(&endpoint.hp.host, resolver, budget).await;
            if ips.is_empty() {
                record.outcome = TokenOutcome::NotResolved;
                record.detail = Some(match lookup.outcome {
                    DnsOutcome::Nxdomain => format!("{} does not exist via {}", endpoint.hp.host, lookup.resolver),
                    DnsOutcome::Unreachable => format!("the resolver {} did not answer", lookup.resolver),
                    _ => format!(
                        "{} did not resolve via {}: {}",
                        endpoint.hp.host,
                        lookup.resolver,
                        lookup.error.as_deref().unwrap_or("no address")
                    ),
                });
                return None;
            }
            ips
        }
    };
    record.private = Some(addresses.iter().all(|ip| is_private(*ip)));
    let mut last_error = String::new();
    for ip in addresses.into_iter().take(MAX_ADDRESSES) {
        record.step = TokenStep::Tcp;
        record.address = Some(ip.to_string());
        let addr = std::net::SocketAddr::new(ip, endpoint.hp.port);
        let (tcp, stream) = crate::probe::tcp::connect(addr, connect_timeout).await;
        let Some(stream) = stream else {
            last_error = format!("TCP {}: {}", tcp.outcome.word(), tcp.error.unwrap_or_default());
            record.outcome = TokenOutcome::Unreachable;
            continue;
        };
        let (request, body) = match &client.aws_iam {
            None => {
                let body = form_body(client);
                (request_head(client, body.len()), body)
            }
            Some(w) => match sts_request(endpoint, w, asking.signer, record).await {
                Some(parts) => parts,
                None => return None,
            },
        };
        let answer = if endpoint.tls {
            record.step = TokenStep::Tls;
            let (attempt, session) =
                crate::probe::tls::handshake(tls, stream, &endpoint.hp.host, &[b"http/1.1"], budget).await;
            record.tls = Some(attempt.outcome);
            record.tls_issuer = attempt.peer_certificate.as_ref().map(|c| c.issuer.clone());
            let Some(mut session) = session else {
                record.outcome = TokenOutcome::TlsFailed;
                record.detail = Some(format!(
                    "TLS {}: {}{}",
                    attempt.outcome.word(),
                    attempt.error.unwrap_or_default(),
                    if attempt.outcome == TlsOutcome::UnknownIssuer {
                        " (clients check the token endpoint's certificate with https.ca.location)"
                    } else {
                        ""
                    }
                ));
                return None;
            };
            record.step = TokenStep::Http;
            send(&mut session, &request, &body).await
        } else {
            record.step = TokenStep::Http;
            let mut stream = stream;
            send(&mut stream, &request, &body).await
        };
        return match answer {
            Err(e) => {
                record.outcome = TokenOutcome::NoAnswer;
                record.detail = Some(format!("no HTTP answer: {e}"));
                None
            }
            Ok(bytes) if client.aws_iam.is_some() => {
                let (status, body) = http_answer(&bytes, record)?;
                let token = crate::probe::sts::read_answer(status, &String::from_utf8_lossy(&body), record)?;
                accept(token, "WebIdentityToken", record)
            }
            Ok(bytes) => read_answer(&bytes, record),
        };
    }
    record.detail = Some(last_error);
    None
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64,
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// `grant_type=client_credentials[&scope=…]`, form-encoded.
fn form_body(client: &OAuthClient) -> String {
    let mut body = form_urlencoded::Serializer::new(String::new());
    body.append_pair("grant_type", "client_credentials");
    if let Some(scope) = &client.scope {
        body.append_pair("scope", scope);
    }
    body.finish()
}

/// `application/x-www-form-urlencoded` encoding (RFC 6749 appendix B), the url crates' own.
fn form_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// AWS IAM OAuth: STS `GetWebIdentityToken`, signed with the client's AWS credentials (the
/// signer loads them, inside the fetch's budget); `None` when it cannot be signed (the record says
/// why: `no_credentials`).
async fn sts_request(
    endpoint: &crate::input::oauth::TokenEndpoint,
    w: &crate::input::oauth::AwsWebIdentity,
    signer: Option<&crate::input::IamSigner>,
    record: &mut TokenFetch,
) -> Option<(Secret, String)> {
    let host = crate::probe::https::authority(&endpoint.hp.host, endpoint.hp.port);
    let body = crate::probe::sts::body(w);
    let Some(signer) = signer else {
        record.outcome = TokenOutcome::NoCredentials;
        record.detail = Some("this build has no AWS support to sign the STS request with".into());
        return None;
    };
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let headers = [("host", host.as_str()), ("content-type", content_type)];
    match signer.0.sign_request("sts", &w.region, "POST", &endpoint.path, &headers, &body).await {
        Ok((signed, signing)) => {
            record.aws_signing = Some(signing);
            let mut head = format!(
                "POST {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: kreach/{}\r\nContent-Type: {content_type}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n",
                endpoint.path,
                env!("CARGO_PKG_VERSION"),
                body.len()
            );
            for (name, value) in &signed {
                head.push_str(&format!("{name}: {}\r\n", value.expose()));
            }
            head.push_str("\r\n");
            Some((Secret::new(head), body))
        }
        Err(signing) => {
            record.outcome = TokenOutcome::NoCredentials;
            record.aws_signing = Some(signing);
            None
        }
    }
}

/// The request head: HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1).
fn request_head(client: &OAuthClient, length: usize) -> Secret {
    let credentials = format!("{}:{}", form_encode(&client.client_id), form_encode(client.client_secret.expose()));
    let basic = base64::engine::general_purpose::STANDARD.encode(credentials);
    let host = crate::probe::https::authority(&client.endpoint.hp.host, client.endpoint.hp.port);
    Secret::new(format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: kreach/{}\r\nAuthorization: Basic {basic}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: {length}\r\n\
         Connection: close\r\n\r\n",
        client.endpoint.path,
        env!("CARGO_PKG_VERSION")
    ))
}

/// Sends the request and reads the whole answer (the server closes), at most [`MAX_ANSWER`].
async fn send<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    head: &Secret,
    body: &str,
) -> std::io::Result<Vec<u8>> {
    stream.write_all(head.expose().as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.flush().await?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            // A TLS peer that closes without close_notify has still sent its whole answer.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !buf.is_empty() => 0,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n.min(MAX_ANSWER + 1 - buf.len().min(MAX_ANSWER + 1))]);
        if buf.len() > MAX_ANSWER {
            return Ok(buf);
        }
        if complete(&buf) {
            return Ok(buf);
        }
    }
}

/// Whether `buf` holds a whole response (its head, and the body its Content-Length says).
fn complete(buf: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(head)) = response.parse(buf) else { return false };
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse::<usize>().ok());
    length.is_some_and(|l| buf.len() >= head + l)
}

/// The answer classified: a token (its claims kept, never itself), a refusal, or bytes kreach
/// cannot use.
fn read_answer(bytes: &[u8], record: &mut TokenFetch) -> Option<Secret> {
    let (status, body) = http_answer(bytes, record)?;
    let token = read_json(status, &body, record)?;
    accept(token, "access_token", record)
}

/// The answer's status and whole body (de-chunked; empty when cut); `None` (the record says why)
/// when it is too large or not HTTP.
fn http_answer(bytes: &[u8], record: &mut TokenFetch) -> Option<(u16, Vec<u8>)> {
    if bytes.len() > MAX_ANSWER {
        record.outcome = TokenOutcome::BadAnswer;
        record.detail = Some(format!("the answer is larger than {MAX_ANSWER} bytes"));
        return None;
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(bytes) {
        Ok(httparse::Status::Complete(head)) => head,
        _ => {
            record.outcome = TokenOutcome::BadAnswer;
            record.detail = Some("not an HTTP answer".into());
            return None;
        }
    };
    let status = response.code.unwrap_or(0);
    record.http_status = Some(status);
    let chunked = response.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("transfer-encoding")
            && std::str::from_utf8(h.value).is_ok_and(|v| v.to_ascii_lowercase().contains("chunked"))
    });
    let body = if chunked { dechunk(&bytes[head..]).unwrap_or_default() } else { bytes[head..].to_vec() };
    Some((status, body))
}

/// An OIDC provider's JSON answer: the `access_token`, or the refusal by its OAuth error code.
fn read_json(status: u16, body: &[u8], record: &mut TokenFetch) -> Option<String> {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    if !(200..300).contains(&status) {
        let error = json.as_ref().and_then(|j| text(j, "error"));
        let description = json.as_ref().and_then(|j| text(j, "error_description"));
        record.outcome = TokenOutcome::Refused;
        record.refusal = Some(TokenRefusal::classify(error.as_deref(), status));
        record.set_provider_says(error, description);
        return None;
    }
    record.expires_in = json.as_ref().and_then(|j| j.get("expires_in")).and_then(|v| v.as_u64());
    let token = json.as_ref().and_then(|j| text(j, "access_token"));
    if token.is_none() {
        record.outcome = TokenOutcome::BadAnswer;
        record.detail = Some(format!("HTTP {status} without an access_token"));
    }
    token
}

/// A token `what` (its field) that a SASL message can carry: not empty, at most 16 KiB, printable
/// ASCII (a JWT is); its claims kept, never itself.
fn accept(token: String, what: &str, record: &mut TokenFetch) -> Option<Secret> {
    if token.is_empty() || token.len() > 16 * 1024 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        record.outcome = TokenOutcome::BadAnswer;
        record.detail = Some(format!("the {what} is empty, too long, or has characters no bearer token carries"));
        return None;
    }
    record.claims = claims(&token);
    record.outcome = TokenOutcome::Ok;
    record.step = TokenStep::Done;
    Some(Secret::new(token))
}

/// A chunked body, whole; `None` when it is cut or malformed.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if rest.len() < size || out.len() + size > MAX_ANSWER {
            return None;
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..)?;
    }
}

/// The claims of a JWT's payload that help a diagnosis; `None` for an opaque token.
pub fn claims(token: &str) -> Option<TokenClaims> {
    let json = payload(token)?;
    let text =
        |k: &str| json.get(k).and_then(|v| v.as_str()).map(|s| crate::text::truncate(&crate::text::clean(s), 200));
    let audience = match json.get("aud") {
        Some(serde_json::Value::String(a)) => vec![crate::text::truncate(&crate::text::clean(a), 200)],
        Some(serde_json::Value::Array(list)) => list
            .iter()
            .filter_map(|a| a.as_str())
            .take(8)
            .map(|a| crate::text::truncate(&crate::text::clean(a), 200))
            .collect(),
        _ => Vec::new(),
    };
    let expires_at = json.get("exp").and_then(|v| v.as_i64()).and_then(|exp| {
        let t = time::OffsetDateTime::from_unix_timestamp(exp).ok()?;
        t.format(&time::format_description::well_known::Rfc3339).ok()
    });
    let scope = text("scope").or_else(|| match json.get("scp") {
        Some(serde_json::Value::Array(list)) => {
            Some(list.iter().filter_map(|s| s.as_str()).take(16).collect::<Vec<_>>().join(" "))
        }
        _ => text("scp"),
    });
    Some(TokenClaims { issuer: text("iss"), audience, subject: text("sub"), expires_at, scope })
}

/// A JWT's payload (its second part, base64url JSON); `None` for a token that is not one.
fn payload(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A JWT's `exp`, seconds since the epoch (the client-parity stage tells librdkafka the token's
/// lifetime with it).
pub fn expires_unix(token: &str) -> Option<i64> {
    payload(token)?.get("exp")?.as_i64()
}

/// The SASL OAUTHBEARER initial client response: `n,,^Aauth=Bearer TOKEN^A` then each extension
/// `key=value^A`, then `^A` (RFC 7628 §3.1, KIP-342).
pub fn initial_response(token: &Secret, extensions: &[(String, String)]) -> Secret {
    let mut message = format!("n,,\u{1}auth=Bearer {}\u{1}", token.expose());
    for (k, v) in extensions {
        message.push_str(&format!("{k}={v}\u{1}"));
    }
    message.push('\u{1}');
    Secret::new(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_initial_response_is_rfc_7628s() {
        let r = initial_response(&Secret::new("abc.def.ghi"), &[("logicalCluster".into(), "lkc-1".into())]);
        assert_eq!(r.expose(), "n,,\u{1}auth=Bearer abc.def.ghi\u{1}logicalCluster=lkc-1\u{1}\u{1}");
    }

    #[test]
    fn claims_come_from_a_jwt_and_never_from_an_opaque_token() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"iss":"https://idp","aud":["kafka","x"],"sub":"client-1","exp":2000000000,"scope":"a b"}"#);
        let c = claims(&format!("eyJhbGciOiJSUzI1NiJ9.{payload}.sig")).expect("claims");
        assert_eq!(c.issuer.as_deref(), Some("https://idp"));
        assert_eq!(c.audience, ["kafka", "x"]);
        assert_eq!(c.expires_at.as_deref(), Some("2033-05-18T03:33:20Z"));
        assert_eq!(claims("opaque-token"), None);
    }

    #[test]
    fn answers_are_read_by_status_and_code() {
        let mut record = TokenFetch {
            endpoint: String::new(),
            client_id: String::new(),
            outcome: TokenOutcome::TimedOut,
            step: TokenStep::Http,
            address: None,
            private: None,
            tls: None,
            tls_issuer: None,
            http_status: None,
            refusal: None,
            provider_says: None,
            detail: None,
            elapsed_ms: 0,
            claims: None,
            expires_in: None,
            aws_signing: None,
            source: crate::report::TokenSource::ClientCredentials,
        };
        let refused = b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 61\r\n\r\n{\"error\":\"invalid_client\",\"error_description\":\"bad secret\"}\n\n";
        assert!(read_answer(refused, &mut record).is_none());
        assert_eq!((record.outcome, record.refusal), (TokenOutcome::Refused, Some(TokenRefusal::InvalidClient)));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1e\r\n{\"access_token\":\"t.o.k\",\"x\":1}\r\n0\r\n\r\n";
        let token = read_answer(chunked, &mut record).expect("token");
        assert_eq!((token.expose(), record.outcome), ("t.o.k", TokenOutcome::Ok));
        let not_json = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert!(read_answer(not_json, &mut record).is_none());
        assert_eq!(record.outcome, TokenOutcome::BadAnswer);
    }
}

//! HTTPS stage: one HTTP/1.1 request over the TLS session of the HTTPS port.
//! Any well-formed response (401 is normal without credentials) proves the REST path.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::probe::tls::TlsSession;
use crate::report::{HttpsAttempt, HttpsOutcome};

/// The path requested: Confluent's REST API, answered 401 without credentials.
pub const DEFAULT_PATH: &str = "/kafka/v3/clusters";
/// Most bytes read while looking for the end of the response head.
const MAX_HEAD: usize = 16 * 1024;

/// Whether `text` may stand in a request line or a Host header: visible ASCII only (RFC 9112's
/// request-target has no spaces or control characters; anything else is percent-encoded).
pub(crate) fn is_request_target(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic())
}

/// Sends `GET path` for `host` and reads the response head, within `budget`.
pub async fn request(mut session: TlsSession, host: &str, port: u16, path: &str, budget: Duration) -> HttpsAttempt {
    let started = Instant::now();
    let mut attempt = HttpsAttempt {
        outcome: HttpsOutcome::Closed,
        elapsed_ms: 0,
        path: path.to_string(),
        status_code: None,
        server: None,
        error: None,
        tls_alert: None,
    };
    // A library caller may hand any text: a path or host that could end the request line or add
    // a header is never sent (the parsers refuse them; this is the last line of defence).
    if !is_request_target(path) || !is_request_target(host) {
        attempt.error = Some("the path or host has spaces or control characters: not sent".into());
        return attempt;
    }
    // RFC 9110: the port goes in Host unless it is the scheme's default.
    let authority = authority(host, port);
    let exchange = async {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: kreach/{}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        session.write_all(req.as_bytes()).await?;
        session.flush().await?;
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 2048];
        loop {
            let n = session.read(&mut chunk).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(buf);
            }
            // Look for the end of the head only where it can be: in the new bytes and the 3 before.
            let from = buf.len().saturating_sub(3);
            buf.extend_from_slice(&chunk[..n]);
            if buf[from..].windows(4).any(|w| w == b"\r\n\r\n") || buf.len() >= MAX_HEAD {
                buf.truncate(MAX_HEAD);
                return Ok(buf);
            }
        }
    };
    let result = tokio::time::timeout(budget, exchange).await;
    attempt.elapsed_ms = started.elapsed().as_millis() as u64;
    let bytes = match result {
        Err(_) => {
            attempt.outcome = HttpsOutcome::Timeout;
            attempt.error = Some(format!("no HTTP response within {} ms", budget.as_millis()));
            return attempt;
        }
        Ok(Err(e)) => {
            attempt.tls_alert = crate::report::TlsAlert::of_io(&e);
            attempt.error = Some(e.to_string());
            return attempt;
        }
        Ok(Ok(bytes)) => bytes,
    };
    if bytes.is_empty() {
        attempt.error = Some("the server closed the connection without a response".into());
        return attempt;
    }
    let head = parse_head(&bytes);
    attempt.outcome = head.outcome;
    attempt.status_code = head.status_code;
    attempt.server = head.server;
    attempt.error = head.error;
    attempt
}

/// What a response head says.
pub(crate) struct Head {
    pub outcome: HttpsOutcome,
    pub status_code: Option<u16>,
    pub server: Option<String>,
    pub error: Option<String>,
}

/// Most characters kept of a `Server` header.
const MAX_SERVER: usize = 256;

/// Parses the bytes of a response head (at most [`MAX_HEAD`] of them are ever passed).
pub(crate) fn parse_head(bytes: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let mut head = Head { outcome: HttpsOutcome::Malformed, status_code: None, server: None, error: None };
    match response.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => {
            head.outcome = HttpsOutcome::Response;
            head.status_code = response.code;
            head.server = response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("server"))
                .map(|h| String::from_utf8_lossy(h.value).chars().take(MAX_SERVER).collect());
        }
        Ok(httparse::Status::Partial) => {
            head.error = Some(format!("incomplete HTTP response head after {} bytes", bytes.len()));
        }
        Err(e) => head.error = Some(format!("not an HTTP response: {e}")),
    }
    head
}

/// The `Host` header's value: an IPv6 literal goes in brackets, and the port goes in unless it is
/// HTTPS's default (RFC 9110).
pub(crate) fn authority(host: &str, port: u16) -> String {
    let host = if host.contains(':') { format!("[{host}]") } else { host.to_string() };
    if port == 443 { host } else { format!("{host}:{port}") }
}

#[cfg(test)]
mod tests {
    use super::authority;

    #[test]
    fn host_header_brackets_ipv6_and_names_other_ports() {
        assert_eq!(authority("rest.example.com", 443), "rest.example.com");
        assert_eq!(authority("rest.example.com", 8443), "rest.example.com:8443");
        assert_eq!(authority("::1", 443), "[::1]");
        assert_eq!(authority("fd00::5", 8443), "[fd00::5]:8443");
    }
}

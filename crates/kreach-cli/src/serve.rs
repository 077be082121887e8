//! `kreach serve`: a blackbox-exporter-style prober. `GET /probe?bootstrap=HOST:PORT` runs a
//! check of that cluster with the server's own configuration (its properties file, CA, resolvers:
//! never anything from the URL but the target and a shorter timeout) and answers the Prometheus
//! exposition (docs/metrics.md). Bounded: a cap on probes at once, the same deadline as a check
//! (shortened to Prometheus's scrape timeout), a cap on the request's size; one request per
//! connection.
//!
//! The HTTP/1.1 server is written here on tokio and httparse (already kreach's own request parser)
//! so that the lab build, which has no HTTP server crate, builds nothing more.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use kreach::{CheckConfig, HostPort};

/// Largest request head read.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// What is left of Prometheus's scrape timeout for the answer to travel.
const SCRAPE_MARGIN: Duration = Duration::from_millis(500);
/// Most connections held at once (probes waiting for a slot included).
const MAX_CONNECTIONS: usize = 256;

/// What the server was started with.
pub(crate) struct Server {
    /// The check, validated once at start (its properties and CA files read then, not per
    /// scrape); each probe sets its own bootstrap and deadline on a copy.
    pub(crate) base: CheckConfig,
    /// Probes that may run at once.
    pub(crate) max_concurrent: usize,
    /// Host suffixes a probe may name besides the configured bootstrap's domain.
    pub(crate) allow_targets: Vec<String>,
    /// The configured bootstrap hosts, the default target (their domains may be probed).
    pub(crate) configured: Vec<HostPort>,
}

/// Serves until the listener fails. Connections are tasks of the current thread's `LocalSet`
/// (a diagnosis's future is not `Send`); the probes are I/O, so one thread drives them all.
pub(crate) async fn serve(listener: TcpListener, server: Server) -> std::io::Result<()> {
    let server = Arc::new(server);
    let probes = Arc::new(Semaphore::new(server.max_concurrent.max(1)));
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, _) = listener.accept().await?;
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let (server, probes) = (server.clone(), probes.clone());
        tokio::task::spawn_local(async move {
            let _permit = permit;
            connection(stream, &server, &probes).await;
        });
    }
}

/// A response: status line, content type, body.
struct Answer {
    status: &'static str,
    content_type: &'static str,
    body: String,
}

impl Answer {
    fn text(status: &'static str, body: impl Into<String>) -> Answer {
        Answer { status, content_type: "text/plain; charset=utf-8", body: body.into() }
    }
}

async fn connection(mut stream: TcpStream, server: &Server, probes: &Arc<Semaphore>) {
    let head = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await {
        Ok(Some(head)) => head,
        Ok(None) => {
            let _ = write(&mut stream, Answer::text("400 Bad Request", "malformed or oversized request\n")).await;
            return;
        }
        Err(_) => return,
    };
    let answer = answer(&head, server, probes).await;
    let _ = write(&mut stream, answer).await;
}

/// The request head, up to the blank line (at most [`MAX_HEAD`] bytes); `None` when it is not
/// HTTP or too long.
async fn read_head(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => {
                let scrape_timeout = req
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("x-prometheus-scrape-timeout-seconds"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse::<f64>().ok());
                return Some(Request { method: req.method?.to_string(), path: req.path?.to_string(), scrape_timeout });
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            _ => return None,
        }
    }
}

struct Request {
    method: String,
    path: String,
    scrape_timeout: Option<f64>,
}

async fn write(stream: &mut TcpStream, a: Answer) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        a.status,
        a.content_type,
        a.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(a.body.as_bytes()).await?;
    stream.shutdown().await
}

/// Percent-decoding of a query value (`+` is a space).
fn decode(v: &str) -> Option<String> {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

async fn answer(req: &Request, server: &Server, probes: &Arc<Semaphore>) -> Answer {
    if req.method != "GET" {
        return Answer::text("405 Method Not Allowed", "only GET\n");
    }
    let (path, query) = req.path.split_once('?').unwrap_or((req.path.as_str(), ""));
    match path {
        "/" => Answer {
            status: "200 OK",
            content_type: "text/html; charset=utf-8",
            body: "<!doctype html><title>kreach</title><p>kreach serve: <code>/probe?bootstrap=HOST:PORT</code> \
                   answers the Prometheus exposition of a check of that cluster (docs/metrics.md).</p>\n"
                .into(),
        },
        "/healthz" => Answer::text("200 OK", "ok\n"),
        "/probe" => probe(query, req.scrape_timeout, server, probes).await,
        _ => Answer::text("404 Not Found", "not found: try /probe?bootstrap=HOST:PORT\n"),
    }
}

/// Whether `host` is one the server may probe: a configured bootstrap host or a name in its
/// domain (the first label dropped), or one under an `--allow-target` suffix. With neither
/// configured and no credentials to protect, any host.
fn allowed(host: &str, server: &Server) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let under = |suffix: &str| {
        let suffix = suffix.trim_start_matches("*.").trim_start_matches('.').trim_end_matches('.').to_ascii_lowercase();
        host == suffix || host.ends_with(&format!(".{suffix}"))
    };
    if server.allow_targets.iter().any(|s| under(s)) {
        return true;
    }
    for b in &server.configured {
        let b_host = b.host.to_ascii_lowercase();
        if host == b_host {
            return true;
        }
        // An address has no domain: only itself.
        if b_host.parse::<std::net::IpAddr>().is_ok() {
            continue;
        }
        if let Some((_, domain)) = b_host.split_once('.').filter(|(_, d)| d.contains('.')) {
            if under(domain) {
                return true;
            }
        }
    }
    server.configured.is_empty() && server.allow_targets.is_empty() && !server.base.has_credentials()
}

async fn probe(query: &str, scrape_timeout: Option<f64>, server: &Server, probes: &Arc<Semaphore>) -> Answer {
    let mut bootstrap: Option<String> = None;
    let mut timeout: Option<f64> = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(v) = decode(v) else {
            return Answer::text("400 Bad Request", format!("query parameter {k}: not percent-encoded UTF-8\n"));
        };
        match k {
            "bootstrap" | "target" => bootstrap = Some(v),
            "timeout" => match v.parse::<f64>() {
                Ok(t) if t.is_finite() && t > 0.0 => timeout = Some(t),
                _ => return Answer::text("400 Bad Request", "query parameter timeout: seconds, a positive number\n"),
            },
            other => {
                let shown: String = kreach::render::clean(other).chars().take(64).collect();
                return Answer::text(
                    "400 Bad Request",
                    format!(
                        "unknown query parameter `{shown}`: /probe takes bootstrap and timeout only (credentials and \
                         every other setting come from the server's own configuration)\n"
                    ),
                );
            }
        }
    }
    let mut config = server.base.clone();
    if let Some(b) = bootstrap {
        let hp = match HostPort::parse(&b, kreach::DEFAULT_KAFKA_PORT) {
            Ok(hp) => hp,
            Err(e) => return Answer::text("400 Bad Request", format!("query parameter bootstrap: {e}\n")),
        };
        if !allowed(&hp.host, server) {
            return Answer::text(
                "403 Forbidden",
                format!(
                    "bootstrap {}: not a host this server may probe (the configured bootstrap's domain, or an \
                     --allow-target suffix): its credentials go only where its configuration points\n",
                    kreach::render::clean(&hp.to_string())
                ),
            );
        }
        config.bootstrap = vec![hp];
    } else if server.configured.is_empty() {
        return Answer::text(
            "400 Bad Request",
            "query parameter bootstrap: required (the server was started without --bootstrap)\n",
        );
    }
    // The run's deadline: the server's, or less when the scraper or the URL asks for less.
    let scrape = scrape_timeout.map(|s| (s - SCRAPE_MARGIN.as_secs_f64()).max(0.5));
    let secs =
        [Some(config.timeout.as_secs_f64()), timeout, scrape].into_iter().flatten().fold(f64::INFINITY, f64::min);
    let wait = Duration::from_secs_f64(secs);
    let config = config.with_timeout(wait);
    let Ok(Ok(_slot)) = tokio::time::timeout(wait, probes.clone().acquire_owned()).await else {
        return Answer::text("503 Service Unavailable", "every probe slot is busy (--max-concurrent)\n");
    };
    match kreach::run(&config).await {
        Ok(report) => Answer {
            status: "200 OK",
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body: kreach::render::prometheus(&report),
        },
        Err(e) => Answer::text("500 Internal Server Error", format!("{}\n", kreach::render::clean(&e.to_string()))),
    }
}

/// Parses `--listen`.
pub(crate) fn listen_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("invalid --listen `{}`: ADDR:PORT, e.g. 127.0.0.1:9577", kreach::render::clean(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(configured: &[&str], allow: &[&str], credentials: bool) -> Server {
        let mut options = kreach::CheckOptions::default();
        options.bootstrap = Some("bootstrap.invalid:9092".into());
        let env = |k: &str| match (k, credentials) {
            ("KREACH_SASL_USERNAME", true) => Some("user".to_string()),
            ("KREACH_SASL_PASSWORD", true) => Some("secret".to_string()),
            _ => None,
        };
        if credentials {
            options.security_protocol = Some("SASL_SSL".into());
        }
        let base = options.validate(&env).expect("config");
        assert_eq!(base.has_credentials(), credentials);
        Server {
            base,
            max_concurrent: 1,
            allow_targets: allow.iter().map(|s| s.to_string()).collect(),
            configured: configured.iter().map(|b| HostPort::parse(b, 9092).expect("hp")).collect(),
        }
    }

    /// The configured bootstrap's domain and the allowed suffixes may be probed, nothing else;
    /// an open server (nothing configured) only when it has no credentials to give away.
    #[test]
    fn only_the_configured_domain_or_an_allowed_suffix_is_probed() {
        let s = server(&["lkc-1.abc.us-west-2.aws.confluent.cloud:9092"], &["corp.example"], true);
        assert!(allowed("lkc-1.abc.us-west-2.aws.confluent.cloud", &s));
        assert!(allowed("e-0001.usw2-az1.abc.us-west-2.aws.confluent.cloud", &s));
        assert!(allowed("kafka.corp.example", &s));
        assert!(!allowed("lkc-2.other.us-west-2.aws.confluent.cloud", &s), "another network");
        assert!(!allowed("evil.example", &s));
        assert!(!allowed("xcorp.example", &s));
        let by_address = server(&["10.0.0.1:9092"], &[], true);
        assert!(allowed("10.0.0.1", &by_address));
        assert!(!allowed("192.0.0.1", &by_address), "an address is no domain");
        assert!(allowed("anything.example", &server(&[], &[], false)));
        assert!(!allowed("anything.example", &server(&[], &[], true)));
        assert_eq!(decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(decode("%zz"), None);
        assert_eq!(decode("%e2%28%a1"), None, "not UTF-8");
    }
}

//! `kreach serve`: a blackbox-exporter-style prober. `GET /probe?bootstrap=HOST:PORT` runs a
//! check of that cluster with the server's own configuration (its properties file, CA, resolvers:
//! never anything from the URL but the target and a shorter timeout) and answers the Prometheus
//! exposition (docs/metrics.md).
//!
//! Where a probe may go: the configured bootstrap (the default target), with the server's
//! credentials; an `--allow-target` entry ([`kreach::HostPattern`]: a host, or `*.domain` for the
//! names below a domain that is the configured cluster's own or below it), **without**
//! credentials, and the report says so; nothing else (403 before any packet). With neither a
//! bootstrap nor an allow-list, and no credentials to protect, any target.
//!
//! Bounded: hyper's HTTP/1.1 server reads a request head within [`HEAD_TIMEOUT`] and at most
//! [`MAX_HEAD`] bytes; every write must progress within [`WRITE_TIMEOUT`]; a scrape's deadline
//! (the server's `--timeout`, the URL's `timeout`, Prometheus's scrape timeout) covers both the
//! wait for a probe slot and the probe; a client that goes away cancels its probe; at most
//! [`MAX_CONNECTIONS`] connections at once.

use std::io::Write;
use std::process::ExitCode;

use crate::cli::*;
use crate::cmd::*;
use crate::output::*;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use kreach::{CheckConfig, HostPattern, HostPort};

/// Largest request head read (hyper's smallest read buffer).
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send a request head (also how long an idle keep-alive
/// connection is kept).
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one write may wait for the client to read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// What is left of Prometheus's scrape timeout for the answer to travel.
const SCRAPE_MARGIN: Duration = Duration::from_millis(500);
/// Least time worth starting a probe with: a scrape whose deadline leaves less gets a 503.
const MIN_PROBE: Duration = Duration::from_millis(200);
/// Most connections held at once: beyond it a new one is closed at once.
const MAX_CONNECTIONS: usize = 1024;
/// Most scrapes waiting for a probe slot: beyond it a scrape gets a 503 at once, so waiting
/// scrapes can never hold every connection (`/healthz` still answers).
const MAX_WAITING: usize = 256;
/// Most probes `--max-concurrent` may allow at once.
pub(crate) const MAX_PROBES: usize = 1024;

/// What the server was started with.
pub(crate) struct Server {
    /// The check, validated once at start (its properties and CA files read then, not per
    /// scrape); each probe sets its own bootstrap and deadline on a copy.
    pub(crate) base: CheckConfig,
    /// Probes that may run at once (1..=[`MAX_PROBES`], checked at start).
    pub(crate) max_concurrent: usize,
    /// Other targets a probe may name (run without credentials), checked at start.
    pub(crate) allow: Vec<HostPattern>,
    /// The configured bootstrap hosts, the default target: the only ones the credentials go to.
    pub(crate) configured: Vec<HostPort>,
    /// Scrapes waiting for a slot now.
    pub(crate) waiting: std::sync::atomic::AtomicUsize,
}

/// What a probe of a target may do.
#[derive(Debug, PartialEq, Eq)]
enum Scope {
    /// The configured bootstrap: the server's whole configuration, credentials included.
    Configured,
    /// An allowed other target: probed, credentials withheld (the report says why).
    WithoutCredentials(String),
    /// Not a target this server may probe.
    Refused,
}

impl Server {
    /// The allow-list entries, validated against the configured cluster's domain: a suffix must
    /// be that domain or below it, never a public suffix or a provider's shared domain.
    pub(crate) fn allow_list(
        entries: &[String],
        configured: &[HostPort],
        dns_domain: Option<&str>,
    ) -> Result<Vec<HostPattern>, String> {
        let cluster = configured.first().and_then(|b| kreach::scope::cluster_domain(dns_domain, &b.host, &[]));
        entries
            .iter()
            .map(|e| {
                let p = HostPattern::parse(e).map_err(|why| format!("invalid --allow-target: {why}"))?;
                match p.refusal(cluster.as_deref()) {
                    Some(why) => Err(format!("invalid --allow-target: {why}")),
                    None => Ok(p),
                }
            })
            .collect()
    }

    fn scope(&self, hp: &HostPort) -> Scope {
        let host = hp.host.trim_end_matches('.');
        if self.configured.iter().any(|c| c.host.eq_ignore_ascii_case(host) && c.port == hp.port) {
            return Scope::Configured;
        }
        // Nothing configured and nothing to protect: an open prober, as the blackbox exporter is.
        if self.configured.is_empty() && self.allow.is_empty() && !self.base.has_credentials() {
            return Scope::Configured;
        }
        if self.allow.iter().any(|p| p.matches(hp)) {
            return Scope::WithoutCredentials(
                "kreach serve sends its credentials only to its configured bootstrap; this probe's target is another \
                 one (--allow-target)"
                    .into(),
            );
        }
        Scope::Refused
    }
}

/// Serves until the listener fails. Connections are tasks of the current thread's `LocalSet`
/// (a diagnosis's future is not `Send`); the probes are I/O, so one thread drives them all.
pub(crate) async fn serve(listener: TcpListener, server: Server) -> std::io::Result<()> {
    let server = Arc::new(server);
    let probes = Arc::new(Semaphore::new(server.max_concurrent.clamp(1, MAX_PROBES)));
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
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (server, probes) = (server.clone(), probes.clone());
                async move { Ok::<_, Infallible>(answer(&req, &server, &probes).await.into_response()) }
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new()).header_read_timeout(HEAD_TIMEOUT).max_buf_size(MAX_HEAD).max_headers(32);
            // A client that goes away ends the connection, and hyper drops the probe with it.
            let _ = http.serve_connection(TokioIo::new(WriteDeadline::new(stream, WRITE_TIMEOUT)), service).await;
        });
    }
}

/// A stream whose writes fail once one has waited [`WRITE_TIMEOUT`] for the client to read: a
/// scraper that never reads loses its connection instead of holding it.
struct WriteDeadline<S> {
    inner: S,
    limit: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteDeadline<S> {
    fn new(inner: S, limit: Duration) -> Self {
        WriteDeadline { inner, limit, stalled: None }
    }

    /// `result` of a write: pending arms the clock (or fails when it ran out), ready disarms it.
    fn watch<T>(&mut self, cx: &mut Context<'_>, result: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        match result {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let limit = self.limit;
                let clock = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match clock.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client did not read the answer",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, result)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, result)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, result)
    }
}

use std::future::Future as _;

/// A response: status, content type, body.
struct Answer {
    status: StatusCode,
    content_type: &'static str,
    body: String,
}

impl Answer {
    fn text(status: StatusCode, body: impl Into<String>) -> Answer {
        Answer { status, content_type: "text/plain; charset=utf-8", body: body.into() }
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from(self.body)));
        *response.status_mut() = self.status;
        if let Ok(v) = hyper::header::HeaderValue::from_str(self.content_type) {
            response.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
        }
        response
    }
}

async fn answer(req: &Request<Incoming>, server: &Server, probes: &Arc<Semaphore>) -> Answer {
    // The scrape's clock starts when its request has arrived.
    let arrived = Instant::now();
    if req.method() != hyper::Method::GET {
        return Answer::text(StatusCode::METHOD_NOT_ALLOWED, "only GET\n");
    }
    match req.uri().path() {
        "/" => Answer {
            status: StatusCode::OK,
            content_type: "text/html; charset=utf-8",
            body: "<!doctype html><title>kreach</title><p>kreach serve: <code>/probe?bootstrap=HOST:PORT</code> \
                   answers the Prometheus exposition of a check of that cluster (docs/metrics.md).</p>\n"
                .into(),
        },
        "/healthz" => Answer::text(StatusCode::OK, "ok\n"),
        "/probe" => {
            let scrape_timeout = req
                .headers()
                .get("x-prometheus-scrape-timeout-seconds")
                .and_then(|v| v.to_str().ok()?.trim().parse::<f64>().ok())
                .filter(|t| t.is_finite() && *t > 0.0);
            probe(req.uri().query().unwrap_or(""), scrape_timeout, arrived, server, probes).await
        }
        _ => Answer::text(StatusCode::NOT_FOUND, "not found: try /probe?bootstrap=HOST:PORT\n"),
    }
}

/// A query parameter's name, when it looks like one (shown in an error); anything else could be a
/// value in the wrong place (a `user:password@host`) and is never repeated.
fn shown_name(name: &str) -> Option<&str> {
    (name.len() <= 64
        && !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    .then_some(name)
}

async fn probe(
    query: &str,
    scrape_timeout: Option<f64>,
    arrived: Instant,
    server: &Server,
    probes: &Arc<Semaphore>,
) -> Answer {
    let bad = |text: String| Answer::text(StatusCode::BAD_REQUEST, text);
    let mut bootstrap: Option<String> = None;
    let mut timeout: Option<f64> = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "bootstrap" | "target" => bootstrap = Some(v.into_owned()),
            "timeout" => match v.parse::<f64>() {
                Ok(t) if t.is_finite() && t > 0.0 => timeout = Some(t),
                _ => return bad("query parameter timeout: seconds, a positive number\n".into()),
            },
            other => {
                let which = shown_name(other).map(|n| format!(" `{n}`")).unwrap_or_default();
                return bad(format!(
                    "unknown query parameter{which}: /probe takes bootstrap and timeout only (credentials and every \
                     other setting come from the server's own configuration)\n"
                ));
            }
        }
    }
    let mut config = server.base.clone();
    match bootstrap {
        Some(b) => {
            // Never echoed: a bootstrap could carry `user:password@`.
            let Ok(hp) = HostPort::parse(&b, kreach::DEFAULT_KAFKA_PORT) else {
                return bad("query parameter bootstrap: not HOST:PORT (a host name or address and a port)\n".into());
            };
            match server.scope(&hp) {
                Scope::Configured => {}
                Scope::WithoutCredentials(why) => config.withhold_credentials = Some(why),
                Scope::Refused => {
                    return Answer::text(
                        StatusCode::FORBIDDEN,
                        "query parameter bootstrap: not a host this server may probe (its configured bootstrap, or an \
                         --allow-target entry): its credentials go only where its configuration points\n",
                    );
                }
            }
            config.bootstrap = vec![hp];
        }
        None if server.configured.is_empty() => {
            return bad("query parameter bootstrap: required (the server was started without --bootstrap)\n".into());
        }
        None => {}
    }
    // One deadline for the wait and the probe: the server's, or less when the scraper or the URL
    // asks for less, counted from the request's arrival.
    let scrape = scrape_timeout.map(|s| (s - SCRAPE_MARGIN.as_secs_f64()).max(0.5));
    let secs =
        [Some(config.timeout.as_secs_f64()), timeout, scrape].into_iter().flatten().fold(f64::INFINITY, f64::min);
    let deadline = arrived + Duration::from_secs_f64(secs);
    let busy = || {
        Answer::text(
            StatusCode::SERVICE_UNAVAILABLE,
            "every probe slot stayed busy until the scrape's deadline (--max-concurrent)\n",
        )
    };
    let slot = {
        use std::sync::atomic::Ordering;
        if server.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            server.waiting.fetch_sub(1, Ordering::SeqCst);
            return busy();
        }
        let slot = tokio::time::timeout_at(deadline.into(), probes.clone().acquire_owned()).await;
        server.waiting.fetch_sub(1, Ordering::SeqCst);
        slot
    };
    let Ok(Ok(_slot)) = slot else {
        return busy();
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left < MIN_PROBE {
        return busy();
    }
    match kreach::run(&config.with_timeout(left)).await {
        Ok(report) => Answer {
            status: StatusCode::OK,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body: kreach::render::prometheus(&report),
        },
        Err(e) => Answer::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the check could not run: {}\n", kreach::render::clean(&e.to_string())),
        ),
    }
}

/// Parses `--listen`.
pub(crate) fn listen_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("invalid --listen `{}`: ADDR:PORT, e.g. 127.0.0.1:9577", kreach::render::clean(text)))
}

/// `kreach serve`: validates the configuration once, then serves probes.
pub(crate) async fn serve_cmd(args: ServeArgs) -> Outcome {
    // Flags a scrape would never use are refused, not silently taken.
    let c = &args.check;
    let unused = [
        (c.via_function.is_some(), "--via-function"),
        (c.watch.is_some(), "--watch"),
        (c.sasl_secret.is_some(), "--sasl-secret (or KREACH_SASL_SECRET)"),
        (c.lambda.event_source_mapping.is_some(), "--event-source-mapping"),
        (c.lambda.event_source_mapping_file.is_some(), "--event-source-mapping-file"),
        (c.lambda.sink_connector_principal.is_some(), "--sink-connector-principal"),
        (c.lambda.lambda_function.is_some(), "--lambda-function"),
        (c.aws.aws, "--aws"),
        (c.aws.vpc_endpoint.is_some(), "--vpc-endpoint"),
        (c.aws.vpc_id.is_some(), "--vpc-id"),
        (c.aws.endpoint_service.is_some(), "--endpoint-service"),
    ];
    if let Some((_, flag)) = unused.iter().find(|(given, _)| *given) {
        return Err(CliError::usage(format!(
            "invalid kreach serve: {flag} does not apply (each scrape is one check with the server's own \
                 configuration: credentials from the --config file or KREACH_SASL_USERNAME/KREACH_SASL_PASSWORD; no AWS \
                 audit, no event source mapping)"
        )));
    }
    if !(1..=MAX_PROBES).contains(&args.max_concurrent) {
        return Err(CliError::usage(format!(
            "invalid --max-concurrent {}: between 1 and {}",
            args.max_concurrent, MAX_PROBES
        )));
    }
    let addr = listen_addr(&args.listen)?;
    let dns_domain = args.check.aws.dns_domain.clone();
    let options = options(args.check)?;
    // Bad input is refused at start, not on the first scrape; the files are read once, here. A
    // bootstrap is optional (each probe may name one): without one the rest is validated with a
    // stand-in that is never probed.
    let env = |k: &str| std::env::var(k).ok();
    let (base, configured) = match options.validate(&env) {
        Ok(c) => {
            let configured = c.bootstrap.clone();
            (c, configured)
        }
        Err(_) if options.bootstrap.is_none() => {
            let mut stand_in = options.clone();
            stand_in.bootstrap = Some("bootstrap.invalid:9092".into());
            match stand_in.validate(&env) {
                Ok(c) => (c, Vec::new()),
                Err(e) => return Err(CliError::usage(e.to_string())),
            }
        }
        Err(e) => return Err(CliError::usage(e.to_string())),
    };
    let allow = Server::allow_list(&args.allow_target, &configured, dns_domain.as_deref())?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::failed(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| addr.to_string());
    let _ = writeln!(std::io::stderr(), "kreach serve: listening on http://{bound}/probe?bootstrap=HOST:PORT");
    let server = Server { base, max_concurrent: args.max_concurrent, allow, configured, waiting: Default::default() };
    let local = tokio::task::LocalSet::new();
    let served = local.run_until(serve(listener, server));
    tokio::select! {
        result = served => match result {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => Err(CliError::failed(format!("kreach serve stopped: {e}"))),
        },
        _ = tokio::signal::ctrl_c() => Ok(ExitCode::SUCCESS),
    }
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
        let configured: Vec<HostPort> = configured.iter().map(|b| HostPort::parse(b, 9092).expect("hp")).collect();
        let entries: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
        let allow = Server::allow_list(&entries, &configured, None).expect("allow list");
        Server { base, max_concurrent: 1, allow, configured, waiting: Default::default() }
    }

    /// A write the client never reads fails after the limit instead of waiting for ever.
    #[tokio::test]
    async fn a_write_nobody_reads_fails_after_the_limit() {
        use tokio::io::AsyncWriteExt;
        let (near, _far) = tokio::io::duplex(64);
        let mut stream = WriteDeadline::new(near, Duration::from_millis(200));
        let started = Instant::now();
        let result = tokio::time::timeout(Duration::from_secs(5), stream.write_all(&[0u8; 4096])).await;
        let error = result.expect("ended by its own limit").expect_err("nobody read");
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(200));
        // A reader that reads lets the same write finish.
        let (near, mut far) = tokio::io::duplex(64);
        let mut stream = WriteDeadline::new(near, Duration::from_millis(200));
        let reader = tokio::spawn(async move {
            let mut sink = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut far, &mut sink).await.map(|_| sink.len())
        });
        stream.write_all(&[0u8; 4096]).await.expect("read as it goes");
        stream.shutdown().await.expect("shutdown");
        drop(stream);
        assert_eq!(reader.await.expect("join").expect("read"), 4096);
    }

    fn hp(s: &str) -> HostPort {
        HostPort::parse(s, 9092).expect("hp")
    }

    /// Only the configured bootstrap gets the credentials; an allowed target is probed without
    /// them; anything else, a name of the same region or the bootstrap's last labels included, is
    /// refused; an open server (nothing configured) only when it has no credentials to give away.
    #[test]
    fn credentials_go_only_to_the_configured_bootstrap() {
        let s = server(
            &["lkc-1.abc.us-west-2.aws.confluent.cloud:9092"],
            &["*.usw2-az1.abc.us-west-2.aws.confluent.cloud"],
            true,
        );
        assert_eq!(s.scope(&hp("LKC-1.abc.us-west-2.aws.confluent.cloud:9092")), Scope::Configured);
        assert!(matches!(
            s.scope(&hp("b1.usw2-az1.abc.us-west-2.aws.confluent.cloud:9092")),
            Scope::WithoutCredentials(_)
        ));
        assert_eq!(s.scope(&hp("lkc-1.abc.us-west-2.aws.confluent.cloud:9093")), Scope::Refused, "another port");
        assert_eq!(s.scope(&hp("e-0001.abc.us-west-2.aws.confluent.cloud:9092")), Scope::Refused, "not allowed");
        assert_eq!(s.scope(&hp("lkc-2.other.us-west-2.aws.confluent.cloud:9092")), Scope::Refused, "another network");
        let ec2 = server(&["ip-127-0-0-1.ec2.internal:9092"], &[], true);
        assert_eq!(ec2.scope(&hp("ip-127-0-0-2.ec2.internal:9092")), Scope::Refused);
        let by_address = server(&["10.0.0.1:9092"], &[], true);
        assert_eq!(by_address.scope(&hp("10.0.0.1:9092")), Scope::Configured);
        assert_eq!(by_address.scope(&hp("192.0.0.1:9092")), Scope::Refused);
        assert_eq!(server(&[], &[], false).scope(&hp("anything.example:9092")), Scope::Configured);
        assert_eq!(server(&[], &[], true).scope(&hp("anything.example:9092")), Scope::Refused);
    }

    #[test]
    fn an_allow_list_opens_no_shared_suffix() {
        let configured = [hp("lkc-1.abc.us-west-2.aws.confluent.cloud:9092")];
        for refused in ["*.us-west-2.aws.confluent.cloud", "*.co.uk", "*.other.us-west-2.aws.confluent.cloud", "*.com"]
        {
            let e = Server::allow_list(&[refused.to_string()], &configured, None).expect_err(refused);
            assert!(e.starts_with("invalid --allow-target"), "{e}");
        }
        assert!(Server::allow_list(&["*.co.uk".into()], &[], None).is_err(), "no cluster: still no public suffix");
        assert!(Server::allow_list(&["*.kafka.corp.example".into()], &[], None).is_ok());
        assert_eq!(shown_name("sasl.password"), Some("sasl.password"));
        assert_eq!(shown_name("user:pw@host:9092"), None);
    }
}

//! Peers that misbehave: silent, closing, flooding. Each gives a finding within the deadline,
//! never a hang, a panic or an `Err`.

use std::net::SocketAddr;
use std::time::Duration;

use kreach::{CheckConfig, FindingCode, HostPort, Report, SecurityProtocol, Severity};
use kreach_lab::{Ca, Validity, server_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

fn config(addr: SocketAddr, https: bool, timeout: Duration) -> CheckConfig {
    let hp = HostPort::parse(&addr.to_string(), 9092).expect("addr");
    CheckConfig::for_bootstrap(hp)
        .with_private_cidrs(vec!["127.0.0.0/8".parse().expect("cidr")])
        .with_https_port(if https { Some(addr.port()) } else { None })
        .with_security_protocol(SecurityProtocol::Ssl)
        .with_timeout(timeout)
}

fn problems(report: &Report) -> Vec<&'static str> {
    report.codes_at_least(Severity::Warning).iter().map(|c| c.as_str()).collect()
}

#[tokio::test]
async fn silent_peer_times_out_the_handshake_within_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s); // accept and never say a word
        }
    });
    let report = kreach::run(&config(addr, false, Duration::from_millis(1500))).await.expect("run");
    assert_eq!(problems(&report), ["tls-handshake-failed"]);
    let f = report.findings_with(FindingCode::TlsHandshakeFailed).next().expect("finding");
    assert!(f.summary.contains("timeout"), "{}", f.summary);
    assert!(report.elapsed_ms <= 2500, "bounded by the deadline: {} ms", report.elapsed_ms);
}

#[tokio::test]
async fn peer_that_closes_at_once_is_a_failed_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let _closer = tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            drop(s);
        }
    });
    let report = kreach::run(&config(addr, false, Duration::from_secs(3))).await.expect("run");
    assert_eq!(problems(&report), ["tls-handshake-failed"]);
    let tls = report.targets[0].addresses[0].tls.as_ref().expect("tls");
    assert_eq!(tls.outcome, kreach::report::TlsOutcome::Closed);
}

#[tokio::test]
async fn flood_of_non_http_bytes_after_tls_is_no_https_response() {
    let ca = Ca::new("hostile CA").expect("ca");
    let leaf = ca.leaf(&["127.0.0.1"], Validity::Days(90)).expect("leaf");
    let acceptor = TlsAcceptor::from(server_config(&leaf, &[b"http/1.1"]).expect("config"));
    // Two ports on one TLS server: the "Kafka" port (TLS only) and the HTTPS port that floods.
    let kafka = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let https = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = kafka.local_addr().expect("addr");
    let https_port = https.local_addr().expect("addr").port();
    // No status line, no end of head.
    let junk = vec![b'A'; 64 * 1024];
    let _servers = [serve_tls_reply(kafka, acceptor.clone(), junk.clone()), serve_tls_reply(https, acceptor, junk)];
    let dir = tempfile_dir();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.cert_pem()).expect("write ca");
    let report = kreach::run(
        &config(addr, false, Duration::from_secs(3))
            .with_https_port(Some(https_port))
            .with_ca_file(&ca_path)
            .expect("ca"),
    )
    .await
    .expect("run");
    // Both ports flood: the HTTPS one gets no HTTP answer, the Kafka one no Kafka answer.
    assert_eq!(problems(&report), ["https-no-response", "kafka-not-kafka"], "{:#?}", report.findings);
    let h = report.targets.iter().flat_map(|t| &t.addresses).find_map(|a| a.https.as_ref()).expect("https");
    assert_eq!(h.outcome, kreach::report::HttpsOutcome::Malformed);
    let _ = std::fs::remove_dir_all(dir);
}

/// A TLS server that answers whatever a client sends first with `reply`, then closes.
fn serve_tls_reply(listener: TcpListener, acceptor: TlsAcceptor, reply: Vec<u8>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let (acceptor, reply) = (acceptor.clone(), reply.clone());
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(s).await {
                    let mut buf = [0u8; 512];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls.write_all(&reply).await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    })
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kreach-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

#[tokio::test]
async fn address_literal_skips_dns_and_unused_port_is_refused() {
    // Bind then drop to get a port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr").port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let report = kreach::run(&config(addr, false, Duration::from_secs(2))).await.expect("run");
    assert_eq!(problems(&report), ["tcp-refused"]);
    let dns = report.targets[0].dns.as_ref().expect("dns");
    assert_eq!(dns.lookup.outcome, kreach::report::DnsOutcome::AddressLiteral);
}

#[tokio::test]
async fn http_server_on_the_kafka_port_is_not_kafka() {
    // A TLS server that answers anything with an HTTP error, as a REST port would.
    let ca = Ca::new("hostile CA").expect("ca");
    let leaf = ca.leaf(&["127.0.0.1"], Validity::Days(90)).expect("leaf");
    let acceptor = TlsAcceptor::from(server_config(&leaf, &[]).expect("config"));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let _server =
        serve_tls_reply(listener, acceptor, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec());
    let dir = tempfile_dir();
    let ca_path = dir.join("kafka-ca.pem");
    std::fs::write(&ca_path, ca.cert_pem()).expect("write ca");
    let report = kreach::run(&config(addr, false, Duration::from_secs(3)).with_ca_file(&ca_path).expect("ca"))
        .await
        .expect("run");
    assert_eq!(problems(&report), ["kafka-not-kafka"], "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::KafkaNotKafka).next().expect("finding");
    assert!(f.summary.contains("HTTP"), "quotes what came back: {}", f.summary);
    assert!(report.cluster.is_none() && report.zones.is_empty());
}

/// What a run may take beyond its deadline.
const MARGIN: Duration = Duration::from_millis(600);

async fn bounded(config: &CheckConfig) -> Report {
    let started = std::time::Instant::now();
    let report = kreach::run(config).await.expect("run");
    assert!(started.elapsed() <= config.timeout + MARGIN, "took {:?}", started.elapsed());
    assert!(kreach::render::json(&report).contains("\"findings\""));
    report
}

/// A raw TCP peer: on each connection, reads what the client sends first (up to 4 KiB), then
/// writes `reply`, then holds the connection open.
fn raw_peer(listener: TcpListener, reply: Vec<u8>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(&reply).await;
                let mut sink = [0u8; 512];
                while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
            });
        }
    })
}

#[tokio::test]
async fn tls_random_bytes_and_an_alert_mid_handshake_are_classified() {
    // Not a TLS record at all; then a fatal handshake_failure alert in answer to the ClientHello.
    let random: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(97).wrapping_add(3)).collect();
    let alert = vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];
    for (what, reply, expected) in [("random bytes", random, "tls-not-tls"), ("alert", alert, "tls-handshake-failed")] {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let _peer = raw_peer(listener, reply);
        let report = bounded(&config(addr, false, Duration::from_secs(2))).await;
        assert_eq!(problems(&report), [expected], "{what}: {:#?}", report.findings);
    }
}

#[tokio::test]
async fn a_handshake_trickled_a_byte_at_a_time_times_out_within_the_deadline() {
    // A real rustls server behind a relay that passes its bytes on one at a time.
    let ca = Ca::new("trickle CA").expect("ca");
    let leaf = ca.leaf(&["127.0.0.1"], Validity::Days(90)).expect("leaf");
    let acceptor = TlsAcceptor::from(server_config(&leaf, &[]).expect("config"));
    let backend = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let backend_addr = backend.local_addr().expect("addr");
    let _server = serve_tls_reply(backend, acceptor, b"never reached".to_vec());
    let front = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = front.local_addr().expect("addr");
    let _relay = tokio::spawn(async move {
        while let Ok((client, _)) = front.accept().await {
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(backend_addr).await else { return };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                tokio::spawn(async move { tokio::io::copy(&mut cr, &mut sw).await });
                let mut byte = [0u8; 1];
                while matches!(sr.read(&mut byte).await, Ok(1)) {
                    if cw.write_all(&byte).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            });
        }
    });
    let report = bounded(&config(addr, false, Duration::from_millis(1500))).await;
    assert_eq!(problems(&report), ["tls-handshake-failed"], "{:#?}", report.findings);
    let tls = report.targets[0].addresses[0].tls.as_ref().expect("tls");
    assert_eq!(tls.outcome, kreach::report::TlsOutcome::Timeout);
}

#[tokio::test]
async fn a_huge_certificate_chain_is_refused_not_swallowed() {
    let ca = Ca::new("chain CA").expect("ca");
    let mut leaf = ca.leaf(&["127.0.0.1"], Validity::Days(90)).expect("leaf");
    // ~400 copies of the CA: a Certificate message far beyond what a TLS client accepts.
    for _ in 0..400 {
        leaf.chain.push(ca.cert_der().clone());
    }
    let acceptor = TlsAcceptor::from(server_config(&leaf, &[]).expect("config"));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let _server = serve_tls_reply(listener, acceptor, Vec::new());
    let report = bounded(&config(addr, false, Duration::from_secs(2))).await;
    assert_eq!(problems(&report), ["tls-handshake-failed"], "{:#?}", report.findings);
    let tls = report.targets[0].addresses[0].tls.as_ref().expect("tls");
    assert_ne!(tls.outcome, kreach::report::TlsOutcome::Timeout, "refused, not waited out: {tls:?}");
}

#[tokio::test]
async fn https_endless_headers_and_a_status_line_that_never_ends() {
    let ca = Ca::new("https CA").expect("ca");
    let leaf = ca.leaf(&["127.0.0.1"], Validity::Days(90)).expect("leaf");
    let acceptor = TlsAcceptor::from(server_config(&leaf, &[b"http/1.1"]).expect("config"));
    let dir = tempfile_dir();
    let ca_path = dir.join("https-ca.pem");
    std::fs::write(&ca_path, ca.cert_pem()).expect("write ca");
    let endless_headers = [b"HTTP/1.1 200 OK\r\n".to_vec(), b"X-Pad: aaaaaaaaaaaaaaaa\r\n".repeat(20_000)].concat();
    let endless_status = [b"HTTP/1.1 200 ".to_vec(), vec![b'A'; 200_000]].concat();
    for (what, reply) in [("headers", endless_headers), ("status line", endless_status)] {
        let kafka = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let https = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = kafka.local_addr().expect("addr");
        let https_port = https.local_addr().expect("addr").port();
        let _servers =
            [serve_tls_reply(kafka, acceptor.clone(), Vec::new()), serve_tls_reply(https, acceptor.clone(), reply)];
        let report = bounded(
            &config(addr, false, Duration::from_secs(2))
                .with_https_port(Some(https_port))
                .with_ca_file(&ca_path)
                .expect("ca"),
        )
        .await;
        assert!(problems(&report).contains(&"https-no-response"), "{what}: {:?}", problems(&report));
        let h = report.targets.iter().flat_map(|t| &t.addresses).find_map(|a| a.https.as_ref()).expect("https");
        assert_eq!(h.outcome, kreach::report::HttpsOutcome::Malformed, "{what}: {h:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A peer that holds the first connection silent and completes every later handshake (a real
/// rustls server): the path-MTU retry runs, but its unclamped control connection gets the
/// certificate too, so this is no black hole, only a stalled handshake.
#[tokio::test]
async fn a_peer_that_stalls_one_connection_is_not_a_path_mtu_black_hole() {
    let ca = Ca::new("stalling CA").expect("ca");
    let leaf = ca.leaf(&["127.0.0.1"], Validity::Days(90)).expect("leaf");
    let acceptor = TlsAcceptor::from(server_config(&leaf, &[]).expect("config"));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let _server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            if held.is_empty() {
                held.push(s);
                continue;
            }
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(s).await {
                    let mut buf = [0u8; 512];
                    let _ = tls.read(&mut buf).await;
                }
            });
        }
    });
    let dir = tempfile_dir();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.cert_pem()).expect("write ca");
    let report = bounded(&config(addr, false, Duration::from_secs(4)).with_ca_file(&ca_path).expect("ca")).await;
    let tls = report.targets[0].addresses[0].tls.as_ref().expect("tls");
    assert_eq!(tls.outcome, kreach::report::TlsOutcome::Timeout, "{tls:#?}");
    let probe = tls.path_mtu.as_ref().expect("the retry ran on the stalled handshake");
    let control = probe.control.as_ref().expect("control");
    assert!(control.got_certificate, "{probe:#?}");
    assert!(probe.tried.iter().all(|t| t.got_certificate), "the clamped tries were answered too: {probe:#?}");
    assert_eq!(probe.passed_mss, None, "{probe:#?}");
    assert_eq!(problems(&report), ["tls-handshake-failed"], "{:#?}", report.findings);
    let _ = std::fs::remove_dir_all(dir);
}

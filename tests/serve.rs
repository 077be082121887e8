//! `kreach serve` under a hostile scraper, on loopback: where its credentials may go (recording
//! Kafka listeners behind real TLS, names from a real DNS server), how long a scrape may hold a
//! slot or a connection, what an error answer repeats, and what it refuses at start.

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kreach_lab::{Ca, Rdata, Validity, Zone, server_config};
use kreach_testkit as support;
use kreach_testkit::recording::RecordingBroker;

const CANARY: &str = "canary-pw-3b7f-serve-never-elsewhere";

/// Starts `kreach serve` with `args` (listening on a free loopback port); returns the child and
/// its address.
fn serve(args: &[String]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kreach"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(support::no_aws())
        .env_remove("RUST_LOG")
        .env_remove("KREACH_SASL_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kreach serve");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("first line");
    let addr = first.split("http://").nth(1).and_then(|r| r.split('/').next()).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("kreach serve did not start: {first}")
    });
    (child, addr.to_string())
}

/// One HTTP/1.1 GET; the status code, body and how long the answer took.
fn get(addr: &str, path: &str, extra: &str) -> (u16, String, Duration) {
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n").expect("write");
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    let status = reply.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body, started.elapsed())
}

fn properties(dir: &Path, ca: &Path) -> String {
    let path = dir.join("client.properties");
    std::fs::write(
        &path,
        format!(
            "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=api-key\nsasl.password={CANARY}\n\
             ssl.ca.location={}\n",
            ca.display()
        ),
    )
    .expect("write");
    path.display().to_string()
}

/// The defect: `serve --bootstrap ip-127-0-0-1.ec2.internal:P` must not send its password to
/// `ip-127-0-0-2.ec2.internal:Q` because a scraper names it. The configured bootstrap gets it
/// (the canary arrives: the recording is faithful); a name sharing its parent is refused before
/// any packet; an --allow-target is probed without the credentials, and the exposition says so.
#[test]
fn serve_sends_its_password_only_to_its_configured_bootstrap() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("dir");
    let ca = Ca::new("serve test CA").expect("ca");
    let names = ["ip-127-0-0-1.ec2.internal", "ip-127-0-0-2.ec2.internal", "ip-127-0-0-3.ec2.internal"];
    let leaf = ca.leaf(&names, Validity::Days(30)).expect("leaf");
    let tls = server_config(&leaf, &[]).expect("tls");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.cert_pem()).expect("ca file");
    let brokers: Vec<RecordingBroker> = (1..=3)
        .map(|i| {
            rt.block_on(RecordingBroker::start(
                format!("127.0.0.{i}:0").parse().expect("addr"),
                Some(tls.clone()),
                Some(names[i - 1].to_string()),
            ))
            .expect("broker")
        })
        .collect();
    let zone = names.iter().enumerate().fold(Zone::new("ec2.internal"), |z, (i, n)| {
        z.with(n, Rdata::Addr(format!("127.0.0.{}", i + 1).parse().expect("ip")))
    });
    let dns = rt.block_on(kreach_lab::DnsServer::start("127.0.0.1:0".parse().expect("addr"), &[zone])).expect("dns");
    let config = properties(dir.path(), &ca_file);
    let target = |i: usize| format!("{}:{}", names[i], brokers[i].addr.port());
    let mut args: Vec<String> = vec![
        "--bootstrap".into(),
        target(0),
        "--config".into(),
        config,
        "--resolver".into(),
        dns.addr().to_string(),
        "--no-https".into(),
        "--private-cidr".into(),
        "127.0.0.0/8".into(),
        "--timeout".into(),
        "5".into(),
    ];
    // A suffix other customers share is refused at start, naming the flag.
    let out = Command::new(env!("CARGO_BIN_EXE_kreach"))
        .args(["serve", "--listen", "127.0.0.1:0", "--allow-target", "*.ec2.internal"])
        .args(&args)
        .envs(support::no_aws())
        .output()
        .expect("kreach serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--allow-target") && stderr.contains("shared"), "{stderr}");

    args.extend(["--allow-target".to_string(), target(2)]);
    let (mut child, addr) = serve(&args);
    let (t1, t2, t3) = (target(0), target(1), target(2));
    let result = std::thread::spawn(move || {
        let (code, body, _) = get(&addr, &format!("/probe?bootstrap={t2}"), "");
        assert_eq!(code, 403, "{body}");
        let (code, body, _) = get(&addr, &format!("/probe?bootstrap={t1}"), "");
        assert_eq!(code, 200, "{body}");
        let (code, body, _) = get(&addr, &format!("/probe?bootstrap={t3}"), "");
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("code=\"kafka-credentials-withheld\""), "the exposition says why: {body}");
    })
    .join();
    let _ = child.kill();
    let _ = child.wait();
    result.expect("probes");
    assert!(brokers[0].received_contains(CANARY.as_bytes()), "the configured bootstrap is sent the password");
    assert_eq!(brokers[1].received_len(), 0, "a refused target is never contacted");
    assert!(brokers[2].received_len() > 0, "the allowed target was probed");
    assert!(!brokers[2].received_contains(CANARY.as_bytes()), "without the password");
    drop(dns);
}

/// A TCP listener that accepts and never says a word (a TLS handshake against it waits).
fn silent_listener() -> (std::net::TcpListener, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr").to_string();
    (l, addr)
}

/// One deadline covers the wait for a slot and the probe: with one slot, two scrapes with a 3 s
/// scrape timeout are both answered within it (the second a 503 when the first holds the slot to
/// the end); a scraper that hangs up frees its slot at once; a query that carries credentials in
/// the wrong place is not repeated; waiting scrapes never take `/healthz`'s connection.
#[test]
fn a_scrape_gets_one_deadline_and_gives_its_slot_back_when_it_leaves() {
    let (_silent, target) = silent_listener();
    let (mut child, addr) = serve(&[
        "--bootstrap".into(),
        target.clone(),
        "--no-https".into(),
        "--security-protocol".into(),
        "SSL".into(),
        "--max-concurrent".into(),
        "1".into(),
        "--timeout".into(),
        "8".into(),
    ]);
    let result = std::thread::spawn(move || {
        let scrape = |addr: String| {
            std::thread::spawn(move || get(&addr, "/probe", "X-Prometheus-Scrape-Timeout-Seconds: 3\r\n"))
        };
        let (a, b) = (scrape(addr.clone()), scrape(addr.clone()));
        let (a, b) = (a.join().expect("a"), b.join().expect("b"));
        let mut codes = [a.0, b.0];
        codes.sort_unstable();
        assert_eq!(codes, [200, 503], "{a:?} {b:?}");
        for (code, _, took) in [&a, &b] {
            assert!(*took < Duration::from_millis(3200), "{code} answered after {took:?}: past the scrape timeout");
        }
        // A scraper that hangs up: its probe is cancelled and the slot is free for the next one.
        let mut gone = std::net::TcpStream::connect(&addr).expect("connect");
        write!(gone, "GET /probe HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
        std::thread::sleep(Duration::from_millis(300));
        drop(gone);
        std::thread::sleep(Duration::from_millis(200));
        let (code, body, _) = get(&addr, "/probe?timeout=1.5", "");
        assert_eq!(code, 200, "the slot was given back: {body}");
        // Credentials typed into the URL are never repeated.
        let (code, body, _) = get(&addr, "/probe?bootstrap=user:hunter2@evil.example:9092", "");
        assert_eq!(code, 400);
        assert!(!body.contains("hunter2"), "{body}");
        let (code, body, _) = get(&addr, "/probe?user:hunter2@evil.example:9092", "");
        assert_eq!(code, 400);
        assert!(!body.contains("hunter2"), "{body}");
        // 300 scrapes waiting at once, none reading: /healthz still answers.
        let waiting: Vec<std::net::TcpStream> = (0..300)
            .map(|_| {
                let mut s = std::net::TcpStream::connect(&addr).expect("connect");
                write!(s, "GET /probe HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
                s
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        let (code, body, took) = get(&addr, "/healthz", "");
        assert_eq!((code, body.as_str()), (200, "ok\n"), "after {took:?}");
        drop(waiting);
    })
    .join();
    let _ = child.kill();
    let _ = child.wait();
    result.expect("scrapes");
}

/// Flags a scrape never uses, and bounds it cannot hold, are refused at start with exit 2.
#[test]
fn serve_refuses_what_it_would_ignore() {
    for (args, flag) in [
        (vec!["--max-concurrent", "18446744073709551615"], "--max-concurrent"),
        (vec!["--max-concurrent", "0"], "--max-concurrent"),
        (vec!["--sasl-secret", "kreach/prod"], "--sasl-secret"),
        (vec!["--event-source-mapping", "a1b2c3d4-0000-0000-0000-000000000000"], "--event-source-mapping"),
        (vec!["--aws"], "--aws"),
        (
            vec![
                "--bootstrap",
                "lkc-1.abc123.us-west-2.aws.confluent.cloud:9092",
                "--allow-target",
                "*.us-west-2.aws.confluent.cloud",
            ],
            "--allow-target",
        ),
        (vec!["--allow-target", "*.co.uk"], "--allow-target"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_kreach"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&args)
            .envs(support::no_aws())
            .stdin(Stdio::null())
            .output()
            .expect("kreach serve");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(!stderr.contains("listening"), "refused before it listens: {stderr}");
    }
}

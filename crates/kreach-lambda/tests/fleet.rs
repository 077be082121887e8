//! `kreach fleet`'s engine, end to end: kreach's own function binary (`bootstrap`) runs under
//! cargo-lambda's local Lambda emulator (scripts/setup.sh installs it) twice, as two vantage points
//! with different environments — one whose resolver is the lab's VPC resolver, one whose resolver
//! answers from public DNS (a subnet where the private zone is not in effect) — and the fleet
//! invokes them through the Invoke API as it would deployed functions.
//!
//! The failures the emulator cannot produce come from a loopback Lambda-API peer in front of it
//! (hand-written, named as such): it routes each function name to its emulator and, for the names
//! below, answers what real Lambda answers — 429 TooManyRequestsException twice before passing the
//! call on, a function error (`X-Amz-Function-Error: Unhandled`), no answer at all, an answer over
//! the 6 MB response limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kreach_aws::{FleetPlan, FleetTarget, InvocationOutcome};
use kreach_lab::{Fault, Lab};
use kreach_testkit::Killed;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An emulator and the function attached to it as `name`, with `env` as its environment.
fn vantage(name: &str, env: &[(&str, String)]) -> (Killed, Killed, u16) {
    kreach_testkit::lambda_emulator(env!("CARGO_BIN_EXE_bootstrap").as_ref(), name, env, None)
}

/// What the peer saw: Lambda's 429s given, calls per function, bytes of the endless answer sent.
#[derive(Default)]
struct Seen {
    throttles: AtomicUsize,
    wordy: AtomicUsize,
    streamed: AtomicUsize,
}

/// The loopback Lambda-API peer: routes by function name, injects the failures.
async fn lambda_peer(routes: Vec<(String, u16)>) -> (String, Arc<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Seen::default());
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (routes, seen) = (routes.clone(), counter.clone());
            tokio::spawn(async move {
                let counter = &seen.throttles;
                let Some((head, body)) = read_request(&mut client).await else { return };
                let path = head.split(' ').nth(1).unwrap_or("").to_string();
                let name = path.split('/').nth(3).unwrap_or("").to_string();
                let reply = |status: &str, headers: &str, body: &[u8]| {
                    let mut r = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(body);
                    r
                };
                let answer = match name.as_str() {
                    "kreach-throttled" if counter.fetch_add(1, Ordering::SeqCst) < 2 => reply(
                        "429 Too Many Requests",
                        "X-Amzn-ErrorType: TooManyRequestsException\r\n",
                        br#"{"Reason":"ConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#,
                    ),
                    "kreach-broken" => reply(
                        "200 OK",
                        "X-Amz-Function-Error: Unhandled\r\n",
                        br#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: 1 Error: Runtime exited with error: signal: killed"}"#,
                    ),
                    // Words of throttling from a function are its own error, not Lambda's: one call each.
                    "kr-Throttled" | "kreach-wordy" => {
                        seen.wordy.fetch_add(1, Ordering::SeqCst);
                        if name == "kr-Throttled" {
                            reply("200 OK", "X-Amz-Function-Error: Unhandled\r\n", br#"{"errorType":"Throttled","errorMessage":"Rate exceeded"}"#)
                        } else {
                            reply("200 OK", "", br#"{"status":"Rate exceeded"}"#)
                        }
                    }
                    // An answer that never ends (150 MB, chunked, no length): read only up to the cap.
                    "kreach-endless" => {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                        if client.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
                        for _ in 0..(150 * 16) {
                            if client.write_all(chunk.as_bytes()).await.is_err() {
                                return;
                            }
                            seen.streamed.fetch_add(64 * 1024, Ordering::SeqCst);
                        }
                        return;
                    }
                    "kreach-silent" => {
                        tokio::time::sleep(Duration::from_secs(120)).await;
                        return;
                    }
                    "kreach-huge" => {
                        let mut big = b"{\"pad\":\"".to_vec();
                        big.extend(std::iter::repeat_n(b'x', 6_600_000));
                        big.extend_from_slice(b"\"}");
                        reply("200 OK", "", &big)
                    }
                    other => {
                        let route = if other == "kreach-throttled" { "kreach-az1" } else { other };
                        let Some((_, port)) = routes.iter().find(|(n, _)| n == route) else {
                            let _ = client.write_all(&reply("404 Not Found", "X-Amzn-ErrorType: ResourceNotFoundException\r\n", br#"{"message":"Function not found"}"#)).await;
                            return;
                        };
                        match forward(*port, &head.replacen(&format!("/functions/{other}/"), "/functions/_/", 1), &body).await {
                            Some(bytes) => bytes,
                            None => return,
                        }
                    }
                };
                let _ = client.write_all(&answer).await;
                let _ = client.shutdown().await;
            });
        }
    });
    (url, seen)
}

async fn read_request(s: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = s.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").and_then(|v| v.trim().parse::<usize>().ok())
        })
        .unwrap_or(0);
    let mut body = buf[end..].to_vec();
    while body.len() < length {
        let n = s.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        body.extend_from_slice(&chunk[..n]);
    }
    Some((head, body))
}

/// The request passed to the emulator as it is (the name rewritten), the answer back with
/// `Connection: close`.
async fn forward(port: u16, head: &str, body: &[u8]) -> Option<Vec<u8>> {
    let mut up = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let head: String = head
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    up.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes()).await.ok()?;
    up.write_all(body).await.ok()?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await.ok()?;
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head: String = String::from_utf8_lossy(&answer[..split])
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let mut out = format!("{head}Connection: close\r\n\r\n").into_bytes();
    out.extend_from_slice(&answer[split..]);
    Some(out)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_of_vantages_is_invoked_at_once_and_every_function_gets_its_row() {
    let lab = Lab::start(Fault::None).await.expect("lab");
    let ca = std::fs::read_to_string(lab.ca_file()).expect("ca");
    let (_e1, _f1, p1) =
        vantage("kreach-az1", &[("KREACH_RESOLVERS", lab.resolver.to_string()), ("KREACH_CA_PEM", ca.clone())]);
    let (_e2, _f2, p2) =
        vantage("kreach-az2", &[("KREACH_RESOLVERS", lab.public_resolver.to_string()), ("KREACH_CA_PEM", ca)]);
    let (url, seen_by_peer) = lambda_peer(vec![("kreach-az1".into(), p1), ("kreach-az2".into(), p2)]).await;
    // The check, without the lab's resolvers and CA: each function uses its own.
    let mut event = lab.lambda_event();
    let obj = event.as_object_mut().expect("object");
    obj.remove("resolvers");
    obj.remove("ca_pem");
    let names = [
        "kreach-az1",
        "kreach-az2",
        "kreach-throttled",
        "kreach-broken",
        "kreach-silent",
        "kreach-huge",
        "kreach-missing",
        "kr-Throttled",
        "kreach-wordy",
        "kreach-endless",
    ];
    let targets: Vec<FleetTarget> =
        names.iter().map(|n| FleetTarget::parse_line(n).expect("line").expect("target")).collect();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(8);
    let plan = FleetPlan {
        targets: &targets,
        event: &event,
        deadline,
        concurrency: Some(8),
        region: Some("us-west-2"),
        endpoint_url: Some(&url),
        credentials: Some(aws_credential_types::Credentials::new("testing", "testing", None, None, "test")),
    };
    let seen = AtomicUsize::new(0);
    let rows = kreach_aws::invoke_fleet(&plan, &|done, total| {
        assert_eq!(total, names.len());
        seen.fetch_max(done, Ordering::SeqCst);
    })
    .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "the fleet ends at its deadline: {took:?}");
    assert_eq!(seen.load(Ordering::SeqCst), names.len(), "every row was announced");
    let outcome = |n: &str| rows.iter().find(|r| r.target.function == n).map(|r| r.outcome).expect("row");
    assert_eq!(
        rows.iter().map(|r| r.target.function.as_str()).collect::<Vec<_>>(),
        names,
        "rows in the targets' order"
    );
    let az1 = rows[0].report.as_ref().unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(az1.status, kreach::Status::Pass, "{:#?}", az1.findings);
    assert_eq!(az1.vantage.as_ref().map(|v| v.label.as_str()), Some("lambda:kreach-az1"));
    let az2 = rows[1].report.as_ref().expect("az2's report");
    assert_eq!(az2.status, kreach::Status::Fail);
    assert!(az2.findings.iter().any(|f| f.code == kreach::FindingCode::DnsPublicAnswer), "{:#?}", az2.findings);
    assert_eq!(outcome("kreach-throttled"), InvocationOutcome::Report, "{rows:#?}");
    assert_eq!(rows[2].attempts, 3, "throttled twice, then answered");
    assert!(seen_by_peer.throttles.load(Ordering::SeqCst) >= 3);
    assert_eq!(outcome("kreach-broken"), InvocationOutcome::FunctionError);
    assert!(rows[3].error.as_deref().is_some_and(|e| e.contains("Runtime.ExitError")), "{:?}", rows[3].error);
    assert_eq!(outcome("kreach-silent"), InvocationOutcome::Timeout);
    assert_eq!(outcome("kreach-huge"), InvocationOutcome::Invalid);
    assert!(
        rows[5].error.as_deref().is_some_and(|e| e.contains("more than a Lambda response can be")),
        "{:?}",
        rows[5].error
    );
    assert_eq!(outcome("kreach-missing"), InvocationOutcome::Error);
    // Throttling is Lambda's 429, never a function's words: each of these was invoked once.
    assert_eq!(outcome("kr-Throttled"), InvocationOutcome::FunctionError, "{rows:#?}");
    assert_eq!(outcome("kreach-wordy"), InvocationOutcome::Invalid, "not a report, not throttling");
    assert_eq!(seen_by_peer.wordy.load(Ordering::SeqCst), 2);
    assert!(
        rows[7].error.as_deref().is_some_and(|e| e.contains("Rate exceeded")),
        "the real error kept: {:?}",
        rows[7].error
    );
    // The endless answer is refused at the cap while it is read: the peer could not push more
    // than the cap and the sockets' buffers before kreach hung up.
    assert_eq!(outcome("kreach-endless"), InvocationOutcome::Invalid);
    let streamed = seen_by_peer.streamed.load(Ordering::SeqCst);
    assert!(streamed < 32 << 20, "{streamed} bytes were sent before kreach stopped reading");
    // Merged: the two vantage points differ on the bootstrap's DNS.
    let merged = kreach::merge(&[("kreach-az1".into(), az1.clone()), ("kreach-az2".into(), az2.clone())]);
    assert!(merged.differences.iter().any(|d| d.contains("kreach-az2")), "{:#?}", merged.differences);
}

//! Kafka listeners that misbehave, on the bootstrap and on every advertised broker. Each case ends
//! in a classified failure (the right stage and finding), a complete JSON report, and within the
//! deadline plus a small margin — never a panic, an abort or a hang.
//!
//! No real broker sends these answers, so the peer is written here: it frames whatever the case
//! says. Well-formed answers are encoded by the kafka-protocol crate (generated from Kafka's own
//! schemas), so only the hostile bytes are hand-made. The "old broker" (pre-2.4 ApiVersions
//! behaviour) is hand-made too: no pre-2.4 broker can run on these machines.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
use kafka_protocol::messages::{
    ApiVersionsResponse, BrokerId, MetadataResponse, ResponseHeader, SaslHandshakeResponse,
};
use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};
use kreach::input::Sasl;
use kreach::report::KafkaOutcome;
use kreach::{CheckConfig, FindingCode, HostPort, Report, Role, Secret, SecurityProtocol, Severity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MARGIN: Duration = Duration::from_millis(600);

/// One request as the peer saw it.
#[derive(Clone, Copy, Debug)]
struct Req {
    key: i16,
    version: i16,
    correlation: i32,
}

/// What the peer does with a request.
enum Reply {
    /// Bytes written as they are (length prefix included, or not: that is the case's business).
    Raw(Vec<u8>),
    /// Bytes written one at a time, `Duration` apart.
    Trickle(Vec<u8>, Duration),
    /// Nothing; the connection stays open.
    Silence,
    /// Reset the connection (RST).
    Reset,
    /// Shut the write side, keep reading.
    HalfClose,
}

type Handler = Arc<dyn Fn(Req) -> Reply + Send + Sync>;

async fn serve(handler: Handler) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(stream, handler.clone()));
        }
    });
    addr
}

async fn connection(mut s: TcpStream, handler: Handler) {
    loop {
        let mut len = [0u8; 4];
        if s.read_exact(&mut len).await.is_err() {
            return;
        }
        let n = i32::from_be_bytes(len).clamp(0, 1 << 20) as usize;
        let mut body = vec![0u8; n];
        if n < 8 || s.read_exact(&mut body).await.is_err() {
            return;
        }
        let req = Req {
            key: i16::from_be_bytes([body[0], body[1]]),
            version: i16::from_be_bytes([body[2], body[3]]),
            correlation: i32::from_be_bytes([body[4], body[5], body[6], body[7]]),
        };
        match handler(req) {
            Reply::Raw(bytes) => {
                if s.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Reply::Trickle(bytes, gap) => {
                for b in bytes {
                    if s.write_all(&[b]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(gap).await;
                }
            }
            Reply::Silence => {
                let mut sink = [0u8; 64];
                while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
            Reply::Reset => {
                // SO_LINGER 0 is how a peer sends RST; with 0 the drop does not block.
                #[allow(deprecated)]
                let _ = s.set_linger(Some(Duration::ZERO));
                return;
            }
            Reply::HalfClose => {
                let _ = s.shutdown().await;
                let mut sink = [0u8; 64];
                while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
        }
    }
}

/// A well-formed response frame, encoded by the reference implementation.
fn frame<T: Encodable + HeaderVersion>(req: Req, message: &T) -> Vec<u8> {
    let mut buf = BytesMut::new();
    ResponseHeader::default()
        .with_correlation_id(req.correlation)
        .encode(&mut buf, T::header_version(req.version))
        .expect("header");
    message.encode(&mut buf, req.version).expect("body");
    raw(req.correlation, &[], &buf[4..])
}

/// A frame whose body after the correlation id is `body`, with `extra` bytes of header first.
fn raw(correlation: i32, extra: &[u8], body: &[u8]) -> Vec<u8> {
    let len = 4 + extra.len() + body.len();
    let mut out = (len as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&correlation.to_be_bytes());
    out.extend_from_slice(extra);
    out.extend_from_slice(body);
    out
}

fn api_versions(metadata_max: i16) -> ApiVersionsResponse {
    let key =
        |k: i16, min: i16, max: i16| ApiVersion::default().with_api_key(k).with_min_version(min).with_max_version(max);
    ApiVersionsResponse::default().with_api_keys(vec![
        key(3, 0, metadata_max),
        key(17, 0, 1),
        key(18, 0, 3),
        key(36, 0, 2),
    ])
}

fn metadata(brokers: impl IntoIterator<Item = (i32, String, i32)>) -> MetadataResponse {
    MetadataResponse::default()
        .with_brokers(
            brokers
                .into_iter()
                .map(|(id, host, port)| {
                    MetadataResponseBroker::default()
                        .with_node_id(BrokerId(id))
                        .with_host(StrBytes::from_string(host))
                        .with_port(port)
                })
                .collect(),
        )
        .with_cluster_id(Some(StrBytes::from_static_str("hostile")))
        .with_controller_id(BrokerId(1))
}

/// A peer that answers ApiVersions well and hands everything else to `then`.
fn after_api_versions(then: impl Fn(Req) -> Reply + Send + Sync + 'static) -> Handler {
    Arc::new(move |req| if req.key == 18 { Reply::Raw(frame(req, &api_versions(12))) } else { then(req) })
}

fn config(addr: SocketAddr, timeout: Duration) -> CheckConfig {
    CheckConfig::for_bootstrap(HostPort::parse(&addr.to_string(), 9092).expect("addr"))
        .with_private_cidrs(vec!["127.0.0.0/8".parse().expect("cidr")])
        .with_https_port(None)
        .with_security_protocol(SecurityProtocol::Plaintext)
        .with_timeout(timeout)
}

/// SASL over plaintext, explicitly allowed: the hostile peer has no TLS.
fn sasl_config(addr: SocketAddr) -> CheckConfig {
    let mut c = config(addr, Duration::from_secs(3))
        .with_security_protocol(SecurityProtocol::SaslPlaintext)
        .with_allow_insecure_credentials(true);
    c.sasl = Some(Sasl::new("SCRAM-SHA-256", Some("alice".into()), Some(Secret::new("not-on-the-wire-in-the-report"))));
    c
}

async fn run(config: &CheckConfig) -> Report {
    let started = Instant::now();
    let report = kreach::run(config).await.expect("a report, not an error");
    let took = started.elapsed();
    assert!(took <= config.timeout + MARGIN, "ended {took:?} after start, deadline {:?}", config.timeout);
    let json = kreach::render::json(&report);
    assert!(json.contains("\"findings\"") && !json.contains("not-on-the-wire-in-the-report"));
    report
}

fn problems(report: &Report) -> Vec<&'static str> {
    report.codes_at_least(Severity::Warning).iter().map(|c| c.as_str()).collect()
}

fn bootstrap_kafka(report: &Report) -> &kreach::report::KafkaAttempt {
    report.targets[0].addresses[0].kafka.as_ref().expect("kafka attempt")
}

#[tokio::test]
async fn array_counts_beyond_the_frame_in_api_versions() {
    // The 16-byte answer that once aborted the process: a count of 2^32-2, then one of 2^31-2.
    for count in [0xffff_fffe_u32, 0x7fff_fffe] {
        let addr = serve(Arc::new(move |req| {
            let mut body = vec![0, 0];
            body.extend_from_slice(&count.to_be_bytes());
            body.extend_from_slice(&[0, 0, 0, 0]);
            Reply::Raw(raw(req.correlation, &[], &body))
        }))
        .await;
        let report = run(&config(addr, Duration::from_secs(3))).await;
        assert_eq!(problems(&report), ["kafka-not-kafka"], "{:#?}", report.findings);
        let f = report.findings_with(FindingCode::KafkaNotKafka).next().expect("finding");
        assert!(f.summary.contains("undecodable Kafka response"), "{}", f.summary);
    }
}

#[tokio::test]
async fn counts_beyond_the_frame_in_sasl_handshake_sasl_authenticate_and_metadata() {
    // SaslHandshake: mechanisms count 2^31-1.
    let handshake = after_api_versions(|req| Reply::Raw(raw(req.correlation, &[], &[0, 0, 0x7f, 0xff, 0xff, 0xff])));
    // SaslAuthenticate: a valid handshake, then auth bytes claiming 2 GiB (v2: compact, 5-byte varint).
    let authenticate = after_api_versions(|req| match req.key {
        17 => Reply::Raw(frame(
            req,
            &SaslHandshakeResponse::default().with_mechanisms(vec![StrBytes::from_static_str("SCRAM-SHA-256")]),
        )),
        _ => Reply::Raw(raw(req.correlation, &[0], &[0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x07])),
    });
    for (what, handler) in [("SaslHandshake", handshake), ("SaslAuthenticate", authenticate)] {
        let addr = serve(handler).await;
        let report = run(&sasl_config(addr)).await;
        assert_eq!(problems(&report), ["kafka-metadata-failed"], "{what}: {:#?}", report.findings);
        let kafka = bootstrap_kafka(&report);
        assert_eq!(kafka.outcome, KafkaOutcome::Failed, "{what}");
        assert!(kafka.error.as_deref().unwrap_or("").contains("undecodable"), "{what}: {kafka:?}");
    }
    // Metadata (v12, flexible): a broker count of 2^31 as a compact array.
    let addr = serve(after_api_versions(|req| {
        Reply::Raw(raw(req.correlation, &[0], &[0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x08]))
    }))
    .await;
    let report = run(&config(addr, Duration::from_secs(3))).await;
    assert_eq!(problems(&report), ["kafka-metadata-failed"], "{:#?}", report.findings);
    assert!(bootstrap_kafka(&report).error.as_deref().unwrap_or("").contains("entries announced"));
}

#[tokio::test]
async fn length_prefixes_that_are_negative_huge_or_lies() {
    let cases: Vec<(&str, Handler)> = vec![
        ("negative", Arc::new(|_| Reply::Raw(vec![0xff, 0xff, 0xff, 0xf0, 1, 2, 3, 4]))),
        ("2 GiB", Arc::new(|_| Reply::Raw(vec![0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4]))),
        // 100 bytes announced, 6 sent, then nothing more on the open connection.
        (
            "truncated",
            Arc::new(|req| {
                Reply::Raw({
                    let mut b = 100i32.to_be_bytes().to_vec();
                    b.extend_from_slice(&req.correlation.to_be_bytes());
                    b.extend_from_slice(&[0, 0]);
                    b
                })
            }),
        ),
        (
            "wrong correlation id",
            Arc::new(|req| Reply::Raw(frame(Req { correlation: req.correlation + 7, ..req }, &api_versions(12)))),
        ),
    ];
    for (what, handler) in cases {
        let truncated = what == "truncated";
        let addr = serve(handler).await;
        let report = run(&config(addr, Duration::from_secs(2))).await;
        let codes = problems(&report);
        if truncated {
            // The peer keeps the connection open after the short write: no complete answer in time.
            assert!(codes == ["kafka-not-kafka"] || codes == ["kafka-no-answer"], "{what}: {:#?}", report.findings);
        } else {
            assert_eq!(codes, ["kafka-not-kafka"], "{what}: {:#?}", report.findings);
        }
        assert!(report.cluster.is_none(), "{what}");
    }
}

#[tokio::test]
async fn a_reply_trickled_a_byte_at_a_time_ends_at_the_deadline() {
    let addr = serve(Arc::new(|req| Reply::Trickle(frame(req, &api_versions(12)), Duration::from_millis(150)))).await;
    let report = run(&config(addr, Duration::from_millis(1500))).await;
    assert_eq!(problems(&report), ["kafka-no-answer"], "{:#?}", report.findings);
    let kafka = bootstrap_kafka(&report);
    assert_eq!(kafka.outcome, KafkaOutcome::Timeout);
    assert!(kafka.error.as_deref().unwrap_or("").contains("no ApiVersions answer"), "{kafka:?}");
}

#[tokio::test]
async fn silence_reset_and_half_close_after_accept() {
    for (what, reply, expected) in
        [("silence", 0, "kafka-no-answer"), ("reset", 1, "kafka-no-answer"), ("half-close", 2, "kafka-not-kafka")]
    {
        let addr = serve(Arc::new(move |_| match reply {
            0 => Reply::Silence,
            1 => Reply::Reset,
            _ => Reply::HalfClose,
        }))
        .await;
        let report = run(&config(addr, Duration::from_millis(1500))).await;
        assert_eq!(problems(&report), [expected], "{what}: {:#?}", report.findings);
    }
}

#[tokio::test]
async fn a_metadata_answer_with_20000_brokers_is_capped_and_grouped() {
    // Every broker at its own loopback address on a port nothing listens on: refused at once.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr").port();
    let addr = serve(after_api_versions(move |req| {
        let brokers = (1..=20_000).map(|i: i32| (i, format!("127.3.{}.{}", i / 250, i % 250 + 1), i32::from(closed)));
        Reply::Raw(frame(req, &metadata(brokers)))
    }))
    .await;
    let report = run(&config(addr, Duration::from_secs(5))).await;
    let cluster = report.cluster.as_ref().expect("cluster");
    assert_eq!(cluster.brokers_total, 20_000, "the whole answer is counted");
    assert_eq!(cluster.brokers.len(), kreach::limits::MAX_BROKER_TARGETS, "what the cap probes is kept");
    let probed = report.targets.iter().filter(|t| t.role == Role::Broker).count();
    assert_eq!(probed, kreach::limits::MAX_BROKER_TARGETS);
    assert_eq!(problems(&report), ["probe-capped", "broker-unreachable"], "{:?}", problems(&report));
    let grouped = report.findings_with(FindingCode::BrokerUnreachable).next().expect("finding");
    assert!(grouped.summary.starts_with("512 brokers:"), "{}", grouped.summary);
    let capped = report.findings_with(FindingCode::ProbeCapped).next().expect("finding");
    assert!(capped.summary.contains("20000 brokers"), "{}", capped.summary);
}

/// Brokers advertised on ports no socket can have: never probed (port 0 is not "refused"), one
/// finding naming each.
#[tokio::test]
async fn impossible_broker_ports_are_their_own_finding() {
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr").port();
    let addr = serve(after_api_versions(move |req| {
        let brokers = [
            (1, "127.5.0.1".to_string(), -1),
            (2, "127.5.0.2".to_string(), 70_000),
            (3, "127.5.0.3".to_string(), i32::MAX),
            (4, "127.5.0.4".to_string(), 0),
            (5, "127.5.0.5".to_string(), i32::from(closed)),
            // Names DNS cannot carry: never sent to a resolver, named as such.
            (6, format!("{}.example", "a".repeat(70)), i32::from(closed)),
            (7, format!("{}.example", "b.".repeat(150)), i32::from(closed)),
        ];
        Reply::Raw(frame(req, &metadata(brokers)))
    }))
    .await;
    let report = run(&config(addr, Duration::from_secs(3))).await;
    let probed: Vec<&str> = report.targets.iter().filter(|t| t.role == Role::Broker).map(|t| t.host.as_str()).collect();
    assert_eq!(probed.len(), 3, "only the brokers with a real port are probed: {probed:?}");
    let invalid: Vec<&str> = report.findings_with(FindingCode::DnsNameInvalid).map(|f| f.summary.as_str()).collect();
    assert!(invalid.iter().any(|s| s.contains("broker 6") && s.contains("a label of 70 characters")), "{invalid:?}");
    assert!(invalid.iter().any(|s| s.contains("broker 7") && s.contains("at most 253")), "{invalid:?}");
    assert!(
        !problems(&report).contains(&"dns-resolver-unreachable") && !problems(&report).contains(&"dns-resolver-error"),
        "{:?}",
        problems(&report)
    );
    let f = report.findings_with(FindingCode::BrokerPortInvalid).next().expect("broker-port-invalid");
    for named in [
        "broker 1 at 127.5.0.1:-1",
        "broker 2 at 127.5.0.2:70000",
        "broker 3 at 127.5.0.3:2147483647",
        "broker 4 at 127.5.0.4:0",
    ] {
        assert!(f.summary.contains(named), "{named}: {}", f.summary);
    }
    assert!(!f.summary.contains("127.5.0.5"), "{}", f.summary);
}

/// Nine bootstrap servers each answering Metadata with 150,000 brokers in ~4 MiB: the report
/// keeps what the caps probe and counts the rest, so its JSON stays small (a Lambda response is
/// at most 6 MB) however large or many the answers.
#[tokio::test]
async fn huge_metadata_answers_from_many_bootstraps_keep_the_report_small() {
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr").port();
    let answer = Arc::new(metadata(
        (1..=150_000).map(|i: i32| (i, format!("127.4.{}.{}", (i / 250) % 250, i % 250 + 1), i32::from(closed))),
    ));
    let size = frame(Req { key: 3, version: 12, correlation: 0 }, answer.as_ref()).len();
    assert!(size > 2 << 20, "a multi-megabyte answer: {size} bytes");
    let mut addrs = Vec::new();
    for _ in 0..9 {
        let answer = answer.clone();
        addrs.push(serve(after_api_versions(move |req| Reply::Raw(frame(req, answer.as_ref())))).await);
    }
    let mut config = config(addrs[0], Duration::from_secs(8));
    config.bootstrap = addrs.iter().map(|a| HostPort::parse(&a.to_string(), 9092).expect("addr")).collect();
    let report = run(&config).await;
    let json = kreach::render::json(&report);
    assert!(json.len() < 5 << 20, "the JSON report is {} bytes", json.len());
    let cluster = report.cluster.as_ref().expect("cluster");
    assert_eq!((cluster.brokers_total, cluster.brokers.len()), (150_000, kreach::limits::MAX_BROKER_TARGETS));
    assert!(problems(&report).contains(&"probe-capped"), "{:?}", problems(&report));
}

/// A pre-2.4 broker: ApiVersions v3 is answered in the v0 layout with UNSUPPORTED_VERSION, and
/// only Metadata v1 is offered. kreach asks again at v2 and uses Metadata v1.
#[tokio::test]
async fn an_old_broker_is_negotiated_down_not_called_not_kafka() {
    // The broker it advertises is itself, so the broker probe meets the old ApiVersions too.
    let port = Arc::new(std::sync::atomic::AtomicU16::new(0));
    let advertised = port.clone();
    let old: Handler = Arc::new(move |req| match (req.key, req.version) {
        (18, 3..) => {
            // error 35, then [api_key, min, max] as a classic int32 array.
            let mut body = vec![0, 35, 0, 0, 0, 3];
            for (k, min, max) in [(3i16, 0i16, 1i16), (18, 0, 2), (17, 0, 1)] {
                for v in [k, min, max] {
                    body.extend_from_slice(&v.to_be_bytes());
                }
            }
            Reply::Raw(raw(req.correlation, &[], &body))
        }
        (18, _) => {
            let key =
                |k: i16, max: i16| ApiVersion::default().with_api_key(k).with_min_version(0).with_max_version(max);
            Reply::Raw(frame(
                req,
                &ApiVersionsResponse::default().with_api_keys(vec![key(3, 1), key(18, 2), key(17, 1)]),
            ))
        }
        (3, 1) => {
            let port = i32::from(advertised.load(std::sync::atomic::Ordering::SeqCst));
            Reply::Raw(frame(req, &metadata([(1, "127.0.0.1".to_string(), port)])))
        }
        _ => Reply::Reset,
    });
    let addr = serve(old).await;
    port.store(addr.port(), std::sync::atomic::Ordering::SeqCst);
    let report = run(&config(addr, Duration::from_secs(3))).await;
    let kafka = bootstrap_kafka(&report);
    assert_eq!(kafka.outcome, KafkaOutcome::Ok, "{kafka:?}");
    assert_eq!(kafka.metadata_version, Some(1));
    assert_eq!(kafka.api_keys, Some(3));
    assert_eq!(problems(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let broker = report.targets.iter().find(|t| t.role == Role::Broker).expect("broker row");
    assert_eq!(broker.addresses[0].kafka.as_ref().map(|k| k.outcome), Some(KafkaOutcome::Ok));
}

/// A broker whose Metadata stops at v3 (Kafka 0.11): kreach's request must encode at v1-3.
#[tokio::test]
async fn metadata_versions_one_to_three_are_spoken() {
    for max in 1..=3 {
        let addr = serve(Arc::new(move |req| match req.key {
            18 => Reply::Raw(frame(req, &api_versions(max))),
            _ if req.version == max => Reply::Raw(frame(req, &metadata([(1, "127.0.0.1".to_string(), 1)]))),
            _ => Reply::Reset,
        }))
        .await;
        let report = run(&config(addr, Duration::from_secs(3))).await;
        let kafka = bootstrap_kafka(&report);
        assert_eq!((kafka.outcome, kafka.metadata_version), (KafkaOutcome::Ok, Some(max)), "{kafka:?}");
        assert_eq!(report.cluster.as_ref().map(|c| c.brokers.len()), Some(1));
    }
}

/// ApiVersions offering the consumer's questions too (FindCoordinator, OffsetFetch, DescribeConfigs).
fn api_versions_with_questions() -> ApiVersionsResponse {
    let key =
        |k: i16, min: i16, max: i16| ApiVersion::default().with_api_key(k).with_min_version(min).with_max_version(max);
    ApiVersionsResponse::default().with_api_keys(vec![
        key(3, 0, 12),
        key(9, 0, 7),
        key(10, 0, 3),
        key(17, 0, 1),
        key(18, 0, 3),
        key(32, 0, 4),
        key(36, 0, 2),
    ])
}

#[tokio::test]
async fn hostile_answers_to_the_consumer_questions_are_classified_and_never_hold_metadata_back() {
    let questions =
        || kreach::input::ConsumerQuestions::new(vec!["orders".into()], Some("g".into())).expect("questions");
    // (case, what FindCoordinator and DescribeConfigs get)
    type Case = (&'static str, fn(Req) -> Reply);
    let cases: [Case; 4] = [
        // A count of 2^31-1 coordinators (v3 has one; read as the error code and a host length).
        ("huge counts", |req| Reply::Raw(raw(req.correlation, &[0], &[0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0]))),
        ("silence", |_| Reply::Silence),
        ("reset", |_| Reply::Reset),
        ("trickle", |req| Reply::Trickle(raw(req.correlation, &[0], &[0; 64]), Duration::from_millis(200))),
    ];
    for (name, answer) in cases {
        let addr = serve(Arc::new(move |req| match req.key {
            18 => Reply::Raw(frame(req, &api_versions_with_questions())),
            3 => Reply::Raw(frame(req, &metadata([(1, "127.0.0.1".to_string(), 1)]))),
            _ => answer(req),
        }))
        .await;
        let config = config(addr, Duration::from_secs(4)).with_consumer(Some(questions()));
        let started = Instant::now();
        let report = run(&config).await;
        // Metadata answered: the Kafka stage passes, the brokers were started, whatever the rest did.
        assert_eq!(bootstrap_kafka(&report).outcome, KafkaOutcome::Ok, "{name}: {:?}", bootstrap_kafka(&report));
        assert!(report.cluster.is_some(), "{name}");
        let access = report.access.as_ref().expect("access");
        let group = access.group.as_ref().expect("group");
        assert_ne!(group.find_coordinator.outcome, kreach::report::AccessOutcome::Ok, "{name}: {group:?}");
        assert!(group.find_coordinator.error.is_some(), "{name}: says why: {group:?}");
        assert!(
            report.findings.iter().any(|f| f.code == FindingCode::KafkaCoordinatorUnreachable),
            "{name}: {:#?}",
            report.findings
        );
        // The broker wave is not held back by the questions' wait (1 s at most after Metadata).
        let brokers_started = report.targets.iter().any(|t| t.role == Role::Broker);
        assert!(brokers_started, "{name}");
        assert!(started.elapsed() < config.timeout + MARGIN, "{name}");
    }
}

/// Each answer is evidence on its own: a FindCoordinator answered at once is kept (the group's
/// coordinator found, no `kafka-coordinator-unreachable` for want of it) while the DescribeConfigs
/// behind it is never answered (that one alone says "no answer").
#[tokio::test]
async fn an_answer_received_is_kept_when_the_one_behind_it_never_comes() {
    use kafka_protocol::messages::FindCoordinatorResponse;
    let questions = kreach::input::ConsumerQuestions::new(vec!["orders".into()], Some("g".into())).expect("questions");
    let addr = serve(Arc::new(move |req| match req.key {
        18 => Reply::Raw(frame(req, &api_versions_with_questions())),
        3 => Reply::Raw(frame(req, &metadata([(1, "127.0.0.1".to_string(), 1)]))),
        10 => Reply::Raw(frame(
            req,
            &FindCoordinatorResponse::default()
                .with_node_id(BrokerId(1))
                .with_host(StrBytes::from_static_str("127.0.0.1"))
                .with_port(1),
        )),
        _ => Reply::Silence,
    }))
    .await;
    let config = config(addr, Duration::from_secs(4)).with_consumer(Some(questions));
    let report = run(&config).await;
    let access = report.access.as_ref().expect("access");
    let group = access.group.as_ref().expect("group");
    assert_eq!(group.find_coordinator.outcome, kreach::report::AccessOutcome::Ok, "{group:?}");
    assert_eq!(group.coordinator.as_ref().map(|c| c.node_id), Some(1), "{group:?}");
    assert_eq!(access.cluster_configs.outcome, kreach::report::AccessOutcome::NoAnswer, "{access:?}");
    let unreachable = report.findings.iter().find(|f| f.code == FindingCode::KafkaCoordinatorUnreachable);
    assert!(
        unreachable.is_none_or(|f| !f.summary.contains("found no coordinator")),
        "the coordinator was found: {unreachable:?}"
    );
}

//! Resolvers that misbehave. Each gives a classified DNS failure and a report within the deadline.
//!
//! The well-behaved-but-wrong cases (a CNAME loop, a huge answer) come from a real DNS server
//! (hickory-server, in-process). The malformed ones (garbage, wrong id, truncation games) have no
//! real implementation that would send them: a small UDP/TCP responder written here sends them,
//! its messages built with hickory-proto.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME};
use hickory_proto::rr::{RData, Record};
use kreach::{CheckConfig, FindingCode, HostPort, Report, SecurityProtocol, Severity};
use kreach_lab::{DnsServer, Rdata, Zone};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

const DEADLINE: Duration = Duration::from_secs(3);
/// What a run may take beyond its deadline (rendering, teardown), asserted on every case.
const MARGIN: Duration = Duration::from_millis(600);

fn config(name: &str, resolver: SocketAddr) -> CheckConfig {
    CheckConfig::for_bootstrap(HostPort::parse(&format!("{name}:9092"), 9092).expect("name"))
        .with_resolvers(vec![resolver])
        .with_private_cidrs(vec!["127.0.0.0/8".parse().expect("cidr")])
        .with_https_port(None)
        .with_security_protocol(SecurityProtocol::Plaintext)
        .with_timeout(DEADLINE)
}

async fn run(config: &CheckConfig) -> Report {
    let started = Instant::now();
    let report = kreach::run(config).await.expect("a report, not an error");
    assert!(started.elapsed() <= config.timeout + MARGIN, "took {:?}", started.elapsed());
    // The JSON report is complete and serializes.
    assert!(kreach::render::json(&report).contains("\"findings\""));
    report
}

fn problems(report: &Report) -> Vec<&'static str> {
    report.codes_at_least(Severity::Warning).iter().map(|c| c.as_str()).collect()
}

#[tokio::test]
async fn a_cname_loop_is_named_as_a_loop() {
    let zone = Zone::new("loop.example")
        .with("a.loop.example", Rdata::Cname("b.loop.example".into()))
        .with("b.loop.example", Rdata::Cname("c.loop.example".into()))
        .with("c.loop.example", Rdata::Cname("a.loop.example".into()));
    let dns = DnsServer::start("127.0.0.1:0".parse().expect("addr"), &[zone]).await.expect("dns");
    let report = run(&config("a.loop.example", dns.addr())).await;
    assert_eq!(problems(&report), ["dns-cname-loop"], "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::DnsCnameLoop).next().expect("finding");
    assert!(
        f.summary.contains("a.loop.example -> b.loop.example -> c.loop.example -> a.loop.example"),
        "{}",
        f.summary
    );
    let lookup = &report.targets[0].dns.as_ref().expect("dns").lookup;
    assert_eq!(lookup.cname_chain.len(), 3, "{lookup:?}");
}

/// A 300-hop CNAME chain is capped at 16 hops with one finding, whether a resolver sends it in
/// one answer (the responder below) or a real server answers it hop by hop (hickory-server).
#[tokio::test]
async fn a_long_cname_chain_is_capped_the_same_way_in_one_answer_or_hop_by_hop() {
    let r = responder(Behaviour::LongChain).await;
    let report = run(&config("h0.chain.example", r.addr)).await;
    assert_eq!(problems(&report), ["dns-cname-chain-too-long"], "{:#?}", report.findings);
    let lookup = &report.targets[0].dns.as_ref().expect("dns").lookup;
    assert_eq!(lookup.cname_chain.len(), 16, "the first hops only");
    assert!(report.targets[0].addresses.is_empty(), "the chain's address is not used");

    let mut zone = Zone::new("chain.example");
    for i in 0..300 {
        zone = zone.with(&format!("h{i}.chain.example"), Rdata::Cname(format!("h{}.chain.example", i + 1)));
    }
    zone = zone.with("h300.chain.example", Rdata::Addr("127.0.0.1".parse().expect("ip")));
    let dns = DnsServer::start("127.0.0.1:0".parse().expect("addr"), &[zone]).await.expect("dns");
    let report = run(&config("h0.chain.example", dns.addr())).await;
    assert_eq!(problems(&report), ["dns-cname-chain-too-long"], "{:#?}", report.findings);
    assert!(report.targets[0].dns.as_ref().expect("dns").lookup.cname_chain.len() <= 16);
}

/// A hand-written responder: `reply` maps each query to what is sent back over UDP (and TCP).
struct Responder {
    addr: SocketAddr,
    _tasks: Vec<tokio::task::JoinHandle<()>>,
}

#[derive(Clone, Copy)]
enum Behaviour {
    /// Never answer.
    Silent,
    /// Answer with random-looking bytes.
    Garbage,
    /// Answer correctly but with another message id.
    WrongId,
    /// UDP: truncated (TC) empty answer; TCP: thousands of A records.
    TruncatedThenHuge,
    /// UDP: truncated; TCP: a 300-hop CNAME chain ending in an address, all in one answer.
    LongChain,
}

async fn responder(behaviour: Behaviour) -> Responder {
    // A free UDP port whose TCP twin is free too (another test may hold the TCP one).
    let mut pair = None;
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("udp");
        let addr = udp.local_addr().expect("addr");
        if let Ok(tcp) = TcpListener::bind(addr).await {
            pair = Some((udp, addr, tcp));
            break;
        }
    }
    let (udp, addr, tcp) = pair.expect("a UDP and TCP port pair");
    let udp_task = tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, peer)) = udp.recv_from(&mut buf).await {
            if let Some(reply) = answer(behaviour, &buf[..n], false) {
                let _ = udp.send_to(&reply, peer).await;
            }
        }
    });
    let tcp_task = tokio::spawn(async move {
        while let Ok((mut s, _)) = tcp.accept().await {
            tokio::spawn(async move {
                let mut len = [0u8; 2];
                while s.read_exact(&mut len).await.is_ok() {
                    let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                    if s.read_exact(&mut q).await.is_err() {
                        return;
                    }
                    if let Some(reply) = answer(behaviour, &q, true) {
                        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
                        framed.extend(reply);
                        let _ = s.write_all(&framed).await;
                    }
                }
            });
        }
    });
    Responder { addr, _tasks: vec![udp_task, tcp_task] }
}

fn answer(behaviour: Behaviour, query: &[u8], over_tcp: bool) -> Option<Vec<u8>> {
    let query = Message::from_vec(query).ok()?;
    let mut response = Message::new(query.id, MessageType::Response, query.op_code);
    response.metadata.recursion_desired = true;
    response.metadata.recursion_available = true;
    response.add_queries(query.queries.clone());
    let name = query.queries.first()?.name().clone();
    let is_a = query.queries.first()?.query_type() == hickory_proto::rr::RecordType::A;
    match behaviour {
        Behaviour::Silent => return None,
        Behaviour::Garbage => return Some((0..64u8).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect()),
        Behaviour::WrongId => {
            response.metadata.id = query.id.wrapping_add(1);
            if is_a {
                response.add_answer(Record::from_rdata(name, 60, RData::A(A(Ipv4Addr::new(127, 0, 0, 1)))));
            }
        }
        Behaviour::TruncatedThenHuge | Behaviour::LongChain if !over_tcp => response.metadata.truncation = true,
        Behaviour::LongChain => {
            let hop = |i: u32| hickory_proto::rr::Name::from_ascii(format!("h{i}.chain.example.")).expect("name");
            for i in 0..300u32 {
                response.add_answer(Record::from_rdata(hop(i), 60, RData::CNAME(CNAME(hop(i + 1)))));
            }
            if is_a {
                response.add_answer(Record::from_rdata(hop(300), 60, RData::A(A(Ipv4Addr::new(127, 0, 0, 1)))));
            }
        }
        Behaviour::TruncatedThenHuge => {
            if is_a {
                for i in 0..2000u32 {
                    let ip = Ipv4Addr::new(127, 77, (i / 250) as u8, (i % 250 + 1) as u8);
                    response.add_answer(Record::from_rdata(name.clone(), 60, RData::A(A(ip))));
                }
            }
        }
    }
    response.metadata.response_code = ResponseCode::NoError;
    response.to_vec().ok()
}

#[tokio::test]
async fn a_silent_resolver_is_unreachable_within_the_deadline() {
    let r = responder(Behaviour::Silent).await;
    let report = run(&config("silent.example", r.addr)).await;
    assert_eq!(problems(&report), ["dns-resolver-unreachable"], "{:#?}", report.findings);
}

#[tokio::test]
async fn garbage_and_wrong_ids_are_not_answers() {
    for behaviour in [Behaviour::Garbage, Behaviour::WrongId] {
        let r = responder(behaviour).await;
        let report = run(&config("garbage.example", r.addr)).await;
        let codes = problems(&report);
        assert!(
            codes == ["dns-resolver-unreachable"] || codes == ["dns-resolver-error"],
            "classified as a resolver failure: {:#?}",
            report.findings
        );
        assert!(report.targets[0].addresses.is_empty(), "nothing was connected to");
    }
}

#[tokio::test]
async fn a_huge_answer_over_tcp_after_truncation_is_capped() {
    let r = responder(Behaviour::TruncatedThenHuge).await;
    let report = run(&config("huge.example", r.addr)).await;
    let lookup = &report.targets[0].dns.as_ref().expect("dns").lookup;
    assert!(lookup.addresses.len() > 1000, "the whole answer is in the report: {lookup:?}");
    assert_eq!(
        report.targets[0].addresses.len(),
        kreach::limits::MAX_ADDRESSES_PER_NAME,
        "connected to the first few only"
    );
    assert!(problems(&report).contains(&"probe-capped"), "{:?}", problems(&report));
    let f = report.findings_with(FindingCode::ProbeCapped).next().expect("finding");
    assert!(f.summary.contains("2000 addresses"), "{}", f.summary);
}

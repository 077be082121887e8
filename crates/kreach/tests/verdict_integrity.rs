//! The verdict can be trusted at a glance: over every fault the in-process lab plays, alone and in
//! pairs (two things broken at once), the report's status agrees with its matrix and its zones,
//! every failing cell is explained by a finding naming its target, and the exit code follows.
//! The lab is real DNS (hickory-server), TLS (rustls) and Kafka (librdkafka's mock cluster).

use kreach::{CheckOptions, Report, Status};
use kreach_lab::{Fault, Lab, LabLayout, Labs};

/// The check the CLI runs on the lab (`kreach lab`), endpoints included where the fault needs them.
fn options(lab: &Lab, endpoints: bool) -> CheckOptions {
    let mut o = CheckOptions::default();
    o.bootstrap = Some(lab.bootstrap.clone());
    o.resolvers = vec![lab.resolver.to_string()];
    o.public_resolvers = vec![lab.public_resolver.to_string()];
    o.private_cidrs = vec![kreach_lab::LAB_PRIVATE_CIDR.into()];
    o.ca_file = Some(lab.ca_file().to_path_buf());
    o.https_port = Some(lab.https_port);
    o.security_protocol = Some("SSL".into());
    o.zone_addresses = lab.azs.iter().map(|az| format!("{}={}", az.az_id, az.eni)).collect();
    o.timeout_secs = Some(1.5);
    // The client's own configuration, where a fault is the client's (as `kreach lab` passes `-X`).
    let client: Vec<String> = lab.client_properties().iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !client.is_empty() {
        o.properties = Some(kreach::Properties::parse(&client.join("\n")).expect("client properties"));
    }
    if endpoints {
        o.schema_registry = Some(format!("https://lsrc-lab01.{}:{}", lab.domain, lab.https_port));
        o.aws_apis = true;
        o.aws_region = Some(kreach_lab::LAB_REGION.into());
        o.confluent_apis = true;
        o.api_port = Some(lab.https_port);
    }
    o
}

async fn diagnose(faults: &[Fault]) -> Report {
    let layout = faults.iter().find_map(|f| f.layout()).unwrap_or(LabLayout::default());
    let lab = Lab::start_faults(layout, faults, kreach_lab::LAB_BROKERS).await.expect("lab");
    let config = options(&lab, faults.iter().any(|f| f.needs_endpoints())).validate(&|_| None).expect("config");
    kreach::run(&config).await.expect("report")
}

fn check(faults: &[Fault], report: &Report) {
    let names: Vec<&str> = faults.iter().map(|f| f.name()).collect();
    if let Err(why) = kreach::verdict_consistent(report) {
        panic!("{names:?}: {why}\n{:#?}", report.findings);
    }
    // Faults that still work today are warnings by contract (a certificate about to expire,
    // traffic crossing zones); the AWS APIs reached through NAT instead of interface endpoints are
    // a fact worth knowing, not a fault; every other fault fails.
    let expected = |f: &Fault| match f {
        Fault::None | Fault::AwsApiPublic => Status::Pass,
        Fault::ExpiringCert
        | Fault::ZonalRecordMissing
        | Fault::ZonalRecordByAzName
        | Fault::ZoneTooBroad
        | Fault::ClientIdleTimeout => Status::Warn,
        _ => Status::Fail,
    };
    let worst = faults.iter().map(expected).max_by_key(|s| match s {
        Status::Pass => 0,
        Status::Warn => 1,
        _ => 2,
    });
    let findings = &report.findings;
    match worst {
        Some(Status::Fail) => {
            assert_eq!(report.status, Status::Fail, "{names:?}: the verdict must say FAIL: {findings:#?}")
        }
        Some(Status::Warn) => assert_ne!(report.status, Status::Pass, "{names:?}: {findings:#?}"),
        _ => assert_ne!(report.status, Status::Fail, "{names:?}: {findings:#?}"),
    }
    assert_eq!(report.exit_code(), if report.status == Status::Fail { 1 } else { 0 }, "{names:?}");
    assert!(
        !report.findings.iter().any(|f| f.code.as_str() == "unexplained-failure"),
        "{names:?}: a lab fault deserves a specific diagnosis: {:#?}",
        report.findings
    );
}

fn in_process() -> Vec<Fault> {
    Fault::ALL.iter().copied().filter(|f| f.labs() != Labs::NetnsOnly).collect()
}

#[tokio::test]
async fn every_single_fault_gives_a_verdict_that_matches_the_matrix() {
    for fault in in_process() {
        let report = diagnose(&[fault]).await;
        check(&[fault], &report);
    }
}

/// Two faults at once: each pair breaks two different hops (or one hop two ways), and the
/// verdict still explains every failure.
#[tokio::test]
async fn pairs_of_faults_give_a_verdict_that_matches_the_matrix() {
    let pairs = [
        (Fault::ZonalRecordPublic, Fault::AzDown),
        (Fault::ZonalRecordMissing, Fault::AzDown),
        (Fault::ZonalRecordByAzName, Fault::BrokerDown),
        (Fault::BrokerNameUnresolvable, Fault::HttpsPortDropped),
        (Fault::WildcardMissing, Fault::CertWrongName),
        (Fault::ExpiringCert, Fault::AzDown),
        (Fault::UnknownCa, Fault::BrokerDown),
        (Fault::PlaintextListener, Fault::ZonalRecordPublic),
        (Fault::BrokerDown, Fault::AzDown),
        (Fault::ZoneNotAssociated, Fault::PortRefused),
        (Fault::NoNat, Fault::ZonalRecordMissing),
        (Fault::AwsApiPublic, Fault::BrokerNameUnresolvable),
    ];
    for (a, b) in pairs {
        let report = diagnose(&[a, b]).await;
        check(&[a, b], &report);
    }
}

/// The case that once passed: one zone's brokers resolve to a public address that does not
/// answer. The verdict is FAIL, and the finding names the zone, the brokers and the record.
#[tokio::test]
async fn a_zone_resolving_publicly_is_an_error_naming_zone_brokers_and_record() {
    let report = diagnose(&[Fault::ZonalRecordPublic]).await;
    assert_eq!(report.status, Status::Fail, "{:#?}", report.findings);
    let f = report.findings.iter().find(|f| f.code.as_str() == "dns-public-answer").expect("dns-public-answer");
    assert!(
        f.summary.contains("usw2-az2") && f.summary.contains("broker 2") && f.summary.contains("broker 5"),
        "{}",
        f.summary
    );
    assert!(f.fix.contains("*.usw2-az2."), "{}", f.fix);
}

/// The check itself: a report whose matrix fails with no finding explaining it is inconsistent.
#[tokio::test]
async fn an_unexplained_failing_cell_is_caught() {
    let mut report = diagnose(&[Fault::None]).await;
    kreach::verdict_consistent(&report).expect("the healthy lab is consistent");
    report.targets[0].stages[1].status = kreach::StageStatus::Fail;
    let err = kreach::verdict_consistent(&report).expect_err("a failing cell without a finding");
    assert!(err.contains(&report.targets[0].target), "{err}");
}

/// A DNS Firewall rule blocking the public glb hop (NXDOMAIN without SOA) while public DNS has
/// the CNAME: the finding says the path is blocked and where to look, and no fix advises a private
/// zone for a domain the provider publishes (it would shadow every glb name of the region).
#[tokio::test]
async fn a_blocked_public_hop_is_named_and_no_fix_shadows_the_providers_domain() {
    let report = diagnose(&[Fault::GlbHopBlocked]).await;
    let codes: Vec<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(codes.contains(&"dns-public-chase-failed"), "{codes:?}");
    assert!(!codes.contains(&"dns-nxdomain") && !codes.contains(&"dns-private-record-missing"), "{codes:?}");
    let f = report.findings.iter().find(|f| f.code.as_str() == "dns-public-chase-failed").expect("finding");
    assert!(f.summary.contains("without an SOA") && f.summary.contains("public DNS"), "{}", f.summary);
    assert!(f.fix.contains("DNS Firewall"), "{}", f.fix);
    for f in &report.findings {
        assert!(!f.fix.contains("create `*.us-west-2.aws.glb.confluent.cloud`"), "{}: {}", f.code.as_str(), f.fix);
        assert!(!f.fix.contains("hosted zone `us-west-2.aws.glb.confluent.cloud`"), "{}: {}", f.code.as_str(), f.fix);
    }
}

/// A blackholed port is a timeout once the kernel's third SYN went unanswered, not after the
/// whole deadline; the attempt says how many SYNs went out.
#[tokio::test]
async fn a_blackholed_port_is_reported_after_three_unanswered_syns() {
    let lab = Lab::start(Fault::KafkaPortDropped).await.expect("lab");
    let mut o = options(&lab, false);
    o.timeout_secs = Some(10.0);
    let report = kreach::run(&o.validate(&|_| None).expect("config")).await.expect("report");
    assert!(report.elapsed_ms < 10_000, "waited for the deadline: {} ms", report.elapsed_ms);
    let errors: Vec<&str> =
        report.targets[0].addresses.iter().filter_map(|a| a.tcp.as_ref()?.error.as_deref()).collect();
    assert!(!errors.is_empty() && errors.iter().all(|e| e.contains("3 SYNs unanswered")), "{errors:?}");
    assert!(report.findings.iter().any(|f| f.code.as_str() == "tcp-timeout"));
}

/// A VPC resolver with nothing listening answers ICMP port unreachable: that is the cause, said
/// at once (not after the resolver library's retries time out).
#[tokio::test]
async fn a_resolver_answering_port_unreachable_is_an_immediate_cause() {
    let lab = Lab::start(Fault::ResolverDown).await.expect("lab");
    let mut o = options(&lab, false);
    o.timeout_secs = Some(10.0);
    let report = kreach::run(&o.validate(&|_| None).expect("config")).await.expect("report");
    let lookup = &report.targets[0].dns.as_ref().expect("dns").lookup;
    assert!(lookup.error.as_deref().is_some_and(|e| e.contains("ICMP port unreachable")), "{lookup:?}");
    assert!(lookup.elapsed_ms < 2000, "the retries were waited for: {} ms", lookup.elapsed_ms);
    assert!(report.findings.iter().any(|f| f.code.as_str() == "dns-resolver-unreachable"));
}

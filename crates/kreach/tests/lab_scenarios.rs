//! Every fault of the in-process lab (real hickory DNS server, real rustls endpoints on loopback)
//! diagnosed by the library, asserting the exact error/warning codes and where they point.

use std::time::Duration;

use kreach::{
    CheckConfig, FindingCode, HostPort, Report, Role, SecurityProtocol, Severity, Stage, StageStatus, Status,
};
use kreach_lab::{Fault, LAB_PRIVATE_CIDR, Lab};

fn lab_config(lab: &Lab, public: bool) -> CheckConfig {
    let bootstrap = HostPort::parse(&lab.bootstrap, 9092).expect("lab bootstrap parses");
    let mut config = CheckConfig::for_bootstrap(bootstrap)
        .with_resolvers(vec![lab.resolver])
        .with_private_cidrs(vec![LAB_PRIVATE_CIDR.parse().expect("cidr")])
        .with_ca_file(lab.ca_file())
        .expect("lab CA readable")
        .with_https_port(Some(lab.https_port))
        .with_security_protocol(SecurityProtocol::Ssl)
        .with_timeout(Duration::from_secs(3));
    if public {
        config = config.with_public_resolvers(vec![lab.public_resolver]);
    }
    config
}

async fn diagnose(fault: Fault) -> (Lab, Report) {
    let lab = Lab::start(fault).await.expect("lab starts");
    let report = kreach::run(&lab_config(&lab, true)).await.expect("run");
    (lab, report)
}

/// Error and warning codes, sorted and deduplicated.
fn problems(report: &Report) -> Vec<&'static str> {
    report.codes_at_least(Severity::Warning).iter().map(|c| c.as_str()).collect()
}

fn target(report: &Report, role: Role) -> &kreach::TargetReport {
    report.targets.iter().find(|t| t.role == role).expect("target of that role")
}

#[tokio::test]
async fn healthy_lab_passes_with_no_error_or_warning() {
    let (lab, report) = diagnose(Fault::None).await;
    assert_eq!(problems(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    assert_eq!(report.status, Status::Pass);
    assert_eq!(report.targets.len(), 2 + kreach_lab::LAB_BROKERS, "Kafka port, HTTPS port, every broker");
    for t in &report.targets {
        for s in &t.stages {
            assert_eq!(s.status, StageStatus::Pass, "{} {:?}: {}", t.target, s.stage, s.summary);
        }
        let expected = if t.role == Role::Broker { 1 } else { 3 };
        assert_eq!(t.addresses.len(), expected, "{}: regional names get every AZ, zonal names one", t.target);
    }
    // Metadata: every broker, advertised by its zonal name, probed, and landing in its own zone.
    let cluster = report.cluster.as_ref().expect("metadata");
    let advertised: Vec<&str> = cluster.brokers.iter().map(|b| b.host.as_str()).collect();
    assert_eq!(advertised, lab.brokers.iter().map(String::as_str).collect::<Vec<_>>());
    for t in report.targets.iter().filter(|t| t.role == Role::Broker) {
        let az = t.broker.as_ref().and_then(|b| b.az_id.clone()).expect("AZ ID from the name");
        let eni = lab.azs.iter().find(|a| a.az_id == az).expect("lab zone").eni.to_string();
        assert_eq!(t.addresses[0].ip, eni, "{} resolves to its own zone's endpoint address", t.target);
        assert_eq!(t.stage(Stage::Kafka).map(|s| s.status), Some(StageStatus::Pass));
    }
    assert_eq!(report.zones.len(), 3);
    assert!(report.zones.iter().all(|z| z.status == StageStatus::Pass && z.passed == 2), "{:?}", report.zones);
    let dns = target(&report, Role::Bootstrap).dns.as_ref().expect("dns detail");
    assert_eq!(dns.lookup.cname_chain.len(), 1, "wildcard CNAME to the regional vpce name");
    assert!(dns.lookup.cname_chain[0].target.starts_with("vpce-"));
    let ips: Vec<&str> = dns.lookup.addresses.iter().map(|a| a.ip.as_str()).collect();
    let mut expected: Vec<String> = lab.azs.iter().map(|a| a.eni.to_string()).collect();
    expected.sort();
    let mut got: Vec<String> = ips.iter().map(|s| s.to_string()).collect();
    got.sort();
    assert_eq!(got, expected);
    assert!(dns.lookup.addresses.iter().all(|a| a.private && a.ttl > 0));
    let https = target(&report, Role::Https);
    for a in &https.addresses {
        let h = a.https.as_ref().expect("https attempt");
        assert_eq!(h.status_code, Some(401));
        let tls = a.tls.as_ref().expect("tls");
        assert_eq!(tls.alpn.as_deref(), Some("http/1.1"));
        let cert = tls.peer_certificate.as_ref().expect("peer cert");
        assert!(cert.name_covered && cert.days_to_expiry > 30);
        assert!(cert.sans.iter().any(|s| s == "*.abc123.us-west-2.aws.confluent.cloud"));
    }
    assert_eq!(report.findings_with(FindingCode::DnsPrivateZoneInEffect).count(), 1, "one DNS verdict per host");
    assert_eq!(report.exit_code(), 0);
}

/// The verdict is fixed at DNS (public addresses where private ones are due): the connects to
/// those addresses, which a private subnet's SYNs never answer, get the short confirmation budget
/// and the report says what it did not wait for, instead of waiting out the connect timeout.
#[tokio::test]
async fn a_verdict_fixed_by_dns_is_not_waited_out_on_dropped_public_addresses() {
    let (_lab, report) = diagnose(Fault::PublicAnswerDropped).await;
    assert_eq!(problems(&report), ["dns-public-answer"], "{:#?}", report.findings);
    let bootstrap = target(&report, Role::Bootstrap);
    let address = &bootstrap.addresses[0];
    assert!(!address.private);
    assert_eq!(address.tcp.as_ref().map(|t| t.outcome), Some(kreach::report::TcpOutcome::Timeout));
    let why = address.not_waited_for.as_deref().expect("not waited for");
    assert!(
        why.contains("DNS answer") && why.contains(&format!("{} ms", kreach::limits::CONFIRMATION_BUDGET.as_millis())),
        "{why}"
    );
    let tcp_ms = address.tcp.as_ref().map_or(u64::MAX, |t| t.elapsed_ms);
    assert!(tcp_ms < 1500, "the confirmation budget, not the {} ms connect timeout: {tcp_ms} ms", 3300);
    let table = kreach::render::table(&report, false);
    assert!(table.contains("Not waited for: "), "{table}");
    assert!(kreach::verdict_consistent(&report).is_ok());
    // A private answer still gets the connect timeout (or what the deadline leaves of it):
    // nothing is cut to the confirmation budget there.
    let (_lab, report) = diagnose(Fault::KafkaPortDropped).await;
    let address = &target(&report, Role::Bootstrap).addresses[0];
    assert!(address.not_waited_for.is_none());
    let budget = kreach::limits::CONFIRMATION_BUDGET.as_millis() as u64;
    assert!(address.tcp.as_ref().is_some_and(|t| t.elapsed_ms > 4 * budget), "{:?}", address.tcp);
}

#[tokio::test]
async fn zone_not_associated_is_a_public_answer_not_a_tcp_problem() {
    let (_lab, report) = diagnose(Fault::ZoneNotAssociated).await;
    assert_eq!(problems(&report), ["dns-public-answer"]);
    let f = report.findings_with(FindingCode::DnsPublicAnswer).next().expect("finding");
    assert!(f.summary.contains("the same answer as public DNS"), "{}", f.summary);
    assert!(f.summary.contains("refused"), "TCP evidence folded in: {}", f.summary);
    assert!(f.fix.contains("Associate the private hosted zone `abc123.us-west-2.aws.confluent.cloud`"), "{}", f.fix);
    assert_eq!(report.status, Status::Fail);
}

#[tokio::test]
async fn wildcard_missing_is_a_missing_private_record() {
    let (_lab, report) = diagnose(Fault::WildcardMissing).await;
    assert_eq!(problems(&report), ["dns-private-record-missing"]);
    let f = report.findings_with(FindingCode::DnsPrivateRecordMissing).next().expect("finding");
    assert!(f.fix.contains("`*.abc123.us-west-2.aws.confluent.cloud` CNAME"), "{}", f.fix);
    let t = target(&report, Role::Bootstrap);
    assert_eq!(t.stage(Stage::Tcp).map(|s| s.status), Some(StageStatus::Skipped));
}

#[tokio::test]
async fn wildcard_missing_without_public_resolver_is_nxdomain() {
    let lab = Lab::start(Fault::WildcardMissing).await.expect("lab");
    let report = kreach::run(&lab_config(&lab, false)).await.expect("run");
    assert_eq!(problems(&report), ["dns-nxdomain"]);
    let dns = report.targets[0].dns.as_ref().expect("dns");
    assert_eq!(dns.lookup.negative_zone.as_deref(), Some("abc123.us-west-2.aws.confluent.cloud"));
    assert!(dns.public.is_none(), "no public resolver contacted unless named");
}

#[tokio::test]
async fn resolver_down_is_reported_within_the_deadline() {
    let (_lab, report) = diagnose(Fault::ResolverDown).await;
    assert_eq!(problems(&report), ["dns-resolver-unreachable"]);
    assert!(report.elapsed_ms <= report.timeout_ms + 1000, "{} ms", report.elapsed_ms);
}

#[tokio::test]
async fn dropped_kafka_port_times_out_once_not_per_address() {
    let (_lab, report) = diagnose(Fault::KafkaPortDropped).await;
    assert_eq!(problems(&report), ["tcp-timeout"]);
    let f = report.findings_with(FindingCode::TcpTimeout).next().expect("finding");
    assert_eq!(f.addresses.len(), 3);
    assert!(f.fix.contains("security group"), "{}", f.fix);
    let kafka = target(&report, Role::Bootstrap);
    assert_eq!(f.target, kafka.target);
    assert_eq!(kafka.stage(Stage::Tls).map(|s| s.status), Some(StageStatus::Skipped));
    assert_eq!(target(&report, Role::Https).stage(Stage::Https).map(|s| s.status), Some(StageStatus::Pass));
    // Three blackholed addresses cost one deadline, not three.
    assert!(report.elapsed_ms <= report.timeout_ms + 1000, "{} ms", report.elapsed_ms);
}

#[tokio::test]
async fn dropped_https_port_points_at_443_rule() {
    let (_lab, report) = diagnose(Fault::HttpsPortDropped).await;
    assert_eq!(problems(&report), ["tcp-timeout"]);
    let f = report.findings_with(FindingCode::TcpTimeout).next().expect("finding");
    assert_eq!(f.target, target(&report, Role::Https).target);
    assert!(f.fix.contains("HTTPS/REST"), "{}", f.fix);
}

#[tokio::test]
async fn refused_port_is_distinct_from_dropped() {
    let (_lab, report) = diagnose(Fault::PortRefused).await;
    assert_eq!(problems(&report), ["tcp-refused"]);
}

#[tokio::test]
async fn certificate_for_another_name_is_a_name_mismatch_with_evidence() {
    let (_lab, report) = diagnose(Fault::CertWrongName).await;
    assert_eq!(problems(&report), ["tls-name-mismatch"]);
    let f = report.findings_with(FindingCode::TlsNameMismatch).next().expect("finding");
    assert!(f.summary.contains("other-service.example.net"), "{}", f.summary);
    let cert =
        report.targets[0].addresses[0].tls.as_ref().and_then(|t| t.peer_certificate.as_ref()).expect("cert kept");
    assert!(!cert.name_covered);
}

#[tokio::test]
async fn unknown_ca_is_an_unknown_issuer() {
    let (_lab, report) = diagnose(Fault::UnknownCa).await;
    assert_eq!(problems(&report), ["tls-unknown-issuer"]);
    let f = report.findings_with(FindingCode::TlsUnknownIssuer).next().expect("finding");
    assert!(f.summary.contains("Unknown Interception CA"), "{}", f.summary);
}

#[tokio::test]
async fn insecure_skips_verification_and_says_so() {
    let lab = Lab::start(Fault::UnknownCa).await.expect("lab");
    let report = kreach::run(&lab_config(&lab, true).with_insecure(true)).await.expect("run");
    assert_eq!(problems(&report), ["tls-verification-disabled"]);
    assert_eq!(report.status, Status::Warn);
    assert_eq!(report.settings.tls_verification, kreach::report::TlsVerification::Disabled);
}

/// `--insecure` turns verification off; the password then stays home unless explicitly allowed.
#[tokio::test]
async fn insecure_alone_does_not_send_the_password() {
    let lab = Lab::start(Fault::UnknownCa).await.expect("lab");
    let mut config = lab_config(&lab, false).with_insecure(true).with_security_protocol(SecurityProtocol::SaslSsl);
    config.sasl = Some(kreach::input::Sasl::new("PLAIN", Some("key".into()), Some(kreach::Secret::new("pw"))));
    let report = kreach::run(&config).await.expect("run");
    assert_eq!(problems(&report), ["tls-verification-disabled", "kafka-credentials-withheld"]);
    let kafka = target(&report, Role::Bootstrap).addresses[0].kafka.as_ref().expect("kafka");
    assert_eq!(kafka.sasl_mechanism, None, "no SASL exchange started");
    assert!(kafka.credentials_withheld.as_deref().is_some_and(|w| w.contains("--insecure")));

    // Explicitly allowed: the credentials go (the lab's brokers offer no SASL, which says they went).
    let report = kreach::run(&config.with_allow_insecure_credentials(true)).await.expect("run");
    assert!(problems(&report).contains(&"kafka-sasl-mechanism-unsupported"), "{:?}", problems(&report));
    assert!(report.settings.allow_insecure_credentials);
    // A listener without SASL is named as such: the port or protocol is wrong, not the mechanism.
    let kafka = target(&report, Role::Bootstrap).addresses[0].kafka.as_ref().expect("kafka");
    assert!(kafka.no_sasl, "{kafka:?}");
    let f = report.findings_with(FindingCode::KafkaSaslMechanismUnsupported).next().expect("finding");
    assert!(f.summary.contains("does not do SASL"), "{}", f.summary);
    assert!(f.fix.contains("does not do SASL") && f.fix.contains("security.protocol"), "{}", f.fix);
    assert!(!f.fix.contains("refused") && !f.fix.contains("Set sasl.mechanism"), "{}", f.fix);
}

#[tokio::test]
async fn expired_certificate_is_expired() {
    let (_lab, report) = diagnose(Fault::ExpiredCert).await;
    assert_eq!(problems(&report), ["tls-expired"]);
    let cert = report.targets[0].addresses[0].tls.as_ref().and_then(|t| t.peer_certificate.as_ref()).expect("cert");
    assert!(cert.days_to_expiry < 0);
}

#[tokio::test]
async fn expiring_certificate_is_a_warning_only() {
    let (_lab, report) = diagnose(Fault::ExpiringCert).await;
    assert_eq!(problems(&report), ["tls-expiring-soon"]);
    assert_eq!(report.status, Status::Warn);
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test]
async fn plaintext_server_on_tls_port_is_not_tls() {
    let (_lab, report) = diagnose(Fault::PlaintextListener).await;
    assert_eq!(problems(&report), ["tls-not-tls"]);
    let f = report.findings_with(FindingCode::TlsNotTls).next().expect("finding");
    assert!(f.summary.contains("HTTP/1.1 400"), "quotes what the peer sent: {}", f.summary);
    assert_eq!(target(&report, Role::Https).stage(Stage::Https).map(|s| s.status), Some(StageStatus::Skipped));
}

#[tokio::test]
async fn one_dead_zone_is_not_the_same_as_all_dead() {
    let (lab, report) = diagnose(Fault::AzDown).await;
    assert_eq!(problems(&report), ["tcp-some-addresses-failed", "zone-unreachable"]);
    let dead = lab.azs[1].eni.to_string();
    for f in report.findings_with(FindingCode::TcpSomeAddressesFailed) {
        assert_eq!(f.addresses, vec![dead.clone()]);
    }
    assert_eq!(report.findings_with(FindingCode::TcpSomeAddressesFailed).count(), 2, "both ports");
    // The zone's brokers read as one dead zone, not as separate broken brokers.
    let zone = report.findings_with(FindingCode::ZoneUnreachable).collect::<Vec<_>>();
    assert_eq!(zone.len(), 1);
    assert!(zone[0].summary.contains("usw2-az2"), "{}", zone[0].summary);
    assert_eq!(report.findings_with(FindingCode::BrokerUnreachable).count(), 0);
    let verdicts: Vec<(&str, StageStatus)> = report.zones.iter().map(|z| (z.az_id.as_str(), z.status)).collect();
    assert_eq!(
        verdicts,
        [("usw2-az1", StageStatus::Pass), ("usw2-az2", StageStatus::Fail), ("usw2-az3", StageStatus::Pass)]
    );
}

#[tokio::test]
async fn missing_zonal_record_is_a_cross_zone_warning_with_the_record_to_create() {
    let (_lab, report) = diagnose(Fault::ZonalRecordMissing).await;
    assert_eq!(problems(&report), ["dns-zonal-mismatch"]);
    assert_eq!(report.status, Status::Warn, "it works, but crosses zones");
    let findings: Vec<_> = report.findings_with(FindingCode::DnsZonalMismatch).collect();
    assert_eq!(findings.len(), 2, "both brokers of usw2-az2");
    assert!(findings[0].fix.contains("`*.usw2-az2.abc123.us-west-2.aws.confluent.cloud` CNAME"), "{}", findings[0].fix);
}

#[tokio::test]
async fn zonal_record_named_by_az_name_gets_the_record_by_az_id() {
    let (_lab, report) = diagnose(Fault::ZonalRecordByAzName).await;
    assert_eq!(problems(&report), ["dns-zonal-mismatch"]);
    let f = report.findings_with(FindingCode::DnsZonalMismatch).next().expect("finding");
    assert!(f.fix.contains("`*.usw2-az2.abc123.us-west-2.aws.confluent.cloud` CNAME"), "{}", f.fix);
}

#[tokio::test]
async fn the_in_process_lab_refuses_a_netns_only_fault_by_name() {
    let err = kreach_lab::Lab::start(Fault::SaslBroker).await.err().expect("refused");
    assert!(err.to_string().contains("`sasl-broker`") && err.to_string().contains("network-namespace"), "{err}");
}

#[tokio::test]
async fn unresolvable_broker_name_is_reported_while_bootstrap_passes() {
    let (_lab, report) = diagnose(Fault::BrokerNameUnresolvable).await;
    assert_eq!(problems(&report), ["broker-dns-nxdomain"]);
    let f = report.findings_with(FindingCode::BrokerDnsNxdomain).next().expect("finding");
    assert!(f.summary.contains("broker 3") && f.summary.contains("lab.invalid"), "{}", f.summary);
    let bootstrap = target(&report, Role::Bootstrap);
    assert!(bootstrap.stages.iter().all(|s| s.status == StageStatus::Pass));
}

#[tokio::test]
async fn broker_down_behind_a_working_endpoint_is_that_broker_only() {
    let (_lab, report) = diagnose(Fault::BrokerDown).await;
    assert_eq!(problems(&report), ["broker-unreachable"]);
    let f = report.findings_with(FindingCode::BrokerUnreachable).next().expect("finding");
    assert!(f.summary.contains("broker 4"), "{}", f.summary);
    assert_eq!(f.stage, Stage::Kafka, "TCP and TLS to the endpoint work; Kafka does not");
}

#[tokio::test]
async fn plaintext_client_against_the_tls_listener_is_a_protocol_mismatch() {
    let lab = Lab::start(Fault::None).await.expect("lab");
    let config = lab_config(&lab, true).with_security_protocol(SecurityProtocol::Plaintext);
    let report = kreach::run(&config).await.expect("run");
    assert_eq!(problems(&report), ["kafka-protocol-mismatch"], "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::KafkaProtocolMismatch).next().expect("finding");
    assert!(f.fix.contains("SSL or SASL_SSL"), "{}", f.fix);
    assert!(report.cluster.is_none(), "no Metadata over a mismatched protocol");
}

#[tokio::test]
async fn tls_client_against_a_plaintext_kafka_listener_is_a_protocol_mismatch() {
    // The mock brokers themselves are plaintext listeners.
    let kafka = kreach_lab::MockKafka::start(&[("127.0.0.1".into(), 9092)]).expect("mock cluster");
    let addr = kafka.listeners[0].1;
    let config = CheckConfig::for_bootstrap(HostPort::parse(&addr.to_string(), 9092).expect("addr"))
        .with_private_cidrs(vec!["127.0.0.0/8".parse().expect("cidr")])
        .with_https_port(None)
        .with_security_protocol(SecurityProtocol::SaslSsl)
        .with_timeout(Duration::from_secs(3));
    let report = kreach::run(&config).await.expect("run");
    assert_eq!(problems(&report), ["kafka-protocol-mismatch"], "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::KafkaProtocolMismatch).next().expect("finding");
    assert!(f.fix.contains("PLAINTEXT or SASL_PLAINTEXT"), "{}", f.fix);
}

#[tokio::test]
async fn zone_addresses_check_each_broker_lands_in_its_own_zone() {
    let lab = Lab::start(Fault::None).await.expect("lab");
    let right: Vec<(String, std::net::IpAddr)> = lab.azs.iter().map(|a| (a.az_id.to_string(), a.eni.into())).collect();
    let report = kreach::run(&lab_config(&lab, false).with_zone_addresses(right.clone())).await.expect("run");
    assert_eq!(problems(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    assert_eq!(report.settings.zone_addresses.len(), 3);
    // Swap two zones' addresses: the brokers of both zones now land "elsewhere".
    let mut swapped = right;
    let (a, b) = (swapped[0].1, swapped[1].1);
    swapped[0].1 = b;
    swapped[1].1 = a;
    let report = kreach::run(&lab_config(&lab, false).with_zone_addresses(swapped)).await.expect("run");
    assert_eq!(problems(&report), ["dns-zonal-mismatch"]);
    let zones: std::collections::BTreeSet<String> = report
        .findings_with(FindingCode::DnsZonalMismatch)
        .map(|f| f.summary.split(" in ").nth(1).unwrap_or("").split(' ').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(zones.into_iter().collect::<Vec<_>>(), ["usw2-az1", "usw2-az2"]);
}

/// The Markdown report opens with the path as a Mermaid diagram; the broken hops are marked.
#[tokio::test]
async fn the_markdown_diagram_marks_the_broken_hops() {
    let (_lab, healthy) = diagnose(Fault::None).await;
    let md = kreach::render::markdown(&healthy);
    assert!(md.contains("```mermaid\nflowchart LR"), "{md}");
    assert!(!md.contains(" broken\n"), "nothing broken: {md}");
    assert_eq!(md.matches("--> B").count(), 3, "one broker node per zone: {md}");
    let (_lab, down) = diagnose(Fault::AzDown).await;
    let md = kreach::render::markdown(&down);
    let broken: Vec<&str> =
        md.lines().filter(|l| l.trim_start().starts_with("class ") && l.ends_with(" broken")).collect();
    assert_eq!(broken.len(), 2, "the dead zone's endpoint address and its brokers: {md}");
    assert!(md.contains("127.10.2.10 (usw2-az2)") && md.contains("brokers usw2-az2 0/2"), "{md}");
    let (_lab, nx) = diagnose(Fault::WildcardMissing).await;
    assert!(kreach::render::markdown(&nx).contains("class Z broken"), "DNS broken at the zone");
}

/// `--watch` prints what changed between two runs of the same check: here the CA is added.
#[tokio::test]
async fn changes_between_two_runs_name_the_hop_that_moved_and_the_finding_fixed() {
    let lab = Lab::start(Fault::None).await.expect("lab");
    let mut without_ca = lab_config(&lab, false);
    without_ca.ca_file = None;
    let before = kreach::run(&without_ca).await.expect("run");
    let after = kreach::run(&lab_config(&lab, false)).await.expect("run");
    let changes = kreach::render::changes(&before, &after);
    assert!(changes.iter().any(|c| c.starts_with("status FAIL → PASS")), "{changes:#?}");
    assert!(changes.iter().any(|c| c.contains(" tls: FAIL → PASS")), "{changes:#?}");
    assert!(changes.iter().any(|c| c.starts_with("- tls-unknown-issuer") && c.ends_with("(fixed)")), "{changes:#?}");
    let again = kreach::run(&lab_config(&lab, false)).await.expect("run");
    assert_eq!(kreach::render::changes(&after, &again), Vec::<String>::new(), "timings alone are no change");
}

#[tokio::test]
async fn the_table_fits_100_columns_and_names_the_critical_path() {
    // Healthy: the chain that ends last runs through the bootstrap (DNS, then the address that
    // answered Metadata) into a broker's steps, and its steps fit in the run's time.
    let (_lab, healthy) = diagnose(Fault::None).await;
    let path = &healthy.critical_path;
    let bootstrap = &target(&healthy, Role::Bootstrap).target;
    let stages: Vec<Stage> = path.iter().filter(|s| &s.target == bootstrap).map(|s| s.stage).collect();
    assert_eq!(stages, [Stage::Dns, Stage::Tcp, Stage::Tls, Stage::Kafka], "{path:?}");
    let last = path.last().expect("a critical path");
    assert!(last.target.starts_with('b') && last.stage == Stage::Kafka, "a broker's ApiVersions ends it: {path:?}");
    let total: u64 = path.iter().map(|s| s.elapsed_ms).sum();
    assert!(total <= healthy.elapsed_ms + 5, "{total} ms of steps in a {} ms run", healthy.elapsed_ms);

    // A dead zone: what ended last is a TCP connect into it, waiting for the deadline.
    let (_lab, report) = diagnose(Fault::AzDown).await;
    let last = report.critical_path.last().expect("a critical path");
    assert_eq!(last.stage, Stage::Tcp, "{:?}", report.critical_path);
    let total: u64 = report.critical_path.iter().map(|s| s.elapsed_ms).sum();
    assert!(total <= report.elapsed_ms + 5, "{total} ms of steps in a {} ms run", report.elapsed_ms);

    let table = kreach::render::table(&report, false);
    let widest = table.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest <= 100, "the table is {widest} columns wide:\n{table}");
    let matrix: Vec<&str> = table.lines().take_while(|l| !l.starts_with("Critical path")).collect();
    assert!(table.starts_with("Targets in abc123.us-west-2.aws.confluent.cloud\n"), "{table}");
    assert!(
        !matrix.iter().skip(1).any(|l| l.contains("abc123.us-west-2")),
        "the domain is printed once, above the matrix:\n{table}"
    );
    assert!(matrix.iter().any(|l| l.contains("b2.usw2-az2:") && l.contains("FAIL")), "{table}");
    assert!(table.contains("Critical path: lkc-lab01:"), "{table}");
}

/// One question per name and record type: kreach asks the VPC resolver A and AAAA for each name
/// once and takes the CNAME chain from those answers. The lab's resolver (a real hickory server,
/// counting what it is asked) does not follow a chain into another zone, so kreach continues from
/// the chain's last name: each target asked once, never the first name again.
#[tokio::test]
async fn every_name_costs_one_question_per_record_type() {
    let lab = Lab::start(Fault::None).await.expect("lab starts");
    let report = kreach::run(&lab_config(&lab, false)).await.expect("run");
    assert_eq!(report.status, Status::Pass, "{:#?}", report.findings);
    let queries = lab.resolver_queries();
    let bootstrap_host = lab.bootstrap.rsplit_once(':').expect("host:port").0.to_string();
    let mut names = vec![bootstrap_host];
    names.extend(lab.brokers.iter().cloned());
    let mut asked: Vec<&String> = queries.iter().map(|(n, _)| n).collect();
    asked.dedup();
    for name in asked {
        let expected = if names.contains(name) { 1 } else { usize::from(name.starts_with("vpce-")) };
        for kind in ["A", "AAAA"] {
            let count = queries.iter().filter(|(n, t)| n == name && t == kind).count();
            assert_eq!(count, expected, "{name} {kind} asked {count} times; every question: {queries:?}");
        }
    }
    for name in &names {
        assert!(queries.iter().any(|(n, _)| n == name), "{name} never asked: {queries:?}");
    }
}

/// The typed steps (`Diagnosis::on_step`): every stage of the bootstrap, each broker's, in the
/// order they happen on one address, with outcomes that read as the report's own words.
#[tokio::test]
async fn on_step_sees_every_step_as_it_happens() {
    use std::sync::{Arc, Mutex};
    let lab = Lab::start(Fault::BrokerDown).await.expect("lab");
    let config = lab_config(&lab, true);
    let seen: Arc<Mutex<Vec<kreach::Step>>> = Arc::default();
    let sink = seen.clone();
    let report = kreach::Diagnosis::new(&config)
        .on_step(move |step| sink.lock().expect("lock").push(step.clone()))
        .run()
        .await
        .expect("run");
    let steps = seen.lock().expect("lock").clone();
    let bootstrap = lab.bootstrap.clone();
    let on =
        |stage: kreach::Stage, target: &str| steps.iter().filter(|s| s.stage == stage && s.target == target).count();
    let host = bootstrap.rsplit_once(':').expect("port").0;
    assert_eq!(on(kreach::Stage::Dns, host), 1, "{steps:#?}");
    let addresses = target(&report, Role::Bootstrap).addresses.len();
    for stage in [kreach::Stage::Tcp, kreach::Stage::Tls, kreach::Stage::Kafka] {
        assert_eq!(on(stage, &bootstrap), addresses, "{stage:?} once per address: {steps:#?}");
    }
    // Broker 4 is down behind the endpoint: its Kafka step ended, and not as a pass.
    let down = steps
        .iter()
        .filter(|s| s.target.starts_with("b4.") && s.stage == kreach::Stage::Tls)
        .chain(steps.iter().filter(|s| s.target.starts_with("b4.") && s.stage == kreach::Stage::Kafka))
        .find(|s| s.outcome.is_some_and(|o| !o.passed()));
    assert!(down.is_some(), "{steps:#?}");
    assert!(steps.iter().all(|s| s.phase == kreach::StepPhase::Ended && s.elapsed_ms.is_some()));
    let labels: Vec<&str> = steps.iter().map(|s| s.outcome_label()).collect();
    assert!(labels.contains(&"answer") && labels.contains(&"connected") && labels.contains(&"ok"), "{labels:?}");
}

/// A dead zone's endpoint address: the bootstrap's connect to it waits its three SYNs out; the
/// brokers of that zone, whose connects to the same address started later, end with it (the same
/// drop), not three SYNs after their own start.
#[tokio::test]
async fn connects_to_an_address_already_seen_dropping_end_with_it() {
    let lab = Lab::start(Fault::AzDown).await.expect("lab");
    let report = kreach::run(&lab_config(&lab, true).with_timeout(Duration::from_secs(8))).await.expect("run");
    assert!(problems(&report).contains(&"zone-unreachable"), "{:?}", problems(&report));
    let dead = lab.azs[1].eni.to_string();
    let bootstrap = target(&report, Role::Bootstrap);
    let first = bootstrap.addresses.iter().find(|a| a.ip == dead).and_then(|a| a.tcp.as_ref()).expect("dead address");
    assert_eq!(first.outcome, kreach::report::TcpOutcome::Timeout);
    assert!(first.error.as_deref().is_some_and(|e| e.contains("3 SYNs unanswered")), "{first:?}");
    let brokers: Vec<&kreach::report::TcpAttempt> = report
        .targets
        .iter()
        .filter(|t| t.role == Role::Broker)
        .flat_map(|t| &t.addresses)
        .filter(|a| a.ip == dead)
        .filter_map(|a| a.tcp.as_ref())
        .collect();
    assert!(!brokers.is_empty());
    for b in &brokers {
        assert_eq!(b.outcome, kreach::report::TcpOutcome::Timeout);
        assert!(b.error.as_deref().is_some_and(|e| e.contains("the same drop")), "{b:?}");
        assert!(b.elapsed_ms < first.elapsed_ms, "ended with the first, not after: {b:?} vs {first:?}");
    }
    assert!(kreach::verdict_consistent(&report).is_ok());
}

/// A merge matches rows by role and `host:port`: the same bootstrap name on another port is
/// another row, and each row shows its own port (a real lab report, and the same one with its
/// bootstrap on another port).
#[tokio::test]
async fn merge_keeps_each_port_in_its_own_row() {
    let (_lab, report) = diagnose(Fault::None).await;
    let bootstrap = target(&report, Role::Bootstrap).clone();
    let mut moved = report.clone();
    for t in moved.targets.iter_mut().filter(|t| t.role == Role::Bootstrap) {
        t.port = bootstrap.port.wrapping_add(1);
        t.target = format!("{}:{}", t.host, t.port);
    }
    let merged = kreach::merge(&[("a".into(), report.clone()), ("b".into(), moved.clone())]);
    let rows: Vec<&str> = merged.rows.iter().map(|r| r.target.as_str()).collect();
    let moved_target = format!("{}:{}", bootstrap.host, bootstrap.port.wrapping_add(1));
    assert!(rows.contains(&bootstrap.target.as_str()) && rows.contains(&moved_target.as_str()), "{rows:?}");
    let row = |name: &str| merged.rows.iter().find(|r| r.target == name).expect("row");
    assert!(row(&bootstrap.target).cells[1].is_none(), "b has no bootstrap on the first port");
    assert!(row(&moved_target).cells[0].is_none(), "a has none on the second");
}

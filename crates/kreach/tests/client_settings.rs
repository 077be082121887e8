//! The client's own settings behind PrivateLink (issue 34, item 4): the properties file the
//! client uses, read by kreach, judged against the path the in-process lab plays (real hickory DNS,
//! real rustls endpoints on loopback). Warnings only, never a failure of the path; nothing judged
//! where the path does not run through an endpoint.

use std::time::Duration;

use kreach::input::CheckOptions;
use kreach::report::{ClientKind, FixAction};
use kreach::{FindingCode, Report, Severity, Status};
use kreach_lab::{Fault, LAB_PRIVATE_CIDR, Lab, LabLayout};

/// Runs the lab layout with a properties file holding `properties` (after bootstrap.servers and
/// security.protocol=SSL).
async fn run(layout: LabLayout, properties: &str) -> Report {
    let lab = Lab::start_layout(layout, Fault::None, kreach_lab::LAB_BROKERS).await.expect("lab starts");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("client.properties");
    std::fs::write(&path, format!("bootstrap.servers={}\nsecurity.protocol=SSL\n{properties}", lab.bootstrap))
        .expect("write");
    let mut options = CheckOptions::default();
    options.config_file = Some(path);
    options.no_https = true;
    let config = options
        .validate(&|_| None)
        .expect("valid options")
        .with_resolvers(vec![lab.resolver])
        .with_public_resolvers(vec![lab.public_resolver])
        .with_private_cidrs(vec![LAB_PRIVATE_CIDR.parse().expect("cidr")])
        .with_ca_file(lab.ca_file())
        .expect("lab CA readable")
        .with_timeout(Duration::from_secs(4));
    kreach::run(&config).await.expect("run")
}

fn warnings(report: &Report) -> Vec<&'static str> {
    report.codes_at_least(Severity::Warning).iter().map(|c| c.as_str()).collect()
}

fn set_property(report: &Report, code: FindingCode) -> Vec<(String, String)> {
    report
        .findings
        .iter()
        .filter(|f| f.code == code)
        .filter_map(|f| match &f.action {
            Some(FixAction::SetProperty { key, value }) => Some((key.clone(), value.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn an_idle_timeout_above_the_endpoints_is_a_warning_naming_the_value() {
    let report = run(LabLayout::Dedicated, "connections.max.idle.ms=540000\n").await;
    assert_eq!(warnings(&report), vec!["client-idle-timeout-above-endpoint"], "{:#?}", report.findings);
    assert_eq!(report.status, Status::Warn, "a warning, never a failure of the path");
    let f = report.findings.iter().find(|f| f.code == FindingCode::ClientIdleTimeoutAboveEndpoint).expect("finding");
    assert!(f.summary.contains("connections.max.idle.ms=540000"), "{}", f.summary);
    assert!(f.summary.contains("350 seconds"), "{}", f.summary);
    assert_eq!(
        set_property(&report, FindingCode::ClientIdleTimeoutAboveEndpoint),
        vec![("connections.max.idle.ms".to_string(), "300000".to_string())]
    );
    let client = report.settings.client.as_ref().expect("client settings reported");
    assert_eq!(client.kind, ClientKind::Librdkafka);
    assert!(client.properties.contains(&("connections.max.idle.ms".into(), "540000".into())));
}

#[tokio::test]
async fn unset_idle_timeouts_are_judged_by_whose_default_applies() {
    // A Java client (its JAAS line gives it away) leaves the property out: its default, 540000.
    let java = "sasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule \
                required username=\"k\" password=\"not-a-real-secret\";\n";
    let report = run(LabLayout::Dedicated, java).await;
    let f = report.findings.iter().find(|f| f.code == FindingCode::ClientIdleTimeoutAboveEndpoint).expect("warned");
    assert!(f.summary.contains("Java client's default, 540000"), "{}", f.summary);
    assert_eq!(report.settings.client.as_ref().map(|c| c.kind), Some(ClientKind::Java));
    let json = serde_json::to_string(&report).expect("json");
    assert!(!json.contains("not-a-real-secret"), "the password stays out of the report");

    // librdkafka's default is 0: never closed by the client.
    let report = run(LabLayout::Dedicated, "").await;
    let f = report.findings.iter().find(|f| f.code == FindingCode::ClientIdleTimeoutAboveEndpoint).expect("warned");
    assert!(f.summary.contains("librdkafka's default, 0"), "{}", f.summary);
}

#[tokio::test]
async fn safe_settings_raise_nothing_on_any_privatelink_layout() {
    let safe = "connections.max.idle.ms=300000\nclient.dns.lookup=use_all_dns_ips\nbroker.address.family=any\n\
                socket.connection.setup.timeout.ms=10000\nssl.endpoint.identification.algorithm=https\n";
    for layout in [LabLayout::Dedicated, LabLayout::DedicatedGlb, LabLayout::AccessPoint, LabLayout::EndpointPrivateDns]
    {
        let report = run(layout, safe).await;
        assert_eq!(warnings(&report), Vec::<&str>::new(), "{layout}: {:#?}", report.findings);
        assert_eq!(report.status, Status::Pass, "{layout}");
    }
}

#[tokio::test]
async fn each_risky_setting_is_named_with_its_value_and_the_safe_one() {
    let risky = "connections.max.idle.ms=300000\nclient.dns.lookup=resolve_canonical_bootstrap_servers_only\n\
                 broker.address.family=v6\nsocket.connection.setup.timeout.ms=1000\n\
                 ssl.endpoint.identification.algorithm=\n";
    let report = run(LabLayout::Dedicated, risky).await;
    assert_eq!(report.status, Status::Warn, "{:#?}", report.findings);
    let mut fixes = set_property(&report, FindingCode::ClientSettingRisky);
    fixes.sort();
    let expected: Vec<(String, String)> = [
        ("broker.address.family", "any"),
        ("client.dns.lookup", "use_all_dns_ips"),
        ("socket.connection.setup.timeout.ms", "10000"),
        ("ssl.endpoint.identification.algorithm", "https"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(fixes, expected, "{:#?}", report.findings);
    let family = report
        .findings
        .iter()
        .find(|f| matches!(&f.action, Some(FixAction::SetProperty { key, .. }) if key == "broker.address.family"))
        .expect("family finding");
    assert!(family.summary.contains("broker.address.family=v6"), "{}", family.summary);
    assert!(family.summary.contains("IPv4 addresses only"), "{}", family.summary);
    assert!(!report.codes_at_least(Severity::Error).iter().any(|_| true), "never an error: {:#?}", report.findings);
}

#[tokio::test]
async fn a_family_the_names_do_resolve_to_is_not_flagged() {
    let report = run(LabLayout::Dedicated, "connections.max.idle.ms=300000\nbroker.address.family=v4\n").await;
    assert_eq!(warnings(&report), Vec::<&str>::new(), "{:#?}", report.findings);
}

#[tokio::test]
async fn nothing_is_judged_where_the_path_runs_through_no_endpoint() {
    // The same listener dialled by its address: no provider layout, no chain to an endpoint.
    let lab = Lab::start_layout(LabLayout::Dedicated, Fault::None, kreach_lab::LAB_BROKERS).await.expect("lab");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("client.properties");
    let bootstrap = format!("{}:{}", lab.azs[0].eni, lab.kafka_port);
    std::fs::write(
        &path,
        format!("bootstrap.servers={bootstrap}\nsecurity.protocol=SSL\nconnections.max.idle.ms=540000\n"),
    )
    .expect("write");
    let mut options = CheckOptions::default();
    options.config_file = Some(path);
    options.no_https = true;
    let config = options
        .validate(&|_| None)
        .expect("valid options")
        .with_resolvers(vec![lab.resolver])
        .with_private_cidrs(vec![LAB_PRIVATE_CIDR.parse().expect("cidr")])
        .with_ca_file(lab.ca_file())
        .expect("lab CA readable")
        .with_timeout(Duration::from_secs(4));
    let report = kreach::run(&config).await.expect("run");
    assert!(report.settings.client.is_some(), "the settings are still reported");
    let client_codes = [FindingCode::ClientIdleTimeoutAboveEndpoint, FindingCode::ClientSettingRisky];
    assert!(!report.findings.iter().any(|f| client_codes.contains(&f.code)), "{:#?}", report.findings);
    assert!(!report.findings.is_empty(), "the run did reach the listener and judged it: {:#?}", report.findings);
}

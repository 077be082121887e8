//! The audit against moto server (a real AWS API emulator, installed by scripts/setup.sh), with
//! an account planted by fixtures/aws/moto_account.py (boto3): a healthy one and each fault, joined
//! with a real diagnosis of the in-process lab. Everything talks to 127.0.0.1 only.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use kreach::{CheckConfig, FindingCode, HostPort, Report, Stage};
use kreach_aws::AuditInput;
use kreach_lab::{Fault, LAB_DOMAIN, Lab};
use kreach_testkit::aws_codes;
use kreach_testkit::moto::Moto;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn start_moto() -> Moto {
    Moto::start(&root())
}

fn plant(moto: &Moto, scenario: &str) -> serde_json::Value {
    moto.plant(scenario, LAB_DOMAIN)
}

fn input(moto: &Moto, account: &serde_json::Value) -> AuditInput {
    let mut input = AuditInput::default();
    input.vpc_endpoint_id = account["vpc_endpoint_id"].as_str().map(str::to_string);
    input.domain = Some(LAB_DOMAIN.to_string());
    input.region = Some("us-west-2".into());
    input.endpoint_url = Some(moto.url.clone());
    input.static_credentials = Some(("testing".into(), "testing".into()));
    input
}

async fn lab_report(audit: kreach::report::AwsAudit) -> (Lab, Report) {
    lab_report_with(Fault::None, Some(audit)).await
}

/// The lab diagnosed, with `audit` joined to it as the CLI does (the audit ran beforehand).
async fn lab_report_with(fault: Fault, audit: Option<kreach::report::AwsAudit>) -> (Lab, Report) {
    let lab = Lab::start(fault).await.expect("lab");
    let config = kreach_testkit::lab_config(&lab, Duration::from_secs(3));
    let mut diagnosis = kreach::Diagnosis::new(&config);
    if let Some(audit) = audit {
        diagnosis = diagnosis.aws(move |_, _| async move { audit });
    }
    let report = diagnosis.run().await.expect("run");
    (lab, report)
}

async fn scenario(name: &str) -> (Report, serde_json::Value) {
    let moto = start_moto();
    let account = plant(&moto, name);
    let audit = kreach_aws::audit(&input(&moto, &account), Duration::from_secs(20)).await;
    let (_lab, report) = lab_report(audit).await;
    (report, account)
}

#[tokio::test]
async fn healthy_account_has_no_aws_finding_and_reads_everything() {
    let (report, account) = scenario("healthy").await;
    assert_eq!(aws_codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let audit = report.aws.as_ref().expect("audit");
    let ep = audit.endpoint.as_ref().expect("endpoint");
    assert_eq!(ep.id, account["vpc_endpoint_id"].as_str().expect("id"));
    assert!(ep.state.eq_ignore_ascii_case("available"), "{}", ep.state);
    assert_eq!(ep.interfaces.len(), 3, "one network interface per zone");
    assert!(ep.interfaces.iter().all(|i| i.az_id.starts_with("usw2-az") && !i.ip.is_empty()));
    assert!(audit.ingress.iter().all(|i| i.allowed) && audit.ingress.len() == 2);
    let zone = audit.hosted_zone.as_ref().expect("zone");
    assert!(zone.associated);
    assert_eq!(audit.expected_records.len(), 4, "* plus one per zone");
    // Joined with the network: the lab's brokers resolve to 127.10.x, not to the endpoint's
    // interfaces in this account, so every broker reads as outside its zone.
    assert!(report.findings_with(FindingCode::DnsZonalMismatch).count() >= 3);
}

#[tokio::test]
async fn each_planted_fault_gives_its_code() {
    let cases = [
        ("az-not-covered", "aws-az-not-covered"),
        ("sg-missing-9092", "aws-sg-missing-ingress"),
        ("vpc-dns-disabled", "aws-vpc-dns-disabled"),
        ("phz-missing", "aws-phz-missing"),
        ("phz-not-associated", "aws-phz-not-associated"),
        ("phz-other-network", "aws-phz-other-network"),
        ("record-missing", "aws-phz-record-missing"),
        ("record-wrong-target", "aws-phz-record-wrong-target"),
        ("record-other-endpoint", "aws-phz-record-wrong-target"),
        ("private-dns-enabled", "aws-private-dns-enabled"),
        ("record-ttl", "aws-phz-record-ttl"),
    ];
    for (name, code) in cases {
        let (report, account) = scenario(name).await;
        assert_eq!(
            aws_codes(&report),
            [code],
            "{name}: {:#?}",
            report.findings.iter().filter(|f| f.stage == Stage::Aws).collect::<Vec<_>>()
        );
        let f = report.findings.iter().find(|f| f.code.as_str() == code).expect("finding");
        assert!(!f.fix.is_empty() && !f.summary.is_empty());
        match code {
            "aws-sg-missing-ingress" => assert!(f.fix.contains("--port 9092"), "{}", f.fix),
            "aws-phz-record-missing" => assert!(f.fix.contains("CNAME vpce-"), "{}", f.fix),
            "aws-az-not-covered" => assert!(f.summary.contains("usw2-az3"), "{}", f.summary),
            "aws-phz-record-ttl" => assert!(f.summary.contains("TTL 300") && f.fix.contains("TTL 60"), "{}", f.summary),
            // The VPC's own zone is another network's: named, with the bootstrap that fits it.
            "aws-phz-other-network" => {
                let other = account["zone_name"].as_str().expect("zone name");
                assert!(f.summary.contains(other) && f.fix.contains(other), "{}", f.summary);
                let audit = report.aws.as_ref().expect("audit");
                assert!(audit.calls.iter().any(|c| c == "route53:ListHostedZonesByVPC"), "{:?}", audit.calls);
            }
            // The other endpoint described: the service it leads to, named.
            _ if name == "record-other-endpoint" => {
                let other = account["other_endpoint"].as_str().expect("other endpoint");
                assert!(
                    f.summary.contains(&format!("that is VPC endpoint {other} to service com.amazonaws.vpce.us-west-2.vpce-svc-0ffee0000000000aa")),
                    "{}",
                    f.summary
                );
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn denied_reads_name_the_permission_and_the_policy() {
    let moto = start_moto();
    let account = plant(&moto, "route53-denied");
    let mut input = input(&moto, &account);
    let key = account["access_key"].as_array().expect("keys");
    input.static_credentials =
        Some((key[0].as_str().expect("id").to_string(), key[1].as_str().expect("secret").to_string()));
    let audit = kreach_aws::audit(&input, Duration::from_secs(20)).await;
    assert!(audit.endpoint.is_some(), "EC2 reads are allowed: {audit:#?}");
    assert!(
        audit.denied.iter().any(|d| d.action == "route53:ListHostedZonesByName"),
        "{:?} {:?} {:?}",
        audit.denied,
        audit.errors,
        audit.calls
    );
    let (_lab, report) = lab_report(audit).await;
    assert_eq!(aws_codes(&report), ["aws-access-denied"], "no aws-phz-missing when the zone could not be read");
    // One finding per denied read (the Route 53 Resolver reads are denied to this principal too).
    let denied: Vec<&str> = report.findings_with(FindingCode::AwsAccessDenied).map(|f| f.fix.as_str()).collect();
    assert!(denied.iter().any(|fix| fix.contains("\"Action\": \"route53:ListHostedZonesByName\"")), "{denied:#?}");
}

#[tokio::test]
async fn no_reachable_api_is_unavailable_not_an_error() {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let mut input = AuditInput::default();
    input.vpc_endpoint_id = Some("vpce-0123".into());
    input.region = Some("us-west-2".into());
    input.endpoint_url = Some(format!("http://127.0.0.1:{port}"));
    input.static_credentials = Some(("testing".into(), "testing".into()));
    let audit = kreach_aws::audit(&input, Duration::from_secs(10)).await;
    assert!(audit.unavailable.is_some(), "{audit:#?}");
    let (_lab, report) = lab_report(audit).await;
    assert_eq!(aws_codes(&report), ["aws-unavailable"]);
    assert_eq!(report.status, kreach::Status::Pass, "info only");
}

#[tokio::test]
async fn the_audit_makes_no_mutating_call() {
    use base64::Engine;
    let moto = start_moto();
    let account = plant(&moto, "healthy");
    let recorder = |action: &str| {
        let out = Command::new("curl")
            .args(["-s", "-X", if action == "download-recording" { "GET" } else { "POST" }])
            .arg(format!("{}/moto-api/recorder/{action}", moto.url))
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    recorder("start-recording");
    let audit = kreach_aws::audit(&input(&moto, &account), Duration::from_secs(20)).await;
    recorder("stop-recording");
    assert!(audit.endpoint.is_some() && audit.hosted_zone.is_some(), "the audit read the account");
    let recording = recorder("download-recording");
    let mut actions = Vec::new();
    for line in recording.lines().filter(|l| !l.trim().is_empty()) {
        let entry: serde_json::Value = serde_json::from_str(line).expect("recording line");
        let method = entry["method"].as_str().unwrap_or("");
        let body = entry["body"].as_str().unwrap_or("");
        let body = if entry["body_encoded"] == true {
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(body).expect("base64"))
                .unwrap_or_default()
        } else {
            body.to_string()
        };
        let target = entry["headers"]
            .as_object()
            .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target")))
            .and_then(|(_, v)| v.as_str());
        if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
            actions.push(action.to_string());
            assert!(action.starts_with("Describe"), "EC2 call {action} is not read-only");
        } else if let Some(target) = target {
            // JSON 1.1 (Route 53 Resolver): every call is a POST; the target names the action.
            let action = target.rsplit('.').next().unwrap_or("");
            actions.push(target.to_string());
            assert!(["List", "Get", "Describe"].iter().any(|p| action.starts_with(p)), "{target} is not read-only");
        } else {
            // Route 53's REST API: reads are GETs.
            actions.push(format!("{method} {}", entry["url"].as_str().unwrap_or("")));
            assert_eq!(method, "GET", "Route 53 call {} is not read-only", entry["url"]);
        }
    }
    // The DNS Firewall reads moto lacks never reach it: the front answered them.
    for (action, _) in moto.recorded_asked() {
        assert!(action.starts_with("List"), "{action} is not read-only");
        actions.push(format!("Route53Resolver.{action}"));
    }
    assert!(actions.len() >= 8, "the recording caught the audit's calls: {actions:?}");
    assert_eq!(
        actions.len(),
        audit.calls.len(),
        "every call is listed in the report: {actions:?} vs {:?}",
        audit.calls
    );
}

#[tokio::test]
async fn dns_fix_names_the_exact_records_when_the_audit_ran() {
    let moto = start_moto();
    let account = plant(&moto, "healthy");
    let audit = kreach_aws::audit(&input(&moto, &account), Duration::from_secs(20)).await;
    let regional = account["regional"].as_str().expect("regional").to_string();
    let (_lab, report) = lab_report_with(Fault::WildcardMissing, None).await;
    let before = report.findings_with(FindingCode::DnsNxdomain).next().expect("nxdomain").fix.clone();
    assert!(before.contains("<the VPC endpoint's regional DNS name>"), "{before}");
    let (_lab, report) = lab_report_with(Fault::WildcardMissing, Some(audit)).await;
    let after = &report.findings_with(FindingCode::DnsNxdomain).next().expect("nxdomain").fix;
    // The record is the audit's; its target (moto's endpoint name, which the lab's DNS does not
    // serve) was resolved before it was advised, and is not advised since it does not resolve.
    assert!(after.contains(&format!("`*.{LAB_DOMAIN} CNAME <the endpoint's current DNS name>`")), "{after}");
    assert!(after.contains(&format!("Before advising `{regional}`")), "{after}");
    let check = report.checked_names.iter().find(|c| c.name == regional).expect("resolved before advised");
    assert_ne!(check.outcome, kreach::report::DnsOutcome::Answer, "{check:?}");
}

/// A run against a glb bootstrap without --dns-domain, audited against moto's planting of the
/// private zone `zone` associated with another VPC. The names resolve through the lab's resolver
/// only (it forwards to the lab's public DNS, which knows nothing of them): nothing leaves loopback.
async fn glb_without_domain(glb: &str, zone: &str) -> Report {
    let moto = start_moto();
    let account = moto.plant("phz-not-associated", zone);
    let mut audit_input = input(&moto, &account);
    audit_input.domain = None;
    let lab = Lab::start(Fault::None).await.expect("lab");
    let config = CheckConfig::for_bootstrap(HostPort::parse(&format!("{glb}:9092"), 9092).expect("glb"))
        .with_resolvers(vec![lab.resolver])
        .with_https_port(None)
        .with_timeout(Duration::from_secs(20));
    kreach::Diagnosis::new(&config)
        .aws(move |scope, budget| async move { kreach_aws::audit(&audit_input.narrowed_by(&scope), budget).await })
        .run()
        .await
        .expect("run")
}

/// Regression: a glb bootstrap without --dns-domain, the private zone `q7x2p.us-west-2.aws.confluent.cloud` (the planting's region)
/// associated with another VPC. The zone is derived from the glb naming scheme (it used to be the
/// bootstrap's parent, `us-west-2.aws.glb.confluent.cloud`, and the finding `aws-phz-missing`).
#[tokio::test]
async fn a_glb_bootstrap_finds_its_network_zone_without_dns_domain() {
    const GLB: &str = "lkc-9z8y7-q7x2p.us-west-2.aws.glb.confluent.cloud";
    const ZONE: &str = "q7x2p.us-west-2.aws.confluent.cloud";
    let report = glb_without_domain(GLB, ZONE).await;
    assert_eq!(aws_codes(&report), ["aws-phz-not-associated"], "{:#?}", report.findings);
    let network = report.network.as_ref().expect("network");
    let domain = network.domain.as_ref().expect("domain");
    assert_eq!((domain.name.as_str(), domain.source), (ZONE, kreach::report::DomainSource::NamingScheme));
    let audit = report.aws.as_ref().expect("audit");
    assert_eq!(audit.hosted_zone.as_ref().map(|z| z.name.as_str()), Some(ZONE));
    assert!(audit.expected_records.iter().all(|r| r.name.ends_with(ZONE)), "{:?}", audit.expected_records);
}

/// The cluster's names in eu-central-1, the VPC's endpoint (moto's planting, us-west-2) to a service
/// in us-west-2: the endpoint leads to another network than the cluster's. moto reports no
/// `serviceRegion`, so the service's region comes from its name, as for endpoints made before
/// cross-region PrivateLink.
#[tokio::test]
async fn an_endpoint_to_a_service_in_another_region_than_the_cluster_is_named() {
    const GLB: &str = "lkc-9z8y7-q7x2p.eu-central-1.aws.glb.confluent.cloud";
    const ZONE: &str = "q7x2p.eu-central-1.aws.confluent.cloud";
    let report = glb_without_domain(GLB, ZONE).await;
    assert_eq!(
        aws_codes(&report),
        ["aws-endpoint-service-other-region", "aws-phz-not-associated"],
        "{:#?}",
        report.findings
    );
    let endpoint = report.aws.as_ref().and_then(|a| a.endpoint.as_ref()).expect("endpoint");
    assert_eq!(endpoint.service_region.as_deref(), Some("us-west-2"), "{}", endpoint.service_name);
    let finding =
        report.findings.iter().find(|f| f.code.as_str() == "aws-endpoint-service-other-region").expect("finding");
    assert!(finding.fix.contains("eu-central-1"), "{}", finding.fix);
    assert!(finding.fix.contains("cross-region"), "the VPC is in us-west-2: {}", finding.fix);
}

/// An EC2 API endpoint that misbehaves (a proxy, a captive portal, a hostile emulator): every
/// answer is classified into the audit — an oversized body (declared, or streamed without a
/// length), a truncated document (which the SDK's own XML reader would take for an empty listing:
/// "no endpoint"), XML that does not parse, nesting without end, a 500 that stays a 500, an answer
/// that never comes — and the audit ends inside its budget. The EC2 calls are aws-sdk-ec2's over
/// kreach's capped client; no real AWS implementation sends these bodies, so the peer is a
/// hand-written HTTP server on 127.0.0.1.
#[tokio::test]
async fn a_hostile_ec2_endpoint_is_classified_and_bounded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cases: [(&str, Option<Vec<u8>>); 7] = [
        ("oversized", Some(http_response(200, &vec![b'<'; 9 * 1024 * 1024]))),
        ("endless", Some(chunked_response(9 * 1024 * 1024))),
        ("truncated", Some(http_response(200, b"<DescribeVpcEndpointsResponse><vpcEndpointSet><item>"))),
        ("malformed", Some(http_response(200, b"<DescribeVpcEndpointsResponse><<>>"))),
        ("deep", Some(http_response(200, "<a>".repeat(100_000).as_bytes()))),
        ("server-error", Some(http_response(500, b"<html>bad gateway</html>"))),
        ("silent", None),
    ];
    for (name, answer) in cases {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else { return };
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    let _ = stream.read(&mut buf).await;
                    match answer {
                        Some(bytes) => {
                            let _ = stream.write_all(&bytes).await;
                        }
                        None => tokio::time::sleep(Duration::from_secs(60)).await,
                    }
                });
            }
        });
        let mut input = AuditInput::default();
        input.vpc_endpoint_id = Some("vpce-0123".into());
        input.region = Some("us-west-2".into());
        input.endpoint_url = Some(format!("http://127.0.0.1:{port}"));
        input.static_credentials = Some(("testing".into(), "testing".into()));
        let budget = Duration::from_secs(3);
        let started = std::time::Instant::now();
        let audit = kreach_aws::audit(&input, budget).await;
        let took = started.elapsed();
        server.abort();
        assert!(took < budget + Duration::from_secs(1), "{name}: the audit took {took:?}");
        assert!(audit.endpoint.is_none(), "{name}: nothing was read: {audit:#?}");
        let said = format!("{:?} {:?}", audit.unavailable, audit.errors);
        let expected = match name {
            "oversized" | "endless" => "is larger than 8388608 bytes",
            "truncated" => "malformed XML: the document ends inside an element",
            "malformed" => "malformed XML",
            "deep" => "deeper than",
            "server-error" => "HTTP 500",
            _ => "did not finish within",
        };
        assert!(said.contains(expected), "{name}: {said}");
        assert!(said.contains("ec2:DescribeVpcEndpoints") || name == "silent", "{name}: names the call: {said}");
    }
}

/// An answer without a length: `size` bytes of XML-looking text in 64 KiB chunks, as a peer that
/// streams without end would send them (the cap must hold while reading, not only by the header).
fn chunked_response(size: usize) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 X\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let chunk = vec![b'<'; 64 * 1024];
    for _ in 0..size.div_ceil(chunk.len()) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn http_response(status: u16, body: &[u8]) -> Vec<u8> {
    let mut out =
        format!("HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// A network ACL on one endpoint subnet that denies the Kafka port inbound, or the return traffic
/// to clients' ephemeral ports outbound, is named by id, rule number and subnet — joined with the
/// network fault underneath (the lab's Kafka port dropped, so TCP to it failed from here). The
/// same failure over the healthy account's default ACLs names none.
#[tokio::test]
async fn a_network_acl_that_denies_the_failed_port_is_named_by_id_and_rule() {
    let cases = [
        ("nacl-denies-9092", "denies inbound TCP 9092"),
        ("nacl-denies-return", "denies outbound return traffic on TCP 32768"),
    ];
    for (name, needle) in cases {
        let moto = start_moto();
        let account = plant(&moto, name);
        let audit = kreach_aws::audit(&input(&moto, &account), Duration::from_secs(20)).await;
        assert!(audit.calls.iter().any(|c| c == "ec2:DescribeNetworkAcls"), "{:?}", audit.calls);
        let (_lab, report) = lab_report_with(Fault::KafkaPortDropped, Some(audit)).await;
        let acl = account["network_acl"].as_str().expect("acl");
        let subnet = account["acl_subnet"].as_str().expect("subnet");
        let found: Vec<_> = report.findings.iter().filter(|f| f.code.as_str() == "aws-nacl-denies").collect();
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        let f = found[0];
        assert!(f.summary.contains(acl) && f.summary.contains(subnet), "{name}: {}", f.summary);
        assert!(f.summary.contains(needle) && f.summary.contains("rule 90 (deny 0.0.0.0/0"), "{name}: {}", f.summary);
        assert!(f.summary.contains("for every client"), "the probe's address is unknown here: {}", f.summary);
        assert!(f.fix.contains(&format!("--network-acl-id {acl}")) && f.fix.contains("--rule-number 89"), "{}", f.fix);
    }
    let moto = start_moto();
    let account = plant(&moto, "healthy");
    let audit = kreach_aws::audit(&input(&moto, &account), Duration::from_secs(20)).await;
    assert!(
        !audit.network_acls.is_empty() && audit.network_acls.iter().all(|a| !a.subnets.is_empty()),
        "{:?}",
        audit.network_acls
    );
    let (_lab, report) = lab_report_with(Fault::KafkaPortDropped, Some(audit)).await;
    assert!(report.findings.iter().all(|f| f.code.as_str() != "aws-nacl-denies"), "{:#?}", report.findings);
}

/// The probe's own security group lets only 443 out: the Kafka port that failed from here is
/// named with the group and the egress rule to add; with the default allow-all egress, nothing.
#[tokio::test]
async fn the_probes_own_security_group_egress_is_checked_for_a_failed_port() {
    for (name, expect) in [("probe-sg-egress-missing", true), ("healthy", false)] {
        let moto = start_moto();
        let account = plant(&moto, name);
        let group = account["client_security_group"].as_str().expect("client group").to_string();
        let mut input = input(&moto, &account);
        input.probe_security_groups = vec![group.clone()];
        let audit = kreach_aws::audit(&input, Duration::from_secs(20)).await;
        assert_eq!(audit.probe_security_groups, std::slice::from_ref(&group), "{name}: {audit:#?}");
        let (_lab, report) = lab_report_with(Fault::KafkaPortDropped, Some(audit)).await;
        let found: Vec<_> =
            report.findings.iter().filter(|f| f.code.as_str() == "aws-probe-sg-egress-missing").collect();
        if !expect {
            assert!(found.is_empty(), "{name}: {found:#?}");
            continue;
        }
        assert_eq!(found.len(), 1, "only 9092 failed: {found:#?}");
        assert!(found[0].summary.contains("TCP 9092") && found[0].summary.contains(&group), "{}", found[0].summary);
        let endpoint_group = account["security_group"].as_str().expect("endpoint group");
        assert!(
            found[0].fix.contains(&format!("--group-id {group}"))
                && found[0].fix.contains("FromPort=9092,ToPort=9092")
                && found[0].fix.contains(endpoint_group),
            "{}",
            found[0].fix
        );
    }
}

/// A Route 53 Resolver FORWARD rule for the cluster's domain, associated with the VPC, sends its
/// queries past the private hosted zone: named (id, domain, targets) when a name under it did not
/// resolve privately (the lab's zone unassociated: a public answer); not when a more specific
/// SYSTEM rule gives the domain back, nor when the name resolved privately.
#[tokio::test]
async fn a_resolver_rule_forwarding_the_clusters_domain_is_named_when_dns_went_wrong() {
    let cases = [
        ("resolver-forwards", Fault::ZoneNotAssociated, true),
        ("resolver-forwards-carved", Fault::ZoneNotAssociated, false),
        ("resolver-forwards", Fault::None, false),
    ];
    for (name, fault, expect) in cases {
        let moto = start_moto();
        let account = plant(&moto, name);
        let audit = kreach_aws::audit(&input(&moto, &account), Duration::from_secs(20)).await;
        assert!(
            audit.errors.is_empty() && audit.unavailable.is_none(),
            "{name}: {:?} {:?}",
            audit.errors,
            audit.unavailable
        );
        assert!(audit.calls.iter().any(|c| c == "route53resolver:ListResolverRules"), "{:?}", audit.calls);
        let rule = account["resolver_rule"].as_str().expect("rule");
        assert!(
            audit.resolver_rules.iter().any(|r| r.id == rule && r.rule_type == "FORWARD"),
            "{:?}",
            audit.resolver_rules
        );
        let (_lab, report) = lab_report_with(fault, Some(audit)).await;
        let found: Vec<_> =
            report.findings.iter().filter(|f| f.code.as_str() == "aws-resolver-rule-forwards").collect();
        if !expect {
            assert!(found.is_empty(), "{name} {fault:?}: {found:#?}");
            continue;
        }
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = found[0];
        assert!(
            f.summary.contains(rule) && f.summary.contains("10.9.9.9:53") && f.summary.contains(LAB_DOMAIN),
            "{}",
            f.summary
        );
        assert!(f.fix.contains(&format!("--rule-type SYSTEM --domain-name {LAB_DOMAIN}")), "{}", f.fix);
    }
}

/// moto does not implement Route 53 Resolver DNS Firewall: its three reads are answered by the
/// test's front to moto with recorded responses in the shape the API reference documents
/// (ListFirewallRuleGroupAssociations, ListFirewallRules, ListFirewallDomains); every other
/// read is moto's. Each rule group is joined with the DNS failure underneath from the lab: the
/// glb hop answered NXDOMAIN (a rule blocking `*.glb.confluent.cloud`), the cluster's names
/// answered NXDOMAIN (a walled garden whose allow rule inspects where the CNAME leads, so the
/// `*.vpce.amazonaws.com` hop meets its block of everything). The same garden trusting
/// redirection, and a healthy lab, name nothing.
#[tokio::test]
async fn a_dns_firewall_rule_that_blocks_the_chain_is_named_by_group_and_rule() {
    // (case, lab fault, rules: (name, priority, action, domain list, redirection), the rule expected)
    type Rule = (&'static str, i64, &'static str, &'static str, &'static str);
    let cases: [(&str, Fault, Vec<Rule>, Option<&str>); 5] = [
        (
            "glb-blocked",
            Fault::GlbHopBlocked,
            vec![("block-glb", 10, "BLOCK", "rslvr-fdl-glb", "INSPECT_REDIRECTION_DOMAIN")],
            Some("block-glb"),
        ),
        (
            "walled-garden",
            Fault::WildcardMissing,
            vec![
                ("allow-confluent", 10, "ALLOW", "rslvr-fdl-confluent", "INSPECT_REDIRECTION_DOMAIN"),
                ("block-everything", 20, "BLOCK", "rslvr-fdl-all", "INSPECT_REDIRECTION_DOMAIN"),
            ],
            Some("block-everything"),
        ),
        (
            "walled-garden-trusting",
            Fault::WildcardMissing,
            vec![
                ("allow-confluent", 10, "ALLOW", "rslvr-fdl-confluent", "TRUST_REDIRECTION_DOMAIN"),
                ("block-everything", 20, "BLOCK", "rslvr-fdl-all", "INSPECT_REDIRECTION_DOMAIN"),
            ],
            None,
        ),
        ("glb-blocked-healthy-lab", Fault::None, vec![("block-glb", 10, "BLOCK", "rslvr-fdl-glb", "")], None),
        // A list whose pages never end: read no further than 10 pages, left unjudged, never
        // judged on part of it.
        ("glb-blocked-endless-list", Fault::GlbHopBlocked, vec![("block-glb", 10, "BLOCK", "rslvr-fdl-glb", "")], None),
    ];
    for (name, fault, rules, expected) in cases {
        let moto = start_moto();
        let account = plant(&moto, "healthy");
        let vpc = account["vpc_id"].as_str().expect("vpc");
        moto.record_firewall(
            "ListFirewallRuleGroupAssociations",
            vpc,
            serde_json::json!({"FirewallRuleGroupAssociations": [{
                "Id": "rslvr-frgassoc-0123456789abcdef", "Arn": "arn:aws:route53resolver:us-west-2:123456789012:firewall-rule-group-association/rslvr-frgassoc-0123456789abcdef",
                "FirewallRuleGroupId": "rslvr-frg-0a1b2c3d4e5f6789", "VpcId": vpc, "Name": "egress-dns-policy",
                "Priority": 101, "MutationProtection": "DISABLED", "Status": "COMPLETE", "StatusMessage": "",
                "CreatorRequestId": "r1", "CreationTime": "2026-11-01T10:00:00.000Z", "ModificationTime": "2026-11-01T10:00:00.000Z",
            }]}),
        );
        let rules_json: Vec<serde_json::Value> = rules
            .iter()
            .map(|(rule, priority, action, list, redirection)| {
                let mut r = serde_json::json!({
                    "FirewallRuleGroupId": "rslvr-frg-0a1b2c3d4e5f6789", "FirewallDomainListId": list, "Name": rule,
                    "Priority": priority, "Action": action, "CreatorRequestId": "r1",
                    "CreationTime": "2026-11-01T10:00:00.000Z", "ModificationTime": "2026-11-01T10:00:00.000Z",
                });
                if *action == "BLOCK" {
                    r["BlockResponse"] = serde_json::json!("NXDOMAIN");
                }
                if !redirection.is_empty() {
                    r["FirewallDomainRedirectionAction"] = serde_json::json!(redirection);
                }
                r
            })
            .collect();
        moto.record_firewall(
            "ListFirewallRules",
            "rslvr-frg-0a1b2c3d4e5f6789",
            serde_json::json!({"FirewallRules": rules_json}),
        );
        if name == "glb-blocked-endless-list" {
            moto.record_firewall(
                "ListFirewallDomains",
                "rslvr-fdl-glb",
                serde_json::json!({"Domains": ["*.glb.confluent.cloud."], "NextToken": "more"}),
            );
        }
        for (list, domains) in [
            ("rslvr-fdl-glb", vec!["*.glb.confluent.cloud."]),
            ("rslvr-fdl-confluent", vec!["*.confluent.cloud.", "confluent.cloud."]),
            ("rslvr-fdl-all", vec!["*"]),
        ] {
            moto.record_firewall("ListFirewallDomains", list, serde_json::json!({"Domains": domains}));
        }
        let audit = kreach_aws::audit(&input(&moto, &account), Duration::from_secs(20)).await;
        assert!(
            audit.errors.is_empty() && audit.unavailable.is_none(),
            "{name}: {:?} {:?}",
            audit.errors,
            audit.unavailable
        );
        let asked: Vec<String> = moto.recorded_asked().into_iter().map(|(a, _)| a).collect();
        for action in ["ListFirewallRuleGroupAssociations", "ListFirewallRules", "ListFirewallDomains"] {
            assert!(asked.iter().any(|a| a == action), "{name}: {action} not asked: {asked:?}");
            assert!(audit.calls.iter().any(|c| *c == format!("route53resolver:{action}")), "{:?}", audit.calls);
        }
        let group = audit.dns_firewall.first().expect("the rule group");
        assert_eq!(
            (group.id.as_str(), group.vpc_id.as_str(), group.rules.len()),
            ("rslvr-frg-0a1b2c3d4e5f6789", vpc, rules.len())
        );
        let endless = name == "glb-blocked-endless-list";
        assert!(group.rules.iter().all(|r| r.domains_read != endless), "{name}: {:#?}", group.rules);
        if endless {
            let pages = moto.recorded_asked().iter().filter(|(a, _)| a == "ListFirewallDomains").count();
            assert_eq!(pages, 10, "the pages stop at 10");
        }
        let (_lab, report) = lab_report_with(fault, Some(audit)).await;
        let found: Vec<_> = report.findings_with(FindingCode::AwsDnsFirewallBlocks).collect();
        let Some(rule) = expected else {
            assert!(found.is_empty(), "{name}: {found:#?}");
            continue;
        };
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        let f = found[0];
        assert!(
            f.summary.contains("rslvr-frg-0a1b2c3d4e5f6789")
                && f.summary.contains(&format!("rule {rule} "))
                && f.summary.contains("NXDOMAIN"),
            "{name}: {}",
            f.summary
        );
        if name == "walled-garden" {
            // The hop the chain leads to: the endpoint's own DNS name, as the audit read it.
            let ep_name = report.aws.as_ref().and_then(|a| a.endpoint.as_ref()).map(|e| e.dns_names[0].clone());
            let ep_name = ep_name.expect("endpoint name").trim_end_matches('.').to_ascii_lowercase();
            assert!(f.summary.contains(&ep_name) && f.summary.contains("allow-confluent"), "{}", f.summary);
            assert!(f.fix.contains("--firewall-domain-redirection-action TRUST_REDIRECTION_DOMAIN"), "{}", f.fix);
            assert!(f.fix.contains("rslvr-fdl-confluent"), "{}", f.fix);
        } else {
            assert!(f.summary.contains("glb.confluent.cloud"), "{}", f.summary);
            assert!(f.fix.contains("ALLOW") && f.fix.contains("rslvr-fdl-glb"), "{}", f.fix);
        }
    }
}

/// A Resolver query logging configuration associated with the VPC (moto serves these) is read,
/// and named as where to see the resolver's answers when a name did not resolve privately.
#[tokio::test]
async fn the_query_log_of_the_vpc_is_named_when_dns_went_wrong() {
    let moto = start_moto();
    let account = plant(&moto, "query-logged");
    let audit = kreach_aws::audit(&input(&moto, &account), Duration::from_secs(20)).await;
    assert!(audit.errors.is_empty(), "{:?}", audit.errors);
    let log = audit.query_logs.first().cloned().expect("the query log configuration");
    assert_eq!(log.id, account["query_log_config"].as_str().expect("id"));
    assert!(log.destination_arn.starts_with("arn:aws:logs:"), "{log:?}");
    let (_lab, healthy) = lab_report_with(Fault::None, Some(audit.clone())).await;
    assert_eq!(healthy.findings_with(FindingCode::AwsQueryLogged).count(), 0);
    let (_lab, report) = lab_report_with(Fault::WildcardMissing, Some(audit)).await;
    let f = report.findings_with(FindingCode::AwsQueryLogged).next().expect("query log finding");
    assert!(f.fix.contains(&log.id) && f.fix.contains(&log.destination_arn), "{}", f.fix);
}

/// A probe in another VPC than the endpoint, joined over a transit gateway or a peering (moto
/// serves transit gateways, their VPC attachments, peerings and route tables): each fault planted
/// alone and named by id — no route out of the probe's subnet, no route back from the endpoint's
/// subnets, an attachment without a subnet in one of the endpoint's zones — over the network
/// fault underneath (the lab's Kafka port dropped, so TCP failed from here). A healthy transit
/// path names nothing, and a planted fault with TCP working names nothing either.
#[tokio::test]
async fn a_probe_in_another_vpc_gets_the_missing_route_or_attachment_zone_named() {
    let cases = [
        ("transit-healthy", Fault::KafkaPortDropped, None),
        ("transit-route-missing", Fault::KafkaPortDropped, Some("aws-transit-route-missing")),
        ("transit-return-missing", Fault::KafkaPortDropped, Some("aws-transit-route-missing")),
        ("transit-zone-missing", Fault::KafkaPortDropped, Some("aws-transit-zone-missing")),
        ("peering-route-missing", Fault::KafkaPortDropped, Some("aws-transit-route-missing")),
        ("transit-route-missing", Fault::None, None),
    ];
    for (name, fault, expected) in cases {
        let moto = start_moto();
        let account = plant(&moto, name);
        let mut input = input(&moto, &account);
        input.probe_vpc = account["probe_vpc"].as_str().map(str::to_string);
        input.probe_subnet = account["probe_subnet"].as_str().map(str::to_string);
        let audit = kreach_aws::audit(&input, Duration::from_secs(20)).await;
        assert!(
            audit.errors.is_empty() && audit.unavailable.is_none(),
            "{name}: {:?} {:?}",
            audit.errors,
            audit.unavailable
        );
        let transit = audit.transit.clone().expect("the transit path was read");
        assert_eq!(transit.routes_out.len(), 3, "{name}: one lookup per endpoint subnet: {transit:#?}");
        assert!(audit.calls.iter().any(|c| c == "ec2:DescribeTransitGatewayVpcAttachments"), "{:?}", audit.calls);
        let (_lab, report) = lab_report_with(fault, Some(audit)).await;
        let transit_codes: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.code.as_str().starts_with("aws-transit-") || f.code == FindingCode::AwsPhzNotAssociated)
            .collect();
        let Some(code) = expected else {
            assert!(transit_codes.is_empty(), "{name} {fault:?}: {transit_codes:#?}");
            continue;
        };
        assert_eq!(transit_codes.len(), 1, "{name}: {transit_codes:#?}");
        let f = transit_codes[0];
        assert_eq!(f.code.as_str(), code, "{name}: {f:#?}");
        let text = format!("{} {}", f.summary, f.fix);
        match name {
            "transit-route-missing" => {
                let table = account["probe_route_table"].as_str().expect("table");
                let tgw = account["transit_gateway"].as_str().expect("tgw");
                assert!(text.contains(&format!("aws ec2 create-route --route-table-id {table} --destination-cidr-block 10.20.1.0/24 --transit-gateway-id {tgw}")), "{text}");
            }
            "transit-return-missing" => {
                let table = account["endpoint_route_table"].as_str().expect("table");
                assert!(
                    text.contains(table)
                        && text.contains("--destination-cidr-block 10.40.1.0/24")
                        && text.contains("return"),
                    "{text}"
                );
            }
            "peering-route-missing" => {
                let pcx = account["peering"].as_str().expect("pcx");
                assert!(text.contains(&format!("--vpc-peering-connection-id {pcx}")), "{text}");
            }
            _ => {
                let attachment = account["endpoint_attachment"].as_str().expect("attachment");
                let zone = account["zones"][1]["az_id"].as_str().expect("zone");
                assert!(f.summary.contains(attachment) && f.summary.contains(zone), "{}", f.summary);
                assert!(
                    f.fix.contains("modify-transit-gateway-vpc-attachment")
                        && f.fix.contains("--add-subnet-ids subnet-"),
                    "{}",
                    f.fix
                );
            }
        }
    }
}

/// MSK multi-VPC private connectivity from the client's VPC: moto has no MSK VPC connections, so
/// `ListVpcConnections` and `DescribeVpcConnection` are answered by the test's front to moto with
/// recorded responses in the shape the MSK API reference documents; the connection's security
/// groups are moto's. A REJECTED connection and none at all are each named; an AVAILABLE one is
/// not, and its groups' rules are read for the 14001-14100 check.
#[tokio::test]
async fn an_msk_vpc_connection_that_is_missing_or_rejected_is_named() {
    for state in ["AVAILABLE", "REJECTED", "none"] {
        let moto = start_moto();
        let account = plant(&moto, "healthy");
        let vpc = account["vpc_id"].as_str().expect("vpc");
        let sg = account["security_group"].as_str().expect("sg");
        let arn = "arn:aws:kafka:us-west-2:123456789012:vpc-connection/111122223333/demo/0a1b2c3d-1111-2222-3333-444455556666-1";
        let cluster = "arn:aws:kafka:us-west-2:111122223333:cluster/demo/0a1b2c3d-1111-2222-3333-444455556666-1";
        let listed = if state == "none" {
            serde_json::json!({"vpcConnections": [{"vpcConnectionArn": "arn:other", "targetClusterArn": cluster,
                "vpcId": "vpc-0fffffffffffffff0", "state": "AVAILABLE", "authentication": "SASL_SCRAM",
                "creationTime": "2026-11-01T10:00:00.000Z"}]})
        } else {
            serde_json::json!({"vpcConnections": [{"vpcConnectionArn": arn, "targetClusterArn": cluster, "vpcId": vpc,
                "state": state, "authentication": "SASL_SCRAM", "creationTime": "2026-11-01T10:00:00.000Z"}]})
        };
        moto.record_firewall("GET /v1/vpc-connections", "", listed);
        moto.record_firewall(
            "GET /v1/vpc-connection/",
            "",
            serde_json::json!({"vpcConnectionArn": arn, "targetClusterArn": cluster, "state": state, "vpcId": vpc,
                "authentication": "SASL_SCRAM", "subnets": ["subnet-a", "subnet-b"], "securityGroups": [sg],
                "creationTime": "2026-11-01T10:00:00.000Z", "tags": {}}),
        );
        let mut input = input(&moto, &account);
        input.layout = Some(kreach::report::Layout::MskMultiVpc);
        let audit = kreach_aws::audit(&input, Duration::from_secs(20)).await;
        assert!(
            audit.errors.is_empty() && audit.unavailable.is_none(),
            "{state}: {:?} {:?}",
            audit.errors,
            audit.unavailable
        );
        let c = audit.msk_vpc_connection.clone().expect("the VPC connection was looked for");
        assert_eq!(c.vpc_id, vpc);
        assert!(audit.calls.iter().any(|c| c == "kafka:ListVpcConnections"), "{:?}", audit.calls);
        if state != "none" {
            assert_eq!((c.found, c.state.as_str(), c.arn.as_str()), (true, state, arn));
            assert!(c.ingress_rules.iter().any(|r| r.group_id == sg && r.admits(9092) && !r.admits(14001)), "{c:#?}");
        } else {
            assert!(!c.found, "a connection in another VPC is not this one's: {c:#?}");
        }
        let (_lab, report) = lab_report_with(Fault::None, Some(audit)).await;
        let found: Vec<_> = report.findings_with(FindingCode::AwsMskVpcConnectionUnusable).collect();
        match state {
            "AVAILABLE" => assert!(found.is_empty(), "{found:#?}"),
            "REJECTED" => {
                assert_eq!(found.len(), 1);
                assert!(
                    found[0].summary.contains(arn) && found[0].summary.contains("rejected"),
                    "{}",
                    found[0].summary
                );
            }
            _ => {
                assert_eq!(found.len(), 1);
                assert!(
                    found[0].summary.contains(&format!("no Amazon MSK managed VPC connection in {vpc}")),
                    "{}",
                    found[0].summary
                );
                assert!(found[0].fix.contains("create-vpc-connection"), "{}", found[0].fix);
            }
        }
    }
}

//! Every private-connectivity layout the in-process lab plays (real hickory DNS servers, the VPC
//! resolver forwarding to the lab's public DNS, real rustls endpoints on loopback), recognised and
//! checked; the CNAME-chain faults; the endpoints around Kafka as rows of their own.

use std::time::Duration;

use kreach::input::EndpointSpec;
use kreach::report::DomainSource;
use kreach::report::EndpointKind;
use kreach::report::Layout;
use kreach::report::Need;
use kreach::report::Resolution;
use kreach::{CheckConfig, FindingCode, HostPort, Report, Role, SecurityProtocol, Severity, StageStatus, Status};
use kreach_lab::{Fault, LAB_DOMAIN, LAB_PRIVATE_CIDR, LAB_REGION, Lab, LabLayout};

fn config(lab: &Lab) -> CheckConfig {
    let bootstrap = HostPort::parse(&lab.bootstrap, 9092).expect("lab bootstrap parses");
    CheckConfig::for_bootstrap(bootstrap)
        .with_resolvers(vec![lab.resolver])
        .with_public_resolvers(vec![lab.public_resolver])
        .with_private_cidrs(vec![LAB_PRIVATE_CIDR.parse().expect("cidr")])
        .with_ca_file(lab.ca_file())
        .expect("lab CA readable")
        .with_https_port(Some(lab.https_port))
        .with_security_protocol(SecurityProtocol::Ssl)
        .with_timeout(Duration::from_secs(4))
}

/// The endpoints `Lab::endpoint_args` adds: the private Schema Registry, the AWS APIs (with
/// Secrets Manager), Confluent's public APIs, all on the lab's HTTPS port.
fn endpoints(lab: &Lab) -> Vec<EndpointSpec> {
    let sr = format!("https://lsrc-lab01.{}:{}", lab.domain, lab.https_port);
    let mut out = vec![EndpointSpec::schema_registry(&sr).expect("sr url")];
    out.extend(EndpointSpec::aws_apis(LAB_REGION, true, lab.https_port).expect("apis"));
    out.extend(EndpointSpec::confluent_apis(lab.https_port));
    out
}

async fn run(layout: LabLayout, fault: Fault, with_endpoints: bool) -> (Lab, Report) {
    let lab = Lab::start_layout(layout, fault, kreach_lab::LAB_BROKERS).await.expect("lab starts");
    let mut config = config(&lab);
    if with_endpoints {
        config = config.with_endpoints(endpoints(&lab));
    }
    let report = kreach::run(&config).await.expect("run");
    (lab, report)
}

fn problems(report: &Report) -> Vec<&'static str> {
    report.codes_at_least(Severity::Warning).iter().map(|c| c.as_str()).collect()
}

#[tokio::test]
async fn each_layout_is_recognised_and_its_healthy_lab_passes() {
    let cases = [
        (LabLayout::Dedicated, Layout::ConfluentDedicated, Resolution::Private, Some(LAB_DOMAIN)),
        (LabLayout::DedicatedGlb, Layout::ConfluentDedicated, Resolution::ChasedPrivate, Some(LAB_DOMAIN)),
        (
            LabLayout::PrivateLinkAttachment,
            Layout::ConfluentPrivateLinkAttachment,
            Resolution::Private,
            Some("us-west-2.aws.private.confluent.cloud"),
        ),
        (
            LabLayout::AccessPoint,
            Layout::ConfluentAccessPoint,
            Resolution::ChasedPrivate,
            Some("aplab01.us-west-2.aws.accesspoint.confluent.cloud"),
        ),
        (LabLayout::EndpointPrivateDns, Layout::Redpanda, Resolution::EndpointPrivateDns, None),
    ];
    for (lab_layout, layout, resolution, domain) in cases {
        let (lab, report) = run(lab_layout, Fault::None, true).await;
        assert_eq!(problems(&report), Vec::<&str>::new(), "{lab_layout}: {:#?}", report.findings);
        assert_eq!(report.status, Status::Pass, "{lab_layout}");
        let network = report.network.as_ref().expect("network section");
        assert_eq!((network.layout, network.resolution), (layout, resolution), "{lab_layout}: {:?}", network.evidence);
        assert_eq!(network.domain.as_ref().map(|d| d.name.as_str()), domain, "{lab_layout}");
        if let Some(d) = &network.domain {
            assert_eq!(d.source, DomainSource::NamingScheme, "{lab_layout}: {}", d.detail);
        }
        assert!(network.ports.contains(&lab.kafka_port), "{lab_layout}: {:?}", network.ports);
        assert!(!network.rules.source.is_empty());
        // Every broker was probed and passed, through whatever names the layout advertises.
        let brokers: Vec<_> = report.targets.iter().filter(|t| t.role == Role::Broker).collect();
        assert_eq!(brokers.len(), kreach_lab::LAB_BROKERS, "{lab_layout}");
        // The endpoints around Kafka are rows of their own, all passing.
        let rows: Vec<_> = report.targets.iter().filter(|t| t.role == Role::Endpoint).collect();
        assert_eq!(rows.len(), 6, "{lab_layout}: SR, lambda, sts, secretsmanager, 2 Confluent APIs");
        for row in rows {
            assert!(
                row.stages.iter().all(|s| s.status == StageStatus::Pass),
                "{lab_layout} {}: {:?}",
                row.target,
                row.stages
            );
        }
    }
    // PNI: the names say nothing (Confluent documents none), so without the audit the layout is
    // generic, and a healthy PNI raises no warning; with the audit it is `confluent-pni`
    // (crates/kreach-aws/tests/pni.rs).
    let (_lab, report) = run(LabLayout::Pni, Fault::None, true).await;
    assert_eq!(problems(&report), Vec::<&str>::new(), "pni: {:#?}", report.findings);
    assert_eq!(report.status, Status::Pass);
    let network = report.network.as_ref().expect("network section");
    assert_eq!(network.layout, Layout::Generic, "{:?}", network.evidence);
    let domain = network.domain.as_ref().expect("domain");
    assert_eq!((domain.name.as_str(), domain.source), (kreach_lab::LAB_PNI_DOMAIN, DomainSource::BootstrapParent));
    let bootstrap = &report.targets[0];
    let chain = &bootstrap.dns.as_ref().expect("dns").lookup.cname_chain;
    assert!(chain.is_empty(), "PNI names answer with the interfaces' addresses, no CNAME: {chain:?}");
    let (_lab, report) = run(LabLayout::EndpointPrivateDns, Fault::None, false).await;
    let rules = &report.network.as_ref().expect("network").rules;
    assert_eq!((rules.private_zone, rules.endpoint_private_dns), (Need::NotUsed, Need::Required));
    assert_ne!(report.targets[0].port, 9092, "a provider on another port than 9092");
}

#[tokio::test]
async fn another_access_points_bootstrap_is_named_with_both_ways_out() {
    // The bootstrap is access point apother01's; this VPC holds access point aplab01's zone. The
    // NXDOMAIN comes from public DNS above the domain: no zone of that name answers here.
    let (_lab, report) = run(LabLayout::AccessPoint, Fault::AccessPointOther, false).await;
    assert_eq!(problems(&report), ["dns-nxdomain"], "{:#?}", report.findings);
    let network = report.network.as_ref().expect("network");
    assert_eq!(network.layout, Layout::ConfluentAccessPoint);
    let f = &report.findings[0];
    assert!(f.fix.contains("no zone named `apother01.us-west-2.aws.accesspoint.confluent.cloud` answers"), "{}", f.fix);
    assert!(
        f.fix.contains("access point apother01's") && f.fix.contains("use that access point's bootstrap"),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("<az-id>"), "access points use no zonal records: {}", f.fix);
    // The healthy access point's own fix for a missing record has no zonal record either.
    let (_lab, report) = run(LabLayout::AccessPoint, Fault::WildcardMissing, false).await;
    let f = report.findings.iter().find(|f| f.code.as_str() == "dns-nxdomain").expect("nxdomain");
    assert!(f.fix.contains("*.aplab01.us-west-2.aws.accesspoint.confluent.cloud"), "{}", f.fix);
    assert!(!f.fix.contains("<az-id>"), "{}", f.fix);
}

#[tokio::test]
async fn a_dangling_cname_names_the_record_and_never_asks_for_a_record_in_the_vpce_zone() {
    let (_lab, report) = run(LabLayout::Dedicated, Fault::CnameDangling, false).await;
    assert_eq!(problems(&report), ["dns-cname-dangling"], "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::DnsCnameDangling).next().expect("finding");
    assert!(f.summary.contains("vpce-0dead0000000000000-old01.us-west-2.vpce.amazonaws.com"), "{}", f.summary);
    assert!(f.summary.contains("us-west-2.vpce.amazonaws.com answered NXDOMAIN"), "{}", f.summary);
    assert!(f.fix.contains("Do not create") || f.fix.contains("do not create"), "{}", f.fix);
    assert!(!f.fix.contains("create `*.us-west-2.vpce.amazonaws.com`"), "{}", f.fix);
}

#[tokio::test]
async fn glb_names_need_the_public_chase_and_a_missing_record_is_in_the_clusters_zone() {
    let (_lab, report) = run(LabLayout::DedicatedGlb, Fault::GlbChaseFailed, false).await;
    assert_eq!(problems(&report), ["dns-public-chase-failed"], "{:#?}", report.findings);
    // The chase worked but the private zone lacks the wildcard: the fix names the cluster's zone,
    // not the zone of the glb name and not the vpce zone.
    let (_lab, report) = run(LabLayout::DedicatedGlb, Fault::WildcardMissing, false).await;
    let f = report
        .findings
        .iter()
        .find(|f| f.code == FindingCode::DnsNxdomain || f.code == FindingCode::DnsPrivateRecordMissing)
        .unwrap_or_else(|| panic!("{:#?}", report.findings));
    assert!(f.fix.contains(&format!("private hosted zone `{LAB_DOMAIN}`")), "{}", f.fix);
    assert!(!problems(&report).contains(&"dns-cname-dangling"), "{:?}", problems(&report));
}

#[tokio::test]
async fn the_endpoint_rows_say_how_the_aws_apis_are_reached_and_what_is_unreachable() {
    let (_lab, report) = run(LabLayout::Dedicated, Fault::None, true).await;
    let routes: Vec<_> = report.findings_with(FindingCode::AwsApiRoute).collect();
    assert_eq!(routes.len(), 3, "lambda, sts, secretsmanager");
    assert!(routes.iter().all(|f| f.summary.contains("interface VPC endpoint")), "{routes:#?}");

    let (_lab, report) = run(LabLayout::Dedicated, Fault::AwsApiPublic, true).await;
    assert_eq!(problems(&report), Vec::<&str>::new(), "through NAT it works: {:#?}", report.findings);
    assert!(report.findings_with(FindingCode::AwsApiRoute).all(|f| f.summary.contains("public service")));

    let (_lab, report) = run(LabLayout::Dedicated, Fault::NoNat, true).await;
    assert_eq!(problems(&report), ["endpoint-unreachable"], "{:#?}", report.findings);
    let unreachable: Vec<_> = report.findings_with(FindingCode::EndpointUnreachable).collect();
    assert_eq!(unreachable.len(), 2, "the two Confluent APIs; the AWS APIs have interface endpoints");
    assert!(unreachable.iter().all(|f| f.fix.contains("NAT")), "{unreachable:#?}");
    let row = report.targets.iter().find(|t| t.endpoint.as_ref().is_some_and(|e| e.kind == EndpointKind::ConfluentApi));
    assert_eq!(row.and_then(|t| t.stage(kreach::Stage::Tcp)).map(|s| s.status), Some(StageStatus::Fail));
}

#[tokio::test]
async fn a_private_name_with_a_public_answer_and_any_target_get_their_own_findings() {
    // Zone not associated: the private Schema Registry name resolves publicly, like the cluster.
    let (_lab, report) = run(LabLayout::Dedicated, Fault::ZoneNotAssociated, true).await;
    let codes = problems(&report);
    assert!(codes.contains(&"endpoint-public-answer") && codes.contains(&"dns-public-answer"), "{codes:?}");
    let f = report.findings_with(FindingCode::EndpointPublicAnswer).next().expect("finding");
    assert!(f.summary.contains("schema-registry"), "{}", f.summary);

    // --target: a name nobody serves, and a port nothing listens on.
    let lab = Lab::start(Fault::None).await.expect("lab");
    let targets = [
        format!("ghost=tcp://ghost.{LAB_DOMAIN}.invalid:5432"),
        format!("closed=tls://{}:1", kreach_lab::LAB_AWS_API_ADDR),
    ];
    let specs: Vec<EndpointSpec> = targets.iter().map(|t| EndpointSpec::parse_target(t).expect("target")).collect();
    let report = kreach::run(&config(&lab).with_endpoints(specs)).await.expect("run");
    assert_eq!(problems(&report), ["endpoint-dns-failed", "endpoint-unreachable"], "{:#?}", report.findings);
    let ghost = report.targets.iter().find(|t| t.endpoint.as_ref().is_some_and(|e| e.name == "ghost")).expect("row");
    assert_eq!(ghost.stages[0].status, StageStatus::Fail);
}

/// A private zone named above the cluster's domain: the cluster's names resolve (through it), the
/// public names under it would not. Found by the SOA the resolver gives for the domain; a warning
/// with the zone to create instead, and nothing on a zone named after the domain.
#[tokio::test]
async fn a_zone_named_above_the_domain_is_a_warning_naming_the_zone_to_create() {
    for layout in [LabLayout::Dedicated, LabLayout::DedicatedGlb] {
        let (lab, report) = run(layout, Fault::ZoneTooBroad, false).await;
        assert_eq!(problems(&report), vec!["dns-zone-too-broad"], "{layout}: {:#?}", report.findings);
        assert_eq!(report.status, Status::Warn, "{layout}: the cluster itself resolves and answers");
        let f = report.findings_with(FindingCode::DnsZoneTooBroad).next().expect("finding");
        assert_eq!(f.hop, kreach::report::Hop::Zone);
        assert!(f.summary.contains("`us-west-2.aws.confluent.cloud`"), "{}", f.summary);
        assert!(
            matches!(&f.action, Some(kreach::report::FixAction::AssociateZone { zone }) if *zone == lab.domain),
            "{:?}",
            f.action
        );
        let dz = report.targets[0].dns.as_ref().and_then(|d| d.domain_zone.as_ref()).expect("domain zone asked");
        assert_eq!(
            (dz.domain.as_str(), dz.zone.as_deref()),
            (lab.domain.as_str(), Some("us-west-2.aws.confluent.cloud"))
        );
    }
    // A zone named after the domain: the same question, no finding.
    let (lab, report) = run(LabLayout::Dedicated, Fault::None, false).await;
    let dz = report.targets[0].dns.as_ref().and_then(|d| d.domain_zone.as_ref()).expect("domain zone asked");
    assert_eq!(dz.zone.as_deref(), Some(lab.domain.as_str()));
    assert_eq!(report.status, Status::Pass);
}

//! Confluent's Private Network Interface (PNI) audited against moto server (planted by
//! fixtures/aws/moto_pni.py: a VPC without an interface endpoint, the PNI security group, one
//! network interface per zone holding the lab's zonal addresses), joined with a real diagnosis of
//! the in-process lab whose names resolve to those addresses. Everything talks to 127.0.0.1 only.
//!
//! moto has no `DescribeNetworkInterfacePermissions` and cannot attach an interface to another
//! account's instance: those two answers are recorded in front of moto, in the shapes EC2's API
//! reference documents (`networkInterfacePermissions`; `attachment.instanceOwnerId`), built from
//! the interfaces moto created. The security groups and their rules are moto's own.

use std::path::PathBuf;
use std::time::Duration;

use kreach::Report;
use kreach_aws::AuditInput;
use kreach_lab::{Fault, Lab, LabLayout};
use kreach_testkit::aws_codes;
use kreach_testkit::moto::Moto;

/// Confluent's gateway account in these plantings.
const CONFLUENT: &str = "999988887777";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// How each planted interface stands with Confluent.
#[derive(Clone, Copy, PartialEq)]
enum Attach {
    /// Permission to Confluent's account, attached by it.
    Attached,
    /// Permission to another account: never attached.
    OtherAccount,
    /// No permission, attached to nothing.
    NoPermission,
}

fn item(fields: &str) -> String {
    format!("<item>{fields}</item>")
}

/// `DescribeNetworkInterfaces` as EC2 answers for the planted interfaces, attachments included.
fn interfaces_xml(account: &serde_json::Value, attach: &[Attach]) -> String {
    let sg = account["security_group"].as_str().expect("sg");
    let vpc = account["vpc_id"].as_str().expect("vpc");
    let mut items = String::new();
    for (i, eni) in account["interfaces"].as_array().expect("interfaces").iter().enumerate() {
        let s = |k: &str| eni[k].as_str().expect(k).to_string();
        let attached = attach[i] == Attach::Attached;
        let attachment = if attached {
            format!(
                "<attachment><attachmentId>eni-attach-{i}</attachmentId><instanceOwnerId>{CONFLUENT}</instanceOwnerId>\
                 <deviceIndex>1</deviceIndex><status>attached</status></attachment>"
            )
        } else {
            String::new()
        };
        items.push_str(&item(&format!(
            "<networkInterfaceId>{}</networkInterfaceId><subnetId>{}</subnetId><vpcId>{vpc}</vpcId>\
             <availabilityZone>{}</availabilityZone><description>confluent-pni</description><ownerId>{}</ownerId>\
             <requesterManaged>false</requesterManaged><status>{}</status><interfaceType>interface</interfaceType>\
             <privateIpAddress>{ip}</privateIpAddress>{attachment}\
             <groupSet><item><groupId>{sg}</groupId><groupName>confluent-pni</groupName></item></groupSet>\
             <privateIpAddressesSet><item><privateIpAddress>{ip}</privateIpAddress><primary>true</primary></item></privateIpAddressesSet>",
            s("id"),
            s("subnet"),
            s("az_name"),
            s("owner"),
            if attached { "in-use" } else { "available" },
            ip = s("ip"),
        )));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeNetworkInterfacesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
         <requestId>r-1</requestId><networkInterfaceSet>{items}</networkInterfaceSet></DescribeNetworkInterfacesResponse>"
    )
}

/// `DescribeNetworkInterfacePermissions` for the planted interfaces.
fn permissions_xml(account: &serde_json::Value, attach: &[Attach]) -> String {
    let mut items = String::new();
    for (i, eni) in account["interfaces"].as_array().expect("interfaces").iter().enumerate() {
        let grantee = match attach[i] {
            Attach::Attached => CONFLUENT,
            Attach::OtherAccount => "111100002222",
            Attach::NoPermission => continue,
        };
        items.push_str(&item(&format!(
            "<networkInterfacePermissionId>eni-perm-{i}</networkInterfacePermissionId>\
             <networkInterfaceId>{}</networkInterfaceId><awsAccountId>{grantee}</awsAccountId>\
             <permission>INSTANCE-ATTACH</permission><permissionState><state>GRANTED</state></permissionState>",
            eni["id"].as_str().expect("id")
        )));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeNetworkInterfacePermissionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
         <requestId>r-2</requestId><networkInterfacePermissions>{items}</networkInterfacePermissions></DescribeNetworkInterfacePermissionsResponse>"
    )
}

/// The lab diagnosed with the audit of `scenario` planted in moto, the interfaces standing as
/// `attach` says; the audit finds them from the VPC and the addresses the bootstrap resolved to.
async fn pni_run(scenario: &str, attach: [Attach; 3]) -> (Report, serde_json::Value, Vec<(String, String)>) {
    pni_run_lab(scenario, attach, Fault::None).await
}

/// As [`pni_run`], with `fault` in force in the lab's network (layout `pni`: the cluster's names
/// answer with the interfaces' addresses, no endpoint, no CNAME).
async fn pni_run_lab(
    scenario: &str,
    attach: [Attach; 3],
    fault: Fault,
) -> (Report, serde_json::Value, Vec<(String, String)>) {
    let moto = Moto::start(&root());
    let out = moto.python("fixtures/aws/moto_pni.py", &[&moto.url, scenario]);
    assert!(out.status.success(), "fixture {scenario}: {}", String::from_utf8_lossy(&out.stderr));
    let account: serde_json::Value = serde_json::from_slice(&out.stdout).expect("fixture JSON");
    moto.record_ec2("DescribeNetworkInterfaces", "vpc-id", &interfaces_xml(&account, &attach));
    moto.record_ec2("DescribeNetworkInterfacePermissions", "", &permissions_xml(&account, &attach));
    let mut input = AuditInput::default();
    input.vpc_id = account["vpc_id"].as_str().map(str::to_string);
    input.region = Some("us-west-2".into());
    input.endpoint_url = Some(moto.url.clone());
    input.static_credentials = Some(("testing".into(), "testing".into()));
    let lab = Lab::start_layout(LabLayout::Pni, fault, kreach_lab::LAB_BROKERS).await.expect("lab");
    let config = kreach_testkit::lab_config(&lab, Duration::from_secs(10));
    let report = kreach::Diagnosis::new(&config)
        .aws(move |scope, budget| async move { kreach_aws::audit(&input.narrowed_by(&scope), budget).await })
        .run()
        .await
        .expect("run");
    (report, account, moto.recorded_asked())
}

fn fix_of<'a>(report: &'a Report, code: &str) -> &'a str {
    report.findings.iter().find(|f| f.code.as_str() == code).map(|f| f.fix.as_str()).unwrap_or_default()
}

#[tokio::test]
async fn a_healthy_pni_is_found_without_an_endpoint_and_raises_nothing() {
    let (report, account, asked) = pni_run("pni-healthy", [Attach::Attached; 3]).await;
    assert_eq!(aws_codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let audit = report.aws.as_ref().expect("audit");
    assert!(audit.endpoint.is_none());
    assert!(audit.errors.is_empty(), "no 'no endpoint' error when PNI is found: {:?}", audit.errors);
    assert_eq!(audit.pni_interfaces.len(), 3, "{:#?}", audit.pni_interfaces);
    let sg = account["security_group"].as_str().expect("sg");
    for i in &audit.pni_interfaces {
        assert!(i.attached() && i.az_id.starts_with("usw2-az"), "{i:?}");
        assert!(i.ingress_rules.iter().any(|r| r.group_id == sg && r.admits(9092)), "moto's rules: {i:?}");
        assert!(i.egress_rules.is_empty(), "outbound revoked: {i:?}");
    }
    assert!(audit.calls.iter().any(|c| c == "ec2:DescribeNetworkInterfacePermissions"), "{:?}", audit.calls);
    // The layout comes from the audit (the names say nothing), and a healthy PNI warns of nothing.
    let network = report.network.as_ref().expect("network");
    assert_eq!(network.layout, kreach::report::Layout::ConfluentPni, "{:?}", network.evidence);
    assert!(network.rules.source.contains("aws-pni"), "{}", network.rules.source);
    assert_eq!(report.status, kreach::Status::Pass, "{:#?}", report.findings);
    assert!(report.codes_at_least(kreach::Severity::Warning).is_empty(), "{:#?}", report.findings);
    // No endpoint on the path, so no endpoint idle timeout to judge the client's settings against:
    // Java's default (540 s) is a warning on a PrivateLink layout, nothing on this one.
    let mut judged = report.clone();
    let mut client = kreach::report::ClientSettings::default();
    client.properties = vec![("connections.max.idle.ms".into(), "540000".into())];
    judged.settings.client = Some(client);
    let idle = |r: &Report| kreach::judge(r).iter().any(|f| f.code.as_str() == "client-idle-timeout-above-endpoint");
    assert!(!idle(&judged), "{:#?}", kreach::judge(&judged));
    judged.network.as_mut().expect("network").layout = kreach::report::Layout::ConfluentDedicated;
    assert!(idle(&judged), "the same settings on an endpoint's path are judged");
    // Interfaces holding none of the cluster's addresses, for names that are not Confluent's:
    // another vendor's attached interfaces, not this cluster's path — no PNI layout, no PNI finding.
    let mut elsewhere = report.clone();
    let a = elsewhere.aws.as_mut().expect("audit");
    for (n, i) in a.pni_interfaces.iter_mut().enumerate() {
        i.ips = vec![format!("10.99.{n}.10")];
        i.attached_account = None;
    }
    elsewhere.network = Some(kreach::layout::network(&elsewhere, None));
    assert_eq!(elsewhere.network.as_ref().map(|n| n.layout), Some(kreach::report::Layout::Generic));
    let found = kreach::judge(&elsewhere);
    assert!(found.iter().all(|f| !f.code.as_str().starts_with("aws-pni-")), "{found:#?}");
    assert!(asked.iter().any(|(a, _)| a == "ec2:DescribeNetworkInterfacePermissions"), "{asked:?}");
    // Read-only.
    assert!(audit.calls.iter().all(|c| c.contains(":Describe") || c.contains(":List") || c.contains(":Get")));
}

#[tokio::test]
async fn a_pni_security_group_without_9092_is_named_with_its_rule() {
    let (report, account, _) = pni_run("pni-sg-missing-9092", [Attach::Attached; 3]).await;
    assert_eq!(aws_codes(&report), ["aws-pni-sg-missing-ingress"], "{:#?}", report.findings);
    let sg = account["security_group"].as_str().expect("sg");
    let fix = fix_of(&report, "aws-pni-sg-missing-ingress");
    assert!(fix.contains(&format!("--group-id {sg} --protocol tcp --port 9092")), "{fix}");
}

#[tokio::test]
async fn a_dropped_kafka_port_on_the_pni_interfaces_blames_their_security_group_not_an_endpoint() {
    // The network drops 9092 on every interface address (the lab), and the PNI group has no rule
    // for it (moto): the connect failure's fix names the PNI interfaces' group, as the audit does.
    let (report, account, _) = pni_run_lab("pni-sg-missing-9092", [Attach::Attached; 3], Fault::KafkaPortDropped).await;
    assert_eq!(report.status, kreach::Status::Fail);
    assert_eq!(report.network.as_ref().map(|n| n.layout), Some(kreach::report::Layout::ConfluentPni));
    let tcp = report.findings.iter().find(|f| f.code.as_str() == "tcp-timeout").expect("tcp-timeout");
    assert!(tcp.fix.contains("PNI network interfaces"), "{}", tcp.fix);
    assert!(!tcp.fix.contains("VPC endpoint"), "no endpoint on this path: {}", tcp.fix);
    let sg = account["security_group"].as_str().expect("sg");
    assert!(
        fix_of(&report, "aws-pni-sg-missing-ingress").contains(&format!("--group-id {sg} --protocol tcp --port 9092"))
    );
    assert!(report.findings.iter().all(|f| !f.fix.contains("VPC endpoint's security group")), "{:#?}", report.findings);
}

/// An event source mapping on a PNI cluster: no endpoint, so the PNI interfaces' groups must admit
/// the mapping's (moto's planted rules admit the clients' group on 443 and 9092). The healthy
/// run's report is judged again with the mapping and its (otherwise empty) audit joined.
#[tokio::test]
async fn a_mapping_on_pni_must_be_admitted_by_the_pni_interfaces_groups() {
    let (report, account, _) = pni_run("pni-healthy", [Attach::Attached; 3]).await;
    let clients = account["client_security_group"].as_str().expect("client sg");
    let subnet = account["interfaces"][0]["subnet"].as_str().expect("subnet");
    let judged = |group: &str| {
        let mapping = kreach::EventSourceMapping::parse(
            serde_json::json!({
                "UUID": "0b1c2d3e-aaaa-bbbb-cccc-000000000001",
                "FunctionArn": "arn:aws:lambda:us-west-2:123456789012:function:orders",
                "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["lkc-lab01.pnilab01.lab.internal:9092"]}},
                "SourceAccessConfigurations": [
                    {"Type": "VPC_SUBNET", "URI": format!("subnet:{subnet}")},
                    {"Type": "VPC_SECURITY_GROUP", "URI": format!("security_group:{group}")}
                ]
            })
            .to_string()
            .as_bytes(),
        )
        .expect("mapping");
        let mut r = report.clone();
        r.event_source_mapping = Some(mapping);
        r.aws.as_mut().expect("audit").event_source_mapping = Some(kreach::report::EsmAudit::default());
        let mut codes: Vec<(String, String)> = kreach::judge(&r)
            .iter()
            .filter(|f| f.code.as_str() == "esm-pni-ingress-missing")
            .map(|f| (f.summary.clone(), f.fix.clone()))
            .collect();
        codes.sort();
        codes
    };
    assert_eq!(judged(clients), Vec::<(String, String)>::new(), "the clients' group is admitted on 443 and 9092");
    let missing = judged("sg-0000000000000dead");
    assert_eq!(missing.len(), 2, "443 and 9092: {missing:#?}");
    let sg = account["security_group"].as_str().expect("pni sg");
    for port in [443, 9092] {
        assert!(
            missing.iter().any(|(_, fix)| fix.contains(&format!(
                "--group-id {sg} --protocol tcp --port {port} --source-group sg-0000000000000dead"
            ))),
            "{missing:#?}"
        );
    }
}

#[tokio::test]
async fn a_permission_for_another_account_names_the_gateways_account() {
    let (report, account, _) = pni_run("pni-healthy", [Attach::Attached, Attach::OtherAccount, Attach::Attached]).await;
    assert_eq!(aws_codes(&report), ["aws-pni-permission-wrong-account"], "{:#?}", report.findings);
    let eni = account["interfaces"][1]["id"].as_str().expect("eni");
    let fix = fix_of(&report, "aws-pni-permission-wrong-account");
    assert!(fix.contains(&format!("--network-interface-id {eni} --aws-account-id {CONFLUENT}")), "{fix}");
}

#[tokio::test]
async fn an_interface_without_permission_is_found_by_the_clusters_address() {
    let (report, account, _) = pni_run("pni-healthy", [Attach::Attached, Attach::Attached, Attach::NoPermission]).await;
    assert_eq!(aws_codes(&report), ["aws-pni-permission-missing"], "{:#?}", report.findings);
    let eni = account["interfaces"][2]["id"].as_str().expect("eni");
    let fix = fix_of(&report, "aws-pni-permission-missing");
    assert!(
        fix.contains(&format!(
            "--network-interface-id {eni} --aws-account-id {CONFLUENT} --permission INSTANCE-ATTACH"
        )),
        "{fix}"
    );
}

#[tokio::test]
async fn open_egress_on_the_pni_group_is_information_only() {
    let (report, _, _) = pni_run("pni-egress-open", [Attach::Attached; 3]).await;
    assert_eq!(aws_codes(&report), ["aws-pni-egress-open"], "{:#?}", report.findings);
    let f = report.findings.iter().find(|f| f.code.as_str() == "aws-pni-egress-open").expect("finding");
    assert_eq!(f.severity, kreach::Severity::Info);
}

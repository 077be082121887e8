//! What changed since it worked: the audit against moto server (the endpoint's security group
//! planted without its 9092 rule), joined with a real diagnosis of the in-process lab, and
//! CloudTrail's `LookupEvents` for the blamed group. moto has no CloudTrail lookups: the test front
//! answers them with recorded events in the shape CloudTrail's API reference documents
//! (`Events[].EventName/EventTime/ReadOnly/Username/Resources/CloudTrailEvent`, the record a JSON
//! string). Everything talks to 127.0.0.1 only.

use std::path::PathBuf;
use std::time::Duration;

use kreach::Report;
use kreach_aws::AuditInput;
use kreach_lab::{Fault, LAB_DOMAIN, Lab};
use kreach_testkit::moto::{Moto, cloudtrail_event as event};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// moto with the `sg-missing-9092` planting, the audit's input for it and the lab to diagnose.
struct Planted {
    moto: Moto,
    account: serde_json::Value,
    sg: String,
    input: AuditInput,
    lab: Lab,
}

async fn plant() -> Planted {
    plant_with(Fault::None).await
}

/// [`plant`], the lab playing `fault` on the network.
async fn plant_with(fault: Fault) -> Planted {
    let moto = Moto::start(&root());
    let account = moto.plant("sg-missing-9092", LAB_DOMAIN);
    let sg = account["security_group"].as_str().expect("sg").to_string();
    let mut input = AuditInput::default();
    input.vpc_endpoint_id = account["vpc_endpoint_id"].as_str().map(str::to_string);
    input.domain = Some(LAB_DOMAIN.to_string());
    input.region = Some("us-west-2".into());
    input.endpoint_url = Some(moto.url.clone());
    input.static_credentials = Some(("testing".into(), "testing".into()));
    let lab = Lab::start(fault).await.expect("lab");
    Planted { moto, account, sg, input, lab }
}

/// The lab diagnosed with the audit of the planting and the change lookup.
async fn diagnose(p: &Planted) -> Report {
    let (input, changes_input) = (p.input.clone(), p.input.clone());
    let config = kreach_testkit::lab_config(&p.lab, Duration::from_secs(20));
    kreach::Diagnosis::new(&config)
        .aws(move |scope, budget| async move { kreach_aws::audit(&input.narrowed_by(&scope), budget).await })
        .changes(move |resources, budget| async move {
            kreach_aws::lookup_changes(&changes_input, &resources, 24, budget).await
        })
        .run()
        .await
        .expect("run")
}

/// One diagnosis of the planting; `events` builds what CloudTrail holds for the endpoint's group
/// (its id known once planted), `by_name` what it answers a lookup by event name.
async fn run(
    events: impl Fn(&str) -> Vec<serde_json::Value>,
    by_name: impl Fn(&str) -> Vec<(&'static str, Vec<serde_json::Value>)>,
) -> (Report, String, Vec<(String, String)>) {
    run_on(Fault::None, events, by_name).await
}

/// [`run`] with the lab playing `fault`.
async fn run_on(
    fault: Fault,
    events: impl Fn(&str) -> Vec<serde_json::Value>,
    by_name: impl Fn(&str) -> Vec<(&'static str, Vec<serde_json::Value>)>,
) -> (Report, String, Vec<(String, String)>) {
    let p = plant_with(fault).await;
    p.moto.record_cloudtrail("LookupEvents", &p.sg, serde_json::json!({"Events": events(&p.sg)}));
    for (name, events) in by_name(&p.sg) {
        p.moto.record_cloudtrail("LookupEvents", &format!("\"{name}\""), serde_json::json!({"Events": events}));
    }
    let report = diagnose(&p).await;
    (report, p.sg.clone(), p.moto.recorded_asked())
}

const DEPLOY: &str = "arn:aws:iam::123456789012:role/deploy";
const ADMIN: &str = "arn:aws:iam::123456789012:role/admin";

#[tokio::test]
async fn a_revoked_rule_is_listed_under_the_finding_that_blames_its_group() {
    let revoke = |sg: &str| {
        serde_json::json!({"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 9092,
            "toPort": 9092, "groups": {"items": [{"groupId": "sg-0clients"}]}}]}})
    };
    // Under the lab's dropped 9092 (what the network shows, beside the group the audit read): a
    // revoke an hour ago by the deploy role, a read five minutes ago (dropped), an older authorize.
    let (report, sg, asked) = run_on(
        Fault::KafkaPortDropped,
        |sg| {
            vec![
                event("DescribeSecurityGroups", true, 5, Some(sg), DEPLOY, serde_json::json!({})),
                event("RevokeSecurityGroupIngress", false, 60, Some(sg), DEPLOY, revoke(sg)),
                event("AuthorizeSecurityGroupIngress", false, 600, Some(sg), ADMIN, revoke(sg)),
            ]
        },
        |_| Vec::new(),
    )
    .await;
    let f = report.findings.iter().find(|f| f.code.as_str() == "aws-sg-missing-ingress").expect("finding");
    assert_eq!(f.resources, std::slice::from_ref(&sg), "the finding blames the endpoint's group");
    assert_eq!(report.status, kreach::Status::Fail, "9092 fails on the network too");
    let names: Vec<&str> = f.changes.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress"], "newest first, reads dropped");
    let newest = &f.changes[0];
    assert_eq!(newest.principal.as_deref(), Some(DEPLOY), "the role behind the session");
    assert!(newest.parameters.contains("9092") && newest.parameters.contains("sg-0clients"), "{}", newest.parameters);
    let changes = report.changes.as_ref().expect("changes");
    assert_eq!(
        changes.calls, ["cloudtrail:LookupEvents"; 3],
        "one lookup for the one blamed group, one for each call that breaks a group"
    );
    assert!(changes.resources[0].complete && changes.errors.is_empty(), "{changes:?}");
    let policy = std::fs::read_to_string(root().join("docs/iam-policy-audit.json")).expect("policy");
    assert!(changes.calls.iter().all(|c| policy.contains(&format!("\"{c}\""))), "in the audit policy");
    // The lookup named the group as CloudTrail's one lookup attribute.
    let bodies: Vec<&str> =
        asked.iter().filter(|(a, _)| a == "cloudtrail:LookupEvents").map(|(_, b)| b.as_str()).collect();
    assert!(bodies.iter().any(|b| b.contains("ResourceName") && b.contains(&sg)), "{bodies:?}");
    for name in ["RevokeSecurityGroupIngress", "ModifySecurityGroupRules"] {
        assert!(bodies.iter().any(|b| b.contains("EventName") && b.contains(name)), "{name}: {bodies:?}");
    }
    // The table says it under the finding.
    let table = kreach::render::table(&report, false);
    assert!(
        table.contains("changed:") && table.contains("RevokeSecurityGroupIngress") && table.contains("role/deploy"),
        "{table}"
    );
    // Only error findings' resources are looked up, and no finding lists another's changes.
    assert!(report.findings.iter().filter(|f| f.resources.is_empty()).all(|f| f.changes.is_empty()));
}

#[tokio::test]
async fn no_change_in_the_window_is_said_too() {
    let (report, _, _) = run(|_| Vec::new(), |_| Vec::new()).await;
    let f = report.findings.iter().find(|f| f.code.as_str() == "aws-sg-missing-ingress").expect("finding");
    assert!(f.changes.is_empty());
    let lines = kreach::report::change_lines(f, report.changes.as_ref());
    assert!(lines.iter().any(|l| l.contains("no change in the last 24 h")), "{lines:?} {:?}", report.changes);
}

/// An EC2 call whose record lists no resource is found by its event name and kept where its
/// request names the blamed group (at the top, or inside the `…Request` object newer calls use);
/// a call on another group, or naming this one only as a rule's source, is not; an event both
/// lookups return is listed once.
#[tokio::test]
async fn a_change_whose_record_names_no_resource_is_found_by_its_request() {
    let modify = |sg: &str, port: u16| {
        serde_json::json!({"ModifySecurityGroupRulesRequest": {"GroupId": sg, "SecurityGroupRule": {
            "SecurityGroupRuleId": "sgr-0a1", "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}}}})
    };
    let revoke = |group: &str, source: &str| {
        serde_json::json!({"groupId": group, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 9092,
            "toPort": 9092, "groups": {"items": [{"groupId": source}]}}]}})
    };
    let (report, sg, _) = run(
        |sg| vec![event("RevokeSecurityGroupIngress", false, 60, Some(sg), DEPLOY, revoke(sg, "sg-0clients"))],
        |sg| {
            vec![
                (
                    "ModifySecurityGroupRules",
                    vec![
                        event("ModifySecurityGroupRules", false, 30, None, DEPLOY, modify(sg, 443)),
                        event("ModifySecurityGroupRules", false, 20, None, ADMIN, modify("sg-0other", 443)),
                    ],
                ),
                (
                    "RevokeSecurityGroupIngress",
                    vec![
                        // The same event the lookup by the group's name found.
                        event("RevokeSecurityGroupIngress", false, 60, Some(sg), DEPLOY, revoke(sg, "sg-0clients")),
                        // Another group's rule whose source is this group: not a change to it.
                        event("RevokeSecurityGroupIngress", false, 10, None, ADMIN, revoke("sg-0other", sg)),
                    ],
                ),
            ]
        },
    )
    .await;
    let f = report.findings.iter().find(|f| f.code.as_str() == "aws-sg-missing-ingress").expect("finding");
    let listed: Vec<(&str, &str)> = f.changes.iter().map(|e| (e.name.as_str(), e.id.as_str())).collect();
    assert_eq!(
        listed,
        [
            ("ModifySecurityGroupRules", "ev-ModifySecurityGroupRules-30"),
            ("RevokeSecurityGroupIngress", "ev-RevokeSecurityGroupIngress-60")
        ],
        "newest first, once each, this group's only"
    );
    assert!(f.changes[0].parameters.contains(&sg) && f.changes[0].parameters.contains("443"), "{:?}", f.changes[0]);
    let changes = report.changes.as_ref().expect("changes");
    assert!(changes.resources[0].complete && changes.errors.is_empty(), "{changes:?}");
}

/// `--watch`: a finding that went away is said with the change that mended it — the write event
/// on its group since the run before (not the older one that broke it) — and, when CloudTrail has
/// none yet, that none is recorded (its delivery lags).
#[tokio::test]
async fn watch_names_the_change_that_mended_the_hop() {
    let p = plant().await;
    let revoke = serde_json::json!({"groupId": &p.sg, "ipPermissions": {"items": [{"fromPort": 9092}]}});
    let broke = event("RevokeSecurityGroupIngress", false, 60, Some(&p.sg), DEPLOY, revoke);
    p.moto.record_cloudtrail("LookupEvents", &p.sg, serde_json::json!({"Events": [broke.clone()]}));
    let before = diagnose(&p).await;
    assert!(before.findings.iter().any(|f| f.code.as_str() == "aws-sg-missing-ingress"), "{:?}", before.findings);

    // The operator adds the rule (moto's group changes; CloudTrail records the call).
    std::thread::sleep(Duration::from_millis(1100));
    let client_sg = p.account["client_security_group"].as_str().expect("client sg");
    let rule = serde_json::json!({"GroupId": &p.sg, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 9092,
        "ToPort": 9092, "UserIdGroupPairs": [{"GroupId": client_sg}]}]});
    let out = p.moto.python(
        "fixtures/aws/moto_call.py",
        &[&p.moto.url, "ec2", "authorize_security_group_ingress", &rule.to_string()],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let authorize = serde_json::json!({"groupId": &p.sg, "ipPermissions": {"items": [{"fromPort": 9092,
        "groups": {"items": [{"groupId": client_sg}]}}]}});
    let mended = event("AuthorizeSecurityGroupIngress", false, 0, Some(&p.sg), ADMIN, authorize);
    p.moto.record_cloudtrail("LookupEvents", &p.sg, serde_json::json!({"Events": [mended, broke.clone()]}));
    let after = diagnose(&p).await;
    assert!(!after.findings.iter().any(|f| f.code.as_str() == "aws-sg-missing-ingress"), "{:?}", after.findings);

    let audit =
        kreach_aws::mended_changes(&p.input, &before, &after, Duration::from_secs(10)).await.expect("looked up");
    assert_eq!(audit.since.as_deref().map(|s| &s[..19]), Some(&before.started_at[..19]), "since the run before");
    let lines = kreach::render::changes_mended(&before, &after, Some(&audit));
    let line = lines.iter().find(|l| l.starts_with("- aws-sg-missing-ingress")).expect("the finding went");
    assert!(line.contains(&format!("fixed after {}: AuthorizeSecurityGroupIngress at", p.sg)), "{line}");
    assert!(line.contains("role/admin") && !line.contains("RevokeSecurityGroupIngress"), "{line}");
    // The lookup began where the run before began.
    let asked = p.moto.recorded_asked();
    let body = &asked.iter().rev().find(|(a, b)| a == "cloudtrail:LookupEvents" && b.contains(&p.sg)).expect("asked").1;
    let start = serde_json::from_str::<serde_json::Value>(body).expect("json")["StartTime"].as_f64().expect("start");
    let began = time_of(&before.started_at);
    assert!((start - began).abs() < 1.0, "StartTime {start} vs the run before {began}");

    // CloudTrail has nothing newer yet: said, with its delivery lag.
    p.moto.record_cloudtrail("LookupEvents", &p.sg, serde_json::json!({"Events": [broke]}));
    let audit =
        kreach_aws::mended_changes(&p.input, &before, &after, Duration::from_secs(10)).await.expect("looked up");
    let lines = kreach::render::changes_mended(&before, &after, Some(&audit));
    let line = lines.iter().find(|l| l.starts_with("- aws-sg-missing-ingress")).expect("the finding went");
    assert!(
        line.contains(&format!("no change recorded yet on {}", p.sg)) && line.contains("5 to 15 minutes"),
        "{line}"
    );
}

/// Seconds since the epoch of an RFC 3339 time.
fn time_of(rfc3339: &str) -> f64 {
    let t = aws_smithy_types::DateTime::from_str(rfc3339, aws_smithy_types::date_time::Format::DateTime).expect("time");
    t.secs() as f64 + f64::from(t.subsec_nanos()) / 1e9
}

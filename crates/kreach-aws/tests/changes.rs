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
use kreach_testkit::moto::Moto;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A CloudTrail event in `LookupEvents`' shape.
fn event(
    name: &str,
    read_only: bool,
    minutes_ago: i64,
    sg: &str,
    principal: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let record = serde_json::json!({
        "eventVersion": "1.09", "eventSource": "ec2.amazonaws.com", "eventName": name, "readOnly": read_only,
        "userIdentity": {"type": "AssumedRole", "arn": format!("{principal}/session-1"),
                         "sessionContext": {"sessionIssuer": {"type": "Role", "arn": principal}}},
        "requestParameters": params,
    });
    serde_json::json!({
        "EventId": format!("ev-{name}-{minutes_ago}"), "EventName": name, "ReadOnly": read_only.to_string(),
        "EventTime": now - minutes_ago * 60, "EventSource": "ec2.amazonaws.com", "Username": "session-1",
        "Resources": [{"ResourceType": "AWS::EC2::SecurityGroup", "ResourceName": sg}],
        "CloudTrailEvent": record.to_string(),
    })
}

/// The lab diagnosed with the audit of moto's `sg-missing-9092` planting and the change lookup;
/// `events` builds what CloudTrail holds for the endpoint's group (its id known once planted).
async fn run(events: impl Fn(&str) -> Vec<serde_json::Value>) -> (Report, String, Vec<(String, String)>) {
    let moto = Moto::start(&root());
    let account = moto.plant("sg-missing-9092", LAB_DOMAIN);
    let sg = account["security_group"].as_str().expect("sg").to_string();
    moto.record_cloudtrail("LookupEvents", &sg, serde_json::json!({"Events": events(&sg)}));
    let mut input = AuditInput::default();
    input.vpc_endpoint_id = account["vpc_endpoint_id"].as_str().map(str::to_string);
    input.domain = Some(LAB_DOMAIN.to_string());
    input.region = Some("us-west-2".into());
    input.endpoint_url = Some(moto.url.clone());
    input.static_credentials = Some(("testing".into(), "testing".into()));
    let changes_input = input.clone();
    let lab = Lab::start(Fault::None).await.expect("lab");
    let config = kreach_testkit::lab_config(&lab, Duration::from_secs(20));
    let report = kreach::Diagnosis::new(&config)
        .aws(move |scope, budget| async move { kreach_aws::audit(&input.narrowed_by(&scope), budget).await })
        .changes(move |resources, budget| async move {
            kreach_aws::lookup_changes(&changes_input, &resources, 24, budget).await
        })
        .run()
        .await
        .expect("run");
    (report, sg, moto.recorded_asked())
}

const DEPLOY: &str = "arn:aws:iam::123456789012:role/deploy";

#[tokio::test]
async fn a_revoked_rule_is_listed_under_the_finding_that_blames_its_group() {
    let revoke = |sg: &str| {
        serde_json::json!({"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 9092,
            "toPort": 9092, "groups": {"items": [{"groupId": "sg-0clients"}]}}]}})
    };
    // A revoke an hour ago by the deploy role, a read five minutes ago (dropped), an older authorize.
    let (report, sg, asked) = run(|sg| {
        vec![
            event("DescribeSecurityGroups", true, 5, sg, DEPLOY, serde_json::json!({})),
            event("RevokeSecurityGroupIngress", false, 60, sg, DEPLOY, revoke(sg)),
            event("AuthorizeSecurityGroupIngress", false, 600, sg, "arn:aws:iam::123456789012:role/admin", revoke(sg)),
        ]
    })
    .await;
    let f = report.findings.iter().find(|f| f.code.as_str() == "aws-sg-missing-ingress").expect("finding");
    assert_eq!(f.resources, std::slice::from_ref(&sg), "the finding blames the endpoint's group");
    let names: Vec<&str> = f.changes.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress"], "newest first, reads dropped");
    let newest = &f.changes[0];
    assert_eq!(newest.principal.as_deref(), Some(DEPLOY), "the role behind the session");
    assert!(newest.parameters.contains("9092") && newest.parameters.contains("sg-0clients"), "{}", newest.parameters);
    let changes = report.changes.as_ref().expect("changes");
    assert_eq!(changes.calls, ["cloudtrail:LookupEvents"], "one lookup for the one blamed group");
    assert!(changes.resources[0].complete && changes.errors.is_empty(), "{changes:?}");
    let policy = std::fs::read_to_string(root().join("docs/iam-policy-audit.json")).expect("policy");
    assert!(changes.calls.iter().all(|c| policy.contains(&format!("\"{c}\""))), "in the audit policy");
    // The lookup named the group as CloudTrail's one lookup attribute.
    let body = &asked.iter().find(|(a, _)| a == "cloudtrail:LookupEvents").expect("asked").1;
    assert!(body.contains("ResourceName") && body.contains(&sg), "{body}");
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
    let (report, _, _) = run(|_| Vec::new()).await;
    let f = report.findings.iter().find(|f| f.code.as_str() == "aws-sg-missing-ingress").expect("finding");
    assert!(f.changes.is_empty());
    let lines = kreach::report::change_lines(f, report.changes.as_ref());
    assert!(lines.iter().any(|l| l.contains("no change in the last 24 h")), "{lines:?} {:?}", report.changes);
}

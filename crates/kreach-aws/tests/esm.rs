//! The event source mapping's network and role, and the Lambda Sink Connector's principal and
//! function, audited against moto server and joined with the in-process lab's report. moto cannot
//! create a self-managed Kafka event source mapping: the mapping is the documented
//! `GetEventSourceMapping` response shape, built by fixtures/aws/moto_esm.py around the planted ids.

use std::path::PathBuf;
use std::time::Duration;

use kreach::{EventSourceMapping, Report};
use kreach_aws::AuditInput;
use kreach_lab::{Fault, LAB_BOOTSTRAP_HOST, LAB_DOMAIN, Lab};
use kreach_testkit::moto::Moto;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The codes of the mapping's and the connector's findings, sorted.
fn codes(report: &Report) -> Vec<&'static str> {
    let mut c: Vec<&str> = report
        .findings
        .iter()
        // What the mapping is (esm-poller-mode, info) is asserted on its own; these are the faults.
        .filter(|f| f.severity != kreach::Severity::Info)
        .map(|f| f.code.as_str())
        .filter(|c| c.starts_with("esm-") || c.starts_with("connector-"))
        .collect();
    c.sort();
    c.dedup();
    c
}

/// The mapping on the planted MSK cluster, keeping its secret: the cluster's subnets and groups are
/// the pollers'.
fn on_msk(m: &mut serde_json::Value, planted: &serde_json::Value) {
    m["EventSourceArn"] = planted["msk_cluster"].clone();
    m.as_object_mut().expect("object").remove("SelfManagedEventSource");
    if let Some(list) = m["SourceAccessConfigurations"].as_array_mut() {
        list.retain(|c| !c["Type"].as_str().is_some_and(|t| t.starts_with("VPC_")));
    }
}

async fn scenario(name: &str) -> (Report, kreach::report::AwsAudit) {
    scenario_with(name, |_, _| {}).await
}

/// The scenario with the mapping's JSON edited first (another poller mode, another source), given
/// what was planted.
async fn scenario_with(
    name: &str,
    edit: impl Fn(&mut serde_json::Value, &serde_json::Value),
) -> (Report, kreach::report::AwsAudit) {
    let moto = Moto::start(&root());
    let account = moto.plant("healthy", LAB_DOMAIN);
    let bootstrap = format!("{LAB_BOOTSTRAP_HOST}:9092");
    let out = moto.python("fixtures/aws/moto_esm.py", &[&moto.url, &account.to_string(), name, &bootstrap]);
    assert!(out.status.success(), "moto_esm.py: {}", String::from_utf8_lossy(&out.stderr));
    let mut planted: serde_json::Value = serde_json::from_slice(&out.stdout).expect("planted json");
    let ids = planted.clone();
    edit(&mut planted["mapping"], &ids);
    let mapping = EventSourceMapping::parse(planted["mapping"].to_string().as_bytes()).expect("mapping");
    let mut input = AuditInput::default();
    input.vpc_endpoint_id = account["vpc_endpoint_id"].as_str().map(str::to_string);
    input.domain = Some(LAB_DOMAIN.to_string());
    input.region = Some("us-west-2".into());
    input.endpoint_url = Some(moto.url.clone());
    input.static_credentials = Some(("testing".into(), "testing".into()));
    input.event_source_mapping = Some(mapping.clone());
    input.sink_connector_principal = planted["connector_user"].as_str().map(str::to_string);
    input.lambda_function = if name == "connector-function-not-found" {
        Some("no-such-function".into())
    } else {
        planted["function"].as_str().map(str::to_string)
    };
    let audit = kreach_aws::audit(&input, Duration::from_secs(30)).await;
    assert!(
        audit.unavailable.is_none() && audit.errors.is_empty(),
        "{name}: {:?} {:?}",
        audit.unavailable,
        audit.errors
    );
    // Joined with the lab's report (brokers in usw2-az1..3), as the CLI does.
    let lab = Lab::start(Fault::None).await.expect("lab");
    let config = kreach_testkit::lab_config(&lab, Duration::from_secs(5));
    let joined = audit.clone();
    let report = kreach::Diagnosis::new(&config)
        .event_source_mapping(Some(mapping))
        .aws(move |_, _| async move { joined })
        .run()
        .await
        .expect("run");
    (report, audit)
}

#[tokio::test]
async fn a_healthy_mapping_and_connector_raise_nothing_and_everything_is_read() {
    let (report, audit) = scenario("healthy").await;
    assert_eq!(codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let mode = report.findings.iter().find(|f| f.code.as_str() == "esm-poller-mode").expect("the mode is reported");
    assert!(mode.summary.contains("polls on demand") && mode.summary.contains("Secrets Manager"), "{}", mode.summary);
    let esm = audit.event_source_mapping.as_ref().expect("esm audit");
    assert_eq!(esm.subnets.len(), 3);
    assert!(
        esm.subnets.iter().all(|s| s.internet_route.as_deref().is_some_and(|r| r.starts_with("nat-"))),
        "{:?}",
        esm.subnets
    );
    assert!(esm.api_routes.iter().all(|r| r.interface_endpoint.is_some()), "{:?}", esm.api_routes);
    assert!(esm.egress.iter().all(|e| e.allowed), "{:?}", esm.egress);
    assert!(esm.role.as_deref().is_some_and(|r| r.ends_with("orders-consumer-role")));
    assert_eq!(esm.permissions.len(), 8, "six ec2 actions, the secret and its key: {:?}", esm.permissions);
    assert!(esm.permissions.iter().any(|p| p.action == "kms:Decrypt" && p.resource.starts_with("arn:aws:kms:")));
    assert!(
        esm.permissions.iter().all(|p| p.verdict == kreach::report::PermissionVerdict::Allowed),
        "{:?}",
        esm.permissions
    );
    assert!(esm.permission_method.as_deref().is_some_and(|m| m.contains("SCP")), "{:?}", esm.permission_method);
    let connector = audit.sink_connector.as_ref().expect("connector audit");
    assert_eq!(connector.function_found, Some(true));
    assert!(
        connector.permissions.iter().all(|p| p.verdict == kreach::report::PermissionVerdict::Allowed),
        "{:?}",
        connector.permissions
    );
    // Read-only, listed, and in the documented least-privilege policy.
    let policy = std::fs::read_to_string(root().join("docs/iam-policy-audit.json")).expect("policy");
    for call in &audit.calls {
        assert!(policy.contains(&format!("\"{call}\"")), "{call} is missing from docs/iam-policy-audit.json");
        let action = call.split(':').nth(1).unwrap_or("");
        assert!(
            ["Describe", "Get", "List", "Simulate"].iter().any(|p| action.starts_with(p)),
            "not a read-only call: {call}"
        );
    }
}

#[tokio::test]
async fn each_planted_fault_gives_exactly_its_code() {
    let cases = [
        ("sg-egress-missing", "esm-sg-egress-missing", "FromPort=443"),
        ("endpoint-ingress-missing", "esm-endpoint-ingress-missing", "--source-group sg-"),
        // A CIDR rule admits the pollers only when it holds every subnet of the mapping.
        ("endpoint-ingress-cidr-elsewhere", "esm-endpoint-ingress-missing", "--source-group sg-"),
        ("subnet-zone-missing", "esm-subnet-zone-missing", "VPC_SUBNET"),
        ("no-aws-api-route", "esm-no-aws-api-route", "com.amazonaws.us-west-2."),
        ("role-missing-permission", "esm-role-missing-permission", "ec2:CreateNetworkInterface"),
        ("kms-decrypt-missing", "esm-role-missing-permission", "kms:Decrypt"),
        ("connector-permission-missing", "connector-permission-missing", "lambda:InvokeFunction"),
        ("connector-function-not-found", "connector-function-not-found", "exact name"),
        // The on-failure destination: SQS without an endpoint (no NAT), without the permission to send.
        ("destination-no-endpoint", "esm-destination-unreachable", "com.amazonaws.us-west-2.sqs"),
        ("destination-permission-missing", "esm-role-missing-permission", "sqs:SendMessage"),
        ("role-trust-other-service", "esm-role-trust-missing", "lambda.amazonaws.com"),
    ];
    for (name, code, fix) in cases {
        let (report, _) = scenario(name).await;
        assert_eq!(codes(&report), [code], "{name}: {:#?}", report.findings);
        let f = report.findings.iter().find(|f| f.code.as_str() == code).expect("finding");
        assert!(f.fix.contains(fix), "{name}: {}", f.fix);
    }
}

#[tokio::test]
async fn a_cidr_rule_holding_the_mappings_subnets_admits_its_pollers() {
    let (report, audit) = scenario("endpoint-ingress-cidr-vpc").await;
    assert_eq!(codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let esm = audit.event_source_mapping.as_ref().expect("esm audit");
    assert!(
        esm.subnets.iter().all(|s| s.cidr.as_deref().is_some_and(|c| c.starts_with("10.20."))),
        "{:?}",
        esm.subnets
    );
}

#[tokio::test]
async fn provisioned_pollers_need_no_api_route_and_on_demand_ones_do() {
    let provisioned = |m: &mut serde_json::Value, _: &serde_json::Value| {
        m["ProvisionedPollerConfig"] =
            serde_json::json!({"MinimumPollers": 1, "MaximumPollers": 3, "PollerGroupName": "orders"});
        m["LoggingConfig"] = serde_json::json!({"SystemLogLevel": "INFO"});
    };
    let (report, audit) = scenario_with("no-aws-api-route", provisioned).await;
    // The same subnets without a NAT route or endpoints: the audit still sees them unrouted...
    let esm = audit.event_source_mapping.as_ref().expect("esm audit");
    assert!(esm.api_routes.iter().any(|r| !r.unrouted_subnets.is_empty()), "{:?}", esm.api_routes);
    // ...and in provisioned mode that is no fault.
    assert_eq!(codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let mode = report.findings.iter().find(|f| f.code.as_str() == "esm-poller-mode").expect("mode");
    assert!(mode.summary.contains("provisioned mode (1–3 pollers, poller group orders)"), "{}", mode.summary);
    assert!(mode.summary.contains("log at INFO to log group /aws/lambda/orders-consumer"), "{}", mode.summary);
    let (report, _) = scenario("no-aws-api-route").await;
    assert_eq!(codes(&report), ["esm-no-aws-api-route"]);
}

/// A mapping with an SQS on-failure destination: with the SQS endpoint (and no NAT) it is healthy,
/// its route and permission read; without it, the destination is unreachable in either poller
/// mode (the Lambda and STS routes are not needed in provisioned mode; the destination's is).
#[tokio::test]
async fn an_on_failure_destination_needs_its_route_in_every_mode() {
    let (report, audit) = scenario("destination-sqs").await;
    assert_eq!(codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let esm = audit.event_source_mapping.as_ref().expect("esm audit");
    let sqs = esm.api_routes.iter().find(|r| r.destination).expect("the destination's route");
    assert_eq!(sqs.service, "sqs");
    assert!(sqs.interface_endpoint.is_some(), "{sqs:?}");
    assert!(esm.permissions.iter().any(|p| p.action == "sqs:SendMessage" && p.resource.contains("orders-failed")));
    assert_eq!(esm.role_trusted_services.as_deref(), Some(&["lambda.amazonaws.com".to_string()][..]));
    assert!(audit.calls.iter().any(|c| c == "iam:GetRole"), "{:?}", audit.calls);
    let provisioned = |m: &mut serde_json::Value, _: &serde_json::Value| {
        m["ProvisionedPollerConfig"] = serde_json::json!({"MinimumPollers": 1, "MaximumPollers": 2});
    };
    let (report, _) = scenario_with("destination-no-endpoint", provisioned).await;
    assert_eq!(codes(&report), ["esm-destination-unreachable"], "{:#?}", report.findings);
}

/// A mapping with system logs on: its pollers' error codes of the last day (moto's CloudWatch
/// Logs, planted with two of this mapping's authorization errors, another mapping's, and a line
/// that is no ESM event) are evidence in the report.
#[tokio::test]
async fn the_pollers_system_log_errors_are_read_for_this_mapping_only() {
    let (report, audit) = scenario("system-logs").await;
    let esm = audit.event_source_mapping.as_ref().expect("esm audit");
    let errors = esm.system_log_errors.as_ref().expect("read");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].error_code, "org.apache.kafka.common.errors.TopicAuthorizationException");
    assert_eq!(errors[0].count, 2);
    assert!(errors[0].last_message.contains("orders"), "{errors:?}");
    assert!(audit.calls.iter().any(|c| c == "logs:FilterLogEvents"), "{:?}", audit.calls);
    let policy = std::fs::read_to_string(root().join("docs/iam-policy-audit.json")).expect("policy");
    assert!(policy.contains("\"logs:FilterLogEvents\""));
    let f = report.findings.iter().find(|f| f.code.as_str() == "esm-system-log-errors").expect("finding");
    assert!(f.summary.contains("TopicAuthorizationException ×2"), "{}", f.summary);
    assert_eq!(f.severity, kreach::Severity::Info);
}

/// An Amazon MSK mapping names no subnets or groups: its pollers sit on the cluster's network
/// (moto's `DescribeClusterV2`), which is audited as the mapping's — its zones, its groups' egress
/// and whether they admit themselves on the broker port.
#[tokio::test]
async fn an_msk_mapping_is_audited_on_the_clusters_network() {
    let (report, audit) = scenario_with("healthy", on_msk).await;
    assert_eq!(codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    assert!(audit.calls.iter().any(|c| c == "kafka:DescribeClusterV2"), "{:?}", audit.calls);
    let esm = audit.event_source_mapping.as_ref().expect("esm audit");
    let cluster = esm.msk_cluster.as_ref().expect("the cluster was read");
    assert_eq!((cluster.subnets.len(), cluster.security_groups.len()), (3, 1), "{cluster:?}");
    assert_eq!(esm.subnets.len(), 3, "the cluster's subnets are the pollers': {:?}", esm.subnets);
    // moto's cluster has no IAM authentication and TLS in transit: unauthenticated TLS, 9094.
    assert_eq!(cluster.broker_ports, [9094]);
    assert!(cluster.self_ingress.iter().all(|e| e.allowed), "{:?}", cluster.self_ingress);
    assert!(esm.egress.iter().any(|e| e.port == 9094 && e.allowed), "{:?}", esm.egress);

    let (report, _) = scenario_with("msk-self-ingress-missing", on_msk).await;
    assert_eq!(codes(&report), ["esm-cluster-sg-ingress-missing"], "{:#?}", report.findings);
    let f = report.findings.iter().find(|f| f.code.as_str() == "esm-cluster-sg-ingress-missing").expect("finding");
    assert!(f.fix.contains("--port 9094 --source-group sg-"), "{}", f.fix);
    assert!(f.summary.contains("arn:aws:kafka:"), "{}", f.summary);

    // The cluster in two zones of the brokers' three: named like a mapping's own subnets.
    let (report, _) = scenario_with("subnet-zone-missing", on_msk).await;
    assert_eq!(codes(&report), ["esm-subnet-zone-missing"], "{:#?}", report.findings);
    let mode = report.findings.iter().find(|f| f.code.as_str() == "esm-poller-mode").expect("mode");
    assert!(mode.summary.contains("describe-cluster-v2 --cluster-arn arn:aws:kafka:"), "{}", mode.summary);
}

/// An MSK mapping whose pollers authenticate with IAM (no secret, IAM on the cluster): the
/// execution role's `kafka-cluster:*` actions are judged on the cluster's, topic's and group's
/// ARNs as MSK's authorization forms them.
#[tokio::test]
async fn an_msk_mapping_with_iam_needs_the_consumer_actions_on_the_clusters_arns() {
    let msk_iam = |m: &mut serde_json::Value, planted: &serde_json::Value| {
        m["EventSourceArn"] = planted["msk_cluster"].clone();
        m.as_object_mut().expect("object").remove("SelfManagedEventSource");
        // No secret: the execution role signs.
        m["SourceAccessConfigurations"] = serde_json::json!([]);
    };
    let (report, audit) = scenario_with("msk-iam", msk_iam).await;
    assert_eq!(codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let esm = audit.event_source_mapping.as_ref().expect("esm audit");
    let cluster = esm.msk_cluster.as_ref().expect("cluster");
    assert!(cluster.iam_auth && !cluster.serverless, "{cluster:?}");
    assert_eq!(cluster.broker_ports, [9098]);
    let judged = |action: &str| esm.permissions.iter().find(|p| p.action == action).cloned();
    for action in [
        "kafka:DescribeClusterV2",
        "kafka:GetBootstrapBrokers",
        "kafka-cluster:Connect",
        "kafka-cluster:DescribeClusterDynamicConfiguration",
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:ReadData",
        "kafka-cluster:DescribeGroup",
        "kafka-cluster:AlterGroup",
    ] {
        let p = judged(action).unwrap_or_else(|| panic!("{action} not judged: {:?}", esm.permissions));
        assert_eq!(p.verdict, kreach::report::PermissionVerdict::Allowed, "{p:?}");
    }
    let topic = judged("kafka-cluster:ReadData").expect("read").resource;
    assert!(topic.contains(":topic/orders/") && topic.ends_with("/orders"), "{topic}");
    let group = judged("kafka-cluster:AlterGroup").expect("group").resource;
    assert!(group.contains(":group/orders/") && group.ends_with("/a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"), "{group}");
    assert!(judged("kafka:DescribeCluster").is_none(), "one describe is judged, not both");

    // The group statement names another cluster's groups: the two group actions are missing, and
    // the fix is a statement on this group's ARN.
    let (report, _) = scenario_with("msk-iam-group-missing", msk_iam).await;
    assert_eq!(codes(&report), ["esm-role-missing-permission"], "{:#?}", report.findings);
    let f = report.findings.iter().find(|f| f.code.as_str() == "esm-role-missing-permission").expect("finding");
    assert!(
        f.summary.contains("kafka-cluster:DescribeGroup") && f.summary.contains("kafka-cluster:AlterGroup"),
        "{}",
        f.summary
    );
    assert!(!f.summary.contains("ReadData"), "{}", f.summary);
    assert!(f.fix.contains(":group/orders/"), "{}", f.fix);

    // A provisioned cluster: kafka:DescribeCluster alone is enough (the guide: either one).
    let (report, audit) = scenario_with("msk-describe-v1", on_msk).await;
    assert_eq!(codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let esm = audit.event_source_mapping.as_ref().expect("esm audit");
    assert!(esm.permissions.iter().all(|p| !p.action.starts_with("kafka-cluster:")), "a secret: no IAM actions");
    assert!(esm.permissions.iter().any(|p| p.action == "kafka:DescribeCluster"), "{:?}", esm.permissions);
}

/// A mapping with an AWS Glue schema registry: provisioned mode is required, and the role must be
/// allowed the registry reads the Lambda guide lists.
#[tokio::test]
async fn a_schema_registry_needs_provisioned_pollers_and_the_registry_reads() {
    let registry = |provisioned: bool| {
        move |m: &mut serde_json::Value, planted: &serde_json::Value| {
            m["SelfManagedKafkaEventSourceConfig"] = serde_json::json!({"SchemaRegistryConfig": {
                "SchemaRegistryURI": planted["glue_registry"], "EventRecordFormat": "JSON",
                "SchemaValidationConfigs": [{"Attribute": "VALUE"}]}});
            if provisioned {
                m["ProvisionedPollerConfig"] = serde_json::json!({"MinimumPollers": 1, "MaximumPollers": 10});
            }
        }
    };
    // Provisioned, the reads allowed: nothing to say but what it is.
    let (report, audit) = scenario_with("schema-registry", registry(true)).await;
    assert_eq!(codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let esm = audit.event_source_mapping.as_ref().expect("esm");
    for action in ["glue:GetRegistry", "glue:GetSchemaVersion"] {
        let p = esm.permissions.iter().find(|p| p.action == action).expect(action);
        assert_eq!(p.verdict, kreach::report::PermissionVerdict::Allowed, "{p:?}");
        assert!(p.resource.contains(":registry/orders-registry"), "{p:?}");
    }
    let mode = report.findings.iter().find(|f| f.code.as_str() == "esm-poller-mode").expect("mode");
    assert!(mode.summary.contains("AWS Glue schema registry"), "{}", mode.summary);

    // On demand, and the role without the registry reads: both named.
    let (report, _) = scenario_with("schema-registry-no-glue", registry(false)).await;
    assert_eq!(
        codes(&report),
        ["esm-role-missing-permission", "esm-schema-registry-needs-provisioned"],
        "{:#?}",
        report.findings
    );
    let f = report.findings.iter().find(|f| f.code.as_str() == "esm-role-missing-permission").expect("finding");
    assert!(f.summary.contains("glue:GetRegistry") && f.fix.contains(":registry/orders-registry"), "{}", f.fix);
    let f = report.findings.iter().find(|f| f.code.as_str() == "esm-schema-registry-needs-provisioned").expect("f");
    assert!(f.fix.contains("--provisioned-poller-config"), "{}", f.fix);
}

/// The schema registry must be reachable from the mapping's subnets: AWS Glue's API by NAT or its
/// interface endpoint, a Confluent registry's URL by NAT only. Planted without NAT (the Lambda,
/// STS and Secrets Manager endpoints present, Glue's not) and with NAT.
#[tokio::test]
async fn the_schema_registry_needs_a_route_from_the_mapping_s_subnets() {
    let registry = |uri: Option<&'static str>| {
        move |m: &mut serde_json::Value, planted: &serde_json::Value| {
            let uri = uri.map_or_else(|| planted["glue_registry"].clone(), serde_json::Value::from);
            m["SelfManagedKafkaEventSourceConfig"] =
                serde_json::json!({"SchemaRegistryConfig": {"SchemaRegistryURI": uri, "EventRecordFormat": "JSON"}});
            m["ProvisionedPollerConfig"] = serde_json::json!({"MinimumPollers": 1, "MaximumPollers": 2});
        }
    };
    let (report, audit) = scenario_with("schema-registry-no-route", registry(None)).await;
    assert_eq!(codes(&report), ["esm-schema-registry-unreachable"], "{:#?}", report.findings);
    let f = report.findings.iter().find(|f| f.code.as_str() == "esm-schema-registry-unreachable").expect("finding");
    assert!(f.summary.contains("AWS Glue's API"), "{}", f.summary);
    assert!(
        f.fix.contains("--service-name com.amazonaws.us-west-2.glue") && f.fix.contains("--subnet-ids subnet-"),
        "{}",
        f.fix
    );
    let glue =
        audit.event_source_mapping.as_ref().and_then(|e| e.api_routes.iter().find(|r| r.schema_registry).cloned());
    assert!(glue.is_some_and(|r| r.service == "glue" && r.unrouted_subnets.len() == 3));

    let confluent = Some("https://psrc-abc12.us-west-2.aws.confluent.cloud");
    let (report, _) = scenario_with("schema-registry-no-route", registry(confluent)).await;
    assert_eq!(codes(&report), ["esm-schema-registry-unreachable"], "{:#?}", report.findings);
    let f = report.findings.iter().find(|f| f.code.as_str() == "esm-schema-registry-unreachable").expect("finding");
    assert!(f.summary.contains("psrc-abc12.us-west-2.aws.confluent.cloud (not an AWS service"), "{}", f.summary);
    assert!(f.fix.contains("NAT gateway route") && !f.fix.contains("create-vpc-endpoint"), "{}", f.fix);

    // With NAT (the healthy planting) both are reachable.
    let (report, _) = scenario_with("schema-registry", registry(confluent)).await;
    assert_eq!(codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
}

/// The on-failure destination's own resource policy, read from moto and judged for the execution
/// role: an SQS queue whose policy denies the role; an SNS topic in another account with SNS's
/// default policy (its own account only) and with a statement for the role; an S3 bucket whose
/// policy denies writes outside one VPC endpoint (a key kreach cannot know: not verified) beside
/// a TLS-only deny that Lambda's TLS satisfies.
#[tokio::test]
async fn the_destination_s_own_policy_is_judged_for_the_role() {
    let (report, audit) = scenario("destination-policy-deny").await;
    assert_eq!(codes(&report), ["esm-destination-policy-denies"], "{:#?}", report.findings);
    let f = report.findings.iter().find(|f| f.code.as_str() == "esm-destination-policy-denies").expect("finding");
    assert!(f.summary.contains("denies sqs:SendMessage") && f.summary.contains("NoConsumers"), "{}", f.summary);
    assert!(f.fix.contains("NoConsumers") && f.fix.contains("aws sqs set-queue-attributes"), "{}", f.fix);
    let esm = audit.event_source_mapping.as_ref().expect("esm");
    let d = esm.destination_policy.as_ref().expect("read");
    assert!(d.has_policy && !d.cross_account, "{d:?}");
    assert_eq!(d.statements, ["NoConsumers"], "the Allow for the account does not decide");
    assert!(audit.calls.iter().any(|c| c == "sqs:GetQueueAttributes"), "{:?}", audit.calls);

    let (report, audit) = scenario("destination-sns-other-account").await;
    assert_eq!(codes(&report), ["esm-destination-policy-denies"], "{:#?}", report.findings);
    let f = report.findings.iter().find(|f| f.code.as_str() == "esm-destination-policy-denies").expect("finding");
    assert!(f.summary.contains("another account") && f.summary.contains("sns:Publish"), "{}", f.summary);
    let role = audit.event_source_mapping.as_ref().and_then(|e| e.role.clone()).expect("role");
    assert!(f.fix.contains(&format!("\"Principal\":{{\"AWS\":\"{role}\"}}")), "{}", f.fix);
    assert!(
        f.fix.contains("aws sns set-topic-attributes --topic-arn arn:aws:sns:us-west-2:111111111111:orders-failed"),
        "{}",
        f.fix
    );
    let d = audit.event_source_mapping.as_ref().and_then(|e| e.destination_policy.clone()).expect("read");
    assert_eq!((d.cross_account, d.verdict.as_label()), (true, "not-allowed"), "{d:?}");

    let (report, audit) = scenario("destination-sns-other-account-allowed").await;
    assert_eq!(codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let d = audit.event_source_mapping.as_ref().and_then(|e| e.destination_policy.clone()).expect("read");
    assert_eq!((d.verdict.as_label(), d.statements.as_slice()), ("allowed", &["OrdersConsumer".to_string()][..]));

    let (report, audit) = scenario("destination-s3-conditional").await;
    assert_eq!(codes(&report), ["esm-destination-policy-not-verified"], "{:#?}", report.findings);
    let d = audit.event_source_mapping.as_ref().and_then(|e| e.destination_policy.clone()).expect("read");
    assert_eq!((d.verdict.as_label(), d.statements.as_slice()), ("conditional", &["ThroughVpceOnly".to_string()][..]));
    assert_eq!(d.resource, "arn:aws:s3:::orders-failed/*");
    let policy = std::fs::read_to_string(root().join("docs/iam-policy-audit.json")).expect("policy");
    for call in ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sns:GetTopicAttributes", "s3:GetBucketPolicy"] {
        assert!(policy.contains(&format!("\"{call}\"")), "{call} is in the audit policy");
    }
    // Every call the destination's reads made is read-only and in the policy.
    for call in audit.calls.iter().filter(|c| ["sqs:", "sns:", "s3:"].iter().any(|p| c.starts_with(p))) {
        let action = call.split(':').nth(1).unwrap_or("");
        assert!(action.starts_with("Get") && policy.contains(&format!("\"{call}\"")), "{call}");
    }
    assert!(audit.calls.iter().any(|c| c == "s3:GetBucketPolicy"), "{:?}", audit.calls);
}

//! Findings from a consumer's read-only questions: its topics, its group and its coordinator,
//! DescribeConfigs on the cluster. Each fix is the ACL to add for the principal.

use crate::analysis::finding;
use crate::report::findings::FindingCode;
use crate::report::{
    AccessOutcome, AccessReport, Finding, GroupAccess, Report, Role, Stage, StageStatus, TargetReport,
};

/// Who the ACLs are for, and how to write them on Confluent Cloud and with Apache Kafka's tool.
struct Acl<'a> {
    principal: &'a str,
    bootstrap: &'a str,
}

impl Acl<'_> {
    /// The two command lines that allow `operations` on `resource` (`--topic orders`, `--group g`, `--cluster`).
    fn lines(&self, operations: &[&str], resource: &str) -> String {
        let confluent_ops = operations.iter().map(|o| o.to_ascii_lowercase().replace(' ', "-")).collect::<Vec<_>>();
        let kafka_ops = operations.iter().map(|o| format!("--operation {}", o.replace(' ', ""))).collect::<Vec<_>>();
        let confluent_resource =
            if resource == "--cluster" { "--cluster-scope".to_string() } else { resource.to_string() };
        format!(
            "confluent kafka acl create --allow --service-account <the service account owning API key {p}> \
             --operations {} {confluent_resource}; or kafka-acls.sh --bootstrap-server {b} --command-config client.properties \
             --add --allow-principal User:{p} {} {resource}",
            confluent_ops.join(","),
            kafka_ops.join(" "),
            p = self.principal,
            b = self.bootstrap,
        )
    }
}

/// A topic the Metadata answer refused, did not know, or left without reachable leaders.
fn topic_findings(t: &TargetReport, report: &Report, access: &AccessReport, acl: &Acl<'_>, out: &mut Vec<Finding>) {
    let at = access.asked_at.as_deref().unwrap_or("the bootstrap");
    for topic in &access.topics {
        let name = crate::text::clean(&topic.name);
        match topic.outcome {
            AccessOutcome::NotFound => out.push(finding(
                FindingCode::KafkaTopicNotFound,
                t,
                Stage::Kafka,
                format!("topic {name} does not exist (Metadata from {at}: UNKNOWN_TOPIC_OR_PARTITION)"),
                format!(
                    "Check the name (case, dots and dashes matter), or create it: confluent kafka topic create {name}; \
                     or kafka-topics.sh --bootstrap-server {} --command-config client.properties --create --topic {name}",
                    acl.bootstrap
                ),
                Vec::new(),
            )),
            AccessOutcome::NotAuthorized => out.push(finding(
                FindingCode::KafkaTopicNotAuthorized,
                t,
                Stage::Kafka,
                format!(
                    "{} may not describe topic {name} (Metadata from {at}: TOPIC_AUTHORIZATION_FAILED), so it cannot read it",
                    acl.principal
                ),
                format!("Allow Describe and Read on the topic: {}", acl.lines(&["Read", "Describe"], &format!("--topic {name}"))),
                Vec::new(),
            )),
            AccessOutcome::NoAnswer | AccessOutcome::Error if topic.error_code != Some(LEADER_NOT_AVAILABLE) => {
                out.push(finding(
                    FindingCode::KafkaMetadataFailed,
                    t,
                    Stage::Kafka,
                    match topic.error_code {
                        Some(code) => format!("Metadata from {at} answered topic {name} with error code {code}"),
                        None => format!("the Metadata answer from {at} left topic {name} out"),
                    },
                    "Ask again; if it persists, the cluster's logs for the topic say why.".into(),
                    Vec::new(),
                ))
            }
            _ => leader_findings(t, report, topic, &name, out),
        }
    }
}

/// LEADER_NOT_AVAILABLE for a whole topic.
const LEADER_NOT_AVAILABLE: i16 = 5;

/// Partitions with no leader, or led by a broker that cannot be reached from here.
fn leader_findings(
    t: &TargetReport,
    report: &Report,
    topic: &crate::report::TopicAccess,
    name: &str,
    out: &mut Vec<Finding>,
) {
    let failing = |id: i32| {
        report
            .targets
            .iter()
            .find(|b| b.role == Role::Broker && b.broker.as_ref().is_some_and(|x| x.node_id == id))
            .filter(|b| b.stages.iter().any(|s| s.status == StageStatus::Fail))
    };
    let mut dead: Vec<String> = Vec::new();
    let mut partitions: Vec<i32> = Vec::new();
    for &leader in &topic.leaders {
        if let Some(b) = failing(leader) {
            let zone =
                b.broker.as_ref().and_then(|x| x.az_id.as_deref()).map(|z| format!(" in {z}")).unwrap_or_default();
            dead.push(format!("broker {leader}{zone} ({})", crate::text::clean(&b.target)));
            partitions.extend(topic.partition_leaders.iter().filter(|[_, l]| *l == leader).map(|[p, _]| *p));
        }
    }
    if topic.leaderless.is_empty() && dead.is_empty() && topic.error_code != Some(LEADER_NOT_AVAILABLE) {
        return;
    }
    let mut parts = Vec::new();
    if !topic.leaderless.is_empty() || topic.error_code == Some(LEADER_NOT_AVAILABLE) {
        parts.push(format!("partitions {:?} have no leader", topic.leaderless));
    }
    if !dead.is_empty() {
        partitions.sort_unstable();
        parts.push(format!("partitions {partitions:?} are led by {}, which fails from here", dead.join(", ")));
    }
    out.push(finding(
        FindingCode::KafkaTopicLeadersUnreachable,
        t,
        Stage::Kafka,
        format!(
            "topic {name} ({} partitions): {}; a consumer stalls on those partitions",
            topic.partitions,
            parts.join("; ")
        ),
        "Fix the leader brokers' path (their rows and the zone findings name the hop); leaderless partitions need \
         the cluster's operator (or the provider's support)."
            .into(),
        Vec::new(),
    ));
}

/// The group: FindCoordinator on the bootstrap, OffsetFetch on the coordinator.
fn group_findings(t: &TargetReport, report: &Report, g: &GroupAccess, acl: &Acl<'_>, out: &mut Vec<Finding>) {
    let id = crate::text::clean(&g.id);
    let refused = |what: &str| {
        finding(
            FindingCode::KafkaGroupNotAuthorized,
            t,
            Stage::Kafka,
            format!("{} may not use consumer group {id} ({what}: GROUP_AUTHORIZATION_FAILED)", acl.principal),
            format!(
                "Allow Read and Describe on the group: {}",
                acl.lines(&["Read", "Describe"], &format!("--group {id}"))
            ),
            Vec::new(),
        )
    };
    let unreachable =
        |why: String| {
            finding(FindingCode::KafkaCoordinatorUnreachable, t, Stage::Kafka, why,
            "Fix the coordinator broker's path (its row and its zone's findings name the hop); a coordinator that is \
             loading answers again within seconds."
                .into(),
            Vec::new(),
        )
        };
    match g.find_coordinator.outcome {
        AccessOutcome::NotAuthorized => return out.push(refused("FindCoordinator")),
        AccessOutcome::Error | AccessOutcome::NoAnswer => {
            return out.push(unreachable(format!(
                "FindCoordinator for group {id} found no coordinator: {}",
                g.find_coordinator.error.as_deref().map(crate::text::clean).unwrap_or_default()
            )));
        }
        _ => {}
    }
    let Some(c) = &g.coordinator else { return };
    let coordinator = format!("broker {} ({}:{})", c.node_id, crate::text::clean(&c.host), c.port);
    match g.offset_fetch.outcome {
        AccessOutcome::NotAuthorized if g.offset_fetch.error_code == Some(30) => out.push(refused("OffsetFetch")),
        AccessOutcome::NotAuthorized => out.push(finding(
            FindingCode::KafkaTopicNotAuthorized,
            t,
            Stage::Kafka,
            format!(
                "{} may not read the group's offsets of a topic (OffsetFetch on {coordinator}: {})",
                acl.principal,
                g.offset_fetch.error.as_deref().map(crate::text::clean).unwrap_or_default()
            ),
            format!(
                "Allow Describe and Read on the group's topics: {}",
                acl.lines(&["Read", "Describe"], "--topic <topic>")
            ),
            Vec::new(),
        )),
        AccessOutcome::Unreachable | AccessOutcome::NoAnswer | AccessOutcome::Error => {
            let row = report
                .targets
                .iter()
                .find(|b| b.role == Role::Broker && b.broker.as_ref().is_some_and(|x| x.node_id == c.node_id))
                .and_then(|b| b.broker.as_ref().and_then(|x| x.az_id.clone()))
                .map(|z| format!(" in {z}"))
                .unwrap_or_default();
            out.push(unreachable(format!(
                "group {id}'s coordinator {coordinator}{row} does not answer OffsetFetch: {}",
                g.offset_fetch.error.as_deref().map(crate::text::clean).unwrap_or_default()
            )))
        }
        _ => {}
    }
}

/// The consumer's questions: every finding they support, and what no read-only request can show.
pub(super) fn access_findings(report: &Report, out: &mut Vec<Finding>) {
    let Some(access) = &report.access else { return };
    let Some(t) = report.targets.iter().find(|t| t.role == Role::Bootstrap) else { return };
    let principal = access.principal.clone().unwrap_or_else(|| "the client".into());
    let bootstrap = report.settings.bootstrap.first().cloned().unwrap_or_else(|| "<bootstrap>".into());
    let acl = Acl { principal: &principal, bootstrap: &bootstrap };
    if let Some(why) = &access.not_asked {
        out.push(finding(
            FindingCode::KafkaPermissionNotObservable,
            t,
            Stage::Kafka,
            format!("the consumer's topics, group and cluster permissions were not asked: {}", crate::text::clean(why)),
            "Fix the Kafka stage first; the permissions are asked on the bootstrap's own connection.".into(),
            Vec::new(),
        ));
        return;
    }
    topic_findings(t, report, access, &acl, out);
    if let Some(g) = &access.group {
        group_findings(t, report, g, &acl, out);
    }
    if access.cluster_configs.outcome == AccessOutcome::NotAuthorized {
        out.push(finding(
            FindingCode::KafkaClusterDescribeNotAuthorized,
            t,
            Stage::Kafka,
            format!(
                "{principal} may not DescribeConfigs on the cluster (error code {}): a Lambda event source mapping \
                 stops with \"Cluster failed to authorize Lambda\"",
                access.cluster_configs.error_code.unwrap_or_default()
            ),
            format!("Allow DescribeConfigs on the cluster: {}", acl.lines(&["Describe Configs"], "--cluster")),
            Vec::new(),
        ));
    }
    out.push(not_observable(t, report, access, &acl));
}

/// What a read-only probe cannot show, and the ACLs to check for it.
fn not_observable(t: &TargetReport, report: &Report, access: &AccessReport, acl: &Acl<'_>) -> Finding {
    let topics: Vec<String> = access.topics.iter().map(|x| crate::text::clean(&x.name).into_owned()).collect();
    let mut unseen = Vec::new();
    let mut checks = Vec::new();
    if !topics.is_empty() {
        unseen.push(format!("Read on {} (only Fetch exercises it)", topics.join(", ")));
        for topic in &topics {
            checks.push(acl.lines(&["Read", "Describe"], &format!("--topic {topic}")));
        }
    }
    if let Some(g) = &access.group {
        let id = crate::text::clean(&g.id);
        unseen.push(format!("Read on group {id} (only JoinGroup and OffsetCommit exercise it; kreach never joins)"));
        checks.push(acl.lines(&["Read", "Describe"], &format!("--group {id}")));
    }
    if let Some(topic) = report.event_source_mapping.as_ref().and_then(|m| m.failure_topic()) {
        let topic = crate::text::clean(topic);
        unseen
            .push(format!("Write on the on-failure topic {topic} (only Produce exercises it; kreach never produces)"));
        checks.push(acl.lines(&["Write", "Describe"], &format!("--topic {topic}")));
    }
    match access.cluster_configs.outcome {
        AccessOutcome::NotOffered | AccessOutcome::NoAnswer | AccessOutcome::Error | AccessOutcome::NotAsked => {
            unseen.push(format!(
                "DescribeConfigs on the cluster ({})",
                access.cluster_configs.error.as_deref().map(crate::text::clean).unwrap_or_default()
            ));
            checks.push(acl.lines(&["Describe Configs"], "--cluster"));
        }
        _ => {}
    }
    if let Some(why) = access.group.as_ref().and_then(|g| g.credentials_withheld.as_ref()) {
        unseen.push(format!(
            "the group's offsets (credentials withheld from the coordinator: {})",
            crate::text::clean(why)
        ));
    }
    finding(
        FindingCode::KafkaPermissionNotObservable,
        t,
        Stage::Kafka,
        format!("not observable read-only, so not checked: {}", unseen.join("; ")),
        format!("Check that these ACLs exist: {}", checks.join(" | ")),
        Vec::new(),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::report::{AccessAnswer, AccessOutcome};

    /// DescribeConfigs refused: no broker here enforces ACLs and the mock cluster does not
    /// implement DescribeConfigs, so the lab's real answer is replaced by the one an ACL-enforcing
    /// broker gives (CLUSTER_AUTHORIZATION_FAILED), and the findings drawn again.
    #[tokio::test]
    async fn a_refused_describe_configs_names_the_cluster_acl() {
        let lab = kreach_lab::Lab::start(kreach_lab::Fault::None).await.expect("lab");
        lab.kafka().create_topic("orders", 1).expect("topic");
        let questions = crate::input::ConsumerQuestions::new(vec!["orders".into()], None).expect("questions");
        // The lab's settings (kreach_testkit::lab_config builds them for the other copy of this crate).
        let config =
            crate::CheckConfig::for_bootstrap(crate::HostPort::parse(&lab.bootstrap, 9092).expect("bootstrap"))
                .with_resolvers(vec![lab.resolver])
                .with_private_cidrs(vec![kreach_lab::LAB_PRIVATE_CIDR.parse().expect("cidr")])
                .with_ca_file(lab.ca_file())
                .expect("lab CA")
                .with_https_port(Some(lab.https_port))
                .with_security_protocol(crate::SecurityProtocol::Ssl)
                .with_timeout(Duration::from_secs(5))
                .with_consumer(Some(questions));
        let mut report = crate::run(&config).await.expect("run");
        let access = report.access.as_mut().expect("access");
        access.principal = Some("ABCDEFGH12345678".into());
        access.cluster_configs = AccessAnswer {
            outcome: AccessOutcome::NotAuthorized,
            version: Some(4),
            error_code: Some(31),
            error: Some("Cluster authorization failed.".into()),
        };
        let findings = super::super::findings(&report);
        let f = findings
            .iter()
            .find(|f| f.code == crate::FindingCode::KafkaClusterDescribeNotAuthorized)
            .expect("the code");
        assert!(
            f.summary.contains("ABCDEFGH12345678") && f.summary.contains("Cluster failed to authorize"),
            "{}",
            f.summary
        );
        assert!(f.fix.contains("--operation DescribeConfigs --cluster"), "{}", f.fix);
        assert!(f.fix.contains("--cluster-scope"), "{}", f.fix);
    }
}

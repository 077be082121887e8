//! A consumer's read-only questions (`--topic`, `--consumer-group`) against a real Kafka-protocol
//! broker: librdkafka's mock cluster behind the in-process lab. It implements Metadata,
//! FindCoordinator and OffsetFetch, can fail any request with any error code and records every
//! request it receives, so each permission failure is planted alone and the request log shows
//! the probe never joined, committed or produced.
//!
//! Not covered against a real broker, plainly: DescribeConfigs. The mock does not implement it (so
//! these runs see it "not offered" and say so) and no broker on these machines enforces ACLs; its
//! request and answer are checked against the kafka-protocol crate's reference encoder
//! (`probe::wire` tests), and `kafka-cluster-describe-not-authorized` by the analysis test below
//! on a report whose answer says CLUSTER_AUTHORIZATION_FAILED.

use std::time::Duration;

use kreach::input::ConsumerQuestions;
use kreach::report::AccessOutcome;
use kreach::{FindingCode, Report};
use kreach_lab::{Fault, Lab, MockError};

/// Kafka API keys the probe must never send: Produce, OffsetCommit, JoinGroup, Heartbeat,
/// LeaveGroup, SyncGroup, InitProducerId, AddOffsetsToTxn, TxnOffsetCommit, ConsumerGroupHeartbeat.
const WRITES: [i16; 10] = [0, 8, 11, 12, 13, 14, 22, 25, 28, 68];

async fn run(lab: &Lab, topics: &[&str], group: &str) -> Report {
    let questions = ConsumerQuestions::new(topics.iter().map(|t| t.to_string()).collect(), Some(group.into()))
        .expect("valid questions");
    let config = kreach_testkit::lab_config(lab, Duration::from_secs(5)).with_consumer(Some(questions));
    kreach::run(&config).await.expect("run")
}

fn codes(report: &Report) -> Vec<&'static str> {
    let mut c: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .filter(|c| {
            c.starts_with("kafka-topic")
                || c.starts_with("kafka-group")
                || c.starts_with("kafka-cluster")
                || c.starts_with("kafka-coordinator")
        })
        .collect();
    c.sort();
    c.dedup();
    c
}

#[tokio::test]
async fn a_healthy_topic_and_group_raise_nothing_and_nothing_is_written() {
    let lab = Lab::start(Fault::None).await.expect("lab");
    lab.kafka().create_topic("orders", 6).expect("topic");
    lab.kafka().start_request_tracking();
    let report = run(&lab, &["orders"], "orders-consumers").await;
    assert_eq!(codes(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    let access = report.access.as_ref().expect("access section");
    assert_eq!(access.topics.len(), 1);
    let orders = &access.topics[0];
    assert_eq!((orders.outcome, orders.partitions), (AccessOutcome::Ok, 6), "{orders:?}");
    assert!(!orders.leaders.is_empty() && orders.leaderless.is_empty(), "{orders:?}");
    let group = access.group.as_ref().expect("group");
    assert_eq!(group.find_coordinator.outcome, AccessOutcome::Ok, "{group:?}");
    assert!(group.coordinator.is_some(), "{group:?}");
    assert_eq!(group.offset_fetch.outcome, AccessOutcome::Ok, "{group:?}");
    assert_eq!(group.committed_partitions, Some(0), "nothing committed yet: {group:?}");
    // The mock cluster offers no DescribeConfigs: said, not guessed.
    assert_eq!(access.cluster_configs.outcome, AccessOutcome::NotOffered);
    let unseen = report.findings.iter().find(|f| f.code == FindingCode::KafkaPermissionNotObservable).expect("info");
    assert!(unseen.summary.contains("DescribeConfigs on the cluster"), "{}", unseen.summary);
    assert!(unseen.fix.contains("kafka-acls.sh") && unseen.fix.contains("--group orders-consumers"), "{}", unseen.fix);
    // Read-only: the broker saw Metadata, FindCoordinator and OffsetFetch, and no write of any kind.
    let requests = lab.kafka().requests();
    for key in [3, 10, 9] {
        assert!(requests.contains(&key), "API {key} was asked: {requests:?}");
    }
    for key in WRITES {
        assert!(!requests.contains(&key), "API {key} must never be sent: {requests:?}");
    }
    assert_eq!(report.status, kreach::Status::Pass, "{:#?}", report.findings);
}

#[tokio::test]
async fn each_planted_refusal_gives_exactly_its_code() {
    // (what is planted, the code, what its fix must say)
    let lab = Lab::start(Fault::None).await.expect("lab");
    lab.kafka().create_topic("orders", 3).expect("topic");
    let report = run(&lab, &["no-such-topic"], "g").await;
    assert_eq!(codes(&report), ["kafka-topic-not-found"], "{:#?}", report.findings);

    let lab = Lab::start(Fault::None).await.expect("lab");
    lab.kafka().create_topic("orders", 3).expect("topic");
    lab.kafka().set_topic_error("orders", MockError::TopicAuthorizationFailed).expect("error");
    let report = run(&lab, &["orders"], "g").await;
    assert_eq!(codes(&report), ["kafka-topic-not-authorized"], "{:#?}", report.findings);
    let f = report.findings.iter().find(|f| f.code == FindingCode::KafkaTopicNotAuthorized).expect("finding");
    assert!(f.fix.contains("--operation Read --operation Describe --topic orders"), "{}", f.fix);

    // Every bootstrap address asks FindCoordinator: each one is refused.
    let lab = Lab::start(Fault::None).await.expect("lab");
    lab.kafka().create_topic("orders", 3).expect("topic");
    lab.kafka().push_request_errors(10, &[MockError::GroupAuthorizationFailed; 8]);
    let report = run(&lab, &["orders"], "g").await;
    assert_eq!(codes(&report), ["kafka-group-not-authorized"], "{:#?}", report.findings);
    let f = report.findings.iter().find(|f| f.code == FindingCode::KafkaGroupNotAuthorized).expect("finding");
    assert!(f.summary.contains("FindCoordinator") && f.fix.contains("--group g"), "{f:?}");

    let lab = Lab::start(Fault::None).await.expect("lab");
    lab.kafka().create_topic("orders", 3).expect("topic");
    lab.kafka().push_request_errors(9, &[MockError::GroupAuthorizationFailed; 4]);
    let report = run(&lab, &["orders"], "g").await;
    assert_eq!(codes(&report), ["kafka-group-not-authorized"], "{:#?}", report.findings);
    assert!(report.findings.iter().any(|f| f.summary.contains("OffsetFetch")), "{:#?}", report.findings);

    let lab = Lab::start(Fault::None).await.expect("lab");
    lab.kafka().create_topic("orders", 3).expect("topic");
    lab.kafka().push_request_errors(10, &[MockError::CoordinatorNotAvailable; 8]);
    let report = run(&lab, &["orders"], "g").await;
    assert_eq!(codes(&report), ["kafka-coordinator-unreachable"], "{:#?}", report.findings);
}

#[tokio::test]
async fn a_coordinator_and_leaders_behind_a_dead_broker_are_named() {
    let lab = Lab::start_with_brokers(Fault::BrokerDown, 6).await.expect("lab");
    lab.kafka().create_topic("orders", 3).expect("topic");
    lab.kafka().set_partition_leader("orders", 1, 4).expect("leader");
    lab.kafka().set_group_coordinator("g", 4).expect("coordinator");
    let report = run(&lab, &["orders"], "g").await;
    let c = codes(&report);
    assert!(c.contains(&"kafka-topic-leaders-unreachable") && c.contains(&"kafka-coordinator-unreachable"), "{c:?}");
    let leaders =
        report.findings.iter().find(|f| f.code == FindingCode::KafkaTopicLeadersUnreachable).expect("leaders");
    assert!(leaders.summary.contains("partitions [1] are led by broker 4"), "{}", leaders.summary);
    let coordinator = report.findings.iter().find(|f| f.code == FindingCode::KafkaCoordinatorUnreachable).expect("c");
    assert!(coordinator.summary.contains("broker 4"), "{}", coordinator.summary);
}

#[test]
fn bad_topic_and_group_names_are_refused_naming_the_flag() {
    let e = ConsumerQuestions::new(vec!["a b".into()], None).expect_err("space");
    assert!(e.to_string().contains("--topic"), "{e}");
    let e = ConsumerQuestions::new(Vec::new(), Some(String::new())).expect_err("empty group");
    assert!(e.to_string().contains("--consumer-group"), "{e}");
    let q = ConsumerQuestions::new(vec!["t".into(), "t".into()], Some("g".into())).expect("dedup");
    assert_eq!(q.topics, ["t"]);
}

//! The `access` section: what a consumer of these topics, in this group, may do on the cluster,
//! from read-only requests with the run's credentials (`--topic`, `--consumer-group`, or an event
//! source mapping's own).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::report::BrokerInfo;

/// The consumer's questions and the cluster's answers.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AccessReport {
    /// The SASL user the questions were asked as (an API key, not its secret), when SASL ran.
    pub principal: Option<String>,
    /// The bootstrap address that answered them (`ip:port`).
    pub asked_at: Option<String>,
    /// One entry per topic asked, from the bootstrap's Metadata answer.
    pub topics: Vec<TopicAccess>,
    /// The consumer group: its coordinator and its committed offsets.
    pub group: Option<GroupAccess>,
    /// DescribeConfigs on the cluster (what a Lambda event source mapping asks first).
    pub cluster_configs: AccessAnswer,
    /// Why nothing could be asked, when nothing was (credentials withheld, no bootstrap answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_asked: Option<String>,
}

/// How one question ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AccessOutcome {
    /// Answered without error: allowed.
    Ok,
    /// The topic does not exist (UNKNOWN_TOPIC_OR_PARTITION).
    NotFound,
    /// The cluster refused the principal (TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED).
    NotAuthorized,
    /// Another Kafka error code.
    Error,
    /// The broker does not offer the API at a version kreach speaks.
    NotOffered,
    /// No (decodable) answer within the budget.
    NoAnswer,
    /// The broker that must answer (the coordinator) could not be reached.
    Unreachable,
    /// Not asked (nothing to ask, or an earlier answer ruled it out).
    #[default]
    NotAsked,
}

impl AccessOutcome {
    /// The JSON spelling.
    pub fn as_label(self) -> &'static str {
        match self {
            AccessOutcome::Ok => "ok",
            AccessOutcome::NotFound => "not-found",
            AccessOutcome::NotAuthorized => "not-authorized",
            AccessOutcome::Error => "error",
            AccessOutcome::NotOffered => "not-offered",
            AccessOutcome::NoAnswer => "no-answer",
            AccessOutcome::Unreachable => "unreachable",
            AccessOutcome::NotAsked => "not-asked",
        }
    }
}

/// One request's answer.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AccessAnswer {
    /// How it ended.
    pub outcome: AccessOutcome,
    /// The API version used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i16>,
    /// The Kafka error code, when not 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i16>,
    /// What went wrong, in words (the broker's message, or why there was no answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AccessAnswer {
    /// An answer with this outcome and text.
    pub fn with(outcome: AccessOutcome, error: impl Into<String>) -> Self {
        AccessAnswer { outcome, error: Some(error.into()), ..AccessAnswer::default() }
    }
}

/// One topic, as Metadata answered it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TopicAccess {
    /// The topic's name.
    pub name: String,
    /// Ok, not-found, not-authorized, error, or no-answer.
    pub outcome: AccessOutcome,
    /// The topic's error code, when not 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i16>,
    /// How many partitions it has.
    pub partitions: usize,
    /// Partitions without a leader (the first few).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leaderless: Vec<i32>,
    /// The brokers leading its partitions (distinct).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leaders: Vec<i32>,
    /// `[partition, leader]` for the first partitions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_leaders: Vec<[i32; 2]>,
}

/// The consumer group.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct GroupAccess {
    /// The group id.
    pub id: String,
    /// FindCoordinator for it, on the bootstrap.
    pub find_coordinator: AccessAnswer,
    /// The coordinator FindCoordinator named.
    pub coordinator: Option<BrokerInfo>,
    /// OffsetFetch on the coordinator (read-only: nothing joined, nothing committed).
    pub offset_fetch: AccessAnswer,
    /// Partitions with a committed offset for the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_partitions: Option<usize>,
    /// Why the credentials were not sent to the coordinator, when they were not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_withheld: Option<String>,
}

impl AccessReport {
    /// The consumer's permissions in one line: each topic, the group, DescribeConfigs.
    pub fn summary_line(&self) -> String {
        let access = self;

        if let Some(why) = &access.not_asked {
            return format!("not asked ({})", crate::text::clean(why));
        }
        let mut parts: Vec<String> = access
            .topics
            .iter()
            .map(|t| match t.outcome {
                AccessOutcome::Ok => format!("topic {} ok ({} partitions)", crate::text::clean(&t.name), t.partitions),
                other => format!("topic {} {}", crate::text::clean(&t.name), other.as_label()),
            })
            .collect();
        if let Some(g) = &access.group {
            let coordinator = g.coordinator.as_ref().map(|c| format!(" via broker {}", c.node_id)).unwrap_or_default();
            let offsets = match (g.offset_fetch.outcome, g.committed_partitions) {
                (AccessOutcome::Ok, Some(n)) => format!("offsets ok, {n} committed"),
                (outcome, _) => format!("offsets {}", outcome.as_label()),
            };
            parts.push(format!(
                "group {}: coordinator {}{coordinator}, {offsets}",
                crate::text::clean(&g.id),
                g.find_coordinator.outcome.as_label()
            ));
        }
        parts.push(format!("DescribeConfigs {}", access.cluster_configs.outcome.as_label()));
        let principal =
            access.principal.as_deref().map(|p| format!(" as {}", crate::text::clean(p))).unwrap_or_default();
        format!("{}{principal}", parts.join("; "))
    }
}

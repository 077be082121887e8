//! What a real client (librdkafka) made of the same configuration: the client-parity stage.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a real client (librdkafka) made of the same configuration.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ParityReport {
    /// How it ended.
    pub outcome: ParityOutcome,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
    /// librdkafka's version.
    pub librdkafka_version: String,
    /// Where the client configuration came from: `properties file` or `flags`.
    pub config_source: String,
    /// Brokers librdkafka's Metadata listed, as `host:port`.
    pub brokers: Vec<String>,
    /// librdkafka's error, when it failed.
    pub error: Option<String>,
    /// librdkafka's own warnings and errors during the attempt (at most 10).
    pub log: Vec<String>,
    /// Properties librdkafka does not know (Java-client settings), left out.
    pub ignored_properties: Vec<String>,
    /// Where the client's configuration differs from what kreach's own checks used.
    pub differences: Vec<String>,
    /// Why it did not run, when it did not.
    pub skipped: Option<String>,
    /// Why it was ended before librdkafka gave up: kreach's own checks already explained the
    /// failure and librdkafka had reported its first errors (its retries could not change the verdict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_early: Option<String>,
}

impl ParityReport {
    /// A stage not (yet) run: `Skipped`, nothing measured.
    pub fn new(librdkafka_version: impl Into<String>, config_source: impl Into<String>) -> Self {
        ParityReport {
            outcome: ParityOutcome::Skipped,
            elapsed_ms: 0,
            librdkafka_version: librdkafka_version.into(),
            config_source: config_source.into(),
            brokers: Vec::new(),
            error: None,
            log: Vec::new(),
            ignored_properties: Vec::new(),
            differences: Vec::new(),
            skipped: None,
            stopped_early: None,
        }
    }
}

/// How the librdkafka stage ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ParityOutcome {
    /// librdkafka fetched Metadata.
    Ok,
    /// It did not.
    Failed,
    /// Not run (see `skipped`).
    Skipped,
}

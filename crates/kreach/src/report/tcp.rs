//! What a TCP connect showed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A TCP connect attempt.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TcpAttempt {
    /// How it ended.
    pub outcome: TcpOutcome,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
    /// OS error text, when it failed.
    pub error: Option<String>,
}

/// How a TCP connect ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TcpOutcome {
    /// Three-way handshake completed.
    Connected,
    /// RST in answer to SYN.
    Refused,
    /// No answer before the step's timeout: packets dropped.
    Timeout,
    /// ICMP network/host unreachable, or no route.
    Unreachable,
    /// Another OS error.
    Error,
}

impl TcpOutcome {
    /// The outcome in a word or two, as the matrix and findings say it.
    pub fn word(self) -> &'static str {
        match self {
            TcpOutcome::Connected => "connected",
            TcpOutcome::Refused => "refused",
            TcpOutcome::Timeout => "timeout",
            TcpOutcome::Unreachable => "unreachable",
            TcpOutcome::Error => "error",
        }
    }
}

impl TcpOutcome {
    /// A stable word for the outcome: its JSON spelling (for TCP the matrix's own words).
    pub fn as_label(self) -> &'static str {
        self.word()
    }
}

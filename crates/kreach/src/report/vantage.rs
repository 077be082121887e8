//! Where the probe ran (EC2, Lambda, elsewhere) and how the credentials' secret was read.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the probe ran.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Vantage {
    /// EC2 instance, Lambda function, or anything else.
    pub kind: VantageKind,
    /// A short name for matrices: `usw2-az1 (i-0abc…)`, `lambda:NAME`, a host name.
    pub label: String,
    /// What was learnt: instance id, AZ name and ID, region, VPC, subnet, security groups,
    /// function name, memory, …
    pub facts: BTreeMap<String, String>,
    /// Why nothing more is known, when that is the case.
    pub note: Option<String>,
    /// Whether the probe sits in a VPC: always for EC2; for Lambda as
    /// `lambda:GetFunctionConfiguration` says (absent when it could not be read).
    #[serde(default)]
    pub vpc_attached: Option<bool>,
}

/// Reading the SASL credentials from a secret (never its value).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct SecretLookup {
    /// The secret's name or ARN, as given.
    pub secret_id: String,
    /// How the read went.
    pub outcome: SecretOutcome,
    /// What went wrong, in words (never the secret's value).
    pub detail: Option<String>,
    /// The JSON keys the credentials were taken from, e.g. `username`/`password`.
    pub keys: Vec<String>,
    /// Wall time of the read in milliseconds.
    pub elapsed_ms: u64,
}

impl SecretLookup {
    /// A lookup of `secret_id` that ended with `outcome`, nothing else known yet.
    pub fn new(secret_id: impl Into<String>, outcome: SecretOutcome) -> Self {
        SecretLookup { secret_id: secret_id.into(), outcome, detail: None, keys: Vec::new(), elapsed_ms: 0 }
    }

    /// The same lookup with what went wrong, in words.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// The outcome of reading a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SecretOutcome {
    /// Read, and it holds a user name and a password.
    Read,
    /// `secretsmanager:GetSecretValue` (or the KMS key's decrypt) was denied.
    Denied,
    /// No secret by that name or ARN.
    NotFound,
    /// The Secrets Manager API did not answer in time or could not be reached.
    Unreachable,
    /// Read, but not a JSON object with a user name and a password.
    Malformed,
    /// Any other API error.
    Error,
}

impl SecretOutcome {
    /// The outcome in words.
    pub fn as_words(self) -> &'static str {
        match self {
            SecretOutcome::Read => "read",
            SecretOutcome::Denied => "denied",
            SecretOutcome::NotFound => "not found",
            SecretOutcome::Unreachable => "unreachable",
            SecretOutcome::Malformed => "malformed",
            SecretOutcome::Error => "error",
        }
    }
}

/// Kind of vantage point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum VantageKind {
    /// An EC2 instance (IMDSv2 answered).
    Ec2,
    /// A Lambda function.
    Lambda,
    /// A laptop, a container, anything else.
    Other,
}

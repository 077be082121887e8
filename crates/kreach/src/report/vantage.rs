//! Where the probe ran (EC2, Lambda, elsewhere) and how the credentials' secret was read.

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
    pub facts: VantageFacts,
    /// Why nothing more is known, when that is the case.
    pub note: Option<String>,
    /// Whether the probe sits in a VPC: always for EC2; for Lambda as
    /// `lambda:GetFunctionConfiguration` says (absent when it could not be read).
    #[serde(default)]
    pub vpc_attached: Option<bool>,
}

/// What a vantage point is known to be. The JSON keeps the flat shape of string members (lists
/// comma-joined), each member only when known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct VantageFacts {
    /// EC2: the instance id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// EC2: the AZ name (`us-west-2a`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub az_name: Option<String>,
    /// EC2: the AZ ID (`usw2-az1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub az_id: Option<String>,
    /// The region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// EC2: the instance's private address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    /// EC2: the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// EC2: the primary interface's MAC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// The VPC (EC2, or a Lambda function attached to one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// EC2: the subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// Lambda: the function's subnets.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "comma_list")]
    #[schemars(with = "Option<String>")]
    pub subnet_ids: Vec<String>,
    /// The security groups (EC2's interface, a Lambda function's).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "comma_list")]
    #[schemars(with = "Option<String>")]
    pub security_group_ids: Vec<String>,
    /// Lambda: the function's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    /// Lambda: the function's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_version: Option<String>,
    /// Lambda: the function's memory, in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<String>,
    /// Lambda: the function's log group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group: Option<String>,
    /// Elsewhere: the machine's host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}

impl VantageFacts {
    /// Sets the fact named `key` (its JSON name); lists are comma-separated. An unknown key is
    /// ignored (kreach reads only what it names here).
    pub fn set(&mut self, key: &str, value: String) {
        let list = |v: &str| v.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect();
        match key {
            "instance_id" => self.instance_id = Some(value),
            "az_name" => self.az_name = Some(value),
            "az_id" => self.az_id = Some(value),
            "region" => self.region = Some(value),
            "private_ip" => self.private_ip = Some(value),
            "account_id" => self.account_id = Some(value),
            "mac" => self.mac = Some(value),
            "vpc_id" => self.vpc_id = Some(value),
            "subnet_id" => self.subnet_id = Some(value),
            "subnet_ids" => self.subnet_ids = list(&value),
            "security_group_ids" => self.security_group_ids = list(&value),
            "function_name" => self.function_name = Some(value),
            "function_version" => self.function_version = Some(value),
            "memory_mb" => self.memory_mb = Some(value),
            "log_group" => self.log_group = Some(value),
            "hostname" => self.hostname = Some(value),
            _ => {}
        }
    }

    /// Every known fact as `(key, value)`, in a fixed order (lists comma-joined): for display.
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        let one = |k: &'static str, v: &Option<String>| v.clone().map(|v| (k, v));
        let many = |k: &'static str, v: &Vec<String>| (!v.is_empty()).then(|| (k, v.join(",")));
        [
            one("account_id", &self.account_id),
            one("az_id", &self.az_id),
            one("az_name", &self.az_name),
            one("function_name", &self.function_name),
            one("function_version", &self.function_version),
            one("hostname", &self.hostname),
            one("instance_id", &self.instance_id),
            one("log_group", &self.log_group),
            one("mac", &self.mac),
            one("memory_mb", &self.memory_mb),
            one("private_ip", &self.private_ip),
            one("region", &self.region),
            many("security_group_ids", &self.security_group_ids),
            one("subnet_id", &self.subnet_id),
            many("subnet_ids", &self.subnet_ids),
            one("vpc_id", &self.vpc_id),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }
}

/// A list as one comma-joined JSON string (the report's shape since its first version).
mod comma_list {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.join(","))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let text = String::deserialize(d)?;
        Ok(text.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect())
    }
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

//! Confluent's Private Network Interface (PNI) as the AWS audit reads it: the customer's network
//! interfaces Confluent's account attaches, their permissions and their security groups' rules.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::AwsIngressRule;

/// A network interface of Confluent's Private Network Interface (PNI): created in the customer's
/// subnet, attached by Confluent's account to its brokers' machines once the customer grants it
/// `INSTANCE-ATTACH`; its security groups decide what passes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsPniInterface {
    /// `eni-…`.
    pub id: String,
    /// Its subnet.
    pub subnet_id: String,
    /// AZ name, e.g. `us-west-2a`.
    pub az_name: String,
    /// AZ ID, e.g. `usw2-az1`, when the zones were read.
    pub az_id: String,
    /// Its private addresses, primary first.
    pub ips: Vec<String>,
    /// `available` (attached to nothing) or `in-use`.
    pub status: String,
    /// The account owning the instance it is attached to (Confluent's, for a working PNI).
    pub attached_account: Option<String>,
    /// The attachment's state (`attached`, `attaching`, …).
    pub attachment_status: Option<String>,
    /// Its network-interface permissions (`DescribeNetworkInterfacePermissions`).
    pub permissions: Vec<AwsEniPermission>,
    /// Its security groups.
    pub security_groups: Vec<String>,
    /// Their inbound TCP rules, as read.
    pub ingress_rules: Vec<AwsIngressRule>,
    /// Their outbound TCP rules, as read (`source` is the destination).
    pub egress_rules: Vec<AwsIngressRule>,
}

/// A network-interface permission: which account may do what with the interface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsEniPermission {
    /// The account granted the permission.
    pub account: String,
    /// `INSTANCE-ATTACH` or `EIP-ASSOCIATE`.
    pub permission: String,
    /// `pending`, `granted`, `revoking`, `revoked`.
    pub state: String,
}

impl AwsPniInterface {
    /// Whether Confluent may attach it: an `INSTANCE-ATTACH` permission granted (or pending).
    pub fn attach_grants(&self) -> impl Iterator<Item = &AwsEniPermission> {
        self.permissions.iter().filter(|p| {
            p.permission.eq_ignore_ascii_case("INSTANCE-ATTACH")
                && matches!(p.state.to_ascii_lowercase().as_str(), "granted" | "pending")
        })
    }

    /// Whether an instance of another account holds it.
    pub fn attached(&self) -> bool {
        self.attached_account.is_some() && self.attachment_status.as_deref().is_none_or(|s| s == "attached")
    }
}

//! What changed since it worked: CloudTrail's recent write events on the AWS resources the
//! findings of broken hops blame (security groups, network ACLs, the hosted zone, the VPC
//! endpoint, Resolver rules), newest first. Read-only (`cloudtrail:LookupEvents`), bounded in
//! resources, pages, rate and time.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// CloudTrail delivers an event 5 to 15 minutes after the call: a newer change may be missing.
pub const CHANGE_DELIVERY_LAG: &str =
    "CloudTrail delivers events 5 to 15 minutes after the call: a change newer than that may not be listed yet";

/// The changes looked up, per resource.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ChangeAudit {
    /// The window looked at, in hours before the run (`--changes-since`).
    pub since_hours: u32,
    /// Each resource looked up, with its write events in the window (none: the cause predates it).
    pub resources: Vec<ResourceChanges>,
    /// [`CHANGE_DELIVERY_LAG`].
    pub lag: String,
    /// API actions called, in order (all read-only).
    pub calls: Vec<String>,
    /// What could not be looked up, and why (denied, throttled, out of time).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// One resource's recent write events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ResourceChanges {
    /// The resource id (`sg-…`, `acl-…`, the hosted zone id, `vpce-…`, `rslvr-rr-…`).
    pub resource: String,
    /// Its write events in the window, newest first.
    pub events: Vec<ChangeEvent>,
    /// Every page of the window was read (`false`: capped, throttled or out of time).
    pub complete: bool,
}

/// One write call CloudTrail recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ChangeEvent {
    /// When, RFC 3339 UTC.
    pub time: String,
    /// The API call (`RevokeSecurityGroupIngress`, `ChangeResourceRecordSets`, …).
    pub name: String,
    /// The service (`ec2.amazonaws.com`, `route53.amazonaws.com`, …).
    pub source: String,
    /// Who made it: the caller's ARN (a role session's role), else CloudTrail's user name.
    pub principal: Option<String>,
    /// The request's relevant parameters, in one line (rules, records, ids; never credentials).
    pub parameters: String,
}

impl ChangeEvent {
    /// The event in one line: `RevokeSecurityGroupIngress at 2026-12-07T14:02:11Z by arn:… (…)`.
    pub fn line(&self) -> String {
        format!(
            "{} at {}{}{}",
            self.name,
            self.time,
            self.principal.as_deref().map(|p| format!(" by {p}")).unwrap_or_default(),
            if self.parameters.is_empty() { String::new() } else { format!(" ({})", self.parameters) }
        )
    }
}

/// What the lookup says of the resources finding `f` blames, a line each: its changes, newest
/// first, or that there was none in the window (the cause predates it), or that it was not read
/// completely. Empty when nothing was looked up for them.
pub fn change_lines(f: &crate::report::Finding, changes: Option<&ChangeAudit>) -> Vec<String> {
    let Some(changes) = changes else { return Vec::new() };
    let mut out = Vec::new();
    for r in changes.resources.iter().filter(|r| f.resources.contains(&r.resource)) {
        if r.events.is_empty() && r.complete {
            out.push(format!(
                "{}: no change in the last {} h (the cause predates the window, or the change is younger than \
                 CloudTrail's delivery)",
                r.resource, changes.since_hours
            ));
        } else if r.events.is_empty() {
            out.push(format!("{}: the changes could not be read completely", r.resource));
        }
        out.extend(r.events.iter().map(|e| format!("{}: {}", r.resource, e.line())));
    }
    out
}

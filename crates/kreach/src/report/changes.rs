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
    /// Where the window begins, RFC 3339 UTC (`--watch`: the run before began).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
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
    /// CloudTrail's id of the event (`aws cloudtrail lookup-events --lookup-attributes
    /// AttributeKey=EventId,AttributeValue=…` shows its whole record).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
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

/// The findings of `before` that `after` no longer has (a hop that failed and now passes), by code
/// and target, as the two runs' comparison keys them.
pub fn mended_findings<'r>(before: &'r crate::Report, after: &crate::Report) -> Vec<&'r crate::report::Finding> {
    let key = |f: &crate::report::Finding| (f.code, f.target.clone());
    let now: std::collections::BTreeSet<_> = after.findings.iter().map(key).collect();
    before.findings.iter().filter(|f| !now.contains(&key(f))).collect()
}

/// The AWS resources the findings that went away had blamed: where the change that mended the
/// hop happened (`--watch` looks up their changes since the run before).
pub fn mended_resources(before: &crate::Report, after: &crate::Report) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in mended_findings(before, after).into_iter().flat_map(|f| &f.resources) {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// What mended finding `f`, from the changes looked up on its resources since the run before:
/// the newest write event on them, or that none is recorded yet, or that they could not be read.
/// `None` when nothing was looked up for its resources.
pub fn mended_by(f: &crate::report::Finding, mended: Option<&ChangeAudit>) -> Option<String> {
    let mended = mended?;
    let looked: Vec<&ResourceChanges> = mended.resources.iter().filter(|r| f.resources.contains(&r.resource)).collect();
    if looked.is_empty() {
        return None;
    }
    let newest =
        looked.iter().flat_map(|r| r.events.iter().map(move |e| (r, e))).max_by(|a, b| a.1.time.cmp(&b.1.time));
    let count: usize = looked.iter().map(|r| r.events.len()).sum();
    let ids = || looked.iter().map(|r| r.resource.as_str()).collect::<Vec<_>>().join(", ");
    Some(match newest {
        Some((r, e)) => format!(
            "fixed after {}: {}{}",
            r.resource,
            e.line(),
            if count > 1 { format!(" (+{} more change(s) since the run before)", count - 1) } else { String::new() }
        ),
        None if looked.iter().all(|r| r.complete) => {
            format!("fixed; no change recorded yet on {} since the run before ({CHANGE_DELIVERY_LAG})", ids())
        }
        None => format!("fixed; the changes on {} since the run before could not be read", ids()),
    })
}

//! What changed since it worked: CloudTrail's `LookupEvents` for each blamed resource, by its
//! name (one lookup attribute per call, as CloudTrail allows), write events only, in a window (the
//! last `since` hours, or since an earlier run), at most [`MAX_PAGES`] pages each. Some write
//! events do not name the resource they change in CloudTrail's resource list (EC2's rule and
//! association calls, among others), so the calls that break each kind of resource are looked up
//! by event name too ([`BY_NAME`], one page each, at most [`MAX_NAME_LOOKUPS`]) and kept where a
//! request parameter names the resource. The lookups run side by side, paced to CloudTrail's two
//! a second per region (Route 53's events are recorded in us-east-1, everything else in the
//! audit's region), each ending inside the budget. Read-only.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use kreach::report::{CHANGE_DELIVERY_LAG, ChangeAudit, ChangeEvent, ResourceChanges};
use serde_json::Value;
use tokio::time::Instant;

use crate::AuditInput;

/// Pages read per resource (50 events each).
const MAX_PAGES: usize = 2;
/// Lookups by event name per run (one page each).
const MAX_NAME_LOOKUPS: usize = 8;
/// CloudTrail's `LookupEvents` rate: two a second per account and region.
const PACE: Duration = Duration::from_millis(500);
/// Largest `CloudTrailEvent` document read (its JSON is the event's full record).
const MAX_EVENT_BYTES: usize = 64 * 1024;
/// Longest parameters line kept.
const MAX_PARAMETERS: usize = 400;

/// The kinds of resource a finding blames, by their id's shape.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    SecurityGroup,
    NetworkAcl,
    VpcEndpoint,
    HostedZone,
    ResolverRule,
    Other,
}

fn kind_of(id: &str) -> Kind {
    if id.starts_with("sg-") {
        Kind::SecurityGroup
    } else if id.starts_with("acl-") {
        Kind::NetworkAcl
    } else if id.starts_with("vpce-") {
        Kind::VpcEndpoint
    } else if id.starts_with("rslvr-rr-") {
        Kind::ResolverRule
    } else if is_hosted_zone(id) {
        Kind::HostedZone
    } else {
        Kind::Other
    }
}

/// Per kind: the write calls that break the path through such a resource, looked up by event name
/// as well (their record may list no resource), and the request parameters that name the resource
/// (at the top of `requestParameters`, or inside the `…Request` object newer EC2 calls wrap it in).
const BY_NAME: &[(Kind, &[&str], &[&str])] = &[
    (Kind::SecurityGroup, &["RevokeSecurityGroupIngress", "ModifySecurityGroupRules"], &["groupId"]),
    (
        Kind::NetworkAcl,
        &["ReplaceNetworkAclEntry", "CreateNetworkAclEntry", "DeleteNetworkAclEntry", "ReplaceNetworkAclAssociation"],
        &["networkAclId"],
    ),
    (Kind::VpcEndpoint, &["ModifyVpcEndpoint"], &["vpcEndpointId"]),
    (Kind::HostedZone, &["ChangeResourceRecordSets", "DisassociateVPCFromHostedZone"], &["hostedZoneId", "id"]),
    (Kind::ResolverRule, &["DisassociateResolverRule", "UpdateResolverRule"], &["resolverRuleId"]),
];

fn by_name(kind: Kind) -> (&'static [&'static str], &'static [&'static str]) {
    BY_NAME.iter().find(|(k, _, _)| *k == kind).map(|(_, names, keys)| (*names, *keys)).unwrap_or((&[], &[]))
}

/// The write events of `resources` in the last `since_hours` hours, within `budget`.
pub async fn lookup_changes(
    input: &AuditInput,
    resources: &[String],
    since_hours: u32,
    budget: Duration,
) -> ChangeAudit {
    let start = SystemTime::now() - Duration::from_secs(u64::from(since_hours) * 3600);
    let mut audit = lookup_changes_since(input, resources, start, budget).await;
    audit.since_hours = since_hours;
    audit
}

/// The write events of `resources` from `start` to now, within `budget` (`--watch`: what changed
/// since the run before on the resources a finding that went away had blamed).
pub async fn lookup_changes_since(
    input: &AuditInput,
    resources: &[String],
    start: SystemTime,
    budget: Duration,
) -> ChangeAudit {
    let mut audit = ChangeAudit::default();
    audit.since_hours = SystemTime::now().duration_since(start).map_or(0, |d| d.as_secs().div_ceil(3600) as u32);
    audit.since = aws_smithy_types::DateTime::from(start).fmt(aws_smithy_types::date_time::Format::DateTime).ok();
    audit.lag = CHANGE_DELIVERY_LAG.to_string();
    let deadline = Instant::now() + budget;
    let credentials = input.static_credentials.as_ref().map(|(key, secret)| {
        aws_credential_types::Credentials::new(key, secret, input.session_token.clone(), None, "kreach")
    });
    let regional = crate::sdk_config(input.region.as_deref(), input.endpoint_url.as_deref(), credentials.clone()).await;
    let global = crate::sdk_config(Some("us-east-1"), input.endpoint_url.as_deref(), credentials).await;
    let clients = Clients {
        regional: (aws_sdk_cloudtrail::Client::new(&regional), Pacer::new()),
        global: (aws_sdk_cloudtrail::Client::new(&global), Pacer::new()),
        start: aws_smithy_types::DateTime::from(start),
        deadline,
    };
    // The calls to look up by name: each kind's, in the order the resources came, deduplicated, capped.
    let mut names: Vec<(&'static str, bool)> = Vec::new();
    for kind in resources.iter().map(|r| kind_of(r)) {
        for name in by_name(kind).0 {
            let entry = (*name, kind == Kind::HostedZone);
            if !names.contains(&entry) {
                names.push(entry);
            }
        }
    }
    let skipped: Vec<&str> = names.iter().skip(MAX_NAME_LOOKUPS).map(|(n, _)| *n).collect();
    names.truncate(MAX_NAME_LOOKUPS);
    let by_resource = resources.iter().map(|r| clients.lookup(Attribute::Resource(r), kind_of(r) == Kind::HostedZone));
    let by_event = names.iter().map(|(n, global)| clients.lookup(Attribute::EventName(n), *global));
    let (found, named) =
        futures::future::join(futures::future::join_all(by_resource), futures::future::join_all(by_event)).await;
    for lookup in found.iter().chain(&named) {
        audit.calls.extend(std::iter::repeat_n("cloudtrail:LookupEvents".to_string(), lookup.calls));
        audit.errors.extend(lookup.error.clone());
    }
    if !skipped.is_empty() {
        audit.errors.push(format!("not looked up by event name (at most {MAX_NAME_LOOKUPS}): {}", skipped.join(", ")));
    }
    for (resource, lookup) in resources.iter().zip(found) {
        let (calls, keys) = by_name(kind_of(resource));
        let mut changes = ResourceChanges::default();
        changes.resource = resource.clone();
        changes.complete = lookup.complete;
        changes.events = lookup.events.into_iter().map(|(e, _)| e).collect();
        for name in calls.iter() {
            let Some(pos) = names.iter().position(|(n, _)| n == name) else {
                changes.complete = false;
                continue;
            };
            let page = &named[pos];
            changes.complete &= page.complete;
            for (event, params) in &page.events {
                let new = event.id.is_empty() || !changes.events.iter().any(|e| e.id == event.id);
                if new && params.as_ref().is_some_and(|p| names_resource(p, keys, resource)) {
                    changes.events.push(event.clone());
                }
            }
        }
        changes.events.sort_by(|a, b| b.time.cmp(&a.time));
        audit.resources.push(changes);
    }
    audit
}

/// `--watch`: the write events since `before` began on the resources its findings that `after` no
/// longer has had blamed ([`kreach::report::mended_resources`]); `None` when none had a resource.
pub async fn mended_changes(
    input: &AuditInput,
    before: &kreach::Report,
    after: &kreach::Report,
    budget: Duration,
) -> Option<ChangeAudit> {
    let resources = kreach::report::mended_resources(before, after);
    if resources.is_empty() {
        return None;
    }
    // A report whose start is not a time (not one kreach wrote): no window to look in.
    let began = aws_smithy_types::DateTime::from_str(&before.started_at, aws_smithy_types::date_time::Format::DateTime)
        .ok()
        .and_then(|t| SystemTime::try_from(t).ok())?;
    Some(lookup_changes_since(input, &resources, began, budget).await)
}

/// What a lookup is by: CloudTrail takes one attribute per call.
enum Attribute<'a> {
    Resource(&'a str),
    EventName(&'a str),
}

/// One region's lookups share its rate: two a second.
struct Pacer(tokio::sync::Mutex<tokio::time::Interval>);

impl Pacer {
    fn new() -> Pacer {
        let mut every = tokio::time::interval(PACE);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Pacer(tokio::sync::Mutex::new(every))
    }

    async fn wait(&self) {
        self.0.lock().await.tick().await;
    }
}

struct Clients {
    regional: (aws_sdk_cloudtrail::Client, Pacer),
    global: (aws_sdk_cloudtrail::Client, Pacer),
    start: aws_smithy_types::DateTime,
    deadline: Instant,
}

/// One lookup's pages: the write events with their request parameters, whether every page was
/// read, how many calls it took and what went wrong.
#[derive(Default)]
struct Lookup {
    events: Vec<(ChangeEvent, Option<Value>)>,
    complete: bool,
    calls: usize,
    error: Option<String>,
}

impl Clients {
    async fn lookup(&self, by: Attribute<'_>, global: bool) -> Lookup {
        let (client, pacer) = if global { &self.global } else { &self.regional };
        let (key, value, pages) = match by {
            Attribute::Resource(r) => (LookupAttributeKey::ResourceName, r, MAX_PAGES),
            Attribute::EventName(n) => (LookupAttributeKey::EventName, n, 1),
        };
        let mut out = Lookup::default();
        let work = async {
            let mut token: Option<String> = None;
            for _ in 0..pages {
                pacer.wait().await;
                out.calls += 1;
                let mut request = client.lookup_events().start_time(self.start).max_results(50);
                if let Ok(a) = LookupAttribute::builder().attribute_key(key.clone()).attribute_value(value).build() {
                    request = request.lookup_attributes(a);
                }
                if let Some(t) = token.take() {
                    request = request.next_token(t);
                }
                match request.send().await {
                    Ok(page) => {
                        // CloudTrail answers inside the window; an event older than it is not kept.
                        let inside = |e: &&aws_sdk_cloudtrail::types::Event| {
                            e.event_time().is_none_or(|t| t.secs() >= self.start.secs())
                        };
                        out.events.extend(page.events().iter().filter(inside).filter_map(event_from));
                        token = page.next_token().map(str::to_string);
                        if token.is_none() {
                            out.complete = true;
                            return;
                        }
                    }
                    Err(e) => {
                        out.error = Some(format!("{value}: {}", crate::classify("cloudtrail:LookupEvents", e)));
                        return;
                    }
                }
            }
        };
        if tokio::time::timeout_at(self.deadline, work).await.is_err() {
            out.complete = false;
            out.error = Some(format!("{value}: the CloudTrail lookup did not finish inside the deadline"));
        }
        out
    }
}

/// Whether a request's parameters name `id` under one of `keys` (a Route 53 zone id may carry its
/// `/hostedzone/` prefix; a list of ids counts when it holds it).
fn names_resource(params: &Value, keys: &[&str], id: &str) -> bool {
    fn holds(v: &Value, id: &str, depth: u8) -> bool {
        match v {
            Value::String(s) => s == id || s.strip_suffix(id).is_some_and(|p| p.ends_with('/')),
            Value::Array(items) if depth > 0 => items.iter().any(|i| holds(i, id, depth - 1)),
            Value::Object(map) if depth > 0 => map.values().any(|i| holds(i, id, depth - 1)),
            _ => false,
        }
    }
    let Value::Object(top) = params else { return false };
    let wrapped = top.iter().filter(|(k, _)| k.ends_with("Request")).filter_map(|(_, v)| v.as_object());
    std::iter::once(top)
        .chain(wrapped)
        .any(|level| level.iter().any(|(k, v)| keys.iter().any(|key| k.eq_ignore_ascii_case(key)) && holds(v, id, 3)))
}

fn is_hosted_zone(id: &str) -> bool {
    // Route 53 zone ids: `Z` and upper-case letters and digits (`Z0123456789ABCDEFGHIJ`).
    id.len() >= 10 && id.starts_with('Z') && id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A write event as kreach reports it, with its request parameters; `None` for a read-only one.
fn event_from(e: &aws_sdk_cloudtrail::types::Event) -> Option<(ChangeEvent, Option<Value>)> {
    if e.read_only().is_some_and(|r| r.eq_ignore_ascii_case("true")) {
        return None;
    }
    let record: Option<Value> =
        e.cloud_trail_event().filter(|t| t.len() <= MAX_EVENT_BYTES).and_then(|t| serde_json::from_str(t).ok());
    if record.as_ref().and_then(|r| r.get("readOnly")).and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let principal = record
        .as_ref()
        .and_then(|r| {
            r.pointer("/userIdentity/sessionContext/sessionIssuer/arn").or_else(|| r.pointer("/userIdentity/arn"))
        })
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| e.username().map(str::to_string));
    let params = record.as_ref().and_then(|r| r.get("requestParameters")).cloned();
    let time =
        e.event_time().and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()).unwrap_or_default();
    let mut event = ChangeEvent::default();
    event.id = kreach::render::clean(e.event_id().unwrap_or("")).into_owned();
    event.time = time;
    event.name = kreach::render::clean(e.event_name().unwrap_or("")).into_owned();
    event.source = kreach::render::clean(e.event_source().unwrap_or("")).into_owned();
    event.principal = principal.map(|p| kreach::render::clean(&p).into_owned());
    event.parameters = params.as_ref().map(parameters_line).unwrap_or_default();
    Some((event, params))
}

/// The request's parameters in one line: its JSON, compact, without any key that could hold a
/// credential, capped.
fn parameters_line(params: &Value) -> String {
    fn scrub(v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(k, _)| {
                        let k = k.to_ascii_lowercase();
                        !["secret", "password", "token", "credential", "privatekey", "accesskey"]
                            .iter()
                            .any(|bad| k.contains(bad))
                    })
                    .map(|(k, v)| (k.clone(), scrub(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(scrub).collect()),
            other => other.clone(),
        }
    }
    let mut line = kreach::render::clean(&scrub(params).to_string()).into_owned();
    if line.len() > MAX_PARAMETERS {
        let mut end = MAX_PARAMETERS;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_one_line_without_credentials() {
        let p = serde_json::json!({"groupId": "sg-1", "ipPermissions": {"items": [{"fromPort": 9092}]},
                                   "clientToken": "abc", "SecretString": "hunter2"});
        let line = parameters_line(&p);
        assert!(line.contains("sg-1") && line.contains("9092"), "{line}");
        assert!(!line.contains("hunter2") && !line.contains("abc"), "{line}");
        let long = serde_json::json!({"v": "é".repeat(500)});
        assert!(parameters_line(&long).chars().count() < 250);
    }

    #[test]
    fn a_request_names_a_resource_by_its_kind_s_key_only() {
        let zone = serde_json::json!({"hostedZoneId": "/hostedzone/Z0123456789ABCDEFGHIJ", "changeBatch": {}});
        assert!(names_resource(&zone, by_name(Kind::HostedZone).1, "Z0123456789ABCDEFGHIJ"));
        assert!(!names_resource(&zone, by_name(Kind::HostedZone).1, "Z0123456789ABCDEFGHI"), "a prefix is not a match");
        let endpoints = serde_json::json!({"ModifyVpcEndpointRequest": {"VpcEndpointId": ["vpce-0a", "vpce-0b"]}});
        assert!(names_resource(&endpoints, by_name(Kind::VpcEndpoint).1, "vpce-0b"));
        let acl = serde_json::json!({"networkAclId": "acl-1", "ruleNumber": 100, "egress": false});
        assert!(names_resource(&acl, by_name(Kind::NetworkAcl).1, "acl-1"));
        assert!(!names_resource(&acl, by_name(Kind::SecurityGroup).1, "acl-1"), "another kind's key");
        let nested = serde_json::json!({"groupId": "sg-a", "ipPermissions": {"items": [{"groups": {"items": [{"groupId": "sg-b"}]}}]}});
        assert!(!names_resource(&nested, by_name(Kind::SecurityGroup).1, "sg-b"), "a rule's source group");
        assert!(!names_resource(&serde_json::json!("sg-a"), &["groupId"], "sg-a"));
        assert_eq!(kind_of("rslvr-rr-0abc"), Kind::ResolverRule);
        assert_eq!(kind_of("subnet-0abc"), Kind::Other);
        assert!(by_name(Kind::Other).0.is_empty());
    }

    #[test]
    fn hosted_zone_ids_go_to_us_east_1() {
        assert!(is_hosted_zone("Z0123456789ABCDEFGHIJ"));
        assert!(!is_hosted_zone("sg-0123456789abcdef0"));
        assert!(!is_hosted_zone("acl-0abc"));
    }
}

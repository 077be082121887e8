//! What changed since it worked: CloudTrail's `LookupEvents` for each blamed resource, by its
//! name (one lookup attribute per call, as CloudTrail allows), write events only, the last
//! `since` hours, at most [`MAX_PAGES`] pages each, paced to CloudTrail's two lookups a second and
//! inside the budget. Route 53 records its events in us-east-1; everything else in the audit's
//! region. Read-only.

use std::time::Duration;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use kreach::report::{CHANGE_DELIVERY_LAG, ChangeAudit, ChangeEvent, ResourceChanges};
use serde_json::Value;

use crate::AuditInput;

/// Pages read per resource (50 events each).
const MAX_PAGES: usize = 2;
/// CloudTrail's `LookupEvents` rate: two a second per account and region.
const PACE: Duration = Duration::from_millis(500);
/// Largest `CloudTrailEvent` document read (its JSON is the event's full record).
const MAX_EVENT_BYTES: usize = 64 * 1024;
/// Longest parameters line kept.
const MAX_PARAMETERS: usize = 400;

/// The write events of `resources` in the last `since_hours` hours, within `budget`.
pub async fn lookup_changes(
    input: &AuditInput,
    resources: &[String],
    since_hours: u32,
    budget: Duration,
) -> ChangeAudit {
    let mut audit = ChangeAudit::default();
    audit.since_hours = since_hours;
    audit.lag = CHANGE_DELIVERY_LAG.to_string();
    let work = lookups(input, resources, since_hours, &mut audit);
    if tokio::time::timeout(budget, work).await.is_err() {
        audit.errors.push(format!("the CloudTrail lookups did not finish within {} ms", budget.as_millis()));
    }
    audit
}

async fn lookups(input: &AuditInput, resources: &[String], since_hours: u32, audit: &mut ChangeAudit) {
    let credentials = input.static_credentials.as_ref().map(|(key, secret)| {
        aws_credential_types::Credentials::new(key, secret, input.session_token.clone(), None, "kreach")
    });
    let regional = crate::sdk_config(input.region.as_deref(), input.endpoint_url.as_deref(), credentials.clone()).await;
    let global = crate::sdk_config(Some("us-east-1"), input.endpoint_url.as_deref(), credentials).await;
    let since = std::time::SystemTime::now() - Duration::from_secs(u64::from(since_hours) * 3600);
    let start = aws_smithy_types::DateTime::from(since);
    let mut pace = tokio::time::interval(PACE);
    for resource in resources {
        // A hosted zone's events are Route 53's, recorded in us-east-1.
        let sdk = if is_hosted_zone(resource) { &global } else { &regional };
        let client = aws_sdk_cloudtrail::Client::new(sdk);
        let mut found = ResourceChanges::default();
        found.resource = resource.clone();
        let mut token: Option<String> = None;
        for page in 0..MAX_PAGES {
            pace.tick().await;
            audit.calls.push("cloudtrail:LookupEvents".into());
            let attribute = LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::ResourceName)
                .attribute_value(resource)
                .build();
            let mut request = client.lookup_events().start_time(start).max_results(50);
            if let Ok(a) = attribute {
                request = request.lookup_attributes(a);
            }
            if let Some(t) = token.take() {
                request = request.next_token(t);
            }
            match request.send().await {
                Ok(out) => {
                    found.events.extend(out.events().iter().filter_map(event_from));
                    token = out.next_token().map(str::to_string);
                    if token.is_none() {
                        found.complete = true;
                        break;
                    }
                    if page + 1 == MAX_PAGES {
                        break;
                    }
                }
                Err(e) => {
                    let e = crate::classify("cloudtrail:LookupEvents", e);
                    audit.errors.push(format!("{resource}: {e}"));
                    break;
                }
            }
        }
        found.events.sort_by(|a, b| b.time.cmp(&a.time));
        audit.resources.push(found);
    }
}

fn is_hosted_zone(id: &str) -> bool {
    // Route 53 zone ids: `Z` and upper-case letters and digits (`Z0123456789ABCDEFGHIJ`).
    id.len() >= 10 && id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A write event as kreach reports it; `None` for a read-only one.
fn event_from(e: &aws_sdk_cloudtrail::types::Event) -> Option<ChangeEvent> {
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
    let parameters = record.as_ref().and_then(|r| r.get("requestParameters")).map(parameters_line).unwrap_or_default();
    let time =
        e.event_time().and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()).unwrap_or_default();
    let mut event = ChangeEvent::default();
    event.time = time;
    event.name = kreach::render::clean(e.event_name().unwrap_or("")).into_owned();
    event.source = kreach::render::clean(e.event_source().unwrap_or("")).into_owned();
    event.principal = principal.map(|p| kreach::render::clean(&p).into_owned());
    event.parameters = parameters;
    Some(event)
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
    fn hosted_zone_ids_go_to_us_east_1() {
        assert!(is_hosted_zone("Z0123456789ABCDEFGHIJ"));
        assert!(!is_hosted_zone("sg-0123456789abcdef0"));
        assert!(!is_hosted_zone("acl-0abc"));
    }
}

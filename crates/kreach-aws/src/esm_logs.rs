//! The event source mapping's own system logs: with `LoggingConfig.SystemLogLevel` set, its
//! pollers write `ESM_PROCESSING_EVENT`s (an `error.errorCode`, an `error.errorMessage`) to the
//! function's log group. One bounded `logs:FilterLogEvents` over the last day, this mapping's events
//! only, grouped by error code. Read-only.

use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use kreach::EventSourceMapping;
use kreach::report::{AwsAudit, EsmLogError};
use serde_json::Value;

use crate::{classify, note};

/// Events read at most (one page).
const MAX_EVENTS: i32 = 100;
/// Largest log message parsed.
const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Error codes kept.
const MAX_CODES: usize = 10;
/// Longest message kept.
const MAX_TEXT: usize = 200;

/// The mapping's system-log errors of the last day, by code; `None` when not read.
pub(crate) async fn system_log_errors(
    sdk: &aws_config::SdkConfig,
    m: &EventSourceMapping,
    audit: &mut AwsAudit,
) -> Option<Vec<EsmLogError>> {
    m.system_log_level.as_ref()?;
    let function = m.function_name()?;
    let client = aws_sdk_cloudwatchlogs::Client::new(sdk);
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_millis()
        .saturating_sub(24 * 3600 * 1000);
    audit.calls.push("logs:FilterLogEvents".into());
    let out = match client
        .filter_log_events()
        .log_group_name(format!("/aws/lambda/{function}"))
        .filter_pattern("ESM_PROCESSING_EVENT")
        .start_time(i64::try_from(since).unwrap_or(0))
        .limit(MAX_EVENTS)
        .send()
        .await
    {
        Ok(out) => out,
        // No log group yet: the pollers have logged nothing.
        Err(e) if e.code() == Some("ResourceNotFoundException") => return Some(Vec::new()),
        Err(e) => {
            note(audit, classify("logs:FilterLogEvents", e));
            return None;
        }
    };
    let mut codes: Vec<EsmLogError> = Vec::new();
    for event in out.events() {
        let Some(message) = event.message().filter(|t| t.len() <= MAX_MESSAGE_BYTES) else { continue };
        let Ok(v) = serde_json::from_str::<Value>(message) else { continue };
        if v.get("eventType").and_then(Value::as_str) != Some("ESM_PROCESSING_EVENT") {
            continue;
        }
        // This mapping's events only: its ARN or UUID names it.
        let resource = v.get("resourceArn").and_then(Value::as_str).unwrap_or("");
        if !resource.ends_with(&m.uuid) {
            continue;
        }
        let Some(code) = v.pointer("/error/errorCode").and_then(Value::as_str) else { continue };
        let text = v.pointer("/error/errorMessage").and_then(Value::as_str).unwrap_or("");
        let time = event
            .timestamp()
            .map(aws_smithy_types::DateTime::from_millis)
            .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
            .unwrap_or_default();
        let code = kreach::render::clean(code).into_owned();
        let entry = match codes.iter_mut().position(|c| c.error_code == code) {
            Some(i) => &mut codes[i],
            None if codes.len() < MAX_CODES => {
                let mut e = EsmLogError::default();
                e.error_code = code;
                codes.push(e);
                codes.last_mut()?
            }
            None => continue,
        };
        entry.count += 1;
        if time >= entry.last_time {
            entry.last_time = time;
            entry.last_message = kreach::render::truncate(&kreach::render::clean(text), MAX_TEXT);
        }
    }
    codes.sort_by(|a, b| b.count.cmp(&a.count).then(a.error_code.cmp(&b.error_code)));
    Some(codes)
}

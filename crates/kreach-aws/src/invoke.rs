//! `kreach check --via-function`: the one action kreach takes, and only when asked — invoking the
//! user's own deployed kreach function (lambda:InvokeFunction) with a check as its event, so the
//! probe runs where the function runs. Its answer is the report, read back bounded.

use std::time::Duration;

use aws_config::SdkConfig;

/// Largest answer read: Lambda's synchronous response limit.
pub const MAX_INVOKE_RESPONSE: usize = 6 * 1024 * 1024;

/// Invokes `function` (name or ARN) synchronously with `event` within `budget`, and returns the
/// report it answered. `Err` says why there is none: the call failed, the function answered an
/// error (`InvalidEvent: …`, `KreachError: …`, a timeout), or the answer is not a report.
pub async fn invoke_function(
    sdk: &SdkConfig,
    function: &str,
    event: &serde_json::Value,
    budget: Duration,
) -> Result<kreach::Report, String> {
    let client = aws_sdk_lambda::Client::new(sdk);
    let payload = serde_json::to_vec(event).map_err(|e| format!("the event does not serialize: {e}"))?;
    let call = client
        .invoke()
        .function_name(function)
        .invocation_type(aws_sdk_lambda::types::InvocationType::RequestResponse)
        .payload(aws_sdk_lambda::primitives::Blob::new(payload))
        .send();
    let answer = match tokio::time::timeout(budget, call).await {
        Err(_) => return Err(format!("{function} did not answer within {} ms", budget.as_millis())),
        Ok(Err(e)) => return Err(format!("lambda:InvokeFunction {function}: {}", crate::display_chain(&e))),
        Ok(Ok(answer)) => answer,
    };
    let bytes = answer.payload().map(|b| b.as_ref()).unwrap_or_default();
    if bytes.len() > MAX_INVOKE_RESPONSE {
        return Err(format!("{function} answered {} bytes, more than a Lambda response can be", bytes.len()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("{function} answered something that is not JSON: {e}"))?;
    if answer.function_error().is_some() || value.get("errorType").is_some() {
        let kind = value.get("errorType").and_then(|v| v.as_str()).or(answer.function_error()).unwrap_or("error");
        let message = value.get("errorMessage").and_then(|v| v.as_str()).unwrap_or("");
        return Err(format!("{function} answered {kind}: {}", message.chars().take(1000).collect::<String>()));
    }
    serde_json::from_value(value).map_err(|e| format!("{function} answered JSON that is not a kreach report: {e}"))
}

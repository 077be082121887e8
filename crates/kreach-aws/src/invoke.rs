//! `kreach check --via-function`: the one action kreach takes, and only when asked — invoking the
//! user's own deployed kreach function (lambda:InvokeFunction) with a check as its event, so the
//! probe runs where the function runs. Its answer is the report, read back bounded.

use std::time::Duration;

use aws_config::SdkConfig;

use crate::AwsError;

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
) -> Result<kreach::Report, AwsError> {
    let client = aws_sdk_lambda::Client::new(sdk);
    let payload = serde_json::to_vec(event).map_err(|e| AwsError::Api(format!("the event does not serialize: {e}")))?;
    let call = client
        .invoke()
        .function_name(function)
        .invocation_type(aws_sdk_lambda::types::InvocationType::RequestResponse)
        .payload(aws_sdk_lambda::primitives::Blob::new(payload))
        .send();
    let answer = match tokio::time::timeout(budget, call).await {
        Err(_) => {
            return Err(AwsError::Unreachable(format!("{function} did not answer within {} ms", budget.as_millis())));
        }
        Ok(Err(e)) => return Err(crate::classify(&format!("lambda:InvokeFunction {function}"), e)),
        Ok(Ok(answer)) => answer,
    };
    let bytes = answer.payload().map(|b| b.as_ref()).unwrap_or_default();
    if bytes.len() > MAX_INVOKE_RESPONSE {
        let size = bytes.len();
        return Err(AwsError::Invalid(format!("{function} answered {size} bytes, more than a Lambda response can be")));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| AwsError::Invalid(format!("{function} answered something that is not JSON: {e}")))?;
    if answer.function_error().is_some() || value.get("errorType").is_some() {
        let kind = value.get("errorType").and_then(|v| v.as_str()).or(answer.function_error()).unwrap_or("error");
        let message = value.get("errorMessage").and_then(|v| v.as_str()).unwrap_or("");
        let message: String = message.chars().take(1000).collect();
        return Err(AwsError::Api(format!("{function} answered {kind}: {message}")));
    }
    serde_json::from_value(value)
        .map_err(|e| AwsError::Invalid(format!("{function} answered JSON that is not a kreach report: {e}")))
}

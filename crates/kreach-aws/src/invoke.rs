//! `kreach check --via-function` and `kreach fleet`: the one action kreach takes, and only when
//! asked — invoking the user's own deployed kreach function (lambda:InvokeFunction) with a check
//! as its event, so the probe runs where the function runs. Its answer is the report.
//!
//! The call is kreach's own signed request (`api/`), not the SDK's client: the SDK retries on its
//! own terms while a fleet of hundreds of functions decides itself when to try again, and reads up
//! to the SDK clients' cap ([`crate::MAX_ANSWER`]). Here the body is read as it arrives and refused
//! the moment it passes [`MAX_INVOKE_RESPONSE`] (Lambda's own limit for a synchronous answer): no
//! answer larger is ever held in memory.

use std::time::Duration;

use aws_config::SdkConfig;

use crate::AwsError;
use crate::api::Api;

/// Largest answer read: Lambda's synchronous response limit.
pub const MAX_INVOKE_RESPONSE: usize = 6 * 1024 * 1024;

/// A Lambda client for invoking functions (one per region and credentials; its connections are
/// reused across invocations).
pub struct Invoker {
    api: Api,
}

impl Invoker {
    /// A client from the SDK configuration: its region, endpoint and credentials.
    pub async fn new(sdk: &SdkConfig) -> Result<Self, AwsError> {
        Ok(Invoker { api: Api::for_service(sdk, "lambda").await? })
    }

    /// Invokes `function` (name or ARN) synchronously with `event` within `budget`, and returns
    /// the report it answered. `Err` says why there is none, by kind: the call failed (denied,
    /// throttled, not found, unreachable), the function answered an error of its own
    /// (`InvalidEvent: …`, `KreachError: …`, a timeout), or the answer is not a report.
    pub async fn invoke(
        &self,
        function: &str,
        event: &serde_json::Value,
        budget: Duration,
    ) -> Result<kreach::Report, AwsError> {
        let label = format!("lambda:InvokeFunction {function}");
        let payload = event.to_string();
        let path = format!("2015-03-31/functions/{}/invocations", crate::api::encode(function));
        let headers = [("content-type", "application/json"), ("x-amz-invocation-type", "RequestResponse")];
        // One attempt: the fleet decides when to try again.
        let call = self.api.exchange_capped(&label, "POST", &path, &headers, &payload, MAX_INVOKE_RESPONSE);
        let (status, headers, bytes) = match tokio::time::timeout(budget, call).await {
            Err(_) => {
                return Err(AwsError::timed_out(format!("{function} did not answer within {} ms", budget.as_millis()))
                    .for_action("lambda:InvokeFunction"));
            }
            Ok(Err(e)) => {
                return Err(if e.kind == crate::AwsErrorKind::Invalid {
                    AwsError::invalid(format!(
                        "{function} answered more than {MAX_INVOKE_RESPONSE} bytes, more than a Lambda response can be"
                    ))
                } else {
                    e
                });
            }
            Ok(Ok(answer)) => answer,
        };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let function_error = header("x-amz-function-error");
        let value: Option<serde_json::Value> =
            if status != 200 || function_error.is_some() { serde_json::from_slice(&bytes).ok() } else { None };
        // A function's own error: real Lambda answers 200 with X-Amz-Function-Error; an emulator
        // may answer an HTTP error with the same `errorType`/`errorMessage` body.
        if function_error.is_some() || value.as_ref().is_some_and(|v| v.get("errorType").is_some()) {
            let v = value.unwrap_or_default();
            let kind = v.get("errorType").and_then(|t| t.as_str()).map(str::to_string).or(function_error);
            let message: String =
                v.get("errorMessage").and_then(|m| m.as_str()).unwrap_or("").chars().take(1000).collect();
            return Err(AwsError::function_error(format!(
                "{function} answered {}: {message}",
                kind.as_deref().unwrap_or("error")
            )));
        }
        if status != 200 {
            // The API's error: its code from the header Lambda sets (`x-amzn-ErrorType`), else the body.
            let (body_code, message) = json_error(value.as_ref());
            let code = header("x-amzn-errortype")
                .and_then(|t| t.split(':').next().map(str::to_string))
                .filter(|c| !c.is_empty())
                .unwrap_or(body_code);
            return Err(AwsError::from_answer(&label, status, &code, message, || format!("HTTP {status}")));
        }
        serde_json::from_slice::<kreach::Report>(&bytes).map_err(|e| {
            if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
                AwsError::invalid(format!("{function} answered something that is not JSON: {e}"))
            } else {
                AwsError::invalid(format!("{function} answered JSON that is not a kreach report: {e}"))
            }
        })
    }
}

/// The error code and message of a JSON error answer (`__type` may carry a namespace).
pub(crate) fn json_error(value: Option<&serde_json::Value>) -> (String, String) {
    let field = |k: &str| value.and_then(|v| v.get(k)).and_then(|v| v.as_str()).unwrap_or("");
    let code = [field("__type"), field("code"), field("Code")]
        .into_iter()
        .find(|c| !c.is_empty())
        .unwrap_or("")
        .rsplit('#')
        .next()
        .unwrap_or("")
        .to_string();
    let message = [field("message"), field("Message")].into_iter().find(|m| !m.is_empty()).unwrap_or("").to_string();
    let code = if code == "ForbiddenException" { "AccessDeniedException".to_string() } else { code };
    (code, message)
}

/// [`Invoker::invoke`] with a client made for this one call.
pub async fn invoke_function(
    sdk: &SdkConfig,
    function: &str,
    event: &serde_json::Value,
    budget: Duration,
) -> Result<kreach::Report, AwsError> {
    Invoker::new(sdk).await?.invoke(function, event, budget).await
}

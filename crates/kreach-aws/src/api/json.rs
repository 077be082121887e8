//! AWS JSON 1.1 reads (Route 53 Resolver): a signed POST with `X-Amz-Target`, a JSON answer.

use std::time::Duration;

use super::{ATTEMPTS, Api, Failure, classify};
use crate::AwsError;

impl Api {
    /// One JSON 1.1 call: `target` (`Route53Resolver.ListResolverRules`) with `body`; `label`
    /// names the call (`route53resolver:ListResolverRules`). Retried like a Query call.
    pub(crate) async fn post_json(
        &self,
        label: &str,
        target: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, AwsError> {
        let body = body.to_string();
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target)];
            let (status, bytes) = match self.exchange_with(label, "POST", "", &headers, &body).await {
                Ok(a) => a,
                Err(Failure::Retry(e)) => {
                    last = Some(e);
                    continue;
                }
                Err(Failure::Final(e)) => return Err(e),
            };
            let value: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
            if status == 200 {
                return value.ok_or_else(|| AwsError::Invalid(format!("{label}: the answer is not JSON")));
            }
            let (code, message) = json_error(value.as_ref());
            match classify(label, status, &code, message) {
                Failure::Retry(e) => last = Some(e),
                Failure::Final(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| AwsError::Api(format!("{label}: no attempt made"))))
    }
}

/// The error code and message of a JSON error answer (`__type` may carry a namespace).
pub(super) fn json_error(value: Option<&serde_json::Value>) -> (String, String) {
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

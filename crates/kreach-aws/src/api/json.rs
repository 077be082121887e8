//! JSON reads: REST-JSON (`GET`, Amazon MSK) and JSON 1.1 (a POST with `X-Amz-Target`, Route 53
//! Resolver), both a JSON answer with its error in `__type`/`message`.

use super::{Api, Failure, classify, retried};
use crate::AwsError;

impl Api {
    /// A REST-JSON read: `GET path` (already percent-encoded), the answer's JSON; `label` names
    /// the call (`kafka:DescribeClusterV2`).
    pub(crate) async fn get_json(&self, label: &str, path: &str) -> Result<serde_json::Value, AwsError> {
        retried(label, || self.json_answer(label, "GET", path, &[], "")).await
    }

    /// One JSON 1.1 call: `target` (`Route53Resolver.ListResolverRules`) with `body`; `label`
    /// names the call (`route53resolver:ListResolverRules`).
    pub(crate) async fn post_json(
        &self,
        label: &str,
        target: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, AwsError> {
        let body = body.to_string();
        let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target)];
        retried(label, || self.json_answer(label, "POST", "", &headers, &body)).await
    }

    /// One attempt of a JSON call: the answer, or its error classified.
    async fn json_answer(
        &self,
        label: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<serde_json::Value, Failure> {
        let (status, bytes) = self.exchange_with(label, method, path, headers, body).await?;
        let value: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
        if status == 200 {
            return value.ok_or_else(|| Failure::Final(AwsError::invalid(format!("{label}: the answer is not JSON"))));
        }
        let (code, message) = json_error(value.as_ref());
        Err(classify(label, status, &code, message))
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

/// Pages followed for one Route 53 Resolver listing (`NextToken`).
const RESOLVER_PAGES: usize = 10;

/// Every item of `list` over the pages of `action` (`NextToken`), capped at [`kreach::limits::MAX_LIST`].
pub(crate) async fn pages(
    api: &Api,
    action: &str,
    body: serde_json::Value,
    list: &str,
) -> Result<Vec<serde_json::Value>, crate::AwsError> {
    pages_up_to(api, action, body, list, kreach::limits::MAX_LIST).await.map(|(items, _)| items)
}

/// Every item of `list` over at most [`RESOLVER_PAGES`] pages, at most `cap` of them, and whether
/// that was all (no page left unread, nothing cut).
pub(crate) async fn pages_up_to(
    api: &Api,
    action: &str,
    body: serde_json::Value,
    list: &str,
    cap: usize,
) -> Result<(Vec<serde_json::Value>, bool), crate::AwsError> {
    let label = format!("route53resolver:{action}");
    let target = format!("Route53Resolver.{action}");
    let mut items = Vec::new();
    let mut body = body;
    let mut complete = false;
    for _ in 0..RESOLVER_PAGES {
        let page = api.post_json(&label, &target, &body).await?;
        items.extend(page[list].as_array().into_iter().flatten().cloned());
        match page["NextToken"].as_str().filter(|t| !t.is_empty()) {
            Some(token) if items.len() < cap => body["NextToken"] = serde_json::json!(token),
            Some(_) => break,
            None => {
                complete = true;
                break;
            }
        }
    }
    complete &= items.len() <= cap;
    items.truncate(cap);
    Ok((items, complete))
}

//! The event source mapping's other services: its on-failure destination (the service its pollers
//! send failed batches to, reached from the mapping's subnets, with the role's permission to send)
//! and its execution role's trust policy (Lambda must be able to assume it).

use kreach::report::AwsAudit;
use serde_json::Value;

use crate::{classify, note};

/// The AWS service of an on-failure destination ARN (`sqs`, `sns`, `s3`); `None` for a Kafka
/// topic (`kafka://…`) or anything else.
pub(crate) fn destination_service(arn: &str) -> Option<&'static str> {
    let mut parts = arn.split(':');
    if parts.next() != Some("arn") {
        return None;
    }
    let _partition = parts.next()?;
    match parts.next()? {
        "sqs" => Some("sqs"),
        "sns" => Some("sns"),
        "s3" => Some("s3"),
        _ => None,
    }
}

/// The permission the role needs to send a failed batch to `arn`, and on what.
pub(crate) fn send_permission(arn: &str) -> Option<(&'static str, String)> {
    match destination_service(arn)? {
        "sqs" => Some(("sqs:SendMessage", arn.to_string())),
        "sns" => Some(("sns:Publish", arn.to_string())),
        "s3" => Some(("s3:PutObject", format!("{}/*", arn.trim_end_matches('/')))),
        _ => None,
    }
}

/// Most services a trust policy is read for.
const MAX_TRUSTED: usize = 16;

/// The services the role's trust policy lets assume it (`sts:AssumeRole`, Allow): read with
/// `iam:GetRole`. `None` when it could not be read (the error is in the audit).
pub(crate) async fn trusted_services(
    sdk: &aws_config::SdkConfig,
    role_arn: &str,
    audit: &mut AwsAudit,
) -> Option<Vec<String>> {
    let name = role_arn.rsplit('/').next().filter(|n| !n.is_empty())?;
    let iam = aws_sdk_iam::Client::new(sdk);
    audit.calls.push("iam:GetRole".into());
    match iam.get_role().role_name(name).send().await {
        Ok(out) => {
            let text = out.role().and_then(|r| r.assume_role_policy_document()).unwrap_or("");
            Some(crate::iam::document(text).map(|doc| services_of(&doc)).unwrap_or_default())
        }
        Err(e) => {
            note(audit, classify("iam:GetRole", e));
            None
        }
    }
}

/// The service principals an `Allow` statement for `sts:AssumeRole` names.
fn services_of(doc: &Value) -> Vec<String> {
    let list = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        }
    };
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let mut out: Vec<String> = statements
        .iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .filter(|s| list(s.get("Action")).iter().any(|a| a == "sts:AssumeRole" || a == "sts:*" || a == "*"))
        .flat_map(|s| list(s.get("Principal").and_then(|p| p.get("Service"))))
        .collect();
    out.sort();
    out.dedup();
    out.truncate(MAX_TRUSTED);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_arn_names_its_service_and_permission() {
        assert_eq!(destination_service("arn:aws:sqs:us-west-2:1:failed"), Some("sqs"));
        assert_eq!(destination_service("arn:aws-cn:sns:cn-north-1:1:t"), Some("sns"));
        assert_eq!(send_permission("arn:aws:s3:::bucket"), Some(("s3:PutObject", "arn:aws:s3:::bucket/*".into())));
        assert_eq!(destination_service("kafka://failed-orders"), None);
        assert_eq!(destination_service("arn:aws:lambda:us-west-2:1:function:f"), None);
        assert_eq!(destination_service("sqs"), None);
    }

    #[test]
    fn the_trusted_services_are_the_allowed_assume_role_principals() {
        let doc: Value = serde_json::json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:TagSession"},
        ]});
        assert_eq!(services_of(&doc), ["edgelambda.amazonaws.com", "lambda.amazonaws.com"]);
        let one: Value = serde_json::json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": ["sts:AssumeRole"]}});
        assert_eq!(services_of(&one), ["ec2.amazonaws.com"]);
    }
}

//! The event source mapping's other services: its on-failure destination (the service its pollers
//! send failed batches to, reached from the mapping's subnets, with the role's permission to send,
//! and the destination's own resource policy) and its execution role's trust policy (Lambda must
//! be able to assume it).

use kreach::report::{AwsAudit, DestinationPolicy, PermissionVerdict};
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

/// An ARN's parts: partition, service, region, account, resource.
fn arn_parts(arn: &str) -> Option<[&str; 5]> {
    let mut parts = arn.splitn(6, ':');
    (parts.next()? == "arn").then_some(())?;
    Some([parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?])
}

/// The destination's resource policy, read (`sqs:GetQueueUrl` and `sqs:GetQueueAttributes`,
/// `sns:GetTopicAttributes`, `s3:GetBucketPolicy`) and judged for `role`'s send. `None` for a
/// destination that is not an AWS service's, or when the read failed in the role's own account
/// (the error is in the audit); from another account a failed read is an unverified verdict.
pub(crate) async fn destination_policy(
    sdk: &aws_config::SdkConfig,
    arn: &str,
    role: &str,
    audit: &mut AwsAudit,
) -> Option<DestinationPolicy> {
    let (action, resource) = send_permission(arn)?;
    let [_, service, region, account, name] = arn_parts(arn)?;
    let role_account = arn_parts(role).map(|p| p[3]).unwrap_or("");
    let mut out = DestinationPolicy::default();
    out.arn = arn.to_string();
    out.action = action.to_string();
    out.resource = resource.clone();
    // An S3 bucket's ARN names no account: judged as the role's own unless its policy says more.
    out.cross_account = !account.is_empty() && account != role_account;
    let region = (!region.is_empty()).then(|| aws_config::Region::new(region.to_string()));
    let read = match service {
        "sqs" => queue_policy(sdk, region, account, name, audit).await,
        "sns" => topic_policy(sdk, region, arn, audit).await,
        _ => bucket_policy(sdk, name, audit).await,
    };
    match read {
        Ok(text) => {
            let doc = text.as_deref().and_then(crate::iam::document);
            out.has_policy = doc.is_some();
            let (verdict, statements) = judge(doc.as_ref(), action, &resource, role, out.cross_account);
            out.verdict = verdict;
            out.statements = statements;
        }
        Err(e) if out.cross_account => {
            out.verdict = PermissionVerdict::Unknown;
            out.read_error = Some(e.to_string());
        }
        Err(e) => {
            note(audit, e);
            return None;
        }
    }
    Some(out)
}

/// Most statements of one policy judged.
const MAX_STATEMENTS: usize = 256;
/// Largest policy text kept (SQS allows 20 KiB, S3 20 KiB, SNS 30 KiB).
const MAX_POLICY: usize = 64 * 1024;

fn capped(text: Option<String>) -> Option<String> {
    text.filter(|t| t.len() <= MAX_POLICY)
}

async fn queue_policy(
    sdk: &aws_config::SdkConfig,
    region: Option<aws_config::Region>,
    account: &str,
    name: &str,
    audit: &mut AwsAudit,
) -> Result<Option<String>, crate::AwsError> {
    let config = aws_sdk_sqs::config::Builder::from(sdk).region(region.or_else(|| sdk.region().cloned())).build();
    let sqs = aws_sdk_sqs::Client::from_conf(config);
    audit.calls.push("sqs:GetQueueUrl".into());
    let url = sqs
        .get_queue_url()
        .queue_name(name)
        .queue_owner_aws_account_id(account)
        .send()
        .await
        .map_err(|e| classify("sqs:GetQueueUrl", e))?;
    let url = url.queue_url().unwrap_or_default().to_string();
    audit.calls.push("sqs:GetQueueAttributes".into());
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::Policy)
        .send()
        .await
        .map_err(|e| classify("sqs:GetQueueAttributes", e))?;
    Ok(capped(out.attributes().and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::Policy)).cloned()))
}

async fn topic_policy(
    sdk: &aws_config::SdkConfig,
    region: Option<aws_config::Region>,
    arn: &str,
    audit: &mut AwsAudit,
) -> Result<Option<String>, crate::AwsError> {
    let config = aws_sdk_sns::config::Builder::from(sdk).region(region.or_else(|| sdk.region().cloned())).build();
    let sns = aws_sdk_sns::Client::from_conf(config);
    audit.calls.push("sns:GetTopicAttributes".into());
    let out =
        sns.get_topic_attributes().topic_arn(arn).send().await.map_err(|e| classify("sns:GetTopicAttributes", e))?;
    Ok(capped(out.attributes().and_then(|a| a.get("Policy")).cloned()))
}

async fn bucket_policy(
    sdk: &aws_config::SdkConfig,
    bucket: &str,
    audit: &mut AwsAudit,
) -> Result<Option<String>, crate::AwsError> {
    // A test endpoint (moto) serves buckets by path, not by host name.
    let config = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some()).build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    audit.calls.push("s3:GetBucketPolicy".into());
    match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Ok(capped(out.policy().map(str::to_string))),
        Err(e) => {
            let e = classify("s3:GetBucketPolicy", e);
            // No policy is an answer: nothing in it denies, nothing allows another account.
            if e.code.as_deref() == Some("NoSuchBucketPolicy") { Ok(None) } else { Err(e) }
        }
    }
}

/// Whether an element surely applies, surely not, or cannot be told here.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Applies {
    No,
    Maybe,
    Yes,
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether a statement's `Principal` names the role: `*`, the role's ARN, its account (id or
/// `:root`). A `NotPrincipal` is not evaluated.
fn principal_applies(st: &Value, role: &str, account: &str) -> Applies {
    if st.get("NotPrincipal").is_some() {
        return Applies::Maybe;
    }
    let names = match st.get("Principal") {
        Some(Value::String(s)) if s == "*" => return Applies::Yes,
        Some(p) => strings(p.get("AWS")),
        None => return Applies::No,
    };
    let root = |n: &str| n.strip_suffix(":root").and_then(|a| a.rsplit(':').next()) == Some(account);
    let yes = names.iter().any(|n| *n == "*" || *n == role || (!account.is_empty() && (*n == account || root(n))));
    if yes { Applies::Yes } else { Applies::No }
}

/// A statement's `Condition` for the role's own call: the keys known here (`aws:PrincipalAccount`,
/// `aws:PrincipalArn`, `aws:SourceOwner` — SNS's default policy — with the string and ARN
/// operators; `aws:SecureTransport` with `Bool`) decide; any other key or operator (an
/// `…IfExists`, a `ForAnyValue:`) leaves it undecided.
fn condition_applies(st: &Value, role: &str, account: &str) -> Applies {
    let Some(Value::Object(ops)) = st.get("Condition") else { return Applies::Yes };
    let mut result = Applies::Yes;
    for (op, block) in ops {
        let Value::Object(keys) = block else { return Applies::Maybe };
        for (key, wanted) in keys {
            let actual = match key.to_ascii_lowercase().as_str() {
                "aws:principalaccount" | "aws:sourceowner" => account,
                "aws:principalarn" => role,
                // Lambda calls the destination's API over TLS.
                "aws:securetransport" => "true",
                _ => {
                    result = result.min(Applies::Maybe);
                    continue;
                }
            };
            let wanted = strings(Some(wanted));
            let hit = match op.as_str() {
                "StringEquals" | "ArnEquals" => wanted.contains(&actual),
                "StringEqualsIgnoreCase" => wanted.iter().any(|w| w.eq_ignore_ascii_case(actual)),
                "StringLike" | "ArnLike" => wanted.iter().any(|w| crate::iam::glob(w, actual)),
                "StringNotEquals" | "ArnNotEquals" => !wanted.contains(&actual),
                "StringNotLike" | "ArnNotLike" => !wanted.iter().any(|w| crate::iam::glob(w, actual)),
                "Bool" => wanted.iter().any(|w| w.eq_ignore_ascii_case(actual)),
                _ => {
                    result = result.min(Applies::Maybe);
                    continue;
                }
            };
            if !hit {
                return Applies::No;
            }
        }
    }
    result
}

/// Whether a statement covers `action` on `resource` for `role` of `account`.
fn statement_applies(st: &Value, action: &str, resource: &str, role: &str, account: &str) -> Applies {
    // Action and resource judged as an identity statement would be (wildcards, Not*, variables).
    let mut bare = st.clone();
    if let Value::Object(map) = &mut bare {
        for k in ["Principal", "NotPrincipal", "Condition", "Sid"] {
            map.remove(k);
        }
        map.insert("Effect".into(), Value::String("Allow".into()));
    }
    let ctx = crate::iam::Context { username: None, account: Some(account.to_string()) };
    let covers = match crate::iam::evaluate_for(&[serde_json::json!({"Statement": [bare]})], action, resource, &ctx) {
        PermissionVerdict::Allowed => Applies::Yes,
        PermissionVerdict::Conditional => Applies::Maybe,
        _ => Applies::No,
    };
    covers.min(principal_applies(st, role, account)).min(condition_applies(st, role, account))
}

/// The policy's verdict on the role's call and the statements that decided it (by `Sid`, else
/// `#n`). In the role's own account only a Deny matters (the role's policy allows); from another
/// account the policy must also allow.
fn judge(
    doc: Option<&Value>,
    action: &str,
    resource: &str,
    role: &str,
    cross_account: bool,
) -> (PermissionVerdict, Vec<String>) {
    let account = arn_parts(role).map(|p| p[3]).unwrap_or("");
    let statements: Vec<&Value> = match doc.and_then(|d| d.get("Statement")) {
        Some(Value::Array(a)) => a.iter().take(MAX_STATEMENTS).collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let mut by: [Vec<String>; 4] = Default::default(); // deny yes, deny maybe, allow yes, allow maybe
    for (i, st) in statements.iter().enumerate() {
        let label = st
            .get("Sid")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map_or_else(|| format!("#{}", i + 1), |s| kreach::render::clean(s).into_owned());
        let deny = st.get("Effect").and_then(Value::as_str) == Some("Deny");
        match (deny, statement_applies(st, action, resource, role, account)) {
            (true, Applies::Yes) => by[0].push(label),
            (true, Applies::Maybe) => by[1].push(label),
            (false, Applies::Yes) => by[2].push(label),
            (false, Applies::Maybe) => by[3].push(label),
            (_, Applies::No) => {}
        }
    }
    let [deny, deny_maybe, allow, allow_maybe] = by;
    if !deny.is_empty() {
        (PermissionVerdict::Denied, deny)
    } else if !cross_account {
        if deny_maybe.is_empty() {
            (PermissionVerdict::Allowed, Vec::new())
        } else {
            (PermissionVerdict::Conditional, deny_maybe)
        }
    } else if !allow.is_empty() && deny_maybe.is_empty() {
        (PermissionVerdict::Allowed, allow)
    } else if !allow.is_empty() || !allow_maybe.is_empty() {
        (PermissionVerdict::Conditional, deny_maybe.into_iter().chain(allow_maybe).collect())
    } else {
        (PermissionVerdict::NotAllowed, Vec::new())
    }
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
    fn a_destination_policy_is_judged_for_the_role_and_its_account() {
        let role = "arn:aws:iam::123456789012:role/consumer";
        let q = "arn:aws:sqs:us-west-2:999999999999:failed";
        let judge_one = |st: Value, cross: bool| {
            judge(Some(&serde_json::json!({"Statement": [st]})), "sqs:SendMessage", q, role, cross)
        };
        let allow = |principal: Value| serde_json::json!({"Sid": "A", "Effect": "Allow", "Principal": principal, "Action": "sqs:*", "Resource": q});
        for who in [
            serde_json::json!("*"),
            serde_json::json!({"AWS": "123456789012"}),
            serde_json::json!({"AWS": ["arn:aws:iam::123456789012:root"]}),
            serde_json::json!({"AWS": role}),
        ] {
            assert_eq!(judge_one(allow(who.clone()), true).0, PermissionVerdict::Allowed, "{who}");
        }
        for who in [
            serde_json::json!({"AWS": "arn:aws:iam::123456789012:role/other"}),
            serde_json::json!({"Service": "lambda.amazonaws.com"}),
        ] {
            assert_eq!(judge_one(allow(who.clone()), true).0, PermissionVerdict::NotAllowed, "{who}");
        }
        // Another action, another queue: no allow.
        let other =
            serde_json::json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:ReceiveMessage", "Resource": q});
        assert_eq!(judge_one(other, true).0, PermissionVerdict::NotAllowed);
        // Conditions: known keys decide, unknown ones leave it open.
        let with = |cond: Value| serde_json::json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": q, "Condition": cond});
        assert_eq!(
            judge_one(with(serde_json::json!({"StringEquals": {"aws:PrincipalAccount": "123456789012"}})), true).0,
            PermissionVerdict::Allowed
        );
        assert_eq!(
            judge_one(with(serde_json::json!({"StringEquals": {"AWS:SourceOwner": "999999999999"}})), true).0,
            PermissionVerdict::NotAllowed
        );
        assert_eq!(
            judge_one(with(serde_json::json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/consum*"}})), true)
                .0,
            PermissionVerdict::Allowed
        );
        assert_eq!(
            judge_one(
                with(serde_json::json!({"StringEqualsIfExists": {"aws:PrincipalAccount": "123456789012"}})),
                true
            )
            .0,
            PermissionVerdict::Conditional
        );
        assert_eq!(
            judge_one(with(serde_json::json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})), true).0,
            PermissionVerdict::Conditional
        );
        // In the role's own account only a Deny matters; a NotPrincipal is not decided here.
        let deny_not = serde_json::json!({"Sid": "D", "Effect": "Deny", "NotPrincipal": {"AWS": role}, "Action": "sqs:SendMessage", "Resource": q});
        assert_eq!(judge_one(deny_not, false), (PermissionVerdict::Conditional, vec!["D".to_string()]));
        let tls = serde_json::json!({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
        assert_eq!(judge_one(tls, false), (PermissionVerdict::Allowed, Vec::new()));
        assert_eq!(
            judge(None, "sqs:SendMessage", q, role, true).0,
            PermissionVerdict::NotAllowed,
            "no policy, another account"
        );
        assert_eq!(
            judge(None, "sqs:SendMessage", q, role, false).0,
            PermissionVerdict::Allowed,
            "no policy, own account"
        );
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

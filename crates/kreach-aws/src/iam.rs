//! Whether a principal may make a call: `iam:SimulatePrincipalPolicy` where it answers, otherwise
//! the principal's attached and inline policies read and evaluated here (identity policies only:
//! SCPs, permission boundaries, session and resource policies are not seen, and the report says so).
//!
//! No maintained Rust crate evaluates IAM policies; this evaluator covers what the checks need:
//! `Allow`/`Deny`, `Action`/`NotAction`, `Resource`/`NotResource`, `*` and `?` wildcards, and a
//! statement with a `Condition` counted as "conditional" rather than guessed.

use kreach::{AwsAudit, PermissionCheck};
use serde_json::Value;

use crate::{CallError, classify, note};

/// Most policy documents read for one principal.
const MAX_POLICIES: usize = 32;
/// Largest policy document parsed (IAM's own limit for a managed policy is 6,144 characters).
const MAX_POLICY_BYTES: usize = 64 * 1024;

/// `?`/`*` glob match, case-insensitive (IAM actions are; resources are compared the same way here).
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) =
        (pattern.to_ascii_lowercase().chars().collect(), text.to_ascii_lowercase().chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// The verdict of `documents` on `action` over `resource`: `allowed`, `denied`, `not-allowed`, `conditional`.
pub(crate) fn evaluate(documents: &[Value], action: &str, resource: &str) -> &'static str {
    let mut allowed = false;
    let mut conditional = false;
    for doc in documents {
        let statements = match doc.get("Statement") {
            Some(Value::Array(a)) => a.clone(),
            Some(s @ Value::Object(_)) => vec![s.clone()],
            _ => continue,
        };
        for st in statements {
            let matches_action = match (st.get("Action"), st.get("NotAction")) {
                (Some(a), _) => strings(Some(a)).iter().any(|p| glob(p, action)),
                (None, Some(n)) => !strings(Some(n)).iter().any(|p| glob(p, action)),
                (None, None) => false,
            };
            let matches_resource = match (st.get("Resource"), st.get("NotResource")) {
                (Some(r), _) => strings(Some(r)).iter().any(|p| glob(p, resource) || p == "*"),
                (None, Some(n)) => !strings(Some(n)).iter().any(|p| glob(p, resource)),
                (None, None) => false,
            };
            if !(matches_action && matches_resource) {
                continue;
            }
            let has_condition = st.get("Condition").is_some_and(|c| c.as_object().is_some_and(|o| !o.is_empty()));
            match st.get("Effect").and_then(|e| e.as_str()) {
                Some("Deny") if !has_condition => return "denied",
                Some("Allow") if has_condition => conditional = true,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
    }
    if allowed {
        "allowed"
    } else if conditional {
        "conditional"
    } else {
        "not-allowed"
    }
}

/// A policy document as IAM returns it: URL-encoded JSON.
fn document(text: &str) -> Option<Value> {
    if text.len() > MAX_POLICY_BYTES {
        return None;
    }
    let decoded = percent_decode(text);
    serde_json::from_str(&decoded).ok()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The kind and name of an IAM principal ARN: `role/path/name` → (Role, name).
fn principal(arn: &str) -> Option<(bool, String)> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let (kind, rest) = resource.split_once('/')?;
    let name = rest.rsplit('/').next()?.to_string();
    match kind {
        "role" => Some((true, name)),
        "user" => Some((false, name)),
        _ => None,
    }
}

/// Judges `checks` (action, resource) for `principal_arn`; returns the verdicts and the method.
pub(crate) async fn check(
    sdk: &aws_config::SdkConfig,
    principal_arn: &str,
    checks: &[(&str, String)],
    audit: &mut AwsAudit,
) -> (Vec<PermissionCheck>, String) {
    let iam = aws_sdk_iam::Client::new(sdk);
    // The simulator knows everything the account's identity policies say (not SCPs).
    audit.calls.push("iam:SimulatePrincipalPolicy".into());
    let mut simulated = Vec::new();
    let mut simulation_ok = true;
    for (action, resource) in checks {
        let out = iam
            .simulate_principal_policy()
            .policy_source_arn(principal_arn)
            .action_names(*action)
            .resource_arns(resource.clone())
            .send()
            .await;
        match out {
            Ok(out) => {
                let verdict = out.evaluation_results().first().map(|r| r.eval_decision().as_str().to_string());
                let verdict = match verdict.as_deref() {
                    Some("allowed") => "allowed",
                    Some("explicitDeny") => "denied",
                    Some("implicitDeny") => "not-allowed",
                    _ => "unknown",
                };
                simulated.push(PermissionCheck::new(action, resource, verdict));
            }
            Err(_) => {
                simulation_ok = false;
                break;
            }
        }
    }
    if simulation_ok {
        return (simulated, "iam:SimulatePrincipalPolicy (identity policies; SCPs may still deny)".into());
    }
    let Some((is_role, name)) = principal(principal_arn) else {
        let unknown = checks.iter().map(|(a, r)| PermissionCheck::new(a, r, "unknown")).collect();
        return (unknown, format!("`{principal_arn}` is not a role or user ARN: not evaluated"));
    };
    let documents = read_policies(&iam, is_role, &name, audit).await;
    let verdicts = checks.iter().map(|(a, r)| PermissionCheck::new(a, r, evaluate(&documents, a, r))).collect();
    (
        verdicts,
        format!(
            "evaluated {} identity polic{} of {} (simulation not available; SCPs, permission boundaries and \
             resource policies not seen)",
            documents.len(),
            if documents.len() == 1 { "y" } else { "ies" },
            principal_arn
        ),
    )
}

async fn read_policies(iam: &aws_sdk_iam::Client, is_role: bool, name: &str, audit: &mut AwsAudit) -> Vec<Value> {
    let mut documents = Vec::new();
    // Attached managed policies: their default version.
    let attached: Vec<String> = if is_role {
        audit.calls.push("iam:ListAttachedRolePolicies".into());
        match iam.list_attached_role_policies().role_name(name).send().await {
            Ok(out) => out.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect(),
            Err(e) => {
                note(audit, classify("iam:ListAttachedRolePolicies", e));
                Vec::new()
            }
        }
    } else {
        audit.calls.push("iam:ListAttachedUserPolicies".into());
        match iam.list_attached_user_policies().user_name(name).send().await {
            Ok(out) => out.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect(),
            Err(e) => {
                note(audit, classify("iam:ListAttachedUserPolicies", e));
                Vec::new()
            }
        }
    };
    for arn in attached.iter().take(MAX_POLICIES) {
        audit.calls.push("iam:GetPolicy".into());
        let version = match iam.get_policy().policy_arn(arn).send().await {
            Ok(out) => out.policy().and_then(|p| p.default_version_id()).map(str::to_string),
            Err(e) => {
                note(audit, classify("iam:GetPolicy", e));
                None
            }
        };
        let Some(version) = version else { continue };
        audit.calls.push("iam:GetPolicyVersion".into());
        match iam.get_policy_version().policy_arn(arn).version_id(version).send().await {
            Ok(out) => {
                if let Some(doc) = out.policy_version().and_then(|v| v.document()).and_then(document) {
                    documents.push(doc);
                }
            }
            Err(e) => {
                note(audit, classify("iam:GetPolicyVersion", e));
            }
        }
    }
    // Inline policies.
    let inline: Result<Vec<String>, CallError> = if is_role {
        audit.calls.push("iam:ListRolePolicies".into());
        iam.list_role_policies()
            .role_name(name)
            .send()
            .await
            .map(|o| o.policy_names().to_vec())
            .map_err(|e| classify("iam:ListRolePolicies", e))
    } else {
        audit.calls.push("iam:ListUserPolicies".into());
        iam.list_user_policies()
            .user_name(name)
            .send()
            .await
            .map(|o| o.policy_names().to_vec())
            .map_err(|e| classify("iam:ListUserPolicies", e))
    };
    let inline = match inline {
        Ok(names) => names,
        Err(e) => {
            note(audit, e);
            Vec::new()
        }
    };
    for policy in inline.iter().take(MAX_POLICIES) {
        let text = if is_role {
            audit.calls.push("iam:GetRolePolicy".into());
            iam.get_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
                .map(|o| o.policy_document().to_string())
                .map_err(|e| classify("iam:GetRolePolicy", e))
        } else {
            audit.calls.push("iam:GetUserPolicy".into());
            iam.get_user_policy()
                .user_name(name)
                .policy_name(policy)
                .send()
                .await
                .map(|o| o.policy_document().to_string())
                .map_err(|e| classify("iam:GetUserPolicy", e))
        };
        match text {
            Ok(text) => documents.extend(document(&text)),
            Err(e) => {
                note(audit, e);
            }
        }
    }
    documents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("ec2:Describe*", "ec2:DescribeSubnets"));
        assert!(glob("ec2:*NetworkInterface*", "ec2:DeleteNetworkInterface"));
        assert!(glob("*", "lambda:InvokeFunction"));
        assert!(glob("lambda:?nvokeFunction", "LAMBDA:invokefunction"));
        assert!(!glob("ec2:Describe*", "ec2:CreateNetworkInterface"));
        assert!(glob("arn:aws:lambda:*:*:function:orders-*", "arn:aws:lambda:us-west-2:1:function:orders-consumer"));
    }

    #[test]
    fn allow_deny_not_action_and_conditions() {
        let docs: Vec<Value> = vec![serde_json::json!({"Statement": [
            {"Effect": "Allow", "Action": ["ec2:Describe*", "ec2:CreateNetworkInterface"], "Resource": "*"},
            {"Effect": "Deny", "Action": "ec2:DescribeVpcs", "Resource": "*"},
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:secretsmanager:*:*:secret:kafka-*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "data"}}},
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:lambda:*:*:function:orders"}
        ]})];
        assert_eq!(evaluate(&docs, "ec2:DescribeSubnets", "*"), "allowed");
        assert_eq!(evaluate(&docs, "ec2:DescribeVpcs", "*"), "denied");
        assert_eq!(evaluate(&docs, "ec2:DeleteNetworkInterface", "*"), "not-allowed");
        assert_eq!(
            evaluate(&docs, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-west-2:1:secret:kafka-x"),
            "conditional"
        );
        assert_eq!(evaluate(&docs, "lambda:InvokeFunction", "arn:aws:lambda:us-west-2:1:function:orders"), "allowed");
        assert_eq!(evaluate(&[], "lambda:GetFunction", "*"), "not-allowed");
        assert_eq!(percent_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(principal("arn:aws:iam::123456789012:role/service-role/fn-role"), Some((true, "fn-role".into())));
        assert_eq!(principal("arn:aws:iam::123456789012:user/confluent"), Some((false, "confluent".into())));
        assert_eq!(principal("arn:aws:sts::1:assumed-role/x/y"), None);
    }
}

//! Whether a principal may make a call: `iam:SimulatePrincipalPolicy` where it answers, otherwise
//! the principal's attached and inline policies read and evaluated here (identity policies only:
//! SCPs, permission boundaries, session and resource policies are not seen, and the report says so).
//!
//! No maintained Rust crate evaluates IAM policies; this evaluator covers what the checks need:
//! `Allow`/`Deny`, `Action`/`NotAction`, `Resource`/`NotResource`, `*` and `?` wildcards, and a
//! statement with a `Condition` counted as "conditional" rather than guessed.

use kreach::report::AwsAudit;
use kreach::report::{PermissionCheck, PermissionVerdict};
use serde_json::Value;

use crate::{AwsError, classify, note};

/// Most policy documents read for one principal.
const MAX_POLICIES: usize = 32;
/// Largest policy document parsed (IAM's own limit for a managed policy is 6,144 characters).
const MAX_POLICY_BYTES: usize = 64 * 1024;

/// One character of a policy pattern: `*` and `?` are wildcards unless they came from the
/// `${*}` / `${?}` escapes, which stand for the characters themselves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pat {
    Lit(char),
    Star,
    Quest,
}

/// What the policy variables of a statement resolve to for the principal being judged.
#[derive(Clone, Debug, Default)]
pub(crate) struct Context {
    /// `${aws:username}`: an IAM user's name (a role has none).
    pub username: Option<String>,
    /// `${aws:PrincipalAccount}`: the principal's account.
    pub account: Option<String>,
}

/// A pattern with its policy variables substituted; `None` when a variable has no value for this
/// principal (IAM then cannot match the element as written: the verdict becomes "conditional").
fn pattern(text: &str, ctx: &Context) -> Option<Vec<Pat>> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.extend(rest[..start].chars().map(wild));
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        match name {
            "*" => out.push(Pat::Lit('*')),
            "?" => out.push(Pat::Lit('?')),
            "$" => out.push(Pat::Lit('$')),
            _ => {
                // Variable names are case-insensitive; a default (`${aws:username, 'x'}`) is taken
                // when the variable has no value.
                let (key, default) = match name.split_once(',') {
                    Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\'').to_string())),
                    None => (name.trim(), None),
                };
                let value = match key.to_ascii_lowercase().as_str() {
                    "aws:username" => ctx.username.clone(),
                    "aws:principalaccount" => ctx.account.clone(),
                    _ => None,
                };
                out.extend(value.or(default)?.chars().map(Pat::Lit));
            }
        }
        rest = &after[end + 1..];
    }
    out.extend(rest.chars().map(wild));
    Some(out)
}

fn wild(c: char) -> Pat {
    match c {
        '*' => Pat::Star,
        '?' => Pat::Quest,
        c => Pat::Lit(c),
    }
}

/// `?`/`*` glob match of a substituted pattern; `fold` compares case-insensitively.
fn glob_pat(p: &[Pat], text: &str, fold: bool) -> bool {
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| if fold { a.eq_ignore_ascii_case(&b) } else { a == b };
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        match p.get(pi) {
            Some(Pat::Quest) => {
                pi += 1;
                ti += 1;
            }
            Some(Pat::Lit(c)) if eq(*c, t[ti]) => {
                pi += 1;
                ti += 1;
            }
            Some(Pat::Star) => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == Pat::Star)
}

/// `?`/`*` glob match, case-insensitive: how IAM compares actions (`ec2:Describe*`).
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    glob_pat(&pattern.chars().map(wild).collect::<Vec<_>>(), text, true)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// Whether a statement's element matches: surely, surely not, or not knowable here.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Match {
    Yes,
    No,
    Maybe,
}

/// Resource patterns against an ARN: case-sensitive, as AWS compares ARNs, with policy variables.
fn resource_match(patterns: &[String], resource: &str, ctx: &Context) -> Match {
    let mut maybe = false;
    for p in patterns {
        match pattern(p, ctx) {
            Some(p) if glob_pat(&p, resource, false) => return Match::Yes,
            Some(_) => {}
            None => maybe = true,
        }
    }
    if maybe { Match::Maybe } else { Match::No }
}

/// The verdict of `documents` on `action` over `resource`: `allowed`, `denied`, `not-allowed`, `conditional`.
#[cfg(test)]
pub(crate) fn evaluate(documents: &[Value], action: &str, resource: &str) -> PermissionVerdict {
    evaluate_for(documents, action, resource, &Context::default())
}

/// The verdict for the principal `ctx` describes, as IAM's evaluation logic reaches it for
/// identity policies: an explicit Deny wins; a Deny that may apply (a `Condition`, a variable
/// without a value here) keeps an Allow from being certain ("conditional"); else an Allow allows.
pub(crate) fn evaluate_for(documents: &[Value], action: &str, resource: &str, ctx: &Context) -> PermissionVerdict {
    let (mut allowed, mut allow_maybe, mut deny_maybe) = (false, false, false);
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
            if !matches_action {
                continue;
            }
            let matches_resource = match (st.get("Resource"), st.get("NotResource")) {
                (Some(r), _) => resource_match(&strings(Some(r)), resource, ctx),
                (None, Some(n)) => match resource_match(&strings(Some(n)), resource, ctx) {
                    Match::Yes => Match::No,
                    Match::No => Match::Yes,
                    Match::Maybe => Match::Maybe,
                },
                (None, None) => Match::No,
            };
            if matches_resource == Match::No {
                continue;
            }
            let has_condition = st.get("Condition").is_some_and(|c| c.as_object().is_some_and(|o| !o.is_empty()));
            let certain = !has_condition && matches_resource == Match::Yes;
            match st.get("Effect").and_then(|e| e.as_str()) {
                Some("Deny") if certain => return PermissionVerdict::Denied,
                Some("Deny") => deny_maybe = true,
                Some("Allow") if certain => allowed = true,
                Some("Allow") => allow_maybe = true,
                _ => {}
            }
        }
    }
    if allowed && !deny_maybe {
        PermissionVerdict::Allowed
    } else if allowed || allow_maybe {
        PermissionVerdict::Conditional
    } else {
        PermissionVerdict::NotAllowed
    }
}

/// The key ARN `kms:Decrypt` is judged on, from a secret's `KmsKeyId` (a key id, a key ARN, an
/// alias name or an alias ARN) and the secret's ARN; `None` for an alias (its key is not known
/// without reading KMS, and IAM judges the key, not the alias).
pub(crate) fn kms_key_arn(key: &str, secret_arn: Option<&str>) -> Option<String> {
    if key.starts_with("arn:") {
        return (!key.contains(":alias/")).then(|| key.to_string());
    }
    if key.starts_with("alias/") {
        return None;
    }
    // arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME
    let parts: Vec<&str> = secret_arn?.splitn(7, ':').collect();
    let [_, partition, _, region, account, ..] = parts.as_slice() else { return None };
    Some(format!("arn:{partition}:kms:{region}:{account}:key/{key}"))
}

/// A policy document as IAM returns it: URL-encoded JSON.
pub(crate) fn document(text: &str) -> Option<Value> {
    if text.len() > MAX_POLICY_BYTES {
        return None;
    }
    let decoded = percent_decode(text);
    serde_json::from_str(&decoded).ok()
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
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
        if resource.is_empty() {
            simulated.push(PermissionCheck::new(action, resource, PermissionVerdict::Unknown));
            continue;
        }
        let out = iam
            .simulate_principal_policy()
            .policy_source_arn(principal_arn)
            .action_names(*action)
            .resource_arns(resource.clone())
            .send()
            .await;
        match out {
            Ok(out) => {
                use aws_sdk_iam::types::PolicyEvaluationDecisionType as Decision;
                let verdict = match out.evaluation_results().first().map(|r| r.eval_decision()) {
                    Some(Decision::Allowed) => PermissionVerdict::Allowed,
                    Some(Decision::ExplicitDeny) => PermissionVerdict::Denied,
                    Some(Decision::ImplicitDeny) => PermissionVerdict::NotAllowed,
                    _ => PermissionVerdict::Unknown,
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
        let unknown = checks.iter().map(|(a, r)| PermissionCheck::new(a, r, PermissionVerdict::Unknown)).collect();
        return (unknown, format!("`{principal_arn}` is not a role or user ARN: not evaluated"));
    };
    let documents = read_policies(&iam, is_role, &name, audit).await;
    let ctx = Context {
        username: (!is_role).then(|| name.clone()),
        account: principal_arn.split(':').nth(4).filter(|a| !a.is_empty()).map(str::to_string),
    };
    let verdicts = checks
        .iter()
        .map(|(a, r)| {
            // A check whose resource could not be told (a key behind an alias) is not guessed.
            let verdict = if r.is_empty() { PermissionVerdict::Unknown } else { evaluate_for(&documents, a, r, &ctx) };
            PermissionCheck::new(a, r, verdict)
        })
        .collect();
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
    let inline: Result<Vec<String>, AwsError> = if is_role {
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
    use serde_json::json;

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("ec2:Describe*", "ec2:DescribeSubnets"));
        assert!(glob("ec2:*NetworkInterface*", "ec2:DeleteNetworkInterface"));
        assert!(glob("*", "lambda:InvokeFunction"));
        assert!(glob("lambda:?nvokeFunction", "LAMBDA:invokefunction"));
        assert!(!glob("ec2:Describe*", "ec2:CreateNetworkInterface"));
        assert!(glob("arn:aws:lambda:*:*:function:orders-*", "arn:aws:lambda:us-west-2:1:function:orders-consumer"));
    }

    /// The rules of IAM's policy evaluation logic (AWS IAM User Guide, "Policy evaluation logic",
    /// "IAM JSON policy elements: Resource", "IAM policy elements: Variables and tags"), one each.
    #[test]
    fn evaluation_follows_the_iam_documentation() {
        let ctx = Context { username: Some("alice".into()), account: Some("123456789012".into()) };
        let eval = |st: Value, action: &str, resource: &str| {
            evaluate_for(&[json!({"Statement": st})], action, resource, &ctx).as_label()
        };
        // Resource ARNs are case-sensitive: `secret:Kafka-*` does not match `secret:kafka-x`.
        let st = json!([{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                         "Resource": "arn:aws:secretsmanager:us-west-2:1:secret:Kafka-*"}]);
        assert_eq!(
            eval(st.clone(), "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-west-2:1:secret:kafka-x"),
            "not-allowed"
        );
        assert_eq!(
            eval(st, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-west-2:1:secret:Kafka-x"),
            "allowed"
        );
        // Actions are not: `SecretsManager:getsecretvalue` is the same action.
        let st = json!([{"Effect": "Allow", "Action": "SecretsManager:getsecretvalue", "Resource": "*"}]);
        assert_eq!(eval(st, "secretsmanager:GetSecretValue", "arn:x"), "allowed");
        // A Deny with a Condition may apply: an Allow is then never certain.
        let st = json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
                        {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*",
                         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]);
        assert_eq!(eval(st, "kms:Decrypt", "arn:aws:kms:us-west-2:1:key/k"), "conditional");
        // A Deny without a Condition wins over any Allow, whatever the order.
        let st = json!([{"Effect": "Deny", "Action": "*", "Resource": "*"}, {"Effect": "Allow", "Action": "*", "Resource": "*"}]);
        assert_eq!(eval(st, "lambda:GetFunction", "arn:f"), "denied");
        // Policy variables are substituted for the principal; `${*}` is a literal star.
        let st = json!([{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                         "Resource": "arn:aws:secretsmanager:*:${aws:PrincipalAccount}:secret:${aws:username}/*"}]);
        assert_eq!(
            eval(
                st.clone(),
                "secretsmanager:GetSecretValue",
                "arn:aws:secretsmanager:us-west-2:123456789012:secret:alice/k"
            ),
            "allowed"
        );
        assert_eq!(
            eval(
                st.clone(),
                "secretsmanager:GetSecretValue",
                "arn:aws:secretsmanager:us-west-2:123456789012:secret:bob/k"
            ),
            "not-allowed"
        );
        let role = Context { username: None, account: Some("123456789012".into()) };
        let doc = [json!({"Statement": st})];
        assert_eq!(
            evaluate_for(
                &doc,
                "secretsmanager:GetSecretValue",
                "arn:aws:secretsmanager:us-west-2:123456789012:secret:alice/k",
                &role
            ),
            PermissionVerdict::Conditional,
            "a role has no aws:username: the statement cannot be judged here"
        );
        let st = json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${*}"}]);
        assert_eq!(eval(st.clone(), "s3:GetObject", "arn:aws:s3:::b/*"), "allowed");
        assert_eq!(eval(st, "s3:GetObject", "arn:aws:s3:::b/x"), "not-allowed");
        // NotResource: everything but the listed ARNs.
        let st = json!([{"Effect": "Allow", "Action": "kms:Decrypt", "NotResource": "arn:aws:kms:us-west-2:1:key/secret-key"}]);
        assert_eq!(eval(st.clone(), "kms:Decrypt", "arn:aws:kms:us-west-2:1:key/other"), "allowed");
        assert_eq!(eval(st, "kms:Decrypt", "arn:aws:kms:us-west-2:1:key/secret-key"), "not-allowed");
        // A bare KMS key id is judged as the key's ARN, in the secret's region and account.
        let secret = "arn:aws:secretsmanager:us-west-2:123456789012:secret:kafka-AbCdEf";
        assert_eq!(
            kms_key_arn("1234abcd-12ab-34cd-56ef-1234567890ab", Some(secret)).as_deref(),
            Some("arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        );
        assert_eq!(
            kms_key_arn("arn:aws:kms:us-west-2:1:key/k", Some(secret)).as_deref(),
            Some("arn:aws:kms:us-west-2:1:key/k")
        );
        assert_eq!(kms_key_arn("alias/kafka", Some(secret)), None);
        assert_eq!(kms_key_arn("arn:aws:kms:us-west-2:1:alias/kafka", Some(secret)), None);
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
        assert_eq!(evaluate(&docs, "ec2:DescribeSubnets", "*").as_label(), "allowed");
        assert_eq!(evaluate(&docs, "ec2:DescribeVpcs", "*").as_label(), "denied");
        assert_eq!(evaluate(&docs, "ec2:DeleteNetworkInterface", "*").as_label(), "not-allowed");
        assert_eq!(
            evaluate(&docs, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-west-2:1:secret:kafka-x")
                .as_label(),
            "conditional"
        );
        assert_eq!(
            evaluate(&docs, "lambda:InvokeFunction", "arn:aws:lambda:us-west-2:1:function:orders").as_label(),
            "allowed"
        );
        assert_eq!(evaluate(&[], "lambda:GetFunction", "*").as_label(), "not-allowed");
        assert_eq!(percent_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(principal("arn:aws:iam::123456789012:role/service-role/fn-role"), Some((true, "fn-role".into())));
        assert_eq!(principal("arn:aws:iam::123456789012:user/confluent"), Some((false, "confluent".into())));
        assert_eq!(principal("arn:aws:sts::1:assumed-role/x/y"), None);
    }
}

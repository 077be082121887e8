//! Findings about where the probe runs and how it got its credentials.

use super::finding;
use crate::report::findings::FindingCode;
use crate::report::{
    AnswerClass, DnsOutcome, Finding, SecretLookup, SecretOutcome, Stage, StageStatus, TargetReport, Vantage,
    VantageKind,
};

/// A Lambda function outside any VPC (read from its configuration, or inferred from public DNS
/// answers when that could not be read); a machine outside AWS that cannot see private names.
pub(super) fn vantage_findings(t: &TargetReport, v: &Vantage, out: &mut Vec<Finding>) {
    let public = t.dns.as_ref().is_some_and(|d| {
        d.lookup.outcome == DnsOutcome::Answer && d.answer_class == Some(AnswerClass::Public)
            || matches!(d.lookup.outcome, DnsOutcome::Nxdomain)
    });
    if v.kind == VantageKind::Other && public {
        out.push(finding(
            FindingCode::EnvOutsideAws,
            t,
            Stage::Dns,
            format!(
                "this machine is neither an EC2 instance nor a Lambda function ({}), and {} resolves publicly or not at all",
                v.note.as_deref().unwrap_or("no instance metadata"),
                t.host
            ),
            "Private hosted zone names resolve only inside the VPC: run kreach on an instance or a Lambda function in \
             the VPC, or forward the domain to a Route 53 Resolver inbound endpoint from here (VPN, Direct Connect)."
                .into(),
            Vec::new(),
        ));
    }
    if v.kind != VantageKind::Lambda {
        return;
    }
    let function = v.facts.function_name.clone().unwrap_or_default();
    let failed = t.stages.iter().any(|s| s.status == StageStatus::Fail);
    let summary = match v.vpc_attached {
        // Its configuration says it is in a VPC: whatever fails, this is not why.
        Some(true) => return,
        Some(false) if public || failed => format!(
            "this runs in Lambda function {function}, which is not attached to any VPC (its configuration has no \
             VpcConfig), so it cannot use the VPC's private DNS or its endpoint{}",
            if public { format!("; {} resolves through public DNS", t.host) } else { String::new() }
        ),
        None if public => format!(
            "this runs in Lambda function {function} and {} resolves through public DNS: the function is most likely \
             not attached to the VPC{}",
            t.host,
            v.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
        ),
        _ => return,
    };
    out.push(finding(
        FindingCode::EnvLambdaNotInVpc,
        t,
        Stage::Dns,
        summary,
        format!(
            "Attach {function} to the VPC's private subnets (one per AZ) with a security group allowing outbound 443 and \
             9092: aws lambda update-function-configuration --function-name {function} --vpc-config \
             SubnetIds=<subnet-a>,<subnet-b>,SecurityGroupIds=<sg>. A function outside the VPC uses public DNS and \
             never sees the private hosted zone."
        ),
        Vec::new(),
    ));
}

/// The named secret could not give the SASL credentials.
pub(super) fn secret_findings(
    t: &TargetReport,
    secret: &SecretLookup,
    vantage: Option<&Vantage>,
    out: &mut Vec<Finding>,
) {
    let id = &secret.secret_id;
    let detail = secret.detail.as_deref().unwrap_or("");
    let (role, policy) = match vantage.filter(|v| v.kind == VantageKind::Lambda) {
        Some(v) => (
            format!("function {}'s execution role", v.facts.function_name.as_deref().unwrap_or("")),
            " (docs/iam-policy-lambda.json)",
        ),
        None => ("the AWS principal kreach runs as".to_string(), ""),
    };
    let fix = match secret.outcome {
        SecretOutcome::Read => return,
        SecretOutcome::Denied => format!(
            "Allow {role} {{\"Effect\": \"Allow\", \"Action\": \"secretsmanager:GetSecretValue\", \"Resource\": \"<ARN of {id}>\"}}, \
             and kms:Decrypt on the secret's key when it is a customer-managed KMS key{policy}."
        ),
        SecretOutcome::NotFound => {
            format!("Check the name or ARN {id} and the region: aws secretsmanager describe-secret --secret-id {id}")
        }
        SecretOutcome::Unreachable => {
            "The Secrets Manager API is not reachable from here: a function in private subnets \
             needs an interface VPC endpoint for com.amazonaws.<region>.secretsmanager (private DNS on) or a route \
             through a NAT gateway; its security group must allow outbound 443 to it."
                .to_string()
        }
        SecretOutcome::Malformed => format!(
            "Store the credentials in {id} as a JSON object with the API key and secret: \
             {{\"username\": \"<API key>\", \"password\": \"<API secret>\"}} (api_key/api_secret also work)."
        ),
        SecretOutcome::Error => {
            format!("Read the error and check the secret: aws secretsmanager describe-secret --secret-id {id}")
        }
    };
    out.push(finding(
        FindingCode::CredentialsSecretUnreadable,
        t,
        Stage::Kafka,
        format!(
            "the SASL credentials could not be read from secret {id} ({}, {} ms): {detail}; the Kafka stage ran without them",
            secret.outcome.as_words(),
            secret.elapsed_ms
        ),
        fix,
        Vec::new(),
    ));
}

//! Findings on how the client authenticates beyond the Kafka exchange: the OAuth token fetch
//! (OIDC client credentials) as a hop of its own.

use super::{Diag, finding};
use crate::report::findings::FindingCode;
use crate::report::{
    Cause, EndpointKind, Finding, FixAction, Hop, Report, Role, Stage, TlsOutcome, TokenFetch, TokenOutcome,
    TokenRefusal, TokenStep,
};

/// The token fetch's findings, on the token endpoint's row (it explains that row's failures too).
pub(super) fn oauth_findings(report: &Report, out: &mut Vec<Finding>) {
    let Some(fetch) = &report.oauth else { return };
    let row =
        report.targets.iter().find(|t| t.endpoint.as_ref().is_some_and(|e| e.kind == EndpointKind::TokenEndpoint));
    let Some(anchor) = row.or_else(|| report.targets.iter().find(|t| t.role == Role::Bootstrap)) else { return };
    let f = match fetch.outcome {
        TokenOutcome::Ok => return,
        TokenOutcome::NoCredentials => {
            let signing = fetch.aws_signing.clone().unwrap_or_default();
            iam_signing_failed(&anchor.target, &signing, "STS was not asked for a token, so no client here gets one")
                .on(anchor, Stage::Https)
        }
        TokenOutcome::Refused => refused(anchor, fetch),
        TokenOutcome::BadAnswer => {
            let mut f = finding(
                FindingCode::OauthTokenUnusable,
                anchor,
                Stage::Https,
                format!(
                    "{} answered{} without a usable token: {}",
                    fetch.endpoint,
                    fetch.http_status.map(|s| format!(" HTTP {s}")).unwrap_or_default(),
                    fetch.detail.as_deref().unwrap_or("")
                ),
                "Check sasl.oauthbearer.token.endpoint.url: it must be the provider's token endpoint (the \
                 `token_endpoint` of its /.well-known/openid-configuration), which answers a client-credentials \
                 POST with JSON holding an access_token."
                    .into(),
                Vec::new(),
            );
            f.action = Some(FixAction::SetProperty {
                key: "sasl.oauthbearer.token.endpoint.url".into(),
                value: "<the provider's token_endpoint>".into(),
            });
            f
        }
        TokenOutcome::Withheld => finding(
            FindingCode::KafkaCredentialsWithheld,
            anchor,
            Stage::Https,
            format!("{}: the client secret was not sent: {}", fetch.endpoint, fetch.detail.as_deref().unwrap_or("")),
            "Use an https:// token endpoint with certificate verification on (--ca-file for a private CA). To send \
             the secret anyway, pass --allow-insecure-credentials."
                .into(),
            Vec::new(),
        ),
        _ => unreachable_finding(anchor, fetch),
    };
    let mut f = f;
    if let Some(row) = row {
        if f.target != row.target {
            f.explains.push(row.target.clone());
        }
    }
    out.push(f);
}

/// The provider refused: which part of the client's configuration it names.
fn refused(anchor: &crate::report::TargetReport, fetch: &TokenFetch) -> Finding {
    let refusal = fetch.refusal.unwrap_or(TokenRefusal::Other);
    let (what, fix, action) = match refusal {
        TokenRefusal::InvalidClient => (
            "the client id or secret",
            "Check sasl.oauthbearer.client.id and sasl.oauthbearer.client.secret (clientId/clientSecret in the JAAS \
             line): the provider does not accept them (a wrong or rotated secret, a disabled client, another \
             tenant's client).",
            FixAction::SetCredentials,
        ),
        TokenRefusal::InvalidScope => (
            "the scope",
            "Set sasl.oauthbearer.scope to a scope this client may ask for (or none, where the provider gives a \
             default): the provider refuses the one configured.",
            FixAction::SetProperty {
                key: "sasl.oauthbearer.scope".into(),
                value: "<a scope the client may have>".into(),
            },
        ),
        TokenRefusal::UnauthorizedClient => (
            "the grant",
            "The client may not use the client-credentials grant: allow it for this client (an application, not a \
             user) at the provider.",
            FixAction::SetCredentials,
        ),
        TokenRefusal::NotFound | TokenRefusal::InvalidRequest => (
            "the request",
            "Check sasl.oauthbearer.token.endpoint.url (the tenant, the path: the `token_endpoint` of the \
             provider's /.well-known/openid-configuration) and that the provider takes the client-credentials grant \
             there.",
            FixAction::SetProperty {
                key: "sasl.oauthbearer.token.endpoint.url".into(),
                value: "<the provider's token_endpoint>".into(),
            },
        ),
        TokenRefusal::AccessDenied => (
            "the token request",
            "The principal behind this client's AWS credentials may not mint the token: allow sts:GetWebIdentityToken \
             in its identity policy, with the condition sts:IdentityTokenAudience equal to the audience in \
             sasl.oauthbearer.config (aws sts get-caller-identity shows the principal).",
            FixAction::SetCredentials,
        ),
        TokenRefusal::FederationDisabled => (
            "the token request",
            "The AWS account has not turned on outbound identity federation: aws iam \
             enable-outbound-web-identity-federation (once per account), then register the issuer it prints with the \
             cluster's identity provider and identity pool.",
            FixAction::SetCredentials,
        ),
        TokenRefusal::InvalidCredentials => (
            "the AWS credentials",
            "STS refused the credentials the request was signed with (expired, deleted, or from another \
             partition): renew them or use the role the machine or function runs as.",
            FixAction::SetCredentials,
        ),
        _ => (
            "the request",
            "The provider refused the token request: its answer above says why.",
            FixAction::SetCredentials,
        ),
    };
    let mut f = finding(
        FindingCode::OauthTokenRefused,
        anchor,
        Stage::Https,
        format!(
            "{} refused {what} of client {}: HTTP {}{}",
            fetch.endpoint,
            fetch.client_id,
            fetch.http_status.map_or("?".to_string(), |s| s.to_string()),
            fetch.provider_says.as_deref().map(|s| format!(" ({s})")).unwrap_or_default()
        ),
        fix.into(),
        fetch.address.iter().cloned().collect(),
    );
    f.action = Some(action);
    f
}

/// No answer from the token endpoint: the hop where it stopped, and what opens it.
fn unreachable_finding(anchor: &crate::report::TargetReport, fetch: &TokenFetch) -> Finding {
    let host = fetch.endpoint.split("://").nth(1).and_then(|r| r.split(['/', ':']).next()).unwrap_or("").to_string();
    let where_ = if fetch.private == Some(false) { " (it resolves to public addresses)" } else { "" };
    let (hop, cause, fix, action) = match (fetch.step, fetch.tls) {
        (TokenStep::Dns, _) => (
            Hop::Resolver,
            Cause::NotFound,
            format!(
                "`{host}` must resolve where the client runs: the VPC resolver must reach public DNS for it (no DNS \
                 Firewall rule or forwarding rule diverting it)."
            ),
            FixAction::ReachPublicDns { name: host.clone() },
        ),
        (TokenStep::Tls, Some(TlsOutcome::UnknownIssuer)) => (
            Hop::Trust,
            Cause::UntrustedIssuer,
            "The token endpoint's certificate does not lead to a CA this machine trusts: give the provider's CA \
             (--ca-file; clients: https.ca.location for librdkafka's token request, ssl.ca.location for the broker), \
             or find the TLS-inspecting proxy in between."
                .to_string(),
            FixAction::TrustCa { issuer: fetch.tls_issuer.clone().unwrap_or_default() },
        ),
        (TokenStep::Tls, _) => (
            Hop::Certificate,
            Cause::HandshakeFailed,
            "The TLS handshake with the token endpoint failed: check the URL's host (the certificate must cover \
             it) and whatever sits in between."
                .to_string(),
            FixAction::ReachPublicDns { name: host.clone() },
        ),
        (TokenStep::Http, _) => (
            Hop::Listener,
            Cause::NoAnswer,
            "The token endpoint accepted the connection but did not answer the token request: check the URL and \
             any proxy in between."
                .to_string(),
            FixAction::SetProperty {
                key: "sasl.oauthbearer.token.endpoint.url".into(),
                value: "<the provider's token_endpoint>".into(),
            },
        ),
        _ if fetch.source == crate::report::TokenSource::AwsSts => (
            Hop::Network,
            Cause::Dropped,
            format!(
                "AWS IAM OAuth gets its token from STS at {host}: from a private subnet that needs a regional STS \
                 interface endpoint (com.amazonaws.<region>.sts) with private DNS and a security group letting TCP \
                 443 in from this client, or a route to a NAT gateway; security groups and network ACLs must let \
                 TCP 443 out to it{where_}."
            ),
            FixAction::AllowPort { port: 443, az_id: None },
        ),
        _ => (
            Hop::Network,
            Cause::Dropped,
            format!(
                "The identity provider is usually on the internet: from this subnet it needs a route to a NAT \
                 gateway (0.0.0.0/0 → nat-…) or an HTTPS proxy, and security groups and network ACLs letting TCP \
                 443 out to {host}{where_}. Every OAuth client in this subnet fails the same way: no token, no \
                 connection."
            ),
            FixAction::AllowPort { port: 443, az_id: None },
        ),
    };
    let mut f = finding(
        FindingCode::OauthTokenEndpointUnreachable,
        anchor,
        match fetch.step {
            TokenStep::Dns => Stage::Dns,
            TokenStep::Tcp => Stage::Tcp,
            TokenStep::Tls => Stage::Tls,
            _ => Stage::Https,
        },
        format!(
            "no OAuth token from {} for client {}: {}",
            fetch.endpoint,
            fetch.client_id,
            fetch.detail.as_deref().unwrap_or("no answer")
        ),
        fix,
        fetch.address.iter().cloned().collect(),
    );
    f.hop = hop;
    f.cause = cause;
    f.action = Some(action);
    f
}

/// Nothing could be signed with the client's AWS credentials (AWS_MSK_IAM's payload, the STS
/// request of AWS IAM OAuth); `then`: what kreach did instead.
pub(crate) fn iam_signing_failed(target: &str, s: &crate::report::IamSigning, then: &str) -> Diag {
    use crate::report::IamSigningOutcome as O;
    let what = match s.outcome {
        O::NoCredentials => {
            "no AWS credentials were found (environment, shared profile, SSO, web identity, container \
                             or instance role)"
        }
        O::CredentialsExpired => "the AWS credentials found have expired",
        O::CredentialsUnreachable => "the AWS credentials' source did not answer in time",
        O::NoRegion => "no region to sign for: the broker's name carries none and none is configured",
        O::Signed | O::Failed => "the AWS credentials could not be loaded",
    };
    let detail = s.detail.as_deref().map(|d| format!(": {}", crate::text::clean(d))).unwrap_or_default();
    let fix = match s.outcome {
        O::NoCredentials => {
            "Give this client an AWS identity allowed kafka-cluster:Connect on the cluster: an instance \
             profile (EC2), the function's execution role (Lambda), or AWS_PROFILE / AWS_ACCESS_KEY_ID in the \
             environment."
        }
        O::CredentialsExpired => "Renew them (aws sso login, a new session) or use a role the SDK refreshes itself.",
        O::CredentialsUnreachable
            if s.role.is_some() && s.role_sts_region.as_deref() == Some(crate::input::GLOBAL_STS_REGION) =>
        {
            "The client assumes its role (awsRoleArn) at STS's global endpoint, sts.amazonaws.com: aws-msk-iam-auth's \
             default when the JAAS line sets no awsStsRegion. Requests through an STS interface endpoint must use the \
             matching regional endpoint (AWS IAM User Guide: Create a VPC endpoint for AWS STS), so from a private \
             subnet the global one needs a NAT gateway; or set awsStsRegion=<the region> on the JAAS line and give \
             the subnet a regional STS interface endpoint with private DNS (com.amazonaws.<region>.sts)."
        }
        O::CredentialsUnreachable => {
            "An assumed role or web identity gets its credentials from STS: from a private \
             subnet that needs a regional STS interface endpoint with private DNS (com.amazonaws.<region>.sts) or a \
             NAT gateway, and AWS_STS_REGIONAL_ENDPOINTS=regional; an instance role needs the instance metadata \
             service (its hop limit 2 inside containers)."
        }
        O::NoRegion => "Set AWS_REGION (or the profile's region) to the cluster's region.",
        O::Signed | O::Failed => {
            "Check the profile's configuration (aws configure list shows where credentials come \
             from)."
        }
    };
    Diag::new(
        FindingCode::AwsIamCredentialsUnavailable,
        format!(
            "{target}: nothing could be signed for {} with AWS credentials: {what}{detail}; {then}",
            crate::text::clean(&s.host)
        ),
        fix,
    )
}

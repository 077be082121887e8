//! Findings on how the client authenticates beyond the Kafka exchange: the OAuth token fetch
//! (OIDC client credentials) as a hop of its own.

use super::finding;
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
        _ => (
            "the request",
            "The provider refused the client-credentials request: its answer above says why.",
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

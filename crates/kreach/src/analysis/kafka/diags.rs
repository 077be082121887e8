//! The Kafka findings, one constructor each, from the group of addresses that showed it.

use super::Group;
use crate::analysis::Diag;
use crate::report::KafkaAttempt;
use crate::report::findings::FindingCode;
use crate::report::{FixAction, KafkaOutcome, Settings};

fn error(k: &KafkaAttempt) -> &str {
    k.error.as_deref().unwrap_or("")
}

pub(super) fn protocol_mismatch(target: &str, g: &Group<'_>, sasl: bool) -> Diag {
    let (listener, protocol, value) = if g.first.outcome == KafkaOutcome::TlsListener {
        let value = if sasl { "SASL_SSL" } else { "SSL" };
        (
            "speaks TLS (it answered plaintext with TLS, or closed it and completed a TLS handshake)",
            "SSL or SASL_SSL",
            value,
        )
    } else {
        let value = if sasl { "SASL_PLAINTEXT" } else { "PLAINTEXT" };
        (
            "is plaintext (the TLS handshake was closed unanswered, a plaintext ApiVersions was answered)",
            "PLAINTEXT or SASL_PLAINTEXT",
            value,
        )
    };
    Diag::new(
        FindingCode::KafkaProtocolMismatch,
        format!("{target}: the listener {listener} on {} of {} address(es)", g.count, g.total),
        format!("Set security.protocol to {protocol} (Confluent Cloud: SASL_SSL)."),
    )
    .with_addresses(g.addresses.clone())
    .action(FixAction::SetProperty { key: "security.protocol".into(), value: value.into() })
}

pub(super) fn not_kafka(target: &str, port: u16, g: &Group<'_>) -> Diag {
    Diag::new(
        FindingCode::KafkaNotKafka,
        format!(
            "{target}: the connection works but ApiVersions got no Kafka answer on {} of {} address(es): {}",
            g.count,
            g.total,
            error(g.first)
        ),
        "Something other than a Kafka listener answers here: check that the name resolves to the provider's \
         endpoint and that the port is the Kafka port (9092), not e.g. the REST port.",
    )
    .with_addresses(g.addresses.clone())
    .action(FixAction::ServeListener { port })
}

fn sasl_summary(target: &str, g: &Group<'_>) -> String {
    format!("{target}: {} on {} of {} address(es)", error(g.first), g.count, g.total)
}

pub(super) fn mechanism_unsupported(target: &str, g: &Group<'_>) -> Diag {
    let first = g.first;
    let mechanism = first.sasl_mechanism.as_deref().unwrap_or("?");
    let fix = if first.no_sasl {
        "This listener does not do SASL, so the port or the protocol is wrong: point the bootstrap at the \
         cluster's SASL_SSL listener (Confluent Cloud: port 9092), or, if this listener is meant to be used \
         without SASL, set security.protocol to SSL (or PLAINTEXT) to match it."
            .to_string()
    } else if first.broker_mechanisms.is_empty() {
        format!(
            "Set sasl.mechanism to one the broker enables (Confluent Cloud: PLAIN); the broker did not name its \
             mechanisms when asked for {mechanism}."
        )
    } else {
        format!("Set sasl.mechanism to one of {} (Confluent Cloud: PLAIN).", first.broker_mechanisms.join(", "))
    };
    let diag = Diag::new(FindingCode::KafkaSaslMechanismUnsupported, sasl_summary(target, g), fix)
        .with_addresses(g.addresses.clone());
    match first.broker_mechanisms.first() {
        Some(m) if !first.no_sasl => {
            diag.action(FixAction::SetProperty { key: "sasl.mechanism".into(), value: m.clone() })
        }
        _ => diag,
    }
}

pub(super) fn auth_failed(target: &str, g: &Group<'_>, settings: &Settings) -> Diag {
    let mechanism = g.first.sasl_mechanism.as_deref().unwrap_or("?");
    // AWS_MSK_IAM, or OAUTHBEARER carrying MSK's IAM token: the run signed it (its evidence).
    if mechanism == "AWS_MSK_IAM" || g.first.iam_signing.is_some() {
        let signed = g
            .first
            .iam_signing
            .as_ref()
            .map(|s| {
                format!(
                    " (signed for {} with credentials from {})",
                    if s.region.is_empty() { "?" } else { s.region.as_str() },
                    s.credentials_source.as_deref().unwrap_or("the default chain")
                )
            })
            .unwrap_or_default();
        return Diag::new(
            FindingCode::KafkaAuthFailed,
            sasl_summary(target, g),
            format!(
                "The cluster refused the IAM signature{signed}. The principal behind the credentials needs \
                 kafka-cluster:Connect on the cluster's ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>) \
                 in its identity policy (aws sts get-caller-identity shows which principal signed), the cluster needs \
                 IAM access control on (its port 9098, 14001-14100 over a VPC connection), and this machine's clock \
                 must be within minutes of AWS's (the signature carries the time)."
            ),
        )
        .with_addresses(g.addresses.clone())
        .action(FixAction::SetCredentials);
    }
    if mechanism == "OAUTHBEARER" {
        let sent = if settings.oauth_extensions.is_empty() {
            "no SASL extensions were sent (Confluent Cloud needs logicalCluster and identityPoolId)".to_string()
        } else {
            format!("the extensions sent were {}", settings.oauth_extensions.join(", "))
        };
        return Diag::new(
            FindingCode::KafkaAuthFailed,
            sasl_summary(target, g),
            format!(
                "The cluster refused the token the identity provider issued ({sent}). For Confluent Cloud: \
                 logicalCluster must be this cluster's id (lkc-…), identityPoolId an identity pool whose filter \
                 matches the token's claims (issuer, subject: the `oauth` section shows them), with a role binding \
                 for it; the identity provider must be registered in the organisation."
            ),
        )
        .with_addresses(g.addresses.clone())
        .action(FixAction::SetCredentials);
    }
    Diag::new(
        FindingCode::KafkaAuthFailed,
        sasl_summary(target, g),
        format!(
            "Check sasl.username/sasl.password ({mechanism}): for Confluent Cloud they are a Kafka API key and \
             secret of this cluster (not a Cloud API key), still active, for the cluster the bootstrap names."
        ),
    )
    .with_addresses(g.addresses.clone())
    .action(FixAction::SetCredentials)
}

pub(super) fn credentials_withheld(target: &str, k: &KafkaAttempt) -> Diag {
    Diag::new(
        FindingCode::KafkaCredentialsWithheld,
        format!(
            "{target}: the Kafka listener answered; the SASL password was not sent: {}",
            k.credentials_withheld.as_deref().unwrap_or("")
        ),
        "Use SASL_SSL with certificate verification on (--ca-file for a private CA). To send the credentials \
         anyway, knowing anyone on the path can read or impersonate them, pass --allow-insecure-credentials \
         (Lambda: KREACH_ALLOW_INSECURE_CREDENTIALS=true in the function's environment). A Lambda function \
         sends credentials only to the bootstrap hosts its KREACH_ALLOWED_BOOTSTRAP names.",
    )
}

pub(super) fn no_credentials(target: &str, k: &KafkaAttempt) -> Diag {
    Diag::new(
        FindingCode::KafkaNoCredentials,
        format!("{target}: the Kafka listener answered; {}", k.skipped.as_deref().unwrap_or("")),
        "Pass --config with sasl.username and sasl.password (or KREACH_SASL_USERNAME / KREACH_SASL_PASSWORD) \
         to check authentication and every broker.",
    )
}

pub(super) fn no_answer(target: &str, port: u16, g: &Group<'_>) -> Diag {
    Diag::new(
        FindingCode::KafkaNoAnswer,
        format!(
            "{target}: the connection works but ApiVersions got no answer on {} of {} address(es): {}",
            g.count,
            g.total,
            error(g.first)
        ),
        "Something accepts the connection but does not speak Kafka on it: check that the endpoint forwards \
         this port to the provider's Kafka listener (the Kafka port, 9092 for Confluent Cloud) and that the \
         service behind it is up.",
    )
    .with_addresses(g.addresses.clone())
    .action(FixAction::ServeListener { port })
}

pub(super) fn metadata_failed(target: &str, g: &Group<'_>) -> Diag {
    Diag::new(
        FindingCode::KafkaMetadataFailed,
        format!("{target}: {} on {} of {} address(es): {}", g.first.outcome.word(), g.count, g.total, error(g.first)),
        "The broker answered ApiVersions but not Metadata: without it no client learns the brokers. Check \
         authentication (SASL settings and credentials) and the broker's health.",
    )
    .with_addresses(g.addresses.clone())
}

/// A mechanism kreach does not speak: what was proven (the broker enables it) and what was not.
pub(super) fn auth_not_verified(target: &str, mechanism: &str, settings: &Settings) -> Diag {
    let (what, issuer) = match mechanism {
        "OAUTHBEARER" => (
            "the token, its issuer (the OIDC token endpoint, sasl.oauthbearer.token.endpoint.url) and whether this \
             VPC reaches that endpoint",
            "The token endpoint must be reachable from where the client runs (a private subnet needs a NAT gateway \
             or a route to the identity provider): check it with --target <token endpoint host>:443.",
        ),
        "GSSAPI" => (
            "the Kerberos ticket and whether this machine reaches the KDC",
            "The KDC must be reachable from where the client runs (TCP/UDP 88).",
        ),
        "AWS_MSK_IAM" | crate::probe::kafka::MSK_IAM_OAUTHBEARER => (
            "the IAM signature and the role's kafka-cluster permissions",
            "The client's role must allow kafka-cluster:Connect (and the topic and group actions) on the cluster; \
             kreach signs AWS_MSK_IAM itself when built with its AWS support (the default build), which this one \
             lacks.",
        ),
        _ => ("the credentials", ""),
    };
    let credentials = if settings.sasl_credentials { " (the credentials given were not sent)" } else { "" };
    Diag::new(
        FindingCode::KafkaAuthNotVerified,
        format!(
            "{target}: the broker enables {mechanism}, which kreach could not authenticate with here: {what} were \
             not verified, nor Metadata and the brokers{credentials}"
        ),
        format!(
            "Nothing here proves a client can authenticate. {issuer} The client-parity stage (librdkafka with the \
             same configuration; on unless --no-client-check) is what verifies the whole path from here."
        ),
    )
}

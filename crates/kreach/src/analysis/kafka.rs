//! Kafka findings on the bootstrap: listener, protocol, SASL, Metadata.

use super::finding;
use crate::report::findings::FindingCode;
use crate::report::{Finding, KafkaAttempt, KafkaOutcome, Stage, TargetReport};

pub(super) fn kafka_findings(t: &TargetReport, out: &mut Vec<Finding>) {
    let attempts: Vec<_> = t.addresses.iter().filter_map(|a| a.kafka.as_ref().map(|k| (a, k))).collect();
    let mismatch: Vec<_> = attempts
        .iter()
        .filter(|(_, k)| matches!(k.outcome, KafkaOutcome::TlsListener | KafkaOutcome::PlaintextListener))
        .collect();
    if let Some((_, first)) = mismatch.first() {
        let (listener, protocol) = if first.outcome == KafkaOutcome::TlsListener {
            (
                "speaks TLS (it answered plaintext with TLS, or closed it and completed a TLS handshake)",
                "SSL or SASL_SSL",
            )
        } else {
            (
                "is plaintext (the TLS handshake was closed unanswered, a plaintext ApiVersions was answered)",
                "PLAINTEXT or SASL_PLAINTEXT",
            )
        };
        out.push(finding(
            FindingCode::KafkaProtocolMismatch,
            t,
            Stage::Kafka,
            format!("{}: the listener {listener} on {} of {} address(es)", t.target, mismatch.len(), attempts.len()),
            format!("Set security.protocol to {protocol} (Confluent Cloud: SASL_SSL)."),
            mismatch.iter().map(|(a, _)| a.ip.clone()).collect(),
        ));
    }
    let not_kafka: Vec<_> =
        attempts.iter().filter(|(_, k)| matches!(k.outcome, KafkaOutcome::NotKafka | KafkaOutcome::Closed)).collect();
    if let Some((_, first)) = not_kafka.first() {
        out.push(finding(
            FindingCode::KafkaNotKafka,
            t,
            Stage::Kafka,
            format!(
                "{}: the connection works but ApiVersions got no Kafka answer on {} of {} address(es): {}",
                t.target,
                not_kafka.len(),
                attempts.len(),
                first.error.as_deref().unwrap_or("")
            ),
            "Something other than a Kafka listener answers here: check that the name resolves to the provider's \
             endpoint and that the port is the Kafka port (9092), not e.g. the REST port."
                .into(),
            not_kafka.iter().map(|(a, _)| a.ip.clone()).collect(),
        ));
    }
    let sasl_groups = [
        (KafkaOutcome::MechanismUnsupported, FindingCode::KafkaSaslMechanismUnsupported),
        (KafkaOutcome::AuthFailed, FindingCode::KafkaAuthFailed),
    ];
    for (outcome, code) in sasl_groups {
        let these: Vec<_> = attempts.iter().filter(|(_, k)| k.outcome == outcome).collect();
        let Some((_, first)) = these.first() else { continue };
        let mechanism = first.sasl_mechanism.as_deref().unwrap_or("?");
        let fix = if code == FindingCode::KafkaAuthFailed {
            format!(
                "Check sasl.username/sasl.password ({mechanism}): for Confluent Cloud they are a Kafka API key and \
                 secret of this cluster (not a Cloud API key), still active, for the cluster the bootstrap names."
            )
        } else if first.no_sasl {
            "This listener does not do SASL, so the port or the protocol is wrong: point the bootstrap at the \
             cluster's SASL_SSL listener (Confluent Cloud: port 9092), or, if this listener is meant to be used \
             without SASL, set security.protocol to SSL (or PLAINTEXT) to match it."
                .into()
        } else if first.broker_mechanisms.is_empty() {
            format!(
                "Set sasl.mechanism to one the broker enables (Confluent Cloud: PLAIN); the broker did not name its \
                 mechanisms when asked for {mechanism}."
            )
        } else {
            format!("Set sasl.mechanism to one of {} (Confluent Cloud: PLAIN).", first.broker_mechanisms.join(", "))
        };
        out.push(finding(
            code,
            t,
            Stage::Kafka,
            format!(
                "{}: {} on {} of {} address(es)",
                t.target,
                first.error.as_deref().unwrap_or(""),
                these.len(),
                attempts.len()
            ),
            fix,
            these.iter().map(|(a, _)| a.ip.clone()).collect(),
        ));
    }
    if let Some((_, first)) = attempts.iter().find(|(_, k)| k.credentials_withheld.is_some()) {
        out.push(finding(
            FindingCode::KafkaCredentialsWithheld,
            t,
            Stage::Kafka,
            format!(
                "{}: the Kafka listener answered; the SASL password was not sent: {}",
                t.target,
                first.credentials_withheld.as_deref().unwrap_or("")
            ),
            "Use SASL_SSL with certificate verification on (--ca-file for a private CA). To send the credentials \
             anyway, knowing anyone on the path can read or impersonate them, pass --allow-insecure-credentials \
             (Lambda: KREACH_ALLOW_INSECURE_CREDENTIALS=true in the function's environment). A Lambda function \
             sends credentials only to the bootstrap hosts its KREACH_ALLOWED_BOOTSTRAP names."
                .into(),
            Vec::new(),
        ));
    }
    if let Some((_, first)) = attempts.iter().find(|(_, k)| k.skipped.is_some() && k.credentials_withheld.is_none()) {
        out.push(finding(
            FindingCode::KafkaNoCredentials,
            t,
            Stage::Kafka,
            format!("{}: the Kafka listener answered; {}", t.target, first.skipped.as_deref().unwrap_or("")),
            "Pass --config with sasl.username and sasl.password (or KREACH_SASL_USERNAME / KREACH_SASL_PASSWORD) \
             to check authentication and every broker."
                .into(),
            Vec::new(),
        ));
    }
    let broken = |k: &KafkaAttempt| {
        matches!(k.outcome, KafkaOutcome::MetadataFailed | KafkaOutcome::Timeout | KafkaOutcome::Failed)
    };
    // Nothing answered ApiVersions: not a Metadata problem, nobody speaks Kafka on the connection.
    let silent: Vec<_> = attempts.iter().filter(|(_, k)| broken(k) && k.api_versions_ms.is_none()).collect();
    if let Some((_, first)) = silent.first() {
        out.push(finding(
            FindingCode::KafkaNoAnswer,
            t,
            Stage::Kafka,
            format!(
                "{}: the connection works but ApiVersions got no answer on {} of {} address(es): {}",
                t.target,
                silent.len(),
                attempts.len(),
                first.error.as_deref().unwrap_or("")
            ),
            "Something accepts the connection but does not speak Kafka on it: check that the endpoint forwards \
             this port to the provider's Kafka listener (the Kafka port, 9092 for Confluent Cloud) and that the \
             service behind it is up."
                .into(),
            silent.iter().map(|(a, _)| a.ip.clone()).collect(),
        ));
    }
    let failed: Vec<_> = attempts.iter().filter(|(_, k)| broken(k) && k.api_versions_ms.is_some()).collect();
    if let Some((_, first)) = failed.first() {
        out.push(finding(
            FindingCode::KafkaMetadataFailed,
            t,
            Stage::Kafka,
            format!(
                "{}: {} on {} of {} address(es): {}",
                t.target,
                first.outcome.word(),
                failed.len(),
                attempts.len(),
                first.error.as_deref().unwrap_or("")
            ),
            "The broker answered ApiVersions but not Metadata: without it no client learns the brokers. Check \
             authentication (SASL settings and credentials) and the broker's health."
                .into(),
            failed.iter().map(|(a, _)| a.ip.clone()).collect(),
        ));
    }
}

//! Kafka findings on the bootstrap: listener, protocol, SASL, Metadata. The addresses are grouped
//! by what their Kafka attempt showed; each group's finding is a constructor in `diags`.

mod diags;

use crate::report::{AddressReport, Finding, KafkaAttempt, KafkaOutcome, Settings, Stage, TargetReport};

/// The addresses whose attempts showed the same thing, with the first attempt as the evidence.
pub(super) struct Group<'a> {
    pub(super) first: &'a KafkaAttempt,
    /// How many addresses showed it, of how many tried.
    pub(super) count: usize,
    pub(super) total: usize,
    pub(super) addresses: Vec<String>,
}

pub(super) fn kafka_findings(t: &TargetReport, settings: &Settings, out: &mut Vec<Finding>) {
    // A client certificate the server refused after the handshake is its own finding, not "not Kafka".
    let attempts: Vec<(&AddressReport, &KafkaAttempt)> = t
        .addresses
        .iter()
        .filter(|a| crate::analysis::tls::client_cert_alert(a).is_none())
        .filter_map(|a| a.kafka.as_ref().map(|k| (a, k)))
        .collect();
    let group = |pick: &dyn Fn(&KafkaAttempt) -> bool| -> Option<Group<'_>> {
        let these: Vec<_> = attempts.iter().filter(|(_, k)| pick(k)).collect();
        let (_, first) = these.first()?;
        Some(Group {
            first,
            count: these.len(),
            total: attempts.len(),
            addresses: these.iter().map(|(a, _)| a.ip.clone()).collect(),
        })
    };
    // Whether the client authenticates: a protocol fix keeps SASL if it was on.
    let sasl = settings.security_protocol.starts_with("SASL");
    let broken = |k: &KafkaAttempt| {
        matches!(k.outcome, KafkaOutcome::MetadataFailed | KafkaOutcome::Timeout | KafkaOutcome::Failed)
    };
    let found = [
        group(&|k| matches!(k.outcome, KafkaOutcome::TlsListener | KafkaOutcome::PlaintextListener))
            .map(|g| diags::protocol_mismatch(&t.target, &g, sasl)),
        group(&|k| matches!(k.outcome, KafkaOutcome::NotKafka | KafkaOutcome::Closed))
            .map(|g| diags::not_kafka(&t.target, t.port, &g)),
        group(&|k| k.outcome == KafkaOutcome::MechanismUnsupported)
            .map(|g| diags::mechanism_unsupported(&t.target, &g)),
        group(&|k| k.outcome == KafkaOutcome::AuthFailed).map(|g| diags::auth_failed(&t.target, &g, settings)),
        attempts
            .iter()
            .find(|(_, k)| k.credentials_withheld.is_some())
            .map(|(_, k)| diags::credentials_withheld(&t.target, k)),
        attempts
            .iter()
            .find(|(_, k)| k.skipped.is_some() && k.credentials_withheld.is_none() && k.unverified_mechanism.is_none())
            .map(|(_, k)| diags::no_credentials(&t.target, k)),
        attempts.iter().find_map(|(_, k)| match k.iam_signing.as_ref() {
            // AWS_MSK_IAM without a signature: the credentials are the first step that failed.
            Some(s) if s.outcome != crate::report::IamSigningOutcome::Signed => {
                Some(crate::analysis::auth::iam_signing_failed(
                    &t.target,
                    s,
                    "the broker was asked only whether it enables the mechanism",
                ))
            }
            _ => k.unverified_mechanism.as_deref().map(|m| diags::auth_not_verified(&t.target, m, settings)),
        }),
        // Nothing answered ApiVersions: not a Metadata problem, nobody speaks Kafka on the connection.
        group(&|k| broken(k) && k.api_versions_ms.is_none()).map(|g| diags::no_answer(&t.target, t.port, &g)),
        group(&|k| broken(k) && k.api_versions_ms.is_some()).map(|g| diags::metadata_failed(&t.target, &g)),
    ];
    out.extend(found.into_iter().flatten().map(|d| d.on(t, Stage::Kafka)));
}

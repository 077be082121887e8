//! TLS findings: certificates, names, trust, handshakes.

use super::finding;
use crate::limits::EXPIRY_WARNING_DAYS;
use crate::report::findings::FindingCode;
use crate::report::{Finding, KafkaOutcome, Settings, Stage, TargetReport, TlsOutcome, TlsVerification};

pub(super) fn tls_findings(t: &TargetReport, out: &mut Vec<Finding>) {
    // A handshake closed by a plaintext Kafka listener is a protocol mismatch, reported by the Kafka stage.
    let attempts: Vec<_> = t
        .addresses
        .iter()
        .filter(|a| a.kafka.as_ref().is_none_or(|k| k.outcome != KafkaOutcome::PlaintextListener))
        .filter_map(|a| a.tls.as_ref().map(|tls| (a, tls)))
        .collect();
    if attempts.is_empty() {
        return;
    }
    let groups = [
        (vec![TlsOutcome::NameMismatch], FindingCode::TlsNameMismatch),
        (vec![TlsOutcome::UnknownIssuer], FindingCode::TlsUnknownIssuer),
        (vec![TlsOutcome::Expired, TlsOutcome::NotYetValid], FindingCode::TlsExpired),
        (vec![TlsOutcome::NotTls], FindingCode::TlsNotTls),
        (vec![TlsOutcome::Closed, TlsOutcome::Timeout, TlsOutcome::Failed], FindingCode::TlsHandshakeFailed),
    ];
    for (outcomes, code) in groups {
        let these: Vec<_> = attempts.iter().filter(|(_, tls)| outcomes.contains(&tls.outcome)).collect();
        let Some((_, first)) = these.first() else {
            continue;
        };
        let scope = if these.len() == attempts.len() {
            "every address".to_string()
        } else {
            format!("{} of {} addresses", these.len(), attempts.len())
        };
        let cert = first.peer_certificate.as_ref();
        let cert_text = cert
            .map(|c| format!("certificate {} (SANs: {}; issuer {})", c.subject, c.sans.join(", "), c.issuer))
            .unwrap_or_else(|| "no certificate".into());
        let host = &t.host;
        let (summary, fix) = match code {
            FindingCode::TlsNameMismatch => (
                format!("{}: {cert_text} does not cover {host} ({scope})", t.target),
                format!(
                    "Dial the name the provider gives (the cluster's bootstrap name), not an alias or the VPC \
                     endpoint's own DNS name: TLS checks the name you dial. If the SANs belong to another service, \
                     `{host}` resolves to the wrong endpoint."
                ),
            ),
            FindingCode::TlsUnknownIssuer => (
                format!("{}: {cert_text} is not signed by a trusted CA ({scope})", t.target),
                "Trust the issuing CA: point --ca-file (ssl.ca.location) at the right CA bundle. Confluent Cloud \
                 uses public CAs, so the system bundle suffices there; an unknown issuer then means a TLS-intercepting \
                 proxy or a wrong endpoint."
                    .into(),
            ),
            FindingCode::TlsExpired => (
                format!(
                    "{}: {cert_text} is outside its validity ({} to {}) ({scope})",
                    t.target,
                    cert.map(|c| c.not_before.as_str()).unwrap_or("?"),
                    cert.map(|c| c.not_after.as_str()).unwrap_or("?")
                ),
                "The server must present a current certificate: renew it (provider side), and check this \
                 machine's clock."
                    .into(),
            ),
            FindingCode::TlsNotTls => (
                format!("{}: {} ({scope})", t.target, first.error.as_deref().unwrap_or("the peer does not speak TLS")),
                format!(
                    "Port {} answers in plaintext. Either the listener is meant to be plaintext (use \
                     security.protocol=PLAINTEXT/SASL_PLAINTEXT), or `{host}` resolves to something other than the \
                     provider's TLS endpoint: Confluent Cloud only has TLS listeners.",
                    t.port
                ),
            ),
            _ => (
                format!(
                    "{}: handshake {} ({scope}): {}",
                    t.target,
                    first.outcome.word(),
                    first.error.as_deref().unwrap_or("")
                ),
                "The endpoint accepted TCP but not the handshake: check that the SNI name is one the endpoint \
                 routes (the provider's name), that no proxy sits in between, and the TLS versions allowed."
                    .into(),
            ),
        };
        let addresses = these.iter().map(|(a, _)| a.ip.clone()).collect();
        out.push(finding(code, t, Stage::Tls, summary, fix, addresses));
    }
    let soonest = attempts
        .iter()
        .filter(|(_, tls)| tls.outcome == TlsOutcome::Ok)
        .filter_map(|(_, tls)| tls.peer_certificate.as_ref())
        .min_by_key(|c| c.days_to_expiry);
    if let Some(cert) = soonest.filter(|c| c.days_to_expiry < EXPIRY_WARNING_DAYS) {
        out.push(finding(
            FindingCode::TlsExpiringSoon,
            t,
            Stage::Tls,
            format!(
                "{}: certificate {} expires in {} days ({})",
                t.target, cert.subject, cert.days_to_expiry, cert.not_after
            ),
            "Renew the certificate before it expires (provider side for a managed service).".into(),
            Vec::new(),
        ));
    }
}

/// `--insecure`: nothing in the TLS column can be trusted.
pub(super) fn verification_findings(settings: &Settings, targets: &[TargetReport], out: &mut Vec<Finding>) {
    if settings.tls_verification != TlsVerification::Disabled {
        return;
    }
    if let Some(t) = targets.iter().find(|t| t.addresses.iter().any(|a| a.tls.is_some())) {
        out.push(finding(
            FindingCode::TlsVerificationDisabled,
            t,
            Stage::Tls,
            "--insecure was given: certificate chains and names were not verified".into(),
            "Run again without --insecure (add --ca-file for a private CA) before trusting the TLS column.".into(),
            Vec::new(),
        ));
    }
}

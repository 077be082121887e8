//! TLS findings: certificates, names, trust, handshakes.

use super::finding;
use crate::limits::EXPIRY_WARNING_DAYS;
use crate::report::findings::FindingCode;
use crate::report::{
    AddressReport, Finding, KafkaOutcome, Settings, Stage, TargetReport, TlsAttempt, TlsOutcome, TlsVerification,
};

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
    // A stalled handshake that completed clamped is a path-MTU black hole, not a handshake failure.
    let blackholed = |tls: &TlsAttempt| tls.path_mtu.as_ref().and_then(|p| p.passed_mss);
    let holes: Vec<_> = attempts.iter().filter_map(|(a, tls)| blackholed(tls).map(|mss| (*a, *tls, mss))).collect();
    if let Some((_, tls, _)) = holes.first() {
        out.push(path_mtu_finding(t, tls, &holes));
    }
    let attempts: Vec<_> = attempts.into_iter().filter(|(_, tls)| blackholed(tls).is_none()).collect();
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

/// The addresses whose handshake stalled unclamped and completed clamped, with the largest size
/// that passed.
fn path_mtu_finding(t: &TargetReport, first: &TlsAttempt, holes: &[(&AddressReport, &TlsAttempt, u32)]) -> Finding {
    let passed = holes.iter().map(|(_, _, mss)| *mss).max().unwrap_or_default();
    let default = first.path_mtu.as_ref().and_then(|p| p.default_mss);
    let addresses: Vec<String> = holes.iter().map(|(a, _, _)| a.ip.clone()).collect();
    let summary = format!(
        "{}: the TLS handshake with {} stalls at the server's certificate flight with the default TCP segment \
         size{} and completes with the segment size clamped to {passed} bytes: the path drops packets larger than \
         about {} bytes and sends no ICMP \"fragmentation needed\" back (a path-MTU black hole)",
        t.target,
        addresses.join(", "),
        default.map(|d| format!(" ({d} bytes)")).unwrap_or_default(),
        passed + 40,
    );
    let fix = format!(
        "Something between this host and {} (a VPN or tunnel, a firewall or inspection appliance, a transit \
         hop) forwards smaller packets than the endpoint sends toward this host and drops the rest silently. \
         Either clamp the TCP MSS where the MTU shrinks (e.g. `iptables -t mangle -A FORWARD -p tcp --tcp-flags \
         SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu` on the appliance, or its MSS setting), or lower this host's \
         MTU so the MSS it advertises fits (`ip link set dev <if> mtu {}`), or let the hop's ICMP \"destination \
         unreachable / fragmentation needed\" (type 3, code 4) get back to the sender: the endpoint's security \
         groups and its subnet's network ACL must allow it inbound for path-MTU discovery to work. An MSS of \
         {passed} worked here.",
        addresses.join(", "),
        passed + 40,
    );
    finding(FindingCode::TlsPathMtuBlackhole, t, Stage::Tls, summary, fix, addresses)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{MssAttempt, PathMtuProbe, Role, TcpOutcome};

    fn address(ip: &str, outcome: TlsOutcome, path_mtu: Option<PathMtuProbe>) -> AddressReport {
        let mut tls = crate::probe::tls::stalled("b.example", std::time::Duration::from_millis(2000));
        tls.outcome = outcome;
        tls.path_mtu = path_mtu;
        AddressReport {
            ip: ip.into(),
            private: true,
            tcp: None,
            tls: Some(tls),
            https: None,
            kafka: None,
            not_waited_for: None,
        }
    }

    fn target(addresses: Vec<AddressReport>) -> TargetReport {
        TargetReport {
            target: "b.example:9092".into(),
            host: "b.example".into(),
            port: 9092,
            role: Role::Bootstrap,
            stages: Vec::new(),
            dns: None,
            addresses,
            broker: None,
            endpoint: None,
        }
    }

    fn probe(passed: Option<u32>) -> PathMtuProbe {
        let attempt = |mss: u32| MssAttempt {
            mss,
            tcp: TcpOutcome::Connected,
            tls: Some(if Some(mss) == passed { TlsOutcome::Ok } else { TlsOutcome::Timeout }),
            got_certificate: Some(mss) == passed,
            elapsed_ms: 5,
        };
        PathMtuProbe {
            default_mss: Some(8949),
            tried: vec![attempt(1200), attempt(536)],
            control: Some(attempt(8949)),
            passed_mss: passed,
        }
    }

    fn codes(t: &TargetReport) -> Vec<(FindingCode, Vec<String>, String)> {
        let mut out = Vec::new();
        tls_findings(t, &mut out);
        out.into_iter().map(|f| (f.code, f.addresses, f.summary)).collect()
    }

    /// A stall that a clamped connection got past is the black hole, on that address only; a
    /// stall the clamped connections met too stays a handshake failure; a healthy address is
    /// neither.
    #[test]
    fn a_handshake_that_completes_clamped_is_a_path_mtu_black_hole() {
        let t = target(vec![
            address("10.0.1.5", TlsOutcome::Ok, None),
            address("10.0.2.5", TlsOutcome::Timeout, Some(probe(Some(1200)))),
            address("10.0.3.5", TlsOutcome::Timeout, Some(probe(None))),
        ]);
        let found = codes(&t);
        assert_eq!(found.len(), 2, "{found:#?}");
        let (code, addresses, summary) = &found[0];
        assert_eq!(*code, FindingCode::TlsPathMtuBlackhole);
        assert_eq!(addresses, &vec!["10.0.2.5".to_string()]);
        assert!(summary.contains("clamped to 1200") && summary.contains("(8949 bytes)"), "{summary}");
        assert_eq!(found[1].0, FindingCode::TlsHandshakeFailed);
        assert_eq!(found[1].1, vec!["10.0.3.5".to_string()]);
        assert!(found[1].2.contains("1 of 2 addresses"), "the black-holed address is counted apart: {}", found[1].2);

        let healthy = target(vec![address("10.0.1.5", TlsOutcome::Ok, None)]);
        assert!(codes(&healthy).is_empty());
    }
}

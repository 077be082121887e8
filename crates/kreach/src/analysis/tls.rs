//! TLS findings: certificates, names, trust, handshakes.

use super::finding;
use crate::limits::EXPIRY_WARNING_DAYS;
use crate::report::findings::FindingCode;
use crate::report::{
    AddressReport, Cause, CertValidity, CertificateRef, ClientCertUse, Finding, FixAction, Hop, KafkaOutcome, Settings,
    Stage, TargetReport, TlsAlert, TlsAttempt, TlsOutcome, TlsVerification,
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
    // Each failed handshake by its cause: the chain judged certificate by certificate where the
    // verifier's one word (unknown issuer, expired, failed) does not say which certificate.
    let judged: Vec<(&AddressReport, &TlsAttempt, FindingCode, Option<ChainVerdict>)> = attempts
        .iter()
        .filter(|(a, _)| client_cert_alert(a).is_none())
        .filter_map(|(a, tls)| {
            let verdict = match tls.outcome {
                TlsOutcome::UnknownIssuer | TlsOutcome::Expired | TlsOutcome::NotYetValid | TlsOutcome::Failed => {
                    judge_chain(tls, &t.host)
                }
                _ => None,
            };
            let code = match (&verdict, tls.outcome) {
                (Some(v), _) => v.code,
                (None, TlsOutcome::Ok) => return None,
                (None, TlsOutcome::NameMismatch) => FindingCode::TlsNameMismatch,
                (None, TlsOutcome::UnknownIssuer) => FindingCode::TlsUnknownIssuer,
                (None, TlsOutcome::Expired | TlsOutcome::NotYetValid) => FindingCode::TlsExpired,
                (None, TlsOutcome::NotTls) => FindingCode::TlsNotTls,
                (None, _) => FindingCode::TlsHandshakeFailed,
            };
            Some((*a, *tls, code, verdict))
        })
        .collect();
    let codes = [
        FindingCode::TlsNameMismatch,
        FindingCode::TlsExpired,
        FindingCode::TlsChainInvalid,
        FindingCode::TlsChainIncomplete,
        FindingCode::TlsUnknownIssuer,
        FindingCode::TlsNotTls,
        FindingCode::TlsHandshakeFailed,
    ];
    for code in codes {
        let these: Vec<_> = judged.iter().filter(|(_, _, c, _)| *c == code).collect();
        let Some((_, first, _, verdict)) = these.first() else {
            continue;
        };
        let scope = if these.len() == attempts.len() {
            "every address".to_string()
        } else {
            format!("{} of {} addresses", these.len(), attempts.len())
        };
        let addresses = these.iter().map(|(a, _, _, _)| a.ip.clone()).collect();
        if let Some(v) = verdict {
            out.push(chain_finding(t, v, &scope, addresses));
            continue;
        }
        out.push(outcome_finding(t, code, first, &scope, addresses));
    }
    let soonest = attempts
        .iter()
        .filter(|(_, tls)| tls.outcome == TlsOutcome::Ok)
        .filter_map(|(_, tls)| tls.peer_certificate.as_ref())
        .min_by_key(|c| c.days_to_expiry);
    if let Some(cert) = soonest.filter(|c| c.days_to_expiry < EXPIRY_WARNING_DAYS) {
        let mut f = finding(
            FindingCode::TlsExpiringSoon,
            t,
            Stage::Tls,
            format!(
                "{}: certificate {} expires in {} days ({})",
                t.target, cert.subject, cert.days_to_expiry, cert.not_after
            ),
            "Renew the certificate before it expires (provider side for a managed service).".into(),
            Vec::new(),
        );
        f.action = Some(FixAction::ServeCertificate { names: vec![t.host.clone()], az_id: None });
        out.push(f);
    }
}

/// A failed handshake the chain judgement did not explain, by the verifier's own word.
fn outcome_finding(
    t: &TargetReport,
    code: FindingCode,
    first: &TlsAttempt,
    scope: &str,
    addresses: Vec<String>,
) -> Finding {
    let cert = first.peer_certificate.as_ref();
    let cert_text = cert
        .map(|c| format!("certificate {} (SANs: {}; issuer {})", c.subject, c.sans.join(", "), c.issuer))
        .unwrap_or_else(|| "no certificate".into());
    let host = &t.host;
    let (summary, fix, action) = match code {
        FindingCode::TlsNameMismatch => (
            format!("{}: {cert_text} does not cover {host} ({scope})", t.target),
            format!(
                "Dial the name the provider gives (the cluster's bootstrap name), not an alias or the VPC \
                 endpoint's own DNS name: TLS checks the name you dial. If the SANs belong to another service, \
                 `{host}` resolves to the wrong endpoint."
            ),
            Some(FixAction::ServeCertificate { names: vec![host.clone()], az_id: None }),
        ),
        FindingCode::TlsUnknownIssuer => (
            format!("{}: {cert_text} is not signed by a trusted CA ({scope})", t.target),
            "Trust the issuing CA: point --ca-file (ssl.ca.location) at the right CA bundle. Confluent Cloud \
             uses public CAs, so the system bundle suffices there; an unknown issuer then means a TLS-intercepting \
             proxy or a wrong endpoint."
                .into(),
            cert.map(|c| FixAction::TrustCa { issuer: c.issuer.clone() }),
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
            Some(FixAction::ServeCertificate { names: vec![host.clone()], az_id: None }),
        ),
        FindingCode::TlsNotTls => (
            format!("{}: {} ({scope})", t.target, first.error.as_deref().unwrap_or("the peer does not speak TLS")),
            format!(
                "Port {} answers in plaintext. Either the listener is meant to be plaintext (use \
                 security.protocol=PLAINTEXT/SASL_PLAINTEXT), or `{host}` resolves to something other than the \
                 provider's TLS endpoint: Confluent Cloud only has TLS listeners.",
                t.port
            ),
            Some(FixAction::ServeListener { port: t.port }),
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
            None,
        ),
    };
    let mut f = finding(code, t, Stage::Tls, summary, fix, addresses);
    if code == FindingCode::TlsExpired && first.outcome == TlsOutcome::NotYetValid {
        f.cause = Cause::NotYetValid;
    }
    f.action = action;
    f
}

/// The alert a server sent about the client's certificate: in the handshake (TLS 1.2), or in
/// place of the first answer after it (TLS 1.3).
pub(super) fn client_cert_alert(a: &AddressReport) -> Option<TlsAlert> {
    let in_handshake = a.tls.as_ref().and_then(|t| t.alert);
    let after = a.kafka.as_ref().and_then(|k| k.tls_alert).or(a.https.as_ref().and_then(|h| h.tls_alert));
    let asked = a.tls.as_ref().and_then(|t| t.client_certificate).is_some_and(|u| u != ClientCertUse::NotAsked);
    in_handshake
        .or(after)
        .filter(|alert| alert.about_client_certificate() || (asked && *alert == TlsAlert::HandshakeFailure))
}

/// Mutual TLS: a server that required a client certificate none was configured for, or refused
/// the one presented. One finding per target, on the stage where it showed.
pub(super) fn client_cert_findings(t: &TargetReport, settings: &Settings, out: &mut Vec<Finding>) {
    let hits: Vec<(&AddressReport, TlsAlert)> =
        t.addresses.iter().filter_map(|a| client_cert_alert(a).map(|alert| (a, alert))).collect();
    let Some((first, alert)) = hits.first() else {
        out.extend(client_cert_not_asked(t, settings));
        return;
    };
    let presented = settings.client_certificate.as_ref();
    let stage = if first.tls.as_ref().is_some_and(|x| x.alert.is_some()) {
        Stage::Tls
    } else if first.https.is_some() {
        Stage::Https
    } else {
        Stage::Kafka
    };
    let addresses: Vec<String> = hits.iter().map(|(a, _)| a.ip.clone()).collect();
    let alert_name = format!("{alert:?}");
    let mut f = match presented {
        None => {
            let mut f = finding(
                FindingCode::TlsClientCertificateRequired,
                t,
                stage,
                format!(
                    "{}: the server asked for a client certificate, none is configured, and it ended the connection \
                     (alert {alert_name}) on {} of {} address(es)",
                    t.target,
                    hits.len(),
                    t.addresses.len()
                ),
                "This listener authenticates clients by certificate (mutual TLS): give the client's certificate and \
                 key (ssl.certificate.location and ssl.key.location, PEM) issued by a CA the cluster trusts; for an \
                 event source mapping, a CLIENT_CERTIFICATE_TLS_AUTH secret."
                    .into(),
                addresses,
            );
            f.action = Some(FixAction::SetProperty {
                key: "ssl.certificate.location".into(),
                value: "<a client certificate the cluster trusts>".into(),
            });
            f
        }
        Some(cert) => {
            let expired = cert.days_to_expiry < 0 || *alert == TlsAlert::CertificateExpired;
            let why = match alert {
                _ if expired => format!("it expired on {}", cert.not_after),
                TlsAlert::UnknownCa => format!("its issuer {} is not a CA the server trusts for clients", cert.issuer),
                TlsAlert::CertificateRevoked => "it was revoked".to_string(),
                TlsAlert::AccessDenied => "the server denies this principal".to_string(),
                _ => "the server did not accept it".to_string(),
            };
            let mut f = finding(
                FindingCode::TlsClientCertificateRefused,
                t,
                stage,
                format!(
                    "{}: the server refused the client certificate {} (alert {alert_name}): {why}; on {} of {} \
                     address(es)",
                    t.target,
                    cert.subject,
                    hits.len(),
                    t.addresses.len()
                ),
                "Present a current client certificate issued by a CA the cluster trusts for clients (for Amazon \
                 MSK: the cluster's ACM Private CA), with its key (ssl.certificate.location, ssl.key.location); \
                 for an event source mapping, update its CLIENT_CERTIFICATE_TLS_AUTH secret."
                    .into(),
                addresses,
            );
            f.cause = match alert {
                _ if expired => Cause::Expired,
                TlsAlert::UnknownCa => Cause::UntrustedIssuer,
                _ => Cause::Rejected,
            };
            f.action = Some(FixAction::SetCredentials);
            f
        }
    };
    f.hop = Hop::Authentication;
    out.push(f);
}

/// Mutual TLS without SASL (`security.protocol=SSL`): a Kafka listener that completed the handshake
/// without asking for the client certificate configured does not authenticate by certificate —
/// the client is anonymous to it, and ACLs for the certificate's principal do not apply.
fn client_cert_not_asked(t: &TargetReport, settings: &Settings) -> Option<Finding> {
    let cert = settings.client_certificate.as_ref()?;
    if settings.security_protocol != "SSL" || t.endpoint.is_some() {
        return None;
    }
    // The Kafka port's connections only (the HTTPS port's REST API authenticates otherwise).
    let not_asked: Vec<String> = t
        .addresses
        .iter()
        .filter(|a| a.kafka.is_some())
        .filter(|a| a.tls.as_ref().and_then(|x| x.client_certificate) == Some(ClientCertUse::NotAsked))
        .map(|a| a.ip.clone())
        .collect();
    if not_asked.is_empty() {
        return None;
    }
    let mut f = finding(
        FindingCode::TlsClientCertificateNotAsked,
        t,
        Stage::Tls,
        format!(
            "{}: the client certificate {} is configured, but the listener did not ask for it on {} of {} \
             address(es): it does not authenticate clients by certificate, so this client is anonymous to it",
            t.target,
            cert.subject,
            not_asked.len(),
            t.addresses.len()
        ),
        "Point the bootstrap at the cluster's mutual-TLS listener (Amazon MSK: port 9094, 14001-14100 over a VPC \
         connection; self-managed: the listener with ssl.client.auth=required), or drop the certificate if this \
         listener is meant to be used without authentication."
            .into(),
        not_asked,
    );
    f.hop = Hop::Listener;
    f.cause = Cause::Misconfigured;
    Some(f)
}

/// Which certificate of a chain fails, how, and who fixes it.
pub(super) struct ChainVerdict {
    code: FindingCode,
    hop: Hop,
    cause: Cause,
    certificate: CertificateRef,
    action: FixAction,
    /// What is wrong with it, one clause.
    why: String,
}

/// Judges every certificate the server sent on its own, leaf first: its validity window, whether
/// it issued the one before it, whether an issuer is a CA allowed to sign certificates, and whether
/// the chain reaches a trusted CA. `None` when the chain shows nothing wrong (or was not kept).
pub(super) fn judge_chain(tls: &TlsAttempt, host: &str) -> Option<ChainVerdict> {
    let chain = &tls.chain;
    let at = |i: usize| CertificateRef {
        position: i,
        subject: chain.get(i).map(|c| c.subject.clone()).unwrap_or_default(),
        issuer: chain.get(i).map(|c| c.issuer.clone()).unwrap_or_default(),
    };
    let verdict = |code: FindingCode, hop: Hop, cause: Cause, certificate: CertificateRef, action, why: String| {
        Some(ChainVerdict { code, hop, cause, certificate, action, why })
    };
    let name = |i: usize| if i == 0 { "the leaf".to_string() } else { format!("chain certificate {i}") };
    for (i, c) in chain.iter().enumerate() {
        if c.unreadable || c.validity == CertValidity::Current {
            continue;
        }
        let (cause, when) = if c.validity == CertValidity::Expired {
            (Cause::Expired, format!("expired on {}", c.not_after))
        } else {
            (Cause::NotYetValid, format!("is not valid before {} (or this machine's clock is behind)", c.not_before))
        };
        let action = if i == 0 {
            FixAction::ServeCertificate { names: vec![host.to_string()], az_id: None }
        } else {
            FixAction::ServeChain { certificate: at(i) }
        };
        let why = format!("{} ({}) {when}", name(i), c.subject);
        return verdict(FindingCode::TlsExpired, Hop::Certificate, cause, at(i), action, why);
    }
    for i in 1..chain.len() {
        let (below, c) = (&chain[i - 1], &chain[i]);
        if c.unreadable || below.unreadable {
            continue;
        }
        let problem = if below.issuer != c.subject {
            Some(format!(
                "does not issue the certificate before it ({} names {} as its issuer)",
                below.subject, below.issuer
            ))
        } else if c.ca != Some(true) {
            Some("issues the certificate before it but is not a CA (its basic constraints say so)".to_string())
        } else if c.cert_sign == Some(false) {
            Some("issues the certificate before it but its key usage does not allow signing certificates".to_string())
        } else {
            None
        };
        if let Some(p) = problem {
            let why = format!("{} ({}) {p}", name(i), c.subject);
            let action = FixAction::ServeChain { certificate: at(i) };
            return verdict(FindingCode::TlsChainInvalid, Hop::Certificate, Cause::BadChain, at(i), action, why);
        }
    }
    let top = chain.last()?;
    if tls.anchored != Some(false) || top.unreadable {
        return None;
    }
    let last = chain.len() - 1;
    if top.self_issued {
        let why = format!("{} ({}) is a root this machine does not trust", name(last), top.subject);
        let action = FixAction::TrustCa { issuer: top.subject.clone() };
        return verdict(FindingCode::TlsUnknownIssuer, Hop::Trust, Cause::UntrustedIssuer, at(last), action, why);
    }
    let missing = CertificateRef { position: chain.len(), subject: top.issuer.clone(), issuer: String::new() };
    if top.ca_issuers.is_empty() && last == 0 {
        // Only a leaf came, naming no place its issuer is published: a private CA's leaf (the
        // issuer is a root to trust), not a public chain missing its intermediate.
        let why = format!(
            "the leaf ({}) is issued by {}, which this machine does not trust (and the server sent no other \
             certificate)",
            top.subject, top.issuer
        );
        let action = FixAction::TrustCa { issuer: top.issuer.clone() };
        return verdict(FindingCode::TlsUnknownIssuer, Hop::Trust, Cause::UntrustedIssuer, missing, action, why);
    }
    if last > 0 || top.ca == Some(true) {
        // The chain ends at a CA: what issued it is a root, and this machine does not trust it.
        let why = format!(
            "the chain ends at {} ({}), issued by {}, a CA this machine does not trust",
            name(last),
            top.subject,
            top.issuer
        );
        let action = FixAction::TrustCa { issuer: top.issuer.clone() };
        return verdict(FindingCode::TlsUnknownIssuer, Hop::Trust, Cause::UntrustedIssuer, missing, action, why);
    }
    // Only the leaf came, its issuer is not trusted and is published elsewhere: the server does
    // not send the intermediate it must.
    let why = format!(
        "the server sends only its leaf ({}); its issuer {} (published at {}) is neither sent nor trusted here",
        top.subject,
        top.issuer,
        top.ca_issuers.join(", ")
    );
    let action = FixAction::ServeChain { certificate: missing.clone() };
    verdict(FindingCode::TlsChainIncomplete, Hop::Certificate, Cause::IncompleteChain, missing, action, why)
}

/// The finding for a chain judged wrong: the certificate, its position, and who fixes it.
pub(super) fn chain_finding(t: &TargetReport, v: &ChainVerdict, scope: &str, addresses: Vec<String>) -> Finding {
    let c = &v.certificate;
    let fix = match v.hop {
        Hop::Trust => format!(
            "This machine's trust: the chain leads to `{}`, which the trust store (plus --ca-file) does not hold. \
             If it is your organisation's CA (a private cluster, a TLS-inspecting proxy you accept), give it with \
             --ca-file (ssl.ca.location); Confluent Cloud and Amazon MSK use public CAs, so an unknown root there \
             means something in between presents its own chain.",
            c.subject
        ),
        _ if v.code == FindingCode::TlsChainIncomplete => format!(
            "The server's chain: it must send the intermediate certificate(s) from its leaf up to a trusted root \
             (the missing one is `{}`, position {}). If that issuer is your own private root CA, give it with \
             --ca-file (ssl.ca.location) instead.",
            c.subject, c.position
        ),
        _ if c.position == 0 && v.cause == Cause::NotYetValid => format!(
            "The server's certificate starts later than this machine's clock says it is now: check this machine's \
             clock (NTP) first, then the server's certificate `{}` (provider side).",
            c.subject
        ),
        _ if c.position == 0 => {
            format!("The server must present a current certificate instead of `{}` (provider side).", c.subject)
        }
        _ => format!(
            "The server's chain: certificate {} (`{}`) must be replaced by a current, valid issuer in the chain the \
             server sends (provider side). The leaf itself is fine; nothing on this machine changes it.",
            c.position, c.subject
        ),
    };
    let mut f = finding(v.code, t, Stage::Tls, format!("{}: {} ({scope})", t.target, v.why), fix, addresses);
    f.hop = v.hop;
    f.cause = v.cause;
    f.certificate = Some(c.clone());
    f.action = Some(v.action.clone());
    f
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

    fn cert(subject: &str, issuer: &str, ca: Option<bool>) -> crate::report::ChainCertificate {
        crate::report::ChainCertificate {
            subject: subject.into(),
            issuer: issuer.into(),
            ca,
            self_issued: subject == issuer,
            ..Default::default()
        }
    }

    fn judged(chain: Vec<crate::report::ChainCertificate>, anchored: bool) -> Option<(FindingCode, Hop, usize)> {
        let mut tls = crate::probe::tls::stalled("b.example", std::time::Duration::ZERO);
        tls.outcome = TlsOutcome::UnknownIssuer;
        tls.chain = chain;
        tls.anchored = Some(anchored);
        judge_chain(&tls, "b.example").map(|v| (v.code, v.hop, v.certificate.position))
    }

    /// Each certificate on its own: an issuer that is not a CA, one whose key usage forbids signing
    /// certificates, a chain out of order, an untrusted root, a leaf alone from a private CA or with
    /// its published issuer missing: each names the certificate, its position and who fixes it.
    #[test]
    fn every_certificate_of_a_chain_is_judged_on_its_own() {
        let leaf = || cert("CN=leaf", "CN=inter", Some(false));
        let inter = || cert("CN=inter", "CN=root", Some(true));
        let healthy = judged(vec![leaf(), inter()], true);
        assert_eq!(healthy, None);
        let not_ca = judged(vec![leaf(), cert("CN=inter", "CN=root", Some(false))], true);
        assert_eq!(not_ca, Some((FindingCode::TlsChainInvalid, Hop::Certificate, 1)));
        let mut no_sign = inter();
        no_sign.cert_sign = Some(false);
        assert_eq!(judged(vec![leaf(), no_sign], true), Some((FindingCode::TlsChainInvalid, Hop::Certificate, 1)));
        let out_of_order = judged(vec![leaf(), cert("CN=other", "CN=root", Some(true))], true);
        assert_eq!(out_of_order, Some((FindingCode::TlsChainInvalid, Hop::Certificate, 1)));
        let mut expired = inter();
        expired.validity = crate::report::CertValidity::Expired;
        assert_eq!(judged(vec![leaf(), expired], true), Some((FindingCode::TlsExpired, Hop::Certificate, 1)));
        // The chain reaches a CA nobody here trusts: this machine's trust, the issuer not sent.
        assert_eq!(judged(vec![leaf(), inter()], false), Some((FindingCode::TlsUnknownIssuer, Hop::Trust, 2)));
        // A leaf alone: a private CA's (no published issuer) is trust; a public one's is the chain.
        assert_eq!(judged(vec![leaf()], false), Some((FindingCode::TlsUnknownIssuer, Hop::Trust, 1)));
        let mut published = leaf();
        published.ca_issuers = vec!["http://ca.example/inter.crt".into()];
        assert_eq!(judged(vec![published], false), Some((FindingCode::TlsChainIncomplete, Hop::Certificate, 1)));
        let root = cert("CN=self", "CN=self", Some(true));
        assert_eq!(judged(vec![root], false), Some((FindingCode::TlsUnknownIssuer, Hop::Trust, 0)));
    }
}

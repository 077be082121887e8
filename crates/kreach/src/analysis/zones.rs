//! Per-zone verdicts: which availability zones pass, and when a zone's path is down.

use super::finding;
use super::ingress::Ingress;
use crate::report::findings::FindingCode;
use crate::report::{
    Cause, Finding, FixAction, Report, Stage, StageStatus, TargetReport, TcpOutcome, TlsOutcome, ZoneSummary,
};
use std::collections::BTreeMap;

/// Per-zone verdicts from the brokers whose names carry an AZ ID.
pub fn zones(targets: &[TargetReport]) -> Vec<ZoneSummary> {
    let mut zones: Vec<ZoneSummary> = Vec::new();
    for t in targets {
        let Some(az) = t.broker.as_ref().and_then(|b| b.az_id.clone()) else { continue };
        let node = t.broker.as_ref().map_or(-1, |b| b.node_id);
        let zone = match zones.iter_mut().position(|z| z.az_id == az) {
            Some(i) => &mut zones[i],
            None => {
                zones.push(ZoneSummary {
                    az_id: az,
                    brokers: Vec::new(),
                    passed: 0,
                    status: StageStatus::Pass,
                    addresses: Vec::new(),
                });
                let last = zones.len() - 1;
                &mut zones[last]
            }
        };
        zone.brokers.push(node);
        if broker_passed(t) {
            zone.passed += 1;
        } else {
            zone.status = StageStatus::Fail;
        }
        for a in &t.addresses {
            if !zone.addresses.contains(&a.ip) {
                zone.addresses.push(a.ip.clone());
            }
        }
    }
    zones.sort_by(|a, b| a.az_id.cmp(&b.az_id));
    zones
}

/// How every broker of a zone fails, by the first failing step they share: the zone's verdict
/// is built from its members' causes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ZoneFault {
    /// Connects or handshakes time out (or no route): the zone's network path.
    Network,
    /// Connects are refused: nothing listens behind that zone's address.
    Refused,
    /// The handshake fails on the certificate, the same way for every broker.
    Certificate(TlsOutcome),
}

/// The first failing step of a broker, as a zone fault, when it is one a zone can have.
fn broker_fault(t: &TargetReport) -> Option<ZoneFault> {
    let first = t.stages.iter().find(|s| s.status == StageStatus::Fail)?;
    match first.stage {
        Stage::Tcp => {
            let outcomes: Vec<TcpOutcome> =
                t.addresses.iter().filter_map(|a| a.tcp.as_ref()).map(|c| c.outcome).collect();
            if !outcomes.is_empty() && outcomes.iter().all(|o| *o == TcpOutcome::Refused) {
                Some(ZoneFault::Refused)
            } else {
                Some(ZoneFault::Network)
            }
        }
        Stage::Tls => {
            let tls = t.addresses.iter().filter_map(|a| a.tls.as_ref()).find(|x| x.outcome != TlsOutcome::Ok)?;
            match tls.outcome {
                TlsOutcome::Timeout => Some(ZoneFault::Network),
                o @ (TlsOutcome::NameMismatch
                | TlsOutcome::UnknownIssuer
                | TlsOutcome::Expired
                | TlsOutcome::NotYetValid) => Some(ZoneFault::Certificate(o)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The zone's fault when every broker of it fails the same way: `None` when a broker passes,
/// fails elsewhere (DNS, Kafka: that broker's problem) or the brokers fail differently.
pub(super) fn zone_fault(z: &ZoneSummary, targets: &[TargetReport]) -> Option<ZoneFault> {
    let brokers: Vec<&TargetReport> =
        targets.iter().filter(|t| t.broker.as_ref().and_then(|b| b.az_id.as_ref()) == Some(&z.az_id)).collect();
    let first = brokers.first().and_then(|t| broker_fault(t))?;
    brokers.iter().all(|t| !broker_passed(t) && broker_fault(t) == Some(first)).then_some(first)
}

/// The first stage of `t` that failed and a word on how.
pub(super) fn first_failure(t: &TargetReport) -> (Stage, String) {
    t.stages
        .iter()
        .find(|s| s.status == StageStatus::Fail)
        .map(|s| (s.stage, format!("{} {}", s.stage.as_str().to_uppercase(), s.summary)))
        .unwrap_or((Stage::Kafka, "no stage passed".into()))
}

pub(super) fn broker_passed(t: &TargetReport) -> bool {
    t.stages.iter().all(|s| matches!(s.status, StageStatus::Pass | StageStatus::Warn | StageStatus::NotApplicable))
}

/// Each zone's endpoint address: as the user gave it, else as the AWS audit read it.
pub(super) fn zone_addresses(report: &Report) -> BTreeMap<String, String> {
    let mut zone_addresses = report.settings.zone_addresses.clone();
    let interfaces = report.aws.as_ref().and_then(|a| a.endpoint.as_ref()).map(|e| e.interfaces.as_slice());
    for i in interfaces.unwrap_or_default() {
        if !i.az_id.is_empty() && !i.ip.is_empty() {
            zone_addresses.entry(i.az_id.clone()).or_insert_with(|| i.ip.clone());
        }
    }
    zone_addresses
}

/// The zones whose brokers all fail the same way while another zone passes, with how.
pub(super) fn down_zones<'a>(zones: &'a [ZoneSummary], targets: &[TargetReport]) -> Vec<(&'a str, ZoneFault)> {
    let healthy_zone = zones.iter().any(|z| z.status == StageStatus::Pass);
    zones
        .iter()
        .filter(|_| healthy_zone)
        .filter_map(|z| zone_fault(z, targets).map(|f| (z.az_id.as_str(), f)))
        .collect()
}

/// One finding per down zone, of the zone's own cause: `zone-unreachable` for its network path,
/// `tcp-refused` for a listener that is not there, a `tls-*` code for its certificate. Each names
/// the zone and explains its brokers.
pub(super) fn zone_findings(
    zones: &[ZoneSummary],
    down: &[(&str, ZoneFault)],
    targets: &[TargetReport],
    ingress: Ingress,
    out: &mut Vec<Finding>,
) {
    for (z, fault) in zones.iter().filter_map(|z| down.iter().find(|(az, _)| *az == z.az_id).map(|(_, f)| (z, *f))) {
        let in_zone: Vec<&TargetReport> =
            targets.iter().filter(|t| t.broker.as_ref().and_then(|b| b.az_id.as_ref()) == Some(&z.az_id)).collect();
        let Some(t) = in_zone.first() else { continue };
        let mut f = match fault {
            ZoneFault::Network => network_finding(z, t, &in_zone, ingress),
            ZoneFault::Refused => refused_finding(z, t),
            ZoneFault::Certificate(outcome) => certificate_finding(z, t, &in_zone, outcome),
        };
        f.zone = Some(z.az_id.clone());
        f.explains = in_zone.iter().map(|b| b.target.clone()).filter(|b| *b != f.target).collect();
        out.push(f);
    }
}

/// Every broker of the zone times out on the way: the zone's network path.
fn network_finding(z: &ZoneSummary, t: &TargetReport, in_zone: &[&TargetReport], ingress: Ingress) -> Finding {
    let why = first_failure(t);
    let mtu = in_zone.iter().all(|t| {
        t.addresses.iter().any(|a| a.tls.as_ref().and_then(|tls| tls.path_mtu.as_ref()?.passed_mss).is_some())
    });
    let fix = if mtu {
        format!(
            "The path to {}'s endpoint address drops large packets: its handshakes complete only with a \
             clamped segment size (see tls-path-mtu-blackhole for the size that passed and the fix). Clients \
             will time out on every partition led there.",
            z.az_id
        )
    } else {
        format!(
            "The path to the {} in {} is broken: check {}, that subnet's network ACL and route table, and the rules \
             of {} for that interface. Clients will time out on every partition led there.",
            ingress.interface(),
            z.az_id,
            ingress.zone_check(&z.az_id),
            ingress.security_group()
        )
    };
    let mut f = finding(
        FindingCode::ZoneUnreachable,
        t,
        why.0,
        format!(
            "every broker in {} fails ({} of {}; {}) while other zones pass; its address(es): {}",
            z.az_id,
            z.brokers.len(),
            z.brokers.len(),
            why.1,
            z.addresses.join(", ")
        ),
        fix,
        z.addresses.clone(),
    );
    if mtu {
        f.cause = Cause::PathMtu;
    } else {
        f.action = Some(FixAction::AllowPort { port: t.port, az_id: Some(z.az_id.clone()) });
    }
    f
}

/// Every broker of the zone is refused: nothing listens behind that zone's address.
fn refused_finding(z: &ZoneSummary, t: &TargetReport) -> Finding {
    let mut f = finding(
        FindingCode::TcpRefused,
        t,
        Stage::Tcp,
        format!(
            "every broker in {} is refused on port {} at {} while other zones pass",
            z.az_id,
            t.port,
            z.addresses.join(", ")
        ),
        format!(
            "Nothing listens on port {} behind the endpoint's address in {}: the endpoint service (or the \
             load balancer behind it) does not forward that port in that zone, or a firewall there rejects it.",
            t.port, z.az_id
        ),
        z.addresses.clone(),
    );
    f.action = Some(FixAction::ServeListener { port: t.port });
    f
}

/// Every broker of the zone gets a certificate that fails the same check: the certificate served
/// in that zone (or, for an unknown issuer, this machine's trust) is the cause, not the network.
fn certificate_finding(z: &ZoneSummary, t: &TargetReport, in_zone: &[&TargetReport], outcome: TlsOutcome) -> Finding {
    // A chain problem (an issuer expired, missing, untrusted) is judged certificate by certificate.
    let failed = t.addresses.iter().filter_map(|a| a.tls.as_ref()).find(|x| x.outcome != TlsOutcome::Ok);
    if let Some(v) =
        failed.filter(|_| outcome != TlsOutcome::NameMismatch).and_then(|x| super::tls::judge_chain(x, &t.host))
    {
        let scope =
            format!("every broker in {}, {} of {}, while other zones pass", z.az_id, in_zone.len(), in_zone.len());
        return super::tls::chain_finding(t, &v, &scope, z.addresses.clone());
    }
    let cert = t.addresses.iter().filter_map(|a| a.tls.as_ref()).find_map(|x| x.peer_certificate.as_ref());
    let cert_text = cert
        .map(|c| format!("certificate {} (SANs: {}; issuer {})", c.subject, c.sans.join(", "), c.issuer))
        .unwrap_or_else(|| "the certificate".into());
    // The names the zone's certificate must cover: each broker name with its first label a wildcard.
    let mut names: Vec<String> = in_zone
        .iter()
        .map(|b| b.host.split_once('.').map_or(b.host.clone(), |(_, rest)| format!("*.{rest}")))
        .collect();
    names.sort();
    names.dedup();
    let hosts: Vec<&str> = in_zone.iter().map(|b| b.host.as_str()).take(4).collect();
    let (code, what, fix, action) = match outcome {
        TlsOutcome::NameMismatch => (
            FindingCode::TlsNameMismatch,
            "does not cover their names",
            format!(
                "The endpoint's listener in {} serves a certificate without the zone's broker names ({}): the \
                 server must present one that covers them (provider side). Nothing is wrong with the network: \
                 the handshake itself completes.",
                z.az_id,
                names.join(", ")
            ),
            FixAction::ServeCertificate { names: names.clone(), az_id: Some(z.az_id.clone()) },
        ),
        TlsOutcome::UnknownIssuer => (
            FindingCode::TlsUnknownIssuer,
            "does not lead to a trusted CA",
            format!(
                "The certificate served in {} is not signed by a CA this machine trusts, while the other zones' \
                 is: something in that zone's path presents another chain (a TLS-inspecting appliance), or the \
                 server there sends another one. Find what answers at {} in {}.",
                z.az_id,
                z.addresses.join(", "),
                z.az_id
            ),
            FixAction::TrustCa { issuer: cert.map(|c| c.issuer.clone()).unwrap_or_default() },
        ),
        _ => (
            FindingCode::TlsExpired,
            "is outside its validity",
            format!(
                "The endpoint's listener in {} serves a certificate that is not current ({} to {}): the server \
                 must present a current one (provider side).",
                z.az_id,
                cert.map(|c| c.not_before.as_str()).unwrap_or("?"),
                cert.map(|c| c.not_after.as_str()).unwrap_or("?")
            ),
            FixAction::ServeCertificate { names: names.clone(), az_id: Some(z.az_id.clone()) },
        ),
    };
    let mut f = finding(
        code,
        t,
        Stage::Tls,
        format!(
            "every broker in {} ({} of {}: {}) is served {cert_text}, which {what}, while the bootstrap's and \
             other zones' handshakes pass; the zone's address(es): {}",
            z.az_id,
            in_zone.len(),
            in_zone.len(),
            hosts.join(", "),
            z.addresses.join(", ")
        ),
        fix,
        z.addresses.clone(),
    );
    if outcome == TlsOutcome::NotYetValid {
        f.cause = Cause::NotYetValid;
    }
    f.action = Some(action);
    f
}

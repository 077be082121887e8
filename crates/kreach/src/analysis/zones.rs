//! Per-zone verdicts: which availability zones pass, and when a zone's path is down.

use super::finding;
use crate::report::findings::FindingCode;
use crate::report::{Finding, Report, Stage, StageStatus, TargetReport, ZoneSummary};
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

/// A zone's path is down when every broker of it fails on the way to the endpoint (TCP or
/// TLS): a broker that is reached but does not answer Kafka, or a name that does not resolve, is
/// that broker's problem, not the zone's.
pub(super) fn zone_path_down(z: &ZoneSummary, targets: &[TargetReport]) -> bool {
    let brokers: Vec<&TargetReport> =
        targets.iter().filter(|t| t.broker.as_ref().and_then(|b| b.az_id.as_ref()) == Some(&z.az_id)).collect();
    !brokers.is_empty()
        && brokers.iter().all(|t| {
            !broker_passed(t)
                && t.stages
                    .iter()
                    .find(|s| s.status == StageStatus::Fail)
                    .is_some_and(|s| matches!(s.stage, Stage::Tcp | Stage::Tls))
        })
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

/// The zones whose path is down while another zone passes.
pub(super) fn down_zones<'a>(zones: &'a [ZoneSummary], targets: &[TargetReport]) -> Vec<&'a str> {
    let healthy_zone = zones.iter().any(|z| z.status == StageStatus::Pass);
    zones.iter().filter(|z| healthy_zone && zone_path_down(z, targets)).map(|z| z.az_id.as_str()).collect()
}

/// One `zone-unreachable` per down zone.
pub(super) fn zone_findings(zones: &[ZoneSummary], down: &[&str], targets: &[TargetReport], out: &mut Vec<Finding>) {
    for z in zones.iter().filter(|z| down.contains(&z.az_id.as_str())) {
        let Some(t) = targets.iter().find(|t| t.broker.as_ref().and_then(|b| b.az_id.as_ref()) == Some(&z.az_id))
        else {
            continue;
        };
        let why = super::brokers::first_failure(t);
        let in_zone = || targets.iter().filter(|t| t.broker.as_ref().and_then(|b| b.az_id.as_ref()) == Some(&z.az_id));
        let mtu = in_zone().all(|t| {
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
                "The endpoint's path in {} is broken: check that the VPC endpoint has a subnet (and a healthy \
                 network interface) in {}, that subnet's network ACL and route table, and the endpoint security \
                 group's rules for that interface. Clients will time out on every partition led there.",
                z.az_id, z.az_id
            )
        };
        out.push(finding(
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
        ));
    }
}

//! What the CNAME chains say, read before anything downstream is blamed: a record that leads to
//! another VPC endpoint or to another region, and a zone the endpoint has no interface in. A
//! failure these explain is theirs, not the network's or a broker's.

use std::collections::{BTreeMap, BTreeSet};

use super::dns::covering_record;
use super::finding;
use super::names::{VpceName, region_of, vpce_name};
use crate::report::findings::FindingCode;
use crate::report::{
    CnameHop, DnsOutcome, Finding, FixAction, Report, Role, Stage, StageStatus, TargetReport, TcpOutcome,
};

/// What the run knows about this VPC's own endpoint.
struct Ours {
    /// The cluster's region (its domain's, else the bootstrap name's).
    region: Option<String>,
    /// Endpoint ids known to be this VPC's: the audit's, and those of chains whose addresses answer.
    ids: BTreeSet<String>,
    /// The endpoint's addresses (`--zone-address`, the audit's interfaces), by AZ ID.
    zones: BTreeMap<String, String>,
    /// An endpoint regional DNS name known to work here, to name in a fix.
    regional: Option<String>,
}

/// The VPC endpoint name a lookup's chain reaches, and the hop that leads into it.
fn reached(t: &TargetReport) -> Option<(&CnameHop, VpceName)> {
    let dns = t.dns.as_ref()?;
    dns.lookup.cname_chain.iter().find_map(|h| vpce_name(&h.target).map(|v| (h, v)))
}

/// Whether any of `t`'s addresses connected.
fn connected(t: &TargetReport) -> bool {
    t.addresses.iter().any(|a| a.tcp.as_ref().is_some_and(|c| c.outcome == TcpOutcome::Connected))
}

fn ours(report: &Report) -> Ours {
    let domain = report.network.as_ref().and_then(|n| n.domain.as_ref()).map(|d| d.name.as_str());
    let bootstrap = report.targets.iter().find(|t| t.role == Role::Bootstrap).map(|t| t.host.as_str());
    // Where this VPC's endpoints are: the probe's own region when it knows it (an endpoint serves
    // its VPC's region, whatever region its service is in: cross-region PrivateLink), else the
    // cluster's.
    let here = report.vantage.as_ref().and_then(|v| v.facts.region.clone());
    let audited = report.aws.as_ref().and_then(|a| a.region.clone());
    let region = here.or(audited).or_else(|| domain.and_then(region_of)).or_else(|| bootstrap.and_then(region_of));
    let mut ids = BTreeSet::new();
    let mut regional = None;
    let audit = report.aws.as_ref().and_then(|a| a.endpoint.as_ref());
    if let Some(e) = audit {
        ids.insert(e.id.clone());
        regional = e.dns_names.first().cloned();
    }
    for t in report.targets.iter().filter(|t| connected(t)) {
        if let Some((hop, v)) = reached(t) {
            ids.insert(v.endpoint_id.clone());
            if v.az_name.is_none() && regional.is_none() {
                regional = Some(hop.target.trim_end_matches('.').to_string());
            }
        }
    }
    Ours { region, ids, zones: super::zones::zone_addresses(report), regional }
}

/// Whether `t` fails on the way to the endpoint (TCP or TLS first).
fn fails_on_the_way(t: &TargetReport) -> bool {
    t.stages.iter().find(|s| s.status == StageStatus::Fail).is_some_and(|s| matches!(s.stage, Stage::Tcp | Stage::Tls))
}

/// The findings the chains explain, each naming every target it explains; the targets to leave
/// out of downstream rules.
pub(super) fn chain_findings(report: &Report, out: &mut Vec<Finding>) -> BTreeSet<String> {
    let ours = ours(report);
    let domain = report.network.as_ref().and_then(|n| n.domain.as_ref()).map(|d| d.name.clone());
    let mut by_record: BTreeMap<(String, FindingCode), Finding> = BTreeMap::new();
    for t in report.targets.iter().filter(|t| t.role != Role::Endpoint && fails_on_the_way(t)) {
        let Some((hop, v)) = reached(t) else { continue };
        let other_region = ours.region.as_ref().filter(|r| **r != v.region);
        let ours_addresses: Vec<&String> = ours.zones.values().collect();
        let other_endpoint = (!ours.ids.is_empty() && !ours.ids.contains(&v.endpoint_id))
            || (!ours_addresses.is_empty()
                && !t.addresses.is_empty()
                && t.addresses.iter().all(|a| !ours_addresses.contains(&&a.ip)));
        let code = if other_region.is_some() {
            FindingCode::DnsRecordOtherRegion
        } else if other_endpoint {
            FindingCode::DnsRecordOtherEndpoint
        } else {
            continue;
        };
        let action = domain.as_deref().and_then(|d| covering_record(&hop.name, d));
        let record = match &action {
            Some(FixAction::SetRecord { name, .. }) => name.clone(),
            _ => hop.name.clone(),
        };
        if let Some(f) = by_record.get_mut(&(record.clone(), code)) {
            f.explains.push(t.target.clone());
            continue;
        }
        let addresses: Vec<String> = t.addresses.iter().map(|a| a.ip.clone()).collect();
        let (summary, fix) = match other_region {
            Some(region) => (
                format!(
                    "{} resolves through `{}` CNAME {}: VPC endpoint {} in {}, while this VPC's endpoints are in \
                     {region}; its address(es) {} do not answer from here",
                    t.host,
                    hop.name,
                    hop.target,
                    v.endpoint_id,
                    v.region,
                    addresses.join(", ")
                ),
                format!(
                    "Point the record answering `{}` ({record}) at the DNS name of this VPC's endpoint in {region}{}: \
                     an endpoint's addresses live in its own VPC and region (cross-region PrivateLink puts the \
                     service elsewhere, never the endpoint). If the VPC has no endpoint to the cluster's service, \
                     create one in {region} first.",
                    hop.name,
                    ours.regional.as_ref().map(|n| format!(" (`{n}`)")).unwrap_or_default()
                ),
            ),
            None => {
                let known: Vec<&str> = ours.ids.iter().map(String::as_str).collect();
                let whose = if known.is_empty() {
                    format!(
                        "whose addresses ({}) are none of this VPC's endpoint addresses ({})",
                        addresses.join(", "),
                        ours.zones.iter().map(|(z, ip)| format!("{z} {ip}")).collect::<Vec<_>>().join(", ")
                    )
                } else {
                    format!("not {} (this VPC's endpoint, whose names answer here)", known.join(", "))
                };
                (
                    format!(
                        "{} resolves through `{}` CNAME {}: VPC endpoint {}, {whose}; nothing answers there from here",
                        t.host, hop.name, hop.target, v.endpoint_id
                    ),
                    format!(
                        "Point the record answering `{}` ({record}) at this VPC's endpoint's DNS name{} instead of \
                         another endpoint's (another VPC's, or one that was replaced).",
                        hop.name,
                        ours.regional.as_ref().map(|n| format!(" (`{n}`)")).unwrap_or_default()
                    ),
                )
            }
        };
        let mut f = finding(code, t, Stage::Dns, summary, fix, addresses);
        f.action = action.map(|a| with_known_name(a, ours.regional.as_deref()));
        f.zone = t.broker.as_ref().and_then(|b| b.az_id.clone());
        by_record.insert((record, code), f);
    }
    let mut explained = BTreeSet::new();
    for f in by_record.into_values() {
        explained.insert(f.target.clone());
        explained.extend(f.explains.iter().cloned());
        out.push(f);
    }
    coverage_findings(report, &ours, out, &mut explained);
    explained
}

/// A regional record target named when kreach knows the endpoint's regional name.
fn with_known_name(action: FixAction, regional: Option<&str>) -> FixAction {
    match (action, regional) {
        (
            FixAction::SetRecord { name, target: crate::report::RecordTarget::EndpointRegional { name: None } },
            Some(r),
        ) => FixAction::SetRecord {
            name,
            target: crate::report::RecordTarget::EndpointRegional { name: Some(r.to_string()) },
        },
        (action, _) => action,
    }
}

/// A zone whose brokers' names all fail to resolve, where the evidence says the endpoint has no
/// interface there: the endpoint's zones (`--zone-address`, the audit) lack it while naming others,
/// or the zonal name the record leads to belongs to this VPC's endpoint and does not exist. The
/// fix is the endpoint's subnet in that zone, not a record.
fn coverage_findings(report: &Report, ours: &Ours, out: &mut Vec<Finding>, explained: &mut BTreeSet<String>) {
    let mut zones: BTreeMap<&str, Vec<&TargetReport>> = BTreeMap::new();
    for t in report.targets.iter().filter(|t| t.role == Role::Broker) {
        if let Some(az) = t.broker.as_ref().and_then(|b| b.az_id.as_deref()) {
            zones.entry(az).or_default().push(t);
        }
    }
    let healthy = report.zones.iter().any(|z| z.status == StageStatus::Pass);
    for (az, brokers) in zones {
        let unresolved = |t: &&TargetReport| {
            t.dns.as_ref().is_some_and(|d| matches!(d.lookup.outcome, DnsOutcome::Nxdomain | DnsOutcome::NoData))
        };
        if !healthy || !brokers.iter().all(unresolved) || ours.zones.contains_key(az) && !ours.zones.is_empty() {
            continue;
        }
        let last = brokers[0].dns.as_ref().and_then(|d| d.lookup.cname_chain.last());
        let ours_zonal = last
            .and_then(|h| vpce_name(&h.target))
            .filter(|v| v.az_name.is_some() && ours.ids.contains(&v.endpoint_id));
        let listed_elsewhere = !ours.zones.is_empty();
        if ours_zonal.is_none() && !listed_elsewhere {
            continue;
        }
        let evidence = match (&ours_zonal, last) {
            (Some(v), Some(h)) => format!(
                "the zonal record leads to `{}`, endpoint {}'s name in {}, which does not exist",
                h.target,
                v.endpoint_id,
                v.az_name.as_deref().unwrap_or("?")
            ),
            _ => format!(
                "the endpoint's addresses are in {} only",
                ours.zones.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        };
        let names: Vec<String> = brokers.iter().take(4).map(|t| t.host.clone()).collect();
        let mut f = finding(
            FindingCode::AwsAzNotCovered,
            brokers[0],
            Stage::Dns,
            format!(
                "the cluster's brokers in {az} ({} of them: {}) do not resolve and the VPC endpoint has no network \
                 interface in {az}: {evidence}",
                brokers.len(),
                names.join(", ")
            ),
            format!(
                "Add a subnet in {az} to the VPC endpoint (aws ec2 modify-vpc-endpoint --vpc-endpoint-id <id> \
                 --add-subnet-ids <a subnet of this VPC in {az}>): the cluster has brokers there, and a record \
                 cannot lead to an interface that does not exist. Then the zonal record `*.{az}.<domain>` leads to \
                 the new zonal name."
            ),
            Vec::new(),
        );
        f.zone = Some(az.to_string());
        f.explains = brokers.iter().skip(1).map(|t| t.target.clone()).collect();
        f.action = Some(FixAction::AddEndpointZone { az_id: az.to_string() });
        explained.extend(brokers.iter().map(|t| t.target.clone()));
        out.push(f);
    }
}

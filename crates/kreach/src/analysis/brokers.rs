//! Findings for every advertised broker, the caps that cut the work, and the grouping that keeps 500 dead brokers one problem.

use super::{broker_passed, cname_loop_finding, finding};
use crate::limits::{MAX_ADDRESSES_PER_NAME, MAX_BROKER_TARGETS};
use crate::report::findings::FindingCode;
use crate::report::{
    Cause, DnsOutcome, DnsRecord, Finding, FixAction, Hop, KafkaOutcome, RecordTarget, Report, Role, Stage,
    TargetReport, TcpOutcome, TlsOutcome,
};

pub(super) fn broker_findings(
    t: &TargetReport,
    down_zones: &[(&str, super::zones::ZoneFault)],
    zone_addresses: &std::collections::BTreeMap<String, String>,
    known_records: &[DnsRecord],
    domain: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let Some(broker) = &t.broker else { return };
    let Some(dns) = &t.dns else { return };
    let id = broker.node_id;
    let zone_down = broker.az_id.as_deref().is_some_and(|az| down_zones.iter().any(|(z, _)| *z == az));
    if dns.lookup.cname_loop || dns.lookup.cname_too_long {
        out.push(cname_loop_finding(t, &dns.lookup));
        return;
    }
    if dns.lookup.name_invalid {
        let mut f = finding(
            FindingCode::DnsNameInvalid,
            t,
            Stage::Dns,
            format!("broker {id}: {}", dns.lookup.error.as_deref().unwrap_or("not a DNS name")),
            "The broker's advertised listener names a host no client can resolve: correct its advertised.listeners \
             (the provider's side for a managed cluster)."
                .into(),
            Vec::new(),
        );
        f.hop = Hop::Broker;
        f.action = Some(FixAction::FixBroker { node_id: id });
        out.push(f);
        return;
    }
    // Asked before its record existed: the resolver's cached NXDOMAIN, not a missing record.
    if let Some(d) = super::dns::negative_cached(dns) {
        let mut f = d.on(t, Stage::Dns);
        f.zone = broker.az_id.clone();
        out.push(f);
        return;
    }
    // A zonal (or wildcard) record that leads out of the zone to a name nobody serves: the record
    // to change, not one to create.
    let died_elsewhere = dns.lookup.cname_chain.last().is_some_and(|last| {
        let zone_said = dns.lookup.negative_zone.as_deref().unwrap_or(&last.target);
        domain.is_some_and(|d| !super::dns::under(zone_said, d) && !super::dns::under(&last.target, d))
    });
    if matches!(dns.lookup.outcome, DnsOutcome::Nxdomain | DnsOutcome::NoData) && died_elsewhere {
        if let Some(d) = super::dns::dangling(t, &dns.lookup, known_records, domain) {
            let mut f = d.on(t, Stage::Dns);
            f.zone = broker.az_id.clone();
            out.push(f);
            return;
        }
    }
    match dns.lookup.outcome {
        DnsOutcome::Nxdomain | DnsOutcome::NoData => {
            let mut f = finding(
                FindingCode::BrokerDnsNxdomain,
                t,
                Stage::Dns,
                format!(
                    "broker {id} advertises {} which does not resolve via {}{} although the bootstrap does",
                    t.host,
                    dns.lookup.resolver,
                    dns.lookup.negative_zone.as_ref().map(|z| format!(" (zone {z} said NXDOMAIN)")).unwrap_or_default()
                ),
                format!(
                    "Clients learn this name from Metadata and must resolve it: create a record covering `{}` in \
                     the private hosted zone (for PrivateLink: `*.<az-id>.<domain>` CNAME the zonal endpoint name, \
                     or `*.<domain>` CNAME the regional one). A name outside the zone's domain means the cluster \
                     advertises a listener the zone cannot serve.",
                    t.host
                ),
                Vec::new(),
            );
            // Inside the cluster's domain the zone lacks the record; outside it, the broker advertises
            // a name the zone cannot serve (the provider's side).
            match domain.and_then(|d| super::dns::covering_record(&t.host, d)) {
                Some(action) => f.action = Some(action),
                None => {
                    f.hop = Hop::Broker;
                    f.action = Some(FixAction::FixBroker { node_id: id });
                }
            }
            f.zone = broker.az_id.clone();
            out.push(f);
            return;
        }
        DnsOutcome::Answer | DnsOutcome::AddressLiteral => {}
        _ => {
            if !zone_down {
                out.push(finding(
                    FindingCode::BrokerUnreachable,
                    t,
                    Stage::Dns,
                    format!("broker {id} ({}): DNS failed: {}", t.target, dns.lookup.error.as_deref().unwrap_or("")),
                    "Check the resolver for the brokers' names (the same private zone as the bootstrap).".into(),
                    Vec::new(),
                ));
            }
            return;
        }
    }
    if let Some(az) = &broker.az_id {
        zonal_finding(t, id, az, zone_addresses, known_records, out);
    }
    if zone_down || broker_passed(t) {
        return;
    }
    out.push(unreachable_finding(t, id));
}

/// Zonal DNS: a broker of zone `az` should resolve to that zone's endpoint address only.
fn zonal_finding(
    t: &TargetReport,
    id: i32,
    az: &str,
    zone_addresses: &std::collections::BTreeMap<String, String>,
    known_records: &[DnsRecord],
    out: &mut Vec<Finding>,
) {
    let Some(dns) = &t.dns else { return };
    // The zone's own record, with where it must lead.
    let domain = t.host.split_once(&format!("{az}.")).map(|(_, d)| d.to_string());
    let zonal = |mut f: Finding| {
        f.zone = Some(az.to_string());
        f.cause = if regional_answer(dns) { Cause::NotFound } else { Cause::WrongTarget };
        f.action = domain.as_ref().map(|d| FixAction::SetRecord {
            name: format!("*.{az}.{d}"),
            target: RecordTarget::EndpointZonal { az_id: az.to_string(), name: None },
        });
        f
    };
    let ips: Vec<&str> = dns.lookup.addresses.iter().map(|a| a.ip.as_str()).collect();
    // Several addresses for a zonal name: the regional answer, every zone's interface.
    let regional = ips.len() > 1;
    let expected = zone_addresses.get(az);
    if let Some(expected) = expected.filter(|e| !regional && ips != [e.as_str()]) {
        out.push(zonal(finding(
            FindingCode::DnsZonalMismatch,
            t,
            Stage::Dns,
            format!(
                "broker {id} ({}) in {az} resolves to {}, but {az}'s endpoint address is {expected}",
                t.host,
                ips.join(", ")
            ),
            format!(
                "Point the zonal record for {az} (`*.{az}.<domain>`) at the endpoint's zonal DNS name in {az}: \
                 it leads to another zone's address now."
            ),
            ips.iter().map(|s| s.to_string()).collect(),
        )));
    } else if regional {
        let domain = t.host.split_once(&format!("{az}.")).map(|(_, d)| d.to_string());
        let exact = known_records.iter().find(|r| r.name.starts_with(&format!("*.{az}.")));
        let record = match (exact, &domain) {
            (Some(r), _) => format!("`{} {} {}`", r.name, r.record_type, r.value),
            (None, Some(d)) => format!("`*.{az}.{d}` CNAME <the endpoint's zonal DNS name in {az}>"),
            (None, None) => format!("a zonal record for {az} pointing at the endpoint's zonal DNS name"),
        };
        out.push(zonal(finding(
            FindingCode::DnsZonalMismatch,
            t,
            Stage::Dns,
            format!(
                "broker {id} ({}) in {az} resolves to {} addresses ({}), the regional answer, not its zone's endpoint address",
                t.host,
                ips.len(),
                ips.join(", ")
            ),
            format!(
                "Create {record} in the private hosted zone; name it by AZ ID ({az}), not by AZ name. Until \
                 then traffic to this broker crosses zones (cost, latency) and fails when another zone fails."
            ),
            ips.iter().map(|s| s.to_string()).collect(),
        )));
    }
}

/// A zonal name answered with several addresses: the regional answer (no zonal record).
fn regional_answer(dns: &crate::report::DnsDetail) -> bool {
    dns.lookup.addresses.len() > 1
}

/// A broker that fails at its first failing stage, with each address's evidence.
fn unreachable_finding(t: &TargetReport, id: i32) -> Finding {
    let (stage, why) = super::zones::first_failure(t);
    let errors: Vec<String> = t
        .addresses
        .iter()
        .filter_map(|a| {
            a.kafka
                .as_ref()
                .filter(|k| k.outcome != KafkaOutcome::Ok)
                .map(|k| format!("{} Kafka {} ({})", a.ip, k.outcome.word(), k.error.as_deref().unwrap_or("")))
                .or_else(|| {
                    a.tcp
                        .as_ref()
                        .filter(|c| c.outcome != TcpOutcome::Connected)
                        .map(|c| format!("{} TCP {}", a.ip, c.outcome.word()))
                })
                .or_else(|| {
                    a.tls
                        .as_ref()
                        .filter(|c| c.outcome != TlsOutcome::Ok)
                        .map(|c| format!("{} TLS {}", a.ip, c.outcome.word()))
                })
        })
        .collect();
    let mut f = finding(
        FindingCode::BrokerUnreachable,
        t,
        stage,
        format!("broker {id} ({}) fails at {why}: {}", t.target, errors.join(", ")),
        "Clients reach this broker for the partitions it leads and will stall on them. If its address is \
         another zone's or the endpoint's, check that zone's path; if the endpoint forwards but the broker does \
         not answer, the broker itself is down (provider side)."
            .into(),
        t.addresses.iter().map(|a| a.ip.clone()).collect(),
    );
    f.action = Some(FixAction::FixBroker { node_id: id });
    f
}

/// Brokers advertised on a port that cannot exist: not probed, named here.
pub(super) fn invalid_port_findings(report: &Report, out: &mut Vec<Finding>) {
    let Some(bootstrap) = report.targets.iter().find(|t| t.role == Role::Bootstrap) else { return };
    let Some(cluster) = &report.cluster else { return };
    let bad: Vec<String> = cluster
        .brokers
        .iter()
        .filter(|b| !(1..=65535).contains(&b.port))
        .map(|b| format!("broker {} at {}:{}", b.node_id, crate::text::clean(&b.host), b.port))
        .collect();
    if bad.is_empty() {
        return;
    }
    let shown: Vec<&str> = bad.iter().take(8).map(String::as_str).collect();
    let more = if bad.len() > shown.len() { format!(" and {} more", bad.len() - shown.len()) } else { String::new() };
    out.push(finding(
        FindingCode::BrokerPortInvalid,
        bootstrap,
        Stage::Kafka,
        format!(
            "the cluster advertises {} on a port no client can connect to: {}{more}",
            if bad.len() == 1 { "a broker".to_string() } else { format!("{} brokers", bad.len()) },
            shown.join(", ")
        ),
        "The broker's advertised listener is misconfigured (advertised.listeners): it must name a port from 1 \
         to 65535 that the endpoint forwards. Clients fail on every partition that broker leads."
            .into(),
        Vec::new(),
    ));
}

/// Findings for the caps that cut the work short: advertised brokers beyond what is probed, and
/// names with more addresses than are connected to.
pub(super) fn cap_findings(report: &Report, out: &mut Vec<Finding>) {
    let Some(bootstrap) = report.targets.iter().find(|t| t.role == Role::Bootstrap) else { return };
    if let Some(cluster) = report.cluster.as_ref().filter(|c| c.brokers_total.max(c.brokers.len()) > MAX_BROKER_TARGETS)
    {
        let total = cluster.brokers_total.max(cluster.brokers.len());
        out.push(finding(
            FindingCode::ProbeCapped,
            bootstrap,
            Stage::Kafka,
            format!(
                "the cluster advertises {} brokers; kreach probed the first {} (by node id) and left {} unchecked",
                total,
                MAX_BROKER_TARGETS,
                total - MAX_BROKER_TARGETS
            ),
            "No real cluster advertises that many brokers: check that the bootstrap is the cluster you mean. \
             The brokers that were probed are in the matrix."
                .into(),
            Vec::new(),
        ));
    }
    let capped: Vec<(&TargetReport, usize)> = report
        .targets
        .iter()
        .filter_map(|t| t.dns.as_ref().map(|d| (t, d.lookup.addresses.len())))
        .filter(|(t, n)| *n > t.addresses.len() && t.addresses.len() == MAX_ADDRESSES_PER_NAME)
        .collect();
    if let Some((first, most)) = capped.iter().max_by_key(|(_, n)| *n) {
        out.push(finding(
            FindingCode::ProbeCapped,
            first,
            Stage::Dns,
            format!(
                "{} name(s) resolved to more than {} addresses ({} has {most} addresses); only the first {} of \
                 each were connected to",
                capped.len(),
                MAX_ADDRESSES_PER_NAME,
                first.host,
                MAX_ADDRESSES_PER_NAME
            ),
            "An interface endpoint has one address per zone: this many addresses means the name does not lead \
             to a VPC endpoint. Check the record it resolves through."
                .into(),
            Vec::new(),
        ));
    }
}

/// Codes that repeat once per broker: past this many they become one finding with counts and examples.
pub(super) const GROUP_AFTER: usize = 5;

/// Examples quoted in a grouped finding.
pub(super) const GROUP_EXAMPLES: usize = 3;

/// Folds many findings of one per-broker code into one, so 500 dead brokers read as one problem.
pub(super) fn group_repeats(out: Vec<Finding>) -> Vec<Finding> {
    let mut result = Vec::with_capacity(out.len());
    let mut repeats: Vec<(FindingCode, Vec<Finding>)> = Vec::new();
    for f in out {
        if !matches!(
            f.code,
            FindingCode::BrokerUnreachable | FindingCode::BrokerDnsNxdomain | FindingCode::DnsCnameLoop
        ) {
            result.push(f);
            continue;
        }
        match repeats.iter_mut().find(|(c, _)| *c == f.code) {
            Some((_, list)) => list.push(f),
            None => repeats.push((f.code, vec![f])),
        }
    }
    for (_, list) in repeats {
        if list.len() <= GROUP_AFTER {
            result.extend(list);
            continue;
        }
        let n = list.len();
        let examples: Vec<&str> = list.iter().take(GROUP_EXAMPLES).map(|f| f.summary.as_str()).collect();
        let mut addresses: Vec<String> = list.iter().flat_map(|f| f.addresses.iter().cloned()).collect();
        addresses.sort();
        addresses.dedup();
        addresses.truncate(16);
        let mut grouped = list[0].clone();
        grouped.summary = format!("{n} brokers: {}; and {} more like them", examples.join("; "), n - examples.len());
        grouped.addresses = addresses;
        // The grouped finding stands for every broker it folds in.
        let mut explains: Vec<String> =
            list.iter().flat_map(|f| std::iter::once(&f.target).chain(&f.explains)).cloned().collect();
        explains.sort();
        explains.dedup();
        explains.retain(|t| *t != grouped.target);
        grouped.explains = explains;
        result.push(grouped);
    }
    result
}

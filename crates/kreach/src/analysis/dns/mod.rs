//! DNS findings: missing records, public answers, resolver failures, loops. Each finding's text
//! is a constructor in `diags`; this file decides which evidence raises which.

mod diags;

use crate::analysis::Diag;
use crate::report::{
    AnswerClass, DnsDetail, DnsLookup, DnsOutcome, DnsRecord, Finding, FixAction, NetworkSection, RecordTarget, Stage,
    TargetReport, TcpOutcome,
};

/// The zone a wildcard for `name` belongs in: the cluster's domain when the name (or the chain's
/// last name) is under it, else the zone that said NXDOMAIN, else the name's parent.
pub(super) fn zone_for(name: &str, lookup: &DnsLookup, domain: Option<&str>) -> String {
    let last = lookup.cname_chain.last().map_or(name, |h| h.target.as_str());
    if let Some(d) = domain.filter(|d| under(last, d) || under(name, d)) {
        return d.to_string();
    }
    lookup.negative_zone.clone().unwrap_or_else(|| name.split_once('.').map_or(name, |(_, p)| p).to_string())
}

/// Whether `name` is `domain` or inside it.
pub(super) fn under(name: &str, domain: &str) -> bool {
    let (name, domain) =
        (name.trim_end_matches('.').to_ascii_lowercase(), domain.trim_end_matches('.').to_ascii_lowercase());
    name == domain || name.ends_with(&format!(".{domain}"))
}

/// Whether a record named `pattern` (maybe `*.zone`) answers `name`.
fn record_answers(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(zone) => under(name, zone) && !name.eq_ignore_ascii_case(zone),
        None => pattern.eq_ignore_ascii_case(name),
    }
}

/// A CNAME chain that ends at a name nobody serves: the record to change, not one to create.
pub(super) fn dangling(t: &TargetReport, l: &DnsLookup, records: &[DnsRecord], domain: Option<&str>) -> Option<Diag> {
    let last = l.cname_chain.last()?;
    // The audit knows the endpoint's current names: the most specific expected record wins.
    let expected = records.iter().filter(|r| record_answers(&r.name, &last.name)).max_by_key(|r| r.name.len());
    let diag = diags::cname_dangling(&t.host, l, last, expected);
    let action = match expected {
        Some(r) => Some(FixAction::SetRecord {
            name: r.name.clone(),
            target: RecordTarget::Name { name: r.value.trim_end_matches('.').to_string() },
        }),
        None => domain.and_then(|d| covering_record(&last.name, d)),
    };
    Some(match action {
        Some(a) => diag.action(a),
        None => diag,
    })
}

/// The wildcard record of the cluster's zone `domain` that answers `name`, with where it should
/// lead: `*.<domain>` to the endpoint's regional name, `*.<az-id>.<domain>` to its zonal one.
/// `None` for a name outside the domain, or one whose zone nobody may create.
pub(crate) fn covering_record(name: &str, domain: &str) -> Option<FixAction> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if crate::analysis::layout::zone_must_not_be_created(&domain).is_some() {
        return None;
    }
    let inner = name.strip_suffix(&format!(".{domain}"))?;
    let labels: Vec<&str> = inner.split('.').collect();
    match labels.as_slice() {
        [_] => Some(FixAction::SetRecord {
            name: format!("*.{domain}"),
            target: RecordTarget::EndpointRegional { name: None },
        }),
        [_, zone] if crate::analysis::names::looks_like_az_id(zone) => Some(FixAction::SetRecord {
            name: format!("*.{zone}.{domain}"),
            target: RecordTarget::EndpointZonal { az_id: zone.to_string(), name: None },
        }),
        _ => None,
    }
}

/// NXDOMAIN for the name (or its chain's last name) while a name never asked before under the
/// same parent resolves through the same resolver: a cached negative answer, not a missing record.
pub(super) fn negative_cached(dns: &DnsDetail) -> Option<Diag> {
    let l = &dns.lookup;
    let sibling = dns.fresh_sibling.as_ref().filter(|s| s.lookup.outcome == DnsOutcome::Answer)?;
    if l.outcome != DnsOutcome::Nxdomain {
        return None;
    }
    let reached = l.negative_name.as_deref().unwrap_or(&dns.name);
    let action = FixAction::WaitForCache { name: reached.to_string(), seconds: l.negative_ttl };
    Some(diags::negative_cached(reached, l, &sibling.lookup, &sibling.name).action(action))
}

/// A private zone named above the cluster's domain answers for it (the SOA given for the domain
/// is the broader zone's while the bootstrap's answer is private): it shadows public names.
fn zone_too_broad(dns: &DnsDetail) -> Option<Diag> {
    let dz = dns.domain_zone.as_ref()?;
    let zone = dz.zone.as_deref()?;
    let private = dns.lookup.outcome == DnsOutcome::Answer && dns.answer_class == Some(AnswerClass::Private);
    if !private || zone.eq_ignore_ascii_case(&dz.domain) || !under(&dz.domain, zone) {
        return None;
    }
    let why = crate::analysis::layout::zone_must_not_be_created(zone)?;
    let diag = diags::zone_too_broad(&dz.domain, zone, &dns.lookup.resolver, why);
    Some(diag.action(FixAction::AssociateZone { zone: dz.domain.clone() }))
}

/// A glb name whose public CNAME the resolver could not get ("chased private" resolution).
fn chase_failed(t: &TargetReport, dns: &DnsDetail) -> Option<Diag> {
    let l = &dns.lookup;
    // The name the chain reached: the host itself, or the last CNAME target.
    let reached = l.cname_chain.last().map_or(t.host.as_str(), |h| h.target.as_str()).to_ascii_lowercase();
    let who = crate::analysis::layout::provider_public(&reached)?;
    let action = FixAction::ReachPublicDns { name: reached.clone() };
    let why = match l.outcome {
        DnsOutcome::Error => format!("the resolver failed: {}", l.error.as_deref().unwrap_or("SERVFAIL")),
        DnsOutcome::Nxdomain | DnsOutcome::NoData => match l.negative_zone.as_deref() {
            // No SOA with the negative answer: nobody authoritative said it; something synthesized it.
            None => "the answer is NXDOMAIN without an SOA record: a synthesized answer (a DNS Firewall rule, a \
                     filtering forwarder), not the name's authority"
                .to_string(),
            // Another zone saying it shadows public DNS (the public authority saying NXDOMAIN is a wrong name).
            Some(z) if under(&reached, z) && crate::analysis::layout::provider_public(z).is_none() => {
                format!("zone `{z}` answered for it: a private zone with that name shadows public DNS")
            }
            Some(_) => return None,
        },
        _ => return None,
    };
    let public = dns.public.as_ref().filter(|p| !p.cname_chain.is_empty() || p.outcome == DnsOutcome::Answer);
    let public_says = public
        .map(|p| {
            let said = if p.addresses.is_empty() {
                let targets: Vec<&str> = p.cname_chain.iter().map(|h| h.target.as_str()).collect();
                format!("a CNAME to {}", targets.join(" -> "))
            } else {
                describe_answer(p)
            };
            format!(", while public DNS ({}) answers it with {said}", p.resolver)
        })
        .unwrap_or_default();
    Some(diags::public_chase_failed(&t.host, &l.resolver, &reached, &why, &public_says, who).action(action))
}

pub(super) fn describe_answer(lookup: &DnsLookup) -> String {
    let mut parts: Vec<String> = lookup.cname_chain.iter().map(|c| c.target.clone()).collect();
    let ips: Vec<&str> = lookup.addresses.iter().map(|a| a.ip.as_str()).collect();
    parts.push(ips.join(", "));
    parts.join(" -> ")
}

pub(super) fn dns_findings(
    t: &TargetReport,
    dns: &DnsDetail,
    all: &[TargetReport],
    records: &[DnsRecord],
    network: Option<&NetworkSection>,
    out: &mut Vec<Finding>,
) {
    let mut found = Vec::new();
    lookup_diags(t, dns, all, records, network, &mut found);
    out.extend(found.into_iter().map(|d| d.on(t, Stage::Dns)));
}

fn lookup_diags(
    t: &TargetReport,
    dns: &DnsDetail,
    all: &[TargetReport],
    records: &[DnsRecord],
    network: Option<&NetworkSection>,
    out: &mut Vec<Diag>,
) {
    let domain = network.and_then(|n| n.domain.as_ref()).map(|d| d.name.as_str());
    let l = &dns.lookup;
    let name = &dns.name;
    let public_answer = dns.public.as_ref().filter(|p| p.outcome == DnsOutcome::Answer);
    let zone = zone_for(name, l, domain);
    let wildcard_fix = diags::wildcard_fix(&zone, records, network);
    if l.cname_loop || l.cname_too_long {
        out.push(cname_loop(t, l));
        return;
    }
    if let Some(d) = negative_cached(dns).or_else(|| chase_failed(t, dns)) {
        out.push(d);
        return;
    }
    // The chain left the cluster's zone and died elsewhere: a dangling target, not a missing record.
    let died_elsewhere = l.cname_chain.last().is_some_and(|last| {
        let zone_said = l.negative_zone.as_deref().unwrap_or(&last.target);
        domain.is_none_or(|d| !under(zone_said, d) && !under(&last.target, d))
    });
    if matches!(l.outcome, DnsOutcome::Nxdomain | DnsOutcome::NoData) && died_elsewhere {
        if let Some(d) = dangling(t, l, records, domain) {
            out.push(d);
            return;
        }
    }
    let reach = || FixAction::ReachResolver { resolver: l.resolver.clone() };
    // The record to create: the wildcard of the zone the name belongs in — the name asked last
    // (a glb name's CNAME target, not the glb name itself).
    let asked = l.cname_chain.last().map_or(name.as_str(), |hop| hop.target.as_str());
    let with_record = |d: Diag| match covering_record(asked, &zone).or_else(|| covering_record(name, &zone)) {
        Some(a) => d.action(a),
        None => d,
    };
    match (l.outcome, dns.answer_class) {
        (DnsOutcome::Unreachable, _) => out.push(diags::resolver_unreachable(name, l).action(reach())),
        (DnsOutcome::Error, _) => out.push(diags::resolver_error(name, l).action(reach())),
        (DnsOutcome::Nxdomain, _) => match public_answer {
            Some(public) => out.push(with_record(diags::private_record_missing(name, l, public, wildcard_fix))),
            None => out.push(with_record(diags::nxdomain(name, l, &zone, &wildcard_fix))),
        },
        (DnsOutcome::NoData, _) => out.push(with_record(diags::no_address(name, l, &wildcard_fix))),
        (DnsOutcome::Answer, Some(AnswerClass::Public)) => {
            let same = public_answer.is_some_and(|p| same_addresses(p, l));
            let d = diags::public_answer(name, l, same, &consequences(all, &t.host), &zone);
            out.push(match crate::analysis::layout::zone_must_not_be_created(&zone) {
                None => d.action(FixAction::AssociateZone { zone: zone.clone() }),
                Some(_) => d,
            });
        }
        (DnsOutcome::Answer, Some(AnswerClass::Mixed)) => out.push(diags::mixed_answer(name, l, &zone)),
        (DnsOutcome::Answer, Some(AnswerClass::Private)) => {
            out.push(diags::private_zone_in_effect(name, l, dns.public.as_ref()));
        }
        (DnsOutcome::Answer, None) | (DnsOutcome::AddressLiteral, _) => {}
    }
    if let Some(d) = zone_too_broad(dns) {
        out.push(d);
    }
    if let Some(p) = dns.public.as_ref().filter(|p| matches!(p.outcome, DnsOutcome::Unreachable | DnsOutcome::Error)) {
        out.push(diags::public_resolver_unreachable(name, p));
    }
}

pub(super) fn same_addresses(a: &DnsLookup, b: &DnsLookup) -> bool {
    let mut x: Vec<&str> = a.addresses.iter().map(|a| a.ip.as_str()).collect();
    let mut y: Vec<&str> = b.addresses.iter().map(|a| a.ip.as_str()).collect();
    x.sort_unstable();
    y.sort_unstable();
    x == y
}

/// What happened downstream of a (bad) DNS answer, as evidence for the DNS finding.
pub(super) fn consequences(all: &[TargetReport], host: &str) -> String {
    let mut parts = Vec::new();
    for t in all.iter().filter(|t| t.host == host) {
        let failed: Vec<&str> = t
            .addresses
            .iter()
            .filter_map(|a| a.tcp.as_ref())
            .filter(|tcp| tcp.outcome != TcpOutcome::Connected)
            .map(|tcp| tcp.outcome.word())
            .collect();
        if !failed.is_empty() {
            parts.push(format!("port {}: {}", t.port, failed.join(", ")));
        }
    }
    if parts.is_empty() { String::new() } else { format!(" (then TCP {})", parts.join("; ")) }
}

/// The DNS finding for a CNAME chain that loops, or that is longer than any client follows.
pub(super) fn cname_loop_finding(t: &TargetReport, l: &DnsLookup) -> Finding {
    cname_loop(t, l).on(t, Stage::Dns)
}

fn cname_loop(t: &TargetReport, l: &DnsLookup) -> Diag {
    if l.cname_too_long { diags::cname_chain_too_long(&t.host, l) } else { diags::cname_loop(&t.host, l) }
}

//! DNS findings: missing records, public answers, resolver failures, loops.

use super::finding;
use crate::report::findings::FindingCode;
use crate::report::{
    AnswerClass, DnsDetail, DnsLookup, DnsOutcome, DnsRecord, Finding, Stage, TargetReport, TcpOutcome,
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
fn dangling_finding(t: &TargetReport, l: &DnsLookup, records: &[DnsRecord]) -> Option<Finding> {
    let last = l.cname_chain.last()?;
    let zone = l.negative_zone.as_deref().unwrap_or("its zone");
    // The audit knows the endpoint's current names: the most specific expected record wins.
    let expected = records.iter().filter(|r| record_answers(&r.name, &last.name)).max_by_key(|r| r.name.len());
    let fix = match expected {
        Some(r) => format!(
            "The record answering `{}` (in the cluster's private hosted zone: `{}`) points at `{}`, which no longer exists. Change it to `{} {} {}` (the endpoint's current DNS name). Do not create anything in `{zone}`.",
            last.name, r.name, last.target, r.name, r.record_type, r.value
        ),
        None => format!(
            "The record answering `{}` points at `{}`, which does not exist (`{zone}` said NXDOMAIN). Point it at the VPC endpoint's current DNS name (aws ec2 describe-vpc-endpoints --query 'VpcEndpoints[].DnsEntries'); do not create anything in `{zone}`.",
            last.name, last.target
        ),
    };
    Some(finding(
        FindingCode::DnsCnameDangling,
        t,
        Stage::Dns,
        format!(
            "{} via {}: {} CNAME {}, and {} does not resolve ({zone} answered NXDOMAIN)",
            t.host, l.resolver, last.name, last.target, last.target
        ),
        fix,
        Vec::new(),
    ))
}

/// A glb name whose public CNAME the resolver could not get ("chased private" resolution).
fn chase_failed(t: &TargetReport, dns: &DnsDetail) -> Option<Finding> {
    let l = &dns.lookup;
    // The name the chain reached: the host itself, or the last CNAME target.
    let reached = l.cname_chain.last().map_or(t.host.as_str(), |h| h.target.as_str()).to_ascii_lowercase();
    let who = crate::analysis::layout::provider_public(&reached)?;
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
    Some(finding(
        FindingCode::DnsPublicChaseFailed,
        t,
        Stage::Dns,
        format!("{} via {}: the hop `{reached}` comes from public DNS, and {why}{public_says}", t.host, l.resolver),
        format!(
            "{who}: the resolver in use must reach public DNS for `{reached}`. The path is blocked: look at the VPC's \
             Route 53 Resolver DNS Firewall rule groups (a BLOCK rule for the domain, or the redirection inspection \
             that blocks a CNAME chain leaving an allowed domain), Resolver forwarding rules covering the domain, \
             on-premises forwarders, and whether the resolver has outbound DNS at all. Do not create a private zone \
             for it: that would shadow every such name for the whole VPC."
        ),
        Vec::new(),
    ))
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
    domain: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let l = &dns.lookup;
    let name = &dns.name;
    let via = &l.resolver;
    let public_answer = dns.public.as_ref().filter(|p| p.outcome == DnsOutcome::Answer);
    let zone = zone_for(name, l, domain);
    let wildcard_fix = if let Some(why) = crate::analysis::layout::zone_must_not_be_created(&zone) {
        format!(
            "Do not create a private hosted zone named `{zone}`: {why}. The names must come from the cluster's own \
             private domain; check the bootstrap name and that the resolver reaches public DNS for the provider's names."
        )
    } else if records.is_empty() {
        format!(
            "In the Route 53 private hosted zone `{zone}` (associated with this VPC), create `*.{zone}` CNAME \
             <the VPC endpoint's regional DNS name> (and `*.<az-id>.{zone}` CNAME <each zonal endpoint DNS name>)."
        )
    } else {
        // The audit read the endpoint: name the exact records.
        let list: Vec<String> = records.iter().map(|r| format!("`{} {} {}`", r.name, r.record_type, r.value)).collect();
        format!(
            "In the Route 53 private hosted zone `{zone}` (associated with this VPC), create {} (`kreach records` prints them as a change batch).",
            list.join(", ")
        )
    };
    let err = l.error.as_deref().unwrap_or("");
    if l.cname_loop || l.cname_too_long {
        out.push(cname_loop_finding(t, l));
        return;
    }
    if let Some(f) = chase_failed(t, dns) {
        out.push(f);
        return;
    }
    // The chain left the cluster's zone and died elsewhere: a dangling target, not a missing record.
    let died_elsewhere = l.cname_chain.last().is_some_and(|last| {
        let zone_said = l.negative_zone.as_deref().unwrap_or(&last.target);
        domain.is_none_or(|d| !under(zone_said, d) && !under(&last.target, d))
    });
    if matches!(l.outcome, DnsOutcome::Nxdomain | DnsOutcome::NoData) && died_elsewhere {
        if let Some(f) = dangling_finding(t, l, records) {
            out.push(f);
            return;
        }
    }
    match l.outcome {
        DnsOutcome::AddressLiteral => {}
        DnsOutcome::Unreachable => out.push(finding(
            FindingCode::DnsResolverUnreachable,
            t,
            Stage::Dns,
            format!("resolver {via} did not answer for {name}: {err}"),
            "Check the resolver address: in a VPC it is the Route 53 Resolver at the VPC CIDR base + 2 \
             (or 169.254.169.253); UDP and TCP 53 to it must be allowed, and the VPC's enableDnsSupport must be on."
                .into(),
            Vec::new(),
        )),
        DnsOutcome::Error => out.push(finding(
            FindingCode::DnsResolverError,
            t,
            Stage::Dns,
            format!("resolver {via} answered {name} with an error: {err}"),
            "The resolver could not resolve the name (SERVFAIL/REFUSED): check its forwarding rules for the \
             cluster's domain (Route 53 Resolver rules, on-premises forwarders) and that it may recurse for this client."
                .into(),
            Vec::new(),
        )),
        DnsOutcome::Nxdomain => match public_answer {
            Some(public) => out.push(finding(
                FindingCode::DnsPrivateRecordMissing,
                t,
                Stage::Dns,
                format!(
                    "{name} is NXDOMAIN via {via}{} but resolves publicly via {} to {}",
                    l.negative_zone.as_ref().map(|z| format!(" (zone {z} answered)")).unwrap_or_default(),
                    public.resolver,
                    describe_answer(public)
                ),
                wildcard_fix,
                Vec::new(),
            )),
            None => out.push(finding(
                FindingCode::DnsNxdomain,
                t,
                Stage::Dns,
                format!(
                    "{name} does not exist via {via}{}",
                    l.negative_zone.as_ref().map(|z| format!(" (zone {z} answered NXDOMAIN)")).unwrap_or_default()
                ),
                format!(
                    "Check the bootstrap name against the cluster settings (a typo gives this too). If it is right, \
                     the private zone lacks its record: {wildcard_fix} Add --public-resolver to compare with public DNS."
                ),
                Vec::new(),
            )),
        },
        DnsOutcome::NoData => out.push(finding(
            FindingCode::DnsNoAddress,
            t,
            Stage::Dns,
            format!("{name} exists via {via} but has no A/AAAA record"),
            format!("Point the name at the endpoint: {wildcard_fix}"),
            Vec::new(),
        )),
        DnsOutcome::Answer => match dns.answer_class {
            Some(AnswerClass::Public) => {
                let same = public_answer.is_some_and(|p| same_addresses(p, l));
                let consequences = consequences(all, &t.host);
                out.push(finding(
                    FindingCode::DnsPublicAnswer,
                    t,
                    Stage::Dns,
                    format!(
                        "{name} resolved via {via} to public address(es) {}{}{}: the private hosted zone is not in effect",
                        describe_answer(l),
                        if same { " (the same answer as public DNS)" } else { "" },
                        consequences
                    ),
                    format!(
                        "Associate the private hosted zone `{zone}` with this client's VPC and keep the VPC's \
                         enableDnsSupport and enableDnsHostnames on; a client using its own resolver must forward \
                         `{zone}` to the VPC resolver (CIDR base + 2). A Lambda function must be attached to the VPC."
                    ),
                    l.addresses.iter().map(|a| a.ip.clone()).collect(),
                ));
            }
            Some(AnswerClass::Mixed) => out.push(finding(
                FindingCode::DnsMixedAnswer,
                t,
                Stage::Dns,
                format!("{name} resolved via {via} to private and public addresses: {}", describe_answer(l)),
                format!("Remove the public records from the answer: only the private hosted zone `{zone}` should answer, with the endpoint's addresses."),
                l.addresses.iter().filter(|a| !a.private).map(|a| a.ip.clone()).collect(),
            )),
            Some(AnswerClass::Private) => out.push(finding(
                FindingCode::DnsPrivateZoneInEffect,
                t,
                Stage::Dns,
                format!(
                    "{name} resolved via {via} to private address(es) {}{}",
                    describe_answer(l),
                    match &dns.public {
                        Some(p) if p.outcome == DnsOutcome::Answer => format!("; public DNS says {}", describe_answer(p)),
                        Some(p) => format!("; public DNS: {:?}", p.outcome).to_lowercase(),
                        None => String::new(),
                    }
                ),
                "Nothing to fix.".into(),
                Vec::new(),
            )),
            None => {}
        },
    }
    if let Some(p) = &dns.public {
        if matches!(p.outcome, DnsOutcome::Unreachable | DnsOutcome::Error) {
            out.push(finding(
                FindingCode::DnsPublicResolverUnreachable,
                t,
                Stage::Dns,
                format!(
                    "public resolver {} gave no answer for {name}: {}",
                    p.resolver,
                    p.error.as_deref().unwrap_or("")
                ),
                "Name a public resolver this machine can reach, or drop --public-resolver (from inside a VPC \
                 without internet access, none is reachable)."
                    .into(),
                Vec::new(),
            ));
        }
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
    if l.cname_too_long {
        let first = l.cname_chain.first().map_or(String::new(), |h| format!(" (it starts {} -> {})", h.name, h.target));
        return finding(
            FindingCode::DnsCnameChainTooLong,
            t,
            Stage::Dns,
            format!("{} via {}: more than 16 CNAME hops{first}", t.host, l.resolver),
            "For PrivateLink the chain is short: the cluster's name, the private zone's wildcard CNAME, the VPC \
             endpoint's DNS name (vpce-….vpce.amazonaws.com) with its addresses. Find the record that starts the \
             long chain and point it at the endpoint's name."
                .into(),
            Vec::new(),
        );
    }
    finding(
        FindingCode::DnsCnameLoop,
        t,
        Stage::Dns,
        format!("{} via {}: {}", t.host, l.resolver, l.error.as_deref().unwrap_or("CNAME loop")),
        "One record of the loop points at the wrong name: for PrivateLink the chain must end at the VPC \
         endpoint's DNS name (vpce-….vpce.amazonaws.com), which holds the addresses. Fix that record in the zone \
         that holds it."
            .into(),
        Vec::new(),
    )
}

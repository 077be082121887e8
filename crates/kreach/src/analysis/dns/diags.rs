//! The DNS findings, one constructor each, from the lookup that raised it.

use super::describe_answer;
use crate::analysis::Diag;
use crate::report::findings::FindingCode;
use crate::report::{CnameHop, DnsLookup, DnsOutcome, DnsRecord, Layout, Need, NetworkSection};

/// " (zone z answered…)" when the negative answer named its zone.
fn zone_said(l: &DnsLookup, what: &str) -> String {
    l.negative_zone.as_ref().map(|z| format!(" (zone {z} answered{what})")).unwrap_or_default()
}

/// What to create so `zone` answers: the exact records when the audit read them, the rule when not
/// (zonal records only where the layout uses them), and a warning when the zone is one nobody may
/// create. An access point's domain adds that the name may be another access point's.
pub(super) fn wildcard_fix(zone: &str, records: &[DnsRecord], network: Option<&NetworkSection>) -> String {
    let mut fix = records_fix(zone, records, network);
    if let Some(ap) = access_point_of(zone, network) {
        fix.push_str(&format!(
            " Each access point has its own domain, and `{zone}` is access point {ap}'s: if this VPC's endpoint was \
             made for another access point, use that access point's bootstrap (its names carry its ID, \
             `lkc-<id>-ap<id>.…`) instead; create {ap}'s zone here only if this VPC's endpoint is the one {ap} was \
             created with (with AWS credentials, kreach reads which zones this VPC has)."
        ));
    }
    fix
}

/// The access point ID a zone of the access-point layout is named after (`ap<id>.<region>.…`).
fn access_point_of<'a>(zone: &'a str, network: Option<&NetworkSection>) -> Option<&'a str> {
    network.filter(|n| n.layout == Layout::ConfluentAccessPoint)?;
    let first = zone.split('.').next()?;
    (first.len() > 2 && first.starts_with("ap") && zone.ends_with(".accesspoint.confluent.cloud")).then_some(first)
}

fn records_fix(zone: &str, records: &[DnsRecord], network: Option<&NetworkSection>) -> String {
    let zonal = network.is_none_or(|n| n.rules.zonal_records != Need::NotUsed);
    if let Some(why) = crate::analysis::layout::zone_must_not_be_created(zone) {
        format!(
            "Do not create a private hosted zone named `{zone}`: {why}. The names must come from the cluster's own \
             private domain; check the bootstrap name and that the resolver reaches public DNS for the provider's names."
        )
    } else if records.is_empty() {
        format!(
            "In the Route 53 private hosted zone `{zone}` (associated with this VPC), create `*.{zone}` CNAME \
             <the VPC endpoint's regional DNS name>{}.",
            if zonal {
                format!(" (and `*.<az-id>.{zone}` CNAME <each zonal endpoint DNS name>)")
            } else {
                String::new()
            }
        )
    } else {
        // The audit read the endpoint: name the exact records.
        let list: Vec<String> = records.iter().map(|r| format!("`{} {} {}`", r.name, r.record_type, r.value)).collect();
        format!(
            "In the Route 53 private hosted zone `{zone}` (associated with this VPC), create {} (`kreach records` prints them as a change batch).",
            list.join(", ")
        )
    }
}

/// The chain's `last` hop points at a name that does not exist; `expected` is the record the audit
/// says should answer it.
pub(super) fn cname_dangling(host: &str, l: &DnsLookup, last: &CnameHop, expected: Option<&DnsRecord>) -> Diag {
    let zone = l.negative_zone.as_deref().unwrap_or("its zone");
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
    Diag::new(
        FindingCode::DnsCnameDangling,
        format!(
            "{host} via {}: {} CNAME {}, and {} does not resolve ({zone} answered NXDOMAIN)",
            l.resolver, last.name, last.target, last.target
        ),
        fix,
    )
}

/// The hop `reached` (a provider's public name, `who`) could not be had: `why`; `public_says` what
/// public DNS answers instead.
pub(super) fn public_chase_failed(
    host: &str,
    resolver: &str,
    reached: &str,
    why: &str,
    public_says: &str,
    who: &str,
) -> Diag {
    Diag::new(
        FindingCode::DnsPublicChaseFailed,
        format!("{host} via {resolver}: the hop `{reached}` comes from public DNS, and {why}{public_says}"),
        format!(
            "{who}: the resolver in use must reach public DNS for `{reached}`. The path is blocked: look at the VPC's \
             Route 53 Resolver DNS Firewall rule groups (a BLOCK rule for the domain, or the redirection inspection \
             that blocks a CNAME chain leaving an allowed domain), Resolver forwarding rules covering the domain, \
             on-premises forwarders, and whether the resolver has outbound DNS at all. Do not create a private zone \
             for it: that would shadow every such name for the whole VPC."
        ),
    )
}

pub(super) fn resolver_unreachable(name: &str, l: &DnsLookup) -> Diag {
    Diag::new(
        FindingCode::DnsResolverUnreachable,
        format!("resolver {} did not answer for {name}: {}", l.resolver, l.error.as_deref().unwrap_or("")),
        "Check the resolver address: in a VPC it is the Route 53 Resolver at the VPC CIDR base + 2 \
         (or 169.254.169.253); UDP and TCP 53 to it must be allowed, and the VPC's enableDnsSupport must be on.",
    )
}

pub(super) fn resolver_error(name: &str, l: &DnsLookup) -> Diag {
    Diag::new(
        FindingCode::DnsResolverError,
        format!("resolver {} answered {name} with an error: {}", l.resolver, l.error.as_deref().unwrap_or("")),
        "The resolver could not resolve the name (SERVFAIL/REFUSED): check its forwarding rules for the \
         cluster's domain (Route 53 Resolver rules, on-premises forwarders) and that it may recurse for this client.",
    )
}

/// NXDOMAIN here, an answer from public DNS (`public`).
pub(super) fn private_record_missing(name: &str, l: &DnsLookup, public: &DnsLookup, wildcard_fix: String) -> Diag {
    Diag::new(
        FindingCode::DnsPrivateRecordMissing,
        format!(
            "{name} is NXDOMAIN via {}{} but resolves publicly via {} to {}",
            l.resolver,
            zone_said(l, ""),
            public.resolver,
            describe_answer(public)
        ),
        wildcard_fix,
    )
}

pub(super) fn nxdomain(name: &str, l: &DnsLookup, zone: &str, wildcard_fix: &str) -> Diag {
    // The negative answer's zone above the cluster's domain: no zone of that name answers here.
    let above = l.negative_zone.as_deref().filter(|z| !z.eq_ignore_ascii_case(zone) && super::under(zone, z));
    let lacks = match above {
        Some(z) => {
            format!("no zone named `{zone}` answers through this resolver (the NXDOMAIN came from `{z}`, above it)")
        }
        None => "the private zone lacks its record".to_string(),
    };
    Diag::new(
        FindingCode::DnsNxdomain,
        format!("{name} does not exist via {}{}", l.resolver, zone_said(l, " NXDOMAIN")),
        format!(
            "Check the bootstrap name against the cluster settings (a typo gives this too). If it is right, \
             {lacks}: {wildcard_fix} Add --public-resolver to compare with public DNS."
        ),
    )
}

/// NXDOMAIN for `name`, an answer for `sibling` (never asked before, same parent): a cached
/// negative answer.
pub(super) fn negative_cached(name: &str, l: &DnsLookup, sibling: &DnsLookup, sibling_name: &str) -> Diag {
    let left = match l.negative_ttl {
        Some(s) => format!("; the resolver may keep serving it for up to {s} s more (the negative answer's TTL)"),
        None => "; the answer carried no SOA, so how long it stays cached is unknown".to_string(),
    };
    Diag::new(
        FindingCode::DnsNegativeCached,
        format!(
            "{name} is NXDOMAIN via {}{}, yet {sibling_name} — a name never asked before under the same parent — \
             resolves to {}: a record covers the name now, and its NXDOMAIN is a negative answer the resolver cached \
             before the record existed{left}",
            l.resolver,
            zone_said(l, ""),
            describe_answer(sibling),
        ),
        format!(
            "Nothing to create: the record exists. Wait {} for the cached NXDOMAIN to expire and run again \
             (`kreach check --watch` says when it changes). A resolver you run can be flushed (`rndc flushname \
             {name}`, `unbound-control flush {name}`); the VPC's Route 53 Resolver cannot. Clients that cached \
             the answer themselves (nscd, systemd-resolved, a JVM's networkaddress.cache.negative.ttl) keep it \
             as long as they are told.",
            l.negative_ttl.map_or_else(|| "for the negative TTL".to_string(), |s| format!("up to {s} s"))
        ),
    )
}

/// The zone answering for `domain` is `zone`, above it, and `why` it must not be a private zone.
pub(super) fn zone_too_broad(domain: &str, zone: &str, resolver: &str, why: &str) -> Diag {
    Diag::new(
        FindingCode::DnsZoneTooBroad,
        format!(
            "the zone answering for the cluster's domain {domain} via {resolver} is `{zone}`, a private hosted zone \
             named above the domain: in this VPC it answers every name under `{zone}` — {why}"
        ),
        format!(
            "Name the private hosted zone after the cluster's domain: create the private zone `{domain}` associated \
             with this VPC with the cluster's records (`kreach records` prints them), then remove them from `{zone}` \
             and delete or disassociate `{zone}` so the names under it resolve publicly again."
        ),
    )
}

pub(super) fn no_address(name: &str, l: &DnsLookup, wildcard_fix: &str) -> Diag {
    Diag::new(
        FindingCode::DnsNoAddress,
        format!("{name} exists via {} but has no A/AAAA record", l.resolver),
        format!("Point the name at the endpoint: {wildcard_fix}"),
    )
}

/// Public addresses here (`same`: the same as public DNS); `consequences` what TCP did with them.
pub(super) fn public_answer(name: &str, l: &DnsLookup, same: bool, consequences: &str, zone: &str) -> Diag {
    Diag::new(
        FindingCode::DnsPublicAnswer,
        format!(
            "{name} resolved via {} to public address(es) {}{}{consequences}: the private hosted zone is not in effect",
            l.resolver,
            describe_answer(l),
            if same { " (the same answer as public DNS)" } else { "" },
        ),
        format!(
            "Associate the private hosted zone `{zone}` with this client's VPC and keep the VPC's \
             enableDnsSupport and enableDnsHostnames on; a client using its own resolver must forward \
             `{zone}` to the VPC resolver (CIDR base + 2). A Lambda function must be attached to the VPC."
        ),
    )
    .with_addresses(l.addresses.iter().map(|a| a.ip.clone()).collect())
}

pub(super) fn mixed_answer(name: &str, l: &DnsLookup, zone: &str) -> Diag {
    Diag::new(
        FindingCode::DnsMixedAnswer,
        format!("{name} resolved via {} to private and public addresses: {}", l.resolver, describe_answer(l)),
        format!("Remove the public records from the answer: only the private hosted zone `{zone}` should answer, with the endpoint's addresses."),
    )
    .with_addresses(l.addresses.iter().filter(|a| !a.private).map(|a| a.ip.clone()).collect())
}

pub(super) fn private_zone_in_effect(name: &str, l: &DnsLookup, public: Option<&DnsLookup>) -> Diag {
    Diag::new(
        FindingCode::DnsPrivateZoneInEffect,
        format!(
            "{name} resolved via {} to private address(es) {}{}",
            l.resolver,
            describe_answer(l),
            match public {
                Some(p) if p.outcome == DnsOutcome::Answer => format!("; public DNS says {}", describe_answer(p)),
                Some(p) => format!("; public DNS: {:?}", p.outcome).to_lowercase(),
                None => String::new(),
            }
        ),
        "Nothing to fix.",
    )
}

pub(super) fn public_resolver_unreachable(name: &str, p: &DnsLookup) -> Diag {
    Diag::new(
        FindingCode::DnsPublicResolverUnreachable,
        format!("public resolver {} gave no answer for {name}: {}", p.resolver, p.error.as_deref().unwrap_or("")),
        "Name a public resolver this machine can reach, or drop --public-resolver (from inside a VPC \
         without internet access, none is reachable).",
    )
}

pub(super) fn cname_chain_too_long(host: &str, l: &DnsLookup) -> Diag {
    let first = l.cname_chain.first().map_or(String::new(), |h| format!(" (it starts {} -> {})", h.name, h.target));
    Diag::new(
        FindingCode::DnsCnameChainTooLong,
        format!("{host} via {}: more than 16 CNAME hops{first}", l.resolver),
        "For PrivateLink the chain is short: the cluster's name, the private zone's wildcard CNAME, the VPC \
         endpoint's DNS name (vpce-….vpce.amazonaws.com) with its addresses. Find the record that starts the \
         long chain and point it at the endpoint's name.",
    )
}

pub(super) fn cname_loop(host: &str, l: &DnsLookup) -> Diag {
    Diag::new(
        FindingCode::DnsCnameLoop,
        format!("{host} via {}: {}", l.resolver, l.error.as_deref().unwrap_or("CNAME loop")),
        "One record of the loop points at the wrong name: for PrivateLink the chain must end at the VPC \
         endpoint's DNS name (vpce-….vpce.amazonaws.com), which holds the addresses. Fix that record in the zone \
         that holds it.",
    )
}

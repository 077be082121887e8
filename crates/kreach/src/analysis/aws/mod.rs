//! Findings from the AWS audit, joined with what the network showed. Each finding's text is a
//! constructor in `diags`; this file decides which evidence raises which.

mod blamed;
mod diags;
mod firewall;
mod pni;
mod probe;
mod region;

pub(super) use blamed::blamed;
use probe::Probe;

use crate::analysis::Diag;
use crate::report::{
    AnswerClass, AwsAudit, AwsEndpoint, AwsHostedZone, DnsOutcome, DnsRecord, Finding, Need, NetworkSection, Role,
    Stage, StageStatus, TargetReport, Vantage,
};

pub(super) fn aws_findings(
    t: &TargetReport,
    targets: &[TargetReport],
    audit: &AwsAudit,
    vantage: Option<&Vantage>,
    network: Option<&NetworkSection>,
    out: &mut Vec<Finding>,
) {
    let mut found = Vec::new();
    audit_diags(targets, t.port, audit, vantage, network, &mut found);
    out.extend(found.into_iter().map(|d| {
        let mut f = d.on(t, Stage::Aws);
        if f.resources.is_empty() {
            f.resources = blamed(f.code, audit);
        }
        f
    }));
}

fn audit_diags(
    targets: &[TargetReport],
    seed_port: u16,
    audit: &AwsAudit,
    vantage: Option<&Vantage>,
    network: Option<&NetworkSection>,
    out: &mut Vec<Diag>,
) {
    // Without a network section (an embedder's own report), a Confluent dedicated network's rules.
    let private_dns_rule = network.map_or(Need::Forbidden, |n| n.rules.endpoint_private_dns);
    if let Some(why) = &audit.unavailable {
        out.push(diags::unavailable(why));
        return;
    }
    out.extend(audit.denied.iter().map(|d| diags::access_denied(&d.action, &d.message)));
    let probe = vantage.map(Probe::of).unwrap_or_default();
    // PNI's findings for the cluster that uses PNI (the layout says so; an embedder's report
    // without a network section gets them whenever the audit found the interfaces).
    if crate::analysis::ingress::Ingress::pni_applies(network) {
        pni::pni_diags(targets, seed_port, audit, &probe, out);
    }
    let Some(ep) = &audit.endpoint else { return };
    if !ep.state.eq_ignore_ascii_case("available") {
        out.push(diags::endpoint_not_available(ep));
    }
    let cluster_region = network
        .and_then(|n| n.domain.as_ref())
        .and_then(|d| crate::analysis::names::region_of(&d.name))
        .or_else(|| {
            targets
                .iter()
                .find(|t| t.role == crate::report::Role::Bootstrap)
                .and_then(|t| crate::analysis::names::region_of(&t.host))
        });
    region::region_diags(audit, cluster_region.as_deref(), out);
    if !ep.private_dns_enabled && private_dns_rule == Need::Required {
        out.push(diags::private_dns_disabled(ep, network.map_or("", |n| n.layout.as_words())));
    }
    if ep.private_dns_enabled && private_dns_rule == Need::Forbidden {
        out.push(diags::private_dns_enabled(ep));
    }
    if let Some(c) = &audit.msk_vpc_connection {
        msk_connection_diags(c, targets, out);
    }
    let covered: Vec<&str> = ep.interfaces.iter().map(|i| i.az_id.as_str()).collect();
    for (az, ids) in uncovered_zones(targets, &covered) {
        let az_name = audit.availability_zones.iter().find(|z| z.id == az).map(|z| z.name.as_str());
        out.push(diags::az_not_covered(ep, &az, az_name, &ids, &covered));
    }
    for ingress in audit.ingress.iter().filter(|i| !i.allowed) {
        out.push(diags::sg_missing_ingress(ep, ingress.port));
    }
    // Brokers advertising other ports than the ones checked above (Redpanda, MSK multi-VPC, port
    // mapping): checked against the rules as read.
    if !audit.ingress_rules.is_empty() {
        let checked: Vec<u16> = audit.ingress.iter().map(|i| i.port).collect();
        let mut advertised: Vec<u16> = targets
            .iter()
            .filter(|b| b.role == Role::Broker && b.port != seed_port && !checked.contains(&b.port))
            .map(|b| b.port)
            .collect();
        advertised.sort_unstable();
        advertised.dedup();
        for port in advertised.into_iter().filter(|p| !audit.ingress_rules.iter().any(|r| r.admits(*p))) {
            out.push(diags::sg_missing_advertised_port(ep, port));
        }
    }
    // Rules exist, but do they admit this probe? Only asked when the port failed from here.
    for ingress in audit.ingress.iter().filter(|i| i.allowed && !i.sources.is_empty()) {
        if !tcp_failed_on(targets, ingress.port) || probe.admitted_by(&ingress.sources) != Some(false) {
            continue;
        }
        let sources: Vec<String> =
            ingress.sources.iter().map(|s| format!("{} from {}", s.group_id, s.source)).collect();
        let source_flag = probe.source_flag();
        let sg = &ingress.sources[0].group_id;
        out.push(
            diags::sg_excludes_probe(ingress.port, sg, &sources, probe.ip, &probe.groups, &source_flag)
                .resources([sg.clone()]),
        );
    }
    acl_diags(targets, audit, ep, &probe, out);
    probe_egress_diags(targets, audit, ep, out);
    resolver_diags(targets, audit, &probe, network, out);
    firewall_diags(targets, audit, ep, &probe, network, out);
    if let Some(transit) = &audit.transit {
        let failed = targets
            .iter()
            .filter(|t| t.role != Role::Endpoint)
            .any(|t| t.stage(Stage::Tcp).is_some_and(|s| s.status == StageStatus::Fail));
        if failed {
            transit_diags(transit, ep, out);
        }
    }
    if let Some(vpc) = &audit.vpc {
        for (on, attribute) in [(vpc.dns_support, "enableDnsSupport"), (vpc.dns_hostnames, "enableDnsHostnames")] {
            if !on {
                out.push(diags::vpc_dns_disabled(&vpc.id, attribute));
            }
        }
    }
    let Some(domain) = audit.expected_records.first().map(|r| r.name.trim_start_matches("*.").to_string()) else {
        return;
    };
    let region = audit.region.as_deref();
    // Zones of sibling domains in the VPC (another network's, another access point's).
    let siblings: Vec<&str> = audit
        .vpc_zones
        .iter()
        .map(String::as_str)
        .filter(|z| *z != domain && z.split_once('.').map(|(_, p)| p) == domain.split_once('.').map(|(_, p)| p))
        .filter(|z| z.ends_with(".confluent.cloud"))
        .collect();
    let access_point = network.is_some_and(|n| n.layout == crate::report::Layout::ConfluentAccessPoint);
    match &audit.hosted_zone {
        None if !siblings.is_empty() => {
            out.push(diags::phz_other_network(&domain, &siblings, &ep.vpc_id, access_point))
        }
        None if audit.denied.iter().all(|d| !d.action.starts_with("route53:")) => {
            out.push(diags::phz_missing(&domain, &ep.vpc_id, region));
        }
        None => {}
        Some(zone) => {
            if !zone.associated && !siblings.is_empty() {
                // Associating it would lead to the other VPC's endpoint: the VPC belongs to another network.
                out.push(diags::phz_other_network(&domain, &siblings, &ep.vpc_id, access_point));
            } else if !zone.associated {
                out.push(diags::phz_not_associated(zone, &ep.vpc_id, region));
            }
            // A probe in another VPC (peered, or via a transit gateway) needs the zone associated there too.
            if let Some(own) = probe.vpc.as_deref().filter(|v| *v != ep.vpc_id && !zone.vpcs.iter().any(|z| z == v)) {
                out.push(diags::phz_not_associated_with_probe(zone, own, &ep.vpc_id, region));
            }
            let ttl_rule = network.map_or(Some(60), |n| n.rules.record_ttl);
            for expected in &audit.expected_records {
                record_diags(ep, &audit.other_endpoints, zone, expected, ttl_rule, out);
            }
        }
    }
}

/// The ephemeral ports a Linux client's return traffic comes back to (both ends checked).
const EPHEMERAL: [u16; 2] = [32768, 60999];

/// Network ACLs that deny a port that failed from here: on the endpoint's subnets (inbound to
/// the port, outbound return traffic) and on the probe's own subnet (outbound to the endpoint,
/// inbound return traffic). ACLs are stateless, so each direction is judged on its own; with the
/// probe's address unknown, only a denial that holds for every client is named.
fn acl_diags(targets: &[TargetReport], audit: &AwsAudit, ep: &AwsEndpoint, probe: &Probe, out: &mut Vec<Diag>) {
    if audit.network_acls.is_empty() {
        return;
    }
    let acl_of = |subnet: &str| audit.network_acls.iter().find(|a| a.subnets.iter().any(|s| s == subnet));
    let mut ports: Vec<u16> = audit.ingress.iter().map(|i| i.port).collect();
    if ports.is_empty() {
        ports = vec![crate::DEFAULT_KAFKA_PORT, crate::DEFAULT_HTTPS_PORT];
    }
    let mut seen: Vec<(String, bool, Option<u32>, u16)> = Vec::new();
    let mut push = |d: AclDenial<'_>, out: &mut Vec<Diag>| {
        let key = (d.acl.to_string(), d.egress, d.rule.map(|r| r.rule_number), d.port);
        if !seen.contains(&key) {
            seen.push(key);
            out.push(diags::nacl_denies(&d));
        }
    };
    for port in ports.into_iter().filter(|p| tcp_failed_on(targets, *p)) {
        for iface in &ep.interfaces {
            let Some(acl) = acl_of(&iface.subnet_id) else { continue };
            let side = AclSide::Endpoint { subnet: &iface.subnet_id, az: &iface.az_id, ip: &iface.ip };
            if let Some((false, rule)) = acl.decide(false, port, probe.ip) {
                push(
                    AclDenial { acl: &acl.id, side, egress: false, port, rule, peer: probe.ip, return_traffic: false },
                    out,
                );
            } else if let Some((back, rule)) = denied_return(acl, true, probe.ip) {
                push(
                    AclDenial {
                        acl: &acl.id,
                        side,
                        egress: true,
                        port: back,
                        rule,
                        peer: probe.ip,
                        return_traffic: true,
                    },
                    out,
                );
            }
        }
        let Some(subnet) = probe.subnet.as_deref() else { continue };
        let Some(acl) = acl_of(subnet) else { continue };
        for iface in &ep.interfaces {
            let ip: Option<std::net::IpAddr> = iface.ip.parse().ok();
            let side = AclSide::Probe { subnet, toward: &iface.ip };
            if let Some((false, rule)) = acl.decide(true, port, ip) {
                push(AclDenial { acl: &acl.id, side, egress: true, port, rule, peer: ip, return_traffic: false }, out);
            } else if let Some((back, rule)) = denied_return(acl, false, ip) {
                push(
                    AclDenial { acl: &acl.id, side, egress: false, port: back, rule, peer: ip, return_traffic: true },
                    out,
                );
            }
        }
    }
}

/// The probe's own security groups, for a port that failed from here: does any outbound rule let
/// it out toward the endpoint (a CIDR holding an endpoint address, one of the endpoint's groups,
/// or a prefix list, which is given the benefit of the doubt)?
fn probe_egress_diags(targets: &[TargetReport], audit: &AwsAudit, ep: &AwsEndpoint, out: &mut Vec<Diag>) {
    let groups: Vec<&str> = audit.probe_security_groups.iter().map(String::as_str).collect();
    if groups.is_empty() {
        return;
    }
    let addresses: Vec<std::net::IpAddr> = ep.interfaces.iter().filter_map(|i| i.ip.parse().ok()).collect();
    let reaches = |dest: &str| -> bool {
        if dest.starts_with("pl-") || ep.security_groups.iter().any(|g| g == dest) {
            return true;
        }
        match dest.parse::<ipnet::IpNet>() {
            // With no endpoint address known, any CIDR may hold it.
            Ok(net) => addresses.is_empty() || addresses.iter().any(|a| net.contains(a)),
            Err(_) => false,
        }
    };
    let mut ports: Vec<u16> = audit.ingress.iter().map(|i| i.port).collect();
    if ports.is_empty() {
        ports = vec![crate::DEFAULT_KAFKA_PORT, crate::DEFAULT_HTTPS_PORT];
    }
    for port in ports.into_iter().filter(|p| tcp_failed_on(targets, *p)) {
        let admitted = audit.probe_egress_rules.iter().any(|r| r.admits(port) && reaches(&r.source));
        if !admitted {
            let toward = ep.interfaces.first().map(|i| format!("{}/32", i.ip));
            out.push(diags::probe_sg_egress_missing(&groups, port, ep, toward.as_deref()));
        }
    }
}

/// Route 53 Resolver rules, for each name that did not resolve to private addresses: the most
/// specific rule covering it (of the probe's VPC when the audit read rules there, else of the
/// endpoint's). A FORWARD rule sends its queries to other servers, past the private hosted zone.
fn resolver_diags(
    targets: &[TargetReport],
    audit: &AwsAudit,
    probe: &Probe,
    network: Option<&NetworkSection>,
    out: &mut Vec<Diag>,
) {
    if audit.resolver_rules.is_empty() {
        return;
    }
    let vpc = probe
        .vpc
        .as_deref()
        .filter(|v| audit.resolver_rules.iter().any(|r| r.vpc_id == *v))
        .or(audit.endpoint.as_ref().map(|e| e.vpc_id.as_str()));
    // A rule associated there that could not be read could be the most specific: say nothing.
    if audit.resolver_rules.iter().any(|r| vpc.is_none_or(|v| r.vpc_id == v) && r.rule_type == "UNKNOWN") {
        return;
    }
    let covers = |host: &str, domain: &str| domain.is_empty() || crate::analysis::dns::under(host, domain);
    let domain = network.and_then(|n| n.domain.as_ref()).map(|d| d.name.as_str());
    let mut named: Vec<&str> = Vec::new();
    for t in targets.iter().filter(|t| t.role != Role::Endpoint) {
        let Some(dns) = &t.dns else { continue };
        if dns.lookup.outcome == DnsOutcome::AddressLiteral || dns.answer_class == Some(AnswerClass::Private) {
            continue;
        }
        let deciding = audit
            .resolver_rules
            .iter()
            .filter(|r| vpc.is_none_or(|v| r.vpc_id == v) && covers(&t.host, &r.domain))
            .max_by_key(|r| r.domain.len());
        let Some(rule) = deciding.filter(|r| r.rule_type.eq_ignore_ascii_case("FORWARD")) else { continue };
        if named.contains(&rule.id.as_str()) {
            continue;
        }
        named.push(&rule.id);
        // Carve out the cluster's domain when the rule covers it, else the name itself.
        let carve = domain.filter(|d| covers(d, &rule.domain)).unwrap_or(&t.host);
        out.push(diags::resolver_rule_forwards(rule, &t.host, &dns_words(dns), carve).resources([rule.id.clone()]));
    }
}

/// The names kreach needed that did not resolve privately, each with the chain the VPC's
/// resolver walks for it: the name, the CNAMEs seen, and (when the answer stopped short) the hops
/// the layout promises — a glb name's hop into the cluster's domain, and the endpoint's own name.
fn unresolved_chains<'a>(
    targets: &'a [TargetReport],
    ep: &AwsEndpoint,
    network: Option<&NetworkSection>,
) -> Vec<(&'a TargetReport, &'a crate::report::DnsDetail, Vec<String>)> {
    let domain = network.and_then(|n| n.domain.as_ref()).map(|d| d.name.to_ascii_lowercase());
    let norm = |n: &str| n.trim_end_matches('.').to_ascii_lowercase();
    let mut out = Vec::new();
    for t in targets.iter().filter(|t| t.role != Role::Endpoint) {
        let Some(dns) = &t.dns else { continue };
        if dns.lookup.outcome == DnsOutcome::AddressLiteral || dns.answer_class == Some(AnswerClass::Private) {
            continue;
        }
        let mut chain = vec![norm(&t.host)];
        chain.extend(dns.lookup.cname_chain.iter().map(|h| norm(&h.target)));
        if let Some(domain) = &domain {
            let under = |n: &str| crate::analysis::dns::under(n, domain);
            if !chain.iter().any(|n| under(n)) {
                let label = chain[0].split('.').next().unwrap_or_default().to_string();
                chain.push(format!("{label}.{domain}"));
            }
        }
        if !chain.iter().any(|n| n.ends_with(".vpce.amazonaws.com")) {
            chain.extend(ep.dns_names.first().map(|n| norm(n)));
        }
        out.push((t, dns, chain));
    }
    out
}

/// DNS Firewall rules that stop a name kreach needed (or a name its chain leads to), joined with
/// the lookup that went wrong.
fn firewall_diags(
    targets: &[TargetReport],
    audit: &AwsAudit,
    ep: &AwsEndpoint,
    probe: &Probe,
    network: Option<&NetworkSection>,
    out: &mut Vec<Diag>,
) {
    let vpc = probe.vpc.as_deref().unwrap_or(ep.vpc_id.as_str());
    let groups: Vec<_> = audit.dns_firewall.iter().filter(|g| g.vpc_id == vpc).collect();
    let logs: Vec<_> = audit.query_logs.iter().filter(|q| q.vpc_id == vpc).collect();
    let chains = unresolved_chains(targets, ep, network);
    let mut named: Vec<(&str, &str)> = Vec::new();
    for (t, dns, chain) in &chains {
        let Some(blocked) = firewall::judge(&groups, chain) else { continue };
        let key = (blocked.group.id.as_str(), blocked.rule.name.as_str());
        if named.contains(&key) {
            continue;
        }
        named.push(key);
        out.push(diags::dns_firewall_blocks(&blocked, &t.host, &dns_words(dns), &logs));
    }
    if named.is_empty() {
        if let (Some((t, dns, _)), false) = (chains.first(), logs.is_empty()) {
            out.push(diags::query_logs(&t.host, &dns_words(dns), &logs));
        }
    }
}

/// MSK multi-VPC private connectivity: the client VPC's managed connection must exist and be
/// AVAILABLE, and its security groups must admit the ports the brokers listen on (14001-14100).
fn msk_connection_diags(c: &crate::report::AwsMskVpcConnection, targets: &[TargetReport], out: &mut Vec<Diag>) {
    if !c.found || !c.state.eq_ignore_ascii_case("AVAILABLE") {
        out.push(diags::msk_vpc_connection_unusable(c));
        return;
    }
    let mut ports: Vec<u16> = targets
        .iter()
        .filter(|t| {
            matches!(t.role, Role::Bootstrap | Role::Broker)
                && crate::analysis::layout::MSK_MULTI_VPC_PORTS.contains(&t.port)
        })
        .map(|t| t.port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    let closed: Vec<u16> = ports.into_iter().filter(|p| !c.ingress_rules.iter().any(|r| r.admits(*p))).collect();
    if !closed.is_empty() && !c.security_groups.is_empty() {
        out.push(diags::msk_connection_sg_missing(c, &closed));
    }
}

/// A probe in another VPC reaches the endpoint only if its subnet's table routes the endpoint's
/// subnets into the transit gateway or peering, the endpoint's subnets route the probe's subnet
/// back, and (over a transit gateway) each VPC's attachment has a subnet in the zones that send
/// traffic: the probe's zone, and every zone of the endpoint's interfaces.
fn transit_diags(t: &crate::report::AwsTransit, ep: &AwsEndpoint, out: &mut Vec<Diag>) {
    // The transit gateway both VPCs are attached to, else any the probe's VPC uses.
    let attached = |tgw: &str, vpc: &str| t.attachments.iter().any(|a| a.transit_gateway_id == tgw && a.vpc_id == vpc);
    let shared = t
        .attachments
        .iter()
        .map(|a| a.transit_gateway_id.as_str())
        .find(|g| attached(g, &t.probe_vpc) && attached(g, &ep.vpc_id));
    let via = shared.or_else(|| {
        t.routes_out
            .iter()
            .chain(&t.routes_back)
            .filter_map(|r| r.target.as_deref())
            .find(|g| g.starts_with("tgw-") || g.starts_with("pcx-"))
    });
    for (lookups, back) in [(&t.routes_out, false), (&t.routes_back, true)] {
        // A table that was not read (a listing cut short) says nothing either way.
        let missing: Vec<&crate::report::AwsRouteLookup> =
            lookups.iter().filter(|l| !l.crosses() && l.route_table.is_some()).collect();
        // One finding per route table.
        let mut tables: Vec<Option<&str>> = missing.iter().map(|l| l.route_table.as_deref()).collect();
        tables.dedup();
        for table in tables {
            let these: Vec<_> = missing.iter().filter(|l| l.route_table.as_deref() == table).copied().collect();
            out.push(diags::transit_route_missing(&these, back, via, &t.probe_vpc, &ep.vpc_id));
        }
    }
    for a in &t.attachments {
        let needed: Vec<(&str, Option<&str>)> = if a.vpc_id == t.probe_vpc {
            t.probe_subnet.iter().map(|s| (s.az_id.as_str(), Some(s.id.as_str()))).collect()
        } else if a.vpc_id == ep.vpc_id {
            let mut zones: Vec<(&str, Option<&str>)> = ep
                .interfaces
                .iter()
                .map(|i| {
                    (i.az_id.as_str(), t.endpoint_subnets.iter().find(|s| s.az_id == i.az_id).map(|s| s.id.as_str()))
                })
                .collect();
            zones.sort();
            zones.dedup();
            zones
        } else {
            Vec::new()
        };
        let lacking: Vec<_> =
            needed.into_iter().filter(|(az, _)| !az.is_empty() && !a.az_ids.iter().any(|z| z == az)).collect();
        if !lacking.is_empty() {
            out.push(diags::transit_zone_missing(a, &lacking, a.vpc_id == t.probe_vpc));
        }
    }
}

/// What a lookup gave, in a few words.
fn dns_words(dns: &crate::report::DnsDetail) -> String {
    match (dns.lookup.outcome, dns.answer_class) {
        (DnsOutcome::Answer, Some(AnswerClass::Public)) => "it resolved to public addresses".into(),
        (DnsOutcome::Answer, Some(AnswerClass::Mixed)) => "it resolved to private and public addresses".into(),
        (DnsOutcome::Nxdomain, _) => "it was NXDOMAIN".into(),
        (DnsOutcome::NoData, _) => "it had no address record".into(),
        (DnsOutcome::Unreachable, _) => "the resolver did not answer".into(),
        (DnsOutcome::Error, _) => "the resolver answered an error".into(),
        _ => "it did not resolve to the endpoint".into(),
    }
}

/// The first ephemeral port whose return traffic the ACL denies in a direction, with the rule.
fn denied_return(
    acl: &crate::report::AwsNetworkAcl,
    egress: bool,
    peer: Option<std::net::IpAddr>,
) -> Option<(u16, Option<&crate::report::AwsAclEntry>)> {
    EPHEMERAL.iter().find_map(|e| match acl.decide(egress, *e, peer) {
        Some((false, rule)) => Some((*e, rule)),
        _ => None,
    })
}

/// Which subnet's ACL denies: one of the endpoint's (in zone `az`, interface `ip`), or the probe's.
#[derive(Clone, Copy)]
pub(super) enum AclSide<'a> {
    Endpoint { subnet: &'a str, az: &'a str, ip: &'a str },
    Probe { subnet: &'a str, toward: &'a str },
}

/// One denial: the ACL, where, which direction and port, the deciding rule (`None`: the final
/// `*` rule), and the peer it was judged for.
pub(super) struct AclDenial<'a> {
    pub(super) acl: &'a str,
    pub(super) side: AclSide<'a>,
    pub(super) egress: bool,
    pub(super) port: u16,
    pub(super) rule: Option<&'a crate::report::AwsAclEntry>,
    pub(super) peer: Option<std::net::IpAddr>,
    /// The return direction (to or from a client's ephemeral port), not the connection's own.
    pub(super) return_traffic: bool,
}

/// Zones holding brokers where the endpoint has no interface, with those brokers' ids.
fn uncovered_zones(targets: &[TargetReport], covered: &[&str]) -> Vec<(String, Vec<i32>)> {
    let mut missing: Vec<(String, Vec<i32>)> = Vec::new();
    for b in targets.iter().filter_map(|t| t.broker.as_ref()) {
        let Some(az) = b.az_id.as_ref().filter(|az| !covered.contains(&az.as_str())) else { continue };
        match missing.iter_mut().find(|(z, _)| z == az) {
            Some((_, ids)) => ids.push(b.node_id),
            None => missing.push((az.clone(), vec![b.node_id])),
        }
    }
    missing
}

/// Whether TCP failed on a target the rule's port serves (that port, or the role it serves: a lab
/// or a proxy may listen on other ports).
fn tcp_failed_on(targets: &[TargetReport], port: u16) -> bool {
    targets.iter().any(|t| {
        let serves = t.port == port
            || match t.role {
                Role::Bootstrap | Role::Broker => port == crate::DEFAULT_KAFKA_PORT,
                Role::Https => port == crate::DEFAULT_HTTPS_PORT,
                Role::Endpoint => false,
            };
        serves && t.stage(Stage::Tcp).is_some_and(|s| s.status == StageStatus::Fail)
    })
}

/// One expected record against the zone: missing, too long a TTL, pointing elsewhere.
fn record_diags(
    ep: &AwsEndpoint,
    other_endpoints: &[crate::report::AwsOtherEndpoint],
    zone: &AwsHostedZone,
    expected: &DnsRecord,
    ttl_rule: Option<u64>,
    out: &mut Vec<Diag>,
) {
    let present: Vec<&DnsRecord> = zone.records.iter().filter(|r| r.name == expected.name).collect();
    if present.is_empty() {
        out.push(diags::phz_record_missing(zone, expected));
        return;
    }
    let addresses: Vec<&str> = ep.interfaces.iter().map(|i| i.ip.as_str()).collect();
    let right = present
        .iter()
        .any(|r| r.value == expected.value || (r.record_type != "CNAME" && addresses.contains(&r.value.as_str())));
    if let (Some(limit), Some(long)) =
        (ttl_rule, present.iter().filter(|r| r.ttl.is_some_and(|ttl| ttl > 60)).find_map(|r| r.ttl))
    {
        out.push(diags::phz_record_ttl(zone, expected, long, limit));
    }
    if !right {
        let values: Vec<&str> = present.iter().map(|r| r.value.as_str()).collect();
        out.push(diags::phz_record_wrong_target(ep, expected, &values, other_endpoints));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::VantageKind;
    use crate::report::findings::FindingCode;
    use crate::report::{AwsEndpoint, AwsIngressSource, Role, StageResult};

    fn bootstrap() -> TargetReport {
        TargetReport {
            target: "b.example:9092".into(),
            host: "b.example".into(),
            port: 9092,
            role: Role::Bootstrap,
            stages: vec![StageResult {
                stage: Stage::Dns,
                status: StageStatus::Pass,
                elapsed_ms: None,
                summary: String::new(),
            }],
            dns: None,
            addresses: Vec::new(),
            broker: None,
            endpoint: None,
        }
    }

    /// TCP failed on the target (no address connected).
    fn tcp_failed(target: &mut TargetReport) {
        target.stages.push(StageResult {
            stage: Stage::Tcp,
            status: StageStatus::Fail,
            elapsed_ms: None,
            summary: "0/1 connected".into(),
        });
    }

    /// A FORWARD rule covering a name that went wrong is named; not when another rule associated
    /// with the VPC could not be read (it could be a more specific SYSTEM rule).
    #[test]
    fn a_forward_rule_is_not_blamed_beside_a_rule_that_could_not_be_read() {
        let mut t = bootstrap();
        t.host = "lkc-1.abc.us-west-2.aws.confluent.cloud".into();
        t.dns = Some(
            serde_json::from_value(serde_json::json!({
                "name": t.host, "answer_class": "public",
                "lookup": {"resolver": "10.0.0.2:53", "outcome": "answer", "elapsed_ms": 1, "cname_chain": [], "addresses": []}
            }))
            .expect("dns detail"),
        );
        let rule = |id: &str, domain: &str, kind: &str| crate::report::AwsResolverRule {
            id: id.into(),
            domain: domain.into(),
            rule_type: kind.into(),
            vpc_id: "vpc-a".into(),
            ..Default::default()
        };
        let mut audit =
            AwsAudit { resolver_rules: vec![rule("rslvr-rr-fwd", "confluent.cloud", "FORWARD")], ..Default::default() };
        let probe = Probe { vpc: Some("vpc-a".into()), ..Probe::default() };
        let mut out = Vec::new();
        resolver_diags(std::slice::from_ref(&t), &audit, &probe, None, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out.remove(0).on(&t, Stage::Aws).code, FindingCode::AwsResolverRuleForwards);
        audit.resolver_rules.push(rule("rslvr-rr-unread", "", "UNKNOWN"));
        resolver_diags(std::slice::from_ref(&t), &audit, &probe, None, &mut out);
        assert!(out.is_empty());
    }

    /// The ports MSK multi-VPC brokers listen on (14001-14100) against the VPC connection's
    /// groups: a bootstrap on 14001 with only a 9092 rule is named; a rule over the range is not.
    #[test]
    fn an_msk_vpc_connection_must_admit_the_broker_ports() {
        let mut c = crate::report::AwsMskVpcConnection {
            found: true,
            state: "AVAILABLE".into(),
            arn: "arn:conn".into(),
            security_groups: vec!["sg-conn".into()],
            ingress_rules: vec![crate::report::AwsIngressRule::new("sg-conn", 9092, 9092, false, "10.0.0.0/16")],
            ..Default::default()
        };
        let mut t = bootstrap();
        t.port = 14001;
        let mut out = Vec::new();
        msk_connection_diags(&c, std::slice::from_ref(&t), &mut out);
        assert_eq!(out.len(), 1);
        let f = out.remove(0).on(&t, Stage::Aws);
        assert_eq!(f.code, FindingCode::AwsSgMissingIngress);
        assert!(
            f.summary.contains("14001") && f.fix.contains("--group-id sg-conn --protocol tcp --port 14001-14100"),
            "{f:#?}"
        );
        c.ingress_rules.push(crate::report::AwsIngressRule::new("sg-conn", 14001, 14100, false, "10.0.0.0/16"));
        let mut out = Vec::new();
        msk_connection_diags(&c, std::slice::from_ref(&t), &mut out);
        assert!(out.is_empty());
        c.state = "CREATING".into();
        msk_connection_diags(&c, std::slice::from_ref(&t), &mut out);
        assert_eq!(out.remove(0).on(&t, Stage::Aws).code, FindingCode::AwsMskVpcConnectionUnusable);
    }

    /// moto models no endpoint acceptance (its endpoints are always `available`), so the states a
    /// provider sets are fed to the analysis directly here.
    #[test]
    fn endpoint_states_other_than_available_are_errors_with_the_right_fix() {
        let states = [
            ("pendingAcceptance", "accept"),
            ("rejected", "register"),
            ("pending", "still being created"),
            ("failed", "shows why"),
            ("expired", "expired"),
            ("deleted", "create a new interface endpoint"),
            ("Unknowable", "Recreate"),
        ];
        for (state, needle) in states {
            let audit = AwsAudit {
                endpoint: Some(AwsEndpoint { id: "vpce-1".into(), state: state.into(), ..Default::default() }),
                ..Default::default()
            };
            let mut out = Vec::new();
            aws_findings(&bootstrap(), &[], &audit, None, None, &mut out);
            let codes: Vec<&str> = out.iter().map(|f| f.code.as_str()).collect();
            assert_eq!(codes, ["aws-endpoint-not-available"], "{state}");
            assert!(out[0].fix.contains(needle), "{state}: {}", out[0].fix);
        }
        let audit = AwsAudit {
            endpoint: Some(AwsEndpoint { id: "vpce-1".into(), state: "Available".into(), ..Default::default() }),
            ..Default::default()
        };
        let mut out = Vec::new();
        aws_findings(&bootstrap(), &[], &audit, None, None, &mut out);
        assert!(out.is_empty(), "the state is compared as text, whatever its case: {out:?}");
    }

    fn ec2(facts: &[(&str, &str)]) -> Vantage {
        Vantage {
            kind: VantageKind::Ec2,
            label: "usw2-az1 (i-1)".into(),
            facts: {
                let mut f = crate::report::VantageFacts::default();
                for (k, v) in facts {
                    f.set(k, v.to_string());
                }
                f
            },
            note: None,
            vpc_attached: Some(true),
        }
    }

    fn sources(list: &[&str]) -> Vec<AwsIngressSource> {
        list.iter().map(|s| AwsIngressSource { group_id: "sg-endpoint".into(), source: s.to_string() }).collect()
    }

    #[test]
    fn a_probe_is_matched_against_rules_by_address_and_security_group_or_left_undecided() {
        let probe = Probe::of(&ec2(&[("private_ip", "10.20.1.5"), ("security_group_ids", "sg-a,sg-b")]));
        assert_eq!(probe.admitted_by(&sources(&["10.20.0.0/16"])), Some(true));
        assert_eq!(probe.admitted_by(&sources(&["10.9.0.0/16", "sg-b"])), Some(true));
        assert_eq!(probe.admitted_by(&sources(&["10.9.0.0/16", "sg-c"])), Some(false));
        assert_eq!(probe.admitted_by(&sources(&["sg-c", "pl-123"])), None, "a prefix list may hold anything");
        let groups_only = Probe::of(&ec2(&[("security_group_ids", "sg-a")]));
        assert_eq!(groups_only.admitted_by(&sources(&["sg-c"])), Some(false));
        assert_eq!(groups_only.admitted_by(&sources(&["sg-c", "10.0.0.0/8"])), None, "address unknown");
        assert_eq!(Probe::of(&ec2(&[])).admitted_by(&sources(&["sg-c"])), None, "nothing known of the probe");
    }

    #[test]
    fn the_security_group_is_blamed_for_this_probe_only_when_its_port_failed_from_here() {
        let audit = AwsAudit {
            endpoint: Some(AwsEndpoint { id: "vpce-1".into(), state: "available".into(), ..Default::default() }),
            ingress: vec![crate::report::AwsIngress {
                port: 9092,
                allowed: true,
                rules: vec!["sg-endpoint from sg-clients".into()],
                sources: sources(&["sg-clients"]),
            }],
            ..Default::default()
        };
        let probe = ec2(&[("private_ip", "10.20.1.5"), ("security_group_ids", "sg-probe")]);
        let mut target = bootstrap();
        let mut out = Vec::new();
        aws_findings(&target, std::slice::from_ref(&target), &audit, Some(&probe), None, &mut out);
        assert!(out.is_empty(), "TCP did not fail: {out:?}");
        tcp_failed(&mut target);
        aws_findings(&target, std::slice::from_ref(&target), &audit, Some(&probe), None, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].code, FindingCode::AwsSgMissingIngress);
        assert!(out[0].summary.contains("10.20.1.5") && out[0].summary.contains("sg-probe"), "{}", out[0].summary);
        assert!(out[0].fix.contains("--group-id sg-endpoint --protocol tcp --port 9092 --source-group sg-probe"));
        out.clear();
        let admitted = ec2(&[("security_group_ids", "sg-probe,sg-clients")]);
        aws_findings(&target, std::slice::from_ref(&target), &audit, Some(&admitted), None, &mut out);
        assert!(out.is_empty(), "admitted by its second group: {out:?}");
    }

    #[test]
    fn ports_the_brokers_advertise_are_checked_against_the_rules_as_read() {
        let audit = AwsAudit {
            endpoint: Some(AwsEndpoint {
                id: "vpce-1".into(),
                state: "available".into(),
                security_groups: vec!["sg-endpoint".into()],
                ..Default::default()
            }),
            ingress_rules: vec![crate::report::AwsIngressRule::new("sg-endpoint", 30292, 30292, false, "sg-clients")],
            ..Default::default()
        };
        let mut seed = bootstrap();
        seed.port = 30292;
        let broker = |port: u16| {
            let mut b = bootstrap();
            b.role = Role::Broker;
            b.port = port;
            b
        };
        let targets = vec![seed.clone(), broker(32092), broker(32092), broker(30292)];
        let mut out = Vec::new();
        aws_findings(&seed, &targets, &audit, None, None, &mut out);
        let codes: Vec<&str> = out.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["aws-sg-missing-ingress"], "{out:#?}");
        assert!(out[0].summary.contains("TCP 32092") && out[0].fix.contains("--port 32092"), "{}", out[0].fix);
        out.clear();
        let mut open = audit.clone();
        open.ingress_rules.push(crate::report::AwsIngressRule::new("sg-endpoint", 32000, 32999, false, "10.0.0.0/8"));
        aws_findings(&seed, &targets, &open, None, None, &mut out);
        assert!(out.is_empty(), "a port range admits them: {out:#?}");
    }

    #[test]
    fn endpoint_private_dns_is_judged_by_the_layouts_rule() {
        use crate::report::{Layout, NetworkSection, Resolution};
        let network = |layout: Layout| NetworkSection {
            layout,
            resolution: Resolution::Unknown,
            domain: None,
            evidence: Vec::new(),
            rules: crate::analysis::layout::rules(layout, Resolution::Unknown, None),
            ports: Vec::new(),
        };
        let audit = |private_dns: bool| AwsAudit {
            endpoint: Some(AwsEndpoint {
                id: "vpce-1".into(),
                state: "available".into(),
                private_dns_enabled: private_dns,
                ..Default::default()
            }),
            ..Default::default()
        };
        let codes = |layout: Layout, private_dns: bool| {
            let mut out = Vec::new();
            aws_findings(&bootstrap(), &[], &audit(private_dns), None, Some(&network(layout)), &mut out);
            out.iter().map(|f| f.code.as_str()).collect::<Vec<_>>()
        };
        assert_eq!(codes(Layout::ConfluentDedicated, true), ["aws-private-dns-enabled"]);
        assert!(codes(Layout::ConfluentDedicated, false).is_empty());
        assert_eq!(codes(Layout::Redpanda, false), ["aws-private-dns-disabled"]);
        assert!(codes(Layout::Redpanda, true).is_empty());
        assert!(codes(Layout::ConfluentPrivateLinkAttachment, true).is_empty(), "unknown: not flagged");
        assert!(codes(Layout::Generic, true).is_empty() && codes(Layout::Generic, false).is_empty());
    }

    #[test]
    fn a_network_acl_is_judged_lowest_rule_first_and_only_for_every_client_when_the_client_is_unknown() {
        use crate::report::{AwsAclEntry, AwsNetworkAcl};
        let acl =
            |entries: Vec<AwsAclEntry>| AwsNetworkAcl { id: "acl-1".into(), subnets: vec!["subnet-1".into()], entries };
        let ip = |s: &str| Some(s.parse::<std::net::IpAddr>().expect("ip"));
        // Allow the VPC, then deny everyone: a client in the VPC passes, one outside does not,
        // and with the client unknown there is no verdict (some clients pass).
        let scoped = acl(vec![
            AwsAclEntry::new(200, false, false, "-1", "0.0.0.0/0", None),
            AwsAclEntry::new(100, false, true, "6", "10.0.0.0/16", Some((9092, 9092))),
            AwsAclEntry::new(32767, false, false, "-1", "0.0.0.0/0", None),
        ]);
        assert_eq!(
            scoped.decide(false, 9092, ip("10.0.3.4")).map(|(a, r)| (a, r.map(|r| r.rule_number))),
            Some((true, Some(100)))
        );
        assert_eq!(
            scoped.decide(false, 9092, ip("192.168.1.1")).map(|(a, r)| (a, r.map(|r| r.rule_number))),
            Some((false, Some(200)))
        );
        assert!(scoped.decide(false, 9092, None).is_none(), "some clients would pass");
        assert_eq!(
            scoped.decide(false, 443, None).map(|(a, r)| (a, r.map(|r| r.rule_number))),
            Some((false, Some(200)))
        );
        // Nothing allows the port: the final * rule denies, for everyone; egress rules do not count inbound.
        let none = acl(vec![AwsAclEntry::new(100, true, true, "-1", "0.0.0.0/0", None)]);
        assert_eq!(none.decide(false, 9092, None).map(|(a, r)| (a, r.is_none())), Some((false, true)));
        assert_eq!(none.decide(true, 9092, None).map(|(a, _)| a), Some(true));
        // UDP rules do not admit TCP; an IPv6 rule does not match an IPv4 client.
        let udp = acl(vec![
            AwsAclEntry::new(100, false, true, "17", "0.0.0.0/0", None),
            AwsAclEntry::new(110, false, true, "6", "::/0", None),
        ]);
        assert_eq!(udp.decide(false, 9092, ip("10.0.0.1")).map(|(a, _)| a), Some(false));
    }

    #[test]
    fn the_probes_own_subnet_acl_is_judged_toward_each_endpoint_address_and_only_when_the_port_failed() {
        use crate::report::{AwsAclEntry, AwsInterface, AwsNetworkAcl};
        let iface = AwsInterface {
            subnet_id: "subnet-endpoint".into(),
            az_id: "usw2-az1".into(),
            ip: "10.20.0.10".into(),
            ..Default::default()
        };
        let audit = AwsAudit {
            endpoint: Some(AwsEndpoint {
                id: "vpce-1".into(),
                state: "available".into(),
                interfaces: vec![iface],
                ..Default::default()
            }),
            network_acls: vec![AwsNetworkAcl {
                id: "acl-probe".into(),
                subnets: vec!["subnet-probe".into()],
                entries: vec![
                    // Out to the endpoint allowed; the answers back on ephemeral ports only above 49152.
                    AwsAclEntry::new(100, true, true, "-1", "0.0.0.0/0", None),
                    AwsAclEntry::new(100, false, true, "6", "10.20.0.0/16", Some((49152, 65535))),
                ],
            }],
            ..Default::default()
        };
        let probe = ec2(&[("subnet_id", "subnet-probe"), ("private_ip", "10.30.1.5")]);
        let mut target = bootstrap();
        let mut out = Vec::new();
        aws_findings(&target, std::slice::from_ref(&target), &audit, Some(&probe), None, &mut out);
        assert!(out.is_empty(), "TCP did not fail: {out:?}");
        tcp_failed(&mut target);
        aws_findings(&target, std::slice::from_ref(&target), &audit, Some(&probe), None, &mut out);
        let acl: Vec<&Finding> = out.iter().filter(|f| f.code == FindingCode::AwsNaclDenies).collect();
        assert_eq!(acl.len(), 1, "{out:#?}");
        assert!(acl[0].summary.contains("this probe's subnet subnet-probe (toward 10.20.0.10)"), "{}", acl[0].summary);
        assert!(acl[0].summary.contains("inbound return traffic on TCP 32768"), "{}", acl[0].summary);
        assert!(
            acl[0].fix.contains("--ingress --rule-number 100") && acl[0].fix.contains("--cidr-block 10.20.0.10/32"),
            "{}",
            acl[0].fix
        );
    }

    #[test]
    fn the_probes_egress_must_reach_an_endpoint_address_or_group_on_the_failed_port() {
        use crate::report::{AwsIngressRule, AwsInterface};
        let iface = AwsInterface { ip: "10.20.1.10".into(), ..Default::default() };
        let audit = |rules: Vec<AwsIngressRule>| AwsAudit {
            endpoint: Some(AwsEndpoint {
                id: "vpce-1".into(),
                state: "available".into(),
                interfaces: vec![iface.clone()],
                security_groups: vec!["sg-endpoint".into()],
                ..Default::default()
            }),
            probe_security_groups: vec!["sg-probe".into()],
            probe_egress_rules: rules,
            ..Default::default()
        };
        let mut target = bootstrap();
        tcp_failed(&mut target);
        let codes = |a: &AwsAudit| {
            let mut out = Vec::new();
            aws_findings(&target, std::slice::from_ref(&target), a, None, None, &mut out);
            out.iter().filter(|f| f.code == FindingCode::AwsProbeSgEgressMissing).count()
        };
        let rule = |to: &str, from: u16, upto: u16| AwsIngressRule::new("sg-probe", from, upto, false, to);
        // 9092 failed (a bootstrap target); 443 did not, so only 9092 can be named.
        assert_eq!(codes(&audit(vec![])), 1, "no egress rule at all");
        assert_eq!(codes(&audit(vec![rule("10.30.0.0/16", 9092, 9092)])), 1, "another network");
        assert_eq!(codes(&audit(vec![rule("10.20.0.0/16", 443, 443)])), 1, "another port");
        assert_eq!(codes(&audit(vec![rule("10.20.0.0/16", 9000, 9999)])), 0);
        assert_eq!(codes(&audit(vec![rule("sg-endpoint", 9092, 9092)])), 0, "the endpoint's group");
        assert_eq!(codes(&audit(vec![rule("pl-0123", 9092, 9092)])), 0, "a prefix list may hold it");
        assert_eq!(codes(&audit(vec![AwsIngressRule::new("sg-probe", 0, 0, true, "0.0.0.0/0")])), 0);
        let mut unread = audit(vec![]);
        unread.probe_security_groups.clear();
        assert_eq!(codes(&unread), 0, "groups not read: nothing said");
    }
}

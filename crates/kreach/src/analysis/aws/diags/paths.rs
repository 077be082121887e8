//! The AWS audit's findings about the path: network ACLs, the probe's egress, Resolver rules,
//! transit routes, MSK VPC connections, DNS Firewall and query logs.

use super::super::firewall::Blocked;
use super::super::{AclDenial, AclSide};
use crate::analysis::Diag;
use crate::report::findings::FindingCode;
use crate::report::{AwsEndpoint, AwsQueryLogConfig, AwsResolverRule};

/// A network ACL denies a port that failed from here (or its return traffic).
pub(in crate::analysis::aws) fn nacl_denies(d: &AclDenial<'_>) -> Diag {
    let direction = if d.egress { "outbound" } else { "inbound" };
    let return_traffic = d.return_traffic;
    let what = if return_traffic {
        format!("{direction} return traffic on TCP {} (a client's ephemeral ports)", d.port)
    } else {
        format!("{direction} TCP {}", d.port)
    };
    let peer = d.peer.map(|p| p.to_string());
    let (subnet, place, cidr) = match d.side {
        AclSide::Endpoint { subnet, az, ip } => (
            subnet,
            format!("the endpoint's subnet {subnet} ({az}, interface {ip})"),
            peer.as_ref().map(|p| format!("{p}/32")).unwrap_or_else(|| "<client subnet CIDR>".into()),
        ),
        AclSide::Probe { subnet, toward } => {
            (subnet, format!("this probe's subnet {subnet} (toward {toward})"), format!("{toward}/32"))
        }
    };
    let rule_words = match d.rule {
        Some(r) => format!(
            "rule {} ({} {} {})",
            r.rule_number,
            if r.allow { "allow" } else { "deny" },
            r.cidr,
            ports_words(r.ports)
        ),
        None => "the final * rule (no rule allows it)".to_string(),
    };
    let number = match d.rule {
        Some(r) => r.rule_number.saturating_sub(1).max(1),
        None => 100,
    };
    let range = if return_traffic { "From=1024,To=65535".to_string() } else { format!("From={0},To={0}", d.port) };
    let flag = if d.egress { "--egress" } else { "--ingress" };
    Diag::new(
        FindingCode::AwsNaclDenies,
        format!(
            "network ACL {} of {place} denies {what}{}: {rule_words}",
            d.acl,
            peer.as_ref().map(|p| format!(" for {p}")).unwrap_or_else(|| " for every client".into())
        ),
        format!(
            "aws ec2 create-network-acl-entry --network-acl-id {} {flag} --rule-number {number} --protocol tcp --port-range {range} \
             --cidr-block {cidr} --rule-action allow (a rule number below the one that denies: the lowest matching rule \
             decides; network ACLs are stateless, so the return direction needs its own rule) — subnet {subnet}",
            d.acl
        ),
    )
    .resources([d.acl])
}

fn ports_words(ports: Option<(u16, u16)>) -> String {
    match ports {
        None => "all ports".into(),
        Some((a, b)) if a == b => format!("port {a}"),
        Some((a, b)) => format!("ports {a}-{b}"),
    }
}

/// No outbound rule of the probe's `groups` lets TCP `port` out toward the endpoint.
pub(in crate::analysis::aws) fn probe_sg_egress_missing(
    groups: &[&str],
    port: u16,
    ep: &AwsEndpoint,
    toward: Option<&str>,
) -> Diag {
    let sg = groups.first().copied().unwrap_or("<probe security group>");
    let destination = match (ep.security_groups.first(), toward) {
        (Some(g), _) => format!("UserIdGroupPairs=[{{GroupId={g}}}]"),
        (None, Some(cidr)) => format!("IpRanges=[{{CidrIp={cidr}}}]"),
        (None, None) => "IpRanges=[{CidrIp=<endpoint subnet CIDR>}]".to_string(),
    };
    Diag::new(
        FindingCode::AwsProbeSgEgressMissing,
        format!(
            "TCP {port} fails from here, and no outbound rule of this probe's security groups {} lets it out to endpoint {}",
            groups.join(", "),
            ep.id
        ),
        format!(
            "aws ec2 authorize-security-group-egress --group-id {sg} --ip-permissions \
             IpProtocol=tcp,FromPort={port},ToPort={port},{destination}"
        ),
    )
}

/// A FORWARD rule sends the queries for `host` elsewhere; `outcome` is what the lookup gave;
/// `carve` the domain a SYSTEM rule would give back to the VPC resolver.
pub(in crate::analysis::aws) fn resolver_rule_forwards(
    rule: &AwsResolverRule,
    host: &str,
    outcome: &str,
    carve: &str,
) -> Diag {
    let domain = if rule.domain.is_empty() { "every name (.)" } else { rule.domain.as_str() };
    Diag::new(
        FindingCode::AwsResolverRuleForwards,
        format!(
            "Route 53 Resolver rule {}{} forwards {domain} to {} for {}, so {host} is answered there and never by the \
             private hosted zone: {outcome}",
            rule.id,
            if rule.name.is_empty() { String::new() } else { format!(" ({})", rule.name) },
            if rule.targets.is_empty() { "its target servers".to_string() } else { rule.targets.join(", ") },
            rule.vpc_id
        ),
        format!(
            "Give {carve} back to the VPC resolver with a more specific SYSTEM rule: aws route53resolver create-resolver-rule \
             --rule-type SYSTEM --domain-name {carve} --creator-request-id kreach-$(date +%s), then aws route53resolver \
             associate-resolver-rule --resolver-rule-id <its id> --vpc-id {} — or have the servers it forwards to answer \
             {carve} (forward it to a Route 53 Resolver inbound endpoint in this VPC).",
            rule.vpc_id
        ),
    )
}

pub(in crate::analysis::aws) fn transit_route_missing(
    lookups: &[&crate::report::AwsRouteLookup],
    back: bool,
    via: Option<&str>,
    probe_vpc: &str,
    endpoint_vpc: &str,
) -> Diag {
    let table = lookups.first().and_then(|l| l.route_table.as_deref()).unwrap_or("(no route table found)");
    let (from, to) = if back { (endpoint_vpc, probe_vpc) } else { (probe_vpc, endpoint_vpc) };
    let what: Vec<String> = lookups
        .iter()
        .map(|l| match (&l.destination, &l.target, l.state.as_deref()) {
            (Some(d), Some(g), Some(st)) if !st.eq_ignore_ascii_case("active") => {
                format!("{} from {}: route {d} → {g} is {st}", l.toward, l.subnet)
            }
            (Some(d), Some(g), _) => {
                format!("{} from {}: only {d} → {g}, which does not lead to {to}", l.toward, l.subnet)
            }
            _ => format!("{} from {}: no route", l.toward, l.subnet),
        })
        .collect();
    let target_flag = match via {
        Some(p) if p.starts_with("pcx-") => format!("--vpc-peering-connection-id {p}"),
        Some(g) => format!("--transit-gateway-id {g}"),
        None => "--transit-gateway-id <tgw-…> (or --vpc-peering-connection-id <pcx-…>)".into(),
    };
    let commands: Vec<String> = lookups
        .iter()
        .map(|l| {
            format!("aws ec2 create-route --route-table-id {table} --destination-cidr-block {} {target_flag}", l.toward)
        })
        .collect();
    Diag::new(
        FindingCode::AwsTransitRouteMissing,
        format!(
            "route table {table} in {from} does not send {} traffic to {to} through a transit gateway or peering: {}",
            if back { "the return" } else { "the endpoint's" },
            what.join("; ")
        ),
        format!(
            "Add the route{} ({}), with `aws ec2 replace-route` for one that exists but points elsewhere. {}",
            if commands.len() == 1 { "" } else { "s" },
            commands.join("; "),
            if back {
                "The endpoint's interfaces answer only along a route back to the client's subnet."
            } else {
                "The private hosted zone only gives the endpoint's addresses; the route table decides where packets to them go."
            }
        ),
    )
}

pub(in crate::analysis::aws) fn transit_zone_missing(
    a: &crate::report::AwsTgwAttachment,
    lacking: &[(&str, Option<&str>)],
    probe_side: bool,
) -> Diag {
    let zones: Vec<&str> = lacking.iter().map(|(z, _)| *z).collect();
    let subnets: Vec<String> = lacking
        .iter()
        .map(|(z, s)| s.map(str::to_string).unwrap_or_else(|| format!("<a subnet of {} in {z}>", a.vpc_id)))
        .collect();
    Diag::new(
        FindingCode::AwsTransitZoneMissing,
        format!(
            "transit gateway attachment {} of {} to {} has no subnet in {} (it has {}): {} in that zone cannot reach the \
             transit gateway",
            a.id,
            a.vpc_id,
            a.transit_gateway_id,
            zones.join(", "),
            if a.az_ids.is_empty() { "none".to_string() } else { a.az_ids.join(", ") },
            if probe_side { "this client" } else { "the endpoint's interface" }
        ),
        format!(
            "Give the attachment a subnet in each zone that sends traffic: aws ec2 modify-transit-gateway-vpc-attachment \
             --transit-gateway-attachment-id {} --add-subnet-ids {} (a small dedicated subnet per zone is the usual \
             layout). Zones are matched by AZ ID, not AZ name, across accounts.",
            a.id,
            subnets.join(" ")
        ),
    )
}

pub(in crate::analysis::aws) fn msk_vpc_connection_unusable(c: &crate::report::AwsMskVpcConnection) -> Diag {
    if !c.found {
        return Diag::new(
            FindingCode::AwsMskVpcConnectionUnusable,
            format!(
                "no Amazon MSK managed VPC connection in {} (kafka:ListVpcConnections lists none there): the multi-VPC \
                 broker names have nothing to resolve to or connect through",
                c.vpc_id
            ),
            format!(
                "Create one from this account: aws kafka create-vpc-connection --target-cluster-arn <cluster ARN> \
                 --authentication SASL_SCRAM (or IAM, TLS) --vpc-id {} --client-subnets <one subnet per zone> \
                 --security-groups <group admitting TCP 14001-14100>. The cluster's owner must first turn on \
                 multi-VPC connectivity for that authentication and allow this account in the cluster policy \
                 (kafka:CreateVpcConnection, kafka:GetBootstrapBrokers, kafka:DescribeClusterV2).",
                c.vpc_id
            ),
        );
    }
    let (why, fix) = match c.state.to_ascii_uppercase().as_str() {
        "CREATING" | "UPDATING" => (
            "is still being set up",
            "Wait until it is AVAILABLE (aws kafka describe-vpc-connection --arn …), then run kreach again."
                .to_string(),
        ),
        "REJECTED" => (
            "was rejected by the cluster's owner",
            "The cluster's account must accept it (aws kafka reject-client-vpc-connection was run there, or its \
             policy does not allow this account): ask the owner to allow this account in the cluster policy, then \
             delete and create the connection again."
                .to_string(),
        ),
        "INACTIVE" | "DEACTIVATING" => (
            "is inactive",
            "The cluster's owner turned multi-VPC connectivity off (or removed this authentication): it must be on \
             for the authentication the connection uses."
                .to_string(),
        ),
        "DELETING" => {
            ("is being deleted", "Create a new VPC connection (aws kafka create-vpc-connection …).".to_string())
        }
        _ => (
            "is not AVAILABLE",
            "Look at the connection's state in the MSK console (Managed VPC connections) or describe-vpc-connection; \
             delete and create it again if it FAILED."
                .to_string(),
        ),
    };
    Diag::new(
        FindingCode::AwsMskVpcConnectionUnusable,
        format!(
            "Amazon MSK managed VPC connection {} in {} to {} {why} (state {})",
            c.arn, c.vpc_id, c.target_cluster_arn, c.state
        ),
        fix,
    )
}

pub(in crate::analysis::aws) fn msk_connection_sg_missing(
    c: &crate::report::AwsMskVpcConnection,
    closed: &[u16],
) -> Diag {
    let ports: Vec<String> = closed.iter().map(u16::to_string).collect();
    Diag::new(
        FindingCode::AwsSgMissingIngress,
        format!(
            "the security groups of MSK VPC connection {} ({}) admit no TCP {} the brokers listen on (multi-VPC \
             connectivity uses 14001-14100)",
            c.arn,
            c.security_groups.join(", "),
            ports.join(", ")
        ),
        format!(
            "aws ec2 authorize-security-group-ingress --group-id {} --protocol tcp --port 14001-14100 --source-group \
             <client security group> (or --cidr <client CIDR>).",
            c.security_groups[0]
        ),
    )
}

/// Where the VPC's resolver logs its answers, as a sentence (empty without a configuration).
fn logged_at(logs: &[&AwsQueryLogConfig]) -> String {
    let Some(log) = logs.first() else { return String::new() };
    format!(
        " The VPC's resolver logs every query and the rule that acted on it to {} (query logging configuration {}): \
         the queries for this name are there.",
        if log.destination_arn.is_empty() { "its destination" } else { log.destination_arn.as_str() },
        log.id
    )
}

pub(in crate::analysis::aws) fn dns_firewall_blocks(
    b: &Blocked<'_>,
    host: &str,
    outcome: &str,
    logs: &[&AwsQueryLogConfig],
) -> Diag {
    let response = match (b.rule.block_response.as_deref(), b.rule.block_override_domain.as_deref()) {
        (Some(r), Some(to)) if r.eq_ignore_ascii_case("OVERRIDE") => format!("answers {to} instead"),
        (Some(r), _) => format!("answers {r}"),
        (None, _) => "blocks it".into(),
    };
    let group = |g: &crate::report::AwsFirewallRuleGroup| {
        if g.name.is_empty() { g.id.clone() } else { format!("{} ({})", g.id, g.name) }
    };
    let via = match &b.allowed_by {
        Some((_, allow, from)) => format!(
            ", reached through the CNAME chain from {from}, which rule {} allows: the group inspects every name a CNAME \
             leads to (FirewallDomainRedirectionAction INSPECT_REDIRECTION_DOMAIN, the default)",
            allow.name
        ),
        None => String::new(),
    };
    let summary = format!(
        "DNS Firewall rule group {} on {}: rule {} (priority {}, {}, domain list {}) matches {} and {response}{via}, \
         so {host} does not resolve to the endpoint: {outcome}",
        group(b.group),
        b.group.vpc_id,
        b.rule.name,
        b.rule.priority,
        b.rule.action,
        b.rule.domain_list_id,
        b.name,
    );
    let fix = match &b.allowed_by {
        Some((g, allow, _)) => format!(
            "Let the allow rule trust the names its domains lead to: aws route53resolver update-firewall-rule \
             --firewall-rule-group-id {} --firewall-domain-list-id {} --firewall-domain-redirection-action \
             TRUST_REDIRECTION_DOMAIN — or allow {} too (a domain list with *.vpce.amazonaws.com, or the name itself, \
             in an ALLOW rule with a priority below {}).{}",
            g.id,
            allow.domain_list_id,
            b.name,
            b.rule.priority,
            logged_at(logs)
        ),
        None => format!(
            "Allow {} before rule {} decides it: put it in a domain list (aws route53resolver create-firewall-domain-list, \
             update-firewall-domains) and add an ALLOW rule for that list to {} with a priority below {} \
             (create-firewall-rule --action ALLOW --priority <n>), or take it out of domain list {}.{}",
            b.name,
            b.rule.name,
            b.group.id,
            b.rule.priority,
            b.rule.domain_list_id,
            logged_at(logs)
        ),
    };
    Diag::new(FindingCode::AwsDnsFirewallBlocks, summary, fix)
}

pub(in crate::analysis::aws) fn query_logs(host: &str, outcome: &str, logs: &[&AwsQueryLogConfig]) -> Diag {
    Diag::new(
        FindingCode::AwsQueryLogged,
        format!("{host} did not resolve privately ({outcome}), and the VPC's resolver logs its queries"),
        format!(
            "Read the resolver's own answer for {host} in the query log: which rule or zone answered, and the response code.{}",
            logged_at(logs)
        ),
    )
}

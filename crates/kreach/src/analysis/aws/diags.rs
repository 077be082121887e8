//! The AWS audit's findings, one constructor each, from the evidence the audit read.

use super::firewall::Blocked;
use super::{AclDenial, AclSide};
use crate::analysis::Diag;
use crate::report::endpoint_of;
use crate::report::findings::FindingCode;
use crate::report::{AwsEndpoint, AwsHostedZone, AwsQueryLogConfig, AwsResolverRule, DnsRecord};

/// The least-privilege policy statement for one denied action.
pub(crate) fn policy_for(action: &str) -> String {
    format!(
        "{{\"Effect\": \"Allow\", \"Action\": \"{action}\", \"Resource\": \"*\"}} (docs/iam-policy-audit.json has the whole read-only policy)"
    )
}

fn region(region: Option<&str>) -> &str {
    region.unwrap_or("<region>")
}

fn vpcs_of(zone: &AwsHostedZone) -> String {
    if zone.vpcs.is_empty() { "no VPC".to_string() } else { zone.vpcs.join(", ") }
}

fn record(r: &DnsRecord) -> String {
    format!("{} {} {}", r.name, r.record_type, r.value)
}

/// The endpoint's first security group, or a placeholder.
fn endpoint_group(ep: &AwsEndpoint) -> String {
    ep.security_groups.first().cloned().unwrap_or_else(|| "<endpoint security group>".into())
}

pub(super) fn unavailable(why: &str) -> Diag {
    Diag::new(
        FindingCode::AwsUnavailable,
        format!("the AWS audit did not run: {why}"),
        "To have kreach explain failures from the AWS side, run it with read-only AWS credentials and a region \
         (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION); see docs/iam-policy-audit.json.",
    )
}

pub(super) fn access_denied(action: &str, message: &str) -> Diag {
    Diag::new(
        FindingCode::AwsAccessDenied,
        format!("{action} was denied: {message}"),
        format!("Grant the audit's principal {}", policy_for(action)),
    )
}

pub(super) fn endpoint_not_available(ep: &AwsEndpoint) -> Diag {
    let fix = match ep.state.to_ascii_lowercase().as_str() {
        "pendingacceptance" => format!(
            "The service provider must accept the connection from {}: for Confluent Cloud, add this AWS account to \
             the network's PrivateLink access and wait for acceptance.",
            ep.id
        ),
        "rejected" => {
            format!(
                "The provider rejected {}: register this AWS account with the provider, then recreate the endpoint.",
                ep.id
            )
        }
        "pending" => format!(
            "{} is still being created: wait until it is available (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {0}).",
            ep.id
        ),
        "failed" => format!(
            "Creating {} failed (often: a subnet in a zone the service does not serve, or the service's limit): \
             aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {0} shows why; fix it and recreate the endpoint.",
            ep.id
        ),
        "expired" => format!(
            "The provider did not accept {} in time and the request expired: ask the provider to allow this AWS \
             account, then recreate the endpoint and have it accepted.",
            ep.id
        ),
        "deleting" | "deleted" => format!(
            "{} is {}: create a new interface endpoint to the service in the same subnets, then point the private \
             hosted zone's records at its DNS names (`kreach records`).",
            ep.id, ep.state
        ),
        _ => format!("Recreate {} (state {}), or ask the provider why it is not available.", ep.id, ep.state),
    };
    Diag::new(FindingCode::AwsEndpointNotAvailable, format!("VPC endpoint {} is {}", ep.id, ep.state), fix)
}

pub(super) fn private_dns_disabled(ep: &AwsEndpoint, layout_words: &str) -> Diag {
    Diag::new(
        FindingCode::AwsPrivateDnsDisabled,
        format!(
            "VPC endpoint {} has private DNS off, and this layout ({layout_words}) has no other zone answering its names",
            ep.id
        ),
        format!("aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --private-dns-enabled", ep.id),
    )
}

pub(super) fn private_dns_enabled(ep: &AwsEndpoint) -> Diag {
    Diag::new(
        FindingCode::AwsPrivateDnsEnabled,
        format!("VPC endpoint {} has private DNS enabled", ep.id),
        format!(
            "Confluent Cloud expects the endpoint's private DNS off and your private hosted zone to answer: \
             aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --no-private-dns-enabled",
            ep.id
        ),
    )
}

/// Brokers `ids` sit in zone `az` (named `az_name` in this account), where the endpoint has no interface.
pub(super) fn az_not_covered(ep: &AwsEndpoint, az: &str, az_name: Option<&str>, ids: &[i32], covered: &[&str]) -> Diag {
    Diag::new(
        FindingCode::AwsAzNotCovered,
        format!(
            "brokers {:?} are in {az}{}, where endpoint {} has no network interface (it covers {})",
            ids,
            az_name.map(|n| format!(" ({n})")).unwrap_or_default(),
            ep.id,
            covered.join(", ")
        ),
        format!(
            "Add a subnet in {az}{} to the endpoint: aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --add-subnet-ids <subnet in {az}>",
            az_name.map(|n| format!(" (AZ name {n} in this account)")).unwrap_or_default(),
            ep.id
        ),
    )
}

/// No inbound rule of the endpoint's groups admits `port`, one of the ports the audit checks.
pub(super) fn sg_missing_ingress(ep: &AwsEndpoint, port: u16) -> Diag {
    Diag::new(
        FindingCode::AwsSgMissingIngress,
        format!("no inbound rule of {} admits TCP {port}", ep.security_groups.join(", ")),
        format!(
            "aws ec2 authorize-security-group-ingress --group-id {} --protocol tcp --port {port} --source-group <client security group> \
             (or --cidr <client subnet or VPC CIDR>)",
            endpoint_group(ep)
        ),
    )
}

/// Brokers advertise `port`, and no inbound rule admits it.
pub(super) fn sg_missing_advertised_port(ep: &AwsEndpoint, port: u16) -> Diag {
    Diag::new(
        FindingCode::AwsSgMissingIngress,
        format!("brokers advertise TCP {port}, and no inbound rule of {} admits it", ep.security_groups.join(", ")),
        format!(
            "aws ec2 authorize-security-group-ingress --group-id {} --protocol tcp --port {port} \
             --source-group <client security group> (or --cidr <client subnet or VPC CIDR>)",
            endpoint_group(ep)
        ),
    )
}

/// `port` failed from here, and its rules (`sources`, of group `sg`) admit neither this probe's
/// address nor its groups; `source_flag` admits the probe.
pub(super) fn sg_excludes_probe(
    port: u16,
    sg: &str,
    sources: &[String],
    probe_ip: Option<std::net::IpAddr>,
    probe_groups: &[String],
    source_flag: &str,
) -> Diag {
    Diag::new(
        FindingCode::AwsSgMissingIngress,
        format!(
            "TCP {port} fails from here, and the endpoint's inbound rules for it ({}) admit neither this probe's \
             address {} nor its security groups {}",
            sources.join("; "),
            probe_ip.map(|ip| ip.to_string()).unwrap_or_else(|| "(unknown)".into()),
            if probe_groups.is_empty() { "(unknown)".to_string() } else { probe_groups.join(", ") },
        ),
        format!(
            "aws ec2 authorize-security-group-ingress --group-id {sg} --protocol tcp --port {port} {source_flag} \
             (or admit the clients' subnet CIDR)"
        ),
    )
}

/// `vpc` has `attribute` (`enableDnsSupport` or `enableDnsHostnames`) off.
pub(super) fn vpc_dns_disabled(vpc: &str, attribute: &str) -> Diag {
    let flag = if attribute == "enableDnsSupport" { "--enable-dns-support" } else { "--enable-dns-hostnames" };
    Diag::new(
        FindingCode::AwsVpcDnsDisabled,
        format!("{vpc} has {attribute} off: private hosted zones do not answer in it"),
        format!("aws ec2 modify-vpc-attribute --vpc-id {vpc} {flag} '{{\"Value\":true}}'"),
    )
}

pub(super) fn phz_missing(domain: &str, vpc: &str, region_name: Option<&str>) -> Diag {
    Diag::new(
        FindingCode::AwsPhzMissing,
        format!("no private hosted zone is named {domain}"),
        format!(
            "Create it, associated with {vpc}: aws route53 create-hosted-zone --name {domain} --vpc VPCRegion={},VPCId={vpc} \
             --caller-reference kreach-$(date +%s) --hosted-zone-config PrivateZone=true; then add the records \
             from `kreach records`.",
            region(region_name),
        ),
    )
}

/// The zone is not associated with the endpoint's VPC.
pub(super) fn phz_not_associated(zone: &AwsHostedZone, vpc: &str, region_name: Option<&str>) -> Diag {
    Diag::new(
        FindingCode::AwsPhzNotAssociated,
        format!(
            "private hosted zone {} ({}) is associated with {} but not with {vpc}",
            zone.name,
            zone.id,
            vpcs_of(zone)
        ),
        format!(
            "aws route53 associate-vpc-with-hosted-zone --hosted-zone-id {} --vpc VPCRegion={},VPCId={vpc}",
            zone.id,
            region(region_name),
        ),
    )
}

/// The zone is not associated with `own`, the probe's VPC (the endpoint sits in `endpoint_vpc`).
pub(super) fn phz_not_associated_with_probe(
    zone: &AwsHostedZone,
    own: &str,
    endpoint_vpc: &str,
    region_name: Option<&str>,
) -> Diag {
    Diag::new(
        FindingCode::AwsPhzNotAssociated,
        format!(
            "private hosted zone {} ({}) is associated with {} but not with {own}, the VPC this probe runs in \
             (the endpoint is in {endpoint_vpc})",
            zone.name,
            zone.id,
            vpcs_of(zone),
        ),
        format!(
            "aws route53 associate-vpc-with-hosted-zone --hosted-zone-id {} --vpc VPCRegion={},VPCId={own} \
             (and route {own} to the endpoint's VPC: peering or a transit gateway)",
            zone.id,
            region(region_name),
        ),
    )
}

pub(super) fn phz_record_missing(zone: &AwsHostedZone, expected: &DnsRecord) -> Diag {
    Diag::new(
        FindingCode::AwsPhzRecordMissing,
        format!("private hosted zone {} has no record {}", zone.name, expected.name),
        format!("Create {} (TTL 60); `kreach records` prints them all as a Route 53 change batch.", record(expected)),
    )
}

/// The record's TTL `long` exceeds the provider's `limit`.
pub(super) fn phz_record_ttl(zone: &AwsHostedZone, expected: &DnsRecord, long: u64, limit: u64) -> Diag {
    Diag::new(
        FindingCode::AwsPhzRecordTtl,
        format!(
            "{} in private hosted zone {} has TTL {long} s (the provider's guidance: {limit} s)",
            expected.name, zone.name
        ),
        format!(
            "UPSERT {} with TTL {limit}: a change of endpoint then reaches clients within a minute \
             (`kreach records --output change-batch` prints it).",
            record(expected)
        ),
    )
}

/// The record points at `values`, not at the endpoint.
pub(super) fn phz_record_wrong_target(
    ep: &AwsEndpoint,
    expected: &DnsRecord,
    values: &[&str],
    read_others: &[crate::report::AwsOtherEndpoint],
) -> Diag {
    // A value that is another interface endpoint's DNS name names that endpoint: usually one to
    // another service (an old cluster's, another provider's) or a deleted one.
    let others: Vec<String> = values.iter().filter_map(|v| endpoint_of(v)).filter(|id| *id != ep.id).collect();
    let read = |id: &str| read_others.iter().find(|o| o.id == id);
    let other = if others.is_empty() {
        String::new()
    } else if others.iter().all(|id| read(id).is_some()) {
        let words: Vec<String> = others
            .iter()
            .filter_map(|id| read(id))
            .map(|o| match o.found {
                true => format!(
                    "VPC endpoint {} to service {} ({}, in {}), not this cluster's {}",
                    o.id, o.service_name, o.state, o.vpc_id, ep.service_name
                ),
                false => format!("VPC endpoint {}, which no longer exists", o.id),
            })
            .collect();
        format!(" — that is {}", words.join("; "))
    } else {
        format!(
            " — that is VPC endpoint {} (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {} shows its service; \
             an endpoint to another service than this cluster's, or one that no longer exists)",
            others.join(", "),
            others.join(" ")
        )
    };
    Diag::new(
        FindingCode::AwsPhzRecordWrongTarget,
        format!("{} points at {}, not at endpoint {}{other}", expected.name, values.join(", "), ep.id),
        format!("Change it to {}.", record(expected)),
    )
}

/// A network ACL denies a port that failed from here (or its return traffic).
pub(super) fn nacl_denies(d: &AclDenial<'_>) -> Diag {
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
}

fn ports_words(ports: Option<(u16, u16)>) -> String {
    match ports {
        None => "all ports".into(),
        Some((a, b)) if a == b => format!("port {a}"),
        Some((a, b)) => format!("ports {a}-{b}"),
    }
}

/// No outbound rule of the probe's `groups` lets TCP `port` out toward the endpoint.
pub(super) fn probe_sg_egress_missing(groups: &[&str], port: u16, ep: &AwsEndpoint, toward: Option<&str>) -> Diag {
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
pub(super) fn resolver_rule_forwards(rule: &AwsResolverRule, host: &str, outcome: &str, carve: &str) -> Diag {
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

pub(super) fn transit_route_missing(
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

pub(super) fn transit_zone_missing(
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

pub(super) fn msk_vpc_connection_unusable(c: &crate::report::AwsMskVpcConnection) -> Diag {
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

pub(super) fn msk_connection_sg_missing(c: &crate::report::AwsMskVpcConnection, closed: &[u16]) -> Diag {
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

pub(super) fn dns_firewall_blocks(b: &Blocked<'_>, host: &str, outcome: &str, logs: &[&AwsQueryLogConfig]) -> Diag {
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

pub(super) fn query_logs(host: &str, outcome: &str, logs: &[&AwsQueryLogConfig]) -> Diag {
    Diag::new(
        FindingCode::AwsQueryLogged,
        format!("{host} did not resolve privately ({outcome}), and the VPC's resolver logs its queries"),
        format!(
            "Read the resolver's own answer for {host} in the query log: which rule or zone answered, and the response code.{}",
            logged_at(logs)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_pointing_at_another_endpoint_names_it() {
        assert_eq!(
            endpoint_of("vpce-0a1b2c3d4e5f60718-abcdefgh.vpce-svc-0123.us-west-2.vpce.amazonaws.com.").as_deref(),
            Some("vpce-0a1b2c3d4e5f60718")
        );
        assert_eq!(
            endpoint_of("vpce-0a1b2c3d4e5f60718-abcdefgh-us-west-2a.vpce-svc-1.us-west-2.vpce.amazonaws.com")
                .as_deref(),
            Some("vpce-0a1b2c3d4e5f60718")
        );
        assert_eq!(endpoint_of("cname.elsewhere.example"), None);
        assert_eq!(endpoint_of("vpce-zz.vpce.amazonaws.com"), None);
        let ep = AwsEndpoint { id: "vpce-11111111111111111".into(), ..Default::default() };
        let expected = DnsRecord::new(
            "*.abc.example",
            "CNAME",
            "vpce-11111111111111111-x.vpce-svc-1.us-west-2.vpce.amazonaws.com",
        );
        let other = phz_record_wrong_target(
            &ep,
            &expected,
            &["vpce-22222222222222222-y.vpce-svc-9.us-west-2.vpce.amazonaws.com"],
            &[],
        );
        assert!(other.summary.contains("that is VPC endpoint vpce-22222222222222222"), "{}", other.summary);
        // Once EC2 described it: its service, or that it is gone.
        let read = crate::report::AwsOtherEndpoint { id: "vpce-22222222222222222".into(), ..Default::default() };
        let gone = phz_record_wrong_target(
            &ep,
            &expected,
            &["vpce-22222222222222222-y.vpce-svc-9.us-west-2.vpce.amazonaws.com"],
            std::slice::from_ref(&read),
        );
        assert!(gone.summary.contains("vpce-22222222222222222, which no longer exists"), "{}", gone.summary);
        // moto's shape of an endpoint name.
        assert_eq!(
            endpoint_of("vpce-4fba68b6e0d7a62a4-68c2e192.com.amazonaws.vpce.us-west-2.vpce-svc-0abc1234def567890")
                .as_deref(),
            Some("vpce-4fba68b6e0d7a62a4")
        );
        let elsewhere = phz_record_wrong_target(&ep, &expected, &["cname.elsewhere.example"], &[]);
        assert!(!elsewhere.summary.contains("that is VPC endpoint"), "{}", elsewhere.summary);
    }
}

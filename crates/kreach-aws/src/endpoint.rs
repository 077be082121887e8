//! The interface endpoint from EC2: the endpoint itself, its zones and interfaces, its security
//! groups' inbound rules, the VPC's DNS attributes; then the private hosted zone (`route53`).

use kreach::report::AwsAclEntry;
use kreach::report::AwsAudit;
use kreach::report::AwsEndpoint;
use kreach::report::AwsIngress;
use kreach::report::AwsIngressRule;
use kreach::report::AwsIngressSource;
use kreach::report::AwsInterface;
use kreach::report::AwsNetworkAcl;
use kreach::report::AwsVpc;
use kreach::report::AwsZone;

use aws_sdk_ec2::types::{
    AvailabilityZone, Filter, NetworkAcl, NetworkInterface, SecurityGroup, VpcAttributeName, VpcEndpoint,
};

use crate::ec2::{self, Ec2, availability_zones, filter, security_groups, wire};
use crate::pages::listing;
use crate::sg::sg_rules;
use crate::{AuditInput, AwsError, PORTS, expected_records_for, merge, note, route53};

/// The interface endpoint, its zones, security groups, VPC DNS and the private hosted zone. The
/// endpoint is read first; every other read needs only it, so they all run at once (EC2's and
/// Route 53's) and are applied in a fixed order: the audit's critical path is the endpoint plus the
/// longest of them (the zone's three Route 53 calls), not their sum.
pub(crate) async fn endpoint_audit(input: &AuditInput, audit: &mut AwsAudit, sdk: &aws_config::SdkConfig) {
    let ec2 = Ec2::new(sdk);
    let (mut endpoint, interface_ids) = match find_endpoint(&ec2, input, audit).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            // No interface endpoint: Confluent's PNI needs none. Its interfaces in the VPC, else
            // the endpoint is what is missing.
            let vpc = input.vpc_id.as_deref().or(input.probe_vpc.as_deref()).filter(|v| !v.is_empty());
            if input.vpc_endpoint_id.is_none()
                && let Some(vpc) = vpc
                && (!crate::pni::pni_audit(&ec2, vpc, &input.cluster_addresses, audit).await
                    || !audit.pni_interfaces.is_empty())
            {
                return;
            }
            audit.errors.push(match &input.vpc_endpoint_id {
                Some(id) => format!("no VPC endpoint {id}"),
                None => "no interface VPC endpoint found (give --vpc-endpoint)".into(),
            });
            return;
        }
        Err(()) => return,
    };

    let mut acl_subnets = endpoint.subnets.clone();
    acl_subnets.extend(input.probe_subnet.iter().filter(|s| !endpoint.subnets.contains(s)).cloned());
    let (has_enis, has_acls) = (!interface_ids.is_empty(), !acl_subnets.is_empty());
    let (has_groups, has_probe_groups) =
        (!endpoint.security_groups.is_empty(), !input.probe_security_groups.is_empty());
    for (asked, call) in [
        (true, "ec2:DescribeAvailabilityZones"),
        (has_enis, "ec2:DescribeNetworkInterfaces"),
        (has_acls, "ec2:DescribeNetworkAcls"),
        (has_groups, "ec2:DescribeSecurityGroups"),
        (has_probe_groups, "ec2:DescribeSecurityGroups"),
        (true, "ec2:DescribeVpcAttribute"),
        (true, "ec2:DescribeVpcAttribute"),
    ] {
        if asked {
            audit.calls.push(call.to_string());
        }
    }
    // The private hosted zone, beside the EC2 reads; its calls and errors are merged after.
    let domain = input.domain.as_ref().filter(|_| input.customer_zone());
    let mut zone_audit = AwsAudit::default();
    let mut others_audit = AwsAudit::default();
    let zone_read = async {
        let zone = match domain {
            Some(domain) => route53::hosted_zone(sdk, domain, &endpoint.vpc_id, &mut zone_audit).await,
            None => None,
        };
        // Records that point at another interface endpoint: which service it leads to (a round
        // trip more only when a record is wrong that way).
        let others = match &zone {
            Some(z) => other_endpoints(&ec2, z, &endpoint.id, &mut others_audit).await,
            None => Vec::new(),
        };
        (zone, others)
    };
    // Resolver rules of the endpoint's VPC and the probe's, beside the rest.
    let mut rule_vpcs = vec![endpoint.vpc_id.clone()];
    rule_vpcs.extend(input.probe_vpc.iter().filter(|v| **v != endpoint.vpc_id).cloned());
    rule_vpcs.retain(|v| !v.is_empty());
    let mut rules_audit = AwsAudit::default();
    let rules_read = crate::resolver::resolver_reads(sdk, &rule_vpcs, &mut rules_audit);
    // A probe in another VPC: the routes each way and the transit gateway attachments.
    let mut transit_audit = AwsAudit::default();
    let probe_vpc = input.probe_vpc.as_deref().filter(|v| !v.is_empty() && *v != endpoint.vpc_id);
    let transit_read = async {
        match probe_vpc {
            Some(vpc) => {
                let subnet = input.probe_subnet.as_deref();
                crate::transit::transit(&ec2, vpc, subnet, &endpoint.vpc_id, &endpoint.subnets, &mut transit_audit)
                    .await
            }
            None => None,
        }
    };
    // MSK multi-VPC private connectivity: the managed VPC connection in the client's VPC.
    let mut msk_audit = AwsAudit::default();
    let msk_read = async {
        if input.layout != Some(kreach::report::Layout::MskMultiVpc) {
            return None;
        }
        let vpc = input.probe_vpc.as_deref().unwrap_or(&endpoint.vpc_id);
        crate::msk::client_vpc_connection(sdk, &ec2, vpc, &mut msk_audit).await
    };
    let (zones, enis, acls, groups, probe_groups, support, hostnames, hosted_zone, resolver_rules, transit, msk) = tokio::join!(
        availability_zones(&ec2),
        when(
            has_enis,
            listing!(
                "ec2:DescribeNetworkInterfaces",
                ec2.describe_network_interfaces().set_network_interface_ids(Some(interface_ids.clone())),
                network_interfaces
            )
        ),
        when(
            has_acls,
            listing!(
                "ec2:DescribeNetworkAcls",
                ec2.describe_network_acls().filters(filter("association.subnet-id", &acl_subnets)),
                network_acls
            )
        ),
        when(has_groups, security_groups(&ec2, &endpoint.security_groups)),
        when(has_probe_groups, security_groups(&ec2, &input.probe_security_groups)),
        vpc_attribute(&ec2, &endpoint.vpc_id, VpcAttributeName::EnableDnsSupport),
        vpc_attribute(&ec2, &endpoint.vpc_id, VpcAttributeName::EnableDnsHostnames),
        zone_read,
        rules_read,
        transit_read,
        msk_read,
    );
    merge(audit, msk_audit);
    audit.msk_vpc_connection = msk;
    let (hosted_zone, others) = hosted_zone;
    audit.other_endpoints = others;
    merge(audit, transit_audit);
    audit.transit = transit;
    // An unreachable Resolver API costs only its own reads, not the audit.
    if let Some(why) = rules_audit.unavailable.take() {
        rules_audit.errors.push(why);
    }
    merge(audit, rules_audit);
    audit.resolver_rules = resolver_rules.rules;
    audit.dns_firewall = resolver_rules.firewall;
    audit.query_logs = resolver_rules.query_logs;

    let answers = Ec2Answers { zones, enis, acls, groups, probe_groups, support, hostnames };
    let Some(vpc) = apply_ec2(answers, input, &acl_subnets, &mut endpoint, audit) else { return };
    audit.vpc = Some(vpc);

    if let Some(domain) = domain {
        audit.expected_records = expected_records_for(&endpoint, domain, input.layout);
        audit.vpc_zones = std::mem::take(&mut zone_audit.vpc_zones);
        merge(audit, zone_audit);
        merge(audit, others_audit);
        audit.hosted_zone = hosted_zone;
    }
    audit.endpoint = Some(endpoint);
}

/// The EC2 reads of one audit, as they came back.
struct Ec2Answers {
    zones: Result<Vec<AvailabilityZone>, crate::AwsError>,
    enis: Option<Result<Vec<NetworkInterface>, crate::AwsError>>,
    acls: Option<Result<Vec<NetworkAcl>, crate::AwsError>>,
    groups: Option<Result<Vec<SecurityGroup>, crate::AwsError>>,
    probe_groups: Option<Result<Vec<SecurityGroup>, crate::AwsError>>,
    support: Result<bool, crate::AwsError>,
    hostnames: Result<bool, crate::AwsError>,
}

/// The EC2 answers applied to the audit in the order they depend on each other: the zones, the
/// endpoint's interfaces, the network ACLs, the security groups (the endpoint's, the probe's),
/// the VPC's DNS attributes. `None` when an unreachable API stopped the audit.
fn apply_ec2(
    answers: Ec2Answers,
    input: &AuditInput,
    acl_subnets: &[String],
    endpoint: &mut AwsEndpoint,
    audit: &mut AwsAudit,
) -> Option<AwsVpc> {
    let Ec2Answers { zones, enis, acls, groups, probe_groups, support, hostnames } = answers;
    // Applied in the order the reads depend on each other; an unreachable API stops the audit.
    match zones {
        Ok(zones) => {
            audit.availability_zones = zones
                .iter()
                .filter_map(|z| Some(AwsZone { name: z.zone_name()?.to_string(), id: z.zone_id()?.to_string() }))
                .take(kreach::limits::MAX_LIST)
                .collect();
        }
        Err(e) => {
            if note(audit, e) {
                return None;
            }
        }
    }
    let mut stop = false;
    if let Some(enis) = taken(audit, enis, &mut stop) {
        interfaces(&enis, endpoint, audit);
    }
    if stop {
        return None;
    }
    let mut stop = false;
    if let Some(acls) = taken(audit, acls, &mut stop) {
        audit.network_acls = acls.iter().map(|a| acl_from(a, acl_subnets)).collect();
    }
    if stop {
        return None;
    }
    let mut stop = false;
    if let Some(groups) = taken(audit, groups, &mut stop) {
        ingress(&groups, input, audit);
    }
    if stop {
        return None;
    }
    let mut stop = false;
    if let Some(groups) = taken(audit, probe_groups, &mut stop) {
        for sg in &groups {
            let group_id = sg.group_id().unwrap_or("");
            audit.probe_security_groups.push(group_id.to_string());
            for rule in sg_rules(sg.ip_permissions_egress()) {
                audit.probe_egress_rules.push(AwsIngressRule::new(group_id, rule.from, rule.to, rule.all, &rule.peer));
            }
        }
    }
    if stop {
        return None;
    }
    let mut vpc = AwsVpc { id: endpoint.vpc_id.clone(), dns_support: true, dns_hostnames: true };
    for (attribute, answer) in [("enableDnsSupport", support), ("enableDnsHostnames", hostnames)] {
        match answer {
            Ok(value) => {
                if attribute == "enableDnsSupport" {
                    vpc.dns_support = value;
                } else {
                    vpc.dns_hostnames = value;
                }
            }
            Err(e) => {
                if note(audit, e) {
                    return None;
                }
            }
        }
    }
    Some(vpc)
}

/// The endpoint: by id, or the VPC's (and service's) interface endpoint; with its interfaces' ids.
/// `Ok(None)` when there is none; `Err` when the read failed (noted in the audit).
async fn find_endpoint(
    ec2: &Ec2,
    input: &AuditInput,
    audit: &mut AwsAudit,
) -> Result<Option<(AwsEndpoint, Vec<String>)>, ()> {
    let mut filters = Vec::new();
    if input.vpc_endpoint_id.is_none() {
        filters.extend(input.vpc_id.iter().map(|vpc| filter("vpc-id", std::slice::from_ref(vpc))));
        filters.extend(input.service_name.iter().map(|service| filter("service-name", std::slice::from_ref(service))));
        filters.push(filter("vpc-endpoint-type", &["Interface".to_string()]));
    }
    let ids = input.vpc_endpoint_id.clone().map(|id| vec![id]);
    audit.calls.push("ec2:DescribeVpcEndpoints".into());
    let asked = listing!(
        "ec2:DescribeVpcEndpoints",
        ec2.describe_vpc_endpoints().set_vpc_endpoint_ids(ids.clone()).set_filters(filters_of(&filters)),
        vpc_endpoints
    );
    let endpoints = match asked.await {
        Ok(items) => items,
        Err(e) => {
            note(audit, e);
            return Err(());
        }
    };
    // An endpoint without its id is no answer EC2 gives (a truncated or foreign document the
    // SDK's lenient XML reader took): said, not audited as an empty endpoint.
    if endpoints.iter().any(|e| e.vpc_endpoint_id().is_none_or(str::is_empty)) {
        note(audit, AwsError::invalid("ec2:DescribeVpcEndpoints: the answer lists an endpoint without its id"));
        return Err(());
    }
    let Some(ep) = endpoints.first() else { return Ok(None) };
    if input.vpc_endpoint_id.is_none() && endpoints.len() > 1 {
        audit.errors.push(format!(
            "{} interface endpoints match; audited {} (give --vpc-endpoint to choose)",
            endpoints.len(),
            ep.vpc_endpoint_id().unwrap_or("")
        ));
    }
    let mut interfaces = ep.network_interface_ids().to_vec();
    interfaces.truncate(kreach::limits::MAX_LIST);
    Ok(Some((endpoint_from(ep), interfaces)))
}

/// Most other endpoints described.
const MAX_OTHER_ENDPOINTS: usize = 4;

/// The other interface endpoints `zone`'s records point at, one call each (EC2 fails the whole
/// call when one id of several is unknown).
async fn other_endpoints(
    ec2: &Ec2,
    zone: &kreach::report::AwsHostedZone,
    ours: &str,
    audit: &mut AwsAudit,
) -> Vec<kreach::report::AwsOtherEndpoint> {
    let mut ids: Vec<String> =
        zone.records.iter().filter_map(|r| kreach::report::endpoint_of(&r.value)).filter(|id| id != ours).collect();
    ids.sort();
    ids.dedup();
    ids.truncate(MAX_OTHER_ENDPOINTS);
    audit.calls.extend(ids.iter().map(|_| "ec2:DescribeVpcEndpoints".to_string()));
    let answers = futures::future::join_all(ids.iter().map(|id| async move {
        listing!("ec2:DescribeVpcEndpoints", ec2.describe_vpc_endpoints().vpc_endpoint_ids(id), vpc_endpoints).await
    }))
    .await;
    let mut out = Vec::new();
    for (id, answer) in ids.into_iter().zip(answers) {
        let mut other = kreach::report::AwsOtherEndpoint::default();
        other.id = id;
        match answer {
            Ok(items) => {
                if let Some(e) = items.first() {
                    other.found = true;
                    other.service_name = e.service_name().unwrap_or("").into();
                    other.state = e.state().map(|s| wire(s.as_str())).unwrap_or_default();
                    other.vpc_id = e.vpc_id().unwrap_or("").into();
                }
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                note(audit, e);
                continue;
            }
        }
        out.push(other);
    }
    out
}

/// A read's answer; a failure is noted, and `stop` set when it ends the audit.
fn taken<T>(audit: &mut AwsAudit, answer: Option<Result<T, crate::AwsError>>, stop: &mut bool) -> Option<T> {
    match answer? {
        Ok(v) => Some(v),
        Err(e) => {
            *stop |= note(audit, e);
            None
        }
    }
}

/// A read when there is something to ask.
async fn when<T>(asked: bool, read: impl std::future::Future<Output = T>) -> Option<T> {
    if asked { Some(read.await) } else { None }
}

/// Filters to send: none rather than an empty list.
fn filters_of(filters: &[Filter]) -> Option<Vec<Filter>> {
    (!filters.is_empty()).then(|| filters.to_vec())
}

/// One of the VPC's boolean DNS attributes.
async fn vpc_attribute(ec2: &Ec2, vpc: &str, name: VpcAttributeName) -> Result<bool, crate::AwsError> {
    let out = Box::pin(ec2.describe_vpc_attribute().vpc_id(vpc).attribute(name.clone()).send())
        .await
        .map_err(|e| crate::classify("ec2:DescribeVpcAttribute", e))?;
    let value = match name {
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        _ => out.enable_dns_hostnames(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

/// The endpoint's interfaces: address and zone of each.
fn interfaces(enis: &[NetworkInterface], endpoint: &mut AwsEndpoint, audit: &AwsAudit) {
    for eni in enis {
        let az_name = eni.availability_zone().unwrap_or("").to_string();
        let az_id =
            audit.availability_zones.iter().find(|z| z.name == az_name).map(|z| z.id.clone()).unwrap_or_default();
        let mut interface = AwsInterface::default();
        interface.id = eni.network_interface_id().unwrap_or("").to_string();
        interface.subnet_id = eni.subnet_id().unwrap_or("").to_string();
        interface.az_name = az_name;
        interface.az_id = az_id;
        interface.ip = eni.private_ip_address().unwrap_or("").to_string();
        endpoint.interfaces.push(interface);
    }
    endpoint.interfaces.sort_by(|a, b| a.az_id.cmp(&b.az_id));
}

/// The endpoint's security groups' inbound rules as read, and per port the audit checks whether
/// any admits it.
fn ingress(groups: &[SecurityGroup], input: &AuditInput, audit: &mut AwsAudit) {
    for sg in groups {
        let group_id = sg.group_id().unwrap_or("");
        for rule in sg_rules(sg.ip_permissions()) {
            audit.ingress_rules.push(AwsIngressRule::new(group_id, rule.from, rule.to, rule.all, &rule.peer));
        }
    }
    let ports = if input.ports.is_empty() { PORTS.to_vec() } else { input.ports.clone() };
    for port in ports {
        let sources: Vec<AwsIngressSource> = audit
            .ingress_rules
            .iter()
            .filter(|r| r.admits(port))
            .map(|r| AwsIngressSource { group_id: r.group_id.clone(), source: r.source.clone() })
            .collect();
        let rules = sources.iter().map(|s| format!("{} from {}", s.group_id, s.source)).collect();
        let mut ingress = AwsIngress::default();
        ingress.port = port;
        ingress.allowed = !sources.is_empty();
        ingress.rules = rules;
        ingress.sources = sources;
        audit.ingress.push(ingress);
    }
}

/// The region an endpoint service's name carries: `com.amazonaws.vpce.<region>.vpce-svc-…` (and
/// AWS services' `com.amazonaws.<region>.<service>`).
fn service_region_of(service_name: &str) -> Option<String> {
    kreach::region_of(service_name)
}

/// The endpoint as `DescribeVpcEndpoints` describes it.
fn endpoint_from(ep: &VpcEndpoint) -> AwsEndpoint {
    let text = |value: Option<&str>| value.unwrap_or("").to_string();
    let mut endpoint = AwsEndpoint::default();
    endpoint.id = text(ep.vpc_endpoint_id());
    endpoint.endpoint_type = text(ep.vpc_endpoint_type().map(|t| t.as_str()));
    endpoint.state = ep.state().map(|s| wire(s.as_str())).unwrap_or_default();
    endpoint.service_name = text(ep.service_name());
    endpoint.service_region = ep
        .service_region()
        .filter(|r| kreach::region_of(r).as_deref() == Some(*r))
        .map(str::to_string)
        .or_else(|| service_region_of(&endpoint.service_name));
    endpoint.vpc_id = text(ep.vpc_id());
    endpoint.private_dns_enabled = ep.private_dns_enabled().unwrap_or(false);
    let capped =
        |values: Vec<String>| values.into_iter().filter(|v| !v.is_empty()).take(kreach::limits::MAX_LIST).collect();
    endpoint.security_groups = capped(ep.groups().iter().filter_map(|g| g.group_id()).map(str::to_string).collect());
    endpoint.subnets = capped(ep.subnet_ids().to_vec());
    endpoint.dns_names = capped(ep.dns_entries().iter().filter_map(|d| d.dns_name()).map(str::to_string).collect());
    endpoint
}

/// A network ACL as `DescribeNetworkAcls` describes it, with the asked-about subnets it governs.
fn acl_from(acl: &NetworkAcl, asked: &[String]) -> AwsNetworkAcl {
    let mut out = AwsNetworkAcl::default();
    out.id = acl.network_acl_id().unwrap_or("").to_string();
    out.subnets = acl
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id())
        .filter(|s| asked.iter().any(|a| a == s))
        .map(str::to_string)
        .collect();
    for e in acl.entries().iter().take(kreach::limits::MAX_LIST) {
        let Some(number) = e.rule_number().and_then(|n| u32::try_from(n).ok()) else { continue };
        let cidr = e.cidr_block().or(e.ipv6_cidr_block()).unwrap_or("").to_string();
        let range = e.port_range();
        let ports = match (ec2::port(range.and_then(|r| r.from())), ec2::port(range.and_then(|r| r.to()))) {
            (Some(from), Some(to)) => Some((from, to)),
            _ => None,
        };
        out.entries.push(AwsAclEntry::new(
            number,
            e.egress().unwrap_or(false),
            e.rule_action().is_some_and(|a| a.as_str().eq_ignore_ascii_case("allow")),
            e.protocol().unwrap_or("-1"),
            &cidr,
            ports,
        ));
    }
    out.entries.sort_by_key(|e| (e.egress, e.rule_number));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// moto's DescribeVpcEndpoints has no `serviceRegion` (cross-region PrivateLink, late 2024):
    /// the SDK's type carries it as EC2's API reference documents it (VpcEndpoint).
    fn endpoint(service_name: &str, service_region: Option<&str>) -> AwsEndpoint {
        let ep = VpcEndpoint::builder()
            .vpc_endpoint_id("vpce-0a1b2c3d4e5f60718")
            .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
            .vpc_id("vpc-1a2b3c4d")
            .service_name(service_name)
            .set_service_region(service_region.map(str::to_string))
            .state(aws_sdk_ec2::types::State::from("available"))
            .private_dns_enabled(false)
            .build();
        endpoint_from(&ep)
    }

    #[test]
    fn the_service_region_comes_from_service_region_else_from_the_service_name() {
        let usw2 = "com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0";
        let e = endpoint(usw2, Some("us-west-2"));
        assert_eq!(
            (e.service_region.as_deref(), e.state.as_str(), e.endpoint_type.as_str()),
            (Some("us-west-2"), "available", "Interface")
        );
        // Without the element (moto, older responses): the service name's region.
        let euc1 = "com.amazonaws.vpce.eu-central-1.vpce-svc-0123456789abcdef0";
        assert_eq!(endpoint(euc1, None).service_region.as_deref(), Some("eu-central-1"));
        // A value that is no region is not taken for one.
        assert_eq!(endpoint(usw2, Some("x")).service_region.as_deref(), Some("us-west-2"));
        assert_eq!(endpoint("vpce-svc-0123", None).service_region, None);
    }
}

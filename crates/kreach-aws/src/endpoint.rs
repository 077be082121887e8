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

use crate::api::{self as ec2, Query};
use crate::sg::sg_rules;
use crate::{AuditInput, PORTS, expected_records_for, merge, note, route53};

/// The interface endpoint, its zones, security groups, VPC DNS and the private hosted zone. The
/// endpoint is read first; every other read needs only it, so they all run at once (EC2's and
/// Route 53's) and are applied in a fixed order: the audit's critical path is the endpoint plus the
/// longest of them (the zone's three Route 53 calls), not their sum.
pub(crate) async fn endpoint_audit(input: &AuditInput, audit: &mut AwsAudit, sdk: &aws_config::SdkConfig) {
    let ec2 = match ec2::Ec2::new(sdk).await {
        Ok(c) => c,
        Err(e) => {
            note(audit, e);
            return;
        }
    };
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
    let zones_q = Query::new("DescribeAvailabilityZones");
    let enis_q = (!interface_ids.is_empty())
        .then(|| Query::new("DescribeNetworkInterfaces").list("NetworkInterfaceId", &interface_ids));
    let acls_q = (!acl_subnets.is_empty())
        .then(|| Query::new("DescribeNetworkAcls").filter("association.subnet-id", &acl_subnets));
    let groups_q = (!endpoint.security_groups.is_empty())
        .then(|| Query::new("DescribeSecurityGroups").list("GroupId", &endpoint.security_groups));
    let probe_groups_q = (!input.probe_security_groups.is_empty())
        .then(|| Query::new("DescribeSecurityGroups").list("GroupId", &input.probe_security_groups));
    let attribute_q =
        |name: &str| Query::new("DescribeVpcAttribute").param("VpcId", &endpoint.vpc_id).param("Attribute", name);
    let (support_q, hostnames_q) = (attribute_q("enableDnsSupport"), attribute_q("enableDnsHostnames"));
    for q in [
        Some(&zones_q),
        enis_q.as_ref(),
        acls_q.as_ref(),
        groups_q.as_ref(),
        probe_groups_q.as_ref(),
        Some(&support_q),
        Some(&hostnames_q),
    ]
    .into_iter()
    .flatten()
    {
        audit.calls.push(q.label());
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
        crate::esm::client_vpc_connection(sdk, &ec2, vpc, &mut msk_audit).await
    };
    let (zones, enis, acls, groups, probe_groups, support, hostnames, hosted_zone, resolver_rules, transit, msk) = tokio::join!(
        ec2.call(&zones_q),
        listing(&ec2, enis_q.as_ref(), "networkInterfaceSet"),
        listing(&ec2, acls_q.as_ref(), "networkAclSet"),
        listing(&ec2, groups_q.as_ref(), "securityGroupInfo"),
        listing(&ec2, probe_groups_q.as_ref(), "securityGroupInfo"),
        ec2.call(&support_q),
        ec2.call(&hostnames_q),
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
    zones: Result<ec2::Element, crate::AwsError>,
    enis: Option<Result<Vec<ec2::Element>, crate::AwsError>>,
    acls: Option<Result<Vec<ec2::Element>, crate::AwsError>>,
    groups: Option<Result<Vec<ec2::Element>, crate::AwsError>>,
    probe_groups: Option<Result<Vec<ec2::Element>, crate::AwsError>>,
    support: Result<ec2::Element, crate::AwsError>,
    hostnames: Result<ec2::Element, crate::AwsError>,
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
        Ok(out) => {
            audit.availability_zones = out
                .items("availabilityZoneInfo")
                .filter_map(|z| {
                    Some(AwsZone { name: z.text("zoneName")?.to_string(), id: z.text("zoneId")?.to_string() })
                })
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
            let group_id = sg.text("groupId").unwrap_or("");
            audit.probe_security_groups.push(group_id.to_string());
            for rule in sg_rules(sg, "ipPermissionsEgress") {
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
            Ok(out) => {
                let value = out.child(attribute).and_then(|a| a.flag("value")).unwrap_or(false);
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
    ec2: &ec2::Ec2,
    input: &AuditInput,
    audit: &mut AwsAudit,
) -> Result<Option<(AwsEndpoint, Vec<String>)>, ()> {
    let mut query = Query::new("DescribeVpcEndpoints");
    if let Some(id) = &input.vpc_endpoint_id {
        query = query.list("VpcEndpointId", std::slice::from_ref(id));
    } else {
        if let Some(vpc) = &input.vpc_id {
            query = query.filter("vpc-id", std::slice::from_ref(vpc));
        }
        if let Some(service) = &input.service_name {
            query = query.filter("service-name", std::slice::from_ref(service));
        }
        query = query.filter("vpc-endpoint-type", &["Interface".to_string()]);
    }
    audit.calls.push(query.label());
    let endpoints = match ec2.call_all(&query, "vpcEndpointSet").await {
        Ok(items) => items,
        Err(e) => {
            note(audit, e);
            return Err(());
        }
    };
    let Some(ep) = endpoints.first() else { return Ok(None) };
    if input.vpc_endpoint_id.is_none() && endpoints.len() > 1 {
        audit.errors.push(format!(
            "{} interface endpoints match; audited {} (give --vpc-endpoint to choose)",
            endpoints.len(),
            ep.text("vpcEndpointId").unwrap_or("")
        ));
    }
    Ok(Some((endpoint_from(ep), ep.strings("networkInterfaceIdSet"))))
}

/// Most other endpoints described.
const MAX_OTHER_ENDPOINTS: usize = 4;

/// The other interface endpoints `zone`'s records point at, one call each (EC2 fails the whole
/// call when one id of several is unknown).
async fn other_endpoints(
    ec2: &ec2::Ec2,
    zone: &kreach::report::AwsHostedZone,
    ours: &str,
    audit: &mut AwsAudit,
) -> Vec<kreach::report::AwsOtherEndpoint> {
    let mut ids: Vec<String> =
        zone.records.iter().filter_map(|r| kreach::report::endpoint_of(&r.value)).filter(|id| id != ours).collect();
    ids.sort();
    ids.dedup();
    ids.truncate(MAX_OTHER_ENDPOINTS);
    let queries: Vec<Query> = ids
        .iter()
        .map(|id| Query::new("DescribeVpcEndpoints").list("VpcEndpointId", std::slice::from_ref(id)))
        .collect();
    audit.calls.extend(queries.iter().map(Query::label));
    let answers = futures::future::join_all(queries.iter().map(|q| ec2.call_all(q, "vpcEndpointSet"))).await;
    let mut out = Vec::new();
    for (id, answer) in ids.into_iter().zip(answers) {
        let mut other = kreach::report::AwsOtherEndpoint::default();
        other.id = id;
        match answer {
            Ok(items) => {
                if let Some(e) = items.first() {
                    other.found = true;
                    other.service_name = e.text("serviceName").unwrap_or("").into();
                    other.state = e.text("state").unwrap_or("").into();
                    other.vpc_id = e.text("vpcId").unwrap_or("").into();
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

/// A listing when there is something to ask.
async fn listing(
    ec2: &ec2::Ec2,
    query: Option<&Query>,
    list: &str,
) -> Option<Result<Vec<ec2::Element>, crate::AwsError>> {
    match query {
        Some(q) => Some(ec2.call_all(q, list).await),
        None => None,
    }
}

/// The endpoint's interfaces: address and zone of each.
fn interfaces(enis: &[ec2::Element], endpoint: &mut AwsEndpoint, audit: &AwsAudit) {
    for eni in enis {
        let az_name = eni.text("availabilityZone").unwrap_or("").to_string();
        let az_id =
            audit.availability_zones.iter().find(|z| z.name == az_name).map(|z| z.id.clone()).unwrap_or_default();
        let mut interface = AwsInterface::default();
        interface.id = eni.text("networkInterfaceId").unwrap_or("").to_string();
        interface.subnet_id = eni.text("subnetId").unwrap_or("").to_string();
        interface.az_name = az_name;
        interface.az_id = az_id;
        interface.ip = eni.text("privateIpAddress").unwrap_or("").to_string();
        endpoint.interfaces.push(interface);
    }
    endpoint.interfaces.sort_by(|a, b| a.az_id.cmp(&b.az_id));
}

/// The endpoint's security groups' inbound rules as read, and per port the audit checks whether
/// any admits it.
fn ingress(groups: &[ec2::Element], input: &AuditInput, audit: &mut AwsAudit) {
    for sg in groups {
        let group_id = sg.text("groupId").unwrap_or("");
        for rule in sg_rules(sg, "ipPermissions") {
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
fn endpoint_from(ep: &ec2::Element) -> AwsEndpoint {
    let text = |name: &str| ep.text(name).unwrap_or("").to_string();
    let mut endpoint = AwsEndpoint::default();
    endpoint.id = text("vpcEndpointId");
    endpoint.endpoint_type = text("vpcEndpointType");
    endpoint.state = text("state");
    endpoint.service_name = text("serviceName");
    endpoint.service_region = ep
        .text("serviceRegion")
        .filter(|r| kreach::region_of(r).as_deref() == Some(*r))
        .map(str::to_string)
        .or_else(|| service_region_of(&endpoint.service_name));
    endpoint.vpc_id = text("vpcId");
    endpoint.private_dns_enabled = ep.flag("privateDnsEnabled").unwrap_or(false);
    endpoint.security_groups = ep.items("groupSet").filter_map(|g| g.text("groupId")).map(str::to_string).collect();
    endpoint.subnets = ep.strings("subnetIdSet");
    endpoint.dns_names = ep.items("dnsEntrySet").filter_map(|d| d.text("dnsName")).map(str::to_string).collect();
    for list in [&mut endpoint.security_groups, &mut endpoint.subnets, &mut endpoint.dns_names] {
        list.truncate(kreach::limits::MAX_LIST);
    }
    endpoint
}

/// A network ACL as `DescribeNetworkAcls` describes it, with the asked-about subnets it governs.
fn acl_from(acl: &ec2::Element, asked: &[String]) -> AwsNetworkAcl {
    let mut out = AwsNetworkAcl::default();
    out.id = acl.text("networkAclId").unwrap_or("").to_string();
    out.subnets = acl
        .items("associationSet")
        .filter_map(|a| a.text("subnetId"))
        .filter(|s| asked.iter().any(|a| a == s))
        .map(str::to_string)
        .collect();
    for e in acl.items("entrySet").take(kreach::limits::MAX_LIST) {
        let Some(number) = e.int("ruleNumber").and_then(|n| u32::try_from(n).ok()) else { continue };
        let cidr = e.text("cidrBlock").or(e.text("ipv6CidrBlock")).unwrap_or("").to_string();
        let range = e.child("portRange");
        let port = |name: &str| range.and_then(|r| r.int(name)).and_then(|p| u16::try_from(p).ok());
        let ports = match (port("from"), port("to")) {
            (Some(from), Some(to)) => Some((from, to)),
            _ => None,
        };
        out.entries.push(AwsAclEntry::new(
            number,
            e.flag("egress").unwrap_or(false),
            e.text("ruleAction").is_some_and(|a| a.eq_ignore_ascii_case("allow")),
            e.text("protocol").unwrap_or("-1"),
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
    /// this is the documented response shape (EC2 API reference, VpcEndpoint), not moto's.
    const CROSS_REGION: &str = r#"<DescribeVpcEndpointsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
      <requestId>1</requestId>
      <vpcEndpointSet><item>
        <vpcEndpointId>vpce-0a1b2c3d4e5f60718</vpcEndpointId>
        <vpcEndpointType>Interface</vpcEndpointType>
        <vpcId>vpc-1a2b3c4d</vpcId>
        <serviceName>com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0</serviceName>
        <serviceRegion>us-west-2</serviceRegion>
        <state>available</state>
        <privateDnsEnabled>false</privateDnsEnabled>
      </item></vpcEndpointSet>
    </DescribeVpcEndpointsResponse>"#;

    fn first(xml: &str) -> AwsEndpoint {
        let root = crate::api::xml::parse(xml).expect("xml");
        let ep = root.items("vpcEndpointSet").next().expect("item");
        endpoint_from(ep)
    }

    #[test]
    fn the_service_region_comes_from_service_region_else_from_the_service_name() {
        assert_eq!(first(CROSS_REGION).service_region.as_deref(), Some("us-west-2"));
        // Without the element (moto, older responses): the service name's region.
        let older = CROSS_REGION
            .replace("<serviceRegion>us-west-2</serviceRegion>", "")
            .replace("vpce.us-west-2.vpce-svc", "vpce.eu-central-1.vpce-svc");
        assert_eq!(first(&older).service_region.as_deref(), Some("eu-central-1"));
        // A value that is no region is not taken for one.
        let odd = CROSS_REGION.replace("<serviceRegion>us-west-2</serviceRegion>", "<serviceRegion>x</serviceRegion>");
        assert_eq!(first(&odd).service_region.as_deref(), Some("us-west-2"));
        let none = CROSS_REGION
            .replace("<serviceRegion>us-west-2</serviceRegion>", "")
            .replace("com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0", "vpce-svc-0123");
        assert_eq!(first(&none).service_region, None);
    }
}

//! The interface endpoint from EC2: the endpoint itself, its zones and interfaces, its security
//! groups' inbound rules, the VPC's DNS attributes; then the private hosted zone (`route53`).

use kreach::{AwsAudit, AwsEndpoint, AwsIngress, AwsIngressRule, AwsIngressSource, AwsInterface, AwsVpc, AwsZone};

use crate::api::{self as ec2, Query};
use crate::{AuditInput, PORTS, expected_records_for, note, route53};

/// The interface endpoint, its zones, security groups, VPC DNS and the private hosted zone.
pub(crate) async fn endpoint_audit(input: &AuditInput, audit: &mut AwsAudit, sdk: &aws_config::SdkConfig) {
    let ec2 = match ec2::Ec2::new(sdk).await {
        Ok(c) => c,
        Err(e) => {
            note(audit, e);
            return;
        }
    };

    // The endpoint.
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
            return;
        }
    };
    let Some(ep) = endpoints.first() else {
        audit.errors.push(match &input.vpc_endpoint_id {
            Some(id) => format!("no VPC endpoint {id}"),
            None => "no interface VPC endpoint found (give --vpc-endpoint)".into(),
        });
        return;
    };
    if input.vpc_endpoint_id.is_none() && endpoints.len() > 1 {
        audit.errors.push(format!(
            "{} interface endpoints match; audited {} (give --vpc-endpoint to choose)",
            endpoints.len(),
            ep.text("vpcEndpointId").unwrap_or("")
        ));
    }
    let endpoint = endpoint_from(ep);
    let interface_ids = ep.strings("networkInterfaceIdSet");

    // Zones: AZ name ↔ AZ ID.
    let query = Query::new("DescribeAvailabilityZones");
    audit.calls.push(query.label());
    match ec2.call(&query).await {
        Ok(out) => {
            audit.availability_zones = out
                .items("availabilityZoneInfo")
                .filter_map(|z| {
                    Some(AwsZone { name: z.text("zoneName")?.to_string(), id: z.text("zoneId")?.to_string() })
                })
                .take(kreach::MAX_LIST)
                .collect();
        }
        Err(e) => {
            if note(audit, e) {
                return;
            }
        }
    }
    let mut endpoint = endpoint;

    // The endpoint's interfaces: address and zone of each.
    if !interface_ids.is_empty() {
        let query = Query::new("DescribeNetworkInterfaces").list("NetworkInterfaceId", &interface_ids);
        audit.calls.push(query.label());
        match ec2.call_all(&query, "networkInterfaceSet").await {
            Ok(enis) => {
                for eni in &enis {
                    let az_name = eni.text("availabilityZone").unwrap_or("").to_string();
                    let az_id = audit
                        .availability_zones
                        .iter()
                        .find(|z| z.name == az_name)
                        .map(|z| z.id.clone())
                        .unwrap_or_default();
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
            Err(e) => {
                if note(audit, e) {
                    return;
                }
            }
        }
    }

    // Security groups: inbound rules for the ports.
    if !endpoint.security_groups.is_empty() {
        let query = Query::new("DescribeSecurityGroups").list("GroupId", &endpoint.security_groups);
        audit.calls.push(query.label());
        match ec2.call_all(&query, "securityGroupInfo").await {
            Ok(groups) => {
                for sg in &groups {
                    let group_id = sg.text("groupId").unwrap_or("");
                    for rule in sg_rules(sg, "ipPermissions") {
                        audit
                            .ingress_rules
                            .push(AwsIngressRule::new(group_id, rule.from, rule.to, rule.all, &rule.peer));
                    }
                }
                // Per port the audit was given, from the rules as read.
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
            Err(e) => {
                if note(audit, e) {
                    return;
                }
            }
        }
    }

    // The VPC's DNS attributes.
    let mut vpc = AwsVpc { id: endpoint.vpc_id.clone(), dns_support: true, dns_hostnames: true };
    for attribute in ["enableDnsSupport", "enableDnsHostnames"] {
        let query = Query::new("DescribeVpcAttribute").param("VpcId", &vpc.id).param("Attribute", attribute);
        audit.calls.push(query.label());
        match ec2.call(&query).await {
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
                    return;
                }
            }
        }
    }
    audit.vpc = Some(vpc);

    // The private hosted zone.
    if let Some(domain) = input.domain.as_ref().filter(|_| input.customer_zone()) {
        audit.expected_records = expected_records_for(&endpoint, domain, input.layout);
        audit.hosted_zone = route53::hosted_zone(sdk, domain, &endpoint.vpc_id, audit).await;
    }
    audit.endpoint = Some(endpoint);
}

/// The endpoint as `DescribeVpcEndpoints` describes it.
fn endpoint_from(ep: &ec2::Element) -> AwsEndpoint {
    let text = |name: &str| ep.text(name).unwrap_or("").to_string();
    let mut endpoint = AwsEndpoint::default();
    endpoint.id = text("vpcEndpointId");
    endpoint.endpoint_type = text("vpcEndpointType");
    endpoint.state = text("state");
    endpoint.service_name = text("serviceName");
    endpoint.vpc_id = text("vpcId");
    endpoint.private_dns_enabled = ep.flag("privateDnsEnabled").unwrap_or(false);
    endpoint.security_groups = ep.items("groupSet").filter_map(|g| g.text("groupId")).map(str::to_string).collect();
    endpoint.subnets = ep.strings("subnetIdSet");
    endpoint.dns_names = ep.items("dnsEntrySet").filter_map(|d| d.text("dnsName")).map(str::to_string).collect();
    for list in [&mut endpoint.security_groups, &mut endpoint.subnets, &mut endpoint.dns_names] {
        list.truncate(kreach::MAX_LIST);
    }
    endpoint
}

/// One TCP (or all-traffic) rule of a security group, one peer each.
pub(crate) struct SgRule {
    pub(crate) from: u16,
    pub(crate) to: u16,
    pub(crate) all: bool,
    pub(crate) peer: String,
}

/// A group's TCP and all-traffic rules in `direction` (`ipPermissions` or `ipPermissionsEgress`),
/// one per peer (CIDR, IPv6 CIDR, group, prefix list), capped at [`kreach::MAX_LIST`] per rule.
pub(crate) fn sg_rules(sg: &ec2::Element, direction: &str) -> Vec<SgRule> {
    let mut out = Vec::new();
    for perm in sg.items(direction) {
        let proto = perm.text("ipProtocol").unwrap_or("");
        let all = proto == "-1";
        if !all && proto != "tcp" && proto != "6" {
            continue;
        }
        let port = |name: &str| perm.int(name).and_then(|p| u16::try_from(p).ok()).unwrap_or(0);
        let (from, to) = (port("fromPort"), port("toPort"));
        let peers = perm
            .items("ipRanges")
            .filter_map(|r| r.text("cidrIp"))
            .chain(perm.items("groups").filter_map(|g| g.text("groupId")))
            .chain(perm.items("ipv6Ranges").filter_map(|r| r.text("cidrIpv6")))
            .chain(perm.items("prefixListIds").filter_map(|p| p.text("prefixListId")));
        for peer in peers.take(kreach::MAX_LIST) {
            out.push(SgRule { from, to, all, peer: peer.to_string() });
        }
    }
    out
}

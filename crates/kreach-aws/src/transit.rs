//! A probe in another VPC than the endpoint (a centralised endpoint reached over a transit gateway
//! or a peering): the route each way between the probe's subnet and the endpoint's subnets, and
//! the zones of the transit gateway attachments — read at once, beside the rest of the audit.

use ipnet::Ipv4Net;
use kreach::report::AwsAudit;
use kreach::report::AwsRouteLookup;
use kreach::report::AwsSubnetInfo;
use kreach::report::AwsTgwAttachment;
use kreach::report::AwsTransit;

use crate::api::{Ec2, Element, Query};
use crate::esm::route_table_of;
use crate::note;

/// The path between `probe_vpc` (with `probe_subnet`) and the endpoint's VPC and subnets.
pub(crate) async fn transit(
    ec2: &Ec2,
    probe_vpc: &str,
    probe_subnet: Option<&str>,
    endpoint_vpc: &str,
    endpoint_subnets: &[String],
    audit: &mut AwsAudit,
) -> Option<AwsTransit> {
    let vpcs = vec![probe_vpc.to_string(), endpoint_vpc.to_string()];
    let mut subnet_ids: Vec<String> = endpoint_subnets.to_vec();
    subnet_ids.extend(probe_subnet.map(str::to_string));
    let subnets_q = Query::new("DescribeSubnets").filter("vpc-id", &vpcs);
    let tables_q = Query::new("DescribeRouteTables").filter("vpc-id", &vpcs);
    let attachments_q = Query::new("DescribeTransitGatewayVpcAttachments").filter("vpc-id", &vpcs);
    for q in [&subnets_q, &tables_q, &attachments_q] {
        audit.calls.push(q.label());
    }
    let (subnets, tables, attachments) = tokio::join!(
        ec2.call_all(&subnets_q, "subnetSet"),
        ec2.call_all(&tables_q, "routeTableSet"),
        ec2.call_all(&attachments_q, "transitGatewayVpcAttachments"),
    );
    let subnets: Vec<AwsSubnetInfo> = match subnets {
        Ok(items) => items.iter().map(subnet).collect(),
        Err(e) => {
            note(audit, e);
            return None;
        }
    };
    let tables = match tables {
        Ok(t) => t,
        Err(e) => {
            note(audit, e);
            Vec::new()
        }
    };
    let mut t = AwsTransit::default();
    t.probe_vpc = probe_vpc.to_string();
    t.probe_subnet = probe_subnet.and_then(|id| subnets.iter().find(|s| s.id == id)).cloned();
    t.endpoint_subnets =
        endpoint_subnets.iter().filter_map(|id| subnets.iter().find(|s| s.id == *id)).cloned().collect();
    t.attachments = match attachments {
        Ok(items) => items
            .iter()
            .map(|a| attachment(a, &subnets))
            .filter(|a| !a.state.eq_ignore_ascii_case("deleted") && !a.state.eq_ignore_ascii_case("deleting"))
            .collect(),
        Err(e) => {
            note(audit, e);
            Vec::new()
        }
    };
    if let Some(probe) = &t.probe_subnet {
        for ep in &t.endpoint_subnets {
            t.routes_out.push(lookup(&tables, probe, &ep.cidr));
            t.routes_back.push(lookup(&tables, ep, &probe.cidr));
        }
    }
    Some(t)
}

fn subnet(s: &Element) -> AwsSubnetInfo {
    let mut info = AwsSubnetInfo::default();
    info.id = s.text("subnetId").unwrap_or("").into();
    info.vpc_id = s.text("vpcId").unwrap_or("").into();
    info.cidr = s.text("cidrBlock").unwrap_or("").into();
    info.az_id = s.text("availabilityZoneId").unwrap_or("").into();
    info
}

fn attachment(a: &Element, subnets: &[AwsSubnetInfo]) -> AwsTgwAttachment {
    let mut att = AwsTgwAttachment::default();
    att.id = a.text("transitGatewayAttachmentId").unwrap_or("").into();
    att.transit_gateway_id = a.text("transitGatewayId").unwrap_or("").into();
    att.vpc_id = a.text("vpcId").unwrap_or("").into();
    att.state = a.text("state").unwrap_or("").into();
    att.subnets = a.strings("subnetIds");
    att.subnets.truncate(kreach::limits::MAX_LIST);
    let mut zones: Vec<String> =
        att.subnets.iter().filter_map(|id| subnets.iter().find(|s| s.id == *id)).map(|s| s.az_id.clone()).collect();
    zones.sort();
    zones.dedup();
    att.az_ids = zones;
    att
}

/// The route `from`'s table uses toward `cidr`: the longest destination that covers it.
fn lookup(tables: &[Element], from: &AwsSubnetInfo, cidr: &str) -> AwsRouteLookup {
    let mut l = AwsRouteLookup::default();
    l.subnet = from.id.clone();
    l.toward = cidr.to_string();
    let Some(table) = route_table_of(tables, &from.id, &from.vpc_id) else { return l };
    l.route_table = table.text("routeTableId").map(str::to_string);
    let Ok(toward) = cidr.parse::<Ipv4Net>() else { return l };
    let best = table
        .items("routeSet")
        .filter_map(|r| Some((r, r.text("destinationCidrBlock")?.parse::<Ipv4Net>().ok()?)))
        .filter(|(_, dest)| dest.contains(&toward))
        .max_by_key(|(_, dest)| dest.prefix_len());
    if let Some((route, dest)) = best {
        l.destination = Some(dest.to_string());
        l.target = [
            "transitGatewayId",
            "vpcPeeringConnectionId",
            "gatewayId",
            "natGatewayId",
            "networkInterfaceId",
            "instanceId",
        ]
        .iter()
        .find_map(|k| route.text(k))
        .map(str::to_string);
        l.state = route.text("state").map(str::to_string);
    }
    l
}

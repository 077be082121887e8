//! A probe in another VPC than the endpoint (a centralised endpoint reached over a transit gateway
//! or a peering): the route each way between the probe's subnet and the endpoint's subnets, and
//! the zones of the transit gateway attachments — read at once, beside the rest of the audit.

use ipnet::Ipv4Net;
use kreach::report::AwsAudit;
use kreach::report::AwsRouteLookup;
use kreach::report::AwsSubnetInfo;
use kreach::report::AwsTgwAttachment;
use kreach::report::AwsTransit;

use aws_sdk_ec2::types::{RouteTable, Subnet, TransitGatewayVpcAttachment};

use crate::ec2::{Ec2, filter, route_table_of, route_tables, wire};
use crate::note;
use crate::pages::listing;

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
    audit.calls.extend(
        ["ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeTransitGatewayVpcAttachments"]
            .map(str::to_string),
    );
    let (subnets, tables, attachments) = tokio::join!(
        listing!("ec2:DescribeSubnets", ec2.describe_subnets().filters(filter("vpc-id", &vpcs)), subnets),
        route_tables(ec2, &vpcs),
        listing!(
            "ec2:DescribeTransitGatewayVpcAttachments",
            ec2.describe_transit_gateway_vpc_attachments().filters(filter("vpc-id", &vpcs)),
            transit_gateway_vpc_attachments
        ),
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

fn subnet(s: &Subnet) -> AwsSubnetInfo {
    let mut info = AwsSubnetInfo::default();
    info.id = s.subnet_id().unwrap_or("").into();
    info.vpc_id = s.vpc_id().unwrap_or("").into();
    info.cidr = s.cidr_block().unwrap_or("").into();
    info.az_id = s.availability_zone_id().unwrap_or("").into();
    info
}

fn attachment(a: &TransitGatewayVpcAttachment, subnets: &[AwsSubnetInfo]) -> AwsTgwAttachment {
    let mut att = AwsTgwAttachment::default();
    att.id = a.transit_gateway_attachment_id().unwrap_or("").into();
    att.transit_gateway_id = a.transit_gateway_id().unwrap_or("").into();
    att.vpc_id = a.vpc_id().unwrap_or("").into();
    att.state = a.state().map(|s| wire(s.as_str())).unwrap_or_default();
    att.subnets = a.subnet_ids().iter().filter(|s| !s.is_empty()).take(kreach::limits::MAX_LIST).cloned().collect();
    let mut zones: Vec<String> =
        att.subnets.iter().filter_map(|id| subnets.iter().find(|s| s.id == *id)).map(|s| s.az_id.clone()).collect();
    zones.sort();
    zones.dedup();
    att.az_ids = zones;
    att
}

/// The route `from`'s table uses toward `cidr`: the longest destination that covers it.
fn lookup(tables: &[RouteTable], from: &AwsSubnetInfo, cidr: &str) -> AwsRouteLookup {
    let mut l = AwsRouteLookup::default();
    l.subnet = from.id.clone();
    l.toward = cidr.to_string();
    let Some(table) = route_table_of(tables, &from.id, &from.vpc_id) else { return l };
    l.route_table = table.route_table_id().map(str::to_string);
    let Ok(toward) = cidr.parse::<Ipv4Net>() else { return l };
    let best = table
        .routes()
        .iter()
        .filter_map(|r| Some((r, r.destination_cidr_block()?.parse::<Ipv4Net>().ok()?)))
        .filter(|(_, dest)| dest.contains(&toward))
        .max_by_key(|(_, dest)| dest.prefix_len());
    if let Some((route, dest)) = best {
        l.destination = Some(dest.to_string());
        l.target = [
            route.transit_gateway_id(),
            route.vpc_peering_connection_id(),
            route.gateway_id(),
            route.nat_gateway_id(),
            route.network_interface_id(),
            route.instance_id(),
        ]
        .into_iter()
        .flatten()
        .find(|t| !t.is_empty())
        .map(str::to_string);
        l.state = route.state().map(|s| wire(s.as_str()));
    }
    l
}

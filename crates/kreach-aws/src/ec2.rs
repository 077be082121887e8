//! EC2's reads through `aws-sdk-ec2`: typed answers, the SDK's endpoint rules (every partition,
//! FIPS, dual-stack, `AWS_ENDPOINT_URL_EC2`) and retries, under kreach's capped HTTP client
//! ([`crate::http`]); listings capped by [`crate::pages`].

use aws_sdk_ec2::types::{AvailabilityZone, Filter, RouteTable, SecurityGroup};

use crate::AwsError;
use crate::pages::listing;

/// The EC2 client (`Ec2::new(sdk)`).
pub(crate) type Ec2 = aws_sdk_ec2::Client;

/// An EC2 filter: `name` with any of `values`.
pub(crate) fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.to_vec())).build()
}

/// The region's zones, names and AZ IDs.
pub(crate) async fn availability_zones(ec2: &Ec2) -> Result<Vec<AvailabilityZone>, AwsError> {
    let out = Box::pin(ec2.describe_availability_zones().send())
        .await
        .map_err(|e| crate::classify("ec2:DescribeAvailabilityZones", e))?;
    let mut zones = out.availability_zones.unwrap_or_default();
    zones.truncate(kreach::limits::MAX_LIST);
    Ok(zones)
}

/// Security groups by id, with their rules.
pub(crate) async fn security_groups(ec2: &Ec2, ids: &[String]) -> Result<Vec<SecurityGroup>, AwsError> {
    listing!(
        "ec2:DescribeSecurityGroups",
        ec2.describe_security_groups().set_group_ids(Some(ids.to_vec())),
        security_groups
    )
    .await
}

/// The route tables of `vpcs`.
pub(crate) async fn route_tables(ec2: &Ec2, vpcs: &[String]) -> Result<Vec<RouteTable>, AwsError> {
    listing!("ec2:DescribeRouteTables", ec2.describe_route_tables().filters(filter("vpc-id", vpcs)), route_tables).await
}

/// The route table a subnet uses: its explicit association, else its VPC's main table.
pub(crate) fn route_table_of<'a>(tables: &'a [RouteTable], subnet: &str, vpc: &str) -> Option<&'a RouteTable> {
    let explicit = tables.iter().find(|t| t.associations().iter().any(|a| a.subnet_id() == Some(subnet)));
    let main =
        tables.iter().find(|t| t.vpc_id() == Some(vpc) && t.associations().iter().any(|a| a.main() == Some(true)));
    explicit.or(main)
}

/// An enum's wire spelling as EC2 sends it (`available`, `pendingAcceptance`): the SDK spells
/// the values it knows with a capital (`Available`).
pub(crate) fn wire(value: &str) -> String {
    let mut chars = value.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A port of EC2's (`i32`, `-1` for "all"): `None` when it is no port.
pub(crate) fn port(value: Option<i32>) -> Option<u16> {
    value.and_then(|p| u16::try_from(p).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_are_spelled_as_the_wire_spells_them() {
        assert_eq!(wire("Available"), "available");
        assert_eq!(wire("PendingAcceptance"), "pendingAcceptance");
        assert_eq!(wire("in-use"), "in-use");
        assert_eq!(wire(""), "");
        assert_eq!((port(Some(-1)), port(Some(9092)), port(None), port(Some(70000))), (None, Some(9092), None, None));
    }
}

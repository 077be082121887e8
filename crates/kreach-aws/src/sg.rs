//! Security-group rules as EC2 describes them: the TCP and all-traffic rules of a group, one peer
//! each (the endpoint's, the PNI interfaces', the mapping's and the probe's groups are read so).

use aws_sdk_ec2::types::IpPermission;

/// One TCP (or all-traffic) rule of a security group, one peer each.
pub(crate) struct SgRule {
    pub(crate) from: u16,
    pub(crate) to: u16,
    pub(crate) all: bool,
    pub(crate) peer: String,
}

/// A group's TCP and all-traffic rules in one direction (`ip_permissions()` or
/// `ip_permissions_egress()`), one per peer (CIDR, IPv6 CIDR, group, prefix list), capped at
/// [`kreach::limits::MAX_LIST`] per rule.
pub(crate) fn sg_rules(permissions: &[IpPermission]) -> Vec<SgRule> {
    let mut out = Vec::new();
    for perm in permissions {
        let proto = perm.ip_protocol().unwrap_or("");
        let all = proto == "-1";
        if !all && proto != "tcp" && proto != "6" {
            continue;
        }
        let from = crate::ec2::port(perm.from_port()).unwrap_or(0);
        let to = crate::ec2::port(perm.to_port()).unwrap_or(0);
        let peers = perm
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip())
            .chain(perm.user_id_group_pairs().iter().filter_map(|g| g.group_id()))
            .chain(perm.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()))
            .chain(perm.prefix_list_ids().iter().filter_map(|p| p.prefix_list_id()));
        for peer in peers.filter(|p| !p.is_empty()).take(kreach::limits::MAX_LIST) {
            out.push(SgRule { from, to, all, peer: peer.to_string() });
        }
    }
    out
}

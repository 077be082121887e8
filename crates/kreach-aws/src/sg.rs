//! Security-group rules as EC2 describes them: the TCP and all-traffic rules of a group, one peer
//! each (the endpoint's, the PNI interfaces', the mapping's and the probe's groups are read so).

use crate::api as ec2;

/// One TCP (or all-traffic) rule of a security group, one peer each.
pub(crate) struct SgRule {
    pub(crate) from: u16,
    pub(crate) to: u16,
    pub(crate) all: bool,
    pub(crate) peer: String,
}

/// A group's TCP and all-traffic rules in `direction` (`ipPermissions` or `ipPermissionsEgress`),
/// one per peer (CIDR, IPv6 CIDR, group, prefix list), capped at [`kreach::limits::MAX_LIST`] per rule.
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
        for peer in peers.take(kreach::limits::MAX_LIST) {
            out.push(SgRule { from, to, all, peer: peer.to_string() });
        }
    }
    out
}

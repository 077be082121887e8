//! This probe's own network identity, from the vantage point: matched against security-group
//! rules and network ACLs.

use crate::report::{AwsIngressSource, Vantage};

/// What the vantage point knows about the probe's own network identity.
#[derive(Default)]
pub(super) struct Probe {
    pub(super) vpc: Option<String>,
    pub(super) subnet: Option<String>,
    pub(super) ip: Option<std::net::IpAddr>,
    pub(super) groups: Vec<String>,
}

impl Probe {
    pub(super) fn of(v: &Vantage) -> Probe {
        let fact = |f: &Option<String>| f.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        Probe {
            vpc: fact(&v.facts.vpc_id),
            subnet: fact(&v.facts.subnet_id),
            ip: fact(&v.facts.private_ip).and_then(|ip| ip.parse().ok()),
            groups: v.facts.security_group_ids.clone(),
        }
    }

    /// The `authorize-security-group-ingress` source that admits this probe: its first group,
    /// else its address, else a placeholder.
    pub(super) fn source_flag(&self) -> String {
        match (self.groups.first(), self.ip) {
            (Some(g), _) => format!("--source-group {g}"),
            (None, Some(ip)) => format!("--cidr {ip}/32"),
            (None, None) => "--source-group <client security group>".into(),
        }
    }

    /// Whether any of these rules admits the probe: `None` when that cannot be told (a prefix
    /// list, or a CIDR rule while the probe's address is unknown).
    pub(super) fn admitted_by(&self, sources: &[AwsIngressSource]) -> Option<bool> {
        if self.ip.is_none() && self.groups.is_empty() {
            return None;
        }
        let mut unknown = false;
        for s in sources {
            let source = s.source.as_str();
            if source.starts_with("sg-") {
                if self.groups.iter().any(|g| g == source) {
                    return Some(true);
                }
            } else if let Ok(net) = source.parse::<ipnet::IpNet>() {
                match self.ip {
                    Some(ip) if net.contains(&ip) => return Some(true),
                    Some(_) => {}
                    None => unknown = true,
                }
            } else {
                unknown = true;
            }
        }
        if unknown { None } else { Some(false) }
    }
}

//! What carries the client's packets into the provider's network, for the fixes' words: a VPC
//! endpoint's network interfaces, or (Confluent PNI, known from the audit) the customer's own
//! network interfaces that Confluent's account attaches. Decided from the `network` section's
//! layout, never from text.

use crate::report::{Layout, NetworkSection};

/// The kind of interface the cluster's addresses belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ingress {
    /// An interface VPC endpoint (PrivateLink), or nothing known: the usual path.
    Endpoint,
    /// Confluent's Private Network Interface: the customer's interfaces, attached by Confluent.
    Pni,
}

impl Ingress {
    pub(crate) fn of(network: Option<&NetworkSection>) -> Ingress {
        match network.map(|n| n.layout) {
            Some(Layout::ConfluentPni) => Ingress::Pni,
            _ => Ingress::Endpoint,
        }
    }

    /// Whether PNI's own findings apply: the layout is PNI, or there is no `network` section (an
    /// embedder's report), where the audit's interfaces are taken as found.
    pub(crate) fn pni_applies(network: Option<&NetworkSection>) -> bool {
        network.is_none_or(|n| n.layout == Layout::ConfluentPni)
    }

    /// Whose security group admits the clients' connections.
    pub(crate) fn security_group(self) -> &'static str {
        match self {
            Ingress::Endpoint => "the VPC endpoint's security group",
            Ingress::Pni => {
                "a security group on the PNI network interfaces (your interfaces, which Confluent attaches)"
            }
        }
    }

    /// What holds one of the cluster's addresses (one per zone).
    pub(crate) fn interface(self) -> &'static str {
        match self {
            Ingress::Endpoint => "endpoint network interface",
            Ingress::Pni => "PNI network interface",
        }
    }

    /// What must still stand in `zone` for its address to answer.
    pub(crate) fn zone_check(self, zone: &str) -> String {
        match self {
            Ingress::Endpoint => {
                format!("that the VPC endpoint has a subnet (and a healthy network interface) in {zone}")
            }
            Ingress::Pni => format!(
                "that the PNI network interface in {zone} still exists and is attached by Confluent's account \
                 (aws ec2 describe-network-interfaces: Attachment.Status attached)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Resolution;

    fn section(layout: Layout) -> NetworkSection {
        let rules = crate::analysis::layout::rules(layout, Resolution::Unknown, None);
        NetworkSection {
            layout,
            resolution: Resolution::Unknown,
            domain: None,
            evidence: Vec::new(),
            rules,
            ports: Vec::new(),
        }
    }

    #[test]
    fn only_the_pni_layout_names_the_pni_interfaces() {
        assert_eq!(Ingress::of(Some(&section(Layout::ConfluentPni))), Ingress::Pni);
        for l in [Layout::ConfluentDedicated, Layout::ConfluentAccessPoint, Layout::Redpanda, Layout::Generic] {
            assert_eq!(Ingress::of(Some(&section(l))), Ingress::Endpoint, "{l:?}");
        }
        assert_eq!(Ingress::of(None), Ingress::Endpoint);
        assert!(Ingress::Pni.security_group().contains("PNI network interfaces"));
        assert!(Ingress::Pni.zone_check("usw2-az2").contains("attached"));
    }
}

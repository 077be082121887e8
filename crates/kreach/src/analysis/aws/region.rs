//! The endpoint's regions: where it is (the audit's region: the VPC's), where the service it
//! connects to is (`ServiceRegion`, or the service name's region), and where the cluster is (its
//! names). Cross-region PrivateLink (AWS, late 2024) makes the first two differ legitimately; the
//! last two may not.

use super::diags;
use crate::analysis::Diag;
use crate::report::{AwsAudit, FindingCode};

pub(super) fn region_diags(audit: &AwsAudit, cluster_region: Option<&str>, out: &mut Vec<Diag>) {
    let Some(ep) = &audit.endpoint else { return };
    let Some(service) = ep.service_region.as_deref() else { return };
    let here = audit.region.as_deref();
    if let Some(cluster) = cluster_region.filter(|c| !c.eq_ignore_ascii_case(service)) {
        out.push(Diag::new(
            FindingCode::AwsEndpointServiceOtherRegion,
            format!(
                "endpoint {} connects to {} in {service}, while the cluster's names are in {cluster}: the endpoint \
                 leads to a provider network in {service}, not to this cluster's",
                ep.id, ep.service_name
            ),
            format!(
                "Create the endpoint to the service name the provider gives for the cluster's own network in \
                 {cluster} (Confluent Cloud: the network's PrivateLink service name{}), then point the private \
                 zone's records at the new endpoint's DNS names.",
                if here.is_some_and(|h| !h.eq_ignore_ascii_case(cluster)) {
                    format!("; from this VPC in {} that is a cross-region endpoint", here.unwrap_or_default())
                } else {
                    String::new()
                }
            ),
        ));
        return;
    }
    if let Some(here) = here.filter(|h| !h.eq_ignore_ascii_case(service)) {
        out.push(diags::cross_region(ep, here, service));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::AwsEndpoint;

    fn audit(here: &str, service: Option<&str>) -> AwsAudit {
        let ep = AwsEndpoint {
            id: "vpce-0a1".into(),
            service_name: "com.amazonaws.vpce.us-west-2.vpce-svc-0123".into(),
            service_region: service.map(str::to_string),
            ..Default::default()
        };
        AwsAudit { region: Some(here.into()), endpoint: Some(ep), ..Default::default() }
    }

    fn codes(audit: &AwsAudit, cluster: Option<&str>) -> Vec<FindingCode> {
        let mut out = Vec::new();
        region_diags(audit, cluster, &mut out);
        out.iter().map(|d| d.code).collect()
    }

    #[test]
    fn each_pair_of_regions_is_named_for_what_it_means() {
        // Same region everywhere: nothing.
        assert_eq!(codes(&audit("us-west-2", Some("us-west-2")), Some("us-west-2")), vec![]);
        // The endpoint in us-east-1, the service and the cluster in us-west-2: cross-region PrivateLink.
        assert_eq!(
            codes(&audit("us-east-1", Some("us-west-2")), Some("us-west-2")),
            vec![FindingCode::AwsEndpointCrossRegion]
        );
        // The service in another region than the cluster: another network's endpoint, whatever
        // region the VPC is in.
        for here in ["us-west-2", "us-east-2"] {
            assert_eq!(
                codes(&audit(here, Some("us-west-2")), Some("us-east-2")),
                vec![FindingCode::AwsEndpointServiceOtherRegion],
                "{here}"
            );
        }
        // Nothing known of the service's region, or of the cluster's: only what is known is said.
        assert_eq!(codes(&audit("us-east-1", None), Some("us-west-2")), vec![]);
        assert_eq!(codes(&audit("us-east-1", Some("us-west-2")), None), vec![FindingCode::AwsEndpointCrossRegion]);
    }
}

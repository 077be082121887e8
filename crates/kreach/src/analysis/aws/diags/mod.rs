//! The AWS audit's findings, one constructor each, from the evidence the audit read.

use crate::analysis::Diag;
use crate::report::endpoint_of;
use crate::report::findings::FindingCode;
use crate::report::{AwsEndpoint, AwsHostedZone, DnsRecord};

mod paths;
pub(super) use paths::*;

/// The least-privilege policy statement for one denied action.
pub(crate) fn policy_for(action: &str) -> String {
    format!(
        "{{\"Effect\": \"Allow\", \"Action\": \"{action}\", \"Resource\": \"*\"}} (docs/iam-policy-audit.json has the whole read-only policy)"
    )
}

fn region(region: Option<&str>) -> &str {
    region.unwrap_or("<region>")
}

fn vpcs_of(zone: &AwsHostedZone) -> String {
    if zone.vpcs.is_empty() { "no VPC".to_string() } else { zone.vpcs.join(", ") }
}

fn record(r: &DnsRecord) -> String {
    format!("{} {} {}", r.name, r.record_type, r.value)
}

/// The endpoint's first security group, or a placeholder.
fn endpoint_group(ep: &AwsEndpoint) -> String {
    ep.security_groups.first().cloned().unwrap_or_else(|| "<endpoint security group>".into())
}

pub(super) fn unavailable(why: &str) -> Diag {
    Diag::new(
        FindingCode::AwsUnavailable,
        format!("the AWS audit did not run: {why}"),
        "To have kreach explain failures from the AWS side, run it with read-only AWS credentials and a region \
         (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION); see docs/iam-policy-audit.json.",
    )
}

pub(super) fn access_denied(action: &str, message: &str) -> Diag {
    Diag::new(
        FindingCode::AwsAccessDenied,
        format!("{action} was denied: {message}"),
        format!("Grant the audit's principal {}", policy_for(action)),
    )
}

/// An endpoint in `here` connected to a service in `service` (cross-region PrivateLink).
pub(super) fn cross_region(ep: &AwsEndpoint, here: &str, service: &str) -> Diag {
    Diag::new(
        FindingCode::AwsEndpointCrossRegion,
        format!(
            "endpoint {} is in {here} and connects to {} in {service} (cross-region PrivateLink): every request \
             crosses regions (added latency, inter-region data-transfer charges); the connection exists only while \
             the provider's service allows {here}",
            ep.id, ep.service_name
        ),
        format!(
            "Nothing to change if this is intended. Whether the provider supports cross-region endpoints for this \
             service is the provider's to say (Confluent Cloud's networking documentation, as read for kreach, does \
             not state it); an endpoint in {service} (a VPC there, peered or on a transit gateway) avoids the \
             crossing."
        ),
    )
}

pub(super) fn endpoint_not_available(ep: &AwsEndpoint) -> Diag {
    let fix = match ep.state.to_ascii_lowercase().as_str() {
        "pendingacceptance" => format!(
            "The service provider must accept the connection from {}: for Confluent Cloud, add this AWS account to \
             the network's PrivateLink access and wait for acceptance.",
            ep.id
        ),
        "rejected" => {
            format!(
                "The provider rejected {}: register this AWS account with the provider, then recreate the endpoint.",
                ep.id
            )
        }
        "pending" => format!(
            "{} is still being created: wait until it is available (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {0}).",
            ep.id
        ),
        "failed" => format!(
            "Creating {} failed (often: a subnet in a zone the service does not serve, or the service's limit): \
             aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {0} shows why; fix it and recreate the endpoint.",
            ep.id
        ),
        "expired" => format!(
            "The provider did not accept {} in time and the request expired: ask the provider to allow this AWS \
             account, then recreate the endpoint and have it accepted.",
            ep.id
        ),
        "deleting" | "deleted" => format!(
            "{} is {}: create a new interface endpoint to the service in the same subnets, then point the private \
             hosted zone's records at its DNS names (`kreach records`).",
            ep.id, ep.state
        ),
        _ => format!("Recreate {} (state {}), or ask the provider why it is not available.", ep.id, ep.state),
    };
    Diag::new(FindingCode::AwsEndpointNotAvailable, format!("VPC endpoint {} is {}", ep.id, ep.state), fix)
}

pub(super) fn private_dns_disabled(ep: &AwsEndpoint, layout_words: &str) -> Diag {
    Diag::new(
        FindingCode::AwsPrivateDnsDisabled,
        format!(
            "VPC endpoint {} has private DNS off, and this layout ({layout_words}) has no other zone answering its names",
            ep.id
        ),
        format!("aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --private-dns-enabled", ep.id),
    )
}

pub(super) fn private_dns_enabled(ep: &AwsEndpoint) -> Diag {
    Diag::new(
        FindingCode::AwsPrivateDnsEnabled,
        format!("VPC endpoint {} has private DNS enabled", ep.id),
        format!(
            "Confluent Cloud expects the endpoint's private DNS off and your private hosted zone to answer: \
             aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --no-private-dns-enabled",
            ep.id
        ),
    )
}

/// Brokers `ids` sit in zone `az` (named `az_name` in this account), where the endpoint has no interface.
pub(super) fn az_not_covered(ep: &AwsEndpoint, az: &str, az_name: Option<&str>, ids: &[i32], covered: &[&str]) -> Diag {
    Diag::new(
        FindingCode::AwsAzNotCovered,
        format!(
            "brokers {:?} are in {az}{}, where endpoint {} has no network interface (it covers {})",
            ids,
            az_name.map(|n| format!(" ({n})")).unwrap_or_default(),
            ep.id,
            covered.join(", ")
        ),
        format!(
            "Add a subnet in {az}{} to the endpoint: aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --add-subnet-ids <subnet in {az}>",
            az_name.map(|n| format!(" (AZ name {n} in this account)")).unwrap_or_default(),
            ep.id
        ),
    )
}

/// No inbound rule of the endpoint's groups admits `port`, one of the ports the audit checks.
pub(super) fn sg_missing_ingress(ep: &AwsEndpoint, port: u16) -> Diag {
    Diag::new(
        FindingCode::AwsSgMissingIngress,
        format!("no inbound rule of {} admits TCP {port}", ep.security_groups.join(", ")),
        format!(
            "aws ec2 authorize-security-group-ingress --group-id {} --protocol tcp --port {port} --source-group <client security group> \
             (or --cidr <client subnet or VPC CIDR>)",
            endpoint_group(ep)
        ),
    )
}

/// Brokers advertise `port`, and no inbound rule admits it.
pub(super) fn sg_missing_advertised_port(ep: &AwsEndpoint, port: u16) -> Diag {
    Diag::new(
        FindingCode::AwsSgMissingIngress,
        format!("brokers advertise TCP {port}, and no inbound rule of {} admits it", ep.security_groups.join(", ")),
        format!(
            "aws ec2 authorize-security-group-ingress --group-id {} --protocol tcp --port {port} \
             --source-group <client security group> (or --cidr <client subnet or VPC CIDR>)",
            endpoint_group(ep)
        ),
    )
}

/// `port` failed from here, and its rules (`sources`, of group `sg`) admit neither this probe's
/// address nor its groups; `source_flag` admits the probe.
pub(super) fn sg_excludes_probe(
    port: u16,
    sg: &str,
    sources: &[String],
    probe_ip: Option<std::net::IpAddr>,
    probe_groups: &[String],
    source_flag: &str,
) -> Diag {
    Diag::new(
        FindingCode::AwsSgMissingIngress,
        format!(
            "TCP {port} fails from here, and the endpoint's inbound rules for it ({}) admit neither this probe's \
             address {} nor its security groups {}",
            sources.join("; "),
            probe_ip.map(|ip| ip.to_string()).unwrap_or_else(|| "(unknown)".into()),
            if probe_groups.is_empty() { "(unknown)".to_string() } else { probe_groups.join(", ") },
        ),
        format!(
            "aws ec2 authorize-security-group-ingress --group-id {sg} --protocol tcp --port {port} {source_flag} \
             (or admit the clients' subnet CIDR)"
        ),
    )
}

/// `vpc` has `attribute` (`enableDnsSupport` or `enableDnsHostnames`) off.
pub(super) fn vpc_dns_disabled(vpc: &str, attribute: &str) -> Diag {
    let flag = if attribute == "enableDnsSupport" { "--enable-dns-support" } else { "--enable-dns-hostnames" };
    Diag::new(
        FindingCode::AwsVpcDnsDisabled,
        format!("{vpc} has {attribute} off: private hosted zones do not answer in it"),
        format!("aws ec2 modify-vpc-attribute --vpc-id {vpc} {flag} '{{\"Value\":true}}'"),
    )
}

pub(super) fn phz_missing(domain: &str, vpc: &str, region_name: Option<&str>) -> Diag {
    Diag::new(
        FindingCode::AwsPhzMissing,
        format!("no private hosted zone is named {domain}"),
        format!(
            "Create it, associated with {vpc}: aws route53 create-hosted-zone --name {domain} --vpc VPCRegion={},VPCId={vpc} \
             --caller-reference kreach-$(date +%s) --hosted-zone-config PrivateZone=true; then add the records \
             from `kreach records`.",
            region(region_name),
        ),
    )
}

/// No zone for `domain` in the VPC, but zones for sibling domains (`others`): the VPC is connected
/// to another network or access point than the bootstrap's.
pub(super) fn phz_other_network(domain: &str, others: &[&str], vpc: &str, access_point: bool) -> Diag {
    let what = if access_point { "access point" } else { "Confluent network" };
    Diag::new(
        FindingCode::AwsPhzOtherNetwork,
        format!(
            "{vpc} has no private hosted zone for {domain}, the bootstrap's {what}, but has {}: this VPC is connected \
             to another {what}",
            others.join(", ")
        ),
        format!(
            "Use the bootstrap of the {what} this VPC is connected to ({}: the cluster's bootstrap name under that \
             domain{}), or connect this VPC to {domain} too: its own VPC endpoint{}, a private hosted zone named \
             {domain} associated with {vpc}, and the records `kreach records` prints for it.",
            others.join(" or "),
            if access_point { ", `lkc-<id>-ap<that id>.<region>.<cloud>.accesspoint.glb.confluent.cloud`" } else { "" },
            if access_point { " and an access point for it in Confluent Cloud" } else { "" },
        ),
    )
}

/// The zone is not associated with the endpoint's VPC.
pub(super) fn phz_not_associated(zone: &AwsHostedZone, vpc: &str, region_name: Option<&str>) -> Diag {
    Diag::new(
        FindingCode::AwsPhzNotAssociated,
        format!(
            "private hosted zone {} ({}) is associated with {} but not with {vpc}",
            zone.name,
            zone.id,
            vpcs_of(zone)
        ),
        format!(
            "aws route53 associate-vpc-with-hosted-zone --hosted-zone-id {} --vpc VPCRegion={},VPCId={vpc}",
            zone.id,
            region(region_name),
        ),
    )
}

/// The zone is not associated with `own`, the probe's VPC (the endpoint sits in `endpoint_vpc`).
pub(super) fn phz_not_associated_with_probe(
    zone: &AwsHostedZone,
    own: &str,
    endpoint_vpc: &str,
    region_name: Option<&str>,
) -> Diag {
    Diag::new(
        FindingCode::AwsPhzNotAssociated,
        format!(
            "private hosted zone {} ({}) is associated with {} but not with {own}, the VPC this probe runs in \
             (the endpoint is in {endpoint_vpc})",
            zone.name,
            zone.id,
            vpcs_of(zone),
        ),
        format!(
            "aws route53 associate-vpc-with-hosted-zone --hosted-zone-id {} --vpc VPCRegion={},VPCId={own} \
             (and route {own} to the endpoint's VPC: peering or a transit gateway)",
            zone.id,
            region(region_name),
        ),
    )
}

pub(super) fn phz_record_missing(zone: &AwsHostedZone, expected: &DnsRecord) -> Diag {
    Diag::new(
        FindingCode::AwsPhzRecordMissing,
        format!("private hosted zone {} has no record {}", zone.name, expected.name),
        format!("Create {} (TTL 60); `kreach records` prints them all as a Route 53 change batch.", record(expected)),
    )
}

/// The record's TTL `long` exceeds the provider's `limit`.
pub(super) fn phz_record_ttl(zone: &AwsHostedZone, expected: &DnsRecord, long: u64, limit: u64) -> Diag {
    Diag::new(
        FindingCode::AwsPhzRecordTtl,
        format!(
            "{} in private hosted zone {} has TTL {long} s (the provider's guidance: {limit} s)",
            expected.name, zone.name
        ),
        format!(
            "UPSERT {} with TTL {limit}: a change of endpoint then reaches clients within a minute \
             (`kreach records --output change-batch` prints it).",
            record(expected)
        ),
    )
}

/// The record points at `values`, not at the endpoint.
pub(super) fn phz_record_wrong_target(
    ep: &AwsEndpoint,
    expected: &DnsRecord,
    values: &[&str],
    read_others: &[crate::report::AwsOtherEndpoint],
) -> Diag {
    // A value that is another interface endpoint's DNS name names that endpoint: usually one to
    // another service (an old cluster's, another provider's) or a deleted one.
    let others: Vec<String> = values.iter().filter_map(|v| endpoint_of(v)).filter(|id| *id != ep.id).collect();
    let read = |id: &str| read_others.iter().find(|o| o.id == id);
    let other = if others.is_empty() {
        String::new()
    } else if others.iter().all(|id| read(id).is_some()) {
        let words: Vec<String> = others
            .iter()
            .filter_map(|id| read(id))
            .map(|o| match o.found {
                true => format!(
                    "VPC endpoint {} to service {} ({}, in {}), not this cluster's {}",
                    o.id, o.service_name, o.state, o.vpc_id, ep.service_name
                ),
                false => format!("VPC endpoint {}, which no longer exists", o.id),
            })
            .collect();
        format!(" — that is {}", words.join("; "))
    } else {
        format!(
            " — that is VPC endpoint {} (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {} shows its service; \
             an endpoint to another service than this cluster's, or one that no longer exists)",
            others.join(", "),
            others.join(" ")
        )
    };
    Diag::new(
        FindingCode::AwsPhzRecordWrongTarget,
        format!("{} points at {}, not at endpoint {}{other}", expected.name, values.join(", "), ep.id),
        format!("Change it to {}.", record(expected)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_pointing_at_another_endpoint_names_it() {
        assert_eq!(
            endpoint_of("vpce-0a1b2c3d4e5f60718-abcdefgh.vpce-svc-0123.us-west-2.vpce.amazonaws.com.").as_deref(),
            Some("vpce-0a1b2c3d4e5f60718")
        );
        assert_eq!(
            endpoint_of("vpce-0a1b2c3d4e5f60718-abcdefgh-us-west-2a.vpce-svc-1.us-west-2.vpce.amazonaws.com")
                .as_deref(),
            Some("vpce-0a1b2c3d4e5f60718")
        );
        assert_eq!(endpoint_of("cname.elsewhere.example"), None);
        assert_eq!(endpoint_of("vpce-zz.vpce.amazonaws.com"), None);
        let ep = AwsEndpoint { id: "vpce-11111111111111111".into(), ..Default::default() };
        let expected = DnsRecord::new(
            "*.abc.example",
            "CNAME",
            "vpce-11111111111111111-x.vpce-svc-1.us-west-2.vpce.amazonaws.com",
        );
        let other = phz_record_wrong_target(
            &ep,
            &expected,
            &["vpce-22222222222222222-y.vpce-svc-9.us-west-2.vpce.amazonaws.com"],
            &[],
        );
        assert!(other.summary.contains("that is VPC endpoint vpce-22222222222222222"), "{}", other.summary);
        // Once EC2 described it: its service, or that it is gone.
        let read = crate::report::AwsOtherEndpoint { id: "vpce-22222222222222222".into(), ..Default::default() };
        let gone = phz_record_wrong_target(
            &ep,
            &expected,
            &["vpce-22222222222222222-y.vpce-svc-9.us-west-2.vpce.amazonaws.com"],
            std::slice::from_ref(&read),
        );
        assert!(gone.summary.contains("vpce-22222222222222222, which no longer exists"), "{}", gone.summary);
        // moto's shape of an endpoint name.
        assert_eq!(
            endpoint_of("vpce-4fba68b6e0d7a62a4-68c2e192.com.amazonaws.vpce.us-west-2.vpce-svc-0abc1234def567890")
                .as_deref(),
            Some("vpce-4fba68b6e0d7a62a4")
        );
        let elsewhere = phz_record_wrong_target(&ep, &expected, &["cname.elsewhere.example"], &[]);
        assert!(!elsewhere.summary.contains("that is VPC endpoint"), "{}", elsewhere.summary);
    }
}

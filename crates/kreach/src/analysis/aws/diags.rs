//! The AWS audit's findings, one constructor each, from the evidence the audit read.

use crate::analysis::Diag;
use crate::report::findings::FindingCode;
use crate::report::{AwsEndpoint, AwsHostedZone, DnsRecord};

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
pub(super) fn phz_record_wrong_target(ep: &AwsEndpoint, expected: &DnsRecord, values: &[&str]) -> Diag {
    Diag::new(
        FindingCode::AwsPhzRecordWrongTarget,
        format!("{} points at {}, not at endpoint {}", expected.name, values.join(", "), ep.id),
        format!("Change it to {}.", record(expected)),
    )
}

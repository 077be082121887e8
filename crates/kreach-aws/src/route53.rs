//! The private hosted zone from Route 53: the zone named after the cluster's domain (of several,
//! the one associated with the endpoint's VPC) and its records.

use aws_sdk_route53::error::ProvideErrorMetadata;
use kreach::report::AwsAudit;
use kreach::report::AwsHostedZone;
use kreach::report::DnsRecord;

use crate::{AwsError, classify, note, records};

/// The private hosted zone named `domain`, preferring the one associated with `vpc_id`, with its
/// records; `None` when there is none (or it could not be read: then `audit` says why).
pub(crate) async fn hosted_zone(
    sdk: &aws_config::SdkConfig,
    domain: &str,
    vpc_id: &str,
    audit: &mut AwsAudit,
) -> Option<AwsHostedZone> {
    let r53 = aws_sdk_route53::Client::new(sdk);
    let wanted = format!("{}.", domain.trim_end_matches('.').to_ascii_lowercase());
    audit.calls.push("route53:ListHostedZonesByName".into());
    let zones = match r53.list_hosted_zones_by_name().dns_name(&wanted).send().await {
        Ok(out) => out.hosted_zones().to_vec(),
        Err(e) => {
            note(audit, classify_r53("route53:ListHostedZonesByName", e));
            Vec::new()
        }
    };
    let private: Vec<_> = zones
        .iter()
        .filter(|z| z.name().eq_ignore_ascii_case(&wanted) && z.config().is_some_and(|c| c.private_zone()))
        .collect();
    // Of several private zones with the name, the one associated with the endpoint's VPC counts.
    let mut chosen: Option<AwsHostedZone> = None;
    for z in private {
        audit.calls.push("route53:GetHostedZone".into());
        let vpcs: Vec<String> = match r53.get_hosted_zone().id(z.id()).send().await {
            Ok(out) => out.vpcs().iter().filter_map(|v| v.vpc_id().map(str::to_string)).collect(),
            Err(e) => {
                note(audit, classify_r53("route53:GetHostedZone", e));
                Vec::new()
            }
        };
        let mut candidate = AwsHostedZone::default();
        candidate.id = z.id().trim_start_matches("/hostedzone/").to_string();
        candidate.name = wanted.trim_end_matches('.').to_string();
        candidate.associated = vpcs.iter().any(|v| v == vpc_id);
        candidate.vpcs = vpcs;
        if chosen.as_ref().is_none_or(|c| !c.associated && candidate.associated) {
            chosen = Some(candidate);
        }
    }
    if let Some(zone) = &mut chosen {
        zone.records = list_records(&r53, &zone.id, audit).await;
    }
    if chosen.as_ref().is_none_or(|z| !z.associated)
        && let Some(region) = sdk.region()
    {
        audit.vpc_zones = vpc_zones(&r53, vpc_id, region.as_ref(), audit).await;
    }
    chosen
}

/// Most zone names kept of a VPC's associations.
const MAX_VPC_ZONES: usize = 64;

/// The names of the private hosted zones associated with `vpc_id` (one page: Route 53 returns up
/// to 100), lowercase, without the trailing dot.
async fn vpc_zones(r53: &aws_sdk_route53::Client, vpc_id: &str, region: &str, audit: &mut AwsAudit) -> Vec<String> {
    audit.calls.push("route53:ListHostedZonesByVPC".into());
    let region = aws_sdk_route53::types::VpcRegion::from(region);
    match r53.list_hosted_zones_by_vpc().vpc_id(vpc_id).vpc_region(region).send().await {
        Ok(out) => {
            let mut names: Vec<String> = out
                .hosted_zone_summaries()
                .iter()
                .map(|z| z.name().trim_end_matches('.').to_ascii_lowercase())
                .take(MAX_VPC_ZONES)
                .collect();
            names.sort();
            names.dedup();
            names
        }
        Err(e) => {
            note(audit, classify_r53("route53:ListHostedZonesByVPC", e));
            Vec::new()
        }
    }
}

fn classify_r53<E: ProvideErrorMetadata + std::error::Error + 'static>(
    action: &str,
    err: aws_sdk_route53::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError {
    classify(action, err)
}

async fn list_records(r53: &aws_sdk_route53::Client, zone_id: &str, audit: &mut AwsAudit) -> Vec<DnsRecord> {
    let mut out = Vec::new();
    let mut next: Option<(String, aws_sdk_route53::types::RrType)> = None;
    for _ in 0..100 {
        audit.calls.push("route53:ListResourceRecordSets".into());
        let mut req = r53.list_resource_record_sets().hosted_zone_id(zone_id);
        if let Some((name, ty)) = next.take() {
            req = req.start_record_name(name).start_record_type(ty);
        }
        match req.send().await {
            Ok(page) => {
                for set in page.resource_record_sets() {
                    let ty = set.r#type().as_str().to_string();
                    if ty != "CNAME" && ty != "A" && ty != "AAAA" {
                        continue;
                    }
                    let name = records::normalize(set.name());
                    let mut values: Vec<String> =
                        set.resource_records().iter().map(|r| records::normalize(r.value())).collect();
                    if let Some(alias) = set.alias_target() {
                        values.push(records::normalize(alias.dns_name()));
                    }
                    let ttl = set.ttl().and_then(|t| u64::try_from(t).ok());
                    for value in values {
                        out.push(DnsRecord::new(name.clone(), ty.clone(), value).with_ttl(ttl));
                    }
                }
                if !page.is_truncated() {
                    break;
                }
                match (page.next_record_name(), page.next_record_type()) {
                    (Some(n), Some(t)) => next = Some((n.to_string(), t.clone())),
                    _ => break,
                }
            }
            Err(e) => {
                note(audit, classify_r53("route53:ListResourceRecordSets", e));
                break;
            }
        }
    }
    out
}

//! The records a private hosted zone needs for an interface endpoint, and Route 53's change-batch form.

use kreach::report::AwsEndpoint;
use kreach::report::DnsRecord;

/// Route 53 returns `*` as `\052` and names with a trailing dot; compare without either.
pub(crate) fn normalize(name: &str) -> String {
    name.replace("\\052", "*").trim_end_matches('.').to_ascii_lowercase()
}

/// The zonal DNS name of `regional` in `az_name`: AWS names it by appending `-<az-name>` to the
/// first label (`vpce-0a1-b2c.vpce-svc-….us-west-2.vpce.amazonaws.com` →
/// `vpce-0a1-b2c-us-west-2a.vpce-svc-…`). Taken from the endpoint's DNS entries when listed there.
pub fn zonal_dns_name(endpoint: &AwsEndpoint, az_name: &str) -> Option<String> {
    let regional = endpoint.dns_names.iter().find(|n| !n.starts_with('*'))?;
    let (first, rest) = regional.split_once('.')?;
    let derived = format!("{first}-{az_name}.{rest}");
    let listed = endpoint.dns_names.iter().find(|n| n.eq_ignore_ascii_case(&derived));
    Some(listed.cloned().unwrap_or(derived).to_ascii_lowercase())
}

/// `*.<domain>` → the regional name and `*.<az-id>.<domain>` → each zonal name; with one zone,
/// `*.<domain>` → that zone's name.
pub fn expected_records(endpoint: &AwsEndpoint, domain: &str) -> Vec<DnsRecord> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let cname = |name: String, value: String| DnsRecord::new(name, "CNAME", value);
    let Some(regional) = endpoint.dns_names.iter().find(|n| !n.starts_with('*')).map(|n| n.to_ascii_lowercase()) else {
        return Vec::new();
    };
    let mut zones: Vec<(&str, &str)> =
        endpoint.interfaces.iter().map(|i| (i.az_id.as_str(), i.az_name.as_str())).collect();
    zones.sort();
    zones.dedup();
    if zones.len() == 1 {
        let (_, az_name) = zones[0];
        return vec![cname(format!("*.{domain}"), zonal_dns_name(endpoint, az_name).unwrap_or(regional))];
    }
    let mut out = vec![cname(format!("*.{domain}"), regional)];
    for (az_id, az_name) in zones {
        if let Some(zonal) = zonal_dns_name(endpoint, az_name) {
            out.push(cname(format!("*.{az_id}.{domain}"), zonal));
        }
    }
    out
}

/// The records `layout` needs: a Confluent PrivateLink Attachment or access point uses one
/// regional record and no zonal ones; everything else as [`expected_records`].
pub fn expected_records_for(
    endpoint: &AwsEndpoint,
    domain: &str,
    layout: Option<kreach::report::Layout>,
) -> Vec<DnsRecord> {
    let mut records = expected_records(endpoint, domain);
    if matches!(
        layout,
        Some(kreach::report::Layout::ConfluentPrivateLinkAttachment | kreach::report::Layout::ConfluentAccessPoint)
    ) {
        if let Some(regional) = endpoint.dns_names.iter().find(|n| !n.starts_with('*')) {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            records = vec![DnsRecord::new(format!("*.{domain}"), "CNAME", regional.to_ascii_lowercase())];
        }
    }
    records
}

/// The records as a change batch that `aws route53 change-resource-record-sets` accepts.
pub fn change_batch(records: &[DnsRecord], ttl: u32) -> serde_json::Value {
    let changes: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            serde_json::json!({
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": r.name,
                    "Type": r.record_type,
                    "TTL": ttl,
                    "ResourceRecords": [{ "Value": r.value }],
                }
            })
        })
        .collect();
    serde_json::json!({
        "Comment": "kreach: records for PrivateLink to this endpoint",
        "Changes": changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kreach::report::AwsInterface;

    fn endpoint(zones: &[(&str, &str)]) -> AwsEndpoint {
        let mut endpoint = AwsEndpoint::default();
        endpoint.dns_names = vec!["vpce-0a1-b2c.vpce-svc-0ff.us-west-2.vpce.amazonaws.com".into()];
        endpoint.interfaces = zones
            .iter()
            .map(|(id, name)| {
                let mut interface = AwsInterface::default();
                interface.az_id = id.to_string();
                interface.az_name = name.to_string();
                interface
            })
            .collect();
        endpoint
    }

    #[test]
    fn wildcard_and_zonal_records_by_az_id() {
        let records =
            expected_records(&endpoint(&[("usw2-az2", "us-west-2b"), ("usw2-az1", "us-west-2a")]), "abc.example.");
        let text: Vec<String> = records.iter().map(|r| format!("{} {}", r.name, r.value)).collect();
        assert_eq!(
            text,
            [
                "*.abc.example vpce-0a1-b2c.vpce-svc-0ff.us-west-2.vpce.amazonaws.com",
                "*.usw2-az1.abc.example vpce-0a1-b2c-us-west-2a.vpce-svc-0ff.us-west-2.vpce.amazonaws.com",
                "*.usw2-az2.abc.example vpce-0a1-b2c-us-west-2b.vpce-svc-0ff.us-west-2.vpce.amazonaws.com",
            ]
        );
    }

    #[test]
    fn one_zone_gets_the_zonal_name_as_wildcard() {
        let records = expected_records(&endpoint(&[("usw2-az3", "us-west-2c")]), "abc.example");
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].value, "vpce-0a1-b2c-us-west-2c.vpce-svc-0ff.us-west-2.vpce.amazonaws.com");
    }

    #[test]
    fn change_batch_is_route53_shaped() {
        let batch = change_batch(&expected_records(&endpoint(&[("usw2-az1", "us-west-2a")]), "d.example"), 60);
        assert_eq!(batch["Changes"][0]["Action"], "UPSERT");
        assert_eq!(batch["Changes"][0]["ResourceRecordSet"]["Type"], "CNAME");
        assert_eq!(
            batch["Changes"][0]["ResourceRecordSet"]["ResourceRecords"][0]["Value"]
                .as_str()
                .map(|s| s.starts_with("vpce-")),
            Some(true)
        );
        assert_eq!(normalize("\\052.D.Example."), "*.d.example");
    }
}

//! Route 53 Resolver rules associated with the VPCs (the probe's and the endpoint's): a FORWARD
//! rule sends the queries for its domain to other servers, past the VPC's private hosted zones,
//! unless a more specific SYSTEM rule carves the name out.

use kreach::{AwsAudit, AwsResolverRule};

use crate::api::Api;
use crate::note;

/// Pages read per listing.
const MAX_PAGES: usize = 10;

/// The rules associated with `vpcs`, each with the VPC it is associated with.
pub(crate) async fn resolver_rules(
    sdk: &aws_config::SdkConfig,
    vpcs: &[String],
    audit: &mut AwsAudit,
) -> Vec<AwsResolverRule> {
    if vpcs.is_empty() {
        return Vec::new();
    }
    let api = match Api::for_service(sdk, "route53resolver").await {
        Ok(api) => api,
        Err(e) => {
            note(audit, e);
            return Vec::new();
        }
    };
    audit.calls.push("route53resolver:ListResolverRuleAssociations".into());
    audit.calls.push("route53resolver:ListResolverRules".into());
    let filter = serde_json::json!({"Filters": [{"Name": "VPCId", "Values": vpcs}], "MaxResults": 100});
    let (associations, rules) = tokio::join!(
        pages(&api, "ListResolverRuleAssociations", filter, "ResolverRuleAssociations"),
        pages(&api, "ListResolverRules", serde_json::json!({"MaxResults": 100}), "ResolverRules"),
    );
    let (associations, rules) = match (associations, rules) {
        (Ok(a), Ok(r)) => (a, r),
        (Err(e), _) | (_, Err(e)) => {
            note(audit, e);
            return Vec::new();
        }
    };
    join(&associations, &rules, vpcs)
}

/// Every item of `list` over the pages of `action` (`NextToken`), capped at [`kreach::MAX_LIST`].
async fn pages(
    api: &Api,
    action: &str,
    body: serde_json::Value,
    list: &str,
) -> Result<Vec<serde_json::Value>, crate::AwsError> {
    let label = format!("route53resolver:{action}");
    let target = format!("Route53Resolver.{action}");
    let mut items = Vec::new();
    let mut body = body;
    for _ in 0..MAX_PAGES {
        let page = api.post_json(&label, &target, &body).await?;
        items.extend(page[list].as_array().into_iter().flatten().cloned());
        match page["NextToken"].as_str().filter(|t| !t.is_empty()) {
            Some(token) if items.len() < kreach::MAX_LIST => body["NextToken"] = serde_json::json!(token),
            _ => break,
        }
    }
    items.truncate(kreach::MAX_LIST);
    Ok(items)
}

/// The rules of the associations to `vpcs`, as the report keeps them.
fn join(associations: &[serde_json::Value], rules: &[serde_json::Value], vpcs: &[String]) -> Vec<AwsResolverRule> {
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    let mut out = Vec::new();
    for a in associations {
        let vpc = text(a, "VPCId");
        if !vpcs.contains(&vpc) {
            continue;
        }
        let id = text(a, "ResolverRuleId");
        let Some(rule) = rules.iter().find(|r| r["Id"].as_str() == Some(id.as_str())) else { continue };
        let mut r = AwsResolverRule::default();
        r.id = id;
        r.name = text(rule, "Name");
        r.domain = text(rule, "DomainName").trim_end_matches('.').to_ascii_lowercase();
        r.rule_type = text(rule, "RuleType");
        r.targets = rule["TargetIps"]
            .as_array()
            .into_iter()
            .flatten()
            .take(kreach::MAX_LIST)
            .filter_map(|t| {
                let ip = t["Ip"].as_str().or(t["Ipv6"].as_str())?;
                Some(format!("{ip}:{}", t["Port"].as_u64().unwrap_or(53)))
            })
            .collect();
        r.vpc_id = vpc;
        out.push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented ListResolverRuleAssociations / ListResolverRules shapes.
    #[test]
    fn associations_are_joined_with_their_rules_and_hostile_shapes_give_nothing() {
        let associations = [
            serde_json::json!({"Id": "rslvr-rrassoc-1", "ResolverRuleId": "rslvr-rr-1", "VPCId": "vpc-a"}),
            serde_json::json!({"Id": "rslvr-rrassoc-2", "ResolverRuleId": "rslvr-rr-missing", "VPCId": "vpc-a"}),
            serde_json::json!({"Id": "rslvr-rrassoc-3", "ResolverRuleId": "rslvr-rr-1", "VPCId": "vpc-other"}),
            serde_json::json!(7),
        ];
        let rules = [serde_json::json!({
            "Id": "rslvr-rr-1", "Name": "to-onprem", "DomainName": "Confluent.Cloud.", "RuleType": "FORWARD",
            "TargetIps": [{"Ip": "10.9.9.9", "Port": 53}, {"Ip": "10.9.9.10"}, "junk"],
        })];
        let joined = join(&associations, &rules, &["vpc-a".to_string()]);
        assert_eq!(joined.len(), 1, "{joined:?}");
        let r = &joined[0];
        assert_eq!(
            (r.id.as_str(), r.domain.as_str(), r.rule_type.as_str(), r.vpc_id.as_str()),
            ("rslvr-rr-1", "confluent.cloud", "FORWARD", "vpc-a")
        );
        assert_eq!(r.targets, ["10.9.9.9:53", "10.9.9.10:53"]);
    }
}

//! Route 53 Resolver rules associated with the VPCs (the probe's and the endpoint's): a FORWARD
//! rule sends the queries for its domain to other servers, past the VPC's private hosted zones,
//! unless a more specific SYSTEM rule carves the name out.

use kreach::report::AwsAudit;
use kreach::report::AwsFirewallRuleGroup;
use kreach::report::AwsQueryLogConfig;
use kreach::report::AwsResolverRule;

use crate::api::Api;
use crate::api::json::{pages, pages_up_to};
use crate::note;

/// Pages read per listing.
/// Most Resolver rules read (the account's, shared ones included: 10 pages of 100).
const MAX_RULES: usize = 1000;

/// What the Resolver API says about the VPCs: their rules, DNS Firewall rule groups and query
/// logging configurations.
#[derive(Default)]
pub(crate) struct ResolverReads {
    pub(crate) rules: Vec<AwsResolverRule>,
    pub(crate) firewall: Vec<AwsFirewallRuleGroup>,
    pub(crate) query_logs: Vec<AwsQueryLogConfig>,
}

/// The rules, firewall rule groups and query logging configurations associated with `vpcs`, all
/// read at once (the firewall's rules and domain lists after its associations).
pub(crate) async fn resolver_reads(
    sdk: &aws_config::SdkConfig,
    vpcs: &[String],
    audit: &mut AwsAudit,
) -> ResolverReads {
    if vpcs.is_empty() {
        return ResolverReads::default();
    }
    let api = match Api::for_service(sdk, "route53resolver").await {
        Ok(api) => api,
        Err(e) => {
            note(audit, e);
            return ResolverReads::default();
        }
    };
    for action in [
        "ListResolverRuleAssociations",
        "ListResolverRules",
        "ListResolverQueryLogConfigAssociations",
        "ListResolverQueryLogConfigs",
    ] {
        audit.calls.push(format!("route53resolver:{action}"));
    }
    let filter = serde_json::json!({"Filters": [{"Name": "VPCId", "Values": vpcs}], "MaxResults": 100});
    let log_filter = serde_json::json!({"Filters": [{"Name": "ResourceId", "Values": vpcs}], "MaxResults": 100});
    let mut firewall_audit = AwsAudit::default();
    let (associations, rules, log_associations, logs, firewall) = tokio::join!(
        pages(&api, "ListResolverRuleAssociations", filter, "ResolverRuleAssociations"),
        pages_up_to(&api, "ListResolverRules", serde_json::json!({"MaxResults": 100}), "ResolverRules", MAX_RULES),
        pages(&api, "ListResolverQueryLogConfigAssociations", log_filter, "ResolverQueryLogConfigAssociations"),
        pages(&api, "ListResolverQueryLogConfigs", serde_json::json!({"MaxResults": 100}), "ResolverQueryLogConfigs"),
        crate::firewall::rule_groups(&api, vpcs, &mut firewall_audit),
    );
    crate::merge(audit, firewall_audit);
    let mut out = ResolverReads { firewall, ..ResolverReads::default() };
    match (associations, rules) {
        (Ok(a), Ok((r, _))) => out.rules = join(&a, &r, vpcs),
        (Err(e), _) | (_, Err(e)) => {
            note(audit, e);
        }
    }
    match (log_associations, logs) {
        (Ok(a), Ok(l)) => out.query_logs = join_logs(&a, &l, vpcs),
        (Err(e), _) | (_, Err(e)) => {
            note(audit, e);
        }
    }
    out
}

/// The query logging configurations of the associations to `vpcs`.
fn join_logs(
    associations: &[serde_json::Value],
    configs: &[serde_json::Value],
    vpcs: &[String],
) -> Vec<AwsQueryLogConfig> {
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    let mut out = Vec::new();
    for a in associations {
        let vpc = text(a, "ResourceId");
        if !vpcs.contains(&vpc) || text(a, "Status").eq_ignore_ascii_case("DELETING") {
            continue;
        }
        let id = text(a, "ResolverQueryLogConfigId");
        let Some(config) = configs.iter().find(|c| c["Id"].as_str() == Some(id.as_str())) else { continue };
        let mut q = AwsQueryLogConfig::default();
        q.id = id;
        q.name = text(config, "Name");
        q.destination_arn = text(config, "DestinationArn");
        q.vpc_id = vpc;
        out.push(q);
    }
    out
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
        let mut r = AwsResolverRule::default();
        let Some(rule) = rules.iter().find(|r| r["Id"].as_str() == Some(id.as_str())) else {
            // Associated but not among the rules read (a listing cut short): its domain is
            // unknown, so no rule of this VPC can be said to be the most specific.
            r.id = id;
            r.rule_type = "UNKNOWN".into();
            r.vpc_id = vpc;
            out.push(r);
            continue;
        };
        r.id = id;
        r.name = text(rule, "Name");
        r.domain = text(rule, "DomainName").trim_end_matches('.').to_ascii_lowercase();
        r.rule_type = text(rule, "RuleType");
        r.targets = rule["TargetIps"]
            .as_array()
            .into_iter()
            .flatten()
            .take(kreach::limits::MAX_LIST)
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
        assert_eq!(joined.len(), 2, "{joined:?}");
        assert_eq!(
            (joined[1].id.as_str(), joined[1].rule_type.as_str()),
            ("rslvr-rr-missing", "UNKNOWN"),
            "an association whose rule was not read"
        );
        let r = &joined[0];
        assert_eq!(
            (r.id.as_str(), r.domain.as_str(), r.rule_type.as_str(), r.vpc_id.as_str()),
            ("rslvr-rr-1", "confluent.cloud", "FORWARD", "vpc-a")
        );
        assert_eq!(r.targets, ["10.9.9.9:53", "10.9.9.10:53"]);
    }
}

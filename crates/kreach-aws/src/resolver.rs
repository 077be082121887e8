//! Route 53 Resolver rules associated with the VPCs (the probe's and the endpoint's): a FORWARD
//! rule sends the queries for its domain to other servers, past the VPC's private hosted zones,
//! unless a more specific SYSTEM rule carves the name out.

use kreach::report::AwsAudit;
use kreach::report::AwsFirewallRuleGroup;
use kreach::report::AwsQueryLogConfig;
use kreach::report::AwsResolverRule;

use aws_sdk_route53resolver::types::{
    Filter, ResolverQueryLogConfig, ResolverQueryLogConfigAssociation, ResolverRule, ResolverRuleAssociation,
};

use crate::note;
use crate::pages::{RESOLVER_PAGES, listing};

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
    let api = aws_sdk_route53resolver::Client::new(sdk);
    for action in [
        "ListResolverRuleAssociations",
        "ListResolverRules",
        "ListResolverQueryLogConfigAssociations",
        "ListResolverQueryLogConfigs",
    ] {
        audit.calls.push(format!("route53resolver:{action}"));
    }
    let filter = |name: &str| Filter::builder().name(name).set_values(Some(vpcs.to_vec())).build();
    let mut firewall_audit = AwsAudit::default();
    let (associations, rules, log_associations, logs, firewall) = tokio::join!(
        listing!(
            "route53resolver:ListResolverRuleAssociations",
            api.list_resolver_rule_associations().filters(filter("VPCId")).max_results(100),
            resolver_rule_associations
        ),
        listing!(
            "route53resolver:ListResolverRules",
            api.list_resolver_rules().max_results(100),
            resolver_rules,
            pages = RESOLVER_PAGES,
            cap = MAX_RULES
        ),
        listing!(
            "route53resolver:ListResolverQueryLogConfigAssociations",
            api.list_resolver_query_log_config_associations().filters(filter("ResourceId")).max_results(100),
            resolver_query_log_config_associations
        ),
        listing!(
            "route53resolver:ListResolverQueryLogConfigs",
            api.list_resolver_query_log_configs().max_results(100),
            resolver_query_log_configs
        ),
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
    associations: &[ResolverQueryLogConfigAssociation],
    configs: &[ResolverQueryLogConfig],
    vpcs: &[String],
) -> Vec<AwsQueryLogConfig> {
    let text = |v: Option<&str>| v.unwrap_or("").to_string();
    let mut out = Vec::new();
    for a in associations {
        let vpc = text(a.resource_id());
        if !vpcs.contains(&vpc) || a.status().is_some_and(|s| s.as_str().eq_ignore_ascii_case("DELETING")) {
            continue;
        }
        let id = text(a.resolver_query_log_config_id());
        let Some(config) = configs.iter().find(|c| c.id() == Some(id.as_str())) else { continue };
        let mut q = AwsQueryLogConfig::default();
        q.id = id;
        q.name = text(config.name());
        q.destination_arn = text(config.destination_arn());
        q.vpc_id = vpc;
        out.push(q);
    }
    out
}

/// The rules of the associations to `vpcs`, as the report keeps them.
fn join(associations: &[ResolverRuleAssociation], rules: &[ResolverRule], vpcs: &[String]) -> Vec<AwsResolverRule> {
    let text = |v: Option<&str>| v.unwrap_or("").to_string();
    let mut out = Vec::new();
    for a in associations {
        let vpc = text(a.vpc_id());
        if !vpcs.contains(&vpc) {
            continue;
        }
        let id = text(a.resolver_rule_id());
        let mut r = AwsResolverRule::default();
        let Some(rule) = rules.iter().find(|r| r.id() == Some(id.as_str())) else {
            // Associated but not among the rules read (a listing cut short): its domain is
            // unknown, so no rule of this VPC can be said to be the most specific.
            r.id = id;
            r.rule_type = "UNKNOWN".into();
            r.vpc_id = vpc;
            out.push(r);
            continue;
        };
        r.id = id;
        r.name = text(rule.name());
        r.domain = text(rule.domain_name()).trim_end_matches('.').to_ascii_lowercase();
        r.rule_type = rule.rule_type().map(|t| t.as_str().to_string()).unwrap_or_default();
        r.targets = rule
            .target_ips()
            .iter()
            .take(kreach::limits::MAX_LIST)
            .filter_map(|t| {
                let ip = t.ip().or(t.ipv6()).filter(|ip| !ip.is_empty())?;
                Some(format!("{ip}:{}", t.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(53)))
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

    use aws_sdk_route53resolver::types::{RuleTypeOption, TargetAddress};

    /// The documented ListResolverRuleAssociations / ListResolverRules shapes, as the SDK's types.
    #[test]
    fn associations_are_joined_with_their_rules() {
        let association = |id: &str, rule: &str, vpc: &str| {
            ResolverRuleAssociation::builder().id(id).resolver_rule_id(rule).vpc_id(vpc).build()
        };
        let associations = [
            association("rslvr-rrassoc-1", "rslvr-rr-1", "vpc-a"),
            association("rslvr-rrassoc-2", "rslvr-rr-missing", "vpc-a"),
            association("rslvr-rrassoc-3", "rslvr-rr-1", "vpc-other"),
            ResolverRuleAssociation::builder().build(),
        ];
        let rules = [ResolverRule::builder()
            .id("rslvr-rr-1")
            .name("to-onprem")
            .domain_name("Confluent.Cloud.")
            .rule_type(RuleTypeOption::Forward)
            .target_ips(TargetAddress::builder().ip("10.9.9.9").port(53).build())
            .target_ips(TargetAddress::builder().ip("10.9.9.10").build())
            .target_ips(TargetAddress::builder().ip("10.9.9.11").port(70000).build())
            .target_ips(TargetAddress::builder().build())
            .build()];
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
        assert_eq!(r.targets, ["10.9.9.9:53", "10.9.9.10:53", "10.9.9.11:53"]);
    }
}

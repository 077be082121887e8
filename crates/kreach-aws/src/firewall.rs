//! Route 53 Resolver DNS Firewall: the rule groups associated with the VPCs, their rules, and
//! the domains of the lists those rules name (read-only: three listings, one after another, beside
//! the rest of the audit). The core judges them against the names that failed.

use futures::future::join_all;
use kreach::report::AwsAudit;
use kreach::report::AwsFirewallRule;
use kreach::report::AwsFirewallRuleGroup;

use aws_sdk_route53resolver::types::FirewallRule;

use crate::note;
use crate::pages::{RESOLVER_PAGES, listing};

/// Most rule groups read (a cap on what a hostile answer can make kreach hold, not a quota).
const MAX_GROUPS: usize = 16;
/// Most domain lists read.
const MAX_DOMAIN_LISTS: usize = 32;
/// Most domains read per list (10 pages of 1,000): a longer list stays unjudged, never judged
/// on part of it.
const MAX_DOMAINS: usize = 10_000;

/// The rule groups associated with `vpcs`, with their rules and domains.
pub(crate) async fn rule_groups(
    api: &aws_sdk_route53resolver::Client,
    vpcs: &[String],
    audit: &mut AwsAudit,
) -> Vec<AwsFirewallRuleGroup> {
    audit.calls.push("route53resolver:ListFirewallRuleGroupAssociations".into());
    // The listing filters by one VPC at a time.
    let listings = join_all(vpcs.iter().map(|vpc| async move {
        listing!(
            "route53resolver:ListFirewallRuleGroupAssociations",
            api.list_firewall_rule_group_associations().vpc_id(vpc).max_results(100),
            firewall_rule_group_associations
        )
        .await
    }))
    .await;
    let mut groups: Vec<AwsFirewallRuleGroup> = Vec::new();
    for (vpc, listing) in vpcs.iter().zip(listings) {
        match listing {
            Ok(items) => {
                let live =
                    items.iter().filter(|a| !a.status().is_some_and(|s| s.as_str().eq_ignore_ascii_case("DELETING")));
                for a in live {
                    let mut g = AwsFirewallRuleGroup::default();
                    g.id = a.firewall_rule_group_id().unwrap_or("").to_string();
                    g.name = a.name().unwrap_or("").to_string();
                    g.vpc_id = a.vpc_id().filter(|v| !v.is_empty()).unwrap_or(vpc).to_string();
                    g.priority = a.priority().map_or(i64::MAX, i64::from);
                    if !g.id.is_empty() && groups.len() < MAX_GROUPS {
                        groups.push(g);
                    }
                }
            }
            Err(e) => {
                note(audit, e);
            }
        }
    }
    if groups.is_empty() {
        return groups;
    }
    audit.calls.push("route53resolver:ListFirewallRules".into());
    let mut ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
    ids.sort();
    ids.dedup();
    let rule_lists = join_all(ids.iter().map(|id| async move {
        listing!(
            "route53resolver:ListFirewallRules",
            api.list_firewall_rules().firewall_rule_group_id(id).max_results(100),
            firewall_rules
        )
        .await
    }))
    .await;
    let mut rules_of: Vec<(String, Vec<AwsFirewallRule>)> = Vec::new();
    for (id, listing) in ids.iter().zip(rule_lists) {
        match listing {
            Ok(items) => rules_of.push((id.clone(), items.iter().filter_map(rule).collect())),
            Err(e) => {
                note(audit, e);
            }
        }
    }
    let mut lists: Vec<String> =
        rules_of.iter().flat_map(|(_, r)| r.iter().map(|r| r.domain_list_id.clone())).collect();
    lists.sort();
    lists.dedup();
    lists.retain(|l| !l.is_empty());
    lists.truncate(MAX_DOMAIN_LISTS);
    if !lists.is_empty() {
        audit.calls.push("route53resolver:ListFirewallDomains".into());
    }
    let domain_lists = join_all(lists.iter().map(|id| async move {
        listing!(
            "route53resolver:ListFirewallDomains",
            api.list_firewall_domains().firewall_domain_list_id(id).max_results(1000),
            domains,
            pages = RESOLVER_PAGES,
            cap = MAX_DOMAINS
        )
        .await
    }))
    .await;
    let mut domains_of: Vec<(String, Vec<String>)> = Vec::new();
    for (id, listing) in lists.iter().zip(domain_lists) {
        match listing {
            // Part of a list is no list: an allow rule judged on part of its domains could turn
            // into a false block.
            Ok((_, false)) => {}
            Ok((items, true)) => domains_of.push((
                id.clone(),
                items.iter().map(|d| d.trim_end_matches('.').to_ascii_lowercase()).filter(|d| !d.is_empty()).collect(),
            )),
            // An AWS-managed list does not show its domains: the rule stays, unjudged.
            Err(e) if e.is_denied() => {
                note(audit, e);
            }
            Err(_) => {}
        }
    }
    for g in &mut groups {
        if let Some((_, rules)) = rules_of.iter().find(|(id, _)| *id == g.id) {
            g.rules = rules.clone();
        }
        for r in &mut g.rules {
            if let Some((_, domains)) = domains_of.iter().find(|(id, _)| *id == r.domain_list_id) {
                r.domains = domains.clone();
                r.domains_read = true;
            }
        }
        g.rules.sort_by_key(|r| r.priority);
    }
    groups.sort_by_key(|g| g.priority);
    groups
}

/// One rule of a ListFirewallRules answer; without an action or a priority, none.
fn rule(v: &FirewallRule) -> Option<AwsFirewallRule> {
    let mut r = AwsFirewallRule::default();
    r.name = v.name().unwrap_or("").to_string();
    r.priority = i64::from(v.priority()?);
    r.action = v.action()?.as_str().to_string();
    r.block_response = v.block_response().map(|b| b.as_str().to_string());
    r.block_override_domain = v.block_override_domain().map(|d| d.trim_end_matches('.').to_ascii_lowercase());
    r.redirection = v
        .firewall_domain_redirection_action()
        .map_or_else(|| "INSPECT_REDIRECTION_DOMAIN".to_string(), |a| a.as_str().to_string());
    r.domain_list_id = v.firewall_domain_list_id().unwrap_or("").to_string();
    Some(r)
}

#[cfg(test)]
mod tests {
    use aws_sdk_route53resolver::types::{Action, BlockOverrideDnsType, BlockResponse, FirewallRule};

    /// The documented ListFirewallRules shape, as the SDK's type; an entry without an action or
    /// priority is not a rule.
    #[test]
    fn rules_are_read_with_their_defaults() {
        let r = super::rule(
            &FirewallRule::builder()
                .firewall_rule_group_id("rslvr-frg-1")
                .firewall_domain_list_id("rslvr-fdl-1")
                .name("block-all")
                .priority(200)
                .action(Action::Block)
                .block_response(BlockResponse::Override)
                .block_override_domain("Sink.Example.")
                .block_override_dns_type(BlockOverrideDnsType::Cname)
                .block_override_ttl(60)
                .build(),
        )
        .expect("rule");
        assert_eq!((r.name.as_str(), r.priority, r.action.as_str()), ("block-all", 200, "BLOCK"));
        assert_eq!((r.block_response.as_deref(), r.domain_list_id.as_str()), (Some("OVERRIDE"), "rslvr-fdl-1"));
        assert_eq!(r.block_override_domain.as_deref(), Some("sink.example"));
        assert_eq!(r.redirection, "INSPECT_REDIRECTION_DOMAIN", "the API's default when the field is absent");
        assert!(!r.domains_read);
        assert!(super::rule(&FirewallRule::builder().name("x").action(Action::Block).build()).is_none());
        assert!(super::rule(&FirewallRule::builder().name("x").priority(1).build()).is_none());
    }
}

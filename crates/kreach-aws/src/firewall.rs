//! Route 53 Resolver DNS Firewall: the rule groups associated with the VPCs, their rules, and
//! the domains of the lists those rules name (read-only: three listings, one after another, beside
//! the rest of the audit). The core judges them against the names that failed.

use futures::future::join_all;
use kreach::report::AwsAudit;
use kreach::report::AwsFirewallRule;
use kreach::report::AwsFirewallRuleGroup;

use crate::api::Api;
use crate::api::json::{pages, pages_up_to};
use crate::note;

/// Most rule groups read (a cap on what a hostile answer can make kreach hold, not a quota).
const MAX_GROUPS: usize = 16;
/// Most domain lists read.
const MAX_DOMAIN_LISTS: usize = 32;
/// Most domains read per list (10 pages of 1,000): a longer list stays unjudged, never judged
/// on part of it.
const MAX_DOMAINS: usize = 10_000;

/// The rule groups associated with `vpcs`, with their rules and domains.
pub(crate) async fn rule_groups(api: &Api, vpcs: &[String], audit: &mut AwsAudit) -> Vec<AwsFirewallRuleGroup> {
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    audit.calls.push("route53resolver:ListFirewallRuleGroupAssociations".into());
    // The listing filters by one VPC at a time.
    let listings = join_all(vpcs.iter().map(|vpc| {
        let body = serde_json::json!({"VpcId": vpc, "MaxResults": 100});
        pages(api, "ListFirewallRuleGroupAssociations", body, "FirewallRuleGroupAssociations")
    }))
    .await;
    let mut groups: Vec<AwsFirewallRuleGroup> = Vec::new();
    for (vpc, listing) in vpcs.iter().zip(listings) {
        match listing {
            Ok(items) => {
                for a in items.iter().filter(|a| !text(a, "Status").eq_ignore_ascii_case("DELETING")) {
                    let mut g = AwsFirewallRuleGroup::default();
                    g.id = text(a, "FirewallRuleGroupId");
                    g.name = text(a, "Name");
                    g.vpc_id = a["VpcId"].as_str().unwrap_or(vpc).to_string();
                    g.priority = a["Priority"].as_i64().unwrap_or(i64::MAX);
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
    let rule_lists = join_all(ids.iter().map(|id| {
        let body = serde_json::json!({"FirewallRuleGroupId": id, "MaxResults": 100});
        pages(api, "ListFirewallRules", body, "FirewallRules")
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
    let domain_lists = join_all(lists.iter().map(|id| {
        let body = serde_json::json!({"FirewallDomainListId": id, "MaxResults": 1000});
        pages_up_to(api, "ListFirewallDomains", body, "Domains", MAX_DOMAINS)
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
                items
                    .iter()
                    .filter_map(|d| d.as_str())
                    .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
                    .filter(|d| !d.is_empty())
                    .collect(),
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

/// One rule of a ListFirewallRules answer.
fn rule(v: &serde_json::Value) -> Option<AwsFirewallRule> {
    let text = |k: &str| v[k].as_str().map(str::to_string);
    let mut r = AwsFirewallRule::default();
    r.name = text("Name").unwrap_or_default();
    r.priority = v["Priority"].as_i64()?;
    r.action = text("Action")?;
    r.block_response = text("BlockResponse");
    r.block_override_domain = text("BlockOverrideDomain").map(|d| d.trim_end_matches('.').to_ascii_lowercase());
    r.redirection = text("FirewallDomainRedirectionAction").unwrap_or_else(|| "INSPECT_REDIRECTION_DOMAIN".into());
    r.domain_list_id = text("FirewallDomainListId").unwrap_or_default();
    Some(r)
}

#[cfg(test)]
mod tests {
    /// The documented ListFirewallRules shape; an entry without an action or priority is not a rule.
    #[test]
    fn rules_are_read_with_their_defaults() {
        let r = super::rule(&serde_json::json!({
            "FirewallRuleGroupId": "rslvr-frg-1", "FirewallDomainListId": "rslvr-fdl-1", "Name": "block-all",
            "Priority": 200, "Action": "BLOCK", "BlockResponse": "OVERRIDE", "BlockOverrideDomain": "Sink.Example.",
            "BlockOverrideDnsType": "CNAME", "BlockOverrideTtl": 60,
        }))
        .expect("rule");
        assert_eq!((r.name.as_str(), r.priority, r.action.as_str()), ("block-all", 200, "BLOCK"));
        assert_eq!(r.block_override_domain.as_deref(), Some("sink.example"));
        assert_eq!(r.redirection, "INSPECT_REDIRECTION_DOMAIN", "the API's default when the field is absent");
        assert!(!r.domains_read);
        assert!(super::rule(&serde_json::json!({"Name": "x", "Action": "BLOCK"})).is_none());
        assert!(super::rule(&serde_json::json!("junk")).is_none());
    }
}

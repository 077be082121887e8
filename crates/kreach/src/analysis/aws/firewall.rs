//! Route 53 Resolver DNS Firewall, judged as the resolver applies it: rule groups by association
//! priority, rules by priority, the first ALLOW or BLOCK whose domain list covers the name decides
//! (ALERT only logs). With redirection inspection (the default), every name a CNAME chain leads
//! to is judged too, so a chain that leaves an allowed domain (`*.confluent.cloud` into
//! `*.vpce.amazonaws.com`) meets the walled garden's BLOCK of everything else.

use crate::report::{AwsFirewallRule, AwsFirewallRuleGroup};

/// Whether a domain-list entry covers `name` (both lower case, no trailing dot): `*` covers every
/// name, `*.x` every name below x, anything else itself.
pub(super) fn covers(entry: &str, name: &str) -> bool {
    match entry.strip_prefix("*.") {
        _ if entry == "*" => true,
        Some(parent) => {
            name.len() > parent.len() && name.ends_with(parent) && name[..name.len() - parent.len()].ends_with('.')
        }
        None => entry == name,
    }
}

/// What decides a name.
enum Decision<'a> {
    /// The first ALLOW or BLOCK covering it.
    Rule(&'a AwsFirewallRuleGroup, &'a AwsFirewallRule),
    /// A rule whose domains could not be read comes first: nobody can say.
    Unknown,
    /// No rule covers it: the resolver answers.
    Nothing,
}

/// The rule that decides `name`, with its group: the first ALLOW or BLOCK covering it, unless a
/// rule whose domains were not read (an AWS-managed list, one too long) comes before.
fn deciding<'a>(groups: &[&'a AwsFirewallRuleGroup], name: &str) -> Decision<'a> {
    for g in groups {
        let mut rules: Vec<&AwsFirewallRule> = g.rules.iter().collect();
        rules.sort_by_key(|r| r.priority);
        for r in rules
            .into_iter()
            .filter(|r| r.action.eq_ignore_ascii_case("ALLOW") || r.action.eq_ignore_ascii_case("BLOCK"))
        {
            if !r.domains_read {
                return Decision::Unknown;
            }
            if r.domains.iter().any(|d| covers(d, name)) {
                return Decision::Rule(g, r);
            }
        }
    }
    Decision::Nothing
}

/// A name of the chain a BLOCK rule stops.
#[derive(Debug)]
pub(super) struct Blocked<'a> {
    /// The name the rule matched.
    pub(super) name: String,
    pub(super) group: &'a AwsFirewallRuleGroup,
    pub(super) rule: &'a AwsFirewallRule,
    /// The ALLOW rule that let the chain's earlier name through, when the block is of a name
    /// the chain led to (redirection inspection).
    pub(super) allowed_by: Option<(&'a AwsFirewallRuleGroup, &'a AwsFirewallRule, String)>,
}

/// Judges `chain` (the name asked, then each name its CNAMEs lead to) against the rule groups of
/// one VPC: the first name a BLOCK decides, unless an ALLOW that trusts redirection came first.
pub(super) fn judge<'a>(groups: &[&'a AwsFirewallRuleGroup], chain: &[String]) -> Option<Blocked<'a>> {
    let mut sorted: Vec<&AwsFirewallRuleGroup> = groups.to_vec();
    sorted.sort_by_key(|g| g.priority);
    let mut allowed_by: Option<(&AwsFirewallRuleGroup, &AwsFirewallRule, String)> = None;
    for name in chain {
        let (group, rule) = match deciding(&sorted, name) {
            Decision::Rule(g, r) => (g, r),
            Decision::Unknown => return None,
            Decision::Nothing => continue,
        };
        if rule.action.eq_ignore_ascii_case("BLOCK") {
            return Some(Blocked { name: name.clone(), group, rule, allowed_by });
        }
        if rule.redirection.eq_ignore_ascii_case("TRUST_REDIRECTION_DOMAIN") {
            return None;
        }
        allowed_by.get_or_insert((group, rule, name.clone()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, priority: i64, action: &str, domains: &[&str], redirection: &str) -> AwsFirewallRule {
        AwsFirewallRule {
            name: name.into(),
            priority,
            action: action.into(),
            block_response: (action == "BLOCK").then(|| "NXDOMAIN".into()),
            block_override_domain: None,
            redirection: redirection.into(),
            domain_list_id: format!("rslvr-fdl-{name}"),
            domains: domains.iter().map(|d| d.to_string()).collect(),
            domains_read: true,
        }
    }

    fn group(priority: i64, rules: Vec<AwsFirewallRule>) -> AwsFirewallRuleGroup {
        AwsFirewallRuleGroup {
            id: format!("rslvr-frg-{priority}"),
            name: String::new(),
            vpc_id: "vpc-a".into(),
            priority,
            rules,
        }
    }

    #[test]
    fn domain_entries_cover_as_the_resolver_reads_them() {
        assert!(covers("*", "anything.example"));
        assert!(covers("*.confluent.cloud", "lkc-1.n9.us-west-2.aws.confluent.cloud"));
        assert!(!covers("*.confluent.cloud", "confluent.cloud"));
        assert!(!covers("*.confluent.cloud", "notconfluent.cloud"));
        assert!(covers("confluent.cloud", "confluent.cloud"));
        assert!(!covers("confluent.cloud", "x.confluent.cloud"));
    }

    fn chain() -> Vec<String> {
        [
            "lkc-1-n9.us-west-2.aws.glb.confluent.cloud",
            "lkc-1.n9.us-west-2.aws.confluent.cloud",
            "vpce-0abc-x.vpce-svc-1.us-west-2.vpce.amazonaws.com",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// A walled garden (allow *.confluent.cloud, block *) blocks the chain at the vpce name by
    /// default, not when the allow rule trusts redirection; a block of the glb names stops the
    /// first hop; an ALERT rule decides nothing; a later group is not reached when an earlier
    /// one decides.
    #[test]
    fn the_chain_is_judged_name_by_name_in_priority_order() {
        let garden = |redirection: &str| {
            group(
                100,
                vec![
                    rule("allow-confluent", 1, "ALLOW", &["*.confluent.cloud"], redirection),
                    rule("block-all", 2, "BLOCK", &["*"], ""),
                ],
            )
        };
        let inspect = garden("INSPECT_REDIRECTION_DOMAIN");
        let blocked = judge(&[&inspect], &chain()).expect("blocked");
        assert!(blocked.name.ends_with("vpce.amazonaws.com"), "{blocked:?}");
        assert_eq!(blocked.rule.name, "block-all");
        assert_eq!(blocked.allowed_by.as_ref().map(|a| a.1.name.as_str()), Some("allow-confluent"));
        let trusted = garden("TRUST_REDIRECTION_DOMAIN");
        assert!(judge(&[&trusted], &chain()).is_none());

        let glb = group(
            100,
            vec![
                rule("alert-all", 1, "ALERT", &["*"], ""),
                rule("block-glb", 2, "BLOCK", &["*.glb.confluent.cloud"], ""),
            ],
        );
        let blocked = judge(&[&glb], &chain()).expect("blocked");
        assert_eq!((blocked.name.as_str(), blocked.rule.name.as_str()), (chain()[0].as_str(), "block-glb"));
        assert!(blocked.allowed_by.is_none());

        let first = group(1, vec![rule("allow-all", 1, "ALLOW", &["*"], "TRUST_REDIRECTION_DOMAIN")]);
        assert!(judge(&[&glb, &first], &chain()).is_none(), "the group with priority 1 is applied first");
        let unrelated = group(5, vec![rule("block-ads", 1, "BLOCK", &["*.ads.example"], "")]);
        assert!(judge(&[&unrelated], &chain()).is_none());
        // An allow list that could not be read (AWS-managed, or too long to read whole) before a
        // block of everything: nobody can say, so nothing is named.
        let mut unread = rule("allow-managed", 1, "ALLOW", &[], "");
        unread.domains_read = false;
        let uncertain = group(100, vec![unread, rule("block-all", 2, "BLOCK", &["*"], "")]);
        assert!(judge(&[&uncertain], &chain()).is_none());
    }
}

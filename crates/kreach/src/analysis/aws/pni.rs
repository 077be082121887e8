//! Confluent's Private Network Interface (PNI) from the audit, joined with what the network
//! showed: the network interfaces Confluent's account attaches (their permission, their
//! attachment), their security groups against the ports the cluster uses and this probe, and the
//! addresses the cluster's names resolved to. Confluent's documentation says nothing of how PNI
//! broker names resolve; an address on none of the interfaces is a warning, not a verdict.

use super::{Probe, tcp_failed_on};
use crate::analysis::Diag;
use crate::report::{AwsAudit, AwsEniPermission, AwsIngressRule, AwsPniInterface, FindingCode, FixAction, Role};
use crate::report::{AwsIngressSource, TargetReport};

/// Every PNI finding the audit supports.
pub(super) fn pni_diags(
    targets: &[TargetReport],
    seed_port: u16,
    audit: &AwsAudit,
    probe: &Probe,
    out: &mut Vec<Diag>,
) {
    let pni = &audit.pni_interfaces;
    if pni.is_empty() {
        return;
    }
    // The account Confluent attaches from: the one most attached interfaces belong to.
    let confluent = most_common(pni.iter().filter_map(|i| i.attached_account.as_deref()));
    for i in pni.iter().filter(|i| !i.attached()) {
        let grants: Vec<&AwsEniPermission> = i.attach_grants().collect();
        out.push(match (grants.as_slice(), confluent) {
            ([], _) => permission_missing(i, confluent),
            (g, Some(account)) if g.iter().all(|p| p.account != account) => wrong_account(i, g, account),
            (g, _) => not_attached(i, g),
        });
    }
    port_diags(targets, seed_port, pni, probe, out);
    let open = pni.iter().flat_map(|i| &i.egress_rules).find(|r| r.all_traffic && is_anywhere(&r.source));
    if let Some(rule) = open {
        out.push(Diag::new(
            FindingCode::AwsPniEgressOpen,
            format!("{} (on the PNI interfaces) lets all traffic out to {}", rule.group_id, rule.source),
            format!(
                "Confluent recommends blocking connections from Confluent Cloud into your network: \
                 aws ec2 revoke-security-group-egress --group-id {} --ip-permissions IpProtocol=-1,IpRanges=[{{CidrIp={}}}] \
                 (the clients' connections and their replies still pass: security groups are stateful)",
                rule.group_id, rule.source
            ),
        ));
    }
    elsewhere_diags(targets, pni, out);
}

/// The account most of `accounts` name; the first of a tie.
fn most_common<'a>(accounts: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for a in accounts {
        match counts.iter_mut().find(|(name, _)| *name == a) {
            Some((_, n)) => *n += 1,
            None => counts.push((a, 1)),
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(a, _)| a)
}

fn described(i: &AwsPniInterface) -> String {
    format!(
        "{} ({}, {})",
        i.id,
        i.ips.first().map_or("no address", String::as_str),
        if i.az_id.is_empty() { &i.az_name } else { &i.az_id }
    )
}

fn permission_missing(i: &AwsPniInterface, confluent: Option<&str>) -> Diag {
    let account = confluent.unwrap_or("<the gateway's AWS account, shown on the PNI gateway in Confluent Cloud>");
    Diag::new(
        FindingCode::AwsPniPermissionMissing,
        format!(
            "{} holds an address of the cluster's names, has no INSTANCE-ATTACH permission and is attached to nothing: \
             Confluent cannot attach it",
            described(i)
        ),
        format!(
            "aws ec2 create-network-interface-permission --network-interface-id {} --aws-account-id {account} \
             --permission INSTANCE-ATTACH{}",
            i.id,
            if confluent.is_some() { " (the account the other PNI interfaces are attached to)" } else { "" }
        ),
    )
}

fn wrong_account(i: &AwsPniInterface, grants: &[&AwsEniPermission], confluent: &str) -> Diag {
    let granted: Vec<&str> = grants.iter().map(|p| p.account.as_str()).collect();
    Diag::new(
        FindingCode::AwsPniPermissionWrongAccount,
        format!(
            "{} lets account {} attach it, while the other PNI interfaces are attached to account {confluent}: it \
             stays unattached",
            described(i),
            granted.join(", ")
        ),
        format!(
            "aws ec2 create-network-interface-permission --network-interface-id {} --aws-account-id {confluent} \
             --permission INSTANCE-ATTACH, then delete the other (aws ec2 delete-network-interface-permission)",
            i.id
        ),
    )
}

fn not_attached(i: &AwsPniInterface, grants: &[&AwsEniPermission]) -> Diag {
    let granted: Vec<String> = grants.iter().map(|p| format!("{} ({})", p.account, p.state)).collect();
    Diag::new(
        FindingCode::AwsPniNotAttached,
        format!(
            "{} lets account {} attach it, and nothing is attached ({})",
            described(i),
            granted.join(", "),
            if i.status.is_empty() { "status unknown" } else { &i.status }
        ),
        format!(
            "Check that the permission's account is the PNI gateway's AWS account (Confluent Cloud: the gateway's \
             details), and that the access point was created with this interface: confluent network access-point \
             private-network-interface create --cloud aws --gateway <gateway id> --network-interfaces {} --account <this \
             account>",
            i.id
        ),
    )
}

/// The ports the cluster's names use, against the interfaces' inbound rules; and this probe
/// against them when a port failed from here.
fn port_diags(targets: &[TargetReport], seed_port: u16, pni: &[AwsPniInterface], probe: &Probe, out: &mut Vec<Diag>) {
    // Confluent's two ports (9092, 443: every PNI needs both), and any other port brokers advertise.
    let mut ports = vec![crate::DEFAULT_KAFKA_PORT, crate::DEFAULT_HTTPS_PORT];
    ports.extend(targets.iter().filter(|t| t.role == Role::Broker && t.port != seed_port).map(|t| t.port));
    ports.sort_unstable();
    ports.dedup();
    let mut groups: Vec<&str> = pni.iter().flat_map(|i| i.security_groups.iter().map(String::as_str)).collect();
    groups.sort_unstable();
    groups.dedup();
    let rules: Vec<&AwsIngressRule> = pni.iter().flat_map(|i| &i.ingress_rules).collect();
    let group = groups.first().copied().unwrap_or("<PNI security group>");
    let source_flag = probe.source_flag();
    for port in ports {
        let sources: Vec<AwsIngressSource> = rules
            .iter()
            .filter(|r| r.admits(port))
            .map(|r| AwsIngressSource { group_id: r.group_id.clone(), source: r.source.clone() })
            .collect();
        let fix = format!(
            "aws ec2 authorize-security-group-ingress --group-id {group} --protocol tcp --port {port} {source_flag}"
        );
        if sources.is_empty() {
            out.push(
                Diag::new(
                    FindingCode::AwsPniSgMissingIngress,
                    format!("no inbound rule of the PNI interfaces' groups ({}) admits TCP {port}", groups.join(", ")),
                    fix,
                )
                .action(FixAction::AllowPort { port, az_id: None }),
            );
        } else if tcp_failed_on(targets, port) && probe.admitted_by(&sources) == Some(false) {
            let listed: Vec<String> = sources.iter().map(|s| format!("{} from {}", s.group_id, s.source)).collect();
            out.push(
                Diag::new(
                    FindingCode::AwsPniSgMissingIngress,
                    format!(
                        "TCP {port} fails from here, and the PNI interfaces' rules for it ({}) admit neither this probe's \
                         address nor its groups",
                        listed.join("; ")
                    ),
                    fix,
                )
                .action(FixAction::AllowPort { port, az_id: None }),
            );
        }
    }
}

fn is_anywhere(source: &str) -> bool {
    matches!(source, "0.0.0.0/0" | "::/0")
}

/// Cluster names resolving to private addresses no PNI interface holds.
fn elsewhere_diags(targets: &[TargetReport], pni: &[AwsPniInterface], out: &mut Vec<Diag>) {
    let held = |ip: &str| pni.iter().any(|i| i.ips.iter().any(|a| a == ip));
    let mut stray: Vec<String> = Vec::new();
    for t in targets.iter().filter(|t| matches!(t.role, Role::Bootstrap | Role::Broker)) {
        let Some(dns) = &t.dns else { continue };
        for a in dns.lookup.addresses.iter().filter(|a| a.private && !held(&a.ip)) {
            let entry = format!("{} → {}", t.host, a.ip);
            if !stray.contains(&entry) {
                stray.push(entry);
            }
        }
    }
    if stray.is_empty() {
        return;
    }
    let known: Vec<String> = pni.iter().map(described).collect();
    stray.truncate(crate::limits::MAX_LIST);
    out.push(Diag::new(
        FindingCode::AwsPniAddressElsewhere,
        format!("{} — none of the VPC's PNI interfaces ({}) holds these addresses", stray.join(", "), known.join("; ")),
        "Find what the names resolve through (a private hosted zone or Resolver rule of yours, or an old record) and \
         point them at the PNI interfaces' addresses; Confluent's documentation does not say how PNI names resolve, so \
         compare with the DNS names the access point shows in Confluent Cloud."
            .to_string(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::FindingCode;

    fn interface(id: &str, attached: Option<&str>, grants: &[(&str, &str)]) -> AwsPniInterface {
        let permissions = grants
            .iter()
            .map(|(account, state)| AwsEniPermission {
                account: (*account).into(),
                permission: "INSTANCE-ATTACH".into(),
                state: (*state).into(),
            })
            .collect();
        AwsPniInterface {
            id: id.into(),
            ips: vec![format!("10.0.0.{}", id.len())],
            attached_account: attached.map(str::to_string),
            attachment_status: attached.map(|_| "attached".to_string()),
            permissions,
            security_groups: vec!["sg-pni".into()],
            ingress_rules: [9092, 443]
                .iter()
                .map(|p| AwsIngressRule::new("sg-pni", *p, *p, false, "sg-clients"))
                .collect(),
            ..Default::default()
        }
    }

    fn codes(interfaces: Vec<AwsPniInterface>) -> Vec<FindingCode> {
        let audit = AwsAudit { pni_interfaces: interfaces, ..Default::default() };
        let mut out = Vec::new();
        pni_diags(&[], 9092, &audit, &Probe::default(), &mut out);
        out.iter().map(|d| d.code).collect()
    }

    #[test]
    fn each_interface_is_judged_by_its_permission_and_its_siblings_attachments() {
        let attached = |id: &str| interface(id, Some("999"), &[("999", "granted")]);
        assert_eq!(codes(vec![attached("eni-a"), attached("eni-b")]), vec![]);
        // Granted, nothing attached, no sibling to compare with: not attached (the account unverifiable).
        assert_eq!(codes(vec![interface("eni-a", None, &[("999", "granted")])]), vec![FindingCode::AwsPniNotAttached]);
        // Granted to the account the siblings are attached to, yet unattached: not attached either.
        assert_eq!(
            codes(vec![attached("eni-a"), interface("eni-bb", None, &[("999", "pending")])]),
            vec![FindingCode::AwsPniNotAttached]
        );
        // Another account than the siblings': the wrong account.
        assert_eq!(
            codes(vec![attached("eni-a"), interface("eni-bb", None, &[("111", "granted")])]),
            vec![FindingCode::AwsPniPermissionWrongAccount]
        );
        // A revoked permission is none.
        assert_eq!(
            codes(vec![attached("eni-a"), interface("eni-bb", None, &[("999", "revoked")])]),
            vec![FindingCode::AwsPniPermissionMissing]
        );
        // The gateway's account is most of the attachments'.
        assert_eq!(most_common(["1", "2", "2"].into_iter()), Some("2"));
        assert_eq!(most_common(std::iter::empty()), None);
    }

    #[test]
    fn the_ports_confluent_needs_are_both_checked() {
        let mut only_tls = interface("eni-a", Some("999"), &[("999", "granted")]);
        only_tls.ingress_rules.retain(|r| r.admits(443));
        assert_eq!(codes(vec![only_tls]), vec![FindingCode::AwsPniSgMissingIngress]);
        let mut everything = interface("eni-a", Some("999"), &[("999", "granted")]);
        everything.ingress_rules = vec![AwsIngressRule::new("sg-pni", 0, 0, true, "10.0.0.0/16")];
        assert_eq!(codes(vec![everything]), vec![]);
    }
}

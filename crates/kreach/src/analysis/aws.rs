//! Findings from the AWS audit, joined with what the network showed.

use super::finding;
use crate::report::findings::FindingCode;
use crate::report::{
    AwsAudit, AwsIngressSource, DnsRecord, Finding, Need, NetworkSection, Role, Stage, StageStatus, TargetReport,
    Vantage,
};

/// The least-privilege policy statement for one denied action.
pub(super) fn policy_for(action: &str) -> String {
    format!(
        "{{\"Effect\": \"Allow\", \"Action\": \"{action}\", \"Resource\": \"*\"}} (docs/iam-policy-audit.json has the whole read-only policy)"
    )
}

pub(super) fn aws_findings(
    t: &TargetReport,
    targets: &[TargetReport],
    audit: &AwsAudit,
    vantage: Option<&Vantage>,
    network: Option<&NetworkSection>,
    out: &mut Vec<Finding>,
) {
    // Without a network section (an embedder's own report), a Confluent dedicated network's rules.
    let private_dns_rule = network.map_or(Need::Forbidden, |n| n.rules.endpoint_private_dns);
    let ttl_rule = network.map_or(Some(60), |n| n.rules.record_ttl);
    let mut push = |code: FindingCode, summary: String, fix: String, addresses: Vec<String>| {
        out.push(finding(code, t, Stage::Aws, summary, fix, addresses));
    };
    if let Some(why) = &audit.unavailable {
        push(
            FindingCode::AwsUnavailable,
            format!("the AWS audit did not run: {why}"),
            "To have kreach explain failures from the AWS side, run it with read-only AWS credentials and a region \
             (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION); see docs/iam-policy-audit.json."
                .into(),
            Vec::new(),
        );
        return;
    }
    for d in &audit.denied {
        push(
            FindingCode::AwsAccessDenied,
            format!("{} was denied: {}", d.action, d.message),
            format!("Grant the audit's principal {}", policy_for(&d.action)),
            Vec::new(),
        );
    }
    let Some(ep) = &audit.endpoint else { return };
    if !ep.state.eq_ignore_ascii_case("available") {
        let fix = match ep.state.to_ascii_lowercase().as_str() {
            "pendingacceptance" => format!(
                "The service provider must accept the connection from {}: for Confluent Cloud, add this AWS account to \
                 the network's PrivateLink access and wait for acceptance.",
                ep.id
            ),
            "rejected" => format!(
                "The provider rejected {}: register this AWS account with the provider, then recreate the endpoint.",
                ep.id
            ),
            _ => format!("Recreate {} (state {}), or ask the provider why it is not available.", ep.id, ep.state),
        };
        push(FindingCode::AwsEndpointNotAvailable, format!("VPC endpoint {} is {}", ep.id, ep.state), fix, Vec::new());
    }
    if !ep.private_dns_enabled && private_dns_rule == Need::Required {
        push(
            FindingCode::AwsPrivateDnsDisabled,
            format!(
                "VPC endpoint {} has private DNS off, and this layout ({}) has no other zone answering its names",
                ep.id,
                network.map_or("", |n| n.layout.as_words())
            ),
            format!("aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --private-dns-enabled", ep.id),
            Vec::new(),
        );
    }
    if ep.private_dns_enabled && private_dns_rule == Need::Forbidden {
        push(
            FindingCode::AwsPrivateDnsEnabled,
            format!("VPC endpoint {} has private DNS enabled", ep.id),
            format!(
                "Confluent Cloud expects the endpoint's private DNS off and your private hosted zone to answer: \
                 aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --no-private-dns-enabled",
                ep.id
            ),
            Vec::new(),
        );
    }
    let covered: Vec<&str> = ep.interfaces.iter().map(|i| i.az_id.as_str()).collect();
    let mut missing_zones: Vec<(String, Vec<i32>)> = Vec::new();
    for b in targets.iter().filter_map(|t| t.broker.as_ref()) {
        let Some(az) = &b.az_id else { continue };
        if covered.contains(&az.as_str()) {
            continue;
        }
        match missing_zones.iter_mut().find(|(z, _)| z == az) {
            Some((_, ids)) => ids.push(b.node_id),
            None => missing_zones.push((az.clone(), vec![b.node_id])),
        }
    }
    for (az, ids) in missing_zones {
        let az_name = audit.availability_zones.iter().find(|z| z.id == az).map(|z| z.name.clone());
        push(
            FindingCode::AwsAzNotCovered,
            format!(
                "brokers {:?} are in {az}{}, where endpoint {} has no network interface (it covers {})",
                ids,
                az_name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default(),
                ep.id,
                covered.join(", ")
            ),
            format!(
                "Add a subnet in {az}{} to the endpoint: aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --add-subnet-ids <subnet in {az}>",
                az_name.map(|n| format!(" (AZ name {n} in this account)")).unwrap_or_default(),
                ep.id
            ),
            Vec::new(),
        );
    }
    for ingress in audit.ingress.iter().filter(|i| !i.allowed) {
        let sg = ep.security_groups.first().cloned().unwrap_or_else(|| "<endpoint security group>".into());
        push(
            FindingCode::AwsSgMissingIngress,
            format!("no inbound rule of {} admits TCP {}", ep.security_groups.join(", "), ingress.port),
            format!(
                "aws ec2 authorize-security-group-ingress --group-id {sg} --protocol tcp --port {} --source-group <client security group> \
                 (or --cidr <client subnet or VPC CIDR>)",
                ingress.port
            ),
            Vec::new(),
        );
    }
    // Brokers advertising other ports than the ones checked above (Redpanda, MSK multi-VPC, port
    // mapping): checked against the rules as read.
    if !audit.ingress_rules.is_empty() {
        let checked: Vec<u16> = audit.ingress.iter().map(|i| i.port).collect();
        let mut advertised: Vec<u16> = targets
            .iter()
            .filter(|b| b.role == Role::Broker && b.port != t.port && !checked.contains(&b.port))
            .map(|b| b.port)
            .collect();
        advertised.sort_unstable();
        advertised.dedup();
        for port in advertised {
            if audit.ingress_rules.iter().any(|r| r.admits(port)) {
                continue;
            }
            let sg = ep.security_groups.first().cloned().unwrap_or_else(|| "<endpoint security group>".into());
            push(
                FindingCode::AwsSgMissingIngress,
                format!(
                    "brokers advertise TCP {port}, and no inbound rule of {} admits it",
                    ep.security_groups.join(", ")
                ),
                format!(
                    "aws ec2 authorize-security-group-ingress --group-id {sg} --protocol tcp --port {port} \
                     --source-group <client security group> (or --cidr <client subnet or VPC CIDR>)"
                ),
                Vec::new(),
            );
        }
    }
    // Rules exist, but do they admit this probe? Only asked when the port failed from here.
    let probe = vantage.map(Probe::of).unwrap_or_default();
    for ingress in audit.ingress.iter().filter(|i| i.allowed && !i.sources.is_empty()) {
        // The rule's port, or the role it serves (a lab or a proxy may listen on other ports).
        let tcp_failed = targets.iter().any(|t| {
            let serves = t.port == ingress.port
                || match t.role {
                    Role::Bootstrap | Role::Broker => ingress.port == crate::DEFAULT_KAFKA_PORT,
                    Role::Https => ingress.port == crate::DEFAULT_HTTPS_PORT,
                    Role::Endpoint => false,
                };
            serves && t.stage(Stage::Tcp).is_some_and(|s| s.status == StageStatus::Fail)
        });
        if !tcp_failed || probe.admitted_by(&ingress.sources) != Some(false) {
            continue;
        }
        let sources: Vec<String> =
            ingress.sources.iter().map(|s| format!("{} from {}", s.group_id, s.source)).collect();
        let sg = ingress.sources[0].group_id.clone();
        let source_flag = match (probe.groups.first(), probe.ip) {
            (Some(g), _) => format!("--source-group {g}"),
            (None, Some(ip)) => format!("--cidr {ip}/32"),
            (None, None) => "--source-group <client security group>".into(),
        };
        push(
            FindingCode::AwsSgMissingIngress,
            format!(
                "TCP {} fails from here, and the endpoint's inbound rules for it ({}) admit neither this probe's \
                 address {} nor its security groups {}",
                ingress.port,
                sources.join("; "),
                probe.ip.map(|ip| ip.to_string()).unwrap_or_else(|| "(unknown)".into()),
                if probe.groups.is_empty() { "(unknown)".to_string() } else { probe.groups.join(", ") },
            ),
            format!(
                "aws ec2 authorize-security-group-ingress --group-id {sg} --protocol tcp --port {} {source_flag} \
                 (or admit the clients' subnet CIDR)",
                ingress.port
            ),
            Vec::new(),
        );
    }
    if let Some(vpc) = &audit.vpc {
        for (on, attribute) in [(vpc.dns_support, "enableDnsSupport"), (vpc.dns_hostnames, "enableDnsHostnames")] {
            if !on {
                let flag =
                    if attribute == "enableDnsSupport" { "--enable-dns-support" } else { "--enable-dns-hostnames" };
                push(
                    FindingCode::AwsVpcDnsDisabled,
                    format!("{} has {attribute} off: private hosted zones do not answer in it", vpc.id),
                    format!("aws ec2 modify-vpc-attribute --vpc-id {} {flag} '{{\"Value\":true}}'", vpc.id),
                    Vec::new(),
                );
            }
        }
    }
    let Some(domain) = audit.expected_records.first().map(|r| r.name.trim_start_matches("*.").to_string()) else {
        return;
    };
    let record_fix = |r: &DnsRecord| format!("{} {} {}", r.name, r.record_type, r.value);
    match &audit.hosted_zone {
        None if audit.denied.iter().all(|d| !d.action.starts_with("route53:")) => push(
            FindingCode::AwsPhzMissing,
            format!("no private hosted zone is named {domain}"),
            format!(
                "Create it, associated with {}: aws route53 create-hosted-zone --name {domain} --vpc VPCRegion={},VPCId={} \
                 --caller-reference kreach-$(date +%s) --hosted-zone-config PrivateZone=true; then add the records \
                 from `kreach records`.",
                ep.vpc_id,
                audit.region.as_deref().unwrap_or("<region>"),
                ep.vpc_id
            ),
            Vec::new(),
        ),
        None => {}
        Some(zone) => {
            if !zone.associated {
                push(
                    FindingCode::AwsPhzNotAssociated,
                    format!(
                        "private hosted zone {} ({}) is associated with {} but not with {}",
                        zone.name,
                        zone.id,
                        if zone.vpcs.is_empty() { "no VPC".to_string() } else { zone.vpcs.join(", ") },
                        ep.vpc_id
                    ),
                    format!(
                        "aws route53 associate-vpc-with-hosted-zone --hosted-zone-id {} --vpc VPCRegion={},VPCId={}",
                        zone.id,
                        audit.region.as_deref().unwrap_or("<region>"),
                        ep.vpc_id
                    ),
                    Vec::new(),
                );
            }
            // A probe in another VPC (peered, or via a transit gateway) needs the zone associated there too.
            if let Some(own) = probe.vpc.as_deref().filter(|v| *v != ep.vpc_id && !zone.vpcs.iter().any(|z| z == v)) {
                push(
                    FindingCode::AwsPhzNotAssociated,
                    format!(
                        "private hosted zone {} ({}) is associated with {} but not with {own}, the VPC this probe runs in \
                         (the endpoint is in {})",
                        zone.name,
                        zone.id,
                        if zone.vpcs.is_empty() { "no VPC".to_string() } else { zone.vpcs.join(", ") },
                        ep.vpc_id
                    ),
                    format!(
                        "aws route53 associate-vpc-with-hosted-zone --hosted-zone-id {} --vpc VPCRegion={},VPCId={own} \
                         (and route {own} to the endpoint's VPC: peering or a transit gateway)",
                        zone.id,
                        audit.region.as_deref().unwrap_or("<region>"),
                    ),
                    Vec::new(),
                );
            }
            let addresses: Vec<&str> = ep.interfaces.iter().map(|i| i.ip.as_str()).collect();
            for expected in &audit.expected_records {
                let present: Vec<&DnsRecord> = zone.records.iter().filter(|r| r.name == expected.name).collect();
                if present.is_empty() {
                    push(
                        FindingCode::AwsPhzRecordMissing,
                        format!("private hosted zone {} has no record {}", zone.name, expected.name),
                        format!(
                            "Create {} (TTL 60); `kreach records` prints them all as a Route 53 change batch.",
                            record_fix(expected)
                        ),
                        Vec::new(),
                    );
                    continue;
                }
                let right = present.iter().any(|r| {
                    r.value == expected.value || (r.record_type != "CNAME" && addresses.contains(&r.value.as_str()))
                });
                if let (Some(limit), Some(long)) =
                    (ttl_rule, present.iter().filter(|r| r.ttl.is_some_and(|ttl| ttl > 60)).find_map(|r| r.ttl))
                {
                    push(
                        FindingCode::AwsPhzRecordTtl,
                        format!(
                            "{} in private hosted zone {} has TTL {long} s (the provider's guidance: {limit} s)",
                            expected.name, zone.name
                        ),
                        format!(
                            "UPSERT {} with TTL {limit}: a change of endpoint then reaches clients within a minute \
                             (`kreach records --output change-batch` prints it).",
                            record_fix(expected)
                        ),
                        Vec::new(),
                    );
                }
                if !right {
                    let values: Vec<&str> = present.iter().map(|r| r.value.as_str()).collect();
                    push(
                        FindingCode::AwsPhzRecordWrongTarget,
                        format!("{} points at {}, not at endpoint {}", expected.name, values.join(", "), ep.id),
                        format!("Change it to {}.", record_fix(expected)),
                        Vec::new(),
                    );
                }
            }
        }
    }
}

/// What the vantage point knows about the probe's own network identity.
#[derive(Default)]
struct Probe {
    vpc: Option<String>,
    ip: Option<std::net::IpAddr>,
    groups: Vec<String>,
}

impl Probe {
    fn of(v: &Vantage) -> Probe {
        let fact = |k: &str| v.facts.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        Probe {
            vpc: fact("vpc_id").map(str::to_string),
            ip: fact("private_ip").and_then(|ip| ip.parse().ok()),
            groups: fact("security_group_ids")
                .map(|g| g.split(',').map(str::trim).filter(|g| !g.is_empty()).map(str::to_string).collect())
                .unwrap_or_default(),
        }
    }

    /// Whether any of these rules admits the probe: `None` when that cannot be told (a prefix
    /// list, or a CIDR rule while the probe's address is unknown).
    fn admitted_by(&self, sources: &[AwsIngressSource]) -> Option<bool> {
        if self.ip.is_none() && self.groups.is_empty() {
            return None;
        }
        let mut unknown = false;
        for s in sources {
            let source = s.source.as_str();
            if source.starts_with("sg-") {
                if self.groups.iter().any(|g| g == source) {
                    return Some(true);
                }
            } else if let Ok(net) = source.parse::<ipnet::IpNet>() {
                match self.ip {
                    Some(ip) if net.contains(&ip) => return Some(true),
                    Some(_) => {}
                    None => unknown = true,
                }
            } else {
                unknown = true;
            }
        }
        if unknown { None } else { Some(false) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::VantageKind;
    use crate::report::{AwsEndpoint, Role, StageResult};

    fn bootstrap() -> TargetReport {
        TargetReport {
            target: "b.example:9092".into(),
            host: "b.example".into(),
            port: 9092,
            role: Role::Bootstrap,
            stages: vec![StageResult {
                stage: Stage::Dns,
                status: StageStatus::Pass,
                elapsed_ms: None,
                summary: String::new(),
            }],
            dns: None,
            addresses: Vec::new(),
            broker: None,
            endpoint: None,
        }
    }

    /// moto models no endpoint acceptance (its endpoints are always `available`), so the states a
    /// provider sets are fed to the analysis directly here.
    #[test]
    fn endpoint_states_other_than_available_are_errors_with_the_right_fix() {
        for (state, needle) in [("pendingAcceptance", "accept"), ("rejected", "register"), ("failed", "Recreate")] {
            let audit = AwsAudit {
                endpoint: Some(AwsEndpoint { id: "vpce-1".into(), state: state.into(), ..Default::default() }),
                ..Default::default()
            };
            let mut out = Vec::new();
            aws_findings(&bootstrap(), &[], &audit, None, None, &mut out);
            let codes: Vec<&str> = out.iter().map(|f| f.code.as_str()).collect();
            assert_eq!(codes, ["aws-endpoint-not-available"], "{state}");
            assert!(out[0].fix.contains(needle), "{state}: {}", out[0].fix);
        }
        let audit = AwsAudit {
            endpoint: Some(AwsEndpoint { id: "vpce-1".into(), state: "Available".into(), ..Default::default() }),
            ..Default::default()
        };
        let mut out = Vec::new();
        aws_findings(&bootstrap(), &[], &audit, None, None, &mut out);
        assert!(out.is_empty(), "the state is compared as text, whatever its case: {out:?}");
    }

    fn ec2(facts: &[(&str, &str)]) -> Vantage {
        Vantage {
            kind: VantageKind::Ec2,
            label: "usw2-az1 (i-1)".into(),
            facts: facts.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            note: None,
            vpc_attached: Some(true),
        }
    }

    fn sources(list: &[&str]) -> Vec<AwsIngressSource> {
        list.iter().map(|s| AwsIngressSource { group_id: "sg-endpoint".into(), source: s.to_string() }).collect()
    }

    #[test]
    fn a_probe_is_matched_against_rules_by_address_and_security_group_or_left_undecided() {
        let probe = Probe::of(&ec2(&[("private_ip", "10.20.1.5"), ("security_group_ids", "sg-a,sg-b")]));
        assert_eq!(probe.admitted_by(&sources(&["10.20.0.0/16"])), Some(true));
        assert_eq!(probe.admitted_by(&sources(&["10.9.0.0/16", "sg-b"])), Some(true));
        assert_eq!(probe.admitted_by(&sources(&["10.9.0.0/16", "sg-c"])), Some(false));
        assert_eq!(probe.admitted_by(&sources(&["sg-c", "pl-123"])), None, "a prefix list may hold anything");
        let groups_only = Probe::of(&ec2(&[("security_group_ids", "sg-a")]));
        assert_eq!(groups_only.admitted_by(&sources(&["sg-c"])), Some(false));
        assert_eq!(groups_only.admitted_by(&sources(&["sg-c", "10.0.0.0/8"])), None, "address unknown");
        assert_eq!(Probe::of(&ec2(&[])).admitted_by(&sources(&["sg-c"])), None, "nothing known of the probe");
    }

    #[test]
    fn the_security_group_is_blamed_for_this_probe_only_when_its_port_failed_from_here() {
        let audit = AwsAudit {
            endpoint: Some(AwsEndpoint { id: "vpce-1".into(), state: "available".into(), ..Default::default() }),
            ingress: vec![crate::report::AwsIngress {
                port: 9092,
                allowed: true,
                rules: vec!["sg-endpoint from sg-clients".into()],
                sources: sources(&["sg-clients"]),
            }],
            ..Default::default()
        };
        let probe = ec2(&[("private_ip", "10.20.1.5"), ("security_group_ids", "sg-probe")]);
        let mut target = bootstrap();
        let mut out = Vec::new();
        aws_findings(&target, std::slice::from_ref(&target), &audit, Some(&probe), None, &mut out);
        assert!(out.is_empty(), "TCP did not fail: {out:?}");
        target.stages.push(StageResult {
            stage: Stage::Tcp,
            status: StageStatus::Fail,
            elapsed_ms: None,
            summary: "0/1 connected".into(),
        });
        aws_findings(&target, std::slice::from_ref(&target), &audit, Some(&probe), None, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].code, FindingCode::AwsSgMissingIngress);
        assert!(out[0].summary.contains("10.20.1.5") && out[0].summary.contains("sg-probe"), "{}", out[0].summary);
        assert!(out[0].fix.contains("--group-id sg-endpoint --protocol tcp --port 9092 --source-group sg-probe"));
        out.clear();
        let admitted = ec2(&[("security_group_ids", "sg-probe,sg-clients")]);
        aws_findings(&target, std::slice::from_ref(&target), &audit, Some(&admitted), None, &mut out);
        assert!(out.is_empty(), "admitted by its second group: {out:?}");
    }

    #[test]
    fn ports_the_brokers_advertise_are_checked_against_the_rules_as_read() {
        let audit = AwsAudit {
            endpoint: Some(AwsEndpoint {
                id: "vpce-1".into(),
                state: "available".into(),
                security_groups: vec!["sg-endpoint".into()],
                ..Default::default()
            }),
            ingress_rules: vec![crate::report::AwsIngressRule::new("sg-endpoint", 30292, 30292, false, "sg-clients")],
            ..Default::default()
        };
        let mut seed = bootstrap();
        seed.port = 30292;
        let broker = |port: u16| {
            let mut b = bootstrap();
            b.role = Role::Broker;
            b.port = port;
            b
        };
        let targets = vec![seed.clone(), broker(32092), broker(32092), broker(30292)];
        let mut out = Vec::new();
        aws_findings(&seed, &targets, &audit, None, None, &mut out);
        let codes: Vec<&str> = out.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["aws-sg-missing-ingress"], "{out:#?}");
        assert!(out[0].summary.contains("TCP 32092") && out[0].fix.contains("--port 32092"), "{}", out[0].fix);
        out.clear();
        let mut open = audit.clone();
        open.ingress_rules.push(crate::report::AwsIngressRule::new("sg-endpoint", 32000, 32999, false, "10.0.0.0/8"));
        aws_findings(&seed, &targets, &open, None, None, &mut out);
        assert!(out.is_empty(), "a port range admits them: {out:#?}");
    }

    #[test]
    fn endpoint_private_dns_is_judged_by_the_layouts_rule() {
        use crate::report::{Layout, NetworkSection, Resolution};
        let network = |layout: Layout| NetworkSection {
            layout,
            resolution: Resolution::Unknown,
            domain: None,
            evidence: Vec::new(),
            rules: crate::analysis::layout::rules(layout, Resolution::Unknown, None),
            ports: Vec::new(),
        };
        let audit = |private_dns: bool| AwsAudit {
            endpoint: Some(AwsEndpoint {
                id: "vpce-1".into(),
                state: "available".into(),
                private_dns_enabled: private_dns,
                ..Default::default()
            }),
            ..Default::default()
        };
        let codes = |layout: Layout, private_dns: bool| {
            let mut out = Vec::new();
            aws_findings(&bootstrap(), &[], &audit(private_dns), None, Some(&network(layout)), &mut out);
            out.iter().map(|f| f.code.as_str()).collect::<Vec<_>>()
        };
        assert_eq!(codes(Layout::ConfluentDedicated, true), ["aws-private-dns-enabled"]);
        assert!(codes(Layout::ConfluentDedicated, false).is_empty());
        assert_eq!(codes(Layout::Redpanda, false), ["aws-private-dns-disabled"]);
        assert!(codes(Layout::Redpanda, true).is_empty());
        assert!(codes(Layout::ConfluentPrivateLinkAttachment, true).is_empty(), "unknown: not flagged");
        assert!(codes(Layout::Generic, true).is_empty() && codes(Layout::Generic, false).is_empty());
    }
}

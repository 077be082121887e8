//! The one place that turns measured outcomes into findings.
//!
//! Root causes are inferred across stages: a public DNS answer explains the TCP/TLS failures that
//! follow it, one dead address of three is not the same as all three dead, and so on.

use std::collections::HashSet;

use crate::findings::{FindingCode, Severity};
use crate::report::{
    AddressReport, AnswerClass, AwsAudit, AwsIngressSource, DnsDetail, DnsLookup, DnsOutcome, DnsRecord, Finding,
    HttpsOutcome, KafkaAttempt, KafkaOutcome, ParityOutcome, Report, Role, SecretLookup, SecretOutcome, Stage,
    StageStatus, Status, TargetReport, TcpOutcome, TlsOutcome, TlsVerification, Vantage, VantageKind, ZoneSummary,
};
use crate::runner::{EXPIRY_WARNING_DAYS, kafka_word, tcp_word, tls_word};

/// Per-zone verdicts from the brokers whose names carry an AZ ID.
pub fn zones(targets: &[TargetReport]) -> Vec<ZoneSummary> {
    let mut zones: Vec<ZoneSummary> = Vec::new();
    for t in targets {
        let Some(az) = t.broker.as_ref().and_then(|b| b.az_id.clone()) else { continue };
        let node = t.broker.as_ref().map_or(-1, |b| b.node_id);
        let zone = match zones.iter_mut().position(|z| z.az_id == az) {
            Some(i) => &mut zones[i],
            None => {
                zones.push(ZoneSummary {
                    az_id: az,
                    brokers: Vec::new(),
                    passed: 0,
                    status: StageStatus::Pass,
                    addresses: Vec::new(),
                });
                let last = zones.len() - 1;
                &mut zones[last]
            }
        };
        zone.brokers.push(node);
        if broker_passed(t) {
            zone.passed += 1;
        } else {
            zone.status = StageStatus::Fail;
        }
        for a in &t.addresses {
            if !zone.addresses.contains(&a.ip) {
                zone.addresses.push(a.ip.clone());
            }
        }
    }
    zones.sort_by(|a, b| a.az_id.cmp(&b.az_id));
    zones
}

/// A zone's path is down when every broker of it fails on the way to the endpoint (TCP or
/// TLS): a broker that is reached but does not answer Kafka, or a name that does not resolve, is
/// that broker's problem, not the zone's.
fn zone_path_down(z: &ZoneSummary, targets: &[TargetReport]) -> bool {
    let brokers: Vec<&TargetReport> =
        targets.iter().filter(|t| t.broker.as_ref().and_then(|b| b.az_id.as_ref()) == Some(&z.az_id)).collect();
    !brokers.is_empty()
        && brokers.iter().all(|t| {
            !broker_passed(t)
                && t.stages
                    .iter()
                    .find(|s| s.status == StageStatus::Fail)
                    .is_some_and(|s| matches!(s.stage, Stage::Tcp | Stage::Tls))
        })
}

fn broker_passed(t: &TargetReport) -> bool {
    t.stages.iter().all(|s| matches!(s.status, StageStatus::Pass | StageStatus::Warn | StageStatus::NotApplicable))
}

/// Draws every finding from the targets' results.
pub fn findings(report: &Report) -> Vec<Finding> {
    let (targets, zones, settings) = (&report.targets, &report.zones, &report.settings);
    let (parity, aws, vantage) = (report.parity.as_ref(), report.aws.as_ref(), report.vantage.as_ref());
    let mut out = Vec::new();
    // Each zone's endpoint address: as the user gave it, else as the AWS audit read it.
    let mut zone_addresses = settings.zone_addresses.clone();
    for i in aws.and_then(|a| a.endpoint.as_ref()).map(|e| e.interfaces.as_slice()).unwrap_or_default() {
        if !i.az_id.is_empty() && !i.ip.is_empty() {
            zone_addresses.entry(i.az_id.clone()).or_insert_with(|| i.ip.clone());
        }
    }
    let mut hosts_done = HashSet::new();
    let known_records: &[DnsRecord] = aws.map(|a| a.expected_records.as_slice()).unwrap_or_default();
    let healthy_zone = zones.iter().any(|z| z.status == StageStatus::Pass);
    let down_zones: Vec<&str> =
        zones.iter().filter(|z| healthy_zone && zone_path_down(z, targets)).map(|z| z.az_id.as_str()).collect();
    for z in zones.iter().filter(|z| down_zones.contains(&z.az_id.as_str())) {
        let Some(t) = targets.iter().find(|t| t.broker.as_ref().and_then(|b| b.az_id.as_ref()) == Some(&z.az_id))
        else {
            continue;
        };
        let why = first_failure(t);
        out.push(finding(
            FindingCode::ZoneUnreachable,
            t,
            why.0,
            format!(
                "every broker in {} fails ({} of {}; {}) while other zones pass; its address(es): {}",
                z.az_id,
                z.brokers.len(),
                z.brokers.len(),
                why.1,
                z.addresses.join(", ")
            ),
            format!(
                "The endpoint's path in {} is broken: check that the VPC endpoint has a subnet (and a healthy \
                 network interface) in {}, that subnet's network ACL and route table, and the endpoint security \
                 group's rules for that interface. Clients will time out on every partition led there.",
                z.az_id, z.az_id
            ),
            z.addresses.clone(),
        ));
    }
    for t in targets {
        let Some(dns) = &t.dns else { continue };
        if t.role != Role::Broker && hosts_done.insert(t.host.clone()) {
            dns_findings(t, dns, targets, known_records, &mut out);
        }
        // A public answer is the root cause of whatever fails after it: don't bury it in consequences.
        if dns.lookup.outcome == DnsOutcome::Answer && dns.answer_class == Some(AnswerClass::Public) {
            continue;
        }
        if t.role == Role::Broker {
            broker_findings(t, &down_zones, &zone_addresses, known_records, &mut out);
            continue;
        }
        tcp_findings(t, &mut out);
        tls_findings(t, &mut out);
        https_findings(t, &mut out);
        kafka_findings(t, &mut out);
    }
    if let Some(p) = parity.filter(|p| p.outcome == ParityOutcome::Failed) {
        // Only news when kreach's own path works: otherwise the findings above say why already.
        let own_path = targets
            .iter()
            .filter(|t| t.role == Role::Bootstrap)
            .find(|t| t.stage(Stage::Kafka).is_some_and(|s| s.status == StageStatus::Pass));
        if let Some(t) = own_path {
            let differences = if p.differences.is_empty() {
                "no configuration difference found".to_string()
            } else {
                format!("differences: {}", p.differences.join("; "))
            };
            out.push(finding(
                FindingCode::ClientParityFailed,
                t,
                Stage::Client,
                format!(
                    "kreach's own path works, but librdkafka {} with the {} fails: {}; {differences}",
                    p.librdkafka_version,
                    p.config_source,
                    p.error.as_deref().unwrap_or("")
                ),
                if p.differences.is_empty() {
                    "Compare the client's properties with what kreach used (settings in this report) and read \
                     librdkafka's log lines in `parity.log`."
                        .into()
                } else {
                    format!("Change the client configuration: {}.", p.differences.join("; "))
                },
                Vec::new(),
            ));
        }
    }
    if let (Some(v), Some(t)) = (vantage, targets.iter().find(|t| t.role == Role::Bootstrap)) {
        vantage_findings(t, v, &mut out);
    }
    if let (Some(audit), Some(t)) = (aws, targets.iter().find(|t| t.role == Role::Bootstrap)) {
        aws_findings(t, targets, audit, vantage, &mut out);
    }
    if let (Some(secret), Some(t)) = (&report.secret, targets.iter().find(|t| t.role == Role::Bootstrap)) {
        secret_findings(t, secret, vantage, &mut out);
    }
    if settings.tls_verification == TlsVerification::Disabled {
        if let Some(t) = targets.iter().find(|t| t.addresses.iter().any(|a| a.tls.is_some())) {
            out.push(finding(
                FindingCode::TlsVerificationDisabled,
                t,
                Stage::Tls,
                "--insecure was given: certificate chains and names were not verified".into(),
                "Run again without --insecure (add --ca-file for a private CA) before trusting the TLS column.".into(),
                Vec::new(),
            ));
        }
    }
    cap_findings(report, &mut out);
    let mut out = group_repeats(out);
    out.sort_by_key(|f| f.severity);
    out
}

/// `fail` if any error, `warn` if any warning, else `pass`.
pub fn status(findings: &[Finding]) -> Status {
    if findings.iter().any(|f| f.severity == Severity::Error) {
        Status::Fail
    } else if findings.iter().any(|f| f.severity == Severity::Warning) {
        Status::Warn
    } else {
        Status::Pass
    }
}

fn finding(
    code: FindingCode,
    t: &TargetReport,
    stage: Stage,
    summary: String,
    fix: String,
    addresses: Vec<String>,
) -> Finding {
    Finding { code, severity: code.severity(), target: t.target.clone(), stage, summary, fix, addresses }
}

/// The zone a wildcard for `name` belongs in: the zone that said NXDOMAIN, else the name's parent.
fn zone_for(name: &str, lookup: &DnsLookup) -> String {
    lookup.negative_zone.clone().unwrap_or_else(|| name.split_once('.').map_or(name, |(_, p)| p).to_string())
}

fn describe_answer(lookup: &DnsLookup) -> String {
    let mut parts: Vec<String> = lookup.cname_chain.iter().map(|c| c.target.clone()).collect();
    let ips: Vec<&str> = lookup.addresses.iter().map(|a| a.ip.as_str()).collect();
    parts.push(ips.join(", "));
    parts.join(" -> ")
}

fn dns_findings(
    t: &TargetReport,
    dns: &DnsDetail,
    all: &[TargetReport],
    records: &[DnsRecord],
    out: &mut Vec<Finding>,
) {
    let l = &dns.lookup;
    let name = &dns.name;
    let via = &l.resolver;
    let public_answer = dns.public.as_ref().filter(|p| p.outcome == DnsOutcome::Answer);
    let zone = zone_for(name, l);
    let wildcard_fix = if records.is_empty() {
        format!(
            "In the Route 53 private hosted zone `{zone}` (associated with this VPC), create `*.{zone}` CNAME \
             <the VPC endpoint's regional DNS name> (and `*.<az-id>.{zone}` CNAME <each zonal endpoint DNS name>)."
        )
    } else {
        // The audit read the endpoint: name the exact records.
        let list: Vec<String> = records.iter().map(|r| format!("`{} {} {}`", r.name, r.record_type, r.value)).collect();
        format!(
            "In the Route 53 private hosted zone `{zone}` (associated with this VPC), create {} (`kreach records` prints them as a change batch).",
            list.join(", ")
        )
    };
    let err = l.error.as_deref().unwrap_or("");
    if l.cname_loop {
        out.push(cname_loop_finding(t, l));
        return;
    }
    match l.outcome {
        DnsOutcome::AddressLiteral => {}
        DnsOutcome::Unreachable => out.push(finding(
            FindingCode::DnsResolverUnreachable,
            t,
            Stage::Dns,
            format!("resolver {via} did not answer for {name}: {err}"),
            "Check the resolver address: in a VPC it is the Route 53 Resolver at the VPC CIDR base + 2 \
             (or 169.254.169.253); UDP and TCP 53 to it must be allowed, and the VPC's enableDnsSupport must be on."
                .into(),
            Vec::new(),
        )),
        DnsOutcome::Error => out.push(finding(
            FindingCode::DnsResolverError,
            t,
            Stage::Dns,
            format!("resolver {via} answered {name} with an error: {err}"),
            "The resolver could not resolve the name (SERVFAIL/REFUSED): check its forwarding rules for the \
             cluster's domain (Route 53 Resolver rules, on-premises forwarders) and that it may recurse for this client."
                .into(),
            Vec::new(),
        )),
        DnsOutcome::Nxdomain => match public_answer {
            Some(public) => out.push(finding(
                FindingCode::DnsPrivateRecordMissing,
                t,
                Stage::Dns,
                format!(
                    "{name} is NXDOMAIN via {via}{} but resolves publicly via {} to {}",
                    l.negative_zone.as_ref().map(|z| format!(" (zone {z} answered)")).unwrap_or_default(),
                    public.resolver,
                    describe_answer(public)
                ),
                wildcard_fix,
                Vec::new(),
            )),
            None => out.push(finding(
                FindingCode::DnsNxdomain,
                t,
                Stage::Dns,
                format!(
                    "{name} does not exist via {via}{}",
                    l.negative_zone.as_ref().map(|z| format!(" (zone {z} answered NXDOMAIN)")).unwrap_or_default()
                ),
                format!(
                    "Check the bootstrap name against the cluster settings (a typo gives this too). If it is right, \
                     the private zone lacks its record: {wildcard_fix} Add --public-resolver to compare with public DNS."
                ),
                Vec::new(),
            )),
        },
        DnsOutcome::NoData => out.push(finding(
            FindingCode::DnsNoAddress,
            t,
            Stage::Dns,
            format!("{name} exists via {via} but has no A/AAAA record"),
            format!("Point the name at the endpoint: {wildcard_fix}"),
            Vec::new(),
        )),
        DnsOutcome::Answer => match dns.answer_class {
            Some(AnswerClass::Public) => {
                let same = public_answer.is_some_and(|p| same_addresses(p, l));
                let consequences = consequences(all, &t.host);
                out.push(finding(
                    FindingCode::DnsPublicAnswer,
                    t,
                    Stage::Dns,
                    format!(
                        "{name} resolved via {via} to public address(es) {}{}{}: the private hosted zone is not in effect",
                        describe_answer(l),
                        if same { " (the same answer as public DNS)" } else { "" },
                        consequences
                    ),
                    format!(
                        "Associate the private hosted zone `{zone}` with this client's VPC and keep the VPC's \
                         enableDnsSupport and enableDnsHostnames on; a client using its own resolver must forward \
                         `{zone}` to the VPC resolver (CIDR base + 2). A Lambda function must be attached to the VPC."
                    ),
                    l.addresses.iter().map(|a| a.ip.clone()).collect(),
                ));
            }
            Some(AnswerClass::Mixed) => out.push(finding(
                FindingCode::DnsMixedAnswer,
                t,
                Stage::Dns,
                format!("{name} resolved via {via} to private and public addresses: {}", describe_answer(l)),
                format!("Remove the public records from the answer: only the private hosted zone `{zone}` should answer, with the endpoint's addresses."),
                l.addresses.iter().filter(|a| !a.private).map(|a| a.ip.clone()).collect(),
            )),
            Some(AnswerClass::Private) => out.push(finding(
                FindingCode::DnsPrivateZoneInEffect,
                t,
                Stage::Dns,
                format!(
                    "{name} resolved via {via} to private address(es) {}{}",
                    describe_answer(l),
                    match &dns.public {
                        Some(p) if p.outcome == DnsOutcome::Answer => format!("; public DNS says {}", describe_answer(p)),
                        Some(p) => format!("; public DNS: {:?}", p.outcome).to_lowercase(),
                        None => String::new(),
                    }
                ),
                "Nothing to fix.".into(),
                Vec::new(),
            )),
            None => {}
        },
    }
    if let Some(p) = &dns.public {
        if matches!(p.outcome, DnsOutcome::Unreachable | DnsOutcome::Error) {
            out.push(finding(
                FindingCode::DnsPublicResolverUnreachable,
                t,
                Stage::Dns,
                format!(
                    "public resolver {} gave no answer for {name}: {}",
                    p.resolver,
                    p.error.as_deref().unwrap_or("")
                ),
                "Name a public resolver this machine can reach, or drop --public-resolver (from inside a VPC \
                 without internet access, none is reachable)."
                    .into(),
                Vec::new(),
            ));
        }
    }
}

fn same_addresses(a: &DnsLookup, b: &DnsLookup) -> bool {
    let mut x: Vec<&str> = a.addresses.iter().map(|a| a.ip.as_str()).collect();
    let mut y: Vec<&str> = b.addresses.iter().map(|a| a.ip.as_str()).collect();
    x.sort_unstable();
    y.sort_unstable();
    x == y
}

/// What happened downstream of a (bad) DNS answer, as evidence for the DNS finding.
fn consequences(all: &[TargetReport], host: &str) -> String {
    let mut parts = Vec::new();
    for t in all.iter().filter(|t| t.host == host) {
        let failed: Vec<&str> = t
            .addresses
            .iter()
            .filter_map(|a| a.tcp.as_ref())
            .filter(|tcp| tcp.outcome != TcpOutcome::Connected)
            .map(|tcp| tcp_word(tcp.outcome))
            .collect();
        if !failed.is_empty() {
            parts.push(format!("port {}: {}", t.port, failed.join(", ")));
        }
    }
    if parts.is_empty() { String::new() } else { format!(" (then TCP {})", parts.join("; ")) }
}

fn port_label(t: &TargetReport) -> String {
    match t.role {
        Role::Https => format!("TCP {} (HTTPS/REST)", t.port),
        Role::Bootstrap | Role::Broker => format!("TCP {} (Kafka)", t.port),
    }
}

fn tcp_findings(t: &TargetReport, out: &mut Vec<Finding>) {
    let attempts: Vec<(&AddressReport, TcpOutcome)> =
        t.addresses.iter().filter_map(|a| a.tcp.as_ref().map(|tcp| (a, tcp.outcome))).collect();
    let failed: Vec<&(&AddressReport, TcpOutcome)> =
        attempts.iter().filter(|(_, o)| *o != TcpOutcome::Connected).collect();
    if failed.is_empty() {
        return;
    }
    let port = port_label(t);
    let sg_rule = format!(
        "Add an inbound rule to the VPC endpoint's security group: {port} from the client's security group \
         or CIDR; check the client's outbound rules and the subnets' network ACLs too."
    );
    if failed.len() < attempts.len() {
        let detail: Vec<String> = failed.iter().map(|(a, o)| format!("{} {}", a.ip, tcp_word(*o))).collect();
        out.push(finding(
            FindingCode::TcpSomeAddressesFailed,
            t,
            Stage::Tcp,
            format!(
                "{}: {} of {} addresses failed ({}); the others connected",
                t.target,
                failed.len(),
                attempts.len(),
                detail.join(", ")
            ),
            format!(
                "Each address is one endpoint network interface (one AZ). For the failing ones: check the subnet's \
                 network ACL and route table, and that the endpoint still has a healthy interface in that AZ. {sg_rule}"
            ),
            failed.iter().map(|(a, _)| a.ip.clone()).collect(),
        ));
        return;
    }
    for (outcome, code, fix) in [
        (TcpOutcome::Timeout, FindingCode::TcpTimeout, format!("Packets to {port} are dropped silently. {sg_rule}")),
        (
            TcpOutcome::Refused,
            FindingCode::TcpRefused,
            format!(
                "Something answered {port} with a reset: nothing listens there. A PrivateLink endpoint forwards \
                 rather than refuses, so check that the name resolves to the endpoint's addresses, that the \
                 provider's service listens on {}, and that no firewall rejects.",
                t.port
            ),
        ),
        (
            TcpOutcome::Unreachable,
            FindingCode::TcpUnreachable,
            "No route to these addresses: check the route tables and that the addresses belong to this VPC's endpoint."
                .into(),
        ),
        (
            TcpOutcome::Error,
            FindingCode::TcpUnreachable,
            "The connect failed with a local error: check host firewall rules (iptables/nftables) and routes.".into(),
        ),
    ] {
        let these: Vec<&str> = failed.iter().filter(|(_, o)| *o == outcome).map(|(a, _)| a.ip.as_str()).collect();
        if these.is_empty() {
            continue;
        }
        let summary = format!(
            "{}: {} on {} ({})",
            t.target,
            tcp_word(outcome),
            if these.len() == attempts.len() {
                "every address".to_string()
            } else {
                format!("{} addresses", these.len())
            },
            these.join(", ")
        );
        out.push(finding(code, t, Stage::Tcp, summary, fix, these.iter().map(|s| s.to_string()).collect()));
    }
}

fn tls_findings(t: &TargetReport, out: &mut Vec<Finding>) {
    // A handshake closed by a plaintext Kafka listener is a protocol mismatch, reported by the Kafka stage.
    let attempts: Vec<_> = t
        .addresses
        .iter()
        .filter(|a| a.kafka.as_ref().is_none_or(|k| k.outcome != KafkaOutcome::PlaintextListener))
        .filter_map(|a| a.tls.as_ref().map(|tls| (a, tls)))
        .collect();
    if attempts.is_empty() {
        return;
    }
    let groups = [
        (vec![TlsOutcome::NameMismatch], FindingCode::TlsNameMismatch),
        (vec![TlsOutcome::UnknownIssuer], FindingCode::TlsUnknownIssuer),
        (vec![TlsOutcome::Expired, TlsOutcome::NotYetValid], FindingCode::TlsExpired),
        (vec![TlsOutcome::NotTls], FindingCode::TlsNotTls),
        (vec![TlsOutcome::Closed, TlsOutcome::Timeout, TlsOutcome::Failed], FindingCode::TlsHandshakeFailed),
    ];
    for (outcomes, code) in groups {
        let these: Vec<_> = attempts.iter().filter(|(_, tls)| outcomes.contains(&tls.outcome)).collect();
        let Some((_, first)) = these.first() else {
            continue;
        };
        let scope = if these.len() == attempts.len() {
            "every address".to_string()
        } else {
            format!("{} of {} addresses", these.len(), attempts.len())
        };
        let cert = first.peer_certificate.as_ref();
        let cert_text = cert
            .map(|c| format!("certificate {} (SANs: {}; issuer {})", c.subject, c.sans.join(", "), c.issuer))
            .unwrap_or_else(|| "no certificate".into());
        let host = &t.host;
        let (summary, fix) = match code {
            FindingCode::TlsNameMismatch => (
                format!("{}: {cert_text} does not cover {host} ({scope})", t.target),
                format!(
                    "Dial the name the provider gives (the cluster's bootstrap name), not an alias or the VPC \
                     endpoint's own DNS name: TLS checks the name you dial. If the SANs belong to another service, \
                     `{host}` resolves to the wrong endpoint."
                ),
            ),
            FindingCode::TlsUnknownIssuer => (
                format!("{}: {cert_text} is not signed by a trusted CA ({scope})", t.target),
                "Trust the issuing CA: point --ca-file (ssl.ca.location) at the right CA bundle. Confluent Cloud \
                 uses public CAs, so the system bundle suffices there; an unknown issuer then means a TLS-intercepting \
                 proxy or a wrong endpoint."
                    .into(),
            ),
            FindingCode::TlsExpired => (
                format!(
                    "{}: {cert_text} is outside its validity ({} to {}) ({scope})",
                    t.target,
                    cert.map(|c| c.not_before.as_str()).unwrap_or("?"),
                    cert.map(|c| c.not_after.as_str()).unwrap_or("?")
                ),
                "The server must present a current certificate: renew it (provider side), and check this \
                 machine's clock."
                    .into(),
            ),
            FindingCode::TlsNotTls => (
                format!("{}: {} ({scope})", t.target, first.error.as_deref().unwrap_or("the peer does not speak TLS")),
                format!(
                    "Port {} answers in plaintext. Either the listener is meant to be plaintext (use \
                     security.protocol=PLAINTEXT/SASL_PLAINTEXT), or `{host}` resolves to something other than the \
                     provider's TLS endpoint: Confluent Cloud only has TLS listeners.",
                    t.port
                ),
            ),
            _ => (
                format!(
                    "{}: handshake {} ({scope}): {}",
                    t.target,
                    tls_word(first.outcome),
                    first.error.as_deref().unwrap_or("")
                ),
                "The endpoint accepted TCP but not the handshake: check that the SNI name is one the endpoint \
                 routes (the provider's name), that no proxy sits in between, and the TLS versions allowed."
                    .into(),
            ),
        };
        let addresses = these.iter().map(|(a, _)| a.ip.clone()).collect();
        out.push(finding(code, t, Stage::Tls, summary, fix, addresses));
    }
    let soonest = attempts
        .iter()
        .filter(|(_, tls)| tls.outcome == TlsOutcome::Ok)
        .filter_map(|(_, tls)| tls.peer_certificate.as_ref())
        .min_by_key(|c| c.days_to_expiry);
    if let Some(cert) = soonest.filter(|c| c.days_to_expiry < EXPIRY_WARNING_DAYS) {
        out.push(finding(
            FindingCode::TlsExpiringSoon,
            t,
            Stage::Tls,
            format!(
                "{}: certificate {} expires in {} days ({})",
                t.target, cert.subject, cert.days_to_expiry, cert.not_after
            ),
            "Renew the certificate before it expires (provider side for a managed service).".into(),
            Vec::new(),
        ));
    }
}

/// A Lambda function outside any VPC (read from its configuration, or inferred from public DNS
/// answers when that could not be read); a machine outside AWS that cannot see private names.
fn vantage_findings(t: &TargetReport, v: &Vantage, out: &mut Vec<Finding>) {
    let public = t.dns.as_ref().is_some_and(|d| {
        d.lookup.outcome == DnsOutcome::Answer && d.answer_class == Some(AnswerClass::Public)
            || matches!(d.lookup.outcome, DnsOutcome::Nxdomain)
    });
    if v.kind == VantageKind::Other && public {
        out.push(finding(
            FindingCode::EnvOutsideAws,
            t,
            Stage::Dns,
            format!(
                "this machine is neither an EC2 instance nor a Lambda function ({}), and {} resolves publicly or not at all",
                v.note.as_deref().unwrap_or("no instance metadata"),
                t.host
            ),
            "Private hosted zone names resolve only inside the VPC: run kreach on an instance or a Lambda function in \
             the VPC, or forward the domain to a Route 53 Resolver inbound endpoint from here (VPN, Direct Connect)."
                .into(),
            Vec::new(),
        ));
    }
    if v.kind != VantageKind::Lambda {
        return;
    }
    let function = v.facts.get("function_name").cloned().unwrap_or_default();
    let failed = t.stages.iter().any(|s| s.status == StageStatus::Fail);
    let summary = match v.vpc_attached {
        // Its configuration says it is in a VPC: whatever fails, this is not why.
        Some(true) => return,
        Some(false) if public || failed => format!(
            "this runs in Lambda function {function}, which is not attached to any VPC (its configuration has no \
             VpcConfig), so it cannot use the VPC's private DNS or its endpoint{}",
            if public { format!("; {} resolves through public DNS", t.host) } else { String::new() }
        ),
        None if public => format!(
            "this runs in Lambda function {function} and {} resolves through public DNS: the function is most likely \
             not attached to the VPC{}",
            t.host,
            v.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
        ),
        _ => return,
    };
    out.push(finding(
        FindingCode::EnvLambdaNotInVpc,
        t,
        Stage::Dns,
        summary,
        format!(
            "Attach {function} to the VPC's private subnets (one per AZ) with a security group allowing outbound 443 and \
             9092: aws lambda update-function-configuration --function-name {function} --vpc-config \
             SubnetIds=<subnet-a>,<subnet-b>,SecurityGroupIds=<sg>. A function outside the VPC uses public DNS and \
             never sees the private hosted zone."
        ),
        Vec::new(),
    ));
}

/// The named secret could not give the SASL credentials.
fn secret_findings(t: &TargetReport, secret: &SecretLookup, vantage: Option<&Vantage>, out: &mut Vec<Finding>) {
    let id = &secret.secret_id;
    let detail = secret.detail.as_deref().unwrap_or("");
    let (role, policy) = match vantage.filter(|v| v.kind == VantageKind::Lambda) {
        Some(v) => (
            format!("function {}'s execution role", v.facts.get("function_name").map_or("", String::as_str)),
            " (docs/iam-policy-lambda.json)",
        ),
        None => ("the AWS principal kreach runs as".to_string(), ""),
    };
    let fix = match secret.outcome {
        SecretOutcome::Read => return,
        SecretOutcome::Denied => format!(
            "Allow {role} {{\"Effect\": \"Allow\", \"Action\": \"secretsmanager:GetSecretValue\", \"Resource\": \"<ARN of {id}>\"}}, \
             and kms:Decrypt on the secret's key when it is a customer-managed KMS key{policy}."
        ),
        SecretOutcome::NotFound => {
            format!("Check the name or ARN {id} and the region: aws secretsmanager describe-secret --secret-id {id}")
        }
        SecretOutcome::Unreachable => {
            "The Secrets Manager API is not reachable from here: a function in private subnets \
             needs an interface VPC endpoint for com.amazonaws.<region>.secretsmanager (private DNS on) or a route \
             through a NAT gateway; its security group must allow outbound 443 to it."
                .to_string()
        }
        SecretOutcome::Malformed => format!(
            "Store the credentials in {id} as a JSON object with the API key and secret: \
             {{\"username\": \"<API key>\", \"password\": \"<API secret>\"}} (api_key/api_secret also work)."
        ),
        SecretOutcome::Error => {
            format!("Read the error and check the secret: aws secretsmanager describe-secret --secret-id {id}")
        }
    };
    out.push(finding(
        FindingCode::CredentialsSecretUnreadable,
        t,
        Stage::Kafka,
        format!(
            "the SASL credentials could not be read from secret {id} ({}, {} ms): {detail}; the Kafka stage ran without them",
            secret.outcome.as_words(),
            secret.elapsed_ms
        ),
        fix,
        Vec::new(),
    ));
}

/// The least-privilege policy statement for one denied action.
fn policy_for(action: &str) -> String {
    format!(
        "{{\"Effect\": \"Allow\", \"Action\": \"{action}\", \"Resource\": \"*\"}} (docs/iam-policy-audit.json has the whole read-only policy)"
    )
}

fn aws_findings(
    t: &TargetReport,
    targets: &[TargetReport],
    audit: &AwsAudit,
    vantage: Option<&Vantage>,
    out: &mut Vec<Finding>,
) {
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
    if ep.private_dns_enabled {
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
    // Rules exist, but do they admit this probe? Only asked when the port failed from here.
    let probe = vantage.map(Probe::of).unwrap_or_default();
    for ingress in audit.ingress.iter().filter(|i| i.allowed && !i.sources.is_empty()) {
        // The rule's port, or the role it serves (a lab or a proxy may listen on other ports).
        let tcp_failed = targets.iter().any(|t| {
            let serves = t.port == ingress.port
                || match t.role {
                    Role::Bootstrap | Role::Broker => ingress.port == crate::DEFAULT_KAFKA_PORT,
                    Role::Https => ingress.port == crate::DEFAULT_HTTPS_PORT,
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

/// The first stage that failed and a word on how.
fn cname_loop_finding(t: &TargetReport, l: &DnsLookup) -> Finding {
    finding(
        FindingCode::DnsCnameLoop,
        t,
        Stage::Dns,
        format!("{} via {}: {}", t.host, l.resolver, l.error.as_deref().unwrap_or("CNAME loop")),
        "One record of the loop points at the wrong name: for PrivateLink the chain must end at the VPC \
         endpoint's DNS name (vpce-….vpce.amazonaws.com), which holds the addresses. Fix that record in the zone \
         that holds it."
            .into(),
        Vec::new(),
    )
}

/// Findings for the caps that cut the work short: advertised brokers beyond what is probed, and
/// names with more addresses than are connected to.
fn cap_findings(report: &Report, out: &mut Vec<Finding>) {
    let Some(bootstrap) = report.targets.iter().find(|t| t.role == Role::Bootstrap) else { return };
    if let Some(cluster) = report.cluster.as_ref().filter(|c| c.brokers.len() > crate::runner::MAX_BROKER_TARGETS) {
        out.push(finding(
            FindingCode::ProbeCapped,
            bootstrap,
            Stage::Kafka,
            format!(
                "the cluster advertises {} brokers; kreach probed the first {} (by node id) and left {} unchecked",
                cluster.brokers.len(),
                crate::runner::MAX_BROKER_TARGETS,
                cluster.brokers.len() - crate::runner::MAX_BROKER_TARGETS
            ),
            "No real cluster advertises that many brokers: check that the bootstrap is the cluster you mean. \
             The brokers that were probed are in the matrix."
                .into(),
            Vec::new(),
        ));
    }
    let capped: Vec<(&TargetReport, usize)> = report
        .targets
        .iter()
        .filter_map(|t| t.dns.as_ref().map(|d| (t, d.lookup.addresses.len())))
        .filter(|(t, n)| *n > t.addresses.len() && t.addresses.len() == crate::runner::MAX_ADDRESSES_PER_NAME)
        .collect();
    if let Some((first, most)) = capped.iter().max_by_key(|(_, n)| *n) {
        out.push(finding(
            FindingCode::ProbeCapped,
            first,
            Stage::Dns,
            format!(
                "{} name(s) resolved to more than {} addresses ({} has {most} addresses); only the first {} of \
                 each were connected to",
                capped.len(),
                crate::runner::MAX_ADDRESSES_PER_NAME,
                first.host,
                crate::runner::MAX_ADDRESSES_PER_NAME
            ),
            "An interface endpoint has one address per zone: this many addresses means the name does not lead \
             to a VPC endpoint. Check the record it resolves through."
                .into(),
            Vec::new(),
        ));
    }
}

/// Codes that repeat once per broker: past this many they become one finding with counts and examples.
const GROUP_AFTER: usize = 5;
/// Examples quoted in a grouped finding.
const GROUP_EXAMPLES: usize = 3;

/// Folds many findings of one per-broker code into one, so 500 dead brokers read as one problem.
fn group_repeats(out: Vec<Finding>) -> Vec<Finding> {
    let mut result = Vec::with_capacity(out.len());
    let mut repeats: Vec<(FindingCode, Vec<Finding>)> = Vec::new();
    for f in out {
        if !matches!(
            f.code,
            FindingCode::BrokerUnreachable | FindingCode::BrokerDnsNxdomain | FindingCode::DnsCnameLoop
        ) {
            result.push(f);
            continue;
        }
        match repeats.iter_mut().find(|(c, _)| *c == f.code) {
            Some((_, list)) => list.push(f),
            None => repeats.push((f.code, vec![f])),
        }
    }
    for (_, list) in repeats {
        if list.len() <= GROUP_AFTER {
            result.extend(list);
            continue;
        }
        let n = list.len();
        let examples: Vec<&str> = list.iter().take(GROUP_EXAMPLES).map(|f| f.summary.as_str()).collect();
        let mut addresses: Vec<String> = list.iter().flat_map(|f| f.addresses.iter().cloned()).collect();
        addresses.sort();
        addresses.dedup();
        addresses.truncate(16);
        let mut grouped = list[0].clone();
        grouped.summary = format!("{n} brokers: {}; and {} more like them", examples.join("; "), n - examples.len());
        grouped.addresses = addresses;
        result.push(grouped);
    }
    result
}

fn first_failure(t: &TargetReport) -> (Stage, String) {
    t.stages
        .iter()
        .find(|s| s.status == StageStatus::Fail)
        .map(|s| (s.stage, format!("{} {}", s.stage.as_str().to_uppercase(), s.summary)))
        .unwrap_or((Stage::Kafka, "no stage passed".into()))
}

fn broker_findings(
    t: &TargetReport,
    down_zones: &[&str],
    zone_addresses: &std::collections::BTreeMap<String, String>,
    known_records: &[DnsRecord],
    out: &mut Vec<Finding>,
) {
    let Some(broker) = &t.broker else { return };
    let Some(dns) = &t.dns else { return };
    let id = broker.node_id;
    let zone_down = broker.az_id.as_deref().is_some_and(|az| down_zones.contains(&az));
    if dns.lookup.cname_loop {
        out.push(cname_loop_finding(t, &dns.lookup));
        return;
    }
    match dns.lookup.outcome {
        DnsOutcome::Nxdomain | DnsOutcome::NoData => {
            out.push(finding(
                FindingCode::BrokerDnsNxdomain,
                t,
                Stage::Dns,
                format!(
                    "broker {id} advertises {} which does not resolve via {}{} although the bootstrap does",
                    t.host,
                    dns.lookup.resolver,
                    dns.lookup.negative_zone.as_ref().map(|z| format!(" (zone {z} said NXDOMAIN)")).unwrap_or_default()
                ),
                format!(
                    "Clients learn this name from Metadata and must resolve it: create a record covering `{}` in \
                     the private hosted zone (for PrivateLink: `*.<az-id>.<domain>` CNAME the zonal endpoint name, \
                     or `*.<domain>` CNAME the regional one). A name outside the zone's domain means the cluster \
                     advertises a listener the zone cannot serve.",
                    t.host
                ),
                Vec::new(),
            ));
            return;
        }
        DnsOutcome::Answer | DnsOutcome::AddressLiteral => {}
        _ => {
            if !zone_down {
                out.push(finding(
                    FindingCode::BrokerUnreachable,
                    t,
                    Stage::Dns,
                    format!("broker {id} ({}): DNS failed: {}", t.target, dns.lookup.error.as_deref().unwrap_or("")),
                    "Check the resolver for the brokers' names (the same private zone as the bootstrap).".into(),
                    Vec::new(),
                ));
            }
            return;
        }
    }
    // Zonal DNS: a broker of zone X should resolve to zone X's endpoint address only.
    if let Some(az) = &broker.az_id {
        let ips: Vec<&str> = dns.lookup.addresses.iter().map(|a| a.ip.as_str()).collect();
        // Several addresses for a zonal name: the regional answer, every zone's interface.
        let regional = ips.len() > 1;
        let expected = zone_addresses.get(az);
        if let Some(expected) = expected.filter(|e| !regional && ips != [e.as_str()]) {
            out.push(finding(
                FindingCode::DnsZonalMismatch,
                t,
                Stage::Dns,
                format!(
                    "broker {id} ({}) in {az} resolves to {}, but {az}'s endpoint address is {expected}",
                    t.host,
                    ips.join(", ")
                ),
                format!(
                    "Point the zonal record for {az} (`*.{az}.<domain>`) at the endpoint's zonal DNS name in {az}: \
                     it leads to another zone's address now."
                ),
                ips.iter().map(|s| s.to_string()).collect(),
            ));
        } else if regional {
            let domain = t.host.split_once(&format!("{az}.")).map(|(_, d)| d.to_string());
            let exact = known_records.iter().find(|r| r.name.starts_with(&format!("*.{az}.")));
            let record = match (exact, &domain) {
                (Some(r), _) => format!("`{} {} {}`", r.name, r.record_type, r.value),
                (None, Some(d)) => format!("`*.{az}.{d}` CNAME <the endpoint's zonal DNS name in {az}>"),
                (None, None) => format!("a zonal record for {az} pointing at the endpoint's zonal DNS name"),
            };
            out.push(finding(
                FindingCode::DnsZonalMismatch,
                t,
                Stage::Dns,
                format!(
                    "broker {id} ({}) in {az} resolves to {} addresses ({}), the regional answer, not its zone's endpoint address",
                    t.host,
                    ips.len(),
                    ips.join(", ")
                ),
                format!(
                    "Create {record} in the private hosted zone; name it by AZ ID ({az}), not by AZ name. Until \
                     then traffic to this broker crosses zones (cost, latency) and fails when another zone fails."
                ),
                ips.iter().map(|s| s.to_string()).collect(),
            ));
        }
    }
    if zone_down || broker_passed(t) {
        return;
    }
    let (stage, why) = first_failure(t);
    let errors: Vec<String> = t
        .addresses
        .iter()
        .filter_map(|a| {
            a.kafka
                .as_ref()
                .filter(|k| k.outcome != KafkaOutcome::Ok)
                .map(|k| format!("{} Kafka {} ({})", a.ip, kafka_word(k.outcome), k.error.as_deref().unwrap_or("")))
                .or_else(|| {
                    a.tcp
                        .as_ref()
                        .filter(|c| c.outcome != TcpOutcome::Connected)
                        .map(|c| format!("{} TCP {}", a.ip, tcp_word(c.outcome)))
                })
                .or_else(|| {
                    a.tls
                        .as_ref()
                        .filter(|c| c.outcome != TlsOutcome::Ok)
                        .map(|c| format!("{} TLS {}", a.ip, tls_word(c.outcome)))
                })
        })
        .collect();
    out.push(finding(
        FindingCode::BrokerUnreachable,
        t,
        stage,
        format!("broker {id} ({}) fails at {why}: {}", t.target, errors.join(", ")),
        "Clients reach this broker for the partitions it leads and will stall on them. If its address is \
         another zone's or the endpoint's, check that zone's path; if the endpoint forwards but the broker does \
         not answer, the broker itself is down (provider side)."
            .into(),
        t.addresses.iter().map(|a| a.ip.clone()).collect(),
    ));
}

fn kafka_findings(t: &TargetReport, out: &mut Vec<Finding>) {
    let attempts: Vec<_> = t.addresses.iter().filter_map(|a| a.kafka.as_ref().map(|k| (a, k))).collect();
    let mismatch: Vec<_> = attempts
        .iter()
        .filter(|(_, k)| matches!(k.outcome, KafkaOutcome::TlsListener | KafkaOutcome::PlaintextListener))
        .collect();
    if let Some((_, first)) = mismatch.first() {
        let (listener, protocol) = if first.outcome == KafkaOutcome::TlsListener {
            (
                "speaks TLS (it answered plaintext with TLS, or closed it and completed a TLS handshake)",
                "SSL or SASL_SSL",
            )
        } else {
            (
                "is plaintext (the TLS handshake was closed unanswered, a plaintext ApiVersions was answered)",
                "PLAINTEXT or SASL_PLAINTEXT",
            )
        };
        out.push(finding(
            FindingCode::KafkaProtocolMismatch,
            t,
            Stage::Kafka,
            format!("{}: the listener {listener} on {} of {} address(es)", t.target, mismatch.len(), attempts.len()),
            format!("Set security.protocol to {protocol} (Confluent Cloud: SASL_SSL)."),
            mismatch.iter().map(|(a, _)| a.ip.clone()).collect(),
        ));
    }
    let not_kafka: Vec<_> =
        attempts.iter().filter(|(_, k)| matches!(k.outcome, KafkaOutcome::NotKafka | KafkaOutcome::Closed)).collect();
    if let Some((_, first)) = not_kafka.first() {
        out.push(finding(
            FindingCode::KafkaNotKafka,
            t,
            Stage::Kafka,
            format!(
                "{}: the connection works but ApiVersions got no Kafka answer on {} of {} address(es): {}",
                t.target,
                not_kafka.len(),
                attempts.len(),
                first.error.as_deref().unwrap_or("")
            ),
            "Something other than a Kafka listener answers here: check that the name resolves to the provider's \
             endpoint and that the port is the Kafka port (9092), not e.g. the REST port."
                .into(),
            not_kafka.iter().map(|(a, _)| a.ip.clone()).collect(),
        ));
    }
    let sasl_groups = [
        (KafkaOutcome::MechanismUnsupported, FindingCode::KafkaSaslMechanismUnsupported),
        (KafkaOutcome::AuthFailed, FindingCode::KafkaAuthFailed),
    ];
    for (outcome, code) in sasl_groups {
        let these: Vec<_> = attempts.iter().filter(|(_, k)| k.outcome == outcome).collect();
        let Some((_, first)) = these.first() else { continue };
        let mechanism = first.sasl_mechanism.as_deref().unwrap_or("?");
        let fix = if code == FindingCode::KafkaAuthFailed {
            format!(
                "Check sasl.username/sasl.password ({mechanism}): for Confluent Cloud they are a Kafka API key and \
                 secret of this cluster (not a Cloud API key), still active, for the cluster the bootstrap names."
            )
        } else if first.broker_mechanisms.is_empty() {
            format!("Set sasl.mechanism to one the broker enables (Confluent Cloud: PLAIN); {mechanism} was refused.")
        } else {
            format!("Set sasl.mechanism to one of {} (Confluent Cloud: PLAIN).", first.broker_mechanisms.join(", "))
        };
        out.push(finding(
            code,
            t,
            Stage::Kafka,
            format!(
                "{}: {} on {} of {} address(es)",
                t.target,
                first.error.as_deref().unwrap_or(""),
                these.len(),
                attempts.len()
            ),
            fix,
            these.iter().map(|(a, _)| a.ip.clone()).collect(),
        ));
    }
    if let Some((_, first)) = attempts.iter().find(|(_, k)| k.credentials_withheld.is_some()) {
        out.push(finding(
            FindingCode::KafkaCredentialsWithheld,
            t,
            Stage::Kafka,
            format!(
                "{}: the Kafka listener answered; the SASL password was not sent: {}",
                t.target,
                first.credentials_withheld.as_deref().unwrap_or("")
            ),
            "Use SASL_SSL with certificate verification on (--ca-file for a private CA). To send the credentials \
             anyway, knowing anyone on the path can read or impersonate them, pass --allow-insecure-credentials \
             (Lambda: KREACH_ALLOW_INSECURE_CREDENTIALS=true in the function's environment). A Lambda function \
             sends credentials only to the bootstrap hosts its KREACH_ALLOWED_BOOTSTRAP names."
                .into(),
            Vec::new(),
        ));
    }
    if let Some((_, first)) = attempts.iter().find(|(_, k)| k.skipped.is_some() && k.credentials_withheld.is_none()) {
        out.push(finding(
            FindingCode::KafkaNoCredentials,
            t,
            Stage::Kafka,
            format!("{}: the Kafka listener answered; {}", t.target, first.skipped.as_deref().unwrap_or("")),
            "Pass --config with sasl.username and sasl.password (or KREACH_SASL_USERNAME / KREACH_SASL_PASSWORD) \
             to check authentication and every broker."
                .into(),
            Vec::new(),
        ));
    }
    let broken = |k: &KafkaAttempt| {
        matches!(k.outcome, KafkaOutcome::MetadataFailed | KafkaOutcome::Timeout | KafkaOutcome::Failed)
    };
    // Nothing answered ApiVersions: not a Metadata problem, nobody speaks Kafka on the connection.
    let silent: Vec<_> = attempts.iter().filter(|(_, k)| broken(k) && k.api_versions_ms.is_none()).collect();
    if let Some((_, first)) = silent.first() {
        out.push(finding(
            FindingCode::KafkaNoAnswer,
            t,
            Stage::Kafka,
            format!(
                "{}: the connection works but ApiVersions got no answer on {} of {} address(es): {}",
                t.target,
                silent.len(),
                attempts.len(),
                first.error.as_deref().unwrap_or("")
            ),
            "Something accepts the connection but does not speak Kafka on it: check that the endpoint forwards \
             this port to the provider's Kafka listener (the Kafka port, 9092 for Confluent Cloud) and that the \
             service behind it is up."
                .into(),
            silent.iter().map(|(a, _)| a.ip.clone()).collect(),
        ));
    }
    let failed: Vec<_> = attempts.iter().filter(|(_, k)| broken(k) && k.api_versions_ms.is_some()).collect();
    if let Some((_, first)) = failed.first() {
        out.push(finding(
            FindingCode::KafkaMetadataFailed,
            t,
            Stage::Kafka,
            format!(
                "{}: {} on {} of {} address(es): {}",
                t.target,
                kafka_word(first.outcome),
                failed.len(),
                attempts.len(),
                first.error.as_deref().unwrap_or("")
            ),
            "The broker answered ApiVersions but not Metadata: without it no client learns the brokers. Check \
             authentication (SASL settings and credentials) and the broker's health."
                .into(),
            failed.iter().map(|(a, _)| a.ip.clone()).collect(),
        ));
    }
}

fn https_findings(t: &TargetReport, out: &mut Vec<Finding>) {
    let bad: Vec<_> = t
        .addresses
        .iter()
        .filter_map(|a| a.https.as_ref().map(|h| (a, h)))
        .filter(|(_, h)| h.outcome != HttpsOutcome::Response)
        .collect();
    let Some((_, first)) = bad.first() else {
        return;
    };
    out.push(finding(
        FindingCode::HttpsNoResponse,
        t,
        Stage::Https,
        format!(
            "{}: TLS worked but GET {} got no HTTP response on {} address(es): {}",
            t.target,
            first.path,
            bad.len(),
            first.error.as_deref().unwrap_or("")
        ),
        "The HTTPS port completes TLS but does not answer HTTP: check that the endpoint routes port 443 to the \
         provider's REST service and that no proxy in between swallows requests."
            .into(),
        bad.iter().map(|(a, _)| a.ip.clone()).collect(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
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
            aws_findings(&bootstrap(), &[], &audit, None, &mut out);
            let codes: Vec<&str> = out.iter().map(|f| f.code.as_str()).collect();
            assert_eq!(codes, ["aws-endpoint-not-available"], "{state}");
            assert!(out[0].fix.contains(needle), "{state}: {}", out[0].fix);
        }
        let audit = AwsAudit {
            endpoint: Some(AwsEndpoint { id: "vpce-1".into(), state: "Available".into(), ..Default::default() }),
            ..Default::default()
        };
        let mut out = Vec::new();
        aws_findings(&bootstrap(), &[], &audit, None, &mut out);
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
        aws_findings(&target, std::slice::from_ref(&target), &audit, Some(&probe), &mut out);
        assert!(out.is_empty(), "TCP did not fail: {out:?}");
        target.stages.push(StageResult {
            stage: Stage::Tcp,
            status: StageStatus::Fail,
            elapsed_ms: None,
            summary: "0/1 connected".into(),
        });
        aws_findings(&target, std::slice::from_ref(&target), &audit, Some(&probe), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].code, FindingCode::AwsSgMissingIngress);
        assert!(out[0].summary.contains("10.20.1.5") && out[0].summary.contains("sg-probe"), "{}", out[0].summary);
        assert!(out[0].fix.contains("--group-id sg-endpoint --protocol tcp --port 9092 --source-group sg-probe"));
        out.clear();
        let admitted = ec2(&[("security_group_ids", "sg-probe,sg-clients")]);
        aws_findings(&target, std::slice::from_ref(&target), &audit, Some(&admitted), &mut out);
        assert!(out.is_empty(), "admitted by its second group: {out:?}");
    }
}

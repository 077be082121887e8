//! Findings for the endpoints around Kafka: `--target`, Schema Registry, the AWS and Confluent APIs.

use super::{dns, finding, https_findings, tls_findings};
use crate::report::findings::FindingCode;
use crate::report::{
    AddressReport, AnswerClass, DnsOutcome, Finding, FixAction, Stage, StageStatus, TargetReport, TcpOutcome,
};
use crate::report::{EndpointKind, EndpointTarget, NetworkSection};

/// Whether `t`'s name must resolve privately: by its kind and name, or because it sits under the
/// cluster's private domain.
fn expects_private(t: &TargetReport, e: &EndpointTarget, network: Option<&NetworkSection>) -> bool {
    if let Some(expect) = e.expect_private {
        return expect;
    }
    let under_domain = network
        .and_then(|n| n.domain.as_ref())
        .is_some_and(|d| t.host.to_ascii_lowercase().ends_with(&format!(".{}", d.name)));
    under_domain && e.kind != EndpointKind::AwsApi && e.kind != EndpointKind::ConfluentApi
}

/// The fix for an endpoint that cannot be reached, by what it is.
fn reach_fix(t: &TargetReport, e: &EndpointTarget, private: bool) -> String {
    match e.kind {
        EndpointKind::AwsApi => {
            let service = e.name.trim_start_matches("aws:");
            let region = t.host.split('.').nth(1).unwrap_or("<region>");
            format!(
                "From this subnet, {} must be reachable on {}: either a route to a NAT gateway (0.0.0.0/0 → nat-…) in \
                 the subnet's route table, or an interface VPC endpoint for com.amazonaws.{region}.{service} with \
                 private DNS on and a security group admitting TCP {} from this client.",
                t.host, t.port, t.port
            )
        }
        EndpointKind::ConfluentApi => format!(
            "The Confluent Cloud API and CLI are public: Confluent's guidance for PrivateLink VPCs is to allow \
             outbound internet access (a NAT gateway route) for them; allow TCP {} out to {}.",
            t.port, t.host
        ),
        EndpointKind::SchemaRegistry if private => format!(
            "A private Schema Registry is reached through the VPC endpoint: its security group must admit TCP {} \
             from this client, like the Kafka port.",
            t.port
        ),
        EndpointKind::SchemaRegistry => format!(
            "This Schema Registry name is public: it needs outbound internet access (NAT) on TCP {} from here.",
            t.port
        ),
        _ => format!(
            "Open the path to {}: security groups (outbound here, inbound there), network ACLs and routes.",
            t.target
        ),
    }
}

pub(super) fn endpoint_findings(t: &TargetReport, network: Option<&NetworkSection>, out: &mut Vec<Finding>) {
    let (Some(e), Some(dns)) = (&t.endpoint, &t.dns) else { return };
    let private = expects_private(t, e, network);
    let l = &dns.lookup;
    let failed_dns =
        matches!(l.outcome, DnsOutcome::Nxdomain | DnsOutcome::NoData | DnsOutcome::Error | DnsOutcome::Unreachable);
    if failed_dns {
        let fix = match e.kind {
            EndpointKind::AwsApi => "The VPC resolver answers AWS service names itself; with an interface endpoint, \
                                     turn its private DNS on. A custom resolver must forward amazonaws.com to the VPC resolver."
                .to_string(),
            _ if private => format!(
                "Add the name to the private hosted zone ({}) or check the name.",
                network.and_then(|n| n.domain.as_ref()).map_or("the cluster's domain", |d| d.name.as_str())
            ),
            _ => "Check the name, and that the resolver in use reaches public DNS for it.".to_string(),
        };
        out.push(finding(
            FindingCode::EndpointDnsFailed,
            t,
            Stage::Dns,
            format!(
                "{} ({}) via {}: {}",
                e.name,
                t.host,
                l.resolver,
                l.error.clone().unwrap_or_else(|| format!("{:?}", l.outcome).to_lowercase())
            ),
            fix,
            Vec::new(),
        ));
        return;
    }
    let public = matches!(dns.answer_class, Some(AnswerClass::Public | AnswerClass::Mixed));
    if private && public {
        out.push(finding(
            FindingCode::EndpointPublicAnswer,
            t,
            Stage::Dns,
            format!("{} ({}) resolved to public addresses {}", e.name, t.host, dns::describe_answer(l)),
            "Its record belongs in the private hosted zone, pointing at the VPC endpoint (for Confluent, the zone's \
             wildcard covers it once the zone is associated with this VPC)."
                .into(),
            l.addresses.iter().map(|a| a.ip.clone()).collect(),
        ));
    }
    let tcp: Vec<&AddressReport> = t.addresses.iter().filter(|a| a.tcp.is_some()).collect();
    let failed: Vec<&AddressReport> =
        tcp.iter().copied().filter(|a| a.tcp.as_ref().is_some_and(|c| c.outcome != TcpOutcome::Connected)).collect();
    let answered = t.stage(Stage::Https).map(|s| s.status == StageStatus::Pass);
    if e.kind == EndpointKind::AwsApi && l.outcome == DnsOutcome::Answer {
        let via = if public {
            "the public service (through a NAT or internet gateway)"
        } else {
            "private addresses: an interface VPC endpoint with private DNS in this VPC"
        };
        let state = match (failed.is_empty(), answered) {
            (false, _) => "does not accept connections from here",
            (true, Some(true)) => "answered over HTTPS",
            (true, Some(false)) => "accepted the connection but did not answer HTTPS",
            (true, None) => "accepted the connection",
        };
        out.push(finding(
            FindingCode::AwsApiRoute,
            t,
            Stage::Dns,
            format!("{} resolves to {via} ({}) and {state}", t.host, dns::describe_answer(l)),
            "Nothing to fix here when it answers; otherwise see endpoint-unreachable.".into(),
            Vec::new(),
        ));
    }
    if !failed.is_empty() {
        let words: Vec<String> =
            failed.iter().map(|a| format!("{} {}", a.ip, a.tcp.as_ref().map_or("", |c| c.outcome.word()))).collect();
        let mut f = finding(
            FindingCode::EndpointUnreachable,
            t,
            Stage::Tcp,
            format!(
                "{} ({}): {} of {} addresses failed: {}",
                e.name,
                t.target,
                failed.len(),
                tcp.len(),
                words.join(", ")
            ),
            reach_fix(t, e, private),
            failed.iter().map(|a| a.ip.clone()).collect(),
        );
        f.action = Some(FixAction::AllowPort { port: t.port, az_id: None });
        out.push(f);
    }
    tls_findings(t, out);
    https_findings(t, out);
}

//! TCP and HTTPS findings: refused, dropped and unreachable ports, silent REST endpoints.

use super::finding;
use super::ingress::Ingress;
use crate::report::findings::FindingCode;
use crate::report::{AddressReport, Finding, FixAction, Hop, HttpsOutcome, Role, Stage, TargetReport, TcpOutcome};

pub(super) fn port_label(t: &TargetReport) -> String {
    match t.role {
        Role::Https => format!("TCP {} (HTTPS/REST)", t.port),
        Role::Bootstrap | Role::Broker => format!("TCP {} (Kafka)", t.port),
        Role::Endpoint => format!("TCP {} ({})", t.port, t.endpoint.as_ref().map_or("endpoint", |e| e.name.as_str())),
    }
}

pub(super) fn tcp_findings(t: &TargetReport, ingress: Ingress, out: &mut Vec<Finding>) {
    let attempts: Vec<(&AddressReport, TcpOutcome)> =
        t.addresses.iter().filter_map(|a| a.tcp.as_ref().map(|tcp| (a, tcp.outcome))).collect();
    let failed: Vec<&(&AddressReport, TcpOutcome)> =
        attempts.iter().filter(|(_, o)| *o != TcpOutcome::Connected).collect();
    if failed.is_empty() {
        return;
    }
    let port = port_label(t);
    let sg_rule = format!(
        "Add an inbound rule to {}: {port} from the client's security group or CIDR; check the client's \
         outbound rules and the subnets' network ACLs too.",
        ingress.security_group()
    );
    if failed.len() < attempts.len() {
        let detail: Vec<String> = failed.iter().map(|(a, o)| format!("{} {}", a.ip, o.word())).collect();
        let mut f = finding(
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
                "Each address is one {} (one AZ). For the failing ones: check the subnet's network ACL and route \
                 table, and {}. {sg_rule}",
                ingress.interface(),
                ingress.zone_check("that AZ")
            ),
            failed.iter().map(|(a, _)| a.ip.clone()).collect(),
        );
        // The failing addresses' own kind: refused everywhere is nothing listening there, not the path.
        if failed.iter().all(|(_, o)| *o == TcpOutcome::Refused) {
            f.hop = Hop::Listener;
            f.action = Some(FixAction::ServeListener { port: t.port });
        } else {
            f.action = Some(FixAction::AllowPort { port: t.port, az_id: None });
        }
        out.push(f);
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
            match ingress {
                Ingress::Endpoint => {
                    "No route to these addresses: check the route tables and that the addresses belong to this VPC's \
                     endpoint."
                }
                Ingress::Pni => {
                    "No route to these addresses: check the route tables and that the addresses belong to the PNI \
                     network interfaces in this VPC."
                }
            }
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
            outcome.word(),
            if these.len() == attempts.len() {
                "every address".to_string()
            } else {
                format!("{} addresses", these.len())
            },
            these.join(", ")
        );
        let mut f = finding(code, t, Stage::Tcp, summary, fix, these.iter().map(|s| s.to_string()).collect());
        f.action = Some(match outcome {
            TcpOutcome::Refused => FixAction::ServeListener { port: t.port },
            _ => FixAction::AllowPort { port: t.port, az_id: None },
        });
        out.push(f);
    }
}

pub(super) fn https_findings(t: &TargetReport, out: &mut Vec<Finding>) {
    let bad: Vec<_> = t
        .addresses
        .iter()
        // A client certificate's alert instead of the response is that certificate's finding.
        .filter(|a| crate::analysis::tls::client_cert_alert(a).is_none())
        .filter_map(|a| a.https.as_ref().map(|h| (a, h)))
        .filter(|(_, h)| h.outcome != HttpsOutcome::Response)
        .collect();
    let Some((_, first)) = bad.first() else {
        return;
    };
    let mut f = finding(
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
    );
    f.action = Some(FixAction::ServeListener { port: t.port });
    out.push(f);
}

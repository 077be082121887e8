//! The client's own settings that break (or weaken) the PrivateLink path, from the properties
//! file kreach was given: warnings naming the property, its value (or whose default) and why —
//! never a failure of the path itself. Judged only on a PrivateLink path.

use super::finding;
use super::names::vpce_name;
use crate::report::findings::FindingCode;
use crate::report::{ClientKind, ClientSettings, Finding, FixAction, Layout, Report, Role, Stage, TargetReport};

/// An interface endpoint's idle timeout (AWS: 350 seconds), in milliseconds.
const ENDPOINT_IDLE_MS: u64 = 350_000;
/// What three unanswered SYNs take (kreach's own connect timeout), in milliseconds.
const THREE_SYNS_MS: u64 = 3_300;

/// Whether the run went through a VPC endpoint: a provider's PrivateLink layout, or a chain that
/// leads to an endpoint's DNS name.
fn behind_privatelink(report: &Report) -> bool {
    let layout = report.network.as_ref().map(|n| n.layout);
    // PNI's interfaces are attached to Confluent's machines: no endpoint, no endpoint idle timeout.
    layout.is_some_and(|l| !matches!(l, Layout::Generic | Layout::ConfluentPni))
        || report.targets.iter().any(|t| {
            t.dns.as_ref().is_some_and(|d| d.lookup.cname_chain.iter().any(|h| vpce_name(&h.target).is_some()))
        })
}

pub(super) fn client_findings(report: &Report, out: &mut Vec<Finding>) {
    let Some(client) = &report.settings.client else { return };
    let Some(bootstrap) = report.targets.iter().find(|t| t.role == Role::Bootstrap) else { return };
    if !behind_privatelink(report) {
        return;
    }
    idle_timeout(client, bootstrap, out);
    let get = |k: &str| client.properties.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut risky = |key: &str, value: &str, why: String, fix: &str, recommended: &str| {
        let mut f = finding(
            FindingCode::ClientSettingRisky,
            bootstrap,
            Stage::Client,
            format!("the client's {key}={value}: {why}"),
            fix.to_string(),
            Vec::new(),
        );
        f.action = Some(FixAction::SetProperty { key: key.into(), value: recommended.into() });
        out.push(f);
    };
    if let Some(v) =
        get("client.dns.lookup").filter(|v| v.eq_ignore_ascii_case("resolve_canonical_bootstrap_servers_only"))
    {
        risky(
            "client.dns.lookup",
            v,
            "the client resolves the bootstrap to its canonical name — the VPC endpoint's DNS name at the end of \
             the CNAME chain — and dials that, which the cluster's certificate does not cover"
                .into(),
            "Set client.dns.lookup=use_all_dns_ips (the default): behind PrivateLink the client must dial the \
             cluster's own names.",
            "use_all_dns_ips",
        );
    }
    if let Some(v) = get("broker.address.family") {
        let ips = bootstrap.dns.as_ref().map(|d| d.lookup.addresses.as_slice()).unwrap_or_default();
        let (v4, v6) = (ips.iter().any(|a| !a.ip.contains(':')), ips.iter().any(|a| a.ip.contains(':')));
        let clash = (v.eq_ignore_ascii_case("v6") && v4 && !v6) || (v.eq_ignore_ascii_case("v4") && v6 && !v4);
        if clash {
            risky(
                "broker.address.family",
                v,
                format!("the cluster's names resolve to {} addresses only", if v4 { "IPv4" } else { "IPv6" }),
                "Set broker.address.family=any (the default), or the family the endpoint's addresses are in.",
                "any",
            );
        }
    }
    if let Some(v) = get("socket.connection.setup.timeout.ms") {
        if v.parse::<u64>().is_ok_and(|ms| ms < THREE_SYNS_MS) {
            risky(
                "socket.connection.setup.timeout.ms",
                v,
                format!(
                    "shorter than three SYNs take ({THREE_SYNS_MS} ms): one lost packet on the way to the endpoint \
                     fails a connect that would have succeeded"
                ),
                "Set socket.connection.setup.timeout.ms to 10000 or more (Java's default; librdkafka's is 30000).",
                "10000",
            );
        }
    }
    if let Some(v) =
        get("ssl.endpoint.identification.algorithm").filter(|v| v.is_empty() || v.eq_ignore_ascii_case("none"))
    {
        risky(
            "ssl.endpoint.identification.algorithm",
            v,
            "the client does not check that the certificate covers the name it dials: a wrong record or a \
             TLS-intercepting peer would go unnoticed (and receive the credentials)"
                .into(),
            "Set ssl.endpoint.identification.algorithm=https (the default).",
            "https",
        );
    }
}

/// connections.max.idle.ms against the endpoint's 350-second idle timeout, set or by default.
fn idle_timeout(client: &ClientSettings, bootstrap: &TargetReport, out: &mut Vec<Finding>) {
    let set = client.properties.iter().find(|(k, _)| k == "connections.max.idle.ms").map(|(_, v)| v.as_str());
    let (value, whose): (Option<u64>, String) = match (set, client.kind) {
        (Some(v), _) => (v.parse().ok(), format!("connections.max.idle.ms={v}")),
        (None, ClientKind::Java) => {
            (Some(540_000), "connections.max.idle.ms unset: the Java client's default, 540000".into())
        }
        (None, _) => (Some(0), "connections.max.idle.ms unset: librdkafka's default, 0 (never closed)".into()),
    };
    let Some(ms) = value else { return };
    if ms != 0 && ms <= ENDPOINT_IDLE_MS {
        return;
    }
    let mut f = finding(
        FindingCode::ClientIdleTimeoutAboveEndpoint,
        bootstrap,
        Stage::Client,
        format!(
            "{whose}: the client keeps idle connections {}, and an interface VPC endpoint drops a connection idle for \
             350 seconds without telling either side",
            if ms == 0 { "forever".to_string() } else { format!("{} s", ms / 1000) }
        ),
        "Set connections.max.idle.ms=300000 (under the endpoint's 350 s idle timeout): the client then closes \
         idle connections itself instead of finding them dead on its next request."
            .into(),
        Vec::new(),
    );
    f.action = Some(FixAction::SetProperty { key: "connections.max.idle.ms".into(), value: "300000".into() });
    out.push(f);
}

//! The path as a Mermaid diagram for the Markdown report: vantage point → resolver → the zone that
//! answers the cluster's names → the endpoint's interface per address → the brokers per zone, with
//! the broken hops marked, so a reader sees where it breaks before reading a finding.

use crate::report::{Report, Role, Stage, StageStatus, TcpOutcome};

/// Mermaid label text: no quotes, backticks or control characters, and no HTML (Mermaid renders
/// labels as HTML: `<`, `>` and `&` become its entity codes, `#` first so they stay entities).
fn label(text: &str) -> String {
    super::clean(text)
        .replace(['"', '`'], "'")
        .replace(['[', ']', '{', '}', '(', ')', '|'], " ")
        .replace('#', "#35;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
        .replace('&', "#amp;")
}

/// The diagram, fenced for Markdown; `None` when there is no bootstrap row to draw.
pub fn mermaid(report: &Report) -> Option<String> {
    let bootstrap = report.targets.iter().find(|t| t.role == Role::Bootstrap)?;
    let mut out = String::from("```mermaid\nflowchart LR\n  classDef broken fill:#fdd,stroke:#c00,color:#600\n");
    let vantage = report.vantage.as_ref().map_or("this machine".to_string(), |v| v.label.clone());
    let resolver = bootstrap.dns.as_ref().map_or("resolver".to_string(), |d| d.lookup.resolver.clone());
    out.push_str(&format!("  V[\"{}\"] --> R[\"resolver {}\"]\n", label(&vantage), label(&resolver)));
    let dns = bootstrap.stage(Stage::Dns);
    let dns_ok = dns.is_some_and(|s| s.status == StageStatus::Pass || s.status == StageStatus::Warn);
    let zone = match report.network.as_ref().and_then(|n| n.domain.as_ref()) {
        Some(d) => format!("zone {}", d.name),
        None => "DNS answer".to_string(),
    };
    let dns_text = dns.map_or(String::new(), |s| s.summary.clone());
    out.push_str(&format!("  R -- \"{}\" --> Z[\"{}\"]\n", label(&dns_text), label(&zone)));
    if !dns_ok {
        out.push_str("  class Z broken\n");
    }
    for (i, a) in bootstrap.addresses.iter().take(16).enumerate() {
        let az = report.zones.iter().find(|z| z.addresses.contains(&a.ip)).map(|z| z.az_id.clone());
        let tcp = a.tcp.as_ref().map(|t| t.outcome);
        out.push_str(&format!(
            "  Z --> E{i}[\"{} {}\"]\n",
            label(&a.ip),
            az.map(|z| format!("({z})")).unwrap_or_default()
        ));
        if tcp.is_some_and(|o| o != TcpOutcome::Connected) {
            out.push_str(&format!("  class E{i} broken\n"));
        }
    }
    for (j, z) in report.zones.iter().take(16).enumerate() {
        out.push_str(&format!("  B{j}[\"brokers {} {}/{}\"]\n", label(&z.az_id), z.passed, z.brokers.len()));
        // Each zone's brokers hang off the endpoint address in that zone, else off the zone node.
        let from = bootstrap
            .addresses
            .iter()
            .take(16)
            .position(|a| z.addresses.contains(&a.ip))
            .map_or("Z".to_string(), |i| format!("E{i}"));
        out.push_str(&format!("  {from} --> B{j}\n"));
        if z.status == StageStatus::Fail {
            out.push_str(&format!("  class B{j} broken\n"));
        }
    }
    out.push_str("```\n");
    Some(out)
}

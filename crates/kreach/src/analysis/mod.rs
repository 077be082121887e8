//! The one place that turns measured outcomes into findings, one module per concern.
//!
//! Root causes are inferred across stages: a public DNS answer explains the TCP/TLS failures that
//! follow it, one dead address of three is not the same as all three dead, and so on.

mod access;
mod auth;
mod aws;
pub(crate) mod blame;
mod brokers;
mod chains;
mod client;
mod dns;
mod endpoints;
mod esm;
mod ingress;
mod integrity;
mod kafka;
pub mod layout;
pub(crate) mod merge;
pub(crate) mod names;
mod parity;
pub(crate) mod tls;
mod transport;
mod vantage;
mod zones;

use std::collections::HashSet;

use crate::report::findings::{FindingCode, Severity};
use crate::report::{
    AnswerClass, DnsOutcome, DnsRecord, Finding, FixAction, Report, Role, Stage, Status, TargetReport,
};

use aws::aws_findings;
use brokers::{broker_findings, cap_findings, group_repeats, invalid_port_findings};
use dns::{cname_loop_finding, dns_findings};
use endpoints::endpoint_findings;
use esm::{connector_findings, esm_audit_findings, esm_findings};
pub use integrity::consistent;
use kafka::kafka_findings;
use parity::parity_findings;
use tls::{tls_findings, verification_findings};
use transport::{https_findings, tcp_findings};
use vantage::{secret_findings, vantage_findings};
use zones::broker_passed;
pub use zones::zones;

/// Draws every finding from a report's evidence (its targets, zones, audit, vantage): what a run
/// does last, and what judges a saved report again. Reads no finding's or message's text.
pub fn findings(report: &Report) -> Vec<Finding> {
    let targets = &report.targets;
    let (aws, vantage) = (report.aws.as_ref(), report.vantage.as_ref());
    let mut out = Vec::new();
    let zone_addresses = zones::zone_addresses(report);
    let known_records: &[DnsRecord] = aws.map(|a| a.expected_records.as_slice()).unwrap_or_default();
    let domain = report.network.as_ref().and_then(|n| n.domain.as_ref()).map(|d| d.name.as_str());
    // What the CNAME chains explain comes first: a record leading elsewhere, a zone the endpoint
    // does not serve. Nothing downstream of it is blamed again.
    let explained = chains::chain_findings(report, &mut out);
    let mut down_zones = zones::down_zones(&report.zones, targets);
    down_zones.retain(|(az, _)| {
        !targets
            .iter()
            .filter(|t| t.broker.as_ref().and_then(|b| b.az_id.as_deref()) == Some(*az))
            .all(|t| explained.contains(&t.target))
    });
    let ingress = ingress::Ingress::of(report.network.as_ref());
    zones::zone_findings(&report.zones, &down_zones, targets, ingress, &mut out);
    let mut hosts_done = HashSet::new();
    for t in targets {
        if t.role == Role::Endpoint {
            // The token endpoint's row is judged with the token fetch that carries the secret.
            let token_row = t.endpoint.as_ref().is_some_and(|e| e.kind == crate::report::EndpointKind::TokenEndpoint);
            if !(token_row && report.oauth.is_some()) {
                endpoint_findings(t, report.network.as_ref(), &mut out);
            }
            continue;
        }
        let Some(dns) = &t.dns else { continue };
        if t.role != Role::Broker && hosts_done.insert(t.host.as_str()) {
            dns_findings(t, dns, targets, known_records, report.network.as_ref(), &mut out);
        }
        // A public answer is the root cause of whatever fails after it: don't bury it in consequences.
        if dns.lookup.outcome == DnsOutcome::Answer && dns.answer_class == Some(AnswerClass::Public) {
            continue;
        }
        if explained.contains(&t.target) {
            continue;
        }
        if t.role == Role::Broker {
            broker_findings(t, &down_zones, &zone_addresses, known_records, domain, &mut out);
            continue;
        }
        tcp_findings(t, ingress, &mut out);
        tls::client_cert_findings(t, &report.settings, &mut out);
        tls_findings(t, &mut out);
        https_findings(t, &mut out);
        kafka_findings(t, &report.settings, &mut out);
    }
    parity_findings(report.parity.as_ref(), targets, &mut out);
    if let Some(t) = targets.iter().find(|t| t.role == Role::Bootstrap) {
        if let Some(v) = vantage {
            vantage_findings(t, v, &mut out);
        }
        if let Some(audit) = aws {
            aws_findings(t, targets, audit, vantage, report.network.as_ref(), &mut out);
            connector_findings(t, audit, &mut out);
        }
        if let Some(m) = &report.event_source_mapping {
            esm_findings(t, report, m, &mut out);
            if let Some(audit) = aws {
                esm_audit_findings(t, report, audit, m, &mut out);
            }
        }
        if let Some(secret) = &report.secret {
            secret_findings(t, secret, vantage, &mut out);
        }
    }
    access::access_findings(report, &mut out);
    auth::oauth_findings(report, &mut out);
    client::client_findings(report, &mut out);
    verification_findings(&report.settings, targets, &mut out);
    integrity::public_broker_findings(report, known_records, &mut out);
    input_findings(report, &mut out);
    invalid_port_findings(report, &mut out);
    cap_findings(report, &mut out);
    // No token from the token endpoint: that finding is the cause; "not verified" adds nothing.
    if report.oauth.as_ref().is_some_and(|o| o.outcome != crate::report::TokenOutcome::Ok) {
        out.retain(|f| f.code != FindingCode::KafkaAuthNotVerified);
    }
    blame::attach_explained(report, &mut out);
    blame::name_targets(report, &mut out);
    blame::verify_targets(report, &mut out);
    let out = one_per_report(out, FindingCode::KafkaNoCredentials);
    let mut out = group_repeats(out);
    // Last: whatever failed and no rule above explained gets a finding of its own.
    integrity::explain_failures(report, &mut out);
    blame::order(report, &mut out);
    out
}

/// A cause that is the run's, not a target's (no credentials given), said once: the first
/// finding of `code` stays and names the other targets it applies to.
fn one_per_report(out: Vec<Finding>, code: FindingCode) -> Vec<Finding> {
    let mut first: Option<usize> = None;
    let mut others = Vec::new();
    let mut kept = Vec::with_capacity(out.len());
    for f in out {
        if f.code != code {
            kept.push(f);
        } else if first.is_none() {
            first = Some(kept.len());
            kept.push(f);
        } else {
            others.push(f.target);
        }
    }
    if let (Some(i), false) = (first, others.is_empty()) {
        let shown: Vec<&str> = others.iter().take(8).map(String::as_str).collect();
        let more = others.len() - shown.len();
        let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
        kept[i].summary = format!("{} (the same for {}{tail})", kept[i].summary, shown.join(", "));
    }
    kept
}

/// Inputs the front end refused: one finding naming each field and why.
fn input_findings(report: &Report, out: &mut Vec<Finding>) {
    let refused = &report.settings.refused_inputs;
    let Some(t) = report.targets.iter().find(|t| t.role == Role::Bootstrap) else { return };
    if refused.is_empty() {
        return;
    }
    let fields: Vec<&str> = refused.iter().map(|r| r.field.as_str()).collect();
    let why: Vec<String> = refused.iter().map(|r| format!("{}: {}", r.field, r.reason)).collect();
    out.push(finding(
        FindingCode::InputRefused,
        t,
        Stage::Dns,
        format!("not used: {} ({})", fields.join(", "), why.join("; ")),
        "Whoever may invoke the function chooses the event, so the event cannot decide where the function's \
         credentials go. Give the function what it should trust in its own configuration \
         (KREACH_ALLOWED_RESOLVERS, KREACH_CA_PEM), or invoke it without credentials to diagnose with the \
         event's own resolvers and CA."
            .into(),
        Vec::new(),
    ));
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

/// A finding's own text, built by a small named constructor from its evidence (the model is
/// cargo-deny's `diags.rs`): the code, what was measured, what to change. [`Diag::on`] attaches it
/// to a target and stage with the code's own severity.
#[derive(Clone, Debug)]
pub(crate) struct Diag {
    code: FindingCode,
    summary: String,
    fix: String,
    addresses: Vec<String>,
    action: Option<FixAction>,
    resources: Vec<String>,
}

impl Diag {
    pub(crate) fn new(code: FindingCode, summary: impl Into<String>, fix: impl Into<String>) -> Self {
        Diag {
            code,
            summary: summary.into(),
            fix: fix.into(),
            addresses: Vec::new(),
            action: None,
            resources: Vec::new(),
        }
    }

    /// The fix as an action.
    pub(crate) fn action(mut self, action: FixAction) -> Self {
        self.action = Some(action);
        self
    }

    /// The addresses the finding is about.
    pub(crate) fn with_addresses(mut self, addresses: Vec<String>) -> Self {
        self.addresses = addresses;
        self
    }

    /// The AWS resources it blames (their recent changes are looked up).
    pub(crate) fn resources<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.resources = ids.into_iter().map(Into::into).filter(|s: &String| !s.is_empty()).collect();
        self
    }

    /// The finding on target `t`, stage `stage`.
    pub(crate) fn on(self, t: &TargetReport, stage: Stage) -> Finding {
        let mut f = finding(self.code, t, stage, self.summary, self.fix, self.addresses);
        f.action = self.action;
        f.resources = self.resources;
        f
    }
}

/// A finding with the code's own severity.
fn finding(
    code: FindingCode,
    t: &TargetReport,
    stage: Stage,
    summary: String,
    fix: String,
    addresses: Vec<String>,
) -> Finding {
    Finding {
        code,
        severity: code.severity(),
        target: t.target.clone(),
        stage,
        summary,
        fix,
        addresses,
        hop: code.hop(),
        cause: code.cause(),
        zone: None,
        explains: Vec::new(),
        certificate: None,
        action: None,
        resources: Vec::new(),
        changes: Vec::new(),
    }
}

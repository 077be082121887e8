//! The verdict's integrity: a failing cell, a failing zone, a failing client stage is always
//! explained by an error (or warning) finding naming that target. Where no specific rule fires, a
//! generic finding carries the cell's evidence, so nothing fails silently and a report can never
//! say PASS while its matrix says FAIL.
//!
//! Also here: brokers whose names resolve to public addresses (all or some), judged per zone.

use super::{finding, status};
use crate::report::findings::{FindingCode, Severity};
use crate::report::{
    AnswerClass, DnsOutcome, DnsRecord, Finding, FixAction, Hop, RecordTarget, Report, Role, Stage, StageResult,
    StageStatus, Status, TargetReport,
};
use std::collections::BTreeMap;

/// Whether `f` explains the failure of `t`: it is about that target, or names it among the
/// targets it explains (a zone's brokers, the names a public answer sent astray, a grouped
/// finding's brokers). Typed fields only: a finding's text never decides.
fn explains(f: &Finding, t: &TargetReport) -> bool {
    f.severity != Severity::Info && (f.target == t.target || f.explains.contains(&t.target))
}

/// The first failing cell of `t`, if any.
fn failing_cell(t: &TargetReport) -> Option<&StageResult> {
    t.stages.iter().find(|s| s.status == StageStatus::Fail)
}

/// Adds a generic finding for every failure no other finding explains: failing cells (the client
/// and AWS cells included), and failing zones none of whose brokers is explained.
pub(super) fn explain_failures(report: &Report, out: &mut Vec<Finding>) {
    let mut added = Vec::new();
    for t in &report.targets {
        let Some(cell) = failing_cell(t) else { continue };
        // The extras' cells live on the bootstrap row: an error on any of its stages, or one of the
        // extra's own stage, explains them.
        let explained = match cell.stage {
            Stage::Client => {
                out.iter().any(|f| f.severity == Severity::Error && (f.stage == Stage::Client || explains(f, t)))
            }
            Stage::Aws => out.iter().any(|f| f.severity != Severity::Info && f.stage == Stage::Aws),
            _ => out.iter().any(|f| explains(f, t)),
        };
        if !explained {
            added.push(unexplained(t, cell));
        }
    }
    for z in report.zones.iter().filter(|z| z.status == StageStatus::Fail) {
        let brokers: Vec<&TargetReport> = report
            .targets
            .iter()
            .filter(|t| t.broker.as_ref().and_then(|b| b.az_id.as_ref()) == Some(&z.az_id))
            .collect();
        let explained = brokers.iter().any(|t| out.iter().chain(&added).any(|f| explains(f, t)));
        if !explained {
            if let Some(t) = brokers.iter().find(|t| failing_cell(t).is_some()).or(brokers.first()) {
                let cell = failing_cell(t).cloned().unwrap_or_else(|| StageResult {
                    stage: Stage::Dns,
                    status: StageStatus::Fail,
                    elapsed_ms: None,
                    summary: format!("zone {} fails ({}/{} brokers)", z.az_id, z.passed, z.brokers.len()),
                });
                added.push(unexplained(t, &cell));
            }
        }
    }
    out.extend(added);
}

fn unexplained(t: &TargetReport, cell: &StageResult) -> Finding {
    let evidence: Vec<String> = t
        .addresses
        .iter()
        .filter_map(|a| {
            let err =
                a.tcp.as_ref().and_then(|x| x.error.clone()).or_else(|| a.tls.as_ref().and_then(|x| x.error.clone()));
            let err = err.or_else(|| a.kafka.as_ref().and_then(|x| x.error.clone()));
            err.map(|e| format!("{}: {e}", a.ip))
        })
        .take(4)
        .collect();
    let evidence = if evidence.is_empty() { String::new() } else { format!("; {}", evidence.join("; ")) };
    let mut f = finding(
        FindingCode::UnexplainedFailure,
        t,
        cell.stage,
        format!("{} {}: {}{evidence}", t.target, cell.stage.as_str().to_uppercase(), cell.summary),
        "This failure matches none of kreach's specific diagnoses: the evidence above is what was measured. \
         Work from the stage that failed (DNS: the records and the resolver; TCP: security groups, network \
         ACLs, routes; TLS: the certificate and the trust; Kafka: the listener and its settings), and report the \
         case to kreach so it gets a rule of its own."
            .into(),
        t.addresses.iter().map(|a| a.ip.clone()).take(16).collect(),
    );
    f.hop = super::blame::stage_hop(cell.stage);
    f
}

/// Brokers whose names resolve to public addresses while the bootstrap resolves privately: one
/// finding per zone (or for the brokers without a zone), naming the brokers and the record.
pub(super) fn public_broker_findings(report: &Report, known_records: &[DnsRecord], out: &mut Vec<Finding>) {
    let bootstrap_public = report.targets.iter().any(|t| {
        t.role == Role::Bootstrap && t.dns.as_ref().is_some_and(|d| d.answer_class == Some(AnswerClass::Public))
    });
    if bootstrap_public {
        // The bootstrap's own public answer is the root cause, named already.
        return;
    }
    let domain = report.network.as_ref().and_then(|n| n.domain.as_ref()).map(|d| d.name.clone());
    let mut by_zone: BTreeMap<Option<String>, Vec<&TargetReport>> = BTreeMap::new();
    for t in report.targets.iter().filter(|t| t.role == Role::Broker) {
        let Some(dns) = &t.dns else { continue };
        if dns.lookup.outcome == DnsOutcome::Answer && dns.lookup.addresses.iter().any(|a| !a.private) {
            by_zone.entry(t.broker.as_ref().and_then(|b| b.az_id.clone())).or_default().push(t);
        }
    }
    for (az, brokers) in by_zone {
        let Some(first) = brokers.first() else { continue };
        let all_public =
            brokers.iter().all(|t| t.dns.as_ref().is_some_and(|d| d.answer_class == Some(AnswerClass::Public)));
        let mut public: Vec<String> = brokers
            .iter()
            .flat_map(|t| {
                t.dns.iter().flat_map(|d| d.lookup.addresses.iter().filter(|a| !a.private).map(|a| a.ip.clone()))
            })
            .collect();
        public.sort();
        public.dedup();
        let last_name = first.dns.as_ref().and_then(|d| d.lookup.cname_chain.last()).map(|h| h.target.clone());
        let names: Vec<String> = brokers
            .iter()
            .map(|t| format!("broker {} ({})", t.broker.as_ref().map_or(-1, |b| b.node_id), t.host))
            .collect();
        let shown = names.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
        let more = if names.len() > 8 { format!(" and {} more", names.len() - 8) } else { String::new() };
        let place = az.as_deref().map(|az| format!(" in {az}")).unwrap_or_default();
        let via = last_name.map(|n| format!(" (the chain ends at {n})")).unwrap_or_default();
        let record = match (&az, &domain) {
            (Some(az), _) => known_records
                .iter()
                .find(|r| r.name.starts_with(&format!("*.{az}.")))
                .map(|r| format!("`{} {} {}`", r.name, r.record_type, r.value))
                .unwrap_or_else(|| match &domain {
                    Some(d) => format!("`*.{az}.{d}` CNAME <the endpoint's zonal DNS name in {az}>"),
                    None => format!("the zonal record for {az} pointing at the endpoint's zonal DNS name"),
                }),
            (None, Some(d)) => format!("`*.{d}` CNAME <the endpoint's regional DNS name>"),
            (None, None) => "the record covering these names, pointing at the VPC endpoint's DNS name".into(),
        };
        let (code, what) = if all_public {
            (FindingCode::DnsPublicAnswer, "public address(es)")
        } else {
            (FindingCode::DnsMixedAnswer, "public as well as private address(es)")
        };
        let mut f = finding(
            code,
            first,
            Stage::Dns,
            format!(
                "{} {shown}{more}{place} resolve{} to {what} {}{via} while the bootstrap resolves privately: clients \
                 fail on every partition led there",
                if names.len() == 1 { "the advertised" } else { "the advertised brokers" },
                if names.len() == 1 { "s" } else { "" },
                public.join(", ")
            ),
            format!(
                "In the private hosted zone, make {record}: these names leave the private zone for a public \
                 answer now. Name the zonal record by AZ ID, not AZ name."
            ),
            public,
        );
        // A zonal record that leads out of the private path blames that record; without a zone,
        // the wildcard.
        f.hop = Hop::Record;
        f.zone = az.clone();
        f.explains = brokers.iter().map(|t| t.target.clone()).collect();
        f.action = match (&az, &domain) {
            (Some(az), Some(d)) => Some(FixAction::SetRecord {
                name: format!("*.{az}.{d}"),
                target: RecordTarget::EndpointZonal { az_id: az.clone(), name: None },
            }),
            (None, Some(d)) => Some(FixAction::SetRecord {
                name: format!("*.{d}"),
                target: RecordTarget::EndpointRegional { name: None },
            }),
            _ => None,
        };
        out.push(f);
    }
}

/// Whether the report's verdict agrees with its matrix: every failing cell and zone explained by a
/// non-info finding, and the status the findings give. (Checked in debug builds where the report
/// is assembled; the tests run it over every lab fault, alone and in pairs.)
pub fn consistent(report: &Report) -> Result<(), String> {
    for t in &report.targets {
        if let Some(cell) = failing_cell(t) {
            let ok = match cell.stage {
                Stage::Client => report.findings.iter().any(|f| f.severity == Severity::Error),
                Stage::Aws => report.findings.iter().any(|f| f.severity != Severity::Info && f.stage == Stage::Aws),
                _ => report.findings.iter().any(|f| explains(f, t)),
            };
            if !ok {
                return Err(format!(
                    "{} {} fails ({}) and no finding explains it",
                    t.target,
                    cell.stage.as_str(),
                    cell.summary
                ));
            }
        }
    }
    for z in report.zones.iter().filter(|z| z.status == StageStatus::Fail) {
        let mut brokers =
            report.targets.iter().filter(|t| t.broker.as_ref().and_then(|b| b.az_id.as_ref()) == Some(&z.az_id));
        if !brokers.any(|t| report.findings.iter().any(|f| explains(f, t))) {
            return Err(format!("zone {} fails and no finding names one of its brokers", z.az_id));
        }
    }
    let failing = report.targets.iter().any(|t| failing_cell(t).is_some())
        || report.zones.iter().any(|z| z.status == StageStatus::Fail);
    if failing && report.status == Status::Pass {
        return Err("the matrix fails and the status is pass".into());
    }
    if report.status != status(&report.findings) {
        return Err(format!("status {:?} does not follow from the findings", report.status));
    }
    Ok(())
}

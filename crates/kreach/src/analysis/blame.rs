//! Typed blame across findings: which targets a finding explains besides its own, and the order
//! the causes are told in (along the path: the first failing hop first).

use crate::report::findings::Severity;
use crate::report::{AnswerClass, Cause, DnsOutcome, Finding, FixAction, Hop, RecordTarget, Report, Role, Stage};

/// The hop a stage's failure blames when nothing more specific is known.
pub(super) fn stage_hop(stage: Stage) -> Hop {
    match stage {
        Stage::Dns => Hop::Record,
        Stage::Tcp => Hop::Network,
        Stage::Tls => Hop::Certificate,
        Stage::Https | Stage::Kafka => Hop::Listener,
        Stage::Client => Hop::Client,
        Stage::Aws => Hop::Aws,
    }
}

/// Fills what each finding explains beyond its own target, from the evidence:
/// - a DNS finding about a name explains every target of that name (the Kafka and HTTPS rows);
/// - a public answer for the cluster's name (the private zone not in effect) explains every
///   target whose name resolved publicly too: one cause, not one error per broker.
pub(super) fn attach_explained(report: &Report, out: &mut [Finding]) {
    let host_of = |target: &str| report.targets.iter().find(|t| t.target == target).map(|t| t.host.as_str());
    for f in out.iter_mut().filter(|f| f.severity != Severity::Info) {
        let Some(host) = host_of(&f.target) else { continue };
        let mut add = |target: &str| {
            if target != f.target && !f.explains.iter().any(|e| e == target) {
                f.explains.push(target.to_string());
            }
        };
        if f.stage == Stage::Dns && matches!(f.hop, Hop::Resolver | Hop::Zone | Hop::Record | Hop::PublicDns) {
            for t in report.targets.iter().filter(|t| t.host == host) {
                add(&t.target);
            }
        }
        if f.hop == Hop::Zone && f.cause == Cause::PublicAnswer {
            let public = |t: &&crate::report::TargetReport| {
                t.dns.as_ref().is_some_and(|d| d.answer_class == Some(AnswerClass::Public))
            };
            for t in report.targets.iter().filter(public) {
                add(&t.target);
            }
        }
    }
}

/// Orders the findings: errors first, then warnings, then facts; within each, along the path
/// (the hop that fails first leads: it is the cause the others follow from), and on one hop the
/// bootstrap's before the brokers' (the brokers are reached after it).
pub(super) fn order(report: &Report, out: &mut [Finding]) {
    let role = |target: &str| {
        report.targets.iter().find(|t| t.target == target).map_or(9, |t| match t.role {
            Role::Bootstrap => 0,
            Role::Https => 1,
            Role::Broker => 2,
            _ => 3,
        })
    };
    out.sort_by_cached_key(|f| (f.severity, f.hop, role(&f.target)));
}

/// The most names a run resolves to check the records its fixes advise.
pub(crate) const MAX_CHECKED_NAMES: usize = 8;

/// The name a record's target stands for, when known.
fn target_name(target: &RecordTarget) -> Option<&str> {
    match target {
        RecordTarget::Name { name } => Some(name),
        RecordTarget::EndpointRegional { name } | RecordTarget::EndpointZonal { name, .. } => name.as_deref(),
    }
}

/// Names the records to create: where the AWS audit read the endpoint's record for that name, its
/// target is the endpoint's own DNS name as the audit read it.
pub(super) fn name_targets(report: &Report, out: &mut [Finding]) {
    let records = report.aws.as_ref().map(|a| a.expected_records.as_slice()).unwrap_or_default();
    for f in out.iter_mut() {
        let Some(FixAction::SetRecord { name, target }) = &mut f.action else { continue };
        let Some(r) = records.iter().find(|r| r.name.trim_end_matches('.').eq_ignore_ascii_case(name)) else {
            continue;
        };
        let value = r.value.trim_end_matches('.').to_string();
        match target {
            RecordTarget::EndpointRegional { name } | RecordTarget::EndpointZonal { name, .. } if name.is_none() => {
                *name = Some(value)
            }
            _ => {}
        }
    }
}

/// The names the fixes would point records at that were not resolved yet: what the run resolves
/// before it advises them (only when a fix names one).
pub(crate) fn names_to_check(report: &Report, findings: &[Finding]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for f in findings.iter().filter(|f| f.severity != crate::report::Severity::Info) {
        let Some(FixAction::SetRecord { target, .. }) = &f.action else { continue };
        let Some(n) = target_name(target) else { continue };
        let n = n.trim_end_matches('.').to_ascii_lowercase();
        if !names.contains(&n) && !report.checked_names.iter().any(|c| c.name.eq_ignore_ascii_case(&n)) {
            names.push(n);
        }
    }
    names.truncate(MAX_CHECKED_NAMES);
    names
}

/// A fix never advises a record whose target did not resolve when kreach checked it: the name is
/// dropped from the action (what must be there stays: the endpoint's name) and the fix says so.
pub(super) fn verify_targets(report: &Report, out: &mut [Finding]) {
    for f in out.iter_mut() {
        let Some(FixAction::SetRecord { target, .. }) = &mut f.action else { continue };
        let Some(name) = target_name(target).map(str::to_string) else { continue };
        let Some(check) = report.checked_names.iter().find(|c| c.name.eq_ignore_ascii_case(name.trim_end_matches('.')))
        else {
            continue;
        };
        if check.outcome == DnsOutcome::Answer {
            continue;
        }
        *target = match target {
            RecordTarget::EndpointZonal { az_id, .. } => {
                RecordTarget::EndpointZonal { az_id: az_id.clone(), name: None }
            }
            _ => RecordTarget::EndpointRegional { name: None },
        };
        // The text no longer names it as the target (display only: the action above is the verdict).
        f.fix = f.fix.replace(name.as_str(), "<the endpoint's current DNS name>");
        f.fix.push_str(&format!(
            " Before advising `{name}`, kreach resolved it: {} from here. Do not point a record at it: take the \
             endpoint's current DNS name (aws ec2 describe-vpc-endpoints --vpc-endpoint-ids <id> --query \
             'VpcEndpoints[].DnsEntries').",
            match check.outcome {
                DnsOutcome::Nxdomain => "it does not exist (NXDOMAIN)",
                DnsOutcome::NoData => "it has no address",
                DnsOutcome::Unreachable => "the resolver did not answer",
                _ => "the resolver failed",
            }
        ));
    }
}

//! Typed blame across findings: which targets a finding explains besides its own, and the order
//! the causes are told in (along the path: the first failing hop first).

use crate::report::findings::Severity;
use crate::report::{AnswerClass, Cause, Finding, Hop, Report, Role, Stage};

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

//! The recent changes of the blamed AWS resources, joined to the findings that blame them: the
//! resources of the findings that fail the path (errors), looked up once, within what is left of
//! the deadline.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::report::{ChangeAudit, Report, Severity};

/// The lookup a front end gives `Diagnosis::changes`: the resources, the time left.
pub(crate) type ChangesStage<'a> =
    Box<dyn FnOnce(Vec<String>, Duration) -> Pin<Box<dyn Future<Output = ChangeAudit> + Send + 'a>> + Send + 'a>;

/// Most resources looked up in one run (CloudTrail answers two lookups a second).
pub const MAX_CHANGE_RESOURCES: usize = 8;

/// Looks up the changes of the resources the error findings blame, and joins them: the report's
/// `changes`, and each finding's own `changes` for the resources it blames.
pub(crate) async fn join(report: &mut Report, lookup: ChangesStage<'_>, deadline: Instant) {
    let mut resources: Vec<String> = Vec::new();
    for f in report.findings.iter().filter(|f| f.severity == Severity::Error) {
        for r in &f.resources {
            if !resources.contains(r) && resources.len() < MAX_CHANGE_RESOURCES {
                resources.push(r.clone());
            }
        }
    }
    if resources.is_empty() {
        return;
    }
    let budget = deadline.saturating_duration_since(Instant::now());
    let changes = lookup(resources, budget).await;
    for f in &mut report.findings {
        let mut events: Vec<_> = changes
            .resources
            .iter()
            .filter(|r| f.resources.contains(&r.resource))
            .flat_map(|r| r.events.iter().cloned())
            .collect();
        events.sort_by(|a, b| b.time.cmp(&a.time));
        f.changes = events;
    }
    report.changes = Some(changes);
}

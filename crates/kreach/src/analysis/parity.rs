//! The client-parity finding: kreach's own path works, librdkafka with the user's configuration does not.

use super::finding;
use crate::report::findings::FindingCode;
use crate::report::{Finding, ParityOutcome, ParityReport, Role, Stage, StageStatus, TargetReport};

pub(super) fn parity_findings(parity: Option<&ParityReport>, targets: &[TargetReport], out: &mut Vec<Finding>) {
    let Some(p) = parity.filter(|p| p.outcome == ParityOutcome::Failed) else { return };
    // Only news when kreach's own path works: otherwise the other findings say why already.
    let own_path = targets
        .iter()
        .filter(|t| t.role == Role::Bootstrap)
        .find(|t| t.stage(Stage::Kafka).is_some_and(|s| s.status == StageStatus::Pass));
    let Some(t) = own_path else { return };
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

//! `kreach merge`: reports from several vantage points (one Lambda per AZ, several EC2
//! instances) as one matrix of vantage × target, and what differs between them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::report::{Report, Role, StageStatus, Status};

/// Several reports side by side.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Merged {
    /// One label per report, in the order given.
    pub vantages: Vec<String>,
    /// Each report's overall status, in the same order.
    pub statuses: Vec<Status>,
    /// One row per target seen in any report.
    pub rows: Vec<MergedRow>,
    /// Targets whose verdict differs between vantage points, in words.
    pub differences: Vec<String>,
    /// Error and warning findings raised from some vantage points but not others, in words
    /// (e.g. a Lambda function not attached to the VPC, a security group admitting one probe only).
    pub finding_differences: Vec<String>,
}

/// One target across vantage points.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct MergedRow {
    /// `host:port` (as the first report that has it names it).
    pub target: String,
    /// One cell per vantage point; `None` where that report lacks the target.
    pub cells: Vec<Option<MergedCell>>,
}

/// A target's verdict from one vantage point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MergedCell {
    /// The worst stage status.
    pub status: StageStatus,
    /// The first failing (or warning) stage and its summary, when not a pass.
    pub detail: Option<String>,
}

fn rank(s: StageStatus) -> u8 {
    match s {
        StageStatus::Fail => 3,
        StageStatus::Warn => 2,
        StageStatus::Skipped => 1,
        StageStatus::Pass | StageStatus::NotApplicable => 0,
    }
}

/// A target's verdict from one report: the worst stage that was measured. A stage that did not
/// run (an AWS audit without credentials, a stage after a failure) never hides one that did; the
/// cell is "not checked" only when nothing was measured at all.
fn cell(t: &crate::report::TargetReport) -> Option<MergedCell> {
    let measured = t.stages.iter().filter(|s| s.status != StageStatus::Skipped);
    let worst = match measured.max_by_key(|s| rank(s.status)) {
        Some(w) => w,
        None => t.stages.first()?,
    };
    let status = if rank(worst.status) == 0 { StageStatus::Pass } else { worst.status };
    let detail =
        (status != StageStatus::Pass).then(|| format!("{} {}", worst.stage.as_str().to_uppercase(), worst.summary));
    Some(MergedCell { status, detail })
}

/// One label per report, each different: the vantage's own label (instance, function, "this
/// machine (host)"), else the fallback (the file name); labels that two reports share get the
/// fallback in front, then a number.
fn labels(reports: &[(String, Report)]) -> Vec<String> {
    let own: Vec<String> = reports
        .iter()
        .map(|(fallback, r)| r.vantage.as_ref().map(|v| v.label.clone()).unwrap_or_else(|| fallback.clone()))
        .collect();
    let count = |list: &[String], l: &String| list.iter().filter(|x| *x == l).count();
    let with_file: Vec<String> = own
        .iter()
        .zip(reports)
        .map(
            |(l, (fallback, _))| {
                if count(&own, l) > 1 && l != fallback { format!("{fallback}: {l}") } else { l.clone() }
            },
        )
        .collect();
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    with_file
        .iter()
        .map(|l| {
            if count(&with_file, l) == 1 {
                return l.clone();
            }
            let n = seen.entry(l.as_str()).or_insert(0);
            *n += 1;
            format!("{l} #{n}")
        })
        .collect()
}

/// Rows are matched by role and `host:port`: the same cluster seen from elsewhere has the same
/// names and ports; the same name on another port is another row (each shows its own port).
fn key(t: &crate::report::TargetReport) -> String {
    let role = match t.role {
        Role::Bootstrap => "bootstrap",
        Role::Https => "https",
        Role::Broker => "broker",
        Role::Endpoint => return format!("endpoint {}", t.target),
    };
    format!("{role} {}:{}", t.host, t.port)
}

/// Merges `reports`, each with the label to use when it carries no vantage.
pub fn merge(reports: &[(String, Report)]) -> Merged {
    let vantages = labels(reports);
    // One index per report (key → its first target), one ordered list of keys: linear in the
    // number of targets, however many there are.
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let index: Vec<std::collections::HashMap<String, &crate::report::TargetReport>> = reports
        .iter()
        .map(|(_, r)| {
            let mut by_key = std::collections::HashMap::with_capacity(r.targets.len());
            for t in &r.targets {
                let k = key(t);
                if seen.insert(k.clone()) {
                    keys.push((k.clone(), t.target.clone()));
                }
                by_key.entry(k).or_insert(t);
            }
            by_key
        })
        .collect();
    let mut rows = Vec::new();
    let mut differences = Vec::new();
    for (k, target) in keys {
        let cells: Vec<Option<MergedCell>> = index.iter().map(|by_key| cell(by_key.get(&k)?)).collect();
        let statuses: Vec<Option<StageStatus>> = cells.iter().map(|c| c.as_ref().map(|c| c.status)).collect();
        if statuses.windows(2).any(|w| w[0] != w[1]) {
            let parts: Vec<String> = cells
                .iter()
                .zip(&vantages)
                .map(|(c, v)| match c {
                    None => format!("not seen from {v}"),
                    Some(MergedCell { status: StageStatus::Pass, .. }) => format!("works from {v}"),
                    Some(c) => format!("{} from {v} ({})", word(c.status), c.detail.as_deref().unwrap_or("")),
                })
                .collect();
            differences.push(format!("{target}: {}", parts.join("; ")));
        }
        rows.push(MergedRow { target, cells });
    }
    let finding_differences = finding_differences(reports, &vantages);
    Merged {
        vantages,
        statuses: reports.iter().map(|(_, r)| r.status).collect(),
        rows,
        differences,
        finding_differences,
    }
}

/// Codes of error and warning findings that some reports have and others do not.
fn finding_differences(reports: &[(String, Report)], vantages: &[String]) -> Vec<String> {
    let codes_of = |r: &Report| -> Vec<&'static str> {
        r.findings.iter().filter(|f| f.severity != crate::Severity::Info).map(|f| f.code.as_str()).collect()
    };
    let per_report: Vec<std::collections::HashSet<&'static str>> =
        reports.iter().map(|(_, r)| codes_of(r).into_iter().collect()).collect();
    // First-seen order over the reports' findings (codes are a closed set: at most a few hundred).
    let mut seen: Vec<&'static str> = Vec::new();
    for code in reports.iter().flat_map(|(_, r)| codes_of(r)) {
        if !seen.contains(&code) {
            seen.push(code);
        }
    }
    let mut out = Vec::new();
    for code in seen {
        let (with, without): (Vec<usize>, Vec<usize>) =
            (0..reports.len()).partition(|&i| per_report[i].contains(&code));
        if without.is_empty() {
            continue;
        }
        let names = |ix: &[usize]| ix.iter().map(|&i| vantages[i].as_str()).collect::<Vec<_>>().join(", ");
        out.push(format!("{code}: from {}; not from {}", names(&with), names(&without)));
    }
    out
}

fn word(s: StageStatus) -> &'static str {
    match s {
        StageStatus::Pass | StageStatus::NotApplicable => "works",
        StageStatus::Warn => "warns",
        StageStatus::Fail => "fails",
        StageStatus::Skipped => "not checked",
    }
}

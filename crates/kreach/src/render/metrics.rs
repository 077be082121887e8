//! The report as metrics: CloudWatch embedded metric format (EMF) log lines and the Prometheus
//! text exposition format. Both carry the same figures, named in docs/metrics.md (a contract:
//! names and dimensions never change, new ones are added):
//!
//! - the run: success (no error finding), status, duration;
//! - per target class (bootstrap, https, broker, endpoint), zone and stage: success and latency;
//! - per zone the brokers are in: success;
//! - per finding code: how many findings the run raised.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::{Report, Role, Stage, StageStatus, Status};

/// The EMF namespace every line is published in.
pub const EMF_NAMESPACE: &str = "Kreach";
/// The zone label of a target that is not a zone's broker (the bootstrap, the HTTPS port, an endpoint).
pub const ANY_ZONE: &str = "any";
/// Most (class, zone, stage) groups written: a cluster of hundreds of brokers has at most a few
/// zones, so this never cuts a real report, only a hostile one.
const MAX_GROUPS: usize = 256;
/// Most finding codes written (there are fewer codes than this).
const MAX_CODES: usize = 128;
/// Longest dimension or label value kept (CloudWatch allows 1,024 characters).
const MAX_VALUE: usize = 250;
/// Most zone values one report writes (an AWS region has at most six zones): a cluster cannot
/// create new series without end by advertising new names.
const MAX_ZONES: usize = 12;
/// The zone value every zone beyond the rule is folded into: a name not in the AZ-ID shape of
/// the cluster's region, or past the twelfth zone of one report.
pub const OTHER_ZONE: &str = "other";

/// One (target class, zone, stage): whether every target in it passed, and the slowest time.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    class: &'static str,
    zone: String,
    stage: &'static str,
    success: bool,
    latency_ms: Option<u64>,
}

/// What both formats say, read once from the report.
#[derive(Debug)]
struct Figures {
    cluster: String,
    vantage: String,
    success: bool,
    status: &'static str,
    duration_ms: u64,
    groups: Vec<Group>,
    zones: Vec<(String, bool)>,
    findings: Vec<(&'static str, &'static str, usize)>,
}

fn class(role: Role) -> &'static str {
    match role {
        Role::Bootstrap => "bootstrap",
        Role::Https => "https",
        Role::Broker => "broker",
        Role::Endpoint => "endpoint",
    }
}

/// A value fit for a dimension or label: no control characters, bounded, never empty.
fn value(text: &str) -> String {
    let cleaned: String = text.chars().filter(|c| !c.is_control()).take(MAX_VALUE).collect();
    if cleaned.is_empty() { "unknown".into() } else { cleaned }
}

/// The zone values a report may write: AZ IDs (`usw2-az1`) of the cluster's region (from its
/// names, else the prefix most of its brokers carry), at most [`MAX_ZONES`]; every other value
/// becomes [`OTHER_ZONE`].
struct ZoneLabels {
    prefix: Option<String>,
    kept: std::cell::RefCell<Vec<String>>,
}

impl ZoneLabels {
    fn for_report(report: &Report, cluster: &str) -> Self {
        let named = crate::analysis::names::region_of(cluster).and_then(|r| crate::analysis::names::az_prefix(&r));
        let prefix = named.or_else(|| {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for z in &report.zones {
                if let Some((p, _)) = z.az_id.split_once("-az") {
                    *counts.entry(p.to_string()).or_default() += 1;
                }
            }
            counts.into_iter().max_by_key(|(_, n)| *n).map(|(p, _)| p)
        });
        ZoneLabels { prefix, kept: Default::default() }
    }

    fn label(&self, zone: &str) -> String {
        let Some(prefix) = &self.prefix else { return OTHER_ZONE.into() };
        let shaped = zone
            .strip_prefix(prefix.as_str())
            .and_then(|r| r.strip_prefix("-az"))
            .is_some_and(|n| (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()));
        if !shaped {
            return OTHER_ZONE.into();
        }
        let mut kept = self.kept.borrow_mut();
        if kept.iter().any(|k| k == zone) {
            return zone.to_string();
        }
        if kept.len() >= MAX_ZONES {
            return OTHER_ZONE.into();
        }
        kept.push(zone.to_string());
        zone.to_string()
    }
}

fn figures(report: &Report, vantage: Option<&str>) -> Figures {
    let cluster = report
        .targets
        .iter()
        .find(|t| t.role == Role::Bootstrap)
        .or(report.targets.first())
        .map(|t| t.host.as_str())
        .unwrap_or("");
    // The vantage label: what the caller knows (a merge's file, a fleet's function), else the
    // report's own claim.
    let vantage = vantage.unwrap_or_else(|| report.vantage.as_ref().map(|v| v.label.as_str()).unwrap_or("local"));
    let zone_labels = ZoneLabels::for_report(report, cluster);
    let mut groups: BTreeMap<(&'static str, String, Stage), Group> = BTreeMap::new();
    for t in &report.targets {
        let zone = match (t.role, t.broker.as_ref().and_then(|b| b.az_id.as_deref())) {
            (Role::Broker, Some(az)) => zone_labels.label(az),
            _ => ANY_ZONE.to_string(),
        };
        for s in t.stages.iter().filter(|s| !matches!(s.status, StageStatus::NotApplicable | StageStatus::Skipped)) {
            let key = (class(t.role), zone.clone(), s.stage);
            if groups.len() >= MAX_GROUPS && !groups.contains_key(&key) {
                continue;
            }
            let passed = matches!(s.status, StageStatus::Pass | StageStatus::Warn);
            let g = groups.entry(key).or_insert_with(|| Group {
                class: class(t.role),
                zone: zone.clone(),
                stage: s.stage.as_str(),
                success: true,
                latency_ms: None,
            });
            g.success &= passed;
            g.latency_ms = match (g.latency_ms, s.elapsed_ms) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
    }
    // Zones folded into one value pass only when every one of them passes.
    let mut zones: Vec<(String, bool)> = Vec::new();
    for z in report.zones.iter().take(MAX_GROUPS) {
        let (label, ok) = (zone_labels.label(&z.az_id), matches!(z.status, StageStatus::Pass | StageStatus::Warn));
        match zones.iter_mut().find(|(l, _)| *l == label) {
            Some((_, passed)) => *passed &= ok,
            None => zones.push((label, ok)),
        }
    }
    let mut counts: BTreeMap<&'static str, (&'static str, usize)> = BTreeMap::new();
    for f in &report.findings {
        counts.entry(f.code.as_str()).or_insert((f.severity.as_str(), 0)).1 += 1;
    }
    Figures {
        cluster: value(cluster),
        vantage: value(vantage),
        success: report.status != Status::Fail,
        status: report.status.as_label(),
        duration_ms: report.elapsed_ms,
        groups: groups.into_values().collect(),
        zones,
        findings: counts.into_iter().take(MAX_CODES).map(|(code, (sev, n))| (code, sev, n)).collect(),
    }
}

/// One EMF document: the directive (`dimensions`, `metrics` as name and unit) and the members.
fn emf_line(
    timestamp_ms: u64,
    dimensions: &[&[&str]],
    metrics: &[(&str, &str)],
    members: serde_json::Map<String, serde_json::Value>,
) -> String {
    let directive = serde_json::json!({
        "Namespace": EMF_NAMESPACE,
        "Dimensions": dimensions,
        "Metrics": metrics.iter().map(|(name, unit)| serde_json::json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
    });
    let mut root = members;
    root.insert("_aws".into(), serde_json::json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": [directive]}));
    serde_json::Value::Object(root).to_string()
}

/// The report as CloudWatch embedded metric format lines (one JSON document per line), stamped
/// `timestamp_ms` (milliseconds since the epoch). On Lambda, printing them is publishing them.
pub fn emf(report: &Report, timestamp_ms: u64) -> String {
    emf_as(report, None, timestamp_ms)
}

/// [`emf`] with the `Vantage` dimension set by the caller (a merge's file, a fleet's function)
/// instead of the report's own claim.
pub fn emf_as(report: &Report, vantage: Option<&str>, timestamp_ms: u64) -> String {
    let f = figures(report, vantage);
    let base = |extra: &[(&str, serde_json::Value)]| {
        let mut m = serde_json::Map::new();
        m.insert("Cluster".into(), f.cluster.clone().into());
        m.insert("Vantage".into(), f.vantage.clone().into());
        for (k, v) in extra {
            m.insert((*k).into(), v.clone());
        }
        m
    };
    let mut out = String::new();
    let errors = report.findings.iter().filter(|x| x.severity == crate::Severity::Error).count();
    let warnings = report.findings.iter().filter(|x| x.severity == crate::Severity::Warning).count();
    out.push_str(&emf_line(
        timestamp_ms,
        &[&["Cluster"], &["Cluster", "Vantage"]],
        &[
            ("CheckSuccess", "Count"),
            ("CheckDuration", "Milliseconds"),
            ("ErrorFindings", "Count"),
            ("WarningFindings", "Count"),
        ],
        base(&[
            ("CheckSuccess", u8::from(f.success).into()),
            ("CheckDuration", f.duration_ms.into()),
            ("ErrorFindings", errors.into()),
            ("WarningFindings", warnings.into()),
            ("Status", f.status.into()),
        ]),
    ));
    out.push('\n');
    for g in &f.groups {
        let mut metrics = vec![("StageSuccess", "Count")];
        let mut members = vec![
            ("TargetClass", g.class.into()),
            ("Zone", g.zone.clone().into()),
            ("Stage", g.stage.into()),
            ("StageSuccess", u8::from(g.success).into()),
        ];
        if let Some(ms) = g.latency_ms {
            metrics.push(("StageLatency", "Milliseconds"));
            members.push(("StageLatency", ms.into()));
        }
        out.push_str(&emf_line(
            timestamp_ms,
            &[&["Cluster", "TargetClass", "Zone", "Stage"], &["Cluster", "Vantage", "TargetClass", "Zone", "Stage"]],
            &metrics,
            base(&members),
        ));
        out.push('\n');
    }
    for (zone, ok) in &f.zones {
        out.push_str(&emf_line(
            timestamp_ms,
            &[&["Cluster", "Zone"], &["Cluster", "Vantage", "Zone"]],
            &[("ZoneSuccess", "Count")],
            base(&[("Zone", zone.clone().into()), ("ZoneSuccess", u8::from(*ok).into())]),
        ));
        out.push('\n');
    }
    for (code, severity, n) in &f.findings {
        out.push_str(&emf_line(
            timestamp_ms,
            &[&["Cluster", "Code"], &["Cluster", "Vantage", "Code"]],
            &[("Findings", "Count")],
            base(&[("Code", (*code).into()), ("Severity", (*severity).into()), ("Findings", (*n).into())]),
        ));
        out.push('\n');
    }
    out
}

/// A label value in the exposition format: backslash, double quote and line feed escaped.
fn label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The report in the Prometheus text exposition format (version 0.0.4): for the node exporter's
/// textfile collector, or `kreach serve`'s `/probe`.
pub fn prometheus(report: &Report) -> String {
    let f = figures(report, None);
    exposition(&[f])
}

/// Several reports (a merge's files, a fleet's functions) as one exposition: each family once, a
/// sample per report. Each report's `vantage` label is the name given beside it, made unique
/// (a second `x` becomes `x#2`): two reports can never write the same series, and a report
/// cannot claim another's vantage.
pub fn prometheus_many(reports: &[(&str, &Report)]) -> String {
    let labels = unique_labels(reports.iter().map(|(l, _)| *l));
    let all: Vec<Figures> = reports.iter().zip(&labels).map(|((_, r), l)| figures(r, Some(l))).collect();
    exposition(&all)
}

/// Names made unique in order: the second `x` becomes `x#2`, the third `x#3`.
pub fn unique_labels<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut out = Vec::new();
    for name in names {
        let base = value(name);
        let mut label = base.clone();
        let mut n = 1;
        while !seen.insert(label.clone()) {
            n += 1;
            label = format!("{base}#{n}");
        }
        out.push(label);
    }
    out
}

fn exposition(all: &[Figures]) -> String {
    let who = |f: &Figures| format!("cluster=\"{}\",vantage=\"{}\"", label(&f.cluster), label(&f.vantage));
    let group_labels = |f: &Figures, g: &Group| {
        format!("{},target_class=\"{}\",zone=\"{}\",stage=\"{}\"", who(f), g.class, label(&g.zone), g.stage)
    };
    let seconds = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let mut out = String::new();
    let mut family = |name: &str, help: &str, samples: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, v) in samples {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    };
    family(
        "kreach_check_success",
        "Whether the check raised no error finding (1) or did (0).",
        all.iter().map(|f| (who(f), u8::from(f.success).to_string())).collect(),
    );
    family(
        "kreach_check_status",
        "The check's status: 1 for the one it ended in (pass, warn or fail), 0 for the others.",
        all.iter()
            .flat_map(|f| {
                ["pass", "warn", "fail"]
                    .iter()
                    .map(move |s| (format!("{},status=\"{s}\"", who(f)), u8::from(*s == f.status).to_string()))
            })
            .collect(),
    );
    family(
        "kreach_check_duration_seconds",
        "How long the check took.",
        all.iter().map(|f| (who(f), seconds(f.duration_ms))).collect(),
    );
    family(
        "kreach_stage_success",
        "Whether every target of the class in the zone passed the stage.",
        all.iter()
            .flat_map(|f| f.groups.iter().map(move |g| (group_labels(f, g), u8::from(g.success).to_string())))
            .collect(),
    );
    family(
        "kreach_stage_duration_seconds",
        "The slowest time a target of the class in the zone took in the stage.",
        all.iter()
            .flat_map(|f| f.groups.iter().filter_map(move |g| g.latency_ms.map(|ms| (group_labels(f, g), seconds(ms)))))
            .collect(),
    );
    family(
        "kreach_zone_success",
        "Whether every broker of the zone passed.",
        all.iter()
            .flat_map(|f| {
                f.zones
                    .iter()
                    .map(move |(z, ok)| (format!("{},zone=\"{}\"", who(f), label(z)), u8::from(*ok).to_string()))
            })
            .collect(),
    );
    family(
        "kreach_findings",
        "How many findings of the code the check raised.",
        all.iter()
            .flat_map(|f| {
                f.findings.iter().map(move |(code, sev, n)| {
                    (format!("{},code=\"{code}\",severity=\"{sev}\"", who(f)), n.to_string())
                })
            })
            .collect(),
    );
    out
}

#[cfg(test)]
mod tests {
    /// Label values keep the exposition format's three escapes and nothing a peer could use to
    /// start a new sample; dimension values lose control characters, are bounded and never empty.
    #[test]
    fn label_and_dimension_values_are_inert() {
        assert_eq!(super::label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let hostile = super::value("x\n} 1\nkreach_check_success{cluster=\"evil\"} 1");
        assert!(!hostile.contains('\n'), "{hostile}");
        assert_eq!(super::value("\u{7}"), "unknown");
        assert_eq!(super::value(&"a".repeat(5000)).chars().count(), super::MAX_VALUE);
    }
}

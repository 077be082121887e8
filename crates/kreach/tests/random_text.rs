//! Rewording a message cannot change a verdict. Reports from the lab (real DNS, TLS and Kafka on
//! loopback) have every text rewritten to random words: the evidence's error texts and stage
//! summaries (and the AWS audit's messages, where there is one) before the findings are drawn
//! again, and every finding's summary and fix before the verdict's integrity, merge, metrics and
//! the HTML path read the report. Every verdict, zone, cell and metric stays the same.

use kreach::report::{Cause, CertificateRef, FixAction, Hop};
use kreach::{CheckOptions, Finding, FindingCode, Report, Severity, Stage};
use kreach_lab::{Fault, Lab, Patch};

/// Words from a seeded generator: the same run, the same words; nothing a rule could match.
struct Words(u64);

impl Words {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn text(&mut self) -> String {
        let n = 3 + self.next() % 9;
        (0..n)
            .map(|_| {
                let len = 2 + self.next() % 8;
                (0..len).map(|_| (b'a' + (self.next() % 26) as u8) as char).collect::<String>()
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn some(&mut self, s: &mut Option<String>) {
        if s.is_some() {
            *s = Some(self.text());
        }
    }
}

/// Every text of the evidence a finding could be drawn from, rewritten.
fn scramble_evidence(report: &Report, w: &mut Words) -> Report {
    let mut r = report.clone();
    for t in &mut r.targets {
        for s in &mut t.stages {
            s.summary = w.text();
        }
        if let Some(d) = &mut t.dns {
            w.some(&mut d.lookup.error);
            if let Some(p) = &mut d.public {
                w.some(&mut p.error);
            }
        }
        for a in &mut t.addresses {
            if let Some(x) = &mut a.tcp {
                w.some(&mut x.error);
            }
            if let Some(x) = &mut a.tls {
                w.some(&mut x.error);
            }
            if let Some(x) = &mut a.https {
                w.some(&mut x.error);
            }
            if let Some(x) = &mut a.kafka {
                w.some(&mut x.error);
                w.some(&mut x.skipped);
            }
            w.some(&mut a.not_waited_for);
        }
    }
    if let Some(audit) = &mut r.aws {
        w.some(&mut audit.unavailable);
        for e in &mut audit.errors {
            *e = w.text();
        }
        for d in &mut audit.denied {
            d.message = w.text();
        }
    }
    r
}

/// Every finding's words rewritten.
fn scramble_findings(report: &Report, w: &mut Words) -> Report {
    let mut r = report.clone();
    for f in &mut r.findings {
        f.summary = w.text();
        f.fix = w.text();
    }
    r
}

/// What a finding decides, without its words.
type Verdict = (
    FindingCode,
    Severity,
    String,
    Stage,
    Hop,
    Cause,
    Option<String>,
    Vec<String>,
    Vec<String>,
    Option<CertificateRef>,
    Option<FixAction>,
);

fn verdicts(findings: &[Finding]) -> Vec<Verdict> {
    findings
        .iter()
        .map(|f| {
            (
                f.code,
                f.severity,
                f.target.clone(),
                f.stage,
                f.hop,
                f.cause,
                f.zone.clone(),
                f.explains.clone(),
                f.addresses.clone(),
                f.certificate.clone(),
                f.action.clone(),
            )
        })
        .collect()
}

/// The path diagram's nodes as data: which hop, which zone, broken or not, which codes.
fn diagram(html: &str) -> Vec<String> {
    html.split("<g class=").skip(1).filter_map(|g| g.split('>').next()).map(str::to_string).collect()
}

/// A merged view without its words: each report's status, each row's cells, how many findings differ.
type MergedVerdicts = (Vec<kreach::Status>, Vec<(String, Vec<Option<kreach::StageStatus>>)>, usize);

fn merged_verdicts(m: &kreach::Merged) -> MergedVerdicts {
    let rows = m
        .rows
        .iter()
        .map(|r| (r.target.clone(), r.cells.iter().map(|c| c.as_ref().map(|c| c.status)).collect()))
        .collect();
    (m.statuses.clone(), rows, m.finding_differences.len())
}

async fn lab_report(fault: Fault) -> Report {
    let brokers = fault.min_brokers().max(kreach_lab::LAB_BROKERS);
    let lab = Lab::start_patched(fault.layout().unwrap_or_default(), &[fault], brokers, &Patch::default())
        .await
        .expect("lab");
    let mut o = CheckOptions::default();
    o.bootstrap = Some(lab.bootstrap.clone());
    o.resolvers = vec![lab.resolver.to_string()];
    o.public_resolvers = vec![lab.public_resolver.to_string()];
    o.private_cidrs = vec![kreach_lab::LAB_PRIVATE_CIDR.into()];
    o.ca_file = Some(lab.ca_file().to_path_buf());
    o.https_port = Some(lab.https_port);
    o.security_protocol = Some("SSL".into());
    o.zone_addresses = lab.azs.iter().map(|az| format!("{}={}", az.az_id, az.eni)).collect();
    o.timeout_secs = Some(1.5);
    o.connect_timeout_secs = Some(0.6);
    kreach::run(&o.validate(&|_| None).expect("config")).await.expect("report")
}

#[tokio::test]
async fn rewording_every_message_changes_no_verdict() {
    let faults = [
        Fault::None,
        Fault::ZoneCertWrongName,
        Fault::AzDown,
        Fault::ZoneListenerRefused,
        Fault::PublicPathReachable,
        Fault::ZonalRecordPublic,
        Fault::ZonalRecordMissing,
        Fault::IntermediateExpired,
        Fault::IntermediateMissing,
        Fault::UnknownCa,
        Fault::ZoneNotServed,
        Fault::ZonalRecordDangling,
        Fault::RecordOtherEndpoint,
        Fault::BrokerDown,
        Fault::BrokerNameUnresolvable,
        Fault::ResolverDown,
    ];
    let mut w = Words(0x9e37_79b9_7f4a_7c15);
    for fault in faults {
        let report = lab_report(fault).await;
        // The findings drawn again from reworded evidence are the same findings.
        let again = kreach::judge(&scramble_evidence(&report, &mut w));
        assert_eq!(verdicts(&again), verdicts(&kreach::judge(&report)), "{fault}: reworded evidence");
        assert_eq!(verdicts(&again), verdicts(&report.findings), "{fault}: judged again");

        // Reworded findings: the same integrity, merge, metrics and path.
        let reworded = scramble_findings(&report, &mut w);
        assert_eq!(
            kreach::verdict_consistent(&reworded),
            kreach::verdict_consistent(&report),
            "{fault}: the verdict's integrity"
        );
        assert_eq!(kreach::report::Report::exit_code(&reworded), report.exit_code());
        let pair = |r: &Report| vec![("a".to_string(), report.clone()), ("b".to_string(), r.clone())];
        assert_eq!(
            merged_verdicts(&kreach::merge(&pair(&reworded))),
            merged_verdicts(&kreach::merge(&pair(&report))),
            "{fault}: merge"
        );
        assert_eq!(kreach::render::prometheus(&reworded), kreach::render::prometheus(&report), "{fault}: metrics");
        assert_eq!(
            kreach::render::prometheus_many(&[("a", &reworded), ("b", &report)]),
            kreach::render::prometheus_many(&[("a", &report), ("b", &report)]),
            "{fault}: fleet metrics"
        );
        assert_eq!(
            diagram(&kreach::render::html(&reworded)),
            diagram(&kreach::render::html(&report)),
            "{fault}: the path's broken hops"
        );
        if report.status == kreach::Status::Fail {
            assert!(
                diagram(&kreach::render::html(&report)).iter().any(|g| g.contains("data-broken=\"true\"")),
                "{fault}: the path shows a broken hop"
            );
        }
    }
}

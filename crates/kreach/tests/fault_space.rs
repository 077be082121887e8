//! The fault space: every fault the in-process lab plays (each declares the hop of the path it
//! breaks), alone and in one representative pair for each pair of hops. For each, the first
//! finding of the report's worst severity blames a planted hop (its typed `hop` field, never its
//! text), its fix is an action of that hop's class, and no error blames a hop nothing broke.
//! Then every fix the lab can play (records, the zone, endpoint zones, ports, listeners,
//! certificates and chains, trust, the client's protocol) is applied as its typed action says,
//! and the diagnosis run again: each finding it fixed is gone.
//!
//! A fault added to the lab joins the walk by itself. Real DNS (hickory), TLS (rustls), Kafka
//! (librdkafka's mock cluster) on loopback.

// The walk prints its coverage (faults, hops, pairs): the numbers the closing notes quote.
#![allow(clippy::print_stdout)]

use std::collections::BTreeSet;

use kreach::report::{FixAction, FixClass, Hop, RecordTarget};
use kreach::{CheckOptions, Finding, Report, Severity, Status};
use kreach_lab::{Fault, Lab, LabLayout, Labs, Patch};

fn options(lab: &Lab, endpoints: bool) -> CheckOptions {
    let mut o = CheckOptions::default();
    o.bootstrap = Some(lab.bootstrap.clone());
    o.resolvers = vec![lab.resolver.to_string()];
    o.public_resolvers = vec![lab.public_resolver.to_string()];
    o.private_cidrs = vec![kreach_lab::LAB_PRIVATE_CIDR.into()];
    o.ca_file = Some(lab.ca_file().to_path_buf());
    o.https_port = Some(lab.https_port);
    o.security_protocol = Some("SSL".into());
    o.zone_addresses = lab.azs.iter().map(|az| format!("{}={}", az.az_id, az.eni)).collect();
    // Blackholed ports answer nothing: a short connect budget keeps the walk in minutes.
    o.timeout_secs = Some(1.5);
    o.connect_timeout_secs = Some(0.6);
    // The client's own configuration, where a fault is the client's (as `kreach lab` passes `-X`).
    let client: Vec<String> = lab.client_properties().iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !client.is_empty() {
        o.properties = Some(kreach::Properties::parse(&client.join("\n")).expect("client properties"));
    }
    if endpoints {
        o.schema_registry = Some(format!("https://lsrc-lab01.{}:{}", lab.domain, lab.https_port));
        o.aws_apis = true;
        o.aws_region = Some(kreach_lab::LAB_REGION.into());
        o.confluent_apis = true;
        o.api_port = Some(lab.https_port);
    }
    o
}

fn in_process() -> Vec<Fault> {
    Fault::ALL.iter().copied().filter(|f| f.labs() != Labs::NetnsOnly).collect()
}

fn layout_of(faults: &[Fault]) -> LabLayout {
    faults.iter().find_map(|f| f.layout()).unwrap_or_default()
}

fn planted(f: Fault) -> Option<Hop> {
    (!f.hop().is_empty()).then(|| Hop::from_name(f.hop()).unwrap_or_else(|| panic!("{f}: unknown hop {}", f.hop())))
}

/// The class of fix a hop is repaired by.
fn class_of(hop: Hop) -> FixClass {
    match hop {
        Hop::Zone => FixClass::Zone,
        Hop::Record => FixClass::Record,
        Hop::Resolver => FixClass::Resolver,
        Hop::Endpoint => FixClass::Endpoint,
        Hop::Network => FixClass::Network,
        Hop::Listener => FixClass::Listener,
        Hop::Certificate => FixClass::Certificate,
        Hop::Trust => FixClass::Trust,
        Hop::Broker => FixClass::Broker,
        Hop::Client => FixClass::Client,
        other => panic!("no fix class for {other:?}"),
    }
}

/// A lab with `faults` and `patch`, and the options that diagnose it (`trust` adds the other CA).
async fn start(faults: &[Fault], patch: &Patch) -> Lab {
    let brokers = faults.iter().map(|f| f.min_brokers()).max().unwrap_or(1).max(kreach_lab::LAB_BROKERS);
    Lab::start_patched(layout_of(faults), faults, brokers, patch).await.expect("lab")
}

async fn run(lab: &Lab, faults: &[Fault], trust_other: bool, protocol: Option<&str>) -> Report {
    let mut o = options(lab, faults.iter().any(|f| f.needs_endpoints()));
    if let (true, Some(other)) = (trust_other, lab.other_ca_pem()) {
        let bundle = format!("{}{other}", std::fs::read_to_string(lab.ca_file()).expect("ca"));
        o.ca_file = None;
        o.ca_pem = Some(bundle);
    }
    if let Some(p) = protocol {
        o.security_protocol = Some(p.into());
    }
    kreach::run(&o.validate(&|_| None).expect("config")).await.expect("report")
}

fn brief(f: &Finding) -> String {
    format!("{} [{}/{:?}] {:?}: {}", f.code, f.hop.as_str(), f.cause, f.action, f.summary)
}

/// The walk's rule for one report: `hops` were planted.
fn judge(faults: &[Fault], report: &Report) -> Result<(), String> {
    let names: Vec<&str> = faults.iter().map(|f| f.name()).collect();
    let hops: BTreeSet<Hop> = faults.iter().filter_map(|f| planted(*f)).collect();
    let all: Vec<String> = report.findings.iter().map(brief).collect();
    kreach::verdict_consistent(report).map_err(|e| format!("{names:?}: {e}"))?;
    let worst =
        [Severity::Error, Severity::Warning].into_iter().find(|s| report.findings.iter().any(|f| f.severity == *s));
    let Some(worst) = worst else {
        return if hops.is_empty() { Ok(()) } else { Err(format!("{names:?}: nothing found: {all:#?}")) };
    };
    if hops.is_empty() {
        return Err(format!("{names:?} breaks nothing, yet: {all:#?}"));
    }
    let first = report.findings.iter().find(|f| f.severity == worst).expect("worst");
    if !hops.contains(&first.hop) {
        return Err(format!("{names:?}: the first {worst:?} blames {} not {hops:?}: {all:#?}", first.hop.as_str()));
    }
    match &first.action {
        Some(a) if a.class() == class_of(first.hop) => {}
        other => {
            return Err(format!(
                "{names:?}: the first finding's fix {other:?} is not a {:?} fix: {all:#?}",
                class_of(first.hop)
            ));
        }
    }
    if let Some(f) = report.findings.iter().find(|f| f.severity == Severity::Error && !hops.contains(&f.hop)) {
        return Err(format!(
            "{names:?}: an error blames {}, which nothing broke: {}\n{all:#?}",
            f.hop.as_str(),
            brief(f)
        ));
    }
    Ok(())
}

/// One representative pair per pair of hops: the first faults of each hop that the lab can play
/// together (same layout, the brokers they need).
fn pairs() -> Vec<(Fault, Fault)> {
    let faults: Vec<Fault> = in_process().into_iter().filter(|f| planted(*f).is_some()).collect();
    let hops: BTreeSet<Hop> = faults.iter().filter_map(|f| planted(*f)).collect();
    let hops: Vec<Hop> = hops.into_iter().collect();
    let mut out = Vec::new();
    for (i, a) in hops.iter().enumerate() {
        for b in &hops[i + 1..] {
            let pick = faults.iter().flat_map(|x| faults.iter().map(move |y| (*x, *y))).find(|(x, y)| {
                planted(*x) == Some(*a)
                    && planted(*y) == Some(*b)
                    && x.layout().unwrap_or_default() == y.layout().unwrap_or_default()
                    && x.needs_endpoints() == y.needs_endpoints()
            });
            if let Some(p) = pick {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn the_first_finding_blames_the_planted_hop_across_the_fault_space() {
    let mut failures = Vec::new();
    let singles = in_process();
    let pairs = pairs();
    for fault in &singles {
        let lab = start(&[*fault], &Patch::default()).await;
        let report = run(&lab, &[*fault], false, None).await;
        if let Err(e) = judge(&[*fault], &report) {
            failures.push(e);
        }
    }
    for (a, b) in &pairs {
        let lab = start(&[*a, *b], &Patch::default()).await;
        let report = run(&lab, &[*a, *b], false, None).await;
        if let Err(e) = judge(&[*a, *b], &report) {
            failures.push(e);
        }
    }
    let hops: BTreeSet<&str> = singles.iter().map(|f| f.hop()).filter(|h| !h.is_empty()).collect();
    println!("fault space: {} faults over {} hops {hops:?}, {} pairs", singles.len(), hops.len(), pairs.len());
    assert!(
        failures.is_empty(),
        "{} of {} runs:\n{}",
        failures.len(),
        singles.len() + pairs.len(),
        failures.join("\n\n")
    );
}

/// What a fix's action changes in the lab, or on the client (trust, protocol); `None` when the
/// lab cannot play it (the resolver's, the provider's, the credentials).
fn apply(action: &FixAction, patch: &mut Patch, trust: &mut bool, protocol: &mut Option<String>) -> bool {
    match action {
        FixAction::SetRecord { name, target } => {
            let target = match target {
                RecordTarget::Name { name } => name.clone(),
                RecordTarget::EndpointRegional { .. } => "VPCE_REGIONAL".into(),
                RecordTarget::EndpointZonal { az_id, .. } => format!("VPCE_ZONAL:{az_id}"),
                _ => return false,
            };
            patch.records.push((name.clone(), target));
        }
        FixAction::AssociateZone { .. } => patch.associate_zone = true,
        FixAction::AddEndpointZone { az_id } => patch.endpoint_zones.push(az_id.clone()),
        FixAction::AllowPort { .. } => patch.open_ports = true,
        FixAction::ServeListener { .. } => patch.serve_listeners = true,
        FixAction::ServeCertificate { .. } => patch.serve_certificate = true,
        FixAction::ServeChain { .. } => patch.serve_chain = true,
        FixAction::TrustCa { .. } => *trust = true,
        // Waiting out (or flushing) a cached negative answer: the lab starts without it.
        FixAction::WaitForCache { .. } => patch.cache_expired = true,
        FixAction::SetProperty { key, value } if key == "security.protocol" => *protocol = Some(value.clone()),
        _ => return false,
    }
    true
}

#[tokio::test]
async fn every_fix_the_lab_can_play_repairs_what_it_was_given_for() {
    let mut failures = Vec::new();
    let mut applied = 0;
    for fault in in_process().into_iter().filter(|f| planted(*f).is_some()) {
        let lab = start(&[fault], &Patch::default()).await;
        let before = run(&lab, &[fault], false, None).await;
        drop(lab);
        let (mut patch, mut trust, mut protocol) = (Patch::default(), false, None);
        let mut fixed: Vec<&Finding> = Vec::new();
        for f in before.findings.iter().filter(|f| f.severity != Severity::Info) {
            if let Some(a) = &f.action {
                if apply(a, &mut patch, &mut trust, &mut protocol) {
                    fixed.push(f);
                }
            }
        }
        if fixed.is_empty() {
            continue;
        }
        applied += 1;
        let lab = start(&[fault], &patch).await;
        let after = run(&lab, &[fault], trust, protocol.as_deref()).await;
        let still: Vec<String> = fixed
            .iter()
            .filter(|f| {
                after.findings.iter().any(|g| g.code == f.code && g.hop == f.hop && g.severity != Severity::Info)
            })
            .map(|f| brief(f))
            .collect();
        if !still.is_empty() || after.status == Status::Fail {
            failures.push(format!(
                "{fault}: after {patch:?} (trust {trust}, protocol {protocol:?}) still: {still:#?}\nall: {:#?}",
                after.findings.iter().map(brief).collect::<Vec<_>>()
            ));
        }
    }
    println!("fixes applied for {applied} faults");
    assert!(applied >= 15, "the lab played only {applied} faults' fixes");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
#[ignore = "prints the findings of the newest faults, to read"]
async fn show() {
    for fault in in_process()
        .into_iter()
        .filter(|f| std::env::var("FAULTS").map(|v| v.split(',').any(|n| n == f.name())).unwrap_or(false))
    {
        let lab = start(&[fault], &Patch::default()).await;
        let report = run(&lab, &[fault], false, None).await;
        println!("== {fault}");
        for f in &report.findings {
            println!(
                "  {}\n    fix: {}\n    explains {:?} zone {:?} cert {:?}",
                brief(f),
                f.fix,
                f.explains,
                f.zone,
                f.certificate
            );
        }
    }
}

/// The lab endpoint's regional DNS name (what `describe-vpc-endpoints` would give).
const LAB_REGIONAL: &str = "vpce-0a1b2c3d4e5f60789-lab01.us-west-2.vpce.amazonaws.com";

/// A fix that would point a record at a name resolves that name first (inside the deadline, only
/// when a fix names one): a name that resolves is advised in the action; one that does not is not,
/// and the fix says what was found. A healthy run resolves nothing extra.
#[tokio::test]
async fn a_record_target_is_resolved_before_it_is_advised() {
    for (fault, value, resolves) in [
        (Fault::WildcardMissing, LAB_REGIONAL, true),
        (Fault::WildcardMissing, "vpce-0dead0000000000000-gone1.us-west-2.vpce.amazonaws.com", false),
        (Fault::None, LAB_REGIONAL, true),
    ] {
        let lab = start(&[fault], &Patch::default()).await;
        let mut audit = kreach::report::AwsAudit::default();
        let mut record = kreach::report::DnsRecord::default();
        record.name = format!("*.{}", lab.domain);
        record.record_type = "CNAME".into();
        record.value = value.into();
        audit.expected_records = vec![record];
        let config = options(&lab, false).validate(&|_| None).expect("config");
        let report = kreach::Diagnosis::new(&config).aws(move |_, _| async move { audit }).run().await.expect("run");
        if fault == Fault::None {
            assert!(report.checked_names.is_empty(), "a healthy run resolves nothing more: {:?}", report.checked_names);
            continue;
        }
        let check = report.checked_names.iter().find(|c| c.name == value).expect("the target was resolved");
        assert_eq!(check.outcome == kreach::report::DnsOutcome::Answer, resolves, "{check:?}");
        let f = report
            .findings
            .iter()
            .find(|f| matches!(&f.action, Some(FixAction::SetRecord { name, .. }) if *name == format!("*.{}", lab.domain)))
            .expect("a record fix");
        let Some(FixAction::SetRecord { target, .. }) = &f.action else { unreachable!() };
        let named = matches!(target, RecordTarget::EndpointRegional { name: Some(n) } if n == value);
        assert_eq!(named, resolves, "{value}: {target:?}");
        assert_eq!(f.fix.contains(&format!("CNAME {value}`")), resolves, "{}", f.fix);
        if !resolves {
            assert!(f.fix.contains("does not exist (NXDOMAIN)"), "{}", f.fix);
        }
    }
}

/// The client's side of the listener: a plaintext client against the lab's TLS listener gets the
/// protocol mismatch, whose action names the property and value; set as it says, the run passes.
#[tokio::test]
async fn a_protocol_fix_is_the_property_its_action_names() {
    let lab = start(&[Fault::None], &Patch::default()).await;
    let before = run(&lab, &[Fault::None], false, Some("PLAINTEXT")).await;
    let f = before.findings.iter().find(|f| f.severity == Severity::Error).expect("an error");
    assert_eq!((f.code.as_str(), f.hop), ("kafka-protocol-mismatch", Hop::Listener), "{}", brief(f));
    let Some(FixAction::SetProperty { key, value }) = &f.action else { panic!("{}", brief(f)) };
    assert_eq!((key.as_str(), value.as_str()), ("security.protocol", "SSL"));
    let after = run(&lab, &[Fault::None], false, Some(value)).await;
    assert_eq!(after.status, Status::Pass, "{:#?}", after.findings.iter().map(brief).collect::<Vec<_>>());
}

//! A cached NXDOMAIN (issue 34, item 5): the in-process lab's VPC resolver is a caching resolver
//! (hickory's forwarder with its cache on) in front of the zones' authority; the bootstrap is asked
//! once before the `*.<domain>` record exists, then the record is created. kreach must say the
//! record exists and the NXDOMAIN is the cache's, with how long it may last — not advise creating
//! the record. Real DNS servers on loopback throughout.

use std::time::Duration;

use kreach::report::{Cause, FixAction, FixClass, Hop};
use kreach::{CheckConfig, FindingCode, HostPort, Report, Severity, Status};
use kreach_lab::{Fault, LAB_PRIVATE_CIDR, Lab, LabLayout};

async fn run(layout: LabLayout, fault: Fault) -> (Lab, Report) {
    let lab = Lab::start_layout(layout, fault, kreach_lab::LAB_BROKERS).await.expect("lab starts");
    let report = diagnose(&lab).await;
    (lab, report)
}

/// The check of `lab` through its own resolvers, TLS without SASL.
async fn diagnose(lab: &Lab) -> Report {
    let bootstrap = HostPort::parse(&lab.bootstrap, 9092).expect("lab bootstrap parses");
    let config = CheckConfig::for_bootstrap(bootstrap)
        .with_resolvers(vec![lab.resolver])
        .with_public_resolvers(vec![lab.public_resolver])
        .with_private_cidrs(vec![LAB_PRIVATE_CIDR.parse().expect("cidr")])
        .with_ca_file(lab.ca_file())
        .expect("lab CA readable")
        .with_https_port(None)
        .with_security_protocol(kreach::SecurityProtocol::Ssl)
        .with_timeout(Duration::from_secs(4));
    kreach::run(&config).await.expect("run")
}

fn first_error(report: &Report) -> Option<&kreach::Finding> {
    report.findings.iter().find(|f| f.severity == Severity::Error)
}

fn host(lab: &Lab) -> String {
    lab.bootstrap.rsplit_once(':').expect("host:port").0.to_string()
}

#[tokio::test]
async fn a_cached_nxdomain_is_named_as_such_with_its_ttl_never_as_a_missing_record() {
    for layout in [LabLayout::Dedicated, LabLayout::PrivateLinkAttachment] {
        let (lab, report) = run(layout, Fault::CachedNxdomain).await;
        assert_eq!(report.status, Status::Fail, "{layout}: the name does not resolve now");
        let first = first_error(&report).unwrap_or_else(|| panic!("{layout}: no error"));
        assert_eq!(
            first.code,
            FindingCode::DnsNegativeCached,
            "{layout}: {:#?} {:#?}",
            report.findings,
            report.targets[0].dns
        );
        assert_eq!((first.hop, first.cause), (Hop::Resolver, Cause::CachedNegative), "{layout}");
        let Some(FixAction::WaitForCache { name, seconds }) = &first.action else {
            panic!("{layout}: {:?}", first.action)
        };
        assert_eq!(*name, host(&lab), "{layout}");
        // The lab's SOA: TTL 60, minimum 60 — what is left of it, from the cache.
        assert!(seconds.is_some_and(|s| s <= 60), "{layout}: {seconds:?}");
        assert_eq!(first.action.as_ref().map(FixAction::class), Some(FixClass::Resolver));
        // No advice to create a record that exists.
        assert!(
            !report.findings.iter().any(|f| matches!(f.action, Some(FixAction::SetRecord { .. }))),
            "{layout}: {:#?}",
            report.findings
        );
        assert!(
            !report.findings.iter().any(|f| f.code == FindingCode::DnsNxdomain),
            "{layout}: {:#?}",
            report.findings
        );
        // The fresh name was asked once, through the same resolver, under the bootstrap's parent.
        let dns = report.targets[0].dns.as_ref().expect("dns");
        let sibling = dns.fresh_sibling.as_ref().expect("a fresh name asked");
        let parent = host(&lab).split_once('.').expect("parent").1.to_string();
        assert!(sibling.name.starts_with("kreach-") && sibling.name.ends_with(&parent), "{}", sibling.name);
        let asked = lab.resolver_queries().iter().filter(|(n, _)| n.eq_ignore_ascii_case(&sibling.name)).count();
        assert!(asked >= 1, "{layout}: the sibling went to the lab's resolver");
        assert!(first.summary.contains(&sibling.name), "{}", first.summary);
    }
}

#[tokio::test]
async fn a_missing_record_is_still_a_missing_record() {
    // The control: no record covers the name, so the fresh name is NXDOMAIN too.
    let (lab, report) = run(LabLayout::Dedicated, Fault::WildcardMissing).await;
    let dns = report.targets[0].dns.as_ref().expect("dns");
    let sibling = dns.fresh_sibling.as_ref().expect("a fresh name asked");
    assert_eq!(sibling.lookup.outcome, kreach::report::DnsOutcome::Nxdomain);
    assert!(!report.findings.iter().any(|f| f.code == FindingCode::DnsNegativeCached), "{:#?}", report.findings);
    let first = first_error(&report).expect("an error");
    assert!(
        matches!(&first.action, Some(FixAction::SetRecord { name, .. }) if *name == format!("*.{}", lab.domain)),
        "{first:#?}"
    );
    // A healthy lab asks no fresh name at all.
    let (_lab, report) = run(LabLayout::Dedicated, Fault::None).await;
    assert!(report.targets.iter().all(|t| t.dns.as_ref().is_none_or(|d| d.fresh_sibling.is_none())));
    assert_eq!(report.status, Status::Pass);
}

#[tokio::test]
async fn two_runs_ask_two_different_fresh_names() {
    let (_l1, a) = run(LabLayout::Dedicated, Fault::WildcardMissing).await;
    let (_l2, b) = run(LabLayout::Dedicated, Fault::WildcardMissing).await;
    let name = |r: &Report| r.targets[0].dns.as_ref().and_then(|d| d.fresh_sibling.as_ref()).map(|s| s.name.clone());
    assert!(name(&a).is_some());
    assert_ne!(name(&a), name(&b), "a cached answer for a reused name would prove nothing");
}

/// `--watch`'s line when the cache lets go: the finding is gone because the cached NXDOMAIN
/// expired (its typed cause), not because anything was changed.
#[tokio::test]
async fn the_watch_line_says_the_cached_nxdomain_expired() {
    let (_lab, before) = run(LabLayout::Dedicated, Fault::CachedNxdomain).await;
    let mut patch = kreach_lab::Patch::default();
    patch.cache_expired = true;
    let lab = Lab::start_patched(LabLayout::Dedicated, &[Fault::CachedNxdomain], kreach_lab::LAB_BROKERS, &patch)
        .await
        .expect("lab");
    let after = diagnose(&lab).await;
    assert!(!after.findings.iter().any(|f| f.code == FindingCode::DnsNegativeCached), "{:#?}", after.findings);
    let lines = kreach::render::changes(&before, &after);
    let line = lines.iter().find(|l| l.starts_with("- dns-negative-cached")).unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(line.contains("cached NXDOMAIN expired"), "{line}");
    // Any other finding that went is just "fixed".
    assert!(
        lines
            .iter()
            .filter(|l| l.starts_with("- ") && !l.starts_with("- dns-negative-cached"))
            .all(|l| !l.contains("NXDOMAIN"))
    );
}

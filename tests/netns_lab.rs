//! End-to-end scenarios: the `kreach` binary inside a network namespace against BIND, haproxy
//! and iptables (see `support`). Each scenario is a TOML file in `fixtures/scenarios/` asserting the
//! exact error/warning codes, the exit code, and that the JSON validates against the schema.

#![allow(clippy::print_stderr)]

use kreach_testkit as support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use support::{BOOTSTRAP_HOST, Fault, NetnsLab, PRIVATE_CIDR, PUBLIC_RESOLVER, VPC_RESOLVER};

/// The binary under test.
const KREACH: &str = env!("CARGO_BIN_EXE_kreach");

// The lab's mock brokers run as this test binary, re-executed inside the namespace.
kreach_testkit::mock_kafka_entry!();

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    description: String,
    fault: String,
    resolver: String,
    #[serde(default = "default_timeout")]
    timeout: f64,
    deadline_margin_secs: Option<f64>,
    /// The client stage must end early (its `stopped_early` set) once kreach's checks explain the
    /// failure, instead of waiting out `timeout`: the report is then well inside it.
    #[serde(default)]
    expect_stopped_early: bool,
    #[serde(default = "default_protocol")]
    security_protocol: String,
    /// A client properties file to pass with --config (`{ca}` stands for the lab CA's path).
    properties: Option<String>,
    /// What the librdkafka stage must conclude: ok, failed or skipped.
    expect_client: Option<String>,
    /// Properties librdkafka must have left out.
    #[serde(default)]
    expect_ignored: Vec<String>,
    expect_status: String,
    expect_codes: Vec<String>,
    #[serde(default)]
    expect_ports: BTreeMap<String, Vec<u16>>,
    /// The path-MTU retry must have run on exactly these zones' endpoint addresses (by AZ ID) and
    /// passed with this segment size; every other scenario must never start it.
    #[serde(default)]
    expect_mtu_zones: Vec<String>,
    expect_mtu_passed: Option<u64>,
}

fn default_timeout() -> f64 {
    5.0
}

/// The lab's listeners are TLS without SASL.
fn default_protocol() -> String {
    "SSL".into()
}

fn scenario_dir() -> PathBuf {
    support::workspace_root().join("fixtures/scenarios")
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(support::workspace_root().join("docs/report.schema.json")).expect("schema file");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn run_scenario(name: &str) {
    if !support::require_prerequisites() {
        return;
    }
    let path = scenario_dir().join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let sc: Scenario = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let fault = sc.fault.parse::<Fault>().expect("fault");
    let lab = NetnsLab::start(fault, KREACH).unwrap_or_else(|e| panic!("{name}: lab failed to start: {e}"));

    let mut args: Vec<String> = [
        "check",
        "--bootstrap",
        &format!("{BOOTSTRAP_HOST}:9092"),
        "--public-resolver",
        PUBLIC_RESOLVER,
        "--private-cidr",
        PRIVATE_CIDR,
        "--ca-file",
        &lab.ca_file(),
        "--security-protocol",
        &sc.security_protocol,
        "--timeout",
        &sc.timeout.to_string(),
        "--output",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(text) = &sc.properties {
        let path = lab.dir.path().join("client.properties");
        std::fs::write(&path, text.replace("{ca}", &lab.ca_file())).expect("write properties");
        args.extend(["--config".to_string(), path.display().to_string()]);
    }
    match sc.resolver.as_str() {
        "system" => {}
        "vpc" => args.extend(["--resolver".to_string(), VPC_RESOLVER.to_string()]),
        other => panic!("{name}: resolver must be system or vpc, not {other}"),
    }
    let (code, stdout, stderr, elapsed) = lab.kreach(&args);
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{name}: not JSON ({e}); stderr: {stderr}\n{stdout}"));
    if let Some(secret) =
        sc.properties.as_deref().and_then(|p| p.lines().find_map(|l| l.strip_prefix("sasl.password=")))
    {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{name}: the SASL password leaked into the output"
        );
    }

    let errors: Vec<String> = schema().iter_errors(&report).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{name}: report does not validate against docs/report.schema.json: {errors:#?}");

    let mut codes: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect();
    codes.sort();
    codes.dedup();
    let mut expected = sc.expect_codes.clone();
    expected.sort();
    assert_eq!(
        codes, expected,
        "{name} ({}): error/warning codes differ; findings: {:#}",
        sc.description, report["findings"]
    );
    assert_eq!(report["status"], sc.expect_status.as_str(), "{name}: status");
    let expected_exit = if sc.expect_status == "fail" { 1 } else { 0 };
    assert_eq!(code, expected_exit, "{name}: exit code; stderr: {stderr}");

    for (code, ports) in &sc.expect_ports {
        let mut got: Vec<u16> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["code"] == code.as_str())
            .filter_map(|f| f["target"].as_str()?.rsplit_once(':')?.1.parse().ok())
            .collect();
        got.sort();
        let mut want = ports.clone();
        want.sort();
        assert_eq!(got, want, "{name}: ports of {code}");
    }
    // The path-MTU retry: where it ran, and what passed.
    let mut retried: Vec<String> = Vec::new();
    for target in report["targets"].as_array().expect("targets") {
        for address in target["addresses"].as_array().into_iter().flatten() {
            let Some(probe) = address["tls"].get("path_mtu") else { continue };
            let ip = address["ip"].as_str().expect("ip").to_string();
            assert_eq!(
                probe["passed_mss"].as_u64(),
                sc.expect_mtu_passed,
                "{name}: the path-MTU retry on {ip} of {}: {probe:#}",
                target["target"]
            );
            retried.push(ip);
        }
    }
    retried.sort();
    retried.dedup();
    let mut mtu_ips: Vec<String> = sc
        .expect_mtu_zones
        .iter()
        .map(|z| support::ENIS.iter().find(|(az, _, _)| az == z).expect("a lab zone").2.to_string())
        .collect();
    mtu_ips.sort();
    assert_eq!(retried, mtu_ips, "{name}: the addresses the path-MTU retry ran on");
    if !mtu_ips.is_empty() {
        let finding = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["code"] == "tls-path-mtu-blackhole")
            .expect("the path-MTU finding");
        assert_eq!(finding["addresses"], serde_json::json!(mtu_ips), "{name}: {finding:#}");
        let passed = sc.expect_mtu_passed.expect("expect_mtu_passed").to_string();
        assert!(finding["summary"].as_str().expect("summary").contains(&passed), "{name}: {finding:#}");
    }
    if let Some(expected) = &sc.expect_client {
        assert_eq!(report["parity"]["outcome"], expected.as_str(), "{name}: client stage: {:#}", report["parity"]);
    }
    let ignored: Vec<&str> =
        report["parity"]["ignored_properties"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).collect();
    assert_eq!(ignored, sc.expect_ignored, "{name}: properties librdkafka left out");
    if sc.expect_client.as_deref() == Some("failed") {
        assert!(
            report["parity"]["log"].as_array().is_some_and(|l| !l.is_empty()),
            "{name}: librdkafka's own log lines are kept as evidence: {:#}",
            report["parity"]
        );
    }
    if sc.expect_client.as_deref() == Some("ok") {
        // librdkafka, a real client, sees the same brokers as kreach's own Metadata.
        let ours = cluster_brokers(&report);
        let mut theirs: Vec<String> = report["parity"]["brokers"]
            .as_array()
            .expect("parity brokers")
            .iter()
            .filter_map(|b| b.as_str().map(str::to_string))
            .collect();
        theirs.sort();
        assert_eq!(ours, theirs, "{name}: librdkafka and kreach disagree on the brokers");
    }
    if sc.expect_stopped_early {
        assert!(report["parity"]["stopped_early"].is_string(), "{name}: {:#}", report["parity"]);
        // Behaviour, not a speed target: a known cause does not wait for a deadline 10x longer
        // than the whole diagnosis needs.
        assert!(
            elapsed.as_secs_f64() < sc.timeout / 2.0,
            "{name}: took {:.2} s of --timeout {}: the client stage waited for the deadline",
            elapsed.as_secs_f64(),
            sc.timeout
        );
    }
    if let Some(margin) = sc.deadline_margin_secs {
        assert!(
            elapsed.as_secs_f64() <= sc.timeout + margin,
            "{name}: took {:.2} s with --timeout {}: the deadline must bound the run",
            elapsed.as_secs_f64(),
            sc.timeout
        );
    }
    eprintln!("{name}: {} in {:.0} ms", report["status"], elapsed.as_secs_f64() * 1000.0);
    if std::env::var_os("KREACH_SHOW_REPORT").is_some() {
        eprintln!("{name}: {report:#}");
    }
}

/// The brokers kreach's own Metadata returned, as sorted `host:port`.
fn cluster_brokers(report: &serde_json::Value) -> Vec<String> {
    let mut brokers: Vec<String> = report["cluster"]["brokers"]
        .as_array()
        .expect("brokers")
        .iter()
        .map(|b| format!("{}:{}", b["host"].as_str().unwrap_or(""), b["port"]))
        .collect();
    brokers.sort();
    brokers
}

macro_rules! scenarios {
    ($($fn_name:ident => $file:literal,)*) => {
        $(#[test] fn $fn_name() { run_scenario($file); })*

        #[test]
        fn every_scenario_file_has_a_test() {
            let listed = [$($file),*];
            for entry in std::fs::read_dir(scenario_dir()).expect("scenario dir") {
                let path = entry.expect("entry").path();
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
                assert!(listed.contains(&stem.as_str()), "fixtures/scenarios/{stem}.toml has no test in netns_lab.rs");
            }
        }

        /// One fault list serves both labs: every fault is planted by at least one netns scenario.
        #[test]
        fn every_fault_has_a_netns_scenario() {
            let planted: Vec<String> = [$($file),*]
                .iter()
                .map(|file| {
                    let text = std::fs::read_to_string(scenario_dir().join(format!("{file}.toml"))).expect("scenario");
                    toml::from_str::<Scenario>(&text).expect("scenario toml").fault
                })
                .collect();
            for fault in Fault::ALL.iter().filter(|f| f.labs() != kreach_lab::Labs::InProcessOnly) {
                assert!(planted.iter().any(|p| p == fault.name()), "fault `{fault}` has no scenario in fixtures/scenarios/");
            }
        }
    };
}

scenarios! {
    healthy => "healthy",
    zone_not_associated => "zone-not-associated",
    public_answer_dropped => "public-answer-dropped",
    wildcard_missing => "wildcard-missing",
    resolver_down => "resolver-down",
    kafka_port_dropped => "kafka-port-dropped",
    https_port_dropped => "https-port-dropped",
    port_refused => "port-refused",
    cert_wrong_name => "cert-wrong-name",
    unknown_ca => "unknown-ca",
    expired_cert => "expired-cert",
    expiring_cert => "expiring-cert",
    plaintext_listener => "plaintext-listener",
    zonal_record_missing => "zonal-record-missing",
    zonal_record_by_az_name => "zonal-record-by-az-name",
    zone_dropped => "zone-dropped",
    broker_down => "broker-down",
    broker_name_unresolvable => "broker-name-unresolvable",
    plaintext_client => "plaintext-client",
    client_missing_ca => "client-missing-ca",
    client_with_ca => "client-with-ca",
    sasl_rejected => "sasl-rejected",
    sasl_wrong_mechanism => "sasl-wrong-mechanism",
    cname_dangling => "cname-dangling",
    port_refused_client => "port-refused-client",
    path_mtu_blackhole => "path-mtu-blackhole",
}

/// The system-resolver path and the human outputs, on the healthy lab.
#[test]
fn healthy_lab_table_and_markdown() {
    if !support::require_prerequisites() {
        return;
    }
    let lab = NetnsLab::start(Fault::None, KREACH).expect("lab");
    let base = vec![
        "check".to_string(),
        "--bootstrap".into(),
        format!("{BOOTSTRAP_HOST}:9092"),
        "--private-cidr".into(),
        PRIVATE_CIDR.into(),
        "--ca-file".into(),
        lab.ca_file(),
        "--security-protocol".into(),
        "SSL".into(),
    ];
    let (code, table, _, _) = lab.kreach(&base);
    assert_eq!(code, 0, "{table}");
    assert!(table.contains("PASS") && table.contains("HTTP 401"), "{table}");
    assert!(!table.contains('\u{1b}'), "NO_COLOR / not a TTY: no escape codes");
    assert!(table.contains("system (127.0.0.53:53)"), "system resolver named in the evidence: {table}");
    let mut md_args = base.clone();
    md_args.extend(["--output".into(), "markdown".into()]);
    let (_, md, _, _) = lab.kreach(&md_args);
    assert!(
        md.starts_with("## kreach") && md.contains("| target |") && md.contains("`dns-private-zone-in-effect`"),
        "{md}"
    );
}

/// confluent-kafka (pip; its own librdkafka 2.16) as the reference client: on the healthy lab it
/// sees exactly the brokers kreach's own Metadata returned.
#[test]
fn reference_client_sees_the_same_brokers_as_kreach() {
    if !support::require_prerequisites() {
        return;
    }
    let python = support::workspace_root().join("target/lab-peers/venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/setup.sh", python.display());
    let lab = NetnsLab::start(Fault::None, KREACH).expect("lab");
    let bootstrap = format!("{BOOTSTRAP_HOST}:9092");
    let args: Vec<String> = [
        "check",
        "--bootstrap",
        &bootstrap,
        "--private-cidr",
        PRIVATE_CIDR,
        "--ca-file",
        &lab.ca_file(),
        "--security-protocol",
        "SSL",
        "--no-client-check",
        "--output",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let asked_before = lab.resolver_queries().len();
    let (code, stdout, stderr, _) = lab.kreach(&args);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let ours = cluster_brokers(&report);

    // Against a resolver that recurses (BIND, as the VPC resolver answers), each name costs one
    // question per record type: the CNAME chain comes in the same answer, nothing is asked twice.
    let queries = lab.resolver_queries().split_off(asked_before);
    let mut names = vec![BOOTSTRAP_HOST.to_string()];
    names.extend(ours.iter().map(|b| b.rsplit_once(':').map_or(b.as_str(), |(h, _)| h).to_string()));
    for name in &names {
        for kind in ["A", "AAAA"] {
            let count = queries.iter().filter(|(n, t)| n == name && t == kind).count();
            assert_eq!(count, 1, "{name} {kind} asked {count} times: {queries:?}");
        }
    }
    // One more question: the SOA of the cluster's domain, which says which zone holds it (a private
    // zone named above the domain shadows the parent's public names: dns-zone-too-broad).
    let domain = BOOTSTRAP_HOST.split_once('.').map(|(_, d)| d).expect("domain");
    let soa = queries.iter().filter(|(_, t)| t == "SOA").collect::<Vec<_>>();
    assert_eq!(soa, [&(domain.to_string(), "SOA".to_string())], "{queries:?}");
    assert_eq!(queries.len(), 2 * names.len() + 1, "only the cluster's names were asked: {queries:?}");

    let script = support::workspace_root().join("fixtures/reference_client.py");
    let out =
        lab.exec(&[&python.display().to_string(), &script.display().to_string(), &bootstrap, &lab.ca_file(), "SSL"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let reference: serde_json::Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("reference client output ({e}): {text} {}", String::from_utf8_lossy(&out.stderr)));
    let theirs: Vec<String> = reference["brokers"]
        .as_array()
        .unwrap_or_else(|| panic!("reference client failed: {reference}"))
        .iter()
        .filter_map(|b| b.as_str().map(str::to_string))
        .collect();
    assert_eq!(ours.len(), 3, "one broker per AZ in the netns lab");
    assert_eq!(ours, theirs, "kreach and confluent-kafka disagree on the brokers");
}

//! The CLI and the Lambda function run one input step (`kreach::input::prepare`): the same event
//! source mapping (a self-managed Kafka mapping with a SCRAM secret and a private root CA, read
//! from moto server) diagnosed through `kreach check --event-source-mapping` and through the
//! Lambda handler gives the same network verdicts, the same Kafka findings and the same
//! settings. What differs is only where each runs (the vantage point and its hints).

use kreach_testkit as support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// The report's matrix: each target's stage verdicts (the AWS stage aside: it depends on where
/// the probe runs).
fn matrix(report: &Value) -> BTreeMap<String, Vec<(String, String)>> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            let stages = t["stages"]
                .as_array()
                .expect("stages")
                .iter()
                .filter(|s| s["stage"] != "aws" && s["stage"] != "client")
                .map(|s| {
                    (s["stage"].as_str().unwrap_or("").to_string(), s["status"].as_str().unwrap_or("").to_string())
                })
                .collect();
            (t["target"].as_str().unwrap_or("").to_string(), stages)
        })
        .collect()
}

/// Codes of the findings about the cluster's path (DNS, TCP, TLS, Kafka), not about the vantage.
fn path_codes(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| ["dns", "tcp", "tls", "kafka", "https"].contains(&f["stage"].as_str().unwrap_or("")))
        .filter_map(|f| f["code"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn one_mapping_through_the_cli_and_the_lambda_gives_one_verdict() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let lab = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::None)).expect("lab");
    let moto = support::moto::Moto::start(&support::workspace_root());
    let ca_file = lab.ca_file().display().to_string();
    let out = moto.python("fixtures/aws/moto_kafka_mapping.py", &[&moto.url, &lab.bootstrap, &ca_file]);
    assert!(out.status.success(), "fixture: {}", String::from_utf8_lossy(&out.stderr));
    let planted: Value = serde_json::from_slice(&out.stdout).expect("fixture JSON");
    let uuid = planted["uuid"].as_str().expect("uuid");
    let password = planted["password"].as_str().expect("password");
    let aws = [
        ("AWS_ENDPOINT_URL", moto.url.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-west-2"),
    ];

    // The CLI: the lab's network flags, everything else from the mapping (no --bootstrap, no CA,
    // no protocol: SASL_SSL and SCRAM-SHA-512 come from it).
    let args = lab.check_args();
    let mut argv: Vec<String> = vec!["check".into()];
    let mut i = 0;
    while i < args.len() {
        if ["--bootstrap", "--ca-file", "--security-protocol"].contains(&args[i].as_str()) {
            i += 2;
            continue;
        }
        argv.push(args[i].clone());
        i += 1;
    }
    argv.extend(
        ["--event-source-mapping", uuid, "--no-client-check", "--timeout", "6", "--output", "json"].map(String::from),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kreach"));
    cmd.args(&argv).env("NO_COLOR", "1").env_remove("RUST_LOG").stdin(Stdio::null()).envs(support::no_aws());
    for k in ["AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
        cmd.env_remove(k);
    }
    cmd.envs(aws);
    let out = cmd.output().expect("kreach");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains(password) && !stderr.contains(password), "the SCRAM password leaked");
    let cli: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));

    // The Lambda: the same mapping by UUID in the event; the lab's resolver and CIDR as the
    // function's own configuration would give them (the mapping's CA and secret are read by the
    // function, not sent in the event).
    let mut env: HashMap<String, String> = aws.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    env.insert("AWS_LAMBDA_FUNCTION_NAME".into(), "kreach-probe".into());
    env.insert("AWS_SESSION_TOKEN".into(), "testing-session".into());
    env.insert("KREACH_ALLOWED_BOOTSTRAP".into(), "*.abc123.us-west-2.aws.confluent.cloud".into());
    env.insert("KREACH_ALLOWED_SECRETS".into(), "arn:aws:secretsmanager:us-west-2:123456789012:secret:kreach/*".into());
    env.insert("KREACH_RESOLVERS".into(), lab.resolver.to_string());
    let zones: Vec<String> = lab.azs.iter().map(|az| format!("{}={}", az.az_id, az.eni)).collect();
    let event = json!({
        "event_source_mapping": uuid,
        "private_cidrs": [kreach_lab::LAB_PRIVATE_CIDR],
        "public_resolvers": [lab.public_resolver.to_string()],
        "https_port": lab.https_port,
        "zone_addresses": zones,
        "timeout_secs": 6,
    });
    let lookup = |k: &str| env.get(k).cloned();
    let report = rt
        .block_on(kreach_lambda::handle(event.clone(), Some(Duration::from_secs(10)), &lookup))
        .unwrap_or_else(|e| panic!("{e:?}: {event:#}"));
    let lambda = serde_json::to_value(&report).expect("json");
    assert!(!lambda.to_string().contains(password), "the SCRAM password leaked");

    // Both read the mapping, its root CA and its secret, and so ran the same diagnosis.
    for (who, r) in [("cli", &cli), ("lambda", &lambda)] {
        assert_eq!(r["secret"]["outcome"], "read", "{who}: {:#}", r["secret"]);
        assert_eq!(r["settings"]["sasl_mechanism"], "SCRAM-SHA-512", "{who}: {:#}", r["settings"]);
        assert_eq!(r["settings"]["sasl_credentials"], true, "{who}");
        assert_eq!(r["settings"]["tls_verification"], "enabled", "{who}");
        assert!(r["event_source_mapping"]["root_ca_error"].is_null(), "{who}: {:#}", r["event_source_mapping"]);
        // The lab's TLS verifies only with the mapping's private CA.
        assert!(path_codes(r).iter().all(|c| !c.starts_with("tls-")), "{who}: {:?}", path_codes(r));
    }
    assert_eq!(cli["settings"]["bootstrap"], lambda["settings"]["bootstrap"]);
    assert_eq!(cli["settings"]["ca_file"], lambda["settings"]["ca_file"]);
    assert_eq!(matrix(&cli), matrix(&lambda), "the same network verdicts");
    assert_eq!(path_codes(&cli), path_codes(&lambda), "the same Kafka-path findings");
    assert!(!matrix(&cli).is_empty());
}

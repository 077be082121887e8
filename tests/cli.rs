//! The `kreach` binary: usage errors, exit codes, output formats, the schema, and secrets.
//! Diagnoses run against the in-process lab (`kreach lab`), so these need no root.

use kreach_testkit as support;

use std::io::Write;
use std::process::{Command, Stdio};

fn kreach(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kreach"));
    cmd.args(args).env("NO_COLOR", "1").env_remove("RUST_LOG").stdin(Stdio::null()).envs(support::no_aws());
    // Tests never audit a real AWS account: no credentials from the environment reach the binary.
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run kreach");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A check that ends at once (nothing listens on port 1): for tests about the vantage point.
const QUICK_CHECK: &[&str] =
    &["check", "--bootstrap", "127.0.0.1:1", "--no-https", "--no-client-check", "--timeout", "1", "--output", "json"];

/// The codes of a JSON report's findings.
fn codes(report: &serde_json::Value) -> Vec<&str> {
    report["findings"].as_array().expect("findings").iter().filter_map(|f| f["code"].as_str()).collect()
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(support::workspace_root().join("docs/report.schema.json")).expect("schema");
    jsonschema::validator_for(&serde_json::from_str(&text).expect("json")).expect("compiles")
}

/// Help wraps to the terminal (clap's `wrap_help`): at `COLUMNS=100`, at 60, and at most 100
/// when it cannot tell (a pipe).
#[test]
fn help_fits_the_terminal_width() {
    for (columns, max) in [(Some("100"), 100), (Some("60"), 60), (None, 100)] {
        for sub in [None, Some("check"), Some("lab"), Some("merge"), Some("records")] {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_kreach"));
            cmd.args(sub.into_iter().chain(["--help"])).stdin(Stdio::null()).env_remove("COLUMNS");
            if let Some(c) = columns {
                cmd.env("COLUMNS", c);
            }
            let out = cmd.output().expect("kreach --help");
            let text = String::from_utf8_lossy(&out.stdout);
            let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            assert!(widest <= max, "{sub:?} at {columns:?}: a line of {widest} columns:\n{text}");
        }
    }
}

/// `records --help` lists only what `records` uses (the AWS flags that find the endpoint and the
/// zone), says what it does and that it changes nothing; the Lambda flags belong to `check`.
#[test]
fn records_help_is_about_records() {
    let (code, help, _) = kreach(&["records", "--help"], &[]);
    assert_eq!(code, 0);
    for flag in ["--vpc-endpoint", "--dns-domain", "--bootstrap", "--output", "--ttl"] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
    for flag in ["--event-source-mapping", "--sink-connector-principal", "--lambda-function"] {
        assert!(!help.contains(flag), "{flag} is not a records flag: {help}");
    }
    assert!(help.contains("Read-only"), "{help}");
    let (_, check, _) = kreach(&["check", "--help"], &[]);
    assert!(check.contains("Lambda:") && check.contains("--event-source-mapping"), "{check}");
    // Each heading holds its own flags only: the check's own are not filed under Lambda or AWS.
    let section = |name: &str| {
        let start = check.find(&format!("\n{name}:")).unwrap_or_else(|| panic!("{name}: {check}"));
        let flags: Vec<String> = check[start + 1..]
            .lines()
            .skip(1)
            .take_while(|l| l.is_empty() || l.starts_with(' '))
            .filter_map(|l| l.strip_prefix("      --"))
            .map(|l| l.split([' ', ',', '=', '<']).next().unwrap_or("").to_string())
            .collect();
        flags
    };
    assert_eq!(
        section("Lambda"),
        ["event-source-mapping", "event-source-mapping-file", "sink-connector-principal", "lambda-function"]
    );
    assert_eq!(
        section("AWS audit"),
        ["aws", "vpc-endpoint", "vpc-id", "endpoint-service", "dns-domain", "aws-region", "changes-since"]
    );
    let flat = check.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("(default: the properties file's, else SASL_SSL"), "{check}");
}

/// The lab's header fits 100 columns and prints no command that cannot run (its CA file goes
/// with the run): it says `kreach lab --serve` keeps the lab up. That one prints the command —
/// this very binary, one flag a line, each but the last ending in a backslash, quoted for the
/// shell — and the command, pasted into a shell while the lab is up, runs and passes.
#[test]
fn the_labs_command_is_printed_where_it_runs_and_it_runs() {
    use std::io::{BufRead, BufReader};
    let (code, stdout, stderr) = kreach(&["lab", "--timeout", "2"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let header: Vec<&str> = stdout.lines().take_while(|l| !l.is_empty()).collect();
    for line in &header {
        assert!(line.chars().count() <= 100, "{line}");
    }
    assert!(!header.iter().any(|l| l.trim_start().starts_with("--ca-file")), "{header:#?}");
    assert!(header.iter().any(|l| l.contains("kreach lab --serve")), "{header:#?}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_kreach"))
        .args(["lab", "--serve"])
        .envs(support::no_aws())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kreach lab --serve");
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).expect("line") == 0 {
            break;
        }
        let done = !line.trim_end().ends_with('\\') && lines.len() > 1;
        lines.push(line.trim_end().to_string());
        if done {
            break;
        }
    }
    let start = lines.iter().position(|l| l.trim_end().ends_with(" check \\")).expect("the command");
    let command = &lines[start..];
    assert!(command[..command.len() - 1].iter().all(|l| l.ends_with(" \\")), "{command:#?}");
    assert!(command[0].contains(env!("CARGO_BIN_EXE_kreach")), "this very binary: {}", command[0]);
    // What a shell does with it: backslash-newlines join the lines, then words are split.
    let joined: String = command.iter().map(|l| l.trim_end_matches('\\')).collect::<Vec<_>>().join(" ");
    let words = shlex::split(&joined).expect("a shell command");
    let run = Command::new(&words[0])
        .args(&words[1..])
        .args(["--no-client-check", "--output", "json"])
        .envs(support::no_aws())
        .output()
        .expect("run the printed command");
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).expect("a report");
    assert_eq!(report["status"], "pass", "{}", String::from_utf8_lossy(&run.stderr));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn published_schema_matches_the_report_types() {
    let (code, stdout, _) = kreach(&["schema"], &[]);
    assert_eq!(code, 0);
    let generated: serde_json::Value = serde_json::from_str(&stdout).expect("schema JSON");
    let path = support::workspace_root().join("docs/report.schema.json");
    let published: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("published JSON");
    assert_eq!(
        generated, published,
        "docs/report.schema.json is stale: regenerate with `cargo run -p kreach-cli -- schema > docs/report.schema.json`"
    );
}

#[test]
fn bad_input_is_one_clear_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["check", "--bootstrap", "broker:99999"], "invalid --bootstrap"),
        (&["check", "--bootstrap", "bad host:9092"], "invalid --bootstrap"),
        (&["check", "--bootstrap", "b:9092", "--resolver", "dns.example"], "invalid --resolver"),
        (&["check", "--bootstrap", "b:9092", "--private-cidr", "10.0.0.0/40"], "invalid --private-cidr"),
        (&["check", "--bootstrap", "b:9092", "--timeout", "-1"], "invalid --timeout"),
        (&["check", "--bootstrap", "b:9092", "--ca-file", "/nonexistent/ca.pem"], "/nonexistent/ca.pem"),
        (&["check", "--config", "/nonexistent/client.properties"], "/nonexistent/client.properties"),
        (&["check"], "no bootstrap server"),
        (&["check", "--bootstrap", "b:9092", "--security-protocol", "TLS"], "invalid --security-protocol"),
        (&["lab", "--fault", "no-such-fault"], "unknown fault"),
        (&["lab", "--layout", "no-such-layout"], "invalid --layout"),
        (&["check", "--bootstrap", "b:9092", "--target", "db.internal"], "invalid --target"),
        (&["check", "--bootstrap", "b:9092", "--target", "ftp://h:21"], "invalid --target"),
        (&["check", "--bootstrap", "b:9092", "--schema-registry", "sr.example:443"], "invalid --schema-registry"),
        (&["check", "--bootstrap", "b:9092", "--aws-apis", "--aws-region", "us west 2"], "invalid --aws-region"),
        (&["check", "--bootstrap", "b:9092", "--dns-domain", "not a domain"], "invalid --dns-domain"),
        (&["lab", "--fault", "glb-chase-failed", "--layout", "dedicated"], "does not apply to layout"),
        (
            &["check", "--bootstrap", "b:9092", "-X", "sasl.password=hunter2"],
            "secrets are not taken from the command line",
        ),
        (&["check", "--bootstrap", "b:9092", "-X", "no-equals-sign"], "give KEY=VALUE"),
        (&["check", "--bootstrap", "b:9092", "-X", "security.protocol=TLS"], "security.protocol"),
    ];
    for (args, needle) in cases {
        let (code, stdout, stderr) = kreach(args, &[]);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?} printed to stdout: {stdout}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: one line, got: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: expected `{needle}` in: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // clap's own usage errors use the same exit code.
    let (code, _, stderr) = kreach(&["check", "--output", "yaml", "--bootstrap", "b:1"], &[]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn malformed_properties_file_names_file_and_line() {
    let mut file = tempfile::NamedTempFile::new().expect("tmp");
    writeln!(file, "bootstrap.servers=b:9092\nsasl.password=\\u12").expect("write");
    let path = file.path().display().to_string();
    let (code, _, stderr) = kreach(&["check", "--config", &path], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains(&path) && stderr.contains("line 2"), "{stderr}");
}

#[test]
fn lab_json_validates_and_passes() {
    let (code, stdout, stderr) = kreach(&["lab", "--output", "json"], &[]);
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON only on stdout");
    let errors: Vec<String> = schema().iter_errors(&report).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(report["status"], "pass");
    assert_eq!(report["settings"]["tls_verification"], "enabled");
}

#[test]
fn lab_fault_exits_1_and_every_fault_output_validates() {
    let validator = schema();
    let (code, list, _) = kreach(&["lab", "--list-faults"], &[]);
    assert_eq!(code, 0);
    let in_process: Vec<&str> = list
        .lines()
        .filter(|l| l.contains(" both labs ") || l.contains(" in-process only "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let netns_only: Vec<&str> =
        list.lines().filter(|l| l.contains(" netns lab only ")).filter_map(|l| l.split_whitespace().next()).collect();
    assert!(in_process.len() >= 10 && in_process.contains(&"az-down"), "{list}");
    assert_eq!(netns_only, ["sasl-broker", "path-mtu-blackhole"], "{list}");
    assert!(list.lines().all(|l| l.chars().count() <= 100), "--list-faults fits 100 columns:\n{list}");
    let words = list.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("(--brokers 4 or more)"), "broker-down says what it needs: {list}");
    // A fault the lab as sized cannot put in force is refused, naming the minimum, not run as a PASS.
    for (fault, brokers, minimum) in
        [("broker-down", "3", "4"), ("broker-name-unresolvable", "2", "3"), ("zonal-record-missing", "1", "2")]
    {
        let (code, stdout, stderr) = kreach(&["lab", "--fault", fault, "--brokers", brokers], &[]);
        assert_eq!(code, 2, "{fault} with {brokers} brokers: {stdout}");
        assert!(stderr.contains(fault) && stderr.contains(&format!("--brokers {minimum}")), "{stderr}");
    }
    // A fault only the netns lab serves is refused by name, not run half-broken.
    for fault in &netns_only {
        let (code, stdout, stderr) = kreach(&["lab", "--fault", fault], &[]);
        assert_eq!(code, 2, "{fault}: {stdout}");
        assert!(stderr.contains(fault) && stderr.contains("network-namespace lab"), "{stderr}");
    }
    let faults = in_process;
    for fault in faults.iter().filter(|f| !f.contains("dropped") && **f != "resolver-down" && **f != "az-down") {
        let (code, stdout, stderr) = kreach(&["lab", "--fault", fault, "--output", "json"], &[]);
        let report: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{fault}: {e} {stderr}"));
        assert!(validator.is_valid(&report), "{fault}: report does not validate");
        let expected = match report["status"].as_str() {
            Some("fail") => 1,
            _ => 0,
        };
        assert_eq!(code, expected, "{fault}");
        match *fault {
            "none" => assert_eq!(report["status"], "pass"),
            // Through NAT instead of interface endpoints: it works (the route is reported, info).
            "aws-api-public" => assert_eq!(report["status"], "pass", "{fault}"),
            "expiring-cert"
            | "zonal-record-missing"
            | "zonal-record-by-az-name"
            | "zone-too-broad"
            | "client-idle-timeout" => assert_eq!(report["status"], "warn", "{fault} works, with a warning"),
            _ => assert_eq!(report["status"], "fail", "{fault} must fail"),
        }
    }
}

#[test]
fn table_output_is_a_matrix_with_fixes_and_markdown_is_a_ticket() {
    let (code, table, _) = kreach(&["lab", "--fault", "cert-wrong-name"], &[]);
    assert_eq!(code, 1);
    for needle in ["DNS", "TCP", "TLS", "HTTPS", "FAIL", "tls-name-mismatch", "fix:", "other-service.example.net"] {
        assert!(table.contains(needle), "missing {needle}:\n{table}");
    }
    assert!(!table.contains('\u{1b}'), "NO_COLOR: no escape codes");
    let (code, zones, _) = kreach(&["lab", "--fault", "az-down", "--timeout", "1"], &[]);
    assert_eq!(code, 1);
    assert!(
        zones.contains("Zones: usw2-az1 PASS (2/2 brokers), usw2-az2 FAIL (0/2 brokers), usw2-az3 PASS (2/2 brokers)"),
        "{zones}"
    );
    let (_, md, _) = kreach(&["lab", "--fault", "cert-wrong-name", "--output", "markdown"], &[]);
    assert!(md.contains("| target | DNS | TCP | TLS | HTTPS |"), "{md}");
    assert!(md.contains("**error** `tls-name-mismatch`"), "{md}");
}

#[test]
fn secrets_never_appear_in_any_output() {
    let secret = "s3cr3t-API-SECRET-value";
    let env_secret = "env-only-S3CRET";
    let mut file = tempfile::NamedTempFile::new().expect("tmp");
    writeln!(
        file,
        "bootstrap.servers=127.0.0.1:1\nsecurity.protocol=SASL_SSL\nsasl.mechanisms=PLAIN\nsasl.username=KEY\nsasl.password={secret}"
    )
    .expect("write");
    let path = file.path().display().to_string();
    for output in ["table", "json", "markdown"] {
        let (code, stdout, stderr) = kreach(
            &["check", "--config", &path, "--no-https", "--timeout", "1", "--output", output],
            &[("KREACH_SASL_PASSWORD", env_secret)],
        );
        assert_eq!(code, 1, "nothing listens on 127.0.0.1:1: {stderr}");
        for s in [secret, env_secret] {
            assert!(!stdout.contains(s) && !stderr.contains(s), "{output} leaked a secret");
        }
        if output == "json" {
            let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
            assert_eq!(report["settings"]["sasl_credentials"], true);
            assert_eq!(report["settings"]["sasl_mechanism"], "PLAIN");
        }
    }
}

/// Runs kreach against a moto server with test credentials in its environment.
fn kreach_aws(args: &[&str], moto: &support::moto::Moto) -> (i32, String, String) {
    kreach(
        args,
        &[
            ("AWS_ENDPOINT_URL", moto.url.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-west-2"),
        ],
    )
}

#[test]
fn records_change_batch_is_accepted_by_route53_and_fixes_the_zone() {
    let domain = "abc123.us-west-2.aws.confluent.cloud";
    let moto = support::moto::Moto::start(&support::workspace_root());
    let account = moto.plant("record-missing", domain);
    let endpoint = account["vpc_endpoint_id"].as_str().expect("endpoint");
    let check = |moto: &support::moto::Moto| {
        let (code, stdout, stderr) = kreach_aws(
            &[
                "check",
                "--bootstrap",
                &format!("lkc-1.{domain}:9092"),
                "--no-https",
                "--no-client-check",
                "--timeout",
                "3",
                "--vpc-endpoint",
                endpoint,
                "--output",
                "json",
            ],
            moto,
        );
        assert!(code == 0 || code == 1, "{stderr}");
        let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert!(schema().is_valid(&report), "the report with an AWS section validates");
        report
    };
    let before = check(&moto);
    let aws_codes = |r: &serde_json::Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["stage"] == "aws")
            .map(|f| f["code"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(aws_codes(&before), ["aws-phz-record-missing"], "{:#}", before["findings"]);
    assert!(before["targets"][0]["stages"].as_array().expect("stages").iter().any(|s| s["stage"] == "aws"));

    let (code, table, stderr) = kreach_aws(&["records", "--vpc-endpoint", endpoint, "--dns-domain", domain], &moto);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(table.lines().count(), 4, "* and one per zone: {table}");
    // An access point's domain (or a PrivateLink Attachment's) takes the one wildcard record alone.
    for other in ["aplab01.us-west-2.aws.accesspoint.confluent.cloud", "us-west-2.aws.private.confluent.cloud"] {
        let (code, json, stderr) =
            kreach_aws(&["records", "--vpc-endpoint", endpoint, "--dns-domain", other, "--output", "json"], &moto);
        assert_eq!(code, 0, "{stderr}");
        let records: serde_json::Value = serde_json::from_str(&json).expect("json");
        let names: Vec<&str> = records.as_array().expect("list").iter().filter_map(|r| r["name"].as_str()).collect();
        assert_eq!(names, [format!("*.{other}")], "{json}");
    }
    let (code, batch, stderr) =
        kreach_aws(&["records", "--vpc-endpoint", endpoint, "--dns-domain", domain, "--output", "change-batch"], &moto);
    assert_eq!(code, 0, "{stderr}");
    let file = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(file.path(), &batch).expect("write batch");
    let zone = account["hosted_zone_id"].as_str().expect("zone");
    let out = moto.python("fixtures/aws/apply_change_batch.py", &[&moto.url, zone, &file.path().display().to_string()]);
    assert!(out.status.success(), "Route 53 refused the change batch: {}", String::from_utf8_lossy(&out.stderr));

    let after = check(&moto);
    assert_eq!(aws_codes(&after), Vec::<String>::new(), "the batch fixed the zone: {:#}", after["findings"]);
}

#[test]
fn without_aws_credentials_the_audit_is_skipped_with_an_info_finding() {
    let (code, stdout, _) =
        kreach(&["check", "--bootstrap", "127.0.0.1:1", "--no-https", "--timeout", "1", "--output", "json"], &[]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let f = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "aws-unavailable")
        .expect("aws-unavailable");
    assert_eq!(f["severity"], "info");
    assert!(report["aws"]["calls"].as_array().is_some_and(|c| c.is_empty()), "no AWS call without credentials");
}

/// EC2 is what the instance identity document says: moto's metadata service (a real
/// implementation of the documented IMDSv2 paths, token first) serves no identity document, so
/// kreach does not call that an EC2 instance; the stand-in below serves the document too.
#[test]
fn ec2_vantage_comes_from_the_instance_identity_document() {
    let run = |endpoint: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kreach"));
        cmd.args(QUICK_CHECK)
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint)
            .env_remove("AWS_EC2_METADATA_DISABLED")
            .stdin(Stdio::null());
        for k in ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_LAMBDA_FUNCTION_NAME"] {
            cmd.env_remove(k);
        }
        let out = cmd.output().expect("kreach");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert!(schema().is_valid(&report));
        report["vantage"].clone()
    };
    let moto = support::moto::Moto::start(&support::workspace_root());
    moto.warm_up_imds();
    let v = run(&moto.url);
    assert_eq!(v["kind"], "other", "no identity document, no EC2: {v:#}");
    assert!(v["note"].as_str().is_some_and(|n| n.contains("identity document")), "{v:#}");

    let imds = imds_stand_in("tok-1", identity(&[("placement/availability-zone-id", "use1-az1".into())]));
    let v = run(&imds);
    assert_eq!(v["kind"], "ec2", "{v:#}");
    assert_eq!(v["facts"]["instance_id"], "i-0123456789abcdef0");
    assert_eq!(v["facts"]["az_id"], "use1-az1");
    assert_eq!(v["label"], "use1-az1 (i-0123456789abcdef0)");
}

/// A hostile or broken metadata service: a token that would inject a header, a MAC that would
/// walk the request path, garbage facts. Nothing unchecked is reused or reported.
#[test]
fn a_hostile_metadata_service_is_not_trusted() {
    let garbage = "\u{1b}[2J".to_string() + &"x".repeat(2000);
    let cases: Vec<(&str, Facts, &str)> = vec![
        ("tok-1\r\nX-Injected: yes", identity(&[]), "other"),
        (
            "tok-1",
            vec![("instance-id", garbage.clone()), ("dynamic/instance-identity/document", garbage.clone())],
            "other",
        ),
        (
            "tok-1",
            identity(&[
                ("mac", "../../../../latest/api/token".into()),
                ("placement/availability-zone-id", garbage.clone()),
            ]),
            "ec2",
        ),
    ];
    for (token, facts, kind) in cases {
        let (imds, injected) = imds_stand_in_watched(token, facts);
        let (_, stdout, _) = kreach(
            QUICK_CHECK,
            &[("AWS_EC2_METADATA_DISABLED", "false"), ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.as_str())],
        );
        let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        let v = &report["vantage"];
        assert_eq!(v["kind"], kind, "{token:?}: {v:#}");
        let text = v.to_string();
        assert!(text.len() < 1000 && !text.contains("xxxxxxxx") && !text.contains("../"), "{text}");
        assert!(v["facts"].get("mac").is_none() && v["facts"].get("az_id").is_none(), "{v:#}");
        assert!(!injected.load(std::sync::atomic::Ordering::SeqCst), "{token:?}: an injected header or path was sent");
    }
}

/// Metadata paths (below `/latest/meta-data/` or `/latest/`) and what the stand-in answers.
type Facts = Vec<(&'static str, String)>;

/// The documented metadata paths of an instance, with the identity document, plus `extra`.
fn identity(extra: &[(&'static str, String)]) -> Facts {
    let mut facts = vec![(
        "dynamic/instance-identity/document",
        r#"{"instanceId": "i-0123456789abcdef0", "region": "us-east-1", "availabilityZone": "us-east-1a",
            "privateIp": "10.20.1.7", "accountId": "123456789012"}"#
            .to_string(),
    )];
    facts.extend(extra.iter().cloned());
    facts
}

#[test]
fn imds_disabled_means_no_metadata_request() {
    let (_, stdout, _) = kreach(QUICK_CHECK, &[]);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["vantage"]["kind"], "other");
    assert!(report["vantage"]["note"].as_str().is_some_and(|n| n.contains("AWS_EC2_METADATA_DISABLED")));
    // An address literal is not a DNS answer: no hint about private names here.
    assert!(!stdout.contains("env-outside-aws"));
}

#[test]
fn lambda_outside_the_vpc_is_named_as_the_likely_cause() {
    // A real DNS server (hickory, in-process) that gives the cluster name a public answer.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt
        .block_on(kreach_lab::DnsServer::start(
            "127.0.0.1:0".parse().expect("addr"),
            &[kreach_lab::Zone::new("example.com")
                .with("lkc-1.example.com", kreach_lab::Rdata::Addr("127.200.0.9".parse().expect("ip")))],
        ))
        .expect("dns");
    let resolver = server.addr().to_string();
    let check = |env: &[(&str, &str)]| {
        let args = ["check", "--bootstrap", "lkc-1.example.com:9092", "--resolver", &resolver, "--no-https"];
        let rest = ["--no-client-check", "--timeout", "2", "--output", "json"];
        let (code, stdout, _) = kreach(&[&args[..], &rest[..]].concat(), env);
        (code, stdout)
    };
    let (code, stdout) = check(&[
        ("AWS_LAMBDA_FUNCTION_NAME", "kreach-probe"),
        ("AWS_REGION", "us-west-2"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
    ]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["vantage"]["kind"], "lambda");
    assert_eq!(report["vantage"]["facts"]["memory_mb"], "256");
    let codes = codes(&report);
    assert!(codes.contains(&"env-lambda-not-in-vpc") && codes.contains(&"dns-public-answer"), "{codes:?}");
    // The same from a machine outside AWS: an info hint instead.
    let (_, stdout) = check(&[]);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let hint =
        report["findings"].as_array().expect("findings").iter().find(|f| f["code"] == "env-outside-aws").expect("hint");
    assert_eq!(hint["severity"], "info");
    drop(server);
}

/// The same cluster from two vantage points has the same ports; two labs have their own random
/// ones: the second report's bootstrap and HTTPS ports are made the first's (each by its role).
fn same_cluster_ports(a: &str, b: &str) {
    let ports = |path: &str| -> Vec<u64> {
        let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
        ["bootstrap", "https"]
            .iter()
            .map(|role| {
                let t = r["targets"].as_array().expect("targets").iter().find(|t| t["role"] == *role).expect("role");
                t["port"].as_u64().expect("port")
            })
            .collect()
    };
    let (pa, pb) = (ports(a), ports(b));
    let mut text = std::fs::read_to_string(b).expect("read");
    // Through a placeholder, so a port of one lab that is the other's cannot be swapped twice.
    for (i, from) in pb.iter().enumerate() {
        text = text
            .replace(&format!(":{from}"), &format!(":<port{i}>"))
            .replace(&format!("\"port\": {from}"), &format!("\"port\": <port{i}>"));
    }
    for (i, to) in pa.iter().enumerate() {
        text = text.replace(&format!("<port{i}>"), &to.to_string());
    }
    std::fs::write(b, text).expect("write");
}

#[test]
fn merge_shows_what_differs_between_vantage_points() {
    let dir = tempfile::tempdir().expect("tmp");
    let write = |name: &str, args: &[&str]| {
        let (_, stdout, stderr) = kreach(args, &[]);
        assert!(stdout.starts_with('{'), "{stderr}");
        let path = dir.path().join(name);
        std::fs::write(&path, stdout).expect("write");
        path.display().to_string()
    };
    let a = write("usw2-az1.json", &["lab", "--output", "json"]);
    let b = write("usw2-az3.json", &["lab", "--fault", "az-down", "--timeout", "1", "--output", "json"]);
    same_cluster_ports(&a, &b);
    let (code, table, stderr) = kreach(&["merge", &a, &b], &[]);
    assert_eq!(code, 1, "one vantage point fails: {stderr}");
    assert!(table.contains("usw2-az1") && table.contains("usw2-az3"), "{table}");
    let (_, json, _) = kreach(&["merge", &a, &b, "--output", "json"], &[]);
    let merged: serde_json::Value = serde_json::from_str(&json).expect("json");
    let differences: Vec<&str> =
        merged["differences"].as_array().expect("differences").iter().filter_map(|d| d.as_str()).collect();
    assert!(
        differences.iter().any(|d| d.starts_with("b2.usw2-az2")
            && d.contains("works from usw2-az1")
            && d.contains("fails from usw2-az3")),
        "{differences:#?}"
    );
    assert!(!differences.iter().any(|d| d.starts_with("b1.usw2-az1")), "healthy from both: no difference");
    let finding_differences: Vec<&str> = merged["finding_differences"]
        .as_array()
        .expect("finding_differences")
        .iter()
        .filter_map(|d| d.as_str())
        .collect();
    assert!(
        finding_differences.contains(&"zone-unreachable: from usw2-az3; not from usw2-az1"),
        "{finding_differences:#?}"
    );
    assert!(table.contains("Findings raised from some vantage points only:"), "{table}");
    let (code, _, stderr) = kreach(&["merge", "/nonexistent.json"], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent.json"));
}

/// Two `kreach check` reports from the same machine: each vantage gets its own label (the host
/// name is the same, so the file tells them apart), the merged view fits 100 columns, and the AWS
/// stage that did not run (no credentials) hides no measured verdict.
#[test]
fn merge_of_two_checks_from_one_machine_fits_and_labels_each() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let healthy = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::None)).expect("lab");
    let broken = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::AzDown)).expect("lab");
    let dir = tempfile::tempdir().expect("tmp");
    let write = |name: &str, lab: &kreach_lab::Lab| {
        let mut argv: Vec<String> = vec!["check".into()];
        argv.extend(lab.check_args());
        argv.extend(["--no-client-check", "--timeout", "2", "--output", "json"].map(String::from));
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let (_, stdout, stderr) = kreach(&argv, &[]);
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
        assert!(
            report["vantage"]["label"].as_str().is_some_and(|l| l.starts_with("this machine")),
            "{}",
            report["vantage"]
        );
        let path = dir.path().join(name);
        std::fs::write(&path, stdout).expect("write");
        path.display().to_string()
    };
    let a = write("from-a.json", &healthy);
    let b = write("from-b.json", &broken);
    same_cluster_ports(&a, &b);
    let (_, json, stderr) = kreach(&["merge", &a, &b, "--output", "json"], &[]);
    let merged: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let labels: Vec<&str> =
        merged["vantages"].as_array().expect("vantages").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(labels.len(), 2);
    assert_ne!(labels[0], labels[1], "two vantage points, two labels");
    assert!(
        labels[0].starts_with("from-a: this machine") && labels[1].starts_with("from-b: this machine"),
        "{labels:?}"
    );
    // The healthy report's bootstrap passes in the merge although its AWS stage was skipped.
    let bootstrap = &merged["rows"][0];
    assert_eq!(bootstrap["cells"][0]["status"], "pass", "{bootstrap:#}");
    let differences = merged["differences"].as_array().expect("differences");
    assert!(
        !differences.iter().filter_map(|d| d.as_str()).any(|d| d.contains("not checked")),
        "a skipped extra is no difference: {differences:#?}"
    );

    let (code, table, _) = kreach(&["merge", &a, &b], &[("COLUMNS", "100")]);
    assert_eq!(code, 1, "one vantage point fails");
    let widest = table.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest <= 100, "{widest} columns:\n{table}");
    assert!(table.starts_with("Targets in abc123.us-west-2.aws.confluent.cloud"), "{table}");
    assert!(table.contains("b2.usw2-az2:"), "short target names: {table}");
    assert_eq!(table.lines().filter(|l| l.contains("b2.usw2-az2:")).count(), 1, "one row per target: {table}");

    // More vantage points than fit side by side: further tables, each line still within 100.
    let many: Vec<&str> = [&a, &b, &a, &b, &a].iter().map(|s| s.as_str()).collect();
    let mut argv = vec!["merge"];
    argv.extend(many);
    let (_, table, _) = kreach(&argv, &[]);
    assert!(table.lines().all(|l| l.chars().count() <= 100), "{table}");
    assert!(table.contains("Vantage points 1–3 of 5") && table.contains("Vantage points 4–5 of 5"), "{table}");
    assert!(table.contains("from-a: this machine") && table.contains("#3"), "repeated inputs get numbers: {table}");
}

/// A stand-in for the instance metadata service serving the documented IMDSv2 paths, token first
/// (a GET without the token gets 401). moto's metadata service (used above) has no
/// `network/interfaces/macs/…` paths, which carry the VPC and security groups, so this test serves
/// them itself, as the issue allows.
fn imds_stand_in(token: &str, facts: Vec<(&'static str, String)>) -> String {
    imds_stand_in_watched(token, facts).0
}

/// The stand-in, with a flag raised when a request carried an injected header or a `..` path.
fn imds_stand_in_watched(
    token: &str,
    facts: Vec<(&'static str, String)>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let injected = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = injected.clone();
    let token = token.to_string();
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("imds");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut head = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push(line);
            }
            let request = head.first().cloned().unwrap_or_default();
            let has_token = head.iter().any(|h| h.to_ascii_lowercase().starts_with("x-aws-ec2-metadata-token: tok-1"));
            // A request line or header that carries anything injected ends the exchange unanswered.
            if head.iter().any(|h| h.to_ascii_lowercase().starts_with("x-injected")) || request.contains("..") {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            let path = request.split_whitespace().nth(1).unwrap_or("");
            let (status, body) = if request.starts_with("PUT /latest/api/token") {
                ("200 OK", token.clone())
            } else if !has_token {
                ("401 Unauthorized", String::new())
            } else {
                let found = facts
                    .iter()
                    .find(|(p, _)| path == format!("/latest/meta-data/{p}") || path == format!("/latest/{p}"));
                match found {
                    Some((_, v)) => ("200 OK", v.clone()),
                    None => ("404 Not Found", String::new()),
                }
            };
            let reply =
                format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = (&stream).write_all(reply.as_bytes());
        }
    });
    (format!("http://{addr}"), injected)
}

#[test]
fn on_ec2_the_instances_vpc_and_security_groups_sharpen_the_audit() {
    let moto = support::moto::Moto::start(&support::workspace_root());
    let account = moto.plant("healthy", kreach_lab::LAB_DOMAIN);
    let vpc = account["vpc_id"].as_str().expect("vpc").to_string();
    let out = moto.python("fixtures/aws/moto_lambda.py", &[&moto.url, &vpc]);
    assert!(out.status.success(), "fixture: {}", String::from_utf8_lossy(&out.stderr));
    let groups: serde_json::Value = serde_json::from_slice(&out.stdout).expect("fixture JSON");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The endpoint drops the Kafka port.
    let lab = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::KafkaPortDropped)).expect("lab");

    let run = |security_groups: &str| {
        let mac = "0e:11:22:33:44:55";
        let imds = imds_stand_in(
            "tok-1",
            vec![
                (
                    "dynamic/instance-identity/document",
                    r#"{"instanceId": "i-0123456789abcdef0", "region": "us-west-2", "availabilityZone": "us-west-2b",
                    "privateIp": "10.20.1.7"}"#
                        .into(),
                ),
                ("placement/availability-zone-id", "usw2-az1".into()),
                ("mac", mac.into()),
                ("network/interfaces/macs/0e:11:22:33:44:55/vpc-id", vpc.clone()),
                ("network/interfaces/macs/0e:11:22:33:44:55/subnet-id", "subnet-0123456789abcdef0".into()),
                ("network/interfaces/macs/0e:11:22:33:44:55/security-group-ids", security_groups.replace(',', "\n")),
            ],
        );
        let mut args: Vec<String> = vec!["check".into()];
        args.extend(lab.check_args());
        // No --vpc-endpoint, no --vpc-id: the audit looks in the instance's VPC.
        args.extend(
            ["--aws", "--aws-region", "us-west-2", "--no-client-check", "--timeout", "3", "--output", "json"]
                .map(String::from),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = kreach(
            &args,
            &[
                ("AWS_ENDPOINT_URL", moto.url.as_str()),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_EC2_METADATA_DISABLED", "false"),
                ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.as_str()),
            ],
        );
        assert_eq!(code, 1, "{stderr}");
        let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert!(schema().is_valid(&report));
        report
    };
    let sg_findings = |report: &serde_json::Value| -> Vec<String> {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["code"] == "aws-sg-missing-ingress")
            .map(|f| format!("{} | {}", f["summary"], f["fix"]))
            .collect()
    };

    let probe_sg = groups["probe_security_group"].as_str().expect("sg");
    let report = run(probe_sg);
    assert_eq!(report["vantage"]["kind"], "ec2");
    assert_eq!(report["vantage"]["facts"]["vpc_id"], vpc.as_str());
    // Two interface endpoints exist (one in another VPC): the instance's VPC picks the right one.
    assert_eq!(report["aws"]["endpoint"]["id"], account["vpc_endpoint_id"], "endpoint found in the instance's VPC");
    assert_eq!(report["aws"]["errors"], serde_json::json!([]), "no ambiguity");
    let found = sg_findings(&report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("10.20.1.7") && found[0].contains(probe_sg), "{}", found[0]);
    assert!(found[0].contains(&format!("--port 9092 --source-group {probe_sg}")), "{}", found[0]);
    let codes = codes(&report);
    assert!(!codes.contains(&"aws-phz-not-associated"), "same VPC as the endpoint: {codes:?}");

    // In the clients' group (as its second group) the rules admit it: the port fails for another reason.
    let report = run(&format!("{probe_sg},{}", groups["client_security_group"].as_str().expect("sg")));
    assert!(sg_findings(&report).is_empty(), "{:?}", sg_findings(&report));
    drop(lab);
}

#[test]
fn lab_serve_keeps_the_lab_up_for_other_tools_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_kreach"))
        .args(["lab", "--serve", "--output", "json"])
        .envs(support::no_aws())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kreach lab --serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
    let info: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
    let ca_file = info["ca_file"].as_str().expect("ca_file").to_string();
    assert!(std::path::Path::new(&ca_file).exists());
    assert!(info["lambda_event"]["ca_pem"].as_str().is_some_and(|p| p.contains("BEGIN CERTIFICATE")));

    // Another process diagnoses the lab with the arguments it printed.
    let mut args: Vec<String> = vec!["check".into()];
    args.extend(info["check_args"].as_array().expect("args").iter().filter_map(|a| a.as_str().map(str::to_string)));
    args.extend(["--no-client-check", "--output", "json"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = kreach(&args, &[]);
    assert_eq!(code, 0, "{stderr}{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["status"], "pass");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "a clean exit on SIGTERM");
    assert!(!std::path::Path::new(&ca_file).exists(), "the lab's files are removed");
}

#[test]
fn sasl_credentials_from_a_secrets_manager_secret_and_a_clear_finding_when_it_cannot_be_read() {
    let moto = support::moto::Moto::start(&support::workspace_root());
    let account = moto.plant("healthy", kreach_lab::LAB_DOMAIN);
    let out = moto.python("fixtures/aws/moto_lambda.py", &[&moto.url, account["vpc_id"].as_str().expect("vpc")]);
    assert!(out.status.success(), "fixture: {}", String::from_utf8_lossy(&out.stderr));
    let planted: serde_json::Value = serde_json::from_slice(&out.stdout).expect("fixture JSON");
    let password = planted["password"].as_str().expect("password");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let lab = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::None)).expect("lab");
    let mut base: Vec<String> = vec!["check".into()];
    base.extend(lab.check_args());
    // SASL_SSL against the lab: its mock brokers answer ApiVersions but offer no SASL mechanism.
    let at = base.iter().position(|a| a == "--security-protocol").expect("protocol flag");
    base[at + 1] = "SASL_SSL".into();
    base.extend(["--no-client-check", "--timeout", "5"].map(String::from));
    let aws_env = |extra: &[(&'static str, &str)]| {
        let mut env = vec![
            ("AWS_ENDPOINT_URL", moto.url.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_REGION", "us-west-2".to_string()),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        env
    };
    let run = |extra_args: &[&str], env: Vec<(&'static str, String)>| {
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        args.extend_from_slice(extra_args);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (code, stdout, stderr) = kreach(&args, &env);
        assert!(!stdout.contains(password) && !stderr.contains(password), "the secret's value leaked");
        (code, stdout, stderr)
    };

    // By flag, then by environment; JSON and table.
    for (args, env) in [
        (&["--sasl-secret", "kreach/lab", "--output", "json"][..], aws_env(&[])),
        (&["--output", "json"][..], aws_env(&[("KREACH_SASL_SECRET", "kreach/lab")])),
    ] {
        let (code, stdout, stderr) = run(args, env);
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
        assert_eq!(report["secret"]["outcome"], "read", "{:#}", report["secret"]);
        assert_eq!(report["secret"]["keys"], serde_json::json!(["username", "password"]));
        assert_eq!(report["settings"]["sasl_credentials"], true);
        assert!(schema().is_valid(&report));
        // With credentials kreach goes on to the SASL handshake, which the lab's brokers do not
        // offer; without them it would stop after ApiVersions (kafka-no-credentials).
        let codes = codes(&report);
        assert!(codes.contains(&"kafka-sasl-mechanism-unsupported"), "{codes:?}");
        assert!(!codes.contains(&"kafka-no-credentials"), "{codes:?}");
        assert_eq!(code, 1, "{stderr}");
    }
    let (_, table, _) = run(&["--sasl-secret", "kreach/lab"], aws_env(&[]));
    assert!(table.contains("Credentials: secret kreach/lab read (username/password)"), "{table}");

    // A secret that is not there: a finding with the fix, exit 1, the checks still ran.
    let (code, stdout, _) = run(&["--sasl-secret", "kreach/missing", "--output", "json"], aws_env(&[]));
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["secret"]["outcome"], "not_found");
    let f = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "credentials-secret-unreadable")
        .expect("credentials-secret-unreadable");
    assert!(f["fix"].as_str().is_some_and(|fix| fix.contains("describe-secret --secret-id kreach/missing")), "{f:#}");
    assert_eq!(report["settings"]["sasl_credentials"], false);
    assert!(report["findings"].as_array().expect("findings").iter().any(|f| f["code"] == "kafka-no-credentials"));
    drop(lab);
}

/// An event source mapping read from the JSON `aws lambda get-event-source-mapping` prints: its
/// bootstrap servers are the targets, and each documented PROBLEM string is quoted and explained
/// with what kreach measured. (moto cannot create a self-managed Kafka mapping: the file is the
/// documented response shape.)
#[test]
fn an_event_source_mapping_file_drives_the_check_and_its_problem_is_explained() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let lab = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::KafkaPortDropped)).expect("lab");
    // The lab's arguments without --bootstrap: the mapping gives it.
    let mut base: Vec<String> = Vec::new();
    let mut args = lab.check_args().into_iter();
    while let Some(a) = args.next() {
        if a == "--bootstrap" {
            args.next();
        } else {
            base.push(a);
        }
    }
    let cases = [
        (
            "PROBLEM: Connection error. Please check your event source connection configuration.",
            "cannot connect",
            "tcp fail",
        ),
        ("PROBLEM: SASL authentication failed.", "were rejected", ""),
        ("PROBLEM: Cluster failed to authorize Lambda.", "ACLs", ""),
    ];
    for (problem, meaning, measured) in cases {
        let mapping = serde_json::json!({
            "UUID": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
            "FunctionArn": "arn:aws:lambda:us-west-2:123456789012:function:orders-consumer",
            "State": "Enabled",
            "LastProcessingResult": problem,
            "Topics": ["orders"],
            "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [lab.bootstrap]}},
            "SourceAccessConfigurations": [{"Type": "VPC_SUBNET", "URI": "subnet:subnet-0a1"}]
        });
        let mut file = tempfile::NamedTempFile::new().expect("tmp");
        write!(file, "{mapping}").expect("write");
        let mut argv: Vec<String> = vec!["check".into()];
        argv.extend(base.iter().cloned());
        let path = file.path().display().to_string();
        argv.extend([
            "--event-source-mapping-file".into(),
            path,
            "--timeout".into(),
            "3".into(),
            "--output".into(),
            "json".into(),
            "--no-client-check".into(),
        ]);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = kreach(&argv, &[]);
        assert_eq!(code, 1, "{problem}: {stderr}");
        let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(report["settings"]["bootstrap"][0], lab.bootstrap.as_str(), "the mapping's bootstrap is the target");
        assert_eq!(report["event_source_mapping"]["uuid"], "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE");
        let f = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["code"] == "esm-state-problem")
            .unwrap_or_else(|| panic!("{problem}: {stdout}"));
        let summary = f["summary"].as_str().expect("summary");
        assert!(summary.contains(problem) && summary.contains(meaning), "{summary}");
        assert!(summary.contains(measured), "what was measured: {summary}");
    }
    let (code, _, stderr) = kreach(&["check", "--event-source-mapping-file", "/nonexistent/esm.json"], &[]);
    assert!(code == 2 && stderr.contains("invalid --event-source-mapping-file"), "{stderr}");
}

/// The mapping's SERVER_ROOT_CA_CERTIFICATE secret (moto) is the CA the TLS stage trusts: with it
/// the lab's private CA verifies; without it (a secret that does not exist) the report says the
/// secret could not be used, and TLS fails as it would for the mapping.
#[test]
fn an_event_source_mappings_root_ca_secret_reaches_the_tls_stage() {
    let moto = support::moto::Moto::start(&support::workspace_root());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let lab = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::None)).expect("lab");
    let ca = std::fs::read_to_string(lab.ca_file()).expect("lab ca");
    let mut value = tempfile::NamedTempFile::new().expect("tmp");
    write!(value, "{}", serde_json::json!({ "certificate": ca })).expect("write");
    let path = value.path().display().to_string();
    let out = moto.python("fixtures/aws/moto_secret.py", &[&moto.url, "kafka/root-ca", &path]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let arn = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // The lab's arguments without --bootstrap and --ca-file: the mapping gives both.
    let mut base: Vec<String> = Vec::new();
    let mut args = lab.check_args().into_iter();
    while let Some(a) = args.next() {
        if a == "--bootstrap" || a == "--ca-file" {
            args.next();
        } else {
            base.push(a);
        }
    }
    for (secret, verified) in
        [(arn.as_str(), true), ("arn:aws:secretsmanager:us-west-2:123456789012:secret:nope", false)]
    {
        let mapping = serde_json::json!({
            "UUID": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
            "LastProcessingResult": "OK",
            "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [lab.bootstrap]}},
            "SourceAccessConfigurations": [{"Type": "SERVER_ROOT_CA_CERTIFICATE", "URI": secret}]
        });
        let mut file = tempfile::NamedTempFile::new().expect("tmp");
        write!(file, "{mapping}").expect("write");
        let mapping_path = file.path().display().to_string();
        let mut argv: Vec<String> = vec!["check".into()];
        argv.extend(base.iter().cloned());
        argv.extend(
            ["--event-source-mapping-file", &mapping_path, "--output", "json", "--no-client-check"].map(String::from),
        );
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = kreach_aws(&argv, &moto);
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
        let codes: Vec<&str> =
            report["findings"].as_array().expect("findings").iter().filter_map(|f| f["code"].as_str()).collect();
        if verified {
            assert!(!codes.iter().any(|c| c.starts_with("tls-") || *c == "credentials-secret-unreadable"), "{codes:?}");
            // Held in memory, never written to a file: the report names the secret it came from.
            let ca = report["settings"]["ca_file"].as_str().unwrap_or_default();
            assert!(ca.contains("SERVER_ROOT_CA_CERTIFICATE"), "{ca}");
        } else {
            assert_eq!(code, 1, "{stderr}");
            assert!(
                codes.contains(&"credentials-secret-unreadable") && codes.contains(&"tls-unknown-issuer"),
                "{codes:?}"
            );
            assert!(
                report["event_source_mapping"]["root_ca_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("ResourceNotFound"))
            );
        }
    }
}

/// Completions and the man page come from the CLI definition itself: every flag is in them, and
/// bash accepts the completion script.
#[test]
fn completions_and_man_page_are_generated_from_the_cli() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, script, stderr) = kreach(&["completions", shell], &[]);
        assert_eq!(code, 0, "{shell}: {stderr}");
        for flag in ["--event-source-mapping-file", "--schema-registry", "--sink-connector-principal"] {
            assert!(script.contains(flag.trim_start_matches('-')), "{shell}: {flag} missing");
        }
    }
    let (_, bash, _) = kreach(&["completions", "bash"], &[]);
    let mut file = tempfile::NamedTempFile::new().expect("tmp");
    write!(file, "{bash}").expect("write");
    let checked = Command::new("bash").arg("-n").arg(file.path()).output().expect("bash -n");
    assert!(checked.status.success(), "bash rejects the script: {}", String::from_utf8_lossy(&checked.stderr));
    let (code, man, _) = kreach(&["man"], &[]);
    assert_eq!(code, 0);
    assert!(man.starts_with(".ie") || man.contains(".TH kreach 1"), "{}", &man[..man.len().min(200)]);
    assert!(man.contains("check") && man.contains("records"), "subcommands listed");
    let (code, _, stderr) = kreach(&["completions", "tcsh"], &[]);
    assert_eq!(code, 2, "{stderr}");
}

/// `-X KEY=VALUE` sets client properties beside --config and wins over it, for kreach's own
/// checks and the librdkafka stage alike.
#[test]
fn dash_x_sets_client_properties_and_wins_over_the_file() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let lab = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::None)).expect("lab");
    let mut file = tempfile::NamedTempFile::new().expect("tmp");
    writeln!(file, "bootstrap.servers=wrong.example.invalid:9092\nsecurity.protocol=SASL_SSL").expect("write");
    let config = file.path().display().to_string();
    let mut argv: Vec<String> = vec!["check".into(), "--config".into(), config];
    let mut args = lab.check_args().into_iter();
    while let Some(a) = args.next() {
        if a == "--bootstrap" || a == "--security-protocol" {
            args.next();
        } else {
            argv.push(a);
        }
    }
    argv.extend(
        [
            "-X",
            &format!("bootstrap.servers={}", lab.bootstrap),
            "-X",
            "security.protocol=SSL",
            // The lab is a PrivateLink layout: a librdkafka client that leaves the idle timeout at
            // its default (0, never closed) is warned about; -X sets it under the endpoint's.
            "-X",
            "connections.max.idle.ms=300000",
        ]
        .map(String::from),
    );
    argv.extend(["--output", "json", "--no-client-check"].map(String::from));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = kreach(&argv, &[]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["settings"]["bootstrap"][0], lab.bootstrap.as_str());
    assert_eq!(report["settings"]["security_protocol"], "SSL");
    assert_eq!(report["settings"]["client"]["properties"][0], serde_json::json!(["connections.max.idle.ms", "300000"]));
    assert_eq!(report["status"], "pass");
}

/// `-v` emits one structured event per step on stderr (and nothing without it); never a secret.
#[test]
fn verbose_emits_per_step_events_and_no_secret() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let lab = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::None)).expect("lab");
    let mut argv: Vec<String> = vec!["-vv".into(), "check".into()];
    argv.extend(lab.check_args());
    let at = argv.iter().position(|a| a == "--security-protocol").expect("protocol flag");
    argv[at + 1] = "SASL_SSL".into();
    argv.extend(["--output", "json", "--no-client-check"].map(String::from));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let secret = "pw-9f8e7d6c5b4a-never-printed";
    let (_, stdout, stderr) =
        kreach(&argv, &[("KREACH_SASL_USERNAME", "api-key-verbose"), ("KREACH_SASL_PASSWORD", secret)]);
    for stage in ["dns", "tcp", "tls", "https", "kafka"] {
        assert!(stderr.contains(&format!("stage=\"{stage}\"")), "no {stage} event: {stderr}");
    }
    assert!(!stderr.contains(secret) && !stdout.contains(secret), "the password leaked");
    let quiet: Vec<&str> = argv.iter().copied().filter(|a| *a != "-vv").collect();
    let (_, _, stderr) = kreach(&quiet, &[]);
    assert!(!stderr.contains("kreach::step"), "events without -v: {stderr}");

    // The librdkafka stage says when it starts and how it ended (here: skipped, since it cannot
    // use the lab's --resolver), so progress and -v show it while it runs.
    let mut argv: Vec<String> = vec!["-v".into(), "check".into()];
    argv.extend(lab.check_args());
    argv.extend(["--output", "json"].map(String::from));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let (_, _, stderr) = kreach(&argv, &[]);
    let client: Vec<&str> = stderr.lines().filter(|l| l.contains("stage=\"client\"")).collect();
    assert!(client.first().is_some_and(|l| l.contains("outcome=started")), "{stderr}");
    assert!(!stderr.contains("outcome=\""), "every outcome is written the same way, unquoted: {stderr}");
    assert!(client.get(1).is_some_and(|l| l.contains("outcome=skipped")), "{stderr}");
}

/// The default protocol (SASL_SSL) without credentials: one `kafka-no-credentials` finding, the
/// librdkafka stage skipped for that reason (not a FAIL of its own); a target DNS gave nothing
/// says "no address" in its TCP cell.
#[test]
fn missing_credentials_are_one_finding_and_cells_read_whole() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let lab = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::None)).expect("lab");
    let mut argv: Vec<String> = vec!["check".into()];
    let lab_args = lab.check_args();
    let mut i = 0;
    while i < lab_args.len() {
        if lab_args[i] == "--security-protocol" {
            i += 2;
            continue;
        }
        argv.push(lab_args[i].clone());
        // Two bootstrap servers, so "one finding" is one for the run, not one per target.
        if lab_args[i] == "--bootstrap" {
            let broker = &lab.brokers[0];
            let broker = if broker.contains(':') { broker.clone() } else { format!("{broker}:{}", lab.kafka_port) };
            argv.push(format!("{},{broker}", lab_args[i + 1]));
            i += 1;
        }
        i += 1;
    }
    let json_argv: Vec<&str> = argv.iter().map(String::as_str).chain(["--output", "json"]).collect();
    let (_, stdout, stderr) = kreach(&json_argv, &[]);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(report["settings"]["security_protocol"], "SASL_SSL", "{:#}", report["settings"]);
    let no_credentials = codes(&report).iter().filter(|c| **c == "kafka-no-credentials").count();
    assert_eq!(no_credentials, 1, "{:?}", codes(&report));
    let skipped = report["parity"]["skipped"].as_str().unwrap_or_default();
    assert!(skipped.contains("kafka-no-credentials"), "{:#}", report["parity"]);
    let table_argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let (_, table, _) = kreach(&table_argv, &[]);
    assert!(table.contains("Client (librdkafka): skip"), "{table}");
    assert!(!table.contains("must be set"), "{table}");

    let broken = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::BrokerNameUnresolvable)).expect("lab");
    let mut argv: Vec<String> = vec!["check".into()];
    argv.extend(broken.check_args());
    argv.push("--no-client-check".into());
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let (_, table, _) = kreach(&argv, &[]);
    assert!(table.contains("no address"), "{table}");
    assert!(!table.contains("no to connect"), "{table}");
}

/// `--watch SECS --watch-count N`: the report once, then a line per run saying what changed.
#[test]
fn watch_reruns_and_says_what_changed() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let lab = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::None)).expect("lab");
    let mut argv: Vec<String> = vec!["check".into()];
    argv.extend(lab.check_args());
    argv.extend(["--no-client-check", "--watch", "0.2", "--watch-count", "3"].map(String::from));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = kreach(&argv, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("PASS"), "the first run's report: {stdout}");
    assert_eq!(stdout.matches("] no change (PASS)").count(), 2, "{stdout}");
    let (code, _, stderr) = kreach(&["check", "--bootstrap", "b:1", "--watch", "0"], &[]);
    assert!(code == 2 && stderr.contains("invalid --watch"), "{stderr}");
}

/// `--watch` with the audit: an operator adds the endpoint group's missing 9092 rule between two
/// runs; the second run's line says the finding went, with the CloudTrail event that mended it.
/// moto serves EC2 and Route 53; CloudTrail's answers are recorded in front of it (moto has no
/// `LookupEvents`), in the shape CloudTrail's API reference documents.
#[test]
fn watch_with_the_audit_names_the_change_that_fixed_the_hop() {
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    let moto = support::moto::Moto::start(&support::workspace_root());
    let account = moto.plant("sg-missing-9092", kreach_lab::LAB_DOMAIN);
    let sg = account["security_group"].as_str().expect("sg").to_string();
    let client_sg = account["client_security_group"].as_str().expect("client sg").to_string();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let lab = rt.block_on(kreach_lab::Lab::start(kreach_lab::Fault::None)).expect("lab");
    let mut argv: Vec<String> = vec!["check".into()];
    argv.extend(lab.check_args());
    argv.extend(
        ["--no-client-check", "--watch", "6", "--watch-count", "2", "--aws-region", "us-west-2"].map(String::from),
    );
    argv.extend(["--vpc-endpoint".into(), account["vpc_endpoint_id"].as_str().expect("vpce").to_string()]);
    argv.extend(["--dns-domain".into(), kreach_lab::LAB_DOMAIN.to_string()]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kreach"))
        .args(&argv)
        .env("NO_COLOR", "1")
        .envs(support::no_aws())
        .env_remove("AWS_PROFILE")
        .envs([
            ("AWS_ENDPOINT_URL", moto.url.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kreach --watch");
    let seen = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut chunk) {
                seen.lock().expect("lock").push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        })
    };
    // The first run's report blames the group; then the rule is added and CloudTrail records it.
    let waited = std::time::Instant::now();
    while !seen.lock().expect("lock").contains("aws-sg-missing-ingress") {
        assert!(waited.elapsed() < Duration::from_secs(60), "first report: {}", seen.lock().expect("lock"));
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1100));
    let rule = serde_json::json!({"GroupId": &sg, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 9092,
        "ToPort": 9092, "UserIdGroupPairs": [{"GroupId": &client_sg}]}]});
    let out = moto.python(
        "fixtures/aws/moto_call.py",
        &[&moto.url, "ec2", "authorize_security_group_ingress", &rule.to_string()],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let params = serde_json::json!({"groupId": &sg, "ipPermissions": {"items": [{"fromPort": 9092}]}});
    let event = support::moto::cloudtrail_event(
        "AuthorizeSecurityGroupIngress",
        false,
        0,
        Some(&sg),
        "arn:aws:iam::123456789012:role/network-admin",
        params,
    );
    moto.record_cloudtrail("LookupEvents", &sg, serde_json::json!({"Events": [event]}));
    let status = child.wait().expect("wait");
    reader.join().expect("reader");
    let stdout = seen.lock().expect("lock").clone();
    assert!(status.code().is_some(), "{stdout}");
    let line = stdout.lines().find(|l| l.trim_start().starts_with("- aws-sg-missing-ingress")).unwrap_or_else(|| {
        let mut err = String::new();
        let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
        panic!("no line for the finding that went: {stdout}\n{err}")
    });
    assert!(line.contains(&format!("fixed after {sg}: AuthorizeSecurityGroupIngress at")), "{line}");
    assert!(line.contains("role/network-admin"), "{line}");
}

/// Runs `shell` (a command line) on a pseudo-terminal through util-linux `script`: what a user
/// at a terminal sees, stdout and stderr together.
fn on_a_terminal(shell: &str) -> String {
    let out = Command::new("script")
        .args(["-qec", shell, "/dev/null"])
        .env("NO_COLOR", "1")
        .envs(support::no_aws())
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_is_drawn_on_a_terminal_and_never_into_a_pipe() {
    // A zone that drops every packet keeps the run going long enough to be watched.
    let lab = format!("{} lab --fault az-down --timeout 1", env!("CARGO_BIN_EXE_kreach"));
    let clear = "\r\x1b[2K";

    let seen = on_a_terminal(&lab);
    let first =
        seen.find(&format!("{clear}kreach ")).unwrap_or_else(|| panic!("no progress line on a terminal: {seen:?}"));
    assert!(seen[first..].contains(" passed"), "{seen:?}");
    assert!(seen.contains("running: b2 tcp"), "the blackholed zone's broker is named while it runs: {seen:?}");
    // The line is erased before the report prints, and nothing of it follows the report's start.
    let report = seen.find("FAIL: ").unwrap_or_else(|| panic!("no report summary: {seen:?}"));
    let last_clear = seen.rfind(clear).expect("erased");
    assert!(last_clear < report, "the progress line is gone before the report: {seen:?}");
    assert!(!seen[last_clear + clear.len()..].starts_with("kreach "), "{seen:?}");

    // The JSON report into a pipe: nothing on the terminal but nothing else either.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("report.json");
    let seen = on_a_terminal(&format!("{lab} --output json | cat > {}", file.display()));
    assert!(!seen.contains(clear), "no progress while JSON goes into a pipe: {seen:?}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("report")).expect("the piped JSON is clean");
    assert_eq!(report["status"], "fail");

    // --no-progress, and -v (the events themselves) turn it off.
    assert!(!on_a_terminal(&format!("{lab} --no-progress")).contains(clear));
    assert!(!on_a_terminal(&format!("{lab} -v")).contains(clear));

    // stderr not a terminal: nothing drawn.
    let (_, _, stderr) = kreach(&["lab", "--fault", "az-down", "--timeout", "1"], &[]);
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

/// docs/ARCHITECTURE.md is the map a newcomer reads first: it names every crate, every top-level
/// folder, every script and every file and folder of the core, so a new one cannot go unmapped.
#[test]
fn architecture_names_every_crate_folder_and_core_file() {
    let root = support::workspace_root();
    let map = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let names = |dir: &str| -> Vec<(String, bool)> {
        std::fs::read_dir(root.join(dir))
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path().is_dir()))
            .collect()
    };
    let mut missing = Vec::new();
    for (name, _) in names("crates") {
        if !map.contains(&format!("crates/{name}")) {
            missing.push(format!("crates/{name}"));
        }
    }
    for folder in ["tests/", "fixtures/", "fuzz/", "docs/", "scripts/"] {
        if !map.contains(folder) {
            missing.push(folder.to_string());
        }
    }
    for (name, _) in names("scripts") {
        if !map.contains(&name) {
            missing.push(format!("scripts/{name}"));
        }
    }
    for (name, is_dir) in names("crates/kreach/src") {
        let shown = if is_dir { format!("{name}/") } else { name.clone() };
        if !map.contains(&shown) {
            missing.push(format!("crates/kreach/src/{shown}"));
        }
    }
    assert!(missing.is_empty(), "docs/ARCHITECTURE.md does not name: {missing:?}");
}

/// A mapping file with a field of the wrong type, or a topic name Kafka refuses, and a bad
/// `--topic`/`--consumer-group`: one line naming the field, exit 2, nothing probed.
#[test]
fn a_bad_mapping_field_or_topic_is_named_and_refused() {
    let cases = [
        (r#"{"UUID": "u", "Topics": "orders"}"#, "Topics: must be a list"),
        (
            r#"{"UUID": "u", "ProvisionedPollerConfig": {"MinimumPollers": "one"}}"#,
            "ProvisionedPollerConfig.MinimumPollers",
        ),
        (r#"{"UUID": "u", "Topics": ["orders!"]}"#, "Topics: topic `orders!`"),
    ];
    for (json, field) in cases {
        let mut file = tempfile::NamedTempFile::new().expect("tmp");
        write!(file, "{json}").expect("write");
        let path = file.path().display().to_string();
        let (code, stdout, stderr) =
            kreach(&["check", "--bootstrap", "127.0.0.1:9", "--event-source-mapping-file", &path], &[]);
        assert_eq!(code, 2, "{json}: {stdout} {stderr}");
        assert!(stderr.contains(field), "{json}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    }
    let (code, _, stderr) = kreach(&["check", "--bootstrap", "127.0.0.1:9", "--topic", "a/b"], &[]);
    assert!(code == 2 && stderr.contains("--topic"), "{stderr}");
    let (code, _, stderr) =
        kreach(&["check", "--bootstrap", "127.0.0.1:9", "--topic", "t", "--consumer-group", ""], &[]);
    assert!(code == 2 && stderr.contains("--consumer-group"), "{stderr}");
}

/// cfn-lint (installed by scripts/setup.sh) accepts the template in `file`.
fn cfn_lint(file: &std::path::Path) {
    let lint = Command::new(support::workspace_root().join("target/lab-peers/venv/bin/cfn-lint"))
        .arg(file)
        .output()
        .expect("cfn-lint (scripts/setup.sh installs it)");
    assert!(
        lint.status.success(),
        "cfn-lint: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

/// `kreach twin`: the template puts the function in the mapping's subnets with its security
/// groups, lets it read only the mapping's secrets, bounds where the credentials may go with the
/// environment the function reads — and cfn-lint (installed by scripts/setup.sh) accepts it.
#[test]
fn twin_prints_a_template_cfn_lint_accepts_for_the_mappings_own_network() {
    let mapping = serde_json::json!({
        "UUID": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
        "EventSourceMappingArn": "arn:aws:lambda:us-west-2:123456789012:event-source-mapping:a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
        "FunctionArn": "arn:aws:lambda:us-west-2:123456789012:function:orders-consumer",
        "Topics": ["orders"],
        "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["lkc-1-n9.us-west-2.aws.glb.confluent.cloud:9092"]}},
        "SourceAccessConfigurations": [
            {"Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:us-west-2:123456789012:secret:kafka-AbCdEf"},
            {"Type": "VPC_SUBNET", "URI": "subnet:subnet-0a1b2c3d4e5f60718"},
            {"Type": "VPC_SUBNET", "URI": "subnet:subnet-0b2c3d4e5f6071829"},
            {"Type": "VPC_SECURITY_GROUP", "URI": "security_group:sg-0123456789abcdef0"}
        ]
    });
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("esm.json");
    std::fs::write(&path, mapping.to_string()).expect("write");
    let (code, stdout, stderr) = kreach(&["twin", "--event-source-mapping-file", &path.display().to_string()], &[]);
    assert_eq!(code, 0, "{stderr}");
    let template: serde_json::Value = serde_json::from_str(&stdout).expect("the template alone is on stdout");
    let function = &template["Resources"]["Probe"]["Properties"];
    assert_eq!(
        function["VpcConfig"]["SubnetIds"],
        serde_json::json!(["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"])
    );
    assert_eq!(function["VpcConfig"]["SecurityGroupIds"], serde_json::json!(["sg-0123456789abcdef0"]));
    let env = &function["Environment"]["Variables"];
    assert_eq!(env[kreach_lambda::ENV_ALLOWED_BOOTSTRAP], "lkc-1-n9.us-west-2.aws.glb.confluent.cloud");
    assert_eq!(
        env[kreach_lambda::ENV_ALLOWED_SECRETS],
        "arn:aws:secretsmanager:us-west-2:123456789012:secret:kafka-AbCdEf"
    );
    let document = &template["Resources"]["ProbeRole"]["Properties"]["Policies"][0]["PolicyDocument"];
    let policy = document.to_string();
    assert!(policy.contains("secret:kafka-AbCdEf") && !policy.contains("secret:*"), "{policy}");
    for statement in document["Statement"].as_array().expect("statements") {
        let actions = match &statement["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            other => other.as_array().expect("actions").iter().filter_map(|a| a.as_str().map(str::to_string)).collect(),
        };
        for action in actions {
            let verb = action.split(':').nth(1).unwrap_or("");
            assert!(["Describe", "Get", "List"].iter().any(|p| verb.starts_with(p)), "read-only: {action}");
        }
    }
    assert!(stderr.contains("aws lambda invoke --function-name kreach-twin-a1b2c3d4"), "{stderr}");
    assert!(stderr.contains(r#""event_source_mapping":"arn:aws:lambda:us-west-2"#), "{stderr}");
    let file = dir.path().join("twin.json");
    std::fs::write(&file, &stdout).expect("write");
    cfn_lint(&file);
    // A mapping without subnets (Amazon MSK): the cluster's network is a parameter, still valid.
    let msk = serde_json::json!({"UUID": "b2", "EventSourceArn": "arn:aws:kafka:us-west-2:1:cluster/c/x"});
    std::fs::write(&path, msk.to_string()).expect("write");
    let (code, stdout, stderr) = kreach(&["twin", "--event-source-mapping-file", &path.display().to_string()], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("SubnetIds"), "{stderr}");
    std::fs::write(&file, &stdout).expect("write");
    cfn_lint(&file);
    // A real cluster ARN: the role may read that cluster (and the VPC connections a cross-account
    // cluster is reached by), and cfn-lint still accepts it.
    let arn = "arn:aws:kafka:us-west-2:123456789012:cluster/orders/abc-1";
    std::fs::write(&path, serde_json::json!({"UUID": "b3", "EventSourceArn": arn}).to_string()).expect("write");
    let (code, stdout, stderr) = kreach(&["twin", "--event-source-mapping-file", &path.display().to_string()], &[]);
    assert_eq!(code, 0, "{stderr}");
    let template: serde_json::Value = serde_json::from_str(&stdout).expect("template json");
    let text = template.to_string();
    assert!(
        text.contains(&format!(r#""Action":"kafka:DescribeClusterV2","Effect":"Allow","Resource":"{arn}""#)),
        "{text}"
    );
    assert!(text.contains("kafka:ListVpcConnections"), "{text}");
    std::fs::write(&file, &stdout).expect("write");
    cfn_lint(&file);
}

/// `--via-function` sends flags, never this machine's files or credentials: a properties file, a
/// CA file or a mapping file are refused, naming the flag, before anything is invoked.
#[test]
fn via_function_refuses_to_ship_local_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let props = dir.path().join("client.properties");
    std::fs::write(&props, "sasl.password=hunter2\n").expect("write");
    for extra in
        [["--config", props.to_str().expect("path")], ["--event-source-mapping-file", props.to_str().expect("path")]]
    {
        let mut argv = vec!["check", "--bootstrap", "b:9092", "--via-function", "kreach-probe"];
        argv.extend(extra);
        let (code, stdout, stderr) = kreach(&argv, &[]);
        assert_eq!(code, 2, "{stdout} {stderr}");
        assert!(stderr.contains("invalid --via-function") && !stderr.contains("hunter2"), "{stderr}");
    }
}

/// `kreach fleet template`: one function per subnet (or per zone), each with its canary schedule
/// and an alarm on its vantage, alarms on the cluster and on each zone, the function's
/// environment bounding its credentials, read-only policies — and cfn-lint accepts it.
#[test]
fn fleet_template_is_one_function_per_subnet_with_canaries_and_alarms_cfn_lint_accepts() {
    let dir = tempfile::tempdir().expect("tmp");
    for (per, functions) in [("subnet", 3), ("zone", 2)] {
        let (code, stdout, stderr) = kreach(
            &[
                "fleet",
                "template",
                "--vpc-id",
                "vpc-0a1b2c3d",
                "--subnets",
                "subnet-0aaaaaaa,subnet-0bbbbbbb,subnet-0ccccccc",
                "--zones",
                "usw2-az1,usw2-az1,usw2-az2",
                "--security-groups",
                "sg-01234567",
                "--bootstrap",
                "lkc-1.abc.us-west-2.aws.confluent.cloud:9092",
                "--sasl-secret",
                "arn:aws:secretsmanager:us-west-2:123456789012:secret:kafka-AbCd",
                "--per",
                per,
            ],
            &[],
        );
        assert_eq!(code, 0, "{stderr}");
        let t: serde_json::Value = serde_json::from_str(&stdout).expect("the template alone is on stdout");
        let resources = t["Resources"].as_object().expect("resources");
        let of = |kind: &str| resources.values().filter(|r| r["Type"] == kind).count();
        assert_eq!(of("AWS::Lambda::Function"), functions, "{per}");
        assert_eq!(of("AWS::Scheduler::Schedule"), functions);
        assert_eq!(of("AWS::CloudWatch::Alarm"), functions + 1 + 2, "per vantage, the cluster, per zone");
        let function = resources["Probesubnet0aaaaaaa"]["Properties"].clone();
        assert_eq!(function["VpcConfig"]["SubnetIds"], serde_json::json!(["subnet-0aaaaaaa"]));
        assert_eq!(
            function["Environment"]["Variables"]["KREACH_ALLOWED_BOOTSTRAP"],
            "lkc-1.abc.us-west-2.aws.confluent.cloud"
        );
        let input: serde_json::Value = serde_json::from_str(
            resources["Canarysubnet0aaaaaaa"]["Properties"]["Target"]["Input"].as_str().expect("input"),
        )
        .expect("json");
        assert_eq!(input["emit_metrics"], true, "the canary prints its metric lines");
        let zone_alarm =
            resources.values().find(|r| r["Properties"]["MetricName"] == "ZoneSuccess").expect("zone alarm");
        assert_eq!(zone_alarm["Properties"]["Namespace"], "Kreach");
        let text = t.to_string();
        assert!(text.contains("secret:kafka-AbCd") && !text.contains("secret:*"), "only that secret");
        assert!(
            stderr.contains("kreach fleet --function kreach-fleet-0aaaaaaa") && stderr.contains("StackSet"),
            "{stderr}"
        );
        let file = dir.path().join(format!("fleet-{per}.json"));
        std::fs::write(&file, &stdout).expect("write");
        cfn_lint(&file);
    }
    let (vpc, sg) = ("vpc-0a1b2c3d", "sg-01234567");
    for (args, field) in [
        (vec!["--vpc-id", "vpc-1", "--subnets", "subnet-0aaaaaaa", "--security-groups", sg], "--vpc-id"),
        (vec!["--vpc-id", vpc, "--subnets", "subnet-1;rm", "--security-groups", sg], "--subnets"),
        (vec!["--vpc-id", vpc, "--subnets", "subnet-0aaaaaaa", "--security-groups", sg, "--per", "zone"], "--per zone"),
        (
            vec![
                "--vpc-id",
                vpc,
                "--subnets",
                "subnet-0aaaaaaa,subnet-0bbbbbbb",
                "--zones",
                "usw2-az1",
                "--security-groups",
                sg,
            ],
            "--zones",
        ),
        (
            vec!["--vpc-id", vpc, "--subnets", "subnet-0aaaaaaa", "--security-groups", sg, "--schedule", "often"],
            "--schedule",
        ),
        (
            vec!["--vpc-id", vpc, "--subnets", "subnet-0aaaaaaa", "--security-groups", sg, "--sasl-secret", "*"],
            "--sasl-secret",
        ),
        (
            vec![
                "--vpc-id",
                vpc,
                "--subnets",
                "subnet-0aaaaaaa",
                "--security-groups",
                sg,
                "--sasl-secret",
                "arn:aws:secretsmanager:*:*:secret:*",
            ],
            "--sasl-secret",
        ),
    ] {
        let mut all = vec!["fleet", "template", "--bootstrap", "lkc-1.abc.us-west-2.aws.confluent.cloud:9092"];
        all.extend(args);
        let (code, _, stderr) = kreach(&all, &[]);
        assert!(code == 2 && stderr.contains(field), "{field}: {stderr}");
    }
    // Without a bootstrap there is no cluster for the alarms and the canary: refused.
    let (code, _, stderr) =
        kreach(&["fleet", "template", "--vpc-id", vpc, "--subnets", "subnet-0aaaaaaa", "--security-groups", sg], &[]);
    assert!(code == 2 && stderr.contains("--bootstrap"), "{stderr}");
}

/// `kreach fleet` as a user sees it, against a loopback Lambda-API peer (hand-written: it answers
/// the Invoke API with reports from two real lab runs, and a function error for a third, as real
/// Lambda does): every function is a column, the one without a report too, marked failed and
/// said in what differs; --output json keeps each invocation's outcome; the exit code is 1.
#[test]
fn fleet_merges_every_function_and_keeps_the_one_without_a_report() {
    let (_, healthy, _) = kreach(&["lab", "--output", "json"], &[]);
    let (_, down, _) = kreach(&["lab", "--fault", "az-down", "--timeout", "5", "--output", "json"], &[]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let answers = std::sync::Arc::new((healthy, down));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answers = answers.clone();
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut s = stream;
                let mut buf = vec![0u8; 256 * 1024];
                let mut got = 0;
                loop {
                    let Ok(n) = s.read(&mut buf[got..]) else { return };
                    got += n;
                    let text = String::from_utf8_lossy(&buf[..got]).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .and_then(|v| v.trim().parse::<usize>().ok())
                            })
                            .unwrap_or(0);
                        if body.len() >= len || n == 0 {
                            break;
                        }
                    }
                    if n == 0 {
                        return;
                    }
                }
                let head = String::from_utf8_lossy(&buf[..got]).to_string();
                let (extra, body) = if head.contains("/functions/kreach-a/") {
                    ("", answers.0.clone())
                } else if head.contains("/functions/kreach-b/") {
                    ("", answers.1.clone())
                } else {
                    (
                        "X-Amz-Function-Error: Unhandled\r\n",
                        r#"{"errorType":"Runtime.ExitError","errorMessage":"out of memory"}"#.to_string(),
                    )
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    let env = [
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-west-2"),
    ];
    let args = [
        "fleet",
        "--function",
        "kreach-a",
        "--function",
        "kreach-b",
        "--function",
        "kreach-c",
        "--bootstrap",
        "lkc-x.example:9092",
        "--timeout",
        "10",
    ];
    let (code, table, stderr) = kreach(&args, &env);
    assert_eq!(code, 1, "{stderr}\n{table}");
    for name in ["kreach-a", "kreach-b", "kreach-c"] {
        assert!(table.contains(name), "{name} has a column:\n{table}");
    }
    assert!(table.contains("kreach-c: no report (function_error)") && table.contains("out of memory"), "{table}");
    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let (code, out, _) = kreach(&json_args, &env);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let outcomes: Vec<&str> =
        v["invocations"].as_array().expect("rows").iter().map(|r| r["outcome"].as_str().expect("outcome")).collect();
    assert_eq!(outcomes, ["report", "report", "function_error"]);
    assert_eq!(v["invocations"][0]["status"], "pass");
    assert_eq!(v["invocations"][1]["status"], "fail");
    assert_eq!(v["merged"]["vantages"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["merged"]["statuses"], serde_json::json!(["pass", "fail", "fail"]));
    // Bad input: named, before anything is invoked.
    let (code, _, stderr) = kreach(&["fleet", "--bootstrap", "b:9092"], &env);
    assert!(code == 2 && stderr.contains("--function"), "{stderr}");
    let (code, _, stderr) = kreach(&["fleet", "--function", "bad name", "--bootstrap", "b:9092"], &env);
    assert!(code == 2 && stderr.contains("invalid --function"), "{stderr}");
}

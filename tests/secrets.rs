//! Where a secret may go, and where it may not: the `kreach` binary against loopback peers that
//! record every byte (`kreach_testkit::recording`), with a canary password that must never arrive
//! where kreach says it withheld it, never land in a file, and never reach stderr. Also the
//! inputs that could stretch a run: FIFOs, devices and huge files where a file is expected.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kreach_lab::{Ca, Validity, server_config};
use kreach_testkit::recording::RecordingBroker;

const CANARY: &str = "canary-pw-5d1e8b0c-withheld";

fn kreach_cmd(args: &[&str], tmp: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kreach"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env("TMPDIR", tmp)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("RUST_LOG")
        .env_remove("KREACH_SASL_PASSWORD")
        .env_remove("KREACH_SASL_USERNAME")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE"] {
        cmd.env_remove(k);
    }
    cmd
}

fn kreach(args: &[&str], tmp: &Path) -> (i32, String, String) {
    let out = kreach_cmd(args, tmp).output().expect("run kreach");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kreach-secrets-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn properties(dir: &Path, protocol: &str, bootstrap: &str) -> PathBuf {
    let path = dir.join("client.properties");
    std::fs::write(
        &path,
        format!(
            "bootstrap.servers={bootstrap}\nsecurity.protocol={protocol}\nsasl.mechanism=PLAIN\n\
             sasl.username=api-key\nsasl.password={CANARY}\n"
        ),
    )
    .expect("write");
    path
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime")
}

/// SASL_PLAINTEXT, and SASL_SSL with --insecure: kreach's own Kafka stage and the librdkafka stage
/// follow one rule, so neither sends the password, and the report says why. With
/// --allow-insecure-credentials both may: the canary then arrives (the peer records faithfully).
#[test]
fn no_stage_sends_the_password_that_kreach_withholds() {
    let rt = runtime();
    let ca = Ca::new("peer CA").expect("ca");
    let tls = server_config(&ca.leaf(&["peer.invalid"], Validity::Days(30)).expect("leaf"), &[]).expect("tls");
    for (protocol, extra, tls) in [("SASL_PLAINTEXT", vec![], None), ("SASL_SSL", vec!["--insecure"], Some(tls))] {
        for allow in [false, true] {
            let peer = rt
                .block_on(RecordingBroker::start("127.0.0.1:0".parse().expect("addr"), tls.clone(), None))
                .expect("peer");
            let dir = scratch("withheld");
            let config = properties(&dir, protocol, &peer.addr.to_string());
            let config = config.display().to_string();
            let mut args = vec!["check", "--config", &config, "--no-https", "--timeout", "4", "--output", "json"];
            args.extend(extra.iter().copied());
            if allow {
                args.push("--allow-insecure-credentials");
            }
            let (code, stdout, stderr) = kreach(&args, &dir);
            let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{code} {stderr}"));
            assert!(!stdout.contains(CANARY) && !stderr.contains(CANARY));
            if allow {
                assert!(peer.received_contains(CANARY.as_bytes()), "{protocol} allowed: the peer records what is sent");
            } else {
                assert!(!peer.received_contains(CANARY.as_bytes()), "{protocol}: the canary reached the peer");
                let skipped = report["parity"]["skipped"].as_str().unwrap_or_default();
                assert!(
                    skipped.contains("credentials withheld"),
                    "{protocol}: the librdkafka stage says why: {}",
                    report["parity"]
                );
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// An address-literal bootstrap is shown whole: no "Targets in <domain>" heading cut from an IP.
#[test]
fn ip_literal_targets_are_shown_whole() {
    let dir = scratch("literal");
    let (_, stdout, _) = kreach(&["check", "--bootstrap", "127.0.0.1:1", "--no-client-check", "--timeout", "1"], &dir);
    assert!(!stdout.contains("Targets in"), "{stdout}");
    assert!(stdout.contains("127.0.0.1:1"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `-X` merges properties in memory: no file holding the password appears in the temporary
/// directory while the run lasts, and none is left after it.
#[test]
fn x_properties_never_write_the_password_to_a_file() {
    let rt = runtime();
    let peer = rt.block_on(RecordingBroker::start("127.0.0.1:0".parse().expect("addr"), None, None)).expect("peer");
    let dir = scratch("x-props");
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp");
    let config = properties(&dir, "SASL_PLAINTEXT", &peer.addr.to_string()).display().to_string();
    let mut child = kreach_cmd(
        &[
            "check",
            "--config",
            &config,
            "-X",
            "client.id=kreach-test",
            "--no-https",
            "--timeout",
            "3",
            "--output",
            "json",
        ],
        &tmp,
    )
    .spawn()
    .expect("spawn");
    let mut seen = 0usize;
    loop {
        for entry in std::fs::read_dir(&tmp).expect("read tmp").filter_map(Result::ok) {
            seen += 1;
            let text = std::fs::read(entry.path()).unwrap_or_default();
            assert!(!String::from_utf8_lossy(&text).contains(CANARY), "{} holds the password", entry.path().display());
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(seen, 0, "nothing written to the temporary directory");
    assert_eq!(std::fs::read_dir(&tmp).expect("tmp").count(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Secrets never reach stderr: a properties file with lone CR line endings (Java reads each as a
/// line end; a reader that does not would fold the password into the bootstrap it complains
/// about), and `-X` forms of secret keys, which are refused without an echo.
#[test]
fn errors_never_quote_a_secret() {
    let dir = scratch("stderr");
    let cr = dir.join("cr.properties");
    std::fs::write(&cr, format!("bootstrap.servers=bad host:9092\rsasl.password={CANARY}\rsasl.username=k\r"))
        .expect("write");
    let cr = cr.display().to_string();
    let (code, _, stderr) = kreach(&["check", "--config", &cr], &dir);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bootstrap.servers"), "{stderr}");
    assert!(!stderr.contains(CANARY) && !stderr.contains("canary"), "{stderr}");
    for x in [
        format!("sasl.password:{CANARY}"),
        format!("SASL.PASSWORD={CANARY}"),
        format!("sasl.password {CANARY}"),
        format!("sasl.jaas.config=x required password=\"{CANARY}\";"),
    ] {
        let (code, _, stderr) = kreach(&["check", "--bootstrap", "127.0.0.1:1", "-X", &x], &dir);
        assert_eq!(code, 2, "{x}: {stderr}");
        assert!(stderr.contains("secrets are not taken from the command line"), "{x}: {stderr}");
        assert!(!stderr.contains(CANARY), "{x}: {stderr}");
    }
    // A long, escape-laden value is quoted short and inert.
    let hostile = format!("\x1b]0;pwned\x07{}", "a".repeat(100_000));
    let (code, _, stderr) = kreach(&["check", "--bootstrap", &hostile], &dir);
    assert_eq!(code, 2);
    assert!(!stderr.contains('\x1b') && stderr.len() < 1000, "{} bytes: {stderr:.200}", stderr.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--target` and `--schema-registry` values that would end the HTTP request line or add a header
/// are refused (exit 2), naming the flag, with the value escaped.
#[test]
fn http_targets_cannot_inject_into_the_request() {
    let dir = scratch("targets");
    for (flag, value) in [
        ("--target", "rest=https://api.example.com:443/x\r\nHost: evil\r\n\r\nGET /y"),
        ("--target", "https://api.example.com:443/a b"),
        ("--schema-registry", "https://sr.example.com/x\r\nX-Injected: 1"),
    ] {
        let (code, _, stderr) = kreach(&["check", "--bootstrap", "127.0.0.1:1", flag, value], &dir);
        assert_eq!(code, 2, "{value:?}: {stderr}");
        assert!(stderr.contains(&format!("invalid {flag}")), "{stderr}");
        assert!(!stderr.trim_end().contains('\r') && stderr.trim_end().lines().count() == 1, "{stderr:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A FIFO or a device where a file is expected is refused at once, naming the path; a huge
/// file is refused after its cap.
#[test]
fn files_that_never_end_are_refused_at_once() {
    let dir = scratch("fifo");
    let fifo = dir.join("fifo");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let fifo = fifo.display().to_string();
    let fifo_ca = format!("ssl.ca.location={fifo}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["check", "--config", &fifo],
        vec!["check", "--config", "/dev/zero", "-X", "client.id=x"],
        vec!["check", "--bootstrap", "127.0.0.1:1", "--ca-file", &fifo],
        vec!["check", "--bootstrap", "127.0.0.1:1", "-X", &fifo_ca],
        vec!["check", "--bootstrap", "127.0.0.1:1", "--event-source-mapping-file", &fifo],
        vec!["merge", &fifo],
        vec!["merge", "/dev/zero"],
    ];
    for args in cases {
        let started = Instant::now();
        let mut child = kreach_cmd(&args, &dir).spawn().expect("spawn");
        let code = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status.code();
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("{args:?} hangs");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut stderr = String::new();
        let _ = std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        let path = if args.contains(&"/dev/zero") { "/dev/zero" } else { fifo.as_str() };
        assert!(stderr.contains(path) && stderr.contains("not a regular file"), "{args:?}: {stderr}");
    }
    let _ = std::io::stdout().flush();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kreach merge` of two reports of 20,000 targets each: one row per target (the speed of the
/// linear merge is measured in the closing note; the quadratic one took ~48 s here).
#[test]
fn merge_of_20000_targets_keeps_one_row_each() {
    let dir = scratch("merge");
    let target = |i: usize| {
        serde_json::json!({"target": format!("b{i}.example.com:9092"), "host": format!("b{i}.example.com"), "port": 9092,
            "role": "broker", "stages": [{"stage": "dns", "status": "pass", "elapsed_ms": 1, "summary": "1 priv"}],
            "dns": null, "addresses": [], "broker": null})
    };
    let base = r#"{"schema_version":1,"kreach_version":"0.1.0","started_at":"","elapsed_ms":1,"timeout_ms":1,"status":"pass",
        "settings":{"bootstrap":[],"security_protocol":"SASL_SSL","sasl_mechanism":null,"sasl_credentials":false,
        "resolvers":[],"public_resolvers":[],"private_cidrs":[],"https_port":null,"tls_verification":"enabled",
        "ca_file":null,"zone_addresses":{}},"targets":[],"cluster":null,"zones":[],"parity":null,"aws":null,
        "vantage":null,"findings":[]}"#;
    let mut files = Vec::new();
    for name in ["a", "b"] {
        let mut report: serde_json::Value = serde_json::from_str(base).expect("base");
        report["targets"] = serde_json::Value::Array((0..20_000).map(target).collect());
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, report.to_string()).expect("write");
        files.push(path.display().to_string());
    }
    let (code, stdout, stderr) = kreach(&["merge", "--output", "json", &files[0], &files[1]], &dir);
    assert_eq!(code, 0, "{stderr}");
    let merged: serde_json::Value = serde_json::from_str(&stdout).expect("merged JSON");
    assert_eq!(merged["rows"].as_array().map(Vec::len), Some(20_000));
    assert!(merged["differences"].as_array().is_some_and(Vec::is_empty));
    // Markdown is a Markdown table, not the terminal's box drawing.
    let (code, stdout, _) = kreach(&["merge", "--output", "markdown", &files[0], &files[1]], &dir);
    assert_eq!(code, 0);
    assert!(stdout.contains("| target |") && stdout.contains("|---|") && !stdout.contains('┌'), "{:.300}", stdout);
    assert!(stdout.contains("b19999.example.com:9092"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A listener that accepts and never answers: an AWS API or metadata service that hangs.
fn silent_listener() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("http://{addr}")
}

/// Every step ends inside the one deadline, AWS reads and instance metadata included, and the
/// report's figures are true: the mapping read, its root-CA secret and the metadata service each
/// hang here, and the run still ends on time with the deadline it was given.
#[test]
fn aws_reads_and_instance_metadata_end_inside_the_deadline() {
    let dir = scratch("deadline");
    let aws = silent_listener();
    let aws_env = |cmd: &mut Command| {
        cmd.env("AWS_ENDPOINT_URL", &aws)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-west-2");
    };
    // The mapping read: an error (no mapping, no guess) within the 1 s deadline.
    let mut cmd = kreach_cmd(
        &["check", "--event-source-mapping", "a1b2c3d4-0000-0000-0000-000000000000", "--timeout", "1"],
        &dir,
    );
    aws_env(&mut cmd);
    let started = Instant::now();
    let out = cmd.output().expect("run");
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    // (Process start-up and a loaded machine included; the fixed 5 s cap took 5 s.)
    assert!(took < Duration::from_millis(2500), "the mapping read took {took:?} of a 1 s deadline");

    // The mapping's root-CA secret: read inside the 3 s deadline, and the report says 3000 ms.
    let mapping = dir.join("esm.json");
    std::fs::write(
        &mapping,
        serde_json::json!({
            "UUID": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
            "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:1"]}},
            "SourceAccessConfigurations": [{"Type": "SERVER_ROOT_CA_CERTIFICATE", "URI": "arn:aws:secretsmanager:us-west-2:123456789012:secret:ca"}]
        })
        .to_string(),
    )
    .expect("write");
    let mapping = mapping.display().to_string();
    let mut cmd = kreach_cmd(
        &[
            "check",
            "--event-source-mapping-file",
            &mapping,
            "--no-https",
            "--no-client-check",
            "--timeout",
            "3",
            "--output",
            "json",
        ],
        &dir,
    );
    aws_env(&mut cmd);
    let started = Instant::now();
    let out = cmd.output().expect("run");
    let took = started.elapsed();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["timeout_ms"], 3000, "the deadline given, not what was left after the secret");
    let elapsed = report["elapsed_ms"].as_u64().expect("elapsed");
    assert!(elapsed <= 3100 && took < Duration::from_millis(5000), "elapsed {elapsed} ms, took {took:?}");
    assert!(report["event_source_mapping"]["root_ca_error"].as_str().is_some_and(|e| e.contains("no answer")));

    // A metadata service that hangs cannot stretch a 50 ms run.
    let imds = silent_listener();
    let mut cmd = kreach_cmd(
        &[
            "check",
            "--bootstrap",
            "127.0.0.1:1",
            "--no-https",
            "--no-client-check",
            "--timeout",
            "0.05",
            "--output",
            "json",
        ],
        &dir,
    );
    cmd.env("AWS_EC2_METADATA_DISABLED", "false").env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds);
    let started = Instant::now();
    let out = cmd.output().expect("run");
    let took = started.elapsed();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    // The run's own clock (start-up excluded) says the deadline held; the detection's own cap is
    // 1.5 s, so a run that waited for it would take that long.
    assert!(report["elapsed_ms"].as_u64().is_some_and(|e| e <= 250), "{}", report["elapsed_ms"]);
    assert!(took < Duration::from_millis(1400), "a 50 ms run took {took:?}");
    assert_eq!(report["vantage"]["kind"], "other");
    let _ = std::fs::remove_dir_all(&dir);
}

//! `kreach check --via-function`'s path, end to end: the kreach function binary (`bootstrap`) runs
//! under cargo-lambda's local Lambda emulator (installed by scripts/setup.sh; the Invoke API's
//! real HTTP shape, `POST /2015-03-31/functions/{name}/invocations`), and kreach-aws invokes it
//! through the AWS SDK exactly as it would a deployed function. The report comes back from the
//! function, and its vantage says it ran there.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kreach_lab::{Fault, Lab};

/// A child process killed when the test ends, pass or fail.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The emulator on 127.0.0.1 only (its default is every interface), and the function attached to it.
fn emulator_and_function() -> (Killed, Killed, String) {
    emulator_and_function_logging(None)
}

/// The same, the function's stdout (its log) written to `log` when given.
fn emulator_and_function_logging(log: Option<&std::path::Path>) -> (Killed, Killed, String) {
    let port = free_port();
    let emulator = Command::new(root().join("target/lab-peers/venv/bin/cargo-lambda"))
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo-lambda (scripts/setup.sh installs it)");
    let emulator = Killed(emulator);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the emulator did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let function = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_REGION", "us-west-2")
        .stdout(match log {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
            None => Stdio::null(),
        })
        .stderr(Stdio::null())
        .spawn()
        .expect("the function binary");
    (emulator, Killed(function), format!("http://127.0.0.1:{port}"))
}

/// The canary: with `emit_metrics` the function prints the report's embedded metric format lines
/// on its log (stdout, which Lambda sends to CloudWatch Logs) beside answering the report; the
/// run's line says the check passed, for this cluster, from this function.
#[tokio::test]
async fn the_canary_prints_its_metric_lines_on_the_functions_log() {
    let lab = Lab::start(Fault::None).await.expect("lab");
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("function.log");
    let (_emulator, _function, url) = emulator_and_function_logging(Some(&log));
    let credentials = aws_credential_types::Credentials::new("testing", "testing", None, None, "test");
    let sdk = kreach_aws::sdk_config(Some("us-west-2"), Some(&url), Some(credentials)).await;
    let mut event = lab.lambda_event();
    event["timeout_secs"] = serde_json::json!(5);
    event["emit_metrics"] = serde_json::json!(true);
    let report = kreach_aws::invoke_function(&sdk, "_", &event, Duration::from_secs(30)).await.expect("a report");
    assert_eq!(report.status, kreach::Status::Pass);
    let text = std::fs::read_to_string(&log).expect("log");
    let docs: Vec<serde_json::Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let run =
        docs.iter().find(|d| d.get("CheckSuccess").is_some()).unwrap_or_else(|| panic!("no metric line in: {text}"));
    assert_eq!(run["CheckSuccess"], 1);
    assert_eq!(run["Vantage"], "lambda:_");
    assert_eq!(run["Cluster"].as_str(), lab.bootstrap.rsplit_once(':').map(|(h, _)| h));
    assert!(run["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Kreach");
    assert!(docs.iter().any(|d| d.get("ZoneSuccess").is_some()), "per zone too");
}

#[tokio::test]
async fn a_check_invoked_through_the_lambda_api_comes_back_as_the_functions_report() {
    let lab = Lab::start(Fault::None).await.expect("lab");
    let (_emulator, _function, url) = emulator_and_function();
    let credentials = aws_credential_types::Credentials::new("testing", "testing", None, None, "test");
    let sdk = kreach_aws::sdk_config(Some("us-west-2"), Some(&url), Some(credentials)).await;
    let mut event = lab.lambda_event();
    event["timeout_secs"] = serde_json::json!(5);
    let report = kreach_aws::invoke_function(&sdk, "_", &event, Duration::from_secs(30)).await.expect("a report");
    assert_eq!(report.status, kreach::Status::Pass, "{:#?}", report.findings);
    assert!(report.cluster.as_ref().is_some_and(|c| c.brokers.len() == kreach_lab::LAB_BROKERS));
    let vantage = report.vantage.as_ref().expect("vantage");
    assert_eq!((vantage.kind, vantage.label.as_str()), (kreach::VantageKind::Lambda, "lambda:_"), "where it ran");
    // A refused event is the function's answer, said as such (real Lambda answers 200 with
    // X-Amz-Function-Error and the error as payload; the emulator an HTTP error: both are read).
    let e = kreach_aws::invoke_function(&sdk, "_", &serde_json::json!({"bootstrap": 7}), Duration::from_secs(30))
        .await
        .expect_err("refused")
        .to_string();
    assert!(e.contains("invalid event") && e.contains("expected a string"), "{e}");
}

//! `kreach check --via-function`'s path, end to end: the kreach function binary (`bootstrap`) runs
//! under cargo-lambda's local Lambda emulator (installed by scripts/setup.sh; the Invoke API's
//! real HTTP shape, `POST /2015-03-31/functions/{name}/invocations`), and kreach-aws invokes it
//! through the AWS SDK exactly as it would a deployed function. The report comes back from the
//! function, and its vantage says it ran there.

use std::time::Duration;

use kreach_lab::{Fault, Lab};
use kreach_testkit::Killed;

/// The emulator and the function as `_`, the function's stdout (its log) written to `log` when given.
fn emulator_and_function_logging(log: Option<&std::path::Path>) -> (Killed, Killed, String) {
    let (emulator, function, port) =
        kreach_testkit::lambda_emulator(env!("CARGO_BIN_EXE_bootstrap").as_ref(), "_", &[], log);
    (emulator, function, format!("http://127.0.0.1:{port}"))
}

fn emulator_and_function() -> (Killed, Killed, String) {
    emulator_and_function_logging(None)
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
    assert_eq!(
        (vantage.kind, vantage.label.as_str()),
        (kreach::report::VantageKind::Lambda, "lambda:_"),
        "where it ran"
    );
    // A refused event is the function's answer, said as such (real Lambda answers 200 with
    // X-Amz-Function-Error and the error as payload; the emulator an HTTP error: both are read).
    let e = kreach_aws::invoke_function(&sdk, "_", &serde_json::json!({"bootstrap": 7}), Duration::from_secs(30))
        .await
        .expect_err("refused")
        .to_string();
    assert!(e.contains("invalid event") && e.contains("expected a string"), "{e}");
}

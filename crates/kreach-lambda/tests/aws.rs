//! The handler's own AWS calls against moto server (the AWS API emulator installed by
//! scripts/setup.sh): the credentials' secret (Secrets Manager) and the function's VPC attachment
//! (Lambda GetFunctionConfiguration), planted with boto3 by fixtures/aws/moto_lambda.py, joined with
//! real diagnoses of the in-process lab. Everything talks to 127.0.0.1 only.
//!
//! moto quirk, plainly: its GetFunctionConfiguration answers VpcId `vpc-123abc` for every function
//! with a VpcConfig, whatever its subnets. The tests read that as "a probe in another VPC than the
//! endpoint's", which is what it is to the audit.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use kreach::report::SecretOutcome;
use kreach::{FindingCode, Report, Status};
use kreach_lab::{Fault, LAB_DOMAIN, Lab};
use kreach_testkit::moto::Moto;
use serde_json::json;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// moto with a healthy account (VPC, endpoint, zone) and the function's world planted.
fn account(extra: &[&str]) -> (Moto, serde_json::Value, serde_json::Value) {
    let moto = Moto::start(&root());
    let account = moto.plant("healthy", LAB_DOMAIN);
    let vpc = account["vpc_id"].as_str().expect("vpc").to_string();
    let mut args = vec![moto.url.as_str(), vpc.as_str()];
    args.extend_from_slice(extra);
    let out = moto.python("fixtures/aws/moto_lambda.py", &args);
    assert!(out.status.success(), "fixture: {}", String::from_utf8_lossy(&out.stderr));
    let function: serde_json::Value = serde_json::from_slice(&out.stdout).expect("fixture JSON");
    (moto, account, function)
}

/// The environment Lambda gives the function, pointed at moto.
fn lambda_env(function: &str, endpoint: &str) -> HashMap<String, String> {
    [
        ("AWS_LAMBDA_FUNCTION_NAME", function),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
        ("AWS_REGION", "us-west-2"),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing-session"),
        // The function's own bounds: the lab's cluster domain, and the lab's secrets.
        ("KREACH_ALLOWED_BOOTSTRAP", "*.abc123.us-west-2.aws.confluent.cloud"),
        ("KREACH_ALLOWED_SECRETS", "kreach/*"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The function's environment trusting the lab: while the function may send credentials, an
/// event's own resolvers and CA are not used, so the lab's come from the function's configuration.
fn trusting(mut env: HashMap<String, String>, lab: &Lab) -> HashMap<String, String> {
    env.insert("KREACH_ALLOWED_RESOLVERS".into(), lab.resolver.to_string());
    env.insert("KREACH_CA_PEM".into(), std::fs::read_to_string(lab.ca_file()).expect("lab CA"));
    env
}

fn event(lab: &Lab) -> serde_json::Value {
    let mut event = lab.lambda_event();
    event["security_protocol"] = json!("SASL_SSL");
    event["timeout_secs"] = json!(6);
    event
}

async fn invoke(payload: serde_json::Value, env: &HashMap<String, String>) -> Report {
    let lookup = |k: &str| env.get(k).cloned();
    kreach_lambda::handle(payload, Some(Duration::from_secs(10)), &lookup).await.expect("report")
}

fn codes(report: &Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.code.as_str()).collect()
}

fn finding(report: &Report, code: FindingCode) -> &kreach::Finding {
    report.findings.iter().find(|f| f.code == code).unwrap_or_else(|| panic!("no {code:?} in {:?}", codes(report)))
}

#[tokio::test]
async fn credentials_come_from_the_secret_the_event_names_and_never_show() {
    let (moto, _, planted) = account(&[]);
    let lab = Lab::start(Fault::None).await.expect("lab");
    let password = planted["password"].as_str().expect("password");
    let env = trusting(lambda_env("kreach-probe-az1", &moto.url), &lab);

    // By name in the event, then by ARN in the function's environment.
    let mut by_event = event(&lab);
    by_event["credentials_secret"] = json!("kreach/lab");
    let mut env_named = env.clone();
    env_named.insert("KREACH_SASL_SECRET".into(), planted["secret"].as_str().expect("arn").into());
    for (payload, env) in [(by_event, &env), (event(&lab), &env_named)] {
        let report = invoke(payload, env).await;
        let secret = report.secret.as_ref().expect("secret section");
        assert_eq!(secret.outcome, SecretOutcome::Read, "{secret:?}");
        assert_eq!(secret.keys, ["username", "password"]);
        assert!(report.settings.sasl_credentials, "the secret's credentials reached the Kafka stage");
        // With credentials the Kafka stage goes on to SASL, which the lab's mock brokers do not offer.
        assert!(codes(&report).contains(&"kafka-sasl-mechanism-unsupported"), "{:?}", codes(&report));
        assert!(!codes(&report).contains(&"credentials-secret-unreadable"));
        assert!(kreach::render::table(&report, false).contains("Credentials: secret "), "the table says so too");
        let json = serde_json::to_string(&report).expect("json");
        assert!(!json.contains(password) && !format!("{report:?}").contains(password));
    }

    // No secret named and no credentials in the environment: none are used.
    let report = invoke(event(&lab), &env).await;
    assert!(report.secret.is_none());
    assert!(!report.settings.sasl_credentials);
}

#[tokio::test]
async fn a_secret_that_cannot_give_credentials_is_a_finding_and_the_checks_still_run() {
    let (moto, _, planted) = account(&[]);
    let lab = Lab::start(Fault::None).await.expect("lab");
    let password = planted["password"].as_str().expect("password");
    let closed = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port");
    let mut unreachable = trusting(lambda_env("kreach-probe-az1", &format!("http://{closed}")), &lab);
    unreachable.remove("AWS_SESSION_TOKEN");
    let env = trusting(lambda_env("kreach-probe-az1", &moto.url), &lab);
    for (secret, env, outcome, detail, fix) in [
        ("kreach/missing", &env, SecretOutcome::NotFound, "ResourceNotFoundException", "describe-secret"),
        ("kreach/malformed", &env, SecretOutcome::Malformed, "keys found: pw, user_name", "\"username\""),
        (
            "kreach/lab",
            &unreachable,
            SecretOutcome::Unreachable,
            "not reachable",
            "com.amazonaws.<region>.secretsmanager",
        ),
    ] {
        let mut payload = event(&lab);
        payload["credentials_secret"] = json!(secret);
        let report = invoke(payload, env).await;
        let lookup = report.secret.as_ref().expect("secret section");
        assert_eq!(lookup.outcome, outcome, "{secret}: {lookup:?}");
        assert!(lookup.detail.as_deref().unwrap_or("").contains(detail), "{secret}: {lookup:?}");
        let f = finding(&report, FindingCode::CredentialsSecretUnreadable);
        assert!(f.fix.contains(fix), "{secret}: {}", f.fix);
        assert!(f.summary.contains(secret), "{}", f.summary);
        assert_eq!(report.status, Status::Fail);
        // The network was still diagnosed, without credentials.
        assert!(!report.settings.sasl_credentials);
        assert!(codes(&report).contains(&"kafka-no-credentials"), "{:?}", codes(&report));
        assert!(report.targets.iter().any(|t| t.stage(kreach::Stage::Tls).is_some()), "{secret}: TLS ran");
        assert!(!serde_json::to_string(&report).expect("json").contains(password));
    }
}

#[tokio::test]
async fn a_denied_secret_names_the_permission_to_grant() {
    let (moto, _, planted) = account(&["--deny-secrets"]);
    let lab = Lab::start(Fault::None).await.expect("lab");
    let key = &planted["access_key"];
    let mut env = lambda_env("kreach-probe-az1", &moto.url);
    env.insert("AWS_ACCESS_KEY_ID".into(), key[0].as_str().expect("key").into());
    env.insert("AWS_SECRET_ACCESS_KEY".into(), key[1].as_str().expect("secret").into());
    env.remove("AWS_SESSION_TOKEN");
    let mut payload = event(&lab);
    payload["credentials_secret"] = json!("kreach/lab");
    let report = invoke(payload, &env).await;
    let lookup = report.secret.as_ref().expect("secret section");
    assert_eq!(lookup.outcome, SecretOutcome::Denied, "{lookup:?}");
    let f = finding(&report, FindingCode::CredentialsSecretUnreadable);
    assert!(f.fix.contains("secretsmanager:GetSecretValue") && f.fix.contains("kreach-probe-az1"), "{}", f.fix);
    // (moto refuses the Lambda API's signature once its IAM checks are on, so the function's own
    // configuration is not asserted here; the vantage note carries that refusal.)
    assert!(report.vantage.as_ref().is_some_and(|v| v.note.as_deref().unwrap_or("").contains("HTTP 403")));
}

#[tokio::test]
async fn whether_the_function_is_in_a_vpc_comes_from_its_configuration() {
    let (moto, _, planted) = account(&[]);
    // The VPC resolver answers from public DNS: the zone is not in effect for this client.
    let lab = Lab::start(Fault::ZoneNotAssociated).await.expect("lab");

    let report = invoke(event(&lab), &lambda_env("kreach-probe-outside", &moto.url)).await;
    let vantage = report.vantage.as_ref().expect("vantage");
    assert_eq!(vantage.vpc_attached, Some(false), "{vantage:?}");
    let f = finding(&report, FindingCode::EnvLambdaNotInVpc);
    assert!(f.summary.contains("not attached to any VPC"), "{}", f.summary);
    assert!(f.fix.contains("--function-name kreach-probe-outside"), "{}", f.fix);
    assert!(kreach::render::table(&report, false).contains("NOT attached to a VPC"));

    // Attached: never told it is not; the DNS finding stands on its own.
    let report = invoke(event(&lab), &lambda_env("kreach-probe-az1", &moto.url)).await;
    let vantage = report.vantage.as_ref().expect("vantage");
    assert_eq!(vantage.vpc_attached, Some(true));
    assert_eq!(vantage.facts.security_group_ids.first().map(String::as_str), planted["probe_security_group"].as_str());
    assert_eq!(vantage.facts.subnet_ids.first().map(String::as_str), planted["subnets"][0].as_str());
    // The JSON keeps its flat shape: lists as one comma-joined string.
    let json = serde_json::to_value(vantage).expect("json");
    assert_eq!(json["facts"]["security_group_ids"].as_str(), planted["probe_security_group"].as_str());
    assert!(!codes(&report).contains(&"env-lambda-not-in-vpc"), "{:?}", codes(&report));
    assert!(codes(&report).contains(&"dns-public-answer"), "{:?}", codes(&report));

    // Its configuration unreadable (no credentials): the DNS answer alone says "most likely".
    let mut env = lambda_env("kreach-probe-az1", &moto.url);
    env.remove("AWS_ACCESS_KEY_ID");
    let report = invoke(event(&lab), &env).await;
    let vantage = report.vantage.as_ref().expect("vantage");
    assert_eq!(vantage.vpc_attached, None);
    assert!(vantage.note.as_deref().unwrap_or("").contains("no AWS credentials"), "{vantage:?}");
    assert!(finding(&report, FindingCode::EnvLambdaNotInVpc).summary.contains("most likely"));
}

#[tokio::test]
async fn the_audit_is_sharpened_by_the_functions_vpc_and_security_groups() {
    let (moto, account, planted) = account(&[]);
    // The endpoint drops the Kafka port for this probe.
    let lab = Lab::start(Fault::KafkaPortDropped).await.expect("lab");
    let mut payload = event(&lab);
    payload["aws"] = json!(true);
    payload["vpc_endpoint"] = account["vpc_endpoint_id"].clone();
    payload["dns_domain"] = json!(LAB_DOMAIN);
    payload["timeout_secs"] = json!(3);

    // The function's own security group is not among those the endpoint admits.
    let report = invoke(payload.clone(), &lambda_env("kreach-probe-az1", &moto.url)).await;
    assert!(report.aws.as_ref().is_some_and(|a| a.unavailable.is_none() && a.endpoint.is_some()), "{:?}", report.aws);
    let probe_sg = planted["probe_security_group"].as_str().expect("sg");
    let sg = report
        .findings
        .iter()
        .find(|f| f.code == FindingCode::AwsSgMissingIngress && f.summary.contains(probe_sg))
        .unwrap_or_else(|| panic!("no probe-specific sg finding: {:#?}", report.findings));
    assert!(sg.summary.contains(planted["client_security_group"].as_str().expect("client sg")), "{}", sg.summary);
    assert!(sg.fix.contains(&format!("--port 9092 --source-group {probe_sg}")), "{}", sg.fix);
    // The function is in another VPC than the endpoint's (see the note on moto above): the zone
    // must be associated there too.
    let phz = finding(&report, FindingCode::AwsPhzNotAssociated);
    assert!(phz.summary.contains("vpc-123abc") && phz.fix.contains("VPCId=vpc-123abc"), "{}", phz.summary);

    // With the clients' security group the rules admit it: no such finding, whatever else fails.
    let report = invoke(payload, &lambda_env("kreach-probe-clients", &moto.url)).await;
    assert!(!report.findings.iter().any(|f| f.code == FindingCode::AwsSgMissingIngress), "{:#?}", report.findings);
    // The port still fails. The lab's DNS leads to the lab's endpoint, which is not the endpoint
    // moto's account holds (the one the audit read for this VPC): by that evidence the record is
    // the first failing hop, and it explains the timeout behind it.
    let bootstrap = report.targets.iter().find(|t| t.role == kreach::Role::Bootstrap).expect("bootstrap");
    assert_eq!(bootstrap.stage(kreach::Stage::Tcp).map(|s| s.status), Some(kreach::StageStatus::Fail));
    assert!(codes(&report).contains(&"dns-record-other-endpoint"), "{:?}", codes(&report));
}

/// `event_source_mapping` is read with the function's role; moto cannot create a self-managed
/// Kafka mapping, so the read of an unknown one is what can run here: a clear error naming it, in
/// time, and no check run on a guess. (The mapping's contents are tested through the CLI's
/// `--event-source-mapping-file` and the audit's moto tests.)
#[tokio::test]
async fn an_unknown_event_source_mapping_is_a_clear_error() {
    let moto = Moto::start(&root());
    let env = lambda_env("kreach-probe-az1", &moto.url);
    let lookup = |k: &str| env.get(k).cloned();
    let started = std::time::Instant::now();
    let err = kreach_lambda::handle(
        json!({"event_source_mapping": "a1b2c3d4-0000-0000-0000-000000000000"}),
        Some(Duration::from_secs(10)),
        &lookup,
    )
    .await
    .expect_err("no such mapping");
    assert!(err.message.contains("event_source_mapping a1b2c3d4-0000-0000-0000-000000000000"), "{}", err.message);
    assert!(started.elapsed() < Duration::from_secs(5), "within the mapping's 3 s cap: {:?}", started.elapsed());
}

//! The Lambda handler invoked in-process with real events against the in-process lab (real DNS
//! server, TLS endpoints, mock Kafka brokers), as the Lambda runtime would call it.

use std::time::{Duration, Instant};

use kreach::Status;
use kreach_lab::{Fault, Lab};
use serde_json::json;

fn lambda_env(k: &str) -> Option<String> {
    match k {
        "AWS_LAMBDA_FUNCTION_NAME" => Some("kreach-probe-usw2-az1".into()),
        "AWS_REGION" => Some("us-west-2".into()),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => Some("512".into()),
        _ => None,
    }
}

fn event(lab: &Lab) -> serde_json::Value {
    let mut event = lab.lambda_event();
    event["timeout_secs"] = json!(30);
    event
}

#[tokio::test]
async fn a_real_event_gets_the_report_within_the_functions_deadline() {
    let lab = Lab::start(Fault::None).await.expect("lab");
    let started = Instant::now();
    let report = kreach_lambda::handle(event(&lab), Some(Duration::from_secs(4)), &lambda_env).await.expect("report");
    let took = started.elapsed();
    assert_eq!(report.status, Status::Pass, "{:#?}", report.findings);
    assert!(report.cluster.as_ref().is_some_and(|c| c.brokers.len() == kreach_lab::LAB_BROKERS));
    let vantage = report.vantage.as_ref().expect("vantage");
    assert_eq!(vantage.kind, kreach::report::VantageKind::Lambda);
    assert_eq!(vantage.label, "lambda:kreach-probe-usw2-az1");
    // The event asked for 30 s; the function had 4 s: the deadline is capped with a margin.
    assert!(report.timeout_ms <= 4000 - kreach_lambda::DEADLINE_MARGIN.as_millis() as u64, "{}", report.timeout_ms);
    assert!(took < Duration::from_secs(4));
    #[allow(clippy::print_stderr)]
    {
        eprintln!("first report from the handler in {} ms", took.as_millis());
    }
}

#[tokio::test]
async fn a_dropped_zone_still_answers_before_the_function_times_out() {
    let lab = Lab::start(Fault::AzDown).await.expect("lab");
    let started = Instant::now();
    let report = kreach_lambda::handle(event(&lab), Some(Duration::from_secs(3)), &lambda_env).await.expect("report");
    assert!(started.elapsed() < Duration::from_secs(3), "answered within the function's 3 s");
    assert_eq!(report.status, Status::Fail);
    assert!(report.findings.iter().any(|f| f.code == kreach::FindingCode::ZoneUnreachable));
}

/// The function's environment trusting the lab's resolver and CA: while the function may send
/// credentials, an event's own `resolvers` and `ca_pem` are not used.
fn trusting(lab: &Lab, key: &str) -> Option<String> {
    match key {
        "KREACH_ALLOWED_RESOLVERS" => Some(lab.resolver.to_string()),
        "KREACH_CA_PEM" => std::fs::read_to_string(lab.ca_file()).ok(),
        other => lambda_env(other),
    }
}

#[tokio::test]
async fn bad_events_get_a_clear_error() {
    let cases = [
        (json!({}), "bootstrap"),
        (json!({"bootstrap": "b:99999"}), "invalid bootstrap"),
        (json!({"bootstrap": "b:9092", "timeout": 3}), "unknown field `timeout`"),
        (json!({"bootstrap": "b:9092", "resolvers": ["dns.example"]}), "invalid resolvers"),
        (json!("not an object"), "invalid event"),
        (json!({"bootstrap": "b:9092", "sasl_mechanism": "FOO"}), "sasl.mechanism"),
        (json!({"bootstrap": "b:9092", "sasl_mechanism": "PLAIN\nsasl.password=x"}), "one line"),
    ];
    for (payload, needle) in cases {
        let err = kreach_lambda::handle(payload.clone(), Some(Duration::from_secs(5)), &lambda_env)
            .await
            .expect_err("bad event")
            .message;
        assert!(err.starts_with("invalid event"), "{payload}: {err}");
        assert!(err.contains(needle), "{payload}: {err}");
    }
    let err = kreach_lambda::handle(json!({"bootstrap": "b:9092"}), Some(Duration::from_millis(900)), &lambda_env)
        .await
        .expect_err("no time left")
        .message;
    assert!(err.contains("less than a second"), "{err}");
}

#[tokio::test]
async fn credentials_come_from_the_environment_and_stay_out_of_the_report() {
    let lab = Lab::start(Fault::None).await.expect("lab");
    let env = |k: &str| match k {
        "KREACH_SASL_USERNAME" => Some("api-key".to_string()),
        "KREACH_SASL_PASSWORD" => Some("very-secret-value".to_string()),
        "KREACH_ALLOWED_BOOTSTRAP" => Some("*.abc123.us-west-2.aws.confluent.cloud".to_string()),
        other => trusting(&lab, other),
    };
    let mut payload = event(&lab);
    payload["security_protocol"] = json!("SASL_SSL");
    let report = kreach_lambda::handle(payload, Some(Duration::from_secs(4)), &env).await.expect("report");
    assert!(report.settings.sasl_credentials);
    let json = serde_json::to_string(&report).expect("json");
    assert!(!json.contains("very-secret-value"));
    // The credentials went to the bootstrap: the lab's brokers offer no SASL, so the exchange was tried.
    assert!(report.findings.iter().any(|f| f.code.as_str() == "kafka-sasl-mechanism-unsupported"));
}

/// Credentials in the environment of a function that names no allowed bootstrap, or an event that
/// turns verification off: the function is not a deputy that sends them wherever an invoker asks.
#[tokio::test]
async fn the_functions_configuration_bounds_where_credentials_go() {
    let lab = Lab::start(Fault::None).await.expect("lab");
    let base = |k: &str| match k {
        "KREACH_SASL_USERNAME" => Some("api-key".to_string()),
        "KREACH_SASL_PASSWORD" => Some("very-secret-value".to_string()),
        other => trusting(&lab, other),
    };
    let mut payload = event(&lab);
    payload["security_protocol"] = json!("SASL_SSL");

    // No KREACH_ALLOWED_BOOTSTRAP: probed, credentials withheld, and the report says so.
    let report = kreach_lambda::handle(payload.clone(), Some(Duration::from_secs(4)), &base).await.expect("report");
    let codes: Vec<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(codes.contains(&"kafka-credentials-withheld"), "{codes:?}");
    assert!(!codes.contains(&"kafka-sasl-mechanism-unsupported"), "no SASL exchange: {codes:?}");

    // A suffix other customers share opens nothing: every invocation is an error naming the
    // variable, whatever the event.
    for shared in ["*.us-west-2.aws.confluent.cloud", "*.confluent.cloud", "*.co.uk"] {
        let opened = |k: &str| match k {
            "KREACH_ALLOWED_BOOTSTRAP" => Some(shared.to_string()),
            other => base(other),
        };
        let e = kreach_lambda::handle(payload.clone(), Some(Duration::from_secs(4)), &opened).await.expect_err(shared);
        assert!(!e.is_invalid_event() && e.message.contains("KREACH_ALLOWED_BOOTSTRAP"), "{shared}: {}", e.message);
    }

    // A bootstrap outside the allowed patterns is refused outright.
    let other_domain = |k: &str| match k {
        "KREACH_ALLOWED_BOOTSTRAP" => Some("*.example.internal".to_string()),
        other => base(other),
    };
    let err = kreach_lambda::handle(payload.clone(), Some(Duration::from_secs(4)), &other_domain)
        .await
        .expect_err("not allowed")
        .message;
    assert!(err.starts_with("invalid event: bootstrap") && err.contains("KREACH_ALLOWED_BOOTSTRAP"), "{err}");

    // Allowed host, but the event turns verification off: withheld unless the function allows it.
    let allowed = |k: &str| match k {
        "KREACH_ALLOWED_BOOTSTRAP" => Some("*.abc123.us-west-2.aws.confluent.cloud".to_string()),
        other => base(other),
    };
    let mut insecure = payload.clone();
    insecure["insecure"] = json!(true);
    let report = kreach_lambda::handle(insecure.clone(), Some(Duration::from_secs(4)), &allowed).await.expect("report");
    let kafka = report.targets[0].addresses.iter().find_map(|a| a.kafka.as_ref()).expect("kafka");
    assert!(kafka.credentials_withheld.as_deref().is_some_and(|w| w.contains("--insecure")), "{kafka:?}");
    let permissive = |k: &str| match k {
        "KREACH_ALLOW_INSECURE_CREDENTIALS" => Some("true".to_string()),
        other => allowed(other),
    };
    let report = kreach_lambda::handle(insecure, Some(Duration::from_secs(4)), &permissive).await.expect("report");
    assert!(report.findings.iter().any(|f| f.code.as_str() == "kafka-sasl-mechanism-unsupported"));

    // The event's own targets are bounded by the same patterns; the AWS APIs are fixed names.
    let mut targeted = payload.clone();
    targeted["targets"] = json!(["internal=tcp://db.example.internal:5432"]);
    let err = kreach_lambda::handle(targeted.clone(), Some(Duration::from_secs(4)), &allowed)
        .await
        .expect_err("target outside the allowed patterns")
        .message;
    assert!(err.contains("target db.example.internal:5432") && err.contains("KREACH_ALLOWED_BOOTSTRAP"), "{err}");
    targeted["targets"] = json!([format!("rest=tls://{}", lab.bootstrap)]);
    targeted["aws_apis"] = json!(true);
    // `api_port` is one of the check's options now (the CLI's --api-port reaches the function).
    targeted["api_port"] = json!(lab.https_port);
    let report = kreach_lambda::handle(targeted.clone(), Some(Duration::from_secs(4)), &allowed).await.expect("report");
    // An unknown field is still refused, naming it.
    targeted["api_prot"] = json!(1);
    let err = kreach_lambda::handle(targeted, Some(Duration::from_secs(4)), &allowed).await.expect_err("field");
    assert!(err.message.contains("api_prot"), "unknown fields are refused: {}", err.message);
    let rows: Vec<&str> = report.targets.iter().filter_map(|t| t.endpoint.as_ref()).map(|e| e.name.as_str()).collect();
    assert_eq!(rows, ["rest", "aws:lambda", "aws:sts"], "the function's region ({:?})", lambda_env("AWS_REGION"));

    // The event may name only secrets the function allows.
    let mut named = payload;
    named["credentials_secret"] = json!("someone-elses/secret");
    let err = kreach_lambda::handle(named, Some(Duration::from_secs(4)), &allowed).await.expect_err("refused").message;
    assert!(err.contains("credentials_secret") && err.contains("KREACH_ALLOWED_SECRETS"), "{err}");
}

#[tokio::test]
async fn the_function_names_the_error_type_of_a_bad_event() {
    let event = lambda_runtime::LambdaEvent::new(json!({"bootstrap": "b:9092", "timeout": 3}), Default::default());
    let err = kreach_lambda::function(event).await.expect_err("bad event");
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "InvalidEvent");
    assert!(diagnostic.error_message.contains("unknown field `timeout`"), "{}", diagnostic.error_message);
}

#[test]
fn the_runtimes_deadline_is_a_timestamp_or_nothing() {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let now = UNIX_EPOCH + Duration::from_millis(1_795_646_314_162);
    assert_eq!(kreach_lambda::remaining(1_795_646_324_162, now), Some(Duration::from_secs(10)));
    assert_eq!(kreach_lambda::remaining(1_795_646_304_162, now), Some(Duration::ZERO), "already past");
    assert_eq!(kreach_lambda::remaining(0, now), None, "none given");
    assert_eq!(kreach_lambda::remaining(600_000, now), None, "a duration, not a timestamp");
    assert!(kreach_lambda::remaining(u64::MAX, SystemTime::now()).is_some());
}

#[tokio::test]
async fn an_event_with_100000_bootstrap_entries_is_a_clear_error_at_once() {
    let bootstrap = (0..100_000).map(|i| format!("b{i}.example.com:9092")).collect::<Vec<_>>().join(",");
    let err = kreach_lambda::handle(json!({ "bootstrap": bootstrap }), Some(Duration::from_secs(5)), &lambda_env)
        .await
        .expect_err("refused")
        .message;
    assert!(err.starts_with("invalid event: invalid bootstrap: more than 64"), "{err}");
    let big_ca = "A".repeat(2 * 1024 * 1024);
    let err = kreach_lambda::handle(
        json!({ "bootstrap": "b:9092", "ca_pem": big_ca }),
        Some(Duration::from_secs(5)),
        &lambda_env,
    )
    .await
    .expect_err("refused")
    .message;
    assert!(err.contains("ca_pem is larger than"), "{err}");
}

/// A report too large for a Lambda response is answered compact: the matrix, the verdict and the
/// findings (the most severe first) stay, the bulky evidence goes, and the answer says so; one
/// that fits is answered whole. (The limit is lowered here; the function's is Lambda's 6 MB.)
#[tokio::test]
async fn a_report_too_large_for_a_response_is_answered_compact() {
    let lab = Lab::start(Fault::AzDown).await.expect("lab");
    let report = kreach_lambda::handle(event(&lab), Some(Duration::from_secs(5)), &lambda_env).await.expect("report");
    let whole = serde_json::to_vec(&report).expect("json").len();
    let same = kreach_lambda::respond(report.clone(), whole).expect("answer");
    assert!(same.get("compacted").is_none(), "a report that fits is whole");
    assert_eq!(same["targets"][0]["addresses"].as_array().map(Vec::len), Some(report.targets[0].addresses.len()));
    let limit = whole / 2;
    let small = kreach_lambda::respond(report.clone(), limit).expect("answer");
    let bytes = serde_json::to_vec(&small).expect("json").len();
    assert!(bytes <= limit, "{bytes} > {limit}");
    assert!(
        small["compacted"].as_str().is_some_and(|c| c.contains(&format!("{whole} bytes"))),
        "{}",
        small["compacted"]
    );
    assert_eq!(small["status"], "fail");
    assert_eq!(small["targets"].as_array().map(Vec::len), Some(report.targets.len()), "the matrix is whole");
    assert!(small["findings"].as_array().is_some_and(|f| f.iter().any(|f| f["code"] == "zone-unreachable")));
    // A limit the findings alone exceed: findings are dropped too, the most severe kept.
    let tiny = kreach_lambda::respond(report, 4000).expect("answer");
    let compacted = tiny["compacted"].as_str().expect("compacted");
    assert!(compacted.contains("findings (the most severe are kept)"), "{compacted}");
}

/// OAuth from the function's own configuration (its environment): the token endpoint, the client
/// and its secret, the extensions. A real identity provider (npm's oauth2-mock-server over HTTPS
/// with the function's CA) issues the token; librdkafka's mock cluster sits behind the front that
/// validates it against the provider's JWKS (no broker here validates tokens). The event names no
/// token endpoint: it cannot.
#[tokio::test]
async fn oauth_comes_from_the_functions_configuration() {
    let ca = kreach_lab::Ca::new("function idp CA").expect("ca");
    let idp = kreach_testkit::idp::start_idp(&ca, "kafka-client", "client-S3CR3T", "kafka");
    let (listener, addr) = kreach_testkit::oauth_front::OAuthFront::bind().await.expect("bind");
    let mock = kreach_lab::MockKafka::start(&[("127.0.0.1".to_string(), addr.port())]).expect("mock");
    let trust = kreach_testkit::oauth_front::Trust::from_jwks(
        &idp.issuer,
        &idp.jwks,
        &[("logicalCluster", "lkc-abc12"), ("identityPoolId", "pool-Xy12")],
    );
    let front = kreach_testkit::oauth_front::OAuthFront::serve(listener, mock.listeners[0].1, trust);
    let (token_url, ca_pem) = (idp.token_url(), ca.cert_pem());
    let env = move |k: &str| match k {
        "KREACH_OAUTH_TOKEN_ENDPOINT_URL" => Some(token_url.clone()),
        "KREACH_OAUTH_CLIENT_ID" => Some("kafka-client".into()),
        "KREACH_OAUTH_CLIENT_SECRET" => Some("client-S3CR3T".into()),
        "KREACH_OAUTH_SCOPE" => Some("kafka".into()),
        "KREACH_OAUTH_EXTENSIONS" => Some("logicalCluster=lkc-abc12,identityPoolId=pool-Xy12".into()),
        "KREACH_CA_PEM" => Some(ca_pem.to_string()),
        "KREACH_ALLOWED_BOOTSTRAP" => Some("127.0.0.1".into()),
        // The mock cluster has no TLS: the token may go in clear only because the function allows it.
        "KREACH_ALLOW_INSECURE_CREDENTIALS" => Some("true".into()),
        other => lambda_env(other),
    };
    let payload = json!({
        "bootstrap": front.addr.to_string(), "security_protocol": "SASL_PLAINTEXT", "no_https": true,
        "private_cidrs": ["127.0.0.0/8"], "timeout_secs": 5
    });
    let report = kreach_lambda::handle(payload.clone(), Some(Duration::from_secs(8)), &env).await.expect("report");
    assert_eq!(front.verdicts(), [Ok(())], "{:#?}", report.findings);
    assert_eq!(report.status, Status::Pass, "{:#?}", report.findings);
    assert_eq!(report.oauth.as_ref().map(|o| o.outcome), Some(kreach::report::TokenOutcome::Ok));
    let json = serde_json::to_string(&report).expect("json");
    assert!(!json.contains("client-S3CR3T") && !json.contains("eyJ"), "no secret, no token in the report");

    // A bootstrap outside the function's allowed ones: the token is not sent there.
    let mut elsewhere = payload;
    elsewhere["bootstrap"] = json!(format!("localhost:{}", front.addr.port()));
    let refused = kreach_lambda::handle(elsewhere, Some(Duration::from_secs(8)), &env).await;
    assert!(refused.is_err(), "a bootstrap the function does not allow is refused");
    assert_eq!(front.verdicts().len(), 1, "no token went anywhere else");
}

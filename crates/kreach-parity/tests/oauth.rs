//! The client-parity stage with OAUTHBEARER (OIDC client credentials): librdkafka authenticates
//! with the token kreach's run fetched, handed over its token callback, and is never given the
//! client secret. The identity provider is npm's oauth2-mock-server over HTTPS with the test's CA;
//! the broker is librdkafka's mock cluster behind kreach-testkit's front, which validates each
//! token against the provider's JWKS as an OIDC-configured broker does (no broker that runs here
//! validates tokens). Everything on 127.0.0.1.

use std::time::Duration;

use kreach::report::ParityOutcome;
use kreach::{CheckOptions, Properties, Report};
use kreach_testkit::idp::start_idp;
use kreach_testkit::oauth_front::{OAuthFront, Trust};

const ID: &str = "kafka-client";
const SECRET: &str = "client-S3CR3T-value";

/// The run with the parity stage, for the client's `properties` (file text).
async fn run(properties: &str) -> Report {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("client.properties");
    std::fs::write(&path, properties).expect("write");
    let mut options = CheckOptions::default();
    options.config_file = Some(path);
    options.no_https = true;
    options.private_cidrs = vec!["127.0.0.0/8".into()];
    options.timeout_secs = Some(8.0);
    // The front has no TLS: the token may go in clear only because the test allows it.
    options.allow_insecure_credentials = true;
    let config = options.validate(&|_| None).expect("valid options");
    let props = Properties::parse(properties).expect("properties");
    let budget = Duration::from_secs(7);
    kreach::Diagnosis::new(&config)
        .parity_with(|signal| kreach_parity::check_with(&config, Some(&props), budget, signal))
        .run()
        .await
        .expect("run")
}

#[tokio::test]
async fn librdkafka_authenticates_with_the_token_the_run_fetched() {
    let ca = kreach_lab::Ca::new("idp test CA").expect("ca");
    let idp = start_idp(&ca, ID, SECRET, "kafka");
    let dir = tempfile::tempdir().expect("dir");
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, ca.cert_pem()).expect("ca file");
    let (listener, addr) = OAuthFront::bind().await.expect("bind");
    let mock = kreach_lab::MockKafka::start(&[("127.0.0.1".to_string(), addr.port())]).expect("mock cluster");
    let front = OAuthFront::serve(listener, mock.listeners[0].1, Trust::from_jwks(&idp.issuer, &idp.jwks, &[]));
    let properties = format!(
        "bootstrap.servers={addr}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=OAUTHBEARER\n\
         sasl.oauthbearer.method=oidc\nsasl.oauthbearer.token.endpoint.url={}\nsasl.oauthbearer.client.id={ID}\n\
         sasl.oauthbearer.client.secret={SECRET}\nsasl.oauthbearer.scope=kafka\nssl.ca.location={}\n",
        idp.token_url(),
        ca_path.display()
    );

    let report = run(&properties).await;
    let parity = report.parity.as_ref().expect("the stage ran");
    assert_eq!(parity.outcome, ParityOutcome::Ok, "{parity:?}");
    assert!(!parity.brokers.is_empty(), "{parity:?}");
    assert!(
        parity.ignored_properties.iter().any(|p| p == "sasl.oauthbearer.client.secret"),
        "the client secret never reaches librdkafka: {:?}",
        parity.ignored_properties
    );
    // kreach's token and librdkafka's (once per connection it opens: the bootstrap, the broker).
    let verdicts = front.verdicts();
    assert!(verdicts.len() >= 2 && verdicts.iter().all(Result::is_ok), "{verdicts:?}");
    assert_eq!(report.status, kreach::Status::Pass, "{:#?}", report.findings);
    let json = serde_json::to_string(&report).expect("json");
    assert!(!json.contains(SECRET) && !json.contains("eyJ"), "neither the secret nor a token in the report");

    // A cluster that requires SASL extensions (Confluent's logicalCluster and identityPoolId):
    // librdkafka gets the token with them, and the front accepts it only with them.
    let (listener, addr) = OAuthFront::bind().await.expect("bind");
    let mock = kreach_lab::MockKafka::start(&[("127.0.0.1".to_string(), addr.port())]).expect("mock cluster");
    let required = [("logicalCluster", "lkc-abc12"), ("identityPoolId", "pool-Xy12")];
    let front = OAuthFront::serve(listener, mock.listeners[0].1, Trust::from_jwks(&idp.issuer, &idp.jwks, &required));
    let base = properties.replacen(
        &format!("bootstrap.servers={}", front_addr(&properties)),
        &format!("bootstrap.servers={addr}"),
        1,
    );
    let with = format!("{base}sasl.oauthbearer.extensions=logicalCluster=lkc-abc12,identityPoolId=pool-Xy12\n");
    let report = run(&with).await;
    let parity = report.parity.as_ref().expect("stage");
    assert_eq!(parity.outcome, ParityOutcome::Ok, "{parity:?}");
    let verdicts = front.verdicts();
    assert!(
        verdicts.len() >= 2 && verdicts.iter().all(Result::is_ok),
        "kreach's and librdkafka's tokens carried them: {verdicts:?}"
    );
    assert_eq!(report.status, kreach::Status::Pass, "{:#?}", report.findings);
    // Without them the same cluster refuses librdkafka as it refuses kreach.
    let report = run(&base).await;
    assert!(
        front.verdicts().iter().any(|v| v.as_ref().is_err_and(|e| e.contains("extension"))),
        "{:?}",
        front.verdicts()
    );
    assert_ne!(report.status, kreach::Status::Pass);
}

/// The `bootstrap.servers` value of a properties text.
fn front_addr(properties: &str) -> String {
    properties.lines().find_map(|l| l.strip_prefix("bootstrap.servers=")).unwrap_or_default().to_string()
}

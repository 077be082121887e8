//! OAUTHBEARER with OIDC client credentials, end to end on loopback: a real identity provider
//! (npm's oauth2-mock-server over HTTPS with the test's CA) issues the token; kreach fetches it
//! beside the bootstrap's first steps and sends it in SASL OAUTHBEARER with the extensions to
//! tansu (a real broker that refuses every token: the cluster's refusal) or to librdkafka's mock
//! cluster behind a front that validates the token against the provider's JWKS as an
//! OIDC-configured broker does (kreach-testkit's `oauth_front`: no broker here validates tokens).

use std::net::SocketAddr;

use kreach::report::{Hop, TokenOutcome, TokenRefusal};
use kreach::{CheckOptions, FindingCode, Report, Severity};
use kreach_testkit::idp::start_idp;
use kreach_testkit::tansu::start_tansu;

async fn check(addr: SocketAddr, properties: &str) -> Report {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("client.properties");
    std::fs::write(&path, format!("bootstrap.servers={addr}\n{properties}")).expect("write");
    let mut options = CheckOptions::default();
    options.config_file = Some(path);
    options.no_https = true;
    options.private_cidrs = vec!["127.0.0.0/8".into()];
    options.timeout_secs = Some(5.0);
    // The brokers here have no TLS: the token may go in clear only because the test allows it.
    options.allow_insecure_credentials = true;
    let config = options.validate(&|_| None).expect("valid options");
    kreach::run(&config).await.expect("run")
}

fn problems(report: &Report) -> Vec<&'static str> {
    report.codes_at_least(Severity::Warning).iter().map(|c| c.as_str()).collect()
}

const ID: &str = "kafka-client";
const SECRET: &str = "client-S3CR3T-value";

fn properties(url: &str, secret: &str, ca: &std::path::Path) -> String {
    format!(
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=OAUTHBEARER\nsasl.oauthbearer.method=oidc\n\
         sasl.oauthbearer.token.endpoint.url={url}\nsasl.oauthbearer.client.id={ID}\n\
         sasl.oauthbearer.client.secret={secret}\nsasl.oauthbearer.scope=kafka\n\
         sasl.oauthbearer.extensions=logicalCluster=lkc-abc12,identityPoolId=pool-Xy12\n\
         ssl.ca.location={}",
        ca.display()
    )
}

/// The provider's CA, written where `ssl.ca.location` can name it.
fn ca_file(ca: &kreach_lab::Ca, dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, ca.cert_pem()).expect("ca file");
    path
}

/// The token is fetched over verified TLS and sent in SASL OAUTHBEARER with the extensions;
/// tansu refuses it (it trusts no issuer), and that is the cluster's refusal of a token, not
/// the provider's. Neither the client secret nor the token is in the report; its claims are.
#[tokio::test]
async fn a_token_is_fetched_sent_and_the_clusters_refusal_named() {
    let ca = kreach_lab::Ca::new("idp test CA").expect("ca");
    let idp = start_idp(&ca, ID, SECRET, "kafka");
    let dir = tempfile::tempdir().expect("dir");
    let tansu = start_tansu();
    let report = check(tansu.addr, &properties(&idp.token_url(), SECRET, &ca_file(&ca, &dir))).await;
    let oauth = report.oauth.as_ref().expect("the token fetch is in the report");
    assert_eq!(oauth.outcome, TokenOutcome::Ok, "{oauth:?}");
    let claims = oauth.claims.as_ref().expect("a JWT's claims");
    assert_eq!((claims.subject.as_deref(), claims.issuer.as_deref()), (Some(ID), Some(idp.issuer.as_str())));
    let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
    assert_eq!(kafka.sasl_mechanism.as_deref(), Some("OAUTHBEARER"), "{kafka:?}");
    assert_eq!(problems(&report), ["kafka-auth-failed"], "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::KafkaAuthFailed).next().expect("finding");
    assert_eq!(f.hop, Hop::Authentication);
    assert!(f.fix.contains("logicalCluster, identityPoolId"), "the extensions sent, by name: {}", f.fix);
    assert!(report.settings.sasl_credentials);
    let json = serde_json::to_string(&report).expect("json");
    assert!(!json.contains(SECRET), "the client secret is never in the report");
    assert!(!json.contains("eyJ"), "no token (a JWT starts eyJ) in the report");
    // The token endpoint is a row of the matrix, and it passed.
    let row = report.targets.iter().find(|t| t.role == kreach::Role::Endpoint).expect("the token endpoint's row");
    assert_eq!(row.port, idp.port);
    assert!(kreach::verdict_consistent(&report).is_ok());
}

/// The provider refuses: a wrong secret is invalid_client, a scope not allowed invalid_scope;
/// each blames authentication with the fix its code names, and no "not verified" beside it.
#[tokio::test]
async fn the_providers_refusal_is_classified_by_its_code() {
    let ca = kreach_lab::Ca::new("idp test CA").expect("ca");
    let idp = start_idp(&ca, ID, SECRET, "kafka");
    let dir = tempfile::tempdir().expect("dir");
    let tansu = start_tansu();
    let ca = ca_file(&ca, &dir);
    let wrong_secret = properties(&idp.token_url(), "not-the-secret", &ca);
    let wrong_scope = properties(&idp.token_url(), SECRET, &ca).replace("scope=kafka", "scope=admin");
    for (props, refusal) in [(wrong_secret, TokenRefusal::InvalidClient), (wrong_scope, TokenRefusal::InvalidScope)] {
        let report = check(tansu.addr, &props).await;
        let oauth = report.oauth.as_ref().expect("oauth");
        assert_eq!((oauth.outcome, oauth.refusal), (TokenOutcome::Refused, Some(refusal)), "{oauth:?}");
        assert_eq!(problems(&report), ["oauth-token-refused"], "{:#?}", report.findings);
        let f = report.findings_with(FindingCode::OauthTokenRefused).next().expect("finding");
        assert_eq!(f.hop, Hop::Authentication);
        assert_eq!(report.status, kreach::Status::Fail);
        // No token, so nothing was sent to the broker but the SaslHandshake.
        let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
        assert_eq!(kafka.unverified_mechanism.as_deref(), Some("OAUTHBEARER"), "{kafka:?}");
        assert!(kreach::verdict_consistent(&report).is_ok(), "{:?}", kreach::verdict_consistent(&report));
    }
}

/// A token endpoint nothing answers on (the private subnet without NAT): the token endpoint is
/// the hop named, on its own row, and the run fails — never a pass.
#[tokio::test]
async fn an_unreachable_token_endpoint_is_the_hop_named() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let dir = tempfile::tempdir().expect("dir");
    let ca = ca_file(&kreach_lab::Ca::new("idp test CA").expect("ca"), &dir);
    let tansu = start_tansu();
    let report = check(tansu.addr, &properties(&format!("https://127.0.0.1:{port}/token"), SECRET, &ca)).await;
    let oauth = report.oauth.as_ref().expect("oauth");
    assert_eq!(oauth.outcome, TokenOutcome::Unreachable, "{oauth:?}");
    assert_eq!(problems(&report), ["oauth-token-endpoint-unreachable"], "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::OauthTokenEndpointUnreachable).next().expect("finding");
    assert_eq!(f.hop, Hop::Network);
    assert!(f.fix.contains("NAT"), "{}", f.fix);
    let row = report.targets.iter().find(|t| t.role == kreach::Role::Endpoint).expect("row");
    assert_eq!(f.target, row.target, "the finding sits on the token endpoint's row");
    assert!(kreach::verdict_consistent(&report).is_ok(), "{:?}", kreach::verdict_consistent(&report));
}

/// The broker behind the validating front: librdkafka's mock cluster, one broker advertising the
/// front's address (so the brokers kreach learns are reached through it too).
async fn validating_cluster(
    trust: impl FnOnce(SocketAddr) -> kreach_testkit::oauth_front::Trust,
) -> (kreach_testkit::oauth_front::OAuthFront, kreach_lab::MockKafka) {
    let (listener, addr) = kreach_testkit::oauth_front::OAuthFront::bind().await.expect("bind");
    let mock = kreach_lab::MockKafka::start(&[("127.0.0.1".to_string(), addr.port())]).expect("mock cluster");
    let backend = mock.listeners[0].1;
    (kreach_testkit::oauth_front::OAuthFront::serve(listener, backend, trust(addr)), mock)
}

/// A token the cluster accepts: fetched over verified TLS, sent with the extensions, and the
/// Metadata behind it answered — the whole OAuth path passes, and so does the run.
#[tokio::test]
async fn a_token_the_cluster_accepts_gets_metadata_and_the_run_passes() {
    let ca = kreach_lab::Ca::new("idp test CA").expect("ca");
    let idp = start_idp(&ca, ID, SECRET, "kafka");
    let dir = tempfile::tempdir().expect("dir");
    let extensions = [("logicalCluster", "lkc-abc12"), ("identityPoolId", "pool-Xy12")];
    let (front, _mock) =
        validating_cluster(|_| kreach_testkit::oauth_front::Trust::from_jwks(&idp.issuer, &idp.jwks, &extensions))
            .await;
    let report = check(front.addr, &properties(&idp.token_url(), SECRET, &ca_file(&ca, &dir))).await;
    assert_eq!(front.verdicts(), [Ok(())], "the front accepted one token");
    assert_eq!(report.status, kreach::Status::Pass, "{:#?}", report.findings);
    let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
    assert!(kafka.metadata.is_some(), "Metadata came after authentication: {kafka:?}");
    assert!(report.targets.iter().any(|t| t.role == kreach::Role::Broker), "the advertised broker was probed");

    // The same token without the extensions the cluster needs: the cluster refuses it.
    let without = properties(&idp.token_url(), SECRET, &ca_file(&ca, &dir))
        .replace("sasl.oauthbearer.extensions=logicalCluster=lkc-abc12,identityPoolId=pool-Xy12\n", "");
    let report = check(front.addr, &without).await;
    assert_eq!(problems(&report), ["kafka-auth-failed"], "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::KafkaAuthFailed).next().expect("finding");
    assert!(f.fix.contains("no SASL extensions were sent"), "{}", f.fix);
    assert!(front.verdicts().last().is_some_and(|v| v.is_err()));
}

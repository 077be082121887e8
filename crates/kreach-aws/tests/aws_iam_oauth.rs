//! Confluent's AWS IAM OAuth end to end on loopback (confluent-kafka 2.15's
//! `sasl.oauthbearer.metadata.authentication.type=aws_iam`): kreach signs STS
//! `GetWebIdentityToken` with the AWS SDK's credentials, fetches the JWT over verified TLS beside
//! the bootstrap's first steps, and sends it in SASL OAUTHBEARER with the extensions. STS is
//! kreach-testkit's peer (moto lacks GetWebIdentityToken; it verifies SigV4 with its own
//! implementation and answers in the documented XML shapes, signing tokens with ES384); the
//! cluster is librdkafka's mock cluster behind the front that validates tokens against that
//! issuer's JWKS as an OIDC-configured broker does (no broker here validates tokens).

mod support;

use std::net::SocketAddr;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use kreach::report::{IamSigningOutcome, TokenOutcome, TokenRefusal};
use kreach::{FindingCode, Report, Severity, Status};
use kreach_aws::RunInput;
use kreach_lab::{Ca, Validity};
use kreach_testkit::msk_iam::Principal;
use kreach_testkit::oauth_front::{OAuthFront, Trust};
use kreach_testkit::sts::{ISSUER, StsPeer, start_sts};

const REGION: &str = "us-east-1";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const AUDIENCE: &str = "https://confluent.cloud/oidc";

fn principals() -> Vec<Principal> {
    let p = |id: &str, may: bool| Principal {
        access_key: id.into(),
        secret_key: SECRET_KEY.into(),
        session_token: Some("session/token=1".into()),
        may_connect: may,
    };
    vec![p("ASIAMINTS", true), p("ASIANOMINT", false)]
}

struct Setup {
    sts: StsPeer,
    front: OAuthFront,
    _mock: kreach_lab::MockKafka,
    dir: tempfile::TempDir,
}

async fn setup(federation: bool) -> Setup {
    let ca = Ca::new("sts test CA").expect("ca");
    let leaf = ca.leaf(&["127.0.0.1"], Validity::Days(30)).expect("leaf");
    let sts = start_sts(&leaf, REGION, principals(), federation).await;
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("ca.pem"), ca.cert_pem()).expect("ca file");
    let (listener, addr) = OAuthFront::bind().await.expect("bind");
    let mock = kreach_lab::MockKafka::start(&[("127.0.0.1".to_string(), addr.port())]).expect("mock");
    let trust =
        Trust::from_jwks(ISSUER, &sts.jwks, &[("logicalCluster", "lkc-abc12"), ("identityPoolId", "pool-Xy12")]);
    let front = OAuthFront::serve(listener, mock.listeners[0].1, trust);
    Setup { sts, front, _mock: mock, dir }
}

/// The check with the client's properties for AWS IAM OAuth against `sts`, the SDK's credentials
/// from `provider`.
async fn check(s: &Setup, sts: SocketAddr, provider: Option<SharedCredentialsProvider>) -> Report {
    let props = format!(
        "bootstrap.servers={}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=OAUTHBEARER\n\
         sasl.oauthbearer.method=oidc\nsasl.oauthbearer.metadata.authentication.type=aws_iam\n\
         sasl.oauthbearer.config=region={REGION},audience={AUDIENCE},sts_endpoint=https://{sts}/\n\
         sasl.oauthbearer.extensions=logicalCluster=lkc-abc12,identityPoolId=pool-Xy12\nssl.ca.location={}\n",
        s.front.addr,
        s.dir.path().join("ca.pem").display()
    );
    let path = s.dir.path().join("client.properties");
    std::fs::write(&path, props).expect("props");
    let mut o = kreach::CheckOptions::default();
    o.config_file = Some(path);
    o.no_https = true;
    o.private_cidrs = vec!["127.0.0.0/8".into()];
    o.timeout_secs = Some(8.0);
    // The mock brokers have no TLS: the token may go to them in clear only because the test allows it.
    o.allow_insecure_credentials = true;
    let input = RunInput::new(o);
    let source = support::source(REGION, provider);
    let ready = kreach_aws::prepare(input, &|_| None, &source, &kreach_aws::no_policy).await.expect("ready");
    kreach::run(&ready.config).await.expect("run")
}

fn session(id: &str) -> Option<SharedCredentialsProvider> {
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    Some(SharedCredentialsProvider::new(Credentials::new(
        id,
        SECRET_KEY,
        Some("session/token=1".into()),
        Some(later),
        "t",
    )))
}

/// STS's verdicts on signed requests (the matrix's row asks it once per run without credentials,
/// answered MissingAuthenticationToken).
fn signed_verdicts(sts: &StsPeer) -> Vec<Result<(), String>> {
    sts.verdicts().into_iter().filter(|v| v.as_ref().err().is_none_or(|e| e != "MissingAuthenticationToken")).collect()
}

fn problems(report: &Report) -> Vec<&'static str> {
    report.codes_at_least(Severity::Warning).iter().map(|c| c.as_str()).collect()
}

#[tokio::test]
async fn a_token_from_sts_authenticates_and_each_refusal_names_its_cause() {
    let s = setup(true).await;
    // Allowed to mint: signed, minted (ES384, this issuer), sent with the extensions, accepted.
    let report = check(&s, s.sts.addr, session("ASIAMINTS")).await;
    assert_eq!(report.status, Status::Pass, "{:#?} {:#?}", report.findings, report.oauth);
    let oauth = report.oauth.as_ref().expect("oauth");
    assert_eq!(oauth.outcome, TokenOutcome::Ok);
    let claims = oauth.claims.as_ref().expect("claims");
    assert_eq!(
        (claims.issuer.as_deref(), claims.audience.as_slice()),
        (Some(ISSUER), [AUDIENCE.to_string()].as_slice())
    );
    assert!(claims.subject.as_deref().is_some_and(|s| s.ends_with("role/ASIAMINTS")));
    assert_eq!(oauth.aws_signing.as_ref().map(|a| a.outcome), Some(IamSigningOutcome::Signed));
    assert_eq!(s.front.verdicts(), [Ok(())], "the cluster got the token once");
    let json = serde_json::to_string(&report).expect("json");
    for secret in [SECRET_KEY, "session/token=1", "eyJ"] {
        assert!(!json.contains(secret), "{secret} in the report");
    }

    // Not allowed sts:GetWebIdentityToken: STS's AccessDenied, the fix names the permission.
    let report = check(&s, s.sts.addr, session("ASIANOMINT")).await;
    assert_eq!(report.oauth.as_ref().and_then(|o| o.refusal), Some(TokenRefusal::AccessDenied));
    assert!(problems(&report).contains(&"oauth-token-refused"), "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::OauthTokenRefused).next().expect("finding");
    assert!(f.fix.contains("sts:GetWebIdentityToken") && f.fix.contains("sts:IdentityTokenAudience"), "{}", f.fix);

    // A key STS does not know.
    let report = check(&s, s.sts.addr, session("ASIAUNKNOWN")).await;
    assert_eq!(report.oauth.as_ref().and_then(|o| o.refusal), Some(TokenRefusal::InvalidCredentials));

    // No credentials at all: nothing is sent to STS, and the credentials are the cause.
    let before = signed_verdicts(&s.sts).len();
    let report = check(&s, s.sts.addr, None).await;
    assert_eq!(report.oauth.as_ref().map(|o| o.outcome), Some(TokenOutcome::NoCredentials));
    assert!(problems(&report).contains(&"aws-iam-credentials-unavailable"), "{:#?}", report.findings);
    assert_eq!(signed_verdicts(&s.sts).len(), before, "STS was not asked for a token");
    assert_ne!(report.status, Status::Pass);

    // STS out of reach (nothing listens): the STS hop, with the interface endpoint or NAT fix.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port");
    let report = check(&s, closed, session("ASIAMINTS")).await;
    let f = report.findings_with(FindingCode::OauthTokenEndpointUnreachable).next();
    let f = f.unwrap_or_else(|| panic!("{:#?}", report.findings));
    assert!(f.fix.contains("STS interface endpoint") && f.fix.contains("NAT gateway"), "{}", f.fix);
    assert_eq!(
        signed_verdicts(&s.sts).iter().filter_map(|v| v.as_ref().err()).cloned().collect::<Vec<_>>(),
        ["AccessDenied", "InvalidClientTokenId"]
    );
}

#[tokio::test]
async fn an_account_without_outbound_federation_is_told_to_turn_it_on() {
    let s = setup(false).await;
    let report = check(&s, s.sts.addr, session("ASIAMINTS")).await;
    assert_eq!(report.oauth.as_ref().and_then(|o| o.refusal), Some(TokenRefusal::FederationDisabled));
    let f = report.findings_with(FindingCode::OauthTokenRefused).next().expect("finding");
    assert!(f.fix.contains("enable-outbound-web-identity-federation"), "{}", f.fix);
}

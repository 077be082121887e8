//! SASL AWS_MSK_IAM end to end on loopback: kreach signs the payload with the AWS SDK's
//! credential chain (aws-sigv4) and sends it; librdkafka's mock cluster sits behind
//! kreach-testkit's MSK IAM front, which verifies the SigV4 signature with its own implementation
//! of AWS's published signing steps and answers as MSK does. No broker that runs here verifies MSK
//! IAM signatures (only Amazon MSK does): the front plays the documented request and answer shapes.
//! Credentials come from static keys, a session whose expiry has passed, no provider at all, one
//! that reports none, and one that never answers (an STS or metadata endpoint out of reach; the
//! SDK's provider interface, no network).

mod support;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use kreach::report::IamSigningOutcome;
use kreach::{FindingCode, Report, Severity, Status};
use kreach_testkit::msk_iam::{Principal, token_verifier, verifier};
use kreach_testkit::oauth_front::OAuthFront;

const REGION: &str = "us-east-1";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn principals() -> Vec<Principal> {
    vec![
        Principal {
            access_key: "AKIDALLOWED".into(),
            secret_key: SECRET_KEY.into(),
            session_token: None,
            may_connect: true,
        },
        Principal {
            access_key: "AKIDNOCONNECT".into(),
            secret_key: SECRET_KEY.into(),
            session_token: None,
            may_connect: false,
        },
        Principal {
            access_key: "ASIASESSION".into(),
            secret_key: SECRET_KEY.into(),
            session_token: Some("session/token+1".into()),
            may_connect: true,
        },
        // The role the JAAS line names: STS (the test's stand-in) hands out these.
        Principal {
            access_key: "ASIAROLE".into(),
            secret_key: SECRET_KEY.into(),
            session_token: Some("role/session+token".into()),
            may_connect: true,
        },
    ]
}

/// The mock cluster behind the verifying front (one broker advertising the front's address).
async fn cluster() -> (OAuthFront, kreach_lab::MockKafka) {
    cluster_for("AWS_MSK_IAM", verifier("127.0.0.1", REGION, principals())).await
}

/// The mock cluster behind a front for `mechanism` that judges with `check`.
async fn cluster_for(
    mechanism: &'static str,
    check: kreach_testkit::oauth_front::Check,
) -> (OAuthFront, kreach_lab::MockKafka) {
    let (listener, addr) = OAuthFront::bind().await.expect("bind");
    let mock = kreach_lab::MockKafka::start(&[("127.0.0.1".to_string(), addr.port())]).expect("mock cluster");
    (OAuthFront::serve_mechanism(listener, mock.listeners[0].1, mechanism, check), mock)
}

/// A credential provider that never answers: an assumed role's STS, or the metadata service, out
/// of reach.
#[derive(Debug)]
struct Silent;

impl ProvideCredentials for Silent {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(std::future::pending())
    }
}

/// A provider that finds nothing, as the default chain does on a machine without credentials.
#[derive(Debug)]
struct Nothing;

impl ProvideCredentials for Nothing {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded("no profile, environment or role")))
    }
}

/// The check of `addr` with AWS_MSK_IAM, the SDK configuration carrying `provider`.
async fn check(addr: SocketAddr, provider: Option<SharedCredentialsProvider>) -> Report {
    check_with(addr, provider, "AWS_MSK_IAM", &[]).await
}

/// The check of `addr` with `mechanism` and the client's `properties`.
async fn check_with(
    addr: SocketAddr,
    provider: Option<SharedCredentialsProvider>,
    mechanism: &str,
    properties: &[(&str, &str)],
) -> Report {
    let ready = prepared(addr, provider, mechanism, properties).await;
    kreach::run(&ready.config).await.expect("run")
}

/// The input step's result for the check of `addr` with `mechanism` and `properties`.
async fn prepared(
    addr: SocketAddr,
    provider: Option<SharedCredentialsProvider>,
    mechanism: &str,
    properties: &[(&str, &str)],
) -> kreach_aws::Ready {
    prepared_from(addr, &support::source(REGION, provider), mechanism, properties).await
}

/// [`prepared`] with the SDK configuration `source` gives.
async fn prepared_from(
    addr: SocketAddr,
    source: kreach_aws::SdkSource<'_>,
    mechanism: &str,
    properties: &[(&str, &str)],
) -> kreach_aws::Ready {
    support::prepared_plaintext(addr, source, mechanism, properties).await
}

/// What the input step's SDK source returns.
type Loading = std::pin::Pin<Box<dyn std::future::Future<Output = Result<aws_config::SdkConfig, String>> + Send>>;

/// The SDK configuration of a caller whose own key may not connect, its AWS APIs (STS) at `url`.
fn caller_at(url: String) -> impl Fn(Option<String>) -> Loading + Sync {
    move |_| {
        let url = url.clone();
        Box::pin(async move {
            let caller = Credentials::new("AKIDNOCONNECT", SECRET_KEY, None, None, "test");
            Ok(kreach_aws::sdk_config(Some(REGION), Some(&url), Some(caller)).await)
        })
    }
}

fn keys(id: &str, token: Option<&str>, expiry: Option<SystemTime>) -> Option<SharedCredentialsProvider> {
    Some(SharedCredentialsProvider::new(Credentials::new(id, SECRET_KEY, token.map(str::to_string), expiry, "test")))
}

fn problems(report: &Report) -> Vec<&'static str> {
    report.codes_at_least(Severity::Warning).iter().map(|c| c.as_str()).collect()
}

fn signing(report: &Report) -> kreach::report::IamSigning {
    let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
    kafka.iam_signing.clone().unwrap_or_else(|| panic!("no signing evidence: {kafka:?}"))
}

#[tokio::test]
async fn a_signature_the_cluster_accepts_passes_and_its_refusals_are_named() {
    let (front, _mock) = cluster().await;

    // Allowed to connect: signed, verified, Metadata and every broker; no key nor payload in the report.
    let report = check(front.addr, keys("AKIDALLOWED", None, None)).await;
    assert_eq!(report.status, Status::Pass, "{:#?}", report.findings);
    let s = signing(&report);
    assert_eq!((s.outcome, s.region.as_str(), s.host.as_str()), (IamSigningOutcome::Signed, REGION, "127.0.0.1"));
    assert!(report.targets[0].addresses[0].kafka.as_ref().and_then(|k| k.metadata.as_ref()).is_some());
    let json = serde_json::to_string(&report).expect("json");
    for secret in [SECRET_KEY, "x-amz-signature", "AKIDALLOWED"] {
        assert!(!json.contains(secret), "{secret} in the report");
    }

    // Temporary credentials: the session token is signed with them.
    let later = SystemTime::now() + Duration::from_secs(3600);
    let report = check(front.addr, keys("ASIASESSION", Some("session/token+1"), Some(later))).await;
    assert_eq!(report.status, Status::Pass, "{:#?}", report.findings);
    assert!(signing(&report).credentials_expire.is_some());

    // A principal without kafka-cluster:Connect, and a key the cluster does not know: the
    // cluster's refusal, with the IAM fix (not the user name and password one).
    let wrong_secret =
        Some(SharedCredentialsProvider::new(Credentials::new("AKIDALLOWED", "not-the-key", None, None, "t")));
    for (id, provider) in [
        ("AKIDNOCONNECT", keys("AKIDNOCONNECT", None, None)),
        ("AKIDUNKNOWN", keys("AKIDUNKNOWN", None, None)),
        ("AKIDALLOWED with another secret key", wrong_secret),
    ] {
        let report = check(front.addr, provider).await;
        assert_eq!(problems(&report), ["kafka-auth-failed"], "{id}: {:#?}", report.findings);
        let f = report.findings_with(FindingCode::KafkaAuthFailed).next().expect("finding");
        assert!(f.fix.contains("kafka-cluster:Connect") && f.fix.contains(REGION), "{id}: {}", f.fix);
        assert!(!f.fix.contains("sasl.username"), "{}", f.fix);
    }
    let verdicts = front.verdicts();
    assert_eq!(verdicts.iter().filter(|v| v.is_ok()).count(), 2, "{verdicts:?}");
    assert_eq!(
        verdicts.iter().filter_map(|v| v.as_ref().err()).cloned().collect::<Vec<_>>(),
        [
            "Access denied",
            "The security token included in the request is invalid",
            "The request signature we calculated does not match the signature you provided"
        ]
    );
}

#[tokio::test]
async fn without_usable_credentials_nothing_is_sent_and_the_credentials_are_the_cause() {
    let (front, _mock) = cluster().await;
    let past = SystemTime::now() - Duration::from_secs(60);
    let silent = Some(SharedCredentialsProvider::new(Silent));
    let nothing = Some(SharedCredentialsProvider::new(Nothing));
    for (provider, outcome) in [
        (keys("ASIASESSION", Some("session/token+1"), Some(past)), IamSigningOutcome::CredentialsExpired),
        (nothing, IamSigningOutcome::NoCredentials),
        (None, IamSigningOutcome::NoCredentials),
        (silent, IamSigningOutcome::CredentialsUnreachable),
    ] {
        let started = std::time::Instant::now();
        let report = check(front.addr, provider).await;
        assert!(started.elapsed() < Duration::from_secs(8), "inside the deadline");
        assert_eq!(signing(&report).outcome, outcome, "{:#?}", report.targets[0].addresses[0].kafka);
        assert_eq!(problems(&report), ["aws-iam-credentials-unavailable"], "{outcome:?}: {:#?}", report.findings);
        let f = report.findings_with(FindingCode::AwsIamCredentialsUnavailable).next().expect("finding");
        assert_eq!(f.hop, kreach::report::Hop::Authentication);
        if outcome == IamSigningOutcome::CredentialsUnreachable {
            assert!(f.fix.contains("STS interface endpoint") && f.fix.contains("NAT"), "{}", f.fix);
        }
        assert_ne!(report.status, Status::Pass);
    }
    assert!(front.verdicts().is_empty(), "no payload reached the cluster: {:?}", front.verdicts());
}

/// OAUTHBEARER carrying MSK's IAM token, configured as AWS's Java library documents it
/// (`sasl.login.callback.handler.class=software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler`;
/// librdkafka clients make the same token with AWS's signer libraries): kreach signs the token for
/// the cluster's region and sends it; the front verifies the token's presigned URL as MSK does.
/// The same class of IBM's (another vendor's handler of that name) is not taken for MSK's.
#[tokio::test]
async fn an_msk_iam_token_in_oauthbearer_is_signed_and_its_refusal_named() {
    let (front, _mock) = cluster_for("OAUTHBEARER", token_verifier(REGION, principals())).await;
    let java = [
        ("sasl.jaas.config", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;"),
        ("sasl.login.callback.handler.class", "software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler"),
        ("sasl.client.callback.handler.class", "software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler"),
    ];
    let report = check_with(front.addr, keys("AKIDALLOWED", None, None), "OAUTHBEARER", &java).await;
    assert_eq!(report.status, Status::Pass, "{:#?}", report.findings);
    let s = signing(&report);
    assert_eq!((s.outcome, s.host.as_str()), (IamSigningOutcome::Signed, "kafka.us-east-1.amazonaws.com"));
    assert!(report.targets[0].addresses[0].kafka.as_ref().and_then(|k| k.metadata.as_ref()).is_some());
    let json = serde_json::to_string(&report).expect("json");
    assert!(!json.contains(SECRET_KEY) && !json.contains("X-Amz-Signature"), "no key nor token in the report");

    // A principal without kafka-cluster:Connect: the cluster's refusal, with the IAM fix.
    let report = check_with(front.addr, keys("AKIDNOCONNECT", None, None), "OAUTHBEARER", &java).await;
    assert_eq!(problems(&report), ["kafka-auth-failed"], "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::KafkaAuthFailed).next().expect("finding");
    assert!(f.fix.contains("kafka-cluster:Connect") && !f.fix.contains("identityPoolId"), "{}", f.fix);
    assert_eq!(
        front.verdicts().iter().map(|v| v.as_ref().err().cloned()).collect::<Vec<_>>(),
        [None, Some("Access denied".to_string())]
    );

    // Another vendor's handler class of the same short name: not MSK's token, nothing signed.
    let ibm =
        [("sasl.login.callback.handler.class", "com.ibm.eventstreams.oauth.client.IAMOAuthBearerLoginCallbackHandler")];
    let report = check_with(front.addr, keys("AKIDALLOWED", None, None), "OAUTHBEARER", &ibm).await;
    let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
    assert!(kafka.iam_signing.is_none(), "{kafka:?}");
    assert_ne!(report.status, Status::Pass, "an OAUTHBEARER kreach cannot obtain a token for is not a pass");
    assert_eq!(front.verdicts().len(), 2, "no token sent");
}

/// The librdkafka stage authenticates as librdkafka's MSK IAM clients do: OAUTHBEARER with the
/// token kreach signs (through its token callback), for OAUTHBEARER with MSK's handler and for
/// AWS_MSK_IAM (Java's mechanism name, which librdkafka lacks) alike; the front verifies
/// librdkafka's token. Without credentials the stage says why and sends nothing.
#[tokio::test]
async fn the_librdkafka_stage_sends_the_msk_iam_token_kreach_signed() {
    let (front, _mock) = cluster_for("OAUTHBEARER", token_verifier(REGION, principals())).await;
    let java =
        [("sasl.login.callback.handler.class", "software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler")];
    for (mechanism, properties) in [("OAUTHBEARER", &java[..]), ("AWS_MSK_IAM", &[][..])] {
        let ready = prepared(front.addr, keys("AKIDALLOWED", None, None), mechanism, properties).await;
        let parity = kreach_parity::check(&ready.config, ready.properties.as_ref(), Duration::from_secs(6)).await;
        assert_eq!(parity.outcome, kreach::report::ParityOutcome::Ok, "{mechanism}: {parity:?}");
        assert!(!parity.brokers.is_empty(), "{mechanism}: {parity:?}");
        let text = format!("{parity:?}");
        assert!(!text.contains("X-Amz-Signature") && !text.contains(SECRET_KEY), "no token in the stage's report");
        if mechanism == "AWS_MSK_IAM" {
            assert!(parity.differences.iter().any(|d| d.contains("OAUTHBEARER token")), "{:?}", parity.differences);
        }
    }
    let accepted = front.verdicts().iter().filter(|v| v.is_ok()).count();
    assert!(accepted >= 2, "librdkafka's tokens were verified: {:?}", front.verdicts());

    let before = front.verdicts().len();
    let ready = prepared(front.addr, Some(SharedCredentialsProvider::new(Nothing)), "OAUTHBEARER", &java).await;
    let parity = kreach_parity::check(&ready.config, ready.properties.as_ref(), Duration::from_secs(6)).await;
    assert!(parity.skipped.as_deref().is_some_and(|s| s.contains("no MSK IAM token")), "{parity:?}");
    assert_eq!(front.verdicts().len(), before, "nothing sent");
}

/// aws-msk-iam-auth's JAAS options name a role (`awsRoleArn`, `awsStsRegion`): kreach assumes it
/// (`sts:AssumeRole` with the client's own credentials, which alone may not connect) and signs with
/// the role's credentials, which the cluster accepts; the evidence names the role. STS is the moto
/// front's recorded answer in AssumeRole's documented shape (fixed credentials, so the MSK front
/// can verify the signature made with them).
#[tokio::test]
async fn the_role_the_jaas_line_names_is_assumed_before_signing() {
    let (front, _mock) = cluster().await;
    let moto = kreach_testkit::moto::Moto::start(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."));
    let expires = aws_smithy_types::DateTime::from(SystemTime::now() + Duration::from_secs(3600))
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .expect("time");
    let answer = format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
         <AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:kreach-msk-iam</AssumedRoleId>\
         <Arn>arn:aws:sts::123456789012:assumed-role/msk-client/kreach-msk-iam</Arn></AssumedRoleUser>\
         <Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>{SECRET_KEY}</SecretAccessKey>\
         <SessionToken>role/session+token</SessionToken><Expiration>{expires}</Expiration></Credentials>\
         </AssumeRoleResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></AssumeRoleResponse>"
    );
    moto.record_ec2("AssumeRole", "", &answer);
    let source = caller_at(moto.url.clone());
    let role = "arn:aws:iam::123456789012:role/msk-client";
    let jaas = format!(
        "software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=\"{role}\" awsStsRegion=\"{REGION}\" \
         awsRoleExternalId=\"orders-ext-42\";"
    );
    let ready = prepared_from(front.addr, &source, "AWS_MSK_IAM", &[("sasl.jaas.config", &jaas)]).await;
    let report = kreach::run(&ready.config).await.expect("run");
    assert_eq!(report.status, Status::Pass, "{:#?} {:?}", report.findings, report.targets[0].addresses[0].kafka);
    let s = signing(&report);
    assert_eq!(s.role.as_deref(), Some(role));
    assert_eq!(s.role_sts_region.as_deref(), Some(REGION), "awsStsRegion names the STS region");
    assert!(s.credentials_source.as_deref().is_some_and(|c| c.contains("session credentials")), "{s:?}");
    let asked = moto.recorded_asked();
    let body = &asked.iter().find(|(a, _)| a == "ec2:AssumeRole").expect("STS was asked").1;
    assert!(body.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fmsk-client"), "{body}");
    assert!(body.contains("ExternalId=orders-ext-42"), "the role's external id: {body}");
    assert_eq!(front.verdicts(), [Ok(())], "signed with the role's credentials");
}

/// Without `awsStsRegion`, aws-msk-iam-auth assumes the role at STS's global endpoint
/// (`aws-global`, sts.amazonaws.com): kreach does the same, and when that STS does not answer (here
/// a loopback listener that accepts and never replies) the finding says the global endpoint is the
/// client's choice and what a private subnet needs for it.
#[tokio::test]
async fn a_role_without_an_sts_region_is_assumed_at_the_global_endpoint_as_the_client_does() {
    let (front, _mock) = cluster().await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = silent.accept().await {
            held.push(conn);
        }
    });
    let source = caller_at(url);
    let jaas = "software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=\"arn:aws:iam::123456789012:role/msk-client\";";
    let ready = prepared_from(front.addr, &source, "AWS_MSK_IAM", &[("sasl.jaas.config", jaas)]).await;
    let started = std::time::Instant::now();
    let report = kreach::run(&ready.config).await.expect("run");
    assert!(started.elapsed() < Duration::from_secs(8), "inside the deadline");
    let s = signing(&report);
    assert_eq!(s.outcome, IamSigningOutcome::CredentialsUnreachable, "{s:?}");
    assert_eq!(s.role_sts_region.as_deref(), Some("aws-global"), "{s:?}");
    let f = report.findings_with(FindingCode::AwsIamCredentialsUnavailable).next().expect("finding");
    assert!(f.fix.contains("sts.amazonaws.com") && f.fix.contains("awsStsRegion"), "{}", f.fix);
    assert!(front.verdicts().is_empty(), "nothing was signed: {:?}", front.verdicts());
}

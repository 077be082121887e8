//! aws-msk-iam-auth's `awsProfileName`: the named profile's credentials sign AWS_MSK_IAM before
//! the role and the default chain, as the library's chain orders them, and a profile that does not
//! load falls through to the next. The profile is read from a shared credentials file this test
//! writes, named by `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` in the environment of a
//! child process running this same test (the environment is not changed inside a running test
//! binary). The cluster is librdkafka's mock cluster behind kreach-testkit's MSK IAM front, which
//! verifies the SigV4 signature (no broker that runs here verifies MSK IAM: only Amazon MSK does).
//! Loopback only; the instance metadata service is disabled in the child.

mod support;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use kreach::{FindingCode, Status};
use kreach_testkit::msk_iam::{Principal, verifier};
use kreach_testkit::oauth_front::OAuthFront;

const REGION: &str = "us-east-1";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn principal(access_key: &str, may_connect: bool) -> Principal {
    Principal { access_key: access_key.into(), secret_key: SECRET_KEY.into(), session_token: None, may_connect }
}

/// Set in the child: the credentials file is in place.
const CHILD: &str = "KREACH_TEST_PROFILE_CHILD";

#[test]
fn the_profile_the_jaas_line_names_signs_before_the_default_chain() {
    if std::env::var_os(CHILD).is_none() {
        let dir = std::env::temp_dir().join(format!("kreach-msk-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let credentials = dir.join("credentials");
        let keys = format!("[orders]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = {SECRET_KEY}\n");
        std::fs::write(&credentials, keys).expect("credentials file");
        std::fs::write(dir.join("config"), "").expect("config file");
        let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "the_profile_the_jaas_line_names_signs_before_the_default_chain", "--nocapture"])
            .env(CHILD, "1")
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_CONFIG_FILE", dir.join("config"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("child");
        let _ = std::fs::remove_dir_all(&dir);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("1 passed"), "the child ran the test: {text}");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let (listener, addr) = OAuthFront::bind().await.expect("bind");
        let mock = kreach_lab::MockKafka::start(&[("127.0.0.1".to_string(), addr.port())]).expect("mock cluster");
        // The default chain's key may not connect; the profile's may.
        let check =
            verifier("127.0.0.1", REGION, vec![principal("AKIDPROFILE", true), principal("AKIDNOCONNECT", false)]);
        let front = OAuthFront::serve_mechanism(listener, mock.listeners[0].1, "AWS_MSK_IAM", check);
        let caller =
            Some(SharedCredentialsProvider::new(Credentials::new("AKIDNOCONNECT", SECRET_KEY, None, None, "test")));
        let source = support::source(REGION, caller);
        let run = |profile: &'static str| {
            let source = &source;
            async move {
                let jaas =
                    format!("software.amazon.msk.auth.iam.IAMLoginModule required awsProfileName=\"{profile}\";");
                let ready =
                    support::prepared_plaintext(front.addr, source, "AWS_MSK_IAM", &[("sasl.jaas.config", &jaas)])
                        .await;
                kreach::run(&ready.config).await.expect("run")
            }
        };

        let report = run("orders").await;
        assert_eq!(report.status, Status::Pass, "{:#?}", report.findings);
        let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
        let signing = kafka.iam_signing.as_ref().expect("signing evidence");
        assert_eq!(signing.profile.as_deref(), Some("orders"), "{signing:?}");
        assert_eq!(signing.role, None);
        assert!(!serde_json::to_string(&report).expect("json").contains(SECRET_KEY), "no key in the report");
        assert_eq!(front.verdicts(), [Ok(())], "signed with the profile's key");

        // A profile the file does not hold: the default chain signs next, and its key is refused.
        let report = run("no-such-profile").await;
        assert_eq!(report.status, Status::Fail);
        assert!(report.findings.iter().any(|f| f.code == FindingCode::KafkaAuthFailed), "{:#?}", report.findings);
        let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
        assert_eq!(kafka.iam_signing.as_ref().and_then(|s| s.profile.clone()), None);
        assert_eq!(front.verdicts().len(), 2, "the fallback signed and was judged");
        assert!(front.verdicts()[1].is_err(), "{:?}", front.verdicts());
    });
}

//! SASL against a real broker that really checks: tansu (Kafka-protocol broker in Rust, installed
//! prebuilt by scripts/setup.sh) with authentication on. It knows SCRAM-SHA-256/512 only, and with
//! its memory storage no user can be created once authentication is on, so every SCRAM login is a
//! real rejection of an unknown user, and PLAIN is a mechanism it does not enable.
//!
//! Not covered here, plainly: a *successful* PLAIN login with a checked password. No broker
//! available on these machines checks a PLAIN password (tansu's prebuilt binary lacks PLAIN; the
//! librdkafka mock cluster has no SASL), so PLAIN success is only covered by the unit test of the
//! message layout and by the SCRAM path sharing the same SaslHandshake/SaslAuthenticate framing.

use kreach_testkit::tansu::{Tansu, start_tansu};

use kreach::{CheckOptions, FindingCode, Report, Severity};

async fn check(tansu: &Tansu, properties: &str, env: &[(&str, &str)]) -> Report {
    check_with(tansu, properties, env, true).await
}

/// `allow_plaintext`: tansu's listener has no TLS, so SASL_PLAINTEXT credentials are sent only
/// when the test explicitly allows it, as a user would have to.
async fn check_with(tansu: &Tansu, properties: &str, env: &[(&str, &str)], allow_plaintext: bool) -> Report {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("client.properties");
    std::fs::write(&path, format!("bootstrap.servers={}\n{properties}", tansu.addr)).expect("write");
    let mut options = CheckOptions::default();
    options.config_file = Some(path);
    options.no_https = true;
    options.private_cidrs = vec!["127.0.0.0/8".into()];
    options.timeout_secs = Some(5.0);
    options.allow_insecure_credentials = allow_plaintext;
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let config =
        options.validate(&|k| env.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone())).expect("valid options");
    kreach::run(&config).await.expect("run")
}

fn problems(report: &Report) -> Vec<&'static str> {
    report.codes_at_least(Severity::Warning).iter().map(|c| c.as_str()).collect()
}

#[tokio::test]
async fn scram_rejection_is_auth_failed_with_the_brokers_reason() {
    let tansu = start_tansu();
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let report = check(
            &tansu,
            &format!(
                "security.protocol=SASL_PLAINTEXT\nsasl.mechanism={mechanism}\nsasl.username=alice\nsasl.password=nope"
            ),
            &[],
        )
        .await;
        assert_eq!(problems(&report), ["kafka-auth-failed"], "{mechanism}: {:#?}", report.findings);
        let f = report.findings_with(FindingCode::KafkaAuthFailed).next().expect("finding");
        assert!(f.summary.contains("unknown-user"), "the broker's own reason: {}", f.summary);
        let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
        assert_eq!(kafka.sasl_mechanism.as_deref(), Some(mechanism));
        assert!(kafka.api_keys.unwrap_or(0) > 10, "ApiVersions answered before authentication");
        assert!(report.cluster.is_none(), "no Metadata without authentication");
    }
}

#[tokio::test]
async fn mechanism_the_broker_does_not_enable_is_reported_as_such() {
    let tansu = start_tansu();
    let report =
        check(&tansu, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.username=k\nsasl.password=s", &[])
            .await;
    assert_eq!(problems(&report), ["kafka-sasl-mechanism-unsupported"], "{:#?}", report.findings);
    // The listener does SASL, just not PLAIN (tansu closes on it without naming its own): the fix
    // is the mechanism, not the listener.
    let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
    assert!(!kafka.no_sasl, "{kafka:?}");
    let f = report.findings_with(FindingCode::KafkaSaslMechanismUnsupported).next().expect("finding");
    assert!(f.fix.starts_with("Set sasl.mechanism") && !f.fix.contains("does not do SASL"), "{}", f.fix);
}

#[tokio::test]
async fn credentials_from_the_environment_are_used_and_never_reported() {
    let tansu = start_tansu();
    let secret = "env-secret-S3CR3T";
    let report = check(
        &tansu,
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256",
        &[("KREACH_SASL_USERNAME", "bob"), ("KREACH_SASL_PASSWORD", secret)],
    )
    .await;
    assert_eq!(problems(&report), ["kafka-auth-failed"], "credentials from the environment were sent");
    let json = serde_json::to_string(&report).expect("json");
    assert!(!json.contains(secret));
    assert!(json.contains("\"sasl_credentials\":true"));
}

#[tokio::test]
async fn no_credentials_proves_the_listener_and_says_what_was_not_checked() {
    let tansu = start_tansu();
    let report = check(&tansu, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256", &[]).await;
    assert_eq!(problems(&report), Vec::<&str>::new(), "{:#?}", report.findings);
    assert_eq!(report.findings_with(FindingCode::KafkaNoCredentials).count(), 1);
    let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
    assert!(kafka.api_keys.is_some() && kafka.skipped.is_some());
}

#[tokio::test]
async fn no_sasl_against_an_authenticating_broker_fails_metadata() {
    let tansu = start_tansu();
    let report = check(&tansu, "security.protocol=PLAINTEXT", &[]).await;
    assert_eq!(problems(&report), ["kafka-metadata-failed"], "{:#?}", report.findings);
}

#[tokio::test]
async fn credentials_are_not_sent_in_clear_unless_allowed() {
    let tansu = start_tansu();
    let props =
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.username=alice\nsasl.password=nope";
    let report = check_with(&tansu, props, &[], false).await;
    assert_eq!(problems(&report), ["kafka-credentials-withheld"], "{:#?}", report.findings);
    let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
    assert!(kafka.credentials_withheld.as_deref().is_some_and(|w| w.contains("plaintext")), "{kafka:?}");
    assert_eq!(kafka.sasl_mechanism, None, "no SASL exchange started");
    assert!(kafka.api_keys.unwrap_or(0) > 10, "ApiVersions still proves the listener");
}

/// OAUTHBEARER with a token kreach cannot obtain itself (librdkafka's unsecured JWT, a token a
/// custom callback makes): the broker enables the mechanism, nothing more is known. The run is a
/// warning naming the mechanism as unverified, never a pass, and never "no credentials". (With a
/// token endpoint configured, kreach fetches the token itself: the `oauth` tests below.)
#[tokio::test]
async fn a_token_kreach_cannot_obtain_is_unverified_never_a_pass() {
    let tansu = start_tansu();
    let secret = "unsecured-jwt-S3CR3T";
    let report = check(
        &tansu,
        &format!(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=OAUTHBEARER\n\
             sasl.oauthbearer.config=principal=kreach scope={secret}"
        ),
        &[],
    )
    .await;
    assert_eq!(problems(&report), ["kafka-auth-not-verified"], "{:#?}", report.findings);
    assert_eq!(report.status, kreach::Status::Warn);
    assert_eq!(report.exit_code(), 0);
    let f = report.findings_with(FindingCode::KafkaAuthNotVerified).next().expect("finding");
    assert!(f.summary.contains("OAUTHBEARER"), "{}", f.summary);
    assert_eq!(f.hop, kreach::report::Hop::Authentication);
    assert_eq!(report.findings_with(FindingCode::KafkaNoCredentials).count(), 0, "credentials were configured");
    let kafka = report.targets[0].addresses[0].kafka.as_ref().expect("kafka");
    assert_eq!(kafka.unverified_mechanism.as_deref(), Some("OAUTHBEARER"), "the broker enabled it: {kafka:?}");
    assert!(report.oauth.is_none(), "no token endpoint, no fetch");
    assert!(!serde_json::to_string(&report).expect("json").contains(secret));
}

//! An event source mapping's own authentication, read as its pollers read it: the
//! `CLIENT_CERTIFICATE_TLS_AUTH` secret (and its `SERVER_ROOT_CA_CERTIFICATE`) from Secrets Manager
//! (moto server), checked for the shape Lambda reads — `{"certificate": PEM chain, "privateKey":
//! PKCS #8 PEM}` — and presented in the handshake to a listener that demands client certificates
//! (haproxy `verify required`, OpenSSL, in front of librdkafka's mock cluster), on loopback.

use std::path::PathBuf;
use std::pin::Pin;

use kreach::report::{ClientCertSecretProblem, ClientCertUse};
use kreach::{EventSourceMapping, FindingCode, Report, Status};
use kreach_aws::{MappingInput, RunInput};
use kreach_lab::{Leaf, Validity};
use kreach_testkit::moto::Moto;
use kreach_testkit::mtls::{Cluster, cluster};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn sdk(url: &str) -> aws_config::SdkConfig {
    let credentials = aws_credential_types::Credentials::new("testing", "testing", None, None, "test");
    kreach_aws::sdk_config(Some("us-west-2"), Some(url), Some(credentials)).await
}

/// Stores `value` as a new secret; its ARN.
async fn secret(moto: &Moto, name: &str, value: &str) -> String {
    let client = aws_sdk_secretsmanager::Client::new(&sdk(&moto.url).await);
    let out = client.create_secret().name(name).secret_string(value).send().await.expect("create secret");
    out.arn().expect("arn").to_string()
}

/// The mapping with its client certificate secret `cert_secret` and the listener's CA as its root
/// CA secret, run through the input step with the SDK's reads and then diagnosed.
async fn run(c: &Cluster, moto: &Moto, cert_secret: &str, ca_secret: &str) -> Report {
    run_edited(c, moto, cert_secret, ca_secret, |_| {}).await
}

/// [`run`] with the mapping's JSON edited first.
async fn run_edited(
    c: &Cluster,
    moto: &Moto,
    cert_secret: &str,
    ca_secret: &str,
    edit: impl Fn(&mut serde_json::Value),
) -> Report {
    let mut mapping = serde_json::json!({
        "UUID": "c0ffee00-0000-0000-0000-000000000001",
        "FunctionArn": "arn:aws:lambda:us-west-2:123456789012:function:orders",
        "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [format!("127.0.0.1:{}", c.port)]}},
        "SourceAccessConfigurations": [
            {"Type": "CLIENT_CERTIFICATE_TLS_AUTH", "URI": cert_secret},
            {"Type": "SERVER_ROOT_CA_CERTIFICATE", "URI": ca_secret},
        ],
    });
    edit(&mut mapping);
    let mapping = EventSourceMapping::parse(mapping.to_string().as_bytes()).expect("mapping");
    let mut o = kreach::CheckOptions::default();
    o.no_https = true;
    o.private_cidrs = vec!["127.0.0.0/8".into()];
    o.timeout_secs = Some(8.0);
    let mut input = RunInput::new(o);
    input.mapping = MappingInput::Given(Box::new(mapping));
    input.region = Some("us-west-2".into());
    let url = moto.url.clone();
    let source = move |_: Option<String>| -> Pin<Box<dyn std::future::Future<Output = _> + Send>> {
        let url = url.clone();
        Box::pin(async move { Ok(sdk(&url).await) })
    };
    let ready = kreach_aws::prepare(input, &|_| None, &source, &kreach_aws::no_policy).await.expect("ready");
    kreach::Diagnosis::new(&ready.config).event_source_mapping(ready.mapping).run().await.expect("run")
}

fn lambda_secret(leaf: &Leaf) -> String {
    serde_json::json!({"certificate": leaf.chain_pem, "privateKey": leaf.key_pem}).to_string()
}

fn problem(report: &Report) -> Option<ClientCertSecretProblem> {
    report.event_source_mapping.as_ref()?.client_certificate_problem.as_ref().map(|p| p.problem)
}

#[tokio::test]
async fn the_mappings_client_certificate_is_checked_as_lambda_reads_it_and_presented() {
    let moto = Moto::start(&root());
    let c = cluster();
    let ca = secret(&moto, "kafka/ca", &serde_json::json!({"certificate": c.server_ca.cert_pem()}).to_string()).await;
    let good = c.client_ca.leaf(&["orders-esm"], Validity::Days(30)).expect("leaf");
    assert!(good.key_pem.contains("BEGIN PRIVATE KEY"), "the lab's keys are PKCS #8");

    // As Lambda reads it: presented, asked for, Metadata, PASS; the key never in the report.
    let arn = secret(&moto, "kafka/mtls", &lambda_secret(&good)).await;
    let report = run(&c, &moto, &arn, &ca).await;
    assert_eq!(report.status, Status::Pass, "{:#?}", report.findings);
    assert_eq!(problem(&report), None);
    let tls = report.targets[0].addresses[0].tls.as_ref().expect("tls");
    assert_eq!(tls.client_certificate, Some(ClientCertUse::Sent), "{tls:?}");
    assert!(report.settings.client_certificate.as_ref().is_some_and(|p| p.subject.contains("orders-esm")));
    let json = serde_json::to_string(&report).expect("json");
    assert!(!json.contains("PRIVATE KEY") && !json.contains(good.key_pem.lines().nth(1).expect("key line")));

    // A stranger's certificate in the right shape: presented, and the listener's refusal is the finding.
    let stranger =
        kreach_lab::Ca::new("stranger").expect("ca").leaf(&["orders-esm"], Validity::Days(30)).expect("leaf");
    let arn = secret(&moto, "kafka/stranger", &lambda_secret(&stranger)).await;
    let report = run(&c, &moto, &arn, &ca).await;
    assert_eq!(problem(&report), None);
    assert!(report.findings_with(FindingCode::TlsClientCertificateRefused).next().is_some(), "{:#?}", report.findings);

    // Shapes Lambda cannot read: each named by kind, the handshake then sent no certificate (and
    // the listener's demand for one is measured too), no value quoted.
    let other = c.client_ca.leaf(&["other"], Validity::Days(30)).expect("leaf");
    let pkcs1 = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\n";
    let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkq\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let cases = [
        (
            "kafka/not-json",
            "certificate=x".to_string(),
            ClientCertSecretProblem::WrongShape,
            FindingCode::EsmClientCertificateInvalid,
        ),
        (
            "kafka/username",
            serde_json::json!({"username": "u", "password": "p"}).to_string(),
            ClientCertSecretProblem::WrongShape,
            FindingCode::EsmClientCertificateInvalid,
        ),
        (
            "kafka/pkcs1",
            serde_json::json!({"certificate": good.chain_pem, "privateKey": pkcs1}).to_string(),
            ClientCertSecretProblem::NotPkcs8,
            FindingCode::EsmClientCertificateInvalid,
        ),
        (
            "kafka/mismatch",
            serde_json::json!({"certificate": good.chain_pem, "privateKey": other.key_pem}).to_string(),
            ClientCertSecretProblem::KeyMismatch,
            FindingCode::EsmClientCertificateInvalid,
        ),
        (
            "kafka/no-password",
            serde_json::json!({"certificate": good.chain_pem, "privateKey": encrypted}).to_string(),
            ClientCertSecretProblem::PasswordMissing,
            FindingCode::EsmClientCertificateInvalid,
        ),
        (
            "kafka/encrypted",
            serde_json::json!({"certificate": good.chain_pem, "privateKey": encrypted, "privateKeyPassword": "pw-9"})
                .to_string(),
            ClientCertSecretProblem::EncryptedNotVerified,
            FindingCode::EsmClientCertificateNotVerified,
        ),
    ];
    for (name, value, kind, code) in cases {
        let arn = secret(&moto, name, &value).await;
        let report = run(&c, &moto, &arn, &ca).await;
        assert_eq!(problem(&report), Some(kind), "{name}: {:#?}", report.event_source_mapping);
        let f = report.findings_with(code).next().unwrap_or_else(|| panic!("{name}: {:#?}", report.findings));
        assert!(f.summary.contains(&arn) && f.resources.contains(&arn), "{name}: {}", f.summary);
        assert!(report.findings_with(FindingCode::TlsClientCertificateRequired).next().is_some(), "{name}");
        assert_ne!(report.status, Status::Pass, "{name}: what kreach could not verify is never a pass");
        let json = serde_json::to_string(&report).expect("json");
        for quoted in ["MIIBOgIBAAJBAK", "MIIBvTBXBgkq", "pw-9", "\"p\""] {
            assert!(!json.contains(quoted), "{name}: {quoted} quoted");
        }
    }

    // A secret that does not exist: unreadable, said as such.
    let missing = "arn:aws:secretsmanager:us-west-2:123456789012:secret:kafka/none-AbCdEf";
    let report = run(&c, &moto, missing, &ca).await;
    assert_eq!(problem(&report), Some(ClientCertSecretProblem::Unreadable));
    assert!(report.findings_with(FindingCode::CredentialsSecretUnreadable).next().is_some(), "{:#?}", report.findings);
}

/// A provisioned mapping with a Confluent schema registry: its access secrets are read from
/// Secrets Manager as the pollers read them and checked for their type's shape — a BASIC_AUTH
/// secret without `password` is named (its keys, never a value), a root CA secret with a PEM and
/// a BASIC_AUTH secret with both keys pass.
#[tokio::test]
async fn the_schema_registry_s_access_secrets_are_checked_for_their_shape() {
    let moto = Moto::start(&root());
    let c = cluster();
    let ca = secret(&moto, "kafka/ca", &serde_json::json!({"certificate": c.server_ca.cert_pem()}).to_string()).await;
    let good = c.client_ca.leaf(&["orders-esm"], Validity::Days(30)).expect("leaf");
    let cert = secret(&moto, "kafka/mtls", &lambda_secret(&good)).await;
    let no_password = secret(
        &moto,
        "sr/no-password",
        &serde_json::json!({"username": "SR-KEY-1", "api_secret": "sr-hunter2"}).to_string(),
    )
    .await;
    let basic =
        secret(&moto, "sr/basic", &serde_json::json!({"username": "SR-KEY-1", "password": "sr-hunter2"}).to_string())
            .await;
    let with_registry = |basic_secret: &str| {
        let (basic_secret, ca) = (basic_secret.to_string(), ca.clone());
        move |m: &mut serde_json::Value| {
            m["ProvisionedPollerConfig"] = serde_json::json!({"MinimumPollers": 1, "MaximumPollers": 2});
            m["SelfManagedKafkaEventSourceConfig"] = serde_json::json!({"SchemaRegistryConfig": {
                "SchemaRegistryURI": "https://psrc-abc12.us-west-2.aws.confluent.cloud",
                "EventRecordFormat": "JSON",
                "AccessConfigs": [{"Type": "BASIC_AUTH", "URI": basic_secret}, {"Type": "SERVER_ROOT_CA_CERTIFICATE", "URI": ca}],
                "SchemaValidationConfigs": [{"Attribute": "VALUE"}]}});
        }
    };
    let report = run_edited(&c, &moto, &cert, &ca, with_registry(&no_password)).await;
    let found: Vec<_> = report.findings_with(FindingCode::EsmSchemaRegistrySecretInvalid).collect();
    assert_eq!(found.len(), 1, "{:#?}", report.findings);
    assert!(
        found[0].summary.contains("BASIC_AUTH") && found[0].summary.contains("sr/no-password"),
        "{}",
        found[0].summary
    );
    assert!(
        found[0].summary.contains("password missing or empty (keys found: api_secret, username"),
        "{}",
        found[0].summary
    );
    assert!(found[0].fix.contains("aws secretsmanager put-secret-value"), "{}", found[0].fix);
    let checks =
        &report.event_source_mapping.as_ref().and_then(|m| m.schema_registry.as_ref()).expect("registry").secret_checks;
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert!(checks[1].verified && checks[1].problem.is_none(), "the root CA secret: {:?}", checks[1]);
    let json = serde_json::to_string(&report).expect("json");
    assert!(!json.contains("sr-hunter2") && !json.contains("SR-KEY-1"), "no value of the secret in the report");

    let report = run_edited(&c, &moto, &cert, &ca, with_registry(&basic)).await;
    assert_eq!(report.findings_with(FindingCode::EsmSchemaRegistrySecretInvalid).count(), 0, "{:#?}", report.findings);
    let checks =
        &report.event_source_mapping.as_ref().and_then(|m| m.schema_registry.as_ref()).expect("registry").secret_checks;
    assert!(checks.iter().all(|c| c.verified && c.problem.is_none()), "{checks:?}");
}

//! Mutual TLS against a real TLS stack that demands client certificates: haproxy with
//! `verify required` (OpenSSL) in front of librdkafka's mock cluster, on loopback. With TLS 1.3 a
//! refusal arrives after the handshake, as an alert instead of the first answer: kreach reads it
//! as the client certificate's hop, not as "not Kafka".

use kreach::report::Hop;
use kreach::{CheckOptions, FindingCode, Report, Severity, Status};
use kreach_lab::{Ca, Validity};
use kreach_testkit::mtls::{Cluster, cluster};

/// The client's properties: its certificate and key when given.
fn run(c: &Cluster, client: Option<&kreach_lab::Leaf>) -> Result<Report, kreach::Error> {
    let ca = c.dir.path().join("server-ca.pem");
    std::fs::write(&ca, c.server_ca.cert_pem()).expect("ca");
    let mut props =
        format!("bootstrap.servers=127.0.0.1:{}\nsecurity.protocol=SSL\nssl.ca.location={}\n", c.port, ca.display());
    if let Some(leaf) = client {
        let (cert, key) = (c.dir.path().join("client.pem"), c.dir.path().join("client.key"));
        std::fs::write(&cert, &leaf.chain_pem).expect("cert");
        std::fs::write(&key, &leaf.key_pem).expect("key");
        props.push_str(&format!("ssl.certificate.location={}\nssl.key.location={}\n", cert.display(), key.display()));
    }
    let file = c.dir.path().join("client.properties");
    std::fs::write(&file, props).expect("props");
    let mut o = CheckOptions::default();
    o.config_file = Some(file);
    o.no_https = true;
    o.private_cidrs = vec!["127.0.0.0/8".into()];
    o.timeout_secs = Some(5.0);
    let config = o.validate(&|_| None)?;
    Ok(tokio::runtime::Runtime::new().expect("rt").block_on(kreach::run(&config)).expect("run"))
}

fn problems(report: &Report) -> Vec<&'static str> {
    report.codes_at_least(Severity::Warning).iter().map(|c| c.as_str()).collect()
}

#[test]
fn a_listener_that_demands_a_client_certificate_is_named_by_what_it_got() {
    let c = cluster();
    // None configured: the server asked, got none, and said so after the handshake (TLS 1.3).
    let report = run(&c, None).expect("report");
    assert_eq!(problems(&report), ["tls-client-certificate-required"], "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::TlsClientCertificateRequired).next().expect("finding");
    assert_eq!(f.hop, Hop::Authentication);
    let tls = report.targets[0].addresses[0].tls.as_ref().expect("tls");
    assert_eq!(tls.client_certificate, Some(kreach::report::ClientCertUse::NoneConfigured), "{tls:?}");

    // One the cluster's client CA issued: Metadata, brokers, PASS.
    let good = c.client_ca.leaf(&["kreach-client"], Validity::Days(30)).expect("client leaf");
    let report = run(&c, Some(&good)).expect("report");
    assert_eq!(report.status, Status::Pass, "{:#?}", report.findings);
    assert!(report.targets[0].addresses[0].kafka.as_ref().and_then(|k| k.metadata.as_ref()).is_some());
    let presented = report.settings.client_certificate.as_ref().expect("the certificate presented");
    assert!(presented.subject.contains("kreach-client"), "{presented:?}");

    // From a CA the server does not trust, or expired: refused, and the cause says which.
    let stranger = Ca::new("stranger CA").expect("ca").leaf(&["kreach-client"], Validity::Days(30)).expect("leaf");
    let expired = c.client_ca.leaf(&["kreach-client"], Validity::Expired).expect("leaf");
    for (leaf, cause) in [(stranger, kreach::report::Cause::UntrustedIssuer), (expired, kreach::report::Cause::Expired)]
    {
        let report = run(&c, Some(&leaf)).expect("report");
        assert_eq!(problems(&report), ["tls-client-certificate-refused"], "{:#?}", report.findings);
        let f = report.findings_with(FindingCode::TlsClientCertificateRefused).next().expect("finding");
        assert_eq!((f.hop, f.cause), (Hop::Authentication, cause), "{}", f.summary);
        assert!(!serde_json::to_string(&report).expect("json").contains("PRIVATE KEY"), "no key in the report");
    }
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused_naming_the_property() {
    let c = cluster();
    let cert = c.client_ca.leaf(&["kreach-client"], Validity::Days(30)).expect("leaf");
    let other = c.client_ca.leaf(&["someone-else"], Validity::Days(30)).expect("leaf");
    let mixed = kreach_lab::Leaf { key_pem: other.key_pem.clone(), ..cert };
    match run(&c, Some(&mixed)) {
        Err(kreach::Error::InvalidInput { field, message }) => {
            assert_eq!(field, "ssl.key.location");
            assert!(message.contains("not the key of the certificate"), "{message}");
            assert!(!message.contains("PRIVATE KEY"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

/// The HTTPS port behind the same listener: with TLS 1.3 the demand for a certificate arrives as
/// an alert instead of the HTTP response, and it is the client certificate's finding there too,
/// not "no HTTP response".
#[test]
fn an_https_port_demanding_a_certificate_is_named_by_its_alert() {
    let c = cluster();
    let ca = c.dir.path().join("server-ca.pem");
    std::fs::write(&ca, c.server_ca.cert_pem()).expect("ca");
    let mut o = CheckOptions::default();
    o.bootstrap = Some(format!("127.0.0.1:{}", c.port));
    o.security_protocol = Some("SSL".into());
    o.ca_file = Some(ca);
    o.no_https = true;
    o.targets = vec![format!("127.0.0.1:{}", c.port)];
    o.private_cidrs = vec!["127.0.0.0/8".into()];
    o.timeout_secs = Some(5.0);
    let config = o.validate(&|_| None).expect("valid");
    let report = tokio::runtime::Runtime::new().expect("rt").block_on(kreach::run(&config)).expect("run");
    let row = report.targets.iter().find(|t| t.endpoint.is_some()).expect("the HTTPS row");
    let https = row.addresses[0].https.as_ref().expect("https attempt");
    assert_eq!(https.tls_alert, Some(kreach::report::TlsAlert::CertificateRequired), "{https:?}");
    let on_row: Vec<&str> =
        report.findings.iter().filter(|f| f.target == row.target).map(|f| f.code.as_str()).collect();
    assert!(on_row.contains(&"tls-client-certificate-required"), "{:#?}", report.findings);
    assert!(!on_row.contains(&"https-no-response"), "{:#?}", report.findings);
}

/// A listener that does not ask for the certificate configured (mutual TLS without SASL): the
/// client is anonymous to it, and kreach says so.
#[test]
fn a_listener_that_never_asks_for_the_certificate_is_a_warning() {
    let dir = tempfile::tempdir().expect("dir");
    let lab_ca = Ca::new("plain TLS CA").expect("ca");
    let server = lab_ca.leaf(&["127.0.0.1"], Validity::Days(90)).expect("leaf");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let mock = kreach_lab::MockKafka::start(&[("127.0.0.1".to_string(), port)]).expect("mock");
    let _haproxy = kreach_testkit::mtls::haproxy_tls(dir.path(), port, &server, mock.listeners[0].1);
    let client = Ca::new("client CA").expect("ca").leaf(&["kreach-client"], Validity::Days(30)).expect("leaf");
    let (cert, key, ca) = (dir.path().join("c.pem"), dir.path().join("c.key"), dir.path().join("ca.pem"));
    std::fs::write(&cert, &client.chain_pem).expect("cert");
    std::fs::write(&key, &client.key_pem).expect("key");
    std::fs::write(&ca, lab_ca.cert_pem()).expect("ca");
    let file = dir.path().join("client.properties");
    std::fs::write(
        &file,
        format!(
            "bootstrap.servers=127.0.0.1:{port}\nsecurity.protocol=SSL\nssl.ca.location={}\n\
             ssl.certificate.location={}\nssl.key.location={}\n",
            ca.display(),
            cert.display(),
            key.display()
        ),
    )
    .expect("props");
    let mut o = CheckOptions::default();
    o.config_file = Some(file);
    o.no_https = true;
    o.private_cidrs = vec!["127.0.0.0/8".into()];
    o.timeout_secs = Some(5.0);
    let config = o.validate(&|_| None).expect("valid");
    let report = tokio::runtime::Runtime::new().expect("rt").block_on(kreach::run(&config)).expect("run");
    assert_eq!(problems(&report), ["tls-client-certificate-not-asked"], "{:#?}", report.findings);
    let f = report.findings_with(FindingCode::TlsClientCertificateNotAsked).next().expect("finding");
    assert!(f.summary.contains("kreach-client") && f.fix.contains("9094"), "{}", f.summary);
}

//! Whoever may invoke the function writes the event; the function's own environment decides
//! where its credentials may go. Hostile events against loopback peers that record every byte:
//! the canary password must never arrive, and the refusal must not reveal the configuration.
//!
//! The Kafka peer is `kreach_testkit::recording::RecordingBroker` (answers encoded by the
//! kafka-protocol crate; no broker that accepts SASL/PLAIN runs here). DNS is hickory's server
//! in-process, TLS is rustls with a CA the "attacker" made. Everything is on 127.0.0.0/8.

use std::net::SocketAddr;
use std::time::Duration;

use kreach_lab::{Ca, DnsServer, Rdata, Validity, Zone, server_config};
use kreach_testkit::recording::RecordingBroker;
use serde_json::json;

const CANARY: &str = "canary-pw-7f3a9c2e-never-send";
const HOST: &str = "kafka.allowed.example";

/// The attacker's world: a resolver that answers the allowed name with its own address, and a
/// TLS listener there with a certificate for that name from its own CA. Beside it the function's
/// own resolver (`KREACH_RESOLVERS`), which knows no such name: no test ever falls back to the
/// machine's resolver.
struct Attacker {
    dns: DnsServer,
    broker: RecordingBroker,
    ca_pem: String,
    own: DnsServer,
}

async fn attacker(ip: &str) -> Attacker {
    let ca = Ca::new("attacker CA").expect("ca");
    let leaf = ca.leaf(&[HOST], Validity::Days(30)).expect("leaf");
    let tls = server_config(&leaf, &[]).expect("tls");
    let broker = RecordingBroker::start(format!("{ip}:0").parse().expect("addr"), Some(tls), Some(HOST.into()))
        .await
        .expect("broker");
    let zone = Zone::new("allowed.example").with(HOST, Rdata::Addr(ip.parse().expect("ip")));
    let dns = DnsServer::start(format!("{ip}:0").parse::<SocketAddr>().expect("addr"), &[zone]).await.expect("dns");
    let own = DnsServer::start(format!("{ip}:0").parse::<SocketAddr>().expect("addr"), &[Zone::new("allowed.example")])
        .await
        .expect("own dns");
    Attacker { dns, broker, ca_pem: ca.cert_pem().to_string(), own }
}

/// The function's environment: credentials it holds, the hosts they may go to, its own resolver.
fn env(a: &Attacker, extra: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> + Sync {
    let own = a.own.addr().to_string();
    move |k: &str| {
        if let Some((_, v)) = extra.iter().find(|(key, _)| *key == k) {
            return Some(v.clone());
        }
        match k {
            "KREACH_RESOLVERS" => Some(own.clone()),
            "AWS_LAMBDA_FUNCTION_NAME" => Some("kreach-probe".into()),
            "AWS_REGION" => Some("us-west-2".into()),
            "KREACH_ALLOWED_BOOTSTRAP" => Some("*.allowed.example".into()),
            "KREACH_SASL_USERNAME" => Some("api-key".into()),
            "KREACH_SASL_PASSWORD" => Some(CANARY.into()),
            _ => None,
        }
    }
}

fn hostile_event(a: &Attacker) -> serde_json::Value {
    json!({
        "bootstrap": format!("{HOST}:{}", a.broker.addr.port()),
        "resolvers": [a.dns.addr().to_string()],
        "ca_pem": a.ca_pem,
        "security_protocol": "SASL_SSL",
        "private_cidrs": ["127.0.0.0/8"],
        "no_https": true,
        "timeout_secs": 3,
    })
}

#[tokio::test]
async fn an_event_cannot_point_the_allowed_name_at_its_own_peer() {
    let a = attacker("127.0.0.1").await;
    let report = kreach_lambda::handle(hostile_event(&a), Some(Duration::from_secs(6)), &env(&a, Vec::new()))
        .await
        .expect("a report: the run goes on without the event's resolvers and CA");
    assert!(!a.broker.received_contains(CANARY.as_bytes()), "the canary password reached the event's peer");
    let fields: Vec<&str> = report.settings.refused_inputs.iter().map(|r| r.field.as_str()).collect();
    assert_eq!(fields, ["resolvers", "ca_pem"], "{:?}", report.settings.refused_inputs);
    assert_eq!(report.settings.resolvers, [a.own.addr().to_string()], "the function's own resolver, not the event's");
    assert!(report.settings.ca_file.is_none(), "the event's CA was not trusted");
    let refused = report.findings.iter().find(|f| f.code.as_str() == "input-refused").expect("input-refused");
    assert!(refused.summary.contains("resolvers") && refused.summary.contains("ca_pem"), "{}", refused.summary);
    let json = serde_json::to_string(&report).expect("json");
    assert!(!json.contains(CANARY), "no secret in the report");
    for r in &report.settings.refused_inputs {
        assert!(!r.reason.contains("allowed.example"), "a refusal names no pattern of the function's: {r:?}");
    }
}

/// A resolver the function's environment allows is used; the event's CA still is not, so the
/// attacker's certificate fails verification and nothing is sent.
#[tokio::test]
async fn an_allowed_resolver_is_used_and_the_events_ca_still_is_not() {
    let a = attacker("127.0.0.2").await;
    let allowed = a.dns.addr().to_string();
    let env = env(&a, vec![("KREACH_ALLOWED_RESOLVERS", allowed.clone())]);
    let report = kreach_lambda::handle(hostile_event(&a), Some(Duration::from_secs(6)), &env).await.expect("report");
    assert_eq!(report.settings.resolvers, [allowed]);
    let fields: Vec<&str> = report.settings.refused_inputs.iter().map(|r| r.field.as_str()).collect();
    assert_eq!(fields, ["ca_pem"]);
    assert!(a.broker.connections() > 0, "the allowed resolver's answer was probed");
    assert!(!a.broker.received_contains(CANARY.as_bytes()), "the canary reached an unverified peer");
    let codes: Vec<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
    assert!(codes.contains(&"tls-unknown-issuer"), "the event's CA was not trusted: {codes:?}");
}

/// Without credentials to protect, the event's own resolvers and CA are the diagnosis's to use.
#[tokio::test]
async fn without_credentials_the_events_resolvers_and_ca_are_used() {
    let a = attacker("127.0.0.3").await;
    let with_credentials = env(&a, Vec::new());
    let env = |k: &str| match k {
        "KREACH_SASL_PASSWORD" | "KREACH_SASL_USERNAME" => None,
        other => with_credentials(other),
    };
    let report = kreach_lambda::handle(hostile_event(&a), Some(Duration::from_secs(6)), &env).await.expect("report");
    assert!(report.settings.refused_inputs.is_empty(), "{:?}", report.settings.refused_inputs);
    assert_eq!(report.settings.resolvers, [a.dns.addr().to_string()]);
    assert!(a.broker.received_len() > 0, "the event's peer was diagnosed");
}

/// A mapping's or the environment's secret that the function does not allow is refused in
/// words that do not name it; an event naming one is told only its own value back.
#[tokio::test]
async fn a_refused_secret_is_not_revealed() {
    let a = attacker("127.0.0.4").await;
    let mut event = hostile_event(&a);
    event["credentials_secret"] = json!("arn:aws:secretsmanager:us-west-2:123456789012:secret:prod-kafka");
    let err =
        kreach_lambda::handle(event, Some(Duration::from_secs(6)), &env(&a, Vec::new())).await.expect_err("refused");
    assert!(err.is_invalid_event(), "{err}");
    assert!(err.message.contains("KREACH_ALLOWED_SECRETS") && !err.message.contains("kreach/"), "{}", err.message);
    assert!(!a.broker.received_contains(CANARY.as_bytes()));
}

/// A target whose path or host carries CR LF (a second request, an added header) is a refused
/// event, named, before anything is sent.
#[tokio::test]
async fn a_target_that_would_inject_into_the_http_request_is_refused() {
    let a = attacker("127.0.0.5").await;
    for target in [
        "rest=https://kafka.allowed.example:443/x\r\nHost: evil.example\r\n\r\nGET /y",
        "https://kafka.allowed.example:443/a b",
        "tcp://kafka.allowed\u{1b}.example:9092",
    ] {
        let mut event = hostile_event(&a);
        event["targets"] = json!([target]);
        let err = kreach_lambda::handle(event, Some(Duration::from_secs(6)), &env(&a, Vec::new()))
            .await
            .expect_err("refused");
        assert!(err.is_invalid_event() && err.message.contains("invalid targets"), "{target:?}: {err}");
        assert!(!err.message.contains('\r') && !err.message.contains('\u{1b}'), "{err}");
    }
    assert_eq!(a.broker.connections(), 0, "nothing was probed");
}

/// A bad value in an event is named as the event spells it (`https_port`), not as the CLI does.
#[tokio::test]
async fn an_events_bad_value_names_its_own_key() {
    let payload = serde_json::json!({"bootstrap": "b.example:9092", "https_port": 0});
    let e =
        kreach_lambda::handle(payload, Some(std::time::Duration::from_secs(3)), &|_| None).await.expect_err("refused");
    assert!(e.is_invalid_event(), "{}", e.message);
    assert!(e.message.contains("invalid https_port") && !e.message.contains("--https-port"), "{}", e.message);
}

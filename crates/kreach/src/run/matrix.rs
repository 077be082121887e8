//! The matrix: one row per target, one cell per stage, summarised from the per-address results.

use crate::limits::EXPIRY_WARNING_DAYS;
use crate::report::{
    AddressReport, AnswerClass, DnsDetail, DnsOutcome, HttpsOutcome, KafkaOutcome, Stage, StageResult, StageStatus,
    TargetReport, TcpOutcome, TlsOutcome,
};
use crate::run::plan::TargetPlan;

/// Builds one matrix row from the per-address results.
pub(crate) fn assemble(plan: &TargetPlan, dns: &DnsDetail, addresses: Vec<AddressReport>) -> TargetReport {
    // An endpoint around Kafka may be public (the AWS and Confluent APIs, a public Schema Registry).
    let public_ok = !plan.expects_private();
    let mut stages = vec![dns_stage(dns, public_ok)];
    let dns_ok = !addresses.is_empty();

    let tcp: Vec<_> = addresses.iter().filter_map(|a| a.tcp.as_ref()).collect();
    let connected = tcp.iter().filter(|t| t.outcome == TcpOutcome::Connected).count();
    stages.push(if !dns_ok {
        skipped(Stage::Tcp, "no address to connect to")
    } else {
        let failures = tally(tcp.iter().filter(|t| t.outcome != TcpOutcome::Connected).map(|t| t.outcome.word()));
        StageResult {
            stage: Stage::Tcp,
            status: if connected == tcp.len() { StageStatus::Pass } else { StageStatus::Fail },
            elapsed_ms: tcp.iter().map(|t| t.elapsed_ms).max(),
            summary: if failures.is_empty() {
                format!("{connected}/{} connected", tcp.len())
            } else {
                format!("{connected}/{} connected; {failures}", tcp.len())
            },
        }
    });

    let tls: Vec<_> = addresses.iter().filter_map(|a| a.tls.as_ref()).collect();
    stages.push(if !plan.tls {
        StageResult {
            stage: Stage::Tls,
            status: StageStatus::NotApplicable,
            elapsed_ms: None,
            summary: if plan.endpoint.is_some() {
                "plaintext (tcp:// or http://)"
            } else {
                "plaintext listener (security.protocol)"
            }
            .into(),
        }
    } else if tls.is_empty() {
        skipped(Stage::Tls, "no TCP connection")
    } else {
        let ok = tls.iter().filter(|t| t.outcome == TlsOutcome::Ok).count();
        let soonest = tls.iter().filter_map(|t| t.peer_certificate.as_ref()).map(|c| c.days_to_expiry).min();
        let failures = tally(tls.iter().filter(|t| t.outcome != TlsOutcome::Ok).map(|t| t.outcome.word()));
        // Each column judges its own hop: addresses TCP could not reach are the TCP column's failure.
        let status = if ok < tls.len() {
            StageStatus::Fail
        } else if soonest.is_some_and(|d| d < EXPIRY_WARNING_DAYS) {
            StageStatus::Warn
        } else {
            StageStatus::Pass
        };
        let first_ok = tls.iter().find(|t| t.outcome == TlsOutcome::Ok);
        let mut summary = format!("{ok}/{} handshakes", tls.len());
        if let Some(t) = first_ok {
            summary.push_str(&format!(", {}", t.protocol_version.as_deref().unwrap_or("?")));
        }
        if let Some(days) = soonest {
            summary.push_str(&format!(", cert {days} days left"));
        }
        if !failures.is_empty() {
            summary.push_str(&format!("; {failures}"));
        }
        StageResult { stage: Stage::Tls, status, elapsed_ms: tls.iter().map(|t| t.elapsed_ms).max(), summary }
    });

    if plan.https_path().is_some() {
        let http: Vec<_> = addresses.iter().filter_map(|a| a.https.as_ref()).collect();
        stages.push(if http.is_empty() {
            skipped(Stage::Https, "no TLS session")
        } else {
            let ok = http.iter().filter(|h| h.outcome == HttpsOutcome::Response).count();
            let mut codes: Vec<String> =
                http.iter().filter_map(|h| h.status_code).map(|c| format!("HTTP {c}")).collect();
            codes.sort();
            codes.dedup();
            StageResult {
                stage: Stage::Https,
                status: if ok == http.len() { StageStatus::Pass } else { StageStatus::Fail },
                elapsed_ms: http.iter().map(|h| h.elapsed_ms).max(),
                summary: format!("{ok}/{} answered {}", http.len(), codes.join(", ")).trim_end().to_string(),
            }
        });
    }

    if plan.kafka {
        let kafka: Vec<_> = addresses.iter().filter_map(|a| a.kafka.as_ref()).collect();
        stages.push(if kafka.is_empty() {
            skipped(Stage::Kafka, if plan.tls { "no TLS session" } else { "no TCP connection" })
        } else {
            let ok = kafka.iter().filter(|k| k.outcome == KafkaOutcome::Ok).count();
            let failures = tally(kafka.iter().filter(|k| k.outcome != KafkaOutcome::Ok).map(|k| k.outcome.word()));
            let mut summary =
                format!("{ok}/{} {}", kafka.len(), if plan.metadata { "ApiVersions+Metadata" } else { "ApiVersions" });
            if let Some(m) = kafka.iter().find_map(|k| k.metadata.as_ref()) {
                summary.push_str(&format!(", {}", count(m.brokers_total.max(m.brokers.len()), "broker", "brokers")));
            }
            if !failures.is_empty() {
                summary.push_str(&format!("; {failures}"));
            }
            StageResult {
                stage: Stage::Kafka,
                status: if ok == kafka.len() { StageStatus::Pass } else { StageStatus::Fail },
                elapsed_ms: kafka.iter().map(|k| k.elapsed_ms).max(),
                summary,
            }
        });
    }

    TargetReport {
        target: plan.hp.to_string(),
        host: plan.hp.host.clone(),
        port: plan.hp.port,
        role: plan.role,
        stages,
        dns: Some(dns.clone()),
        addresses,
        broker: plan.broker.clone(),
        endpoint: plan.endpoint.clone(),
    }
}

fn dns_stage(dns: &DnsDetail, public_ok: bool) -> StageResult {
    let l = &dns.lookup;
    let n = l.addresses.len();
    let (status, summary) = match (l.outcome, dns.answer_class) {
        (DnsOutcome::AddressLiteral, _) => (StageStatus::Pass, "address literal, no lookup".to_string()),
        (DnsOutcome::Answer, Some(AnswerClass::Private)) => {
            (StageStatus::Pass, format!("{} (private)", count(n, "address", "addresses")))
        }
        (DnsOutcome::Answer, Some(AnswerClass::Mixed)) => {
            (StageStatus::Warn, format!("{}, some public", count(n, "address", "addresses")))
        }
        (DnsOutcome::Answer, _) if public_ok => {
            (StageStatus::Pass, format!("{} (public)", count(n, "address", "addresses")))
        }
        (DnsOutcome::Answer, _) => (StageStatus::Fail, format!("{} (public)", count(n, "address", "addresses"))),
        (DnsOutcome::Nxdomain, _) => (StageStatus::Fail, "NXDOMAIN".to_string()),
        (DnsOutcome::NoData, _) => (StageStatus::Fail, "no A/AAAA record".to_string()),
        (DnsOutcome::Unreachable, _) => (StageStatus::Fail, "resolver did not answer".to_string()),
        (DnsOutcome::Error, _) => (StageStatus::Fail, "resolver error".to_string()),
    };
    let summary = match l.cname_chain.len() {
        0 => summary,
        hops => format!("{summary} via {}", count(hops, "CNAME", "CNAMEs")),
    };
    StageResult { stage: Stage::Dns, status, elapsed_ms: Some(l.elapsed_ms), summary }
}

pub(crate) fn skipped(stage: Stage, why: &str) -> StageResult {
    StageResult { stage, status: StageStatus::Skipped, elapsed_ms: None, summary: format!("skipped: {why}") }
}

/// "1 address", "3 addresses".
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "2 timeout, 1 refused" from a list of words.
fn tally(words: impl Iterator<Item = impl Into<String>>) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for w in words {
        let w = w.into();
        match counts.iter_mut().find(|(k, _)| *k == w) {
            Some((_, c)) => *c += 1,
            None => counts.push((w, 1)),
        }
    }
    counts.iter().map(|(w, c)| format!("{c} {w}")).collect::<Vec<_>>().join(", ")
}

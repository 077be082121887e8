//! kreach as a Lambda function attached to a VPC's subnets: the event carries the options of
//! `kreach check` as JSON, the response is the JSON report. The function's own deadline caps
//! kreach's, with a margin, so it always answers with a report instead of timing out.
//!
//! Credentials for SASL come from the function's environment (`KREACH_SASL_USERNAME`,
//! `KREACH_SASL_PASSWORD`, e.g. filled from Secrets Manager by the deployment), never from the
//! event, and are never logged.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kreach::{CheckOptions, Report};
use lambda_runtime::LambdaEvent;
use serde::Deserialize;

/// Time kept back from the function's deadline to serialize and return the report.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(750);

/// The event: `kreach check`'s options. Unknown fields are an error, so a typo is not ignored.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckEvent {
    /// `host:port`, comma-separated for several.
    pub bootstrap: String,
    /// Resolvers instead of the VPC's (`ADDR[:PORT]`).
    #[serde(default)]
    pub resolvers: Vec<String>,
    /// Public resolvers to compare with.
    #[serde(default)]
    pub public_resolvers: Vec<String>,
    /// CIDRs counted as private (the VPC's).
    #[serde(default)]
    pub private_cidrs: Vec<String>,
    /// Extra CA certificates, PEM text (the function has no file of yours).
    pub ca_pem: Option<String>,
    /// Skip certificate verification (reported).
    #[serde(default)]
    pub insecure: bool,
    /// Global deadline in seconds (capped by the function's own).
    pub timeout_secs: Option<f64>,
    /// HTTPS port (default 443).
    pub https_port: Option<u16>,
    /// Do not probe the HTTPS port.
    #[serde(default)]
    pub no_https: bool,
    /// `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT`, `SASL_SSL` (default `SASL_SSL`).
    pub security_protocol: Option<String>,
    /// `AZID=IP` per zone.
    #[serde(default)]
    pub zone_addresses: Vec<String>,
    /// Run the AWS audit (with the function's role).
    #[serde(default)]
    pub aws: bool,
    /// The endpoint to audit.
    pub vpc_endpoint: Option<String>,
    /// The private hosted zone's name (default: the bootstrap name's parent).
    pub dns_domain: Option<String>,
}

/// The Lambda entry point: the event's JSON in, the report's JSON out.
pub async fn function(event: LambdaEvent<serde_json::Value>) -> Result<serde_json::Value, lambda_runtime::Error> {
    // The context's deadline is in milliseconds since the epoch; 0 means the runtime gave none.
    let deadline_ms = event.context.deadline;
    let remaining = (deadline_ms > 0).then(|| {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|n| n.as_millis() as u64).unwrap_or(0);
        Duration::from_millis(deadline_ms.saturating_sub(now))
    });
    let report = handle(event.payload, remaining, &|k| std::env::var(k).ok()).await?;
    Ok(serde_json::to_value(report)?)
}

/// Runs one check. `remaining` is the time the function has left; `env` looks up the environment.
/// `Err` is a bad event (a clear message), never a failed check.
pub async fn handle(
    payload: serde_json::Value,
    remaining: Option<Duration>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Report, String> {
    let event: CheckEvent = serde_json::from_value(payload).map_err(|e| format!("invalid event: {e}"))?;
    let budget = remaining.map(|r| r.saturating_sub(DEADLINE_MARGIN));
    if budget.is_some_and(|b| b < Duration::from_millis(500)) {
        return Err("invalid event: the function has less than a second left; give it a longer timeout".into());
    }
    let requested = event.timeout_secs.unwrap_or(kreach::DEFAULT_TIMEOUT.as_secs_f64());
    let timeout = match budget {
        Some(b) => requested.min(b.as_secs_f64()),
        None => requested,
    };
    // A CA given as text goes to a file the TLS stage can read.
    let ca_file = match &event.ca_pem {
        Some(pem) => {
            let path = std::env::temp_dir().join(format!("kreach-ca-{}.pem", std::process::id()));
            std::fs::write(&path, pem).map_err(|e| format!("cannot write the CA: {e}"))?;
            Some(path)
        }
        None => None,
    };
    let mut options = CheckOptions::default();
    options.bootstrap = Some(event.bootstrap.clone());
    options.resolvers = event.resolvers.clone();
    options.public_resolvers = event.public_resolvers.clone();
    options.private_cidrs = event.private_cidrs.clone();
    options.ca_file = ca_file;
    options.insecure = event.insecure;
    options.timeout_secs = Some(timeout);
    options.https_port = event.https_port;
    options.no_https = event.no_https;
    options.security_protocol = event.security_protocol.clone();
    options.zone_addresses = event.zone_addresses.clone();
    let config = options.validate(env).map_err(|e| format!("invalid event: {e}"))?;

    let audit = async {
        if !event.aws {
            return None;
        }
        let mut input = kreach_aws::AuditInput::default();
        input.vpc_endpoint_id = event.vpc_endpoint.clone();
        input.domain = event
            .dns_domain
            .clone()
            .or_else(|| config.bootstrap.first().and_then(|b| b.host.split_once('.')).map(|(_, p)| p.to_string()));
        Some(kreach_aws::audit(&input, config.timeout).await)
    };
    let (report, audit, vantage) = tokio::join!(kreach::run(&config), audit, kreach::detect_vantage(env));
    let mut report = report.map_err(|e| e.to_string())?;
    if let Some(audit) = audit {
        kreach::attach_aws(&mut report, audit);
    }
    kreach::attach_vantage(&mut report, vantage);
    Ok(report)
}

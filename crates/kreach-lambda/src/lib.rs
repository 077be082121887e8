//! kreach as a Lambda function attached to a VPC's subnets: the event carries the options of
//! `kreach check` as JSON, the response is the JSON report. The function's own deadline caps
//! kreach's, with a margin, so it always answers with a report instead of timing out.
//!
//! SASL credentials come from a Secrets Manager secret that the event names
//! (`credentials_secret`) or the function's environment names (`KREACH_SASL_SECRET`), else from
//! the environment itself (`KREACH_SASL_USERNAME`, `KREACH_SASL_PASSWORD`); never from the event's
//! own text, and they are never logged or reported.
//!
//! In Lambda the function also reads its own configuration (`lambda:GetFunctionConfiguration`)
//! to say whether it is attached to a VPC, and which VPC, subnets and security groups it has.

pub mod aws;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kreach::{CheckOptions, Report};
use lambda_runtime::LambdaEvent;
use serde::Deserialize;

/// Time kept back from the function's deadline to serialize and return the report.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(750);
/// Longest wait for the function's own configuration (runs beside the checks).
const FUNCTION_CAP: Duration = Duration::from_secs(2);

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
    /// The VPC whose endpoint to audit when `vpc_endpoint` is not given (default: the function's own).
    pub vpc_id: Option<String>,
    /// The endpoint service name, to pick among a VPC's endpoints.
    pub endpoint_service: Option<String>,
    /// The private hosted zone's name (default: the bootstrap name's parent).
    pub dns_domain: Option<String>,
    /// Name or ARN of a Secrets Manager secret holding `{"username": …, "password": …}` (or
    /// `api_key`/`api_secret`) for SASL. The event names the secret, never carries it.
    pub credentials_secret: Option<String>,
    /// `PLAIN` (default), `SCRAM-SHA-256`, `SCRAM-SHA-512`.
    pub sasl_mechanism: Option<String>,
}

/// A file that is removed when dropped: the CA and properties the event carries as text.
struct TempFile(PathBuf);

impl TempFile {
    fn write(kind: &str, text: &str) -> Result<TempFile, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("kreach-{kind}-{}-{n}", std::process::id()));
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(TempFile(path))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What the function answers instead of a report: `InvalidEvent` (the caller's to fix) or
/// `KreachError` (could not run at all). A failed check is never this: it is the report.
#[derive(Debug)]
pub struct FunctionError {
    /// `InvalidEvent` or `KreachError`: the response's `errorType`.
    pub kind: &'static str,
    /// The message, one line.
    pub message: String,
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl From<FunctionError> for lambda_runtime::Diagnostic {
    fn from(e: FunctionError) -> Self {
        lambda_runtime::Diagnostic { error_type: e.kind.to_string(), error_message: e.message }
    }
}

/// The Lambda entry point: the event's JSON in, the report's JSON out.
pub async fn function(event: LambdaEvent<serde_json::Value>) -> Result<serde_json::Value, FunctionError> {
    let report =
        handle(event.payload, remaining(event.context.deadline, SystemTime::now()), &|k| std::env::var(k).ok())
            .await
            .map_err(|message| {
            let kind = if message.starts_with("invalid event") { "InvalidEvent" } else { "KreachError" };
            FunctionError { kind, message }
        })?;
    serde_json::to_value(report).map_err(|e| FunctionError { kind: "KreachError", message: e.to_string() })
}

/// Earliest plausible deadline: 2001-01-01 in milliseconds since the epoch.
const PLAUSIBLE_DEADLINE_MS: u64 = 978_307_200_000;

/// The time left before the runtime's deadline (milliseconds since the epoch). No deadline (0), or
/// one that is no timestamp at all (cargo lambda's emulator sends a duration), is none: the event's
/// own timeout applies.
pub fn remaining(deadline_ms: u64, now: SystemTime) -> Option<Duration> {
    if deadline_ms < PLAUSIBLE_DEADLINE_MS {
        return None;
    }
    let now = now.duration_since(UNIX_EPOCH).map(|n| n.as_millis() as u64).unwrap_or(0);
    Some(Duration::from_millis(deadline_ms.saturating_sub(now)))
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
    // A CA given as text goes to a file the TLS stage can read; the mechanism to a properties file,
    // so it is validated like one.
    let ca = event.ca_pem.as_deref().map(|pem| TempFile::write("ca", pem)).transpose()?;
    let properties = match &event.sasl_mechanism {
        Some(m) if m.contains(['\n', '\r']) => return Err("invalid event: sasl_mechanism is one line".into()),
        Some(m) => Some(TempFile::write("properties", &format!("sasl.mechanism={m}\n"))?),
        None => None,
    };
    let mut options = CheckOptions::default();
    options.bootstrap = Some(event.bootstrap.clone());
    options.config_file = properties.as_ref().map(|p| p.0.clone());
    options.resolvers = event.resolvers.clone();
    options.public_resolvers = event.public_resolvers.clone();
    options.private_cidrs = event.private_cidrs.clone();
    options.ca_file = ca.as_ref().map(|c| c.0.clone());
    options.insecure = event.insecure;
    options.timeout_secs = Some(timeout);
    options.https_port = event.https_port;
    options.no_https = event.no_https;
    options.security_protocol = event.security_protocol.clone();
    options.zone_addresses = event.zone_addresses.clone();
    let mut config = options.validate(env).map_err(|e| format!("invalid event: {e}"))?;
    let access = aws::Access::from_env(env);

    // The secret first: the Kafka stage needs what it holds. Its time comes out of the deadline.
    let secret_id =
        event.credentials_secret.clone().or_else(|| env(kreach::ENV_SASL_SECRET)).filter(|s| !s.trim().is_empty());
    let secret = match &secret_id {
        Some(id) => kreach_aws::load_secret(&mut config, access.sdk(), id.trim()).await,
        None => None,
    };

    // Where am I (with the function's VPC), then the audit of that VPC's endpoint, beside the checks.
    let context = async {
        let deadline = Instant::now() + config.timeout;
        let mut vantage = kreach::detect_vantage(env).await;
        if vantage.kind == kreach::VantageKind::Lambda {
            aws::describe_function(&access, &mut vantage, FUNCTION_CAP.min(config.timeout)).await;
        }
        if !event.aws {
            return (vantage, None);
        }
        let mut input = kreach_aws::AuditInput::default();
        input.vpc_endpoint_id = event.vpc_endpoint.clone();
        input.vpc_id = event.vpc_id.clone().or_else(|| vantage.facts.get("vpc_id").cloned());
        input.service_name = event.endpoint_service.clone();
        input.domain = event
            .dns_domain
            .clone()
            .or_else(|| config.bootstrap.first().and_then(|b| b.host.split_once('.')).map(|(_, p)| p.to_string()));
        input.region = access.region.clone();
        input.endpoint_url = access.endpoint_url.clone();
        let audit = match &access.credentials {
            // Only the function's own credentials: no credential chain probing the network.
            None => kreach::AwsAudit {
                unavailable: Some("no AWS credentials in the function's environment".into()),
                ..Default::default()
            },
            Some(c) => {
                input.static_credentials = Some((c.access_key_id().to_string(), c.secret_access_key().to_string()));
                input.session_token = c.session_token().map(str::to_string);
                kreach_aws::audit(&input, deadline.saturating_duration_since(Instant::now())).await
            }
        };
        (vantage, Some(audit))
    };
    let (report, (vantage, audit)) = tokio::join!(kreach::run(&config), context);
    let mut report = report.map_err(|e| e.to_string())?;
    if let Some(audit) = audit {
        kreach::attach_aws(&mut report, audit);
    }
    if let Some(lookup) = secret {
        kreach::attach_secret(&mut report, lookup);
    }
    kreach::attach_vantage(&mut report, vantage);
    Ok(report)
}

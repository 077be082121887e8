//! `kreach fleet`: the same check from many vantage points at once — every listed kreach function
//! invoked concurrently (lambda:InvokeFunction, the one action kreach takes, only when asked),
//! each within what is left of one global deadline, throttling retried with backoff inside it.
//! Every function gets a row: its report, or why there is none (its error, its timeout, an
//! answer too large or not a report, a denial).

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;

use crate::AwsError;

/// Most functions one fleet run invokes.
pub const MAX_FLEET: usize = 1000;
/// Time kept back from an invocation's share of the deadline for the call's own round trip: the
/// function's check gets the rest as its `timeout_secs`.
const INVOKE_MARGIN: Duration = Duration::from_millis(1500);
/// First wait after a throttled invocation; doubled each time, with jitter.
const THROTTLE_BACKOFF: Duration = Duration::from_millis(200);

/// One function to invoke.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FleetTarget {
    /// Name or ARN.
    pub function: String,
    /// Its region, when not the default's (an ARN's own region is used otherwise).
    pub region: Option<String>,
    /// A role to assume for it (another account's).
    pub role: Option<String>,
}

impl FleetTarget {
    /// A line of a functions file: `NAME|ARN [REGION [ROLE-ARN]]`; `#` starts a comment.
    pub fn parse_line(line: &str) -> Result<Option<FleetTarget>, String> {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            return Ok(None);
        }
        let mut words = line.split_whitespace();
        let function = words.next().unwrap_or_default().to_string();
        let region = words.next().map(str::to_string);
        let role = words.next().map(str::to_string);
        if words.next().is_some() {
            return Err(format!("`{line}`: NAME|ARN [REGION [ROLE-ARN]], nothing more"));
        }
        if function.len() > 256 || !function.chars().all(|c| c.is_ascii_alphanumeric() || "-_:./$".contains(c)) {
            return Err(format!("`{function}` is not a function name or ARN"));
        }
        if let Some(r) = &region {
            if r.len() > 32 || !r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                return Err(format!("`{r}` is not a region"));
            }
        }
        if let Some(r) = &role {
            if !r.starts_with("arn:") || r.len() > 2048 {
                return Err(format!("`{r}` is not a role ARN"));
            }
        }
        Ok(Some(FleetTarget { function, region, role }))
    }

    /// The region the invocation goes to: the given one, else the ARN's.
    fn region(&self) -> Option<String> {
        self.region.clone().or_else(|| {
            let parts: Vec<&str> = self.function.split(':').collect();
            (parts.len() >= 7 && parts[0] == "arn").then(|| parts[3].to_string()).filter(|r| !r.is_empty())
        })
    }
}

/// How one invocation ended.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InvocationOutcome {
    /// The function answered a report.
    Report,
    /// The function answered an error (a bad event, a crash, its own timeout).
    FunctionError,
    /// No answer within the deadline.
    Timeout,
    /// Still throttled when the deadline came.
    Throttled,
    /// The answer was larger than a Lambda response can be, or not a report.
    Invalid,
    /// The caller may not invoke it (or assume its role).
    Denied,
    /// The Lambda API was not reachable, or the credentials were refused.
    Unreachable,
    /// Another error from the API (no such function, …).
    Error,
}

/// One function's row.
#[derive(Clone, Debug, Serialize)]
pub struct Invocation {
    /// Which function.
    pub target: FleetTarget,
    /// How it ended.
    pub outcome: InvocationOutcome,
    /// Why there is no report, one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Time from the start of the fleet run to the answer, in milliseconds.
    pub elapsed_ms: u64,
    /// Invocations made (more than one when throttled).
    pub attempts: u32,
    /// The report, when there is one.
    #[serde(skip)]
    pub report: Option<kreach::Report>,
}

/// How the fleet is invoked.
pub struct FleetPlan<'a> {
    /// The functions.
    pub targets: &'a [FleetTarget],
    /// The check, as every function's event (its `timeout_secs` set per invocation).
    pub event: &'a serde_json::Value,
    /// The whole run's deadline.
    pub deadline: Instant,
    /// Invocations in flight at most.
    pub concurrency: usize,
    /// The default region, endpoint and credentials (tests: an emulator's).
    pub region: Option<&'a str>,
    /// An endpoint for every Lambda call (an emulator), else the SDK's chain.
    pub endpoint_url: Option<&'a str>,
    /// Static credentials, else the SDK's chain.
    pub credentials: Option<aws_credential_types::Credentials>,
}

/// Which SDK configuration an invocation uses: its region and the role it assumes.
type ConfigKey = (Option<String>, Option<String>);

/// Whether an error is Lambda throttling the caller.
fn throttled(e: &AwsError) -> bool {
    let text = e.to_string();
    ["TooManyRequests", "Throttl", "Rate exceeded", "HTTP 429", "status code: 429"].iter().any(|t| text.contains(t))
}

fn outcome_of(e: &AwsError) -> InvocationOutcome {
    match e {
        AwsError::Denied { .. } => InvocationOutcome::Denied,
        AwsError::Unreachable(m) if m.contains("did not answer within") => InvocationOutcome::Timeout,
        AwsError::Unreachable(_) => InvocationOutcome::Unreachable,
        AwsError::Invalid(_) => InvocationOutcome::Invalid,
        AwsError::Api(m) if m.contains(" answered ") => InvocationOutcome::FunctionError,
        AwsError::Api(_) if throttled(e) => InvocationOutcome::Throttled,
        AwsError::Api(_) => InvocationOutcome::Error,
    }
}

/// Invokes every target, at most `concurrency` at once, each within what is left of the deadline;
/// `answered(done, total)` is called as each row comes in. Rows come back in the targets' order.
pub async fn invoke_fleet(plan: &FleetPlan<'_>, answered: &(dyn Fn(usize, usize) + Sync)) -> Vec<Invocation> {
    let started = Instant::now();
    let targets = &plan.targets[..plan.targets.len().min(MAX_FLEET)];
    // One SDK configuration per region and role, built before the first call.
    let mut configs: Vec<(ConfigKey, aws_config::SdkConfig)> = Vec::new();
    for t in targets {
        let key = (t.region().or(plan.region.map(str::to_string)), t.role.clone());
        if configs.iter().any(|(k, _)| *k == key) {
            continue;
        }
        // Throttling is retried here, against the fleet's deadline, not by the SDK's own policy.
        let base = crate::sdk_config(key.0.as_deref(), plan.endpoint_url, plan.credentials.clone())
            .await
            .into_builder()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        let sdk = match &key.1 {
            None => base,
            Some(role) => {
                let provider = aws_config::sts::AssumeRoleProvider::builder(role.clone())
                    .session_name("kreach-fleet")
                    .configure(&base)
                    .build()
                    .await;
                base.into_builder()
                    .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
                    .build()
            }
        };
        configs.push((key, sdk));
    }
    let total = targets.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let rows = futures::stream::iter(targets.iter().enumerate().map(|(i, t)| {
        let key = (t.region().or(plan.region.map(str::to_string)), t.role.clone());
        let sdk = configs.iter().find(|(k, _)| *k == key).map(|(_, s)| s.clone());
        let done = &done;
        async move {
            let row = match sdk {
                Some(sdk) => invoke_one(&sdk, t, plan.event, plan.deadline, started).await,
                None => Invocation {
                    target: t.clone(),
                    outcome: InvocationOutcome::Error,
                    error: Some("no AWS configuration".into()),
                    elapsed_ms: 0,
                    attempts: 0,
                    report: None,
                },
            };
            answered(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1, total);
            (i, row)
        }
    }))
    .buffer_unordered(plan.concurrency.clamp(1, 256))
    .collect::<Vec<_>>()
    .await;
    let mut rows = rows;
    rows.sort_by_key(|(i, _)| *i);
    rows.into_iter().map(|(_, r)| r).collect()
}

/// One function: invoked with the time left, again after a throttle while time is left.
async fn invoke_one(
    sdk: &aws_config::SdkConfig,
    t: &FleetTarget,
    event: &serde_json::Value,
    deadline: Instant,
    started: Instant,
) -> Invocation {
    let mut attempts = 0u32;
    let mut backoff = THROTTLE_BACKOFF;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let row = |outcome, error: Option<String>, report, attempts| Invocation {
            target: t.clone(),
            outcome,
            error,
            elapsed_ms: started.elapsed().as_millis() as u64,
            attempts,
            report,
        };
        if left <= INVOKE_MARGIN {
            let why =
                if attempts == 0 { "no time left to invoke it" } else { "still throttled when the deadline came" };
            let outcome = if attempts == 0 { InvocationOutcome::Timeout } else { InvocationOutcome::Throttled };
            return row(outcome, Some(why.into()), None, attempts);
        }
        let mut event = event.clone();
        let check_secs = (left - INVOKE_MARGIN).as_secs_f64();
        let asked = event.get("timeout_secs").and_then(|v| v.as_f64()).unwrap_or(check_secs);
        event["timeout_secs"] = serde_json::json!(asked.min(check_secs));
        attempts += 1;
        match crate::invoke_function(sdk, &t.function, &event, left).await {
            Ok(report) => return row(InvocationOutcome::Report, None, Some(report), attempts),
            Err(e) if throttled(&e) && outcome_of(&e) != InvocationOutcome::FunctionError => {
                // Jitter from the clock's nanoseconds: no two functions wait in step.
                let nanos =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
                let jitter = Duration::from_millis(u64::from(nanos % 97));
                let wait = (backoff + jitter).min(deadline.saturating_duration_since(Instant::now()));
                tokio::time::sleep(wait).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                let text: String = kreach::render::clean(&e.to_string()).chars().take(500).collect();
                return row(outcome_of(&e), Some(text), None, attempts);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_file_lines_are_read_or_refused_by_name() {
        assert_eq!(FleetTarget::parse_line("  # a comment").expect("ok"), None);
        let t = FleetTarget::parse_line("kreach-az1 us-east-1 arn:aws:iam::123456789012:role/kreach # az1")
            .expect("ok")
            .expect("t");
        assert_eq!((t.function.as_str(), t.region.as_deref()), ("kreach-az1", Some("us-east-1")));
        assert_eq!(t.role.as_deref(), Some("arn:aws:iam::123456789012:role/kreach"));
        let arn =
            FleetTarget::parse_line("arn:aws:lambda:eu-west-1:123456789012:function:kreach").expect("ok").expect("t");
        assert_eq!(arn.region().as_deref(), Some("eu-west-1"));
        assert!(FleetTarget::parse_line("f us-east-1 notarole").expect_err("role").contains("not a role ARN"));
        assert!(FleetTarget::parse_line("f US_EAST").expect_err("region").contains("not a region"));
        assert!(FleetTarget::parse_line("f r arn:x extra").expect_err("extra").contains("nothing more"));
        assert!(FleetTarget::parse_line("bad;name").expect_err("name").contains("not a function"));
    }

    #[test]
    fn errors_are_classified_into_rows() {
        assert_eq!(
            outcome_of(&AwsError::Api("lambda:InvokeFunction f: TooManyRequestsException: Rate exceeded".into())),
            InvocationOutcome::Throttled
        );
        assert_eq!(outcome_of(&AwsError::Api("f answered Unhandled: boom".into())), InvocationOutcome::FunctionError);
        assert_eq!(
            outcome_of(&AwsError::Unreachable("f did not answer within 3000 ms".into())),
            InvocationOutcome::Timeout
        );
        assert_eq!(outcome_of(&AwsError::Invalid("f answered 7000000 bytes".into())), InvocationOutcome::Invalid);
        assert_eq!(
            outcome_of(&AwsError::Denied { action: "lambda:InvokeFunction".into(), message: "no".into() }),
            InvocationOutcome::Denied
        );
    }
}

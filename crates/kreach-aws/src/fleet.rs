//! `kreach fleet`: the same check from many vantage points at once — every listed kreach function
//! invoked concurrently (lambda:InvokeFunction, the one action kreach takes, only when asked),
//! each within what is left of one global deadline, throttling retried with backoff inside it.
//! Every function gets a row: its report, or why there is none (its error, its timeout, an
//! answer too large or not a report, a denial).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::invoke::Invoker;
use crate::{AwsError, AwsErrorKind};

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

impl InvocationOutcome {
    /// The outcome's stable label (its JSON spelling).
    pub fn as_label(self) -> &'static str {
        match self {
            InvocationOutcome::Report => "report",
            InvocationOutcome::FunctionError => "function_error",
            InvocationOutcome::Timeout => "timeout",
            InvocationOutcome::Throttled => "throttled",
            InvocationOutcome::Invalid => "invalid",
            InvocationOutcome::Denied => "denied",
            InvocationOutcome::Unreachable => "unreachable",
            InvocationOutcome::Error => "error",
        }
    }
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
    /// Invocations in flight at most; `None`: as many as the fleet has (up to [`MAX_FLEET`]),
    /// halved whenever Lambda throttles and grown back one by one as invocations succeed.
    pub concurrency: Option<usize>,
    /// The default region, endpoint and credentials (tests: an emulator's).
    pub region: Option<&'a str>,
    /// An endpoint for every Lambda call (an emulator), else the SDK's chain.
    pub endpoint_url: Option<&'a str>,
    /// Static credentials, else the SDK's chain.
    pub credentials: Option<aws_credential_types::Credentials>,
}

/// Which client an invocation uses: its region and the role it assumes.
type ConfigKey = (Option<String>, Option<String>);

/// The row of an error that ended an invocation, by the error's kind (never its text).
fn outcome_of(e: &AwsError) -> InvocationOutcome {
    match e.kind {
        AwsErrorKind::Denied => InvocationOutcome::Denied,
        AwsErrorKind::TimedOut => InvocationOutcome::Timeout,
        AwsErrorKind::Unreachable | AwsErrorKind::CredentialsRefused => InvocationOutcome::Unreachable,
        AwsErrorKind::Invalid => InvocationOutcome::Invalid,
        AwsErrorKind::FunctionError => InvocationOutcome::FunctionError,
        AwsErrorKind::Throttled => InvocationOutcome::Throttled,
        _ => InvocationOutcome::Error,
    }
}

/// How many invocations may be in flight: additive increase on success, halving on throttling
/// (the way TCP shares a link), never above `max` nor below one.
struct Window {
    state: std::sync::Mutex<(usize, usize)>,
    max: usize,
    opened: tokio::sync::Notify,
}

impl Window {
    fn new(max: usize) -> Self {
        Window { state: std::sync::Mutex::new((0, max)), max, opened: tokio::sync::Notify::new() }
    }

    /// Waits for a place in flight.
    async fn enter(&self) {
        loop {
            let notified = self.opened.notified();
            if let Ok(mut s) = self.state.lock() {
                if s.0 < s.1 {
                    s.0 += 1;
                    return;
                }
            }
            notified.await;
        }
    }

    /// Leaves flight; `throttled` halves the window, a success widens it by one.
    fn leave(&self, throttled: Option<bool>) {
        if let Ok(mut s) = self.state.lock() {
            s.0 = s.0.saturating_sub(1);
            match throttled {
                Some(true) => s.1 = (s.1 / 2).max(1),
                Some(false) => s.1 = (s.1 + 1).min(self.max),
                None => {}
            }
        }
        self.opened.notify_waiters();
    }
}

/// Invokes every target, as many at once as the window allows, each within what is left of the
/// deadline; `answered(done, total)` is called as each row comes in. Each report is stripped of
/// its per-address evidence as it arrives (the merged views read only verdicts and findings), so
/// memory follows the fleet's size, not its answers'. Rows come back in the targets' order.
pub async fn invoke_fleet(plan: &FleetPlan<'_>, answered: &(dyn Fn(usize, usize) + Sync)) -> Vec<Invocation> {
    let started = Instant::now();
    let targets = &plan.targets[..plan.targets.len().min(MAX_FLEET)];
    // One client per region and role, built before the first call.
    let mut clients: Vec<(ConfigKey, Result<Invoker, AwsError>)> = Vec::new();
    for t in targets {
        let key = (t.region().or(plan.region.map(str::to_string)), t.role.clone());
        if clients.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let base = crate::sdk_config(key.0.as_deref(), plan.endpoint_url, plan.credentials.clone()).await;
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
        let left = plan.deadline.saturating_duration_since(Instant::now());
        let client = match tokio::time::timeout(left, Invoker::new(&sdk)).await {
            Ok(c) => c,
            Err(_) => Err(AwsError::timed_out("no client before the deadline (credentials, a role to assume)")),
        };
        clients.push((key, client));
    }
    let total = targets.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let window = Window::new(plan.concurrency.unwrap_or(total).clamp(1, MAX_FLEET));
    futures::future::join_all(targets.iter().map(|t| {
        let key = (t.region().or(plan.region.map(str::to_string)), t.role.clone());
        let client = clients.iter().find(|(k, _)| *k == key).map(|(_, c)| c);
        let (done, window) = (&done, &window);
        async move {
            let row = match client {
                Some(Ok(client)) => invoke_one(client, t, plan.event, plan.deadline, started, window).await,
                Some(Err(e)) => Invocation {
                    target: t.clone(),
                    outcome: outcome_of(e),
                    error: Some(kreach::render::clean(&e.to_string()).chars().take(500).collect()),
                    elapsed_ms: started.elapsed().as_millis() as u64,
                    attempts: 0,
                    report: None,
                },
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
            row
        }
    }))
    .await
}

/// One function: invoked with the time left, again after a throttle while time is left.
async fn invoke_one(
    client: &Invoker,
    t: &FleetTarget,
    event: &serde_json::Value,
    deadline: Instant,
    started: Instant,
    window: &Window,
) -> Invocation {
    let mut attempts = 0u32;
    let mut backoff = crate::backoff::Backoff::new(THROTTLE_BACKOFF, Duration::from_secs(5));
    let row = |outcome, error: Option<String>, report, attempts| Invocation {
        target: t.clone(),
        outcome,
        error,
        elapsed_ms: started.elapsed().as_millis() as u64,
        attempts,
        report,
    };
    loop {
        if tokio::time::timeout_at(deadline.into(), window.enter()).await.is_err() {
            let why =
                if attempts == 0 { "no time left to invoke it" } else { "still throttled when the deadline came" };
            let outcome = if attempts == 0 { InvocationOutcome::Timeout } else { InvocationOutcome::Throttled };
            return row(outcome, Some(why.into()), None, attempts);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left <= INVOKE_MARGIN {
            window.leave(None);
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
        let result = client.invoke(&t.function, &event, left).await;
        window.leave(Some(result.as_ref().err().is_some_and(AwsError::is_throttled)));
        match result {
            Ok(report) => return row(InvocationOutcome::Report, None, Some(report.strip_evidence()), attempts),
            Err(e) if e.is_throttled() => backoff.wait(Some(deadline)).await,
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

    /// Rows follow the error's kind: a function named `kr-Throttled` answering "Rate exceeded" is
    /// a function error, not throttling; Lambda's own 429 is.
    /// The label is the JSON spelling, variant by variant.
    #[test]
    fn outcome_labels_are_their_json() {
        use InvocationOutcome::*;
        for o in [Report, FunctionError, Timeout, Throttled, Invalid, Denied, Unreachable, Error] {
            assert_eq!(serde_json::to_value(o).expect("json"), serde_json::json!(o.as_label()));
        }
    }

    #[test]
    fn errors_are_classified_into_rows_by_kind() {
        let api = |status, code: &str, message: &str| {
            AwsError::from_answer("lambda:InvokeFunction f", status, code, message.into(), String::new)
        };
        assert_eq!(outcome_of(&api(429, "TooManyRequestsException", "Rate exceeded")), InvocationOutcome::Throttled);
        assert_eq!(
            outcome_of(&AwsError::function_error("kr-Throttled answered Unhandled: Rate exceeded")),
            InvocationOutcome::FunctionError
        );
        assert_eq!(outcome_of(&api(400, "InvalidParameterValueException", "Throttling")), InvocationOutcome::Error);
        assert_eq!(outcome_of(&AwsError::timed_out("f did not answer within 3000 ms")), InvocationOutcome::Timeout);
        assert_eq!(outcome_of(&AwsError::invalid("f answered 7000000 bytes")), InvocationOutcome::Invalid);
        assert_eq!(outcome_of(&api(403, "AccessDeniedException", "no")), InvocationOutcome::Denied);
        assert_eq!(outcome_of(&api(404, "ResourceNotFoundException", "no")), InvocationOutcome::Error);
    }

    /// The window halves on throttling and grows back by one per success, within [1, max].
    #[tokio::test]
    async fn the_window_backs_off_and_grows_back() {
        let w = Window::new(8);
        for _ in 0..8 {
            w.enter().await;
        }
        assert!(tokio::time::timeout(Duration::from_millis(50), w.enter()).await.is_err(), "full");
        w.leave(Some(true));
        assert_eq!(w.state.lock().map(|s| *s).expect("state"), (7, 4));
        for _ in 0..7 {
            w.leave(Some(true));
        }
        assert_eq!(w.state.lock().map(|s| s.1).expect("state"), 1, "never below one");
        for _ in 0..20 {
            w.enter().await;
            w.leave(Some(false));
        }
        assert_eq!(w.state.lock().map(|s| s.1).expect("state"), 8, "never above the max");
    }
}

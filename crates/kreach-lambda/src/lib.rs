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

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kreach::{CheckOptions, HostPattern, Report};
use lambda_runtime::LambdaEvent;

/// The function's environment names the bootstrap hosts it may send credentials to: patterns
/// `host`, `*.domain`, optionally `:port` (comma-separated). An event naming another bootstrap is
/// refused. Unset: any bootstrap may be probed, but credentials are never sent.
pub const ENV_ALLOWED_BOOTSTRAP: &str = "KREACH_ALLOWED_BOOTSTRAP";
/// The secrets an event may name (`credentials_secret`): names, ARNs or `prefix*` patterns,
/// comma-separated. Unset: an event may name none (only `KREACH_SASL_SECRET` is read).
pub const ENV_ALLOWED_SECRETS: &str = "KREACH_ALLOWED_SECRETS";
/// Resolvers (`ADDR[:PORT]`, comma-separated) an event may name while credentials can be sent.
/// Unset: none (the function's own resolvers, else the VPC's, answer).
/// The function's own resolvers (`ADDR[:PORT]`, comma-separated), used when the event names none or
/// names only refused ones. Unset: the VPC's resolver (the system's).
pub const ENV_RESOLVERS: &str = "KREACH_RESOLVERS";
pub const ENV_ALLOWED_RESOLVERS: &str = "KREACH_ALLOWED_RESOLVERS";
/// The CA (PEM text) the function trusts besides the platform's roots: the function's own, since
/// an event's `ca_pem` is not used while credentials can be sent.
pub const ENV_CA_PEM: &str = "KREACH_CA_PEM";
/// `true`: credentials may go over SASL_PLAINTEXT or unverified TLS (`insecure` events).
pub const ENV_ALLOW_INSECURE_CREDENTIALS: &str = "KREACH_ALLOW_INSECURE_CREDENTIALS";
/// OAuth for SASL OAUTHBEARER comes from the function's own configuration, never from an event:
/// the OIDC token endpoint (`sasl.oauthbearer.token.endpoint.url`) with `KREACH_OAUTH_CLIENT_ID`,
/// `KREACH_OAUTH_CLIENT_SECRET`, `KREACH_OAUTH_SCOPE`, `KREACH_OAUTH_EXTENSIONS`
/// (`logicalCluster=…,identityPoolId=…`).
pub const ENV_OAUTH_TOKEN_ENDPOINT_URL: &str = "KREACH_OAUTH_TOKEN_ENDPOINT_URL";
/// The OIDC client id (with [`ENV_OAUTH_TOKEN_ENDPOINT_URL`]).
pub const ENV_OAUTH_CLIENT_ID: &str = "KREACH_OAUTH_CLIENT_ID";
/// The scope asked for, when the provider needs one.
pub const ENV_OAUTH_SCOPE: &str = "KREACH_OAUTH_SCOPE";
/// The SASL extensions sent with the token (`logicalCluster=lkc-…,identityPoolId=pool-…`).
pub const ENV_OAUTH_EXTENSIONS: &str = "KREACH_OAUTH_EXTENSIONS";
/// Confluent's AWS IAM OAuth instead of a token endpoint: `sasl.oauthbearer.config`'s text
/// (`region=…,audience=…`); the token comes from STS with the function's own role.
pub const ENV_OAUTH_AWS_IAM_CONFIG: &str = "KREACH_OAUTH_AWS_IAM_CONFIG";

/// Largest CA text an event may carry.
const MAX_CA_PEM: usize = 1024 * 1024;

/// Time kept back from the function's deadline to serialize and return the report.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(750);
/// Longest wait for the function's own configuration (runs beside the checks).
const FUNCTION_CAP: Duration = Duration::from_secs(2);

/// The event: `kreach check`'s options, the one options type of every front end
/// ([`kreach::CheckOptions`], its JSON names). Unknown fields are an error, so a typo is not
/// ignored, and what stays on the caller's machine (a properties file, a CA file) is no field.
pub type CheckEvent = CheckOptions;

/// What the function answers instead of a report: `InvalidEvent` (the caller's to fix) or
/// `KreachError` (could not run at all). A failed check is never this: it is the report.
#[derive(Debug)]
pub struct FunctionError {
    /// `InvalidEvent` or `KreachError`: the response's `errorType`.
    pub kind: &'static str,
    /// The message, one line.
    pub message: String,
}

impl FunctionError {
    /// The event is the caller's to fix; `message` names the field.
    pub fn invalid(message: impl std::fmt::Display) -> Self {
        FunctionError { kind: "InvalidEvent", message: format!("invalid event: {message}") }
    }

    /// kreach could not run at all (or the function's own configuration is wrong).
    pub fn kreach(message: impl Into<String>) -> Self {
        FunctionError { kind: "KreachError", message: message.into() }
    }

    /// Whether the event is the caller's to fix.
    pub fn is_invalid_event(&self) -> bool {
        self.kind == "InvalidEvent"
    }
}

impl std::error::Error for FunctionError {}

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

/// The function's environment switch for the canary's metric lines.
pub const ENV_EMIT_METRICS: &str = "KREACH_EMIT_METRICS";
/// Largest answer the function gives: Lambda's 6 MB synchronous response limit, less room for the
/// runtime's framing. A report that does not fit is answered compact ([`kreach::Report::compact`]).
pub const MAX_RESPONSE: usize = 6 * 1024 * 1024 - 64 * 1024;

/// The Lambda entry point: the event's JSON in, the report's JSON out (compact when the whole
/// would not fit a response); with `emit_metrics` (or `KREACH_EMIT_METRICS=true`) the report's
/// EMF lines go to the log too.
pub async fn function(event: LambdaEvent<serde_json::Value>) -> Result<serde_json::Value, FunctionError> {
    let env = |k: &str| std::env::var(k).ok();
    let metrics = event.payload.get("emit_metrics").and_then(|v| v.as_bool()).unwrap_or(false)
        || env(ENV_EMIT_METRICS).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let report = handle(event.payload, remaining(event.context.deadline, SystemTime::now()), &env).await?;
    if metrics {
        use std::io::Write as _;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(kreach::render::emf(&report, now).as_bytes());
        let _ = out.flush();
    }
    respond(report, MAX_RESPONSE)
}

/// The report as the function's answer, made to fit `limit` bytes.
pub fn respond(report: Report, limit: usize) -> Result<serde_json::Value, FunctionError> {
    serde_json::to_value(report.compact(limit)).map_err(|e| FunctionError::kreach(e.to_string()))
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
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Report, FunctionError> {
    let started = std::time::Instant::now();
    let event: CheckEvent = serde_json::from_value(payload).map_err(FunctionError::invalid)?;
    // The event cannot say what only the function's environment may (an unknown field above).
    let mut event = event;
    event.allow_insecure_credentials = false;
    let budget = remaining.map(|r| r.saturating_sub(DEADLINE_MARGIN));
    if budget.is_some_and(|b| b < Duration::from_millis(500)) {
        return Err(FunctionError::invalid("the function has less than a second left; give it a longer timeout"));
    }
    if event.sasl_mechanism.as_deref().is_some_and(|m| m.contains(['\n', '\r'])) {
        return Err(FunctionError::invalid("sasl_mechanism is one line"));
    }
    if event.ca_pem.as_ref().is_some_and(|pem| pem.len() > MAX_CA_PEM) {
        return Err(FunctionError::invalid(format!("ca_pem is larger than {} KiB", MAX_CA_PEM / 1024)));
    }
    // Whoever may invoke the function chooses the event: the function's own configuration bounds
    // where the credentials may go, which secrets may be read, and which resolvers and trust
    // anchors an event may bring while credentials can be sent.
    let policy =
        Policy::from_env(env).map_err(|e| FunctionError::kreach(format!("invalid function configuration: {e}")))?;
    let access = aws::Access::from_env(env);
    let requested = event.timeout_secs.unwrap_or(kreach::DEFAULT_TIMEOUT.as_secs_f64());
    let timeout = match budget {
        Some(b) => requested.min(b.as_secs_f64()),
        None => requested,
    };
    let mut input = kreach_aws::RunInput::new(options_from(&event, timeout, env));
    input.started = started;
    input.secret = event.credentials_secret.clone().or_else(|| env(kreach::input::ENV_SASL_SECRET));
    input.region = access.region.clone();
    let mapping_id = event.event_source_mapping.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(id) = mapping_id {
        input.mapping = kreach_aws::MappingInput::Read(id.to_string());
    }
    let event_secret = event.credentials_secret.as_deref().is_some_and(|s| !s.trim().is_empty());
    let check = |view: kreach_aws::PolicyView<'_>| policy.apply(view, &event, event_secret, env);
    let sdk = |_: Option<String>| -> std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> {
        let access = access.clone();
        Box::pin(async move { access.sdk().await })
    };
    let ready = match kreach_aws::prepare(input, env, &sdk, &check).await {
        Ok(ready) => ready,
        // The field as the event spells it (`https_port`, not `--https-port`).
        Err(kreach_aws::InputError::Invalid(e)) => return Err(FunctionError::invalid(e.for_event())),
        Err(kreach_aws::InputError::Refused(e)) => return Err(FunctionError::invalid(e)),
        Err(kreach_aws::InputError::Mapping(e)) => {
            let id: String = mapping_id.unwrap_or_default().chars().take(256).collect();
            return Err(FunctionError::kreach(format!("cannot read event_source_mapping {id}: {e}")));
        }
        Err(e) => return Err(FunctionError::kreach(e.to_string())),
    };
    let config = ready.config;
    let mapping = ready.mapping;

    // Where am I (with the function's VPC), then the audit of that VPC's endpoint, beside the checks.
    let timeout = config.timeout;
    let vantage = {
        let access = &access;
        async move {
            let mut vantage = kreach::input::detect_vantage(env).await;
            if vantage.kind == kreach::report::VantageKind::Lambda {
                let left = timeout.saturating_sub(started.elapsed());
                aws::describe_function(access, &mut vantage, FUNCTION_CAP.min(left)).await;
            }
            vantage
        }
    };
    let mut diagnosis = kreach::Diagnosis::new(&config)
        .started_at(ready.started)
        .secret(ready.secret)
        .vantage(vantage)
        .event_source_mapping(mapping.clone())
        .refused_inputs(ready.refused);
    if event.aws {
        let mut input = kreach_aws::AuditInput::from_options(&event);
        input.event_source_mapping = mapping;
        // The domain comes with the scope: the event's dns_domain, else the names and the CNAME chain.
        // The region is the function's own (its environment), whatever the event says.
        input.region = access.region.clone();
        input.endpoint_url = access.endpoint_url.clone();
        let credentials = access.credentials.clone();
        diagnosis = diagnosis.aws(move |scope, budget| async move {
            match credentials {
                // Only the function's own credentials: no credential chain probing the network.
                None => kreach::report::AwsAudit::unavailable("no AWS credentials in the function's environment"),
                Some(c) => {
                    input.static_credentials = Some((c.access_key_id().to_string(), c.secret_access_key().to_string()));
                    input.session_token = c.session_token().map(str::to_string);
                    kreach_aws::audit(&input.narrowed_by(&scope), budget).await
                }
            }
        });
    }
    diagnosis.run().await.map_err(|e| FunctionError::kreach(e.to_string()))
}

/// The event's options as the run takes them: the function's own deadline, resolvers and CA
/// where the event names none, and its environment's word on unverified credentials. The
/// event's CA text stays in memory.
fn options_from(event: &CheckEvent, timeout: f64, env: &dyn Fn(&str) -> Option<String>) -> CheckOptions {
    let mut options = event.clone();
    if options.resolvers.is_empty() {
        options.resolvers = env_list(env, ENV_RESOLVERS);
    }
    options.ca_pem = event.ca_pem.clone().or_else(|| env(ENV_CA_PEM).filter(|p| !p.trim().is_empty()));
    options.timeout_secs = Some(timeout);
    options.allow_insecure_credentials =
        env(ENV_ALLOW_INSECURE_CREDENTIALS).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    options.aws_apis_secrets_manager = event.credentials_secret.is_some();
    options.properties = oauth_properties(env);
    options
}

/// The function's own OAuth configuration as client properties (an event carries none: the token
/// endpoint comes from the same place as the secret). `None` without one; a value with a line
/// break is dropped whole, so validation names the property it misses.
fn oauth_properties(env: &dyn Fn(&str) -> Option<String>) -> Option<kreach::Properties> {
    let one_line =
        |k: &str| env(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty() && !v.contains(['\n', '\r']));
    let mut lines = vec!["sasl.mechanism=OAUTHBEARER".to_string(), "sasl.oauthbearer.method=oidc".to_string()];
    if let Some(config) = one_line(ENV_OAUTH_AWS_IAM_CONFIG) {
        lines.push("sasl.oauthbearer.metadata.authentication.type=aws_iam".into());
        lines.push(format!("sasl.oauthbearer.config={config}"));
    } else {
        lines.push(format!("sasl.oauthbearer.token.endpoint.url={}", one_line(ENV_OAUTH_TOKEN_ENDPOINT_URL)?));
        lines.extend(one_line(ENV_OAUTH_CLIENT_ID).map(|id| format!("sasl.oauthbearer.client.id={id}")));
        lines.extend(one_line(ENV_OAUTH_SCOPE).map(|s| format!("sasl.oauthbearer.scope={s}")));
    }
    lines.extend(one_line(ENV_OAUTH_EXTENSIONS).map(|e| format!("sasl.oauthbearer.extensions={e}")));
    kreach::Properties::parse(&lines.join("\n")).ok()
}

/// The fuzz target's entry (`fuzz/`, and the corpus replay test): an event's bytes parsed and
/// validated as `handle` does, without files, credentials or network. Not part of the API.
#[doc(hidden)]
pub fn fuzz_event(data: &[u8]) {
    let Ok(event) = serde_json::from_slice::<CheckEvent>(data) else { return };
    let timeout = event.timeout_secs.unwrap_or(kreach::DEFAULT_TIMEOUT.as_secs_f64());
    let _ = options_from(&event, timeout, &|_| None).validate(&|_| None);
    let _ = Policy::from_env(&|k| (k == ENV_ALLOWED_BOOTSTRAP).then(|| event.bootstrap.clone().unwrap_or_default()));
}

/// A comma-separated list from the environment.
fn env_list(env: &dyn Fn(&str) -> Option<String>, key: &str) -> Vec<String> {
    env(key)
        .map(|v| v.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

/// What the function's environment allows an event to do.
struct Policy {
    /// Bootstrap patterns credentials may go to; `None`: unset.
    bootstrap: Option<Vec<HostPattern>>,
    /// Secret names, ARNs or `prefix*` patterns an event may name.
    secrets: Vec<String>,
    /// Resolvers an event may name while credentials can be sent.
    resolvers: Vec<std::net::SocketAddr>,
    /// The function's own resolvers (`KREACH_RESOLVERS`): always allowed, and used instead of refused ones.
    own_resolvers: Vec<std::net::SocketAddr>,
}

impl Policy {
    /// Checks the validated configuration against the function's environment, before any secret is
    /// read: refuses a bootstrap, target or secret outside it (words that reveal nothing of the
    /// function's configuration or the mapping's secret), and while credentials can be sent drops
    /// the event's own resolvers and CA (which would decide where the name points and whom TLS
    /// trusts), saying so in the report.
    fn apply(
        &self,
        view: kreach_aws::PolicyView<'_>,
        event: &CheckEvent,
        event_secret: bool,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), String> {
        let kreach_aws::PolicyView { config, secret, secret_from_mapping, bootstrap_from_mapping, refused } = view;
        match &self.bootstrap {
            Some(allowed) => {
                if let Some(hp) = config.bootstrap.iter().find(|hp| !allowed.iter().any(|p| p.matches(hp))) {
                    return Err(if bootstrap_from_mapping {
                        format!(
                            "the event source mapping's bootstrap is not allowed by the function's {ENV_ALLOWED_BOOTSTRAP}"
                        )
                    } else {
                        format!("bootstrap {hp} is not allowed by the function's {ENV_ALLOWED_BOOTSTRAP}")
                    });
                }
                // The event's own targets are bounded too (the AWS and Confluent APIs are fixed names).
                let chosen = config.endpoints.iter().filter(|e| {
                    matches!(
                        e.target.kind,
                        kreach::report::EndpointKind::Target | kreach::report::EndpointKind::SchemaRegistry
                    )
                });
                if let Some(e) = chosen.into_iter().find(|e| !allowed.iter().any(|p| p.matches(&e.hp))) {
                    return Err(format!("target {} is not allowed by the function's {ENV_ALLOWED_BOOTSTRAP}", e.hp));
                }
            }
            None => {
                config.withhold_credentials =
                    Some(format!("the function's {ENV_ALLOWED_BOOTSTRAP} is not set: credentials go to no bootstrap"));
            }
        }
        if let Some(named) = secret.filter(|_| event_secret || secret_from_mapping) {
            if !self.secrets.iter().any(|p| secret_matches(p, named)) {
                return Err(if secret_from_mapping {
                    format!("the event source mapping's secret is not allowed by the function's {ENV_ALLOWED_SECRETS}")
                } else {
                    format!(
                        "credentials_secret {} is not allowed by the function's {ENV_ALLOWED_SECRETS}",
                        kreach::quote(named)
                    )
                });
            }
        }
        // Credentials can be sent: a secret will be read, or the environment holds them.
        let credentials = config.sasl.is_some()
            && config.credentials_withheld().is_none()
            && (secret.is_some() || config.has_credentials());
        if !credentials {
            return Ok(());
        }
        let before = config.resolvers.len();
        config.resolvers.retain(|r| self.resolvers.contains(r));
        let dropped = before - config.resolvers.len();
        if dropped > 0 {
            let instead = if !config.resolvers.is_empty() {
                "the allowed ones were used"
            } else if !self.own_resolvers.is_empty() {
                config.resolvers = self.own_resolvers.clone();
                "the function's own KREACH_RESOLVERS were used"
            } else {
                "the VPC's resolver was used"
            };
            refused.push(kreach::report::RefusedInput::new(
                "resolvers",
                format!(
                    "the event may not choose the resolvers while the function may send credentials (they decide \
                     where the bootstrap's name points): {} of them not used (the function's {ENV_ALLOWED_RESOLVERS} \
                     names those an event may use); {instead}",
                    dropped
                ),
            ));
        }
        if event.ca_pem.is_some() {
            let function_ca = env(ENV_CA_PEM).filter(|p| !p.trim().is_empty());
            config.ca_file = match function_ca {
                Some(pem) => Some(
                    kreach::input::CaBundle::from_pem(&pem, &format!("the function's {ENV_CA_PEM}"))
                        .map_err(|e| format!("invalid function configuration: {e}"))?,
                ),
                None => None,
            };
            refused.push(kreach::report::RefusedInput::new(
                "ca_pem",
                format!(
                    "the event may not choose whom TLS trusts while the function may send credentials: its CA was not \
                     used ({})",
                    if config.ca_file.is_some() {
                        format!("the function's {ENV_CA_PEM} and the platform's roots were")
                    } else {
                        "the platform's roots were".to_string()
                    }
                ),
            ));
        }
        Ok(())
    }
}

impl Policy {
    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Policy, String> {
        let list = |key: &str| -> Option<Vec<String>> {
            env(key).map(|v| v.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect())
        };
        let bootstrap = match list(ENV_ALLOWED_BOOTSTRAP) {
            None => None,
            Some(patterns) => Some(allowed_bootstrap(&patterns)?),
        };
        let parse = |key: &str| {
            list(key)
                .unwrap_or_default()
                .iter()
                .map(|r| kreach::input::parse_resolver(r).map_err(|e| format!("{key}: {e}")))
                .collect::<Result<Vec<_>, _>>()
        };
        let own_resolvers = parse(ENV_RESOLVERS)?;
        let mut resolvers = parse(ENV_ALLOWED_RESOLVERS)?;
        resolvers.extend(own_resolvers.iter().copied());
        Ok(Policy { bootstrap, secrets: list(ENV_ALLOWED_SECRETS).unwrap_or_default(), resolvers, own_resolvers })
    }
}

/// `KREACH_ALLOWED_BOOTSTRAP`'s entries, the same grammar and rule as `kreach serve
/// --allow-target` ([`kreach::HostPattern`]): a host, or `*.domain` for the names below it. A
/// suffix must be one cluster's own domain — the domain of an exact host the list names, or below
/// it — and never a public suffix or a provider's domain other customers share.
fn allowed_bootstrap(entries: &[String]) -> Result<Vec<HostPattern>, String> {
    let patterns = entries
        .iter()
        .map(|p| HostPattern::parse(p).map_err(|e| format!("{ENV_ALLOWED_BOOTSTRAP}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let domains: Vec<String> = patterns
        .iter()
        .filter_map(HostPattern::exact)
        .filter_map(|h| kreach::scope::cluster_domain(None, h, &[]))
        .collect();
    for p in patterns.iter().filter(|p| p.suffix().is_some()) {
        // Within one of the clusters the list names by host, when it names any.
        let refused = match domains.first() {
            None => p.refusal(None),
            Some(_) if domains.iter().any(|d| p.refusal(Some(d)).is_none()) => None,
            Some(first) => p.refusal(Some(first)),
        };
        if let Some(why) = refused {
            return Err(format!("{ENV_ALLOWED_BOOTSTRAP}: {why}"));
        }
    }
    Ok(patterns)
}

/// Whether secret `name` is allowed by `pattern` (exact, or `prefix*`).
fn secret_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(s: &str) -> kreach::HostPort {
        kreach::HostPort::parse(s, 9092).expect("host port")
    }

    #[test]
    fn host_patterns() {
        let list = |v: &[&str]| allowed_bootstrap(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let p = list(&["*.abc123.us-west-2.aws.confluent.cloud"]).expect("a cluster's own domain");
        assert!(p[0].matches(&hp("lkc-1.abc123.us-west-2.aws.confluent.cloud:9092")));
        assert!(!p[0].matches(&hp("abc123.us-west-2.aws.confluent.cloud:9092")), "the domain itself is not under it");
        assert!(!p[0].matches(&hp("xabc123.us-west-2.aws.confluent.cloud:9092")), "a suffix is not a subdomain");
        // Suffixes other customers share, or public ones, are refused naming the variable.
        for shared in ["*.aws.confluent.cloud", "*.us-west-2.aws.confluent.cloud", "*.co.uk", "*.ec2.internal"] {
            let e = list(&[shared]).expect_err(shared);
            assert!(e.starts_with(ENV_ALLOWED_BOOTSTRAP), "{e}");
        }
        // With a host named, a suffix must be its cluster's domain or below it.
        assert!(
            list(&["lkc-1.abc123.us-west-2.aws.confluent.cloud", "*.usw2-az1.abc123.us-west-2.aws.confluent.cloud"])
                .is_ok()
        );
        assert!(
            list(&["lkc-1.abc123.us-west-2.aws.confluent.cloud", "*.other.us-west-2.aws.confluent.cloud"]).is_err()
        );
        let p = list(&["broker.example.com:9093"]).expect("pattern");
        assert!(p[0].matches(&hp("BROKER.example.com:9093")));
        assert!(!p[0].matches(&hp("broker.example.com:9092")));
        for bad in ["", "*", "a.*.b", "host:x", "*."] {
            assert!(list(&[bad]).is_err(), "{bad}");
        }
        assert!(secret_matches("kreach/*", "kreach/prod"));
        assert!(!secret_matches("kreach/prod", "kreach/prod2"));
    }

    /// The fuzz corpus of the Lambda event, replayed on stable.
    #[test]
    fn every_event_corpus_input_is_handled() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/lambda_event");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).expect("corpus directory").filter_map(Result::ok) {
            fuzz_event(&std::fs::read(entry.path()).expect("read"));
            n += 1;
        }
        assert!(n > 0, "no seed in {}", dir.display());
    }
}

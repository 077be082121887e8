//! One entry point for a whole diagnosis: kreach's own checks plus the extras that run beside
//! them (the librdkafka stage, where the probe runs, the AWS audit, how the credentials were
//! read), all under the one deadline, with the findings drawn once at the end.
//!
//! The extras live in other crates (so the core never builds librdkafka or the AWS SDK): the
//! builder takes them as futures.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::analysis;
use crate::analysis::layout;
use crate::error::Error;
use crate::input::config::CheckConfig;
use crate::input::mapping::EventSourceMapping;
use crate::report::ChangeAudit;
use crate::report::findings::Severity;
use crate::report::{
    AwsAudit, ClusterDomain, CnameHop, DnsDetail, Layout, ParityOutcome, ParityReport, RefusedInput, Report, Role,
    SecretLookup, Stage, StageResult, StageStatus, Vantage,
};
use crate::run::changes::{self, ChangesStage};
use crate::run::matrix::count;
use crate::run::runner;
use crate::run::step::{Step, StepObserver, StepOutcome, emit};

type Extra<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type AuditStage<'a> = Box<dyn FnOnce(AuditScope, Duration) -> Extra<'a, AwsAudit> + Send + 'a>;

/// What the AWS audit is told when it starts: where the probe runs (its VPC narrows the search)
/// and what the bootstrap's name resolution showed of the cluster's domain and layout.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct AuditScope {
    /// Where the probe runs, when detected.
    pub vantage: Option<Vantage>,
    /// The cluster's DNS domain: `--dns-domain`, else the naming scheme or the CNAME chain.
    pub domain: Option<ClusterDomain>,
    /// The layout the bootstrap's names (and CNAME chain) show, when they show one.
    pub layout: Option<Layout>,
    /// The bootstrap's port.
    pub bootstrap_port: Option<u16>,
    /// The addresses the bootstrap's name resolved to (the audit looks for the network
    /// interfaces that hold them: Confluent's PNI has no endpoint to start from).
    pub addresses: Vec<String>,
}

impl AuditScope {
    /// A scope with only a vantage point (for embedders that run the audit alone).
    pub fn with_vantage(vantage: Option<Vantage>) -> Self {
        AuditScope { vantage, ..Default::default() }
    }

    /// The scope for `host` with what its resolution showed (`chain`) and the user's `flag` domain.
    pub fn for_bootstrap(
        vantage: Option<Vantage>,
        flag: Option<&str>,
        host: &str,
        port: u16,
        chain: &[CnameHop],
    ) -> Self {
        let layout = layout::hint(host, port, chain).0.map(|h| h.layout);
        let domain = layout::domain_for(layout.unwrap_or(Layout::Generic), flag, host, chain);
        AuditScope { vantage, domain, layout, bootstrap_port: (port != 0).then_some(port), addresses: Vec::new() }
    }
}

/// Tells the client-parity stage when kreach's own checks are done and whether they already explain
/// a failure of the bootstrap: librdkafka's retries cannot change the verdict then, and the stage
/// may end once librdkafka has reported its first errors.
/// It also hands the stage the OAuth token the run fetched (OAUTHBEARER), so librdkafka gets the
/// token and never the client secret.
#[derive(Clone, Debug)]
pub struct ParitySignal {
    verdict: tokio::sync::watch::Receiver<Option<Option<String>>>,
    token: Option<TokenRx>,
}

/// Where the run's OAuth token arrives once its fetch ended (`Some(None)`: no token).
pub(crate) type TokenRx = tokio::sync::watch::Receiver<Option<Option<crate::Secret>>>;

impl ParitySignal {
    /// A signal that never says anything (the stage runs to its answer or its budget) and hands no
    /// token.
    pub fn never() -> Self {
        let (tx, rx) = tokio::sync::watch::channel(None);
        std::mem::forget(tx);
        ParitySignal { verdict: rx, token: None }
    }

    /// The OAuth token the run fetched, once its fetch ends (within `wait`); `None` when it got
    /// none, or when this signal hands no token.
    pub async fn oauth_token(&self, wait: std::time::Duration) -> Option<crate::Secret> {
        let mut rx = self.token.clone()?;
        let fetched = tokio::time::timeout(wait, rx.wait_for(Option::is_some)).await.ok()?.ok()?.clone();
        fetched.flatten()
    }

    /// Resolves once kreach's own checks are done: with their explanation when they found the
    /// bootstrap failing, `None` when its path works (never, when the checks did not finish).
    pub async fn verdict(mut self) -> Option<String> {
        loop {
            if let Some(verdict) = self.verdict.borrow_and_update().clone() {
                return verdict;
            }
            if self.verdict.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

/// Why kreach's own checks already explain a failure of every bootstrap target, if they do.
fn explained_failure(report: &Report) -> Option<String> {
    let bootstraps: Vec<&crate::report::TargetReport> =
        report.targets.iter().filter(|t| t.role == Role::Bootstrap).collect();
    let failed: Vec<String> = bootstraps
        .iter()
        .filter_map(|t| {
            t.stages
                .iter()
                .find(|s| {
                    matches!(s.stage, Stage::Dns | Stage::Tcp | Stage::Tls | Stage::Kafka)
                        && s.status == StageStatus::Fail
                })
                .map(|s| format!("{} {}: {}", t.target, s.stage.as_str(), s.summary))
        })
        .collect();
    (!bootstraps.is_empty() && failed.len() == bootstraps.len()).then(|| failed.join("; "))
}

/// A whole diagnosis of `config`, with the extras the caller adds.
///
/// ```no_run
/// # async fn demo() -> Result<(), kreach::Error> {
/// let hp = kreach::HostPort::parse("pkc-abc.us-west-2.aws.confluent.cloud:9092", 9092)?;
/// let config = kreach::CheckConfig::for_bootstrap(hp);
/// let report = kreach::Diagnosis::new(&config)
///     .vantage(kreach::input::detect_vantage(&|k| std::env::var(k).ok()))
///     .run()
///     .await?;
/// println!("{:?}: {} findings", report.status, report.findings.len());
/// # Ok(()) }
/// ```
#[must_use = "a diagnosis does nothing until `run` is awaited"]
pub struct Diagnosis<'a> {
    config: &'a CheckConfig,
    parity: Option<Box<dyn FnOnce(ParitySignal) -> Extra<'a, ParityReport> + Send + 'a>>,
    vantage: Option<Extra<'a, Vantage>>,
    aws: Option<AuditStage<'a>>,
    changes: Option<ChangesStage<'a>>,
    secret: Option<SecretLookup>,
    mapping: Option<EventSourceMapping>,
    started: Option<Instant>,
    refused: Vec<RefusedInput>,
    steps: Option<StepObserver>,
}

impl<'a> Diagnosis<'a> {
    /// kreach's own checks of `config`, nothing else yet.
    pub fn new(config: &'a CheckConfig) -> Self {
        Diagnosis {
            config,
            parity: None,
            vantage: None,
            aws: None,
            changes: None,
            secret: None,
            mapping: None,
            started: None,
            refused: Vec::new(),
            steps: None,
        }
    }

    /// Calls `observer` with each step as it happens (a lookup, a connect, a handshake, the
    /// Kafka requests, the librdkafka stage and the AWS audit starting and ending): what a
    /// progress display reads. The same steps go to `tracing` (target `kreach::step`) either way.
    pub fn on_step(mut self, observer: impl Fn(&Step) + Send + Sync + 'static) -> Self {
        self.steps = Some(std::sync::Arc::new(observer));
        self
    }

    /// The run began at `started` (its inputs were read from AWS before: a mapping, a secret):
    /// the one deadline counts from then, and the report's times include that part.
    pub fn started_at(mut self, started: Instant) -> Self {
        self.started = Some(started);
        self
    }

    /// Inputs the front end refused (not used), for the report and its findings.
    pub fn refused_inputs(mut self, refused: Vec<RefusedInput>) -> Self {
        self.refused = refused;
        self
    }

    /// The client-parity stage (e.g. `kreach_parity::check`), run beside the checks.
    pub fn parity(mut self, stage: impl Future<Output = ParityReport> + Send + 'a) -> Self {
        self.parity = Some(Box::new(move |_| Box::pin(stage)));
        self
    }

    /// The client-parity stage, told through a [`ParitySignal`] when kreach's own checks already
    /// explain a failure (e.g. `kreach_parity::check_with`): it need not wait out the deadline.
    pub fn parity_with<F, Fut>(mut self, stage: F) -> Self
    where
        F: FnOnce(ParitySignal) -> Fut + Send + 'a,
        Fut: Future<Output = ParityReport> + Send + 'a,
    {
        self.parity = Some(Box::new(move |signal| Box::pin(stage(signal))));
        self
    }

    /// Where the probe runs (e.g. [`detect_vantage`](crate::input::detect_vantage)), beside the checks.
    pub fn vantage(mut self, detect: impl Future<Output = Vantage> + Send + 'a) -> Self {
        self.vantage = Some(Box::pin(detect));
        self
    }

    /// The AWS audit, started once the vantage point and the bootstrap's name resolution are
    /// known (the [`AuditScope`]: its VPC narrows the search, the CNAME chain gives the cluster's
    /// domain) with the time left of the deadline.
    pub fn aws<F, Fut>(mut self, audit: F) -> Self
    where
        F: FnOnce(AuditScope, Duration) -> Fut + Send + 'a,
        Fut: Future<Output = AwsAudit> + Send + 'a,
    {
        self.aws = Some(Box::new(move |vantage, budget| Box::pin(audit(vantage, budget))));
        self
    }

    /// What changed on the AWS resources the findings of broken hops blame (CloudTrail), looked
    /// up once the findings are drawn, with the time left of the deadline; the events are joined to
    /// the findings that blame each resource.
    pub fn changes<F, Fut>(mut self, lookup: F) -> Self
    where
        F: FnOnce(Vec<String>, Duration) -> Fut + Send + 'a,
        Fut: Future<Output = ChangeAudit> + Send + 'a,
    {
        self.changes = Some(Box::new(move |resources, budget| Box::pin(lookup(resources, budget))));
        self
    }

    /// How reading the credentials' secret went (read before the diagnosis: the checks need it).
    pub fn secret(mut self, lookup: Option<SecretLookup>) -> Self {
        self.secret = lookup;
        self
    }

    /// The Lambda event source mapping this diagnosis is about: its `PROBLEM` strings are explained
    /// with what the checks measured (the config should use its bootstrap servers and secret).
    pub fn event_source_mapping(mut self, mapping: Option<EventSourceMapping>) -> Self {
        self.mapping = mapping;
        self
    }

    /// Runs everything under the config's deadline and draws the findings once. `Err` only when
    /// the checks cannot run at all; every failed check is in the report.
    pub async fn run(self) -> Result<Report, Error> {
        let Diagnosis { config, parity, vantage, aws, changes, secret, mapping, started, refused, steps } = self;
        let steps = steps.as_ref();
        let started = started.unwrap_or_else(Instant::now);
        let deadline = started + config.timeout;
        let (verdict_tx, verdict_rx) = tokio::sync::watch::channel(None);
        let (token_tx, token_rx) = tokio::sync::watch::channel(None);
        // The extra stages say when they start and end, as the checks' steps do (progress, -v).
        let parity = async {
            match parity {
                Some(stage) => {
                    emit(steps, Step::started(Stage::Client, "librdkafka"));
                    let parity = stage(ParitySignal { verdict: verdict_rx, token: Some(token_rx) }).await;
                    let status = StepOutcome::Stage(parity_cell(&parity).status);
                    emit(steps, Step::ended(Stage::Client, "librdkafka", None, status, parity.elapsed_ms));
                    Some(parity)
                }
                None => None,
            }
        };
        let (dns_tx, dns_rx) = tokio::sync::oneshot::channel::<DnsDetail>();
        let context = async {
            // Where the probe runs is asked within the deadline too (a slow metadata service must
            // not hold the audit, which waits for it, or the report).
            let vantage = async {
                match vantage {
                    Some(detect) => match tokio::time::timeout_at(deadline.into(), detect).await {
                        Ok(v) => Some(v),
                        Err(_) => Some(Vantage::undetected(&format!(
                            "not detected within the deadline ({} ms)",
                            config.timeout.as_millis()
                        ))),
                    },
                    None => None,
                }
            };
            // The bootstrap's DNS stage ends within its step cap; a closed channel means no answer.
            let (vantage, dns) = futures::join!(vantage, dns_rx);
            let audit = match aws {
                Some(audit) => {
                    let (host, port) = config.bootstrap.first().map_or(("", 0), |b| (b.host.as_str(), b.port));
                    let chain = dns.as_ref().map(|d| d.lookup.cname_chain.as_slice()).unwrap_or_default();
                    let mut scope =
                        AuditScope::for_bootstrap(vantage.clone(), config.dns_domain.as_deref(), host, port, chain);
                    scope.addresses = dns
                        .as_ref()
                        .map(|d| {
                            d.lookup.addresses.iter().map(|a| a.ip.clone()).take(crate::limits::MAX_LIST).collect()
                        })
                        .unwrap_or_default();
                    emit(steps, Step::started(Stage::Aws, "AWS"));
                    let audit = audit(scope, config.timeout.saturating_sub(started.elapsed())).await;
                    let status = StepOutcome::Stage(aws_cell(&audit).status);
                    emit(steps, Step::ended(Stage::Aws, "AWS", None, status, audit.elapsed_ms));
                    Some(audit)
                }
                None => None,
            };
            (vantage, audit)
        };
        let checks = async {
            let report = runner::checks(config, started, (Some(dns_tx), Some(token_tx)), steps).await;
            let _ = verdict_tx.send(Some(report.as_ref().ok().and_then(explained_failure)));
            report
        };
        let (report, parity, (vantage, audit)) = futures::join!(checks, parity, context);
        let mut report = report?;
        if let Some(parity) = &parity {
            set_cell(&mut report, parity_cell(parity));
        }
        if let Some(audit) = &audit {
            set_cell(&mut report, aws_cell(audit));
        }
        report.parity = parity;
        report.settings.refused_inputs = refused;
        report.aws = audit;
        report.vantage = vantage;
        report.secret = secret;
        report.event_source_mapping = mapping;
        report.network = Some(layout::network(&report, config.dns_domain.as_deref()));
        // The whole run, extras and the inputs read before the checks included.
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        report.critical_path = report.compute_critical_path();
        report.findings = analysis::findings(&report);
        // A fix that would point a record at a name: that name resolved first, inside the deadline
        // (only when a fix names one, so never on a healthy path).
        let names = analysis::blame::names_to_check(&report, &report.findings);
        if !names.is_empty() {
            report.checked_names = check_names(config, &names, deadline).await;
            report.findings = analysis::findings(&report);
        }
        report.status = analysis::status(&report.findings);
        // The AWS cell tells whether the AWS side is clean, once the findings say so.
        if report.findings.iter().any(|f| f.stage == Stage::Aws && f.severity == Severity::Error) {
            if let Some(cell) = bootstrap_cell(&mut report, Stage::Aws) {
                cell.status = StageStatus::Fail;
            }
        }
        if let Some(lookup) = changes {
            changes::join(&mut report, lookup, deadline).await;
        }
        // The verdict agrees with the matrix, always (the tests run every lab fault through this).
        debug_assert!(analysis::consistent(&report).is_ok(), "{:?}", analysis::consistent(&report));
        Ok(report)
    }
}

/// Resolves `names` in parallel through the run's resolver, each within what is left of the run.
async fn check_names(config: &CheckConfig, names: &[String], deadline: Instant) -> Vec<crate::report::NameCheck> {
    use crate::probe::dns::{self, ResolverChoice};
    let choice = if config.resolvers.is_empty() {
        ResolverChoice::System
    } else {
        ResolverChoice::Servers(config.resolvers.clone())
    };
    let resolver = dns::Dns::new(&choice);
    // Inside the run's deadline: with nothing left, nothing is checked (and nothing claimed).
    let budget = deadline.saturating_duration_since(Instant::now());
    if budget < std::time::Duration::from_millis(20) {
        return Vec::new();
    }
    let lookups = names.iter().map(|n| async {
        let (lookup, _) = dns::lookup(n, &resolver, budget).await;
        let addresses = lookup.addresses.iter().map(|a| a.ip.clone()).collect();
        crate::report::NameCheck::new(n.clone(), lookup.outcome, addresses)
    });
    futures::future::join_all(lookups).await
}

/// Runs a diagnosis with kreach's own checks only: `Diagnosis::new(config).run()`.
pub async fn run(config: &CheckConfig) -> Result<Report, Error> {
    Diagnosis::new(config).run().await
}

fn parity_cell(parity: &ParityReport) -> StageResult {
    let (status, summary) = match parity.outcome {
        ParityOutcome::Ok => (
            StageStatus::Pass,
            format!("librdkafka {}: {}", parity.librdkafka_version, count(parity.brokers.len(), "broker", "brokers")),
        ),
        ParityOutcome::Failed => {
            (StageStatus::Fail, format!("librdkafka: {}", parity.error.as_deref().unwrap_or("failed")))
        }
        ParityOutcome::Skipped => {
            (StageStatus::Skipped, format!("skipped: {}", parity.skipped.as_deref().unwrap_or("")))
        }
    };
    StageResult { stage: Stage::Client, status, elapsed_ms: Some(parity.elapsed_ms), summary }
}

fn aws_cell(audit: &AwsAudit) -> StageResult {
    let (status, summary) = match (&audit.unavailable, &audit.endpoint) {
        (Some(why), _) => (StageStatus::Skipped, format!("skipped: {why}")),
        (None, None) if !audit.pni_interfaces.is_empty() => {
            let attached = audit.pni_interfaces.iter().filter(|i| i.attached()).count();
            let status = if attached == audit.pni_interfaces.len() { StageStatus::Pass } else { StageStatus::Fail };
            (status, format!("PNI: {attached} of {} network interfaces attached", audit.pni_interfaces.len()))
        }
        (None, None) => (StageStatus::Fail, "no endpoint found".to_string()),
        (None, Some(ep)) => {
            (StageStatus::Pass, format!("{} {} in {}", ep.id, ep.state, count(ep.interfaces.len(), "zone", "zones")))
        }
    };
    StageResult { stage: Stage::Aws, status, elapsed_ms: Some(audit.elapsed_ms), summary }
}

/// Puts an extra's cell on the first bootstrap row.
fn set_cell(report: &mut Report, cell: StageResult) {
    if let Some(t) = report.targets.iter_mut().find(|t| t.role == Role::Bootstrap) {
        t.stages.retain(|s| s.stage != cell.stage);
        t.stages.push(cell);
    }
}

fn bootstrap_cell(report: &mut Report, stage: Stage) -> Option<&mut StageResult> {
    report.targets.iter_mut().find(|t| t.role == Role::Bootstrap)?.stages.iter_mut().find(|s| s.stage == stage)
}

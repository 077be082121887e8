//! The runner: decides what runs, in which order and how parallel, under one global deadline.
//!
//! Per host: DNS (configured and public resolvers at once), then for every target of that host
//! and every resolved address at once: TCP → TLS → HTTPS. A blackholed address therefore costs
//! at most one step cap (bounded by the deadline) however many addresses there are.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::join_all;
use tokio::sync::{mpsc, oneshot};

use crate::analysis;
use crate::error::Error;
use crate::input::config::CheckConfig;
use crate::limits::*;
use crate::probe::dns::{self, ResolverChoice};
use crate::probe::https;
use crate::probe::kafka;
use crate::probe::tcp;
use crate::probe::tls::{self, TlsContext};
use crate::report::{
    AccessReport, AddressReport, ClusterMetadata, CnameHop, DnsDetail, GroupAccess, KafkaOutcome, MssAttempt,
    PathMtuProbe, Report, Role, SCHEMA_VERSION, Stage, TargetReport, TcpAttempt, TcpOutcome, TlsAttempt, TlsOutcome,
    TopicAccess,
};
use crate::run::matrix::assemble;
use crate::run::plan::{TargetPlan, broker_plans, host_plans};
use crate::run::step::{Step, StepObserver, StepOutcome, emit};

mod coordinator;
mod credentials;
mod mtu;
mod resolve;
mod settings;

use crate::scope::CredentialScope;
use coordinator::coordinator_offsets;
use credentials::{kafka_then, run_credentials, withhold_reason};
use mtu::handshake_or_mtu_probe;
use settings::settings;
use tokio::net::TcpStream;

/// The one global deadline every step is bounded by, and what the run learnt about time: the
/// addresses that already left a connect's SYNs unanswered.
#[derive(Clone, Copy, Debug)]
struct Deadline<'a>(Instant, &'a Dropping);

/// `ip:port`s whose connect timed out (SYNs unanswered) in this run. Another connect to one (a
/// broker in a dead zone shares the zone's endpoint address with the bootstrap) ends then too:
/// the same packets go to the same drop, and waiting its own three SYNs out adds nothing.
#[derive(Debug, Default)]
struct Dropping {
    seen: std::sync::Mutex<std::collections::HashSet<SocketAddr>>,
    news: tokio::sync::Notify,
}

impl Dropping {
    fn contains(&self, addr: SocketAddr) -> bool {
        self.seen.lock().is_ok_and(|s| s.contains(&addr))
    }

    fn add(&self, addr: SocketAddr) {
        if let Ok(mut s) = self.seen.lock() {
            s.insert(addr);
        }
        self.news.notify_waiters();
    }
}

/// A TCP connect within `cap` (and the deadline) that ends as soon as another connect of this run
/// to the same address has timed out.
async fn connect(deadline: Deadline<'_>, addr: SocketAddr, cap: Duration) -> (TcpAttempt, Option<TcpStream>) {
    let started = Instant::now();
    let same = |ms: u64| TcpAttempt {
        outcome: TcpOutcome::Timeout,
        elapsed_ms: ms,
        error: Some(format!("another connect to {addr} in this run left its SYNs unanswered: the same drop")),
    };
    if deadline.1.contains(addr) {
        return (same(0), None);
    }
    let dropped = async {
        loop {
            let news = deadline.1.news.notified();
            if deadline.1.contains(addr) {
                return;
            }
            news.await;
        }
    };
    // Only a connect that had its whole connect timeout says the address drops (not one cut short
    // by the deadline or a confirmation budget).
    let budget = deadline.budget(cap);
    let whole = budget >= cap;
    tokio::select! {
        (attempt, stream) = tcp::connect(addr, budget) => {
            if whole && attempt.outcome == TcpOutcome::Timeout {
                deadline.1.add(addr);
            }
            (attempt, stream)
        }
        () = dropped => (same(started.elapsed().as_millis() as u64), None),
    }
}

impl Deadline<'_> {
    /// The time a step may take: its cap, or what is left of the run if that is less.
    fn budget(self, cap: Duration) -> Duration {
        cap.min(self.0.saturating_duration_since(Instant::now()))
    }
}

/// What every step of one run shares: the configuration, the TLS context, the resolvers, the
/// deadline and the step observer.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    config: &'a CheckConfig,
    tls: &'a TlsContext,
    resolvers: &'a Resolvers,
    deadline: Deadline<'a>,
    steps: Option<&'a StepObserver>,
    /// The OAuth token, once the fetch beside the bootstrap's first steps has ended (`Some(None)`:
    /// it gave none).
    token: Option<&'a TokenRx>,
}

/// Where the run hands its OAuth token on (the client-parity stage).
pub(crate) type TokenTx = tokio::sync::watch::Sender<Option<Option<crate::Secret>>>;

/// Where the Kafka steps wait for the run's OAuth token.
type TokenRx = tokio::sync::watch::Receiver<Option<Option<crate::input::Secret>>>;

/// The run's resolvers, built once.
struct Resolvers {
    main: dns::Dns,
    public: Option<dns::Dns>,
}

/// Where the bootstrap hands on what it learns: its first Metadata answer (to the broker wave),
/// then the consumer's answers with the address that gave them (to the coordinator task), and its
/// name's CNAME chain (the cluster's domain, for the credential rule).
/// The senders end with the bootstrap's probes (the broker wave stops waiting then).
struct Shared<'a> {
    metadata: mpsc::Sender<ClusterMetadata>,
    access: mpsc::Sender<(AccessReport, String)>,
    chain: &'a std::sync::Mutex<Option<Vec<CnameHop>>>,
}

/// Runs kreach's own checks under the config's deadline and returns the report without findings
/// (the [`Diagnosis`](crate::Diagnosis) draws them once, with the extras). `Err` only when the
/// checks cannot run at all. The first bootstrap host's name resolution goes to `bootstrap_dns`
/// as soon as it is known (the AWS audit derives the cluster's domain from it), the OAuth token
/// to `token_out` once fetched.
pub(crate) async fn checks(
    config: &CheckConfig,
    started: Instant,
    (bootstrap_dns, token_out): (Option<oneshot::Sender<DnsDetail>>, Option<TokenTx>),
    steps: Option<&StepObserver>,
) -> Result<Report, Error> {
    let started_at =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let dropping = Dropping::default();
    let deadline = Deadline(started + config.timeout, &dropping);
    let tls_ctx = TlsContext::for_config(config)?;

    let hosts = host_plans(config);

    // Brokers are probed as soon as the first Metadata answer arrives, while the bootstrap's
    // other addresses may still be running.
    let (tx, mut rx) = mpsc::channel::<ClusterMetadata>(1);
    let (access_tx, mut access_rx) = mpsc::channel::<(AccessReport, String)>(1);
    let chain = std::sync::Mutex::new(None);
    let shared = Shared { metadata: tx, access: access_tx, chain: &chain };
    let resolvers = Resolvers {
        main: dns::Dns::new(&if config.resolvers.is_empty() {
            ResolverChoice::System
        } else {
            ResolverChoice::Servers(config.resolvers.clone())
        }),
        public: (!config.public_resolvers.is_empty())
            .then(|| dns::Dns::new(&ResolverChoice::Servers(config.public_resolvers.clone()))),
    };
    // OAUTHBEARER with a token endpoint: the token is fetched beside the bootstrap's DNS, TCP and
    // TLS, and the Kafka step waits for it (one more round trip at most on a healthy path).
    let oauth = config.sasl.as_ref().and_then(|s| s.oauth.as_ref());
    let (token_tx, token_rx) = tokio::sync::watch::channel(None);
    let token_fetch = async {
        let client = oauth?;
        let budget = deadline.budget(config.timeout);
        let (record, token) = crate::probe::oauth::fetch(
            client,
            &resolvers.main,
            &tls_ctx,
            crate::probe::oauth::Asking {
                allow_insecure: config.allow_insecure_credentials,
                signer: config.sasl.as_ref().and_then(|s| s.iam.as_ref()),
            },
            config.connect_timeout,
            budget,
        )
        .await;
        // The client-parity stage gets the token too (never the client secret).
        if let Some(out) = &token_out {
            let _ = out.send(Some(token.clone()));
        }
        let _ = token_tx.send(Some(token));
        Some(record)
    };
    let token = oauth.map(|_| &token_rx);
    let ctx = Ctx { config, tls: &tls_ctx, resolvers: &resolvers, deadline, steps, token };
    let bootstrap = {
        let hosts = &hosts;
        async move {
            let shared = shared;
            let tx = &shared;
            let mut dns_tx = bootstrap_dns;
            join_all(hosts.iter().map(|(host, plans)| {
                let first = if plans.iter().any(|p| p.role == Role::Bootstrap) { dns_tx.take() } else { None };
                probe_host(ctx, host, plans, Some(tx), first)
            }))
            .await
        }
    };
    let brokers = async {
        let Some(metadata) = rx.recv().await else { return (None, None, Vec::new()) };
        let plans = broker_plans(config, &metadata);
        let wave = futures::stream::iter(plans.iter())
            .map(|(host, plans)| probe_host(ctx, host, plans, None, None))
            .buffered(BROKER_CONCURRENCY)
            .collect::<Vec<Vec<TargetReport>>>();
        // The group's coordinator is one more broker connection, beside the wave.
        let group = async {
            let (mut access, asked_at) = access_rx.recv().await?;
            access.asked_at = Some(asked_at);
            if let Some(g) = access.group.as_mut() {
                // Where the credentials may go: the bootstrap, and the brokers this Metadata
                // advertised under the cluster's own domain (the bootstrap's chain says which).
                let chain = chain.lock().ok().and_then(|c| c.clone()).unwrap_or_default();
                let scope = CredentialScope::bootstrap(&config.bootstrap).with_cluster(
                    config.dns_domain.as_deref(),
                    &chain,
                    &metadata,
                );
                coordinator_offsets(ctx, &access.topics, &scope, g).await;
            }
            Some(access)
        };
        let (reports, access) = futures::join!(wave, group);
        (Some(metadata), access, reports.into_iter().flatten().collect::<Vec<_>>())
    };
    let (per_host, (cluster, access, broker_targets), oauth) = futures::join!(bootstrap, brokers, token_fetch);
    let mut targets: Vec<TargetReport> = per_host.into_iter().flatten().collect();
    targets.extend(broker_targets);
    let access = consumer_access(config, tls_ctx.verifies(), &mut targets, access);
    trim_metadata(&mut targets);
    let settings = settings(config, tls_ctx.verifies());
    let zones = analysis::zones(&targets);
    let report = Report {
        schema_version: SCHEMA_VERSION,
        kreach_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at,
        elapsed_ms: started.elapsed().as_millis() as u64,
        timeout_ms: config.timeout.as_millis() as u64,
        settings,
        targets,
        cluster,
        zones,
        parity: None,
        aws: None,
        changes: None,
        vantage: None,
        secret: None,
        network: None,
        event_source_mapping: None,
        access,
        oauth,
        checked_names: Vec::new(),
        findings: Vec::new(),
        critical_path: Vec::new(),
        compacted: None,
        status: crate::report::Status::Pass,
    };
    Ok(report)
}

/// The consumer's answers, kept once (the bootstrap's first, else the coordinator task's); when no
/// bootstrap answered Metadata, why nothing was asked.
fn consumer_access(
    config: &CheckConfig,
    verifies: bool,
    targets: &mut [TargetReport],
    access: Option<AccessReport>,
) -> Option<AccessReport> {
    // The consumer's answers are kept once, in `access`; when no bootstrap answered Metadata,
    // the first attempt says why nothing was asked.
    let mut first_access = None;
    for a in targets.iter_mut().flat_map(|t| t.addresses.iter_mut()) {
        if let Some(found) = a.kafka.as_mut().and_then(|k| k.access.take()) {
            first_access.get_or_insert(found);
        }
    }
    config.consumer.as_ref().map(|_| {
        access.or(first_access).unwrap_or_else(|| AccessReport {
            not_asked: Some(match config.credentials_withheld() {
                Some(why) => format!("credentials withheld ({why})"),
                None if config.has_credentials() && !verifies => {
                    "credentials withheld: TLS verification is off".to_string()
                }
                None => "no bootstrap address answered Metadata".to_string(),
            }),
            ..AccessReport::default()
        })
    })
}

/// The cluster's brokers are kept once, in `cluster`; each address's own answer keeps its first
/// few (and the count), so many bootstrap addresses cannot multiply a large answer.
fn trim_metadata(targets: &mut [TargetReport]) {
    for a in targets.iter_mut().flat_map(|t| t.addresses.iter_mut()) {
        if let Some(m) = a.kafka.as_mut().and_then(|k| k.metadata.as_mut()) {
            m.brokers_total = m.brokers_total.max(m.brokers.len());
            m.brokers.truncate(MAX_ADDRESS_BROKERS);
        }
    }
}

/// One host: resolved once, then every plan × every address at once. A bootstrap host hands on
/// what it learns through `metadata_tx` (its Metadata, the consumer's answers, its CNAME chain) and
/// its name resolution through `dns_tx` (the AWS audit starts with it).
async fn probe_host(
    ctx: Ctx<'_>,
    host: &str,
    plans: &[TargetPlan],
    metadata_tx: Option<&Shared<'_>>,
    dns_tx: Option<oneshot::Sender<DnsDetail>>,
) -> Vec<TargetReport> {
    let (dns, mut ips) = resolve::resolve(ctx, host, ctx.steps).await;
    let bootstrap_port = dns_tx.as_ref().and(plans.first()).map(|p| p.hp.port);
    if let Some(tx) = dns_tx {
        let _ = tx.send(dns.clone());
    }
    if let Some(shared) = metadata_tx {
        if let Ok(mut chain) = shared.chain.lock() {
            chain.get_or_insert_with(|| dns.lookup.cname_chain.clone());
        }
    }
    ips.truncate(MAX_ADDRESSES_PER_NAME);
    // A public answer where a private one is due fails the target at DNS whatever the connections
    // do (the DNS cell's rule): their steps only confirm, within a short budget, not the deadline.
    let dns = &dns;
    let ips = &ips;
    let public_answer = dns.lookup.outcome == crate::report::DnsOutcome::Answer
        && dns.answer_class == Some(crate::report::AnswerClass::Public);
    let probes = plans.iter().map(|plan| async move {
        let fixed = public_answer && plan.expects_private();
        let addresses = join_all(ips.iter().map(|ip| async move {
            if !fixed {
                return probe_address(ctx, plan, *ip, metadata_tx).await;
            }
            let deadline = ctx.deadline;
            let short = Deadline(deadline.0.min(Instant::now() + CONFIRMATION_BUDGET), deadline.1);
            let mut report = probe_address(Ctx { deadline: short, ..ctx }, plan, *ip, metadata_tx).await;
            if short.0 < deadline.0 && timed_out(&report) {
                report.not_waited_for = Some(format!(
                    "{} at {ip}: the DNS answer (a public address where the endpoint's private one is due) already \
                     fails this target; its steps had {} ms to confirm, not the deadline",
                    plan.hp,
                    CONFIRMATION_BUDGET.as_millis()
                ));
            }
            report
        }))
        .await;
        assemble(plan, dns, addresses)
    });
    let zone = async {
        match bootstrap_port {
            Some(port) => resolve::domain_zone(ctx, port, dns).await,
            None => None,
        }
    };
    let (zone, mut reports) = futures::join!(zone, join_all(probes));
    for d in reports.iter_mut().filter_map(|r| r.dns.as_mut()) {
        d.domain_zone.clone_from(&zone);
    }
    reports
}

/// Whether a step of the address ran out of time.
fn timed_out(report: &AddressReport) -> bool {
    use crate::report::HttpsOutcome;
    report.tcp.as_ref().is_some_and(|t| t.outcome == TcpOutcome::Timeout)
        || report.tls.as_ref().is_some_and(|t| t.outcome == TlsOutcome::Timeout)
        || report.https.as_ref().is_some_and(|h| h.outcome == HttpsOutcome::Timeout)
        || report.kafka.as_ref().is_some_and(|k| k.outcome == KafkaOutcome::Timeout)
}

/// One address of one plan: TCP, then TLS and HTTPS or Kafka, each within its cap and the deadline.
async fn probe_address(ctx: Ctx<'_>, plan: &TargetPlan, ip: IpAddr, metadata_tx: Option<&Shared<'_>>) -> AddressReport {
    let Ctx { config, tls: tls_ctx, deadline, steps, .. } = ctx;
    let mut report = AddressReport {
        ip: ip.to_string(),
        private: dns::is_private(ip, &config.private_cidrs),
        tcp: None,
        tls: None,
        https: None,
        kafka: None,
        not_waited_for: None,
    };
    let (tcp, stream) =
        connect(deadline, SocketAddr::new(ip, plan.hp.port), config.connect_timeout.min(TCP_STEP_CAP)).await;
    let ended = |stage, outcome, ms| emit(steps, Step::ended(stage, &plan.hp.to_string(), Some(ip), outcome, ms));
    ended(Stage::Tcp, StepOutcome::Tcp(tcp.outcome), tcp.elapsed_ms);
    report.tcp = Some(tcp);
    let Some(mut stream) = stream else { return report };
    if !plan.tls {
        if plan.kafka {
            let (with_token, signing) = run_credentials(ctx, plan, false).await;
            let mut attempt = kafka::probe_sharing(
                &mut stream,
                kafka_then(config, plan, false, with_token.as_ref()),
                deadline.budget(KAFKA_STEP_CAP),
                &mut |m| share_metadata(m, metadata_tx),
            )
            .await;
            attempt.iam_signing = signing;
            drop(stream);
            // Many TLS listeners close on plaintext without a word: try a handshake on a fresh
            // connection, so the report can say "wrong security.protocol" instead.
            if attempt.outcome == KafkaOutcome::Closed {
                let addr = SocketAddr::new(ip, plan.hp.port);
                if let (_, Some(fresh)) = connect(deadline, addr, config.connect_timeout.min(TCP_STEP_CAP)).await {
                    let (tls, _) =
                        tls::handshake(tls_ctx, fresh, &plan.hp.host, &[], deadline.budget(TLS_STEP_CAP)).await;
                    if tls.peer_certificate.is_some() {
                        attempt.outcome = KafkaOutcome::TlsListener;
                        attempt.error = Some(format!(
                            "the plaintext ApiVersions was closed unanswered; a TLS handshake on the same port got a certificate ({})",
                            tls.peer_certificate.as_ref().map(|c| c.subject.as_str()).unwrap_or("")
                        ));
                    }
                }
            }
            ended(Stage::Kafka, StepOutcome::Kafka(attempt.outcome), attempt.elapsed_ms);
            report.kafka = Some(attempt);
        }
        share_access(&report, plan.hp.port, metadata_tx);
        return report;
    }
    let alpn: &[&[u8]] = if plan.https_path().is_some() { &[b"http/1.1"] } else { &[] };
    let addr = SocketAddr::new(ip, plan.hp.port);
    let (tls, session) = handshake_or_mtu_probe(tls_ctx, stream, addr, &plan.hp.host, alpn, deadline).await;
    let closed_silently = tls.outcome == TlsOutcome::Closed;
    ended(Stage::Tls, StepOutcome::Tls(tls.outcome), tls.elapsed_ms);
    report.tls = Some(tls);
    let Some(mut session) = session else {
        // A plaintext Kafka listener closes on a ClientHello without a word: ask it in plaintext
        // on a fresh connection, so the report can say "wrong security.protocol" instead.
        if plan.kafka && closed_silently {
            let addr = SocketAddr::new(ip, plan.hp.port);
            if let (_, Some(mut plain)) = connect(deadline, addr, config.connect_timeout.min(TCP_STEP_CAP)).await {
                let mut attempt = kafka::probe(&mut plain, kafka::Then::Stop, deadline.budget(KAFKA_STEP_CAP)).await;
                if attempt.outcome == KafkaOutcome::Ok {
                    attempt.outcome = KafkaOutcome::PlaintextListener;
                    report.kafka = Some(attempt);
                }
            }
        }
        return report;
    };
    if let Some(path) = plan.https_path() {
        let attempt = https::request(session, &plan.hp.host, plan.hp.port, path, deadline.budget(HTTPS_STEP_CAP)).await;
        ended(Stage::Https, StepOutcome::Https(attempt.outcome), attempt.elapsed_ms);
        report.https = Some(attempt);
    } else if plan.kafka {
        let (with_token, signing) = run_credentials(ctx, plan, tls_ctx.verifies()).await;
        let mut attempt = kafka::probe_sharing(
            &mut session,
            kafka_then(config, plan, tls_ctx.verifies(), with_token.as_ref()),
            deadline.budget(KAFKA_STEP_CAP),
            &mut |m| share_metadata(m, metadata_tx),
        )
        .await;
        attempt.iam_signing = signing;
        // The outcome and timing only: never a credential.
        ended(Stage::Kafka, StepOutcome::Kafka(attempt.outcome), attempt.elapsed_ms);
        report.kafka = Some(attempt);
        share_access(&report, plan.hp.port, metadata_tx);
    }
    report
}

/// Hands the first Metadata answer to the broker fan-out the moment it is decoded (later ones
/// are redundant).
fn share_metadata(metadata: &ClusterMetadata, taps: Option<&Shared<'_>>) {
    if let Some(shared) = taps {
        let _ = shared.metadata.try_send(metadata.clone());
    }
}

/// Hands the first consumer's answers (with the address that gave them) to the coordinator task.
fn share_access(report: &AddressReport, port: u16, taps: Option<&Shared<'_>>) {
    if let (Some(shared), Some(access)) = (taps, report.kafka.as_ref().and_then(|k| k.access.as_ref())) {
        if access.not_asked.is_none() {
            let _ = shared.access.try_send((access.clone(), format!("{}:{port}", report.ip)));
        }
    }
}

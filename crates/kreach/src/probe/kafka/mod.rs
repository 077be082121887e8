//! Kafka stage: speak Kafka on the connection the earlier stages opened, one timed step at a time.
//!
//! ApiVersions needs no credentials (brokers answer it before authentication), so it proves a
//! Kafka listener is there; Metadata then lists the brokers every later check fans out to.

use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::input::config::{ConsumerQuestions, Sasl};
use crate::limits::ACCESS_ANSWER_CAP;
use crate::probe::sasl::{Scram, ScramHash, plain};
use crate::probe::wire::{self, ApiKey, ApiVersions, Body, Reader, UNSUPPORTED_VERSION};
use crate::report::{
    AccessAnswer, AccessOutcome, AccessReport, BrokerInfo, ClusterMetadata, GroupAccess, KafkaAttempt, KafkaOutcome,
    KafkaStep, TlsAlert, TopicAccess,
};

mod access;
mod auth;

pub(crate) use access::offset_fetch;
use access::{answer, topic_access};
pub(crate) use auth::MSK_IAM_OAUTHBEARER;
use auth::authenticate;

/// Largest Metadata answer accepted: without topics it is ~50 bytes a broker, so 4 MiB holds
/// tens of thousands; anything bigger is not an answer to kreach's request.
pub(crate) const MAX_FRAME: usize = 4 * 1024 * 1024;
/// Largest answer to ApiVersions and the SASL steps: they are a few hundred bytes.
pub(crate) const MAX_SMALL_FRAME: usize = 64 * 1024;
/// Highest ApiVersions / Metadata versions this client speaks.
const API_VERSIONS_MAX: i16 = 3;
const METADATA_MAX: i16 = 12;
/// The versions of a consumer's questions this client speaks.
const FIND_COORDINATOR: (i16, i16) = (1, 4);
const OFFSET_FETCH: (i16, i16) = (2, 7);
const DESCRIBE_CONFIGS: (i16, i16) = (0, 4);
/// Kafka error codes the consumer's questions are read for.
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const TOPIC_AUTHORIZATION_FAILED: i16 = 29;
const GROUP_AUTHORIZATION_FAILED: i16 = 30;
const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;

/// Why a request got no decodable answer.
#[derive(Debug)]
enum CallError {
    /// The peer closed; `received` bytes came before.
    Closed { received: usize },
    /// An I/O error.
    Io(std::io::Error),
    /// A length prefix beyond the frame cap (or negative): not a Kafka answer.
    Oversized { len: i64, first: [u8; 4] },
    /// The frame did not decode as the expected response.
    Decode(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Closed { received: 0 } => f.write_str("the peer closed the connection without answering"),
            CallError::Closed { received } => write!(f, "the peer closed the connection after {received} bytes"),
            CallError::Io(e) => write!(f, "{e}"),
            CallError::Oversized { len, first } => write!(
                f,
                "answer announces a {len}-byte frame (first bytes {:?}): not a Kafka response",
                String::from_utf8_lossy(first)
            ),
            CallError::Decode(e) => write!(f, "undecodable Kafka response: {e}"),
        }
    }
}

impl From<wire::DecodeError> for CallError {
    fn from(e: wire::DecodeError) -> Self {
        CallError::Decode(e.to_string())
    }
}

struct Client<'a, S> {
    stream: &'a mut S,
    correlation: i32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<'_, S> {
    /// Sends one request and returns the response body (after the header), at most `cap` bytes.
    async fn call(&mut self, body: &Body<'_>, version: i16, cap: usize) -> Result<Vec<u8>, CallError> {
        let correlation = self.send(body, version).await?;
        self.receive(body.key(), version, correlation, cap).await
    }

    /// Sends one request without waiting for its answer (requests on a connection are answered
    /// in order, so several can be under way); returns its correlation id.
    async fn send(&mut self, body: &Body<'_>, version: i16) -> Result<i32, CallError> {
        self.correlation += 1;
        let frame = wire::request(body, version, self.correlation);
        self.stream.write_all(&frame).await.map_err(CallError::Io)?;
        self.stream.flush().await.map_err(CallError::Io)?;
        Ok(self.correlation)
    }

    /// Reads the answer to the request sent with `correlation`, at most `cap` bytes.
    async fn receive(&mut self, key: ApiKey, version: i16, correlation: i32, cap: usize) -> Result<Vec<u8>, CallError> {
        let mut len_buf = [0u8; 4];
        read_exact(self.stream, &mut len_buf, 0).await?;
        let len = i32::from_be_bytes(len_buf) as i64;
        if len < 4 || len as usize > cap {
            return Err(CallError::Oversized { len, first: len_buf });
        }
        // Grows with the bytes that actually arrive, never to what the prefix claims up front.
        let mut payload = Vec::new();
        (&mut *self.stream).take(len as u64).read_to_end(&mut payload).await.map_err(CallError::Io)?;
        if payload.len() < len as usize {
            return Err(CallError::Closed { received: 4 + payload.len() });
        }
        let mut r = Reader::new(&payload);
        let answered = wire::response_header(&mut r, key, version)?;
        if answered != correlation {
            return Err(CallError::Decode(format!("correlation id {answered} instead of {correlation}")));
        }
        let consumed = payload.len() - r.remaining();
        payload.drain(..consumed);
        Ok(payload)
    }

    async fn api_versions(&mut self, version: i16) -> Result<ApiVersions, CallError> {
        let body = self.call(&Body::ApiVersions, version, MAX_SMALL_FRAME).await?;
        Ok(wire::api_versions(&mut Reader::new(&body), version)?)
    }

    async fn sasl_handshake(&mut self, mechanism: &str, version: i16) -> Result<wire::SaslHandshake, CallError> {
        let body = self.call(&Body::SaslHandshake(mechanism), version, MAX_SMALL_FRAME).await?;
        Ok(wire::sasl_handshake(&mut Reader::new(&body))?)
    }

    async fn sasl_authenticate(&mut self, bytes: &[u8], version: i16) -> Result<wire::SaslAuthenticate, CallError> {
        let body = self.call(&Body::SaslAuthenticate(bytes), version, MAX_SMALL_FRAME).await?;
        Ok(wire::sasl_authenticate(&mut Reader::new(&body), version)?)
    }

    async fn metadata(&mut self, version: i16, correlation: i32) -> Result<wire::Metadata, CallError> {
        let body = self.receive(ApiKey::Metadata, version, correlation, MAX_FRAME).await?;
        Ok(wire::metadata(&mut Reader::new(&body), version)?)
    }
}

async fn read_exact<S: AsyncRead + Unpin>(s: &mut S, buf: &mut [u8], already: usize) -> Result<(), CallError> {
    let mut filled = 0;
    while filled < buf.len() {
        match s.read(&mut buf[filled..]).await {
            Ok(0) => return Err(CallError::Closed { received: already + filled }),
            Ok(n) => filled += n,
            Err(e) => return Err(CallError::Io(e)),
        }
    }
    Ok(())
}

/// What to do after ApiVersions.
#[derive(Clone, Debug)]
pub enum Then<'a> {
    /// Nothing more (a broker's listener check).
    Stop,
    /// Authenticate when SASL is given, then Metadata.
    Metadata(Option<&'a Sasl>),
    /// SASL is configured but the credentials must not go over this connection (the reason):
    /// ApiVersions only.
    Withhold(String),
    /// As `Metadata`, with a consumer's read-only questions: its topics in the Metadata request,
    /// FindCoordinator for its group and DescribeConfigs on the cluster sent right behind it (one
    /// round trip for all three); the answers are in the attempt's `access`.
    Consumer(Option<&'a Sasl>, &'a ConsumerQuestions),
}

/// The version of `key` to ask, within what kreach speaks (`ours`) and the broker offers.
fn pick(versions: &ApiVersions, key: ApiKey, ours: (i16, i16)) -> Option<i16> {
    let range = versions.range(key)?;
    let version = range.max.min(ours.1);
    (version >= range.min && version >= ours.0).then_some(version)
}

/// Most SASL mechanisms kept from a SaslHandshake answer.
const MAX_MECHANISMS: usize = 16;
/// Most characters kept of a peer's error message.
const MAX_PEER_TEXT: usize = 512;

/// ApiVersions at the highest version both sides speak: an old broker answers v3 in the v0 layout
/// with UNSUPPORTED_VERSION and its own range, and is asked again at a version it knows.
async fn negotiate<S: AsyncRead + AsyncWrite + Unpin>(client: &mut Client<'_, S>) -> Result<ApiVersions, CallError> {
    let first = client.api_versions(API_VERSIONS_MAX).await?;
    if first.error_code != UNSUPPORTED_VERSION {
        return Ok(first);
    }
    let version = first.range(ApiKey::ApiVersions).map_or(0, |r| r.max.clamp(0, API_VERSIONS_MAX - 1));
    client.api_versions(version).await
}

/// Runs ApiVersions, then what `then` asks, over `stream` within `budget`.
pub async fn probe<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    then: Then<'_>,
    budget: Duration,
) -> KafkaAttempt {
    probe_sharing(stream, then, budget, &mut |_| {}).await
}

/// As [`probe`], handing the Metadata answer to `on_metadata` the moment it is decoded (the
/// runner starts the broker wave with it while the consumer's answers are still coming).
pub(crate) async fn probe_sharing<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    then: Then<'_>,
    budget: Duration,
    on_metadata: &mut (dyn FnMut(&ClusterMetadata) + Send),
) -> KafkaAttempt {
    let started = Instant::now();
    let mut attempt = empty_attempt();
    let run = exchange(stream, then, started, &mut attempt, on_metadata);
    let timed_out = tokio::time::timeout(budget, run).await.is_err();
    if timed_out && attempt.step == Some(KafkaStep::Access) {
        // Metadata answered; only the consumer's questions ran out of time: each answer already
        // read is kept, each missing one says "no answer".
        attempt.step = None;
    } else if timed_out {
        attempt.outcome = KafkaOutcome::Timeout;
        let step = attempt.step.map_or("Kafka", KafkaStep::as_str);
        attempt.error = Some(format!("no {step} answer within {} ms", budget.as_millis()));
    }
    if attempt.outcome == KafkaOutcome::Ok {
        attempt.step = None;
    }
    attempt.elapsed_ms = started.elapsed().as_millis() as u64;
    attempt
}

/// The exchange itself, each step's result written into `attempt` as it comes (so a deadline that
/// cuts it keeps what was learnt): ApiVersions, then what `then` asks.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    then: Then<'_>,
    started: Instant,
    attempt: &mut KafkaAttempt,
    on_metadata: &mut (dyn FnMut(&ClusterMetadata) + Send),
) {
    let mut client = Client { stream, correlation: 0 };
    attempt.step = Some(KafkaStep::ApiVersions);
    let Some(versions) = api_versions(&mut client, started, attempt).await else { return };
    let (sasl, consumer) = match then {
        Then::Stop => {
            attempt.outcome = KafkaOutcome::Ok;
            return;
        }
        Then::Withhold(why) => {
            attempt.outcome = KafkaOutcome::Ok;
            attempt.skipped = Some(format!("credentials withheld ({why}): authentication and Metadata not attempted"));
            attempt.credentials_withheld = Some(why);
            return;
        }
        Then::Metadata(sasl) => (sasl, None),
        Then::Consumer(sasl, questions) => (sasl, Some((questions, sasl.and_then(|s| s.username.clone())))),
    };
    if let Some(sasl) = sasl {
        if !sasl_step(&mut client, &versions, sasl, attempt).await {
            return;
        }
    }
    let Some(version) = metadata_version(&versions, attempt) else { return };
    attempt.step = Some(KafkaStep::Metadata);
    attempt.metadata_version = Some(version);
    let metadata_started = Instant::now();
    let topics: &[String] = consumer.as_ref().map_or(&[], |(q, _)| q.topics.as_slice());
    let sent = client.send(&Body::Metadata(topics), version).await;
    // The consumer's other questions go right behind the Metadata request: one round trip.
    let questions = match (&sent, &consumer) {
        (Ok(_), Some((q, _))) => send_questions(&mut client, &versions, q).await,
        _ => Vec::new(),
    };
    let result = match sent {
        Ok(correlation) => client.metadata(version, correlation).await,
        Err(e) => Err(e),
    };
    let answered_topics = record_metadata(result, metadata_started, attempt, on_metadata);
    let Some((q, principal)) = consumer else { return };
    let mut access =
        AccessReport { principal, topics: topic_access(&q.topics, &answered_topics), ..Default::default() };
    if attempt.metadata.is_none() {
        access.not_asked = Some("Metadata did not answer on this connection".into());
        attempt.access = Some(access);
        return;
    }
    access.group = q.group.as_ref().map(|id| GroupAccess {
        id: id.clone(),
        find_coordinator: AccessAnswer::with(AccessOutcome::NotOffered, "the broker offers no FindCoordinator v1-v4"),
        ..GroupAccess::default()
    });
    access.cluster_configs =
        AccessAnswer::with(AccessOutcome::NotOffered, "the broker offers no DescribeConfigs v0-v4");
    for (key, v, _) in &questions {
        let waiting = AccessAnswer::with(AccessOutcome::NoAnswer, "no answer");
        match key {
            ApiKey::FindCoordinator => {
                if let Some(g) = access.group.as_mut() {
                    g.find_coordinator = AccessAnswer { version: Some(*v), ..waiting };
                }
            }
            _ => access.cluster_configs = AccessAnswer { version: Some(*v), ..waiting },
        }
    }
    // The Metadata answer is in and handed on: the answers behind it get a short wait of their own.
    attempt.step = Some(KafkaStep::Access);
    attempt.access = Some(access);
    let wait = ACCESS_ANSWER_CAP.max(metadata_started.elapsed() * 4);
    let _ = tokio::time::timeout(wait, read_answers(&mut client, questions, attempt)).await;
    attempt.step = None;
}

/// ApiVersions at the highest version both sides speak; `None` (the attempt says why) when the
/// peer does not answer it as a Kafka broker would.
async fn api_versions<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut Client<'_, S>,
    started: Instant,
    attempt: &mut KafkaAttempt,
) -> Option<ApiVersions> {
    let versions = match negotiate(client).await {
        Ok(v) => v,
        Err(e) => {
            if let CallError::Io(io) = &e {
                attempt.tls_alert = TlsAlert::of_io(io);
            }
            attempt.outcome = match &e {
                CallError::Closed { received: 0 } => KafkaOutcome::Closed,
                CallError::Io(_) => KafkaOutcome::Failed,
                // A TLS record (alert 0x15 or handshake 0x16, version 3.x) in answer to plaintext.
                CallError::Oversized { first: [0x15 | 0x16, 0x03, ..], .. } => KafkaOutcome::TlsListener,
                _ => KafkaOutcome::NotKafka,
            };
            attempt.error = Some(format!("ApiVersions: {e}"));
            return None;
        }
    };
    attempt.api_versions_ms = Some(started.elapsed().as_millis() as u64);
    attempt.api_keys = Some(versions.api_keys.len());
    if versions.error_code != 0 {
        attempt.outcome = KafkaOutcome::NotKafka;
        attempt.error_code = Some(versions.error_code);
        attempt.error = Some(format!("ApiVersions answered error code {}", versions.error_code));
        return None;
    }
    Some(versions)
}

/// SASL when credentials are there; whether the exchange may go on (the attempt says why not).
async fn sasl_step<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut Client<'_, S>,
    versions: &ApiVersions,
    sasl: &Sasl,
    attempt: &mut KafkaAttempt,
) -> bool {
    if let (true, Some(token)) = (auth::speaks(sasl), sasl.bearer.as_ref()) {
        attempt.step = Some(KafkaStep::Sasl);
        attempt.sasl_mechanism = Some(sasl.mechanism.clone());
        let started = Instant::now();
        let result = auth::authenticate_token(client, versions, sasl, token, attempt).await;
        attempt.sasl_ms = Some(started.elapsed().as_millis() as u64);
        return match result {
            Ok(()) => true,
            Err((outcome, error)) => {
                attempt.outcome = outcome;
                attempt.error = Some(error);
                false
            }
        };
    }
    if !auth::speaks(sasl) {
        // OAUTHBEARER, GSSAPI, AWS_MSK_IAM: ask whether the broker enables the mechanism (no
        // credentials in that), and say plainly that the rest was not verified.
        attempt.step = Some(KafkaStep::Sasl);
        attempt.sasl_mechanism = Some(sasl.mechanism.clone());
        let started = Instant::now();
        let result = auth::handshake(client, versions, sasl, attempt).await;
        attempt.sasl_ms = Some(started.elapsed().as_millis() as u64);
        match result {
            Err((outcome, error)) => {
                attempt.outcome = outcome;
                attempt.error = Some(error);
            }
            Ok(()) => {
                attempt.outcome = KafkaOutcome::Ok;
                attempt.step = None;
                attempt.unverified_mechanism =
                    Some(if sasl.msk_iam_token { MSK_IAM_OAUTHBEARER.to_string() } else { sasl.mechanism.clone() });
                attempt.skipped = Some(if sasl.oauth.is_some() {
                    "the broker enables OAUTHBEARER (SaslHandshake); no token came from the token endpoint, so \
                     authentication and Metadata were not attempted"
                        .to_string()
                } else {
                    format!(
                        "the broker enables {} (SaslHandshake); kreach could not authenticate with it here, so \
                         authentication and Metadata were not attempted",
                        sasl.mechanism
                    )
                });
            }
        }
        return false;
    }
    let (Some(username), Some(password)) = (sasl.username.as_deref(), sasl.password.as_ref()) else {
        // ApiVersions proved the listener; without credentials nothing further can be asked.
        attempt.outcome = KafkaOutcome::Ok;
        attempt.skipped = Some("no SASL credentials: authentication and Metadata not attempted".into());
        return false;
    };
    attempt.step = Some(KafkaStep::Sasl);
    attempt.sasl_mechanism = Some(sasl.mechanism.clone());
    let sasl_started = Instant::now();
    let result = authenticate(client, versions, sasl, username, password.expose(), attempt).await;
    attempt.sasl_ms = Some(sasl_started.elapsed().as_millis() as u64);
    if let Err((outcome, error)) = result {
        attempt.outcome = outcome;
        attempt.error = Some(error);
        return false;
    }
    true
}

/// The Metadata version both sides speak; `None` (the attempt says why) when there is none.
fn metadata_version(versions: &ApiVersions, attempt: &mut KafkaAttempt) -> Option<i16> {
    let Some(range) = versions.range(ApiKey::Metadata) else {
        attempt.outcome = KafkaOutcome::MetadataFailed;
        attempt.error = Some("the broker does not offer the Metadata API".into());
        return None;
    };
    let version = range.max.min(METADATA_MAX);
    if version < range.min || version < 1 {
        attempt.outcome = KafkaOutcome::MetadataFailed;
        attempt.error = Some(format!("no common Metadata version (broker {}..={})", range.min, range.max));
        return None;
    }
    Some(version)
}

/// FindCoordinator and DescribeConfigs sent behind the Metadata request (what the broker offers).
async fn send_questions<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut Client<'_, S>,
    versions: &ApiVersions,
    q: &ConsumerQuestions,
) -> Vec<(ApiKey, i16, i32)> {
    let mut questions = Vec::new();
    if let Some(group) = &q.group {
        if let Some(v) = pick(versions, ApiKey::FindCoordinator, FIND_COORDINATOR) {
            if let Ok(c) = client.send(&Body::FindCoordinator(group), v).await {
                questions.push((ApiKey::FindCoordinator, v, c));
            }
        }
    }
    if let Some(v) = pick(versions, ApiKey::DescribeConfigs, DESCRIBE_CONFIGS) {
        if let Ok(c) = client.send(&Body::DescribeClusterConfigs, v).await {
            questions.push((ApiKey::DescribeConfigs, v, c));
        }
    }
    questions
}

/// The Metadata answer into the attempt (and to `on_metadata` when it lists brokers); the topics
/// it answered.
fn record_metadata(
    result: Result<wire::Metadata, CallError>,
    metadata_started: Instant,
    attempt: &mut KafkaAttempt,
    on_metadata: &mut (dyn FnMut(&ClusterMetadata) + Send),
) -> Vec<wire::Topic> {
    match result {
        Ok(mut response) => {
            let topics = std::mem::take(&mut response.topics);
            let empty = response.brokers.is_empty();
            attempt.metadata = Some(cluster(response, metadata_started.elapsed().as_millis() as u64));
            attempt.outcome = if empty { KafkaOutcome::MetadataFailed } else { KafkaOutcome::Ok };
            if empty {
                attempt.error = Some("Metadata listed no broker".into());
            }
            if let Some(m) = attempt.metadata.as_ref().filter(|_| !empty) {
                on_metadata(m);
            }
            topics
        }
        Err(e) => {
            attempt.outcome = KafkaOutcome::MetadataFailed;
            attempt.error = Some(format!("Metadata: {e}"));
            Vec::new()
        }
    }
}

/// The consumer's answers, in order, each written into the attempt's `access` the moment it is
/// decoded: an answer received is evidence on its own, whatever happens to the ones behind it.
async fn read_answers<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut Client<'_, S>,
    questions: Vec<(ApiKey, i16, i32)>,
    attempt: &mut KafkaAttempt,
) {
    for (key, v, correlation) in questions {
        let result = match client.receive(key, v, correlation, MAX_SMALL_FRAME).await {
            Ok(body) => {
                let mut r = Reader::new(&body);
                match key {
                    ApiKey::FindCoordinator => wire::find_coordinator(&mut r, v).map(|c| {
                        let a = answer(c.error_code, v, c.error_message, &[GROUP_AUTHORIZATION_FAILED]);
                        let coordinator = (c.error_code == 0).then(|| BrokerInfo {
                            node_id: c.node_id,
                            host: c.host.chars().take(MAX_NAME).collect(),
                            port: c.port,
                            rack: None,
                        });
                        (a, coordinator)
                    }),
                    _ => wire::describe_configs(&mut r, v).map(|(code, message)| {
                        let refused = [CLUSTER_AUTHORIZATION_FAILED, TOPIC_AUTHORIZATION_FAILED];
                        (answer(code, v, message, &refused), None)
                    }),
                }
                .map_err(|e| format!("undecodable answer: {e}"))
            }
            Err(e) => Err(e.to_string()),
        };
        let failed = result.is_err();
        let Some(access) = attempt.access.as_mut() else { return };
        let slot = match key {
            ApiKey::FindCoordinator => match access.group.as_mut() {
                Some(g) => &mut g.find_coordinator,
                None => continue,
            },
            _ => &mut access.cluster_configs,
        };
        match result {
            Ok((a, coordinator)) => {
                *slot = a;
                if let (Some(c), Some(g)) = (coordinator, access.group.as_mut()) {
                    g.coordinator = Some(c);
                }
            }
            Err(e) => slot.error = Some(e),
        }
        if failed {
            return; // the answers behind it cannot be told apart any more
        }
    }
}

/// A Kafka attempt before anything ran.
fn empty_attempt() -> KafkaAttempt {
    KafkaAttempt {
        outcome: KafkaOutcome::Failed,
        elapsed_ms: 0,
        api_versions_ms: None,
        api_keys: None,
        metadata_version: None,
        sasl_mechanism: None,
        broker_mechanisms: Vec::new(),
        sasl_ms: None,
        skipped: None,
        error_code: None,
        error: None,
        metadata: None,
        credentials_withheld: None,
        step: None,
        no_sasl: false,
        access: None,
        unverified_mechanism: None,
        tls_alert: None,
        iam_signing: None,
    }
}

/// Longest host or rack name kept from a Metadata answer (DNS names are at most 253).
const MAX_NAME: usize = 255;

fn cluster(response: wire::Metadata, elapsed_ms: u64) -> ClusterMetadata {
    let clip = |s: String| if s.len() > MAX_NAME { s.chars().take(MAX_NAME).collect() } else { s };
    let mut brokers: Vec<BrokerInfo> = response
        .brokers
        .into_iter()
        .map(|b| BrokerInfo { node_id: b.node_id, host: clip(b.host), port: b.port, rack: b.rack.map(clip) })
        .collect();
    brokers.sort_by_key(|b| b.node_id);
    // Only what the probe cap probes is kept: a hostile answer listing hundreds of thousands of
    // brokers must not make a report of hundreds of megabytes (it is counted, and `probe-capped`
    // says so).
    let brokers_total = brokers.len();
    brokers.truncate(crate::limits::MAX_BROKERS_KEPT);
    ClusterMetadata {
        cluster_id: response.cluster_id.map(clip),
        controller_id: response.controller_id,
        brokers,
        brokers_total,
        elapsed_ms,
    }
}

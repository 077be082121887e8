//! The client-parity stage: "would a real client succeed with this exact configuration?"
//!
//! Fetches Metadata through librdkafka (what most Kafka clients run on) with the user's own
//! properties, and says where that configuration differs from what kreach's own checks used.
//! Kept out of the core crate so the core builds without C code.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kreach::report::ParityOutcome;
use kreach::report::ParityReport;
use kreach::{CheckConfig, Properties};
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, Producer, ProducerContext};
use rdkafka::util::get_rdkafka_version;

/// The properties forwarded to librdkafka: how to connect and authenticate, nothing else. Keys
/// that load code (`plugin.library.paths`, `ssl.engine.location`, `ssl.providers`), call out to
/// other services (OAUTHBEARER token endpoints) or run commands (`sasl.kerberos.kinit.cmd`)
/// never reach it from a file kreach was handed; they are listed as ignored in the report.
const FORWARDED: &[&str] = &[
    "api.version.request",
    "api.version.request.timeout.ms",
    "broker.address.family",
    "broker.version.fallback",
    "client.dns.lookup",
    "connections.max.idle.ms",
    "enable.ssl.certificate.verification",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.password",
    "sasl.username",
    "security.protocol",
    "socket.connection.setup.timeout.ms",
    "socket.keepalive.enable",
    "socket.timeout.ms",
    "ssl.ca.location",
    "ssl.ca.pem",
    "ssl.certificate.location",
    "ssl.certificate.pem",
    "ssl.cipher.suites",
    "ssl.crl.location",
    "ssl.curves.list",
    "ssl.endpoint.identification.algorithm",
    "ssl.key.location",
    "ssl.key.password",
    "ssl.key.pem",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.sigalgs.list",
];
/// Most log lines kept as evidence.
const MAX_LOG: usize = 10;
/// Most brokers kept from librdkafka's Metadata.
const MAX_BROKERS: usize = 4096;
/// Longest log line kept.
const MAX_LOG_LINE: usize = 1024;

/// Collects librdkafka's warnings and errors instead of printing them.
#[derive(Default)]
struct Collector {
    lines: Arc<Mutex<Vec<String>>>,
}

/// The OAUTHBEARER token librdkafka gets: kreach's (fetched or signed), when it expires
/// (milliseconds since the epoch), and the SASL extensions to send with it. The token is a
/// secret, handed to librdkafka and nowhere else.
type Token = (kreach::Secret, i64, Vec<(String, String)>);

impl Collector {
    fn push(&self, mut line: String) {
        if line.len() > MAX_LOG_LINE {
            line = line.chars().take(MAX_LOG_LINE).collect();
        }
        if let Ok(mut lines) = self.lines.lock() {
            if lines.len() < MAX_LOG && !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
}

impl ClientContext for Collector {
    // The token is set once, with its extensions, right after the client exists ([`set_token`]):
    // rust-rdkafka's refresh hook would set it again without them. A stage lasts seconds, far
    // less than any token's lifetime.
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = false;

    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if (level as i32) <= (RDKafkaLogLevel::Warning as i32) {
            self.push(format!("{fac}: {message}"));
        }
    }
    fn error(&self, error: KafkaError, reason: &str) {
        self.push(format!("{error}: {reason}"));
    }
}

impl ProducerContext for Collector {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}

/// Errors librdkafka reports that no retry cures with the same configuration.
fn terminal_error(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    ["ssl handshake failed", "certificate verify failed", "authentication failed", "sasl authentication error"]
        .iter()
        .any(|p| l.contains(p))
}

/// How often the client's events (errors, logs) are collected while Metadata is pending.
const POLL: Duration = Duration::from_millis(20);

/// Runs the stage within `budget`. `properties` is the user's file, when there is one.
pub async fn check(config: &CheckConfig, properties: Option<&Properties>, budget: Duration) -> ParityReport {
    check_with(config, properties, budget, kreach::ParitySignal::never()).await
}

/// As [`check`], and ends as soon as `signal` says kreach's own checks explain a failure of the
/// bootstrap and librdkafka has reported an error of its own: its retries cannot change the verdict.
pub async fn check_with(
    config: &CheckConfig,
    properties: Option<&Properties>,
    budget: Duration,
    signal: kreach::ParitySignal,
) -> ParityReport {
    let started = Instant::now();
    let source = if properties.is_some() { "properties file" } else { "flags" };
    let mut report = ParityReport::new(get_rdkafka_version().1, source);
    // What the user must change comes first: missing or withheld credentials, then --resolver.
    if let Some(why) = credentials_block(config, properties) {
        report.skipped = Some(why);
        return report;
    }
    if !config.resolvers.is_empty() {
        report.skipped = Some("librdkafka uses the system resolver, not --resolver".into());
        return report;
    }
    // A token kreach fetched or signed, for librdkafka ([`set_token`]); or why the stage cannot run.
    let token = match token_for(config, budget, &signal).await {
        Ok(token) => token,
        Err(why) => {
            report.skipped = Some(why);
            return report;
        }
    };
    let (client_config, ca_location, ignored) = client_settings(config, properties);
    report.ignored_properties = ignored;
    report.differences = differences(config, properties, ca_location.as_deref());
    if config.sasl.as_ref().is_some_and(|s| s.mechanism == "AWS_MSK_IAM") {
        report.differences.push(
            "sasl.mechanism: librdkafka has no AWS_MSK_IAM; it sent the MSK IAM signature as an OAUTHBEARER token \
             (signed by kreach as AWS's MSK IAM signer libraries build it), as librdkafka's clients do"
                .into(),
        );
    }

    let timeout = budget.saturating_sub(Duration::from_millis(100));
    // librdkafka blocks, and its teardown can outlast any timeout given to it (it waits for its
    // broker threads): run it on a thread of its own that nothing waits for past the budget.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let shared = lines.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_thread = stop.clone();
    // The thread's deadline counts from now: creating the client (TLS contexts) is part of it.
    let deadline = Instant::now() + timeout;
    let spawned = std::thread::Builder::new().name("kreach-parity".into()).spawn(move || {
        let collector = Collector { lines: shared };
        let producer: BaseProducer<Collector> = match client_config.create_with_context(collector) {
            Ok(p) => p,
            Err(e) => {
                let _ = tx.send((Err(format!("configuration rejected: {e}")), Vec::new()));
                return;
            }
        };
        if let Some(token) = &token {
            if let Err(why) = set_token(producer.client(), token) {
                let _ = tx.send((Err(format!("librdkafka refused the token: {why}")), Vec::new()));
                return;
            }
        }
        // Error and log events reach the context only when the client is polled: a second thread
        // polls every POLL while the Metadata call blocks, so the stage hears of a refused
        // connection or a failed handshake as it happens. The call gets all the time left: one cut
        // short loses its request (librdkafka drops the answer of a Metadata call that timed out),
        // which cost a healthy run a round trip or more (issue 18). When kreach's own checks settle
        // the verdict the stage answers at once (below) and this thread ends at its deadline,
        // waited for by nothing.
        let fetched = AtomicBool::new(false);
        let metadata = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !fetched.load(Ordering::Relaxed) {
                    producer.poll(POLL);
                }
            });
            let metadata = loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match producer.client().fetch_metadata(None, left) {
                    Ok(m) => break Ok(m),
                    Err(e) if left.is_zero() || stop_thread.load(Ordering::Relaxed) => break Err(e),
                    // An error before the deadline (no broker to ask yet): ask again shortly.
                    Err(e) if deadline.saturating_duration_since(Instant::now()) <= POLL => break Err(e),
                    Err(_) => std::thread::sleep(POLL),
                }
            };
            fetched.store(true, Ordering::Relaxed);
            metadata
        });
        producer.poll(Duration::ZERO);
        let log = producer.context().lines.lock().map(|l| l.clone()).unwrap_or_default();
        let result = metadata
            .map(|m| {
                m.brokers().iter().take(MAX_BROKERS).map(|b| format!("{}:{}", b.host(), b.port())).collect::<Vec<_>>()
            })
            .map_err(|e| e.to_string());
        let _ = tx.send((result, log));
        // `producer` is destroyed here, after the answer went out.
    });
    let settled = settled(signal, &lines, started);
    let result = match spawned {
        Err(e) => Err(format!("cannot start librdkafka's thread: {e}")),
        Ok(_) => {
            let answer = async {
                tokio::select! {
                    answer = rx => Some(answer),
                    why = settled => {
                        stop.store(true, Ordering::Relaxed);
                        report.stopped_early = Some(why);
                        None
                    }
                }
            };
            match tokio::time::timeout(budget, answer).await {
                Ok(Some(Ok(answer))) => Ok(answer),
                Ok(Some(Err(_))) => Err("librdkafka's thread ended without an answer".to_string()),
                Ok(None) => Ok((
                    Err(format!(
                        "stopped early: {}",
                        lines.lock().ok().and_then(|l| l.first().cloned()).unwrap_or_default()
                    )),
                    lines.lock().map(|l| l.clone()).unwrap_or_default(),
                )),
                Err(_) => Ok((
                    Err(format!("librdkafka did not answer within {} ms (left running, detached)", budget.as_millis())),
                    lines.lock().map(|l| l.clone()).unwrap_or_default(),
                )),
            }
        }
    };
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok((Ok(brokers), log)) => {
            report.outcome = ParityOutcome::Ok;
            report.brokers = brokers;
            report.log = log;
        }
        Ok((Err(e), log)) => {
            report.outcome = ParityOutcome::Failed;
            report.error = Some(e);
            report.log = log;
        }
        Err(e) => {
            report.outcome = ParityOutcome::Failed;
            report.error = Some(e);
        }
    }
    report
}

/// The OAUTHBEARER token librdkafka gets ([`set_token`]), when the configuration needs
/// one, with when it expires; `Err` says why the stage cannot run.
///
/// With a token endpoint: librdkafka's own OIDC fetch needs libcurl (not built in), and it is never
/// given the client secret: it gets the token kreach's run fetched, with the configured SASL
/// extensions (Confluent's logicalCluster and identityPoolId). MSK IAM (AWS_MSK_IAM, Java's mechanism name, or OAUTHBEARER
/// with MSK's token): librdkafka's clients send the signature as an OAUTHBEARER token from AWS's
/// signer libraries; the stage hands librdkafka the token kreach signs the same way.
async fn token_for(
    config: &CheckConfig,
    budget: Duration,
    signal: &kreach::ParitySignal,
) -> Result<Option<Token>, String> {
    let Some(sasl) = config.sasl.as_ref() else { return Ok(None) };
    if sasl.signs_for_msk() {
        return msk_token(config, sasl, budget).await.map(|(t, expires)| Some((t, expires, Vec::new())));
    }
    if sasl.mechanism != "OAUTHBEARER" {
        return Ok(None);
    }
    let Some(oauth) = sasl.oauth.as_ref() else {
        return Err("OAUTHBEARER without a token endpoint: kreach has no token to hand librdkafka (see \
                    kafka-auth-not-verified)"
            .into());
    };
    match signal.oauth_token(budget / 2).await {
        Some(t) => {
            let expires = expiry_ms(kreach::probe::oauth::expires_unix(t.expose()));
            Ok(Some((t, expires, oauth.extensions.clone())))
        }
        None => Err(
            "OAUTHBEARER: the run got no token (the oauth section says why); librdkafka is not given the client secret"
                .into(),
        ),
    }
}

/// Hands librdkafka the OAUTHBEARER token with its SASL extensions (`rd_kafka_oauthbearer_set_token`:
/// rust-rdkafka's token hook sets none), right after the client exists, before its broker threads
/// authenticate (one that tried first reconnects with it).
#[allow(unsafe_code)]
fn set_token<C: ClientContext>(client: &rdkafka::client::Client<C>, token: &Token) -> Result<(), String> {
    use std::ffi::{CStr, CString, c_char};
    let (secret, lifetime_ms, extensions) = token;
    let token = CString::new(secret.expose()).map_err(|_| "the token holds a NUL byte".to_string())?;
    let principal = CString::new("kreach").map_err(|e| e.to_string())?;
    let strings: Vec<CString> = extensions
        .iter()
        .flat_map(|(k, v)| [k, v])
        .map(|s| CString::new(s.as_str()))
        .collect::<Result<_, _>>()
        .map_err(|_| "a SASL extension holds a NUL byte".to_string())?;
    let mut pointers: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
    let extension_pointers = if pointers.is_empty() { std::ptr::null_mut() } else { pointers.as_mut_ptr() };
    let mut err: [c_char; 512] = [0; 512];
    // SAFETY: `client` owns a live librdkafka handle for the call; every string is a NUL-terminated
    // CString that outlives the call (librdkafka copies them); `pointers` holds `pointers.len()`
    // valid string pointers, keys and values alternating, as the function takes them; `err` is
    // writable for its whole length, which is passed.
    let code = unsafe {
        rdkafka::bindings::rd_kafka_oauthbearer_set_token(
            client.native_ptr(),
            token.as_ptr(),
            *lifetime_ms,
            principal.as_ptr(),
            extension_pointers,
            pointers.len(),
            err.as_mut_ptr(),
            err.len(),
        )
    };
    if code == rdkafka::types::RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
        return Ok(());
    }
    err[err.len() - 1] = 0;
    // SAFETY: `err` is NUL-terminated (its last byte was just set).
    let why = unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy().into_owned();
    Err(why.chars().take(300).collect())
}

/// When a token expires, in milliseconds since the epoch, as librdkafka wants it: its `exp`
/// (seconds), else five minutes from now (librdkafka asks again before then).
fn expiry_ms(exp: Option<i64>) -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
    exp.and_then(|s| s.checked_mul(1000)).filter(|ms| *ms > now).unwrap_or(now + 300_000)
}

/// The MSK IAM OAUTHBEARER token for the bootstrap's host, signed with the run's signer (inside a
/// third of the budget, at most 3 s), and when it expires; why not, when it cannot be signed.
async fn msk_token(
    config: &CheckConfig,
    sasl: &kreach::input::Sasl,
    budget: Duration,
) -> Result<(kreach::Secret, i64), String> {
    let Some(signer) = sasl.iam.as_ref() else {
        return Err(format!("{}: this build cannot sign MSK IAM (no AWS support)", sasl.mechanism));
    };
    let host = config.bootstrap.first().map(|b| b.host.clone()).unwrap_or_default();
    let wait = (budget / 3).min(Duration::from_secs(3));
    match tokio::time::timeout(wait, signer.0.sign_token(&host)).await {
        Ok(Ok((token, _))) => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            // The presigned URL lives 900 s; librdkafka is told a little less.
            Ok((token, now.as_millis() as i64 + 840_000))
        }
        Ok(Err(signing)) => Err(format!(
            "{}: no MSK IAM token could be signed ({:?}): see aws-iam-credentials-unavailable",
            sasl.mechanism, signing.outcome
        )),
        Err(_) => Err(format!("{}: no MSK IAM token was signed within {} ms", sasl.mechanism, wait.as_millis())),
    }
}

/// When the stage may answer before librdkafka does: once kreach's checks explain the failure,
/// the first error librdkafka logs is enough; when kreach's own path works, an error no retry can
/// cure (TLS verification, authentication) is. The reason, in words.
async fn settled(signal: kreach::ParitySignal, lines: &Mutex<Vec<String>>, started: Instant) -> String {
    let verdict = signal.verdict().await;
    // librdkafka gets CONFIRMATION_BUDGET from its start to say a first word, and a moment
    // (CLIENT_CONFIRMATION) after a verdict that comes later: a client silent for seconds
    // already (SYNs into a drop) has nothing more to add.
    let wait_until =
        (Instant::now() + kreach::limits::CLIENT_CONFIRMATION).max(started + kreach::limits::CONFIRMATION_BUDGET);
    loop {
        let logged: Vec<String> = lines.lock().map(|l| l.clone()).unwrap_or_default();
        match &verdict {
            Some(why) => {
                if let Some(first) = logged.first() {
                    return format!(
                        "kreach's own checks already explain the failure ({why}) and librdkafka reported \
                         `{first}`: its retries could not change the verdict"
                    );
                }
                // A client that stays silent (SYNs into a drop) gets a short confirmation
                // budget, not the deadline: the verdict is already fixed.
                if Instant::now() >= wait_until {
                    return format!(
                        "kreach's own checks already explain the failure ({why}); librdkafka had reported \
                         nothing in {} ms: not waited for",
                        started.elapsed().as_millis()
                    );
                }
            }
            None => {
                if let Some(terminal) = logged.iter().find(|l| terminal_error(l)) {
                    return format!(
                        "kreach's own path works and librdkafka reported `{terminal}`: its retries could not \
                         change the verdict"
                    );
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Why the stage must not run: librdkafka would send the SASL password where kreach's one rule
/// ([`CheckConfig::credentials_withheld`]) withholds it, or over TLS the client's own properties
/// do not verify; or SASL is configured without credentials (librdkafka refuses to start).
fn credentials_block(config: &CheckConfig, properties: Option<&Properties>) -> Option<String> {
    if !config.security_protocol.uses_sasl() {
        return None;
    }
    let in_file = properties.is_some_and(|p| p.get("sasl.username").is_some() && p.get("sasl.password").is_some());
    if !config.has_credentials() && !in_file {
        return Some("no SASL credentials (sasl.username and sasl.password): see kafka-no-credentials".into());
    }
    if let Some(why) = config.credentials_withheld() {
        return Some(format!("credentials withheld ({why}): librdkafka would send them"));
    }
    if config.allow_insecure_credentials {
        return None;
    }
    let prop = |key: &str| properties.and_then(|p| p.get(key)).map(str::trim);
    if prop("enable.ssl.certificate.verification").is_some_and(|v| v.eq_ignore_ascii_case("false")) {
        return Some(
            "credentials withheld: the client's enable.ssl.certificate.verification=false would send them to an \
             unverified peer (--allow-insecure-credentials to send them anyway)"
                .into(),
        );
    }
    if prop("ssl.endpoint.identification.algorithm").is_some_and(|v| v.is_empty() || v.eq_ignore_ascii_case("none")) {
        return Some(
            "credentials withheld: the client's ssl.endpoint.identification.algorithm turns host name checks off \
             (--allow-insecure-credentials to send them anyway)"
                .into(),
        );
    }
    None
}

/// The librdkafka configuration: the user's properties as they are, with the bootstrap,
/// security protocol and credentials kreach resolved (flags and environment win, as in kreach).
/// Returns it, the `ssl.ca.location` in force, and the properties left out.
fn client_settings(
    config: &CheckConfig,
    properties: Option<&Properties>,
) -> (ClientConfig, Option<String>, Vec<String>) {
    let mut cc = ClientConfig::new();
    let mut ignored = Vec::new();
    let mut ca_location = None;
    if let Some(props) = properties {
        for key in props.keys() {
            let Some(value) = props.get(key) else { continue };
            if !FORWARDED.contains(&key) {
                ignored.push(key.to_string());
                continue;
            }
            if key == "ssl.ca.location" {
                ca_location = Some(value.to_string());
            }
            cc.set(key, value);
        }
    } else if let Some(ca) = &config.ca_file {
        // No file: the flags are the configuration (a CA held in memory goes as ssl.ca.pem).
        ca_location = Some(ca.source.clone());
        match (&ca.path, &ca.pem) {
            (Some(path), _) => cc.set("ssl.ca.location", path.display().to_string()),
            (None, Some(pem)) => cc.set("ssl.ca.pem", pem.as_str()),
            (None, None) => &mut cc,
        };
    }
    let bootstrap: Vec<String> = config.bootstrap.iter().map(ToString::to_string).collect();
    cc.set("bootstrap.servers", bootstrap.join(","));
    cc.set("security.protocol", config.security_protocol.as_str());
    if let Some(sasl) = &config.sasl {
        // MSK IAM goes as OAUTHBEARER with kreach's signed token (librdkafka has no AWS_MSK_IAM).
        cc.set("sasl.mechanism", if sasl.signs_for_msk() { "OAUTHBEARER" } else { sasl.mechanism.as_str() });
        cc.remove("sasl.mechanisms");
        if let Some(u) = &sasl.username {
            cc.set("sasl.username", u.as_str());
        }
        if let Some(p) = &sasl.password {
            cc.set("sasl.password", p.expose());
        }
    } else if !config.security_protocol.uses_sasl() {
        // No SASL in this run: no credential reaches librdkafka, whatever the file holds.
        cc.remove("sasl.username");
        cc.remove("sasl.password");
    }
    cc.set("client.id", "kreach-parity");
    cc.set_log_level(RDKafkaLogLevel::Warning);
    // librdkafka rejects keys it does not know; leave those out and say so.
    for _ in 0..16 {
        match cc.create_native_config() {
            Err(KafkaError::ClientConfig(_, _, key, _)) if cc.get(&key).is_some() => {
                cc.remove(&key);
                ignored.push(key);
            }
            _ => break,
        }
    }
    (cc, ca_location, ignored)
}

/// Where the client's configuration differs from what kreach's own checks used.
fn differences(config: &CheckConfig, properties: Option<&Properties>, ca_location: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(props) = properties else { return out };
    match (&config.ca_file, ca_location) {
        (Some(kreach_ca), None) => out.push(match &kreach_ca.path {
            Some(path) => format!(
                "the client has no ssl.ca.location, while kreach trusted {} (--ca-file): set ssl.ca.location={}",
                path.display(),
                path.display()
            ),
            None => format!(
                "the client has no ssl.ca.location, while kreach trusted {}: give the client that CA (ssl.ca.pem or \
                 ssl.ca.location)",
                kreach_ca.source
            ),
        }),
        (Some(kreach_ca), Some(client_ca)) if kreach_ca.source != client_ca => {
            out.push(format!("the client's ssl.ca.location is {client_ca}, kreach trusted {}", kreach_ca.source))
        }
        _ => {}
    }
    if let Some(p) = props.get("security.protocol") {
        if !p.eq_ignore_ascii_case(config.security_protocol.as_str()) {
            out.push(format!(
                "the file says security.protocol={p}, kreach used {} (--security-protocol)",
                config.security_protocol.as_str()
            ));
        }
    }
    if props.get("enable.ssl.certificate.verification").is_some_and(|v| v.eq_ignore_ascii_case("false")) {
        out.push("the client turns certificate verification off (enable.ssl.certificate.verification=false)".into());
    }
    if let Some(v) = props.get("ssl.endpoint.identification.algorithm").filter(|v| v.is_empty() || *v == "none") {
        out.push(format!("the client skips host name verification (ssl.endpoint.identification.algorithm={v:?})"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connection_and_security_properties_reach_librdkafka() {
        let props = Properties::parse(
            "bootstrap.servers=b1.example.com:9092\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n\
             sasl.username=k\nsasl.password=s\nssl.ca.location=/etc/ssl/certs/ca.pem\n\
             plugin.library.paths=/tmp/evil.so\nssl.engine.location=/tmp/engine.so\nssl.providers=legacy\n\
             sasl.kerberos.kinit.cmd=touch /tmp/pwned\nsasl.jaas.config=x required;\nschema.registry.url=https://sr\n",
        )
        .expect("properties");
        let config =
            kreach::CheckConfig::for_bootstrap(kreach::HostPort::parse("b1.example.com:9092", 9092).expect("hp"));
        let (cc, ca, ignored) = client_settings(&config, Some(&props));
        for key in [
            "plugin.library.paths",
            "ssl.engine.location",
            "ssl.providers",
            "sasl.kerberos.kinit.cmd",
            "sasl.jaas.config",
            "schema.registry.url",
        ] {
            assert!(cc.get(key).is_none(), "{key} must not reach librdkafka");
            assert!(ignored.iter().any(|i| i == key), "{key} is listed as ignored: {ignored:?}");
        }
        assert_eq!(cc.get("ssl.ca.location"), Some("/etc/ssl/certs/ca.pem"));
        assert_eq!(ca.as_deref(), Some("/etc/ssl/certs/ca.pem"));
        assert_eq!(cc.get("sasl.username"), Some("k"));
    }
}

#[cfg(test)]
mod deadline {
    use super::*;

    /// A peer that accepts and never speaks: the stage still answers within its budget, whatever
    /// librdkafka's own teardown does afterwards.
    #[tokio::test]
    async fn a_silent_peer_cannot_hold_the_stage_past_its_budget() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept() {
                held.push(s);
            }
        });
        let config = kreach::CheckConfig::for_bootstrap(kreach::HostPort::parse(&addr.to_string(), 9092).expect("hp"))
            .with_security_protocol(kreach::SecurityProtocol::Plaintext);
        let budget = Duration::from_millis(800);
        let started = Instant::now();
        let report = check(&config, None, budget).await;
        assert!(started.elapsed() <= budget + Duration::from_millis(400), "took {:?}", started.elapsed());
        assert_eq!(report.outcome, ParityOutcome::Failed, "{report:?}");
    }
}

/// The version of the librdkafka linked in (`2.x.y`).
pub fn librdkafka_version() -> String {
    get_rdkafka_version().1
}

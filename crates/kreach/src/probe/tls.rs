//! TLS stage: handshake with SNI, certificate verification, and what the peer presented.
//!
//! The verifier is wrapped so the peer's chain is kept even when verification fails: the report
//! shows *which* certificate was wrong, not only that one was.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::Error;
use crate::report::{CertValidity, ChainCertificate, ClientCertUse, PeerCertificate, TlsAttempt, TlsOutcome};

/// A TLS session over a TCP stream, as the later stages use it.
pub type TlsSession = TlsStream<Sniff<TcpStream>>;

/// Trust anchors and policy shared by every handshake of a run.
#[derive(Clone, Debug)]
pub struct TlsContext {
    provider: Arc<CryptoProvider>,
    verifier: Option<Arc<WebPkiServerVerifier>>,
    /// The trusted CAs' subjects, as x509-parser prints a DN (to tell which issuer is trusted).
    anchors: Arc<std::collections::HashSet<String>>,
    /// The client's own certificate for mutual TLS, when configured.
    client: Option<Arc<rustls::sign::CertifiedKey>>,
}

impl TlsContext {
    /// Builds the trust store: the platform store, the Mozilla roots, and `extra` certificates.
    /// With `insecure`, nothing is verified.
    pub fn new(extra: &[CertificateDer<'static>], insecure: bool) -> Result<Self, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        // The platform store may be missing or partly unreadable; the Mozilla roots still apply.
        let native = rustls_native_certs::load_native_certs();
        let _ = roots.add_parsable_certificates(native.certs);
        for cert in extra {
            roots
                .add(cert.clone())
                .map_err(|e| Error::invalid("--ca-file", format!("a certificate is not a usable CA: {e}")))?;
        }
        let anchors = Arc::new(roots.roots.iter().filter_map(|a| dn_text(a.subject.as_ref())).collect());
        let verifier = if insecure {
            None
        } else {
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| Error::Setup(format!("TLS verifier: {e}")))?,
            )
        };
        Ok(TlsContext { provider, verifier, anchors, client: None })
    }

    /// The trust store and policy a configuration asks for (`--ca-file`, `--insecure`).
    pub fn for_config(config: &crate::input::config::CheckConfig) -> Result<Self, Error> {
        let extra = config.ca_file.as_ref().map(|c| c.certs.as_slice()).unwrap_or(&[]);
        let mut ctx = TlsContext::new(extra, config.insecure)?;
        ctx.client = config.client_cert.as_ref().map(|c| c.certified.clone());
        Ok(ctx)
    }

    /// Whether certificates are verified.
    pub fn verifies(&self) -> bool {
        self.verifier.is_some()
    }
}

/// Runs a TLS handshake over `stream` with SNI `host`, within `budget`.
pub async fn handshake(
    ctx: &TlsContext,
    stream: TcpStream,
    host: &str,
    alpn: &[&[u8]],
    budget: Duration,
) -> (TlsAttempt, Option<TlsSession>) {
    let started = Instant::now();
    let mut attempt = TlsAttempt { outcome: TlsOutcome::Failed, ..stalled(host, Duration::ZERO) };
    let server_name = match ServerName::try_from(host.to_string()) {
        Ok(name) => name,
        Err(e) => {
            attempt.error = Some(format!("`{host}` cannot be a TLS server name: {e}"));
            return (attempt, None);
        }
    };
    let recorder = Arc::new(Recorder {
        inner: ctx.verifier.clone(),
        algorithms: ctx.provider.signature_verification_algorithms,
        chain: Mutex::new(Vec::new()),
    });
    let client_cert = Arc::new(ClientCertRecorder { key: ctx.client.clone(), asked: AtomicBool::new(false) });
    let config = match ClientConfig::builder_with_provider(ctx.provider.clone()).with_safe_default_protocol_versions() {
        Ok(builder) => {
            let mut config = builder
                .dangerous()
                .with_custom_certificate_verifier(recorder.clone())
                .with_client_cert_resolver(client_cert.clone());
            config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            config
        }
        Err(e) => {
            attempt.error = Some(format!("TLS configuration: {e}"));
            return (attempt, None);
        }
    };
    let sniff_state = Arc::new(SniffState::default());
    let io = Sniff { inner: stream, state: sniff_state.clone() };
    let result = tokio::time::timeout(budget, TlsConnector::from(Arc::new(config)).connect(server_name, io)).await;
    attempt.elapsed_ms = started.elapsed().as_millis() as u64;

    let chain = recorder.chain.lock().map(|c| c.clone()).unwrap_or_default();
    attempt.peer_certificate = chain.first().and_then(|leaf| describe(leaf, host, chain.len()));
    attempt.chain = chain.iter().take(crate::limits::MAX_CHAIN_CERTIFICATES).map(|c| read_one(c)).collect();
    if ctx.verifier.is_some() {
        attempt.anchored =
            attempt.chain.last().map(|top| ctx.anchors.contains(&top.issuer) || ctx.anchors.contains(&top.subject));
    }

    let asked = client_cert.asked.load(Ordering::Relaxed);
    attempt.client_certificate = match (asked, ctx.client.is_some()) {
        (true, true) => Some(ClientCertUse::Sent),
        (true, false) => Some(ClientCertUse::NoneConfigured),
        (false, _) if matches!(result, Ok(Ok(_))) => Some(ClientCertUse::NotAsked),
        _ => None,
    };
    match result {
        Err(_) => {
            attempt.outcome = if sniff_state.looks_like_plaintext() { TlsOutcome::NotTls } else { TlsOutcome::Timeout };
            attempt.error =
                Some(format!("no TLS handshake within {} ms{}", budget.as_millis(), sniff_state.evidence()));
            (attempt, None)
        }
        Ok(Err(e)) => {
            attempt.outcome = classify(&e, &sniff_state);
            attempt.alert = crate::report::TlsAlert::of_io(&e);
            attempt.error = Some(format!("{e}{}", sniff_state.evidence()));
            (attempt, None)
        }
        Ok(Ok(session)) => {
            let (_, conn) = session.get_ref();
            attempt.outcome = TlsOutcome::Ok;
            attempt.protocol_version = conn.protocol_version().map(|v| format!("{v:?}"));
            attempt.cipher_suite = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite()));
            attempt.alpn = conn.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned());
            (attempt, Some(session))
        }
    }
}

/// A handshake given up on before it ended: the server's flight did not come (the path-MTU retry
/// showed why).
pub fn stalled(host: &str, elapsed: Duration) -> TlsAttempt {
    TlsAttempt {
        outcome: TlsOutcome::Timeout,
        elapsed_ms: elapsed.as_millis() as u64,
        sni: host.to_string(),
        protocol_version: None,
        cipher_suite: None,
        alpn: None,
        peer_certificate: None,
        error: None,
        path_mtu: None,
        chain: Vec::new(),
        anchored: None,
        client_certificate: None,
        alert: None,
    }
}

fn classify(e: &io::Error, sniff: &SniffState) -> TlsOutcome {
    if sniff.looks_like_plaintext() {
        return TlsOutcome::NotTls;
    }
    if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return match tls {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    TlsOutcome::NameMismatch
                }
                CertificateError::UnknownIssuer => TlsOutcome::UnknownIssuer,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => TlsOutcome::Expired,
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => TlsOutcome::NotYetValid,
                _ => TlsOutcome::Failed,
            },
            // A TLS peer that sends more than a client accepts (a huge certificate chain) is TLS.
            rustls::Error::InvalidMessage(
                rustls::InvalidMessage::HandshakePayloadTooLarge
                | rustls::InvalidMessage::MessageTooLarge
                | rustls::InvalidMessage::CertificatePayloadTooLarge,
            ) => TlsOutcome::Failed,
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } if sniff.total() > 0 => {
                TlsOutcome::NotTls
            }
            _ => TlsOutcome::Failed,
        };
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            if sniff.total() == 0 =>
        {
            TlsOutcome::Closed
        }
        _ => TlsOutcome::Failed,
    }
}

/// Reads the leaf certificate into the report's terms.
fn describe(leaf: &CertificateDer<'_>, host: &str, chain_length: usize) -> Option<PeerCertificate> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(leaf.as_ref()).ok()?;
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => sans.push(d.to_string()),
                GeneralName::IPAddress(bytes) => match bytes.len() {
                    4 => sans.push(std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string()),
                    16 => {
                        let mut octets = [0u8; 16];
                        octets.copy_from_slice(bytes);
                        sans.push(std::net::Ipv6Addr::from(octets).to_string());
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let validity = cert.validity();
    let not_after = validity.not_after.to_datetime();
    let now = ::time::OffsetDateTime::now_utc();
    let rfc3339 =
        |t: ::time::OffsetDateTime| t.format(&::time::format_description::well_known::Rfc3339).unwrap_or_default();
    Some(PeerCertificate {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        name_covered: sans.iter().any(|san| name_matches(san, host)),
        sans,
        not_before: rfc3339(validity.not_before.to_datetime()),
        not_after: rfc3339(not_after),
        days_to_expiry: (not_after - now).whole_days(),
        chain_length,
    })
}

/// A trust anchor's subject (the DN's contents, without its SEQUENCE header) as x509-parser
/// prints a DN, so it compares with the issuers the chain names.
fn dn_text(contents: &[u8]) -> Option<String> {
    let mut der = vec![0x30];
    let len = contents.len();
    if len < 0x80 {
        der.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        der.push(0x80 | bytes.len() as u8);
        der.extend(bytes);
    }
    der.extend_from_slice(contents);
    use x509_parser::prelude::FromDer;
    let (_, name) = x509_parser::x509::X509Name::from_der(&der).ok()?;
    Some(name.to_string())
}

/// One certificate of the chain read on its own: validity now, CA constraints, key usage.
fn read_one(der: &CertificateDer<'_>) -> ChainCertificate {
    use x509_parser::prelude::*;
    let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
        return ChainCertificate { unreadable: true, ..ChainCertificate::default() };
    };
    let validity = cert.validity();
    let now = ::time::OffsetDateTime::now_utc();
    let rfc3339 =
        |t: ::time::OffsetDateTime| t.format(&::time::format_description::well_known::Rfc3339).unwrap_or_default();
    let (start, end) = (validity.not_before.to_datetime(), validity.not_after.to_datetime());
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    ChainCertificate {
        self_issued: subject == issuer,
        subject,
        issuer,
        not_before: rfc3339(start),
        not_after: rfc3339(end),
        validity: if now > end {
            CertValidity::Expired
        } else if now < start {
            CertValidity::NotYetValid
        } else {
            CertValidity::Current
        },
        ca_issuers: ca_issuers(&cert),
        ca: cert.basic_constraints().ok().flatten().map(|b| b.value.ca),
        cert_sign: cert.key_usage().ok().flatten().map(|k| k.value.key_cert_sign()),
        unreadable: false,
    }
}

/// The caIssuers URIs of a certificate's Authority Information Access (at most 4, each cut).
fn ca_issuers(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    let ca_issuers = x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS;
    cert.extensions()
        .iter()
        .filter_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => Some(aia),
            _ => None,
        })
        .flat_map(|aia| aia.accessdescs.iter())
        .filter(|d| d.access_method == ca_issuers)
        .filter_map(|d| match d.access_location {
            GeneralName::URI(uri) => Some(crate::text::truncate(&crate::text::clean(uri), 256)),
            _ => None,
        })
        .take(4)
        .collect()
}

/// Whether a certificate name (possibly `*.` wildcard) covers `host`, RFC 6125 style: the
/// wildcard stands for exactly one whole left-most label.
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => match host.split_once('.') {
            Some((first, rest)) => !first.is_empty() && rest == suffix && suffix.contains('.'),
            None => false,
        },
        None => pattern == host,
    }
}

/// Presents the client certificate when there is one, and remembers whether the server asked.
#[derive(Debug)]
struct ClientCertRecorder {
    key: Option<Arc<rustls::sign::CertifiedKey>>,
    asked: AtomicBool,
}

impl rustls::client::ResolvesClientCert for ClientCertRecorder {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

#[derive(Debug)]
struct Recorder {
    inner: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            chain.push(end_entity.clone().into_owned());
            chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        }
        match &self.inner {
            Some(verifier) => verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now),
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Remembers the first bytes the peer sent, to tell "not TLS" from other failures.
#[derive(Default, Debug)]
struct SniffState {
    total: AtomicUsize,
    first: Mutex<Vec<u8>>,
}

const SNIFF_BYTES: usize = 16;

impl SniffState {
    fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    fn first_bytes(&self) -> Vec<u8> {
        self.first.lock().map(|f| f.clone()).unwrap_or_default()
    }

    /// A TLS record starts with a content type 20..=24 and major version 3.
    fn looks_like_plaintext(&self) -> bool {
        let first = self.first_bytes();
        match first.as_slice() {
            [] => false,
            [t] => !(20..=24).contains(t),
            [t, major, ..] => !(20..=24).contains(t) || *major != 3,
        }
    }

    fn evidence(&self) -> String {
        let first = self.first_bytes();
        if first.is_empty() || !self.looks_like_plaintext() {
            return String::new();
        }
        let printable: String =
            first.iter().map(|b| if b.is_ascii_graphic() || *b == b' ' { *b as char } else { '.' }).collect();
        format!(" (peer sent {:?} instead of a TLS record)", printable)
    }
}

/// A stream wrapper that records what the peer sends first.
#[derive(Debug)]
pub struct Sniff<S> {
    inner: S,
    state: Arc<SniffState>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Sniff<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &result {
            let fresh = &buf.filled()[before..];
            if !fresh.is_empty() {
                let seen = this.state.total.fetch_add(fresh.len(), Ordering::Relaxed);
                if seen < SNIFF_BYTES {
                    if let Ok(mut first) = this.state.first.lock() {
                        let take = (SNIFF_BYTES - seen).min(fresh.len());
                        first.extend_from_slice(&fresh[..take]);
                    }
                }
            }
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Sniff<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::name_matches;

    #[test]
    fn wildcard_matching_follows_rfc6125() {
        assert!(name_matches("*.us-west-2.aws.confluent.cloud", "pkc-abc.us-west-2.aws.confluent.cloud"));
        assert!(name_matches("PKC-ABC.example.com.", "pkc-abc.example.com"));
        assert!(!name_matches("*.us-west-2.aws.confluent.cloud", "a.b.us-west-2.aws.confluent.cloud"));
        assert!(!name_matches("*.us-west-2.aws.confluent.cloud", "us-west-2.aws.confluent.cloud"));
        assert!(!name_matches("*.com", "example.com"));
        assert!(!name_matches("other.example", "pkc.example"));
    }
}

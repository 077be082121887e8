//! What a TLS handshake showed: its outcome, the certificate chain the server sent (each read on
//! its own), the client certificate's fate, the alert that ended it, and the path-MTU retry.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::tcp::TcpOutcome;

/// A TLS handshake attempt.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TlsAttempt {
    /// How it ended.
    pub outcome: TlsOutcome,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
    /// The SNI sent.
    pub sni: String,
    /// Negotiated protocol version, e.g. `TLSv1_3`.
    pub protocol_version: Option<String>,
    /// Negotiated cipher suite.
    pub cipher_suite: Option<String>,
    /// Negotiated ALPN protocol.
    pub alpn: Option<String>,
    /// The certificate the peer presented, when it presented one.
    pub peer_certificate: Option<PeerCertificate>,
    /// Error text, when it failed.
    pub error: Option<String>,
    /// The path-MTU retry, when the handshake stalled after the connect: the same address tried
    /// with a small TCP maximum segment size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_mtu: Option<PathMtuProbe>,
    /// Every certificate the server sent, leaf first (up to a cap), each read on its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<ChainCertificate>,
    /// Whether the last certificate sent is, or was issued by, a CA this machine trusts (the
    /// trust store plus `--ca-file`); `None` when nothing was verified or nothing was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchored: Option<bool>,
    /// What became of the client certificate (mutual TLS), when the handshake got that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<ClientCertUse>,
    /// The alert the server sent to end the handshake, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<TlsAlert>,
}

/// Whether the server asked for a client certificate, and what it got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientCertUse {
    /// The server asked for none.
    NotAsked,
    /// The server asked and the configured certificate was sent.
    Sent,
    /// The server asked and none is configured.
    NoneConfigured,
}

/// A TLS alert a server sent, by the ones a diagnosis tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TlsAlert {
    /// 116: a client certificate is required and none came (TLS 1.3).
    CertificateRequired,
    /// 42: the client certificate is bad.
    BadCertificate,
    /// 48: the client certificate's issuer is not one the server trusts.
    UnknownCa,
    /// 45: the client certificate has expired.
    CertificateExpired,
    /// 44: the client certificate was revoked.
    CertificateRevoked,
    /// 46: the client certificate was not accepted for another reason.
    CertificateUnknown,
    /// 49: access denied (a valid certificate the server refuses).
    AccessDenied,
    /// 40: no common parameters (and, in TLS 1.2, often a missing client certificate).
    HandshakeFailure,
    /// Any other alert.
    Other,
}

impl TlsAlert {
    /// From the TLS stack's alert.
    pub fn from_rustls(d: rustls::AlertDescription) -> TlsAlert {
        use rustls::AlertDescription as A;
        match d {
            A::CertificateRequired => TlsAlert::CertificateRequired,
            A::BadCertificate => TlsAlert::BadCertificate,
            A::UnknownCA => TlsAlert::UnknownCa,
            A::CertificateExpired => TlsAlert::CertificateExpired,
            A::CertificateRevoked => TlsAlert::CertificateRevoked,
            A::CertificateUnknown => TlsAlert::CertificateUnknown,
            A::AccessDenied => TlsAlert::AccessDenied,
            A::HandshakeFailure => TlsAlert::HandshakeFailure,
            _ => TlsAlert::Other,
        }
    }

    /// The alert an `io::Error` of a TLS stream carries, if any.
    pub fn of_io(e: &std::io::Error) -> Option<TlsAlert> {
        match e.get_ref()?.downcast_ref::<rustls::Error>()? {
            rustls::Error::AlertReceived(d) => Some(TlsAlert::from_rustls(*d)),
            _ => None,
        }
    }

    /// Whether the alert is one a server sends about the client's certificate.
    pub fn about_client_certificate(self) -> bool {
        !matches!(self, TlsAlert::Other | TlsAlert::HandshakeFailure)
    }
}

/// One certificate of the chain a server sent, as read on its own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ChainCertificate {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Where now falls in its validity window.
    pub validity: CertValidity,
    /// Whether its basic constraints make it a CA (`None`: no basic constraints extension).
    pub ca: Option<bool>,
    /// Whether its key usage allows signing certificates (`None`: no key usage extension).
    pub cert_sign: Option<bool>,
    /// Whether it names itself as its issuer (a root).
    pub self_issued: bool,
    /// Where its issuer's certificate is published (Authority Information Access, caIssuers):
    /// public CAs' certificates name their intermediate there; a private CA's leaf rarely does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_issuers: Vec<String>,
    /// The bytes could not be read as a certificate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
}

/// Where now falls in a certificate's validity window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CertValidity {
    /// Current.
    #[default]
    Current,
    /// Past its end.
    Expired,
    /// Before its start.
    NotYetValid,
}

/// A stalled handshake retried with the TCP maximum segment size clamped (`TCP_MAXSEG` before the
/// connect, so the SYN advertises it and the peer sends no larger segment). A handshake that
/// completes clamped and stalls unclamped has met a path that drops large packets without
/// sending ICMP "fragmentation needed": a path-MTU black hole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct PathMtuProbe {
    /// The segment size the stalled connection used (the kernel's, from the route's MTU).
    pub default_mss: Option<u32>,
    /// Each clamped attempt, largest first; the retry stops at the first that gets past the
    /// server's certificate flight.
    pub tried: Vec<MssAttempt>,
    /// A second unclamped connection tried beside them: the black hole is only the finding when
    /// it stalls too (a peer that stalls one connection and answers the next is something else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<MssAttempt>,
    /// The largest clamped size whose handshake got the server's certificate flight while the
    /// unclamped control did not.
    pub passed_mss: Option<u32>,
}

/// One clamped attempt of the path-MTU retry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct MssAttempt {
    /// The maximum segment size asked for.
    pub mss: u32,
    /// How its connect ended.
    pub tcp: TcpOutcome,
    /// How its handshake ended, when it connected.
    pub tls: Option<TlsOutcome>,
    /// Whether the server's certificate flight (the handshake's large packets) arrived.
    pub got_certificate: bool,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
}

/// How a TLS handshake ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TlsOutcome {
    /// Handshake done and (unless disabled) certificate verified.
    Ok,
    /// Certificate does not cover the name.
    NameMismatch,
    /// Chain does not lead to a trusted CA.
    UnknownIssuer,
    /// Certificate expired.
    Expired,
    /// Certificate not valid yet.
    NotYetValid,
    /// The peer does not speak TLS.
    NotTls,
    /// Peer closed the connection without answering.
    Closed,
    /// No handshake before the step's timeout.
    Timeout,
    /// Any other failure (alert, bad certificate, protocol error).
    Failed,
}

/// What the peer's leaf certificate says.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct PeerCertificate {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// DNS and IP subject alternative names.
    pub sans: Vec<String>,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whole days until expiry (negative once expired).
    pub days_to_expiry: i64,
    /// Whether a SAN covers the dialled host name.
    pub name_covered: bool,
    /// Number of certificates the peer sent.
    pub chain_length: usize,
}

impl TlsOutcome {
    /// The outcome in a word or two, as the matrix and findings say it.
    pub fn word(self) -> &'static str {
        match self {
            TlsOutcome::Ok => "ok",
            TlsOutcome::NameMismatch => "name mismatch",
            TlsOutcome::UnknownIssuer => "unknown issuer",
            TlsOutcome::Expired => "expired",
            TlsOutcome::NotYetValid => "not yet valid",
            TlsOutcome::NotTls => "not TLS",
            TlsOutcome::Closed => "closed",
            TlsOutcome::Timeout => "timeout",
            TlsOutcome::Failed => "failed",
        }
    }
}

impl TlsOutcome {
    /// A stable word for the outcome: its JSON spelling.
    pub fn as_label(self) -> &'static str {
        match self {
            TlsOutcome::Ok => "ok",
            TlsOutcome::NameMismatch => "name_mismatch",
            TlsOutcome::UnknownIssuer => "unknown_issuer",
            TlsOutcome::Expired => "expired",
            TlsOutcome::NotYetValid => "not_yet_valid",
            TlsOutcome::NotTls => "not_tls",
            TlsOutcome::Closed => "closed",
            TlsOutcome::Timeout => "timeout",
            TlsOutcome::Failed => "failed",
        }
    }
}

//! The client's own certificate for mutual TLS, as librdkafka configures it: `ssl.certificate.location`
//! and `ssl.key.location` (PEM files), or `ssl.certificate.pem` and `ssl.key.pem` (PEM text). The
//! key is a secret: read into memory, presented in handshakes, never printed.

use std::fmt;
use std::sync::Arc;

use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::Error;
use crate::limits::MAX_CA_BYTES;
use crate::report::ClientCertSecretProblem;

/// A client certificate and its key, checked to belong together.
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientCert {
    /// The certificate chain and key, as the TLS stack presents them.
    pub certified: Arc<CertifiedKey>,
    /// The leaf's subject.
    pub subject: String,
    /// The leaf's issuer.
    pub issuer: String,
    /// The end of the leaf's validity, RFC 3339.
    pub not_after: String,
    /// Whole days until it expires (negative once expired).
    pub days_to_expiry: i64,
}

impl fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCert").field("subject", &self.subject).field("not_after", &self.not_after).finish()
    }
}

/// The client certificate the properties configure, `None` when they configure none. A bad file,
/// an encrypted or missing key, or a key that is not the certificate's is an error naming the
/// property.
pub(crate) fn client_cert(prop: &dyn Fn(&str) -> Option<String>) -> Result<Option<ClientCert>, Error> {
    let nonempty = |k: &str| prop(k).filter(|v| !v.trim().is_empty());
    let cert_source = match (nonempty("ssl.certificate.location"), nonempty("ssl.certificate.pem")) {
        (Some(path), _) => Some(("ssl.certificate.location", read(&path, "ssl.certificate.location")?)),
        (None, Some(pem)) => Some(("ssl.certificate.pem", pem.into_bytes())),
        (None, None) => None,
    };
    let key_source = match (nonempty("ssl.key.location"), nonempty("ssl.key.pem")) {
        (Some(path), _) => Some(("ssl.key.location", read(&path, "ssl.key.location")?)),
        (None, Some(pem)) => Some(("ssl.key.pem", pem.into_bytes())),
        (None, None) => None,
    };
    let ((cert_field, cert_pem), (key_field, key_pem)) = match (cert_source, key_source) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(Error::invalid("ssl.key.location", "a client certificate needs its private key"));
        }
        (None, Some(_)) => {
            return Err(Error::invalid("ssl.certificate.location", "a private key needs its client certificate"));
        }
        (Some(c), Some(k)) => (c, k),
    };
    let why = |e: PemProblem| match e {
        PemProblem::NoCertificate(detail) => Error::invalid(cert_field, detail),
        PemProblem::Unreadable => Error::invalid(cert_field, "the certificate cannot be read"),
        PemProblem::Encrypted => Error::invalid(
            key_field,
            "the private key is encrypted (ssl.key.password): kreach reads unencrypted PKCS#8, PKCS#1 or SEC1 \
             keys only; give it a decrypted copy it keeps in memory (e.g. from a secret)",
        ),
        PemProblem::NoKey => Error::invalid(key_field, "holds no PEM private key (PKCS#8, PKCS#1 or SEC1)"),
        PemProblem::Mismatch => {
            Error::invalid(key_field, format!("the private key is not the key of the certificate in {cert_field}"))
        }
        PemProblem::CannotSign(e) => Error::invalid(key_field, format!("the private key cannot sign: {e}")),
    };
    from_pem(&cert_pem, &key_pem).map(Some).map_err(why)
}

/// What keeps a certificate and key in PEM from being presented.
enum PemProblem {
    NoCertificate(String),
    Unreadable,
    Encrypted,
    NoKey,
    Mismatch,
    CannotSign(String),
}

/// A certificate chain and its unencrypted key, checked to belong together.
fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<ClientCert, PemProblem> {
    let chain: Result<Vec<CertificateDer<'static>>, _> = CertificateDer::pem_slice_iter(cert_pem).collect();
    let chain = chain.map_err(|e| PemProblem::NoCertificate(format!("not PEM certificates: {e}")))?;
    if chain.is_empty() {
        return Err(PemProblem::NoCertificate("holds no PEM certificate".into()));
    }
    if String::from_utf8_lossy(key_pem).contains("ENCRYPTED PRIVATE KEY") {
        return Err(PemProblem::Encrypted);
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| PemProblem::NoKey)?;
    let provider = rustls::crypto::ring::default_provider();
    let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => PemProblem::Mismatch,
        other => PemProblem::CannotSign(other.to_string()),
    })?;
    let (subject, issuer, not_after, days_to_expiry) = describe(&certified.cert[0]).ok_or(PemProblem::Unreadable)?;
    Ok(ClientCert { certified: Arc::new(certified), subject, issuer, not_after, days_to_expiry })
}

/// The client certificate in an event source mapping's `CLIENT_CERTIFICATE_TLS_AUTH` secret, read as
/// Lambda reads it: a JSON object with `certificate` (the PEM chain, client certificate first) and
/// `privateKey` (PKCS #8 PEM; `privateKeyPassword` when it is encrypted). The problem, in words
/// that name keys and never quote a value, when it cannot be presented.
pub fn from_lambda_secret(text: &str) -> Result<ClientCert, (ClientCertSecretProblem, String)> {
    use ClientCertSecretProblem as P;
    const SHAPE: &str = "expected {\"certificate\": \"-----BEGIN CERTIFICATE-----…\", \"privateKey\": \"-----BEGIN \
                         PRIVATE KEY-----…\"}";
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| (P::WrongShape, format!("the secret's value is not JSON ({SHAPE})")))?;
    let object = value
        .as_object()
        .ok_or_else(|| (P::WrongShape, format!("the secret's value is not a JSON object ({SHAPE})")))?;
    let field = |k: &str| object.get(k).and_then(|v| v.as_str()).filter(|v| !v.trim().is_empty());
    let (Some(cert), Some(key)) = (field("certificate"), field("privateKey")) else {
        let mut keys: Vec<&str> = object.keys().map(String::as_str).take(crate::limits::MAX_LIST).collect();
        keys.sort_unstable();
        let found =
            if keys.is_empty() { "none".to_string() } else { crate::text::clean(&keys.join(", ")).into_owned() };
        return Err((P::WrongShape, format!("no non-empty certificate and privateKey (keys found: {found}; {SHAPE})")));
    };
    let pkcs8 = key.contains("-----BEGIN PRIVATE KEY-----");
    let encrypted = key.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----");
    if !pkcs8 && !encrypted {
        let found = ["RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"]
            .into_iter()
            .find(|label| key.contains(&format!("-----BEGIN {label}-----")))
            .map(|label| format!("a {label} block"))
            .unwrap_or_else(|| "no PEM key".into());
        return Err((
            P::NotPkcs8,
            format!(
                "privateKey holds {found}; Lambda reads PKCS #8 only (-----BEGIN PRIVATE KEY-----): convert it with \
                 openssl pkcs8 -topk8 -nocrypt -in key.pem"
            ),
        ));
    }
    if encrypted {
        return Err(if field("privateKeyPassword").is_none() {
            (P::PasswordMissing, "privateKey is encrypted and the secret has no privateKeyPassword".into())
        } else {
            (
                P::EncryptedNotVerified,
                "privateKey is encrypted (with privateKeyPassword): kreach cannot decrypt it, so it did not check that \
                 the key is the certificate's nor present it"
                    .into(),
            )
        });
    }
    // An expired certificate is still presented: the server's refusal is the evidence.
    from_pem(cert.as_bytes(), key.as_bytes()).map_err(|e| match e {
        PemProblem::NoCertificate(d) => (P::BadCertificate, format!("certificate {d}")),
        PemProblem::Unreadable => (P::BadCertificate, "the first certificate cannot be read".into()),
        PemProblem::Encrypted | PemProblem::NoKey => (P::NotPkcs8, "privateKey holds no readable PKCS #8 key".into()),
        PemProblem::Mismatch => (P::KeyMismatch, "privateKey is not the key of the first certificate".into()),
        PemProblem::CannotSign(e) => (P::KeyMismatch, format!("privateKey cannot sign: {e}")),
    })
}

fn read(path: &str, field: &str) -> Result<Vec<u8>, Error> {
    crate::input::files::read_input_file(std::path::Path::new(path.trim()), MAX_CA_BYTES, field)
}

fn describe(leaf: &CertificateDer<'_>) -> Option<(String, String, String, i64)> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(leaf.as_ref()).ok()?;
    let not_after = cert.validity().not_after.to_datetime();
    let text = not_after.format(&::time::format_description::well_known::Rfc3339).ok()?;
    let days = (not_after - ::time::OffsetDateTime::now_utc()).whole_days();
    Some((cert.subject().to_string(), cert.issuer().to_string(), text, days))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (A key that is not the certificate's, an encrypted key, and the handshakes are tested with
    /// real certificates in tests/mtls.rs.)
    #[test]
    fn halves_and_bad_pem_name_their_property() {
        let props = |pairs: Vec<(&'static str, String)>| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        };
        let field = |e: Error| match e {
            Error::InvalidInput { field, .. } => field,
            other => panic!("{other}"),
        };
        assert!(client_cert(&props(vec![])).expect("none").is_none());
        let e = client_cert(&props(vec![("ssl.certificate.pem", "x".into())])).expect_err("no key");
        assert_eq!(field(e), "ssl.key.location");
        let e = client_cert(&props(vec![("ssl.key.pem", "x".into())])).expect_err("no cert");
        assert_eq!(field(e), "ssl.certificate.location");
        let e = client_cert(&props(vec![("ssl.certificate.pem", "not pem".into()), ("ssl.key.pem", "x".into())]))
            .expect_err("bad pem");
        assert_eq!(field(e), "ssl.certificate.pem");
    }
}

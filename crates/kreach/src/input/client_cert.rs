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
    let chain: Result<Vec<CertificateDer<'static>>, _> = CertificateDer::pem_slice_iter(&cert_pem).collect();
    let chain = chain.map_err(|e| Error::invalid(cert_field, format!("not PEM certificates: {e}")))?;
    if chain.is_empty() {
        return Err(Error::invalid(cert_field, "holds no PEM certificate"));
    }
    if String::from_utf8_lossy(&key_pem).contains("ENCRYPTED PRIVATE KEY") {
        return Err(Error::invalid(
            key_field,
            "the private key is encrypted (ssl.key.password): kreach reads unencrypted PKCS#8, PKCS#1 or SEC1 \
             keys only; give it a decrypted copy it keeps in memory (e.g. from a secret)",
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| Error::invalid(key_field, "holds no PEM private key (PKCS#8, PKCS#1 or SEC1)"))?;
    let provider = rustls::crypto::ring::default_provider();
    let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            Error::invalid(key_field, format!("the private key is not the key of the certificate in {cert_field}"))
        }
        other => Error::invalid(key_field, format!("the private key cannot sign: {other}")),
    })?;
    let described = describe(&certified.cert[0]);
    let (subject, issuer, not_after, days_to_expiry) =
        described.ok_or_else(|| Error::invalid(cert_field, "the certificate cannot be read"))?;
    Ok(Some(ClientCert { certified: Arc::new(certified), subject, issuer, not_after, days_to_expiry }))
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

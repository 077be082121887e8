//! Certificates for the lab: a CA, leaves for the endpoint's names, and broken variants.

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::LabError;

/// A certificate authority that can issue leaves: a root, or an intermediate a root issued.
pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    /// What a server sends above a leaf this CA issued: nothing for a root, the intermediate
    /// (and what sits above it, short of the root) for an intermediate.
    sent: Vec<CertificateDer<'static>>,
    /// The same, PEM.
    sent_pem: String,
}

/// A leaf certificate and its key.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// The certificate chain (leaf first).
    pub chain: Vec<CertificateDer<'static>>,
    /// PKCS#8 key, DER.
    pub key_der: Vec<u8>,
    /// Leaf certificate, PEM.
    pub cert_pem: String,
    /// The leaf and the intermediates a server sends with it, PEM (what a server's chain file holds).
    pub chain_pem: String,
    /// Key, PEM.
    pub key_pem: String,
}

impl Leaf {
    /// The same leaf sent alone, without the intermediates that lead to the root (a server
    /// configured with its certificate file but not the chain file).
    pub fn alone(mut self) -> Leaf {
        self.chain.truncate(1);
        self.chain_pem = self.cert_pem.clone();
        self
    }

    /// The private key in the form rustls takes.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// Validity of a leaf relative to now.
#[derive(Clone, Copy, Debug)]
pub enum Validity {
    /// Valid from a day ago for `days` days.
    Days(i64),
    /// Expired yesterday.
    Expired,
    /// Valid only from tomorrow.
    NotYetValid,
}

impl Validity {
    fn window(self) -> (OffsetDateTime, OffsetDateTime) {
        let now = OffsetDateTime::now_utc();
        match self {
            Validity::Days(days) => (now - Duration::days(1), now + Duration::days(days)),
            Validity::Expired => (now - Duration::days(90), now - Duration::days(1)),
            Validity::NotYetValid => (now + Duration::days(1), now + Duration::days(90)),
        }
    }
}

impl Ca {
    /// A new CA with the given common name.
    pub fn new(common_name: &str) -> Result<Self, LabError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, "kreach lab");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        params.not_before = OffsetDateTime::now_utc() - Duration::days(1);
        params.not_after = OffsetDateTime::now_utc() + Duration::days(3650);
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(Ca {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            params,
            key,
            sent: Vec::new(),
            sent_pem: String::new(),
        })
    }

    /// An intermediate CA this CA issues, valid as `validity` says: servers send it with their leaf.
    pub fn intermediate(&self, common_name: &str, validity: Validity) -> Result<Ca, LabError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, "kreach lab");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        (params.not_before, params.not_after) = validity.window();
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &Issuer::from_params(&self.params, &self.key))?;
        let mut sent = vec![cert.der().clone()];
        sent.extend(self.sent.iter().cloned());
        let sent_pem = format!("{}{}", cert.pem(), self.sent_pem);
        Ok(Ca { cert_pem: cert.pem(), cert_der: cert.der().clone(), params, key, sent, sent_pem })
    }

    /// The CA certificate, PEM (what `--ca-file` reads).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// Issues a server certificate for `names` (DNS names or IP addresses).
    pub fn leaf(&self, names: &[&str], validity: Validity) -> Result<Leaf, LabError> {
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, names.first().copied().unwrap_or("kreach-lab"));
        params.distinguished_name = dn;
        (params.not_before, params.not_after) = validity.window();
        if !self.sent.is_empty() {
            // As public CAs do: a leaf an intermediate issued says where that intermediate is published.
            params.custom_extensions.push(rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 1, 1],
                ca_issuers("http://ca.lab.invalid/intermediate.crt"),
            ));
        }
        let key = KeyPair::generate()?;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer)?;
        let mut chain = vec![cert.der().clone()];
        chain.extend(self.sent.iter().cloned());
        Ok(Leaf {
            chain_pem: format!("{}{}", cert.pem(), self.sent_pem),
            chain,
            key_der: key.serialize_der(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// An Authority Information Access extension's content naming one caIssuers URI (DER).
fn ca_issuers(uri: &str) -> Vec<u8> {
    // id-ad-caIssuers, 1.3.6.1.5.5.7.48.2
    let oid = [0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let mut location = vec![0x86, uri.len() as u8];
    location.extend_from_slice(uri.as_bytes());
    let mut description = vec![0x30, (oid.len() + location.len()) as u8];
    description.extend_from_slice(&oid);
    description.extend(location);
    let mut out = vec![0x30, description.len() as u8];
    out.extend(description);
    out
}

//! The settings a report records: what the run was told and how it judged trust.

use crate::input::config::CheckConfig;
use crate::report::{Settings, TlsVerification};

/// What the run was asked to do, for the report.
pub(super) fn settings(config: &CheckConfig, verifies: bool) -> Settings {
    Settings {
        bootstrap: config.bootstrap.iter().map(ToString::to_string).collect(),
        security_protocol: config.security_protocol.as_str().to_string(),
        sasl_mechanism: config.sasl.as_ref().map(|s| s.mechanism.clone()),
        sasl_credentials: config.has_credentials(),
        client: config.client_settings.clone(),
        client_certificate: config.client_cert.as_ref().map(|c| crate::report::ClientCertificate {
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            not_after: c.not_after.clone(),
            days_to_expiry: c.days_to_expiry,
        }),
        oauth_extensions: config
            .sasl
            .as_ref()
            .and_then(|s| s.oauth.as_ref())
            .map(|o| o.extensions.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default(),
        allow_insecure_credentials: config.allow_insecure_credentials,
        resolvers: config.resolvers.iter().map(ToString::to_string).collect(),
        public_resolvers: config.public_resolvers.iter().map(ToString::to_string).collect(),
        private_cidrs: config.private_cidrs.iter().map(ToString::to_string).collect(),
        https_port: config.https_port,
        tls_verification: if verifies { TlsVerification::Enabled } else { TlsVerification::Disabled },
        ca_file: config.ca_file.as_ref().map(|c| c.source.clone()),
        zone_addresses: config.zone_addresses.iter().map(|(az, ip)| (az.clone(), ip.to_string())).collect(),
        refused_inputs: Vec::new(),
    }
}

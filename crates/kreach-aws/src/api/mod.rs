//! Lambda's Invoke called directly, signed with SigV4 (`kreach check --via-function`, `kreach
//! fleet`): the answer's body is read as it arrives and refused the moment it passes its cap,
//! and the fleet decides itself when to try again. Every other AWS read goes through the SDK's
//! clients (on [`crate::http`]'s capped client). The credentials, region and endpoint come from
//! the SDK's configuration chain.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::AwsError;

/// How long a connection to the API may take (as the SDK's default).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// RFC 3986's unreserved characters: what SigV4 leaves as it is.
pub(crate) const UNRESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encoding as SigV4 wants it: everything but the unreserved characters.
pub(crate) fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

/// A client of one AWS service in one region.
pub(crate) struct Api {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// The signing name and endpoint prefix: `ec2`, `kafka`.
    service: &'static str,
    endpoint: String,
    region: String,
    credentials: Credentials,
}

impl Api {
    /// A client of `service` from the SDK configuration: its region, endpoint
    /// (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL` or the configured one, else the region's
    /// public endpoint) and credentials (read once: the audit is shorter than any credential's
    /// lifetime).
    pub(crate) async fn for_service(sdk: &aws_config::SdkConfig, service: &'static str) -> Result<Self, AwsError> {
        let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| AwsError::unreachable("no AWS region"))?;
        let provider = sdk.credentials_provider().ok_or_else(|| AwsError::unreachable("no AWS credentials"))?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| AwsError::unreachable(format!("no AWS credentials: {}", crate::display_chain(&e))))?;
        let endpoint = std::env::var(format!("AWS_ENDPOINT_URL_{}", service.to_ascii_uppercase()))
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| sdk.endpoint_url().map(str::to_string))
            .unwrap_or_else(|| default_endpoint(service, &region));
        let endpoint = format!("{}/", endpoint.trim_end_matches('/'));
        // The signer needs a scheme and a host (and panics without them): check here.
        let usable = endpoint
            .parse::<http::Uri>()
            .ok()
            .filter(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty()));
        if usable.is_none() {
            return Err(AwsError::unreachable(format!(
                "the {service} endpoint URL {endpoint:?} is not an http(s) URL with a host (AWS_ENDPOINT_URL_{} or AWS_ENDPOINT_URL)",
                service.to_ascii_uppercase()
            )));
        }
        let tls = tls_config().map_err(|e| AwsError::invalid(format!("TLS for the {service} API: {e}")))?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls.as_ref().clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Api { client, service, endpoint, region, credentials })
    }

    /// One signed request; the status, the headers and the body, read as it arrives and refused
    /// (`Invalid`) the moment it passes `cap` bytes: nothing larger is ever held.
    pub(crate) async fn exchange_capped(
        &self,
        label: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
        cap: usize,
    ) -> Result<(u16, http::HeaderMap, Bytes), AwsError> {
        let url = format!("{}{}", self.endpoint, path.trim_start_matches('/'));
        let request = self.signed(method, &url, headers, body).map_err(|e| AwsError::other(format!("{label}: {e}")))?;
        let response = self.client.request(request).await.map_err(|e| {
            AwsError::unreachable(format!("{label}: the AWS API is not reachable: {}", crate::display_chain(&e)))
                .for_action(label)
        })?;
        let status = response.status().as_u16();
        let (parts, body) = response.into_parts();
        let bytes = Limited::new(body, cap)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                    AwsError::invalid(format!("{label}: the answer is larger than {cap} bytes"))
                } else {
                    AwsError::unreachable(format!("{label}: the response could not be read: {e}"))
                }
            })?
            .to_bytes();
        Ok((status, parts.headers, bytes))
    }

    fn signed(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<http::Request<Full<Bytes>>, String> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let identity = self.credentials.clone().into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| format!("signing: {e}"))?
            .into();
        let signable = SignableRequest::new(method, url, headers.iter().copied(), SignableBody::Bytes(body.as_bytes()))
            .map_err(|e| format!("signing: {e}"))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| format!("signing: {e}"))?.into_parts();
        let mut request = http::Request::builder().method(method).uri(url);
        for (name, value) in headers.iter().copied().chain(instructions.headers()) {
            request = request.header(name, value);
        }
        request.body(Full::new(Bytes::from(body.to_string()))).map_err(|e| format!("request: {e}"))
    }
}

/// The TLS configuration every AWS client shares: the Mozilla roots and the platform store (read
/// from disk once per process, not once per client).
fn tls_config() -> Result<std::sync::Arc<rustls::ClientConfig>, String> {
    static CONFIG: std::sync::OnceLock<Result<std::sync::Arc<rustls::ClientConfig>, String>> =
        std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let _ = roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Ok(std::sync::Arc::new(config))
        })
        .clone()
}

/// The region's public endpoint of `service`.
fn default_endpoint(service: &str, region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("https://{service}.{region}.{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_endpoint_follows_the_partition() {
        assert_eq!(default_endpoint("lambda", "cn-north-1"), "https://lambda.cn-north-1.amazonaws.com.cn");
        assert_eq!(default_endpoint("lambda", "us-west-2"), "https://lambda.us-west-2.amazonaws.com");
    }
}

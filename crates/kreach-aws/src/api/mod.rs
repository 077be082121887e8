//! AWS APIs called directly, signed with SigV4: EC2's Query API (a form-encoded POST, an XML
//! answer), REST-JSON reads (Amazon MSK's `DescribeClusterV2`) and JSON 1.1 (Route 53 Resolver). The audit makes a handful of
//! read-only calls there; the `aws-sdk-ec2` crate that used to make the EC2 ones was the largest
//! single compile of the build (245 s and 6.1 GB in one rustc, issue 19). The credentials, region
//! and endpoint still come from the SDK's configuration chain.

pub(crate) mod json;
pub(crate) mod xml;

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
pub(crate) use xml::Element;

/// The Query API version every call names.
const API_VERSION: &str = "2016-11-15";
/// Pages followed for one listing (`NextToken`).
const MAX_PAGES: usize = 20;
/// Attempts of a call that failed in a way a retry can fix (throttling, a 5xx).
const ATTEMPTS: u32 = 3;
/// How long a connection to the API may take (as the SDK's default).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// One call's action and parameters, in the Query API's flattened form.
#[derive(Clone, Debug)]
pub(crate) struct Query {
    action: &'static str,
    params: Vec<(String, String)>,
    filters: usize,
}

impl Query {
    /// A call of `action` (`DescribeVpcEndpoints`).
    pub(crate) fn new(action: &'static str) -> Self {
        Query { action, params: Vec::new(), filters: 0 }
    }

    /// A scalar parameter.
    pub(crate) fn param(mut self, name: &str, value: &str) -> Self {
        self.params.push((name.to_string(), value.to_string()));
        self
    }

    /// A list parameter: `Name.1=…&Name.2=…`.
    pub(crate) fn list(mut self, name: &str, values: &[String]) -> Self {
        for (i, v) in values.iter().enumerate() {
            self.params.push((format!("{name}.{}", i + 1), v.clone()));
        }
        self
    }

    /// A filter: `Filter.N.Name=…&Filter.N.Value.M=…`.
    pub(crate) fn filter(mut self, name: &str, values: &[String]) -> Self {
        self.filters += 1;
        let n = self.filters;
        self.params.push((format!("Filter.{n}.Name"), name.to_string()));
        for (i, v) in values.iter().enumerate() {
            self.params.push((format!("Filter.{n}.Value.{}", i + 1), v.clone()));
        }
        self
    }

    /// `ec2:Action`, as the audit's call list and messages name it.
    pub(crate) fn label(&self) -> String {
        format!("ec2:{}", self.action)
    }

    fn body(&self, next_token: Option<&str>) -> String {
        let mut out = format!("Action={}&Version={API_VERSION}", self.action);
        let token = next_token.map(|t| ("NextToken".to_string(), t.to_string()));
        for (k, v) in self.params.iter().chain(token.iter()) {
            out.push('&');
            out.push_str(&encode(k));
            out.push('=');
            out.push_str(&encode(v));
        }
        out
    }
}

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

/// The EC2 client.
pub(crate) type Ec2 = Api;

impl Api {
    /// The EC2 client.
    pub(crate) async fn new(sdk: &aws_config::SdkConfig) -> Result<Self, AwsError> {
        Api::for_service(sdk, "ec2").await
    }

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

    /// One call: the response's root element.
    pub(crate) async fn call(&self, query: &Query) -> Result<Element, AwsError> {
        self.page(query, None).await
    }

    /// A listing: the `item`s of `list` over every page (up to [`MAX_PAGES`]), capped at
    /// [`kreach::limits::MAX_LIST`] items.
    pub(crate) async fn call_all(&self, query: &Query, list: &str) -> Result<Vec<Element>, AwsError> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut page = self.page(query, token.as_deref()).await?;
            token = page.text("nextToken").map(str::to_string);
            if let Some(at) = page.children.iter().position(|c| c.name == list) {
                let set = page.children.swap_remove(at);
                items.extend(set.children.into_iter().filter(|i| i.name == "item"));
            }
            if token.is_none() || items.len() >= kreach::limits::MAX_LIST {
                break;
            }
        }
        items.truncate(kreach::limits::MAX_LIST);
        Ok(items)
    }

    async fn page(&self, query: &Query, token: Option<&str>) -> Result<Element, AwsError> {
        let body = query.body(token);
        retried(&query.label(), || self.send(query, &body)).await
    }

    async fn send(&self, query: &Query, body: &str) -> Result<Element, Failure> {
        let label = query.label();
        let headers = [("content-type", "application/x-www-form-urlencoded; charset=utf-8")];
        let (status, bytes) = self.exchange_with(&label, "POST", "", &headers, body).await?;
        let text = String::from_utf8_lossy(&bytes);
        if status == 200 {
            return xml::parse(&text).map_err(|e| Failure::Final(AwsError::invalid(format!("{label}: {e}"))));
        }
        let root = xml::parse(&text).ok();
        let error = root.as_ref().and_then(|r| r.find("Error"));
        let code = error.and_then(|e| e.text("Code")).unwrap_or("");
        let message = error.and_then(|e| e.text("Message")).unwrap_or("").to_string();
        Err(classify(&label, status, code, message))
    }

    /// One signed request; the status and the body (at most [`xml::MAX_BODY`] bytes).
    async fn exchange_with(
        &self,
        label: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<(u16, Bytes), Failure> {
        let (status, _, bytes) = self.exchange_capped(label, method, path, headers, body, xml::MAX_BODY).await?;
        Ok((status, bytes))
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
    ) -> Result<(u16, http::HeaderMap, Bytes), Failure> {
        let url = format!("{}{}", self.endpoint, path.trim_start_matches('/'));
        let request = self
            .signed(method, &url, headers, body)
            .map_err(|e| Failure::Final(AwsError::other(format!("{label}: {e}"))))?;
        let response = self.client.request(request).await.map_err(|e| {
            Failure::Final(
                AwsError::unreachable(format!("{label}: the AWS API is not reachable: {}", crate::display_chain(&e)))
                    .for_action(label),
            )
        })?;
        let status = response.status().as_u16();
        let (parts, body) = response.into_parts();
        let bytes = Limited::new(body, cap)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                    Failure::Final(AwsError::invalid(format!("{label}: the answer is larger than {cap} bytes")))
                } else {
                    Failure::Final(AwsError::unreachable(format!("{label}: the response could not be read: {e}")))
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

/// A failed attempt: worth another try, or not.
pub(crate) enum Failure {
    Retry(AwsError),
    Final(AwsError),
}

/// Up to [`ATTEMPTS`] tries of `attempt`, with a short backoff (the fleet's, shorter), while it fails in a way a retry
/// can fix; `label` names the call if no attempt was made.
async fn retried<T, F, Fut>(label: &str, attempt: F) -> Result<T, AwsError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let mut last = None;
    let mut backoff = crate::backoff::Backoff::new(Duration::from_millis(200), Duration::from_millis(800));
    for n in 0..ATTEMPTS {
        if n > 0 {
            backoff.wait(None).await;
        }
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(Failure::Retry(e)) => last = Some(e),
            Err(Failure::Final(e)) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| AwsError::other(format!("{label}: no attempt made"))))
}

/// An error response: retried when throttled or a 5xx, else classified as the SDK clients' errors are
/// ([`AwsError::from_answer`]).
fn classify(label: &str, status: u16, code: &str, message: String) -> Failure {
    let error = AwsError::from_answer(label, status, code, message, || format!("HTTP {status}"));
    if error.is_throttled() || (status >= 500 && !error.is_denied()) {
        return Failure::Retry(error);
    }
    Failure::Final(error)
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
    fn a_query_flattens_lists_and_filters_and_encodes_values() {
        let q = Query::new("DescribeVpcEndpoints")
            .list("VpcEndpointId", &["vpce-1".into(), "vpce-2".into()])
            .filter("vpc-id", &["vpc-1".into()])
            .filter("service-name", &["com.amazonaws.vpce.us-west-2.vpce-svc 1/+=".into()]);
        assert_eq!(
            q.body(Some("tok/en")),
            "Action=DescribeVpcEndpoints&Version=2016-11-15&VpcEndpointId.1=vpce-1&VpcEndpointId.2=vpce-2\
             &Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1&Filter.2.Name=service-name\
             &Filter.2.Value.1=com.amazonaws.vpce.us-west-2.vpce-svc%201%2F%2B%3D&NextToken=tok%2Fen"
        );
        assert_eq!(q.label(), "ec2:DescribeVpcEndpoints");
    }

    #[test]
    fn error_responses_are_classified_like_the_sdks() {
        let denied = classify("ec2:DescribeSubnets", 403, "UnauthorizedOperation", "You are not authorized".into());
        assert!(
            matches!(denied, Failure::Final(e) if e.is_denied() && e.action.as_deref() == Some("ec2:DescribeSubnets"))
        );
        assert!(matches!(classify("x", 403, "", String::new()), Failure::Final(e) if e.is_denied()));
        assert!(matches!(classify("x", 401, "AuthFailure", "no".into()), Failure::Final(e) if e.is_unreachable()));
        assert!(matches!(classify("x", 503, "Unavailable", String::new()), Failure::Retry(_)));
        assert!(matches!(classify("x", 400, "RequestLimitExceeded", String::new()), Failure::Retry(_)));
        let other = classify("x", 400, "InvalidVpcID.NotFound", "The vpc ID 'vpc-1' does not exist".into());
        assert!(
            matches!(other, Failure::Final(e) if e.is_not_found() && e.code.as_deref() == Some("InvalidVpcID.NotFound"))
        );
        assert_eq!(default_endpoint("ec2", "cn-north-1"), "https://ec2.cn-north-1.amazonaws.com.cn");
        assert_eq!(default_endpoint("kafka", "us-west-2"), "https://kafka.us-west-2.amazonaws.com");
    }
}

//! Shared by the tests that hand kreach-aws's input step an SDK configuration of their own.

use std::future::Future;
use std::pin::Pin;

use aws_credential_types::provider::SharedCredentialsProvider;

/// The input step's SDK configuration, as a future.
type Loading = Pin<Box<dyn Future<Output = Result<aws_config::SdkConfig, String>> + Send>>;

/// An SDK configuration in `region` whose credentials come from `provider` (none: no provider at
/// all), as the input step's source; nothing of the default chain (no environment, no metadata
/// service) is consulted.
pub fn source(
    region: &'static str,
    provider: Option<SharedCredentialsProvider>,
) -> impl Fn(Option<String>) -> Loading + Sync {
    move |_| {
        let mut b = aws_config::SdkConfig::builder().region(aws_config::Region::new(region));
        if let Some(p) = provider.clone() {
            b = b.credentials_provider(p);
        }
        Box::pin(std::future::ready(Ok(b.build())))
    }
}

/// The input step's result for the check of `addr` (a front without TLS, loopback) with SASL
/// `mechanism` and the client's `properties`, the SDK configuration `source` gives.
#[allow(dead_code)] // not every test binary that shares this module uses it
pub async fn prepared_plaintext(
    addr: std::net::SocketAddr,
    source: kreach_aws::SdkSource<'_>,
    mechanism: &str,
    properties: &[(&str, &str)],
) -> kreach_aws::Ready {
    let mut o = kreach::CheckOptions::default();
    o.bootstrap = Some(addr.to_string());
    o.security_protocol = Some("SASL_PLAINTEXT".into());
    o.sasl_mechanism = Some(mechanism.into());
    let text: String = properties.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    o.properties = Some(kreach::Properties::parse(&text).expect("properties"));
    o.no_https = true;
    o.private_cidrs = vec!["127.0.0.0/8".into()];
    o.timeout_secs = Some(8.0);
    // The front has no TLS: the signed payload may go in clear only because the test allows it.
    o.allow_insecure_credentials = true;
    let mut input = kreach_aws::RunInput::new(o);
    input.mapping = kreach_aws::MappingInput::None;
    kreach_aws::prepare(input, &|_| None, source, &kreach_aws::no_policy).await.expect("ready")
}

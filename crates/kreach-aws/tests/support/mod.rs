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

//! What the CLI reads from AWS. With the `aws` feature (the default) the input step and the audit
//! go through kreach-aws and the AWS SDK (default credential chain); without it (a build for the
//! lab demo, `--no-default-features`) every AWS read fails saying how to get one that can.

use kreach::input::{InputError, Ready, RunInput};

/// Why a build without the `aws` feature reads nothing from AWS.
#[cfg_attr(feature = "aws", allow(dead_code))]
pub(crate) const NO_AWS: &str = "this kreach was built without the AWS SDK (--no-default-features); build it with its \
                                 default features (cargo build -p kreach-cli) to read AWS";

/// The input step: the user decides everything (no policy); AWS through the default chain.
pub(crate) async fn prepare(input: RunInput) -> Result<Ready, InputError> {
    let env = |k: &str| std::env::var(k).ok();
    #[cfg(feature = "aws")]
    {
        let sdk = |region: Option<String>| -> std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> {
            Box::pin(async move { Ok(kreach_aws::sdk_config(region.as_deref(), None, None).await) })
        };
        kreach_aws::prepare(input, &env, &sdk, &kreach_aws::no_policy).await
    }
    #[cfg(not(feature = "aws"))]
    {
        kreach::input::prepare(input, &env, &kreach::input::NoAws(NO_AWS), &kreach::input::no_policy).await
    }
}

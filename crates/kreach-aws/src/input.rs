//! The input step with the AWS SDK: [`kreach::input::prepare`] reading the event source mapping,
//! its root CA and the SASL secret through the SDK ([`SdkReads`]).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aws_config::SdkConfig;
use kreach::EventSourceMapping;
use kreach::input::{AwsReads, Reading, SecretCredentials};
use kreach::report::SecretLookup;

pub use kreach::input::{InputError, MAPPING_CAP, MappingInput, Policy, PolicyView, Ready, RunInput, no_policy};

/// Where the SDK configuration comes from: the default chain (CLI) or the function's own
/// credentials (Lambda); the argument is the region asked for, when one is known.
pub type SdkSource<'a> =
    &'a (dyn Fn(Option<String>) -> Pin<Box<dyn Future<Output = Result<SdkConfig, String>> + Send>> + Sync);

/// The input step's AWS reads, made with the SDK configuration `sdk` gives.
pub struct SdkReads<'a>(pub SdkSource<'a>);

impl AwsReads for SdkReads<'_> {
    fn mapping<'a>(&'a self, region: Option<String>, id: &'a str) -> Reading<'a, Result<EventSourceMapping, String>> {
        Box::pin(async move {
            let sdk = (self.0)(region).await?;
            crate::fetch_mapping(&sdk, id).await.map_err(|e| e.to_string())
        })
    }

    fn root_ca<'a>(
        &'a self,
        region: Option<String>,
        id: &'a str,
        budget: Duration,
    ) -> Reading<'a, Result<String, String>> {
        Box::pin(async move {
            let sdk = (self.0)(region).await?;
            crate::read_root_ca(&sdk, id, budget).await.map_err(|e| e.to_string())
        })
    }

    fn secret_text<'a>(
        &'a self,
        region: Option<String>,
        id: &'a str,
        budget: Duration,
    ) -> Reading<'a, Result<kreach::Secret, String>> {
        Box::pin(async move {
            let sdk = (self.0)(region).await?;
            crate::secrets::read_secret_text(&sdk, id, budget).await.map_err(|e| e.to_string())
        })
    }

    fn secret<'a>(
        &'a self,
        region: Option<String>,
        id: &'a str,
        budget: Duration,
    ) -> Reading<'a, (SecretLookup, Option<SecretCredentials>)> {
        Box::pin(async move {
            let sdk = async {
                match tokio::time::timeout(budget, (self.0)(region)).await {
                    Ok(r) => r,
                    Err(_) => Err(format!("the AWS configuration did not load within {} ms", budget.as_millis())),
                }
            };
            crate::secrets::read_secret_within(sdk, id, budget).await
        })
    }
}

/// The input step ([`kreach::input::prepare`]) with the SDK's reads.
pub async fn prepare(
    input: RunInput,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    sdk: SdkSource<'_>,
    policy: Policy<'_>,
) -> Result<Ready, InputError> {
    let region = input.region.clone();
    let mut ready = kreach::input::prepare(input, env, &SdkReads(sdk), policy).await?;
    attach_msk_iam_signer(&mut ready, region, sdk).await;
    Ok(ready)
}

/// AWS_MSK_IAM: the signer the Kafka stage uses, with the SDK configuration's credential chain
/// (its credentials are loaded at the first signature, inside the run's deadline). A configuration
/// that does not load leaves none: the mechanism is then only asked for, and not verified.
pub async fn attach_msk_iam_signer(ready: &mut Ready, region: Option<String>, sdk: SdkSource<'_>) {
    // AWS_MSK_IAM signs its payload, OAUTHBEARER with MSK's IAM token its token; Confluent's AWS
    // IAM OAuth signs its STS request.
    let signs = |s: &kreach::input::Sasl| s.signs_for_msk() || s.oauth.as_ref().is_some_and(|o| o.aws_iam.is_some());
    let Some(sasl) = ready.config.sasl.as_mut().filter(|s| signs(s)) else { return };
    let budget = ready.config.timeout.saturating_sub(ready.started.elapsed()) / 3;
    if let Ok(Ok(config)) = tokio::time::timeout(budget, (sdk)(region)).await {
        let signer = crate::MskIamSigner::for_client(config, sasl.msk_profile.as_deref(), sasl.msk_role.as_ref()).await;
        sasl.iam = Some(kreach::input::IamSigner(std::sync::Arc::new(signer)));
    }
}

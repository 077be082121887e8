//! The function's own AWS calls, both read-only and each within a short budget: the secret holding
//! the SASL credentials (Secrets Manager `GetSecretValue`, read by `kreach_aws::load_secret`) and
//! whether the function is attached to a VPC (Lambda `GetFunctionConfiguration` on itself).
//!
//! Access comes from the function's environment, where Lambda puts the execution role's
//! credentials. Without credentials there no call is made at all (nothing falls back to a
//! credential chain that might probe the network).

use std::time::Duration;

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use kreach::report::Vantage;
use kreach_aws::display_chain;

/// Where and as whom the function calls AWS.
#[derive(Clone, Default)]
pub struct Access {
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`).
    pub region: Option<String>,
    /// `AWS_ENDPOINT_URL`: an emulator instead of AWS.
    pub endpoint_url: Option<String>,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
    pub credentials: Option<Credentials>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials' own Debug redacts the secret; say only whether there are any.
        f.debug_struct("Access")
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .field("credentials", &self.credentials.is_some())
            .finish()
    }
}

impl Access {
    /// Reads the access from the environment (`env` looks a variable up).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Access {
        let nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let credentials = match (nonempty("AWS_ACCESS_KEY_ID"), nonempty("AWS_SECRET_ACCESS_KEY")) {
            (Some(key), Some(secret)) => {
                Some(Credentials::new(key, secret, nonempty("AWS_SESSION_TOKEN"), None, "lambda-environment"))
            }
            _ => None,
        };
        Access {
            region: nonempty("AWS_REGION").or_else(|| nonempty("AWS_DEFAULT_REGION")),
            endpoint_url: nonempty("AWS_ENDPOINT_URL"),
            credentials,
        }
    }

    /// The SDK configuration, or why there is none.
    pub async fn sdk(&self) -> Result<SdkConfig, String> {
        let Some(credentials) = self.credentials.clone() else {
            return Err("no AWS credentials in the function's environment".into());
        };
        let Some(region) = self.region.clone() else {
            return Err("no AWS region in the function's environment (AWS_REGION)".into());
        };
        Ok(kreach_aws::sdk_config(Some(&region), self.endpoint_url.as_deref(), Some(credentials)).await)
    }
}

/// Asks Lambda for the function's own configuration and fills in whether it is attached to a VPC,
/// with its VPC, subnets and security groups. What could not be read goes to the vantage's note.
pub async fn describe_function(access: &Access, vantage: &mut Vantage, budget: Duration) {
    let Some(name) = vantage.facts.function_name.clone() else { return };
    let sdk = match access.sdk().await {
        Ok(sdk) => sdk,
        Err(why) => {
            vantage.note = Some(format!("VPC attachment not read: {why}"));
            return;
        }
    };
    let client = aws_sdk_lambda::Client::new(&sdk);
    let mut request = client.get_function_configuration().function_name(&name);
    if let Some(version) = &vantage.facts.function_version {
        request = request.qualifier(version);
    }
    let out = match tokio::time::timeout(budget, request.send()).await {
        Err(_) => {
            vantage.note = Some(format!(
                "VPC attachment not read: lambda:GetFunctionConfiguration did not answer within {} ms (a function in \
                 private subnets needs a NAT route or a lambda interface endpoint for it)",
                budget.as_millis()
            ));
            return;
        }
        Ok(Err(e)) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let what = match (e.code(), e.message(), status) {
                (Some(code), message, _) => format!("{code}: {}", message.unwrap_or("")),
                (None, _, Some(403)) => {
                    "HTTP 403: denied (grant lambda:GetFunctionConfiguration on the function)".into()
                }
                (None, _, Some(status)) => format!("HTTP {status}"),
                (None, _, None) => display_chain(&e),
            };
            vantage.note = Some(format!("VPC attachment not read: lambda:GetFunctionConfiguration: {what}"));
            return;
        }
        Ok(Ok(out)) => out,
    };
    let vpc = out.vpc_config();
    let vpc_id = vpc.and_then(|v| v.vpc_id()).unwrap_or("").to_string();
    let subnets: Vec<String> = vpc.map(|v| v.subnet_ids().to_vec()).unwrap_or_default();
    let groups: Vec<String> = vpc.map(|v| v.security_group_ids().to_vec()).unwrap_or_default();
    let attached = !vpc_id.is_empty() || !subnets.is_empty();
    vantage.vpc_attached = Some(attached);
    if attached {
        vantage.facts.vpc_id = (!vpc_id.is_empty()).then_some(vpc_id);
        vantage.facts.subnet_ids = subnets;
        vantage.facts.security_group_ids = groups;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_from_the_environment_needs_both_key_and_secret() {
        let env = |k: &str| match k {
            "AWS_ACCESS_KEY_ID" => Some("AKIA".to_string()),
            "AWS_REGION" => Some("us-west-2".to_string()),
            _ => None,
        };
        let access = Access::from_env(&env);
        assert!(access.credentials.is_none());
        assert_eq!(access.region.as_deref(), Some("us-west-2"));
        assert!(!format!("{access:?}").contains("AKIA"));
    }
}

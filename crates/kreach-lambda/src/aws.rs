//! The function's own AWS calls, both read-only and each within a short budget: the secret holding
//! the SASL credentials (Secrets Manager `GetSecretValue`) and whether the function is attached to
//! a VPC (Lambda `GetFunctionConfiguration` on itself).
//!
//! Access comes from the function's environment, where Lambda puts the execution role's
//! credentials. Without credentials there no call is made at all (nothing falls back to a
//! credential chain that might probe the network).

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use kreach::{SecretLookup, SecretOutcome, Vantage};
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
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(credentials);
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        Ok(loader.load().await)
    }
}

/// SASL credentials read from a secret.
pub struct SecretCredentials {
    /// The user name (API key).
    pub username: String,
    /// The password (API secret); never printed.
    pub password: kreach::Secret,
}

/// Reads `secret_id` within `budget`. The lookup is for the report; the credentials only when read.
pub async fn read_secret(
    access: &Access,
    secret_id: &str,
    budget: Duration,
) -> (SecretLookup, Option<SecretCredentials>) {
    let started = Instant::now();
    let mut lookup = SecretLookup {
        secret_id: secret_id.to_string(),
        outcome: SecretOutcome::Error,
        detail: None,
        keys: Vec::new(),
        elapsed_ms: 0,
    };
    let result = match access.sdk().await {
        Err(why) => Err((SecretOutcome::Unreachable, why)),
        Ok(sdk) => {
            let client = aws_sdk_secretsmanager::Client::new(&sdk);
            match tokio::time::timeout(budget, client.get_secret_value().secret_id(secret_id).send()).await {
                Err(_) => Err((
                    SecretOutcome::Unreachable,
                    format!(
                        "secretsmanager:GetSecretValue: the Secrets Manager API is not reachable: no answer within {} ms",
                        budget.as_millis()
                    ),
                )),
                Ok(Err(e)) => Err(classify_secret_error(&e)),
                Ok(Ok(out)) => match out.secret_string() {
                    Some(text) => parse_secret(text).map_err(|why| (SecretOutcome::Malformed, why)),
                    None => Err((SecretOutcome::Malformed, "the secret has no text value (binary secret)".into())),
                },
            }
        }
    };
    lookup.elapsed_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok((credentials, keys)) => {
            lookup.outcome = SecretOutcome::Read;
            lookup.keys = keys;
            (lookup, Some(credentials))
        }
        Err((outcome, detail)) => {
            lookup.outcome = outcome;
            lookup.detail = Some(detail);
            (lookup, None)
        }
    }
}

fn classify_secret_error<E>(
    err: &aws_sdk_secretsmanager::error::SdkError<E, aws_sdk_secretsmanager::config::http::HttpResponse>,
) -> (SecretOutcome, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_secretsmanager::error::SdkError;
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => (
            SecretOutcome::Unreachable,
            format!("secretsmanager:GetSecretValue: the Secrets Manager API is not reachable: {}", display_chain(err)),
        ),
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let code = err.code().unwrap_or("");
            let message = err.message().unwrap_or("");
            let outcome = match code {
                // A 403 whose body did not parse into an error code is a denial all the same.
                "" if status == 403 => SecretOutcome::Denied,
                "AccessDeniedException" | "AccessDenied" | "KMSAccessDeniedException" => SecretOutcome::Denied,
                "ResourceNotFoundException" => SecretOutcome::NotFound,
                "UnrecognizedClientException" | "InvalidClientTokenId" | "ExpiredTokenException" => {
                    SecretOutcome::Denied
                }
                _ => SecretOutcome::Error,
            };
            let what = if code.is_empty() { format!("HTTP {status}") } else { code.to_string() };
            (outcome, format!("secretsmanager:GetSecretValue: {what}: {message}"))
        }
        _ => (SecretOutcome::Error, format!("secretsmanager:GetSecretValue: {}", display_chain(err))),
    }
}

/// Keys accepted for the user name and the password, first match wins (case-insensitive).
const USERNAME_KEYS: &[&str] = &["username", "api_key", "key", "sasl.username", "user"];
const PASSWORD_KEYS: &[&str] = &["password", "api_secret", "secret", "sasl.password"];

/// The credentials in a secret's text: a JSON object with a user name and a password. Errors name
/// the keys found, never a value.
pub fn parse_secret(text: &str) -> Result<(SecretCredentials, Vec<String>), String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| "the secret's value is not JSON (expected {\"username\": …, \"password\": …})".to_string())?;
    let Some(object) = value.as_object() else {
        return Err("the secret's value is JSON but not an object (expected {\"username\": …, \"password\": …})".into());
    };
    let pick = |wanted: &[&str]| {
        wanted.iter().find_map(|w| {
            object.iter().find(|(k, v)| k.eq_ignore_ascii_case(w) && v.as_str().is_some_and(|s| !s.is_empty()))
        })
    };
    match (pick(USERNAME_KEYS), pick(PASSWORD_KEYS)) {
        (Some((uk, u)), Some((pk, p))) => Ok((
            SecretCredentials {
                username: u.as_str().unwrap_or_default().to_string(),
                password: kreach::Secret::new(p.as_str().unwrap_or_default().to_string()),
            },
            vec![uk.clone(), pk.clone()],
        )),
        _ => {
            let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
            keys.sort_unstable();
            Err(format!(
                "the secret holds no non-empty user name and password (keys found: {}; expected username/password or \
                 api_key/api_secret)",
                if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
            ))
        }
    }
}

/// Asks Lambda for the function's own configuration and fills in whether it is attached to a VPC,
/// with its VPC, subnets and security groups. What could not be read goes to the vantage's note.
pub async fn describe_function(access: &Access, vantage: &mut Vantage, budget: Duration) {
    let Some(name) = vantage.facts.get("function_name").cloned() else { return };
    let sdk = match access.sdk().await {
        Ok(sdk) => sdk,
        Err(why) => {
            vantage.note = Some(format!("VPC attachment not read: {why}"));
            return;
        }
    };
    let client = aws_sdk_lambda::Client::new(&sdk);
    let mut request = client.get_function_configuration().function_name(&name);
    if let Some(version) = vantage.facts.get("function_version") {
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
    let subnets = vpc.map(|v| v.subnet_ids().join(",")).unwrap_or_default();
    let groups = vpc.map(|v| v.security_group_ids().join(",")).unwrap_or_default();
    let attached = !vpc_id.is_empty() || !subnets.is_empty();
    vantage.vpc_attached = Some(attached);
    if attached {
        for (key, value) in [("vpc_id", vpc_id), ("subnet_ids", subnets), ("security_group_ids", groups)] {
            if !value.is_empty() {
                vantage.facts.insert(key.to_string(), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_the_usual_shapes_give_credentials_and_bad_ones_say_why_without_values() {
        for (text, user, keys) in [
            (r#"{"username": "KEY1", "password": "s3cr3t"}"#, "KEY1", ["username", "password"]),
            (r#"{"api_key": "KEY2", "api_secret": "s3cr3t", "other": 1}"#, "KEY2", ["api_key", "api_secret"]),
            (r#"{"Key": "KEY3", "Secret": "s3cr3t"}"#, "KEY3", ["Key", "Secret"]),
        ] {
            let (creds, found) = parse_secret(text).expect(text);
            assert_eq!(creds.username, user);
            assert_eq!(creds.password.expose(), "s3cr3t");
            assert_eq!(found, keys);
        }
        for (text, needle) in [
            ("KEY:s3cr3t", "not JSON"),
            (r#"["s3cr3t"]"#, "not an object"),
            (r#"{"username": "KEY", "pass": "s3cr3t"}"#, "keys found: pass, username"),
            (r#"{"username": "KEY", "password": ""}"#, "no non-empty"),
        ] {
            let err = parse_secret(text).err().expect(text);
            assert!(err.contains(needle), "{text}: {err}");
            assert!(!err.contains("s3cr3t"), "{err}");
        }
    }

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

//! SASL credentials from an AWS Secrets Manager secret: one `GetSecretValue`, within a budget.
//! The outcome goes to the report (`secret`), the value never does.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use kreach::report::SecretLookup;
use kreach::report::SecretOutcome;

use crate::{AwsError, display_chain};

pub use kreach::input::{SECRET_CAP, SecretCredentials};

/// Loads the SDK configuration (`sdk`, or why there is none) and reads `secret_id`, both within
/// `budget` together: the input step calls it before the checks, inside the run's deadline.
pub(crate) async fn read_secret_within(
    sdk: impl Future<Output = Result<SdkConfig, String>>,
    secret_id: &str,
    budget: Duration,
) -> (SecretLookup, Option<SecretCredentials>) {
    let started = Instant::now();
    match sdk.await {
        Ok(sdk) => read_secret(&sdk, secret_id, budget.saturating_sub(started.elapsed())).await,
        Err(why) => {
            let mut lookup = SecretLookup::new(secret_id, SecretOutcome::Unreachable).with_detail(why);
            lookup.elapsed_ms = started.elapsed().as_millis() as u64;
            (lookup, None)
        }
    }
}

/// Reads `secret_id` within `budget`. The lookup is for the report; the credentials only when read.
pub async fn read_secret(
    sdk: &SdkConfig,
    secret_id: &str,
    budget: Duration,
) -> (SecretLookup, Option<SecretCredentials>) {
    let started = Instant::now();
    let mut lookup = SecretLookup::new(secret_id, SecretOutcome::Error);
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let result = match tokio::time::timeout(budget, client.get_secret_value().secret_id(secret_id).send()).await {
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

pub(crate) fn classify_secret_error<E>(
    err: &aws_sdk_secretsmanager::error::SdkError<E, aws_sdk_secretsmanager::config::http::HttpResponse>,
) -> (SecretOutcome, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_secretsmanager::error::SdkError;
    match err {
        // The API answered, with something it never sends (too large, broken XML): not unreachable.
        SdkError::DispatchFailure(_) if let Some(why) = crate::http::refused(err) => {
            (SecretOutcome::Error, format!("secretsmanager:GetSecretValue: {why}"))
        }
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

/// Reads a root CA certificate (PEM) from `secret_id` within `budget`: the secret an event source
/// mapping names as `SERVER_ROOT_CA_CERTIFICATE`, `{"certificate": "-----BEGIN CERTIFICATE-----…"}`
/// (or the PEM itself). `Err` says why.
pub async fn read_root_ca(sdk: &SdkConfig, secret_id: &str, budget: Duration) -> Result<String, AwsError> {
    let text = secret_string(sdk, secret_id, budget).await?;
    if text.len() > kreach::limits::MAX_CA_BYTES as usize {
        return Err(AwsError::invalid(format!(
            "the secret is larger than {} KiB",
            kreach::limits::MAX_CA_BYTES / 1024
        )));
    }
    let pem = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => v.get("certificate").and_then(|c| c.as_str()).map(str::to_string).unwrap_or_default(),
        Err(_) => text,
    };
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(AwsError::invalid(
            "the secret holds no PEM certificate (expected {\"certificate\": \"-----BEGIN CERTIFICATE-----…\"})",
        ));
    }
    Ok(pem)
}

/// A secret's text value within `budget` (the mapping's CLIENT_CERTIFICATE_TLS_AUTH secret: a
/// certificate and its key), at most [`SECRET_TEXT_CAP`] bytes, kept as a [`kreach::Secret`].
pub async fn read_secret_text(sdk: &SdkConfig, secret_id: &str, budget: Duration) -> Result<kreach::Secret, AwsError> {
    let text = secret_string(sdk, secret_id, budget).await?;
    if text.len() > SECRET_TEXT_CAP {
        return Err(AwsError::invalid(format!("the secret is larger than {} KiB", SECRET_TEXT_CAP / 1024)));
    }
    Ok(kreach::Secret::new(text))
}

/// Largest secret text read: Secrets Manager's own limit for a secret value (64 KiB).
pub const SECRET_TEXT_CAP: usize = 64 * 1024;

/// One `GetSecretValue` within `budget`: its text value, or why there is none.
async fn secret_string(sdk: &SdkConfig, secret_id: &str, budget: Duration) -> Result<String, AwsError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    match tokio::time::timeout(budget, client.get_secret_value().secret_id(secret_id).send()).await {
        Err(_) => {
            let why = format!("secretsmanager:GetSecretValue: no answer within {} ms", budget.as_millis());
            Err(AwsError::timed_out(why))
        }
        Ok(Err(e)) => Err(match classify_secret_error(&e) {
            (SecretOutcome::Unreachable, why) => AwsError::unreachable(why),
            (_, why) => AwsError::other(why),
        }),
        Ok(Ok(out)) => out
            .secret_string()
            .map(str::to_string)
            .ok_or_else(|| AwsError::invalid("the secret has no text value (binary secret)")),
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
}

//! The schema registry's access secrets, read as Lambda's pollers read them and checked for shape
//! only (nothing in them is sent anywhere, nor shown): `BASIC_AUTH` `{"username", "password"}`,
//! `CLIENT_CERTIFICATE_TLS_AUTH` as the mapping's own client certificate, and
//! `SERVER_ROOT_CA_CERTIFICATE` `{"certificate": "<PEM>"}`.

use crate::report::{ClientCertSecretProblem, RegistrySecretCheck};

/// Checks one access secret's text for the access type `kind`.
pub(crate) fn check(kind: &str, secret_id: &str, text: &str) -> RegistrySecretCheck {
    let mut out =
        RegistrySecretCheck { access_type: kind.to_string(), secret_id: secret_id.to_string(), ..Default::default() };
    out.verified = true;
    let problem = match kind {
        "BASIC_AUTH" => basic_auth(text).err(),
        "CLIENT_CERTIFICATE_TLS_AUTH" => match super::client_cert::from_lambda_secret(text) {
            Ok(_) => None,
            Err((ClientCertSecretProblem::EncryptedNotVerified, detail)) => {
                out.verified = false;
                out.detail = Some(detail);
                None
            }
            Err((_, detail)) => Some(detail),
        },
        "SERVER_ROOT_CA_CERTIFICATE" => root_ca(text).err(),
        other => {
            out.verified = false;
            out.detail = Some(format!("access type {other} is not one kreach knows: not checked"));
            None
        }
    };
    out.problem = problem.map(|p| crate::text::clean(&p).into_owned());
    out
}

/// A secret that could not be read: not checked (the role's `secretsmanager:GetSecretValue` is
/// judged with its other permissions).
pub(crate) fn unreadable(kind: &str, secret_id: &str, why: &str) -> RegistrySecretCheck {
    RegistrySecretCheck {
        access_type: kind.to_string(),
        secret_id: secret_id.to_string(),
        problem: None,
        verified: false,
        detail: Some(format!("not read: {}", crate::text::clean(why))),
    }
}

/// The keys of a JSON object, sorted, for an error that names them (never a value).
fn keys_of(object: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut keys: Vec<&str> = object.keys().map(String::as_str).take(16).collect();
    keys.sort_unstable();
    if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
}

fn basic_auth(text: &str) -> Result<(), String> {
    const SHAPE: &str = "expected {\"username\": …, \"password\": …}";
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| format!("the secret's value is not JSON ({SHAPE})"))?;
    let object = value.as_object().ok_or_else(|| format!("the secret's value is not a JSON object ({SHAPE})"))?;
    let filled = |k: &str| object.get(k).and_then(serde_json::Value::as_str).is_some_and(|v| !v.is_empty());
    let missing: Vec<&str> = ["username", "password"].into_iter().filter(|k| !filled(k)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!("{} missing or empty (keys found: {}; {SHAPE})", missing.join(" and "), keys_of(object)))
}

fn root_ca(text: &str) -> Result<(), String> {
    const SHAPE: &str = "expected {\"certificate\": \"-----BEGIN CERTIFICATE-----…\"}";
    let pem = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(o)) => match o.get("certificate").and_then(serde_json::Value::as_str) {
            Some(c) => c.to_string(),
            None => return Err(format!("certificate missing (keys found: {}; {SHAPE})", keys_of(&o))),
        },
        Ok(_) => return Err(format!("the secret's value is not a JSON object ({SHAPE})")),
        Err(_) => text.to_string(),
    };
    match super::files::certificates_from_pem(pem.as_bytes(), "certificate") {
        Ok(certs) if !certs.is_empty() => Ok(()),
        _ => Err(format!("certificate holds no PEM certificate ({SHAPE})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_access_type_has_its_shape() {
        assert!(check("BASIC_AUTH", "s", r#"{"username": "sr-key", "password": "x"}"#).problem.is_none());
        let bad = check("BASIC_AUTH", "s", r#"{"username": "sr-key", "api_secret": "hunter2"}"#);
        let p = bad.problem.expect("a problem");
        assert!(p.contains("password missing") && p.contains("api_secret, username"), "{p}");
        assert!(!p.contains("hunter2") && !p.contains("sr-key"), "no value shown: {p}");
        assert!(check("BASIC_AUTH", "s", "user:pass").problem.is_some_and(|p| p.contains("not JSON")));
        let ca = check("SERVER_ROOT_CA_CERTIFICATE", "s", r#"{"cert": "x"}"#);
        assert!(ca.problem.is_some_and(|p| p.contains("certificate missing (keys found: cert")));
        let ca = check("SERVER_ROOT_CA_CERTIFICATE", "s", r#"{"certificate": "not a pem"}"#);
        assert!(ca.problem.is_some_and(|p| p.contains("no PEM certificate")));
        let cert = check("CLIENT_CERTIFICATE_TLS_AUTH", "s", r#"{"certificate": "x"}"#);
        assert!(cert.problem.is_some(), "{cert:?}");
        let other = check("OAUTH", "s", "{}");
        assert!(other.problem.is_none() && !other.verified);
    }
}

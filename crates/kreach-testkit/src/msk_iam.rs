//! An Amazon MSK IAM access-control check for tests: it judges a SASL AWS_MSK_IAM payload the way
//! the documented scheme defines it — AWS's client library (aws-msk-iam-auth) presigns a GET of
//! `https://<host>/?Action=kafka-cluster:Connect` with SigV4 for the service `kafka-cluster` and
//! sends the query parameters, lower-cased, as a JSON object with `version` `2020_10_22` — and
//! answers as MSK does (`{"version": …, "request-id": …}`, or an error). Served by
//! [`crate::oauth_front::OAuthFront::serve_mechanism`] in front of librdkafka's mock cluster.
//!
//! Written here because nothing that runs on these machines verifies MSK IAM signatures (only
//! Amazon MSK does). The SigV4 verification is this module's own, from AWS's published signing
//! steps (canonical request, string to sign, derived key), with ring's HMAC and SHA-256: it shares
//! no code with the aws-sigv4 crate kreach signs with.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ring::{digest, hmac};

use crate::oauth_front::Check;

/// An IAM principal the cluster knows.
#[derive(Clone, Debug)]
pub struct Principal {
    /// Its access key id.
    pub access_key: String,
    /// Its secret access key.
    pub secret_key: String,
    /// Its session token, for temporary credentials.
    pub session_token: Option<String>,
    /// Whether its policies allow `kafka-cluster:Connect` on this cluster.
    pub may_connect: bool,
}

/// The check for a cluster whose brokers are `host` in `region`.
pub fn verifier(host: &str, region: &str, principals: Vec<Principal>) -> Check {
    let (host, region) = (host.to_string(), region.to_string());
    let requests = Arc::new(AtomicU64::new(1));
    Arc::new(move |bytes: &[u8]| {
        let id = requests.fetch_add(1, Ordering::Relaxed);
        verify(bytes, &host, &region, &principals, now())?;
        Ok(serde_json::json!({"version": "2020_10_22", "request-id": format!("00000000-0000-0000-0000-{id:012}")})
            .to_string()
            .into_bytes())
    })
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The canonical spelling of each signed query parameter, by the payload's lower-cased key.
const PARAMS: [(&str, &str); 7] = [
    ("action", "Action"),
    ("x-amz-algorithm", "X-Amz-Algorithm"),
    ("x-amz-credential", "X-Amz-Credential"),
    ("x-amz-date", "X-Amz-Date"),
    ("x-amz-expires", "X-Amz-Expires"),
    ("x-amz-security-token", "X-Amz-Security-Token"),
    ("x-amz-signedheaders", "X-Amz-SignedHeaders"),
];

fn verify(bytes: &[u8], host: &str, region: &str, principals: &[Principal], now: i64) -> Result<(), String> {
    if bytes.len() > 16 * 1024 {
        return Err("payload too large".into());
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| "payload is not JSON".to_string())?;
    let fields: std::collections::HashMap<String, String> = v
        .as_object()
        .map(|o| o.iter().filter_map(|(k, x)| x.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default();
    if fields.get("version").map(String::as_str) != Some("2020_10_22") {
        return Err("version is not 2020_10_22".into());
    }
    if fields.get("host").map(String::as_str) != Some(host) {
        return Err(format!("host is not {host}"));
    }
    verify_signed(&fields, host, region, principals, now)
}

/// The check for OAUTHBEARER carrying MSK's IAM token, as AWS's MSK IAM SASL signer libraries
/// build it (the unpadded base64url of a presigned
/// `https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-…&User-Agent=…`),
/// for a cluster in `region`: the token's URL is verified as [`verifier`] verifies a payload,
/// and a success is OAUTHBEARER's (no bytes).
pub fn token_verifier(region: &str, principals: Vec<Principal>) -> Check {
    let region = region.to_string();
    Arc::new(move |bytes: &[u8]| {
        verify_token(bytes, &region, &principals, now())?;
        Ok(Vec::new())
    })
}

fn verify_token(bytes: &[u8], region: &str, principals: &[Principal], now: i64) -> Result<(), String> {
    use base64::Engine as _;
    if bytes.len() > 16 * 1024 {
        return Err("token too large".into());
    }
    // RFC 7628: `n,,` ^A `auth=Bearer <token>` ^A … ^A^A.
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
    let token = text
        .split('\x01')
        .find_map(|kv| kv.strip_prefix("auth=Bearer "))
        .ok_or("no bearer token in the OAUTHBEARER message")?;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()
        .and_then(|u| String::from_utf8(u).ok())
        .ok_or("the token is not base64url")?;
    let host = format!("kafka.{region}.amazonaws.com");
    let query = url
        .strip_prefix(&format!("https://{host}/?"))
        .ok_or_else(|| format!("the token is not a URL of https://{host}/"))?;
    let fields: std::collections::HashMap<String, String> =
        form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned())).collect();
    verify_signed(&fields, &host, region, principals, now)
}

/// The signed `kafka-cluster:Connect` query parameters (lower-cased keys) for `host`.
fn verify_signed(
    fields: &std::collections::HashMap<String, String>,
    host: &str,
    region: &str,
    principals: &[Principal],
    now: i64,
) -> Result<(), String> {
    let field = |k: &str| fields.get(k).map(String::as_str);
    let want = |k: &str, expected: &str| {
        (field(k) == Some(expected)).then_some(()).ok_or_else(|| format!("{k} is not {expected}"))
    };
    want("action", "kafka-cluster:Connect")?;
    want("x-amz-algorithm", "AWS4-HMAC-SHA256")?;
    want("x-amz-signedheaders", "host")?;
    let credential = field("x-amz-credential").ok_or("no credential")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, day, scope_region, service, "aws4_request"] = scope.as_slice() else {
        return Err("malformed credential scope".into());
    };
    if *service != "kafka-cluster" || *scope_region != region {
        return Err(format!("credential scope is not {region}/kafka-cluster"));
    }
    let date = field("x-amz-date").ok_or("no date")?;
    let signed_at = parse_date(date).ok_or("malformed date")?;
    if !date.starts_with(day) {
        return Err("date and credential scope disagree".into());
    }
    let expires: i64 = field("x-amz-expires").and_then(|e| e.parse().ok()).ok_or("malformed expiry")?;
    if signed_at > now + 300 || now > signed_at + expires.min(900) {
        return Err("signature expired or from the future".into());
    }
    let principal = principals
        .iter()
        .find(|p| p.access_key == *access_key)
        .ok_or("The security token included in the request is invalid")?;
    if field("x-amz-security-token") != principal.session_token.as_deref() {
        return Err("The security token included in the request is invalid".into());
    }
    // Canonical request: the query in byte order of the encoded names, the host header alone,
    // the empty body's hash.
    let mut query: Vec<(String, String)> =
        PARAMS.iter().filter_map(|(key, name)| field(key).map(|value| (encode(name), encode(value)))).collect();
    query.sort();
    let query = query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let canonical =
        format!("GET\n/\n{query}\nhost:{host}\n\nhost\n{}", hex(digest::digest(&digest::SHA256, b"").as_ref()));
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{day}/{region}/kafka-cluster/aws4_request\n{}",
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let expected = signature(&principal.secret_key, day, region, "kafka-cluster", &to_sign);
    if field("x-amz-signature") != Some(expected.as_str()) {
        return Err("The request signature we calculated does not match the signature you provided".into());
    }
    if !principal.may_connect {
        return Err("Access denied".into());
    }
    Ok(())
}

/// SigV4's signature of `to_sign`: HMAC-SHA256 with the key derived from the secret key, the
/// day, the region and the service.
pub(crate) fn signature(secret_key: &str, day: &str, region: &str, service: &str, to_sign: &str) -> String {
    let mut key = format!("AWS4{secret_key}").into_bytes();
    for part in [day, region, service, "aws4_request"] {
        key = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), part.as_bytes()).as_ref().to_vec();
    }
    hex(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), to_sign.as_bytes()).as_ref())
}

/// SigV4's URI encoding: everything but `A-Z a-z 0-9 - _ . ~` as `%XX`.
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYYMMDDTHHMMSSZ` as seconds since the epoch.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    if s.len() != 16 || &s[8..9] != "T" || !s.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (hh, mm, ss) = (n(9..11)?, n(11..13)?, n(13..15)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_to_the_epoch() {
        assert_eq!(parse_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_date("20231114T221320Z"), Some(1_700_000_000));
        assert_eq!(parse_date("2023-11-14"), None);
    }
}

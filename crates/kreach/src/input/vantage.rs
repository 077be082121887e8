//! Where am I: an EC2 instance (IMDSv2), a Lambda function, or somewhere else. The answer
//! sharpens the hints (a Lambda outside a VPC resolves through public DNS) and labels the report
//! for `kreach merge`.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::report::{Vantage, VantageFacts, VantageKind};

/// The instance metadata service, unless `AWS_EC2_METADATA_SERVICE_ENDPOINT` says otherwise.
pub const IMDS_DEFAULT: &str = "http://169.254.169.254";
/// Each IMDS request's limit: off EC2 nothing answers, and that must cost little.
const IMDS_TIMEOUT: Duration = Duration::from_millis(400);
/// Largest IMDS answer read.
const IMDS_MAX: usize = 64 * 1024;

/// Detects the vantage point. `env` looks up environment variables; IMDS is asked only when
/// not in Lambda and `AWS_EC2_METADATA_DISABLED` is not `true`.
pub async fn detect(env: &(dyn Fn(&str) -> Option<String> + Sync)) -> Vantage {
    // Each request has its own short limit; the whole detection has one too, so a metadata
    // service that answers slowly cannot hold the audit (which waits for it) for long.
    match tokio::time::timeout(DETECT_CAP, detect_unbounded(env)).await {
        Ok(v) => v,
        Err(_) => other(&format!(
            "the instance metadata service did not finish answering within {} ms",
            DETECT_CAP.as_millis()
        )),
    }
}

/// Longest the whole vantage detection may take.
pub const DETECT_CAP: Duration = Duration::from_millis(1500);

async fn detect_unbounded(env: &(dyn Fn(&str) -> Option<String> + Sync)) -> Vantage {
    if let Some(function) = env("AWS_LAMBDA_FUNCTION_NAME") {
        let mut facts = VantageFacts::default();
        for (key, var) in [
            ("function_name", "AWS_LAMBDA_FUNCTION_NAME"),
            ("function_version", "AWS_LAMBDA_FUNCTION_VERSION"),
            ("memory_mb", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
            ("region", "AWS_REGION"),
            ("log_group", "AWS_LAMBDA_LOG_GROUP_NAME"),
        ] {
            if let Some(v) = env(var) {
                facts.set(key, v);
            }
        }
        // Whether it is attached to a VPC is not in its environment: the Lambda crate asks
        // lambda:GetFunctionConfiguration and fills it in.
        return Vantage {
            kind: VantageKind::Lambda,
            label: format!("lambda:{function}"),
            facts,
            note: None,
            vpc_attached: None,
        };
    }
    if env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return other("instance metadata disabled (AWS_EC2_METADATA_DISABLED)");
    }
    let endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT").unwrap_or_else(|| IMDS_DEFAULT.to_string());
    let Some(authority) = imds_authority(&endpoint) else {
        return other(&format!("unsupported instance metadata endpoint {}", crate::error::quote(&endpoint)));
    };
    let Some(token) = imds(&authority, "PUT", "/latest/api/token", None).await else {
        return other("not an EC2 instance (no instance metadata service answered)");
    };
    // Whatever answers there is checked before it is used: the token goes into every later
    // request's headers, the MAC into request paths, and every fact into the report.
    if !valid_token(&token) {
        return other("the instance metadata service answered with a malformed token: not treated as EC2");
    }
    // The instance identity document is what makes this an EC2 instance; the rest is detail.
    let document = imds(&authority, "GET", "/latest/dynamic/instance-identity/document", Some(&token)).await;
    let Some(identity) = document.as_deref().and_then(identity_document) else {
        return other("the instance metadata service gave no valid instance identity document: not treated as EC2");
    };
    let mut facts = VantageFacts::default();
    for (key, value) in identity {
        facts.set(key, value);
    }
    for (key, path) in [("az_id", "placement/availability-zone-id"), ("mac", "mac")] {
        if let Some(v) = imds(&authority, "GET", &format!("/latest/meta-data/{path}"), Some(&token)).await {
            if let Some(v) = valid_fact(key, &v) {
                facts.set(key, v);
            }
        }
    }
    if let Some(mac) = facts.mac.clone() {
        for (key, path) in
            [("vpc_id", "vpc-id"), ("subnet_id", "subnet-id"), ("security_group_ids", "security-group-ids")]
        {
            let path = format!("/latest/meta-data/network/interfaces/macs/{mac}/{path}");
            if let Some(v) = imds(&authority, "GET", &path, Some(&token)).await {
                if let Some(v) = valid_fact(key, &v) {
                    facts.set(key, v);
                }
            }
        }
    }
    let label = match (facts.az_id.as_ref(), facts.instance_id.as_ref()) {
        (Some(az), Some(id)) => format!("{az} ({id})"),
        (None, Some(id)) => id.clone(),
        _ => "ec2".to_string(),
    };
    Vantage { kind: VantageKind::Ec2, label, facts, note: None, vpc_attached: Some(true) }
}

/// Longest IMDSv2 token accepted (real ones are ~56 characters).
const MAX_TOKEN: usize = 1024;
/// Most security groups kept from the metadata service.
const MAX_GROUPS: usize = 16;

/// A token is visible ASCII only (it goes into a header: no CR, LF or space) and short.
fn valid_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= MAX_TOKEN && token.bytes().all(|b| b.is_ascii_graphic())
}

/// `prefix-` followed by 8 or 17 lower-case hex digits: the shape of AWS resource ids.
fn aws_id(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('-')).is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The value of a metadata fact when it has the shape the key promises; `None` otherwise.
fn valid_fact(key: &str, value: &str) -> Option<String> {
    let v = value.trim();
    let ok = match key {
        "instance_id" => aws_id(v, "i"),
        "vpc_id" => aws_id(v, "vpc"),
        "subnet_id" => aws_id(v, "subnet"),
        "account_id" => v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()),
        "mac" => {
            let parts: Vec<&str> = v.split(':').collect();
            parts.len() == 6 && parts.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        }
        "az_id" => {
            // `usw2-az1`, `use1-az6`, `apne1-az4`, `use1-lax1-az1` (Local Zones).
            v.len() <= 32
                && v.contains("-az")
                && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }
        "region" | "az_name" => {
            v.len() <= 32
                && !v.is_empty()
                && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }
        "private_ip" => v.parse::<std::net::IpAddr>().is_ok(),
        "security_group_ids" => {
            let groups: Vec<&str> = v.lines().map(str::trim).filter(|g| !g.is_empty()).collect();
            if groups.is_empty() || groups.len() > MAX_GROUPS || !groups.iter().all(|g| aws_id(g, "sg")) {
                return None;
            }
            return Some(groups.join(","));
        }
        _ => false,
    };
    ok.then(|| v.to_string())
}

/// The facts of an instance identity document (JSON: `instanceId`, `availabilityZone`, `region`,
/// `privateIp`, `accountId`), when it parses and names a well-formed instance id.
fn identity_document(text: &str) -> Option<BTreeMap<&'static str, String>> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    let mut facts = BTreeMap::new();
    for (key, field) in [
        ("instance_id", "instanceId"),
        ("az_name", "availabilityZone"),
        ("region", "region"),
        ("private_ip", "privateIp"),
        ("account_id", "accountId"),
    ] {
        if let Some(v) = doc.get(field).and_then(|v| v.as_str()).and_then(|v| valid_fact(key, v)) {
            facts.insert(key, v);
        }
    }
    facts.contains_key("instance_id").then_some(facts)
}

/// `host:port` to connect to for an `http://` endpoint: `host`, `host:port`, `[v6]` or
/// `[v6]:port` (IMDS over IPv6 is `http://[fd00:ec2::254]`).
fn imds_authority(endpoint: &str) -> Option<String> {
    let authority = endpoint.strip_prefix("http://")?.trim_end_matches('/');
    let has_port = match authority.rsplit_once(']') {
        Some((_, rest)) => rest.starts_with(':'),
        None => authority.contains(':'),
    };
    Some(if has_port { authority.to_string() } else { format!("{authority}:80") })
}

impl Vantage {
    /// A vantage point that could not be told: this machine, with why.
    pub fn undetected(note: &str) -> Vantage {
        other(note)
    }
}

fn other(note: &str) -> Vantage {
    // The host name, as the machine names itself (first line, at most a DNS name's length).
    let host: String =
        crate::input::files::read_input_file(std::path::Path::new("/etc/hostname"), 1024, "/etc/hostname")
            .ok()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .and_then(|h| h.lines().next().map(|l| l.trim().chars().filter(|c| !c.is_control()).take(253).collect()))
            .unwrap_or_default();
    let mut facts = VantageFacts::default();
    if !host.is_empty() {
        facts.hostname = Some(host.clone());
    }
    Vantage {
        kind: VantageKind::Other,
        // Not an instance nor a function: "this machine", told apart by its host name.
        label: if host.is_empty() { "this machine".into() } else { format!("this machine ({host})") },
        facts,
        note: Some(note.to_string()),
        vpc_attached: None,
    }
}

/// One IMDSv2 request; `None` on any failure (off EC2 that is the normal answer).
async fn imds(authority: &str, method: &str, path: &str, token: Option<&str>) -> Option<String> {
    let exchange = async {
        let mut stream = TcpStream::connect(authority).await.ok()?;
        let auth = match token {
            Some(t) => format!("X-aws-ec2-metadata-token: {t}\r\n"),
            None => "X-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 0\r\n".to_string(),
        };
        let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
        let request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut body = Vec::new();
        (&mut stream).take(IMDS_MAX as u64).read_to_end(&mut body).await.ok()?;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(head) = response.parse(&body).ok()? else { return None };
        if response.code != Some(200) {
            return None;
        }
        let text = String::from_utf8_lossy(&body[head..]).trim().to_string();
        (!text.is_empty()).then_some(text)
    };
    tokio::time::timeout(IMDS_TIMEOUT, exchange).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::{identity_document, imds_authority, valid_fact, valid_token};

    #[test]
    fn metadata_values_are_checked_before_use() {
        assert!(valid_token("AQAEAFTNrA4eEGx0AQgJ1arIq_Cc-t4tWt3fB0Hd8p3MlBpSrQ=="));
        for bad in ["", "tok\r\nX-Injected: 1", "tok en", &"a".repeat(2000)] {
            assert!(!valid_token(bad), "{bad:?}");
        }
        assert_eq!(valid_fact("mac", "0e:11:22:33:44:55").as_deref(), Some("0e:11:22:33:44:55"));
        for bad in ["../../x", "0e:11:22:33:44:55\r\nHost: x", "0e:11:22:33:44", "zz:11:22:33:44:55"] {
            assert_eq!(valid_fact("mac", bad), None, "{bad:?}");
        }
        assert!(valid_fact("instance_id", "i-0123456789abcdef0").is_some());
        assert!(valid_fact("instance_id", "i-fake").is_none());
        assert!(valid_fact("instance_id", &"i-".repeat(1000)).is_none());
        assert_eq!(
            valid_fact("security_group_ids", "sg-0123456789abcdef0\nsg-01234567\n").as_deref(),
            Some("sg-0123456789abcdef0,sg-01234567")
        );
        assert!(valid_fact("security_group_ids", "sg-01234567\n<script>").is_none());
        assert!(valid_fact("az_id", "usw2-az1").is_some() && valid_fact("az_id", &"x".repeat(64)).is_none());
        assert!(identity_document("not json").is_none());
        assert!(identity_document(r#"{"instanceId": "garbage garbage"}"#).is_none());
        let facts = identity_document(
            r#"{"instanceId": "i-0123456789abcdef0", "region": "us-west-2", "availabilityZone": "us-west-2b",
                "privateIp": "10.0.1.7", "accountId": "123456789012", "extra": "ignored"}"#,
        )
        .expect("a valid document");
        assert_eq!(facts.len(), 5);
    }

    #[test]
    fn imds_endpoints_over_ipv4_and_ipv6() {
        assert_eq!(imds_authority("http://169.254.169.254").as_deref(), Some("169.254.169.254:80"));
        assert_eq!(imds_authority("http://127.0.0.1:1338/").as_deref(), Some("127.0.0.1:1338"));
        assert_eq!(imds_authority("http://[fd00:ec2::254]").as_deref(), Some("[fd00:ec2::254]:80"));
        assert_eq!(imds_authority("http://[::1]:1338").as_deref(), Some("[::1]:1338"));
        assert_eq!(imds_authority("https://169.254.169.254"), None);
    }
}

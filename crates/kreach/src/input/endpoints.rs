//! Endpoints around Kafka: `--target`, Schema Registry, the AWS APIs a Lambda path needs and the
//! Confluent Cloud public endpoints, each probed through DNS → TCP → TLS → HTTPS.

use crate::error::ParseError;
use crate::input::address::HostPort;
use crate::report::{EndpointKind, EndpointTarget};

/// The AWS APIs a Lambda path needs: the event source mapping calls Lambda and STS (and Secrets
/// Manager for its secret); a function reads its secret through Secrets Manager.
pub const AWS_APIS: [&str; 3] = ["lambda", "sts", "secretsmanager"];
/// The Confluent Cloud public endpoints the client tools use: the Cloud API and the CLI's login.
pub const CONFLUENT_APIS: [&str; 2] = ["api.confluent.cloud", "confluent.cloud"];
/// The port of the AWS and Confluent APIs.
pub const API_PORT: u16 = 443;

/// One endpoint to probe.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointSpec {
    /// Where.
    pub hp: HostPort,
    /// Whether it speaks TLS (then HTTPS when `target.path` is set).
    pub tls: bool,
    /// What it is, for the report.
    pub target: EndpointTarget,
}

impl EndpointSpec {
    fn new(name: String, kind: EndpointKind, hp: HostPort, tls: bool, path: Option<String>) -> Self {
        let expect_private = private_by_name(&hp.host).then_some(true);
        EndpointSpec { hp, tls, target: EndpointTarget { name, kind, expect_private, path } }
    }

    /// `--target [NAME=][SCHEME://]HOST:PORT[/PATH]`: `https://` (the default) runs DNS, TCP,
    /// TLS and an HTTP request; `tls://` stops after the handshake; `tcp://` after the connect.
    pub fn parse_target(text: &str) -> Result<Self, ParseError> {
        let text = text.trim();
        // A space, CR or LF would end the request line or add a header to the HTTP request.
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ParseError(format!(
                "{}: spaces and control characters are not allowed (percent-encode them in a path)",
                crate::error::quote(text)
            )));
        }
        let (name, rest) = match text.split_once('=') {
            Some((name, rest)) if !name.contains("://") && !name.contains('/') => (Some(name.trim()), rest.trim()),
            _ => (None, text),
        };
        if name.is_some_and(|n| n.is_empty() || n.len() > 64 || n.chars().any(|c| c.is_control() || c == ' ')) {
            return Err(ParseError(format!(
                "{}: NAME must be 1 to 64 characters without spaces",
                crate::error::quote(text)
            )));
        }
        let (scheme, rest) = match rest.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("https".to_string(), rest),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(rest[i..].to_string())),
            None => (rest, None),
        };
        if !authority.contains(':') || authority.ends_with(':') {
            return Err(ParseError(format!("{}: give HOST:PORT (the port is required)", crate::error::quote(text))));
        }
        let hp = HostPort::parse(authority, 0)?;
        let (tls, path) = match scheme.as_str() {
            "https" => (true, Some(path.unwrap_or_else(|| "/".to_string()))),
            "tls" => (true, None),
            "tcp" => (false, None),
            other => {
                return Err(ParseError(format!(
                    "{}: scheme {} is not one of https, tls, tcp",
                    crate::error::quote(text),
                    crate::error::quote(other)
                )));
            }
        };
        let name = name.map(str::to_string).unwrap_or_else(|| hp.to_string());
        Ok(EndpointSpec::new(name, EndpointKind::Target, hp, tls, path))
    }

    /// `--schema-registry URL` (or `schema.registry.url`): `https://HOST[:PORT][/PATH]`; an
    /// `http://` URL is probed up to TCP.
    pub fn schema_registry(url: &str) -> Result<Self, ParseError> {
        let url = url.trim();
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ParseError(format!(
                "{}: spaces and control characters are not allowed in a URL",
                crate::error::quote(url)
            )));
        }
        let (tls, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(ParseError(format!("{} is not an https:// or http:// URL", crate::error::quote(url))));
        };
        // Only the first URL of a comma-separated list (clients fail over between them).
        let rest = rest.split(',').next().unwrap_or_default();
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        if authority.contains('@') {
            return Err(ParseError("the URL carries credentials: leave them out (kreach sends none)".into()));
        }
        let hp = HostPort::parse(authority, if tls { 443 } else { 80 })?;
        let path = tls.then_some(path);
        Ok(EndpointSpec::new("schema-registry".into(), EndpointKind::SchemaRegistry, hp, tls, path))
    }

    /// The OAuth token endpoint: a row of its own (DNS, TCP, TLS and an HTTP request without
    /// credentials), beside the token fetch that carries them.
    pub fn token_endpoint(hp: HostPort, tls: bool, path: &str) -> Self {
        let path = tls.then(|| path.to_string());
        let mut spec = EndpointSpec::new("oauth-token".into(), EndpointKind::TokenEndpoint, hp, tls, path);
        // An identity provider is usually public; a private one (a PrivateLink to it) is the user's to say.
        spec.target.expect_private = None;
        spec
    }

    /// The AWS APIs of `region` (`secretsmanager` only when a secret is used), on `port`.
    pub fn aws_apis(region: &str, with_secret: bool, port: u16) -> Result<Vec<Self>, ParseError> {
        let region = region.trim();
        let valid = !region.is_empty()
            && region.len() <= 32
            && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(ParseError(format!(
                "{} is not an AWS region name (e.g. us-west-2)",
                crate::error::quote(region)
            )));
        }
        let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
        Ok(AWS_APIS
            .iter()
            .filter(|s| with_secret || **s != "secretsmanager")
            .map(|service| {
                let hp = HostPort { host: format!("{service}.{region}.{suffix}"), port };
                EndpointSpec::new(format!("aws:{service}"), EndpointKind::AwsApi, hp, true, Some("/".into()))
            })
            .collect())
    }

    /// The Confluent Cloud public endpoints, on `port`.
    pub fn confluent_apis(port: u16) -> Vec<Self> {
        CONFLUENT_APIS
            .iter()
            .map(|host| {
                let hp = HostPort { host: host.to_string(), port };
                EndpointSpec::new(format!("confluent:{host}"), EndpointKind::ConfluentApi, hp, true, Some("/".into()))
            })
            .collect()
    }
}

/// Most endpoints around Kafka in one run.
pub const MAX_ENDPOINTS: usize = 32;

/// Names that only ever resolve privately.
fn private_by_name(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host.ends_with(".private.confluent.cloud") || host.ends_with(".accesspoint.confluent.cloud")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_take_a_name_a_scheme_and_a_path() {
        let t = EndpointSpec::parse_target("db=tcp://db.internal:5432").expect("tcp");
        assert_eq!((t.target.name.as_str(), t.tls, t.target.path.as_deref()), ("db", false, None));
        let t = EndpointSpec::parse_target("api.example:8443/health").expect("https default");
        assert_eq!((t.target.name.as_str(), t.tls), ("api.example:8443", true));
        assert_eq!(t.target.path.as_deref(), Some("/health"));
        let t = EndpointSpec::parse_target("tls://10.0.0.5:9093").expect("tls");
        assert_eq!((t.tls, t.target.path), (true, None));
        for bad in ["nohost", "host:", "ftp://h:21", "=h:1", "h:99999", "a b=h:1"] {
            assert!(EndpointSpec::parse_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn schema_registry_urls_and_private_names() {
        let sr = EndpointSpec::schema_registry("https://psrc-abc.us-west-2.aws.confluent.cloud").expect("sr");
        assert_eq!((sr.hp.port, sr.tls, sr.target.expect_private), (443, true, None));
        let sr = EndpointSpec::schema_registry("https://lsrc-1.us-west-2.aws.private.confluent.cloud:8443/x,https://b")
            .expect("private");
        assert_eq!((sr.hp.port, sr.target.expect_private, sr.target.path.as_deref()), (8443, Some(true), Some("/x")));
        assert!(EndpointSpec::schema_registry("https://user:pw@h").is_err(), "credentials in the URL");
        assert!(EndpointSpec::schema_registry("psrc-abc:443").is_err(), "not a URL");
        assert!(!EndpointSpec::schema_registry("http://sr.local:8081").expect("http").tls);
    }

    #[test]
    fn aws_apis_by_region() {
        let apis = EndpointSpec::aws_apis("us-west-2", false, 443).expect("apis");
        let hosts: Vec<&str> = apis.iter().map(|a| a.hp.host.as_str()).collect();
        assert_eq!(hosts, ["lambda.us-west-2.amazonaws.com", "sts.us-west-2.amazonaws.com"]);
        assert_eq!(
            EndpointSpec::aws_apis("cn-north-1", true, 443).expect("cn")[2].hp.host,
            "secretsmanager.cn-north-1.amazonaws.com.cn"
        );
        assert!(EndpointSpec::aws_apis("us-west-2; rm", false, 443).is_err());
    }
}

//! OAuth for SASL OAUTHBEARER (OIDC client credentials), as librdkafka and Java clients configure
//! it: the token endpoint, the client's id and secret, the scope and the SASL extensions Confluent
//! Cloud needs (`logicalCluster`, `identityPoolId`).
//!
//! librdkafka: `sasl.oauthbearer.method=oidc`, `sasl.oauthbearer.token.endpoint.url`,
//! `sasl.oauthbearer.client.id`, `sasl.oauthbearer.client.secret`, `sasl.oauthbearer.scope`,
//! `sasl.oauthbearer.extensions=logicalCluster=lkc-…,identityPoolId=pool-…`. Java:
//! `sasl.oauthbearer.token.endpoint.url` and `sasl.jaas.config=org.apache.kafka.common.security.
//! oauthbearer.OAuthBearerLoginModule required clientId="…" clientSecret="…" scope="…"
//! extension_logicalCluster="…" extension_identityPoolId="…";`. The URL comes from the same place
//! as the secret (the properties, the function's own configuration), never from an event.

use crate::error::Error;
use crate::input::address::HostPort;
use crate::input::secret::Secret;

/// Environment variable that supplies (or overrides) the OAuth client secret.
pub const ENV_OAUTH_CLIENT_SECRET: &str = "KREACH_OAUTH_CLIENT_SECRET";
/// Most SASL extensions taken (Confluent Cloud uses two).
const MAX_EXTENSIONS: usize = 16;

/// An OIDC client-credentials client.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OAuthClient {
    /// The token endpoint.
    pub endpoint: TokenEndpoint,
    /// The client id.
    pub client_id: String,
    /// The client secret: sent only to the token endpoint, over verified TLS unless allowed.
    pub client_secret: Secret,
    /// The scope asked for, when one is configured.
    pub scope: Option<String>,
    /// SASL extensions sent with the token (`logicalCluster`, `identityPoolId`, …).
    pub extensions: Vec<(String, String)>,
}

/// Where tokens come from: `https://HOST[:PORT]/PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenEndpoint {
    /// Host and port.
    pub hp: HostPort,
    /// Whether it is `https://` (an `http://` endpoint is taken only when insecure credentials
    /// are allowed).
    pub tls: bool,
    /// The request path, with its query.
    pub path: String,
}

impl TokenEndpoint {
    /// Parses the URL; `allow_plain` takes `http://`.
    pub fn parse(url: &str, allow_plain: bool) -> Result<Self, String> {
        let url = url.trim();
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("spaces and control characters are not allowed in a URL".into());
        }
        let (tls, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            if !allow_plain {
                return Err("is http://: the client secret would travel in clear (use https://, or allow it with \
                     --allow-insecure-credentials)"
                    .into());
            }
            (false, rest)
        } else {
            return Err(format!("{} is not an https:// URL", crate::error::quote(url)));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        if authority.contains('@') {
            return Err("the URL carries credentials: give the client id and secret as properties".into());
        }
        let hp = HostPort::parse(authority, if tls { 443 } else { 80 }).map_err(|e| e.to_string())?;
        Ok(TokenEndpoint { hp, tls, path })
    }

    /// The URL as the report shows it.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let default = if self.tls { 443 } else { 80 };
        let port = if self.hp.port == default { String::new() } else { format!(":{}", self.hp.port) };
        let host = if self.hp.host.contains(':') { format!("[{}]", self.hp.host) } else { self.hp.host.clone() };
        format!("{scheme}://{host}{port}{}", self.path)
    }
}

/// The OIDC client the properties configure for OAUTHBEARER, `None` when they configure no token
/// endpoint (a static or unsecured token: kreach cannot verify it and says so). Each missing or bad
/// piece is an error naming its property.
pub(crate) fn oauth_client(
    prop: &dyn Fn(&str) -> Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
    allow_plain: bool,
) -> Result<Option<OAuthClient>, Error> {
    let jaas = prop("sasl.jaas.config").filter(|j| j.contains("OAuthBearerLoginModule"));
    let options = match &jaas {
        Some(j) => jaas_options(j).map_err(|e| Error::invalid("sasl.jaas.config", e))?,
        None => Vec::new(),
    };
    let option = |name: &str| options.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let oidc = prop("sasl.oauthbearer.method").is_some_and(|m| m.trim().eq_ignore_ascii_case("oidc"));
    let url = prop("sasl.oauthbearer.token.endpoint.url").filter(|u| !u.trim().is_empty());
    let java_client = option("clientId").is_some() || option("clientSecret").is_some();
    if !oidc && url.is_none() && !java_client {
        return Ok(None);
    }
    let url = url.ok_or_else(|| {
        Error::invalid("sasl.oauthbearer.token.endpoint.url", "OIDC client credentials need the token endpoint's URL")
    })?;
    let endpoint = TokenEndpoint::parse(&url, allow_plain)
        .map_err(|e| Error::invalid("sasl.oauthbearer.token.endpoint.url", e))?;
    let client_id = prop("sasl.oauthbearer.client.id").or_else(|| option("clientId")).filter(|c| !c.is_empty());
    let client_id = client_id
        .ok_or_else(|| Error::invalid("sasl.oauthbearer.client.id", "OIDC client credentials need the client id"))?;
    let secret = env(ENV_OAUTH_CLIENT_SECRET)
        .or_else(|| prop("sasl.oauthbearer.client.secret"))
        .or_else(|| option("clientSecret"))
        .filter(|s| !s.is_empty());
    let secret = secret.ok_or_else(|| {
        Error::invalid(
            "sasl.oauthbearer.client.secret",
            format!(
                "OIDC client credentials need the client secret (the properties file or {ENV_OAUTH_CLIENT_SECRET})"
            ),
        )
    })?;
    let scope = prop("sasl.oauthbearer.scope").or_else(|| option("scope")).filter(|s| !s.trim().is_empty());
    let mut extensions = match prop("sasl.oauthbearer.extensions") {
        Some(list) => parse_extensions(&list).map_err(|e| Error::invalid("sasl.oauthbearer.extensions", e))?,
        None => Vec::new(),
    };
    for (k, v) in &options {
        if let Some(name) = k.strip_prefix("extension_") {
            if !extensions.iter().any(|(n, _)| n == name) {
                extensions.push((name.to_string(), v.clone()));
            }
        }
    }
    if extensions.len() > MAX_EXTENSIONS {
        return Err(Error::invalid("sasl.oauthbearer.extensions", format!("more than {MAX_EXTENSIONS} extensions")));
    }
    for (k, v) in &extensions {
        valid_extension(k, v).map_err(|e| Error::invalid("sasl.oauthbearer.extensions", e))?;
    }
    Ok(Some(OAuthClient { endpoint, client_id, client_secret: Secret::new(secret), scope, extensions }))
}

/// `key=value,key=value` (librdkafka's `sasl.oauthbearer.extensions`).
fn parse_extensions(list: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (k, v) = entry.split_once('=').ok_or_else(|| format!("{} is not key=value", crate::error::quote(entry)))?;
        out.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(out)
}

/// RFC 7628: a key is ALPHA+, a value printable ASCII (and space, tab); `auth` is reserved.
fn valid_extension(key: &str, value: &str) -> Result<(), String> {
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic()) || key == "auth" {
        return Err(format!("{} is not an extension name (letters only, not `auth`)", crate::error::quote(key)));
    }
    if !value.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\t') {
        return Err(format!("the value of {key} has characters an extension cannot carry"));
    }
    Ok(())
}

/// The options of a JAAS login-module line: `Class FLAG name="value" name=value … ;`. An
/// unterminated quote, a missing control flag or an option without `=` is an error (whose text
/// never quotes a value: they hold secrets).
pub(crate) fn jaas_options(jaas: &str) -> Result<Vec<(String, String)>, String> {
    let mut rest = jaas.trim();
    let class_end = rest.find(char::is_whitespace).ok_or("no control flag after the login module's class")?;
    rest = rest[class_end..].trim_start();
    let flag_end = rest.find(|c: char| c.is_whitespace() || c == ';').unwrap_or(rest.len());
    let flag = &rest[..flag_end];
    if !["required", "requisite", "sufficient", "optional"].contains(&flag.to_ascii_lowercase().as_str()) {
        return Err("the login module's control flag (required) is missing".into());
    }
    rest = rest[flag_end..].trim_start();
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with(';') {
            return Ok(out);
        }
        let eq = rest.find('=').ok_or("an option without `=`")?;
        let name = rest[..eq].trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err("an option without a name".into());
        }
        rest = rest[eq + 1..].trim_start();
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let body = &rest[1..];
                let end = body.find(q).ok_or_else(|| format!("the value of {name} has no closing quote"))?;
                let value = body[..end].to_string();
                rest = &body[end + 1..];
                value
            }
            _ => {
                let end = rest.find(|c: char| c.is_whitespace() || c == ';').unwrap_or(rest.len());
                let value = rest[..end].to_string();
                rest = &rest[end..];
                value
            }
        };
        if out.len() >= 64 {
            return Err("more than 64 options".into());
        }
        out.push((name.to_string(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    fn field(e: Error) -> String {
        match e {
            Error::InvalidInput { field, .. } => field,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn librdkafka_and_java_configurations_give_the_same_client() {
        let rdkafka = props(&[
            ("sasl.oauthbearer.method", "oidc"),
            ("sasl.oauthbearer.token.endpoint.url", "https://idp.example.com/oauth2/token"),
            ("sasl.oauthbearer.client.id", "kafka-client"),
            ("sasl.oauthbearer.client.secret", "s3cr3t"),
            ("sasl.oauthbearer.scope", "kafka"),
            ("sasl.oauthbearer.extensions", "logicalCluster=lkc-abc12,identityPoolId=pool-XyZ"),
        ]);
        let c = oauth_client(&rdkafka, &|_| None, false).expect("valid").expect("client");
        assert_eq!(
            (c.endpoint.hp.host.as_str(), c.endpoint.hp.port, c.endpoint.path.as_str()),
            ("idp.example.com", 443, "/oauth2/token")
        );
        assert_eq!(
            c.extensions,
            [
                ("logicalCluster".to_string(), "lkc-abc12".to_string()),
                ("identityPoolId".to_string(), "pool-XyZ".to_string())
            ]
        );
        let java = props(&[
            ("sasl.oauthbearer.token.endpoint.url", "https://idp.example.com/oauth2/token"),
            (
                "sasl.jaas.config",
                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId='kafka-client' \
                 clientSecret=\"s3cr3t\" scope='kafka' extension_logicalCluster='lkc-abc12' extension_identityPoolId='pool-XyZ';",
            ),
        ]);
        let j = oauth_client(&java, &|_| None, false).expect("valid").expect("client");
        assert_eq!(
            (j.client_id.as_str(), j.client_secret.expose(), j.scope.as_deref()),
            ("kafka-client", "s3cr3t", Some("kafka"))
        );
        assert_eq!(j.extensions, c.extensions);
        // The environment's secret wins over the file's.
        let e =
            oauth_client(&rdkafka, &|k| (k == ENV_OAUTH_CLIENT_SECRET).then(|| "from-env".into()), false).expect("ok");
        assert_eq!(e.expect("client").client_secret.expose(), "from-env");
        // No OIDC configured: nothing kreach can fetch.
        assert!(oauth_client(&props(&[("sasl.mechanism", "OAUTHBEARER")]), &|_| None, false).expect("ok").is_none());
    }

    #[test]
    fn each_bad_piece_names_its_property_and_no_secret() {
        let base = [
            ("sasl.oauthbearer.method", "oidc"),
            ("sasl.oauthbearer.token.endpoint.url", "https://idp.example.com/token"),
            ("sasl.oauthbearer.client.id", "c"),
            ("sasl.oauthbearer.client.secret", "TOPSECRET"),
        ];
        let with = |k: &str, v: Option<&str>| {
            let mut p: Vec<(&str, &str)> = base.iter().copied().filter(|(n, _)| *n != k).collect();
            if let Some(v) = v {
                p.push((k, v));
            }
            let p: Vec<(String, String)> = p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
            move |key: &str| p.iter().find(|(n, _)| n == key).map(|(_, v)| v.clone())
        };
        for (key, value, expected) in [
            (
                "sasl.oauthbearer.token.endpoint.url",
                Some("http://idp.example.com/token"),
                "sasl.oauthbearer.token.endpoint.url",
            ),
            ("sasl.oauthbearer.token.endpoint.url", Some("ftp://idp"), "sasl.oauthbearer.token.endpoint.url"),
            ("sasl.oauthbearer.token.endpoint.url", None, "sasl.oauthbearer.token.endpoint.url"),
            ("sasl.oauthbearer.client.secret", None, "sasl.oauthbearer.client.secret"),
            ("sasl.oauthbearer.client.id", None, "sasl.oauthbearer.client.id"),
            ("sasl.oauthbearer.extensions", Some("logicalCluster"), "sasl.oauthbearer.extensions"),
            ("sasl.oauthbearer.extensions", Some("auth=x"), "sasl.oauthbearer.extensions"),
        ] {
            let e = oauth_client(&with(key, value), &|_| None, false).expect_err(key);
            let text = e.to_string();
            assert_eq!(field(e), expected, "{key}={value:?}");
            assert!(!text.contains("TOPSECRET"), "{text}");
        }
        // http:// is taken when insecure credentials are allowed.
        assert!(
            oauth_client(&with("sasl.oauthbearer.token.endpoint.url", Some("http://idp:8080/t")), &|_| None, true)
                .is_ok()
        );
        // A JAAS line that does not parse names sasl.jaas.config and never its secret.
        for bad in [
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule clientId='c';",
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientSecret='TOPSECRET;",
        ] {
            let p = props(&[("sasl.oauthbearer.token.endpoint.url", "https://idp/t"), ("sasl.jaas.config", bad)]);
            let e = oauth_client(&p, &|_| None, false).expect_err(bad);
            let text = e.to_string();
            assert_eq!(field(e), "sasl.jaas.config");
            assert!(!text.contains("TOPSECRET"), "{text}");
        }
    }
}

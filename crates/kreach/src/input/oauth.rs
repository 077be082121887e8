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
    /// Confluent's AWS IAM OAuth (`sasl.oauthbearer.metadata.authentication.type=aws_iam`): the
    /// token is a JWT from STS `GetWebIdentityToken` at `endpoint`, asked with the client's own
    /// AWS credentials (SigV4); `client_id` and `client_secret` are then empty and unused.
    pub aws_iam: Option<AwsWebIdentity>,
}

/// What `sasl.oauthbearer.config` asks STS `GetWebIdentityToken` for (Confluent's AWS IAM OAuth,
/// confluent-kafka 2.15: `region=…,audience=…[,duration_seconds=…][,signing_algorithm=…]
/// [,sts_endpoint=…][,tag_<name>=…]`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AwsWebIdentity {
    /// The region whose STS endpoint mints the token.
    pub region: String,
    /// The audience the token is for (Confluent Cloud: `https://confluent.cloud/oidc`).
    pub audience: String,
    /// The token's lifetime asked for, 60–3600 seconds (default 300).
    pub duration_seconds: u32,
    /// `ES384` (default) or `RS256`.
    pub signing_algorithm: String,
    /// Custom claims asked for (`tag_<name>=value`).
    pub tags: Vec<(String, String)>,
}

/// Most `tag_` claims STS takes.
const MAX_TAGS: usize = 50;

/// Confluent's AWS IAM OAuth from `sasl.oauthbearer.config`: what to ask STS for, and where
/// (`sts_endpoint`, else the region's STS endpoint). Errors name the key within the property.
fn aws_web_identity(config: &str, allow_plain: bool) -> Result<(AwsWebIdentity, TokenEndpoint), String> {
    let mut region = None;
    let mut audience = None;
    let mut duration_seconds = 300;
    let mut signing_algorithm = "ES384".to_string();
    let mut endpoint = None;
    let mut tags = Vec::new();
    // Pairs split on commas not escaped with a backslash; a value may hold `=`.
    let mut pairs = Vec::new();
    let mut current = String::new();
    let mut chars = config.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ',' => pairs.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    pairs.push(current);
    for pair in pairs.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let (key, value) =
            pair.split_once('=').ok_or_else(|| format!("{} is not key=value", crate::error::quote(pair)))?;
        match key {
            "region" if !value.is_empty() => region = Some(value.to_string()),
            "audience" if !value.is_empty() => audience = Some(value.to_string()),
            "duration_seconds" => {
                duration_seconds = value
                    .parse::<u32>()
                    .ok()
                    .filter(|d| (60..=3600).contains(d))
                    .ok_or("duration_seconds must be a whole number of seconds from 60 to 3600")?;
            }
            "signing_algorithm" if matches!(value, "ES384" | "RS256") => signing_algorithm = value.to_string(),
            "signing_algorithm" => return Err("signing_algorithm must be ES384 or RS256".into()),
            "sts_endpoint" => {
                let e = TokenEndpoint::parse(value, allow_plain).map_err(|e| format!("sts_endpoint {e}"))?;
                endpoint = Some(e);
            }
            "aws_debug" => {}
            k if k.starts_with("tag_") && k.len() > 4 => {
                if tags.len() == MAX_TAGS {
                    return Err(format!("more than {MAX_TAGS} tag_ claims"));
                }
                tags.push((k[4..].to_string(), value.to_string()));
            }
            k => return Err(format!("{} is not a key it takes", crate::error::quote(k))),
        }
    }
    let region = region.ok_or("AWS IAM OAuth needs region=<the STS region>")?;
    if !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(format!("region {} is not an AWS region name", crate::error::quote(&region)));
    }
    let audience = audience.ok_or("AWS IAM OAuth needs audience=<the audience the cluster expects>")?;
    let endpoint = match endpoint {
        Some(e) => e,
        None => TokenEndpoint::parse(&format!("https://sts.{region}.amazonaws.com/"), false)?,
    };
    Ok((AwsWebIdentity { region, audience, duration_seconds, signing_algorithm, tags }, endpoint))
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
    let aws_iam =
        prop("sasl.oauthbearer.metadata.authentication.type").is_some_and(|t| t.trim().eq_ignore_ascii_case("aws_iam"));
    if aws_iam {
        return aws_iam_client(prop, oidc, allow_plain).map(Some);
    }
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
    let extensions = extensions_of(prop, &options)?;
    Ok(Some(OAuthClient { endpoint, client_id, client_secret: Secret::new(secret), scope, extensions, aws_iam: None }))
}

/// Confluent's AWS IAM OAuth: the token from STS, the extensions as for any OIDC client.
fn aws_iam_client(prop: &dyn Fn(&str) -> Option<String>, oidc: bool, allow_plain: bool) -> Result<OAuthClient, Error> {
    if !oidc {
        return Err(Error::invalid(
            "sasl.oauthbearer.method",
            "sasl.oauthbearer.metadata.authentication.type=aws_iam needs sasl.oauthbearer.method=oidc",
        ));
    }
    let config = prop("sasl.oauthbearer.config").filter(|c| !c.trim().is_empty()).ok_or_else(|| {
        Error::invalid("sasl.oauthbearer.config", "AWS IAM OAuth needs region=… and audience=… in it")
    })?;
    let (web_identity, endpoint) =
        aws_web_identity(&config, allow_plain).map_err(|e| Error::invalid("sasl.oauthbearer.config", e))?;
    Ok(OAuthClient {
        endpoint,
        client_id: String::new(),
        client_secret: Secret::new(String::new()),
        scope: None,
        extensions: extensions_of(prop, &[])?,
        aws_iam: Some(web_identity),
    })
}

/// The SASL extensions: `sasl.oauthbearer.extensions`, then the JAAS line's `extension_*`, each
/// checked.
fn extensions_of(
    prop: &dyn Fn(&str) -> Option<String>,
    options: &[(String, String)],
) -> Result<Vec<(String, String)>, Error> {
    let mut extensions = match prop("sasl.oauthbearer.extensions") {
        Some(list) => parse_extensions(&list).map_err(|e| Error::invalid("sasl.oauthbearer.extensions", e))?,
        None => Vec::new(),
    };
    for (k, v) in options {
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
    Ok(extensions)
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

/// The role aws-msk-iam-auth's JAAS line makes the client sign as: `awsRoleArn` (an IAM role's
/// ARN), with `awsRoleSessionName` and `awsStsRegion`; `None` without `awsRoleArn`. A bad value is
/// an error naming `sasl.jaas.config` and the option.
pub(crate) fn msk_role(jaas: Option<&str>) -> Result<Option<crate::input::MskRole>, Error> {
    let Some(options) = msk_options(jaas)? else { return Ok(None) };
    let option = |name: &str| options.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let Some(arn) = option("awsRoleArn") else { return Ok(None) };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let role_arn = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("role/")
        && arn.len() <= 2048;
    if !role_arn {
        return Err(Error::invalid(
            "sasl.jaas.config",
            "awsRoleArn is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
        ));
    }
    let sts_region = option("awsStsRegion");
    if sts_region.as_deref().is_some_and(|r| {
        r.is_empty() || r.len() > 32 || !r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }) {
        return Err(Error::invalid("sasl.jaas.config", "awsStsRegion is not an AWS region name"));
    }
    let session_name = option("awsRoleSessionName");
    if session_name.as_deref().is_some_and(|n| {
        n.is_empty() || n.len() > 64 || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b"=,.@-_".contains(&b))
    }) {
        return Err(Error::invalid(
            "sasl.jaas.config",
            "awsRoleSessionName is not a role session name (2-64 of A-Za-z0-9=,.@-_)",
        ));
    }
    let external_id = option("awsRoleExternalId");
    if external_id.as_deref().is_some_and(|x| {
        x.len() < 2 || x.len() > 1224 || !x.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/-_".contains(&b))
    }) {
        return Err(Error::invalid(
            "sasl.jaas.config",
            "awsRoleExternalId is not an external id (2-1224 of A-Za-z0-9+=,.@:/-_)",
        ));
    }
    // The library uses the keys only when both are given; a session token only with them.
    let keys = match (option("awsRoleAccessKeyId"), option("awsRoleSecretAccessKey")) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some(crate::input::MskRoleKeys {
            access_key_id: Secret::new(id),
            secret_access_key: Secret::new(secret),
            session_token: option("awsRoleSessionToken").filter(|t| !t.is_empty()).map(Secret::new),
        }),
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::invalid(
                "sasl.jaas.config",
                "awsRoleAccessKeyId and awsRoleSecretAccessKey go together (one is missing)",
            ));
        }
        _ => None,
    };
    Ok(Some(crate::input::MskRole { arn, session_name, sts_region, external_id, keys }))
}

/// The shared-config profile aws-msk-iam-auth's `awsProfileName` names, when it names one. A name
/// no profile file could hold is an error naming `sasl.jaas.config` and the option.
pub(crate) fn msk_profile(jaas: Option<&str>) -> Result<Option<String>, Error> {
    let Some(options) = msk_options(jaas)? else { return Ok(None) };
    let Some(name) = options.iter().find(|(k, _)| k == "awsProfileName").map(|(_, v)| v.trim().to_string()) else {
        return Ok(None);
    };
    let fits = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| !c.is_whitespace() && !c.is_control() && !"[]#;=".contains(c));
    if !fits {
        return Err(Error::invalid(
            "sasl.jaas.config",
            "awsProfileName is not a profile name (1-128 characters, no spaces, brackets, '#', ';' or '=')",
        ));
    }
    Ok(Some(name))
}

/// The options of a JAAS line whose login module aws-msk-iam-auth's options may ride on (its
/// `IAMLoginModule`, or an `OAuthBearerLoginModule` line with its callback handler); `None` for
/// any other line.
fn msk_options(jaas: Option<&str>) -> Result<Option<Vec<(String, String)>>, Error> {
    let Some(jaas) = jaas.filter(|j| j.contains("IAMLoginModule") || j.contains("OAuthBearerLoginModule")) else {
        return Ok(None);
    };
    jaas_options(jaas).map(Some).map_err(|e| Error::invalid("sasl.jaas.config", e))
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

    #[test]
    fn aws_iam_oauth_reads_its_config_and_each_bad_piece_names_it() {
        let props = |pairs: Vec<(&'static str, &'static str)>| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let base = |config: &'static str| {
            vec![
                ("sasl.oauthbearer.method", "oidc"),
                ("sasl.oauthbearer.metadata.authentication.type", "aws_iam"),
                ("sasl.oauthbearer.config", config),
                ("sasl.oauthbearer.extensions", "logicalCluster=lkc-1,identityPoolId=pool-1"),
            ]
        };
        let c = oauth_client(
            &props(base("region=eu-west-1,audience=https://confluent.cloud/oidc,tag_team=a\\,b,aws_debug=console")),
            &|_| None,
            false,
        )
        .expect("valid")
        .expect("a client");
        let w = c.aws_iam.as_ref().expect("aws iam");
        assert_eq!((w.region.as_str(), w.audience.as_str()), ("eu-west-1", "https://confluent.cloud/oidc"));
        assert_eq!((w.duration_seconds, w.signing_algorithm.as_str()), (300, "ES384"));
        assert_eq!(w.tags, [("team".to_string(), "a,b".to_string())]);
        assert_eq!(c.endpoint.url(), "https://sts.eu-west-1.amazonaws.com/");
        assert_eq!(c.extensions.len(), 2);
        let c = oauth_client(
            &props(base("region=eu-west-1,audience=a,sts_endpoint=https://vpce-1.sts.eu-west-1.vpce.amazonaws.com")),
            &|_| None,
            false,
        )
        .expect("valid")
        .expect("client");
        assert_eq!(c.endpoint.hp.host, "vpce-1.sts.eu-west-1.vpce.amazonaws.com");
        for (config, needle) in [
            ("audience=a", "region"),
            ("region=us-east-1", "audience"),
            ("region=us-east-1,audience=a,duration_seconds=5", "duration_seconds"),
            ("region=us-east-1,audience=a,signing_algorithm=HS256", "signing_algorithm"),
            ("region=us-east-1,audience=a,sts_endpoint=http://sts.local", "sts_endpoint"),
            ("region=us-east-1,audience=a,client_secret=x", "client_secret"),
            ("region=US East,audience=a", "region"),
        ] {
            let e = oauth_client(&props(base(config)), &|_| None, false).expect_err(config);
            assert_eq!(field(e.clone()), "sasl.oauthbearer.config", "{config}");
            assert!(e.to_string().contains(needle), "{config}: {e}");
        }
        let mut no_oidc = base("region=us-east-1,audience=a");
        no_oidc.retain(|(k, _)| *k != "sasl.oauthbearer.method");
        let e = oauth_client(&props(no_oidc), &|_| None, false).expect_err("method");
        assert_eq!(field(e), "sasl.oauthbearer.method");
        let mut none = base("");
        none.retain(|(k, _)| *k != "sasl.oauthbearer.config");
        let e = oauth_client(&props(none), &|_| None, false).expect_err("config");
        assert_eq!(field(e), "sasl.oauthbearer.config");
    }

    /// aws-msk-iam-auth's role options: read from its JAAS line, each bad value named by its option.
    #[test]
    fn the_msk_role_comes_from_the_jaas_options() {
        let role = msk_role(Some(
            "software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=\"arn:aws:iam::123456789012:role/msk\" \
             awsRoleSessionName=\"orders\" awsStsRegion=\"eu-west-1\";",
        ))
        .expect("ok")
        .expect("a role");
        assert_eq!(
            (role.arn.as_str(), role.session_name.as_deref(), role.sts_region.as_deref()),
            ("arn:aws:iam::123456789012:role/msk", Some("orders"), Some("eu-west-1"))
        );
        assert_eq!((role.external_id.as_deref(), role.keys.as_ref()), (None, None));
        let keyed = msk_role(Some(
            "software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=\"arn:aws:iam::123456789012:role/msk\" \
             awsRoleExternalId=\"ext-42\" awsRoleAccessKeyId=\"AKIDROLE\" awsRoleSecretAccessKey=\"s3cr3t/key\";",
        ))
        .expect("ok")
        .expect("a role");
        assert_eq!(keyed.external_id.as_deref(), Some("ext-42"));
        let keys = keyed.keys.as_ref().expect("keys");
        assert_eq!((keys.access_key_id.expose(), keys.secret_access_key.expose()), ("AKIDROLE", "s3cr3t/key"));
        assert!(keys.session_token.is_none());
        assert!(!format!("{keyed:?}").contains("s3cr3t"), "the keys are secrets: {keyed:?}");
        assert_eq!(msk_role(Some("software.amazon.msk.auth.iam.IAMLoginModule required;")).expect("ok"), None);
        assert_eq!(msk_role(None).expect("ok"), None);
        for (bad, says) in [
            ("awsRoleArn=\"arn:aws:iam::123:role/x\"", "awsRoleArn"),
            ("awsRoleArn=\"arn:aws:iam::123456789012:user/x\"", "awsRoleArn"),
            ("awsRoleArn=\"arn:aws:iam::123456789012:role/x\" awsStsRegion=\"EU West\"", "awsStsRegion"),
            ("awsRoleArn=\"arn:aws:iam::123456789012:role/x\" awsRoleSessionName=\"a b\"", "awsRoleSessionName"),
            ("awsRoleArn=\"arn:aws:iam::123456789012:role/x\" awsRoleExternalId=\"a b\"", "awsRoleExternalId"),
            ("awsRoleArn=\"arn:aws:iam::123456789012:role/x\" awsRoleAccessKeyId=\"AKID\"", "awsRoleSecretAccessKey"),
        ] {
            let e = msk_role(Some(&format!("software.amazon.msk.auth.iam.IAMLoginModule required {bad};")))
                .expect_err(bad)
                .to_string();
            assert!(e.contains("sasl.jaas.config") && e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn the_msk_profile_comes_from_the_jaas_options() {
        let line = |opts: &str| format!("software.amazon.msk.auth.iam.IAMLoginModule required {opts};");
        assert_eq!(
            msk_profile(Some(&line("awsProfileName=\"orders-prod\""))).expect("ok").as_deref(),
            Some("orders-prod")
        );
        assert_eq!(msk_profile(Some(&line("awsDebugCreds=true"))).expect("ok"), None);
        assert_eq!(msk_profile(None).expect("ok"), None);
        for bad in ["awsProfileName=\"\"", "awsProfileName=\"a b\"", "awsProfileName=\"[default]\""] {
            let e = msk_profile(Some(&line(bad))).expect_err(bad).to_string();
            assert!(e.contains("sasl.jaas.config") && e.contains("awsProfileName"), "{bad}: {e}");
        }
    }
}

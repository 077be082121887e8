//! Options as the user gives them, and the validated configuration a run uses.
//!
//! Everything is parsed and checked here, before anything touches the network; a bad value is an
//! [`Error::InvalidInput`] naming the flag or property.

use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::input::address::HostPort;
use crate::input::address::{resolver_text, zone_address_text};
use crate::input::endpoints::{API_PORT, EndpointSpec, MAX_ENDPOINTS};
use crate::input::properties::{Properties, jaas_credentials};
use crate::limits::{MAX_BOOTSTRAP, MAX_LIST};
use crate::report::EndpointKind;

pub use crate::input::run_config::{
    CaBundle, CheckConfig, ConsumerQuestions, DEFAULT_HTTPS_PORT, DEFAULT_KAFKA_PORT, DEFAULT_PRIVATE_CIDRS,
    DEFAULT_TIMEOUT, MAX_TIMEOUT, Sasl, Secret, SecurityProtocol, default_private_cidrs,
};

/// Environment variable that supplies (or overrides) the SASL username.
pub const ENV_SASL_USERNAME: &str = "KREACH_SASL_USERNAME";
/// Environment variable that supplies (or overrides) the SASL password.
pub const ENV_SASL_PASSWORD: &str = "KREACH_SASL_PASSWORD";
/// Environment variable naming a Secrets Manager secret that holds the SASL credentials.
pub const ENV_SASL_SECRET: &str = "KREACH_SASL_SECRET";

/// The options of a check as given, before validation: the one type every front end is. The CLI
/// builds it from its flags, the Lambda function's event *is* it (JSON), and `check
/// --via-function` and `kreach fleet` send it as that event. Its JSON names are the event's
/// (a contract); what stays on this machine on purpose (a properties file, `-X` properties, a CA
/// file, the permission to send credentials unverified) is not in the JSON at all, and an event
/// naming it is refused as an unknown field. Which event may set what is still the Lambda
/// function's policy: one type does not widen it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CheckOptions {
    /// `--bootstrap`: `host:port`, comma-separated for several (default: the properties file's,
    /// else the event source mapping's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<String>,
    /// `--config`: a client properties file. Local only.
    #[serde(skip)]
    pub config_file: Option<PathBuf>,
    /// Client properties already in memory (the file with `-X` merged in): used instead of
    /// reading `config_file`, which then only names them in messages. Local only.
    #[serde(skip)]
    pub properties: Option<Properties>,
    /// `--resolver`, repeatable.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolvers: Vec<String>,
    /// `--public-resolver`, repeatable.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub public_resolvers: Vec<String>,
    /// `--private-cidr`, repeatable; replaces the default set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub private_cidrs: Vec<String>,
    /// `--ca-file`. Local only.
    #[serde(skip)]
    pub ca_file: Option<PathBuf>,
    /// Extra CA certificates as PEM text held in memory (a Lambda function's or event's CA), when
    /// no `ca_file` is given: nothing is written to disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// `--insecure`: skip certificate verification.
    #[serde(skip_serializing_if = "is_false")]
    pub insecure: bool,
    /// `--timeout` in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<f64>,
    /// `--connect-timeout` in seconds: how long one TCP connect waits (default 3.3: three SYNs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout_secs: Option<f64>,
    /// `--https-port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub https_port: Option<u16>,
    /// `--no-https`: do not probe the HTTPS port.
    #[serde(skip_serializing_if = "is_false")]
    pub no_https: bool,
    /// `--security-protocol`, overriding the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_protocol: Option<String>,
    /// The SASL mechanism, overriding the file's `sasl.mechanism` (an event source mapping's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sasl_mechanism: Option<String>,
    /// `--zone-address AZID=IP`, repeatable: each zone's endpoint address.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub zone_addresses: Vec<String>,
    /// `--allow-insecure-credentials`: send SASL credentials over plaintext or unverified TLS.
    /// Local only (a Lambda function decides it from its own environment).
    #[serde(skip)]
    pub allow_insecure_credentials: bool,
    /// `--dns-domain`: the cluster's DNS domain (the private hosted zone's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_domain: Option<String>,
    /// `--target [NAME=][SCHEME://]HOST:PORT[/PATH]`, repeatable.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// `--schema-registry URL`; default `schema.registry.url` from the properties file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_registry: Option<String>,
    /// `--aws-apis`: probe the Lambda, STS (and Secrets Manager) APIs of the region.
    #[serde(skip_serializing_if = "is_false")]
    pub aws_apis: bool,
    /// Include Secrets Manager in `--aws-apis` (a secret holds the credentials). Derived.
    #[serde(skip)]
    pub aws_apis_secrets_manager: bool,
    /// `--aws-region` (else `AWS_REGION` / `AWS_DEFAULT_REGION`), for `--aws-apis` and the AWS reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_region: Option<String>,
    /// `--confluent-apis`: probe the Confluent Cloud API and the CLI's login host.
    #[serde(skip_serializing_if = "is_false")]
    pub confluent_apis: bool,
    /// `--api-port`: the port of the AWS and Confluent APIs (443; another for a proxy or the lab).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_port: Option<u16>,
    /// `--topic`, repeatable: topics a consumer reads (an event source mapping's `Topics` by default).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// `--consumer-group`: the group a consumer uses (a mapping's `ConsumerGroupId`, else its UUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_group: Option<String>,
    /// `--sasl-secret`: a Secrets Manager secret (name or ARN) holding the SASL credentials. The
    /// options name the secret, never carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<String>,
    /// `--event-source-mapping`: a Lambda event source mapping (UUID or ARN) to diagnose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_source_mapping: Option<String>,
    /// `--aws`: run the AWS audit (the default credential chain; a function's own role).
    #[serde(skip_serializing_if = "is_false")]
    pub aws: bool,
    /// `--vpc-endpoint`: the interface endpoint to audit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_endpoint: Option<String>,
    /// `--vpc-id`: the VPC whose endpoint to audit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// `--endpoint-service`: the endpoint service name, to pick the VPC's endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_service: Option<String>,
    /// `--sink-connector-principal`: the principal Confluent's Lambda Sink Connector holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink_connector_principal: Option<String>,
    /// `--lambda-function`: the function the Lambda Sink Connector invokes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda_function: Option<String>,
    /// A Lambda event only: also print the report's EMF lines on the function's log (the canary).
    #[serde(skip_serializing_if = "is_false")]
    pub emit_metrics: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl CheckOptions {
    /// Validates the options, reading the properties file and CA file they name.
    /// `env` looks up environment variables (injected so tests need not touch the process env).
    pub fn validate(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<CheckConfig, Error> {
        let read;
        let props = match (&self.properties, &self.config_file) {
            (Some(p), _) => Some(p),
            (None, Some(path)) => {
                read = Properties::from_file(path)?;
                Some(&read)
            }
            (None, None) => None,
        };
        // No message may carry a secret back, even one a malformed value swallowed.
        let env_password = env(ENV_SASL_PASSWORD);
        let mut secrets: Vec<String> = props.map(Properties::secret_values).unwrap_or_default();
        secrets.extend(env_password);
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        self.validate_with(props, env).map_err(|e| e.redacted(&secrets))
    }

    /// The bootstrap servers: `--bootstrap`, else the properties file's `bootstrap.servers`.
    fn bootstrap_list(&self, property: Option<String>) -> Result<Vec<HostPort>, Error> {
        let (bootstrap_field, bootstrap_text) = match (&self.bootstrap, property) {
            (Some(b), _) => ("--bootstrap", b.clone()),
            (None, Some(b)) => ("bootstrap.servers", b),
            (None, None) => {
                return Err(Error::invalid(
                    "--bootstrap",
                    "no bootstrap server: pass --bootstrap HOST:PORT or a --config file with bootstrap.servers",
                ));
            }
        };
        let mut bootstrap = Vec::new();
        let entries: Vec<&str> = bootstrap_text.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
        if entries.len() > MAX_BOOTSTRAP {
            return Err(Error::invalid(bootstrap_field, format!("more than {MAX_BOOTSTRAP} bootstrap servers")));
        }
        for entry in entries {
            // librdkafka accepts a listener's protocol in front (`SSL://host:port`); so do we. Any
            // other scheme (`https://`) is no Kafka bootstrap: refused rather than dropped.
            let entry = match entry.split_once("://") {
                None => entry,
                Some((scheme, rest)) if scheme.parse::<SecurityProtocol>().is_ok() => rest,
                Some((scheme, _)) => {
                    return Err(Error::invalid(
                        bootstrap_field,
                        format!(
                            "{}:// is not a Kafka bootstrap: give HOST:PORT (a listener's SSL:// or SASL_SSL:// is \
                         accepted; the HTTPS endpoint is probed on --https-port)",
                            crate::error::quote(scheme).trim_matches('`')
                        ),
                    ));
                }
            };
            let hp = HostPort::parse(entry, DEFAULT_KAFKA_PORT).map_err(|e| Error::invalid(bootstrap_field, e))?;
            if !bootstrap.contains(&hp) {
                bootstrap.push(hp);
            }
        }
        if bootstrap.is_empty() {
            return Err(Error::invalid(bootstrap_field, "empty bootstrap server list"));
        }
        Ok(bootstrap)
    }

    fn validate_with(
        &self,
        props: Option<&Properties>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<CheckConfig, Error> {
        let prop = |key: &str| props.as_ref().and_then(|p| p.get(key)).map(str::to_string);

        let bootstrap = self.bootstrap_list(prop("bootstrap.servers"))?;

        let resolvers = parse_all(&self.resolvers, "--resolver", resolver_text)?;
        let public_resolvers = parse_all(&self.public_resolvers, "--public-resolver", resolver_text)?;
        let private_cidrs = if self.private_cidrs.is_empty() {
            default_private_cidrs()
        } else {
            parse_all(&self.private_cidrs, "--private-cidr", |c| {
                c.trim()
                    .parse::<IpNet>()
                    .map_err(|_| format!("{} is not a CIDR such as 10.0.0.0/16", crate::error::quote(c)))
            })?
        };

        let ca_file = match (&self.ca_file, &self.ca_pem, prop("ssl.ca.location"), prop("ssl.ca.pem")) {
            (Some(path), _, _, _) => Some(CaBundle::from_file(path, "--ca-file")?),
            (None, Some(pem), _, _) => Some(CaBundle::from_pem(pem, "ca_pem")?),
            (None, None, Some(path), _) if !path.is_empty() => {
                Some(CaBundle::from_file(&PathBuf::from(path), "ssl.ca.location")?)
            }
            (None, None, _, Some(pem)) if !pem.is_empty() => Some(CaBundle::from_pem(&pem, "ssl.ca.pem")?),
            _ => None,
        };

        let timeout = seconds(self.timeout_secs, "--timeout", DEFAULT_TIMEOUT)?;
        let connect_timeout =
            seconds(self.connect_timeout_secs, "--connect-timeout", crate::limits::DEFAULT_CONNECT_TIMEOUT)?;

        let security_protocol = match (&self.security_protocol, prop("security.protocol")) {
            (Some(p), _) => p.parse().map_err(|e| Error::invalid("--security-protocol", e))?,
            (None, Some(p)) => p.parse().map_err(|e| Error::invalid("security.protocol", e))?,
            // Confluent Cloud's only listener type; the usual reason to run kreach.
            (None, None) => SecurityProtocol::SaslSsl,
        };

        let sasl = if security_protocol.uses_sasl() {
            let mechanism = self
                .sasl_mechanism
                .clone()
                .or_else(|| prop("sasl.mechanism"))
                .or_else(|| prop("sasl.mechanisms"))
                .unwrap_or_else(|| "PLAIN".to_string())
                .trim()
                .to_ascii_uppercase();
            if !["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI", "AWS_MSK_IAM"]
                .contains(&mechanism.as_str())
            {
                return Err(Error::invalid(
                    "sasl.mechanism",
                    format!("{} is not a SASL mechanism Kafka knows", crate::error::quote(&mechanism)),
                ));
            }
            let (mut username, mut password) = (prop("sasl.username"), prop("sasl.password"));
            if let Some((u, p)) = prop("sasl.jaas.config").as_deref().and_then(jaas_credentials) {
                username.get_or_insert(u);
                password.get_or_insert(p);
            }
            if let Some(u) = env(ENV_SASL_USERNAME) {
                username = Some(u);
            }
            if let Some(p) = env(ENV_SASL_PASSWORD) {
                password = Some(p);
            }
            // OAUTHBEARER with MSK's IAM token (aws-msk-iam-auth's handler): signed, not fetched.
            let msk_iam_token = mechanism == "OAUTHBEARER"
                && prop("sasl.login.callback.handler.class")
                    .is_some_and(|c| c.trim() == crate::input::run_config::MSK_IAM_OAUTH_HANDLER);
            let oauth = if mechanism == "OAUTHBEARER" && !msk_iam_token {
                crate::input::oauth::oauth_client(&prop, env, self.allow_insecure_credentials)?
            } else {
                None
            };
            let password = password.map(Secret::new);
            let (msk_role, msk_profile) = if mechanism == "AWS_MSK_IAM" || msk_iam_token {
                let jaas = prop("sasl.jaas.config");
                (crate::input::oauth::msk_role(jaas.as_deref())?, crate::input::oauth::msk_profile(jaas.as_deref())?)
            } else {
                (None, None)
            };
            Some(Sasl {
                mechanism,
                username,
                password,
                oauth,
                bearer: None,
                iam: None,
                msk_iam_token,
                msk_role,
                msk_profile,
            })
        } else {
            None
        };

        // The client's own certificate, for a TLS listener that asks for one (mutual TLS).
        let client_cert =
            if security_protocol.uses_tls() { crate::input::client_cert::client_cert(&prop)? } else { None };
        let https_port = if self.no_https { None } else { Some(self.https_port.unwrap_or(DEFAULT_HTTPS_PORT)) };
        if https_port == Some(0) {
            return Err(Error::invalid("--https-port", "port 0 is not a port"));
        }

        let zone_addresses = parse_all(&self.zone_addresses, "--zone-address", zone_address_text)?;
        let dns_domain = match self.dns_domain.as_deref().map(|d| d.trim().trim_end_matches('.')) {
            Some(d) if HostPort::parse(d, 1).is_err() || !d.contains('.') => {
                return Err(Error::invalid("--dns-domain", format!("{} is not a DNS domain", crate::error::quote(d))));
            }
            other => other.map(str::to_ascii_lowercase),
        };
        let mut endpoints = endpoints_from(self, prop("schema.registry.url"), env)?;
        if let Some(oauth) = sasl.as_ref().and_then(|s| s.oauth.as_ref()) {
            let e = &oauth.endpoint;
            endpoints.push(EndpointSpec::token_endpoint(e.hp.clone(), e.tls, &e.path));
        }
        let consumer = if self.topics.is_empty() && self.consumer_group.is_none() {
            None
        } else {
            Some(ConsumerQuestions::new(self.topics.clone(), self.consumer_group.clone())?)
        };

        Ok(CheckConfig {
            zone_addresses,
            bootstrap,
            resolvers,
            public_resolvers,
            private_cidrs,
            ca_file,
            insecure: self.insecure,
            timeout,
            connect_timeout,
            https_port,
            security_protocol,
            client_settings: props.map(client_settings),
            client_cert,
            sasl,
            allow_insecure_credentials: self.allow_insecure_credentials,
            withhold_credentials: None,
            dns_domain,
            endpoints,
            consumer,
        })
    }
}

/// The endpoints the options ask for; `schema_registry_property` is `schema.registry.url`.
fn endpoints_from(
    options: &CheckOptions,
    schema_registry_property: Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<EndpointSpec>, Error> {
    let mut out = Vec::new();
    if options.targets.len() > MAX_ENDPOINTS {
        return Err(Error::invalid("--target", format!("more than {MAX_ENDPOINTS} targets")));
    }
    for t in &options.targets {
        out.push(EndpointSpec::parse_target(t).map_err(|e| Error::invalid("--target", e))?);
    }
    match (&options.schema_registry, schema_registry_property) {
        (Some(url), _) => {
            out.push(EndpointSpec::schema_registry(url).map_err(|e| Error::invalid("--schema-registry", e))?)
        }
        (None, Some(url)) if !url.trim().is_empty() => {
            out.push(EndpointSpec::schema_registry(&url).map_err(|e| Error::invalid("schema.registry.url", e))?)
        }
        _ => {}
    }
    let port = match options.api_port {
        Some(0) => return Err(Error::invalid("--api-port", "port 0 is not a port")),
        Some(p) => p,
        None => API_PORT,
    };
    if options.aws_apis {
        let region = options
            .aws_region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or_else(|| Error::invalid("--aws-apis", "needs a region: --aws-region REGION or AWS_REGION"))?;
        let apis = EndpointSpec::aws_apis(&region, options.aws_apis_secrets_manager, port)
            .map_err(|e| Error::invalid("--aws-region", e))?;
        out.extend(apis);
    }
    if options.confluent_apis {
        out.extend(EndpointSpec::confluent_apis(port));
    }
    // A name under the cluster's private domain must resolve privately too.
    let domain = options.dns_domain.clone().or_else(|| {
        let host = options.bootstrap.as_deref()?.split(',').next()?.trim();
        let hp = HostPort::parse(host.split_once("://").map_or(host, |(_, h)| h), 9092).ok()?;
        crate::analysis::layout::recognise_name(&hp.host, hp.port)?.domain
    });
    if let Some(d) = &domain {
        for e in out.iter_mut().filter(|e| matches!(e.target.kind, EndpointKind::Target | EndpointKind::SchemaRegistry))
        {
            if e.target.expect_private.is_none() && e.hp.host.to_ascii_lowercase().ends_with(&format!(".{d}")) {
                e.target.expect_private = Some(true);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for e in &out {
        if !seen.insert(e.target.name.as_str()) {
            return Err(Error::invalid("--target", format!("two endpoints are named `{}`", e.target.name)));
        }
    }
    Ok(out)
}

/// A duration in seconds as given (`default` when none): more than 0, at most [`MAX_TIMEOUT`].
fn seconds(value: Option<f64>, field: &str, default: Duration) -> Result<Duration, Error> {
    match value {
        None => Ok(default),
        Some(secs) if secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT.as_secs_f64() => {
            Ok(Duration::from_secs_f64(secs))
        }
        Some(secs) => Err(Error::invalid(
            field,
            format!("{secs} is out of range: it must be more than 0 and at most {} seconds", MAX_TIMEOUT.as_secs()),
        )),
    }
}

fn parse_all<T>(values: &[String], field: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, Error> {
    if values.len() > MAX_LIST {
        return Err(Error::invalid(field, format!("more than {MAX_LIST} entries")));
    }
    values.iter().map(|v| parse(v).map_err(|e| Error::invalid(field, e))).collect()
}

/// The client settings that matter behind PrivateLink, and whose defaults apply.
const CLIENT_KEYS: &[&str] = &[
    "connections.max.idle.ms",
    "client.dns.lookup",
    "broker.address.family",
    "socket.connection.setup.timeout.ms",
    "ssl.endpoint.identification.algorithm",
    "socket.keepalive.enable",
];

fn client_settings(p: &Properties) -> crate::report::ClientSettings {
    // Java's own: a JAAS line, keystores and truststores, callback handler classes.
    let java =
        ["sasl.jaas.config", "ssl.truststore.location", "ssl.keystore.location", "sasl.login.callback.handler.class"]
            .iter()
            .any(|k| p.get(k).is_some());
    let kind = if java { crate::report::ClientKind::Java } else { crate::report::ClientKind::Librdkafka };
    let properties = CLIENT_KEYS
        .iter()
        .filter_map(|k| p.get(k).map(|v| (k.to_string(), crate::text::truncate(&crate::text::clean(v.trim()), 64))))
        .collect();
    crate::report::ClientSettings { kind, properties }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::address::{parse_resolver, parse_zone_address};
    use crate::input::files::read_ca_file;
    use std::io::Write;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn host_port_forms() {
        let hp = HostPort::parse("pkc-abc.us-west-2.aws.confluent.cloud:9092", 1).expect("ok");
        assert_eq!((hp.host.as_str(), hp.port), ("pkc-abc.us-west-2.aws.confluent.cloud", 9092));
        assert_eq!(HostPort::parse("broker", 9092).map(|h| h.port), Ok(9092));
        assert_eq!(HostPort::parse("[::1]:19092", 1).map(|h| h.to_string()), Ok("[::1]:19092".into()));
        assert_eq!(HostPort::parse("host.:443", 1).map(|h| h.host), Ok("host".into()));
        for bad in
            ["", "host:", "host:0", "host:65536", "host:abc", "bad host:1", "a..b:1", "-a.b:1", "host:1:2", "[::1"]
        {
            assert!(HostPort::parse(bad, 9092).is_err(), "{bad} must be rejected");
        }
    }

    /// A listener's protocol in front of a bootstrap is librdkafka's habit and accepted; any other
    /// scheme is refused by name, not silently dropped; a bad port names itself whatever the
    /// host's length.
    #[test]
    fn bootstrap_schemes_and_ports_are_named() {
        let with = |b: &str| CheckOptions { bootstrap: Some(b.into()), ..Default::default() }.validate(&no_env);
        let ok = with("SASL_SSL://lkc-1.abc.us-west-2.aws.confluent.cloud:9092").expect("listener scheme");
        assert_eq!(ok.bootstrap[0].port, 9092);
        let e = with("https://lkc-1.abc.us-west-2.aws.confluent.cloud:443").expect_err("https").to_string();
        assert!(e.contains("invalid --bootstrap") && e.contains("https://"), "{e}");
        let long = format!("{}.example.com:99999", "a".repeat(60));
        let e = with(&long).expect_err("port").to_string();
        assert!(e.contains("99999"), "{e}");
    }

    #[test]
    fn zone_address_forms() {
        assert_eq!(parse_zone_address("usw2-az1=10.0.1.25"), Ok(("usw2-az1".into(), "10.0.1.25".parse().expect("ip"))));
        assert!(parse_zone_address("us-west-2a=10.0.1.25").is_err(), "AZ names are refused");
        assert!(parse_zone_address("usw2-az1=nope").is_err());
        assert!(parse_zone_address("usw2-az1").is_err());
    }

    #[test]
    fn resolver_forms() {
        assert_eq!(parse_resolver("127.0.0.53"), Ok("127.0.0.53:53".parse().expect("sa")));
        assert_eq!(parse_resolver("127.0.0.1:5353"), Ok("127.0.0.1:5353".parse().expect("sa")));
        assert_eq!(parse_resolver("[::1]:5353"), Ok("[::1]:5353".parse().expect("sa")));
        assert!(parse_resolver("dns.example").is_err());
        assert!(parse_resolver("127.0.0.1:0").is_err());
    }

    #[test]
    fn validation_names_the_field() {
        let opts = CheckOptions { bootstrap: Some("x:99999".into()), ..Default::default() };
        let err = opts.validate(&no_env).expect_err("bad port");
        assert!(err.to_string().starts_with("invalid --bootstrap:"), "{err}");
        let opts = CheckOptions {
            bootstrap: Some("x:1".into()),
            private_cidrs: vec!["10.0.0.0/33".into()],
            ..Default::default()
        };
        assert!(opts.validate(&no_env).expect_err("bad cidr").to_string().contains("--private-cidr"));
        let opts = CheckOptions { bootstrap: Some("x:1".into()), timeout_secs: Some(0.0), ..Default::default() };
        assert!(opts.validate(&no_env).expect_err("bad timeout").to_string().contains("--timeout"));
        let opts = CheckOptions::default();
        assert!(opts.validate(&no_env).expect_err("no bootstrap").to_string().contains("--bootstrap"));
    }

    #[test]
    fn properties_file_supplies_bootstrap_and_credentials_and_env_overrides() {
        let mut file = tempfile_in_target();
        writeln!(
            file.1,
            "bootstrap.servers=SASL_SSL://lkc-1.example.com:9092,lkc-1.example.com:9092,b2.example.com\n\
             security.protocol=sasl_ssl\nsasl.mechanisms=plain\n\
             sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='KEY' password='SECRET';"
        )
        .expect("write");
        let opts = CheckOptions { config_file: Some(file.0.clone()), ..Default::default() };
        let env = |k: &str| (k == ENV_SASL_PASSWORD).then(|| "FROM-ENV".to_string());
        let cfg = opts.validate(&env).expect("valid");
        assert_eq!(cfg.bootstrap.len(), 2, "duplicates dropped, scheme prefix accepted");
        assert_eq!(cfg.bootstrap[1].port, DEFAULT_KAFKA_PORT);
        assert_eq!(cfg.security_protocol, SecurityProtocol::SaslSsl);
        let sasl = cfg.sasl.expect("sasl");
        assert_eq!(sasl.mechanism, "PLAIN");
        assert_eq!(sasl.username.as_deref(), Some("KEY"));
        assert_eq!(sasl.password.as_ref().map(Secret::expose), Some("FROM-ENV"));
        assert!(!format!("{sasl:?}").contains("FROM-ENV"), "Debug must not show the secret");
        let _ = std::fs::remove_file(&file.0);
    }

    fn tempfile_in_target() -> (PathBuf, std::fs::File) {
        let path = std::env::temp_dir().join(format!(
            "kreach-props-{}-{:?}.properties",
            std::process::id(),
            std::thread::current().id()
        ));
        let file = std::fs::File::create(&path).expect("create");
        (path, file)
    }

    #[test]
    fn hostile_input_files_are_refused_or_read_within_caps() {
        let dir = std::env::temp_dir().join(format!("kreach-inputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        // A 1 GiB "line" (sparse: no disk used): refused after reading 1 MiB, naming the file.
        let huge = dir.join("huge.properties");
        std::fs::File::create(&huge).and_then(|f| f.set_len(1 << 30)).expect("sparse file");
        let opts = CheckOptions { config_file: Some(huge.clone()), ..Default::default() };
        let err = opts.validate(&no_env).expect_err("too large");
        assert!(err.is_input() && err.to_string().contains("huge.properties"), "{err}");
        assert!(err.to_string().contains("larger than"), "{err}");
        // A byte-order mark does not become part of the first key.
        let bom = dir.join("bom.properties");
        std::fs::write(&bom, "\u{feff}bootstrap.servers=b1.example.com:9092\n").expect("write");
        let opts = CheckOptions { config_file: Some(bom), ..Default::default() };
        assert_eq!(opts.validate(&no_env).expect("valid").bootstrap[0].host, "b1.example.com");
        // 100,000 bootstrap entries: a clear error naming the field.
        let many = (0..100_000).map(|i| format!("b{i}.example.com:9092")).collect::<Vec<_>>().join(",");
        let opts = CheckOptions { bootstrap: Some(many), ..Default::default() };
        let err = opts.validate(&no_env).expect_err("too many");
        assert!(err.to_string().starts_with("invalid --bootstrap: more than"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ssl_ca_location_may_be_a_directory() {
        let dir = std::env::temp_dir().join(format!("kreach-cadir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let (a, b) = (rcgen_ca("CA one"), rcgen_ca("CA two"));
        std::fs::write(dir.join("one.pem"), a).expect("write");
        std::fs::write(dir.join("two.crt"), b).expect("write");
        std::fs::write(dir.join("README"), "not a certificate").expect("write");
        let certs = read_ca_file(&dir, "ssl.ca.location").expect("directory read");
        assert_eq!(certs.len(), 2);
        let empty = dir.join("empty");
        std::fs::create_dir_all(&empty).expect("dir");
        let err = read_ca_file(&empty, "ssl.ca.location").expect_err("no certificate");
        assert!(err.to_string().contains("ssl.ca.location"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn rcgen_ca(name: &str) -> String {
        kreach_lab::Ca::new(name).expect("ca").cert_pem().to_string()
    }

    #[test]
    fn unreadable_config_file_is_a_clear_error() {
        let opts = CheckOptions { config_file: Some("/nonexistent/kreach.properties".into()), ..Default::default() };
        let err = opts.validate(&no_env).expect_err("must fail");
        assert!(err.is_input());
        assert!(err.to_string().contains("/nonexistent/kreach.properties"), "{err}");
    }
}

//! The one input step every front end calls: from what the user (flags) or the event said to a
//! validated configuration ready to run, with the event source mapping applied, its root CA and
//! the SASL secret read, all in memory and all inside the run's one deadline.
//!
//! The CLI and the Lambda function differ only in where the pieces come from and in the Lambda's
//! policy (which hosts its credentials may go to): the policy is a hook called after validation
//! and before any secret is read. The AWS reads themselves are behind [`AwsReads`]: kreach-aws
//! makes them with the AWS SDK; a build without it says so ([`NoAws`]).

pub(crate) mod address;
pub mod client_cert;
pub(crate) mod config;
pub(crate) mod endpoints;
pub(crate) mod files;
pub(crate) mod mapping;
pub mod oauth;
pub(crate) mod properties;
pub(crate) mod registry;
pub(crate) mod run_config;
pub(crate) mod secret;
pub(crate) mod vantage;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

pub use address::{HostPort, parse_resolver, parse_zone_address};
pub use config::{
    CaBundle, CheckConfig, CheckOptions, ConsumerQuestions, DEFAULT_HTTPS_PORT, DEFAULT_KAFKA_PORT,
    DEFAULT_PRIVATE_CIDRS, DEFAULT_TIMEOUT, ENV_SASL_PASSWORD, ENV_SASL_SECRET, ENV_SASL_USERNAME, MAX_TIMEOUT, Sasl,
    Secret, SecurityProtocol, default_private_cidrs,
};
pub use endpoints::{API_PORT, AWS_APIS, CONFLUENT_APIS, EndpointSpec, MAX_ENDPOINTS};
pub use files::read_input_file;
pub use mapping::{EventSourceMapping, MAX_MAPPING_BYTES, valid_topic_name};
pub use properties::{Properties, SECRET_KEYS, is_secret_key, jaas_credentials};
pub use run_config::{GLOBAL_STS_REGION, IamSigner, MskIamSign, MskRole, MskRoleKeys, SignedHeaders};
pub use vantage::{IMDS_DEFAULT, detect as detect_vantage};

use crate::report::{RefusedInput, SecretLookup, SecretOutcome};

/// Longest the mapping read may take (`lambda:GetEventSourceMapping`), within the deadline.
pub const MAPPING_CAP: Duration = Duration::from_secs(3);

/// The event source mapping a run is about.
#[derive(Clone, Debug, Default)]
pub enum MappingInput {
    /// None.
    #[default]
    None,
    /// Read it from Lambda (a UUID or an ARN).
    Read(String),
    /// Already parsed (`--event-source-mapping-file`).
    Given(Box<EventSourceMapping>),
}

/// What a front end collected, before anything is read from AWS.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RunInput {
    /// The options as given (properties already merged in memory).
    pub options: CheckOptions,
    /// The event source mapping, if any.
    pub mapping: MappingInput,
    /// Whether the options name their own bootstrap (else the mapping's is used).
    pub has_bootstrap: bool,
    /// The Secrets Manager secret holding the SASL credentials (a flag, the event or the
    /// environment); the mapping's when `None`.
    pub secret: Option<String>,
    /// The region for the AWS reads (else the mapping ARN's, else the SDK's default).
    pub region: Option<String>,
    /// When the run began: the deadline counts from here.
    pub started: Instant,
}

impl RunInput {
    /// The input for `options`, starting now.
    pub fn new(options: CheckOptions) -> Self {
        let has_bootstrap = options.bootstrap.as_deref().is_some_and(|b| !b.trim().is_empty())
            || options.properties.as_ref().is_some_and(|p| p.get("bootstrap.servers").is_some())
            || (options.properties.is_none() && options.config_file.is_some());
        RunInput {
            options,
            mapping: MappingInput::None,
            has_bootstrap,
            secret: None,
            region: None,
            started: Instant::now(),
        }
    }
}

/// A run ready to diagnose: hand `config`, `secret`, `mapping`, `started` and `refused` to
/// [`crate::Diagnosis`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Ready {
    /// The validated configuration, credentials and CA in memory.
    pub config: CheckConfig,
    /// How reading the SASL secret went, when one was named.
    pub secret: Option<SecretLookup>,
    /// The mapping as read (with `root_ca_error` when its CA could not be used).
    pub mapping: Option<EventSourceMapping>,
    /// When the run began.
    pub started: Instant,
    /// Inputs the policy refused.
    pub refused: Vec<RefusedInput>,
    /// The client's properties as merged (for the librdkafka stage).
    pub properties: Option<crate::Properties>,
}

/// Why the run cannot start.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum InputError {
    /// A bad value, naming the field (exit 2; an invalid event).
    Invalid(crate::Error),
    /// The mapping could not be read (exit 1; the function's error).
    Mapping(String),
    /// The policy refused the run (an invalid event), in words that reveal no configuration.
    Refused(String),
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::Invalid(e) => write!(f, "{e}"),
            InputError::Mapping(m) | InputError::Refused(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for InputError {}

/// Longest wait for the secret: it comes before the checks, so it is kept short.
pub const SECRET_CAP: Duration = Duration::from_secs(3);

/// SASL credentials read from a secret.
pub struct SecretCredentials {
    /// The user name (API key).
    pub username: String,
    /// The password (API secret); never printed.
    pub password: Secret,
}

/// A future the input step awaits.
pub type Reading<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The AWS reads of the input step, each in the region asked for (when one is known).
pub trait AwsReads: Sync {
    /// `lambda:GetEventSourceMapping` of a UUID or an ARN.
    fn mapping<'a>(&'a self, region: Option<String>, id: &'a str) -> Reading<'a, Result<EventSourceMapping, String>>;
    /// The PEM text of the mapping's `SERVER_ROOT_CA_CERTIFICATE` secret, within `budget`.
    fn root_ca<'a>(
        &'a self,
        region: Option<String>,
        id: &'a str,
        budget: Duration,
    ) -> Reading<'a, Result<String, String>>;
    /// The SASL secret within `budget`: how the lookup went (for the report), and the credentials
    /// when they were read.
    fn secret<'a>(
        &'a self,
        region: Option<String>,
        id: &'a str,
        budget: Duration,
    ) -> Reading<'a, (SecretLookup, Option<SecretCredentials>)>;
    /// The text of a secret (the mapping's `CLIENT_CERTIFICATE_TLS_AUTH` one) within `budget`,
    /// kept as a [`Secret`]. A reader that cannot says why.
    fn secret_text<'a>(
        &'a self,
        _region: Option<String>,
        _id: &'a str,
        _budget: Duration,
    ) -> Reading<'a, Result<Secret, String>> {
        Box::pin(async move { Err("this build reads no secret's text".to_string()) })
    }
}

/// No AWS reads: a build without the AWS SDK. Each read fails saying why.
pub struct NoAws(pub &'static str);

impl AwsReads for NoAws {
    fn mapping<'a>(&'a self, _: Option<String>, _: &'a str) -> Reading<'a, Result<EventSourceMapping, String>> {
        Box::pin(async move { Err(self.0.to_string()) })
    }
    fn root_ca<'a>(&'a self, _: Option<String>, _: &'a str, _: Duration) -> Reading<'a, Result<String, String>> {
        Box::pin(async move { Err(self.0.to_string()) })
    }
    fn secret<'a>(
        &'a self,
        _: Option<String>,
        id: &'a str,
        _: Duration,
    ) -> Reading<'a, (SecretLookup, Option<SecretCredentials>)> {
        Box::pin(async move { (SecretLookup::new(id, SecretOutcome::Unreachable).with_detail(self.0), None) })
    }
}

/// What the policy hook sees: the validated configuration (it may narrow it: withhold the
/// credentials, drop inputs) and the secret that would be read.
pub struct PolicyView<'a> {
    /// The configuration, before the secret is read.
    pub config: &'a mut CheckConfig,
    /// The secret the credentials would come from.
    pub secret: Option<&'a str>,
    /// Whether the secret's name came from the mapping (the invoker did not write it).
    pub secret_from_mapping: bool,
    /// Whether the bootstrap came from the mapping.
    pub bootstrap_from_mapping: bool,
    /// Inputs refused, for the report.
    pub refused: &'a mut Vec<RefusedInput>,
}

/// A policy hook: `Err` refuses the run (an invalid event).
pub type Policy<'a> = &'a (dyn Fn(PolicyView<'_>) -> Result<(), String> + Sync);

/// No policy (the CLI: the user decides everything).
pub fn no_policy(_: PolicyView<'_>) -> Result<(), String> {
    Ok(())
}

/// The time left of the run's deadline.
fn left(started: Instant, timeout: Duration) -> Duration {
    timeout.saturating_sub(started.elapsed())
}

/// The deadline the options ask for, before validation names a bad one.
fn requested_timeout(options: &CheckOptions) -> Duration {
    match options.timeout_secs {
        Some(s) if s.is_finite() && s > 0.0 && s <= crate::input::MAX_TIMEOUT.as_secs_f64() => {
            Duration::from_secs_f64(s)
        }
        _ => crate::DEFAULT_TIMEOUT,
    }
}

/// The input step. Every AWS read takes at most a third of what is left of the deadline (and its
/// own cap), so the checks keep most of it; nothing is written to disk.
pub async fn prepare(
    input: RunInput,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    aws: &dyn AwsReads,
    policy: Policy<'_>,
) -> Result<Ready, InputError> {
    let RunInput { mut options, mapping, has_bootstrap, secret, region, started } = input;
    let timeout = requested_timeout(&options);
    let mut mapping = match mapping {
        MappingInput::None => None,
        MappingInput::Given(m) => Some(*m),
        MappingInput::Read(id) => {
            let id = id.trim().to_string();
            let region = region.clone().or_else(|| arn_region(&id));
            let budget = MAPPING_CAP.min(left(started, timeout) / 3);
            match tokio::time::timeout(budget, aws.mapping(region, &id)).await {
                Ok(Ok(m)) => Some(m),
                Ok(Err(e)) => return Err(InputError::Mapping(e)),
                Err(_) => return Err(InputError::Mapping(format!("no answer within {} ms", budget.as_millis()))),
            }
        }
    };
    // The mapping's own bootstrap servers, mechanism and secret, unless the input says otherwise.
    let mut bootstrap_from_mapping = false;
    let mut secret_from_mapping = false;
    let mut secret = secret.filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_string());
    if let Some(m) = &mapping {
        if !has_bootstrap && !m.bootstrap_servers.is_empty() {
            options.bootstrap = Some(m.bootstrap_servers.join(","));
            bootstrap_from_mapping = true;
        }
        if options.sasl_mechanism.is_none() {
            options.sasl_mechanism = m.sasl_mechanism().map(str::to_string);
        }
        // A Confluent Schema Registry the pollers fetch schemas from: a row of its own.
        if options.schema_registry.is_none() {
            let url = m.schema_registry.as_ref().filter(|r| !r.glue).map(|r| r.uri.clone());
            options.schema_registry = url.filter(|u| EndpointSpec::schema_registry(u).is_ok());
        }
        // Mutual TLS: the pollers speak TLS without SASL.
        let protocol_given = options.security_protocol.is_some()
            || options.properties.as_ref().is_some_and(|p| p.get("security.protocol").is_some());
        if m.client_certificate_secret().is_some() && !protocol_given {
            options.security_protocol = Some("SSL".into());
        }
        // A consumer's questions, as the pollers would ask them: its topics, in its group.
        if options.topics.is_empty() {
            options.topics = m.topics.clone();
        }
        if options.consumer_group.is_none() {
            options.consumer_group = Some(m.consumer_group().to_string());
        }
        if secret.is_none() {
            secret = m.sasl_secret().map(str::to_string);
            secret_from_mapping = secret.is_some();
        }
    }
    options.aws_apis_secrets_manager |= secret.is_some();
    let mut config = options.validate(env).map_err(InputError::Invalid)?;
    let mut refused = Vec::new();
    policy(PolicyView {
        config: &mut config,
        secret: secret.as_deref(),
        secret_from_mapping,
        bootstrap_from_mapping,
        refused: &mut refused,
    })
    .map_err(InputError::Refused)?;

    // The mapping's root CA (unless a CA was given) and the SASL secret, read side by side.
    let region = region.or_else(|| mapping.as_ref().and_then(|m| m.region.clone()));
    let root_ca = mapping.as_ref().and_then(|m| m.root_ca_secret.clone()).filter(|_| config.ca_file.is_none());
    let budget = SECRET_CAP.min(left(started, config.timeout) / 3);
    let ca_read = async {
        let id = root_ca?;
        Some(match tokio::time::timeout(budget, aws.root_ca(region.clone(), &id, budget)).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} ms", budget.as_millis())),
        })
    };
    let needs_secret = config.sasl.is_some();
    let secret_read = async {
        let id = secret.as_deref().filter(|_| needs_secret)?;
        // The reader bounds itself by `budget`; this bounds a reader that does not.
        let outer = budget + Duration::from_millis(200);
        Some(match tokio::time::timeout(outer, aws.secret(region.clone(), id, budget)).await {
            Ok(read) => read,
            Err(_) => {
                let mut lookup = SecretLookup::new(id, SecretOutcome::Unreachable)
                    .with_detail(format!("no answer within {} ms", budget.as_millis()));
                lookup.elapsed_ms = outer.as_millis() as u64;
                (lookup, None)
            }
        })
    };
    let cert_secret = certificate_secret(mapping.as_ref(), &config, &mut refused);
    let cert_read = async {
        let id = cert_secret.as_deref()?;
        Some(match tokio::time::timeout(budget, aws.secret_text(region.clone(), id, budget)).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} ms", budget.as_millis())),
        })
    };
    let registry_read = registry_secrets(mapping.as_ref(), &config, &mut refused, aws, region.clone(), budget);
    let (ca, credentials, cert, registry_checks) = tokio::join!(ca_read, secret_read, cert_read, registry_read);
    if let Some(r) = mapping.as_mut().and_then(|m| m.schema_registry.as_mut()) {
        r.secret_checks = registry_checks;
    }
    if let (Some(read), Some(m), Some(id)) = (cert, mapping.as_mut(), cert_secret) {
        let checked = read
            .map_err(|why| (crate::report::ClientCertSecretProblem::Unreadable, crate::text::clean(&why).into_owned()))
            .and_then(|text| client_cert::from_lambda_secret(text.expose()));
        match checked {
            Ok(c) => config.client_cert = Some(c),
            Err((problem, detail)) => {
                m.client_certificate_problem =
                    Some(crate::report::ClientCertSecretCheck { secret_id: id, problem, detail })
            }
        }
    }
    if let (Some(ca), Some(m)) = (ca, mapping.as_mut()) {
        let source = "the event source mapping's SERVER_ROOT_CA_CERTIFICATE secret";
        match ca.and_then(|pem| config.clone().with_ca_pem(&pem, source).map_err(|e| e.to_string())) {
            Ok(with_ca) => config = with_ca,
            Err(why) => m.root_ca_error = Some(why),
        }
    }
    let secret = match credentials {
        Some((lookup, creds)) => {
            if let (Some(c), Some(sasl)) = (creds, config.sasl.as_mut()) {
                sasl.username = Some(c.username);
                sasl.password = Some(c.password);
            }
            Some(lookup)
        }
        None => None,
    };
    Ok(Ready { config, secret, mapping, started, refused, properties: options.properties })
}

/// The mapping's client certificate secret to read, unless the options give a certificate. Not
/// when the policy keeps credentials from this run's bootstrap (an invoker's bootstrap the function
/// does not allow): the mapping's certificate is for the mapping's cluster (said in `refused`).
fn certificate_secret(
    mapping: Option<&EventSourceMapping>,
    config: &CheckConfig,
    refused: &mut Vec<RefusedInput>,
) -> Option<String> {
    let secret = mapping
        .and_then(|m| m.client_certificate_secret())
        .filter(|_| config.client_cert.is_none() && config.security_protocol.uses_tls())?;
    if config.withhold_credentials.is_some() {
        refused.push(RefusedInput::new(
            "event_source_mapping",
            "its CLIENT_CERTIFICATE_TLS_AUTH certificate was not read nor presented: credentials may not go to this \
             bootstrap",
        ));
        return None;
    }
    Some(secret.to_string())
}

/// The schema registry's access secrets, read as the pollers read them and checked for shape only
/// (nothing in them is sent); not where credentials are withheld from this run (said in `refused`).
fn registry_secrets<'a>(
    mapping: Option<&EventSourceMapping>,
    config: &CheckConfig,
    refused: &mut Vec<RefusedInput>,
    aws: &'a dyn AwsReads,
    region: Option<String>,
    budget: Duration,
) -> impl std::future::Future<Output = Vec<crate::report::RegistrySecretCheck>> + 'a {
    let secrets: Vec<(String, String)> = mapping
        .and_then(|m| m.schema_registry.as_ref())
        .map(|r| r.access.iter().take(MAX_REGISTRY_SECRETS).cloned().collect())
        .unwrap_or_default();
    let secrets = if !secrets.is_empty() && config.withhold_credentials.is_some() {
        refused.push(RefusedInput::new(
            "event_source_mapping",
            "its schema registry's access secrets were not read: credentials may not go to this bootstrap",
        ));
        Vec::new()
    } else {
        secrets
    };
    futures::future::join_all(secrets.into_iter().map(move |(kind, id)| {
        let region = region.clone();
        async move {
            match tokio::time::timeout(budget, aws.secret_text(region, &id, budget)).await {
                Ok(Ok(text)) => registry::check(&kind, &id, text.expose()),
                Ok(Err(why)) => registry::unreadable(&kind, &id, &why),
                Err(_) => registry::unreadable(&kind, &id, &format!("no answer within {} ms", budget.as_millis())),
            }
        }
    }))
}

/// Most schema registry access secrets read (Lambda allows two).
const MAX_REGISTRY_SECRETS: usize = 2;

/// The region of an ARN (`arn:aws:lambda:REGION:…`).
fn arn_region(id: &str) -> Option<String> {
    id.starts_with("arn:").then(|| id.split(':').nth(3).map(str::to_string)).flatten().filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mapping's Confluent Schema Registry becomes the run's schema-registry row (a Glue
    /// registry, an ARN, is no row: its reads are the role's permissions).
    #[test]
    fn a_mappings_confluent_registry_is_probed_and_a_glue_one_is_not() {
        let run = |uri: &str| {
            let mut v: serde_json::Value = serde_json::from_str(crate::input::mapping::tests::SAMPLE).expect("sample");
            v["SelfManagedKafkaEventSourceConfig"] =
                serde_json::json!({"SchemaRegistryConfig": {"SchemaRegistryURI": uri}});
            v["SourceAccessConfigurations"] = serde_json::json!([]);
            let m = EventSourceMapping::parse(v.to_string().as_bytes()).expect("mapping");
            let mut input = RunInput::new(CheckOptions::default());
            input.mapping = MappingInput::Given(Box::new(m));
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
            let ready = rt.block_on(prepare(input, &|_| None, &NoAws("no AWS here"), &no_policy)).expect("ready");
            ready
                .config
                .endpoints
                .iter()
                .filter(|e| e.target.kind == crate::report::EndpointKind::SchemaRegistry)
                .count()
        };
        assert_eq!(run("https://psrc-abc12.us-west-2.aws.confluent.cloud"), 1);
        assert_eq!(run("arn:aws:glue:us-west-2:123456789012:registry/orders"), 0);
        assert_eq!(run("not a url"), 0, "a URI kreach cannot probe is no row, and no error");
    }

    /// The input step for the sample mapping edited by `edit`, with `options`, under a policy that
    /// withholds credentials from the run when `withhold`.
    fn prepared(edit: impl Fn(&mut serde_json::Value), options: CheckOptions, withhold: bool) -> Ready {
        let mut v: serde_json::Value = serde_json::from_str(crate::input::mapping::tests::SAMPLE).expect("sample");
        edit(&mut v);
        let m = EventSourceMapping::parse(v.to_string().as_bytes()).expect("mapping");
        let mut input = RunInput::new(options);
        input.mapping = MappingInput::Given(Box::new(m));
        let policy = move |view: PolicyView<'_>| {
            if withhold {
                view.config.withhold_credentials = Some("not this bootstrap".into());
            }
            Ok(())
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        rt.block_on(prepare(input, &|_| None, &NoAws("no AWS here"), &policy)).expect("ready")
    }

    /// The mapping's client certificate is read only when credentials may go to the run's
    /// bootstrap: a policy that withholds them (a Lambda invoker's bootstrap the function does not
    /// allow) keeps it unread and unpresented, and says so.
    #[test]
    fn the_mappings_certificate_is_not_read_where_credentials_may_not_go() {
        let run = |withhold: bool| {
            let edit = |v: &mut serde_json::Value| {
                v["SourceAccessConfigurations"] = serde_json::json!([
                    {"Type": "CLIENT_CERTIFICATE_TLS_AUTH", "URI": "arn:aws:secretsmanager:us-west-2:1:secret:mtls-AbC"}
                ]);
            };
            let options = CheckOptions { bootstrap: Some("elsewhere.example:9094".into()), ..Default::default() };
            prepared(edit, options, withhold)
        };
        let withheld = run(true);
        assert!(withheld.mapping.as_ref().is_some_and(|m| m.client_certificate_problem.is_none()), "not even read");
        assert!(withheld.refused.iter().any(|r| r.field == "event_source_mapping"), "{:?}", withheld.refused);
        let read = run(false);
        let problem = read.mapping.as_ref().and_then(|m| m.client_certificate_problem.as_ref()).map(|p| p.problem);
        assert_eq!(
            problem,
            Some(crate::report::ClientCertSecretProblem::Unreadable),
            "read, and this build has no AWS"
        );
        assert_eq!(read.config.security_protocol, SecurityProtocol::Ssl, "mutual TLS without SASL");
    }

    /// The schema registry's access secrets are read (for their shape) unless credentials are
    /// withheld from the run; one that cannot be read is not verified, and no finding's problem.
    #[test]
    fn the_registry_secrets_are_not_read_where_credentials_may_not_go() {
        let run = |withhold: bool| {
            let edit = |v: &mut serde_json::Value| {
                v["SelfManagedKafkaEventSourceConfig"] = serde_json::json!({"SchemaRegistryConfig": {
                    "SchemaRegistryURI": "https://psrc-abc12.us-west-2.aws.confluent.cloud",
                    "AccessConfigs": [{"Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:us-west-2:1:secret:sr-AbC"}]}});
            };
            prepared(edit, CheckOptions::default(), withhold)
        };
        let checks =
            |r: &Ready| r.mapping.as_ref().and_then(|m| m.schema_registry.clone()).expect("registry").secret_checks;
        let withheld = run(true);
        assert!(checks(&withheld).is_empty(), "not even read");
        assert!(withheld.refused.iter().any(|r| r.reason.contains("schema registry")), "{:?}", withheld.refused);
        let read = checks(&run(false));
        assert_eq!(read.len(), 1);
        assert!(!read[0].verified && read[0].problem.is_none(), "unreadable here: not verified, no problem: {read:?}");
    }
}

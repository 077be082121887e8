//! Errors for "could not run at all". A failing check is never an error: it is data in the report.

use std::path::PathBuf;
use std::sync::Arc;

/// Why a run could not start.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A user-supplied value is malformed; names the field.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// The flag or property at fault, e.g. `--bootstrap` or `bootstrap.servers`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A file named by the user could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: Arc<std::io::Error>,
    },
    /// Something kreach needs locally is broken (e.g. no TLS provider).
    #[error("{0}")]
    Setup(String),
}

/// Longest input excerpt an error message quotes.
const QUOTE_MAX: usize = 48;
/// Longest error message kept (a message never carries a multi-megabyte input back).
const MESSAGE_MAX: usize = 400;

/// An input value as an error message may quote it: at most a short prefix, control characters
/// and escape sequences made visible, in backticks. Never call it on a secret.
pub fn quote(value: &str) -> String {
    format!("`{}`", excerpt(value, QUOTE_MAX))
}

/// A path as an error message may show it (the same escaping and cap as [`quote`], no backticks).
pub(crate) fn quote_path(path: &std::path::Path) -> String {
    excerpt(&path.display().to_string(), 160)
}

/// `text` with control characters escaped, cut to `max` characters (saying how long it was).
fn excerpt(text: &str, max: usize) -> String {
    let total = text.chars().count();
    let head: String = text.chars().take(max).collect();
    let clean = crate::text::clean(&head).into_owned();
    if total > max { format!("{clean}… ({total} characters)") } else { clean }
}

/// Every option that has a name on the command line and in a Lambda event: (flag, event key).
/// Input errors name the field as each front end spells it ([`Error::for_event`]).
pub const FIELDS: &[(&str, &str)] = &[
    ("--bootstrap", "bootstrap"),
    ("--resolver", "resolvers"),
    ("--public-resolver", "public_resolvers"),
    ("--private-cidr", "private_cidrs"),
    ("--ca-file", "ca_pem"),
    ("--insecure", "insecure"),
    ("--timeout", "timeout_secs"),
    ("--connect-timeout", "connect_timeout_secs"),
    ("--https-port", "https_port"),
    ("--no-https", "no_https"),
    ("--security-protocol", "security_protocol"),
    ("--zone-address", "zone_addresses"),
    ("--dns-domain", "dns_domain"),
    ("--target", "targets"),
    ("--schema-registry", "schema_registry"),
    ("--aws-apis", "aws_apis"),
    ("--aws-region", "aws_region"),
    ("--confluent-apis", "confluent_apis"),
    ("--api-port", "api_port"),
    ("--topic", "topics"),
    ("--consumer-group", "consumer_group"),
    ("--sasl-secret", "credentials_secret"),
    ("--event-source-mapping", "event_source_mapping"),
    ("--aws", "aws"),
    ("--vpc-endpoint", "vpc_endpoint"),
    ("--vpc-id", "vpc_id"),
    ("--endpoint-service", "endpoint_service"),
    ("--sink-connector-principal", "sink_connector_principal"),
    ("--lambda-function", "lambda_function"),
];

impl Error {
    /// The message as the author of a Lambda event reads it: the field spelled as the event's
    /// key (`https_port`), not the flag (`--https-port`). A property keeps its own name.
    pub fn for_event(&self) -> String {
        match self {
            Error::InvalidInput { field, message } => {
                let key = FIELDS.iter().find(|(flag, _)| flag == field).map_or(field.as_str(), |(_, k)| k);
                format!("invalid {key}: {message}")
            }
            other => other.to_string(),
        }
    }

    /// An input error. Whatever the caller put in the message, it is escaped and capped here, so
    /// no message can carry terminal escapes or a huge input back to the user.
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput { field: excerpt(&field.into(), 120), message: excerpt(&message.into(), MESSAGE_MAX) }
    }

    /// The same error with every occurrence of each secret replaced by `***` (a secret must never
    /// reach an error message, even through a value that swallowed it).
    pub(crate) fn redacted(self, secrets: &[&str]) -> Self {
        let scrub = |mut text: String| {
            for secret in secrets.iter().filter(|s| s.len() >= 3) {
                text = text.replace(secret, "***");
                // An excerpt may have cut the secret: a prefix of it right before the cut goes too.
                // (Prefixes are cut on character boundaries: a secret may be any UTF-8.)
                let cuts: Vec<usize> = secret.char_indices().map(|(i, _)| i).filter(|&i| i >= 3).collect();
                for &end in cuts.iter().rev() {
                    let cut = format!("{}…", &secret[..end]);
                    if text.contains(&cut) {
                        text = text.replace(&cut, "***…");
                    }
                }
            }
            text
        };
        match self {
            Error::InvalidInput { field, message } => {
                Error::InvalidInput { field: scrub(field), message: scrub(message) }
            }
            Error::Setup(m) => Error::Setup(scrub(m)),
            other => other,
        }
    }

    /// Whether the user gave a bad value (exit code 2 material).
    pub fn is_input(&self) -> bool {
        matches!(self, Error::InvalidInput { .. } | Error::ReadFile { .. })
    }
}

/// Why one value (an address, a resolver, a zone address, a protocol name) did not parse. The
/// message quotes the value; the caller knows which field it came from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub(crate) String);

impl ParseError {
    /// What is wrong, quoting the value.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl From<ParseError> for String {
    fn from(e: ParseError) -> String {
        e.0
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Error {
        Error::invalid("value", e.0)
    }
}

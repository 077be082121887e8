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

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput { field: field.into(), message: message.into() }
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

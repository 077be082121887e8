//! Why an AWS read failed, classified: the audit files a denial under `denied` with the policy
//! to grant, an unreachable API under `unavailable`, anything else under `errors`; the reads the
//! input step and `--via-function` make return it as their error.

use kreach::AwsDenied;

/// A failed AWS call, by what the user can do about it. Its text names the call and never a
/// credential.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// The principal may not make the call (`UnauthorizedOperation`, `AccessDenied`, HTTP 403).
    #[error("{action} was denied: {message}")]
    Denied {
        /// The IAM action, `ec2:DescribeSubnets`.
        action: String,
        /// The API's message.
        message: String,
    },
    /// The API did not answer (no route, no answer in time) or refused the credentials.
    #[error("{0}")]
    Unreachable(String),
    /// The API answered something kreach cannot use: malformed, oversized, not what was asked.
    #[error("{0}")]
    Invalid(String),
    /// Any other error: one the API answered (a missing resource, a bad parameter), or a
    /// request kreach could not build.
    #[error("{0}")]
    Api(String),
}

impl AwsError {
    /// An API's error answer to `action`, classified by its code (the same table for the SDK's
    /// clients and kreach's own): a denial, refused credentials, anything else. A 403 without a
    /// code is a denial all the same; `unparsed` says what else is known when there is no code.
    pub(crate) fn from_answer(
        action: &str,
        status: u16,
        code: &str,
        message: String,
        unparsed: impl FnOnce() -> String,
    ) -> Self {
        if (status == 403 && code.is_empty())
            || matches!(code, "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException")
        {
            let message = if message.is_empty() { "HTTP 403 Forbidden".to_string() } else { message };
            AwsError::Denied { action: action.to_string(), message }
        } else if matches!(code, "AuthFailure" | "InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredToken") {
            AwsError::Unreachable(format!("{action}: credentials refused ({code}): {message}"))
        } else if code.is_empty() {
            AwsError::Api(format!("{action}: {}", unparsed()))
        } else {
            AwsError::Api(format!("{action}: {code}: {message}"))
        }
    }

    /// The denial as the report records it.
    pub fn denied(&self) -> Option<AwsDenied> {
        match self {
            AwsError::Denied { action, message } => {
                Some(AwsDenied { action: action.clone(), message: message.clone() })
            }
            _ => None,
        }
    }
}

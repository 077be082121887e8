//! Why an AWS call failed, as data: a kind (what the user can do about it), the service's error
//! code and the HTTP status when the API answered, and one line of text for people. Code asks
//! [`AwsError::is_throttled`], [`AwsError::is_denied`], [`AwsError::is_not_found`] — never the text.
//! The audit files a denial under `denied` with the policy to grant, an unreachable API under
//! `unavailable`, anything else under `errors`.

use kreach::report::AwsDenied;

/// What kind of failure an AWS call met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AwsErrorKind {
    /// The principal may not make the call (`AccessDenied`, `UnauthorizedOperation`, a 403).
    Denied,
    /// The API throttled the caller (`Throttling`, `TooManyRequestsException`, a 429).
    Throttled,
    /// The resource named does not exist (`…NotFound`, `ResourceNotFoundException`, `NoSuch…`).
    NotFound,
    /// The API refused the credentials (expired, unknown, badly signed).
    CredentialsRefused,
    /// The API did not answer: no route, no connection, no answer in time.
    Unreachable,
    /// kreach's own deadline for the call ran out.
    TimedOut,
    /// The API (or a function) answered something kreach cannot use: malformed, oversized.
    Invalid,
    /// An invoked function answered an error of its own (its `X-Amz-Function-Error`).
    FunctionError,
    /// Any other error the API answered, or a request kreach could not build.
    Other,
}

impl AwsErrorKind {
    /// A stable label (metrics, JSON).
    pub fn as_label(self) -> &'static str {
        match self {
            AwsErrorKind::Denied => "denied",
            AwsErrorKind::Throttled => "throttled",
            AwsErrorKind::NotFound => "not_found",
            AwsErrorKind::CredentialsRefused => "credentials_refused",
            AwsErrorKind::Unreachable => "unreachable",
            AwsErrorKind::TimedOut => "timed_out",
            AwsErrorKind::Invalid => "invalid",
            AwsErrorKind::FunctionError => "function_error",
            AwsErrorKind::Other => "other",
        }
    }
}

/// A failed AWS call. Its text names the call and never a credential.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct AwsError {
    /// What kind of failure.
    pub kind: AwsErrorKind,
    /// The IAM action (`ec2:DescribeSubnets`), when known.
    pub action: Option<String>,
    /// The service's error code, when it answered one.
    pub code: Option<String>,
    /// The HTTP status, when the API answered.
    pub status: Option<u16>,
    /// The API's own message, when it answered one.
    pub message: String,
    /// One line for people.
    text: String,
}

/// Error codes that mean "slow down", across the services kreach calls.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
    "EC2ThrottledException",
    "BandwidthLimitExceeded",
];

impl AwsError {
    fn new(kind: AwsErrorKind, text: String) -> Self {
        AwsError { kind, action: None, code: None, status: None, message: String::new(), text }
    }

    /// `action` was denied, with the API's message.
    pub fn denied(action: impl Into<String>, message: impl Into<String>) -> Self {
        let (action, message) = (action.into(), message.into());
        let text = format!("{action} was denied: {message}");
        AwsError { action: Some(action), message, ..AwsError::new(AwsErrorKind::Denied, text) }
    }

    /// The API did not answer.
    pub fn unreachable(text: impl Into<String>) -> Self {
        AwsError::new(AwsErrorKind::Unreachable, text.into())
    }

    /// kreach's own deadline for the call ran out.
    pub fn timed_out(text: impl Into<String>) -> Self {
        AwsError::new(AwsErrorKind::TimedOut, text.into())
    }

    /// An answer kreach cannot use.
    pub fn invalid(text: impl Into<String>) -> Self {
        AwsError::new(AwsErrorKind::Invalid, text.into())
    }

    /// A function's own error answer.
    pub fn function_error(text: impl Into<String>) -> Self {
        AwsError::new(AwsErrorKind::FunctionError, text.into())
    }

    /// Any other failure.
    pub fn other(text: impl Into<String>) -> Self {
        AwsError::new(AwsErrorKind::Other, text.into())
    }

    /// An API's error answer to `action`, classified by its code and status (the same table for
    /// the SDK's clients and kreach's own): a denial, throttling, a missing resource, refused
    /// credentials, anything else. `unparsed` says what else is known when there is no code.
    pub(crate) fn from_answer(
        action: &str,
        status: u16,
        code: &str,
        message: String,
        unparsed: impl FnOnce() -> String,
    ) -> Self {
        let kind = if (status == 403 && code.is_empty())
            || matches!(code, "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException")
        {
            AwsErrorKind::Denied
        } else if THROTTLING.contains(&code) || (status == 429 && code.is_empty()) {
            AwsErrorKind::Throttled
        } else if matches!(
            code,
            "AuthFailure"
                | "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "UnrecognizedClientException"
        ) {
            AwsErrorKind::CredentialsRefused
        } else if code.ends_with("NotFound")
            || code.ends_with("NotFoundException")
            || code.starts_with("NoSuch")
            || (status == 404 && code.is_empty())
        {
            AwsErrorKind::NotFound
        } else {
            AwsErrorKind::Other
        };
        let message = if kind == AwsErrorKind::Denied && message.is_empty() && code.is_empty() {
            "HTTP 403 Forbidden".to_string()
        } else {
            message
        };
        let text = match kind {
            AwsErrorKind::Denied => format!("{action} was denied: {message}"),
            AwsErrorKind::CredentialsRefused => format!("{action}: credentials refused ({code}): {message}"),
            _ if code.is_empty() => format!("{action}: {}", unparsed()),
            _ => format!("{action}: {code}: {message}"),
        };
        AwsError {
            kind,
            action: Some(action.to_string()),
            code: (!code.is_empty()).then(|| code.to_string()),
            status: Some(status),
            message,
            text,
        }
    }

    /// The same error, naming the IAM action it came from.
    #[must_use]
    pub fn for_action(mut self, action: &str) -> Self {
        self.action = Some(action.to_string());
        self
    }

    /// Whether the caller was throttled (worth another try later).
    pub fn is_throttled(&self) -> bool {
        self.kind == AwsErrorKind::Throttled
    }

    /// Whether the principal may not make the call.
    pub fn is_denied(&self) -> bool {
        self.kind == AwsErrorKind::Denied
    }

    /// Whether the resource named does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == AwsErrorKind::NotFound
    }

    /// Whether the API could not be reached or refused the credentials (the audit cannot go on).
    pub fn is_unreachable(&self) -> bool {
        matches!(self.kind, AwsErrorKind::Unreachable | AwsErrorKind::CredentialsRefused | AwsErrorKind::TimedOut)
    }

    /// The denial as the report records it.
    pub fn as_denied(&self) -> Option<AwsDenied> {
        (self.kind == AwsErrorKind::Denied)
            .then(|| AwsDenied { action: self.action.clone().unwrap_or_default(), message: self.message.clone() })
    }

    /// The same error with its text replaced (tests: a verdict must not read it).
    #[doc(hidden)]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self.message = self.text.clone();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_by_code_and_status_not_text() {
        let e = |status, code: &str| {
            AwsError::from_answer("lambda:InvokeFunction f", status, code, "x".into(), || "y".into())
        };
        assert!(e(429, "TooManyRequestsException").is_throttled());
        assert!(e(429, "").is_throttled());
        assert!(e(400, "Throttling").is_throttled());
        assert!(e(403, "").is_denied());
        assert!(e(400, "AccessDeniedException").is_denied());
        assert!(e(404, "ResourceNotFoundException").is_not_found());
        assert!(e(400, "InvalidVpcEndpointId.NotFound").is_not_found());
        assert!(e(401, "ExpiredToken").is_unreachable());
        // A message that talks of throttling is not throttling.
        let wordy = AwsError::from_answer("x", 400, "ValidationException", "Rate exceeded".into(), String::new);
        assert!(!wordy.is_throttled() && wordy.kind == AwsErrorKind::Other);
        assert!(!AwsError::function_error("kr-Throttled answered Unhandled: Rate exceeded").is_throttled());
    }
}

//! How the client authenticates, beyond the Kafka exchange: the OAuth token fetched from the
//! identity provider (OIDC client credentials) for SASL OAUTHBEARER.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The token fetch of the run: the token endpoint as a hop of its own (its DNS, TCP, TLS and
/// HTTP answer), and what the identity provider said. Never the client secret, never the token.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TokenFetch {
    /// The token endpoint's URL.
    pub endpoint: String,
    /// The client id (not a secret).
    pub client_id: String,
    /// How it ended.
    pub outcome: TokenOutcome,
    /// The step it ended at.
    pub step: TokenStep,
    /// The address the request went to (or the last one tried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Whether the token endpoint's name resolved to private addresses (an endpoint in the VPC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    /// How the TLS handshake with the token endpoint ended, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::report::TlsOutcome>,
    /// The issuer of the certificate the token endpoint presented, when it presented one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_issuer: Option<String>,
    /// The HTTP status of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The identity provider's refusal, by its OAuth error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<TokenRefusal>,
    /// The provider's own `error` and `error_description`, cleaned and cut (shown, never read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_says: Option<String>,
    /// What failed, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Time taken in milliseconds.
    pub elapsed_ms: u64,
    /// The token's claims that help (a JWT's; an opaque token has none). Never the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<TokenClaims>,
    /// The token's lifetime in seconds, as the provider said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// AWS IAM OAuth: how signing the STS `GetWebIdentityToken` request with the client's AWS
    /// credentials went (never a key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_signing: Option<crate::report::IamSigning>,
    /// Where the token comes from.
    #[serde(default)]
    pub source: TokenSource,
}

impl TokenFetch {
    /// The provider's own words (its error code and message), cleaned and short: shown, never read.
    pub(crate) fn set_provider_says(&mut self, code: Option<String>, message: Option<String>) {
        let says: Vec<String> = code.into_iter().chain(message).collect();
        self.provider_says =
            (!says.is_empty()).then(|| crate::text::truncate(&crate::text::clean(&says.join(": ")), 300));
    }
}

/// Where an OAUTHBEARER token comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenSource {
    /// An OIDC provider's token endpoint, by the client-credentials grant.
    #[default]
    ClientCredentials,
    /// AWS STS `GetWebIdentityToken` with the client's AWS credentials (Confluent's AWS IAM OAuth).
    AwsSts,
}

/// How the token fetch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenOutcome {
    /// A token came back.
    Ok,
    /// The endpoint's name did not resolve.
    NotResolved,
    /// No TCP connection (dropped, refused, no route).
    Unreachable,
    /// The TLS handshake failed (the certificate included).
    TlsFailed,
    /// Connected, but no HTTP answer within the time.
    NoAnswer,
    /// The provider answered with an error (`invalid_client`, …).
    Refused,
    /// An answer kreach cannot use (not JSON, no access_token, too large).
    BadAnswer,
    /// The secret was not sent: the endpoint's certificate was not verified, or it is http://,
    /// and that was not allowed.
    Withheld,
    /// The run's deadline came first.
    TimedOut,
    /// AWS IAM OAuth: no usable AWS credentials to sign the STS request with (`aws_signing` says
    /// why); nothing was sent.
    NoCredentials,
}

/// Where the token fetch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenStep {
    /// Name resolution.
    Dns,
    /// TCP connect.
    Tcp,
    /// TLS handshake.
    Tls,
    /// The HTTP request and its answer.
    Http,
    /// A token came.
    Done,
}

/// An identity provider's refusal, by RFC 6749's error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenRefusal {
    /// `invalid_client`: the client id or secret is wrong (or the client is disabled).
    InvalidClient,
    /// `invalid_scope`: the scope asked for is not one the client may have.
    InvalidScope,
    /// `unauthorized_client`: the client may not use the client-credentials grant.
    UnauthorizedClient,
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`: the request is not what this
    /// provider takes (often a wrong URL, tenant or audience).
    InvalidRequest,
    /// HTTP 404: nothing at that path (a wrong tenant or URL).
    NotFound,
    /// STS `AccessDenied`: the principal may not `sts:GetWebIdentityToken` (for this audience).
    AccessDenied,
    /// STS `OutboundWebIdentityFederationDisabled`: the account has not turned on outbound
    /// identity federation.
    FederationDisabled,
    /// STS refused the request's credentials (`InvalidClientTokenId`, `ExpiredToken`,
    /// `SignatureDoesNotMatch`, …).
    InvalidCredentials,
    /// Any other error answer.
    Other,
}

impl TokenRefusal {
    /// From STS's error `Code` and the HTTP status.
    pub fn classify_sts(code: Option<&str>, status: u16) -> TokenRefusal {
        match code {
            Some("AccessDenied" | "AccessDeniedException") => TokenRefusal::AccessDenied,
            Some("OutboundWebIdentityFederationDisabled" | "OutboundWebIdentityFederationDisabledException") => {
                TokenRefusal::FederationDisabled
            }
            Some(
                "InvalidClientTokenId"
                | "ExpiredToken"
                | "ExpiredTokenException"
                | "SignatureDoesNotMatch"
                | "IncompleteSignature"
                | "UnrecognizedClientException",
            ) => TokenRefusal::InvalidCredentials,
            Some("InvalidParameterValue" | "InvalidAction" | "MissingParameter" | "ValidationError") => {
                TokenRefusal::InvalidRequest
            }
            // No code to read: the status alone.
            None if status == 404 => TokenRefusal::NotFound,
            None if status == 403 => TokenRefusal::AccessDenied,
            _ => TokenRefusal::Other,
        }
    }

    /// From the provider's `error` code and the HTTP status.
    pub fn classify(error: Option<&str>, status: u16) -> TokenRefusal {
        match error {
            Some("invalid_client") => TokenRefusal::InvalidClient,
            Some("invalid_scope") => TokenRefusal::InvalidScope,
            Some("unauthorized_client") => TokenRefusal::UnauthorizedClient,
            Some("invalid_request" | "invalid_grant" | "unsupported_grant_type") => TokenRefusal::InvalidRequest,
            _ if status == 404 => TokenRefusal::NotFound,
            _ if status == 401 => TokenRefusal::InvalidClient,
            _ => TokenRefusal::Other,
        }
    }
}

/// What a token says about itself (a JWT's claims), to tell which identity pool it can match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TokenClaims {
    /// `iss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// `aud`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    /// `sub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `exp`, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// `scope` (or `scp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

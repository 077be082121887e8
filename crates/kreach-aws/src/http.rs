//! The HTTPS client under every AWS SDK client of kreach's: the SDK's own (rustls on ring), with
//! every answer read and checked before the SDK sees it. The SDK reads an answer of any size,
//! and its XML reader takes a truncated or broken document for a short one (an endpoint listing
//! cut off reads as "no endpoint"); a broken or hostile endpoint (`AWS_ENDPOINT_URL`, a proxy, an
//! emulator) could make it hold gigabytes or say something false. Here a body is refused the
//! moment it passes [`MAX_ANSWER`] bytes (at once when its `Content-Length` says so), and a
//! successful answer that is XML must be one whole well-formed document of bounded depth and size;
//! a refused answer is a connector error the SDK does not retry, classified `invalid`.

use std::fmt;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use http_body_util::{BodyExt, Limited};

/// Largest answer body an SDK call may read (an EC2 page of a thousand interfaces is ~3 MB,
/// CloudWatch Logs' and CloudTrail's pages at most 1 MB).
pub const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// Deepest nesting of an XML answer (AWS's nest about eight deep).
const MAX_DEPTH: usize = 32;
/// Most elements of an XML answer.
const MAX_ELEMENTS: usize = 200_000;

/// An answer refused before the SDK read it: what the audit's error says, found in the SDK
/// error's sources.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Larger than the cap.
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    /// XML that is not one whole well-formed document.
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// XML nested deeper than 32 elements or with more than 200 000 of them.
    #[error("the answer {0}")]
    TooBig(String),
}

/// The HTTPS client every SDK call of kreach's uses: answers capped at [`MAX_ANSWER`] bytes.
pub(crate) fn https_client() -> SharedHttpClient {
    capped(sdk_https(), MAX_ANSWER)
}

/// The SDK's HTTPS client (rustls with ring), uncapped.
fn sdk_https() -> SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// `inner` with every answer's body read under `cap` bytes.
pub(crate) fn capped(inner: SharedHttpClient, cap: usize) -> SharedHttpClient {
    SharedHttpClient::new(Capped { inner, cap })
}

#[derive(Debug)]
struct Capped {
    inner: SharedHttpClient,
    cap: usize,
}

impl HttpClient for Capped {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let inner = self.inner.http_connector(settings, components);
        SharedHttpConnector::new(CappedConnector { inner, cap: self.cap })
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_base_client_config(components, cfg)
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

struct CappedConnector {
    inner: SharedHttpConnector,
    cap: usize,
}

impl fmt::Debug for CappedConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CappedConnector").field("cap", &self.cap).finish()
    }
}

impl HttpConnector for CappedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let cap = self.cap;
        let answer = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let mut response = answer.await?;
            let declared = response
                .headers()
                .get("content-length")
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|n| n > cap as u64);
            let refuse = |why: Refused| ConnectorError::other(Box::new(why), None);
            if declared {
                return Err(refuse(Refused::TooLarge(cap)));
            }
            let body = response.take_body();
            let bytes = match Limited::new(body, cap).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                    return Err(refuse(Refused::TooLarge(cap)));
                }
                Err(e) => return Err(ConnectorError::io(e)),
            };
            // An error answer is the SDK's to classify by its status, whatever its body.
            if response.status().is_success() {
                check_xml(&bytes).map_err(refuse)?;
            }
            *response.body_mut() = SdkBody::from(bytes);
            Ok(response)
        })
    }
}

/// A body that looks like XML (its first non-blank byte is `<`) must be one whole well-formed
/// document, at most [`MAX_DEPTH`] deep and [`MAX_ELEMENTS`] elements; anything else (JSON, an
/// empty body) is the SDK's to read. Checked with `xmlparser`'s tokens, holding nothing but a stack
/// of names.
pub(crate) fn check_xml(body: &[u8]) -> Result<(), Refused> {
    use xmlparser::{ElementEnd, Token, Tokenizer};
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'<') {
        return Ok(());
    }
    let malformed = |why: &str| Refused::Malformed(why.to_string());
    let text = std::str::from_utf8(body).map_err(|_| malformed("the answer is not UTF-8"))?;
    let mut open: Vec<&str> = Vec::new();
    let (mut elements, mut closed) = (0usize, false);
    for token in Tokenizer::from(text) {
        match token.map_err(|e| Refused::Malformed(e.to_string()))? {
            Token::ElementStart { local, .. } => {
                if closed {
                    return Err(malformed("content after the root element"));
                }
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(Refused::TooBig(format!("has more than {MAX_ELEMENTS} elements")));
                }
                if open.len() >= MAX_DEPTH {
                    return Err(Refused::TooBig(format!("nests deeper than {MAX_DEPTH} elements")));
                }
                open.push(local.as_str());
            }
            Token::ElementEnd { end, .. } => {
                let name = match end {
                    ElementEnd::Open => continue,
                    ElementEnd::Close(_, local) => Some(local.as_str()),
                    ElementEnd::Empty => None,
                };
                let started = open.pop().ok_or_else(|| malformed("a closing tag without an opening one"))?;
                if name.is_some_and(|n| n != started) {
                    return Err(Refused::Malformed(format!("<{started}> closed by </{}>", name.unwrap_or(""))));
                }
                closed = open.is_empty();
            }
            _ => {}
        }
    }
    if !closed {
        return Err(malformed("the document ends inside an element"));
    }
    Ok(())
}

/// Why an SDK error's answer was refused, when it was.
pub(crate) fn refused<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(r);
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_xml_answer_must_be_one_whole_document_of_bounded_size() {
        let ok = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeVpcAttributeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>7a62c49f</requestId><enableDnsSupport><value>true</value></enableDnsSupport><empty/>
  <name>a &amp; b &#x41;</name>
</DescribeVpcAttributeResponse>
"#;
        assert_eq!(check_xml(ok.as_bytes()), Ok(()));
        // Not XML: the SDK's to read (its JSON reader is strict).
        for other in ["", "{\"a\": 1}", "  ", "null"] {
            assert_eq!(check_xml(other.as_bytes()), Ok(()), "{other:?}");
        }
        for bad in [
            "<a>",
            "<a></b>",
            "</a>",
            "<a/><b/>",
            "<DescribeVpcEndpointsResponse><vpcEndpointSet><item>",
            "<DescribeVpcEndpointsResponse><<>>",
        ] {
            assert!(matches!(check_xml(bad.as_bytes()), Err(Refused::Malformed(_))), "{bad:?} passed");
        }
        assert!(matches!(check_xml(b"<a>\xff</a>"), Err(Refused::Malformed(_))));
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(matches!(check_xml(deep.as_bytes()), Err(Refused::TooBig(w)) if w.contains("deeper")));
        let wide = format!("<r>{}</r>", "<i/>".repeat(MAX_ELEMENTS + 1));
        assert!(matches!(check_xml(wide.as_bytes()), Err(Refused::TooBig(w)) if w.contains("more than")));
    }

    /// A refused answer reaches the SDK as a dispatch failure; every classifier names it for what
    /// it is (the endpoint answered, wrongly), never "not reachable".
    #[test]
    fn a_refused_answer_is_invalid_not_unreachable() {
        use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
        type Failed = aws_sdk_secretsmanager::error::SdkError<
            GetSecretValueError,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >;
        let refused = || Failed::dispatch_failure(ConnectorError::other(Box::new(Refused::TooLarge(MAX_ANSWER)), None));
        let e = crate::classify("secretsmanager:GetSecretValue", refused());
        assert_eq!(e.kind, crate::AwsErrorKind::Invalid);
        assert!(!e.is_unreachable());
        assert!(e.to_string().contains("is larger than 8388608 bytes"), "{e}");
        let (outcome, detail) = crate::secrets::classify_secret_error(&refused());
        assert_eq!(outcome, kreach::report::SecretOutcome::Error);
        assert!(detail.contains("is larger than"), "{detail}");
        // A connection that failed is still unreachable.
        let io = Failed::dispatch_failure(ConnectorError::io("connection refused".into()));
        assert!(crate::classify("secretsmanager:GetSecretValue", io).is_unreachable());
    }
}

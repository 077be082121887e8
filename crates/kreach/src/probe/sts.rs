//! Confluent's AWS IAM OAuth: the token is a JWT AWS STS mints with `GetWebIdentityToken` for the
//! client's own AWS identity (outbound identity federation), as confluent-kafka 2.15's
//! `oauthbearer-aws` asks for it. The request (AWS Query protocol, API version 2011-06-15) and its
//! answer (XML: `GetWebIdentityTokenResult/WebIdentityToken`, or `Error/Code` and `Message`) are
//! read here; signing the request is the front end's (it holds the AWS credentials).

use crate::input::oauth::AwsWebIdentity;
use crate::report::{TokenFetch, TokenOutcome, TokenRefusal};

/// The form-encoded `GetWebIdentityToken` request.
pub(crate) fn body(w: &AwsWebIdentity) -> String {
    let mut pairs: Vec<(String, String)> = vec![
        ("Action".into(), "GetWebIdentityToken".into()),
        ("Version".into(), "2011-06-15".into()),
        ("Audience.member.1".into(), w.audience.clone()),
        ("SigningAlgorithm".into(), w.signing_algorithm.clone()),
        ("DurationSeconds".into(), w.duration_seconds.to_string()),
    ];
    for (i, (k, v)) in w.tags.iter().enumerate() {
        pairs.push((format!("Tags.member.{}.Key", i + 1), k.clone()));
        pairs.push((format!("Tags.member.{}.Value", i + 1), v.clone()));
    }
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// The text of the first `<tag>…</tag>` in `xml`, unescaped; `None` when absent.
fn element(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    let raw = &xml[start..end];
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
            .trim()
            .to_string(),
    )
}

/// STS's answer read: the `WebIdentityToken`'s text, or (the record says which) STS's refusal by
/// its error code, or an answer without a token.
pub(crate) fn read_answer(status: u16, body: &str, record: &mut TokenFetch) -> Option<String> {
    if !(200..300).contains(&status) {
        let code = element(body, "Code");
        let message = element(body, "Message");
        record.outcome = TokenOutcome::Refused;
        record.refusal = Some(TokenRefusal::classify_sts(code.as_deref(), status));
        record.set_provider_says(code, message);
        return None;
    }
    let token = element(body, "WebIdentityToken");
    if token.is_none() {
        record.outcome = TokenOutcome::BadAnswer;
        record.detail = Some(format!("HTTP {status} without a WebIdentityToken"));
    }
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> TokenFetch {
        serde_json::from_value(serde_json::json!({
            "endpoint": "https://sts.us-east-1.amazonaws.com/", "client_id": "", "outcome": "timed_out",
            "step": "http", "elapsed_ms": 0
        }))
        .expect("record")
    }

    #[test]
    fn the_request_is_the_query_protocols_and_answers_are_read_by_code() {
        let w = AwsWebIdentity {
            region: "us-east-1".into(),
            audience: "https://confluent.cloud/oidc".into(),
            duration_seconds: 300,
            signing_algorithm: "ES384".into(),
            tags: vec![("team".into(), "a b".into())],
        };
        assert_eq!(
            body(&w),
            "Action=GetWebIdentityToken&Version=2011-06-15&Audience.member.1=https%3A%2F%2Fconfluent.cloud%2Foidc&\
             SigningAlgorithm=ES384&DurationSeconds=300&Tags.member.1.Key=team&Tags.member.1.Value=a+b"
        );
        let mut r = record();
        let ok = "<GetWebIdentityTokenResponse><GetWebIdentityTokenResult>\
                  <WebIdentityToken>a.b.c</WebIdentityToken><Expiration>2026-12-07T15:00:00Z</Expiration>\
                  </GetWebIdentityTokenResult></GetWebIdentityTokenResponse>";
        assert_eq!(read_answer(200, ok, &mut r).as_deref(), Some("a.b.c"));
        for (code, refusal) in [
            ("AccessDenied", TokenRefusal::AccessDenied),
            ("OutboundWebIdentityFederationDisabled", TokenRefusal::FederationDisabled),
            ("ExpiredToken", TokenRefusal::InvalidCredentials),
            ("Throttling", TokenRefusal::Other),
        ] {
            let mut r = record();
            let answer = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>no &amp; never</Message>\
                 </Error></ErrorResponse>"
            );
            assert!(read_answer(403, &answer, &mut r).is_none());
            assert_eq!((r.outcome, r.refusal), (TokenOutcome::Refused, Some(refusal)), "{code}");
            assert_eq!(r.provider_says.as_deref(), Some(format!("{code}: no & never").as_str()));
        }
        let mut r = record();
        assert!(read_answer(200, "<x/>", &mut r).is_none());
        assert_eq!(r.outcome, TokenOutcome::BadAnswer);
    }
}

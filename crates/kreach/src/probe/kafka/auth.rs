//! SASL on the Kafka connection: SaslHandshake, then PLAIN or SCRAM in SaslAuthenticate.

use super::*;

/// How an unverified OAUTHBEARER with MSK's IAM token is named (`unverified_mechanism`).
pub(crate) const MSK_IAM_OAUTHBEARER: &str = "OAUTHBEARER (MSK IAM)";

/// Error codes the SASL steps return.
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
const ILLEGAL_SASL_STATE: i16 = 34;
const SASL_AUTHENTICATION_FAILED: i16 = 58;

/// The mechanisms kreach authenticates with itself: PLAIN, SCRAM, and OAUTHBEARER once the run
/// holds a token it fetched from the configured token endpoint.
pub(super) fn speaks(sasl: &Sasl) -> bool {
    matches!(sasl.mechanism.as_str(), "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512")
        || (matches!(sasl.mechanism.as_str(), "OAUTHBEARER" | "AWS_MSK_IAM") && sasl.bearer.is_some())
}

/// A token the run obtained, in SaslAuthenticate: OAUTHBEARER's (RFC 7628, with the configured
/// extensions, KIP-342) or AWS_MSK_IAM's signed payload (a JSON object; MSK answers one with its
/// request id, or SASL_AUTHENTICATION_FAILED with its reason). A broker that refuses an OAUTHBEARER
/// token answers with an error, or (Apache Kafka) with an error challenge that the client
/// acknowledges with `^A` before the error comes.
pub(super) async fn authenticate_token<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut Client<'_, S>,
    versions: &ApiVersions,
    sasl: &Sasl,
    token: &crate::input::run_config::Secret,
    attempt: &mut KafkaAttempt,
) -> Result<(), (KafkaOutcome, String)> {
    handshake(client, versions, sasl, attempt).await?;
    let version = versions.range(ApiKey::SaslAuthenticate).map_or(0, |r| r.max.clamp(0, 2));
    let iam = sasl.mechanism == "AWS_MSK_IAM";
    let first = if iam {
        crate::input::run_config::Secret::new(token.expose().to_string())
    } else {
        let extensions = sasl.oauth.as_ref().map(|o| o.extensions.as_slice()).unwrap_or_default();
        crate::probe::oauth::initial_response(token, extensions)
    };
    let what = if iam { "the signed payload" } else { "the token" };
    let refused = |e: CallError| match e {
        CallError::Closed { .. } => (KafkaOutcome::AuthFailed, format!("the broker closed the connection on {what}")),
        other => (KafkaOutcome::Failed, other.to_string()),
    };
    let response = client.sasl_authenticate(first.expose().as_bytes(), version).await.map_err(refused)?;
    if response.error_code != 0 {
        let message: String = response.error_message.unwrap_or_default().chars().take(MAX_PEER_TEXT).collect();
        let outcome = if response.error_code == SASL_AUTHENTICATION_FAILED {
            KafkaOutcome::AuthFailed
        } else {
            KafkaOutcome::Failed
        };
        return Err((outcome, format!("SaslAuthenticate error code {}: {message}", response.error_code)));
    }
    // MSK's success carries its request id; an OAUTHBEARER success carries nothing.
    if iam || response.auth_bytes.is_empty() {
        return Ok(());
    }
    // An error challenge (a JSON status): acknowledge it, the error follows.
    let challenge =
        crate::text::truncate(&crate::text::clean(&String::from_utf8_lossy(&response.auth_bytes)), MAX_PEER_TEXT);
    let last = client.sasl_authenticate(b"\x01", version).await.map_err(refused)?;
    let message: String = last.error_message.unwrap_or_default().chars().take(MAX_PEER_TEXT).collect();
    Err((KafkaOutcome::AuthFailed, format!("the broker refused the token: {challenge} {message}").trim().to_string()))
}

/// SaslHandshake alone (no credentials in it): whether the broker does SASL and enables the
/// mechanism.
pub(super) async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut Client<'_, S>,
    versions: &ApiVersions,
    sasl: &Sasl,
    attempt: &mut KafkaAttempt,
) -> Result<(), (KafkaOutcome, String)> {
    let failed = |e: CallError| (KafkaOutcome::Failed, e.to_string());
    let handshake_version = match versions.range(ApiKey::SaslHandshake) {
        Some(r) if r.max >= 1 => 1,
        _ => {
            attempt.no_sasl = true;
            return Err((
                KafkaOutcome::MechanismUnsupported,
                "the listener does not do SASL: its ApiVersions lists no SaslHandshake v1".into(),
            ));
        }
    };
    let handshake = client.sasl_handshake(&sasl.mechanism, handshake_version).await.map_err(|e| match e {
        // Some brokers drop the connection on a mechanism they do not know.
        CallError::Closed { received: 0 } => (
            KafkaOutcome::MechanismUnsupported,
            format!("the broker closed the connection on SaslHandshake for {}", sasl.mechanism),
        ),
        other => failed(other),
    })?;
    attempt.broker_mechanisms = handshake.mechanisms.into_iter().take(MAX_MECHANISMS).collect();
    if handshake.error_code == ILLEGAL_SASL_STATE
        || (handshake.error_code == UNSUPPORTED_SASL_MECHANISM && attempt.broker_mechanisms.is_empty())
    {
        // Apache Kafka answers a SaslHandshake on a listener without SASL with ILLEGAL_SASL_STATE.
        attempt.no_sasl = true;
        return Err((
            KafkaOutcome::MechanismUnsupported,
            format!(
                "the listener does not do SASL: SaslHandshake for {} answered error code {} and no mechanism",
                sasl.mechanism, handshake.error_code
            ),
        ));
    }
    if handshake.error_code == UNSUPPORTED_SASL_MECHANISM {
        return Err((
            KafkaOutcome::MechanismUnsupported,
            format!("{} is not enabled; the broker offers {}", sasl.mechanism, attempt.broker_mechanisms.join(", ")),
        ));
    }
    if handshake.error_code != 0 {
        return Err((KafkaOutcome::Failed, format!("SaslHandshake answered error code {}", handshake.error_code)));
    }
    Ok(())
}

pub(super) async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut Client<'_, S>,
    versions: &ApiVersions,
    sasl: &Sasl,
    username: &str,
    password: &str,
    attempt: &mut KafkaAttempt,
) -> Result<(), (KafkaOutcome, String)> {
    let failed = |e: CallError| (KafkaOutcome::Failed, e.to_string());
    handshake(client, versions, sasl, attempt).await?;
    let auth_version = versions.range(ApiKey::SaslAuthenticate).map_or(0, |r| r.max.clamp(0, 2));
    let rejected = |response: wire::SaslAuthenticate| {
        let code = response.error_code;
        let outcome = if matches!(code, SASL_AUTHENTICATION_FAILED | ILLEGAL_SASL_STATE) {
            KafkaOutcome::AuthFailed
        } else {
            KafkaOutcome::Failed
        };
        let message: String = response.error_message.unwrap_or_default().chars().take(MAX_PEER_TEXT).collect();
        (outcome, format!("SaslAuthenticate error code {code}: {message}"))
    };
    // A broker that closes instead of answering the credentials has refused them.
    let refused = |e: CallError| match e {
        CallError::Closed { .. } => {
            (KafkaOutcome::AuthFailed, "the broker closed the connection on authentication".into())
        }
        other => failed(other),
    };
    match sasl.mechanism.as_str() {
        "PLAIN" => {
            let response = client.sasl_authenticate(&plain(username, password), auth_version).await.map_err(refused)?;
            if response.error_code != 0 {
                return Err(rejected(response));
            }
            Ok(())
        }
        "SCRAM-SHA-256" | "SCRAM-SHA-512" => {
            let hash = if sasl.mechanism == "SCRAM-SHA-256" { ScramHash::Sha256 } else { ScramHash::Sha512 };
            let (mut scram, first) = Scram::start(hash, username, password).map_err(|e| (KafkaOutcome::Failed, e))?;
            let response = client.sasl_authenticate(&first, auth_version).await.map_err(refused)?;
            if response.error_code != 0 {
                return Err(rejected(response));
            }
            let last = scram.respond(&response.auth_bytes).map_err(|e| (KafkaOutcome::AuthFailed, e))?;
            let response = client.sasl_authenticate(&last, auth_version).await.map_err(refused)?;
            if response.error_code != 0 {
                return Err(rejected(response));
            }
            scram.verify(&response.auth_bytes).map_err(|e| (KafkaOutcome::AuthFailed, e))
        }
        other => Err((KafkaOutcome::MechanismUnsupported, format!("kreach cannot authenticate with {other} yet"))),
    }
}

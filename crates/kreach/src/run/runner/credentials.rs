//! What a connection's Kafka step authenticates with: the run's SASL settings plus what the run
//! fetched (the OAuth token) or signed (the AWS_MSK_IAM payload), and whether any credential may
//! go over this connection at all (the one withhold rule).

use std::time::Duration;

use super::{Ctx, kafka};
use crate::input::config::CheckConfig;
use crate::run::plan::TargetPlan;

/// The bootstrap authenticates (when SASL is configured) and asks Metadata; brokers stop at ApiVersions.
/// `verified`: whether the connection is TLS with the peer's certificate verified.
/// With OAuth, the bootstrap's Kafka step authenticates with the run's token: it waits for the
/// fetch (inside the deadline) and gets the SASL settings with the token, which then goes where a
/// password would (the same withhold rule). `None` without OAuth, or on a broker.
async fn with_token(ctx: Ctx<'_>, plan: &TargetPlan) -> Option<crate::input::Sasl> {
    let (rx, sasl) = (ctx.token?, ctx.config.sasl.as_ref()?);
    if !plan.metadata {
        return None;
    }
    let mut rx = rx.clone();
    let wait = rx.wait_for(Option::is_some);
    let token = tokio::time::timeout(ctx.deadline.budget(ctx.config.timeout), wait)
        .await
        .ok()
        .and_then(|r| r.ok().and_then(|t| t.clone().flatten()));
    let mut sasl = sasl.clone();
    sasl.bearer = token;
    Some(sasl)
}

/// What the run adds to the SASL settings for this connection: the OAuth token it fetched, or the
/// AWS_MSK_IAM payload it signed (with how signing went).
pub(super) async fn run_credentials(
    ctx: Ctx<'_>,
    plan: &TargetPlan,
    verified: bool,
) -> (Option<crate::input::Sasl>, Option<crate::report::IamSigning>) {
    match signed(ctx, plan, verified).await {
        Some((sasl, signing)) => (sasl, Some(signing)),
        None => (with_token(ctx, plan).await, None),
    }
}

/// AWS_MSK_IAM (or OAUTHBEARER with MSK's IAM token) on the bootstrap, when its credentials may go
/// over this connection: the payload or token signed for the bootstrap's host (the SASL settings
/// carrying it) and how signing went. `None`
/// for another mechanism, a broker, or a connection the credentials must not go over.
async fn signed(
    ctx: Ctx<'_>,
    plan: &TargetPlan,
    verified: bool,
) -> Option<(Option<crate::input::Sasl>, crate::report::IamSigning)> {
    let sasl = ctx.config.sasl.as_ref().filter(|s| s.signs_for_msk())?;
    let signer = sasl.iam.as_ref()?;
    if !plan.metadata || withhold_reason(ctx.config, plan.tls, verified).is_some() {
        return None;
    }
    let budget = ctx.deadline.budget(SIGN_STEP_CAP);
    let signing =
        if sasl.mechanism == "OAUTHBEARER" { signer.0.sign_token(&plan.hp.host) } else { signer.0.sign(&plan.hp.host) };
    match tokio::time::timeout(budget, signing).await {
        Ok(Ok((payload, signing))) => {
            let mut sasl = sasl.clone();
            sasl.bearer = Some(payload);
            Some((Some(sasl), signing))
        }
        Ok(Err(signing)) => Some((None, signing)),
        Err(_) => {
            // Without a profile the role (when named) was the one provider that did not answer.
            let role = sasl.msk_role.as_ref().filter(|_| sasl.msk_profile.is_none());
            let signing = crate::report::IamSigning {
                outcome: crate::report::IamSigningOutcome::CredentialsUnreachable,
                host: plan.hp.host.clone(),
                detail: Some(format!("the credential chain gave no credentials within {} ms", budget.as_millis())),
                role: role.map(|r| r.arn.clone()),
                role_sts_region: role.map(crate::input::MskRole::assumed_in),
                ..Default::default()
            };
            Some((None, signing))
        }
    }
}

/// Longest the AWS_MSK_IAM signing (loading the credentials: STS, the instance metadata) may take.
const SIGN_STEP_CAP: Duration = Duration::from_secs(3);

/// `sasl`: the run's SASL settings with what the run fetched (the OAuth token), when it differs
/// from the configuration's.
pub(super) fn kafka_then<'a>(
    config: &'a CheckConfig,
    plan: &TargetPlan,
    verified: bool,
    sasl: Option<&'a crate::input::Sasl>,
) -> kafka::Then<'a> {
    if !plan.metadata {
        return kafka::Then::Stop;
    }
    let sasl = sasl.or(config.sasl.as_ref());
    match (withhold_reason(config, plan.tls, verified), &config.consumer) {
        (Some(why), _) if config.has_credentials() => kafka::Then::Withhold(why),
        (_, Some(questions)) => kafka::Then::Consumer(sasl, questions),
        _ => kafka::Then::Metadata(sasl),
    }
}

/// Why the credentials must not go over this connection: the run's rule
/// ([`CheckConfig::credentials_withheld`], which every stage obeys), then what this connection
/// shows (plaintext, or a certificate that was not verified), unless the user allowed it.
pub(super) fn withhold_reason(config: &CheckConfig, tls: bool, verified: bool) -> Option<String> {
    if let Some(why) = config.credentials_withheld() {
        Some(why)
    } else if config.allow_insecure_credentials {
        None
    } else if !tls {
        Some("the connection is plaintext (SASL_PLAINTEXT): the password would travel in clear".into())
    } else if !verified {
        Some("the peer's certificate was not verified: the peer could be anyone".into())
    } else {
        None
    }
}

//! The group's coordinator: one more broker connection beside the wave, for OffsetFetch, with
//! the credentials only where the one rule lets them go.

use super::*;

/// OffsetFetch for the group on its coordinator: resolve, connect and handshake like a broker,
/// authenticate when the credentials may go there, ask. Fills `group`'s answer.
pub(super) async fn coordinator_offsets(
    ctx: Ctx<'_>,
    topics: &[TopicAccess],
    scope: &CredentialScope,
    group: &mut GroupAccess,
) {
    let Ctx { config, tls: tls_ctx, deadline, .. } = ctx;
    use crate::report::{AccessAnswer, AccessOutcome};
    let Some(coordinator) = group.coordinator.clone() else {
        group.offset_fetch = AccessAnswer::with(AccessOutcome::NotAsked, "FindCoordinator named no coordinator");
        return;
    };
    let unreachable = |why: String| AccessAnswer::with(AccessOutcome::Unreachable, why);
    let Some(port) = u16::try_from(coordinator.port).ok().filter(|p| *p != 0) else {
        group.offset_fetch = unreachable(format!("the coordinator's port {} is not a port", coordinator.port));
        return;
    };
    let host = coordinator.host.trim_end_matches('.').to_string();
    let (dns, ips) = resolve::resolve(ctx, &host, None).await;
    let Some(ip) = ips.first().copied() else {
        group.offset_fetch =
            unreachable(format!("{} does not resolve ({})", crate::text::clean(&host), dns.lookup.outcome.as_label()));
        return;
    };
    let addr = SocketAddr::new(ip, port);
    let (tcp, stream) = connect(deadline, addr, config.connect_timeout.min(TCP_STEP_CAP)).await;
    let Some(stream) = stream else {
        group.offset_fetch = unreachable(format!("TCP to {addr}: {}", tcp.outcome.as_label()));
        return;
    };
    // The partitions asked are the topics' own (as the pollers would ask); none: every topic.
    let asked: Vec<(String, Vec<i32>)> = topics
        .iter()
        .filter(|t| t.partitions > 0)
        .map(|t| (t.name.clone(), (0..t.partitions.min(MAX_OFFSET_PARTITIONS) as i32).collect()))
        .collect();
    let tls = config.security_protocol.uses_tls();
    let sasl = |verified: bool| -> Result<Option<&crate::input::config::Sasl>, String> {
        if !config.has_credentials() {
            return Ok(config.sasl.as_ref());
        }
        if let Some(why) = withhold_reason(config, tls, verified) {
            return Err(why);
        }
        scope.allows(&host).map_err(|why| format!("the coordinator may not have them: {why}"))?;
        Ok(config.sasl.as_ref())
    };
    let credentials = sasl(tls && tls_ctx.verifies());
    let budget = deadline.budget(KAFKA_STEP_CAP);
    let (answer, committed) = if !tls {
        let mut stream = stream;
        ask_offsets(&mut stream, credentials, group, &asked, budget).await
    } else {
        let (handshake, session) = tls::handshake(tls_ctx, stream, &host, &[], deadline.budget(TLS_STEP_CAP)).await;
        let Some(mut session) = session else {
            group.offset_fetch = unreachable(format!("TLS with {addr}: {}", handshake.outcome.as_label()));
            return;
        };
        ask_offsets(&mut session, credentials, group, &asked, budget).await
    };
    group.offset_fetch = answer;
    group.committed_partitions = committed;
}

/// OffsetFetch on the coordinator's connection, or why the credentials were withheld from it.
async fn ask_offsets<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    credentials: Result<Option<&crate::input::config::Sasl>, String>,
    group: &mut GroupAccess,
    asked: &[(String, Vec<i32>)],
    budget: Duration,
) -> (crate::report::AccessAnswer, Option<usize>) {
    match credentials {
        Ok(sasl) => kafka::offset_fetch(stream, sasl, &group.id, asked, budget).await,
        Err(why) => {
            let answer = crate::report::AccessAnswer::with(
                crate::report::AccessOutcome::NotAsked,
                format!("credentials withheld: {why}"),
            );
            group.credentials_withheld = Some(why);
            (answer, None)
        }
    }
}

/// Most partitions of one topic asked in OffsetFetch.
const MAX_OFFSET_PARTITIONS: usize = 1024;

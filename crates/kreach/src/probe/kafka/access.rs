//! A consumer's read-only questions: the answers read for their error codes, and OffsetFetch on
//! the group's coordinator.

use super::*;

/// An error code as the answer to a consumer's question: refused, unknown, or another error.
pub(super) fn answer(code: i16, version: i16, message: Option<String>, refused: &[i16]) -> AccessAnswer {
    let outcome = match code {
        0 => AccessOutcome::Ok,
        c if refused.contains(&c) => AccessOutcome::NotAuthorized,
        UNKNOWN_TOPIC_OR_PARTITION => AccessOutcome::NotFound,
        _ => AccessOutcome::Error,
    };
    let error = message.filter(|m| !m.is_empty()).map(|m| m.chars().take(MAX_PEER_TEXT).collect::<String>());
    AccessAnswer {
        outcome,
        version: Some(version),
        error_code: (code != 0).then_some(code),
        error: error.or_else(|| (code != 0).then(|| format!("error code {code}"))),
    }
}

/// The topics asked, as the Metadata answer gave them (a topic it left out: no answer).
pub(super) fn topic_access(asked: &[String], answered: &[wire::Topic]) -> Vec<TopicAccess> {
    asked
        .iter()
        .map(|name| match answered.iter().find(|t| &t.name == name) {
            None => TopicAccess { name: name.clone(), outcome: AccessOutcome::NoAnswer, ..TopicAccess::default() },
            Some(t) => TopicAccess {
                name: name.clone(),
                outcome: answer(t.error_code, 0, None, &[TOPIC_AUTHORIZATION_FAILED]).outcome,
                error_code: (t.error_code != 0).then_some(t.error_code),
                partitions: t.partitions,
                leaderless: t.leaderless.clone(),
                leaders: t.leaders.clone(),
                partition_leaders: t.leader_of.iter().map(|&(p, l)| [p, l]).collect(),
            },
        })
        .collect()
}

/// The group's committed offsets, asked of its coordinator over `stream`: ApiVersions, SASL when
/// `sasl` has credentials, then OffsetFetch for `topics` (none: every topic) — read-only, nothing
/// joined or committed. Returns the answer and how many partitions have a committed offset.
pub(crate) async fn offset_fetch<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    sasl: Option<&Sasl>,
    group: &str,
    topics: &[(String, Vec<i32>)],
    budget: Duration,
) -> (AccessAnswer, Option<usize>) {
    let run = async {
        let mut client = Client { stream, correlation: 0 };
        let versions = match negotiate(&mut client).await {
            Ok(v) if v.error_code == 0 => v,
            Ok(v) => {
                return (
                    AccessAnswer::with(AccessOutcome::Unreachable, format!("ApiVersions error code {}", v.error_code)),
                    None,
                );
            }
            Err(e) => return (AccessAnswer::with(AccessOutcome::Unreachable, format!("ApiVersions: {e}")), None),
        };
        if let Some(sasl) = sasl {
            if let (Some(username), Some(password)) = (sasl.username.as_deref(), sasl.password.as_ref()) {
                let mut scratch = empty_attempt();
                if let Err((_, error)) =
                    authenticate(&mut client, &versions, sasl, username, password.expose(), &mut scratch).await
                {
                    return (
                        AccessAnswer::with(AccessOutcome::Unreachable, format!("SASL on the coordinator: {error}")),
                        None,
                    );
                }
            }
        }
        let Some(version) = pick(&versions, ApiKey::OffsetFetch, OFFSET_FETCH) else {
            return (
                AccessAnswer::with(AccessOutcome::NotOffered, "the coordinator offers no OffsetFetch v2-v7"),
                None,
            );
        };
        match client.call(&Body::OffsetFetch(group, topics), version, MAX_FRAME).await {
            Err(e) => (
                AccessAnswer { version: Some(version), ..AccessAnswer::with(AccessOutcome::NoAnswer, e.to_string()) },
                None,
            ),
            Ok(body) => match wire::offset_fetch(&mut Reader::new(&body), version) {
                Err(e) => (
                    AccessAnswer {
                        version: Some(version),
                        ..AccessAnswer::with(AccessOutcome::NoAnswer, format!("undecodable answer: {e}"))
                    },
                    None,
                ),
                Ok(offsets) => {
                    // The group's own error first; else the first partition's (a topic the
                    // principal may not describe answers TOPIC_AUTHORIZATION_FAILED there).
                    let (code, what) = match offsets.errors.first() {
                        _ if offsets.error_code != 0 => (offsets.error_code, String::new()),
                        Some((topic, partition, code)) => (*code, format!(" on {topic} [{partition}]")),
                        None => (0, String::new()),
                    };
                    let mut a = answer(code, version, None, &[GROUP_AUTHORIZATION_FAILED, TOPIC_AUTHORIZATION_FAILED]);
                    if let Some(e) = a.error.as_mut() {
                        e.push_str(&what);
                    }
                    (a, Some(offsets.committed))
                }
            },
        }
    };
    match tokio::time::timeout(budget, run).await {
        Ok(out) => out,
        Err(_) => {
            (AccessAnswer::with(AccessOutcome::NoAnswer, format!("no answer within {} ms", budget.as_millis())), None)
        }
    }
}

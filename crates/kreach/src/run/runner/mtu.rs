//! The path-MTU retry: a stalled TLS handshake tried again beside itself with a clamped segment
//! size.

use super::*;

/// A TLS handshake that, when it has not finished [`MTU_PROBE_AFTER`] after the connect, is tried
/// again beside itself with the TCP maximum segment size clamped ([`MTU_PROBE_MSS`], largest
/// first). A clamped handshake that gets the server's certificate flight while the unclamped one
/// stalls is a path-MTU black hole: the large packets are dropped without an ICMP "fragmentation
/// needed". The stalled handshake then ends at once (its outcome `timeout`, the retry in
/// `path_mtu`). A healthy handshake is done long before the retry would start; one that finishes
/// while the retry runs keeps its own result and no `path_mtu`.
pub(super) async fn handshake_or_mtu_probe(
    tls_ctx: &TlsContext,
    stream: TcpStream,
    addr: SocketAddr,
    host: &str,
    alpn: &[&[u8]],
    deadline: Deadline<'_>,
) -> (TlsAttempt, Option<tls::TlsSession>) {
    let started = Instant::now();
    let default_mss = tcp::segment_size(&stream);
    let budget = deadline.budget(TLS_STEP_CAP);
    let until = started + budget;
    let main = tls::handshake(tls_ctx, stream, host, alpn, budget);
    // A handshake held to less than the retry needs (a confirmation budget, the deadline's end)
    // is left alone: the retry could not finish and its stalls would only be noise.
    if budget < MTU_PROBE_AFTER * 2 {
        return main.await;
    }
    tokio::pin!(main);
    tokio::select! {
        done = &mut main => return done,
        () = tokio::time::sleep(MTU_PROBE_AFTER) => {}
    }
    // Every clamped size at once (a black hole below the first would cost it a whole stall
    // otherwise), each held to the same patience and ending when the unclamped one would.
    let retry = async {
        let left = || MTU_PROBE_AFTER.min(until.saturating_duration_since(Instant::now()));
        let try_one = |mss: Option<u32>| async move {
            let started = Instant::now();
            let (connect, stream) = tcp::connect_with(addr, mss, left()).await;
            let mut attempt = MssAttempt {
                mss: mss.or(default_mss).unwrap_or_default(),
                tcp: connect.outcome,
                tls: None,
                got_certificate: false,
                elapsed_ms: 0,
            };
            if let Some(stream) = stream {
                let (handshake, _) = tls::handshake(tls_ctx, stream, host, alpn, left()).await;
                attempt.got_certificate = handshake.peer_certificate.is_some();
                attempt.tls = Some(handshake.outcome);
            }
            attempt.elapsed_ms = started.elapsed().as_millis() as u64;
            attempt
        };
        let sizes = MTU_PROBE_MSS.into_iter().filter(|&mss| default_mss.is_none_or(|d| mss < d));
        // The control: one more unclamped connection. A peer that stalls one connection and not
        // the next is not a path that drops large packets.
        let (tried, control) = tokio::join!(join_all(sizes.map(|mss| try_one(Some(mss)))), try_one(None));
        let passed_mss = tried.iter().filter(|t| t.got_certificate && !control.got_certificate).map(|t| t.mss).max();
        PathMtuProbe { default_mss, tried, control: Some(control), passed_mss }
    };
    tokio::pin!(retry);
    let (mut attempt, session, probe) = tokio::select! {
        (attempt, session) = &mut main => {
            if session.is_some() {
                return (attempt, session);
            }
            (attempt, session, retry.await)
        }
        probe = &mut retry => {
            if probe.passed_mss.is_some() {
                // The stalled handshake is dropped (its connection closed) when this returns.
                let mut attempt = tls::stalled(host, started.elapsed());
                attempt.error = Some(format!(
                    "no TLS handshake: the server's certificate flight never arrived with the default segment size{}, \
                     while a connection clamped to MSS {} got it",
                    default_mss.map(|d| format!(" ({d})")).unwrap_or_default(),
                    probe.passed_mss.unwrap_or_default()
                ));
                (attempt, None, probe)
            } else {
                let (attempt, session) = main.await;
                if session.is_some() {
                    return (attempt, session);
                }
                (attempt, session, probe)
            }
        }
    };
    attempt.path_mtu = Some(probe);
    (attempt, session)
}

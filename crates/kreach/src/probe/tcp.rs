//! TCP stage: connect to one address and say how it ended.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::report::{TcpAttempt, TcpOutcome};

/// Connects to `addr` within `budget`. The stream is returned when the connect worked.
pub async fn connect(addr: SocketAddr, budget: Duration) -> (TcpAttempt, Option<TcpStream>) {
    connect_with(addr, None, budget).await
}

/// Connects to `addr` within `budget` and says how it ended. With `mss`, the TCP maximum segment
/// size is clamped before the connect, so the SYN advertises it and the peer sends no larger
/// segment (the path-MTU retry).
pub async fn connect_with(addr: SocketAddr, mss: Option<u32>, budget: Duration) -> (TcpAttempt, Option<TcpStream>) {
    let started = Instant::now();
    let connecting = async {
        match mss {
            None => TcpStream::connect(addr).await,
            Some(mss) => {
                let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
                socket.set_tcp_mss(mss)?;
                socket.set_nonblocking(true)?;
                tokio::net::TcpSocket::from_std_stream(socket.into()).connect(addr).await
            }
        }
    };
    let result = tokio::time::timeout(budget, connecting).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            (TcpAttempt { outcome: TcpOutcome::Connected, elapsed_ms, error: None }, Some(stream))
        }
        Ok(Err(e)) => {
            let outcome = match e.kind() {
                ErrorKind::ConnectionRefused => TcpOutcome::Refused,
                ErrorKind::TimedOut => TcpOutcome::Timeout,
                ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable | ErrorKind::AddrNotAvailable => {
                    TcpOutcome::Unreachable
                }
                _ => TcpOutcome::Error,
            };
            (TcpAttempt { outcome, elapsed_ms, error: Some(e.to_string()) }, None)
        }
        Err(_) => {
            let syns = syns_sent(started.elapsed());
            let error = format!(
                "no SYN-ACK within {} ms: {syns} SYN{} unanswered (the kernel sends them at 0, 1, 3, 7 s…)",
                budget.as_millis(),
                if syns == 1 { "" } else { "s" }
            );
            (TcpAttempt { outcome: TcpOutcome::Timeout, elapsed_ms, error: Some(error) }, None)
        }
    }
}

/// The maximum segment size a connected stream sends with (what the peer and the route allow).
pub fn segment_size(stream: &TcpStream) -> Option<u32> {
    socket2::SockRef::from(stream).tcp_mss().ok()
}

/// How many SYNs Linux has sent after `elapsed` (initial RTO 1 s, doubling: at 0, 1, 3, 7, 15 s…).
pub(crate) fn syns_sent(elapsed: Duration) -> u32 {
    let mut at = 0u64;
    let mut gap = 1000u64;
    let mut n = 0;
    let ms = elapsed.as_millis() as u64;
    while at <= ms && n < 8 {
        n += 1;
        at += gap;
        gap *= 2;
    }
    n
}

#[cfg(test)]
mod tests {
    #[test]
    fn syn_retransmissions_are_counted_like_linux() {
        use std::time::Duration;
        assert_eq!(super::syns_sent(Duration::from_millis(10)), 1);
        assert_eq!(super::syns_sent(Duration::from_millis(1500)), 2);
        assert_eq!(super::syns_sent(Duration::from_millis(3300)), 3);
        assert_eq!(super::syns_sent(Duration::from_secs(10)), 4);
    }
}

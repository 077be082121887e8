//! TCP stage: connect to one address and say how it ended.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::report::{TcpAttempt, TcpOutcome};

/// Connects to `addr` within `budget`. The stream is returned when the connect worked.
pub async fn connect(addr: SocketAddr, budget: Duration) -> (TcpAttempt, Option<TcpStream>) {
    let started = Instant::now();
    let result = tokio::time::timeout(budget, TcpStream::connect(addr)).await;
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
            let error = format!("no SYN-ACK within {} ms", budget.as_millis());
            (TcpAttempt { outcome: TcpOutcome::Timeout, elapsed_ms, error: Some(error) }, None)
        }
    }
}

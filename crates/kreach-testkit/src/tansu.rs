//! tansu (a Kafka-protocol broker in Rust, installed prebuilt by scripts/setup.sh) with
//! authentication on, on the host's loopback.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running tansu broker on loopback; stops when dropped.
pub struct Tansu {
    child: Child,
    /// Where it listens (and what it advertises).
    pub addr: SocketAddr,
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tansu binary: `KREACH_TANSU`, else the one scripts/setup.sh installs.
pub fn tansu_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("KREACH_TANSU") {
        return path.into();
    }
    crate::workspace_root().join("target/lab-peers/tansu")
}

/// Starts tansu with authentication on (SCRAM only; with memory storage no user exists, so every
/// login is a real rejection) on a free loopback port.
pub fn start_tansu() -> Tansu {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let url = format!("tcp://{addr}");
    let binary = tansu_binary();
    assert!(binary.exists(), "{} is missing: run scripts/setup.sh (it installs the tansu broker)", binary.display());
    let child = Command::new(binary)
        .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url, "--authentication"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tansu");
    let tansu = Tansu { child, addr };
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "tansu did not listen on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
    tansu
}

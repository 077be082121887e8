//! A listener that demands client certificates: haproxy with `verify required` (OpenSSL) in front
//! of librdkafka's mock cluster, on loopback (tests/mtls.rs, the mapping's client certificate in
//! kreach-aws's tests).

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kreach_lab::{Ca, Validity};

/// haproxy, stopped when dropped.
pub struct Haproxy(Child);

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// haproxy terminating TLS with `server` and demanding a client certificate from `client_ca`,
/// forwarding to `backend`, on `port`.
fn haproxy(dir: &Path, port: u16, server: &kreach_lab::Leaf, client_ca: &Ca, backend: SocketAddr) -> Haproxy {
    std::fs::write(dir.join("client-ca.pem"), client_ca.cert_pem()).expect("client ca");
    let verify = format!("ca-file {} verify required", dir.join("client-ca.pem").display());
    start(dir, port, server, &verify, backend)
}

/// haproxy terminating TLS with `server` and asking for no client certificate, forwarding to
/// `backend`, on `port`.
pub fn haproxy_tls(dir: &Path, port: u16, server: &kreach_lab::Leaf, backend: SocketAddr) -> Haproxy {
    start(dir, port, server, "", backend)
}

fn start(dir: &Path, port: u16, server: &kreach_lab::Leaf, verify: &str, backend: SocketAddr) -> Haproxy {
    std::fs::write(dir.join("server.pem"), format!("{}{}", server.chain_pem, server.key_pem)).expect("server pem");
    let cfg = format!(
        "global\n  maxconn 256\ndefaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\
         frontend kafka\n  bind 127.0.0.1:{port} ssl crt {} {verify}\n  default_backend mock\n\
         backend mock\n  server b1 {backend}\n",
        dir.join("server.pem").display()
    );
    std::fs::write(dir.join("haproxy.cfg"), cfg).expect("cfg");
    let path = format!("{}:/usr/sbin:/sbin", std::env::var("PATH").unwrap_or_default());
    let child = Command::new("haproxy")
        .args(["-db", "-f"])
        .arg(dir.join("haproxy.cfg"))
        .env("PATH", &path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .or_else(|_| Command::new("/usr/sbin/haproxy").args(["-db", "-f"]).arg(dir.join("haproxy.cfg")).spawn())
        .expect("haproxy (scripts/setup.sh installs it)");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "haproxy did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    Haproxy(child)
}

/// The cluster behind haproxy: one mock broker advertising haproxy's address.
pub struct Cluster {
    _haproxy: Haproxy,
    _mock: kreach_lab::MockKafka,
    /// haproxy's port on 127.0.0.1.
    pub port: u16,
    /// The CA of the listener's certificate (for 127.0.0.1).
    pub server_ca: Ca,
    /// The CA whose client certificates the listener accepts.
    pub client_ca: Ca,
    /// A scratch directory living as long as the cluster.
    pub dir: tempfile::TempDir,
}

/// Starts the cluster.
pub fn cluster() -> Cluster {
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let mock = kreach_lab::MockKafka::start(&[("127.0.0.1".to_string(), port)]).expect("mock");
    let server_ca = Ca::new("mtls server CA").expect("ca");
    let client_ca = Ca::new("mtls client CA").expect("ca");
    let server = server_ca.leaf(&["127.0.0.1"], Validity::Days(90)).expect("leaf");
    let haproxy = haproxy(dir.path(), port, &server, &client_ca, mock.listeners[0].1);
    Cluster { _haproxy: haproxy, _mock: mock, port, server_ca, client_ca, dir }
}

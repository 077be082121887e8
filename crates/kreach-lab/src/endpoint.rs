//! Listeners that play the VPC endpoint's network interfaces: TLS (with an HTTP responder on the
//! HTTPS port), plaintext HTTP, and a "blackhole" that drops SYNs like a security group.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::LabError;

/// How long the lab keeps an idle connection.
const CONN_IDLE: Duration = Duration::from_secs(30);
/// Largest request head the lab reads.
const MAX_HEAD: usize = 16 * 1024;

/// What a listener does with a connection.
#[derive(Clone)]
pub enum Behaviour {
    /// TLS handshake, then answer one HTTP request with 401 (the REST port).
    TlsHttp(Arc<rustls::ServerConfig>),
    /// TLS handshake, then forward the plaintext to the backend the SNI names (the Kafka port).
    TlsForward(Arc<rustls::ServerConfig>, Arc<Routes>),
    /// No TLS: answer whatever arrives with `HTTP/1.1 400` (a plaintext server on a TLS port).
    PlainHttp,
}

/// Where the endpoint forwards a connection, by the SNI the client sent.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    /// Exact server names.
    pub by_name: HashMap<String, SocketAddr>,
    /// Any other name.
    pub default: Option<SocketAddr>,
}

/// A running listener; stops when dropped.
pub struct Listener {
    addr: SocketAddr,
    task: Option<JoinHandle<()>>,
    /// Connections parked in a blackhole's accept queue.
    _parked: Vec<TcpStream>,
    _socket: Option<Held>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Listener {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `behaviour` on an already bound listener.
    pub fn serve(listener: TcpListener, behaviour: Behaviour) -> Result<Self, LabError> {
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let behaviour = behaviour.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(CONN_IDLE, handle(stream, behaviour)).await;
                });
            }
        });
        Ok(Listener { addr, task: Some(task), _parked: Vec::new(), _socket: None })
    }

    /// A port that accepts nothing and answers no SYN: a listener with a one-slot accept queue
    /// that is never drained, filled by the lab itself. Linux drops SYNs to a full queue, so a
    /// client's connect times out exactly as behind a security group that drops. `listener`
    /// comes from `Port::Blackhole`, bound with a zero backlog.
    pub async fn blackhole(listener: TcpListener) -> Result<Self, LabError> {
        let addr = listener.local_addr()?;
        let mut parked = Vec::new();
        // Fill the queue until a connect no longer completes.
        for _ in 0..8 {
            match tokio::time::timeout(Duration::from_millis(150), TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => parked.push(stream),
                _ => break,
            }
        }
        Ok(Listener { addr, task: None, _parked: parked, _socket: Some(Held::Listening(listener)) })
    }

    /// A port that refuses connections: bound (so no other listener can take it while the lab
    /// runs), never listening, so a SYN gets a reset exactly as from a host where nothing listens.
    pub fn refusing(socket: TcpSocket) -> Result<Self, LabError> {
        let addr = socket.local_addr()?;
        Ok(Listener { addr, task: None, _parked: Vec::new(), _socket: Some(Held::Bound(socket)) })
    }

    /// One of the ways `bind_same_port` leaves a port.
    pub async fn from_port(port: BoundPort, behaviour: Behaviour) -> Result<Self, LabError> {
        match port {
            BoundPort::Listening(l) => Listener::serve(l, behaviour),
            BoundPort::Blackhole(l) => Listener::blackhole(l).await,
            BoundPort::Refusing(s) => Listener::refusing(s),
        }
    }
}

/// A socket a listener keeps so its port stays its own (never read: held until the drop).
enum Held {
    #[allow(dead_code)]
    Listening(TcpListener),
    #[allow(dead_code)]
    Bound(TcpSocket),
}

/// What a port bound by `bind_same_port` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// Accepts connections (serves a behaviour).
    Serve,
    /// Drops SYNs (a security group without the rule).
    Blackhole,
    /// Resets SYNs (nothing listens).
    Refuse,
}

/// A port bound by `bind_same_port`, in the state its `Port` asked for.
pub enum BoundPort {
    /// Listening with a full backlog.
    Listening(TcpListener),
    /// Listening with a zero backlog, to be filled by [`Listener::blackhole`].
    Blackhole(TcpListener),
    /// Bound without `SO_REUSEADDR` and never listening.
    Refusing(TcpSocket),
}

impl BoundPort {
    /// The listening socket of a port bound with [`Port::Serve`].
    pub fn into_listener(self) -> Result<TcpListener, LabError> {
        match self {
            BoundPort::Listening(l) => Ok(l),
            _ => Err(LabError::Setup("a port bound to serve is not listening".into())),
        }
    }
}

/// Binds one socket per address, all on the same free port, each already in the state its
/// `Port` asks for. Nothing is bound and then released: between a release and a rebind another
/// lab running in parallel on the same loopback addresses could take the port (that race once
/// failed CI with "Address already in use").
pub fn bind_same_port(addrs: &[(IpAddr, Port)]) -> Result<(u16, Vec<BoundPort>), LabError> {
    let Some((first, first_kind)) = addrs.first() else {
        return Err(LabError::Setup("no address to bind".into()));
    };
    for _ in 0..50 {
        let Ok(b0) = bind_one(SocketAddr::new(*first, 0), *first_kind) else { continue };
        let port = b0.local_addr()?.port();
        let mut all = vec![b0];
        for (addr, kind) in &addrs[1..] {
            match bind_one(SocketAddr::new(*addr, port), *kind) {
                Ok(b) => all.push(b),
                Err(_) => break,
            }
        }
        if all.len() == addrs.len() {
            return Ok((port, all));
        }
    }
    Err(LabError::Setup("no port free on every endpoint address".into()))
}

/// One socket on `addr` in the state `kind` asks for.
fn bind_one(addr: SocketAddr, kind: Port) -> std::io::Result<BoundPort> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    // A refusing socket shares its port with nobody: without SO_REUSEADDR no other socket can
    // bind it, listening or not.
    socket.set_reuseaddr(kind != Port::Refuse)?;
    socket.bind(addr)?;
    Ok(match kind {
        Port::Serve => BoundPort::Listening(socket.listen(1024)?),
        Port::Blackhole => BoundPort::Blackhole(socket.listen(0)?),
        Port::Refuse => BoundPort::Refusing(socket),
    })
}

impl BoundPort {
    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            BoundPort::Listening(l) | BoundPort::Blackhole(l) => l.local_addr(),
            BoundPort::Refusing(s) => s.local_addr(),
        }
    }
}

async fn handle(stream: TcpStream, behaviour: Behaviour) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    match behaviour {
        Behaviour::PlainHttp => {
            let mut stream = stream;
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await?;
            stream
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nServer: kreach-lab\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await?;
            stream.shutdown().await
        }
        Behaviour::TlsHttp(config) => {
            let mut tls = TlsAcceptor::from(config).accept(stream).await?;
            read_head(&mut tls).await?;
            let body = br#"{"error_code":401,"message":"Unauthorized"}"#;
            let head = format!(
                "HTTP/1.1 401 Unauthorized\r\nServer: kreach-lab\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            tls.write_all(head.as_bytes()).await?;
            tls.write_all(body).await?;
            tls.shutdown().await
        }
        Behaviour::TlsForward(config, routes) => {
            let mut tls = TlsAcceptor::from(config).accept(stream).await?;
            let sni = tls.get_ref().1.server_name().map(str::to_ascii_lowercase);
            let Some(backend) = sni.as_ref().and_then(|n| routes.by_name.get(n)).copied().or(routes.default) else {
                return tls.shutdown().await;
            };
            let mut upstream = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(backend))
                .await
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "backend connect timed out"))??;
            tokio::io::copy_bidirectional(&mut tls, &mut upstream).await.map(|_| ())
        }
    }
}

async fn read_head<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() > MAX_HEAD {
            return Ok(());
        }
    }
}

/// A rustls server configuration serving `leaf`.
pub fn server_config(leaf: &crate::certs::Leaf, alpn: &[&[u8]]) -> Result<Arc<rustls::ServerConfig>, LabError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(leaf.chain.clone(), leaf.key())?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

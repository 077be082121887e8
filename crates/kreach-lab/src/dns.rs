//! An in-process authoritative DNS server (hickory-server) for the lab's zones.
//!
//! It never recurses: names outside its zones are REFUSED, unless it is given an upstream (the
//! lab's own public DNS on loopback) to forward them to, as a VPC resolver does. Like Route 53 private zones, a zone
//! that matches a name but lacks a record answers NXDOMAIN (with the zone's SOA).

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, SOA};
use hickory_proto::rr::{LowerName, Name, RData, Record};
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverOpts};
use hickory_server::Server;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::forwarder::{ForwardConfig, ForwardZoneHandler};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio::net::{TcpListener, UdpSocket};

use crate::LabError;

/// TTL of the lab's records (Route 53 alias-like short TTL).
pub const LAB_TTL: u32 = 60;

/// One zone: its origin and its records (owner names relative to nothing: give full names).
#[derive(Clone, Debug)]
pub struct Zone {
    /// Zone apex, e.g. `abc123.us-west-2.aws.confluent.cloud`.
    pub origin: String,
    /// Records in the zone.
    pub records: Vec<(String, Rdata)>,
}

/// Record data the lab uses.
#[derive(Clone, Debug)]
pub enum Rdata {
    /// An address record (A or AAAA).
    Addr(IpAddr),
    /// A CNAME to another name.
    Cname(String),
}

impl Zone {
    /// An empty zone.
    pub fn new(origin: &str) -> Self {
        Zone { origin: origin.to_string(), records: Vec::new() }
    }

    /// Adds a record (builder style).
    #[must_use]
    pub fn with(mut self, name: &str, data: Rdata) -> Self {
        self.records.push((name.to_string(), data));
        self
    }
}

/// A running DNS server; stops when dropped.
pub struct DnsServer {
    addr: SocketAddr,
    queries: QueryLog,
    published: Arc<std::sync::atomic::AtomicBool>,
    _server: Server<Logged>,
}

/// The questions a server was asked, in order: `(name without the final dot, record type)`.
type QueryLog = Arc<Mutex<Vec<(String, String)>>>;

/// The catalog, with every question written to the log first (so tests can count round trips),
/// and a block list played as a DNS Firewall does: names under a blocked domain get a synthesized
/// NXDOMAIN with no SOA (Route 53 Resolver DNS Firewall's `BLOCK` with `NXDOMAIN`).
struct Logged {
    catalog: Catalog,
    /// Served instead of `catalog` until `published` (records created later).
    before: Option<Catalog>,
    published: Arc<std::sync::atomic::AtomicBool>,
    log: QueryLog,
    blocked: Vec<String>,
}

/// At most this many questions are kept (a test asks for a handful; a runaway client cannot grow it).
const MAX_LOGGED_QUERIES: usize = 100_000;

#[async_trait::async_trait]
impl RequestHandler for Logged {
    async fn handle_request<R: ResponseHandler, T: hickory_server::net::runtime::Time>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        if let Ok(info) = request.request_info() {
            let name = info.query.name().to_string();
            let entry = (name.trim_end_matches('.').to_string(), info.query.query_type().to_string());
            let blocked = self.blocked.iter().any(|d| entry.0 == *d || entry.0.ends_with(&format!(".{d}")));
            {
                let mut log = self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if log.len() < MAX_LOGGED_QUERIES {
                    log.push(entry);
                }
            }
            if blocked {
                let response = hickory_server::zone_handler::MessageResponseBuilder::from_message_request(request)
                    .error_msg(&request.metadata, hickory_proto::op::ResponseCode::NXDomain);
                let mut handle = response_handle;
                return match handle.send_response(response).await {
                    Ok(info) => info,
                    Err(_) => {
                        let mut metadata = hickory_proto::op::Metadata::response_from_request(&request.metadata);
                        metadata.response_code = hickory_proto::op::ResponseCode::ServFail;
                        ResponseInfo::from(hickory_proto::op::Header { metadata, counts: Default::default() })
                    }
                };
            }
        }
        let catalog = match &self.before {
            Some(before) if !self.published.load(std::sync::atomic::Ordering::SeqCst) => before,
            _ => &self.catalog,
        };
        catalog.handle_request::<R, T>(request, response_handle).await
    }
}

impl DnsServer {
    /// Serves `zones` on UDP and TCP at `bind` (port 0 picks a free port, the same for both).
    pub async fn start(bind: SocketAddr, zones: &[Zone]) -> Result<Self, LabError> {
        Self::start_forwarding(bind, zones, None).await
    }

    /// Serves `zones`, and forwards every other name to `upstream` (a recursive resolver such as
    /// the VPC's, which answers public names through public DNS). `upstream` is the lab's own
    /// "public DNS" on loopback: nothing is ever forwarded anywhere else.
    pub async fn start_forwarding(
        bind: SocketAddr,
        zones: &[Zone],
        upstream: Option<SocketAddr>,
    ) -> Result<Self, LabError> {
        Self::start_filtered(bind, zones, upstream, &[]).await
    }

    /// As [`DnsServer::start_forwarding`], answering every name under one of `blocked` with a
    /// synthesized NXDOMAIN without SOA, as a DNS Firewall rule does.
    pub async fn start_filtered(
        bind: SocketAddr,
        zones: &[Zone],
        upstream: Option<SocketAddr>,
        blocked: &[String],
    ) -> Result<Self, LabError> {
        let catalog = catalog(zones, upstream, false)?;
        Self::serve(bind, catalog, None, blocked).await
    }

    /// A caching resolver with no zone of its own: every question goes to `upstream` (loopback),
    /// and its answers, negative ones too, are kept for their TTL (RFC 2308: the SOA's TTL, at
    /// most its minimum) — as the VPC's resolver keeps them.
    pub async fn start_caching(bind: SocketAddr, upstream: SocketAddr) -> Result<Self, LabError> {
        let catalog = catalog(&[], Some(upstream), true)?;
        Self::serve(bind, catalog, None, &[]).await
    }

    /// As [`DnsServer::start_filtered`], serving `before` until [`DnsServer::publish`] is called
    /// and `zones` from then on: records created while the server runs.
    pub async fn start_late(
        bind: SocketAddr,
        before: &[Zone],
        zones: &[Zone],
        upstream: Option<SocketAddr>,
    ) -> Result<Self, LabError> {
        let early = catalog(before, upstream, false)?;
        let late = catalog(zones, upstream, false)?;
        Self::serve(bind, late, Some(early), &[]).await
    }

    /// From now on, answers from the zones given last to [`DnsServer::start_late`].
    pub fn publish(&self) {
        self.published.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Asks this server for `host`'s A and AAAA records once each (answers are dropped): what a
    /// client did before a record existed.
    pub async fn ask(&self, host: &str) {
        let mut udp = ConnectionConfig::udp();
        udp.port = self.addr.port();
        let mut options = ResolverOpts::default();
        options.timeout = Duration::from_secs(1);
        options.attempts = 1;
        options.cache_size = 0;
        let config = hickory_resolver::config::ResolverConfig::from_parts(
            None,
            Vec::new(),
            vec![NameServerConfig::new(self.addr.ip(), true, vec![udp])],
        );
        let Ok(resolver) = hickory_resolver::Resolver::builder_with_config(
            config,
            hickory_resolver::net::runtime::TokioRuntimeProvider::default(),
        )
        .with_options(options)
        .build() else {
            return;
        };
        let fqdn = if host.ends_with('.') { host.to_string() } else { format!("{host}.") };
        for rtype in [hickory_proto::rr::RecordType::A, hickory_proto::rr::RecordType::AAAA] {
            let _ = resolver.lookup(fqdn.as_str(), rtype).await;
        }
    }

    async fn serve(
        bind: SocketAddr,
        catalog: Catalog,
        before: Option<Catalog>,
        blocked: &[String],
    ) -> Result<Self, LabError> {
        // Bind UDP first, then TCP on the same port (retry if another process holds it).
        let mut last_err = None;
        let published = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut catalogs = Some((catalog, before));
        for _ in 0..20 {
            let udp = UdpSocket::bind(bind).await?;
            let addr = udp.local_addr()?;
            match TcpListener::bind(addr).await {
                Ok(tcp) => {
                    let queries = QueryLog::default();
                    let Some((catalog, before)) = catalogs.take() else { break };
                    let logged = Logged {
                        catalog,
                        before,
                        published: published.clone(),
                        log: queries.clone(),
                        blocked: blocked.to_vec(),
                    };
                    let mut server = Server::new(logged);
                    server.register_socket(udp);
                    server.register_listener(tcp, Duration::from_secs(5), 64 * 1024);
                    return Ok(DnsServer { addr, queries, published, _server: server });
                }
                Err(e) if bind.port() == 0 => last_err = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last_err.map(LabError::from).unwrap_or_else(|| LabError::Setup("no free DNS port".into())))
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every question asked so far, in order: `(name without the final dot, record type)`.
    pub fn queries(&self) -> Vec<(String, String)> {
        self.queries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// The zones' catalog, forwarding every other name to `upstream` (loopback only), with a cache
/// when `cache` (a resolver's), without one otherwise (an authority's).
fn catalog(zones: &[Zone], upstream: Option<SocketAddr>, cache: bool) -> Result<Catalog, LabError> {
    let mut catalog = Catalog::new();
    if let Some(up) = upstream {
        if !up.ip().is_loopback() {
            return Err(LabError::Setup(format!("the lab forwards only to loopback, not {up}")));
        }
        let mut udp = ConnectionConfig::udp();
        udp.port = up.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = up.port();
        let mut options = ResolverOpts::default();
        options.timeout = Duration::from_secs(1);
        options.attempts = 1;
        options.cache_size = if cache { 1024 } else { 0 };
        let config = ForwardConfig {
            name_servers: vec![NameServerConfig::new(up.ip(), true, vec![udp, tcp])],
            options: Some(options),
        };
        let forwarder = ForwardZoneHandler::builder_tokio(config).build().map_err(LabError::Setup)?;
        catalog.upsert(LowerName::new(&Name::root()), vec![Arc::new(forwarder)]);
    }
    for zone in zones {
        let origin = name(&zone.origin)?;
        let mut handler = InMemoryZoneHandler::<hickory_server::net::runtime::TokioRuntimeProvider>::empty(
            origin.clone(),
            ZoneType::Primary,
            AxfrPolicy::Deny,
        );
        let soa = SOA::new(
            name(&format!("ns.{}", zone.origin))?,
            name(&format!("hostmaster.{}", zone.origin))?,
            1,
            3600,
            600,
            86400,
            LAB_TTL,
        );
        handler.upsert_mut(Record::from_rdata(origin.clone(), LAB_TTL, RData::SOA(soa)), 1);
        for (owner, data) in &zone.records {
            let rdata = match data {
                Rdata::Addr(IpAddr::V4(v4)) => RData::A(A(*v4)),
                Rdata::Addr(IpAddr::V6(v6)) => RData::AAAA(AAAA(*v6)),
                Rdata::Cname(target) => RData::CNAME(CNAME(name(target)?)),
            };
            handler.upsert_mut(Record::from_rdata(name(owner)?, LAB_TTL, rdata), 1);
        }
        catalog.upsert(LowerName::new(&origin), vec![Arc::new(handler)]);
    }
    Ok(catalog)
}

fn name(s: &str) -> Result<Name, LabError> {
    let fq = if s.ends_with('.') { s.to_string() } else { format!("{s}.") };
    Name::from_str(&fq).map_err(|e| LabError::Setup(format!("bad DNS name {s}: {e}")))
}

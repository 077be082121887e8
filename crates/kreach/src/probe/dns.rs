//! DNS stage: resolve a name (A and AAAA) and keep the CNAME chain, TTLs and the negative zone.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use hickory_resolver::config::{ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::{DnsHandle as _, RetryDnsHandle};
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::{DnsRequestOptions, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::{NameServerPool, PoolContext, Resolver, TlsConfig, TokioResolver};
use ipnet::IpNet;

use crate::report::{AnswerClass, CnameHop, DnsAddress, DnsLookup, DnsOutcome};

/// How long a lookup waits for its answer before the resolver's port is probed.
const PROBE_AFTER: Duration = Duration::from_millis(200);
/// Per-query timeout handed to the resolver; two attempts fit in the stage's cap.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// Which resolvers a lookup goes through.
#[derive(Clone, Debug)]
pub enum ResolverChoice {
    /// `/etc/resolv.conf` (what librdkafka and getaddrinfo use).
    System,
    /// These servers, in order.
    Servers(Vec<SocketAddr>),
}

impl ResolverChoice {
    fn label(&self, system_servers: &[SocketAddr]) -> String {
        match self {
            ResolverChoice::System if system_servers.is_empty() => "system".to_string(),
            ResolverChoice::System => format!("system ({})", join(system_servers)),
            ResolverChoice::Servers(s) => join(s),
        }
    }
}

fn join(addrs: &[SocketAddr]) -> String {
    addrs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// The resolvers' own client: one query, one answer, no CNAME chasing of its own.
type Client = RetryDnsHandle<NameServerPool<TokioRuntimeProvider>>;

/// A resolver built once per run and shared by every lookup (brokers may be hundreds).
pub struct Dns {
    resolver: Result<(TokioResolver, Client), String>,
    label: String,
    /// The servers asked, for the port-unreachable probe.
    servers: Vec<SocketAddr>,
}

impl Dns {
    /// Builds the resolver for `choice`; a broken configuration becomes every lookup's outcome.
    pub fn new(choice: &ResolverChoice) -> Self {
        match build(choice) {
            Ok((resolver, client, servers)) => {
                Dns { resolver: Ok((resolver, client)), label: choice.label(&servers), servers }
            }
            Err(e) => Dns {
                resolver: Err(format!("resolver configuration: {e}")),
                label: choice.label(&[]),
                servers: Vec::new(),
            },
        }
    }
}

/// Resolves `name` within `budget`. Never fails: a failure is an outcome.
pub async fn lookup(name: &str, dns: &Dns, budget: Duration) -> (DnsLookup, Vec<IpAddr>) {
    let started = Instant::now();
    let label = dns.label.clone();
    let (resolver, client) = match &dns.resolver {
        Ok(r) => r,
        Err(e) => return (failed(label, DnsOutcome::Unreachable, started, e.clone()), Vec::new()),
    };
    // A dotted name is looked up as is, not through the search list.
    let fqdn = if name.contains('.') && !name.ends_with('.') { format!("{name}.") } else { name.to_string() };
    // Beside a lookup that has not been answered quickly: a resolver with nothing listening answers
    // with ICMP port unreachable, which the resolver library does not hear (its sockets are not
    // connected); a connected probe does, at once, instead of after every retry's timeout. A
    // resolver that answers in time is never probed (not one extra question).
    let refused = async {
        tokio::time::sleep(PROBE_AFTER).await;
        match port_unreachable(&dns.servers, budget.saturating_sub(PROBE_AFTER)).await {
            Some(why) => why,
            None => std::future::pending().await,
        }
    };
    // A name DNS cannot carry (a label over 63 bytes, over 253 in all, bytes no label may hold) is
    // no resolver's fault: nothing is asked, and the report says what is wrong with the name.
    if let Some(why) = unencodable(&fqdn) {
        let mut lookup = failed(
            label,
            DnsOutcome::Error,
            started,
            format!("{} is not a DNS name: {why}", crate::error::quote(name)),
        );
        lookup.name_invalid = true;
        return (lookup, Vec::new());
    }
    // A and AAAA asked at once, each answered by the resolver in one round trip.
    // A name without a dot goes through the search list, by the full resolver.
    let asked = async {
        match Name::from_ascii(&fqdn) {
            Ok(qname) if fqdn.ends_with('.') => ask_both(client, &qname, &label, started, budget).await,
            _ => lookup_ip(&fqdn, resolver, label.clone(), started, budget).await,
        }
    };
    let (mut lookup, ips) = tokio::select! {
        answer = asked => answer,
        why = refused => (failed(label.clone(), DnsOutcome::Unreachable, started, why), Vec::new()),
    };
    // A failed lookup says little about where the chain broke: follow it one CNAME at a time
    // (only on failure, within what is left of the budget) to name a loop or the last name reached.
    if matches!(lookup.outcome, DnsOutcome::Nxdomain | DnsOutcome::NoData | DnsOutcome::Error)
        && lookup.cname_chain.is_empty()
    {
        let (chain, looped) = walk_cnames(resolver, &fqdn, budget.saturating_sub(started.elapsed())).await;
        if looped {
            lookup.error = Some(loop_error(&chain));
        }
        let capped = !looped && reached_cap(&chain);
        lookup.cname_chain = chain;
        lookup.cname_loop = looped;
        if capped {
            lookup = too_long(lookup);
        }
    }
    lookup.elapsed_ms = started.elapsed().as_millis() as u64;
    (lookup, ips)
}

/// The zone that answers for `name` through `dns`: the owner of the SOA the resolver gives for it
/// (the name itself when it is a zone's apex, else the enclosing zone from the authority section).
/// `None` when nothing answered in `budget` or the answer carried no SOA.
pub async fn zone_of(name: &str, dns: &Dns, budget: Duration) -> Option<String> {
    let Ok((_, client)) = &dns.resolver else { return None };
    let qname = Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).ok()?;
    let asked = async {
        let mut answers = client.lookup(Query::query(qname, RecordType::SOA), DnsRequestOptions::default());
        match answers.next().await {
            Some(Ok(response)) => response
                .answers
                .iter()
                .find(|r| r.record_type() == RecordType::SOA)
                .map(|r| trim_dot(&r.name.to_string()))
                .or_else(|| response.soa().map(|soa| trim_dot(&soa.name().to_string()))),
            Some(Err(NetError::Dns(DnsError::NoRecordsFound(no)))) => {
                no.soa.as_ref().map(|soa| trim_dot(&soa.name.to_string()))
            }
            _ => None,
        }
    };
    tokio::time::timeout(budget, asked).await.ok().flatten().map(|z| z.to_ascii_lowercase())
}

/// A name never asked before under the same parent as `name` (`kreach-<64 random bits>.<parent>`):
/// asked after `name` got NXDOMAIN, its answer says whether a record (a wildcard) covers the name
/// now. `None` when the parent is a public suffix or a single label (nothing to learn there).
pub(crate) fn fresh_sibling(name: &str) -> Option<String> {
    use std::hash::{BuildHasher as _, Hasher as _};
    let name = name.trim_end_matches('.');
    let (_, parent) = name.split_once('.')?;
    if !parent.contains('.') || psl::suffix_str(parent).is_some_and(|s| s.eq_ignore_ascii_case(parent)) {
        return None;
    }
    // Each RandomState is seeded afresh from the OS: 64 bits nobody asked for before.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(name.as_bytes());
    Some(format!("kreach-{:016x}.{parent}", hasher.finish()))
}

/// One record type's answer, as the resolver gave it.
enum Part {
    Records { code: ResponseCode, answers: Vec<Record>, zone: Option<String>, negative_ttl: Option<u32> },
    Failed(NetError),
}

async fn ask(client: &Client, name: &Name, rtype: RecordType) -> Part {
    let mut answers = client.lookup(Query::query(name.clone(), rtype), DnsRequestOptions::default());
    let zone_of = |soa: Option<String>| soa.map(|n| trim_dot(&n));
    match answers.next().await {
        Some(Ok(response)) => {
            let zone = zone_of(response.soa().map(|soa| soa.name().to_string()));
            let negative_ttl = response.negative_ttl();
            Part::Records { code: response.response_code, answers: response.answers.clone(), zone, negative_ttl }
        }
        Some(Err(NetError::Dns(DnsError::NoRecordsFound(no)))) => Part::Records {
            code: no.response_code,
            answers: Vec::new(),
            zone: zone_of(no.soa.as_ref().map(|soa| soa.name.to_string())),
            negative_ttl: negative_ttl(&no),
        },
        Some(Err(e)) => Part::Failed(e),
        None => Part::Failed(NetError::from("no response")),
    }
}

/// Asks A and AAAA for `qname` at once: one round trip to a resolver that recurses (it answers
/// with the whole CNAME chain). An answer that ends in a CNAME with neither the target's
/// addresses nor a negative answer (a resolver that does not follow chains) is continued from the
/// chain's last name, one round trip per hop, never from the start again.
async fn ask_both(
    client: &Client,
    qname: &Name,
    label: &str,
    started: Instant,
    budget: Duration,
) -> (DnsLookup, Vec<IpAddr>) {
    let mut lookup = blank(label.to_string(), DnsOutcome::NoData, started);
    let mut ips = Vec::new();
    let mut current = qname.clone();
    for _ in 0..MAX_CNAME_HOPS {
        let left = budget.saturating_sub(started.elapsed());
        let both = futures::future::join(ask(client, &current, RecordType::A), ask(client, &current, RecordType::AAAA));
        let Ok((a, aaaa)) = tokio::time::timeout(left, both).await else {
            let msg = format!("no answer within {} ms", budget.as_millis());
            return (keep_chain(lookup, failed(label.to_string(), DnsOutcome::Unreachable, started, msg)), ips);
        };
        let hops_before = lookup.cname_chain.len();
        for part in [&a, &aaaa] {
            if let Part::Records { answers, .. } = part {
                collect(answers, &mut lookup, &mut ips);
            }
        }
        if lookup.cname_too_long {
            return (too_long(lookup), Vec::new());
        }
        if !ips.is_empty() {
            lookup.outcome = DnsOutcome::Answer;
            return (lookup, ips);
        }
        let (code, zone, negative_ttl) = match a {
            Part::Failed(err) => return (keep_chain(lookup, from_error(label.to_string(), started, &err)), ips),
            Part::Records { code, zone, negative_ttl, .. } => (code, zone, negative_ttl),
        };
        let last = lookup.cname_chain.last().map_or_else(|| trim_dot(&current.to_string()), |h| h.target.clone());
        if zone.is_none() && code == ResponseCode::NoError && lookup.cname_chain.len() > hops_before {
            if lookup.cname_chain.iter().any(|h| h.name.eq_ignore_ascii_case(&last)) {
                lookup.error = Some(loop_error(&lookup.cname_chain));
                lookup.outcome = DnsOutcome::Error;
                lookup.cname_loop = true;
                return (lookup, ips);
            }
            match Name::from_ascii(format!("{last}.")) {
                Ok(next) => {
                    current = next;
                    continue;
                }
                Err(e) => {
                    lookup.outcome = DnsOutcome::Error;
                    lookup.error = Some(format!("the CNAME target {last} is not a valid name: {e}"));
                    return (lookup, ips);
                }
            }
        }
        lookup.outcome = if code == ResponseCode::NXDomain { DnsOutcome::Nxdomain } else { DnsOutcome::NoData };
        lookup.error = Some(format!(
            "{} for {last}",
            if code == ResponseCode::NXDomain { "NXDOMAIN" } else { "no A or AAAA record" }
        ));
        lookup.negative_zone = zone;
        lookup.negative_ttl = negative_ttl;
        lookup.negative_name = Some(last.clone());
        return (lookup, ips);
    }
    lookup.cname_too_long = true;
    (too_long(lookup), Vec::new())
}

/// A chain longer than [`MAX_CNAME_HOPS`], however it came: one failure, one message.
fn too_long(mut lookup: DnsLookup) -> DnsLookup {
    lookup.outcome = DnsOutcome::Error;
    lookup.cname_too_long = true;
    lookup.addresses.clear();
    lookup.error = Some(format!("more than {MAX_CNAME_HOPS} CNAME hops"));
    lookup
}

/// `Some(why)` when every server answers a probe with ICMP port unreachable (nothing listens on
/// its port); `None` as soon as one does not (it answers, or stays silent past `budget`).
async fn port_unreachable(servers: &[SocketAddr], budget: Duration) -> Option<String> {
    if servers.is_empty() {
        return None;
    }
    // A query for the root's NS records: the smallest well-formed question.
    const PROBE: [u8; 17] = [0x6b, 0x72, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1];
    let probe = |server: SocketAddr| async move {
        let bind: SocketAddr = if server.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
        let socket = tokio::net::UdpSocket::bind(bind).await.ok()?;
        socket.connect(server).await.ok()?;
        socket.send(&PROBE).await.ok()?;
        let mut buf = [0u8; 512];
        match tokio::time::timeout(budget, socket.recv(&mut buf)).await {
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Some(server),
            _ => None,
        }
    };
    let refused = futures::future::join_all(servers.iter().map(|s| probe(*s))).await;
    if refused.iter().all(Option::is_some) {
        Some(format!(
            "ICMP port unreachable from {}: nothing listens on the resolver's port (no DNS server runs there)",
            join(servers)
        ))
    } else {
        None
    }
}

/// Why `fqdn` cannot be sent as a DNS question, if it cannot.
fn unencodable(fqdn: &str) -> Option<String> {
    let name = fqdn.trim_end_matches('.');
    if name.is_empty() {
        return Some("empty".into());
    }
    if name.len() > 253 {
        return Some(format!("{} characters (at most 253)", name.len()));
    }
    if let Some(label) = name.split('.').find(|l| l.is_empty() || l.len() > 63) {
        return Some(if label.is_empty() {
            "an empty label".into()
        } else {
            format!("a label of {} characters (at most 63)", label.len())
        });
    }
    if !name.is_ascii() || name.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Some("characters a DNS label cannot carry".into());
    }
    Name::from_ascii(fqdn).err().map(|e| e.to_string())
}

/// "CNAME loop: a -> b -> a" for a chain whose last target is one of its names.
fn loop_error(chain: &[CnameHop]) -> String {
    let names: Vec<&str> =
        chain.iter().map(|h| h.name.as_str()).chain(chain.last().map(|h| h.target.as_str())).collect();
    format!("CNAME loop: {}", names.join(" -> "))
}

/// `failure`, with the CNAME hops `so_far` had already followed.
fn keep_chain(so_far: DnsLookup, mut failure: DnsLookup) -> DnsLookup {
    failure.cname_chain = so_far.cname_chain;
    failure
}

/// Most CNAME hops followed one by one.
const MAX_CNAME_HOPS: usize = 16;

/// Follows `name`'s CNAME records one query at a time; returns the hops and whether they loop.
async fn walk_cnames(resolver: &TokioResolver, name: &str, budget: Duration) -> (Vec<CnameHop>, bool) {
    let started = Instant::now();
    let mut chain: Vec<CnameHop> = Vec::new();
    let mut current = name.to_string();
    for _ in 0..MAX_CNAME_HOPS {
        let left = budget.saturating_sub(started.elapsed());
        let Ok(Ok(answer)) = tokio::time::timeout(left, resolver.lookup(current.as_str(), RecordType::CNAME)).await
        else {
            break;
        };
        let hop = answer.answers().iter().find_map(|r| match &r.data {
            RData::CNAME(target) if trim_dot(&r.name.to_string()).eq_ignore_ascii_case(&trim_dot(&current)) => {
                Some(CnameHop {
                    name: trim_dot(&r.name.to_string()),
                    target: trim_dot(&target.0.to_string()),
                    ttl: r.ttl,
                })
            }
            _ => None,
        });
        let Some(hop) = hop else { break };
        let looped = chain.iter().any(|h| h.name.eq_ignore_ascii_case(&hop.target))
            || hop.target.eq_ignore_ascii_case(&hop.name);
        current = format!("{}.", hop.target);
        chain.push(hop);
        if looped {
            return (chain, true);
        }
    }
    (chain, false)
}

/// Whether a chain walked hop by hop reached the cap.
fn reached_cap(chain: &[CnameHop]) -> bool {
    chain.len() >= MAX_CNAME_HOPS
}

async fn lookup_ip(
    fqdn: &str,
    resolver: &TokioResolver,
    label: String,
    started: Instant,
    budget: Duration,
) -> (DnsLookup, Vec<IpAddr>) {
    match tokio::time::timeout(budget, resolver.lookup_ip(fqdn)).await {
        Err(_) => {
            let msg = format!("no answer within {} ms", budget.as_millis());
            (failed(label, DnsOutcome::Unreachable, started, msg), Vec::new())
        }
        Ok(Err(err)) => (from_error(label, started, &err), Vec::new()),
        Ok(Ok(answer)) => {
            let mut lookup = blank(label, DnsOutcome::NoData, started);
            let mut ips = Vec::new();
            collect(answer.as_lookup().answers(), &mut lookup, &mut ips);
            if lookup.cname_too_long {
                return (too_long(lookup), Vec::new());
            }
            if !ips.is_empty() {
                lookup.outcome = DnsOutcome::Answer;
            }
            (lookup, ips)
        }
    }
}

/// Adds `records`' CNAME hops and addresses to `lookup` and `ips`, each once.
fn collect(records: &[Record], lookup: &mut DnsLookup, ips: &mut Vec<IpAddr>) {
    for record in records {
        let ip = match &record.data {
            RData::CNAME(target) => {
                let name = trim_dot(&record.name.to_string());
                // The same cap as hop by hop: a chain of hundreds of hops in one answer is no
                // better (no client follows it), and is not kept whole.
                if lookup.cname_chain.len() >= MAX_CNAME_HOPS {
                    lookup.cname_too_long = true;
                    continue;
                }
                if !lookup.cname_chain.iter().any(|h| h.name.eq_ignore_ascii_case(&name)) {
                    let target = trim_dot(&target.0.to_string());
                    lookup.cname_chain.push(CnameHop { name, target, ttl: record.ttl });
                }
                continue;
            }
            RData::A(v4) => IpAddr::V4(v4.0),
            RData::AAAA(v6) => IpAddr::V6(v6.0),
            _ => continue,
        };
        if !ips.contains(&ip) {
            ips.push(ip);
            lookup.addresses.push(DnsAddress { ip: ip.to_string(), ttl: record.ttl, private: false });
        }
    }
}

/// The lookup record for an address literal.
pub(crate) fn literal(ip: IpAddr) -> DnsLookup {
    DnsLookup {
        resolver: "none (address literal)".to_string(),
        outcome: DnsOutcome::AddressLiteral,
        elapsed_ms: 0,
        cname_chain: Vec::new(),
        addresses: vec![DnsAddress { ip: ip.to_string(), ttl: 0, private: false }],
        negative_zone: None,
        negative_ttl: None,
        negative_name: None,
        error: None,
        cname_loop: false,
        cname_too_long: false,
        name_invalid: false,
    }
}

/// Marks each address private or public and classifies the whole answer.
pub fn classify(lookup: &mut DnsLookup, private: &[IpNet]) -> Option<AnswerClass> {
    for addr in &mut lookup.addresses {
        addr.private = addr.ip.parse::<IpAddr>().is_ok_and(|ip| is_private(ip, private));
    }
    let n_private = lookup.addresses.iter().filter(|a| a.private).count();
    match (n_private, lookup.addresses.len()) {
        (_, 0) => None,
        (p, n) if p == n => Some(AnswerClass::Private),
        (0, _) => Some(AnswerClass::Public),
        _ => Some(AnswerClass::Mixed),
    }
}

/// Whether `ip` lies in one of the private ranges.
pub(crate) fn is_private(ip: IpAddr, private: &[IpNet]) -> bool {
    private.iter().any(|net| net.contains(&ip))
}

/// A lookup with no answer (yet), timed from `started`.
fn blank(resolver: String, outcome: DnsOutcome, started: Instant) -> DnsLookup {
    DnsLookup {
        resolver,
        outcome,
        elapsed_ms: started.elapsed().as_millis() as u64,
        cname_chain: Vec::new(),
        addresses: Vec::new(),
        negative_zone: None,
        negative_ttl: None,
        negative_name: None,
        error: None,
        cname_loop: false,
        cname_too_long: false,
        name_invalid: false,
    }
}

fn failed(resolver: String, outcome: DnsOutcome, started: Instant, error: String) -> DnsLookup {
    DnsLookup { error: Some(error), ..blank(resolver, outcome, started) }
}

/// The lookup for a resolver's error: NXDOMAIN or NODATA with the zone that said so, or why not.
fn from_error(resolver: String, started: Instant, err: &NetError) -> DnsLookup {
    let (outcome, negative_zone) = classify_error(err);
    let (negative_ttl, negative_name) = match err {
        NetError::Dns(DnsError::NoRecordsFound(no)) => (negative_ttl(no), Some(trim_dot(&no.query.name().to_string()))),
        _ => (None, None),
    };
    DnsLookup { negative_zone, negative_ttl, negative_name, ..failed(resolver, outcome, started, err.to_string()) }
}

/// How long a negative answer may be cached (RFC 2308 §5): the SOA's TTL, at most its minimum
/// field; from a cache, what is left of it.
fn negative_ttl(no: &hickory_resolver::net::NoRecords) -> Option<u32> {
    no.soa.as_ref().map(|soa| soa.ttl.min(soa.data.minimum)).or(no.negative_ttl)
}

fn trim_dot(s: &str) -> String {
    s.strip_suffix('.').unwrap_or(s).to_string()
}

fn classify_error(err: &NetError) -> (DnsOutcome, Option<String>) {
    match err {
        NetError::Dns(DnsError::NoRecordsFound(no)) => {
            let zone = no.soa.as_ref().map(|soa| trim_dot(&soa.name.to_string()));
            if err.is_nx_domain() { (DnsOutcome::Nxdomain, zone) } else { (DnsOutcome::NoData, zone) }
        }
        NetError::Dns(_) => (DnsOutcome::Error, None),
        _ => (DnsOutcome::Unreachable, None),
    }
}

fn build(choice: &ResolverChoice) -> Result<(TokioResolver, Client, Vec<SocketAddr>), NetError> {
    let config = match choice {
        ResolverChoice::System => hickory_resolver::system_conf::read_system_conf()?.0,
        ResolverChoice::Servers(servers) => {
            let mut config = ResolverConfig::from_name_servers(Vec::new());
            for sa in servers {
                let mut udp = ConnectionConfig::udp();
                udp.port = sa.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = sa.port();
                config.add_name_server(NameServerConfig::new(sa.ip(), true, vec![udp, tcp]));
            }
            config
        }
    };
    let name_servers = config.name_servers().to_vec();
    // Read once: a System choice's servers come from the same resolv.conf reading as the resolver's.
    let servers = server_addresses(&name_servers);
    let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
    let opts: &mut ResolverOpts = builder.options_mut();
    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    opts.preserve_intermediates = true;
    opts.timeout = QUERY_TIMEOUT;
    opts.attempts = 2;
    opts.cache_size = 0;
    let options = opts.clone();
    let resolver = builder.build()?;
    let attempts = options.attempts;
    let context = Arc::new(PoolContext::new(options, TlsConfig::new()?));
    let pool = NameServerPool::from_config(name_servers, context, TokioRuntimeProvider::default());
    let client = RetryDnsHandle::new(pool, attempts);
    Ok((resolver, client, servers))
}

/// Each name server's address (and the port of its first transport), once: for the report's label.
fn server_addresses(name_servers: &[NameServerConfig]) -> Vec<SocketAddr> {
    let mut out: Vec<SocketAddr> = Vec::new();
    for ns in name_servers {
        if let Some(conn) = ns.connections.first() {
            let sa = SocketAddr::new(ns.ip, conn.port);
            if !out.contains(&sa) {
                out.push(sa);
            }
        }
    }
    out
}

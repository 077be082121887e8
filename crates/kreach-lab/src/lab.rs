//! The assembled lab: DNS views, certificates and per-AZ endpoint addresses, with one fault at a time.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use tokio::net::{TcpListener, UdpSocket};

use crate::LabError;
use crate::certs::{Ca, Validity};
use crate::dns::{DnsServer, Rdata, Zone};
use crate::endpoint::{Behaviour, Listener, Routes, server_config};
use crate::kafka::MockKafka;

/// The lab cluster's region.
pub const LAB_REGION: &str = "us-west-2";
/// The private hosted zone: the cluster's DNS domain.
pub const LAB_DOMAIN: &str = "abc123.us-west-2.aws.confluent.cloud";
/// The bootstrap host name.
pub const LAB_BOOTSTRAP_HOST: &str = "lkc-lab01.abc123.us-west-2.aws.confluent.cloud";
/// Loopback range that plays the VPC (endpoint addresses are "private" in it).
pub const LAB_PRIVATE_CIDR: &str = "127.10.0.0/16";
/// The address public DNS gives for the cluster (nothing listens: a public address unreachable from here).
pub const LAB_PUBLIC_ADDR: Ipv4Addr = Ipv4Addr::new(127, 200, 1, 10);
const VPC_RESOLVER: Ipv4Addr = Ipv4Addr::new(127, 10, 0, 2);
const PUBLIC_RESOLVER: Ipv4Addr = Ipv4Addr::new(127, 200, 0, 53);
const VPCE_ZONE: &str = "us-west-2.vpce.amazonaws.com";
const VPCE_NAME: &str = "vpce-0a1b2c3d4e5f60789-lab01";
const PUBLIC_ZONE: &str = "us-west-2.aws.confluent.cloud";
/// A zone the VPC resolver serves empty: names in it are NXDOMAIN.
const ELSEWHERE_ZONE: &str = "lab.invalid";
/// Brokers in the lab cluster (two per zone).
pub const LAB_BROKERS: usize = 6;

/// One availability zone of the lab endpoint.
#[derive(Clone, Debug)]
pub struct LabAz {
    /// AZ ID, e.g. `usw2-az1`.
    pub az_id: &'static str,
    /// AZ name, e.g. `us-west-2a`.
    pub az_name: &'static str,
    /// The endpoint network interface's address in that zone.
    pub eni: Ipv4Addr,
}

/// The lab's three zones.
pub fn lab_azs() -> Vec<LabAz> {
    vec![
        LabAz { az_id: "usw2-az1", az_name: "us-west-2a", eni: Ipv4Addr::new(127, 10, 1, 10) },
        LabAz { az_id: "usw2-az2", az_name: "us-west-2b", eni: Ipv4Addr::new(127, 10, 2, 10) },
        LabAz { az_id: "usw2-az3", az_name: "us-west-2c", eni: Ipv4Addr::new(127, 10, 3, 10) },
    ]
}

/// Which lab can put a [`Fault`] in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Labs {
    /// Both the in-process lab (`kreach lab`) and the network-namespace lab (tests, root).
    Both,
    /// Only the network-namespace lab: the fault needs a peer the in-process lab does not run.
    NetnsOnly,
}

impl Labs {
    /// The column `kreach lab --list-faults` prints.
    pub fn label(self) -> &'static str {
        match self {
            Labs::Both => "both labs",
            Labs::NetnsOnly => "netns lab only",
        }
    }
}

macro_rules! faults {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $labs:ident: $what:literal; )*) => {
        /// One thing broken on purpose.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Fault {
            $( $(#[$doc])* $variant, )*
        }
        impl Fault {
            /// Every fault, in order.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant,)*];
            /// The `--fault` name.
            pub fn name(self) -> &'static str { match self { $(Fault::$variant => $name,)* } }
            /// What it breaks, one line.
            pub fn description(self) -> &'static str { match self { $(Fault::$variant => $what,)* } }
            /// Which lab can put it in force.
            pub fn labs(self) -> Labs { match self { $(Fault::$variant => Labs::$labs,)* } }
        }
        impl FromStr for Fault {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($name => Ok(Fault::$variant),)* _ => Err(format!(
                    "unknown fault `{s}`; one of: {}", [$($name),*].join(", "))) }
            }
        }
    };
}

faults! {
    /// Nothing broken.
    None = "none", Both: "a healthy PrivateLink setup";
    /// The VPC resolver answers from public DNS (zone not associated with the VPC).
    ZoneNotAssociated = "zone-not-associated", Both: "the private hosted zone is not associated with the VPC: public answers";
    /// The private zone lacks `*.<domain>`.
    WildcardMissing = "wildcard-missing", Both: "the private zone lacks the `*.<domain>` wildcard CNAME";
    /// The VPC resolver does not answer.
    ResolverDown = "resolver-down", Both: "the VPC resolver does not answer";
    /// Every endpoint address drops the Kafka port.
    KafkaPortDropped = "kafka-port-dropped", Both: "the endpoint's security group drops the Kafka port";
    /// Every endpoint address drops the HTTPS port.
    HttpsPortDropped = "https-port-dropped", Both: "the endpoint's security group drops the HTTPS port";
    /// Nothing listens on the Kafka port.
    PortRefused = "port-refused", Both: "nothing listens on the Kafka port: connections are refused";
    /// The endpoint serves a certificate for another name.
    CertWrongName = "cert-wrong-name", Both: "the endpoint's certificate is for another name";
    /// The endpoint's certificate comes from a CA the client does not trust.
    UnknownCa = "unknown-ca", Both: "the endpoint's certificate is signed by an unknown CA";
    /// The endpoint's certificate has expired.
    ExpiredCert = "expired-cert", Both: "the endpoint's certificate has expired";
    /// The endpoint's certificate expires in 10 days.
    ExpiringCert = "expiring-cert", Both: "the endpoint's certificate expires in 10 days";
    /// The HTTPS port speaks plaintext HTTP.
    PlaintextListener = "plaintext-listener", Both: "a plaintext HTTP server sits on the TLS (HTTPS) port";
    /// One AZ's endpoint address drops everything.
    AzDown = "az-down", Both: "the endpoint address in usw2-az2 drops every packet";
    /// The private zone lacks `*.usw2-az2.<domain>`: that zone's brokers get the regional answer.
    ZonalRecordMissing = "zonal-record-missing", Both: "the private zone lacks the `*.usw2-az2.<domain>` zonal record";
    /// Broker 3 advertises a name no zone serves.
    BrokerNameUnresolvable = "broker-name-unresolvable", Both: "broker 3 advertises a name that does not resolve";
    /// Broker 4 is down.
    BrokerDown = "broker-down", Both: "broker 4 is down behind a working endpoint";
    /// The private zone's record for usw2-az2 is named by the AZ name (`us-west-2b`), not the AZ ID.
    ZonalRecordByAzName = "zonal-record-by-az-name", Both: "the zonal record for usw2-az2 is named `*.us-west-2b.<domain>` (AZ name, not AZ ID)";
    /// The cluster behind the endpoint is tansu requiring SASL/SCRAM.
    SaslBroker = "sasl-broker", NetnsOnly: "the cluster behind the endpoint is tansu with SASL/SCRAM (needs tansu and root)";
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A running lab; everything stops when it is dropped.
pub struct Lab {
    /// The fault in force.
    pub fault: Fault,
    /// The bootstrap `host:port`.
    pub bootstrap: String,
    /// The Kafka port on every endpoint address.
    pub kafka_port: u16,
    /// The HTTPS port on every endpoint address.
    pub https_port: u16,
    /// The "VPC resolver".
    pub resolver: SocketAddr,
    /// The "public DNS".
    pub public_resolver: SocketAddr,
    /// The zones and their endpoint addresses.
    pub azs: Vec<LabAz>,
    /// The advertised broker names, by broker id (1-based: index 0 is broker 1).
    pub brokers: Vec<String>,
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
    _dns: Vec<DnsServer>,
    _listeners: Vec<Listener>,
    _kafka: MockKafka,
}

impl Lab {
    /// Starts the lab with `fault` in force and [`LAB_BROKERS`] brokers.
    pub async fn start(fault: Fault) -> Result<Lab, LabError> {
        Self::start_with_brokers(fault, LAB_BROKERS).await
    }

    /// Starts the lab with `fault` in force and `broker_count` brokers spread over the zones.
    pub async fn start_with_brokers(fault: Fault, broker_count: usize) -> Result<Lab, LabError> {
        if fault.labs() == Labs::NetnsOnly {
            return Err(LabError::Setup(format!(
                "fault `{fault}` is served only by the network-namespace lab (tests/netns_lab.rs, needs root); \
                 `kreach lab --list-faults` says which lab serves each fault"
            )));
        }
        if !(1..=1000).contains(&broker_count) {
            return Err(LabError::Setup(format!("{broker_count} brokers: the lab runs 1 to 1000")));
        }
        let azs = lab_azs();
        let ca = Ca::new("kreach lab root CA")?;
        let dir = tempfile::Builder::new().prefix("kreach-lab-").tempdir()?;
        let ca_file = dir.path().join("lab-ca.pem");
        std::fs::write(&ca_file, ca.cert_pem())?;

        // DNS: the private zone (wildcard + per-AZ wildcards → vpce names) and the vpce zone.
        let regional = format!("{VPCE_NAME}.{VPCE_ZONE}");
        let mut private = Zone::new(LAB_DOMAIN);
        if fault != Fault::WildcardMissing {
            private = private.with(&format!("*.{LAB_DOMAIN}"), Rdata::Cname(regional.clone()));
        }
        let mut vpce = Zone::new(VPCE_ZONE);
        for az in &azs {
            let zonal = format!("{VPCE_NAME}-{}.{VPCE_ZONE}", az.az_name);
            let affected = az.az_id == "usw2-az2";
            match fault {
                Fault::ZonalRecordMissing if affected => {}
                Fault::ZonalRecordByAzName if affected => {
                    private = private.with(&format!("*.{}.{LAB_DOMAIN}", az.az_name), Rdata::Cname(zonal.clone()));
                }
                _ => private = private.with(&format!("*.{}.{LAB_DOMAIN}", az.az_id), Rdata::Cname(zonal.clone())),
            }
            vpce = vpce.with(&regional, Rdata::Addr(IpAddr::V4(az.eni))).with(&zonal, Rdata::Addr(IpAddr::V4(az.eni)));
        }
        let public_lb = format!("public-lb.{PUBLIC_ZONE}");
        let public = Zone::new(PUBLIC_ZONE)
            .with(&format!("*.{LAB_DOMAIN}"), Rdata::Cname(public_lb.clone()))
            .with(&public_lb, Rdata::Addr(IpAddr::V4(LAB_PUBLIC_ADDR)));

        let public_dns =
            DnsServer::start(SocketAddr::new(PUBLIC_RESOLVER.into(), 0), std::slice::from_ref(&public)).await?;
        let mut dns = vec![public_dns];
        let resolver = match fault {
            Fault::ResolverDown => free_udp_port(VPC_RESOLVER.into()).await?,
            Fault::ZoneNotAssociated => {
                // Without the association the VPC resolver answers what public DNS says.
                let server = DnsServer::start(SocketAddr::new(VPC_RESOLVER.into(), 0), &[public]).await?;
                let addr = server.addr();
                dns.push(server);
                addr
            }
            _ => {
                let zones = [private, vpce, Zone::new(ELSEWHERE_ZONE)];
                let server = DnsServer::start(SocketAddr::new(VPC_RESOLVER.into(), 0), &zones).await?;
                let addr = server.addr();
                dns.push(server);
                addr
            }
        };
        let public_resolver = dns[0].addr();

        // TLS: the endpoint's certificate covers the provider's names.
        let wildcard = format!("*.{LAB_DOMAIN}");
        let zonal_wildcards: Vec<String> = azs.iter().map(|az| format!("*.{}.{LAB_DOMAIN}", az.az_id)).collect();
        let mut names: Vec<&str> = vec![wildcard.as_str()];
        names.extend(zonal_wildcards.iter().map(String::as_str));
        let leaf = match fault {
            Fault::CertWrongName => ca.leaf(&["other-service.example.net"], Validity::Days(90))?,
            Fault::UnknownCa => Ca::new("Unknown Interception CA")?.leaf(&names, Validity::Days(90))?,
            Fault::ExpiredCert => ca.leaf(&names, Validity::Expired)?,
            Fault::ExpiringCert => ca.leaf(&names, Validity::Days(10))?,
            _ => ca.leaf(&names, Validity::Days(90))?,
        };
        let kafka_tls = server_config(&leaf, &[])?;
        let https_tls = server_config(&leaf, &[b"http/1.1"])?;

        let enis: Vec<IpAddr> = azs.iter().map(|az| IpAddr::V4(az.eni)).collect();
        let (kafka_port, kafka_sockets) = bind_same_port(&enis).await?;
        let (https_port, https_sockets) = bind_same_port(&enis).await?;
        // The cluster: broker i+1 in zone i % 3, advertising its zonal name on the endpoint's port.
        let brokers: Vec<String> = (0..broker_count)
            .map(|i| {
                let az = &azs[i % azs.len()];
                if fault == Fault::BrokerNameUnresolvable && i == 2 {
                    format!("b{}.{}.{ELSEWHERE_ZONE}", i + 1, az.az_id)
                } else {
                    format!("b{}.{}.{LAB_DOMAIN}", i + 1, az.az_id)
                }
            })
            .collect();
        let advertised: Vec<(String, u16)> = brokers.iter().map(|b| (b.clone(), kafka_port)).collect();
        let kafka = MockKafka::start(&advertised)?;
        let mut routes = Routes::default();
        // A dead broker behind a working endpoint: its route leads to a port nothing listens on.
        // (A broker that is really down drops out of Metadata, where no client could see it.)
        let dead = TcpListener::bind(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0)).await?.local_addr()?;
        for ((id, addr), name) in kafka.listeners.iter().zip(&brokers) {
            let backend = if fault == Fault::BrokerDown && *id == 4 { dead } else { *addr };
            routes.by_name.insert(name.clone(), backend);
        }
        // The bootstrap name reaches broker 1.
        routes.default = kafka.listeners.first().map(|(_, a)| *a);
        let routes = Arc::new(routes);

        let mut listeners = Vec::new();
        for (i, (k, h)) in kafka_sockets.into_iter().zip(https_sockets).enumerate() {
            let dead_az = fault == Fault::AzDown && i == 1;
            let (k_addr, h_addr) = (k.local_addr()?, h.local_addr()?);
            match fault {
                Fault::PortRefused => drop(k),
                Fault::KafkaPortDropped => {
                    drop(k);
                    listeners.push(Listener::blackhole(k_addr).await?);
                }
                _ if dead_az => {
                    drop(k);
                    listeners.push(Listener::blackhole(k_addr).await?);
                }
                _ => listeners.push(Listener::serve(k, Behaviour::TlsForward(kafka_tls.clone(), routes.clone()))?),
            }
            match fault {
                Fault::HttpsPortDropped => {
                    drop(h);
                    listeners.push(Listener::blackhole(h_addr).await?);
                }
                _ if dead_az => {
                    drop(h);
                    listeners.push(Listener::blackhole(h_addr).await?);
                }
                Fault::PlaintextListener => listeners.push(Listener::serve(h, Behaviour::PlainHttp)?),
                _ => listeners.push(Listener::serve(h, Behaviour::TlsHttp(https_tls.clone()))?),
            }
        }

        Ok(Lab {
            fault,
            bootstrap: format!("{LAB_BOOTSTRAP_HOST}:{kafka_port}"),
            kafka_port,
            https_port,
            resolver,
            public_resolver,
            azs,
            brokers,
            ca_file,
            _dir: dir,
            _dns: dns,
            _listeners: listeners,
            _kafka: kafka,
        })
    }

    /// The lab CA's PEM file (what `--ca-file` takes).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// A Lambda event (the kreach-lambda handler's input) that diagnoses this lab, as `check_args`
    /// do for `kreach check`.
    pub fn lambda_event(&self) -> serde_json::Value {
        serde_json::json!({
            "bootstrap": self.bootstrap,
            "resolvers": [self.resolver.to_string()],
            "private_cidrs": [LAB_PRIVATE_CIDR],
            "ca_pem": std::fs::read_to_string(&self.ca_file).unwrap_or_default(),
            "https_port": self.https_port,
            // The lab's brokers speak TLS (at the endpoint) without SASL.
            "security_protocol": "SSL",
        })
    }

    /// The `kreach check` arguments that diagnose this lab.
    pub fn check_args(&self) -> Vec<String> {
        let zones = self.azs.iter().flat_map(|az| ["--zone-address".to_string(), format!("{}={}", az.az_id, az.eni)]);
        let mut args = vec![
            "--bootstrap".into(),
            self.bootstrap.clone(),
            "--resolver".into(),
            self.resolver.to_string(),
            "--public-resolver".into(),
            self.public_resolver.to_string(),
            "--private-cidr".into(),
            LAB_PRIVATE_CIDR.into(),
            "--ca-file".into(),
            self.ca_file.display().to_string(),
            "--https-port".into(),
            self.https_port.to_string(),
            // The lab's brokers speak TLS (at the endpoint) without SASL.
            "--security-protocol".into(),
            "SSL".into(),
        ];
        args.extend(zones);
        args
    }
}

/// Binds one TCP listener per address, all on the same (free) port.
async fn bind_same_port(addrs: &[IpAddr]) -> Result<(u16, Vec<TcpListener>), LabError> {
    let Some(first) = addrs.first() else {
        return Err(LabError::Setup("no address to bind".into()));
    };
    for _ in 0..50 {
        let l0 = TcpListener::bind(SocketAddr::new(*first, 0)).await?;
        let port = l0.local_addr()?.port();
        let mut all = vec![l0];
        for addr in &addrs[1..] {
            match TcpListener::bind(SocketAddr::new(*addr, port)).await {
                Ok(l) => all.push(l),
                Err(_) => break,
            }
        }
        if all.len() == addrs.len() {
            return Ok((port, all));
        }
    }
    Err(LabError::Setup("no port free on every endpoint address".into()))
}

/// An address with a UDP port nothing listens on (a resolver that is down).
async fn free_udp_port(ip: IpAddr) -> Result<SocketAddr, LabError> {
    let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
    Ok(socket.local_addr()?)
}

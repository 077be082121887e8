//! The assembled lab: DNS views, certificates and per-AZ endpoint addresses, with one fault at a time.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use tokio::net::UdpSocket;

use crate::LabError;
use crate::certs::{Ca, Validity};
use crate::dns::{DnsServer, Rdata, Zone};
use crate::endpoint::{Behaviour, Listener, Port, Routes, bind_same_port, server_config};
use crate::kafka::MockKafka;
use crate::layout::{LabLayout, Names};

/// The lab cluster's region.
pub const LAB_REGION: &str = "us-west-2";
/// The private hosted zone: the cluster's DNS domain.
pub const LAB_DOMAIN: &str = "abc123.us-west-2.aws.confluent.cloud";
/// The bootstrap host name.
pub const LAB_BOOTSTRAP_HOST: &str = "lkc-lab01.abc123.us-west-2.aws.confluent.cloud";
/// The lab's access point ID (layout `access-point`), as names carry it.
pub const LAB_ACCESS_POINT: &str = "aplab01";
/// The domain of the lab's PNI names (layout `pni`): the lab's own, since Confluent's
/// documentation does not say what PNI names look like.
pub const LAB_PNI_DOMAIN: &str = "pnilab01.lab.internal";
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
/// A VPC endpoint DNS name that no longer exists (the endpoint was replaced).
const DEAD_VPCE: &str = "vpce-0dead0000000000000-old01.us-west-2.vpce.amazonaws.com";
/// Another VPC's endpoint (the record that leads there is wrong): its address drops every packet.
const OTHER_VPCE: &str = "vpce-0fff0000000000000-other01.us-west-2.vpce.amazonaws.com";
const OTHER_ENDPOINT_ADDR: Ipv4Addr = Ipv4Addr::new(127, 10, 200, 10);
/// Another region's endpoint names, and the address its name gives (dropping every packet).
const OTHER_REGION_ZONE: &str = "us-east-1.vpce.amazonaws.com";
const OTHER_REGION_ADDR: Ipv4Addr = Ipv4Addr::new(127, 10, 201, 10);
/// The AWS service names' zone in the lab's region.
const AWS_ZONE: &str = "us-west-2.amazonaws.com";
/// Confluent Cloud's public apex (the CLI's login host; `api.` is the Cloud API).
const CONFLUENT_APEX: &str = "confluent.cloud";
/// The AWS APIs' interface endpoint address in the VPC (private DNS on).
pub const LAB_AWS_API_ADDR: Ipv4Addr = Ipv4Addr::new(127, 10, 9, 10);
/// "The internet through a NAT gateway": where public service names lead (the APIs answer there).
pub const LAB_INTERNET_ADDR: Ipv4Addr = Ipv4Addr::new(127, 200, 2, 10);
/// The AWS services the Lambda paths need (kreach's `--aws-apis`), served in the lab's DNS.
const AWS_SERVICES: [&str; 3] = ["lambda", "sts", "secretsmanager"];
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
    /// Only the in-process lab: the fault needs a layout or endpoint the netns lab does not play.
    InProcessOnly,
}

impl Labs {
    /// The column `kreach lab --list-faults` prints.
    pub fn label(self) -> &'static str {
        match self {
            Labs::Both => "both labs",
            Labs::NetnsOnly => "netns lab only",
            Labs::InProcessOnly => "in-process only",
        }
    }
}

macro_rules! faults {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $labs:ident, $hop:literal: $what:literal; )*) => {
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
            /// The hop of the path it breaks, as kreach's findings name hops (`record`,
            /// `certificate`, `network`, …); empty for a fault that breaks nothing.
            pub fn hop(self) -> &'static str { match self { $(Fault::$variant => $hop,)* } }
        }
        impl FromStr for Fault {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                // The list is long: the error points at it rather than repeating it.
                match s { $($name => Ok(Fault::$variant),)* _ => Err(format!(
                    "unknown fault `{}`", s.chars().take(64).collect::<String>())) }
            }
        }
    };
}

faults! {
    /// Nothing broken.
    None = "none", Both, "": "a healthy PrivateLink setup";
    /// The VPC resolver answers from public DNS (zone not associated with the VPC).
    ZoneNotAssociated = "zone-not-associated", Both, "zone": "the private hosted zone is not associated with the VPC: public answers";
    /// As zone-not-associated, and the public addresses drop every packet (a private subnet has no route to them).
    PublicAnswerDropped = "public-answer-dropped", Both, "zone": "the zone is not associated and the public addresses it answers drop every packet";
    /// The private zone lacks `*.<domain>`.
    WildcardMissing = "wildcard-missing", Both, "record": "the private zone lacks the `*.<domain>` wildcard CNAME";
    /// The VPC resolver does not answer.
    ResolverDown = "resolver-down", Both, "resolver": "the VPC resolver does not answer";
    /// Every endpoint address drops the Kafka port.
    KafkaPortDropped = "kafka-port-dropped", Both, "network": "the endpoint's security group drops the Kafka port";
    /// Every endpoint address drops the HTTPS port.
    HttpsPortDropped = "https-port-dropped", Both, "network": "the endpoint's security group drops the HTTPS port";
    /// Nothing listens on the Kafka port.
    PortRefused = "port-refused", Both, "listener": "nothing listens on the Kafka port: connections are refused";
    /// The endpoint serves a certificate for another name.
    CertWrongName = "cert-wrong-name", Both, "certificate": "the endpoint's certificate is for another name";
    /// The endpoint's certificate comes from a CA the client does not trust.
    UnknownCa = "unknown-ca", Both, "trust": "the endpoint's certificate is signed by an unknown CA";
    /// The endpoint's certificate has expired.
    ExpiredCert = "expired-cert", Both, "certificate": "the endpoint's certificate has expired";
    /// The endpoint's certificate expires in 10 days.
    ExpiringCert = "expiring-cert", Both, "certificate": "the endpoint's certificate expires in 10 days";
    /// The HTTPS port speaks plaintext HTTP.
    PlaintextListener = "plaintext-listener", Both, "listener": "a plaintext HTTP server sits on the TLS (HTTPS) port";
    /// One AZ's endpoint address drops everything.
    AzDown = "az-down", Both, "network": "the endpoint address in usw2-az2 drops every packet";
    /// The private zone lacks `*.usw2-az2.<domain>`: that zone's brokers get the regional answer.
    ZonalRecordMissing = "zonal-record-missing", Both, "record": "the private zone lacks the `*.usw2-az2.<domain>` zonal record";
    /// Broker 3 advertises a name no zone serves.
    BrokerNameUnresolvable = "broker-name-unresolvable", Both, "broker": "broker 3 advertises a name that does not resolve";
    /// Broker 4 is down.
    BrokerDown = "broker-down", Both, "broker": "broker 4 is down behind a working endpoint";
    /// The private zone's zonal record for usw2-az2 leads to a public name: that zone's brokers get a public address.
    ZonalRecordPublic = "zonal-record-public", InProcessOnly, "record": "`*.usw2-az2.<domain>` CNAMEs a public name: that zone's brokers get a public address";
    /// The private zone's record for usw2-az2 is named by the AZ name (`us-west-2b`), not the AZ ID.
    ZonalRecordByAzName = "zonal-record-by-az-name", Both, "record": "the zonal record for usw2-az2 is named `*.us-west-2b.<domain>` (AZ name, not AZ ID)";
    /// The cluster behind the endpoint is tansu requiring SASL/SCRAM.
    SaslBroker = "sasl-broker", NetnsOnly, "authentication": "the cluster behind the endpoint is tansu with SASL/SCRAM (needs tansu and root)";
    /// The private zone's wildcard still points at a replaced endpoint's DNS name.
    CnameDangling = "cname-dangling", Both, "record": "the private zone's wildcard CNAMEs a VPC endpoint name that no longer exists";
    /// Packets over 1300 bytes from usw2-az2's endpoint address are dropped without ICMP (a path-MTU black hole).
    PathMtuBlackhole = "path-mtu-blackhole", NetnsOnly, "network": "packets over 1300 bytes from the endpoint address in usw2-az2 are dropped without ICMP (a path-MTU black hole)";
    /// A DNS Firewall rule in the VPC blocks the public glb hop (NXDOMAIN without SOA); the private zone's names resolve.
    GlbHopBlocked = "glb-hop-blocked", InProcessOnly, "resolver": "a DNS Firewall rule answers the glb names NXDOMAIN without SOA (layout dedicated-glb)";
    /// The VPC resolver cannot reach public DNS: glb names (chased private) do not resolve.
    GlbChaseFailed = "glb-chase-failed", InProcessOnly, "resolver": "the VPC resolver does not reach public DNS, so glb names fail (layout dedicated-glb)";
    /// No NAT: public names (the AWS APIs without interface endpoints, Confluent's APIs) are unreachable.
    NoNat = "no-nat", InProcessOnly, "network": "no route to the internet: public API endpoints drop every packet (with the endpoint rows)";
    /// The AWS APIs resolve to the public service (no interface endpoints), reached through NAT.
    AwsApiPublic = "aws-api-public", InProcessOnly, "": "no interface endpoints: the AWS API names resolve to the public service (through NAT)";
    /// usw2-az2's endpoint address serves a certificate without `*.usw2-az2.<domain>` (the bootstrap's names it covers).
    ZoneCertWrongName = "zone-cert-wrong-name", InProcessOnly, "certificate": "the endpoint address in usw2-az2 serves a certificate without that zone's broker names";
    /// The endpoint's certificate is valid only from tomorrow.
    CertNotYetValid = "cert-not-yet-valid", InProcessOnly, "certificate": "the endpoint's certificate is not valid yet (from tomorrow)";
    /// The intermediate CA certificate the endpoint sends has expired (the leaf is current).
    IntermediateExpired = "intermediate-expired", InProcessOnly, "certificate": "the intermediate CA certificate the endpoint sends has expired; its leaf is current";
    /// The endpoint sends its leaf without the intermediate that leads to the trusted root.
    IntermediateMissing = "intermediate-missing", InProcessOnly, "certificate": "the endpoint sends its leaf without the intermediate CA certificate";
    /// The private zone's wildcard CNAMEs another VPC endpoint (another VPC's): its address drops every packet.
    RecordOtherEndpoint = "record-other-endpoint", InProcessOnly, "record": "the private zone's wildcard CNAMEs another VPC's endpoint, whose address drops every packet";
    /// The private zone's wildcard CNAMEs this endpoint's name in another region (us-east-1).
    RecordOtherRegion = "record-other-region", InProcessOnly, "record": "the private zone's wildcard CNAMEs an endpoint name in us-east-1, not the cluster's region";
    /// The VPC resolver cached the bootstrap's NXDOMAIN before the wildcard record was created: the record exists, the resolver still says NXDOMAIN.
    CachedNxdomain = "cached-nxdomain", InProcessOnly, "resolver": "the VPC resolver serves a cached NXDOMAIN for the bootstrap, asked before the `*.<domain>` record was created (the record exists now)";
    /// The private hosted zone is named above the cluster's domain (`us-west-2.aws.confluent.cloud`): the cluster resolves, public names under it do not.
    ZoneTooBroad = "zone-too-broad", InProcessOnly, "zone": "the private hosted zone is named `us-west-2.aws.confluent.cloud`, above the cluster's domain: it holds the cluster's records and shadows every public name under it";
    /// usw2-az2's zonal record CNAMEs a replaced endpoint's zonal name.
    ZonalRecordDangling = "zonal-record-dangling", InProcessOnly, "record": "`*.usw2-az2.<domain>` CNAMEs a replaced endpoint's zonal name that no longer exists";
    /// The endpoint has no interface in usw2-az3, where brokers live (its zonal record leads nowhere).
    ZoneNotServed = "zone-not-served", InProcessOnly, "endpoint": "the VPC endpoint has no network interface in usw2-az3, where brokers 3 and 6 live";
    /// As zone-not-associated, and the public addresses answer (traffic leaves by the public path).
    PublicPathReachable = "public-path-reachable", InProcessOnly, "zone": "the zone is not associated and the public addresses it answers serve the cluster (the public path)";
    /// Nothing listens on the Kafka port behind usw2-az2's endpoint address.
    ZoneListenerRefused = "zone-listener-refused", InProcessOnly, "listener": "nothing listens on the Kafka port behind the endpoint address in usw2-az2";
    /// The bootstrap is another access point's (one this VPC has no zone for): its glb name leads to a domain the VPC resolver answers from public DNS, NXDOMAIN.
    AccessPointOther = "access-point-other", InProcessOnly, "record": "the bootstrap names another access point (apother01), whose domain this VPC has no zone for: the records here are access point aplab01's (layout access-point)";
    /// The client keeps idle connections 540 s (Java's default), longer than the endpoint's 350 s.
    ClientIdleTimeout = "client-idle-timeout", InProcessOnly, "client": "the client's connections.max.idle.ms is 540000 (Java's default), longer than an interface endpoint keeps an idle connection (350 s)";
}

impl Fault {
    /// The layout the fault needs, when it needs one.
    pub fn layout(self) -> Option<LabLayout> {
        match self {
            Fault::GlbChaseFailed | Fault::GlbHopBlocked => Some(LabLayout::DedicatedGlb),
            Fault::AccessPointOther => Some(LabLayout::AccessPoint),
            _ => None,
        }
    }

    /// The fewest brokers the fault can act on: broker 4 must exist to be down, broker 3 to
    /// advertise a bad name, and a broker must live in usw2-az2 (broker 2) for that zone's record
    /// to matter.
    pub fn min_brokers(self) -> usize {
        match self {
            Fault::BrokerDown => 4,
            Fault::BrokerNameUnresolvable => 3,
            Fault::ZoneNotServed => 3,
            Fault::ZonalRecordMissing
            | Fault::ZonalRecordByAzName
            | Fault::ZonalRecordPublic
            | Fault::ZonalRecordDangling
            | Fault::ZoneCertWrongName
            | Fault::ZoneListenerRefused => 2,
            _ => 1,
        }
    }

    /// The client properties the fault sets (a fault of the client's own configuration, not the
    /// lab's): `kreach check` gets them as `-X key=value` ([`Lab::check_args`]).
    pub fn client_properties(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Fault::ClientIdleTimeout => &[("connections.max.idle.ms", "540000")],
            _ => &[],
        }
    }

    /// Whether the fault shows only on the endpoint rows (`Lab::endpoint_args`).
    pub fn needs_endpoints(self) -> bool {
        matches!(self, Fault::NoNat | Fault::AwsApiPublic)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Fixes applied over the faults, as a user following kreach's fixes would: each field undoes the
/// part of the faults that fix changes, nothing else.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Patch {
    /// Records created or changed in the private zone, each replacing any of the same name:
    /// (full name, target). `VPCE_REGIONAL` and `VPCE_ZONAL:<az-id>` stand for the endpoint's
    /// regional and zonal DNS names.
    pub records: Vec<(String, String)>,
    /// The private zone associated with the VPC.
    pub associate_zone: bool,
    /// Zones (AZ IDs) given an endpoint network interface.
    pub endpoint_zones: Vec<String>,
    /// The ports let through on every path.
    pub open_ports: bool,
    /// Every listener serves what the client expects (nothing refused, TLS where TLS is expected).
    pub serve_listeners: bool,
    /// A current certificate covering every name served everywhere.
    pub serve_certificate: bool,
    /// The whole chain, every certificate current, sent with the leaf.
    pub serve_chain: bool,
    /// Resolvers' cached negative answers expired (or flushed).
    pub cache_expired: bool,
}

impl Patch {
    /// Whether `fault` is still in force once this patch is applied.
    fn leaves(&self, fault: Fault) -> bool {
        let undone = match fault {
            Fault::ZoneNotAssociated
            | Fault::PublicAnswerDropped
            | Fault::PublicPathReachable
            | Fault::ZoneTooBroad => self.associate_zone,
            Fault::ZoneNotServed => self.endpoint_zones.iter().any(|z| z == "usw2-az3"),
            Fault::KafkaPortDropped | Fault::HttpsPortDropped | Fault::AzDown | Fault::NoNat => self.open_ports,
            Fault::PortRefused | Fault::PlaintextListener | Fault::ZoneListenerRefused => self.serve_listeners,
            Fault::CertWrongName
            | Fault::ExpiredCert
            | Fault::ExpiringCert
            | Fault::CertNotYetValid
            | Fault::ZoneCertWrongName => self.serve_certificate,
            Fault::IntermediateMissing | Fault::IntermediateExpired => self.serve_chain,
            Fault::CachedNxdomain => self.cache_expired,
            _ => false,
        };
        !undone
    }
}

/// A running lab; everything stops when it is dropped.
pub struct Lab {
    /// The fault in force (the first, when several are).
    pub fault: Fault,
    /// Every fault in force.
    pub faults: Vec<Fault>,
    /// The layout played.
    pub layout: LabLayout,
    /// The bootstrap `host:port`.
    pub bootstrap: String,
    /// The zone answering the cluster's names (the private hosted zone, or the endpoint's own).
    pub domain: String,
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
    other_ca: Option<String>,
    _dir: tempfile::TempDir,
    dns: Vec<DnsServer>,
    _listeners: Vec<Listener>,
    kafka: MockKafka,
}

impl Lab {
    /// The lab's Kafka cluster, to plant topics, errors and coordinators in, and to read the
    /// requests it received.
    pub fn kafka(&self) -> &MockKafka {
        &self.kafka
    }

    /// Starts the lab with `fault` in force and [`LAB_BROKERS`] brokers.
    pub async fn start(fault: Fault) -> Result<Lab, LabError> {
        Self::start_with_brokers(fault, LAB_BROKERS).await
    }

    /// Starts the lab with `fault` in force and `broker_count` brokers spread over the zones, in
    /// the fault's own layout (see [`Fault::layout`]) or the default one.
    pub async fn start_with_brokers(fault: Fault, broker_count: usize) -> Result<Lab, LabError> {
        Self::start_layout(fault.layout().unwrap_or_default(), fault, broker_count).await
    }

    /// Starts the lab in `layout` with `fault` in force and `broker_count` brokers.
    pub async fn start_layout(layout: LabLayout, fault: Fault, broker_count: usize) -> Result<Lab, LabError> {
        Self::start_faults(layout, &[fault], broker_count).await
    }

    /// Starts the lab in `layout` with every one of `faults` in force at once (e.g. one zone's
    /// record wrong and another zone's address dead), and `broker_count` brokers.
    pub async fn start_faults(layout: LabLayout, faults: &[Fault], broker_count: usize) -> Result<Lab, LabError> {
        Self::start_patched(layout, faults, broker_count, &Patch::default()).await
    }

    /// As [`Lab::start_faults`], with `patch` applied over the faults: what a user does when
    /// following a finding's fix (create or change exactly the record it names, serve the
    /// certificate it names, give the endpoint the zone it names, …).
    pub async fn start_patched(
        layout: LabLayout,
        faults: &[Fault],
        broker_count: usize,
        patch: &Patch,
    ) -> Result<Lab, LabError> {
        let fault = faults.iter().copied().find(|f| *f != Fault::None).unwrap_or(Fault::None);
        let has = |f: Fault| faults.contains(&f) && patch.leaves(f);
        let mut names = Self::validate(layout, faults, broker_count)?;
        if has(Fault::AccessPointOther) {
            names.use_other_access_point();
        }
        let all_azs = lab_azs();
        // The zones the endpoint has an interface in.
        let azs: Vec<LabAz> =
            all_azs.iter().filter(|az| !(has(Fault::ZoneNotServed) && az.az_id == "usw2-az3")).cloned().collect();
        let root = Ca::new("kreach lab root CA")?;
        let dir = tempfile::Builder::new().prefix("kreach-lab-").tempdir()?;
        let ca_file = dir.path().join("lab-ca.pem");
        std::fs::write(&ca_file, root.cert_pem())?;
        // Servers send their leaf with the intermediate that issued it, as public CAs' customers do.
        let validity = if has(Fault::IntermediateExpired) { Validity::Expired } else { Validity::Days(365) };
        let ca = root.intermediate("kreach lab intermediate CA", validity)?;

        let brokers = broker_names(&mut names, &all_azs, broker_count, &has);

        let LabZones { domain, private, vpce, public, glb_copy, aws, other_region, created } =
            lab_zones(&names, &all_azs, &azs, &has, &patch.records);

        let public_dns = DnsServer::start(SocketAddr::new(PUBLIC_RESOLVER.into(), 0), &public).await?;
        let public_resolver = public_dns.addr();
        // The VPC resolver recurses for names outside its zones (here: to the lab's public DNS).
        let upstream = (!has(Fault::GlbChaseFailed)).then_some(public_resolver);
        let mut dns = vec![public_dns];
        let resolver = match fault {
            _ if has(Fault::ResolverDown) => free_udp_port(VPC_RESOLVER.into()).await?,
            _ if has(Fault::ZoneNotAssociated)
                || has(Fault::PublicAnswerDropped)
                || has(Fault::PublicPathReachable) =>
            {
                // Without the association the VPC resolver answers what public DNS says.
                let mut zones = vec![aws];
                zones.extend(glb_copy);
                let server =
                    DnsServer::start_forwarding(SocketAddr::new(VPC_RESOLVER.into(), 0), &zones, upstream).await?;
                let addr = server.addr();
                dns.push(server);
                addr
            }
            _ if has(Fault::CachedNxdomain) => {
                // The zones' authority, without the wildcard until the bootstrap has been asked once
                // through a caching resolver in front of it (the VPC's): that resolver keeps the
                // NXDOMAIN for the negative TTL while the record exists.
                let wildcard = format!("*.{domain}");
                let early = Zone {
                    origin: private.origin.clone(),
                    records: private.records.iter().filter(|(n, _)| *n != wildcard).cloned().collect(),
                };
                let rest = [vpce, aws, Zone::new(ELSEWHERE_ZONE), other_region];
                let before: Vec<Zone> = std::iter::once(early).chain(rest.iter().cloned()).collect();
                let after: Vec<Zone> = std::iter::once(private).chain(rest).collect();
                let authority =
                    DnsServer::start_late(SocketAddr::new(VPC_RESOLVER.into(), 0), &before, &after, upstream).await?;
                let front = DnsServer::start_caching(SocketAddr::new(VPC_RESOLVER.into(), 0), authority.addr()).await?;
                front.ask(&names.bootstrap).await;
                authority.publish();
                let addr = front.addr();
                dns.push(authority);
                dns.push(front);
                addr
            }
            _ => {
                let blocked: Vec<String> = match (&names.glb, has(Fault::GlbHopBlocked)) {
                    (Some((zone, _)), true) => vec![zone.clone()],
                    _ => Vec::new(),
                };
                let mut zones = vec![private, vpce, aws, Zone::new(ELSEWHERE_ZONE), other_region];
                zones.extend(created);
                zones.extend(glb_copy.filter(|_| !has(Fault::GlbChaseFailed)));
                let bind = SocketAddr::new(VPC_RESOLVER.into(), 0);
                let server = DnsServer::start_filtered(bind, &zones, upstream, &blocked).await?;
                let addr = server.addr();
                dns.push(server);
                addr
            }
        };

        let (kafka_tls, https_tls, api_tls, zone_tls, other_ca) = certificates(&ca, &names, &all_azs, &has)?;

        let tls = LabTls { kafka: kafka_tls, https: https_tls, api: api_tls, zone: zone_tls };
        let Served { kafka_port, https_port, kafka, listeners } = serve(&azs, &brokers, &tls, &has).await?;

        Ok(Lab {
            fault,
            faults: faults.iter().copied().filter(|f| *f != Fault::None).collect(),
            layout,
            bootstrap: format!("{}:{kafka_port}", names.bootstrap),
            domain,
            kafka_port,
            https_port,
            resolver,
            public_resolver,
            azs,
            brokers,
            ca_file,
            other_ca,
            _dir: dir,
            dns,
            _listeners: listeners,
            kafka,
        })
    }

    /// Whether `faults` can be played in `layout` with `broker_count` brokers: the layout's names.
    fn validate(layout: LabLayout, faults: &[Fault], broker_count: usize) -> Result<Names, LabError> {
        if let Some(f) = faults.iter().find(|f| f.labs() == Labs::NetnsOnly) {
            return Err(LabError::Setup(format!(
                "fault `{f}` is served only by the network-namespace lab (tests/netns_lab.rs, needs root); \
                 `kreach lab --list-faults` says which lab serves each fault"
            )));
        }
        if !(1..=1000).contains(&broker_count) {
            return Err(LabError::Setup(format!("{broker_count} brokers: the lab runs 1 to 1000")));
        }
        if let Some(f) = faults.iter().find(|f| f.min_brokers() > broker_count) {
            return Err(LabError::Setup(format!(
                "fault `{f}` needs at least {} brokers (--brokers {}); the lab was asked for {broker_count}, so it \
                 would not be in force",
                f.min_brokers(),
                f.min_brokers()
            )));
        }
        let names = Names::of(layout);
        for &f in faults {
            let applies = match f {
                Fault::ZonalRecordMissing
                | Fault::ZonalRecordByAzName
                | Fault::ZonalRecordDangling
                | Fault::ZoneNotServed
                | Fault::ZoneCertWrongName => names.zonal,
                Fault::RecordOtherEndpoint | Fault::RecordOtherRegion => !names.addresses,
                Fault::ZonalRecordPublic => names.zonal && names.glb.is_none(),
                Fault::WildcardMissing | Fault::CnameDangling => !names.addresses,
                Fault::CachedNxdomain => !names.addresses && names.glb.is_none(),
                Fault::ZoneTooBroad => names.zonal,
                Fault::GlbChaseFailed | Fault::GlbHopBlocked => names.glb.is_some(),
                Fault::AccessPointOther => layout == LabLayout::AccessPoint,
                _ => true,
            };
            if !applies {
                return Err(LabError::Setup(format!("fault `{f}` does not apply to layout `{layout}`")));
            }
        }
        Ok(names)
    }

    /// The lab CA's PEM file (what `--ca-file` takes).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The root CA (PEM) of a chain the lab serves that the lab CA file does not hold (the
    /// unknown-ca fault's), for a test that follows a fix to trust it.
    pub fn other_ca_pem(&self) -> Option<&str> {
        self.other_ca.as_deref()
    }

    /// Every question the VPC resolver was asked so far, in order: `(name, record type)`. Empty
    /// when the resolver is down.
    pub fn resolver_queries(&self) -> Vec<(String, String)> {
        self.dns.iter().find(|d| d.addr() == self.resolver).map(DnsServer::queries).unwrap_or_default()
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

    /// The `kreach check` arguments that add the endpoints around Kafka: the private Schema
    /// Registry name, the AWS APIs (an interface endpoint, or the public service) and Confluent's
    /// public APIs, all on the lab's HTTPS port.
    pub fn endpoint_args(&self) -> Vec<String> {
        vec![
            "--schema-registry".into(),
            format!("https://lsrc-lab01.{}:{}", self.domain, self.https_port),
            "--aws-apis".into(),
            "--aws-region".into(),
            LAB_REGION.into(),
            "--confluent-apis".into(),
            "--api-port".into(),
            self.https_port.to_string(),
        ]
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
        for (k, v) in self.client_properties() {
            args.extend(["-X".to_string(), format!("{k}={v}")]);
        }
        args
    }

    /// The client properties the lab's faults set (a fault of the client's own configuration).
    pub fn client_properties(&self) -> Vec<(&'static str, &'static str)> {
        self.faults.iter().flat_map(|f| f.client_properties()).copied().collect()
    }
}

/// The endpoint's TLS configurations: the Kafka and HTTPS listeners', the API endpoints', and
/// the one usw2-az2 serves when it serves another.
struct LabTls {
    kafka: Tls,
    https: Tls,
    api: Tls,
    zone: Option<(Tls, Tls)>,
}

/// What the lab serves: the ports, the cluster behind them, the listeners to keep alive.
struct Served {
    kafka_port: u16,
    https_port: u16,
    kafka: MockKafka,
    listeners: Vec<Listener>,
}

/// Binds every port of the endpoint's addresses (and those beyond it some faults lead to) in the
/// state the faults ask for, starts the cluster behind them and routes each broker name to it.
async fn serve(
    azs: &[LabAz],
    brokers: &[String],
    tls: &LabTls,
    has: &dyn Fn(Fault) -> bool,
) -> Result<Served, LabError> {
    let (kafka_tls, https_tls, api_tls, zone_tls) = (&tls.kafka, &tls.https, &tls.api, &tls.zone);
    // Every port is bound once, already in the state the fault asks for (serving, dropping
    // SYNs, refusing): see `bind_same_port`. The endpoint's addresses first, then (HTTPS) the
    // API endpoints, then addresses beyond the endpoint some faults lead to.
    let az2 = |az: &LabAz| az.az_id == "usw2-az2";
    let mut kafka_addrs: Vec<(IpAddr, Port)> = azs
        .iter()
        .map(|az| {
            let kind = if (has(Fault::AzDown) && az2(az)) || has(Fault::KafkaPortDropped) {
                Port::Blackhole
            } else if has(Fault::PortRefused) || (has(Fault::ZoneListenerRefused) && az2(az)) {
                Port::Refuse
            } else {
                Port::Serve
            };
            (IpAddr::V4(az.eni), kind)
        })
        .collect();
    let mut https_addrs: Vec<(IpAddr, Port)> = azs
        .iter()
        .map(|az| {
            let dead = (has(Fault::AzDown) && az2(az)) || has(Fault::HttpsPortDropped);
            (IpAddr::V4(az.eni), if dead { Port::Blackhole } else { Port::Serve })
        })
        .collect();
    let internet_kind = if has(Fault::NoNat) { Port::Blackhole } else { Port::Serve };
    https_addrs.extend([(IpAddr::V4(LAB_AWS_API_ADDR), Port::Serve), (IpAddr::V4(LAB_INTERNET_ADDR), internet_kind)]);
    // Beyond the endpoint: the public answer's address (where a private subnet's SYNs go
    // unanswered, or the public path that answers), another VPC's or region's endpoint.
    let mut beyond: Vec<(IpAddr, Port)> = Vec::new();
    if has(Fault::PublicAnswerDropped) {
        beyond.push((IpAddr::V4(LAB_PUBLIC_ADDR), Port::Blackhole));
    }
    if has(Fault::PublicPathReachable) {
        beyond.push((IpAddr::V4(LAB_PUBLIC_ADDR), Port::Serve));
    }
    if has(Fault::RecordOtherEndpoint) {
        beyond.push((IpAddr::V4(OTHER_ENDPOINT_ADDR), Port::Blackhole));
    }
    if has(Fault::RecordOtherRegion) {
        beyond.push((IpAddr::V4(OTHER_REGION_ADDR), Port::Blackhole));
    }
    kafka_addrs.extend(beyond.iter().copied());
    https_addrs.extend(beyond.iter().copied());
    let az_count = azs.len();
    let (kafka_port, mut kafka_sockets) = bind_same_port(&kafka_addrs)?;
    let (https_port, mut https_sockets) = bind_same_port(&https_addrs)?;
    let kafka_beyond: Vec<_> = kafka_sockets.drain(az_count..).collect();
    let https_beyond: Vec<_> = https_sockets.drain(az_count + 2..).collect();
    let internet = https_sockets.pop().ok_or_else(|| LabError::Setup("no internet listener".into()))?;
    let aws_api = https_sockets.pop().ok_or_else(|| LabError::Setup("no AWS API listener".into()))?;
    let advertised: Vec<(String, u16)> = brokers.iter().map(|b| (b.clone(), kafka_port)).collect();
    let kafka = MockKafka::start(&advertised)?;
    let mut routes = Routes::default();
    // A dead broker behind a working endpoint: its route leads to a port that refuses.
    // (A broker that is really down drops out of Metadata, where no client could see it.)
    let (_, mut dead) = bind_same_port(&[(IpAddr::V4(Ipv4Addr::LOCALHOST), Port::Refuse)])?;
    let dead = Listener::from_port(dead.remove(0), Behaviour::PlainHttp).await?;
    for ((id, addr), name) in kafka.listeners.iter().zip(brokers) {
        let backend = if has(Fault::BrokerDown) && *id == 4 { dead.addr() } else { *addr };
        routes.by_name.insert(name.clone(), backend);
    }
    let mut listeners = vec![dead];
    // The bootstrap name reaches broker 1.
    routes.default = kafka.listeners.first().map(|(_, a)| *a);
    let routes = Arc::new(routes);
    // What answers beyond the endpoint serves the cluster too (the public path), when it answers.
    for k in kafka_beyond {
        listeners.push(Listener::from_port(k, Behaviour::TlsForward(kafka_tls.clone(), routes.clone())).await?);
    }
    for h in https_beyond {
        listeners.push(Listener::from_port(h, Behaviour::TlsHttp(https_tls.clone())).await?);
    }

    listeners.push(Listener::from_port(aws_api, Behaviour::TlsHttp(api_tls.clone())).await?);
    listeners.push(Listener::from_port(internet, Behaviour::TlsHttp(api_tls.clone())).await?);
    for ((k, h), az) in kafka_sockets.into_iter().zip(https_sockets).zip(azs) {
        let (kafka_tls, https_tls) = match (&zone_tls, az2(az)) {
            (Some((k, h)), true) => (k.clone(), h.clone()),
            _ => (kafka_tls.clone(), https_tls.clone()),
        };
        listeners.push(Listener::from_port(k, Behaviour::TlsForward(kafka_tls, routes.clone())).await?);
        let https = if has(Fault::PlaintextListener) { Behaviour::PlainHttp } else { Behaviour::TlsHttp(https_tls) };
        listeners.push(Listener::from_port(h, https).await?);
    }
    Ok(Served { kafka_port, https_port, kafka, listeners })
}

/// An address with a UDP port nothing listens on (a resolver that is down).
async fn free_udp_port(ip: IpAddr) -> Result<SocketAddr, LabError> {
    let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
    Ok(socket.local_addr()?)
}
/// The cluster: broker i+1 in zone i % 3, advertising its name on the endpoint's port.
fn broker_names(names: &mut Names, azs: &[LabAz], broker_count: usize, has: &dyn Fn(Fault) -> bool) -> Vec<String> {
    (0..broker_count)
        .map(|i| {
            let az = &azs[i % azs.len()];
            if has(Fault::BrokerNameUnresolvable) && i == 2 {
                format!("b{}.{}.{ELSEWHERE_ZONE}", i + 1, az.az_id)
            } else {
                names.broker(i + 1, az.az_id)
            }
        })
        .collect()
}

/// The TLS configurations: the endpoint's Kafka and HTTPS listeners (its certificate covers the
/// provider's names, unless a fault says otherwise), and the API endpoints'; the one usw2-az2
/// serves when it serves another; the PEM of a root CA the lab CA file does not hold.
type Tls = Arc<rustls::ServerConfig>;

#[allow(clippy::type_complexity)]
fn certificates(
    ca: &Ca,
    names: &Names,
    azs: &[LabAz],
    has: &dyn Fn(Fault) -> bool,
) -> Result<(Tls, Tls, Tls, Option<(Tls, Tls)>, Option<String>), LabError> {
    let az_ids: Vec<&str> = azs.iter().map(|az| az.az_id).collect();
    let cert_names = names.certificate_names(&az_ids);
    let cert_names: Vec<&str> = cert_names.iter().map(String::as_str).collect();
    let mut other_ca = None;
    let leaf = if has(Fault::CertWrongName) {
        ca.leaf(&["other-service.example.net"], Validity::Days(90))?
    } else if has(Fault::UnknownCa) {
        // Something in between presents its own chain: a root nobody here trusts, an intermediate.
        let root = Ca::new("Unknown Interception CA")?;
        other_ca = Some(root.cert_pem().to_string());
        root.intermediate("Unknown Interception CA intermediate", Validity::Days(365))?
            .leaf(&cert_names, Validity::Days(90))?
    } else if has(Fault::ExpiredCert) {
        ca.leaf(&cert_names, Validity::Expired)?
    } else if has(Fault::CertNotYetValid) {
        ca.leaf(&cert_names, Validity::NotYetValid)?
    } else if has(Fault::ExpiringCert) {
        ca.leaf(&cert_names, Validity::Days(10))?
    } else {
        ca.leaf(&cert_names, Validity::Days(90))?
    };
    let leaf = if has(Fault::IntermediateMissing) { leaf.alone() } else { leaf };
    let kafka_tls = server_config(&leaf, &[])?;
    let https_tls = server_config(&leaf, &[b"http/1.1"])?;
    // usw2-az2 serves a certificate for the cluster's names without its own zone's.
    let zone_tls = if has(Fault::ZoneCertWrongName) {
        let zone = format!("usw2-az2.{}", names.domain);
        let without: Vec<&str> = cert_names.iter().copied().filter(|n| !n.ends_with(&zone)).collect();
        let leaf = ca.leaf(&without, Validity::Days(90))?;
        Some((server_config(&leaf, &[])?, server_config(&leaf, &[b"http/1.1"])?))
    } else {
        None
    };
    let api_names = [format!("*.{AWS_ZONE}"), CONFLUENT_APEX.to_string(), format!("*.{CONFLUENT_APEX}")];
    let api_names: Vec<&str> = api_names.iter().map(String::as_str).collect();
    let api_tls = server_config(&ca.leaf(&api_names, Validity::Days(90))?, &[b"http/1.1"])?;
    Ok((kafka_tls, https_tls, api_tls, zone_tls, other_ca))
}

/// The zones the lab's DNS serves.
struct LabZones {
    /// The zone answering the cluster's names.
    domain: String,
    /// The private hosted zone.
    private: Zone,
    /// The endpoint's own names.
    vpce: Zone,
    /// Public DNS.
    public: Vec<Zone>,
    /// The glb zone, for the VPC resolver to follow into the private zone.
    glb_copy: Option<Zone>,
    /// The AWS APIs' names.
    aws: Zone,
    /// Another region's endpoint names.
    other_region: Zone,
    /// Private zones a patch creates beside the cluster's (a record of another domain: the user
    /// created that zone, associated it with the VPC and put the record in it).
    created: Vec<Zone>,
}

/// The zones of the lab in its layout with its faults, `patch` applied to the private zone last.
/// `all_azs` are the cluster's zones, `served` those the endpoint has an interface in.
fn lab_zones(
    names: &Names,
    all_azs: &[LabAz],
    served: &[LabAz],
    has: &dyn Fn(Fault) -> bool,
    patch: &[(String, String)],
) -> LabZones {
    let azs = all_azs;
    let other_region_name = format!("{VPCE_NAME}.{OTHER_REGION_ZONE}");
    let other_region =
        Zone::new(OTHER_REGION_ZONE).with(&other_region_name, Rdata::Addr(IpAddr::V4(OTHER_REGION_ADDR)));
    // DNS: the zone answering the cluster's names (wildcard + per-AZ wildcards → vpce names,
    // or the endpoint's own addresses) and the vpce zone.
    let regional = format!("{VPCE_NAME}.{VPCE_ZONE}");
    let domain = names.domain.clone();
    let mut private = Zone::new(&domain);
    let mut vpce = Zone::new(VPCE_ZONE).with(OTHER_VPCE, Rdata::Addr(IpAddr::V4(OTHER_ENDPOINT_ADDR)));
    if names.addresses {
        for az in served {
            private = private.with(&format!("*.{domain}"), Rdata::Addr(IpAddr::V4(az.eni)));
        }
    }
    if names.addresses || has(Fault::WildcardMissing) {
    } else if has(Fault::CnameDangling) {
        // A record left pointing at a replaced endpoint's name.
        private = private.with(&format!("*.{domain}"), Rdata::Cname(DEAD_VPCE.into()));
    } else if has(Fault::RecordOtherEndpoint) {
        private = private.with(&format!("*.{domain}"), Rdata::Cname(OTHER_VPCE.into()));
    } else if has(Fault::RecordOtherRegion) {
        private = private.with(&format!("*.{domain}"), Rdata::Cname(other_region_name.clone()));
    } else {
        private = private.with(&format!("*.{domain}"), Rdata::Cname(regional.clone()));
    }
    let public_zonal = format!("public-usw2-az2.{PUBLIC_ZONE}");
    let zonal_name = |az_id: &str| {
        azs.iter().find(|az| az.az_id == az_id).map(|az| format!("{VPCE_NAME}-{}.{VPCE_ZONE}", az.az_name))
    };
    let patched: Vec<(String, String)> = patch
        .iter()
        .map(|(name, target)| {
            let target = match target.strip_prefix("VPCE_ZONAL:") {
                Some(az) => zonal_name(az).unwrap_or_else(|| target.clone()),
                None if target == "VPCE_REGIONAL" => regional.clone(),
                None => target.clone(),
            };
            (name.trim_end_matches('.').to_ascii_lowercase(), target)
        })
        .collect();
    for az in azs {
        let zonal = format!("{VPCE_NAME}-{}.{VPCE_ZONE}", az.az_name);
        let affected = az.az_id == "usw2-az2";
        if !names.zonal || (has(Fault::ZonalRecordMissing) && affected) {
        } else if has(Fault::ZonalRecordByAzName) && affected {
            private = private.with(&format!("*.{}.{domain}", az.az_name), Rdata::Cname(zonal.clone()));
        } else if has(Fault::ZonalRecordPublic) && affected {
            // The zonal record leads to a public name: that zone's brokers get a public address.
            private = private.with(&format!("*.{}.{domain}", az.az_id), Rdata::Cname(public_zonal.clone()));
        } else if has(Fault::ZonalRecordDangling) && affected {
            // Left pointing at a replaced endpoint's zonal name.
            let dead = format!("{}-{}.{VPCE_ZONE}", DEAD_VPCE.split('.').next().unwrap_or_default(), az.az_name);
            private = private.with(&format!("*.{}.{domain}", az.az_id), Rdata::Cname(dead));
        } else {
            private = private.with(&format!("*.{}.{domain}", az.az_id), Rdata::Cname(zonal.clone()));
        }
        // The endpoint's own names exist only in the zones it has an interface in.
        if served.iter().any(|s| s.az_id == az.az_id) {
            vpce = vpce.with(&regional, Rdata::Addr(IpAddr::V4(az.eni))).with(&zonal, Rdata::Addr(IpAddr::V4(az.eni)));
        }
    }
    let mut created: Vec<Zone> = Vec::new();
    for (name, target) in &patched {
        let inside = name.strip_prefix("*.").unwrap_or(name);
        if inside == domain || inside.ends_with(&format!(".{domain}")) {
            private.records.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            private = private.with(name, Rdata::Cname(target.clone()));
        } else {
            created.push(Zone::new(inside).with(name, Rdata::Cname(target.clone())));
        }
    }
    // Public DNS: the Confluent dedicated names have a public answer (an address nothing here
    // reaches); the glb zone's CNAMEs; the public service names of the APIs.
    let public_lb = format!("public-lb.{PUBLIC_ZONE}");
    let mut public = vec![
        Zone::new(CONFLUENT_APEX)
            .with(CONFLUENT_APEX, Rdata::Addr(IpAddr::V4(LAB_INTERNET_ADDR)))
            .with(&format!("api.{CONFLUENT_APEX}"), Rdata::Addr(IpAddr::V4(LAB_INTERNET_ADDR))),
    ];
    let mut glb_copy = None;
    match &names.glb {
        None => public.push(
            Zone::new(PUBLIC_ZONE)
                .with(&format!("*.{LAB_DOMAIN}"), Rdata::Cname(public_lb.clone()))
                .with(&public_lb, Rdata::Addr(IpAddr::V4(LAB_PUBLIC_ADDR)))
                .with(&public_zonal, Rdata::Addr(IpAddr::V4(LAB_PUBLIC_ADDR))),
        ),
        Some((zone, records)) => {
            // Public DNS holds the glb CNAMEs; the names they lead to exist only privately.
            let mut glb = Zone::new(zone);
            for (name, target) in records {
                glb = glb.with(name, Rdata::Cname(target.clone()));
            }
            public.push(glb.clone());
            public.push(Zone::new(&domain));
            // The VPC resolver gets the glb CNAME from the public authority and follows it into
            // the private zone (Route 53 Resolver's recursion): the lab's resolver holds a copy of
            // the glb zone for that, since a forwarder would follow the CNAME upstream instead.
            glb_copy = Some(glb);
        }
    }
    // The AWS APIs: an interface endpoint in the VPC (private DNS on), or the public service.
    let api_addr = if has(Fault::AwsApiPublic) { LAB_INTERNET_ADDR } else { LAB_AWS_API_ADDR };
    let mut aws = Zone::new(AWS_ZONE);
    for service in AWS_SERVICES {
        aws = aws.with(&format!("{service}.{AWS_ZONE}"), Rdata::Addr(IpAddr::V4(api_addr)));
    }
    if has(Fault::ZoneTooBroad) {
        // The same records, in a zone named after the domain's parent.
        if let Some((_, parent)) = domain.split_once('.') {
            private.origin = parent.to_string();
        }
    }
    LabZones { domain, private, vpce, public, glb_copy, aws, other_region, created }
}

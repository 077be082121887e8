//! What a finding blames, as data: the hop of the path, the kind of failure there, the
//! certificate of a chain, and the fix as an action a script (or the lab) can carry out.
//!
//! Everything that reads findings (the verdict's integrity, zones, merge, fleet, metrics, the
//! HTML path) reads these fields, never a summary: rewording a message cannot change a verdict.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A hop of the path from this machine to the cluster, in path order: the first hop that fails
/// is the cause of everything after it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Hop {
    /// What was given to kreach (a flag, a name, a setting it refused).
    Input,
    /// Where kreach runs (a Lambda function outside the VPC, a machine outside AWS).
    Vantage,
    /// The VPC's resolver and what stands in front of it (DNS Firewall, Resolver rules, VPC DNS).
    Resolver,
    /// Public DNS, for the hops a name takes there (a glb name's first CNAME).
    PublicDns,
    /// The private hosted zone: whether it exists and answers for this VPC.
    Zone,
    /// A record of the zone: missing, pointing at the wrong name, dangling.
    Record,
    /// The VPC endpoint: its state, its zones (network interfaces), its own DNS.
    Endpoint,
    /// The network between this machine and the endpoint: security groups, network ACLs, routes.
    Network,
    /// What listens on the port behind the endpoint (nothing, plaintext, not Kafka).
    Listener,
    /// The certificate chain the server presents (the server's side fixes it).
    Certificate,
    /// This machine's trust store (the CA bundle).
    Trust,
    /// This machine's clock.
    Clock,
    /// The client's authentication: mechanism, credentials.
    Authentication,
    /// What the credentials may do (ACLs, role bindings, IAM permissions).
    Authorization,
    /// The cluster's own answers (Metadata, topics).
    Cluster,
    /// An advertised broker: its name, its port, whether it answers.
    Broker,
    /// The client's own configuration as librdkafka reads it.
    Client,
    /// A Lambda event source mapping or the Lambda Sink Connector.
    Mapping,
    /// The AWS audit itself (denied, unavailable).
    Aws,
    /// kreach's own limits.
    Kreach,
    /// Not said (a report from an older kreach).
    #[default]
    Unknown,
}

impl Hop {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Hop::Input => "input",
            Hop::Vantage => "vantage",
            Hop::Resolver => "resolver",
            Hop::PublicDns => "public_dns",
            Hop::Zone => "zone",
            Hop::Record => "record",
            Hop::Endpoint => "endpoint",
            Hop::Network => "network",
            Hop::Listener => "listener",
            Hop::Certificate => "certificate",
            Hop::Trust => "trust",
            Hop::Clock => "clock",
            Hop::Authentication => "authentication",
            Hop::Authorization => "authorization",
            Hop::Cluster => "cluster",
            Hop::Broker => "broker",
            Hop::Client => "client",
            Hop::Mapping => "mapping",
            Hop::Aws => "aws",
            Hop::Kreach => "kreach",
            Hop::Unknown => "unknown",
        }
    }

    /// Every hop, in path order.
    pub const ALL: &'static [Hop] = &[
        Hop::Input,
        Hop::Vantage,
        Hop::Resolver,
        Hop::PublicDns,
        Hop::Zone,
        Hop::Record,
        Hop::Endpoint,
        Hop::Network,
        Hop::Listener,
        Hop::Certificate,
        Hop::Trust,
        Hop::Clock,
        Hop::Authentication,
        Hop::Authorization,
        Hop::Cluster,
        Hop::Broker,
        Hop::Client,
        Hop::Mapping,
        Hop::Aws,
        Hop::Kreach,
        Hop::Unknown,
    ];

    /// Looks a hop up by its JSON spelling.
    pub fn from_name(name: &str) -> Option<Hop> {
        Hop::ALL.iter().copied().find(|h| h.as_str() == name)
    }
}

/// The kind of failure at the blamed hop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Cause {
    /// Nothing answered (a timeout, no response).
    NoAnswer,
    /// An error answer (SERVFAIL, REFUSED, an error code).
    ErrorAnswer,
    /// The thing does not exist (NXDOMAIN, no such record, zone, topic, function).
    NotFound,
    /// The name exists without an address.
    NoData,
    /// A resolver answers from a negative answer it cached before the record existed.
    CachedNegative,
    /// The answer came from public DNS: the private path is not in effect.
    PublicAnswer,
    /// Private and public answers mixed.
    MixedAnswer,
    /// A record points somewhere other than where it should.
    WrongTarget,
    /// A record leads to another VPC endpoint than this VPC's.
    OtherEndpoint,
    /// A record leads to a VPC endpoint in another region than the cluster's.
    OtherRegion,
    /// A record points at a name that does not resolve.
    Dangling,
    /// A CNAME chain loops or is too long.
    Loop,
    /// Something that cannot be valid (a name, a port, a value).
    Invalid,
    /// A rule blocks or diverts it (DNS Firewall, a FORWARD rule, a network ACL deny).
    Blocked,
    /// Packets are dropped (connects time out).
    Dropped,
    /// Connections are refused.
    Refused,
    /// No route to the addresses.
    NoRoute,
    /// Some addresses fail, others pass.
    Partial,
    /// A path drops large packets without telling (path-MTU black hole).
    PathMtu,
    /// The certificate does not cover the name dialled.
    WrongName,
    /// A certificate has expired.
    Expired,
    /// A certificate is not valid yet.
    NotYetValid,
    /// A certificate expires soon.
    ExpiringSoon,
    /// The chain leads to no trusted CA.
    UntrustedIssuer,
    /// The server does not send the certificates between its leaf and a trusted root.
    IncompleteChain,
    /// A certificate of the chain cannot do its part (not a CA, wrong key usage, issuer mismatch).
    BadChain,
    /// The peer does not speak TLS.
    NotTls,
    /// The peer does not speak Kafka.
    NotKafka,
    /// The client's protocol does not match the listener's.
    WrongProtocol,
    /// The handshake failed otherwise.
    HandshakeFailed,
    /// The SASL mechanism is not enabled.
    MechanismUnsupported,
    /// The credentials were rejected.
    Rejected,
    /// No credentials were given.
    NoCredentials,
    /// Credentials were not sent (plaintext or unverified TLS).
    Withheld,
    /// Configured but not verified by kreach.
    Unverified,
    /// Not authorized.
    NotAuthorized,
    /// Metadata failed.
    MetadataFailed,
    /// A resource is not in a usable state (an endpoint pending, a connection rejected).
    Unavailable,
    /// A zone has no part of the resource (no endpoint interface, no subnet there).
    NotCovered,
    /// A setting is off that must be on.
    Disabled,
    /// A setting differs from what the layout needs.
    Misconfigured,
    /// Something the path needs is missing (a rule, an association, a permission).
    Missing,
    /// A read was denied.
    Denied,
    /// A secret or file could not be read.
    Unreadable,
    /// A broker or coordinator is down or unreachable behind a working endpoint.
    Down,
    /// Works now, but slower or more fragile than it should be.
    Degraded,
    /// An input was given and not used.
    Ignored,
    /// kreach's own cap cut the work short.
    Capped,
    /// No specific diagnosis explains it.
    Unexplained,
    /// A fact, nothing failing.
    Informational,
    /// Not said (a report from an older kreach).
    #[default]
    Unknown,
}

/// A certificate of a chain, as the finding blames it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct CertificateRef {
    /// Its position in the chain the server sent: 0 is the leaf, 1 the certificate that issued
    /// it, and so on; the position just past the end is the issuer the server did not send.
    pub position: usize,
    /// Its subject (for an issuer not sent: the issuer named by the last certificate).
    pub subject: String,
    /// Its issuer.
    pub issuer: String,
}

/// Where a record should point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordTarget {
    /// A name given outright (it resolved when kreach checked, or the audit read it).
    Name {
        /// The target name.
        name: String,
    },
    /// This VPC's endpoint's regional DNS name (`name` when kreach knows it).
    EndpointRegional {
        /// The name, when known (the audit read it, or the chain of a name that works showed it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// This VPC's endpoint's zonal DNS name in a zone (`name` when kreach knows it).
    EndpointZonal {
        /// The zone's AZ ID.
        az_id: String,
        /// The name, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
}

/// The fix as an action: what to change, typed, beside the fix's text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FixAction {
    /// Create (or change) the CNAME record `name` in the private hosted zone to `target`.
    SetRecord {
        /// The record's full name (`*.` wildcards included).
        name: String,
        /// Where it must point.
        target: RecordTarget,
    },
    /// Associate the private hosted zone `zone` with the VPC (create it first if it is missing).
    AssociateZone {
        /// The zone's name (the cluster's DNS domain).
        zone: String,
    },
    /// Give the VPC endpoint a subnet (a network interface) in a zone.
    AddEndpointZone {
        /// The zone's AZ ID.
        az_id: String,
    },
    /// Let the port through between this machine and the endpoint (security groups, network
    /// ACLs, routes), for every zone or for one.
    AllowPort {
        /// The port.
        port: u16,
        /// The zone whose path drops it, when it is one zone's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        az_id: Option<String>,
    },
    /// Make the VPC's resolver reachable and answering (or point the client at one that is).
    ReachResolver {
        /// The resolver that failed.
        resolver: String,
    },
    /// Let the VPC's resolver follow the public hop of a name (DNS Firewall, outbound resolution).
    ReachPublicDns {
        /// The name whose public hop failed.
        name: String,
    },
    /// Serve on the port the listener the client is configured for (the endpoint service
    /// forwards the port, the service behind it listens and speaks the protocol the client does).
    ServeListener {
        /// The port.
        port: u16,
    },
    /// Serve a current certificate that covers these names.
    ServeCertificate {
        /// Names the certificate must cover.
        names: Vec<String>,
        /// The zone whose addresses serve the wrong one, when it is one zone's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        az_id: Option<String>,
    },
    /// Send the whole chain up to a trusted root, each certificate current.
    ServeChain {
        /// The certificate the server must send (or replace).
        certificate: CertificateRef,
    },
    /// Trust this CA on this machine (`--ca-file`, `ssl.ca.location`).
    TrustCa {
        /// The CA's subject.
        issuer: String,
    },
    /// Set this machine's clock right (NTP).
    SetClock,
    /// Nothing to change: wait for a resolver's cached negative answer for the name to expire
    /// (or flush it from a resolver you run), then ask again.
    WaitForCache {
        /// The name whose negative answer is cached.
        name: String,
        /// At most how long it stays cached, in seconds (the negative answer's TTL), when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seconds: Option<u32>,
    },
    /// Set a client property.
    SetProperty {
        /// The property, as librdkafka spells it.
        key: String,
        /// Its value.
        value: String,
    },
    /// Give the client credentials the cluster accepts.
    SetCredentials,
    /// The provider's side: a broker to restore or its advertised listener to correct.
    FixBroker {
        /// The broker's node id.
        node_id: i32,
    },
}

/// The kind of change a fix asks for: what a test checks a fix against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FixClass {
    /// A record of the private zone.
    Record,
    /// The private zone itself.
    Zone,
    /// The VPC endpoint.
    Endpoint,
    /// Security groups, network ACLs, routes.
    Network,
    /// The resolver or the DNS path.
    Resolver,
    /// The listener behind the endpoint.
    Listener,
    /// The server's certificate chain.
    Certificate,
    /// This machine's trust store.
    Trust,
    /// This machine's clock.
    Clock,
    /// The client's configuration.
    Client,
    /// The provider's side (a broker).
    Broker,
}

impl FixAction {
    /// The kind of change.
    pub fn class(&self) -> FixClass {
        match self {
            FixAction::SetRecord { .. } => FixClass::Record,
            FixAction::AssociateZone { .. } => FixClass::Zone,
            FixAction::AddEndpointZone { .. } => FixClass::Endpoint,
            FixAction::AllowPort { .. } => FixClass::Network,
            FixAction::ReachResolver { .. } | FixAction::ReachPublicDns { .. } | FixAction::WaitForCache { .. } => {
                FixClass::Resolver
            }
            FixAction::ServeListener { .. } => FixClass::Listener,
            FixAction::ServeCertificate { .. } | FixAction::ServeChain { .. } => FixClass::Certificate,
            FixAction::TrustCa { .. } => FixClass::Trust,
            FixAction::SetClock => FixClass::Clock,
            FixAction::SetProperty { .. } | FixAction::SetCredentials => FixClass::Client,
            FixAction::FixBroker { .. } => FixClass::Broker,
        }
    }
}

//! The AWS audit as the report keeps it: the endpoint, its interfaces and zones, the security
//! groups, network ACLs, Resolver rules and DNS Firewall, transit routes, the private hosted zone and
//! its records, and the calls the credentials may not make. Read-only: Describe/List/Get only.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The AWS side, read with Describe/List/Get calls only.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsAudit {
    /// Region audited.
    pub region: Option<String>,
    /// Why the audit did not run (no credentials, no reachable API), when it did not.
    pub unavailable: Option<String>,
    /// The interface endpoint.
    pub endpoint: Option<AwsEndpoint>,
    /// AZ name ↔ AZ ID for the region.
    pub availability_zones: Vec<AwsZone>,
    /// The endpoint's security groups' inbound rules, per port checked.
    pub ingress: Vec<AwsIngress>,
    /// Every inbound TCP rule of the endpoint's security groups, as read (the analysis checks the
    /// ports the brokers advertise against them).
    #[serde(default)]
    pub ingress_rules: Vec<AwsIngressRule>,
    /// The endpoint VPC's DNS attributes.
    pub vpc: Option<AwsVpc>,
    /// The private hosted zone named after the cluster's domain.
    pub hosted_zone: Option<AwsHostedZone>,
    /// The records the private zone needs for this endpoint.
    pub expected_records: Vec<DnsRecord>,
    /// The private hosted zones associated with the endpoint's VPC (`ListHostedZonesByVPC`), read
    /// only when the cluster's zone is missing there: another network's or access point's zone
    /// says the VPC is connected elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpc_zones: Vec<String>,
    /// API calls refused (AccessDenied), with the permission they need.
    pub denied: Vec<AwsDenied>,
    /// Other API errors.
    pub errors: Vec<String>,
    /// Every API action called, in order (all read-only).
    pub calls: Vec<String>,
    /// The probe's own security groups (its EC2 instance's or Lambda function's), as read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probe_security_groups: Vec<String>,
    /// Their outbound TCP rules, as read: `source` is the destination.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probe_egress_rules: Vec<AwsIngressRule>,
    /// The Route 53 Resolver rules associated with the probe's and the endpoint's VPCs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolver_rules: Vec<AwsResolverRule>,
    /// The Route 53 Resolver DNS Firewall rule groups associated with those VPCs, in the order
    /// the resolver applies them (association priority, then rule priority).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_firewall: Vec<AwsFirewallRuleGroup>,
    /// The Resolver query logging configurations associated with those VPCs: where the answers
    /// the VPC's resolver gave are logged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_logs: Vec<AwsQueryLogConfig>,
    /// When the probe sits in another VPC than the endpoint (a transit gateway or peering between
    /// them): the routes each way and the transit gateway attachments' zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit: Option<AwsTransit>,
    /// Other interface endpoints the private hosted zone's records point at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_endpoints: Vec<AwsOtherEndpoint>,
    /// For Amazon MSK multi-VPC private connectivity: the managed VPC connection in the client's
    /// VPC (`kafka:ListVpcConnections`), its state and its security groups' inbound rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msk_vpc_connection: Option<AwsMskVpcConnection>,
    /// The network ACLs of the endpoint's subnets and of the probe's own subnet, as read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_acls: Vec<AwsNetworkAcl>,
    /// Confluent's Private Network Interface (PNI), when the VPC has no interface endpoint: the
    /// network interfaces in it that Confluent's account may attach (an `INSTANCE-ATTACH`
    /// permission) or has attached, with their security groups' rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pni_interfaces: Vec<super::pni::AwsPniInterface>,
    /// The event source mapping's network and role, when a mapping was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source_mapping: Option<crate::report::EsmAudit>,
    /// The Lambda Sink Connector's principal and function, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sink_connector: Option<crate::report::ConnectorAudit>,
    /// Wall time of the audit in milliseconds.
    pub elapsed_ms: u64,
}

impl AwsAudit {
    /// An audit that did not run, and why.
    pub fn unavailable(why: impl Into<String>) -> Self {
        AwsAudit { unavailable: Some(why.into()), ..Default::default() }
    }
}

/// An interface VPC endpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsEndpoint {
    /// `vpce-…`.
    pub id: String,
    /// `Interface`, `Gateway`, …
    pub endpoint_type: String,
    /// `available`, `pendingAcceptance`, `rejected`, …
    pub state: String,
    /// The service it connects to.
    pub service_name: String,
    /// The region of the service it connects to (`ServiceRegion`, cross-region PrivateLink since
    /// late 2024), else the region the service name carries
    /// (`com.amazonaws.vpce.<region>.vpce-svc-…`); `None` when neither says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_region: Option<String>,
    /// Its VPC.
    pub vpc_id: String,
    /// Whether the endpoint's own private DNS is on.
    pub private_dns_enabled: bool,
    /// Its security groups.
    pub security_groups: Vec<String>,
    /// Its subnets.
    pub subnets: Vec<String>,
    /// Its DNS names (the regional one first).
    pub dns_names: Vec<String>,
    /// One network interface per zone.
    pub interfaces: Vec<AwsInterface>,
}

/// One endpoint network interface.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsInterface {
    /// `eni-…`.
    pub id: String,
    /// Its subnet.
    pub subnet_id: String,
    /// AZ name, e.g. `us-west-2a`.
    pub az_name: String,
    /// AZ ID, e.g. `usw2-az1`.
    pub az_id: String,
    /// Its private address.
    pub ip: String,
}

/// AZ name ↔ AZ ID.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct AwsZone {
    /// e.g. `us-west-2a`.
    pub name: String,
    /// e.g. `usw2-az1`.
    pub id: String,
}

/// Whether the endpoint's security groups admit a port.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsIngress {
    /// TCP port.
    pub port: u16,
    /// Whether an inbound rule admits it.
    pub allowed: bool,
    /// The rules that admit it, as text.
    pub rules: Vec<String>,
    /// The same rules, structured: which group admits the port from which source.
    #[serde(default)]
    pub sources: Vec<AwsIngressSource>,
}

/// One inbound rule's source for a port.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AwsIngressSource {
    /// The endpoint's security group holding the rule.
    pub group_id: String,
    /// What the rule admits: a CIDR, a security group id (`sg-…`) or a prefix list id (`pl-…`).
    pub source: String,
}

/// A Route 53 Resolver rule associated with a VPC.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsResolverRule {
    /// `rslvr-rr-…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The domain it covers (lower case, no trailing dot; empty for the root).
    pub domain: String,
    /// `FORWARD`, `SYSTEM` or `RECURSIVE`; `UNKNOWN` for a rule associated with the VPC that the
    /// listing did not reach (nothing is then said about the VPC's rules).
    pub rule_type: String,
    /// Where a FORWARD rule sends the queries, `ip:port`.
    pub targets: Vec<String>,
    /// The VPC it is associated with.
    pub vpc_id: String,
}

/// An Amazon MSK managed VPC connection, as the client's account lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsMskVpcConnection {
    /// The VPC looked in.
    pub vpc_id: String,
    /// False when the account has no VPC connection in that VPC.
    pub found: bool,
    /// Its ARN.
    pub arn: String,
    /// The cluster it connects to.
    pub target_cluster_arn: String,
    /// `AVAILABLE`, `CREATING`, `REJECTED`, `FAILED`, `INACTIVE`, `DELETING`, …
    pub state: String,
    /// Its client subnets.
    pub subnets: Vec<String>,
    /// Its security groups.
    pub security_groups: Vec<String>,
    /// Their inbound TCP rules, as read (the brokers listen on 14001-14100).
    pub ingress_rules: Vec<AwsIngressRule>,
}

/// Another interface endpoint a record of the private hosted zone points at, as EC2 describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsOtherEndpoint {
    /// `vpce-…`.
    pub id: String,
    /// False when EC2 has no such endpoint (deleted, or in another account).
    pub found: bool,
    /// The service it leads to.
    pub service_name: String,
    /// Its state.
    pub state: String,
    /// Its VPC.
    pub vpc_id: String,
}

/// The endpoint id in an interface endpoint's DNS name (`vpce-0abc…-xyz.vpce-svc-….<region>.vpce.amazonaws.com`,
/// or the zonal form): the first label's `vpce-<hex>`, when a later label shows an endpoint name
/// (`vpce`, `vpce-svc-…`).
pub fn endpoint_of(name: &str) -> Option<String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let mut labels = name.split('.');
    let first = labels.next()?;
    if !labels.any(|l| l == "vpce" || l.starts_with("vpce-svc-")) {
        return None;
    }
    let id = first.strip_prefix("vpce-")?;
    let hex: String = id.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (hex.len() >= 8).then(|| format!("vpce-{hex}"))
}

/// A DNS Firewall rule group associated with a VPC.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsFirewallRuleGroup {
    /// `rslvr-frg-…`.
    pub id: String,
    /// The association's name.
    pub name: String,
    /// The VPC it is associated with.
    pub vpc_id: String,
    /// The association's priority (lower first).
    pub priority: i64,
    /// Its rules, by priority.
    pub rules: Vec<AwsFirewallRule>,
}

/// One DNS Firewall rule and the domains of its list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsFirewallRule {
    /// Its name.
    pub name: String,
    /// Its priority within the group (lower first).
    pub priority: i64,
    /// `ALLOW`, `BLOCK` or `ALERT`.
    pub action: String,
    /// For BLOCK: `NODATA`, `NXDOMAIN` or `OVERRIDE`.
    pub block_response: Option<String>,
    /// For an OVERRIDE: the name answered instead.
    pub block_override_domain: Option<String>,
    /// `INSPECT_REDIRECTION_DOMAIN` (the default: every name a CNAME leads to is judged too) or
    /// `TRUST_REDIRECTION_DOMAIN`.
    pub redirection: String,
    /// `rslvr-fdl-…`.
    pub domain_list_id: String,
    /// The list's domains (lower case, no trailing dot; `*.x` covers x's subdomains, `*` all).
    pub domains: Vec<String>,
    /// False when the list's domains could not be read (an AWS-managed list does not show them).
    pub domains_read: bool,
}

/// The path between the probe's VPC and the endpoint's, as the route tables and transit gateway
/// attachments describe it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsTransit {
    /// The probe's VPC.
    pub probe_vpc: String,
    /// The probe's subnet, with its CIDR and zone, when known.
    pub probe_subnet: Option<AwsSubnetInfo>,
    /// The endpoint's subnets.
    pub endpoint_subnets: Vec<AwsSubnetInfo>,
    /// From the probe's subnet to each endpoint subnet.
    pub routes_out: Vec<AwsRouteLookup>,
    /// From each endpoint subnet back to the probe's subnet.
    pub routes_back: Vec<AwsRouteLookup>,
    /// The transit gateway VPC attachments of both VPCs.
    pub attachments: Vec<AwsTgwAttachment>,
}

/// A subnet's place.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsSubnetInfo {
    /// `subnet-…`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Its IPv4 CIDR.
    pub cidr: String,
    /// Its zone's AZ ID.
    pub az_id: String,
}

/// Which route a subnet's route table uses toward a CIDR (longest prefix that covers it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsRouteLookup {
    /// The subnet whose table was read.
    pub subnet: String,
    /// Its route table (explicit association, else the VPC's main table).
    pub route_table: Option<String>,
    /// The CIDR looked up (the other side's subnet).
    pub toward: String,
    /// The route's destination, when one covers it.
    pub destination: Option<String>,
    /// Its target: `tgw-…`, `pcx-…`, `local`, `igw-…`, `nat-…`, an ENI.
    pub target: Option<String>,
    /// The route's state (`active`, `blackhole`).
    pub state: Option<String>,
}

impl AwsRouteLookup {
    /// Whether the route leads to the other VPC: through a transit gateway or peering, active.
    pub fn crosses(&self) -> bool {
        self.target.as_deref().is_some_and(|t| t.starts_with("tgw-") || t.starts_with("pcx-"))
            && self.state.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("active"))
    }
}

/// A transit gateway VPC attachment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsTgwAttachment {
    /// `tgw-attach-…`.
    pub id: String,
    /// `tgw-…`.
    pub transit_gateway_id: String,
    /// The VPC attached.
    pub vpc_id: String,
    /// `available`, `pending`, …
    pub state: String,
    /// The attachment's subnets.
    pub subnets: Vec<String>,
    /// Their zones' AZ IDs (traffic from a zone without one cannot reach the transit gateway).
    pub az_ids: Vec<String>,
}

/// A Resolver query logging configuration associated with a VPC.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsQueryLogConfig {
    /// `rslvr-qlc-…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The VPC it logs.
    pub vpc_id: String,
    /// Where the logs go (a CloudWatch Logs group, S3 bucket or Firehose stream ARN).
    pub destination_arn: String,
}

/// A network ACL and the subnets it governs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsNetworkAcl {
    /// `acl-…`.
    pub id: String,
    /// The subnets associated with it (of those the audit asked about).
    pub subnets: Vec<String>,
    /// Its rules, both directions, in rule-number order.
    pub entries: Vec<AwsAclEntry>,
}

/// One rule of a network ACL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsAclEntry {
    /// Rule number: the lowest matching rule decides (32767 is the final `*` deny).
    pub rule_number: u32,
    /// Outbound (true) or inbound.
    pub egress: bool,
    /// `allow` (true) or `deny`.
    pub allow: bool,
    /// Protocol number: `-1` all, `6` TCP, `17` UDP, …
    pub protocol: String,
    /// The peer range (IPv4 or IPv6 CIDR).
    pub cidr: String,
    /// TCP/UDP port range; `None` for all ports.
    pub ports: Option<(u16, u16)>,
}

impl AwsAclEntry {
    /// A rule (for tests and embedders).
    pub fn new(
        rule_number: u32,
        egress: bool,
        allow: bool,
        protocol: &str,
        cidr: &str,
        ports: Option<(u16, u16)>,
    ) -> Self {
        AwsAclEntry { rule_number, egress, allow, protocol: protocol.into(), cidr: cidr.into(), ports }
    }

    /// Whether it applies to TCP `port` in its direction.
    pub fn covers_tcp(&self, egress: bool, port: u16) -> bool {
        self.egress == egress
            && (self.protocol == "-1" || self.protocol == "6" || self.protocol.eq_ignore_ascii_case("tcp"))
            && self.ports.is_none_or(|(from, to)| from <= port && port <= to)
    }
}

impl AwsNetworkAcl {
    /// What the ACL does with TCP `port` in a direction, to or from `peer`: the deciding rule
    /// (`None`: the final `*` rule, a deny) and whether it allows. With the peer unknown, only an
    /// answer that holds for every peer: `None` as soon as some peers would be allowed.
    pub fn decide(
        &self,
        egress: bool,
        port: u16,
        peer: Option<std::net::IpAddr>,
    ) -> Option<(bool, Option<&AwsAclEntry>)> {
        let mut rules: Vec<&AwsAclEntry> = self.entries.iter().filter(|e| e.covers_tcp(egress, port)).collect();
        rules.sort_by_key(|e| e.rule_number);
        for e in rules.into_iter().filter(|e| e.rule_number < 32767) {
            let net: Option<ipnet::IpNet> = e.cidr.parse().ok();
            // Every IPv4 client (an IPv6 rule covers only some of them).
            let everyone = net.is_some_and(|n| n.prefix_len() == 0 && matches!(n, ipnet::IpNet::V4(_)));
            match peer {
                Some(ip) if net.is_some_and(|n| n.contains(&ip)) => return Some((e.allow, Some(e))),
                Some(_) => {}
                None if everyone => return Some((e.allow, Some(e))),
                // Some peers would be allowed here: no verdict for "whoever the client is".
                None if e.allow => return None,
                None => {}
            }
        }
        Some((false, None))
    }
}

/// One inbound rule of an endpoint security group that admits TCP.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsIngressRule {
    /// The security group holding the rule.
    pub group_id: String,
    /// First port admitted (0 with `all_traffic`).
    pub from_port: u16,
    /// Last port admitted.
    pub to_port: u16,
    /// The rule admits every protocol and port (`-1`).
    pub all_traffic: bool,
    /// What it admits: a CIDR, a security group id (`sg-…`) or a prefix list id (`pl-…`).
    pub source: String,
}

impl AwsIngressRule {
    /// A rule of `group_id` admitting TCP `from_port..=to_port` (or everything) from `source`.
    pub fn new(group_id: &str, from_port: u16, to_port: u16, all_traffic: bool, source: &str) -> Self {
        AwsIngressRule { group_id: group_id.into(), from_port, to_port, all_traffic, source: source.into() }
    }

    /// Whether it admits TCP `port`.
    pub fn admits(&self, port: u16) -> bool {
        self.all_traffic || (self.from_port <= port && port <= self.to_port)
    }
}

/// A VPC's DNS attributes.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct AwsVpc {
    /// `vpc-…`.
    pub id: String,
    /// enableDnsSupport.
    pub dns_support: bool,
    /// enableDnsHostnames.
    pub dns_hostnames: bool,
}

/// The private hosted zone for the cluster's domain.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AwsHostedZone {
    /// Zone id.
    pub id: String,
    /// Zone name.
    pub name: String,
    /// Whether it is associated with the endpoint's VPC.
    pub associated: bool,
    /// The VPCs it is associated with.
    pub vpcs: Vec<String>,
    /// Its CNAME records (wildcards included).
    pub records: Vec<DnsRecord>,
}

/// One DNS record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct DnsRecord {
    /// Owner name, e.g. `*.usw2-az1.abc123.us-west-2.aws.confluent.cloud`.
    pub name: String,
    /// `CNAME`.
    pub record_type: String,
    /// Target.
    pub value: String,
    /// Time to live in seconds, when the source says (Route 53 does; an expected record does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

impl DnsRecord {
    /// A record of `record_type` from `name` to `value`, TTL unknown.
    pub fn new(name: impl Into<String>, record_type: impl Into<String>, value: impl Into<String>) -> Self {
        DnsRecord { name: name.into(), record_type: record_type.into(), value: value.into(), ttl: None }
    }

    /// The same record with its TTL.
    pub fn with_ttl(mut self, ttl: Option<u64>) -> Self {
        self.ttl = ttl;
        self
    }
}

/// An API call the credentials may not make.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct AwsDenied {
    /// The IAM action, e.g. `route53:ListResourceRecordSets`.
    pub action: String,
    /// The error message.
    pub message: String,
}

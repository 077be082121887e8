//! The `network` section: which private-connectivity layout the cluster uses, and what it needs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A private-connectivity layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Layout {
    /// A Confluent Cloud dedicated cluster's PrivateLink network: a private hosted zone named
    /// after the network's DNS domain, wildcard and per-AZ-ID records.
    ConfluentDedicated,
    /// A Confluent Cloud PrivateLink Attachment (ingress gateway) for serverless products: one
    /// regional private zone per environment.
    ConfluentPrivateLinkAttachment,
    /// Confluent Cloud access points.
    ConfluentAccessPoint,
    /// Confluent Cloud's Private Network Interface (Enterprise and Freight clusters on AWS): no VPC
    /// endpoint, network interfaces in the customer's subnets that Confluent's account attaches.
    /// Known only from the AWS audit (the interfaces); the names do not say it.
    ConfluentPni,
    /// Amazon MSK multi-VPC private connectivity (managed VPC connections, ports 14001-14100).
    MskMultiVpc,
    /// Redpanda Cloud over PrivateLink: the endpoint's own private DNS answers.
    Redpanda,
    /// Any other Kafka: no provider's rules apply.
    Generic,
}

impl Layout {
    /// The layout in words.
    pub fn as_words(self) -> &'static str {
        match self {
            Layout::ConfluentDedicated => "Confluent dedicated cluster (PrivateLink network)",
            Layout::ConfluentPrivateLinkAttachment => "Confluent PrivateLink Attachment (serverless gateway)",
            Layout::ConfluentAccessPoint => "Confluent access point",
            Layout::ConfluentPni => "Confluent Private Network Interface (PNI)",
            Layout::MskMultiVpc => "Amazon MSK multi-VPC private connectivity",
            Layout::Redpanda => "Redpanda Cloud PrivateLink",
            Layout::Generic => "generic Kafka",
        }
    }
}

/// How the cluster's names resolve to the endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Resolution {
    /// "Chased private": a public CNAME (the glb hop) leads into the private zone, so the VPC
    /// resolver must reach the public authority too.
    ChasedPrivate,
    /// "Private": the private hosted zone answers every name itself.
    Private,
    /// The VPC endpoint's own private DNS answers (no customer zone).
    EndpointPrivateDns,
    /// Not known.
    Unknown,
}

/// Where the cluster's DNS domain came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DomainSource {
    /// `--dns-domain`.
    Flag,
    /// The provider's naming scheme (e.g. a glb name's network id).
    NamingScheme,
    /// The CNAME chain the DNS stage saw.
    CnameChain,
    /// The bootstrap name's parent, for want of anything better.
    BootstrapParent,
}

/// The cluster's DNS domain: the private hosted zone's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ClusterDomain {
    /// e.g. `q7x2p.eu-central-1.aws.confluent.cloud`.
    pub name: String,
    /// Where it came from.
    pub source: DomainSource,
    /// The same, in words.
    pub detail: String,
}

impl ClusterDomain {
    /// A domain, lower-cased, without a trailing dot.
    pub fn new(name: &str, source: DomainSource, detail: &str) -> Self {
        ClusterDomain { name: name.trim_end_matches('.').to_ascii_lowercase(), source, detail: detail.to_string() }
    }
}

/// Whether a layout needs something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Need {
    /// Must be there.
    Required,
    /// Must not be there.
    Forbidden,
    /// Not part of this layout.
    NotUsed,
    /// Not documented in what kreach's rules come from: nothing is flagged.
    Unknown,
}

/// What a layout needs, from its provider's documentation.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct LayoutRules {
    /// A customer-created private hosted zone named after the domain.
    pub private_zone: Need,
    /// The records that zone holds.
    pub records: Vec<String>,
    /// Per-AZ-ID records (`*.<az-id>.<domain>`).
    pub zonal_records: Need,
    /// The VPC endpoint's own private DNS.
    pub endpoint_private_dns: Need,
    /// The VPC resolver reaching the public authority for the first (glb) CNAME.
    pub public_dns_chase: Need,
    /// The records' TTL the provider's guidance uses, in seconds.
    pub record_ttl: Option<u64>,
    /// Where the rules come from (a documentation URL), or why they are unknown.
    pub source: String,
}

/// The `network` section: the layout, and why kreach thinks so.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct NetworkSection {
    /// The layout recognised.
    pub layout: Layout,
    /// How its names resolve.
    pub resolution: Resolution,
    /// The cluster's DNS domain, with where it came from (absent for layouts without a customer zone).
    pub domain: Option<ClusterDomain>,
    /// Why: the names, the CNAME chain and the endpoint, in words.
    pub evidence: Vec<String>,
    /// What the layout needs.
    pub rules: LayoutRules,
    /// The Kafka and HTTPS ports in use: the bootstrap's, the HTTPS port and every advertised broker's.
    pub ports: Vec<u16>,
}

/// The event source mapping's side, read with Describe/Get/List calls only.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct EsmAudit {
    /// The mapping's subnets: zone, route to the internet.
    pub subnets: Vec<EsmSubnet>,
    /// The mapping's security groups' outbound rules, per port that must be open.
    pub egress: Vec<EsmEgress>,
    /// How each AWS API the mapping needs is reached from its subnets.
    pub api_routes: Vec<EsmApiRoute>,
    /// The function's execution role.
    pub role: Option<String>,
    /// The pollers' system-log errors of the last day (`logs:FilterLogEvents` on the function's
    /// log group, `ESM_PROCESSING_EVENT`s of this mapping), by error code, most frequent first;
    /// `None` when not read (no `LoggingConfig.SystemLogLevel`, or the read failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_log_errors: Option<Vec<EsmLogError>>,
    /// The services its trust policy lets assume it (`iam:GetRole`); `None` when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_trusted_services: Option<Vec<String>>,
    /// The on-failure destination's own resource policy, judged for the role's send; `None` when
    /// there is no AWS destination or it could not be read (the error is in the audit's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_policy: Option<DestinationPolicy>,
    /// The permissions the role needs.
    pub permissions: Vec<PermissionCheck>,
    /// How the permissions were judged (simulation, or the role's policies evaluated).
    pub permission_method: Option<String>,
    /// For an Amazon MSK mapping: the cluster whose subnets and security groups its pollers use
    /// (Lambda's hyperplane ENI sits there), from `kafka:DescribeClusterV2`. The subnets, egress
    /// and API routes above are then the cluster's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msk_cluster: Option<MskCluster>,
}

/// An on-failure destination's resource policy (SQS queue, SNS topic, S3 bucket) as it judges the
/// execution role's send.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct DestinationPolicy {
    /// The destination's ARN.
    pub arn: String,
    /// The call the pollers make there: `sqs:SendMessage`, `sns:Publish`, `s3:PutObject`.
    pub action: String,
    /// What the call is judged on (a bucket's objects: `arn:…:bucket/*`).
    pub resource: String,
    /// The destination is in another account than the role: its policy must allow the role.
    pub cross_account: bool,
    /// It has a resource policy (`false`: none, which allows nothing to another account).
    pub has_policy: bool,
    /// The policy's verdict on the role's call: `denied` (a statement denies it), `conditional` (a
    /// statement kreach does not evaluate may deny it, or, from another account, may be what
    /// allows it), `not-allowed` (from another account: no statement allows it), `allowed` (from
    /// another account: a statement allows it; in the role's account: nothing in it denies, and
    /// the role's own policy decides, in `permissions`).
    pub verdict: PermissionVerdict,
    /// The statements that decided, by `Sid` (else their position, `#1`).
    pub statements: Vec<String>,
    /// Why the policy of a destination in another account could not be read (the verdict is then
    /// `unknown`: not verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_error: Option<String>,
}

/// The Amazon MSK cluster an MSK mapping polls, as far as its network goes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct MskCluster {
    /// The cluster's ARN.
    pub arn: String,
    /// `ACTIVE`, `CREATING`, …
    pub state: String,
    /// The client subnets (provisioned) or the VPC configuration's subnets (serverless).
    pub subnets: Vec<String>,
    /// The cluster's security groups: the pollers' too.
    pub security_groups: Vec<String>,
    /// The broker port the mapping's authentication uses (9096 SASL/SCRAM, 9094 mutual TLS or
    /// unauthenticated TLS, 9098 IAM, 9092 plaintext).
    pub broker_ports: Vec<u16>,
    /// Per broker port: whether the cluster's groups admit traffic from themselves, as Lambda
    /// requires.
    pub self_ingress: Vec<EsmEgress>,
    /// The cluster is in another account than the mapping: its pollers reach it through a
    /// managed VPC connection in the mapping's account (MSK multi-VPC private connectivity), whose
    /// subnets and groups are then the ones above.
    #[serde(default)]
    pub cross_account: bool,
    /// That VPC connection's ARN (`kafka:ListVpcConnections`); `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_connection: Option<String>,
    /// The cluster's name (`clusterName`), when read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// A serverless cluster (IAM only; `kafka:DescribeClusterV2` is the only describe it answers).
    #[serde(default)]
    pub serverless: bool,
    /// The pollers authenticate with IAM (the execution role signs): the mapping names no secret
    /// and the cluster has IAM on (every serverless cluster; a cross-account one reached through a
    /// VPC connection, which serves no unauthenticated access).
    #[serde(default)]
    pub iam_auth: bool,
}

/// One subnet of the mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct EsmSubnet {
    /// `subnet-…`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// AZ name.
    pub az_name: String,
    /// AZ ID.
    pub az_id: String,
    /// Its route table (explicit association, else the VPC's main table).
    pub route_table: Option<String>,
    /// The NAT gateway (or internet gateway) its default route leads to, when there is one.
    pub internet_route: Option<String>,
    /// Its IPv4 CIDR block (what a CIDR rule must cover to admit the pollers), when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
}

/// Whether the mapping's security groups let one port out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct EsmEgress {
    /// TCP port.
    pub port: u16,
    /// What it must reach: `0.0.0.0/0` (443, the AWS APIs) or the endpoint (the Kafka port).
    pub needs: String,
    /// Whether an outbound rule lets it out.
    pub allowed: bool,
    /// The rules that do, as `group → destination`.
    pub rules: Vec<String>,
}

/// How one AWS API is reached from the mapping's subnets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct EsmApiRoute {
    /// `lambda`, `sts`, `secretsmanager`.
    pub service: String,
    /// An interface endpoint for `com.amazonaws.<region>.<service>` with private DNS in the VPC.
    pub interface_endpoint: Option<String>,
    /// Subnets without either a NAT route or that endpoint.
    pub unrouted_subnets: Vec<String>,
    /// The service is the mapping's on-failure destination's (SQS, SNS, S3): needed whatever the
    /// poller mode.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub destination: bool,
    /// The route is the schema registry's: AWS Glue's API (`glue`), or a Confluent or
    /// self-managed registry's host (no interface endpoint applies: NAT, or its own private
    /// endpoint); needed by the provisioned pollers that use it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub schema_registry: bool,
}

/// Whether a principal may make one call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct PermissionCheck {
    /// e.g. `ec2:CreateNetworkInterface`.
    pub action: String,
    /// On what (`*` or an ARN).
    pub resource: String,
    /// `allowed`, `denied` (explicitly), `not-allowed` (no statement allows it), `conditional`, `unknown`.
    pub verdict: PermissionVerdict,
}

/// What IAM's evaluation (or kreach's reading of the identity policies) says of one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PermissionVerdict {
    /// A statement allows it and nothing may deny it.
    Allowed,
    /// A statement denies it explicitly.
    Denied,
    /// No statement allows it (an implicit deny).
    NotAllowed,
    /// It depends on a condition or a variable kreach cannot know.
    Conditional,
    /// Not judged (no resource to judge it on, no policy readable).
    #[default]
    Unknown,
}

impl PermissionVerdict {
    /// The verdict's stable label (its JSON spelling).
    pub fn as_label(self) -> &'static str {
        match self {
            PermissionVerdict::Allowed => "allowed",
            PermissionVerdict::Denied => "denied",
            PermissionVerdict::NotAllowed => "not-allowed",
            PermissionVerdict::Conditional => "conditional",
            PermissionVerdict::Unknown => "unknown",
        }
    }
}

impl PermissionCheck {
    /// A verdict on `action` over `resource`.
    pub fn new(action: &str, resource: &str, verdict: PermissionVerdict) -> Self {
        PermissionCheck { action: action.into(), resource: resource.into(), verdict }
    }

    /// Whether the verdict is that it is not allowed (explicitly or for want of a statement).
    pub fn missing(&self) -> bool {
        matches!(self.verdict, PermissionVerdict::Denied | PermissionVerdict::NotAllowed)
    }
}

/// The Lambda Sink Connector's side: may its principal invoke the function, and does it exist.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ConnectorAudit {
    /// The principal whose keys the connector holds (`--sink-connector-principal`).
    pub principal: Option<String>,
    /// The function (`--lambda-function`), as given.
    pub function: Option<String>,
    /// Its ARN, when `lambda:GetFunction` found it.
    pub function_arn: Option<String>,
    /// Whether it exists in the region (`None`: could not be asked).
    pub function_found: Option<bool>,
    /// `lambda:InvokeFunction` and `lambda:GetFunction` on the function.
    pub permissions: Vec<PermissionCheck>,
    /// How the permissions were judged.
    pub permission_method: Option<String>,
}

/// One error code the mapping's pollers logged (`ESM_PROCESSING_EVENT`, `error.errorCode`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct EsmLogError {
    /// `error.errorCode` (`org.apache.kafka.common.errors.TopicAuthorizationException`, …).
    pub error_code: String,
    /// How many events of the window carried it.
    pub count: u32,
    /// The newest one's time, RFC 3339 UTC.
    pub last_time: String,
    /// The newest one's `error.errorMessage`, made inert and short.
    pub last_message: String,
}

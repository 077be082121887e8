//! The finding catalog: stable codes, their severity, what they mean.
//!
//! Codes are an API that scripts match on: never rename one; add new ones freely.
//! `docs/findings.md` documents every code and a test keeps the two in step.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::blame::{Cause, CertificateRef, FixAction, Hop};
use super::{DnsOutcome, Stage};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The cluster is not reachable (or not fully) the way it is meant to be.
    Error,
    /// Works now, but is fragile, slow, or about to break.
    Warning,
    /// A verdict worth knowing; nothing to fix.
    Info,
}

impl Severity {
    /// Lower-case name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

macro_rules! finding_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $severity:ident, $hop:ident, $cause:ident, $desc:literal; )*) => {
        /// Every finding kreach can report.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[non_exhaustive]
        pub enum FindingCode {
            $( $(#[$doc])* #[serde(rename = $code)] $variant, )*
        }

        impl FindingCode {
            /// All codes, in catalog order.
            pub const ALL: &'static [FindingCode] = &[ $(FindingCode::$variant,)* ];

            /// The stable kebab-case code.
            pub fn as_str(self) -> &'static str {
                match self { $(FindingCode::$variant => $code,)* }
            }

            /// What the code means, one sentence.
            pub fn description(self) -> &'static str {
                match self { $(FindingCode::$variant => $desc,)* }
            }

            /// The severity this code is reported with.
            pub fn severity(self) -> Severity {
                match self { $(FindingCode::$variant => Severity::$severity,)* }
            }

            /// The hop the code blames unless its finding says otherwise (a broker's name outside the
            /// cluster's domain blames the broker, not the record).
            pub fn hop(self) -> Hop {
                match self { $(FindingCode::$variant => Hop::$hop,)* }
            }

            /// The kind of failure the code stands for unless its finding says otherwise.
            pub fn cause(self) -> Cause {
                match self { $(FindingCode::$variant => Cause::$cause,)* }
            }

            /// Looks a code up by its kebab-case name.
            pub fn from_code(code: &str) -> Option<FindingCode> {
                match code { $($code => Some(FindingCode::$variant),)* _ => None }
            }
        }
    };
}

finding_codes! {
    DnsResolverUnreachable = "dns-resolver-unreachable", Error, Resolver, NoAnswer,
        "The DNS resolver did not answer (timeout, refused or network error), so nothing could be resolved.";
    DnsResolverError = "dns-resolver-error", Error, Resolver, ErrorAnswer,
        "The DNS resolver answered with an error (SERVFAIL, REFUSED, …) instead of an answer.";
    DnsNxdomain = "dns-nxdomain", Error, Record, NotFound,
        "The name does not exist (NXDOMAIN) for the resolver in use, and no public resolver says otherwise.";
    DnsNegativeCached = "dns-negative-cached", Error, Resolver, CachedNegative,
        "The resolver answers NXDOMAIN for the name from its cache while a record covers it now (a name never asked before under the same parent resolves): the record was created after the name was first asked; the answer expires with the negative TTL.";
    DnsZoneTooBroad = "dns-zone-too-broad", Warning, Zone, Misconfigured,
        "The private hosted zone answering for the cluster's domain is named above it (e.g. `us-west-2.aws.confluent.cloud` for `abc123.us-west-2.aws.confluent.cloud`): it answers every name under it in this VPC, so names that must resolve publicly (other clusters, Schema Registry, Confluent's public endpoints) get NXDOMAIN.";
    AwsEndpointServiceOtherRegion = "aws-endpoint-service-other-region", Error, Endpoint, OtherRegion,
        "The VPC endpoint connects to an endpoint service in another region than the cluster's (its ServiceRegion, or the region its service name carries): it leads to another provider network, not this cluster's.";
    AwsEndpointCrossRegion = "aws-endpoint-cross-region", Info, Endpoint, Informational,
        "The VPC endpoint is in another region than the service it connects to (cross-region PrivateLink): it works once the provider's service allows the endpoint's region, with inter-region latency and data-transfer charges.";
    DnsNoAddress = "dns-no-address", Error, Record, NoData,
        "The name exists but has no A/AAAA record (NOERROR, no data).";
    DnsPublicAnswer = "dns-public-answer", Error, Zone, PublicAnswer,
        "The name resolved to public addresses only: the private hosted zone is not in effect for this client.";
    DnsCnameLoop = "dns-cname-loop", Error, Record, Loop,
        "The name's CNAME chain loops back on itself: it can never resolve to an address.";
    DnsNameInvalid = "dns-name-invalid", Error, Input, Invalid,
        "The name cannot be encoded in DNS (a label over 63 characters, over 253 in all, characters no label carries): no resolver was asked and no client can resolve it.";
    DnsCnameChainTooLong = "dns-cname-chain-too-long", Error, Record, Loop,
        "The name's CNAME chain is longer than 16 hops (in one answer or hop by hop): clients give up before an address.";
    DnsCnameDangling = "dns-cname-dangling", Error, Record, Dangling,
        "A CNAME record exists but points at a name that does not resolve (e.g. a replaced VPC endpoint's DNS name).";
    DnsPublicChaseFailed = "dns-public-chase-failed", Error, Resolver, NoAnswer,
        "A glb name's first CNAME comes from public DNS, and the resolver could not get it: the VPC resolver must reach the public authority.";
    DnsMixedAnswer = "dns-mixed-answer", Warning, Record, MixedAnswer,
        "The name resolved to both private and public addresses: some connections will leave the private path.";
    DnsPrivateRecordMissing = "dns-private-record-missing", Error, Record, NotFound,
        "A private zone answers NXDOMAIN for the name while public DNS resolves it: the zone lacks the (wildcard) record.";
    DnsPrivateZoneInEffect = "dns-private-zone-in-effect", Info, Zone, Informational,
        "The name resolved to private addresses: the private hosted zone is in effect.";
    DnsPublicResolverUnreachable = "dns-public-resolver-unreachable", Info, PublicDns, NoAnswer,
        "The public resolver named with --public-resolver did not answer, so no public comparison was made.";
    TcpTimeout = "tcp-timeout", Error, Network, Dropped,
        "TCP connects timed out on every address: something drops the packets (security group, NACL, route).";
    TcpRefused = "tcp-refused", Error, Listener, Refused,
        "TCP connects were refused on every address: nothing listens on the port there, or a firewall rejects.";
    TcpUnreachable = "tcp-unreachable", Error, Network, NoRoute,
        "TCP connects failed with network/host unreachable on every address: no route to the addresses.";
    TcpSomeAddressesFailed = "tcp-some-addresses-failed", Error, Network, Partial,
        "TCP works on some resolved addresses but not on others: one endpoint network interface (one AZ) is broken.";
    TlsNameMismatch = "tls-name-mismatch", Error, Certificate, WrongName,
        "The server's certificate does not cover the host name that was dialled.";
    TlsUnknownIssuer = "tls-unknown-issuer", Error, Trust, UntrustedIssuer,
        "The server's certificate chain does not lead to a trusted CA (trust store plus --ca-file).";
    TlsExpired = "tls-expired", Error, Certificate, Expired,
        "The server's certificate has expired (or is not valid yet).";
    TlsExpiringSoon = "tls-expiring-soon", Warning, Certificate, ExpiringSoon,
        "The server's certificate expires within 30 days.";
    TlsNotTls = "tls-not-tls", Error, Listener, NotTls,
        "The peer answered the TLS ClientHello with something that is not TLS: a plaintext listener on a TLS port.";
    TlsHandshakeFailed = "tls-handshake-failed", Error, Listener, HandshakeFailed,
        "The TLS handshake failed for another reason (alert, reset, closed connection, timeout).";
    /// A handshake that stalls with the default segment size and completes with a clamped one.
    TlsPathMtuBlackhole = "tls-path-mtu-blackhole", Error, Network, PathMtu,
        "The TLS handshake stalls at the server's certificate flight but completes with a small TCP maximum segment size: the path drops large packets without ICMP \"fragmentation needed\" (a path-MTU black hole).";
    TlsVerificationDisabled = "tls-verification-disabled", Warning, Input, Unverified,
        "Certificate verification was turned off with --insecure: TLS results say nothing about trust or names.";
    HttpsNoResponse = "https-no-response", Error, Listener, NoAnswer,
        "TLS on the HTTPS port worked but no well-formed HTTP response came back.";
    KafkaNotKafka = "kafka-not-kafka", Error, Listener, NotKafka,
        "The connection works (TCP, TLS) but nothing answers the Kafka protocol on it.";
    KafkaProtocolMismatch = "kafka-protocol-mismatch", Error, Listener, WrongProtocol,
        "security.protocol does not match the listener: plaintext against a TLS listener, or TLS against a plaintext one.";
    KafkaSaslMechanismUnsupported = "kafka-sasl-mechanism-unsupported", Error, Authentication, MechanismUnsupported,
        "The broker does not enable the configured SASL mechanism (sasl.mechanism).";
    KafkaAuthFailed = "kafka-auth-failed", Error, Authentication, Rejected,
        "The broker rejected the SASL credentials.";
    KafkaNoCredentials = "kafka-no-credentials", Info, Authentication, NoCredentials,
        "No SASL credentials were given: the listener was proven with ApiVersions, but authentication, Metadata and the brokers were not checked.";
    KafkaMetadataFailed = "kafka-metadata-failed", Error, Cluster, MetadataFailed,
        "The broker answered ApiVersions but Metadata failed: the client cannot learn the brokers.";
    KafkaNoAnswer = "kafka-no-answer", Error, Listener, NoAnswer,
        "The connection works (TCP, TLS) but ApiVersions got no answer at all (the step's time ran out, or the connection was reset): something holds the connection without speaking Kafka.";
    KafkaCredentialsWithheld = "kafka-credentials-withheld", Warning, Authentication, Withheld,
        "SASL credentials were not sent because the connection was plaintext or its certificate unverified, and sending them that way was not explicitly allowed.";
    ProbeCapped = "probe-capped", Warning, Kreach, Capped,
        "A cap on the work cut the diagnosis short (more advertised brokers or more addresses per name than kreach probes): the rest was not checked.";
    BrokerPortInvalid = "broker-port-invalid", Error, Broker, Invalid,
        "The cluster advertises a broker on a port no client can connect to (0, negative, above 65535): every client fails on the partitions it leads.";
    UnexplainedFailure = "unexplained-failure", Error, Unknown, Unexplained,
        "A check failed and none of kreach's specific diagnoses explains it: the finding carries the failing cell's evidence, so the verdict never hides a failure.";
    InputRefused = "input-refused", Warning, Input, Ignored,
        "An input was given but not used, by the front end's policy (e.g. a Lambda event's own resolvers or CA while the function may send credentials): the run used the safe default instead.";
    ClientParityFailed = "client-parity-failed", Error, Client, ErrorAnswer,
        "kreach's own path works, but librdkafka with the user's exact configuration cannot fetch Metadata.";
    AwsEndpointNotAvailable = "aws-endpoint-not-available", Error, Endpoint, Unavailable,
        "The interface VPC endpoint is not `available` (pendingAcceptance, rejected, failed, …).";
    AwsAzNotCovered = "aws-az-not-covered", Error, Endpoint, NotCovered,
        "A broker's availability zone has no endpoint network interface: that zone's brokers cannot be reached privately.";
    AwsSgMissingIngress = "aws-sg-missing-ingress", Error, Network, Missing,
        "The endpoint's security groups have no inbound rule for a port the client needs (9092 or 443).";
    AwsVpcDnsDisabled = "aws-vpc-dns-disabled", Error, Resolver, Disabled,
        "The VPC's enableDnsSupport or enableDnsHostnames is off: private hosted zones do not answer there.";
    AwsPhzOtherNetwork = "aws-phz-other-network", Error, Zone, OtherEndpoint,
        "The VPC has no private hosted zone for the cluster's domain, but one for a sibling domain: another Confluent network's, or another access point's (each access point has its own domain). The bootstrap belongs to a network or access point this VPC is not connected to.";
    AwsPhzMissing = "aws-phz-missing", Error, Zone, NotFound,
        "No private hosted zone is named after the cluster's DNS domain.";
    AwsPhzNotAssociated = "aws-phz-not-associated", Error, Zone, Missing,
        "The private hosted zone exists but is not associated with the endpoint's VPC.";
    AwsPhzRecordMissing = "aws-phz-record-missing", Error, Record, NotFound,
        "The private hosted zone lacks a record the endpoint needs (`*` or `*.<az-id>`).";
    AwsPhzRecordWrongTarget = "aws-phz-record-wrong-target", Error, Record, WrongTarget,
        "A record in the private hosted zone points somewhere other than this endpoint.";
    AwsPhzRecordTtl = "aws-phz-record-ttl", Warning, Record, Degraded,
        "A record of the private hosted zone has a longer TTL than the provider's guidance (60 s): a change takes that long to reach clients.";
    AwsPrivateDnsDisabled = "aws-private-dns-disabled", Error, Endpoint, Disabled,
        "The endpoint's own private DNS is off in a layout that relies on it (no customer zone answers the names).";
    AwsPrivateDnsEnabled = "aws-private-dns-enabled", Warning, Endpoint, Misconfigured,
        "The endpoint's own private DNS is on, where the provider expects it off and the private hosted zone to answer.";
    AwsAccessDenied = "aws-access-denied", Warning, Aws, Denied,
        "The credentials may not make a read-only call the audit needs: part of the audit is missing.";
    AwsUnavailable = "aws-unavailable", Info, Aws, Unavailable,
        "The AWS audit did not run: no credentials, no region, or no AWS API reachable.";
    EnvLambdaNotInVpc = "env-lambda-not-in-vpc", Error, Vantage, Misconfigured,
        "kreach runs in a Lambda function that is not attached to a VPC (its configuration says so, or, when that cannot be read, its DNS answers are public).";
    EnvOutsideAws = "env-outside-aws", Info, Vantage, Informational,
        "kreach runs outside AWS (no EC2 metadata, not Lambda) and the names resolve publicly: private names will not resolve from here.";
    CredentialsSecretUnreadable = "credentials-secret-unreadable", Error, Authentication, Unreadable,
        "The secret named for the SASL credentials could not be read (denied, not found, Secrets Manager unreachable) or holds no user name and password.";
    BrokerDnsNxdomain = "broker-dns-nxdomain", Error, Record, NotFound,
        "The bootstrap works but an advertised broker name does not resolve.";
    BrokerUnreachable = "broker-unreachable", Error, Broker, Down,
        "An advertised broker fails (DNS, TCP, TLS or Kafka) while the cluster is otherwise reachable.";
    ZoneUnreachable = "zone-unreachable", Error, Network, Dropped,
        "Every broker of one availability zone fails while brokers in other zones pass: that zone's endpoint path is broken.";
    DnsZonalMismatch = "dns-zonal-mismatch", Warning, Record, WrongTarget,
        "A broker's zonal name resolves outside its own zone (the regional answer): the `*.<az-id>` record is missing or named by AZ name.";
    EndpointDnsFailed = "endpoint-dns-failed", Error, Record, NotFound,
        "An endpoint around Kafka (--target, Schema Registry, an AWS or Confluent API) does not resolve from here.";
    EndpointPublicAnswer = "endpoint-public-answer", Error, Zone, PublicAnswer,
        "An endpoint meant to be reached privately (a private Schema Registry name) resolved to public addresses.";
    EndpointUnreachable = "endpoint-unreachable", Error, Network, Dropped,
        "An endpoint around Kafka resolves but does not accept connections from here.";
    EsmStateProblem = "esm-state-problem", Error, Mapping, Misconfigured,
        "The event source mapping reports a PROBLEM (its state or last processing result), explained with what kreach measured.";
    EsmSgEgressMissing = "esm-sg-egress-missing", Error, Network, Missing,
        "The mapping's security groups do not let out 443 to everywhere or the Kafka port to the endpoint.";
    EsmEndpointIngressMissing = "esm-endpoint-ingress-missing", Error, Network, Missing,
        "The VPC endpoint's security groups do not admit the mapping's security groups on 443 and the Kafka port.";
    EsmPniIngressMissing = "esm-pni-ingress-missing", Error, Network, Missing,
        "Confluent PNI: the security groups on the PNI network interfaces do not admit the mapping's security groups on 443 and the Kafka port.";
    EsmClusterSgIngressMissing = "esm-cluster-sg-ingress-missing", Error, Network, Missing,
        "An Amazon MSK mapping's cluster security groups do not admit themselves on the broker port its pollers use.";
    AwsProbeSgEgressMissing = "aws-probe-sg-egress-missing", Error, Network, Missing,
        "No outbound rule of the probe's own security groups lets a port that failed from here out to the endpoint.";
    AwsResolverRuleForwards = "aws-resolver-rule-forwards", Error, Resolver, Blocked,
        "A Route 53 Resolver FORWARD rule covers a name that did not resolve privately: its queries go to other servers, past the private hosted zone.";
    AwsDnsFirewallBlocks = "aws-dns-firewall-blocks", Error, Resolver, Blocked,
        "A Route 53 Resolver DNS Firewall rule associated with the VPC blocks or overrides a name the cluster's chain needs (the glb hop, the cluster's domain, the endpoint's name), directly or by inspecting where a CNAME leads.";
    AwsQueryLogged = "aws-query-logged", Info, Resolver, Informational,
        "A name did not resolve privately and the VPC's resolver logs its queries: the log shows which rule or zone answered.";
    AwsTransitRouteMissing = "aws-transit-route-missing", Error, Network, NoRoute,
        "The probe sits in another VPC than the endpoint and a route table on the way (the probe's subnet toward the endpoint's subnets, or back) does not send the traffic through a transit gateway or peering connection.";
    AwsTransitZoneMissing = "aws-transit-zone-missing", Error, Network, NotCovered,
        "A transit gateway VPC attachment between the probe's VPC and the endpoint's has no subnet in a zone that sends traffic (the probe's, or one of the endpoint's interfaces): that zone cannot reach the transit gateway.";
    AwsPniPermissionMissing = "aws-pni-permission-missing", Error, Endpoint, Missing,
        "Confluent PNI: a network interface the cluster's names lead to carries no INSTANCE-ATTACH permission and is attached to nothing: Confluent's account cannot attach it.";
    AwsPniPermissionWrongAccount = "aws-pni-permission-wrong-account", Error, Endpoint, Misconfigured,
        "Confluent PNI: a network interface's INSTANCE-ATTACH permission names another account than the one its sibling interfaces are attached to (Confluent's gateway account): it stays unattached.";
    AwsPniNotAttached = "aws-pni-not-attached", Error, Endpoint, Unavailable,
        "Confluent PNI: a network interface carries an INSTANCE-ATTACH permission but Confluent has not attached it (the access point not created with it, or the permission for another account than the gateway's).";
    AwsPniSgMissingIngress = "aws-pni-sg-missing-ingress", Error, Network, Missing,
        "Confluent PNI: the security groups of the network interfaces admit no inbound TCP on a port the cluster uses (9092, 443), or not from this probe when that port failed from here.";
    AwsPniEgressOpen = "aws-pni-egress-open", Info, Network, Informational,
        "Confluent PNI: the interfaces' security groups let traffic out to anywhere; Confluent recommends denying connections from Confluent Cloud into your network (no outbound rules on the PNI groups; replies to your clients pass anyway).";
    AwsPniAddressElsewhere = "aws-pni-address-elsewhere", Warning, Record, WrongTarget,
        "Confluent PNI: a cluster name resolves to a private address that none of the VPC's PNI network interfaces holds.";
    AwsMskVpcConnectionUnusable = "aws-msk-vpc-connection-unusable", Error, Endpoint, Unavailable,
        "Amazon MSK multi-VPC private connectivity: the client VPC has no managed VPC connection, or it is not AVAILABLE (creating, rejected, inactive, failed).";
    AwsNaclDenies = "aws-nacl-denies", Error, Network, Blocked,
        "A network ACL of the endpoint's subnet or of the probe's own subnet denies a port that failed from here, or its return traffic.";
    EsmMskVpcConnectionUnusable = "esm-msk-vpc-connection-unusable", Error, Endpoint, Unavailable,
        "A cross-account Amazon MSK mapping has no managed VPC connection to its cluster, or the connection is not AVAILABLE.";
    EsmSubnetZoneMissing = "esm-subnet-zone-missing", Warning, Mapping, NotCovered,
        "A zone the brokers are in has none of the mapping's subnets: its traffic crosses zones, or that zone is unreachable.";
    EsmNoAwsApiRoute = "esm-no-aws-api-route", Error, Network, NoRoute,
        "From the mapping's subnets the Lambda, STS or Secrets Manager API has neither a NAT route nor an interface endpoint with private DNS.";
    EsmDestinationUnreachable = "esm-destination-unreachable", Error, Network, NoRoute,
        "From the mapping's subnets its on-failure destination's service (SQS, SNS, S3) has neither a NAT route nor a VPC endpoint: failed batches cannot be sent (`PROBLEM: Connection error. Your event source VPC must be able to connect to OnFailure Destination.`), whatever the poller mode.";
    EsmDestinationPolicyDenies = "esm-destination-policy-denies", Error, Authorization, NotAuthorized,
        "The on-failure destination's own resource policy (the SQS queue's, SNS topic's or S3 bucket's) denies the execution role's send, or, the destination being in another account, does not allow it: failed batches are not delivered.";
    EsmDestinationPolicyNotVerified = "esm-destination-policy-not-verified", Warning, Authorization, Unverified,
        "The on-failure destination's resource policy decides the execution role's send with a statement kreach does not evaluate (a condition on a key it cannot know, a NotPrincipal): not a pass.";
    EsmRoleTrustMissing = "esm-role-trust-missing", Error, Authorization, Misconfigured,
        "The function's execution role's trust policy does not let lambda.amazonaws.com assume it (`PROBLEM: Lambda failed to assume your function execution role.`).";
    EsmSystemLogErrors = "esm-system-log-errors", Info, Mapping, Informational,
        "The mapping's pollers logged errors in the last day (their system logs, `ESM_PROCESSING_EVENT` with an `errorCode`): evidence beside what kreach measured.";
    EsmClientCertificateInvalid = "esm-client-certificate-invalid", Error, Mapping, Misconfigured,
        "The mapping's CLIENT_CERTIFICATE_TLS_AUTH secret is not what Lambda reads (`PROBLEM: The provided certificate or private key is invalid.`): a JSON object with `certificate` (PEM chain, client certificate first) and `privateKey` (PKCS #8 PEM; `privateKeyPassword` when encrypted), the key being the certificate's.";
    EsmClientCertificateNotVerified = "esm-client-certificate-not-verified", Warning, Mapping, Unverified,
        "The mapping's client certificate has an encrypted key kreach cannot decrypt: whether the key is the certificate's and whether the cluster accepts it were not checked (not a pass).";
    EsmSchemaRegistryNeedsProvisioned = "esm-schema-registry-needs-provisioned", Error, Mapping, Misconfigured,
        "The mapping names a schema registry (SchemaRegistryConfig) but polls on demand: Lambda's schema registry integration works with provisioned pollers only (ProvisionedPollerConfig).";
    EsmSchemaRegistryUnreachable = "esm-schema-registry-unreachable", Error, Network, NoRoute,
        "From the mapping's subnets its schema registry has no route: AWS Glue's API with neither a NAT route nor an interface endpoint with private DNS, or a Confluent or self-managed registry's URL without a NAT route (or its own private endpoint); the pollers cannot fetch schemas.";
    EsmSchemaRegistrySecretInvalid = "esm-schema-registry-secret-invalid", Error, Mapping, Misconfigured,
        "An access secret of the mapping's schema registry (SchemaRegistryConfig.AccessConfigs) is not the shape Lambda reads for its type: BASIC_AUTH {\"username\", \"password\"}, CLIENT_CERTIFICATE_TLS_AUTH a certificate and its PKCS #8 key, SERVER_ROOT_CA_CERTIFICATE {\"certificate\": PEM}.";
    EsmPollerMode = "esm-poller-mode", Info, Mapping, Informational,
        "How the mapping polls (on demand or provisioned) and what its network needs for that; where its pollers' logs and metrics are; settings kreach does not know.";
    EsmRoleMissingPermission = "esm-role-missing-permission", Error, Authorization, NotAuthorized,
        "The function's execution role lacks a permission the mapping needs (network interfaces, VPC reads, the secret).";
    ConnectorPermissionMissing = "connector-permission-missing", Error, Authorization, NotAuthorized,
        "The Lambda Sink Connector's principal may not lambda:InvokeFunction or lambda:GetFunction on the function.";
    ConnectorFunctionNotFound = "connector-function-not-found", Error, Mapping, NotFound,
        "The function the Lambda Sink Connector is to invoke does not exist in the region (lambda:GetFunction).";
    KafkaTopicNotFound = "kafka-topic-not-found", Error, Cluster, NotFound,
        "A topic the consumer reads (--topic, the mapping's Topics) does not exist on the cluster.";
    KafkaTopicNotAuthorized = "kafka-topic-not-authorized", Error, Authorization, NotAuthorized,
        "The cluster refuses the credentials Describe on a topic (TOPIC_AUTHORIZATION_FAILED): the ACL or role binding is missing.";
    KafkaGroupNotAuthorized = "kafka-group-not-authorized", Error, Authorization, NotAuthorized,
        "The cluster refuses the credentials the consumer group (GROUP_AUTHORIZATION_FAILED on FindCoordinator or OffsetFetch).";
    KafkaClusterDescribeNotAuthorized = "kafka-cluster-describe-not-authorized", Error, Authorization, NotAuthorized,
        "The cluster refuses the credentials DescribeConfigs on the cluster (CLUSTER_AUTHORIZATION_FAILED), which a Lambda event source mapping needs.";
    KafkaCoordinatorUnreachable = "kafka-coordinator-unreachable", Error, Broker, Down,
        "The consumer group's coordinator cannot be found or reached (FindCoordinator errors, or the coordinator broker fails DNS, TCP, TLS or Kafka).";
    KafkaTopicLeadersUnreachable = "kafka-topic-leaders-unreachable", Error, Broker, Down,
        "Partitions of a topic the consumer reads have no leader, or their leader is a broker that cannot be reached from here.";
    KafkaPermissionNotObservable = "kafka-permission-not-observable", Info, Authorization, Informational,
        "A permission the consumer needs that no read-only request can show (Write on a failure topic, Read on topics and the group): the ACL to check.";
    AwsApiRoute = "aws-api-route", Info, Network, Informational,
        "How an AWS API the Lambda paths need is reached from here: an interface endpoint in the VPC, or the public service.";
    KafkaAuthNotVerified = "kafka-auth-not-verified", Warning, Authentication, Unverified,
        "Authentication is configured with a mechanism kreach does not speak (OAUTHBEARER, GSSAPI, AWS_MSK_IAM): the broker enables it, but the credentials, the token and whatever issues it were not verified, and neither were Metadata and the brokers.";
    TlsChainIncomplete = "tls-chain-incomplete", Error, Certificate, IncompleteChain,
        "The server sends a chain that stops short of a trusted root: the certificate that issued its last one is neither sent nor trusted (the server must send its intermediate certificates).";
    TlsChainInvalid = "tls-chain-invalid", Error, Certificate, BadChain,
        "A certificate of the server's chain cannot do its part: an issuer that is not a CA, a key usage that forbids it, a certificate that does not name the next one as its issuer.";
    DnsRecordOtherEndpoint = "dns-record-other-endpoint", Error, Record, OtherEndpoint,
        "A record leads to a VPC endpoint other than the one this VPC reaches the cluster through (another VPC's, a replaced one): its addresses are not this VPC's endpoint.";
    DnsRecordOtherRegion = "dns-record-other-region", Error, Record, OtherRegion,
        "A record leads to a VPC endpoint in another region than the cluster's: an interface endpoint serves only its own region's VPCs.";

    OauthTokenEndpointUnreachable = "oauth-token-endpoint-unreachable", Error, Network, Dropped,
        "SASL OAUTHBEARER with OIDC: the token endpoint could not be reached from here (its name, a connection, TLS, an HTTP answer), so no client gets a token: the identity provider is usually on the internet, and a private subnet needs a NAT gateway or a proxy to it.";
    OauthTokenRefused = "oauth-token-refused", Error, Authentication, Rejected,
        "SASL OAUTHBEARER with OIDC: the identity provider refused the client-credentials request (invalid_client, invalid_scope, unauthorized_client, a wrong tenant or path).";
    OauthTokenUnusable = "oauth-token-unusable", Error, Listener, Invalid,
        "SASL OAUTHBEARER with OIDC: the token endpoint answered, but without a token a client can use (not JSON, no access_token, too large): the URL is likely not the provider's token endpoint.";

    AwsIamCredentialsUnavailable = "aws-iam-credentials-unavailable", Error, Authentication, NoCredentials,
        "SASL AWS_MSK_IAM: no payload could be signed because the default credential chain gave no usable AWS credentials (none found, expired, their source — STS for an assumed role or web identity, the instance metadata service — not answering), or no region was known.";

    TlsClientCertificateRequired = "tls-client-certificate-required", Error, Authentication, Missing,
        "The server requires a client certificate (mutual TLS) and none is configured: it ended the handshake, or (TLS 1.3) sent alert 116 instead of the first answer.";
    TlsClientCertificateRefused = "tls-client-certificate-refused", Error, Authentication, Rejected,
        "The server refused the client certificate presented (mutual TLS): its alert says how (an issuer it does not trust, expired, revoked, bad, access denied).";

    TlsClientCertificateNotAsked = "tls-client-certificate-not-asked", Warning, Listener, Misconfigured,
        "Mutual TLS without SASL: the Kafka listener completed the handshake without asking for the client certificate configured, so it does not authenticate by certificate and the client is anonymous to it.";

    ClientIdleTimeoutAboveEndpoint = "client-idle-timeout-above-endpoint", Warning, Client, Misconfigured,
        "The client keeps idle connections longer than an interface VPC endpoint does (350 seconds): connections.max.idle.ms as set, or the client's default (Java's 540000; librdkafka's 0, never closed), so the endpoint drops them silently and the next request on one fails or waits.";
    ClientSettingRisky = "client-setting-risky", Warning, Client, Misconfigured,
        "A client setting that breaks or weakens the PrivateLink path (client.dns.lookup resolving canonical names, broker.address.family against what the names resolve to, socket.connection.setup.timeout.ms below three SYNs, host name verification off): the property, its value and why.";

}

/// A name a fix would lead a record to, resolved through the run's resolver before the fix
/// advised it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct NameCheck {
    /// The name.
    pub name: String,
    /// What the resolver answered.
    pub outcome: DnsOutcome,
    /// The addresses, when it answered some.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}

impl NameCheck {
    /// A check from a lookup.
    pub fn new(name: impl Into<String>, outcome: DnsOutcome, addresses: Vec<String>) -> Self {
        NameCheck { name: name.into(), outcome, addresses }
    }
}

/// Something wrong (or worth knowing), with its evidence and the fix.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Finding {
    /// Stable kebab-case code, see `docs/findings.md`.
    pub code: FindingCode,
    /// `error`, `warning` or `info`.
    pub severity: Severity,
    /// The `host:port` it concerns.
    pub target: String,
    /// The stage where it shows.
    pub stage: Stage,
    /// One line with the evidence.
    pub summary: String,
    /// What to change, concretely.
    pub fix: String,
    /// The addresses concerned, when it is about some of them.
    pub addresses: Vec<String>,
    /// The hop of the path it blames.
    #[serde(default)]
    pub hop: Hop,
    /// The kind of failure there.
    #[serde(default)]
    pub cause: Cause,
    /// The availability zone (AZ ID) it is about, when it is one zone's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The other targets (`host:port`) whose failure it explains: a zone's brokers, every name
    /// a public answer also sent astray, the brokers of a grouped finding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explains: Vec<String>,
    /// The certificate of the chain it blames, when it blames one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateRef>,
    /// The fix as an action, when it is one kreach can name exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<FixAction>,
    /// The AWS resources it blames (`sg-…`, `acl-…`, a hosted zone id, `vpce-…`, `rslvr-rr-…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Their recent changes (CloudTrail), newest first, when looked up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<crate::report::ChangeEvent>,
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = BTreeSet::new();
        for code in FindingCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !s.starts_with('-')
                    && !s.ends_with('-'),
                "{s} is not kebab-case"
            );
            assert_eq!(FindingCode::from_code(s), Some(*code));
            assert_eq!(serde_json::to_value(code).ok(), Some(serde_json::Value::from(s)));
            assert!(!code.description().is_empty());
        }
    }

    #[test]
    fn every_code_is_documented_in_the_catalog() {
        let catalog = include_str!("../../../../docs/findings.md");
        for code in FindingCode::ALL {
            let heading = format!("### `{}`", code.as_str());
            assert!(catalog.contains(&heading), "docs/findings.md lacks a section `{heading}`");
            // The section says the severity the code is reported with, first thing.
            let section = catalog.split(&format!("{heading}\n")).nth(1).unwrap_or_default();
            let severity = format!("**{}.**", code.severity().as_str());
            assert!(
                section.trim_start().starts_with(&severity),
                "docs/findings.md documents `{}` as other than {severity}",
                code.as_str()
            );
        }
        // and the catalog documents nothing that does not exist
        for line in catalog.lines().filter(|l| l.starts_with("### `")) {
            let code = line.trim_start_matches("### `").trim_end_matches('`');
            assert!(FindingCode::from_code(code).is_some(), "docs/findings.md documents unknown code {code}");
        }
    }

    #[test]
    fn the_set_of_codes_is_the_reviewed_one() {
        // A rename or removal breaks scripts that match on codes: it must show up here in review.
        let all: Vec<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        let required = [
            "dns-resolver-unreachable",
            "dns-nxdomain",
            "dns-public-answer",
            "dns-private-record-missing",
            "tcp-timeout",
            "tcp-refused",
            "tcp-unreachable",
            "tls-name-mismatch",
            "tls-unknown-issuer",
            "tls-expired",
            "tls-expiring-soon",
            "tls-not-tls",
            "tls-handshake-failed",
            "https-no-response",
            "aws-phz-not-associated",
            "aws-phz-record-ttl",
            "aws-private-dns-enabled",
            "input-refused",
            "dns-cname-chain-too-long",
            "broker-port-invalid",
            "dns-name-invalid",
            "unexplained-failure",
            "kafka-topic-not-found",
            "kafka-topic-not-authorized",
            "kafka-group-not-authorized",
            "kafka-cluster-describe-not-authorized",
            "kafka-coordinator-unreachable",
        ];
        for code in required {
            assert!(all.contains(&code), "contract code {code} is missing");
        }
        assert_eq!(all.len(), 126, "codes added or removed: update this count and docs/findings.md");
    }
}

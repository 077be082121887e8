//! kreach: can this machine reach that Kafka cluster over AWS PrivateLink, and if not, which hop
//! is broken and what exactly must change?
//!
//! Build a [`CheckConfig`] (directly or by validating [`CheckOptions`]), call [`run`], and read
//! the [`Report`]: a matrix of targets × stages plus [`Finding`]s with stable codes. A failing
//! check is data in the report; [`Error`] only means the run could not start.

mod analysis;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod input;
mod limits;
pub mod probe;
pub mod render;
mod report;
mod run;
pub mod scope;

pub use analysis::consistent as verdict_consistent;
pub use analysis::layout;
pub use analysis::merge::{Merged, MergedCell, MergedRow, merge};
pub use error::{Error, ParseError, quote};
pub use input::address::{HostPort, parse_resolver, parse_zone_address};
pub use input::config::{
    CaBundle, CheckConfig, CheckOptions, ConsumerQuestions, DEFAULT_HTTPS_PORT, DEFAULT_KAFKA_PORT,
    DEFAULT_PRIVATE_CIDRS, DEFAULT_TIMEOUT, ENV_SASL_PASSWORD, ENV_SASL_SECRET, ENV_SASL_USERNAME, MAX_TIMEOUT, Sasl,
    Secret, SecurityProtocol, default_private_cidrs,
};
pub use input::endpoints::{API_PORT, AWS_APIS, CONFLUENT_APIS, EndpointSpec, MAX_ENDPOINTS};
pub use input::files::read_input_file;
pub use input::mapping::{
    EsmProblem, EventSourceMapping, MAX_MAPPING_BYTES, PollerMode, ProvisionedPollers, valid_topic_name,
};
pub use input::properties::{Properties, SECRET_KEYS, is_secret_key, jaas_credentials};
pub use input::vantage::{IMDS_DEFAULT, detect as detect_vantage};
pub use limits::{
    ACCESS_ANSWER_CAP, BROKER_CONCURRENCY, CLIENT_CONFIRMATION, CONFIRMATION_BUDGET, DEFAULT_CONNECT_TIMEOUT,
    DNS_STEP_CAP, EXPIRY_WARNING_DAYS, HTTPS_STEP_CAP, KAFKA_STEP_CAP, MAX_ADDRESS_BROKERS, MAX_ADDRESSES_PER_NAME,
    MAX_BOOTSTRAP, MAX_BROKER_TARGETS, MAX_BROKERS_KEPT, MAX_CA_BYTES, MAX_CA_FILES, MAX_LIST, MAX_PROPERTIES_FILE,
    MAX_REPORT_FILE, TCP_STEP_CAP, TLS_STEP_CAP,
};
pub use probe::tls::name_matches;
pub use render::{merged_markdown, merged_table};
pub use report::findings::{FindingCode, Severity};
pub use report::{
    AccessAnswer, AccessOutcome, AccessReport, AddressReport, AnswerClass, AwsAclEntry, AwsAudit, AwsDenied,
    AwsEndpoint, AwsFirewallRule, AwsFirewallRuleGroup, AwsHostedZone, AwsIngress, AwsIngressRule, AwsIngressSource,
    AwsInterface, AwsMskVpcConnection, AwsNetworkAcl, AwsOtherEndpoint, AwsQueryLogConfig, AwsResolverRule,
    AwsRouteLookup, AwsSubnetInfo, AwsTgwAttachment, AwsTransit, AwsVpc, AwsZone, BrokerInfo, BrokerTarget,
    ClusterDomain, ClusterMetadata, CnameHop, ConnectorAudit, DnsAddress, DnsDetail, DnsLookup, DnsOutcome, DnsRecord,
    DomainSource, EndpointKind, EndpointTarget, EsmApiRoute, EsmAudit, EsmEgress, EsmSubnet, Finding, HttpsAttempt,
    HttpsOutcome, KafkaAttempt, KafkaOutcome, KafkaStep, Layout, LayoutRules, MskCluster, Need, NetworkSection,
    ParityOutcome, ParityReport, PathStep, PeerCertificate, PermissionCheck, RefusedInput, Report, Resolution, Role,
    SCHEMA_VERSION, SecretLookup, SecretOutcome, Settings, Stage, StageResult, StageStatus, Status, TargetReport,
    TcpAttempt, TcpOutcome, TlsAttempt, TlsOutcome, TlsVerification, Vantage, VantageKind, ZoneSummary, endpoint_of,
    report_schema,
};
pub use run::diagnosis::{AuditScope, Diagnosis, ParitySignal, run};
pub use run::step::{Step, StepObserver, StepOutcome, StepPhase};
pub use scope::{CredentialScope, HostPattern};

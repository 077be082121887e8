//! kreach's AWS audit: why a hop is broken, from the AWS APIs. Read-only: Describe, List and Get
//! calls only (`calls` in the result lists every one). Kept in its own crate because the AWS SDK
//! is heavy to build. One file per resource: `endpoint` (EC2, through `aws-sdk-ec2`: `ec2`),
//! `route53`, `esm` (the mapping's network and role, the connector), `iam`, `secrets`, `invoke`.

mod api;
mod backoff;
mod changes;
mod destination;
mod ec2;
mod endpoint;
mod error;
mod esm;
mod esm_logs;
mod firewall;
mod fleet;
mod http;
mod iam;
mod input;
mod invoke;
mod msk;
mod msk_iam;
mod msk_signer;
mod pages;
mod pni;
mod records;
mod resolver;
mod route53;
mod secrets;
mod sg;
mod transit;

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_route53::error::ProvideErrorMetadata;
use kreach::report::AwsAudit;

pub use changes::{lookup_changes, lookup_changes_since, mended_changes};
pub use error::{AwsError, AwsErrorKind};
pub use esm::fetch_mapping;
pub use fleet::{FleetPlan, FleetTarget, Invocation, InvocationOutcome, MAX_FLEET, invoke_fleet};
pub(crate) use http::https_client;
pub use http::{MAX_ANSWER, Refused};
pub use input::{
    InputError, MAPPING_CAP, MappingInput, Policy, PolicyView, Ready, RunInput, SdkReads, SdkSource, no_policy, prepare,
};
pub use invoke::{Invoker, MAX_INVOKE_RESPONSE, invoke_function};
pub use msk_signer::{MSK_IAM_VERSION, MskIamSigner, region_of_broker};
pub use records::{change_batch, expected_records, expected_records_for, zonal_dns_name};
pub use secrets::{
    SECRET_CAP, SECRET_TEXT_CAP, SecretCredentials, parse_secret, read_root_ca, read_secret, read_secret_text,
};
pub(crate) use sg::{SgRule, sg_rules};

/// Ports the endpoint's security groups must admit.
pub const PORTS: [u16; 2] = [9092, 443];

/// What to audit.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct AuditInput {
    /// `--vpc-endpoint vpce-…`; otherwise found by VPC (and service name).
    pub vpc_endpoint_id: Option<String>,
    /// `--vpc-id`, to find the endpoint when its id is not given.
    pub vpc_id: Option<String>,
    /// `--endpoint-service`, to pick among a VPC's endpoints.
    pub service_name: Option<String>,
    /// The cluster's DNS domain (the private hosted zone's name).
    pub domain: Option<String>,
    /// Region; default from the environment / profile.
    pub region: Option<String>,
    /// Kafka and HTTPS ports to check in the security groups.
    pub ports: Vec<u16>,
    /// An API endpoint instead of AWS's (an emulator); `AWS_ENDPOINT_URL` works too.
    pub endpoint_url: Option<String>,
    /// Static credentials (access key id, secret) instead of the default chain; for emulators,
    /// and for a Lambda function's role credentials taken from its environment.
    pub static_credentials: Option<(String, String)>,
    /// The session token that goes with temporary static credentials.
    pub session_token: Option<String>,
    /// The layout the names showed: it decides whether a private hosted zone and zonal records
    /// are expected (`None`: a Confluent dedicated network's rules).
    pub layout: Option<kreach::report::Layout>,
    /// A Lambda event source mapping whose subnets, security groups and role to audit.
    pub event_source_mapping: Option<kreach::EventSourceMapping>,
    /// The Lambda Sink Connector's principal (`--sink-connector-principal`).
    pub sink_connector_principal: Option<String>,
    /// The function the connector invokes (`--lambda-function`).
    pub lambda_function: Option<String>,
    /// The probe's own subnet (an EC2 vantage's), whose network ACL is read too.
    pub probe_subnet: Option<String>,
    /// The probe's own security groups (an EC2 instance's or a Lambda function's), whose outbound
    /// rules are read too.
    pub probe_security_groups: Vec<String>,
    /// The probe's own VPC, whose Route 53 Resolver rules are read beside the endpoint VPC's.
    pub probe_vpc: Option<String>,
    /// The addresses the bootstrap's name resolved to: without an interface endpoint, the VPC's
    /// network interfaces holding them are Confluent PNI's, whatever their permissions say.
    pub cluster_addresses: Vec<String>,
}

impl AuditInput {
    /// What a check's options ask the audit to read — the endpoint (or the VPC and service to find
    /// it by), the region, the cluster's DNS domain, the Lambda Sink Connector's principal and
    /// function — as every front end builds it (the CLI from its flags, the Lambda from its event:
    /// both are [`kreach::CheckOptions`]). Credentials, the API endpoint, the mapping and what the
    /// run learns (`narrowed_by`) are the front end's to add.
    pub fn from_options(options: &kreach::CheckOptions) -> Self {
        AuditInput {
            vpc_endpoint_id: options.vpc_endpoint.clone(),
            vpc_id: options.vpc_id.clone(),
            service_name: options.endpoint_service.clone(),
            region: options.aws_region.clone(),
            domain: options.dns_domain.clone(),
            sink_connector_principal: options.sink_connector_principal.clone(),
            lambda_function: options.lambda_function.clone(),
            ..AuditInput::default()
        }
    }

    /// The private hosted zone's name when none is given, from the bootstrap's name alone: the
    /// provider's naming scheme (a glb name's network domain), else the name's parent.
    pub fn default_domain(bootstrap_host: &str) -> Option<String> {
        kreach::layout::cluster_domain(None, bootstrap_host, &[]).map(|d| d.name)
    }

    /// What the diagnosis learnt before the audit starts: the probe's own VPC when neither an
    /// endpoint nor a VPC was named; the cluster's domain (naming scheme or CNAME chain) when none
    /// was given; the layout; for layouts on other ports than 9092, the bootstrap's port.
    pub fn narrowed_by(mut self, scope: &kreach::AuditScope) -> Self {
        if self.vpc_endpoint_id.is_none() && self.vpc_id.is_none() {
            self.vpc_id = scope.vantage.as_ref().and_then(|v| v.facts.vpc_id.clone());
        }
        if self.domain.is_none() {
            self.domain = scope.domain.as_ref().map(|d| d.name.clone());
        }
        if self.probe_vpc.is_none() {
            self.probe_vpc = scope.vantage.as_ref().and_then(|v| v.facts.vpc_id.clone());
        }
        if self.probe_subnet.is_none() {
            self.probe_subnet = scope.vantage.as_ref().and_then(|v| v.facts.subnet_id.clone());
        }
        if self.probe_security_groups.is_empty() {
            self.probe_security_groups =
                scope.vantage.as_ref().map(|v| v.facts.security_group_ids.clone()).unwrap_or_default();
        }
        if self.cluster_addresses.is_empty() {
            self.cluster_addresses = scope.addresses.clone();
        }
        self.layout = self.layout.or(scope.layout);
        let other_ports =
            matches!(scope.layout, Some(kreach::report::Layout::Redpanda | kreach::report::Layout::MskMultiVpc));
        if self.ports.is_empty() && other_ports {
            self.ports = scope.bootstrap_port.into_iter().collect();
        }
        self
    }

    /// Whether the layout has a customer-created private hosted zone to audit.
    fn customer_zone(&self) -> bool {
        !matches!(self.layout, Some(kreach::report::Layout::Redpanda | kreach::report::Layout::MskMultiVpc))
    }
}

impl std::fmt::Debug for AuditInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials never printed: only the key id's presence.
        f.debug_struct("AuditInput")
            .field("vpc_endpoint_id", &self.vpc_endpoint_id)
            .field("vpc_id", &self.vpc_id)
            .field("service_name", &self.service_name)
            .field("domain", &self.domain)
            .field("region", &self.region)
            .field("ports", &self.ports)
            .field("endpoint_url", &self.endpoint_url)
            .field("static_credentials", &self.static_credentials.is_some())
            .field("layout", &self.layout)
            .finish()
    }
}

pub(crate) fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    action: &str,
    err: aws_sdk_route53::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError {
    use aws_sdk_route53::error::SdkError;
    match &err {
        // An answer refused before the SDK read it: the endpoint answered, with something no AWS
        // API sends (too large, broken XML).
        SdkError::DispatchFailure(_) if let Some(why) = http::refused(&err) => {
            AwsError::invalid(format!("{action}: {why}")).for_action(action)
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            AwsError::unreachable(format!("{action}: the AWS API is not reachable: {}", display_chain(&err)))
                .for_action(action)
        }
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let message = err.message().unwrap_or("").to_string();
            // No error code parsed (an emulator's or a proxy's answer): the whole error says more.
            AwsError::from_answer(action, status, err.code().unwrap_or(""), message, || {
                format!("HTTP {status} ({})", display_chain(&err))
            })
        }
        _ => AwsError::other(format!("{action}: {}", display_chain(&err))),
    }
}

/// An error with its sources, one line: `outer: inner: innermost`.
pub fn display_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}

/// What a read made beside the main audit noted: its calls, denials and errors.
pub(crate) fn merge(audit: &mut AwsAudit, mut side: AwsAudit) {
    audit.calls.append(&mut side.calls);
    audit.denied.append(&mut side.denied);
    audit.errors.append(&mut side.errors);
    if let Some(why) = side.unavailable {
        audit.unavailable.get_or_insert(why);
    }
}

/// Records a failed call in the audit; returns true when the audit cannot go on.
pub(crate) fn note(audit: &mut AwsAudit, e: AwsError) -> bool {
    if let Some(denied) = e.as_denied() {
        audit.denied.push(denied);
        false
    } else if e.is_unreachable() {
        audit.unavailable = Some(e.to_string());
        true
    } else {
        audit.errors.push(e.to_string());
        false
    }
}

/// The SDK configuration: the default chain (environment, profile, SSO, instance role; an endpoint
/// from `AWS_ENDPOINT_URL`) for whatever is not given.
pub async fn sdk_config(
    region: Option<&str>,
    endpoint_url: Option<&str>,
    credentials: Option<aws_credential_types::Credentials>,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https_client());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(credentials) = credentials {
        loader = loader.credentials_provider(credentials);
    }
    loader.load().await
}

/// Runs the audit within `budget`. Never fails: what could not be read is in the result.
pub async fn audit(input: &AuditInput, budget: Duration) -> AwsAudit {
    let started = Instant::now();
    let mut result = AwsAudit::default();
    let run = run(input, &mut result);
    if tokio::time::timeout(budget, run).await.is_err() {
        result
            .unavailable
            .get_or_insert_with(|| format!("the AWS audit did not finish within {} ms", budget.as_millis()));
    }
    result.elapsed_ms = started.elapsed().as_millis() as u64;
    result
}

async fn run(input: &AuditInput, audit: &mut AwsAudit) {
    let credentials = input.static_credentials.as_ref().map(|(key, secret)| {
        aws_credential_types::Credentials::new(key, secret, input.session_token.clone(), None, "kreach")
    });
    let sdk = sdk_config(input.region.as_deref(), input.endpoint_url.as_deref(), credentials).await;
    audit.region = sdk.region().map(|r| r.to_string());
    if audit.region.is_none() {
        audit.unavailable = Some("no AWS region configured (AWS_REGION or a profile)".into());
        return;
    }
    match sdk.credentials_provider() {
        None => {
            audit.unavailable = Some("no AWS credentials".into());
            return;
        }
        Some(provider) => {
            if let Err(e) = aws_credential_check(&provider).await {
                audit.unavailable = Some(format!("no AWS credentials: {e}"));
                return;
            }
        }
    }
    endpoint::endpoint_audit(input, audit, &sdk).await;
    if let Some(mapping) = &input.event_source_mapping {
        esm::audit_mapping(&sdk, mapping, audit).await;
    }
    if input.sink_connector_principal.is_some() || input.lambda_function.is_some() {
        esm::audit_connector(&sdk, input.sink_connector_principal.as_deref(), input.lambda_function.as_deref(), audit)
            .await;
    }
}

async fn aws_credential_check(
    provider: &aws_credential_types::provider::SharedCredentialsProvider,
) -> Result<(), String> {
    use aws_credential_types::provider::ProvideCredentials;
    provider.provide_credentials().await.map(|_| ()).map_err(|e| display_chain(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The audit runs on a runtime's worker thread (the Lambda's: 2 MiB of stack). Its future
    /// joins a dozen SDK calls, each tens of kilobytes in a debug build; inline they overflowed a
    /// test thread's stack (issue 33's first SDK draft). The calls' futures live on the heap, so
    /// the audit's own stays small.
    #[test]
    fn the_audits_future_fits_a_worker_threads_stack() {
        let input = AuditInput::default();
        let audit = audit(&input, Duration::from_secs(1));
        let endpoint = {
            let mut result = AwsAudit::default();
            let sdk = aws_config::SdkConfig::builder().build();
            std::mem::size_of_val(&endpoint::endpoint_audit(&input, &mut result, &sdk))
        };
        assert!(std::mem::size_of_val(&audit) < 64 * 1024, "{}", std::mem::size_of_val(&audit));
        assert!(endpoint < 64 * 1024, "{endpoint}");
    }
}

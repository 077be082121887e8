//! kreach's AWS audit: why a hop is broken, from the AWS APIs. Read-only: Describe, List and Get
//! calls only (`calls` in the result lists every one). Kept in its own crate because the AWS SDK
//! is heavy to build.

mod esm;
mod iam;
mod input;
mod invoke;
mod records;
mod secrets;

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, VpcAttributeName};
use kreach::{
    AwsAudit, AwsDenied, AwsEndpoint, AwsHostedZone, AwsIngress, AwsIngressRule, AwsIngressSource, AwsInterface,
    AwsVpc, AwsZone, DnsRecord,
};

pub use esm::fetch_mapping;
pub use input::{
    InputError, MAPPING_CAP, MappingInput, Policy, PolicyView, Ready, RunInput, SdkReads, SdkSource, no_policy, prepare,
};
pub use invoke::{MAX_INVOKE_RESPONSE, invoke_function};
pub use records::{change_batch, expected_records, expected_records_for, zonal_dns_name};
pub use secrets::{SECRET_CAP, SecretCredentials, parse_secret, read_root_ca, read_secret};

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
    pub layout: Option<kreach::Layout>,
    /// A Lambda event source mapping whose subnets, security groups and role to audit.
    pub event_source_mapping: Option<kreach::EventSourceMapping>,
    /// The Lambda Sink Connector's principal (`--sink-connector-principal`).
    pub sink_connector_principal: Option<String>,
    /// The function the connector invokes (`--lambda-function`).
    pub lambda_function: Option<String>,
}

impl AuditInput {
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
            self.vpc_id = scope.vantage.as_ref().and_then(|v| v.facts.get("vpc_id").cloned());
        }
        if self.domain.is_none() {
            self.domain = scope.domain.as_ref().map(|d| d.name.clone());
        }
        self.layout = self.layout.or(scope.layout);
        let other_ports = matches!(scope.layout, Some(kreach::Layout::Redpanda | kreach::Layout::MskMultiVpc));
        if self.ports.is_empty() && other_ports {
            self.ports = scope.bootstrap_port.into_iter().collect();
        }
        self
    }

    /// Whether the layout has a customer-created private hosted zone to audit.
    fn customer_zone(&self) -> bool {
        !matches!(self.layout, Some(kreach::Layout::Redpanda | kreach::Layout::MskMultiVpc))
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

/// Why an API call failed, classified.
pub(crate) enum CallError {
    Denied(AwsDenied),
    Unreachable(String),
    Other(String),
}

pub(crate) fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    action: &str,
    err: aws_sdk_ec2::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> CallError {
    use aws_sdk_ec2::error::SdkError;
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            CallError::Unreachable(format!("{action}: the AWS API is not reachable: {}", display_chain(&err)))
        }
        SdkError::ServiceError(ctx) => {
            let code = err.code().unwrap_or("");
            let message = err.message().unwrap_or("").to_string();
            // A 403 whose body did not parse into an error code is a denial all the same.
            let forbidden = ctx.raw().status().as_u16() == 403 && code.is_empty();
            if forbidden || matches!(code, "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException") {
                let message = if message.is_empty() { "HTTP 403 Forbidden".to_string() } else { message };
                CallError::Denied(AwsDenied { action: action.to_string(), message })
            } else if matches!(code, "AuthFailure" | "InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredToken")
            {
                CallError::Unreachable(format!("{action}: credentials refused ({code}): {message}"))
            } else {
                CallError::Other(format!("{action}: {code}: {message}"))
            }
        }
        _ => CallError::Other(format!("{action}: {}", display_chain(&err))),
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

/// Records a failed call in the audit; returns true when the audit cannot go on.
pub(crate) fn note(audit: &mut AwsAudit, e: CallError) -> bool {
    match e {
        CallError::Denied(d) => {
            audit.denied.push(d);
            false
        }
        CallError::Unreachable(m) => {
            audit.unavailable = Some(m);
            true
        }
        CallError::Other(m) => {
            audit.errors.push(m);
            false
        }
    }
}

/// The SDK configuration: the default chain (environment, profile, SSO, instance role; an endpoint
/// from `AWS_ENDPOINT_URL`) for whatever is not given.
pub async fn sdk_config(
    region: Option<&str>,
    endpoint_url: Option<&str>,
    credentials: Option<aws_credential_types::Credentials>,
) -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let https = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https);
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
    endpoint_audit(input, audit, &sdk).await;
    if let Some(mapping) = &input.event_source_mapping {
        esm::audit_mapping(&sdk, mapping, audit).await;
    }
    if input.sink_connector_principal.is_some() || input.lambda_function.is_some() {
        esm::audit_connector(&sdk, input.sink_connector_principal.as_deref(), input.lambda_function.as_deref(), audit)
            .await;
    }
}

/// The interface endpoint, its zones, security groups, VPC DNS and the private hosted zone.
async fn endpoint_audit(input: &AuditInput, audit: &mut AwsAudit, sdk: &aws_config::SdkConfig) {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let r53 = aws_sdk_route53::Client::new(sdk);

    // The endpoint.
    audit.calls.push("ec2:DescribeVpcEndpoints".into());
    let mut req = ec2.describe_vpc_endpoints();
    if let Some(id) = &input.vpc_endpoint_id {
        req = req.vpc_endpoint_ids(id);
    } else {
        if let Some(vpc) = &input.vpc_id {
            req = req.filters(Filter::builder().name("vpc-id").values(vpc).build());
        }
        if let Some(service) = &input.service_name {
            req = req.filters(Filter::builder().name("service-name").values(service).build());
        }
        req = req.filters(Filter::builder().name("vpc-endpoint-type").values("Interface").build());
    }
    let endpoints = match req.send().await {
        Ok(out) => out.vpc_endpoints().to_vec(),
        Err(e) => {
            note(audit, classify("ec2:DescribeVpcEndpoints", e));
            return;
        }
    };
    let Some(ep) = endpoints.first() else {
        audit.errors.push(match &input.vpc_endpoint_id {
            Some(id) => format!("no VPC endpoint {id}"),
            None => "no interface VPC endpoint found (give --vpc-endpoint)".into(),
        });
        return;
    };
    if input.vpc_endpoint_id.is_none() && endpoints.len() > 1 {
        audit.errors.push(format!(
            "{} interface endpoints match; audited {} (give --vpc-endpoint to choose)",
            endpoints.len(),
            ep.vpc_endpoint_id().unwrap_or("")
        ));
    }
    let mut endpoint = AwsEndpoint::default();
    endpoint.id = ep.vpc_endpoint_id().unwrap_or("").to_string();
    endpoint.endpoint_type = ep.vpc_endpoint_type().map(|t| t.as_str().to_string()).unwrap_or_default();
    // The SDK may not know every state (moto's "available" arrives as an unknown variant): compare text.
    endpoint.state = ep.state().map(|s| s.as_str().to_string()).unwrap_or_default();
    endpoint.service_name = ep.service_name().unwrap_or("").to_string();
    endpoint.vpc_id = ep.vpc_id().unwrap_or("").to_string();
    endpoint.private_dns_enabled = ep.private_dns_enabled().unwrap_or(false);
    endpoint.security_groups = ep.groups().iter().filter_map(|g| g.group_id().map(str::to_string)).collect();
    endpoint.subnets = ep.subnet_ids().to_vec();
    endpoint.dns_names = ep.dns_entries().iter().filter_map(|d| d.dns_name().map(str::to_string)).collect();

    // Zones: AZ name ↔ AZ ID.
    audit.calls.push("ec2:DescribeAvailabilityZones".into());
    match ec2.describe_availability_zones().send().await {
        Ok(out) => {
            audit.availability_zones = out
                .availability_zones()
                .iter()
                .filter_map(|z| Some(AwsZone { name: z.zone_name()?.to_string(), id: z.zone_id()?.to_string() }))
                .collect();
        }
        Err(e) => {
            if note(audit, classify("ec2:DescribeAvailabilityZones", e)) {
                return;
            }
        }
    }

    // The endpoint's interfaces: address and zone of each.
    if !ep.network_interface_ids().is_empty() {
        audit.calls.push("ec2:DescribeNetworkInterfaces".into());
        match ec2
            .describe_network_interfaces()
            .set_network_interface_ids(Some(ep.network_interface_ids().to_vec()))
            .send()
            .await
        {
            Ok(out) => {
                for eni in out.network_interfaces() {
                    let az_name = eni.availability_zone().unwrap_or("").to_string();
                    let az_id = audit
                        .availability_zones
                        .iter()
                        .find(|z| z.name == az_name)
                        .map(|z| z.id.clone())
                        .unwrap_or_default();
                    let mut interface = AwsInterface::default();
                    interface.id = eni.network_interface_id().unwrap_or("").to_string();
                    interface.subnet_id = eni.subnet_id().unwrap_or("").to_string();
                    interface.az_name = az_name;
                    interface.az_id = az_id;
                    interface.ip = eni.private_ip_address().unwrap_or("").to_string();
                    endpoint.interfaces.push(interface);
                }
                endpoint.interfaces.sort_by(|a, b| a.az_id.cmp(&b.az_id));
            }
            Err(e) => {
                if note(audit, classify("ec2:DescribeNetworkInterfaces", e)) {
                    return;
                }
            }
        }
    }

    // Security groups: inbound rules for the ports.
    if !endpoint.security_groups.is_empty() {
        audit.calls.push("ec2:DescribeSecurityGroups".into());
        match ec2.describe_security_groups().set_group_ids(Some(endpoint.security_groups.clone())).send().await {
            Ok(out) => {
                for sg in out.security_groups() {
                    let group_id = sg.group_id().unwrap_or("");
                    for perm in sg.ip_permissions() {
                        let proto = perm.ip_protocol().unwrap_or("");
                        let all = proto == "-1";
                        if !all && proto != "tcp" && proto != "6" {
                            continue;
                        }
                        let port = |p: Option<i32>| p.and_then(|p| u16::try_from(p).ok()).unwrap_or(0);
                        let (from, to) = (port(perm.from_port()), port(perm.to_port()));
                        let sources = perm
                            .ip_ranges()
                            .iter()
                            .filter_map(|r| r.cidr_ip())
                            .chain(perm.user_id_group_pairs().iter().filter_map(|g| g.group_id()))
                            .chain(perm.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()))
                            .chain(perm.prefix_list_ids().iter().filter_map(|p| p.prefix_list_id()));
                        for source in sources.take(kreach::MAX_LIST) {
                            audit.ingress_rules.push(AwsIngressRule::new(group_id, from, to, all, source));
                        }
                    }
                }
                // Per port the audit was given, from the rules as read.
                let ports = if input.ports.is_empty() { PORTS.to_vec() } else { input.ports.clone() };
                for port in ports {
                    let sources: Vec<AwsIngressSource> = audit
                        .ingress_rules
                        .iter()
                        .filter(|r| r.admits(port))
                        .map(|r| AwsIngressSource { group_id: r.group_id.clone(), source: r.source.clone() })
                        .collect();
                    let rules = sources.iter().map(|s| format!("{} from {}", s.group_id, s.source)).collect();
                    let mut ingress = AwsIngress::default();
                    ingress.port = port;
                    ingress.allowed = !sources.is_empty();
                    ingress.rules = rules;
                    ingress.sources = sources;
                    audit.ingress.push(ingress);
                }
            }
            Err(e) => {
                if note(audit, classify("ec2:DescribeSecurityGroups", e)) {
                    return;
                }
            }
        }
    }

    // The VPC's DNS attributes.
    let mut vpc = AwsVpc { id: endpoint.vpc_id.clone(), dns_support: true, dns_hostnames: true };
    for attribute in [VpcAttributeName::EnableDnsSupport, VpcAttributeName::EnableDnsHostnames] {
        audit.calls.push("ec2:DescribeVpcAttribute".into());
        match ec2.describe_vpc_attribute().vpc_id(&vpc.id).attribute(attribute.clone()).send().await {
            Ok(out) => {
                if attribute == VpcAttributeName::EnableDnsSupport {
                    vpc.dns_support = out.enable_dns_support().and_then(|v| v.value()).unwrap_or(false);
                } else {
                    vpc.dns_hostnames = out.enable_dns_hostnames().and_then(|v| v.value()).unwrap_or(false);
                }
            }
            Err(e) => {
                if note(audit, classify("ec2:DescribeVpcAttribute", e)) {
                    return;
                }
            }
        }
    }
    audit.vpc = Some(vpc);

    // The private hosted zone.
    if let Some(domain) = input.domain.as_ref().filter(|_| input.customer_zone()) {
        audit.expected_records = expected_records_for(&endpoint, domain, input.layout);
        let wanted = format!("{}.", domain.trim_end_matches('.').to_ascii_lowercase());
        audit.calls.push("route53:ListHostedZonesByName".into());
        let zones = match r53.list_hosted_zones_by_name().dns_name(&wanted).send().await {
            Ok(out) => out.hosted_zones().to_vec(),
            Err(e) => {
                note(audit, classify_r53("route53:ListHostedZonesByName", e));
                Vec::new()
            }
        };
        let private: Vec<_> = zones
            .iter()
            .filter(|z| z.name().eq_ignore_ascii_case(&wanted) && z.config().is_some_and(|c| c.private_zone()))
            .collect();
        // Of several private zones with the name, the one associated with the endpoint's VPC counts.
        let mut chosen: Option<AwsHostedZone> = None;
        for z in private {
            audit.calls.push("route53:GetHostedZone".into());
            let vpcs: Vec<String> = match r53.get_hosted_zone().id(z.id()).send().await {
                Ok(out) => out.vpcs().iter().filter_map(|v| v.vpc_id().map(str::to_string)).collect(),
                Err(e) => {
                    note(audit, classify_r53("route53:GetHostedZone", e));
                    Vec::new()
                }
            };
            let mut candidate = AwsHostedZone::default();
            candidate.id = z.id().trim_start_matches("/hostedzone/").to_string();
            candidate.name = wanted.trim_end_matches('.').to_string();
            candidate.associated = vpcs.contains(&endpoint.vpc_id);
            candidate.vpcs = vpcs;
            if chosen.as_ref().is_none_or(|c| !c.associated && candidate.associated) {
                chosen = Some(candidate);
            }
        }
        if let Some(zone) = &mut chosen {
            zone.records = list_records(&r53, &zone.id, audit).await;
        }
        audit.hosted_zone = chosen;
    }
    audit.endpoint = Some(endpoint);
}

fn classify_r53<E: ProvideErrorMetadata + std::error::Error + 'static>(
    action: &str,
    err: aws_sdk_route53::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> CallError {
    classify(action, err)
}

async fn list_records(r53: &aws_sdk_route53::Client, zone_id: &str, audit: &mut AwsAudit) -> Vec<DnsRecord> {
    let mut out = Vec::new();
    let mut next: Option<(String, aws_sdk_route53::types::RrType)> = None;
    for _ in 0..100 {
        audit.calls.push("route53:ListResourceRecordSets".into());
        let mut req = r53.list_resource_record_sets().hosted_zone_id(zone_id);
        if let Some((name, ty)) = next.take() {
            req = req.start_record_name(name).start_record_type(ty);
        }
        match req.send().await {
            Ok(page) => {
                for set in page.resource_record_sets() {
                    let ty = set.r#type().as_str().to_string();
                    if ty != "CNAME" && ty != "A" && ty != "AAAA" {
                        continue;
                    }
                    let name = records::normalize(set.name());
                    let mut values: Vec<String> =
                        set.resource_records().iter().map(|r| records::normalize(r.value())).collect();
                    if let Some(alias) = set.alias_target() {
                        values.push(records::normalize(alias.dns_name()));
                    }
                    let ttl = set.ttl().and_then(|t| u64::try_from(t).ok());
                    for value in values {
                        out.push(DnsRecord::new(name.clone(), ty.clone(), value).with_ttl(ttl));
                    }
                }
                if !page.is_truncated() {
                    break;
                }
                match (page.next_record_name(), page.next_record_type()) {
                    (Some(n), Some(t)) => next = Some((n.to_string(), t.clone())),
                    _ => break,
                }
            }
            Err(e) => {
                note(audit, classify_r53("route53:ListResourceRecordSets", e));
                break;
            }
        }
    }
    out
}

async fn aws_credential_check(
    provider: &aws_credential_types::provider::SharedCredentialsProvider,
) -> Result<(), String> {
    use aws_credential_types::provider::ProvideCredentials;
    provider.provide_credentials().await.map(|_| ()).map_err(|e| display_chain(&e))
}

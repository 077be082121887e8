//! Findings for a Lambda event source mapping and the Lambda Sink Connector: the mapping's own
//! PROBLEM strings explained with what kreach measured, its network and role, the connector's
//! principal and function.

mod diags;

use super::finding;
use crate::analysis::Diag;
use crate::input::mapping::{EsmProblem, EventSourceMapping, PollerMode};
use crate::report::findings::FindingCode;
use crate::report::{AwsAudit, EsmAudit, Finding, PermissionCheck, Report, Role, Stage, StageStatus, TargetReport};
use crate::text::clean;

/// How the mapping polls, what its network needs for that, and where to look next.
fn poller_mode(t: &TargetReport, m: &EventSourceMapping) -> Finding {
    let mut summary = match m.poller_mode {
        PollerMode::Provisioned => {
            // The documented defaults (1 and 200) where the configuration leaves a count out.
            let p = m.provisioned_pollers.clone().unwrap_or_default();
            format!(
                "event source mapping {} runs in provisioned mode ({}–{} pollers{}): its subnets need no route to the \
                 Lambda, STS or Secrets Manager APIs",
                m.uuid,
                p.minimum_pollers.unwrap_or(1),
                p.maximum_pollers.unwrap_or(200),
                p.poller_group_name.as_deref().map(|g| format!(", poller group {}", clean(g))).unwrap_or_default()
            )
        }
        _ => format!(
            "event source mapping {} polls on demand: its subnets need a route to the Lambda and STS APIs{} (a NAT \
             gateway or interface endpoints)",
            m.uuid,
            if m.auth_secret().is_some() || m.root_ca_secret.is_some() { " and Secrets Manager" } else { "" }
        ),
    };
    if m.amazon_msk() {
        summary.push_str(&format!(
            "; it reads Amazon MSK cluster {}, whose subnets and security groups its pollers use (aws kafka \
             describe-cluster-v2 --cluster-arn {0} shows them; a cross-account cluster is reached through a VPC connection)",
            clean(m.event_source_arn.as_deref().unwrap_or_default())
        ));
    }
    summary.push_str(&format!("; it consumes as group {}", clean(m.consumer_group())));
    if let Some(r) = &m.schema_registry {
        summary.push_str(&format!(
            "; it validates records with the {} schema registry {}",
            if r.glue { "AWS Glue" } else { "Confluent" },
            clean(&r.uri)
        ));
    }
    if !m.metrics.is_empty() {
        summary.push_str(&format!(
            "; it publishes {} (AWS/Lambda metrics by EventSourceMappingUUID)",
            m.metrics.join(", ")
        ));
    }
    if let (Some(level), Some(location)) = (&m.system_log_level, m.system_log_location()) {
        summary.push_str(&format!("; its pollers log at {} to {location}", clean(level)));
    }
    if !m.unknown_settings.is_empty() {
        summary.push_str(&format!("; settings kreach does not know (not checked): {}", m.unknown_settings.join(", ")));
    }
    let fix = if m.poller_mode == PollerMode::Provisioned {
        "Nothing to change for the mode; the pollers' system logs (LoggingConfig.SystemLogLevel) show each connection attempt."
    } else {
        "Nothing to change for the mode; provisioned mode (ProvisionedPollerConfig) removes the need for the API routes."
    };
    finding(FindingCode::EsmPollerMode, t, Stage::Aws, summary, fix.into(), Vec::new())
}

/// What kreach measured on the hop a PROBLEM string is about.
fn measured(problem: EsmProblem, report: &Report) -> String {
    let bootstrap = report.targets.iter().find(|t| t.role == Role::Bootstrap);
    let cell = |stage: Stage| {
        bootstrap
            .and_then(|t| t.stage(stage))
            .map(|s| format!("{} {:?}: {}", stage.as_str().to_uppercase(), s.status, s.summary).to_lowercase())
    };
    let row_failed = |pred: &dyn Fn(&TargetReport) -> bool| {
        report.targets.iter().filter(|t| pred(t)).any(|t| t.stages.iter().any(|s| s.status == StageStatus::Fail))
    };
    match problem {
        EsmProblem::ApisUnreachable => {
            let apis: Vec<String> = report
                .targets
                .iter()
                .filter(|t| t.endpoint.as_ref().is_some_and(|e| e.kind == crate::report::EndpointKind::AwsApi))
                .map(|t| {
                    let ok = t.stages.iter().all(|s| s.status != StageStatus::Fail);
                    format!("{} {}", t.host, if ok { "reachable from here" } else { "NOT reachable from here" })
                })
                .collect();
            if apis.is_empty() {
                "add --aws-apis to check them from here; with the AWS audit, the mapping's routes are in the findings below".into()
            } else {
                apis.join("; ")
            }
        }
        EsmProblem::Connection => {
            let parts: Vec<String> = [Stage::Dns, Stage::Tcp, Stage::Tls].into_iter().filter_map(cell).collect();
            let brokers = if row_failed(&|t| t.role == Role::Broker) { "; some brokers fail" } else { "" };
            format!("from here: {}{brokers}", parts.join(", "))
        }
        EsmProblem::SaslAuthenticationFailed | EsmProblem::ClusterAuthorization => {
            // Say whose credentials the Kafka cell used: the mapping's only when its secret was read.
            let read = report.secret.as_ref().is_some_and(|s| s.outcome == crate::report::SecretOutcome::Read)
                && report
                    .event_source_mapping
                    .as_ref()
                    .and_then(EventSourceMapping::sasl_secret)
                    .is_some_and(|id| report.secret.as_ref().is_some_and(|s| s.secret_id == id));
            let with = if read {
                "with the mapping's secret"
            } else if report.settings.sasl_credentials {
                "with other credentials than the mapping's (its secret was not read)"
            } else {
                "without credentials (the mapping's secret was not read)"
            };
            let kafka = cell(Stage::Kafka).map(|c| format!("from here, {with}: {c}")).unwrap_or_default();
            match (problem, report.access.as_ref()) {
                (EsmProblem::ClusterAuthorization, Some(access)) => {
                    format!("{kafka}; asked read-only: {}", access.summary_line())
                }
                _ => kafka,
            }
        }
        EsmProblem::LambdaRejectedServer | EsmProblem::ServerRejectedLambda | EsmProblem::CertificateInvalid => {
            cell(Stage::Tls).map(|c| format!("from here: {c}")).unwrap_or_default()
        }
        EsmProblem::DestinationUnreachable | EsmProblem::RoleNotAssumable | EsmProblem::Other => String::new(),
    }
}

pub(super) fn esm_findings(t: &TargetReport, report: &Report, m: &EventSourceMapping, out: &mut Vec<Finding>) {
    out.push(poller_mode(t, m));
    if let (Some(secret), Some(why)) = (&m.root_ca_secret, &m.root_ca_error) {
        out.push(finding(
            FindingCode::CredentialsSecretUnreadable,
            t,
            Stage::Tls,
            format!("the mapping's SERVER_ROOT_CA_CERTIFICATE secret {secret} could not be used: {why}"),
            "Grant secretsmanager:GetSecretValue on it (and kms:Decrypt for a customer-managed key), and store the \
             cluster's root CA as {\"certificate\": \"-----BEGIN CERTIFICATE-----…\"}; the TLS stage ran without it."
                .into(),
            Vec::new(),
        ));
    }
    if let Some(r) = m.schema_registry.as_ref().filter(|_| m.poller_mode != PollerMode::Provisioned) {
        out.push(finding(
            FindingCode::EsmSchemaRegistryNeedsProvisioned,
            t,
            Stage::Aws,
            format!(
                "event source mapping {} names the schema registry {} but polls on demand: schema validation and \
                 Avro/Protobuf decoding run only with provisioned pollers",
                m.uuid,
                clean(&r.uri)
            ),
            format!(
                "aws lambda update-event-source-mapping --uuid {} --provisioned-poller-config \
                 MinimumPollers=1,MaximumPollers=200 (or remove the SchemaRegistryConfig)",
                m.uuid
            ),
            Vec::new(),
        ));
    }
    if let Some(check) = &m.client_certificate_problem {
        out.push(client_certificate_finding(t, check));
    }
    for c in m.schema_registry.iter().flat_map(|r| &r.secret_checks) {
        let Some(problem) = &c.problem else { continue };
        out.push(finding(
            FindingCode::EsmSchemaRegistrySecretInvalid,
            t,
            Stage::Aws,
            format!(
                "the schema registry's {} secret {} is not what Lambda reads: {}",
                c.access_type,
                clean(&c.secret_id),
                clean(problem)
            ),
            format!(
                "aws secretsmanager put-secret-value --secret-id {} --secret-string file://secret.json with {}",
                clean(&c.secret_id),
                match c.access_type.as_str() {
                    "BASIC_AUTH" => "{\"username\": \"<registry API key>\", \"password\": \"<its secret>\"}",
                    "SERVER_ROOT_CA_CERTIFICATE" => "{\"certificate\": \"-----BEGIN CERTIFICATE-----…\"}",
                    _ => "{\"certificate\": \"<PEM chain, client certificate first>\", \"privateKey\": \"<PKCS #8 PEM>\"}",
                }
            ),
            Vec::new(),
        ));
    }
    let Some(problem) = m.problem else { return };
    let text = [&m.last_processing_result, &m.state_transition_reason]
        .into_iter()
        .flatten()
        .find(|s| s.to_ascii_lowercase().contains("problem"))
        .cloned()
        .unwrap_or_default();
    let seen = measured(problem, report);
    let fix = match problem {
        EsmProblem::ApisUnreachable => "Give the mapping's subnets a route to the Lambda, STS (and Secrets Manager) APIs: interface \
             endpoints with private DNS, or a NAT gateway; see esm-no-aws-api-route."
            .to_string(),
        EsmProblem::ClusterAuthorization => format!(
            "Grant the mapping's Kafka user the ACLs: DescribeConfigs on the cluster, Describe and Read on the group `{}` \
             and on the topics {:?} (--topic and --consumer-group check them read-only).",
            m.consumer_group(), m.topics
        ),
        EsmProblem::SaslAuthenticationFailed => {
            "Put a valid API key and secret in the mapping's secret (`username`/`password`); the Kafka findings say what \
             the cluster answered to them."
                .into()
        }
        EsmProblem::LambdaRejectedServer => {
            "Give the mapping the cluster's root CA (SERVER_ROOT_CA_CERTIFICATE) when it is private, and check that the \
             certificate names the bootstrap; the TLS findings say what the certificate is."
                .into()
        }
        EsmProblem::DestinationUnreachable => "Give the mapping's subnets a route to its on-failure destination's service: a VPC \
             endpoint for it (interface with private DNS; a gateway endpoint for S3) or a NAT gateway; see \
             esm-destination-unreachable."
            .to_string(),
        EsmProblem::RoleNotAssumable => "Let Lambda assume the function's execution role: its trust policy needs an Allow \
             statement for sts:AssumeRole with Principal {\"Service\": \"lambda.amazonaws.com\"} (aws iam \
             update-assume-role-policy); see esm-role-trust-missing."
            .to_string(),
        _ => "See the other findings of this report for the hop that fails.".into(),
    };
    out.push(finding(
        FindingCode::EsmStateProblem,
        t,
        Stage::Kafka,
        format!(
            "event source mapping {} says \"{}\": {}{}",
            m.uuid,
            crate::text::clean(&text),
            problem.explanation(),
            if seen.is_empty() { String::new() } else { format!(" ({seen})") }
        ),
        fix,
        Vec::new(),
    ));
}

pub(super) fn esm_audit_findings(
    t: &TargetReport,
    report: &Report,
    audit: &AwsAudit,
    m: &EventSourceMapping,
    out: &mut Vec<Finding>,
) {
    let Some(esm) = &audit.event_source_mapping else { return };
    let mut found = Vec::new();
    // An Amazon MSK mapping names no subnets or groups: its pollers use the cluster's own network,
    // checked as the mapping's when the audit read the cluster (esm-poller-mode says where to look
    // when it could not).
    if !(m.amazon_msk() && m.subnets.is_empty() && m.security_groups.is_empty()) {
        network_diags(report, audit, esm, m, &mut found);
    } else if let Some(d) = esm.msk_cluster.as_ref().and_then(|c| vpc_connection_diag(c, m)) {
        found.push(d);
    } else if let Some(cluster) = &esm.msk_cluster {
        let mut on_cluster = m.clone();
        on_cluster.subnets = cluster.subnets.clone();
        on_cluster.security_groups = cluster.security_groups.clone();
        network_diags(report, audit, esm, &on_cluster, &mut found);
        for e in cluster.self_ingress.iter().filter(|e| !e.allowed) {
            found.push(diags::cluster_sg_ingress_missing(cluster, e.port));
        }
    }
    found.extend(role_diag(esm));
    if let Some(errors) = esm.system_log_errors.as_ref().filter(|e| !e.is_empty()) {
        found.push(diags::system_log_errors(m, errors));
    }
    found.extend(esm.destination_policy.as_ref().and_then(|d| destination_policy_diag(d, esm.role.as_deref())));
    if let (Some(services), Some(role)) = (&esm.role_trusted_services, &esm.role)
        && !services.iter().any(|s| s == LAMBDA_SERVICE)
    {
        found.push(diags::role_trust_missing(role, services));
    }
    out.extend(found.into_iter().map(|d| {
        let mut f = d.on(t, Stage::Aws);
        if f.resources.is_empty() {
            f.resources = match f.code {
                FindingCode::EsmSgEgressMissing => m.security_groups.clone(),
                FindingCode::EsmEndpointIngressMissing => super::aws::blamed(FindingCode::AwsSgMissingIngress, audit),
                FindingCode::EsmPniIngressMissing => super::aws::blamed(FindingCode::AwsPniSgMissingIngress, audit),
                _ => Vec::new(),
            };
        }
        f
    }));
}

/// What the destination's own policy says of the role's send: an explicit Deny, or, from another
/// account, no Allow, stops it; a statement kreach does not evaluate leaves it unverified.
fn destination_policy_diag(d: &crate::report::DestinationPolicy, role: Option<&str>) -> Option<Diag> {
    use crate::report::PermissionVerdict as V;
    let role = role.unwrap_or("(the execution role)");
    match d.verdict {
        V::Denied => Some(diags::destination_policy_denies(d, role)),
        V::NotAllowed if d.cross_account => Some(diags::destination_policy_denies(d, role)),
        V::Conditional => Some(diags::destination_policy_not_verified(d, role)),
        V::Unknown if d.cross_account => Some(diags::destination_policy_not_verified(d, role)),
        _ => None,
    }
}

/// The service principal that assumes a function's execution role.
const LAMBDA_SERVICE: &str = "lambda.amazonaws.com";

/// A cross-account cluster whose VPC connection cannot carry the pollers' traffic: missing, or
/// not AVAILABLE.
fn vpc_connection_diag(c: &crate::report::MskCluster, m: &EventSourceMapping) -> Option<Diag> {
    let usable = c.vpc_connection.is_some() && c.state.eq_ignore_ascii_case("AVAILABLE");
    (c.cross_account && !usable).then(|| diags::msk_vpc_connection_unusable(c, m))
}

/// Whether an inbound rule's source covers the mapping's pollers: one of its security groups, or
/// a CIDR holding every one of its subnets (a subnet whose block was not read is taken as held:
/// nothing says otherwise).
fn admits_mapping(rule: &crate::report::AwsIngressRule, m: &EventSourceMapping, esm: &EsmAudit) -> bool {
    if m.security_groups.contains(&rule.source) {
        return true;
    }
    let Ok(net) = rule.source.parse::<ipnet::IpNet>() else { return false };
    esm.subnets.iter().all(|s| {
        s.cidr.as_deref().and_then(|c| c.parse::<ipnet::IpNet>().ok()).is_none_or(|block| net.contains(&block))
    })
}

/// The mapping's network: its egress, the endpoint's ingress from it, its zones, its API routes.
fn network_diags(report: &Report, audit: &AwsAudit, esm: &EsmAudit, m: &EventSourceMapping, out: &mut Vec<Diag>) {
    out.extend(esm.egress.iter().filter(|e| !e.allowed).map(|e| diags::sg_egress_missing(m, e)));
    // The endpoint's inbound rules must admit the mapping's groups on 443 and the Kafka ports.
    if let Some(ep) =
        audit.endpoint.as_ref().filter(|ep| !audit.ingress_rules.is_empty() || !ep.security_groups.is_empty())
    {
        let mut ports = m.kafka_ports();
        ports.push(crate::DEFAULT_HTTPS_PORT);
        for port in ports {
            let admitted = audit.ingress_rules.iter().any(|r| r.admits(port) && admits_mapping(r, m, esm));
            if !admitted {
                out.push(diags::endpoint_ingress_missing(ep, m, port));
            }
        }
    }
    // Confluent PNI (no endpoint): the interfaces' own groups must admit the mapping's the same way.
    let pni = crate::analysis::ingress::Ingress::pni_applies(report.network.as_ref());
    if pni && audit.endpoint.is_none() && !audit.pni_interfaces.is_empty() {
        let rules: Vec<&crate::report::AwsIngressRule> =
            audit.pni_interfaces.iter().flat_map(|i| &i.ingress_rules).collect();
        let mut ports = m.kafka_ports();
        ports.push(crate::DEFAULT_HTTPS_PORT);
        for port in ports {
            let admitted = rules.iter().any(|r| r.admits(port) && admits_mapping(r, m, esm));
            if !admitted {
                out.push(diags::pni_ingress_missing(&audit.pni_interfaces, m, port));
            }
        }
    }
    // Every zone a broker is in should have a subnet of the mapping.
    let covered: Vec<&str> = esm.subnets.iter().map(|s| s.az_id.as_str()).collect();
    let mut zones: Vec<&str> = report.zones.iter().map(|z| z.az_id.as_str()).collect();
    zones.dedup();
    for az in zones.into_iter().filter(|z| !covered.contains(z)) {
        out.push(diags::subnet_zone_missing(m, az, &covered));
    }
    // Provisioned pollers need no route to the Lambda, STS or Secrets Manager APIs (AWS documents
    // the requirement for on-demand mappings only).
    if m.poller_mode.needs_aws_api_routes() {
        let region = audit.region.as_deref().or(m.region.as_deref()).unwrap_or("<region>");
        let vpc = esm.subnets.first().map_or("<vpc>", |s| s.vpc_id.as_str());
        for r in
            esm.api_routes.iter().filter(|r| !r.destination && !r.schema_registry && !r.unrouted_subnets.is_empty())
        {
            out.push(diags::no_aws_api_route(r, region, vpc, m));
        }
    }
    // The on-failure destination is needed in every mode.
    let region = audit.region.as_deref().or(m.region.as_deref()).unwrap_or("<region>");
    let vpc = esm.subnets.first().map_or("<vpc>", |s| s.vpc_id.as_str());
    for r in esm.api_routes.iter().filter(|r| r.destination && !r.unrouted_subnets.is_empty()) {
        out.push(diags::destination_unreachable(r, region, vpc, m));
    }
    // So is the schema registry, by the pollers that use it (provisioned ones).
    for r in esm.api_routes.iter().filter(|r| r.schema_registry && !r.unrouted_subnets.is_empty()) {
        out.push(diags::schema_registry_unreachable(r, region, vpc, m));
    }
}

/// The mapping's client certificate secret, when it cannot be used as Lambda uses it.
fn client_certificate_finding(t: &TargetReport, check: &crate::report::ClientCertSecretCheck) -> Finding {
    use crate::report::ClientCertSecretProblem as P;
    let secret = clean(&check.secret_id);
    let summary = format!("the mapping's CLIENT_CERTIFICATE_TLS_AUTH secret {secret}: {}", check.detail);
    let (code, fix) = match check.problem {
        P::Unreadable => (
            FindingCode::CredentialsSecretUnreadable,
            "Grant secretsmanager:GetSecretValue on it (and kms:Decrypt for a customer-managed key) to the function's \
             role and to whoever runs kreach; the TLS stage ran without a client certificate."
                .to_string(),
        ),
        P::EncryptedNotVerified => (
            FindingCode::EsmClientCertificateNotVerified,
            format!(
                "To have kreach check it, run with the decrypted pair as ssl.certificate.location and ssl.key.location \
                 (kept in memory); Lambda itself decrypts PBES1-encrypted PKCS #8 keys with privateKeyPassword. {}",
                "The TLS stage ran without a client certificate."
            ),
        ),
        P::NotPkcs8 => (
            FindingCode::EsmClientCertificateInvalid,
            format!(
                "Store the key as PKCS #8 (openssl pkcs8 -topk8 -nocrypt -in key.pem) in the secret's privateKey: aws \
                 secretsmanager put-secret-value --secret-id {secret} --secret-string file://mtls.json"
            ),
        ),
        _ => (
            FindingCode::EsmClientCertificateInvalid,
            format!(
                "Store {{\"certificate\": \"<client certificate, then intermediates, PEM>\", \"privateKey\": \"<its PKCS #8 \
                 key, PEM>\"}} (and privateKeyPassword for an encrypted key): aws secretsmanager put-secret-value \
                 --secret-id {secret} --secret-string file://mtls.json"
            ),
        ),
    };
    let mut f = finding(code, t, Stage::Tls, summary, fix, Vec::new());
    f.resources.push(check.secret_id.clone());
    f
}

/// The execution role's missing permissions, as one finding with the statements to attach.
fn role_diag(esm: &EsmAudit) -> Option<Diag> {
    let missing: Vec<&PermissionCheck> = esm.permissions.iter().filter(|p| p.missing()).collect();
    (!missing.is_empty()).then(|| diags::role_missing_permission(esm, &missing))
}

pub(super) fn connector_findings(t: &TargetReport, audit: &AwsAudit, out: &mut Vec<Finding>) {
    let Some(c) = &audit.sink_connector else { return };
    let function = c.function.as_deref().unwrap_or("(the function)");
    if c.function_found == Some(false) {
        out.push(diags::connector_function_not_found(function, audit.region.as_deref()).on(t, Stage::Aws));
    }
    let missing: Vec<&PermissionCheck> = c.permissions.iter().filter(|p| p.missing()).collect();
    if !missing.is_empty() {
        out.push(diags::connector_permission_missing(c, function, &missing).on(t, Stage::Aws));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::MskCluster;

    /// moto has no MSK VPC connections: the states a cross-account cluster's connection can be
    /// in are fed to the rule directly.
    #[test]
    fn a_cross_account_cluster_needs_an_available_vpc_connection() {
        let m = EventSourceMapping::parse(
            br#"{"UUID": "u-1", "EventSourceArn": "arn:aws:kafka:us-west-2:222222222222:cluster/c/1",
                 "FunctionArn": "arn:aws:lambda:us-west-2:111111111111:function:f"}"#,
        )
        .expect("mapping");
        let cluster = |connection: Option<&str>, state: &str| MskCluster {
            arn: "arn:aws:kafka:us-west-2:222222222222:cluster/c/1".into(),
            state: state.into(),
            cross_account: true,
            vpc_connection: connection.map(str::to_string),
            ..Default::default()
        };
        let missing = vpc_connection_diag(&cluster(None, ""), &m).expect("no connection");
        assert_eq!(missing.code, FindingCode::EsmMskVpcConnectionUnusable);
        assert!(missing.summary.contains("no managed VPC connection"), "{}", missing.summary);
        assert!(missing.fix.contains("create-vpc-connection --target-cluster-arn arn:aws:kafka:"), "{}", missing.fix);
        let rejected = vpc_connection_diag(&cluster(Some("arn:conn"), "REJECTED"), &m).expect("rejected");
        assert!(rejected.summary.contains("arn:conn is REJECTED") && rejected.fix.contains("rejected"), "{rejected:?}");
        let creating = vpc_connection_diag(&cluster(Some("arn:conn"), "CREATING"), &m).expect("creating");
        assert!(creating.fix.starts_with("Wait"), "{}", creating.fix);
        assert!(vpc_connection_diag(&cluster(Some("arn:conn"), "AVAILABLE"), &m).is_none());
        let same_account = MskCluster { cross_account: false, ..cluster(None, "ACTIVE") };
        assert!(vpc_connection_diag(&same_account, &m).is_none());
    }
}

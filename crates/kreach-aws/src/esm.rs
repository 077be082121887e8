//! The event source mapping's side (its subnets, routes, security groups, the function's role) and
//! the Lambda Sink Connector's (its principal, the function). Read-only calls only.

use kreach::EventSourceMapping;
use kreach::report::AwsAudit;
use kreach::report::ConnectorAudit;
use kreach::report::EsmApiRoute;
use kreach::report::EsmAudit;
use kreach::report::EsmEgress;
use kreach::report::EsmSubnet;

use crate::ec2::{Ec2, filter, route_table_of, route_tables, security_groups};
use crate::pages::listing;
use crate::{AwsError, classify, iam, note, sg_rules};

/// The services the mapping's pollers call besides Kafka.
const SERVICES: [&str; 3] = ["lambda", "sts", "secretsmanager"];

/// Reads a mapping with `lambda:GetEventSourceMapping` (`UUID` or ARN), as the JSON the CLI prints.
pub async fn fetch_mapping(sdk: &aws_config::SdkConfig, id: &str) -> Result<EventSourceMapping, AwsError> {
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let uuid = id.rsplit(':').next().unwrap_or(id);
    let out = lambda
        .get_event_source_mapping()
        .uuid(uuid)
        .send()
        .await
        .map_err(|e| classify("lambda:GetEventSourceMapping", e))?;
    // Rebuilt in the documented JSON shape, so the file and the API go through one parser.
    let configs: Vec<serde_json::Value> = out
        .source_access_configurations()
        .iter()
        .map(|c| serde_json::json!({"Type": c.r#type().map(|t| t.as_str()), "URI": c.uri()}))
        .collect();
    let servers: Vec<String> = out
        .self_managed_event_source()
        .and_then(|s| s.endpoints())
        .and_then(|e| e.get(&aws_sdk_lambda::types::EndPointType::KafkaBootstrapServers))
        .cloned()
        .unwrap_or_default();
    let json = serde_json::json!({
        "UUID": out.uuid(),
        "EventSourceMappingArn": out.event_source_mapping_arn(),
        "FunctionArn": out.function_arn(),
        "State": out.state(),
        "StateTransitionReason": out.state_transition_reason(),
        "LastProcessingResult": out.last_processing_result(),
        "Topics": out.topics(),
        "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": servers}},
        "SourceAccessConfigurations": configs,
        "EventSourceArn": out.event_source_arn(),
        "SelfManagedKafkaEventSourceConfig":
            out.self_managed_kafka_event_source_config().map(|c| serde_json::json!({"ConsumerGroupId": c.consumer_group_id()})),
        "AmazonManagedKafkaEventSourceConfig":
            out.amazon_managed_kafka_event_source_config().map(|c| serde_json::json!({"ConsumerGroupId": c.consumer_group_id()})),
        // This SDK release has no PollerGroupName or LoggingConfig yet; a mapping file keeps them.
        "ProvisionedPollerConfig": out.provisioned_poller_config().map(|p| serde_json::json!({
            "MinimumPollers": p.minimum_pollers(),
            "MaximumPollers": p.maximum_pollers(),
        })),
        "MetricsConfig": out.metrics_config().map(|m| serde_json::json!({
            "Metrics": m.metrics().iter().map(|x| x.as_str()).collect::<Vec<_>>(),
        })),
        "DestinationConfig": out.destination_config().and_then(|d| d.on_failure()).map(|f| serde_json::json!({
            "OnFailure": {"Destination": f.destination()},
        })),
    });
    EventSourceMapping::parse(json.to_string().as_bytes())
        .map_err(|e| AwsError::invalid(format!("lambda:GetEventSourceMapping: {e}")))
}

/// Audits the mapping's network and the function's role into `audit.event_source_mapping`.
pub(crate) async fn audit_mapping(sdk: &aws_config::SdkConfig, m: &EventSourceMapping, audit: &mut AwsAudit) {
    let mut esm = EsmAudit::default();
    let region = audit.region.clone().or_else(|| m.region.clone()).unwrap_or_default();
    // An Amazon MSK mapping's pollers sit in the cluster's subnets with its security groups.
    let msk_network;
    let m = if m.amazon_msk() && m.subnets.is_empty() && m.security_groups.is_empty() {
        esm.msk_cluster = crate::msk::msk_cluster(sdk, m, audit).await;
        let mut on_cluster = m.clone();
        if let Some(c) = &esm.msk_cluster {
            on_cluster.subnets = c.subnets.clone();
            on_cluster.security_groups = c.security_groups.clone();
        }
        msk_network = on_cluster;
        &msk_network
    } else {
        m
    };
    if !m.subnets.is_empty() || !m.security_groups.is_empty() {
        mapping_network(&Ec2::new(sdk), m, &region, &mut esm, audit).await;
    }
    // The function's role and what it may do.
    if let Some(function) = &m.function_arn {
        let lambda = aws_sdk_lambda::Client::new(sdk);
        audit.calls.push("lambda:GetFunctionConfiguration".into());
        match lambda.get_function_configuration().function_name(function).send().await {
            Ok(out) => esm.role = out.role().map(str::to_string),
            Err(e) => {
                note(audit, classify("lambda:GetFunctionConfiguration", e));
            }
        }
    }
    if let Some(role) = esm.role.clone() {
        let mut checks: Vec<(&str, String)> = [
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeVpcs",
            "ec2:DeleteNetworkInterface",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
        ]
        .into_iter()
        .map(|a| (a, "*".to_string()))
        .collect();
        checks.extend(m.on_failure_destination.as_deref().and_then(crate::destination::send_permission));
        if let Some(cluster) = &esm.msk_cluster {
            checks.extend(crate::msk_iam::pollers_need(m, cluster));
        }
        esm.role_trusted_services = crate::destination::trusted_services(sdk, &role, audit).await;
        if let Some(destination) = m.on_failure_destination.as_deref() {
            esm.destination_policy = crate::destination::destination_policy(sdk, destination, &role, audit).await;
        }
        let sm = aws_sdk_secretsmanager::Client::new(sdk);
        // The schema registry's: its access secrets, and for a Glue registry the reads the Lambda
        // guide lists (glue:GetRegistry, glue:GetSchemaVersion).
        let registry = m.schema_registry.as_ref();
        if let Some(r) = registry.filter(|r| r.glue) {
            checks.push(("glue:GetRegistry", r.uri.clone()));
            checks.push(("glue:GetSchemaVersion", r.uri.clone()));
        }
        let registry_secrets = registry.into_iter().flat_map(|r| r.access.iter().map(|(_, s)| s.as_str()));
        let mut secrets: Vec<&str> =
            [m.auth_secret(), m.root_ca_secret.as_deref()].into_iter().flatten().chain(registry_secrets).collect();
        secrets.dedup();
        for secret in secrets {
            checks.push(("secretsmanager:GetSecretValue", secret.to_string()));
            // A customer-managed key must let the role decrypt the secret too.
            audit.calls.push("secretsmanager:DescribeSecret".into());
            match sm.describe_secret().secret_id(secret).send().await {
                Ok(out) => {
                    if let Some(key) =
                        out.kms_key_id().filter(|k| !k.is_empty() && !k.ends_with("alias/aws/secretsmanager"))
                    {
                        // IAM judges kms:Decrypt on the key's ARN; a key behind an alias is not
                        // known without reading KMS: that check stays "unknown" (empty resource).
                        let arn = crate::iam::kms_key_arn(key, out.arn().or(Some(secret)));
                        checks.push(("kms:Decrypt", arn.unwrap_or_default()));
                    }
                }
                Err(e) => {
                    note(audit, classify("secretsmanager:DescribeSecret", e));
                }
            }
        }
        let (verdicts, method) = iam::check(sdk, &role, &checks, audit).await;
        esm.permissions = crate::msk_iam::either_describe(verdicts, esm.msk_cluster.as_ref());
        esm.permission_method = Some(method);
    }
    esm.system_log_errors = crate::esm_logs::system_log_errors(sdk, m, audit).await;
    audit.event_source_mapping = Some(esm);
}

/// The mapping's subnets (zone, VPC, route to the internet), the interface endpoints its pollers
/// could use for the AWS APIs, and its security groups' egress.
async fn mapping_network(ec2: &Ec2, m: &EventSourceMapping, region: &str, esm: &mut EsmAudit, audit: &mut AwsAudit) {
    // Subnets: zone and VPC.
    if !m.subnets.is_empty() {
        audit.calls.push("ec2:DescribeSubnets".into());
        let asked =
            listing!("ec2:DescribeSubnets", ec2.describe_subnets().set_subnet_ids(Some(m.subnets.clone())), subnets);
        match asked.await {
            Ok(subnets) => {
                for s in &subnets {
                    let mut subnet = EsmSubnet::default();
                    subnet.id = s.subnet_id().unwrap_or("").into();
                    subnet.vpc_id = s.vpc_id().unwrap_or("").into();
                    subnet.az_name = s.availability_zone().unwrap_or("").into();
                    subnet.az_id = s.availability_zone_id().unwrap_or("").into();
                    subnet.cidr = s.cidr_block().filter(|c| !c.is_empty()).map(str::to_string);
                    esm.subnets.push(subnet);
                }
            }
            Err(e) => {
                note(audit, e);
            }
        }
    }
    // Route tables: each subnet's (explicit association, else the VPC's main table).
    let vpcs: Vec<String> = {
        let mut v: Vec<String> = esm.subnets.iter().map(|s| s.vpc_id.clone()).filter(|v| !v.is_empty()).collect();
        v.sort();
        v.dedup();
        v
    };
    if !vpcs.is_empty() {
        audit.calls.push("ec2:DescribeRouteTables".into());
        match route_tables(ec2, &vpcs).await {
            Ok(tables) => {
                for subnet in &mut esm.subnets {
                    let Some(table) = route_table_of(&tables, &subnet.id, &subnet.vpc_id) else { continue };
                    subnet.route_table = table.route_table_id().map(str::to_string);
                    subnet.internet_route = table
                        .routes()
                        .iter()
                        .filter(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
                        .find_map(|r| {
                            r.nat_gateway_id()
                                .filter(|n| !n.is_empty())
                                .or(r.gateway_id().filter(|g| g.starts_with("igw-")))
                        })
                        .map(str::to_string);
                }
            }
            Err(e) => {
                note(audit, e);
            }
        }
        api_routes(ec2, m, region, &vpcs, esm, audit).await;
    }
    // The mapping's security groups: 443 out to everywhere, the Kafka ports out.
    if !m.security_groups.is_empty() {
        audit.calls.push("ec2:DescribeSecurityGroups".into());
        match security_groups(ec2, &m.security_groups).await {
            Ok(groups) => {
                let mut rules: Vec<(String, crate::SgRule)> = Vec::new();
                for sg in &groups {
                    let group = sg.group_id().unwrap_or("").to_string();
                    rules.extend(sg_rules(sg.ip_permissions_egress()).into_iter().map(|r| (group.clone(), r)));
                }
                // An MSK cluster's groups must admit themselves on the broker port: the pollers'
                // ENI carries those groups.
                if let Some(c) = &mut esm.msk_cluster {
                    let inbound: Vec<(String, crate::SgRule)> = groups
                        .iter()
                        .flat_map(|sg| {
                            let group = sg.group_id().unwrap_or("").to_string();
                            sg_rules(sg.ip_permissions()).into_iter().map(move |r| (group.clone(), r))
                        })
                        .collect();
                    for port in c.broker_ports.clone() {
                        let mut e = EsmEgress::default();
                        e.port = port;
                        e.needs = format!("from {}", c.security_groups.join(", "));
                        e.rules = inbound
                            .iter()
                            .filter(|(_, r)| {
                                (r.all || (r.from <= port && port <= r.to)) && c.security_groups.contains(&r.peer)
                            })
                            .map(|(g, r)| format!("{g} ← {}", r.peer))
                            .collect();
                        e.allowed = !e.rules.is_empty();
                        c.self_ingress.push(e);
                    }
                }
                let admits = |port: u16, anywhere: bool| -> Vec<String> {
                    rules
                        .iter()
                        .filter(|(_, r)| {
                            (r.all || (r.from <= port && port <= r.to)) && (!anywhere || r.peer == "0.0.0.0/0")
                        })
                        .map(|(g, r)| format!("{g} → {}", r.peer))
                        .collect()
                };
                let mut needs = vec![(443u16, true, "0.0.0.0/0".to_string())];
                match &esm.msk_cluster {
                    Some(c) => {
                        needs.extend(c.broker_ports.iter().map(|p| (*p, false, "the cluster's brokers".to_string())))
                    }
                    None => needs
                        .extend(m.kafka_ports().into_iter().map(|p| (p, false, "the endpoint (Kafka)".to_string()))),
                }
                for (port, anywhere, what) in needs {
                    let mut e = EsmEgress::default();
                    e.port = port;
                    e.needs = what;
                    e.rules = admits(port, anywhere);
                    e.allowed = !e.rules.is_empty();
                    esm.egress.push(e);
                }
            }
            Err(e) => {
                note(audit, e);
            }
        }
    }
}

/// Audits the Lambda Sink Connector's principal and function into `audit.sink_connector`.
pub(crate) async fn audit_connector(
    sdk: &aws_config::SdkConfig,
    principal: Option<&str>,
    function: Option<&str>,
    audit: &mut AwsAudit,
) {
    let mut c = ConnectorAudit::default();
    c.principal = principal.map(str::to_string);
    c.function = function.map(str::to_string);
    if let Some(f) = function {
        let lambda = aws_sdk_lambda::Client::new(sdk);
        audit.calls.push("lambda:GetFunction".into());
        match lambda.get_function().function_name(f).send().await {
            Ok(out) => {
                c.function_found = Some(true);
                c.function_arn = out.configuration().and_then(|cfg| cfg.function_arn()).map(str::to_string);
            }
            Err(e) => {
                let not_found = e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception());
                if not_found {
                    c.function_found = Some(false);
                } else {
                    note(audit, classify("lambda:GetFunction", e));
                }
            }
        }
    }
    // A function that does not exist has no ARN to judge a permission on.
    if let Some(p) = principal.filter(|_| c.function_found != Some(false)) {
        let resource = c.function_arn.clone().or_else(|| function.map(str::to_string)).unwrap_or_else(|| "*".into());
        let checks = [("lambda:InvokeFunction", resource.clone()), ("lambda:GetFunction", resource)];
        let (verdicts, method) = iam::check(sdk, p, &checks, audit).await;
        c.permissions = verdicts;
        c.permission_method = Some(method);
    }
    audit.sink_connector = Some(c);
}

/// How each AWS API the mapping needs (Lambda, STS, Secrets Manager with a secret), its on-failure
/// destination's service and its schema registry are reached from its subnets: an interface
/// endpoint with private DNS in `vpcs` (S3's gateway endpoint), else the subnets without NAT.
async fn api_routes(
    ec2: &Ec2,
    m: &EventSourceMapping,
    region: &str,
    vpcs: &[String],
    esm: &mut EsmAudit,
    audit: &mut AwsAudit,
) {
    // Interface endpoints for the APIs, with private DNS.
    audit.calls.push("ec2:DescribeVpcEndpoints".into());
    let asked = listing!(
        "ec2:DescribeVpcEndpoints",
        ec2.describe_vpc_endpoints().filters(filter("vpc-id", vpcs)),
        vpc_endpoints
    );
    let endpoints = match asked.await {
        Ok(items) => items,
        Err(e) => {
            note(audit, e);
            Vec::new()
        }
    };
    let needed = SERVICES
        .iter()
        .filter(|s| **s != "secretsmanager" || m.auth_secret().is_some() || m.root_ca_secret.is_some())
        .map(|s| (*s, false));
    // The on-failure destination's service, whatever the poller mode.
    let destination =
        m.on_failure_destination.as_deref().and_then(crate::destination::destination_service).map(|s| (s, true));
    for (service, for_destination) in needed.chain(destination).chain(registry_glue(m)) {
        let name = format!("com.amazonaws.{region}.{service}");
        let ep = endpoints.iter().find(|e| {
            e.service_name() == Some(name.as_str())
                // S3's gateway endpoint routes by prefix list, without private DNS.
                && (e.private_dns_enabled() == Some(true)
                    || e.vpc_endpoint_type().is_some_and(|t| t.as_str().eq_ignore_ascii_case("Gateway")))
                && e.state().is_none_or(|s| s.as_str().eq_ignore_ascii_case("available"))
        });
        let mut route = EsmApiRoute::default();
        route.schema_registry = service == "glue";
        route.destination = for_destination;
        route.service = service.to_string();
        route.interface_endpoint = ep.and_then(|e| e.vpc_endpoint_id()).filter(|i| !i.is_empty()).map(str::to_string);
        if route.interface_endpoint.is_none() {
            route.unrouted_subnets =
                esm.subnets.iter().filter(|s| s.internet_route.is_none()).map(|s| s.id.clone()).collect();
        }
        esm.api_routes.push(route);
    }
    // A Confluent or self-managed registry's URL: no interface endpoint applies, only NAT.
    if let Some(host) = m.schema_registry.as_ref().filter(|r| !r.glue).and_then(|r| registry_host(&r.uri)) {
        let mut route = EsmApiRoute::default();
        route.schema_registry = true;
        route.service = host;
        route.unrouted_subnets =
            esm.subnets.iter().filter(|s| s.internet_route.is_none()).map(|s| s.id.clone()).collect();
        esm.api_routes.push(route);
    }
}

/// A Glue schema registry's API, needed from the mapping's subnets (in any mode that uses it;
/// not the destination's).
fn registry_glue(m: &kreach::EventSourceMapping) -> Option<(&'static str, bool)> {
    m.schema_registry.as_ref().filter(|r| r.glue).map(|_| ("glue", false))
}

/// The host of a registry URL (`https://psrc-abc12.us-west-2.aws.confluent.cloud` →
/// `psrc-abc12.us-west-2.aws.confluent.cloud`).
fn registry_host(uri: &str) -> Option<String> {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?;
    let host = host.rsplit_once(':').filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit())).map_or(host, |(h, _)| h);
    (!host.is_empty() && host.len() <= 253).then(|| kreach::render::clean(host).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_url_gives_its_host() {
        assert_eq!(
            registry_host("https://psrc-abc12.us-west-2.aws.confluent.cloud").as_deref(),
            Some("psrc-abc12.us-west-2.aws.confluent.cloud")
        );
        assert_eq!(registry_host("https://user@sr.internal:8081/subjects?x=1").as_deref(), Some("sr.internal"));
        assert_eq!(registry_host("sr.internal").as_deref(), Some("sr.internal"));
        assert_eq!(registry_host("https://"), None);
    }
}

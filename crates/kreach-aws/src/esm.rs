//! The event source mapping's side (its subnets, routes, security groups, the function's role) and
//! the Lambda Sink Connector's (its principal, the function). Read-only calls only.

use aws_sdk_ec2::types::Filter;
use kreach::{AwsAudit, ConnectorAudit, EsmApiRoute, EsmAudit, EsmEgress, EsmSubnet, EventSourceMapping};

use crate::{classify, iam, note};

/// The services the mapping's pollers call besides Kafka.
const SERVICES: [&str; 3] = ["lambda", "sts", "secretsmanager"];

/// Reads a mapping with `lambda:GetEventSourceMapping` (`UUID` or ARN), as the JSON the CLI prints.
pub async fn fetch_mapping(sdk: &aws_config::SdkConfig, id: &str) -> Result<EventSourceMapping, String> {
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let uuid = id.rsplit(':').next().unwrap_or(id);
    let out = lambda
        .get_event_source_mapping()
        .uuid(uuid)
        .send()
        .await
        .map_err(|e| format!("lambda:GetEventSourceMapping: {}", crate::display_chain(&e)))?;
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
    EventSourceMapping::parse(json.to_string().as_bytes()).map_err(|e| format!("lambda:GetEventSourceMapping: {e}"))
}

/// Audits the mapping's network and the function's role into `audit.event_source_mapping`.
pub(crate) async fn audit_mapping(sdk: &aws_config::SdkConfig, m: &EventSourceMapping, audit: &mut AwsAudit) {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let mut esm = EsmAudit::default();
    let region = audit.region.clone().or_else(|| m.region.clone()).unwrap_or_default();

    // Subnets: zone and VPC.
    if !m.subnets.is_empty() {
        audit.calls.push("ec2:DescribeSubnets".into());
        match ec2.describe_subnets().set_subnet_ids(Some(m.subnets.clone())).send().await {
            Ok(out) => {
                for s in out.subnets() {
                    let mut subnet = EsmSubnet::default();
                    subnet.id = s.subnet_id().unwrap_or("").into();
                    subnet.vpc_id = s.vpc_id().unwrap_or("").into();
                    subnet.az_name = s.availability_zone().unwrap_or("").into();
                    subnet.az_id = s.availability_zone_id().unwrap_or("").into();
                    esm.subnets.push(subnet);
                }
            }
            Err(e) => {
                note(audit, classify("ec2:DescribeSubnets", e));
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
        let filter = Filter::builder().name("vpc-id").set_values(Some(vpcs.clone())).build();
        match ec2.describe_route_tables().filters(filter).send().await {
            Ok(out) => {
                for subnet in &mut esm.subnets {
                    let tables = out.route_tables();
                    let explicit = tables
                        .iter()
                        .find(|t| t.associations().iter().any(|a| a.subnet_id() == Some(subnet.id.as_str())));
                    let main = tables.iter().find(|t| {
                        t.vpc_id() == Some(subnet.vpc_id.as_str())
                            && t.associations().iter().any(|a| a.main() == Some(true))
                    });
                    let Some(table) = explicit.or(main) else { continue };
                    subnet.route_table = table.route_table_id().map(str::to_string);
                    subnet.internet_route = table
                        .routes()
                        .iter()
                        .filter(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
                        .find_map(|r| r.nat_gateway_id().or(r.gateway_id().filter(|g| g.starts_with("igw-"))))
                        .map(str::to_string);
                }
            }
            Err(e) => {
                note(audit, classify("ec2:DescribeRouteTables", e));
            }
        }
        // Interface endpoints for the APIs, with private DNS.
        audit.calls.push("ec2:DescribeVpcEndpoints".into());
        let filter = Filter::builder().name("vpc-id").set_values(Some(vpcs)).build();
        let endpoints = match ec2.describe_vpc_endpoints().filters(filter).send().await {
            Ok(out) => out.vpc_endpoints().to_vec(),
            Err(e) => {
                note(audit, classify("ec2:DescribeVpcEndpoints", e));
                Vec::new()
            }
        };
        let needed = SERVICES
            .iter()
            .filter(|s| **s != "secretsmanager" || m.sasl_secret().is_some() || m.root_ca_secret.is_some());
        for service in needed {
            let name = format!("com.amazonaws.{region}.{service}");
            let ep = endpoints.iter().find(|e| {
                e.service_name() == Some(name.as_str())
                    && e.private_dns_enabled() == Some(true)
                    && e.state().is_none_or(|s| s.as_str().eq_ignore_ascii_case("available"))
            });
            let mut route = EsmApiRoute::default();
            route.service = service.to_string();
            route.interface_endpoint = ep.and_then(|e| e.vpc_endpoint_id()).map(str::to_string);
            if route.interface_endpoint.is_none() {
                route.unrouted_subnets =
                    esm.subnets.iter().filter(|s| s.internet_route.is_none()).map(|s| s.id.clone()).collect();
            }
            esm.api_routes.push(route);
        }
    }
    // The mapping's security groups: 443 out to everywhere, the Kafka ports out.
    if !m.security_groups.is_empty() {
        audit.calls.push("ec2:DescribeSecurityGroups".into());
        match ec2.describe_security_groups().set_group_ids(Some(m.security_groups.clone())).send().await {
            Ok(out) => {
                let mut rules: Vec<(String, u16, u16, bool, String)> = Vec::new();
                for sg in out.security_groups() {
                    let group = sg.group_id().unwrap_or("").to_string();
                    for perm in sg.ip_permissions_egress() {
                        let proto = perm.ip_protocol().unwrap_or("");
                        if proto != "-1" && proto != "tcp" && proto != "6" {
                            continue;
                        }
                        let port = |p: Option<i32>| p.and_then(|p| u16::try_from(p).ok()).unwrap_or(0);
                        let all = proto == "-1";
                        let dests = perm
                            .ip_ranges()
                            .iter()
                            .filter_map(|r| r.cidr_ip())
                            .chain(perm.user_id_group_pairs().iter().filter_map(|g| g.group_id()))
                            .chain(perm.prefix_list_ids().iter().filter_map(|p| p.prefix_list_id()));
                        for d in dests.take(kreach::MAX_LIST) {
                            rules.push((
                                group.clone(),
                                port(perm.from_port()),
                                port(perm.to_port()),
                                all,
                                d.to_string(),
                            ));
                        }
                    }
                }
                let admits = |port: u16, anywhere: bool| -> Vec<String> {
                    rules
                        .iter()
                        .filter(|(_, from, to, all, dest)| {
                            (*all || (*from <= port && port <= *to)) && (!anywhere || dest == "0.0.0.0/0")
                        })
                        .map(|(g, _, _, _, d)| format!("{g} → {d}"))
                        .collect()
                };
                let mut needs = vec![(443u16, true, "0.0.0.0/0".to_string())];
                needs.extend(m.kafka_ports().into_iter().map(|p| (p, false, "the endpoint (Kafka)".to_string())));
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
                note(audit, classify("ec2:DescribeSecurityGroups", e));
            }
        }
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
        let sm = aws_sdk_secretsmanager::Client::new(sdk);
        for secret in [m.sasl_secret(), m.root_ca_secret.as_deref()].into_iter().flatten() {
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
        esm.permissions = verdicts;
        esm.permission_method = Some(method);
    }
    audit.event_source_mapping = Some(esm);
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

//! The event source mapping's side (its subnets, routes, security groups, the function's role) and
//! the Lambda Sink Connector's (its principal, the function). Read-only calls only.

use kreach::EventSourceMapping;
use kreach::report::AwsAudit;
use kreach::report::ConnectorAudit;
use kreach::report::EsmApiRoute;
use kreach::report::EsmAudit;
use kreach::report::EsmEgress;
use kreach::report::EsmSubnet;
use kreach::report::MskCluster;

use crate::api::{Api, Ec2, Element, Query};
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
        esm.msk_cluster = msk_cluster(sdk, m, audit).await;
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
    let ec2 = if m.subnets.is_empty() && m.security_groups.is_empty() {
        None
    } else {
        match Ec2::new(sdk).await {
            Ok(c) => Some(c),
            Err(e) => {
                note(audit, e);
                None
            }
        }
    };
    if let Some(ec2) = &ec2 {
        mapping_network(ec2, m, &region, &mut esm, audit).await;
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
        let query = Query::new("DescribeSubnets").list("SubnetId", &m.subnets);
        audit.calls.push(query.label());
        match ec2.call_all(&query, "subnetSet").await {
            Ok(subnets) => {
                for s in &subnets {
                    let mut subnet = EsmSubnet::default();
                    subnet.id = s.text("subnetId").unwrap_or("").into();
                    subnet.vpc_id = s.text("vpcId").unwrap_or("").into();
                    subnet.az_name = s.text("availabilityZone").unwrap_or("").into();
                    subnet.az_id = s.text("availabilityZoneId").unwrap_or("").into();
                    subnet.cidr = s.text("cidrBlock").map(str::to_string);
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
        let query = Query::new("DescribeRouteTables").filter("vpc-id", &vpcs);
        audit.calls.push(query.label());
        match ec2.call_all(&query, "routeTableSet").await {
            Ok(tables) => {
                for subnet in &mut esm.subnets {
                    let Some(table) = route_table_of(&tables, &subnet.id, &subnet.vpc_id) else { continue };
                    subnet.route_table = table.text("routeTableId").map(str::to_string);
                    subnet.internet_route = table
                        .items("routeSet")
                        .filter(|r| r.text("destinationCidrBlock") == Some("0.0.0.0/0"))
                        .find_map(|r| r.text("natGatewayId").or(r.text("gatewayId").filter(|g| g.starts_with("igw-"))))
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
        let query = Query::new("DescribeSecurityGroups").list("GroupId", &m.security_groups);
        audit.calls.push(query.label());
        match ec2.call_all(&query, "securityGroupInfo").await {
            Ok(groups) => {
                let mut rules: Vec<(String, crate::SgRule)> = Vec::new();
                for sg in &groups {
                    let group = sg.text("groupId").unwrap_or("").to_string();
                    rules.extend(sg_rules(sg, "ipPermissionsEgress").into_iter().map(|r| (group.clone(), r)));
                }
                // An MSK cluster's groups must admit themselves on the broker port: the pollers'
                // ENI carries those groups.
                if let Some(c) = &mut esm.msk_cluster {
                    let inbound: Vec<(String, crate::SgRule)> = groups
                        .iter()
                        .flat_map(|sg| {
                            let group = sg.text("groupId").unwrap_or("").to_string();
                            sg_rules(sg, "ipPermissions").into_iter().map(move |r| (group.clone(), r))
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

/// The Amazon MSK cluster an MSK mapping polls (`kafka:DescribeClusterV2`): its subnets and
/// security groups (the pollers' network) and the broker port the mapping's authentication uses.
async fn msk_cluster(sdk: &aws_config::SdkConfig, m: &EventSourceMapping, audit: &mut AwsAudit) -> Option<MskCluster> {
    let arn = m.event_source_arn.as_deref()?;
    let api = match Api::for_service(sdk, "kafka").await {
        Ok(api) => api,
        Err(e) => {
            note(audit, e);
            return None;
        }
    };
    let path = crate::api::encode(arn);
    // A cluster in another account is reached through a managed VPC connection in this one
    // (MSK multi-VPC private connectivity): its subnets and groups are the pollers'.
    let account = |a: &str| a.split(':').nth(4).filter(|x| !x.is_empty()).map(str::to_string);
    let own = m.function_arn.as_deref().or(m.arn.as_deref()).and_then(account);
    if own.is_some() && own != account(arn) {
        let mut c = vpc_connection(&api, arn, audit).await;
        // A VPC connection serves IAM, SCRAM and mutual TLS only: a mapping without a secret is IAM.
        c.iam_auth = m.authentication.is_none();
        return Some(c);
    }
    audit.calls.push("kafka:DescribeClusterV2".into());
    match api.get_json("kafka:DescribeClusterV2", &format!("api/v2/clusters/{path}")).await {
        Ok(v) => Some(cluster_from(&v, arn, m)),
        Err(e) => {
            note(audit, e);
            None
        }
    }
}

/// The managed VPC connection to the cross-account cluster `arn` (`kafka:ListVpcConnections`,
/// then `kafka:DescribeVpcConnection` for its subnets and groups); without one, a cluster entry
/// that says so (`vpc_connection` empty).
async fn vpc_connection(api: &Api, arn: &str, audit: &mut AwsAudit) -> MskCluster {
    let pages = list_vpc_connections(api, audit).await;
    let Some(connection) = connection_for(&pages, arn) else { return cross_account(arn, None, None) };
    audit.calls.push("kafka:DescribeVpcConnection".into());
    let detail = match api
        .get_json("kafka:DescribeVpcConnection", &format!("v1/vpc-connection/{}", crate::api::encode(&connection)))
        .await
    {
        Ok(v) => Some(v),
        Err(e) => {
            note(audit, e);
            None
        }
    };
    cross_account(arn, Some(connection), detail.as_ref())
}

/// Pages of `ListVpcConnections` (at most 10).
async fn list_vpc_connections(api: &Api, audit: &mut AwsAudit) -> Vec<serde_json::Value> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        audit.calls.push("kafka:ListVpcConnections".into());
        let path = match &token {
            Some(t) => format!("v1/vpc-connections?nextToken={}", crate::api::encode(t)),
            None => "v1/vpc-connections".to_string(),
        };
        match api.get_json("kafka:ListVpcConnections", &path).await {
            Ok(page) => {
                token = page["nextToken"].as_str().filter(|t| !t.is_empty()).map(str::to_string);
                pages.push(page);
            }
            Err(e) => {
                note(audit, e);
                break;
            }
        }
        if token.is_none() {
            break;
        }
    }
    pages
}

/// MSK multi-VPC private connectivity from a client's VPC: the managed VPC connection there (an
/// AVAILABLE one first), its state and subnets (`DescribeVpcConnection`) and its security groups'
/// inbound rules (`ec2:DescribeSecurityGroups`).
pub(crate) async fn client_vpc_connection(
    sdk: &aws_config::SdkConfig,
    ec2: &crate::api::Ec2,
    vpc: &str,
    audit: &mut AwsAudit,
) -> Option<kreach::report::AwsMskVpcConnection> {
    let api = match Api::for_service(sdk, "kafka").await {
        Ok(api) => api,
        Err(e) => {
            note(audit, e);
            return None;
        }
    };
    let pages = list_vpc_connections(&api, audit).await;
    if pages.is_empty() {
        return None;
    }
    let mut c = kreach::report::AwsMskVpcConnection::default();
    c.vpc_id = vpc.to_string();
    let Some(best) = best_connection(&pages, |c| c["vpcId"].as_str() == Some(vpc)) else { return Some(c) };
    c.found = true;
    c.arn = best["vpcConnectionArn"].as_str().unwrap_or("").to_string();
    c.target_cluster_arn = best["targetClusterArn"].as_str().unwrap_or("").to_string();
    c.state = best["state"].as_str().unwrap_or("").to_string();
    audit.calls.push("kafka:DescribeVpcConnection".into());
    match api
        .get_json("kafka:DescribeVpcConnection", &format!("v1/vpc-connection/{}", crate::api::encode(&c.arn)))
        .await
    {
        Ok(d) => {
            c.state = d["state"].as_str().map(str::to_string).unwrap_or(c.state);
            c.subnets = json_strings(&d["subnets"]);
            c.security_groups = json_strings(&d["securityGroups"]);
        }
        Err(e) => {
            note(audit, e);
        }
    }
    if !c.security_groups.is_empty() {
        let query = crate::api::Query::new("DescribeSecurityGroups").list("GroupId", &c.security_groups);
        audit.calls.push(query.label());
        match ec2.call_all(&query, "securityGroupInfo").await {
            Ok(groups) => {
                for sg in &groups {
                    let group = sg.text("groupId").unwrap_or("");
                    for r in sg_rules(sg, "ipPermissions") {
                        c.ingress_rules.push(kreach::report::AwsIngressRule::new(group, r.from, r.to, r.all, &r.peer));
                    }
                }
            }
            Err(e) => {
                note(audit, e);
            }
        }
    }
    Some(c)
}

/// Of the listed connections (pages of `ListVpcConnections`), the one to `cluster`: an AVAILABLE
/// one first.
fn connection_for(pages: &[serde_json::Value], cluster: &str) -> Option<String> {
    let best = best_connection(pages, |c| c["targetClusterArn"].as_str() == Some(cluster))?;
    best["vpcConnectionArn"].as_str().map(str::to_string)
}

/// Of the listed connections, the first AVAILABLE one that `wanted` picks, else the first it picks.
fn best_connection(
    pages: &[serde_json::Value],
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> Option<&serde_json::Value> {
    let all: Vec<&serde_json::Value> = pages
        .iter()
        .filter_map(|p| p["vpcConnections"].as_array())
        .flatten()
        .filter(|c| wanted(c))
        .take(kreach::limits::MAX_LIST)
        .collect();
    all.iter().find(|c| c["state"].as_str() == Some("AVAILABLE")).or(all.first()).copied()
}

/// A cross-account cluster as its VPC connection shows it (`DescribeVpcConnection`): the
/// connection's state, subnets and groups, and the multi-VPC broker ports (14001-14100).
fn cross_account(arn: &str, connection: Option<String>, detail: Option<&serde_json::Value>) -> MskCluster {
    let mut c = MskCluster::default();
    c.arn = arn.to_string();
    c.cross_account = true;
    c.vpc_connection = connection;
    if let Some(d) = detail {
        c.state = d["state"].as_str().unwrap_or("").to_string();
        c.subnets = json_strings(&d["subnets"]);
        c.security_groups = json_strings(&d["securityGroups"]);
    }
    // Multi-VPC connectivity serves every authentication on the brokers' 14001-14100 range.
    c.broker_ports = vec![14001, 14100];
    c
}

/// A JSON list of strings, capped at [`kreach::limits::MAX_LIST`]; anything else gives none.
fn json_strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str()).take(kreach::limits::MAX_LIST).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The cluster's network from a `DescribeClusterV2` answer (provisioned or serverless).
fn cluster_from(v: &serde_json::Value, arn: &str, m: &EventSourceMapping) -> MskCluster {
    let info = &v["clusterInfo"];
    let mut c = MskCluster::default();
    c.arn = info["clusterArn"].as_str().unwrap_or(arn).to_string();
    c.state = info["state"].as_str().unwrap_or("").to_string();
    let provisioned = &info["provisioned"];
    c.serverless = info["serverless"].is_object();
    c.name = info["clusterName"].as_str().unwrap_or("").to_string();
    if provisioned.is_object() {
        c.subnets = json_strings(&provisioned["brokerNodeGroupInfo"]["clientSubnets"]);
        c.security_groups = json_strings(&provisioned["brokerNodeGroupInfo"]["securityGroups"]);
    } else if let Some(configs) = info["serverless"]["vpcConfigs"].as_array() {
        for vpc in configs.iter().take(kreach::limits::MAX_LIST) {
            c.subnets.extend(json_strings(&vpc["subnetIds"]));
            c.security_groups.extend(json_strings(&vpc["securityGroupIds"]));
        }
    }
    // The port follows the mapping's authentication; without one, the cluster's: IAM where it is
    // on (serverless clusters are IAM only), else unauthenticated TLS, else plaintext.
    let auth = &provisioned["clientAuthentication"];
    let on = |v: &serde_json::Value| v["enabled"].as_bool() == Some(true);
    let port = match m.authentication.as_ref().map(|(kind, _)| kind.as_str()) {
        Some("SASL_SCRAM_256_AUTH" | "SASL_SCRAM_512_AUTH") => 9096,
        Some("CLIENT_CERTIFICATE_TLS_AUTH") => 9094,
        _ if !provisioned.is_object() || on(&auth["sasl"]["iam"]) => {
            c.iam_auth = true;
            9098
        }
        _ if provisioned["encryptionInfo"]["encryptionInTransit"]["clientBroker"].as_str() == Some("PLAINTEXT") => 9092,
        _ => 9094,
    };
    c.broker_ports = vec![port];
    c
}

/// The route table a subnet uses: its explicit association, else its VPC's main table.
pub(crate) fn route_table_of<'a>(tables: &'a [Element], subnet: &str, vpc: &str) -> Option<&'a Element> {
    let explicit = tables.iter().find(|t| t.items("associationSet").any(|a| a.text("subnetId") == Some(subnet)));
    let main = tables
        .iter()
        .find(|t| t.text("vpcId") == Some(vpc) && t.items("associationSet").any(|a| a.flag("main") == Some(true)));
    explicit.or(main)
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
    let query = Query::new("DescribeVpcEndpoints").filter("vpc-id", vpcs);
    audit.calls.push(query.label());
    let endpoints = match ec2.call_all(&query, "vpcEndpointSet").await {
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
            e.text("serviceName") == Some(name.as_str())
                // S3's gateway endpoint routes by prefix list, without private DNS.
                && (e.flag("privateDnsEnabled") == Some(true) || e.text("vpcEndpointType") == Some("Gateway"))
                && e.text("state").is_none_or(|s| s.eq_ignore_ascii_case("available"))
        });
        let mut route = EsmApiRoute::default();
        route.schema_registry = service == "glue";
        route.destination = for_destination;
        route.service = service.to_string();
        route.interface_endpoint = ep.and_then(|e| e.text("vpcEndpointId")).map(str::to_string);
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

    fn mapping(auth: Option<&str>) -> EventSourceMapping {
        let mut configs = vec![];
        if let Some(kind) = auth {
            configs.push(
                serde_json::json!({"Type": kind, "URI": "arn:aws:secretsmanager:us-west-2:1:secret:AmazonMSK_x"}),
            );
        }
        let json = serde_json::json!({
            "UUID": "u",
            "EventSourceArn": "arn:aws:kafka:us-west-2:1:cluster/c/1",
            "SourceAccessConfigurations": configs,
        });
        EventSourceMapping::parse(json.to_string().as_bytes()).expect("mapping")
    }

    /// moto serves provisioned clusters only; the serverless shape and the authentication
    /// variants are the documented DescribeClusterV2 response, fed directly.
    #[test]
    fn the_broker_port_follows_the_mappings_then_the_clusters_authentication() {
        let provisioned = |auth: serde_json::Value, in_transit: &str| {
            serde_json::json!({"clusterInfo": {"clusterArn": "arn:c", "state": "ACTIVE", "provisioned": {
                "brokerNodeGroupInfo": {"clientSubnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"]},
                "clientAuthentication": auth,
                "encryptionInfo": {"encryptionInTransit": {"clientBroker": in_transit}},
            }}})
        };
        let iam = serde_json::json!({"sasl": {"iam": {"enabled": true}}});
        let none = serde_json::json!({"unauthenticated": {"enabled": true}});
        let cases = [
            (Some("SASL_SCRAM_512_AUTH"), provisioned(iam.clone(), "TLS"), 9096),
            (Some("CLIENT_CERTIFICATE_TLS_AUTH"), provisioned(iam.clone(), "TLS"), 9094),
            (None, provisioned(iam, "TLS"), 9098),
            (None, provisioned(none.clone(), "TLS"), 9094),
            (None, provisioned(none, "PLAINTEXT"), 9092),
        ];
        for (auth, answer, port) in cases {
            let c = cluster_from(&answer, "arn:asked", &mapping(auth));
            assert_eq!(c.broker_ports, [port], "{auth:?} {answer}");
            assert_eq!((c.arn.as_str(), c.state.as_str()), ("arn:c", "ACTIVE"));
            assert_eq!((c.subnets.len(), c.security_groups.as_slice()), (2, ["sg-1".to_string()].as_slice()));
        }
        let serverless = serde_json::json!({"clusterInfo": {"clusterType": "SERVERLESS", "serverless": {"vpcConfigs": [
            {"subnetIds": ["subnet-a"], "securityGroupIds": ["sg-a"]},
            {"subnetIds": ["subnet-b"], "securityGroupIds": ["sg-b"]},
        ]}}});
        let c = cluster_from(&serverless, "arn:asked", &mapping(None));
        assert_eq!(c.arn, "arn:asked", "an answer without its ARN keeps the one asked for");
        assert_eq!(c.subnets, ["subnet-a", "subnet-b"]);
        assert_eq!(c.security_groups, ["sg-a", "sg-b"]);
        assert_eq!(c.broker_ports, [9098], "serverless clusters take IAM only");
        // A cross-account cluster: the connection to it, an AVAILABLE one before others, read
        // from pages of ListVpcConnections (moto has no VPC connections: the documented shape).
        let pages = [
            serde_json::json!({"vpcConnections": [
                {"vpcConnectionArn": "arn:conn/old", "targetClusterArn": "arn:cluster", "state": "REJECTED"},
                {"vpcConnectionArn": "arn:conn/other", "targetClusterArn": "arn:another", "state": "AVAILABLE"},
            ], "nextToken": "t"}),
            serde_json::json!({"vpcConnections": [
                {"vpcConnectionArn": "arn:conn/new", "targetClusterArn": "arn:cluster", "state": "AVAILABLE"},
            ]}),
        ];
        assert_eq!(connection_for(&pages, "arn:cluster").as_deref(), Some("arn:conn/new"));
        assert_eq!(connection_for(&pages[..1], "arn:cluster").as_deref(), Some("arn:conn/old"));
        assert_eq!(connection_for(&pages, "arn:none"), None);
        assert_eq!(connection_for(&[serde_json::json!({"vpcConnections": "x"})], "arn:cluster"), None);
        let detail = serde_json::json!({"vpcConnectionArn": "arn:conn/new", "state": "AVAILABLE",
            "subnets": ["subnet-x", "subnet-y"], "securityGroups": ["sg-x"]});
        let c = cross_account("arn:cluster", Some("arn:conn/new".into()), Some(&detail));
        assert!(c.cross_account);
        assert_eq!((c.state.as_str(), c.subnets.len(), c.security_groups.len()), ("AVAILABLE", 2, 1));
        assert_eq!(c.broker_ports, [14001, 14100], "multi-VPC connectivity's range, both ends");
        let none = cross_account("arn:cluster", None, None);
        assert!(none.vpc_connection.is_none() && none.subnets.is_empty());
        // A hostile or empty answer: nothing, and no panic.
        let c = cluster_from(
            &serde_json::json!({"clusterInfo": {"provisioned": {"brokerNodeGroupInfo": 7}}}),
            "a",
            &mapping(None),
        );
        assert!(c.subnets.is_empty() && c.security_groups.is_empty());
    }

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

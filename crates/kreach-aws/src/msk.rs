//! Amazon MSK through `aws-sdk-kafka`: the cluster an MSK mapping polls (`DescribeClusterV2`), and
//! MSK multi-VPC private connectivity's managed VPC connections (`ListVpcConnections`,
//! `DescribeVpcConnection`), from a cross-account mapping's side and from a client's VPC.

use aws_sdk_kafka::types::{Cluster, VpcConnection};
use kreach::EventSourceMapping;
use kreach::report::{AwsAudit, AwsIngressRule, AwsMskVpcConnection, MskCluster};

use crate::ec2::{Ec2, security_groups};
use crate::{classify, note, sg_rules};

/// Pages of `ListVpcConnections` followed.
const MAX_CONNECTION_PAGES: usize = 10;

/// The Amazon MSK cluster an MSK mapping polls (`kafka:DescribeClusterV2`): its subnets and
/// security groups (the pollers' network) and the broker port the mapping's authentication uses.
pub(crate) async fn msk_cluster(
    sdk: &aws_config::SdkConfig,
    m: &EventSourceMapping,
    audit: &mut AwsAudit,
) -> Option<MskCluster> {
    let arn = m.event_source_arn.as_deref()?;
    let kafka = aws_sdk_kafka::Client::new(sdk);
    // A cluster in another account is reached through a managed VPC connection in this one
    // (MSK multi-VPC private connectivity): its subnets and groups are the pollers'.
    let account = |a: &str| a.split(':').nth(4).filter(|x| !x.is_empty()).map(str::to_string);
    let own = m.function_arn.as_deref().or(m.arn.as_deref()).and_then(account);
    if own.is_some() && own != account(arn) {
        let mut c = vpc_connection(&kafka, arn, audit).await;
        // A VPC connection serves IAM, SCRAM and mutual TLS only: a mapping without a secret is IAM.
        c.iam_auth = m.authentication.is_none();
        return Some(c);
    }
    audit.calls.push("kafka:DescribeClusterV2".into());
    match Box::pin(kafka.describe_cluster_v2().cluster_arn(arn).send()).await {
        Ok(out) => Some(cluster_from(out.cluster_info(), arn, m)),
        Err(e) => {
            note(audit, classify("kafka:DescribeClusterV2", e));
            None
        }
    }
}

/// The managed VPC connection to the cross-account cluster `arn` (`kafka:ListVpcConnections`,
/// then `kafka:DescribeVpcConnection` for its subnets and groups); without one, a cluster entry
/// that says so (`vpc_connection` empty).
async fn vpc_connection(kafka: &aws_sdk_kafka::Client, arn: &str, audit: &mut AwsAudit) -> MskCluster {
    let listed = list_vpc_connections(kafka, audit).await.unwrap_or_default();
    let Some(connection) = connection_for(&listed, arn) else { return cross_account(arn, None, None) };
    let detail = describe_vpc_connection(kafka, &connection, audit).await;
    cross_account(arn, Some(connection), detail.as_ref())
}

/// What `DescribeVpcConnection` says of a connection: its state, subnets and security groups.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct ConnectionDetail {
    state: Option<String>,
    subnets: Vec<String>,
    security_groups: Vec<String>,
}

async fn describe_vpc_connection(
    kafka: &aws_sdk_kafka::Client,
    arn: &str,
    audit: &mut AwsAudit,
) -> Option<ConnectionDetail> {
    audit.calls.push("kafka:DescribeVpcConnection".into());
    match Box::pin(kafka.describe_vpc_connection().arn(arn).send()).await {
        Ok(d) => Some(ConnectionDetail {
            state: d.state().map(|s| s.as_str().to_string()),
            subnets: capped(d.subnets()),
            security_groups: capped(d.security_groups()),
        }),
        Err(e) => {
            note(audit, classify("kafka:DescribeVpcConnection", e));
            None
        }
    }
}

/// The listed VPC connections (at most [`MAX_CONNECTION_PAGES`] pages, [`kreach::limits::MAX_LIST`]
/// connections); a failed page ends the listing (noted in the audit).
async fn list_vpc_connections(kafka: &aws_sdk_kafka::Client, audit: &mut AwsAudit) -> Option<Vec<VpcConnection>> {
    let mut listed = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_CONNECTION_PAGES {
        audit.calls.push("kafka:ListVpcConnections".into());
        match Box::pin(kafka.list_vpc_connections().set_next_token(token.take()).send()).await {
            Ok(page) => {
                token = page.next_token.clone().filter(|t| !t.is_empty());
                listed.extend(page.vpc_connections.unwrap_or_default());
            }
            Err(e) => {
                note(audit, classify("kafka:ListVpcConnections", e));
                return (!listed.is_empty()).then_some(listed);
            }
        }
        if token.is_none() || listed.len() >= kreach::limits::MAX_LIST {
            break;
        }
    }
    listed.truncate(kreach::limits::MAX_LIST);
    Some(listed)
}

/// MSK multi-VPC private connectivity from a client's VPC: the managed VPC connection there (an
/// AVAILABLE one first), its state and subnets (`DescribeVpcConnection`) and its security groups'
/// inbound rules (`ec2:DescribeSecurityGroups`).
pub(crate) async fn client_vpc_connection(
    sdk: &aws_config::SdkConfig,
    ec2: &Ec2,
    vpc: &str,
    audit: &mut AwsAudit,
) -> Option<AwsMskVpcConnection> {
    let kafka = aws_sdk_kafka::Client::new(sdk);
    let listed = list_vpc_connections(&kafka, audit).await?;
    let mut c = AwsMskVpcConnection::default();
    c.vpc_id = vpc.to_string();
    let Some(best) = best_connection(&listed, |c| c.vpc_id() == Some(vpc)) else { return Some(c) };
    c.found = true;
    c.arn = best.vpc_connection_arn().unwrap_or("").to_string();
    c.target_cluster_arn = best.target_cluster_arn().unwrap_or("").to_string();
    c.state = best.state().map(|s| s.as_str().to_string()).unwrap_or_default();
    if let Some(d) = describe_vpc_connection(&kafka, &c.arn, audit).await {
        c.state = d.state.unwrap_or(c.state);
        c.subnets = d.subnets;
        c.security_groups = d.security_groups;
    }
    if !c.security_groups.is_empty() {
        audit.calls.push("ec2:DescribeSecurityGroups".into());
        match security_groups(ec2, &c.security_groups).await {
            Ok(groups) => {
                for sg in &groups {
                    let group = sg.group_id().unwrap_or("");
                    for r in sg_rules(sg.ip_permissions()) {
                        c.ingress_rules.push(AwsIngressRule::new(group, r.from, r.to, r.all, &r.peer));
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

/// Of the listed connections, the one to `cluster`: an AVAILABLE one first.
fn connection_for(listed: &[VpcConnection], cluster: &str) -> Option<String> {
    let best = best_connection(listed, |c| c.target_cluster_arn() == Some(cluster))?;
    best.vpc_connection_arn().filter(|a| !a.is_empty()).map(str::to_string)
}

/// Of the listed connections, the first AVAILABLE one that `wanted` picks, else the first it picks.
fn best_connection(listed: &[VpcConnection], wanted: impl Fn(&VpcConnection) -> bool) -> Option<&VpcConnection> {
    let all: Vec<&VpcConnection> = listed.iter().filter(|c| wanted(c)).collect();
    all.iter().find(|c| c.state().is_some_and(|s| s.as_str() == "AVAILABLE")).or(all.first()).copied()
}

/// A cross-account cluster as its VPC connection shows it (`DescribeVpcConnection`): the
/// connection's state, subnets and groups, and the multi-VPC broker ports (14001-14100).
fn cross_account(arn: &str, connection: Option<String>, detail: Option<&ConnectionDetail>) -> MskCluster {
    let mut c = MskCluster::default();
    c.arn = arn.to_string();
    c.cross_account = true;
    c.vpc_connection = connection;
    if let Some(d) = detail {
        c.state = d.state.clone().unwrap_or_default();
        c.subnets = d.subnets.clone();
        c.security_groups = d.security_groups.clone();
    }
    // Multi-VPC connectivity serves every authentication on the brokers' 14001-14100 range.
    c.broker_ports = vec![14001, 14100];
    c
}

/// A list of ids, capped at [`kreach::limits::MAX_LIST`], empty ones dropped.
fn capped(values: &[String]) -> Vec<String> {
    values.iter().filter(|v| !v.is_empty()).take(kreach::limits::MAX_LIST).cloned().collect()
}

/// The cluster's network from a `DescribeClusterV2` answer (provisioned or serverless).
fn cluster_from(info: Option<&Cluster>, arn: &str, m: &EventSourceMapping) -> MskCluster {
    let mut c = MskCluster::default();
    c.arn = info.and_then(|i| i.cluster_arn()).filter(|a| !a.is_empty()).unwrap_or(arn).to_string();
    c.state = info.and_then(|i| i.state()).map(|s| s.as_str().to_string()).unwrap_or_default();
    c.name = info.and_then(|i| i.cluster_name()).unwrap_or("").to_string();
    let provisioned = info.and_then(|i| i.provisioned());
    let serverless = info.and_then(|i| i.serverless());
    c.serverless = serverless.is_some();
    if let Some(p) = provisioned {
        let nodes = p.broker_node_group_info();
        c.subnets = capped(nodes.map(|n| n.client_subnets()).unwrap_or_default());
        c.security_groups = capped(nodes.map(|n| n.security_groups()).unwrap_or_default());
    } else if let Some(s) = serverless {
        for vpc in s.vpc_configs().iter().take(kreach::limits::MAX_LIST) {
            c.subnets.extend(capped(vpc.subnet_ids()));
            c.security_groups.extend(capped(vpc.security_group_ids()));
        }
        c.subnets.truncate(kreach::limits::MAX_LIST);
        c.security_groups.truncate(kreach::limits::MAX_LIST);
    }
    // The port follows the mapping's authentication; without one, the cluster's: IAM where it is
    // on (serverless clusters are IAM only), else unauthenticated TLS, else plaintext.
    let iam_on = provisioned
        .and_then(|p| p.client_authentication())
        .and_then(|a| a.sasl())
        .and_then(|s| s.iam())
        .and_then(|i| i.enabled())
        == Some(true);
    let plaintext = provisioned
        .and_then(|p| p.encryption_info())
        .and_then(|e| e.encryption_in_transit())
        .and_then(|t| t.client_broker())
        .is_some_and(|b| b.as_str() == "PLAINTEXT");
    let port = match m.authentication.as_ref().map(|(kind, _)| kind.as_str()) {
        Some("SASL_SCRAM_256_AUTH" | "SASL_SCRAM_512_AUTH") => 9096,
        Some("CLIENT_CERTIFICATE_TLS_AUTH") => 9094,
        _ if provisioned.is_none() || iam_on => {
            c.iam_auth = true;
            9098
        }
        _ if plaintext => 9092,
        _ => 9094,
    };
    c.broker_ports = vec![port];
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kafka::types::{
        BrokerNodeGroupInfo, ClientAuthentication, ClientBroker, ClusterState, ClusterType, EncryptionInTransit,
        EncryptionInfo, Iam, Provisioned, Sasl, Serverless, Unauthenticated, VpcConfig, VpcConnectionState,
    };

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
    /// variants are DescribeClusterV2's documented response, as the SDK's types.
    #[test]
    fn the_broker_port_follows_the_mappings_then_the_clusters_authentication() {
        let provisioned = |iam: bool, in_transit: ClientBroker| {
            let auth = if iam {
                ClientAuthentication::builder().sasl(Sasl::builder().iam(Iam::builder().enabled(true).build()).build())
            } else {
                ClientAuthentication::builder().unauthenticated(Unauthenticated::builder().enabled(true).build())
            };
            Cluster::builder()
                .cluster_arn("arn:c")
                .state(ClusterState::Active)
                .provisioned(
                    Provisioned::builder()
                        .broker_node_group_info(
                            BrokerNodeGroupInfo::builder()
                                .client_subnets("subnet-1")
                                .client_subnets("subnet-2")
                                .security_groups("sg-1")
                                .build(),
                        )
                        .client_authentication(auth.build())
                        .encryption_info(
                            EncryptionInfo::builder()
                                .encryption_in_transit(EncryptionInTransit::builder().client_broker(in_transit).build())
                                .build(),
                        )
                        .build(),
                )
                .build()
        };
        let cases = [
            (Some("SASL_SCRAM_512_AUTH"), provisioned(true, ClientBroker::Tls), 9096),
            (Some("CLIENT_CERTIFICATE_TLS_AUTH"), provisioned(true, ClientBroker::Tls), 9094),
            (None, provisioned(true, ClientBroker::Tls), 9098),
            (None, provisioned(false, ClientBroker::Tls), 9094),
            (None, provisioned(false, ClientBroker::Plaintext), 9092),
        ];
        for (auth, answer, port) in cases {
            let c = cluster_from(Some(&answer), "arn:asked", &mapping(auth));
            assert_eq!(c.broker_ports, [port], "{auth:?} {answer:?}");
            assert_eq!((c.arn.as_str(), c.state.as_str()), ("arn:c", "ACTIVE"));
            assert_eq!((c.subnets.len(), c.security_groups.as_slice()), (2, ["sg-1".to_string()].as_slice()));
        }
        let vpc = |subnet: &str, group: &str| VpcConfig::builder().subnet_ids(subnet).security_group_ids(group).build();
        let serverless = Cluster::builder()
            .cluster_type(ClusterType::Serverless)
            .serverless(
                Serverless::builder().vpc_configs(vpc("subnet-a", "sg-a")).vpc_configs(vpc("subnet-b", "sg-b")).build(),
            )
            .build();
        let c = cluster_from(Some(&serverless), "arn:asked", &mapping(None));
        assert_eq!(c.arn, "arn:asked", "an answer without its ARN keeps the one asked for");
        assert_eq!(c.subnets, ["subnet-a", "subnet-b"]);
        assert_eq!(c.security_groups, ["sg-a", "sg-b"]);
        assert_eq!(c.broker_ports, [9098], "serverless clusters take IAM only");
        assert!(c.serverless && c.iam_auth);
        // An answer without the cluster: the ARN asked for, no network, no panic.
        let c = cluster_from(None, "arn:asked", &mapping(None));
        assert!(c.subnets.is_empty() && c.security_groups.is_empty() && c.arn == "arn:asked");
    }

    /// moto has no VPC connections: ListVpcConnections' documented shape, as the SDK's types.
    #[test]
    fn a_cross_account_cluster_is_reached_through_its_available_connection() {
        let conn = |arn: &str, cluster: &str, state: VpcConnectionState| {
            VpcConnection::builder().vpc_connection_arn(arn).target_cluster_arn(cluster).state(state).build()
        };
        let listed = vec![
            conn("arn:conn/old", "arn:cluster", VpcConnectionState::Rejected),
            conn("arn:conn/other", "arn:another", VpcConnectionState::Available),
            conn("arn:conn/new", "arn:cluster", VpcConnectionState::Available),
        ];
        assert_eq!(connection_for(&listed, "arn:cluster").as_deref(), Some("arn:conn/new"));
        assert_eq!(connection_for(&listed[..1], "arn:cluster").as_deref(), Some("arn:conn/old"));
        assert_eq!(connection_for(&listed, "arn:none"), None);
        assert_eq!(connection_for(&[], "arn:cluster"), None);
        let detail = ConnectionDetail {
            state: Some("AVAILABLE".into()),
            subnets: vec!["subnet-x".into(), "subnet-y".into()],
            security_groups: vec!["sg-x".into()],
        };
        let c = cross_account("arn:cluster", Some("arn:conn/new".into()), Some(&detail));
        assert!(c.cross_account);
        assert_eq!((c.state.as_str(), c.subnets.len(), c.security_groups.len()), ("AVAILABLE", 2, 1));
        assert_eq!(c.broker_ports, [14001, 14100], "multi-VPC connectivity's range, both ends");
        let none = cross_account("arn:cluster", None, None);
        assert!(none.vpc_connection.is_none() && none.subnets.is_empty());
    }
}

//! What an Amazon MSK event source mapping's execution role must be allowed, per the Lambda
//! developer guide ("Configuring Lambda permissions for Amazon MSK event source mappings" and
//! "Configuring Amazon MSK cluster authentication methods in Lambda", IAM authentication): the
//! cluster's description and bootstrap brokers always, the VPC connection for a cross-account
//! cluster, and with IAM authentication the `kafka-cluster:*` actions a consumer group needs, on
//! the cluster, topic and group ARNs MSK's authorization uses
//! (`arn:aws:kafka:<region>:<account>:topic/<cluster name>/<cluster uuid>/<topic>`).

use kreach::EventSourceMapping;
use kreach::report::{MskCluster, PermissionCheck};

/// The checks the mapping's pollers need on `cluster`, beyond the network and the secret.
pub(crate) fn pollers_need(m: &EventSourceMapping, cluster: &MskCluster) -> Vec<(&'static str, String)> {
    let arn = cluster.arn.as_str();
    let mut checks = vec![("kafka:DescribeClusterV2", arn.to_string()), ("kafka:GetBootstrapBrokers", arn.to_string())];
    if !cluster.serverless && !cluster.cross_account {
        // Either describe does for a provisioned cluster: `either_describe` keeps the pair honest.
        checks.push(("kafka:DescribeCluster", arn.to_string()));
    }
    if let Some(connection) = cluster.vpc_connection.as_deref().filter(|c| !c.is_empty()) {
        checks.push(("kafka:DescribeVpcConnection", connection.to_string()));
    }
    // IAM: the mapping names no secret and the cluster authenticates with IAM.
    if m.authentication.is_none() && cluster.iam_auth {
        checks.push(("kafka-cluster:Connect", arn.to_string()));
        checks.push(("kafka-cluster:DescribeClusterDynamicConfiguration", arn.to_string()));
        for topic in m.topics.iter().take(kreach::limits::MAX_LIST) {
            let resource = child_arn(arn, &cluster.name, "topic", topic).unwrap_or_default();
            checks.push(("kafka-cluster:DescribeTopic", resource.clone()));
            checks.push(("kafka-cluster:ReadData", resource));
        }
        let group = child_arn(arn, &cluster.name, "group", m.consumer_group()).unwrap_or_default();
        checks.push(("kafka-cluster:DescribeGroup", group.clone()));
        checks.push(("kafka-cluster:AlterGroup", group));
    }
    checks
}

/// A topic's or group's ARN under a cluster's (`…:cluster/<name>/<uuid>`; the name from
/// `DescribeClusterV2` when the ARN carries the id alone); `None` when neither gives both parts
/// (the check then stays unknown, never a pass).
pub(crate) fn child_arn(cluster_arn: &str, cluster_name: &str, kind: &str, name: &str) -> Option<String> {
    let (head, resource) = cluster_arn.rsplit_once(':')?;
    let rest = resource.strip_prefix("cluster/")?;
    let (cluster_name, uuid) = match rest.split_once('/') {
        Some(parts) => parts,
        None => (cluster_name, rest),
    };
    (!cluster_name.is_empty() && !uuid.is_empty() && !name.is_empty() && !uuid.contains('/'))
        .then(|| format!("{head}:{kind}/{cluster_name}/{uuid}/{name}"))
}

/// For a provisioned cluster `kafka:DescribeCluster` or `kafka:DescribeClusterV2` is enough: when
/// one is allowed the other's verdict is dropped; when neither is, `DescribeCluster`'s is (one
/// missing permission to add, the one serverless clusters need too). A serverless or unknown
/// cluster keeps `DescribeClusterV2`'s alone.
pub(crate) fn either_describe(
    mut verdicts: Vec<PermissionCheck>,
    cluster: Option<&MskCluster>,
) -> Vec<PermissionCheck> {
    let provisioned = cluster.is_some_and(|c| !c.serverless && !c.cross_account);
    let allowed = |action: &str, v: &[PermissionCheck]| {
        v.iter().any(|p| p.action == action && p.verdict == kreach::report::PermissionVerdict::Allowed)
    };
    if provisioned && allowed("kafka:DescribeCluster", &verdicts) && !allowed("kafka:DescribeClusterV2", &verdicts) {
        verdicts.retain(|p| p.action != "kafka:DescribeClusterV2");
    } else {
        verdicts.retain(|p| p.action != "kafka:DescribeCluster");
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_and_group_arns_follow_the_clusters() {
        let cluster = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d-2";
        assert_eq!(
            child_arn(cluster, "", "topic", "payments").as_deref(),
            Some("arn:aws:kafka:us-east-1:123456789012:topic/orders/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d-2/payments")
        );
        assert_eq!(
            child_arn(cluster, "", "group", "g1").as_deref(),
            Some("arn:aws:kafka:us-east-1:123456789012:group/orders/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d-2/g1")
        );
        // The id alone in the ARN: the name comes from the cluster's description.
        assert_eq!(
            child_arn("arn:aws:kafka:us-east-1:1:cluster/abc-1", "orders", "topic", "t").as_deref(),
            Some("arn:aws:kafka:us-east-1:1:topic/orders/abc-1/t")
        );
        for bad in ["arn:aws:kafka:us-east-1:1:cluster/orders", "arn:aws:kafka:us-east-1:1:vpc-connection/x/y", "x"] {
            assert_eq!(child_arn(bad, "", "topic", "t"), None, "{bad}");
        }
    }

    fn verdict(action: &str, v: kreach::report::PermissionVerdict) -> PermissionCheck {
        let mut p = PermissionCheck::default();
        p.action = action.into();
        p.resource = "arn".into();
        p.verdict = v;
        p
    }

    #[test]
    fn either_describe_is_enough_for_a_provisioned_cluster_only() {
        use kreach::report::PermissionVerdict::{Allowed, NotAllowed};
        let mut provisioned = MskCluster::default();
        provisioned.arn = "arn".into();
        let mut serverless = provisioned.clone();
        serverless.serverless = true;
        let actions = |v: Vec<PermissionCheck>| v.into_iter().map(|p| (p.action, p.verdict)).collect::<Vec<_>>();
        let v1_only =
            || vec![verdict("kafka:DescribeClusterV2", NotAllowed), verdict("kafka:DescribeCluster", Allowed)];
        assert_eq!(
            actions(either_describe(v1_only(), Some(&provisioned))),
            [("kafka:DescribeCluster".into(), Allowed)]
        );
        assert_eq!(
            actions(either_describe(v1_only(), Some(&serverless))),
            [("kafka:DescribeClusterV2".into(), NotAllowed)]
        );
        let neither =
            vec![verdict("kafka:DescribeClusterV2", NotAllowed), verdict("kafka:DescribeCluster", NotAllowed)];
        assert_eq!(
            actions(either_describe(neither, Some(&provisioned))),
            [("kafka:DescribeClusterV2".into(), NotAllowed)]
        );
    }
}

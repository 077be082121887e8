//! The mapping's and the connector's AWS-side findings, one constructor each.

use std::collections::BTreeMap;

use crate::analysis::Diag;
use crate::input::mapping::EventSourceMapping;
use crate::report::findings::FindingCode;
use crate::report::{
    AwsEndpoint, AwsPniInterface, ConnectorAudit, EsmApiRoute, EsmAudit, EsmEgress, MskCluster, PermissionCheck,
};

fn mapping_group(m: &EventSourceMapping) -> String {
    m.security_groups.first().cloned().unwrap_or_else(|| "<mapping security group>".into())
}

/// The mapping's groups do not let `e.port` out to what it needs.
pub(super) fn sg_egress_missing(m: &EventSourceMapping, e: &EsmEgress) -> Diag {
    Diag::new(
        FindingCode::EsmSgEgressMissing,
        format!(
            "the mapping's security groups {} do not let TCP {} out to {}",
            m.security_groups.join(", "),
            e.port,
            e.needs
        ),
        format!(
            "aws ec2 authorize-security-group-egress --group-id {} --ip-permissions \
             IpProtocol=tcp,FromPort={p},ToPort={p},IpRanges=[{{CidrIp={cidr}}}]",
            mapping_group(m),
            p = e.port,
            cidr = if e.needs.contains('/') { e.needs.as_str() } else { "0.0.0.0/0" }
        ),
    )
}

/// The endpoint's inbound rules do not admit the mapping's groups on `port`.
pub(super) fn endpoint_ingress_missing(ep: &AwsEndpoint, m: &EventSourceMapping, port: u16) -> Diag {
    let sg = ep.security_groups.first().cloned().unwrap_or_else(|| "<endpoint security group>".into());
    Diag::new(
        FindingCode::EsmEndpointIngressMissing,
        format!(
            "endpoint {}'s security groups do not admit the mapping's groups {} on TCP {port}",
            ep.id,
            m.security_groups.join(", ")
        ),
        format!(
            "aws ec2 authorize-security-group-ingress --group-id {sg} --protocol tcp --port {port} --source-group {}",
            mapping_group(m)
        ),
    )
}

/// Confluent PNI: the interfaces' inbound rules do not admit the mapping's groups on `port`.
pub(super) fn pni_ingress_missing(pni: &[AwsPniInterface], m: &EventSourceMapping, port: u16) -> Diag {
    let mut groups: Vec<&str> = pni.iter().flat_map(|i| i.security_groups.iter().map(String::as_str)).collect();
    groups.sort_unstable();
    groups.dedup();
    let sg = groups.first().copied().unwrap_or("<PNI security group>");
    Diag::new(
        FindingCode::EsmPniIngressMissing,
        format!(
            "the PNI network interfaces' security groups ({}) do not admit the mapping's groups {} on TCP {port}",
            groups.join(", "),
            m.security_groups.join(", ")
        ),
        format!(
            "aws ec2 authorize-security-group-ingress --group-id {sg} --protocol tcp --port {port} --source-group {}",
            mapping_group(m)
        ),
    )
}

/// The MSK cluster's groups do not admit themselves on `port`, the broker port the pollers use.
pub(super) fn cluster_sg_ingress_missing(c: &MskCluster, port: u16) -> Diag {
    let sg = c.security_groups.first().cloned().unwrap_or_else(|| "<cluster security group>".into());
    Diag::new(
        FindingCode::EsmClusterSgIngressMissing,
        format!(
            "the MSK cluster's security groups {} do not admit traffic from themselves on TCP {port}: the mapping's \
             pollers reach the brokers with those groups (cluster {})",
            c.security_groups.join(", "),
            c.arn
        ),
        format!(
            "aws ec2 authorize-security-group-ingress --group-id {sg} --protocol tcp --port {port} --source-group {sg}"
        ),
    )
}

/// The cross-account cluster has no usable VPC connection in the mapping's account.
pub(super) fn msk_vpc_connection_unusable(c: &MskCluster, m: &EventSourceMapping) -> Diag {
    let summary = match &c.vpc_connection {
        None => format!(
            "MSK cluster {} is in another account than the mapping, and this account has no managed VPC connection \
             to it (kafka:ListVpcConnections): the pollers have no path to its brokers",
            c.arn
        ),
        Some(conn) => format!(
            "MSK cluster {} is in another account than the mapping, and its VPC connection {conn} is {}, not AVAILABLE",
            c.arn,
            if c.state.is_empty() { "in an unknown state" } else { c.state.as_str() }
        ),
    };
    let fix = match c.state.to_ascii_uppercase().as_str() {
        "REJECTED" | "REJECTING" => format!(
            "The cluster's owner rejected the connection: ask them to grant this account in the cluster policy \
             (kafka:CreateVpcConnection, kafka:DescribeClusterV2, …) and accept it, then recreate it: aws kafka \
             create-vpc-connection --target-cluster-arn {} --authentication <SASL_SCRAM|SASL_IAM|TLS> --vpc-id <vpc> \
             --client-subnets <subnets> --security-groups <sg>",
            c.arn
        ),
        "CREATING" => "Wait for the connection to become AVAILABLE (aws kafka describe-vpc-connection).".to_string(),
        _ => format!(
            "The cluster's owner turns on multi-VPC private connectivity and grants this account in the cluster policy; \
             then, in this account: aws kafka create-vpc-connection --target-cluster-arn {} --authentication \
             <SASL_SCRAM|SASL_IAM|TLS> --vpc-id <vpc> --client-subnets <subnets> --security-groups <sg> (the mapping {} \
             then polls through it, on the brokers' ports 14001-14100)",
            c.arn, m.uuid
        ),
    };
    Diag::new(FindingCode::EsmMskVpcConnectionUnusable, summary, fix)
}

/// Brokers are in `az`, which none of the mapping's subnets (in zones `covered`) is.
pub(super) fn subnet_zone_missing(m: &EventSourceMapping, az: &str, covered: &[&str]) -> Diag {
    Diag::new(
        FindingCode::EsmSubnetZoneMissing,
        format!("brokers are in {az}, and none of the mapping's subnets ({}) is", covered.join(", ")),
        format!(
            "Add a subnet in {az} to the mapping: aws lambda update-event-source-mapping --uuid {} \
             --source-access-configurations …Type=VPC_SUBNET,URI=subnet:<subnet in {az}>",
            m.uuid
        ),
    )
}

/// From some of the mapping's subnets (in `vpc`), `r.service`'s API has no route.
pub(super) fn no_aws_api_route(r: &EsmApiRoute, region: &str, vpc: &str, m: &EventSourceMapping) -> Diag {
    Diag::new(
        FindingCode::EsmNoAwsApiRoute,
        format!(
            "from subnets {} of the mapping, the {} API has no NAT route and no interface endpoint with private DNS",
            r.unrouted_subnets.join(", "),
            r.service
        ),
        format!(
            "aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --vpc-id {vpc} --service-name com.amazonaws.{region}.{} \
             --subnet-ids {} --security-group-ids <group admitting 443 from {}> --private-dns-enabled (or a NAT gateway route)",
            r.service,
            r.unrouted_subnets.join(" "),
            m.security_groups.join(", ")
        ),
    )
}

/// From some of the mapping's subnets (in `vpc`), its on-failure destination's service has no route.
pub(super) fn destination_unreachable(r: &EsmApiRoute, region: &str, vpc: &str, m: &EventSourceMapping) -> Diag {
    let destination = m.on_failure_destination.as_deref().unwrap_or("(its destination)");
    let create = if r.service == "s3" {
        format!(
            "aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id {vpc} --service-name com.amazonaws.{region}.s3 \
             --route-table-ids <the route tables of {}>",
            r.unrouted_subnets.join(" ")
        )
    } else {
        format!(
            "aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --vpc-id {vpc} --service-name com.amazonaws.{region}.{} \
             --subnet-ids {} --security-group-ids <group admitting 443 from {}> --private-dns-enabled",
            r.service,
            r.unrouted_subnets.join(" "),
            m.security_groups.join(", ")
        )
    };
    Diag::new(
        FindingCode::EsmDestinationUnreachable,
        format!(
            "the mapping's on-failure destination {destination} is {}, and from subnets {} that API has no NAT route and no \
             VPC endpoint: failed batches cannot be sent",
            r.service.to_uppercase(),
            r.unrouted_subnets.join(", "),
        ),
        format!("{create} (or a NAT gateway route)"),
    )
}

/// From some of the mapping's subnets its schema registry has no route.
pub(super) fn schema_registry_unreachable(r: &EsmApiRoute, region: &str, vpc: &str, m: &EventSourceMapping) -> Diag {
    let registry = m.schema_registry.as_ref().map_or("(its registry)", |s| s.uri.as_str());
    let subnets = r.unrouted_subnets.join(" ");
    let (what, fix) = if r.service == "glue" {
        (
            "AWS Glue's API".to_string(),
            format!(
                "aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --vpc-id {vpc} --service-name \
                 com.amazonaws.{region}.glue --subnet-ids {subnets} --security-group-ids <group admitting 443 from {}> \
                 --private-dns-enabled (or a NAT gateway route)",
                m.security_groups.join(", ")
            ),
        )
    } else {
        (
            format!("{} (not an AWS service: no interface endpoint applies)", r.service),
            format!(
                "a NAT gateway route (0.0.0.0/0) in the route tables of {subnets}, or the registry's own private \
                 endpoint (Confluent Cloud: a PrivateLink connection for Schema Registry) with its name resolving there"
            ),
        )
    };
    Diag::new(
        FindingCode::EsmSchemaRegistryUnreachable,
        format!(
            "the mapping's schema registry {} is reached through {what}, and from subnets {} there is no route to it: \
             the pollers cannot fetch schemas",
            crate::text::clean(registry),
            r.unrouted_subnets.join(", ")
        ),
        fix,
    )
}

/// The role's trust policy lets `services` assume it, not Lambda.
pub(super) fn role_trust_missing(role: &str, services: &[String]) -> Diag {
    let name = role.rsplit('/').next().unwrap_or(role);
    Diag::new(
        FindingCode::EsmRoleTrustMissing,
        format!(
            "the execution role {role} trusts {}, not lambda.amazonaws.com: Lambda cannot assume it",
            if services.is_empty() { "no service".to_string() } else { services.join(", ") }
        ),
        format!(
            "aws iam update-assume-role-policy --role-name {name} --policy-document \
             '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"Service\":\"lambda.amazonaws.com\"}},\"Action\":\"sts:AssumeRole\"}}]}}' \
             (keep the statements the role still needs for {})",
            if services.is_empty() { "others".to_string() } else { services.join(", ") }
        ),
    )
}

/// The command that replaces the destination's resource policy, per service.
fn set_policy_command(d: &crate::report::DestinationPolicy) -> String {
    let name = d.arn.rsplit(':').next().unwrap_or(&d.arn);
    match d.action.split(':').next() {
        Some("sqs") => format!(
            "aws sqs set-queue-attributes --queue-url \"$(aws sqs get-queue-url --queue-name {name} --queue-owner-aws-account-id {} --query QueueUrl --output text)\" --attributes file://policy.json (Policy: the document as a string)",
            d.arn.split(':').nth(4).unwrap_or("")
        ),
        Some("sns") => format!(
            "aws sns set-topic-attributes --topic-arn {} --attribute-name Policy --attribute-value file://policy.json",
            d.arn
        ),
        _ => format!("aws s3api put-bucket-policy --bucket {name} --policy file://policy.json"),
    }
}

/// The destination's policy stops the role's send.
pub(super) fn destination_policy_denies(d: &crate::report::DestinationPolicy, role: &str) -> Diag {
    let why = if d.verdict == crate::report::PermissionVerdict::Denied {
        format!("denies {} to the execution role {role} ({})", d.action, d.statements.join(", "))
    } else if d.has_policy {
        format!(
            "is in another account and its policy allows {} to no statement naming the role {role} or its account",
            d.action
        )
    } else {
        format!("is in another account and has no resource policy: nothing allows {} to the role {role}", d.action)
    };
    let allow = format!(
        "{{\"Sid\":\"LambdaOnFailure\",\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"{role}\"}},\"Action\":\"{}\",\"Resource\":\"{}\"}}",
        d.action, d.resource
    );
    let fix = if d.verdict == crate::report::PermissionVerdict::Denied {
        format!(
            "Narrow or remove the denying statement ({}) so it no longer covers the role, keeping the others: {}",
            d.statements.join(", "),
            set_policy_command(d)
        )
    } else {
        format!("Add to the destination's policy (keeping its statements): {allow}; {}", set_policy_command(d))
    };
    Diag::new(
        FindingCode::EsmDestinationPolicyDenies,
        format!("the on-failure destination {} {why}: failed batches are not delivered", d.arn),
        fix,
    )
}

/// A statement kreach does not evaluate decides the role's send.
pub(super) fn destination_policy_not_verified(d: &crate::report::DestinationPolicy, role: &str) -> Diag {
    let summary = match &d.read_error {
        Some(e) => format!(
            "the on-failure destination {} is in another account and its policy could not be read from here ({e}): \
             whether it allows {} to {role} is not verified",
            d.arn, d.action
        ),
        None => format!(
            "the on-failure destination {}'s policy decides {} for {role} with {} (a condition on a key kreach \
             cannot know, or a NotPrincipal): not verified",
            d.arn,
            d.action,
            if d.statements.is_empty() { "a statement".to_string() } else { d.statements.join(", ") }
        ),
    };
    Diag::new(
        FindingCode::EsmDestinationPolicyNotVerified,
        summary,
        format!(
            "Check the statement's condition against what the pollers send (the role {role}, from the mapping's \
             account), or test with a message: aws {} while assuming the role",
            match d.action.split(':').next() {
                Some("sqs") => "sqs send-message",
                Some("sns") => "sns publish",
                _ => "s3api put-object",
            }
        ),
    )
}

/// The pollers' own system logs name these error codes.
pub(super) fn system_log_errors(m: &EventSourceMapping, errors: &[crate::report::EsmLogError]) -> Diag {
    let listed: Vec<String> = errors
        .iter()
        .map(|e| format!("{} ×{} (last {}: {})", e.error_code, e.count, e.last_time, e.last_message))
        .collect();
    Diag::new(
        FindingCode::EsmSystemLogErrors,
        format!("the pollers of mapping {} logged in the last day: {}", m.uuid, listed.join("; ")),
        "The other findings say which hop each error is about; the log group holds every event \
         (aws logs filter-log-events --filter-pattern ESM_PROCESSING_EVENT)."
            .to_string(),
    )
}

fn actions(missing: &[&PermissionCheck]) -> String {
    missing.iter().map(|p| p.action.as_str()).collect::<Vec<_>>().join(", ")
}

pub(super) fn role_missing_permission(esm: &EsmAudit, missing: &[&PermissionCheck]) -> Diag {
    Diag::new(
        FindingCode::EsmRoleMissingPermission,
        format!(
            "execution role {} may not {} ({})",
            esm.role.as_deref().unwrap_or("(unknown)"),
            actions(missing),
            esm.permission_method.as_deref().unwrap_or("")
        ),
        format!("Attach to the role: {}", statements(missing)),
    )
}

pub(super) fn connector_function_not_found(function: &str, region: Option<&str>) -> Diag {
    Diag::new(
        FindingCode::ConnectorFunctionNotFound,
        format!("lambda:GetFunction finds no function {function} in {}", region.unwrap_or("the region")),
        "Give the connector the function's exact name or ARN, in the region the connector is configured for.",
    )
}

pub(super) fn connector_permission_missing(c: &ConnectorAudit, function: &str, missing: &[&PermissionCheck]) -> Diag {
    Diag::new(
        FindingCode::ConnectorPermissionMissing,
        format!(
            "the Lambda Sink Connector's principal {} may not {} on {function} ({}); the connector calls the public \
             Lambda API from Confluent's side",
            c.principal.as_deref().unwrap_or("(unknown)"),
            actions(missing),
            c.permission_method.as_deref().unwrap_or("")
        ),
        format!("Attach to the principal: {}", statements(missing)),
    )
}

/// One policy statement granting the missing actions, per resource.
fn statements(missing: &[&PermissionCheck]) -> String {
    let mut by_resource: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in missing {
        by_resource.entry(p.resource.as_str()).or_default().push(p.action.as_str());
    }
    by_resource
        .iter()
        .map(|(resource, actions)| {
            format!("{{\"Effect\": \"Allow\", \"Action\": {actions:?}, \"Resource\": \"{resource}\"}}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

//! `kreach twin`: what it takes to run the kreach Lambda function exactly where an event source
//! mapping's pollers run — its subnets, its security groups — as a CloudFormation template and the
//! one `aws lambda invoke` line that runs it with the mapping as its event. Printed, never applied.

use std::io::Write;
use std::process::ExitCode;

use crate::cli::*;
use crate::cmd::*;
use crate::output::*;
use kreach::EventSourceMapping;
use serde_json::{Value, json};

/// The environment names the function reads (kreach-lambda's contract; a test keeps them equal).
pub(crate) const ENV_ALLOWED_BOOTSTRAP: &str = "KREACH_ALLOWED_BOOTSTRAP";
pub(crate) const ENV_ALLOWED_SECRETS: &str = "KREACH_ALLOWED_SECRETS";

/// The twin function's name: `kreach-twin-` and the mapping UUID's first group (the documented
/// IAM policies scope kreach's own permissions to functions named `kreach*`).
pub(crate) fn function_name(m: &EventSourceMapping) -> String {
    let short: String =
        m.uuid.split('-').next().unwrap_or("mapping").chars().filter(char::is_ascii_alphanumeric).take(16).collect();
    format!("kreach-twin-{}", if short.is_empty() { "mapping".to_string() } else { short.to_ascii_lowercase() })
}

/// The bootstrap hosts the function may send the mapping's credentials to.
fn allowed_bootstrap(m: &EventSourceMapping) -> String {
    let mut hosts: Vec<String> = m
        .bootstrap_servers
        .iter()
        .filter_map(|b| kreach::HostPort::parse(b, kreach::DEFAULT_KAFKA_PORT).ok())
        .map(|hp| hp.host)
        .collect();
    hosts.dedup();
    hosts.join(",")
}

/// The secrets the function may read: the mapping's authentication secret (SASL credentials or a
/// client certificate) and its root CA secret.
fn secrets(m: &EventSourceMapping) -> Vec<String> {
    let mut out: Vec<String> =
        m.auth_secret().into_iter().chain(m.root_ca_secret.as_deref()).map(str::to_string).collect();
    out.dedup();
    out
}

/// The template: the function in the mapping's subnets with its security groups, a least-privilege
/// role, and the environment that bounds where the mapping's credentials may go.
pub(crate) fn template(m: &EventSourceMapping) -> Value {
    let name = function_name(m);
    let uses_mapping_network = !m.subnets.is_empty();
    let mut parameters = json!({
        "CodeS3Bucket": {"Type": "String", "Description": "S3 bucket holding the kreach Lambda zip (bash scripts/dist.sh: target/dist/out/kreach-lambda-<version>-x86_64.zip)"},
        "CodeS3Key": {"Type": "String", "Description": "S3 key of the kreach Lambda zip"},
    });
    let (subnets, groups) = if uses_mapping_network {
        (json!(m.subnets), json!(m.security_groups))
    } else {
        // An Amazon MSK mapping's pollers use the cluster's network: the user names it.
        parameters["SubnetIds"] = json!({"Type": "List<AWS::EC2::Subnet::Id>", "Description": "The cluster's client subnets (aws kafka describe-cluster-v2)"});
        parameters["SecurityGroupIds"] =
            json!({"Type": "List<AWS::EC2::SecurityGroup::Id>", "Description": "The cluster's security groups"});
        (json!({"Ref": "SubnetIds"}), json!({"Ref": "SecurityGroupIds"}))
    };
    let mut statements = vec![json!({
        "Sid": "ReadTheMapping",
        "Effect": "Allow",
        "Action": "lambda:GetEventSourceMapping",
        "Resource": "*"
    })];
    statements.push(json!({
        "Sid": "ReadItsOwnConfiguration",
        "Effect": "Allow",
        "Action": "lambda:GetFunctionConfiguration",
        "Resource": {"Fn::Sub": format!("arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{name}")}
    }));
    let secrets = secrets(m);
    if !secrets.is_empty() {
        statements.push(json!({
            "Sid": "TheMappingsSecretsOnly",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secrets
        }));
    }
    statements.push(json!({
        "Sid": "AuditReadOnly",
        "Effect": "Allow",
        "Action": [
            "ec2:DescribeVpcEndpoints", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeRouteTables",
            "ec2:DescribeAvailabilityZones", "ec2:DescribeVpcAttribute", "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeNetworkInterfacePermissions",
            "ec2:DescribeNetworkAcls", "ec2:DescribeTransitGatewayVpcAttachments",
            "route53:ListHostedZonesByName", "route53:GetHostedZone", "route53:ListResourceRecordSets",
            "route53:ListHostedZonesByVPC",
            "route53resolver:ListResolverRuleAssociations", "route53resolver:ListResolverRules",
            "route53resolver:ListResolverQueryLogConfigAssociations", "route53resolver:ListResolverQueryLogConfigs",
            "route53resolver:ListFirewallRuleGroupAssociations", "route53resolver:ListFirewallRules",
            "route53resolver:ListFirewallDomains"
        ],
        "Resource": "*"
    }));
    if let Some(cluster) = m.event_source_arn.as_deref().filter(|_| m.amazon_msk()) {
        // The audit reads an MSK mapping's network from its cluster.
        // An ARN IAM would refuse (an account that is not 12 digits) is no resource to name.
        let account = cluster.split(':').nth(4).unwrap_or("");
        let resource = if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) { cluster } else { "*" };
        statements.push(json!({
            "Sid": "ReadTheCluster",
            "Effect": "Allow",
            "Action": "kafka:DescribeClusterV2",
            "Resource": resource
        }));
        // A cross-account cluster: the VPC connection in this account leads to it.
        statements.push(json!({
            "Sid": "ReadTheVpcConnections",
            "Effect": "Allow",
            "Action": ["kafka:ListVpcConnections", "kafka:DescribeVpcConnection"],
            "Resource": "*"
        }));
    }
    let mut environment = serde_json::Map::new();
    let bootstrap = allowed_bootstrap(m);
    if !bootstrap.is_empty() {
        environment.insert(ENV_ALLOWED_BOOTSTRAP.into(), json!(bootstrap));
    }
    if !secrets.is_empty() {
        environment.insert(ENV_ALLOWED_SECRETS.into(), json!(secrets.join(",")));
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "kreach probe function in the network of event source mapping {} (its subnets and security groups); printed by kreach twin, never applied by it",
            m.uuid
        ),
        "Parameters": parameters,
        "Resources": {
            "ProbeRole": probe_role("kreach-twin-read-only", statements),
            "Probe": probe_function(&name, None, subnets, groups, environment)
        },
        "Outputs": {"FunctionName": {"Value": {"Ref": "Probe"}}}
    })
}

/// The role of a kreach probe function: VPC access and logs (AWS's managed policy), and
/// `statements` as its own read-only policy.
pub(crate) fn probe_role(policy_name: &str, statements: Vec<Value>) -> Value {
    json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
            },
            "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"}],
            "Policies": [{"PolicyName": policy_name, "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]
        }
    })
}

/// A kreach probe function (the `bootstrap` binary from the CodeS3Bucket/CodeS3Key parameters,
/// the `ProbeRole`) in `subnets` with `groups` and `environment`.
pub(crate) fn probe_function(
    name: &str,
    description: Option<String>,
    subnets: Value,
    groups: Value,
    environment: serde_json::Map<String, Value>,
) -> Value {
    let mut function = json!({
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "FunctionName": name,
            "Runtime": "provided.al2023",
            "Handler": "bootstrap",
            "Architectures": ["arm64"],
            "MemorySize": 256,
            "Timeout": 60,
            "Role": {"Fn::GetAtt": ["ProbeRole", "Arn"]},
            "Code": {"S3Bucket": {"Ref": "CodeS3Bucket"}, "S3Key": {"Ref": "CodeS3Key"}},
            "VpcConfig": {"SubnetIds": subnets, "SecurityGroupIds": groups},
            "Environment": {"Variables": environment}
        }
    });
    if let Some(d) = description {
        function["Properties"]["Description"] = json!(d);
    }
    function
}

/// The event that runs the twin with the mapping (its bootstrap, secret and CA come from the
/// mapping itself, read with the function's role).
pub(crate) fn event(m: &EventSourceMapping) -> Value {
    json!({"event_source_mapping": m.arn.clone().unwrap_or_else(|| m.uuid.clone()), "aws": true})
}

/// Whether `text` is an AWS region name (`us-west-2`, `us-gov-west-1`).
pub(crate) fn is_region(text: &str) -> bool {
    kreach::layout::az_id_prefix(text).is_some()
}

/// The mapping's ids that reach a shell line, checked: a UUID of letters, digits and dashes, an
/// event source mapping ARN of Lambda's shape, a region. The error names the field.
pub(crate) fn validate(m: &EventSourceMapping) -> Result<(), String> {
    let id_ok =
        |id: &str| !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !id_ok(&m.uuid) {
        return Err("invalid event source mapping: its UUID is not letters, digits and dashes".into());
    }
    if let Some(arn) = &m.arn {
        let parts: Vec<&str> = arn.split(':').collect();
        let ok = parts.len() == 7
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[1].chars().all(|c| c.is_ascii_lowercase() || c == '-')
            && parts[2] == "lambda"
            && is_region(parts[3])
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && parts[5] == "event-source-mapping"
            && id_ok(parts[6]);
        if !ok {
            return Err("invalid event source mapping: EventSourceMappingArn is not an ARN of the shape \
                 arn:aws:lambda:REGION:ACCOUNT:event-source-mapping:UUID"
                .into());
        }
    }
    if let Some(region) = &m.region {
        if !is_region(region) {
            return Err("invalid event source mapping: the region its ARNs name is not a region".into());
        }
    }
    Ok(())
}

/// One shell word: quoted where the shell would split or expand it (a value never runs).
fn sh(word: &str) -> String {
    shlex::try_quote(word).map(|q| q.into_owned()).unwrap_or_else(|_| "''".into())
}

/// How to deploy and run the template (printed beside it): kreach applies nothing itself. Every
/// value from the mapping is quoted for the shell (and [`validate`]d before).
pub(crate) fn instructions(m: &EventSourceMapping) -> String {
    let name = function_name(m);
    let region = m.region.as_deref().map(|r| format!(" --region {}", sh(r))).unwrap_or_default();
    let mut out = format!(
        "# Deploy (kreach creates nothing; review it first), with the template above saved as twin.json:\n\
         aws cloudformation deploy --stack-name {name} --template-file twin.json --capabilities CAPABILITY_IAM \
         --parameter-overrides CodeS3Bucket=<bucket> CodeS3Key=<key>{region}\n\
         # Run it where the mapping's pollers run, with the mapping as its event:\n\
         aws lambda invoke --function-name {name}{region} --cli-binary-format raw-in-base64-out --payload {} report.json\n\
         # or, rendered here like any check: kreach check --via-function {name} --event-source-mapping {}{region2}\n",
        sh(&event(m).to_string()),
        sh(m.arn.as_deref().unwrap_or(&m.uuid)),
        region2 = m.region.as_deref().map(|r| format!(" --aws-region {}", sh(r))).unwrap_or_default(),
    );
    if m.subnets.is_empty() {
        out.push_str(
            "# The mapping names no subnets (an Amazon MSK mapping uses the cluster's): pass the cluster's client \
             subnets and security groups as SubnetIds and SecurityGroupIds.\n",
        );
    }
    out
}

/// `kreach twin`: the mapping (a file, or read from Lambda), then the template and the lines.
pub(crate) async fn twin(args: TwinArgs) -> Outcome {
    let lambda = LambdaArgs {
        event_source_mapping: args.event_source_mapping.clone(),
        event_source_mapping_file: args.event_source_mapping_file.clone(),
        sink_connector_principal: None,
        lambda_function: None,
    };
    let mapping = match mapping_input(&lambda)? {
        kreach::input::MappingInput::Given(m) => *m,
        kreach::input::MappingInput::Read(id) => read_mapping(&id, args.aws_region.as_deref())
            .await
            .map_err(|e| CliError::failed(format!("the event source mapping could not be read: {e}")))?,
        _ => return Err(CliError::usage("invalid --event-source-mapping: give a UUID or an ARN")),
    };
    // The mapping's ids reach shell lines: checked here, quoted there.
    validate(&mapping)?;
    let template = serde_json::to_string_pretty(&template(&mapping)).unwrap_or_default();
    emit(&format!("{template}\n"));
    let _ = std::io::stderr().write_all(instructions(&mapping).as_bytes());
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "aws"))]
pub(crate) async fn read_mapping(_: &str, _: Option<&str>) -> Result<kreach::EventSourceMapping, String> {
    Err(crate::aws::NO_AWS.to_string())
}

#[cfg(feature = "aws")]
pub(crate) async fn read_mapping(id: &str, region: Option<&str>) -> Result<kreach::EventSourceMapping, String> {
    let region = region.map(str::to_string).or_else(|| id.split(':').nth(3).map(str::to_string));
    let read = async {
        let sdk = kreach_aws::sdk_config(region.as_deref(), None, None).await;
        kreach_aws::fetch_mapping(&sdk, id).await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(kreach::input::MAPPING_CAP, read).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} ms", kreach::input::MAPPING_CAP.as_millis())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(arn: &str) -> EventSourceMapping {
        let json = serde_json::json!({"UUID": "a1b2c3d4", "EventSourceMappingArn": arn});
        EventSourceMapping::parse(json.to_string().as_bytes()).expect("mapping")
    }

    /// A hostile ARN in a mapping file is refused by name; a good one is printed as one quoted
    /// shell word, and the lines are lines.
    #[test]
    fn shell_lines_carry_no_command_of_the_mappings() {
        let hostile = mapping("arn:aws:lambda:us-west-2:123456789012:event-source-mapping:x';touch PWNED1;'");
        assert!(validate(&hostile).expect_err("refused").contains("EventSourceMappingArn"));
        let bad_region = mapping("arn:aws:lambda:us-west-2$(id):123456789012:event-source-mapping:a1b2c3d4");
        assert!(validate(&bad_region).is_err());
        let good = mapping("arn:aws:lambda:us-west-2:123456789012:event-source-mapping:a1b2c3d4");
        validate(&good).expect("valid");
        let text = instructions(&good);
        assert!(text.lines().count() >= 5, "{text}");
        assert!(!text.contains("\\u{a}"), "{text}");
        let invoke = text.lines().find(|l| l.starts_with("aws lambda invoke")).expect("invoke line");
        let words = shlex::split(invoke).expect("a shell line");
        let payload = words.iter().position(|w| w == "--payload").map(|i| &words[i + 1]).expect("payload");
        let event: serde_json::Value = serde_json::from_str(payload).expect("the payload is one word of JSON");
        assert_eq!(
            event["event_source_mapping"],
            "arn:aws:lambda:us-west-2:123456789012:event-source-mapping:a1b2c3d4"
        );
    }
}

//! `kreach fleet`: the same check from every vantage point at once (the kreach functions, one per
//! subnet or zone), merged into one view; and `kreach fleet template`, the CloudFormation that
//! deploys such a fleet with its canary schedule and alarms. Printed, never applied.

use serde_json::{Value, json};

use crate::twin::{ENV_ALLOWED_BOOTSTRAP, ENV_ALLOWED_SECRETS, probe_function, probe_role};

/// The fleet template's parameters as given.
pub(crate) struct TemplateSpec {
    pub(crate) vpc_id: String,
    /// `(subnet, zone)`: the zone when `--zones` named it.
    pub(crate) subnets: Vec<(String, Option<String>)>,
    pub(crate) security_groups: Vec<String>,
    pub(crate) bootstrap: Option<kreach::HostPort>,
    pub(crate) sasl_secret: Option<String>,
    pub(crate) schedule: String,
    /// One function per zone (the first subnet of each) instead of one per subnet.
    pub(crate) per_zone: bool,
}

/// A resource name part from an id: its letters and digits.
fn logical(id: &str) -> String {
    id.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// The functions' names: `kreach-fleet-` and the subnet id's hex (the documented policies scope
/// kreach's own permissions to functions named `kreach*`).
pub(crate) fn function_name(subnet: &str) -> String {
    format!(
        "kreach-fleet-{}",
        subnet.trim_start_matches("subnet-").chars().filter(char::is_ascii_alphanumeric).take(17).collect::<String>()
    )
}

/// The functions the template makes: `(subnet, zone)`, one per subnet or one per zone.
fn members(spec: &TemplateSpec) -> Vec<(String, Option<String>)> {
    if !spec.per_zone {
        return spec.subnets.clone();
    }
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (subnet, zone) in &spec.subnets {
        if !out.iter().any(|(_, z)| z == zone) {
            out.push((subnet.clone(), zone.clone()));
        }
    }
    out
}

/// The canary's event: the check, with its metric lines printed to the function's log.
fn canary_event(spec: &TemplateSpec) -> Value {
    let mut event = json!({"emit_metrics": true});
    if let Some(b) = &spec.bootstrap {
        event["bootstrap"] = json!(b.to_string());
    }
    if let Some(s) = &spec.sasl_secret {
        event["credentials_secret"] = json!(s);
    }
    event
}

/// A CloudWatch alarm on a kreach metric below 1 for two 5-minute periods.
fn alarm(description: String, metric: &str, dimensions: Value, missing: &str, actions: &Value) -> Value {
    json!({
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": kreach::render::EMF_NAMESPACE,
            "MetricName": metric,
            "Dimensions": dimensions,
            "Statistic": "Minimum",
            "Period": 300,
            "EvaluationPeriods": 2,
            "DatapointsToAlarm": 2,
            "Threshold": 1,
            "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": missing,
            "AlarmActions": actions
        }
    })
}

/// The template: per member a function in that subnet with the given groups, an EventBridge
/// Scheduler schedule invoking it as the canary, an alarm on its vantage; an alarm on the
/// cluster from every vantage; per zone (when zones are named) an alarm on the zone.
pub(crate) fn template(spec: &TemplateSpec) -> Value {
    let cluster = spec.bootstrap.as_ref().map(|b| b.host.clone()).unwrap_or_default();
    let mut resources = serde_json::Map::new();
    let mut statements = vec![json!({
        "Sid": "ReadItsOwnConfiguration",
        "Effect": "Allow",
        "Action": "lambda:GetFunctionConfiguration",
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:kreach-fleet-*"}
    })];
    if let Some(secret) = &spec.sasl_secret {
        statements.push(json!({"Sid": "TheCredentialsSecretOnly", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}));
    }
    resources.insert("ProbeRole".into(), probe_role("kreach-fleet-read-only", statements));
    resources.insert(
        "SchedulerRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
                "Policies": [{"PolicyName": "invoke-the-kreach-canaries", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "lambda:InvokeFunction",
                    "Resource": {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:kreach-fleet-*"}
                }]}}]
            }
        }),
    );
    let mut environment = serde_json::Map::new();
    if let Some(b) = &spec.bootstrap {
        environment.insert(ENV_ALLOWED_BOOTSTRAP.into(), json!(b.host));
    }
    if let Some(s) = &spec.sasl_secret {
        environment.insert(ENV_ALLOWED_SECRETS.into(), json!(s));
    }
    let alarm_actions = json!({"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]});
    let mut names = Vec::new();
    for (subnet, zone) in members(spec) {
        let name = function_name(&subnet);
        let id = logical(&subnet);
        let description =
            format!("kreach vantage point in {subnet}{}", zone.as_ref().map(|z| format!(" ({z})")).unwrap_or_default());
        resources.insert(
            format!("Probe{id}"),
            probe_function(&name, Some(description), json!([subnet]), json!(spec.security_groups), environment.clone()),
        );
        resources.insert(
            format!("Canary{id}"),
            json!({
                "Type": "AWS::Scheduler::Schedule",
                "Properties": {
                    "Description": format!("kreach canary from {subnet}: its metric lines go to the function's log (docs/metrics.md)"),
                    "ScheduleExpression": {"Ref": "Schedule"},
                    "FlexibleTimeWindow": {"Mode": "OFF"},
                    "Target": {
                        "Arn": {"Fn::GetAtt": [format!("Probe{id}"), "Arn"]},
                        "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
                        "Input": canary_event(spec).to_string(),
                        "RetryPolicy": {"MaximumRetryAttempts": 0}
                    }
                }
            }),
        );
        resources.insert(
            format!("VantageAlarm{id}"),
            alarm(
                format!(
                    "kreach: {cluster} is not reachable from {subnet} (the canary's CheckSuccess below 1, or no report)"
                ),
                "CheckSuccess",
                json!([{"Name": "Cluster", "Value": cluster}, {"Name": "Vantage", "Value": format!("lambda:{name}")}]),
                "breaching",
                &alarm_actions,
            ),
        );
        names.push(json!({"Ref": format!("Probe{id}")}));
    }
    resources.insert(
        "ClusterAlarm".into(),
        alarm(
            format!("kreach: {cluster} failed from at least one vantage point"),
            "CheckSuccess",
            json!([{"Name": "Cluster", "Value": cluster}]),
            "breaching",
            &alarm_actions,
        ),
    );
    let mut zones: Vec<&String> = spec.subnets.iter().filter_map(|(_, z)| z.as_ref()).collect();
    zones.sort();
    zones.dedup();
    for zone in zones {
        resources.insert(
            format!("ZoneAlarm{}", logical(zone)),
            alarm(
                format!("kreach: the brokers of {cluster} in {zone} fail (ZoneSuccess below 1)"),
                "ZoneSuccess",
                json!([{"Name": "Cluster", "Value": cluster}, {"Name": "Zone", "Value": zone}]),
                "notBreaching",
                &alarm_actions,
            ),
        );
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "kreach fleet in {}: one probe function per {}, a canary schedule each, and alarms; printed by kreach fleet template, never applied by it",
            spec.vpc_id,
            if spec.per_zone { "zone" } else { "subnet" }
        ),
        "Parameters": {
            "CodeS3Bucket": {"Type": "String", "Description": "S3 bucket holding the kreach Lambda zip (cargo lambda build --release -p kreach-lambda --output-format zip)"},
            "CodeS3Key": {"Type": "String", "Description": "S3 key of the kreach Lambda zip"},
            "Schedule": {"Type": "String", "Default": spec.schedule, "Description": "How often each canary runs (EventBridge Scheduler expression)"},
            "AlarmTopicArn": {"Type": "String", "Default": "", "Description": "An SNS topic for the alarms (empty: none)"}
        },
        "Conditions": {"HasAlarmTopic": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}},
        "Resources": resources,
        "Outputs": {"FunctionNames": {"Value": {"Fn::Join": [",", names]}, "Description": "kreach fleet --function for each"}}
    })
}

/// How to deploy it, and to many accounts (printed beside the template).
pub(crate) fn instructions(spec: &TemplateSpec) -> String {
    let functions: Vec<String> =
        members(spec).iter().map(|(s, _)| format!("--function {}", function_name(s))).collect();
    format!(
        "# Deploy (kreach creates nothing; review it first), with the template above saved as fleet.json:\n\
         aws cloudformation deploy --stack-name kreach-fleet --template-file fleet.json --capabilities CAPABILITY_IAM \
         --parameter-overrides CodeS3Bucket=<bucket> CodeS3Key=<key>\n\
         # Ask the whole fleet at once:\n\
         kreach fleet {} --bootstrap {}\n\
         # Many accounts: the same template as a StackSet (aws cloudformation create-stack-set --template-body \
         file://fleet.json --capabilities CAPABILITY_IAM, then create-stack-instances per account and region), \
         each account's subnets given to kreach fleet template; invoke across accounts with a --functions-file of \
         `NAME REGION ROLE-ARN` lines, the role one the caller may assume with lambda:InvokeFunction on kreach-fleet-*.\n",
        functions.join(" "),
        spec.bootstrap.as_ref().map(|b| b.to_string()).unwrap_or_else(|| "HOST:PORT".into())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_function_per_zone_takes_the_first_subnet_of_each() {
        let spec = TemplateSpec {
            vpc_id: "vpc-1".into(),
            subnets: vec![
                ("subnet-0a".into(), Some("use1-az1".into())),
                ("subnet-0b".into(), Some("use1-az1".into())),
                ("subnet-0c".into(), Some("use1-az2".into())),
            ],
            security_groups: vec!["sg-1".into()],
            bootstrap: None,
            sasl_secret: None,
            schedule: "rate(5 minutes)".into(),
            per_zone: true,
        };
        let m: Vec<String> = members(&spec).into_iter().map(|(s, _)| s).collect();
        assert_eq!(m, ["subnet-0a", "subnet-0c"]);
        assert_eq!(function_name("subnet-0123456789abcdef0"), "kreach-fleet-0123456789abcdef0");
    }
}

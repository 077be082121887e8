//! `kreach fleet`: the same check from every vantage point at once (the kreach functions, one per
//! subnet or zone), merged into one view; and `kreach fleet template`, the CloudFormation that
//! deploys such a fleet with its canary schedule and alarms. Printed, never applied.

use std::io::Write;
use std::process::ExitCode;

use crate::cli::*;
use crate::cmd::check::function_event;
use crate::output::*;
use serde_json::{Value, json};

use crate::cmd::twin::{ENV_ALLOWED_BOOTSTRAP, ENV_ALLOWED_SECRETS, probe_function, probe_role};

/// The fleet template's parameters as given.
pub(crate) struct TemplateSpec {
    pub(crate) vpc_id: String,
    /// `(subnet, zone)`: the zone when `--zones` named it.
    pub(crate) subnets: Vec<(String, Option<String>)>,
    pub(crate) security_groups: Vec<String>,
    pub(crate) bootstrap: kreach::HostPort,
    pub(crate) sasl_secret: Option<SecretRef>,
    pub(crate) schedule: String,
    /// One function per zone (the first subnet of each) instead of one per subnet.
    pub(crate) per_zone: bool,
}

/// The one secret the fleet's role may read: an ARN as given, or a name turned into the ARN
/// pattern of that name in the stack's account and region (Secrets Manager adds six random
/// characters to every secret's ARN: `-??????`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SecretRef {
    Arn(String),
    Name(String),
}

impl SecretRef {
    /// `--sasl-secret`: a Secrets Manager secret ARN, or a secret name; never a wildcard.
    pub(crate) fn parse(text: &str) -> Result<SecretRef, String> {
        let name_ok = |n: &str| {
            !n.is_empty() && n.len() <= 512 && n.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
        };
        if let Some(rest) = text.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(6, ':').collect();
            let ok = parts.len() == 6
                && parts[0].starts_with("aws")
                && parts[0].chars().all(|c| c.is_ascii_lowercase() || c == '-')
                && parts[1] == "secretsmanager"
                && crate::cmd::twin::is_region(parts[2])
                && parts[3].len() == 12
                && parts[3].bytes().all(|b| b.is_ascii_digit())
                && parts[4] == "secret"
                && name_ok(parts[5]);
            return if ok {
                Ok(SecretRef::Arn(text.to_string()))
            } else {
                Err("invalid --sasl-secret: not a secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX, no wildcard)".into())
            };
        }
        if name_ok(text) {
            Ok(SecretRef::Name(text.to_string()))
        } else {
            Err("invalid --sasl-secret: a secret's ARN or its name (letters, digits and /_+=.@-; no wildcard)".into())
        }
    }

    /// As given: what the canary's event names and the function allows.
    fn given(&self) -> &str {
        match self {
            SecretRef::Arn(a) | SecretRef::Name(a) => a,
        }
    }

    /// The policy's Resource: the ARN, or the name's ARN pattern in this stack's account.
    fn resource(&self) -> Value {
        match self {
            SecretRef::Arn(a) => json!(a),
            SecretRef::Name(n) => json!({"Fn::Sub": format!(
                "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{n}-??????"
            )}),
        }
    }
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
    let mut event = json!({"emit_metrics": true, "bootstrap": spec.bootstrap.to_string()});
    if let Some(s) = &spec.sasl_secret {
        event["credentials_secret"] = json!(s.given());
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
    let cluster = spec.bootstrap.host.clone();
    let mut resources = serde_json::Map::new();
    let mut statements = vec![json!({
        "Sid": "ReadItsOwnConfiguration",
        "Effect": "Allow",
        "Action": "lambda:GetFunctionConfiguration",
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:kreach-fleet-*"}
    })];
    if let Some(secret) = &spec.sasl_secret {
        statements.push(json!({"Sid": "TheCredentialsSecretOnly", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret.resource()}));
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
    environment.insert(ENV_ALLOWED_BOOTSTRAP.into(), json!(spec.bootstrap.host));
    if let Some(s) = &spec.sasl_secret {
        environment.insert(ENV_ALLOWED_SECRETS.into(), json!(s.given()));
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
            "CodeS3Bucket": {"Type": "String", "Description": "S3 bucket holding the kreach Lambda zip (bash scripts/dist.sh: target/dist/out/kreach-lambda-<version>-x86_64.zip)"},
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
        shlex::try_quote(&spec.bootstrap.to_string()).map(|q| q.into_owned()).unwrap_or_default()
    )
}

/// `kreach fleet template`: the template on stdout, how to deploy it on stderr.
pub(crate) fn fleet_template(t: FleetTemplateArgs) -> Outcome {
    let id_ok = |id: &str, prefix: &str| {
        // AWS's shapes: 8 or 17 hex digits.
        id.strip_prefix(prefix).is_some_and(|h| matches!(h.len(), 8 | 17) && h.chars().all(|c| c.is_ascii_hexdigit()))
    };
    if !id_ok(&t.vpc_id, "vpc-") {
        return Err(CliError::usage(format!("invalid --vpc-id `{}`: vpc- and 8 or 17 hex digits", t.vpc_id)));
    }
    if let Some(bad) = t.subnets.iter().find(|s| !id_ok(s, "subnet-")) {
        return Err(CliError::usage(format!("invalid --subnets: `{bad}` is not subnet- and 8 or 17 hex digits")));
    }
    if let Some(bad) = t.security_groups.iter().find(|s| !id_ok(s, "sg-")) {
        return Err(CliError::usage(format!("invalid --security-groups: `{bad}` is not sg- and 8 or 17 hex digits")));
    }
    if !t.zones.is_empty() && t.zones.len() != t.subnets.len() {
        return Err(CliError::usage("invalid --zones: one AZ ID per subnet, in the same order"));
    }
    if let Some(bad) =
        t.zones.iter().find(|z| !z.contains("-az") || !z.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(CliError::usage(format!("invalid --zones: `{bad}` is not an AZ ID (use1-az1)")));
    }
    let per_zone = match t.per.as_str() {
        "subnet" => false,
        "zone" if !t.zones.is_empty() => true,
        "zone" => return Err(CliError::usage("invalid --per zone: give --zones (each subnet's AZ ID)")),
        other => return Err(CliError::usage(format!("invalid --per `{other}`: subnet or zone"))),
    };
    let bootstrap = kreach::HostPort::parse(&t.bootstrap, kreach::DEFAULT_KAFKA_PORT)
        .map_err(|e| CliError::usage(format!("invalid --bootstrap: {e}")))?;
    let sasl_secret = t.sasl_secret.as_deref().map(SecretRef::parse).transpose()?;
    if t.schedule.len() > 256 || !(t.schedule.starts_with("rate(") || t.schedule.starts_with("cron(")) {
        return Err(CliError::usage("invalid --schedule: rate(…) or cron(…)"));
    }
    let spec = TemplateSpec {
        vpc_id: t.vpc_id,
        subnets: t.subnets.iter().enumerate().map(|(i, s)| (s.clone(), t.zones.get(i).cloned())).collect(),
        security_groups: t.security_groups,
        bootstrap,
        sasl_secret,
        schedule: t.schedule,
        per_zone,
    };
    emit(&format!("{}\n", serde_json::to_string_pretty(&template(&spec)).unwrap_or_default()));
    let _ = write!(std::io::stderr(), "{}", instructions(&spec));
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "aws"))]
pub(crate) async fn fleet_cmd(args: FleetArgs) -> Outcome {
    function_event(&args.check)?;
    Err(CliError::usage(crate::aws::NO_AWS))
}

/// `kreach fleet`: every function invoked with the check, the reports merged; a function without
/// a report is a column of its own.
#[cfg(feature = "aws")]
pub(crate) async fn fleet_cmd(args: FleetArgs) -> Outcome {
    let event = function_event(&args.check)?;
    let mut targets: Vec<kreach_aws::FleetTarget> = Vec::new();
    for f in &args.functions {
        match kreach_aws::FleetTarget::parse_line(f) {
            Ok(Some(t)) if !f.contains(char::is_whitespace) => targets.push(t),
            _ => {
                return Err(CliError::usage(format!(
                    "invalid --function `{}`: a function name or ARN",
                    kreach::render::clean(f)
                )));
            }
        }
    }
    if let Some(path) = &args.functions_file {
        let bytes = kreach::input::read_input_file(path, 1 << 20, "--functions-file")
            .map_err(|e| CliError::usage(e.to_string()))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        for (n, line) in text.lines().enumerate() {
            match kreach_aws::FleetTarget::parse_line(line) {
                Ok(Some(t)) => targets.push(t),
                Ok(None) => {}
                Err(e) => {
                    return Err(CliError::usage(format!("--functions-file {} line {}: {e}", path.display(), n + 1)));
                }
            }
        }
    }
    // The same function named twice is invoked once.
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert((t.function.clone(), t.region.clone(), t.role.clone())));
    if targets.is_empty() {
        return Err(CliError::usage("kreach fleet: give --function (repeatable) or --functions-file"));
    }
    if targets.len() > kreach_aws::MAX_FLEET {
        return Err(CliError::usage(format!(
            "kreach fleet: {} functions, more than {}",
            targets.len(),
            kreach_aws::MAX_FLEET
        )));
    }
    let timeout = args.check.timeout;
    if !timeout.is_finite() || !(1.0..=900.0).contains(&timeout) {
        return Err(CliError::usage(format!("invalid --timeout {timeout}: between 1 and 900 seconds for a fleet")));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(timeout);
    let plan = kreach_aws::FleetPlan {
        targets: &targets,
        event: &event,
        deadline,
        concurrency: args.concurrency,
        region: args.check.aws.aws_region.as_deref(),
        endpoint_url: None,
        credentials: None,
    };
    use std::io::IsTerminal as _;
    let draw = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if draw {
            let _ = write!(std::io::stderr(), "\rkreach fleet: {done}/{total} answered");
        }
    };
    let rows = kreach_aws::invoke_fleet(&plan, &progress).await;
    if draw {
        let _ = writeln!(std::io::stderr());
    }
    emit(&fleet_output(&rows, args.check.output));
    let failed = rows.iter().any(|r| r.report.as_ref().is_none_or(|rep| rep.status == kreach::Status::Fail));
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// A fleet's rows as the merged view: every function a vantage column (named by the function and
/// where it ran), those without a report as empty columns marked failed, said in what differs.
#[cfg(feature = "aws")]
pub(crate) fn fleet_output(rows: &[kreach_aws::Invocation], output: Output) -> String {
    // Each column is named by what the fleet knows: the function (and the region it was invoked
    // in), never the report's own claim, made unique.
    let names: Vec<String> = rows
        .iter()
        .map(|r| match &r.target.region {
            Some(region) => format!("{} ({region})", r.target.function),
            None => r.target.function.clone(),
        })
        .collect();
    let labels = kreach::render::unique_labels(names.iter().map(String::as_str));
    let label = |i: usize| labels[i].clone();
    let reports: Vec<(String, kreach::Report)> =
        rows.iter().enumerate().filter_map(|(i, r)| r.report.clone().map(|rep| (label(i), rep))).collect();
    let mut merged = kreach::merge(&reports);
    for (i, r) in rows.iter().enumerate().filter(|(_, r)| r.report.is_none()) {
        merged.vantages.push(label(i));
        merged.statuses.push(kreach::Status::Fail);
        for row in &mut merged.rows {
            row.cells.push(None);
        }
        merged.differences.push(format!(
            "{}: no report ({}): {}",
            r.target.function,
            r.outcome.as_label(),
            r.error.as_deref().unwrap_or("")
        ));
    }
    match output {
        Output::Json => {
            let invocations: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or_default();
                    v["status"] = serde_json::json!(r.report.as_ref().map(|rep| rep.status.as_label()));
                    v
                })
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({"invocations": invocations, "merged": merged}))
                .unwrap_or_default()
                + "\n"
        }
        other => render_merged(&reports, &merged, other),
    }
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
            bootstrap: kreach::HostPort::parse("lkc-1.abc123.us-west-2.aws.confluent.cloud:9092", 9092).expect("hp"),
            sasl_secret: None,
            schedule: "rate(5 minutes)".into(),
            per_zone: true,
        };
        let m: Vec<String> = members(&spec).into_iter().map(|(s, _)| s).collect();
        assert_eq!(m, ["subnet-0a", "subnet-0c"]);
        assert_eq!(function_name("subnet-0123456789abcdef0"), "kreach-fleet-0123456789abcdef0");
    }

    /// The role reads one secret: an ARN as given, a name as its ARN pattern; wildcards and
    /// other shapes are refused.
    #[test]
    fn the_secret_is_one_arn_never_a_wildcard() {
        for bad in [
            "*",
            "arn:aws:secretsmanager:*:*:secret:*",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:k*",
            "kafka/*",
            "arn:aws:s3:::bucket",
        ] {
            assert!(SecretRef::parse(bad).is_err(), "{bad}");
        }
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka/prod-AbCdEf";
        assert_eq!(SecretRef::parse(arn).expect("arn").resource(), json!(arn));
        let name = SecretRef::parse("kafka/prod").expect("name").resource().to_string();
        assert!(name.contains(":secret:kafka/prod-??????"), "{name}");
    }
}

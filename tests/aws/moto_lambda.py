"""Plants what a kreach Lambda function reads about itself in a moto server: its execution role,
functions with and without a VpcConfig in VPC_ID, a decoy interface endpoint in another VPC, and Secrets Manager secrets holding SASL
credentials (well-formed and malformed). With `--deny-secrets`, also a user that may read the
functions but not the secrets, and moto's IAM checks switched on. Prints the ids as one JSON line.

Usage: moto_lambda.py ENDPOINT_URL VPC_ID [--deny-secrets]
"""
import io
import json
import sys
import urllib.request
import zipfile

import boto3

REGION = "us-west-2"
SASL_PASSWORD = "lab-secret-value-0123456789"


def main() -> int:
    url, vpc = sys.argv[1:3]
    deny = "--deny-secrets" in sys.argv[3:]
    kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    ec2 = boto3.client("ec2", **kw)
    iam = boto3.client("iam", **kw)
    lam = boto3.client("lambda", **kw)
    sm = boto3.client("secretsmanager", **kw)

    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName="kreach-probe", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    groups = {
        g["GroupName"]: g["GroupId"]
        for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    }
    probe_sg = ec2.create_security_group(GroupName="kreach-probe", Description="probe", VpcId=vpc)["GroupId"]

    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    result = {"role": role, "subnets": subnets, "probe_security_group": probe_sg, "client_security_group": groups["kafka-clients"]}

    def function(name, vpc_config):
        spec = dict(FunctionName=name, Runtime="provided.al2023", Role=role, Handler="bootstrap", Code={"ZipFile": code.getvalue()})
        if vpc_config:
            spec["VpcConfig"] = vpc_config
        lam.create_function(**spec)

    # In the VPC with its own security group (which the endpoint's rules do not admit), with the
    # clients' security group (which they admit), and outside any VPC.
    function("kreach-probe-az1", {"SubnetIds": subnets[:1], "SecurityGroupIds": [probe_sg]})
    function("kreach-probe-clients", {"SubnetIds": subnets[:1], "SecurityGroupIds": [groups["kafka-clients"]]})
    function("kreach-probe-outside", None)

    # Another VPC with its own interface endpoint: an audit that does not narrow the search to the
    # probe's VPC finds two.
    decoy_vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    decoy_subnet = ec2.create_subnet(VpcId=decoy_vpc, CidrBlock="10.40.0.0/24")["Subnet"]["SubnetId"]
    result["decoy_endpoint"] = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=decoy_vpc,
        ServiceName="com.amazonaws.vpce.us-west-2.vpce-svc-0decoy0000000000",
        SubnetIds=[decoy_subnet],
    )["VpcEndpoint"]["VpcEndpointId"]

    result["secret"] = sm.create_secret(
        Name="kreach/lab", SecretString=json.dumps({"username": "lab-api-key", "password": SASL_PASSWORD})
    )["ARN"]
    sm.create_secret(Name="kreach/malformed", SecretString=json.dumps({"user_name": "lab-api-key", "pw": SASL_PASSWORD}))
    result["password"] = SASL_PASSWORD

    if deny:
        iam.create_user(UserName="kreach-probe-role")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["lambda:GetFunctionConfiguration", "ec2:Describe*"], "Resource": "*"}],
        }
        arn = iam.create_policy(PolicyName="kreach-no-secrets", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
        iam.attach_user_policy(UserName="kreach-probe-role", PolicyArn=arn)
        key = iam.create_access_key(UserName="kreach-probe-role")["AccessKey"]
        result["access_key"] = [key["AccessKeyId"], key["SecretAccessKey"]]
        urllib.request.urlopen(
            urllib.request.Request(url + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"})
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

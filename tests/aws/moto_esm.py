"""Plants, beside an account planted by moto_account.py (VPC, subnets in three zones, the interface
endpoint and its security group), what a Lambda event source mapping and the Lambda Sink
Connector need: the mapping's security group and subnets, route tables with a NAT gateway,
interface endpoints for lambda/sts/secretsmanager, the function with its execution role, the SASL
secret, the connector's user, and an Amazon MSK cluster on the mapping's subnets and group.
Healthy, or with one scenario's fault. Prints the ids and the mapping (the documented
GetEventSourceMapping shape: moto cannot create a self-managed Kafka mapping) as one JSON line.

Usage: moto_esm.py ENDPOINT_URL ACCOUNT_JSON SCENARIO BOOTSTRAP
"""
import io
import json
import sys
import zipfile

import boto3

REGION = "us-west-2"
ROLE_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
]


def main() -> int:
    url, account, scenario, bootstrap = sys.argv[1:5]
    account = json.loads(account)
    kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    ec2 = boto3.client("ec2", **kw)
    iam = boto3.client("iam", **kw)
    lam = boto3.client("lambda", **kw)
    sm = boto3.client("secretsmanager", **kw)
    vpc = account["vpc_id"]

    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    subnets.sort(key=lambda s: s["AvailabilityZone"])
    mapping_subnets = [s["SubnetId"] for s in subnets]
    if scenario == "subnet-zone-missing":
        mapping_subnets = mapping_subnets[:2]

    # The mapping's security group: 443 out to everywhere, the broker ports (9092-9098) out to the VPC.
    sg = ec2.create_security_group(GroupName="esm-pollers", Description="esm", VpcId=vpc)["GroupId"]
    ec2.revoke_security_group_egress(
        GroupId=sg, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    egress = [{"IpProtocol": "tcp", "FromPort": 9092, "ToPort": 9098, "IpRanges": [{"CidrIp": "10.20.0.0/16"}]}]
    if scenario != "sg-egress-missing":
        egress.append({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    ec2.authorize_security_group_egress(GroupId=sg, IpPermissions=egress)
    # The endpoint admits the mapping's group on 443 and 9092.
    if scenario != "endpoint-ingress-missing":
        ec2.authorize_security_group_ingress(
            GroupId=account["security_group"],
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": p, "ToPort": p, "UserIdGroupPairs": [{"GroupId": sg}]} for p in (443, 9092)
            ],
        )

    # The AWS APIs: a NAT gateway route in every subnet's table, and interface endpoints.
    if scenario != "no-aws-api-route":
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.200.0/24", AvailabilityZone=subnets[0]["AvailabilityZone"])
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=public["Subnet"]["SubnetId"], AllocationId=eip)["NatGateway"]["NatGatewayId"]
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        for s in mapping_subnets:
            ec2.associate_route_table(RouteTableId=table, SubnetId=s)
    if scenario not in ("no-aws-api-route", "nat-only"):
        for service in ("lambda", "sts", "secretsmanager"):
            ec2.create_vpc_endpoint(
                VpcEndpointType="Interface",
                VpcId=vpc,
                ServiceName=f"com.amazonaws.{REGION}.{service}",
                SubnetIds=mapping_subnets,
                SecurityGroupIds=[account["security_group"]],
                PrivateDnsEnabled=True,
            )

    # The secret and the function with its execution role.
    kms = boto3.client("kms", **kw)
    key = kms.create_key(Description="kafka secret key")["KeyMetadata"]["Arn"]
    secret = sm.create_secret(
        Name="kafka/esm", KmsKeyId=key, SecretString=json.dumps({"username": "k", "password": "p"})
    )["ARN"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName="orders-consumer-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    actions = [a for a in ROLE_ACTIONS if not (scenario == "role-missing-permission" and a == "ec2:CreateNetworkInterface")]
    managed = iam.create_policy(
        PolicyName="esm-vpc",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=managed)
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="secret",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret},
                    {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key if scenario != "kms-decrypt-missing" else "arn:aws:kms:*:*:key/other"},
                ],
            }
        ),
    )
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    function = lam.create_function(
        FunctionName="orders-consumer",
        Runtime="provided.al2023",
        Role=role["Arn"],
        Handler="bootstrap",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]

    # The Lambda Sink Connector's user: may it invoke and get the function?
    user = iam.create_user(UserName="confluent-sink-connector")["User"]["Arn"]
    connector_actions = ["lambda:InvokeFunction", "lambda:GetFunction"]
    if scenario == "connector-permission-missing":
        connector_actions = ["lambda:GetFunction"]
    iam.put_user_policy(
        UserName="confluent-sink-connector",
        PolicyName="invoke",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": connector_actions, "Resource": function}]}
        ),
    )

    # An Amazon MSK cluster on the same subnets and group: a mapping on it runs its pollers there,
    # and the group must admit itself on the broker ports.
    kafka = boto3.client("kafka", **kw)
    cluster = kafka.create_cluster_v2(
        ClusterName="orders",
        Provisioned={
            "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": mapping_subnets, "SecurityGroups": [sg]},
            "KafkaVersion": "3.6.0",
            "NumberOfBrokerNodes": 3,
        },
    )["ClusterArn"]
    if scenario != "msk-self-ingress-missing":
        ec2.authorize_security_group_ingress(
            GroupId=sg,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 9092, "ToPort": 9098, "UserIdGroupPairs": [{"GroupId": sg}]}],
        )

    uuid = "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"
    mapping = {
        "UUID": uuid,
        "EventSourceMappingArn": f"arn:aws:lambda:{REGION}:123456789012:event-source-mapping:{uuid}",
        "FunctionArn": function,
        "State": "Enabled",
        "StateTransitionReason": "USER_INITIATED",
        "LastProcessingResult": "OK",
        "Topics": ["orders"],
        "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [bootstrap]}},
        "SourceAccessConfigurations": [{"Type": "BASIC_AUTH", "URI": secret}]
        + [{"Type": "VPC_SUBNET", "URI": f"subnet:{s}"} for s in mapping_subnets]
        + [{"Type": "VPC_SECURITY_GROUP", "URI": f"security_group:{sg}"}],
    }
    print(
        json.dumps(
            {"mapping": mapping, "function": function, "connector_user": user, "mapping_security_group": sg, "msk_cluster": cluster}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

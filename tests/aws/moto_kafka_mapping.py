"""Plants a self-managed Kafka event source mapping in a moto server: a consumer function, the
mapping's SASL/SCRAM secret and its SERVER_ROOT_CA_CERTIFICATE secret (the lab's private CA), and
the mapping itself naming BOOTSTRAP. Prints {"uuid", "password"} as one JSON line.

moto creates mappings only for the event sources it emulates (SQS, DynamoDB, Kinesis), so the
mapping rides on a Kinesis stream's ARN and carries the self-managed Kafka fields as given; moto
returns them as Lambda would. kreach reads only the Kafka fields.

Usage: moto_kafka_mapping.py ENDPOINT_URL BOOTSTRAP CA_PEM_FILE
"""
import io
import json
import sys
import zipfile

import boto3

REGION = "us-west-2"
SCRAM_PASSWORD = "scram-secret-value-9876543210"


def main() -> int:
    url, bootstrap, ca_file = sys.argv[1:4]
    kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    iam = boto3.client("iam", **kw)
    lam = boto3.client("lambda", **kw)
    sm = boto3.client("secretsmanager", **kw)
    kinesis = boto3.client("kinesis", **kw)

    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName="orders-consumer", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    lam.create_function(
        FunctionName="orders-consumer", Runtime="provided.al2023", Role=role, Handler="bootstrap",
        Code={"ZipFile": code.getvalue()},
    )
    scram = sm.create_secret(
        Name="kreach/orders-scram", SecretString=json.dumps({"username": "orders", "password": SCRAM_PASSWORD})
    )["ARN"]
    with open(ca_file) as f:
        ca = sm.create_secret(Name="kreach/orders-ca", SecretString=json.dumps({"certificate": f.read()}))["ARN"]
    kinesis.create_stream(StreamName="carrier", ShardCount=1)
    stream = kinesis.describe_stream(StreamName="carrier")["StreamDescription"]["StreamARN"]
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName="orders-consumer",
        Topics=["orders"],
        SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [bootstrap]}},
        SourceAccessConfigurations=[
            {"Type": "SASL_SCRAM_512_AUTH", "URI": scram},
            {"Type": "SERVER_ROOT_CA_CERTIFICATE", "URI": ca},
        ],
    )
    print(json.dumps({"uuid": mapping["UUID"], "password": SCRAM_PASSWORD}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

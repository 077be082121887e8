"""Creates one Secrets Manager secret in a moto server and prints its ARN.

Usage: moto_secret.py ENDPOINT_URL NAME VALUE_FILE
"""
import sys

import boto3


def main() -> int:
    url, name, value_file = sys.argv[1:4]
    sm = boto3.client(
        "secretsmanager", endpoint_url=url, region_name="us-west-2", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with open(value_file, encoding="utf-8") as f:
        print(sm.create_secret(Name=name, SecretString=f.read())["ARN"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

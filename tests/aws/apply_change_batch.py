"""Applies a change batch (what `kreach records --output change-batch` prints) with boto3, as
`aws route53 change-resource-record-sets` would. Usage: apply_change_batch.py URL ZONE_ID FILE"""
import json
import sys

import boto3


def main() -> int:
    url, zone_id, path = sys.argv[1:4]
    r53 = boto3.client(
        "route53", endpoint_url=url, region_name="us-west-2", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with open(path) as f:
        batch = json.load(f)
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch=batch)
    names = [r["Name"] for r in r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]]
    print(json.dumps(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())

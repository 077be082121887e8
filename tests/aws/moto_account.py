"""Plants an AWS account in a moto server: a VPC, subnets in three zones, an interface endpoint
with its security group, and the private hosted zone with its records — healthy, or with one
scenario's fault. Prints the ids as one JSON line.

Usage: moto_account.py ENDPOINT_URL SCENARIO DOMAIN
"""
import json
import sys

import boto3

REGION = "us-west-2"


def main() -> int:
    url, scenario, domain = sys.argv[1:4]
    kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    ec2 = boto3.client("ec2", **kw)
    r53 = boto3.client("route53", **kw)

    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": scenario != "vpc-dns-disabled"})
    zones = ec2.describe_availability_zones()["AvailabilityZones"][:3]
    if scenario == "az-not-covered":
        zones = zones[:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=z["ZoneName"])["Subnet"]["SubnetId"]
        for i, z in enumerate(zones)
    ]
    client_sg = ec2.create_security_group(GroupName="kafka-clients", Description="clients", VpcId=vpc)["GroupId"]
    sg = ec2.create_security_group(GroupName="confluent-endpoint", Description="endpoint", VpcId=vpc)["GroupId"]
    ports = [443] if scenario == "sg-missing-9092" else [443, 9092]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": p, "ToPort": p, "UserIdGroupPairs": [{"GroupId": client_sg}]} for p in ports
        ],
    )
    service = "com.amazonaws.vpce.us-west-2.vpce-svc-0abc1234def567890"
    endpoint = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=vpc,
        ServiceName=service,
        SubnetIds=subnets,
        SecurityGroupIds=[sg],
        PrivateDnsEnabled=scenario == "private-dns-enabled",
    )["VpcEndpoint"]
    endpoint_id = endpoint["VpcEndpointId"]
    regional = endpoint["DnsEntries"][0]["DnsName"]
    by_name = {z["ZoneName"]: z["ZoneId"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}

    result = {
        "vpc_id": vpc,
        "vpc_endpoint_id": endpoint_id,
        "security_group": sg,
        "client_security_group": client_sg,
        "regional": regional,
        "zones": [],
    }
    if scenario == "probe-sg-egress-missing":
        # The clients' group lets only HTTPS out.
        ec2.revoke_security_group_egress(
            GroupId=client_sg, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        )
        ec2.authorize_security_group_egress(
            GroupId=client_sg,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
    if scenario != "phz-missing":
        other_vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
        zone_vpc = other_vpc if scenario == "phz-not-associated" else vpc
        zone_id = r53.create_hosted_zone(
            Name=domain,
            CallerReference=f"kreach-{scenario}",
            HostedZoneConfig={"PrivateZone": True, "Comment": "kreach test"},
            VPC={"VPCRegion": REGION, "VPCId": zone_vpc},
        )["HostedZone"]["Id"]
        first, rest = regional.split(".", 1)
        wildcard = regional
        if scenario == "record-wrong-target":
            wildcard = "cname.elsewhere.example"
        if scenario == "record-other-endpoint":
            # The wildcard still names another interface endpoint: one to another service.
            other = ec2.create_vpc_endpoint(
                VpcEndpointType="Interface", VpcId=vpc, ServiceName="com.amazonaws.vpce.us-west-2.vpce-svc-0ffee0000000000aa",
                SubnetIds=subnets[:1], SecurityGroupIds=[sg],
            )["VpcEndpoint"]
            wildcard = other["DnsEntries"][0]["DnsName"]
            result["other_endpoint"] = other["VpcEndpointId"]
        records = [("*." + domain, wildcard)]
        for z in zones:
            az_id = by_name[z["ZoneName"]]
            result["zones"].append({"az_id": az_id, "az_name": z["ZoneName"]})
            if scenario == "record-missing" and z is zones[1]:
                continue
            records.append((f"*.{az_id}.{domain}", f"{first}-{z['ZoneName']}.{rest}"))
        r53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": n,
                            "Type": "CNAME",
                            "TTL": 300 if scenario == "record-ttl" else 60,
                            "ResourceRecords": [{"Value": v}],
                        },
                    }
                    for n, v in records
                ]
            },
        )
        result["hosted_zone_id"] = zone_id.split("/")[-1]
    if scenario in ("resolver-forwards", "resolver-forwards-carved"):
        # An outbound Resolver endpoint and a FORWARD rule for the cluster's domain (or, carved,
        # for its parent with a SYSTEM rule giving the domain back to the VPC resolver).
        resolver = boto3.client("route53resolver", **kw)
        outbound = resolver.create_resolver_endpoint(
            CreatorRequestId="kreach-out", Name="to-onprem", SecurityGroupIds=[sg], Direction="OUTBOUND",
            IpAddresses=[{"SubnetId": subnets[0]}, {"SubnetId": subnets[1]}],
        )["ResolverEndpoint"]["Id"]
        parent = domain.split(".", 1)[1] if scenario == "resolver-forwards-carved" else domain
        rule = resolver.create_resolver_rule(
            CreatorRequestId="kreach-fwd", Name="to-onprem", RuleType="FORWARD", DomainName=parent,
            TargetIps=[{"Ip": "10.9.9.9", "Port": 53}], ResolverEndpointId=outbound,
        )["ResolverRule"]["Id"]
        resolver.associate_resolver_rule(ResolverRuleId=rule, VPCId=vpc, Name="to-onprem")
        if scenario == "resolver-forwards-carved":
            system = resolver.create_resolver_rule(
                CreatorRequestId="kreach-sys", Name="cluster-back", RuleType="SYSTEM", DomainName=domain,
            )["ResolverRule"]["Id"]
            resolver.associate_resolver_rule(ResolverRuleId=system, VPCId=vpc, Name="cluster-back")
        result["resolver_rule"] = rule
    if scenario.startswith(("transit-", "peering-")):
        # The probe in its own VPC, reaching the endpoint's over a transit gateway (or a peering):
        # routes each way, attachments in the zones that send traffic, the zone associated there.
        probe_vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        probe_subnet = ec2.create_subnet(VpcId=probe_vpc, CidrBlock="10.40.1.0/24", AvailabilityZone=zones[0]["ZoneName"])[
            "Subnet"
        ]["SubnetId"]
        probe_table = ec2.create_route_table(VpcId=probe_vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=probe_table, SubnetId=probe_subnet)
        endpoint_table = ec2.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
        )["RouteTables"][0]["RouteTableId"]
        if scenario.startswith("peering-"):
            pcx = ec2.create_vpc_peering_connection(VpcId=probe_vpc, PeerVpcId=vpc)["VpcPeeringConnection"][
                "VpcPeeringConnectionId"
            ]
            ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
            via = {"VpcPeeringConnectionId": pcx}
            result["peering"] = pcx
        else:
            tgw = ec2.create_transit_gateway(Description="hub")["TransitGateway"]["TransitGatewayId"]
            endpoint_side = subnets if scenario != "transit-zone-missing" else [subnets[0], subnets[2]]
            attachment = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=endpoint_side)[
                "TransitGatewayVpcAttachment"
            ]["TransitGatewayAttachmentId"]
            ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=probe_vpc, SubnetIds=[probe_subnet])
            via = {"TransitGatewayId": tgw}
            result["transit_gateway"] = tgw
            result["endpoint_attachment"] = attachment
        if scenario not in ("transit-route-missing", "peering-route-missing"):
            ec2.create_route(RouteTableId=probe_table, DestinationCidrBlock="10.20.0.0/16", **via)
        if scenario != "transit-return-missing":
            ec2.create_route(RouteTableId=endpoint_table, DestinationCidrBlock="10.40.0.0/16", **via)
        if scenario != "phz-missing":
            r53.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC={"VPCRegion": REGION, "VPCId": probe_vpc})
        result["probe_vpc"] = probe_vpc
        result["probe_subnet"] = probe_subnet
        result["probe_route_table"] = probe_table
        result["endpoint_route_table"] = endpoint_table
    if scenario == "query-logged":
        # The VPC's resolver queries logged to a CloudWatch Logs group.
        resolver = boto3.client("route53resolver", **kw)
        config = resolver.create_resolver_query_log_config(
            Name="vpc-dns-queries", CreatorRequestId="kreach-qlc",
            DestinationArn="arn:aws:logs:us-west-2:123456789012:log-group:/dns/queries",
        )["ResolverQueryLogConfig"]["Id"]
        resolver.associate_resolver_query_log_config(ResolverQueryLogConfigId=config, ResourceId=vpc)
        result["query_log_config"] = config
    if scenario in ("nacl-denies-9092", "nacl-denies-return"):
        # A network ACL on the second zone's endpoint subnet: inbound 9092 denied ahead of the
        # allow-all rule, or the return traffic to clients' ephemeral ports denied.
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        deny_egress = scenario == "nacl-denies-return"
        deny_range = {"From": 32768, "To": 65535} if deny_egress else {"From": 9092, "To": 9092}
        ec2.create_network_acl_entry(
            NetworkAclId=acl, RuleNumber=90, Protocol="6", RuleAction="deny", Egress=deny_egress,
            CidrBlock="0.0.0.0/0", PortRange=deny_range,
        )
        for egress in (False, True):
            ec2.create_network_acl_entry(
                NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="allow", Egress=egress, CidrBlock="0.0.0.0/0"
            )
        default = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnets[1]]}])
        association = next(
            a["NetworkAclAssociationId"]
            for a in default["NetworkAcls"][0]["Associations"]
            if a["SubnetId"] == subnets[1]
        )
        ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)
        result["network_acl"] = acl
        result["acl_subnet"] = subnets[1]
    if scenario == "route53-denied":
        # Credentials that may read EC2 but not Route 53; moto checks them once auth is on.
        iam = boto3.client("iam", **kw)
        iam.create_user(UserName="kreach-audit")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*"}],
        }
        arn = iam.create_policy(PolicyName="kreach-ec2-only", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
        iam.attach_user_policy(UserName="kreach-audit", PolicyArn=arn)
        key = iam.create_access_key(UserName="kreach-audit")["AccessKey"]
        result["access_key"] = [key["AccessKeyId"], key["SecretAccessKey"]]
        import urllib.request

        urllib.request.urlopen(
            urllib.request.Request(
                url + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
            )
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

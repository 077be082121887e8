//! Confluent's Private Network Interface (PNI) from EC2: a VPC without an interface endpoint may
//! reach Confluent through network interfaces of its own that Confluent's account attaches to its
//! brokers' machines. They are the VPC's interfaces that carry an `INSTANCE-ATTACH` permission
//! or are attached to another account's instance; read with their permissions and their security
//! groups' rules. Sources: Confluent's *Use Private Network Interface on Confluent Cloud* page and
//! EC2's `DescribeNetworkInterfacePermissions` reference.

use kreach::report::{AwsAudit, AwsEniPermission, AwsIngressRule, AwsPniInterface};

use crate::api::{self as ec2, Query};
use crate::note;
use crate::sg::sg_rules;

/// Most PNI interfaces kept (Confluent's script creates one per zone and access point).
pub(crate) const MAX_PNI_INTERFACES: usize = 24;

/// The PNI interfaces of `vpc`, with their permissions and rules; empty when the VPC has none
/// (or the reads failed: their errors are in the audit). `false` when an unreachable API stopped
/// the audit.
pub(crate) async fn pni_audit(ec2: &ec2::Ec2, vpc: &str, cluster: &[String], audit: &mut AwsAudit) -> bool {
    let perms_q = Query::new("DescribeNetworkInterfacePermissions")
        .filter("network-interface-permission.permission", &["INSTANCE-ATTACH".to_string()]);
    let enis_q = Query::new("DescribeNetworkInterfaces").filter("vpc-id", &[vpc.to_string()]);
    let zones_q = Query::new("DescribeAvailabilityZones");
    audit.calls.extend([perms_q.label(), enis_q.label(), zones_q.label()]);
    let (perms, enis, zones) = tokio::join!(
        ec2.call_all(&perms_q, "networkInterfacePermissions"),
        ec2.call_all(&enis_q, "networkInterfaceSet"),
        ec2.call(&zones_q),
    );
    let permissions: Vec<(String, AwsEniPermission)> = match perms {
        Ok(items) => items.iter().filter_map(permission_from).collect(),
        Err(e) => {
            if note(audit, e) {
                return false;
            }
            Vec::new()
        }
    };
    let enis = match enis {
        Ok(items) => items,
        Err(e) => return !note(audit, e),
    };
    let zone_ids: Vec<(String, String)> = match zones {
        Ok(out) => out
            .items("availabilityZoneInfo")
            .filter_map(|z| Some((z.text("zoneName")?.to_string(), z.text("zoneId")?.to_string())))
            .collect(),
        Err(e) => {
            if note(audit, e) {
                return false;
            }
            Vec::new()
        }
    };
    let mut interfaces: Vec<AwsPniInterface> = enis
        .iter()
        .filter_map(|eni| interface_from(eni, &permissions, &zone_ids, cluster))
        .take(MAX_PNI_INTERFACES)
        .collect();
    if interfaces.is_empty() {
        return true;
    }
    let mut groups: Vec<String> = interfaces.iter().flat_map(|i| i.security_groups.iter().cloned()).collect();
    groups.sort();
    groups.dedup();
    groups.truncate(kreach::limits::MAX_LIST);
    if !groups.is_empty() {
        let groups_q = Query::new("DescribeSecurityGroups").list("GroupId", &groups);
        audit.calls.push(groups_q.label());
        match ec2.call_all(&groups_q, "securityGroupInfo").await {
            Ok(sgs) => {
                for interface in &mut interfaces {
                    for sg in sgs.iter().filter(|sg| {
                        sg.text("groupId").is_some_and(|id| interface.security_groups.iter().any(|g| g == id))
                    }) {
                        let id = sg.text("groupId").unwrap_or("");
                        for (direction, out) in [
                            ("ipPermissions", &mut interface.ingress_rules),
                            ("ipPermissionsEgress", &mut interface.egress_rules),
                        ] {
                            out.extend(
                                sg_rules(sg, direction)
                                    .into_iter()
                                    .map(|r| AwsIngressRule::new(id, r.from, r.to, r.all, &r.peer)),
                            );
                        }
                    }
                }
            }
            Err(e) => {
                if note(audit, e) {
                    return false;
                }
            }
        }
    }
    interfaces.sort_by(|a, b| (&a.az_id, &a.id).cmp(&(&b.az_id, &b.id)));
    audit.pni_interfaces = interfaces;
    true
}

/// One `INSTANCE-ATTACH` (or other) permission: the interface it is on, and what it grants.
fn permission_from(item: &ec2::Element) -> Option<(String, AwsEniPermission)> {
    let interface = item.text("networkInterfaceId")?.to_string();
    let mut p = AwsEniPermission::default();
    p.account = item.text("awsAccountId").or_else(|| item.text("awsService")).unwrap_or("").to_string();
    p.permission = item.text("permission").unwrap_or("").to_string();
    p.state = item.child("permissionState").and_then(|s| s.text("state")).unwrap_or("").to_ascii_lowercase();
    Some((interface, p))
}

/// A VPC interface as a PNI interface, when it is one: an interface the customer created
/// (`interface`, not requester-managed) that carries a permission, is attached to another
/// account's instance, or holds an address the cluster's name resolved to while attached to no
/// instance of this account (a host of the VPC's own — a self-managed broker — is not PNI).
fn interface_from(
    eni: &ec2::Element,
    permissions: &[(String, AwsEniPermission)],
    zone_ids: &[(String, String)],
    cluster: &[String],
) -> Option<AwsPniInterface> {
    let id = eni.text("networkInterfaceId")?;
    if eni.text("interfaceType").is_some_and(|t| t != "interface") || eni.flag("requesterManaged") == Some(true) {
        return None;
    }
    let owner = eni.text("ownerId").unwrap_or("");
    let attachment = eni.child("attachment");
    let attached_account =
        attachment.and_then(|a| a.text("instanceOwnerId")).filter(|o| !o.is_empty() && *o != owner).map(str::to_string);
    let granted: Vec<AwsEniPermission> =
        permissions.iter().filter(|(on, _)| on == id).map(|(_, p)| p.clone()).take(kreach::limits::MAX_LIST).collect();
    let mut out = AwsPniInterface::default();
    out.id = id.to_string();
    out.subnet_id = eni.text("subnetId").unwrap_or("").to_string();
    out.az_name = eni.text("availabilityZone").unwrap_or("").to_string();
    out.az_id = zone_ids.iter().find(|(name, _)| *name == out.az_name).map(|(_, id)| id.clone()).unwrap_or_default();
    out.ips = eni
        .items("privateIpAddressesSet")
        .filter_map(|a| a.text("privateIpAddress"))
        .map(str::to_string)
        .take(kreach::limits::MAX_LIST)
        .collect();
    if out.ips.is_empty() {
        out.ips.extend(eni.text("privateIpAddress").map(str::to_string));
    }
    // Attached to an instance of this account's own (a self-managed broker, any host): not PNI,
    // even when it holds the cluster's address.
    let attached_here = attached_account.is_none()
        && attachment.is_some_and(|a| a.text("instanceId").is_some() || a.text("instanceOwnerId").is_some());
    let holds_cluster = out.ips.iter().any(|ip| cluster.contains(ip));
    if granted.is_empty() && attached_account.is_none() && (attached_here || !holds_cluster) {
        return None;
    }
    out.status = eni.text("status").unwrap_or("").to_string();
    out.attachment_status =
        attached_account.as_ref().and(attachment).and_then(|a| a.text("status")).map(str::to_string);
    out.attached_account = attached_account;
    out.permissions = granted;
    out.security_groups = eni
        .items("groupSet")
        .filter_map(|g| g.text("groupId"))
        .map(str::to_string)
        .take(kreach::limits::MAX_LIST)
        .collect();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(xml: &str) -> ec2::Element {
        crate::api::xml::parse(xml).expect("xml")
    }

    /// The shapes EC2's API reference documents for `DescribeNetworkInterfacePermissions` and a
    /// cross-account attachment in `DescribeNetworkInterfaces` (moto has neither).
    #[test]
    fn an_interface_is_pni_by_its_permission_or_its_attachment_to_another_account() {
        let perms = element(
            "<DescribeNetworkInterfacePermissionsResponse><networkInterfacePermissions><item>\
             <networkInterfacePermissionId>eni-perm-1</networkInterfacePermissionId>\
             <networkInterfaceId>eni-a</networkInterfaceId><awsAccountId>222233334444</awsAccountId>\
             <permission>INSTANCE-ATTACH</permission><permissionState><state>GRANTED</state></permissionState>\
             </item></networkInterfacePermissions></DescribeNetworkInterfacePermissionsResponse>",
        );
        let permissions: Vec<_> = perms.items("networkInterfacePermissions").filter_map(permission_from).collect();
        assert_eq!(permissions[0].1.state, "granted");
        let zones = vec![("us-west-2a".to_string(), "usw2-az1".to_string())];
        let eni = |id: &str, attachment: &str| {
            element(&format!(
                "<item><networkInterfaceId>{id}</networkInterfaceId><subnetId>subnet-1</subnetId>\
                 <availabilityZone>us-west-2a</availabilityZone><ownerId>111122223333</ownerId>\
                 <interfaceType>interface</interfaceType><requesterManaged>false</requesterManaged>\
                 <status>in-use</status><privateIpAddress>10.0.0.5</privateIpAddress>{attachment}\
                 <groupSet><item><groupId>sg-1</groupId></item></groupSet></item>"
            ))
        };
        let a = interface_from(&eni("eni-a", ""), &permissions, &zones, &[]).expect("permission");
        assert_eq!(
            (a.az_id.as_str(), a.ips.as_slice(), a.attached()),
            ("usw2-az1", &["10.0.0.5".to_string()][..], false)
        );
        assert_eq!(a.attach_grants().count(), 1);
        let b = interface_from(
            &eni(
                "eni-b",
                "<attachment><instanceOwnerId>222233334444</instanceOwnerId><status>attached</status></attachment>",
            ),
            &permissions,
            &zones,
            &[],
        )
        .expect("attached elsewhere");
        assert_eq!(b.attached_account.as_deref(), Some("222233334444"));
        assert!(b.attached());
        // An instance of this account's own: not PNI.
        let own = eni(
            "eni-c",
            "<attachment><instanceOwnerId>111122223333</instanceOwnerId><status>attached</status></attachment>",
        );
        assert_eq!(interface_from(&own, &permissions, &zones, &[]), None);
        // Nor when it holds the cluster's address: a self-managed broker's own interface.
        let broker = eni(
            "eni-e",
            "<attachment><instanceId>i-0abc</instanceId><instanceOwnerId>111122223333</instanceOwnerId>\
             <status>attached</status></attachment>",
        );
        assert_eq!(interface_from(&broker, &[], &zones, &["10.0.0.5".to_string()]), None);
        // An interface without a permission that holds the cluster's address: PNI, missing its permission.
        let bare = interface_from(&eni("eni-d", ""), &[], &zones, &["10.0.0.5".to_string()]).expect("the cluster's");
        assert_eq!((bare.attach_grants().count(), bare.attached()), (0, false));
        assert_eq!(interface_from(&eni("eni-d", ""), &[], &zones, &["10.0.0.9".to_string()]), None);
    }
}

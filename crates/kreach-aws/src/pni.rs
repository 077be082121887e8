//! Confluent's Private Network Interface (PNI) from EC2: a VPC without an interface endpoint may
//! reach Confluent through network interfaces of its own that Confluent's account attaches to its
//! brokers' machines. They are the VPC's interfaces that carry an `INSTANCE-ATTACH` permission
//! or are attached to another account's instance; read with their permissions and their security
//! groups' rules. Sources: Confluent's *Use Private Network Interface on Confluent Cloud* page and
//! EC2's `DescribeNetworkInterfacePermissions` reference.

use kreach::report::{AwsAudit, AwsEniPermission, AwsIngressRule, AwsPniInterface};

use aws_sdk_ec2::types::{NetworkInterface, NetworkInterfacePermission};

use crate::ec2::{Ec2, availability_zones, filter, security_groups, wire};
use crate::note;
use crate::pages::listing;
use crate::sg::sg_rules;

/// Most PNI interfaces kept (Confluent's script creates one per zone and access point).
pub(crate) const MAX_PNI_INTERFACES: usize = 24;

/// The PNI interfaces of `vpc`, with their permissions and rules; empty when the VPC has none
/// (or the reads failed: their errors are in the audit). `false` when an unreachable API stopped
/// the audit.
pub(crate) async fn pni_audit(ec2: &Ec2, vpc: &str, cluster: &[String], audit: &mut AwsAudit) -> bool {
    audit.calls.extend(
        ["ec2:DescribeNetworkInterfacePermissions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeAvailabilityZones"]
            .map(str::to_string),
    );
    let (perms, enis, zones) = tokio::join!(
        listing!(
            "ec2:DescribeNetworkInterfacePermissions",
            ec2.describe_network_interface_permissions()
                .filters(filter("network-interface-permission.permission", &["INSTANCE-ATTACH".to_string()])),
            network_interface_permissions
        ),
        listing!(
            "ec2:DescribeNetworkInterfaces",
            ec2.describe_network_interfaces().filters(filter("vpc-id", &[vpc.to_string()])),
            network_interfaces
        ),
        availability_zones(ec2),
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
        Ok(zones) => {
            zones.iter().filter_map(|z| Some((z.zone_name()?.to_string(), z.zone_id()?.to_string()))).collect()
        }
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
        audit.calls.push("ec2:DescribeSecurityGroups".into());
        match security_groups(ec2, &groups).await {
            Ok(sgs) => {
                for interface in &mut interfaces {
                    for sg in sgs
                        .iter()
                        .filter(|sg| sg.group_id().is_some_and(|id| interface.security_groups.iter().any(|g| g == id)))
                    {
                        let id = sg.group_id().unwrap_or("");
                        for (direction, out) in [
                            (sg.ip_permissions(), &mut interface.ingress_rules),
                            (sg.ip_permissions_egress(), &mut interface.egress_rules),
                        ] {
                            out.extend(
                                sg_rules(direction)
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
fn permission_from(item: &NetworkInterfacePermission) -> Option<(String, AwsEniPermission)> {
    let interface = item.network_interface_id().filter(|i| !i.is_empty())?.to_string();
    let mut p = AwsEniPermission::default();
    p.account = item.aws_account_id().or_else(|| item.aws_service()).unwrap_or("").to_string();
    p.permission = item.permission().map(|p| p.as_str()).unwrap_or("").to_string();
    p.state = item.permission_state().and_then(|s| s.state()).map(|s| s.as_str()).unwrap_or("").to_ascii_lowercase();
    Some((interface, p))
}

/// A VPC interface as a PNI interface, when it is one: an interface the customer created
/// (`interface`, not requester-managed) that carries a permission, is attached to another
/// account's instance, or holds an address the cluster's name resolved to while attached to no
/// instance of this account (a host of the VPC's own — a self-managed broker — is not PNI).
fn interface_from(
    eni: &NetworkInterface,
    permissions: &[(String, AwsEniPermission)],
    zone_ids: &[(String, String)],
    cluster: &[String],
) -> Option<AwsPniInterface> {
    let id = eni.network_interface_id().filter(|i| !i.is_empty())?;
    if eni.interface_type().is_some_and(|t| t.as_str() != "interface") || eni.requester_managed() == Some(true) {
        return None;
    }
    let owner = eni.owner_id().unwrap_or("");
    let attachment = eni.attachment();
    let attached_account =
        attachment.and_then(|a| a.instance_owner_id()).filter(|o| !o.is_empty() && *o != owner).map(str::to_string);
    let granted: Vec<AwsEniPermission> =
        permissions.iter().filter(|(on, _)| on == id).map(|(_, p)| p.clone()).take(kreach::limits::MAX_LIST).collect();
    let mut out = AwsPniInterface::default();
    out.id = id.to_string();
    out.subnet_id = eni.subnet_id().unwrap_or("").to_string();
    out.az_name = eni.availability_zone().unwrap_or("").to_string();
    out.az_id = zone_ids.iter().find(|(name, _)| *name == out.az_name).map(|(_, id)| id.clone()).unwrap_or_default();
    out.ips = eni
        .private_ip_addresses()
        .iter()
        .filter_map(|a| a.private_ip_address())
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .take(kreach::limits::MAX_LIST)
        .collect();
    if out.ips.is_empty() {
        out.ips.extend(eni.private_ip_address().filter(|a| !a.is_empty()).map(str::to_string));
    }
    // Attached to an instance of this account's own (a self-managed broker, any host): not PNI,
    // even when it holds the cluster's address.
    let attached_here = attached_account.is_none()
        && attachment.is_some_and(|a| {
            a.instance_id().is_some_and(|i| !i.is_empty()) || a.instance_owner_id().is_some_and(|o| !o.is_empty())
        });
    let holds_cluster = out.ips.iter().any(|ip| cluster.contains(ip));
    if granted.is_empty() && attached_account.is_none() && (attached_here || !holds_cluster) {
        return None;
    }
    out.status = eni.status().map(|s| wire(s.as_str())).unwrap_or_default();
    out.attachment_status =
        attached_account.as_ref().and(attachment).and_then(|a| a.status()).map(|s| wire(s.as_str()));
    out.attached_account = attached_account;
    out.permissions = granted;
    out.security_groups = eni
        .groups()
        .iter()
        .filter_map(|g| g.group_id())
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .take(kreach::limits::MAX_LIST)
        .collect();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use aws_sdk_ec2::types::{
        GroupIdentifier, InterfacePermissionType, NetworkInterfaceAttachment, NetworkInterfacePermissionState,
        NetworkInterfacePermissionStateCode, NetworkInterfaceStatus, NetworkInterfaceType,
    };

    /// The shapes EC2's API reference documents for `DescribeNetworkInterfacePermissions` and a
    /// cross-account attachment in `DescribeNetworkInterfaces` (moto has neither), as the SDK's types.
    #[test]
    fn an_interface_is_pni_by_its_permission_or_its_attachment_to_another_account() {
        let granted = NetworkInterfacePermission::builder()
            .network_interface_permission_id("eni-perm-1")
            .network_interface_id("eni-a")
            .aws_account_id("222233334444")
            .permission(InterfacePermissionType::InstanceAttach)
            .permission_state(
                NetworkInterfacePermissionState::builder().state(NetworkInterfacePermissionStateCode::Granted).build(),
            )
            .build();
        let permissions: Vec<_> = [granted].iter().filter_map(permission_from).collect();
        assert_eq!(
            (permissions[0].1.state.as_str(), permissions[0].1.permission.as_str()),
            ("granted", "INSTANCE-ATTACH")
        );
        let zones = vec![("us-west-2a".to_string(), "usw2-az1".to_string())];
        let eni = |id: &str, attachment: Option<NetworkInterfaceAttachment>| {
            NetworkInterface::builder()
                .network_interface_id(id)
                .subnet_id("subnet-1")
                .availability_zone("us-west-2a")
                .owner_id("111122223333")
                .interface_type(NetworkInterfaceType::Interface)
                .requester_managed(false)
                .status(NetworkInterfaceStatus::InUse)
                .private_ip_address("10.0.0.5")
                .set_attachment(attachment)
                .groups(GroupIdentifier::builder().group_id("sg-1").build())
                .build()
        };
        let attached = |instance: Option<&str>, owner: &str| {
            Some(
                NetworkInterfaceAttachment::builder()
                    .set_instance_id(instance.map(str::to_string))
                    .instance_owner_id(owner)
                    .status(aws_sdk_ec2::types::AttachmentStatus::Attached)
                    .build(),
            )
        };
        let a = interface_from(&eni("eni-a", None), &permissions, &zones, &[]).expect("permission");
        assert_eq!(
            (a.az_id.as_str(), a.ips.as_slice(), a.attached(), a.status.as_str()),
            ("usw2-az1", &["10.0.0.5".to_string()][..], false, "in-use")
        );
        assert_eq!(a.attach_grants().count(), 1);
        let b = interface_from(&eni("eni-b", attached(None, "222233334444")), &permissions, &zones, &[])
            .expect("attached elsewhere");
        assert_eq!(b.attached_account.as_deref(), Some("222233334444"));
        assert_eq!(b.attachment_status.as_deref(), Some("attached"));
        assert!(b.attached());
        // An instance of this account's own: not PNI.
        let own = eni("eni-c", attached(None, "111122223333"));
        assert_eq!(interface_from(&own, &permissions, &zones, &[]), None);
        // Nor when it holds the cluster's address: a self-managed broker's own interface.
        let broker = eni("eni-e", attached(Some("i-0abc"), "111122223333"));
        assert_eq!(interface_from(&broker, &[], &zones, &["10.0.0.5".to_string()]), None);
        // An interface without a permission that holds the cluster's address: PNI, missing its permission.
        let bare = interface_from(&eni("eni-d", None), &[], &zones, &["10.0.0.5".to_string()]).expect("the cluster's");
        assert_eq!((bare.attach_grants().count(), bare.attached()), (0, false));
        assert_eq!(interface_from(&eni("eni-d", None), &[], &zones, &["10.0.0.9".to_string()]), None);
        // A requester-managed interface (an endpoint's, a load balancer's) never is.
        let managed = NetworkInterface::builder().network_interface_id("eni-f").requester_managed(true).build();
        assert_eq!(interface_from(&managed, &permissions, &zones, &["10.0.0.5".to_string()]), None);
    }
}

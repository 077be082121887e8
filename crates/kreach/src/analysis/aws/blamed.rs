//! The AWS resources each finding blames, as the audit read them: their recent changes
//! (CloudTrail) are looked up and listed under the finding.

use crate::report::AwsAudit;

/// The AWS resources a finding of `code` blames, as the audit read them (their recent changes are
/// looked up): the endpoint's groups for its ingress, the endpoint for its state and zones, the
/// zone for its records, the PNI interfaces and their groups.
pub(in crate::analysis) fn blamed(code: crate::report::FindingCode, audit: &AwsAudit) -> Vec<String> {
    use crate::report::FindingCode as C;
    let ep = audit.endpoint.as_ref();
    let zone = audit.hosted_zone.as_ref().map(|z| z.id.clone()).into_iter();
    let mut ids: Vec<String> = match code {
        C::AwsSgMissingIngress => ep.map(|e| e.security_groups.clone()).unwrap_or_default(),
        C::AwsEndpointNotAvailable | C::AwsAzNotCovered | C::AwsPrivateDnsDisabled | C::AwsPrivateDnsEnabled => {
            ep.map(|e| vec![e.id.clone()]).unwrap_or_default()
        }
        C::AwsPhzNotAssociated | C::AwsPhzRecordMissing | C::AwsPhzRecordWrongTarget | C::AwsPhzRecordTtl => {
            zone.collect()
        }
        C::AwsProbeSgEgressMissing => audit.probe_security_groups.clone(),
        C::AwsPniSgMissingIngress | C::AwsPniEgressOpen => {
            audit.pni_interfaces.iter().flat_map(|i| i.security_groups.iter().cloned()).collect()
        }
        C::AwsPniPermissionMissing | C::AwsPniPermissionWrongAccount | C::AwsPniNotAttached => {
            audit.pni_interfaces.iter().filter(|i| !i.attached()).map(|i| i.id.clone()).collect()
        }
        _ => Vec::new(),
    };
    ids.sort();
    ids.dedup();
    ids
}

//! Which private-connectivity layout a cluster uses, recognised from its names, the CNAME chain
//! the DNS stage saw and (with AWS access) the endpoint; and what each layout needs.
//!
//! The rules come from the providers' public documentation (each layout names its source). Where
//! a rule is not documented in what kreach's rules were written from, it is [`Need::Unknown`] and
//! nothing is flagged against it.

use crate::report::{AwsAudit, ClusterDomain, CnameHop, DomainSource, Layout, LayoutRules, Need, NetworkSection};
use crate::report::{Report, Resolution, Role};

const CONFLUENT: &str = "confluent.cloud";
const CONFLUENT_DEDICATED_DOC: &str =
    "https://docs.confluent.io/cloud/current/networking/private-links/aws-privatelink.html";
const CONFLUENT_SERVERLESS_DOC: &str = "https://docs.confluent.io/cloud/current/networking/aws-platt.html";
const CONFLUENT_PNI_DOC: &str = "https://docs.confluent.io/cloud/current/networking/aws-pni.html";
const MSK_DOC: &str = "https://docs.aws.amazon.com/msk/latest/developerguide/aws-access-mult-vpc.html";
const REDPANDA_DOC: &str = "https://docs.redpanda.com/redpanda-cloud/networking/aws-privatelink/";
/// Amazon MSK multi-VPC private connectivity serves its brokers on these ports.
pub const MSK_MULTI_VPC_PORTS: std::ops::RangeInclusive<u16> = 14001..=14100;

/// What one name says about the layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameHint {
    /// The layout the name belongs to.
    pub layout: Layout,
    /// How names of this kind resolve.
    pub resolution: Resolution,
    /// The cluster's DNS domain (the private zone's name), when the naming scheme gives it.
    pub domain: Option<String>,
    /// Why, in words.
    pub why: String,
}

fn labels(host: &str) -> Vec<String> {
    host.trim_end_matches('.').to_ascii_lowercase().split('.').map(str::to_string).collect()
}

/// `lkc-<id>-<nid>` → `<nid>` (the part after the last dash).
fn after_last_dash(label: &str) -> Option<&str> {
    label.rsplit_once('-').map(|(_, nid)| nid).filter(|n| !n.is_empty())
}

/// The prefix of `region`'s AZ IDs (`us-west-2` → `usw2`); `None` when it is not a region name.
pub fn az_id_prefix(region: &str) -> Option<String> {
    crate::analysis::names::az_prefix(region)
}

/// Domains the providers publish in public DNS, and why no private zone may take their names: the
/// rule table every fix that names a zone or record consults.
const PROVIDER_PUBLIC: &[(&str, &str)] = &[
    (
        "glb.confluent.cloud",
        "Confluent publishes the glb names in public DNS, as CNAMEs into each network's private domain",
    ),
    ("amazonaws.com", "AWS publishes these names (VPC endpoint names, service APIs) in public DNS"),
];

/// Why `name` is published publicly by a provider (so a resolver must reach public DNS for it),
/// when it is: it lies under a domain in the rule table.
pub fn provider_public(name: &str) -> Option<&'static str> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    PROVIDER_PUBLIC
        .iter()
        .find(|(domain, _)| name == *domain || name.ends_with(&format!(".{domain}")))
        .map(|(_, why)| *why)
}

/// Why a private hosted zone named `zone` must never be advised, when it must not: a provider's
/// public domain (it would shadow every name under it for the whole VPC), or a parent that holds
/// every Confluent Cloud network of a region or cloud (`confluent.cloud`, `aws.confluent.cloud`,
/// `us-west-2.aws.confluent.cloud`).
pub fn zone_must_not_be_created(zone: &str) -> Option<&'static str> {
    if let Some(why) = provider_public(zone) {
        return Some(why);
    }
    let zone = zone.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = zone.split('.').collect();
    let confluent = zone == "confluent.cloud"
        || (labels.len() <= 4 && labels.ends_with(&["confluent", "cloud"]) && !labels.contains(&"private"));
    confluent.then_some(
        "Confluent Cloud publishes the names of every network under it in public DNS: a private zone with this name \
         would shadow all of them for the whole VPC",
    )
}

/// Whether a label is a Confluent access point ID (`ap` and a short lowercase alphanumeric id,
/// e.g. `ap8z93yw`; the API spells it `ap-8z93yw`, names drop the dash).
fn looks_like_access_point(label: &str) -> bool {
    label.len() > 3
        && label.len() <= 16
        && label.starts_with("ap")
        && label[2..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// What `host` (on `port`) says by its name alone.
pub fn recognise_name(host: &str, port: u16) -> Option<NameHint> {
    let l = labels(host);
    let n = l.len();
    let ends = |suffix: &str| {
        let s: Vec<&str> = suffix.split('.').collect();
        n > s.len() && l[n - s.len()..].iter().map(String::as_str).eq(s.iter().copied())
    };
    if ends("accesspoint.glb.confluent.cloud") && n >= 7 {
        // <name>-<ap id>.<region>.<cloud>.accesspoint.glb.confluent.cloud: the glb hop is public and
        // leads to <name>.<ap id>.<region>.<cloud>.accesspoint.confluent.cloud, the access point's
        // own DNS domain (one FQDN per PrivateLink connection since the 2026 ingress gateways).
        let (region, cloud) = (&l[n - 6], &l[n - 5]);
        let regional = format!("{region}.{cloud}.accesspoint.{CONFLUENT}");
        let ap = after_last_dash(&l[0]).filter(|id| looks_like_access_point(id));
        return Some(NameHint {
            layout: Layout::ConfluentAccessPoint,
            resolution: Resolution::ChasedPrivate,
            domain: Some(ap.map_or_else(|| regional.clone(), |id| format!("{id}.{regional}"))),
            why: match ap {
                Some(id) => format!(
                    "`{host}` is a Confluent access-point glb name: public DNS answers it with a CNAME into access \
                     point {id}'s own domain `{id}.{regional}`"
                ),
                None => format!(
                    "`{host}` is a Confluent access-point glb name without an access point ID: public DNS answers it \
                     with a CNAME into the regional access-point domain"
                ),
            },
        });
    }
    if ends("glb.confluent.cloud") && n >= 6 {
        // lkc-<id>-<nid>.<region>.<cloud>.glb.confluent.cloud CNAME lkc-<id>.<nid>.<region>.<cloud>.confluent.cloud
        let (region, cloud) = (&l[n - 5], &l[n - 4]);
        let domain = after_last_dash(&l[0]).map(|nid| format!("{nid}.{region}.{cloud}.{CONFLUENT}"));
        return Some(NameHint {
            layout: Layout::ConfluentDedicated,
            resolution: Resolution::ChasedPrivate,
            domain,
            why: format!(
                "`{host}` is a Confluent dedicated-cluster glb name: public DNS answers it with a CNAME to \
                 `<name>.<network id>.{region}.{cloud}.{CONFLUENT}`, which the private hosted zone answers"
            ),
        });
    }
    if ends("private.confluent.cloud") && n >= 5 {
        let (region, cloud) = (&l[n - 5], &l[n - 4]);
        return Some(NameHint {
            layout: Layout::ConfluentPrivateLinkAttachment,
            resolution: Resolution::Private,
            domain: Some(format!("{region}.{cloud}.private.{CONFLUENT}")),
            why: format!(
                "`{host}` is a Confluent PrivateLink Attachment (gateway) name: one regional private zone \
                 `{region}.{cloud}.private.{CONFLUENT}` serves every cluster of the environment in the region"
            ),
        });
    }
    if ends("accesspoint.confluent.cloud") && n >= 5 {
        let (region, cloud) = (&l[n - 5], &l[n - 4]);
        let regional = format!("{region}.{cloud}.accesspoint.{CONFLUENT}");
        // <name>.<ap id>.<region>.<cloud>.accesspoint.confluent.cloud: the access point's domain.
        let ap = (n >= 7).then(|| l[n - 6].as_str()).filter(|id| looks_like_access_point(id));
        return Some(NameHint {
            layout: Layout::ConfluentAccessPoint,
            resolution: Resolution::Private,
            domain: Some(ap.map_or_else(|| regional.clone(), |id| format!("{id}.{regional}"))),
            why: match ap {
                Some(id) => format!("`{host}` is a Confluent access-point name: access point {id}'s own private zone"),
                None => format!("`{host}` is a Confluent access-point name: one regional private zone"),
            },
        });
    }
    if ends(CONFLUENT) && n >= 6 {
        // lkc-<id>.<nid>.<region>.<cloud>.confluent.cloud (and brokers under it): the zone is the
        // name's parent for the bootstrap; a zonal broker name has its AZ ID in between.
        let parent = l[1..].join(".");
        let domain = if crate::analysis::names::az_id_of(&l[1]).is_some() { l[2..].join(".") } else { parent };
        return Some(NameHint {
            layout: Layout::ConfluentDedicated,
            resolution: Resolution::Private,
            domain: Some(domain),
            why: format!(
                "`{host}` is a Confluent dedicated-cluster name without the glb hop: the private hosted zone must answer it directly"
            ),
        });
    }
    if (ends("amazonaws.com") || ends("amazonaws.com.cn")) && l.iter().any(|x| x == "kafka" || x == "kafka-serverless")
    {
        if MSK_MULTI_VPC_PORTS.contains(&port) {
            return Some(NameHint {
                layout: Layout::MskMultiVpc,
                resolution: Resolution::EndpointPrivateDns,
                domain: None,
                why: format!(
                    "`{host}:{port}` is an Amazon MSK broker name on a multi-VPC private connectivity port (14001-14100)"
                ),
            });
        }
        return Some(NameHint {
            layout: Layout::Generic,
            resolution: Resolution::Unknown,
            domain: None,
            why: format!(
                "`{host}:{port}` is an Amazon MSK broker name on a port of the cluster's own VPC, not of multi-VPC private connectivity"
            ),
        });
    }
    if ends("redpanda.com") {
        return Some(NameHint {
            layout: Layout::Redpanda,
            resolution: Resolution::EndpointPrivateDns,
            domain: None,
            why: format!("`{host}` is a Redpanda Cloud name: its PrivateLink endpoint's own private DNS answers it"),
        });
    }
    None
}

/// What the bootstrap's name says, else (an alias, or a name no provider uses) what the first
/// provider name along its CNAME chain says; and whether it came from the chain.
pub fn hint(host: &str, port: u16, chain: &[CnameHop]) -> (Option<NameHint>, bool) {
    let named = recognise_name(host, port);
    if named.as_ref().is_none_or(|h| h.layout == Layout::Generic) {
        if let Some(h) = chain.iter().find_map(|hop| recognise_name(&hop.target, port)) {
            return (Some(h), true);
        }
    }
    (named, false)
}

/// The domain of a cluster in `layout`: none of its own for layouts answered by the endpoint's
/// private DNS (only `--dns-domain`), else [`cluster_domain`].
pub fn domain_for(layout: Layout, flag: Option<&str>, host: &str, chain: &[CnameHop]) -> Option<ClusterDomain> {
    match layout {
        Layout::MskMultiVpc | Layout::Redpanda => flag.and_then(|f| cluster_domain(Some(f), host, chain)),
        _ => cluster_domain(flag, host, chain),
    }
}

/// The cluster's DNS domain: the flag, else what the CNAME chain shows, else the naming scheme,
/// else the bootstrap name's parent; with where it came from.
pub fn cluster_domain(flag: Option<&str>, bootstrap_host: &str, chain: &[CnameHop]) -> Option<ClusterDomain> {
    if let Some(flag) = flag.map(|f| f.trim().trim_end_matches('.')).filter(|f| !f.is_empty()) {
        return Some(ClusterDomain::new(flag, DomainSource::Flag, "given with --dns-domain"));
    }
    let named = recognise_name(bootstrap_host, 0).and_then(|h| h.domain);
    // A glb hop (or any alias) CNAMEs the bootstrap to a name inside the cluster's domain.
    let chained = chain.iter().find_map(|hop| {
        let hint = recognise_name(&hop.target, 0)?;
        if hint.resolution == Resolution::ChasedPrivate {
            return None;
        }
        let domain = hint.domain?;
        Some((domain, format!("the CNAME chain: `{}` CNAME `{}`", hop.name, hop.target)))
    });
    match (named, chained) {
        (Some(n), Some((c, _))) if n == c => Some(ClusterDomain::new(
            &n,
            DomainSource::NamingScheme,
            &format!("from the name `{bootstrap_host}`, and the CNAME chain agrees"),
        )),
        (_, Some((c, why))) => Some(ClusterDomain::new(&c, DomainSource::CnameChain, &why)),
        (Some(n), None) => Some(ClusterDomain::new(
            &n,
            DomainSource::NamingScheme,
            &format!("from the naming scheme of `{bootstrap_host}`"),
        )),
        (None, None) => bootstrap_host.split_once('.').filter(|(_, p)| p.contains('.')).map(|(_, parent)| {
            ClusterDomain::new(parent, DomainSource::BootstrapParent, "the bootstrap name's parent (nothing else said)")
        }),
    }
}

/// What `layout` needs, from its provider's documentation.
pub fn rules(layout: Layout, resolution: Resolution, domain: Option<&str>) -> LayoutRules {
    let zone = domain.unwrap_or("<domain>");
    match layout {
        Layout::ConfluentDedicated => LayoutRules {
            private_zone: Need::Required,
            records: vec![
                format!("*.{zone} CNAME <the endpoint's regional DNS name>"),
                format!("*.<az-id>.{zone} CNAME <the endpoint's zonal DNS name in that zone> (multi-zone networks)"),
            ],
            zonal_records: Need::Required,
            endpoint_private_dns: Need::Forbidden,
            public_dns_chase: if resolution == Resolution::ChasedPrivate { Need::Required } else { Need::NotUsed },
            record_ttl: Some(60),
            source: CONFLUENT_DEDICATED_DOC.into(),
        },
        Layout::ConfluentPrivateLinkAttachment | Layout::ConfluentAccessPoint => LayoutRules {
            private_zone: Need::Required,
            records: vec![format!("*.{zone} CNAME <the endpoint's DNS name>")],
            zonal_records: Need::NotUsed,
            endpoint_private_dns: Need::Unknown,
            public_dns_chase: if resolution == Resolution::ChasedPrivate { Need::Required } else { Need::NotUsed },
            record_ttl: Some(60),
            source: CONFLUENT_SERVERLESS_DOC.into(),
        },
        // Confluent's PNI page says nothing of how the cluster's names resolve: no record rule.
        Layout::ConfluentPni => LayoutRules {
            private_zone: Need::Unknown,
            records: Vec::new(),
            zonal_records: Need::Unknown,
            endpoint_private_dns: Need::NotUsed,
            public_dns_chase: Need::Unknown,
            record_ttl: None,
            source: CONFLUENT_PNI_DOC.into(),
        },
        Layout::MskMultiVpc => LayoutRules {
            private_zone: Need::NotUsed,
            records: Vec::new(),
            zonal_records: Need::NotUsed,
            endpoint_private_dns: Need::Unknown,
            public_dns_chase: Need::NotUsed,
            record_ttl: None,
            source: MSK_DOC.into(),
        },
        Layout::Redpanda => LayoutRules {
            private_zone: Need::NotUsed,
            records: Vec::new(),
            zonal_records: Need::NotUsed,
            endpoint_private_dns: Need::Required,
            public_dns_chase: Need::NotUsed,
            record_ttl: None,
            source: REDPANDA_DOC.into(),
        },
        _ => LayoutRules {
            private_zone: Need::Unknown,
            records: Vec::new(),
            zonal_records: Need::Unknown,
            endpoint_private_dns: Need::Unknown,
            public_dns_chase: Need::Unknown,
            record_ttl: None,
            source: "unknown: no provider's rules apply to these names".into(),
        },
    }
}

/// The `network` section of a finished run: layout, resolution, domain, evidence, rules, ports.
pub fn network(report: &Report, flag_domain: Option<&str>) -> NetworkSection {
    let bootstrap = report.targets.iter().find(|t| t.role == Role::Bootstrap);
    let (host, port) = bootstrap.map(|t| (t.host.as_str(), t.port)).unwrap_or(("", 0));
    let chain: &[CnameHop] =
        bootstrap.and_then(|t| t.dns.as_ref()).map(|d| d.lookup.cname_chain.as_slice()).unwrap_or_default();
    let mut evidence = Vec::new();
    let (hint, from_chain) = hint(host, port, chain);
    if let Some(h) = &hint {
        evidence.push(if from_chain {
            format!("the CNAME chain leads to a provider name: {}", h.why)
        } else {
            h.why.clone()
        });
    }
    let mut resolution = hint.as_ref().map_or(Resolution::Unknown, |h| h.resolution);
    if chain.iter().any(|h| h.name.ends_with(".glb.confluent.cloud")) {
        evidence.push("the first CNAME hop is a glb name: it comes from public DNS".into());
        resolution = Resolution::ChasedPrivate;
    }
    if let Some(last) = chain.last().filter(|h| h.target.contains(".vpce.amazonaws.com")) {
        evidence.push(format!("the chain ends at VPC endpoint name `{}`", last.target));
    }
    let endpoint = report.aws.as_ref().and_then(|a: &AwsAudit| a.endpoint.as_ref());
    if let Some(ep) = endpoint {
        evidence.push(format!(
            "VPC endpoint {} for {} has private DNS {}",
            ep.id,
            ep.service_name,
            if ep.private_dns_enabled { "on" } else { "off" }
        ));
        if hint.is_none() && ep.private_dns_enabled {
            resolution = Resolution::EndpointPrivateDns;
        }
    }
    let mut layout = hint.as_ref().map_or(Layout::Generic, |h| h.layout);
    if hint.is_none() {
        evidence.push(format!("`{host}` follows no provider's naming scheme kreach knows: a generic layout"));
    }
    // PNI is known only from the audit: no endpoint, and interfaces Confluent's account attaches —
    // holding the cluster's addresses, or for a cluster whose names are Confluent's (another
    // vendor's attached interfaces in the VPC are not this cluster's path).
    let confluent_names = matches!(
        layout,
        Layout::ConfluentDedicated | Layout::ConfluentPrivateLinkAttachment | Layout::ConfluentAccessPoint
    );
    let pni = report.aws.as_ref().filter(|a| a.endpoint.is_none() && !a.pni_interfaces.is_empty()).filter(|a| {
        confluent_names || a.pni_interfaces.iter().any(|i| i.ips.iter().any(|ip| cluster_address(report, ip)))
    });
    if let Some(audit) = pni {
        let attached = audit.pni_interfaces.iter().filter(|i| i.attached()).count();
        evidence.push(format!(
            "the audit found no VPC endpoint and {} network interface(s) in the VPC that another account attaches or \
             may attach ({attached} attached): Confluent's Private Network Interface",
            audit.pni_interfaces.len()
        ));
        layout = Layout::ConfluentPni;
    }
    let domain = domain_for(layout, flag_domain, host, chain);
    let mut ports: Vec<u16> = report.targets.iter().filter(|t| t.role != Role::Endpoint).map(|t| t.port).collect();
    if let Some(cluster) = &report.cluster {
        ports.extend(cluster.brokers.iter().filter_map(|b| u16::try_from(b.port).ok()));
    }
    ports.sort_unstable();
    ports.dedup();
    let rules = rules(layout, resolution, domain.as_ref().map(|d| d.name.as_str()));
    NetworkSection { layout, resolution, domain, evidence, rules, ports }
}

/// Whether one of the cluster's names (the bootstrap's, a broker's) resolved to `ip`.
fn cluster_address(report: &Report, ip: &str) -> bool {
    report
        .targets
        .iter()
        .filter(|t| matches!(t.role, Role::Bootstrap | Role::Broker))
        .filter_map(|t| t.dns.as_ref())
        .any(|d| d.lookup.addresses.iter().any(|a| a.ip == ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(name: &str, target: &str) -> CnameHop {
        CnameHop { name: name.into(), target: target.into(), ttl: 60 }
    }

    #[test]
    fn glb_names_give_the_network_domain_not_their_parent() {
        let host = "lkc-9z8y7-q7x2p.eu-central-1.aws.glb.confluent.cloud";
        let h = recognise_name(host, 9092).expect("glb");
        assert_eq!((h.layout, h.resolution), (Layout::ConfluentDedicated, Resolution::ChasedPrivate));
        assert_eq!(h.domain.as_deref(), Some("q7x2p.eu-central-1.aws.confluent.cloud"));
        let broker = recognise_name("e-0013-az1-q7x2p.eu-central-1.aws.glb.confluent.cloud", 9092).expect("broker");
        assert_eq!(broker.domain.as_deref(), Some("q7x2p.eu-central-1.aws.confluent.cloud"));
        let d = cluster_domain(None, host, &[]).expect("domain");
        assert_eq!((d.name.as_str(), d.source), ("q7x2p.eu-central-1.aws.confluent.cloud", DomainSource::NamingScheme));
        let chain = [hop(host, "lkc-9z8y7.q7x2p.eu-central-1.aws.confluent.cloud")];
        let d = cluster_domain(None, host, &chain).expect("domain");
        assert_eq!(d.source, DomainSource::NamingScheme);
        assert!(d.detail.contains("agrees"), "{}", d.detail);
    }

    #[test]
    fn an_alias_takes_its_domain_from_the_cname_chain_and_the_flag_wins() {
        let chain = [
            hop("kafka.corp.example", "lkc-1-n9.us-west-2.aws.glb.confluent.cloud"),
            hop("lkc-1-n9.us-west-2.aws.glb.confluent.cloud", "lkc-1.n9.us-west-2.aws.confluent.cloud"),
        ];
        let d = cluster_domain(None, "kafka.corp.example", &chain).expect("domain");
        assert_eq!((d.name.as_str(), d.source), ("n9.us-west-2.aws.confluent.cloud", DomainSource::CnameChain));
        let d = cluster_domain(Some("zone.example."), "kafka.corp.example", &chain).expect("flag");
        assert_eq!((d.name.as_str(), d.source), ("zone.example", DomainSource::Flag));
        let d = cluster_domain(None, "kafka.corp.example", &[]).expect("parent");
        assert_eq!((d.name.as_str(), d.source), ("corp.example", DomainSource::BootstrapParent));
        assert!(cluster_domain(None, "localhost", &[]).is_none());
    }

    #[test]
    fn each_layout_is_recognised_by_its_names() {
        let cases = [
            ("lkc-ab12.us-east-2.aws.private.confluent.cloud", 9092, Layout::ConfluentPrivateLinkAttachment),
            ("lkc-ab12-ap9x7.us-east-2.aws.accesspoint.glb.confluent.cloud", 9092, Layout::ConfluentAccessPoint),
            ("lkc-ab12.us-east-2.aws.accesspoint.confluent.cloud", 9092, Layout::ConfluentAccessPoint),
            ("lkc-ab12.dom9.us-east-2.aws.confluent.cloud", 9092, Layout::ConfluentDedicated),
            ("b-1.demo.x1y2z3.c2.kafka.us-east-1.amazonaws.com", 14001, Layout::MskMultiVpc),
            ("b-1.demo.x1y2z3.c2.kafka.us-east-1.amazonaws.com", 9096, Layout::Generic),
            ("seed-0a1b.cq2r.byoc.prd.cloud.redpanda.com", 30292, Layout::Redpanda),
        ];
        for (host, port, layout) in cases {
            assert_eq!(recognise_name(host, port).map(|h| h.layout), Some(layout), "{host}");
        }
        assert_eq!(
            recognise_name("lkc-ab12.us-east-2.aws.private.confluent.cloud", 9092).and_then(|h| h.domain).as_deref(),
            Some("us-east-2.aws.private.confluent.cloud")
        );
        assert_eq!(
            recognise_name("b3.usw2-az3.abc123.us-west-2.aws.confluent.cloud", 9092).and_then(|h| h.domain).as_deref(),
            Some("abc123.us-west-2.aws.confluent.cloud"),
            "a zonal broker name's domain skips its AZ ID"
        );
        assert!(recognise_name("kafka.internal.example", 9092).is_none());
        assert_eq!(rules(Layout::Redpanda, Resolution::EndpointPrivateDns, None).endpoint_private_dns, Need::Required);
        assert_eq!(rules(Layout::Generic, Resolution::Unknown, None).endpoint_private_dns, Need::Unknown);
    }
}

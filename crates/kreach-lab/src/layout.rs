//! The private-connectivity layouts the lab can play: the names, zones and records of each.

use std::fmt;
use std::str::FromStr;

/// The lab's region.
const REGION: &str = "us-west-2";
/// Another access point of the lab's gateway (fault `access-point-other`).
const OTHER_ACCESS_POINT: &str = "apother01";

macro_rules! layouts {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal: $what:literal; )*) => {
        /// A private-connectivity layout the lab plays.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum LabLayout {
            $( $(#[$doc])* $variant, )*
        }
        impl LabLayout {
            /// Every layout, in order.
            pub const ALL: &'static [LabLayout] = &[$(LabLayout::$variant,)*];
            /// The `--layout` name.
            pub fn name(self) -> &'static str { match self { $(LabLayout::$variant => $name,)* } }
            /// What it plays, one line.
            pub fn description(self) -> &'static str { match self { $(LabLayout::$variant => $what,)* } }
        }
        impl FromStr for LabLayout {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($name => Ok(LabLayout::$variant),)* _ => Err(format!(
                    "unknown layout `{s}`; one of: {}", [$($name),*].join(", "))) }
            }
        }
    };
}

layouts! {
    /// A Confluent dedicated network resolved "private": no glb hop.
    #[default]
    Dedicated = "dedicated": "Confluent dedicated cluster, private resolution: lkc-….<nid>.<region>.aws.confluent.cloud, wildcard and per-AZ-ID records";
    /// A Confluent dedicated network resolved "chased private": glb names CNAME into the private zone.
    DedicatedGlb = "dedicated-glb": "Confluent dedicated cluster, chased-private resolution: glb names whose public CNAME leads into the private zone";
    /// A Confluent PrivateLink Attachment: one regional zone, one wildcard, no zonal records.
    PrivateLinkAttachment = "privatelink-attachment": "Confluent PrivateLink Attachment: the regional zone <region>.aws.private.confluent.cloud, one wildcard record";
    /// A Confluent access point of an ingress PrivateLink gateway: its own zone, glb names.
    AccessPoint = "access-point": "Confluent access point (ingress PrivateLink gateway): glb names lkc-…-aplab01.<region>.aws.accesspoint.glb.confluent.cloud CNAME into the access point's zone aplab01.<region>.aws.accesspoint.confluent.cloud, one wildcard record";
    /// Confluent's Private Network Interface: no endpoint, no CNAME; names answered with the
    /// interfaces' own addresses (the lab's names and zone: Confluent's documentation does not say
    /// what PNI names look like nor where they resolve).
    Pni = "pni": "Confluent Private Network Interface: no VPC endpoint; the cluster's names (the lab's own, lkc-lab01.pnilab01.lab.internal: Confluent does not document PNI names) answer with one interface address per zone, which Confluent's account attaches";
    /// A provider whose names the endpoint's own private DNS answers, on a port other than 9092.
    EndpointPrivateDns = "endpoint-private-dns": "Redpanda-style: the endpoint's private DNS answers <cluster>.byoc.prd.cloud.redpanda.com on a non-9092 port";
}

impl fmt::Display for LabLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names one layout uses.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    /// The zone that answers the cluster's names (the private hosted zone, or the endpoint's own).
    pub(crate) domain: String,
    /// The bootstrap host.
    pub(crate) bootstrap: String,
    /// Per-AZ-ID records (`*.<az-id>.<domain>`) and zonal broker names.
    pub(crate) zonal: bool,
    /// The zone answers with addresses itself (the endpoint's private DNS), not CNAMEs.
    pub(crate) addresses: bool,
    /// The public glb zone and its CNAMEs (glb name → private name), for chased-private resolution.
    pub(crate) glb: Option<(String, Vec<(String, String)>)>,
}

impl Names {
    pub(crate) fn of(layout: LabLayout) -> Names {
        let names = |domain: &str, bootstrap: &str, zonal: bool, addresses: bool| Names {
            domain: domain.to_string(),
            bootstrap: bootstrap.to_string(),
            zonal,
            addresses,
            glb: None,
        };
        match layout {
            LabLayout::PrivateLinkAttachment => {
                let d = format!("{REGION}.aws.private.confluent.cloud");
                names(&d, &format!("lkc-lab01.{d}"), false, false)
            }
            LabLayout::AccessPoint => {
                let d = format!("{}.{REGION}.aws.accesspoint.confluent.cloud", crate::LAB_ACCESS_POINT);
                let mut n = names(
                    &d,
                    &format!("lkc-lab01-{}.{REGION}.aws.accesspoint.glb.confluent.cloud", crate::LAB_ACCESS_POINT),
                    false,
                    false,
                );
                n.glb = Some((
                    format!("{REGION}.aws.accesspoint.glb.confluent.cloud"),
                    vec![(n.bootstrap.clone(), format!("lkc-lab01.{d}"))],
                ));
                n
            }
            LabLayout::Pni => {
                names(crate::LAB_PNI_DOMAIN, &format!("lkc-lab01.{}", crate::LAB_PNI_DOMAIN), false, true)
            }
            LabLayout::EndpointPrivateDns => {
                let d = "clab01.byoc.prd.cloud.redpanda.com";
                names(d, &format!("seed-lab01.{d}"), false, true)
            }
            LabLayout::DedicatedGlb => {
                let d = crate::LAB_DOMAIN;
                let mut n = names(d, &format!("lkc-lab01-abc123.{REGION}.aws.glb.confluent.cloud"), true, false);
                n.glb = Some((
                    format!("{REGION}.aws.glb.confluent.cloud"),
                    vec![(n.bootstrap.clone(), crate::LAB_BOOTSTRAP_HOST.to_string())],
                ));
                n
            }
            LabLayout::Dedicated => names(crate::LAB_DOMAIN, crate::LAB_BOOTSTRAP_HOST, true, false),
        }
    }

    /// The bootstrap of another access point (`apother01`, of the same gateway): its glb name, and
    /// the CNAME public DNS holds for it into that access point's domain, which this VPC has no
    /// zone for.
    pub(crate) fn use_other_access_point(&mut self) {
        let Some((zone, records)) = &mut self.glb else { return };
        let other = format!("lkc-lab01-{OTHER_ACCESS_POINT}.{zone}");
        records
            .push((other.clone(), format!("lkc-lab01.{OTHER_ACCESS_POINT}.{REGION}.aws.accesspoint.confluent.cloud")));
        self.bootstrap = other;
    }

    /// Broker `id`'s advertised name, in zone `az_id` (its private name and, with a glb hop, the
    /// glb name it is advertised by).
    pub(crate) fn broker(&mut self, id: usize, az_id: &str) -> String {
        let private =
            if self.zonal { format!("b{id}.{az_id}.{}", self.domain) } else { format!("b{id}-lab01.{}", self.domain) };
        let glb_id = if self.zonal { format!("{az_id}-abc123") } else { format!("lab01-{}", crate::LAB_ACCESS_POINT) };
        match &mut self.glb {
            Some((zone, records)) => {
                let glb = format!("b{id}-{glb_id}.{zone}");
                records.push((glb.clone(), private));
                glb
            }
            None => private,
        }
    }

    /// The names the endpoint's certificate covers.
    pub(crate) fn certificate_names(&self, az_ids: &[&str]) -> Vec<String> {
        let mut out = vec![format!("*.{}", self.domain)];
        if self.zonal {
            out.extend(az_ids.iter().map(|az| format!("*.{az}.{}", self.domain)));
        }
        if let Some((zone, _)) = &self.glb {
            out.push(format!("*.{zone}"));
        }
        out
    }
}

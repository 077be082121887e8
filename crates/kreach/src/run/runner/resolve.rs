//! A host's names: its lookup through the run's resolver (and the public one when asked), a fresh
//! sibling after NXDOMAIN, and which zone answers for the cluster's DNS domain, asked once beside
//! the bootstrap's lookup: a private zone named above the domain (`us-west-2.aws.confluent.cloud`)
//! answers for every name under it, the public ones too.

use std::net::IpAddr;

use super::Ctx;
use crate::limits::DNS_STEP_CAP;
use crate::probe::dns;
use crate::report::{DnsDetail, DnsOutcome, DomainZone, SiblingLookup, Stage};
use crate::run::step::{Step, StepObserver, StepOutcome};

/// The zone answering for the cluster's domain, when the bootstrap's name resolved and the domain
/// is known (`--dns-domain`, else the naming scheme of the bootstrap or of its chain's names).
pub(super) async fn domain_zone(ctx: Ctx<'_>, port: u16, detail: &DnsDetail) -> Option<DomainZone> {
    if detail.lookup.outcome != DnsOutcome::Answer {
        return None;
    }
    let named = std::iter::once(detail.name.as_str())
        .chain(detail.lookup.cname_chain.iter().map(|h| h.target.as_str()))
        .find_map(|n| crate::analysis::layout::recognise_name(n, port).and_then(|hint| hint.domain));
    let domain = ctx.config.dns_domain.clone().or(named)?;
    let zone = dns::zone_of(&domain, &ctx.resolvers.main, ctx.deadline.budget(DNS_STEP_CAP)).await;
    Some(DomainZone { domain: domain.trim_end_matches('.').to_ascii_lowercase(), zone })
}

/// The host's lookup (a literal address is its own answer), classified against the private ranges.
pub(super) async fn resolve(ctx: Ctx<'_>, host: &str, steps: Option<&StepObserver>) -> (DnsDetail, Vec<IpAddr>) {
    let Ctx { config, resolvers, deadline, .. } = ctx;
    if let Ok(ip) = host.parse::<IpAddr>() {
        let mut lookup = dns::literal(ip);
        let answer_class = dns::classify(&mut lookup, &config.private_cidrs);
        return (
            DnsDetail {
                name: host.to_string(),
                answer_class,
                lookup,
                public: None,
                fresh_sibling: None,
                domain_zone: None,
            },
            vec![ip],
        );
    }
    let main = dns::lookup(host, &resolvers.main, deadline.budget(DNS_STEP_CAP));
    let public = async {
        match &resolvers.public {
            None => None,
            Some(public) => Some(dns::lookup(host, public, deadline.budget(DNS_STEP_CAP)).await),
        }
    };
    let ((mut lookup, ips), public) = futures::join!(main, public);
    // NXDOMAIN: is it the zone's answer now, or a cached one? Ask a name never asked before under
    // the same parent, through the same resolver.
    let reached = lookup.negative_name.as_deref().unwrap_or(host);
    let nxdomain = lookup.outcome == DnsOutcome::Nxdomain;
    let fresh_sibling = match dns::fresh_sibling(reached).filter(|_| nxdomain) {
        Some(name) => {
            let (lookup, _) = dns::lookup(&name, &resolvers.main, deadline.budget(DNS_STEP_CAP)).await;
            Some(SiblingLookup { name, lookup })
        }
        None => None,
    };
    tracing::info!(
        target: "kreach::step",
        stage = "dns",
        // Names may come from peers (advertised brokers): escaped before any event carries them.
        host = %crate::text::clean(host),
        resolver = %lookup.resolver,
        outcome = %lookup.outcome.as_label(),
        addresses = ips.len(),
        cnames = lookup.cname_chain.len(),
        elapsed_ms = lookup.elapsed_ms,
    );
    if let Some(observer) = steps {
        observer(&Step::ended(Stage::Dns, host, None, StepOutcome::Dns(lookup.outcome), lookup.elapsed_ms));
    }
    let answer_class = dns::classify(&mut lookup, &config.private_cidrs);
    let public = public.map(|(mut l, _)| {
        dns::classify(&mut l, &config.private_cidrs);
        l
    });
    (DnsDetail { name: host.to_string(), answer_class, lookup, public, fresh_sibling, domain_zone: None }, ips)
}

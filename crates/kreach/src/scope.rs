//! Where credentials may go, and which names an allow-list may open: the one rule every stage and
//! every front end (the CLI, `kreach serve`, the Lambda function) obeys.
//!
//! - Credentials go to the configured bootstrap hosts, and to a broker (a group's coordinator)
//!   that the cluster's own Metadata advertised in this run *and* whose name belongs to the
//!   cluster as its layout reads it: under the cluster's DNS domain, or a `glb` name carrying its
//!   network id. Nothing else: not a name that merely shares the bootstrap's last labels.
//! - An allow-list entry is a [`HostPattern`]: `host`, or `*.domain` for every name *below*
//!   `domain` (never `domain` itself, as a DNS wildcard), each optionally with `:port`. A suffix is
//!   refused when it is a public suffix (the Public Suffix List, from the `psl` crate) or a
//!   provider's domain that other customers' clusters share (a Confluent Cloud region, an AWS
//!   service's regional domain), and, when a cluster is configured, when it is not the cluster's
//!   own domain or below it.

use std::collections::HashSet;

use crate::analysis::layout;
use crate::input::address::HostPort;
use crate::report::{ClusterMetadata, CnameHop};

/// A name without its trailing dot, in lower case.
fn norm(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `host` is `domain` or a name below it.
fn at_or_below(host: &str, domain: &str) -> bool {
    host == domain || host.strip_suffix(domain).is_some_and(|head| head.ends_with('.') && head.len() > 1)
}

/// Whether `host` is a name strictly below `domain`.
fn below(host: &str, domain: &str) -> bool {
    host != domain && at_or_below(host, domain)
}

/// One allow-list entry: `host` or `*.domain` (every name below `domain`, not `domain` itself),
/// each optionally `:port` (`:*` for any port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern {
    /// The exact name, or the domain after `*.`.
    host: String,
    wildcard: bool,
    port: Option<u16>,
}

impl HostPattern {
    /// Parses one entry (`host`, `*.domain`, `.domain` — the same as `*.domain` —, each with an
    /// optional `:port`). The error says what is wrong without repeating more than the entry.
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        let text = text.trim().to_ascii_lowercase();
        let shown = crate::error::quote(&text);
        if text.len() > 253 + 8 {
            return Err(format!("{shown} is longer than a host name and port can be"));
        }
        let (host, port) = match text.rsplit_once(':') {
            Some((h, "*")) => (h.to_string(), None),
            Some((h, p)) => (h.to_string(), Some(p.parse::<u16>().map_err(|_| format!("{shown}: bad port"))?)),
            None => (text.clone(), None),
        };
        let (host, wildcard) = match host.strip_prefix("*.").or_else(|| host.strip_prefix('.')) {
            Some(rest) => (rest.to_string(), true),
            None => (host, false),
        };
        let host = host.trim_end_matches('.').to_string();
        let valid = !host.is_empty()
            && host.split('.').all(|l| !l.is_empty() && l.len() <= 63)
            && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
        if !valid {
            return Err(format!("{shown} is not `host`, `*.domain` or either with `:port`"));
        }
        Ok(HostPattern { host, wildcard, port })
    }

    /// Whether `hp` is allowed by this entry.
    pub fn matches(&self, hp: &HostPort) -> bool {
        self.matches_host(&hp.host) && self.port.is_none_or(|p| p == hp.port)
    }

    /// Whether `host` (any port) is allowed by this entry.
    pub fn matches_host(&self, host: &str) -> bool {
        let host = norm(host);
        if self.wildcard { below(&host, &self.host) } else { host == self.host }
    }

    /// The domain of a `*.domain` entry; `None` for an exact host.
    pub fn suffix(&self) -> Option<&str> {
        self.wildcard.then_some(self.host.as_str())
    }

    /// The exact host of a `host` entry; `None` for a suffix.
    pub fn exact(&self) -> Option<&str> {
        (!self.wildcard).then_some(self.host.as_str())
    }

    /// Why this entry may not be used when the configured cluster's DNS domain is `cluster`
    /// (`None`: no cluster configured): a suffix must not be public or shared by other customers,
    /// and must be the cluster's own domain or below it. An exact host is always acceptable.
    pub fn refusal(&self, cluster: Option<&str>) -> Option<String> {
        let suffix = self.suffix()?;
        if let Some(why) = shared_suffix(suffix) {
            return Some(format!("`*.{suffix}` opens {why}"));
        }
        match cluster.map(norm) {
            Some(domain) if !at_or_below(suffix, &domain) => Some(format!(
                "`*.{suffix}` is not the configured cluster's DNS domain `{domain}` or below it (name the hosts \
                 themselves, or a suffix under `{domain}`)"
            )),
            _ => None,
        }
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// Why every name below `suffix` is not one customer's: a public suffix (the Public Suffix List),
/// or a provider's domain other customers' clusters live under with valid certificates. `None`
/// when `suffix` is specific enough.
pub fn shared_suffix(suffix: &str) -> Option<String> {
    let suffix = norm(suffix);
    if suffix.parse::<std::net::IpAddr>().is_ok() {
        return Some("an address, not a domain".into());
    }
    // The Public Suffix List: a suffix itself (`co.uk`, `com`, an unknown top-level domain) or a
    // name whose registrable part is longer than it (impossible for a suffix of a real domain).
    let public = psl::suffix(suffix.as_bytes()).is_some_and(|s| s.as_bytes() == suffix.as_bytes());
    if public {
        return Some("a public suffix: every domain registered under it".into());
    }
    provider_shared(&suffix).map(|why| format!("a provider's shared domain: {why}"))
}

/// Provider domains under which names of many customers live (not in the Public Suffix List):
/// the regional levels of Confluent Cloud, Amazon MSK, AWS's regional service and host names, and
/// Redpanda Cloud. A name is customer-specific only with a label of its own below these.
fn provider_shared(name: &str) -> Option<&'static str> {
    let labels: Vec<&str> = name.split('.').collect();
    let n = labels.len();
    let ends = |tail: &[&str]| n >= tail.len() && labels[n - tail.len()..] == *tail;
    if ends(&["confluent", "cloud"]) {
        // confluent.cloud [glb] [accesspoint|private] <cloud> <region>: the levels every customer shares.
        let mut depth = 2;
        if n > depth && labels[n - depth - 1] == "glb" {
            depth += 1;
        }
        if n > depth && matches!(labels[n - depth - 1], "accesspoint" | "private") {
            depth += 1;
        }
        let regional = depth + 2;
        return (n <= regional).then_some(
            "Confluent Cloud names every customer's networks and clusters under it (anyone can create a cluster there, \
             with a valid certificate)",
        );
    }
    if ends(&["amazonaws", "com"]) || ends(&["amazonaws", "com", "cn"]) {
        let base = if ends(&["cn"]) { 3 } else { 2 };
        // <service>.<region>.amazonaws.com and vpce.amazonaws.com levels; MSK's brokers live at
        // <broker>.<cluster>.<id>.c<N>.kafka.<region>.amazonaws.com.
        let kafka = labels.iter().position(|l| *l == "kafka" || *l == "kafka-serverless");
        let specific = match kafka {
            Some(k) => k >= 3,
            None => n >= base + 4,
        };
        return (!specific).then_some("AWS names every customer's resources of a service and region under it");
    }
    if ends(&["internal"]) && (ends(&["ec2", "internal"]) || ends(&["compute", "internal"])) {
        return Some("EC2 names every instance of a region under it");
    }
    if ends(&["redpanda", "com"]) {
        let cloud = ends(&["cloud", "redpanda", "com"]);
        return (cloud && n <= 5 || !cloud && n <= 2)
            .then_some("Redpanda Cloud names every customer's clusters under it");
    }
    None
}

/// The cluster's DNS domain for the credential rule: `--dns-domain`, else the CNAME chain, else the
/// naming scheme, else the bootstrap name's parent; `None` when that is a shared or public suffix.
pub fn cluster_domain(flag: Option<&str>, bootstrap_host: &str, chain: &[CnameHop]) -> Option<String> {
    let domain = layout::cluster_domain(flag, bootstrap_host, chain)?;
    let name = norm(&domain.name);
    shared_suffix(&name).is_none().then_some(name)
}

/// Where this run's credentials may go: the configured bootstrap hosts, and the brokers the
/// cluster's own Metadata advertised in this run whose names belong to the cluster.
#[derive(Clone, Debug, Default)]
pub struct CredentialScope {
    bootstrap: Vec<String>,
    domain: Option<String>,
    advertised: HashSet<String>,
}

impl CredentialScope {
    /// The configured bootstrap hosts only.
    pub fn bootstrap(hosts: &[HostPort]) -> Self {
        CredentialScope { bootstrap: hosts.iter().map(|h| norm(&h.host)).collect(), ..Default::default() }
    }

    /// Adds what the run learnt: the cluster's domain (the user's `--dns-domain`, the bootstrap's
    /// CNAME chain, its name) and the brokers its Metadata advertised.
    #[must_use]
    pub fn with_cluster(mut self, flag: Option<&str>, chain: &[CnameHop], metadata: &ClusterMetadata) -> Self {
        self.domain = self.bootstrap.first().and_then(|b| cluster_domain(flag, b, chain));
        self.advertised = metadata.brokers.iter().map(|b| norm(&b.host)).collect();
        self
    }

    /// Whether the credentials may go to `host`; `Err` says why not (for the report).
    pub fn allows(&self, host: &str) -> Result<(), String> {
        let host = norm(host);
        if self.bootstrap.contains(&host) {
            return Ok(());
        }
        let shown = crate::text::clean(&host);
        if !self.advertised.contains(&host) {
            return Err(format!(
                "{shown} is not a configured bootstrap host, nor a broker the cluster's Metadata advertised in this run"
            ));
        }
        let Some(domain) = &self.domain else {
            return Err(format!(
                "{shown} was advertised by the cluster, but the cluster has no DNS domain of its own to check the name \
                 against (give --dns-domain)"
            ));
        };
        let glb_of_cluster =
            layout::recognise_name(&host, 0).and_then(|h| h.domain).is_some_and(|d| norm(&d) == *domain);
        if below(&host, domain) || glb_of_cluster {
            Ok(())
        } else {
            Err(format!("{shown} was advertised by the cluster, but is not a name of its DNS domain {domain}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::BrokerInfo;

    fn hp(s: &str) -> HostPort {
        HostPort::parse(s, 9092).expect("host port")
    }

    fn metadata(hosts: &[&str]) -> ClusterMetadata {
        ClusterMetadata {
            cluster_id: None,
            controller_id: 0,
            brokers: hosts
                .iter()
                .enumerate()
                .map(|(i, h)| BrokerInfo { node_id: i as i32, host: (*h).into(), port: 9092, rack: None })
                .collect(),
            brokers_total: hosts.len(),
            elapsed_ms: 0,
        }
    }

    #[test]
    fn patterns_match_a_host_or_the_names_below_a_domain() {
        let p = HostPattern::parse("*.abc.us-west-2.aws.confluent.cloud").expect("pattern");
        assert!(p.matches(&hp("lkc-1.abc.us-west-2.aws.confluent.cloud:9092")));
        assert!(!p.matches(&hp("abc.us-west-2.aws.confluent.cloud:9092")), "the domain itself is not below it");
        assert!(!p.matches(&hp("xabc.us-west-2.aws.confluent.cloud:9092")), "a suffix is not a subdomain");
        assert_eq!(
            HostPattern::parse(".abc.example").expect("dot form"),
            HostPattern::parse("*.abc.example").expect("x")
        );
        let p = HostPattern::parse("broker.example.com:9093").expect("pattern");
        assert!(p.matches(&hp("BROKER.example.com.:9093")));
        assert!(!p.matches(&hp("broker.example.com:9092")));
        for bad in ["", "*", "a.*.b", "host:x", "*.", "a..b", "a b", "x:99999"] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
    }

    /// Public suffixes (from the list, not a hand-kept one) and the providers' shared regional
    /// domains are refused; a cluster's own domain, and only that, is accepted.
    #[test]
    fn suffixes_that_other_customers_share_are_refused() {
        for shared in [
            "co.uk",
            "com",
            "github.io",
            "example",
            "confluent.cloud",
            "aws.confluent.cloud",
            "us-west-2.aws.confluent.cloud",
            "us-west-2.aws.glb.confluent.cloud",
            "us-east-2.aws.private.confluent.cloud",
            "us-east-2.aws.accesspoint.glb.confluent.cloud",
            "us-east-2.aws.accesspoint.confluent.cloud",
            "amazonaws.com",
            "us-east-1.amazonaws.com",
            "kafka.us-east-1.amazonaws.com",
            "c2.kafka.us-east-1.amazonaws.com",
            "x1y2z3.c2.kafka.us-east-1.amazonaws.com",
            "us-west-2.vpce.amazonaws.com",
            "ec2.internal",
            "us-west-2.compute.internal",
            "byoc.prd.cloud.redpanda.com",
            "10.0.0.1",
        ] {
            assert!(shared_suffix(shared).is_some(), "{shared} should be refused");
        }
        for specific in [
            "abc123.us-west-2.aws.confluent.cloud",
            "lkc-1-n9.us-west-2.aws.glb.confluent.cloud",
            "demo.x1y2z3.c2.kafka.us-east-1.amazonaws.com",
            "cq2r.byoc.prd.cloud.redpanda.com",
            "example.co.uk",
            "kafka.corp.example",
        ] {
            assert_eq!(shared_suffix(specific), None, "{specific} should be accepted");
        }
        let domain = Some("abc123.us-west-2.aws.confluent.cloud");
        let p = |s: &str| HostPattern::parse(s).expect("pattern");
        assert!(p("*.abc123.us-west-2.aws.confluent.cloud").refusal(domain).is_none());
        assert!(p("*.usw2-az1.abc123.us-west-2.aws.confluent.cloud").refusal(domain).is_none());
        assert!(p("*.us-west-2.aws.confluent.cloud").refusal(domain).is_some());
        assert!(
            p("*.other.us-west-2.aws.confluent.cloud").refusal(domain).expect("refused").contains("not the configured")
        );
        assert!(p("*.co.uk").refusal(None).is_some());
        assert!(p("lkc-9.other.us-west-2.aws.confluent.cloud").refusal(domain).is_none(), "an exact host is named");
    }

    /// The coordinator rule: a bootstrap host, or an advertised broker of the cluster's own
    /// domain (or glb network). A name sharing only the last labels is not enough.
    #[test]
    fn credentials_go_to_the_bootstrap_and_the_clusters_own_advertised_brokers() {
        let bootstrap = [hp("lkc-1.abc123.us-west-2.aws.confluent.cloud:9092")];
        let scope = CredentialScope::bootstrap(&bootstrap).with_cluster(
            None,
            &[],
            &metadata(&[
                "b1.usw2-az1.abc123.us-west-2.aws.confluent.cloud",
                "b2.evil.us-west-2.aws.confluent.cloud",
                "e-01-az1-abc123.us-west-2.aws.glb.confluent.cloud",
                "evil.co.uk",
            ]),
        );
        assert!(scope.allows("LKC-1.abc123.us-west-2.aws.confluent.cloud.").is_ok());
        assert!(scope.allows("b1.usw2-az1.abc123.us-west-2.aws.confluent.cloud").is_ok());
        assert!(scope.allows("e-01-az1-abc123.us-west-2.aws.glb.confluent.cloud").is_ok(), "glb with its network id");
        assert!(scope.allows("b2.evil.us-west-2.aws.confluent.cloud").is_err(), "advertised, another network");
        assert!(scope.allows("evil.co.uk").is_err());
        assert!(scope.allows("b9.usw2-az1.abc123.us-west-2.aws.confluent.cloud").is_err(), "not advertised");
        // A bootstrap under a shared domain has no domain to extend to: only itself.
        let ec2 = CredentialScope::bootstrap(&[hp("ip-127-0-0-1.ec2.internal:9092")]).with_cluster(
            None,
            &[],
            &metadata(&["ip-127-0-0-2.ec2.internal"]),
        );
        assert!(ec2.allows("ip-127-0-0-1.ec2.internal").is_ok());
        assert!(ec2.allows("ip-127-0-0-2.ec2.internal").is_err());
        // An alias: the CNAME chain gives the cluster's domain.
        let chain = [CnameHop {
            name: "kafka.corp.example".into(),
            target: "lkc-1.n9.us-west-2.aws.confluent.cloud".into(),
            ttl: 60,
        }];
        let alias = CredentialScope::bootstrap(&[hp("kafka.corp.example:9092")]).with_cluster(
            None,
            &chain,
            &metadata(&["b1.n9.us-west-2.aws.confluent.cloud", "b1.corp.example"]),
        );
        assert!(alias.allows("b1.n9.us-west-2.aws.confluent.cloud").is_ok());
        assert!(alias.allows("b1.corp.example").is_err(), "the chain says the cluster lives elsewhere");
    }
}

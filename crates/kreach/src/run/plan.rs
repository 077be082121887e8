//! What is probed for one `host:port`: the plan the runner executes and the matrix summarises.

use crate::input::address::HostPort;
use crate::input::config::CheckConfig;
use crate::limits::MAX_BROKER_TARGETS;
use crate::probe::https;
use crate::report::{BrokerTarget, ClusterMetadata, EndpointTarget, Role};

/// What is probed for one `host:port`.
#[derive(Clone, Debug)]
pub(crate) struct TargetPlan {
    pub(crate) hp: HostPort,
    pub(crate) role: Role,
    pub(crate) tls: bool,
    /// Speak Kafka on the connection.
    pub(crate) kafka: bool,
    /// Ask for Metadata too (bootstrap only).
    pub(crate) metadata: bool,
    pub(crate) broker: Option<BrokerTarget>,
    pub(crate) endpoint: Option<EndpointTarget>,
}

impl TargetPlan {
    /// Whether the target must resolve to private addresses: every Kafka target, and every
    /// endpoint that says so (the matrix's DNS cell fails a public answer for these).
    pub(crate) fn expects_private(&self) -> bool {
        self.endpoint.as_ref().is_none_or(|e| e.expect_private == Some(true))
    }

    /// The HTTP path asked after the handshake, when the HTTPS stage runs.
    pub(crate) fn https_path(&self) -> Option<&str> {
        match (&self.endpoint, self.role) {
            (Some(e), _) => e.path.as_deref(),
            (None, Role::Https) => Some(https::DEFAULT_PATH),
            _ => None,
        }
    }
}

/// One plan per advertised broker (the first [`MAX_BROKER_TARGETS`]), grouped by host so each
/// name is resolved once.
pub(crate) fn broker_plans(config: &CheckConfig, metadata: &ClusterMetadata) -> Vec<(String, Vec<TargetPlan>)> {
    let mut hosts: Vec<(String, Vec<TargetPlan>)> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for b in metadata.brokers.iter().take(MAX_BROKER_TARGETS) {
        // A port no socket can have (0, negative, above 65535) is never probed: the analysis names
        // the broker (`broker-port-invalid`).
        let Some(port) = u16::try_from(b.port).ok().filter(|p| *p != 0) else { continue };
        let host = b.host.trim_end_matches('.').to_string();
        let plan = TargetPlan {
            hp: HostPort { host: host.clone(), port },
            role: Role::Broker,
            tls: config.security_protocol.uses_tls(),
            kafka: true,
            metadata: false,
            broker: Some(BrokerTarget {
                node_id: b.node_id,
                rack: b.rack.clone(),
                az_id: crate::analysis::names::az_id_of(&host),
            }),
            endpoint: None,
        };
        match index.get(&host) {
            Some(&i) => hosts[i].1.push(plan),
            None => {
                index.insert(host.clone(), hosts.len());
                hosts.push((host, vec![plan]));
            }
        }
    }
    hosts
}

/// The plans of the configured hosts, grouped by host so each name is resolved once: each
/// bootstrap `host:port` (with Metadata) and its HTTPS port, then the endpoints around Kafka.
pub(crate) fn host_plans(config: &CheckConfig) -> Vec<(String, Vec<TargetPlan>)> {
    let mut hosts: Vec<(String, Vec<TargetPlan>)> = Vec::new();
    for hp in &config.bootstrap {
        let mut plans = vec![TargetPlan {
            hp: hp.clone(),
            role: Role::Bootstrap,
            tls: config.security_protocol.uses_tls(),
            kafka: true,
            metadata: true,
            broker: None,
            endpoint: None,
        }];
        if let Some(port) = config.https_port.filter(|p| *p != hp.port) {
            plans.push(TargetPlan {
                hp: HostPort { host: hp.host.clone(), port },
                role: Role::Https,
                tls: true,
                kafka: false,
                metadata: false,
                broker: None,
                endpoint: None,
            });
        }
        match hosts.iter_mut().find(|(h, _)| *h == hp.host) {
            Some((_, existing)) => {
                for plan in plans {
                    if !existing.iter().any(|p| p.hp == plan.hp) {
                        existing.push(plan);
                    }
                }
            }
            None => hosts.push((hp.host.clone(), plans)),
        }
    }
    // Endpoints around Kafka: their own hosts (a name shared with the cluster is resolved once).
    for e in &config.endpoints {
        let plan = TargetPlan {
            hp: e.hp.clone(),
            role: Role::Endpoint,
            tls: e.tls,
            kafka: false,
            metadata: false,
            broker: None,
            endpoint: Some(e.target.clone()),
        };
        match hosts.iter_mut().find(|(h, _)| *h == e.hp.host) {
            Some((_, existing)) => existing.push(plan),
            None => hosts.push((e.hp.host.clone(), vec![plan])),
        }
    }

    hosts
}

//! What is probed for one `host:port`: the plan the runner executes and the matrix summarises.

use crate::input::address::HostPort;
use crate::probe::https;
use crate::report::{BrokerTarget, EndpointTarget, Role};

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

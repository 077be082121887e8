//! An in-process, PrivateLink-shaped lab for kreach on loopback: a "VPC resolver" with the
//! private hosted zone (wildcard and per-AZ CNAMEs to VPC endpoint names), a "public DNS", and
//! one TLS endpoint address per availability zone, each breakable on purpose ([`Fault`]).
//!
//! Needs no root, no packages and no network: everything binds to 127.0.0.0/8.

mod certs;
mod dns;
mod endpoint;
mod kafka;
mod lab;
mod layout;

pub use certs::{Ca, Leaf, Validity};
pub use dns::{DnsServer, LAB_TTL, Rdata, Zone};
pub use endpoint::{Behaviour, Listener, Routes, server_config};
pub use kafka::{MockError, MockKafka};
pub use lab::{
    Fault, LAB_ACCESS_POINT, LAB_AWS_API_ADDR, LAB_BOOTSTRAP_HOST, LAB_BROKERS, LAB_DOMAIN, LAB_INTERNET_ADDR,
    LAB_PNI_DOMAIN, LAB_PRIVATE_CIDR, LAB_PUBLIC_ADDR, LAB_REGION, Lab, LabAz, Labs, Patch,
};
pub use layout::LabLayout;

/// Why the lab could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabError {
    /// A socket or file operation failed.
    #[error("lab I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Certificate generation failed.
    #[error("lab certificates: {0}")]
    Cert(#[from] rcgen::Error),
    /// TLS configuration failed.
    #[error("lab TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// Anything else.
    #[error("lab: {0}")]
    Setup(String),
}

//! Addresses as users write them: `host:port`, resolvers, zone addresses.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::error::ParseError;

/// DNS port when a resolver has none.
pub const DEFAULT_DNS_PORT: u16 = 53;

/// A `host:port` pair.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// Host name (without trailing dot) or address literal.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl HostPort {
    /// Parses `host:port`, `[v6]:port`, or a bare host (port `default_port`).
    pub fn parse(input: &str, default_port: u16) -> Result<Self, ParseError> {
        Self::parse_text(input, default_port).map_err(ParseError)
    }

    fn parse_text(input: &str, default_port: u16) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("empty address".into());
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let end = rest.find(']').ok_or_else(|| format!("{}: missing `]`", crate::error::quote(s)))?;
            let host = &rest[..end];
            let after = &rest[end + 1..];
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| format!("{}: expected `:port` after `]`", crate::error::quote(s)))?,
                ),
            };
            host.parse::<std::net::Ipv6Addr>()
                .map_err(|_| format!("{} is not an IPv6 address", crate::error::quote(host)))?;
            (host.to_string(), port)
        } else if s.matches(':').count() > 1 {
            // A bare IPv6 literal; a port needs brackets.
            s.parse::<std::net::Ipv6Addr>()
                .map_err(|_| format!("{}: write IPv6 addresses with a port as [addr]:port", crate::error::quote(s)))?;
            (s.to_string(), None)
        } else {
            match s.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (s.to_string(), None),
            }
        };
        let port = match port {
            None => default_port,
            Some(p) => parse_port(p).map_err(|e| format!("{}: {e}", crate::error::quote(s)))?,
        };
        let host = host.strip_suffix('.').map(str::to_string).unwrap_or(host);
        if host.parse::<IpAddr>().is_err() {
            validate_hostname(&host).map_err(|e| format!("{}: {e}", crate::error::quote(s)))?;
        }
        Ok(HostPort { host, port })
    }

    /// The host as an address, when it is a literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

fn parse_port(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(0) => Err("port 0 is not a port".into()),
        Ok(port) => Ok(port),
        Err(_) => Err(format!("{} is not a port (1-65535)", crate::error::quote(p))),
    }
}

fn validate_hostname(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("empty host name".into());
    }
    if host.len() > 253 {
        return Err("host name longer than 253 characters".into());
    }
    for label in host.split('.') {
        if label.is_empty() {
            return Err("host name has an empty label".into());
        }
        if label.len() > 63 {
            return Err(format!("label `{label}` is longer than 63 characters"));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("{} has characters not allowed in a host name", crate::error::quote(host)));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("label `{label}` starts or ends with `-`"));
        }
    }
    Ok(())
}

/// Parses a resolver `ADDR[:PORT]` (`[v6]:port` for IPv6 with a port).
pub fn parse_resolver(input: &str) -> Result<SocketAddr, ParseError> {
    resolver_text(input).map_err(ParseError)
}

pub(crate) fn resolver_text(input: &str) -> Result<SocketAddr, String> {
    let s = input.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, DEFAULT_DNS_PORT));
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        if sa.port() == 0 {
            return Err(format!("{}: port 0 is not a port", crate::error::quote(s)));
        }
        return Ok(sa);
    }
    Err(format!(
        "{} is not an IP address with an optional port (a resolver is named by address)",
        crate::error::quote(s)
    ))
}

/// Parses `AZID=IP`, e.g. `usw2-az1=10.0.1.25`.
pub fn parse_zone_address(input: &str) -> Result<(String, IpAddr), ParseError> {
    zone_address_text(input).map_err(ParseError)
}

pub(crate) fn zone_address_text(input: &str) -> Result<(String, IpAddr), String> {
    let (az, ip) = input.split_once('=').ok_or_else(|| format!("{} is not AZID=IP", crate::error::quote(input)))?;
    let az = az.trim().to_ascii_lowercase();
    if crate::analysis::names::az_id_of(&az).as_deref() != Some(az.as_str()) {
        return Err(format!(
            "{} is not an AZ ID such as usw2-az1 (AZ IDs, not AZ names like us-west-2a)",
            crate::error::quote(&az)
        ));
    }
    let ip =
        ip.trim().parse::<IpAddr>().map_err(|_| format!("{} is not an IP address", crate::error::quote(ip.trim())))?;
    Ok((az, ip))
}

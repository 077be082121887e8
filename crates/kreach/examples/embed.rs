//! How a tool embeds kreach: single checks through `kreach::probe`, then a whole diagnosis
//! through `kreach::Diagnosis`, both against kreach's in-process lab (everything on loopback).
//!
//! `cargo run -p kreach --example embed`

#![allow(clippy::print_stdout)] // an example program prints what it found

use std::time::Duration;

use kreach::probe::{dns, tcp};
use kreach::{CheckConfig, Diagnosis, HostPort, SecurityProtocol};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lab = kreach_lab::Lab::start(kreach_lab::Fault::AzDown).await?;
    let bootstrap = HostPort::parse(&lab.bootstrap, 9092)?;

    // One name through one resolver, then one connect per address it gave.
    let resolver = dns::Dns::new(&dns::ResolverChoice::Servers(vec![lab.resolver]));
    let (lookup, addresses) = dns::lookup(&bootstrap.host, &resolver, Duration::from_secs(2)).await;
    println!("{} -> {:?} via {} CNAME(s)", bootstrap.host, lookup.outcome, lookup.cname_chain.len());
    for ip in addresses {
        let (attempt, _) = tcp::connect((ip, bootstrap.port).into(), Duration::from_millis(500)).await;
        println!("  {ip}:{} {}", bootstrap.port, attempt.outcome.word());
    }

    // The whole path, every advertised broker, one deadline; findings drawn once.
    let config = CheckConfig::for_bootstrap(bootstrap)
        .with_resolvers(vec![lab.resolver])
        .with_private_cidrs(vec![kreach_lab::LAB_PRIVATE_CIDR.parse()?])
        .with_ca_file(lab.ca_file())?
        .with_https_port(Some(lab.https_port))
        .with_security_protocol(SecurityProtocol::Ssl)
        .with_timeout(Duration::from_secs(2));
    let report = Diagnosis::new(&config).run().await?;
    println!("{:?}: {} target(s), {} finding(s)", report.status, report.targets.len(), report.findings.len());
    for f in &report.findings {
        println!("  {} {}: {}", f.severity.as_str(), f.code, f.summary);
    }
    Ok(())
}

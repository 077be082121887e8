//! Each check on its own, for tools that embed kreach: resolve one name through one resolver,
//! connect to one address, handshake with one TLS endpoint, ask one HTTPS or Kafka question.
//! Every function takes a time budget, never fails (a failure is the outcome it returns) and
//! returns the same outcome types the [`Report`](crate::Report) holds. [`Diagnosis`](crate::Diagnosis)
//! runs them all, in order and in parallel, under one deadline.
//!
//! The examples run against kreach's in-process lab (DNS, TLS endpoints and Kafka brokers on
//! loopback): a whole path, one step at a time.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use kreach::probe::{dns, https, kafka, tcp, tls};
//!
//! let lab = kreach_lab::Lab::start(kreach_lab::Fault::None).await?;
//! let host = lab.bootstrap.split(':').next().unwrap_or_default();
//! let budget = Duration::from_secs(2);
//!
//! let resolver = dns::Dns::new(&dns::ResolverChoice::Servers(vec![lab.resolver]));
//! let (lookup, addresses) = dns::lookup(host, &resolver, budget).await;
//! assert_eq!(lookup.outcome, kreach::report::DnsOutcome::Answer);
//!
//! let config = kreach::CheckConfig::for_bootstrap(kreach::HostPort::parse(&lab.bootstrap, 9092)?)
//!     .with_ca_file(lab.ca_file())?;
//! let trust = tls::TlsContext::for_config(&config)?;
//! let addr = std::net::SocketAddr::new(addresses[0], lab.kafka_port);
//! let (connect, stream) = tcp::connect(addr, budget).await;
//! assert_eq!(connect.outcome, kreach::report::TcpOutcome::Connected);
//! let (handshake, session) = tls::handshake(&trust, stream.expect("connected"), host, &[], budget).await;
//! assert_eq!(handshake.outcome, kreach::report::TlsOutcome::Ok);
//! let attempt = kafka::probe(&mut session.expect("handshake"), kafka::Then::Stop, budget).await;
//! assert_eq!(attempt.outcome, kreach::report::KafkaOutcome::Ok);
//!
//! let rest = std::net::SocketAddr::new(addresses[0], lab.https_port);
//! let (_, stream) = tcp::connect(rest, budget).await;
//! let (_, session) = tls::handshake(&trust, stream.expect("connected"), host, &[b"http/1.1"], budget).await;
//! let answer = https::request(session.expect("handshake"), host, lab.https_port, https::DEFAULT_PATH, budget).await;
//! assert_eq!(answer.outcome, kreach::report::HttpsOutcome::Response);
//! # Ok(()) }
//! ```

pub mod dns;
pub mod https;
pub mod kafka;
pub mod oauth;
pub(crate) mod sasl;
pub(crate) mod sts;
pub mod tcp;
pub mod tls;
pub(crate) mod wire;

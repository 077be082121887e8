//! Every cap and step limit in one place: what a run may take, and how much of a peer's answer it
//! acts on. Each cap that can cut the work short is reported when it does (`probe-capped`).

use std::time::Duration;

/// Longest a DNS lookup may take (within the deadline).
pub const DNS_STEP_CAP: Duration = Duration::from_secs(5);
/// Longest a TCP connect may take (within the deadline) when `--connect-timeout` asks for more.
pub const TCP_STEP_CAP: Duration = Duration::from_secs(600);
/// How long a connect waits by default: past the kernel's third SYN (sent at 0, 1 and 3 s), so a
/// blackholed port is reported after ~3.3 s instead of the whole deadline. Over PrivateLink a
/// SYN-ACK comes in milliseconds; `--connect-timeout` waits longer.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(3300);
/// What an address gets, all steps together, once its target's verdict is already fixed by DNS
/// (a public answer where a private one is due): enough to see a refusal or a handshake at a
/// few hundred ms of round trip, not the deadline (the report says what was not waited for).
pub const CONFIRMATION_BUDGET: Duration = Duration::from_millis(400);
/// How long the librdkafka stage may stay silent after kreach's own checks have explained the
/// failure, once it has had [`CONFIRMATION_BUDGET`] since its start: a moment for a word already
/// on its way, not a wait for its retries.
pub const CLIENT_CONFIRMATION: Duration = Duration::from_millis(50);
/// Longest a TLS handshake may take (within the deadline).
pub const TLS_STEP_CAP: Duration = Duration::from_secs(5);
/// How long a TLS handshake may go unfinished after the connect before a second one with a small
/// TCP maximum segment size starts beside it (the path-MTU retry). A handshake over PrivateLink
/// takes a few round trips of milliseconds; one across the world well under a second.
pub const MTU_PROBE_AFTER: Duration = Duration::from_millis(1000);
/// The segment sizes the path-MTU retry clamps to, largest first: 1200 fits every tunnel and VPN
/// in common use, 536 is the size every IPv4 host must accept (RFC 879).
pub const MTU_PROBE_MSS: [u32; 2] = [1200, 536];
/// Longest an HTTP exchange may take (within the deadline).
pub const HTTPS_STEP_CAP: Duration = Duration::from_secs(5);
/// Longest the Kafka requests on one connection may take (within the deadline).
pub const KAFKA_STEP_CAP: Duration = Duration::from_secs(5);
/// Most brokers probed at once: a cluster of up to 128 brokers is probed in one wave of round
/// trips, a larger one in a few, never in hundreds. At most ~3 sockets per broker in flight (A and
/// AAAA queries, then one connection) keep a wave well inside the default 1,024 descriptors.
pub const BROKER_CONCURRENCY: usize = 128;
/// Most advertised brokers probed in one run (a hostile Metadata answer may list tens of
/// thousands); the report says when the cap cut the list (`probe-capped`).
pub const MAX_BROKER_TARGETS: usize = 512;
/// Certificates of a server's chain read one by one into the report (a real chain has 2 to 4).
pub const MAX_CHAIN_CERTIFICATES: usize = 8;
/// Most addresses of one name connected to; the report says when the cap cut the list.
pub const MAX_ADDRESSES_PER_NAME: usize = 16;
/// Certificates expiring sooner than this many days are a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;
/// Largest properties file read (a client configuration is a few KiB).
pub const MAX_PROPERTIES_FILE: u64 = 1024 * 1024;
/// Largest CA material read: one file, or all files of an `ssl.ca.location` directory together.
pub const MAX_CA_BYTES: u64 = 16 * 1024 * 1024;
/// Most files read from an `ssl.ca.location` directory.
pub const MAX_CA_FILES: usize = 4096;
/// Most bootstrap servers in one run.
pub const MAX_BOOTSTRAP: usize = 64;
/// Most entries of any other repeatable option (resolvers, CIDRs, zone addresses).
pub const MAX_LIST: usize = 256;
/// Largest JSON report `kreach merge` reads (a report of any run stays under 5 MB).
pub const MAX_REPORT_FILE: u64 = 32 * 1024 * 1024;
/// Most advertised brokers kept in the report's cluster metadata: the ones probed (the rest are
/// counted, and `probe-capped` says so), so a hostile Metadata answer cannot inflate the report.
pub const MAX_BROKERS_KEPT: usize = MAX_BROKER_TARGETS;
/// Most brokers kept in each address's own Metadata answer in the report (the cluster's list is
/// kept once, in `cluster`).
pub const MAX_ADDRESS_BROKERS: usize = 16;

/// How long the answers to a consumer's questions (sent right behind the Metadata request) may
/// take after the Metadata answer (or four times the Metadata round trip, if longer): the
/// bootstrap's Metadata, which starts the broker wave, is not held back longer by a slow answer.
pub const ACCESS_ANSWER_CAP: Duration = Duration::from_secs(1);

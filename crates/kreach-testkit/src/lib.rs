//! The end-to-end lab: a network namespace with two BIND instances (the VPC resolver holding the
//! private hosted zone, and a "public DNS"), haproxy terminating TLS with SNI routing on one
//! address per AZ, and iptables playing the security groups. Everything lives on loopback inside
//! a namespace this harness creates and deletes; nothing can leave it (it has no other interface,
//! and BIND marks every server outside 127/8 bogus and never recurses anywhere else).

//!
//! A `publish = false` crate so every test binary shares one copy (hickory-dns keeps its fixtures
//! the same way). The mock brokers run inside the namespace as the calling test binary itself,
//! re-executed: the test file declares [`mock_kafka_entry!`], so nothing test-only ships in the
//! user's `kreach` binary.

#![allow(clippy::print_stderr)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use kreach_lab::Fault;
use kreach_lab::{Ca, Validity};

pub mod idp;
pub mod moto;
pub mod msk_iam;
pub mod mtls;
pub mod oauth_front;
pub mod recording;
pub mod sts;
pub mod tansu;

pub const DOMAIN: &str = "abc123.us-west-2.aws.confluent.cloud";
pub const BOOTSTRAP_HOST: &str = "lkc-lab01.abc123.us-west-2.aws.confluent.cloud";
pub const VPC_RESOLVER: &str = "127.0.0.53";
pub const PUBLIC_RESOLVER: &str = "127.0.0.54";
pub const PRIVATE_CIDR: &str = "127.10.0.0/16";
pub const PUBLIC_ADDR: &str = "127.200.1.10";
pub const ENIS: [(&str, &str, &str); 3] = [
    ("usw2-az1", "us-west-2a", "127.10.1.10"),
    ("usw2-az2", "us-west-2b", "127.10.2.10"),
    ("usw2-az3", "us-west-2c", "127.10.3.10"),
];
const VPCE: &str = "vpce-0a1b2c3d4e5f60789-lab01";
const VPCE_ZONE: &str = "us-west-2.vpce.amazonaws.com";

/// The configuration that diagnoses the in-process lab `lab` as the CLI's lab arguments do
/// (its resolver, private range, CA, HTTPS port; TLS without SASL), within `timeout`.
pub fn lab_config(lab: &kreach_lab::Lab, timeout: Duration) -> kreach::CheckConfig {
    kreach::CheckConfig::for_bootstrap(kreach::HostPort::parse(&lab.bootstrap, 9092).expect("lab bootstrap"))
        .with_resolvers(vec![lab.resolver])
        .with_private_cidrs(vec![kreach_lab::LAB_PRIVATE_CIDR.parse().expect("cidr")])
        .with_ca_file(lab.ca_file())
        .expect("lab CA")
        .with_https_port(Some(lab.https_port))
        .with_security_protocol(kreach::SecurityProtocol::Ssl)
        .with_timeout(timeout)
}

/// The distinct codes of a report's AWS-stage findings (errors, warnings and information), sorted.
pub fn aws_codes(report: &kreach::Report) -> Vec<&'static str> {
    let mut codes: Vec<&str> =
        report.findings.iter().filter(|f| f.stage == kreach::Stage::Aws).map(|f| f.code.as_str()).collect();
    codes.sort();
    codes.dedup();
    codes
}

/// Why the lab cannot run here, if it cannot.
pub fn missing_prerequisites() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref() != Some("0") {
        return Some("the netns lab needs root (ip netns, iptables)".into());
    }
    for tool in ["ip", "named", "haproxy", "iptables", "dig"] {
        let found =
            Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!(
                "`{tool}` is missing: run scripts/setup.sh (installs bind9, haproxy, iptables, dnsutils)"
            ));
        }
    }
    None
}

/// Panics with the reason unless the lab can run; `KREACH_SKIP_NETNS=1` turns that into a skip
/// (for machines that cannot have root). CI never sets it.
pub fn require_prerequisites() -> bool {
    match missing_prerequisites() {
        None => true,
        Some(why) if std::env::var_os("KREACH_SKIP_NETNS").is_some() => {
            eprintln!("skipping netns lab: {why}");
            false
        }
        Some(why) => {
            panic!("{why} (set KREACH_SKIP_NETNS=1 to skip these tests on a machine without root)")
        }
    }
}

pub struct NetnsLab {
    pub name: String,
    pub dir: tempfile::TempDir,
    children: Vec<Child>,
    /// The `kreach` binary under test.
    kreach: PathBuf,
    /// The cluster's advertised listeners (`host:9092`), in broker order.
    pub brokers: Vec<String>,
}

/// The lab's size and how it re-executes the calling binary for its helpers.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Brokers behind the endpoint, spread over the three zones in turn (3: one per zone).
    pub brokers: usize,
    /// The arguments that make the calling binary serve the mock brokers ([`serve_mock_kafka`]):
    /// by default a test harness's run of [`mock_kafka_entry!`]'s test.
    pub mock_kafka_args: Vec<String>,
    /// More environment for that helper (e.g. [`serve_mock_kafka_sasl`]'s).
    pub helper_env: Vec<(String, String)>,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            brokers: ENIS.len(),
            mock_kafka_args: ["--exact", MOCK_KAFKA_TEST, "--ignored", "--nocapture", "--test-threads=1", "-q"]
                .map(String::from)
                .to_vec(),
            helper_env: Vec::new(),
        }
    }
}

/// Most brokers the lab serves (one mock cluster, one haproxy).
pub const MAX_LAB_BROKERS: usize = 200;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn run(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(out)
}

impl NetnsLab {
    /// Builds the lab with `fault`; `kreach` is the binary under test (`env!("CARGO_BIN_EXE_kreach")`).
    pub fn start(fault: Fault, kreach: &str) -> Result<NetnsLab, String> {
        Self::start_with(fault, kreach, &Shape::default())
    }

    /// [`NetnsLab::start`] with `shape`'s broker count and helper arguments.
    pub fn start_with(fault: Fault, kreach: &str, shape: &Shape) -> Result<NetnsLab, String> {
        if !(1..=MAX_LAB_BROKERS).contains(&shape.brokers) {
            return Err(format!("the lab serves 1 to {MAX_LAB_BROKERS} brokers, not {}", shape.brokers));
        }
        if fault.labs() == kreach_lab::Labs::InProcessOnly {
            return Err(format!("fault `{fault}` is served only by the in-process lab (kreach lab)"));
        }
        let name = format!("kreach-e2e-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let dir = tempfile::Builder::new().prefix("kreach-netns-").tempdir().map_err(|e| e.to_string())?;
        let mut lab = NetnsLab {
            name: name.clone(),
            dir,
            children: Vec::new(),
            kreach: PathBuf::from(kreach),
            brokers: Vec::new(),
        };
        run(Command::new("ip").args(["netns", "add", &name]))?;
        run(Command::new("ip").args(["-n", &name, "link", "set", "lo", "up"]))?;
        let mut addrs = vec![VPC_RESOLVER, PUBLIC_RESOLVER];
        addrs.extend(ENIS.iter().map(|(_, _, ip)| *ip));
        for a in addrs {
            run(Command::new("ip").args(["-n", &name, "addr", "add", &format!("{a}/32"), "dev", "lo"]))?;
        }
        // `ip netns exec` bind-mounts this over /etc/resolv.conf: the system resolver is the VPC resolver.
        let etc = PathBuf::from("/etc/netns").join(&name);
        std::fs::create_dir_all(&etc).map_err(|e| e.to_string())?;
        std::fs::write(etc.join("resolv.conf"), format!("nameserver {VPC_RESOLVER}\noptions timeout:1 attempts:1\n"))
            .map_err(|e| e.to_string())?;

        let brokers = lab.spawn_brokers(fault, shape)?;
        lab.brokers = brokers.iter().map(|(name, _)| format!("{name}:9092")).collect();
        lab.write_configs(fault, &brokers)?;
        lab.spawn("public-dns", &["named", "-g", "-n", "1", "-c", &lab.path("public/named.conf")])?;
        if fault != Fault::ResolverDown {
            lab.spawn("vpc-resolver", &["named", "-g", "-n", "1", "-c", &lab.path("vpc/named.conf")])?;
        }
        lab.spawn("haproxy", &["haproxy", "-db", "-f", &lab.path("haproxy.cfg")])?;
        lab.wait_ready(fault != Fault::ResolverDown)?;
        // Security-group faults go in once the lab answers (readiness probes the ports).
        match fault {
            Fault::KafkaPortDropped => lab.iptables(&["-A", "INPUT", "-p", "tcp", "--dport", "9092", "-j", "DROP"])?,
            Fault::HttpsPortDropped => lab.iptables(&["-A", "INPUT", "-p", "tcp", "--dport", "443", "-j", "DROP"])?,
            Fault::AzDown => lab.iptables(&["-A", "INPUT", "-d", ENIS[1].2, "-j", "DROP"])?,
            Fault::PublicAnswerDropped => lab.iptables(&["-A", "INPUT", "-d", PUBLIC_ADDR, "-j", "DROP"])?,
            // Loopback's MTU is 65536: the endpoint's certificate flight leaves in one large
            // segment unless the client's SYN asks for less, and this drops it with no ICMP.
            Fault::PathMtuBlackhole => lab.iptables(&[
                "-A",
                "INPUT",
                "-s",
                ENIS[1].2,
                "-p",
                "tcp",
                "-m",
                "length",
                "--length",
                "700:65535",
                "-j",
                "DROP",
            ])?,
            Fault::PortRefused => lab.iptables(&[
                "-A",
                "INPUT",
                "-p",
                "tcp",
                "--dport",
                "9092",
                "-j",
                "REJECT",
                "--reject-with",
                "tcp-reset",
            ])?,
            _ => {}
        }
        Ok(lab)
    }

    fn path(&self, rel: &str) -> String {
        self.dir.path().join(rel).display().to_string()
    }

    pub fn ca_file(&self) -> String {
        self.path("ca.pem")
    }

    /// Every question the VPC resolver (BIND) was asked so far, in order: `(name, record type)`,
    /// from its query log (`querylog yes`; `named -g` writes it to the log the lab keeps).
    pub fn resolver_queries(&self) -> Vec<(String, String)> {
        let log = self.log("vpc-resolver");
        log.lines()
            .filter_map(|line| {
                let mut words = line.split_once("query: ")?.1.split_whitespace();
                let name = words.next()?.trim_end_matches('.').to_ascii_lowercase();
                let _class = words.next()?;
                Some((name, words.next()?.to_string()))
            })
            .collect()
    }

    fn spawn(&mut self, label: &str, argv: &[&str]) -> Result<(), String> {
        self.spawn_with(label, argv, &[])
    }

    /// Runs `argv` inside the namespace with `env` added, its output in the lab's log `label`
    /// ([`NetnsLab::log`]); it is stopped with the lab.
    pub fn spawn_with(&mut self, label: &str, argv: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
        let log = std::fs::File::create(self.dir.path().join(format!("{label}.log"))).map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(argv)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{label}: {e}"))?;
        self.children.push(child);
        Ok(())
    }

    /// The cluster behind the endpoint: mock brokers spread over the AZs, advertising zonal names
    /// on 9092. Returns (advertised name, listen address) per broker.
    fn spawn_brokers(&mut self, fault: Fault, shape: &Shape) -> Result<Vec<(String, String)>, String> {
        if fault == Fault::SaslBroker {
            return self.spawn_tansu();
        }
        let names: Vec<String> = (0..shape.brokers)
            .map(|i| {
                let az = ENIS[i % ENIS.len()].0;
                if fault == Fault::BrokerNameUnresolvable && i == 2 {
                    // A listener name no zone serves: NXDOMAIN through the VPC resolver.
                    format!("b{}.{az}.elsewhere.invalid", i + 1)
                } else {
                    format!("b{}.{az}.{DOMAIN}", i + 1)
                }
            })
            .collect();
        let listeners = names.iter().map(|n| format!("{n}:9092")).collect::<Vec<_>>().join(",");
        let mut env = vec![(MOCK_KAFKA_ENV.to_string(), listeners)];
        env.extend(shape.helper_env.iter().cloned());
        let mut lines = self.spawn_self(&shape.mock_kafka_args, &env)?;
        let mut out = Vec::new();
        for name in names {
            // The test harness prints its own lines around the mock's.
            let line = loop {
                let line = lines.next().ok_or("mock Kafka exited")?.map_err(|e| e.to_string())?;
                if line.starts_with("broker ") {
                    break line;
                }
            };
            let addr = line.split_whitespace().nth(2).ok_or_else(|| format!("bad mock line {line}"))?.to_string();
            out.push((name, addr));
        }
        Ok(out)
    }

    /// One tansu broker (installed by scripts/setup.sh) with authentication on, advertising the
    /// usw2-az1 zonal name; it knows SCRAM only and, with memory storage, no user: every login is
    /// a real rejection.
    fn spawn_tansu(&mut self) -> Result<Vec<(String, String)>, String> {
        let tansu = tansu::tansu_binary();
        if !tansu.exists() {
            return Err(format!("{} is missing: run scripts/setup.sh", tansu.display()));
        }
        let name = format!("b1.{}.{DOMAIN}", ENIS[0].0);
        let listen = "127.0.0.1:19092";
        let tansu = tansu.display().to_string();
        self.spawn(
            "tansu",
            &[
                &tansu,
                "broker",
                "--listener-url",
                &format!("tcp://{listen}"),
                "--advertised-listener-url",
                &format!("tcp://{name}:9092"),
                "--authentication",
            ],
        )?;
        let started = Instant::now();
        while !exec_in(&self.name, &["timeout", "1", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/19092"]).status.success()
        {
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!("tansu did not listen: {}", self.log("tansu")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(vec![(name, listen.to_string())])
    }

    /// Runs the calling binary again inside the namespace with `args` and `env` (the lab's helpers:
    /// mock brokers, the delay); returns its stdout's lines. It is stopped with the lab.
    fn spawn_self(
        &mut self,
        args: &[String],
        env: &[(String, String)],
    ) -> Result<std::io::Lines<std::io::BufReader<std::process::ChildStdout>>, String> {
        use std::io::BufRead;
        let me = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(me)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{args:?}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        self.children.push(child);
        Ok(std::io::BufReader::new(stdout).lines())
    }

    /// Adds `rtt` of round-trip time between the client and everything it talks to directly (the
    /// VPC resolver and the endpoint's addresses; not the resolver's forwarding nor the endpoint's
    /// backends): iptables sends those packets to an NFQUEUE where the calling binary, re-executed
    /// with `helper_args` inside the namespace, holds each for half the round trip
    /// ([`serve_delay`]). Every packet passes OUTPUT once per direction on loopback, so a TCP
    /// connect costs one round trip, a DNS query one, and DROP/REJECT rules keep their meaning.
    pub fn add_latency(&mut self, rtt: Duration, helper_args: &[String]) -> Result<(), String> {
        let lines = self.spawn_self(helper_args, &[(DELAY_ENV.to_string(), (rtt / 2).as_micros().to_string())])?;
        let ready = lines.map_while(Result::ok).any(|line| line == DELAY_READY);
        if !ready {
            return Err("the delay helper exited before binding its queue".into());
        }
        // Autocorking holds a small write while an earlier segment of the socket is still queued
        // in the host, which a held packet is: it would add the lab's delay to every request
        // that follows a write, a cost no real network has.
        run(Command::new("ip").args([
            "netns",
            "exec",
            &self.name,
            "sysctl",
            "-q",
            "-w",
            "net.ipv4.tcp_autocorking=0",
        ]))?;
        let queue = DELAY_QUEUE.to_string();
        let eni_range = "127.10.0.0/16";
        // Each rule: OUTPUT packets matching `what` go to the helper's queue.
        let to_queue = |what: &[&str]| {
            let mut rule = vec!["-A", "OUTPUT"];
            rule.extend_from_slice(what);
            rule.extend_from_slice(&["-j", "NFQUEUE", "--queue-num", &queue]);
            self.iptables(&rule)
        };
        for proto in ["udp", "tcp"] {
            to_queue(&["-p", proto, "-d", VPC_RESOLVER, "--dport", "53"])?;
            to_queue(&["-p", proto, "-s", VPC_RESOLVER, "--sport", "53"])?;
        }
        to_queue(&["-p", "tcp", "-d", eni_range])?;
        to_queue(&["-p", "tcp", "-s", eni_range])?;
        Ok(())
    }

    pub fn iptables(&self, rule: &[&str]) -> Result<(), String> {
        run(Command::new("ip").args(["netns", "exec", &self.name, "iptables"]).args(rule)).map(|_| ())
    }

    /// Runs a command inside the namespace.
    pub fn exec(&self, argv: &[&str]) -> Output {
        exec_in(&self.name, argv)
    }

    pub fn log(&self, label: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{label}.log"))).unwrap_or_default()
    }

    fn wait_ready(&mut self, vpc: bool) -> Result<(), String> {
        let started = Instant::now();
        let ns = self.name.clone();
        let dig = |server: &str, name: &str| {
            let out = exec_in(&ns, &["dig", "+short", "+time=1", "+tries=1", &format!("@{server}"), name, "A"]);
            out.status.success() && !String::from_utf8_lossy(&out.stdout).trim().is_empty()
        };
        let haproxy_up =
            || exec_in(&ns, &["timeout", "1", "bash", "-c", "exec 3<>/dev/tcp/127.10.1.10/443"]).status.success();
        let regional = format!("{VPCE}.{VPCE_ZONE}");
        loop {
            let public_ok = dig(PUBLIC_RESOLVER, "public-lb.us-west-2.aws.confluent.cloud");
            let vpc_ok = !vpc || dig(VPC_RESOLVER, &regional);
            if public_ok && vpc_ok && haproxy_up() {
                return Ok(());
            }
            for child in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "a lab process exited ({status}); logs:\n{}\n{}\n{}",
                        self.log("public-dns"),
                        self.log("vpc-resolver"),
                        self.log("haproxy")
                    ));
                }
            }
            if started.elapsed() > Duration::from_secs(15) {
                return Err(format!(
                    "lab not ready after 15 s; logs:\n{}\n{}\n{}",
                    self.log("public-dns"),
                    self.log("vpc-resolver"),
                    self.log("haproxy")
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn write_configs(&self, fault: Fault, brokers: &[(String, String)]) -> Result<(), String> {
        let d = self.dir.path();
        for sub in ["vpc", "public"] {
            std::fs::create_dir_all(d.join(sub)).map_err(|e| e.to_string())?;
        }
        let write = |rel: &str, text: String| std::fs::write(d.join(rel), text).map_err(|e| format!("{rel}: {e}"));

        // Zones.
        let soa = |zone: &str| {
            format!(
                "$TTL 60\n@ IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 60\n@ IN NS ns.{zone}.\nns IN A 127.0.0.53\n"
            )
        };
        let mut private = soa(DOMAIN);
        match fault {
            Fault::WildcardMissing => {}
            // Left pointing at a replaced endpoint's name.
            Fault::CnameDangling => {
                let _ = writeln!(private, "* IN CNAME vpce-0dead0000000000000-old01.{VPCE_ZONE}.");
            }
            _ => {
                let _ = writeln!(private, "* IN CNAME {VPCE}.{VPCE_ZONE}.");
            }
        }
        let mut vpce = soa(VPCE_ZONE);
        for (az_id, az_name, ip) in ENIS {
            match fault {
                Fault::ZonalRecordMissing if az_id == "usw2-az2" => {}
                // The classic slip: the record named by AZ name, which no broker name uses.
                Fault::ZonalRecordByAzName if az_id == "usw2-az2" => {
                    let _ = writeln!(private, "*.{az_name} IN CNAME {VPCE}-{az_name}.{VPCE_ZONE}.");
                }
                _ => {
                    let _ = writeln!(private, "*.{az_id} IN CNAME {VPCE}-{az_name}.{VPCE_ZONE}.");
                }
            }
            let _ = writeln!(vpce, "{VPCE} IN A {ip}");
            let _ = writeln!(vpce, "{VPCE}-{az_name} IN A {ip}");
        }
        write("private.zone", private)?;
        write("vpce.zone", vpce)?;
        let mut public = soa("confluent.cloud");
        let _ = writeln!(public, "*.abc123.us-west-2.aws IN CNAME public-lb.us-west-2.aws.confluent.cloud.");
        let _ = writeln!(public, "public-lb.us-west-2.aws IN A {PUBLIC_ADDR}");
        write("public.zone", public)?;
        write(
            "root.zone",
            "$TTL 60\n@ IN SOA a.root.invalid. hostmaster.invalid. 1 3600 600 86400 60\n@ IN NS a.root.invalid.\na.root.invalid. IN A 127.0.0.54\n".into(),
        )?;

        // BIND: never anything outside 127/8.
        let bogus = [
            "0.0.0.0/2",
            "64.0.0.0/3",
            "96.0.0.0/4",
            "112.0.0.0/5",
            "120.0.0.0/6",
            "124.0.0.0/7",
            "126.0.0.0/8",
            "128.0.0.0/1",
            "::/0",
        ]
        .iter()
        .map(|p| format!("server {p} {{ bogus yes; }};\n"))
        .collect::<String>();
        let options = |sub: &str, listen: &str, extra: &str| {
            let dir = d.join(sub).display().to_string();
            format!(
                "options {{\n  directory \"{dir}\";\n  pid-file \"{dir}/named.pid\";\n  session-keyfile \"{dir}/session.key\";\n  \
                 managed-keys-directory \"{dir}\";\n  listen-on port 53 {{ {listen}; }};\n  listen-on-v6 {{ none; }};\n  \
                 allow-query {{ any; }};\n  dnssec-validation no;\n  notify no;\n  query-source address {listen};\n{extra}}};\ncontrols {{ }};\n{bogus}"
            )
        };
        let mut vpc = options(
            "vpc",
            VPC_RESOLVER,
            "  recursion yes;\n  allow-recursion { any; };\n  forward only;\n  forwarders { 127.0.0.54; };\n  querylog yes;\n",
        );
        let zone = |name: &str, file: &str| {
            format!("zone \"{name}\" {{ type primary; file \"{}\"; }};\n", d.join(file).display())
        };
        if !matches!(fault, Fault::ZoneNotAssociated | Fault::PublicAnswerDropped) {
            vpc.push_str(&zone(DOMAIN, "private.zone"));
        }
        vpc.push_str(&zone(VPCE_ZONE, "vpce.zone"));
        write("vpc/named.conf", vpc)?;
        let mut public_conf = options("public", PUBLIC_RESOLVER, "  recursion no;\n");
        public_conf.push_str(&zone(".", "root.zone"));
        public_conf.push_str(&zone("confluent.cloud", "public.zone"));
        write("public/named.conf", public_conf)?;

        // Certificates.
        let ca = Ca::new("kreach netns lab CA").map_err(|e| e.to_string())?;
        write("ca.pem", ca.cert_pem().to_string())?;
        let mut names = vec![format!("*.{DOMAIN}")];
        names.extend(ENIS.iter().map(|(az, _, _)| format!("*.{az}.{DOMAIN}")));
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let leaf = match fault {
            Fault::CertWrongName => ca.leaf(&["other-service.example.net"], Validity::Days(90)),
            // Something in between presents its own chain: an untrusted root's intermediate and leaf.
            Fault::UnknownCa => Ca::new("Unknown Interception CA")
                .and_then(|other| other.intermediate("Unknown Interception CA intermediate", Validity::Days(365)))
                .and_then(|other| other.leaf(&names, Validity::Days(90))),
            Fault::ExpiredCert => ca.leaf(&names, Validity::Expired),
            Fault::ExpiringCert => ca.leaf(&names, Validity::Days(10)),
            _ => ca.leaf(&names, Validity::Days(90)),
        }
        .map_err(|e| e.to_string())?;
        write("endpoint.pem", format!("{}{}", leaf.chain_pem, leaf.key_pem))?;

        // haproxy: one bind per AZ address, TLS with SNI routing, REST answering 401.
        let pem = d.join("endpoint.pem").display().to_string();
        let mut cfg = String::from(
            "global\n  maxconn 4096\ndefaults\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n\nfrontend kafka\n  mode tcp\n",
        );
        for (_, _, ip) in ENIS {
            let _ = writeln!(cfg, "  bind {ip}:9092 ssl crt {pem}");
        }
        // SNI routing: each broker's zonal name to its broker, any other name of the domain to broker 1.
        for (i, (name, _)) in brokers.iter().enumerate() {
            let _ = writeln!(cfg, "  use_backend b{} if {{ ssl_fc_sni -i {name} }}", i + 1);
        }
        let _ = writeln!(cfg, "  use_backend b1 if {{ ssl_fc_sni -m end .{DOMAIN} }}\n");
        for (i, (_, addr)) in brokers.iter().enumerate() {
            // A dead broker behind a working endpoint: its backend is a port nothing listens on.
            let addr = if fault == Fault::BrokerDown && i == 1 { "127.0.0.1:1" } else { addr.as_str() };
            let _ = writeln!(cfg, "backend b{}\n  mode tcp\n  server s {addr}\n", i + 1);
        }
        cfg.push_str("frontend rest\n  mode http\n");
        for (_, _, ip) in ENIS {
            if fault == Fault::PlaintextListener {
                let _ = writeln!(cfg, "  bind {ip}:443");
            } else {
                let _ = writeln!(cfg, "  bind {ip}:443 ssl crt {pem} alpn http/1.1");
            }
        }
        cfg.push_str(
            "  http-request return status 401 content-type application/json string \"{\\\"error_code\\\":401,\\\"message\\\":\\\"Unauthorized\\\"}\"\n",
        );
        write("haproxy.cfg", cfg)?;
        Ok(())
    }

    /// Runs the kreach binary inside the namespace.
    pub fn kreach(&self, args: &[String]) -> (i32, String, String, Duration) {
        let started = Instant::now();
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(&self.kreach)
            .args(args)
            .env("NO_COLOR", "1")
            .envs(no_aws())
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
            .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running kreach: {e}"));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            started.elapsed(),
        )
    }
}

fn exec_in(ns: &str, argv: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(argv)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("ip netns exec {argv:?}: {e}"))
}

impl Drop for NetnsLab {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
        }
        for child in &mut self.children {
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
        let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(&self.name));
    }
}

/// Keeps any AWS SDK in a test from reaching for the instance metadata service.
pub fn no_aws() -> [(&'static str, &'static str); 1] {
    [("AWS_EC2_METADATA_DISABLED", "true")]
}

/// The workspace root (for docs/ and fixtures/scenarios/).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The environment variable that hands the re-executed test binary its advertised listeners.
pub const MOCK_KAFKA_ENV: &str = "KREACH_TESTKIT_MOCK_KAFKA";
/// The name of the test [`mock_kafka_entry!`] declares.
pub const MOCK_KAFKA_TEST: &str = "mock_kafka_process";

/// Declares the (ignored) test through which the netns lab runs its mock brokers: re-executed
/// inside the namespace with [`MOCK_KAFKA_ENV`] set, it serves until killed. Run normally, it is
/// skipped (ignored), so it never passes without doing anything.
#[macro_export]
macro_rules! mock_kafka_entry {
    () => {
        #[test]
        #[ignore = "the netns lab's mock brokers, run by the lab itself"]
        fn mock_kafka_process() {
            $crate::serve_mock_kafka();
        }
    };
}

/// Runs librdkafka's mock cluster advertising the listeners in [`MOCK_KAFKA_ENV`], prints
/// `broker ID LISTEN-ADDR` per broker, and serves until the process is killed.
pub fn serve_mock_kafka() {
    let Ok(list) = std::env::var(MOCK_KAFKA_ENV) else {
        panic!("{MOCK_KAFKA_ENV} is not set: this entry is run by the netns lab, not by hand");
    };
    let (cluster, advertised) = mock_cluster(&list);
    // A topic for the consumer's questions (`--topic orders`), one partition per broker.
    let _ = cluster.create_topic("orders", advertised.max(1) as i32);
    announce_and_serve(cluster.listeners.iter().map(|(id, addr)| (*id, addr.to_string())).collect());
}

/// librdkafka's mock cluster advertising `list` (`host:port,…`), with how many brokers it has.
fn mock_cluster(list: &str) -> (kreach_lab::MockKafka, usize) {
    let advertised: Vec<(String, u16)> = list
        .split(',')
        .map(|hp| {
            let (host, port) = hp.rsplit_once(':').unwrap_or((hp, "9092"));
            (host.to_string(), port.parse().unwrap_or(9092))
        })
        .collect();
    let cluster = kreach_lab::MockKafka::start(&advertised).unwrap_or_else(|e| panic!("mock cluster: {e}"));
    (cluster, advertised.len())
}

/// Prints `broker ID LISTEN-ADDR` per broker (what the lab reads) and serves until killed.
fn announce_and_serve(brokers: Vec<(i32, String)>) -> ! {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for (id, addr) in &brokers {
        let _ = writeln!(out, "broker {id} {addr}");
    }
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// [`serve_mock_kafka_sasl`]'s PLAIN credentials, `user:password`.
pub const MOCK_SASL_PLAIN_ENV: &str = "KREACH_TESTKIT_SASL_PLAIN";
/// [`serve_mock_kafka_sasl`]'s identity provider: a file holding the provider's first line
/// (`{"issuer":…,"keys":[JWKs]}`), read at each OAUTHBEARER authentication (it may be written
/// after the brokers start).
pub const MOCK_SASL_IDP_ENV: &str = "KREACH_TESTKIT_SASL_IDP";

/// As [`serve_mock_kafka`], each broker behind a SASL front offering PLAIN (the credentials in
/// [`MOCK_SASL_PLAIN_ENV`]) and OAUTHBEARER (a JWT the provider in [`MOCK_SASL_IDP_ENV`] signed):
/// the broker of `kreach-bench oauth`, which times one mechanism against the other. The listed
/// address of each broker is its front's.
pub fn serve_mock_kafka_sasl() {
    let (Ok(list), Ok(plain), Ok(idp)) =
        (std::env::var(MOCK_KAFKA_ENV), std::env::var(MOCK_SASL_PLAIN_ENV), std::env::var(MOCK_SASL_IDP_ENV))
    else {
        panic!("{MOCK_KAFKA_ENV}, {MOCK_SASL_PLAIN_ENV} and {MOCK_SASL_IDP_ENV}: this entry is run by the netns lab");
    };
    let (cluster, _) = mock_cluster(&list);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let (user, password) = plain.split_once(':').unwrap_or((plain.as_str(), ""));
    let expected = format!("\0{user}\0{password}").into_bytes();
    let plain_check: oauth_front::Check = std::sync::Arc::new(move |auth: &[u8]| {
        // RFC 4616: [authzid] NUL authcid NUL passwd.
        let given = auth.iter().position(|b| *b == 0).map_or(auth, |at| &auth[at..]);
        if given == expected.as_slice() { Ok(Vec::new()) } else { Err("bad credentials".into()) }
    });
    let oauth_check: oauth_front::Check = std::sync::Arc::new(move |auth: &[u8]| {
        let text = std::fs::read_to_string(&idp).map_err(|e| format!("no identity provider yet: {e}"))?;
        let started: serde_json::Value = serde_json::from_str(text.trim()).map_err(|e| e.to_string())?;
        let trust =
            oauth_front::Trust::from_jwks(started["issuer"].as_str().unwrap_or_default(), &started["keys"], &[]);
        trust.check()(auth)
    });
    let fronts: Vec<(i32, String)> = runtime.block_on(async {
        let mut out = Vec::new();
        for (id, addr) in &cluster.listeners {
            let (listener, front) = oauth_front::OAuthFront::bind().await.expect("front");
            let mechanisms = vec![("PLAIN", plain_check.clone()), ("OAUTHBEARER", oauth_check.clone())];
            let _serving = oauth_front::OAuthFront::serve_mechanisms(listener, *addr, mechanisms);
            out.push((*id, front.to_string()));
        }
        out
    });
    // The fronts run on the runtime's workers until the process is killed.
    announce_and_serve(fronts);
}

/// The environment variable that hands the re-executed delay helper its hold time (microseconds).
pub const DELAY_ENV: &str = "KREACH_TESTKIT_DELAY_US";
/// The line the delay helper prints once its queue is bound.
const DELAY_READY: &str = "delay ready";
/// The NFQUEUE number the lab's latency rules use.
const DELAY_QUEUE: u16 = 7;
/// Most packets the kernel keeps queued for the helper (a 100-broker burst is a few hundred).
const DELAY_QUEUE_LEN: u32 = 16_384;

/// The delay helper behind [`NetnsLab::add_latency`]: binds the lab's NFQUEUE and accepts each
/// packet [`DELAY_ENV`] microseconds after it arrived, in arrival order (every packet is held
/// equally long, so first in is first due). Runs until killed.
pub fn serve_delay() -> Result<(), String> {
    use std::collections::VecDeque;
    use std::io::Write;
    let hold = std::env::var(DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_micros)
        .ok_or_else(|| format!("{DELAY_ENV} is not set: this helper is run by the netns lab, not by hand"))?;
    let mut queue = nfq::Queue::open().map_err(|e| format!("NFQUEUE: {e}"))?;
    queue.bind(DELAY_QUEUE).map_err(|e| format!("NFQUEUE bind: {e}"))?;
    queue.set_queue_max_len(DELAY_QUEUE, DELAY_QUEUE_LEN).map_err(|e| format!("NFQUEUE length: {e}"))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{DELAY_READY}");
        let _ = out.flush();
    }
    let mut held: VecDeque<(Instant, nfq::Message)> = VecDeque::new();
    loop {
        let now = Instant::now();
        while held.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, mut msg)) = held.pop_front() {
                msg.set_verdict(nfq::Verdict::Accept);
                queue.verdict(msg).map_err(|e| format!("NFQUEUE verdict: {e}"))?;
            }
        }
        // Nothing held: wait for the next packet; otherwise poll until the oldest is due.
        queue.set_nonblocking(!held.is_empty());
        match queue.recv() {
            Ok(msg) => held.push_back((Instant::now() + hold, msg)),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let wait =
                    held.front().map_or(Duration::ZERO, |(due, _)| due.saturating_duration_since(Instant::now()));
                std::thread::sleep(wait.min(Duration::from_micros(200)));
            }
            Err(e) => return Err(format!("NFQUEUE receive: {e}")),
        }
    }
}

/// What headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) made of a page.
pub struct PageRun {
    /// The DOM after loading (`--dump-dom`).
    pub dom: String,
    /// The console messages Chromium logged (script errors, Content-Security-Policy violations:
    /// a blocked fetch or script shows here).
    pub console: Vec<String>,
}

/// Opens `page` in headless Chromium, dumps its DOM and, with `screenshot`, saves a PNG of it.
/// As root it runs inside a fresh network namespace with only a loopback that is down: nothing
/// the page could ask for can leave the machine.
pub fn headless_chromium(page: &Path, screenshot: Option<&Path>) -> PageRun {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let bin = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].iter().find(|b| Path::new(b).exists()).copied();
    let bin = bin.unwrap_or_else(|| panic!("chromium is missing: run scripts/setup.sh (installs Debian's chromium)"));
    let isolated = running_as_root();
    let netns = format!("kreach-page-{}-{}", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    if isolated {
        let ok = Command::new("ip").args(["netns", "add", &netns]).status().is_ok_and(|s| s.success());
        assert!(ok, "ip netns add {netns}");
    }
    let profile = tempfile::tempdir().expect("profile dir");
    let run = |extra: &[String]| {
        let mut cmd = if isolated {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &netns, bin]);
            c
        } else {
            Command::new(bin)
        };
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--log-level=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(page)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("chromium")
    };
    let out = run(&["--dump-dom".to_string()]);
    let mut console: Vec<String> =
        String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
    if let Some(png) = screenshot {
        let shot = run(&["--window-size=1300,1500".to_string(), format!("--screenshot={}", png.display())]);
        console.extend(
            String::from_utf8_lossy(&shot.stderr).lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string),
        );
    }
    if isolated {
        let _ = Command::new("ip").args(["netns", "del", &netns]).status();
    }
    PageRun { dom: String::from_utf8_lossy(&out.stdout).into_owned(), console }
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A child process killed when the test ends, pass or fail.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// cargo-lambda's local Lambda emulator (scripts/setup.sh installs it) on a free port of
/// 127.0.0.1 only (its default is every interface), and the kreach function binary `function`
/// attached to it as function `name` with `env` as its whole environment (its stdout, its log,
/// written to `log` when given). Invoke it as `_` at `http://127.0.0.1:<port>`.
pub fn lambda_emulator(
    function: &Path,
    name: &str,
    env: &[(&str, String)],
    log: Option<&Path>,
) -> (Killed, Killed, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let emulator = Command::new(workspace_root().join("target/lab-peers/venv/bin/cargo-lambda"))
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
        .current_dir(workspace_root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo-lambda (scripts/setup.sh installs it)");
    let emulator = Killed(emulator);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the emulator did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut cmd = Command::new(function);
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_REGION", "us-west-2")
        .stdout(match log {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
            None => Stdio::null(),
        })
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    (emulator, Killed(cmd.spawn().expect("the function binary")), port)
}

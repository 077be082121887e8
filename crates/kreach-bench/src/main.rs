//! kreach's benchmark harness (run by `scripts/bench.sh`): brings up the network-namespace lab
//! with real injected round-trip time and times, side by side in one run, kreach (with and
//! without its librdkafka parity stage), `kcat -L`, confluent-kafka's metadata call, and the
//! manual toolbox (`dig` per name, `openssl s_client` per address), over a set of scenarios.
//! Prints a table (median of N runs, multiple of the round-trip floor) and writes JSON.
//!
//! Traffic stays inside the namespaces the lab creates (see kreach-testkit).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use kreach_testkit::{BOOTSTRAP_HOST, Fault, NetnsLab, PRIVATE_CIDR, Shape};

#[derive(Parser)]
#[command(about = "Times kreach against kcat, confluent-kafka and dig/openssl on the netns lab")]
struct Cli {
    #[command(subcommand)]
    helper: Option<Helper>,
    /// Runs per tool and scenario (the table shows the median).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Round-trip times to inject, in milliseconds, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0,40")]
    rtt_ms: Vec<u64>,
    /// Scenarios, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Tools, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    tools: Vec<String>,
    /// Every tool's deadline, in seconds (kreach's --timeout, kcat's -m, the client's timeout).
    #[arg(long, default_value_t = 5)]
    timeout: u64,
    /// The kreach binary to time.
    #[arg(long)]
    kreach: Option<PathBuf>,
    /// The Python with confluent-kafka (scripts/setup.sh's venv).
    #[arg(long, default_value = "target/lab-peers/venv/bin/python")]
    python: PathBuf,
    /// Where to write the JSON results.
    #[arg(long, default_value = "target/bench/results.json")]
    json: PathBuf,
}

#[derive(Subcommand)]
enum Helper {
    /// (run by the lab inside its namespace) serve the mock brokers.
    MockKafka,
    /// (run by the lab inside its namespace) hold queued packets for half the round trip.
    Delay,
    /// (run by the lab inside its namespace) serve the mock brokers behind SASL fronts offering
    /// PLAIN and OAUTHBEARER (`oauth`'s brokers).
    MockKafkaSasl,
    /// SASL OAUTHBEARER (OIDC) against SASL PLAIN on the same brokers, at each `--rtt-ms`, `--runs`
    /// times each: what the token fetch costs beside the bootstrap's own round trips.
    Oauth,
    /// `kreach fleet` against a loopback Lambda-API peer: N functions, each answering a real
    /// report after its own delay; the fleet's wall time against the slowest invocation, and
    /// `kreach merge` of N and 10 N reports (the merge's growth).
    Fleet {
        /// The kreach binary.
        #[arg(long)]
        kreach: PathBuf,
        /// Vantage points.
        #[arg(long, default_value_t = 50)]
        vantages: usize,
        /// The slowest function's delay, in milliseconds (the others answer sooner).
        #[arg(long, default_value_t = 800)]
        slowest_ms: u64,
        /// Brokers in the lab whose report every function answers (6: ~50 KB; 45: ~200 KB).
        #[arg(long, default_value_t = 6)]
        brokers: usize,
    },
}

/// What a scenario's times are measured against.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Everything works: the floor is the round trips a complete diagnosis needs.
    Healthy,
    /// Something drops packets: only the deadline ends the run.
    Blackholed,
    /// The cause shows at once (a refused port, NXDOMAIN, a public answer, a certificate error,
    /// rejected credentials): every tool runs with kreach's default deadline, and the goal is a
    /// verdict within a second at 0 RTT.
    Immediate,
}

struct Scenario {
    name: &'static str,
    fault: Fault,
    brokers: usize,
    kind: Kind,
    /// The test scenario (`fixtures/scenarios/<name>.toml`) whose client `properties` every tool
    /// takes (`{ca}` stands for the lab CA's path), when the scenario needs more than TLS.
    properties: Option<&'static str>,
    what: &'static str,
}

impl Scenario {
    const fn new(name: &'static str, fault: Fault, brokers: usize, kind: Kind, what: &'static str) -> Scenario {
        Scenario { name, fault, brokers, kind, properties: None, what }
    }
}

/// The immediate-failure goal (issue 13): a verdict within a second at 0 RTT.
const IMMEDIATE_GOAL_MS: u64 = 1000;

const SCENARIOS: [Scenario; 13] = [
    Scenario::new("healthy-6", Fault::None, 6, Kind::Healthy, "6 brokers in 3 zones, TLS"),
    Scenario::new("healthy-100", Fault::None, 100, Kind::Healthy, "100 brokers in 3 zones, TLS"),
    Scenario::new(
        "kafka-blackholed-6",
        Fault::KafkaPortDropped,
        6,
        Kind::Blackholed,
        "the endpoint's security group drops 9092",
    ),
    Scenario::new("kafka-blackholed-100", Fault::KafkaPortDropped, 100, Kind::Blackholed, "the same with 100 brokers"),
    Scenario::new("zone-dead-6", Fault::AzDown, 6, Kind::Blackholed, "one zone's endpoint address drops everything"),
    Scenario::new("port-refused", Fault::PortRefused, 6, Kind::Immediate, "the endpoint refuses 9092 (TCP reset)"),
    Scenario::new(
        "nxdomain",
        Fault::WildcardMissing,
        6,
        Kind::Immediate,
        "the private zone lacks the wildcard: the bootstrap name is NXDOMAIN",
    ),
    Scenario::new(
        "public-answer",
        Fault::ZoneNotAssociated,
        6,
        Kind::Immediate,
        "the zone is not associated with the VPC: the name resolves to public addresses",
    ),
    Scenario::new(
        "public-answer-dropped",
        Fault::PublicAnswerDropped,
        6,
        Kind::Immediate,
        "the same, and the public addresses drop every packet (no route from a private subnet)",
    ),
    Scenario::new(
        "resolver-refused",
        Fault::ResolverDown,
        6,
        Kind::Immediate,
        "nothing listens on the VPC resolver's port: ICMP port unreachable",
    ),
    Scenario::new("cert-wrong-name", Fault::CertWrongName, 6, Kind::Immediate, "the certificate is for another name"),
    Scenario::new("unknown-ca", Fault::UnknownCa, 6, Kind::Immediate, "the certificate comes from a CA nobody trusts"),
    Scenario {
        name: "sasl-rejected",
        fault: Fault::SaslBroker,
        brokers: 1,
        kind: Kind::Immediate,
        properties: Some("sasl-rejected"),
        what: "the broker (tansu, SCRAM) rejects the credentials",
    },
];

const TOOLS: [&str; 6] = [
    "kreach",
    "kreach --no-client-check",
    "kreach --no-client-check --topic",
    "kcat -L",
    "confluent-kafka",
    "dig+openssl",
];

/// Round trips a complete diagnosis needs on this lab (TLS 1.3, no SASL): the bootstrap's DNS,
/// TCP, TLS, ApiVersions and Metadata, then every broker at once: DNS, TCP, TLS, ApiVersions.
const FLOOR_RTT: u64 = 9;

struct Run {
    ms: u64,
    ok: bool,
    /// kreach's own numbers from its JSON report: total, the parity stage's, peak RSS (KiB).
    report_ms: Option<u64>,
    parity_ms: Option<u64>,
    rss_kib: Option<u64>,
    /// The codes of kreach's error and warning findings: its verdict.
    codes: Vec<String>,
}

mod fleet;
mod oauth;

fn main() {
    let cli = Cli::parse();
    match cli.helper {
        Some(Helper::MockKafka) => kreach_testkit::serve_mock_kafka(),
        Some(Helper::MockKafkaSasl) => kreach_testkit::serve_mock_kafka_sasl(),
        Some(Helper::Oauth) => {
            if let Err(e) = kreach_binary(&cli).and_then(|kreach| oauth::bench(&kreach, cli.runs, &cli.rtt_ms)) {
                eprintln!("kreach-bench oauth: {e}");
                std::process::exit(2);
            }
        }
        Some(Helper::Delay) => {
            if let Err(e) = kreach_testkit::serve_delay() {
                eprintln!("delay helper: {e}");
                std::process::exit(1);
            }
        }
        Some(Helper::Fleet { kreach, vantages, slowest_ms, brokers }) => {
            if let Err(e) = fleet::bench(&kreach, vantages, slowest_ms, brokers) {
                eprintln!("kreach-bench fleet: {e}");
                std::process::exit(2);
            }
        }
        None => {
            if let Err(e) = bench(&cli) {
                eprintln!("kreach-bench: {e}");
                std::process::exit(2);
            }
        }
    }
}

/// The kreach binary to time (`--kreach`), once the lab's prerequisites are there.
fn kreach_binary(cli: &Cli) -> Result<PathBuf, String> {
    if let Some(why) = kreach_testkit::missing_prerequisites() {
        return Err(why);
    }
    let kreach = cli.kreach.as_deref().ok_or("--kreach is required")?;
    std::fs::canonicalize(kreach).map_err(|e| format!("--kreach {}: {e}", kreach.display()))
}

fn bench(cli: &Cli) -> Result<(), String> {
    let kreach = kreach_binary(cli)?;
    // Absolute but not canonical: the venv's python is a symlink whose path selects the venv.
    let python = std::path::absolute(&cli.python).map_err(|e| format!("--python {}: {e}", cli.python.display()))?;
    if !python.exists() {
        return Err(format!("--python {}: missing (run scripts/setup.sh)", python.display()));
    }
    for s in &cli.scenarios {
        if !SCENARIOS.iter().any(|sc| sc.name == s) {
            return Err(format!("--scenarios: unknown `{s}`"));
        }
    }
    for t in &cli.tools {
        if !TOOLS.contains(&t.as_str()) {
            return Err(format!("--tools: unknown `{t}` (one of {})", TOOLS.join(", ")));
        }
    }
    if let Some(dir) = cli.json.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let script = kreach_testkit::workspace_root().join("fixtures/reference_client.py");
    let mut rows = Vec::new();
    for sc in SCENARIOS.iter().filter(|sc| cli.scenarios.is_empty() || cli.scenarios.iter().any(|s| s == sc.name)) {
        for &rtt in &cli.rtt_ms {
            let shape =
                Shape { brokers: sc.brokers, mock_kafka_args: vec!["mock-kafka".into()], helper_env: Vec::new() };
            let mut lab = NetnsLab::start_with(sc.fault, &kreach.display().to_string(), &shape)?;
            if rtt > 0 {
                lab.add_latency(Duration::from_millis(rtt), &["delay".to_string()])?;
            }
            let properties = match sc.properties {
                Some(test_scenario) => {
                    let path = lab.dir.path().join("client.properties");
                    let text = scenario_properties(test_scenario)?;
                    std::fs::write(&path, text.replace("{ca}", &lab.ca_file()))
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    Some(path)
                }
                None => None,
            };
            let deadline = Deadline::of(sc, cli.timeout);
            for tool in TOOLS.iter().filter(|t| cli.tools.is_empty() || cli.tools.iter().any(|c| c == *t)) {
                let how = How {
                    lab: &lab,
                    kreach: &kreach,
                    python: &python,
                    script: &script,
                    deadline,
                    properties: properties.as_deref(),
                };
                let argv = command(tool, &how);
                let mut runs = Vec::new();
                for _ in 0..cli.runs {
                    let (run, stdout) = time(&lab, &argv, tool.starts_with("kreach"));
                    runs.push(run);
                    // The last report of each kreach row, to read its stage timings afterwards.
                    if tool.starts_with("kreach") {
                        let name = format!("{}-{rtt}ms-{}.json", sc.name, tool.replace([' ', '-'], "_"));
                        let path = cli.json.with_file_name(name);
                        std::fs::write(&path, stdout).map_err(|e| format!("{}: {e}", path.display()))?;
                    }
                }
                let row = summarise(sc, rtt, tool, &runs, deadline.seconds);
                eprintln!("{}", line(&row));
                rows.push(row);
            }
        }
    }
    let table = table(&rows, cli);
    println!("{table}");
    let json = serde_json::json!({
        "runs": cli.runs,
        "timeout_s": cli.timeout,
        "floor_rtt": FLOOR_RTT,
        "machine": machine(),
        "results": rows,
    });
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    std::fs::write(&cli.json, text).map_err(|e| format!("{}: {e}", cli.json.display()))?;
    eprintln!("results written to {}", cli.json.display());
    Ok(())
}

/// The client properties of the netns test scenario `name` (the same setup the tests assert on).
fn scenario_properties(name: &str) -> Result<String, String> {
    let path = kreach_testkit::workspace_root().join(format!("fixtures/scenarios/{name}.toml"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let table: toml::Table = text.parse().map_err(|e| format!("{}: {e}", path.display()))?;
    table
        .get("properties")
        .and_then(toml::Value::as_str)
        .map(String::from)
        .ok_or_else(|| format!("{}: no `properties`", path.display()))
}

/// Every tool's deadline in a scenario: `--timeout`, or kreach's own default where the scenario
/// measures the time to an immediate verdict (kreach then runs without `--timeout`).
#[derive(Clone, Copy)]
struct Deadline {
    seconds: u64,
    kreach_default: bool,
}

impl Deadline {
    fn of(sc: &Scenario, timeout: u64) -> Deadline {
        match sc.kind {
            Kind::Immediate => Deadline { seconds: kreach::DEFAULT_TIMEOUT.as_secs(), kreach_default: true },
            Kind::Healthy | Kind::Blackholed => Deadline { seconds: timeout, kreach_default: false },
        }
    }
}

/// What every tool's command line is made of.
struct How<'a> {
    lab: &'a NetnsLab,
    kreach: &'a std::path::Path,
    python: &'a std::path::Path,
    script: &'a std::path::Path,
    deadline: Deadline,
    /// The scenario's client properties file, when it has one.
    properties: Option<&'a std::path::Path>,
}

/// The command line that runs `tool` inside the lab's namespace.
fn command(tool: &str, how: &How) -> Vec<String> {
    let bootstrap = format!("{BOOTSTRAP_HOST}:9092");
    let ca = how.lab.ca_file();
    let t = how.deadline.seconds.to_string();
    let properties = how.properties.map(|p| p.display().to_string());
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match tool {
        "kreach" | "kreach --no-client-check" | "kreach --no-client-check --topic" => {
            let mut argv = s(&["/usr/bin/time", "-f", "rss_kib=%M", &how.kreach.display().to_string(), "check"]);
            argv.extend(s(&["--bootstrap", &bootstrap, "--private-cidr", PRIVATE_CIDR, "--ca-file", &ca]));
            match &properties {
                Some(file) => argv.extend(s(&["--config", file])),
                None => argv.extend(s(&["--security-protocol", "SSL"])),
            }
            argv.extend(s(&["--output", "json"]));
            if !how.deadline.kreach_default {
                argv.extend(s(&["--timeout", &t]));
            }
            if tool.contains("--no-client-check") {
                argv.push("--no-client-check".into());
            }
            // A consumer's read-only questions: Metadata for the topic, FindCoordinator and
            // DescribeConfigs behind it, OffsetFetch on the coordinator.
            if tool.ends_with("--topic") {
                argv.extend(s(&["--topic", "orders", "--consumer-group", "bench"]));
            }
            argv
        }
        "kcat -L" => {
            let mut argv = s(&["kcat", "-L", "-b", &bootstrap, "-m", &t]);
            match &properties {
                Some(file) => argv.extend(s(&["-F", file])),
                None => argv.extend(s(&["-X", "security.protocol=ssl", "-X", &format!("ssl.ca.location={ca}")])),
            }
            argv
        }
        "confluent-kafka" => {
            let mut argv = s(&[&how.python.display().to_string(), &how.script.display().to_string(), &bootstrap, &ca]);
            argv.extend(s(&["SSL", &t]));
            argv.extend(properties);
            argv
        }
        _ => {
            // What an engineer types by hand: each name resolved, each address's TLS tried, in turn.
            let mut names = vec![bootstrap];
            names.extend(how.lab.brokers.iter().cloned());
            let mut sh = String::from("set -e\n");
            for hp in names {
                let host = hp.trim_end_matches(":9092");
                let _ = writeln!(
                    sh,
                    "ip=$(dig +short +time={t} +tries=1 {host} A | tail -n1); [ -n \"$ip\" ]\n\
                     timeout {t} openssl s_client -connect \"$ip:9092\" -servername {host} -CAfile {ca} \
                     -verify_return_error -brief </dev/null >/dev/null 2>&1"
                );
            }
            vec!["bash".into(), "-c".into(), sh]
        }
    }
}

fn time(lab: &NetnsLab, argv: &[String], kreach: bool) -> (Run, Vec<u8>) {
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    let started = Instant::now();
    let out = lab.exec(&args);
    let ms = started.elapsed().as_millis() as u64;
    let mut run =
        Run { ms, ok: out.status.success(), report_ms: None, parity_ms: None, rss_kib: None, codes: Vec::new() };
    if kreach {
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        run.ok = report["status"] == "pass";
        run.report_ms = report["elapsed_ms"].as_u64();
        run.parity_ms = report["parity"]["elapsed_ms"].as_u64();
        let findings = report["findings"].as_array().map(Vec::as_slice).unwrap_or_default();
        for code in findings.iter().filter(|f| f["severity"] != "info").filter_map(|f| f["code"].as_str()) {
            if !run.codes.iter().any(|c| c == code) {
                run.codes.push(code.to_string());
            }
        }
        run.rss_kib = String::from_utf8_lossy(&out.stderr)
            .lines()
            .find_map(|l| l.strip_prefix("rss_kib="))
            .and_then(|v| v.trim().parse().ok());
    }
    (run, out.stdout)
}

fn median(mut v: Vec<u64>) -> Option<u64> {
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

fn summarise(sc: &Scenario, rtt: u64, tool: &str, runs: &[Run], timeout: u64) -> serde_json::Value {
    let ms: Vec<u64> = runs.iter().map(|r| r.ms).collect();
    let med = median(ms.clone()).unwrap_or(0);
    // A healthy lab's floor is its round trips; a blackholed one's the deadline; an immediate
    // failure is held to the goal of a verdict within a second.
    let (floor_ms, floor) = match sc.kind {
        Kind::Healthy => (FLOOR_RTT * rtt, format!("{FLOOR_RTT} RTT")),
        Kind::Blackholed => (timeout * 1000, "--timeout".to_string()),
        Kind::Immediate => (IMMEDIATE_GOAL_MS, "1 s goal".to_string()),
    };
    let multiple = (floor_ms > 0).then(|| med as f64 / floor_ms as f64);
    serde_json::json!({
        "scenario": sc.name,
        "description": sc.what,
        "brokers": sc.brokers,
        "rtt_ms": rtt,
        "tool": tool,
        "median_ms": med,
        "min_ms": ms.iter().min(),
        "max_ms": ms.iter().max(),
        "runs_ms": ms,
        "ok_runs": runs.iter().filter(|r| r.ok).count(),
        "floor": floor,
        "floor_ms": floor_ms,
        "multiple_of_floor": multiple.map(|m| (m * 100.0).round() / 100.0),
        "kreach_report_ms": median(runs.iter().filter_map(|r| r.report_ms).collect()),
        "parity_ms": median(runs.iter().filter_map(|r| r.parity_ms).collect()),
        "peak_rss_kib": runs.iter().filter_map(|r| r.rss_kib).max(),
        "deadline_s": timeout,
        "kreach_codes": runs.last().map(|r| r.codes.clone()).unwrap_or_default(),
    })
}

/// One row of the table (the form docs/performance.md keeps).
fn line(row: &serde_json::Value) -> String {
    let multiple = match (row["multiple_of_floor"].as_f64(), row["floor"].as_str()) {
        (Some(m), Some(floor)) => format!("{m:.2}x of {floor}"),
        _ => "-".to_string(),
    };
    let own: Vec<String> = [
        row["parity_ms"].as_u64().map(|p| format!("librdkafka {p} ms")),
        row["peak_rss_kib"].as_u64().map(|rss| format!("{} MB", rss / 1024)),
        row["kreach_codes"]
            .as_array()
            .filter(|codes| !codes.is_empty())
            .map(|codes| codes.iter().filter_map(|c| c.as_str()).collect::<Vec<_>>().join(" ")),
    ]
    .into_iter()
    .flatten()
    .collect();
    format!(
        "| {} | {} | {} | {} | {}/{} | {multiple} | {} |",
        row["scenario"].as_str().unwrap_or_default(),
        row["rtt_ms"],
        row["tool"].as_str().unwrap_or_default(),
        row["median_ms"],
        row["ok_runs"],
        row["runs_ms"].as_array().map_or(0, Vec::len),
        own.join(", "),
    )
}

fn table(rows: &[serde_json::Value], cli: &Cli) -> String {
    let mut out = format!(
        "Median of {} runs; every tool's deadline {} s ({} s, kreach's default, for the immediate failures); \
         floor: {FLOOR_RTT} round trips when healthy, the deadline when blackholed, 1 s for an immediate failure.\n\n",
        cli.runs,
        cli.timeout,
        kreach::DEFAULT_TIMEOUT.as_secs()
    );
    out.push_str(
        "| scenario | RTT ms | tool | median ms | tool succeeded | multiple of floor | kreach: librdkafka stage, peak RSS, verdict |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|\n");
    for row in rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpus} cores, Linux {}", kernel.trim())
}

//! `kreach-bench oauth`: what SASL OAUTHBEARER with OIDC costs beside SASL PLAIN, on the netns
//! lab with injected round-trip time. The same brokers offer both mechanisms (each behind a SASL
//! front: PLAIN against fixed credentials, OAUTHBEARER against the identity provider's JWKS); the
//! identity provider (oauth2-mock-server over HTTPS) listens inside the namespace on an address
//! the latency applies to, as a provider reached through a NAT would be. kreach fetches its token
//! beside the bootstrap's DNS, TCP and TLS: a healthy OAuth run should cost at most one round
//! trip more than a PLAIN one.

use std::path::Path;
use std::time::{Duration, Instant};

use kreach_testkit::{BOOTSTRAP_HOST, Fault, NetnsLab, PRIVATE_CIDR, Shape};

/// Where the identity provider listens inside the namespace (in the range the latency covers).
const IDP_ADDR: &str = "127.10.9.20";
const CLIENT_ID: &str = "kreach-bench";
const CLIENT_SECRET: &str = "bench-client-secret";
const SCOPE: &str = "kafka";
const PLAIN: (&str, &str) = ("bench", "bench-password");

/// Times PLAIN and OAUTHBEARER runs at each round-trip time; prints a table.
pub fn bench(kreach: &Path, runs: usize, rtts: &[u64]) -> Result<(), String> {
    let root = kreach_testkit::workspace_root();
    let module = root.join("target/lab-peers/oauth/node_modules/oauth2-mock-server/dist/index.js");
    if !module.exists() {
        return Err(format!("{} is missing: run scripts/setup.sh", module.display()));
    }
    let scratch = std::env::temp_dir().join(format!("kreach-bench-oauth-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let idp_file = scratch.join("idp.json");
    let mut rows = Vec::new();
    for &rtt in rtts {
        let _ = std::fs::remove_file(&idp_file);
        let shape = Shape {
            brokers: 6,
            mock_kafka_args: vec!["mock-kafka-sasl".into()],
            helper_env: vec![
                (kreach_testkit::MOCK_SASL_PLAIN_ENV.into(), format!("{}:{}", PLAIN.0, PLAIN.1)),
                (kreach_testkit::MOCK_SASL_IDP_ENV.into(), idp_file.display().to_string()),
            ],
        };
        let mut lab = NetnsLab::start_with(Fault::None, &kreach.display().to_string(), &shape)?;
        let (token_url, ca_file) = start_idp(&mut lab, &module, &idp_file)?;
        if rtt > 0 {
            lab.add_latency(Duration::from_millis(rtt), &["delay".to_string()])?;
        }
        // Both files keep connections idle less than the endpoint does: no client-setting warning.
        let plain = format!(
            "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username={}\nsasl.password={}\n\
             connections.max.idle.ms=300000\n",
            PLAIN.0, PLAIN.1
        );
        let oauth = format!(
            "security.protocol=SASL_SSL\nconnections.max.idle.ms=300000\nsasl.mechanism=OAUTHBEARER\n\
             sasl.oauthbearer.method=oidc\n\
             sasl.oauthbearer.token.endpoint.url={token_url}\nsasl.oauthbearer.client.id={CLIENT_ID}\n\
             sasl.oauthbearer.client.secret={CLIENT_SECRET}\nsasl.oauthbearer.scope={SCOPE}\n"
        );
        for (mechanism, properties) in [("PLAIN", plain), ("OAUTHBEARER", oauth)] {
            let file = lab.dir.path().join(format!("{mechanism}.properties"));
            std::fs::write(&file, properties).map_err(|e| e.to_string())?;
            let args: Vec<String> = [
                "check",
                "--bootstrap",
                &format!("{BOOTSTRAP_HOST}:9092"),
                "--private-cidr",
                PRIVATE_CIDR,
                "--ca-file",
                &ca_file,
                "--config",
                &file.display().to_string(),
                "--no-client-check",
                "--output",
                "json",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            let mut wall = Vec::new();
            let mut passed = 0;
            for _ in 0..runs {
                let started = Instant::now();
                let (_, stdout, stderr, _) = lab.kreach(&args);
                wall.push(started.elapsed().as_millis() as u64);
                let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
                if report["status"] == "pass" {
                    passed += 1;
                } else {
                    let codes: Vec<&str> = report["findings"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                        .iter()
                        .filter(|f| f["severity"] != "info")
                        .filter_map(|f| f["code"].as_str())
                        .collect();
                    eprintln!("{mechanism} at {rtt} ms: {} {codes:?} {stderr}", report["status"]);
                }
            }
            wall.sort_unstable();
            let median = wall[wall.len() / 2];
            eprintln!("{mechanism:<12} rtt {rtt:>3} ms  median {median:>5} ms  passed {passed}/{runs}");
            rows.push((mechanism, rtt, median, passed));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!("| mechanism | RTT ms | median ms | passed | beyond PLAIN |");
    println!("|---|---|---|---|---|");
    for (mechanism, rtt, median, passed) in &rows {
        let plain = rows.iter().find(|r| r.0 == "PLAIN" && r.1 == *rtt).map_or(*median, |r| r.2);
        let beyond = if *mechanism == "PLAIN" {
            String::new()
        } else if *rtt > 0 {
            format!(
                "{:+} ms ({:+.1} RTT)",
                *median as i64 - plain as i64,
                (*median as f64 - plain as f64) / *rtt as f64
            )
        } else {
            format!("{:+} ms", *median as i64 - plain as i64)
        };
        println!("| {mechanism} | {rtt} | {median} | {passed}/{runs} | {beyond} |");
    }
    Ok(())
}

/// Starts the identity provider inside the lab's namespace; its token URL and a CA file that
/// trusts both it and the lab's endpoint.
fn start_idp(lab: &mut NetnsLab, module: &Path, idp_file: &Path) -> Result<(String, String), String> {
    let added = lab.exec(&["ip", "addr", "add", &format!("{IDP_ADDR}/32"), "dev", "lo"]);
    if !added.status.success() {
        return Err(format!("ip addr add {IDP_ADDR}: {}", String::from_utf8_lossy(&added.stderr)));
    }
    let ca = kreach_lab::Ca::new("kreach bench identity provider CA").map_err(|e| e.to_string())?;
    let leaf = ca.leaf(&[IDP_ADDR], kreach_lab::Validity::Days(2)).map_err(|e| e.to_string())?;
    let dir = lab.dir.path().to_path_buf();
    let (key, cert) = (dir.join("idp-key.pem"), dir.join("idp-cert.pem"));
    std::fs::write(&key, &leaf.key_pem).map_err(|e| e.to_string())?;
    std::fs::write(&cert, &leaf.chain_pem).map_err(|e| e.to_string())?;
    let script = kreach_testkit::workspace_root().join("fixtures/oauth/idp.mjs");
    let (module, key, cert) = (module.display().to_string(), key.display().to_string(), cert.display().to_string());
    lab.spawn_with(
        "idp",
        &["node", &script.display().to_string()],
        &[
            ("IDP_MODULE", &module),
            ("IDP_KEY", &key),
            ("IDP_CERT", &cert),
            ("IDP_CLIENT_ID", CLIENT_ID),
            ("IDP_CLIENT_SECRET", CLIENT_SECRET),
            ("IDP_SCOPE", SCOPE),
            ("IDP_HOST", IDP_ADDR),
        ],
    )?;
    let started = Instant::now();
    let line = loop {
        if let Some(line) = lab.log("idp").lines().find(|l| l.starts_with('{')) {
            break line.to_string();
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err(format!("the identity provider did not start: {}", lab.log("idp")));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::fs::write(idp_file, &line).map_err(|e| e.to_string())?;
    let port = serde_json::from_str::<serde_json::Value>(&line).map_err(|e| e.to_string())?["port"]
        .as_u64()
        .ok_or("the provider named no port")?;
    let bundle = dir.join("trust.pem");
    let lab_ca = std::fs::read_to_string(lab.ca_file()).map_err(|e| e.to_string())?;
    std::fs::write(&bundle, format!("{lab_ca}\n{}", ca.cert_pem())).map_err(|e| e.to_string())?;
    Ok((format!("https://{IDP_ADDR}:{port}/token"), bundle.display().to_string()))
}

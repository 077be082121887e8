//! The report as metrics and as a page, read by the tools that consume them: the CloudWatch
//! embedded metric format checked against its specification's JSON schema and rules, the
//! Prometheus exposition checked by `promtool check metrics` (Prometheus's own linter, unpacked
//! from Debian's package by scripts/setup.sh), over the in-process lab's healthy and broken runs.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use kreach_testkit as support;

fn kreach(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kreach"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .envs(support::no_aws())
        .stdin(Stdio::null())
        .output()
        .expect("kreach");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn peer(name: &str) -> std::path::PathBuf {
    let path = support::workspace_root().join("target/lab-peers").join(name);
    assert!(path.exists(), "{} is missing: run scripts/setup.sh", path.display());
    path
}

/// Every line an EMF document the specification accepts: its JSON schema, and the rules the
/// schema cannot say — each dimension a string member of the root, each metric a number (or up
/// to 100 numbers), at most 100 metrics and 30 dimensions per directive.
fn check_emf(text: &str) -> Vec<serde_json::Value> {
    let schema_text =
        std::fs::read_to_string(support::workspace_root().join("fixtures/metrics/emf.schema.json")).expect("schema");
    let validator =
        jsonschema::validator_for(&serde_json::from_str(&schema_text).expect("json")).expect("schema compiles");
    let mut docs = Vec::new();
    for line in text.lines() {
        let doc: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not one JSON document ({e}): {line}"));
        let errors: Vec<String> =
            validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:#?}\n{line}");
        assert!(line.len() < 256 * 1024, "an EMF event is at most 256 KB");
        for directive in doc["_aws"]["CloudWatchMetrics"].as_array().expect("directives") {
            let metrics = directive["Metrics"].as_array().expect("metrics");
            assert!(metrics.len() <= 100);
            for m in metrics {
                let name = m["Name"].as_str().expect("name");
                let v = &doc[name];
                assert!(
                    v.is_number() || v.as_array().is_some_and(|a| a.len() <= 100 && a.iter().all(|x| x.is_number())),
                    "metric {name} has no numeric member: {line}"
                );
            }
            for set in directive["Dimensions"].as_array().expect("dimension sets") {
                let set = set.as_array().expect("set");
                assert!(set.len() <= 30);
                for d in set {
                    let name = d.as_str().expect("dimension name");
                    assert!(
                        doc[name].as_str().is_some_and(|v| !v.is_empty() && v.len() <= 1024),
                        "dimension {name} has no string member: {line}"
                    );
                }
            }
        }
        docs.push(doc);
    }
    docs
}

/// `promtool check metrics` on `text`: it exits 0 only for a well-formed exposition that follows
/// Prometheus's naming rules.
fn promtool(text: &str) {
    use std::io::Write;
    let mut child = Command::new(peer("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The samples of one family, by their label sets (`k="v",…`).
fn samples(text: &str, family: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (head, value) = l.rsplit_once(' ')?;
            let (name, labels) = head.split_once('{')?;
            (name == family).then(|| (labels.trim_end_matches('}').to_string(), value.parse().expect("value")))
        })
        .collect()
}

#[test]
fn prometheus_output_passes_promtool_and_says_which_zone_is_down() {
    let (code, healthy, stderr) = kreach(&["lab", "--output", "prometheus"]);
    assert_eq!(code, 0, "{stderr}");
    promtool(&healthy);
    let success = samples(&healthy, "kreach_check_success");
    assert_eq!(success.values().copied().collect::<Vec<_>>(), [1.0], "{healthy}");
    assert!(samples(&healthy, "kreach_zone_success").values().all(|v| *v == 1.0));

    let (code, down, _) = kreach(&["lab", "--fault", "az-down", "--timeout", "5", "--output", "prometheus"]);
    assert_eq!(code, 1, "the exit code still says fail");
    promtool(&down);
    assert_eq!(samples(&down, "kreach_check_success").values().copied().collect::<Vec<_>>(), [0.0]);
    let zones = samples(&down, "kreach_zone_success");
    let zone = |az: &str| zones.iter().find(|(k, _)| k.contains(&format!("zone=\"{az}\""))).map(|(_, v)| *v);
    assert_eq!((zone("usw2-az1"), zone("usw2-az2"), zone("usw2-az3")), (Some(1.0), Some(0.0), Some(1.0)), "{down}");
    let tcp = samples(&down, "kreach_stage_success");
    let broker_tcp = |az: &str| {
        tcp.iter()
            .find(|(k, _)| {
                k.contains("target_class=\"broker\"")
                    && k.contains(&format!("zone=\"{az}\""))
                    && k.contains("stage=\"tcp\"")
            })
            .map(|(_, v)| *v)
    };
    assert_eq!((broker_tcp("usw2-az1"), broker_tcp("usw2-az2")), (Some(1.0), Some(0.0)));
    let status = samples(&down, "kreach_check_status");
    assert_eq!(status.values().sum::<f64>(), 1.0, "exactly one status is 1: {status:?}");
    assert!(status.iter().any(|(k, v)| k.contains("status=\"fail\"") && *v == 1.0));
    let findings = samples(&down, "kreach_findings");
    assert!(
        findings.keys().any(|k| k.contains("code=\"zone-unreachable\"") && k.contains("severity=\"error\"")),
        "{findings:?}"
    );
}

#[test]
fn emf_output_follows_the_specification_and_carries_the_same_figures() {
    let (code, text, stderr) = kreach(&["lab", "--fault", "az-down", "--timeout", "5", "--output", "emf"]);
    assert_eq!(code, 1, "{stderr}");
    let docs = check_emf(&text);
    let check = docs.iter().find(|d| d.get("CheckSuccess").is_some()).expect("the run's line");
    assert_eq!((check["CheckSuccess"].as_u64(), check["Status"].as_str()), (Some(0), Some("fail")));
    assert!(check["_aws"]["Timestamp"].as_u64().is_some_and(|t| t > 1_700_000_000_000), "milliseconds since the epoch");
    let zone = |az: &str| {
        docs.iter().find(|d| d["Zone"] == az && d.get("ZoneSuccess").is_some()).map(|d| d["ZoneSuccess"].as_u64())
    };
    assert_eq!((zone("usw2-az1"), zone("usw2-az2")), (Some(Some(1)), Some(Some(0))));
    assert!(docs.iter().all(|d| d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Kreach"));
    assert!(docs.iter().any(|d| d["Code"] == "zone-unreachable" && d["Findings"].as_u64() == Some(1)));
    // The same stage verdicts as the Prometheus exposition, figure by figure.
    let (_, prom, _) = kreach(&["lab", "--fault", "az-down", "--timeout", "5", "--output", "prometheus"]);
    let stage = samples(&prom, "kreach_stage_success");
    let emf_stages: Vec<_> = docs.iter().filter(|d| d.get("StageSuccess").is_some()).collect();
    assert_eq!(emf_stages.len(), stage.len());
    for d in emf_stages {
        let key = format!(
            "target_class=\"{}\",zone=\"{}\",stage=\"{}\"",
            d["TargetClass"].as_str().expect("class"),
            d["Zone"].as_str().expect("zone"),
            d["Stage"].as_str().expect("stage")
        );
        let (_, v) =
            stage.iter().find(|(k, _)| k.ends_with(&key)).unwrap_or_else(|| panic!("{key} missing in {stage:?}"));
        assert_eq!(d["StageSuccess"].as_f64(), Some(*v), "{key}");
    }
}

/// One HTTP/1.1 GET to `addr`; the status code and body.
fn get(addr: &str, path: &str, extra: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n").expect("write");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read");
    let status = reply.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// `kreach serve` probed over loopback, the lab behind it: a probe of the configured cluster
/// answers a promtool-clean exposition; a host outside its domain is refused before any packet
/// goes there; a query that tries to carry settings is refused naming them; probes at once beyond
/// --max-concurrent wait for a slot and are all answered; a request that is not HTTP gets a 400.
#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_probes_like_the_blackbox_exporter() {
    use std::io::BufRead;
    let lab = kreach_lab::Lab::start(kreach_lab::Fault::None).await.expect("lab");
    let mut args: Vec<String> =
        ["serve", "--listen", "127.0.0.1:0", "--max-concurrent", "2", "--timeout", "5"].map(String::from).to_vec();
    args.extend(lab.check_args());
    let mut child = Command::new(env!("CARGO_BIN_EXE_kreach"))
        .args(&args)
        .envs(support::no_aws())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kreach serve");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("first line");
    let addr = first.split("http://").nth(1).and_then(|r| r.split('/').next()).expect("address").to_string();
    let bootstrap = lab.bootstrap.clone();
    let result = tokio::task::spawn_blocking(move || {
        let (code, body) =
            get(&addr, &format!("/probe?bootstrap={bootstrap}"), "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n");
        assert_eq!(code, 200, "{body}");
        promtool(&body);
        assert_eq!(samples(&body, "kreach_check_success").values().copied().collect::<Vec<_>>(), [1.0], "{body}");
        let (code, body) = get(&addr, "/probe", "");
        assert_eq!(code, 200, "the configured bootstrap is the default target: {body}");
        let (code, body) = get(&addr, "/probe?bootstrap=kafka.evil.example:9092", "");
        assert_eq!(code, 403, "{body}");
        assert!(body.contains("not a host this server may probe"), "{body}");
        let (code, body) = get(&addr, &format!("/probe?bootstrap={bootstrap}&sasl.password=hunter2"), "");
        assert_eq!(code, 400);
        assert!(body.contains("unknown query parameter `sasl.password`") && !body.contains("hunter2"), "{body}");
        let (code, _) = get(&addr, "/nowhere", "");
        assert_eq!(code, 404);
        // Four probes at once against two slots: each waits its turn inside its deadline.
        let many: Vec<_> = (0..4)
            .map(|_| {
                let (addr, bootstrap) = (addr.clone(), bootstrap.clone());
                std::thread::spawn(move || get(&addr, &format!("/probe?bootstrap={bootstrap}&timeout=5"), "").0)
            })
            .collect();
        let codes: Vec<u16> = many.into_iter().map(|t| t.join().expect("thread")).collect();
        assert_eq!(codes, [200, 200, 200, 200]);
        // Not HTTP at all.
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        s.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 0xff, 0xff, b'\r', b'\n', b'\r', b'\n']).expect("write");
        let mut reply = String::new();
        let _ = s.read_to_string(&mut reply);
        assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    result.expect("probes");
}

/// The broken nodes of a dumped page: `(hop, zone, codes)` of every `data-broken="true"` box.
fn broken_hops(dom: &str) -> Vec<(String, String, String)> {
    let attr = |tag: &str, name: &str| {
        tag.split(&format!("{name}=\"")).nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string()
    };
    dom.split("<g ")
        .skip(1)
        .filter_map(|g| g.split('>').next())
        .filter(|tag| tag.contains("data-broken=\"true\""))
        .map(|tag| (attr(tag, "data-hop"), attr(tag, "data-zone"), attr(tag, "data-codes")))
        .collect()
}

/// The HTML report as a person sees it, in headless Chromium (offline: inside a namespace with no
/// network, as root): it renders with no console message at all — no script error, no fetch the
/// page's policy had to block — the DOM marks exactly the broken hop of each lab (none when
/// healthy; usw2-az2's endpoint address and brokers for az-down; the zone for wildcard-missing),
/// and a screenshot of each is kept in target/test-artifacts/html/.
#[test]
fn html_report_renders_offline_with_the_broken_hop_marked() {
    let dir = support::workspace_root().join("target/test-artifacts/html");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    for fault in ["none", "az-down", "wildcard-missing"] {
        let (code, page, stderr) = kreach(&["lab", "--fault", fault, "--timeout", "5", "--output", "html"]);
        assert_eq!(code, i32::from(fault != "none"), "{fault}: {stderr}");
        // Self-contained: nothing that names another resource.
        for needle in ["src=", "href=", "url(", "@import", "<script", "<link", "<iframe"] {
            assert!(!page.contains(needle), "{fault}: the page contains {needle}");
        }
        assert!(page.contains("Content-Security-Policy") && page.contains("default-src 'none'"));
        let html = dir.join(format!("{fault}.html"));
        let png = dir.join(format!("{fault}.png"));
        std::fs::write(&html, &page).expect("write page");
        let _ = std::fs::remove_file(&png);
        let run = support::headless_chromium(&html, Some(&png));
        assert!(run.console.is_empty(), "{fault}: console messages: {:#?}", run.console);
        assert!(
            run.dom.contains("id=\"verdict\"") && run.dom.contains("<svg"),
            "{fault}: {}",
            &run.dom[..run.dom.len().min(400)]
        );
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 20_000, "{fault}: screenshot {} is {size} bytes", png.display());
        let broken = broken_hops(&run.dom);
        match fault {
            "none" => assert!(broken.is_empty(), "{broken:?}"),
            "az-down" => {
                let hops: Vec<(&str, &str)> = broken.iter().map(|(h, z, _)| (h.as_str(), z.as_str())).collect();
                assert_eq!(hops, [("endpoint", "usw2-az2"), ("brokers", "usw2-az2")], "{broken:?}");
                assert!(broken.iter().all(|(_, _, codes)| codes.contains("zone-unreachable")), "{broken:?}");
            }
            _ => {
                assert_eq!(broken.len(), 1, "{broken:?}");
                let (hop, _, codes) = &broken[0];
                assert_eq!(hop, "zone");
                assert!(codes.contains("dns-private-record-missing"), "{codes}");
            }
        }
    }
}

/// `kreach merge --output html`: the vantage × target grid of two real runs (healthy and az-down)
/// renders offline in Chromium with no console message, one column per vantage point and the
/// broken cells marked failed.
#[test]
fn merged_html_is_the_vantage_grid_and_renders_offline() {
    let dir = tempfile::tempdir().expect("dir");
    let (_, healthy, _) = kreach(&["lab", "--output", "json"]);
    let (_, down, _) = kreach(&["lab", "--fault", "az-down", "--timeout", "5", "--output", "json"]);
    let (a, b) = (dir.path().join("subnet-a.json"), dir.path().join("subnet-b.json"));
    std::fs::write(&a, healthy).expect("write");
    std::fs::write(&b, down).expect("write");
    let (code, page, stderr) =
        kreach(&["merge", &a.display().to_string(), &b.display().to_string(), "--output", "html"]);
    assert_eq!(code, 1, "{stderr}");
    let html = dir.path().join("merged.html");
    std::fs::write(&html, &page).expect("write");
    let run = support::headless_chromium(&html, None);
    assert!(run.console.is_empty(), "{:#?}", run.console);
    let header = run.dom.split("<thead>").nth(1).and_then(|t| t.split("</thead>").next()).expect("grid head");
    assert!(header.contains("subnet-a") && header.contains("subnet-b"), "{header}");
    assert!(run.dom.contains("class=\"s-fail\""), "a failed cell is marked");
    assert!(run.dom.contains("<li>"), "what differs is listed");
}

/// `kreach serve` refuses bad input at start, naming the flag, before it listens.
#[test]
fn serve_refuses_bad_input_at_start() {
    for (args, flag) in [
        (vec!["serve", "--listen", "nowhere"], "--listen"),
        (vec!["serve", "--listen", "127.0.0.1:0", "--timeout", "-3"], "--timeout"),
        (vec!["serve", "--listen", "127.0.0.1:0", "--bootstrap", "b:99999"], "--bootstrap"),
        (vec!["serve", "--listen", "127.0.0.1:0", "--watch", "5"], "--watch"),
    ] {
        let (code, _, stderr) = kreach(&args);
        assert!(code == 2 && stderr.contains(flag), "{args:?}: {stderr}");
    }
}

/// Two reports from one machine (both claim the vantage `local`) merged: every sample of the
/// exposition is a series of its own — the vantage label is each file's name, made unique (two
/// `report.json` from two folders: `report` and `report#2`) — and promtool accepts it. The EMF
/// lines carry the same names.
#[test]
fn merged_metrics_name_each_column_by_its_file_once() {
    let dir = tempfile::tempdir().expect("dir");
    let (_, healthy, _) = kreach(&["lab", "--output", "json"]);
    let (_, down, _) = kreach(&["lab", "--fault", "az-down", "--timeout", "5", "--output", "json"]);
    let mut paths = Vec::new();
    for (sub, json) in [("a", &healthy), ("b", &down)] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("dir");
        let path = dir.path().join(sub).join("report.json");
        std::fs::write(&path, json).expect("write");
        paths.push(path.display().to_string());
    }
    let (_, text, stderr) = kreach(&["merge", &paths[0], &paths[1], "--output", "prometheus"]);
    assert!(text.contains("kreach_check_success"), "{stderr}");
    promtool(&text);
    let series: Vec<&str> =
        text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s)).collect();
    let unique: std::collections::BTreeSet<&str> = series.iter().copied().collect();
    assert_eq!(unique.len(), series.len(), "a series written twice:\n{text}");
    let success = samples(&text, "kreach_check_success");
    let vantages: Vec<&str> = success.keys().filter_map(|k| k.split("vantage=\"").nth(1)?.split('"').next()).collect();
    assert_eq!(vantages, ["report", "report#2"], "{success:?}");
    let (_, emf, _) = kreach(&["merge", &paths[0], &paths[1], "--output", "emf"]);
    let named: std::collections::BTreeSet<String> = emf
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()?.get("Vantage")?.as_str().map(str::to_string))
        .collect();
    assert_eq!(named.into_iter().collect::<Vec<_>>(), ["report", "report#2"]);
}

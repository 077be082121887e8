//! The fleet benchmark: `kreach fleet` with N functions behind a loopback Lambda-API peer (it
//! answers the Invoke API with a report from a real lab run, each function after its own delay,
//! the slowest after `slowest_ms`). Goals: the N answered and merged within 1.5 × the slowest
//! single invocation, and for 500 answers of ~200 KB a peak memory under 300 MB. Then `kreach
//! merge` of N and of 10 N reports: its time per report should stay flat (linear growth).

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The peak resident memory (`VmHWM`) of a running process, read until it exits.
fn watch_peak(pid: u32) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
            if status.lines().any(|l| l.starts_with("State:") && l.contains("zombie")) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        peak
    })
}

pub(crate) fn bench(kreach: &Path, vantages: usize, slowest_ms: u64, brokers: usize) -> Result<(), String> {
    let lab = Command::new(kreach)
        .args(["lab", "--output", "json", "--brokers", &brokers.to_string()])
        .output()
        .map_err(|e| format!("kreach lab: {e}"))?;
    let report = String::from_utf8_lossy(&lab.stdout).into_owned();
    serde_json::from_str::<serde_json::Value>(&report).map_err(|e| format!("kreach lab gave no report: {e}"))?;
    // A listen queue for the whole fleet at once (std's 128 would drop SYNs, and each dropped SYN
    // costs a second: the peer's limit, not the fleet's).
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).map_err(|e| e.to_string())?;
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?;
    socket.bind(&any.into()).map_err(|e| e.to_string())?;
    socket.listen(4096).map_err(|e| e.to_string())?;
    let listener: std::net::TcpListener = socket.into();
    let url = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    let body = std::sync::Arc::new(report.clone());
    let n = vantages.max(1) as u64;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let body = body.clone();
            std::thread::spawn(move || serve(stream, &body, n, slowest_ms));
        }
    });
    let mut args: Vec<String> = vec!["fleet".into()];
    for i in 0..vantages {
        args.extend(["--function".into(), format!("kreach-v{i}")]);
    }
    args.extend(["--bootstrap", "lkc-x.example:9092", "--timeout", "30", "--output", "json"].map(String::from));
    let started = Instant::now();
    let child = Command::new(kreach)
        .args(&args)
        .env("AWS_ENDPOINT_URL", &url)
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_REGION", "us-west-2")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("kreach fleet: {e}"))?;
    let peak = watch_peak(child.id());
    let out = child.wait_with_output().map_err(|e| format!("kreach fleet: {e}"))?;
    let took = started.elapsed();
    let peak_mb = peak.join().unwrap_or(0) as f64 / 1024.0;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("kreach fleet gave no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))?;
    let answered = v["invocations"].as_array().map_or(0, |r| r.iter().filter(|r| r["outcome"] == "report").count());
    let ratio = took.as_secs_f64() / Duration::from_millis(slowest_ms).as_secs_f64();
    println!(
        "fleet: {answered}/{vantages} answered ({} KB each) and merged in {} ms; slowest invocation {slowest_ms} ms: \
         {ratio:.2}x (goal ≤ 1.5x); peak memory {peak_mb:.0} MB",
        report.len() / 1024,
        took.as_millis()
    );
    // The merge alone, N and 10 N reports.
    let dir = tempdir()?;
    let mut per_report = Vec::new();
    for count in [vantages, vantages * 10] {
        let mut files = Vec::new();
        for i in 0..count {
            let path = dir.join(format!("v{i}.json"));
            if !path.exists() {
                std::fs::write(&path, &report).map_err(|e| e.to_string())?;
            }
            files.push(path.display().to_string());
        }
        let started = Instant::now();
        let out = Command::new(kreach)
            .arg("merge")
            .args(&files)
            .args(["--output", "json"])
            .output()
            .map_err(|e| e.to_string())?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if out.stdout.is_empty() {
            return Err(format!("kreach merge: {}", String::from_utf8_lossy(&out.stderr)));
        }
        println!("merge: {count} reports in {ms:.0} ms ({:.2} ms per report)", ms / count as f64);
        per_report.push(ms / count as f64);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "merge growth: {:.2}x per report from {vantages} to {} reports (1.0 is linear)",
        per_report[1] / per_report[0],
        vantages * 10
    );
    Ok(())
}

/// One Invoke call: the report after the function's delay (function `kreach-v<i>` waits
/// `slowest · (i + 1) / n`).
fn serve(mut s: std::net::TcpStream, body: &str, n: u64, slowest_ms: u64) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while !String::from_utf8_lossy(&buf[..got]).contains("\r\n\r\n") {
        match s.read(&mut buf[got..]) {
            Ok(0) | Err(_) => return,
            Ok(k) => got += k,
        }
    }
    let head = String::from_utf8_lossy(&buf[..got]).to_string();
    let i: u64 = head
        .split("/functions/kreach-v")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    std::thread::sleep(Duration::from_millis(slowest_ms * (i + 1) / n));
    let _ = write!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn tempdir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("kreach-bench-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

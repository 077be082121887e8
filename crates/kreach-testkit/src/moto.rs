//! moto server (the AWS API emulator installed by scripts/setup.sh) on a free loopback port, and
//! the account fixture tests/aws/moto_account.py that plants resources in it with boto3.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server; stops when dropped.
pub struct Moto {
    child: Child,
    /// Working directory and recorder file of this server alone (parallel tests share nothing).
    _dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    root: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto from `root`'s lab peers (the workspace root).
    pub fn start(root: &Path) -> Moto {
        let bin = root.join("target/lab-peers/venv/bin/moto_server");
        assert!(bin.exists(), "{} is missing: run scripts/setup.sh (installs moto server)", bin.display());
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        let dir = tempfile::tempdir().expect("moto dir");
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(dir.path())
            .env("MOTO_RECORDER_FILEPATH", dir.path().join("recording"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "moto did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto { child, _dir: dir, url: format!("http://{addr}"), root: root.to_path_buf() }
    }

    /// Asks moto's instance metadata service for a token once, without a short timeout: moto loads
    /// its services lazily, so its first answer can take longer than kreach's 400 ms IMDS limit
    /// while other tests load the machine. (Real IMDS answers in about a millisecond.)
    #[allow(dead_code)] // used by the CLI tests only
    pub fn warm_up_imds(&self) {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).expect("moto");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        let request = format!(
            "PUT /latest/api/token HTTP/1.1\r\nHost: {addr}\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).expect("write");
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        assert!(reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200"), "moto IMDS: {reply}");
    }

    /// Runs a Python script of the repo with the lab venv's interpreter.
    pub fn python(&self, script: &str, args: &[&str]) -> std::process::Output {
        Command::new(self.root.join("target/lab-peers/venv/bin/python"))
            .arg(self.root.join(script))
            .args(args)
            .output()
            .expect("python")
    }

    /// Plants an account (`healthy` or a fault) for `domain`; returns the fixture's ids.
    pub fn plant(&self, scenario: &str, domain: &str) -> serde_json::Value {
        let out = self.python("tests/aws/moto_account.py", &[&self.url, scenario, domain]);
        assert!(out.status.success(), "fixture {scenario}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("fixture JSON")
    }
}

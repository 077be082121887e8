//! moto server (the AWS API emulator installed by scripts/setup.sh) on a free loopback port, and
//! the account fixture fixtures/aws/moto_account.py that plants resources in it with boto3.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Recorded answers for the Route 53 Resolver DNS Firewall actions, which moto does not
/// implement: `(action, a text the request body contains, the answer)`, first match wins.
type Recorded = Arc<Mutex<Vec<(String, String, serde_json::Value)>>>;

/// A running moto server; stops when dropped. Tests reach it through a loopback front that
/// passes every request to moto, except the DNS Firewall actions moto lacks: those get the
/// recorded answers a test gave ([`Moto::record_firewall`]), an empty association list by default.
pub struct Moto {
    child: Child,
    recorded: Recorded,
    /// The DNS Firewall actions asked, with their bodies.
    recorded_asked: Arc<Mutex<Vec<(String, String)>>>,
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
        // moto_server's own main, through a launcher that mends the one answer shape of moto's
        // that AWS never sends and the SDK refuses (fixtures/aws/moto_serve.py says which).
        let python = root.join("target/lab-peers/venv/bin/python");
        let launcher = root.join("fixtures/aws/moto_serve.py");
        // A free port is picked, released and then bound by moto: another test may take it in
        // between. Moto exits when it cannot bind; the start is then tried again on another port.
        let dir = tempfile::tempdir().expect("moto dir");
        let (child, addr) = (0..5)
            .find_map(|_| {
                let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
                let mut child = Command::new(&python)
                    .arg(&launcher)
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
                loop {
                    if child.try_wait().ok().flatten().is_some() {
                        return None;
                    }
                    if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                        // Still running after the port answered: it is moto that answers.
                        std::thread::sleep(Duration::from_millis(100));
                        return child.try_wait().ok().flatten().is_none().then_some((child, addr));
                    }
                    assert!(started.elapsed() < Duration::from_secs(20), "moto did not start");
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
            .expect("moto server started on a free port within five tries");
        let recorded: Recorded = Arc::default();
        let recorded_asked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let front = TcpListener::bind("127.0.0.1:0").expect("front");
        let url = format!("http://{}", front.local_addr().expect("front addr"));
        let (rec, asked) = (recorded.clone(), recorded_asked.clone());
        std::thread::spawn(move || {
            for stream in front.incoming().flatten() {
                let (rec, asked) = (rec.clone(), asked.clone());
                std::thread::spawn(move || front_connection(stream, addr, &rec, &asked));
            }
        });
        Moto { child, recorded, recorded_asked, _dir: dir, url, root: root.to_path_buf() }
    }

    /// Answers DNS Firewall `action` (`ListFirewallRules`) with `answer` when the request body
    /// contains `when` (empty: always); or, for an `action` like `GET /v1/vpc-connection`, a REST
    /// request whose path starts so and contains `when`. moto has neither the DNS Firewall API
    /// nor MSK's VPC connections; these stand for AWS's answers, in the documented shape.
    pub fn record_firewall(&self, action: &str, when: &str, answer: serde_json::Value) {
        if let Ok(mut r) = self.recorded.lock() {
            r.push((action.to_string(), when.to_string(), answer));
        }
    }

    /// Answers the EC2 Query action `action` (`DescribeNetworkInterfacePermissions`) with the XML
    /// `answer` when the form body contains `when` (URL-encoded, as sent; empty: always). moto has
    /// no network-interface permissions and cannot attach an interface to another account's
    /// instance; these stand for EC2's answers, in the shape its API reference documents.
    pub fn record_ec2(&self, action: &str, when: &str, answer: &str) {
        if let Ok(mut r) = self.recorded.lock() {
            r.push((format!("ec2:{action}"), when.to_string(), serde_json::Value::String(answer.to_string())));
        }
    }

    /// Answers CloudTrail's `action` (`LookupEvents`) with `answer` when the request body contains
    /// `when` (the latest such recording: what CloudTrail holds now); without one, no events. moto
    /// has no CloudTrail lookups: these stand for CloudTrail's answers, in the shape its API
    /// reference documents.
    pub fn record_cloudtrail(&self, action: &str, when: &str, answer: serde_json::Value) {
        if let Ok(mut r) = self.recorded.lock() {
            r.push((format!("cloudtrail:{action}"), when.to_string(), answer));
        }
    }

    /// The recorded actions asked so far (DNS Firewall actions, recorded REST paths), with their
    /// request bodies or paths.
    pub fn recorded_asked(&self) -> Vec<(String, String)> {
        self.recorded_asked.lock().map(|a| a.clone()).unwrap_or_default()
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
        let out = self.python("fixtures/aws/moto_account.py", &[&self.url, scenario, domain]);
        assert!(out.status.success(), "fixture {scenario}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("fixture JSON")
    }
}

/// A CloudTrail event in `LookupEvents`' shape (`EventId`, `EventName`, `ReadOnly`, `EventTime`,
/// `Resources`, `CloudTrailEvent` as a JSON string), made `minutes_ago` by a session of role
/// `principal`; `resource` is the one its record lists (none: a call whose record names no
/// resource, found only by its request's parameters).
pub fn cloudtrail_event(
    name: &str,
    read_only: bool,
    minutes_ago: i64,
    resource: Option<&str>,
    principal: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let record = serde_json::json!({
        "eventVersion": "1.09", "eventSource": "ec2.amazonaws.com", "eventName": name, "readOnly": read_only,
        "userIdentity": {"type": "AssumedRole", "arn": format!("{principal}/session-1"),
                         "sessionContext": {"sessionIssuer": {"type": "Role", "arn": principal}}},
        "requestParameters": params,
    });
    let resources: Vec<serde_json::Value> = resource
        .map(|r| serde_json::json!({"ResourceType": "AWS::EC2::SecurityGroup", "ResourceName": r}))
        .into_iter()
        .collect();
    serde_json::json!({
        "EventId": format!("ev-{name}-{minutes_ago}"), "EventName": name, "ReadOnly": read_only.to_string(),
        "EventTime": now - minutes_ago * 60, "EventSource": "ec2.amazonaws.com", "Username": "session-1",
        "Resources": resources, "CloudTrailEvent": record.to_string(),
    })
}

/// Largest request or answer the front passes (moto's answers to the audit are small).
const MAX_MESSAGE: usize = 16 << 20;

/// One connection to the front: each request is answered from the recordings (DNS Firewall
/// actions) or passed to moto on a fresh connection, and the answer handed back with
/// `Connection: close`.
fn front_connection(
    mut client: TcpStream,
    moto: SocketAddr,
    recorded: &Recorded,
    asked: &Mutex<Vec<(String, String)>>,
) {
    use std::io::{Read, Write};
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let Some((head, body)) = read_message(&mut client) else { return };
    let head_text = String::from_utf8_lossy(&head).to_string();
    let target = head_text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case("x-amz-target").then(|| v.trim().to_string())
    });
    if let Some(action) =
        target.as_deref().and_then(|t| t.strip_prefix("Route53Resolver.")).filter(|a| a.contains("Firewall"))
    {
        let body_text = String::from_utf8_lossy(&body).to_string();
        if let Ok(mut a) = asked.lock() {
            a.push((action.to_string(), body_text.clone()));
        }
        let found = recorded.lock().ok().and_then(|r| {
            r.iter()
                .find(|(act, when, _)| act == action && body_text.contains(when.as_str()))
                .map(|(_, _, v)| v.clone())
        });
        let (status, answer) = match (found, action) {
            (Some(v), _) => ("200 OK", v),
            (None, "ListFirewallRuleGroupAssociations") => {
                ("200 OK", serde_json::json!({"FirewallRuleGroupAssociations": []}))
            }
            (None, _) => (
                "400 Bad Request",
                serde_json::json!({"__type": "ResourceNotFoundException", "Message": "no such resource"}),
            ),
        };
        let _ = client.write_all(&json_reply(status, "application/x-amz-json-1.1", &answer));
        return;
    }
    // An EC2 Query action a test recorded an answer for (what moto lacks of EC2).
    let body_text = String::from_utf8_lossy(&body).to_string();
    if let Some(action) = body_text.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        let key = format!("ec2:{action}");
        let found = recorded.lock().ok().and_then(|r| {
            r.iter().find(|(act, when, _)| *act == key && body_text.contains(when.as_str())).map(|(_, _, v)| v.clone())
        });
        if let Some(serde_json::Value::String(xml)) = found {
            if let Ok(mut a) = asked.lock() {
                a.push((key, body_text.clone()));
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                xml.len()
            );
            let _ = client.write_all(reply.as_bytes());
            return;
        }
    }
    // CloudTrail, which moto lacks: the recorded answer whose `when` the body contains, else no events.
    if let Some(action) = target.as_deref().and_then(|t| t.split_once("CloudTrail_20131101.").map(|(_, action)| action))
    {
        let key = format!("cloudtrail:{action}");
        if let Ok(mut a) = asked.lock() {
            a.push((key.clone(), body_text.clone()));
        }
        let found = recorded.lock().ok().and_then(|r| {
            r.iter().rfind(|(act, when, _)| *act == key && body_text.contains(when.as_str())).map(|(_, _, v)| v.clone())
        });
        let answer = found.unwrap_or_else(|| serde_json::json!({"Events": []}));
        let _ = client.write_all(&json_reply("200 OK", "application/x-amz-json-1.1", &answer));
        return;
    }
    // A REST call a test recorded an answer for (the MSK VPC connection reads moto lacks).
    let mut request_line = head_text.lines().next().unwrap_or("").split(' ');
    let (method, path) = (request_line.next().unwrap_or(""), request_line.next().unwrap_or(""));
    let key = format!("{method} {}", path.split('?').next().unwrap_or(""));
    let rest = recorded.lock().ok().and_then(|r| {
        r.iter()
            .find(|(act, when, _)| act.contains(' ') && key.starts_with(act.as_str()) && path.contains(when.as_str()))
            .map(|(_, _, v)| v.clone())
    });
    if let Some(answer) = rest {
        if let Ok(mut a) = asked.lock() {
            a.push((key.clone(), path.to_string()));
        }
        let _ = client.write_all(&json_reply("200 OK", "application/json", &answer));
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(moto) else { return };
    let _ = upstream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut forwarded = closing(&head_text);
    forwarded.extend_from_slice(&body);
    if upstream.write_all(&forwarded).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = upstream.take(MAX_MESSAGE as u64).read_to_end(&mut answer);
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(answer.len(), |p| p + 4);
    let (answer_head, answer_body) = answer.split_at(split);
    let mut reply = closing(&String::from_utf8_lossy(answer_head));
    reply.extend_from_slice(answer_body);
    let _ = client.write_all(&reply);
}

/// A message head with its `Connection` header replaced by `Connection: close`, and the blank line.
fn closing(head: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:")) {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// A recorded JSON answer as a whole HTTP response.
fn json_reply(status: &str, content_type: &str, answer: &serde_json::Value) -> Vec<u8> {
    let text = answer.to_string();
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )
    .into_bytes()
}

/// A request's head and its `Content-Length` body.
fn read_message(stream: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_MESSAGE {
            return None;
        }
    };
    let head = buf[..end].to_vec();
    let length = String::from_utf8_lossy(&head)
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0)
        .min(MAX_MESSAGE);
    let mut body = buf[end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some((head, body))
}

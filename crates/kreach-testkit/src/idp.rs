//! A real OIDC identity provider on loopback: npm's oauth2-mock-server (installed by
//! scripts/setup.sh) run by fixtures/oauth/idp.mjs over HTTPS with a certificate from a test CA,
//! with one registered client.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use kreach_lab::{Ca, Validity};

/// A running identity provider; stops when dropped.
pub struct Idp {
    child: Child,
    _dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its issuer URL.
    pub issuer: String,
    /// Its signing keys, as its JWKS lists them.
    pub jwks: serde_json::Value,
}

impl Idp {
    /// The client-credentials token endpoint.
    pub fn token_url(&self) -> String {
        format!("https://127.0.0.1:{}/token", self.port)
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the provider with a certificate for 127.0.0.1 from `ca`, accepting client `id` with
/// `secret` and scope `scope`.
pub fn start_idp(ca: &Ca, id: &str, secret: &str, scope: &str) -> Idp {
    let root = crate::workspace_root();
    let module = root.join("target/lab-peers/oauth/node_modules/oauth2-mock-server/dist/index.js");
    assert!(module.exists(), "{} is missing: run scripts/setup.sh (it installs oauth2-mock-server)", module.display());
    let dir = tempfile::tempdir().expect("dir");
    let leaf = ca.leaf(&["127.0.0.1"], Validity::Days(30)).expect("leaf");
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    std::fs::write(&key, &leaf.key_pem).expect("key");
    std::fs::write(&cert, &leaf.chain_pem).expect("cert");
    let mut child = Command::new("node")
        .arg(root.join("fixtures/oauth/idp.mjs"))
        .env("IDP_MODULE", &module)
        .env("IDP_KEY", &key)
        .env("IDP_CERT", &cert)
        .env("IDP_CLIENT_ID", id)
        .env("IDP_CLIENT_SECRET", secret)
        .env("IDP_SCOPE", scope)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("the provider's first line");
    let started: serde_json::Value = serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let port = started["port"].as_u64().expect("port") as u16;
    let issuer = started["issuer"].as_str().unwrap_or_default().to_string();
    let jwks = started["keys"].clone();
    Idp { child, _dir: dir, port, issuer, jwks }
}

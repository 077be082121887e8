//! SASL client messages: PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802, RFC 7677).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::{digest, hmac, pbkdf2, rand::SecureRandom};

/// The PLAIN message: `\0user\0password`.
pub fn plain(username: &str, password: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(username.len() + password.len() + 2);
    out.push(0);
    out.extend_from_slice(username.as_bytes());
    out.push(0);
    out.extend_from_slice(password.as_bytes());
    out
}

/// Which SCRAM hash.
#[derive(Clone, Copy, Debug)]
pub enum ScramHash {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl ScramHash {
    fn hmac(self) -> hmac::Algorithm {
        match self {
            ScramHash::Sha256 => hmac::HMAC_SHA256,
            ScramHash::Sha512 => hmac::HMAC_SHA512,
        }
    }
    fn digest(self) -> &'static digest::Algorithm {
        match self {
            ScramHash::Sha256 => &digest::SHA256,
            ScramHash::Sha512 => &digest::SHA512,
        }
    }
    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            ScramHash::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            ScramHash::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }
}

/// A SCRAM exchange in progress.
pub struct Scram {
    hash: ScramHash,
    password: String,
    client_first_bare: String,
    nonce: String,
    server_signature: Option<Vec<u8>>,
}

/// Most PBKDF2 iterations accepted from a server: Kafka's own maximum for SCRAM credentials. A
/// hostile server could ask for billions, and the derivation runs on the probe's own time.
const MAX_ITERATIONS: u32 = 16_384;

impl Scram {
    /// Starts an exchange; returns it and the client-first message.
    pub fn start(hash: ScramHash, username: &str, password: &str) -> Result<(Scram, Vec<u8>), String> {
        let mut raw = [0u8; 24];
        ring::rand::SystemRandom::new().fill(&mut raw).map_err(|_| "no randomness for the SCRAM nonce".to_string())?;
        let nonce = B64.encode(raw);
        let user = username.replace('=', "=3D").replace(',', "=2C");
        let client_first_bare = format!("n={user},r={nonce}");
        let first = format!("n,,{client_first_bare}").into_bytes();
        Ok((Scram { hash, password: password.to_string(), client_first_bare, nonce, server_signature: None }, first))
    }

    /// Answers the server-first message with the client-final message.
    pub fn respond(&mut self, server_first: &[u8]) -> Result<Vec<u8>, String> {
        let server_first = std::str::from_utf8(server_first).map_err(|_| "server-first is not UTF-8")?;
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for part in server_first.split(',') {
            match part.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(B64.decode(v).map_err(|_| "server salt is not base64")?),
                Some(("i", v)) => iterations = v.parse::<u32>().ok(),
                Some(("e", v)) => return Err(format!("server error: {v}")),
                _ => {}
            }
        }
        let nonce = nonce.ok_or("server-first has no nonce")?;
        if !nonce.starts_with(&self.nonce) {
            return Err("server nonce does not extend ours".into());
        }
        let salt = salt.ok_or("server-first has no salt")?;
        let iterations = iterations.ok_or("server-first has no valid iteration count")?;
        if !(1..=MAX_ITERATIONS).contains(&iterations) {
            return Err(format!(
                "the server asks for {iterations} PBKDF2 iterations, beyond {MAX_ITERATIONS} (Kafka's maximum)"
            ));
        }
        let len = self.hash.digest().output_len();
        let mut salted = vec![0u8; len];
        pbkdf2::derive(
            self.hash.pbkdf2(),
            std::num::NonZeroU32::new(iterations).ok_or("bad iteration count")?,
            &salt,
            self.password.as_bytes(),
            &mut salted,
        );
        let salted_key = hmac::Key::new(self.hash.hmac(), &salted);
        let client_key = hmac::sign(&salted_key, b"Client Key");
        let stored_key = digest::digest(self.hash.digest(), client_key.as_ref());
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let signature = hmac::sign(&hmac::Key::new(self.hash.hmac(), stored_key.as_ref()), auth_message.as_bytes());
        let proof: Vec<u8> = client_key.as_ref().iter().zip(signature.as_ref()).map(|(a, b)| a ^ b).collect();
        let server_key = hmac::sign(&salted_key, b"Server Key");
        self.server_signature = Some(
            hmac::sign(&hmac::Key::new(self.hash.hmac(), server_key.as_ref()), auth_message.as_bytes())
                .as_ref()
                .to_vec(),
        );
        Ok(format!("{without_proof},p={}", B64.encode(proof)).into_bytes())
    }

    /// Checks the server-final message (the server proves it knew the password too).
    pub fn verify(&self, server_final: &[u8]) -> Result<(), String> {
        let text = std::str::from_utf8(server_final).map_err(|_| "server-final is not UTF-8")?;
        if let Some(e) = text.strip_prefix("e=") {
            return Err(format!("server error: {e}"));
        }
        let v = text.strip_prefix("v=").ok_or("server-final has no verifier")?;
        let got = B64.decode(v.split(',').next().unwrap_or("")).map_err(|_| "server verifier is not base64")?;
        match &self.server_signature {
            Some(expected) if *expected == got => Ok(()),
            _ => Err("the server's signature does not match: it does not know this password".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_asking_for_billions_of_iterations_is_refused_before_deriving() {
        let (mut scram, _) = Scram::start(ScramHash::Sha512, "u", "p").expect("start");
        let server_first = format!("r={}xyz,s=c2FsdA==,i=2000000000", scram.nonce);
        let err = scram.respond(server_first.as_bytes()).expect_err("refused");
        assert!(err.contains("2000000000") && err.contains("16384"), "{err}");
        let server_first = format!("r={}xyz,s=c2FsdA==,i=4096", scram.nonce);
        assert!(scram.respond(server_first.as_bytes()).is_ok(), "Kafka's default is fine");
    }

    #[test]
    fn plain_message_layout() {
        assert_eq!(plain("key", "secret"), b"\0key\0secret".to_vec());
    }

    /// RFC 7677 section 3 test vector (SCRAM-SHA-256), with the client nonce fixed.
    #[test]
    fn scram_sha256_matches_rfc7677() {
        let mut scram = Scram {
            hash: ScramHash::Sha256,
            password: "pencil".into(),
            client_first_bare: "n=user,r=rOprNGfwEbeRWgbNEkqO".into(),
            nonce: "rOprNGfwEbeRWgbNEkqO".into(),
            server_signature: None,
        };
        let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let client_final = scram.respond(server_first).expect("respond");
        assert_eq!(
            String::from_utf8(client_final).expect("utf8"),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert!(scram.verify(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").is_ok());
        assert!(scram.verify(b"v=AAAA").is_err());
        assert!(scram.verify(b"e=invalid-proof").is_err());
    }

    #[test]
    fn hostile_server_first_is_refused() {
        let (mut scram, _) = Scram::start(ScramHash::Sha512, "u", "p").expect("start");
        assert!(scram.respond(b"r=someone-else,s=AAAA,i=4096").is_err(), "foreign nonce");
        let ours = scram.nonce.clone();
        assert!(scram.respond(format!("r={ours}x,s=AAAA,i=4000000000").as_bytes()).is_err(), "iterations");
        assert!(scram.respond(b"\xff").is_err());
    }
}

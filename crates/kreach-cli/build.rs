//! The build's identity for `kreach --version`: the commit (`KREACH_COMMIT`, else git's HEAD, else
//! `unknown`) and the target triple.

fn main() {
    println!("cargo:rerun-if-env-changed=KREACH_COMMIT");
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
    let commit = std::env::var("KREACH_COMMIT").ok().filter(|c| !c.is_empty()).or_else(|| {
        std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|c| !c.is_empty())
    });
    println!("cargo:rustc-env=KREACH_COMMIT={}", commit.as_deref().unwrap_or("unknown"));
    println!("cargo:rustc-env=KREACH_TARGET={}", std::env::var("TARGET").unwrap_or_default());
}

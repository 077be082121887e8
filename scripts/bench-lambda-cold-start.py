#!/usr/bin/env python3
"""Benchmark: the Lambda function's cold start to report, in the local lab.

The release `bootstrap` binary (the function as deployed) runs under cargo-lambda's Lambda
runtime API emulator (`cargo lambda watch --only-lambda-apis`, prebuilt from its PyPI wheel,
sha256-checked), against `kreach lab --serve` (DNS server, TLS endpoint, mock brokers). Each run
starts a fresh `bootstrap` process and times from its spawn to the invocation's response: process
start, runtime API round trips, the whole diagnosis, the JSON report. Then one warm invocation of
the same process. Everything listens and connects on 127.0.0.1; no AWS credentials are passed, so
no AWS call is made.

Usage: python3 scripts/bench-lambda-cold-start.py [RUNS] [--no-build] [--bootstrap PATH] [--kreach PATH]
(builds the release binaries first; --bootstrap/--kreach time other builds, e.g. scripts/dist.sh's
static ones, and imply --no-build)
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PEERS = os.path.join(ROOT, "target", "lab-peers")
CARGO_LAMBDA_WHEEL = "cargo-lambda==1.9.2"
CARGO_LAMBDA_SHA256 = "db2c0b1d53d7ed0055198fd045f641addc91b180b20d794fcf78cc9a9efacb38"


def cargo_lambda() -> str:
    path = os.path.join(PEERS, "cargo-lambda")
    if os.path.exists(path):
        return path
    tmp = tempfile.mkdtemp()
    try:
        venv_python = os.path.join(PEERS, "venv", "bin", "python")
        python = venv_python if os.path.exists(venv_python) else sys.executable
        subprocess.run(
            [python, "-m", "pip", "download", "--quiet", "--no-deps", CARGO_LAMBDA_WHEEL, "-d", tmp], check=True
        )
        (wheel,) = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".whl")]
        digest = subprocess.run(["sha256sum", wheel], check=True, capture_output=True, text=True).stdout.split()[0]
        if digest != CARGO_LAMBDA_SHA256:
            sys.exit(f"cargo-lambda wheel checksum mismatch: {digest}")
        with zipfile.ZipFile(wheel) as z:
            (member,) = [m for m in z.namelist() if m.endswith("/scripts/cargo-lambda")]
            os.makedirs(PEERS, exist_ok=True)
            with z.open(member) as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
        os.chmod(path, 0o755)
        return path
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, seconds: float = 20) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on 127.0.0.1:{port}")


def main() -> int:
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    runs = int(numbers[0]) if numbers else 5
    release = os.path.join(ROOT, "target", "release")
    kreach, bootstrap = os.path.join(release, "kreach"), os.path.join(release, "bootstrap")
    given = {sys.argv[i]: sys.argv[i + 1] for i in range(1, len(sys.argv) - 1) if sys.argv[i].startswith("--")}
    kreach = os.path.abspath(given.get("--kreach", kreach))
    bootstrap = os.path.abspath(given.get("--bootstrap", bootstrap))
    if "--no-build" not in sys.argv and not ({"--kreach", "--bootstrap"} & given.keys()):
        subprocess.run(["cargo", "build", "--release", "-p", "kreach-cli", "-p", "kreach-lambda"], cwd=ROOT, check=True)
    emulator_bin = cargo_lambda()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    clean["AWS_EC2_METADATA_DISABLED"] = "true"

    lab = subprocess.Popen([kreach, "lab", "--serve", "--output", "json"], stdout=subprocess.PIPE, env=clean, text=True)
    port = free_port()
    emulator = subprocess.Popen(
        [emulator_bin, "lambda", "watch", "--only-lambda-apis", "--timeout", "30", "-A", "127.0.0.1", "-P", str(port)],
        cwd=os.path.join(ROOT, "crates", "kreach-lambda"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=clean,
    )
    try:
        info = json.loads(lab.stdout.readline())
        event = dict(info["lambda_event"], timeout_secs=10)
        wait_port(port)
        invoke_url = f"http://127.0.0.1:{port}/2015-03-31/functions/_/invocations"
        function_env = dict(
            clean,
            AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt",
            AWS_LAMBDA_FUNCTION_NAME="_",
            AWS_LAMBDA_FUNCTION_VERSION="1",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
            AWS_REGION="us-west-2",
        )

        def invoke() -> dict:
            request = urllib.request.Request(invoke_url, data=json.dumps(event).encode(), method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as e:
                sys.exit(f"the function answered {e.code}: {e.read().decode(errors='replace')}")

        print(f"bootstrap {os.path.getsize(bootstrap) / 1e6:.1f} MB, lab: {info['fault']}, {runs} cold starts")
        cold, warm = [], []
        for i in range(runs):
            started = time.monotonic()
            function = subprocess.Popen([bootstrap], env=function_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                report = invoke()
                cold.append((time.monotonic() - started) * 1000)
                started = time.monotonic()
                invoke()
                warm.append((time.monotonic() - started) * 1000)
            finally:
                function.send_signal(signal.SIGTERM)
                function.wait(timeout=10)
            print(
                f"run {i + 1}: cold start to report {cold[-1]:.0f} ms (diagnosis {report['elapsed_ms']} ms, "
                f"status {report['status']}, {len(report['targets'])} targets); warm invocation {warm[-1]:.0f} ms"
            )
        cold.sort()
        warm.sort()
        print(f"cold: min {cold[0]:.0f} ms, median {cold[len(cold) // 2]:.0f} ms, max {cold[-1]:.0f} ms")
        print(f"warm: min {warm[0]:.0f} ms, median {warm[len(warm) // 2]:.0f} ms, max {warm[-1]:.0f} ms")
    finally:
        for p in (emulator, lab):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())

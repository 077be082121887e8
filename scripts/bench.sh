#!/usr/bin/env bash
# Times kreach beside the tools people use (kcat -L, confluent-kafka's metadata call, dig and
# openssl s_client by hand) on the network-namespace lab with real injected round-trip time
# (iptables NFQUEUE; tc netem is not in this kernel). Prints a table, writes
# target/bench/results.json and each scenario's last kreach report beside it.
# Needs root (namespaces, iptables). Traffic never leaves the lab's namespaces.
#
#   scripts/bench.sh                      # every scenario at 0 and 40 ms, 5 runs each
#   scripts/bench.sh --runs 3 --rtt-ms 40 --scenarios healthy-6,healthy-100
#   scripts/bench.sh --runs 5 --rtt-ms 0,40 oauth   # SASL OAUTHBEARER (OIDC) against PLAIN
#   scripts/bench.sh --help               # every option
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# Only the benchmark needs these: kcat (the anchor people compare with), GNU time (peak RSS),
# openssl (the manual toolbox).
need=()
command -v kcat >/dev/null 2>&1 || need+=(kcat)
[ -x /usr/bin/time ] || need+=(time)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "bench: installing ${need[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# A release build in its own target directory, so the tests' debug builds stay warm; without the
# AWS SDK (the scenarios give kreach no AWS credentials, so its audit would not run either).
export CARGO_TARGET_DIR="${KREACH_BENCH_TARGET_DIR:-target/bench}"
cargo build --quiet --release --locked --no-default-features -p kreach-cli -p kreach-bench
exec "$CARGO_TARGET_DIR/release/kreach-bench" --kreach "$CARGO_TARGET_DIR/release/kreach" \
  --json target/bench/results.json "$@"

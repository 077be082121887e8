#!/usr/bin/env bash
# The kreach function's cold start on cargo-lambda's local emulator (scripts/setup.sh installs
# it), on loopback: the time from starting the bootstrap binary to the answer of its first
# invocation (process start, runtime init, the handler on an event it refuses at once: `{}`),
# then one warm invocation on the same process. RUNS times each. The emulator's own start is not
# counted. Usage: scripts/coldstart.sh [BOOTSTRAP] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/dist/x86_64-unknown-linux-gnu/release/bootstrap}
runs=${2:-5}
[ -x "$bin" ] || { echo "no $bin: run scripts/dist.sh first (or give a bootstrap binary)" >&2; exit 2; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/lab-peers/venv/bin/cargo-lambda lambda watch --only-lambda-apis -A 127.0.0.1 -P "$port" >/dev/null 2>&1 &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
invoke() { curl -s -o /dev/null -X POST "http://127.0.0.1:$port/2015-03-31/functions/_/invocations" -d '{}'; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
echo "binary: $bin ($(stat -c %s "$bin") bytes)"
for i in $(seq "$runs"); do
  t0=$(date +%s%N)
  env -i AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$port/.rt" AWS_LAMBDA_FUNCTION_NAME=_ \
    AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 AWS_REGION=us-west-2 "$bin" >/dev/null 2>&1 &
  fn=$!
  invoke; t1=$(date +%s%N)
  invoke; t2=$(date +%s%N)
  kill "$fn" 2>/dev/null || true; wait "$fn" 2>/dev/null || true
  echo "run $i: cold $(ms "$t0" "$t1") ms, warm $(ms "$t1" "$t2") ms"
done

#!/usr/bin/env bash
# Static Linux builds of kreach, for the machines where the question is asked (a bastion or an
# application instance without a compiler; a Lambda function's own subnets):
#   target/dist/out/kreach-<version>-<target>            the CLI, one static file
#   target/dist/out/kreach-lambda-<version>-<arch>.zip   the function, `bootstrap` for provided.al2023
#   target/dist/out/SHA256SUMS
# Each binary is linked statically (glibc's static-pie, OpenSSL and zlib linked in: `file` says
# "static-pie linked", no interpreter, no NEEDED entry) and checked here: readelf, `--version`, and
# `kreach lab` run with an empty environment from an empty directory.
#
# Usage: bash scripts/dist.sh [--target TRIPLE]...   (default: x86_64-unknown-linux-gnu)
# Installs what it needs from Debian (the static libraries, binutils, zip), like scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin:$HOME/.cargo/bin"

targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target) targets+=("${2:?--target needs a triple}"); shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "dist: unknown argument $1 (--target TRIPLE)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-unknown-linux-gnu)

# The static libraries the link takes (libssl.a, libcrypto.a, libz.a, libc.a) and the tools.
need=()
for pair in /usr/lib/x86_64-linux-gnu/libssl.a:libssl-dev /usr/lib/x86_64-linux-gnu/libz.a:zlib1g-dev \
            /usr/lib/x86_64-linux-gnu/libc.a:libc6-dev /usr/bin/readelf:binutils /usr/bin/pkg-config:pkg-config; do
  [ -e "${pair%%:*}" ] || need+=("${pair##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "dist: installing ${need[*]}" >&2
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
out=target/dist/out
mkdir -p "$out"
status=0
for target in "${targets[@]}"; do
  case "$target" in
    x86_64-unknown-linux-gnu) arch=x86_64 ;;
    aarch64-unknown-linux-gnu) arch=arm64 ;;
    *) echo "dist: $target: not a target this script builds (x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu)" >&2; exit 2 ;;
  esac
  if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    # The standard library for another target comes from static.rust-lang.org only.
    if ! timeout 120 rustup target add "$target" >/dev/null 2>&1; then
      echo "dist: $target: blocked — its Rust standard library cannot be installed here (rustup target add $target needs static.rust-lang.org)" >&2
      status=3
      continue
    fi
  fi
  if [ "$target" = aarch64-unknown-linux-gnu ]; then
    # Debian's cross compiler links it; OpenSSL and zlib for arm64 come from Debian's arm64 packages.
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
    export PKG_CONFIG_ALLOW_CROSS=1 PKG_CONFIG_PATH=/usr/lib/aarch64-linux-gnu/pkgconfig
  fi
  started=$(date +%s)
  # RUSTFLAGS with --target: only the target's artifacts are static, not build scripts or macros.
  RUSTFLAGS="-C target-feature=+crt-static" OPENSSL_STATIC=1 LIBZ_SYS_STATIC=1 \
    KREACH_COMMIT="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
    cargo build --release --locked --target "$target" -p kreach-cli -p kreach-lambda --target-dir target/dist
  built=$(( $(date +%s) - started ))
  cli="$out/kreach-$version-$target"
  install -m 0755 "target/dist/$target/release/kreach" "$cli"
  zip="$out/kreach-lambda-$version-$arch.zip"
  rm -f "$zip"
  python3 - "$zip" "target/dist/$target/release/bootstrap" <<'PY'
import sys, zipfile
zip_path, binary = sys.argv[1:3]
info = zipfile.ZipInfo("bootstrap", date_time=(2026, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16  # an executable file, as provided.al2023 runs it
info.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as f, zipfile.ZipFile(zip_path, "w") as z:
    z.writestr(info, f.read())
PY
  # Static: no program interpreter, no shared library.
  for bin in "$cli" "target/dist/$target/release/bootstrap"; do
    if readelf -l "$bin" | grep -q 'INTERP' || readelf -d "$bin" | grep -q 'NEEDED'; then
      echo "dist: $bin is not static:" >&2
      readelf -d "$bin" | grep NEEDED >&2 || true
      exit 1
    fi
  done
  if [ "$target" = "$(rustc -vV | sed -n 's/^host: //p')" ]; then
    # Runs with nothing around it: an empty environment, an empty directory, no CA bundle needed.
    empty=$(mktemp -d)
    (cd "$empty" && env -i "$OLDPWD/$cli" --version)
    (cd "$empty" && env -i timeout 120 "$OLDPWD/$cli" lab --timeout 5 --output json > "$empty/lab.json")
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(r["status"] != "pass")' "$empty/lab.json" \
      || { echo "dist: kreach lab did not pass with the static binary" >&2; exit 1; }
    rm -rf "$empty"
  fi
  echo "dist: $target built in ${built}s: $(stat -c %s "$cli") bytes ($cli), $(stat -c %s "$zip") bytes ($zip)"
done
(cd "$out" && sha256sum kreach-* > SHA256SUMS)
echo "dist: $out/SHA256SUMS"
exit $status

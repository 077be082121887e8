#!/usr/bin/env bash
# Checks that `cargo run -p kreach-cli --no-default-features -- lab` (the README's first command)
# and the test command (`cargo test --workspace`, `cargo clippy --workspace --all-targets`) resolve every dependency
# they share to the same features, so the second builds none of them again. Prints each
# dependency whose features differ and exits 1; silent and 0 when they agree.
set -euo pipefail
cd "$(dirname "$0")/.."
tree() {
    cargo tree --offline --target x86_64-unknown-linux-gnu --prefix none -f '{p}|{f}' "$@" 2>/dev/null |
        sed 's/ (\*)$//; s/ (proc-macro)//; s/ (\/[^)]*)//' | sort -u
}
run=$(mktemp); test=$(mktemp)
trap 'rm -f "$run" "$test"' EXIT
tree -p kreach-cli --no-default-features -e normal,build > "$run"
tree --workspace -e normal,build,dev > "$test"
# A dependency the run builds with a feature set the tests never build is built twice (the
# workspace's own crates are rebuilt anyway).
missing=$(comm -23 "$run" "$test" | grep -v '^kreach' || true)
if [ -n "$missing" ]; then
    echo "features differ between the README's first command (kreach-cli --no-default-features) and the test command:"
    while IFS='|' read -r pkg features; do
        echo "  $pkg: run [$features]; tests [$(grep -F "$pkg|" "$test" | cut -d'|' -f2 | paste -sd';')]"
    done <<< "$missing"
    exit 1
fi

#!/usr/bin/env bash
# Checks that `cargo run -p kreach-cli --no-default-features -- lab` (the README's first command)
# and the test command (`cargo test --workspace`, `cargo clippy --workspace --all-targets`) resolve
# every dependency they share to the same features, so the second builds none of them again.
# Prints each dependency whose features differ and exits 1; silent and 0 when they agree.
set -euo pipefail
cd "$(dirname "$0")/.."
tree() {
    cargo tree --locked --target x86_64-unknown-linux-gnu --prefix none -f '{p}|{f}' "$@" 2>/dev/null |
        sed 's/ (\*)$//; s/ (proc-macro)//; s/ (\/[^)]*)//' | grep -v '^kreach' | sort -u
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Everything, build scripts and proc-macros (built for the host) included: a feature set the run
# builds must be one the tests build too.
tree -p kreach-cli --no-default-features -e normal,build > "$dir/run"
tree --workspace -e normal,build,dev > "$dir/test"
missing=$(comm -23 "$dir/run" "$dir/test")
# What is built for the target (no build-dependency, no proc-macro): one feature set per package
# on each side, and the same one.
tree -p kreach-cli --no-default-features -e normal,no-proc-macro > "$dir/run-target"
tree --workspace -e normal,dev,no-proc-macro > "$dir/test-target"
differ=$(join -t'|' "$dir/run-target" <(cut -d'|' -f1 "$dir/run-target" | sort -u | join -t'|' - "$dir/test-target") |
    awk -F'|' '$2 != $3 { print $1 "|" $2 }' | sort -u)
missing=$(printf '%s\n%s\n' "$missing" "$differ" | grep -v '^$' | sort -u || true)
if [ -n "$missing" ]; then
    echo "features differ between the README's first command (kreach-cli --no-default-features) and the test command:"
    while IFS='|' read -r pkg features; do
        echo "  $pkg: run [$features]; tests [$(grep -F "$pkg|" "$dir/test" | cut -d'|' -f2 | paste -sd';')]"
    done <<< "$missing"
    exit 1
fi

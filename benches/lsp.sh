#!/usr/bin/env bash
# Issue-6 benchmark: time from an edit to fresh diagnostics in `dendrite lsp`
# (benches/src/bin/lsp-latency.rs: 20 edits, each a state the server has not
# seen), in the fleet fixture and in the synthetic N=1000/M=100 tree of
# benches/dendritic.sh; then a cold `dendrite check` of each for comparison.
#
#   benches/lsp.sh            # both
#   N=5000 M=500 benches/lsp.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${DENDRITE_CORPUS:-$root/../shared/corpus}"
n="${N:-1000}" m="${M:-100}"
cargo build --release -q -p dendrite-cli -p dendrite-benches --manifest-path "$root/Cargo.toml"
dendrite="$root/target/release/dendrite"
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
"$root/target/release/gen-dendritic" "$tree" "$n" "$m" "$corpus" > /dev/null
line=$(grep -m1 'imports = ' "$tree/modules/machines/m0009.nix")

echo "fleet fixture, a machine's file:"
"$root/target/release/lsp-latency" "$dendrite" "$root/fixtures/fleet" modules/machines/darwin/stibnite.nix "      casks"
echo "fleet fixture, a feature file (only darwin machines import it):"
"$root/target/release/lsp-latency" "$dendrite" "$root/fixtures/fleet" modules/casks/terminals.nix '    "wezterm"'
echo "synthetic tree N=$n M=$m, a machine's file:"
"$root/target/release/lsp-latency" "$dendrite" "$tree" modules/machines/m0009.nix "$line"
for d in "$root/fixtures/fleet" "$tree"; do
  /usr/bin/time -f "cold dendrite check $(basename "$d"): %e s, %M KB" "$dendrite" check "$d" > /dev/null || true
done

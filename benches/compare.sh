#!/usr/bin/env bash
# Runs dendrite and nix-instantiate side by side on the same inputs and
# prints the ratio of their wall times (hyperfine, whole processes).
#
#   benches/compare.sh            # all comparisons
#   RUNS=20 benches/compare.sh    # more runs per command
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${DENDRITE_CORPUS:-$root/../shared/corpus}"
lib="$(cd "$corpus/nixpkgs-lib/lib" && pwd)"
runs="${RUNS:-10}"

command -v hyperfine >/dev/null || { echo "hyperfine is required (apt-get install hyperfine)" >&2; exit 2; }
command -v nix-instantiate >/dev/null || { echo "nix-instantiate is required (apt-get install nix-bin)" >&2; exit 2; }
cargo build --release -q -p dendrite-cli --manifest-path "$root/Cargo.toml"
dendrite="$root/target/release/dendrite"
export NIX_STATE_DIR="${NIX_STATE_DIR:-$(mktemp -d)}"

compare() {
  local name=$1 expr=$2
  local json
  json=$(mktemp)
  hyperfine -N -w 2 -r "$runs" --export-json "$json" \
    -n dendrite "$dendrite eval --strict -E '$expr'" \
    -n nix-instantiate "nix-instantiate --eval --strict -E '$expr'" >/dev/null
  python3 - "$json" "$name" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
d, n = r["dendrite"], r["nix-instantiate"]
print(f"{sys.argv[2]:<34} dendrite {d['mean']*1000:8.1f} ms ± {d['stddev']*1000:5.1f}   "
      f"nix-instantiate {n['mean']*1000:8.1f} ms ± {n['stddev']*1000:5.1f}   ratio {n['mean']/d['mean']:5.2f}x")
PY
  rm -f "$json"
}

compare "startup (-E 1)" "1"
compare "lib concatMap 250k (issue 2)" "let lib = import $lib; in builtins.length (lib.concatMap (i: lib.mapAttrsToList (n: v: n + toString v) (lib.genAttrs (map toString (lib.range 1 500)) (x: i))) (lib.range 1 500))"
compare "fib 25" "let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib 25"
compare "import nixpkgs lib" "builtins.length (builtins.attrNames (import $lib))"

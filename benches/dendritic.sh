#!/usr/bin/env bash
# Issue-4 benchmark: a synthetic dendritic flake of N feature modules and M
# machines (benches/src/bin/gen-dendritic.rs), evaluated with real
# flake-parts, import-tree and nixpkgs lib from the corpus, by
# nix-instantiate and by dendrite (native module system, and interpreted),
# one after the other on the same machine. Prints wall time, peak memory,
# whether the outputs are identical, and the ratios; then `dendrite check`
# of the same tree as a flake (bundled models instead of the corpus).
#
#   benches/dendritic.sh                 # N=1000 M=100 and N=5000 M=500
#   benches/dendritic.sh 1000 100        # one size
#   SKIP_NIX=1 benches/dendritic.sh ...  # dendrite only
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${DENDRITE_CORPUS:-$root/../shared/corpus}"
cargo build --release -q -p dendrite-cli -p dendrite-benches --manifest-path "$root/Cargo.toml"
dendrite="$root/target/release/dendrite"
gen="$root/target/release/gen-dendritic"
export NIX_STATE_DIR="${NIX_STATE_DIR:-$(mktemp -d)}"

measure() { # label outfile command...
  local label=$1 out=$2; shift 2
  local tf
  tf=$(mktemp)
  if ! /usr/bin/time -o "$tf" -f "%e %M" "$@" > "$out" 2> "$out.err"; then
    echo "$label failed: $(grep -m1 error "$out.err")" >&2
    exit 1
  fi
  echo "$label $(tail -1 "$tf")"
  rm -f "$tf"
}

run_size() {
  local n=$1 m=$2
  local dir
  dir=$(mktemp -d)
  "$gen" "$dir" "$n" "$m" "$corpus" > /dev/null
  cd "$dir"
  local nix_line="" nat den
  if [ -z "${SKIP_NIX:-}" ] && command -v nix-instantiate > /dev/null; then
    nix_line=$(measure nix "$dir/nix.out" nix-instantiate --eval eval.nix)
  fi
  nat=$(DENDRITE_NATIVE_MODULES=1 measure native "$dir/native.out" "$dendrite" eval eval.nix)
  den=$(DENDRITE_NATIVE_MODULES=0 measure interpreted "$dir/interp.out" "$dendrite" eval eval.nix)
  chk=$(measure check "$dir/check.out" "$dendrite" check .)
  python3 - "$n" "$m" "$nix_line" "$nat" "$den" "$dir" "$chk" <<'PY'
import sys, filecmp, os
n, m, nix, nat, den, d, chk = sys.argv[1:]
def parse(s):
    if not s: return None
    _, t, mem = s.split()
    return float(t), int(mem) / 1024
rows = [("nix-instantiate", parse(nix), "nix.out"), ("dendrite native", parse(nat), "native.out"), ("dendrite interpreted", parse(den), "interp.out")]
print(f"N={n} M={m}")
ref = rows[0][1]
for name, r, out in rows:
    if r is None:
        continue
    same = ""
    if ref is not None and name != "nix-instantiate":
        same = "identical output" if filecmp.cmp(os.path.join(d, "nix.out"), os.path.join(d, out), shallow=False) else "OUTPUT DIFFERS"
        ratio = f"{ref[0] / r[0]:6.1f}x faster, {r[1] / ref[1] * 100:5.1f}% of Nix's memory"
    else:
        ratio = ""
    print(f"  {name:<22} {r[0]:7.2f} s {r[1]:8.1f} MiB  {ratio}  {same}")
c = parse(chk)
print(f"  {'dendrite check':<22} {c[0]:7.2f} s {c[1]:8.1f} MiB  (the flake's top level and every machine, with the bundled models)")
PY
  cd - > /dev/null
  rm -rf "$dir"
}

if [ $# -ge 2 ]; then
  run_size "$1" "$2"
else
  run_size 1000 100
  run_size 5000 500
fi

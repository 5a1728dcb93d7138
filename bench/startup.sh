#!/usr/bin/env bash
# bench/startup.sh [--quick] [--sigil PATH] [--runs N] [--baseline PATH]
#
# Process start-up, side by side with `openssl version` measured in the same run. Issue 7
# ("Starting a process costs 14 ms"): `sigil --version` took 14 ms where `openssl version` took
# 5.6 ms; the target is `sigil-verify --version` <= 8 ms there, a ratio to openssl of <= 1.43,
# which is what this script checks (PASS/MISS; a MISS does not fail the script, an error does).
#   openssl version                               the reference: a small C program on libcrypto
#   sigil-verify --version, sigil --version       start-up alone: the dynamic loader's work
#   sigil-verify verify --key K oci:LAYOUT        a whole verification of a small signed layout
#   sigil-verify verify --key K 127.0.0.1:1/x:y   the same when libcurl must be opened (the
#                                                 connection is refused at once): what a registry
#                                                 command pays for the lazy load
# For each program: the shared objects the loader maps and its relocations (LD_DEBUG=files and
# statistics). Timings: N runs of each (default 300, --quick 50) by `hyperfine -N`, in rounds of
# 10 runs of every program in turn, so that a machine whose load changes treats them alike; the
# figure is the median of the rounds' medians. Without hyperfine, a shell loop (coarser).
# --sigil PATH: the sigil to measure; sigil-verify is taken from the same directory.
# --baseline PATH: another build's sigil (e.g. main's), measured in the same rounds ("base-…").
# Results: printed, and written to bench/results/startup.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs= baseline=
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 22 baseline -- "$@"
if [ -z "$sigil" ]; then
  bash "$root/tools/install-deps.sh" || exit 1
  bash "$root/tools/build.sh" --target sigil --target sigil-verify </dev/null >/dev/null ||
    { echo "bench: build failed" >&2; exit 1; }
  sigil=$root/build/bin/sigil
fi
verify=$(dirname "$sigil")/sigil-verify
for p in "$sigil" "$verify"; do [ -x "$p" ] || { echo "bench: $p is not executable" >&2; exit 1; }; done
if [ $quick = 1 ]; then runs=${runs:-50}; else runs=${runs:-300}; fi
target_ratio=1.43  # 8 ms / 5.6 ms

work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# A signed copy of the sample layout, and its key.
cp -r "$root/tests/data/sample-layout" "$work/img"
layout="oci:$work/img:latest"
key=$root/tests/data/keys/test-ecdsa-p256.pub
SIGIL_PASSWORD= COSIGN_PASSWORD= "$sigil" sign --key "$root/tests/data/keys/test-ecdsa-p256.key" \
  --password-file "$root/tests/data/keys/test-passphrase.txt" "$layout" 2>"$work/sign.err" ||
  { echo "bench: signing the sample layout failed:" >&2; cat "$work/sign.err" >&2; exit 1; }

names=(openssl verify-version sigil-version verify-layout verify-registry)
declare -A CMD=(
  [openssl]="openssl version"
  [verify-version]="$verify --version"
  [sigil-version]="$sigil --version"
  [verify-layout]="$verify verify --key $key $layout"
  [verify-registry]="$verify verify --key $key 127.0.0.1:1/lab/x:v1"
)
if [ -n "$baseline" ]; then
  base_verify=$(dirname "$baseline")/sigil-verify
  [ -x "$baseline" ] && [ -x "$base_verify" ] || { echo "bench: $baseline or $base_verify is not executable" >&2; exit 1; }
  names+=(base-verify-version base-sigil-version base-verify-layout base-verify-registry)
  CMD[base-verify-version]="$base_verify --version"
  CMD[base-sigil-version]="$baseline --version"
  CMD[base-verify-layout]="$base_verify verify --key $key $layout"
  CMD[base-verify-registry]="$base_verify verify --key $key 127.0.0.1:1/lab/x:v1"
fi
declare -A MEDIAN LIBS RELOCS

# Shared objects mapped (the program itself and the vDSO not counted) and relocations done.
for n in "${names[@]}"; do
  LD_DEBUG=files,statistics ${CMD[$n]} >/dev/null 2>"$work/ld.$n" || true
  LIBS[$n]=$(grep -c 'generating link map' "$work/ld.$n")
  RELOCS[$n]=$(grep -m1 'final number of relocations:' "$work/ld.$n" | awk '{ print $NF }')
  [ -n "${RELOCS[$n]}" ] ||
    RELOCS[$n]=$(grep -m1 'number of relocations:' "$work/ld.$n" | awk '{ print $NF }')
done

# Every command but the registry ones must succeed; those fail (exit 3, refused) by design.
for n in "${names[@]}"; do
  [[ $n == *verify-registry ]] && continue
  ${CMD[$n]} >/dev/null 2>"$work/err.$n" || { echo "bench: $n failed: ${CMD[$n]}" >&2; cat "$work/err.$n" >&2; exit 1; }
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] }'; }
declare -A ROUNDS
if command -v hyperfine >/dev/null; then
  rounds=$(( (runs + 9) / 10 ))
  tool="hyperfine -N, $rounds rounds of 10 runs each"
  args=()
  for n in "${names[@]}"; do args+=(-n "$n" "${CMD[$n]}"); done
  hyperfine -N -i --warmup 20 --runs 2 "${args[@]}" >/dev/null 2>&1  # warm the page cache
  for ((r = 0; r < rounds; r++)); do
    hyperfine -N -i --warmup 2 --runs 10 --export-csv "$work/h.csv" "${args[@]}" >/dev/null 2>&1 ||
      { echo "bench: hyperfine failed" >&2; exit 1; }
    # command,mean,stddev,median,user,system,min,max (seconds)
    while IFS=, read -r name _mean _sd med _rest; do
      [ "$name" = command ] && continue
      ROUNDS[$name]+="$(awk -v m="$med" 'BEGIN { printf "%.4f", m * 1000 }') "
    done <"$work/h.csv"
  done
else
  tool="shell loop, $runs runs each, interleaved (includes the loop's own cost)"
  for ((i = 0; i < runs; i++)); do
    for n in "${names[@]}"; do
      t0=$(date +%s%N); ${CMD[$n]} >/dev/null 2>&1; t1=$(date +%s%N)
      ROUNDS[$n]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e6 }') "
    done
  done
fi
for n in "${names[@]}"; do MEDIAN[$n]=$(median <<<"${ROUNDS[$n]}"); done

ratio() { awk -v a="${MEDIAN[$1]}" -v b="${MEDIAN[openssl]}" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v a="${MEDIAN[$1]}" 'BEGIN { printf "%.2f", a }'; }
out=$root/bench/results/startup.txt
mkdir -p "$(dirname "$out")"
{
  echo "bench/startup.sh  $(date -u +%Y-%m-%dT%H:%MZ)  $(nproc) cores  load $load_start  ($tool)"
  echo "sigil: $sigil${baseline:+   baseline: $baseline}"
  printf '%-21s %9s %9s %8s %9s  %s\n' program "median ms" "x openssl" objects relocs command
  for n in "${names[@]}"; do
    printf '%-21s %9s %9s %8s %9s  %s\n' "$n" "$(ms "$n")" "$(ratio "$n")" "${LIBS[$n]}" \
      "${RELOCS[$n]:-?}" "${CMD[$n]/$root\//}"
  done
  r=$(ratio verify-version)
  verdict=$(awk -v r="$r" -v t="$target_ratio" 'BEGIN { print (r <= t) ? "PASS" : "MISS" }')
  echo "target: sigil-verify --version <= $target_ratio x openssl version (8 ms at 5.6 ms): $r  $verdict"
} | tee "$out"

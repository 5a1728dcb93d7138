#!/usr/bin/env bash
# bench/attest.sh [--quick] [--sigil PATH] [--runs N]
#
# `sigil attest` against `sigil sign` on the same image in a local registry (Debian's
# docker-registry, distribution 2.8, TLS with a CA made for the run): the wall time of each, process
# start to exit, median of N runs taken in alternation, and attest / sign as a ratio. Both resolve
# the reference, read the key, sign and append one layer through the same merge loop (the .att and
# the .sig manifest); attest also reads and checks the predicate and signs the DSSE PAE, which
# should cost little (issue 9: "the extra work should be small"). Also informational: attest
# --format bundle (a referrer) and attest --replace (which reads the .att layers back).
# --quick: 5 runs (default 11). Each run adds a layer, so N stays well under the 100-layer cap.
# Results: printed, and written to bench/results/attest.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs=
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 12 -- "$@"
if [ $quick = 1 ]; then runs=${runs:-5}; else runs=${runs:-11}; fi
[ "$runs" -le 40 ] || { echo "bench: --runs at most 40 (each run adds a layer; the cap is 100)" >&2; exit 2; }

bench_sigil
for tool in docker-registry openssl curl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (tools/install-deps.sh)" >&2; exit 1; }
done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench-att.XXXXXX")
cleanup() {
  stop_registries
  rm -rf "$work"
}
trap cleanup EXIT
errors=0
measure_digits=4

make_test_ca "$work" || { log "cannot make certificates"; exit 1; }
ca=$work/certs/ca.crt
start_registry R
R=127.0.0.1:${PORT[R]}

export SIGIL_PASSWORD=bench COSIGN_PASSWORD=
"$sigil" key generate --output-prefix "$work/k" </dev/null 2>"$work/last.err" || { log "key generate failed"; exit 1; }
python3 "$root/bench/make_layout.py" "$work/img" --size $((1 << 20)) >/dev/null || exit 1
"$sigil" copy --ca-file "$ca" "oci:$work/img:latest" "$R/bench/app:v1" </dev/null >/dev/null 2>"$work/last.err" \
  || { log "sigil copy failed: $(tail -n 3 "$work/last.err")"; exit 1; }
digest=$("$sigil" digest --ca-file "$ca" "$R/bench/app:v1" 2>/dev/null)
[ -n "$digest" ] || { log "sigil digest failed"; exit 1; }
image="$R/bench/app@$digest"
printf '{"buildType":"bench","builder":{"id":"https://example.com/bench"},"materials":[]}\n' > "$work/p.json"

declare -A TIMES
# run NAME CMD...: one timed run appended to TIMES[NAME]; a failure counts and is shown once.
run() {
  local name=$1; shift
  if measure "$@" </dev/null; then
    TIMES[$name]="${TIMES[$name]:-} $T"
  else
    log "$name failed: $(tail -n 3 "$work/last.err")"; errors=$((errors + 1))
  fi
}
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print ""; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.4f", m }'; }

log "timing sign and attest on $image ($runs runs each, alternating, after a warm-up)"
"$sigil" sign --ca-file "$ca" --key "$work/k.key" "$image" </dev/null >/dev/null 2>&1  # warm-up
for _ in $(seq 1 "$runs"); do
  run sign "$sigil" sign --ca-file "$ca" --key "$work/k.key" "$image"
  run attest "$sigil" attest --ca-file "$ca" --key "$work/k.key" --predicate "$work/p.json" "$image"
  run attest_bundle "$sigil" attest --ca-file "$ca" --key "$work/k.key" --predicate "$work/p.json" --format bundle "$image"
done
for _ in $(seq 1 "$runs"); do
  run attest_replace "$sigil" attest --ca-file "$ca" --key "$work/k.key" --predicate "$work/p.json" --replace "$image"
done

s=$(median "${TIMES[sign]:-}") a=$(median "${TIMES[attest]:-}")
b=$(median "${TIMES[attest_bundle]:-}") r=$(median "${TIMES[attest_replace]:-}")
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", x / y }' || echo n/a; }
mkdir -p "$root/bench/results"
{
  echo "bench/attest.sh: sigil attest vs sigil sign, one image in a local TLS registry (distribution 2.8), $(date -u +%F)"
  echo "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores; load at start: $load_start"
  echo
  printf "   %-44s %10s %10s\n" "command (median of $runs, process start to exit)" "seconds" "/ sign"
  printf "   %-44s %10s %10s\n" "sigil sign IMAGE@DIGEST" "${s:-n/a}" "1.00"
  printf "   %-44s %10s %10s\n" "sigil attest --predicate FILE (cosign .att)" "${a:-n/a}" "$(ratio "$a" "$s")"
  printf "   %-44s %10s %10s\n" "sigil attest --format bundle" "${b:-n/a}" "$(ratio "$b" "$s")"
  printf "   %-44s %10s %10s\n" "sigil attest --replace (reads the .att layers)" "${r:-n/a}" "$(ratio "$r" "$s")"
  echo
  printf "   %-44s %10s\n" "attest / sign (target: small, about 1)" "$(ratio "$a" "$s")"
} | tee "$root/bench/results/attest.txt"
if [ $errors -ne 0 ]; then
  echo "bench: $errors command(s) failed; see above" >&2
  exit 1
fi

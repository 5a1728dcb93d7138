#!/usr/bin/env bash
# bench/hostile.sh [--quick] [--sigil PATH] [--baseline PATH] [--timeout S] [--only CASE,…]
#
# Peak memory and time of `sigil verify` under hostile input (issue 7's goal: the peak RSS stays
# below 64 MiB plus the largest single object verify may hold, the 8 MiB image config, so 72 MiB),
# beside a benign image measured in the same run. Every input is built here by
# bench/make_hostile.py (see its header for the cases): .sig layers pointing at one or many large
# blobs and oversized descriptors; many bundle referrers with large bundles; referrer manifests and
# an image manifest of JSON that grows when parsed; a docker archive whose gzip expands to a huge
# index.json; nested indexes that fan out. None carries a valid signature: every run must end in
# exit 1 (not verified) or 3 (refused), never 0, and within --timeout seconds (default 60).
# --baseline PATH also runs another sigil binary (an older build) on the same inputs, for a
# before/after column. --quick divides the large sizes by 4. Benchmarks are never timed tests: a
# MISS does not fail the script; an exit 0, or a run that crashed (exit > 3), does.
# Inputs go to a temporary directory under /tmp (TMPDIR), deleted as soon as they were measured.
# Results: printed, and written to bench/results/hostile.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs= baseline= timeout=60 only=
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 17 baseline timeout only -- "$@"
scale=1
[ $quick = 1 ] && scale=4
measure_digits=2

bench_sigil
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (package time)" >&2; exit 1; }
[ -z "$baseline" ] || [ -x "$baseline" ] || { echo "bench: $baseline is not executable" >&2; exit 1; }

MiB=$((1 << 20))
budget_mib=72  # 64 MiB + the largest single object verify holds (limits::kMaxConfigBytes)
cases=(benign sig-one-blob sig-many-blobs sig-one-blob-128m sig-oversized bundles-one-blob
       bundles-many referrers-4m manifest-4m archive-gzip-index nested-fanout)
if [ -n "$only" ]; then IFS=, read -r -a cases <<<"$only"; fi

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-hostile.XXXXXX")
trap 'rm -rf "$work"' EXIT
errors=0

log "a key to verify with (it signed none of the inputs)"
SIGIL_PASSWORD=bench "$sigil" key generate --output-prefix "$work/bench" </dev/null >/dev/null 2>"$work/last.err" \
  || { log "key generate failed"; cat "$work/last.err" >&2; exit 1; }

calc() { awk "BEGIN { printf \"$1\", $2 }"; }
out=()
row() { out+=("$(printf "$@")"); }

# run_one BIN REF: measures `BIN verify` under the timeout; sets T, RSS (KiB), RC; RC 124 = timeout.
run_one() {
  measure timeout "$timeout" "$1" verify --all --key "$work/bench.pub" "$2" </dev/null
}

# cell: "RC time s RSS MiB ratio" for one measured run.
cell() {
  local note=""
  [ "$RC" = 124 ] && note=" (timeout)"
  printf "%3s %8s %9s %6s%s" "$RC" "$T" "$(calc "%.1f" "$RSS / 1024")" "$(calc "%.2f" "$RSS / 1024 / $budget_mib")" "$note"
}

row "sigil verify under hostile input: budget %s MiB (64 MiB + the 8 MiB config cap); timeout %s s" "$budget_mib" "$timeout"
hdr=$(printf "%3s %8s %9s %6s" "rc" "time s" "RSS MiB" "/budget")
if [ -n "$baseline" ]; then
  row "   %-20s %-32s  %-32s  %s" "input" "sigil" "baseline" "verdict"
  row "   %-20s %-32s  %-32s" "" "$hdr" "$hdr"
else
  row "   %-20s %-32s  %s" "input" "sigil" "verdict"
  row "   %-20s %-32s" "" "$hdr"
fi
worst=0 worst_case=
for c in "${cases[@]}"; do
  dir=$work/$c
  ref="oci:$dir:latest"
  [ "$c" = archive-gzip-index ] && { dir=$work/$c.tar.gz; ref="docker-archive:$dir"; }
  log "$c: building"
  if ! python3 "$root/bench/make_hostile.py" "$c" "$dir" --scale $scale >/dev/null 2>"$work/last.err"; then
    log "$c: make_hostile.py failed"; sed 's/^/    /' "$work/last.err" | tail -n 5 >&2
    errors=$((errors + 1)); continue
  fi
  log "$c: sigil verify"
  run_one "$sigil" "$ref"
  mine=$(cell) my_rc=$RC my_rss=$RSS
  reason=$(grep -v '^Verifying' "$work/last.err" | tail -n 1 | cut -c1-110)
  verdict=$(awk -v r="$RSS" -v b="$budget_mib" 'BEGIN { print (r / 1024 <= b) ? "PASS" : "MISS" }')
  if [ "$c" = benign ]; then
    verdict=ref
  elif [ "$my_rc" = 0 ] || { [ "$my_rc" -gt 3 ] && [ "$my_rc" != 124 ]; }; then
    verdict=FAIL; errors=$((errors + 1))
  elif [ "$my_rc" = 124 ]; then
    verdict=MISS
  fi
  if [ "$c" != benign ] && [ "$my_rss" -gt "$worst" ]; then worst=$my_rss worst_case=$c; fi
  if [ -n "$baseline" ]; then
    log "$c: baseline verify"
    run_one "$baseline" "$ref"
    theirs=$(cell)
    row "   %-20s %-32s  %-32s  %s" "$c" "$mine" "$theirs" "$verdict"
  else
    row "   %-20s %-32s  %s" "$c" "$mine" "$verdict"
  fi
  row "   %-20s   %s" "" "$reason"
  rm -rf "$dir"
done
row ""
row "worst peak RSS under hostile input: %s MiB (%s), %s of the budget" \
  "$(calc "%.1f" "$worst / 1024")" "${worst_case:-none}" "$(calc "%.2f" "$worst / 1024 / $budget_mib")"

header="sigil hostile-input benchmark $([ $quick = 1 ] && echo '(--quick) ')$(date -u +%Y-%m-%dT%H:%MZ)
commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
load average before the run: $load_start"
mkdir -p "$root/bench/results"
{ echo "$header"; echo; printf '%s\n' "${out[@]}"; } | tee "$root/bench/results/hostile.txt"
if [ $errors -ne 0 ]; then
  echo "bench: $errors input(s) failed (exit 0, a crash, or a generator error); see above" >&2
  exit 1
fi

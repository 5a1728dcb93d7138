#!/usr/bin/env bash
# bench/policy.sh [--quick] [--sigil PATH] [--runs N] [--images N]
#
# `sigil verify --policy` over many signed images in one process against one `sigil verify --key`
# process per image (issue 10: the CI gate), the same registry and images: one Debian
# docker-registry (distribution 2.8) on 127.0.0.1 over TLS, started and stopped here; one 1-layer
# image pushed under N repositories (default 100) and signed in each with `sigil sign`; a policy
# whose one rule trusts the key. Prints the wall time of each way (best of --runs, default 3),
# per image, the ratio (separate runs / one run), and the HTTP requests each made (from the
# registry's access log). --quick: 20 images, 2 runs. Results: printed, and written to
# bench/results/policy.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs= images=
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 12 images -- "$@"
if [ $quick = 1 ]; then runs=${runs:-2} images=${images:-20}; else runs=${runs:-3} images=${images:-100}; fi
bench_sigil
for tool in docker-registry openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (tools/install-deps.sh)" >&2; exit 1; }
done

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench-policy.XXXXXX")
cleanup() {
  stop_registries
  rm -rf "$work"
}
trap cleanup EXIT
make_test_ca "$work" || { log "cannot make certificates"; exit 1; }
start_registry R
R=127.0.0.1:${PORT[R]}
S() { "$sigil" "$1" --ca-file "$work/certs/ca.crt" "${@:2}"; }
export SIGIL_PASSWORD=bench COSIGN_PASSWORD=
"$sigil" key generate --output-prefix "$work/k" </dev/null 2>/dev/null || { log "key generate failed"; exit 1; }
python3 "$root/bench/make_layout.py" "$work/small" --size $((1 << 20)) >/dev/null || exit 1
log "pushing and signing $images images"
refs=()
for i in $(seq 1 "$images"); do
  img=$R/bench/app-$i:v1
  S copy --quiet "oci:$work/small:latest" "$img" >/dev/null 2>"$work/last.err" \
    || { log "copy failed"; cat "$work/last.err" >&2; exit 1; }
  S sign --key "$work/k.key" "$img" >/dev/null 2>"$work/last.err" \
    || { log "sign failed"; cat "$work/last.err" >&2; exit 1; }
  refs+=("$img")
done
cat >"$work/policy.yaml" <<YAML
version: 1
keys:
  release: k.pub
rules:
  - name: bench
    match: $R/bench/*
    keys: [release]
YAML

errors=0
# The two ways as scripts (/usr/bin/time, which measure uses, runs programs, not functions).
ca=$work/certs/ca.crt
printf '%q ' "$sigil" verify --ca-file "$ca" --policy "$work/policy.yaml" "${refs[@]}" >"$work/one.sh"
echo >>"$work/one.sh"
{
  echo 'set -e'
  for r in "${refs[@]}"; do printf '%q ' "$sigil" verify --ca-file "$ca" --key "$work/k.pub" "$r"; echo; done
} >"$work/separate.sh"
one_run() { bash "$work/one.sh"; }
separate() { bash "$work/separate.sh"; }
one_run >/dev/null 2>&1; separate >/dev/null 2>&1  # warm-up
count_requests R one_run; req_one=$REQ
[ $RC = 0 ] || { log "verify --policy failed"; tail -n 5 "$work/last.err" >&2; errors=$((errors + 1)); }
allowed=$(grep -c '^allowed ' "$work/last.err")
count_requests R separate; req_sep=$REQ
[ $RC = 0 ] || { log "verify --key failed"; tail -n 5 "$work/last.err" >&2; errors=$((errors + 1)); }
best_one= best_sep=
for _ in $(seq 1 "$runs"); do  # alternated, so both see the same machine
  measure bash "$work/one.sh" || errors=$((errors + 1))
  if [ -z "$best_one" ] || awk -v a="$T" -v b="$best_one" 'BEGIN { exit !(a < b) }'; then best_one=$T; fi
  measure bash "$work/separate.sh" || errors=$((errors + 1))
  if [ -z "$best_sep" ] || awk -v a="$T" -v b="$best_sep" 'BEGIN { exit !(a < b) }'; then best_sep=$T; fi
done
per() { awk -v t="$1" -v n="$images" 'BEGIN { printf "%.1f", t / n * 1e3 }'; }
ratio=$(awk -v a="$best_sep" -v b="$best_one" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
{
  echo "policy: sigil verify --policy over $images signed images in one process vs $images separate sigil verify --key runs (local registry, TLS)"
  printf '   %-52s %9s %10s %12s\n' "command" "requests" "wall s" "ms per image"
  printf '   %-52s %9s %10s %12s\n' "sigil verify --policy P IMG1..IMG$images ($allowed allowed)" "$req_one" "$best_one" "$(per "$best_one")"
  printf '   %-52s %9s %10s %12s\n' "$images x sigil verify --key K IMGi" "$req_sep" "$best_sep" "$(per "$best_sep")"
  echo "   separate / one process: ${ratio}x (best of $runs each, alternated)"
  echo "   load at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$work/out.txt"
mkdir -p "$root/bench/results" && cp "$work/out.txt" "$root/bench/results/policy.txt"
[ $errors = 0 ]

#!/usr/bin/env bash
# bench/attestations.sh [--quick] [--sigil PATH] [--runs N]
#
# verify-attestation on an image with 50 attestations of mixed types (issue 9): one Debian
# docker-registry (distribution 2.8) on 127.0.0.1 over TLS, started and stopped here; a 1-layer
# image signed with `sigil sign` and carrying 50 .att layers written by `sigil attest` (10 each of
# slsaprovenance, spdxjson, cyclonedx, vuln, custom). Prints, side by side with `sigil verify` on
# the same image: HTTP requests (from the registry's access log) and median wall time (hyperfine,
# N runs), and the ratio to verify. --quick: 5 runs. Results: printed, and written to
# bench/results/attestations.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs=
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 12 -- "$@"
if [ $quick = 1 ]; then runs=${runs:-5}; else runs=${runs:-20}; fi
bench_sigil
for tool in docker-registry openssl curl hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (tools/install-deps.sh)" >&2; exit 1; }
done

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench-att.XXXXXX")
cleanup() {
  stop_registries
  rm -rf "$work"
}
trap cleanup EXIT
make_test_ca "$work" || { log "cannot make certificates"; exit 1; }
start_registry R
R=127.0.0.1:${PORT[R]}
repo=bench/att
img=$R/$repo:v1
S() { "$sigil" "$1" --ca-file "$work/certs/ca.crt" "${@:2}"; }
export SIGIL_PASSWORD=bench COSIGN_PASSWORD=
"$sigil" key generate --output-prefix "$work/k" </dev/null 2>/dev/null || { log "key generate failed"; exit 1; }
python3 "$root/bench/make_layout.py" "$work/small" --size $((1 << 20)) >/dev/null || exit 1
S copy "oci:$work/small:latest" "$img" 2>"$work/last.err" || { log "copy failed"; cat "$work/last.err" >&2; exit 1; }
S sign --key "$work/k.key" "$img" 2>"$work/last.err" || { log "sign failed"; cat "$work/last.err" >&2; exit 1; }
# 50 attestations of mixed types, each a layer of the .att manifest.
types=(slsaprovenance spdxjson cyclonedx vuln custom)
for i in $(seq 0 49); do
  t=${types[$((i % 5))]}
  case $t in
    slsaprovenance) p='{"buildDefinition":{"buildType":"https://example.com/b","externalParameters":{"n":'$i'}},"runDetails":{"builder":{"id":"https://example.com/builder"}}}' ;;
    spdxjson) p='{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"n'$i'","documentNamespace":"https://example.com/'$i'","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: bench"]},"packages":[]}' ;;
    cyclonedx) p='{"bomFormat":"CycloneDX","specVersion":"1.5","version":'$((i + 1))',"components":[]}' ;;
    vuln) p='{"invocation":{"uri":"","event_id":"","builder.id":""},"scanner":{"uri":"pkg:github/aquasecurity/trivy","version":"0.50.0","result":{"n":'$i'}},"metadata":{"scanStartedOn":"2026-01-01T00:00:00Z","scanFinishedOn":"2026-01-01T00:00:01Z"}}' ;;
    custom) p='{"n":'$i'}' ;;
  esac
  printf '%s' "$p" > "$work/p$i.json"
  S attest --key "$work/k.key" --type "$t" --predicate "$work/p$i.json" "$img" \
    >/dev/null 2>"$work/last.err" || { log "attest failed"; cat "$work/last.err" >&2; exit 1; }
done

errors=0
V=("$sigil" verify --ca-file "$work/certs/ca.crt" --key "$work/k.pub" "$img")
A=("$sigil" verify-attestation --ca-file "$work/certs/ca.crt" --key "$work/k.pub" --type slsaprovenance "$img")
"${V[@]}" >/dev/null 2>&1; "${A[@]}" >/dev/null 2>&1  # warm-up
count_requests R "${V[@]}"; req_v=$REQ; [ $RC = 0 ] || { log "sigil verify failed"; cat "$work/last.err" >&2; errors=$((errors + 1)); }
count_requests R "${A[@]}"; req_a=$REQ; [ $RC = 0 ] || { log "verify-attestation failed"; cat "$work/last.err" >&2; errors=$((errors + 1)); }
counted=$(grep -c ': COUNTS: ' "$work/last.err")
hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/h.json" "${V[*]}" "${A[*]}" >/dev/null 2>"$work/last.err" \
  || { log "hyperfine failed"; cat "$work/last.err" >&2; errors=$((errors + 1)); }
read -r med_v med_a < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(" ".join("%.1f" % (x["median"] * 1e3) for x in r))' "$work/h.json" 2>/dev/null)
ratio=$(awk -v a="${med_a:-0}" -v v="${med_v:-0}" 'BEGIN { if (v > 0) printf "%.2f", a / v; else print "n/a" }')
{
  echo "attestations: an image with 50 attestations (10 each of 5 types) in a local registry (TLS)"
  printf '   %-58s %9s %11s %9s\n' "command" "requests" "median ms" "ratio"
  printf '   %-58s %9s %11s %9s\n' "sigil verify (signatures only)" "$req_v" "${med_v:-n/a}" "1.00"
  printf '   %-58s %9s %11s %9s\n' "sigil verify-attestation --type slsaprovenance ($counted counted)" "$req_a" "${med_a:-n/a}" "$ratio"
  echo "   runs: $runs; load at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$work/out.txt"
mkdir -p "$root/bench/results" && cp "$work/out.txt" "$root/bench/results/attestations.txt"
[ $errors = 0 ]

#!/usr/bin/env bash
# bench/attestations.sh [--quick] [--sigil PATH] [--runs N]
#
# verify-attestation on an image with 50 attestations of mixed types (issue 9): one Debian
# docker-registry (distribution 2.8) on 127.0.0.1, plain HTTP, started and stopped here; a 1-layer
# image signed with `sigil sign` and carrying 50 .att layers (10 each of slsaprovenance, spdxjson,
# cyclonedx, vuln, custom). Each envelope is made by `sigil attest-blob` over the image manifest's
# bytes (so its one subject is the image digest) and pushed as cosign lays out .att layers; once
# `sigil attest` is on main it can make them instead. Prints, side by side with `sigil verify` on
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
for tool in docker-registry curl hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (tools/install-deps.sh)" >&2; exit 1; }
done

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench-att.XXXXXX")
reg_pid=
cleanup() {
  [ -n "$reg_pid" ] && { kill "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null; }
  rm -rf "$work"
}
trap cleanup EXIT

port=
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 20000))
  cat > "$work/reg.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: 127.0.0.1:$port
YML
  docker-registry serve "$work/reg.yml" > "$work/reg.log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 50); do
    curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break 2
    sleep 0.1
  done
  kill "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null; reg_pid=
done
[ -n "$reg_pid" ] || { log "cannot start docker-registry: $(tail -n 3 "$work/reg.log")"; exit 1; }
R=127.0.0.1:$port
repo=bench/att
img=$R/$repo:v1
S() { "$sigil" "$1" --insecure-registry "$R" "${@:2}"; }
export SIGIL_PASSWORD=bench COSIGN_PASSWORD=
"$sigil" key generate --output-prefix "$work/k" </dev/null 2>/dev/null || { log "key generate failed"; exit 1; }
python3 "$root/bench/make_layout.py" "$work/small" --size $((1 << 20)) >/dev/null || exit 1
S copy "oci:$work/small:latest" "$img" 2>"$work/last.err" || { log "copy failed"; cat "$work/last.err" >&2; exit 1; }
S sign --key "$work/k.key" "$img" 2>"$work/last.err" || { log "sign failed"; cat "$work/last.err" >&2; exit 1; }
digest=$("$sigil" digest --insecure-registry "$R" "$img" 2>/dev/null) || { log "digest failed"; exit 1; }
curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "http://$R/v2/$repo/manifests/$digest" > "$work/manifest.json" || exit 1

# 50 envelopes of mixed types over the manifest bytes (subject = the image digest).
types=(slsaprovenance spdxjson cyclonedx vuln custom)
declare -A uri=([slsaprovenance]=https://slsa.dev/provenance/v1 [spdxjson]=https://spdx.dev/Document
  [cyclonedx]=https://cyclonedx.org/bom [vuln]=https://cosign.sigstore.dev/attestation/vuln/v1
  [custom]=https://cosign.sigstore.dev/attestation/v1)
: > "$work/layers.txt"
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
  "$sigil" attest-blob --key "$work/k.key" --type "$t" --predicate "$work/p$i.json" \
    --output-signature "$work/e$i.json" "$work/manifest.json" >/dev/null 2>"$work/last.err" \
    || { log "attest-blob failed"; cat "$work/last.err" >&2; exit 1; }
  d=sha256:$(sha256sum "$work/e$i.json" | cut -d' ' -f1)
  loc=$(curl -fsS -D - -o /dev/null -X POST "http://$R/v2/$repo/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  case $loc in http*) ;; *) loc=http://$R$loc ;; esac
  case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
  curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$work/e$i.json" \
    "$loc${sep}digest=$d" >/dev/null || { log "blob upload failed"; exit 1; }
  printf '%s %s %s\n' "$d" "$(stat -c %s "$work/e$i.json")" "${uri[$t]}" >> "$work/layers.txt"
done
printf '{}' > "$work/config.json"
cd_=sha256:$(sha256sum "$work/config.json" | cut -d' ' -f1)
loc=$(curl -fsS -D - -o /dev/null -X POST "http://$R/v2/$repo/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
case $loc in http*) ;; *) loc=http://$R$loc ;; esac
case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$work/config.json" "$loc${sep}digest=$cd_" >/dev/null || exit 1
python3 - "$work/layers.txt" "$cd_" > "$work/att.json" <<'PY'
import json, sys
layers = []
for line in open(sys.argv[1]):
    d, size, t = line.split()
    layers.append({"mediaType": "application/vnd.dsse.envelope.v1+json", "digest": d,
                   "size": int(size), "annotations": {"predicateType": t}})
print(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                             "digest": sys.argv[2], "size": 2}, "layers": layers}))
PY
curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @"$work/att.json" \
  "http://$R/v2/$repo/manifests/sha256-${digest#sha256:}.att" >/dev/null || { log "att manifest push failed"; exit 1; }

requests() { grep -cE '"(GET|HEAD|PUT|POST|PATCH|DELETE) /v2/' "$work/reg.log"; }
count() {  # count CMD…: REQ (requests made), RC
  local before; before=$(requests)
  "$@" >/dev/null 2>"$work/last.err"; RC=$?
  sleep 0.3
  REQ=$(( $(requests) - before ))
}
errors=0
V=("$sigil" verify --insecure-registry "$R" --key "$work/k.pub" "$img")
A=("$sigil" verify-attestation --insecure-registry "$R" --key "$work/k.pub" --type slsaprovenance "$img")
"${V[@]}" >/dev/null 2>&1; "${A[@]}" >/dev/null 2>&1  # warm-up
count "${V[@]}"; req_v=$REQ; [ $RC = 0 ] || { log "sigil verify failed"; cat "$work/last.err" >&2; errors=$((errors + 1)); }
count "${A[@]}"; req_a=$REQ; [ $RC = 0 ] || { log "verify-attestation failed"; cat "$work/last.err" >&2; errors=$((errors + 1)); }
counted=$(grep -c ': COUNTS: ' "$work/last.err")
hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/h.json" "${V[*]}" "${A[*]}" >/dev/null 2>"$work/last.err" \
  || { log "hyperfine failed"; cat "$work/last.err" >&2; errors=$((errors + 1)); }
read -r med_v med_a < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(" ".join("%.1f" % (x["median"] * 1e3) for x in r))' "$work/h.json" 2>/dev/null)
ratio=$(awk -v a="${med_a:-0}" -v v="${med_v:-0}" 'BEGIN { if (v > 0) printf "%.2f", a / v; else print "n/a" }')
{
  echo "attestations: an image with 50 attestations (10 each of 5 types) in a local registry (plain HTTP)"
  printf '   %-58s %9s %11s %9s\n' "command" "requests" "median ms" "ratio"
  printf '   %-58s %9s %11s %9s\n' "sigil verify (signatures only)" "$req_v" "${med_v:-n/a}" "1.00"
  printf '   %-58s %9s %11s %9s\n' "sigil verify-attestation --type slsaprovenance ($counted counted)" "$req_a" "${med_a:-n/a}" "$ratio"
  echo "   runs: $runs; load at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$work/out.txt"
mkdir -p "$root/bench/results" && cp "$work/out.txt" "$root/bench/results/attestations.txt"
[ $errors = 0 ]

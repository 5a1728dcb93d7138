#!/usr/bin/env bash
# bench/run.sh [--quick] [--sigil PATH] [--runs N]
#
# Benchmarks sigil side by side with a reference measured in the same run, and prints ratios with
# PASS/MISS against the targets of issues 2 and 7. Benchmarks are never timed tests: MISS does not
# fail the script; a command that errors does (exit 1, after printing what it could).
#   a. `sigil digest --layers` of an OCI layout holding one random 1 GiB layer (uncompressed media type, so the
#      diffID is the blob digest) vs `openssl dgst -sha256`, a Python hashlib loop with 1 MiB reads
#      and `sha256sum` of the same blob, and the in-memory limit (`openssl speed -evp sha256`, 16 KiB
#      blocks: the hash alone); the library path in one process (sigil-bench-hash: stream_blob,
#      inspect_image). Targets: sigil >= 0.95x the in-memory limit, and never slower than openssl
#      dgst (>= 1.00); sigil's peak RSS <= 64 MiB. The same for a gzip layer vs `zcat | openssl
#      dgst -sha256` (informational).
#   b. 4 layers of 256 MiB: wall time of one `sigil digest --layers` vs the sum of the 4 single-layer runs
#      (target <= 0.65 on 2 cores).
#   c. `sigil verify` of a signed 1-layer (1 MiB) layout, process start to exit: median of 20 runs.
#   d. `sigil attest` / `sigil sign` on one image in a local registry (bench/attest.sh), when
#      docker-registry is installed.
#   e. bench/attestations.sh: verify-attestation of an image with 50 attestations in a local
#      registry, requests and median wall time next to `sigil verify` (needs docker-registry).
#   f. bench/policy.sh: `sigil verify --policy` over 100 signed images in one process vs 100
#      separate `sigil verify --key` runs, same registry: wall time, per image, ratio, requests.
#   g. bench/hook.sh: the containerd hook process, cached and uncached, p50/p99 of 200 runs
#      against a local registry (issue 10; needs docker-registry).
#   h. bench/docker.sh: `docker run` of a signed, cached image on a dockerd with the sigil
#      authorization plugin over one without it (median ratio, target <= 1.20), when dockerd is
#      installed and this runs as root.
#   i. bench/serve.sh: the admission webhook (sigil-verify serve) under wrk over TLS: cached and
#      cold /validate, p50/p99, memory after 1 000 000 requests (needs wrk and docker-registry).
# --quick: small sizes (64 MiB, 4 x 32 MiB) for a smoke run. Each timing is the best of N runs
# (default 3, quick 2) after a warm-up, so all contenders read from the page cache.
# Big files go to a temporary directory under /tmp (TMPDIR) and are deleted at exit.
# Results: printed, and written to bench/results/latest.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs=
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 33 -- "$@"

MiB=$((1 << 20))
if [ $quick = 1 ]; then
  big=$((64 * MiB)) part=$((32 * MiB)) runs=${runs:-2} vruns=10
else
  big=$((1024 * MiB)) part=$((256 * MiB)) runs=${runs:-3} vruns=20
fi
small=$MiB

bench_sigil
# The in-process library benchmark, next to sigil (built here when sigil was).
bench_hash=$(dirname "$sigil")/sigil-bench-hash
if [ ! -x "$bench_hash" ] && [ "$sigil" = "$root/build/bin/sigil" ]; then
  bash "$root/tools/build.sh" --target sigil-bench-hash </dev/null >/dev/null 2>&1 || true
fi
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (package time)" >&2; exit 1; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
errors=0


# best NAME CMD...: best-of-$runs wall time into BEST[NAME] and the highest peak RSS into PEAK[NAME]
# (called round-robin by the callers, so contenders share the machine's state). "" on error.
declare -A BEST PEAK FAILED
best() {
  local name=$1; shift
  [ -n "${FAILED[$name]:-}" ] && return 1
  if ! measure "$@"; then
    FAILED[$name]=1; BEST[$name]=
    log "$name failed: $*"; sed 's/^/    /' "$work/last.err" | head -n 5 >&2
    errors=$((errors + 1))
    return 1
  fi
  if [ -z "${BEST[$name]:-}" ] || awk -v a="$T" -v b="${BEST[$name]}" 'BEGIN { exit !(a < b) }'; then
    BEST[$name]=$T
  fi
  if [ -z "${PEAK[$name]:-}" ] || [ "$RSS" -gt "${PEAK[$name]}" ]; then PEAK[$name]=$RSS; fi
}

calc() { awk "BEGIN { printf \"$1\", $2 }"; }
# verdict VALUE OP TARGET -> PASS or MISS ("n/a" when VALUE is empty)
verdict() {
  [ -z "$1" ] && { echo "n/a"; return; }
  awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "PASS" : "MISS" }'
}
warm() { cat "$@" >/dev/null; }

out=()
row() { out+=("$(printf "$@")"); }

# ---------------------------------------------------------------------------------------------
log "a. generating a $((big / MiB)) MiB random layer (uncompressed) and a gzip one"
python3 "$root/bench/make_layout.py" "$work/one" --size $big >"$work/one.layers" || exit 1
python3 "$root/bench/make_layout.py" "$work/gz" --size $big --gzip >"$work/gz.layers" || exit 1
blob=$work/one/blobs/sha256/$(awk '{ sub("sha256:", "", $1); print $1; exit }' "$work/one.layers")
gzblob=$work/gz/blobs/sha256/$(awk '{ sub("sha256:", "", $1); print $1; exit }' "$work/gz.layers")
warm "$blob" "$gzblob"

# Sanity: sigil reports the diffID the generator computed for the gzip layer.
want=$(awk '{ print $2; exit }' "$work/gz.layers")
if "$sigil" digest --layers --output json "oci:$work/gz:latest" >"$work/gz.json" 2>"$work/last.err"; then
  got=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][0].get("diffID", ""))' \
        "$work/gz.json" 2>/dev/null)
  [ "$got" = "$want" ] || { log "sigil digest reports diffID '$got', expected $want"; errors=$((errors + 1)); }
else
  log "sigil digest --output json failed:"; sed 's/^/    /' "$work/last.err" | head -n 5 >&2
fi

cat >"$work/hash_loop.py" <<'PY'
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        h.update(b)
print(h.hexdigest())
PY
log "a. timing (best of $runs)"
lib_stream= lib_inspect=
for _ in $(seq 0 "$runs"); do  # the first round is a warm-up, overwritten by BEST only if faster
  best openssl openssl dgst -sha256 "$blob"
  best python python3 "$work/hash_loop.py" "$blob"
  best sha256sum sha256sum "$blob"
  best sigil "$sigil" digest --layers "oci:$work/one:latest"
  best zcat_openssl bash -c 'zcat "$1" | openssl dgst -sha256' _ "$gzblob"
  best sigil_gz "$sigil" digest --layers "oci:$work/gz:latest"
  if [ -x "$bench_hash" ] && "$bench_hash" "$work/one" latest 1 >"$work/lib.txt" 2>"$work/last.err"; then
    s=$(awk '$1 == "stream_blob" { print $2 }' "$work/lib.txt")
    i=$(awk '$1 == "inspect_image" { print $2 }' "$work/lib.txt")
    if [ -z "$lib_stream" ] || awk -v a="$s" -v b="$lib_stream" 'BEGIN { exit !(a < b) }'; then lib_stream=$s; fi
    if [ -z "$lib_inspect" ] || awk -v a="$i" -v b="$lib_inspect" 'BEGIN { exit !(a < b) }'; then lib_inspect=$i; fi
  fi
done
# The in-memory limit: OpenSSL's SHA-256 over 16 KiB blocks already in cache (bytes/s, from "k").
speed=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '$1 == "sha256" { sub("k", "", $2); print $2 * 1000 }')
limit_s=
[ -n "$speed" ] && limit_s=$(calc "%.6f" "$big / $speed")
mbs() { [ -n "$2" ] && calc "%.0f" "$1 / $2 / 1e6" || echo "n/a"; }
ratio_a= ratio_limit= ratio_python= ratio_gz= rss_mib= ratio_lib=
[ -n "${BEST[sigil]}" ] && [ -n "${BEST[openssl]}" ] && ratio_a=$(calc "%.2f" "${BEST[openssl]} / ${BEST[sigil]}")
[ -n "${BEST[sigil]}" ] && [ -n "$limit_s" ] && ratio_limit=$(calc "%.2f" "$limit_s / ${BEST[sigil]}")
[ -n "${BEST[sigil]}" ] && [ -n "${BEST[python]}" ] && ratio_python=$(calc "%.2f" "${BEST[python]} / ${BEST[sigil]}")
[ -n "$lib_stream" ] && [ -n "$limit_s" ] && ratio_lib=$(calc "%.2f" "$limit_s / $lib_stream")
[ -n "${BEST[sigil_gz]}" ] && [ -n "${BEST[zcat_openssl]}" ] && ratio_gz=$(calc "%.2f" "${BEST[zcat_openssl]} / ${BEST[sigil_gz]}")
[ -n "${BEST[sigil]}" ] && rss_mib=$(calc "%.1f" "${PEAK[sigil]} / 1024")
rss_gz_mib=
[ -n "${BEST[sigil_gz]}" ] && rss_gz_mib=$(calc "%.1f" "${PEAK[sigil_gz]} / 1024")

row "a. hashing one $((big / MiB)) MiB random layer (page cache warm, best of $runs)"
row "   %-40s %10s %10s %10s" "command" "time s" "MB/s" "peak RSS"
row "   %-40s %10s %10s %12s" "in-memory limit (openssl speed, 16 KiB)" "${limit_s:-n/a}" \
  "$(mbs $big "$limit_s")" "(hash only)"
for n in openssl python sha256sum sigil; do
  case $n in
    openssl) label="openssl dgst -sha256 BLOB" ;;
    python) label="python3 hashlib, 1 MiB reads" ;;
    sha256sum) label="sha256sum BLOB" ;;
    sigil) label="sigil digest oci:DIR:latest (.tar)" ;;
  esac
  row "   %-40s %10s %10s %8s MiB" "$label" "${BEST[$n]:-n/a}" "$(mbs $big "${BEST[$n]}")" \
    "$( [ -n "${BEST[$n]}" ] && calc "%.1f" "${PEAK[$n]} / 1024" || echo n/a)"
done
row "   %-40s %10s %10s %12s" "library: ImageSource::stream_blob" "${lib_stream:-n/a}" \
  "$(mbs $big "$lib_stream")" "(in process)"
row "   %-40s %10s %10s %12s" "library: inspect_image (no diffIDs)" "${lib_inspect:-n/a}" \
  "$(mbs $big "$lib_inspect")" "(in process)"
row "   %-40s %10s %10s %8s MiB" "zcat BLOB.gz | openssl dgst -sha256" "${BEST[zcat_openssl]:-n/a}" \
  "$(mbs $big "${BEST[zcat_openssl]}")" "$( [ -n "${BEST[zcat_openssl]}" ] && calc "%.1f" "${PEAK[zcat_openssl]} / 1024" || echo n/a)"
row "   %-40s %10s %10s %8s MiB" "sigil digest oci:DIR:latest (.tar+gzip)" "${BEST[sigil_gz]:-n/a}" \
  "$(mbs $big "${BEST[sigil_gz]}")" "${rss_gz_mib:-n/a}"
row "   (MB/s: uncompressed bytes / 10^6 per second; gzip blob is $(stat -c %s "$gzblob") bytes)"

# ---------------------------------------------------------------------------------------------
rm -rf "$work/one" "$work/gz"
log "b. generating 4 random layers of $((part / MiB)) MiB"
python3 "$root/bench/make_layout.py" "$work/four" --layers 4 --size $part --singles >/dev/null || exit 1
warm "$work"/four/blobs/sha256/*
log "b. timing (best of $runs)"
for _ in $(seq 0 "$runs"); do
  best four "$sigil" digest --layers "oci:$work/four:latest"
  for i in 0 1 2 3; do best "single$i" "$sigil" digest --layers "oci:$work/four:layer-$i"; done
done
sum= ratio_b=
if [ -n "${BEST[four]}" ] && [ -n "${BEST[single0]}" ] && [ -n "${BEST[single1]}" ] \
   && [ -n "${BEST[single2]}" ] && [ -n "${BEST[single3]}" ]; then
  sum=$(calc "%.6f" "${BEST[single0]} + ${BEST[single1]} + ${BEST[single2]} + ${BEST[single3]}")
  ratio_b=$(calc "%.2f" "${BEST[four]} / $sum")
fi
row ""
row "b. 4 layers of $((part / MiB)) MiB, $(nproc) cores (best of $runs)"
row "   %-40s %10s" "sigil digest, 4-layer image" "${BEST[four]:-n/a}"
row "   %-40s %10s  (%s)" "sum of 4 single-layer digests" "${sum:-n/a}" \
  "$(for i in 0 1 2 3; do printf '%s ' "${BEST[single$i]:-n/a}"; done | sed 's/ $//')"
rm -rf "$work/four"

# ---------------------------------------------------------------------------------------------
log "c. signing a 1-layer layout of $((small / MiB)) MiB"
python3 "$root/bench/make_layout.py" "$work/signed" --size $small >/dev/null || exit 1
verify_ms= verify_note=
if SIGIL_PASSWORD=bench "$sigil" key generate --output-prefix "$work/bench" </dev/null 2>"$work/last.err" \
   && SIGIL_PASSWORD=bench "$sigil" sign --key "$work/bench.key" "oci:$work/signed:latest" </dev/null 2>>"$work/last.err" \
   && "$sigil" verify --key "$work/bench.pub" "oci:$work/signed:latest" </dev/null 2>>"$work/last.err"; then
  log "c. timing sigil verify ($vruns runs)"
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --runs $vruns --export-json "$work/verify.json" \
      "$sigil verify --key $work/bench.pub oci:$work/signed:latest" >/dev/null 2>&1 || errors=$((errors + 1))
    read -r verify_ms verify_note < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.1f" % (r["median"] * 1e3), "(hyperfine: min %.1f, max %.1f, stddev %.1f ms)" % (r["min"] * 1e3, r["max"] * 1e3, r["stddev"] * 1e3))
' "$work/verify.json")
  else
    for _ in $(seq 1 $vruns); do
      measure "$sigil" verify --key "$work/bench.pub" "oci:$work/signed:latest" || errors=$((errors + 1))
      echo "$T"
    done | sort -n >"$work/times"
    verify_ms=$(awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m * 1e3 }' "$work/times")
    verify_note="(shell loop)"
  fi
else
  log "c. key generate / sign / verify failed:"; sed 's/^/    /' "$work/last.err" | tail -n 5 >&2
  errors=$((errors + 1))
fi
row ""
row "c. sigil verify of a signed 1-layer (%s MiB) layout, process start to exit, %s runs" "$((small / MiB))" "$vruns"
row "   median %s ms %s" "${verify_ms:-n/a}" "$verify_note"

# ---------------------------------------------------------------------------------------------
# d. attest / sign on one image in a local registry (bench/attest.sh; issue 9)
ratio_att=
if command -v docker-registry >/dev/null; then
  log "d. sigil attest vs sigil sign (bench/attest.sh)"
  if att_out=$(bash "$root/bench/attest.sh" $([ $quick = 1 ] && echo --quick) --sigil "$sigil" 2>"$work/last.err"); then
    row ""
    while IFS= read -r line; do row "%s" "$line"; done <<<"$att_out"
    ratio_att=$(awk '/^ *attest \/ sign/ { print $NF }' <<<"$att_out")
  else
    log "bench/attest.sh failed:"; sed 's/^/    /' "$work/last.err" | tail -n 5 >&2
    errors=$((errors + 1))
  fi
fi

# ---------------------------------------------------------------------------------------------
row ""
row "targets (issues 2 and 7)                       measured   target     verdict"
row "   %-42s %8s   %-9s  %s" "sigil digest / in-memory limit" "${ratio_limit:-n/a}" ">= 0.95" "$(verdict "$ratio_limit" ">=" 0.95)"
row "   %-42s %8s   %-9s  %s" "sigil digest / openssl dgst" "${ratio_a:-n/a}" ">= 1.00" "$(verdict "$ratio_a" ">=" 1.00)"
row "   %-42s %8s   %-9s  %s" "library stream_blob / in-memory limit" "${ratio_lib:-n/a}" ">= 0.95" "$(verdict "$ratio_lib" ">=" 0.95)"
row "   %-42s %8s   %-9s  %s" "sigil digest / python hashlib loop" "${ratio_python:-n/a}" "-" "info"
row "   %-42s %8s   %-9s  %s" "sigil digest peak RSS (MiB)" "${rss_mib:-n/a}" "<= 64" "$(verdict "$rss_mib" "<=" 64)"
row "   %-42s %8s   %-9s  %s" "gzip: sigil peak RSS (MiB)" "${rss_gz_mib:-n/a}" "<= 64" "$(verdict "$rss_gz_mib" "<=" 64)"
row "   %-42s %8s   %-9s  %s" "4-layer wall / sum of single-layer walls" "${ratio_b:-n/a}" "<= 0.65" "$(verdict "$ratio_b" "<=" 0.65)"
row "   %-42s %8s   %-9s  %s" "gzip: sigil / (zcat | openssl dgst)" "${ratio_gz:-n/a}" "-" "info"
row "   %-42s %8s   %-9s  %s" "verify, median ms" "${verify_ms:-n/a}" "-" "info"
row "   %-42s %8s   %-9s  %s" "attest / sign, median (registry)" "${ratio_att:-n/a}" "-" "info"

header="sigil benchmarks $([ $quick = 1 ] && echo '(--quick) ')$(date -u +%Y-%m-%dT%H:%MZ)
commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); $(openssl version | cut -d' ' -f1-2)
load average before the run: $load_start (ratios are only meaningful on an otherwise idle machine)"
mkdir -p "$root/bench/results"
{ echo "$header"; echo; printf '%s\n' "${out[@]}"; } | tee "$root/bench/results/latest.txt"
echo
quick_flag=()
[ $quick = 1 ] && quick_flag=(--quick)
if command -v docker-registry >/dev/null && command -v hyperfine >/dev/null; then
  bash "$root/bench/attestations.sh" --sigil "$sigil" "${quick_flag[@]}" || errors=$((errors + 1))
else
  log "e. attestations skipped: docker-registry or hyperfine missing"
fi
if command -v docker-registry >/dev/null; then
  bash "$root/bench/policy.sh" --sigil "$sigil" "${quick_flag[@]}" || errors=$((errors + 1))
  echo
  bash "$root/bench/hook.sh" --sigil "$sigil" "${quick_flag[@]}" || errors=$((errors + 1))
else
  log "f. policy and g. containerd hook skipped: docker-registry missing"
fi
if command -v wrk >/dev/null && command -v docker-registry >/dev/null; then
  echo
  bash "$root/bench/serve.sh" --sigil "$sigil" "${quick_flag[@]}" || errors=$((errors + 1))
else
  log "i. serve skipped: wrk or docker-registry missing"
fi
if [ -x /usr/sbin/dockerd ] && command -v docker-registry >/dev/null && [ "$(id -u)" = 0 ]; then
  bash "$root/bench/docker.sh" --sigil "$sigil" "${quick_flag[@]}" || errors=$((errors + 1))
else
  log "h. docker skipped: dockerd or docker-registry missing, or not root"
fi
if [ $errors -ne 0 ]; then
  echo "bench: $errors command(s) failed; see above" >&2
  exit 1
fi

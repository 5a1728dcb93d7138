#!/usr/bin/env bash
# bench/digest.sh [--quick] [--sigil PATH] [--runs N] [--size MIB]
#
# Resolving a tag in a registry (issue 8): `sigil digest IMAGE` next to Debian's
# `skopeo inspect --format {{.Digest}}` on the same image, measured in the same run: HTTP
# requests (from the registry's own access log) and median wall time over N runs (hyperfine).
# For scale, also `sigil digest --layers` (what `sigil digest` cost before: every blob fetched
# and hashed, diffIDs computed), run 3 times.
# Starts a Debian docker-registry (distribution 2.8) on 127.0.0.1 with TLS from a CA made for the
# run and stops it at exit; the image (3 random layers, MIB in all, default 300) is pushed with
# `sigil copy`. --quick: 30 MiB, 10 runs. Results: printed, and written to
# bench/results/digest.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs= size=
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 12 size -- "$@"
if [ $quick = 1 ]; then size=${size:-30} runs=${runs:-10}; else size=${size:-300} runs=${runs:-30}; fi

bench_sigil
for tool in docker-registry openssl curl skopeo hyperfine python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (tools/install-deps.sh)" >&2; exit 1; }
done

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench-digest.XXXXXX")
cleanup() {
  stop_registries
  rm -rf "$work"
}
trap cleanup EXIT

# --- a CA, a server certificate for 127.0.0.1, a registry ---------------------------------------
make_test_ca "$work" || { log "cannot make certificates"; exit 1; }
ca=$work/certs/ca.crt

start_registry R
host=127.0.0.1:${PORT[R]}
image=$host/bench/app:v1
log "registry at $host; pushing a $size MiB image (3 layers)"

python3 "$root/bench/make_layout.py" "$work/layout" --layers 3 --size $((size * 1048576 / 3)) \
  >/dev/null || { log "make_layout.py failed"; exit 1; }
"$sigil" copy --quiet --ca-file "$ca" "oci:$work/layout:latest" "$image" 2>"$work/last.err" \
  || { log "sigil copy failed: $(tail -n 3 "$work/last.err")"; exit 1; }

sigil_digest=("$sigil" digest --ca-file "$ca" "$image")
skopeo_digest=(skopeo inspect --cert-dir "$work/cadir" --format '{{.Digest}}' "docker://$image")
sigil_layers=("$sigil" digest --layers --quiet --ca-file "$ca" "$image")

errors=0
count_requests R "${sigil_digest[@]}"; req_sigil=$REQ out_sigil=$OUT
[ $RC = 0 ] || { log "sigil digest failed: $(tail -n 3 "$work/last.err")"; errors=$((errors + 1)); }
count_requests R "${skopeo_digest[@]}"; req_skopeo=$REQ out_skopeo=$OUT
[ $RC = 0 ] || { log "skopeo inspect failed: $(tail -n 3 "$work/last.err")"; errors=$((errors + 1)); }
count_requests R "${sigil_layers[@]}"; req_layers=$REQ
[ $RC = 0 ] || { log "sigil digest --layers failed"; errors=$((errors + 1)); }
if [ "$out_sigil" != "$out_skopeo" ]; then
  log "the digests differ: sigil $out_sigil, skopeo $out_skopeo"
  errors=$((errors + 1))
fi

q() { printf '%q ' "$@"; }
log "timing: $runs runs each"
hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/digest.json" \
  "$(q "${sigil_digest[@]}")" "$(q "${skopeo_digest[@]}")" >/dev/null 2>"$work/last.err" \
  || { log "hyperfine failed: $(tail -n 3 "$work/last.err")"; errors=$((errors + 1)); }
hyperfine -N --runs 3 --export-json "$work/layers.json" "$(q "${sigil_layers[@]}")" \
  >/dev/null 2>"$work/last.err" || { log "hyperfine (--layers) failed"; errors=$((errors + 1)); }
read -r t_sigil t_skopeo t_layers < <(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["results"]
b = json.load(open(sys.argv[2]))["results"]
print(" ".join("%.1f" % (x["median"] * 1e3) for x in a + b))
' "$work/digest.json" "$work/layers.json" 2>/dev/null)

{
  echo "bench/digest.sh: resolving a tag in a local TLS registry (distribution 2.8), $(date -u +%F)"
  echo "image: $size MiB in 3 layers; $runs runs; load average at start: $load_start"
  printf '%-46s %9s %12s\n' "command" "requests" "median ms"
  printf '%-46s %9s %12s\n' "sigil digest IMAGE" "$req_sigil" "${t_sigil:-?}"
  printf '%-46s %9s %12s\n' "skopeo inspect --format {{.Digest}} IMAGE" "$req_skopeo" "${t_skopeo:-?}"
  printf '%-46s %9s %12s\n' "sigil digest --layers IMAGE (3 runs)" "$req_layers" "${t_layers:-?}"
  if [ -n "${t_sigil:-}" ] && [ -n "${t_skopeo:-}" ]; then
    awk -v a="$t_sigil" -v b="$t_skopeo" -v c="$t_layers" -v ra="$req_sigil" -v rb="$req_skopeo" \
      'BEGIN { printf "ratio sigil/skopeo: time %.2f, requests %.2f; --layers/plain: time %.0fx\n", a / b, ra / rb, c / a }'
  fi
  echo "digests agree: $([ "$out_sigil" = "$out_skopeo" ] && echo yes || echo NO)"
} | tee "$root/bench/results/digest.txt"
exit $((errors > 0))

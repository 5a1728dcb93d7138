#!/usr/bin/env bash
# bench/serve.sh [--quick] [--sigil PATH] [--duration SECONDS] [--images N] [--total N]
#                [--connections N]
#
# The admission webhook (`sigil-verify serve`, issue 11) under wrk (Debian's), over TLS on
# 127.0.0.1 with keep-alive, against one Debian docker-registry (TLS, a CA made for the run)
# holding signed images, both started and stopped here:
#   a. cached: POST /validate of one AdmissionReview (a Pod whose image, by digest, is signed),
#      after one warm-up request: requests/s and p50/p99 (wrk --latency), --connections
#      connections (default 16) for --duration seconds (default 10, quick 3); beside it, in the
#      same run and the same way, GET /healthz (the server with no admission work): the ratio.
#      Target: >= 10 000 requests/s at p99 <= 5 ms. Every answer must be 200 and allowed.
#   b. cold: each request a new signed image (--images N of them pushed first, each its own
#      digest; default 200, quick 50): one connection, one request at a time, each the first
#      for its image, so each verifies (signature tag, manifest, signature layer): p50/p99.
#   c. memory: the server's VmRSS and VmHWM (/proc/PID/status) after the warm-up, under the
#      cached load, half-way and after --total requests (default 1 000 000, quick 200 000): no
#      growth (at most 4 MiB over the load's, allocator arenas filling, and under 2 bytes per
#      request in the second half, where a leak of one heap chunk per request would be 32+).
# References are measured in the same run, so compare ratios. Results: printed, and written to
# bench/results/serve.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs= duration= images= total= connections=
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 19 duration images total connections -- "$@"
if [ $quick = 1 ]; then
  duration=${duration:-3} images=${images:-50} total=${total:-200000}
else
  duration=${duration:-10} images=${images:-200} total=${total:-1000000}
fi
connections=${connections:-16}
for v in duration images total connections; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench: --$v must be a positive number" >&2; exit 2; }
done

bench_sigil
verifier=$(cd "$(dirname "$sigil")" && pwd)/sigil-verify
if [ ! -x "$verifier" ] && [ "$sigil" = "$root/build/bin/sigil" ]; then
  bash "$root/tools/build.sh" --target sigil-verify </dev/null >/dev/null 2>&1 || true
fi
[ -x "$verifier" ] || { echo "bench: $verifier is not executable" >&2; exit 1; }
for tool in wrk docker-registry openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (tools/install-deps.sh)" >&2; exit 1; }
done

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench-serve.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  stop_registries
  rm -rf "$work"
}
trap cleanup EXIT
errors=0

make_test_ca "$work" || { log "cannot make certificates"; exit 1; }
ca=$work/certs/ca.crt
start_registry R
R=127.0.0.1:${PORT[R]}
export SIGIL_PASSWORD=bench COSIGN_PASSWORD=
"$sigil" key generate --output-prefix "$work/k" </dev/null 2>"$work/last.err" || { log "key generate failed"; exit 1; }

# Images: one layer shared by all, a config of its own each (so a digest of its own each), signed
# in the layout, then copied with the signature. app:v1 for (a), cold:N for (b).
log "pushing and signing $((images + 1)) images"
python3 - "$work/img" "$images" <<'PY' || exit 1
import hashlib, json, os, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root + "/blobs/sha256", exist_ok=True)
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open("%s/blobs/sha256/%s" % (root, d), "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
layer = os.urandom(4096)
layer_desc = dict(blob(layer), mediaType="application/vnd.oci.image.layer.v1.tar")
manifests = []
for i in range(n + 1):
    tag = "app" if i == 0 else "cold-%d" % i
    config = {"architecture": "amd64", "os": "linux", "config": {"Labels": {"bench": tag}},
              "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]}}
    c = dict(blob(json.dumps(config).encode()), mediaType="application/vnd.oci.image.config.v1+json")
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
         "config": c, "layers": [layer_desc]}
    d = dict(blob(json.dumps(m).encode()), mediaType="application/vnd.oci.image.manifest.v1+json")
    d["annotations"] = {"org.opencontainers.image.ref.name": tag}
    manifests.append(d)
json.dump({"schemaVersion": 2, "manifests": manifests}, open(root + "/index.json", "w"))
open(root + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
push() {  # push TAG DEST: sign oci:$work/img:TAG, copy it with its signature to DEST
  "$sigil" sign --key "$work/k.key" "oci:$work/img:$1" </dev/null >/dev/null 2>"$work/last.err" &&
    "$sigil" copy --quiet --ca-file "$ca" "oci:$work/img:$1" "$2" </dev/null >/dev/null 2>>"$work/last.err" ||
    { log "sign/copy $1 failed: $(tail -n 3 "$work/last.err")"; exit 1; }
}
digest_of() {
  python3 -c 'import json, sys
for m in json.load(open(sys.argv[1] + "/index.json"))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]:
        print(m["digest"]); break' "$work/img" "$1"
}
push app "$R/bench/app:v1"
app_ref=$R/bench/app@$(digest_of app)
: >"$work/cold.refs"
for i in $(seq 1 "$images"); do
  push "cold-$i" "$R/bench/cold:v$i"
  echo "$R/bench/cold@$(digest_of "cold-$i")" >>"$work/cold.refs"
done

mkdir -p "$work/policy"
cp "$work/k.pub" "$work/policy/release.pub"
cat >"$work/policy/policy.yaml" <<YAML
version: 1
keys:
  release: release.pub
rules:
  - name: bench
    match: $R/bench/**
    keys: [release]
default:
  action: reject
YAML

# AdmissionReview bodies as the API server sends them (admission.k8s.io/v1, a Pod CREATE), one
# per image: review.json for (a), cold/N.json for (b).
mkdir -p "$work/cold"
python3 - "$work" "$app_ref" <<'PY' || exit 1
import json, sys, uuid
work, app = sys.argv[1], sys.argv[2]
def review(image, n):
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "bench-%d" % n, "namespace": "default", "labels": {"app": "bench"}},
           "spec": {"containers": [{"name": "app", "image": image,
                                    "resources": {"requests": {"cpu": "10m"}}}],
                    "restartPolicy": "Always", "serviceAccountName": "default"}}
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": str(uuid.UUID(int=n + 1)),
                        "kind": {"group": "", "version": "v1", "kind": "Pod"},
                        "resource": {"group": "", "version": "v1", "resource": "pods"},
                        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
                        "requestResource": {"group": "", "version": "v1", "resource": "pods"},
                        "name": "bench-%d" % n, "namespace": "default", "operation": "CREATE",
                        "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller",
                                     "uid": "5b2a4c8e-0d3f-4e51-9a6b-7c8d9e0f1a2b",
                                     "groups": ["system:serviceaccounts", "system:authenticated"]},
                        "object": pod, "oldObject": None, "dryRun": False,
                        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}}}
json.dump(review(app, 0), open(work + "/review.json", "w"))
for i, ref in enumerate(open(work + "/cold.refs").read().split(), 1):
    json.dump(review(ref, i), open("%s/cold/%d.json" % (work, i), "w"))
PY

# wrk scripts: POST a body; check every answer (200, allowed) and count the ones that are not.
cat >"$work/check.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  bad, shown, sent, got, limit = 0, "", 0, 0, tonumber(args[2] or "0")
  bodies = {}
  if args[1] == "cold" then
    local i = 1
    while true do
      local f = io.open(args[3] .. "/" .. i .. ".json", "r")
      if not f then break end
      bodies[i] = f:read("*a"); f:close(); i = i + 1
    end
  elseif args[1] == "post" then
    local f = io.open(args[3], "r"); bodies[1] = f:read("*a"); f:close()
  end
end
-- wrk 4.1 calls request() once before the first request it sends (and drops what it returns):
-- (b)'s N answers are then for images 2..N and 1, each once.
function request()
  sent = sent + 1
  if #bodies == 0 then return wrk.format("GET", wrk.path) end
  local body = bodies[((sent - 1) % #bodies) + 1]
  return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  local ok = status == 200
  if ok and #bodies > 0 then ok = body:find('"allowed":%s*true') ~= nil end
  if not ok then
    bad = bad + 1
    if shown == "" then shown = status .. " " .. string.sub(body or "", 1, 300) end
  end
  got = got + 1
  -- (b): no request after the last image's (wrk then waits out its duration)
  if limit > 0 and got >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local b, s = 0, ""
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
    if s == "" then s = t:get("shown") end
  end
  io.write(string.format("BAD %d\n", b))
  if s ~= "" then io.write("FIRST-BAD " .. s:gsub("\n", " ") .. "\n") end
end
LUA

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=https://127.0.0.1:$port
# The decision log (a JSON line per request) is read, and all but its first 200 lines dropped:
# /tmp would otherwise hold a line for each of the million requests.
"$verifier" serve --policy "$work/policy/policy.yaml" --tls-cert "$work/certs/server.crt" \
  --tls-key "$work/certs/server.key" --listen "127.0.0.1:$port" --ca-file "$ca" \
  2> >(sed -u 200q >"$work/serve.log"; cat >/dev/null) &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS --cacert "$ca" "$url/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
curl -fsS --cacert "$ca" "$url/readyz" >/dev/null 2>&1 \
  || { log "sigil-verify serve did not become ready: $(tail -n 5 "$work/serve.log")"; exit 1; }

# verdict VALUE OP TARGET -> PASS or MISS ("n/a" when VALUE is empty), as bench/run.sh prints it
verdict() {
  case $1 in "" | n/a) echo "n/a"; return ;; esac
  awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "PASS" : "MISS" }'
}
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$server_pid/status"; }  # KiB
# wrk_run NAME THREADS CONNECTIONS SECONDS PATH MODE [LIMIT BODY]: runs wrk, keeps its output in
# $work/NAME.wrk; sets RPS, P50, P99 (ms), REQS and BAD.
wrk_run() {
  local name=$1 t=$2 c=$3 d=$4 path=$5 mode=$6 limit=${7:-0} body=${8:-}
  wrk -t"$t" -c"$c" -d"${d}s" --latency -s "$work/check.lua" "$url$path" -- "$mode" "$limit" "$body" \
    >"$work/$name.wrk" 2>&1
  RPS=$(awk '$1 == "Requests/sec:" { print $2 }' "$work/$name.wrk")
  REQS=$(awk '/requests in/ { print $1 }' "$work/$name.wrk")
  BAD=$(awk '$1 == "BAD" { print $2 }' "$work/$name.wrk")
  ms() { awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub("us", "", v); v /= 1000 } else if (v ~ /ms$/) { sub("ms", "", v) } else if (v ~ /s$/) { sub("s", "", v); v *= 1000 } printf "%.2f", v }' "$work/$name.wrk"; }
  P50=$(ms 50%) P99=$(ms 99%)
  if [ -z "$RPS" ] || [ "${BAD:-1}" != 0 ]; then
    log "$name: wrk failed or answers were wrong (${BAD:-?} bad): $(grep -E 'FIRST-BAD|error|Socket' "$work/$name.wrk" | head -n 3)"
    errors=$((errors + 1))
  fi
}

# Warm-up: the one verification (a) then finds in the cache.
curl -fsS --cacert "$ca" -H 'Content-Type: application/json' --data-binary "@$work/review.json" \
  "$url/validate" >"$work/warm.json" 2>"$work/last.err" || { log "warm-up failed: $(cat "$work/last.err")"; exit 1; }
grep -q '"allowed": *true' "$work/warm.json" || { log "warm-up not allowed: $(head -c 400 "$work/warm.json")"; exit 1; }
rss_warm=$(rss VmRSS)

log "a. cached /validate and /healthz, $connections connections, ${duration}s each, alternated twice"
declare -A best_rps best_p50 best_p99
served=0
for round in 1 2; do
  for n in validate healthz; do
    if [ $n = validate ]; then
      # VmRSS under the load: sampled half-way through the first run.
      ( sleep "$(awk -v d="$duration" 'BEGIN { print d / 2 }')"; rss VmRSS >"$work/rss_load" ) &
      sampler=$!
      wrk_run "$n$round" 1 "$connections" "$duration" /validate post 0 "$work/review.json"
      wait "$sampler"
      served=$((served + ${REQS:-0}))
    else
      wrk_run "$n$round" 1 "$connections" "$duration" /healthz get
    fi
    if [ -z "${best_rps[$n]:-}" ] || awk -v a="${RPS:-0}" -v b="${best_rps[$n]}" 'BEGIN { exit !(a > b) }'; then
      best_rps[$n]=$RPS best_p50[$n]=$P50 best_p99[$n]=$P99
    fi
  done
done

rss_load=$(head -n 1 "$work/rss_load")
log "b. cold: $images new images, one request at a time"
wrk_run cold 1 1 $((images / 5 + 10)) /validate cold "$images" "$work/cold"
cold_reqs=$REQS cold_p50=$P50 cold_p99=$P99
[ "${cold_reqs:-0}" = "$images" ] || { log "cold: $cold_reqs requests, expected $images"; errors=$((errors + 1)); }

log "c. memory: cached /validate until $total of them in all"
# VmRSS is also taken half-way through this phase: a leak of even one heap chunk (32 bytes or
# more) per request grows the second half by that many bytes per request; allocator arenas
# settling do not.
rounds=0 rss_half= served_half= half=$(( (served + total) / 2 ))
while [ "$served" -lt "$total" ] && [ $rounds -lt 1000 ]; do
  wrk_run "long" 1 "$connections" "$duration" /validate post 0 "$work/review.json"
  served=$((served + ${REQS:-0})) rounds=$((rounds + 1))
  [ -n "$REQS" ] && [ "$REQS" -gt 0 ] || break
  if [ -z "$rss_half" ] && [ "$served" -ge "$half" ] && [ "$served" -lt "$total" ]; then
    rss_half=$(rss VmRSS) served_half=$served
  fi
done
rss_after=$(rss VmRSS) hwm_after=$(rss VmHWM)
kill -TERM "$server_pid"
wait "$server_pid"; rc=$?
server_pid=
[ $rc = 0 ] || { log "sigil-verify serve exited $rc after SIGTERM (expected 0)"; errors=$((errors + 1)); }
grep -q '"level":"error"' "$work/serve.log" && { log "errors in the server's log: $(grep '"level":"error"' "$work/serve.log" | head -n 2)"; errors=$((errors + 1)); }

ratio=$(awk -v a="${best_rps[validate]:-0}" -v b="${best_rps[healthz]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }
growth=$(awk -v a="${rss_after:-0}" -v b="${rss_load:-0}" 'BEGIN { printf "%+.1f", (a - b) / 1024 }')
growth_half=$(awk -v a="${rss_after:-0}" -v b="${rss_half:-0}" 'BEGIN { if (b == 0) print "n/a"; else printf "%+.1f", (a - b) / 1024 }')
per_request=$(awk -v a="${rss_after:-0}" -v b="${rss_half:-0}" -v n=$((served - ${served_half:-0})) 'BEGIN { if (b == 0 || n <= 0) print "n/a"; else printf "%.2f", (a - b) * 1024 / n }')
{
  echo "sigil serve benchmark $([ $quick = 1 ] && echo '(--quick) ')$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
  echo "load average before the run: $load_start (only meaningful on an otherwise idle machine)"
  echo
  echo "a. cached, TLS keep-alive, wrk -t1 -c$connections -d${duration}s (best of 2, alternated)"
  printf '   %-44s %12s %9s %9s\n' "endpoint" "requests/s" "p50 ms" "p99 ms"
  printf '   %-44s %12s %9s %9s\n' "POST /validate (signed Pod image, by digest)" "${best_rps[validate]:-n/a}" "${best_p50[validate]:-n/a}" "${best_p99[validate]:-n/a}"
  printf '   %-44s %12s %9s %9s\n' "GET /healthz (reference)" "${best_rps[healthz]:-n/a}" "${best_p50[healthz]:-n/a}" "${best_p99[healthz]:-n/a}"
  echo "   /validate / /healthz requests/s: $ratio"
  echo "b. cold, each request a new signed image ($images, one connection, one at a time)"
  printf '   %-44s %12s %9s %9s\n' "POST /validate (verify: .sig tag, manifest, layer)" "-" "${cold_p50:-n/a}" "${cold_p99:-n/a}"
  echo "c. server memory (MiB): after warm-up VmRSS $(mib "$rss_warm"); under cached load VmRSS $(mib "$rss_load");"
  echo "   after ${served_half:-n/a} cached /validate requests VmRSS $(mib "$rss_half");"
  echo "   after $served cached /validate requests VmRSS $(mib "$rss_after") (${growth} MiB since the load, ${growth_half} since $served_half), VmHWM $(mib "$hwm_after")"
  echo
  echo "targets (issue 11)                               measured   target     verdict"
  printf '   %-42s %8s   %-9s  %s\n' "cached /validate requests/s" "${best_rps[validate]:-n/a}" ">= 10000" "$(verdict "${best_rps[validate]:-}" ">=" 10000)"
  printf '   %-42s %8s   %-9s  %s\n' "cached /validate p99 ms" "${best_p99[validate]:-n/a}" "<= 5" "$(verdict "${best_p99[validate]:-}" "<=" 5)"
  printf '   %-42s %8s   %-9s  %s\n' "VmRSS growth after $served requests, MiB" "$growth" "<= 4" "$(verdict "${growth#+}" "<=" 4)"
  printf '   %-42s %8s   %-9s  %s\n' "second half: VmRSS bytes per request" "$per_request" "< 2" "$(verdict "$per_request" "<=" 1.99)"
} | tee "$work/out.txt"
mkdir -p "$root/bench/results" && cp "$work/out.txt" "$root/bench/results/serve.txt"
[ $errors = 0 ]

#!/usr/bin/env bash
# bench/registry.sh [--quick] [--sigil PATH] [--runs N] [--rounds N] [--only a,b,c,d,e,f]
#
# Registry benchmarks (issue 3), side by side with references measured in the same run. Starts two
# Debian docker-registry (distribution 2.8) processes on 127.0.0.1 with TLS from a CA made for the
# run, and stops them at exit. Requests are counted from the registry's own access log.
#   a. `sigil verify` of a cosign-signed single-platform image: HTTP requests (target <= 4) and
#      median wall time, next to the peer's `peer-verify.sh` (containers/image, what podman and
#      CRI-O run) on the same image. Also informational: `--all`, a bundle-signed image.
#   b. `sigil copy` of a 1 GiB image (4 gzip layers of 256 MiB) from registry A to registry B:
#      throughput and peak RSS vs Debian's `skopeo copy --preserve-digests` (best of N, B emptied
#      before each run).
#   c. 8 concurrent signers of one image, R rounds: how many of the 8 signatures survive, for
#      `sigil sign` (cosign layout and --format bundle) and for the peer's `peer-sign.sh`.
#   d. the 100-signature bound: `sigil verify` of an image with 100 signature layers (wrong key,
#      so every one is judged) and with 101 layers or 101 bundle referrers (refused): wall time,
#      peak RSS, requests. The peer on the 100-layer image for comparison. Then the transport
#      alone: the 100 payloads through RegistryImageStore::fetch_blobs (HTTP/2 streams on one
#      connection) vs 8 threads on their own connections, with the CPU each side spent, and the
#      same from an in-process server that answers at once (the hidden [.bench-fetch-blobs]).
#   e. a blob download cut in the middle: a 1 GiB blob (64 MiB with --quick) pulled through a TCP
#      relay that drops the connection at half the blob, vs the same relay uncut (best of 3 each):
#      time ratio, and bytes received cut / uncut (1.0 when the download resumes where it
#      stopped; 1.5 if it started over). Runs the hidden [.bench-resume] case of sigil_tests.
#   f. registries that never finish (bench/misbehaving_registry.py, TLS): how long `sigil verify`
#      takes to give up against one that never answers, one that trickles a manifest just above
#      the minimum rate, and one that answers 429 with Retry-After: 3600; with the default
#      deadline (--timeout 300s) and with a node hook's (--timeout 8s, kHookTimeout).
# --quick: a 64 MiB image for (b), 2 rounds for (c), 10 verify runs, no default-deadline runs in
# (f). --only: just those parts.
# The peer parts need ../shared/peer and its built skopeo (SIGIL_PEER_DIR, SIGIL_PEER_SKOPEO);
# without them they print "skipped". Results: printed, and written to bench/results/registry.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs= rounds= only=a,b,c,d,e,f
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 32 rounds only -- "$@"
MiB=$((1 << 20))
if [ $quick = 1 ]; then
  part=$((16 * MiB)) runs=${runs:-2} rounds=${rounds:-2} vruns=10 resume_mib=64
else
  part=$((256 * MiB)) runs=${runs:-3} rounds=${rounds:-5} vruns=20 resume_mib=1024
fi

bench_sigil
for tool in docker-registry openssl curl skopeo hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (tools/install-deps.sh)" >&2; exit 1; }
done
peer_dir=${SIGIL_PEER_DIR:-$(cd "$root/.." && pwd)/shared/peer}
export PEER_SKOPEO=${SIGIL_PEER_SKOPEO:-$HOME/.cache/sigil-peer/bin/skopeo}
have_peer=0
[ -x "$peer_dir/peer-verify.sh" ] && [ -x "$PEER_SKOPEO" ] && have_peer=1

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench-reg.XXXXXX")
cleanup() {
  stop_registries
  rm -rf "$work"
}
trap cleanup EXIT
errors=0
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
out=()
row() { out+=("$(printf "$@")"); }

# --- a CA and a server certificate for 127.0.0.1 ---------------------------------------------
make_test_ca "$work" || { log "cannot make certificates"; exit 1; }
ca=$work/certs/ca.crt

measure_digits=3  # for measure (bench/common.sh)
fail_step() { log "$1:"; sed 's/^/    /' "$work/last.err" | tail -n 5 >&2; errors=$((errors + 1)); }

start_registry A
start_registry B
A=127.0.0.1:${PORT[A]}
B=127.0.0.1:${PORT[B]}
log "registries at $A and $B (TLS, CA $ca)"
S() { "$sigil" "$1" --ca-file "$ca" "${@:2}"; }
export SIGIL_PASSWORD=bench COSIGN_PASSWORD=
printf 'bench\n' > "$work/pass"
"$sigil" key generate --output-prefix "$work/k" </dev/null 2>/dev/null || { log "key generate failed"; exit 1; }
"$sigil" key generate --output-prefix "$work/other" </dev/null 2>/dev/null || exit 1
peer_verify() { "$peer_dir/peer-verify.sh" --tls-verify true --cert-dir "$work/cadir" "$@"; }
peer_sign() { "$peer_dir/peer-sign.sh" --tls-verify true --cert-dir "$work/cadir" --passphrase-file "$work/pass" "$@"; }

# A 1-layer (1 MiB) image for the signing parts. Each part below is a function (part_a …).
python3 "$root/bench/make_layout.py" "$work/small" --size $MiB >/dev/null || exit 1

sig_layers() {  # sig_layers REPO DIGEST: layers in the .sig manifest (0 if none)
  curl -fsS --cacert "$ca" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "https://$A/v2/$1/manifests/sha256-${2#sha256:}.sig" 2>/dev/null \
    | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["layers"]))' 2>/dev/null || echo 0
}
referrers() {  # referrers REPO DIGEST: entries in the fallback referrers index
  curl -fsS --cacert "$ca" -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "https://$A/v2/$1/manifests/sha256-${2#sha256:}" 2>/dev/null \
    | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["manifests"]))' 2>/dev/null || echo 0
}

# rewrite_manifest REPO TAG MEDIA_TYPE PYTHON: fetch the manifest under TAG in registry A, apply
# the Python statement to it (as `m`), and push it back under TAG. For hostile inputs.
rewrite_manifest() {
  curl -fsS --cacert "$ca" -H "Accept: $3" "https://$A/v2/$1/manifests/$2" > "$work/m.json" || return 1
  python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[2])
sys.stdout.write(json.dumps(m))' "$work/m.json" "$4" > "$work/m2.json" || return 1
  curl -fsS --cacert "$ca" -X PUT -H "Content-Type: $3" --data-binary @"$work/m2.json" \
    "https://$A/v2/$1/manifests/$2" >/dev/null
}

# ---------------------------------------------------------------------------------------------
part_a() {
log "a. verify: requests and wall time"
img=$A/bench/verify:v1
S copy "oci:$work/small:latest" "$img" 2>"$work/last.err" || { fail_step "copy"; exit 1; }
S sign --key "$work/k.key" "$img" 2>"$work/last.err" || { fail_step "sign"; exit 1; }
bimg=$A/bench/bundle:v1
S copy "oci:$work/small:latest" "$bimg" 2>/dev/null && S sign --format bundle --key "$work/k.key" "$bimg" 2>/dev/null \
  || { log "bundle image setup failed"; errors=$((errors + 1)); }

S verify --key "$work/k.pub" "$img" 2>/dev/null  # warm-up
count_requests A S verify --key "$work/k.pub" "$img"; req_sigil=$REQ
[ $RC = 0 ] || fail_step "sigil verify"
count_requests A S verify --all --key "$work/k.pub" "$img"; req_sigil_all=$REQ
count_requests A S verify --key "$work/k.pub" "$bimg"; req_sigil_bundle=$REQ
count_requests A S verify --key "$work/other.pub" "$img"; req_sigil_wrong=$REQ
req_peer=
if [ $have_peer = 1 ]; then
  count_requests A peer_verify "$img" "$work/k.pub"; req_peer=$REQ
  [ $RC = 0 ] || fail_step "peer-verify.sh"
fi
hf=(hyperfine -N --warmup 3 --runs "$vruns" --export-json "$work/verify.json")
cmds=("$sigil verify --ca-file $ca --key $work/k.pub $img")
[ $have_peer = 1 ] && cmds+=("$peer_dir/peer-verify.sh --tls-verify true --cert-dir $work/cadir $img $work/k.pub")
# hyperfine -N runs commands without a shell; the peer script is a bash script with a shebang.
"${hf[@]}" "${cmds[@]}" >/dev/null 2>"$work/last.err" || fail_step "hyperfine"
read -r med_sigil med_peer < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(" ".join("%.1f" % (x["median"] * 1e3) for x in r), "" if len(r) > 1 else "")
' "$work/verify.json" 2>/dev/null)
row "a. verify a cosign-signed single-platform image (1 layer, 1 MiB) in a TLS registry"
row "   %-52s %9s %12s" "command" "requests" "median ms"
row "   %-52s %9s %12s" "sigil verify" "$req_sigil" "${med_sigil:-n/a}"
row "   %-52s %9s %12s" "peer-verify.sh (c/image 5.23: copy with policy)" "${req_peer:-skipped}" "${med_peer:-skipped}"
row "   %-52s %9s" "sigil verify --all (also the referrers)" "$req_sigil_all"
row "   %-52s %9s" "sigil verify, wrong key (every layout searched)" "$req_sigil_wrong"
row "   %-52s %9s" "sigil verify of a bundle-signed image" "$req_sigil_bundle"
row "   (requests from the registry's access log; hyperfine, %s runs, medians)" "$vruns"

}
# ---------------------------------------------------------------------------------------------
part_b() {
total=$((4 * part))
log "b. copy: generating a $((total / MiB)) MiB image (4 random gzip layers) and pushing it to A"
python3 "$root/bench/make_layout.py" "$work/big" --layers 4 --size $part --gzip >/dev/null || exit 1
bytes=$(find "$work/big/blobs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
S copy "oci:$work/big:latest" "$A/bench/big:v1" 2>"$work/last.err" || { fail_step "push to A"; exit 1; }
rm -rf "$work/big"
copy_run() {  # copy_run NAME CMD...: B emptied first; best time and peak RSS kept
  local name=$1; shift
  stop_registry B; start_registry B
  measure "$@"
  if [ $RC != 0 ]; then fail_step "$name"; return; fi
  if [ -z "${CBEST[$name]:-}" ] || awk -v a="$T" -v b="${CBEST[$name]}" 'BEGIN { exit !(a < b) }'; then
    CBEST[$name]=$T
  fi
  if [ -z "${CRSS[$name]:-}" ] || [ "$RSS" -gt "${CRSS[$name]}" ]; then CRSS[$name]=$RSS; fi
}
log "b. copy A -> B, best of $runs each"
for _ in $(seq 1 "$runs"); do
  copy_run sigil "$sigil" copy --ca-file "$ca" "$A/bench/big:v1" "$B/bench/big:v1"
  copy_run skopeo skopeo copy --preserve-digests --src-cert-dir "$work/cadir" --dest-cert-dir "$work/cadir" \
    "docker://$A/bench/big:v1" "docker://$B/bench/big:v1"
done
# The copy must be exact: same manifest digest at B.
want=$(S digest "$A/bench/big:v1" 2>/dev/null); got=$(S digest "$B/bench/big:v1" 2>/dev/null)
[ -n "$want" ] && [ "$want" = "$got" ] || { log "b. B holds $got, A $want"; errors=$((errors + 1)); }
tp() { [ -n "${CBEST[$1]:-}" ] && calc "%.0f" "$bytes / ${CBEST[$1]} / 1e6" || echo n/a; }
rss() { [ -n "${CRSS[$1]:-}" ] && calc "%.1f" "${CRSS[$1]} / 1024" || echo n/a; }
ratio_copy=
[ -n "${CBEST[sigil]:-}" ] && [ -n "${CBEST[skopeo]:-}" ] && ratio_copy=$(calc "%.2f" "${CBEST[skopeo]} / ${CBEST[sigil]}")
row ""
row "b. copy a %s MiB image (4 gzip layers, %s bytes) between two local TLS registries, best of %s" \
  "$((total / MiB))" "$bytes" "$runs"
row "   %-52s %9s %9s %12s" "command" "time s" "MB/s" "peak RSS"
row "   %-52s %9s %9s %8s MiB" "sigil copy" "${CBEST[sigil]:-n/a}" "$(tp sigil)" "$(rss sigil)"
row "   %-52s %9s %9s %8s MiB" "skopeo copy --preserve-digests ($(skopeo --version | awk '{print $3}'))" \
  "${CBEST[skopeo]:-n/a}" "$(tp skopeo)" "$(rss skopeo)"

}
# ---------------------------------------------------------------------------------------------
part_c() {
log "c. 8 concurrent signers, $rounds rounds"
for r in $(seq 1 "$rounds"); do
  for kind in cosign bundle peer; do
    [ $kind = peer ] && [ $have_peer = 0 ] && continue
    repo=bench/conc-$kind-$r
    S copy "oci:$work/small:latest" "$A/$repo:v1" 2>/dev/null || { log "copy for $repo failed"; errors=$((errors + 1)); continue; }
    digest=$(S digest "$A/$repo:v1" 2>/dev/null)
    pids=()
    for i in 1 2 3 4 5 6 7 8; do
      case $kind in
        cosign) S sign --key "$work/k.key" -a "signer=$i" "$A/$repo@$digest" >/dev/null 2>"$work/conc-$i.err" & ;;
        bundle) S sign --format bundle --key "$work/k.key" -a "signer=$i" "$A/$repo@$digest" >/dev/null 2>"$work/conc-$i.err" & ;;
        peer) peer_sign --identity "$A/$repo:v1-$i" "$A/$repo@$digest" "$work/k.key" >"$work/conc-$i.err" 2>&1 & ;;
      esac
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || FAILS[$kind]=$((FAILS[$kind] + 1)); done
    if [ $kind = bundle ]; then n=$(referrers "$repo" "$digest"); else n=$(sig_layers "$repo" "$digest"); fi
    SURV[$kind]=$((SURV[$kind] + n)); TOTAL[$kind]=$((TOTAL[$kind] + 8))
    log "c. round $r $kind: $n of 8 signatures present"
  done
done
row ""
row "c. 8 concurrent signers on one image, %s rounds (signatures present afterwards / written)" "$rounds"
row "   %-52s %9s %9s" "signer" "survived" "failed"
row "   %-52s %9s %9s" "sigil sign (cosign .sig layout)" "${SURV[cosign]}/${TOTAL[cosign]}" "${FAILS[cosign]}"
row "   %-52s %9s %9s" "sigil sign --format bundle (fallback referrers index)" "${SURV[bundle]}/${TOTAL[bundle]}" "${FAILS[bundle]}"
if [ $have_peer = 1 ]; then
  row "   %-52s %9s %9s" "peer-sign.sh (c/image 5.23)" "${SURV[peer]}/${TOTAL[peer]}" "${FAILS[peer]}"
else
  row "   %-52s %9s" "peer-sign.sh (c/image 5.23)" "skipped"
fi
row "   (\"failed\": signer processes that exited non-zero)"

}
# ---------------------------------------------------------------------------------------------
part_d() {
log "d. the 100-signature bound: signing one image 100 times"
repo=bench/hundred
S copy "oci:$work/small:latest" "$A/$repo:v1" 2>/dev/null || { log "copy failed"; exit 1; }
digest=$(S digest "$A/$repo:v1" 2>/dev/null)
for i in $(seq 1 100); do
  S sign --key "$work/k.key" -a "n=$i" "$A/$repo@$digest" >/dev/null 2>"$work/last.err" || { fail_step "sign $i"; break; }
done
n100=$(sig_layers "$repo" "$digest")
measure "$sigil" verify --ca-file "$ca" --key "$work/other.pub" "$A/$repo:v1"; t100=$T rss100=$RSS rc100=$RC
count_requests A S verify --key "$work/other.pub" "$A/$repo:v1"; req100=$REQ
measure "$sigil" verify --ca-file "$ca" --key "$work/k.pub" "$A/$repo:v1"; t100ok=$T rss100ok=$RSS rc100ok=$RC
peer100=
if [ $have_peer = 1 ]; then
  measure "$peer_dir/peer-verify.sh" --tls-verify true --cert-dir "$work/cadir" "$A/$repo:v1" "$work/k.pub"
  peer100=$T peer100rc=$RC
fi
# 101: the signer itself refuses to grow past the bound; a hostile .sig manifest is made by hand.
S sign --key "$work/k.key" -a "n=101" "$A/$repo@$digest" >/dev/null 2>"$work/sign101.err"; sign101_rc=$?
rewrite_manifest "$repo" "sha256-${digest#sha256:}.sig" application/vnd.oci.image.manifest.v1+json \
  'm["layers"].append(dict(m["layers"][0]))' || { log "pushing the 101-layer .sig manifest failed"; errors=$((errors + 1)); }
measure "$sigil" verify --ca-file "$ca" --key "$work/k.pub" "$A/$repo:v1"; t101=$T rss101=$RSS rc101=$RC
count_requests A S verify --key "$work/k.pub" "$A/$repo:v1"; req101=$REQ
# 101 bundle referrers: a fallback index listing 101 referrer manifests (made by hand: each one a
# real, distinct referrer manifest of the image would take 101 signings; the cap is on the listing).
brepo=bench/referrers
S copy "oci:$work/small:latest" "$A/$brepo:v1" 2>/dev/null
bdigest=$(S digest "$A/$brepo:v1" 2>/dev/null)
S sign --format bundle --key "$work/k.key" "$A/$brepo@$bdigest" >/dev/null 2>&1
rewrite_manifest "$brepo" "sha256-${bdigest#sha256:}" application/vnd.oci.image.index.v1+json \
  'm["manifests"] = [dict(m["manifests"][0]) for _ in range(101)]' \
  || { log "pushing the 101-entry referrers index failed"; errors=$((errors + 1)); }
measure "$sigil" verify --ca-file "$ca" --key "$work/other.pub" "$A/$brepo:v1"; tr101=$T rssr101=$RSS rcr101=$RC
count_requests A S verify --key "$work/other.pub" "$A/$brepo:v1"; reqr101=$REQ

row ""
row "d. the 100-signature bound (limits::kMaxSignaturesPerImage), one registry image"
row "   %-52s %6s %9s %9s %10s" "case" "exit" "time s" "requests" "peak RSS"
row "   %-52s %6s %9s %9s %6s MiB" "sigil verify, 100 layers, wrong key (all judged)" "$rc100" "$t100" "$req100" "$(calc %.1f "$rss100 / 1024")"
row "   %-52s %6s %9s %9s %6s MiB" "sigil verify, 100 layers, right key" "$rc100ok" "$t100ok" "-" "$(calc %.1f "$rss100ok / 1024")"
row "   %-52s %6s %9s %9s %10s" "peer-verify.sh, 100 layers, right key" "${peer100rc:-}" "${peer100:-skipped}" "-" "-"
row "   %-52s %6s %9s %9s %6s MiB" "sigil verify, 101 layers (refused)" "$rc101" "$t101" "$req101" "$(calc %.1f "$rss101 / 1024")"
row "   %-52s %6s %9s %9s %6s MiB" "sigil verify, 101 bundle referrers (refused)" "$rcr101" "$tr101" "$reqr101" "$(calc %.1f "$rssr101 / 1024")"
row "   (.sig layers present after 100 signings: %s; a 101st sigil sign exited %s: %s)" "$n100" "$sign101_rc" \
  "$(grep -o 'already holds [0-9]* signatures (limit [0-9]*)' "$work/sign101.err" | head -n 1)"
local line
line=$(SIGIL_BENCH_FETCH_ROUNDS=$vruns "$(sigil_tests)" "[.bench-fetch-blobs]" 2>"$work/fetch.err" | grep '^fetch-bench: ')
if [ -n "$line" ]; then
  fetch_ratio=$(sed -E 's/.*time ratio ([0-9.]+).*/\1/' <<<"$line")
  row "   the transport alone (a fresh client per round, as a verify has it):"
  row "   %s" "${line#fetch-bench: }"
else
  fail_step "the [.bench-fetch-blobs] case"; cat "$work/fetch.err" >&2
fi

}
# ---------------------------------------------------------------------------------------------
part_e() {
log "e. a ${resume_mib} MiB blob download cut in the middle"
local line
line=$(SIGIL_BENCH_RESUME_MIB=$resume_mib "$(sigil_tests)" "[.bench-resume]" 2>"$work/resume.err" | grep '^resume-bench: ')
[ -n "$line" ] || { fail_step "the [.bench-resume] case"; cat "$work/resume.err" >&2; return; }
resume_time=$(sed -E 's/.*time ratio ([0-9.]+).*/\1/' <<<"$line")
resume_bytes=$(sed -E 's/.*bytes ratio ([0-9.]+).*/\1/' <<<"$line")
row ""
row "e. a blob download cut in the middle (one registry, plain HTTP through a TCP relay, best of 3)"
row "   %s" "${line#resume-bench: }"
}
# ---------------------------------------------------------------------------------------------
part_f() {
log "f. registries that never finish"
local mode deadline label pid port t rc cause
row ""
row "f. sigil verify against a registry that never finishes (TLS, bench/misbehaving_registry.py)"
row "   %-44s %-16s %6s %9s  %s" "registry" "deadline" "exit" "time s" "why it gave up"
for mode in hang trickle retry-after; do
  rm -f "$work/mis.port"
  python3 "$root/bench/misbehaving_registry.py" "$mode" "$work/certs/server.crt" "$work/certs/server.key" \
    "$work/mis.port" 2>"$work/mis.err" &
  pid=$!
  for _ in $(seq 50); do [ -s "$work/mis.port" ] && break; sleep 0.1; done
  port=$(cat "$work/mis.port" 2>/dev/null)
  if [ -z "$port" ]; then fail_step "starting misbehaving_registry.py $mode"; kill "$pid" 2>/dev/null; continue; fi
  for deadline in 8s 300s; do
    label="--timeout $deadline"
    [ "$deadline" = 300s ] && label="default (300s)"
    if [ "$deadline" = 300s ] && [ $quick = 1 ]; then
      row "   %-44s %-16s %6s %9s  %s" "$mode" "$label" "-" "-" "not run (--quick)"
      continue
    fi
    args=(verify --ca-file "$ca" --key "$work/k.pub")
    [ "$deadline" = 8s ] && args+=(--timeout 8s)
    measure_digits=1 measure "$sigil" "${args[@]}" "127.0.0.1:$port/bench/never:v1"
    t=$T rc=$RC
    cause=$(tail -n 1 "$work/last.err" | sed -E 's/.*: //' | cut -c1-80)
    row "   %-44s %-16s %6s %9s  %s" "$mode" "$label" "$rc" "$t" "$cause"
    DEADLINE_T[$mode-$deadline]=$t DEADLINE_RC[$mode-$deadline]=$rc
  done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
done
row "   (the hook must answer containerd within 10 s; before the deadline existed: a silent"
row "    registry cost 4 x 30 s stalls, the trickle about 46 min, Retry-After 3 x 60 s)"
}
# sigil_tests: the test binary next to the sigil under test, built when missing.
sigil_tests() {
  local tests=$root/build/tests/sigil_tests
  [ -x "$tests" ] || bash "$root/tools/build.sh" --target sigil_tests </dev/null >/dev/null || return 1
  echo "$tests"
}
# ---------------------------------------------------------------------------------------------
req_sigil= med_sigil= med_peer= ratio_copy= rc100= rc101= rcr101= resume_time= resume_bytes= fetch_ratio=
declare -A SURV TOTAL FAILS CBEST CRSS DEADLINE_T DEADLINE_RC
for kind in cosign bundle peer; do SURV[$kind]=0; TOTAL[$kind]=0; FAILS[$kind]=0; done
for section in a b c d e f; do
  case ",$only," in *",$section,"*) "part_$section" ;; esac
done
# verdict PART CONDITION…: PASS or MISS, or "not run" when --only left PART out.
verdict() {
  local part=$1; shift
  case ",$only," in *",$part,"*) ;; *) echo "not run"; return ;; esac
  "$@" && echo PASS || echo MISS
}
req_ok=$(verdict a test -n "$req_sigil" -a "${req_sigil:-99}" -le 4)
surv_ok=$(verdict c test "${SURV[cosign]}" = "${TOTAL[cosign]}" -a "${SURV[bundle]}" = "${TOTAL[bundle]}")
bound_ok=$(verdict d test "$rc101" = 3 -a "$rcr101" = 3 -a "$rc100" = 1)
resume_ok=$(verdict e awk -v r="${resume_bytes:-9}" 'BEGIN { exit !(r < 1.05) }')
# The hook deadline: every misbehaving registry given up on, exit 3, within containerd's 10 s.
hook_worst=$(for m in hang trickle retry-after; do echo "${DEADLINE_T[$m-8s]:-99}"; done | sort -n | tail -n 1)
hook_rcs=$(for m in hang trickle retry-after; do printf '%s' "${DEADLINE_RC[$m-8s]:-x}"; done)
hook_ok=$(verdict f awk -v t="$hook_worst" -v r="$hook_rcs" 'BEGIN { exit !(t < 10 && r == "333") }')
row ""
row "targets (issue 3)                                     measured      target    verdict"
row "   %-48s %10s %11s %8s" "verify: HTTP requests (sigil)" "$req_sigil" "<= 4" "$req_ok"
row "   %-48s %10s %11s %8s" "verify: median ms, sigil / peer" "$( [ -n "${med_peer:-}" ] && calc %.2f "$med_sigil / $med_peer" || echo n/a)" "-" "info"
row "   %-48s %10s %11s %8s" "copy: throughput sigil / skopeo" "${ratio_copy:-n/a}" "-" "info"
row "   %-48s %10s %11s %8s" "8 concurrent signers: signatures kept" "$((SURV[cosign] + SURV[bundle]))/$((TOTAL[cosign] + TOTAL[bundle]))" "all" "$surv_ok"
row "   %-48s %10s %11s %8s" "past 100 signatures: refused (exit 3)" "$rc101/$rcr101" "3/3" "$bound_ok"
row "   %-48s %10s %11s %8s" "cut download: bytes received, cut / uncut" "${resume_bytes:-n/a}" "< 1.05" "$resume_ok"
row "   %-48s %10s %11s %8s" "cut download: time, cut / uncut" "${resume_time:-n/a}" "-" "info"
row "   %-48s %10s %11s %8s" "100 payloads: 8 threads / HTTP/2 streams, time" "${fetch_ratio:-n/a}" "-" "info"
row "   %-48s %10s %11s %8s" "never-finishing registry, --timeout 8s: worst s" "$hook_worst" "< 10" "$hook_ok"

{
  echo "sigil registry benchmarks $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo ?); $(nproc) cores; docker-registry $(docker-registry --version 2>/dev/null | awk '{print $3}'); peer: $( [ $have_peer = 1 ] && echo yes || echo skipped)"
  echo "load average before the run: $load_start; after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  printf '%s\n' "${out[@]}"
} | tee "$root/bench/results/registry.txt"
[ $errors = 0 ] || { echo "bench: $errors step(s) failed (see above)" >&2; exit 1; }

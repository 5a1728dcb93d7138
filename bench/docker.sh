#!/usr/bin/env bash
# bench/docker.sh [--quick] [--sigil PATH] [--runs N]
#
# `docker run --rm --network none IMAGE /hello` of a signed image that is pulled and whose verdict
# is cached, on a dockerd with the sigil authorization plugin (sigil-verify docker-authz) over the
# same on a dockerd without it: N runs of each, alternating, after one warm-up each (which fills
# the plugin's verified-digest cache). Prints the medians and their ratio; target <= 1.20 (issue
# 10). Both daemons are Debian's dockerd 20.10, started here with everything under a temporary
# directory (vfs, no bridge, no iptables), pulling from a docker-registry on 127.0.0.1 over TLS.
# Needs root, dockerd, containerd, runc, docker-registry, openssl, curl; --runs default 20 (quick 6).
# A benchmark, not a test: MISS does not fail the script; a command that errors does (exit 1).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs=
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 11 -- "$@"
[ $quick = 1 ] && runs=${runs:-6} || runs=${runs:-20}
bench_sigil
verify_bin=$(dirname "$sigil")/sigil-verify
[ -x "$verify_bin" ] || { log "sigil-verify missing next to $sigil"; exit 1; }
for p in /usr/sbin/dockerd /usr/bin/docker /usr/bin/containerd /usr/sbin/runc docker-registry; do
  command -v "$p" >/dev/null || { log "$p missing"; exit 1; }
done
[ "$(id -u)" = 0 ] || { log "dockerd needs root"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench-docker.XXXXXX")
plugin=sigil-bench-$$
plugin_sock=/run/docker/plugins/$plugin.sock
declare -A PID PORT DPID
cleanup() {
  for d in "${!DPID[@]}"; do kill "${DPID[$d]}" 2>/dev/null; wait "${DPID[$d]}" 2>/dev/null; done
  [ -n "${PLUGIN_PID:-}" ] && { kill "$PLUGIN_PID" 2>/dev/null; wait "$PLUGIN_PID" 2>/dev/null; }
  rm -f "$plugin_sock"
  stop_registries
  rm -rf "$work"
}
trap cleanup EXIT

# start_dockerd NAME [PLUGIN]
start_dockerd() {
  local d=$work/$1
  mkdir -p "$d/client"
  /usr/sbin/dockerd --data-root="$d/data" --exec-root="$d/exec" --pidfile="$d/pid" \
    -H "unix://$d/docker.sock" --iptables=false --ip6tables=false --bridge=none \
    --storage-driver=vfs ${2:+--authorization-plugin=$2} >"$d/log" 2>&1 &
  DPID[$1]=$!
  for _ in $(seq 300); do
    curl -fsS --unix-socket "$d/docker.sock" http://d/_ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  log "dockerd $1 did not start: $(tail -n 3 "$d/log")"; exit 1
}
stop_dockerd() { kill "${DPID[$1]}"; wait "${DPID[$1]}" 2>/dev/null; unset "DPID[$1]"; }
dk() { local n=$1; shift; DOCKER_CONFIG=$work/$n/client /usr/bin/docker -H "unix://$work/$n/docker.sock" "$@"; }

make_test_ca "$work" || { log "openssl failed"; exit 1; }
start_registry reg
image=127.0.0.1:${PORT[reg]}/lab/app:v1

# The image: one static program.
hello=$root/build/tests/sigil_test_hello
if [ ! -x "$hello" ]; then
  c++ -static -O2 -o "$work/hello" "$root/tests/docker/hello_static.cpp" || exit 1
  hello=$work/hello
fi
mkdir -p "$work/rootfs" && cp "$hello" "$work/rootfs/hello" && tar -C "$work/rootfs" -cf "$work/rootfs.tar" .

log "building and pushing $image"
start_dockerd plain
dk plain import "$work/rootfs.tar" "$image" >/dev/null || exit 1
digest=$(dk plain push "$image" | sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p')
[ -n "$digest" ] || { log "push failed"; exit 1; }
SIGIL_PASSWORD=$(cat "$root/tests/data/keys/test-passphrase.txt") \
  "$sigil" sign --key "$root/tests/data/keys/test-ecdsa-p256.key" --ca-file "$work/certs/ca.crt" \
  "127.0.0.1:${PORT[reg]}/lab/app@$digest" 2>"$work/last.err" || { log "sign: $(cat "$work/last.err")"; exit 1; }

# The node root and the plugin.
mkdir -p "$work/node/keys"
cp "$root/tests/data/keys/test-ecdsa-p256.pub" "$work/node/keys/release.pub"
cp "$work/certs/ca.crt" "$work/node/ca.pem"
cat >"$work/node/policy.yaml" <<YML
version: 1
keys:
  release: keys/release.pub
rules:
  - name: lab
    match: 127.0.0.1:${PORT[reg]}/lab/**
    keys: [release]
YML
mkdir -p /run/docker/plugins
# The daemon asks the plugin only when a request comes: the plugin first, then its daemon.
SIGIL_ROOT=$work/node "$verify_bin" docker-authz --socket "$plugin_sock" \
  --docker-host "unix://$work/checked/docker.sock" 2>"$work/plugin.log" &
PLUGIN_PID=$!
for _ in $(seq 100); do [ -S "$plugin_sock" ] && break; sleep 0.1; done
[ -S "$plugin_sock" ] || { log "the plugin did not start: $(cat "$work/plugin.log")"; exit 1; }
start_dockerd checked "$plugin"

dk plain pull -q "$image" >/dev/null || exit 1
dk checked pull -q "$image" >/dev/null || { log "pull under the plugin failed: $(tail -n 3 "$work/plugin.log")"; exit 1; }

run_once() {  # run_once DAEMON: wall seconds of one docker run into T
  local s e
  s=$(date +%s.%N)
  dk "$1" run --rm --network none "$image" /hello >/dev/null 2>"$work/last.err" || { log "run on $1: $(cat "$work/last.err")"; exit 1; }
  e=$(date +%s.%N)
  T=$(echo "$e - $s" | bc -l)
}
run_once plain; run_once checked  # warm-up: the checked one fills the cache
plain_t=() checked_t=()
for i in $(seq "$runs"); do
  run_once plain; plain_t+=("$T")
  run_once checked; checked_t+=("$T")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mp=$(median "${plain_t[@]}") mc=$(median "${checked_t[@]}")
ratio=$(echo "$mc / $mp" | bc -l)
verdict=$(echo "$ratio <= 1.20" | bc -l)
printf 'docker run of a signed, cached image (%s runs each, alternating): without plugin %.3f s, with plugin %.3f s (median)\n' "$runs" "$mp" "$mc"
printf 'ratio %.2fx  target <= 1.20  %s\n' "$ratio" "$([ "$verdict" = 1 ] && echo PASS || echo MISS)"
printf 'plugin: %s creations allowed, %s of them from the verified-digest cache\n' \
  "$(grep -c ' create .*: allowed' "$work/plugin.log")" "$(grep -c ' create .*(cached)' "$work/plugin.log")"

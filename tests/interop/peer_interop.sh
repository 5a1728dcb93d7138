#!/usr/bin/env bash
# Interop with the peer (containers/image 5.23.1 skopeo with sigstore enabled: the verifier that
# podman and CRI-O nodes run), through a real registry process (Debian's docker-registry) on
# 127.0.0.1 that this script starts and stops.
# sigil reads and writes the registry itself throughout; the peer only signs and verifies.
#   1. `sigil copy` pushes an image; peer-sign.sh signs it in the registry with a key written by
#      `sigil key generate` (the peer decrypts sigil's key file);
#   2. `sigil verify` verifies the peer's signature in the registry, and refuses another key;
#   3. `sigil sign` on the registry image is ACCEPTed by peer-verify.sh (P-256, P-384, Ed25519,
#      RSA-3072), and REJECTed with another key;
#   4. an index signed by `sigil sign --recursive` is ACCEPTed for every platform by peer-verify.sh;
#   5. a .sig manifest written by the peer gets sigil's signature appended: both verifiers accept
#      both keys, nothing is lost;
#   6. an image moved by `sigil copy` to another repository keeps its signatures: sigil verifies
#      it there, and the peer finds and checks the signature but holds it to the identity it
#      names (the original repository), as matchRepository demands.
# Usage: peer_interop.sh SIGIL_BIN_DIR TEST_DATA_DIR
# Exit 77 (ctest: skipped) with a clear message when the peer or the registry is not available.
set -euo pipefail
bin=$1
data=$2
peer_dir=${SIGIL_PEER_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/peer}
skopeo=${SIGIL_PEER_SKOPEO:-${HOME}/.cache/sigil-peer/bin/skopeo}

# In CI (CI set) with the peer folder beside the project, a skip is a failure: a green run must
# mean the peer checked sigil's output.
skip() {
  if [ -n "${CI:-}" ] && [ -d "$peer_dir" ]; then
    echo "FAIL peer interop: CI is set and $peer_dir exists, but the test cannot run: $*"
    exit 1
  fi
  echo "SKIP peer interop: $*"
  exit 77
}
[ -x "$peer_dir/peer-verify.sh" ] || skip "no peer scripts at $peer_dir (set SIGIL_PEER_DIR)"
[ -x "$skopeo" ] || skip "no peer skopeo at $skopeo (run $peer_dir/build-peer.sh or set SIGIL_PEER_SKOPEO)"
command -v docker-registry >/dev/null || skip "docker-registry is not installed (tools/install-deps.sh)"
export PEER_SKOPEO=$skopeo

tmp=$(mktemp -d /tmp/sigil-interop.XXXXXX)
reg_pid=""
cleanup() {
  local rc=$?
  if [ -n "$reg_pid" ]; then
    kill "$reg_pid" 2>/dev/null || true
    wait "$reg_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp" 2>/dev/null || true
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
step() { echo "--- $*"; }

# A registry on a free loopback port.
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 20000))
  cat > "$tmp/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $tmp/registry-data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
log:
  level: error
YML
  docker-registry serve "$tmp/registry.yml" > "$tmp/registry.log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 50); do
    curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break 2
    kill -0 "$reg_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null || true; reg_pid=""
done
[ -n "$reg_pid" ] || fail "could not start docker-registry: $(cat "$tmp/registry.log")"
reg=127.0.0.1:$port
echo "registry at $reg"

export SIGIL_PASSWORD=interop-pass
printf '%s\n' "$SIGIL_PASSWORD" > "$tmp/pass"
cp -r "$data/image-oci" "$tmp/layout"

ins=(--insecure-registry "$reg")
sig() { "$bin/sigil" "$1" "${ins[@]}" "${@:2}"; }
accept() {  # accept REF PUB: the peer must ACCEPT
  local out
  out=$("$peer_dir/peer-verify.sh" "$@" 2>&1) || fail "peer rejected $1: $out"
  case $out in ACCEPT*) echo "$out" ;; *) fail "peer said: $out" ;; esac
}
reject() {  # reject REF PUB: the peer must REJECT (exit 1)
  local out rc
  set +e
  out=$("$peer_dir/peer-verify.sh" "$@" 2>&1)
  rc=$?
  set -e
  [ $rc = 1 ] || fail "peer did not reject $1 with $2 (exit $rc): $out"
}

step "1. sigil pushes an image; the peer signs it in the registry with a sigil-generated key"
"$bin/sigil" key generate --output-prefix "$tmp/sigil" >/dev/null 2>&1 || fail "sigil key generate"
head -1 "$tmp/sigil.key" | grep -qx -- '-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----' || fail "key PEM type"
sig copy "oci:$tmp/layout:v1" "$reg/peer/signed:v1" 2>"$tmp/copy.err" || fail "sigil copy: $(cat "$tmp/copy.err")"
out=$("$peer_dir/peer-sign.sh" --passphrase-file "$tmp/pass" "$reg/peer/signed:v1" "$tmp/sigil.key" 2>&1) \
  || fail "peer could not sign with a sigil key: $out"
echo "$out"

step "2. sigil verify checks the peer's signature in the registry"
sig verify --key "$tmp/sigil.pub" "$reg/peer/signed:v1" 2> "$tmp/verify.err" \
  || fail "sigil verify rejected the peer signature: $(cat "$tmp/verify.err")"
grep -q "identity: $reg/peer/signed:v1" "$tmp/verify.err" || fail "verify report lacks the identity: $(cat "$tmp/verify.err")"
set +e
sig verify --key "$data/keys/other-ecdsa-p256.pub" "$reg/peer/signed:v1" 2>/dev/null
rc=$?
set -e
[ $rc = 1 ] || fail "the peer signature verified with an unrelated key (exit $rc)"
echo "sigil verified the peer's signature, and refused it with another key"

step "3. the peer ACCEPTs what sigil signs in the registry"
sig copy "oci:$tmp/layout:v1" "$reg/sigil/signed:v1" 2>/dev/null || fail "sigil copy"
sig sign --key "$tmp/sigil.key" -a ci=interop "$reg/sigil/signed:v1" 2>"$tmp/sign.err" \
  || fail "sigil sign: $(cat "$tmp/sign.err")"
accept "$reg/sigil/signed:v1" "$tmp/sigil.pub"
reject "$reg/sigil/signed:v1" "$data/keys/other-ecdsa-p256.pub"
for t in ecdsa-p384 ed25519 rsa-3072; do
  "$bin/sigil" key generate --type "$t" --output-prefix "$tmp/k-$t" >/dev/null 2>&1 || fail "generate $t"
  sig copy "oci:$tmp/layout:v1" "$reg/sigil/$t:v1" 2>/dev/null || fail "copy for $t"
  sig sign --key "$tmp/k-$t.key" "$reg/sigil/$t:v1" 2>/dev/null || fail "sign $t"
  echo -n "$t: "
  accept "$reg/sigil/$t:v1" "$tmp/k-$t.pub"
done

step "4. an index signed with sigil sign --recursive: the peer ACCEPTs every platform"
sig copy "oci:$tmp/layout:multi" "$reg/sigil/multi:multi" 2>/dev/null || fail "copy the index"
sig sign --recursive --key "$tmp/sigil.key" "$reg/sigil/multi:multi" 2>"$tmp/sign.err" \
  || fail "sigil sign --recursive: $(cat "$tmp/sign.err")"
accept "$reg/sigil/multi:multi" "$tmp/sigil.pub"
reject "$reg/sigil/multi:multi" "$data/keys/other-ecdsa-p256.pub"

step "5. sigil appends to the peer's .sig manifest: both keys verify with both tools"
"$bin/sigil" key generate --type ed25519 --output-prefix "$tmp/second" >/dev/null 2>&1 || fail "generate"
sig sign --key "$tmp/second.key" "$reg/peer/signed:v1" 2>/dev/null || fail "sigil sign over the peer's"
sig verify --all --output json --key "$tmp/sigil.pub" "$reg/peer/signed:v1" > "$tmp/v.json" 2>/dev/null \
  || fail "sigil no longer verifies the peer's signature"
n=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["signatures"]))' "$tmp/v.json")
[ "$n" = 2 ] || fail "expected 2 signatures after the append, found $n"
sig verify --key "$tmp/second.pub" "$reg/peer/signed:v1" 2>/dev/null || fail "sigil's appended signature"
accept "$reg/peer/signed:v1" "$tmp/sigil.pub"
accept "$reg/peer/signed:v1" "$tmp/second.pub"

step "6. sigil copy between repositories keeps the signatures, bound to their identity"
sig copy "$reg/sigil/signed:v1" "$reg/mirror/signed:v1" 2>/dev/null || fail "sigil copy registry to registry"
sig verify --key "$tmp/sigil.pub" "$reg/mirror/signed:v1" 2>/dev/null || fail "sigil verify of the mirror"
# The peer finds the copied signature and checks it, then holds it to matchRepository: the
# payload names the original repository, so the mirror is refused for exactly that reason.
set +e
out=$("$peer_dir/peer-verify.sh" "$reg/mirror/signed:v1" "$tmp/sigil.pub" 2>&1)
rc=$?
set -e
[ $rc = 1 ] || fail "peer on the mirror (exit $rc): $out"
case $out in *"identity $reg/sigil/signed is not accepted"*) echo "mirror: $out" ;;
  *) fail "peer refused the mirror for another reason: $out" ;; esac
echo "interop: OK"

#!/usr/bin/env bash
# Interop with the peer (containers/image 5.23.1 skopeo with sigstore enabled: the verifier that
# podman and CRI-O nodes run), through a real registry process (Debian's docker-registry) on
# 127.0.0.1 that this script starts and stops.
#   1. a key written by `sigil key generate` decrypts in the peer and signs with it;
#   2. the peer's signature, copied into an OCI layout, is verified by `sigil verify`;
#   3. an image signed by `sigil sign` (image + .sig pushed by the peer) is ACCEPTed by peer-verify.sh.
# Usage: peer_interop.sh SIGIL_BIN_DIR TEST_DATA_DIR
# Exit 77 (ctest: skipped) with a clear message when the peer or the registry is not available.
set -euo pipefail
bin=$1
data=$2
peer_dir=${SIGIL_PEER_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/peer}
skopeo=${SIGIL_PEER_SKOPEO:-${HOME}/.cache/sigil-peer/bin/skopeo}

skip() { echo "SKIP peer interop: $*"; exit 77; }
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

policy=$tmp/policy.json
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' > "$policy"
mkdir -p "$tmp/registries.d"
printf 'default-docker:\n  use-sigstore-attachments: true\n' > "$tmp/registries.d/default.yaml"
peer() { "$skopeo" --policy "$policy" --registries.d "$tmp/registries.d" "$@"; }

export SIGIL_PASSWORD=interop-pass
printf '%s\n' "$SIGIL_PASSWORD" > "$tmp/pass"
cp -r "$data/image-oci" "$tmp/layout"
digest=sha256:2757703db410695547cef88bb4b2947d7b48ebcd7f11cf8cc21c7e06184b707d
sigtag=sha256-${digest#sha256:}.sig

step "1. sigil key generate; the peer decrypts the key and signs with it"
"$bin/sigil" key generate --output-prefix "$tmp/sigil" >/dev/null 2>&1 || fail "sigil key generate"
head -1 "$tmp/sigil.key" | grep -qx -- '-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----' || fail "key PEM type"
peer copy --dest-tls-verify=false --preserve-digests \
  --sign-by-sigstore-private-key "$tmp/sigil.key" --sign-passphrase-file "$tmp/pass" \
  --sign-identity "$reg/peer/signed:v1" \
  "oci:$tmp/layout:v1" "docker://$reg/peer/signed:v1" > "$tmp/peer-sign.log" 2>&1 \
  || fail "peer could not sign with a sigil key: $(tail -2 "$tmp/peer-sign.log")"
echo "peer signed with the sigil-generated key"

step "2. sigil verify checks the peer's signature (copied into the layout)"
peer copy --src-tls-verify=false --preserve-digests "docker://$reg/peer/signed:$sigtag" \
  "oci:$tmp/layout:$sigtag" > "$tmp/peer-copy.log" 2>&1 || fail "copying the peer signature: $(tail -2 "$tmp/peer-copy.log")"
"$bin/sigil" verify --key "$tmp/sigil.pub" "oci:$tmp/layout:v1" 2> "$tmp/verify.err" \
  || fail "sigil verify rejected the peer signature: $(cat "$tmp/verify.err")"
grep -q "identity: $reg/peer/signed:v1" "$tmp/verify.err" || fail "verify report lacks the identity"
set +e
"$bin/sigil" verify --key "$data/keys/other-ecdsa-p256.pub" "oci:$tmp/layout:v1" 2>/dev/null
rc=$?
set -e
[ $rc = 1 ] || fail "the peer signature verified with an unrelated key (exit $rc)"
echo "sigil verified the peer's signature, and refused it with another key"

step "3. the peer ACCEPTs what sigil signs"
cp -r "$data/image-oci" "$tmp/layout2"
"$bin/sigil" sign --key "$tmp/sigil.key" --identity "$reg/sigil/signed" -a ci=interop \
  "oci:$tmp/layout2:v1" 2>/dev/null || fail "sigil sign"
peer copy --dest-tls-verify=false --preserve-digests "oci:$tmp/layout2:v1" \
  "docker://$reg/sigil/signed:v1" > "$tmp/push1.log" 2>&1 || fail "push image: $(tail -2 "$tmp/push1.log")"
peer copy --dest-tls-verify=false --preserve-digests "oci:$tmp/layout2:$sigtag" \
  "docker://$reg/sigil/signed:$sigtag" > "$tmp/push2.log" 2>&1 || fail "push signature: $(tail -2 "$tmp/push2.log")"
out=$("$peer_dir/peer-verify.sh" "$reg/sigil/signed:v1" "$tmp/sigil.pub" 2>&1) || fail "peer rejected sigil's signature: $out"
echo "$out"
case $out in ACCEPT*) ;; *) fail "peer said: $out" ;; esac
set +e
out=$("$peer_dir/peer-verify.sh" "$reg/sigil/signed:v1" "$data/keys/other-ecdsa-p256.pub" 2>&1)
rc=$?
set -e
[ $rc = 1 ] || fail "peer accepted sigil's signature with an unrelated key: $out"

for t in ecdsa-p384 ed25519 rsa-3072; do
  step "3b. the peer ACCEPTs a $t signature by sigil"
  "$bin/sigil" key generate --type "$t" --output-prefix "$tmp/k-$t" >/dev/null 2>&1 || fail "generate $t"
  cp -r "$data/image-oci" "$tmp/layout-$t"
  "$bin/sigil" sign --key "$tmp/k-$t.key" --identity "$reg/sigil/$t" "oci:$tmp/layout-$t:v1" 2>/dev/null || fail "sign $t"
  peer copy --dest-tls-verify=false --preserve-digests "oci:$tmp/layout-$t:v1" "docker://$reg/sigil/$t:v1" >/dev/null 2>&1 || fail "push $t"
  peer copy --dest-tls-verify=false --preserve-digests "oci:$tmp/layout-$t:$sigtag" "docker://$reg/sigil/$t:$sigtag" >/dev/null 2>&1 || fail "push sig $t"
  out=$("$peer_dir/peer-verify.sh" "$reg/sigil/$t:v1" "$tmp/k-$t.pub" 2>&1) || fail "peer rejected $t: $out"
  echo "$t: $out"
done
echo "interop: OK"

#!/usr/bin/env bash
# `sigil policy export --format containers-policy` against the peer (containers/image 5.23.1
# skopeo with sigstore enabled: what podman and CRI-O nodes run), through a real registry process
# (Debian's docker-registry) on 127.0.0.1 that this script starts and stops.
#   1. sigil pushes nine images and signs some of them with two sigil keys;
#   2. one policy (verify rules with one key each, an accept rule, a default reject) is exported;
#   3. `skopeo copy` under the exported policy.json and registries.d accepts and rejects exactly
#      the images `sigil verify --policy` does (and both what the table below says);
#   4. the same for a policy of one `**` rule (the docker transport's "" scope);
#   5. a policy containers/image cannot express (threshold 2) is refused with exit 2 naming the
#      rule, and nothing is written.
# Usage: policy_export_interop.sh SIGIL_BIN_DIR TEST_DATA_DIR
# Exit 77 (ctest: skipped) with a clear message when the peer or the registry is not available.
set -euo pipefail
bin=$1
data=$2
peer_dir=${SIGIL_PEER_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/peer}
skopeo=${SIGIL_PEER_SKOPEO:-${HOME}/.cache/sigil-peer/bin/skopeo}

skip() {
  if [ -n "${CI:-}" ] && [ -d "$peer_dir" ]; then
    echo "FAIL policy export interop: CI is set and $peer_dir exists, but the test cannot run: $*"
    exit 1
  fi
  echo "SKIP policy export interop: $*"
  exit 77
}
[ -x "$skopeo" ] || skip "no peer skopeo at $skopeo (run $peer_dir/build-peer.sh or set SIGIL_PEER_SKOPEO)"
command -v docker-registry >/dev/null || skip "docker-registry is not installed (tools/install-deps.sh)"

tmp=$(mktemp -d /tmp/sigil-export-interop.XXXXXX)
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

# A registry on a free loopback port (as peer_interop.sh starts it).
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 20000))
  cat > "$tmp/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $tmp/registry-data
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
cp -r "$data/image-oci" "$tmp/layout"
ins=(--insecure-registry "$reg")
sig() { "$bin/sigil" "$1" "${ins[@]}" "${@:2}"; }

step "1. images, signed and not"
mkdir -p "$tmp/pol/keys"
"$bin/sigil" key generate --output-prefix "$tmp/a" >/dev/null 2>&1 || fail "key generate a"
"$bin/sigil" key generate --type ed25519 --output-prefix "$tmp/b" >/dev/null 2>&1 || fail "key generate b"
cp "$tmp/a.pub" "$tmp/pol/keys/a.pub"
cp "$tmp/b.pub" "$tmp/pol/keys/b.pub"
push() { sig copy "oci:$tmp/layout:v1" "$reg/$1:v1" 2>"$tmp/copy.err" || fail "copy $1: $(cat "$tmp/copy.err")"; }
sign() { sig sign --key "$tmp/$2.key" "$reg/$1:v1" 2>"$tmp/sign.err" || fail "sign $1: $(cat "$tmp/sign.err")"; }
#        image             key  rule (in the policy below)   sigil's verdict
images=("team              a    team                          allow"
        "team/app          a    team                          allow"
        "team/sub/app      a    team                          allow"
        "team/byb          b    team                          deny"
        "team/unsigned     -    team                          deny"
        "ops/app           b    ops                           allow"
        "ops/bya           a    ops                           deny"
        "base/img          -    base                          allow"
        "elsewhere/img     a    default                       deny")
for row in "${images[@]}"; do
  read -r name key _ _ <<<"$row"
  push "$name"
  [ "$key" = - ] || sign "$name" "$key"
done

step "2. the policy, exported"
cat > "$tmp/pol/policy.yaml" <<YAML
version: 1
keys:
  a: keys/a.pub
  b: {file: keys/b.pub}
rules:
  - name: team
    match: [$reg/team, $reg/team/**]
    keys: [a]
  - name: ops
    match: [$reg/ops, $reg/ops/**]
    keys: [b]
  - name: base
    match: [$reg/base, $reg/base/**]
    action: accept
default:
  action: reject
YAML
"$bin/sigil" policy validate "$tmp/pol/policy.yaml" 2>"$tmp/validate.err" || fail "validate: $(cat "$tmp/validate.err")"
cat "$tmp/validate.err"
"$bin/sigil" policy export --format containers-policy "$tmp/pol/policy.yaml" "$tmp/out" 2>"$tmp/export.err" \
  || fail "export: $(cat "$tmp/export.err")"
cat "$tmp/export.err"
[ -f "$tmp/out/policy.json" ] && [ -f "$tmp/out/registries.d/sigil.yaml" ] || fail "export wrote no files"

# sigil's own verdict on an image under a policy: `sigil verify --policy` (exit 0 allowed, 1 denied).
sigil_verdict() {  # POLICY NAME -> allow|deny
  local rc
  set +e
  sig verify --policy "$1" "$reg/$2:v1" >/dev/null 2>"$tmp/verify.err"
  rc=$?
  set -e
  case $rc in 0) echo allow ;; 1) echo deny ;; *) echo "error($rc): $(cat "$tmp/verify.err")" ;; esac
}
peer_verdict() {  # NAME -> allow|deny
  local rc
  set +e
  "$skopeo" --policy "$tmp/out/policy.json" --registries.d "$tmp/out/registries.d" \
    copy --remove-signatures --src-tls-verify=false "docker://$reg/$1:v1" "oci:$tmp/copy-$RANDOM:x" \
    > "$tmp/skopeo.log" 2>&1
  rc=$?
  set -e
  if [ $rc = 0 ]; then echo allow; elif grep -q "Source image rejected" "$tmp/skopeo.log"; then
    echo deny; else echo "error: $(tail -1 "$tmp/skopeo.log")"; fi
}

step "3. the peer under the exported policy decides as sigil verify --policy does"
for row in "${images[@]}"; do
  read -r name key rule want <<<"$row"
  s=$(sigil_verdict "$tmp/pol/policy.yaml" "$name")
  p=$(peer_verdict "$name")
  printf '%-16s rule %-8s sigil %-6s peer %s\n' "$name" "$rule" "$s" "$p"
  [ "$s" = "$want" ] || fail "sigil said $s for $name, the table says $want"
  [ "$p" = "$s" ] || fail "the peer said $p for $name under the exported policy, sigil $s: $(cat "$tmp/skopeo.log")"
done

step "4. a ** rule is the docker transport's default scope (default-docker in registries.d)"
cat > "$tmp/pol/all.yaml" <<YAML
version: 1
keys: {a: keys/a.pub}
rules:
  - {name: all, match: "**", keys: [a]}
YAML
"$bin/sigil" policy export --format containers-policy "$tmp/pol/all.yaml" "$tmp/out" --force 2>"$tmp/export.err" \
  || fail "export of **: $(cat "$tmp/export.err")"
for row in "${images[@]}"; do
  read -r name key _ _ <<<"$row"
  want=deny; [ "$key" = a ] && want=allow
  s=$(sigil_verdict "$tmp/pol/all.yaml" "$name")
  p=$(peer_verdict "$name")
  printf '%-16s rule all      sigil %-6s peer %s\n' "$name" "$s" "$p"
  [ "$s" = "$want" ] || fail "sigil said $s for $name under **, expected $want"
  [ "$p" = "$s" ] || fail "the peer said $p for $name under the exported ** policy, sigil $s: $(cat "$tmp/skopeo.log")"
done

step "5. what containers/image cannot express is refused, naming the rule; nothing is written"
cat > "$tmp/pol/two.yaml" <<YAML
version: 1
keys: {a: keys/a.pub, b: keys/b.pub}
rules:
  - {name: both, match: [$reg/team, $reg/team/**], keys: [a, b], threshold: 2}
YAML
set +e
"$bin/sigil" policy export --format containers-policy "$tmp/pol/two.yaml" "$tmp/out2" 2>"$tmp/two.err"
rc=$?
set -e
[ $rc = 2 ] || fail "export of threshold 2: exit $rc: $(cat "$tmp/two.err")"
grep -q "rule 'both': threshold 2" "$tmp/two.err" || fail "export of threshold 2 said: $(cat "$tmp/two.err")"
[ ! -e "$tmp/out2/policy.json" ] || fail "a refused export wrote policy.json"
cat "$tmp/two.err"
echo "policy export interop: OK"

#!/usr/bin/env bash
# tools/demo.sh: the main job, end to end and offline. Installs dependencies, builds sigil, then:
#   1. generates a key pair,
#   2. resolves and signs the sample OCI image layout shipped in tests/data/sample-layout (tag
#      "latest"),
#   3. verifies it (must exit 0),
#   4. shows that a tampered copy (one byte of the layer blob changed) is rejected (non-zero exit),
#   5. shows that verifying with another key is rejected (exit 1).
# Every sigil command is echoed as "+ sigil ..." first so you can repeat it by hand
# (sigil is build/bin/sigil, or $SIGIL_BUILD_DIR/bin/sigil; the key password comes from
# SIGIL_PASSWORD).
# Prints "demo: OK" and exits 0 only if every expectation held; otherwise names the failed step.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

fail() { echo "demo: FAILED at step: $*" >&2; exit 1; }

bash tools/install-deps.sh || fail "install dependencies (tools/install-deps.sh)"
build_dir=${SIGIL_BUILD_DIR:-build}  # relative to the project root unless absolute
bash tools/build.sh --build-dir "$build_dir" --target sigil </dev/null \
  || fail "build (tools/build.sh --target sigil)"
case $build_dir in /*) ;; *) build_dir=$root/$build_dir ;; esac
sigil_bin=$build_dir/bin/sigil
[ -x "$sigil_bin" ] || fail "build: $sigil_bin was not built"
sample=$root/tests/data/sample-layout
[ -f "$sample/index.json" ] || fail "sample image: $sample/index.json not found"

tmp=$(mktemp -d /tmp/sigil-demo.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export SIGIL_PASSWORD=demo-password
unset COSIGN_PASSWORD

echo
echo "demo: sigil is $sigil_bin; working in $tmp"
echo "demo: export SIGIL_PASSWORD=demo-password   # the private key's password"

# run EXPECT STEP -- ARGS...: echo "+ sigil ARGS", run it, check the exit code.
# EXPECT: 0, 1, or "fail" (any refusal: 1 verification failed or 3 input/I-O error; never a
# usage error or a crash).
run() {
  local expect=$1 step=$2; shift 3
  echo
  echo "# $step"
  printf '+ sigil'; printf ' %q' "$@"; printf '\n'
  "$sigil_bin" "$@" </dev/null
  local rc=$?
  echo "(exit $rc)"
  case $expect in
    fail) [ $rc -eq 1 ] || [ $rc -eq 3 ] || fail "$step: expected exit 1 or 3, got $rc" ;;
    *) [ $rc -eq "$expect" ] || fail "$step: expected exit $expect, got $rc" ;;
  esac
}

run 0 "generate a key pair (ECDSA P-256, cosign-compatible files)" -- \
  key generate --output-prefix "$tmp/demo"
[ -f "$tmp/demo.key" ] && [ -f "$tmp/demo.pub" ] || fail "key generate: $tmp/demo.key or .pub missing"
echo "+ ls -l $tmp/demo.key $tmp/demo.pub"
ls -l "$tmp/demo.key" "$tmp/demo.pub"

echo
echo "+ cp -r tests/data/sample-layout $tmp/image"
cp -r "$sample" "$tmp/image" || fail "copy the sample layout"

run 0 "resolve the image's digest (reads index.json only)" -- digest "oci:$tmp/image:latest"
run 0 "sign the image" -- sign --key "$tmp/demo.key" "oci:$tmp/image:latest"
run 0 "verify it with the public key (must succeed)" -- \
  verify --key "$tmp/demo.pub" "oci:$tmp/image:latest"
run 0 "the same verification, machine-readable (flags may follow the image)" -- \
  verify "oci:$tmp/image:latest" --key "$tmp/demo.pub" --output json

# Tamper with a copy: flip one bit in the middle of the image's first layer blob.
echo
echo "# tamper with a copy: change one byte of the layer blob"
echo "+ cp -r $tmp/image $tmp/tampered"
cp -r "$tmp/image" "$tmp/tampered" || fail "copy the signed layout"
layer=$(python3 - "$tmp/tampered" <<'PY'
import json, sys, os
root = sys.argv[1]
def blob(d): return os.path.join(root, "blobs", *d.split(":", 1))
index = json.load(open(os.path.join(root, "index.json")))
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "latest")
doc = json.load(open(blob(desc["digest"])))
while "manifests" in doc:  # an image index: take its first manifest
    doc = json.load(open(blob(doc["manifests"][0]["digest"])))
print(blob(doc["layers"][0]["digest"]))
PY
) || fail "tamper: could not find the layer blob of oci:$tmp/tampered:latest"
echo "+ flip one bit at the middle of $layer"
python3 - "$layer" <<'PY' || fail "tamper: could not modify $layer"
import os, sys
p = sys.argv[1]
os.chmod(p, 0o644)
with open(p, "r+b") as f:
    f.seek(os.path.getsize(p) // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0x01]))
PY
run fail "verify the tampered copy (must be rejected)" -- \
  verify --key "$tmp/demo.pub" "oci:$tmp/tampered:latest"

run 0 "generate a second, unrelated key pair" -- key generate --output-prefix "$tmp/other"
run 1 "verify the untouched image with the wrong key (must be rejected, exit 1)" -- \
  verify --key "$tmp/other.pub" "oci:$tmp/image:latest"

echo
echo "demo: OK"

#!/usr/bin/env bash
# Interop with sigstore-js (@sigstore/verify 4.1.3, pinned in ../shared/peer/sigstore-js): the
# sigstore bundles `sigil sign --format bundle` attaches as OCI 1.1 referrers, and the DSSE
# envelopes inside them, are VERIFIED by an independent implementation, for every key type.
#   1. sign a copy of tests/data/sample-layout with `sigil sign --format bundle -a k=v`;
#   2. extract the bundle from the layout the way a registry client would (fallback index tag
#      sha256-<hex> -> referrer manifest -> bundle layer);
#   3. `node verify-bundle.mjs BUNDLE --digest sha256:<image> --key PUB` and
#      `node verify-dsse.mjs ENVELOPE PUB` must print VERIFIED; with another key or another digest
#      they must print FAILED (so this test can fail);
#   4. `sigil verify` of the same layout reports the signature with "format": "bundle";
#   5. image attestations: `sigil attest --format bundle` bundles VERIFIED for the image digest and
#      key, FAILED for another digest or key;
#   6. release files: `sigil sign-blob --bundle` (messageSignature) and `sigil attest-blob --bundle`
#      (DSSE) bundles VERIFIED for their file and key, FAILED for another file or key.
# Usage: sigstore_js.sh SIGIL_BIN_DIR TEST_DATA_DIR
# node_modules are cached in ~/.cache/sigil-sigstore-js/<sha256 of package-lock.json>.
# Exit 77 (ctest: skipped) with a clear message when node, npm or the peer folder is missing.
set -euo pipefail
bin=$1
data=$2
peer_dir=${SIGIL_PEER_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/peer}
sjs_src=$peer_dir/sigstore-js

# In CI (CI set) with the peer folder beside the project, a skip is a failure: a green run must
# mean the peer checked sigil's output.
skip() {
  if [ -n "${CI:-}" ] && [ -d "$peer_dir" ]; then
    echo "FAIL sigstore-js interop: CI is set and $peer_dir exists, but the test cannot run: $*"
    exit 1
  fi
  echo "SKIP sigstore-js interop: $*"
  exit 77
}
fail() { echo "FAIL: $*"; exit 1; }
step() { echo "--- $*"; }

[ -f "$sjs_src/verify-bundle.mjs" ] || skip "no sigstore-js peer at $sjs_src (set SIGIL_PEER_DIR)"
command -v node >/dev/null || skip "node is not installed"
command -v npm >/dev/null || skip "npm is not installed"
[ -x "$bin/sigil" ] || fail "no sigil at $bin/sigil"

# The peer with its node_modules, cached by lockfile hash (shared/ is read-only: work on a copy).
lock_hash=$(sha256sum "$sjs_src/package-lock.json" | cut -c1-64)
cache_root=${SIGIL_SIGSTORE_JS_CACHE:-${HOME}/.cache/sigil-sigstore-js}
sjs=$cache_root/$lock_hash
if [ ! -f "$sjs/.complete" ]; then
  step "npm ci into $sjs (once per lockfile)"
  mkdir -p "$cache_root"
  staging=$(mktemp -d "$cache_root/.staging.XXXXXX")
  cp -r "$sjs_src/." "$staging/"
  chmod -R u+w "$staging"
  if ! (cd "$staging" && npm ci --no-audit --no-fund --loglevel=error > npm.log 2>&1); then
    tail -5 "$staging/npm.log" || true
    rm -rf "$staging"
    skip "npm ci failed (is the npm registry reachable?)"
  fi
  touch "$staging/.complete"
  rm -rf "$sjs"
  mv "$staging" "$sjs" 2>/dev/null || rm -rf "$staging"  # another run may have won the race
fi
# The scripts themselves always come from the peer folder (the cache holds node_modules).
cp "$sjs_src"/*.mjs "$sjs/" 2>/dev/null || true

tmp=$(mktemp -d /tmp/sigil-sigstore-js.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export SIGIL_PASSWORD=interop-pw
unset COSIGN_PASSWORD

# Prints the path of the bundle blob attached to the image DIGEST (sha256:hex) in layout DIR.
extract_bundle() {
  node - "$1" "$2" "$3" <<'JS'
const fs = require('fs');
const [dir, digest, out] = process.argv.slice(2);
const blob = (d) => fs.readFileSync(`${dir}/blobs/${d.replace(':', '/')}`);
const index = JSON.parse(fs.readFileSync(`${dir}/index.json`, 'utf8'));
const tag = digest.replace(':', '-');
const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
if (!entry) throw new Error(`no referrers tag ${tag}`);
const referrers = JSON.parse(blob(entry.digest));
const bundles = referrers.manifests.filter(
  (m) => m.artifactType === 'application/vnd.dev.sigstore.bundle.v0.3+json');
if (bundles.length !== 1) throw new Error(`expected 1 bundle referrer, found ${bundles.length}`);
const manifest = JSON.parse(blob(bundles[0].digest));
if (manifest.subject.digest !== digest) throw new Error('referrer subject mismatch');
const bundle = blob(manifest.layers[0].digest);
fs.writeFileSync(out, bundle);
fs.writeFileSync(`${out}.envelope.json`, JSON.stringify(JSON.parse(bundle).dsseEnvelope));
JS
}

expect() {  # expect VERIFIED|FAILED DESCRIPTION COMMAND…
  local want=$1 what=$2
  shift 2
  local out
  out=$("$@" 2>&1) || true
  echo "    $what: $out"
  case "$out" in
    "$want"*) ;;
    *) fail "$what: expected $want" ;;
  esac
}

image=sha256:2cd8c0d64a25afc2c8c1ca3028aa89793b3d3f04cec3a58668a71803132897e8
"$bin/sigil" key generate --type ecdsa-p256 --output-prefix "$tmp/other" >/dev/null 2>&1 ||
  fail "sigil key generate (other) failed"

for type in ecdsa-p256 ecdsa-p384 ed25519 rsa-3072; do
  step "$type"
  layout=$tmp/layout-$type
  cp -r "$data/sample-layout" "$layout"
  chmod -R u+w "$layout"
  "$bin/sigil" key generate --type "$type" --output-prefix "$tmp/$type" >/dev/null 2>&1 ||
    fail "sigil key generate --type $type failed"
  "$bin/sigil" sign --format bundle --key "$tmp/$type.key" -a env=ci -a team=sigil \
    "oci:$layout:latest" || fail "sigil sign --format bundle ($type) failed"
  extract_bundle "$layout" "$image" "$tmp/$type.bundle.json" || fail "could not extract the bundle"

  expect VERIFIED "verify-bundle" node "$sjs/verify-bundle.mjs" "$tmp/$type.bundle.json" \
    --digest "$image" --key "$tmp/$type.pub"
  expect VERIFIED "verify-dsse" node "$sjs/verify-dsse.mjs" "$tmp/$type.bundle.json.envelope.json" \
    "$tmp/$type.pub" --payload-type application/vnd.in-toto+json
  expect FAILED "verify-bundle, another key" node "$sjs/verify-bundle.mjs" \
    "$tmp/$type.bundle.json" --digest "$image" --key "$tmp/other.pub"
  expect FAILED "verify-bundle, another digest" node "$sjs/verify-bundle.mjs" \
    "$tmp/$type.bundle.json" --digest "sha256:$(printf '0%.0s' $(seq 64))" --key "$tmp/$type.pub"
  expect FAILED "verify-dsse, another key" node "$sjs/verify-dsse.mjs" \
    "$tmp/$type.bundle.json.envelope.json" "$tmp/other.pub"

  json=$("$bin/sigil" verify --key "$tmp/$type.pub" -a env=ci --output json "oci:$layout:latest" \
    2>/dev/null) || fail "sigil verify of its own bundle failed ($type)"
  node -e 'const j = JSON.parse(process.argv[1]);
    const s = j.signatures.find((x) => x.format === "bundle" && x.verified);
    if (!j.verified || !s) process.exit(1);' "$json" || fail "sigil verify: no verified bundle verdict"
  echo "    sigil verify: verified, format bundle"
done

# Release files (sigil sign-blob --bundle: messageSignature; attest-blob --bundle: DSSE). sigstore-js
# verifies a messageSignature with crypto.verify(hashAlgorithm, artifact, key): Node refuses a
# digest name for Ed25519, so it cannot check pure-Ed25519 blob signatures (cosign's and
# sigstore-go's form, which sigil writes); Ed25519 is checked here through the DSSE attestation.
printf 'release 1.0\n' > "$tmp/release.txt"
printf 'release 1.1\n' > "$tmp/other.txt"
# A SLSA v1 predicate of the shape attest-blob checks (buildType, externalParameters, builder.id).
printf '{"buildDefinition":{"buildType":"https://example.com/make@v1","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.com/ci"}}}' > "$tmp/pred.json"
for type in ecdsa-p256 ecdsa-p384 ed25519 rsa-3072; do
  step "blob, $type"
  if [ "$type" != ed25519 ]; then
    "$bin/sigil" sign-blob --key "$tmp/$type.key" --bundle "$tmp/$type.blob.json" \
      "$tmp/release.txt" 2>/dev/null || fail "sigil sign-blob --bundle ($type) failed"
    expect VERIFIED "verify-bundle, messageSignature" node "$sjs/verify-bundle.mjs" \
      "$tmp/$type.blob.json" "$tmp/release.txt" --key "$tmp/$type.pub"
    expect FAILED "verify-bundle, messageSignature, another file" node "$sjs/verify-bundle.mjs" \
      "$tmp/$type.blob.json" "$tmp/other.txt" --key "$tmp/$type.pub"
    expect FAILED "verify-bundle, messageSignature, another key" node "$sjs/verify-bundle.mjs" \
      "$tmp/$type.blob.json" "$tmp/release.txt" --key "$tmp/other.pub"
  fi
  "$bin/sigil" attest-blob --key "$tmp/$type.key" --predicate "$tmp/pred.json" \
    --type slsaprovenance --bundle "$tmp/$type.att.json" "$tmp/release.txt" 2>/dev/null ||
    fail "sigil attest-blob --bundle ($type) failed"
  expect VERIFIED "verify-bundle, attestation" node "$sjs/verify-bundle.mjs" \
    "$tmp/$type.att.json" "$tmp/release.txt" --key "$tmp/$type.pub"
  expect FAILED "verify-bundle, attestation, another file" node "$sjs/verify-bundle.mjs" \
    "$tmp/$type.att.json" "$tmp/other.txt" --key "$tmp/$type.pub"
done
# Image attestations (sigil attest --format bundle): a DSSE envelope over an in-toto statement about
# the image, in a bundle referrer with its own predicate type.
printf '{"reviewed":true,"by":"interop"}' > "$tmp/review.json"
for type in ecdsa-p256 ed25519; do
  step "attestation, $type"
  layout=$tmp/att-$type
  cp -r "$data/sample-layout" "$layout"
  chmod -R u+w "$layout"
  "$bin/sigil" attest --format bundle --key "$tmp/$type.key" --type https://example.com/review/v1 \
    --predicate "$tmp/review.json" "oci:$layout:latest" 2>/dev/null ||
    fail "sigil attest --format bundle ($type) failed"
  extract_bundle "$layout" "$image" "$tmp/$type.imgatt.json" || fail "could not extract the attestation bundle"
  expect VERIFIED "verify-bundle, image attestation" node "$sjs/verify-bundle.mjs" \
    "$tmp/$type.imgatt.json" --digest "$image" --key "$tmp/$type.pub"
  expect VERIFIED "verify-dsse, image attestation" node "$sjs/verify-dsse.mjs" \
    "$tmp/$type.imgatt.json.envelope.json" "$tmp/$type.pub" --payload-type application/vnd.in-toto+json
  expect FAILED "verify-bundle, image attestation, another digest" node "$sjs/verify-bundle.mjs" \
    "$tmp/$type.imgatt.json" --digest "sha256:$(printf '0%.0s' $(seq 64))" --key "$tmp/$type.pub"
  expect FAILED "verify-bundle, image attestation, another key" node "$sjs/verify-bundle.mjs" \
    "$tmp/$type.imgatt.json" --digest "$image" --key "$tmp/other.pub"
done
echo "PASS sigstore-js interop: bundles and DSSE envelopes from sigil VERIFIED by sigstore-js"

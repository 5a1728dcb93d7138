#!/usr/bin/env bash
# tools/install-deps.sh [--build-only]: install every Debian 12 package sigil needs to build, test
# and benchmark; with --build-only, those that building and packaging (cpack -G DEB) need, as the
# Dockerfile's build stage does.
#
# Idempotent and quick when nothing is missing: each package is checked with dpkg-query first, and
# apt-get (update once, then install) runs only for the missing ones. Runs as root, or through sudo.
set -euo pipefail

build_packages=(
  # toolchain (binutils: readelf for the sonames libtrust opens, nm/strip for packaging)
  g++ cmake make pkg-config clang-format binutils
  # libraries libtrust links; cpp-httplib for the servers
  libssl-dev libsodium-dev nlohmann-json3-dev libcurl4-openssl-dev libcli11-dev zlib1g-dev
  libzstd-dev libarchive-dev libre2-dev libyaml-cpp-dev libcpp-httplib-dev
  # packaging (cpack -G DEB and its test): dpkg-shlibdeps, file
  dpkg-dev file
)
packages=(
  "${build_packages[@]}"
  # tests: Catch2, a real registry (distribution 2.8), htpasswd, openssl for CA/cert fixtures
  catch2 docker-registry apache2-utils openssl curl
  # tests: an independent DSSE check (PAE written from the spec) on Debian's python3-cryptography
  python3-cryptography
  # tests: the Kubernetes manifests under deploy/kubernetes/ checked against the client's models
  # (tests/deploy/check_manifests.py)
  python3-kubernetes python3-yaml
  # tests: a real Docker Engine (dockerd 20.10) for the authorization plugin; wrk for load
  docker.io wrk
  # benchmarks: side-by-side timing, peak RSS (/usr/bin/time -f %M), layout generator
  hyperfine time python3 skopeo
)
build_only=0
case ${1:-} in
  --build-only) build_only=1 packages=("${build_packages[@]}") ;;
  "") ;;
  *) echo "install-deps: unknown argument $1 (usage: install-deps.sh [--build-only])" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# The sigstore-js interop test needs node and npm. Some machines ship their own Node.js (with npm)
# outside dpkg; only when the commands are absent do we install Debian's packages.
if [ $build_only = 0 ] && { ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; }; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed" >&2
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing packages (${missing[*]}) and not root, and sudo is not available" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2

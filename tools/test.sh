#!/usr/bin/env bash
# tools/test.sh: install dependencies, build sigil twice (normal, and ASan+UBSan), run every test in
# both builds with ctest, and print one closing line "N passed, N failed[, N skipped]" summed over both.
# Exits non-zero if a build fails or any test fails.
#
# Interop tests: when ../shared/peer/build-peer.sh exists beside the project, the peer skopeo is built
# (idempotent) and SIGIL_PEER_SKOPEO / SIGIL_PEER_DIR are exported so those tests run; otherwise they
# skip, and this script says so. With CI set (as .ci/run is run), a peer that is present but cannot
# be built or run fails the run instead of skipping.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start ))s"; }
say() { echo "test.sh [$(elapsed)]: $*" >&2; }

if [ "$(id -u)" -eq 0 ]; then as_root=(); else as_root=(sudo); fi

say "installing dependencies"
bash tools/install-deps.sh || { say "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

# --- peer tools for interop tests -------------------------------------------------------------
peer_dir=$root/../shared/peer
peer_failed=0
if [ -n "${SIGIL_PEER_SKOPEO:-}" ] && [ -x "$SIGIL_PEER_SKOPEO" ]; then
  say "interop: using SIGIL_PEER_SKOPEO=$SIGIL_PEER_SKOPEO from the environment"
  [ -d "$peer_dir" ] && export SIGIL_PEER_DIR=${SIGIL_PEER_DIR:-$(cd "$peer_dir" && pwd)}
elif [ -f "$peer_dir/build-peer.sh" ]; then
  peer_dir=$(cd "$peer_dir" && pwd)
  peer_out=${PEER_OUT:-${XDG_CACHE_HOME:-$HOME/.cache}/sigil-peer}
  # build-peer.sh finds Debian's archive through apt's lists; make sure they exist.
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 || true
  fi
  say "interop: building the peer skopeo ($peer_dir/build-peer.sh; idempotent)"
  peer_log=$(mktemp /tmp/sigil-peer-build.XXXXXX.log)
  if "${as_root[@]}" env PEER_OUT="$peer_out" bash "$peer_dir/build-peer.sh" >"$peer_log" 2>&1 \
      && [ -x "$peer_out/bin/skopeo" ]; then
    export SIGIL_PEER_SKOPEO=$peer_out/bin/skopeo
    export SIGIL_PEER_DIR=$peer_dir
    say "interop: SIGIL_PEER_SKOPEO=$SIGIL_PEER_SKOPEO SIGIL_PEER_DIR=$SIGIL_PEER_DIR"
    rm -f "$peer_log"
  else
    tail -n 20 "$peer_log" >&2
    unset SIGIL_PEER_SKOPEO
    if [ -n "${CI:-}" ]; then
      # In CI the peer is part of the run: its failure fails the run (the interop tests fail too).
      say "ERROR: building the peer failed (log: $peer_log); CI is set, so the run fails"
      peer_failed=1
    else
      say "WARNING: building the peer failed (log: $peer_log); interop tests will SKIP"
    fi
  fi
else
  say "interop: $root/../shared/peer not found; interop tests will SKIP"
  unset SIGIL_PEER_SKOPEO SIGIL_PEER_DIR
fi

# --- build and test ---------------------------------------------------------------------------
passed=0 failed=0 skipped=0 status=0
details=()

# run_suite NAME BUILD_DIR [build.sh args...]; the sanitizer environment is set by the caller.
run_suite() {
  local name=$1 dir=$2; shift 2
  say "building $name ($dir)"
  if ! bash tools/build.sh --build-dir "$dir" "$@" </dev/null; then
    say "$name: BUILD FAILED"
    failed=$((failed + 1)); status=1
    details+=("$name: build failed (counted as 1 failed)")
    return
  fi
  say "testing $name"
  local log=$dir/ctest.log rc
  ctest --test-dir "$dir" --output-on-failure -j2 --timeout 600 --no-tests=error </dev/null 2>&1 \
    | tee "$log"
  rc=${PIPESTATUS[0]}
  # "75% tests passed, 1 tests failed out of 4": skipped tests are inside the total and listed
  # as "N - name (Skipped)" under "The following tests did not run:".
  local summary total f s
  summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [ -z "$summary" ]; then
    say "$name: ctest printed no summary (exit $rc)"
    failed=$((failed + 1)); status=1
    details+=("$name: ctest ran no tests or crashed (exit $rc; counted as 1 failed)")
    return
  fi
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
  f=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$summary")
  s=$(grep -cE '^[[:space:]]+[0-9]+ - .* \(Skipped\)$' "$log")
  passed=$((passed + total - f - s)); failed=$((failed + f)); skipped=$((skipped + s))
  details+=("$name: $((total - f - s)) passed, $f failed, $s skipped (ctest exit $rc)")
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then status=1; fi
}

run_suite "normal build" "$root/build"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite "ASan+UBSan build" "$root/build-asan" --sanitize
unset ASAN_OPTIONS UBSAN_OPTIONS

if [ $peer_failed -ne 0 ]; then
  failed=$((failed + 1)); status=1
  details+=("peer build: failed with CI set (counted as 1 failed)")
fi

echo
for d in "${details[@]}"; do echo "test.sh: $d"; done
[ -n "${SIGIL_PEER_SKOPEO:-}" ] || echo "test.sh: interop tests skipped (no peer skopeo)"
echo "test.sh: total time $(elapsed)"
if [ $skipped -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status

#!/usr/bin/env bash
# tools/build.sh [--sanitize] [--build-dir D] [--target T] [-- CMAKE_ARGS...]
#
# Configure and build sigil (RelWithDebInfo) with 2 parallel jobs.
#   default build dir: build/        (relative paths are taken from the project root)
#   --sanitize:        ASan+UBSan build (-DSIGIL_SANITIZE=ON), default dir build-asan/
#   --target T:        build only target T (repeatable), e.g. --target sigil
# Extra arguments after `--` go to the cmake configure step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sanitize=OFF
build_dir=
targets=()
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --sanitize) sanitize=ON ;;
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift ;;
    --build-dir=*) build_dir=${1#*=} ;;
    --target) targets+=(--target "${2:?--target needs a name}"); shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "build.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$build_dir" ]; then
  if [ $sanitize = ON ]; then build_dir=build-asan; else build_dir=build; fi
fi
case $build_dir in /*) ;; *) build_dir=$root/$build_dir ;; esac

jobs=${SIGIL_JOBS:-2}
echo "build: $build_dir (RelWithDebInfo, sanitize=$sanitize, -j$jobs)" >&2
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGIL_SANITIZE=$sanitize \
  "${extra[@]}" >/dev/null
cmake --build "$build_dir" -j"$jobs" "${targets[@]}"

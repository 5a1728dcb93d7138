#!/usr/bin/env bash
# bench/blob.sh [--quick] [--sigil PATH] [--runs N] [--size MIB]
#
# Release files (issue 9 item 4): `sigil sign-blob` and `sigil verify-blob` of one file (default
# 1024 MiB of random bytes; --quick: 64 MiB) with an ECDSA P-256 key, side by side with
# `openssl dgst -sha256 -sign` / `-verify` on the same file and key, and `openssl dgst -sha256`
# (the hash alone), measured in the same run: best wall time of N runs (default 3; --quick 2),
# peak RSS (/usr/bin/time -f %M), and the ratio of sigil's time to openssl's. The target
# (issue 9): verify-blob throughput >= 0.9x `openssl dgst -sha256`, RSS <= 64 MiB whatever the
# file's size. Also `sigil verify-blob` of a sparse file 4x larger (hashed as it streams: its RSS
# must not grow). The file is read from the page cache (warmed first). Results: printed, and
# written to bench/results/blob.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs= size=
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 13 size -- "$@"
if [ $quick = 1 ]; then size=${size:-64} runs=${runs:-2}; else size=${size:-1024} runs=${runs:-3}; fi

bench_sigil
for tool in openssl /usr/bin/time awk head; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (tools/install-deps.sh)" >&2; exit 1; }
done

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench-blob.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SIGIL_PASSWORD=bench COSIGN_PASSWORD=

log "writing a $size MiB file"
head -c $((size << 20)) /dev/urandom > "$work/blob"
truncate -s $((4 * size))M "$work/sparse"
# One key for both: made by openssl, imported into a cosign key file for sigil (openssl cannot
# read cosign's encryption). sign-blob's time includes decrypting it (scrypt N=32768, ~32 MiB:
# most of its RSS); verify-blob's is the hash and one signature check.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/o.key" 2>/dev/null
openssl pkey -in "$work/o.key" -pubout -out "$work/o.pub" 2>/dev/null
"$sigil" key import --output-prefix "$work/oi" "$work/o.key" 2>/dev/null || { echo "bench: key import failed" >&2; exit 1; }
cat "$work/blob" > /dev/null  # warm the page cache

# best NAME CMD…: the fastest of $runs runs into T_NAME, its peak RSS (KiB) into R_NAME.
best() {
  local name=$1 i bt= br=0
  shift
  for ((i = 0; i < runs; i++)); do
    measure "$@" || { echo "bench: $name failed: $(head -c 300 "$work/last.err")" >&2; exit 1; }
    if [ -z "$bt" ] || awk -v a="$T" -v b="$bt" 'BEGIN { exit !(a < b) }'; then bt=$T br=$RSS; fi
  done
  printf -v "T_$name" '%s' "$bt"
  printf -v "R_$name" '%s' "$br"
}

log "timing ($runs runs each)"
best dgst openssl dgst -sha256 "$work/blob"
best osign openssl dgst -sha256 -sign "$work/o.key" -out "$work/o.sig" "$work/blob"
best ssign "$sigil" sign-blob --key "$work/oi.key" --output-signature "$work/s.sig" "$work/blob"
best overify openssl dgst -sha256 -verify "$work/o.pub" -signature "$work/o.sig" "$work/blob"
best sverify "$sigil" verify-blob --key "$work/oi.pub" --signature "$work/s.sig" "$work/blob"
"$sigil" sign-blob --key "$work/oi.key" --output-signature "$work/sparse.sig" "$work/sparse" 2>/dev/null
best ssparse "$sigil" verify-blob --key "$work/oi.pub" --signature "$work/sparse.sig" "$work/sparse"

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
rate() { awk -v s="$size" -v t="$1" 'BEGIN { printf "%.0f", s / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
{
  echo "# bench/blob.sh: $size MiB file (random, page cache), best of $runs; load at start: $load_start"
  printf '%-58s %9s %9s %9s\n' "command" "seconds" "MiB/s" "RSS MiB"
  printf '%-58s %9s %9s %9s\n' "openssl dgst -sha256 FILE" "$T_dgst" "$(rate "$T_dgst")" "$(mib "$R_dgst")"
  printf '%-58s %9s %9s %9s\n' "openssl dgst -sha256 -sign K FILE" "$T_osign" "$(rate "$T_osign")" "$(mib "$R_osign")"
  printf '%-58s %9s %9s %9s\n' "sigil sign-blob --key K --output-signature S FILE" "$T_ssign" "$(rate "$T_ssign")" "$(mib "$R_ssign")"
  printf '%-58s %9s %9s %9s\n' "openssl dgst -sha256 -verify P -signature S FILE" "$T_overify" "$(rate "$T_overify")" "$(mib "$R_overify")"
  printf '%-58s %9s %9s %9s\n' "sigil verify-blob --key P --signature S FILE" "$T_sverify" "$(rate "$T_sverify")" "$(mib "$R_sverify")"
  printf '%-58s %9s %9s %9s\n' "sigil verify-blob, sparse file of $((4 * size)) MiB" "$T_ssparse" "-" "$(mib "$R_ssparse")"
  echo "ratio sigil/openssl (time): sign-blob $(ratio "$T_ssign" "$T_osign"), verify-blob $(ratio "$T_sverify" "$T_overify"); verify-blob throughput vs openssl dgst -sha256: $(ratio "$T_dgst" "$T_sverify")x (target >= 0.9)"
  echo "peak RSS: verify-blob $(mib "$R_sverify") MiB, of a 4x larger file $(mib "$R_ssparse") MiB (target <= 64)"
} | tee "$root/bench/results/blob.txt"

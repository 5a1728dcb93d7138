# bench/common.sh: what bench/run.sh and bench/registry.sh share (sourced, not run).
#
#   bench_args HELP_END [NAME…] -- "$@"
#       parses --quick (quick=1), --sigil PATH, --runs N, -h/--help (prints the script's header
#       comment, lines 2..HELP_END) and `--NAME VALUE` for each extra NAME (into the variable NAME).
#   bench_sigil
#       builds sigil when --sigil was not given (dependencies from tools/install-deps.sh) and
#       checks that $sigil runs.
#   measure CMD…
#       runs CMD once (stdout discarded, stderr to $work/last.err); sets T (wall seconds, with
#       $measure_digits decimals, default 6), RSS (peak KiB) and RC, and returns RC.
#   log TEXT…
#       a progress line on stderr.

bench_args() {
  local help_end=$1 extra=() name e known
  shift
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do extra+=("$1"); shift; done
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      --quick) quick=1 ;;
      --sigil) sigil=${2:?--sigil needs a path}; shift ;;
      --runs) runs=${2:?--runs needs a number}; shift ;;
      -h|--help) sed -n "2,${help_end}p" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *)
        name=${1#--} known=0
        for e in "${extra[@]}"; do [ "--$e" = "$1" ] && known=1; done
        if [ $known = 0 ]; then echo "bench: unknown argument $1 (see --help)" >&2; exit 2; fi
        [ $# -ge 2 ] || { echo "bench: $1 needs a value" >&2; exit 2; }
        printf -v "$name" '%s' "$2"
        shift ;;
    esac
    shift
  done
}

bench_sigil() {
  if [ -z "$sigil" ]; then
    bash "$root/tools/install-deps.sh" || exit 1
    bash "$root/tools/build.sh" --target sigil </dev/null >/dev/null || { echo "bench: build failed" >&2; exit 1; }
    sigil=$root/build/bin/sigil
  fi
  [ -x "$sigil" ] || { echo "bench: $sigil is not executable" >&2; exit 1; }
}

measure_digits=6
measure() {
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>"$work/last.err"
  RC=$?
  t1=$(date +%s%N)
  T=$(awk -v a="$t0" -v b="$t1" -v d="$measure_digits" 'BEGIN { printf "%.*f", d, (b - a) / 1e9 }')
  RSS=$(tail -n 1 "$work/rss" 2>/dev/null)
  [[ $RSS =~ ^[0-9]+$ ]] || RSS=0
  return $RC
}

log() { echo "bench: $*" >&2; }

# make_test_ca DIR: a CA and a server certificate for 127.0.0.1 (P-256, 2 days) in DIR/certs
# (ca.crt, server.crt, server.key), and the CA again in DIR/cadir/ca.crt (skopeo --cert-dir
# reads *.crt). Non-zero when openssl fails.
make_test_ca() {
  mkdir -p "$1/certs" "$1/cadir" || return 1
  (
    cd "$1/certs" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj /CN=bench-ca -keyout ca.key -out ca.crt 2>/dev/null &&
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
        -keyout server.key -out server.csr 2>/dev/null &&
      printf 'subjectAltName=IP:127.0.0.1\n' > ext &&
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile ext -out server.crt 2>/dev/null
  ) && cp "$1/certs/ca.crt" "$1/cadir/ca.crt"
}

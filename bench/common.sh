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

# --- registries -------------------------------------------------------------------------------
# Debian's docker-registry on a free 127.0.0.1 port, over TLS with the certificates make_test_ca
# wrote into $work/certs (run it first), with its access log (a line per request) in
# $work/NAME.log. The caller sets `work`, and calls stop_registries at exit.
declare -A PID=() PORT=()
# start_registry NAME: a fresh, empty registry; sets PORT[NAME] (kept when it is restarted).
start_registry() {
  local name=$1 port fixed=${PORT[$1]:-}  # a restarted registry keeps its port
  rm -rf "$work/$name-data"
  for _ in 1 2 3 4 5; do
    port=${fixed:-$((20000 + RANDOM % 20000))}
    cat > "$work/$name.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $work/$name-data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $work/certs/server.crt
    key: $work/certs/server.key
YML
    docker-registry serve "$work/$name.yml" > "$work/$name.log" 2>&1 &
    PID[$name]=$!
    for _ in $(seq 50); do
      if curl -fsS --cacert "$work/certs/ca.crt" "https://127.0.0.1:$port/v2/" >/dev/null 2>&1; then
        PORT[$name]=$port
        return 0
      fi
      kill -0 "${PID[$name]}" 2>/dev/null || break
      sleep 0.1
    done
    kill "${PID[$name]}" 2>/dev/null; wait "${PID[$name]}" 2>/dev/null
    sleep 0.5
  done
  log "cannot start docker-registry $name: $(tail -n 3 "$work/$name.log")"
  exit 1
}
stop_registry() {
  kill "${PID[$1]}" 2>/dev/null; wait "${PID[$1]}" 2>/dev/null; unset "PID[$1]"
}
# requests NAME: requests served so far (access log lines "METHOD /v2/...")
requests() { grep -cE '"(GET|HEAD|PUT|POST|PATCH|DELETE) /v2/' "$work/$1.log"; }
# count_requests NAME CMD...: runs CMD, sets REQ to the requests it made of registry NAME, OUT to
# its standard output and RC to its status (its standard error is in $work/last.err).
count_requests() {
  local name=$1 before; shift
  before=$(requests "$name")
  OUT=$("$@" 2>"$work/last.err")
  RC=$?
  sleep 0.2  # the access log line is written after the response
  REQ=$(( $(requests "$name") - before ))
}
stop_registries() {
  local n
  for n in "${!PID[@]}"; do stop_registry "$n"; done
}

#!/usr/bin/env bash
# bench/hook.sh [--quick] [--sigil PATH] [--runs N]
#
# The containerd pre-pull hook (sigil-verify called as containerd's bindir verifier calls it),
# the whole process from start to exit, N runs each (default 200, quick 40):
#   - cached: the verdict is in ROOT/cache (no registry request);
#   - uncached: the cache emptied before each run (outside the timing), so the hook resolves the
#     signature tag, reads the signature and verifies it against the local registry (Debian's
#     docker-registry, TLS with a CA made for the run).
# p50 and p99 of each, against the targets of issue 10 (cached <= 20 ms, uncached <= 100 ms), with
# references measured in the same run by the same harness: `sigil-verify version` (process start
# alone) and `curl` of the image's manifest (one TLS request from a new process).
# Results: printed, and written to bench/results/hook.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0 sigil= runs=
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_args 13 -- "$@"
if [ $quick = 1 ]; then runs=${runs:-40}; else runs=${runs:-200}; fi

bench_sigil
verifier=$(cd "$(dirname "$sigil")" && pwd)/sigil-verify
if [ ! -x "$verifier" ] && [ "$sigil" = "$root/build/bin/sigil" ]; then
  bash "$root/tools/build.sh" --target sigil-verify </dev/null >/dev/null 2>&1 || true
fi
[ -x "$verifier" ] || { echo "bench: $verifier is not executable" >&2; exit 1; }
for tool in docker-registry openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (tools/install-deps.sh)" >&2; exit 1; }
done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench-hook.XXXXXX")
cleanup() {
  stop_registries
  rm -rf "$work"
}
trap cleanup EXIT

make_test_ca "$work" || { log "cannot make certificates"; exit 1; }
ca=$work/certs/ca.crt
start_registry R
R=127.0.0.1:${PORT[R]}

export SIGIL_PASSWORD=bench COSIGN_PASSWORD=
"$sigil" key generate --output-prefix "$work/k" </dev/null 2>"$work/last.err" || { log "key generate failed"; exit 1; }
python3 "$root/bench/make_layout.py" "$work/img" --size $((1 << 20)) >/dev/null || exit 1
"$sigil" copy --ca-file "$ca" "oci:$work/img:latest" "$R/team/app:v1" </dev/null >/dev/null 2>"$work/last.err" \
  || { log "sigil copy failed: $(tail -n 3 "$work/last.err")"; exit 1; }
"$sigil" sign --ca-file "$ca" --key "$work/k.key" "$R/team/app:v1" </dev/null 2>"$work/last.err" \
  || { log "sigil sign failed: $(tail -n 3 "$work/last.err")"; exit 1; }

# The node root and containerd's bin_dir (deploy/containerd/README.md).
node=$work/etc-sigil
mkdir -p "$node/keys" "$work/bin"
cp "$work/k.pub" "$node/keys/release.pub"
cp "$ca" "$node/ca.pem"
cat > "$node/policy.yaml" <<YAML
version: 1
keys:
  release: keys/release.pub
rules:
  - name: team
    match: $R/team/*
    keys: [release]
default:
  action: reject
YAML
ln -s "$verifier" "$work/bin/sigil"

# The descriptor containerd writes: the manifest's media type, digest and size.
read -r media digest size < <(python3 - "$work/img" <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + "/index.json"))["manifests"][0]
print(m["mediaType"], m["digest"], m["size"])
PY
)
printf '{"mediaType":"%s","digest":"%s","size":%s}\n' "$media" "$digest" "$size" > "$work/desc.json"

log "hook: $runs runs each (cached, uncached, references), in alternation"
python3 - "$work" "$runs" "$R" "$digest" "$verifier" "$ca" > "$work/report.txt" <<'PY'
import math, os, subprocess, sys, time
work, runs, reg, digest, verifier, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
node = work + "/etc-sigil"
env = dict(os.environ, SIGIL_ROOT=node)
desc = open(work + "/desc.json", "rb").read()
hook = [work + "/bin/sigil", "-name", reg + "/team/app:v1", "-digest", digest,
        "-stdin-media-type", "application/vnd.oci.descriptor.v1+json"]
curl = ["curl", "-fsS", "-o", "/dev/null", "--cacert", ca, "-H",
        "Accept: application/vnd.oci.image.manifest.v1+json",
        "https://%s/v2/team/app/manifests/%s" % (reg, digest)]
contenders = {
    "cached": (hook, desc, None),
    "uncached": (hook, desc, "empty-cache"),
    "sigil-verify version": ([verifier, "version"], b"", None),
    "curl manifest": (curl, b"", None),
}
times = {k: [] for k in contenders}
failures = {k: 0 for k in contenders}

def empty_cache():
    d = node + "/cache"
    if os.path.isdir(d):
        for n in os.listdir(d):
            if n.endswith(".json"):
                os.unlink(os.path.join(d, n))

def once(name):
    argv, stdin, prep = contenders[name]
    if prep:
        empty_cache()
    t0 = time.perf_counter_ns()
    p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    t1 = time.perf_counter_ns()
    if p.returncode != 0:
        failures[name] += 1
        if failures[name] == 1:
            sys.stderr.write("bench: %s failed (%d): %s\n" % (name, p.returncode, (p.stdout + p.stderr).decode()[-400:]))
        return None
    return (t1 - t0) / 1e6

# Warm-up (which leaves the verdict in the cache), then the contenders in alternation: each
# uncached run stores the verdict the next cached run takes.
for name in contenders:
    once(name)
once("cached")
for _ in range(runs):
    for name in ("cached", "uncached", "sigil-verify version", "curl manifest"):
        t = once(name)
        if t is not None:
            times[name].append(t)

def pct(v, p):
    v = sorted(v)
    if not v:
        return None
    k = max(0, min(len(v) - 1, math.ceil(p / 100.0 * len(v)) - 1))  # nearest rank
    return v[k]

def fmt(x):
    return "n/a" if x is None else "%.1f" % x

print("   %-34s %8s %8s %8s %6s" % ("process start to exit, ms", "p50", "p99", "max", "fails"))
for name in contenders:
    v = times[name]
    print("   %-34s %8s %8s %8s %6d" % (name, fmt(pct(v, 50)), fmt(pct(v, 99)), fmt(max(v) if v else None), failures[name]))
ref = pct(times["sigil-verify version"], 50)
net = pct(times["curl manifest"], 50)
print("")
print("targets (issue 10)                               measured   target     verdict")
for name, target in (("cached", 20.0), ("uncached", 100.0)):
    for p in (50, 99):
        m = pct(times[name], p)
        verdict = "n/a" if m is None else ("PASS" if m <= target else "MISS")
        print("   %-42s %8s   %-9s  %s" % ("%s hook p%d (ms)" % (name, p), fmt(m), "<= %.0f" % target, verdict))
c = pct(times["cached"], 50)
u = pct(times["uncached"], 50)
if c is not None and ref:
    print("   %-42s %8.2f   %-9s  %s" % ("cached p50 / sigil-verify version p50", c / ref, "-", "info"))
if u is not None and net:
    print("   %-42s %8.2f   %-9s  %s" % ("uncached p50 / curl manifest p50", u / net, "-", "info"))
sys.exit(1 if any(failures.values()) else 0)
PY
rc=$?
header="sigil hook benchmark $([ $quick = 1 ] && echo '(--quick) ')$(date -u +%Y-%m-%dT%H:%MZ), $runs runs each
commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
load average before the run: $load_start (distributions are only meaningful on an otherwise idle machine)"
mkdir -p "$root/bench/results"
{ echo "$header"; echo; cat "$work/report.txt"; } | tee "$root/bench/results/hook.txt"
[ $rc -eq 0 ] || { echo "bench: a hook run failed; see above" >&2; exit 1; }

#!/usr/bin/env bash
# deploy/kubernetes/make-certs.sh OUTDIR [--days N]
#
# The plain-Secret alternative to cert-manager: makes, with openssl and offline,
#   OUTDIR/ca.crt, OUTDIR/ca.key   a CA (ECDSA P-256, 10 years). Keep ca.key offline; it is
#                                  needed again only to renew the serving certificate.
#   OUTDIR/tls.crt, OUTDIR/tls.key the serving certificate of sigil-webhook.sigil.svc (SANs
#                                  sigil-webhook, sigil-webhook.sigil, sigil-webhook.sigil.svc,
#                                  sigil-webhook.sigil.svc.cluster.local; --days, default 365)
#   OUTDIR/secret.yaml             the Secret sigil/sigil-webhook-tls (kubernetes.io/tls) the
#                                  Deployment mounts
#   OUTDIR/webhooks.yaml           the two webhook configurations of cert-manager/webhooks.yaml,
#                                  with caBundle set to ca.crt instead of cert-manager's annotation
# then: kubectl apply -f OUTDIR/secret.yaml, and (once the pods are ready) -f OUTDIR/webhooks.yaml.
#
# Renewal: run it again with the same OUTDIR. An existing ca.crt + ca.key there is kept (the
# caBundle does not change), and only the serving pair and the YAML are made again; `kubectl
# apply -f OUTDIR/secret.yaml` then reaches the pods, which reload the pair while serving.
# Files are written 0600 (OUTDIR 0700), each to a temporary name first: a failure leaves the
# previous files as they were. Exit 0 done, 1 openssl failed, 2 usage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

out= days=365
while [ $# -gt 0 ]; do
  case $1 in
    --days) days=${2:-}; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "make-certs: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "make-certs: one OUTDIR only" >&2; exit 2; }; out=$1 ;;
  esac
  shift
done
[ -n "$out" ] || { usage >&2; exit 2; }
[[ $days =~ ^[1-9][0-9]{0,3}$ ]] || { echo "make-certs: --days must be 1 to 9999" >&2; exit 2; }
command -v openssl >/dev/null || { echo "make-certs: openssl is not installed" >&2; exit 1; }

service=sigil-webhook namespace=sigil secret=sigil-webhook-tls
umask 077
mkdir -p "$out"
chmod 0700 "$out"
tmp=$(mktemp -d "$out/.make-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "make-certs: $*" >&2; exit 1; }

if [ -f "$out/ca.crt" ] && [ -f "$out/ca.key" ]; then
  echo "make-certs: keeping the CA in $out (ca.crt, ca.key)" >&2
  cp "$out/ca.crt" "$out/ca.key" "$tmp/"
else
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=$service-ca" -addext basicConstraints=critical,CA:TRUE,pathlen:0 \
    -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>"$tmp/err" || fail "CA: $(cat "$tmp/err")"
fi

dns="$service $service.$namespace $service.$namespace.svc $service.$namespace.svc.cluster.local"
sans=$(printf 'DNS:%s,' $dns)
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth" "subjectAltName=${sans%,}" >"$tmp/ext"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=$service.$namespace.svc" -keyout "$tmp/tls.key" -out "$tmp/tls.csr" 2>"$tmp/err" \
  || fail "serving key: $(cat "$tmp/err")"
openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days "$days" -extfile "$tmp/ext" -out "$tmp/tls.crt" 2>"$tmp/err" \
  || fail "serving certificate: $(cat "$tmp/err")"
openssl verify -CAfile "$tmp/ca.crt" "$tmp/tls.crt" >/dev/null 2>"$tmp/err" \
  || fail "the new chain does not verify: $(cat "$tmp/err")"

b64() { base64 -w0 <"$1"; }
cat >"$tmp/secret.yaml" <<YAML
# Written by deploy/kubernetes/make-certs.sh: the serving pair of $service.$namespace.svc.
apiVersion: v1
kind: Secret
metadata:
  name: $secret
  namespace: $namespace
  labels:
    app.kubernetes.io/name: sigil
    app.kubernetes.io/component: webhook
type: kubernetes.io/tls
data:
  tls.crt: $(b64 "$tmp/tls.crt")
  tls.key: $(b64 "$tmp/tls.key")
  ca.crt: $(b64 "$tmp/ca.crt")
YAML
# cert-manager's webhooks with the annotation replaced by a caBundle in each clientConfig.
ca_bundle=$(b64 "$tmp/ca.crt")
{
  echo "# Written by deploy/kubernetes/make-certs.sh from cert-manager/webhooks.yaml: caBundle is $out/ca.crt."
  awk -v ca="$ca_bundle" '
    /^#/ && !body { next }
    { body = 1 }
    /^  annotations:$/ { skip = 1; next }
    skip && /^    cert-manager\.io\/inject-ca-from:/ { next }
    { skip = 0 }
    { print }
    /^    clientConfig:$/ { print "      caBundle: " ca }
  ' "$here/cert-manager/webhooks.yaml"
} >"$tmp/webhooks.yaml"
grep -q 'inject-ca-from' "$tmp/webhooks.yaml" && fail "cert-manager/webhooks.yaml: annotation left"
[ "$(grep -c '^      caBundle: ' "$tmp/webhooks.yaml")" = 2 ] \
  || fail "cert-manager/webhooks.yaml: expected two clientConfig blocks"

for f in ca.crt ca.key tls.crt tls.key secret.yaml webhooks.yaml; do
  chmod 0600 "$tmp/$f"
  mv -f "$tmp/$f" "$out/$f"
done
echo "make-certs: wrote $out/{ca.crt,ca.key,tls.crt,tls.key,secret.yaml,webhooks.yaml}" >&2

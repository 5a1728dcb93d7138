#!/usr/bin/python3
"""The Kubernetes manifests under deploy/kubernetes/, checked offline (ctest: deploy_manifests).

  (a) Every YAML document is checked field by field against the Kubernetes API models of Debian's
      python3-kubernetes (kind -> kubernetes.client.V1<Kind>): the dict is walked against the
      model's openapi_types / attribute_map, recursively, and an unknown field, a value of the
      wrong type, an empty value or a missing required field fails. (The models themselves
      ignore unknown keys: the walk is the check.) cert-manager's Issuer and Certificate are
      checked the same way against a small schema of the fields used here (CERT_MANAGER).
  (b) What the deployment must be (issue 11, docs/deploy.md): the Deployment's security context,
      probes, resources, mounts and flags; the Service, PodDisruptionBudget and NetworkPolicy
      aimed at its pods; both webhook configurations (failurePolicy, sideEffects, timeouts,
      rules, namespace exclusions, CA injection); the Dockerfile's user and the files it names;
      the shipped policy loads (`sigil policy validate`, with a key made here).
  (c) make-certs.sh runs offline and writes a chain openssl verifies, for the Service's name,
      and webhook configurations equal to cert-manager's but for the caBundle; run again, it
      keeps the CA and renews the serving pair.
  (d) image-rootfs.sh (the image's root file system) with the built sigil-verify: run inside it
      (chroot, as root only), it starts and loads libcurl and libarchive.
  (e) Self-test: manifests with a misspelt field, a wrong type, a missing required field, and a
      misspelt cert-manager field are refused, each with its message.

Usage: check_manifests.py SOURCE_DIR BIN_DIR
Exit 0 passed, 1 failed, 77 skipped (python3-kubernetes or python3-yaml missing: says so; with
CI set, a missing package fails instead).
"""

import base64
import copy
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import kubernetes.client as k8s
    import yaml
except ImportError as e:
    why = "python3-kubernetes and python3-yaml are needed (%s; tools/install-deps.sh)" % e
    if os.environ.get("CI"):
        print("FAIL: CI is set, and this test cannot run: " + why)
        sys.exit(1)
    print("SIGIL-TEST-SKIPPED: " + why)
    sys.exit(77)

NAMESPACE = "sigil"
SERVICE = "sigil-webhook"
TLS_SECRET = "sigil-webhook-tls"

# kind -> apiVersion: the only kinds deploy/kubernetes may hold; the model is V1<Kind>.
KINDS = {
    "Namespace": "v1",
    "ServiceAccount": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Service": "v1",
    "Deployment": "apps/v1",
    "PodDisruptionBudget": "policy/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "Role": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1",
    "MutatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
    "ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding",
                  "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}

# cert-manager.io/v1, the fields used here (https://cert-manager.io/docs/reference/api-docs/):
# a dict is an object of those optional fields (REQUIRED lists the ones that must be there), a
# one-element list a list of that, a type a scalar, a string a Kubernetes model.
_ISSUER_REF = {"name": str, "kind": str, "group": str}
CERT_MANAGER = {
    "Issuer": {
        "apiVersion": str, "kind": str, "metadata": "V1ObjectMeta",
        "spec": {"selfSigned": {"crlDistributionPoints": [str]}, "ca": {"secretName": str}},
    },
    "Certificate": {
        "apiVersion": str, "kind": str, "metadata": "V1ObjectMeta",
        "spec": {
            "secretName": str, "commonName": str, "dnsNames": [str], "duration": str,
            "renewBefore": str, "isCA": bool, "usages": [str],
            "privateKey": {"algorithm": str, "size": int, "rotationPolicy": str, "encoding": str},
            "issuerRef": _ISSUER_REF,
        },
    },
}
REQUIRED = {
    "Issuer": ["metadata", "spec"],
    "Certificate": ["metadata", "spec", "spec.secretName", "spec.issuerRef", "spec.issuerRef.name"],
}


class Refused(Exception):
    """A manifest that does not match its schema; the message names the file, object and field."""


# --- (a) the walk ------------------------------------------------------------------------------

_required_cache = {}


def required_attributes(cls):
    """The attributes a model's setter refuses to leave empty (client_side_validation)."""
    if cls not in _required_cache:
        probe = cls.__new__(cls)
        probe.local_vars_configuration = k8s.Configuration()
        required = set()
        for attr in cls.openapi_types:
            try:
                setattr(probe, attr, None)
            except ValueError:
                required.add(attr)
        _required_cache[cls] = required
    return _required_cache[cls]


def type_name(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "empty"}.get(type(value), type(value).__name__)


def walk_model(value, typ, path):
    """Checks `value` against the openapi type string `typ` (as the models declare it)."""
    if value is None:
        raise Refused("%s: empty value (expected %s)" % (path, typ))
    m = re.fullmatch(r"list\[(.+)\]", typ)
    if m:
        if not isinstance(value, list):
            raise Refused("%s: expected a list, found %s" % (path, type_name(value)))
        for i, v in enumerate(value):
            walk_model(v, m.group(1), "%s[%d]" % (path, i))
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", typ)
    if m:
        if not isinstance(value, dict):
            raise Refused("%s: expected an object, found %s" % (path, type_name(value)))
        for k, v in value.items():
            if not isinstance(k, str):
                raise Refused("%s: key %r is not a string" % (path, k))
            walk_model(v, m.group(1), "%s.%s" % (path, k))
        return
    scalars = {"str": (str,), "int": (int,), "bool": (bool,), "float": (int, float),
               "datetime": (str,), "date": (str,)}
    if typ in scalars:
        ok = isinstance(value, scalars[typ]) and not (typ in ("int", "float") and isinstance(value, bool))
        if not ok:
            raise Refused("%s: expected %s, found %s %r" % (path, typ, type_name(value), value))
        return
    if typ == "object":  # IntOrString and free-form fields
        if not isinstance(value, (str, int, dict, list)) or isinstance(value, bool):
            raise Refused("%s: expected a string or an integer, found %s" % (path, type_name(value)))
        return
    cls = getattr(k8s, typ, None)
    if cls is None:
        raise Refused("%s: the models have no type %s" % (path, typ))
    if not isinstance(value, dict):
        raise Refused("%s: expected an object (%s), found %s" % (path, typ, type_name(value)))
    by_key = {key: attr for attr, key in cls.attribute_map.items()}
    for key, v in value.items():
        if key not in by_key:
            raise Refused("%s: unknown field %s (%s has %s)"
                          % (path, key, typ, ", ".join(sorted(by_key))))
        walk_model(v, cls.openapi_types[by_key[key]], "%s.%s" % (path, key))
    for attr in sorted(required_attributes(cls)):
        if cls.attribute_map[attr] not in value:
            raise Refused("%s: missing required field %s" % (path, cls.attribute_map[attr]))


def walk_schema(value, schema, path):
    if value is None:
        raise Refused("%s: empty value" % path)
    if isinstance(schema, str):
        walk_model(value, schema, path)
    elif isinstance(schema, dict):
        if not isinstance(value, dict):
            raise Refused("%s: expected an object, found %s" % (path, type_name(value)))
        for key, v in value.items():
            if key not in schema:
                raise Refused("%s: unknown field %s (known: %s)" % (path, key, ", ".join(sorted(schema))))
            walk_schema(v, schema[key], "%s.%s" % (path, key))
    elif isinstance(schema, list):
        if not isinstance(value, list):
            raise Refused("%s: expected a list, found %s" % (path, type_name(value)))
        for i, v in enumerate(value):
            walk_schema(v, schema[0], "%s[%d]" % (path, i))
    else:
        if not isinstance(value, schema) or (schema is int and isinstance(value, bool)):
            raise Refused("%s: expected %s, found %s %r" % (path, schema.__name__, type_name(value), value))


def check_document(doc, where):
    """Checks one YAML document; returns (kind, doc)."""
    if not isinstance(doc, dict):
        raise Refused("%s: a document must be an object, found %s" % (where, type_name(doc)))
    kind, api = doc.get("kind"), doc.get("apiVersion")
    name = (doc.get("metadata") or {}).get("name", "?")
    what = "%s: %s %s" % (where, kind, name)
    if kind in CERT_MANAGER:
        if api != "cert-manager.io/v1":
            raise Refused("%s: apiVersion %s, expected cert-manager.io/v1" % (what, api))
        walk_schema(doc, CERT_MANAGER[kind], what)
        for field in REQUIRED[kind]:
            v = doc
            for part in field.split("."):
                v = v.get(part) if isinstance(v, dict) else None
            if v is None:
                raise Refused("%s: missing required field %s" % (what, field))
        if kind == "Issuer" and len(doc["spec"]) != 1:
            raise Refused("%s: spec: exactly one of selfSigned, ca" % what)
    elif kind in KINDS:
        if api != KINDS[kind]:
            raise Refused("%s: apiVersion %s, expected %s" % (what, api, KINDS[kind]))
        walk_model(doc, "V1" + kind, what)
    else:
        raise Refused("%s: kind %s is not one deploy/kubernetes may hold (tests/deploy/check_manifests.py KINDS)"
                      % (where, kind))
    meta = doc["metadata"]
    if "name" not in meta:
        raise Refused("%s: metadata.name is missing" % what)
    if kind in CLUSTER_SCOPED:
        if "namespace" in meta:
            raise Refused("%s: a cluster-scoped object has no namespace" % what)
    elif meta.get("namespace") != NAMESPACE:
        raise Refused("%s: metadata.namespace must be %s" % (what, NAMESPACE))
    return kind, doc


def load_file(path, label=None):
    """All documents of one YAML file, checked: [(kind, doc, 'file#n')]."""
    label = label or path
    with open(path) as f:
        try:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            raise Refused("%s: not YAML: %s" % (label, e))
    out = []
    for i, d in enumerate(docs):
        where = "%s#%d" % (label, i)
        kind, doc = check_document(d, where)
        out.append((kind, doc, where))
    return out


# --- (b) what the deployment must be -----------------------------------------------------------

failures = []


def expect(cond, message):
    if not cond:
        failures.append(message)
    return cond


def one(objects, kind, name=None):
    found = [(d, w) for k, d, w in objects if k == kind and (name is None or d["metadata"]["name"] == name)]
    expect(len(found) == 1, "expected one %s %s, found %d" % (kind, name or "", len(found)))
    return found[0] if found else (None, None)


def flag(args, name):
    """The value after `name` in a container's args, or None."""
    for i, a in enumerate(args[:-1]):
        if a == name:
            return args[i + 1]
    return None


def seconds(duration):
    m = re.fullmatch(r"(\d+)(ms|s|m)", duration or "")
    if not m:
        return None
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


POD_RESOURCES = {
    "": {"pods", "pods/ephemeralcontainers", "replicationcontrollers"},
    "apps": {"deployments", "statefulsets", "daemonsets", "replicasets"},
    "batch": {"jobs", "cronjobs"},
}


def check_webhooks(kind, doc, where, service, deployment_timeout, expect_injection):
    hooks = doc["webhooks"]
    expect(len(hooks) == 1, "%s: one webhook expected, found %d" % (where, len(hooks)))
    for h in hooks:
        w = "%s: webhook %s" % (where, h["name"])
        expect(h.get("failurePolicy") == "Fail", w + ": failurePolicy must be Fail")
        expect(h.get("sideEffects") == "None", w + ": sideEffects must be None")
        expect(h.get("timeoutSeconds") == 10, w + ": timeoutSeconds must be 10")
        expect(h.get("admissionReviewVersions") == ["v1"], w + ": admissionReviewVersions must be [v1]")
        if deployment_timeout is not None:
            expect(deployment_timeout < h.get("timeoutSeconds", 0),
                   w + ": sigil serve --timeout (%ss) must end before timeoutSeconds" % deployment_timeout)
        svc = h["clientConfig"].get("service", {})
        expect("url" not in h["clientConfig"], w + ": clientConfig must name the Service, not a URL")
        expect(svc.get("name") == SERVICE and svc.get("namespace") == NAMESPACE,
               w + ": clientConfig.service must be %s/%s" % (NAMESPACE, SERVICE))
        expect(svc.get("port", 443) in [p["port"] for p in service["spec"]["ports"]],
               w + ": clientConfig.service.port is not a port of the Service")
        want_path = "/mutate" if kind == "MutatingWebhookConfiguration" else "/validate"
        expect(svc.get("path") == want_path, w + ": path must be " + want_path)
        if kind == "MutatingWebhookConfiguration":
            expect(h.get("reinvocationPolicy") == "IfNeeded", w + ": reinvocationPolicy must be IfNeeded")
        covered = {g: set() for g in POD_RESOURCES}
        for r in h["rules"]:
            expect(sorted(r["operations"]) == ["CREATE", "UPDATE"],
                   w + ": rules must be on CREATE and UPDATE, found %s" % r["operations"])
            expect(r.get("apiVersions") == ["v1"], w + ": rules must be for v1")
            for g in r["apiGroups"]:
                covered.setdefault(g, set()).update(r["resources"])
        expect(covered == POD_RESOURCES, w + ": rules cover %s, expected %s" % (covered, POD_RESOURCES))
        sel = h.get("namespaceSelector", {}).get("matchExpressions", [])
        excluded = [e for e in sel if e["key"] == "kubernetes.io/metadata.name" and e["operator"] == "NotIn"]
        expect(len(excluded) == 1 and {"kube-system", NAMESPACE} <= set(excluded[0].get("values", [])),
               w + ": namespaceSelector must exclude kube-system and %s" % NAMESPACE)
        has_bundle = bool(h["clientConfig"].get("caBundle"))
        expect(has_bundle != expect_injection,
               w + (": caBundle must be left to cert-manager" if expect_injection else ": caBundle missing"))
    annotation = doc["metadata"].get("annotations", {}).get("cert-manager.io/inject-ca-from")
    if expect_injection:
        expect(annotation == "%s/%s" % (NAMESPACE, SERVICE),
               where + ": cert-manager.io/inject-ca-from must be %s/%s" % (NAMESPACE, SERVICE))
    else:
        expect(annotation is None, where + ": no cert-manager annotation without cert-manager")


def check_requirements(src, objects, bin_dir):
    by_dir = {}
    for k, d, w in objects:
        by_dir.setdefault(os.path.dirname(w.split("#")[0]), []).append((k, d, w))
    base = by_dir.get("deploy/kubernetes/base", [])

    dep, w = one(base, "Deployment", SERVICE)
    service, _ = one(base, "Service", SERVICE)
    if dep is None or service is None:
        return
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    expect(spec.get("replicas", 1) >= 2, w + ": replicas must be 2 or more")
    expect(spec["selector"]["matchLabels"].items() <= labels.items(), w + ": selector must match the template")
    psc = pod.get("securityContext", {})
    expect(psc.get("runAsNonRoot") is True, w + ": pod securityContext.runAsNonRoot must be true")
    uid = psc.get("runAsUser")
    expect(isinstance(uid, int) and uid > 0, w + ": pod securityContext.runAsUser must be a fixed uid")
    expect(pod.get("automountServiceAccountToken") is False, w + ": no service account token by default")
    expect(pod.get("topologySpreadConstraints") or pod.get("affinity", {}).get("podAntiAffinity"),
           w + ": topologySpreadConstraints or podAntiAffinity needed")
    expect(len(pod["containers"]) == 1, w + ": one container expected")
    c = pod["containers"][0]
    sc = c.get("securityContext", {})
    expect(sc.get("readOnlyRootFilesystem") is True, w + ": readOnlyRootFilesystem must be true")
    expect(sc.get("allowPrivilegeEscalation") is False, w + ": allowPrivilegeEscalation must be false")
    expect(sc.get("capabilities", {}).get("drop") == ["ALL"], w + ": capabilities.drop must be [ALL]")
    expect(sc.get("runAsUser", uid) == uid, w + ": container runAsUser differs from the pod's")
    seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {}))
    expect(seccomp.get("type") == "RuntimeDefault", w + ": seccompProfile must be RuntimeDefault")
    res = c.get("resources", {})
    for part in ("requests", "limits"):
        expect({"cpu", "memory"} <= set(res.get(part, {})), w + ": resources.%s needs cpu and memory" % part)
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    expect(8443 in ports.values(), w + ": the container must listen on 8443")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        g = c.get(probe, {}).get("httpGet", {})
        expect(g.get("path") == path and g.get("scheme") == "HTTPS"
               and ports.get(g.get("port"), g.get("port")) == 8443,
               w + ": %s must GET %s over HTTPS on 8443" % (probe, path))
    args = c.get("args", [])
    expect(args[:1] == ["serve"], w + ": args must start with serve")
    expect(flag(args, "--listen") == "0.0.0.0:8443", w + ": --listen must be 0.0.0.0:8443")
    timeout = seconds(flag(args, "--timeout"))
    expect(timeout is not None, w + ": --timeout must be given (e.g. 8s)")
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}

    def mounted_from(path):
        for m in mounts.values():
            if path.startswith(m["mountPath"].rstrip("/") + "/"):
                return m, volumes.get(m["name"], {})
        return None, {}

    m, v = mounted_from(flag(args, "--policy") or "")
    expect(m is not None and "configMap" in v and "subPath" not in m,
           w + ": --policy must be in a ConfigMap mounted as a directory (no subPath)")
    if m is not None and "configMap" in v:
        cms = [d for k, d, _ in base if k == "ConfigMap" and d["metadata"]["name"] == v["configMap"]["name"]]
        expect(len(cms) == 1 and os.path.basename(flag(args, "--policy")) in cms[0].get("data", {}),
               w + ": the policy ConfigMap lacks the file --policy names")
        if cms and bin_dir:
            check_policy(cms[0], os.path.basename(flag(args, "--policy")), bin_dir)
    for f in ("--tls-cert", "--tls-key"):
        m, v = mounted_from(flag(args, f) or "")
        expect(m is not None and v.get("secret", {}).get("secretName") == TLS_SECRET,
               w + ": %s must be in the Secret %s" % (f, TLS_SECRET))
    for m in mounts.values():
        expect(m["mountPath"] == "/tmp" or m.get("readOnly") is True,
               w + ": mount %s must be read-only" % m["mountPath"])

    # The Service, the budget and the network policy select these pods.
    sp = service["spec"]["ports"]
    expect(len(sp) == 1 and sp[0]["port"] == 443 and ports.get(sp[0]["targetPort"], sp[0]["targetPort"]) == 8443,
           "Service %s: must map 443 to the pods' 8443" % SERVICE)
    expect(service["spec"]["selector"].items() <= labels.items(), "Service: selector must match the pods")
    pdb, pw = one(base, "PodDisruptionBudget")
    if pdb:
        expect(pdb["spec"]["selector"]["matchLabels"].items() <= labels.items(), pw + ": selector must match the pods")
        expect(pdb["spec"].get("minAvailable", 0) >= 1 and pdb["spec"]["minAvailable"] < spec["replicas"],
               pw + ": minAvailable must keep one pod and allow a drain")
    np, nw = one(base, "NetworkPolicy")
    if np:
        expect(np["spec"]["podSelector"]["matchLabels"].items() <= labels.items(), nw + ": podSelector must match")
        expect(sorted(np["spec"]["policyTypes"]) == ["Egress", "Ingress"], nw + ": both policy types needed")
        ingress = [p for r in np["spec"].get("ingress", []) for p in r.get("ports", [])]
        expect([p["port"] for p in ingress] == [8443], nw + ": ingress must be 8443 only")
        egress = sorted((p.get("protocol", "TCP"), p["port"]) for r in np["spec"]["egress"] for p in r.get("ports", []))
        expect(egress == [("TCP", 53), ("TCP", 443), ("UDP", 53)], nw + ": egress must be DNS and 443, found %s" % egress)
    sa, sw = one(base, "ServiceAccount", pod["serviceAccountName"])
    if sa:
        expect(sa.get("automountServiceAccountToken") is False, sw + ": automountServiceAccountToken must be false")
    expect(not [k for k, _, _ in base if k in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")],
           "base/: no RBAC by default (pull-secrets/ has it)")
    ns, nsw = one(base, "Namespace", NAMESPACE)

    # The optional RBAC grants get on secrets to this service account, nothing else.
    pull = by_dir.get("deploy/kubernetes/pull-secrets", [])
    roles = [d for k, d, _ in pull if k in ("ClusterRole", "Role")]
    expect(len(roles) == 1 and roles[0]["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
           "pull-secrets/: one role, get on secrets only")
    bindings = [d for k, d, _ in pull if k in ("ClusterRoleBinding", "RoleBinding")]
    expect(len(bindings) == 1 and bindings[0]["subjects"] == [
        {"kind": "ServiceAccount", "name": pod["serviceAccountName"], "namespace": NAMESPACE}],
        "pull-secrets/: bound to the webhook's service account alone")

    # cert-manager: both webhook configurations get the CA of the Certificate for the Service.
    cm = by_dir.get("deploy/kubernetes/cert-manager", [])
    cert, cw = one(cm, "Certificate", SERVICE)
    if cert:
        expect("%s.%s.svc" % (SERVICE, NAMESPACE) in cert["spec"]["dnsNames"], cw + ": dnsNames lack the Service's name")
        expect(cert["spec"]["secretName"] == TLS_SECRET, cw + ": secretName must be " + TLS_SECRET)
        issuers = {d["metadata"]["name"] for k, d, _ in cm if k == "Issuer"}
        expect(cert["spec"]["issuerRef"]["name"] in issuers, cw + ": issuerRef names no Issuer here")
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        d, ww = one(cm, kind)
        if d:
            check_webhooks(kind, d, ww, service, timeout, expect_injection=True)
    return uid, service, timeout


def check_policy(configmap, name, bin_dir):
    """The shipped policy loads, with its placeholder key replaced by a real one."""
    sigil = os.path.join(bin_dir, "sigil")
    if not os.access(sigil, os.X_OK):
        expect(False, "%s is not built" % sigil)
        return
    with tempfile.TemporaryDirectory() as d:
        key = subprocess.run("openssl ecparam -genkey -name prime256v1 | openssl ec -pubout",
                             shell=True, capture_output=True, text=True)
        expect(key.returncode == 0, "openssl cannot make a public key: " + key.stderr)
        for fname, text in configmap["data"].items():
            if "REPLACE-WITH-YOUR" in text:
                text = key.stdout
            with open(os.path.join(d, fname), "w") as f:
                f.write(text)
        p = subprocess.run([sigil, "policy", "validate", os.path.join(d, name)], capture_output=True, text=True)
        expect(p.returncode == 0, "the shipped policy does not load: " + (p.stdout + p.stderr).strip())


def check_dockerfile(src, uid):
    path = os.path.join(src, "Dockerfile")
    text = open(path).read()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    expect(users == ["%d:%d" % (uid, uid)], "Dockerfile: USER must be %d:%d (the Deployment's), found %s" % (uid, uid, users))
    expect(re.search(r'^ENTRYPOINT \["/usr/bin/sigil-verify"\]$', text, re.M) is not None,
           "Dockerfile: ENTRYPOINT must be [\"/usr/bin/sigil-verify\"] (exec form: no shell)")
    expect(re.search(r"image-rootfs\.sh /usr/bin/sigil-verify /rootfs %d\b" % uid, text) is not None,
           "Dockerfile: image-rootfs.sh must make the user %d" % uid)
    for line in re.findall(r"^COPY\s+(?!--from)(.+)$", text, re.M):
        for source in line.split()[:-1]:
            expect(source == "." or os.path.exists(os.path.join(src, source)),
                   "Dockerfile: COPY %s: no such file in the source tree" % source)
    for script in re.findall(r"(tools/\S+\.sh|deploy/\S+\.sh)", text):
        expect(os.path.exists(os.path.join(src, script)), "Dockerfile: %s does not exist" % script)
    expect(re.search(r"^FROM \$\{DEBIAN\} AS build$", text, re.M) and re.search(r"^ARG DEBIAN=debian:12$", text, re.M),
           "Dockerfile: the build must be on Debian 12")
    ignore = open(os.path.join(src, ".dockerignore")).read().split()
    expect("build*/" in ignore, ".dockerignore must keep build trees out of the context")


# --- (c) make-certs.sh -------------------------------------------------------------------------

def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def check_make_certs(src, service, cert_manager_webhooks, timeout):
    script = os.path.join(src, "deploy/kubernetes/make-certs.sh")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "certs")
        p = run(["bash", script, out], env=dict(os.environ, http_proxy="http://127.0.0.1:1", https_proxy="http://127.0.0.1:1"))
        if not expect(p.returncode == 0, "make-certs.sh failed (%d): %s" % (p.returncode, p.stderr)):
            return
        for f in ("ca.crt", "ca.key", "tls.crt", "tls.key", "secret.yaml", "webhooks.yaml"):
            st = os.stat(os.path.join(out, f))
            expect(st.st_mode & 0o077 == 0, "make-certs.sh: %s is readable by others (%o)" % (f, st.st_mode & 0o777))
        v = run(["openssl", "verify", "-CAfile", os.path.join(out, "ca.crt"), "-purpose", "sslserver",
                 os.path.join(out, "tls.crt")])
        expect(v.returncode == 0 and v.stdout.strip().endswith(": OK"), "openssl verify: " + v.stdout + v.stderr)
        host = "%s.%s.svc" % (SERVICE, NAMESPACE)
        h = run(["openssl", "x509", "-in", os.path.join(out, "tls.crt"), "-noout", "-checkhost", host])
        expect("does match certificate" in h.stdout, "make-certs.sh: tls.crt is not for %s: %s" % (host, h.stdout))
        bad = run(["openssl", "x509", "-in", os.path.join(out, "tls.crt"), "-noout", "-checkhost", "other.sigil.svc"])
        expect("does NOT match" in bad.stdout, "openssl -checkhost accepts another name: " + bad.stdout)
        ca_pem = open(os.path.join(out, "ca.crt")).read()

        secret = load_file(os.path.join(out, "secret.yaml"), "make-certs.sh secret.yaml")
        expect([k for k, _, _ in secret] == ["Secret"], "secret.yaml: one Secret expected")
        if secret:
            s = secret[0][1]
            expect(s["type"] == "kubernetes.io/tls" and s["metadata"]["name"] == TLS_SECRET,
                   "secret.yaml: must be the kubernetes.io/tls Secret " + TLS_SECRET)
            expect(base64.b64decode(s["data"]["tls.crt"]).decode() == open(os.path.join(out, "tls.crt")).read(),
                   "secret.yaml: tls.crt differs from the file")
        hooks = load_file(os.path.join(out, "webhooks.yaml"), "make-certs.sh webhooks.yaml")
        expect([k for k, _, _ in hooks] == [k for k, _, _ in cert_manager_webhooks],
               "webhooks.yaml: not the same objects as cert-manager/webhooks.yaml")
        for (kind, doc, where), (_, cm_doc, _) in zip(hooks, cert_manager_webhooks):
            check_webhooks(kind, doc, where, service, timeout, expect_injection=False)
            for h in doc["webhooks"]:
                expect(base64.b64decode(h["clientConfig"]["caBundle"]).decode() == ca_pem,
                       where + ": caBundle is not ca.crt")
            stripped = copy.deepcopy(doc)
            for h in stripped["webhooks"]:
                del h["clientConfig"]["caBundle"]
            wanted = copy.deepcopy(cm_doc)
            del wanted["metadata"]["annotations"]
            expect(stripped == wanted, where + ": differs from cert-manager/webhooks.yaml beyond the caBundle")

        # Again: the CA is kept (the caBundle stays), the serving pair is new.
        old_tls = open(os.path.join(out, "tls.crt")).read()
        p = run(["bash", script, out])
        expect(p.returncode == 0 and "keeping the CA" in p.stderr, "make-certs.sh again: " + p.stderr)
        expect(open(os.path.join(out, "ca.crt")).read() == ca_pem, "make-certs.sh again: the CA changed")
        expect(open(os.path.join(out, "tls.crt")).read() != old_tls, "make-certs.sh again: tls.crt not renewed")
        v = run(["openssl", "verify", "-CAfile", os.path.join(out, "ca.crt"), os.path.join(out, "tls.crt")])
        expect(v.returncode == 0, "openssl verify after renewal: " + v.stdout + v.stderr)
        expect(not [n for n in os.listdir(out) if n.startswith(".")], "make-certs.sh left temporary files")
        p = run(["bash", script, out, "--days", "0"])
        expect(p.returncode == 2 and "--days must be 1 to 9999" in p.stderr, "make-certs.sh --days 0: %d %s" % (p.returncode, p.stderr))


# --- (d) the image's root file system ----------------------------------------------------------

def check_rootfs(src, bin_dir, uid):
    binary = os.path.join(bin_dir, "sigil-verify")
    if os.geteuid() != 0:
        print("note: image-rootfs.sh not run (chroot needs root)")
        return
    if not expect(os.access(binary, os.X_OK), binary + " is not built"):
        return
    with tempfile.TemporaryDirectory() as d:
        root = os.path.join(d, "rootfs")
        p = run(["sh", os.path.join(src, "deploy/kubernetes/image-rootfs.sh"), binary, root, str(uid)])
        if not expect(p.returncode == 0, "image-rootfs.sh failed: " + p.stderr):
            return
        for shell in ("bin/sh", "bin/bash", "bin/dash", "usr/bin/apt-get", "usr/bin/dpkg"):
            expect(not os.path.lexists(os.path.join(root, shell)), "the image would hold /" + shell)
        expect(("sigil:x:%d:%d:" % (uid, uid)) in open(os.path.join(root, "etc/passwd")).read(),
               "rootfs: /etc/passwd lacks sigil with uid %d" % uid)
        expect(os.path.isfile(os.path.join(root, "etc/ssl/certs/ca-certificates.crt")), "rootfs: no CA certificates")
        inside = ["chroot", "--userspec=%d:%d" % (uid, uid), root, "/usr/bin/sigil-verify"]
        # A container runtime mounts /proc in the container; do the same (in a mount namespace of
        # its own, so nothing is left mounted) where unshare can: a sanitizer build needs it.
        if shutil.which("unshare") and run(["unshare", "--mount", "--propagation", "private", "true"]).returncode == 0:
            os.mkdir(os.path.join(root, "proc"))
            inside = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                      'mount -t proc proc "$0/proc" && exec "$@"', root] + inside
        else:
            print("note: unshare --mount is not permitted here: the rootfs is run without /proc")
        v = run(inside + ["version"])
        expect(v.returncode == 0 and v.stdout.startswith("sigil-verify "), "sigil-verify version in the rootfs: " + v.stdout + v.stderr)
        key = run("openssl ecparam -genkey -name prime256v1 | openssl ec -pubout", shell=True)
        with open(os.path.join(root, "tmp/k.pub"), "w") as f:
            f.write(key.stdout)
        open(os.path.join(root, "tmp/empty.tar"), "w").close()
        # libcurl, loaded at the first registry request: the request itself fails (no registry).
        r = run(inside + ["verify", "--key", "/tmp/k.pub", "127.0.0.1:1/x:y"])
        expect(r.returncode == 3 and "cannot connect to 127.0.0.1:1" in r.stderr,
               "registry access in the rootfs (libcurl): %d %s" % (r.returncode, r.stderr))
        # libarchive, loaded to read a docker-archive.
        a = run(inside + ["verify", "--key", "/tmp/k.pub", "docker-archive:/tmp/empty.tar"])
        expect(a.returncode == 3 and "cannot be loaded" not in a.stderr and "empty.tar" in a.stderr,
               "docker-archive in the rootfs (libarchive): %d %s" % (a.returncode, a.stderr))


# --- (e) the self-test -------------------------------------------------------------------------

def refused(doc, where="self-test"):
    try:
        check_document(doc, where)
    except Refused as e:
        return str(e)
    return None


def self_test(src, objects):
    dep = next(copy.deepcopy(d) for k, d, _ in objects if k == "Deployment")
    cert = next(copy.deepcopy(d) for k, d, w in objects if k == "Certificate" and d["metadata"]["name"] == SERVICE)
    cases = []

    d = copy.deepcopy(dep)
    c = d["spec"]["template"]["spec"]["containers"][0]
    c["imagePullPolcy"] = c.pop("imagePullPolicy")
    cases.append((d, "self-test: Deployment sigil-webhook.spec.template.spec.containers[0]: unknown field imagePullPolcy"))
    d = copy.deepcopy(dep)
    d["spec"]["template"]["spec"]["securityContext"]["runAsNonroot"] = True
    cases.append((d, "self-test: Deployment sigil-webhook.spec.template.spec.securityContext: unknown field runAsNonroot"))
    d = copy.deepcopy(dep)
    d["spec"]["replicas"] = "2"
    cases.append((d, "self-test: Deployment sigil-webhook.spec.replicas: expected int, found a string '2'"))
    d = copy.deepcopy(dep)
    d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]["drop"] = "ALL"
    cases.append((d, "self-test: Deployment sigil-webhook.spec.template.spec.containers[0].securityContext.capabilities.drop: expected a list, found a string"))
    d = copy.deepcopy(dep)
    del d["spec"]["template"]["spec"]["containers"]
    cases.append((d, "self-test: Deployment sigil-webhook.spec.template.spec: missing required field containers"))
    d = copy.deepcopy(dep)
    d["apiVersion"] = "extensions/v1beta1"
    cases.append((d, "self-test: Deployment sigil-webhook: apiVersion extensions/v1beta1, expected apps/v1"))
    d = copy.deepcopy(cert)
    d["spec"]["dnsName"] = d["spec"].pop("dnsNames")
    cases.append((d, "self-test: Certificate sigil-webhook.spec: unknown field dnsName (known: commonName, dnsNames, "
                     "duration, isCA, issuerRef, privateKey, renewBefore, secretName, usages)"))
    d = copy.deepcopy(cert)
    del d["spec"]["issuerRef"]["name"]
    cases.append((d, "self-test: Certificate sigil-webhook: missing required field spec.issuerRef.name"))
    for doc, want in cases:
        got = refused(doc)
        if got is None:
            expect(False, "self-test: not refused; expected: " + want)
        else:  # the message, then (for an unknown field of a model) the fields it has
            expect(got == want or got.startswith(want + " (V1"), "self-test: expected %r, got %r" % (want, got))
    expect(refused(dep) is None, "self-test: the unchanged Deployment is refused: %s" % refused(dep))

    # A file with a misspelt field, read as the manifests are.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "typo.yaml")
        text = open(os.path.join(src, "deploy/kubernetes/base/service.yaml")).read()
        with open(path, "w") as f:
            f.write(text.replace("targetPort:", "targetport:"))
        try:
            load_file(path, "typo.yaml")
            expect(False, "self-test: a Service with targetport is not refused")
        except Refused as e:
            expect(str(e).startswith("typo.yaml#0: Service sigil-webhook.spec.ports[0]: unknown field targetport"),
                   "self-test: typo.yaml: %s" % e)


def main():
    if len(sys.argv) != 3:
        print("usage: check_manifests.py SOURCE_DIR BIN_DIR")
        return 2
    src, bin_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    files = sorted(glob.glob(os.path.join(src, "deploy/kubernetes/**/*.yaml"), recursive=True))
    objects = []
    for f in files:
        try:
            loaded = load_file(f, os.path.relpath(f, src))
        except Refused as e:
            failures.append(str(e))
            continue
        expect(loaded, f + ": no document")
        objects += loaded
        print("ok: %s (%s)" % (os.path.relpath(f, src), ", ".join(k for k, _, _ in loaded)))
    if failures:
        for f in failures:
            print("FAIL: " + f)
        return 1
    got = check_requirements(src, objects, bin_dir)
    if got:
        uid, service, timeout = got
        check_dockerfile(src, uid)
        cm_hooks = [(k, d, w) for k, d, w in objects if k.endswith("WebhookConfiguration")]
        check_make_certs(src, service, cm_hooks, timeout)
        check_rootfs(src, bin_dir, uid)
    self_test(src, objects)
    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    print("ok: %d manifests in %d files, make-certs.sh, the Dockerfile, the self-test" % (len(objects), len(files)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

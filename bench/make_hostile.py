#!/usr/bin/env python3
"""Write one hostile input for bench/hostile.sh: what an attacker who controls an image (but holds
no trusted key) can hand to `sigil verify`.

    make_hostile.py CASE OUT [--scale S]

OUT is an OCI layout directory (every case but `archive-gzip-index`, where it is a .tar.gz file)
whose image is tagged "latest". Cases:
  sig-one-blob        100 .sig layers pointing at one payload blob of 4 MiB (the payload cap)
  sig-many-blobs      100 .sig layers, each its own 4 MiB payload blob
  sig-one-blob-128m   100 .sig layers pointing at one 128 MiB blob (the old per-layer cap)
  sig-oversized       100 .sig layers declaring 2^62 bytes each (no blob behind them)
  bundles-one-blob    100 bundle referrers sharing one 6 MiB bundle (the bundle cap), well-formed
                      so that it is parsed in full, signed by no trusted key
  bundles-many        100 bundle referrers, each its own 6 MiB bundle
  referrers-4m        100 referrer manifests of 4 MiB each (the manifest cap) of JSON that grows
                      when parsed (hundreds of thousands of small annotation entries)
  manifest-4m         the image manifest itself: 4 MiB of such JSON
  archive-gzip-index  a docker-archive .tar.gz whose index.json is 1 GiB of JSON whitespace
                      (a few MiB compressed)
  nested-fanout       an index of 1000 entries pointing at one index of 1000 entries pointing at
                      one index of 1000 entries pointing at one image: 10^9 paths, 3 small blobs
  benign              a one-layer image with no signatures (the reference)
--scale S divides the large sizes by S (--quick in hostile.sh uses 4); limits stay the same.
Signatures are random bytes: nothing here verifies. Prints the image manifest digest.
"""
import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import tarfile

MiB = 1 << 20
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
EMPTY = "application/vnd.oci.empty.v1+json"
REF_NAME = "org.opencontainers.image.ref.name"


class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(root, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        self.index = []

    def blob(self, data):
        digest = hashlib.sha256(data).hexdigest()
        path = os.path.join(self.root, "blobs", "sha256", digest)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
        return {"digest": "sha256:" + digest, "size": len(data)}

    def json_blob(self, obj):
        return self.blob(json.dumps(obj, separators=(",", ":")).encode())

    def tag(self, media_type, desc, name):
        self.index.append({"mediaType": media_type, **desc, "annotations": {REF_NAME: name}})

    def image(self, manifest_extra=None):
        layer = self.blob(os.urandom(1024))
        config = self.json_blob({"architecture": "amd64", "os": "linux", "config": {},
                                 "rootfs": {"type": "layers",
                                            "diff_ids": [layer["digest"]]}})
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
             "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
             "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer}]}
        if manifest_extra:
            m.update(manifest_extra)
        desc = self.json_blob(m)
        self.tag(OCI_MANIFEST, desc, "latest")
        return desc

    def write_index(self):
        with open(os.path.join(self.root, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.index}, f)


def fake_sig():
    return base64.b64encode(os.urandom(70)).decode()


def sig_manifest(lay, image, layers):
    config = lay.json_blob({"architecture": "", "os": "", "config": {},
                            "rootfs": {"type": "layers", "diff_ids": []}})
    m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
         "layers": layers}
    lay.tag(OCI_MANIFEST, lay.json_blob(m), "sha256-" + image["digest"][7:] + ".sig")


def sig_layer(desc):
    return {"mediaType": SIMPLE_SIGNING, **desc,
            "annotations": {"dev.cosignproject.cosign/signature": fake_sig()}}


def payload(size, n):
    """A simple-signing-shaped payload of exactly `size` bytes (never parsed: it does not verify)."""
    head = ('{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":'
            '"sha256:%064d"},"type":"cosign container image signature"},"optional":{"pad":"'
            % n).encode()
    tail = b'"}}'
    return head + b"p" * (size - len(head) - len(tail)) + tail


def bundle(size, n):
    """A well-formed v0.3 bundle of exactly `size` bytes: a DSSE envelope around a payload of
    random bytes (decoded in full when the bundle is parsed), one signature, a key hint."""
    raw = os.urandom(size * 3 // 4 - 2048)
    doc = {"mediaType": BUNDLE,
           "verificationMaterial": {"publicKey": {"hint": "bench-%d" % n}, "tlogEntries": []},
           "dsseEnvelope": {"payload": base64.b64encode(raw).decode(),
                            "payloadType": "application/vnd.in-toto+json",
                            "signatures": [{"sig": fake_sig()}]}}
    text = json.dumps(doc, separators=(",", ":")).encode()
    assert len(text) <= size, (len(text), size)
    return text + b" " * (size - len(text))


def referrer(lay, image, layer_desc, annotations=None):
    empty = lay.blob(b"{}")
    m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": BUNDLE,
         "config": {"mediaType": EMPTY, **empty},
         "layers": [{"mediaType": BUNDLE, **layer_desc}],
         "subject": {"mediaType": OCI_MANIFEST, **image}}
    if annotations:
        m["annotations"] = annotations
    desc = lay.json_blob(m)
    return {"mediaType": OCI_MANIFEST, **desc, "artifactType": BUNDLE}


def fallback(lay, image, referrers):
    idx = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": referrers}
    lay.tag(OCI_INDEX, lay.json_blob(idx), "sha256-" + image["digest"][7:])


def expanding_annotations(size):
    """An annotations object of about `size` bytes made of tiny entries."""
    out, total, i = {}, 0, 0
    while total < size - 64:
        k = "a%d" % i
        out[k] = ""
        total += len(k) + 6
        i += 1
    return out


class Spaces(io.RawIOBase):
    """`n` bytes of JSON whitespace, read in chunks."""

    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left)
        b[:n] = b" " * n
        self.left -= n
        return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("case")
    ap.add_argument("out")
    ap.add_argument("--scale", type=int, default=1)
    a = ap.parse_args()
    c = a.case

    if c == "archive-gzip-index":
        size = (1024 // a.scale) * MiB
        with gzip.open(a.out, "wb", compresslevel=1) as gz, tarfile.open(fileobj=gz, mode="w|") as t:
            for name, data in (("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
                               ("manifest.json", b"[]")):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            info = tarfile.TarInfo("index.json")
            info.size = size
            t.addfile(info, io.BufferedReader(Spaces(size), MiB))
        print("-")
        return

    lay = Layout(a.out)
    if c == "manifest-4m":
        image = lay.image({"annotations": expanding_annotations(4 * MiB - 1024)})
    elif c == "nested-fanout":
        leaf = lay.image()
        lay.index = []
        child = {"mediaType": OCI_MANIFEST, **leaf}
        for _ in range(3):
            desc = lay.json_blob({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                  "manifests": [child] * 1000})
            child = {"mediaType": OCI_INDEX, **desc}
        lay.tag(OCI_INDEX, desc, "latest")
        image = desc
    else:
        image = lay.image()

    big = 128 * MiB // a.scale
    if c == "sig-one-blob":
        one = lay.blob(payload(4 * MiB, 0))
        sig_manifest(lay, image, [sig_layer(one) for _ in range(100)])
    elif c == "sig-many-blobs":
        sig_manifest(lay, image, [sig_layer(lay.blob(payload(4 * MiB, i))) for i in range(100)])
    elif c == "sig-one-blob-128m":
        one = lay.blob(payload(big, 0))
        sig_manifest(lay, image, [sig_layer(one) for _ in range(100)])
    elif c == "sig-oversized":
        fake = {"digest": "sha256:" + "e" * 64, "size": 1 << 62}
        sig_manifest(lay, image, [sig_layer(fake) for _ in range(100)])
    elif c == "bundles-one-blob":
        one = lay.blob(bundle(6 * MiB, 0))
        fallback(lay, image, [referrer(lay, image, one, {"n": str(i)}) for i in range(100)])
    elif c == "bundles-many":
        fallback(lay, image,
                 [referrer(lay, image, lay.blob(bundle(6 * MiB, i))) for i in range(100)])
    elif c == "referrers-4m":
        layer = lay.blob(b"{}")
        refs = []
        for i in range(100):
            ann = expanding_annotations(4 * MiB - 2048)
            ann["n"] = str(i)
            refs.append(referrer(lay, image, layer, ann))
        fallback(lay, image, refs)
    elif c not in ("benign", "manifest-4m", "nested-fanout"):
        ap.error("unknown case " + c)
    lay.write_index()
    print(image["digest"])


if __name__ == "__main__":
    main()

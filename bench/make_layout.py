#!/usr/bin/env python3
"""Write an OCI image layout with random (incompressible) layers, for the benchmarks.

    make_layout.py DIR --layers N --size BYTES [--gzip] [--singles]

Tags in index.json (org.opencontainers.image.ref.name):
  latest        an image with all N layers
  layer-I       (--singles) an image with layer I alone, sharing the same blob files

Layers are random bytes with media type application/vnd.oci.image.layer.v1.tar (the diffID is then
the blob digest), or with --gzip, the random bytes gzip-compressed (level 1) as ...tar+gzip (the
diffID is the digest of the uncompressed bytes). The config carries the correct rootfs.diff_ids.
Prints one line per layer: "<blob digest> <diffID> <blob size>".
"""
import argparse
import hashlib
import json
import os
import zlib

CHUNK = 1 << 20


def put_blob(root, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(root, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def write_layer(root, size, gzip_it):
    """Streams `size` random bytes into a blob; returns (descriptor, diffID)."""
    tmp = os.path.join(root, "blobs", "sha256", ".layer.tmp")
    blob_hash, diff_hash = hashlib.sha256(), hashlib.sha256()
    written = 0
    comp = zlib.compressobj(1, zlib.DEFLATED, 31) if gzip_it else None  # 31: gzip wrapper
    with open(tmp, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(CHUNK, left))
            left -= len(chunk)
            diff_hash.update(chunk)
            out = comp.compress(chunk) if comp else chunk
            if comp and not left:
                out += comp.flush()
            blob_hash.update(out)
            f.write(out)
            written += len(out)
    digest = blob_hash.hexdigest()
    os.rename(tmp, os.path.join(root, "blobs", "sha256", digest))
    media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gzip_it else "")
    return ({"mediaType": media, "digest": "sha256:" + digest, "size": written},
            "sha256:" + diff_hash.hexdigest())


def image(root, layers, tag):
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]},
        "history": [{"created_by": "sigil bench/make_layout.py"} for _ in layers],
    }
    cfg = put_blob(root, json.dumps(config, separators=(",", ":")).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cfg},
        "layers": [desc for desc, _ in layers],
    }
    m = put_blob(root, json.dumps(manifest, indent=2).encode())
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", **m,
            "annotations": {"org.opencontainers.image.ref.name": tag}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--size", type=int, required=True, help="uncompressed bytes per layer")
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--singles", action="store_true")
    a = ap.parse_args()

    os.makedirs(os.path.join(a.dir, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(a.dir, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    layers = [write_layer(a.dir, a.size, a.gzip) for _ in range(a.layers)]
    manifests = [image(a.dir, layers, "latest")]
    if a.singles:
        manifests += [image(a.dir, [l], "layer-%d" % i) for i, l in enumerate(layers)]
    with open(os.path.join(a.dir, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": manifests}, f, indent=2)
    for desc, diff in layers:
        print(desc["digest"], diff, desc["size"])


if __name__ == "__main__":
    main()

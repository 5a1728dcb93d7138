#!/usr/bin/python3
"""An independent DSSE v1 check of sigil's attestations, on Debian's python3-cryptography.

PAE is written here from the DSSE v1 protocol (secure-systems-lab/dsse, protocol.md):
    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
with LEN the ASCII decimal byte count, and the signature over PAE of the *decoded* payload.

  (a) envelopes `sigil attest-blob` writes, bare (--output-signature) and in a sigstore bundle
      (--bundle, dsseEnvelope), verify here with the public key, for ECDSA P-256 and Ed25519
      keys sigil generated; a flipped payload or signature byte does not.
  (b) envelopes signed here (a P-256 and an Ed25519 key made here) verify with
      `sigil verify-blob-attestation`; a flipped payload or signature byte fails it (exit 1).

Usage: dsse_python.py SIGIL_BIN_DIR
Exit 0 passed, 1 failed, 77 skipped (python3-cryptography missing: says so).
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
except ImportError:
    print("SKIPPED: python3-cryptography is not installed (apt-get install python3-cryptography)")
    sys.exit(77)

IN_TOTO = "application/vnd.in-toto+json"
PREDICATE = {"builder": {"id": "https://example.com/python-check"}, "n": 1}


def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def verify_envelope(envelope: dict, public_key) -> bool:
    """True when one signature of `envelope` verifies with `public_key` over PAE."""
    payload = base64.b64decode(envelope["payload"], validate=True)
    message = pae(envelope["payloadType"], payload)
    for s in envelope["signatures"]:
        sig = base64.b64decode(s["sig"], validate=True)
        try:
            if isinstance(public_key, ed25519.Ed25519PublicKey):
                public_key.verify(sig, message)
            else:
                public_key.verify(sig, message, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            continue
    return False


def flipped(envelope: dict, field: str) -> dict:
    """The envelope with one byte of its decoded payload, or of its first signature, flipped."""
    e = json.loads(json.dumps(envelope))
    if field == "payload":
        raw = bytearray(base64.b64decode(e["payload"]))
        raw[len(raw) // 2] ^= 0x01
        e["payload"] = base64.b64encode(bytes(raw)).decode()
    else:
        raw = bytearray(base64.b64decode(e["signatures"][0]["sig"]))
        raw[len(raw) // 2] ^= 0x01
        e["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    return e


class Check:
    def __init__(self, bindir: str, workdir: str):
        self.bin = bindir
        self.dir = workdir
        self.failures = 0
        self.env = dict(os.environ, SIGIL_PASSWORD="pw")
        self.env.pop("COSIGN_PASSWORD", None)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([os.path.join(self.bin, args[0]), *args[1:]], cwd=self.dir,
                              env=self.env, capture_output=True, text=True, check=False)

    def expect(self, ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures += 1

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def write(self, name: str, data: bytes) -> None:
        with open(self.path(name), "wb") as f:
            f.write(data)

    def read_json(self, name: str) -> dict:
        with open(self.path(name), "rb") as f:
            return json.load(f)


def check_sigil_envelopes(c: Check, key_type: str, blob_digest: str) -> None:
    r = c.run("sigil", "key", "generate", "--type", key_type, "--output-prefix", key_type)
    if r.returncode != 0:
        c.expect(False, f"sigil key generate --type {key_type}: {r.stderr.strip()}")
        return
    r = c.run("sigil", "attest-blob", "--key", key_type + ".key", "--predicate", "pred.json",
              "--output-signature", key_type + ".att", "--bundle", key_type + ".bundle",
              "release.tar")
    if r.returncode != 0:
        c.expect(False, f"sigil attest-blob ({key_type}): {r.stderr.strip()}")
        return
    with open(c.path(key_type + ".pub"), "rb") as f:
        public_key = serialization.load_pem_public_key(f.read())
    bare = c.read_json(key_type + ".att")
    in_bundle = c.read_json(key_type + ".bundle")["dsseEnvelope"]
    for name, envelope in (("envelope", bare), ("bundle", in_bundle)):
        c.expect(envelope["payloadType"] == IN_TOTO, f"{key_type} {name}: payloadType in-toto")
        statement = json.loads(base64.b64decode(envelope["payload"]))
        c.expect(statement["subject"][0]["digest"]["sha256"] == blob_digest
                 and statement["predicate"] == PREDICATE,
                 f"{key_type} {name}: the statement names the file and holds the predicate")
        c.expect(verify_envelope(envelope, public_key),
                 f"{key_type} {name} written by sigil verifies here")
        for field in ("payload", "signature"):
            c.expect(not verify_envelope(flipped(envelope, field), public_key),
                     f"{key_type} {name} with a flipped {field} byte does not verify here")


def sign_here(private_key, payload: bytes) -> dict:
    message = pae(IN_TOTO, payload)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        sig = private_key.sign(message)
    else:
        sig = private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    return {"payloadType": IN_TOTO, "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}]}


def check_envelopes_signed_here(c: Check, blob_digest: str) -> None:
    statement = json.dumps({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "release.tar", "digest": {"sha256": blob_digest}}],
        "predicateType": "https://cosign.sigstore.dev/attestation/v1",
        "predicate": PREDICATE,
    }, separators=(",", ":")).encode()
    keys = {"python-p256": ec.generate_private_key(ec.SECP256R1()),
            "python-ed25519": ed25519.Ed25519PrivateKey.generate()}
    for name, private_key in keys.items():
        c.write(name + ".pub", private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        envelope = sign_here(private_key, statement)
        cases = [("", envelope, 0)] + [
            (f" with a flipped {field} byte", flipped(envelope, field), 1)
            for field in ("payload", "signature")]
        for label, e, want in cases:
            c.write(name + ".att", json.dumps(e).encode())
            r = c.run("sigil", "verify-blob-attestation", "--key", name + ".pub", "--type",
                      "custom", "--signature", name + ".att", "release.tar")
            c.expect(r.returncode == want,
                     f"{name} envelope signed here{label}: sigil verify-blob-attestation exit "
                     f"{r.returncode} (want {want}) {r.stderr.strip().splitlines()[-1:]}")


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: dsse_python.py SIGIL_BIN_DIR")
        return 2
    with tempfile.TemporaryDirectory(prefix="sigil-dsse-python-") as workdir:
        c = Check(os.path.abspath(sys.argv[1]), workdir)
        blob = b"a release file\n" * 100
        c.write("release.tar", blob)
        c.write("pred.json", json.dumps(PREDICATE).encode())
        digest = hashlib.sha256(blob).hexdigest()
        for key_type in ("ecdsa-p256", "ed25519"):
            check_sigil_envelopes(c, key_type, digest)
        check_envelopes_signed_here(c, digest)
        if c.failures:
            print(f"FAIL: {c.failures} DSSE interop checks failed")
            return 1
        print("PASS: DSSE envelopes agree with an independent PAE and python3-cryptography")
        return 0


if __name__ == "__main__":
    sys.exit(main())

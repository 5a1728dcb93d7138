#pragma once
// Release files ("blobs") signed with keys, as cosign sign-blob and attest-blob do:
//  - a detached signature: base64 of the signature over the blob, what
//    `cosign sign-blob --output-signature` writes. ECDSA and RSA sign the blob's SHA-256 (the
//    blob is hashed as it streams, in constant memory); Ed25519 signs the bytes themselves, so a
//    blob for an Ed25519 key is read whole, up to limits::kMaxEd25519BlobBytes;
//  - a sigstore bundle v0.3 whose messageSignature is that signature, with messageDigest
//    {SHA2_256, the blob's SHA-256} (sig/bundle.h);
//  - an attestation: a DSSE envelope (payloadType application/vnd.in-toto+json) over an in-toto
//    Statement v1 whose one subject is the blob {name, digest {sha256}}, bare or in a bundle.
//
// Trust rule: a blob signature counts only if it verifies, with a *trusted* key, over the blob as
// read and hashed here; a digest the signed object states never stands in for hashing. A bundle's
// messageDigest must be SHA2_256 and equal the blob's SHA-256 before its signature is looked at.
// An attestation counts only if its envelope verifies with a trusted key, its payloadType is
// in-toto, its statement names the blob's SHA-256 among its subjects, and its predicateType (the
// one inside the signed statement, never an annotation) is the one asked for. A bundle's
// publicKey hint only names a key; its tlog entries and timestamps are not checked (sigil has no
// Rekor or timestamp verification yet) and are reported as unchecked: the key is what is
// trusted.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/bytes.h"
#include "libtrust/core/digest.h"
#include "libtrust/crypto/keys.h"
#include "libtrust/export.h"
#include "libtrust/sig/bundle.h"
#include "libtrust/sig/dsse.h"
#include "libtrust/sig/intoto.h"

namespace trust::sig {

// A blob as read: its SHA-256, its size, and its bytes when it was read whole.
struct Blob {
  std::string name;  // the path as given, or "standard input" for "-"
  Digest sha256;
  std::uint64_t size = 0;
  std::optional<Bytes> content;  // with BlobRead::kWhole
};

enum class BlobRead {
  kDigestOnly,  // hashed as it streams, nothing kept (ECDSA, RSA, attestations)
  kWhole,       // also kept, at most limits::kMaxEd25519BlobBytes (Ed25519)
};

// Whether signing or verifying a blob with a key of `type` needs its bytes (Ed25519), not just
// its SHA-256.
TRUST_API bool needs_whole_blob(KeyType type);

// Reads the blob at `path` ("-": standard input, claimed for "the blob"; a FIFO or pipe is read as
// it comes) in limits::kBlobReadChunkBytes chunks, hashing each. With kWhole, a blob over
// limits::kMaxEd25519BlobBytes is a LimitError saying why. Throws NotFoundError / IoError naming
// the path.
TRUST_API Blob read_blob(std::string_view path, BlobRead mode);

// The signature over `blob` with `key`: over its SHA-256 for ECDSA and RSA, over its bytes for
// Ed25519 (UsageError if the blob was not read whole).
TRUST_API Bytes sign_blob(const Blob& blob, const PrivateKey& key);

// A blob signature as verify-blob is given it.
class TRUST_API BlobSignature {
 public:
  // A detached signature file: standard base64 of the signature (surrounding whitespace and a
  // final newline allowed). Throws InputError naming `what`.
  static BlobSignature detached(ByteView text, std::string_view what);
  // A sigstore bundle file holding a messageSignature (Bundle::parse), or cosign's own bundle
  // file (`cosign sign-blob --bundle` without --new-bundle-format: {"base64Signature", "cert",
  // "rekorBundle"}, no mediaType; its cert and Rekor bundle are reported unchecked, never used).
  // A DSSE bundle (an attestation: verify-blob-attestation) is an InputError, keyless material
  // UnsupportedError, both naming `what`.
  static BlobSignature from_bundle(ByteView json, std::string_view what);

  const Bytes& signature() const { return signature_; }
  // The bundle's messageSignature and what it carries unchecked; nullopt for a detached one.
  const std::optional<MessageSignature>& message() const { return message_; }
  const std::vector<std::string>& unchecked() const { return unchecked_; }

 private:
  BlobSignature() = default;
  Bytes signature_;
  std::optional<MessageSignature> message_;
  std::vector<std::string> unchecked_;
};

// What verify_blob / verify_blob_attestation found. Verified or not, never thrown: a signature
// that does not verify is a value.
struct BlobVerification {
  bool verified = false;
  std::string key_id;                  // the trusted key that verified it ("sha256:<hex>")
  std::string reason;                  // why not, when not verified
  std::vector<std::string> unchecked;  // what the signed object carries that was not checked
  std::optional<Statement> statement;  // an attestation's statement, only when verified
};

// Checks `signature` over `blob` with each of `trusted` in turn (the first that verifies is
// named). A bundle's messageDigest is compared with blob.sha256 first. A trusted Ed25519 key needs
// the blob read whole (else it cannot verify, and the reason says so).
TRUST_API BlobVerification verify_blob(const Blob& blob, const BlobSignature& signature,
                                       std::span<const PublicKey> trusted);

// --- attestations ---------------------------------------------------------------------------

// The in-toto Statement v1 about a blob: one subject {name, digest {sha256}}, `predicate_type`
// (a URI: predicate_type_uri), `predicate_json` (a JSON object, parsed strictly: duplicate keys,
// nesting capped, at most limits::kMaxPredicateBytes; `what` names it in messages). Throws
// InputError / LimitError naming `what`, UsageError for an empty subject name.
TRUST_API Statement blob_statement(const Blob& blob, std::string_view subject_name,
                                   std::string_view predicate_type, ByteView predicate_json,
                                   std::string_view what);

// An attestation as verify-blob-attestation is given it: a DSSE envelope file (its JSON, or
// base64 of it, as cosign's --output-signature and test vectors hold it), or a bundle file
// holding a dsseEnvelope.
TRUST_API DsseEnvelope attestation_from_envelope_file(ByteView text, std::string_view what);
TRUST_API DsseEnvelope attestation_from_bundle(ByteView json, std::string_view what,
                                               std::vector<std::string>* unchecked);

// Verifies `envelope` as an attestation about `blob` of predicate type `requested` (a short name
// or URI, predicate_type_matches), with the trust rule above. The statement is handed out only
// when verified. A signed payload that is no valid statement is an InputError naming `what` (the
// envelope's file). UsageError for an unknown `requested`.
TRUST_API BlobVerification verify_blob_attestation(const Blob& blob, const DsseEnvelope& envelope,
                                                   std::string_view requested,
                                                   std::span<const PublicKey> trusted,
                                                   std::string_view what);

}  // namespace trust::sig

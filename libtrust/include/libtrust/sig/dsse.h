#pragma once
// DSSE (Dead Simple Signing Envelope) v1:
//   {"payloadType":"…","payload":"<base64>","signatures":[{"keyid":"…","sig":"<base64>"}]}
// Each signature is over PAE(payloadType, payload) =
//   "DSSEv1" SP len(payloadType) SP payloadType SP len(payload) SP payload
// with ASCII decimal lengths in bytes. The keyid is a hint only: a signature counts when it
// verifies with a *trusted* key, whatever keyid it names. The payload of a parsed envelope is
// handed out only through verify(), never before its signature has been checked.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/bytes.h"
#include "libtrust/crypto/keys.h"
#include "libtrust/export.h"

namespace trust::sig {

// Largest envelope sigil parses (also the cap on a bundle, which holds one envelope).
inline constexpr std::size_t kMaxDsseEnvelopeBytes = 16u << 20;

// The pre-authentication encoding the signatures are over.
TRUST_API Bytes dsse_pae(std::string_view payload_type, ByteView payload);

// One signature of an envelope that verified, and the trusted key it verified with.
struct DsseMatch {
  std::size_t signature_index = 0;  // which signature of the envelope
  std::size_t key_index = 0;        // which of the trusted keys given to verify()
  std::string key_id;               // that key's id ("sha256:<hex>")
};

// What a successful verify() hands out: the authenticated payload and every trusted key that
// vouched for it.
struct VerifiedDsse {
  std::string payload_type;
  Bytes payload;
  // Every (signature, trusted key) pair that verified, by signature then key order; never empty.
  // A key that verified several signatures is listed once per signature.
  std::vector<DsseMatch> matches;
};

class TRUST_API DsseEnvelope {
 public:
  // Signs PAE(payload_type, payload) with `key` (the key type decides the algorithm); the keyid
  // written is the key's id. Throws CryptoError on library failure.
  static DsseEnvelope sign(std::string_view payload_type, ByteView payload, const PrivateKey& key);

  // Strict: a JSON object with exactly payloadType (non-empty string), payload (strict standard
  // base64) and signatures (1 to limits::kMaxDsseSignatures objects, each with a non-empty
  // base64 "sig" and an optional string "keyid"); no other fields; at most kMaxDsseEnvelopeBytes.
  // Throws InputError / LimitError naming `what`.
  static DsseEnvelope parse(ByteView json, std::string_view what);

  // Compact JSON: {"payloadType":…,"payload":…,"signatures":[{"keyid":…,"sig":…}]}
  // ("keyid" omitted when empty).
  std::string to_json() const;

  const std::string& payload_type() const { return payload_type_; }
  std::size_t signature_count() const { return signatures_.size(); }
  // The keyids the signatures claim (hints only, possibly empty strings).
  std::vector<std::string> key_id_hints() const;

  // Every signature checked over the PAE against every key of `trusted`, using the algorithm the
  // trusted key's type dictates; the payload with all the pairs that verified, or nullopt when
  // none does (the payload is reachable only here). Never throws for bad signatures.
  std::optional<VerifiedDsse> verify(std::span<const PublicKey> trusted) const;

  // The payload whose signatures were NOT checked: only for showing stored content marked as
  // unverified (`sigil download`); never for deciding anything.
  const Bytes& unverified_payload_unsafe() const { return payload_; }

  struct Signature {
    std::string keyid;
    Bytes sig;
  };

 private:
  friend struct DsseAccess;  // the JSON reader shared with bundle.cpp (src only)
  DsseEnvelope() = default;
  std::string payload_type_;
  Bytes payload_;
  std::vector<Signature> signatures_;
};

}  // namespace trust::sig

#pragma once
// The verifier: built once from trusted material, called per image with the signed entities found
// for it and a policy. It does no fetching. Two kinds of signed entity are judged alike:
//  - a cosign .sig layer counts only if (1) it verifies over the exact payload bytes with a
//    trusted key, using the algorithm that key's type dictates; (2) the payload's
//    docker-manifest-digest equals the image digest; (3) the payload carries every required
//    annotation;
//  - a sigstore bundle referrer counts only if (1) its DSSE signature verifies over the PAE with a
//    trusted key (the bundle's key hint and keyid choose nothing); (2) the payloadType is
//    application/vnd.in-toto+json; (3) the statement's predicateType is
//    https://sigstore.dev/cosign/sign/v1 (an attestation of another type never stands in for a
//    signature); (4) the image digest is among its subjects; (5) that subject carries every
//    required annotation. Keyless bundles are refused (not supported yet).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/intoto.h"
#include "libtrust/sig/referrers.h"
#include "libtrust/sig/simple_signing.h"
#include "libtrust/verify/trusted_material.h"

namespace trust::verify {

struct Policy {
  std::map<std::string, std::string> required_annotations;  // -a k=v
  TRUST_API void validate() const;
};

// Where a signature was stored.
enum class SignatureFormat {
  kCosign,  // a layer of the cosign "sha256-<hex>.sig" manifest
  kBundle,  // a sigstore bundle in an OCI 1.1 referrer manifest
};
// "cosign" / "bundle".
TRUST_API std::string_view to_string(SignatureFormat format);

// The verdict on one signature.
struct SignatureVerdict {
  SignatureFormat format = SignatureFormat::kCosign;
  std::size_t index = 0;  // position in its layout (.sig layer, or referrer in the listing)
  std::string origin;     // "cosign .sig layer 0" / "referrer manifest sha256:…"
  std::optional<Digest> layer_digest;     // the payload layer / the bundle layer
  std::optional<Digest> referrer_digest;  // bundle: the referrer manifest
  std::optional<std::string> key_id;      // the trusted key whose check passed
  bool verified = false;
  std::string reason;  // why it was accepted or rejected, one line
  // Set only when the signature itself verified with a trusted key (never from unverified bytes).
  std::optional<sig::SimpleSigningPayload> payload;  // cosign
  std::optional<sig::Statement> statement;           // bundle
  // The statement subject naming the image (bundle; set with `statement` when one does).
  std::optional<sig::StatementSubject> subject;
};

struct VerificationResult {
  Digest image;
  std::vector<SignatureVerdict> signatures;
  bool verified() const {
    for (const auto& s : signatures) {
      if (s.verified) return true;
    }
    return false;
  }
  // A one-line summary: "verified by 1 of 2 signatures (key sha256:…)" or why it failed.
  TRUST_API std::string summary() const;
};

class TRUST_API Verifier {
 public:
  // Throws UsageError when `keys` is empty: a verifier that trusts nothing is a mistake.
  explicit Verifier(TrustedKeys keys);

  // The verdict on one signed entity, by the rules above: what verify_image calls for each
  // signature as it arrives (so no payload is kept once judged). `policy` must be valid.
  SignatureVerdict judge(const Digest& image, const sig::CosignSignature& signature,
                         const Policy& policy) const;
  SignatureVerdict judge(const Digest& image, const sig::BundleReferrer& bundle,
                         const Policy& policy) const;

  VerificationResult verify(const Digest& image,
                            const std::vector<sig::CosignSignature>& signatures,
                            const Policy& policy) const;
  // Both layouts in one verdict list: the cosign layers first, then the bundle referrers. Each
  // list is capped at limits::kMaxSignaturesPerImage (LimitError).
  VerificationResult verify(const Digest& image, const std::vector<sig::CosignSignature>& cosign,
                            const std::vector<sig::BundleReferrer>& bundles,
                            const Policy& policy) const;

 private:
  TrustedKeys keys_;
};

}  // namespace trust::verify

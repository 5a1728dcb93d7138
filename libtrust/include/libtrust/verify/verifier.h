#pragma once
// The verifier: built once from trusted material, called per image with the signed entities found
// for it and a policy. It does no fetching. A signature counts only if (1) it verifies over the
// exact payload bytes with a trusted key, using the algorithm that key's type dictates; (2) the
// payload's docker-manifest-digest equals the image digest; (3) the payload carries every
// required annotation.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/simple_signing.h"
#include "libtrust/verify/trusted_material.h"

namespace trust::verify {

struct Policy {
  std::map<std::string, std::string> required_annotations;  // -a k=v
  TRUST_API void validate() const;
};

// The verdict on one signature.
struct SignatureVerdict {
  std::size_t index = 0;
  std::optional<Digest> layer_digest;
  std::optional<std::string> key_id;  // the trusted key whose check passed
  bool verified = false;
  std::string reason;  // why it was accepted or rejected, one line
  // Set only when the signature itself verified with a trusted key (never from unverified bytes).
  std::optional<sig::SimpleSigningPayload> payload;
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

  VerificationResult verify(const Digest& image,
                            const std::vector<sig::CosignSignature>& signatures,
                            const Policy& policy) const;

 private:
  TrustedKeys keys_;
};

}  // namespace trust::verify

#include "libtrust/verify/verifier.h"

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"

namespace trust::verify {

void Policy::validate() const {
  if (required_annotations.size() > limits::kMaxAnnotations) {
    throw UsageError("more than " + std::to_string(limits::kMaxAnnotations) +
                     " required annotations");
  }
  for (const auto& [k, v] : required_annotations) {
    if (k.empty()) throw UsageError("required annotation with an empty key");
  }
}

std::string VerificationResult::summary() const {
  std::size_t ok = 0;
  const SignatureVerdict* first_ok = nullptr;
  for (const auto& s : signatures) {
    if (s.verified) {
      ++ok;
      if (first_ok == nullptr) first_ok = &s;
    }
  }
  if (signatures.empty()) return "no signatures found for " + image.str();
  if (first_ok != nullptr) {
    return "verified: " + std::to_string(ok) + " of " + std::to_string(signatures.size()) +
           " signature(s) valid for " + image.str() + " (key " + first_ok->key_id.value_or("?") +
           ")";
  }
  if (signatures.size() == 1) return "not verified: " + signatures.front().reason;
  return "not verified: none of " + std::to_string(signatures.size()) +
         " signatures is valid for " + image.str();
}

Verifier::Verifier(TrustedKeys keys) : keys_(std::move(keys)) {
  if (keys_.empty()) throw UsageError("no trusted keys: give at least one --key");
}

VerificationResult Verifier::verify(const Digest& image,
                                    const std::vector<sig::CosignSignature>& signatures,
                                    const Policy& policy) const {
  policy.validate();
  if (signatures.size() > limits::kMaxSignaturesPerImage) {
    throw LimitError(std::to_string(signatures.size()) + " signatures is over the limit of " +
                     std::to_string(limits::kMaxSignaturesPerImage));
  }
  VerificationResult result{.image = image, .signatures = {}};
  for (const auto& s : signatures) {
    SignatureVerdict v;
    v.index = s.index;
    v.layer_digest = s.layer.digest;
    if (s.problem) {
      v.reason = *s.problem;
      result.signatures.push_back(std::move(v));
      continue;
    }
    // 1. The signature over the exact payload bytes, with a trusted key. The algorithm is the
    //    one the trusted key's type dictates; nothing in the signed object chooses it.
    const PublicKey* signer = nullptr;
    for (const auto& key : keys_.keys()) {
      if (key.verify(s.payload, s.signature)) {
        signer = &key;
        break;
      }
    }
    if (signer == nullptr) {
      v.reason = "signature does not verify with any trusted key";
      result.signatures.push_back(std::move(v));
      continue;
    }
    v.key_id = signer->key_id().str();
    // 2. Only now is the payload parsed: its bytes are authentic.
    try {
      v.payload = sig::SimpleSigningPayload::parse(s.payload, "signature payload");
    } catch (const Error& e) {
      v.reason = std::string("signed payload is malformed: ") + e.what();
      result.signatures.push_back(std::move(v));
      continue;
    }
    // 3. The payload must name this image: a signature for image A never vouches for image B.
    if (v.payload->manifest_digest != image) {
      v.reason =
          "signed payload is for " + v.payload->manifest_digest.str() + ", not " + image.str();
      result.signatures.push_back(std::move(v));
      continue;
    }
    // 4. Required annotations.
    if (!v.payload->has_annotations(policy.required_annotations)) {
      std::string missing;
      for (const auto& [k, val] : policy.required_annotations) {
        auto it = v.payload->optional.find(k);
        if (it == v.payload->optional.end() || v.payload->non_string_keys.count(k) != 0 ||
            it->second != val) {
          if (!missing.empty()) missing += ", ";
          missing += k + "=" + val;
        }
      }
      v.reason = "signed payload lacks required annotation(s) " + missing;
      result.signatures.push_back(std::move(v));
      continue;
    }
    v.verified = true;
    v.reason = "valid signature by trusted key " + *v.key_id;
    result.signatures.push_back(std::move(v));
  }
  return result;
}

}  // namespace trust::verify

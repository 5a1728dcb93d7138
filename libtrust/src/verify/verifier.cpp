#include "libtrust/verify/verifier.h"

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/core/text.h"

namespace trust::verify {

std::string_view to_string(SignatureFormat format) {
  switch (format) {
    case SignatureFormat::kCosign:
      return "cosign";
    case SignatureFormat::kBundle:
      return "bundle";
  }
  return "?";
}

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

SignatureVerdict Verifier::judge(const Digest& image, const sig::CosignSignature& s,
                                 const Policy& policy) const {
  SignatureVerdict v;
  v.format = SignatureFormat::kCosign;
  v.index = s.index;
  v.origin = "cosign .sig layer " + std::to_string(s.index);
  v.layer_digest = s.layer.digest;
  if (s.problem) {
    v.reason = *s.problem;
    return v;
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
    return v;
  }
  v.key_id = signer->key_id().str();
  // 2. Only now is the payload parsed: its bytes are authentic.
  try {
    v.payload = sig::SimpleSigningPayload::parse(s.payload, "signature payload");
  } catch (const Error& e) {
    v.reason = std::string("signed payload is malformed: ") + e.what();
    return v;
  }
  // 3. The payload must name this image: a signature for image A never vouches for image B.
  if (v.payload->manifest_digest != image) {
    v.reason = "signed payload is for " + v.payload->manifest_digest.str() + ", not " + image.str();
    return v;
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
    return v;
  }
  v.verified = true;
  v.reason = "valid signature by trusted key " + *v.key_id;
  return v;
}

VerificationResult Verifier::verify(const Digest& image,
                                    const std::vector<sig::CosignSignature>& signatures,
                                    const Policy& policy) const {
  return verify(image, signatures, {}, policy);
}

// The verdict on one bundle referrer; see verifier.h for the steps.
SignatureVerdict Verifier::judge(const Digest& image, const sig::BundleReferrer& b,
                                 const Policy& policy) const {
  SignatureVerdict v;
  v.format = SignatureFormat::kBundle;
  v.index = b.index;
  v.origin = b.origin();
  v.referrer_digest = b.manifest.digest;
  if (b.layer) v.layer_digest = b.layer->digest;
  if (b.problem || !b.bundle) {
    v.reason = b.problem.value_or("no bundle");
    return v;
  }
  if (auto why = b.bundle->unsupported_reason()) {
    v.reason = *why;
    return v;
  }
  const auto& envelope = b.bundle->dsse_envelope();
  if (!envelope) {
    v.reason = "bundle holds no DSSE envelope";
    return v;
  }
  // 1. The DSSE signature over the PAE with a trusted key. The key hint and keyid in the bundle
  //    are claims of the signed object: they choose nothing.
  auto verified = envelope->verify(keys_.keys());
  if (!verified) {
    v.reason = "bundle's DSSE signature does not verify with any trusted key";
    return v;
  }
  v.key_id = verified->key_id;
  // 2. Only an in-toto statement can name the image.
  if (verified->payload_type != media_type::kInTotoPayload) {
    v.reason = "bundle's DSSE payloadType is '" + excerpt(verified->payload_type, 100) + "', not " +
               std::string(media_type::kInTotoPayload);
    return v;
  }
  // 3. Now the payload is authentic: parse it.
  try {
    v.statement = sig::Statement::parse(verified->payload, "bundle's in-toto statement",
                                        limits::kMaxSignaturePayloadBytes);
  } catch (const Error& e) {
    v.reason = std::string("signed statement is malformed: ") + e.what();
    return v;
  }
  // 4. An attestation of another type never stands in for a signature.
  if (v.statement->predicate_type != sig::kCosignSignPredicateType) {
    v.reason = "signed statement is an attestation of type '" +
               excerpt(v.statement->predicate_type, 200) + "', not an image signature (" +
               std::string(sig::kCosignSignPredicateType) + ")";
    return v;
  }
  // 5. The statement must name this image: a signature for image A never vouches for image B.
  const auto* subject = v.statement->find_subject(image);
  if (subject == nullptr) {
    std::string named;
    for (const auto& s : v.statement->subjects) {
      auto it = s.digest.find(std::string(to_string(image.algorithm())));
      if (it == s.digest.end()) continue;
      named = std::string(to_string(image.algorithm())) + ":" + it->second;
      break;
    }
    v.reason = "signed statement is for " + (named.empty() ? std::string("another image") : named) +
               ", not " + image.str();
    return v;
  }
  v.subject = *subject;
  // 6. Required annotations, on the subject that names the image.
  if (auto missing = subject->missing_annotations(policy.required_annotations); !missing.empty()) {
    v.reason = "signed statement lacks required annotation(s) " + missing;
    return v;
  }
  v.verified = true;
  v.reason = "valid bundle signature by trusted key " + *v.key_id;
  return v;
}

VerificationResult Verifier::verify(const Digest& image,
                                    const std::vector<sig::CosignSignature>& cosign,
                                    const std::vector<sig::BundleReferrer>& bundles,
                                    const Policy& policy) const {
  policy.validate();
  // Lists handed in by the caller: capped here, as read_cosign_signatures and
  // read_bundle_referrers cap what they read.
  limits::check(cosign.size(), limits::kMaxSignaturesPerImage, "verify", "cosign signatures");
  limits::check(bundles.size(), limits::kMaxSignaturesPerImage, "verify", "bundle referrers");
  VerificationResult result{.image = image, .signatures = {}};
  result.signatures.reserve(cosign.size() + bundles.size());
  for (const auto& s : cosign) result.signatures.push_back(judge(image, s, policy));
  for (const auto& b : bundles) result.signatures.push_back(judge(image, b, policy));
  return result;
}

}  // namespace trust::verify

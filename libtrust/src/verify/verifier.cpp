#include "libtrust/verify/verifier.h"

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/core/text.h"

#include <array>
#include <variant>

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

Verifier::Verifier(std::shared_ptr<const TrustedMaterial> material)
    : material_(std::move(material)) {
  if (material_ == nullptr || material_->empty()) {
    throw UsageError("no trusted keys: give at least one --key");
  }
  for (const auto& k : material_->keys()) keys_.push_back(k.key);
}

EntityVerdict Verifier::judge(const Digest& image, const sig::SignedEntity& entity,
                              const Policy& policy) const {
  EntityVerdict v;
  v.kind = entity.kind;
  v.index = entity.index;
  v.origin = entity.origin;
  v.layer_digest = entity.layer_digest;
  v.referrer_digest = entity.referrer_digest;
  if (entity.problem) {
    v.reason = *entity.problem;
    return v;
  }
  if (const auto* c = std::get_if<sig::CosignSignatureContent>(&entity.content)) {
    return judge_cosign(image, *c, policy, std::move(v));
  }
  if (const auto* b = std::get_if<sig::BundleEntityContent>(&entity.content)) {
    return judge_bundle(image, b->bundle, policy, std::move(v));
  }
  if (const auto* d = std::get_if<sig::DsseAttestationContent>(&entity.content)) {
    return judge_attestation(d->envelope, std::move(v));
  }
  v.reason = "no content";  // an entity built without its constructors: never verified
  return v;
}

std::vector<KeyMatch> Verifier::keys_of(const std::vector<sig::DsseMatch>& matches) const {
  std::vector<bool> seen(keys_.size(), false);
  for (const auto& m : matches) seen[m.key_index] = true;
  std::vector<KeyMatch> out;
  const auto keys = material_->keys();
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (seen[k]) out.push_back(KeyMatch{.name = keys[k].name, .key_id = keys[k].key_id()});
  }
  return out;
}

EntityVerdict Verifier::judge_cosign(const Digest& image, const sig::CosignSignatureContent& s,
                                     const Policy& policy, EntityVerdict v) const {
  // 1. The signature over the exact payload bytes, with a trusted key. The algorithm is the
  //    one the trusted key's type dictates; nothing in the signed object chooses it. Every
  //    trusted key is tried, so the verdict names all that vouch for it.
  for (const auto& key : material_->keys()) {
    if (key.key.verify(s.payload, s.signature)) {
      v.verified_by.push_back(KeyMatch{.name = key.name, .key_id = key.key_id()});
    }
  }
  if (v.verified_by.empty()) {
    v.reason = "signature does not verify with any trusted key";
    return v;
  }
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
  v.reason = "valid signature by trusted key " + *v.key_id();
  return v;
}

// The verdict on one bundle; see verifier.h for the steps.
EntityVerdict Verifier::judge_bundle(const Digest& image, const sig::Bundle& bundle,
                                     const Policy& policy, EntityVerdict v) const {
  if (auto why = bundle.unsupported_reason()) {
    v.reason = *why;
    return v;
  }
  const auto& envelope = bundle.dsse_envelope();
  if (!envelope) {
    v.reason = "bundle holds no DSSE envelope";
    return v;
  }
  // 1. The DSSE signature over the PAE with a trusted key. The key hint and keyid in the bundle
  //    are claims of the signed object: they choose nothing.
  auto verified = envelope->verify(keys_);
  if (!verified) {
    v.reason = "bundle's DSSE signature does not verify with any trusted key";
    return v;
  }
  v.verified_by = keys_of(verified->matches);
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
  v.reason = "valid bundle signature by trusted key " + *v.key_id();
  return v;
}

EntityVerdict Verifier::judge_attestation(const sig::DsseEnvelope& envelope,
                                          EntityVerdict v) const {
  auto verified = envelope.verify(keys_);
  if (!verified) {
    v.reason = "DSSE envelope's signatures do not verify with any trusted key";
    return v;
  }
  v.verified_by = keys_of(verified->matches);
  v.reason = "signed by trusted key " + *v.key_id() +
             ", but attestations are not judged yet: it does not count";
  return v;
}

std::vector<EntityVerdict> Verifier::verify(const Digest& image,
                                            std::span<const sig::SignedEntity> entities,
                                            const Policy& policy) const {
  policy.validate();
  // Lists handed in by the caller: capped here per kind, as the readers cap what they read.
  std::array<std::size_t, 3> counts{};  // by EntityKind
  for (const auto& e : entities) ++counts[static_cast<std::size_t>(e.kind)];
  limits::check(counts[static_cast<std::size_t>(sig::EntityKind::kCosignSignature)],
                limits::kMaxSignaturesPerImage, "verify", "cosign signatures");
  limits::check(counts[static_cast<std::size_t>(sig::EntityKind::kBundle)],
                limits::kMaxSignaturesPerImage, "verify", "bundle referrers");
  limits::check(counts[static_cast<std::size_t>(sig::EntityKind::kDsseAttestation)],
                limits::kMaxSignaturesPerImage, "verify", "attestations");
  std::vector<EntityVerdict> out;
  out.reserve(entities.size());
  for (const auto& e : entities) out.push_back(judge(image, e, policy));
  return out;
}

}  // namespace trust::verify

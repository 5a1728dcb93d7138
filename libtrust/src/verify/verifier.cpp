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

namespace {

// A verdict on `entity` that has not verified yet: where it came from, and what it claims.
EntityVerdict unjudged(const sig::SignedEntity& entity) {
  EntityVerdict v;
  v.kind = entity.kind;
  v.index = entity.index;
  v.origin = entity.origin;
  v.layer_digest = entity.layer_digest;
  v.referrer_digest = entity.referrer_digest;
  v.claimed_predicate_type = entity.claimed_predicate_type;
  return v;
}

}  // namespace

EntityVerdict Verifier::judge(const Digest& image, const sig::SignedEntity& entity,
                              const Policy& policy) const {
  auto v = unjudged(entity);
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
    return judge_attestation_as_signature(d->envelope, std::move(v));
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
  // 1-3. The DSSE signature with a trusted key, the in-toto payloadType, the statement.
  if (!verify_statement(*envelope, "bundle's DSSE", "bundle's in-toto statement",
                        limits::kMaxSignaturePayloadBytes, v)) {
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
  if (!names_image(image, v)) return v;
  const auto* subject = &*v.subject;
  // 6. Required annotations, on the subject that names the image.
  if (auto missing = subject->missing_annotations(policy.required_annotations); !missing.empty()) {
    v.reason = "signed statement lacks required annotation(s) " + missing;
    return v;
  }
  v.verified = true;
  v.reason = "valid bundle signature by trusted key " + *v.key_id();
  return v;
}

bool Verifier::verify_statement(const sig::DsseEnvelope& envelope, std::string_view noun,
                                std::string_view what, std::size_t max_bytes,
                                EntityVerdict& v) const {
  // 1. The DSSE signature over the PAE with a trusted key. The key hint and keyid are claims of
  //    the signed object: they choose nothing.
  auto verified = envelope.verify(keys_);
  if (!verified) {
    v.reason = std::string(noun) + " signature does not verify with any trusted key";
    return false;
  }
  v.verified_by = keys_of(verified->matches);
  // 2. Only an in-toto statement can name the image.
  if (verified->payload_type != media_type::kInTotoPayload) {
    v.reason = std::string(noun) + " payloadType is '" + excerpt(verified->payload_type, 100) +
               "', not " + std::string(media_type::kInTotoPayload);
    return false;
  }
  // 3. Now the payload is authentic: parse it.
  try {
    v.statement = sig::Statement::parse(verified->payload, what, max_bytes);
  } catch (const Error& e) {
    v.reason = std::string("signed statement is malformed: ") + e.what();
    return false;
  }
  return true;
}

bool Verifier::names_image(const Digest& image, EntityVerdict& v) {
  const auto* subject = v.statement->find_subject(image);
  if (subject == nullptr) {
    std::string named;
    for (const auto& s : v.statement->subjects) {
      auto it = s.digest.find(std::string(to_string(image.algorithm())));
      if (it == s.digest.end()) continue;
      named = std::string(to_string(image.algorithm())) + ":" + excerpt(it->second, 128);
      break;
    }
    v.reason = "signed statement is for " + (named.empty() ? std::string("another image") : named) +
               ", not " + image.str();
    return false;
  }
  v.subject = *subject;
  return true;
}

EntityVerdict Verifier::judge_attestation_as_signature(const sig::DsseEnvelope& envelope,
                                                       EntityVerdict v) const {
  auto verified = envelope.verify(keys_);
  if (!verified) {
    v.reason = "DSSE envelope's signatures do not verify with any trusted key";
    return v;
  }
  v.verified_by = keys_of(verified->matches);
  v.reason = "signed by trusted key " + *v.key_id() +
             ", but an attestation is not a signature: it does not count";
  return v;
}

EntityVerdict Verifier::judge_attestation(const Digest& image,
                                          const sig::SignedEntity& entity) const {
  auto v = unjudged(entity);
  if (entity.problem) {
    v.reason = *entity.problem;
    return v;
  }
  const sig::DsseEnvelope* envelope = nullptr;
  std::string_view noun = "DSSE envelope's";
  if (const auto* d = std::get_if<sig::DsseAttestationContent>(&entity.content)) {
    envelope = &d->envelope;
  } else if (const auto* b = std::get_if<sig::BundleEntityContent>(&entity.content)) {
    if (auto why = b->bundle.unsupported_reason()) {
      v.reason = *why;
      return v;
    }
    if (!b->bundle.dsse_envelope()) {
      v.reason = "bundle holds no DSSE envelope";
      return v;
    }
    envelope = &*b->bundle.dsse_envelope();
    noun = "bundle's DSSE";
  } else {
    v.reason = "a cosign signature, not an attestation";
    return v;
  }
  // 1-3. Signature, payloadType, statement.
  if (!verify_statement(*envelope, noun, "attestation's in-toto statement", sig::kMaxStatementBytes,
                        v)) {
    return v;
  }
  if (v.statement->predicate_type == sig::kCosignSignPredicateType) {
    v.reason = "signed statement is an image signature (" +
               std::string(sig::kCosignSignPredicateType) + "), not an attestation";
    return v;
  }
  // 4. The statement must name this image.
  if (!names_image(image, v)) return v;
  v.verified = true;
  v.reason = "valid attestation of type '" + excerpt(v.statement->predicate_type, 200) +
             "' by trusted key " + *v.key_id();
  if (v.claimed_predicate_type && *v.claimed_predicate_type != v.statement->predicate_type) {
    v.reason += " (its storage annotation claims '" + excerpt(*v.claimed_predicate_type, 200) +
                "': not used)";
  }
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

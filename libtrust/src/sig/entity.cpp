#include "libtrust/sig/entity.h"

#include "libtrust/core/error.h"

namespace trust::sig {

std::string_view to_string(EntityKind kind) {
  switch (kind) {
    case EntityKind::kCosignSignature:
      return "cosign";
    case EntityKind::kDsseAttestation:
      return "attestation";
    case EntityKind::kBundle:
      return "bundle";
  }
  return "?";
}

std::string cosign_signature_origin(std::size_t index) {
  return "cosign .sig layer " + std::to_string(index);
}

SignedEntity cosign_signature_entity(std::size_t index, Digest layer, Bytes payload,
                                     Bytes signature) {
  return SignedEntity{.kind = EntityKind::kCosignSignature,
                      .index = index,
                      .origin = cosign_signature_origin(index),
                      .layer_digest = std::move(layer),
                      .referrer_digest = std::nullopt,
                      .problem = std::nullopt,
                      .content = CosignSignatureContent{.payload = std::move(payload),
                                                        .signature = std::move(signature)}};
}

SignedEntity bundle_entity(std::size_t index, std::string origin, std::optional<Digest> referrer,
                           std::optional<Digest> layer, Bundle bundle) {
  return SignedEntity{.kind = EntityKind::kBundle,
                      .index = index,
                      .origin = std::move(origin),
                      .layer_digest = std::move(layer),
                      .referrer_digest = std::move(referrer),
                      .problem = std::nullopt,
                      .content = BundleEntityContent{.bundle = std::move(bundle)}};
}

SignedEntity dsse_attestation_entity(std::size_t index, std::string origin,
                                     std::optional<Digest> layer, ByteView json) {
  try {
    auto envelope = DsseEnvelope::parse(json, origin);
    return SignedEntity{.kind = EntityKind::kDsseAttestation,
                        .index = index,
                        .origin = std::move(origin),
                        .layer_digest = std::move(layer),
                        .referrer_digest = std::nullopt,
                        .problem = std::nullopt,
                        .content = DsseAttestationContent{.envelope = std::move(envelope)}};
  } catch (const Error& e) {
    // Input and limit errors alike: the envelope cannot be valid, and the entity says why.
    return problem_entity(EntityKind::kDsseAttestation, index, origin, std::move(layer),
                          std::nullopt, std::string("DSSE envelope is malformed: ") + e.what());
  }
}

SignedEntity problem_entity(EntityKind kind, std::size_t index, std::string origin,
                            std::optional<Digest> layer, std::optional<Digest> referrer,
                            std::string problem) {
  return SignedEntity{.kind = kind,
                      .index = index,
                      .origin = std::move(origin),
                      .layer_digest = std::move(layer),
                      .referrer_digest = std::move(referrer),
                      .problem = std::move(problem),
                      .content = std::monostate{}};
}

}  // namespace trust::sig

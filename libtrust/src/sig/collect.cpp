#include "libtrust/sig/collect.h"

#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/referrers.h"

namespace trust::sig {

std::size_t collection_order(EntityKind kind) {
  switch (kind) {
    case EntityKind::kCosignSignature:
      return 0;
    case EntityKind::kDsseAttestation:
      return 1;
    case EntityKind::kBundle:
      return 2;
  }
  return 3;
}

Collection collect_signed_entities(oci::ImageSource& source, const Digest& image,
                                   const EntityKinds& kinds,
                                   const std::function<bool(SignedEntity)>& on_entity) {
  Collection out;
  bool more = true;
  auto deliver = [&](SignedEntity e) {
    if (!on_entity(std::move(e))) more = false;
  };
  if (kinds.cosign_signatures) {
    out.signature_manifest = visit_cosign_signatures(
        source, image, [&](CosignSignature s) { deliver(to_entity(std::move(s))); });
  }
  if (!more) return out;
  if (kinds.attestations) {
    out.attestation_manifest = visit_cosign_attestations(
        source, image, [&](CosignAttestation a) { deliver(to_entity(std::move(a))); });
  }
  if (!more) return out;
  if (kinds.bundles) {
    out.bundle_referrers = visit_bundle_referrers(
        source, image, [&](BundleReferrer b) { deliver(to_entity(std::move(b))); });
    out.referrers_checked = true;
  }
  return out;
}

}  // namespace trust::sig

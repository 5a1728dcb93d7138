#pragma once
// Collecting the signed entities attached to an image, from every place they are stored: the
// cosign .sig tag's layers, then cosign's .att tag's layers, then the sigstore bundle referrers.
// This is the fetching the Verifier never does: what the caller hands it, one entity at a time. The
// caller (its decision) says when it has seen enough, and the sources not yet looked up are then
// not looked up at all: a node verifying cosign-signed images makes three requests (manifest, .sig
// manifest, payload), not five (referrers API, fallback tag).

#include <cstddef>
#include <functional>
#include <optional>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/sig/entity.h"

namespace trust::sig {

struct Collection {
  std::optional<oci::Descriptor> signature_manifest;    // the .sig manifest, when there is one
  std::optional<oci::Descriptor> attestation_manifest;  // the .att manifest, when there is one
  bool referrers_checked = false;                       // the bundle referrers were looked up
  std::size_t bundle_referrers = 0;                     // sigstore bundle referrers listed
};

// The rank of a kind's source in the order collect_signed_entities reads them (for sorting what
// it delivered: by rank, then by index).
TRUST_API std::size_t collection_order(EntityKind kind);

// Hands every entity of the wanted kinds attached to `image` in `source` to `on_entity`, on the
// calling thread, its content read or its problem set, one source after the other (in any order
// within a source: `index` is the position). on_entity returns whether more are wanted: once it
// has returned false, no further source is looked up (the rest of the source under way is still
// delivered: its blobs are fetched together). The limits and errors are those of
// visit_cosign_signatures, visit_cosign_attestations and visit_bundle_referrers, which this reads
// through.
TRUST_API Collection collect_signed_entities(oci::ImageSource& source, const Digest& image,
                                             const EntityKinds& kinds,
                                             const std::function<bool(SignedEntity)>& on_entity);

}  // namespace trust::sig

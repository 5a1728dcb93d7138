#pragma once
// What `sigil download` prints: attestations and SBOMs as they are stored with an image, NONE OF
// IT VERIFIED (as cosign's `download` does). Nothing here decides anything; a caller that needs a
// verified statement uses check/verify_attestations.h.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"

namespace trust::check {

struct StoredDocument {
  std::string origin;  // "cosign .att layer 0", "referrer manifest sha256:…", ".sbom layer 0"
  std::string predicate_type;  // the (unverified) statement's predicateType, "" for a .sbom layer
  std::string json;            // the document as compact JSON, every non-ASCII character escaped
};

// Each stored envelope of `image`: the .att layers' envelopes, then the DSSE envelopes of the
// bundle referrers that are not image signatures, as compact JSON. With `predicate_type` (a
// short name or URI, as verify-attestation's --type), only those whose unverified statement has
// that type. A malformed envelope is skipped (it is no envelope). Limits as the readers'.
TRUST_API std::vector<StoredDocument> stored_attestations(
    oci::ImageSource& source, const Digest& image,
    const std::optional<std::string>& predicate_type = std::nullopt);

// The SBOM documents of `image`: the predicates of its SPDX and CycloneDX attestations (as
// stored_attestations finds them), then each layer of a legacy "sha256-<hex>.sbom" tag that is
// JSON (at most limits::kMaxSbomLayerBytes each by its descriptor, else LimitError; not JSON:
// InputError).
TRUST_API std::vector<StoredDocument> stored_sboms(oci::ImageSource& source, const Digest& image);

}  // namespace trust::check

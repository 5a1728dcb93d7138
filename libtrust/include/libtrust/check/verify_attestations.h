#pragma once
// Verification of an image's attestations where the image lives (registry, layout, archive), as
// verify_image does for signatures and with the same three steps: resolve the reference once
// and check the manifest (and, on request, every blob) against its digest; collect the cosign
// .att layers and the sigstore bundle referrers (never the .sig layers: a signature is no
// attestation); judge each for the attestation purpose as it arrives
// (verify::Verifier::judge_attestation), keeping its statement only when it counts for the
// requirement; decide (verify::decide_attestations). What `sigil verify-attestation` runs.

#include <cstddef>
#include <optional>
#include <vector>

#include "libtrust/core/reference.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/verify/decision.h"
#include "libtrust/verify/verifier.h"

namespace trust::check {

struct AttestationVerifyOptions {
  bool check_blobs = true;  // hash the config and every layer against their descriptors
};

struct AttestationVerification {
  oci::Descriptor image;             // what the reference resolved to (once)
  bool attestations_found = false;   // a .att attachment exists
  std::size_t bundle_referrers = 0;  // sigstore bundle referrers listed for the image
  // The verdicts on the .att layers, then on the bundle referrers, each in layout order. A
  // verdict keeps its statement only when it counted (decision.counted); the others keep their
  // reason.
  std::vector<verify::EntityVerdict> verdicts;
  // Per verdict, in the order of `verdicts`: whether and why it counted.
  std::vector<verify::AttestationConsidered> considered;
  verify::Decision decision;  // on `verdicts`
  bool verified() const { return decision.allowed; }
};

// Throws on input/I-O errors (unreadable layout, blob digest mismatch, more than
// limits::kMaxSignaturesPerImage layers or referrers), and UsageError for an invalid
// requirement. A decision of "not verified" is a value: verified() == false.
TRUST_API AttestationVerification verify_attestations(
    oci::ImageSource& source, const Reference& ref, const verify::Verifier& verifier,
    const verify::AttestationRequirement& requirement,
    const AttestationVerifyOptions& options = {});

}  // namespace trust::check

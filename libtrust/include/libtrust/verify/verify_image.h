#pragma once
// Verification of an image where it lives (registry, layout, archive): resolve the reference once,
// check that the manifest (and, on request, every blob) matches its digest, read the attached
// signatures in both layouts (the cosign .sig tag, then the sigstore bundle referrers) and hand
// them to the Verifier. What `sigil verify` runs.

#include <cstddef>
#include <optional>

#include "libtrust/core/reference.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/verify/verifier.h"

namespace trust::verify {

struct ImageVerifyOptions {
  bool check_blobs = true;  // hash the config and every layer against their descriptors
  // Judge every attached signature. Off: the bundle referrers are looked up only when no .sig
  // layer verified (the verdict is the same; a registry is spared two round trips).
  bool examine_all = false;
};

struct ImageVerification {
  oci::Descriptor image;             // what the reference resolved to (once)
  bool signatures_found = false;     // a .sig attachment exists
  bool referrers_checked = false;    // the bundle referrers were looked up
  std::size_t bundle_referrers = 0;  // sigstore bundle referrers listed for the image
  VerificationResult result;         // verdicts on the .sig layers, then on the bundle referrers
};

// Throws on input/I-O errors (unreadable layout, blob digest mismatch, limits). A verdict of "not
// verified" is a value: result.verified() == false.
TRUST_API ImageVerification verify_image(oci::ImageSource& source, const Reference& ref,
                                         const Verifier& verifier, const Policy& policy,
                                         const ImageVerifyOptions& options = {});

}  // namespace trust::verify

#pragma once
// Verification of an image where it lives (registry, layout, archive), composed of the three
// steps and nothing else: resolve the reference once and check that the manifest (and, on
// request, every blob) matches its digest; collect the attached signed entities
// (sig/collect.h); judge each as it arrives (verify::Verifier); decide (verify::decide), which
// also says when collecting can stop. What `sigil verify` runs. It lives outside verify/ because
// it fetches.

#include <cstddef>
#include <vector>

#include "libtrust/core/reference.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/verify/decision.h"
#include "libtrust/verify/verifier.h"

namespace trust::check {

struct ImageVerifyOptions {
  bool check_blobs = true;  // hash the config and every layer against their descriptors
  // Judge every attached signature. Off: the bundle referrers are looked up only when the .sig
  // layers did not satisfy the requirement (the decision is the same; a registry is spared two
  // round trips).
  bool examine_all = false;
  verify::Requirement requirement;  // what the decision requires
};

struct ImageVerification {
  oci::Descriptor image;             // what the reference resolved to (once)
  bool signatures_found = false;     // a .sig attachment exists
  bool referrers_checked = false;    // the bundle referrers were looked up
  std::size_t bundle_referrers = 0;  // sigstore bundle referrers listed for the image
  // The verdicts on the .sig layers, then on the bundle referrers, each in layout order.
  std::vector<verify::EntityVerdict> verdicts;
  verify::Decision decision;  // on `verdicts`
  bool verified() const { return decision.allowed; }
};

// Throws on input/I-O errors (unreadable layout, blob digest mismatch, limits), and UsageError
// for a requirement more distinct keys than the verifier trusts (it could never be met). A
// decision of "not verified" is a value: verified() == false.
TRUST_API ImageVerification verify_image(oci::ImageSource& source, const Reference& ref,
                                         const verify::Verifier& verifier,
                                         const verify::Policy& policy,
                                         const ImageVerifyOptions& options = {});

}  // namespace trust::check

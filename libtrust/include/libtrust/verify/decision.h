#pragma once
// The decision: the step after the Verifier's verdicts that allows or denies an image. The
// Verifier says, per signed entity, which trusted keys verified it; what is required of the image
// as a whole is stated here, as a Requirement, and nowhere else. Thresholds live here now; rules
// and required attestations (their predicate conditions) will.
//
// The rule: an image is allowed when at least `threshold` distinct trusted keys (by key id)
// each verified at least one verified signature entity (a cosign signature or a bundle). A key
// is counted once however many entities it verified, and under whichever names it was given;
// an entity that did not verify counts for no key, whatever keys its signature verified with.
// Attestations never count as signatures.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/verify/verifier.h"

namespace trust::verify {

struct Requirement {
  std::size_t threshold = 1;  // distinct trusted keys; 1 is "any one signature" (sigil verify)
  // Throws UsageError for a threshold of 0 (a requirement nothing could fail).
  TRUST_API void validate() const;
};

struct Decision {
  bool allowed = false;
  // The distinct key ids that counted, in the order first met.
  std::vector<std::string> keys;
  // One line: "verified: 1 of 2 signature(s) valid for sha256:… (key sha256:…)" or why not.
  std::string summary;
  // How the decision was reached: one line per verdict (whether and for which keys it counted),
  // then the requirement and whether it was met.
  std::vector<std::string> trace;
};

// `requirement` must be valid (validate() is called). Never throws otherwise.
TRUST_API Decision decide(const Digest& image, std::span<const EntityVerdict> verdicts,
                          const Requirement& requirement = {});

}  // namespace trust::verify

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
//
// An attestation requirement (AttestationRequirement: `sigil verify-attestation --type T
// --where …`, and later a policy's required attestations) is met when at least one verdict
// judged for the attestation purpose (Verifier::judge_attestation) is verified, has a statement
// whose predicateType is among accepted_predicate_types(type) (the signed statement's, never a
// storage annotation), and satisfies every condition on its predicate. The trace says, per
// attestation, why it did or did not count.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/verify/conditions.h"
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
  // An attestation decision: the positions (in the verdicts decided on) of those that counted.
  std::vector<std::size_t> counted;
};

struct AttestationRequirement {
  std::string type = "custom";     // a predicate type's short name or URI (sig/predicate_type.h)
  PredicateConditions conditions;  // on the predicate of an attestation of that type
  // Throws UsageError for a type that is neither a short name nor an absolute URI.
  TRUST_API void validate() const;
};

// Whether one attestation verdict satisfies `requirement`, and why (one line, without origin).
struct AttestationConsidered {
  bool counts = false;
  std::string reason;
};
// `requirement` must be valid. Never throws otherwise.
TRUST_API AttestationConsidered consider_attestation(const EntityVerdict& verdict,
                                                     const AttestationRequirement& requirement);

// `requirement` must be valid (validate() is called). Never throws otherwise.
TRUST_API Decision decide(const Digest& image, std::span<const EntityVerdict> verdicts,
                          const Requirement& requirement = {});

// The decision on verdicts judged for the attestation purpose: allowed when at least one counts
// (consider_attestation). `keys` are the keys of the verdicts that counted. `requirement` is
// validated. Never throws otherwise.
TRUST_API Decision decide_attestations(const Digest& image, std::span<const EntityVerdict> verdicts,
                                       const AttestationRequirement& requirement);
// The same from what a caller that streams attestations considered as each arrived (one per
// verdict, same order; it may then have dropped the statements that did not count). UsageError
// when the two lists differ in length.
TRUST_API Decision decide_attestations(const Digest& image, std::span<const EntityVerdict> verdicts,
                                       std::span<const AttestationConsidered> considered,
                                       const AttestationRequirement& requirement);

}  // namespace trust::verify

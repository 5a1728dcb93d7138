#pragma once
// Judging stored signatures (as the readers return them) the way sigil verify does: each turned
// into its signed entity, one verdict each, then today's decision (any one signature).

#include <vector>

#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/referrers.h"
#include "libtrust/verify/decision.h"
#include "libtrust/verify/verifier.h"

namespace trust::verify::test {

struct Judged {
  std::vector<EntityVerdict> signatures;
  Decision decision;
  bool verified() const { return decision.allowed; }
};

inline Judged judge_stored(const Verifier& verifier, const Digest& image,
                           const std::vector<sig::CosignSignature>& cosign,
                           const std::vector<sig::BundleReferrer>& bundles, const Policy& policy,
                           const Requirement& requirement = {}) {
  std::vector<sig::SignedEntity> entities;
  for (const auto& s : cosign) entities.push_back(sig::to_entity(s));
  for (const auto& b : bundles) entities.push_back(sig::to_entity(b));
  auto verdicts = verifier.verify(image, entities, policy);
  auto decision = decide(image, verdicts, requirement);
  return Judged{.signatures = std::move(verdicts), .decision = std::move(decision)};
}

}  // namespace trust::verify::test

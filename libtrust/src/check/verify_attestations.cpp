#include "libtrust/check/verify_attestations.h"

#include <algorithm>

#include "check/resolve.h"
#include "libtrust/sig/collect.h"

namespace trust::check {

AttestationVerification verify_attestations(oci::ImageSource& source, const Reference& ref,
                                            const verify::Verifier& verifier,
                                            const verify::AttestationRequirement& requirement,
                                            const AttestationVerifyOptions& options) {
  requirement.validate();
  // The reference is resolved exactly once; everything below works on this digest.
  const auto image = detail::resolve_checked(source, ref, options.check_blobs);
  AttestationVerification out;
  out.image = image;
  // Each entity is judged as it arrives; a statement is kept only when it counts (a megabyte
  // SBOM that is not the one wanted is dropped at once). Every attestation is judged: the
  // report explains each.
  const sig::EntityKinds kinds{.cosign_signatures = false, .bundles = true, .attestations = true};
  struct Judged {
    verify::EntityVerdict verdict;
    verify::AttestationConsidered considered;
  };
  std::vector<Judged> judged;
  auto collected =
      sig::collect_signed_entities(source, image.digest, kinds, [&](sig::SignedEntity e) {
        auto v = verifier.judge_attestation(image.digest, e);
        auto c = verify::consider_attestation(v, requirement);
        if (!c.counts) {
          v.statement.reset();
          v.subject.reset();
        }
        judged.push_back(Judged{.verdict = std::move(v), .considered = std::move(c)});
        return true;
      });
  out.attestations_found = collected.attestation_manifest.has_value();
  out.bundle_referrers = collected.bundle_referrers;
  std::stable_sort(judged.begin(), judged.end(), [](const Judged& a, const Judged& b) {
    const auto ra = sig::collection_order(a.verdict.kind);
    const auto rb = sig::collection_order(b.verdict.kind);
    return ra != rb ? ra < rb : a.verdict.index < b.verdict.index;
  });
  for (auto& j : judged) {
    out.verdicts.push_back(std::move(j.verdict));
    out.considered.push_back(std::move(j.considered));
  }
  out.decision =
      verify::decide_attestations(image.digest, out.verdicts, out.considered, requirement);
  return out;
}

}  // namespace trust::check

#include "libtrust/check/verify_image.h"

#include <algorithm>

#include "check/resolve.h"
#include "libtrust/core/error.h"
#include "libtrust/sig/collect.h"

namespace trust::check {

ImageVerification verify_image(oci::ImageSource& source, const Reference& ref,
                               const verify::Verifier& verifier, const verify::Policy& policy,
                               const ImageVerifyOptions& options) {
  policy.validate();
  options.requirement.validate();
  // A threshold more keys than there are can never be met: a mistake, not a verdict.
  std::vector<std::string> ids;
  for (const auto& k : verifier.material().keys()) {
    if (std::find(ids.begin(), ids.end(), k.key_id()) == ids.end()) ids.push_back(k.key_id());
  }
  if (options.requirement.threshold > ids.size()) {
    throw UsageError("threshold " + std::to_string(options.requirement.threshold) +
                     " is more than the " + std::to_string(ids.size()) +
                     " distinct trusted key(s): it can never be met");
  }
  // The reference is resolved exactly once; everything below works on this digest.
  const auto image = detail::resolve_checked(source, ref, options.check_blobs);
  ImageVerification out;
  out.image = image;
  auto& verdicts = out.verdicts;
  // Each entity is judged as it arrives and only the verdict is kept: the bytes held stay
  // bounded whatever the image attaches (the calls come on this thread). Collecting goes on
  // while the requirement is not met (or, with examine_all, to the end).
  auto collected = sig::collect_signed_entities(
      source, image.digest, sig::EntityKinds{}, [&](sig::SignedEntity e) {
        verdicts.push_back(verifier.judge(image.digest, e, policy));
        return options.examine_all ||
               !verify::decide(image.digest, verdicts, options.requirement).allowed;
      });
  out.signatures_found = collected.signature_manifest.has_value();
  out.referrers_checked = collected.referrers_checked;
  out.bundle_referrers = collected.bundle_referrers;
  std::stable_sort(verdicts.begin(), verdicts.end(),
                   [](const verify::EntityVerdict& a, const verify::EntityVerdict& b) {
                     const auto ra = sig::collection_order(a.kind);
                     const auto rb = sig::collection_order(b.kind);
                     return ra != rb ? ra < rb : a.index < b.index;
                   });
  out.decision = verify::decide(image.digest, verdicts, options.requirement);
  return out;
}

}  // namespace trust::check

// The policy engine. PLACEHOLDER until the engine work lands: every check is denied.
#include "libtrust/verify/policy_check.h"

#include "libtrust/core/error.h"

namespace trust::verify {

std::string_view PolicyVerdict::result() const {
  if (!allowed) return "denied";
  if (satisfied) return "allowed";
  return mode == RuleMode::kAudit ? "audited" : "warned";
}

std::string to_json(const PolicyVerdict& verdict) {
  return "{\"image\":\"" + verdict.image + "\",\"result\":\"denied\"}";
}

std::vector<std::string> explain_lines(const PolicyVerdict& verdict) {
  return {"denied " + verdict.image + ": " + verdict.cause};
}

struct RuleCheck::Impl {
  RuleSelection selection;
  std::string image_name;
  Digest image;
};

RuleCheck::RuleCheck(const TrustPolicy&, RuleSelection selection, std::string image_name,
                     const Digest& image)
    : impl_(std::make_unique<Impl>(Impl{std::move(selection), std::move(image_name), image})) {}
RuleCheck::~RuleCheck() = default;
RuleCheck::RuleCheck(RuleCheck&&) noexcept = default;
RuleCheck& RuleCheck::operator=(RuleCheck&&) noexcept = default;

sig::EntityKinds RuleCheck::wants() const {
  return sig::EntityKinds{.cosign_signatures = false, .bundles = false, .attestations = false};
}
bool RuleCheck::add(const sig::SignedEntity&) {
  return false;
}
PolicyVerdict RuleCheck::finish() const {
  return verdict_for_error(impl_->selection, impl_->image_name, impl_->image,
                           "the policy engine is not built yet");
}

PolicyVerdict verdict_without_digest(const RuleSelection& selection, std::string image_name,
                                     std::string why) {
  return verdict_for_error(selection, std::move(image_name), std::nullopt, std::move(why));
}

PolicyVerdict verdict_for_error(const RuleSelection& selection, std::string image_name,
                                std::optional<Digest> image, std::string error) {
  PolicyVerdict v;
  v.image = std::move(image_name);
  v.digest = std::move(image);
  if (selection.rule != nullptr) v.rule = selection.rule->name;
  v.cause = std::move(error);
  return v;
}

}  // namespace trust::verify

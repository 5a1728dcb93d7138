// Enforcement of the trust policy on an image source. PLACEHOLDER until the engine work lands:
// every image is denied.
#include "libtrust/check/enforce.h"

namespace trust::check {

verify::PolicyVerdict enforce(const verify::TrustPolicy& policy, const Reference& ref,
                              oci::ImageSource&, const EnforceOptions&,
                              std::string_view repository_name) {
  const auto name = repository_name.empty() ? ref.repository_name() : std::string(repository_name);
  return verify::verdict_for_error(policy.select(name), ref.str(), ref.digest(),
                                   "policy enforcement is not built yet");
}

}  // namespace trust::check

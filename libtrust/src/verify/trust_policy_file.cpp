// Reading a trust policy file (YAML through yaml-cpp, or JSON) into a PolicyDocument, strictly.
// PLACEHOLDER until the policy-file work lands: refuses every file.
#include "libtrust/core/error.h"
#include "libtrust/verify/trust_policy.h"

namespace trust::verify {

TrustPolicy TrustPolicy::load(const std::filesystem::path& file) {
  throw UnsupportedError(file.string() + ": policy files cannot be read yet");
}

TrustPolicy TrustPolicy::parse(std::string_view, std::string_view source,
                               const std::filesystem::path&) {
  throw UnsupportedError(std::string(source) + ": policy files cannot be read yet");
}

}  // namespace trust::verify

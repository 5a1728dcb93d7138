#include "policy_run.h"

#include <memory>

#include "libtrust/check/enforce.h"
#include "libtrust/core/error.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/verify/trust_policy.h"

namespace sigil::cli {

int run_policy_images(const PolicyRun& run) {
  std::vector<trust::Reference> refs;
  for (const auto& image : run.images) {
    auto ref = parse_image_reference(image);
    if (ref.kind() != trust::ReferenceKind::kRegistry) {
      throw trust::UsageError(ref.str() +
                              ": a policy judges registry images (its rules match repository "
                              "names); verify a local image with --key");
    }
    refs.push_back(std::move(ref));
  }
  const PolicyJudge judge(run.policy_file, run.registry, run.check_blobs, run.parts);
  int code = kExitOk;
  for (const auto& ref : refs) {
    const auto verdict = judge.judge(ref);
    print_policy_verdict(verdict, run.output, run.explain, run.json);
    code = combined_exit_code(code, policy_exit_code(verdict));
  }
  return code;
}

PolicyJudge::PolicyJudge(const std::string& policy_file, const RegistryFlags& registry,
                         bool check_blobs, trust::verify::RuleParts parts)
    : policy_(trust::verify::TrustPolicy::load(policy_file)),
      options_(transport_options(registry)),
      client_(std::make_shared<trust::registry::Client>(options_)),
      check_blobs_(check_blobs),
      parts_(parts) {}

trust::verify::PolicyVerdict PolicyJudge::judge(const trust::Reference& ref) const {
  auto source = trust::registry::open_source(ref, options_, client_);
  return trust::check::enforce(
      policy_, ref, *source,
      trust::check::EnforceOptions{.check_blobs = check_blobs_, .cache = nullptr, .parts = parts_});
}

}  // namespace sigil::cli

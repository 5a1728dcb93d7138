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
  const auto policy = trust::verify::TrustPolicy::load(run.policy_file);
  const auto options = transport_options(run.registry);
  auto client = std::make_shared<trust::registry::Client>(options);
  int code = kExitOk;
  for (const auto& ref : refs) {
    auto source = trust::registry::open_source(ref, options, client);
    const auto verdict = trust::check::enforce(
        policy, ref, *source,
        trust::check::EnforceOptions{
            .check_blobs = run.check_blobs, .cache = nullptr, .parts = run.parts});
    print_policy_verdict(verdict, run.output, run.explain, run.json);
    code = combined_exit_code(code, policy_exit_code(verdict));
  }
  return code;
}

}  // namespace sigil::cli

// sigil serve's enforcement of one image (admission_enforcer.h).
#include "admission_enforcer.h"

#include "lazy_registry_source.h"

#include <exception>
#include <string>
#include <utility>

#include "libtrust/check/enforce.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/registry/registry_store.h"

namespace sigil::cli {

AdmissionEnforcer::AdmissionEnforcer(AdmissionEnforcerOptions options)
    : options_(std::move(options)) {
  options_.transport.validate();
  if (options_.pull_secrets) api_ = KubeApi::in_cluster();
}

trust::verify::PolicyVerdict AdmissionEnforcer::enforce(
    const trust::verify::TrustPolicy& policy, trust::verify::VerdictCache* cache,
    const trust::Reference& ref, const trust::check::AdmissionContext& context,
    Clock::time_point deadline) const {
  auto failed = [&](const std::string& error) {
    return trust::verify::verdict_for_error(policy.select(ref.repository_name()), ref.str(),
                                            ref.digest(), error);
  };
  try {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return failed("no time left of the review's deadline");
    auto transport = options_.transport;
    transport.timeout = left;
    if (api_ && !context.pull_secrets.empty()) {
      trust::limits::check(context.pull_secrets.size(), trust::limits::kMaxPullSecrets,
                           "imagePullSecrets", "entries");
      for (const auto& name : context.pull_secrets) {
        if (auto config =
                api_->docker_config(context.namespace_name, name, deadline, options_.warn)) {
          transport.docker_config_json.push_back(
              std::make_shared<const trust::SecretBytes>(std::move(*config)));
        }
      }
      const auto after =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (after.count() <= 0) return failed("no time left of the review's deadline");
      transport.timeout = after;
    }
    LazyRegistrySource source(ref, std::move(transport));
    return trust::check::enforce(policy, ref, source, {.check_blobs = false, .cache = cache});
  } catch (const std::exception& e) {
    return failed(e.what());
  } catch (...) {
    return failed("unknown error");
  }
}

}  // namespace sigil::cli

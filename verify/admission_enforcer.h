#pragma once
// What sigil serve runs for AdmissionEnvironment::enforce (check/admission.h): the verdict on
// one image of a review, through check::enforce, with the server's registry flags, the review's
// verdict cache and deadline, and, when --pull-secrets is given, the credentials of the pod's
// imagePullSecrets (kube_api.h) consulted before the mounted ones.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "kube_api.h"
#include "libtrust/check/admission.h"
#include "libtrust/registry/client.h"
#include "libtrust/verify/policy_check.h"
#include "libtrust/verify/trust_policy.h"
#include "libtrust/verify/verdict_cache.h"

namespace sigil::cli {

struct AdmissionEnforcerOptions {
  trust::registry::TransportOptions transport;  // the registry flags' (--authfile, --ca-file, …)
  bool pull_secrets = false;                    // --pull-secrets: read imagePullSecrets
  // Where problems that do not decide a verdict go (a pull secret not found, of another type).
  std::function<void(std::string_view)> warn;
};

class AdmissionEnforcer {
 public:
  using Clock = std::chrono::steady_clock;

  // With pull_secrets, finds the API server now (KubeApi::in_cluster: UsageError when there is
  // none); reads nothing else yet.
  explicit AdmissionEnforcer(AdmissionEnforcerOptions options);

  // check::enforce on `ref` with `cache`, the credentials for `context` and every registry and
  // API server request ending by `deadline`. Never throws: every error is a verdict
  // (verify::verdict_for_error) naming it, so under enforce it denies. Thread-safe.
  trust::verify::PolicyVerdict enforce(const trust::verify::TrustPolicy& policy,
                                       trust::verify::VerdictCache* cache,
                                       const trust::Reference& ref,
                                       const trust::check::AdmissionContext& context,
                                       Clock::time_point deadline) const;

 private:
  AdmissionEnforcerOptions options_;
  std::optional<KubeApi> api_;
};

}  // namespace sigil::cli

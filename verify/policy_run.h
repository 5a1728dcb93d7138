#pragma once
// The one run of the trust policy over images from the command line (`verify --policy`,
// `verify-attestation --policy`, `policy explain`): every reference parsed first (a typo in the
// last is a usage error before anything is fetched), the policy loaded once, one registry client
// for every image (its connections, TLS sessions and tokens reused; --timeout bounds the whole
// run), check::enforce on each, each verdict printed as it is reached (policy_output.h).

#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "libtrust/registry/client.h"
#include "libtrust/verify/policy_check.h"
#include "libtrust/verify/trust_policy.h"
#include "policy_output.h"

namespace sigil::cli {

struct PolicyRun {
  std::string policy_file;
  std::vector<std::string> images;  // registry references only: rules match repository names
  RegistryFlags registry;
  bool check_blobs = false;  // also download and hash each image's config and layers
  trust::verify::RuleParts parts = trust::verify::RuleParts::kAll;
  OutputFormat output = OutputFormat::kText;
  bool explain = false;
  JsonStyle json = JsonStyle::kLines;
};

// The exit code over every verdict (policy_output.h: 1 if any is denied, else 3, else 0).
int run_policy_images(const PolicyRun& run);

// What run_policy_images judges with: the policy loaded once, one registry client for every
// image, check::enforce on each (`policy check` judges the images of manifests with it).
class PolicyJudge {
 public:
  PolicyJudge(const std::string& policy_file, const RegistryFlags& registry, bool check_blobs,
              trust::verify::RuleParts parts);
  const trust::verify::TrustPolicy& policy() const { return policy_; }
  trust::verify::PolicyVerdict judge(const trust::Reference& ref) const;

 private:
  trust::verify::TrustPolicy policy_;
  trust::registry::TransportOptions options_;
  std::shared_ptr<trust::registry::Client> client_;
  bool check_blobs_;
  trust::verify::RuleParts parts_;
};

}  // namespace sigil::cli

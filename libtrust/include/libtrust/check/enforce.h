#pragma once
// Enforcement of the trust policy on an image where it lives: select the rule by the image's
// repository name; for a rule that verifies, resolve the reference once (a reference with a digest
// is never resolved by tag: what the node hook was given is what is judged), consult the
// verified-digest cache, collect the signed entities the rule needs and feed them to the engine
// (verify/policy_check.h) as they arrive, and store a satisfied verdict. What `sigil verify
// --policy`, `sigil policy explain`, the containerd hook and the Docker plugin run.

#include "libtrust/core/reference.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/verify/policy_check.h"
#include "libtrust/verify/trust_policy.h"
#include "libtrust/verify/verdict_cache.h"

namespace trust::check {

struct EnforceOptions {
  bool check_blobs = false;  // also hash the config and every layer (local images: always)
  // Consulted before anything is fetched but the digest, and given every satisfied verdict.
  verify::VerdictCache* cache = nullptr;  // on disk (digest_cache.h) or in memory
  // The rule's checks to run; with kAttestations the cache is neither consulted nor written.
  verify::RuleParts parts = verify::RuleParts::kAll;
};

// The verdict on `ref` (a registry reference; oci: and docker-archive: references are judged under
// the rule their image's docker-reference would match, by `repository_name`) read from `source`.
// `repository_name` is what rules are selected by; empty: ref.repository_name().
// Never throws for what the registry or the image holds: an error while checking becomes a
// verdict (verify::verdict_for_error) naming it. Throws UsageError only for a reference that has
// no repository name to select a rule by.
TRUST_API verify::PolicyVerdict enforce(const verify::TrustPolicy& policy, const Reference& ref,
                                        oci::ImageSource& source,
                                        const EnforceOptions& options = {},
                                        std::string_view repository_name = {});

}  // namespace trust::check

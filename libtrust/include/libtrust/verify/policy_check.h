#pragma once
// The policy engine: judges one image under the rule the trust policy selects for it, from what
// the caller fetched (the digest and the signed entities attached to it), and returns a verdict
// that explains itself. It fetches nothing: the CLI, the node hooks and the admission server
// collect the entities (check/enforce.h does, for an image source) and share this engine.
//
// The rule's checks, for action verify (an accept rule allows, a reject rule denies, and no rule
// denies, all without looking at the image):
//  - signatures: the image is signed, by the Verifier's rules (verifier.h), by at least
//    `threshold` distinct keys among those the rule names (decision.h's Requirement), each
//    signature carrying the rule's annotations;
//  - attestations: each required attestation is met by a verified attestation of its type,
//    signed by one of the keys it names, whose predicate satisfies its conditions (decision.h's
//    AttestationRequirement). No attestation stands in for another, or for a signature.
// All must hold. When one fails, the mode decides: enforce denies, warn and audit allow (the
// cause is then a warning). The verdict's cause names in one line what failed, e.g.
// "no signature by any of keys release, ci (found 1 signature no trusted key verifies)" or
// "2 of 3 required keys signed; missing: ops".

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/sig/entity.h"
#include "libtrust/verify/trust_policy.h"

namespace trust::verify {

// One step of how a verdict was reached.
struct TraceStep {
  // "rule", "signature", "threshold", "attestation", "requirement", "cache", "digest"
  std::string check;
  std::string subject;  // what it is about: "cosign .sig layer 0", "slsaprovenance", a rule name
  bool passed = false;
  std::string reason;             // one line
  std::vector<std::string> keys;  // names of the policy keys that verified it (signatures)
};

struct PolicyVerdict {
  std::string image;             // the reference as asked, canonical
  std::optional<Digest> digest;  // what was judged; nullopt when the rule needed no digest
  std::string rule;              // the selected rule's name; empty when none matched
  RuleMode mode = RuleMode::kEnforce;
  bool satisfied = false;  // every check of the rule held (an accept rule: true; reject: false)
  bool allowed = false;    // satisfied, or the mode is warn or audit
  // One line: why not (when !satisfied), else what allowed it ("signed by release (1 of 1)").
  std::string cause;
  std::vector<std::string> keys;  // names of the policy keys whose signatures counted
  std::vector<TraceStep> trace;
  bool cached = false;  // taken from the verified-digest cache (digest_cache.h)

  // "allowed", "denied", "warned" (allowed by mode warn), "audited" (allowed by mode audit).
  TRUST_API std::string_view result() const;
};

// One compact JSON object, ASCII: image, digest, rule, mode, result, allowed, cause, keys,
// cached, trace [{check, subject, passed, reason, keys}].
TRUST_API std::string to_json(const PolicyVerdict& verdict);
// For people: the verdict's line ("allowed IMAGE@DIGEST by rule R: CAUSE"), then one indented
// line per trace step. What `sigil policy explain` and `verify --policy` print.
TRUST_API std::vector<std::string> explain_lines(const PolicyVerdict& verdict);

// Which of a verify rule's checks are run. kAll is the rule; kAttestations only its required
// attestations (`sigil verify-attestation --policy`): such a verdict says nothing about
// signatures, so it is never stored in or taken from the verified-digest cache.
enum class RuleParts { kAll, kAttestations };

// The check of one image under one rule, fed the image's signed entities as they arrive.
class TRUST_API RuleCheck {
 public:
  // `policy` outlives the check; `selection` is policy.select(name)'s. `image_name` is the
  // reference as asked (for the verdict), `image` the digest it resolved to (once).
  RuleCheck(const TrustPolicy& policy, RuleSelection selection, std::string image_name,
            const Digest& image, RuleParts parts = RuleParts::kAll);
  ~RuleCheck();
  RuleCheck(RuleCheck&&) noexcept;
  RuleCheck& operator=(RuleCheck&&) noexcept;

  // The kinds of entity the rule reads (none for accept, reject or no rule): pass to
  // sig::collect_signed_entities.
  sig::EntityKinds wants() const;
  // Judges one entity (collect_signed_entities' callback). Returns false once no further entity
  // can change the verdict, so collecting may stop. Keeps only verdicts, never payload bytes.
  bool add(const sig::SignedEntity& entity);
  // The verdict on what was added.
  PolicyVerdict finish() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The verdict for an image that has no digest to judge (a locally built image without a repo
// digest, say): allowed only under an accept rule, denied otherwise with `why` ("no repo
// digest: …") as the cause.
TRUST_API PolicyVerdict verdict_without_digest(const RuleSelection& selection,
                                               std::string image_name, std::string why);

// The verdict for an image whose check could not be completed (a registry error, a limit): a
// failed check with `error` as the cause. Denied under enforce (fail closed) and under no rule;
// under warn or audit it is a warning like any failed check (those modes never deny).
TRUST_API PolicyVerdict verdict_for_error(const RuleSelection& selection, std::string image_name,
                                          std::optional<Digest> image, std::string error);

}  // namespace trust::verify

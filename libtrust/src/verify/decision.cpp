#include "libtrust/verify/decision.h"

#include <algorithm>

#include "libtrust/core/error.h"
#include "libtrust/core/text.h"
#include "libtrust/sig/predicate_type.h"

namespace trust::verify {
namespace {

bool is_signature(sig::EntityKind kind) {
  return kind == sig::EntityKind::kCosignSignature || kind == sig::EntityKind::kBundle;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ", ";
    out += i;
  }
  return out;
}

}  // namespace

void Requirement::validate() const {
  if (threshold == 0) throw UsageError("threshold 0: at least one trusted key must be required");
}

Decision decide(const Digest& image, std::span<const EntityVerdict> verdicts,
                const Requirement& requirement) {
  requirement.validate();
  Decision d;
  std::size_t signatures = 0;
  std::size_t valid = 0;
  const EntityVerdict* first_valid = nullptr;
  const EntityVerdict* only = nullptr;
  for (const auto& v : verdicts) {
    if (!is_signature(v.kind)) {
      d.trace.push_back(v.origin + ": not a signature: does not count");
      continue;
    }
    ++signatures;
    only = &v;
    if (!v.verified) {
      d.trace.push_back(v.origin + ": does not count: " + v.reason);
      continue;
    }
    ++valid;
    if (first_valid == nullptr) first_valid = &v;
    std::vector<std::string> ids;
    for (const auto& k : v.verified_by) {
      ids.push_back(k.key_id);
      if (std::find(d.keys.begin(), d.keys.end(), k.key_id) == d.keys.end()) {
        d.keys.push_back(k.key_id);
      }
    }
    d.trace.push_back(v.origin + ": counts for key(s) " + joined(ids));
  }
  d.allowed = d.keys.size() >= requirement.threshold;
  const std::string k = std::to_string(requirement.threshold);
  d.trace.push_back("requirement: " + k + " distinct trusted key(s); " +
                    std::to_string(d.keys.size()) + " counted: " + (d.allowed ? "met" : "not met"));
  const std::string of = std::to_string(valid) + " of " + std::to_string(signatures);
  if (signatures == 0) {
    d.summary = "no signatures found for " + image.str();
  } else if (d.allowed && requirement.threshold == 1) {
    d.summary = "verified: " + of + " signature(s) valid for " + image.str() + " (key " +
                first_valid->key_id().value_or("?") + ")";
  } else if (d.allowed) {
    d.summary = "verified: " + of + " signature(s) valid for " + image.str() + ", by " +
                std::to_string(d.keys.size()) + " distinct trusted keys (" + k +
                " required): " + joined(d.keys);
  } else if (valid > 0) {
    d.summary = "not verified: " + of + " signature(s) valid for " + image.str() + ", by " +
                std::to_string(d.keys.size()) + " distinct trusted key(s); " + k + " required";
  } else if (signatures == 1) {
    d.summary = "not verified: " + only->reason;
  } else {
    d.summary = "not verified: none of " + std::to_string(signatures) +
                " signatures is valid for " + image.str();
  }
  return d;
}

void AttestationRequirement::validate() const {
  (void)sig::accepted_predicate_types(type);  // UsageError naming the short names otherwise
}

AttestationConsidered consider_attestation(const EntityVerdict& v,
                                           const AttestationRequirement& requirement) {
  if (!v.verified || !v.statement) return {.counts = false, .reason = v.reason};
  const auto& type = v.statement->predicate_type;
  if (!sig::predicate_type_matches(requirement.type, type)) {
    return {.counts = false,
            .reason = "of type '" + excerpt(type, 200) + "', not " + requirement.type + " (" +
                      joined(sig::accepted_predicate_types(requirement.type)) + ")"};
  }
  std::vector<std::string> failed;
  for (const auto& c : requirement.conditions.evaluate(v.statement->predicate_json)) {
    if (!c.holds) failed.push_back("condition " + c.condition + " fails: " + c.reason);
  }
  if (!failed.empty()) return {.counts = false, .reason = joined(failed)};
  std::string why = "type '" + excerpt(type, 200) + "', key " + v.key_id().value_or("?");
  if (!requirement.conditions.empty()) {
    why += ", every condition holds (" + joined(requirement.conditions.describe()) + ")";
  }
  return {.counts = true, .reason = why};
}

Decision decide_attestations(const Digest& image, std::span<const EntityVerdict> verdicts,
                             const AttestationRequirement& requirement) {
  requirement.validate();
  std::vector<AttestationConsidered> considered;
  for (const auto& v : verdicts) considered.push_back(consider_attestation(v, requirement));
  return decide_attestations(image, verdicts, considered, requirement);
}

Decision decide_attestations(const Digest& image, std::span<const EntityVerdict> verdicts,
                             std::span<const AttestationConsidered> considered,
                             const AttestationRequirement& requirement) {
  requirement.validate();
  if (considered.size() != verdicts.size()) {
    throw UsageError("decide_attestations: " + std::to_string(considered.size()) +
                     " considerations for " + std::to_string(verdicts.size()) + " verdicts");
  }
  Decision d;
  for (std::size_t i = 0; i < verdicts.size(); ++i) {
    const auto& v = verdicts[i];
    const auto& c = considered[i];
    if (!c.counts) {
      d.trace.push_back(v.origin + ": does not count: " + c.reason);
      continue;
    }
    d.counted.push_back(i);
    for (const auto& k : v.verified_by) {
      if (std::find(d.keys.begin(), d.keys.end(), k.key_id) == d.keys.end()) {
        d.keys.push_back(k.key_id);
      }
    }
    d.trace.push_back(v.origin + ": counts: " + c.reason);
  }
  d.allowed = !d.counted.empty();
  std::string wanted = "a verified attestation of type " + requirement.type;
  if (!requirement.conditions.empty()) {
    wanted += " satisfying " + joined(requirement.conditions.describe());
  }
  d.trace.push_back("requirement: " + wanted + "; " + std::to_string(d.counted.size()) +
                    " counted: " + (d.allowed ? "met" : "not met"));
  const std::string of = std::to_string(d.counted.size()) + " of " +
                         std::to_string(verdicts.size()) + " attestation(s)";
  if (verdicts.empty()) {
    d.summary = "no attestations found for " + image.str();
  } else if (d.allowed) {
    d.summary = "verified: " + of + " for " + image.str() + " count as " + requirement.type +
                " (key " + verdicts[d.counted.front()].key_id().value_or("?") + ")";
  } else if (verdicts.size() == 1) {
    d.summary = "not verified: " + considered.front().reason;
  } else {
    d.summary = "not verified: none of " + std::to_string(verdicts.size()) +
                " attestations counts as " + wanted + " for " + image.str();
  }
  return d;
}

}  // namespace trust::verify

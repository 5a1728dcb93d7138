// The policy engine: one rule's checks on one image, from the entities the caller collected, and
// the verdict that explains itself (policy_check.h). What counts as a signature and an
// attestation is the Verifier's (verifier.h); what the image as a whole needs is decision.h's
// (decide, consider_attestation, decide_attestations): this file runs them per rule and words
// the result.
#include "libtrust/verify/policy_check.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "libtrust/core/error.h"
#include "libtrust/core/text.h"
#include "libtrust/sig/predicate_type.h"

namespace trust::verify {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

void add_unique(std::vector<std::string>& to, const std::string& item) {
  if (std::find(to.begin(), to.end(), item) == to.end()) to.push_back(item);
}

std::string plural(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// "key release" / "keys release, ci".
std::string keys_phrase(const std::vector<std::string>& names) {
  return (names.size() == 1 ? "key " : "keys ") + joined(names);
}

std::string rule_label(const PolicyRule& rule) {
  return "rule '" + rule.name + "'";
}

// The one-line cause of a rule that checks nothing (accept, reject) or of no rule.
std::string uncheck_cause(const RuleSelection& selection) {
  if (selection.rule == nullptr) return selection.reason;
  if (selection.rule->action == RuleAction::kAccept) {
    return rule_label(*selection.rule) + " accepts every image without checks";
  }
  return rule_label(*selection.rule) + " rejects every image";
}

// The verdict's frame: image, rule, mode and the "rule" step saying why the rule was selected.
PolicyVerdict frame(const RuleSelection& selection, std::string image_name,
                    std::optional<Digest> digest) {
  PolicyVerdict v;
  v.image = std::move(image_name);
  v.digest = std::move(digest);
  TraceStep step{.check = "rule",
                 .subject = {},
                 .passed = selection.rule != nullptr,
                 .reason = selection.reason,
                 .keys = {}};
  if (selection.rule != nullptr) {
    const auto& r = *selection.rule;
    v.rule = r.name;
    v.mode = r.mode;
    step.subject = r.name;
    step.reason +=
        ": action " + std::string(to_string(r.action)) + ", mode " + std::string(to_string(r.mode));
    if (r.action == RuleAction::kVerify) {
      step.reason += ", " + std::to_string(r.threshold) + " of " + keys_phrase(r.keys);
      if (!r.annotations.empty()) step.reason += ", " + plural(r.annotations.size(), "annotation");
      if (!r.attestations.empty()) {
        step.reason += ", " + plural(r.attestations.size(), "required attestation");
      }
    }
  }
  v.trace.push_back(std::move(step));
  return v;
}

// The mode's say once the checks are done: `satisfied` with `cause`; no rule always denies.
void conclude(PolicyVerdict& v, bool has_rule, bool satisfied, std::string cause) {
  v.satisfied = has_rule && satisfied;
  v.allowed = v.satisfied || (has_rule && v.mode != RuleMode::kEnforce);
  v.cause = std::move(cause);
}

PolicyVerdict unchecked(const RuleSelection& selection, std::string image_name,
                        std::optional<Digest> digest) {
  auto v = frame(selection, std::move(image_name), std::move(digest));
  const bool accept = selection.rule != nullptr && selection.rule->action == RuleAction::kAccept;
  conclude(v, selection.rule != nullptr, accept, uncheck_cause(selection));
  return v;
}

// How close an attestation came to counting, for the cause to quote the closest: 3 a verified
// statement of the type whose conditions fail, 2 of another type, 1 signed by a trusted key but
// refused after, 0 no trusted key (or unreadable).
int closeness(const EntityVerdict& v, const AttestationRequirement& requirement) {
  if (v.verified && v.statement &&
      sig::predicate_type_matches(requirement.type, v.statement->predicate_type)) {
    return 3;
  }
  if (v.verified) return 2;
  return v.verified_by.empty() ? 0 : 1;
}

// The order a trace lists entities in: the sources as they were read (each kind comes from one
// source, read one after the other), then by position within a source (which may deliver its
// entities in any order).
struct ReadOrder {
  std::vector<sig::EntityKind> kinds;  // in the order first seen
  void saw(sig::EntityKind kind) {
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
  }
  std::size_t rank(sig::EntityKind kind) const {
    return static_cast<std::size_t>(std::find(kinds.begin(), kinds.end(), kind) - kinds.begin());
  }
  bool operator()(const EntityVerdict& a, const EntityVerdict& b) const {
    const auto ra = rank(a.kind);
    const auto rb = rank(b.kind);
    return ra != rb ? ra < rb : a.index < b.index;
  }
};

std::vector<std::string> names_of(const EntityVerdict& v) {
  std::vector<std::string> out;
  for (const auto& k : v.verified_by) add_unique(out, k.name);
  return out;
}

// Only what the verdict says is kept: no payload, no statement.
void drop_content(EntityVerdict& v) {
  v.payload.reset();
  v.statement.reset();
  v.subject.reset();
}

}  // namespace

std::string_view PolicyVerdict::result() const {
  if (!allowed) return "denied";
  if (satisfied) return "allowed";
  return mode == RuleMode::kAudit ? "audited" : "warned";
}

std::string to_json(const PolicyVerdict& verdict) {
  nlohmann::ordered_json j;
  j["image"] = verdict.image;
  j["digest"] = verdict.digest ? nlohmann::ordered_json(verdict.digest->str()) : nullptr;
  j["rule"] =
      verdict.rule.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(verdict.rule);
  j["mode"] = std::string(to_string(verdict.mode));
  j["result"] = std::string(verdict.result());
  j["allowed"] = verdict.allowed;
  j["satisfied"] = verdict.satisfied;
  j["cause"] = verdict.cause;
  j["keys"] = verdict.keys;
  j["cached"] = verdict.cached;
  auto& trace = j["trace"] = nlohmann::ordered_json::array();
  for (const auto& s : verdict.trace) {
    trace.push_back(nlohmann::ordered_json{{"check", s.check},
                                           {"subject", s.subject},
                                           {"passed", s.passed},
                                           {"reason", s.reason},
                                           {"keys", s.keys}});
  }
  return j.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::ordered_json::error_handler_t::replace);
}

std::vector<std::string> explain_lines(const PolicyVerdict& verdict) {
  std::string image = verdict.image;
  if (verdict.digest && image.find('@') == std::string::npos) image += "@" + verdict.digest->str();
  std::string head = std::string(verdict.result()) + " " + image;
  if (!verdict.rule.empty()) head += " by rule '" + verdict.rule + "'";
  if (verdict.cached) head += " (cached)";
  std::vector<std::string> out{head + ": " + verdict.cause};
  for (const auto& s : verdict.trace) {
    std::string line = std::string(s.passed ? "  pass " : "  FAIL ") + s.check;
    if (!s.subject.empty()) line += " " + s.subject;
    line += ": " + s.reason;
    out.push_back(std::move(line));
  }
  return out;
}

struct RuleCheck::Impl {
  const TrustPolicy* policy = nullptr;
  RuleSelection selection;
  std::string image_name;
  Digest image;
  RuleParts parts = RuleParts::kAll;
  ReadOrder read_order;
  std::shared_ptr<const Verifier> signatures;  // null for a rule that verifies nothing
  Policy annotations;
  std::vector<EntityVerdict> signature_verdicts;

  struct Required {
    const AttestationRequirement* requirement = nullptr;
    std::shared_ptr<const Verifier> verifier;
    std::vector<std::string> key_names;
    std::vector<EntityVerdict> verdicts;
    std::vector<AttestationConsidered> considered;
    std::vector<int> closeness;
    bool met = false;
  };
  std::vector<Required> attestations;

  bool verifies() const { return signatures != nullptr; }

  Decision signature_decision() const {
    return decide(image, signature_verdicts, Requirement{.threshold = selection.rule->threshold});
  }

  bool met() const {
    if (!verifies()) return true;
    if (parts == RuleParts::kAll && !signature_decision().allowed) return false;
    return std::all_of(attestations.begin(), attestations.end(),
                       [](const Required& r) { return r.met; });
  }

  // The policy names of the rule's keys with this key id (a PEM may be named twice).
  std::vector<std::string> names_for(const std::string& key_id) const {
    std::vector<std::string> out;
    for (const auto& n : selection.rule->keys) {
      const auto* k = policy->key(n);
      if (k != nullptr && k->key_id() == key_id) add_unique(out, n);
    }
    return out;
  }

  // The signature part: trace steps, the names that counted, and the cause (why not, or what).
  bool judge_signatures(PolicyVerdict& v, std::vector<std::string>& causes,
                        std::vector<std::string>& passes) const {
    const auto& rule = *selection.rule;
    auto verdicts = signature_verdicts;
    std::stable_sort(verdicts.begin(), verdicts.end(), read_order);
    const auto d = decide(image, verdicts, Requirement{.threshold = rule.threshold});
    std::size_t untrusted = 0;
    const EntityVerdict* refused = nullptr;  // the first signed by a trusted key, yet refused
    for (const auto& e : verdicts) {
      TraceStep s{.check = "signature",
                  .subject = e.origin,
                  .passed = e.verified,
                  .reason = e.reason,
                  .keys = names_of(e)};
      if (e.verified) s.reason = "counts for " + keys_phrase(s.keys);
      v.trace.push_back(std::move(s));
      if (e.verified) continue;
      if (e.verified_by.empty()) {
        ++untrusted;
      } else if (refused == nullptr) {
        refused = &e;
      }
    }
    std::vector<std::string> signed_names;
    for (const auto& id : d.keys) {
      for (const auto& n : names_for(id)) add_unique(signed_names, n);
    }
    std::vector<std::string> missing;
    for (const auto& n : rule.keys) {
      if (std::find(signed_names.begin(), signed_names.end(), n) == signed_names.end()) {
        add_unique(missing, n);
      }
    }
    v.keys = signed_names;
    const std::string counted = std::to_string(d.keys.size());
    const std::string threshold = std::to_string(rule.threshold);
    std::string reason;
    if (d.allowed) {
      reason = "signed by " + joined(signed_names) + " (" + counted +
               (d.keys.size() == rule.threshold ? " of " + threshold
                                                : " keys, " + threshold + " required") +
               ")";
      passes.push_back(reason);
    } else if (d.keys.empty()) {
      reason = "no signature by any of " + keys_phrase(rule.keys);
      if (rule.keys.size() == 1) reason = "no signature by " + keys_phrase(rule.keys);
      if (verdicts.empty()) {
        reason += " (no signatures found)";
      } else if (refused == nullptr) {
        reason += " (found " + plural(verdicts.size(), "signature") + " no trusted key verifies)";
      } else {
        reason += " (found " + plural(verdicts.size(), "signature") + "; " + refused->origin +
                  " by " + joined(names_of(*refused)) + ": " + refused->reason + ")";
      }
      if (rule.threshold > 1) reason += "; " + threshold + " required";
      causes.push_back(reason);
    } else if (rule.threshold == rule.keys.size()) {
      reason = counted + " of " + threshold + " required keys signed; missing: " + joined(missing);
      causes.push_back(reason);
    } else {
      const auto more = rule.threshold - d.keys.size();
      reason = counted + " of " + threshold + " required keys signed (" + joined(signed_names) +
               "); " + std::to_string(more) + " more needed from: " + joined(missing);
      causes.push_back(reason);
    }
    if (!d.allowed && untrusted > 0 && !d.keys.empty()) {
      causes.back() += " (" + std::to_string(untrusted) + " other signature" +
                       (untrusted == 1 ? "" : "s") + " no trusted key verifies)";
    }
    v.trace.push_back(TraceStep{.check = "threshold",
                                .subject = "signatures",
                                .passed = d.allowed,
                                .reason = reason,
                                .keys = signed_names});
    return d.allowed;
  }

  bool judge_attestation_requirement(const Required& r, PolicyVerdict& v,
                                     std::vector<std::string>& causes,
                                     std::vector<std::string>& passes) const {
    const auto& type = r.requirement->type;
    std::vector<std::size_t> order(r.verdicts.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return read_order(r.verdicts[a], r.verdicts[b]);
    });
    std::vector<EntityVerdict> verdicts;
    std::vector<AttestationConsidered> considered;
    for (auto i : order) {
      verdicts.push_back(r.verdicts[i]);
      considered.push_back(r.considered[i]);
    }
    const auto d = decide_attestations(image, verdicts, considered, *r.requirement);
    std::vector<std::string> counted_names;
    std::size_t closest = verdicts.size();
    for (std::size_t k = 0; k < verdicts.size(); ++k) {
      const auto& e = verdicts[k];
      const auto names = names_of(e);
      if (considered[k].counts) {
        for (const auto& n : names) add_unique(counted_names, n);
      } else if (closest == verdicts.size() ||
                 r.closeness[order[k]] > r.closeness[order[closest]]) {
        closest = k;
      }
      v.trace.push_back(TraceStep{.check = "attestation",
                                  .subject = type + " " + e.origin,
                                  .passed = considered[k].counts,
                                  .reason = considered[k].reason,
                                  .keys = names});
    }
    std::string reason;
    if (d.allowed) {
      reason = type + " by " + joined(counted_names);
      passes.push_back(reason);
    } else {
      reason = "no verified " + type + " attestation by " + joined(r.key_names);
      if (!r.requirement->conditions.empty()) {
        reason += " satisfying " + joined(r.requirement->conditions.describe());
      }
      if (verdicts.empty()) {
        reason += " (none found)";
      } else if (verdicts.size() == 1) {
        reason += " (1 considered: " + considered.front().reason + ")";
      } else {
        reason += " (" + std::to_string(verdicts.size()) + " considered; closest, " +
                  verdicts[closest].origin + ": " + considered[closest].reason + ")";
      }
      causes.push_back(reason);
    }
    v.trace.push_back(TraceStep{.check = "requirement",
                                .subject = type,
                                .passed = d.allowed,
                                .reason = reason,
                                .keys = counted_names});
    return d.allowed;
  }
};

RuleCheck::RuleCheck(const TrustPolicy& policy, RuleSelection selection, std::string image_name,
                     const Digest& image, RuleParts parts)
    : impl_(std::make_unique<Impl>()) {
  impl_->policy = &policy;
  impl_->parts = parts;
  impl_->selection = std::move(selection);
  impl_->image_name = std::move(image_name);
  impl_->image = image;
  const auto* rule = impl_->selection.rule;
  if (rule == nullptr || rule->action != RuleAction::kVerify) return;
  impl_->signatures = policy.signature_verifier(*rule);
  impl_->annotations.required_annotations = rule->annotations;
  for (std::size_t i = 0; i < rule->attestations.size(); ++i) {
    Impl::Required r;
    r.requirement = &policy.attestation_requirement(*rule, i);
    r.verifier = policy.attestation_verifier(*rule, i);
    const auto& a = rule->attestations[i];
    r.key_names = a.keys.empty() ? rule->keys : a.keys;
    impl_->attestations.push_back(std::move(r));
  }
}
RuleCheck::~RuleCheck() = default;
RuleCheck::RuleCheck(RuleCheck&&) noexcept = default;
RuleCheck& RuleCheck::operator=(RuleCheck&&) noexcept = default;

sig::EntityKinds RuleCheck::wants() const {
  if (!impl_->verifies()) {
    return sig::EntityKinds{.cosign_signatures = false, .bundles = false, .attestations = false};
  }
  if (impl_->parts == RuleParts::kAttestations) {
    const bool any = !impl_->attestations.empty();
    return sig::EntityKinds{.cosign_signatures = false, .bundles = any, .attestations = any};
  }
  return sig::EntityKinds{
      .cosign_signatures = true, .bundles = true, .attestations = !impl_->attestations.empty()};
}

bool RuleCheck::add(const sig::SignedEntity& entity) {
  auto& m = *impl_;
  if (!m.verifies()) return false;
  m.read_order.saw(entity.kind);
  const bool signature =
      entity.kind == sig::EntityKind::kCosignSignature || entity.kind == sig::EntityKind::kBundle;
  if (signature && m.parts == RuleParts::kAll) {
    auto v = m.signatures->judge(m.image, entity, m.annotations);
    drop_content(v);
    m.signature_verdicts.push_back(std::move(v));
  }
  // A bundle may be a signature or an attestation: judged as both (each purpose has its rules);
  // a .sig layer is never an attestation.
  if (entity.kind != sig::EntityKind::kCosignSignature) {
    for (auto& r : m.attestations) {
      auto v = r.verifier->judge_attestation(m.image, entity);
      auto c = consider_attestation(v, *r.requirement);
      r.closeness.push_back(closeness(v, *r.requirement));
      r.met = r.met || c.counts;
      drop_content(v);
      r.verdicts.push_back(std::move(v));
      r.considered.push_back(std::move(c));
    }
  }
  return !m.met();
}

PolicyVerdict RuleCheck::finish() const {
  const auto& m = *impl_;
  if (!m.verifies()) return unchecked(m.selection, m.image_name, m.image);
  auto v = frame(m.selection, m.image_name, m.image);
  std::vector<std::string> causes;
  std::vector<std::string> passes;
  bool ok = true;
  if (m.parts == RuleParts::kAll) {
    ok = m.judge_signatures(v, causes, passes);
  } else if (m.attestations.empty()) {
    passes.push_back(rule_label(*m.selection.rule) + " requires no attestations");
  }
  for (const auto& r : m.attestations) {
    ok = m.judge_attestation_requirement(r, v, causes, passes) && ok;
  }
  std::string cause;
  for (const auto& c : ok ? passes : causes) cause += (cause.empty() ? "" : "; ") + c;
  conclude(v, true, ok, std::move(cause));
  return v;
}

PolicyVerdict verdict_without_digest(const RuleSelection& selection, std::string image_name,
                                     std::string why) {
  const auto* rule = selection.rule;
  if (rule == nullptr || rule->action != RuleAction::kVerify) {
    auto v = unchecked(selection, std::move(image_name), std::nullopt);
    v.trace.push_back(
        TraceStep{.check = "digest", .subject = {}, .passed = true, .reason = why, .keys = {}});
    return v;
  }
  // A verify rule cannot even be tried without a digest: denied whatever the mode (warn and
  // audit let a failed check through; here nothing could be checked or pinned).
  auto v = frame(selection, std::move(image_name), std::nullopt);
  v.trace.push_back(
      TraceStep{.check = "digest", .subject = {}, .passed = false, .reason = why, .keys = {}});
  conclude(v, true, false, std::move(why));
  v.allowed = false;
  return v;
}

PolicyVerdict verdict_for_error(const RuleSelection& selection, std::string image_name,
                                std::optional<Digest> image, std::string error) {
  auto v = frame(selection, std::move(image_name), std::move(image));
  v.trace.push_back(
      TraceStep{.check = "error", .subject = {}, .passed = false, .reason = error, .keys = {}});
  conclude(v, selection.rule != nullptr, false, std::move(error));
  return v;
}

}  // namespace trust::verify

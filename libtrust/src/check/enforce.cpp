// Enforcement of the trust policy on an image source (enforce.h): the rule selected by name, the
// reference resolved once, the cache consulted, the entities the rule needs collected into the
// engine, a satisfied verdict stored. Every error on the way is a verdict that names it.
#include "libtrust/check/enforce.h"

#include <exception>

#include "check/resolve.h"
#include "libtrust/core/error.h"
#include "libtrust/sig/collect.h"

namespace trust::check {
namespace {

// The "digest" step: what was judged, and how the reference led to it.
verify::TraceStep digest_step(const Reference& ref, const Digest& digest) {
  std::string reason = ref.digest() ? "the digest given is judged (never a tag)"
                                    : "tag " + ref.tag().value_or("latest") +
                                          " resolved once; everything after uses this digest";
  return verify::TraceStep{
      .check = "digest", .subject = digest.str(), .passed = true, .reason = reason, .keys = {}};
}

void insert_after_rule(verify::PolicyVerdict& v, verify::TraceStep step) {
  auto at = v.trace.begin();
  if (at != v.trace.end() && at->check == "rule") ++at;
  v.trace.insert(at, std::move(step));
}

// A fresh satisfied verdict for `digest` under the rule, as this reference asked for it.
std::optional<verify::PolicyVerdict> from_cache(const EnforceOptions& options,
                                                const verify::PolicyRule& rule,
                                                const Reference& ref, const Digest& digest) {
  if (options.cache == nullptr || options.parts != verify::RuleParts::kAll) return std::nullopt;
  auto v = options.cache->lookup(digest, rule);
  if (!v) return std::nullopt;
  v->image = ref.str();
  v->digest = digest;
  v->cached = true;
  return v;
}

}  // namespace

verify::PolicyVerdict enforce(const verify::TrustPolicy& policy, const Reference& ref,
                              oci::ImageSource& source, const EnforceOptions& options,
                              std::string_view repository_name) {
  if (repository_name.empty() && ref.kind() != ReferenceKind::kRegistry) {
    throw UsageError(ref.str() +
                     ": not a registry reference: name the repository its rule is selected by");
  }
  const auto name = repository_name.empty() ? ref.repository_name() : std::string(repository_name);
  const auto selection = policy.select(name);
  const auto* rule = selection.rule;
  if (rule == nullptr || rule->action != verify::RuleAction::kVerify) {
    // Nothing to look at: the image is neither resolved nor fetched.
    auto v = verify::verdict_without_digest(
        selection, ref.str(),
        rule == nullptr ? "not resolved: no rule applies"
                        : "not resolved: rule '" + rule->name + "' does not look at the image");
    v.digest = ref.digest();
    return v;
  }
  std::optional<Digest> digest = ref.digest();
  try {
    // A pinned reference is looked up before anything is fetched.
    if (digest) {
      if (auto hit = from_cache(options, *rule, ref, *digest)) return std::move(*hit);
    }
    const auto image = detail::resolve_checked(source, ref, options.check_blobs);
    digest = image.digest;
    if (!ref.digest()) {
      if (auto hit = from_cache(options, *rule, ref, *digest)) return std::move(*hit);
    }
    verify::RuleCheck check(policy, selection, ref.str(), *digest, options.parts);
    (void)sig::collect_signed_entities(source, *digest, check.wants(),
                                       [&](sig::SignedEntity e) { return check.add(e); });
    auto v = check.finish();
    insert_after_rule(v, digest_step(ref, *digest));
    // Only a verdict on the whole rule is stored: one on its attestations alone says nothing
    // about signatures.
    if (options.cache != nullptr && options.parts == verify::RuleParts::kAll && v.satisfied) {
      (void)options.cache->store(*digest, *rule, v);
    }
    return v;
  } catch (const std::exception& e) {
    // Fail closed: what could not be checked is a failed check, named.
    return verify::verdict_for_error(selection, ref.str(), digest, e.what());
  }
}

}  // namespace trust::check

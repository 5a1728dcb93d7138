// The trust policy's meaning: what build() checks, rule selection by glob, the verifiers a rule
// trusts, and the digests the verified-digest cache is keyed by. Reading the file (YAML or JSON)
// is trust_policy_file.cpp's.
#include "libtrust/verify/trust_policy.h"

#include <re2/re2.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"

namespace trust::verify {

std::string_view to_string(RuleAction action) {
  switch (action) {
    case RuleAction::kVerify:
      return "verify";
    case RuleAction::kAccept:
      return "accept";
    case RuleAction::kReject:
      return "reject";
  }
  return "verify";
}

std::string_view to_string(UnknownKinds unknown_kinds) {
  return unknown_kinds == UnknownKinds::kAllow ? "allow" : "deny";
}

std::string_view to_string(RuleMode mode) {
  switch (mode) {
    case RuleMode::kEnforce:
      return "enforce";
    case RuleMode::kWarn:
      return "warn";
    case RuleMode::kAudit:
      return "audit";
  }
  return "enforce";
}

namespace {

constexpr std::size_t kMaxGlobLength = 512;

bool has_wildcard(std::string_view s) {
  return s.find_first_of("*?") != std::string_view::npos;
}

std::vector<std::string_view> segments(std::string_view glob) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    auto slash = glob.find('/', start);
    out.push_back(glob.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

// The glob as an RE2 pattern matched in full: `*` and `?` within a segment, a `**` segment any
// number of segments (at least one at the end, so "a/**" does not match "a").
std::string glob_pattern(std::string_view glob) {
  const auto segs = segments(glob);
  std::string out;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const bool last = i + 1 == segs.size();
    if (segs[i] == "**") {
      if (segs.size() == 1) return ".+";
      // Leading or inner: zero or more "seg/"; trailing: one or more "/seg".
      if (last) {
        out += "(/[^/]+)+";
      } else {
        out += i == 0 ? "([^/]+/)*" : "/([^/]+/)*";
      }
      continue;
    }
    if (i > 0 && segs[i - 1] != "**") out += "/";
    for (char c : segs[i]) {
      if (c == '*') {
        out += "[^/]*";
      } else if (c == '?') {
        out += "[^/]";
      } else {
        out += RE2::QuoteMeta(std::string(1, c));
      }
    }
  }
  return out;
}

// How specific a glob is, greater first: an exact name, then literal characters, then fewer
// `**`, then fewer `*` and `?`.
using Specificity = std::tuple<bool, std::size_t, long, long>;
Specificity specificity(std::string_view glob) {
  std::size_t literal = 0;
  long doubles = 0;
  long singles = 0;
  for (auto s : segments(glob)) {
    if (s == "**") {
      ++doubles;
      continue;
    }
    for (char c : s) {
      if (c == '*' || c == '?') {
        ++singles;
      } else {
        ++literal;
      }
    }
  }
  return {!has_wildcard(glob), literal, -doubles, -singles};
}

std::string sha256_of(const std::string& text) {
  return Digest::of(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()))
      .str();
}

std::string position_text(const std::string& source, const SourcePosition& at) {
  if (at.line == 0) return source;
  return source + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
}

std::string names_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::optional<std::string> glob_problem(std::string_view glob) {
  if (glob.empty()) return "an empty glob matches nothing";
  if (glob.size() > kMaxGlobLength) {
    return "a glob of " + std::to_string(glob.size()) + " characters (at most " +
           std::to_string(kMaxGlobLength) + ")";
  }
  if (glob.find("://") != std::string_view::npos) {
    return "'" + std::string(glob) + "': a glob is a repository name, without a scheme";
  }
  if (glob.find('@') != std::string_view::npos) {
    return "'" + std::string(glob) +
           "': globs match the repository name, never a digest (rules are chosen by repository)";
  }
  const auto segs = segments(glob);
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const auto s = segs[i];
    if (s.empty()) return "'" + std::string(glob) + "' has an empty path segment";
    if (s == "**" && i > 0 && segs[i - 1] == "**") {
      return "'" + std::string(glob) + "': '**/**' says no more than '**'";
    }
    if (s.find("**") != std::string_view::npos && s != "**") {
      return "'" + std::string(glob) + "': '**' must be a whole path segment ('a/**/b')";
    }
    for (char c : s) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                      c == '_' || c == '*' || c == '?' || (c == ':' && i == 0);
      if (ok) continue;
      if (c == ':') {
        return "'" + std::string(glob) +
               "': globs match the repository name, never a tag (a tag is mutable and must not "
               "choose the rule)";
      }
      if (c >= 'A' && c <= 'Z') {
        return "'" + std::string(glob) + "': repository names are lowercase";
      }
      return "'" + std::string(glob) + "': character '" + std::string(1, c) +
             "' is not allowed (globs use *, ? and ** over a repository name)";
    }
  }
  if (segs.size() == 1 && segs[0] != "**") {
    return "'" + std::string(glob) +
           "' names no repository: write the registry host and the path "
           "(docker.io/library/" +
           std::string(glob) + ")";
  }
  const auto host = segs[0];
  const bool host_like = host == "**" || has_wildcard(host) || host == "localhost" ||
                         host.find('.') != std::string_view::npos ||
                         host.find(':') != std::string_view::npos;
  if (!host_like) {
    return "'" + std::string(glob) + "' starts with '" + std::string(host) +
           "', not a registry host: write the host (docker.io/" + std::string(glob) + ")";
  }
  return std::nullopt;
}

bool glob_matches(std::string_view glob, std::string_view repository_name) {
  RE2 re(glob_pattern(glob));
  return re.ok() && RE2::FullMatch(repository_name, re);
}

namespace {

// What build() derived from one rule.
struct RuleData {
  std::vector<std::unique_ptr<RE2>> globs;  // by match position
  std::string digest;
  std::shared_ptr<const Verifier> signatures;
  std::vector<std::shared_ptr<const Verifier>> attestations;
  std::vector<AttestationRequirement> requirements;
};

}  // namespace

struct TrustPolicy::Impl {
  PolicyDocument doc;
  std::vector<RuleData> rules;  // by rule position
  RuleData default_data;
  std::string content_digest;

  const RuleData& data(const PolicyRule& rule) const {
    if (doc.default_rule && &rule == &*doc.default_rule) return default_data;
    const auto* first = doc.rules.data();
    if (&rule < first || &rule >= first + doc.rules.size()) {
      throw UsageError("rule '" + rule.name + "' is not one of this policy's rules");
    }
    return rules[static_cast<std::size_t>(&rule - first)];
  }
};

TrustPolicy::TrustPolicy(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

namespace {

struct Builder {
  const PolicyDocument& doc;

  [[noreturn]] void fail(const SourcePosition& at, const std::string& field,
                         const std::string& what) const {
    throw InputError(position_text(doc.source, at) + ": " + field + ": " + what);
  }

  SourcePosition at(const PolicyRule& rule, const std::string& field) const {
    auto it = rule.field_at.find(field);
    return it == rule.field_at.end() ? rule.at : it->second;
  }

  const PolicyKey& key(const PolicyRule& rule, const std::string& field,
                       const std::string& name) const {
    for (const auto& k : doc.keys) {
      if (k.name == name) return k;
    }
    std::vector<std::string> known;
    for (const auto& k : doc.keys) known.push_back(k.name);
    fail(at(rule, field), field,
         "no key named '" + name + "' (the policy's keys: " +
             (known.empty() ? std::string("none") : names_list(known)) + ")");
  }

  std::shared_ptr<const Verifier> verifier(const PolicyRule& rule, const std::string& field,
                                           const std::vector<std::string>& names) const {
    auto keys = std::make_shared<FixedKeys>();
    for (const auto& n : names) keys->add(n, key(rule, field, n).key);
    return std::make_shared<const Verifier>(std::move(keys));
  }

  std::string rule_digest(const PolicyRule& rule) const {
    auto ids = [&](const std::vector<std::string>& names) {
      std::vector<std::string> out;
      for (const auto& n : names) {
        for (const auto& k : doc.keys) {
          if (k.name == n) out.push_back(k.key_id());
        }
      }
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
      return out;
    };
    nlohmann::json j;
    j["action"] = std::string(to_string(rule.action));
    j["mode"] = std::string(to_string(rule.mode));
    j["threshold"] = rule.threshold;
    j["keys"] = ids(rule.keys);
    j["annotations"] = rule.annotations;
    j["attestations"] = nlohmann::json::array();
    for (const auto& a : rule.attestations) {
      j["attestations"].push_back(
          {{"type", a.type},
           {"keys", ids(a.keys.empty() ? rule.keys : a.keys)},
           {"where", a.where},
           {"maxSeverity",
            a.max_severity ? std::string(verify::to_string(*a.max_severity)) : std::string()}});
    }
    return sha256_of(j.dump());
  }

  RuleData rule_data(const PolicyRule& rule, const std::string& field) const {
    RuleData d;
    if (rule.name.empty()) fail(rule.at, field + ".name", "a rule needs a name");
    for (std::size_t i = 0; i < rule.match.size(); ++i) {
      const auto f = "match[" + std::to_string(i) + "]";
      if (auto problem = glob_problem(rule.match[i])) fail(at(rule, f), field + "." + f, *problem);
      d.globs.push_back(std::make_unique<RE2>(glob_pattern(rule.match[i])));
    }
    const bool verifies = rule.action == RuleAction::kVerify;
    if (!verifies) {
      for (const char* f : {"keys", "threshold", "annotations", "attestations"}) {
        const bool given = rule.field_at.count(f) != 0 ||
                           (std::string_view(f) == "keys" && !rule.keys.empty()) ||
                           (std::string_view(f) == "annotations" && !rule.annotations.empty()) ||
                           (std::string_view(f) == "attestations" && !rule.attestations.empty());
        if (given) {
          fail(at(rule, f), field + "." + f,
               "a rule with action " + std::string(to_string(rule.action)) +
                   " checks nothing: remove it (or use action verify)");
        }
      }
    } else {
      if (rule.keys.empty()) {
        fail(at(rule, "keys"), field + ".keys",
             "a rule with action verify needs at least one key (action accept allows without "
             "checks)");
      }
      std::vector<std::string> ids;
      for (const auto& n : rule.keys) {
        const auto id = key(rule, "keys", n).key_id();
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
      }
      if (rule.threshold == 0) {
        fail(at(rule, "threshold"), field + ".threshold", "0 would require nothing: at least 1");
      }
      if (rule.threshold > ids.size()) {
        fail(at(rule, "threshold"), field + ".threshold",
             std::to_string(rule.threshold) + " is more than the " + std::to_string(ids.size()) +
                 " distinct key(s) the rule names (" + names_list(rule.keys) +
                 "): it can never be met");
      }
      for (const auto& [k, v] : rule.annotations) {
        if (k.empty()) fail(at(rule, "annotations"), field + ".annotations", "an empty name");
      }
      d.signatures = verifier(rule, field + ".keys", rule.keys);
      for (std::size_t i = 0; i < rule.attestations.size(); ++i) {
        const auto& a = rule.attestations[i];
        const auto f = field + ".attestations[" + std::to_string(i) + "]";
        AttestationRequirement req;
        req.type = a.type;
        try {
          req.validate();
          req.conditions = PredicateConditions::parse(a.where, a.max_severity);
        } catch (const Error& e) {
          fail(a.at, f, e.what());
        }
        d.requirements.push_back(std::move(req));
        d.attestations.push_back(verifier(rule, f + ".keys", a.keys.empty() ? rule.keys : a.keys));
      }
    }
    d.digest = rule_digest(rule);
    return d;
  }
};

}  // namespace

TrustPolicy TrustPolicy::build(PolicyDocument document) {
  if (document.source.empty()) document.source = "policy";
  auto impl = std::make_shared<Impl>();
  impl->doc = std::move(document);
  const auto& doc = impl->doc;
  Builder b{doc};
  for (std::size_t i = 0; i < doc.keys.size(); ++i) {
    const auto& k = doc.keys[i];
    if (k.name.empty()) b.fail(k.at, "keys", "a key needs a name");
    for (std::size_t j = 0; j < i; ++j) {
      if (doc.keys[j].name == k.name) {
        b.fail(k.at, "keys." + k.name,
               "key '" + k.name + "' is defined twice (first at " +
                   position_text(doc.source, doc.keys[j].at) + ")");
      }
    }
  }
  std::vector<std::pair<std::string, const PolicyRule*>> globs;
  for (std::size_t i = 0; i < doc.rules.size(); ++i) {
    const auto& r = doc.rules[i];
    const auto field = "rules[" + std::to_string(i) + "]";
    if (r.match.empty()) b.fail(b.at(r, "match"), field + ".match", "a rule needs a glob to match");
    for (std::size_t j = 0; j < i; ++j) {
      if (doc.rules[j].name == r.name) {
        b.fail(b.at(r, "name"), field + ".name",
               "rule '" + r.name + "' is defined twice (first at " +
                   position_text(doc.source, doc.rules[j].at) + ")");
      }
    }
    for (std::size_t m = 0; m < r.match.size(); ++m) {
      for (const auto& [g, other] : globs) {
        if (g == r.match[m]) {
          const auto f = "match[" + std::to_string(m) + "]";
          b.fail(b.at(r, f), field + "." + f,
                 "glob '" + g + "' is already matched by rule '" + other->name +
                     "' (a duplicate rule: which one applies would be a guess)");
        }
      }
      globs.emplace_back(r.match[m], &r);
    }
    impl->rules.push_back(b.rule_data(r, field));
  }
  if (doc.default_rule) {
    const auto& d = *doc.default_rule;
    if (!d.match.empty()) {
      b.fail(b.at(d, "match"), "default.match",
             "the default rule applies where no glob matches: it has no globs");
    }
    for (std::size_t i = 0; i < doc.rules.size(); ++i) {
      const auto& r = doc.rules[i];
      if (r.name == d.name) {
        b.fail(b.at(r, "name"), "rules[" + std::to_string(i) + "].name",
               "rule '" + r.name + "' has the default rule's name");
      }
    }
    impl->default_data = b.rule_data(d, "default");
  }
  if (!doc.content_digest.empty()) {
    impl->content_digest = doc.content_digest;
  } else {
    // Built in code: the digest of what the document means, rule by rule.
    nlohmann::json j = nlohmann::json::array();
    for (const auto& k : doc.keys) j.push_back({k.name, k.key_id()});
    for (std::size_t i = 0; i < doc.rules.size(); ++i) {
      j.push_back({doc.rules[i].name, doc.rules[i].match, impl->rules[i].digest});
    }
    if (doc.default_rule) j.push_back({doc.default_rule->name, impl->default_data.digest});
    impl->content_digest = sha256_of(j.dump());
  }
  return TrustPolicy(std::move(impl));
}

const std::string& TrustPolicy::source() const {
  return impl_->doc.source;
}
std::span<const PolicyKey> TrustPolicy::keys() const {
  return impl_->doc.keys;
}
std::span<const PolicyRule> TrustPolicy::rules() const {
  return impl_->doc.rules;
}
const AdmissionSettings& TrustPolicy::admission() const {
  return impl_->doc.admission;
}
const PolicyRule* TrustPolicy::default_rule() const {
  return impl_->doc.default_rule ? &*impl_->doc.default_rule : nullptr;
}
const PolicyKey* TrustPolicy::key(std::string_view name) const {
  for (const auto& k : impl_->doc.keys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}
std::span<const std::filesystem::path> TrustPolicy::files() const {
  return impl_->doc.files;
}
const std::string& TrustPolicy::content_digest() const {
  return impl_->content_digest;
}
const std::string& TrustPolicy::rule_digest(const PolicyRule& rule) const {
  return impl_->data(rule).digest;
}
std::shared_ptr<const Verifier> TrustPolicy::signature_verifier(const PolicyRule& rule) const {
  return impl_->data(rule).signatures;
}
std::shared_ptr<const Verifier> TrustPolicy::attestation_verifier(const PolicyRule& rule,
                                                                  std::size_t attestation) const {
  const auto& d = impl_->data(rule);
  if (attestation >= d.attestations.size()) {
    throw UsageError("rule '" + rule.name + "' has no attestation " + std::to_string(attestation));
  }
  return d.attestations[attestation];
}
const AttestationRequirement& TrustPolicy::attestation_requirement(const PolicyRule& rule,
                                                                   std::size_t attestation) const {
  const auto& d = impl_->data(rule);
  if (attestation >= d.requirements.size()) {
    throw UsageError("rule '" + rule.name + "' has no attestation " + std::to_string(attestation));
  }
  return d.requirements[attestation];
}

RuleSelection TrustPolicy::select(std::string_view repository_name) const {
  // Host names are case-insensitive (REGISTRY.example.com is the same registry), and globs are
  // lowercase: the host is compared lowercased, so that no spelling of it escapes its rule.
  std::string name(repository_name);
  for (std::size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
    if (name[i] >= 'A' && name[i] <= 'Z') name[i] = static_cast<char>(name[i] - 'A' + 'a');
  }
  repository_name = name;
  RuleSelection out;
  std::optional<Specificity> best;
  std::size_t matching = 0;
  std::size_t tied = 0;
  const auto& rules = impl_->doc.rules;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    for (std::size_t m = 0; m < rules[i].match.size(); ++m) {
      if (!RE2::FullMatch(repository_name, *impl_->rules[i].globs[m])) continue;
      ++matching;
      const auto s = specificity(rules[i].match[m]);
      if (best && s == *best) ++tied;
      if (!best || s > *best) {
        best = s;
        tied = 0;
        out.rule = &rules[i];
        out.glob = rules[i].match[m];
      }
    }
  }
  if (out.rule != nullptr) {
    out.reason = "rule '" + out.rule->name + "' (glob " + out.glob;
    if (matching > 1) {
      out.reason += "; most specific of " + std::to_string(matching) + " matching";
      if (tied > 0) out.reason += ", written first of " + std::to_string(tied + 1) + " as specific";
    }
    out.reason += ")";
  } else if (const auto* d = default_rule()) {
    out.rule = d;
    out.reason = "the default rule (no glob matched " + std::string(repository_name) + ")";
  } else {
    out.reason =
        "no rule matched " + std::string(repository_name) + " and the policy has no default";
  }
  return out;
}

}  // namespace trust::verify

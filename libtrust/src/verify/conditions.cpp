// Conditions on a verified predicate (verify/conditions.h): RFC 6901 pointers through
// nlohmann::json_pointer, RE2 full matches compiled once in parse(), and the severity ceiling over
// Trivy-style results. Evaluating never throws for what the predicate holds: a condition that
// cannot be decided on it fails (fail closed).
#include "libtrust/verify/conditions.h"

#include <re2/re2.h>

#include <array>
#include <cctype>

#include "core/json_util.h"
#include "libtrust/core/error.h"
#include "libtrust/core/text.h"
#include "libtrust/sig/dsse.h"

namespace trust::verify {

namespace {

using detail::Json;

constexpr std::array<std::string_view, 5> kSeverityNames = {"UNKNOWN", "LOW", "MEDIUM", "HIGH",
                                                            "CRITICAL"};
// Findings named in a failing severity reason, so that it stays one readable line.
constexpr std::size_t kMaxFindingsNamed = 3;

std::string in_quotes(std::string_view s) {
  return "'" + excerpt(s) + "'";
}

std::optional<Severity> severity_of(std::string_view level) {
  for (std::size_t i = 0; i < kSeverityNames.size(); ++i) {
    const auto name = kSeverityNames[i];
    if (level.size() == name.size() &&
        std::equal(level.begin(), level.end(), name.begin(), [](char a, char b) {
          return std::toupper(static_cast<unsigned char>(a)) == b;
        })) {
      return static_cast<Severity>(i);
    }
  }
  return std::nullopt;
}

std::string levels() {
  std::string out;
  for (const auto name : kSeverityNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// The text a scalar compares as: a string as it is, anything else as its JSON text.
std::string scalar_text(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// The value `pointer` points at, or null when it points at nothing (a missing key, an index past
// the end or not a number, "-", a step into a scalar).
const Json* resolve(const Json& doc, const Json::json_pointer& pointer) {
  try {
    return &doc.at(pointer);
  } catch (const Json::exception&) {
    return nullptr;
  }
}

}  // namespace

std::string_view to_string(Severity s) {
  return kSeverityNames.at(static_cast<std::size_t>(s));
}

Severity parse_severity(std::string_view level) {
  if (auto s = severity_of(level)) return *s;
  throw UsageError("unknown severity " + in_quotes(level) + ": the levels are " + levels());
}

// One --where condition, parsed (named, not anonymous: Impl holds it).
struct WhereCondition {
  enum class Op { kEquals, kMatches };
  std::string given;
  std::string pointer_text;
  Json::json_pointer pointer;
  Op op = Op::kEquals;
  std::string value;                 // kEquals: the text compared
  std::shared_ptr<const RE2> regex;  // kMatches: compiled once
};

struct PredicateConditions::Impl {
  std::vector<WhereCondition> conditions;
  std::optional<Severity> max_severity;
};

namespace {

WhereCondition parse_condition(const std::string& given) {
  const std::string name = "condition " + in_quotes(given);
  const auto eq = given.find('=');
  if (eq == std::string::npos) {
    throw UsageError(name + ": no operator: expected POINTER=VALUE or POINTER~=REGEX");
  }
  WhereCondition c;
  c.given = given;
  // "~" in a valid pointer is always followed by '0' or '1', so "~=" can only be the operator.
  const bool regex = eq > 0 && given[eq - 1] == '~';
  c.pointer_text = given.substr(0, regex ? eq - 1 : eq);
  c.op = regex ? WhereCondition::Op::kMatches : WhereCondition::Op::kEquals;
  c.value = given.substr(eq + 1);
  try {
    c.pointer = Json::json_pointer(c.pointer_text);
  } catch (const Json::exception& e) {
    // nlohmann's message is "[json.exception.parse_error.NNN] parse error[ at byte N]: <why>".
    std::string_view why = e.what();
    if (auto bracket = why.find("] "); bracket != std::string_view::npos) {
      why.remove_prefix(bracket + 2);
    }
    if (why.starts_with("parse error")) {
      if (auto colon = why.find(": "); colon != std::string_view::npos)
        why.remove_prefix(colon + 2);
    }
    throw UsageError(name + ": malformed JSON pointer " + in_quotes(c.pointer_text) + ": " +
                     std::string(why));
  }
  if (regex) {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const RE2>(c.value, options);
    if (!re->ok()) {
      throw UsageError(name + ": invalid regular expression " + in_quotes(c.value) + ": " +
                       re->error());
    }
    c.regex = std::move(re);
  }
  return c;
}

std::string pointer_name(const WhereCondition& c) {
  return c.pointer_text.empty() ? std::string("the predicate") : excerpt(c.pointer_text);
}

ConditionResult evaluate_one(const WhereCondition& c, const Json& doc) {
  ConditionResult r{.condition = c.given, .holds = false, .reason = {}};
  const Json* v = resolve(doc, c.pointer);
  if (v == nullptr) {
    r.reason = pointer_name(c) + " points at nothing";
    return r;
  }
  if (c.op == WhereCondition::Op::kEquals) {
    if (v->is_object() || v->is_array()) {
      r.reason = pointer_name(c) + " is " + std::string(detail::json_type_name(*v)) +
                 ", which never equals a value";
      return r;
    }
    const std::string text = scalar_text(*v);
    r.holds = text == c.value;
    r.reason =
        pointer_name(c) + " is " + in_quotes(text) + (r.holds ? "" : ", not " + in_quotes(c.value));
    return r;
  }
  if (!v->is_string()) {
    r.reason =
        pointer_name(c) + " is " + std::string(detail::json_type_name(*v)) + ", not a string";
    return r;
  }
  const auto& text = v->get_ref<const std::string&>();
  r.holds = RE2::FullMatch(text, *c.regex);
  r.reason = pointer_name(c) + " is " + in_quotes(text) +
             (r.holds ? ", which matches " : ", which does not match ") +
             in_quotes(c.regex->pattern());
  return r;
}

// The Trivy-style report in `doc`: cosign's vuln predicate's scanner.result, else the predicate
// itself; null when neither has a Results array.
const Json* trivy_results(const Json& doc) {
  const Json* report = &doc;
  if (doc.is_object()) {
    if (auto s = doc.find("scanner"); s != doc.end() && s->is_object()) {
      if (auto res = s->find("result"); res != s->end() && res->is_object()) report = &*res;
    }
  }
  if (!report->is_object()) return nullptr;
  auto results = report->find("Results");
  if (results == report->end() || !results->is_array()) return nullptr;
  return &*results;
}

ConditionResult evaluate_severity(Severity max, const Json& doc) {
  ConditionResult r{
      .condition = "max severity " + std::string(to_string(max)), .holds = false, .reason = {}};
  const Json* results = trivy_results(doc);
  if (results == nullptr) {
    r.reason = "no vulnerability results (scanner.result.Results or Results) in the predicate";
    return r;
  }
  std::size_t findings = 0;
  std::size_t above = 0;
  std::string named;
  std::optional<Severity> highest;
  for (std::size_t i = 0; i < results->size(); ++i) {
    const Json& result = (*results)[i];
    const std::string at = "Results/" + std::to_string(i);
    if (!result.is_object()) {
      r.reason = at + " is " + std::string(detail::json_type_name(result)) + ", not an object";
      return r;
    }
    auto vulns = result.find("Vulnerabilities");
    if (vulns == result.end() || vulns->is_null()) continue;  // Trivy omits it when none found
    if (!vulns->is_array()) {
      r.reason = at + "/Vulnerabilities is " + std::string(detail::json_type_name(*vulns)) +
                 ", not an array";
      return r;
    }
    for (std::size_t j = 0; j < vulns->size(); ++j) {
      const Json& vuln = (*vulns)[j];
      const std::string vat = at + "/Vulnerabilities/" + std::to_string(j);
      auto sev = vuln.is_object() ? vuln.find("Severity") : vuln.end();
      if (!vuln.is_object() || sev == vuln.end() || !sev->is_string()) {
        r.reason = vat + " has no Severity";
        return r;
      }
      const auto level = severity_of(sev->get_ref<const std::string&>());
      std::string id = "finding " + std::to_string(findings + 1);
      if (auto v = vuln.find("VulnerabilityID"); v != vuln.end() && v->is_string()) {
        id = excerpt(v->get_ref<const std::string&>(), 64);
      }
      if (!level) {
        r.reason = vat + " (" + id + ") has severity " +
                   in_quotes(sev->get_ref<const std::string&>()) + ", which is none of " + levels();
        return r;
      }
      ++findings;
      if (!highest || *level > *highest) highest = level;
      if (*level > max) {
        if (above < kMaxFindingsNamed) {
          named += (above == 0 ? "" : ", ") + id + " (" + std::string(to_string(*level)) + ")";
        }
        ++above;
      }
    }
  }
  if (above > 0) {
    r.reason = std::to_string(above) + (above == 1 ? " finding" : " findings") + " above " +
               std::string(to_string(max)) + ": " + named +
               (above > kMaxFindingsNamed ? ", …" : "");
    return r;
  }
  r.holds = true;
  r.reason = "no finding above " + std::string(to_string(max)) + " (" + std::to_string(findings) +
             (findings == 1 ? " finding" : " findings") +
             (highest ? ", highest " + std::string(to_string(*highest)) : std::string()) + ")";
  return r;
}

}  // namespace

PredicateConditions::PredicateConditions() : impl_(std::make_shared<const Impl>()) {}

PredicateConditions PredicateConditions::parse(std::span<const std::string> where,
                                               std::optional<Severity> max_severity) {
  auto impl = std::make_shared<Impl>();
  for (const auto& w : where) impl->conditions.push_back(parse_condition(w));
  impl->max_severity = max_severity;
  PredicateConditions out;
  out.impl_ = std::move(impl);
  return out;
}

bool PredicateConditions::empty() const {
  return size() == 0;
}
std::size_t PredicateConditions::size() const {
  return impl_->conditions.size() + (impl_->max_severity ? 1 : 0);
}
std::vector<std::string> PredicateConditions::describe() const {
  std::vector<std::string> out;
  for (const auto& c : impl_->conditions) out.push_back(c.given);
  if (impl_->max_severity)
    out.push_back("max severity " + std::string(to_string(*impl_->max_severity)));
  return out;
}

std::vector<ConditionResult> PredicateConditions::evaluate(std::string_view predicate_json) const {
  std::vector<ConditionResult> out;
  Json doc;
  std::string not_json;
  try {
    // The predicate of a verified statement: it came out of an envelope of at most this size.
    doc = detail::parse_json(predicate_json, "predicate", sig::kMaxDsseEnvelopeBytes);
  } catch (const Error& e) {
    not_json = e.what();
  }
  if (!not_json.empty()) {
    for (auto& given : describe()) {
      out.push_back(ConditionResult{
          .condition = std::move(given), .holds = false, .reason = excerpt(not_json, 200)});
    }
    return out;
  }
  for (const auto& c : impl_->conditions) out.push_back(evaluate_one(c, doc));
  if (impl_->max_severity) out.push_back(evaluate_severity(*impl_->max_severity, doc));
  return out;
}

}  // namespace trust::verify

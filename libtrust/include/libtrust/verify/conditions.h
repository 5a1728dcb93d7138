#pragma once
// Conditions on a verified attestation's predicate, as `verify-attestation --where` and
// `--max-severity` take them (and, later, a policy rule's `where`). Each condition holds or not;
// all must hold. They are evaluated only on a predicate taken from a statement whose signature
// verified.
//   POINTER=VALUE   the JSON value at POINTER (RFC 6901) equals VALUE: a string as it is, a number,
//                   boolean or null as its JSON text; an object or array never equals
//   POINTER~=REGEX  the value is a string that REGEX (RE2 syntax) matches in full (anchored at both
//                   ends, so "https://github.com/org/.*" cannot match
//                   "https://evil.example/?https://github.com/org/x")
//   max severity    no vulnerability finding above LEVEL (UNKNOWN < LOW < MEDIUM < HIGH <
//                   CRITICAL): in cosign's vuln predicate the report under scanner.result, or
//                   Trivy-style Results[].Vulnerabilities[].Severity in the predicate itself. A
//                   predicate with no such results, or a severity that is none of these, fails
//                   (fail closed).
// A pointer that points at nothing fails its condition (it is not an error).

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/export.h"

namespace trust::verify {

enum class Severity { kUnknown, kLow, kMedium, kHigh, kCritical };
// "UNKNOWN" … "CRITICAL".
TRUST_API std::string_view to_string(Severity s);
// Case-insensitive; UsageError listing the levels otherwise.
TRUST_API Severity parse_severity(std::string_view level);

struct ConditionResult {
  std::string condition;  // as given: "/builder/id=https://…", "max severity HIGH"
  bool holds = false;
  std::string reason;  // one line: "/runDetails/builder/id is 'x', not 'y'", "points at nothing"
};

class TRUST_API PredicateConditions {
 public:
  PredicateConditions();  // no condition: every predicate satisfies it

  // Each of `where` is "POINTER=VALUE" or "POINTER~=REGEX" (the first "~=" or "=" after the
  // pointer splits it; a pointer is empty or starts with "/", its "~" escapes are "~0" and "~1").
  // Throws UsageError naming the condition: a malformed pointer, an invalid regex, no operator.
  static PredicateConditions parse(std::span<const std::string> where,
                                   std::optional<Severity> max_severity = std::nullopt);

  bool empty() const;
  std::size_t size() const;
  // The conditions as given, for explanations ("/a=b", "max severity HIGH").
  std::vector<std::string> describe() const;

  // Every condition evaluated on `predicate_json` (the predicate of a verified statement, compact
  // JSON text), in the order given. Never throws for what the predicate holds: a predicate that is
  // not JSON fails every condition.
  std::vector<ConditionResult> evaluate(std::string_view predicate_json) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace trust::verify

// Placeholder until predicate conditions land (issue 9, item 3): every condition fails.
#include "libtrust/verify/conditions.h"

#include "libtrust/core/error.h"

namespace trust::verify {

struct PredicateConditions::Impl {
  std::vector<std::string> given;
};

std::string_view to_string(Severity) {
  return "UNKNOWN";
}

Severity parse_severity(std::string_view) {
  throw UnsupportedError("--max-severity is not built yet");
}

PredicateConditions::PredicateConditions() : impl_(std::make_shared<const Impl>()) {}

PredicateConditions PredicateConditions::parse(std::span<const std::string> where,
                                               std::optional<Severity> max_severity) {
  if (!where.empty() || max_severity) throw UnsupportedError("--where is not built yet");
  return PredicateConditions();
}

bool PredicateConditions::empty() const {
  return impl_->given.empty();
}
std::size_t PredicateConditions::size() const {
  return impl_->given.size();
}
std::vector<std::string> PredicateConditions::describe() const {
  return impl_->given;
}

std::vector<ConditionResult> PredicateConditions::evaluate(std::string_view) const {
  std::vector<ConditionResult> out;
  for (const auto& g : impl_->given) {
    out.push_back(ConditionResult{.condition = g, .holds = false, .reason = "not built yet"});
  }
  return out;
}

}  // namespace trust::verify

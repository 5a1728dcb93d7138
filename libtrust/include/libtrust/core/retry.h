#pragma once
// Read-modify-write against a store that other writers may change at the same time (a registry
// tag that several CI jobs sign at once): run `attempt` until it reports that its write survived,
// sleeping a jittered, growing delay between attempts. Bounded; past the bound an IoError naming
// `what` says how many attempts were made.

#include <functional>
#include <string>

#include "libtrust/export.h"

namespace trust {

inline constexpr int kMaxMergeAttempts = 8;

// `attempt` returns true when done (its change is in place), false to try again. Exceptions
// propagate at once.
TRUST_API void retry_until_stable(const std::string& what, const std::function<bool()>& attempt,
                                  int max_attempts = kMaxMergeAttempts);

}  // namespace trust

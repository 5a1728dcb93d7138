#include "libtrust/core/limits.h"

#include <string>

#include "libtrust/core/error.h"

namespace trust::limits {

void check(std::uint64_t value, std::uint64_t limit, std::string_view what, std::string_view noun) {
  if (value <= limit) return;
  throw LimitError(std::string(what) + ": " + std::to_string(value) + " " + std::string(noun) +
                   " is over the limit of " + std::to_string(limit));
}

}  // namespace trust::limits

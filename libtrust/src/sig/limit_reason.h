#pragma once
// Private to libtrust/sig: a limit that makes one signed entity invalid without failing the whole
// read. The entity is reported with this reason (a verdict), its bytes never read.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"

namespace trust::sig {

// limits::check's message when `value` is over `limit` (the one limit check, its wording
// included), nullopt when it is within.
inline std::optional<std::string> over_limit(std::uint64_t value, std::uint64_t limit,
                                             std::string_view what, std::string_view noun) {
  try {
    limits::check(value, limit, what, noun);
  } catch (const LimitError& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace trust::sig

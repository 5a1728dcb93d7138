#pragma once
// Private: what predicates.cpp and provenance.cpp share.

#include <string_view>

namespace trust::detail {

// True for an RFC 3339 date-time as Go's time.RFC3339 parses it: "2024-05-01T12:34:56Z",
// optional fractional seconds, "Z" or a "+hh:mm" / "-hh:mm" offset; upper-case T and Z.
bool is_rfc3339(std::string_view s);

}  // namespace trust::detail

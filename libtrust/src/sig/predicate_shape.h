#pragma once
// Private: what predicates.cpp and provenance.cpp share.

#include <string>
#include <string_view>

namespace trust::detail {

// True for an RFC 3339 date-time as Go's time.RFC3339 parses it: "2024-05-01T12:34:56Z",
// optional fractional seconds, "Z" or a "+hh:mm" / "-hh:mm" offset; upper-case T and Z.
bool is_rfc3339(std::string_view s);

// `now` as given, checked to be RFC 3339 (UsageError otherwise), or the current time in UTC to
// the second ("2024-05-01T12:34:56Z") when it is empty.
std::string time_or_now(std::string_view now);

}  // namespace trust::detail

#pragma once
// Text that came from outside (an image, a registry, a key file) on its way to a person or a log.
// One place decides how such strings are shown:
//  - printable(): what a terminal receives. Control characters (C0, DEL, C1), Unicode format
//    characters that reorder or hide text (bidi overrides and isolates, zero-width marks) and
//    bytes that are not UTF-8 are escaped (\n, \r, \t, \xNN, \u{NNNN}), so no string from an image
//    can move the cursor, clear a line or forge another line of a report. Backslashes are left as
//    they are: printable(printable(s)) == printable(s).
//  - excerpt(): a bounded part of a string for a message, cut at a UTF-8 character boundary (a
//    message, or the JSON it goes into, never holds half a character).
//  - human_size(): byte counts for people ("12.3 MiB"); JSON keeps exact bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "libtrust/export.h"

namespace trust {

// Longest excerpt of an outside string that messages quote by default.
inline constexpr std::size_t kMaxQuotedBytes = 200;

TRUST_API std::string printable(std::string_view text);

// At most `max_bytes` bytes of `text`, cut before a UTF-8 character that would not fit, with "…"
// appended when anything was cut. Invalid UTF-8 is cut like any other byte (printable() and the
// JSON writers deal with it).
TRUST_API std::string excerpt(std::string_view text, std::size_t max_bytes = kMaxQuotedBytes);

// "512 B", "1.5 KiB", "300.0 MiB", "1.00 GiB".
TRUST_API std::string human_size(std::uint64_t bytes);

}  // namespace trust

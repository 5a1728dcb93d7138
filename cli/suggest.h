#pragma once
// "Did you mean …?": the closest of a set of known names to what was typed, for unknown commands,
// flags and choices.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sigil::cli {

// The known name nearest to `typed` (Damerau-Levenshtein distance: an insertion, deletion,
// substitution or swap of two neighbours costs 1), if it is close enough to be what was meant: at
// most 1 edit for names up to 4 characters, 2 up to 8, 3 beyond; or `typed` is a prefix of exactly
// one name. Ties go to the first name in `known`.
std::optional<std::string> closest_name(std::string_view typed,
                                        const std::vector<std::string>& known);

// " (did you mean X?)" or "".
std::string did_you_mean(std::string_view typed, const std::vector<std::string>& known);

}  // namespace sigil::cli

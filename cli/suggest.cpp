#include "suggest.h"

#include <algorithm>
#include <cstddef>

namespace sigil::cli {
namespace {

// Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a substring).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::size_t allowed_edits(std::string_view typed) {
  // Leading dashes are part of the name ("--output") but not of what makes it recognisable.
  const auto core = typed.size() - std::min(typed.find_first_not_of('-'), typed.size());
  if (core <= 4) return 1;
  if (core <= 8) return 2;
  return 3;
}

}  // namespace

std::optional<std::string> closest_name(std::string_view typed,
                                        const std::vector<std::string>& known) {
  // Input this long is no typo of a name; do not spend quadratic time on it.
  constexpr std::size_t kMaxCompared = 64;
  if (typed.empty() || typed.size() > kMaxCompared) return std::nullopt;
  std::optional<std::string> best;
  std::size_t best_distance = allowed_edits(typed) + 1;
  for (const auto& name : known) {
    const auto d = edit_distance(typed, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  if (best) return best;
  std::optional<std::string> prefixed;
  for (const auto& name : known) {
    if (name.size() > typed.size() && name.compare(0, typed.size(), typed) == 0) {
      if (prefixed) return std::nullopt;  // ambiguous
      prefixed = name;
    }
  }
  return prefixed;
}

std::string did_you_mean(std::string_view typed, const std::vector<std::string>& known) {
  auto name = closest_name(typed, known);
  return name ? " (did you mean " + *name + "?)" : std::string();
}

}  // namespace sigil::cli

#include "core/did_you_mean.h"

#include <algorithm>
#include <numeric>

namespace slipway {
namespace {
// Names longer than this are not worth a suggestion (and keep the quadratic distance cheap).
constexpr std::size_t kMaxSuggestLength = 64;
constexpr std::size_t kMaxSuggestDistance = 2;
}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string_view>& candidates) {
  if (name.empty() || name.size() > kMaxSuggestLength) return std::nullopt;
  std::optional<std::string> best;
  std::size_t best_distance = kMaxSuggestDistance + 1;
  for (std::string_view c : candidates) {
    if (c == name || c.size() > kMaxSuggestLength) continue;
    const std::size_t d = edit_distance(name, c);
    // Two edits in a three-letter word make a different word: allow at most one edit per two letters typed.
    if (d < best_distance && d * 2 <= name.size()) {
      best_distance = d;
      best = std::string(c);
    }
  }
  return best;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string_view>& candidates) {
  auto best = closest_name(name, candidates);
  return best ? " (did you mean '" + *best + "'?)" : std::string();
}

}  // namespace slipway

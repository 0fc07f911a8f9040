// Diagnostic: one problem found in the concept file, as "file:line:col: message", plus the did-you-mean helper
// that every "unknown name" message uses.
// Thread safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway::model {

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem is with the file as a whole (e.g. unreadable)
  int column = 0;  // 1-based byte column; 0 when unknown
  std::string message;

  // "file:line:col: message"
  std::string to_string() const;
};

// Levenshtein distance (insert, delete, substitute each cost 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name` if it is within edit distance 2 and at most half the length of `name` (so
// "bad" does not suggest "max"); ties go to the earlier candidate, so callers list candidates in a meaningful order.
std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string_view>& candidates);

// " (did you mean 'x'?)" or "" — ready to append to a message.
std::string did_you_mean(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace slipway::model

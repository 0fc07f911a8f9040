// "Did you mean" suggestions for unknown names, shared by the concept loader (keys, types, roles) and the
// expression binder (role names). It lives in core, below both, because core/concept links core/expr: a helper
// in the concept library could not be called from the binder.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

// Levenshtein distance (insert, delete, substitute each cost 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name` if it is within edit distance 2 and at most half the length of `name` (so
// "bad" does not suggest "max"); ties go to the earlier candidate, so callers list candidates in a meaningful order.
std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string_view>& candidates);

// " (did you mean 'x'?)" or "" — ready to append to a message.
std::string did_you_mean(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace slipway

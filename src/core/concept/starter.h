// The commented starter concept file that `slipway init` writes: a small, valid blog that teaches the format
// by example. A test loads it, so it always passes `slipway check`.
// Thread safety: returns a view of static storage.
#pragma once

#include <string_view>

namespace slipway::model {

std::string_view starter_concept();

}  // namespace slipway::model

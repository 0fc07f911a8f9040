// The one shape of every expression error: a 400 with a byte position into the text the caller gave us.
#pragma once

#include <cstddef>
#include <string>

#include "core/problem.h"

namespace slipway::expr {

inline Problem bad_request_at(std::string detail, std::size_t position) {
  Problem p = Problem::make(ProblemCode::kBadRequest, std::move(detail));
  p.position = static_cast<int>(position);
  return p;
}

}  // namespace slipway::expr

// SourceLoc / SourceSpan: where something came from, for precise diagnostics.
#pragma once

#include <cstdint>

namespace slipway {

// A position in the concept file: 1-based line and column (0 = unknown).
struct SourceLoc {
  int line = 0;
  int column = 0;
};

// A span inside an expression string: 0-based byte offset and length.
struct SourceSpan {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

}  // namespace slipway

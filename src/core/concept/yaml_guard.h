// The first pass over the concept file's YAML, on parser events (no tree is built): rejects aliases, bounds
// depth and node count, finds duplicate map keys and extra documents, and turns syntax errors into diagnostics
// (a tab in the indentation and an unclosed or mismatched '{'/'[' are named as such, not in yaml-cpp's words).
// Only if it reports no fatal problem is the text loaded into a YAML::Node tree (second pass).
// Thread safety: pure function.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/concept/diagnostics.h"

namespace slipway::model {

struct GuardLimits {
  int max_depth = 64;
  std::size_t max_nodes = 100'000;
};

struct GuardResult {
  std::vector<Diagnostic> diagnostics;  // file left empty: the caller fills it in
  bool fatal = false;                   // syntax error, alias or limit: do not build the tree
};

GuardResult guard_yaml(std::string_view text, const GuardLimits& limits);

}  // namespace slipway::model

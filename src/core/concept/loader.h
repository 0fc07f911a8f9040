// Loads slipway.yaml into a validated, immutable model::Concept, or explains precisely what is wrong with it.
//
// Every problem becomes a Diagnostic "file:line:col: message" (1-based line, 1-based byte column). The loader
// keeps going after a mistake (a bad field is skipped, the next one is read) so one run reports them all, sorted
// by position. The concept is returned only when there are no diagnostics at all: a file with errors is never
// served.
//
// Hostile input is bounded before it can cost much:
//   - more than kMaxFileBytes, invalid UTF-8, NUL bytes: rejected before YAML parsing;
//   - YAML aliases (`*name`) are rejected outright: nothing in the format needs them, and refusing them is the
//     simplest complete defence against "billion laughs" expansion (anchors alone are harmless and ignored);
//   - nesting deeper than kMaxDepth and more than kMaxNodes YAML nodes stop the parse with one diagnostic;
//   - at most kMaxCollections collections and kMaxFields fields per collection.
// Duplicate keys in any YAML map are errors (yaml-cpp itself would silently accept them).
//
// Rules are parsed and bound (expr::parse_and_bind, Purpose::kRule) once all collections are in place; the
// Concept is heap-allocated and never moved afterwards because bound rules point into it.
// Thread safety: the functions are pure and may run concurrently.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/concept/diagnostics.h"
#include "core/concept/model.h"

namespace slipway::model {

inline constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;
inline constexpr int kMaxDepth = 64;
inline constexpr std::size_t kMaxNodes = 100'000;
inline constexpr std::size_t kMaxCollections = 200;
inline constexpr std::size_t kMaxFields = 200;
inline constexpr std::size_t kMaxBodyLimit = std::size_t{64} << 20;

struct LoadResult {
  std::unique_ptr<Concept> concept_file;  // non-null exactly when diagnostics is empty
  std::vector<Diagnostic> diagnostics;    // sorted by line, then column

  bool ok() const { return concept_file != nullptr && diagnostics.empty(); }
};

// Reads and loads the file. An unreadable file gives one diagnostic "path:0:0: cannot read file: <strerror>".
LoadResult load_concept_file(const std::string& path);

// Loads `text`; `path_for_messages` is the file name used in diagnostics and kept as Concept::source_path.
LoadResult load_concept_string(std::string_view text, std::string path_for_messages);

}  // namespace slipway::model

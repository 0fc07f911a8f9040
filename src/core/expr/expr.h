// The expression language (README.md beside this file has the grammar): one language for ?filter= and rules.
//   parse(text)                 → ParsedExpr   (syntax only; every node has a SourceSpan)
//   bind(parsed, collection...) → BoundExpr    (names resolved and type-checked against the concept)
// SQL is produced later by storage/sql/expr_compiler.h. Rules are bound once, when the concept loads.
// Thread safety: all functions are pure; results are immutable and shareable across threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace slipway::model {
struct Collection;
struct Concept;
struct Field;
}  // namespace slipway::model

namespace slipway::expr {

struct ParsedExpr;  // parsed_expr.h
struct BoundExpr;   // bound_expr.h

// Named limits, in one block (a client filter and a rule share them).
struct Limits {
  std::size_t max_length = 4096;  // bytes of expression text
  int max_depth = 32;             // nesting of parentheses / unary / binary operators
  int max_terms = 64;             // comparisons in one expression
  int max_in_items = 100;         // values inside one `in (...)`
};

enum class Purpose {
  kFilter,  // ?filter= from a client: hidden fields only for the admin; no @request
  kRule,    // a rule from the concept file: every field allowed
};

struct BindOptions {
  Purpose purpose = Purpose::kFilter;
  bool admin = false;
};

// Errors are Problem{kBadRequest, detail, position = byte offset into `text`}.
// Callers that receive the ParsedExpr must include core/expr/parsed_expr.h (unique_ptr of an incomplete type).
Result<std::unique_ptr<ParsedExpr>> parse(std::string_view text, const Limits& limits = {});
Result<std::shared_ptr<const BoundExpr>> bind(const ParsedExpr& parsed, const model::Collection& collection,
                                              const model::Concept& concept_file, const BindOptions& options);
// parse + bind in one call.
Result<std::shared_ptr<const BoundExpr>> parse_and_bind(std::string_view text, const model::Collection& collection,
                                                        const model::Concept& concept_file,
                                                        const BindOptions& options, const Limits& limits = {});

// ?sort=-created,title → keys. Unknown or hidden (non-admin) field → kBadRequest with position.
// `id` is always appended as the final tie-breaker by the select builder, not here.
struct SortKey {
  std::string field;             // a system field or a collection field
  bool descending = false;
  const model::Field* def = nullptr;  // nullptr for system fields
};
// Not the admin: hidden fields are unknown, and a relation field whose target not everyone may view cannot be
// sorted on (its order would tell hidden ids; names::visible_to_everyone).
Result<std::vector<SortKey>> parse_sort(std::string_view text, const model::Collection& collection,
                                        const model::Concept& concept_file, bool admin);

// ?fields=id,title → field names to return (system fields allowed). Unknown/hidden → kBadRequest with position.
Result<std::vector<std::string>> parse_fields(std::string_view text, const model::Collection& collection, bool admin);

}  // namespace slipway::expr

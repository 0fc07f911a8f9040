// Binder internals (not part of the public interface; expr.h is). The binder resolves names (bind_operand.cpp),
// type-checks and builds comparisons (bind_comparison.cpp), and pushes `!` down while building (nnf.cpp), so a
// BoundExpr never contains a NOT node.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/concept/model.h"
#include "core/expr/bound_expr.h"
#include "core/expr/expr.h"
#include "core/expr/names.h"
#include "core/expr/parsed_expr.h"

namespace slipway::expr::detail {

using Owned = std::unique_ptr<BoundExpr>;

// An operand with its name resolved.
struct Resolved {
  enum class Kind : std::uint8_t { kColumn, kPath, kLiteral, kAuthId, kNow };
  Kind kind = Kind::kLiteral;
  names::Column column;                        // kColumn; kPath: the column of `target`
  const model::Field* relation = nullptr;      // kPath: the relation field of the bound collection
  const model::Collection* target = nullptr;   // kPath
  names::Category category = names::Category::kString;
  const ParsedOperand* src = nullptr;

  bool is_literal() const { return kind == Kind::kLiteral; }
  // "int field 'views'", "text field 'author.name'", "@auth.id", "a string".
  std::string describe() const;
  BoundOperand operand() const;
};

// Negation-normal-form builders: each returns the node for `x`, or for `!x` when `negate`.
Owned make_const(bool value);
Owned make_junction(BoundExpr::Kind kind, std::vector<Owned> children);  // kAnd/kOr; one child → that child
Owned make_compare(const model::Collection* c, ParsedOp op, BoundOperand l, BoundOperand r, bool negate);
Owned make_is_null(const model::Collection* c, BoundOperand x, bool is_not);
Owned make_in(const model::Collection* c, BoundOperand x, std::vector<Value> items, bool negate);
Owned make_like(const model::Collection* c, BoundOperand x, std::string pattern, bool negate);
Owned make_has_role(std::string role, bool negate);
Owned make_aal(ParsedOp op, std::int64_t level, bool negate);  // op: = != < <= > >=

// The `~` pattern for a string literal's raw body: '_' always literal, an unescaped '%' a wildcard, and
// "%...%" around the whole when the user wrote no unescaped '%' (contains).
std::string like_pattern(std::string_view raw);

class Binder {
 public:
  Binder(const model::Collection& collection, const model::Concept& concept_file, const BindOptions& options)
      : collection_(collection), concept_(concept_file), options_(options) {}

  Result<Owned> bind(const ParsedExpr& e, bool negate);

 private:
  bool allow_hidden() const { return options_.purpose == Purpose::kRule || options_.admin; }
  // A bare relation field of a client's filter whose target not everyone may view: its stored ids are masked in
  // answers, so the filter may only compare it with @auth.id (names::visible_to_everyone). nullopt: fine.
  std::optional<Problem> guarded_relation(const Resolved& r, const Resolved* other, ParsedOp op) const;

  Result<Resolved> resolve(const ParsedOperand& o) const;
  Result<Resolved> resolve_macro(const ParsedOperand& o) const;
  Result<Resolved> resolve_field(const ParsedOperand& o) const;
  Result<Value> convert(const Resolved& l, const ParsedOperand& literal) const;

  Result<Owned> bind_bare(const ParsedExpr& e, bool negate) const;
  Result<Owned> bind_compare(const ParsedExpr& e, bool negate) const;
  Result<Owned> bind_with_value(const Resolved& l, ParsedOp op, const Resolved& r, const ParsedExpr& e,
                                bool negate) const;
  Result<Owned> bind_pair(const Resolved& l, ParsedOp op, const Resolved& r, const ParsedExpr& e,
                          bool negate) const;
  Result<Owned> bind_in(const ParsedExpr& e, bool negate) const;
  Result<Owned> bind_member(const ParsedExpr& e, bool negate) const;
  // `@auth.aal <op> <integer>` (either way round): a test of the caller, like a role test.
  Result<Owned> bind_aal(const ParsedExpr& e, bool negate) const;
  // For a relation path, wraps the node (built against the target) in a kRelated node.
  Owned wrap(const Resolved& l, Owned node) const;
  const model::Collection* scope(const Resolved& l) const { return l.kind == Resolved::Kind::kPath ? l.target : &collection_; }

  const model::Collection& collection_;
  const model::Concept& concept_;
  const BindOptions& options_;
};

}  // namespace slipway::expr::detail

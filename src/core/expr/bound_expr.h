// BoundExpr: an expression with every name resolved against the concept and every literal typed to the field
// it is compared with. It is in negation normal form: there is no NOT node; the binder pushed every `!` down to
// the comparisons, choosing the null-aware complement of each (README.md, "Null"), so a compiler emits each node
// as written and `!e` is always the exact complement of `e`.
// Pointers into the model::Concept are borrowed: the concept is immutable and outlives every bound expression.
// Thread safety: immutable once built; shared across threads through shared_ptr<const BoundExpr>.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/value.h"

namespace slipway::model {
struct Collection;
struct Field;
}  // namespace slipway::model

namespace slipway::expr {

// One side of a comparison.
struct BoundOperand {
  enum class Kind : std::uint8_t {
    kColumn,    // a column of the node's `collection`: `column` names it, `field` is null for system fields
    kValue,     // a literal, already converted to the column's type (datetimes canonical RFC 3339 ms text)
    kAuthId,    // @auth.id   (null when anonymous)
    kNow,       // @now       (canonical RFC 3339 ms text, resolved per execution)
  };
  Kind kind = Kind::kValue;
  std::string column;
  const model::Field* field = nullptr;
  Value value;

  // Whether the operand can be NULL at execution (system columns and literals never are).
  bool nullable() const {
    return kind == Kind::kAuthId || (kind == Kind::kColumn && field != nullptr);
  }
};

enum class CompareOp : std::uint8_t {
  kEq,           // SQL `=`: false (unknown) when either side is null
  kDistinct,     // null-safe `!=`: true when exactly one side is null   (IS DISTINCT FROM / SQLite IS NOT)
  kNotDistinct,  // null-safe `=`: true when both sides are null        (IS NOT DISTINCT FROM / SQLite IS)
  kLt,
  kLe,
  kGt,
  kGe,
};

struct BoundExpr {
  enum class Kind : std::uint8_t {
    kAnd,      // all `children`
    kOr,       // any of `children`
    kConst,    // `value`
    kCompare,  // lhs `op` rhs
    kIsNull,   // lhs IS NULL (IS NOT NULL when `negated`)
    kIn,       // lhs IN (items) (NOT IN when `negated`; the binder adds the IS NULL guard)
    kLike,     // lhs LIKE pattern ESCAPE '\' (NOT LIKE when `negated`), case-insensitive for ASCII
    kRelated,  // the `relation` column of `collection` references a `target` record, visible to the caller,
               // for which `inner` holds (`inner`'s operands are columns of `target`)
    kHasRole,  // the caller holds `role` (does not, when `negated`): known per request, the same for every row
    kAal,      // the caller's assurance level `op` `level` (@auth.aal >= 2; not, when `negated`): like kHasRole
  };
  Kind kind = Kind::kConst;
  const model::Collection* collection = nullptr;  // whose columns this node's kColumn operands name
  std::vector<std::unique_ptr<const BoundExpr>> children;
  bool value = false;
  CompareOp op = CompareOp::kEq;
  BoundOperand lhs;
  BoundOperand rhs;
  bool negated = false;
  std::vector<Value> items;
  // `~` pattern with '\' as the escape character: '%' is a wildcard, '\%' '\_' '\\' are literal characters.
  std::string pattern;
  const model::Field* relation = nullptr;
  const model::Collection* target = nullptr;
  std::unique_ptr<const BoundExpr> inner;
  std::string role;  // kHasRole: one of the roles the concept file declares
  std::int64_t level = 0;  // kAal: compared with `op` (kEq, kLt, kLe, kGt or kGe)
};

// Whether the expression (including relation-path subexpressions) uses @now: its result then changes with
// time alone, so nothing derived from it may be cached.
bool references_now(const BoundExpr& e);

// Whether the verdict depends on the row alone: nothing of the caller (@auth.*), no @now, and no relation path
// (which reads other rows through their view rules). Only such a rule's verdict may be cached with the row and
// shared by every caller (the record cache). Each node and operand kind answers explicitly, so a new kind cannot
// silently count as row-only.
bool row_only(const BoundExpr& e);

// Whether the verdict depends on the row and the caller only: like row_only, but @auth.id and role tests are
// allowed (no @now, no relation path). Such a verdict may be cached per row *and* caller (rule_key), dropped when
// the row's collection changes.
bool row_and_caller_only(const BoundExpr& e);

// Whether the expression is true for no row at all when the caller is anonymous (@auth.id null, no roles,
// @auth.aal 0): a rule the api can then refuse from the request's header, before reading its body. Conservative:
// false whenever it cannot tell without a row (so `author = @auth.id || published = true` is false here).
bool never_true_for_anonymous(const BoundExpr& e);

// A compact rendering for tests and logs, e.g. (views > 10 OR views IS NULL).
std::string to_string(const BoundExpr& e);

}  // namespace slipway::expr

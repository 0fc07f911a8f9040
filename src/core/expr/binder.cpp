#include "core/expr/binder.h"

#include "core/expr/expr.h"

namespace slipway::expr {
namespace detail {

Result<Owned> Binder::bind(const ParsedExpr& e, bool negate) {
  switch (e.kind) {
    case ParsedExpr::Kind::kAnd:
    case ParsedExpr::Kind::kOr: {
      // De Morgan: !(a && b) = !a || !b.
      const bool is_and = (e.kind == ParsedExpr::Kind::kAnd) != negate;
      std::vector<Owned> children;
      children.reserve(e.children.size());
      for (const auto& c : e.children) {
        auto b = bind(*c, negate);
        if (!b) return b;
        children.push_back(std::move(*b));
      }
      return make_junction(is_and ? BoundExpr::Kind::kAnd : BoundExpr::Kind::kOr, std::move(children));
    }
    case ParsedExpr::Kind::kNot: return bind(*e.children[0], !negate);
    case ParsedExpr::Kind::kCompare: return bind_compare(e, negate);
    case ParsedExpr::Kind::kIn: return bind_in(e, negate);
    case ParsedExpr::Kind::kMember: return bind_member(e, negate);
    case ParsedExpr::Kind::kBare: return bind_bare(e, negate);
  }
  return make_const(false);
}

}  // namespace detail

Result<std::shared_ptr<const BoundExpr>> bind(const ParsedExpr& parsed, const model::Collection& collection,
                                              const model::Concept& concept_file, const BindOptions& options) {
  detail::Binder binder(collection, concept_file, options);
  auto bound = binder.bind(parsed, false);
  if (!bound) return std::move(bound).error();
  return std::shared_ptr<const BoundExpr>(std::move(*bound));
}

Result<std::shared_ptr<const BoundExpr>> parse_and_bind(std::string_view text, const model::Collection& collection,
                                                        const model::Concept& concept_file,
                                                        const BindOptions& options, const Limits& limits) {
  auto parsed = parse(text, limits);
  if (!parsed) return std::move(parsed).error();
  return bind(**parsed, collection, concept_file, options);
}

}  // namespace slipway::expr

#include "core/concept/rule_binder.h"

#include <algorithm>

#include "core/expr/expr.h"

namespace slipway::model {

SourceLoc expression_loc(const ParseContext& ctx, const YAML::Node& scalar, std::size_t offset) {
  const SourceLoc start = ParseContext::loc_of(scalar);
  const std::string& value = scalar.Scalar();
  offset = std::min(offset, value.size());
  const std::size_t at = ctx.offset_of(start);
  if (at == std::string_view::npos) return start;
  const std::string_view raw = ctx.text().substr(at);
  const int shift = static_cast<int>(offset);
  if (!raw.empty() && (raw[0] == '"' || raw[0] == '\'')) {
    // Verbatim only if the text between the quotes is exactly the value: no escapes, no folded lines.
    const bool verbatim =
        raw.size() > value.size() + 1 && raw.substr(1, value.size()) == value && raw[value.size() + 1] == raw[0];
    return verbatim ? SourceLoc{start.line, start.column + 1 + shift} : start;
  }
  const bool verbatim = raw.substr(0, value.size()) == value;
  return verbatim ? SourceLoc{start.line, start.column + shift} : start;
}

namespace {

// Where byte `offset` of a pending rule is: in its scalar, or its section for a built-in default rule.
SourceLoc pending_loc(const ParseContext& ctx, const PendingRule& pending, std::size_t offset) {
  return pending.node.IsScalar() ? expression_loc(ctx, pending.node, offset) : pending.loc;
}

}  // namespace

void bind_rules(ParseContext& ctx, Concept& concept_file, const std::vector<PendingRule>& rules,
                const std::vector<std::set<std::string, std::less<>>>& broken) {
  for (const PendingRule& pending : rules) {
    Collection& c = concept_file.collections[pending.collection];
    const std::string action = rule_action_name(pending.action);
    auto bound = expr::parse_and_bind(pending.source, c, concept_file, {expr::Purpose::kRule, false});
    if (!bound) {
      const Problem& p = bound.error();
      const bool about_broken_field =
          std::any_of(broken[pending.collection].begin(), broken[pending.collection].end(),
                      [&](const std::string& f) { return p.detail.find("'" + f + "'") != std::string::npos; });
      if (!about_broken_field) {
        const std::size_t offset = p.position < 0 ? 0 : static_cast<std::size_t>(p.position);
        ctx.error(pending_loc(ctx, pending, offset),
                  "rule '" + action + "' of collection '" + c.name + "': " + p.detail);
      }
      continue;
    }
    Rule rule{pending.source, std::move(bound).value(), pending_loc(ctx, pending, 0)};
    switch (pending.action) {
      case RuleAction::kList:
        c.rules.list = std::move(rule);
        break;
      case RuleAction::kView:
        c.rules.view = std::move(rule);
        break;
      case RuleAction::kCreate:
        c.rules.create = std::move(rule);
        break;
      case RuleAction::kUpdate:
        c.rules.update = std::move(rule);
        break;
      case RuleAction::kDelete:
        c.rules.remove = std::move(rule);
        break;
    }
  }
}

}  // namespace slipway::model

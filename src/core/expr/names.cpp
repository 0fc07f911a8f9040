#include "core/expr/names.h"

#include <algorithm>
#include <vector>

#include "core/expr/bound_expr.h"

namespace slipway::expr::names {
namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transposition), so "titel" is 1 from "title".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

}  // namespace

const char* type_name(model::FieldType t) {
  switch (t) {
    case model::FieldType::kText: return "text";
    case model::FieldType::kInt: return "int";
    case model::FieldType::kFloat: return "float";
    case model::FieldType::kBool: return "bool";
    case model::FieldType::kDatetime: return "datetime";
    case model::FieldType::kEmail: return "email";
    case model::FieldType::kUrl: return "url";
    case model::FieldType::kEnum: return "enum";
    case model::FieldType::kJson: return "json";
    case model::FieldType::kRelation: return "relation";
  }
  return "?";
}

Category category_of(model::FieldType t) {
  switch (t) {
    case model::FieldType::kInt:
    case model::FieldType::kFloat: return Category::kNumber;
    case model::FieldType::kBool: return Category::kBool;
    case model::FieldType::kDatetime: return Category::kDatetime;
    case model::FieldType::kJson: return Category::kJson;
    default: return Category::kString;
  }
}

bool is_text_like(model::FieldType t) {
  return t == model::FieldType::kText || t == model::FieldType::kEmail || t == model::FieldType::kUrl ||
         t == model::FieldType::kEnum;
}

const model::Collection* find_collection(const model::Concept& c, std::string_view name) {
  for (const model::Collection& col : c.collections) {
    if (col.name == name) return &col;
  }
  return nullptr;
}

const model::Field* find_field(const model::Collection& c, std::string_view name) {
  for (const model::Field& f : c.fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool visible_to_everyone(const model::Collection& c) {
  const auto& rule = c.rules.view;
  return rule && rule->bound && rule->bound->kind == BoundExpr::Kind::kConst && rule->bound->value;
}

std::optional<Column> lookup(const model::Collection& c, std::string_view name, bool allow_hidden) {
  if (name == "id") return Column{"id", nullptr, Category::kString, "id"};
  if (name == "created" || name == "updated") return Column{std::string(name), nullptr, Category::kDatetime, "datetime"};
  if (name == "version") return Column{"version", nullptr, Category::kNumber, "int"};
  const model::Field* f = find_field(c, name);
  if (!f || (f->hidden && !allow_hidden)) return std::nullopt;
  return Column{f->name, f, category_of(f->type), type_name(f->type)};
}

std::string unknown_field(const model::Collection& c, std::string_view name, bool allow_hidden, bool in_collection) {
  std::string best;
  std::size_t best_d = 3;  // suggest only within distance 2
  auto consider = [&](std::string_view cand) {
    const std::size_t d = edit_distance(name, cand);
    if (d < best_d && d < name.size()) {
      best_d = d;
      best = cand;
    }
  };
  for (const char* s : model::kSystemFields) consider(s);
  for (const model::Field& f : c.fields) {
    if (!f.hidden || allow_hidden) consider(f.name);
  }
  std::string out = "unknown field '" + std::string(name) + "'";
  if (in_collection) out += " in '" + c.name + "'";
  if (!best.empty()) out += " (did you mean '" + best + "'?)";
  return out;
}

}  // namespace slipway::expr::names

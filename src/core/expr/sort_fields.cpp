// ?sort= and ?fields=: comma-separated lists of names, checked against the collection like filter names.
#include "core/expr/expr.h"

#include "core/utf8.h"

#include <algorithm>

#include "core/concept/model.h"
#include "core/expr/errors.h"
#include "core/expr/lexer.h"
#include "core/expr/names.h"

namespace slipway::expr {
namespace {

constexpr std::size_t kMaxListLength = 4096;
constexpr std::size_t kMaxSortKeys = 8;

struct Item {
  std::string_view text;  // trimmed
  std::size_t pos;        // byte offset of `text` in the whole parameter
};

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Problem error(std::string detail, std::size_t pos, const char* parameter) {
  Problem p = bad_request_at(std::move(detail), pos);
  p.parameter = parameter;
  return p;
}

// Splits on ',' and trims each item; an empty item is an error (a stray comma is a typo, not a no-op).
Result<std::vector<Item>> split(std::string_view text, const char* parameter) {
  if (text.size() > kMaxListLength) {
    return error("too long (" + std::to_string(text.size()) + " bytes, max " + std::to_string(kMaxListLength) + ")",
                 kMaxListLength, parameter);
  }
  if (const std::size_t bad = first_invalid_utf8(text); bad != std::string_view::npos) {
    return error("invalid UTF-8", static_cast<std::size_t>(bad), parameter);
  }
  std::vector<Item> out;
  if (std::all_of(text.begin(), text.end(), is_blank)) return out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::size_t b = start, e = comma;
    while (b < e && is_blank(text[b])) ++b;
    while (e > b && is_blank(text[e - 1])) --e;
    if (b == e) return error("empty name in the list (stray ',')", b, parameter);
    out.push_back(Item{text.substr(b, e - b), b});
    if (comma == text.size()) return out;
    start = comma + 1;
  }
}

bool valid_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

Result<names::Column> column(std::string_view name, std::size_t pos, const model::Collection& c,
                             bool admin, const char* parameter) {
  if (!valid_name(name)) return error("invalid field name '" + std::string(name) + "'", pos, parameter);
  auto col = names::lookup(c, name, admin);
  if (!col) return error(names::unknown_field(c, name, admin), pos, parameter);
  return std::move(*col);
}

}  // namespace

Result<std::vector<SortKey>> parse_sort(std::string_view text, const model::Collection& collection,
                                        const model::Concept& concept_file, bool admin) {
  auto items = split(text, "sort");
  if (!items) return std::move(items).error();
  std::vector<SortKey> keys;
  for (const Item& item : *items) {
    std::string_view name = item.text;
    std::size_t pos = item.pos;
    bool descending = false;
    if (name.front() == '-' || name.front() == '+') {
      descending = name.front() == '-';
      name.remove_prefix(1);
      ++pos;
    }
    auto col = column(name, pos, collection, admin, "sort");
    if (!col) return std::move(col).error();
    if (const model::Field* f = col->field; !admin && f && f->type == model::FieldType::kRelation) {
      const model::Collection* target = names::find_collection(concept_file, f->to);
      if (target && !names::visible_to_everyone(*target))
        return error("cannot sort by '" + f->name + "': it names records of '" + f->to +
                         "' that not everyone may view",
                     pos, "sort");
    }
    if (col->category == names::Category::kJson) {
      return error("cannot sort by " + std::string(col->type) + " field '" + col->name + "'", pos, "sort");
    }
    if (std::any_of(keys.begin(), keys.end(), [&](const SortKey& k) { return k.field == col->name; })) {
      return error("duplicate sort key '" + col->name + "'", pos, "sort");
    }
    if (keys.size() == kMaxSortKeys) {
      return error("too many sort keys (max " + std::to_string(kMaxSortKeys) + ")", item.pos, "sort");
    }
    keys.push_back(SortKey{col->name, descending, col->field});
  }
  return keys;
}

Result<std::vector<std::string>> parse_fields(std::string_view text, const model::Collection& collection, bool admin) {
  auto items = split(text, "fields");
  if (!items) return std::move(items).error();
  std::vector<std::string> out;
  for (const Item& item : *items) {
    auto col = column(item.text, item.pos, collection, admin, "fields");
    if (!col) return std::move(col).error();
    if (std::find(out.begin(), out.end(), col->name) == out.end()) out.push_back(col->name);
  }
  return out;
}

}  // namespace slipway::expr
